#!/bin/sh
# lifecycle (issue 5): nothing is left behind whatever happens to netfaultd.
#  - kill -9 of netfaultd: its guardian reverts every fault; the tc/link dump equals the dump
#    before the faults within 1 s (polled every ~20 ms; tolerance: TCG scheduling);
#  - kill -9 of netfaultd and its guardian, then a new netfaultd: the leftovers are gone by the
#    time /healthz first answers;
#  - --on-start=resume: a fault with time left comes back with its id and original expires_at,
#    and its delay is measured again;
#  - a lease not renewed reverts the fault at lease_s (±0.6 s), a renewed one stays;
#  - 1,000 create/delete cycles leave the dump identical and the daemon's memory flat: live heap
#    bytes (the allocator's own count, from /healthz) grow by less than 16 KiB from cycle 100 to
#    1,000; RSS is reported too (it also moves with fragmentation, so it is not asserted).
. /lab/lib.sh
state_dump "$WORK/before"

guard_pid() { for f in /proc/[0-9]*/comm; do [ "$(cat "$f" 2>/dev/null)" = netfaultd-guard ] && { d=${f%/comm}; echo "${d#/proc/}"; return; }; done; }
rss_kb() { awk '/^VmRSS:/ {print $2}' "/proc/$1/status" 2>/dev/null; }
# wait_state_same MAX_MS: prints the ms it took for the dump to equal "before", or nothing
wait_state_same() {
    local t0 now
    t0=$(now_ms)
    while :; do
        state_dump "$WORK/state.now"
        now=$(now_ms)
        if cmp -s "$WORK/before" "$WORK/state.now"; then echo $((now - t0)); return 0; fi
        [ $((now - t0)) -gt "$1" ] && return 1
    done
}
FAULTS='{"targets":["10.0.1.10"],"delay":{"ms":80},"duration_s":60}
{"targets":["10.0.2.10"],"protocol":"tcp","ports":[8080],"blackhole":true,"duration_s":60}
{"targets":["fd00:1::10"],"loss":{"percent":50},"duration_s":60}'
make_faults() {
    local n=0
    echo "$FAULTS" | while IFS= read -r j; do nf_req POST /v1/faults "$j"; [ "$NF_CODE" = 201 ] || echo "bad $NF_CODE $NF_BODY"; done >"$WORK/make.out"
    [ ! -s "$WORK/make.out" ]
}

# --- kill -9 of netfaultd
if nf_start; then
    gp=$(guard_pid)
    tap_check "lifecycle: a guardian process runs beside netfaultd (pid ${gp:-none})" [ -n "$gp" ]
    tap_check "lifecycle: 3 faults created" make_faults
    state_dump "$WORK/during"
    tap_check "lifecycle: the faults change the tc/link state" sh -c "! cmp -s '$WORK/before' '$WORK/during'"
    kill -9 "$NF_PID"; t0=$(now_ms); wait "$NF_PID" 2>/dev/null; NF_PID=
    # Timed on the last thing the guardian removes (the clsact qdisc we created), with one cheap
    # command per poll; then the whole dump is compared.
    ms=
    while [ $(( $(now_ms) - t0 )) -lt 3000 ]; do
        t $TC qdisc show dev eth0 | grep -q clsact || { ms=$(( $(now_ms) - t0 )); break; }
    done
    tap_below "lifecycle: after kill -9 the guardian removed every fault in" "${ms:-}" 1000 " ms"
    state_same "lifecycle: ... and the tc/link state equals the state before" "$WORK/before"
    sleep 0.2
    tap_check "lifecycle: the guardian exited after its sweep" [ -z "$(guard_pid)" ]
fi

# --- kill -9 of both, then a new daemon
if nf_start; then
    make_faults
    gp=$(guard_pid)
    kill -9 "$gp" "$NF_PID" 2>/dev/null; wait "$NF_PID" 2>/dev/null; NF_PID=
    state_dump "$WORK/left"
    tap_check "lifecycle: with both killed, faults are left in the kernel" sh -c "! cmp -s '$WORK/before' '$WORK/left'"
    if nf_start; then
        state_dump "$WORK/state.now"
        if cmp -s "$WORK/before" "$WORK/state.now"; then
            tap_ok "lifecycle: a new netfaultd removed every leftover before /healthz answered"
        else
            tap_fail "lifecycle: a new netfaultd removed every leftover before /healthz answered"
            diff -u "$WORK/before" "$WORK/state.now" >"$WORK/d"; tap_diag_file "diff" "$WORK/d" 30
        fi
        grep -q 'reconcile.swept' "$NF_LOG" && tap_ok "lifecycle: the removals are logged" || tap_fail "lifecycle: the removals are logged"
        nf_finish TERM
    fi
fi

