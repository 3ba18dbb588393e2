#!/bin/sh
# loss: 20 % toward 10.0.1.10 measured over 2000 UDP datagrams (one every 2 ms,
# echoed by the peer; a fixed schedule, where ping's interval stretches under
# TCG); the number lost must lie within 4 sigma of the binomial mean
# (n*0.2 ± 4*sqrt(n*0.2*0.8), i.e. 328..472 of 2000); ICMP is checked with 300
# pings against a 4-sigma bound too; the untargeted 10.0.9.10 loses at most
# 0.1 % of 2000 datagrams.
. /lab/lib.sh
nf_start || exit 0
state_dump "$WORK/before"

if nf_create "loss" '{"targets":["10.0.1.10"],"loss":{"percent":20}}'; then
    tap_ok "loss: POST /v1/faults -> 201 (id $NF_ID)"
    udp_probe 10.0.1.10 2000 2
    set -- $(binomial_bounds "$U_SENT" 0.2)
    tap_between "loss: 20% on 10.0.1.10: UDP datagrams lost of $U_SENT ($U_LOSS%):" "$((U_SENT - U_RECV))" "$1" "$2"
    ping_probe 10.0.1.10 300 0.002
    set -- $(binomial_bounds "$P_SENT" 0.2)
    tap_between "loss: 20% on 10.0.1.10: pings lost of $P_SENT ($P_LOSS%):" "$((P_SENT - P_RECV))" "$1" "$2"
    udp_probe 10.0.9.10 2000 2
    tap_between "loss: untargeted 10.0.9.10: UDP datagrams lost of $U_SENT:" "$((U_SENT - U_RECV))" 0 $((U_SENT / 1000))
    nf_req DELETE "/v1/faults/$NF_ID"
    tap_eq "loss: DELETE status" "$NF_CODE" 200
    ping_probe 10.0.1.10 200 0.005
    tap_eq "loss: after DELETE, pings lost to 10.0.1.10 of $P_SENT" "$((P_SENT - P_RECV))" 0
    state_same "loss: tc/link state after DELETE equals the state before" "$WORK/before"
fi
nf_finish TERM
