#!/bin/sh
# Our expansion of OpenJD templates against the OpenJD reference tooling
# (openjd summary, from the pinned venv build/openjd-venv, made by `make
# test`): for every case of tests/openjd/cases.jsonl, the task count of
# each step from `flamenco-manager compile` must equal openjd's; a case
# with "refused": true must be refused by both.
# OPENJD_CASES=FILE adds more cases (e.g. OpenJD's own samples, run by
# hand; see the README).
# Usage: sh tests/smoke_openjd.sh ./build/asan/flamenco-manager
set -u
bin=$1
openjd=${OPENJD:-build/openjd-venv/bin/openjd}
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
n=0
[ -x "$openjd" ] || { echo "smoke_openjd: $openjd missing (make test installs it)"; exit 1; }
cat tests/openjd/cases.jsonl ${OPENJD_CASES:-} | while IFS= read -r line; do
	[ -n "$line" ] || continue
	tpl=$(echo "$line" | jq -r .template)
	echo "$line" | jq '{settings: .settings}' > "$tmp/job.json"
	echo "$line" | jq '.settings' > "$tmp/params.json"
	if [ "$(echo "$line" | jq .refused)" = true ]; then
		if ASAN_OPTIONS=detect_leaks=0 "$bin" -c /dev/null compile \
		    "$tpl" "$tmp/job.json" >/dev/null 2>&1; then
			echo "FAIL $tpl $(echo "$line" | jq -c .settings): we accepted it"
			echo 1 > "$tmp/failed"
		elif "$openjd" summary --output json "$tpl" \
		    --job-param "file://$tmp/params.json" >/dev/null 2>&1; then
			echo "FAIL $tpl $(echo "$line" | jq -c .settings): openjd accepted it"
			echo 1 > "$tmp/failed"
		else
			echo "ok   $tpl $(echo "$line" | jq -c .settings): refused by both"
		fi
		continue
	fi
	ours=$(ASAN_OPTIONS=detect_leaks=0 "$bin" -c /dev/null compile "$tpl" \
	    "$tmp/job.json" 2>"$tmp/err") || {
		echo "FAIL $tpl: we refused it: $(grep -v INFO "$tmp/err")"
		echo 1 > "$tmp/failed"
		continue
	}
	theirs=$("$openjd" summary --output json "$tpl" \
	    --job-param "file://$tmp/params.json" 2>&1) || {
		echo "FAIL $tpl: openjd refused it: $theirs"
		echo 1 > "$tmp/failed"
		continue
	}
	want=$(echo "$theirs" | jq -S -c '[.steps[] | {(.name): .total_tasks}] | add')
	got=$(echo "$ours" | jq -S -c --argjson w "$want" '[$w | keys[] as $s |
	    {($s): ([$ARGS.named.t[] | select(.name == $s or
	    (.name | startswith($s + " ")))] | length)}] | add' \
	    --argjson t "$(echo "$ours" | jq -c .tasks)")
	if [ "$got" = "$want" ]; then
		echo "ok   $tpl $(echo "$line" | jq -c .settings): $got"
	else
		echo "FAIL $tpl $(echo "$line" | jq -c .settings): ours $got, openjd $want"
		echo 1 > "$tmp/failed"
	fi
done
# A step driven by the workers resource, offline: no workers, so no
# tasks (this template has no others, so none at all), and a note saying
# why rather than silence.
echo '{"settings": {}}' > "$tmp/job.json"
ASAN_OPTIONS=detect_leaks=0 "$bin" -c /dev/null compile \
    tests/fixtures/openjd/workers.yaml "$tmp/job.json" >/dev/null 2>"$tmp/err"
if grep -q "compile does not know" "$tmp/err"; then
	echo "ok   tests/fixtures/openjd/workers.yaml: compile notes the missing workers"
else
	echo "FAIL tests/fixtures/openjd/workers.yaml: no note: $(cat "$tmp/err")"
	echo 1 > "$tmp/failed"
fi
[ ! -f "$tmp/failed" ]
