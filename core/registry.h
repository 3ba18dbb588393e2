/* The faults that are active, and the only owner of their lifetimes: creation in two steps
 * (prepare: resolve interfaces → scope policy → plan; commit: journal → apply → timers), expiry
 * and lease timers, renewal, deletion, revert-all. What decides a fault's addresses, conflicts
 * and marks is in scope.h; names in names.h; the journal record in record.h; the asynchronous
 * create flow that the API surfaces call in create.h; start-up reconciliation in reconcile.h. */
#pragma once
#include "core/layer.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <event2/util.h>

#include "core/awsranges.h"
#include "core/error.h"
#include "core/journal.h"
#include "core/names.h"
#include "core/nstable.h"
#include "core/resolver.h"
#include "core/scope.h"
#include "netem/apply.h"
#include "netem/caps.h"
#include "netem/plan.h"
#include "netem/spec.h"

struct event_base;
struct event;
struct nf_guard;
struct nf_probe_ctx;

#define NF_ID_LEN 20
/* Creations waiting for DNS answers at once; more are refused as busy (each holds its parsed
 * targets and the answers, up to ~1 MB). */
#define NF_MAX_PENDING_CREATES 16

struct nf_fault {
        char id[NF_ID_LEN];
        struct nf_spec spec;
        struct nf_prefix *eff; /* (targets + learned) minus excludes minus protected addresses */
        size_t n_eff;
        struct nf_prefix *learned; /* from names, normalised; only grows */
        size_t n_learned;
        struct nf_fault_name *names;
        size_t n_names;
        int64_t next_resolve_ms;
        uint32_t first_ttl_s;
        struct event *dns_timer;
        struct nf_lookup *lookup; /* in flight */
        bool resolving;           /* a re-resolution started and not finished (names.c) */
        struct nf_prefix protected_hit[NF_MAX_PROTECTED_HIT]; /* protected addresses inside the targets */
        size_t n_protected_hit;
        struct nf_iface ifaces[NF_MAX_IFACES];
        size_t n_ifaces;
        struct nf_ns *ns; /* the namespace it lives in (a reference, dropped by nf_fault_free) */
        unsigned slot;    /* within its namespace */
        struct nf_plan plan;
        int64_t created_ms, expires_ms;  /* wall clock, for users */
        int64_t lease_expires_ms;        /* 0 without a lease */
        struct event *timer, *lease_timer; /* fire on the monotonic clock */
        struct nf_registry *reg;
        struct nf_guard *guard; /* its steady-state probes running (guard.h), NULL without */
        struct nf_fault *next;
};

/* A fault's state changed (or its names were resolved again): the surfaces' audit log and
 * metrics learn it through one callback the daemon or API installs, so that the core names no
 * surface. why is the revert's reason as given to nf_registry_delete ("expired", "lease not
 * renewed", "deleted by request", "shutdown"); took_us the kernel work (apply or revert);
 * result, for NF_FAULT_RESOLVED: "changed", "unchanged" or "failed". */
enum nf_fault_event {
        NF_FAULT_CREATED,
        NF_FAULT_RENEWED,
        NF_FAULT_REVERTED,
        NF_FAULT_REVERT_FAILED,
        NF_FAULT_RESOLVED,
};
struct nf_fault_event_info {
        enum nf_fault_event what;
        const char *why;
        int64_t took_us;
        const char *result;
};
typedef void nf_fault_event_fn(void *arg, const struct nf_fault *f, const struct nf_fault_event_info *ev);
/* Per network namespace: a pod's faults do not use up the node's. */
/* A fault whose namespace went away under it (its pod was deleted): reverted, journaled away,
 * its slot freed; remembered so that GET /v1/faults/{id} can say what became of it. */
#define NF_MAX_GONE 32
struct nf_gone {
        char id[NF_ID_LEN];
        char state[12];  /* "gone" (its namespace went) or "aborted" (a guard reverted it) */
        char *detail;    /* JSON text: the guard's settings and last results when aborted; owned */
        char reason[192];
        char pod_uid[NF_NETNS_NAME_LEN];
        int64_t at_ms;
};

struct nf_registry_limits {
        uint32_t max_faults;
        uint32_t max_filters; /* across every active fault and interface of one namespace */
        uint32_t ifb_pool;    /* idle ifb links kept per namespace (--ifb-pool), 0: none */
        uint32_t ifb_pool_idle_s; /* and for how long (--ifb-pool-idle) */
};

struct nf_registry {
        struct event_base *base;
        struct nf_ns_table ns; /* our own namespace first: its applier, kernel, slots; then pods' */
        struct nf_journal *journal; /* may be NULL (tests) */
        struct nf_fault *faults;
        size_t n_faults;  /* in every namespace */
        size_t n_filters; /* in every namespace */
        struct nf_registry_limits lim;
        uint16_t api_port; /* protected TCP port, 0 for a Unix socket */
        char proc_root[128]; /* where pods' processes are looked up: "/proc" (--proc-root) */
        bool netns_mode;     /* faults may name other namespaces (--netns-mode) */
        struct nf_resolver *resolver; /* may be NULL: hostnames are then refused */
        struct nf_aws_ranges *aws;
        size_t n_pending_creates; /* waiting for DNS answers (create.c) */
        char degraded[256];   /* why the daemon is not fully protecting, "" when it is (/healthz) */
        nf_fault_event_fn *on_event; /* may be NULL */
        void *on_event_arg;
        struct event *netns_watch; /* every second while faults live in other namespaces */
        struct nf_gone gone[NF_MAX_GONE]; /* the latest faults whose namespace went away or whose guard
                                           * aborted them, newest last */
        struct nf_probe_ctx *probes; /* the guards' probes (probe.h), made with the first guard */
        struct event *ifb_pool_timer; /* deletes idle ifb links that are due (ifb_pools.c) */
        size_t n_gone;
};

