/* Start-up reconciliation, before the API answers: whatever carries our marks in the namespace
 * is swept, journaled or not, and with --on-start=resume the journaled faults that have time
 * left come back, with their ids, slots and original expiry. */
#pragma once
#include "core/layer.h"

#include <stdbool.h>
#include <stdint.h>

struct nf_registry;

/* The sweep's result (-errno if it could not finish); a fault that cannot be resumed is logged
 * and left reverted. */
int nf_registry_reconcile(struct nf_registry *r, bool resume, uint32_t max_duration_s);
