#!/bin/sh
# The admin's tools against the real binary: every line of the README's
# recipe block, and contrib/fmctl's commands, on a farm with a worker, a
# job, a failed task and a running one, and an admin_password (which the
# worker and the job submission do without).
set -u
bin=$(realpath "$1")
here=$(cd "$(dirname "$0")/.." && pwd)
dir=$(mktemp -d /tmp/fm-admin-XXXXXX)
pid=""
fails=0
trap 'kill $pid 2>/dev/null; rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { echo "ok: $*"; }

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null || echo $((40000 + $$ % 20000)))
FM="http://127.0.0.1:$port"
cat > "$dir/fm.conf" <<CONF
listen = 127.0.0.1:$port
database = db.sqlite
local_manager_storage_path = storage
shared_storage_path = $dir/shared
log_level = info
task_fail_after_softfail_count = 1
admin_password = smoke pass
CONF
chmod 600 "$dir/fm.conf"
PASSWORD="smoke pass"
"$bin" -c "$dir/fm.conf" 2> "$dir/log" &
pid=$!
for _ in $(seq 1 200); do
	curl -sf "$FM/api/v3/version" > /dev/null 2>&1 && break
	sleep 0.05
done
json() { curl -s -H 'Content-Type: application/json' "$@"; }

secret=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
WORKER=$(json "$FM/api/v3/worker/register-worker" -d "{\"name\":\"admin-test-worker\",\"secret\":\"$secret\",\"platform\":\"linux\",\"supported_task_types\":[\"misc\"]}" | jq -r .uuid)
auth="$WORKER:$secret"
json -u "$auth" "$FM/api/v3/worker/sign-on" -d '{"name":"admin-test-worker","supported_task_types":["misc"],"software_version":"3.9"}' > /dev/null
json -u "$auth" "$FM/api/v3/worker/state-changed" -d '{"status":"awake"}' > /dev/null
JOB=$(json "$FM/api/v3/jobs" -d '{"name":"admin job","type":"echo-sleep-test","priority":50,"submitter_platform":"linux","settings":{"message":"m","sleep_duration_seconds":1,"sleep_repeats":2}}' | jq -r .id)
# The echo task fails (hard, with task_fail_after_softfail_count = 1).
TASK=$(json -u "$auth" -X POST "$FM/api/v3/worker/task" | jq -r .uuid)
json -u "$auth" "$FM/api/v3/worker/task/$TASK" -d '{"log":"it broke","taskStatus":"failed"}' > /dev/null
export FM JOB TASK WORKER PASSWORD
[ ${#JOB} -eq 36 ] && [ ${#TASK} -eq 36 ] && ok "farm set up (job $JOB)" || fail "set-up: job=$JOB task=$TASK"

# 1. Every recipe line of the README runs and succeeds.
sed -n '/<!-- recipes -->/,/<!-- \/recipes -->/p' "$here/README.md" |
    grep -v '^<!--\|^```\|^#\|^$' > "$dir/recipes"
n=0
while IFS= read -r line; do
	n=$((n + 1))
	if sh -c "set -e; $line" > "$dir/out" 2>&1 && ! grep -q '"code": *401' "$dir/out"; then
		ok "recipe $n"
	else
		fail "recipe $n: $line: $(head -c 300 "$dir/out")"
	fi
done < "$dir/recipes"
[ $n -ge 10 ] || fail "only $n recipes found in README.md"

# 2. fmctl.
fmctl() { FM_ADMIN_PASSWORD=$PASSWORD sh "$here/contrib/fmctl" -m "$FM" "$@"; }
if FM_ADMIN_PASSWORD= sh "$here/contrib/fmctl" -m "$FM" drain "$WORKER" > "$dir/out" 2>&1; then fail "fmctl drain without the admin password succeeded"; else grep -q "HTTP 401: no admin credentials" "$dir/out" && ok "fmctl needs the admin password" || fail "fmctl without password: $(cat "$dir/out")"; fi
if FM_ADMIN_PASSWORD=wrong sh "$here/contrib/fmctl" -m "$FM" drain "$WORKER" > "$dir/out" 2>&1; then fail "fmctl drain with a wrong admin password succeeded"; else grep -q "HTTP 401: wrong admin password" "$dir/out" && ok "fmctl refused a wrong password" || fail "fmctl wrong password: $(cat "$dir/out")"; fi
fmctl jobs > "$dir/out" 2>&1 && grep -q "admin job" "$dir/out" && ok "fmctl jobs" || fail "fmctl jobs: $(cat "$dir/out")"
fmctl job "$(echo "$JOB" | cut -c1-8)" > "$dir/out" 2>&1 && grep -q "^status:" "$dir/out" && ok "fmctl job PREFIX" || fail "fmctl job: $(cat "$dir/out")"
fmctl tasks "$JOB" > "$dir/out" 2>&1 && grep -q "echo" "$dir/out" && ok "fmctl tasks" || fail "fmctl tasks: $(cat "$dir/out")"
fmctl workers > "$dir/out" 2>&1 && grep -q "admin-test-worker" "$dir/out" && ok "fmctl workers" || fail "fmctl workers: $(cat "$dir/out")"
fmctl log "$TASK" > "$dir/out" 2>&1 && grep -q "it broke" "$dir/out" && ok "fmctl log" || fail "fmctl log: $(cat "$dir/out")"
fmctl requeue-failed "$JOB" > "$dir/out" 2>&1 && grep -q "1 failed tasks requeued\|0 failed tasks requeued" "$dir/out" && ok "fmctl requeue-failed" || fail "fmctl requeue-failed: $(cat "$dir/out")"
fmctl drain "$WORKER" > "$dir/out" 2>&1 && ok "fmctl drain" || fail "fmctl drain: $(cat "$dir/out")"
fmctl workers > "$dir/out" 2>&1 && grep -q "asleep (lazy)" "$dir/out" && ok "fmctl shows the lazy request" || fail "drain not shown: $(cat "$dir/out")"
fmctl pause "$JOB" > "$dir/out" 2>&1 && ok "fmctl pause" || fail "fmctl pause: $(cat "$dir/out")"
fmctl cancel "$JOB" > "$dir/out" 2>&1 && ok "fmctl cancel" || fail "fmctl cancel: $(cat "$dir/out")"
fmctl status > "$dir/out" 2>&1 && grep -q "^farm:" "$dir/out" && ok "fmctl status" || fail "fmctl status: $(cat "$dir/out")"
if fmctl job 00000000 > "$dir/out" 2>&1; then fail "fmctl job with an unknown ID succeeded"; else grep -q "0 jobs match" "$dir/out" && ok "fmctl refuses an unknown ID" || fail "unknown ID: $(cat "$dir/out")"; fi
fmctl delete "$JOB" > "$dir/out" 2>&1 && ok "fmctl delete" || fail "fmctl delete: $(cat "$dir/out")"

# 3. The configuration file: {} is refused, GET-edit-PUT is written with a backup.
cp "$dir/fm.conf" "$dir/before"
code=$(curl -s -o "$dir/out" -w '%{http_code}' -u "admin:$PASSWORD" -X PUT "$FM/api/v3/configuration/file" -H 'Content-Type: application/json' -d '{}')
[ "$code" = 400 ] && grep -q "database" "$dir/out" && cmp -s "$dir/fm.conf" "$dir/before" && ok "PUT {} refused, file untouched" || fail "PUT {}: $code $(cat "$dir/out")"
curl -sf "$FM/api/v3/configuration/file" | jq '.manager_name = "Smoke Farm"' > "$dir/conf.json"
code=$(curl -s -o "$dir/out" -w '%{http_code}' -u "admin:$PASSWORD" -X PUT "$FM/api/v3/configuration/file" -H 'Content-Type: application/json' -d @"$dir/conf.json")
[ "$code" = 204 ] && grep -q "^manager_name = Smoke Farm$" "$dir/fm.conf" && grep -q "^admin_password = smoke pass$" "$dir/fm.conf" && cmp -s "$dir/fm.conf.bak" "$dir/before" && ok "GET-edit-PUT written, previous file kept as .bak" || fail "GET-edit-PUT: $code $(cat "$dir/out")"
[ "$(stat -c %a "$dir/fm.conf")" = 600 ] && ok "the written file is mode 600" || fail "mode $(stat -c %a "$dir/fm.conf")"
for _ in $(seq 1 40); do grep -q "previous one kept as $dir/fm.conf.bak" "$dir/log" && break; sleep 0.05; done
grep -q "previous one kept as $dir/fm.conf.bak" "$dir/log" && ok "the log names the backup" || fail "no backup in the log: $(tail -3 "$dir/log")"

kill -TERM $pid; wait $pid; pid=""
[ $fails -eq 0 ]
