#!/bin/bash
# container/build.sh: builds netfaultd's container image from this repository, offline.
#
#   container/build.sh [--tag NAME] [--build-dir DIR] [--aws-ip-ranges FILE] [--source URL]
#                      [--docker-format] [--export-rootfs DIR] [--quiet]
#
# 1. A release build of the daemon alone (meson, buildtype=release, no sanitizers) in DIR
#    (default build-container/ in the repository).
# 2. rootfs/: the stripped binary as /usr/sbin/netfaultd, exactly the shared libraries `ldd`
#    names for it (at the paths it names, the loader included), the state directory
#    /run/netfaultd (0700) and, with --aws-ip-ranges, that file as /etc/netfaultd/ip-ranges.json
#    (NETFAULTD_AWS_IP_RANGES points at it).
# 3. container/Containerfile, FROM scratch, built with buildah (or podman build) as an OCI image,
#    every timestamp set to the commit's time: the same commit gives the same image ID. Labels:
#    the daemon's own --version, the commit, its time, MIT. The OCI format has no HEALTHCHECK
#    (give `netfaultd --health` to the runtime: ECS healthCheck, --health-cmd); --docker-format
#    keeps the Containerfile's HEALTHCHECK for `docker run`, but a Docker-format config also
#    records the builder's random container ID, so that image's ID differs on every build (its
#    layer does not).
# Tag: localhost/netfaultd:VERSION unless --tag. The last line printed is "image TAG ID SIZE".
# --export-rootfs DIR also writes the image's root filesystem into DIR (the kernel lab runs it).
set -euo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
src=$(cd "$here/.." && pwd)
tag=
build_dir=$src/build-container
aws=
source_url=
export_dir=
quiet=0
format=oci

usage() { sed -n '2,18p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//'; }
die() { echo "build.sh: $*" >&2; exit 1; }
say() { [ "$quiet" = 1 ] || echo "build.sh: $*" >&2; }

while [ $# -gt 0 ]; do
    case $1 in
        --tag) tag=${2:?}; shift 2 ;;
        --build-dir) build_dir=${2:?}; shift 2 ;;
        --aws-ip-ranges) aws=${2:?}; shift 2 ;;
        --source) source_url=${2:?}; shift 2 ;;
        --export-rootfs) export_dir=${2:?}; shift 2 ;;
        --docker-format) format=docker; shift ;;
        --quiet|-q) quiet=1; shift ;;
        -h|--help) usage; exit 0 ;;
        *) usage >&2; die "unknown argument '$1'" ;;
    esac
done

if command -v buildah >/dev/null 2>&1; then
    builder=(buildah build)
elif command -v podman >/dev/null 2>&1; then
    builder=(podman build)
else
    die "neither buildah nor podman is installed (apt-get install buildah podman)"
fi
for t in meson ninja ldd strip; do
    command -v $t >/dev/null 2>&1 || die "$t is not installed (scripts/deps.sh build)"
done
[ -z "$aws" ] || [ -r "$aws" ] || die "--aws-ip-ranges $aws cannot be read"

# 1. The release binary.
if [ ! -f "$build_dir/build.ninja" ]; then
    say "configuring a release build in $build_dir"
    meson setup "$build_dir" "$src" --buildtype=release -Db_sanitize=none -Dwerror=true -Dlab=false >/dev/null
fi
ninja -C "$build_dir" netfaultd >/dev/null
bin=$build_dir/netfaultd
version=$("$bin" --version | awk '{print $2}')
[ -n "$version" ] || die "$bin --version printed no version"

# Everything that goes into the image comes from the commit: its time is every timestamp.
revision=$(git -C "$src" rev-parse HEAD 2>/dev/null || echo unknown)
[ -z "$(git -C "$src" status --porcelain --untracked-files=no 2>/dev/null)" ] || revision=$revision-dirty
epoch=${SOURCE_DATE_EPOCH:-$(git -C "$src" log -1 --format=%ct 2>/dev/null || echo 0)}
created=$(date -u -d "@$epoch" +%Y-%m-%dT%H:%M:%SZ)
[ -n "$source_url" ] || source_url=$(git -C "$src" config --get remote.origin.url 2>/dev/null || true)
[ -n "$source_url" ] || source_url="unset (container/build.sh --source URL)"
tag=${tag:-localhost/netfaultd:$version}

# 2. The root filesystem.
ctx=$build_dir/image-context
rm -rf "$ctx"
mkdir -p "$ctx/rootfs/usr/sbin"
install -m 0755 "$bin" "$ctx/rootfs/usr/sbin/netfaultd"
strip --strip-unneeded "$ctx/rootfs/usr/sbin/netfaultd"
libs=$(ldd "$bin" | awk '$2 == "=>" && $3 ~ /^\// { print $3 } $1 ~ /^\// { print $1 }')
[ -n "$libs" ] || die "ldd named no library for $bin"
for lib in $libs; do
    mkdir -p "$ctx/rootfs$(dirname "$lib")"
    cp -L "$lib" "$ctx/rootfs$lib"
    chmod 0755 "$ctx/rootfs$lib"
done
install -d -m 0700 "$ctx/rootfs/run/netfaultd"
aws_in_image=
if [ -n "$aws" ]; then
    install -D -m 0644 "$aws" "$ctx/rootfs/etc/netfaultd/ip-ranges.json"
    aws_in_image=/etc/netfaultd/ip-ranges.json
    say "baking $aws in as $aws_in_image (syncToken $(grep -o '"syncToken" *: *"[^"]*"' "$ctx/rootfs$aws_in_image" | sed 's/.*"\([^"]*\)"$/\1/'))"
fi
cp "$here/Containerfile" "$ctx/Containerfile"
find "$ctx" -exec touch -h -d "@$epoch" {} +

# 3. The image. (In the OCI format buildah warns that it drops the HEALTHCHECK: said above.)
say "building $tag (netfaultd $version, $revision)"
"${builder[@]}" --quiet --format "$format" --timestamp "$epoch" --iidfile "$ctx/iid" \
    --build-arg VERSION="$version" --build-arg REVISION="$revision" --build-arg CREATED="$created" \
    --build-arg SOURCE="$source_url" --build-arg AWS_IP_RANGES="$aws_in_image" \
    -t "$tag" -f "$ctx/Containerfile" "$ctx" 2> >(grep -v 'HEALTHCHECK is not supported for OCI' >&2) >/dev/null
id=$(cat "$ctx/iid")
size=$(podman image inspect --format '{{.Size}}' "$tag" 2>/dev/null ||
    buildah inspect --type image --format '{{.Size}}' "$tag" 2>/dev/null || echo "?")

if [ -n "$export_dir" ]; then
    command -v podman >/dev/null 2>&1 || die "--export-rootfs needs podman"
    mkdir -p "$export_dir"
    ctr=$(podman create --quiet "$tag")
    podman export "$ctr" | tar -x -C "$export_dir"
    podman rm -f -v "$ctr" >/dev/null
    say "root filesystem of $tag in $export_dir"
fi
echo "image $tag ${id#sha256:} $size"
