#include "netem/apply.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdarg.h>
#include <linux/gen_stats.h>
#include <netinet/in.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "netem/encode.h"

/* The pool's clock (core/clock.h is a layer above us). */
static int64_t now_ms(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int open_sockets(void *arg) {
        struct nf_applier *a = arg;
        int r = nf_nl_open(&a->nl);
        if (r < 0)
                return r;
        r = nf_world_open(&a->world);
        if (r < 0)
                nf_nl_close(&a->nl);
        return r;
}

int nf_applier_open(struct nf_applier *a) {
        *a = (struct nf_applier){0};
        int r = nf_netns_id_self(&a->netns);
        return r < 0 ? r : open_sockets(a);
}

int nf_applier_open_in(struct nf_applier *a, int netns_fd) {
        *a = (struct nf_applier){0};
        int r = nf_netns_id_of(netns_fd, &a->netns);
        if (r < 0)
                return r;
        /* Both sockets are made inside and every request after that reaches that namespace. */
        return nf_netns_run(netns_fd, open_sockets, a);
}

void nf_applier_close(struct nf_applier *a) {
        nf_world_close(&a->world);
        nf_nl_close(&a->nl);
}

static struct nf_hook_use *use_find(struct nf_applier *a, int ifindex, bool create) {
        for (size_t i = 0; i < a->n_uses; i++)
                if (a->uses[i].ifindex == ifindex)
                        return &a->uses[i];
        if (!create || a->n_uses >= NF_MAX_HOOK_IFACES)
                return NULL;
        a->uses[a->n_uses] = (struct nf_hook_use){.ifindex = ifindex};
        return &a->uses[a->n_uses++];
}

static void use_drop(struct nf_applier *a, struct nf_hook_use *u) {
        size_t i = (size_t)(u - a->uses);
        a->uses[i] = a->uses[--a->n_uses];
}

static int count_cb(const struct nlmsghdr *nlh, void *data) {
        (void)nlh;
        (*(size_t *)data)++;
        return MNL_CB_OK;
}

/* How many filters sit at parent (info 0) or at one priority/protocol. */
static int filters_at(struct nf_applier *a, int ifindex, uint32_t parent, uint32_t info, size_t *n) {
        char buf[256];
        *n = 0;
        struct nlmsghdr *nlh = nf_enc_filter_dump(NF_MSGBUF(buf), ifindex, parent, info);
        int r = nf_nl_request(&a->nl, nlh, count_cb, n, NULL);
        /* No clsact yet means no filters. */
        return r == -EINVAL || r == -ENOENT ? 0 : r;
}

static void set_err(struct nf_apply_error *err, int r, const char *extack, const char *fmt, ...)
        __attribute__((format(printf, 4, 5)));
static void set_err(struct nf_apply_error *err, int r, const char *extack, const char *fmt, ...) {
        va_list ap;
        if (!err)
                return;
        err->err = r;
        va_start(ap, fmt);
        vsnprintf(err->message, sizeof(err->message), fmt, ap);
        va_end(ap);
        snprintf(err->extack, sizeof(err->extack), "%s", extack ? extack : "");
}

static int prio_free(struct nf_applier *a, const struct nf_plan_link *l, uint32_t parent, uint16_t prio, int family,
                     struct nf_apply_error *err) {
        uint16_t eth = htons(family == AF_INET6 ? ETH_P_IPV6 : ETH_P_IP);
        size_t n;
        int r = filters_at(a, l->iface.ifindex, parent, TC_H_MAKE((uint32_t)prio << 16, eth), &n);
        if (r < 0) {
                set_err(err, r, NULL, "cannot read the filters of %s", l->iface.name);
                return r;
        }
        if (n > 0) {
                set_err(err, -EBUSY, NULL, "filter priority %u on %s %s is taken by a filter that is not netfaultd's", prio,
                        l->iface.name, parent == nf_hook_parent(NF_DIR_INGRESS) ? "ingress" : "egress");
                return -EBUSY;
        }
        return 0;
}

/* Reads the world once for the whole plan (one dump of every qdisc: hooks[i] is the hook qdisc
 * of links[i]'s interface) and refuses what would touch somebody else's objects. */
static int preflight(struct nf_applier *a, const struct nf_plan *p, enum nf_hook_qdisc *hooks, struct nf_apply_error *err) {
        int *ifindexes = calloc(p->n_links ? p->n_links : 1, sizeof(*ifindexes));
        size_t n_new = 0;
        int r = 0;
        if (!ifindexes) {
                set_err(err, -ENOMEM, NULL, "out of memory");
                return -ENOMEM;
        }
        /* Where a fault of ours already uses the interface, its clsact is known to be there (we
         * checked, or made it, with the first one): only interfaces new to us need the dump of
         * every qdisc, which grows with every fault's ifb and netem (issue 17: it was read on
         * every apply). */
        for (size_t i = 0; i < p->n_links; i++) {
                const struct nf_hook_use *u = use_find(a, p->links[i].iface.ifindex, false);
                hooks[i] = u && u->users > 0 ? NF_HOOK_CLSACT : NF_HOOK_NONE;
                if (hooks[i] == NF_HOOK_NONE)
                        ifindexes[n_new++] = p->links[i].iface.ifindex;
        }
        if (n_new > 0) {
                enum nf_hook_qdisc *found = calloc(n_new, sizeof(*found));
                r = found ? nf_world_hook_qdiscs(&a->world, ifindexes, n_new, found) : -ENOMEM;
                for (size_t i = 0; r == 0 && i < p->n_links; i++)
                        for (size_t k = 0; hooks[i] == NF_HOOK_NONE && k < n_new; k++)
                                if (ifindexes[k] == p->links[i].iface.ifindex) {
                                        hooks[i] = found[k];
                                        break;
                                }
                free(found);
        }
        free(ifindexes);
        if (r < 0) {
                set_err(err, r, NULL, "cannot read the qdiscs");
                return r;
        }
        for (size_t i = 0; i < p->n_links; i++) {
                const struct nf_plan_link *l = &p->links[i];
                struct nf_hook_use *u = use_find(a, l->iface.ifindex, false);
                if (hooks[i] == NF_HOOK_INGRESS) {
                        set_err(err, -EEXIST, NULL,
                                "%s carries an 'ingress' qdisc that is not ours; netfaultd needs clsact there and "
                                "never replaces what it did not create",
                                l->iface.name);
                        return -EEXIST;
                }
                if (hooks[i] == NF_HOOK_NONE)
                        continue;
                for (int v6 = 0; v6 < 2; v6++) {
                        int fam = v6 ? AF_INET6 : AF_INET;
                        if ((r = prio_free(a, l, nf_hook_parent(l->dir), v6 ? l->prio_v6 : l->prio_v4, fam, err)) < 0)
                                return r;
                        /* The guard goes in with our first fault on the interface, on both hooks. */
                        if (a->guard_port && (!u || u->users == 0))
                                for (int d = NF_DIR_EGRESS; d <= NF_DIR_INGRESS; d++)
                                        if ((r = prio_free(a, l, nf_hook_parent(d), nf_guard_prio(fam), fam, err)) < 0)
                                                return r;
                }
        }
        return 0;
}

/* Each request is built straight into the transaction's free room and queued there; a failure
 * to queue ends the transaction, which nf_nl_end() reports (nl.h), so the steps below are not
 * checked one by one. */
static struct nf_msgbuf room(struct nf_applier *a) {
        return nf_nl_room(&a->nl);
}

static void queue(struct nf_applier *a, struct nlmsghdr *nlh, int tolerate) {
        nf_nl_queue(&a->nl, nlh, tolerate);
}

static const char *request_name(uint16_t type);

/* What nf_nl_end() said about a transaction, in err. */
static void transaction_err(struct nf_apply_error *err, int r, const struct nf_nl_error *nlerr) {
        if (nlerr->unsent)
                set_err(err, r, NULL, "sending netlink requests failed");
        else
                set_err(err, r, nlerr->extack, "the kernel refused %s", request_name(nlerr->msg_type));
}

static const char *request_name(uint16_t type) {
        switch (type) {
        case RTM_NEWQDISC:
                return "creating a qdisc";
        case RTM_DELQDISC:
                return "deleting a qdisc";
        case RTM_NEWTFILTER:
                return "adding a filter";
        case RTM_DELTFILTER:
                return "deleting filters";
        case RTM_NEWLINK:
                return "creating or configuring an ifb link";
        case RTM_DELLINK:
                return "deleting an ifb link";
        default:
                return "a request";
        }
}

/* The fault's qdiscs on its ifb: netem as the root, or for a share of flows the prio tree of
 * netem/plan.h. Filters go in after the qdiscs they send packets to. */
static void queue_ifb_qdiscs(struct nf_applier *a, int ifb, const struct nf_plan *p) {
        uint32_t root = TC_H_MAKE(NF_QDISC_MAJOR << 16, 0);
        unsigned whole = p->flows_percent / NF_FLOW_BANDS, part = p->flows_percent % NF_FLOW_BANDS;
        if (!p->flows_percent) {
                queue(a, nf_enc_netem(room(a), ifb, root, TC_H_ROOT, &p->netem), 0);
                return;
        }
        queue(a, nf_enc_link_txqlen(room(a), ifb, NF_FLOW_TXQLEN), 0);
        queue(a, nf_enc_prio(room(a), ifb, root, TC_H_ROOT, NF_FLOW_BANDS), 0);
        for (uint32_t b = 1; b <= whole; b++)
                queue(a, nf_enc_netem(room(a), ifb, (NF_FLOW_NETEM_MAJOR + b) << 16, root | b, &p->netem), 0);
        if (part) {
                uint32_t sub = (NF_FLOW_SUB_MAJOR + whole + 1) << 16;
                queue(a, nf_enc_prio(room(a), ifb, sub, root | (whole + 1), NF_FLOW_BANDS), 0);
                for (uint32_t c = 1; c <= part; c++)
                        queue(a, nf_enc_netem(room(a), ifb, (NF_FLOW_SUBNETEM_MAJOR + c) << 16, sub | c, &p->netem), 0);
                queue(a, nf_enc_flow_hash(room(a), ifb, sub, NF_FLOW_PRIO, NF_FLOW_KEYS, NF_FLOW_BANDS, sub | 1), 0);
        }
        queue(a, nf_enc_flow_hash(room(a), ifb, root, NF_FLOW_PRIO, NF_FLOW_KEYS, NF_FLOW_BANDS, root | 1), 0);
}

/* Queues the flower filters of keys[first..n_keys) on every link of the plan; the handle of
 * key k is k + 1 in its priority, on every link. */
static void queue_filters(struct nf_applier *a, const struct nf_plan *p, size_t first) {
        for (size_t i = 0; i < p->n_links; i++) {
                const struct nf_plan_link *l = &p->links[i];
                struct nf_action_ref act = {.kind = l->action, .index = l->act_index, .redirect_ifindex = l->ifb_ifindex};
                for (size_t k = first; k < p->n_keys; k++) {
                        const struct nf_filter_key *key = &p->keys[k];
                        uint16_t prio = key->remote.family == AF_INET6 ? l->prio_v6 : l->prio_v4;
                        queue(a,
                              nf_enc_flower(room(a), l->iface.ifindex, nf_hook_parent(l->dir), prio, (uint32_t)k + 1,
                                            l->dir, key, &act),
                              0);
                }
        }
}

int nf_apply_bind(struct nf_applier *a, struct nf_plan *p) {
        for (size_t i = 0; i < p->n_links; i++) {
                if (!nf_action_info(p->links[i].action)->ifb)
                        continue;
                int r = nf_ifb_pool_bind(&a->pool, &p->links[i]);
                if (r < 0) {
                        nf_apply_unbind(a, p);
                        return r;
                }
        }
        return 0;
}

void nf_apply_preview(const struct nf_applier *a, struct nf_plan *p) {
        struct nf_ifb_pool *copy = a->pool.max_idle ? malloc(sizeof(*copy)) : NULL;
        if (!copy)
                return; /* the planner's names: what a pool that is off uses anyway */
        *copy = a->pool;
        for (size_t i = 0; i < p->n_links; i++)
                if (nf_action_info(p->links[i].action)->ifb)
                        nf_ifb_pool_bind(copy, &p->links[i]);
        free(copy);
}

void nf_apply_unbind(struct nf_applier *a, const struct nf_plan *p) {
        int64_t now = now_ms();
        for (size_t i = 0; i < p->n_links; i++)
                if (nf_action_info(p->links[i].action)->ifb)
                        nf_ifb_pool_unbind(&a->pool, &p->links[i], now);
}

/* Queues what makes the ifb of l ready for its qdisc: a link taken from the pool exists and is up
 * (only its alias changes to the fault's); any other is created. */
static void queue_ifb_take(struct nf_applier *a, const struct nf_plan_link *l) {
        int k = nf_ifb_pool_k(l->ifb_ifindex);
        if (k < 0 || a->pool.state[k] != NF_IFB_REUSED)
                queue(a, nf_enc_ifb_add(room(a), l->ifb_name, l->ifb_ifindex), 0);
        queue(a, nf_enc_link_up_alias(room(a), l->ifb_ifindex, l->ifb_alias), 0);
}

int nf_apply(struct nf_applier *a, struct nf_plan *p, struct nf_apply_error *err) {
        struct nf_nl_error nlerr = {0};
        enum nf_hook_qdisc *hooks;
        int r;

        if (err)
                *err = (struct nf_apply_error){0};
        hooks = calloc(p->n_links ? p->n_links : 1, sizeof(*hooks));
        if (!hooks) {
                set_err(err, -ENOMEM, NULL, "out of memory");
                return -ENOMEM;
        }
        r = preflight(a, p, hooks, err);
        if (r == 0 && (r = nf_apply_bind(a, p)) < 0)
                set_err(err, r, NULL, "every ifb link netfaultd can name in this namespace is taken");
        if (r < 0) {
                nf_apply_unbind(a, p); /* what the caller bound beforehand, too */
                free(hooks);
                return r;
        }

        /* Count our users first, so that a rollback through nf_revert() is exactly symmetric. */
        nf_nl_begin(&a->nl);
        for (size_t i = 0; i < p->n_links; i++) {
                const struct nf_plan_link *l = &p->links[i];
                struct nf_hook_use *u = use_find(a, l->iface.ifindex, true);
                if (!u) {
                        free(hooks);
                        nf_nl_end(&a->nl, NULL);
                        set_err(err, -ENOSPC, NULL, "faults already use %d interfaces, the most one netfaultd tracks",
                                NF_MAX_HOOK_IFACES);
                        nf_revert(a, p, NULL);
                        return -ENOSPC;
                }
                bool first = u->users++ == 0;
                if (first && hooks[i] == NF_HOOK_NONE) {
                        u->created_clsact = true;
                        queue(a, nf_enc_clsact(room(a), RTM_NEWQDISC, l->iface.ifindex), 0);
                }
                for (int d = NF_DIR_EGRESS; first && a->guard_port && d <= NF_DIR_INGRESS; d++) {
                        for (int v6 = 0; v6 < 2; v6++) {
                                /* Any address, tcp, our API port as the local port; no action, so a
                                 * match ends classification with TC_ACT_OK: the packet goes on as if
                                 * no fault existed. */
                                struct nf_filter_key g = {.remote.family = v6 ? AF_INET6 : AF_INET,
                                                          .ip_proto = IPPROTO_TCP,
                                                          .local_port = {a->guard_port, a->guard_port}};
                                queue(a,
                                      nf_enc_flower(room(a), l->iface.ifindex, nf_hook_parent(d),
                                                    nf_guard_prio(g.remote.family), 1, d, &g, NULL),
                                      0);
                        }
                }
        }
        free(hooks);
        for (size_t i = 0; i < p->n_links; i++) {
                const struct nf_plan_link *l = &p->links[i];
                if (!nf_action_info(l->action)->ifb)
                        continue;
                queue_ifb_take(a, l);
                queue_ifb_qdiscs(a, l->ifb_ifindex, p);
        }
        queue_filters(a, p, 0);
        r = nf_nl_end(&a->nl, &nlerr);
        if (r == 0) {
                for (size_t i = 0; i < p->n_links; i++)
                        nf_ifb_pool_applied(&a->pool, &p->links[i]);
                return 0;
        }
        transaction_err(err, r, &nlerr);
        nf_revert(a, p, NULL);
        return r;
}

int nf_apply_extend(struct nf_applier *a, struct nf_plan *p, size_t first, struct nf_apply_error *err) {
        struct nf_nl_error nlerr = {0};
        int r;

        if (err)
                *err = (struct nf_apply_error){0};
        nf_nl_begin(&a->nl);
        queue_filters(a, p, first);
        r = nf_nl_end(&a->nl, &nlerr);
        if (r == 0)
                return 0;
        transaction_err(err, r, &nlerr);
        /* Take back exactly the filters this call added, by handle. */
        nf_nl_begin(&a->nl);
        for (size_t i = 0; i < p->n_links; i++) {
                const struct nf_plan_link *l = &p->links[i];
                for (size_t k = first; k < p->n_keys; k++) {
                        uint16_t prio = p->keys[k].remote.family == AF_INET6 ? l->prio_v6 : l->prio_v4;
                        queue(a,
                              nf_enc_filter_del_handle(room(a), l->iface.ifindex, nf_hook_parent(l->dir), prio,
                                                       p->keys[k].remote.family, (uint32_t)k + 1),
                              ENOENT);
                }
        }
        nf_nl_end(&a->nl, NULL);
        p->n_keys = first;
        return r;
}

int nf_revert(struct nf_applier *a, const struct nf_plan *p, struct nf_apply_error *err) {
        struct nf_nl_error nlerr = {0};
        int r, first = 0;

        if (err)
                *err = (struct nf_apply_error){0};
        nf_nl_begin(&a->nl);
        for (size_t i = 0; i < p->n_links; i++) {
                const struct nf_plan_link *l = &p->links[i];
                uint32_t parent = nf_hook_parent(l->dir);
                /* One request per priority removes every filter of the fault at once; both families,
                 * since keys added later (re-resolved hostnames) may be of either. */
                queue(a, nf_enc_filter_del_prio(room(a), l->iface.ifindex, parent, l->prio_v4, AF_INET), ENOENT);
                queue(a, nf_enc_filter_del_prio(room(a), l->iface.ifindex, parent, l->prio_v6, AF_INET6), ENOENT);
        }
        /* After the filters (the kernel takes a batch in order): no filter points at a link that
         * goes idle. Its root qdisc goes (deleted, never changed: a change would keep the absent
         * attributes of this fault for the next), and its alias says it is idle. */
        int64_t now = now_ms();
        bool *kept = calloc(p->n_links ? p->n_links : 1, sizeof(*kept));
        for (size_t i = 0; i < p->n_links; i++) {
                const struct nf_plan_link *l = &p->links[i];
                if (!nf_action_info(l->action)->ifb)
                        continue;
                if (kept && nf_ifb_pool_release(&a->pool, l, now)) {
                        kept[i] = true;
                        queue(a, nf_enc_qdisc_del(room(a), l->ifb_ifindex, TC_H_MAKE(NF_QDISC_MAJOR << 16, 0), TC_H_ROOT),
                              EINVAL);
                        queue(a, nf_enc_link_up_alias(room(a), l->ifb_ifindex, NF_IFB_POOL_ALIAS), 0);
                } else {
                        if (!kept)
                                nf_ifb_pool_forget(&a->pool, l->ifb_ifindex);
                        queue(a, nf_enc_link_del(room(a), l->ifb_ifindex), ENODEV);
                }
        }
        r = nf_nl_end(&a->nl, &nlerr);
        if (r < 0) {
                first = r;
                transaction_err(err, r, &nlerr);
                /* Which request failed matters less than what is certain: a link whose hand-back
                 * may not have gone through is not reused but deleted. */
                nf_nl_begin(&a->nl);
                for (size_t i = 0; kept && i < p->n_links; i++)
                        if (kept[i]) {
                                nf_ifb_pool_forget(&a->pool, p->links[i].ifb_ifindex);
                                queue(a, nf_enc_link_del(room(a), p->links[i].ifb_ifindex), ENODEV);
                        }
                nf_nl_end(&a->nl, NULL);
                /* A pooled link that vanished (someone deleted it) is as reverted as a deleted
                 * one: the same as ENODEV on a link delete, which is tolerated. */
                if (r == -ENODEV && (nlerr.msg_type == RTM_DELQDISC || nlerr.msg_type == RTM_NEWLINK)) {
                        first = 0;
                        if (err)
                                *err = (struct nf_apply_error){0};
                }
        }
        free(kept);

        /* A clsact we created goes away with our last fault on that interface, and only if
         * nobody else attached a filter to it meanwhile. */
        for (size_t i = 0; i < p->n_links; i++) {
                struct nf_hook_use *u = use_find(a, p->links[i].iface.ifindex, false);
                if (!u || u->users == 0)
                        continue;
                if (--u->users > 0)
                        continue;
                for (int d = NF_DIR_EGRESS; a->guard_port && d <= NF_DIR_INGRESS; d++)
                        for (int v6 = 0; v6 < 2; v6++) {
                                char buf[256];
                                int fam = v6 ? AF_INET6 : AF_INET;
                                struct nlmsghdr *nlh = nf_enc_filter_del_prio(NF_MSGBUF(buf), u->ifindex, nf_hook_parent(d),
                                                                              nf_guard_prio(fam), fam);
                                r = nf_nl_request(&a->nl, nlh, NULL, NULL, &nlerr);
                                if (r < 0 && r != -ENOENT && r != -EINVAL && !first) {
                                        first = r;
                                        set_err(err, r, nlerr.extack, "the kernel refused deleting the guard filter");
                                }
                        }
                if (u->created_clsact) {
                        size_t n_eg = 0, n_in = 0;
                        char buf[256];
                        if (filters_at(a, u->ifindex, nf_hook_parent(NF_DIR_EGRESS), 0, &n_eg) == 0 &&
                            filters_at(a, u->ifindex, nf_hook_parent(NF_DIR_INGRESS), 0, &n_in) == 0 && n_eg == 0 &&
                            n_in == 0) {
                                struct nlmsghdr *nlh = nf_enc_clsact(NF_MSGBUF(buf), RTM_DELQDISC, u->ifindex);
                                r = nf_nl_request(&a->nl, nlh, NULL, NULL, &nlerr);
                                if (r < 0 && r != -ENOENT && r != -EINVAL && !first) {
                                        first = r;
                                        set_err(err, r, nlerr.extack, "the kernel refused deleting clsact");
                                }
                        }
                }
                use_drop(a, u);
        }
        return first;
}

int nf_ifb_pool_expire_one(struct nf_applier *a, int64_t now) {
        char buf[256];
        int ifindex = nf_ifb_pool_take_expired(&a->pool, now);
        if (ifindex == 0)
                return 0;
        int r = nf_nl_request(&a->nl, nf_enc_link_del(NF_MSGBUF(buf), ifindex), NULL, NULL, NULL);
        return r < 0 && r != -ENODEV ? r : 1;
}

void nf_ifb_pool_drain(struct nf_applier *a) {
        while (a->pool.n_idle > 0)
                nf_ifb_pool_expire_one(a, -1);
}
