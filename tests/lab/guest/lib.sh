# lib.sh: helpers for scenarios (sourced; sources tap.sh).
#   Every command toward the network runs in the `task` namespace (t ...).
. /lab/tap.sh

IP=/usr/sbin/ip
TC=/usr/sbin/tc
PING=/usr/bin/ping
CURL=/usr/bin/curl
IPERF=/usr/bin/iperf3
UDPECHO=/usr/bin/udpecho
NETFAULTD=/usr/bin/netfaultd
NF_URL=http://127.0.0.1:9700
SCEN=${SCEN:-$(basename "$0" .sh)}
WORK=/tmp/$SCEN
mkdir -p "$WORK"

t() { $IP netns exec task "$@"; }
peer() { $IP netns exec net "$@"; }

# uptime in milliseconds (guest clock; TCG keeps it close to real time)
now_ms() { awk '{printf "%d\n", $1 * 1000}' /proc/uptime; }

# ---------------------------------------------------------------- ping ----
# ping_probe DEST COUNT INTERVAL [ping args...]
# Sets P_SENT P_RECV P_DUPS P_LOSS (percent) P_MED (median RTT ms, "" if none)
# and keeps the output in $WORK/ping.out.
ping_probe() {
    local dest=$1 count=$2 interval=$3
    shift 3
    local deadline=$(awk -v c="$count" -v i="$interval" 'BEGIN{printf "%d", c*i + 10}')
    # No -w: with -c, ping would then wait the whole deadline when replies are
    # lost. -W 1 bounds the wait after the last request; timeout is a safety net.
    timeout "$deadline" $IP netns exec task $PING -n -c "$count" -i "$interval" -W 1 "$@" "$dest" >"$WORK/ping.out" 2>&1 || true
    eval "$(awk '
        / bytes from / {
            for (i = 1; i <= NF; i++) if ($i ~ /^time=/) { v = substr($i, 6) + 0 }
            if ($0 ~ /DUP!/) next
            n++; rtt[n] = v
        }
        / packets transmitted/ { sent = $1; recv = $4
            for (i = 2; i <= NF; i++) if ($i ~ /^duplicates/) dups = substr($(i-1), 2) + 0 }
        END {
            # insertion sort: n is small (a few thousand at most)
            for (i = 2; i <= n; i++) { x = rtt[i]; j = i - 1
                while (j > 0 && rtt[j] > x) { rtt[j+1] = rtt[j]; j-- } rtt[j+1] = x }
            med = ""
            if (n > 0) med = (n % 2) ? rtt[(n+1)/2] : (rtt[n/2] + rtt[n/2+1]) / 2
            if (sent == "") sent = 0
            if (recv == "") recv = 0
            loss = sent > 0 ? 100 * (sent - recv) / sent : 100
            printf "P_SENT=%d P_RECV=%d P_DUPS=%d P_LOSS=%.2f P_MED=%s\n", sent, recv, dups + 0, loss, (med == "" ? "" : sprintf("%.2f", med))
        }' "$WORK/ping.out")"
}

# median_rtt DEST [COUNT] [INTERVAL] [ping args]: prints the median RTT in ms
median_rtt() {
    local dest=$1 count=${2:-40} interval=${3:-0.01}
    shift 3 2>/dev/null || shift $#
    ping_probe "$dest" "$count" "$interval" "$@"
    echo "$P_MED"
}

# udp_probe DEST COUNT INTERVAL_MS [PORT]: UDP datagrams to the peer's echo
# server on a fixed schedule (see udpecho.c). Sets U_SENT U_RECV U_DUPS U_LOSS
# (percent) and U_MED (median RTT ms, "" if nothing came back).
udp_probe() {
    local dest=$1 count=$2 interval=$3 port=${4:-9000}
    local out
    out=$(timeout $((count * interval / 1000 + 15)) $IP netns exec task $UDPECHO probe "$dest" "$port" "$count" "$interval" 1000 2>&1)
    echo "$out" >"$WORK/udp.out"
    eval "$(echo "$out" | awk '$1 == "sent" { printf "U_SENT=%d U_RECV=%d U_DUPS=%d U_MED=%s U_LOSS=%.2f\n", $2, $4, $6, ($8 < 0 ? "" : $8), ($2 > 0 ? 100 * ($2 - $4) / $2 : 100) }')"
}

