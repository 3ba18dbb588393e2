#!/bin/sh
# ecs-compat: the ECS agent's fault endpoints (api/ecs_compat.c) acting on traffic, driven as a
# script written against the agent would drive them (POST $ECS_AGENT_URI/fault/v1/...):
#  - network-latency 100 ms ± 10 toward Sources 10.0.1.0/24 minus SourcesToFilter 10.0.1.11:
#    10.0.1.10 +100 ± 15 ms, 10.0.1.11 and 10.0.9.10 < baseline + 10 ms; listed in /v1/faults as
#    "ecs:network-latency" with --default-duration; a second latency or a loss start -> 409 with
#    the agent's message; stop -> stopped, RTT back;
#  - network-packet-loss 20 % toward 10.0.1.10: 2000 UDP datagrams lost within 4 sigma; a latency
#    start -> 409 naming the loss fault; stopping latency leaves the loss running (the agent's way);
#  - network-blackhole-port egress tcp 8080: 10.0.2.10:8080 blocked, 8081 connects; a second start
#    is 200 "running" and adds nothing (one fault); the ingress identity is not running; stop twice
#    -> stopped both times; 8080 connects again;
#  - network-blackhole-port ingress tcp 8080: the peer's 10.0.2.10 -> our 8080 blocked, our 8081
#    answers; stop -> answers again.
# All under /api/<endpoint id>/ (the agent's form behind ECS_AGENT_URI). Dump equal at the end.
. /lab/lib.sh
nf_start --ecs-rate-limit 0 --default-duration 120 || exit 0
state_dump "$WORK/before"
E=/api/0123456789abcdef0123456789abcdef-1234567890/fault/v1

# ecs FAULT ACTION [JSON]: POST the agent's route; NF_CODE, NF_BODY
ecs() { nf_req POST "$E/$1/$2" "${3:-}"; }
ecs_eq() { # DESC FAULT ACTION JSON CODE BODY
    ecs "$2" "$3" "$4"
    if [ "$NF_CODE" = "$5" ] && [ "$NF_BODY" = "$6" ]; then tap_ok "$1 -> $5 $6"; else
        tap_fail "$1 -> want $5 $6, got $NF_CODE $NF_BODY"; fi
}
RUNNING='{"Status":"running"}' STOPPED='{"Status":"stopped"}' NOT_RUNNING='{"Status":"not-running"}'

base1=$(median_rtt 10.0.1.10 50 0.01)
base11=$(median_rtt 10.0.1.11 30 0.01)
base9=$(median_rtt 10.0.9.10 30 0.01)
tap_diag "ecs: baseline median RTT 10.0.1.10 $base1 ms, 10.0.1.11 $base11 ms, 10.0.9.10 $base9 ms"

# --- latency
LAT='{"DelayMilliseconds":100,"JitterMilliseconds":10,"Sources":["10.0.1.0/24"],"SourcesToFilter":["10.0.1.11"]}'
ecs_eq "ecs: latency start" network-latency start "$LAT" 200 "$RUNNING"
ecs_eq "ecs: latency status" network-latency status "" 200 "$RUNNING"
nf_req GET /v1/faults
case $NF_BODY in *'"name":"ecs:network-latency"'*) tap_ok "ecs: /v1/faults lists it as ecs:network-latency" ;;
    *) tap_fail "ecs: /v1/faults lists it as ecs:network-latency: $NF_BODY" ;; esac
tap_eq "ecs: its duration is --default-duration" "$(json_num duration_s)" 120
m=$(median_rtt 10.0.1.10 100 0.01)
tap_near "ecs: latency: median RTT to 10.0.1.10 +" "$(fsub "$m" "$base1")" 100 15 " ms"
m=$(median_rtt 10.0.1.11 30 0.01)
tap_below "ecs: latency: 10.0.1.11 (SourcesToFilter)" "$m" "$(fadd "$base11" 10)" " ms"
m=$(median_rtt 10.0.9.10 30 0.01)
tap_below "ecs: latency: 10.0.9.10 (not in Sources)" "$m" "$(fadd "$base9" 10)" " ms"
ecs_eq "ecs: a second latency start" network-latency start "$LAT" 409 '{"Error":"There is already one network latency fault running"}'
ecs_eq "ecs: a loss start beside it" network-packet-loss start '{"LossPercent":5,"Sources":["10.0.9.10"]}' 409 \
    '{"Error":"There is already one network latency fault running"}'
ecs_eq "ecs: loss status" network-packet-loss status "" 200 "$NOT_RUNNING"
ecs_eq "ecs: latency stop" network-latency stop "" 200 "$STOPPED"
ecs_eq "ecs: latency status after stop" network-latency status "" 200 "$NOT_RUNNING"
m=$(median_rtt 10.0.1.10 30 0.01)
tap_below "ecs: latency: after stop, 10.0.1.10" "$m" "$(fadd "$base1" 10)" " ms"

