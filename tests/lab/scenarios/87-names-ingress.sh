#!/bin/sh
# names and directions (issue 4):
#  - an aws: target from the shipped ip-ranges.json (region lab-test-1 maps DYNAMODB to
#    10.0.1.8/29 and fd00:1::/64): both families delayed, 10.0.9.10 untouched;
#  - a hostname served by the lab's DNS responder (dnsd in the peer namespace at 10.0.5.53, TTL
#    1 s, --dns-min-ttl 1) whose answer changes while the fault lives: the new address gets the
#    fault within one re-resolution interval (1 s; tolerance 1.5 s for TCG and polling), the old
#    one keeps it; a name that does not resolve is refused and the kernel is unchanged;
#  - ingress delay 100 ms raises the RTT by 100 ms, not 200 (the egress path stays clean, and
#    the egress hook holds no filter of the fault); "both" with 50 ms raises it by 100 ms;
#  - an ingress blackhole of local_ports 8080 (ALB subnet -> our listener) blocks 8080 from
#    10.0.2.10 while 8081 from the same peer, and 8080 from an untargeted peer, still answer.
. /lab/lib.sh
state_dump "$WORK/before"

# DNS: the responder in the peer namespace, and the task namespace's resolver configuration
# (ip netns exec binds /etc/netns/task/resolv.conf over /etc/resolv.conf).
$IP -n net addr add 10.0.5.53/32 dev lo 2>/dev/null
echo "dyn.lab.test A 10.0.1.10 1" >/tmp/zone
mkdir -p /etc/netns/task
[ -e /etc/resolv.conf ] || : >/etc/resolv.conf # the bind mount needs a file to cover
echo "nameserver 10.0.5.53" >/etc/netns/task/resolv.conf
peer /usr/bin/dnsd 10.0.5.53 53 /tmp/zone >/dev/null 2>&1 &
DNSD_PID=$!

base1=$(median_rtt 10.0.1.10 20 0.01)
base2=$(median_rtt 10.0.1.11 20 0.01)
base9=$(median_rtt 10.0.9.10 20 0.01)

nf_start --aws-ip-ranges /lab/aws-ip-ranges.json --dns-min-ttl 1 || { kill $DNSD_PID; exit 0; }

# --- aws:
if nf_create "names: aws" '{"targets":["aws:DYNAMODB:lab-test-1"],"delay":{"ms":60},"duration_s":60}'; then
    m=$(median_rtt 10.0.1.10 30 0.01)
    tap_near "names: aws:DYNAMODB:lab-test-1 delays 10.0.1.10 by" "$(fsub "$m" "$base1")" 60 15 " ms"
    m=$(median_rtt fd00:1::10 30 0.01)
    tap_near "names: and fd00:1::10 (its IPv6 range) by" "$(fsub "$m" "$base1")" 60 15 " ms"
    m=$(median_rtt 10.0.9.10 20 0.01)
    tap_below "names: untargeted 10.0.9.10" "$m" "$(fadd "$base9" 10)" " ms"
    nf_delete "$NF_ID"
fi

# --- a hostname whose answer changes
nf_req POST /v1/faults '{"targets":["nothere.lab.test"],"delay":{"ms":60}}'
tap_eq "names: a name that does not resolve is refused" "$NF_CODE" 422
state_same "names: ... and the kernel is unchanged" "$WORK/before"
if nf_create "names: hostname" '{"targets":["dyn.lab.test"],"delay":{"ms":60},"duration_s":60}'; then
    id=$NF_ID
    m=$(median_rtt 10.0.1.10 20 0.01)
    tap_near "names: dyn.lab.test (10.0.1.10) delayed by" "$(fsub "$m" "$base1")" 60 15 " ms"
    m=$(median_rtt 10.0.1.11 20 0.01)
    tap_below "names: 10.0.1.11 not yet" "$m" "$(fadd "$base2" 10)" " ms"
    echo "dyn.lab.test A 10.0.1.11 1" >/tmp/zone
    t0=$(now_ms); got=
    while [ $(( $(now_ms) - t0 )) -lt 6000 ]; do
        r=$(t $PING -n -c1 -W1 10.0.1.11 2>/dev/null | sed -n 's/.*time=\([0-9.]*\).*/\1/p')
        if [ -n "$r" ] && awk -v r="$r" 'BEGIN{exit !(r > 40)}'; then got=$(( $(now_ms) - t0 )); break; fi
        sleep 0.1
    done
    tap_below "names: the new address 10.0.1.11 got the fault after" "${got:-}" 2500 " ms"
    m=$(median_rtt 10.0.1.11 20 0.01)
    tap_near "names: 10.0.1.11 delayed by" "$(fsub "$m" "$base2")" 60 15 " ms"
    m=$(median_rtt 10.0.1.10 20 0.01)
    tap_near "names: the old address 10.0.1.10 keeps the fault:" "$(fsub "$m" "$base1")" 60 15 " ms"
    nf_req GET "/v1/faults/$id"
    tap_check "names: the fault shows both addresses of dyn.lab.test" sh -c "echo '$NF_BODY' | grep -q '10.0.1.10/32' && echo '$NF_BODY' | grep -q '10.0.1.11/32'"
    kill $DNSD_PID 2>/dev/null
    sleep 2.5
    m=$(median_rtt 10.0.1.11 20 0.01)
    tap_near "names: with the resolver gone, the addresses stay faulted:" "$(fsub "$m" "$base2")" 60 15 " ms"
    nf_delete "$id"
