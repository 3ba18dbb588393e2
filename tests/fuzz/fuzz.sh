#!/bin/sh
# Builds the libFuzzer targets with clang (libFuzzer, ASan, UBSan; a UBSan report is a crash unless
# tests/fuzz/ubsan.supp names it with its open issue) from
# the daemon's sources and runs each for a share of a bounded time over its seed corpus in
# tests/fuzz/corpus/<target>/. Emits TAP, one line per target; skips where clang/libFuzzer is
# absent.
#   tests/fuzz/fuzz.sh [SECONDS]           the CI run: SECONDS in total (default 20), split evenly
#   tests/fuzz/fuzz.sh --long [SECONDS]    a long run (default 600 s in total); the inputs that
#                                          found new coverage are kept in a directory it names,
#                                          to be minimised and added to the corpus
#   tests/fuzz/fuzz.sh --target NAME ...   only that target (request, journal, http, ecs)
# Targets: request (POST body: validator, round trip, planner), journal (the journal loader on any
# record and clsact.json), http (request target and body: URI/query parsing, validator, replies), ecs
# (the ECS agent's fault request bodies: Go-style decoding and the agent's validation).
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
secs=20
long=0
only=
while [ $# -gt 0 ]; do
    case $1 in
        --long) long=1; secs=600; shift
                case ${1:-} in [0-9]*) secs=$1; shift ;; esac ;;
        --target) only=${2:?--target NAME}; shift 2 ;;
        [0-9]*) secs=$1; shift ;;
        -h|--help) sed -n '2,13p' "$0" | sed 's/^# \{0,1\}//'; exit 0 ;;
        *) echo "fuzz.sh: unknown argument '$1'" >&2; exit 2 ;;
    esac
done
targets=${only:-request journal http ecs}
CC=${FUZZ_CC:-clang}
if ! command -v "$CC" >/dev/null 2>&1; then
    echo "1..0 # SKIP clang is not installed"
    exit 0
fi
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
FLAGS="-g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -DNETFAULTD_VERSION=\"fuzz\""
# UBSan stays recoverable so that known, open reports can be suppressed by name; any other report
# stops the run like a crash.
export UBSAN_OPTIONS="halt_on_error=1:print_stacktrace=1:suppressions=$ROOT/tests/fuzz/ubsan.supp"
INC="-I$ROOT -I/usr/include/libnl3 -I/usr/include/cjson"
LIBS="-lnl-route-3 -lnl-3 -lmnl -levent -levent_openssl -lssl -lcrypto -lcjson -lm"

# The daemon's sources once, as objects (fuzzer-instrumented, no main), then one link per target.
mkdir -p "$T/obj"
srcs=$(ls "$ROOT"/netem/*.c "$ROOT"/api/*.c "$ROOT"/core/*.c "$ROOT"/daemon/*.c | grep -v '/main\.c$')
if ! (cd "$T/obj" && $CC $FLAGS -fsanitize=fuzzer-no-link $INC -c $srcs) 2>"$T/build.log"; then
    if grep -q "fuzzer" "$T/build.log"; then
        echo "1..0 # SKIP libFuzzer is not available ($(head -n1 "$T/build.log"))"
        exit 0
    fi
    echo "not ok 1 - the daemon's sources build for fuzzing"; sed 's/^/# /' "$T/build.log" | head -20; echo "1..1"; exit 1
fi

n=0
failed=0
count=$(echo $targets | wc -w)
each=$(( secs / count ))
[ "$each" -ge 1 ] || each=1
for t in $targets; do
    n=$((n + 1))
    if [ ! -f "$ROOT/tests/fuzz/fuzz-$t.c" ]; then
        echo "not ok $n - no target '$t' (tests/fuzz/fuzz-$t.c)"; failed=$((failed + 1)); continue
    fi
    if ! $CC $FLAGS $INC "$ROOT/tests/fuzz/fuzz-$t.c" "$T"/obj/*.o $LIBS -o "$T/fuzz-$t" 2>"$T/build-$t.log"; then
        echo "not ok $n - the $t fuzzer builds"; sed 's/^/# /' "$T/build-$t.log" | head -20
        failed=$((failed + 1)); continue
    fi
    # The seeds are copied: libFuzzer writes what it finds into the first corpus directory.
    mkdir -p "$T/corpus-$t"
    cp "$ROOT/tests/fuzz/corpus/$t/"* "$T/corpus-$t/" 2>/dev/null
    TMPDIR=$T "$T/fuzz-$t" -max_total_time="$each" -max_len=8192 -timeout=10 -rss_limit_mb=1024 -print_final_stats=1 \
        -artifact_prefix="$T/$t-" "$T/corpus-$t" >"$T/run-$t.log" 2>&1
    rc=$?
    runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$T/run-$t.log")
    if [ $rc = 0 ]; then
        echo "ok $n - $each s of libFuzzer over the $t target: ${runs:-?} inputs, no crash, leak or UBSan report"
    else
        failed=$((failed + 1))
        echo "not ok $n - the $t fuzzer found a problem after ${runs:-?} inputs"
        grep -E "ERROR|SUMMARY|runtime error|==" "$T/run-$t.log" | head -20 | sed 's/^/# /'
        for a in "$T/$t-"crash-* "$T/$t-"leak-* "$T/$t-"timeout-*; do
            [ -f "$a" ] && echo "# input: $(od -An -c "$a" | head -5 | tr -s ' ')"
        done
    fi
    if [ "$long" = 1 ]; then
        mkdir -p "$ROOT/build-fuzz-found/$t"
        for a in "$T/corpus-$t/"* "$T/$t-"crash-* "$T/$t-"leak-* "$T/$t-"timeout-*; do
            [ -f "$a" ] && cp "$a" "$ROOT/build-fuzz-found/$t/"
        done
        echo "# $t: the corpus after the run and any crash inputs are in build-fuzz-found/$t/"
    fi
done
echo "1..$n"
[ $failed = 0 ]
