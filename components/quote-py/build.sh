#!/bin/sh
# Builds the quote-of-the-day handler (Python) into target/guests/polyglot/quote_py.wasm:
# componentize-py against the `nebula:pure/handler` world, with `--stub-wasi` so that the
# component imports nothing (`nebula-host inspect` says "pure (imports nothing that can act)").
#
# Needs componentize-py 0.25.1 (scripts/setup.sh installs it from requirements.txt). Skips the
# build (about 40 s) when the output is newer than every input and was made by the same
# componentize-py: set NEBULA_FORCE_BUILD=1 to build anyway.
set -eu
cd "$(dirname "$0")"
root=$(cd ../.. && pwd)
out="$root/target/guests/polyglot/quote_py.wasm"
python=${PYTHON:-python3}
want=$(sed -n 's/^componentize-py==//p' requirements.txt)

have=$("$python" -c 'import importlib.metadata as m; print(m.version("componentize-py"))' 2>/dev/null || true)
if [ "$have" != "$want" ]; then
    echo "quote-py: needs componentize-py $want, found '${have:-none}' for $python; run scripts/setup.sh" >&2
    exit 1
fi

stamp="$out.inputs"
inputs=$(cat app.py quotes.py build.sh requirements.txt "$root/wit/0.1.0/pure.wit" | cksum)
inputs="componentize-py $have $inputs"
if [ -z "${NEBULA_FORCE_BUILD:-}" ] && [ -f "$out" ] && [ -f "$stamp" ] && [ "$(cat "$stamp")" = "$inputs" ]; then
    echo "quote-py: $out is up to date"
    exit 0
fi

mkdir -p "$(dirname "$out")"
rm -f "$stamp"
# `python -c` instead of the `componentize-py` script: works whatever PATH holds.
"$python" -c 'import sys; from componentize_py import script; sys.argv[0] = "componentize-py"; sys.exit(script())' \
    --wit-path "$root/wit/0.1.0" --world nebula:pure/handler \
    componentize app --python-path . --stub-wasi --output "$out.tmp"
mv "$out.tmp" "$out"
echo "$inputs" > "$stamp"
echo "quote-py: built $out ($(wc -c < "$out") bytes)"
