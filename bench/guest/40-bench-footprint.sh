#!/bin/sh
# bench-footprint: netfaultd's resident memory idle, with 100 faults of 100 CIDRs each (10,000
# flower filters, 100 ifb links), after reverting them, and after CYCLES create/delete cycles.
# Requests go through one curl process per batch (curl --next), so the client costs little.
. /lab/scenarios/benchlib.sh
bench_nf_start || exit 0
state_dump "$WORK/before"

guard_pid() { cat /proc/$NF_PID/task/$NF_PID/children 2>/dev/null | awk '{print $1}'; }
rss_emit() { # rss_emit STATE
    bench_emit "\"b\":\"rss_guest\",\"impl\":\"netfaultd\",\"state\":\"$1\",\"unit\":\"kB\",\"v\":$(rss_kb $NF_PID)"
    local g=$(guard_pid)
    [ -n "$g" ] && bench_emit "\"b\":\"rss_guest\",\"impl\":\"netfaultd-guard\",\"state\":\"$1\",\"unit\":\"kB\",\"v\":$(rss_kb $g)"
}
sleep 1
rss_emit idle

# 100 faults x 100 CIDRs
: >"$WORK/create.cfg"
k=0
while [ $k -lt "$FP_FAULTS" ]; do
    awk -v k="$k" -v n="$FP_CIDRS" 'BEGIN{for (i = 0; i < n; i++) printf "100.%d.%d.%d/32\n", 64 + int(k/256), k%256, i}' >"$WORK/t.$k"
    fault_json "$WORK/t.$k" '"delay":{"ms":0}' "$WORK/f.$k.json"
    curl_block POST /v1/faults "$WORK/f.$k.json" >>"$WORK/create.cfg"
    k=$((k + 1))
done
set -- $(run_config "$WORK/create.cfg")
tap_eq "bench-footprint: $FP_FAULTS faults of $FP_CIDRS CIDRs created (201s)" "$1" "$FP_FAULTS"
bench_emit "\"b\":\"fp_create_many\",\"impl\":\"netfaultd\",\"faults\":$FP_FAULTS,\"cidrs\":$FP_CIDRS,\"unit\":\"ms\",\"v\":$2"
bench_emit "\"b\":\"fp_create_each\",\"impl\":\"netfaultd\",\"n\":$FP_CIDRS,\"unit\":\"ms\",\"vs\":[$(awk '{printf "%s%.3f", s, $2*1000; s=","}' "$WORK/replies")]"
sleep 1
rss_emit "${FP_FAULTS}x${FP_CIDRS}"
nf_req GET /v1/faults
bench_emit "\"b\":\"fp_list_many\",\"impl\":\"netfaultd\",\"faults\":$FP_FAULTS,\"unit\":\"ms\",\"bytes\":${#NF_BODY},\"v\":$(s2ms "$NF_TIME")"
nf_req DELETE /v1/faults
tap_eq "bench-footprint: DELETE /v1/faults" "$NF_CODE" 200
bench_emit "\"b\":\"fp_delete_all\",\"impl\":\"netfaultd\",\"faults\":$FP_FAULTS,\"unit\":\"ms\",\"v\":$(s2ms "$NF_TIME")"
sleep 1
rss_emit "after-${FP_FAULTS}x${FP_CIDRS}-reverted"

# create/delete cycles (one CIDR, delay 0 ms)
echo '{"targets":["10.0.1.10/32"],"delay":{"ms":0}}' >"$WORK/one.json"
: >"$WORK/cycle.cfg"
i=0
while [ $i -lt "$FP_CYCLES" ]; do
    curl_block POST /v1/faults "$WORK/one.json"
    curl_block DELETE /v1/faults
    i=$((i + 1))
done >"$WORK/cycle.cfg"
set -- $(run_config "$WORK/cycle.cfg")
tap_eq "bench-footprint: $FP_CYCLES create/delete cycles (2xx replies)" "$1" $((2 * FP_CYCLES))
bench_emit "\"b\":\"fp_cycles\",\"impl\":\"netfaultd\",\"cycles\":$FP_CYCLES,\"unit\":\"ms\",\"v\":$2"
sleep 1
rss_emit "after-${FP_CYCLES}-cycles"

state_same "bench-footprint: kernel state at the end equals the start" "$WORK/before"
nf_finish
