#!/bin/sh
# pods (issue 12): netfaultd in the guest's root namespace ("the node", --netns-mode on) faults
# "pods": network namespaces podA and podB, each with eth0 on a veth to `net` and a default route,
# whose processes sit in a kubelet-shaped cgroup2 tree (podA: systemd driver, burstable,
# cri-containerd-<id>.scope, two containers; podB: cgroupfs driver, besteffort). Proven on a real
# kernel:
#  - a delay by pod_uid reaches podA's traffic to the peer (median RTT +100±15 ms) while podB and
#    `task` stay within baseline + 10 ms; the same by container_id (12-character prefix), pid and
#    path (/run/netns/podA), each landing in podA's namespace (its inode in the reply);
#  - a tcp/8080 blackhole by podB's uid (cgroupfs layout): podB cannot reach 8080 but reaches
#    8081, podA reaches 8080; an ingress delay in podA;
#  - a netfaultd inside podA (a sidecar) holds the pod's lock: the node's daemon is refused (409);
#  - a pid of the node's namespace without "host": true is a 400 and nothing changes;
#  - kill -9 of the daemon: its guardian empties podA (qdiscs, filters, ifb links) within 1 s;
#    kill -9 of daemon and guardian: the next start sweeps podA before /healthz answers;
#    and with --on-start resume it re-applies the fault into podA (+100 ms again);
#  - podA deleted (its processes killed, /run/netns/podA removed) under a live fault: within 3 s
#    the fault is `gone` (GET says so, logged once), the daemon stays healthy, nothing of ours is
#    left anywhere (root, podB, task).
# lab-timeout: 420
. /lab/lib.sh
SOCK=/run/nf-pods.sock
STATE=/run/nf-pods
UA=6b2c1d3e-0f4a-4b5c-8d9e-0a1b2c3d4e5f
UB=0d1e2f30-4152-6374-8596-a7b8c9d0e1f2
CA=3f9a6c0de1b24f5a8c7d9e0f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d
CA2=77b01c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d
CB=0a1b2c3d4e5f60718293a4b5c6d7e8f90a1b2c3d4e5f60718293a4b5c6d7e8f9
PIDS=

