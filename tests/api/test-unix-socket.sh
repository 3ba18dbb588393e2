#!/bin/bash
# The Unix-socket listener of a real running netfaultd: a path on which a server answers is
# refused (the second daemon must not take a live socket from the first), a stale socket is
# replaced, and on exit netfaultd removes only the socket file it created. Emits TAP. Needs root.
set -u
BIN=${1:?usage: test-unix-socket.sh path/to/netfaultd}
if [ -z "${NF_UNIX_NS-}" ]; then NF_UNIX_NS=1 exec unshare -n "$0" "$@"; fi
ip link set lo up
T=$(mktemp -d)
SOCK=$T/nf.sock
n=0; failed=0; PID=
ok()   { n=$((n+1)); echo "ok $n - $*"; }
nok()  { n=$((n+1)); failed=$((failed+1)); echo "not ok $n - $*"; }
check() { local desc=$1; shift; if "$@"; then ok "$desc"; else nok "$desc"; fi; }
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
answers() { curl -s --max-time 2 --unix-socket "$1" http://nf/healthz | grep -q '"status":"ok"'; }
wait_sock() { for i in $(seq 100); do answers "$1" && return 0; sleep 0.1; done; return 1; }

"$BIN" --listen "unix:$SOCK" --state-dir "$T/a" 2>"$T/log-a" & PID=$!
wait_sock "$SOCK"
check "the first daemon answers on its socket" answers "$SOCK"
# The second daemon runs in another network namespace (one daemon per namespace is enforced
# apart), so only the socket path is shared. It must refuse, not run.
timeout 5 unshare -n "$BIN" --listen "unix:$SOCK" --state-dir "$T/b" 2>"$T/log-b"; rc=$?
check "a second daemon on the same live socket path exits 71 (got $rc)" [ $rc = 71 ]
check "and says why" grep -q "a server is running on it" "$T/log-b"
check "the first daemon still answers on its socket" answers "$SOCK"

# The path now names another server's socket (ours was moved away): stopping must not remove it.
mv "$SOCK" "$T/ours.sock"
python3 -c "import socket,sys; s=socket.socket(socket.AF_UNIX); s.bind(sys.argv[1])" "$SOCK"
kill -TERM $PID; wait $PID; rc=$?; PID=
check "the first daemon stops cleanly ($rc)" [ $rc = 0 ]
check "on exit it leaves a socket file it did not create" [ -S "$SOCK" ]

# That socket is stale (nothing listens on it): a new daemon replaces it and removes it on exit.
"$BIN" --listen "unix:$SOCK" --state-dir "$T/c" 2>"$T/log-c" & PID=$!
wait_sock "$SOCK"
check "a stale socket file is replaced" answers "$SOCK"
kill -TERM $PID; wait $PID; rc=$?; PID=
check "the daemon stops cleanly ($rc)" [ $rc = 0 ]
check "and removes the socket it created" [ ! -e "$SOCK" ]
# A file that is not a socket is never removed.
echo data >"$SOCK"
timeout 5 "$BIN" --listen "unix:$SOCK" --state-dir "$T/d" 2>/dev/null; rc=$?
check "a regular file at the path is refused (exit $rc) and left alone" sh -c "[ $rc = 71 ] && grep -q data '$SOCK'"

echo "1..$n"
[ $failed = 0 ]