fi
kill $DNSD_PID 2>/dev/null
rm -f /etc/netns/task/resolv.conf

# --- ingress and both
if nf_create "ingress" '{"targets":["10.0.1.10"],"direction":"ingress","delay":{"ms":100},"duration_s":60}'; then
    m=$(median_rtt 10.0.1.10 30 0.01)
    tap_near "ingress: delay 100 ms on replies from 10.0.1.10 raises the RTT by" "$(fsub "$m" "$base1")" 100 15 " ms"
    own=$(t $TC filter show dev eth0 egress | grep -c 'pref 6477[0-9]')
    tap_eq "ingress: the egress hook holds no filter of the fault" "$own" 0
    m=$(median_rtt 10.0.9.10 20 0.01)
    tap_below "ingress: untargeted 10.0.9.10" "$m" "$(fadd "$base9" 10)" " ms"
    nf_delete "$NF_ID"
fi
if nf_create "both" '{"targets":["10.0.1.10"],"direction":"both","delay":{"ms":50},"duration_s":60}'; then
    m=$(median_rtt 10.0.1.10 30 0.01)
    tap_near "both: 50 ms each way raises the RTT by" "$(fsub "$m" "$base1")" 100 20 " ms"
    nf_req DELETE "/v1/faults/$NF_ID"
    m=$(median_rtt 10.0.1.10 20 0.01)
    tap_below "both: after DELETE, 10.0.1.10" "$m" "$(fadd "$base1" 10)" " ms"
fi

# --- ingress blackhole of our port 8080, from the ALB subnet
t /bin/busybox httpd -p 8080 -h /srv/www
t /bin/busybox httpd -p 8081 -h /srv/www
from() { peer $CURL -s -m 2 --connect-timeout 2 --interface "$1" -o /dev/null -w '%{http_code}' "http://10.0.0.2:$2/" 2>/dev/null; }
tap_eq "ingress: before the fault, 10.0.2.10 reaches our 8080" "$(from 10.0.2.10 8080)" 200
if nf_create "ingress blackhole" '{"targets":["10.0.2.0/24"],"direction":"ingress","protocol":"tcp","local_ports":[8080],"blackhole":true,"duration_s":60}'; then
    tap_check "ingress: 10.0.2.10 -> our 8080 is blocked" [ "$(from 10.0.2.10 8080)" != 200 ]
    tap_eq "ingress: 10.0.2.10 -> our 8081 still answers" "$(from 10.0.2.10 8081)" 200
    tap_eq "ingress: 10.0.9.10 (not in the ALB subnet) -> our 8080 still answers" "$(from 10.0.9.10 8080)" 200
    nf_delete "$NF_ID"
    tap_eq "ingress: after DELETE, 10.0.2.10 -> our 8080 answers" "$(from 10.0.2.10 8080)" 200
fi
for p in $(pgrep -f "httpd -p 808" 2>/dev/null); do [ "$(readlink /proc/$p/ns/net)" = "$(readlink /proc/$NF_PID/ns/net)" ] && kill $p; done
state_same "names/ingress: the tc/link state equals the state before" "$WORK/before"
nf_finish TERM
