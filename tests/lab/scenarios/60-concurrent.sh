#!/bin/sh
# concurrent: 16 faults at once with disjoint targets 10.0.3.1..16, fault i
# delaying by 20+5*i ms (25..100 ms); each measured (median RTT of 15 pings,
# tolerance ±15 ms); GET /v1/faults lists 16; DELETE /v1/faults
# removes them all and the tc/link state is as before.
. /lab/lib.sh
nf_start || exit 0
state_dump "$WORK/before"
base=$(median_rtt 10.0.3.1 30 0.01)
tap_diag "concurrent: baseline median RTT to 10.0.3.1: $base ms"

created=0
i=1
while [ $i -le 16 ]; do
    d=$((20 + 5 * i))
    if nf_create "concurrent fault $i" "{\"targets\":[\"10.0.3.$i/32\"],\"delay\":{\"ms\":$d},\"name\":\"c$i\"}"; then
        created=$((created + 1))
    fi
    i=$((i + 1))
done
tap_eq "concurrent: POST of 16 faults with disjoint targets, 201s" "$created" 16

nf_req GET /v1/faults
n=$(printf '%s' "$NF_BODY" | grep -o '"id" *:' | wc -l)
tap_eq "concurrent: GET /v1/faults ($NF_CODE) lists faults" "$n" 16

i=1
while [ $i -le 16 ]; do
    d=$((20 + 5 * i))
    m=$(median_rtt 10.0.3.$i 15 0.01)
    tap_near "concurrent: 10.0.3.$i (delay $d ms): median RTT +" "$(fsub "$m" "$base")" "$d" 15 " ms"
    i=$((i + 1))
done
m=$(median_rtt 10.0.9.10 30 0.01)
tap_below "concurrent: untargeted 10.0.9.10 median RTT" "$m" "$(fadd "$base" 10)" " ms"

nf_req DELETE /v1/faults
tap_eq "concurrent: DELETE /v1/faults status" "$NF_CODE" 200
nf_req GET /v1/faults
n=$(printf '%s' "$NF_BODY" | grep -o '"id" *:' | wc -l)
tap_eq "concurrent: GET /v1/faults after DELETE lists faults" "$n" 0
m=$(median_rtt 10.0.3.16 20 0.01)
tap_below "concurrent: after DELETE, 10.0.3.16 median RTT" "$m" "$(fadd "$base" 10)" " ms"
state_same "concurrent: tc/link state after DELETE /v1/faults equals the state before" "$WORK/before"
nf_finish TERM