# fsub A B: A - B with 1 decimal; empty if either is empty
fsub() { [ -n "$1" ] && [ -n "$2" ] && awk -v a="$1" -v b="$2" 'BEGIN{printf "%.1f\n", a-b}'; }
fadd() { awk -v a="$1" -v b="$2" 'BEGIN{printf "%.1f\n", a+b}'; }

# binomial_bounds N P: prints "LO HI" = N*P -/+ 4*sqrt(N*P*(1-P)) (counts).
# 4 sigma, not 3: a full lab run makes about a dozen such checks, and at 3 sigma
# (0.27 % each) one in thirty honest runs failed one; at 4 sigma (0.006 %) a
# wrong percentage still fails (10 % vs 12 % over 1000 is 6.6 sigma away).
# (busybox awk has no math library: square root by Newton's method)
binomial_bounds() {
    awk -v n="$1" -v p="$2" 'BEGIN{m=n*p; v=n*p*(1-p); r=(v>1)?v:1
        for (i = 0; i < 60; i++) r = (r + v/r) / 2
        s=4*r; lo=m-s; if(lo<0)lo=0; printf "%d %d\n", lo, m+s+0.999}'
}

# --------------------------------------------------------------- netfaultd ----
NF_PID=
# nf_start [extra args]: start netfaultd in `task`, wait for /healthz (10 s)
nf_start() {
    [ -x $NETFAULTD ] || { tap_fail "$SCEN: netfaultd binary is in the image"; return 1; }
    NF_LOG=$WORK/netfaultd.log
    # Not through t(): a backgrounded function is a subshell, and $! would be its pid, not
    # netfaultd's (ip netns exec execs the program, so this $! is netfaultd itself).
    $IP netns exec task $NETFAULTD --listen 127.0.0.1:9700 "$@" >"$NF_LOG" 2>&1 &
    NF_PID=$!
    echo "$NF_PID" >>/run/netfaultd.pids
    local i=0
    while [ $i -lt 100 ]; do
        if ! kill -0 "$NF_PID" 2>/dev/null; then
            wait "$NF_PID"; local rc=$?
            tap_fail "$SCEN: netfaultd starts and answers /healthz (exited with $rc)"
            tap_diag_file "netfaultd log" "$NF_LOG"
            NF_PID=
            return 1
        fi
        if [ "$(t $CURL -s -m 1 -o /dev/null -w '%{http_code}' $NF_URL/healthz 2>/dev/null)" = 200 ]; then
            # the answer must come from this daemon, not from a leftover one
            sleep 0.2
            kill -0 "$NF_PID" 2>/dev/null && return 0
        fi
        sleep 0.1
        i=$((i + 1))
    done
    tap_fail "$SCEN: netfaultd answers /healthz within 10 s"
    tap_diag_file "netfaultd log" "$NF_LOG"
    return 1
}

# nf_stop [SIGNAL]: signal netfaultd (TERM) and wait up to 10 s; sets NF_RC
# (124 when it did not exit; it is then killed).
nf_stop() {
    local sig=${1:-TERM} i=0
    NF_RC=
    [ -n "$NF_PID" ] || return 0
    kill -s "$sig" "$NF_PID" 2>/dev/null
    while kill -0 "$NF_PID" 2>/dev/null && [ $i -lt 100 ]; do
        sleep 0.1
        i=$((i + 1))
    done
    if kill -0 "$NF_PID" 2>/dev/null; then
        kill -9 "$NF_PID" 2>/dev/null
        wait "$NF_PID" 2>/dev/null
        NF_RC=124
    else
        wait "$NF_PID"
        NF_RC=$?
    fi
    NF_PID=
}

