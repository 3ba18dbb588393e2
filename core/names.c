#include "core/names.h"

#include <errno.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/log.h"
#include "core/record.h"
#include "core/registry.h"
#include "core/scope.h"

void nf_fault_init_free(struct nf_fault_init *init) {
        if (!init)
                return;
        free(init->learned);
        free(init->names);
        *init = (struct nf_fault_init){0};
}

size_t nf_spec_hostnames(const struct nf_spec *spec, char (*names)[NF_TARGET_NAME_LEN]) {
        size_t n = 0;
        for (size_t i = 0; i < spec->n_target_names; i++)
                if (strncmp(spec->target_names[i], "aws:", 4) != 0)
                        snprintf(names[n++], NF_TARGET_NAME_LEN, "%s", spec->target_names[i]);
        return n;
}

struct nf_fault_name *nf_fault_init_name(struct nf_fault_init *init, const char *name, bool aws) {
        struct nf_fault_name *v = realloc(init->names, (init->n_names + 1) * sizeof(*v));
        if (!v)
                return NULL;
        init->names = v;
        struct nf_fault_name *n = &v[init->n_names++];
        *n = (struct nf_fault_name){.aws = aws, .resolved_ms = nf_now_realtime_ms()};
        snprintf(n->name, sizeof(n->name), "%s", name);
        return n;
}

int nf_fault_init_learn(struct nf_fault_init *init, const struct nf_prefix *p, size_t n) {
        struct nf_prefix *v = realloc(init->learned, (init->n_learned + n + 1) * sizeof(*v));
        if (!v)
                return -ENOMEM;
        init->learned = v;
        if (n)
                memcpy(v + init->n_learned, p, n * sizeof(*p));
        init->n_learned += n;
        return 0;
}

static const char *target_field(const struct nf_spec *spec, const char *name, char *buf, size_t len) {
        /* Names follow the literal addresses in the normalised targets list. */
        for (size_t i = 0; i < spec->n_target_names; i++)
                if (strcmp(spec->target_names[i], name) == 0) {
                        snprintf(buf, len, "targets[%zu]", spec->n_targets + i);
                        return buf;
                }
        return "targets";
}

int nf_names_expand_aws(const struct nf_aws_ranges *aws, const struct nf_spec *spec, struct nf_fault_init *init,
                        struct nf_err *e) {
        static const struct nf_aws_ranges none = {0};
        for (size_t i = 0; i < spec->n_target_names; i++) {
                const char *t = spec->target_names[i];
                char field[48];
                struct nf_prefix *sel = NULL;
                size_t n = 0;
                if (strncmp(t, "aws:", 4) != 0)
                        continue;
                if (nf_aws_ranges_select(aws ? aws : &none, t + 4, target_field(spec, t, field, sizeof(field)), &sel, &n,
                                         e) < 0) {
                        free(sel);
                        return -1;
                }
                struct nf_fault_name *fn = nf_fault_init_name(init, t, true);
                if (!fn || nf_fault_init_learn(init, sel, n) < 0) {
                        free(sel);
                        return nf_fail(e, NF_ERR_INTERNAL, "internal", NULL, "out of memory");
                }
                fn->n_addrs = n < NF_MAX_NAME_ADDRS ? n : NF_MAX_NAME_ADDRS; /* shown: the first ones */
                memcpy(fn->addrs, sel, fn->n_addrs * sizeof(*sel));
                free(sel);
        }
        return 0;
}

int nf_names_take_lookup(const struct nf_spec *spec, const struct nf_lookup *l, struct nf_fault_init *init,
                         struct nf_err *e) {
        for (size_t i = 0; i < l->n; i++) {
                const struct nf_name_result *res = &l->res[i];
                char field[48];
                if (res->n_addrs == 0)
                        return nf_fail(e, NF_ERR_UNSATISFIABLE, "unresolved_target", target_field(spec, res->name, field, sizeof(field)),
                                       "%s: '%s' resolved to no address (%s); the fault is refused rather than widened",
                                       field, res->name, res->err ? nf_resolver_strerror(res->err) : "no A or AAAA record");
                struct nf_fault_name *fn = nf_fault_init_name(init, res->name, false);
                if (!fn || nf_fault_init_learn(init, res->addrs, res->n_addrs) < 0)
                        return nf_fail(e, NF_ERR_INTERNAL, "internal", NULL, "out of memory");
                fn->n_addrs = res->n_addrs;
                memcpy(fn->addrs, res->addrs, res->n_addrs * sizeof(*res->addrs));
                if (init->ttl_s == 0 || res->ttl_s < init->ttl_s)
                        init->ttl_s = res->ttl_s;
        }
        return 0;
}

