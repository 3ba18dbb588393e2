#!/bin/sh
# bench-fidelity: requested vs measured delay (per-packet error of ping RTT above the
# no-fault median, in ms) and requested vs measured loss (UDP datagrams on a fixed schedule).
. /lab/scenarios/benchlib.sh
bench_nf_start || exit 0
state_dump "$WORK/before"

# rtts_csv: the RTTs (ms) of the last ping_probe, comma-separated, duplicates left out
rtts_csv() {
    awk '/ bytes from / && !/DUP!/ { for (i = 1; i <= NF; i++) if ($i ~ /^time=/) { printf "%s%s", s, substr($i, 6); s = "," } }' "$WORK/ping.out"
}

ping_probe 10.0.1.10 "$FID_PINGS" 0.01
base=$P_MED
bench_emit "\"b\":\"fid_base_rtt\",\"impl\":\"none\",\"n\":0,\"unit\":\"ms\",\"vs\":[$(rtts_csv)]"
for d in $FID_DELAYS; do
    nf_req POST /v1/faults "{\"targets\":[\"10.0.1.10/32\"],\"delay\":{\"ms\":$d}}"
    id=$(json_str id)
    [ "$NF_CODE" = 201 ] || { tap_fail "bench-fidelity: POST delay $d -> $NF_CODE"; continue; }
    ping_probe 10.0.1.10 "$FID_PINGS" 0.01
    # error per packet = RTT - no-fault median - requested delay
    errs=$(awk -v b="$base" -v d="$d" '/ bytes from / && !/DUP!/ { for (i = 1; i <= NF; i++) if ($i ~ /^time=/) { printf "%s%.3f", s, substr($i, 6) - b - d; s = "," } }' "$WORK/ping.out")
    bench_emit "\"b\":\"fid_delay_err\",\"impl\":\"netfaultd\",\"n\":$d,\"unit\":\"ms\",\"sent\":$P_SENT,\"recv\":$P_RECV,\"vs\":[$errs]"
    nf_delete "$id" || tap_fail "bench-fidelity: DELETE delay $d -> $NF_CODE"
done

udp_probe 10.0.1.10 "$FID_UDP" 1
bench_emit "\"b\":\"fid_loss\",\"impl\":\"none\",\"n\":0,\"unit\":\"%\",\"sent\":$U_SENT,\"recv\":$U_RECV,\"v\":$U_LOSS"
for p in $FID_LOSSES; do
    nf_req POST /v1/faults "{\"targets\":[\"10.0.1.10/32\"],\"loss\":{\"percent\":$p}}"
    id=$(json_str id)
    [ "$NF_CODE" = 201 ] || { tap_fail "bench-fidelity: POST loss $p -> $NF_CODE"; continue; }
    udp_probe 10.0.1.10 "$FID_UDP" 1
    bench_emit "\"b\":\"fid_loss\",\"impl\":\"netfaultd\",\"n\":$p,\"unit\":\"%\",\"sent\":$U_SENT,\"recv\":$U_RECV,\"v\":$U_LOSS"
    nf_delete "$id" || tap_fail "bench-fidelity: DELETE loss $p -> $NF_CODE"
done

state_same "bench-fidelity: kernel state at the end equals the start" "$WORK/before"
nf_finish
