#!/bin/sh
# Keeps api/openapi.yaml in step with the route table: every served route
# must be described and every described path must be served.
set -eu
bin=$1
spec=$2
served=$(mktemp)
described=$(mktemp)
trap 'rm -f "$served" "$described"' EXIT
# A final "{name*}" (rest of the path) is "{name}" in OpenAPI.
"$bin" --dump-routes | sed 's/\*}/}/g' | sort -u > "$served"
# Path lines are indented two spaces and end in ":"; methods four spaces.
awk '
	/^  \/[^ ]*:$/ { path = substr($1, 1, length($1) - 1); next }
	/^  [^ ]/ { path = "" }
	/^    (get|put|post|delete|patch):/ && path != "" {
		m = toupper(substr($1, 1, length($1) - 1)); print m " " path
	}' "$spec" | sort -u > "$described"
if ! diff -u "$described" "$served" > /dev/null; then
	echo "check-spec: api/openapi.yaml and the route table differ" >&2
	echo "(- only in the spec, + only served)" >&2
	diff -u "$described" "$served" | grep '^[-+][A-Z]' >&2
	exit 1
fi
echo "check-spec: $(wc -l < "$served") routes match api/openapi.yaml"
