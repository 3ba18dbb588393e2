#!/bin/sh
# smoke: proves the lab itself (kernel, modules, tools, topology) with tc
# alone, no netfaultd: the shape the daemon uses (clsact + flower + mirred to
# an ifb carrying netem; flower + gact drop), measured.
. /lab/lib.sh

state_dump "$WORK/before"

# Reachability and tools.
ping_probe 10.0.1.10 20 0.01
tap_eq "smoke: ping 10.0.1.10 from task, replies of 20" "$P_RECV" 20
ping_probe fd00:1::10 20 0.01
tap_eq "smoke: ping fd00:1::10 from task, replies of 20" "$P_RECV" 20
tap_check "smoke: HTTP on 10.0.2.10:8080" tcp_connects 10.0.2.10 8080
tap_check "smoke: HTTP on [fd00:2::10]:8081" tcp_connects fd00:2::10 8081
if [ -x $UDPECHO ]; then
    out=$(t $UDPECHO probe 10.0.9.10 9000 50 2 500)
    tap_eq "smoke: UDP echo on 10.0.9.10:9000 ($out)" "$(echo "$out" | awk '{print $4}')" 50
fi
kbit=$(iperf_kbit 10.0.9.10 1)
tap_above "smoke: iperf3 to 10.0.9.10 kbit/s" "$kbit" 10000

base_t=$(median_rtt 10.0.1.10 40 0.01)
base_u=$(median_rtt 10.0.9.10 40 0.01)
base_6=$(median_rtt fd00:1::10 40 0.01)
tap_diag "smoke: baseline median RTT 10.0.1.10 $base_t ms, 10.0.9.10 $base_u ms, fd00:1::10 $base_6 ms"

# The shape netfaultd uses, by hand.
t $IP link add nfsmoke type ifb
t $IP link set nfsmoke up
t $TC qdisc add dev nfsmoke root netem delay 50ms
t $TC qdisc add dev eth0 clsact
t $TC filter add dev eth0 egress pref 100 protocol ip flower dst_ip 10.0.1.10/32 \
    action mirred egress redirect dev nfsmoke
t $TC filter add dev eth0 egress pref 101 protocol ipv6 flower dst_ip fd00:1::10/128 \
    action mirred egress redirect dev nfsmoke
t $TC filter add dev eth0 egress pref 102 protocol ip flower dst_ip 10.0.1.11/32 \
    action gact drop
rc=$?
tap_eq "smoke: tc accepts clsact, ifb, netem, flower, mirred, gact (last rc)" "$rc" 0

m=$(median_rtt 10.0.1.10 40 0.01)
tap_near "smoke: netem 50ms via ifb: median RTT to 10.0.1.10 +" "$(fsub "$m" "$base_t")" 50 15 " ms"
m6=$(median_rtt fd00:1::10 40 0.01)
tap_near "smoke: netem 50ms via ifb: median RTT to fd00:1::10 +" "$(fsub "$m6" "$base_6")" 50 15 " ms"
mu=$(median_rtt 10.0.9.10 40 0.01)
tap_below "smoke: untargeted 10.0.9.10 median RTT" "$mu" "$(fadd "$base_u" 10)" " ms"
ping_probe 10.0.1.11 20 0.01
tap_eq "smoke: gact drop: replies from 10.0.1.11 of 20" "$P_RECV" 0
root=$(t $TC qdisc show dev eth0 | grep ' root ' | awk '{print $2}')
tap_eq "smoke: eth0 root qdisc untouched" "$root" noqueue

t $TC qdisc del dev eth0 clsact
t $IP link del nfsmoke
state_same "smoke: tc/link state restored after cleanup" "$WORK/before"
