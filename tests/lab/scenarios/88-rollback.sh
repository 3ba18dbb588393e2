#!/bin/sh
# rollback (issue 2): a fault whose netlink transaction fails half-way is undone completely, and
# what is not ours is never touched:
#  - a foreign link already holds the name of the ifb the fault will create ("nfe0.2"): the
#    kernel refuses that step after the clsact qdisc was created; the reply carries the error,
#    the dump equals the dump before (clsact gone again) and the foreign link is still there;
#  - a foreign flower filter sits at the priority the fault would use: refused with 409 before
#    anything is sent, the foreign filter untouched.
. /lab/lib.sh
nf_start || exit 0

# the name of slot 0's ifb on eth0, taken by someone else
t $IP link add nfe0.2 type ifb
state_dump "$WORK/before"
nf_req POST /v1/faults '{"targets":["10.0.1.10"],"delay":{"ms":50}}'
tap_check "rollback: a kernel refusal half-way answers an error ($NF_CODE)" [ "$NF_CODE" = 409 -o "$NF_CODE" = 500 ]
tap_diag "rollback: $NF_BODY"
tap_check "rollback: the error quotes what the kernel refused" sh -c "printf '%s' \"\$1\" | grep -q 'ifb link'" _ "$NF_BODY"
state_same "rollback: after the failed apply the tc/link state equals the state before" "$WORK/before"
tap_check "rollback: the foreign link that caused it is still there" t $IP link show nfe0.2
m=$(median_rtt 10.0.1.10 20 0.01)
tap_below "rollback: no delay was left behind, RTT" "$m" 10 " ms"
nf_req GET /v1/faults
tap_eq "rollback: no fault is listed" "$NF_BODY" '{"faults":[]}'
t $IP link del nfe0.2

# a foreign filter at our priority (slot 0, IPv4: 0xfd02 = 64770)
t $TC qdisc add dev eth0 clsact
t $TC filter add dev eth0 egress protocol ip prio 64770 flower dst_ip 192.0.2.1 action pass
state_dump "$WORK/before2"
nf_req POST /v1/faults '{"targets":["10.0.1.10"],"delay":{"ms":50}}'
tap_eq "rollback: a foreign filter at our priority is a conflict" "$NF_CODE" 409
has() { printf '%s' "$NF_BODY" | grep -q "$1"; }
tap_check "rollback: the conflict names the priority" has 64770
state_same "rollback: the foreign filter and clsact are untouched" "$WORK/before2"
t $TC qdisc del dev eth0 clsact
nf_finish TERM
