#!/bin/bash
# Requests that wait for DNS answers, against a real running netfaultd whose resolver is a test
# responder on loopback (tests/api/slowdns.py: "slow*" names answer after 2 s, "silent*" names
# never), in a private network and mount namespace whose /etc/resolv.conf points at it:
#  - a client that hangs up while its names resolve gets nothing created, logged once;
#  - the number of waiting requests is bounded (503 dns_busy past it) and their memory returns;
#  - SIGTERM while lookups wait exits cleanly (no leak under the sanitizers).
# Emits TAP. Needs root (unshare).
set -u
BIN=${1:?usage: test-pending.sh path/to/netfaultd}
HERE=$(cd "$(dirname "$0")" && pwd)
if [ -z "${NF_PENDING_NS-}" ]; then NF_PENDING_NS=1 exec unshare -m -n "$0" "$@"; fi
T=$(mktemp -d)
echo "nameserver 127.0.0.1" >"$T/resolv.conf"
mount --bind "$T/resolv.conf" /etc/resolv.conf
ip link set lo up
python3 "$HERE/slowdns.py" 127.0.0.1 53 >"$T/dns-ready" & DNS=$!
for i in $(seq 100); do [ -s "$T/dns-ready" ] && break; sleep 0.1; done # python may start slowly
n=0; failed=0; PID=
ok()   { n=$((n+1)); echo "ok $n - $*"; }
nok()  { n=$((n+1)); failed=$((failed+1)); echo "not ok $n - $*"; }
check() { local desc=$1; shift; if "$@"; then ok "$desc"; else nok "$desc"; fi; }
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null; kill $DNS 2>/dev/null; wait 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
start() { "$BIN" --listen 127.0.0.1:9700 --state-dir "$T/state" "$@" 2>"$T/log" & PID=$!
          for i in $(seq 100); do curl -s -o /dev/null http://127.0.0.1:9700/healthz && return 0; sleep 0.1; done; }
stop() { kill -TERM $PID; wait $PID; local rc=$?; PID=; return $rc; }
heap() { curl -s http://127.0.0.1:9700/healthz | python3 -c "import json,sys; print(json.load(sys.stdin)['heap_bytes'])"; }

# --- row 10: the client hangs up while its hostname resolves (the answer comes after 2 s)
start
python3 - <<'PY'
import socket, time
body = b'{"targets":["slow1.lab.test"],"interfaces":["lo"],"blackhole":true}'
s = socket.create_connection(("127.0.0.1", 9700))
s.send(b"POST /v1/faults HTTP/1.1\r\nHost: 127.0.0.1:9700\r\nContent-Type: application/json\r\nContent-Length: %d\r\n\r\n%s" % (len(body), body))
time.sleep(0.5)
s.close()
PY
for i in $(seq 80); do grep -q 'fault.abandoned' "$T/log" && break; sleep 0.1; done
sleep 0.5
check "a client gone while its names resolved: logged once as abandoned" \
  sh -c "[ \$(grep -c 'fault.abandoned' '$T/log') = 1 ]"
check "and nothing was created (or tried)" sh -c "! grep -Eq 'fault.created|fault.apply_failed' '$T/log'"
check "GET /v1/faults is empty" sh -c "curl -s http://127.0.0.1:9700/v1/faults | grep -qF '{\"faults\":[]}'"
# A client that stays gets its answer (the dry run plans with the late address).
out=$(curl -s --max-time 6 -XPOST -H 'Content-Type: application/json' "http://127.0.0.1:9700/v1/faults?dry_run=true" \
      --data-binary '{"targets":["slow2.lab.test"],"interfaces":["lo"],"blackhole":true}')
check "a client that waits gets its plan after the late answer" grep -qF '"10.0.3.1/32"' <<<"$out"
stop; check "netfaultd stops cleanly ($?)" [ $? = 0 ]

# --- row 11: 40 concurrent POSTs of 9,990 addresses and 2 names that never resolve
start
base=$(heap)
python3 - "$T" <<'PY' &
import json, sys, threading, http.client
body = json.dumps({"targets": ["10.%d.%d.%d" % (i // 62500, i // 250 % 250, i % 250 + 1) for i in range(9990)]
                   + ["silent%d.lab.test" % i for i in range(2)], "interfaces": ["lo"], "delay": {"ms": 1}})
codes = []
def post():
    c = http.client.HTTPConnection("127.0.0.1", 9700, timeout=60)
    c.request("POST", "/v1/faults?dry_run=true", body, {"Content-Type": "application/json"})
    r = c.getresponse(); text = r.read().decode()
    if r.status == 503 and "waiting for DNS answers" in text and r.getheader("Retry-After"): codes.append("msg")
    codes.append("%d:%s" % (r.status, json.loads(text).get("error", {}).get("code", "")))
ts = [threading.Thread(target=post) for _ in range(40)]
[t.start() for t in ts]; [t.join() for t in ts]
open(sys.argv[1] + "/codes", "w").write("\n".join(codes) + "\n")
PY
LOAD=$!
sleep 2
during=$(heap)
wait $LOAD
sleep 0.5
after=$(heap)
sort "$T/codes" | uniq -c | sed "s/^/# /"
busy=$(grep -c '^503:dns_busy' "$T/codes"); waited=$(grep -v '^msg' "$T/codes" | grep -vc '^503:dns_busy')
echo "# heap: $base before, $during while waiting, $after after; $busy refused, $waited waited"
check "at most 16 requests wait for DNS at once ($waited waited)" [ "$waited" -le 16 ]
check "the others are refused at once with 503 dns_busy ($busy)" [ "$busy" -ge 24 ]
check "the refusal says why and when to retry" grep -q '^msg' "$T/codes"
check "the heap while waiting stays bounded (+$(( (during - base) / 1048576 )) MiB)" [ $((during - base)) -lt $((16 * 1048576)) ]
check "the heap returns after (+$(( (after - base) / 1024 )) KiB)" [ $((after - base)) -lt $((4 * 1048576)) ]
stop; check "netfaultd stops cleanly ($?)" [ $? = 0 ]

# --- row 18: SIGTERM while lookups wait
start
for i in 1 2 3; do
  curl -s -o /dev/null --max-time 10 -XPOST -H 'Content-Type: application/json' http://127.0.0.1:9700/v1/faults?dry_run=true \
    --data-binary "{\"targets\":[\"silent$i.lab.test\",\"10.0.0.$i\"],\"delay\":{\"ms\":1}}" &
done
sleep 2 # silent names: evdns gives up after 2 s x 2 attempts
stop; rc=$?
check "SIGTERM while lookups wait exits 0 ($rc)" [ $rc = 0 ]
check "without a leak report" sh -c "! grep -q 'LeakSanitizer' '$T/log'"
check "the waiting requests are logged as abandoned" sh -c "[ \$(grep -c 'fault.abandoned' '$T/log') = 3 ]"

echo "1..$n"
[ $failed = 0 ]
