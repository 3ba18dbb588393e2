#!/bin/sh
# Installs what netfaultd needs from Debian 12's archive. `deps.sh build` for building and
# running the daemon; `deps.sh test` adds what the test suites use (curl, python3 for the summary,
# qemu + busybox + cpio + iperf3 + ping for the real-kernel lab, podman + buildah + runc for the
# container image, python3-botocore for the ECS task definitions); `deps.sh bench` adds what
# bench/run.sh uses (wrk, and gnuplot-nox for report.py's SVG charts). Idempotent and quiet when
# everything is present.
set -eu
BUILD="gcc meson ninja-build pkg-config libnl-3-dev libnl-route-3-dev libmnl-dev libevent-dev libcjson-dev libssl-dev libcurl4-openssl-dev"
TEST="curl openssl prometheus iproute2 python3 qemu-system-x86 busybox-static cpio iperf3 iputils-ping procps clang libclang-rt-14-dev util-linux systemd podman buildah runc python3-botocore"
BENCH="curl python3 wrk gnuplot-nox"
pkgs=$BUILD
[ "${1:-build}" = test ] && pkgs="$BUILD $TEST"
[ "${1:-build}" = bench ] && pkgs="$BUILD $BENCH"
missing=""
for p in $pkgs; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing="$missing $p"
done
# redocly lints the OpenAPI file in the test suite; it comes from npm where npm exists.
if [ "${1:-build}" = test ] && command -v npm >/dev/null 2>&1 && [ ! -x .cache/redocly/node_modules/.bin/redocly ]; then
  mkdir -p .cache/redocly
  npm install --silent --no-audit --no-fund --prefix .cache/redocly @redocly/cli >/dev/null 2>&1 || echo "deps: npm install @redocly/cli failed; the lint will be skipped" >&2
fi
# kubernetes-models validates deploy/kubernetes/ against the Kubernetes API schema (no cluster).
if [ "${1:-build}" = test ] && command -v npm >/dev/null 2>&1 && [ ! -d .cache/kubernetes-models/node_modules/kubernetes-models ]; then
  mkdir -p .cache/kubernetes-models
  npm install --silent --no-audit --no-fund --prefix .cache/kubernetes-models kubernetes-models yaml >/dev/null 2>&1 || echo "deps: npm install kubernetes-models failed; the manifest test will be skipped" >&2
fi
[ -z "$missing" ] && exit 0
SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
echo "deps: installing$missing" >&2
export DEBIAN_FRONTEND=noninteractive
$SUDO apt-get update -qq >/dev/null
$SUDO apt-get install -y -qq --no-install-recommends $missing >/dev/null
