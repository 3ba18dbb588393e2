#include "core/registry.h"

#include <errno.h>
#include <event2/event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/guard.h"
#include "core/probe.h"
#include "core/log.h"
#include "core/pods.h"
#include "core/record.h"

int nf_registry_init(struct nf_registry *r, struct event_base *base, const struct nf_registry_limits *lim,
                     struct nf_journal *journal, uint16_t api_port) {
        int rc;
        *r = (struct nf_registry){.base = base, .lim = *lim, .journal = journal, .api_port = api_port,
                                  .proc_root = "/proc"};
        rc = nf_ns_table_init(&r->ns);
        if (rc < 0)
                return rc;
        nf_registry_own(r)->applier.guard_port = api_port;
        nf_registry_pool_setup(r, nf_registry_own(r));
        return 0;
}

void nf_registry_fini(struct nf_registry *r) {
        nf_registry_delete_all(r, "shutdown");
        nf_registry_pools_drain(r);
        if (r->ifb_pool_timer)
                event_free(r->ifb_pool_timer);
        r->ifb_pool_timer = NULL;
        if (r->netns_watch)
                event_free(r->netns_watch);
        r->netns_watch = NULL;
        nf_probe_ctx_free(r->probes);
        r->probes = NULL;
        for (size_t i = 0; i < r->n_gone; i++)
                free(r->gone[i].detail);
        r->n_gone = 0;
        nf_ns_table_fini(&r->ns);
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
        nf_guard_free(f->guard);
        if (f->ns)
                nf_ns_put(&f->reg->ns, f->ns);
        free(f->learned);
        free(f->names);
        nf_plan_free(&f->plan);
        free(f->eff);
        nf_spec_free(&f->spec);
        free(f);
}

