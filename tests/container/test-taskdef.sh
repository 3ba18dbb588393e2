#!/bin/sh
# The ECS task definitions in container/ecs/ against botocore's RegisterTaskDefinition input shape
# and the sidecar's rules (taskdef_check.py), once for every Python here that has botocore with a
# different version (Debian's python3-botocore and, where the machine has one, a newer pip
# botocore whose model knows later ECS members). Emits TAP; SKIPs without botocore.
#   test-taskdef.sh SRC_DIR NETFAULTD_BINARY
set -u
SRC=${1:?usage: test-taskdef.sh SRC_DIR NETFAULTD_BINARY}
BIN=${2:?}
here=$(cd "$(dirname "$0")" && pwd)
out=$(mktemp)
trap 'rm -f "$out"' EXIT
seen=
for py in $(command -v python3) /usr/bin/python3; do
    [ -x "$py" ] || continue
    v=$("$py" -c 'import botocore; print(botocore.__version__)' 2>/dev/null) || continue
    case " $seen " in *" $v "*) continue ;; esac
    seen="$seen $v"
    "$py" "$here/taskdef_check.py" "$SRC" "$BIN" >>"$out" 2>&1 || echo "not ok - taskdef_check.py under $py exits 0" >>"$out"
done
if [ -z "$seen" ]; then
    echo "1..0 # SKIP no python3 with botocore (scripts/deps.sh test installs python3-botocore)"
    exit 0
fi
n=$(grep -c '^\(not \)\{0,1\}ok ' "$out")
awk '/^(not )?ok / { i++; sub(/^ok /, "ok " i " "); sub(/^not ok /, "not ok " i " ") } { print }' "$out"
echo "1..$n"
! grep -q '^not ok' "$out"
