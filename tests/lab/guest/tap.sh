# tap.sh: TAP helpers for the guest (sourced by /init and every scenario).
#
# Lines go to the console prefixed with "NFTAP: " so that the host runner can
# pick them out of kernel noise; the host numbers the tests and prints the plan.
#   tap_ok DESC            tap_fail DESC         tap_skip DESC REASON
#   tap_diag TEXT...       tap_check DESC CMD...  (ok when CMD succeeds)
#   tap_near DESC MEASURED WANT TOL UNIT   ok when |MEASURED-WANT| <= TOL
#   tap_below DESC MEASURED MAX UNIT       ok when MEASURED < MAX
#   tap_between DESC MEASURED LO HI UNIT   ok when LO <= MEASURED <= HI
#   tap_eq DESC MEASURED WANT              ok when the strings are equal
# Each assertion prints the measured value and the tolerance beside it, e.g.
#   ok 3 - delay: median RTT to target +101.2 ms (want 100±15)

TAP_PREFIX="NFTAP:"
TAP_FAILS=${TAP_FAILS:-0}

tap_emit() { printf '%s %s\n' "$TAP_PREFIX" "$*"; }
tap_ok() { tap_emit "ok - $*"; }
tap_fail() { TAP_FAILS=$((TAP_FAILS + 1)); tap_emit "not ok - $*"; }
tap_skip() { tap_emit "ok - $1 # SKIP $2"; }
tap_diag() {
    # one diagnostic line per input line
    printf '%s\n' "$*" | while IFS= read -r l; do tap_emit "# $l"; done
}
tap_diag_file() {
    # tap_diag_file TITLE FILE [MAXLINES]: show (the tail of) a file
    [ -f "$2" ] || { tap_diag "$1: (no file $2)"; return 0; }
    tap_diag "$1:"
    tail -n "${3:-20}" "$2" | while IFS= read -r l; do tap_emit "#   $l"; done
}

tap_result() { # tap_result OK(0/1) DESC
    if [ "$1" = 0 ]; then tap_ok "$2"; else tap_fail "$2"; fi
}

tap_check() {
    local desc=$1
    shift
    if "$@"; then tap_ok "$desc"; else tap_fail "$desc"; return 1; fi
}

# Numbers are compared with awk (busybox sh has integer arithmetic only).
# A measurement that is empty or not a number fails the assertion.
tap_isnum() { printf '%s' "$1" | grep -Eq '^[-+]?[0-9]+(\.[0-9]+)?$'; }

tap_near() {
    local desc=$1 m=$2 want=$3 tol=$4 unit=${5:-}
    if tap_isnum "$m" && awk -v m="$m" -v w="$want" -v t="$tol" 'BEGIN{d=m-w; if(d<0)d=-d; exit !(d<=t)}'; then
        tap_ok "$desc $m$unit (want $want±$tol$unit)"
    else
        tap_fail "$desc ${m:-?}$unit (want $want±$tol$unit)"
        return 1
    fi
}

tap_below() {
    local desc=$1 m=$2 max=$3 unit=${4:-}
    if tap_isnum "$m" && awk -v m="$m" -v x="$max" 'BEGIN{exit !(m<x)}'; then
        tap_ok "$desc $m$unit (want < $max$unit)"
    else
        tap_fail "$desc ${m:-?}$unit (want < $max$unit)"
        return 1
    fi
}

tap_above() {
    local desc=$1 m=$2 min=$3 unit=${4:-}
    if tap_isnum "$m" && awk -v m="$m" -v x="$min" 'BEGIN{exit !(m>x)}'; then
        tap_ok "$desc $m$unit (want > $min$unit)"
    else
        tap_fail "$desc ${m:-?}$unit (want > $min$unit)"
        return 1
    fi
}

tap_between() {
    local desc=$1 m=$2 lo=$3 hi=$4 unit=${5:-}
    if tap_isnum "$m" && awk -v m="$m" -v l="$lo" -v h="$hi" 'BEGIN{exit !(m>=l && m<=h)}'; then
        tap_ok "$desc $m$unit (want $lo..$hi$unit)"
    else
        tap_fail "$desc ${m:-?}$unit (want $lo..$hi$unit)"
        return 1
    fi
}

tap_eq() {
    local desc=$1 m=$2 want=$3
    if [ "$m" = "$want" ]; then
        tap_ok "$desc $m"
    else
        tap_fail "$desc ${m:-(empty)} (want $want)"
        return 1
    fi
}
