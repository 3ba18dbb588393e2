#!/bin/sh
# initramfs.sh OUT.cpio.gz NETFAULTD_BINARY [MODULES_DIR]
# Build the kernel lab's initramfs: busybox, the real iproute2/iputils/iperf3/
# curl binaries with their libraries, the netfaultd binary under test (netfaultctl and
# Prometheus when run.sh passes them), the lab's kernel modules, /init and the guest scripts
# and scenarios; with NETFAULTD_LAB_IMAGE, the container image's root filesystem as /image
# (run-image.sh).
# MODULES_DIR defaults to $NETFAULTD_LAB_CACHE/modules (see kernel.sh).
# NETFAULTD_BINARY may be "-" to build an image without the daemon.
set -eu

die() { echo "initramfs.sh: $*" >&2; exit 1; }

[ $# -ge 2 ] && [ $# -le 3 ] || die "usage: initramfs.sh OUT.cpio.gz NETFAULTD_BINARY [MODULES_DIR]"
out=$1
daemon=$2
moddir=${3:-${NETFAULTD_LAB_CACHE:-}/modules}
here=$(cd "$(dirname "$0")" && pwd)

command -v cpio >/dev/null || die "cpio is not installed (apt-get install cpio); without it the archive would be empty"
command -v gzip >/dev/null || die "gzip not found"
[ -d "$moddir" ] || die "no modules directory '$moddir' (run kernel.sh first)"
[ "$daemon" = "-" ] || [ -x "$daemon" ] || die "netfaultd binary '$daemon' is missing or not executable"

BUSYBOX=${BUSYBOX:-/bin/busybox}
[ -x "$BUSYBOX" ] || die "busybox-static not found at $BUSYBOX"
if ldd "$BUSYBOX" >/dev/null 2>&1; then
    die "$BUSYBOX is dynamically linked; install busybox-static"
fi

# Real tools: path on the host -> path in the guest (same path).
TOOLS="/usr/sbin/ip /usr/sbin/tc /usr/bin/ping /usr/bin/iperf3 /usr/bin/curl"
for t in $TOOLS; do
    [ -x "$t" ] || die "$t not found (needs iproute2, iputils-ping, iperf3, curl)"
done

stage=$(mktemp -d "${TMPDIR:-/tmp}/nflab-initramfs.XXXXXX")
trap 'rm -rf "$stage"' EXIT INT TERM

mkdir -p "$stage"/bin "$stage"/sbin "$stage"/usr/bin "$stage"/usr/sbin \
    "$stage"/lib64 "$stage"/lib/modules "$stage"/proc "$stage"/sys "$stage"/dev \
    "$stage"/tmp "$stage"/run "$stage"/var "$stage"/etc "$stage"/root \
    "$stage"/lab/scenarios "$stage"/srv/www
ln -s ../run "$stage"/var/run

# busybox and its applets. Real tools live in /usr/{s,}bin and are always
# called by full path (busybox's shell prefers its own applets).
cp "$BUSYBOX" "$stage"/bin/busybox
for applet in $("$BUSYBOX" --list); do
    case $applet in
        busybox) continue ;;
    esac
    [ -e "$stage/bin/$applet" ] || ln -s busybox "$stage/bin/$applet"
done
for applet in init halt poweroff reboot insmod modprobe; do
    ln -sf ../bin/busybox "$stage/sbin/$applet"
done

