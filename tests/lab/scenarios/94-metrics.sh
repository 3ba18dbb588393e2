#!/bin/sh
# metrics (issue 14): GET /metrics, read with a read token, against live faults on a real kernel.
# Two faults in `task`: A delays 10.0.1.10 by 10 ms, B blackholes 10.0.2.10. Proven, scrape by
# scrape (each after the daemon's 1 s counter cache has run out):
#  - pings to an untargeted address (10.0.9.10) leave both faults' packet counters flat;
#  - 100 pings to 10.0.1.10 raise A's netfaultd_fault_packets_total by 100 (bytes by 100 frames'
#    worth) and leave B flat; 50 pings to 10.0.2.10 raise B's packets and drops together (by 50
#    or more: ping re-sends what the drop refused), A flat;
#  - the counters equal the kernel's own, read by `tc -s filter show` (an independent reader);
#  - a real Prometheus server (Debian's, when the host has one: run.sh puts it in the image)
#    scrapes the daemon with a bearer token from a credentials file and answers a query for A's
#    packet counter: flat across the untargeted pings, +100 across the targeted ones. Without
#    /usr/bin/prometheus in the image that part is a SKIP, saying so.
# lab-timeout: 360
. /lab/lib.sh
PROM=/usr/bin/prometheus
RS=lab-metrics-read-secret-0123456789
WS=lab-metrics-write-secret-0123456789
TOKENS=/run/nf-metrics-tokens
PROM_PID=

printf 'prometheus read %s\nci write %s\n' "$RS" "$WS" >"$TOKENS"
chmod 600 "$TOKENS"
state_dump "$WORK/before"
nf_start --auth-token-file "$TOKENS" --state-dir "$WORK/state" || exit 0

# w_req METHOD PATH [JSON]: with the write token; sets NF_CODE NF_BODY
w_req() {
    if [ -n "${3:-}" ]; then
        NF_CODE=$(t $CURL -s -m 10 -o "$WORK/body" -w '%{http_code}' -H "Authorization: Bearer $WS" -X "$1" \
            -H 'Content-Type: application/json' --data-binary "$3" "$NF_URL$2" 2>/dev/null)
    else
        NF_CODE=$(t $CURL -s -m 10 -o "$WORK/body" -w '%{http_code}' -H "Authorization: Bearer $WS" -X "$1" "$NF_URL$2" 2>/dev/null)
    fi
    NF_BODY=$(cat "$WORK/body" 2>/dev/null)
}
# scrape [NAME]: GET /metrics with the read token into $WORK/metrics(.NAME); sets M_CODE.
# Waits out the daemon's 1 s counter cache first, so the counters are read anew.
SCRAPES=0
scrape() {
    sleep 1.2
    SCRAPES=$((SCRAPES + 1))
    M_CODE=$(t $CURL -s -m 10 -o "$WORK/metrics" -w '%{http_code}' -H "Authorization: Bearer $RS" "$NF_URL/metrics" 2>/dev/null)
    cp "$WORK/metrics" "$WORK/metrics.$SCRAPES"
}
# series METRIC FAULT_NAME: the value of METRIC{fault_name="FAULT_NAME",...} in the last scrape
series() {
    awk -v m="$1" -v n="fault_name=\"$2\"" 'index($0, m "{") == 1 && index($0, n) { v = $NF } END { print v }' "$WORK/metrics"
}
# tc_sent IFACE DIR ACTIONKIND: packets and bytes the kernel counted on our filters' actions of
# that kind (mirred: a delay, gact: a blackhole), summed; "PKTS BYTES"
tc_sent() {
    t $TC -s filter show dev "$1" "$2" 2>/dev/null | awk -v k="$3" '
        $0 ~ "action order [0-9]+: " k { want = 1 }
        want && /Sent [0-9]+ bytes [0-9]+ pkt/ { for (i = 1; i <= NF; i++) { if ($i == "Sent") b += $(i+1); if ($i == "pkt") p += $(i-1) } want = 0 }
        END { printf "%d %d\n", p, b }'
}
# isub A B: A - B, empty when either is (a missing series fails the check, never the script)
isub() { [ -n "$1" ] && [ -n "$2" ] && echo $(($1 - $2)); }
cleanup() {
    [ -n "$PROM_PID" ] && kill "$PROM_PID" 2>/dev/null && wait "$PROM_PID" 2>/dev/null
    PROM_PID=
}

code=$(t $CURL -s -m 5 -o /dev/null -w '%{http_code}' "$NF_URL/metrics")
tap_eq "metrics: GET /metrics without a token" "$code" 401

