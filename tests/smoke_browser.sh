#!/bin/sh
# The web dashboard in a real browser: tests/browser/test_dashboard.py runs
# the binary $1 and drives headless Chromium through chromedriver (both
# installed by `sh contrib/deps.sh browser`, which `make test` runs).
# Screenshots land in build/browser/. Bounded: the test stops itself after
# 150 s, and timeout(1) backs that up.
set -u
exec timeout -k 10 170 python3 "$(dirname "$0")/browser/test_dashboard.py" "$1"
