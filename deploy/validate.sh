#!/usr/bin/env bash
# Validates the Kubernetes manifests offline against the Kubernetes schemas (PyPI
# `kubernetes-validate`, which ships them; pinned here), and checks the ConfigMap holds the
# current manifests/academemes.toml. No cluster needed.
set -euo pipefail
cd "$(dirname "$0")/.."
want=1.37.0
have=$(python3 -c 'import importlib.metadata as m; print(m.version("kubernetes-validate"))' 2>/dev/null || true)
if [ "$have" != "$want" ]; then
  PIP_ROOT_USER_ACTION=ignore python3 -m pip install --quiet --disable-pip-version-check \
    "kubernetes-validate==$want"
fi
# Every resource file (the kustomization is kustomize's own kind, not in the schemas).
files=$(ls deploy/kubernetes/*.yaml | grep -v kustomization.yaml)
python3 -m kubernetes_validate --strict --quiet $files
deploy/render-configmap.sh
git diff --exit-code -- deploy/kubernetes/configmap.yaml || {
  echo "validate.sh: deploy/kubernetes/configmap.yaml is stale; run deploy/render-configmap.sh" >&2
  exit 1
}
echo "validate.sh: $(echo $files | wc -w) Kubernetes manifests valid"