nf_A= nf_B=
w_req POST /v1/faults '{"targets":["10.0.1.10"],"delay":{"ms":10},"duration_s":300,"name":"metrics-a"}'
[ "$NF_CODE" = 201 ] && nf_A=$(json_str id) || tap_fail "metrics: fault A (delay 10 ms to 10.0.1.10) is created: $NF_CODE $NF_BODY"
w_req POST /v1/faults '{"targets":["10.0.2.10"],"blackhole":true,"duration_s":300,"name":"metrics-b"}'
[ "$NF_CODE" = 201 ] && nf_B=$(json_str id) || tap_fail "metrics: fault B (blackhole of 10.0.2.10) is created: $NF_CODE $NF_BODY"
if [ -z "$nf_A" ] || [ -z "$nf_B" ]; then nf_finish; exit 0; fi

# ---- a real Prometheus, scraping every second with the read token from a credentials file
prom_q() { # EXPR: the first sample's value of an instant query, "" for none
    t $CURL -s -m 5 "http://127.0.0.1:9090/api/v1/query" --data-urlencode "query=$1" 2>/dev/null |
        grep -o '"value":\[[0-9.e+]*,"[^"]*"\]' | head -n1 | sed 's/.*,"\(.*\)"\]/\1/'
}
# prom_after T_S EXPR: polls (up to 30 s) until Prometheus holds a sample of EXPR scraped after
# wall clock T_S (seconds); prints its value, "" when none came
prom_after() {
    local i=0 ts
    while [ $i -lt 150 ]; do
        ts=$(prom_q "timestamp($2)")
        if [ -n "$ts" ] && awk -v a="$ts" -v b="$1" 'BEGIN { exit !(a > b) }'; then prom_q "$2"; return; fi
        sleep 0.2
        i=$((i + 1))
    done
}
QA='netfaultd_fault_packets_total{fault_name="metrics-a"}'
if [ -x $PROM ]; then
    printf '%s' "$RS" >"$WORK/scrape-token"
    cat >"$WORK/prometheus.yml" <<Y
global: {scrape_interval: 1s, evaluation_interval: 1s}
scrape_configs:
  - job_name: netfaultd
    authorization: {type: Bearer, credentials_file: $WORK/scrape-token}
    static_configs: [{targets: ["127.0.0.1:9700"]}]
Y
    t0=$(now_ms)
    $IP netns exec task $PROM --config.file="$WORK/prometheus.yml" --storage.tsdb.path="$WORK/tsdb" \
        --web.listen-address=127.0.0.1:9090 >"$WORK/prometheus.log" 2>&1 &
    PROM_PID=$!
    up=
    i=0
    while [ $i -lt 300 ] && kill -0 "$PROM_PID" 2>/dev/null; do
        up=$(prom_q 'up{job="netfaultd"}')
        [ "$up" = 1 ] && break
        sleep 0.3
        i=$((i + 1))
    done
    tap_eq "metrics: Prometheus $($PROM --version 2>&1 | head -n1 | awk '{print $3}') scrapes netfaultd with the read token, $(( $(now_ms) - t0 )) ms after its start: up =" "$up" 1 ||
        { tap_diag_file "prometheus log" "$WORK/prometheus.log" 15; cleanup; }
else
    tap_skip "metrics: a real Prometheus scrapes the daemon" "no $PROM in the image (the host has no Debian prometheus package); scraped directly only"
fi

# ---- untargeted traffic: both flat
scrape s0
tap_eq "metrics: GET /metrics with the read token" "$M_CODE" 200
a0=$(series netfaultd_fault_packets_total metrics-a)
b0=$(series netfaultd_fault_packets_total metrics-b)
tap_check "metrics: both faults have a packet series (A=$a0, B=$b0) with their interface and direction" \
    grep -q "^netfaultd_fault_packets_total{fault_id=\"$nf_A\",fault_name=\"metrics-a\",interface=\"eth0\",netns=\"\",pod_uid=\"\",direction=\"egress\"} " "$WORK/metrics"
tap_eq "metrics: netfaultd_faults_active" "$(awk '$1 == "netfaultd_faults_active" { print $2 }' "$WORK/metrics")" 2
if [ -n "$PROM_PID" ]; then
    pa0=$(prom_after "$(date +%s)" "$QA")
    tap_eq "metrics: Prometheus holds A's packet counter, as the direct scrape reads it" "$pa0" "$a0"