int nf_registry_init(struct nf_registry *r, struct event_base *base, const struct nf_registry_limits *lim,
                     struct nf_journal *journal, uint16_t api_port);
void nf_registry_fini(struct nf_registry *r);

/* Takes ownership of spec on success and on failure. With dry_run the fault is planned but
 * nothing is applied or kept: free it with nf_fault_free(). init holds what its names brought
 * (consumed either way). The asynchronous form, names resolved first, is nf_create_start(). */
struct nf_fault *nf_registry_create(struct nf_registry *r, struct nf_spec *spec, struct nf_fault_init *init,
                                    bool dry_run, struct nf_err *e);
struct nf_fault *nf_registry_find(struct nf_registry *r, const char *id);
/* The kernel's counters for f's filters and qdiscs, read now; the surfaces ask the registry, which
 * owns the applier, rather than the applier itself. */
/* Faults and filters are counted twice, for every namespace (--max-* of the daemon) and per
 * namespace (its own limits): both move together here (negative to take away). */
void nf_registry_count(struct nf_registry *r, struct nf_ns *ns, long faults, long filters);
int nf_registry_counters(struct nf_registry *r, const struct nf_fault *f, struct nf_counters *out);
/* The counters of n faults, read with one qdisc dump per namespace they live in. */
int nf_registry_counters_many(struct nf_registry *r, const struct nf_fault *const *faults, size_t n,
                              struct nf_counters *out);
/* What this kernel offers, as probed at start-up in our own namespace. */
const struct nf_caps *nf_registry_caps(const struct nf_registry *r);
/* Our own namespace's entry (its applier: the API's guard port, the start-up sweep). */
struct nf_ns *nf_registry_own(const struct nf_registry *r);
int nf_registry_renew(struct nf_registry *r, struct nf_fault *f, struct nf_err *e);
/* Reverts and frees the fault. Returns the revert's result. */
int nf_registry_delete(struct nf_registry *r, struct nf_fault *f, const char *why);
/* A fault that went with its namespace, by id; NULL when none did. */
const struct nf_gone *nf_registry_find_gone(const struct nf_registry *r, const char *id);
/* Remembers f (about to be deleted) for GET /v1/faults/{id}: state "gone" or "aborted", why, and
 * detail (JSON text, copied; may be NULL). */
void nf_registry_remember(struct nf_registry *r, const struct nf_fault *f, const char *state, const char *why,
                          const char *detail);
/* Checks every namespace other than ours that holds faults: one that no process or file names
 * any more (its pod was deleted) takes its faults with it. Run every second while there are such
 * faults; returns how many faults went. */
size_t nf_registry_check_namespaces(struct nf_registry *r);
/* ---- idle ifb links (core/ifb_pools.c) ---- */
/* The pool settings for an applier of ours (own namespace or a pod's). */
void nf_registry_pool_setup(const struct nf_registry *r, struct nf_ns *ns);
/* Arms the timer for the next idle link that falls due (after a revert handed one back). */
void nf_registry_pools_changed(struct nf_registry *r);
/* Deletes every idle link in every namespace (shutdown: before the guardian is let go). */
void nf_registry_pools_drain(struct nf_registry *r);

/* Reverts every fault; returns how many. */
size_t nf_registry_delete_all(struct nf_registry *r, const char *why);
void nf_fault_free(struct nf_fault *f);

/* Within the core. */

/* Tells the installed on_event, if any. */
void nf_registry_event(struct nf_registry *r, const struct nf_fault *f, enum nf_fault_event what, const char *why,
                       int64_t took_us, const char *result);

/* The two steps of nf_registry_create, apart for --on-start=resume (a journaled id, slot and
 * times). prepare: everything up to the kernel, the fault fully planned and nothing changed
 * (takes spec and init either way; -1 slot and NULL id for new ones). commit: journal, apply,
 * arm the timers and keep it (0 and 0 times: from now); on failure the caller frees it. */
struct nf_fault *nf_registry_prepare(struct nf_registry *r, struct nf_spec *spec, struct nf_fault_init *init,
                                     const char *id, int slot, bool dry_run, struct nf_err *e);
int nf_registry_commit(struct nf_registry *r, struct nf_fault *f, int64_t created_ms, int64_t expires_ms,
                       struct nf_err *e);
/* Enters the namespace f's spec names (a reference in f->ns); -1 with e filled. */
int nf_registry_enter(struct nf_registry *r, struct nf_fault *f, struct nf_err *e);
/* (Re)arms a one-shot timer in_ms from now (at once if negative), creating it on first use. */
int nf_registry_arm(struct nf_registry *r, struct event **ev, void (*cb)(evutil_socket_t, short, void *), void *arg,
                    int64_t in_ms);
/* What the scope policy needs to know of a fault here (its names' addresses, the nameservers). */
void nf_registry_scope_input(const struct nf_registry *r, const struct nf_fault *f, struct nf_scope_input *in);
/* The active faults of namespace ns but skip (may be NULL) as the conflict check sees them, into
 * out (room for NF_MAX_SLOTS: each active fault holds a slot of its namespace); returns how many. */
size_t nf_registry_active_scopes(const struct nf_registry *r, const struct nf_ns *ns, const struct nf_fault *skip,
                                 struct nf_active_scope out[NF_MAX_SLOTS]);
