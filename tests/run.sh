#!/bin/sh
# Runs every Check binary in $1, the smoke tests and then the API fuzz
# (tests/fuzz/run.sh) against the binary $2, then prints one summary line:
# "N passed, N failed".
set -u
dir=$1
bin=$2
passed=0
failed=0
failures=""
export ASAN_OPTIONS=detect_leaks=1:abort_on_error=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
for t in "$dir"/check_*; do
	[ -x "$t" ] || continue
	echo "== $(basename "$t")"
	if "$t"; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
		failures="$failures $(basename "$t")"
	fi
done
for s in tests/smoke*.sh; do
	[ -f "$s" ] || continue
	echo "== $(basename "$s")"
	if sh "$s" "$bin"; then
		passed=$((passed + 1))
	else
		failed=$((failed + 1))
		failures="$failures $(basename "$s")"
	fi
done
# Last, as it takes longest: Schemathesis against the spec (make fuzz).
echo "== fuzz"
if sh tests/fuzz/run.sh "$bin"; then
	passed=$((passed + 1))
else
	failed=$((failed + 1))
	failures="$failures fuzz"
fi
echo
[ -n "$failures" ] && echo "failed suites:$failures"
echo "suites: $passed passed, $failed failed"
[ "$failed" -eq 0 ]
