#!/bin/sh
# The layers hold: netem/ (kernel side) < core/ < api/ < daemon/. Each claim is checked against
# the compiler, not only by reading the sources:
#  - a core header included from netem/ code, and an api/ header included from netem/ or core
#    code, stop the build with the layer's message (the libraries are compiled with
#    NF_LAYER_NETEM and NF_LAYER_CORE, see meson.build);
#  - the same headers compile where they belong;
#  - every header of core/ and api/ carries its guard (a header without it would be a hole);
#  - no source of a lower layer names a header of a higher one (includes only reached through
#    another header are caught by the compiler checks above).
src=${1:?source root}
cc=${2:-cc}
inc="-I$src -I/usr/include/libnl3 -I/usr/include/cjson -D_GNU_SOURCE"
n=0
fail=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
no() { n=$((n + 1)); fail=1; echo "not ok $n - $1"; [ -n "${2:-}" ] && sed 's/^/# /' "$2" | head -5; }
t=$(mktemp -d)
trap 'rm -rf "$t"' EXIT

# try LAYER HEADER: compile a file that includes HEADER as code of LAYER would.
try() {
    printf '#include "%s"\nint nf_layer_probe;\n' "$2" > "$t/probe.c"
    $cc $inc ${1:+-D$1} -fsyntax-only "$t/probe.c" > "$t/out" 2>&1
}
# Every header of api/ (but the guard itself), so that a new one is checked without a list to keep.
for h in $(cd "$src" && ls api/*.h | grep -vx api/layer.h); do
    for layer in NF_LAYER_NETEM NF_LAYER_CORE; do
        if try $layer $h; then no "$h included with $layer: the build should stop"
        elif grep -q "must not include api/" "$t/out"; then ok "$h included with $layer stops the build: $(grep -o 'must not include api/[^"]*' "$t/out" | head -n1 | cut -c1-60)"
        else no "$h included with $layer fails, but not with the layer's message" "$t/out"; fi
    done
    if try "" $h; then ok "$h compiles in api/ and daemon/"; else no "$h compiles in api/ and daemon/" "$t/out"; fi
done
for h in core/registry.h core/spec_json.h core/error.h core/journal.h; do
    if try NF_LAYER_NETEM $h; then no "$h included with NF_LAYER_NETEM: the build should stop"
    elif grep -q "must not include the core" "$t/out"; then ok "$h included from netem/ stops the build"
    else no "$h included from netem/ fails, but not with the layer's message" "$t/out"; fi
    if try NF_LAYER_CORE $h; then ok "$h compiles in the core"; else no "$h compiles in the core" "$t/out"; fi
done
for h in "$src"/core/*.h; do
    grep -q '#include "core/layer.h"' "$h" || [ "$(basename "$h")" = layer.h ] || no "$(basename "$h") includes core/layer.h"
done
for h in "$src"/api/*.h; do
    grep -q '#include "api/layer.h"' "$h" || [ "$(basename "$h")" = layer.h ] || no "$(basename "$h") includes api/layer.h"
done
ok "every header of core/ and api/ carries its layer's guard"
bad=$(grep -ln '#include "\(core\|api\|daemon\)/' "$src"/netem/*.[ch] 2>/dev/null)
[ -z "$bad" ] && ok "netem/ names no header of core/, api/ or daemon/" || no "netem/ names higher headers: $bad"
bad=$(grep -ln '#include "\(api\|daemon\)/' "$src"/core/*.[ch] 2>/dev/null)
[ -z "$bad" ] && ok "core/ names no header of api/ or daemon/" || no "core/ names higher headers: $bad"
bad=$(grep -ln '#include "daemon/' "$src"/api/*.[ch] 2>/dev/null)
[ -z "$bad" ] && ok "api/ names no header of daemon/" || no "api/ names daemon/ headers: $bad"
echo "1..$n"
exit $fail
