#include "netem/ifb_pool.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>

void nf_ifb_pool_init(struct nf_ifb_pool *p, unsigned max_idle, int64_t idle_ms) {
        memset(p, 0, sizeof(*p));
        nf_ifb_pool_configure(p, max_idle, idle_ms);
}

void nf_ifb_pool_configure(struct nf_ifb_pool *p, unsigned max_idle, int64_t idle_ms) {
        p->max_idle = max_idle > NF_IFB_POOL_MAX ? NF_IFB_POOL_MAX : max_idle;
        p->idle_ms = idle_ms;
}

int nf_ifb_pool_k(int ifindex) {
        if (ifindex < NF_IFB_POOL_INDEX_BASE || ifindex >= NF_IFB_POOL_INDEX_BASE + NF_IFB_POOL_LINKS)
                return -1;
        return ifindex - NF_IFB_POOL_INDEX_BASE;
}

static void name_link(struct nf_plan_link *l, unsigned k) {
        l->ifb_ifindex = NF_IFB_POOL_INDEX_BASE + (int)k;
        snprintf(l->ifb_name, sizeof(l->ifb_name), NF_IFB_POOL_PREFIX "%u", k);
}

static void idle_push(struct nf_ifb_pool *p, unsigned k, int64_t now_ms) {
        p->idle[p->n_idle++] = (struct nf_ifb_idle){.k = k, .since_ms = now_ms};
        p->state[k] = NF_IFB_IDLE;
}

static void idle_remove(struct nf_ifb_pool *p, size_t i) {
        memmove(&p->idle[i], &p->idle[i + 1], (p->n_idle - i - 1) * sizeof(p->idle[0]));
        p->n_idle--;
}

int nf_ifb_pool_bind(struct nf_ifb_pool *p, struct nf_plan_link *l) {
        int k = nf_ifb_pool_k(l->ifb_ifindex);
        if (p->max_idle == 0)
                return 0;
        if (k >= 0 && (p->state[k] == NF_IFB_NEW || p->state[k] == NF_IFB_REUSED || p->state[k] == NF_IFB_BUSY))
                return 0;
        /* The newest idle link: the oldest ones are the next to expire, so a steady trickle of
         * faults keeps a few links warm and lets the rest go. */
        if (p->n_idle > 0) {
                unsigned got = p->idle[--p->n_idle].k;
                p->state[got] = NF_IFB_REUSED;
                name_link(l, got);
                return 0;
        }
        for (unsigned i = 0; i < (unsigned)NF_IFB_POOL_LINKS; i++)
                if (p->state[i] == NF_IFB_FREE) {
                        p->state[i] = NF_IFB_NEW;
                        name_link(l, i);
                        return 0;
                }
        return -ENOSPC;
}

void nf_ifb_pool_unbind(struct nf_ifb_pool *p, const struct nf_plan_link *l, int64_t now_ms) {
        int k = nf_ifb_pool_k(l->ifb_ifindex);
        if (k < 0)
                return;
        if (p->state[k] == NF_IFB_NEW)
                p->state[k] = NF_IFB_FREE;
        else if (p->state[k] == NF_IFB_REUSED && p->n_idle < NF_IFB_POOL_MAX)
                idle_push(p, (unsigned)k, now_ms);
}

void nf_ifb_pool_applied(struct nf_ifb_pool *p, const struct nf_plan_link *l) {
        int k = nf_ifb_pool_k(l->ifb_ifindex);
        if (k >= 0 && (p->state[k] == NF_IFB_NEW || p->state[k] == NF_IFB_REUSED))
                p->state[k] = NF_IFB_BUSY;
}

bool nf_ifb_pool_release(struct nf_ifb_pool *p, const struct nf_plan_link *l, int64_t now_ms) {
        int k = nf_ifb_pool_k(l->ifb_ifindex);
        if (k < 0)
                return false;
        /* A NEW link of a failed apply may or may not exist: deleted (ENODEV is fine). An idle
         * one (a second revert of one plan, which should not happen) leaves the idle list before
         * it is deleted, so that nothing stays listed that is gone. */
        bool keep = (p->state[k] == NF_IFB_BUSY || p->state[k] == NF_IFB_REUSED) && p->n_idle < p->max_idle;
        if (keep)
                idle_push(p, (unsigned)k, now_ms);
        else
                nf_ifb_pool_forget(p, l->ifb_ifindex);
        return keep;
}

void nf_ifb_pool_forget(struct nf_ifb_pool *p, int ifindex) {
        int k = nf_ifb_pool_k(ifindex);
        if (k < 0)
                return;
        for (size_t i = 0; i < p->n_idle; i++)
                if (p->idle[i].k == (unsigned)k) {
                        idle_remove(p, i);
                        break;
                }
        p->state[k] = NF_IFB_FREE;
}

int nf_ifb_pool_take_expired(struct nf_ifb_pool *p, int64_t now_ms) {
        if (p->n_idle == 0 || (now_ms >= 0 && p->idle[0].since_ms + p->idle_ms > now_ms))
                return 0;
        unsigned k = p->idle[0].k;
        idle_remove(p, 0);
        p->state[k] = NF_IFB_FREE;
        return NF_IFB_POOL_INDEX_BASE + (int)k;
}

int64_t nf_ifb_pool_next_expiry(const struct nf_ifb_pool *p) {
        return p->n_idle ? p->idle[0].since_ms + p->idle_ms : -1;
}
