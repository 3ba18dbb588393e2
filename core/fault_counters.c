/* The kernel's counters of faults (GET /v1/faults/{id}, /metrics), read through each fault's
 * namespace's applier: apart from registry.c, which creates and reverts faults. */
#include <errno.h>
#include <stdbool.h>
#include <stdlib.h>

#include "core/registry.h"

int nf_registry_counters(struct nf_registry *r, const struct nf_fault *f, struct nf_counters *out) {
        (void)r;
        return nf_fault_counters(&f->ns->applier, &f->plan, out);
}

int nf_registry_counters_many(struct nf_registry *r, const struct nf_fault *const *faults, size_t n,
                              struct nf_counters *out) {
        const struct nf_plan **plans = calloc(n + 1, sizeof(*plans));
        struct nf_counters *c = calloc(n + 1, sizeof(*c));
        size_t *at = calloc(n + 1, sizeof(*at));
        bool *done = calloc(n + 1, sizeof(*done));
        int rc = 0;
        (void)r;
        if (!plans || !c || !at || !done) {
                rc = -ENOMEM;
                goto out;
        }
        /* Namespace by namespace: each has its own applier (and sockets). */
        for (size_t i = 0; i < n; i++) {
                size_t m = 0;
                if (done[i])
                        continue;
                for (size_t j = i; j < n; j++)
                        if (!done[j] && faults[j]->ns == faults[i]->ns) {
                                plans[m] = &faults[j]->plan;
                                at[m++] = j;
                                done[j] = true;
                        }
                if ((rc = nf_fault_counters_many(&faults[i]->ns->applier, plans, m, c)) < 0)
                        goto out;
                for (size_t k = 0; k < m; k++)
                        out[at[k]] = c[k];
        }
out:
        free(plans);
        free(c);
        free(at);
        free(done);
        return rc;
}
