#!/bin/sh
# ifb-pool (issue 17, fixed cost): a reverted fault hands its ifb link back to an idle pool
# (alias netfaultd:pool) instead of deleting it, and the next fault takes it. Checked here:
#  - a fault on a recycled link has exactly its own netem: the first fault delays 200 ms and
#    loses 30 %, the second, on the same link, delays 50 ms only: median RTT 50 ± 15 ms and no
#    loss in 60 pings; the link's qdisc dump names one netem, without loss;
#  - an idle link carries no netem and no filter points at it (eth0's clsact is gone);
#  - three concurrent faults, two on recycled links and one on a new one, each measured alone;
#  - a failed apply that had taken an idle link (its second link's name is held by a foreign
#    link) leaves nothing: the idle link is idle again without a qdisc of ours, no filter, the
#    foreign link untouched; the next fault on it measures its own delay;
#  - idle links go: after --ifb-pool-idle (2 s here, polled, ≤ 2 s + 3 s of TCG slack), at
#    SIGTERM, after kill -9 of the daemon (its guardian sweeps) and after kill -9 of the daemon
#    and its guardian followed by a restart (its start-up sweep, before /healthz answers).
# State comparisons: lib.sh's state_dump leaves idle pool links out while a daemon runs; after a
# stop nothing of ours may remain, checked with our_links (every nf* link with a netfaultd: alias).
. /lab/lib.sh
strict_dump "$WORK/before"
guard_pid() { for f in /proc/[0-9]*/comm; do [ "$(cat "$f" 2>/dev/null)" = netfaultd-guard ] && { d=${f%/comm}; echo "${d#/proc/}"; return; }; done; }
ifb_of() { json_str ifb; }
no_links() { [ -z "$(our_links)" ]; }
has_str() { printf '%s' "$1" | grep -q "$2"; }