# ------------------------------------------------------------------ helpers ----
pods_req() { # METHOD PATH [JSON]: sets NF_CODE NF_BODY (the daemon is in the root namespace)
    local m=$1 p=$2 b=${3:-}
    if [ -n "$b" ]; then
        set -- $($CURL -s -m 10 --unix-socket $SOCK -o "$WORK/body" -w '%{http_code}' -X "$m" \
            -H 'Content-Type: application/json' --data-binary "$b" "http://nf$p" 2>/dev/null)
    else
        set -- $($CURL -s -m 10 --unix-socket $SOCK -o "$WORK/body" -w '%{http_code}' -X "$m" "http://nf$p" 2>/dev/null)
    fi
    NF_CODE=${1:-000}
    NF_BODY=$(cat "$WORK/body" 2>/dev/null)
    echo "$m $p ${b:+$b }-> $NF_CODE $NF_BODY" >>"$WORK/requests.log"
}
pods_create() { # DESC JSON: expect 201, sets NF_ID
    pods_req POST /v1/faults "$2"
    NF_ID=$(json_str id)
    [ "$NF_CODE" = 201 ] && [ -n "$NF_ID" ] && return 0
    tap_fail "$1: POST /v1/faults -> $NF_CODE (want 201)"
    tap_diag "request: $2"
    tap_diag "response: $NF_BODY"
    return 1
}
N_START=0
pods_start() { # [extra flags]: the node's daemon, /healthz within 10 s
    N_START=$((N_START + 1))
    NF_LOG=$WORK/netfaultd.$N_START.log
    rm -f $SOCK
    $NETFAULTD --listen unix:$SOCK --state-dir $STATE --netns-mode on $PROC_ARGS "$@" >"$NF_LOG" 2>&1 &
    NF_PID=$!
    echo "$NF_PID" >>/run/netfaultd.pids
    local i=0
    while [ $i -lt 100 ]; do
        kill -0 "$NF_PID" 2>/dev/null || break
        pods_req GET /healthz
        [ "$NF_CODE" = 200 ] && return 0
        sleep 0.1
        i=$((i + 1))
    done
    tap_fail "pods: the node's netfaultd answers /healthz within 10 s"
    tap_diag_file "netfaultd log" "$NF_LOG"
    NF_PID=
    return 1
}
guard_pid() { for f in /proc/[0-9]*/comm; do [ "$(cat "$f" 2>/dev/null)" = netfaultd-guard ] && { d=${f%/comm}; echo "${d#/proc/}"; return; }; done; }
# ns_rtt NS DEST COUNT: median ping RTT in ms from namespace NS
ns_rtt() {
    timeout 40 $IP netns exec "$1" $PING -n -c "$3" -i 0.01 -W 1 "$2" 2>/dev/null | awk '
        / bytes from / && !/DUP!/ { for (i = 1; i <= NF; i++) if ($i ~ /^time=/) { n++; r[n] = substr($i, 6) + 0 } }
        END { for (i = 2; i <= n; i++) { x = r[i]; j = i - 1; while (j > 0 && r[j] > x) { r[j+1] = r[j]; j-- } r[j+1] = x }
              if (n > 0) printf "%.2f\n", (n % 2) ? r[(n+1)/2] : (r[n/2] + r[n/2+1]) / 2 }'
}
ns_http() { [ "$($IP netns exec "$1" $CURL -s -m 2 --connect-timeout 2 -o /dev/null -w '%{http_code}' "http://$2:$3/" 2>/dev/null)" = 200 ]; }
pod_dump() { # NS FILE: what netfaultd must leave in a pod as it found it
    {
        echo "## tc qdisc show"; $IP netns exec "$1" $TC qdisc show 2>&1
        echo "## egress"; $IP netns exec "$1" $TC filter show dev eth0 egress 2>&1
        echo "## ingress"; $IP netns exec "$1" $TC filter show dev eth0 ingress 2>&1
        echo "## links"; $IP netns exec "$1" $IP link show 2>&1
    } >"$2"
}
pod_same() { # DESC NS BEFORE
    pod_dump "$2" "$WORK/pod.now"
    if cmp -s "$3" "$WORK/pod.now"; then tap_ok "$1"; else
        tap_fail "$1"; diff -u "$3" "$WORK/pod.now" >"$WORK/pod.diff" 2>&1; tap_diag_file "diff" "$WORK/pod.diff" 30; return 1
    fi
}
root_dump() { { $TC qdisc show 2>&1; $IP link show 2>&1 | grep -v 'lab-keys'; } >"$1"; }
# pod NAME SUBNET: namespace NAME, eth0 SUBNET.2/24 on a veth to `net` (SUBNET.1), default route
pod() {
    $IP netns add "$1" || return 1
    $IP netns exec "$1" sh -c 'for k in all default; do echo 0 >/proc/sys/net/ipv6/conf/$k/accept_dad; done' 2>/dev/null
    $IP -n "$1" link set lo up
    $IP link add eth0 netns "$1" type veth peer name "v$1" netns net || return 1
    $IP -n "$1" addr add "$2.2/24" dev eth0
    $IP -n "$1" link set eth0 up
    $IP -n net addr add "$2.1/24" dev "v$1"
    $IP -n net link set "v$1" up
    $IP -n "$1" route add default via "$2.1" dev eth0
}
# proc_in NS CGROUP: a process in namespace NS placed in cgroup CGROUP; prints its pid (called
# as $(...), so the caller keeps the pids in PIDS)
proc_in() {
    $IP netns exec "$1" /bin/busybox sleep 900 >/dev/null 2>&1 &
    local p=$! i=0
    # until `ip netns exec` has entered the namespace and exec'd sleep
    while [ $i -lt 50 ] && [ "$(readlink /proc/$p/ns/net)" = "$(readlink /proc/self/ns/net)" ]; do sleep 0.02; i=$((i + 1)); done
    if [ -n "$CG" ]; then
        mkdir -p "$CG$2" && echo "$p" >"$CG$2/cgroup.procs"
    else
        mkdir -p "$WORK/proc/$p/ns"
        ln -s "/proc/$p/ns/net" "$WORK/proc/$p/ns/net"
        echo "0::$2" >"$WORK/proc/$p/cgroup"
    fi
    echo "$p"
}
cleanup() {
    for p in $PIDS; do kill -9 "$p" 2>/dev/null; done
    wait 2>/dev/null
    $IP netns del podA 2>/dev/null
    $IP netns del podB 2>/dev/null
    [ -n "$CG" ] && for d in $(find "$CG"/kubepods* -depth -type d 2>/dev/null); do rmdir "$d" 2>/dev/null; done
}

# -------------------------------------------------------------------- setup ----
# A kubelet-shaped cgroup2 tree; without cgroup2 the same lines in a fake /proc (--proc-root).
CG=/sys/fs/cgroup
PROC_ARGS=
if ! grep -q "^cgroup2 $CG " /proc/mounts && ! mount -t cgroup2 none $CG 2>/dev/null; then
    mkdir -p /tmp/cg2
    if mount -t cgroup2 none /tmp/cg2 2>/dev/null; then CG=/tmp/cg2; else
        CG=; PROC_ARGS="--proc-root $WORK/proc"; mkdir -p "$WORK/proc"
        tap_diag "pods: no cgroup2 here; the pods' cgroup lines are in a fake /proc ($WORK/proc)"
    fi
fi
$IP link set lo up 2>/dev/null
if ! pod podA 10.0.10 || ! pod podB 10.0.11; then
    tap_fail "pods: namespaces podA and podB with a veth to net"
    cleanup; exit 0
fi
SA=/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod$(echo $UA | tr - _).slice
PA=$(proc_in podA "$SA/cri-containerd-$CA.scope")
PA2=$(proc_in podA "$SA/cri-containerd-$CA2.scope")
PB=$(proc_in podB "/kubepods/besteffort/pod$UB/$CB")
PIDS="$PA $PA2 $PB" # (proc_in runs in a subshell: its variables do not come back)
NSA=$(stat -L -c %i /proc/$PA/ns/net)
NSB=$(stat -L -c %i /proc/$PB/ns/net)
[ -n "$CG" ] && tap_check "pods: podA's process sits in its kubelet cgroup ($(cat /proc/$PA/cgroup | tail -n1))" grep -q "kubepods-burstable-pod.*cri-containerd-$CA.scope" /proc/$PA/cgroup
pod_dump podA "$WORK/podA.before"
pod_dump podB "$WORK/podB.before"
state_dump "$WORK/task.before"
root_dump "$WORK/root.before"

base_a=$(ns_rtt podA 10.0.1.10 50)
base_b=$(ns_rtt podB 10.0.1.10 50)
base_t=$(median_rtt 10.0.1.10 50 0.01)
tap_diag "pods: baseline median RTT to 10.0.1.10: podA $base_a ms, podB $base_b ms, task $base_t ms"

if ! pods_start; then cleanup; exit 0; fi

pods_req GET /v1/pods
tap_check "pods: GET /v1/pods lists podA (systemd driver) and podB (cgroupfs driver) with their namespaces" \
    sh -c "echo '$NF_BODY' | grep -q '\"uid\":\"$UA\"' && echo '$NF_BODY' | grep -q '\"uid\":\"$UB\"' && echo '$NF_BODY' | grep -q '\"inode\":$NSA' && echo '$NF_BODY' | grep -q '10.0.10.2/24'" ||
    tap_diag "GET /v1/pods -> $NF_CODE $NF_BODY"

# --- a delay by pod_uid: podA only
if pods_create "pods: delay by pod_uid" "{\"targets\":[\"10.0.1.10\"],\"delay\":{\"ms\":100},\"netns\":{\"pod_uid\":\"$UA\"}}"; then
    tap_eq "pods: the fault is in podA's namespace (inode)" "$(json_num inode)" "$NSA"
    tap_eq "pods: ... on podA's default interface" "$(printf '%s' "$NF_BODY" | grep -o '"interfaces":\["[^]]*\]' | head -n1)" '"interfaces":["eth0"]'
    m=$(ns_rtt podA 10.0.1.10 100)
    tap_near "pods: podA's median RTT to 10.0.1.10 +" "$(fsub "$m" "$base_a")" 100 15 " ms"
    m=$(ns_rtt podB 10.0.1.10 50)
    tap_below "pods: podB's median RTT (unchanged)" "$m" "$(fadd "$base_b" 10)" " ms"
    m=$(median_rtt 10.0.1.10 50 0.01)
    tap_below "pods: task's median RTT (unchanged)" "$m" "$(fadd "$base_t" 10)" " ms"
    pods_req GET "/v1/faults?pod_uid=$UA"
    tap_check "pods: GET /v1/faults?pod_uid= shows it" sh -c "echo '$NF_BODY' | grep -q '$NF_ID'"
    pods_req GET "/v1/faults?pod_uid=$UB"
    tap_eq "pods: ... and not under podB" "$NF_BODY" '{"faults":[]}'
    pods_req DELETE "/v1/faults/$NF_ID"
    tap_eq "pods: DELETE" "$NF_CODE" 200
    pod_same "pods: podA is as before after DELETE" podA "$WORK/podA.before"
