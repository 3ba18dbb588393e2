#!/bin/sh
# The Kubernetes manifests in deploy/kubernetes/ against the Kubernetes API schema (npm's
# kubernetes-models, installed into .cache/kubernetes-models by scripts/deps.sh test) and the
# DaemonSet rules of issue 12. SKIPs, saying why, where node or the package is missing. Emits TAP.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
MODS=$ROOT/.cache/kubernetes-models/node_modules
if ! command -v node >/dev/null 2>&1; then
  echo "1..0 # SKIP node is not installed (scripts/deps.sh test installs npm and the package where it can)"; exit 0
fi
if [ ! -d "$MODS/kubernetes-models" ] || [ ! -d "$MODS/yaml" ]; then
  echo "1..0 # SKIP kubernetes-models is not installed in .cache/kubernetes-models (scripts/deps.sh test; npm missing or offline)"; exit 0
fi
exec node "$ROOT/tests/deploy/validate-k8s.mjs" "$MODS" "$ROOT"/deploy/kubernetes/*.yaml
