#!/bin/sh
# bench-apply: time to install and remove the same clsact+flower+mirred->ifb(netem) shape for
# N target CIDRs: netfaultd (POST /v1/faults until 201, DELETE until 200: the daemon replies
# only after its one netlink transaction is acknowledged), one tc -batch, one tc process per rule,
# and one tc -batch of a u32 chain (the cheapest shape to install by hand).
. /lab/scenarios/benchlib.sh
bench_nf_start || exit 0
state_dump "$WORK/before"

for n in $APPLY_SIZES; do
    targets_file "$n" "$WORK/targets.$n"
    fault_json "$WORK/targets.$n" '"delay":{"ms":0}' "$WORK/fault.$n.json"
    reps=$APPLY_REPS
    [ "$n" -ge 10000 ] && reps=$APPLY_REPS_BIG
    r=1
    while [ $r -le "$reps" ]; do
        # netfaultd
        nf_post_file "$WORK/fault.$n.json"
        if [ "$NF_CODE" != 201 ]; then
            tap_fail "bench-apply: POST $n targets -> $NF_CODE"
            tap_diag "response: $NF_BODY"
            break
        fi
        bench_emit "\"b\":\"apply\",\"impl\":\"netfaultd\",\"n\":$n,\"unit\":\"ms\",\"v\":$(s2ms "$NF_TIME")"
        if [ $r = 1 ]; then
            c=$(egress_filters)
            # the daemon's own guard filters (API port, control plane) come on top of the targets
            tap_between "bench-apply: netfaultd $n targets: flower filters on eth0 egress after 201" "$c" "$n" $((n + 16)) ""
        fi
        id=$NF_ID
        nf_del "$id"
        [ "$NF_CODE" = 200 ] || tap_fail "bench-apply: DELETE $n targets -> $NF_CODE"
        bench_emit "\"b\":\"revert\",\"impl\":\"netfaultd\",\"n\":$n,\"unit\":\"ms\",\"v\":$(s2ms "$NF_TIME")"
        if [ $r = 1 ]; then
            state_same "bench-apply: netfaultd $n targets: kernel state back after DELETE" "$WORK/before"
        fi
        # one tc -batch
        us=$(tcref_apply_batch flower "$WORK/targets.$n")
        bench_emit "\"b\":\"apply\",\"impl\":\"tc-batch\",\"n\":$n,\"unit\":\"ms\",\"v\":$(us2ms "$us")"
        [ $r = 1 ] && tap_eq "bench-apply: tc -batch $n targets: flower filters on eth0 egress" "$(egress_filters)" "$n"
        us=$(tcref_revert_batch)
        bench_emit "\"b\":\"revert\",\"impl\":\"tc-batch\",\"n\":$n,\"unit\":\"ms\",\"v\":$(us2ms "$us")"
        tcref_cleanup
        # the cheapest thing by hand: one tc -batch of a u32 chain (same hook, same action; every
        # packet then walks the chain, see bench-datapath)
        us=$(tcref_apply_batch u32 "$WORK/targets.$n")
        bench_emit "\"b\":\"apply\",\"impl\":\"tc-batch-u32\",\"n\":$n,\"unit\":\"ms\",\"v\":$(us2ms "$us")"
        us=$(tcref_revert_batch)
        bench_emit "\"b\":\"revert\",\"impl\":\"tc-batch-u32\",\"n\":$n,\"unit\":\"ms\",\"v\":$(us2ms "$us")"
        tcref_cleanup
        r=$((r + 1))
    done
    # warm: the same POST/DELETE pair WARM_REPS times back to back from one curl process (under
    # TCG, code that has not run for a while is translated again: the interleaved samples above
    # pay for that, as a daemon woken after a quiet hour would on a real machine)
    i=0
    while [ $i -lt "$WARM_REPS" ]; do
        curl_block POST /v1/faults "$WORK/fault.$n.json"
        curl_block DELETE /v1/faults
        i=$((i + 1))
    done >"$WORK/warm.cfg"
    set -- $(run_config "$WORK/warm.cfg")
    [ "$1" = $((2 * WARM_REPS)) ] || tap_fail "bench-apply: warm POST/DELETE of $n targets: $1 of $((2 * WARM_REPS)) 2xx"
    bench_emit "\"b\":\"apply\",\"impl\":\"netfaultd-warm\",\"n\":$n,\"unit\":\"ms\",\"vs\":[$(awk 'NR%2==1{printf "%s%.3f", s, $2*1000; s=","}' "$WORK/replies")]"
    bench_emit "\"b\":\"revert\",\"impl\":\"netfaultd-warm\",\"n\":$n,\"unit\":\"ms\",\"vs\":[$(awk 'NR%2==0{printf "%s%.3f", s, $2*1000; s=","}' "$WORK/replies")]"
    # the daemon's own share: a dry run validates and plans the same body (and renders the
    # plan, which a real apply does not) without touching the kernel
    i=0
    while [ $i -lt 3 ]; do
        curl_block POST "/v1/faults?dry_run=true" "$WORK/fault.$n.json"
        i=$((i + 1))
    done >"$WORK/dry.cfg"
    run_config "$WORK/dry.cfg" >/dev/null
    bench_emit "\"b\":\"dry_run_guest\",\"impl\":\"netfaultd\",\"n\":$n,\"unit\":\"ms\",\"vs\":[$(awk '{printf "%s%.3f", s, $2*1000; s=","}' "$WORK/replies")]"
    # one tc process per rule: slow, so fewer samples; beyond EACH_MAX only extrapolated by
    # bench/run.sh from the per-rule cost at the largest measured size
    if [ "$n" -le "$EACH_MAX" ]; then
        reps=$EACH_REPS
        [ "$n" -ge 1000 ] && reps=1
        r=1
        while [ $r -le "$reps" ]; do
            us=$(tcref_apply_each "$WORK/targets.$n")
            bench_emit "\"b\":\"apply\",\"impl\":\"tc-per-rule\",\"n\":$n,\"unit\":\"ms\",\"v\":$(us2ms "$us")"
            [ $r = 1 ] && tap_eq "bench-apply: tc per rule $n targets: flower filters on eth0 egress" "$(egress_filters)" "$n"
            us=$(tcref_revert_each "$n")
            bench_emit "\"b\":\"revert\",\"impl\":\"tc-per-rule\",\"n\":$n,\"unit\":\"ms\",\"v\":$(us2ms "$us")"
            tcref_cleanup
            r=$((r + 1))
        done
    fi
    tap_diag "bench-apply: $n targets done at $(cut -d' ' -f1 /proc/uptime) s"
done

state_same "bench-apply: kernel state at the end equals the start" "$WORK/before"
nf_finish
