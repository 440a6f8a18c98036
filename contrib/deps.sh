#!/bin/sh
# Installs the Debian packages the build and the tests need, but only when
# something is missing, so `make` stays fast once a machine is set up.
set -e

missing=""
need_pkg() {	# need_pkg <pkg-config module> <debian package>
	pkg-config --exists "$1" 2>/dev/null || missing="$missing $2"
}
need_cmd() {	# need_cmd <command> <debian package>
	command -v "$1" >/dev/null 2>&1 || missing="$missing $2"
}
need_file() {	# need_file <path> <debian package>
	[ -e "$1" ] || missing="$missing $2"
}

need_cmd cc gcc
need_cmd make make
need_cmd pkg-config pkg-config
need_pkg libmicrohttpd libmicrohttpd-dev
need_pkg jansson libjansson-dev
need_pkg sqlite3 libsqlite3-dev
need_pkg uuid uuid-dev
need_pkg libcrypt libcrypt-dev
# Last-rendered thumbnails: libjpeg-turbo's libjpeg API and libspng.
need_pkg libjpeg libjpeg62-turbo-dev
need_pkg spng libspng-dev
need_pkg libmosquitto libmosquitto-dev
# Declarative job types (OpenJD templates) are YAML.
need_pkg yaml-0.1 libyaml-dev
need_pkg check check
need_pkg libsubunit libsubunit-dev
need_pkg libcurl libcurl4-openssl-dev
need_file /usr/share/duktape/duktape.c duktape-dev
need_cmd clang-format clang-format
need_cmd curl curl
need_cmd jq jq
# The MQTT tests run a real broker.
need_cmd mosquitto mosquitto
need_cmd mosquitto_sub mosquitto-clients
need_cmd git git
# Node is only needed at build time, to fetch the JS libraries with npm ci.
need_cmd node nodejs
need_cmd npm npm

# Benchmarks drive the daemon with wrk.
if [ "${1:-}" = bench ]; then
	need_cmd wrk wrk
	need_cmd python3 python3
	need_cmd sqlite3 sqlite3
fi
# The dashboard's tests and benchmark drive a headless Chromium through
# chromedriver.
if [ "${1:-}" = browser ] || [ "${1:-}" = bench ]; then
	need_cmd chromium chromium
	need_cmd chromedriver chromium-driver
	need_cmd python3 python3
fi

# The end-to-end test (make e2e) runs the real Flamenco add-on in Debian's
# Blender, whose Python lacks the libraries that official Blender builds
# bundle (urllib3, requests, zstandard for compressed .blend files), and the
# real Worker, which renders with that Blender and makes videos with ffmpeg.
if [ "${1:-}" = e2e ]; then
	need_cmd blender blender
	need_cmd ffmpeg ffmpeg
	need_cmd python3 python3
	need_file /usr/lib/python3/dist-packages/urllib3 python3-urllib3
	need_file /usr/lib/python3/dist-packages/requests python3-requests
	need_file /usr/lib/python3/dist-packages/zstandard python3-zstandard
fi

# The API fuzz (make fuzz) runs Schemathesis from a virtualenv under build/.
if [ "${1:-}" = fuzz ]; then
	if ! command -v python3 >/dev/null 2>&1; then
		missing="$missing python3 python3-venv"
	elif ! python3 -c 'import ensurepip, venv' >/dev/null 2>&1; then
		missing="$missing python3-venv"	# Debian's python3 lacks ensurepip
	fi
fi

[ -z "$missing" ] && exit 0

echo "installing missing packages:$missing"
if [ "$(id -u)" = 0 ]; then
	SUDO=""
else
	SUDO="sudo"
fi
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq
# shellcheck disable=SC2086
$SUDO apt-get install -y -qq --no-install-recommends $missing
