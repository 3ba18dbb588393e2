#!/bin/sh
# control plane (issue 5): a blackhole of 0.0.0.0/0 and ::/0 leaves netfaultd's API reachable
# from a peer namespace (its port is guarded), while ping to every other address stops; the fault
# lists what it protected; a dry run plans without touching the kernel.
. /lab/lib.sh
state_dump "$WORK/before"
# Reached from a peer namespace without a token: the test says so explicitly (issue 14 refuses a
# non-loopback listener without authentication otherwise).
nf_start --listen "[::]:9700" --insecure-no-auth || exit 0

nf_req POST "/v1/faults?dry_run=true" '{"targets":["0.0.0.0/0","::/0"],"blackhole":true}'
tap_eq "control-plane: dry run answers 200" "$NF_CODE" 200
tap_eq "control-plane: dry run state" "$(json_str state)" planned
tap_check "control-plane: dry run shows the planned filters" sh -c "echo '$NF_BODY' | grep -q '\"filters\"'"
state_same "control-plane: a dry run changes nothing in the kernel" "$WORK/before"

if nf_create "control-plane" '{"targets":["0.0.0.0/0","::/0"],"blackhole":true,"duration_s":60}'; then
    tap_check "control-plane: the fault lists the protected metadata addresses" sh -c "echo '$NF_BODY' | grep -q '169.254.169.254/32'"
    ping_probe 10.0.9.10 20 0.01
    tap_eq "control-plane: ping to 10.0.9.10 under the blackhole, replies" "$P_RECV" 0
    ping_probe fd00:9::10 20 0.01
    tap_eq "control-plane: ping to fd00:9::10 under the blackhole, replies" "$P_RECV" 0
    code=$(peer $CURL -s -m 3 -o /dev/null -w '%{http_code}' http://10.0.0.2:9700/healthz 2>/dev/null)
    tap_eq "control-plane: GET /healthz from the peer namespace over IPv4" "$code" 200
    code=$(peer $CURL -s -m 3 -o /dev/null -w '%{http_code}' "http://[fd00::2]:9700/healthz" 2>/dev/null)
    tap_eq "control-plane: GET /healthz from the peer namespace over IPv6" "$code" 200
    code=$(peer $CURL -s -m 3 -o /dev/null -w '%{http_code}' -X DELETE http://10.0.0.2:9700/v1/faults 2>/dev/null)
    tap_eq "control-plane: the peer can revert everything" "$code" 200
    ping_probe 10.0.9.10 20 0.01
    tap_eq "control-plane: after DELETE, ping replies" "$P_RECV" 20
fi
state_same "control-plane: the tc/link state equals the state before" "$WORK/before"
nf_finish TERM