# nf_finish [SIGNAL]: stop netfaultd (TERM) and assert that it exits 0; show
# the tail of its log when it does not.
nf_finish() {
    local sig=${1:-TERM}
    [ -n "$NF_PID" ] || return 0
    nf_stop "$sig"
    if [ "$NF_RC" = 0 ]; then
        tap_ok "$SCEN: netfaultd exits 0 after SIG$sig"
    else
        tap_fail "$SCEN: netfaultd exits 0 after SIG$sig (exit status $NF_RC)"
        tap_diag_file "netfaultd log (tail)" "$NF_LOG" 15
        return 1
    fi
}

# nf_req METHOD PATH [JSON]: sets NF_CODE, NF_BODY and NF_TIME
nf_req() {
    local method=$1 path=$2 body=${3:-}
    if [ -n "$body" ]; then
        set -- $(t $CURL -s -m 10 -o "$WORK/body" -w '%{http_code} %{time_total}' -X "$method" \
            -H 'Content-Type: application/json' --data-binary "$body" "$NF_URL$path" 2>/dev/null)
    else
        set -- $(t $CURL -s -m 10 -o "$WORK/body" -w '%{http_code} %{time_total}' -X "$method" "$NF_URL$path" 2>/dev/null)
    fi
    NF_CODE=${1:-000}
    NF_TIME=${2:-}  # seconds from connect to the end of the response
    NF_BODY=$(cat "$WORK/body" 2>/dev/null)
    echo "$method $path ${body:+$body }-> $NF_CODE ($NF_TIME s) $NF_BODY" >>"$WORK/requests.log"
}

# json_str KEY [TEXT]: first string value of "KEY" (default text: $NF_BODY)
json_str() { printf '%s' "${2-$NF_BODY}" | grep -o "\"$1\" *: *\"[^\"]*\"" | head -n1 | sed 's/.*: *"\(.*\)"$/\1/'; }
# json_num KEY [TEXT]: first numeric value of "KEY"
json_num() { printf '%s' "${2-$NF_BODY}" | grep -o "\"$1\" *: *-\?[0-9][0-9.eE+-]*" | head -n1 | sed 's/.*: *//'; }

# nf_create DESC JSON: POST /v1/faults, expect 201; sets NF_ID. Prints a TAP
# failure (with request and response) and returns 1 otherwise.
nf_create() {
    local desc=$1 json=$2
    nf_req POST /v1/faults "$json"
    NF_ID=$(json_str id)
    if [ "$NF_CODE" = 201 ] && [ -n "$NF_ID" ]; then
        return 0
    fi
    tap_fail "$desc: POST /v1/faults -> $NF_CODE (want 201 with an id)"
    tap_diag "request: $json"
    tap_diag "response: $NF_BODY"
    return 1
}

# nf_delete ID: DELETE /v1/faults/ID, expect 200
nf_delete() {
    nf_req DELETE "/v1/faults/$1"
    [ "$NF_CODE" = 200 ]
}

# ------------------------------------------------------------ kernel state ----
# state_dump FILE: what netfaultd must leave as it found it in `task`.
# Idle ifb links of netfaultd's pool (alias exactly "netfaultd:pool": no fault's qdisc, no filter
# points at them; issue 17) are left out of the dump, with their qdiscs, while a daemon of this
# scenario runs (NF_PID set): a revert hands its link back to the pool instead of deleting it,
# and the pool empties after --ifb-pool-idle seconds or at shutdown. Once no daemon runs the dump
# shows them like anything else, so a pool link left after a stop or a sweep fails the
# comparison; scenario 83-ifb-pool checks those moments directly. NF_STATE_STRICT=1 shows them
# always.
state_dump() {
    local pool=
    [ -n "${NF_PID:-}" ] && [ -z "${NF_STATE_STRICT:-}" ] && pool=$(pool_links_in task)
    {
        echo "## tc qdisc show"
        t $TC qdisc show 2>&1 | without_pool_qdiscs "$pool"
        echo "## tc filter show dev eth0 egress"
        t $TC filter show dev eth0 egress 2>&1
        echo "## tc filter show dev eth0 ingress"
        t $TC filter show dev eth0 ingress 2>&1
        echo "## ip link show"
        t $IP link show 2>&1 | without_pool_links "$pool"
    } >"$1"
}

