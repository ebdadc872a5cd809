#!/usr/bin/env bash
# Builds the Academemes container image `nebula-academemes:latest` without pulling any base image:
# FROM scratch + a static musl build of nebula-host + the built components + the manifest + a
# compile cache warmed by that binary (the first request needs no compilation).
#
#   deploy/build-image.sh            # builds the context in target/image/context, then the image
#                                    # with podman or buildah when one works here
#   IMAGE=registry/academemes:v1 deploy/build-image.sh
#
# A manual step, not part of CI: the musl release build alone takes most of an hour on 2 cores
# (deploy/README.md). deploy/test-image.sh then runs the image.
set -euo pipefail
cd "$(dirname "$0")/.."
image="${IMAGE:-nebula-academemes:latest}"
target=x86_64-unknown-linux-musl
ctx=target/image/context
host="target/$target/release/nebula-host"

rustup target add "$target" >/dev/null
cargo build --release --target "$target" -p nebula-host
# A static binary has no program interpreter and needs no shared library: `FROM scratch` has
# neither a loader nor a libc. (`file` says "static-pie linked" for musl's default.)
if readelf -lW "$host" | grep -q 'Requesting program interpreter' ||
  readelf -dW "$host" | grep -q '(NEEDED)'; then
  echo "build-image.sh: $host is not static:" >&2
  readelf -lW -dW "$host" | grep -E 'interpreter|NEEDED' >&2
  exit 1
fi
# The C handler's build runs `nebula-host componentize`: this binary does, not a debug build.
NEBULA_HOST="$PWD/$host" scripts/build-guests.sh

rm -rf "$ctx"
mkdir -p "$ctx/app/manifests" "$ctx/state/data" "$ctx/cache"
# Without the release profile's line tables (189 MB → about a sixth); symbols stay, so a panic's
# backtrace still names functions.
objcopy --strip-debug "$host" "$ctx/nebula-host"
cp manifests/academemes.toml "$ctx/app/manifests/"
# Components keep their paths relative to the manifest (../target/guests/…).
wasms=$(sed -n 's/^path = "\.\.\/\(target\/guests\/[^"]*\)"/\1/p' manifests/academemes.toml | sort -u)
for wasm in $wasms; do
  mkdir -p "$ctx/app/$(dirname "$wasm")"
  cp "$wasm" "$ctx/app/$wasm"
done
# Warm the compile cache with the binary the image runs, reading the manifest and components
# that the image holds. The cache key is the wasm's hash and the engine's compatibility hash
# (wasmtime version, compiler settings, this CPU's features, the manifest's memory limits), not
# a path, so the entries written here are the ones `up` looks up in /cache.
NEBULA_CACHE_DIR="$ctx/cache" "$ctx/nebula-host" check "$ctx/app/manifests/academemes.toml"
entries=$(find "$ctx/cache" -name '*.cwasm' | wc -l)
if [ "$entries" -ne "$(echo "$wasms" | wc -w)" ]; then
  echo "build-image.sh: the compile cache holds $entries entries for $(echo "$wasms" | wc -w) components" >&2
  exit 1
fi
cp deploy/Containerfile "$ctx/Containerfile"
echo "build-image.sh: context ready in $ctx ($(du -sh "$ctx" | cut -f1): nebula-host $(du -h "$ctx/nebula-host" | cut -f1), components $(du -sh "$ctx/app/target" | cut -f1), compile cache $(du -sh "$ctx/cache" | cut -f1))"

if command -v podman >/dev/null 2>&1 && podman build -t "$image" "$ctx"; then
  echo "build-image.sh: built $image with podman ($(podman image inspect --format '{{.Size}}' "$image") bytes)"
elif command -v buildah >/dev/null 2>&1 && buildah bud -t "$image" "$ctx"; then
  echo "build-image.sh: built $image with buildah"
else
  echo "build-image.sh: no working podman or buildah here; build the context with any OCI builder:" >&2
  echo "  podman build -t $image $ctx    # or: docker build -t $image $ctx" >&2
  exit 2
fi
