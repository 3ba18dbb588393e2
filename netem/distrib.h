/* netem delay distribution tables (TCA_NETEM_DELAY_DIST), computed here the way iproute2's
 * netem/{normal,pareto,paretonormal}.c generate the .dist files tc reads, so the daemon needs no
 * file from iproute2. tests/unit/test-distrib.c compares them with the files Debian ships. */
#pragma once
#include <stddef.h>
#include <stdint.h>

#include "netem/spec.h"

#define NF_DIST_TABLE_LEN 4096

/* Returns a static table of NF_DIST_TABLE_LEN entries, or NULL for uniform (no table). */
const int16_t *nf_dist_table(enum nf_dist d);
