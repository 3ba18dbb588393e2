#!/bin/bash
# Faults inside pods (issue 12) against a real netfaultd, on this machine's kernel: "pods" are
# network namespaces (unshare -n) with a veth and a default route each, whose processes appear in
# a fake /proc tree (--proc-root) with kubelet-shaped cgroup files (systemd driver with containerd,
# cgroupfs driver, a hostNetwork pod, a pod split over two namespaces) and ns/net links to the
# real namespaces. This kernel has no netem or flower, so faults are planned (dry runs) and
# refused with 503 before anything changes; what is proven here is the lookup (by pod uid,
# container id, pid and path), the namespace each fault lands in and its default interfaces, the
# refusals (404 naming the unknown, 400 for the daemon's own namespace without "host": true, an
# ambiguous prefix, a split pod), GET /v1/pods, the ?pod_uid filter, and that a refused fault
# leaves nothing in the pod. Applying faults in pods is the lab's (tests/lab/scenarios/*-pods.sh).
# Runs in a network namespace of its own. Emits TAP.
set -u
BIN=${1:?usage: test-pods.sh path/to/netfaultd}
if [ -z "${NF_PODS_INNER:-}" ]; then
  NF_PODS_INNER=1 exec unshare -n bash "$0" "$@"
fi
T=$(mktemp -d)
SOCK=$T/nf.sock
n=0; failed=0
ok()  { n=$((n+1)); echo "ok $n - $*"; }
nok() { n=$((n+1)); failed=$((failed+1)); echo "not ok $n - $*"; }
check() { local desc=$1; shift; if "$@"; then ok "$desc"; else nok "$desc"; fi; }
PID=; PODS=(); SIDE=
cleanup() {
  [ -n "$PID" ] && kill "$PID" 2>/dev/null
  [ -n "$SIDE" ] && kill "$SIDE" 2>/dev/null
  for p in "${PODS[@]}"; do kill "$p" 2>/dev/null; done
  wait 2>/dev/null; rm -rf "$T"
}
trap cleanup EXIT
ip link set lo up

req() { # req METHOD PATH [BODY] -> CODE, BODY
  local args=(-s -o "$T/body" -w '%{http_code}' -X "$1" --unix-socket "$SOCK")
  [ -n "${3-}" ] && args+=(--data-binary "$3" -H 'Content-Type: application/json')
  CODE=$(curl "${args[@]}" "http://nf$2"); BODY=$(cat "$T/body")
}
expect() { # expect DESC CODE SUBSTRING...
  local desc=$1 code=$2 good=1; shift 2
  [ "$CODE" = "$code" ] || good=0
  for s in "$@"; do grep -qF -- "$s" <<<"$BODY" || good=0; done
  if [ $good = 1 ]; then ok "$desc ($CODE)"; else nok "$desc: got $CODE $BODY"; fi
}

OWN=$(stat -L -c %i /proc/self/ns/net)
# pod NAME SUBNET: a process in a new network namespace with eth0 (SUBNET.2/24, default route via
# SUBNET.1) on a veth to ours; sets POD_PID.
pod() {
  unshare -n sleep 600 & local p=$!
  PODS+=("$p")
  for i in $(seq 50); do [ "$(stat -L -c %i /proc/$p/ns/net 2>/dev/null)" != "$OWN" ] && [ -e /proc/$p/ns/net ] && break; sleep 0.05; done
  ip link add "v$1" type veth peer name eth0 netns "$p" || return 1
  ip addr add "$2.1/24" dev "v$1"; ip link set "v$1" up
  nsenter -t "$p" -n sh -c "ip link set lo up; ip addr add $2.2/24 dev eth0; ip link set eth0 up; ip route add default via $2.1" || return 1
  POD_PID=$p
}
# proc PID CGROUP-PATH [NS-PID]: the fake /proc entry of PID (its namespace: NS-PID's, else its own).
proc() {
  mkdir -p "$T/proc/$1/ns"
  ln -sf "/proc/${3:-$1}/ns/net" "$T/proc/$1/ns/net"
  echo "0::$2" >"$T/proc/$1/cgroup"
}
UA=6b2c1d3e-0f4a-4b5c-8d9e-0a1b2c3d4e5f; UB=0d1e2f30-4152-6374-8596-a7b8c9d0e1f2
UH=11111111-2222-3333-4444-555555555555; US=99999999-8888-7777-6666-555555555555
CA=3f9a6c0de1b24f5a8c7d9e0f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d
CB=3f9a6c0de1b2ffff8c7d9e0f1a2b3c4d5e6f708192a3b4c5d6e7f8091a2b3c4d
if ! pod a 10.9.1 || ! PA=$POD_PID || ! pod b 10.9.2 || ! PB=$POD_PID; then
  echo "1..0 # SKIP cannot make network namespaces with a veth here"; exit 0
