#!/bin/sh
# stress (issue 9): what the lifecycle scenario does, thousands of times, with traffic flowing
# through the faults. Not part of "all": run it with tests/lab/stress.sh (which also loads the
# host's CPUs and reboots the guest after a lockup to measure a rate).
#
# One round: three faults created together and removed with DELETE /v1/faults —
#   a delay toward an address and a /24 (iperf3 at 50 Mbit/s and a ping flow go through it),
#   a blackhole of a /28 (tcp), and a direction "both" 1 % loss toward an address and an IPv6
#   address (the second ping flow, its replies coming back through the ingress ifb).
# Every 25th round something else ends the faults instead: expiry (duration_s 1), a lease not
# renewed, SIGTERM, SIGKILL of the daemon (the guardian sweeps), SIGKILL of both then a new
# daemon with --on-start=resume (which re-applies and is then deleted).
# After every 25 rounds, 1,000 fast cycles of the lifecycle scenario's loop (one fault, tcp ports
# 80 and 443 toward an IPv4 and an IPv6 range, delay and loss, POST then DELETE all, through one
# curl process), the loop in which the lockup was first seen.
# A "cycle" is one fault created and removed: a round is three cycles.
# Kernel command line: nf.stress_cycles=N (default 3000).
# lab-explicit
# lab-timeout: 86400
. /lab/lib.sh
state_dump "$WORK/before"

