#!/bin/sh
# bench-metrics (issue 14): GET /metrics scrape latency with 0, 100 and 1,000 live faults.
# A daemon holds at most 128 faults per network namespace, so 1,000 live faults are 100 in `task`
# and 900 in eight more namespaces (mb0..mb7, a veth pair inside each, d0 with a default route;
# the lab kernel has no dummy module), all of one
# daemon (--netns-mode on, "netns":{"path":...}). Every fault is a real one: a flower filter, an
# ifb link and a netem qdisc (delay 0 ms) toward its own /32 in 100.64.0.0/10.
# Per size, METRICS_REPS rounds of two scrapes from one curl process: "cold" after the daemon's
# 1 s counter cache has run out (the kernel's counters of every fault are read), "cached" right
# after it (the same counters rendered again). curl's time_total; the body size; and the
# counter reads each cold scrape cost (netfaultd_fault_stats_reads_total).
. /lab/scenarios/benchlib.sh
MB_NS=8
MB_PER_NS=120

mb_cleanup() {
    local i=0
    while [ $i -lt $MB_NS ]; do $IP netns del mb$i 2>/dev/null; i=$((i + 1)); done
}
i=0
while [ $i -lt $MB_NS ]; do
    $IP netns add mb$i && $IP -n mb$i link set lo up && $IP -n mb$i link add d0 type veth peer name d0p &&
        $IP -n mb$i link set d0p up && $IP -n mb$i link set d0 up && $IP -n mb$i addr add 10.200.$i.2/24 dev d0 &&
        $IP -n mb$i route add default via 10.200.$i.1 dev d0 ||
        { tap_fail "bench-metrics: namespace mb$i with a veth pair and a default route"; mb_cleanup; exit 0; }
    i=$((i + 1))
done
state_dump "$WORK/before"
bench_nf_start --netns-mode on || { mb_cleanup; exit 0; }

# make_faults FROM TO: fault bodies FROM..TO-1 (0..99 in task, the rest MB_PER_NS per mbN) and
# one curl config that creates them
make_faults() {
    awk -v from="$1" -v to="$2" -v per=$MB_PER_NS -v dir="$WORK" -v url="$NF_URL" 'BEGIN {
        for (k = from; k < to; k++) {
            f = dir "/mf." k ".json"
            ns = ""
            if (k >= 100) ns = sprintf(",\"netns\":{\"path\":\"/run/netns/mb%d\"}", int((k - 100) / per))
            printf "{\"targets\":[\"100.%d.%d.1/32\"],\"delay\":{\"ms\":0},\"duration_s\":3600%s}\n", 64 + int(k / 256), k % 256, ns > f
            close(f)
            printf "url = \"%s/v1/faults\"\nrequest = \"POST\"\nsilent\noutput = \"/dev/null\"\n", url
            printf "write-out = \"%%{http_code} %%{time_total}\\n\"\nheader = \"Content-Type: application/json\"\n"
            printf "data-binary = \"@%s\"\nnext\n", f
        } }' >"$WORK/create.cfg"
}
reads_total() { t $CURL -s -m 60 "$NF_URL/metrics" | awk '$1 == "netfaultd_fault_stats_reads_total" { print $2 }'; }

