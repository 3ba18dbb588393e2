/* Start-up reconciliation, before the API answers: whatever carries our marks in the namespace
 * is swept, journaled or not, and with --on-start=resume the journaled faults that have time
 * left come back, with their ids, slots and original expiry. */
#pragma once
#include "core/layer.h"

#include <stdbool.h>
#include <stdint.h>

#include "netem/sweep.h"

struct nf_registry;
struct nf_journal;

/* The sweep's result (-errno if it could not finish); a fault that cannot be resumed is logged
 * and left reverted. */
int nf_registry_reconcile(struct nf_registry *r, bool resume, uint32_t max_duration_s);

/* Every namespace the journal names besides our own (pods'), swept by our marks from inside it:
 * reopened from its record (the file, else its pod looked up again) and touched only when its
 * device and inode are still those recorded; a namespace that is gone, or whose file now names
 * another, is logged and left alone. Used at start-up and by the guardian (who, like the daemon in
 * --netns-mode, keeps CAP_SYS_ADMIN and CAP_SYS_PTRACE for it). Adds to *total; returns how many
 * namespaces were swept. Does not clear the journal. */
size_t nf_sweep_journaled_netns(struct nf_journal *j, nf_sweep_log_fn log, struct nf_sweep_report *total);
