#!/bin/bash
# Does the lab catch a broken planner? Builds netfaultd from a copy of the tree with one
# deliberate mistake, runs lab scenarios against it, and passes only if they FAIL.
#   tests/lab/mutation.sh [MUTATION ...]      (default: all)
# Mutations:
#   wrong-hook   the clsact hooks swapped: egress filters on the ingress path and back
#   wrong-side   egress filters match the source address instead of the destination
#   no-redirect  matched packets are dropped instead of redirected to the fault's netem
# Prints one TAP line per mutation: "ok" means the lab noticed.
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
muts=${*:-wrong-hook wrong-side no-redirect}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
n=0; failed=0
for m in $muts; do
    n=$((n + 1))
    rm -rf "$work/src" && mkdir -p "$work/src"
    (cd "$root" && git ls-files -z | xargs -0 cp --parents -t "$work/src")
    case $m in
        wrong-hook) sed -i "s/TC_H_MIN_INGRESS : TC_H_MIN_EGRESS/TC_H_MIN_EGRESS : TC_H_MIN_INGRESS/" "$work/src/netem/encode.c" ;;
        wrong-side) sed -i 's/bool egress = dir != NF_DIR_INGRESS;/bool egress = dir == NF_DIR_INGRESS;/' "$work/src/netem/encode.c" ;;
        no-redirect) sed -i 's/l->action = nf_effects_action(&s->fx);/l->action = NF_ACTION_DROP;/' "$work/src/netem/plan.c" ;;
        *) echo "not ok $n - unknown mutation $m"; failed=$((failed + 1)); continue ;;
    esac
    if (cd "$root" && git diff --no-index --quiet "$root/netem" "$work/src/netem" 2>/dev/null); then
        echo "not ok $n - $m: the mutation did not apply (the code changed?)"; failed=$((failed + 1)); continue
    fi
    meson setup "$work/build" "$work/src" --buildtype=release -Dlab=false >/dev/null 2>&1 &&
        ninja -C "$work/build" netfaultd >/dev/null 2>&1 || { echo "not ok $n - $m: does not build"; failed=$((failed + 1)); continue; }
    mkdir -p "$work/build/lab-cache"
    for d in "$root/build-test" "$root/build"; do # reuse a downloaded kernel
        [ -f "$d/lab-cache/vmlinuz" ] && { cp -r "$d/lab-cache/." "$work/build/lab-cache/"; break; }
    done
    out=$("$here/run.sh" --build-dir "$work/build" --netfaultd "$work/build/netfaultd" --scenario delay 2>&1)
    bad=$(printf '%s\n' "$out" | grep -c '^not ok')
    if [ "$bad" -gt 0 ]; then
        echo "ok $n - $m: the lab fails ($bad failed checks), e.g. $(printf '%s\n' "$out" | grep -m1 '^not ok' | cut -c1-120)"
    else
        echo "not ok $n - $m: the lab did not notice"; failed=$((failed + 1))
    fi
    rm -rf "$work/build"
done
echo "1..$n"
[ $failed = 0 ]