void nf_registry_event(struct nf_registry *r, const struct nf_fault *f, enum nf_fault_event what, const char *why,
                       int64_t took_us, const char *result) {
        struct nf_fault_event_info ev = {.what = what, .why = why, .took_us = took_us, .result = result};
        if (r->on_event)
                r->on_event(r->on_event_arg, f, &ev);
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

int nf_registry_arm(struct nf_registry *r, struct event **ev, void (*cb)(evutil_socket_t, short, void *), void *arg,
                    int64_t in_ms) {
        struct timeval tv = {.tv_sec = in_ms / 1000, .tv_usec = (in_ms % 1000) * 1000};
        /* libevent measures timeouts from the time it cached when this loop iteration began; a
         * request that spent a second in netlink would otherwise expire a second early. */
        event_base_update_cache_time(r->base);
        if (!*ev)
                *ev = evtimer_new(r->base, cb, arg);
        if (in_ms < 0)
                tv = (struct timeval){0};
        return *ev && evtimer_add(*ev, &tv) == 0 ? 0 : -ENOMEM;
}

static void on_lock_probe(evutil_socket_t fd, short what, void *arg) {
        int c;
        (void)what;
        (void)arg;
        while ((c = accept4(fd, NULL, NULL, SOCK_CLOEXEC)) >= 0)
                close(c);
}

static void watch_namespaces(struct nf_registry *r);

/* The clsact list of ns after a change; a namespace other than ours without faults loses its
 * record (its entry goes with the last reference). */
static void put_ns_record(struct nf_registry *r, struct nf_ns *ns) {
        if (!ns->own && ns->n_faults == 0) {
                /* We leave a pod's namespace with its last fault: its idle links go first, while
                 * the record still names it for a sweep. */
                nf_ifb_pool_drain(&ns->applier);
                nf_record_drop_ns(r->journal, ns);
        } else
                nf_record_put_clsact(r->journal, ns, r->proc_root);
        nf_registry_pools_changed(r);
}

/* ---- creation: prepare (nothing changes), then commit ---- */

/* Those named, or those with a default route inside the fault's namespace. */
static int resolve_interfaces(struct nf_fault *f, struct nf_err *e) {
        if (f->spec.n_ifnames == 0) {
                int rc = nf_world_default_ifaces(&f->ns->applier.world, f->ifaces, NF_MAX_IFACES, &f->n_ifaces);
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
                int rc = nf_world_iface_by_name(&f->ns->applier.world, f->spec.ifnames[i], &f->ifaces[i]);
                if (rc < 0) {
                        char field[48];
                        snprintf(field, sizeof(field), "interfaces[%zu]", i);
                        return nf_fail(e, NF_ERR_INVALID, "unknown_interface", field, "%s: '%s' does not exist in the fault's network namespace",
                                       field, f->spec.ifnames[i]);
                }
        }
        f->n_ifaces = f->spec.n_ifnames;
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

void nf_registry_scope_input(const struct nf_registry *r, const struct nf_fault *f, struct nf_scope_input *in) {
        *in = (struct nf_scope_input){.spec = &f->spec, .learned = f->learned, .n_learned = f->n_learned};
        if (r->resolver) {
                in->nameservers = r->resolver->server_prefixes;
                in->n_nameservers = r->resolver->n_server_prefixes;
        }
}

size_t nf_registry_active_scopes(const struct nf_registry *r, const struct nf_ns *ns, const struct nf_fault *skip,
                                 struct nf_active_scope out[NF_MAX_SLOTS]) {
        size_t n = 0;
        for (const struct nf_fault *o = r->faults; o && n < NF_MAX_SLOTS; o = o->next)
                if (o != skip && o->ns == ns)
                        out[n++] = (struct nf_active_scope){o->id, {&o->spec, o->eff, o->n_eff, o->ifaces, o->n_ifaces, &ns->id}};
        return n;
}

/* The addresses the fault covers, and that no active fault covers too. */
static int scope(struct nf_registry *r, struct nf_fault *f, struct nf_err *e) {
        struct nf_scope_input in;
        struct nf_scope_set set;
        struct nf_active_scope active[NF_MAX_SLOTS];

        nf_registry_scope_input(r, f, &in);
        if (nf_scope_effective(&in, &set, e) < 0)
                return -1;
        f->eff = set.eff;
        f->n_eff = set.n_eff;
        memcpy(f->protected_hit, set.protected_hit, sizeof(f->protected_hit));
        f->n_protected_hit = set.n_protected_hit;
        struct nf_fault_scope a = {&f->spec, f->eff, f->n_eff, f->ifaces, f->n_ifaces, &f->ns->id};
        return nf_scope_check_conflicts(&a, active, nf_registry_active_scopes(r, f->ns, NULL, active), e);
}

/* The shared action indexes of the new plan: none that an active fault of its namespace holds
 * (actions, like links, belong to one namespace). */
static int action_indexes(struct nf_registry *r, struct nf_ns *ns, struct nf_plan *p, struct nf_err *e) {
        size_t n_used = 0, cap = 1;
        for (const struct nf_fault *o = r->faults; o; o = o->next)
                if (o->ns == ns)
                        cap += o->plan.n_links;
        uint32_t *used = calloc(cap, sizeof(*used));
        if (!used)
                return nf_fail(e, NF_ERR_INTERNAL, "internal", NULL, "out of memory");
        for (const struct nf_fault *o = r->faults; o; o = o->next)
                for (size_t i = 0; o->ns == ns && i < o->plan.n_links; i++)
                        used[n_used++] = o->plan.links[i].act_index;
        int rc = nf_scope_action_indexes(&ns->next_action, used, n_used, p->links, p->n_links);
        free(used);
        if (rc < 0)
                return nf_fail(e, NF_ERR_INTERNAL, "internal", NULL, "no free action index");
        return 0;
}

/* The namespace the fault names, entered (f->ns holds a reference from here on). */
int nf_registry_enter(struct nf_registry *r, struct nf_fault *f, struct nf_err *e) {
        struct nf_ns *own = nf_registry_own(r);
        if (f->spec.netns.kind == NF_NETNS_SELF || f->spec.netns.kind == NF_NETNS_HOST) {
                own->refs++;
                f->ns = own;
                return 0;
        }
        struct nf_netns_found found;
        int rc;
        if (!r->netns_mode)
                return nf_fail(e, NF_ERR_DENIED, "netns_mode_off", "netns",
                               "netns: this netfaultd serves only its own network namespace; start it with --netns-mode on "
                               "(it then keeps CAP_SYS_ADMIN and CAP_SYS_PTRACE) to fault pods");
        if (nf_netns_find(r->proc_root, &f->spec.netns, &own->id, &found, e) < 0)
                return -1;
        if ((rc = nf_ns_enter(&r->ns, found.fd, &f->spec.netns, found.pod_uid, found.reopen, &f->ns, e)) < 0)
                return rc;
        nf_registry_pool_setup(r, f->ns);
        /* The lock must keep answering probes (a full backlog would read as "not a netfaultd"). */
        if (r->base && f->ns->lock_fd >= 0 && !f->ns->lock_ev &&
            (f->ns->lock_ev = event_new(r->base, f->ns->lock_fd, EV_READ | EV_PERSIST, on_lock_probe, NULL)))
                event_add(f->ns->lock_ev, NULL);
        return 0;
}

/* ---- namespaces that go away under their faults ---- */

/* Still named by its file, or (that process gone) by its pod; a namespace we hold open lives on
 * for us alone once nothing else names it, and is then a deleted pod's. */
static bool ns_alive(struct nf_registry *r, struct nf_ns *ns) {
        struct stat st;
        if (stat(ns->reopen, &st) == 0 && st.st_dev == ns->id.dev && st.st_ino == ns->id.ino)
                return true;
        if (ns->pod_uid[0]) {
                struct nf_netns_sel sel = {.kind = NF_NETNS_POD};
                struct nf_netns_found found;
                struct nf_err e;
                snprintf(sel.name, sizeof(sel.name), "%s", ns->pod_uid);
                if (nf_netns_find(r->proc_root, &sel, NULL, &found, &e) == 0) {
                        bool same = nf_netns_id_equal(&found.id, &ns->id);
                        if (same)
                                snprintf(ns->reopen, sizeof(ns->reopen), "%s", found.reopen);
                        close(found.fd);
                        return same;
                }
        }
        return false;
}

const struct nf_gone *nf_registry_find_gone(const struct nf_registry *r, const char *id) {
        for (size_t i = 0; i < r->n_gone; i++)
                if (strcmp(r->gone[i].id, id) == 0)
                        return &r->gone[i];
        return NULL;
}

void nf_registry_remember(struct nf_registry *r, const struct nf_fault *f, const char *state, const char *why,
                          const char *detail) {
        if (r->n_gone == NF_MAX_GONE) {
                free(r->gone[0].detail);
                memmove(&r->gone[0], &r->gone[1], (NF_MAX_GONE - 1) * sizeof(r->gone[0]));
                r->n_gone--;
        }
        struct nf_gone *g = &r->gone[r->n_gone++];
        *g = (struct nf_gone){.at_ms = nf_now_realtime_ms(), .detail = detail ? strdup(detail) : NULL};
        snprintf(g->id, sizeof(g->id), "%s", f->id);
        snprintf(g->state, sizeof(g->state), "%s", state);
        snprintf(g->reason, sizeof(g->reason), "%s", why);
        snprintf(g->pod_uid, sizeof(g->pod_uid), "%s", f->ns->pod_uid);
}

size_t nf_registry_check_namespaces(struct nf_registry *r) {
        size_t n = 0;
        for (struct nf_ns *ns = r->ns.list; ns; ns = ns->next) {
                if (ns->own || ns->n_faults == 0 || ns->gone || ns_alive(r, ns))
                        continue;
                ns->gone = true;
                char reason[192];
                snprintf(reason, sizeof(reason), "its network namespace (inode %lu%s%.64s) went away: the pod was deleted or its processes exited",
                         (unsigned long)ns->id.ino, ns->pod_uid[0] ? ", pod " : "", ns->pod_uid);
                /* Logged once per fault; reverting inside the namespace we still hold leaves nothing
                 * behind when it is freed, and frees the slot and the journal record. */
                for (struct nf_fault *f = r->faults, *next; f; f = next) {
                        next = f->next;
                        if (f->ns != ns)
                                continue;
                        nf_log(NF_LOG_WARN, "fault.gone", "%s: %s", f->id, reason);
                        nf_registry_remember(r, f, "gone", reason, NULL);
                        nf_registry_delete(r, f, "gone with its namespace");
                        n++;
                }
                break; /* ns may have been released with its last fault: start again next tick */
        }
        return n;
}

static void on_netns_watch(evutil_socket_t fd, short what, void *arg) {
        struct nf_registry *r = arg;
        (void)fd;
        (void)what;
        while (nf_registry_check_namespaces(r) > 0)
                ;
        watch_namespaces(r);
}

/* Armed while faults live in namespaces other than ours. */
static void watch_namespaces(struct nf_registry *r) {
        for (const struct nf_ns *ns = r->ns.list; ns; ns = ns->next)
                if (!ns->own && ns->n_faults) {
                        nf_registry_arm(r, &r->netns_watch, on_netns_watch, r, 1000);
                        return;
                }
}

struct nf_fault *nf_registry_prepare(struct nf_registry *r, struct nf_spec *spec, struct nf_fault_init *init,
                                     const char *id, int slot, bool dry_run, struct nf_err *e) {
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

        if (nf_registry_enter(r, f, e) < 0)
                goto fail;
        /* A dry run plans even where the kernel could not apply it (and says so). */
        if (!dry_run && nf_caps_missing(&f->ns->caps, &f->spec) >= 0) {
                unavailable(&f->ns->caps, &f->spec, e);
                goto fail;
        }
        if (nf_scope_faults_fit(f->ns->n_faults, r->lim.max_faults, e) < 0 || resolve_interfaces(f, e) < 0 ||
            scope(r, f, e) < 0 || nf_scope_slot(f->ns->slot_used, slot, &f->slot, e) < 0)
                goto fail;
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
        if (action_indexes(r, f->ns, &f->plan, e) < 0 ||
            nf_scope_filters_fit(f->ns->n_filters, f->plan.n_keys * f->plan.n_links, r->lim.max_filters, e) < 0)
                goto fail;
        return f;
fail:
        nf_fault_free(f);
        return NULL;
}

int nf_registry_commit(struct nf_registry *r, struct nf_fault *f, int64_t created_ms, int64_t expires_ms,
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
        /* The ifb links are chosen first (a pooled one or a new name), so that the record names
         * the links really used. */
        if ((rc = nf_apply_bind(&f->ns->applier, &f->plan)) < 0)
                return nf_fail(e, NF_ERR_LIMIT, "no_ifb_name", NULL,
                               "every ifb link name netfaultd can use in this namespace is taken; nothing was applied");
        if ((rc = nf_record_put(r->journal, f, "active")) < 0 ||
            (!f->ns->own && (rc = nf_record_put_clsact(r->journal, f->ns, r->proc_root)) < 0)) {
                nf_apply_unbind(&f->ns->applier, &f->plan);
                nf_journal_drop(r->journal, f->id); /* in case only the directory's sync failed */
                if (f->ns->n_faults == 0)
                        nf_record_drop_ns(r->journal, f->ns);
                return nf_fail(e, NF_ERR_UNAVAILABLE, "journal_unavailable", NULL,
                               "the fault's record cannot be written to the journal in %s: %s; nothing was applied",
                               r->journal->dir, strerror(-rc));
        }
        int64_t t0 = nf_now_monotonic_us();
        rc = nf_apply(&f->ns->applier, &f->plan, &ae);
        int64_t took_us = nf_now_monotonic_us() - t0;
        if (rc < 0) {
                enum nf_err_kind kind = rc == -EBUSY || rc == -EEXIST ? NF_ERR_CONFLICT
                                        : rc == -EPERM                ? NF_ERR_DENIED
                                                                      : NF_ERR_KERNEL;
                nf_fail(e, kind, kind == NF_ERR_CONFLICT ? "kernel_conflict" : "kernel_error", NULL, "%s: %s%s%s", ae.message,
                        strerror(-rc), ae.extack[0] ? "; kernel said: " : "", ae.extack);
                nf_log(NF_LOG_WARN, "fault.apply_failed", "%s rolled back: %s", f->id, e->message);
                if (r->journal)
                        nf_journal_drop(r->journal, f->id);
                put_ns_record(r, f->ns);
                return -1;
        }
        now = nf_now_realtime_ms();
        nf_record_put_clsact(r->journal, f->ns, r->proc_root);
        f->ns->slot_used[f->slot] = true;
        /* Measured now: the journal's fsync above took time too. */
        if (nf_registry_arm(r, &f->timer, on_expiry, f, f->expires_ms - nf_now_realtime_ms()) < 0 ||
            (f->spec.lease_s && nf_registry_arm(r, &f->lease_timer, on_lease, f, (int64_t)f->spec.lease_s * 1000) < 0)) {
                nf_revert(&f->ns->applier, &f->plan, NULL);
                f->ns->slot_used[f->slot] = false;
                if (r->journal)
                        nf_journal_drop(r->journal, f->id);
                put_ns_record(r, f->ns);
                return nf_fail(e, NF_ERR_INTERNAL, "internal", NULL, "cannot arm the fault's timers");
        }
        if (f->spec.lease_s)
                f->lease_expires_ms = now + (int64_t)f->spec.lease_s * 1000;
        /* Names are resolved again at their TTL (within --dns-min-ttl..--dns-max-ttl); a resumed
         * fault starts from its journaled addresses and resolves at once. */
        nf_names_schedule(r, f, created_ms ? 0 : f->first_ttl_s);
        /* A fault whose guard cannot run would run unguarded: it is reverted instead. */
        if (nf_guard_start(r, f) < 0) {
                nf_revert(&f->ns->applier, &f->plan, NULL);
                f->ns->slot_used[f->slot] = false;
                if (r->journal)
                        nf_journal_drop(r->journal, f->id);
                put_ns_record(r, f->ns);
                return nf_fail(e, NF_ERR_INTERNAL, "internal", "guard", "cannot start the fault's guard (out of memory)");
        }
        f->next = r->faults;
        r->faults = f;
        nf_registry_count(r, f->ns, 1, (long)(f->plan.n_keys * f->plan.n_links));
        if (!f->ns->own && r->base)
                watch_namespaces(r);
        nf_log(NF_LOG_INFO, "fault.created", "%s%s%s: %zu prefixes on %zu interface(s), slot %u, until %lld", f->id,
               f->spec.name[0] ? " " : "", f->spec.name, f->n_eff, f->n_ifaces, f->slot, (long long)f->expires_ms);
        nf_registry_event(r, f, NF_FAULT_CREATED, NULL, took_us, NULL);
        return 0;
}

struct nf_fault *nf_registry_create(struct nf_registry *r, struct nf_spec *spec, struct nf_fault_init *init,
                                    bool dry_run, struct nf_err *e) {
        struct nf_fault *f = nf_registry_prepare(r, spec, init, NULL, -1, dry_run, e);
        if (f && dry_run)
                nf_apply_preview(&f->ns->applier, &f->plan); /* the ifb links it would get now */
        if (!f || dry_run)
                return f;
        if (nf_registry_commit(r, f, 0, 0, e) < 0) {
                nf_fault_free(f);
                return NULL;
        }
        return f;
}

/* ---- lifetimes ---- */

struct nf_fault *nf_registry_find(struct nf_registry *r, const char *id) {
        for (struct nf_fault *f = r->faults; f; f = f->next)
                if (strcmp(f->id, id) == 0)
                        return f;
        return NULL;
}

void nf_registry_count(struct nf_registry *r, struct nf_ns *ns, long faults, long filters) {
        r->n_faults += (size_t)faults;
        r->n_filters += (size_t)filters;
        ns->n_faults += (size_t)faults;
        ns->n_filters += (size_t)filters;
}

const struct nf_caps *nf_registry_caps(const struct nf_registry *r) {
        return &nf_registry_own(r)->caps;
}

struct nf_ns *nf_registry_own(const struct nf_registry *r) {
        return nf_ns_own(&r->ns);
}

int nf_registry_renew(struct nf_registry *r, struct nf_fault *f, struct nf_err *e) {
        if (!f->spec.lease_s)
                return nf_fail(e, NF_ERR_CONFLICT, "no_lease", "lease_s", "fault %s has no lease to renew (create it with lease_s)", f->id);
        int64_t in = (int64_t)f->spec.lease_s * 1000;
        if (nf_registry_arm(r, &f->lease_timer, on_lease, f, in) < 0)
                return nf_fail(e, NF_ERR_INTERNAL, "internal", NULL, "cannot arm the lease timer");
        f->lease_expires_ms = nf_now_realtime_ms() + in;
        nf_log(NF_LOG_DEBUG, "fault.renewed", "%s lease until %lld", f->id, (long long)f->lease_expires_ms);
        nf_registry_event(r, f, NF_FAULT_RENEWED, NULL, 0, NULL);
        return 0;
}

int nf_registry_delete(struct nf_registry *r, struct nf_fault *f, const char *why) {
        struct nf_apply_error ae;
        int64_t t0 = nf_now_monotonic_us();
        int rc = nf_revert(&f->ns->applier, &f->plan, &ae);
        nf_registry_event(r, f, rc < 0 ? NF_FAULT_REVERT_FAILED : NF_FAULT_REVERTED, why, nf_now_monotonic_us() - t0, NULL);
        if (rc < 0)
                nf_log(NF_LOG_ERROR, "fault.revert_failed", "%s: %s: %s%s%s", f->id, ae.message, strerror(-rc),
                       ae.extack[0] ? "; kernel said: " : "", ae.extack);
        else
                nf_log(NF_LOG_INFO, "fault.reverted", "%s (%s)", f->id, why);
        if (r->journal)
                nf_journal_drop(r->journal, f->id);
        for (struct nf_fault **p = &r->faults; *p; p = &(*p)->next)
                if (*p == f) {
                        *p = f->next;
                        break;
                }
        nf_registry_count(r, f->ns, -1, -(long)(f->plan.n_keys * f->plan.n_links));
        f->ns->slot_used[f->slot] = false;
        put_ns_record(r, f->ns);
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