fi
NSA=$(stat -L -c %i /proc/$PA/ns/net); NSB=$(stat -L -c %i /proc/$PB/ns/net)
proc "$PA" "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${UA//-/_}.slice/cri-containerd-$CA.scope"
proc "$PB" "/kubepods/besteffort/pod$UB/$CB"
sleep 600 & PH=$!; PODS+=("$PH")
proc "$PH" "/kubepods/pod$UH/aaaaaaaaaaaa0000"                 # hostNetwork: our namespace
proc 900001 "/kubepods/pod$US/bbbbbbbbbbbb0000" "$PA"          # split: one container in pod A's namespace
proc 900002 "/kubepods/pod$US/cccccccccccc0000" "$PB"          # and one in pod B's
proc 900003 "/kubepods.slice/kubepods-burstable.slice/kubepods-burstable-pod${UA//-/_}.slice/crio-conmon-$CA.scope" "$PH"

# --- without --netns-mode: our own namespace only
"$BIN" --listen "unix:$SOCK" --state-dir "$T/s0" --proc-root "$T/proc" 2>"$T/log0" & PID=$!
for i in $(seq 50); do [ -S "$SOCK" ] && break; sleep 0.1; done
req POST '/v1/faults?dry_run=true' "{\"targets\":[\"10.9.1.1\"],\"delay\":{\"ms\":100},\"netns\":{\"pod_uid\":\"$UA\"}}"
expect "without --netns-mode a pod is refused" 403 netns_mode_off -- "--netns-mode on"
kill "$PID"; wait "$PID" 2>/dev/null; PID=; rm -f "$SOCK"

# --- with it
"$BIN" --listen "unix:$SOCK" --state-dir "$T/s1" --netns-mode on --proc-root "$T/proc" 2>"$T/log" & PID=$!
for i in $(seq 50); do [ -S "$SOCK" ] && break; sleep 0.1; done

req GET /v1/pods
expect "GET /v1/pods lists pod A (systemd driver, containerd) with its namespace and address" 200 "\"uid\":\"$UA\"" "\"id\":\"$CA\"" "\"inode\":$NSA" '"10.9.1.2/24"' '"qos":"burstable"'
expect "and pod B (cgroupfs driver)" 200 "\"uid\":\"$UB\"" "\"inode\":$NSB" '"10.9.2.2/24"' '"qos":"besteffort"'
check "the hostNetwork pod is in the node's namespace" sh -c "echo '$BODY' | grep -q '\"uid\":\"$UH\"[^]]*\\],\"netns\":{\"inode\":$OWN,\"dev\":[0-9]*,\"host\":true'"
check "the split pod says so" sh -c "echo '$BODY' | grep -q '\"split\":true'"
check "CRI-O's conmon is not one of pod A's containers" sh -c "! echo '$BODY' | grep -q '\"pid\":900003'"

