#!/bin/bash
# bench/run.sh: netfaultd's benchmarks, one command.
#
#   bench/run.sh [--quick] [--only host|guest] [--build-dir DIR] [--keep]
#
# Builds a release netfaultd (meson, DIR default build-bench), then
#   on the host kernel:   binary size, start-up time to a served /healthz, idle RSS,
#                         the container image (size, podman run to /healthz, idle RSS),
#                         exclusion arithmetic of 10,000 targets minus 10,000 excludes (old vs new),
#                         validate + plan + encode per CIDR (bench/tools/planbench.c),
#                         API throughput and latency with wrk (GET /healthz, GET /v1/faults);
#   in the kernel lab:    apply/revert time vs tc -batch and one tc process per rule,
#   (qemu guest, one boot) untargeted datapath cost of N targets vs a linear u32 chain,
#                         targeted 0 ms fault cost, delay and loss fidelity, RSS under load,
#                         GET /metrics scrape latency with 0, 100 and 1,000 live faults.
# Prints tables and writes bench/results/<UTC date>-<commit>.json and bench/results/latest.json
# (machine, kernels, date, commit, raw samples, median and p99 of every measurement), and SVG
# charts beside them (<...>-apply.svg, <...>-rtt.svg; gnuplot).
# --quick: small sizes and few samples (a smoke run of the bench code, a few minutes).
# Needs root (the lab: apt-get download of the kernel, mknod; the daemon: CAP_NET_ADMIN),
# qemu-system-x86, busybox-static, cpio, iproute2, iputils-ping, iperf3, curl, wrk, python3.
set -u

repo=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
bench=$repo/bench
quick=0
only=
build_dir=$repo/build-bench
keep=0
while [ $# -gt 0 ]; do
    case $1 in
        --quick) quick=1; shift ;;
        --only) only=${2:-}; shift 2 ;;
        --only=*) only=${1#*=}; shift ;;
        --build-dir) build_dir=${2:-}; shift 2 ;;
        --build-dir=*) build_dir=${1#*=}; shift ;;
        --keep) keep=1; shift ;;
        -h|--help) sed -n '2,18p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "bench/run.sh: unknown argument '$1'" >&2; exit 2 ;;
    esac
done
case $only in ''|host|guest) ;; *) echo "bench/run.sh: --only host|guest" >&2; exit 2 ;; esac

say() { printf '== %s\n' "$*" >&2; }
die() { printf 'bench/run.sh: %s\n' "$*" >&2; exit 1; }
t_start=$(date +%s)

# ------------------------------------------------------------------ set-up ----
[ "$(id -u)" = 0 ] || die "run as root (the lab and the daemon need it)"
missing=
for c in meson ninja cc python3 curl; do command -v $c >/dev/null || missing="$missing $c"; done
[ -z "$missing" ] || die "missing:$missing"
if { ! command -v wrk >/dev/null && [ "$only" != guest ]; } || ! command -v gnuplot >/dev/null; then
    say "installing the bench dependencies (scripts/deps.sh bench: wrk, gnuplot-nox for the charts)"
    (cd "$repo" && scripts/deps.sh bench) || say "WARNING: scripts/deps.sh bench failed"
    command -v wrk >/dev/null || [ "$only" = guest ] || die "cannot install wrk"
fi

say "building the release binary in $build_dir"
if [ ! -f "$build_dir/build.ninja" ]; then
    meson setup "$build_dir" "$repo" --buildtype=release -Dlab=false >/dev/null || die "meson setup failed"
fi
ninja -C "$build_dir" netfaultd bench/planbench bench/guardbench >/dev/null || die "ninja failed"
nfd=$build_dir/netfaultd
[ -x "$nfd" ] || die "no $nfd"
buildtype=$(meson introspect --buildoptions "$build_dir" 2>/dev/null |
    python3 -c 'import json,sys; print([o["value"] for o in json.load(sys.stdin) if o["name"]=="buildtype"][0])' 2>/dev/null)
[ "$buildtype" = release ] || say "WARNING: $build_dir has buildtype '$buildtype', not release"

