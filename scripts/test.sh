#!/bin/sh
# Runs every test suite: unit (validation, planner, encoder, journal, sweep), api (a real daemon
# over HTTP), fuzz (the libFuzzer targets, 20 s in all) and kernel (the real-kernel lab under
# qemu), in a build with AddressSanitizer and UBSan and -Wall -Wextra -Werror. Installs what it
# needs first. The last line is "N passed, M failed". tests/lab/stress.sh is not part of it.
#   scripts/test.sh                 everything
#   scripts/test.sh --suite unit    one suite (unit, api, fuzz or kernel)
set -eu
cd "$(dirname "$0")/.."
scripts/deps.sh test
if [ ! -d build-test ]; then
  meson setup build-test -Db_sanitize=address,undefined -Dwerror=true >/dev/null
fi
ninja -C build-test >/dev/null
set +e
meson test -C build-test --print-errorlogs --no-rebuild "$@" > build-test/meson-test-output.txt 2>&1
rc=$?
set -e
grep -E "^ *[0-9]+/[0-9]+ " build-test/meson-test-output.txt || true
python3 scripts/tap-summary.py build-test/meson-logs/testlog.json
[ $rc = 0 ]
