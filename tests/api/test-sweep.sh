#!/bin/bash
# The start-up sweep removes only what carries our marks (issue 11, row 12): foreign u32 and bpf
# filters planted at priorities inside our range (0xfd00-0xfe01) survive a daemon's start and
# stop, even one whose action index lies in our range. Runs in a network namespace of its own
# (root, as the other API tests), on lo; this kernel has u32, bpf and mirred but no flower, so
# that our own filters are removed is covered by tests/unit/test-sweep.c and the kernel lab.
# Emits TAP.
set -u
BIN=${1:?usage: test-sweep.sh path/to/netfaultd}
if [ -z "${NF_SWEEP_INNER:-}" ]; then
  NF_SWEEP_INNER=1 exec unshare -n bash "$0" "$@"
fi
T=$(mktemp -d)
SOCK=$T/nf.sock
n=0; failed=0
ok()  { n=$((n+1)); echo "ok $n - $*"; }
nok() { n=$((n+1)); failed=$((failed+1)); echo "not ok $n - $*"; }
PID=
cleanup() { [ -n "$PID" ] && kill "$PID" 2>/dev/null; wait 2>/dev/null; rm -rf "$T"; }
trap cleanup EXIT

ip link set lo up
if ! tc qdisc add dev lo clsact 2>"$T/tc.err"; then
  echo "1..0 # SKIP no clsact qdisc here: $(cat "$T/tc.err")"; exit 0
fi
planted=0
plant() { # plant DESCRIPTION tc-filter-args...
  local what=$1; shift
  if tc filter add dev lo "$@" 2>"$T/tc.err"; then planted=$((planted+1)); else echo "# cannot plant $what: $(cat "$T/tc.err")"; fi
}
plant "u32 at 0xfd10" egress prio 0xfd10 protocol ip u32 match ip dst 10.9.9.9/32 classid 1:1
plant "bpf at 0xfd02" ingress prio 0xfd02 protocol ip bpf bytecode '1,6 0 0 0,' classid 1:1
# a foreign classifier holding an action whose index (0x4e460003) is in our range
plant "u32+mirred at 0xfd03" egress prio 0xfd03 protocol ipv6 u32 match u32 0 0 action mirred egress redirect dev lo index 1313210371
plant "u32 at 100" egress prio 100 protocol ip u32 match ip dst 10.9.9.8/32 classid 1:1
[ $planted -gt 0 ] || { echo "1..0 # SKIP cannot plant u32 or bpf filters here"; exit 0; }
snapshot() { { tc filter show dev lo egress; tc filter show dev lo ingress; } | grep -E '^filter .* (fh|handle) ' | sort; }
before=$(snapshot)
echo "# planted $planted foreign filters:"; sed 's/^/#   /' <<<"$before"

"$BIN" --listen "unix:$SOCK" --log-format json --state-dir "$T/state" 2>"$T/log" &
PID=$!
code=
for i in $(seq 100); do
  code=$(curl -s -o /dev/null -w '%{http_code}' --unix-socket "$SOCK" http://nf/healthz 2>/dev/null)
  [ "$code" = 200 ] && break; sleep 0.1
done
[ "$code" = 200 ] && ok "the daemon started (start-up sweep done)" || nok "the daemon did not answer /healthz ($code)"

after=$(snapshot)
if [ "$after" = "$before" ]; then
  ok "every foreign filter survived the start-up sweep ($planted planted, 3 of them inside our priority range)"
else
  nok "foreign filters were removed by the start-up sweep"; diff <(echo "$before") <(echo "$after") | sed 's/^/# /'
fi
grep '"event":"sweep.foreign_filters_left"' "$T/log" | sed 's/^/# /'
grep -q '"event":"sweep.foreign_filters_left"' "$T/log" && ok "the sweep logs the foreign filters it left" ||
  nok "no sweep.foreign_filters_left in the log"
grep -q '"event":"sweep.filters_removed"' "$T/log" && nok "the log claims filters were removed: $(grep filters_removed "$T/log" | head -1)" ||
  ok "no filter removal logged"

kill -TERM "$PID"; wait "$PID" 2>/dev/null; PID=
sleep 0.2 # the guardian's final sweep, if any, runs as the daemon exits
after=$(snapshot)
[ "$after" = "$before" ] && ok "every foreign filter survived the daemon's stop" ||
  { nok "foreign filters were removed at stop"; diff <(echo "$before") <(echo "$after") | sed 's/^/# /'; }
tc qdisc show dev lo | grep -q clsact && ok "the clsact qdisc (not ours) is still there" || nok "the clsact qdisc was removed"

# The sweep reads every link, however many: 4,200 ifb links that are not ours (the sweep once
# stopped silently at 4,096), then one with our marks, created last so that it comes last in the
# dump. It must go; the others must stay.
if ip link add nfsweep-probe type ifb 2>/dev/null && ip link del nfsweep-probe; then
  for i in $(seq 4200); do echo "link add xs$i type ifb"; done > "$T/links.batch"
  ip -batch "$T/links.batch" 2>"$T/batch.err" || echo "# ip -batch: $(head -n2 "$T/batch.err")"
  ip link add nfe9.1 type ifb && ip link set nfe9.1 alias "netfaultd:test-sweep last link"
  total=$(ip -o link show | wc -l)
  "$BIN" --listen "unix:$SOCK" --log-format json --state-dir "$T/state" 2>"$T/log2" &
  PID=$!
  code=
  for i in $(seq 300); do
    code=$(curl -s -o /dev/null -w '%{http_code}' --unix-socket "$SOCK" http://nf/healthz 2>/dev/null)
    [ "$code" = 200 ] && break; sleep 0.1
  done
  [ "$code" = 200 ] || nok "the daemon did not answer /healthz with $total links ($code)"
  ip link show nfe9.1 >/dev/null 2>&1 && nok "our ifb link behind $total links survived the start-up sweep" ||
    ok "our ifb link, last of $total links, was removed by the start-up sweep"
  left=$(ip -o link show | grep -c ': xs[0-9]*[:@]')
  [ "$left" = 4200 ] && ok "the 4,200 ifb links that are not ours are all still there" ||
    nok "$left of the 4,200 foreign ifb links are left"
  kill -TERM "$PID"; wait "$PID" 2>/dev/null; PID=
else
  echo "# no ifb links here: the many-links sweep is left to the lab"
fi
echo "1..$n"
[ $failed = 0 ]
