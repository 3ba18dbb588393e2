#include "core/create.h"

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/clock.h"
#include "core/guard.h"
#include "core/log.h"
#include "core/names.h"
#include "core/registry.h"

/* What a busy refusal asks to wait: the resolver's per-query timeout (resolver.c), by which the
 * waiting lookups have answered or moved on to their second attempt. */
#define NF_DNS_BUSY_RETRY_S 2

struct nf_create {
        struct nf_registry *reg;
        struct nf_spec spec;
        struct nf_fault_init init;
        bool dry_run;
        bool counted;           /* in reg->n_pending_creates */
        nf_create_done_fn done; /* NULL once cancelled */
        void *arg;
        bool *finished; /* while nf_create_start runs: the lookup may complete inside it */
};

/* Creates the fault (unless why says why not), tells the requester, frees c. */
static void finish(struct nf_create *c, const struct nf_err *why) {
        struct nf_registry *r = c->reg;
        struct nf_fault *f = NULL;
        struct nf_err e;
        bool last = c->counted && --r->n_pending_creates == 0;

        if (c->finished)
                *c->finished = true;
        /* A client that left while its names resolved gets no fault: nobody would know its id. */
        if (!c->done) {
                nf_log(NF_LOG_INFO, "fault.abandoned",
                       "the client left (or netfaultd is stopping) before its hostnames resolved; nothing created");
        } else {
                if (!why) {
                        f = nf_registry_create(r, &c->spec, &c->init, c->dry_run, &e);
                        why = f ? NULL : &e;
                }
                if (f && c->dry_run) {
                        /* Validated, resolved and planned; nothing was changed. The times are those
                         * the fault would have if it were created now. */
                        int64_t now = nf_now_realtime_ms();
                        f->created_ms = now;
                        f->expires_ms = now + (int64_t)f->spec.duration_s * 1000;
                        if (f->spec.lease_s)
                                f->lease_expires_ms = now + (int64_t)f->spec.lease_s * 1000;
                }
                c->done(c->arg, f, why);
                if (c->dry_run)
                        nf_fault_free(f);
        }
        nf_spec_free(&c->spec);
        nf_fault_init_free(&c->init);
        free(c);
        if (last)
                malloc_trim(0); /* give back what a burst of large waiting requests took */
}

static void on_resolved(struct nf_lookup *l, void *arg) {
        struct nf_create *c = arg;
        struct nf_err e;
        int rc = nf_names_take_lookup(&c->spec, l, &c->init, &e);
        nf_lookup_free(l);
        finish(c, rc < 0 ? &e : NULL);
}

/* Looks names up and calls done with the answers; false when c was finished instead (no
 * resolver, too many waiting, no memory). */
static bool look_up(struct nf_create *c, const char (*names)[NF_TARGET_NAME_LEN], size_t n, const char *field,
                    nf_lookup_done_fn done) {
        struct nf_registry *r = c->reg;
        struct nf_err e;
        if (!r->resolver) {
                nf_fail(&e, NF_ERR_UNAVAILABLE, "no_resolver", field, "hostnames cannot be resolved here (no resolver)");
                finish(c, &e);
                return false;
        }
        /* Each waiting creation holds its parsed targets and the answers: bound how many wait. */
        if (!c->counted && r->n_pending_creates >= NF_MAX_PENDING_CREATES) {
                nf_fail(&e, NF_ERR_UNAVAILABLE, "dns_busy", field,
                        "%zu requests are already waiting for DNS answers (at most %d at once); retry later",
                        r->n_pending_creates, NF_MAX_PENDING_CREATES);
                e.retry_after_s = NF_DNS_BUSY_RETRY_S;
                finish(c, &e);
                return false;
        }
        if (!c->counted) {
                c->counted = true;
                r->n_pending_creates++;
        }
        if (!nf_lookup_start(r->resolver, names, n, done, c)) {
                nf_fail(&e, NF_ERR_INTERNAL, "internal", NULL, "out of memory");
                finish(c, &e);
                return false;
        }
        return true;
}

/* The targets' hostnames, then the fault. */
static void targets_stage(struct nf_create *c) {
        char names[NF_MAX_TARGET_NAMES][NF_TARGET_NAME_LEN];
        size_t n = nf_spec_hostnames(&c->spec, names);
        if (n == 0)
                finish(c, NULL);
        else
                look_up(c, (const char(*)[NF_TARGET_NAME_LEN])names, n, "targets", on_resolved);
}

/* A guard that names a host nobody can resolve could never pass: the fault is refused before
 * anything is applied. The probes resolve their hosts again each round. */
static void on_guard_resolved(struct nf_lookup *l, void *arg) {
        struct nf_create *c = arg;
        const struct nf_guard_spec *g = c->spec.guard;
        struct nf_err e;
        for (size_t i = 0; i < l->n; i++) {
                if (l->res[i].n_addrs)
                        continue;
                char field[64] = "guard.probes";
                for (size_t k = 0; k < g->n_probes; k++) {
                        const struct nf_probe_spec *p = &g->probes[k];
                        bool tcp = p->kind == NF_PROBE_TCP;
                        if (strcmp(tcp ? p->address : p->url.host, l->res[i].name) == 0) {
                                snprintf(field, sizeof(field), "guard.probes[%zu].%s.%s", k, nf_probe_kind_name(p->kind),
                                         tcp ? "address" : "url");
                                break;
                        }
                }
                nf_fail(&e, NF_ERR_UNSATISFIABLE, "unresolved_probe_host", field,
                        "%s: host '%s' resolved to no address (%s); a guard that cannot probe is refused", field, l->res[i].name,
                        l->res[i].err ? nf_resolver_strerror(l->res[i].err) : "no A or AAAA record");
                nf_lookup_free(l);
                finish(c, &e);
                return;
        }
        nf_lookup_free(l);
        if (!c->done) {
                finish(c, NULL); /* abandoned: finish says so */
                return;
        }
        targets_stage(c);
}

struct nf_create *nf_create_start(struct nf_registry *r, struct nf_spec *spec, bool dry_run, nf_create_done_fn done,
                                  void *arg) {
        char names[NF_GUARD_MAX_PROBES][NF_TARGET_NAME_LEN];
        struct nf_err e;
        bool finished = false;
        struct nf_create *c = calloc(1, sizeof(*c));
        size_t n;

        if (!c) {
                nf_spec_free(spec);
                nf_fail(&e, NF_ERR_INTERNAL, "internal", NULL, "out of memory");
                done(arg, NULL, &e);
                return NULL;
        }
        *c = (struct nf_create){.reg = r, .spec = *spec, .dry_run = dry_run, .done = done, .arg = arg};
        *spec = (struct nf_spec){0};
        if (nf_names_expand_aws(r->aws, &c->spec, &c->init, &e) < 0) {
                finish(c, &e);
                return NULL;
        }
        /* finish() and the lookups may complete inside this call: then there is nothing to
         * return (c is gone). */
        c->finished = &finished;
        n = c->spec.guard ? nf_guard_hostnames(c->spec.guard, names, NF_GUARD_MAX_PROBES) : 0;
        if (n)
                look_up(c, (const char(*)[NF_TARGET_NAME_LEN])names, n, "guard", on_guard_resolved);
        else
                targets_stage(c);
        if (finished)
                return NULL;
        c->finished = NULL;
        return c;
}

void nf_create_cancel(struct nf_create *c) {
        if (!c)
                return;
        c->done = NULL;
        c->arg = NULL;
}