# Copy a file and every library that ldd lists for it, keeping paths.
copy_with_libs() {
    src=$1
    dst=${2:-$1}
    mkdir -p "$stage$(dirname "$dst")"
    if [ "$src" != "$stage$dst" ]; then
        cp -L "$src" "$stage$dst"
    fi
    chmod 755 "$stage$dst"
    ldd "$src" 2>/dev/null | while read -r a b c d; do
        case "$a $b $c" in
            *"=> /"*) lib=$c ;;
            /*) lib=$a ;;
            *) continue ;;
        esac
        [ -e "$lib" ] || continue
        if [ ! -e "$stage$lib" ]; then
            mkdir -p "$stage$(dirname "$lib")"
            cp -L "$lib" "$stage$lib"
        fi
    done
}

for t in $TOOLS; do
    copy_with_libs "$t"
done
if [ "$daemon" != "-" ]; then
    copy_with_libs "$daemon" /usr/bin/netfaultd
fi
# netfaultctl (libcurl's multi interface, its TLS and cJSON come with it through ldd): the
# ctl scenario drives several daemons with it. NETFAULTD_LAB_CTL is set by run.sh.
if [ -n "${NETFAULTD_LAB_CTL:-}" ]; then
    [ -x "$NETFAULTD_LAB_CTL" ] || die "netfaultctl '$NETFAULTD_LAB_CTL' is missing or not executable"
    copy_with_libs "$NETFAULTD_LAB_CTL" /usr/bin/netfaultctl
fi
# Debian's Prometheus server (Go, dynamically linked only to libc) for the metrics scenario,
# when run.sh found one on the host (NETFAULTD_LAB_PROMETHEUS); the scenario skips without it.
if [ -n "${NETFAULTD_LAB_PROMETHEUS:-}" ]; then
    copy_with_libs "$NETFAULTD_LAB_PROMETHEUS" /usr/bin/prometheus
fi
[ -e "$stage"/lib64/ld-linux-x86-64.so.2 ] || cp -L /lib64/ld-linux-x86-64.so.2 "$stage"/lib64/
# Debian's usrmerge layout: /lib -> usr/lib is not needed, ldd gave real paths.

# netem delay distribution tables (tc and the daemon look for them).
for d in /usr/lib/x86_64-linux-gnu/tc /usr/lib/tc /usr/lib64/tc; do
    if [ -d "$d" ]; then
        mkdir -p "$stage$d"
        cp "$d"/*.dist "$stage$d"/ 2>/dev/null || true
    fi
done
[ -d /etc/iproute2 ] && cp -r /etc/iproute2 "$stage"/etc/
[ -d /usr/share/iproute2 ] && mkdir -p "$stage"/usr/share && cp -r /usr/share/iproute2 "$stage"/usr/share/

# The UDP listener/probe (busybox's nc cannot do UDP).
cc=${CC:-cc}
if command -v "$cc" >/dev/null 2>&1; then
    "$cc" -O2 -static -o "$stage"/usr/bin/udpecho "$here"/guest/udpecho.c 2>/dev/null ||
        "$cc" -O2 -o "$stage"/usr/bin/udpecho "$here"/guest/udpecho.c ||
        die "cannot compile guest/udpecho.c"
    if ldd "$stage"/usr/bin/udpecho >/dev/null 2>&1; then
        copy_with_libs "$stage"/usr/bin/udpecho /usr/bin/udpecho
    fi
    # The lab's DNS responder (names scenario) and AWS's ip-ranges format excerpt.
    "$cc" -O2 -static -o "$stage"/usr/bin/dnsd "$here"/guest/dnsd.c 2>/dev/null ||
        "$cc" -O2 -o "$stage"/usr/bin/dnsd "$here"/guest/dnsd.c ||
        die "cannot compile guest/dnsd.c"
    # The guard scenario's service, whose health and error counter the test steers.
    "$cc" -O2 -static -o "$stage"/usr/bin/svcstub "$here"/guest/svcstub.c 2>/dev/null ||
        "$cc" -O2 -o "$stage"/usr/bin/svcstub "$here"/guest/svcstub.c ||
        die "cannot compile guest/svcstub.c"
else
    echo "initramfs.sh: no C compiler; the guest has no UDP listener" >&2
fi

# Kernel modules, in dependency order when kernel.sh recorded one.
cp "$moddir"/*.ko "$stage"/lib/modules/
if [ -f "$moddir"/order ]; then
    cp "$moddir"/order "$stage"/lib/modules/order
else
    (cd "$moddir" && ls *.ko | sed 's/\.ko$//') >"$stage"/lib/modules/order
fi

# Guest scripts and scenarios.
cp "$here"/guest/init "$stage"/init
chmod 755 "$stage"/init
for f in tap.sh lib.sh topology.sh; do
    cp "$here/guest/$f" "$stage/lab/$f"
done
cp "$here"/scenarios/*.sh "$stage"/lab/scenarios/
cp "$here"/../fixtures/aws-ip-ranges.json "$stage"/lab/aws-ip-ranges.json
chmod 755 "$stage"/lab/*.sh "$stage"/lab/scenarios/*.sh
echo "netfaultd kernel lab" >"$stage"/srv/www/index.html

# The container image's own root filesystem and environment, for the `image` scenario
# (tests/lab/run-image.sh sets NETFAULTD_LAB_IMAGE to a directory with rootfs/ and image.env).
if [ -n "${NETFAULTD_LAB_IMAGE:-}" ]; then
    [ -d "$NETFAULTD_LAB_IMAGE/rootfs" ] && [ -f "$NETFAULTD_LAB_IMAGE/image.env" ] ||
        die "NETFAULTD_LAB_IMAGE=$NETFAULTD_LAB_IMAGE has no rootfs/ and image.env"
    cp -a "$NETFAULTD_LAB_IMAGE/rootfs" "$stage"/image
    cp "$NETFAULTD_LAB_IMAGE/image.env" "$stage"/lab/image.env
fi

cat >"$stage"/etc/passwd <<'PW'
root:x:0:0:root:/root:/bin/sh
PW
cat >"$stage"/etc/group <<'GR'
root:x:0:
GR
cat >"$stage"/etc/hosts <<'HO'
127.0.0.1 localhost
::1 localhost
HO
echo "hosts: files" >"$stage"/etc/nsswitch.conf
# For the interactive shell (--shell): the real tools under their usual names
# (busybox's shell would otherwise run its own ip/tc/ping applets).
cat >"$stage"/etc/profile <<'PR'
export PATH=/usr/sbin:/usr/bin:/sbin:/bin
alias ip=/usr/sbin/ip tc=/usr/sbin/tc ping=/usr/bin/ping curl=/usr/bin/curl iperf3=/usr/bin/iperf3
alias task='/usr/sbin/ip netns exec task' peer='/usr/sbin/ip netns exec net'
PS1='lab# '
PR

# /dev/console must exist before devtmpfs is mounted, or /init starts
# without stdin/stdout. mknod needs root; /init also reopens the console.
mknod -m 600 "$stage"/dev/console c 5 1 2>/dev/null || true
mknod -m 666 "$stage"/dev/null c 1 3 2>/dev/null || true

mkdir -p "$(dirname "$out")"
(cd "$stage" && find . -print | cpio -o -H newc --quiet -R 0:0) | gzip -1 >"$out.tmp"
mv "$out.tmp" "$out"
