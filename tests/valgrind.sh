#!/bin/sh
# Runs Check binaries under valgrind (memcheck, full leak check), JOBS at a
# time, each suite in one process (CK_FORK=no) so leaks and threads left
# behind are seen. Each suite's output goes to DIR/<suite>.log; a failing
# suite's log is printed at the end. Usage: valgrind.sh DIR JOBS BIN...
#
# In this mode the test helpers share one job compiler between the servers
# a suite starts (FM_TEST_KEEP_COMPILER, tests/testutil.c), safety time
# limits are stretched (FM_TEST_TIME_SCALE) and speed checks are skipped
# (Check tag "speed"): valgrind runs code 20-50 times slower.
set -u
dir=$1
jobs=$2
shift 2
mkdir -p "$dir"
rm -f "$dir"/*.log "$dir"/*.result
start=$(date +%s)
for t in "$@"; do echo "$t"; done | xargs -P "$jobs" -I{} sh -c '
	t={}; name=$(basename "$t"); s=$(date +%s)
	CK_FORK=no CK_EXCLUDE_TAGS=speed FM_TEST_KEEP_COMPILER=1 \
	    FM_TEST_TIME_SCALE=20 valgrind -q --error-exitcode=1 \
	    --leak-check=full "$t" > "$0/$name.log" 2>&1
	rc=$?
	r=ok; [ $rc -eq 0 ] || r=FAILED
	echo "$name $r $(( $(date +%s) - s ))s" | tee "$0/$name.result"
' "$dir"
failed=0
for t in "$@"; do
	name=$(basename "$t")
	if ! grep -q " ok " "$dir/$name.result" 2>/dev/null; then
		failed=$((failed + 1))
		echo "== $name"
		grep -v '^[0-9-]*T[0-9:.]*Z ' "$dir/$name.log" | head -60
	fi
done
echo "valgrind: $# suites, $failed failed, $(( $(date +%s) - start ))s"
[ "$failed" -eq 0 ]
