#!/bin/sh
# bench-stall: the longest event-loop stall a listing or a scrape causes (issue 17: at most 10 ms
# at 100 faults x 100 CIDRs). With STALL_FAULTS faults of STALL_CIDRS CIDRs applied, nfbench's probe
# asks GET /healthz on one keep-alive connection every millisecond while another client sends
# GET /v1/faults (streamed one fault a chunk), GET /v1/faults?limit=10, GET /metrics (counters of
# every fault, read at most once a second: a new scrape each second), or nothing (the probe's
# own baseline), and at the end DELETE /v1/faults (every fault reverted, a few a turn). A probe request that arrives while the loop is busy waits for it: the probe's
# maximum latency bounds the longest stall from above. Then the fixed cost of one fault.
. /lab/scenarios/benchlib.sh
bench_nf_start || exit 0
state_dump "$WORK/before"

: >"$WORK/create.cfg"
k=0
while [ $k -lt "$STALL_FAULTS" ]; do
    awk -v k="$k" -v n="$STALL_CIDRS" 'BEGIN{for (i = 0; i < n; i++) printf "100.%d.%d.%d/32\n", 64 + int(k/256), k%256, i}' >"$WORK/t.$k"
    fault_json "$WORK/t.$k" '"delay":{"ms":0}' "$WORK/f.$k.json"
    curl_block POST /v1/faults "$WORK/f.$k.json" >>"$WORK/create.cfg"
    k=$((k + 1))
done
set -- $(run_config "$WORK/create.cfg")
tap_eq "bench-stall: $STALL_FAULTS faults of $STALL_CIDRS CIDRs created (201s)" "$1" "$STALL_FAULTS"

# /metrics reads the actions' counters with one dump per kind (many faults): it must say what
# each fault's own GET says. Five pings matched by one more fault (egress, 0 ms), then both.
if nf_create "bench-stall: one more fault to count" '{"targets":["100.127.0.1/32"],"delay":{"ms":0}}'; then
    cid=$NF_ID
    t ping -c 5 -i 0.2 -W 1 100.127.0.1 >/dev/null 2>&1
    sleep 1.1
    nf_req GET "/v1/faults/$cid"
    got=$(json_num packets)
    mline=$(t $CURL -s "$NF_URL/metrics" | grep "^netfaultd_fault_packets_total{fault_id=\"$cid\"")
    tap_check "bench-stall: the fault counted the 5 pings in its own GET ($got)" test "${got:-0}" -ge 5
    tap_eq "bench-stall: /metrics (one action dump for $((STALL_FAULTS + 1)) faults) says the same packets as GET" "${mline##* }" "$got"
    nf_del "$cid"
fi