# --- packet loss
ecs_eq "ecs: loss start" network-packet-loss start '{"LossPercent":20,"Sources":["10.0.1.10"]}' 200 "$RUNNING"
udp_probe 10.0.1.10 2000 2
set -- $(binomial_bounds "$U_SENT" 0.2)
tap_between "ecs: loss 20% on 10.0.1.10: UDP datagrams lost of $U_SENT ($U_LOSS%):" "$((U_SENT - U_RECV))" "$1" "$2"
ecs_eq "ecs: a latency start beside it" network-latency start "$LAT" 409 '{"Error":"There is already one network packet loss fault running"}'
ecs_eq "ecs: latency stop leaves the loss fault alone" network-latency stop "" 200 "$STOPPED"
ecs_eq "ecs: loss status" network-packet-loss status "" 200 "$RUNNING"
ecs_eq "ecs: loss stop" network-packet-loss stop "" 200 "$STOPPED"
udp_probe 10.0.1.10 500 2
tap_eq "ecs: after loss stop, UDP datagrams lost of $U_SENT" "$((U_SENT - U_RECV))" 0

# --- blackhole-port, egress
BH='{"Port":8080,"Protocol":"tcp","TrafficType":"egress"}'
tap_check "ecs: before, TCP 10.0.2.10:8080 connects" tcp_connects 10.0.2.10 8080
ecs_eq "ecs: blackhole egress tcp 8080 start" network-blackhole-port start "$BH" 200 "$RUNNING"
if tcp_connects 10.0.2.10 8080; then tap_fail "ecs: TCP 10.0.2.10:8080 blocked (it connected)"; else
    tap_ok "ecs: TCP 10.0.2.10:8080 blocked"; fi
tap_check "ecs: TCP 10.0.2.10:8081 still connects" tcp_connects 10.0.2.10 8081
ecs_eq "ecs: a second start of the same port is idempotent" network-blackhole-port start "$BH" 200 "$RUNNING"
nf_req GET /v1/faults
# (the fault's own name, not its spec's copy of it: the top-level "name" comes before "state")
tap_eq "ecs: one fault ecs:network-blackhole-port:egress-tcp-8080 in /v1/faults" \
    "$(printf '%s' "$NF_BODY" | grep -o '"name":"ecs:network-blackhole-port:egress-tcp-8080","state"' | wc -l)" 1
ecs_eq "ecs: blackhole status" network-blackhole-port status "$BH" 200 "$RUNNING"
ecs_eq "ecs: the ingress identity is another fault" network-blackhole-port status \
    '{"Port":8080,"Protocol":"tcp","TrafficType":"ingress"}' 200 "$NOT_RUNNING"
ecs_eq "ecs: blackhole stop" network-blackhole-port stop "$BH" 200 "$STOPPED"
ecs_eq "ecs: blackhole stop again" network-blackhole-port stop "$BH" 200 "$STOPPED"
tap_check "ecs: after stop, TCP 10.0.2.10:8080 connects" tcp_connects 10.0.2.10 8080

# --- blackhole-port, ingress: the peer toward our listener
t /bin/busybox httpd -p 8080 -h /srv/www
t /bin/busybox httpd -p 8081 -h /srv/www
from() { peer $CURL -s -m 2 --connect-timeout 2 --interface "$1" -o /dev/null -w '%{http_code}' "http://10.0.0.2:$2/" 2>/dev/null; }
tap_eq "ecs: before, 10.0.2.10 reaches our 8080" "$(from 10.0.2.10 8080)" 200
BI='{"Port":8080,"Protocol":"tcp","TrafficType":"ingress"}'
ecs_eq "ecs: blackhole ingress tcp 8080 start" network-blackhole-port start "$BI" 200 "$RUNNING"
tap_check "ecs: 10.0.2.10 -> our 8080 is blocked" [ "$(from 10.0.2.10 8080)" != 200 ]
tap_eq "ecs: 10.0.2.10 -> our 8081 still answers" "$(from 10.0.2.10 8081)" 200
ecs_eq "ecs: blackhole ingress stop" network-blackhole-port stop "$BI" 200 "$STOPPED"
tap_eq "ecs: after stop, 10.0.2.10 reaches our 8080" "$(from 10.0.2.10 8080)" 200
for p in $(pgrep -f "httpd -p 808" 2>/dev/null); do [ "$(readlink /proc/$p/ns/net)" = "$(readlink /proc/$NF_PID/ns/net)" ] && kill $p; done

nf_req GET /v1/faults
tap_eq "ecs: no fault left" "$NF_BODY" '{"faults":[]}'
state_same "ecs: tc/link state after the stops equals the state before" "$WORK/before"
nf_finish TERM