work=$(mktemp -d /tmp/nfbench.XXXXXX)
cleanup() {
    [ -n "${host_pid:-}" ] && kill "$host_pid" 2>/dev/null
    if [ "$keep" = 1 ]; then say "kept $work"; else rm -rf "$work"; fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM
raw=$work/raw.jsonl
: >"$raw"

cc -O2 -static -s -o "$work/nfbench" "$bench/tools/nfbench.c" || die "cannot build bench/tools/nfbench.c"
NFB=$work/nfbench

commit=$(git -C "$repo" rev-parse --short=12 HEAD 2>/dev/null || echo unknown)
dirty=false
[ -n "$(git -C "$repo" status --porcelain -- daemon core netem api meson.build 2>/dev/null)" ] && dirty=true
date_utc=$(date -u +%Y-%m-%dT%H:%M:%SZ)

emit() { printf '{%s}\n' "$1" >>"$raw"; }

# ------------------------------------------------------------------- host ----
# wrk_paths IMPL BASE_URL: wrk against GET /healthz and GET /v1/faults, $wrk_reps runs of
# $wrk_secs s each; throughput and p50/p99 into the raw results under impl IMPL.
wrk_paths() {
    local impl=$1 base=$2 path r
    for path in /healthz /v1/faults; do
        r=0
        while [ $r -lt $wrk_reps ]; do
            wrk -t1 -c16 -d${wrk_secs}s --latency "$base$path" >"$work/wrk.out" 2>&1
            python3 - "$work/wrk.out" "$path" "$impl" >>"$raw" <<'PY'
import json, re, sys
text = open(sys.argv[1]).read()
path, impl = sys.argv[2], sys.argv[3]
def ms(v):
    m = re.match(r'([\d.]+)(us|ms|s)$', v)
    return float(m.group(1)) * {'us': 0.001, 'ms': 1, 's': 1000}[m.group(2)]
rps = re.search(r'Requests/sec:\s*([\d.]+)', text)
non2xx = re.search(r'Non-2xx or 3xx responses:\s*(\d+)', text)
errs = re.search(r'Socket errors:(.*)', text)
if not rps:
    sys.stderr.write("wrk output not understood:\n" + text)
    sys.exit(0)
base = {"impl": impl, "path": path}
print(json.dumps(dict(base, b="api_rps", unit="req/s", v=float(rps.group(1)),
                      non2xx=int(non2xx.group(1)) if non2xx else 0, socket_errors=(errs.group(1).strip() if errs else ""))))
for q in ("50", "99"):
    m = re.search(r'^\s*' + q + r'%\s+(\S+)', text, re.M)
    if m:
        print(json.dumps(dict(base, b="api_p" + q, unit="ms", v=ms(m.group(1)))))
PY
            r=$((r + 1))
        done
    done
}

run_host() {
    local reps=10 wrk_secs=3 wrk_reps=3
    [ "$quick" = 1 ] && { reps=3; wrk_secs=2; wrk_reps=1; }
    local port=19700 i out us pid

    say "host: binary size"
    emit "\"b\":\"binary_size\",\"impl\":\"netfaultd\",\"unit\":\"bytes\",\"v\":$(stat -c %s "$nfd")"
    emit "\"b\":\"binary_size_stripped\",\"impl\":\"netfaultd\",\"unit\":\"bytes\",\"v\":$(strip -o "$work/nfd.stripped" "$nfd" && stat -c %s "$work/nfd.stripped")"

    say "host: start-up to a served /healthz and idle RSS ($reps starts)"
    i=0
    while [ $i -lt $reps ]; do
        rm -rf "$work/state-start"
        out=$($NFB startup 127.0.0.1 $port "$nfd" --listen 127.0.0.1:$port --state-dir "$work/state-start" --rate-limit 0 2>>"$work/host-daemon.log") ||
            die "netfaultd did not serve /healthz on the host (see $work/host-daemon.log)"
        us=${out% *}
        host_pid=${out#* }
        emit "\"b\":\"startup\",\"impl\":\"netfaultd\",\"unit\":\"ms\",\"v\":$(awk -v a="$us" 'BEGIN{printf "%.3f", a/1000}')"
        if [ $i = 0 ]; then
            sleep 1
            emit "\"b\":\"rss_host\",\"impl\":\"netfaultd\",\"state\":\"idle\",\"unit\":\"kB\",\"v\":$(awk '/^VmRSS:/{print $2}' /proc/$host_pid/status)"
            local g
            g=$(awk '{print $1}' /proc/$host_pid/task/$host_pid/children 2>/dev/null)
            [ -n "$g" ] && emit "\"b\":\"rss_host\",\"impl\":\"netfaultd-guard\",\"state\":\"idle\",\"unit\":\"kB\",\"v\":$(awk '/^VmRSS:/{print $2}' /proc/$g/status)"
        fi
        kill -TERM "$host_pid"
        wait "$host_pid" 2>/dev/null
        # the pid is a child of nfbench (gone): wait for it by polling
        while kill -0 "$host_pid" 2>/dev/null; do sleep 0.05; done
        host_pid=
        i=$((i + 1))
    done

    say "host: validation and planning only (POST ?dry_run=true, no kernel change)"
    local n
    for n in 1 100 1000 10000; do
        python3 -c 'import json,sys; n=int(sys.argv[1]); print(json.dumps({"targets":["100.%d.%d.%d/32" % (64 + i//65536, (i//256) % 256, i % 256) for i in range(n)],"delay":{"ms":0}}))' $n >"$work/dry.$n.json"
    done
    rm -rf "$work/state-dry"
    out=$($NFB startup 127.0.0.1 $port "$nfd" --listen 127.0.0.1:$port --state-dir "$work/state-dry" --rate-limit 0 2>>"$work/host-daemon.log") ||
        die "netfaultd did not start for the dry-run benchmark"
    host_pid=${out#* }
    for n in 1 100 1000 10000; do
        i=0
        while [ $i -lt $reps ]; do
            set -- $(curl -s -o /dev/null -w '%{http_code} %{time_total}' -XPOST -H 'Content-Type: application/json' \
                --data-binary @"$work/dry.$n.json" "http://127.0.0.1:$port/v1/faults?dry_run=true")
            [ "$1" = 200 ] || die "dry run of $n targets -> $1"
            emit "\"b\":\"dry_run\",\"impl\":\"netfaultd\",\"n\":$n,\"unit\":\"ms\",\"v\":$(awk -v a="$2" 'BEGIN{printf "%.3f", a*1000}')"
            i=$((i + 1))
        done
    done
    kill -TERM "$host_pid"
    while kill -0 "$host_pid" 2>/dev/null; do sleep 0.05; done
    host_pid=

    say "host: exclusion arithmetic, 10,000 targets minus 10,000 excludes, old vs new ($reps runs each)"
    if cc -O2 -D_GNU_SOURCE -I"$repo" -o "$work/exclbench" "$bench/tools/exclbench.c" "$repo/netem/cidr.c"; then
        "$work/exclbench" "$reps" >>"$raw" || say "WARNING: exclbench failed (old and new disagree?)"
    else
        say "WARNING: cannot build bench/tools/exclbench.c"
    fi

    # Steady-state guards (issue 16): the daemon's probe engine with 64 faults x 4 http probes
    # every 100 ms against svcstub's /slow (80 ms), on one loop with a 5 ms timer whose lateness
    # is the loop's stall; a first phase without probes is the baseline.
    gsecs=10
    [ "$quick" = 1 ] && gsecs=3
    say "host: guard probes on the event loop (64 faults x 4 http probes every 100 ms, ${gsecs} s; baseline first)"
    if cc -O2 -o "$work/svcstub" "$repo/tests/lab/guest/svcstub.c" && [ -x "$build_dir/bench/guardbench" ]; then
        mkdir -p "$work/svc"
        echo 80 >"$work/svc/slow_ms"
        "$work/svcstub" $((port + 7)) "$work/svc" & svc_pid=$!
        sleep 0.3
        "$build_dir/bench/guardbench" "http://127.0.0.1:$((port + 7))/slow" 64 4 100 "$gsecs" >>"$raw" ||
            say "WARNING: guardbench failed"
        kill "$svc_pid" 2>/dev/null
        wait "$svc_pid" 2>/dev/null
    else
        say "WARNING: no $build_dir/bench/guardbench or cannot build tests/lab/guest/svcstub.c"
    fi

    # Issue 17: validate + plan + encode per CIDR, in-process (the daemon's own libraries, the
    # release build), targets in address order and shuffled.
    say "host: planning per CIDR (parse, validate, scope, plan, encode; 1,000 and 10,000 /32s)"
    "$build_dir/bench/planbench" $((reps < 5 ? 5 : reps)) >>"$raw" || say "WARNING: planbench failed"

    say "host: API with wrk (${wrk_reps}x ${wrk_secs} s per path, 1 thread, 16 connections, loopback)"
    rm -rf "$work/state-api"
    out=$($NFB startup 127.0.0.1 $port "$nfd" --listen 127.0.0.1:$port --state-dir "$work/state-api" --rate-limit 0 2>>"$work/host-daemon.log") ||
        die "netfaultd did not start for the API benchmark"
    host_pid=${out#* }
    wrk_paths netfaultd "http://127.0.0.1:$port"
    emit "\"b\":\"rss_host\",\"impl\":\"netfaultd\",\"state\":\"after-wrk\",\"unit\":\"kB\",\"v\":$(awk '/^VmRSS:/{print $2}' /proc/$host_pid/status)"
    kill -TERM "$host_pid"
    while kill -0 "$host_pid" 2>/dev/null; do sleep 0.05; done
    host_pid=

    # The same paths over TLS (issue 14): a self-signed P-256 certificate made here, the same
    # daemon flags plus --tls-cert/--tls-key; wrk speaks TLS itself. Side by side with the plain
    # runs above, in one run: compare the two, not the numbers alone.
    if command -v openssl >/dev/null; then
        say "host: API over TLS with wrk (the same paths)"
        openssl req -x509 -newkey ec -pkeyopt ec_paramgen_curve:prime256v1 -nodes -days 1 -subj /CN=127.0.0.1 \
            -addext subjectAltName=IP:127.0.0.1 -keyout "$work/tls.key" -out "$work/tls.crt" >/dev/null 2>&1
        rm -rf "$work/state-tls"
        "$nfd" --listen 127.0.0.1:$port --state-dir "$work/state-tls" --rate-limit 0 --tls-cert "$work/tls.crt" \
            --tls-key "$work/tls.key" 2>>"$work/host-daemon.log" &
        host_pid=$!
        for r in $(seq 100); do
            curl -sk -o /dev/null "https://127.0.0.1:$port/healthz" && break
            sleep 0.05
        done
        wrk_paths netfaultd-tls "https://127.0.0.1:$port"
        kill -TERM "$host_pid"
        while kill -0 "$host_pid" 2>/dev/null; do sleep 0.05; done
        host_pid=
    fi
}

# -------------------------------------------------------------- container ----
# The image (container/build.sh, from this build dir's release binary): its size; podman run to a
# served /healthz, in a network namespace held here (as a task's is); idle RSS of the daemon and
# of PID 1 (its guardian). Skipped without podman and buildah.
run_container() {
    local reps=5 i t0 code hold ctr tag=localhost/netfaultd-bench-$$:latest out p1 d
    [ "$quick" = 1 ] && reps=2
    if ! command -v podman >/dev/null || ! command -v buildah >/dev/null; then
        say "container: skipped (no podman/buildah)"
        return 0
    fi
    local pm=(podman --cgroup-manager cgroupfs)
    command -v runc >/dev/null && pm+=(--runtime runc)
    say "container: image size, podman run to a served /healthz ($reps runs), idle RSS"
    out=$("$repo/container/build.sh" --quiet --tag "$tag" --build-dir "$build_dir" 2>>"$work/container.log") || {
        say "WARNING: container/build.sh failed (see $work/container.log)"; return 0; }
    set -- $out
    emit "\"b\":\"image_size\",\"impl\":\"netfaultd\",\"unit\":\"bytes\",\"v\":$4"
    unshare -n sleep 3600 &
    hold=$!
    sleep 0.1
    nsenter -t $hold -n ip link set lo up
    i=0
    while [ $i -lt $reps ]; do
        ctr=netfaultd-bench-$$-$i
        t0=$($NFB now)
        "${pm[@]}" run -d --name $ctr --network ns:/proc/$hold/ns/net --cap-drop ALL --cap-add NET_ADMIN --read-only \
            --ulimit nofile=4096:4096 --ulimit nproc=4096:4096 "$tag" >/dev/null 2>>"$work/container.log"
        code=
        while [ "$code" != 200 ] && [ $(( ($($NFB now) - t0) / 1000 )) -lt 10000 ]; do
            code=$(nsenter -t $hold -n curl -s -m 1 -o /dev/null -w '%{http_code}' http://127.0.0.1:9700/healthz)
        done
        [ "$code" = 200 ] && emit "\"b\":\"container_startup\",\"impl\":\"netfaultd\",\"unit\":\"ms\",\"v\":$(awk -v a="$(( $($NFB now) - t0 ))" 'BEGIN{printf "%.3f", a/1000}')"
        if [ $i = 0 ] && [ "$code" = 200 ]; then
            sleep 1
            p1=$("${pm[@]}" inspect --format '{{.State.Pid}}' $ctr)
            d=$(awk '{print $1}' /proc/$p1/task/$p1/children 2>/dev/null)
            emit "\"b\":\"rss_container\",\"impl\":\"netfaultd\",\"state\":\"idle\",\"unit\":\"kB\",\"v\":$(awk '/^VmRSS:/{print $2}' /proc/$d/status)"
            emit "\"b\":\"rss_container\",\"impl\":\"netfaultd-guard (PID 1)\",\"state\":\"idle\",\"unit\":\"kB\",\"v\":$(awk '/^VmRSS:/{print $2}' /proc/$p1/status)"
        fi
        "${pm[@]}" rm -f -v -t 5 $ctr >/dev/null 2>&1
        i=$((i + 1))
    done
    kill $hold 2>/dev/null
    "${pm[@]}" rmi -f "$tag" >/dev/null 2>&1
}

# ------------------------------------------------------------------ guest ----
run_guest() {
    local lab=$work/lab
    mkdir -p "$lab/tests"
    cp -r "$repo/tests/lab" "$lab/tests/lab" || die "cannot copy tests/lab"
    [ -d "$repo/tests/fixtures" ] && cp -r "$repo/tests/fixtures" "$lab/tests/fixtures"
    rm -f "$lab/tests/lab/scenarios/"*.sh
    cp "$bench/guest/"*.sh "$lab/tests/lab/scenarios/"
    if [ "$quick" = 1 ]; then
        cat >"$lab/tests/lab/scenarios/benchconf.sh" <<'CONF'
BENCH_QUICK=1
APPLY_SIZES="1 100 1000"; APPLY_REPS=2; APPLY_REPS_BIG=1; WARM_REPS=3; EACH_MAX=100; EACH_REPS=1
DP_SIZES="0 100 1000"; DP_ROUNDS=1; DP_SECS=1; DP_PINGS=30
FID_DELAYS="50"; FID_PINGS=50; FID_LOSSES="10"; FID_UDP=1000
FP_FAULTS=10; FP_CIDRS=100; FP_CYCLES=50
STALL_FAULTS=100; STALL_CIDRS=100; STALL_MS=6000; STALL_REQS=3; FIXED_CYCLES=20
METRICS_SIZES="0 100 1000"; METRICS_REPS=5
CONF
    else
        cat >"$lab/tests/lab/scenarios/benchconf.sh" <<'CONF'
BENCH_QUICK=0
APPLY_SIZES="1 100 1000 10000"; APPLY_REPS=5; APPLY_REPS_BIG=3; WARM_REPS=5; EACH_MAX=1000; EACH_REPS=2
DP_SIZES="0 1 100 1000 10000"; DP_ROUNDS=3; DP_SECS=2; DP_PINGS=50
FID_DELAYS="20 50 100"; FID_PINGS=200; FID_LOSSES="1 10 30"; FID_UDP=4000
FP_FAULTS=100; FP_CIDRS=100; FP_CYCLES=1000
STALL_FAULTS=100; STALL_CIDRS=100; STALL_MS=10000; STALL_REQS=5; FIXED_CYCLES=100
METRICS_SIZES="0 100 1000"; METRICS_REPS=15
CONF
    fi
    { echo "# the static nfbench helper (bench/tools/nfbench.c), generated by bench/run.sh"
      echo 'base64 -d >"$1.gz" <<'"'"'B64'"'"
      gzip -9c "$NFB" | base64
      echo 'B64'
      echo 'gunzip -f "$1.gz" && chmod 755 "$1"'
    } >"$lab/tests/lab/scenarios/nfbenchbin.sh"

    # kernel cache: reuse build/lab-cache when it is there (read only: copied)
    if [ ! -d "$build_dir/lab-cache" ] && [ -f "$repo/build/lab-cache/vmlinuz" ]; then
        cp -r "$repo/build/lab-cache" "$build_dir/lab-cache"
    fi
    local lab_args=()
    [ "$keep" = 1 ] && lab_args+=(--keep)
    # NETFAULTD_BENCH_GUEST=bench-metrics,... runs only those (a partial run: its file says so).
    local scen=${NETFAULTD_BENCH_GUEST:-bench-apply,bench-datapath,bench-fidelity,bench-footprint,bench-stall,bench-metrics}
    say "guest: booting the kernel lab once for $scen (TAP relayed below)"
    NETFAULTD_LAB_CACHE=$build_dir/lab-cache NETFAULTD_LAB_SCENARIO_TIMEOUT=600 NETFAULTD_LAB_TIMEOUT=1500 \
        "$lab/tests/lab/run.sh" --build-dir "$build_dir" --netfaultd "$nfd" --scenario "$scen" \
        "${lab_args[@]}" >"$work/lab.tap"
    local rc=$?
    grep -v '^# BENCH ' "$work/lab.tap" | sed 's/^/   /' >&2
    sed -n 's/^# BENCH //p' "$work/lab.tap" >>"$raw"
    grep '^# guest: kernel ' "$work/lab.tap" | head -n1 | sed 's/^# guest: kernel \([^,]*\),.*/\1/' >"$work/guest-kernel"
    grep -c '^not ok' "$work/lab.tap" >"$work/lab-fails"
    [ $rc = 0 ] || say "WARNING: the lab reported failures (exit $rc); results may be incomplete"
}

[ "$only" = guest ] || { run_host; run_container; }
[ "$only" = host ] || run_guest

# ----------------------------------------------------------------- report ----
cmdline=bench/run.sh
[ "$quick" = 1 ] && cmdline="$cmdline --quick"
[ -n "$only" ] && cmdline="$cmdline --only $only"
[ -n "${NETFAULTD_BENCH_GUEST:-}" ] && cmdline="NETFAULTD_BENCH_GUEST=$NETFAULTD_BENCH_GUEST $cmdline"
mkdir -p "$bench/results"
out=$bench/results/$(date -u +%Y-%m-%d)-$commit.json
[ "$quick" = 1 ] && out=$bench/results/$(date -u +%Y-%m-%d)-$commit-quick.json
# a partial run names its part, so that a host run and a guest run of one commit keep both files
[ -n "$only" ] && out=${out%.json}-$only.json
[ -n "${NETFAULTD_BENCH_GUEST:-}" ] && out=${out%.json}-$(echo "$NETFAULTD_BENCH_GUEST" | tr , +).json
python3 "$bench/report.py" --raw "$raw" --out "$out" \
    --meta date="$date_utc" commit="$commit" commit_dirty="$dirty" quick="$quick" \
    host_kernel="$(uname -r)" guest_kernel="$(cat "$work/guest-kernel" 2>/dev/null)" \
    lab_failures="$(cat "$work/lab-fails" 2>/dev/null)" buildtype="$buildtype" \
    cpu="$(awk -F': ' '/^model name/{print $2; exit}' /proc/cpuinfo)" cpus="$(nproc)" \
    mem_mb="$(awk '/^MemTotal:/{printf "%d", $2/1024}' /proc/meminfo)" \
    os="$(. /etc/os-release && echo "$PRETTY_NAME")" \
    command="$cmdline" \
    wall_s="$(( $(date +%s) - t_start ))" || die "report.py failed (raw samples in $raw)"
if [ "$quick" = 1 ] || [ -n "$only" ] || [ -n "${NETFAULTD_BENCH_GUEST:-}" ]; then
    say "wrote $out (not copied to latest.json: partial run)"
else
    cp "$out" "$bench/results/latest.json"
    for svg in apply rtt; do
        [ -f "${out%.json}-$svg.svg" ] && cp "${out%.json}-$svg.svg" "$bench/results/latest-$svg.svg"
    done
    say "wrote $out and bench/results/latest.json (charts: bench/results/latest-*.svg)"
fi
say "total $(( $(date +%s) - t_start )) s"
