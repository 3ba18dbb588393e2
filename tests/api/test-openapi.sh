#!/bin/sh
# The OpenAPI file: valid (redocly lint, when .cache/redocly holds it; scripts/deps.sh test puts it
# there where npm exists) and in step with the code (every request field the validator accepts
# and every route the router serves is described). Emits TAP.
set -u
ROOT=$(cd "$(dirname "$0")/../.." && pwd)
SPEC=$ROOT/api/openapi.yaml
n=0; failed=0
ok()  { n=$((n+1)); echo "ok $n - $*"; }
nok() { n=$((n+1)); failed=$((failed+1)); echo "not ok $n - $*"; }

LINT=$ROOT/.cache/redocly/node_modules/.bin/redocly
if [ -x "$LINT" ]; then
  if out=$("$LINT" lint --config "$ROOT/api/redocly.yaml" "$SPEC" 2>&1); then ok "redocly lint passes"
  else nok "redocly lint"; echo "$out" | sed 's/^/# /' | tail -30; fi
else
  n=$((n+1)); echo "ok $n - # SKIP redocly is not installed (npm missing)"
fi

# Request fields: what the validator accepts, from its own tables (tests/api/spec-members.c, built
# by meson and named by NF_SPEC_MEMBERS), against FaultSpec: the spec's members, and each effect's
# fields against its property's schema (inline, or the schema its $ref names).
faultspec=$(sed -n '/^    FaultSpec:/,/^    Fault:/p' "$SPEC")
# block HEAD: the line matching HEAD and the lines below it indented deeper.
block() { awk -v head="$1" 'on { i = match($0, /[^ ]/) - 1; if (i >= 0 && i <= d) exit; print; next }
  $0 ~ head { on = 1; d = match($0, /[^ ]/) - 1; print }'; }
# props: the names directly under the first "properties:" of a block.
props() { awk -v p=-1 'p >= 0 && NF { i = match($0, /[^ ]/) - 1; if (i <= p) exit
    if (i == p + 2) { sub(/^ */, ""); sub(/:.*/, ""); print } }
  p < 0 && /^ *properties:/ { p = match($0, /[^ ]/) - 1 }'; }
# same LABEL ACCEPTED DESCRIBED: every name the validator accepts is described, and no other.
same() {
  for f in $2; do
    if echo "$3" | grep -qx "$f"; then ok "$1 describes '$f'"; else nok "$1 lacks '$f' that the validator accepts"; fi
  done
  for f in $3; do
    echo "$2" | grep -qx "$f" || nok "$1 describes '$f' that the validator refuses"
  done
}
if [ -x "${NF_SPEC_MEMBERS:-}" ] && members=$("$NF_SPEC_MEMBERS") && [ -n "$members" ]; then
  same FaultSpec "$(echo "$members" | grep -v '\.')" "$(echo "$faultspec" | grep -E '^        [a-z_]+:' | sed 's/^ *//; s/:.*//')"
  for key in $(echo "$members" | sed -n 's/\..*//p' | uniq); do
    blk=$(echo "$faultspec" | block "^        $key:")
    ref=$(echo "$blk" | head -n1 | sed -n 's|.*\$ref: *"#/components/schemas/\([A-Za-z0-9_]*\)".*|\1|p')
    [ -n "$ref" ] && blk=$(block "^    $ref:" <"$SPEC")
    same "FaultSpec's $key" "$(echo "$members" | sed -n "s/^$key\.//p")" "$(echo "$blk" | props)"
  done
else
  nok "the validator's request fields are listed by NF_SPEC_MEMBERS ('${NF_SPEC_MEMBERS:-}'; meson test sets it)"
fi
# Routes: every path the router matches.
for p in /healthz /v1/capabilities /v1/faults "/v1/faults/{id}"; do
  grep -q "^  $p:" "$SPEC" && ok "path $p is described" || nok "path $p is missing"
done
echo "1..$n"
[ $failed = 0 ]
