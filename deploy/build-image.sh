#!/usr/bin/env bash
# Builds the Academemes container image `nebula-academemes:latest` without pulling any base image:
# FROM scratch + a static musl build of nebula-host + the built components + the manifest + a
# compile cache warmed by that binary (the first request needs no compilation).
#
#   deploy/build-image.sh            # builds the context in target/image, then the image with
#                                    # podman or buildah when one works here
#   IMAGE=registry/academemes:v1 deploy/build-image.sh
set -euo pipefail
cd "$(dirname "$0")/.."
image="${IMAGE:-nebula-academemes:latest}"
target=x86_64-unknown-linux-musl
ctx=target/image/context

rustup target add "$target" >/dev/null
cargo build --release --target "$target" -p nebula-host
scripts/build-guests.sh

rm -rf "$ctx"
mkdir -p "$ctx/app/manifests" "$ctx/app/data" "$ctx/cache"
cp "target/$target/release/nebula-host" "$ctx/nebula-host"
cp manifests/academemes.toml "$ctx/app/manifests/"
# Components keep their paths relative to the manifest (../target/guests/…).
sed -n 's/^path = "\.\.\/\(target\/guests\/[^"]*\)"/\1/p' manifests/academemes.toml |
  while read -r wasm; do
    mkdir -p "$ctx/app/$(dirname "$wasm")"
    cp "$wasm" "$ctx/app/$wasm"
  done
# Warm the compile cache with the binary the image runs (the cache is keyed by engine settings).
NEBULA_CACHE_DIR="$ctx/cache" "$ctx/nebula-host" check "$ctx/app/manifests/academemes.toml"
cp deploy/Containerfile "$ctx/Containerfile"
file "$ctx/nebula-host" 2>/dev/null | grep -q "static" || ldd "$ctx/nebula-host" 2>&1 | grep -q "not a dynamic" || {
  echo "build-image.sh: $ctx/nebula-host is not static" >&2
  exit 1
}
echo "build-image.sh: context ready in $ctx ($(du -sh "$ctx" | cut -f1))"

if command -v podman >/dev/null 2>&1 && podman build -t "$image" "$ctx"; then
  echo "build-image.sh: built $image with podman"
elif command -v buildah >/dev/null 2>&1 && buildah bud -t "$image" "$ctx"; then
  echo "build-image.sh: built $image with buildah"
else
  echo "build-image.sh: no working podman or buildah here; build the context with any OCI builder:" >&2
  echo "  podman build -t $image $ctx    # or: docker build -t $image $ctx" >&2
  exit 2
fi
