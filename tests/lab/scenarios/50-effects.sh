#!/bin/sh
# effects: delay+loss in one fault, duplicate, corrupt, rate.
#   delay+loss: 50 ms (±15) and 10 % over 1000 UDP datagrams (4-sigma binomial
#     bound), and the median ping RTT
#   duplicate 50 %: DUP! replies over 200 pings within 4 sigma (71..129)
#   corrupt 50 %: a flipped bit makes the peer drop most frames (checksums,
#     MAC); the loss must be visible (>= 25 %) and not exceed 50 % + 4 sigma
#   rate 1000 kbit: iperf3 (TCP, 4 s, 32 KB window) receiver rate 1000 ±25 %,
#     untargeted iperf3 at least 10x faster
. /lab/lib.sh
nf_start || exit 0
state_dump "$WORK/before"
base_t=$(median_rtt 10.0.1.10 40 0.01)
udp_probe 10.0.1.10 100 5
base_u=$U_MED
tap_diag "effects: baseline median RTT to 10.0.1.10: ping $base_t ms, UDP $base_u ms"

if nf_create "delay+loss" '{"targets":["10.0.1.10"],"delay":{"ms":50},"loss":{"percent":10}}'; then
    tap_ok "effects: POST delay 50 ms + loss 10 % -> 201 (id $NF_ID)"
    udp_probe 10.0.1.10 1000 4
    tap_near "effects: delay+loss: UDP median RTT +" "$(fsub "$U_MED" "$base_u")" 50 15 " ms"
    set -- $(binomial_bounds "$U_SENT" 0.1)
    tap_between "effects: delay+loss: UDP datagrams lost of $U_SENT ($U_LOSS%):" "$((U_SENT - U_RECV))" "$1" "$2"
    ping_probe 10.0.1.10 100 0.01
    tap_near "effects: delay+loss: median ping RTT +" "$(fsub "$P_MED" "$base_t")" 50 15 " ms"
    nf_req DELETE "/v1/faults/$NF_ID"
    tap_eq "effects: delay+loss: DELETE status" "$NF_CODE" 200
fi

if nf_create "duplicate" '{"targets":["10.0.1.11"],"duplicate":{"percent":50}}'; then
    tap_ok "effects: POST duplicate 50 % -> 201 (id $NF_ID)"
    ping_probe 10.0.1.11 200 0.01
    set -- $(binomial_bounds "$P_SENT" 0.5)
    tap_between "effects: duplicate: DUP! replies of $P_SENT pings:" "$P_DUPS" "$1" "$2"
    nf_req GET "/v1/faults/$NF_ID"
    tap_diag "effects: duplicate: GET -> $NF_CODE $(printf '%s' "$NF_BODY" | grep -o '"counters" *: *{[^}]*}')"
    tap_above "effects: duplicate: counters.packets after $P_SENT pings" "$(json_num packets)" $((P_SENT - 1))
    nf_req DELETE "/v1/faults/$NF_ID"
    tap_eq "effects: duplicate: DELETE status" "$NF_CODE" 200
fi

if nf_create "corrupt" '{"targets":["10.0.2.10"],"corrupt":{"percent":50}}'; then
    tap_ok "effects: POST corrupt 50 % -> 201 (id $NF_ID)"
    ping_probe 10.0.2.10 400 0.005
    set -- $(binomial_bounds "$P_SENT" 0.5)
    tap_between "effects: corrupt: pings lost of $P_SENT ($P_LOSS%):" "$((P_SENT - P_RECV))" $((P_SENT / 4)) "$2"
    nf_req GET "/v1/faults/$NF_ID"
    tap_diag "effects: corrupt: GET -> $NF_CODE $(printf '%s' "$NF_BODY" | grep -o '"counters" *: *{[^}]*}')"
    tap_above "effects: corrupt: counters.packets after $P_SENT pings" "$(json_num packets)" $((P_SENT - 1))
    nf_req DELETE "/v1/faults/$NF_ID"
    tap_eq "effects: corrupt: DELETE status" "$NF_CODE" 200
fi

if nf_create "rate" '{"targets":["10.0.1.10"],"rate":{"kbit":1000}}'; then
    tap_ok "effects: POST rate 1000 kbit -> 201 (id $NF_ID)"
    k=$(iperf_kbit 10.0.1.10 4 -w 32K)
    tap_near "effects: rate: iperf3 to 10.0.1.10 kbit/s" "$k" 1000 250
    [ -n "$k" ] || tap_diag_file "iperf3" "$WORK/iperf.out"
    k=$(iperf_kbit 10.0.9.10 2)
    tap_above "effects: rate: untargeted iperf3 to 10.0.9.10 kbit/s" "$k" 10000
    nf_req DELETE "/v1/faults/$NF_ID"
    tap_eq "effects: rate: DELETE status" "$NF_CODE" 200
fi
state_same "effects: tc/link state after DELETEs equals the state before" "$WORK/before"
nf_finish TERM