if nf_start; then
    # --- recycled link: only the second fault's netem
    if nf_create "ifb-pool: first fault" '{"targets":["10.0.1.10/32"],"delay":{"ms":200},"loss":{"percent":30}}'; then
        id=$NF_ID
        nf_req GET "/v1/faults/$id"; first_ifb=$(ifb_of)
        tap_eq "ifb-pool: the first fault's ifb is a pool link" "$first_ifb" nfp0
        ping_probe 10.0.1.10 40 0.05
        tap_near "ifb-pool: first fault, median RTT" "$P_MED" 200 20 " ms"
        tap_check "ifb-pool: first fault loses packets ($P_LOSS %)" awk -v l="$P_LOSS" 'BEGIN{exit !(l >= 5)}'
        nf_delete "$id"
        tap_eq "ifb-pool: after DELETE the link is idle in the pool" "$(pool_links)" "nfp0 "
        q=$(t $TC qdisc show dev nfp0)
        tap_check "ifb-pool: the idle link carries no netem ($q)" sh -c "! printf '%s' \"\$1\" | grep -q netem" _ "$q"
        tap_check "ifb-pool: no filter points at it (eth0 has no clsact left)" sh -c "! $IP netns exec task $TC qdisc show dev eth0 | grep -q clsact"
        state_same "ifb-pool: the state, idle pool links aside, equals the state before" "$WORK/before"
    fi
    if nf_create "ifb-pool: second fault" '{"targets":["10.0.1.10/32"],"delay":{"ms":50}}'; then
        id=$NF_ID
        nf_req GET "/v1/faults/$id"
        tap_eq "ifb-pool: the second fault took the idle link" "$(ifb_of)" nfp0
        tap_eq "ifb-pool: ... which left the pool" "$(pool_links)" ""
        q=$(t $TC qdisc show dev nfp0)
        tap_eq "ifb-pool: the recycled link has one netem" "$(printf '%s\n' "$q" | grep -c netem)" 1
        tap_check "ifb-pool: with delay 50ms and no loss ($q)" sh -c "printf '%s' \"\$1\" | grep -q 'delay 50ms' && ! printf '%s' \"\$1\" | grep -q loss" _ "$q"
        alias=$(t $IP -o link show dev nfp0 | grep -o 'alias [^ \\]*')
        tap_eq "ifb-pool: its alias is the fault's" "$alias" "alias netfaultd:$id:eth0:egress"
        ping_probe 10.0.1.10 60 0.02
        tap_near "ifb-pool: second fault on the recycled link, median RTT" "$P_MED" 50 15 " ms"
        tap_eq "ifb-pool: second fault loses nothing (received of 60)" "$P_RECV" 60
        nf_delete "$id"
    fi

    # --- concurrent faults on distinct links, two recycled
    nf_create "ifb-pool: filler" '{"targets":["10.0.2.10/32"],"delay":{"ms":10}}' && f1=$NF_ID
    nf_create "ifb-pool: filler" '{"targets":["10.0.2.11/32"],"delay":{"ms":10}}' && f2=$NF_ID
    nf_delete "$f1"; nf_delete "$f2"
    tap_eq "ifb-pool: two idle links" "$(echo $(pool_links) | wc -w)" 2
    ids= ifbs=
    for spec in 10.0.3.1:30 10.0.3.2:60 10.0.3.3:90; do
        nf_create "ifb-pool: concurrent ${spec%%:*}" "{\"targets\":[\"${spec%%:*}/32\"],\"delay\":{\"ms\":${spec##*:}}}" || continue
        ids="$ids $NF_ID"
        nf_req GET "/v1/faults/$NF_ID"; ifbs="$ifbs $(ifb_of)"
    done
    tap_eq "ifb-pool: three concurrent faults on three distinct links ($ifbs)" "$(echo $ifbs | tr ' ' '\n' | sort -u | wc -l)" 3
    tap_eq "ifb-pool: the pool gave both idle links" "$(pool_links)" ""
    for spec in 10.0.3.1:30 10.0.3.2:60 10.0.3.3:90; do
        m=$(median_rtt "${spec%%:*}" 20 0.02)
        tap_near "ifb-pool: concurrent fault toward ${spec%%:*}, median RTT" "$m" "${spec##*:}" 15 " ms"
    done
    for l in $ifbs; do
        tap_eq "ifb-pool: $l carries one netem" "$(t $TC qdisc show dev "$l" | grep -c netem)" 1
    done
    for id in $ids; do nf_delete "$id"; done
    state_same "ifb-pool: after the concurrent faults, idle links aside, the state equals the state before" "$WORK/before"

    # --- SIGTERM empties the pool
    tap_eq "ifb-pool: three idle links before SIGTERM" "$(echo $(pool_links) | wc -w)" 3
    nf_finish TERM
    tap_check "ifb-pool: after SIGTERM no link of ours is left ($(our_links))" no_links
    state_same "ifb-pool: after SIGTERM the state equals the state before" "$WORK/before"
fi

if nf_start; then

    # --- a failed apply that took an idle link
    nf_create "ifb-pool: make an idle link" '{"targets":["10.0.1.11/32"],"delay":{"ms":10}}' && nf_delete "$NF_ID"
    tap_eq "ifb-pool: one idle link" "$(pool_links)" "nfp0 "
    t $IP link add nfp1 type ifb   # the name the fault's second link would get
    strict_dump "$WORK/before_fail"
    nf_req POST /v1/faults '{"targets":["10.0.1.10/32"],"delay":{"ms":70},"direction":"both"}'
    tap_check "ifb-pool: an apply refused half-way answers an error ($NF_CODE)" [ "$NF_CODE" = 409 -o "$NF_CODE" = 500 ]
    tap_diag "ifb-pool: $NF_BODY"
    strict_same "ifb-pool: after the failed apply everything is as before (the idle link idle again)" "$WORK/before_fail"
    tap_eq "ifb-pool: the idle link is back in the pool" "$(pool_links)" "nfp0 "
    tap_check "ifb-pool: the foreign link is untouched" t $IP link show nfp1
    tap_eq "ifb-pool: no fault listed" "$(nf_req GET /v1/faults; echo "$NF_BODY")" '{"faults":[]}'
    t $IP link del nfp1
    if nf_create "ifb-pool: a fault after the failed apply" '{"targets":["10.0.1.10/32"],"delay":{"ms":40}}'; then
        nf_req GET "/v1/faults/$NF_ID"
        tap_eq "ifb-pool: it takes the idle link" "$(ifb_of)" nfp0
        m=$(median_rtt 10.0.1.10 30 0.02)
        tap_near "ifb-pool: and measures its own delay, median RTT" "$m" 40 15 " ms"
        nf_delete "$NF_ID"
    fi

    tap_eq "ifb-pool: an idle link before SIGTERM" "$(pool_links)" "nfp0 "
    nf_finish TERM
    tap_check "ifb-pool: after SIGTERM no link of ours is left ($(our_links))" no_links
