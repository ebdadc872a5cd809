#!/bin/sh
# Builds {{file}}.wasm from handler.c:
#   1. wit-bindgen's C generator writes the bindings of the `nebula:pure/handler` world in wit/
#      (handler.h, handler.c, and handler_component_type.o, the world's type metadata);
#   2. clang compiles a core wasm module (a reactor: no main) against wasi-libc;
#   3. `nebula-host componentize` turns it into a component, refusing any import.
# Needs clang and wasm-ld with wasi-libc (Debian: clang lld wasi-libc libclang-rt-dev-wasm32)
# and wit-bindgen (cargo install wit-bindgen-cli --version 0.61.0).
set -eu
cd "$(dirname "$0")"
mkdir -p build
wit-bindgen c wit --world nebula:pure/handler --out-dir build >/dev/null
# 64 KiB of stack and 1 MiB of initial memory, as for Rust handlers: a typical request then never
# grows memory.
clang --target=wasm32-wasi -O2 -mexec-model=reactor \
    -Wl,-z,stack-size=65536 -Wl,--initial-memory=1048576 \
    -Ibuild -o build/{{file}}.core.wasm \
    handler.c build/handler.c build/handler_component_type.o
"${NEBULA_HOST:-nebula-host}" componentize build/{{file}}.core.wasm -o {{file}}.wasm