# stall_run WHAT PATH [METHOD]: the probe for STALL_MS ms while PATH is asked STALL_REQS times
# (none for WHAT=idle; once with a METHOD), one request a time; emits the probe's max/p99/median
# and the requests' times.
stall_run() {
    local what=$1 path=$2 method=${3:-GET} i=0 reqs=$STALL_REQS
    [ -n "${3:-}" ] && reqs=1
    t $NFB probe 127.0.0.1 9700 "$STALL_MS" >"$WORK/probe.$what" &
    local probe=$!
    sleep 0.3
    : >"$WORK/times.$what"
    while [ -n "$path" ] && [ $i -lt "$reqs" ]; do
        t $CURL -s -m 120 -X "$method" -o "$WORK/body.$what" -w '%{http_code} %{time_total} %{size_download}\n' "$NF_URL$path" >>"$WORK/times.$what"
        [ "$what" = metrics ] && sleep 1.05 # past the counters' one-second cache: each scrape reads them
        i=$((i + 1))
    done
    wait $probe
    set -- $(cat "$WORK/probe.$what")
    tap_check "bench-stall: the probe answered during $what ($4 requests)" test "${4:-0}" -gt 0
    [ -n "${1:-}" ] || return 0
    bench_emit "\"b\":\"loop_stall\",\"impl\":\"netfaultd\",\"during\":\"$what\",\"faults\":$STALL_FAULTS,\"cidrs\":$STALL_CIDRS,\"unit\":\"ms\",\"v\":$(us2ms "$1")"
    bench_emit "\"b\":\"loop_probe_p99\",\"impl\":\"netfaultd\",\"during\":\"$what\",\"unit\":\"ms\",\"v\":$(us2ms "$2")"
    bench_emit "\"b\":\"loop_probe_median\",\"impl\":\"netfaultd\",\"during\":\"$what\",\"unit\":\"ms\",\"v\":$(us2ms "$3")"
    if [ -s "$WORK/times.$what" ]; then
        tap_check "bench-stall: every $path answered 200" sh -c "! awk '\$1 != 200' '$WORK/times.$what' | grep -q ."
        bench_emit "\"b\":\"stall_request\",\"impl\":\"netfaultd\",\"during\":\"$what\",\"bytes\":$(awk 'END{print $3+0}' "$WORK/times.$what"),\"unit\":\"ms\",\"vs\":[$(awk '{printf "%s%.3f", s, $2*1000; s=","}' "$WORK/times.$what")]"
    fi
}
stall_run idle ""
stall_run list /v1/faults
stall_run list-page "/v1/faults?limit=10"
stall_run metrics /metrics

# the listing is whole: every fault, valid JSON
nf_req GET /v1/faults
tap_eq "bench-stall: GET /v1/faults lists every fault (streamed)" "$(echo "$NF_BODY" | grep -o '{"id":"f-' | wc -l)" "$STALL_FAULTS"
tap_check "bench-stall: the streamed list ends as JSON does" sh -c "tail -c 3 '$WORK/body' | grep -q ']}'"
stall_run delete-all /v1/faults DELETE
tap_check "bench-stall: DELETE /v1/faults reverted every fault ($(cat "$WORK/body.delete-all"))" \
    grep -q "\"reverted\":$STALL_FAULTS}" "$WORK/body.delete-all"
# The fixed cost of a fault (issue 17: at most 5 ms): FIXED_CYCLES create/delete pairs of a
# 1-CIDR fault, timed inside the daemon (the kernel work of apply and revert, its own histograms
# in /metrics: no HTTP, no journal), as the difference of the histograms' sums and counts.
hist() { # hist NAME -> "SUM COUNT"
    t $CURL -s "$NF_URL/metrics" | awk -v n="$1" '$1 == n"_sum" {s = $2} $1 == n"_count" {c = $2} END {print s + 0, c + 0}'
}
set -- $(hist netfaultd_fault_apply_duration_seconds) $(hist netfaultd_fault_revert_duration_seconds)
a_sum=$1 a_n=$2 r_sum=$3 r_n=$4
echo '{"targets":["10.0.1.10/32"],"delay":{"ms":0}}' >"$WORK/one.json"
i=0
while [ $i -lt "$FIXED_CYCLES" ]; do
    curl_block POST /v1/faults "$WORK/one.json"
    curl_block DELETE /v1/faults
    i=$((i + 1))
