#!/bin/sh
# foreign: a root qdisc that netfaultd did not create (tbf on eth0) stays
# exactly as it was while faults come and go, and the delay still works beside it.
. /lab/lib.sh
t $TC qdisc add dev eth0 root tbf rate 100mbit burst 32k latency 50ms
tbf0=$(t $TC qdisc show dev eth0 | grep ' tbf ')
tap_diag "foreign: installed: $tbf0"
state_dump "$WORK/before"
base=$(median_rtt 10.0.1.10 30 0.01)
base_u=$(median_rtt 10.0.9.10 30 0.01)

if nf_start; then
    if nf_create "foreign delay" '{"targets":["10.0.1.10"],"delay":{"ms":100}}'; then
        tap_eq "foreign: root tbf line with a fault active" "$(t $TC qdisc show dev eth0 | grep ' tbf ')" "$tbf0"
        m=$(median_rtt 10.0.1.10 60 0.01)
        tap_near "foreign: delay beside the root tbf: median RTT to 10.0.1.10 +" "$(fsub "$m" "$base")" 100 15 " ms"
        m=$(median_rtt 10.0.9.10 30 0.01)
        tap_below "foreign: untargeted 10.0.9.10 median RTT" "$m" "$(fadd "$base_u" 10)" " ms"
        nf_create "foreign blackhole" '{"targets":["10.0.2.10"],"blackhole":true}' &&
            {
                ping_probe 10.0.2.10 20 0.01
                tap_eq "foreign: blackhole beside the root tbf: replies from 10.0.2.10 of 20" "$P_RECV" 0
            }
        tap_eq "foreign: root tbf line with two faults active" "$(t $TC qdisc show dev eth0 | grep ' tbf ')" "$tbf0"
        nf_req DELETE /v1/faults
        tap_eq "foreign: DELETE /v1/faults status" "$NF_CODE" 200
        tap_eq "foreign: root tbf line after DELETE" "$(t $TC qdisc show dev eth0 | grep ' tbf ')" "$tbf0"
        state_same "foreign: tc/link state after DELETE equals the state before (tbf included)" "$WORK/before"
    fi
    nf_create "foreign delay (sigterm)" '{"targets":["10.0.1.10"],"delay":{"ms":100}}'
    nf_finish TERM
    tap_eq "foreign: root tbf line after SIGTERM" "$(t $TC qdisc show dev eth0 | grep ' tbf ')" "$tbf0"
    state_same "foreign: tc/link state after SIGTERM equals the state before (tbf included)" "$WORK/before"
fi
t $TC qdisc del dev eth0 root
