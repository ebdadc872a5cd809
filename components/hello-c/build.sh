#!/bin/sh
# Builds the demo's C handler into target/guests/c/hello_c.wasm:
#   1. wit-bindgen's C generator writes the bindings of the `nebula:pure/handler` world, version 0.1.0 (wit/0.1.0/):
#      handler.h, handler.c and handler_component_type.o (the world's type metadata);
#   2. clang compiles a core wasm module (a reactor: no main) against wasi-libc;
#   3. `nebula-host componentize` turns it into a component, refusing any import.
# Needs clang and wasm-ld with wasi-libc (Debian: clang lld wasi-libc libclang-rt-dev-wasm32) and
# wit-bindgen 0.61 (`cargo install --locked wit-bindgen-cli@0.61.0`); scripts/setup.sh installs
# them. `nebula-host up --build` passes its own path in NEBULA_HOST; otherwise cargo runs the
# host of this repository.
set -eu
cd "$(dirname "$0")"
root=$(cd ../.. && pwd)
out="$root/target/guests/c"
gen="$out/hello-c"
mkdir -p "$gen"
wit-bindgen c "$root/wit/0.1.0" --world nebula:pure/handler --out-dir "$gen" >/dev/null
# 64 KiB of stack and 1 MiB of initial memory, as for the Rust handlers (components/.cargo).
clang --target=wasm32-wasi -O2 -mexec-model=reactor \
    -Wl,-z,stack-size=65536 -Wl,--initial-memory=1048576 \
    -I"$gen" -o "$gen/hello_c.core.wasm" \
    handler.c "$gen/handler.c" "$gen/handler_component_type.o"
if [ -n "${NEBULA_HOST:-}" ]; then
    "$NEBULA_HOST" componentize "$gen/hello_c.core.wasm" -o "$out/hello_c.wasm"
else
    # From the repository's root, so that cargo reads its settings there (components/.cargo
    # would build the host for wasm) and reuses the host the tests build.
    (cd "$root" && cargo run --quiet -p nebula-host -- \
        componentize "$gen/hello_c.core.wasm" -o "$out/hello_c.wasm")
fi