# --- --on-start=resume
if nf_start; then
    nf_create "lifecycle: resume" '{"targets":["10.0.1.10"],"delay":{"ms":80},"duration_s":60}'
    id=$NF_ID; exp=$(json_str expires_at)
    gp=$(guard_pid)
    kill -9 "$gp" "$NF_PID" 2>/dev/null; wait "$NF_PID" 2>/dev/null; NF_PID=
    if nf_start --on-start=resume; then
        nf_req GET "/v1/faults/$id"
        tap_eq "lifecycle: --on-start=resume brings back $id" "$NF_CODE" 200
        tap_eq "lifecycle: with its original expires_at" "$(json_str expires_at)" "$exp"
        m=$(median_rtt 10.0.1.10 30 0.01)
        tap_near "lifecycle: the resumed delay, median RTT" "$m" 80 15 " ms"
        nf_finish TERM
        tap_check "lifecycle: after the resumed daemon stops, the state equals the state before" cmp -s "$WORK/before" "$WORK/state.now" || state_same "lifecycle: state after resume and stop" "$WORK/before"
    fi
fi

# --- leases: timed by the daemon's own clock (created_at in the reply, the revert in its log),
# so that slow polling under TCG does not blur the measurement; tolerance 300 ms.
iso_ms() { echo "$1" | awk -F'[T:.Z]' '{printf "%d\n", (($2 * 60 + $3) * 60 + $4) * 1000 + $5}'; }
if nf_start; then
    nf_create "lifecycle: renewed lease" '{"targets":["10.0.1.11"],"delay":{"ms":50},"duration_s":60,"lease_s":4}'
    kept_id=$NF_ID
    nf_create "lifecycle: lease" '{"targets":["10.0.1.10"],"delay":{"ms":50},"duration_s":60,"lease_s":2}'
    lease_id=$NF_ID
    created=$(iso_ms "$(json_str created_at)")
    t0=$(now_ms)
    while [ $(( $(now_ms) - t0 )) -lt 3500 ]; do
        nf_req POST "/v1/faults/$kept_id/renew"
        sleep 0.3
    done
    nf_req GET "/v1/faults/$lease_id"
    tap_eq "lifecycle: a lease not renewed is gone" "$NF_CODE" 404
    line=$(grep "fault.reverted: $lease_id (lease not renewed)" "$NF_LOG" | head -n1)
    reverted=$(iso_ms "${line%% *}")
    tap_near "lifecycle: a lease of 2 s not renewed reverts the fault after" "$(( ${reverted:-0} - ${created:-0} ))" 2000 300 " ms"
    nf_req GET "/v1/faults/$kept_id"
    tap_eq "lifecycle: a renewed lease keeps its fault" "$NF_CODE" 200
    nf_req POST "/v1/faults/$kept_id/renew"
    tap_check "lifecycle: renew answers with lease_expires_at" sh -c "printf '%s' \"\$1\" | grep -q lease_expires_at" _ "$NF_BODY" ||
        tap_diag "renew -> $NF_CODE $NF_BODY"
    nf_finish TERM
fi

# --- 1,000 create/delete cycles (the per-client rate limit is off for this loop)
# Under ASan, RSS follows live memory only with its quarantine off and freed memory released.
if ASAN_OPTIONS=quarantine_size_mb=0:thread_local_quarantine_size_kb=0:allocator_release_to_os_interval_ms=0:detect_leaks=1 \
        nf_start --rate-limit 0; then
    body='{"targets":["10.0.1.0/28","fd00:1::/120"],"protocol":"tcp","ports":[80,443],"delay":{"ms":5},"loss":{"percent":1}}'
    printf '%s' "$body" >"$WORK/body.json"
    cycles() { # one curl process, one connection: N x (POST, DELETE all)
        : >"$WORK/curl.cfg"
        i=0
        while [ $i -lt "$1" ]; do
            printf 'url = "%s/v1/faults"\nrequest = "POST"\nheader = "Content-Type: application/json"\ndata-binary = "@%s"\noutput = "/dev/null"\nnext\nurl = "%s/v1/faults"\nrequest = "DELETE"\noutput = "/dev/null"\nnext\n' "$NF_URL" "$WORK/body.json" "$NF_URL" >>"$WORK/curl.cfg"
            i=$((i + 1))
        done
        sed -i '$ d' "$WORK/curl.cfg" # no "next" after the last request
        t $CURL -s -K "$WORK/curl.cfg" -w '%{http_code}\n' >"$WORK/codes" 2>&1
        grep -v '^20[01]$' "$WORK/codes" >>"$WORK/bad-codes"
        grep -cv '^20[01]$' "$WORK/codes"
    }
    heap() { nf_req GET /healthz; json_num heap_bytes; }
    t0=$(now_ms)
    bad=$(cycles 100)
    rss100=$(rss_kb "$NF_PID"); heap100=$(heap)
    bad2=$(cycles 900)
    rss1000=$(rss_kb "$NF_PID"); heap1000=$(heap)
    ms=$(( $(now_ms) - t0 ))
    tap_eq "lifecycle: 1,000 create/delete cycles, requests not answered 201/200" "$((bad + bad2))" 0 || tap_diag_file "other answers" "$WORK/bad-codes" 10
    tap_diag "lifecycle: 1,000 cycles took $ms ms; RSS $rss100 kB after 100, $rss1000 kB after 1,000"
    tap_below "lifecycle: live heap growth from cycle 100 to 1,000 (from $heap100 bytes)" "$(( ${heap1000:-99999999} - ${heap100:-0} ))" 16384 " bytes"
    state_same "lifecycle: after 1,000 cycles the tc/link state equals the state before" "$WORK/before"
    nf_finish TERM
fi
