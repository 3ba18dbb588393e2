#!/bin/sh
# revert: faults of several kinds (delay, blackhole, loss on IPv6, tcp port)
# change the tc/link state; DELETE of each restores it exactly; then the same
# again ended by SIGTERM: netfaultd reverts everything and exits 0.
. /lab/lib.sh
nf_start || exit 0
state_dump "$WORK/before"
base=$(median_rtt 10.0.1.10 30 0.01)

make_faults() {
    local how=$1
    ids=
    nf_create "revert ($how) delay" '{"targets":["10.0.1.10"],"delay":{"ms":80}}' && ids="$ids $NF_ID"
    nf_create "revert ($how) blackhole" '{"targets":["10.0.2.0/24"],"blackhole":true}' && ids="$ids $NF_ID"
    nf_create "revert ($how) loss v6" '{"targets":["fd00:1::10"],"loss":{"percent":30}}' && ids="$ids $NF_ID"
    nf_create "revert ($how) tcp port" '{"targets":["10.0.9.10"],"protocol":"tcp","ports":["8080-8081"],"delay":{"ms":10}}' && ids="$ids $NF_ID"
    set -- $ids
    tap_eq "revert ($how): faults created" "$#" 4
}

make_faults delete
state_dump "$WORK/during"
if cmp -s "$WORK/before" "$WORK/during"; then
    tap_fail "revert: the faults change the tc/link state (no change seen)"
else
    tap_ok "revert: the faults change the tc/link state"
fi
m=$(median_rtt 10.0.1.10 20 0.01)
tap_near "revert: delay active, median RTT to 10.0.1.10 +" "$(fsub "$m" "$base")" 80 15 " ms"
okdel=0
for id in $ids; do
    nf_delete "$id" && okdel=$((okdel + 1))
done
tap_eq "revert: DELETE /v1/faults/{id} of each -> 200" "$okdel" 4
state_same "revert: after DELETE of each fault the tc/link state equals the state before" "$WORK/before"
nf_req GET "/v1/faults/$id"
tap_eq "revert: GET of a deleted fault status" "$NF_CODE" 404

make_faults sigterm
nf_finish TERM
state_same "revert: after SIGTERM the tc/link state equals the state before" "$WORK/before"
m=$(median_rtt 10.0.1.10 20 0.01)
tap_below "revert: after SIGTERM, 10.0.1.10 median RTT" "$m" "$(fadd "$base" 10)" " ms"
tap_check "revert: after SIGTERM, TCP 10.0.2.10:8080 connects" tcp_connects 10.0.2.10 8080

# SIGINT does the same.
if nf_start; then
    nf_create "revert (sigint) delay" '{"targets":["10.0.1.10"],"delay":{"ms":80}}'
    nf_finish INT
    state_same "revert: after SIGINT the tc/link state equals the state before" "$WORK/before"
fi