fi

# --- the same by container_id, pid and path
for sel in "{\"container_id\":\"$(echo $CA2 | cut -c1-12)\"}" "{\"pid\":$PA}" '{"path":"/run/netns/podA"}'; do
    if pods_create "pods: delay by $sel" "{\"targets\":[\"10.0.1.10\"],\"delay\":{\"ms\":100},\"netns\":$sel}"; then
        tap_eq "pods: by $sel the fault is in podA's namespace" "$(json_num inode)" "$NSA"
        m=$(ns_rtt podA 10.0.1.10 40)
        tap_near "pods: by $sel podA's median RTT +" "$(fsub "$m" "$base_a")" 100 15 " ms"
        pods_req DELETE "/v1/faults/$NF_ID"
    fi
done
pod_same "pods: podA is as before after the three" podA "$WORK/podA.before"

# --- a blackhole by podB's uid on one port; an ingress delay in podA
if pods_create "pods: blackhole tcp/8080 by pod_uid (podB)" "{\"targets\":[\"10.0.2.10\"],\"protocol\":\"tcp\",\"ports\":[8080],\"blackhole\":true,\"netns\":{\"pod_uid\":\"$UB\"}}"; then
    tap_check "pods: podB cannot reach 10.0.2.10:8080" sh -c "! $IP netns exec podB $CURL -s -m 2 --connect-timeout 2 -o /dev/null http://10.0.2.10:8080/"
    tap_check "pods: podB reaches 10.0.2.10:8081" ns_http podB 10.0.2.10 8081
    tap_check "pods: podA reaches 10.0.2.10:8080" ns_http podA 10.0.2.10 8080
    pods_req DELETE "/v1/faults/$NF_ID"
    tap_check "pods: after DELETE podB reaches 8080 again" ns_http podB 10.0.2.10 8080
    pod_same "pods: podB is as before" podB "$WORK/podB.before"
