#include "daemon/registry.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "api/fault_json.h"
#include "api/validate.h"
#include "daemon/clock.h"
#include "daemon/log.h"
#include "netem/sweep.h"

int nf_registry_init(struct nf_registry *r, struct event_base *base, const struct nf_registry_limits *lim,
                     struct nf_journal *journal, uint16_t api_port) {
        int rc;
        *r = (struct nf_registry){.base = base, .lim = *lim, .journal = journal, .api_port = api_port};
        rc = nf_applier_open(&r->applier);
        if (rc < 0)
                return rc;
        r->applier.guard_port = api_port;
        nf_caps_probe(&r->applier.nl, &r->caps);
        return 0;
}

void nf_registry_fini(struct nf_registry *r) {
        nf_registry_delete_all(r, "shutdown");
        nf_applier_close(&r->applier);
}

static void make_id(char *id) {
        uint8_t b[6];
        if (getrandom(b, sizeof(b), 0) != (ssize_t)sizeof(b)) {
                uint64_t t = (uint64_t)nf_now_monotonic_ms() ^ (uint64_t)random();
                memcpy(b, &t, sizeof(b));
        }
        snprintf(id, NF_ID_LEN, "f-%02x%02x%02x%02x%02x%02x", b[0], b[1], b[2], b[3], b[4], b[5]);
}

void nf_fault_free(struct nf_fault *f) {
        if (!f)
                return;
        if (f->timer)
                event_free(f->timer);
        if (f->lease_timer)
                event_free(f->lease_timer);
        nf_plan_free(&f->plan);
        free(f->eff);
        nf_spec_free(&f->spec);
        free(f);
}

/* ---- journal ---- */

static void journal_clsact(struct nf_registry *r) {
        int v[NF_MAX_HOOK_IFACES];
        size_t n = 0;
        if (!r->journal)
                return;
        for (size_t i = 0; i < r->applier.n_uses; i++)
                if (r->applier.uses[i].created_clsact)
                        v[n++] = r->applier.uses[i].ifindex;
        nf_journal_put_clsact(r->journal, v, n);
}

static int journal_fault(struct nf_registry *r, const struct nf_fault *f, const char *state) {
        if (!r->journal)
                return 0;
        cJSON *spec = nf_spec_to_json(&f->spec, true), *objects = nf_plan_to_json(&f->plan, false);
        int rc = nf_journal_put(r->journal, f->id, state, f->slot, f->created_ms, f->expires_ms, spec, objects);
        cJSON_Delete(spec);
        cJSON_Delete(objects);
        if (rc < 0)
                nf_log(NF_LOG_ERROR, "journal.write_failed", "%s: %s", f->id, strerror(-rc));
        return rc;
}

/* ---- timers ---- */

static void on_expiry(evutil_socket_t fd, short what, void *arg) {
        struct nf_fault *f = arg;
        (void)fd;
        (void)what;
        nf_registry_delete(f->reg, f, "expired");
}

static void on_lease(evutil_socket_t fd, short what, void *arg) {
        struct nf_fault *f = arg;
        (void)fd;
        (void)what;
        nf_registry_delete(f->reg, f, "lease not renewed");
}

static int arm(struct event **ev, struct event_base *base, event_callback_fn cb, void *arg, int64_t in_ms) {
        struct timeval tv = {.tv_sec = in_ms / 1000, .tv_usec = (in_ms % 1000) * 1000};
        if (!*ev)
                *ev = evtimer_new(base, cb, arg);
        if (in_ms < 0)
                tv = (struct timeval){0};
        return *ev && evtimer_add(*ev, &tv) == 0 ? 0 : -ENOMEM;
}

/* ---- creation ---- */

