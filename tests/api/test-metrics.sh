#!/bin/bash
# GET /metrics (issue 14) with real tools: promtool check metrics on the output, and a real
# Prometheus server (Debian's prometheus package) started here on loopback with a bearer-token
# scrape config, whose query answers rise as requests come. On this host's kernel (no netem or
# flower) no fault can be applied, so the series that rise here are the daemon's own (requests
# by route and status, dry runs among them); the per-fault packet counter rising under traffic
# is the kernel lab's to show. The Grafana dashboard's queries name only metrics that exist.
# Emits TAP; skips the Prometheus parts where the package is missing (scripts/deps.sh test).
set -u
BIN=${1:?usage: test-metrics.sh path/to/netfaultd}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
if [ -z "${NF_METRICS_NS-}" ]; then NF_METRICS_NS=1 exec unshare -n "$0" "$@"; fi
ip link set lo up
T=$(mktemp -d)
n=0; failed=0; PID=; PROM=
ok()   { n=$((n+1)); echo "ok $n - $*"; }
nok()  { n=$((n+1)); failed=$((failed+1)); echo "not ok $n - $*"; }
skip() { n=$((n+1)); echo "ok $n - # SKIP $*"; }
check() { local desc=$1; shift; if "$@"; then ok "$desc"; else nok "$desc"; fi; }
cleanup() { for p in $PID $PROM; do kill "$p" 2>/dev/null; done; wait 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT
PORT=9743; PPORT=9744
RS=metrics-read-secret-0123456789; WS=metrics-write-secret-0123456789
printf 'prometheus read %s\nci write %s\n' "$RS" "$WS" >"$T/tokens"; chmod 600 "$T/tokens"
"$BIN" --listen "127.0.0.1:$PORT" --state-dir "$T/state" --auth-token-file "$T/tokens" 2>"$T/log" & PID=$!
for i in $(seq 100); do grep -q daemon.started "$T/log" && break; sleep 0.1; done
U=http://127.0.0.1:$PORT
R=(-H "Authorization: Bearer $RS"); W=(-H "Authorization: Bearer $WS")
DRY='{"targets":["10.0.0.1"],"interfaces":["lo"],"blackhole":true}'
dry() { curl -s -o /dev/null "${W[@]}" -H 'Content-Type: application/json' -XPOST --data-binary "$DRY" "$U/v1/faults?dry_run=true"; }

code=$(curl -s -o /dev/null -w '%{http_code}' "$U/metrics")
check "GET /metrics without a token: 401 ($code)" test "$code" = 401
dry; dry
curl -s -o /dev/null "$U/v1/faults"
curl -s -D "$T/h" "${R[@]}" "$U/metrics" >"$T/m"
check "GET /metrics with a read token: the text format" grep -qi '^Content-Type: text/plain; version=0.0.4' "$T/h"
if command -v promtool >/dev/null; then
  if out=$(promtool check metrics <"$T/m" 2>&1); then ok "promtool check metrics passes"; else nok "promtool check metrics"; echo "$out" | sed 's/^/# /'; fi
else skip "promtool is not installed (Debian package prometheus)"; fi
for m in netfaultd_build_info netfaultd_faults_active netfaultd_faults_created_total netfaultd_faults_reverted_total \
         netfaultd_fault_packets_total netfaultd_fault_bytes_total netfaultd_fault_drops_total \
         netfaultd_fault_apply_duration_seconds netfaultd_fault_revert_duration_seconds netfaultd_http_requests_total \
         netfaultd_guardian_up netfaultd_journal_write_errors_total netfaultd_dns_resolutions_total; do
  check "$m is exposed" grep -q "^# TYPE $m " "$T/m"
done
check "the dry runs are counted by route and status" \
  grep -q '^netfaultd_http_requests_total{route="/v1/faults",method="POST",code="200"} 2$' "$T/m"
check "the refused read is counted as a 401" grep -q 'route="/v1/faults",method="GET",code="401"} 1$' "$T/m"
check "reverts by reason, each reason a series" test "$(grep -c '^netfaultd_faults_reverted_total{reason=' "$T/m")" = 8

# The dashboard's queries name metrics that exist.
if python3 - "$ROOT/dashboards/netfaultd.json" "$T/m" >"$T/dash" 2>&1 <<'PY'
import json, re, sys
d = json.load(open(sys.argv[1]))
exposed = set(re.findall(r'^# TYPE (\S+) ', open(sys.argv[2]).read(), re.M))
exprs = [t["expr"] for p in d["panels"] for t in p.get("targets", [])] + [a["expr"] for a in d["annotations"]["list"]]
exprs.append(d["templating"]["list"][1]["query"])
bad = []
for e in exprs:
    for m in re.findall(r'netfaultd_[a-z0-9_]+', e):
        base = re.sub(r'_(bucket|sum|count)$', '', m)
        if m not in exposed and base not in exposed: bad.append(m)
print(len(exprs), "queries;", "unknown:", sorted(set(bad)))
sys.exit(1 if bad or not exprs else 0)
PY
then ok "dashboards/netfaultd.json: $(cat "$T/dash")"; else nok "dashboards/netfaultd.json: $(cat "$T/dash")"; fi

if ! command -v prometheus >/dev/null; then
  skip "prometheus is not installed (Debian package prometheus)"
else
  printf '%s' "$RS" >"$T/scrape-token"
  cat >"$T/prometheus.yml" <<Y
global: {scrape_interval: 1s, evaluation_interval: 1s}
scrape_configs:
  - job_name: netfaultd
    authorization: {type: Bearer, credentials_file: $T/scrape-token}
    static_configs: [{targets: ["127.0.0.1:$PORT"]}]
Y
  if out=$(promtool check config "$T/prometheus.yml" 2>&1); then ok "promtool check config accepts the scrape config"
  else nok "promtool check config"; echo "$out" | sed 's/^/# /'; fi
  prometheus --config.file="$T/prometheus.yml" --storage.tsdb.path="$T/tsdb" --web.listen-address="127.0.0.1:$PPORT" \
    >"$T/prom.log" 2>&1 & PROM=$!
  # query EXPR -> the first sample's value, "" for none
  query() { curl -s --max-time 2 "http://127.0.0.1:$PPORT/api/v1/query" --data-urlencode "query=$1" |
            python3 -c 'import json,sys
r = json.load(sys.stdin)["data"]["result"]
print(r[0]["value"][1] if r else "")' 2>/dev/null; }
  Q='netfaultd_http_requests_total{route="/v1/faults",method="POST",code="200"}'
  up=""; for i in $(seq 150); do up=$(query 'up{job="netfaultd"}'); [ "$up" = 1 ] && break; sleep 0.2; done
  check "Prometheus scrapes netfaultd with the bearer token (up=$up)" test "$up" = 1
  before=""; for i in $(seq 50); do before=$(query "$Q"); [ -n "$before" ] && break; sleep 0.2; done
  for i in 1 2 3 4 5; do dry; done
  after=$before; for i in $(seq 60); do after=$(query "$Q"); [ -n "$after" ] && [ "${after%.*}" -gt "${before%.*:-0}" ] 2>/dev/null && break; sleep 0.2; done
  check "the dry-run counter Prometheus stores rises ($before -> $after)" sh -c "[ -n '$before' ] && [ '${after%.*}' -ge \$(( ${before%.*} + 5 )) ]"
  act=$(query 'netfaultd_faults_active'); check "Prometheus has netfaultd_faults_active ($act)" test "$act" = 0
  kill $PROM; wait $PROM 2>/dev/null; PROM=
fi
kill -TERM $PID; wait $PID; rc=$?; PID=
check "netfaultd stops cleanly ($rc)" [ $rc = 0 ]
echo "1..$n"
[ $failed = 0 ]
