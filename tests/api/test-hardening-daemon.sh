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

echo "1..$n"
[ $failed = 0 ]
