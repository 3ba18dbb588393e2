#!/bin/sh
# topology.sh: the guest's network, built from namespaces and one veth pair.
#
#   task (netfaultd runs here)              net (the "rest of the world")
#   eth0 10.0.0.2/24  fd00::2/64  <--veth-->  peer0 10.0.0.1/24  fd00::1/64
#   default via 10.0.0.1 / fd00::1            lo: role addresses below
#
# Role addresses in `net` (all made up, private, and only inside this guest):
#   dynamodb   10.0.1.10 10.0.1.11  fd00:1::10 fd00:1::11
#   alb        10.0.2.10 10.0.2.11 (the 10.0.2.0/24 subnet)  fd00:2::10
#   untargeted 10.0.9.10            fd00:9::10
#   many       10.0.3.1 .. 10.0.3.16 (concurrency scenario)
# Listeners in `net`: HTTP (busybox httpd) on 8080 and 8081, iperf3 server on
# 5201, UDP echo on 9000 and 8080; all on every address, IPv4 and IPv6.
set -eu
IP=/usr/sbin/ip

$IP netns add task
$IP netns add net
# IPv6 duplicate address detection would keep fresh addresses "tentative"
# for a second or more: switch it off in every namespace, and use nodad.
for ns in task net; do
    $IP netns exec $ns sh -c 'for k in all default; do echo 0 >/proc/sys/net/ipv6/conf/$k/accept_dad; echo 0 >/proc/sys/net/ipv6/conf/$k/dad_transmits; done'
    $IP -n $ns link set lo up
done

$IP link add eth0 netns task type veth peer name peer0 netns net
$IP -n task link set eth0 up
$IP -n net link set peer0 up

$IP -n task addr add 10.0.0.2/24 dev eth0
$IP -n task addr add fd00::2/64 dev eth0 nodad
$IP -n net addr add 10.0.0.1/24 dev peer0
$IP -n net addr add fd00::1/64 dev peer0 nodad

$IP -n task route add default via 10.0.0.1 dev eth0
$IP -n task -6 route add default via fd00::1 dev eth0

for a in 10.0.1.10 10.0.1.11 10.0.2.10 10.0.2.11 10.0.9.10; do
    $IP -n net addr add $a/32 dev lo
done
i=1
while [ $i -le 16 ]; do
    $IP -n net addr add 10.0.3.$i/32 dev lo
    i=$((i + 1))
done
for a in fd00:1::10 fd00:1::11 fd00:2::10 fd00:9::10; do
    $IP -n net addr add $a/128 dev lo nodad
done
# Replies to the task namespace leave through peer0 (connected routes).

# Listeners. busybox httpd daemonizes itself; the others go to the background.
$IP netns exec net /bin/busybox httpd -p 8080 -h /srv/www
$IP netns exec net /bin/busybox httpd -p 8081 -h /srv/www
$IP netns exec net /usr/bin/iperf3 -s -D -p 5201 >/dev/null 2>&1
if [ -x /usr/bin/udpecho ]; then
    $IP netns exec net /usr/bin/udpecho serve 9000 >/dev/null 2>&1 &
    # UDP on 8080 too, to tell a "protocol: tcp" fault from a port-only one
    $IP netns exec net /usr/bin/udpecho serve 8080 >/dev/null 2>&1 &
fi

# Wait until the path works both ways (neighbour resolution, v4 and v6).
n=0
until $IP netns exec task /usr/bin/ping -n -c1 -W1 10.0.9.10 >/dev/null 2>&1 &&
    $IP netns exec task /usr/bin/ping -n -6 -c1 -W1 fd00:9::10 >/dev/null 2>&1; do
    n=$((n + 1))
    [ $n -lt 20 ] || { echo "topology.sh: peer does not answer ping" >&2; exit 1; }
    sleep 0.2
done
