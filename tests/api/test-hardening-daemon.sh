#!/bin/bash
# Hardening of the daemon process (issue 11): the state directory (row 5), the journal's room
# (row 6), the guardian's death (row 7), the network-namespace lock (row 8), signals (row 13) and
# the capabilities the HTTP-facing process keeps. Each daemon runs in a network namespace of its
# own. Emits TAP; needs root (namespaces, tmpfs, setpriv).
set -u
BIN=${1:?usage: test-hardening-daemon.sh path/to/netfaultd}
T=$(mktemp -d)
chmod 0700 "$T"
n=0; failed=0
ok()   { n=$((n+1)); echo "ok $n - $*"; }
nok()  { n=$((n+1)); failed=$((failed+1)); echo "not ok $n - $*"; }
check() { local desc=$1; shift; if "$@"; then ok "$desc"; else nok "$desc"; fi; }
trap 'rm -rf "$T"' EXIT
if [ "$(id -u)" != 0 ]; then echo "1..0 # SKIP needs root"; exit 0; fi

# starts BIN with ARGS in a fresh network namespace, returns its exit code within 5 s (124: still running)
start_rc() { timeout 5 unshare -n "$BIN" --listen "unix:$T/x.sock" "$@" >"$T/out" 2>&1; echo $?; }

# --- row 5: a state directory others can write to, or that another user owns, is refused
mkdir -m 0777 "$T/ww"
rc=$(start_rc --state-dir "$T/ww")
check "a world-writable --state-dir is refused with exit 73 (got $rc)" [ "$rc" = 73 ]
check "... and the message says why" grep -q "writable by others" "$T/out"
check "... and nothing was created in it" [ -z "$(ls -A "$T/ww")" ]
mkdir -m 0700 "$T/theirs" && chown 65534:65534 "$T/theirs"
rc=$(start_rc --state-dir "$T/theirs")
check "a --state-dir owned by another user is refused with exit 73 (got $rc)" [ "$rc" = 73 ]
check "... and the message names the owner" grep -q "owned by uid 65534" "$T/out"
mkdir -m 0700 "$T/real" && ln -s "$T/real" "$T/link"
rc=$(start_rc --state-dir "$T/link")
check "a --state-dir that is a symbolic link is refused with exit 73 (got $rc)" [ "$rc" = 73 ]
# A FIFO record must not hang start-up (it held both locks forever).
mkdir -m 0700 "$T/fifo" && mkfifo "$T/fifo/fault-zz.json"
unshare -n "$BIN" --listen "unix:$T/fifo.sock" --state-dir "$T/fifo" 2>"$T/log-fifo" &
pid=$!
up=no
for i in $(seq 50); do curl -s -o /dev/null --unix-socket "$T/fifo.sock" http://nf/healthz && { up=yes; break; }; sleep 0.1; done
kill -9 $pid 2>/dev/null; wait $pid 2>/dev/null
check "a FIFO named like a record does not hang start-up (answering within 5 s: $up)" [ $up = yes ]
check "... it is moved aside" [ -p "$T/fifo/fault-zz.json.corrupt" ]

# --- row 6: a full state directory at start is refused, not discovered at the first fault
cat >"$T/full.sh" <<'FULL'
D=$1; shift
mount -t tmpfs -o size=16k,mode=0700 tmpfs "$D" || exit 99
dd if=/dev/zero of="$D/filler" bs=1k 2>/dev/null
timeout 5 unshare -n "$@" --state-dir "$D"
FULL
mkdir -m 0700 "$T/full"
unshare -m bash "$T/full.sh" "$T/full" "$BIN" --listen "unix:$T/x.sock" >"$T/out" 2>&1; rc=$?
check "a full --state-dir at start exits 73 (got $rc)" [ "$rc" = 73 ]
check "... naming the reason" grep -q "cannot write the journal.*No space left on device" "$T/out"

