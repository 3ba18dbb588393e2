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
# same_names LABEL ACCEPTED DESCRIBED: every name the validator accepts is described, and no other.
same_names() {
  for f in $2; do
    if echo "$3" | grep -qx "$f"; then ok "$1 describes '$f'"; else nok "$1 lacks '$f' that the validator accepts"; fi
  done
  for f in $3; do
    echo "$2" | grep -qx "$f" || nok "$1 describes '$f' that the validator refuses"
  done
}
if [ -x "${NF_SPEC_MEMBERS:-}" ] && members=$("$NF_SPEC_MEMBERS") && [ -n "$members" ]; then
  same_names FaultSpec "$(echo "$members" | grep -v '\.')" "$(echo "$faultspec" | grep -E '^        [a-z_]+:' | sed 's/^ *//; s/:.*//')"
  for key in $(echo "$members" | sed -n 's/\..*//p' | uniq); do
    blk=$(echo "$faultspec" | block "^        $key:")
    ref=$(echo "$blk" | head -n1 | sed -n 's|.*\$ref: *"#/components/schemas/\([A-Za-z0-9_]*\)".*|\1|p')
    [ -n "$ref" ] && blk=$(block "^    $ref:" <"$SPEC")
    same_names "FaultSpec's $key" "$(echo "$members" | sed -n "s/^$key\.//p")" "$(echo "$blk" | props)"
  done
else
  nok "the validator's request fields are listed by NF_SPEC_MEMBERS ('${NF_SPEC_MEMBERS:-}'; meson test sets it)"
fi
# Routes: every path the router matches.
for p in /healthz /metrics /v1/capabilities /v1/faults "/v1/faults/{id}" /v1/pods; do
  grep -q "^  $p:" "$SPEC" && ok "path $p is described" || nok "path $p is missing"
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
