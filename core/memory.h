/* How much memory the daemon holds: live heap bytes (exact, from the allocator: glibc's, or
 * AddressSanitizer's in the test build) and resident set size. A leak shows in the first;
 * the second also moves with fragmentation. Reported by GET /healthz. */
#pragma once
#include "core/layer.h"

#include <stdint.h>

uint64_t nf_heap_bytes(void);
uint64_t nf_rss_kb(void);