static int resolve_interfaces(struct nf_registry *r, struct nf_fault *f, struct nf_err *e) {
        if (f->spec.n_ifnames == 0) {
                int rc = nf_world_default_ifaces(&r->applier.world, f->ifaces, NF_MAX_IFACES, &f->n_ifaces);
                if (rc < 0)
                        return nf_fail(e, 500, "kernel_error", "interfaces", "cannot read the routing table: %s",
                                       strerror(-rc));
                if (f->n_ifaces == 0)
                        return nf_fail(e, 422, "no_default_route", "interfaces",
                                       "interfaces: none given and no interface carries a default route here; name "
                                       "the interfaces");
                return 0;
        }
        for (size_t i = 0; i < f->spec.n_ifnames; i++) {
                int rc = nf_world_iface_by_name(&r->applier.world, f->spec.ifnames[i], &f->ifaces[i]);
                if (rc < 0) {
                        char field[48];
                        snprintf(field, sizeof(field), "interfaces[%zu]", i);
                        return nf_fail(e, 400, "unknown_interface", field, "%s: '%s' does not exist in this network namespace",
                                       field, f->spec.ifnames[i]);
                }
        }
        f->n_ifaces = f->spec.n_ifnames;
        return 0;
}

/* targets - (exclude + protected addresses), remembering which protected addresses mattered. */
static int effective_set(struct nf_fault *f, struct nf_err *e) {
        static const char *const protected[] = NF_PROTECTED_ADDRESSES;
        struct nf_spec s = f->spec;
        struct nf_prefix *ex = NULL;
        size_t n_ex = s.n_exclude;
        int rc;

        if (!s.allow_control_plane) {
                ex = calloc(s.n_exclude + NF_N_PROTECTED, sizeof(*ex));
                if (!ex)
                        return nf_fail(e, 500, "internal", NULL, "out of memory");
                if (s.n_exclude)
                        memcpy(ex, s.exclude, s.n_exclude * sizeof(*ex));
                for (size_t i = 0; i < NF_N_PROTECTED; i++) {
                        struct nf_prefix p;
                        nf_prefix_parse(protected[i], &p);
                        for (size_t t = 0; t < s.n_targets; t++)
                                if (nf_prefix_overlaps(&p, &s.targets[t])) {
                                        f->protected_hit[f->n_protected_hit++] = p;
                                        break;
                                }
                        ex[n_ex++] = p;
                }
                nf_prefix_set_normalize(ex, &n_ex);
                s.exclude = ex;
                s.n_exclude = n_ex;
        }
        rc = nf_spec_effective(&s, NF_MAX_FILTERS_PER_FAULT, &f->eff, &f->n_eff);
        free(ex);
        if (rc == -E2BIG)
                return nf_fail(e, 400, "too_many_filters", "exclude", "targets minus exclude splits into more than %d prefixes",
                               NF_MAX_FILTERS_PER_FAULT);
        if (rc < 0)
                return nf_fail(e, 500, "internal", NULL, "out of memory");
        if (f->n_eff == 0)
                return nf_fail(e, 400, "empty_match", f->n_protected_hit ? "allow_control_plane" : "exclude",
                               f->n_protected_hit ? "the targets hold only protected control-plane addresses; set "
                                                    "\"allow_control_plane\": true to fault them"
                                                  : "exclude covers every target: the fault would match nothing");
        return 0;
}

static int check_conflicts(struct nf_registry *r, struct nf_fault *f, struct nf_err *e) {
        struct nf_fault_scope a = {&f->spec, f->eff, f->n_eff, f->ifaces, f->n_ifaces};
        for (struct nf_fault *o = r->faults; o; o = o->next) {
                struct nf_fault_scope b = {&o->spec, o->eff, o->n_eff, o->ifaces, o->n_ifaces};
                char why[256];
                if (nf_scopes_overlap(&a, &b, why, sizeof(why)))
                        return nf_fail(e, 409, "conflict", "targets", "overlaps active fault %s: %s", o->id, why);
        }
        return 0;
}

static int unavailable(const struct nf_caps *c, const struct nf_spec *s, struct nf_err *e) {
        char mods[160] = "", said[400] = "";
        int first = nf_caps_missing(c, s);
        /* Name every module the fault needs and lacks, so that one modprobe line fixes it. */
        for (int i = 0; i < NF_CAP_COUNT; i++) {
                if (c->state[i] != NF_CAP_NO || !nf_caps_needed(s, i))
                        continue;
                snprintf(mods + strlen(mods), sizeof(mods) - strlen(mods), "%s%s", mods[0] ? " " : "", nf_cap_module(i));
                snprintf(said + strlen(said), sizeof(said) - strlen(said), "%s%s %s: %s", said[0] ? "; " : "",
                         nf_cap_name(i), nf_cap_kind(i), c->detail[i]);
        }
        if (!mods[0])
                snprintf(mods, sizeof(mods), "%s", nf_cap_module(first));
        return nf_fail(e, 503, "kernel_unsupported", NULL,
                       "this kernel lacks what the fault needs (%s); load it on the host with 'modprobe %s' (EC2, ECS "
                       "and EKS kernels ship these modules; a container cannot load them itself)%s%s",
                       mods, mods, said[0] ? "; kernel said: " : "", said);
}

