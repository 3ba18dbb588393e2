/* The one boundary where API units (ms, percent, kbit) become kernel units (ns, fractions of
 * UINT32_MAX, bytes per second): these conversions, which each effect's entry in effects.c applies
 * to its own fields. Nothing else converts units. */
#pragma once
#include <stdint.h>

#include "netem/spec.h"

/* netem parameters in kernel units, exactly what goes into TCA_OPTIONS. */
struct nf_netem_params {
        uint32_t limit;
        int64_t latency_ns, jitter_ns;
        uint32_t loss, gap, duplicate;
        uint32_t delay_corr, loss_corr, dup_corr;
        uint32_t reorder_prob, reorder_corr;
        uint32_t corrupt_prob, corrupt_corr;
        uint64_t rate_bytes; /* 0: no rate limit */
        enum nf_dist dist;   /* NF_DIST_UNIFORM: no table is sent */
};

/* Default netem queue when the user gives none: the kernel's own default of 1000 packets.
 * A long delay at a high packet rate overflows it and turns delay into loss; `limit` in the API
 * raises it (the README says so). */
#define NF_NETEM_DEFAULT_LIMIT 1000u

uint32_t nf_percent_to_u32(double pct);
int64_t nf_ms_to_ns(double ms);
/* psched ticks as the 32-bit tc_netem_qopt fields want them (64 ns each), saturated. */
uint32_t nf_ns_to_ticks(int64_t ns);
