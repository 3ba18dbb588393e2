#!/bin/sh
# conflict: a second fault whose targets overlap an active fault's -> 409;
# disjoint targets -> 201; plus the error shapes 400 and 404.
. /lab/lib.sh
nf_start || exit 0
state_dump "$WORK/before"

if nf_create "conflict first" '{"targets":["10.0.1.10/32"],"delay":{"ms":20}}'; then
    first=$NF_ID
    state_dump "$WORK/one"
    nf_req POST /v1/faults '{"targets":["10.0.1.10/32"],"loss":{"percent":5}}'
    tap_eq "conflict: same target again -> status" "$NF_CODE" 409
    tap_diag "conflict: body $NF_BODY"
    code=$(json_str code)
    [ -n "$code" ] && tap_ok "conflict: 409 body has error.code ($code)" || tap_fail "conflict: 409 body has error.code"
    nf_req POST /v1/faults '{"targets":["10.0.1.0/24"],"delay":{"ms":5}}'
    tap_eq "conflict: covering CIDR 10.0.1.0/24 -> status" "$NF_CODE" 409
    nf_req POST /v1/faults '{"targets":["10.0.9.10","10.0.1.10"],"blackhole":true}'
    tap_eq "conflict: list with one overlapping target -> status" "$NF_CODE" 409
    state_same "conflict: rejected requests leave the tc/link state alone" "$WORK/one"
    nf_req POST /v1/faults '{"targets":["10.0.1.11/32"],"delay":{"ms":20}}'
    tap_eq "conflict: disjoint 10.0.1.11/32 -> status" "$NF_CODE" 201
fi

nf_req POST /v1/faults '{"targets":["10.0.0.300"],"delay":{"ms":20}}'
tap_eq "conflict: invalid target 10.0.0.300 -> status" "$NF_CODE" 400
tap_diag "conflict: body $NF_BODY"
nf_req GET /v1/faults/does-not-exist
tap_eq "conflict: GET unknown id -> status" "$NF_CODE" 404
nf_req DELETE /v1/faults/does-not-exist
tap_eq "conflict: DELETE unknown id -> status" "$NF_CODE" 404

nf_req DELETE /v1/faults
tap_eq "conflict: DELETE /v1/faults status" "$NF_CODE" 200
state_same "conflict: tc/link state after DELETE /v1/faults equals the state before" "$WORK/before"
nf_finish TERM

# --max-faults: past the limit a fault is 429, and nothing of it reaches the kernel.
if nf_start --max-faults 1; then
    nf_create "conflict: first fault under --max-faults 1" '{"targets":["10.0.1.10"],"delay":{"ms":20}}'
    state_dump "$WORK/one"
    nf_req POST /v1/faults '{"targets":["10.0.2.10"],"delay":{"ms":20}}'
    tap_eq "conflict: a second fault past --max-faults 1 -> status" "$NF_CODE" 429
    tap_check "conflict: ... names too_many_faults" sh -c "printf '%s' \"\$1\" | grep -q too_many_faults" _ "$NF_BODY"
    state_same "conflict: ... and changes nothing in the kernel" "$WORK/one"
    nf_req DELETE /v1/faults
    state_same "conflict: tc/link state after the --max-faults check equals the state before" "$WORK/before"
    nf_finish TERM
fi