# --- row 8: an unprivileged user holding the namespace lock's name does not keep netfaultd from
# starting (and sweeping). Every way to hold it: the old datagram name, a stream socket that
# listens, one that only binds.
cat >"$T/squat.sh" <<'SQUAT'
ip link set lo up
# The system's python3 (a per-user one, e.g. under /root, is not reachable for uid 65534).
setpriv --reuid=65534 --regid=65534 --clear-groups /usr/bin/python3 -c "
import socket, sys, time
kind = sys.argv[1]
s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM if kind == 'dgram' else socket.SOCK_STREAM)
s.bind(b'\\0netfaultd')
if kind == 'listen': s.listen()
print('held', flush=True)
time.sleep(15)" "$3" &
sleep 0.5
"$1" --listen "unix:$2/sq.sock" --state-dir "$2/sq-$3" 2>"$2/log-sq-$3" &
pid=$!
for i in $(seq 80); do curl -s -o /dev/null --unix-socket "$2/sq.sock" http://nf/healthz && { echo up; break; }; sleep 0.1; done
kill $pid; wait $pid; echo "rc=$?"
kill %1
SQUAT
for kind in dgram listen bind; do
    out=$(unshare -n bash "$T/squat.sh" "$BIN" "$T" $kind 2>&1)
    check "with @netfaultd held by uid 65534 ($kind), netfaultd starts and stops cleanly ($(echo $out))" \
        sh -c "echo '$out' | grep -q held && echo '$out' | grep -q up && echo '$out' | grep -q rc=0"
    # (a datagram socket's name does not collide with our stream socket's: nothing to log then)
    [ $kind = dgram ] || check "... and logs the impostor" grep -q "netns_lock_squatted" "$T/log-sq-$kind"
done
# A netfaultd holding it still keeps a second one out (75), as before.
cat >"$T/twice.sh" <<'TWICE'
ip link set lo up
"$1" --listen "unix:$2/t1.sock" --state-dir "$2/t1" 2>/dev/null &
pid=$!
for i in $(seq 50); do curl -s -o /dev/null --unix-socket "$2/t1.sock" http://nf/healthz && break; sleep 0.1; done
"$1" --listen "unix:$2/t2.sock" --state-dir "$2/t2" 2>/dev/null; echo "rc=$?"
kill $pid; wait $pid
TWICE
out=$(unshare -n bash "$T/twice.sh" "$BIN" "$T")
check "a second netfaultd in the namespace still exits 75 ($out)" [ "$out" = rc=75 ]

# --- row 7 (guardian), row 13 (signals), capabilities: one daemon with an ip-ranges file, in a
# network namespace and a mount namespace (resolv.conf bound to a file of ours).
cp "$(dirname "$0")/../fixtures/aws-ip-ranges.json" "$T/ranges.json"
printf 'nameserver 192.0.2.53\n' >"$T/resolv.conf"
cat >"$T/life.sh" <<'LIFE'
set -u
BIN=$1; T=$2
ip link set lo up
mount --bind "$T/resolv.conf" /etc/resolv.conf
"$BIN" --listen "unix:$T/l.sock" --state-dir "$T/l" --aws-ip-ranges "$T/ranges.json" 2>"$T/log-l" &
pid=$!
get() { curl -s --max-time 2 --unix-socket "$T/l.sock" "http://nf$1"; }
for i in $(seq 50); do get /healthz >/dev/null && break; sleep 0.1; done
# capabilities of the HTTP-facing process
grep -E '^(CapEff|CapPrm|CapBnd|CapInh|CapAmb|NoNewPrivs):' /proc/$pid/status | tr -d '\t' | sed 's/^/status:/'
# the guardian: kill -9 is noticed (degraded), it comes back, and it still sweeps after the daemon dies
g=$(sed -n 's/.*guardian.started: pid \([0-9]*\).*/\1/p' "$T/log-l")
kill -9 "$g"; sleep 0.3
get /healthz | sed 's/^/health-after-kill:/'; echo
grep -q '^State:.*Z' /proc/$g/status 2>/dev/null && echo "zombie:$g"
for i in $(seq 30); do get /healthz | grep -q '"status":"ok"' && break; sleep 0.1; done
get /healthz | sed 's/^/health-later:/'; echo
g2=$(sed -n 's/.*guardian.restarted: pid \([0-9]*\).*/\1/p' "$T/log-l")
[ -n "$g2" ] && [ "$(cat /proc/$g2/comm 2>/dev/null)" = netfaultd-guard ] && echo "new-guardian:$g2"
# signals: every one leaves the daemon answering
for sig in HUP USR1 USR2 ALRM; do
    kill -$sig $pid; sleep 0.2
    if get /healthz | grep -q '"status":"ok"'; then echo "alive-after:$sig"; fi
