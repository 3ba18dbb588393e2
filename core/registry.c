#include "core/registry.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

#include "core/spec_json.h"
#include "core/clock.h"
#include "core/log.h"
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
        if (f->dns_timer)
                event_free(f->dns_timer);
        if (f->lookup)
                f->lookup->arg = NULL; /* it completes later and frees itself */
        free(f->learned);
        free(f->names);
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
        /* What names resolved to: --on-start=resume starts from these, then resolves again. */
        cJSON *names = cJSON_AddArrayToObject(objects, "names");
        for (size_t i = 0; i < f->n_names; i++) {
                char buf[NF_PREFIX_STRLEN];
                cJSON *n = cJSON_CreateObject(), *a = cJSON_AddArrayToObject(n, "addresses");
                cJSON_AddStringToObject(n, "name", f->names[i].name);
                for (size_t k = 0; k < f->names[i].n_addrs; k++)
                        cJSON_AddItemToArray(a, cJSON_CreateString(nf_prefix_format(&f->names[i].addrs[k], buf, sizeof(buf))));
                cJSON_AddItemToArray(names, n);
        }
        int rc = nf_journal_put(r->journal, f->id, state, f->slot, f->created_ms, f->expires_ms, spec, objects);
        cJSON_Delete(spec);
        cJSON_Delete(objects);
        if (rc < 0)
                nf_log(NF_LOG_ERROR, "journal.write_failed", "%s: %s", f->id, strerror(-rc));
        return rc;
}

static void schedule_resolution(struct nf_registry *r, struct nf_fault *f, uint32_t ttl_s);
static int journal_learned(const struct nf_journal_entry *je, struct nf_fault_init *init);

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
        /* libevent measures timeouts from the time it cached when this loop iteration began; a
         * request that spent a second in netlink would otherwise expire a second early. */
        event_base_update_cache_time(base);
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
                        return nf_fail(e, NF_ERR_KERNEL, "kernel_error", "interfaces", "cannot read the routing table: %s",
                                       strerror(-rc));
                if (f->n_ifaces == 0)
                        return nf_fail(e, NF_ERR_UNSATISFIABLE, "no_default_route", "interfaces",
                                       "interfaces: none given and no interface carries a default route here; name "
                                       "the interfaces");
                return 0;
        }
        for (size_t i = 0; i < f->spec.n_ifnames; i++) {
                int rc = nf_world_iface_by_name(&r->applier.world, f->spec.ifnames[i], &f->ifaces[i]);
                if (rc < 0) {
                        char field[48];
                        snprintf(field, sizeof(field), "interfaces[%zu]", i);
                        return nf_fail(e, NF_ERR_INVALID, "unknown_interface", field, "%s: '%s' does not exist in this network namespace",
                                       field, f->spec.ifnames[i]);
                }
        }
        f->n_ifaces = f->spec.n_ifnames;
        return 0;
}

/* targets - (exclude + protected addresses), remembering which protected addresses mattered. */
/* exclude + the protected addresses (and, for a fault with hostnames, the nameservers). */
static int exclusions(const struct nf_registry *r, const struct nf_fault *f, struct nf_prefix **out, size_t *n) {
        static const char *const protected[] = NF_PROTECTED_ADDRESSES;
        const struct nf_spec *s = &f->spec;
        size_t extra = NF_N_PROTECTED + (r->resolver ? r->resolver->n_server_prefixes : 0);
        *n = 0;
        *out = calloc(s->n_exclude + extra + 1, sizeof(**out));
        if (!*out)
                return -ENOMEM;
        if (s->n_exclude)
                memcpy(*out, s->exclude, s->n_exclude * sizeof(**out));
        *n = s->n_exclude;
        if (!s->allow_control_plane) {
                for (size_t i = 0; i < NF_N_PROTECTED; i++)
                        nf_prefix_parse(protected[i], &(*out)[(*n)++]);
                bool names = false;
                for (size_t i = 0; i < s->n_target_names; i++)
                        names |= strncmp(s->target_names[i], "aws:", 4) != 0;
                for (size_t i = 0; names && r->resolver && i < r->resolver->n_server_prefixes; i++)
                        (*out)[(*n)++] = r->resolver->server_prefixes[i];
        }
        nf_prefix_set_normalize(*out, n);
        return 0;
}

