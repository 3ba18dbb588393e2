#!/bin/sh
# systemd/netfaultd.service checked by systemd's own tools: `systemd-analyze verify` (with
# ExecStart pointed at the freshly built binary) and the offline security review, whose overall
# exposure must stay at or below 2.0 ("OK"). Emits TAP; skips where systemd-analyze is absent.
set -u
BIN=${1:?usage: test-unit.sh netfaultd}
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
if ! command -v systemd-analyze >/dev/null 2>&1; then
    echo "1..0 # SKIP systemd-analyze is not installed"
    exit 0
fi
T=$(mktemp -d)
trap 'rm -rf "$T"' EXIT
sed "s|/usr/local/sbin/netfaultd|$BIN|" "$ROOT/systemd/netfaultd.service" >"$T/netfaultd.service"
n=0; failed=0
n=$((n+1))
if out=$(systemd-analyze verify "$T/netfaultd.service" 2>&1) && [ -z "$out" ]; then
    echo "ok $n - systemd-analyze verify accepts the unit"
else
    failed=$((failed+1)); echo "not ok $n - systemd-analyze verify"; echo "$out" | sed 's/^/# /'
fi
n=$((n+1))
score=$(systemd-analyze security --offline=yes "$T/netfaultd.service" 2>/dev/null | sed -n 's/.*Overall exposure level for [^:]*: \([0-9.]*\).*/\1/p')
if [ -n "$score" ] && awk -v s="$score" 'BEGIN{exit !(s <= 2.0)}'; then
    echo "ok $n - systemd-analyze security: exposure $score (want <= 2.0)"
else
    failed=$((failed+1)); echo "not ok $n - systemd-analyze security: exposure ${score:-?} (want <= 2.0)"
fi
echo "1..$n"
[ $failed = 0 ]
