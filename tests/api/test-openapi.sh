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

# Request fields: the validator's list of known keys (core/spec_json.c) against FaultSpec.
fields=$(sed -n '/static const char \*const keys\[\] = {"targets"/,/NULL};/p' "$ROOT/core/spec_json.c" | grep -o '"[a-z_]*"' | tr -d '"')
spec_props=$(sed -n '/^    FaultSpec:/,/^    Fault:/p' "$SPEC" | grep -E '^        [a-z_]+:' | sed 's/^ *//; s/:.*//')
for f in $fields; do
  if echo "$spec_props" | grep -qx "$f"; then ok "FaultSpec describes '$f'"; else nok "FaultSpec lacks '$f' that the validator accepts"; fi
done
for f in $spec_props; do
  echo "$fields" | grep -qx "$f" || nok "FaultSpec describes '$f' that the validator refuses"
done
# Routes: every path the router matches.
for p in /healthz /v1/capabilities /v1/faults "/v1/faults/{id}"; do
  grep -q "^  $p:" "$SPEC" && ok "path $p is described" || nok "path $p is missing"
done
echo "1..$n"
[ $failed = 0 ]
