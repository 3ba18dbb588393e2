#!/bin/sh
# flows: a share of flows, not of packets (the ECS agent's FlowsPercent, `flows_percent` in the
# API). 300 UDP flows (300 source ports) send 4 datagrams each, round robin, so that each flow's
# datagrams are spread over the whole run; the peer echoes them.
#  - ECS network-packet-loss LossPercent 100, FlowsPercent 30 toward 10.0.1.10: the flows that
#    get nothing back number 300 * 0.3 within 4 sigma (binomial), and a flow is lost whole or not
#    at all (partial flows at most 1 %, the untargeted loss the lab allows); the ifb carries a prio
#    qdisc of ten bands, three of them with a netem, and the flow filter (tc as witness);
#    10.0.9.10 untouched; stop -> all back;
#  - the same share of packets instead (loss 30 %, no flows_percent) leaves most flows partial:
#    the difference between the two is the point;
#  - delay 300 ms, flows_percent 50: slow flows 150 within 4 sigma, none mixed, none lost; and
#    TCP: of 40 HTTP requests (40 connections), the slow ones are 20 within 4 sigma;
#  - direction ingress, loss 100 %, flows_percent 45 (the second level: four bands with a netem,
#    and in the fifth a prio of ten with five): the answers of 45 % of the flows lost, whole flows
#    only.
# Dump equal at the end.
. /lab/lib.sh
nf_start --ecs-rate-limit 0 --default-duration 300 || exit 0
state_dump "$WORK/before"

NFLOWS=300
# flows_probe DEST: NFLOWS flows of 4 datagrams, one datagram a ms; sets F_* (udpecho.c)
flows_probe() {
    out=$(timeout 90 $IP netns exec task $UDPECHO flows "$1" 9000 $NFLOWS 4 1 1500 150 2>&1)
    echo "$out" >>"$WORK/flows.out"
    F_N=0 F_FULL=0 F_NONE=0 F_PART=0 F_SLOW=0 F_FAST=0 F_MIXED=0 F_SENT=0 F_RECV=0
    eval "$(echo "$out" | awk '$1 == "flows" { printf "F_N=%d F_FULL=%d F_NONE=%d F_PART=%d F_SLOW=%d F_FAST=%d F_MIXED=%d F_SENT=%d F_RECV=%d\n", $2, $4, $6, $8, $10, $12, $14, $16, $18 }')"
    tap_diag "flows to $1: $out"
}
# the ifb a fault of this scenario uses (not an idle one of the pool: alias netfaultd:pool)
ifb_of_task() { t $IP -o link show type ifb | grep -v 'alias netfaultd:pool' | awk -F': ' '{ sub(/@.*/, "", $2); print $2; exit }'; }

nf_req GET /v1/capabilities
case $NF_BODY in *'"flows_percent":true'*) tap_ok "flows: /v1/capabilities says a share of flows works here" ;;
    *) tap_fail "flows: /v1/capabilities says a share of flows works here: $NF_BODY" ;; esac

# --- the ECS agent's route, LossPercent 100 on 30 % of the flows
nf_req POST /fault/v1/network-packet-loss/start '{"LossPercent":100,"Sources":["10.0.1.10"],"FlowsPercent":30}'
if [ "$NF_CODE" = 200 ] && [ "$NF_BODY" = '{"Status":"running"}' ]; then
    tap_ok "flows: ECS loss start with FlowsPercent 30 -> 200 running"
    ifb=$(ifb_of_task)
    tap_eq "flows: the ifb $ifb has a prio root of ten bands" "$(t $TC qdisc show dev "$ifb" | grep -c '^qdisc prio 4e46: root.*bands 10 ')" 1
    tap_eq "flows: and 3 netem qdiscs (a band of ten each)" "$(t $TC qdisc show dev "$ifb" | grep -c '^qdisc netem')" 3
    tap_eq "flows: and one flow filter hashing the 5-tuple" \
        "$(t $TC filter show dev "$ifb" parent 4e46: | grep -c 'keys src,dst,proto,proto-src,proto-dst')" 1
    flows_probe 10.0.1.10
    set -- $(binomial_bounds $NFLOWS 0.3)
    tap_between "flows: FlowsPercent 30, LossPercent 100: flows with nothing back of $F_N" "$F_NONE" "$1" "$2"
    tap_between "flows: FlowsPercent 30: partial flows (a flow is lost whole or not at all)" "$F_PART" 0 $((F_N / 100))
    tap_eq "flows: every flow was sent" "$F_SENT" $((NFLOWS * 4))
    # The fault's counters read the prio root, whose drops include its netems' losses.
    nf_req GET /v1/faults
    id=$(json_str id)
    nf_req GET "/v1/faults/$id"
    lost=$((F_SENT - F_RECV))
    tap_between "flows: the fault's drops count the lost datagrams ($lost)" "$(json_num drops)" "$lost" $((lost + 4))
    flows_probe 10.0.9.10
    tap_between "flows: untargeted 10.0.9.10: flows with a datagram lost" "$((F_NONE + F_PART))" 0 $((F_N / 100))
    nf_req POST /fault/v1/network-packet-loss/stop
    tap_eq "flows: ECS loss stop" "$NF_CODE $NF_BODY" '200 {"Status":"stopped"}'
    flows_probe 10.0.1.10
    tap_between "flows: after stop, flows with a datagram lost" "$((F_NONE + F_PART))" 0 $((F_N / 100))
