#!/bin/sh
# Benchmarks against the release binary on loopback. Prints figures next
# to the targets the issues set; never fails on a timing.
set -u
cd "$(dirname "$0")/../.."
bin=$(pwd)/flamenco-manager
dir=$(mktemp -d /tmp/fm-bench-XXXXXX)
pid=""
trap 'kill $pid 2>/dev/null; wait $pid 2>/dev/null; rm -rf "$dir"' EXIT
DURATION=${BENCH_DURATION:-10}

port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"

start() {	# start LOG_LEVEL [EXTRA_CONF_LINE]
	cat > "$dir/fm.conf" <<CONF
listen = 127.0.0.1:$port
database = db.sqlite
local_manager_storage_path = storage
shared_storage_path = $dir/shared
log_level = $1
${2:-}
CONF
	t0=$(date +%s%N)
	"$bin" -c "$dir/fm.conf" 2> "$dir/log" &
	pid=$!
	while ! curl -sf "$base/api/v3/version" > /dev/null 2>&1; do sleep 0.002; done
	t1=$(date +%s%N)
	ready_ms=$(( (t1 - t0) / 1000000 ))
}
stop() {
	kill -TERM $pid; wait $pid 2>/dev/null; pid=""
	rm -f "$dir"/db.sqlite*
}
rss_kb() { awk '/VmRSS/ {print $2}' /proc/$pid/status; }

echo "== start-up (empty database)"
start warn
sleep 2
echo "ready to serve: ${ready_ms} ms after exec (target < 100 ms)"
echo "idle RSS after job types loaded: $(rss_kb) KiB (target < 10240 KiB)"
grep -h "heaps ready\|job types ready" "$dir/log" 2>/dev/null | sed 's/^/log: /'
stop

echo
echo "== GET /api/v3/version, wrk keep-alive, ${DURATION}s (target >= 50k req/s)"
for lvl in warn info; do
	start $lvl
	printf 'log_level=%s: ' $lvl
	wrk -t2 -c32 -d${DURATION}s --latency "$base/api/v3/version" > "$dir/wrk" 2>&1
	awk '/Requests\/sec/ {rps = $2} / 99%/ {p99 = $2} END {printf "%s req/s, p99 %s\n", rps, p99}' "$dir/wrk"
	stop
done

echo
echo "== GET /api/v3/version while 2,000 slow connections are open (8 keep-alive clients, ${DURATION}s)"
slowconn=build/release/bench/bench_slowconn
if [ -x "$slowconn" ]; then
	start warn
	"$slowconn" "$port" 2000 "$DURATION" 8
	echo "RSS with them open: $(rss_kb) KiB"
	stop
fi

echo
echo "== RSS after a 64 MiB [{},{},...] body to /api/v3/jobs/check (default, then max_body_size = 64MiB)"
python3 -c 'import sys; n = (64 << 20) // 3 - 1; sys.stdout.write("[" + "{}," * (n - 1) + "{}]")' > "$dir/amp.json"
for conf in "" "max_body_size = 64MiB"; do
	start warn "$conf"
	sleep 1
	before=$(rss_kb)
	code=$(curl -s -o /dev/null -w '%{http_code}' -H 'Content-Type: application/json' \
	    --data-binary @"$dir/amp.json" "$base/api/v3/jobs/check")
	sleep 1
	echo "${conf:-defaults}: $code, RSS $before KiB before, $(rss_kb) KiB after"
	stop
done
rm -f "$dir/amp.json"

echo
echo "== GET /api/v3/jobs/types (target < 1 ms)"
start warn
curl -sf "$base/api/v3/jobs/types" > /dev/null
wrk -t1 -c1 -d3s --latency "$base/api/v3/jobs/types" > "$dir/wrk" 2>&1
awk '/Latency/ && !x {printf "mean %s", $2; x=1} / 50%/ {printf ", p50 %s", $2} / 99%/ {printf ", p99 %s", $2} /Requests\/sec/ {printf ", %s req/s\n", $2}' "$dir/wrk"

echo
echo "== submit simple-blender-render, chunk 1 (targets: 10k frames < 250 ms, 100k < 2.5 s)"
for frames in 10000 100000; do
	cat > "$dir/job.json" <<JOB
{"name": "bench $frames", "type": "simple-blender-render", "priority": 50,
 "submitter_platform": "linux",
 "settings": {"frames": "1-$frames", "chunk_size": 1, "render_output_root": "/r",
   "add_path_components": 0, "render_output_path": "/r/bench/######",
   "blendfile": "/b/bench.blend", "fps": 24, "format": "PNG",
   "image_file_extension": ".png", "has_previews": false, "scene": "Scene"},
 "metadata": {}}