/* Everything up to the kernel: the fault is fully planned, nothing is changed. */
static struct nf_fault *prepare(struct nf_registry *r, struct nf_spec *spec, const char *id, int slot,
                                struct nf_err *e) {
        struct nf_fault *f = calloc(1, sizeof(*f));
        int rc;
        if (!f) {
                nf_spec_free(spec);
                nf_fail(e, 500, "internal", NULL, "out of memory");
                return NULL;
        }
        f->spec = *spec;
        *spec = (struct nf_spec){0};
        f->reg = r;

        if (nf_caps_missing(&r->caps, &f->spec) >= 0) {
                unavailable(&r->caps, &f->spec, e);
                goto fail;
        }
        if (r->n_faults >= r->lim.max_faults) {
                nf_fail(e, 429, "too_many_faults", NULL, "%zu faults are active, the limit (--max-faults) is %u",
                        r->n_faults, r->lim.max_faults);
                goto fail;
        }
        if (resolve_interfaces(r, f, e) < 0 || effective_set(f, e) < 0 || check_conflicts(r, f, e) < 0)
                goto fail;
        if (slot >= 0) {
                f->slot = (unsigned)slot;
                if (f->slot >= NF_MAX_SLOTS || r->slot_used[f->slot]) {
                        nf_fail(e, 500, "internal", NULL, "slot %d is not free", slot);
                        goto fail;
                }
        } else {
                for (f->slot = 0; f->slot < NF_MAX_SLOTS && r->slot_used[f->slot]; f->slot++)
                        ;
        }
        if (id)
                snprintf(f->id, sizeof(f->id), "%s", id);
        else
                make_id(f->id);
        rc = nf_plan_build(&f->spec, f->id, f->eff, f->n_eff, f->slot, f->ifaces, f->n_ifaces, &f->plan);
        if (rc == -E2BIG) {
                nf_fail(e, 400, "too_many_filters", "ports",
                        "targets x ports x local_ports needs more than %d filters; use fewer ports or wider CIDRs",
                        NF_MAX_FILTERS_PER_FAULT);
                goto fail;
        } else if (rc < 0) {
                nf_fail(e, 500, "internal", NULL, "planning failed: %s", strerror(-rc));
                goto fail;
        }
        size_t filters = f->plan.n_keys * f->plan.n_links;
        if (r->n_filters + filters > r->lim.max_filters) {
                nf_fail(e, 429, "too_many_filters", "targets",
                        "the fault needs %zu filters; %zu are installed and the limit (--max-filters) is %u", filters,
                        r->n_filters, r->lim.max_filters);
                goto fail;
        }
        return f;
fail:
        nf_fault_free(f);
        return NULL;
}

