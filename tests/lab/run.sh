#!/bin/bash
# run.sh: the netfaultd kernel lab's host-side runner.
#
#   run.sh --build-dir DIR [--scenario NAME[,NAME...]] [--shell] [--keep]
#          [--timeout SECONDS] [--netfaultd PATH] [--netfaultctl PATH] [--verbose] [--kernel-log]
#
# Fetches Debian's cloud kernel (kernel.sh), builds an initramfs with the
# netfaultd binary from DIR/daemon/netfaultd (initramfs.sh), boots it ONCE
# under qemu (TCG) and relays the guest's TAP stream as a clean TAP stream on
# stdout. Exits non-zero on any failure. The guest has no network device:
# every packet stays inside the guest's own namespaces.
set -u

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
build_dir=
scenarios=${NETFAULTD_LAB_SCENARIOS:-all}
shell=0
keep=0
verbose=${NETFAULTD_LAB_VERBOSE:-0}
timeout_s=${NETFAULTD_LAB_TIMEOUT:-1400}
scenario_timeout=${NETFAULTD_LAB_SCENARIO_TIMEOUT:-240}
netfaultd=
netfaultctl=
klog=0
memory=${NETFAULTD_LAB_MEMORY:-}

usage() {
    sed -n '2,12p' "$0" | sed 's/^# \{0,1\}//'
}

while [ $# -gt 0 ]; do
    case $1 in
        --build-dir) build_dir=${2:-}; shift 2 ;;
        --build-dir=*) build_dir=${1#*=}; shift ;;
        --scenario) scenarios=${2:-}; shift 2 ;;
        --scenario=*) scenarios=${1#*=}; shift ;;
        --shell) shell=1; shift ;;
        --keep) keep=1; shift ;;
        --verbose|-v) verbose=1; shift ;;
        --kernel-log) klog=1; shift ;;
        --timeout) timeout_s=${2:-}; shift 2 ;;
        --timeout=*) timeout_s=${1#*=}; shift ;;
        --netfaultd) netfaultd=${2:-}; shift 2 ;;
        --netfaultd=*) netfaultd=${1#*=}; shift ;;
        --netfaultctl) netfaultctl=${2:-}; shift 2 ;;
        --netfaultctl=*) netfaultctl=${1#*=}; shift ;;
        -h|--help) usage; exit 0 ;;
        *) echo "run.sh: unknown argument '$1'" >&2; usage >&2; exit 2 ;;
    esac
done

# In TAP mode everything on stdout must be TAP; early failures are TAP too.
fail_early() {
    if [ "$shell" = 1 ]; then
        echo "run.sh: $*" >&2
    else
        echo "1..1"
        echo "not ok 1 - kernel lab set-up: $*"
    fi
    exit 1
}

[ -n "$build_dir" ] || { usage >&2; exit 2; }
[ -d "$build_dir" ] || fail_early "build dir '$build_dir' does not exist"
build_dir=$(cd "$build_dir" && pwd)
case $scenarios in
    ''|*[!a-z0-9,_-]*) fail_early "bad --scenario '$scenarios'" ;;
esac

QEMU=${QEMU:-qemu-system-x86_64}
command -v "$QEMU" >/dev/null 2>&1 ||
    fail_early "$QEMU not found: install qemu-system-x86 (apt-get install qemu-system-x86)"

