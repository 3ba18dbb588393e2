# benchlib.sh: helpers for netfaultd's in-guest benchmarks (sourced by bench/guest/NN-bench-*.sh).
# bench/run.sh copies tests/lab to a temporary directory, replaces its scenarios with these
# files plus two generated ones (benchconf.sh: sizes and sample counts; nfbenchbin.sh: the static
# timing helper bench/tools/nfbench.c) and boots the lab once. Results leave the guest as
# diagnostic lines "# BENCH {json}" that bench/run.sh picks out of the TAP stream.
. /lab/lib.sh
. /lab/scenarios/benchconf.sh

NFB=/tmp/nfbench
[ -x $NFB ] || sh /lab/scenarios/nfbenchbin.sh $NFB || tap_fail "bench: nfbench helper unpacks"

# bench_emit JSON-FIELDS: one result line, e.g. bench_emit '"b":"apply","impl":"tc-batch","n":100,"v":12.5'
bench_emit() { tap_diag "BENCH {$1}"; }

now_us() { $NFB now; }
# ms_since T0_US: milliseconds (3 decimals) from T0_US to now
ms_since() { awk -v a="$1" -v b="$($NFB now)" 'BEGIN{printf "%.3f", (b-a)/1000}'; }
us2ms() { awk -v a="$1" 'BEGIN{printf "%.3f", a/1000}'; }
s2ms() { awk -v a="$1" 'BEGIN{printf "%.3f", a*1000}'; }

# targets_file N FILE: N distinct /32 CIDRs in 100.64.0.0/10 (not routed in the lab), one a line
targets_file() {
    awk -v n="$1" 'BEGIN{for (i = 0; i < n; i++) printf "100.%d.%d.%d/32\n", 64 + int(i/65536), int(i/256)%256, i%256}' >"$2"
}
# fault_json TARGETS_FILE EFFECT_JSON OUT: a POST /v1/faults body
fault_json() {
    { printf '{"targets":['; awk 'NR>1{printf ","} {printf "\"%s\"", $1}' "$1"; printf '],%s,"duration_s":3600}' "$2"; } >"$3"
}

# nf_post_file FILE: POST /v1/faults with the body in FILE; sets NF_CODE NF_TIME (s) NF_BODY NF_ID
nf_post_file() {
    set -- $(t $CURL -s -m 120 -o "$WORK/body" -w '%{http_code} %{time_total}' -X POST \
        -H 'Content-Type: application/json' --data-binary @"$1" "$NF_URL/v1/faults" 2>/dev/null)
    NF_CODE=${1:-000}
    NF_TIME=${2:-}
    NF_BODY=$(head -c 2000 "$WORK/body" 2>/dev/null)
    NF_ID=$(json_str id)
}
# nf_del ID: DELETE /v1/faults/ID; sets NF_CODE NF_TIME
nf_del() {
    set -- $(t $CURL -s -m 120 -o "$WORK/body" -w '%{http_code} %{time_total}' -X DELETE "$NF_URL/v1/faults/$1" 2>/dev/null)
    NF_CODE=${1:-000}
    NF_TIME=${2:-}
}

# egress_filters: number of filters with a destination match on eth0 egress
egress_filters() { t $TC filter show dev eth0 egress 2>/dev/null | grep -c 'dst_ip\|match '; }