fi
if pods_create "pods: ingress delay in podA" "{\"targets\":[\"10.0.1.10\"],\"direction\":\"ingress\",\"delay\":{\"ms\":100},\"netns\":{\"pod_uid\":\"$UA\"}}"; then
    m=$(ns_rtt podA 10.0.1.10 60)
    tap_near "pods: ingress: podA's median RTT +" "$(fsub "$m" "$base_a")" 100 15 " ms"
    pods_req DELETE "/v1/faults/$NF_ID"
    pod_same "pods: podA is as before after the ingress fault" podA "$WORK/podA.before"
fi

# --- a sidecar netfaultd in podA holds the pod's lock
$IP netns exec podA $NETFAULTD --listen unix:/run/nf-side.sock --state-dir /run/nf-side >"$WORK/side.log" 2>&1 &
SIDE=$!
echo "$SIDE" >>/run/netfaultd.pids
i=0; while [ $i -lt 100 ] && [ ! -S /run/nf-side.sock ]; do sleep 0.1; i=$((i + 1)); done
sleep 0.3
pods_req POST /v1/faults "{\"targets\":[\"10.0.1.10\"],\"delay\":{\"ms\":100},\"netns\":{\"pod_uid\":\"$UA\"}}"
tap_eq "pods: with a netfaultd inside podA, the node's daemon is refused" "$NF_CODE" 409
tap_check "pods: ... naming the holder (pid $SIDE)" sh -c "echo '$NF_BODY' | grep -q 'pid $SIDE'" || tap_diag "$NF_BODY"
kill -TERM "$SIDE"; wait "$SIDE" 2>/dev/null

# --- a node pid without "host": true
pods_req POST /v1/faults '{"targets":["10.0.1.10"],"delay":{"ms":100},"netns":{"pid":1}}'
tap_eq "pods: pid 1 (the node's namespace) without host: true" "$NF_CODE" 400
root_dump "$WORK/root.now"
tap_check "pods: ... and nothing changed in the root namespace" cmp -s "$WORK/root.before" "$WORK/root.now"

