#!/bin/sh
# Runs the real binary as an admin would: a generated config, curl against
# it, and every start-up fault that must stop it with one clear line and a
# non-zero exit (bad config, port in use, corrupt or too-new database).
set -u
bin=$(realpath "$1")
dir=$(mktemp -d /tmp/fm-smoke-XXXXXX)
pid=""
fails=0
trap 'kill $pid 2>/dev/null; rm -rf "$dir"' EXIT

fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { echo "ok: $*"; }

free_port() {
	python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null ||
		echo $((20000 + $$ % 20000))
}

port=$(free_port)
cat > "$dir/fm.conf" <<CONF
listen = 127.0.0.1:$port
database = db.sqlite
local_manager_storage_path = storage
shared_storage_path = $dir/shared
CONF

# 1. Starts, serves the version, answers errors as JSON, stops on SIGTERM.
"$bin" -c "$dir/fm.conf" 2> "$dir/log" &
pid=$!
for _ in $(seq 1 100); do
	curl -sf "http://127.0.0.1:$port/api/v3/version" > "$dir/version" 2>/dev/null && break
	sleep 0.05
done
grep -q '"shortversion":"3.9-beta1"' "$dir/version" && ok "version served" || fail "version: $(cat "$dir/version" 2>/dev/null)"
code=$(curl -s -o "$dir/body" -w '%{http_code}' "http://127.0.0.1:$port/api/v3/nothing")
[ "$code" = 404 ] && grep -q '"code":404' "$dir/body" && ok "404 is JSON" || fail "404: $code $(cat "$dir/body")"
[ -f "$dir/db.sqlite" ] && ok "database created beside the config" || fail "no database at $dir/db.sqlite"

# 2. A second Manager on the same port refuses to start with one line.
"$bin" -c "$dir/fm.conf" --database "$dir/other.sqlite" > "$dir/out2" 2>&1
rc=$?
[ $rc -ne 0 ] && grep -q "cannot listen on" "$dir/out2" && ok "port in use: exit $rc" || fail "port in use: exit $rc: $(cat "$dir/out2")"

kill -TERM $pid
wait $pid
rc=$?
[ $rc -eq 0 ] && grep -q "shut down cleanly" "$dir/log" && ok "SIGTERM: clean shutdown" || fail "SIGTERM: exit $rc: $(tail -3 "$dir/log")"
pid=""

# 3. Config errors: FILE:LINE: message and exit code 2.
printf 'listen = :8080\nno_such_key = 1\n' > "$dir/bad.conf"
"$bin" -c "$dir/bad.conf" > "$dir/out3" 2>&1
rc=$?
[ $rc -eq 2 ] && grep -q "bad.conf:2: no_such_key: unknown key" "$dir/out3" && ok "unknown key: exit 2" || fail "unknown key: exit $rc: $(cat "$dir/out3")"
printf 'task_timeout = soon\n' > "$dir/bad2.conf"
"$bin" -c "$dir/bad2.conf" > "$dir/out4" 2>&1
rc=$?
[ $rc -eq 2 ] && grep -q "bad2.conf:1: task_timeout" "$dir/out4" && ok "bad duration: exit 2" || fail "bad duration: exit $rc: $(cat "$dir/out4")"
"$bin" -c "$dir/missing.conf" > "$dir/out5" 2>&1
rc=$?
[ $rc -eq 2 ] && ok "missing explicit config: exit 2" || fail "missing config: exit $rc"

# 4. Database faults: corrupt file, unwritable path, newer schema.
head -c 8192 /dev/urandom > "$dir/corrupt.sqlite"
"$bin" -c "$dir/fm.conf" --database "$dir/corrupt.sqlite" > "$dir/out6" 2>&1
rc=$?
[ $rc -eq 1 ] && [ "$(wc -l < "$dir/out6")" -le 2 ] && grep -q "corrupt.sqlite" "$dir/out6" && ok "corrupt database: exit 1" || fail "corrupt db: exit $rc: $(cat "$dir/out6")"
"$bin" -c "$dir/fm.conf" --database "/proc/no/such/dir/db.sqlite" > "$dir/out7" 2>&1
rc=$?
[ $rc -eq 1 ] && grep -q "cannot open database" "$dir/out7" && ok "unwritable database path: exit 1" || fail "unwritable db: exit $rc: $(cat "$dir/out7")"
if command -v sqlite3 > /dev/null; then
	cp "$dir/db.sqlite" "$dir/newer.sqlite"
	sqlite3 "$dir/newer.sqlite" "PRAGMA user_version = 9999"
	"$bin" -c "$dir/fm.conf" --database "$dir/newer.sqlite" > "$dir/out8" 2>&1
	rc=$?
	[ $rc -eq 1 ] && grep -q "newer than this Manager" "$dir/out8" && ok "newer schema refused" || fail "newer schema: exit $rc: $(cat "$dir/out8")"
fi

# 5. The offline compiler, by type name and by script path.
printf '{"settings": {"message": "hi", "sleep_duration_seconds": 1, "sleep_repeats": 2}}' > "$dir/job.json"
"$bin" -c "$dir/fm.conf" compile echo-sleep-test "$dir/job.json" > "$dir/out9" 2>&1
rc=$?
[ $rc -eq 0 ] && grep -q '"task_count": 3' "$dir/out9" && ok "compile TYPE JOB.json" || fail "compile: exit $rc: $(head -c 400 "$dir/out9")"
cat > "$dir/my_type.js" <<'JS'
const JOB_TYPE = { label: "Mine", settings: [] };
function compileJob(job) {
    for (const n of [1, 2]) {
        const t = author.Task(`t${n}`, "misc");
        t.addCommand(author.Command("echo", { message: `${job.name} ${n}` }));
        job.addTask(t);
    }
}
JS
"$bin" compile "$dir/my_type.js" "$dir/job.json" > "$dir/out10" 2>&1
rc=$?
[ $rc -eq 0 ] && grep -q '"name": "t2"' "$dir/out10" && ok "compile SCRIPT.js JOB.json" || fail "compile script: exit $rc: $(head -c 400 "$dir/out10")"
printf 'const JOB_TYPE = {label: "x", settings: []};\nfunction compileJob(job) { throw "nope"; }\n' > "$dir/bad_type.js"
"$bin" compile "$dir/bad_type.js" "$dir/job.json" > "$dir/out11" 2>&1
rc=$?
[ $rc -eq 1 ] && grep -q "nope" "$dir/out11" && ok "compile reports the script's error" || fail "compile error: exit $rc: $(cat "$dir/out11")"

# 6. --help-config lists every key of the shipped sample.
"$bin" --help-config > "$dir/help"
missing=""
for key in $(sed -n 's/^\([a-z_]*\) =.*/\1/p' "$(dirname "$0")/../flamenco-manager.conf" | sort -u); do
	grep -q "^  $key " "$dir/help" || missing="$missing $key"
done
[ -z "$missing" ] && ok "--help-config covers the sample config" || fail "--help-config lacks:$missing"

[ $fails -eq 0 ]
