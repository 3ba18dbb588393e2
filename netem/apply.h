/* The applier: turns a plan into netlink requests, all of a fault in one batched transaction,
 * and undoes it completely when any step fails. It owns the only state that spans faults: which
 * clsact qdiscs we created and how many of our faults use each. */
#pragma once
#include <stdbool.h>
#include <stddef.h>

#include "netem/ifb_pool.h"
#include "netem/links.h"
#include "netem/netns.h"
#include "netem/nl.h"
#include "netem/plan.h"

#define NF_MAX_HOOK_IFACES 256

struct nf_hook_use {
        int ifindex;
        bool created_clsact;
        unsigned users;
};

struct nf_applier {
        struct nf_netns_id netns; /* where nl and world were opened: every request goes there */
        struct nf_nl nl;
        struct nf_world world;
        struct nf_hook_use uses[NF_MAX_HOOK_IFACES];
        size_t n_uses;
        /* Our API's TCP port (0: none). Traffic from and to it is exempt from every fault on an
         * interface we use: a guard filter at the first of our priorities ends classification
         * for it, so a blackhole of 0.0.0.0/0 cannot cut the API off. */
        uint16_t guard_port;
        /* Idle ifb links kept for the next fault (ifb_pool.h); off (max_idle 0) until the owner
         * sets it with nf_ifb_pool_configure(). */
        struct nf_ifb_pool pool;
};

struct nf_apply_error {
        int err;            /* negative errno */
        char message[256];  /* ours: what we were doing */
        char extack[NF_NL_EXTACK_LEN]; /* the kernel's, may be empty */
};

/* An applier for our own network namespace, and one for the namespace of netns_fd (a pod's,
 * given as /proc/PID/ns/net or a bind mount; the fd may be closed afterwards). */
int nf_applier_open(struct nf_applier *a);
int nf_applier_open_in(struct nf_applier *a, int netns_fd);
void nf_applier_close(struct nf_applier *a);

/* Chooses the ifb link of every plan link that has one (ifb_pool.h): with the pool on, the plan's
 * ifb_name and ifb_ifindex become the link actually used (the planner's are a default). nf_apply()
 * binds what is not bound yet; bind first to journal the real names. -ENOSPC when no link is
 * left (nothing is kept bound then). */
int nf_apply_bind(struct nf_applier *a, struct nf_plan *p);
/* What nf_apply_bind() would choose now, written into the plan without taking anything (a dry
 * run shows the links a fault would really get). */
void nf_apply_preview(const struct nf_applier *a, struct nf_plan *p);
/* Hands back what nf_apply_bind() chose, for a plan that will not be applied. */
void nf_apply_unbind(struct nf_applier *a, const struct nf_plan *p);
/* All or nothing: on failure everything this call created is gone again before it returns, and
 * a pooled link it took is idle again (or deleted). */
int nf_apply(struct nf_applier *a, struct nf_plan *p, struct nf_apply_error *err);
/* Adds the filters of keys[first..n_keys) to an applied plan, on every link; on failure the
 * added filters are removed again and the plan is left as it was before the call. */
int nf_apply_extend(struct nf_applier *a, struct nf_plan *p, size_t first, struct nf_apply_error *err);
/* Removes everything the plan created; missing objects are not an error. A pooled ifb link loses
 * the fault's filters and root qdisc and goes idle (alias NF_IFB_POOL_ALIAS) unless the pool is
 * full; any other is deleted. */
int nf_revert(struct nf_applier *a, const struct nf_plan *p, struct nf_apply_error *err);
/* Deletes the oldest idle link if it has been idle long enough (every idle link with now_ms < 0,
 * at shutdown); one link per call, so that a timer turn stays short. 1 when a link was deleted,
 * 0 when none was due, negative errno when the kernel refused (the link is forgotten anyway). */
int nf_ifb_pool_expire_one(struct nf_applier *a, int64_t now_ms);
/* Every idle link deleted (shutdown, or a namespace we leave). */
void nf_ifb_pool_drain(struct nf_applier *a);

struct nf_counters {
        uint64_t packets, bytes; /* matched by the fault's filters */
        uint64_t drops;          /* dropped by netem (loss, queue overflow) or the blackhole */
        uint64_t delivered;      /* sent by netem, duplicates included */
};
int nf_fault_counters(struct nf_applier *a, const struct nf_plan *p, struct nf_counters *out);
/* The counters of n faults of this applier's namespace: one qdisc dump for all of them, where
 * nf_fault_counters() dumps once per fault (fine for one, O(n^2) objects parsed for n). */
int nf_fault_counters_many(struct nf_applier *a, const struct nf_plan *const *plans, size_t n, struct nf_counters *out);