static int effective_set(struct nf_registry *r, struct nf_fault *f, struct nf_err *e) {
        struct nf_spec s = f->spec;
        struct nf_prefix *ex = NULL, *all = NULL;
        size_t n_ex = 0, n_all = s.n_targets + f->n_learned;
        int rc;

        if (exclusions(r, f, &ex, &n_ex) < 0 || !(all = calloc(n_all + 1, sizeof(*all)))) {
                free(ex);
                return nf_fail(e, NF_ERR_INTERNAL, "internal", NULL, "out of memory");
        }
        if (s.n_targets)
                memcpy(all, s.targets, s.n_targets * sizeof(*all));
        if (f->n_learned)
                memcpy(all + s.n_targets, f->learned, f->n_learned * sizeof(*all));
        nf_prefix_set_normalize(all, &n_all);
        /* Which protected addresses did the targets hold? (shown in the fault) Binary searches in
         * the normalised sets: a scan of every pair was O(excludes x targets), seconds on the
         * event loop for 10,000 of each. */
        for (size_t i = 0; !s.allow_control_plane && i < n_ex; i++)
                if (!nf_prefix_set_covers(s.exclude, s.n_exclude, &ex[i]) && nf_prefix_set_overlaps(all, n_all, &ex[i]) &&
                    f->n_protected_hit < sizeof(f->protected_hit) / sizeof(*f->protected_hit))
                        f->protected_hit[f->n_protected_hit++] = ex[i];
        s.targets = all;
        s.n_targets = n_all;
        s.exclude = ex;
        s.n_exclude = n_ex;
        rc = nf_spec_effective(&s, NF_MAX_FILTERS_PER_FAULT, &f->eff, &f->n_eff);
        free(ex);
        free(all);
        if (rc == -E2BIG)
                return nf_fail(e, NF_ERR_INVALID, "too_many_filters", "exclude", "targets minus exclude splits into more than %d prefixes",
                               NF_MAX_FILTERS_PER_FAULT);
        if (rc < 0)
                return nf_fail(e, NF_ERR_INTERNAL, "internal", NULL, "out of memory");
        if (f->n_eff == 0)
                return nf_fail(e, NF_ERR_INVALID, "empty_match", f->n_protected_hit ? "allow_control_plane" : "exclude",
                               f->n_protected_hit ? "the targets hold only protected control-plane addresses; set "
                                                    "\"allow_control_plane\": true to fault them"
                                                  : "exclude covers every target: the fault would match nothing");
        return 0;
}

