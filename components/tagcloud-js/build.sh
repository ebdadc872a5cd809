#!/bin/sh
# Builds the tag cloud handler (JavaScript): see build.mjs. Needs Node 20+ and `npm ci` in this
# folder (scripts/setup.sh does both checks and the install).
set -eu
cd "$(dirname "$0")"
if [ ! -d node_modules/@bytecodealliance/componentize-js ]; then
    echo "tagcloud-js: node_modules is missing; run scripts/setup.sh (or npm ci here)" >&2
    exit 1
fi
exec node build.mjs
