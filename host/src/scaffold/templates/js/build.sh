#!/bin/sh
# Installs the pinned ComponentizeJS (package-lock.json) the first time, then builds.
set -eu
cd "$(dirname "$0")"
if [ ! -d node_modules/@bytecodealliance/componentize-js ]; then
    npm ci --no-audit --no-fund --loglevel=error
fi
exec node build.mjs
