/* The ifb pool (issue 17, fixed cost): ifb links of ours kept for the next fault instead of being
 * deleted. Creating an ifb and, above all, deleting one (unregistering a net device waits for RCU
 * grace periods) was most of a fault's fixed cost; handing a link back costs a qdisc delete and
 * an alias change.
 *
 * With the pool on, the applier names every ifb it makes itself: nfp<k> with ifindex
 * NF_IFB_POOL_INDEX_BASE + k, k the lowest number free in the namespace, outside the slots' range
 * (a recycled link must not hold the slot-derived name a later fault would create). While a fault
 * uses a link its alias is the fault's (netfaultd:<id>:<iface>:<dir>); an idle link's alias is
 * NF_IFB_POOL_ALIAS. Both names start with NF_IFB_PREFIX and both aliases with
 * NF_LINK_ALIAS_PREFIX, the marks the sweep and the guardian delete by, so idle links go with
 * them at start, at shutdown and after a kill.
 *
 * Isolation: a link carries at most one fault's qdisc (the revert deletes the root qdisc before
 * the link goes idle, and the next fault adds its own with NLM_F_EXCL, which fails rather than
 * inherit a leftover), and the fault's filters are deleted, in the same batch and before it, so
 * no filter points at an idle link.
 *
 * The bookkeeping (which k is free, taken or idle, which idle link is due) is pure and unit-tested
 * (tests/unit/test-ifb-pool.c); the applier (apply.c) sends the netlink. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netem/plan.h"

#define NF_IFB_POOL_DEFAULT 8          /* idle links kept per namespace (--ifb-pool) */
#define NF_IFB_POOL_MAX 64             /* the most --ifb-pool accepts */
#define NF_IFB_POOL_IDLE_DEFAULT_S 30  /* an idle link older than this is deleted (--ifb-pool-idle) */
#define NF_IFB_POOL_LINKS (64 * (int)NF_MAX_SLOTS) /* as many as the slots' ifindex range holds */
#define NF_IFB_POOL_INDEX_BASE (NF_IFB_INDEX_BASE + NF_IFB_POOL_LINKS) /* pool link k: base + k */
#define NF_IFB_POOL_PREFIX NF_IFB_PREFIX "p"
#define NF_IFB_POOL_ALIAS NF_LINK_ALIAS_PREFIX "pool"

enum nf_ifb_state {
        NF_IFB_FREE = 0, /* no such link of ours */
        NF_IFB_NEW,      /* chosen for a fault being applied; the apply creates it */
        NF_IFB_REUSED,   /* taken from the idle ones for a fault being applied; it exists */
        NF_IFB_BUSY,     /* carries an applied fault's qdisc */
        NF_IFB_IDLE,     /* exists, no qdisc of ours, no filter points at it */
};

struct nf_ifb_idle {
        unsigned k;
        int64_t since_ms; /* monotonic */
};

struct nf_ifb_pool {
        unsigned max_idle;  /* 0: no pool, ifbs are named by slot and deleted with their fault */
        int64_t idle_ms;    /* how long an idle link is kept */
        uint8_t state[NF_IFB_POOL_LINKS]; /* enum nf_ifb_state by k */
        struct nf_ifb_idle idle[NF_IFB_POOL_MAX]; /* oldest first */
        size_t n_idle;
};

void nf_ifb_pool_init(struct nf_ifb_pool *p, unsigned max_idle, int64_t idle_ms);
/* The settings only (at most NF_IFB_POOL_MAX idle); links idle or taken stay as they are. */
void nf_ifb_pool_configure(struct nf_ifb_pool *p, unsigned max_idle, int64_t idle_ms);
/* k of a pool link's ifindex, or -1 for any other ifindex. */
int nf_ifb_pool_k(int ifindex);

/* Chooses the link a plan link will use (pool on only; with the pool off it keeps the planner's
 * slot name): the most recently idled link (REUSED), else the lowest free k (NEW). Writes the
 * link's name and ifindex into l; the alias stays the fault's. A link already chosen is kept
 * (idempotent). -ENOSPC when every k is taken. */
int nf_ifb_pool_bind(struct nf_ifb_pool *p, struct nf_plan_link *l);
/* Undoes a bind that was never applied: a REUSED link goes idle again, a NEW one is free. */
void nf_ifb_pool_unbind(struct nf_ifb_pool *p, const struct nf_plan_link *l, int64_t now_ms);
/* The fault's apply went through: its links are BUSY. */
void nf_ifb_pool_applied(struct nf_ifb_pool *p, const struct nf_plan_link *l);
/* Reverting l's fault: true when the link is to be kept idle (the caller deletes its qdisc and
 * sets the pool alias), false when it is to be deleted (no pool, not a pool link, never applied
 * (NEW), or the pool holds max_idle already); either way the bookkeeping is done. */
bool nf_ifb_pool_release(struct nf_ifb_pool *p, const struct nf_plan_link *l, int64_t now_ms);
/* A link whose state is unknown after a failed request: no longer ours to reuse (the caller
 * deletes it). */
void nf_ifb_pool_forget(struct nf_ifb_pool *p, int ifindex);
/* The oldest idle link when it has been idle for idle_ms at now_ms (or any, with now_ms < 0):
 * taken off the pool and its ifindex returned for deletion; 0 when none is due. */
int nf_ifb_pool_take_expired(struct nf_ifb_pool *p, int64_t now_ms);
/* When the oldest idle link falls due (monotonic ms), or -1 when none is idle. */
int64_t nf_ifb_pool_next_expiry(const struct nf_ifb_pool *p);
