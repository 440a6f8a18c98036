#!/bin/sh
# Job dependencies in the web dashboard, in headless Chromium
# (tests/browser/test_jobdeps.py; set up as for smoke_browser.sh).
set -u
exec timeout -k 10 120 python3 "$(dirname "$0")/browser/test_jobdeps.py" "$1"
