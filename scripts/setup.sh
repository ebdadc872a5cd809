#!/usr/bin/env bash
# Installs what building and testing Nebula needs on a fresh machine. Idempotent.
set -euo pipefail
cd "$(dirname "$0")/.."

# The toolchain file names the wasm target, but RUSTUP_AUTO_INSTALL=0 machines won't add it.
rustup target add wasm32-wasip2 >/dev/null

sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
apt_updated=""
apt_install() {
  if [ -z "$apt_updated" ]; then
    $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
    apt_updated=1
  fi
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends "$@" >/dev/null
}

# Handlers in C (components/hello-c, `nebula-host new c`): Debian's clang with its wasm32 target,
# wasm-ld, wasi-libc and compiler-rt's wasm32 builtins ...
if ! command -v clang >/dev/null 2>&1 || ! command -v wasm-ld >/dev/null 2>&1 ||
   [ ! -f /usr/lib/wasm32-wasi/libc.a ] || ! ls /usr/lib/llvm-*/lib/clang/*/lib/wasi/libclang_rt.builtins-wasm32.a >/dev/null 2>&1; then
  apt_install clang lld wasi-libc libclang-rt-dev-wasm32
fi
# ... and wit-bindgen's C generator, the version of the wit-bindgen crate the Rust guests use.
if [ "$(wit-bindgen --version 2>/dev/null | cut -d' ' -f2)" != "0.61.0" ]; then
  cargo install --quiet --locked wit-bindgen-cli@0.61.0 --no-default-features --features c
fi
# cargo-component: CI builds and serves a handler made with `cargo component build`
# (tests/integration/authoring.rs).
if [ "$(cargo component --version 2>/dev/null | cut -d' ' -f2)" != "0.21.1" ]; then
  cargo install --quiet --locked cargo-component@0.21.1
fi

# The browser test (tests/integration/browser.rs runs tests/browser/academemes.mjs): Debian's
# Chromium (a test tool's own browser download cannot work here), and playwright-core pinned by
# tests/browser/package-lock.json.
if [ ! -x /usr/bin/chromium ]; then
  apt_install chromium
fi
# The etcd store's tests and scripts/cluster.sh: Debian's etcd (server and etcdctl), HAProxy, and
# protoc with the well-known .proto files it imports (libprotobuf-dev, only "recommended" by
# protobuf-compiler), which the etcd-client crate's build runs on etcd's .proto files.
if ! command -v etcd >/dev/null 2>&1 || ! command -v haproxy >/dev/null 2>&1 ||
   ! command -v protoc >/dev/null 2>&1 || [ ! -f /usr/include/google/protobuf/descriptor.proto ]; then
  sudo=""
  [ "$(id -u)" -eq 0 ] || sudo="sudo"
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get update -qq >/dev/null
  $sudo env DEBIAN_FRONTEND=noninteractive apt-get install -y -qq --no-install-recommends \
    etcd-server etcd-client haproxy protobuf-compiler libprotobuf-dev >/dev/null
fi
if ! command -v npm >/dev/null 2>&1; then
  echo "setup.sh: Node.js 20 or later with npm is needed for the browser test (tests/browser)" >&2
  exit 1
fi
# `npm ci` when node_modules is missing or older than the lockfile (it reinstalls from scratch).
if [ ! -f tests/browser/node_modules/.package-lock.json ] ||
   [ tests/browser/package-lock.json -nt tests/browser/node_modules/.package-lock.json ]; then
  (cd tests/browser && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
fi

# Pure handlers in Python and JavaScript (docs/authoring.md; built by their `build` commands in
# manifests/academemes.toml and by tests/integration/polyglot.rs):
# componentize-py for components/quote-py, pinned by its requirements.txt ...
if ! command -v python3 >/dev/null 2>&1; then
  echo "setup.sh: Python 3.10 or later with pip is needed for components/quote-py" >&2
  exit 1
fi
want_cpy=$(sed -n 's/^componentize-py==//p' components/quote-py/requirements.txt)
have_cpy=$(python3 -c 'import importlib.metadata as m; print(m.version("componentize-py"))' 2>/dev/null || true)
if [ "$have_cpy" != "$want_cpy" ]; then
  PIP_ROOT_USER_ACTION=ignore python3 -m pip install --quiet --disable-pip-version-check \
    -r components/quote-py/requirements.txt
fi
# ... and ComponentizeJS for components/tagcloud-js, pinned by its package-lock.json.
if [ ! -f components/tagcloud-js/node_modules/.package-lock.json ] ||
   [ components/tagcloud-js/package-lock.json -nt components/tagcloud-js/node_modules/.package-lock.json ]; then
  (cd components/tagcloud-js && npm ci --no-audit --no-fund --loglevel=error >/dev/null)
fi
