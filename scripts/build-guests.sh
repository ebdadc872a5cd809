#!/usr/bin/env bash
# Builds every guest component: the Rust ones (components/, a cargo workspace for wasm32-wasip2)
# and the Python, JavaScript and C handlers. Prints how long each took.
set -euo pipefail
cd "$(dirname "$0")/.."

timed() {
  local what=$1; shift
  local start=$SECONDS
  "$@"
  echo "build: $what took $((SECONDS - start))s"
}

# `--target-dir` as in the manifests: where they look, whatever CARGO_TARGET_DIR says.
timed "Rust guest components" sh -c 'cd components && cargo build --release --quiet --target-dir ../target/guests'
timed "Python handler (componentize-py)" sh components/quote-py/build.sh
timed "JavaScript handler (componentize-js)" sh components/tagcloud-js/build.sh
timed "C handler (clang, wit-bindgen, nebula-host componentize)" sh components/hello-c/build.sh
