#!/bin/bash
# run-image.sh: the kernel lab's `image` scenario with the container image's own root filesystem.
#
#   run-image.sh --build-dir DIR [run.sh options, e.g. --keep -v]
#
# Builds the image with container/build.sh (release binary in DIR/container-release), exports its
# root filesystem and writes its environment (the image's ENV, as a runtime would pass it), then
# boots the lab once (run.sh) with them in the guest (/image, /lab/image.env) and runs only the
# scenario `image` (scenarios/92-image.sh): real delay and blackhole faults applied by the image's
# binary, reverted on SIGTERM to its PID 1, swept by PID 1 after kill -9 of the daemon. TAP on
# stdout; SKIPs without podman and buildah.
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src=$(cd "$here/../.." && pwd)
build_dir=
pass=()
while [ $# -gt 0 ]; do
    case $1 in
        --build-dir) build_dir=${2:-}; shift 2 ;;
        --build-dir=*) build_dir=${1#*=}; shift ;;
        --scenario|--scenario=*|--shell) echo "run-image.sh: runs the scenario 'image' only" >&2; exit 2 ;;
        *) pass+=("$1"); shift ;;
    esac
done
[ -n "$build_dir" ] && [ -d "$build_dir" ] || { sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//' >&2; exit 2; }
build_dir=$(cd "$build_dir" && pwd)
if ! command -v podman >/dev/null 2>&1 || ! command -v buildah >/dev/null 2>&1; then
    echo "1..0 # SKIP podman and buildah are needed to build the image (scripts/deps.sh test)"
    exit 0
fi

work=$(mktemp -d "$build_dir/lab-image.XXXXXX")
tag=localhost/netfaultd-lab-$$:latest
trap 'podman rmi -f "$tag" >/dev/null 2>&1; rm -rf "$work"' EXIT
trap 'exit 130' INT TERM
if ! "$src/container/build.sh" --quiet --tag "$tag" --build-dir "$build_dir/container-release" \
        --export-rootfs "$work/rootfs" >"$work/build.out" 2>&1; then
    echo "1..1"
    echo "not ok 1 - kernel lab (image): container/build.sh builds and exports the image"
    sed 's/^/# /' "$work/build.out"
    exit 1
fi
podman image inspect --format '{{range .Config.Env}}{{println .}}{{end}}' "$tag" | grep . >"$work/image.env"
entry=$(podman image inspect --format '{{json .Config.Entrypoint}}' "$tag")
if [ "$entry" != '["/usr/sbin/netfaultd"]' ]; then
    echo "1..1"
    echo "not ok 1 - kernel lab (image): the image's entry point is /usr/sbin/netfaultd (it is $entry; scenarios/92-image.sh runs that)"
    exit 1
fi
echo "# kernel lab (image): $(tail -n1 "$work/build.out")"
NETFAULTD_LAB_IMAGE=$work "$here/run.sh" --build-dir "$build_dir" --scenario image "${pass[@]}"
