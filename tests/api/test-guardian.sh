#!/bin/bash
# The guardian on this machine's kernel (which has ifb): netfaultd runs in a private network
# namespace, an object carrying our marks is planted (an ifb link named like ours with our
# alias), netfaultd is killed with SIGKILL, and the guardian must remove the object within 1 s.
# Once with the guardian as a child (systemd, sidecar) and once with netfaultd as PID 1 of its
# own PID namespace (a container), where PID 1 stays the guardian. Emits TAP; needs root.
set -u
BIN=${1:?usage: test-guardian.sh netfaultd}
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
cat >"$T/inner.sh" <<'INNER'
set -u
ip link set lo up
mode=$1
if [ "$mode" = pid1 ]; then
    unshare -p -f --mount-proc "$BIN" --listen 127.0.0.1:9700 --state-dir "$T/state-$mode" 2>"$T/log-$mode" &
else
    "$BIN" --listen 127.0.0.1:9700 --state-dir "$T/state-$mode" 2>"$T/log-$mode" &
fi
job=$!
for i in $(seq 50); do curl -s -o /dev/null localhost:9700/healthz && break; sleep 0.1; done
ip link add nfe99.1 type ifb && ip link set nfe99.1 alias netfaultd:planted:lo:egress
ip link show nfe99.1 >/dev/null 2>&1 && echo "planted"
# the daemon: the process named netfaultd (not the guardian) in this network namespace
me=$(readlink /proc/$$/ns/net)
d=$(for c in /proc/[0-9]*/comm; do
        p=${c%/comm}
        [ "$(cat $c 2>/dev/null)" = netfaultd ] && [ "$(readlink $p/ns/net 2>/dev/null)" = "$me" ] && echo ${p#/proc/}
    done | tail -n 1)
t0=$(date +%s%N)
kill -9 "$d"
gone=
for i in $(seq 100); do
    if ! ip link show nfe99.1 >/dev/null 2>&1; then gone=$(( ($(date +%s%N) - t0) / 1000000 )); break; fi
    sleep 0.02
done
echo "gone_ms=${gone:-never}"
# Never hang: whatever still runs here goes.
running() { [ -e /proc/$job ] && ! grep -q '^State:.*Z' /proc/$job/status 2>/dev/null; }
for i in $(seq 50); do running || break; sleep 0.1; done
kill -9 $job 2>/dev/null
wait
INNER
n=0; failed=0
for mode in child pid1; do
    out=$(T=$T BIN=$BIN unshare -n bash "$T/inner.sh" $mode 2>&1)
    ms=$(echo "$out" | sed -n 's/^gone_ms=//p')
    n=$((n+1))
    if echo "$out" | grep -q planted && [ "$ms" != never ] && [ -n "$ms" ] && [ "$ms" -lt 1000 ]; then
        echo "ok $n - guardian ($mode): after kill -9 the planted object is gone in $ms ms (want < 1000)"
    else
        failed=$((failed+1)); echo "not ok $n - guardian ($mode): planted object not removed within 1 s ($out)"
        sed 's/^/# /' "$T/log-$mode" | tail -5
    fi
    n=$((n+1))
    if grep -q guardian.swept "$T/log-$mode"; then echo "ok $n - guardian ($mode): the sweep is logged"
    else failed=$((failed+1)); echo "not ok $n - guardian ($mode): the sweep is logged"; fi
done
echo "1..$n"
[ $failed = 0 ]