else
    tap_fail "flows: ECS loss start with FlowsPercent 30 -> $NF_CODE $NF_BODY (want 200 running)"
fi

# --- the same share of packets: most flows partial
if nf_create "flows: loss 30 % of packets" '{"targets":["10.0.1.10"],"loss":{"percent":30}}'; then
    flows_probe 10.0.1.10
    # P(partial) = 1 - 0.7^4 - 0.3^4 = 0.75 per flow
    set -- $(binomial_bounds $NFLOWS 0.7518)
    tap_between "flows: loss 30 % of packets instead: partial flows of $F_N (75 % expected)" "$F_PART" "$1" "$2"
    nf_delete "$NF_ID" || tap_fail "flows: DELETE loss 30 % -> $NF_CODE"
fi

# --- delay on half the flows, UDP and TCP
if nf_create "flows: delay 300 ms on 50 %" '{"targets":["10.0.1.10","10.0.2.10"],"delay":{"ms":300},"flows_percent":50}'; then
    tap_ok "flows: delay 300 ms flows_percent 50 -> 201"
    nf_req GET "/v1/faults/$NF_ID"
    tap_eq "flows: GET shows flows_percent" "$(json_num flows_percent)" 50
    flows_probe 10.0.1.10
    set -- $(binomial_bounds $NFLOWS 0.5)
    tap_between "flows: delay on 50 %: flows whose answers all took >= 150 ms, of $F_N" "$F_SLOW" "$1" "$2"
    tap_eq "flows: delay on 50 %: flows with some answers slow and some fast" "$F_MIXED" 0
    tap_between "flows: delay on 50 %: flows with a datagram lost" "$((F_NONE + F_PART))" 0 $((F_N / 100))
    slow=0 fast=0
    for i in $(seq 1 40); do
        s=$(t $CURL -s -m 5 -o /dev/null -w '%{time_total}' http://10.0.2.10:8080/ 2>/dev/null)
        echo "$s" >>"$WORK/tcp.times"
        if awk -v s="${s:-9}" 'BEGIN { exit !(s >= 0.45) }'; then slow=$((slow + 1)); else fast=$((fast + 1)); fi
    done
    tap_diag "flows: TCP request times (s): $(tr '\n' ' ' <"$WORK/tcp.times")"
    set -- $(binomial_bounds 40 0.5)
    tap_between "flows: delay on 50 %: HTTP requests (a connection each) taking >= 450 ms, of 40" "$slow" "$1" "$2"
    nf_delete "$NF_ID" || tap_fail "flows: DELETE delay -> $NF_CODE"
fi

# --- ingress: the answers of half the flows
if nf_create "flows: ingress loss on 45 %" '{"targets":["10.0.1.10"],"loss":{"percent":100},"flows_percent":45,"direction":"ingress"}'; then
    ifb=$(ifb_of_task)
    tap_eq "flows: 45 %: the ifb $ifb has two prio qdiscs" "$(t $TC qdisc show dev "$ifb" | grep -c '^qdisc prio')" 2
    tap_eq "flows: 45 %: and 4 + 5 netems" "$(t $TC qdisc show dev "$ifb" | grep -c '^qdisc netem')" 9
    flows_probe 10.0.1.10
    set -- $(binomial_bounds $NFLOWS 0.45)
    tap_between "flows: ingress, loss 100 % on 45 %: flows with nothing back of $F_N" "$F_NONE" "$1" "$2"
    tap_between "flows: ingress: partial flows" "$F_PART" 0 $((F_N / 100))
    nf_delete "$NF_ID" || tap_fail "flows: DELETE ingress -> $NF_CODE"
fi

state_same "flows: tc/link state at the end equals the state before" "$WORK/before"
nf_finish TERM