/* Of the fresh prefixes, keeps (in place) those no other fault covers; returns how many. The
 * others are skipped (and logged), never forced. */
static size_t without_conflicts(struct nf_registry *r, const struct nf_fault *f, struct nf_prefix *fresh, size_t n) {
        struct nf_active_scope others[NF_MAX_SLOTS];
        size_t n_others = nf_registry_active_scopes(r, f->ns, f, others), kept = 0;
        char buf[NF_PREFIX_STRLEN];
        for (size_t i = 0; i < n; i++) {
                struct nf_fault_scope a = {&f->spec, &fresh[i], 1, f->ifaces, f->n_ifaces, &f->ns->id};
                long o = nf_scope_overlapping(&a, others, n_others, NULL, 0);
                if (o >= 0)
                        nf_log(NF_LOG_WARN, "fault.address_skipped", "%s: new address %s overlaps fault %s", f->id,
                               nf_prefix_format(&fresh[i], buf, sizeof(buf)), others[o].id);
                else
                        fresh[kept++] = fresh[i];
        }
        return kept;
}

/* Adds addresses a name newly resolved to, to a live fault, without touching what it matches
 * already. */
static void extend_fault(struct nf_registry *r, struct nf_fault *f, const struct nf_prefix *add, size_t n_add) {
        struct nf_prefix *ex = NULL, *cand = NULL, *fresh = NULL, *merged = NULL;
        size_t n_ex = 0, n_cand = 0, n_fresh = 0, first, kept = 0;
        struct nf_scope_input in;
        struct nf_apply_error ae;
        struct nf_err e;
        char buf[NF_PREFIX_STRLEN];

        nf_registry_scope_input(r, f, &in);
        if (nf_scope_exclusions(&in, &ex, &n_ex) < 0)
                return;
        struct nf_prefix *norm = calloc(n_add + 1, sizeof(*norm));
        if (!norm)
                goto out;
        memcpy(norm, add, n_add * sizeof(*add));
        nf_prefix_set_normalize(norm, &n_add);
        struct nf_spec tmp = {.targets = norm, .n_targets = n_add, .exclude = ex, .n_exclude = n_ex};
        int rc = nf_spec_effective(&tmp, NF_MAX_FILTERS_PER_FAULT, &cand, &n_cand);
        free(norm);
        if (rc < 0)
                goto out;
        tmp = (struct nf_spec){.targets = cand, .n_targets = n_cand, .exclude = f->eff, .n_exclude = f->n_eff};
        if (nf_spec_effective(&tmp, NF_MAX_FILTERS_PER_FAULT, &fresh, &n_fresh) < 0 || n_fresh == 0)
                goto out;
        kept = without_conflicts(r, f, fresh, n_fresh);
        if (kept == 0 || nf_scope_filters_fit(f->ns->n_filters, kept * f->plan.n_links, r->lim.max_filters, &e) < 0)
                goto out;
        if (nf_plan_extend(&f->plan, &f->spec, fresh, kept, &first) < 0)
                goto out;
        size_t added = f->plan.n_keys - first;
        /* The journal first, as for a new fault: filters the record does not list are never
         * added (the plan's extra keys are never applied; reverting tolerates missing objects). */
        if (nf_record_put(r->journal, f, "active") < 0) {
                nf_log(NF_LOG_WARN, "fault.extend_failed", "%s: new addresses not applied: the journal cannot be written",
                       f->id);
                goto out;
        }
        if (nf_apply_extend(&f->ns->applier, &f->plan, first, &ae) < 0) {
                nf_log(NF_LOG_WARN, "fault.extend_failed", "%s: %s%s%s", f->id, ae.message, ae.extack[0] ? ": " : "", ae.extack);
                goto out;
        }
        merged = realloc(f->eff, (f->n_eff + kept) * sizeof(*merged));
        if (merged) {
                memcpy(merged + f->n_eff, fresh, kept * sizeof(*fresh));
                f->eff = merged;
                f->n_eff += kept;
                nf_prefix_set_normalize(f->eff, &f->n_eff);
        }
        nf_registry_count(r, f->ns, 0, (long)(added * f->plan.n_links));
        for (size_t i = 0; i < kept; i++)
                nf_log(NF_LOG_INFO, "fault.address_added", "%s now also matches %s", f->id,
                       nf_prefix_format(&fresh[i], buf, sizeof(buf)));
out:
        free(ex);
        free(cand);
        free(fresh);
}

