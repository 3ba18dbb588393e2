#!/bin/sh
# Builds netfaultd (release) and starts it in the foreground with working defaults: the API on
# 127.0.0.1:9700, text logs on stderr. Extra arguments go to netfaultd (see --help).
# Needs root (or CAP_NET_ADMIN) to program traffic control.
set -eu
cd "$(dirname "$0")/.."
scripts/deps.sh build
[ -d build-release ] || meson setup build-release --buildtype=release -Dlab=false >/dev/null
ninja -C build-release netfaultd >/dev/null
SUDO=""; [ "$(id -u)" = 0 ] || SUDO=sudo
exec $SUDO build-release/netfaultd "$@"
