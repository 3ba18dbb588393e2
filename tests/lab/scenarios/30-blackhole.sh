#!/bin/sh
# blackhole: an address (all protocols) and one TCP port of another address.
. /lab/lib.sh
nf_start || exit 0
state_dump "$WORK/before"

if nf_create "blackhole" '{"targets":["10.0.1.10"],"blackhole":true}'; then
    tap_ok "blackhole: POST /v1/faults (address) -> 201 (id $NF_ID)"
    ping_probe 10.0.1.10 30 0.02
    tap_eq "blackhole: replies from 10.0.1.10 of $P_SENT" "$P_RECV" 0
    if tcp_connects 10.0.1.10 8080; then
        tap_fail "blackhole: TCP 10.0.1.10:8080 blocked too (it connected)"
    else
        tap_ok "blackhole: TCP 10.0.1.10:8080 blocked too"
    fi
    ping_probe 10.0.9.10 30 0.02
    tap_eq "blackhole: replies from untargeted 10.0.9.10 of $P_SENT" "$P_RECV" 30
    ping_probe 10.0.1.11 30 0.02
    tap_eq "blackhole: replies from untargeted 10.0.1.11 of $P_SENT" "$P_RECV" 30
    nf_req GET "/v1/faults/$NF_ID"
    pk=$(json_num packets)
    dr=$(json_num drops)
    tap_diag "blackhole: counters packets=${pk:-?} drops=${dr:-?}"
    best=$(awk -v a="${pk:-0}" -v b="${dr:-0}" 'BEGIN{print (a>b)?a:b}')
    tap_above "blackhole: counters (max of packets, drops) after 30 pings" "$best" 29
    nf_req DELETE "/v1/faults/$NF_ID"
    tap_eq "blackhole: DELETE status" "$NF_CODE" 200
    ping_probe 10.0.1.10 20 0.01
    tap_eq "blackhole: after DELETE, replies from 10.0.1.10 of 20" "$P_RECV" 20
fi

if nf_create "blackhole tcp/8080" '{"targets":["10.0.2.10"],"protocol":"tcp","ports":[8080],"blackhole":true}'; then
    tap_ok "blackhole: POST /v1/faults (tcp 8080 of 10.0.2.10) -> 201 (id $NF_ID)"
    if tcp_connects 10.0.2.10 8080; then
        tap_fail "blackhole: TCP 10.0.2.10:8080 blocked (it connected)"
    else
        tap_ok "blackhole: TCP 10.0.2.10:8080 blocked"
    fi
    tap_check "blackhole: TCP 10.0.2.10:8081 (same host, other port) connects" tcp_connects 10.0.2.10 8081
    tap_check "blackhole: TCP 10.0.2.11:8080 (other host, same port) connects" tcp_connects 10.0.2.11 8080
    ping_probe 10.0.2.10 20 0.01
    tap_eq "blackhole: ICMP to 10.0.2.10 unaffected, replies of 20" "$P_RECV" 20
    if [ -x $UDPECHO ]; then
        out=$(t $UDPECHO probe 10.0.2.10 8080 20 5 500)
        tap_eq "blackhole: UDP 10.0.2.10:8080 unaffected ($out)" "$(echo "$out" | awk '{print $4}')" 20
    fi
    nf_req DELETE "/v1/faults/$NF_ID"
    tap_eq "blackhole: DELETE status" "$NF_CODE" 200
    tap_check "blackhole: after DELETE, TCP 10.0.2.10:8080 connects" tcp_connects 10.0.2.10 8080
fi
state_same "blackhole: tc/link state after DELETEs equals the state before" "$WORK/before"
nf_finish TERM
