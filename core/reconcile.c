#include "core/reconcile.h"

#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/pods.h"
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

/* The namespace of a record, opened, or -1 (logged) when it is gone or is another now. */
static int reopen_netns(const struct nf_journal_netns *rec) {
        struct nf_netns_id want = {.dev = (dev_t)rec->dev, .ino = (ino_t)rec->ino}, id;
        int fd = open(rec->reopen, O_RDONLY | O_CLOEXEC);
        if (fd >= 0 && nf_netns_id_of(fd, &id) == 0 && nf_netns_id_equal(&id, &want))
                return fd;
        if (fd >= 0)
                close(fd);
        /* The process it was opened from is gone; its pod may live on in another. */
        if (rec->pod_uid[0] && rec->proc_root[0]) {
                struct nf_netns_sel sel = {.kind = NF_NETNS_POD};
                struct nf_netns_found found;
                struct nf_err e;
                snprintf(sel.name, sizeof(sel.name), "%s", rec->pod_uid);
                if (nf_netns_find(rec->proc_root, &sel, NULL, &found, &e) == 0) {
                        if (nf_netns_id_equal(&found.id, &want))
                                return found.fd;
                        close(found.fd);
                }
        }
        nf_log(NF_LOG_INFO, "netns.sweep_skipped",
               "namespace %llu (%s%s%s) is gone or its file names another namespace now: not touched",
               (unsigned long long)rec->ino, rec->reopen, rec->pod_uid[0] ? ", pod " : "", rec->pod_uid);
        return -1;
}

size_t nf_sweep_journaled_netns(struct nf_journal *j, nf_sweep_log_fn log, struct nf_sweep_report *total) {
        struct nf_journal_netns *recs = NULL;
        size_t n = 0, corrupt = 0, swept = 0;
        if (!j || j->dfd < 0 || nf_journal_load_netns(j, &recs, &n, &corrupt) < 0)
                return 0;
        for (size_t i = 0; i < n; i++) {
                struct nf_applier a;
                struct nf_sweep_report rep = {0};
                int fd = reopen_netns(&recs[i]), rc;
                if (fd < 0)
                        continue;
                rc = nf_applier_open_in(&a, fd);
                close(fd);
                if (rc < 0) {
                        nf_log(NF_LOG_ERROR, "netns.sweep_failed", "namespace %llu: cannot enter it: %s",
                               (unsigned long long)recs[i].ino, strerror(-rc));
                        continue;
                }
                rc = nf_sweep(&a, recs[i].clsact, recs[i].n_clsact, log, &rep);
                nf_applier_close(&a);
                nf_log(rc < 0 ? NF_LOG_ERROR : NF_LOG_INFO, "netns.swept",
                       "namespace %llu%s%s: removed %zu filter priorities, %zu links, %zu qdiscs (%zu errors)",
                       (unsigned long long)recs[i].ino, recs[i].pod_uid[0] ? " of pod " : "", recs[i].pod_uid,
                       rep.filter_prios, rep.links, rep.qdiscs, rep.errors);
                total->filter_prios += rep.filter_prios;
                total->links += rep.links;
                total->qdiscs += rep.qdiscs;
                total->errors += rep.errors;
                swept++;
        }
        free(recs);
        return swept;
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
        /* And inside every pod the journal names, before the API answers. */
        nf_sweep_journaled_netns(r->journal, log_removal, &rep);
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
