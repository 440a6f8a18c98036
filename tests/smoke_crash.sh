#!/bin/sh
# Crash safety with the real binary: a worker streams task updates, the
# Manager is killed with SIGKILL in the middle, started again, and then
# every update that was answered 204 must be stored, and the vanished
# worker's task must be requeued once the first timeout check has run.
set -u
bin=$(realpath "$1")
dir=$(mktemp -d /tmp/fm-crash-XXXXXX)
pid=""
fails=0
trap 'kill -9 $pid 2>/dev/null; rm -rf "$dir"' EXIT
fail() { echo "FAIL: $*"; fails=$((fails + 1)); }
ok() { echo "ok: $*"; }

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])' 2>/dev/null || echo $((30000 + $$ % 20000)))
base="http://127.0.0.1:$port/api/v3"
cat > "$dir/fm.conf" <<CONF
listen = 127.0.0.1:$port
database = db.sqlite
local_manager_storage_path = storage
shared_storage_path = $dir/shared
log_level = warn
worker_timeout = 2s
timeout_check_interval = 200ms
CONF

start() {
	"$bin" -c "$dir/fm.conf" 2>> "$dir/log" &
	pid=$!
	for _ in $(seq 1 200); do
		curl -sf "$base/version" > /dev/null 2>&1 && return 0
		sleep 0.05
	done
	return 1
}
json() { curl -s -H 'Content-Type: application/json' "$@"; }

start || { echo "FAIL: manager did not start"; exit 1; }
secret=0123456789abcdef0123456789abcdef0123456789abcdef0123456789abcdef
uuid=$(json "$base/worker/register-worker" -d "{\"name\":\"crash\",\"secret\":\"$secret\",\"platform\":\"linux\",\"supported_task_types\":[\"misc\"]}" | sed 's/.*"uuid":"\([^"]*\)".*/\1/')
auth="$uuid:$secret"
json -u "$auth" "$base/worker/sign-on" -d '{"name":"crash","supported_task_types":["misc"],"software_version":"3.9"}' > /dev/null
json -u "$auth" "$base/worker/state-changed" -d '{"status":"awake"}' > /dev/null
# One task with many steps to report.
json "$base/jobs" -d '{"name":"c","type":"echo-sleep-test","priority":50,"submitter_platform":"linux","settings":{"message":"m","sleep_duration_seconds":1,"sleep_repeats":0}}' > /dev/null
task=$(json -u "$auth" -X POST "$base/worker/task" | sed 's/.*"uuid":"\([^"]*\)".*/\1/')
[ ${#task} -eq 36 ] && ok "task $task assigned" || fail "no task assigned: $task"

# Stream updates; remember the last step the Manager acknowledged.
(
	i=1
	while [ $i -le 100000 ]; do
		code=$(json -o /dev/null -w '%{http_code}' -u "$auth" "$base/worker/task/$task" \
		    -d "{\"activity\":\"step $i\",\"log\":\"line $i\",\"steps_completed\":$i}")
		[ "$code" = 204 ] || break
		echo $i > "$dir/acked"
		i=$((i + 1))
	done
) &
streamer=$!
sleep 1.5
kill -9 $pid
wait $pid 2>/dev/null
wait $streamer 2>/dev/null
acked=$(cat "$dir/acked" 2>/dev/null || echo 0)
[ "$acked" -gt 0 ] && ok "$acked updates acknowledged before SIGKILL" || fail "no update acknowledged"

start || { echo "FAIL: manager did not restart after SIGKILL"; exit 1; }
ok "restarted after SIGKILL"
stored=$(curl -s "$base/tasks/$task" | sed 's/.*"activity":"step \([0-9]*\)".*/\1/')
[ "$stored" -ge "$acked" ] 2>/dev/null && ok "stored step $stored >= acknowledged $acked" || fail "stored activity step $stored < acknowledged $acked"
lines=$(grep -c '^line ' "$dir"/storage/job-*/*/task-$task.txt 2>/dev/null || echo 0)
[ "$lines" -ge "$acked" ] && ok "task log has $lines lines >= $acked" || fail "task log has $lines lines, $acked acknowledged"

# The worker is gone: its task goes back to the queue at the first timeout
# check, which waits five worker_timeouts after start (housekeeping.h).
for _ in $(seq 1 60); do
	status=$(curl -s "$base/tasks/$task" | sed 's/.*"status":"\([^"]*\)".*/\1/')
	[ "$status" = queued ] && break
	sleep 0.5
done
[ "$status" = queued ] && ok "vanished worker's task requeued" || fail "task status $status after worker timeout"

kill -TERM $pid; wait $pid; pid=""
[ $fails -eq 0 ]