# --- kill -9 of the daemon: the guardian empties podA within 1 s
if pods_create "pods: kill -9" "{\"targets\":[\"10.0.1.10\",\"10.0.2.0/24\"],\"direction\":\"both\",\"delay\":{\"ms\":50},\"netns\":{\"pod_uid\":\"$UA\"}}"; then
    kill -9 "$NF_PID"; t0=$(now_ms); wait "$NF_PID" 2>/dev/null; NF_PID=
    ms=
    while [ $(( $(now_ms) - t0 )) -lt 3000 ]; do
        $IP netns exec podA $TC qdisc show dev eth0 | grep -q clsact || { ms=$(( $(now_ms) - t0 )); break; }
    done
    tap_below "pods: after kill -9 the guardian emptied podA in" "${ms:-}" 1000 " ms"
    pod_same "pods: ... podA equals its state before" podA "$WORK/podA.before"
fi
i=0; while [ $i -lt 50 ] && [ -n "$(guard_pid)" ]; do sleep 0.1; i=$((i + 1)); done

# --- kill -9 of both: the next start sweeps podA before /healthz answers
if pods_start && pods_create "pods: kill both" "{\"targets\":[\"10.0.1.10\"],\"delay\":{\"ms\":50},\"netns\":{\"pod_uid\":\"$UA\"}}"; then
    gp=$(guard_pid)
    kill -9 "$gp" "$NF_PID" 2>/dev/null; wait "$NF_PID" 2>/dev/null; NF_PID=
    pod_dump podA "$WORK/podA.left"
    tap_check "pods: with both killed, the fault is left in podA" sh -c "! cmp -s '$WORK/podA.before' '$WORK/podA.left'"
    if pods_start; then
        pod_same "pods: the next start swept podA before /healthz answered" podA "$WORK/podA.before"
        tap_check "pods: ... and logged it" grep -q "netns.swept: namespace $NSA" "$NF_LOG"
    fi
fi

# --- --on-start=resume re-applies into a pod that still exists (both killed under a live fault)
if [ -n "$NF_PID" ] && pods_create "pods: resume" "{\"targets\":[\"10.0.1.10\"],\"delay\":{\"ms\":100},\"duration_s\":120,\"netns\":{\"pod_uid\":\"$UA\"}}"; then
    resumed_id=$NF_ID
    gp=$(guard_pid)
    kill -9 "$gp" "$NF_PID" 2>/dev/null; wait "$NF_PID" 2>/dev/null; NF_PID=
    if pods_start --on-start resume; then
        pods_req GET "/v1/faults/$resumed_id"
        tap_eq "pods: after a kill of both, --on-start resume brings the fault back" "$NF_CODE" 200
        tap_eq "pods: ... in podA's namespace" "$(json_num inode)" "$NSA"
        m=$(ns_rtt podA 10.0.1.10 60)
        tap_near "pods: ... and podA's median RTT is + again" "$(fsub "$m" "$base_a")" 100 15 " ms"
        pods_req DELETE "/v1/faults/$resumed_id"
        pod_same "pods: after its DELETE podA is as before" podA "$WORK/podA.before"
    fi
fi

# --- podA deleted under a live fault: gone
if [ -n "$NF_PID" ] && pods_create "pods: podA deleted" "{\"targets\":[\"10.0.1.10\"],\"delay\":{\"ms\":50},\"netns\":{\"pod_uid\":\"$UA\"}}"; then
    gone_id=$NF_ID
    kill -9 $PA $PA2 2>/dev/null
    $IP netns del podA
    t0=$(now_ms); state=
    while [ $(( $(now_ms) - t0 )) -lt 5000 ]; do
        pods_req GET "/v1/faults/$gone_id"
        state=$(json_str state)
        [ "$state" = gone ] && break
        sleep 0.1
    done
    tap_eq "pods: the fault of a deleted pod is" "$state" gone
    tap_below "pods: ... within" "$(( $(now_ms) - t0 ))" 3000 " ms"
    tap_eq "pods: fault.gone logged once" "$(grep -c "fault.gone: $gone_id" "$NF_LOG")" 1
    tap_check "pods: its namespace was released" grep -q "netns.released: namespace $NSA" "$NF_LOG"
    pods_req GET /healthz
    tap_check "pods: the daemon stays healthy" sh -c "[ $NF_CODE = 200 ] && echo '$NF_BODY' | grep -q '\"faults\":0'"
    tap_check "pods: no namespace record is left in the journal" sh -c "! ls $STATE/netns-*.json >/dev/null 2>&1"
    root_dump "$WORK/root.now"
    tap_check "pods: nothing of ours in the root namespace" cmp -s "$WORK/root.before" "$WORK/root.now"
    pod_same "pods: podB untouched" podB "$WORK/podB.before"
    state_same "pods: task untouched" "$WORK/task.before"
fi
nf_finish TERM
cleanup
