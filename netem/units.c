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

void nf_effects_to_netem(const struct nf_effects *fx, struct nf_netem_params *o) {
        *o = (struct nf_netem_params){0};
        o->limit = fx->has_limit ? fx->limit : NF_NETEM_DEFAULT_LIMIT;
        if (fx->has_delay) {
                o->latency_ns = nf_ms_to_ns(fx->delay_ms);
                o->jitter_ns = nf_ms_to_ns(fx->jitter_ms);
                o->delay_corr = nf_percent_to_u32(fx->delay_corr);
                o->dist = fx->has_dist ? fx->dist : NF_DIST_UNIFORM;
        }
        if (fx->has_loss) {
                o->loss = nf_percent_to_u32(fx->loss_pct);
                o->loss_corr = nf_percent_to_u32(fx->loss_corr);
        }
        if (fx->has_duplicate) {
                o->duplicate = nf_percent_to_u32(fx->dup_pct);
                o->dup_corr = nf_percent_to_u32(fx->dup_corr);
        }
        if (fx->has_corrupt) {
                o->corrupt_prob = nf_percent_to_u32(fx->corrupt_pct);
                o->corrupt_corr = nf_percent_to_u32(fx->corrupt_corr);
        }
        if (fx->has_reorder) {
                o->reorder_prob = nf_percent_to_u32(fx->reorder_pct);
                o->reorder_corr = nf_percent_to_u32(fx->reorder_corr);
                o->gap = fx->reorder_gap;
        }
        if (fx->has_rate)
                o->rate_bytes = fx->rate_kbit * 1000 / 8;
}
