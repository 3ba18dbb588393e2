#!/bin/sh
# The OpenAPI file: valid (redocly lint, when .cache/redocly holds it; scripts/deps.sh test puts it
# there where npm exists) and in step with the code (every request field the validator accepts
# is described; the routes, methods and query parameters of the route table, as
# tests/tools/nf-routes prints it, are exactly those described). Emits TAP.
#   test-openapi.sh path/to/nf-routes
set -u
ROUTES=${1:-}
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
# Routes: the route table of the "v1" surface (api/routes.c) against the paths and operations of
# the file, both ways: "METHOD PATH" lines, and "METHOD PATH PARAMETER" for query parameters.
described() { # the file's operations; with --query, its query parameters per operation
  awk -v query="${1:-}" '
    function flush() { if (query && pin == "query" && pname != "") print toupper(m ? m : "*"), path, pname; pname = pin = "" }
    /^paths:/ { inpaths = 1; next }
    inpaths && /^[^ ]/ { flush(); inpaths = 0 }
    !inpaths { next }
    /^  \// { flush(); path = $1; sub(/:$/, "", path); m = ""; next }
    /^    [a-z]+:/ { flush(); k = $1; sub(/:$/, "", k)
                     if (k ~ /^(get|put|post|delete|options|head|patch|trace)$/) { m = k; if (!query) print toupper(m), path }
                     else if (k == "parameters") m = ""
                     next }
    /^ +- / { flush() }
    /^ +(- )?name: / { pname = $0; sub(/^ +(- )?name: */, "", pname) }
    /^ +(- )?in: / { pin = $0; sub(/^ +(- )?in: */, "", pin) }
    END { flush() }' "$SPEC" | sort
}
# same WHAT TABLE FILE: each line of the table described, each described line in the table.
same() {
  for l in $(echo "$2" | tr ' ' '@'); do
    l=$(echo "$l" | tr '@' ' ')
    if echo "$3" | grep -qxF "$l"; then ok "$1 '$l' is served and described"; else nok "$1 '$l' is served but not described in openapi.yaml"; fi
  done
  for l in $(echo "$3" | tr ' ' '@'); do
    l=$(echo "$l" | tr '@' ' ')
    echo "$2" | grep -qxF "$l" || nok "$1 '$l' is described in openapi.yaml but not in the route table"
  done
}
if [ -z "$ROUTES" ] || [ ! -x "$ROUTES" ] || ! table=$("$ROUTES" v1 | sort) || ! params=$("$ROUTES" --query v1 | sort); then
  nok "the route table is read (usage: test-openapi.sh path/to/nf-routes)"
elif [ -z "$table" ]; then
  nok "the route table of the v1 surface has routes"
else
  same route "$table" "$(described)"
  same "query parameter" "$params" "$(described --query)"
fi
echo "1..$n"
[ $failed = 0 ]