target=3000 every=300
for arg in $(cat /proc/cmdline); do
    case $arg in nf.stress_cycles=*) target=${arg#nf.stress_cycles=} ;;
        nf.stress_every=*) every=${arg#nf.stress_every=} ;; esac
done

guard_pid() { for f in /proc/[0-9]*/comm; do [ "$(cat "$f" 2>/dev/null)" = netfaultd-guard ] && { d=${f%/comm}; echo "${d#/proc/}"; return; }; done; }
wait_gone() { # wait_gone MAX_MS: until no clsact is left on eth0
    local t0; t0=$(now_ms)
    while t $TC qdisc show dev eth0 | grep -q clsact; do
        [ $(( $(now_ms) - t0 )) -gt "$1" ] && return 1
        sleep 0.05
    done
}

F1='{"targets":["10.0.1.10","10.0.2.0/24"],"delay":{"ms":20},"duration_s":120}'
F2='{"targets":["10.0.3.0/28"],"protocol":"tcp","blackhole":true,"duration_s":120}'
F3='{"targets":["10.0.9.10","fd00:1::10"],"direction":"both","loss":{"percent":1},"duration_s":120}'
for i in 1 2 3; do eval "printf '%s' \"\$F$i\"" >"$WORK/f$i.json"; done

# rounds N: N rounds through one curl process (3 POSTs, one DELETE all); prints bad answers
rounds() {
    : >"$WORK/curl.cfg"
    local i=0
    while [ $i -lt "$1" ]; do
        for j in 1 2 3; do
            printf 'url = "%s/v1/faults"\nrequest = "POST"\nheader = "Content-Type: application/json"\ndata-binary = "@%s"\noutput = "/dev/null"\nnext\n' "$NF_URL" "$WORK/f$j.json" >>"$WORK/curl.cfg"
        done
        printf 'url = "%s/v1/faults"\nrequest = "DELETE"\noutput = "/dev/null"\nnext\n' "$NF_URL" >>"$WORK/curl.cfg"
        i=$((i + 1))
    done
    sed -i '$ d' "$WORK/curl.cfg"
    t $CURL -s -m 60 -K "$WORK/curl.cfg" -w '%{http_code}\n' >"$WORK/codes" 2>&1
    grep -v '^20[01]$' "$WORK/codes" | head -n 3
}
printf '%s' '{"targets":["10.0.1.0/28","fd00:1::/120"],"protocol":"tcp","ports":[80,443],"delay":{"ms":5},"loss":{"percent":1}}' >"$WORK/fast.json"
fast_cycles() { # N x (POST, DELETE all) through one curl process; prints the bad answers
    : >"$WORK/fast.cfg"
    local i=0
    while [ $i -lt "$1" ]; do
        printf 'url = "%s/v1/faults"\nrequest = "POST"\nheader = "Content-Type: application/json"\ndata-binary = "@%s"\noutput = "/dev/null"\nnext\nurl = "%s/v1/faults"\nrequest = "DELETE"\noutput = "/dev/null"\nnext\n' "$NF_URL" "$WORK/fast.json" "$NF_URL" >>"$WORK/fast.cfg"
        i=$((i + 1))
    done
    sed -i '$ d' "$WORK/fast.cfg"
    t $CURL -s -m 900 -K "$WORK/fast.cfg" -w '%{http_code}\n' >"$WORK/fast.codes" 2>&1
    grep -cv '^20[01]$' "$WORK/fast.codes"
}
make3() { for j in 1 2 3; do nf_req POST /v1/faults "$(cat "$WORK/f$j.json")"; [ "$NF_CODE" = 201 ] || echo "POST f$j -> $NF_CODE $NF_BODY"; done; }

# Traffic through the faults for the whole run.
t $IPERF -c 10.0.2.10 -b 50M -t 100000 >/dev/null 2>&1 &
iperf_pid=$!
t $PING -n -q -i 0.01 10.0.1.10 >/dev/null 2>&1 &
ping1=$!
t $PING -n -q -i 0.01 10.0.9.10 >/dev/null 2>&1 &
ping2=$!
t $PING -n -q -i 0.05 -6 fd00:1::10 >/dev/null 2>&1 &
ping3=$!

nf_start --rate-limit 0 || exit 1
cycles=0 round=0 bad=0 t0=$(now_ms) last=0
progress() {
    if [ $((cycles - last)) -ge "$every" ]; then
        last=$cycles
        tap_diag "stress: $cycles cycles in $(( ($(now_ms) - t0) / 1000 )) s, $bad bad answers"
    fi
}
while [ "$cycles" -lt "$target" ]; do
    round=$((round + 1))
    case $((round % 25)) in
    5)  # expiry
        sed 's/"duration_s":120/"duration_s":1/' "$WORK/f1.json" >"$WORK/x.json"
        nf_req POST /v1/faults "$(cat "$WORK/x.json")"; [ "$NF_CODE" = 201 ] || { bad=$((bad + 1)); echo "expiry POST -> $NF_CODE $NF_BODY" >>"$WORK/bad"; }
        wait_gone 4000 || { bad=$((bad + 1)); echo "expiry: fault still there after 4 s" >>"$WORK/bad"; }
        cycles=$((cycles + 1)) ;;
    10) # a lease not renewed
        sed 's/"duration_s":120/"duration_s":60,"lease_s":1/' "$WORK/f3.json" >"$WORK/x.json"
        nf_req POST /v1/faults "$(cat "$WORK/x.json")"; [ "$NF_CODE" = 201 ] || { bad=$((bad + 1)); echo "lease POST -> $NF_CODE $NF_BODY" >>"$WORK/bad"; }
        wait_gone 4000 || { bad=$((bad + 1)); echo "lease: fault still there after 4 s" >>"$WORK/bad"; }
        cycles=$((cycles + 1)) ;;
    15) # SIGTERM with three faults on
        make3 >>"$WORK/bad"
        nf_stop TERM; [ "$NF_RC" = 0 ] || { bad=$((bad + 1)); echo "SIGTERM: exit $NF_RC" >>"$WORK/bad"; }
        nf_start --rate-limit 0 || break
        cycles=$((cycles + 3)) ;;
    20) # SIGKILL: the guardian sweeps
        make3 >>"$WORK/bad"
        kill -9 "$NF_PID"; wait "$NF_PID" 2>/dev/null; NF_PID=
        wait_gone 4000 || { bad=$((bad + 1)); echo "SIGKILL: guardian left faults after 4 s" >>"$WORK/bad"; }
        nf_start --rate-limit 0 || break
        cycles=$((cycles + 3)) ;;
    0)  # the lifecycle scenario's fast loop
        k=0
        while [ $k -lt 10 ]; do
            fast=$(fast_cycles 100)
            [ "$fast" = 0 ] || { bad=$((bad + 1)); echo "fast cycles: $fast bad answers" >>"$WORK/bad"; }
            cycles=$((cycles + 100)) k=$((k + 1))
            progress
        done
        # then SIGKILL of both, then resume, then delete
        make3 >>"$WORK/bad"
        gp=$(guard_pid)
        kill -9 "$gp" "$NF_PID" 2>/dev/null; wait "$NF_PID" 2>/dev/null; NF_PID=
        nf_start --rate-limit 0 --on-start=resume || break
        nf_req GET /v1/faults
        n=$(printf '%s' "$NF_BODY" | grep -o '"id"' | wc -l)
        [ "$n" = 3 ] || { bad=$((bad + 1)); echo "resume: $n faults back, want 3" >>"$WORK/bad"; }
        nf_req DELETE /v1/faults
        cycles=$((cycles + 3)) ;;
    *)  # plain rounds, up to 4 per curl process (up to the next special round)
        n=1
        while [ $n -lt 4 ] && [ $(((round + n) % 5)) != 0 ]; do n=$((n + 1)); done
        out=$(rounds $n)
        [ -z "$out" ] || { bad=$((bad + 1)); echo "round $round: $out" >>"$WORK/bad"; }
        round=$((round + n - 1))
        cycles=$((cycles + 3 * n)) ;;
    esac
    progress
done
secs=$(( ($(now_ms) - t0) / 1000 ))
kill "$iperf_pid" "$ping1" "$ping2" "$ping3" 2>/dev/null
wait "$iperf_pid" "$ping1" "$ping2" "$ping3" 2>/dev/null
tap_diag "stress: done: $cycles cycles ($round rounds) in $secs s"
tap_check "stress: $cycles create/delete cycles reached the target of $target" [ "$cycles" -ge "$target" ]
tap_eq "stress: requests answered otherwise than expected" "$bad" 0 || tap_diag_file "bad answers" "$WORK/bad" 10
nf_finish TERM
state_same "stress: the tc/link state equals the state before" "$WORK/before"
