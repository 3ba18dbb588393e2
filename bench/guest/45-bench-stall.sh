#!/bin/sh
# bench-stall: the longest event-loop stall a listing or a scrape causes (issue 17: at most 10 ms
# at 100 faults x 100 CIDRs). With STALL_FAULTS faults of STALL_CIDRS CIDRs applied, nfbench's probe
# asks GET /healthz on one keep-alive connection every millisecond while another client sends
# GET /v1/faults (streamed one fault a chunk), GET /v1/faults?limit=10, GET /metrics (counters of
# every fault, read at most once a second: a new scrape each second), or nothing (the probe's
# own baseline). A probe request that arrives while the loop is busy waits for it: the probe's
# maximum latency bounds the longest stall from above.
. /lab/scenarios/benchlib.sh
bench_nf_start || exit 0
state_dump "$WORK/before"

: >"$WORK/create.cfg"
k=0
while [ $k -lt "$STALL_FAULTS" ]; do
    awk -v k="$k" -v n="$STALL_CIDRS" 'BEGIN{for (i = 0; i < n; i++) printf "100.%d.%d.%d/32\n", 64 + int(k/256), k%256, i}' >"$WORK/t.$k"
    fault_json "$WORK/t.$k" '"delay":{"ms":0}' "$WORK/f.$k.json"
    curl_block POST /v1/faults "$WORK/f.$k.json" >>"$WORK/create.cfg"
    k=$((k + 1))
done
set -- $(run_config "$WORK/create.cfg")
tap_eq "bench-stall: $STALL_FAULTS faults of $STALL_CIDRS CIDRs created (201s)" "$1" "$STALL_FAULTS"

# stall_run WHAT PATH: the probe for STALL_MS ms while PATH is asked STALL_REQS times (none for
# WHAT=idle), one request a time; emits the probe's max/p99/median and the requests' times.
stall_run() {
    local what=$1 path=$2 i=0
    $NFB probe 127.0.0.1 9700 "$STALL_MS" >"$WORK/probe.$what" &
    local probe=$!
    sleep 0.3
    : >"$WORK/times.$what"
    while [ -n "$path" ] && [ $i -lt "$STALL_REQS" ]; do
        $CURL -s -m 30 -o "$WORK/body.$what" -w '%{http_code} %{time_total} %{size_download}\n' "$NF_URL$path" >>"$WORK/times.$what"
        [ "$what" = metrics ] && sleep 1.05 # past the counters' one-second cache: each scrape reads them
        i=$((i + 1))
    done
    wait $probe
    set -- $(cat "$WORK/probe.$what")
    tap_check "bench-stall: the probe answered during $what ($4 requests)" test "${4:-0}" -gt 0
    [ -n "${1:-}" ] || return 0
    bench_emit "\"b\":\"loop_stall\",\"impl\":\"netfaultd\",\"during\":\"$what\",\"faults\":$STALL_FAULTS,\"cidrs\":$STALL_CIDRS,\"unit\":\"ms\",\"v\":$(us2ms "$1")"
    bench_emit "\"b\":\"loop_probe_p99\",\"impl\":\"netfaultd\",\"during\":\"$what\",\"unit\":\"ms\",\"v\":$(us2ms "$2")"
    bench_emit "\"b\":\"loop_probe_median\",\"impl\":\"netfaultd\",\"during\":\"$what\",\"unit\":\"ms\",\"v\":$(us2ms "$3")"
    if [ -s "$WORK/times.$what" ]; then
        tap_check "bench-stall: every $path answered 200" sh -c "! awk '\$1 != 200' '$WORK/times.$what' | grep -q ."
        bench_emit "\"b\":\"stall_request\",\"impl\":\"netfaultd\",\"during\":\"$what\",\"bytes\":$(awk 'END{print $3+0}' "$WORK/times.$what"),\"unit\":\"ms\",\"vs\":[$(awk '{printf "%s%.3f", s, $2*1000; s=","}' "$WORK/times.$what")]}"
    fi
}
stall_run idle ""
stall_run list /v1/faults
stall_run list-page "/v1/faults?limit=10"
stall_run metrics /metrics

# the listing is whole: every fault, valid JSON
nf_req GET /v1/faults
tap_eq "bench-stall: GET /v1/faults lists every fault (streamed)" "$(echo "$NF_BODY" | grep -o '{"id":"f-' | wc -l)" "$STALL_FAULTS"
tap_check "bench-stall: the streamed list ends as JSON does" sh -c "echo '$NF_BODY' | tail -c 3 | grep -q ']}'"
nf_req DELETE /v1/faults
tap_eq "bench-stall: DELETE /v1/faults" "$NF_CODE" 200
state_same "bench-stall: kernel state at the end equals the start" "$WORK/before"
nf_finish