# pool_links_in NS: the names of netfaultd's idle pool links in namespace NS, one line
pool_links_in() {
    $IP -n "$1" -o link show 2>/dev/null | awk '/ alias netfaultd:pool( |$)/ { n = $2; sub(/:$/, "", n); sub(/@.*/, "", n); printf "%s ", n }'
}
# without_pool_qdiscs NAMES / without_pool_links NAMES: `tc qdisc show` / `ip link show` on
# stdin without the lines of those links
without_pool_qdiscs() {
    awk -v pool="$1" 'BEGIN { n = split(pool, v, " "); for (i = 1; i <= n; i++) skip[v[i]] = 1 }
        { for (i = 1; i < NF; i++) if ($i == "dev" && ($(i + 1) in skip)) next; print }'
}
without_pool_links() {
    awk -v pool="$1" 'BEGIN { n = split(pool, v, " "); for (i = 1; i <= n; i++) skip[v[i]] = 1 }
        /^[0-9]+:/ { name = $2; sub(/:$/, "", name); sub(/@.*/, "", name); drop = (name in skip) }
        !drop { print }'
}

# strict_dump FILE / strict_same DESC BEFORE: the same with idle pool links shown
strict_dump() { NF_STATE_STRICT=1; state_dump "$1"; NF_STATE_STRICT=; }
strict_same() { local rc; NF_STATE_STRICT=1; state_same "$1" "$2"; rc=$?; NF_STATE_STRICT=; return $rc; }

# pool_links: the names of netfaultd's idle pool links in `task`, one line
pool_links() { pool_links_in task; }
# our_links: every link in `task` with netfaultd's marks (a name starting nf, an alias
# starting netfaultd:), idle or not, one line
our_links() {
    t $IP -o link show 2>/dev/null | awk '$2 ~ /^nf/ && / alias netfaultd:/ { n = $2; sub(/:$/, "", n); sub(/@.*/, "", n); printf "%s ", n }'
}

# state_same DESC BEFORE: ok when the current dump equals BEFORE, else a diff
state_same() {
    local desc=$1 before=$2
    state_dump "$WORK/state.now"
    if cmp -s "$before" "$WORK/state.now"; then
        tap_ok "$desc"
    else
        tap_fail "$desc"
        diff -u "$before" "$WORK/state.now" >"$WORK/state.diff" 2>&1
        tap_diag_file "tc/link dump diff (before -> now)" "$WORK/state.diff" 40
        return 1
    fi
}

# iperf_kbit DEST SECONDS [iperf3 args]: receiver throughput in kbit/s
iperf_kbit() {
    local dest=$1 secs=$2
    shift 2
    t $IPERF -c "$dest" -t "$secs" -f k --connect-timeout 3000 "$@" >"$WORK/iperf.out" 2>&1 || true
    awk '/receiver/ { for (i = 1; i <= NF; i++) if ($i == "Kbits/sec") v = $(i-1) } END { if (v != "") print v }' "$WORK/iperf.out"
}

# tcp_connects HOST PORT: 0 when an HTTP request to the listener succeeds (2 s)
tcp_connects() {
    local host=$1 port=$2
    case $host in *:*) host="[$host]" ;; esac
    [ "$(t $CURL -s -m 2 --connect-timeout 2 -o /dev/null -w '%{http_code}' "http://$host:$port/" 2>/dev/null)" = 200 ]
}

# scenario_end: stop the daemon if this scenario still runs one
scenario_end() {
    nf_finish TERM
}
