#!/usr/bin/env bash
# End-to-end test with the real Flamenco v3 peers: the unmodified Blender
# add-on (driven headless in Debian's Blender) submits a small textured scene
# to our Manager, and the real Flamenco Worker renders it.
#
#   FLAMENCO_SRC=/path/to/flamenco tests/e2e/run.sh    (or: make e2e)
#
# Environment:
#   FLAMENCO_SRC         extracted Flamenco v3 sources (default build/flamenco-src)
#   FLAMENCO_ADDON_DIR   the add-on package dir (default $FLAMENCO_SRC/addon/flamenco)
#   FLAMENCO_WORKER_BIN  a built flamenco-worker (default $FLAMENCO_SRC/flamenco-worker)
#   MANAGER_BIN          our Manager (default ./flamenco-manager of this checkout)
#   BLENDER              Blender binary (default blender)
#   E2E_SHAMAN=1         also run the Shaman phase
#   E2E_STRICT_DEDUP=1   Shaman: the second submission must upload nothing at all
#                        (by default the re-saved .blend may be uploaded again,
#                        see README.md; dependencies never may)
#   E2E_JOBS_DIR         more jobs to submit through the API in phase 1 (SubmittedJob
#                        JSON files, see api_jobs below); each must complete
#   E2E_TIMEOUT          seconds to wait for a job to complete (default 300)
#   E2E_KEEP=1           keep the temporary directory for inspection
#   E2E_REFERENCE_MANAGER=PATH  run Flamenco's own Manager instead of ours, to
#                        check the harness itself against the original
#
# Prints PASS/FAIL per check and exits non-zero when any check failed, 2 when
# the Flamenco peers are missing.
set -u

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
FLAMENCO_SRC=${FLAMENCO_SRC:-$repo/build/flamenco-src}
FLAMENCO_ADDON_DIR=${FLAMENCO_ADDON_DIR:-$FLAMENCO_SRC/addon/flamenco}
FLAMENCO_WORKER_BIN=${FLAMENCO_WORKER_BIN:-$FLAMENCO_SRC/flamenco-worker}
MANAGER_BIN=${MANAGER_BIN:-$repo/flamenco-manager}
BLENDER=${BLENDER:-blender}
E2E_TIMEOUT=${E2E_TIMEOUT:-300}

missing_peers() {
	cat >&2 <<EOF
e2e: $1
The end-to-end test needs the unmodified Flamenco v3 sources (add-on and
worker), which it does not fetch itself. Provide them like this:
  1. get a Flamenco v3.x source tree (https://projects.blender.org/studio/flamenco
     or a mirror) and extract it, e.g. to build/flamenco-src;
  2. build the worker there:  (cd build/flamenco-src && go build ./cmd/flamenco-worker)
  3. run:  make e2e   (or FLAMENCO_SRC=/elsewhere make e2e)
Or point FLAMENCO_ADDON_DIR at the add-on's "flamenco" package directory and
FLAMENCO_WORKER_BIN at a flamenco-worker binary.
EOF
	exit 2
}
[ -f "$FLAMENCO_ADDON_DIR/__init__.py" ] ||
	missing_peers "no Flamenco add-on at FLAMENCO_ADDON_DIR=$FLAMENCO_ADDON_DIR"
[ -x "$FLAMENCO_WORKER_BIN" ] ||
	missing_peers "no Flamenco Worker binary at FLAMENCO_WORKER_BIN=$FLAMENCO_WORKER_BIN"
[ -x "$MANAGER_BIN" ] || { echo "e2e: no Manager at $MANAGER_BIN (run make)" >&2; exit 2; }
for cmd in "$BLENDER" jq curl python3 sha256sum; do
	command -v "$cmd" >/dev/null || { echo "e2e: $cmd not found (contrib/deps.sh e2e)" >&2; exit 2; }
done

RUN=$(mktemp -d /tmp/fm-e2e.XXXXXX)
failures=0
checks=0
pids=()

