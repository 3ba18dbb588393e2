#!/bin/bash
# netfaultctl against real netfaultds, each in a network namespace of its own (one daemon per
# namespace), on Unix sockets and on TCP with TLS, tokens and a client certificate; and against
# tests/ctl/fakefleet.py where this kernel cannot go (it has no netem or flower: every real create
# is a 503 kernel_unsupported, so a fault that succeeds, to be rolled back or held, comes from the
# stand-in). Every command, as a table and as JSON; exit codes; all or nothing; --hold's renew
# loop, Ctrl-C and SIGKILL. Emits TAP. Needs root (unshare).
set -u
BIN=${1:?usage: test-ctl.sh path/to/netfaultd path/to/netfaultctl}
CTL=${2:?usage: test-ctl.sh path/to/netfaultd path/to/netfaultctl}
HERE=$(cd "$(dirname "$0")" && pwd)
if [ -z "${NF_CTL_NS-}" ]; then NF_CTL_NS=1 exec unshare -n "$0" "$@"; fi
ip link set lo up
T=$(mktemp -d)
n=0; failed=0; PIDS=""
ok()   { n=$((n+1)); echo "ok $n - $*"; }
nok()  { n=$((n+1)); failed=$((failed+1)); echo "not ok $n - $*"; }
check() { local desc=$1; shift; if "$@"; then ok "$desc"; else nok "$desc"; fi; }
cleanup() { for p in $PIDS; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
# ctl ARGS... -> OUT, ERR, RC
ctl() { "$CTL" "$@" >"$T/out" 2>"$T/err"; RC=$?; OUT=$(cat "$T/out"); ERR=$(cat "$T/err"); }
has() { grep -q -- "$2" <<<"$1"; }
json() { python3 -c "import json,sys; d=json.load(sys.stdin); print(eval(sys.argv[1]))" "$1" <<<"$OUT" 2>/dev/null; }
wait_for() { for i in $(seq 100); do "$@" && return 0; sleep 0.1; done; return 1; }
answers() { curl -s --max-time 2 --unix-socket "$1" http://localhost/healthz | grep -q '"ok"'; }

# Three daemons, each in its own namespace, on Unix sockets; C allows faults of at most 60 s.
for d in a b c; do
  extra=""; [ $d = c ] && extra="--max-duration 60"
  unshare -n sh -c "ip link set lo up; exec '$BIN' --listen unix:$T/$d.sock --state-dir $T/s$d $extra" 2>"$T/log-$d" &
  PIDS="$PIDS $!"
done
# D in this test's namespace on TCP.
PORT=9761
"$BIN" --listen 127.0.0.1:$PORT --state-dir "$T/sd" 2>"$T/log-d" & PIDS="$PIDS $!"; DPID=$!
for d in a b c; do wait_for answers "$T/$d.sock" || echo "# daemon $d did not start"; done
wait_for curl -sf -o /dev/null http://127.0.0.1:$PORT/healthz
A=unix:$T/a.sock B=unix:$T/b.sock C=unix:$T/c.sock D=http://127.0.0.1:$PORT
FLEET=(-e $A -e $B -e $C -e $D)

# --- help, usage, exit codes
ctl --help
check "--help lists the commands, the options and the exit codes" \
  sh -c "grep -q 'blackhole --to' '$T/out' && grep -q -- '--hold' '$T/out' && grep -q 'Exit codes' '$T/out'"
ctl frobnicate; check "an unknown command exits 2 (got $RC)" [ $RC = 2 ]
ctl loss 200% --to 10.0.0.1; check "a bad percentage exits 2 and says so (got $RC)" sh -c "[ $RC = 2 ] && grep -q 'not a percentage' '$T/err'"
ctl delay 300ms; check "a fault without --to exits 2 (got $RC)" sh -c "[ $RC = 2 ] && grep -q -- '--to' '$T/err'"
ctl show nonsense; check "show of a malformed id exits 2 (got $RC)" [ $RC = 2 ]
ctl -e http://127.0.0.1:1 list; check "an unreachable endpoint exits 3 and says unreachable (got $RC)" \
  sh -c "[ $RC = 3 ] && grep -q unreachable '$T/err'"

# --- health, caps, pods: tables and JSON, one endpoint and the fleet
ctl "${FLEET[@]}" health
check "health of 4 daemons: a table with a row per endpoint, status ok" \
  sh -c "[ $RC = 0 ] && [ \$(grep -c ' ok ' '$T/out') = 4 ] && head -1 '$T/out' | grep -q '^ENDPOINT *STATUS *FAULTS'"
ctl -e $A health -o json; check "health -o json of one endpoint is the daemon's body" [ "$(json 'd["status"]')" = ok ]
ctl "${FLEET[@]}" health -o json
check "health -o json of a fleet is results[] with endpoint and status" [ "$(json 'len(d["results"]), d["results"][3]["endpoint"], d["results"][3]["status"]')" = "(4, '$D', 200)" ]
ctl -e $A caps; check "caps: a table naming netem as missing here" sh -c "[ $RC = 0 ] && grep -q 'qdiscs *netem *no *sch_netem' '$T/out'"
ctl -e $A caps -o json; check "caps -o json" [ "$(json 'd["qdiscs"]["netem"]["module"]')" = sch_netem ]
ctl -e $A pods; check "pods: a table header (no pods in a test namespace)" sh -c "[ $RC = 0 ] && grep -q '^ENDPOINT *POD *QOS' '$T/out'"
ctl -e $A pods -o json; check "pods -o json" [ "$(json 'd["pods"]')" = "[]" ]
NETFAULTCTL_ENDPOINT=$D ctl health; check "NETFAULTCTL_ENDPOINT names the endpoint" sh -c "[ $RC = 0 ] && grep -q '$D' '$T/out'"
printf '# the fleet\n%s\n\n%s  # b\n' "$A" "$B" >"$T/endpoints"
ctl --endpoints-file "$T/endpoints" health; check "--endpoints-file: two endpoints, comments skipped" [ "$(grep -c ' ok ' "$T/out")" = 2 ]

# --- dry runs everywhere: the success path of the fan-out
ctl "${FLEET[@]}" delay 300ms --jitter 30ms --to 10.0.1.10 --to 10.0.2.0/24,fd00:1::/64 --for 1m -i lo --name gd-delay --dry-run
check "a dry run on 4 endpoints succeeds (got $RC)" [ $RC = 0 ]
check "and shows one planned row per endpoint with the effect in units" \
  sh -c "[ \$(grep -c 'planned.*delay 300ms±30ms' '$T/out') = 4 ]"
check "with progress on stderr, one line per endpoint" [ "$(grep -c 'POST /v1/faults?dry_run=true: ok' "$T/err")" = 4 ]
ctl -e $A -o json delay 300ms --jitter 30ms --to 10.0.1.10 --for 10m -i lo --name gd-delay --dry-run
check "delay 300ms --jitter 30ms --for 10m --name: the body the daemon saw" \
  [ "$(json 'd["spec"]["delay"]["ms"], d["spec"]["delay"]["jitter_ms"], d["spec"]["duration_s"], d["name"], d["spec"]["interfaces"]')" = "(300, 30, 600, 'gd-delay', ['lo'])" ]
ctl -e $A -o json delay 300ms --to 10.0.1.10 -i lo --dry-run --guard-http http://10.0.1.10:8080/health \
  --guard-tcp '[fd00::1]:5432' --guard-prom 'sum(rate(errors[1m]))<0.001' --prometheus http://10.0.5.5:9090 \
  --guard-interval 500ms --guard-failures 2 --guard-all
check "--guard-http/--guard-tcp/--guard-prom: the guard the daemon planned" \
  [ "$(json '(lambda g, p: (p[0]["http"]["url"], p[1]["tcp"]["address"], p[1]["tcp"]["port"], p[2]["prometheus"]["query"], p[2]["prometheus"]["max"], p[2]["prometheus"]["url"], g["interval_ms"], g["failures_to_abort"], g["scope"], p[0]["through_fault"]))(d["guard"], d["guard"]["probes"])')" = "('http://10.0.1.10:8080/health', 'fd00::1', 5432, 'sum(rate(errors[1m]))', 0.001, 'http://10.0.5.5:9090', 500, 2, 'all', True)" ]
ctl -e $A delay 300ms --to 10.0.1.10 --guard-prom 'up>1' --dry-run
check "--guard-prom without a Prometheus server is a usage error (got $RC)" sh -c "[ $RC = 2 ] && grep -q 'needs the server' '$T/err'"
ctl -e $A delay 300ms --to 10.0.1.10 --guard-prom 'no bound' --dry-run
check "--guard-prom without a bound is a usage error (got $RC)" [ $RC = 2 ]
ctl -e $A -o json blackhole --to 10.9.0.0/16 --port 443 -i lo --dry-run
check "blackhole --port 443: protocol tcp, ports [443]" [ "$(json 'd["spec"]["blackhole"], d["spec"]["protocol"], d["spec"]["ports"]')" = "(True, 'tcp', [443])" ]
ctl -e $A -o json loss 20% --correlation 25 --to 10.9.0.0/16 --ingress --local-port 8080 -i lo --dry-run
check "loss 20% --ingress --local-port 8080" [ "$(json 'd["spec"]["loss"]["percent"], d["spec"]["loss"]["correlation"], d["spec"]["direction"], d["spec"]["local_ports"]')" = "(20, 25, 'ingress', [8080])" ]
ctl -e $A -o json loss 100% --flows 30% --to 10.9.0.0/16 -i lo --dry-run
check "loss 100% --flows 30%: flows_percent, and a plan of prio bands with three netems" \
  [ "$(json 'd["spec"]["flows_percent"], d["plan"]["links"][0]["ifb"]["qdisc"], d["plan"]["links"][0]["ifb"]["flows"]["bands_with_netem"]')" = "(30, 'prio', 3)" ]
ctl -e $A loss 100% --flows 30% --to 10.9.0.0/16 -i lo --dry-run
check "and in a table: 'loss 100% on 30% of flows'" grep -q 'loss 100% on 30% of flows' "$T/out"
ctl -e $A loss 100% --flows 150 --to 10.9.0.0/16 -i lo --dry-run
check "--flows 150: the daemon's 400 names flows_percent (got $RC)" sh -c "[ $RC = 1 ] && grep -q 'flows_percent' '$T/err'"
ctl -e $A loss 100% --flows none --to 10.9.0.0/16 -i lo --dry-run
check "--flows none is a usage error (got $RC)" [ $RC = 2 ]
ctl -e $A -o json loss 1 --to 10.9.0.0/16 --both -i lo --dry-run
check "--both" [ "$(json 'd["spec"]["direction"]')" = both ]
printf '{"targets":["10.0.32.0/20"],"direction":"ingress","protocol":"tcp","local_ports":[8080],"blackhole":true,"interfaces":["lo"]}' >"$T/fault.json"
ctl -e $A -o json apply -f "$T/fault.json" --for 2m --dry-run
check "apply -f FILE --for 2m: the file's body, --for on top" [ "$(json 'd["state"], d["spec"]["local_ports"], d["spec"]["duration_s"]')" = "('planned', [8080], 120)" ]
ctl -e $A apply -f "$T/fault.json" --dry-run
check "apply -f as a table" sh -c "[ $RC = 0 ] && grep -q 'planned.*blackhole tcp' '$T/out'"
ctl -e $A -o json delay 10ms --to 10.0.0.1 -i lo --pod 0a1b2c3d-0000-4000-8000-000000000001 --dry-run
check "--pod sends netns.pod_uid: this daemon (no --netns-mode) refuses with 403 naming the field" \
  sh -c "[ $RC = 1 ] && grep -q '403 netns_mode_off (field netns)' '$T/err'"

# One endpoint refuses by validation (C allows 60 s at most): the dry run fails, naming C.
ctl "${FLEET[@]}" delay 300ms --to 10.0.1.10 --for 10m -i lo --dry-run
check "--for 10m where C allows 60 s: exit 1 (got $RC)" [ $RC = 1 ]
check "the reason names C, the field and the daemon's message" grep -q "^netfaultctl: $C: 400 .*duration_s" "$T/err"
check "a dry run reverts nothing" sh -c "! grep -q revert '$T/err'"

# --- real creates: this kernel refuses them (503), the server's words are shown
ctl -e $A delay 300ms --to 10.0.1.10 -i lo
check "a real create here is refused: exit 1 with 503 kernel_unsupported and the module" \
  sh -c "[ $RC = 1 ] && grep -q '503 kernel_unsupported.*sch_netem' '$T/err'"

# --- list, show, revert, renew against a real daemon (no faults can exist here)
ctl -e $A list; check "list: a table header" sh -c "[ $RC = 0 ] && grep -q '^ENDPOINT *ID *NAME *STATE *EFFECT' '$T/out'"
ctl -e $A list -o json; check "list -o json" [ "$(json 'd["faults"]')" = "[]" ]
ctl -e $A show f-000000000001; check "show of an unknown fault: exit 1, 404 not_found" sh -c "[ $RC = 1 ] && grep -q '404 not_found' '$T/err'"
ctl -e $A show f-000000000001 -o json; check "show -o json prints the error body" [ "$(json 'd["error"]["code"]')" = not_found ]
ctl "${FLEET[@]}" revert --all; check "revert --all on the fleet" sh -c "[ $RC = 0 ] && [ \$(grep -c 'reverted 0 faults' '$T/out') = 4 ]"
ctl -e $A revert --all -o json; check "revert --all -o json" [ "$(json 'd["reverted"]')" = 0 ]
ctl -e $A revert; check "revert without an id or --all exits 2" [ $RC = 2 ]
ctl -e $A renew f-000000000001; check "renew of an unknown fault: exit 1, 404" sh -c "[ $RC = 1 ] && grep -q '404' '$T/err'"
ctl -e $A watch --count 2 --interval 0.2
check "watch, not a terminal: two plain blocks" sh -c "[ $RC = 0 ] && [ \$(grep -c '0 faults on 1 endpoint' '$T/out') = 2 ] && ! grep -q \$'\\033' '$T/out'"
ctl -e $A watch --count 2 --interval 0.2 -o json
check "watch -o json: one JSON line per round" [ "$(grep -c '^{"time":' "$T/out")" = 2 ]

# --- the stand-in: faults that succeed, to prove the rollback, the hold loop and the tables
python3 "$HERE/fakefleet.py" "$T/fake.port" "$T/fake.log" & PIDS="$PIDS $!"
wait_for test -s "$T/fake.port"; F=http://127.0.0.1:$(cat "$T/fake.port")
ctl -e $F list; check "list with a fault: effect, targets and expiry in units" \
  sh -c "grep -q 'f-00000000c0de *checkout-latency *active *delay 300ms±30ms, loss 2% tcp/443 *10.0.1.10/32, 10.0.2.0/24 +1 *egress *- *in [89]m' '$T/out'"
ctl -e $F show f-00000000c0de; check "show: counters in units" grep -q 'counters:  1.2M packets, 3.0MiB, 4.2k dropped, 1.2M delivered' "$T/out"
ctl -e $F watch --count 2 --interval 1
check "watch: packets, packets per second, bytes, drops" grep -q 'f-00000000c0de *checkout-latency .* 1.2M *5.0k *3.0MiB *4.2k' "$T/out"

: >"$T/fake.log"
ctl -e $F -e $A blackhole --to 10.0.0.0/8 -i lo --name all-or-nothing
check "one endpoint refuses (A: 503), the command fails (got $RC)" [ $RC = 1 ]
check "the endpoint that applied it is reverted (DELETE of its fault)" grep -q '^DELETE /v1/faults/f-0000000000a1 ' "$T/fake.log"
check "stderr names A's reason and the revert" sh -c "grep -q '$A: 503 kernel_unsupported' '$T/err' && grep -q 'reverted f-0000000000a1' '$T/err'"
: >"$T/fake.log"
ctl -e $F -e http://127.0.0.1:1 blackhole --to 10.0.0.0/8 -i lo
check "an unreachable endpoint also rolls back the others (exit 3, got $RC)" \
  sh -c "[ $RC = 3 ] && grep -q '^DELETE /v1/faults/f-0000000000a2 ' '$T/fake.log'"

# Two stand-ins and a real daemon: the one refusal reverts both stand-ins' faults.
python3 "$HERE/fakefleet.py" "$T/g.port" "$T/g.log" & PIDS="$PIDS $!"
wait_for test -s "$T/g.port"; G=http://127.0.0.1:$(cat "$T/g.port")
: >"$T/fake.log"
ctl -e $F -e $G -e $B delay 50ms --to 10.0.0.0/8 -i lo
check "3 endpoints, B refuses: exit 1, both stand-ins' faults reverted" \
  sh -c "[ $RC = 1 ] && grep -q '^DELETE /v1/faults/f-0000000000a3 ' '$T/fake.log' && grep -q '^DELETE /v1/faults/f-0000000000a1 ' '$T/g.log'"
check "and B is never sent a DELETE (it applied nothing)" sh -c "! grep -q '$B DELETE' '$T/err'"

# --hold where one endpoint's fault disappears (its renew is a 404): the other is reverted.
python3 "$HERE/fakefleet.py" "$T/h.port" "$T/h.log" --renew-404-after 1 & PIDS="$PIDS $!"
wait_for test -s "$T/h.port"; H=http://127.0.0.1:$(cat "$T/h.port")
: >"$T/fake.log"
timeout 20 "$CTL" -e $F -e $H delay 100ms --to 10.0.0.1 --hold --lease 3s >/dev/null 2>"$T/hold.err"; RC=$?
check "--hold: a fault gone on one endpoint ends the hold with exit 1 (got $RC)" [ $RC = 1 ]
check "and the other endpoint's fault is reverted" grep -q '^DELETE /v1/faults/' "$T/fake.log"
check "saying which renew failed and why" grep -q "$H: renew of f-0000000000a1 failed: 404 not_found" "$T/hold.err"

# --hold: created with a short lease, renewed every lease/3, Ctrl-C reverts.
: >"$T/fake.log"
"$CTL" -e $F delay 100ms --to 10.0.0.1 --hold --lease 3s >"$T/hold.out" 2>"$T/hold.err" & HPID=$!
sleep 3.6; kill -INT $HPID; wait $HPID; RC=$?
check "--hold --lease 3s sends lease_s 3" grep -q '^POST /v1/faults .*"lease_s":3' "$T/fake.log"
check "and renews every second while it runs ($(grep -c renew "$T/fake.log") renews in 3.6 s)" \
  [ "$(grep -c '^POST /v1/faults/f-[0-9a-f]*/renew' "$T/fake.log")" -ge 2 ]
check "SIGINT reverts it and exits 0 (got $RC)" sh -c "[ $RC = 0 ] && grep -q '^DELETE /v1/faults/' '$T/fake.log'"
: >"$T/fake.log"
"$CTL" -e $F delay 100ms --to 10.0.0.1 --hold --lease 3s >/dev/null 2>&1 & HPID=$!
sleep 1.5; kill -KILL $HPID; wait $HPID 2>/dev/null; sleep 1.5
check "SIGKILL: no revert is sent and the renews stop (the daemons' lease expiry reverts; the lab proves it)" \
  sh -c "! grep -q '^DELETE' '$T/fake.log' && [ \$(grep -c renew '$T/fake.log') -le 1 ]"

# Without --hold, a signal during the fan-out (one endpoint accepts the connection and never
# answers: a listener that does not accept) reverts what the others applied: after a grace of
# 5 s for the silent one, or at once on a second signal. Exit 128 + the signal.
python3 -c 'import socket, sys, time
s = socket.socket(); s.bind(("127.0.0.1", 0)); s.listen(8)
open(sys.argv[1] + ".tmp", "w").write(str(s.getsockname()[1]))
import os; os.rename(sys.argv[1] + ".tmp", sys.argv[1]); time.sleep(600)' "$T/mute.port" & PIDS="$PIDS $!"
wait_for test -s "$T/mute.port"; M=http://127.0.0.1:$(cat "$T/mute.port")
: >"$T/fake.log"
"$CTL" -e $F -e $M delay 100ms --to 10.0.0.1 --for 2m >/dev/null 2>"$T/int.err" & IPID=$!
wait_for grep -q '^POST /v1/faults ' "$T/fake.log"; sleep 0.3
t0=$(date +%s%N); kill -INT $IPID; wait $IPID; RC=$?; ms=$(( ($(date +%s%N) - t0) / 1000000 ))
check "SIGINT during a fan-out without --hold: exit 130 (got $RC)" [ $RC = 130 ]
check "the stand-in's fault is reverted (DELETE sent)" grep -q '^DELETE /v1/faults/f-' "$T/fake.log"
check "after waiting its 5 s grace for the silent endpoint (${ms} ms)" [ $ms -ge 4500 ] && [ $ms -lt 9000 ]
check "stderr names the silent endpoint and that its duration bounds it" \
  sh -c "grep -q '$M: no answer before netfaultctl was interrupted; if it still applies the fault, its duration ends it' '$T/int.err'"
: >"$T/fake.log"
"$CTL" -e $F -e $M delay 100ms --to 10.0.0.1 --for 2m >/dev/null 2>"$T/int.err" & IPID=$!
wait_for grep -q '^POST /v1/faults ' "$T/fake.log"; sleep 0.3
t0=$(date +%s%N); kill -TERM $IPID; sleep 0.3; kill -TERM $IPID; wait $IPID; RC=$?; ms=$(( ($(date +%s%N) - t0) / 1000000 ))
check "SIGTERM twice: exit 143 (got $RC) without waiting out the grace (${ms} ms)" [ $RC = 143 ] && [ $ms -lt 3000 ]
check "and the stand-in's fault is reverted" grep -q '^DELETE /v1/faults/f-' "$T/fake.log"

# --- credentials: D again with TLS, bearer tokens and a client CA
kill -TERM $DPID; wait $DPID 2>/dev/null
ssl() { openssl "$@" >/dev/null 2>&1; }
ssl req -x509 -newkey rsa:2048 -nodes -keyout "$T/ca.key" -out "$T/ca.pem" -days 2 -subj /CN=ca
mkcert() { ssl req -newkey rsa:2048 -nodes -keyout "$T/$1.key" -out "$T/$1.csr" -subj "$2"
  printf '%s\n' "$3" >"$T/$1.ext"
  ssl x509 -req -in "$T/$1.csr" -CA "$T/ca.pem" -CAkey "$T/ca.key" -CAcreateserial -days 2 -out "$T/$1.pem" -extfile "$T/$1.ext"; }
mkcert server /CN=netfaultd "subjectAltName=IP:127.0.0.1,DNS:localhost"
mkcert client /CN=runner "extendedKeyUsage=clientAuth"
printf '# name role secret\ngrafana read read-secret-0123456789abcdef\nci write write-secret-0123456789abcdef\n' >"$T/tokens"
chmod 600 "$T/tokens"
"$BIN" --listen 127.0.0.1:$PORT --state-dir "$T/sd" --auth-token-file "$T/tokens" --tls-cert "$T/server.pem" \
  --tls-key "$T/server.key" 2>>"$T/log-d" & PIDS="$PIDS $!"
wait_for curl -s -o /dev/null --cacert "$T/ca.pem" https://127.0.0.1:$PORT/healthz
S=https://127.0.0.1:$PORT
ctl -e $S list; check "https without --cacert: exit 3 (the certificate is not trusted)" [ $RC = 3 ]
ctl -e $S --cacert "$T/ca.pem" list; check "with --cacert but no token: 401 unauthenticated, exit 1" sh -c "[ $RC = 1 ] && grep -q '401' '$T/err'"
ctl -e $S --cacert "$T/ca.pem" --token-file "$T/tokens" list; check "--token-file with NAME ROLE SECRET lines: the write token (got $RC)" [ $RC = 0 ]
ctl -e $S --cacert "$T/ca.pem" --token-file "$T/tokens" --token-name grafana revert --all
check "--token-name grafana (read) on a revert: 403 forbidden, exit 1" sh -c "[ $RC = 1 ] && grep -q '403 forbidden' '$T/err'"
printf 'write-secret-0123456789abcdef\n' >"$T/secret"
ctl -e $S --cacert "$T/ca.pem" --token-file "$T/secret" revert --all; check "a bare secret in --token-file (got $RC)" [ $RC = 0 ]
ctl -e $S --cacert "$T/ca.pem" --token-file "$T/tokens" --token-name nobody list; check "an unknown --token-name exits 2" [ $RC = 2 ]
kill -TERM $(jobs -p | tail -1) 2>/dev/null; sleep 0.5
"$BIN" --listen 127.0.0.1:$PORT --state-dir "$T/sd" --tls-cert "$T/server.pem" --tls-key "$T/server.key" \
  --tls-client-ca "$T/ca.pem" 2>>"$T/log-d" & PIDS="$PIDS $!"
wait_for curl -s -o /dev/null --cacert "$T/ca.pem" --cert "$T/client.pem" --key "$T/client.key" https://127.0.0.1:$PORT/healthz
ctl -e $S --cacert "$T/ca.pem" --cert "$T/client.pem" --key "$T/client.key" revert --all
check "mTLS: --cert/--key name the caller, who may write (got $RC)" [ $RC = 0 ]

echo "1..$n"
[ $failed = 0 ]
