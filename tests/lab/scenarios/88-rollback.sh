#!/bin/sh
# rollback (issue 2): a fault whose netlink transaction fails half-way is undone completely, and
# what is not ours is never touched:
#  - a foreign link already holds the name of the ifb the fault will create ("nfp0", the first
#    name of the ifb pool; "nfe0.2", slot 0's, with --ifb-pool 0): the kernel refuses that step
#    after the clsact qdisc was created; the reply carries the error, the dump equals the dump
#    before (clsact gone again) and the foreign link is still there;
#  - a foreign flower filter sits at the priority the fault would use: refused with 409 before
#    anything is sent, the foreign filter untouched.
. /lab/lib.sh

# taken_name NAME [DAEMON ARGS]: the name of the fault's ifb, taken by someone else
taken_name() {
    local name=$1
    shift
    nf_start "$@" || return 1
    t $IP link add "$name" type ifb
    strict_dump "$WORK/before"
    nf_req POST /v1/faults '{"targets":["10.0.1.10"],"delay":{"ms":50}}'
    tap_check "rollback ($name): a kernel refusal half-way answers an error ($NF_CODE)" [ "$NF_CODE" = 409 -o "$NF_CODE" = 500 ]
    tap_diag "rollback: $NF_BODY"
    tap_check "rollback ($name): the error quotes what the kernel refused" sh -c "printf '%s' \"\$1\" | grep -q 'ifb link'" _ "$NF_BODY"
    strict_same "rollback ($name): after the failed apply the tc/link state equals the state before (no idle link either)" "$WORK/before"
    tap_check "rollback ($name): the foreign link that caused it is still there" t $IP link show "$name"
    m=$(median_rtt 10.0.1.10 20 0.01)
    tap_below "rollback ($name): no delay was left behind, RTT" "$m" 10 " ms"
    nf_req GET /v1/faults
    tap_eq "rollback ($name): no fault is listed" "$NF_BODY" '{"faults":[]}'
    t $IP link del "$name"
}
taken_name nfe0.2 --ifb-pool 0 && nf_finish TERM
taken_name nfp0 || exit 0

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
