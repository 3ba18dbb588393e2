#!/bin/sh
# bench-datapath: what N installed target CIDRs cost traffic that does NOT match them
# (iperf3 task -> 10.0.9.10, ping RTT), netfaultd's flower filters vs a linear u32 chain of
# the same size (tc -batch, same clsact hook, same mirred->ifb action); and what a 0 ms
# delay fault costs traffic that DOES match (iperf3 to 10.0.1.10 through the ifb+netem).
# Rounds interleave every configuration so that TCG's drift hits all of them alike.
. /lab/scenarios/benchlib.sh
bench_nf_start || exit 0
state_dump "$WORK/before"

for n in $DP_SIZES; do
    [ "$n" -gt 0 ] || continue
    targets_file "$n" "$WORK/targets.$n"
    fault_json "$WORK/targets.$n" '"delay":{"ms":0}' "$WORK/fault.$n.json"
done
echo 10.0.1.10/32 >"$WORK/targets.hit"
fault_json "$WORK/targets.hit" '"delay":{"ms":0}' "$WORK/fault.hit.json"

# measure CONFIG N: one throughput and one RTT sample toward the untargeted address
measure() {
    kbit=$(iperf_kbit 10.0.9.10 "$DP_SECS")
    [ -n "$kbit" ] && bench_emit "\"b\":\"dp_tput\",\"impl\":\"$1\",\"n\":$2,\"unit\":\"kbit/s\",\"v\":$kbit"
    rtt=$(median_rtt 10.0.9.10 "$DP_PINGS" 0.01)
    [ -n "$rtt" ] && bench_emit "\"b\":\"dp_rtt\",\"impl\":\"$1\",\"n\":$2,\"unit\":\"ms\",\"v\":$rtt"
}

r=1
while [ $r -le "$DP_ROUNDS" ]; do
    for n in $DP_SIZES; do
        if [ "$n" = 0 ]; then
            measure none 0
            continue
        fi
        nf_post_file "$WORK/fault.$n.json"
        if [ "$NF_CODE" = 201 ]; then
            measure netfaultd "$n"
            nf_del "$NF_ID"
        else
            tap_fail "bench-datapath: POST $n targets -> $NF_CODE"
        fi
        tcref_apply_batch u32 "$WORK/targets.$n" >/dev/null
        [ $r = 1 ] && tap_eq "bench-datapath: u32 chain of $n filters on eth0 egress" "$(egress_filters)" "$n"
        measure u32-chain "$n"
        tcref_cleanup
    done
    # targeted traffic: no fault, then through a 0 ms delay fault (classification + ifb + netem)
    kbit=$(iperf_kbit 10.0.1.10 "$DP_SECS")
    [ -n "$kbit" ] && bench_emit "\"b\":\"dp_targeted_tput\",\"impl\":\"none\",\"n\":1,\"unit\":\"kbit/s\",\"v\":$kbit"
    nf_post_file "$WORK/fault.hit.json"
    if [ "$NF_CODE" = 201 ]; then
        kbit=$(iperf_kbit 10.0.1.10 "$DP_SECS")
        [ -n "$kbit" ] && bench_emit "\"b\":\"dp_targeted_tput\",\"impl\":\"netfaultd-0ms\",\"n\":1,\"unit\":\"kbit/s\",\"v\":$kbit"
        rtt=$(median_rtt 10.0.1.10 "$DP_PINGS" 0.01)
        [ -n "$rtt" ] && bench_emit "\"b\":\"dp_targeted_rtt\",\"impl\":\"netfaultd-0ms\",\"n\":1,\"unit\":\"ms\",\"v\":$rtt"
        nf_del "$NF_ID"
    else
        tap_fail "bench-datapath: POST targeted 0 ms fault -> $NF_CODE"
    fi
    rtt=$(median_rtt 10.0.1.10 "$DP_PINGS" 0.01)
    [ -n "$rtt" ] && bench_emit "\"b\":\"dp_targeted_rtt\",\"impl\":\"none\",\"n\":1,\"unit\":\"ms\",\"v\":$rtt"
    tap_diag "bench-datapath: round $r done at $(cut -d' ' -f1 /proc/uptime) s"
    r=$((r + 1))
done

state_same "bench-datapath: kernel state at the end equals the start" "$WORK/before"
nf_finish
