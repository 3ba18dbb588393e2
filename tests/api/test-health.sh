#!/bin/bash
# netfaultd --health, the container health check (no shell or curl in the image): it asks the
# daemon at --listen / NETFAULTD_LISTEN for /healthz and exits 0 only for a 200 with "status":"ok"
# within 2 s; 1 when nothing listens, for a server that never answers, for "degraded" (the
# guardian was killed), for port 0. Wildcard addresses are asked on loopback; unix: sockets too.
# Runs in a private network namespace. Emits TAP; needs root.
set -u
BIN=${1:?usage: test-health.sh netfaultd}
T=$(mktemp -d)
chmod 700 "$T"
trap 'rm -rf "$T"' EXIT
cat >"$T/inner.sh" <<'INNER'
set -u
ip link set lo up
n=0; failed=0
ok() { n=$((n+1)); echo "ok $n - $*"; }
fail() { n=$((n+1)); failed=$((failed+1)); echo "not ok $n - $*"; }
# expect DESC RC PATTERN -- ARGS...: runs netfaultd ARGS, wants exit RC and PATTERN on stdout
expect() {
    local desc=$1 want=$2 pat=$3 out rc
    shift 4
    out=$("$@" 2>&1); rc=$?
    if [ "$rc" = "$want" ] && printf '%s' "$out" | grep -q -- "$pat"; then ok "$desc (exit $rc: $out)"
    else fail "$desc (exit $rc, want $want with '$pat': $out)"; fi
}
daemon() { "$BIN" --state-dir "$T/state" "$@" 2>>"$T/log" & D=$!; }
up() { for i in $(seq 100); do "$BIN" --health "$@" >/dev/null 2>&1 && return 0; sleep 0.1; done; return 1; }
stop() { kill "$D" 2>/dev/null; wait "$D" 2>/dev/null; }

expect "nothing listens: unhealthy" 1 "unhealthy: cannot connect to 127.0.0.1:9700" -- "$BIN" --health
expect "port 0 names no port to ask" 1 "port 0" -- "$BIN" --health --listen 127.0.0.1:0

NETFAULTD_LISTEN=127.0.0.1:9711 daemon
up --listen 127.0.0.1:9711
expect "a running daemon: healthy, with its /healthz" 0 'healthy: netfaultd at 127.0.0.1:9711: {"status":"ok"' -- \
    env NETFAULTD_LISTEN=127.0.0.1:9711 "$BIN" --health
expect "--listen wins over NETFAULTD_LISTEN (as for the daemon)" 1 "unhealthy" -- \
    env NETFAULTD_LISTEN=127.0.0.1:9711 "$BIN" --health --listen 127.0.0.1:9712
# The guardian (the daemon's child named netfaultd-guard) killed: degraded for about a second.
g=$(for c in /proc/[0-9]*/comm; do p=${c%/comm}; [ "$(cat $c 2>/dev/null)" = netfaultd-guard ] &&
    [ "$(awk '/^PPid/ {print $2}' $p/status)" = "$D" ] && echo ${p#/proc/}; done | head -n1)
kill -9 "$g"
# The daemon restarts it a second later: ask until the answer is the degraded one (or give up).
for i in $(seq 20); do
    "$BIN" --health --listen 127.0.0.1:9711 | grep -q degraded && break
    sleep 0.02
done
expect "the guardian killed: unhealthy, with the daemon's reason" 1 "unhealthy: degraded: the guardian was killed" -- \
    "$BIN" --health --listen 127.0.0.1:9711
sleep 1.5
expect "the guardian restarted: healthy again" 0 "healthy" -- "$BIN" --health --listen 127.0.0.1:9711
stop

daemon --listen 0.0.0.0:9713 --insecure-no-auth
up --listen 127.0.0.1:9713
expect "a wildcard listen address (0.0.0.0) is asked on 127.0.0.1" 0 "healthy" -- "$BIN" --health --listen 0.0.0.0:9713
stop
daemon --listen '[::]:9714' --insecure-no-auth
up --listen '[::1]:9714'
expect "a wildcard listen address ([::]) is asked on ::1" 0 "healthy" -- "$BIN" --health --listen '[::]:9714'
stop
daemon --listen "unix:$T/api.sock"
up --listen "unix:$T/api.sock"
expect "a unix: socket" 0 "healthy: netfaultd at unix:" -- "$BIN" --health --listen "unix:$T/api.sock"
stop

# A server that accepts and never answers: unhealthy after the 2 s budget, not a hang.
python3 -c '
import socket, sys, time
s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
s.bind(("127.0.0.1", 9715)); s.listen(4)
open(sys.argv[1], "w").close()
c, _ = s.accept(); time.sleep(4)' "$T/listening" &
S=$!
for i in $(seq 100); do [ -e "$T/listening" ] && break; sleep 0.05; done
t0=$(date +%s%N)
expect "a server that never answers: unhealthy" 1 "no whole reply within 2000 ms" -- "$BIN" --health --listen 127.0.0.1:9715
ms=$(( ($(date +%s%N) - t0) / 1000000 ))
if [ "$ms" -ge 1900 ] && [ "$ms" -lt 3000 ]; then ok "... after $ms ms (the 2 s budget)"; else fail "... after $ms ms (want about 2000)"; fi
kill $S 2>/dev/null; wait $S 2>/dev/null
echo "1..$n"
[ $failed = 0 ]
INNER
T=$T BIN=$BIN unshare -n bash "$T/inner.sh"
