#!/bin/bash
# The audit log (issue 14) of a scripted sequence against a real running netfaultd: every
# changing request is one JSON line, in order, on stderr and in --audit-log (O_APPEND: lines
# already there stay); a dry run and reads are not lines; a refused caller is. On a kernel
# without netem/flower (as here) a real create is refused (503) and still audited; the state
# changes (created, renewed, reverted by reason) are checked by tests/unit/test-audit.c through
# the core's event hook, and in the kernel lab. Emits TAP.
set -u
BIN=${1:?usage: test-audit.sh path/to/netfaultd}
if [ -z "${NF_AUDIT_NS-}" ]; then NF_AUDIT_NS=1 exec unshare -n "$0" "$@"; fi
ip link set lo up
T=$(mktemp -d)
n=0; failed=0; PID=
ok()   { n=$((n+1)); echo "ok $n - $*"; }
nok()  { n=$((n+1)); failed=$((failed+1)); echo "not ok $n - $*"; }
check() { local desc=$1; shift; if "$@"; then ok "$desc"; else nok "$desc"; fi; }
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
PORT=9742
WS=write-secret-0123456789abcdef; RS=read-secret-0123456789abcdef
printf 'ci write %s\ngrafana read %s\n' "$WS" "$RS" >"$T/tokens"; chmod 600 "$T/tokens"
echo '{"audit":"earlier line"}' >"$T/audit.log"
"$BIN" --listen "127.0.0.1:$PORT" --state-dir "$T/state" --auth-token-file "$T/tokens" --audit-log "$T/audit.log" \
  --log-format json 2>"$T/stderr" & PID=$!
for i in $(seq 100); do grep -q daemon.started "$T/stderr" && break; sleep 0.1; done
U=http://127.0.0.1:$PORT
W=(-H "Authorization: Bearer $WS"); J=(-H 'Content-Type: application/json')
F='{"name":"ddb-cut","targets":["10.0.1.10","10.0.2.0/24","fd00::1","10.9.9.9"],"interfaces":["lo"],"delay":{"ms":300},"loss":{"percent":2}}'
q() { curl -s -o /dev/null -w '%{http_code}' "$@"; }
c1=$(q "${W[@]}" "${J[@]}" -XPOST --data-binary "$F" "$U/v1/faults?dry_run=true")
c2=$(q "${W[@]}" "${J[@]}" -XPOST --data-binary "$F" "$U/v1/faults")
c3=$(q "${W[@]}" -XPOST "$U/v1/faults/f-000000000000/renew")
c4=$(q -H "Authorization: Bearer $RS" -XDELETE "$U/v1/faults/f-000000000001")
c5=$(q "${W[@]}" "$U/v1/faults")
c6=$(q "${W[@]}" -XDELETE "$U/v1/faults")
c7=$(q -XDELETE "$U/v1/faults")
echo "# statuses: dry run $c1, create $c2, renew $c3, read-token delete $c4, list $c5, delete all $c6, anonymous $c7"
kill -TERM $PID; wait $PID; PID=

python3 - "$T/audit.log" "$T/stderr" "$c2" <<'PY' | sed 's/^/# /'
import json, sys
lines = open(sys.argv[1]).read().splitlines()
for l in lines: print(l[:300])
PY
check "the file keeps its earlier line first (O_APPEND)" sh -c "head -n1 '$T/audit.log' | grep -q 'earlier line'"
check "each line is valid JSON" python3 -c "
import json, sys
[json.loads(l) for l in open('$T/audit.log').read().splitlines()]"
got=$(python3 -c "
import json
for l in open('$T/audit.log').read().splitlines()[1:]:
    o = json.loads(l)
    print(o['audit'], o.get('method'), o.get('route'), o.get('status'), (o.get('caller') or {}).get('token'))")
want="request POST /v1/faults $c2 ci
request POST /v1/faults/{id}/renew 404 ci
request DELETE /v1/faults/{id} 403 grafana
request DELETE /v1/faults 200 ci
request DELETE /v1/faults 401 None"
check "the requests, in order, without the dry run and the read" test "$got" = "$want"
[ "$got" = "$want" ] || { echo "$got" | sed 's/^/# got: /'; }
check "the refused create names its fault: name, targets (4, first 3) and effects" python3 -c "
import json
o = json.loads(open('$T/audit.log').read().splitlines()[1])
f = o['fault']
assert f['name'] == 'ddb-cut' and f['targets']['count'] == 4 and f['targets']['first'] == ['10.0.1.10','10.0.2.0/24','fd00::1'], f
assert f['effects']['delay'] == {'ms': 300} and f['effects']['loss'] == {'percent': 2}, f
assert o['error'] and o['duration_ms'] >= 0 and o['caller']['address'].startswith('127.0.0.1:') and o['ts'], o"
check "the delete of a named fault names its id" python3 -c "
import json
o = json.loads(open('$T/audit.log').read().splitlines()[3])
assert o['fault']['id'] == 'f-000000000001' and o['error'] == 'forbidden', o"
check "the same lines on stderr" python3 -c "
import json
a = [l for l in open('$T/audit.log').read().splitlines()[1:]]
b = [l for l in open('$T/stderr').read().splitlines() if l.startswith('{\"audit\"')]
assert a == b, (a, b)"
check "no secret in either" sh -c "! grep -qe '$WS' -e '$RS' '$T/audit.log' '$T/stderr'"
# kill -9 of the daemon: the guardian reverts what the journal holds and audits each fault with
# reason "guardian". This kernel cannot apply a fault, so the journal gets the record a real one
# would have (the same fields the daemon writes before it touches the kernel).
"$BIN" --listen "127.0.0.1:$PORT" --state-dir "$T/state2" --audit-log "$T/audit2.log" --log-format json \
  2>"$T/stderr2" & PID=$!
for i in $(seq 100); do grep -q guardian.started "$T/stderr2" && break; sleep 0.1; done
now=$(($(date +%s) * 1000))
printf '{"version":1,"id":"f-0000000000aa","state":"active","slot":0,"created_ms":%s,"expires_ms":%s,"spec":{"name":"ddb-cut","targets":["10.0.1.10/32"],"blackhole":true,"duration_s":60},"objects":{"links":[],"names":[]}}' \
  "$now" "$((now + 60000))" >"$T/state2/fault-f-0000000000aa.json"
kill -KILL $PID; wait $PID 2>/dev/null; PID=
for i in $(seq 50); do grep -q guardian.swept "$T/stderr2" && break; sleep 0.1; done
check "kill -9: the guardian audits the journaled fault it reverted, reason guardian" python3 -c "
import json
l = [json.loads(x) for x in open('$T/audit2.log').read().splitlines()]
g = [o for o in l if o.get('audit') == 'fault.reverted' and o.get('reason') == 'guardian']
assert len(g) == 1 and g[0]['fault']['id'] == 'f-0000000000aa' and g[0]['fault']['name'] == 'ddb-cut', l"
"$BIN" --listen "127.0.0.1:$PORT" --state-dir "$T/state" --audit-log "$T/no/such/dir/audit.log" 2>"$T/e"; rc=$?
check "an --audit-log that cannot be opened: exit 64 ($rc)" sh -c "[ $rc = 64 ] && grep -q 'audit-log' '$T/e'"
echo "1..$n"
[ $failed = 0 ]
