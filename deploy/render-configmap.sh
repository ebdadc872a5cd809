#!/usr/bin/env bash
# Writes deploy/kubernetes/configmap.yaml from manifests/academemes.toml (CI runs this and fails
# if the file changed: the ConfigMap must serve the manifest the image was built with).
set -euo pipefail
cd "$(dirname "$0")/.."
python3 - <<'PY'
src = open("manifests/academemes.toml").read()
body = "".join("    " + l if l.strip() else "\n" for l in src.splitlines(True))
head = """# manifests/academemes.toml, as a ConfigMap (deploy/render-configmap.sh writes this file; CI
# checks it is up to date).
apiVersion: v1
kind: ConfigMap
metadata:
  name: academemes-manifest
data:
  academemes.toml: |
"""
open("deploy/kubernetes/configmap.yaml", "w").write(head + body)
PY