/* Applies a prepared fault and keeps it. */
static int commit(struct nf_registry *r, struct nf_fault *f, int64_t created_ms, int64_t expires_ms,
                  struct nf_err *e) {
        struct nf_apply_error ae;
        int64_t now = nf_now_realtime_ms();
        int rc;

        f->created_ms = created_ms ? created_ms : now;
        f->expires_ms = expires_ms ? expires_ms : f->created_ms + (int64_t)f->spec.duration_s * 1000;
        /* Intent first: if we die while the kernel changes, the journal knows what was ours. */
        journal_fault(r, f, "applying");
        rc = nf_apply(&r->applier, &f->plan, &ae);
        if (rc < 0) {
                int http = rc == -EBUSY || rc == -EEXIST ? 409 : rc == -EPERM ? 403 : 500;
                nf_fail(e, http, http == 409 ? "kernel_conflict" : "kernel_error", NULL, "%s: %s%s%s", ae.message,
                        strerror(-rc), ae.extack[0] ? "; kernel said: " : "", ae.extack);
                nf_log(NF_LOG_WARN, "fault.apply_failed", "%s rolled back: %s", f->id, e->message);
                if (r->journal)
                        nf_journal_drop(r->journal, f->id);
                journal_clsact(r);
                return -1;
        }
        journal_clsact(r);
        journal_fault(r, f, "active");
        r->slot_used[f->slot] = true;
        if (arm(&f->timer, r->base, on_expiry, f, f->expires_ms - now) < 0 ||
            (f->spec.lease_s && arm(&f->lease_timer, r->base, on_lease, f, (int64_t)f->spec.lease_s * 1000) < 0)) {
                nf_revert(&r->applier, &f->plan, NULL);
                r->slot_used[f->slot] = false;
                if (r->journal)
                        nf_journal_drop(r->journal, f->id);
                return nf_fail(e, 500, "internal", NULL, "cannot arm the fault's timers");
        }
        if (f->spec.lease_s)
                f->lease_expires_ms = now + (int64_t)f->spec.lease_s * 1000;
        f->next = r->faults;
        r->faults = f;
        r->n_faults++;
        r->n_filters += f->plan.n_keys * f->plan.n_links;
        nf_log(NF_LOG_INFO, "fault.created", "%s%s%s: %zu prefixes on %zu interface(s), slot %u, until %lld", f->id,
               f->spec.name[0] ? " " : "", f->spec.name, f->n_eff, f->n_ifaces, f->slot, (long long)f->expires_ms);
        return 0;
}

struct nf_fault *nf_registry_create(struct nf_registry *r, struct nf_spec *spec, bool dry_run, struct nf_err *e) {
        struct nf_fault *f = prepare(r, spec, NULL, -1, e);
        if (!f || dry_run)
                return f;
        if (commit(r, f, 0, 0, e) < 0) {
                nf_fault_free(f);
                return NULL;
        }
        return f;
}

struct nf_fault *nf_registry_find(struct nf_registry *r, const char *id) {
        for (struct nf_fault *f = r->faults; f; f = f->next)
                if (strcmp(f->id, id) == 0)
                        return f;
        return NULL;
}

int nf_registry_renew(struct nf_registry *r, struct nf_fault *f, struct nf_err *e) {
        if (!f->spec.lease_s)
                return nf_fail(e, 409, "no_lease", "lease_s", "fault %s has no lease to renew (create it with lease_s)", f->id);
        int64_t in = (int64_t)f->spec.lease_s * 1000;
        if (arm(&f->lease_timer, r->base, on_lease, f, in) < 0)
                return nf_fail(e, 500, "internal", NULL, "cannot arm the lease timer");
        f->lease_expires_ms = nf_now_realtime_ms() + in;
        nf_log(NF_LOG_DEBUG, "fault.renewed", "%s lease until %lld", f->id, (long long)f->lease_expires_ms);
        return 0;
}

int nf_registry_delete(struct nf_registry *r, struct nf_fault *f, const char *why) {
        struct nf_apply_error ae;
        int rc = nf_revert(&r->applier, &f->plan, &ae);
        if (rc < 0)
                nf_log(NF_LOG_ERROR, "fault.revert_failed", "%s: %s: %s%s%s", f->id, ae.message, strerror(-rc),
                       ae.extack[0] ? "; kernel said: " : "", ae.extack);
        else
                nf_log(NF_LOG_INFO, "fault.reverted", "%s (%s)", f->id, why);
        if (r->journal)
                nf_journal_drop(r->journal, f->id);
        journal_clsact(r);
        for (struct nf_fault **p = &r->faults; *p; p = &(*p)->next)
                if (*p == f) {
                        *p = f->next;
                        break;
                }
        r->n_faults--;
        r->n_filters -= f->plan.n_keys * f->plan.n_links;
        r->slot_used[f->slot] = false;
        nf_fault_free(f);
        return rc;
}

size_t nf_registry_delete_all(struct nf_registry *r, const char *why) {
        size_t n = 0;
        while (r->faults) {
                nf_registry_delete(r, r->faults, why);
                n++;
        }
        return n;
}

/* ---- start-up reconciliation ---- */

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
        struct nf_fault *f = prepare(r, &spec, je->id, (int)je->slot, &e);
        if (!f || commit(r, f, je->created_ms, je->expires_ms, &e) < 0) {
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
        int rc = nf_sweep(&r->applier, clsact, n_clsact, log_removal, &rep);
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
