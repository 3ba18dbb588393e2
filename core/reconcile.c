#include "core/reconcile.h"

#include <stdio.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/record.h"
#include "core/registry.h"
#include "core/spec_json.h"
#include "netem/sweep.h"

static void log_removal(const char *event, const char *message) {
        nf_log(NF_LOG_INFO, event, "%s", message);
}

static void resume_one(struct nf_registry *r, const struct nf_journal_entry *je, uint32_t max_duration_s) {
        struct nf_validate_limits lim = {.max_duration_s = max_duration_s, .default_duration_s = 1};
        int64_t now = nf_now_realtime_ms();
        struct nf_spec spec;
        struct nf_err e;

        if (je->expires_ms <= now) {
                nf_log(NF_LOG_INFO, "reconcile.expired", "%s expired while netfaultd was down; not resumed", je->id);
                return;
        }
        if (nf_validate_fault(je->spec, &lim, &spec, &e) < 0) {
                nf_log(NF_LOG_WARN, "reconcile.invalid", "%s cannot be resumed: %s", je->id, e.message);
                return;
        }
        struct nf_fault_init init = {0};
        e = (struct nf_err){0};
        if (nf_names_expand_aws(r->aws, &spec, &init, &e) < 0 || nf_record_read_names(je, &init) < 0) {
                /* nf_record_read_names() fails only on allocation and says nothing itself. */
                if (!e.message[0])
                        snprintf(e.message, sizeof(e.message), "out of memory");
                nf_log(NF_LOG_WARN, "reconcile.invalid", "%s cannot be resumed: %s", je->id, e.message);
                nf_spec_free(&spec);
                nf_fault_init_free(&init);
                return;
        }
        struct nf_fault *f = nf_registry_prepare(r, &spec, &init, je->id, (int)je->slot, false, &e);
        if (!f || nf_registry_commit(r, f, je->created_ms, je->expires_ms, &e) < 0) {
                nf_log(NF_LOG_WARN, "reconcile.resume_failed", "%s: %s", je->id, e.message);
                nf_fault_free(f);
                return;
        }
        nf_log(NF_LOG_INFO, "reconcile.resumed", "%s resumed with %lld ms left", je->id, (long long)(je->expires_ms - now));
}

int nf_registry_reconcile(struct nf_registry *r, bool resume, uint32_t max_duration_s) {
        struct nf_journal_entry *entries = NULL;
        size_t n = 0, corrupt = 0, n_clsact = 0;
        int clsact[NF_MAX_HOOK_IFACES];
        struct nf_sweep_report rep;

        if (r->journal) {
                nf_journal_load(r->journal, &entries, &n, &corrupt);
                nf_journal_load_clsact(r->journal, clsact, NF_MAX_HOOK_IFACES, &n_clsact);
        }
        /* Always start from a clean namespace: whatever carries our marks goes, journaled or not. */
        int rc = nf_sweep(&nf_registry_own(r)->applier, clsact, n_clsact, log_removal, &rep);
        nf_log(rc < 0 ? NF_LOG_ERROR : NF_LOG_INFO, "reconcile.swept",
               "%zu journaled fault(s)%s, removed %zu filter priorities, %zu links, %zu qdiscs (%zu errors)", n,
               corrupt ? " and corrupt records" : "", rep.filter_prios, rep.links, rep.qdiscs, rep.errors);
        if (r->journal) {
                nf_journal_clear(r->journal);
                nf_journal_put_clsact(r->journal, NULL, 0);
        }
        for (size_t i = 0; resume && i < n; i++)
                resume_one(r, &entries[i], max_duration_s);
        if (!resume)
                for (size_t i = 0; i < n; i++)
                        nf_log(NF_LOG_INFO, "reconcile.reverted", "%s reverted (--on-start=revert)", entries[i].id);
        nf_journal_entries_free(entries, n);
        return rc;
}