fi

# --- idle expiry: a daemon with --ifb-pool-idle 2
if nf_start --ifb-pool-idle 2; then
    for a in 10.0.1.10 10.0.1.11; do
        nf_create "ifb-pool: expiry $a" "{\"targets\":[\"$a/32\"],\"delay\":{\"ms\":10}}" && eval "id_$(echo $a | tr . _)=\$NF_ID"
    done
    nf_delete "$id_10_0_1_10"; t0=$(now_ms); nf_delete "$id_10_0_1_11"
    tap_eq "ifb-pool: two idle links to expire" "$(pool_links)" "nfp0 nfp1 "
    # polled every ~100 ms; the first goes 2 s after its revert, the second a little later
    ms=
    while [ $(( $(now_ms) - t0 )) -lt 8000 ]; do
        [ -z "$(pool_links)" ] && { ms=$(( $(now_ms) - t0 )); break; }
        sleep 0.1
    done
    tap_between "ifb-pool: idle links deleted after --ifb-pool-idle 2 s: the last one after" "${ms:-}" 1800 5000 " ms"
    tap_check "ifb-pool: ... and nothing of ours is left" no_links

    grep -q 'ifb_pool.timer\|ifb_pool.delete_failed' "$NF_LOG" && tap_fail "ifb-pool: the expiry timer logged a failure" || tap_ok "ifb-pool: the expiry timer logged no failure"
    nf_finish TERM
fi

# --- kill -9 of the daemon: its guardian sweeps idle links too
if nf_start; then
    nf_create "ifb-pool: kill" '{"targets":["10.0.1.10/32"],"delay":{"ms":10}}' && nf_delete "$NF_ID"
    tap_eq "ifb-pool: an idle link before kill -9" "$(pool_links)" "nfp0 "
    kill -9 "$NF_PID"; t0=$(now_ms); wait "$NF_PID" 2>/dev/null; NF_PID=
    ms=
    while [ $(( $(now_ms) - t0 )) -lt 3000 ]; do
        no_links && { ms=$(( $(now_ms) - t0 )); break; }
        sleep 0.05
    done
    tap_below "ifb-pool: after kill -9 the guardian removed the idle link in" "${ms:-}" 2000 " ms"
    state_same "ifb-pool: ... and the state equals the state before" "$WORK/before"
fi

# --- kill -9 of both: the next start sweeps them
if nf_start; then
    nf_create "ifb-pool: kill both" '{"targets":["10.0.1.10/32"],"delay":{"ms":10}}' && nf_delete "$NF_ID"
    gp=$(guard_pid)
    kill -9 "$gp" "$NF_PID" 2>/dev/null; wait "$NF_PID" 2>/dev/null; NF_PID=
    sleep 0.3
    tap_eq "ifb-pool: with both killed, the idle link is left" "$(our_links)" "nfp0 "
    if nf_start; then
        tap_check "ifb-pool: a new netfaultd swept it before /healthz answered ($(our_links))" no_links
        nf_finish TERM
    fi
    state_same "ifb-pool: after the restart and stop the state equals the state before" "$WORK/before"
fi
