#!/bin/bash
# Do the suites catch a broken daemon? Builds netfaultd from a copy of the tree with one deliberate
# mistake, runs the suite that should notice it, and passes only if that suite FAILS: the lab
# scenarios (qemu) for what only a real kernel shows, the unit suite (a build and `meson test
# --suite unit`, no qemu, a minute or so) for what the unit tests can see.
#   tests/lab/mutation.sh [MUTATION ...]      (default: all)
# Mutations the lab must catch:
#   wrong-hook         the clsact hooks swapped: egress filters on the ingress path and back
#   wrong-side         egress filters match the source address instead of the destination
#   no-redirect        matched packets are dropped instead of redirected to the fault's netem
#   pool-keeps-netem   a reverted fault's ifb goes idle with its netem still on it (the delete
#                      names another handle, which the kernel refuses and the revert tolerates);
#                      scenario ifb-pool must notice (the next fault on that link)
# Mutations the unit suite must catch:
#   journal-no-gap     the journal record (the rendered spec) loses reorder's gap, so a resumed
#                      fault would reorder without it
#   journal-no-jitter  the journal record loses the delay's jitter
# Prints one TAP line per mutation: "ok" means the suite noticed.
set -u
here=$(cd "$(dirname "$0")" && pwd)
root=$(cd "$here/../.." && pwd)
muts=${*:-wrong-hook wrong-side no-redirect pool-keeps-netem journal-no-gap journal-no-jitter}
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
n=0; failed=0
for m in $muts; do
    n=$((n + 1))
    rm -rf "$work/src" "$work/build" && mkdir -p "$work/src"
    (cd "$root" && git ls-files -z | xargs -0 cp --parents -t "$work/src")
    suite=lab scen=delay
    case $m in
        wrong-hook) file=netem/encode.c; expr='s/TC_H_MIN_INGRESS : TC_H_MIN_EGRESS/TC_H_MIN_EGRESS : TC_H_MIN_INGRESS/' ;;
        wrong-side) file=netem/encode.c; expr='s/bool egress = dir != NF_DIR_INGRESS;/bool egress = dir == NF_DIR_INGRESS;/' ;;
        no-redirect) file=netem/plan.c; expr='s/l->action = nf_effects_action(&s->fx);/l->action = NF_ACTION_DROP;/' ;;
        pool-keeps-netem) scen=ifb-pool; file=netem/apply.c
            expr='s/nf_enc_root_qdisc_del(room(a), l->ifb_ifindex, TC_H_MAKE(NF_QDISC_MAJOR << 16, 0))/nf_enc_root_qdisc_del(room(a), l->ifb_ifindex, TC_H_MAKE(0x1234 << 16, 0))/' ;;
        journal-no-gap) suite=unit; file=core/effects_json.c; expr='/cJSON_AddNumberToObject(o, "gap", fx->reorder_gap);/d' ;;
        journal-no-jitter) suite=unit; file=core/effects_json.c; expr='/cJSON_AddNumberToObject(d, "jitter_ms", fx->jitter_ms);/d' ;;
        *) echo "not ok $n - unknown mutation $m"; failed=$((failed + 1)); continue ;;
    esac
    sed -i "$expr" "$work/src/$file"
    if cmp -s "$root/$file" "$work/src/$file"; then
        echo "not ok $n - $m: the mutation did not apply to $file (the code changed?)"; failed=$((failed + 1)); continue
    fi
    target=netfaultd
    [ $suite = unit ] && target= # the unit tests and what they link
    meson setup "$work/build" "$work/src" --buildtype=release -Dlab=false >/dev/null 2>&1 &&
        ninja -C "$work/build" $target >/dev/null 2>&1 || { echo "not ok $n - $m: does not build"; failed=$((failed + 1)); continue; }
    if [ $suite = unit ]; then
        # In a network namespace of its own where we can make one, as the suite is run elsewhere.
        ns=
        [ "$(id -u)" = 0 ] && unshare -n true 2>/dev/null && ns="unshare -n"
        out=$(cd "$work/build" && $ns meson test --no-rebuild --suite unit 2>&1)
        bad=$(printf '%s\n' "$out" | grep -E ' (FAIL|ERROR|TIMEOUT) ' | sed -n 's/.* \/ \([^ ]*\) .*/\1/p' | tr '\n' ' ')
        if [ -n "$bad" ]; then
            echo "ok $n - $m: the unit suite fails: ${bad% }"
        else
            echo "not ok $n - $m: the unit suite did not notice"; failed=$((failed + 1))
        fi
        continue
    fi
    mkdir -p "$work/build/lab-cache"
    for d in "$root/build-test" "$root/build"; do # reuse a downloaded kernel
        [ -f "$d/lab-cache/vmlinuz" ] && { cp -r "$d/lab-cache/." "$work/build/lab-cache/"; break; }
    done
    out=$("$here/run.sh" --build-dir "$work/build" --netfaultd "$work/build/netfaultd" --scenario "$scen" 2>&1)
    bad=$(printf '%s\n' "$out" | grep -c '^not ok')
    if [ "$bad" -gt 0 ]; then
        echo "ok $n - $m: the lab fails ($bad failed checks), e.g. $(printf '%s\n' "$out" | grep -m1 '^not ok' | cut -c1-120)"
    else
        echo "not ok $n - $m: the lab did not notice"; failed=$((failed + 1))
    fi
done
echo "1..$n"
[ $failed = 0 ]