cache=${NETFAULTD_LAB_CACHE:-$build_dir/lab-cache}
mkdir -p "$cache" || fail_early "cannot create cache dir $cache"
work=$(mktemp -d "$build_dir/lab-run.XXXXXX") || fail_early "cannot create a work dir in $build_dir"
qemu_pid=
cleanup() {
    [ -n "$qemu_pid" ] && kill "$qemu_pid" 2>/dev/null
    if [ "$keep" = 1 ]; then
        echo "run.sh: kept $work (initrd.gz, console.log)" >&2
    else
        rm -rf "$work"
    fi
}
# When anything failed, the console and the kernel's whole log are kept as CI artifacts.
artifacts=${NETFAULTD_LAB_ARTIFACTS:-$build_dir/meson-logs/lab}
keep_logs() {
    local dest
    dest=$artifacts/$(date +%Y%m%d-%H%M%S)-$$
    mkdir -p "$dest" && cp "$console_log" "$kernel_log" "$dest"/ 2>/dev/null &&
        echo "# kernel lab: console and kernel log kept in $dest"
}
# The kernel log's lines that mean trouble (the guest checks its ring buffer after every
# scenario; this also catches what a guest that hung could no longer report).
KLOG_BAD='soft lockup|hard LOCKUP|blocked for more than|detected stall|rcu_.* self-detected|BUG:|WARNING:|Oops|general protection|unregister_netdevice: waiting|Kernel panic'
trap cleanup EXIT
trap 'exit 130' INT TERM

t0=$(date +%s.%N)
elapsed() { awk -v a="$t0" -v b="$(date +%s.%N)" 'BEGIN{printf "%.1f", b-a}'; }

"$here/kernel.sh" "$cache" >&2 || fail_early "kernel.sh failed (see stderr)"

if [ -z "$netfaultd" ]; then
    netfaultd=$build_dir/daemon/netfaultd
    # an executable() in the root meson.build lands in the build root
    [ -x "$netfaultd" ] || [ ! -x "$build_dir/netfaultd" ] || netfaultd=$build_dir/netfaultd