static int check_conflicts(struct nf_registry *r, struct nf_fault *f, struct nf_err *e) {
        struct nf_fault_scope a = {&f->spec, f->eff, f->n_eff, f->ifaces, f->n_ifaces, &r->applier.netns};
        for (struct nf_fault *o = r->faults; o; o = o->next) {
                struct nf_fault_scope b = {&o->spec, o->eff, o->n_eff, o->ifaces, o->n_ifaces, &r->applier.netns};
                char why[256];
                if (nf_scopes_overlap(&a, &b, why, sizeof(why)))
                        return nf_fail(e, NF_ERR_CONFLICT, "conflict", "targets", "overlaps active fault %s: %s", o->id, why);
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
        return nf_fail(e, NF_ERR_UNSUPPORTED_KERNEL, "kernel_unsupported", NULL,
                       "this kernel lacks what the fault needs (%s); load it on the host with 'modprobe %s' (EC2, ECS "
                       "and EKS kernels ship these modules; a container cannot load them itself)%s%s",
                       mods, mods, said[0] ? "; kernel said: " : "", said);
}

static bool action_index_used(const struct nf_registry *r, uint32_t index) {
        for (const struct nf_fault *o = r->faults; o; o = o->next)
                for (size_t i = 0; i < o->plan.n_links; i++)
                        if (o->plan.links[i].act_index == index)
                                return true;
        return false;
}

/* A fault's shared actions get indexes no recent fault used. Handing the index of an action that
 * the kernel is still releasing (its last filter was just deleted) to a new filter is where
 * tcf_idr_check_alloc() has had busy-retry bugs; a create/delete loop on one slot would do just
 * that. The indexes rotate through 2^16 values of our range, skipping those in use. */
static void fresh_action_indexes(struct nf_registry *r, struct nf_plan *p) {
        for (size_t i = 0; i < p->n_links; i++) {
                uint32_t index;
                do
                        index = NF_ACT_INDEX_BASE + (r->next_action++ & 0xffffu);
                while (action_index_used(r, index));
                p->links[i].act_index = index;
        }
}

/* Everything up to the kernel: the fault is fully planned, nothing is changed. */
static struct nf_fault *prepare(struct nf_registry *r, struct nf_spec *spec, struct nf_fault_init *init, const char *id,
                                int slot, bool dry_run, struct nf_err *e) {
        struct nf_fault *f = calloc(1, sizeof(*f));
        int rc;
        if (!f) {
                nf_spec_free(spec);
                nf_fault_init_free(init);
                nf_fail(e, NF_ERR_INTERNAL, "internal", NULL, "out of memory");
                return NULL;
        }
        f->spec = *spec;
        *spec = (struct nf_spec){0};
        f->reg = r;
        if (init) {
                f->learned = init->learned;
                f->n_learned = init->n_learned;
                f->names = init->names;
                f->n_names = init->n_names;
                f->first_ttl_s = init->ttl_s;
                *init = (struct nf_fault_init){0};
                nf_prefix_set_normalize(f->learned, &f->n_learned);
        }

        /* A dry run plans even where the kernel could not apply it (and says so). */
        if (!dry_run && nf_caps_missing(&r->caps, &f->spec) >= 0) {
                unavailable(&r->caps, &f->spec, e);
                goto fail;
        }
        if (r->n_faults >= r->lim.max_faults) {
                nf_fail(e, NF_ERR_LIMIT, "too_many_faults", NULL, "%zu faults are active, the limit (--max-faults) is %u",
                        r->n_faults, r->lim.max_faults);
                goto fail;
        }
        if (resolve_interfaces(r, f, e) < 0 || effective_set(r, f, e) < 0 || check_conflicts(r, f, e) < 0)
                goto fail;
        if (slot >= 0) {
                f->slot = (unsigned)slot;
                if (f->slot >= NF_MAX_SLOTS || r->slot_used[f->slot]) {
                        nf_fail(e, NF_ERR_INTERNAL, "internal", NULL, "slot %d is not free", slot);
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
                nf_fail(e, NF_ERR_INVALID, "too_many_filters", "ports",
                        "targets x ports x local_ports needs more than %d filters; use fewer ports or wider CIDRs",
                        NF_MAX_FILTERS_PER_FAULT);
                goto fail;
        } else if (rc < 0) {
                nf_fail(e, NF_ERR_INTERNAL, "internal", NULL, "planning failed: %s", strerror(-rc));
                goto fail;
        }
        fresh_action_indexes(r, &f->plan);
        size_t filters = f->plan.n_keys * f->plan.n_links;
        if (r->n_filters + filters > r->lim.max_filters) {
                nf_fail(e, NF_ERR_LIMIT, "too_many_filters", "targets",
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
        /* Intent first: if we die while the kernel changes, the journal knows what was ours. One
         * write per fault (a record of 10,000 targets is not cheap to render twice); the sweep
         * treats a record the same whether or not the apply finished. No record, no apply: a fault
         * we could not journal could outlive a crash unnoticed, so it is refused. */
        if ((rc = journal_fault(r, f, "active")) < 0) {
                nf_journal_drop(r->journal, f->id); /* in case only the directory's sync failed */
                return nf_fail(e, NF_ERR_UNAVAILABLE, "journal_unavailable", NULL,
                               "the fault's record cannot be written to the journal in %s: %s; nothing was applied",
                               r->journal->dir, strerror(-rc));
        }
        rc = nf_apply(&r->applier, &f->plan, &ae);
        if (rc < 0) {
                enum nf_err_kind kind = rc == -EBUSY || rc == -EEXIST ? NF_ERR_CONFLICT
                                        : rc == -EPERM                ? NF_ERR_DENIED
                                                                      : NF_ERR_KERNEL;
                nf_fail(e, kind, kind == NF_ERR_CONFLICT ? "kernel_conflict" : "kernel_error", NULL, "%s: %s%s%s", ae.message,
                        strerror(-rc), ae.extack[0] ? "; kernel said: " : "", ae.extack);
                nf_log(NF_LOG_WARN, "fault.apply_failed", "%s rolled back: %s", f->id, e->message);
                if (r->journal)
                        nf_journal_drop(r->journal, f->id);
                journal_clsact(r);
                return -1;
        }
        now = nf_now_realtime_ms();
        journal_clsact(r);
        r->slot_used[f->slot] = true;
        /* Measured now: the journal's fsync above took time too. */
        if (arm(&f->timer, r->base, on_expiry, f, f->expires_ms - nf_now_realtime_ms()) < 0 ||
            (f->spec.lease_s && arm(&f->lease_timer, r->base, on_lease, f, (int64_t)f->spec.lease_s * 1000) < 0)) {
                nf_revert(&r->applier, &f->plan, NULL);
                r->slot_used[f->slot] = false;
                if (r->journal)
                        nf_journal_drop(r->journal, f->id);
                return nf_fail(e, NF_ERR_INTERNAL, "internal", NULL, "cannot arm the fault's timers");
        }
        if (f->spec.lease_s)
                f->lease_expires_ms = now + (int64_t)f->spec.lease_s * 1000;
        /* Names are resolved again at their TTL (within --dns-min-ttl..--dns-max-ttl); a resumed
         * fault starts from its journaled addresses and resolves at once. */
        schedule_resolution(r, f, created_ms ? 0 : f->first_ttl_s);
        f->next = r->faults;
        r->faults = f;
        r->n_faults++;
        r->n_filters += f->plan.n_keys * f->plan.n_links;
        nf_log(NF_LOG_INFO, "fault.created", "%s%s%s: %zu prefixes on %zu interface(s), slot %u, until %lld", f->id,
               f->spec.name[0] ? " " : "", f->spec.name, f->n_eff, f->n_ifaces, f->slot, (long long)f->expires_ms);
        return 0;
}

struct nf_fault *nf_registry_create(struct nf_registry *r, struct nf_spec *spec, struct nf_fault_init *init,
                                    bool dry_run, struct nf_err *e) {
        struct nf_fault *f = prepare(r, spec, init, NULL, -1, dry_run, e);
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

int nf_registry_counters(struct nf_registry *r, const struct nf_fault *f, struct nf_counters *out) {
        return nf_fault_counters(&r->applier, &f->plan, out);
}

const struct nf_caps *nf_registry_caps(const struct nf_registry *r) {
        return &r->caps;
}

int nf_registry_renew(struct nf_registry *r, struct nf_fault *f, struct nf_err *e) {
        if (!f->spec.lease_s)
                return nf_fail(e, NF_ERR_CONFLICT, "no_lease", "lease_s", "fault %s has no lease to renew (create it with lease_s)", f->id);
        int64_t in = (int64_t)f->spec.lease_s * 1000;
        if (arm(&f->lease_timer, r->base, on_lease, f, in) < 0)
                return nf_fail(e, NF_ERR_INTERNAL, "internal", NULL, "cannot arm the lease timer");
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

/* ---- names ---- */

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

static struct nf_fault_name *init_name(struct nf_fault_init *init, const char *name, bool aws) {
        struct nf_fault_name *v = realloc(init->names, (init->n_names + 1) * sizeof(*v));
        if (!v)
                return NULL;
        init->names = v;
        struct nf_fault_name *n = &v[init->n_names++];
        *n = (struct nf_fault_name){.aws = aws, .resolved_ms = nf_now_realtime_ms()};
        snprintf(n->name, sizeof(n->name), "%s", name);
        return n;
}

static int learn(struct nf_fault_init *init, const struct nf_prefix *p, size_t n) {
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

int nf_registry_expand_aws(struct nf_registry *r, const struct nf_spec *spec, struct nf_fault_init *init,
                           struct nf_err *e) {
        static const struct nf_aws_ranges none = {0};
        for (size_t i = 0; i < spec->n_target_names; i++) {
                const char *t = spec->target_names[i];
                char field[48];
                struct nf_prefix *sel = NULL;
                size_t n = 0;
                if (strncmp(t, "aws:", 4) != 0)
                        continue;
                if (nf_aws_ranges_select(r->aws ? r->aws : &none, t + 4, target_field(spec, t, field, sizeof(field)), &sel,
                                         &n, e) < 0) {
                        free(sel);
                        return -1;
                }
                struct nf_fault_name *fn = init_name(init, t, true);
                if (!fn || learn(init, sel, n) < 0) {
                        free(sel);
                        return nf_fail(e, NF_ERR_INTERNAL, "internal", NULL, "out of memory");
                }
                fn->n_addrs = n < NF_MAX_NAME_ADDRS ? n : NF_MAX_NAME_ADDRS; /* shown: the first ones */
                memcpy(fn->addrs, sel, fn->n_addrs * sizeof(*sel));
                free(sel);
        }
        return 0;
}

int nf_registry_take_lookup(const struct nf_spec *spec, const struct nf_lookup *l, struct nf_fault_init *init,
                            struct nf_err *e) {
        for (size_t i = 0; i < l->n; i++) {
                const struct nf_name_result *res = &l->res[i];
                char field[48];
                if (res->n_addrs == 0)
                        return nf_fail(e, NF_ERR_UNSATISFIABLE, "unresolved_target", target_field(spec, res->name, field, sizeof(field)),
                                       "%s: '%s' resolved to no address (%s); the fault is refused rather than widened",
                                       field, res->name, res->err ? nf_resolver_strerror(res->err) : "no A or AAAA record");
                struct nf_fault_name *fn = init_name(init, res->name, false);
                if (!fn || learn(init, res->addrs, res->n_addrs) < 0)
                        return nf_fail(e, NF_ERR_INTERNAL, "internal", NULL, "out of memory");
                fn->n_addrs = res->n_addrs;
                memcpy(fn->addrs, res->addrs, res->n_addrs * sizeof(*res->addrs));
                if (init->ttl_s == 0 || res->ttl_s < init->ttl_s)
                        init->ttl_s = res->ttl_s;
        }
        return 0;
}

/* Journaled addresses of names, for --on-start=resume. */
static int journal_learned(const struct nf_journal_entry *je, struct nf_fault_init *init) {
        const cJSON *names = je->objects ? cJSON_GetObjectItem(je->objects, "names") : NULL, *n;
        cJSON_ArrayForEach(n, names) {
                const cJSON *nm = cJSON_GetObjectItem(n, "name"), *a = cJSON_GetObjectItem(n, "addresses"), *it;
                if (!cJSON_IsString(nm) || strncmp(nm->valuestring, "aws:", 4) == 0)
                        continue;
                struct nf_fault_name *fn = init_name(init, nm->valuestring, false);
                if (!fn)
                        return -1;
                cJSON_ArrayForEach(it, a) {
                        if (cJSON_IsString(it) && fn->n_addrs < NF_MAX_NAME_ADDRS &&
                            nf_prefix_parse(it->valuestring, &fn->addrs[fn->n_addrs]) == 0)
                                fn->n_addrs++;
                }
                if (learn(init, fn->addrs, fn->n_addrs) < 0)
                        return -1;
        }
        return 0;
}

/* Adds addresses a name newly resolved to, to a live fault, without touching what it matches
 * already. Addresses that another fault covers are skipped (and logged), never forced. */
static void extend_fault(struct nf_registry *r, struct nf_fault *f, const struct nf_prefix *add, size_t n_add) {
        struct nf_prefix *ex = NULL, *cand = NULL, *fresh = NULL, *merged = NULL;
        size_t n_ex = 0, n_cand = 0, n_fresh = 0, first, kept = 0;
        struct nf_apply_error ae;
        char buf[NF_PREFIX_STRLEN];

        if (exclusions(r, f, &ex, &n_ex) < 0)
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
        for (size_t i = 0; i < n_fresh; i++) {
                struct nf_fault_scope a = {&f->spec, &fresh[i], 1, f->ifaces, f->n_ifaces, &r->applier.netns};
                bool clash = false;
                for (struct nf_fault *o = r->faults; o && !clash; o = o->next) {
                        struct nf_fault_scope b = {&o->spec, o->eff, o->n_eff, o->ifaces, o->n_ifaces, &r->applier.netns};
                        char why[256];
                        if (o != f && nf_scopes_overlap(&a, &b, why, sizeof(why))) {
                                clash = true;
                                nf_log(NF_LOG_WARN, "fault.address_skipped", "%s: new address %s overlaps fault %s", f->id,
                                       nf_prefix_format(&fresh[i], buf, sizeof(buf)), o->id);
                        }
                }
                if (!clash)
                        fresh[kept++] = fresh[i];
        }
        if (kept == 0 || r->n_filters + kept * f->plan.n_links > r->lim.max_filters)
                goto out;
        if (nf_plan_extend(&f->plan, &f->spec, fresh, kept, &first) < 0)
                goto out;
        size_t added = f->plan.n_keys - first;
        /* The journal first, as for a new fault: filters the record does not list are never
         * added (the plan's extra keys are never applied; reverting tolerates missing objects). */
        if (journal_fault(r, f, "active") < 0) {
                nf_log(NF_LOG_WARN, "fault.extend_failed", "%s: new addresses not applied: the journal cannot be written",
                       f->id);
                goto out;
        }
        if (nf_apply_extend(&r->applier, &f->plan, first, &ae) < 0) {
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
        r->n_filters += added * f->plan.n_links;
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
                extend_fault(r, f, res->addrs, res->n_addrs);
        }
        nf_lookup_free(l);
        schedule_resolution(r, f, ttl);
}

static void on_dns_timer(evutil_socket_t fd, short what, void *arg) {
        struct nf_fault *f = arg;
        char names[NF_MAX_TARGET_NAMES][NF_TARGET_NAME_LEN];
        (void)fd;
        (void)what;
        size_t n = nf_spec_hostnames(&f->spec, names);
        if (n == 0 || f->lookup || !f->reg->resolver)
                return;
        f->lookup = nf_lookup_start(f->reg->resolver, (const char(*)[NF_TARGET_NAME_LEN])names, n, on_reresolved, f);
}

static void schedule_resolution(struct nf_registry *r, struct nf_fault *f, uint32_t ttl_s) {
        if (!r->resolver || f->n_names == 0)
                return;
        char names[NF_MAX_TARGET_NAMES][NF_TARGET_NAME_LEN];
        if (nf_spec_hostnames(&f->spec, names) == 0)
                return;
        uint32_t s = nf_resolver_next_s(r->resolver, ttl_s);
        f->next_resolve_ms = nf_now_realtime_ms() + (int64_t)s * 1000;
        arm(&f->dns_timer, r->base, on_dns_timer, f, (int64_t)s * 1000);
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
        struct nf_fault_init init = {0};
        e = (struct nf_err){0};
        if (nf_registry_expand_aws(r, &spec, &init, &e) < 0 || journal_learned(je, &init) < 0) {
                /* journal_learned() fails only on allocation and says nothing itself. */
                if (!e.message[0])
                        snprintf(e.message, sizeof(e.message), "out of memory");
                nf_log(NF_LOG_WARN, "reconcile.invalid", "%s cannot be resumed: %s", je->id, e.message);
                nf_spec_free(&spec);
                nf_fault_init_free(&init);
                return;
        }
        struct nf_fault *f = prepare(r, &spec, &init, je->id, (int)je->slot, false, &e);
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