fi
ping_probe 10.0.9.10 100 0.01
t_u=$(date +%s)
tap_eq "metrics: 100 pings to the untargeted 10.0.9.10 answered" "$P_RECV" 100
scrape s1
tap_eq "metrics: A's packets after untargeted traffic (flat)" "$(series netfaultd_fault_packets_total metrics-a)" "$a0"
tap_eq "metrics: B's packets after untargeted traffic (flat)" "$(series netfaultd_fault_packets_total metrics-b)" "$b0"
if [ -n "$PROM_PID" ]; then
    # a sample scraped 2 s after the pings ended: the daemon's counters are at most 1 s old
    pa1=$(prom_after "$((t_u + 2))" "$QA")
    tap_eq "metrics: Prometheus: A's packet counter across the untargeted pings (flat)" "$pa1" "$pa0"
fi

# ---- traffic toward A's target: A rises by exactly the pings, B flat
ab0=$(series netfaultd_fault_bytes_total metrics-a)
ping_probe 10.0.1.10 100 0.01
t_a=$(date +%s)
tap_eq "metrics: 100 pings to A's target 10.0.1.10 answered" "$P_RECV" 100
scrape s2
a2=$(series netfaultd_fault_packets_total metrics-a)
ab2=$(series netfaultd_fault_bytes_total metrics-a)
tap_eq "metrics: A's netfaultd_fault_packets_total rose by the 100 echo requests ($a0 -> $a2)" "$(isub "$a2" "$a0")" 100
tap_between "metrics: A's netfaultd_fault_bytes_total rose by 100 echo requests of 84..98 bytes ($ab0 -> $ab2)" "$(isub "$ab2" "$ab0")" 8400 9800 " bytes"
tap_eq "metrics: B's packets after A's traffic (flat)" "$(series netfaultd_fault_packets_total metrics-b)" "$b0"
set -- $(tc_sent eth0 egress mirred)
tap_eq "metrics: A's counter equals the kernel's, read by tc -s filter show (mirred action)" "$1 $2" "$a2 $ab2"
if [ -n "$PROM_PID" ]; then
    pa2=$(prom_after "$((t_a + 2))" "$QA")
    tap_eq "metrics: Prometheus: A's packet counter rose across the targeted pings ($pa1 -> $pa2) by" \
        "$(awk -v a="$pa1" -v b="$pa2" 'BEGIN { printf "%d", b - a }')" 100
    r=$(prom_q "increase(${QA}[2m])")
    tap_above "metrics: Prometheus: increase(A's packets[2m])" "$(awk -v r="${r:-0}" 'BEGIN { printf "%d", r + 0.5 }')" 99
fi

# ---- traffic toward B's target: B's packets and drops rise, A flat
bd0=$(series netfaultd_fault_drops_total metrics-b)
ping_probe 10.0.2.10 50 0.01
tap_eq "metrics: 50 pings into B's blackhole answered" "$P_RECV" 0
scrape s3
# A drop on the egress hook fails ping's sendmsg with ENOBUFS, and ping sends again without
# counting it: the kernel sees more echo requests than the 50 ping reports (149 in one run).
# So: at least 50, every one matched also dropped, and the same as the kernel's own count below.
b3=$(series netfaultd_fault_packets_total metrics-b)
bd3=$(series netfaultd_fault_drops_total metrics-b)
tap_above "metrics: B's netfaultd_fault_packets_total rose by the 50 pings (ping re-sends refused ones: $b0 -> $b3)" "$(isub "$b3" "$b0")" 49
tap_eq "metrics: B's netfaultd_fault_drops_total rose by as many (every matched packet dropped)" "$(isub "$bd3" "$bd0")" "$(isub "$b3" "$b0")"
tap_eq "metrics: A's packets after B's traffic (flat)" "$(series netfaultd_fault_packets_total metrics-a)" "$a2"
set -- $(tc_sent eth0 egress gact)
tap_eq "metrics: B's counter equals the kernel's (tc -s filter show, gact action), packets" "$1" "$(series netfaultd_fault_packets_total metrics-b)"

cleanup
w_req DELETE /v1/faults
tap_eq "metrics: DELETE /v1/faults" "$NF_CODE" 200
scrape end
tap_eq "metrics: after the revert no per-fault series remain" "$(grep -c '^netfaultd_fault_packets_total{' "$WORK/metrics")" 0
tap_eq "metrics: reverted by reason deleted" "$(awk '$1 == "netfaultd_faults_reverted_total{reason=\"deleted\"}" { print $2 }' "$WORK/metrics")" 2
state_same "metrics: the tc/link state equals the state before" "$WORK/before"
nf_finish TERM
