#!/bin/sh
# Job dependencies against the real binary: a two-job chain submitted at
# once, `fmctl why` explaining the stuck job and task in one screen,
# `fmctl deps`, the admin dependency endpoints behind admin_password, and
# the chain running in order once a worker is awake.
set -u
bin=$(realpath "$1")
here=$(cd "$(dirname "$0")/.." && pwd)
dir=$(mktemp -d /tmp/fm-jobdeps-XXXXXX)
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
log_level = warning
admin_password = deps pass
CONF
chmod 600 "$dir/fm.conf"
"$bin" -c "$dir/fm.conf" 2> "$dir/log" &
pid=$!
for _ in $(seq 1 200); do
	curl -sf "$FM/api/v3/version" > /dev/null 2>&1 && break
	sleep 0.05
done
json() { curl -s -H 'Content-Type: application/json' "$@"; }
fmctl() { FM_ADMIN_PASSWORD="deps pass" sh "$here/contrib/fmctl" -m "$FM" "$@"; }
job() {	# job NAME [DEPENDS_ON-JSON]
	json "$FM/api/v3/jobs" -d "{\"name\":\"$1\",\"type\":\"echo-sleep-test\",\"priority\":50,\"submitter_platform\":\"linux\",\"settings\":{\"message\":\"m\",\"sleep_duration_seconds\":1,\"sleep_repeats\":1}${2:+,\"depends_on\":$2}}" | jq -r .id
}

BAKE=$(job bake)
RENDER=$(job render "[{\"job\":\"$BAKE\"}]")
[ ${#RENDER} -eq 36 ] && ok "chain submitted at once" || fail "submission: $RENDER"

# 1. Why is the render job not running? Its upstream job, and no workers.
fmctl why "$(echo "$RENDER" | cut -c1-8)" > "$dir/out" 2>&1
grep -q "BLOCKED" "$dir/out" && grep -q "waits for job \"bake\"" "$dir/out" &&
    grep -q "no worker is registered" "$dir/out" &&
    [ "$(wc -l < "$dir/out")" -le 24 ] &&
    ok "fmctl why JOB explains it in one screen" || fail "fmctl why JOB: $(cat "$dir/out")"
TASK=$(json "$FM/api/v3/jobs/$RENDER/tasks" | jq -r '.tasks[] | select(.name == "sleep") | .id')
fmctl why "$TASK" > "$dir/out" 2>&1
grep -q "unfinished task(s) of its own job, first \"echo\"" "$dir/out" &&
    grep -q "waits for job \"bake\"" "$dir/out" &&
    ok "fmctl why TASK" || fail "fmctl why TASK: $(cat "$dir/out")"
fmctl deps "$RENDER" > "$dir/out" 2>&1 && grep -q "waits for.*bake.*queued.*all.*all.*2" "$dir/out" &&
    ok "fmctl deps" || fail "fmctl deps: $(cat "$dir/out")"
if fmctl why 0000 > "$dir/out" 2>&1; then fail "fmctl why on an unknown ID succeeded"; else
    grep -q "0 jobs match" "$dir/out" && ok "fmctl why refuses an unknown ID" || fail "unknown ID: $(cat "$dir/out")"; fi
fmctl why "$RENDER" > "$dir/out" 2>&1 && grep -q "^job render ($RENDER)" "$dir/out" &&
    ok "fmctl why with a full job ID" || fail "fmctl why FULL_JOB_ID: $(cat "$dir/out")"
if fmctl why 00000000-0000-4000-8000-000000000000 > "$dir/out" 2>&1; then
    fail "fmctl why on an unknown full ID succeeded"; else
    grep -q "HTTP 404" "$dir/out" && ok "fmctl why refuses an unknown full ID" || fail "unknown full ID: $(cat "$dir/out")"; fi

# 2. The admin endpoints want the admin password; deleting the upstream
# job is refused while the render job waits for it.
code=$(json -o /dev/null -w '%{http_code}' -X DELETE "$FM/api/v3/jobs/$RENDER/dependencies" -d "{\"job\":\"$BAKE\"}")
[ "$code" = 401 ] && ok "removing a dependency needs the admin password" || fail "DELETE dependencies without password: $code"
code=$(json -o "$dir/out" -w '%{http_code}' -u "admin:deps pass" -X DELETE "$FM/api/v3/jobs/$BAKE")
[ "$code" = 409 ] && grep -q "render" "$dir/out" && ok "deleting a job others wait for: 409 naming them" || fail "DELETE upstream: $code $(cat "$dir/out")"

# 3. A worker runs the chain in order.
secret=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
WORKER=$(json "$FM/api/v3/worker/register-worker" -d "{\"name\":\"deps-worker\",\"secret\":\"$secret\",\"platform\":\"linux\",\"supported_task_types\":[\"misc\"]}" | jq -r .uuid)
auth="$WORKER:$secret"
json -u "$auth" "$FM/api/v3/worker/sign-on" -d '{"name":"deps-worker","supported_task_types":["misc"],"software_version":"3.9"}' > /dev/null
json -u "$auth" "$FM/api/v3/worker/state-changed" -d '{"status":"awake"}' > /dev/null
order=""
for _ in 1 2 3 4 5; do
	t=$(json -u "$auth" -X POST "$FM/api/v3/worker/task")
	[ -n "$t" ] || break
	order="$order $(echo "$t" | jq -r '"\(.job[0:8]):\(.name)"')"
	json -u "$auth" "$FM/api/v3/worker/task/$(echo "$t" | jq -r .uuid)" -d '{"taskStatus":"completed"}' > /dev/null
done
b=$(echo "$BAKE" | cut -c1-8)
r=$(echo "$RENDER" | cut -c1-8)
[ "$order" = " $b:echo $b:sleep $r:echo $r:sleep" ] && ok "the chain ran in order" || fail "order:$order"
fmctl why "$r" > "$dir/out" 2>&1 && grep -q "0 queued" "$dir/out" && grep -q "no task of the job is queued" "$dir/out" && ! grep -q BLOCKED "$dir/out" &&
    ok "fmctl why on a finished job" || fail "fmctl why finished: $(cat "$dir/out")"

kill -TERM $pid; wait $pid; pid=""
[ $fails -eq 0 ]