have=0
for n in $METRICS_SIZES; do
    if [ "$n" -gt "$have" ]; then
        make_faults "$have" "$n"
        set -- $(run_config "$WORK/create.cfg")
        tap_eq "bench-metrics: faults $have..$((n - 1)) created (201s)" "$1" $((n - have))
        bench_emit "\"b\":\"metrics_create\",\"impl\":\"netfaultd\",\"from\":$have,\"to\":$n,\"unit\":\"ms\",\"v\":$2"
        have=$n
    fi
    tap_eq "bench-metrics: live faults (netfaultd_faults_active)" \
        "$(t $CURL -s -m 60 "$NF_URL/metrics" | awk '$1 == "netfaultd_faults_active" { print $2 }')" "$n"
    { curl_block GET /metrics; curl_block GET /metrics; } >"$WORK/scrape.cfg"
    sleep 1.2
    r0=$(reads_total)
    cold= cached= r=0 bad=0
    while [ $r -lt "$METRICS_REPS" ]; do
        sleep 1.2 # past the 1 s counter cache
        t $CURL -K "$WORK/scrape.cfg" >"$WORK/replies" 2>/dev/null
        set -- $(awk '{ printf "%s %.3f ", $1, $2 * 1000 }' "$WORK/replies")
        [ "${1:-}" = 200 ] && [ "${3:-}" = 200 ] || bad=$((bad + 1))
        cold="$cold${cold:+,}${2:-0}"
        cached="$cached${cached:+,}${4:-0}"
        r=$((r + 1))
    done
    sleep 1.2
    r1=$(reads_total)
    bytes=$(t $CURL -s -m 60 "$NF_URL/metrics" | wc -c)
    series=$(t $CURL -s -m 60 "$NF_URL/metrics" | grep -c '^netfaultd_fault_packets_total{')
    tap_eq "bench-metrics: $n faults: every scrape answered 200 (rounds with another status:)" "$bad" 0
    tap_eq "bench-metrics: $n faults: one packet series per fault" "$series" "$n"
    bench_emit "\"b\":\"metrics_scrape\",\"impl\":\"netfaultd\",\"faults\":$n,\"cache\":\"cold\",\"unit\":\"ms\",\"bytes\":$bytes,\"vs\":[$cold]"
    bench_emit "\"b\":\"metrics_scrape\",\"impl\":\"netfaultd\",\"faults\":$n,\"cache\":\"cached\",\"unit\":\"ms\",\"bytes\":$bytes,\"vs\":[$cached]"
    # counter reads per cold scrape: (reads after - before, minus the reads_total scrape itself) / rounds
    [ -n "$r0" ] && [ -n "$r1" ] &&
        bench_emit "\"b\":\"metrics_reads\",\"impl\":\"netfaultd\",\"faults\":$n,\"unit\":\"reads/scrape\",\"v\":$(awk -v a="$r0" -v b="$r1" -v n="$n" -v k="$METRICS_REPS" 'BEGIN { printf "%.1f", (b - a - n) / k }')"
done

# DELETE /v1/faults of 1,000 faults outlasts the daemon's --request-timeout (10 s) under TCG, and
# the reply can be lost with the connection; what counts is that every fault is gone.
set -- $(t $CURL -s -m 300 -o "$WORK/body" -w '%{http_code} %{time_total}' -X DELETE "$NF_URL/v1/faults" 2>/dev/null)
tap_diag "bench-metrics: DELETE /v1/faults with $have faults -> ${1:-000} after ${2:-?} s: $(head -c 200 "$WORK/body" 2>/dev/null)"
bench_emit "\"b\":\"metrics_delete_all\",\"impl\":\"netfaultd\",\"faults\":$have,\"code\":\"${1:-000}\",\"unit\":\"ms\",\"v\":$(s2ms "${2:-0}")"
active=
i=0
while [ $i -lt 120 ]; do
    active=$(t $CURL -s -m 60 "$NF_URL/metrics" | awk '$1 == "netfaultd_faults_active" { print $2 }')
    [ "$active" = 0 ] && break
    sleep 1
    i=$((i + 1))
done
tap_eq "bench-metrics: after DELETE /v1/faults, live faults" "$active" 0
left=0
i=0
while [ $i -lt $MB_NS ]; do
    left=$((left + $($IP -n mb$i link show type ifb 2>/dev/null | grep -c 'nfe')))
    i=$((i + 1))
done
tap_eq "bench-metrics: no ifb link of ours left in mb0..mb$((MB_NS - 1))" "$left" 0
state_same "bench-metrics: kernel state of task at the end equals the start" "$WORK/before"
nf_finish
mb_cleanup