JOB
	best=""
	for i in 1 2 3; do
		ms=$(curl -s -o "$dir/out" -w '%{time_total}' -H 'Content-Type: application/json' \
		    --data-binary @"$dir/job.json" "$base/api/v3/jobs" | awk '{printf "%d", $1 * 1000}')
		grep -q '"id"' "$dir/out" || { echo "submit failed: $(head -c 300 "$dir/out")"; break; }
		[ -z "$best" ] || [ "$ms" -lt "$best" ] && best=$ms
		printf '%s frames run %d: %d ms\n' $frames $i $ms
	done
	echo "$frames frames: best ${best} ms"
done
echo "RSS after the submissions: $(rss_kb) KiB"
stop

echo
echo "== task assignment, in-process (targets: p99 < 2 ms at 1M queued tasks;"
echo "   >= 1500/s at 100k, 100x Flamenco's ~15/s)"
sched=$(ls build/release/bench/bench_scheduler 2>/dev/null)
if [ -n "$sched" ]; then
	"$sched" 100000 100 2000
	"$sched" 1000000 200 2000
fi

echo
echo "== job dependencies, in-process (targets: assignment p99 within 10% with half"
echo "   of 1M queued tasks waiting on other jobs; releasing 10,000 waiting tasks"
echo "   < 100 ms; blockers with 1,000 workers < 5 ms)"
deps=build/release/bench/bench_jobdeps
[ -x "$deps" ] && "$deps" 1000000 200 2000
echo
echo "== last-rendered thumbnails of a 1920x1080 frame, all three sizes, in-process"
echo "   (target < 30 ms)"
thumb=build/release/bench/bench_thumbnail
[ -x "$thumb" ] && "$thumb" 50

echo
echo "== worker task-update stress over HTTP (target >= 25,000 updates/s)"
sim=build/fm-worker-sim
if [ -x "$sim" ]; then
	start warn
	# 64 render tasks with no dependencies: one for each simulated worker.
	curl -s -H 'Content-Type: application/json' "$base/api/v3/jobs" -d \
	    '{"name": "stress", "type": "simple-blender-render", "priority": 50, "submitter_platform": "linux", "settings": {"frames": "1-64", "chunk_size": 1, "render_output_root": "/r", "add_path_components": 0, "render_output_path": "/r/s/######", "blendfile": "/b/s.blend", "fps": 24, "format": "PNG", "image_file_extension": ".png", "has_previews": false, "scene": "Scene"}}' > /dev/null
	"$sim" --manager "$base" --workers 32 --mode stress --duration "$DURATION" --quiet
	stop
fi

echo
echo "== event fan-out: the stress workload with 0 and 1,000 open event streams"
echo "   (targets: throughput within 10%; commit-to-client p99 < 50 ms)"
sse=build/release/bench/bench_sse
if [ -x "$sim" ] && [ -x "$sse" ]; then
	# All streams come from 127.0.0.1: no per-client cap here.
	start warn "http_max_connections_per_client = 0"
	curl -s -H 'Content-Type: application/json' "$base/api/v3/jobs" -d \
	    '{"name": "stress", "type": "simple-blender-render", "priority": 50, "submitter_platform": "linux", "settings": {"frames": "1-64", "chunk_size": 1, "render_output_root": "/r", "add_path_components": 0, "render_output_path": "/r/s/######", "blendfile": "/b/s.blend", "fps": 24, "format": "PNG", "image_file_extension": ".png", "has_previews": false, "scene": "Scene"}}' > /dev/null
	rate() { awk '/updates/ && /\/s over/ {for (i = 1; i <= NF; i++) if ($i ~ /\/s$/) print $i}'; }
	a=$("$sim" --manager "$base" --workers 16 --mode stress --duration "$DURATION" --quiet 2>&1 | rate)
	"$sse" "$port" 1000 $((DURATION + 3)) > "$dir/sse" &
	spid=$!
	sleep 2
	b=$("$sim" --manager "$base" --workers 16 --mode stress --duration "$DURATION" --quiet 2>&1 | rate)
	wait $spid
	echo "task updates: ${a} with no streams, ${b} with 1,000 streams"
	cat "$dir/sse"
	stop
fi

echo
echo "== admin reads with 10,000 jobs and 1,000,000 tasks, in-process"
admin=build/release/bench/bench_admin
[ -x "$admin" ] && "$admin" 1000000 10000

