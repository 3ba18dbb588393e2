#!/bin/sh
# delay: 100 ms ± 10 ms jitter toward one /32; the median RTT to the target
# rises by 100 ms (tolerance ±15 ms: TCG timing is noisy, jitter is ±10 ms and
# the median cancels most of it); an untargeted address on the same link, and
# the other "dynamodb" address, stay within baseline + 10 ms.
. /lab/lib.sh
nf_start || exit 0
state_dump "$WORK/before"

base_t=$(median_rtt 10.0.1.10 50 0.01)
base_u=$(median_rtt 10.0.9.10 50 0.01)
tap_diag "delay: baseline median RTT 10.0.1.10 $base_t ms, 10.0.9.10 $base_u ms"

if nf_create "delay" '{"targets":["10.0.1.10/32"],"delay":{"ms":100,"jitter_ms":10}}'; then
    tap_ok "delay: POST /v1/faults -> 201 (id $NF_ID)"
    tap_eq "delay: new fault's state" "$(json_str state)" active
    m=$(median_rtt 10.0.1.10 100 0.01)
    tap_near "delay: median RTT to target 10.0.1.10 +" "$(fsub "$m" "$base_t")" 100 15 " ms"
    m=$(median_rtt 10.0.9.10 50 0.01)
    tap_below "delay: untargeted 10.0.9.10 median RTT" "$m" "$(fadd "$base_u" 10)" " ms"
    m=$(median_rtt 10.0.1.11 30 0.01)
    tap_below "delay: untargeted 10.0.1.11 median RTT" "$m" "$(fadd "$base_u" 10)" " ms"
    nf_req GET "/v1/faults/$NF_ID"
    pk=$(json_num packets)
    tap_above "delay: GET /v1/faults/{id} counters.packets after 100 pings" "${pk:-}" 99
    nf_req DELETE "/v1/faults/$NF_ID"
    tap_eq "delay: DELETE /v1/faults/{id} status" "$NF_CODE" 200
    m=$(median_rtt 10.0.1.10 30 0.01)
    tap_below "delay: after DELETE, 10.0.1.10 median RTT" "$m" "$(fadd "$base_t" 10)" " ms"
    state_same "delay: tc/link state after DELETE equals the state before the fault" "$WORK/before"
fi
nf_finish TERM
