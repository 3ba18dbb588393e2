/* The ifb pool's bookkeeping (netem/ifb_pool.h): which link a fault gets, what its revert keeps,
 * what expires when. No kernel. */
#include <errno.h>
#include <stdlib.h>

#include "netem/ifb_pool.h"
#include "tap.h"

static struct nf_plan_link planned(unsigned slot) {
        struct nf_plan_link l = {.ifb_ifindex = NF_IFB_INDEX_BASE + 64 * (int)slot};
        snprintf(l.ifb_name, sizeof(l.ifb_name), "nfe%u.2", slot);
        snprintf(l.ifb_alias, sizeof(l.ifb_alias), "netfaultd:f-x:eth0:egress");
        return l;
}

int main(void) {
        struct nf_ifb_pool *p = malloc(sizeof(*p));
        struct nf_plan_link a = planned(0), b = planned(1), c = planned(2);

        /* Off: the planner's names stay and nothing is kept. */
        nf_ifb_pool_init(p, 0, 30000);
        tap_is_int(nf_ifb_pool_bind(p, &a), 0, "pool off: bind succeeds");
        tap_is_str(a.ifb_name, "nfe0.2", "pool off: the slot's name stays");
        tap_ok(!nf_ifb_pool_release(p, &a, 0), "pool off: a revert deletes the link");
        tap_is_int(nf_ifb_pool_k(a.ifb_ifindex), -1, "a slot's ifindex is not a pool link's");

        nf_ifb_pool_init(p, 2, 30000);
        tap_is_int(nf_ifb_pool_bind(p, &a), 0, "pool on: bind");
        tap_is_str(a.ifb_name, "nfp0", "a new link gets the lowest free pool name");
        tap_is_int(a.ifb_ifindex, NF_IFB_POOL_INDEX_BASE, "and its ifindex");
        tap_is_str(a.ifb_alias, "netfaultd:f-x:eth0:egress", "the alias stays the fault's");
        tap_ok(NF_IFB_POOL_INDEX_BASE > NF_IFB_INDEX_BASE + 64 * (int)(NF_MAX_SLOTS - 1) + 63,
               "pool ifindexes lie above every slot's");
        tap_is_int(p->state[0], NF_IFB_NEW, "a new link is to be created");
        tap_is_int(nf_ifb_pool_bind(p, &a), 0, "binding again is a no-op");
        tap_is_int(a.ifb_ifindex, NF_IFB_POOL_INDEX_BASE, "... and keeps the same link");
        tap_is_int(nf_ifb_pool_bind(p, &b), 0, "a second fault");
        tap_is_str(b.ifb_name, "nfp1", "gets the next name");
        nf_ifb_pool_applied(p, &a);
        nf_ifb_pool_applied(p, &b);
        tap_is_int(p->state[0], NF_IFB_BUSY, "applied: busy");

        /* Revert: kept idle until the pool is full. */
        tap_ok(nf_ifb_pool_release(p, &a, 1000), "a revert keeps the link idle");
        tap_is_int(p->state[0], NF_IFB_IDLE, "idle");
        tap_is_int(nf_ifb_pool_next_expiry(p), 31000, "due idle_ms after it went idle");
        c = planned(5);
        tap_is_int(nf_ifb_pool_bind(p, &c), 0, "a third fault");
        tap_is_str(c.ifb_name, "nfp0", "takes the idle link");
        tap_is_int(p->state[0], NF_IFB_REUSED, "which exists already");
        tap_is_int(nf_ifb_pool_next_expiry(p), -1, "nothing idle now");
        nf_ifb_pool_applied(p, &c);
        tap_ok(nf_ifb_pool_release(p, &b, 3000), "revert of b: idle (1 of 2)");
        tap_ok(nf_ifb_pool_release(p, &c, 4000), "revert of c: idle (2 of 2)");
        struct nf_plan_link d = planned(7);
        nf_ifb_pool_bind(p, &d);
        tap_is_str(d.ifb_name, "nfp0", "the most recently idled link is taken first");
        nf_ifb_pool_applied(p, &d);
        struct nf_plan_link e = planned(8);
        nf_ifb_pool_bind(p, &e);
        tap_is_str(e.ifb_name, "nfp1", "then the next idle one");
        struct nf_plan_link f = planned(9);
        nf_ifb_pool_bind(p, &f);
        tap_is_str(f.ifb_name, "nfp2", "with none idle, a new name");
        nf_ifb_pool_applied(p, &e);
        nf_ifb_pool_applied(p, &f);
        tap_ok(nf_ifb_pool_release(p, &d, 6000), "d idle");
        tap_ok(nf_ifb_pool_release(p, &e, 7000), "e idle (pool full now)");
        tap_ok(!nf_ifb_pool_release(p, &f, 8000), "a third idle link is beyond max: deleted");
        tap_is_int(p->state[2], NF_IFB_FREE, "and its name is free again");

        /* Expiry: oldest first, one at a time, only when due. */
        tap_is_int(nf_ifb_pool_take_expired(p, 35999), 0, "nothing due before idle_ms");
        tap_is_int(nf_ifb_pool_take_expired(p, 36000), NF_IFB_POOL_INDEX_BASE + 0, "the oldest is due first");
        tap_is_int(nf_ifb_pool_next_expiry(p), 37000, "the next one's time");
        tap_is_int(nf_ifb_pool_take_expired(p, 36500), 0, "not yet");
        tap_is_int(nf_ifb_pool_take_expired(p, -1), NF_IFB_POOL_INDEX_BASE + 1, "a drain takes it anyway");
        tap_is_int(nf_ifb_pool_take_expired(p, -1), 0, "empty");
        tap_is_int(p->state[0], NF_IFB_FREE, "expired names are free");

        /* A failed apply: the link taken from the pool goes back, a new one is deleted. */
        struct nf_plan_link g = planned(0), h = planned(1);
        nf_ifb_pool_bind(p, &g);
        nf_ifb_pool_applied(p, &g);
        nf_ifb_pool_release(p, &g, 100);
        g = planned(0);
        nf_ifb_pool_bind(p, &g); /* REUSED */
        nf_ifb_pool_bind(p, &h); /* NEW */
        tap_ok(nf_ifb_pool_release(p, &g, 300), "rollback: the reused link goes back idle");
        tap_ok(!nf_ifb_pool_release(p, &h, 300), "rollback: the new link (maybe never created) is deleted");
        tap_is_int(p->state[1], NF_IFB_FREE, "... and its name freed");
        /* Unbind (the journal write failed before any apply). */
        g = planned(0);
        h = planned(1);
        nf_ifb_pool_bind(p, &g);
        nf_ifb_pool_bind(p, &h);
        nf_ifb_pool_unbind(p, &g, 500);
        nf_ifb_pool_unbind(p, &h, 500);
        tap_is_int(p->n_idle, 1, "unbind: the reused link is idle again");
        tap_is_int(p->state[1], NF_IFB_FREE, "unbind: the new name is free");
        /* Forget: a link in doubt leaves the pool. */
        nf_ifb_pool_forget(p, NF_IFB_POOL_INDEX_BASE + (int)p->idle[0].k);
        tap_is_int(p->n_idle, 0, "forget: out of the idle list");

        /* A second revert of a link already idle: it leaves the list and is deleted. */
        nf_ifb_pool_init(p, 2, 1000);
        g = planned(0);
        nf_ifb_pool_bind(p, &g);
        nf_ifb_pool_applied(p, &g);
        tap_ok(nf_ifb_pool_release(p, &g, 0), "released once: idle");
        tap_ok(!nf_ifb_pool_release(p, &g, 0), "released again: deleted");
        tap_is_int(p->n_idle, 0, "... and no longer listed idle");
        tap_is_int(p->state[0], NF_IFB_FREE, "... its name free");

        /* Every name taken. */
        nf_ifb_pool_init(p, 2, 1000);
        int full = 0;
        for (int i = 0; i < NF_IFB_POOL_LINKS; i++) {
                struct nf_plan_link l = planned(0);
                full |= nf_ifb_pool_bind(p, &l);
        }
        tap_is_int(full, 0, "every pool name can be bound once");
        struct nf_plan_link last = planned(0);
        tap_is_int(nf_ifb_pool_bind(p, &last), -ENOSPC, "then -ENOSPC");
        free(p);
        return tap_done();
}