static void on_reresolved(struct nf_lookup *l, void *arg) {
        struct nf_fault *f = arg;
        uint32_t ttl = UINT32_MAX;
        if (!f) { /* the fault went away meanwhile */
                nf_lookup_free(l);
                return;
        }
        struct nf_registry *r = f->reg;
        f->lookup = NULL;
        f->resolving = false;
        for (size_t i = 0; i < l->n; i++) {
                const struct nf_name_result *res = &l->res[i];
                struct nf_fault_name *fn = NULL;
                for (size_t k = 0; k < f->n_names; k++)
                        if (!f->names[k].aws && strcmp(f->names[k].name, res->name) == 0)
                                fn = &f->names[k];
                if (!fn)
                        continue;
                fn->err = res->err;
                if (res->n_addrs == 0) {
                        /* Keep what we know: a resolver outage must not shrink (or widen) the fault. */
                        nf_log(NF_LOG_WARN, "dns.failed", "%s: %s resolved to nothing (%s); keeping %zu address(es)", f->id,
                               res->name, res->err ? nf_resolver_strerror(res->err) : "no record", fn->n_addrs);
                        nf_registry_event(r, f, NF_FAULT_RESOLVED, res->name, 0, "failed");
                        continue;
                }
                fn->resolved_ms = nf_now_realtime_ms();
                if (res->ttl_s < ttl)
                        ttl = res->ttl_s;
                for (size_t k = 0; k < res->n_addrs; k++) {
                        bool known = false;
                        for (size_t j = 0; j < fn->n_addrs && !known; j++)
                                known = nf_prefix_contains(&fn->addrs[j], &res->addrs[k]);
                        if (!known && fn->n_addrs < NF_MAX_NAME_ADDRS)
                                fn->addrs[fn->n_addrs++] = res->addrs[k];
                }
                size_t before = f->n_eff;
                extend_fault(r, f, res->addrs, res->n_addrs);
                nf_registry_event(r, f, NF_FAULT_RESOLVED, res->name, 0, f->n_eff != before ? "changed" : "unchanged");
        }
        nf_lookup_free(l);
        nf_names_schedule(r, f, ttl);
}

static void on_dns_timer(evutil_socket_t fd, short what, void *arg) {
        struct nf_fault *f = arg;
        char names[NF_MAX_TARGET_NAMES][NF_TARGET_NAME_LEN];
        (void)fd;
        (void)what;
        size_t n = nf_spec_hostnames(&f->spec, names);
        if (n == 0 || f->lookup || !f->reg->resolver)
                return;
        f->resolving = true;
        struct nf_lookup *l =
                nf_lookup_start(f->reg->resolver, (const char(*)[NF_TARGET_NAME_LEN])names, n, on_reresolved, f);
        if (!l) { /* no memory: try again at the next interval rather than never */
                f->resolving = false;
                nf_names_schedule(f->reg, f, 0);
                return;
        }
        /* An answer can complete the lookup inside nf_lookup_start (a cached name, a query that
         * fails at once): on_reresolved has then run and freed it, and must not be kept. */
        f->lookup = f->resolving ? l : NULL;
}

void nf_names_schedule(struct nf_registry *r, struct nf_fault *f, uint32_t ttl_s) {
        if (!r->resolver || f->n_names == 0)
                return;
        char names[NF_MAX_TARGET_NAMES][NF_TARGET_NAME_LEN];
        if (nf_spec_hostnames(&f->spec, names) == 0)
                return;
        uint32_t s = nf_resolver_next_s(r->resolver, ttl_s);
        f->next_resolve_ms = nf_now_realtime_ms() + (int64_t)s * 1000;
        nf_registry_arm(r, &f->dns_timer, on_dns_timer, f, (int64_t)s * 1000);
}
