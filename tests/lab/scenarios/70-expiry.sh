#!/bin/sh
# expiry: a fault with "duration_s": 2 ends by itself. Polled every ~0.2 s
# (HTTP over busybox nc and one ping per round, in one shell in `task`):
# GET /v1/faults/{id} turns 404 (or state "expired") and the delay is gone
# 1.7..4.5 s after the POST was sent (the clock starts before the request: the
# fault's two seconds start at created_at, inside the request, and a reply
# slowed by a busy host once made a clock started after it see the end at
# 1.67 s; the upper bound is loose because each polling round (an HTTP GET over
# nc and a ping) took up to a second on a busy host, 3.3 s seen; the daemon's
# own clock is checked to 250 ms below); then the tc/link state equals the
# state before the fault.
. /lab/lib.sh
nf_start || exit 0
state_dump "$WORK/before"
base=$(median_rtt 10.0.1.10 30 0.01)

cat >"$WORK/poll.sh" <<'POLL'
# poll.sh ID T0_MS: runs inside `task`; prints "gone_ms=N rtt_ms=N"
id=$1 t0=$2
now() { awk '{printf "%d\n", $1 * 1000}' /proc/uptime; }
gone= norm= i=0
while [ $i -lt 100 ] && { [ -z "$gone" ] || [ -z "$norm" ]; }; do
    if [ -z "$gone" ]; then
        resp=$(printf 'GET /v1/faults/%s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n' "$id" | nc -w 2 127.0.0.1 9700 2>/dev/null)
        code=$(printf '%s' "$resp" | head -n1 | awk '{print $2}')
        if [ "$code" = 404 ] || printf '%s' "$resp" | grep -q '"state" *: *"expired"'; then
            gone=$(( $(now) - t0 ))
        fi
    fi
    if [ -z "$norm" ]; then
        # -W 0.3, not 1: the request in flight when the fault goes is dropped
        # with the ifb, and a 1 s wait would then add ~1 s to the measurement
        r=$(/usr/bin/ping -n -c1 -W 0.3 10.0.1.10 2>/dev/null | sed -n 's/.*time=\([0-9.]*\).*/\1/p')
        if [ -n "$r" ] && awk -v r="$r" 'BEGIN{exit !(r < 50)}'; then
            norm=$(( $(now) - t0 ))
        fi
    fi
    i=$((i + 1))
    sleep 0.05
done
echo "gone_ms=${gone:-} norm_ms=${norm:-}"
POLL

code=$(t sh -c 'printf "GET /healthz HTTP/1.0\r\n\r\n" | nc -w 2 127.0.0.1 9700' | head -n1 | awk '{print $2}')
tap_eq "expiry: /healthz over HTTP/1.0 (busybox nc, used for polling)" "$code" 200

t0=$(now_ms)
if nf_create "expiry" '{"targets":["10.0.1.10"],"delay":{"ms":100},"duration_s":2}'; then
    tap_ok "expiry: POST delay 100 ms with duration_s 2 -> 201 (id $NF_ID)"
    exp=$(json_str expires_at)
    cre=$(json_str created_at)
    tap_diag "expiry: created_at $cre expires_at $exp"
    [ -n "$exp" ] && tap_ok "expiry: response has expires_at" || tap_fail "expiry: response has expires_at"
    eval "$(t sh "$WORK/poll.sh" "$NF_ID" "$t0")"
    # Seen from outside by polling: loose bounds (a slow guest stretches each poll round).
    tap_between "expiry: GET says gone (404/expired) after" "$(awk -v m="$gone_ms" 'BEGIN{if (m != "") printf "%.2f", m/1000}')" 1.7 4.5 " s"
    tap_between "expiry: RTT back below 50 ms after" "$(awk -v m="$norm_ms" 'BEGIN{if (m != "") printf "%.2f", m/1000}')" 1.7 4.5 " s"
    # And exactly, on the daemon's own clock: the revert is logged within 250 ms of expires_at.
    # The line is written once the revert's netlink work is done, which under TCG takes tens of
    # ms and more when the host is busy (120 ms seen); a timer kept in whole seconds, or re-armed
    # late, is off by up to a second and still fails.
    iso_ms() { echo "$1" | awk -F'[T:.Z]' '{printf "%d\n", (($2 * 60 + $3) * 60 + $4) * 1000 + $5}'; }
    line=$(grep "fault.reverted: $NF_ID (expired)" "$NF_LOG" | head -n1)
    if [ -n "$line" ]; then
        tap_near "expiry: reverted this long after expires_at (daemon clock)" \
            "$(( $(iso_ms "${line%% *}") - $(iso_ms "$exp") ))" 0 250 " ms"
    else
        tap_fail "expiry: the revert is logged"
    fi
    m=$(median_rtt 10.0.1.10 30 0.01)
    tap_below "expiry: 10.0.1.10 median RTT after expiry" "$m" "$(fadd "$base" 10)" " ms"
    nf_req GET "/v1/faults/$NF_ID"
    st=$(json_str state)
    if [ "$NF_CODE" = 404 ] || [ "$st" = expired ]; then
        tap_ok "expiry: GET /v1/faults/{id} after expiry -> $NF_CODE ${st:+state $st}"
    else
        tap_fail "expiry: GET /v1/faults/{id} after expiry -> $NF_CODE ${st:+state $st} (want 404 or expired)"
    fi
    state_same "expiry: tc/link state after expiry equals the state before the fault" "$WORK/before"
    tap_diag_file "expiry: netfaultd log" "$NF_LOG" 6
fi
# For comparison: how long an explicit DELETE of the same fault takes.
if nf_create "expiry (delete timing)" '{"targets":["10.0.1.10"],"delay":{"ms":100}}'; then
    nf_req GET /healthz
    g=$NF_TIME
    nf_req DELETE "/v1/faults/$NF_ID"
    tap_diag "expiry: DELETE of a delay fault answered $NF_CODE in $NF_TIME s (GET /healthz: $g s)"
fi
nf_finish TERM
