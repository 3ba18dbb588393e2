#!/bin/sh
# lab-explicit
# image (issue 13): the container image's own root filesystem, exported from the image that
# container/build.sh built (tests/lab/run-image.sh puts it in /image and its environment in
# /lab/image.env), run the way a container runtime runs it: in `task`, as PID 1 of a PID
# namespace of its own, chrooted into /image, with exactly the image's environment and entry
# point (its release binary and its libraries, nothing from the lab's tree):
#  - PID 1 is the guardian, the daemon its child; the image's `netfaultd --health` passes;
#  - a 100 ms delay toward 10.0.1.10 is measured (median +100 ± 15 ms) and a blackhole of
#    10.0.1.11 drops every ping, while 10.0.9.10 is untouched;
#  - SIGTERM to PID 1 (what `docker stop` and ECS send) reverts both and exits 0: the tc/link
#    state equals the state before;
#  - a second run: kill -9 of the daemon inside, PID 1 sweeps the delay within 1 s.
. /lab/lib.sh
R=/image
if [ ! -x $R/usr/sbin/netfaultd ] || [ ! -f /lab/image.env ]; then
    tap_fail "image: the image's root filesystem is in the guest (run it with tests/lab/run-image.sh)"
    exit 0
fi
mkdir -p $R/proc $R/dev
ENV=$(grep -v '^ *$' /lab/image.env | tr '\n' ' ')
tap_diag "image: environment $ENV"
state_dump "$WORK/before"

# img_start: the image's entry point as PID 1 of a new PID and mount namespace in `task`, with
# /proc and /dev mounted as a runtime would; sets IMG (the host-side pid of the unshare
# process), P1 and D (its PID 1 and the daemon, as this namespace sees them).
img_start() {
    $IP netns exec task unshare -p -f -m sh -c \
        "mount -t proc proc $R/proc && mount --bind /dev $R/dev && exec env -i $ENV chroot $R /usr/sbin/netfaultd" \
        >"$WORK/image.log" 2>&1 &
    IMG=$!
    echo "$IMG" >>/run/netfaultd.pids
    local i=0
    P1= D=
    while [ $i -lt 100 ]; do
        P1=$(awk '{print $1}' /proc/$IMG/task/$IMG/children 2>/dev/null)
        [ -n "$P1" ] && D=$(awk '{print $1}' /proc/$P1/task/$P1/children 2>/dev/null)
        if [ -n "$D" ] && img_health_quiet; then return 0; fi
        sleep 0.1
        i=$((i + 1))
    done
    tap_fail "image: the image's netfaultd starts and its --health passes within 10 s"
    tap_diag_file "image log" "$WORK/image.log"
    return 1
}
# the image's own health check, in the image's root and environment
img_health() { t env -i $ENV chroot $R /usr/sbin/netfaultd --health; }
img_health_quiet() { img_health >/dev/null 2>&1; }

if img_start; then
    tap_eq "image: PID 1 of the container is the guardian" "$(cat /proc/$P1/comm)" netfaultd-guard
    tap_eq "image: the daemon is its child" "$(cat /proc/$D/comm)" netfaultd
    h=$(img_health)
    tap_check "image: the image's netfaultd --health passes ($(echo "$h" | cut -c1-60)...)" img_health_quiet
    tap_check "image: the daemon runs the image's binary ($R/usr/sbin/netfaultd), not the lab's" \
        cmp -s /proc/$D/exe $R/usr/sbin/netfaultd
    base_t=$(median_rtt 10.0.1.10 50 0.01)
    base_u=$(median_rtt 10.0.9.10 30 0.01)
    tap_diag "image: baseline median RTT 10.0.1.10 $base_t ms, 10.0.9.10 $base_u ms"
    if nf_create "image: delay" '{"targets":["10.0.1.10/32"],"delay":{"ms":100}}'; then
        tap_ok "image: POST delay 100 ms toward 10.0.1.10 -> 201"
        m=$(median_rtt 10.0.1.10 60 0.01)
        tap_near "image: median RTT to 10.0.1.10 +" "$(fsub "$m" "$base_t")" 100 15 " ms"
    fi
    if nf_create "image: blackhole" '{"targets":["10.0.1.11"],"blackhole":true}'; then
        tap_ok "image: POST blackhole of 10.0.1.11 -> 201"
        ping_probe 10.0.1.11 30 0.02
        tap_eq "image: replies from blackholed 10.0.1.11 of $P_SENT" "$P_RECV" 0
    fi
    ping_probe 10.0.9.10 30 0.02
    tap_eq "image: replies from untargeted 10.0.9.10 of $P_SENT" "$P_RECV" 30
    m=$(median_rtt 10.0.9.10 30 0.01)
    tap_below "image: untargeted 10.0.9.10 median RTT" "$m" "$(fadd "$base_u" 10)" " ms"

    # What docker stop / ECS StopTask do: SIGTERM to PID 1, which forwards it to the daemon.
    t0=$(now_ms)
    kill -TERM "$P1"
    wait "$IMG"
    rc=$?
    ms=$(($(now_ms) - t0))
    tap_eq "image: SIGTERM to PID 1: the container exits 0 (in $ms ms)" "$rc" 0
    tap_below "image: ... within" "$ms" 2000 " ms"
    tap_check "image: ... and its log says it reverted both faults" grep -q '"reverted 2 fault(s)"' "$WORK/image.log"
    state_same "image: after SIGTERM the tc/link state equals the state before" "$WORK/before"
    ping_probe 10.0.1.11 10 0.01
    tap_eq "image: after SIGTERM, replies from 10.0.1.11 of 10" "$P_RECV" 10
fi

# A crash of the daemon: PID 1 (the guardian) sweeps the faults on the real kernel.
if img_start; then
    if nf_create "image: delay (crash)" '{"targets":["10.0.1.10/32"],"delay":{"ms":100}}'; then
        kill -9 "$D"
        t0=$(now_ms)
        ms=
        while [ $(($(now_ms) - t0)) -lt 3000 ]; do
            t $TC qdisc show dev eth0 | grep -q clsact || { ms=$(($(now_ms) - t0)); break; }
        done
        tap_below "image: kill -9 of the daemon: PID 1 removed the fault in" "${ms:-}" 1000 " ms"
        wait "$IMG"
        rc=$?
        tap_eq "image: ... PID 1 exits 128+9 after its sweep" "$rc" 137
        tap_check "image: ... its log shows guardian.swept" grep -q guardian.swept "$WORK/image.log"
        state_same "image: after the crash the tc/link state equals the state before" "$WORK/before"
    else
        kill -TERM "$P1"
        wait "$IMG"
    fi
fi