done
# SIGHUP reloads: a new ip-ranges file and a new resolv.conf are taken...
sed -i 's/"syncToken": *"[0-9]*"/"syncToken": "1999999999"/' "$T/ranges.json"
printf 'nameserver 198.51.100.53\n' >"$T/resolv.conf"
kill -HUP $pid; sleep 0.3
get /v1/capabilities >"$T/caps1"
# ...a broken one is not, the old one stays
echo '{"syncToken": "broken' >"$T/ranges.json"
printf '# no nameserver\n' >"$T/resolv.conf"
kill -HUP $pid; sleep 0.3
get /v1/capabilities >"$T/caps2"
ip link add nfe99.1 type ifb && ip link set nfe99.1 alias netfaultd:planted:lo:egress && echo planted
kill -9 $pid
gone=never
for i in $(seq 50); do ip link show nfe99.1 >/dev/null 2>&1 || { gone=yes; break; }; sleep 0.02; done
echo "swept:$gone"
for i in $(seq 50); do [ -n "$g2" ] && [ -e /proc/$g2 ] || break; sleep 0.1; done
LIFE
out=$(unshare -n -m bash "$T/life.sh" "$BIN" "$T" 2>&1)
st() { echo "$out" | sed -n "s/^status:$1://p"; }
check "the daemon keeps only CAP_NET_ADMIN effective (CapEff $(st CapEff))" [ "$(st CapEff)" = 0000000000001000 ]
check "... and permitted (CapPrm $(st CapPrm))" [ "$(st CapPrm)" = 0000000000001000 ]
check "... and in its bounding set (CapBnd $(st CapBnd))" [ "$(st CapBnd)" = 0000000000001000 ]
check "... nothing inheritable or ambient" [ "$(st CapInh)$(st CapAmb)" = 00000000000000000000000000000000 ]
check "... and sets no-new-privileges (NoNewPrivs $(st NoNewPrivs))" [ "$(st NoNewPrivs)" = 1 ]
for sig in HUP USR1 USR2 ALRM; do
    check "SIG$sig does not kill the daemon; it keeps answering" grep -qx "alive-after:$sig" <<<"$out"
done
check "USR1, USR2 and ALRM are logged as ignored" sh -c "[ \$(grep -c 'daemon.signal: .* received: ignored' '$T/log-l') = 3 ]"
check "SIGHUP reloads the ip-ranges file (new syncToken in /v1/capabilities)" grep -q '"syncToken":"1999999999"' "$T/caps1"
check "SIGHUP reloads resolv.conf (new nameserver in /v1/capabilities)" grep -q '"nameservers":"198.51.100.53"' "$T/caps1"
check "SIGHUP logs the reload" grep -q 'daemon.reload: aws_ip_ranges: .*syncToken 1999999999' "$T/log-l"
check "a broken ip-ranges file keeps the previous one" grep -q '"syncToken":"1999999999"' "$T/caps2"
check "a resolv.conf without nameserver keeps the previous one" grep -q '"nameservers":"198.51.100.53"' "$T/caps2"
check "... and both say why" sh -c "[ \$(grep -c 'daemon.reload_failed' '$T/log-l') = 2 ]"
check "kill -9 of the guardian: /healthz says degraded, with a reason" \
    sh -c "echo '$out' | grep '^health-after-kill:' | grep -q '\"status\":\"degraded\",\"reason\":\"the guardian was killed by signal 9'"
check "... it is logged at once" grep -q 'guardian.died: pid .* was killed by signal 9' "$T/log-l"
check "... it is reaped (no zombie)" sh -c "! echo '$out' | grep -q '^zombie:'"
check "... it is restarted and /healthz is ok again" sh -c "echo '$out' | grep -q '^new-guardian:' && echo '$out' | grep '^health-later:' | grep -q '\"status\":\"ok\"'"
check "after that, kill -9 of the daemon: the restarted guardian sweeps the planted object" \
    sh -c "echo '$out' | grep -q '^planted' && echo '$out' | grep -q '^swept:yes'"

echo "1..$n"
[ $failed = 0 ]