dry() { req POST '/v1/faults?dry_run=true' "{\"targets\":[\"10.9.0.0/16\"],\"delay\":{\"ms\":100},\"netns\":$1${2:+,$2}}"; }
dry "{\"pod_uid\":\"$UA\"}"
expect "a dry run by pod_uid lands in pod A, on eth0 (its default route), named by pod_uid" 200 '"state":"planned"' "\"netns\":{\"inode\":$NSA" '"named_by":"pod_uid"' "\"pod_uid\":\"$UA\"" '"interfaces":["eth0"]' '"ifb":"nfp0"'
dry "{\"container_id\":\"containerd://${CB:0:16}\"}"
expect "by a container id prefix (with its runtime scheme): pod B" 200 "\"netns\":{\"inode\":$NSB" '"named_by":"container_id"' "\"pod_uid\":\"$UB\""
dry "{\"pid\":$PA}"
expect "by pid: pod A, its pod found from the pid's cgroup" 200 "\"netns\":{\"inode\":$NSA" '"named_by":"pid"' "\"pod_uid\":\"$UA\""
dry "{\"path\":\"/proc/$PB/ns/net\"}"
expect "by path: pod B" 200 "\"netns\":{\"inode\":$NSB" '"named_by":"path"'
dry '{"host":true}' '"interfaces":["lo"]'
expect "host: true names the daemon's own namespace" 200 "\"netns\":{\"inode\":$OWN" '"host":true'

dry "{\"pod_uid\":\"$UH\"}"
expect "a hostNetwork pod without host: true is refused" 400 netns_is_host '{\"host\": true}'
dry "{\"pid\":$PH}"
expect "a pid of the daemon's namespace without host: true is refused, naming it" 400 netns_is_host "pid $PH"
dry "{\"pod_uid\":\"deadbeef-0000-0000-0000-000000000000\"}"
expect "an unknown pod is a 404 naming it" 404 netns_not_found deadbeef-0000-0000-0000-000000000000 '"field":"netns.pod_uid"'
dry '{"container_id":"ffffffffffff"}'
expect "an unknown container is a 404 naming it" 404 ffffffffffff
dry '{"pid":4000000}'
expect "an unknown pid is a 404 naming it" 404 "no process 4000000"
dry '{"path":"/nonexistent/netns"}'
expect "a missing path is a 404" 404 /nonexistent/netns
dry '{"path":"/etc/hostname"}'
expect "a file that is no namespace is a 400" 400 not_a_netns
dry "{\"container_id\":\"${CA:0:12}\"}"
expect "a prefix of two containers is ambiguous" 400 ambiguous_container
dry "{\"pod_uid\":\"$US\"}"
expect "a pod split over two namespaces is refused, naming its containers" 400 pod_split bbbbbbbbbbbb cccccccccccc

# A real create: this kernel lacks netem, so 503, and nothing was left in pod A.
req POST /v1/faults "{\"targets\":[\"10.9.0.0/16\"],\"delay\":{\"ms\":100},\"netns\":{\"pod_uid\":\"$UA\"}}"
expect "a real create by pod is refused here (no netem)" 503 kernel_unsupported
check "nothing was left in pod A (no clsact, no ifb)" sh -c "! nsenter -t $PA -n tc qdisc show dev eth0 | grep -q clsact && ! nsenter -t $PA -n ip -o link | grep -q nfe"
check "the pod's namespace was released again" sh -c "grep -q 'netns.released: namespace $NSA' '$T/log'"

req GET "/v1/faults?pod_uid=$UA"
expect "GET /v1/faults?pod_uid= filters (none active here)" 200 '{"faults":[]}'
req GET "/v1/faults?pod_uid=NOT-A-UID"
expect "a bad pod_uid is a 400" 400 invalid_query
req GET "/v1/pods?x=1"
expect "GET /v1/pods takes no parameters" 400 invalid_query