done >"$WORK/fixed.cfg"
set -- $(run_config "$WORK/fixed.cfg")
tap_eq "bench-stall: $FIXED_CYCLES create/delete cycles of a 1-CIDR fault (2xx replies)" "$1" $((2 * FIXED_CYCLES))
set -- $(hist netfaultd_fault_apply_duration_seconds) $(hist netfaultd_fault_revert_duration_seconds)
if [ "$2" -gt "$a_n" ] && [ "$4" -gt "$r_n" ]; then
    apply_ms=$(awk -v s0="$a_sum" -v s1="$1" -v n0="$a_n" -v n1="$2" 'BEGIN{printf "%.3f", (s1 - s0) * 1000 / (n1 - n0)}')
    revert_ms=$(awk -v s0="$r_sum" -v s1="$3" -v n0="$r_n" -v n1="$4" 'BEGIN{printf "%.3f", (s1 - s0) * 1000 / (n1 - n0)}')
    bench_emit "\"b\":\"fault_fixed_cost\",\"impl\":\"netfaultd\",\"stage\":\"apply\",\"cycles\":$FIXED_CYCLES,\"unit\":\"ms\",\"v\":$apply_ms"
    bench_emit "\"b\":\"fault_fixed_cost\",\"impl\":\"netfaultd\",\"stage\":\"revert\",\"cycles\":$FIXED_CYCLES,\"unit\":\"ms\",\"v\":$revert_ms"
    bench_emit "\"b\":\"fault_fixed_cost\",\"impl\":\"netfaultd\",\"stage\":\"total\",\"cycles\":$FIXED_CYCLES,\"unit\":\"ms\",\"v\":$(awk -v a="$apply_ms" -v b="$revert_ms" 'BEGIN{printf "%.3f", a + b}')"
fi
# The same with the interface's hook already there: another fault on eth0 keeps its clsact qdisc
# and guard filters (per interface, created with its first fault and deleted with its last), so
# what remains is a fault's own cost: its filter, its ifb link (from the pool) and its netem.
# Driven by one curl per request (ids are needed); the daemon's histograms time only the kernel.
if nf_create "bench-stall: a fault that keeps eth0's hook" '{"targets":["10.0.1.11/32"],"delay":{"ms":0}}'; then
    keep=$NF_ID
    set -- $(hist netfaultd_fault_apply_duration_seconds) $(hist netfaultd_fault_revert_duration_seconds)
    a_sum=$1 a_n=$2 r_sum=$3 r_n=$4
    i=0 okc=0
    while [ $i -lt "$FIXED_CYCLES" ]; do
        nf_req POST /v1/faults '{"targets":["10.0.1.10/32"],"delay":{"ms":0}}'
        [ "$NF_CODE" = 201 ] && okc=$((okc + 1))
        nf_req DELETE "/v1/faults/$(json_str id)"
        [ "$NF_CODE" = 200 ] && okc=$((okc + 1))
        i=$((i + 1))
    done
    tap_eq "bench-stall: $FIXED_CYCLES create/delete cycles beside a fault that keeps the hook" "$okc" $((2 * FIXED_CYCLES))
    set -- $(hist netfaultd_fault_apply_duration_seconds) $(hist netfaultd_fault_revert_duration_seconds)
    if [ "$2" -gt "$a_n" ] && [ "$4" -gt "$r_n" ]; then
        apply_ms=$(awk -v s0="$a_sum" -v s1="$1" -v n0="$a_n" -v n1="$2" 'BEGIN{printf "%.3f", (s1 - s0) * 1000 / (n1 - n0)}')
        revert_ms=$(awk -v s0="$r_sum" -v s1="$3" -v n0="$r_n" -v n1="$4" 'BEGIN{printf "%.3f", (s1 - s0) * 1000 / (n1 - n0)}')
        for st in apply:$apply_ms revert:$revert_ms total:$(awk -v a="$apply_ms" -v b="$revert_ms" 'BEGIN{printf "%.3f", a + b}'); do
            bench_emit "\"b\":\"fault_fixed_cost\",\"impl\":\"netfaultd-hook-kept\",\"stage\":\"${st%%:*}\",\"cycles\":$FIXED_CYCLES,\"unit\":\"ms\",\"v\":${st#*:}"
        done
    fi
    nf_del "$keep"
fi
bench_emit "\"b\":\"fault_fixed_cost_http\",\"impl\":\"netfaultd\",\"cycles\":$FIXED_CYCLES,\"unit\":\"ms\",\"vs\":[$(awk 'NR%2==1{a=$2} NR%2==0{printf "%s%.3f", s, (a+$2)*1000; s=","}' "$WORK/replies")]"

state_same "bench-stall: kernel state at the end equals the start" "$WORK/before"
nf_finish
