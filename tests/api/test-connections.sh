#!/bin/bash
# Connection handling of a real running netfaultd under pressure, in a private network namespace:
# hundreds of slow clients (partial headers, a byte a second) under a low descriptor limit must
# not keep /healthz or a DELETE from answering promptly, must not flood the log, and a client
# that trickles bytes cannot keep its connection past --request-timeout. Emits TAP. Needs root.
set -u
BIN=${1:?usage: test-connections.sh path/to/netfaultd}
HERE=$(cd "$(dirname "$0")" && pwd)
if [ -z "${NF_CONN_NS-}" ]; then NF_CONN_NS=1 exec unshare -n "$0" "$@"; fi
ip link set lo up
T=$(mktemp -d)
n=0; failed=0; PID=
ok()   { n=$((n+1)); echo "ok $n - $*"; }
nok()  { n=$((n+1)); failed=$((failed+1)); echo "not ok $n - $*"; }
check() { local desc=$1; shift; if "$@"; then ok "$desc"; else nok "$desc"; fi; }
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null; wait 2>/dev/null; [ -n "${KEEP_LOG-}" ] && cat "$T"/log*; rm -rf "$T"; }
trap cleanup EXIT
up() { for i in $(seq 100); do curl -s -o /dev/null "http://127.0.0.1:$1/healthz" && return 0; sleep 0.1; done; return 1; }

# --- 600 slow clients against a daemon allowed 256 descriptors (the cap is derived below that)
(ulimit -n 256; exec "$BIN" --listen 127.0.0.1:9700 --state-dir "$T/state" 2>"$T/log") & PID=$!
up 9700
python3 "$HERE/slowloris.py" 127.0.0.1 9700 600 12 1 >"$T/slow" & SLOW=$!
sleep 3
good=0; worst=0
for i in 1 2 3 4 5; do
  out=$(curl -s --max-time 2 -o /dev/null -w '%{http_code} %{time_total}' http://127.0.0.1:9700/healthz)
  [ "${out% *}" = 200 ] && good=$((good+1))
  sleep 0.5
done
check "fresh /healthz answers within 2 s, 5 of 5 times, while 600 slow clients press ($good/5)" [ $good = 5 ]
code=$(curl -s --max-time 2 -o /dev/null -w '%{http_code}' -X DELETE http://127.0.0.1:9700/v1/faults)
check "DELETE /v1/faults answers within 2 s meanwhile ($code)" [ "$code" = 200 ]
wait $SLOW
check "slow clients were dropped to make room ($(cat "$T/slow"))" grep -q 'dropped=[1-9]' "$T/slow"
lines=$(wc -l <"$T/log")
check "the log stays small ($lines lines)" [ "$lines" -lt 40 ]
check "no accept() error flood in the log" sh -c "! grep -q 'Too many open files' '$T/log'"
check "the drops are logged, naming the cap" grep -q 'http.connections_dropped.*--max-connections' "$T/log"
kill -TERM $PID; wait $PID; rc=$?; PID=
check "netfaultd stops cleanly after the storm" [ $rc = 0 ]

# --- a request that trickles in, a byte every 0.3 s, is closed at --request-timeout
"$BIN" --listen 127.0.0.1:9701 --state-dir "$T/state2" --request-timeout 2 2>"$T/log2" & PID=$!
up 9701
took=$(python3 - <<'PY'
import socket, time
s = socket.create_connection(("127.0.0.1", 9701))
s.send(b"GET /healthz HTTP/1.1\r\nHost: nf\r\nX-Slow: ")
t0 = time.time()
s.settimeout(0.3)
while time.time() - t0 < 8:
    try:
        if s.recv(100) == b"":
            break
    except socket.timeout:
        pass
    try:
        s.send(b"a")
    except OSError:
        break
print(round(time.time() - t0, 1))
PY
)
check "a trickling request is closed at --request-timeout 2 (after ${took}s)" python3 -c "import sys; sys.exit(not 1.5 <= $took <= 4)"
# A request that arrives whole is served, and an idle keep-alive connection is closed later.
code=$(curl -s --max-time 2 -o /dev/null -w '%{http_code}' http://127.0.0.1:9701/healthz)
check "a prompt request is served ($code)" [ "$code" = 200 ]
kill -TERM $PID; wait $PID; rc=$?; PID=
check "netfaultd stops cleanly" [ $rc = 0 ]

echo "1..$n"
[ $failed = 0 ]
