#!/bin/bash
# stress.sh: the kernel-lockup stress command (issue 9). Not part of the test suite.
#
#   stress.sh --build-dir DIR [--cycles N] [--hogs N] [--grace S] [--no-pin] [--netfaultd PATH]
#
# Boots the lab with the "stress" scenario (scenarios/99-stress.sh: create/delete cycles of three
# faults, expiry, leases, SIGTERM, SIGKILL with the guardian sweeping, resume, with ping and
# iperf3 flowing through the faults) while N busy loops (default 1) load the host's CPUs beside
# qemu. When the guest's kernel reports a soft lockup, hung task, RCU stall, BUG or WARNING, the
# guest is given S seconds (default 45) to print its traces, then killed and booted again, until
# N cycles (default 20000) have run. Prints the cycles, the lockups and their rate per 1,000
# cycles; every kernel log with trouble is kept in DIR/meson-logs/stress/. --no-pin boots the
# guest without the lab's clsact on lab-keys (guest/init), so that netfaultd's clsact toggles the
# kernel's tc static keys: that reproduces qemu TCG's stale-int3 lockup (tests/lab/README.md).
set -u
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
build_dir= target=20000 hogs=1 grace=45 pin=1 nfbin=()
while [ $# -gt 0 ]; do
    case $1 in
        --build-dir) build_dir=$2; shift 2 ;;
        --cycles) target=$2; shift 2 ;;
        --hogs) hogs=$2; shift 2 ;;
        --grace) grace=$2; shift 2 ;;
        --no-pin) pin=0; shift ;;
        --netfaultd) nfbin=(--netfaultd "$2"); shift 2 ;;
        *) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 2 ;;
    esac
done
[ -d "$build_dir" ] || { echo "stress.sh: --build-dir DIR is needed" >&2; exit 2; }
build_dir=$(cd "$build_dir" && pwd)
out=$build_dir/meson-logs/stress/$(date +%Y%m%d-%H%M%S)
mkdir -p "$out"
KLOG_BAD='soft lockup|hard LOCKUP|blocked for more than|detected stall|rcu_.* self-detected|BUG:|WARNING:|Oops|general protection|unregister_netdevice: waiting|Kernel panic'

hog_pids=()
for ((i = 0; i < hogs; i++)); do
    (while :; do :; done) &
    hog_pids+=($!)
done
trap 'kill "${hog_pids[@]}" 2>/dev/null; [ -n "${run_pid:-}" ] && kill "$run_pid" 2>/dev/null' EXIT
trap 'exit 130' INT TERM

done_cycles=0 boots=0 troubles=0 t0=$(date +%s)
while [ "$done_cycles" -lt "$target" ]; do
    boots=$((boots + 1))
    klog=$out/kernel-$boots.log
    tap=$out/tap-$boots.txt
    left=$((target - done_cycles))
    NETFAULTD_LAB_KERNEL_LOG=$klog NETFAULTD_LAB_APPEND="nf.stress_cycles=$left nf.stress_every=${STRESS_EVERY:-300} nf.pin_keys=$pin ${NETFAULTD_LAB_APPEND:-}" \
        "$here/run.sh" --build-dir "$build_dir" --scenario stress --timeout 86400 "${nfbin[@]}" >"$tap" 2>"$out/run-$boots.err" &
    run_pid=$!
    trouble=0
    while kill -0 "$run_pid" 2>/dev/null; do
        sleep 2
        if [ "$trouble" = 0 ] && [ -f "$klog" ] && grep -Eq "$KLOG_BAD" "$klog"; then
            trouble=1
            echo "stress.sh: boot $boots: the kernel reported trouble; $grace s for its traces"
            grep -Em3 "$KLOG_BAD" "$klog" | sed 's/^/  /'
            sleep "$grace"
            kill "$run_pid" 2>/dev/null
        fi
    done
    wait "$run_pid"
    run_pid=
    n=$(grep -o 'stress: [0-9]* cycles' "$tap" | tail -n1 | grep -o '[0-9]*')
    n=${n:-0}
    done_cycles=$((done_cycles + n))
    if [ "$trouble" = 1 ] || grep -Eq "$KLOG_BAD" "$klog" 2>/dev/null; then
        troubles=$((troubles + 1))
        echo "stress.sh: boot $boots: trouble after about $n cycles (total $done_cycles); kernel log kept: $klog"
    else
        rm -f "$klog"
        echo "stress.sh: boot $boots: $n cycles, kernel log clean (total $done_cycles)"
        grep -q '^not ok' "$tap" && { echo "stress.sh: boot $boots failed:"; grep -E '^not ok|^# ' "$tap" | tail -n 20; }
        [ "$n" -gt 0 ] || { echo "stress.sh: no progress in boot $boots; stopping"; break; }
    fi
done
secs=$(($(date +%s) - t0))
rate=$(awk -v t="$troubles" -v c="$done_cycles" 'BEGIN{ if (c > 0) printf "%.2f", 1000 * t / c; else print "n/a" }')
echo "stress.sh: $done_cycles cycles in $boots boot(s), $secs s wall, $hogs host CPU hog(s), static keys $([ "$pin" = 1 ] && echo pinned || echo "not pinned"): $troubles with kernel trouble ($rate per 1,000 cycles)"
echo "stress.sh: logs in $out"
[ "$troubles" = 0 ] && [ "$done_cycles" -ge "$target" ]