fi
# meson passes the target relative to the build dir
case $netfaultd in
    /*) ;;
    *) [ -x "$netfaultd" ] || netfaultd=$build_dir/$netfaultd ;;
esac
daemon_arg=$netfaultd
no_daemon=
if [ ! -x "$netfaultd" ]; then
    # Still boot: the smoke scenario proves the lab, the daemon scenarios fail.
    daemon_arg=-
    no_daemon="no netfaultd binary at $netfaultd: daemon scenarios will fail"
fi
# netfaultctl (the ctl scenario) beside the daemon: BUILD/ctl/netfaultctl unless named.
[ -n "$netfaultctl" ] || netfaultctl=$build_dir/ctl/netfaultctl
case $netfaultctl in
    /*) ;;
    *) [ -x "$netfaultctl" ] || netfaultctl=$build_dir/$netfaultctl ;;
esac
[ -x "$netfaultctl" ] && export NETFAULTD_LAB_CTL=$netfaultctl
# A real Prometheus server (Debian's package, ~50 MB) for the metrics and guard scenarios, only
# when one of them runs and the host has one; the guest then gets more memory for its TSDB and
# Go heap.
prometheus=${NETFAULTD_LAB_PROMETHEUS_BIN:-/usr/bin/prometheus}
case ",$scenarios," in
    *,all,*|*,metrics,*|*,94-metrics,*|*,guard,*|*,96-guard,*)
        if [ -x "$prometheus" ]; then
            export NETFAULTD_LAB_PROMETHEUS=$prometheus
            memory=${memory:-1280}
        fi ;;
esac
memory=${memory:-768}
"$here/initramfs.sh" "$work/initrd.gz" "$daemon_arg" "$cache/modules" >&2 ||
    fail_early "initramfs.sh failed (see stderr)"
t_prep=$(elapsed)

# Kernel trouble is reported, never fatal: a soft lockup prints every CPU's backtrace and the
# guest goes on, so the scenario that caused it fails with the trace (see guest/init).
append="panic=-1 edd=off softlockup_panic=0 softlockup_all_cpu_backtrace=1 nf.scenarios=$scenarios nf.timeout=$scenario_timeout"
qemu_args=(-accel tcg -m "$memory" -smp 2 -no-reboot -nic none
    -kernel "$cache/vmlinuz" -initrd "$work/initrd.gz")

if [ "$shell" = 1 ]; then
    echo "run.sh: booting a lab shell (quit: exit the shell, or Ctrl-A x)" >&2
    "$QEMU" "${qemu_args[@]}" -nographic -append "console=ttyS0 loglevel=3 $append nf.shell=1 ${NETFAULTD_LAB_APPEND:-}"
    exit $?
fi
# The kernel's console is the second serial port, at full level, into kernel.log; the TAP
# stream has the first one to itself, so kernel messages never cut into a TAP line.
append="console=ttyS1 loglevel=7 nf.tap=ttyS0 $append ${NETFAULTD_LAB_APPEND:-}"

echo "# kernel lab: kernel $(cat "$cache/kernel-release" 2>/dev/null), prepared in ${t_prep} s, scenarios: $scenarios"
[ -z "$no_daemon" ] || echo "# WARNING: $no_daemon"

console_log=$work/console.log
kernel_log=${NETFAULTD_LAB_KERNEL_LOG:-$work/kernel.log}
: >"$console_log"
: >"$kernel_log"
fifo=$work/console.fifo
mkfifo "$fifo" || fail_early "mkfifo failed"

timeout -k 5 "$timeout_s" "$QEMU" "${qemu_args[@]}" -display none -monitor none \
    -serial stdio -serial "file:$kernel_log" -append "$append" </dev/null >"$fifo" 2>&1 &
qemu_pid=$!

# Relay: pick "NFTAP: " lines out of the console, number the tests, keep the
# whole console in console.log (kernel messages, shell noise).
n=0
fails=0
ended=0
bailed=0
boot_s=
while IFS= read -r line; do
    line=${line%$'\r'}
    printf '%s\n' "$line" >>"$console_log"
    case $line in
        *NFTAP-END*)
            ended=1
            continue
            ;;
        *"NFTAP: "*)
            tap=${line#*NFTAP: }
            ;;
        *)
            [ "$verbose" = 1 ] && printf 'console: %s\n' "$line" >&2
            continue
            ;;
    esac
    [ "$bailed" = 1 ] && continue
    case $tap in
        "ok - "*)
            n=$((n + 1))
            echo "ok $n - ${tap#ok - }"
            ;;
        "not ok - "*)
            n=$((n + 1))
            fails=$((fails + 1))
            echo "not ok $n - ${tap#not ok - }"
            ;;
        "Bail out!"*)
            bailed=1
            echo "$tap"
            ;;
        "#"*)
            case $tap in
                "# guest: topology up at "*) boot_s=${tap#\# guest: topology up at } ;;
            esac
            echo "$tap"
            ;;
        *)
            echo "# (unrecognized guest line) $tap"
            ;;
    esac
done <"$fifo"

wait "$qemu_pid"
qemu_rc=$?
qemu_pid=
total=$(elapsed)

if [ "$ended" != 1 ] && [ "$bailed" != 1 ]; then
    n=$((n + 1))
    fails=$((fails + 1))
    if [ "$qemu_rc" = 124 ] || [ "$qemu_rc" = 137 ]; then
        why="guest did not finish within ${timeout_s} s (qemu killed)"
    else
        why="guest stopped before the end of the suite (qemu exit $qemu_rc)"
    fi
    echo "not ok $n - kernel lab: $why"
    echo "# last console lines:"
    tail -n 30 "$console_log" | sed 's/^/#   /'
    if grep -Eq "$KLOG_BAD" "$kernel_log"; then
        echo "# the kernel reported trouble (first lines):"
        grep -E -A 25 "$KLOG_BAD" "$kernel_log" | head -n 80 | sed 's/^/#   klog: /'
    else
        echo "# last kernel log lines:"
        tail -n 15 "$kernel_log" | sed 's/^/#   klog: /'
    fi
    keep_logs
    echo "Bail out! $why"
    exit 1
fi
if [ "$bailed" = 1 ]; then
    echo "# last console lines:"
    tail -n 30 "$console_log" | sed 's/^/#   /'
    keep_logs
    exit 1
fi
[ "$klog" = 1 ] && { echo "run.sh: the guest kernel's log:" >&2; cat "$kernel_log" >&2; }

echo "# kernel lab: topology up ${boot_s:-?} after boot; whole run ${total} s wall; $fails of $n failed"
echo "1..$n"
[ "$fails" = 0 ] || keep_logs
[ "$fails" = 0 ] && [ "$n" -gt 0 ]
