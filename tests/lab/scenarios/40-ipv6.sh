#!/bin/sh
# ipv6: delay and blackhole toward fd00:1::10 (same tolerances as delay).
. /lab/lib.sh
nf_start || exit 0
state_dump "$WORK/before"

base_t=$(median_rtt fd00:1::10 50 0.01)
base_u=$(median_rtt fd00:9::10 50 0.01)
base_4=$(median_rtt 10.0.1.10 30 0.01)
tap_diag "ipv6: baseline median RTT fd00:1::10 $base_t ms, fd00:9::10 $base_u ms, 10.0.1.10 $base_4 ms"

if nf_create "ipv6 delay" '{"targets":["fd00:1::10"],"delay":{"ms":100}}'; then
    tap_ok "ipv6: POST delay fd00:1::10 -> 201 (id $NF_ID)"
    m=$(median_rtt fd00:1::10 100 0.01)
    tap_near "ipv6: median RTT to target fd00:1::10 +" "$(fsub "$m" "$base_t")" 100 15 " ms"
    m=$(median_rtt fd00:9::10 50 0.01)
    tap_below "ipv6: untargeted fd00:9::10 median RTT" "$m" "$(fadd "$base_u" 10)" " ms"
    m=$(median_rtt fd00:1::11 30 0.01)
    tap_below "ipv6: untargeted fd00:1::11 median RTT" "$m" "$(fadd "$base_u" 10)" " ms"
    m=$(median_rtt 10.0.1.10 30 0.01)
    tap_below "ipv6: IPv4 10.0.1.10 (same role) median RTT" "$m" "$(fadd "$base_4" 10)" " ms"
    nf_req DELETE "/v1/faults/$NF_ID"
    tap_eq "ipv6: DELETE status" "$NF_CODE" 200
    m=$(median_rtt fd00:1::10 30 0.01)
    tap_below "ipv6: after DELETE, fd00:1::10 median RTT" "$m" "$(fadd "$base_t" 10)" " ms"
fi

if nf_create "ipv6 blackhole" '{"targets":["fd00:1::10/128"],"blackhole":true}'; then
    tap_ok "ipv6: POST blackhole fd00:1::10/128 -> 201 (id $NF_ID)"
    ping_probe fd00:1::10 30 0.02
    tap_eq "ipv6: blackhole: replies from fd00:1::10 of $P_SENT" "$P_RECV" 0
    if tcp_connects fd00:1::10 8080; then
        tap_fail "ipv6: blackhole: TCP [fd00:1::10]:8080 blocked (it connected)"
    else
        tap_ok "ipv6: blackhole: TCP [fd00:1::10]:8080 blocked"
    fi
    ping_probe fd00:9::10 30 0.02
    tap_eq "ipv6: blackhole: replies from untargeted fd00:9::10 of $P_SENT" "$P_RECV" 30
    ping_probe fd00:1::11 30 0.02
    tap_eq "ipv6: blackhole: replies from untargeted fd00:1::11 of $P_SENT" "$P_RECV" 30
    ping_probe 10.0.1.10 30 0.02
    tap_eq "ipv6: blackhole: replies from IPv4 10.0.1.10 of $P_SENT" "$P_RECV" 30
    nf_req DELETE "/v1/faults/$NF_ID"
    tap_eq "ipv6: DELETE status" "$NF_CODE" 200
    ping_probe fd00:1::10 20 0.01
    tap_eq "ipv6: after DELETE, replies from fd00:1::10 of 20" "$P_RECV" 20
fi
state_same "ipv6: tc/link state after DELETEs equals the state before" "$WORK/before"
nf_finish TERM