echo
echo "== task updates while a 10,000-task job is deleted (target: p99 < 10 ms)"
if [ -x "$sim" ]; then
	start warn
	curl -s -H 'Content-Type: application/json' "$base/api/v3/jobs" -d \
	    '{"name": "stress", "type": "simple-blender-render", "priority": 50, "submitter_platform": "linux", "settings": {"frames": "1-64", "chunk_size": 1, "render_output_root": "/r", "add_path_components": 0, "render_output_path": "/r/s/######", "blendfile": "/b/s.blend", "fps": 24, "format": "PNG", "image_file_extension": ".png", "has_previews": false, "scene": "Scene"}}' > /dev/null
	big=$(curl -s -H 'Content-Type: application/json' "$base/api/v3/jobs" -d \
	    '{"name": "big", "type": "echo-sleep-test", "priority": 10, "submitter_platform": "linux", "settings": {"message": "m", "sleep_duration_seconds": 1, "sleep_repeats": 10000}}' | sed 's/.*"id":"\([^"]*\)".*/\1/')
	"$sim" --manager "$base" --workers 16 --mode stress --duration 6 --quiet > "$dir/sim" 2>&1 &
	simpid=$!
	sleep 3
	t0=$(date +%s%N)
	curl -s -X DELETE "$base/api/v3/jobs/$big" -o /dev/null
	while curl -sf "$base/api/v3/jobs/$big" > /dev/null; do sleep 0.01; done
	echo "10,001-task job deleted in $(( ($(date +%s%N) - t0) / 1000000 )) ms (request to rows gone)"
	wait $simpid
	grep -E "updates|latency" "$dir/sim"
	stop
fi

echo
echo "== Shaman: a 1 GB upload (hashing included; peak RSS flat), checkout requirements"
echo "   and checkout creation of 10,000 files (targets: >= 500 MB/s, < 100 ms, < 1 s)"
shaman=build/release/bench/bench_shaman
if [ -x "$shaman" ]; then
	start warn
	printf 'shared storage on disk (%s): ' "$dir"
	"$shaman" "$port" "$pid" 1000 10000
	stop
	# The disk's own write speed caps the figure above (an upload is
	# fsync'ed before it is stored); on tmpfs the Manager's own cost shows.
	if [ -d /dev/shm ] && [ -w /dev/shm ]; then
		shm=$(mktemp -d /dev/shm/fm-bench-XXXXXX)
		start warn "shared_storage_path = $shm"	# the later line wins
		printf 'shared storage on tmpfs: '
		"$shaman" "$port" "$pid" 1000 0
		stop
		rm -rf "$shm"
	fi
fi

echo
echo "== dashboard in headless Chromium with 10,000 jobs (target: jobs list drawn < 300 ms)"
python3 tests/bench/bench_dashboard.py "$bin" 10000

echo
echo "== OpenJD template, 1,000 frames x 100 cameras by product (100,000 tasks)"
echo "   vs simple-blender-render of 100,000 frames, chunk 1 (100,001 tasks; target: template <= 1.5x)"
start info "scripts_path = $(pwd)/tests/openjd/templates"
cat > "$dir/js.json" <<JOB
{"name": "bench js", "type": "simple-blender-render", "priority": 50,
 "submitter_platform": "linux",
 "settings": {"frames": "1-100000", "chunk_size": 1, "render_output_root": "/r",
   "add_path_components": 0, "render_output_path": "/r/bench/######",
   "blendfile": "/b/bench.blend", "fps": 24, "format": "PNG",
   "image_file_extension": ".png", "has_previews": false, "scene": "Scene"}}
JOB
cat > "$dir/ojd.json" <<JOB
{"name": "bench openjd", "type": "product", "priority": 50,
 "submitter_platform": "linux", "settings": {"Frames": "1-1000", "Cameras": 100}}
JOB
for kind in js ojd; do
	best=""
	for i in 1 2 3; do
		ms=$(curl -s -o "$dir/out" -w '%{time_total}' -H 'Content-Type: application/json' \
		    --data-binary @"$dir/$kind.json" "$base/api/v3/jobs" | awk '{printf "%d", $1 * 1000}')
		grep -q '"id"' "$dir/out" || { echo "submit failed: $(head -c 300 "$dir/out")"; break; }
		[ -z "$best" ] || [ "$ms" -lt "$best" ] && best=$ms
	done
	eval "best_$kind=$best"
	echo "$kind: best of 3 ${best} ms"
done
awk -v a="$best_ojd" -v b="$best_js" 'BEGIN {printf "template / script: %.2fx (target <= 1.5x)\n", a / b}'
grep -h "stored with 10000[01] tasks" "$dir/log" | sed 's/.*(\(.*\)) stored with \([0-9]*\) tasks (/\1, \2 tasks: /; s/)$//; s/^/log: /'
stop