# Newest first, so the Worker signs off while its Manager still runs.
stop_all() {
	local i
	for ((i = ${#pids[@]} - 1; i >= 0; i--)); do
		kill "${pids[i]}" 2>/dev/null && wait "${pids[i]}" 2>/dev/null
	done
	pids=()
}
cleanup() {
	stop_all
	if [ "${E2E_KEEP:-}" = 1 ] || [ "$failures" != 0 ]; then
		echo "e2e: logs and files kept in $RUN"
	else
		rm -rf "$RUN"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

check() {	# check <name> <command...>: runs the command, prints PASS/FAIL
	local name=$1
	shift
	checks=$((checks + 1))
	if "$@"; then
		printf 'PASS  %s\n' "$name"
	else
		printf 'FAIL  %s\n' "$name"
		failures=$((failures + 1))
	fi
}
jq_true() { jq -e "$1" "$2" >/dev/null 2>&1; }	# jq_true <filter> <file>
note() { printf '      %s\n' "$*"; }
now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$(now)" 'BEGIN { printf "%.1f", b - a }'; }

# --- processes --------------------------------------------------------------

# start_manager <dir> <shaman on: true|false>: our Manager on a free port
# (or Flamenco's own, see E2E_REFERENCE_MANAGER).
start_manager() {
	local dir=$1 shaman=$2 t0 i
	mkdir -p "$dir/shared"
	if [ -n "${E2E_REFERENCE_MANAGER:-}" ]; then
		start_reference_manager "$dir" "$shaman" || return 1
	else
		write_our_config "$dir" "$shaman"
		t0=$(now)
		: >"$dir/manager.log" # exists before the loop below reads it
		"$MANAGER_BIN" -c "$dir/manager.conf" >"$dir/manager.log" 2>&1 &
		pids+=($!)
		MANAGER_PORT=
		for i in $(seq 100); do
			MANAGER_PORT=$(sed -n 's/.* listening on .*(port \([0-9]*\)).*/\1/p' "$dir/manager.log")
			[ -n "$MANAGER_PORT" ] && break
			sleep 0.1
		done
		[ -n "$MANAGER_PORT" ] || { cat "$dir/manager.log"; return 1; }
		note "Manager up on port $MANAGER_PORT in $(elapsed "$t0") s"
	fi
	MANAGER=http://127.0.0.1:$MANAGER_PORT
	# The add-on goes through the counting proxy; the worker talks directly.
	python3 "$here/countproxy.py" 0 "$MANAGER" "$dir/requests.log" "$dir/proxy.port" &
	pids+=($!)
	for i in $(seq 100); do [ -s "$dir/proxy.port" ] && break; sleep 0.1; done
	ADDON_URL=http://127.0.0.1:$(cat "$dir/proxy.port")/
	: >>"$dir/requests.log"
	note "Manager $MANAGER, add-on via proxy $ADDON_URL"
}

write_our_config() {	# write_our_config <dir> <shaman on>
	local shaman_line=""
	# Written whenever the Manager knows the key (it may default to on); a
	# Manager without Shaman support gets no line in the Shaman-off phase.
	if "$MANAGER_BIN" --help-config 2>/dev/null | grep -q '^ *shaman\.enabled '; then
		shaman_line="shaman.enabled = $2"
	elif [ "$2" = true ]; then
		shaman_line="shaman.enabled = true"	# refused: the check says so
	fi
	cat >"$1/manager.conf" <<EOF
manager_name = E2E
listen = 127.0.0.1:0
database = $1/manager.sqlite
local_manager_storage_path = $1/manager-storage
shared_storage_path = $1/shared
log_level = debug
variables.blender.linux = $BLENDER
variables.blenderArgs.all = -b -y
$shaman_line
EOF
}

# The real Flamenco Manager, to check that the harness's expectations hold
# for the original (E2E_REFERENCE_MANAGER=/path/to/flamenco-manager).
start_reference_manager() {	# <dir> <shaman on>
	local dir=$1 i
	MANAGER_PORT=$(python3 -c 'import socket; s = socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	cat >"$dir/flamenco-manager.yaml" <<EOF
_meta:
  version: 3
manager_name: Reference
database: $dir/flamenco-manager.sqlite
listen: 127.0.0.1:$MANAGER_PORT
autodiscoverable: false
local_manager_storage_path: $dir/manager-storage
shared_storage_path: $dir/shared
shaman:
  enabled: $2
variables:
  blender:
    values:
      - platform: linux
        value: $BLENDER
  blenderArgs:
    values:
      - platform: all
        value: -b -y
EOF
	(cd "$dir" && exec "$E2E_REFERENCE_MANAGER") >"$dir/manager.log" 2>&1 &
	pids+=($!)
	for i in $(seq 100); do
		curl -sf "http://127.0.0.1:$MANAGER_PORT/api/v3/version" >/dev/null && return 0
		sleep 0.1
	done
	cat "$dir/manager.log"
	return 1
}

start_worker() {	# start_worker <dir>
	local dir=$1
	mkdir -p "$dir/worker"
	(cd "$dir/worker" && HOME="$dir/worker" XDG_DATA_HOME="$dir/worker/data" \
		XDG_CONFIG_HOME="$dir/worker/config" XDG_CACHE_HOME="$dir/worker/cache" \
		exec "$FLAMENCO_WORKER_BIN" -manager "$MANAGER/") >"$dir/worker.log" 2>&1 &
	pids+=($!)
}

# --- Blender side -----------------------------------------------------------

# Blender gets its own HOME, so the add-on's cached Manager info and the
# preferences never touch the user's, and the add-on is found through
# BLENDER_USER_SCRIPTS without installing anything.
blender_env() {
	HOME="$RUN/blender-home" BLENDER_USER_SCRIPTS="$RUN/blender-scripts" "$@"
}
setup_blender() {
	mkdir -p "$RUN/blender-home" "$RUN/blender-scripts/addons"
	ln -s "$(cd "$FLAMENCO_ADDON_DIR" && pwd)" "$RUN/blender-scripts/addons/flamenco"
}

# run_py <blend or ""> <script> <args...>: runs one of our scripts in Blender.
# The script is exec'd from --python-expr: Debian's Blender 3.4 crashes at
# exit (in addon_utils.disable_all) after --python FILE enabled this add-on.
run_py() {
	local blend=$1 script=$2
	shift 2
	local expr="P='$script'; exec(compile(open(P).read(), P, 'exec'), {'__name__': '__main__'})"
	blender_env "$BLENDER" -b -noaudio --factory-startup ${blend:+"$blend"} \
		--python-exit-code 3 --python-expr "$expr" -- "$@"
}

make_scene() {
	run_py "" "$here/make_scene.py" "$RUN/artist/scene.blend" \
		"$RUN/artist/textures/checker.png" >"$RUN/make_scene.log" 2>&1 &&
		[ -s "$RUN/artist/scene.blend" ] && [ -s "$RUN/artist/textures/checker.png" ]
}

# submit <dir> <job name>: the add-on pings, fetches job types and submits.
submit() {
	local dir=$1 name=$2 t0 rc
	t0=$(now)
	run_py "$RUN/artist/scene.blend" "$here/submit.py" --manager "$ADDON_URL" \
		--job-name "$name" --render-root "$dir/render" \
		--result "$dir/$name.json" >"$dir/$name.blender.log" 2>&1
	rc=$?
	note "add-on: enable+ping+submit of $name took $(elapsed "$t0") s (Blender exit $rc)"
	[ "$rc" = 0 ] && [ "$(jq -r .ok "$dir/$name.json" 2>/dev/null)" = true ]
}

# --- Manager queries --------------------------------------------------------

api() { curl -sf "$MANAGER$1"; }
job_id_by_name() { api /api/v3/jobs | jq -r --arg n "$1" '.jobs[] | select(.name == $n) | .id' | head -1; }
job_field() { api "/api/v3/jobs/$1" | jq -r "$2"; }

wait_job_done() {	# wait_job_done <job id>: until completed/failed/canceled
	local id=$1 end status
	end=$(($(date +%s) + E2E_TIMEOUT))
	while [ "$(date +%s)" -lt "$end" ]; do
		status=$(job_field "$id" .status)
		case $status in completed | failed | canceled) break ;; esac
		sleep 1
	done
	JOB_STATUS=$status
	[ "$status" = completed ]
}

worker_registered() {	# within 30 s of its start
	local i
	for i in $(seq 60); do
		[ "$(api /api/v3/worker-mgt/workers | jq '.workers | length')" -ge 1 ] 2>/dev/null && return 0
		sleep 0.5
	done
	return 1
}

frames_rendered() {	# frames_rendered <dir>: 3 PNG frames under <dir>/render
	local n=0 f
	while IFS= read -r f; do
		[ "$(head -c 8 "$f" | od -An -tx1 | tr -d ' \n')" = 89504e470d0a1a0a ] && n=$((n + 1))
	done < <(find "$1/render" -name '00000[123].png' 2>/dev/null)
	note "$n of 3 frames are PNG files under $1/render"
	[ "$n" = 3 ]
}

last_rendered() {	# last_rendered <job id>: the Worker's output-produced upload
	local info url
	info=$(api "/api/v3/jobs/$1/last-rendered") || return 1
	url=$(jq -r '.base + "/" + .suffixes[0]' <<<"$info")
	note "last-rendered: $url"
	[ "$(curl -sf "$MANAGER$url" | head -c 3 | od -An -tx1 | tr -d ' \n')" = ffd8ff ]
}

task_log_has_render() {	# task_log_has_render <job id>: logs the Worker sent
	local task
	task=$(api "/api/v3/jobs/$1/tasks" | jq -r '.tasks[] | select(.task_type == "blender") | .id' | head -1)
	[ -n "$task" ] && api "/api/v3/tasks/$task/logtail" | grep -q "Saved: '.*\.png'"
}

# packed_beside <blendfile> <glob it must match>: the packed blendfile is a
# .blend and the texture next to it has the original's bytes.
packed_beside() {
	# shellcheck disable=SC2254 # $2 is a glob on purpose
	case $1 in $2*) ;; *) note "$1 is not under $2"; return 1 ;; esac
	[ "$(head -c 7 "$1" 2>/dev/null)" = BLENDER ] ||
		[ "$(head -c 4 "$1" | od -An -tx1 | tr -d ' \n')" = 28b52ffd ] || # zstd
		{ note "$1 is not a .blend file"; return 1; }
	cmp -s "$RUN/artist/textures/checker.png" "$(dirname "$1")/textures/checker.png" ||
		{ note "texture missing or different next to $1"; return 1; }
}

addon_checks() {	# addon_checks <result json>: the (a) checks
	local r=$1
	check "add-on enabled, operators ping_manager and submit_job registered" \
		jq_true '(.enable == ["FINISHED"]) and (.operators | index("ping_manager") and index("submit_job"))' "$r"
	note "add-on status after ping: $(jq -r .ping_status "$r" 2>/dev/null)"
	check "add-on pinged the Manager (GET /api/v3/version 200, status 'found')" \
		sh -c "grep -q '^GET /api/v3/version 200 ' '$2' && jq -e '.ping_status | test(\"found\")' '$r' >/dev/null"
	note "job types: Manager $(jq -c .manager_job_types "$r" 2>/dev/null), add-on $(jq -c .addon_job_types "$r" 2>/dev/null)"
	check "add-on fetched the job types (knows every type the Manager offers)" \
		jq_true '(.manager_job_types | index("simple-blender-render")) and .addon_job_types == .manager_job_types' "$r"
}

# --- phase 1: Shaman off, the add-on copies files with BAT ------------------

phase_copy() {
	local dir=$RUN/copy name=e2e-copy id t0 blendfile
	echo "== phase 1: Shaman off (BAT pack to shared storage)"
	start_manager "$dir" false || { check "Manager starts" false; return; }
	submit "$dir" "$name"
	local rc=$?
	addon_checks "$dir/$name.json" "$dir/requests.log"
	check "add-on submitted $name (operator FINISHED, BAT pack done)" \
		sh -c "[ $rc = 0 ] && jq -e '.submit == [\"FINISHED\"] and .bat_status == \"DONE\"' '$dir/$name.json' >/dev/null"
	id=$(job_id_by_name "$name")
	check "the Manager has the job" [ -n "$id" ]
	[ -n "$id" ] || return
	blendfile=$(job_field "$id" .settings.blendfile)
	note "job $id, blendfile $blendfile"
	check "blendfile packed into shared storage, texture next to it" \
		packed_beside "$blendfile" "$dir/shared/"

	t0=$(now)
	start_worker "$dir"
	check "the real Worker registered and signed on" worker_registered
	wait_job_done "$id"
	local ok=$?
	note "job status $JOB_STATUS after $(elapsed "$t0") s (worker start to end)"
	check "job rendered by the Worker and completed" [ "$ok" = 0 ]
	check "output frames exist" frames_rendered "$dir"
	check "preview video made by the Worker's ffmpeg" \
		sh -c "find '$dir/render' -name '*.mp4' -size +0 | grep -q ."
	check "last-rendered image the Worker uploaded is served as JPEG" last_rendered "$id"
	check "task log of a render task holds Blender's output" task_log_has_render "$id"
	api_jobs "$dir" "$blendfile"
}

# --- jobs submitted through the API, run by the same real Worker ------------

# submit_api <dir> <label> <SubmittedJob file>: POST /api/v3/jobs; prints the
# id, or nothing (and the Manager's answer as a note) when it was refused.
submit_api() {
	local code
	code=$(curl -s -o "$1/$2.response.json" -w '%{http_code}' -X POST \
		-H 'Content-Type: application/json' --data-binary "@$3" "$MANAGER/api/v3/jobs")
	if [ "$code" = 200 ]; then
		jq -r .id "$1/$2.response.json"
	else
		note "POST /api/v3/jobs ($2): $code $(head -c 300 "$1/$2.response.json")" >&2
	fi
}

# api_jobs <dir> <packed blendfile>: an echo-sleep-test job (the Worker's
# non-Blender commands), then every *.json in E2E_JOBS_DIR in name order.
# Those files are SubmittedJob bodies in which @SHARED@, @RENDER@ and
# @BLENDFILE@ become the phase's shared storage, a render directory and the
# packed scene, and @JOB:<name>@ the id of the job made from <name>.json,
# so a file can refer to an earlier job (dependencies, for example).
api_jobs() {
	local dir=$1 blendfile=$2 f name id t0 ok body ids=""
	jq -n '{name: "e2e-echo", type: "echo-sleep-test", priority: 50,
		submitter_platform: "linux",
		settings: {message: "hello from e2e", sleep_duration_seconds: 1, sleep_repeats: 1}}' \
		>"$dir/e2e-echo.submit.json"
	id=$(submit_api "$dir" e2e-echo "$dir/e2e-echo.submit.json")
	check "echo-sleep-test job accepted through the API" [ -n "$id" ]
	if [ -n "$id" ]; then
		t0=$(now)
		wait_job_done "$id"
		ok=$?
		note "echo-sleep-test job status $JOB_STATUS after $(elapsed "$t0") s"
		check "echo-sleep-test job completed on the real Worker" [ "$ok" = 0 ]
	fi
	[ -n "${E2E_JOBS_DIR:-}" ] || return 0
	for f in "$E2E_JOBS_DIR"/*.json; do
		[ -e "$f" ] || continue
		name=$(basename "$f" .json)
		body=$(sed -e "s|@SHARED@|$dir/shared|g" -e "s|@RENDER@|$dir/render-api/$name|g" \
			-e "s|@BLENDFILE@|$blendfile|g" "$f")
		for pair in $ids; do
			body=${body//@JOB:${pair%%=*}@/${pair#*=}}
		done
		printf '%s\n' "$body" >"$dir/$name.submit.json"
		id=$(submit_api "$dir" "$name" "$dir/$name.submit.json")
		check "E2E_JOBS_DIR job $name accepted" [ -n "$id" ]
		[ -n "$id" ] && ids="$ids $name=$id"
	done
	for pair in $ids; do
		t0=$(now)
		wait_job_done "${pair#*=}"
		ok=$?
		note "job ${pair%%=*} status $JOB_STATUS after $(elapsed "$t0") s more"
		check "E2E_JOBS_DIR job ${pair%%=*} completed on the real Worker" [ "$ok" = 0 ]
	done
	# Our Manager's log says when each task was handed out (not the
	# reference Manager's, whose log differs).
	[ -z "${E2E_REFERENCE_MANAGER:-}" ] && grep -q '"depends_on"' "$dir"/*.submit.json || return 0
	python3 "$here/dep_order.py" "$MANAGER" "$dir/manager.log" "$dir"/*.submit.json \
		>"$dir/dep_order.txt" 2>&1
	ok=$?
	while IFS= read -r line; do note "$line"; done <"$dir/dep_order.txt"
	check "E2E_JOBS_DIR jobs ran in their dependency order" [ "$ok" = 0 ]
}

# --- phase 2: Shaman on -----------------------------------------------------

# Uploads are the Shaman file-store POSTs the add-on made through the proxy.
uploads() { grep -c '^POST /api/v3/shaman/files/' "$1" || true; }

phase_shaman() {
	local dir=$RUN/shaman id1 id2 t0 blendfile checkout tex_key
	echo "== phase 2: Shaman on"
	start_manager "$dir" true || { check "Manager starts with Shaman" false; return; }
	check "Manager reports shamanEnabled" \
		sh -c "curl -sf '$MANAGER/api/v3/configuration' | jq -e '.shamanEnabled == true' >/dev/null"
	tex_key="$(sha256sum <"$RUN/artist/textures/checker.png" | cut -d' ' -f1)/$(stat -c %s "$RUN/artist/textures/checker.png")"

	submit "$dir" e2e-shaman-1
	local rc=$?
	cp "$dir/requests.log" "$dir/requests-1.log"
	addon_checks "$dir/e2e-shaman-1.json" "$dir/requests-1.log"
	check "add-on submitted e2e-shaman-1 through Shaman" \
		sh -c "[ $rc = 0 ] && jq -e '.submit == [\"FINISHED\"]' '$dir/e2e-shaman-1.json' >/dev/null &&
			grep -q '^POST /api/v3/shaman/checkout/create 200 ' '$dir/requests-1.log'"
	note "first submission: $(uploads "$dir/requests-1.log") file uploads"
	check "first submission uploaded the texture" \
		grep -q "^POST /api/v3/shaman/files/$tex_key 2" "$dir/requests-1.log"
	id1=$(job_id_by_name e2e-shaman-1)
	check "the Manager has the job" [ -n "$id1" ]
	[ -n "$id1" ] || return
	blendfile=$(job_field "$id1" .settings.blendfile)
	checkout=$(job_field "$id1" '.storage.shaman_checkout_id // empty')
	note "job $id1, blendfile $blendfile, storage.shaman_checkout_id '$checkout'"
	# The add-on writes {jobs}/<checkout>/...; the Manager expands {jobs} to
	# <shared>/jobs for the worker. Blender < 5.1.1 packs with BAT v1, which
	# also sends the checkout as storage.shaman_checkout_id.
	local resolved=${blendfile/#\{jobs\}/$dir/shared/jobs}
	check "job keeps storage.shaman_checkout_id" [ -n "$checkout" ]
	check "blendfile points into <shared>/jobs/<checkout>/ and the checkout holds scene and texture" \
		packed_beside "$resolved" "$dir/shared/jobs/${checkout:-?*}/"

	t0=$(now)
	start_worker "$dir"
	check "the real Worker registered and signed on" worker_registered
	wait_job_done "$id1"
	local ok=$?
	note "job status $JOB_STATUS after $(elapsed "$t0") s"
	check "job completed" [ "$ok" = 0 ]
	check "the Worker rendered the blendfile from the checkout" \
		grep -q "going to run: .*$dir/shared/jobs/" "$dir/worker.log"
	check "output frames exist" frames_rendered "$dir"

	# Second, identical submission: everything is in the file store already.
	: >"$dir/requests.log"
	submit "$dir" e2e-shaman-2
	rc=$?
	local n2
	n2=$(uploads "$dir/requests.log")
	note "second submission: $n2 file uploads ($(grep -c '^POST /api/v3/shaman/files/' "$dir/requests-1.log" || true) the first time)"
	check "second submission succeeded" \
		sh -c "[ $rc = 0 ] && grep -q '^POST /api/v3/shaman/checkout/create 200 ' '$dir/requests.log'"
	check "second submission did not upload the texture again" \
		sh -c "! grep -q '^POST /api/v3/shaman/files/$tex_key ' '$dir/requests.log'"
	if [ "${E2E_STRICT_DEDUP:-}" = 1 ]; then
		check "second submission uploaded nothing" [ "$n2" = 0 ]
	else
		check "second submission uploaded at most the re-saved blendfile" [ "$n2" -le 1 ]
	fi
	id2=$(job_id_by_name e2e-shaman-2)
	if [ -n "$id2" ]; then
		t0=$(now)
		wait_job_done "$id2"
		ok=$?
		note "second job status $JOB_STATUS after $(elapsed "$t0") s"
		check "second job completed" [ "$ok" = 0 ]
	else
		check "the Manager has the second job" false
	fi
}

# --- main -------------------------------------------------------------------

if [ -n "${E2E_REFERENCE_MANAGER:-}" ]; then
	echo "e2e: REFERENCE run with Flamenco's own Manager $E2E_REFERENCE_MANAGER"
else
	echo "e2e: Manager $MANAGER_BIN ($("$MANAGER_BIN" --version 2>&1 | head -1))"
fi
echo "e2e: add-on $FLAMENCO_ADDON_DIR, worker $FLAMENCO_WORKER_BIN, $("$BLENDER" -b --factory-startup --version 2>/dev/null | head -1)"
echo "e2e: work dir $RUN"
setup_blender
t0=$(now)
check "Blender builds the test scene (cube, camera, light, image texture)" make_scene
note "scene built in $(elapsed "$t0") s"
phase_copy
stop_all	# phase 2 starts its own Manager and Worker
if [ "${E2E_SHAMAN:-}" = 1 ]; then
	phase_shaman
else
	echo "== phase 2 (Shaman) skipped; set E2E_SHAMAN=1 to run it"
fi

echo "e2e: $((checks - failures)) of $checks checks passed"
[ "$failures" = 0 ]
