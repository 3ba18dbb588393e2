#include "netem/units.h"

#include <math.h>

uint32_t nf_percent_to_u32(double pct) {
        if (pct <= 0)
                return 0;
        if (pct >= 100)
                return UINT32_MAX;
        /* iproute2 rounds the same way: p * UINT32_MAX, rounded to nearest. */
        return (uint32_t)llround(pct / 100.0 * (double)UINT32_MAX);
}

int64_t nf_ms_to_ns(double ms) {
        return (int64_t)llround(ms * 1e6);
}

uint32_t nf_ns_to_ticks(int64_t ns) {
        /* The kernel's psched tick is 64 ns (PSCHED_SHIFT 6) since 2.6.31. */
        uint64_t t = (uint64_t)ns >> 6;
        return t > UINT32_MAX ? UINT32_MAX : (uint32_t)t;
}
