#!/bin/sh
# OpenJD template jobs run to completion by the real Flamenco Worker (its
# "exec" command), not by a simulation. Not part of `make test`: it needs
# a built flamenco-worker, which it does not fetch itself (tests/e2e/README.md).
#
#   sh tests/openjd/real_worker.sh ./flamenco-manager [SAMPLES_DIR]
#
# FLAMENCO_WORKER_BIN: the worker (default build/flamenco-src/flamenco-worker).
# SAMPLES_DIR: OpenJD's samples/v2023-09/job_templates; then its ffmpeg
# sample runs too (on an image sequence made here with ffmpeg), and its
# ui-controls-showcase and stdout-messages samples.
set -u
bin=$(realpath "$1")
samples=${2:-}
worker=${FLAMENCO_WORKER_BIN:-$(dirname "$0")/../../build/flamenco-src/flamenco-worker}
[ -x "$worker" ] || { echo "real_worker: no worker at $worker"; exit 2; }
cd "$(dirname "$0")/../.."
dir=$(mktemp -d /tmp/fm-openjd-XXXXXX)
mpid="" wpid=""
trap 'kill $wpid $mpid 2>/dev/null; wait 2>/dev/null; rm -rf "$dir"' EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
base="http://127.0.0.1:$port"
mkdir -p "$dir/types" "$dir/shared"
cp tests/openjd/templates/real_worker.yaml "$dir/types/"
[ -n "$samples" ] && cp "$samples/ffmpeg.yaml" "$samples/ui-controls-showcase.yaml" \
    "$samples/stdout-messages.yaml" "$dir/types/"
cat > "$dir/fm.conf" <<CONF
listen = 127.0.0.1:$port
database = $dir/db.sqlite
local_manager_storage_path = $dir/storage
shared_storage_path = $dir/shared
scripts_path = $dir/types
log_level = info
CONF
"$bin" -c "$dir/fm.conf" 2> "$dir/manager.log" &
mpid=$!
until curl -sf "$base/api/v3/version" > /dev/null; do sleep 0.1; done
mkdir -p "$dir/worker"
(cd "$dir/worker" && HOME="$dir/worker" XDG_DATA_HOME="$dir/worker/data" \
    XDG_CONFIG_HOME="$dir/worker/config" XDG_CACHE_HOME="$dir/worker/cache" \
    exec "$worker" -manager "$base/") > "$dir/worker.log" 2>&1 &
wpid=$!
fail=0

run() {	# run TYPE SETTINGS_JSON: submit, wait for the end, print the status
	job=$(curl -s -H 'Content-Type: application/json' "$base/api/v3/jobs" -d \
	    "{\"name\": \"$1\", \"type\": \"$1\", \"priority\": 50, \"submitter_platform\": \"linux\", \"settings\": $2}")
	id=$(echo "$job" | jq -r .id)
	[ "$id" != null ] || { echo "FAIL $1: $job"; fail=1; return; }
	for _ in $(seq 600); do
		status=$(curl -s "$base/api/v3/jobs/$id" | jq -r .status)
		case $status in completed|failed|canceled) break ;; esac
		sleep 0.2
	done
	echo "$1: job $id $status, tasks: $(curl -s "$base/api/v3/jobs/$id/tasks" | jq -c '[.tasks[] | .status] | group_by(.) | map({(.[0]): length}) | add')"
	[ "$status" = completed ] || fail=1
}

run real-worker '{"Count": 4}'
storage=$(curl -s "$base/api/v3/configuration/variables/workers/linux" | jq -r .jobs.value)
joined=$(cat "$storage/openjd/$id/joined.txt" 2>/dev/null | sort | tr '\n' ' ')
echo "joined.txt: $joined"
[ "$joined" = "part 1 part 2 part 3 part 4 " ] || fail=1
if [ -n "$samples" ]; then
	mkdir -p "$dir/img" "$dir/out"
	ffmpeg -loglevel error -f lavfi -i testsrc=size=64x64:rate=24 -frames:v 12 \
	    "$dir/img/frame.%04d.png"
	run ffmpeg "{\"InputFile\": \"$dir/img/frame.%04d.png\", \"OutputDir\": \"$dir/out\", \"StartFrame\": 1, \"EndFrame\": 12}"
	echo "outputs: $(cd "$dir/out" && ls | tr '\n' ' ')"
	run ui-controls-showcase "{\"InputFilePicker\": \"$dir/in.txt\", \"OutputFilePicker\": \"$dir/out.txt\", \"DirectoryPicker\": \"$dir/out\"}"
	run stdout-messages '{}'
fi
[ $fail = 0 ] || { grep -a -i "error\|fail\|going to run" "$dir/worker.log" | tail -8; grep -i "warn\|error" "$dir/manager.log" | tail -10; }
exit $fail