# ----------------------------------------------- the same shape with tc ----
# Reference: clsact on eth0, one flower filter per CIDR at one priority sharing one mirred action
# (index 0x7e000) that redirects to ifb nfbref, whose root is netem delay 0ms. Handles 1..N so
# that a per-rule revert can name each filter.
REF_IFB=nfbref
REF_PREF=100
# tcref_batch_file KIND TARGETS OUT: "flower" or "u32" (u32: 4000 filters per priority, the
# u32 node-id limit per bucket, so N > 4000 is a chain of several priorities: still linear)
tcref_batch_file() {
    awk -v kind="$1" -v dev=$REF_IFB -v pref=$REF_PREF '
        BEGIN { print "qdisc add dev eth0 clsact"; print "qdisc add dev " dev " root handle 4e46: netem delay 0ms" }
        { i = NR
          if (kind == "flower")
              printf "filter add dev eth0 egress pref %d handle %d protocol ip flower dst_ip %s action mirred egress redirect dev %s index 516096\n", pref, i, $1, dev
          else
              printf "filter add dev eth0 egress pref %d protocol ip u32 match ip dst %s action mirred egress redirect dev %s index 516096\n", pref + int((i-1)/4000), $1, dev }' "$2" >"$3"
}
tcref_del_batch_file() {
    { echo "filter del dev eth0 egress pref $REF_PREF"; echo "qdisc del dev eth0 clsact"; } >"$1"
}
# The reference commands run in a script that is already inside `task` (one `ip netns exec`
# for the whole run, as a tool running in the namespace would), timed from within.
# in_task_timed SCRIPT: run SCRIPT with sh inside task; prints its wall time in microseconds
in_task_timed() {
    { echo "t0=\$($NFB now)"; cat "$1"; echo "echo \$((\$($NFB now) - t0))"; } >"$1.timed"
    t /bin/sh "$1.timed"
}
# tcref_apply_batch KIND TARGETS: ip link add (ifb) + one tc -batch; prints microseconds
tcref_apply_batch() {
    tcref_batch_file "$1" "$2" "$WORK/ref.batch"
    { echo "$IP link add $REF_IFB up type ifb"
      echo "$TC -batch $WORK/ref.batch >/dev/null || echo 'tc -batch failed' >&2"; } >"$WORK/ref.sh"
    in_task_timed "$WORK/ref.sh"
}
# tcref_revert_batch: one tc -batch (prio delete + clsact delete) + ip link del; prints microseconds
tcref_revert_batch() {
    tcref_del_batch_file "$WORK/ref.del"
    { echo "$TC -batch $WORK/ref.del >/dev/null"; echo "$IP link del $REF_IFB"; } >"$WORK/ref.sh"
    in_task_timed "$WORK/ref.sh"
}
# tcref_apply_each TARGETS: one process per command (ip link add, clsact, netem, N filters)
tcref_apply_each() {
    tcref_batch_file flower "$1" "$WORK/ref.batch"
    { echo "$IP link add $REF_IFB up type ifb"; sed "s|^|$TC |" "$WORK/ref.batch"; } >"$WORK/ref.sh"
    in_task_timed "$WORK/ref.sh"
}
# tcref_revert_each N: one `tc filter del ... handle I` per rule, then clsact and the ifb
tcref_revert_each() {
    awk -v n="$1" -v tc=$TC -v pref=$REF_PREF 'BEGIN{for (i = 1; i <= n; i++) printf "%s filter del dev eth0 egress pref %d handle %d protocol ip flower\n", tc, pref, i}' >"$WORK/ref.sh"
    { echo "$TC qdisc del dev eth0 clsact"; echo "$IP link del $REF_IFB"; } >>"$WORK/ref.sh"
    in_task_timed "$WORK/ref.sh"
}
# tcref_cleanup: remove whatever a reference run left behind (quietly)
tcref_cleanup() {
    t $TC qdisc del dev eth0 clsact 2>/dev/null
    t $IP link del $REF_IFB 2>/dev/null
    true
}

# bench_nf_start: a netfaultd for benchmarks (no rate limit, room for 128 faults)
bench_nf_start() { nf_start --rate-limit 0 --max-faults 128 --state-dir "$WORK/state" "$@"; }

# curl_block METHOD PATH [BODYFILE]: one request in a curl config file
curl_block() {
    echo "url = \"$NF_URL$2\""
    echo "request = \"$1\""
    echo "silent"
    echo "output = \"/dev/null\""
    echo 'write-out = "%{http_code} %{time_total}\n"'
    if [ -n "${3:-}" ]; then
        echo 'header = "Content-Type: application/json"'
        echo "data-binary = \"@$3\""
    fi
    echo "next"
}
# run_config FILE: run it; prints "OK_COUNT TOTAL_MS" and keeps the replies in $WORK/replies
run_config() {
    local t0=$($NFB now)
    t $CURL -K "$1" >"$WORK/replies" 2>/dev/null
    local ms=$(ms_since "$t0")
    echo "$(grep -c '^20[01] ' "$WORK/replies") $ms"
}

# rss_kb PID: VmRSS in kB
rss_kb() { awk '/^VmRSS:/{print $2}' /proc/$1/status 2>/dev/null; }
