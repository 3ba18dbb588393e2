/* The sweep: finds every tc object and link in this network namespace that carries our marks
 * and removes it, without any memory of what we created. It is the last line of "never leave a
 * fault behind": start-up reconciliation and the guardian both run it.
 * Marks: ifb links named nf* whose alias starts with "netfaultd:", filters at our priority range
 * on any clsact hook, and clsact qdiscs that the journal says we created (only when empty). */
#pragma once
#include <stddef.h>

#include "netem/apply.h"

struct nf_sweep_report {
        size_t links, filter_prios, qdiscs, errors;
};

/* log(event, message) is called once per removal. */
typedef void (*nf_sweep_log_fn)(const char *event, const char *message);

int nf_sweep(struct nf_applier *a, const int *clsact_created, size_t n_clsact, nf_sweep_log_fn log,
             struct nf_sweep_report *rep);
