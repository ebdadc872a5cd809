#!/bin/sh
# Builds {{file}}.wasm from app.py with componentize-py against the `nebula:pure/handler` world
# in wit/. `--stub-wasi` replaces every WASI import with a trapping stub, so the component
# imports nothing (print, open and time.time trap; ask the host for the time with a `now` read).
set -eu
cd "$(dirname "$0")"
python=${PYTHON:-python3}
if ! "$python" -c 'import componentize_py' 2>/dev/null; then
    echo "{{name}}: componentize-py is missing for $python: pip install componentize-py==0.25.1" >&2
    exit 1
fi
# `python -c` instead of the `componentize-py` script: works whatever PATH holds.
"$python" -c 'import sys; from componentize_py import script; sys.argv[0] = "componentize-py"; sys.exit(script())' \
    --wit-path wit --world nebula:pure/handler \
    componentize app --python-path . --stub-wasi --output {{file}}.wasm.tmp
mv {{file}}.wasm.tmp {{file}}.wasm
