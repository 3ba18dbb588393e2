#!/bin/bash
# The limits on changing requests of a real running netfaultd, in a private network namespace:
# clients rotating through many loopback source addresses cannot reset the limit (the global
# budget, --rate-limit-global), and Unix-socket clients are told apart by user id, so that one
# user's burst does not lock out another. Emits TAP. Needs root (unshare, setpriv).
set -u
BIN=${1:?usage: test-rate-limit.sh path/to/netfaultd}
if [ -z "${NF_RATE_NS-}" ]; then NF_RATE_NS=1 exec unshare -n "$0" "$@"; fi
ip link set lo up
T=$(mktemp -d)
chmod 755 "$T"; mkdir -m 777 "$T/out"
SOCK=$T/nf.sock
n=0; failed=0; PID=
ok()   { n=$((n+1)); echo "ok $n - $*"; }
nok()  { n=$((n+1)); failed=$((failed+1)); echo "not ok $n - $*"; }
check() { local desc=$1; shift; if "$@"; then ok "$desc"; else nok "$desc"; fi; }
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT

# --- 300 changing requests (dry runs) from 65 rotating source addresses at --rate-limit 1
"$BIN" --listen 127.0.0.1:9700 --state-dir "$T/state" --rate-limit 1 2>"$T/log" & PID=$!
for i in $(seq 100); do curl -s -o /dev/null http://127.0.0.1:9700/healthz && break; sleep 0.1; done
python3 - >"$T/rot" <<'PY'
import http.client, json, time
body = json.dumps({"targets": ["10.0.0.1"], "interfaces": ["lo"], "delay": {"ms": 10}})
t0, passed, limited, msg = time.time(), 0, 0, ""
for i in range(300):
    c = http.client.HTTPConnection("127.0.0.1", 9700, timeout=5, source_address=("127.0.0.%d" % (2 + i % 65), 0))
    c.request("POST", "/v1/faults?dry_run=true", body, {"Content-Type": "application/json"})
    r = c.getresponse(); text = r.read().decode()
    if r.status == 200: passed += 1
    elif r.status == 429: limited += 1; msg = text
    c.close()
print(passed, limited, round(time.time() - t0, 2), msg.replace(" ", "_"))
PY
read passed limited took msg <"$T/rot"
echo "# $passed passed, $limited limited in ${took}s"
# The global budget defaults to 5 x --rate-limit: 10 at once, then 5 per second.
check "rotating 65 sources, at most 10 + 5/s of 300 changing requests pass ($passed in ${took}s)" \
  python3 -c "import sys; sys.exit(not 0 < $passed <= 12 + 5 * $took)"
check "the 429 names the global budget" grep -q -- "--rate-limit-global" <<<"$msg"
code=$(curl -s -o /dev/null -w '%{http_code}' -X DELETE --interface 127.0.0.9 http://127.0.0.1:9700/v1/faults)
check "a DELETE still passes while the global budget is spent ($code)" [ "$code" = 200 ]
kill -TERM $PID; wait $PID; PID=

# --- Unix-socket clients are keyed by user: nobody's burst leaves root's budget alone
"$BIN" --listen "unix:$SOCK" --state-dir "$T/state2" --rate-limit 2 2>"$T/log2" & PID=$!
for i in $(seq 100); do [ -S "$SOCK" ] && break; sleep 0.1; done
chmod 666 "$SOCK"
codes=$(for i in $(seq 20); do setpriv --reuid 65534 --regid 65534 --clear-groups \
          curl -s -o "$T/out/nobody.$i" -w '%{http_code}\n' -X DELETE --unix-socket "$SOCK" http://nf/v1/faults; done | sort | uniq -c | tr '\n' ' ')
check "a burst of 20 DELETEs from uid 65534 at --rate-limit 2 meets 429 ($codes)" sh -c "echo '$codes' | grep -q ' 429'"
check "the 429 names the user" sh -c "cat '$T'/out/nobody.* | grep -q 'from uid 65534'"
code=$(curl -s -o /dev/null -w '%{http_code}' -X DELETE --unix-socket "$SOCK" http://nf/v1/faults)
check "root's DELETE right after is not limited ($code)" [ "$code" = 200 ]
kill -TERM $PID; wait $PID; PID=

echo "1..$n"
[ $failed = 0 ]
