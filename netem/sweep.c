#include "netem/sweep.h"

#include <errno.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <netlink/route/link.h>
#include <stdio.h>
#include <string.h>

#include "netem/encode.h"

#define SWEEP_MAX_LINKS 4096
#define SWEEP_MAX_PRIOS 512

struct link_info {
        int ifindex;
        char name[IF_NAMESIZE];
        bool ours;
};

struct links_ctx {
        struct link_info *v;
        size_t n;
};

static void link_cb(struct nl_object *obj, void *arg) {
        struct rtnl_link *l = (struct rtnl_link *)obj;
        struct links_ctx *c = arg;
        const char *name = rtnl_link_get_name(l), *alias = rtnl_link_get_ifalias(l);
        if (c->n >= SWEEP_MAX_LINKS)
                return;
        struct link_info *li = &c->v[c->n++];
        li->ifindex = rtnl_link_get_ifindex(l);
        snprintf(li->name, sizeof(li->name), "%s", name ? name : "?");
        li->ours = name && strncmp(name, NF_IFB_PREFIX, strlen(NF_IFB_PREFIX)) == 0 && alias &&
                   strncmp(alias, NF_LINK_ALIAS_PREFIX, strlen(NF_LINK_ALIAS_PREFIX)) == 0;
}

struct prio_ctx {
        uint32_t info[SWEEP_MAX_PRIOS]; /* prio << 16 | protocol */
        size_t n;
        size_t total;
};

static int filter_cb(const struct nlmsghdr *nlh, void *data) {
        struct prio_ctx *c = data;
        const struct tcmsg *t = mnl_nlmsg_get_payload(nlh);
        if (nlh->nlmsg_type != RTM_NEWTFILTER)
                return MNL_CB_OK;
        c->total++;
        if (!nf_prio_is_ours((uint16_t)(t->tcm_info >> 16)))
                return MNL_CB_OK;
        for (size_t i = 0; i < c->n; i++)
                if (c->info[i] == t->tcm_info)
                        return MNL_CB_OK;
        if (c->n < SWEEP_MAX_PRIOS)
                c->info[c->n++] = t->tcm_info;
        return MNL_CB_OK;
}

static int dump_hook(struct nf_applier *a, int ifindex, uint32_t parent, struct prio_ctx *c) {
        char buf[256];
        *c = (struct prio_ctx){0};
        struct nlmsghdr *nlh = nf_enc_filter_dump(buf, sizeof(buf), ifindex, parent, 0);
        int r = nf_nl_request(&a->nl, nlh, filter_cb, c, NULL);
        return r == -EINVAL || r == -ENOENT ? 0 : r;
}

int nf_sweep(struct nf_applier *a, const int *clsact_created, size_t n_clsact, nf_sweep_log_fn log,
             struct nf_sweep_report *rep) {
        static struct link_info links[SWEEP_MAX_LINKS];
        struct links_ctx lc = {.v = links};
        struct nl_cache *cache = NULL;
        char msg[256], buf[512];
        int first = 0;

        *rep = (struct nf_sweep_report){0};
        if (rtnl_link_alloc_cache(a->world.sk, AF_UNSPEC, &cache) < 0)
                return -EIO;
        nl_cache_foreach(cache, link_cb, &lc);
        nl_cache_free(cache);

        /* Filters first (they point at our links), then the links, then empty clsacts of ours. */
        for (size_t i = 0; i < lc.n; i++) {
                if (links[i].ours)
                        continue;
                for (int d = NF_DIR_EGRESS; d <= NF_DIR_INGRESS; d++) {
                        struct prio_ctx pc;
                        uint32_t parent = nf_hook_parent(d);
                        if (dump_hook(a, links[i].ifindex, parent, &pc) < 0)
                                continue;
                        for (size_t k = 0; k < pc.n; k++) {
                                struct nlmsghdr *nlh = nf_enc_filter_del_prio(buf, sizeof(buf), links[i].ifindex, parent,
                                                                              (uint16_t)(pc.info[k] >> 16), AF_UNSPEC);
                                struct tcmsg *t = mnl_nlmsg_get_payload(nlh);
                                t->tcm_info = pc.info[k]; /* the exact priority and protocol found */
                                int r = nf_nl_request(&a->nl, nlh, NULL, NULL, NULL);
                                if (r < 0 && r != -ENOENT) {
                                        rep->errors++;
                                        first = first ? first : r;
                                        continue;
                                }
                                rep->filter_prios++;
                                snprintf(msg, sizeof(msg), "removed filters at priority %u on %s %s",
                                         pc.info[k] >> 16, links[i].name, d == NF_DIR_INGRESS ? "ingress" : "egress");
                                if (log)
                                        log("sweep.filters_removed", msg);
                        }
                }
        }
        for (size_t i = 0; i < lc.n; i++) {
                if (!links[i].ours)
                        continue;
                int r = nf_nl_request(&a->nl, nf_enc_link_del(buf, sizeof(buf), links[i].ifindex), NULL, NULL, NULL);
                if (r < 0 && r != -ENODEV) {
                        rep->errors++;
                        first = first ? first : r;
                        continue;
                }
                rep->links++;
                snprintf(msg, sizeof(msg), "removed ifb link %s", links[i].name);
                if (log)
                        log("sweep.link_removed", msg);
        }
        for (size_t i = 0; i < n_clsact; i++) {
                enum nf_hook_qdisc hook;
                struct prio_ctx eg, in;
                if (nf_world_hook_qdisc(&a->world, clsact_created[i], &hook) < 0 || hook != NF_HOOK_CLSACT)
                        continue;
                if (dump_hook(a, clsact_created[i], nf_hook_parent(NF_DIR_EGRESS), &eg) < 0 ||
                    dump_hook(a, clsact_created[i], nf_hook_parent(NF_DIR_INGRESS), &in) < 0 || eg.total || in.total)
                        continue; /* someone else uses it now: it stays */
                int r = nf_nl_request(&a->nl, nf_enc_clsact(buf, sizeof(buf), RTM_DELQDISC, clsact_created[i]), NULL,
                                      NULL, NULL);
                if (r < 0 && r != -ENOENT && r != -EINVAL) {
                        rep->errors++;
                        first = first ? first : r;
                        continue;
                }
                rep->qdiscs++;
                snprintf(msg, sizeof(msg), "removed the clsact qdisc netfaultd had created on ifindex %d", clsact_created[i]);
                if (log)
                        log("sweep.qdisc_removed", msg);
        }
        return first;
}