# Two netfaultds never program one namespace: a sidecar netfaultd inside pod B holds its lock.
nsenter -t "$PB" -n "$BIN" --listen "unix:$T/side.sock" --state-dir "$T/side" 2>"$T/log-side" & SIDE=$!
for i in $(seq 50); do [ -S "$T/side.sock" ] && break; sleep 0.1; done
dry "{\"pod_uid\":\"$UB\"}"
expect "a pod whose namespace another netfaultd programs is a 409 naming the holder" 409 netns_locked "pid $SIDE"
kill "$SIDE"; wait "$SIDE" 2>/dev/null
dry "{\"pod_uid\":\"$UB\"}"
expect "once the sidecar is gone, the pod can be faulted" 200 "\"netns\":{\"inode\":$NSB"

# The guardian sweeps every namespace the journal names, and only if it is still that one: an
# object with our marks planted in pod A (recorded) and in pod B (recorded with another inode).
DEV=$(stat -L -c %d /proc/$PA/ns/net)
plant() { nsenter -t "$1" -n sh -c "ip link add $2 type ifb && ip link set $2 alias netfaultd:planted:eth0:egress"; }
record() { # record DIR INODE REOPEN: a namespace record as the daemon writes it
  echo "{\"version\":1,\"dev\":$DEV,\"ino\":$2,\"reopen\":\"$3\",\"pod_uid\":\"\",\"proc_root\":\"$T/proc\",\"created_on_ifindex\":[]}" >"$1/netns-$DEV-$2.json"
}
record "$T/s1" "$NSA" "/proc/$PA/ns/net"
record "$T/s1" "$((NSA + 1000))" "/proc/$PB/ns/net"   # pod B's file, another namespace's inode
plant "$PA" nfe98.2; plant "$PB" nfe97.2
check "planted marked ifb links in pods A and B" sh -c "nsenter -t $PA -n ip link show nfe98.2 >/dev/null && nsenter -t $PB -n ip link show nfe97.2 >/dev/null"
t0=$(date +%s%N); kill -9 "$PID"; wait "$PID" 2>/dev/null; PID=
gone=never
for i in $(seq 100); do
  if ! nsenter -t "$PA" -n ip link show nfe98.2 >/dev/null 2>&1; then gone=$(( ($(date +%s%N) - t0) / 1000000 )); break; fi
  sleep 0.02
done
check "kill -9: the guardian removed pod A's object within 1 s ($gone ms)" sh -c "[ '$gone' != never ] && [ '$gone' -lt 1000 ]"
check "and left pod B's alone (its record names another inode)" sh -c "nsenter -t $PB -n ip link show nfe97.2 >/dev/null"
for i in $(seq 50); do pgrep -x netfaultd-guard >/dev/null || break; sleep 0.1; done

# A restart sweeps what a kill of daemon and guardian left in a pod, before the API answers.
rm -f "$SOCK" "$T/s1"/netns-*.json
record "$T/s1" "$NSA" "/proc/$PA/ns/net"
plant "$PA" nfe96.2
"$BIN" --listen "unix:$SOCK" --state-dir "$T/s1" --netns-mode on --proc-root "$T/proc" 2>"$T/log2" & PID=$!
for i in $(seq 50); do [ -S "$SOCK" ] && break; sleep 0.1; done
req GET /healthz
check "after a restart, pod A was swept before the API answered" sh -c "[ $CODE = 200 ] && ! nsenter -t $PA -n ip link show nfe96.2 >/dev/null 2>&1"
check "pod B's object (no record) is still there: the sweep entered only journaled namespaces" sh -c "nsenter -t $PB -n ip link show nfe97.2 >/dev/null"
check "the journal's namespace records are cleared" sh -c "! ls '$T/s1'/netns-*.json >/dev/null 2>&1"

# The pod vanishes between the lookup and the apply: a pid that is gone is a 404, nothing changes.
kill "$PA"; wait "$PA" 2>/dev/null
dry "{\"pod_uid\":\"$UA\"}"
expect "a pod whose processes exited is a 404" 404 "$UA"
req GET /healthz
expect "the daemon stays healthy" 200 '"status":"ok"'
kill "$PID"; wait "$PID" 2>/dev/null; PID=
echo "1..$n"
[ $failed = 0 ]
