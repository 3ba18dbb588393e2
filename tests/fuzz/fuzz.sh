#!/bin/sh
# Builds the request fuzzer with clang (libFuzzer, ASan, UBSan) from the daemon's sources and runs
# it for a bounded time over the seed corpus. Emits TAP; skips where clang/libFuzzer is absent.
#   tests/fuzz/fuzz.sh [SECONDS]     (default 20)
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
secs=${1:-20}
CC=${FUZZ_CC:-clang}
if ! command -v "$CC" >/dev/null 2>&1; then
    echo "1..0 # SKIP clang is not installed"
    exit 0
fi
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
srcs=$(ls "$ROOT"/netem/*.c "$ROOT"/api/*.c "$ROOT"/daemon/*.c | grep -v '/main\.c$')
if ! $CC -g -O1 -fsanitize=fuzzer,address,undefined -D_GNU_SOURCE -DNETFAULTD_VERSION='"fuzz"' \
        -I"$ROOT" -I/usr/include/libnl3 -I/usr/include/cjson "$ROOT/tests/fuzz/fuzz-request.c" $srcs \
        -lnl-route-3 -lnl-3 -lmnl -levent -lcjson -lm -o "$T/fuzz" 2>"$T/build.log"; then
    if grep -q "fuzzer" "$T/build.log"; then
        echo "1..0 # SKIP libFuzzer is not available ($(head -n1 "$T/build.log"))"
        exit 0
    fi
    echo "not ok 1 - the fuzzer builds"; sed 's/^/# /' "$T/build.log" | head -20; echo "1..1"; exit 1
fi
mkdir -p "$T/corpus"
cp "$ROOT"/tests/fuzz/corpus/* "$T/corpus/"
"$T/fuzz" -max_total_time="$secs" -max_len=4096 -timeout=10 -rss_limit_mb=1024 -print_final_stats=1 \
    -artifact_prefix="$T/" "$T/corpus" >"$T/run.log" 2>&1
rc=$?
runs=$(sed -n 's/^stat::number_of_executed_units: *//p' "$T/run.log")
if [ $rc = 0 ]; then
    echo "ok 1 - $secs s of libFuzzer over the request validator, round trip and planner: ${runs:-?} inputs, no crash"
else
    echo "not ok 1 - the fuzzer found a crash after ${runs:-?} inputs"
    grep -E "ERROR|SUMMARY|==" "$T/run.log" | head -20 | sed 's/^/# /'
    for a in "$T"/crash-* "$T"/leak-* "$T"/timeout-*; do [ -f "$a" ] && { echo "# input: $(od -An -c "$a" | head -5 | tr -s ' ')"; }; done
fi
echo "1..1"
[ $rc = 0 ]
