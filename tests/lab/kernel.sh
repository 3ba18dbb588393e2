#!/bin/sh
# kernel.sh CACHE_DIR
# Fetch Debian's cloud kernel (not installed: unpacked) and leave
#   CACHE_DIR/vmlinuz and CACHE_DIR/modules/*.ko
# for the kernel lab. Idempotent: a complete cache is left as it is.
set -eu

die() { echo "kernel.sh: $*" >&2; exit 1; }

[ $# -eq 1 ] || die "usage: kernel.sh CACHE_DIR"
cache=$1
mkdir -p "$cache"
cache=$(cd "$cache" && pwd)

# Modules the lab loads; the first group is mandatory.
REQUIRED="sch_netem sch_prio sch_ingress cls_u32 cls_flower act_gact act_mirred ifb veth sch_tbf sch_htb cls_flow"
OPTIONAL="cls_matchall"

cache_complete() {
    [ -s "$cache/vmlinuz" ] || return 1
    [ -f "$cache/modules/.complete" ] || return 1
    for m in $REQUIRED; do
        [ -s "$cache/modules/$m.ko" ] || return 1
    done
    return 0
}

if cache_complete; then
    exit 0
fi

command -v apt-cache >/dev/null || die "apt-cache not found (Debian host required)"
command -v dpkg >/dev/null || die "dpkg not found"

find_pkg() {
    apt-cache depends linux-image-cloud-amd64 2>/dev/null |
        sed -n 's/^ *Depends: \(linux-image-[0-9][^ ]*-cloud-amd64\)$/\1/p' | head -n1
}

pkg=$(find_pkg)
if [ -z "$pkg" ]; then
    echo "kernel.sh: apt-cache knows no linux-image-cloud-amd64; running apt-get update" >&2
    apt-get update -qq >&2 || die "apt-get update failed"
    pkg=$(find_pkg)
fi
[ -n "$pkg" ] || die "cannot resolve linux-image-cloud-amd64 to a versioned kernel package"

work="$cache/work"
rm -rf "$work"
mkdir -p "$work"
deb=$(ls "$cache"/"$pkg"_*.deb 2>/dev/null | head -n1 || true)
if [ -z "$deb" ]; then
    echo "kernel.sh: downloading $pkg" >&2
    # apt-get download writes into the current directory; as root it warns
    # that the _apt sandbox cannot be used, which is harmless here.
    (cd "$cache" && apt-get download -qq "$pkg" >&2 2>/dev/null) ||
        (cd "$cache" && apt-get download "$pkg" >&2) ||
        die "apt-get download $pkg failed"
    deb=$(ls "$cache"/"$pkg"_*.deb 2>/dev/null | head -n1 || true)
fi
[ -n "$deb" ] || die "no .deb for $pkg in $cache"

echo "kernel.sh: unpacking $(basename "$deb")" >&2
dpkg -x "$deb" "$work/root"

vmlinuz=$(ls "$work"/root/boot/vmlinuz-* 2>/dev/null | head -n1 || true)
[ -n "$vmlinuz" ] || die "no boot/vmlinuz-* in $deb"
moddir=$(ls -d "$work"/root/lib/modules/* "$work"/root/usr/lib/modules/* 2>/dev/null | head -n1 || true)
[ -n "$moddir" ] || die "no lib/modules/* in $deb"

rm -rf "$cache/modules"
mkdir -p "$cache/modules"

# The "depends=" entry of a module's .modinfo section (what `modinfo -F
# depends` prints); read directly so that kmod need not be installed.
module_depends() {
    if command -v modinfo >/dev/null 2>&1; then
        modinfo -F depends "$1" 2>/dev/null && return 0
    fi
    tr '\000' '\n' <"$1" | sed -n 's/^depends=//p' | head -n1
}

# Copy a module and, recursively, every module it depends on.
# Debian's modules may be compressed (.ko.xz/.ko.zst) in newer releases;
# the lab's insmod (busybox) wants plain .ko, so decompress if needed.
copy_module() {
    name=$1
    [ -e "$cache/modules/$name.ko" ] && return 0
    src=$(find "$moddir" -name "$name.ko" -o -name "$name.ko.xz" -o -name "$name.ko.zst" -o -name "$name.ko.gz" 2>/dev/null | head -n1)
    if [ -z "$src" ]; then
        # module names use '_' but files may use '-'
        alt=$(echo "$name" | tr '_' '-')
        src=$(find "$moddir" -name "$alt.ko" -o -name "$alt.ko.xz" -o -name "$alt.ko.zst" 2>/dev/null | head -n1)
    fi
    [ -n "$src" ] || return 1
    case $src in
        *.ko) cp "$src" "$cache/modules/$name.ko" ;;
        *.ko.xz) xz -dc "$src" >"$cache/modules/$name.ko" ;;
        *.ko.zst) zstd -dc "$src" >"$cache/modules/$name.ko" ;;
        *.ko.gz) gzip -dc "$src" >"$cache/modules/$name.ko" ;;
    esac
    deps=$(module_depends "$cache/modules/$name.ko")
    for d in $(echo "$deps" | tr ',' ' '); do
        copy_module "$d" || die "module $d (needed by $name) not found"
    done
    # load order: dependencies first
    echo "$name" >>"$cache/modules/order"
    return 0
}

: >"$cache/modules/order"
for m in $REQUIRED; do
    copy_module "$m" || die "module $m not found in $deb"
done
for m in $OPTIONAL; do
    copy_module "$m" || echo "kernel.sh: optional module $m not present; skipping" >&2
done

cp "$vmlinuz" "$cache/vmlinuz.tmp"
mv "$cache/vmlinuz.tmp" "$cache/vmlinuz"
basename "$vmlinuz" | sed 's/^vmlinuz-//' >"$cache/kernel-release"
rm -rf "$work"
touch "$cache/modules/.complete"
echo "kernel.sh: kernel $(cat "$cache/kernel-release") and $(ls "$cache"/modules/*.ko | wc -l) modules in $cache" >&2
