#include "netem/sweep.h"

#include <arpa/inet.h>
#include <errno.h>
#include <linux/if_ether.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <linux/tc_act/tc_gact.h>
#include <linux/tc_act/tc_mirred.h>
#include <netinet/in.h>
#include <netlink/route/link.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "netem/encode.h"


struct link_info {
        int ifindex;
        char name[IF_NAMESIZE];
        bool ours;
};

/* Every link of the namespace: the sweep must see them all (a node can carry thousands of veths),
 * so the list grows with the dump; if memory runs out the sweep says so instead of stopping
 * silently at a fixed count. */
struct links_ctx {
        struct link_info *v;
        size_t n, cap;
        bool no_memory;
};

static void link_cb(struct nl_object *obj, void *arg) {
        struct rtnl_link *l = (struct rtnl_link *)obj;
        struct links_ctx *c = arg;
        const char *name = rtnl_link_get_name(l), *alias = rtnl_link_get_ifalias(l);
        if (c->n == c->cap) {
                size_t cap = c->cap ? 2 * c->cap : 64;
                struct link_info *v = c->no_memory ? NULL : realloc(c->v, cap * sizeof(*v));
                if (!v) {
                        c->no_memory = true;
                        return;
                }
                c->v = v;
                c->cap = cap;
        }
        struct link_info *li = &c->v[c->n++];
        li->ifindex = rtnl_link_get_ifindex(l);
        snprintf(li->name, sizeof(li->name), "%s", name ? name : "?");
        li->ours = name && strncmp(name, NF_IFB_PREFIX, strlen(NF_IFB_PREFIX)) == 0 && alias &&
                   strncmp(alias, NF_LINK_ALIAS_PREFIX, strlen(NF_LINK_ALIAS_PREFIX)) == 0;
}

/* ---- reading a filter (pure: a message in, a description out) ---- */

struct parse_ctx {
        struct nf_sweep_filter *f;
        const struct nlattr *options;
};

static int top_attr_cb(const struct nlattr *attr, void *data) {
        struct parse_ctx *c = data;
        switch (mnl_attr_get_type(attr)) {
        case TCA_KIND:
                if (mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) < 0)
                        return MNL_CB_ERROR;
                snprintf(c->f->kind, sizeof(c->f->kind), "%s", mnl_attr_get_str(attr));
                break;
        case TCA_CHAIN:
                if (mnl_attr_validate(attr, MNL_TYPE_U32) < 0)
                        return MNL_CB_ERROR;
                c->f->chain = mnl_attr_get_u32(attr);
                break;
        case TCA_OPTIONS:
                c->options = attr;
                break;
        }
        return MNL_CB_OK;
}

/* The index of a mirred or gact action, from its parameters (both start with tc_gen's index). */
static int action_index(const char *kind, const struct nlattr *opts, uint32_t *index) {
        const struct nlattr *a;
        bool mirred = strcmp(kind, "mirred") == 0, gact = strcmp(kind, "gact") == 0;
        if (!mirred && !gact)
                return -1;
        mnl_attr_for_each_nested(a, opts) {
                uint16_t t = mnl_attr_get_type(a);
                size_t need = mirred ? sizeof(struct tc_mirred) : sizeof(struct tc_gact);
                if ((mirred && t == TCA_MIRRED_PARMS) || (gact && t == TCA_GACT_PARMS)) {
                        if (mnl_attr_get_payload_len(a) < need)
                                return -1;
                        memcpy(index, mnl_attr_get_payload(a), sizeof(*index));
                        return 0;
                }
        }
        return -1;
}

static void parse_actions(struct nf_sweep_filter *f, const struct nlattr *acts) {
        const struct nlattr *act, *a;
        mnl_attr_for_each_nested(act, acts) {
                char kind[16] = "";
                const struct nlattr *opts = NULL;
                uint32_t index;
                if (f->n_actions < UINT8_MAX)
                        f->n_actions++;
                mnl_attr_for_each_nested(a, act) {
                        if (mnl_attr_get_type(a) == TCA_ACT_KIND && mnl_attr_validate(a, MNL_TYPE_NUL_STRING) == 0)
                                snprintf(kind, sizeof(kind), "%s", mnl_attr_get_str(a));
                        else if (mnl_attr_get_type(a) == TCA_ACT_OPTIONS)
                                opts = a;
                }
                if (opts && action_index(kind, opts, &index) == 0 && index >= NF_ACT_INDEX_BASE &&
                    index <= NF_ACT_INDEX_BASE + 0xffffu && f->n_our_actions < UINT8_MAX)
                        f->n_our_actions++;
        }
}

static void parse_flower(struct nf_sweep_filter *f, const struct nlattr *options) {
        const struct nlattr *a;
        mnl_attr_for_each_nested(a, options) {
                switch (mnl_attr_get_type(a)) {
                case TCA_FLOWER_ACT:
                        parse_actions(f, a);
                        break;
                case TCA_FLOWER_KEY_ETH_TYPE:
                        if (mnl_attr_get_payload_len(a) >= 2)
                                f->eth_type = ntohs(mnl_attr_get_u16(a));
                        break;
                case TCA_FLOWER_KEY_IP_PROTO:
                        if (mnl_attr_get_payload_len(a) >= 1)
                                f->ip_proto = mnl_attr_get_u8(a);
                        break;
                case TCA_FLOWER_KEY_TCP_SRC:
                case TCA_FLOWER_KEY_TCP_DST:
                        f->n_tcp_ports++;
                        break;
                /* what every filter of ours carries besides its keys, and the masks the kernel
                 * adds for the port keys */
                case TCA_FLOWER_KEY_TCP_SRC_MASK:
                case TCA_FLOWER_KEY_TCP_DST_MASK:
                case TCA_FLOWER_FLAGS:
                case TCA_FLOWER_IN_HW_COUNT:
                        break;
                default:
                        f->other_keys = true;
                        break;
                }
        }
}

int nf_sweep_parse_filter(const struct nlmsghdr *nlh, struct nf_sweep_filter *out) {
        struct parse_ctx c = {.f = out};
        *out = (struct nf_sweep_filter){0};
        if (nlh->nlmsg_type != RTM_NEWTFILTER || nlh->nlmsg_len < MNL_NLMSG_HDRLEN + sizeof(struct tcmsg))
                return -EINVAL;
        const struct tcmsg *t = mnl_nlmsg_get_payload(nlh);
        out->prio = (uint16_t)(t->tcm_info >> 16);
        out->protocol = ntohs((uint16_t)(t->tcm_info & 0xffff));
        out->handle = t->tcm_handle;
        if (mnl_attr_parse(nlh, sizeof(*t), top_attr_cb, &c) < 0)
                return -EINVAL;
        if (c.options && strcmp(out->kind, "flower") == 0)
                parse_flower(out, c.options);
        return 0;
}

/* ---- deciding (pure) ---- */

bool nf_sweep_filter_is_ours(const struct nf_sweep_filter *f) {
        if (strcmp(f->kind, "flower") != 0 || f->chain != 0 || f->handle == 0 || !nf_prio_is_ours(f->prio))
                return false;
        /* Priorities alternate IPv4, IPv6 from the base (the guard's and every slot's pair); our
         * filters match exactly their priority's protocol. */
        uint16_t want = (f->prio - NF_PRIO_BASE) % 2 ? ETH_P_IPV6 : ETH_P_IP;
        if (f->protocol != want || f->eth_type != want)
                return false;
        if (f->prio < NF_PRIO_BASE + 2)
                return f->handle == 1 && f->n_actions == 0 && f->ip_proto == IPPROTO_TCP && f->n_tcp_ports == 1 &&
                       !f->other_keys;
        return f->n_actions == 1 && f->n_our_actions == 1;
}

static int filter_cmp(const void *x, const void *y) {
        const struct nf_sweep_filter *a = x, *b = y;
        if (a->prio != b->prio)
                return a->prio < b->prio ? -1 : 1;
        if (a->protocol != b->protocol)
                return a->protocol < b->protocol ? -1 : 1;
        return a->handle < b->handle ? -1 : a->handle > b->handle;
}

size_t nf_sweep_decide(struct nf_sweep_filter *f, size_t n, struct nf_sweep_op *ops) {
        size_t k = 0, kept = 0;
        /* only the filters at our priorities, on chain 0 (all of ours are there), that are filters */
        for (size_t i = 0; i < n; i++)
                if (nf_prio_is_ours(f[i].prio) && f[i].chain == 0 && f[i].handle != 0)
                        f[kept++] = f[i];
        qsort(f, kept, sizeof(*f), filter_cmp);
        for (size_t lo = 0, hi; lo < kept; lo = hi) {
                size_t ours = 0;
                for (hi = lo; hi < kept && f[hi].prio == f[lo].prio && f[hi].protocol == f[lo].protocol; hi++)
                        ours += nf_sweep_filter_is_ours(&f[hi]);
                struct nf_sweep_op g = {.prio = f[lo].prio, .protocol = f[lo].protocol, .n_ours = ours,
                                        .n_foreign = hi - lo - ours};
                snprintf(g.kind_name, sizeof(g.kind_name), "%s", f[lo].kind);
                if (ours == hi - lo) {
                        g.kind = NF_SWEEP_DEL_PRIO;
                        ops[k++] = g;
                        continue;
                }
                for (size_t i = lo; i < hi; i++)
                        if (nf_sweep_filter_is_ours(&f[i])) {
                                ops[k] = g;
                                ops[k].kind = NF_SWEEP_DEL_HANDLE;
                                ops[k++].handle = f[i].handle;
                        }
                g.kind = NF_SWEEP_LEAVE;
                ops[k++] = g;
        }
        return k;
}

/* ---- the dump ---- */

struct hook_ctx {
        struct nf_sweep_filter *v; /* the filters at our priorities */
        size_t n, cap;
        size_t total; /* every filter message of the hook */
        int err;
};

static int filter_cb(const struct nlmsghdr *nlh, void *data) {
        struct hook_ctx *c = data;
        struct nf_sweep_filter f;
        if (nlh->nlmsg_type != RTM_NEWTFILTER)
                return MNL_CB_OK;
        c->total++;
        if (nf_sweep_parse_filter(nlh, &f) < 0 || !nf_prio_is_ours(f.prio) || f.handle == 0)
                return MNL_CB_OK;
        if (c->n == c->cap) {
                size_t cap = c->cap ? 2 * c->cap : 64;
                struct nf_sweep_filter *v = realloc(c->v, cap * sizeof(*v));
                if (!v) {
                        c->err = -ENOMEM;
                        return MNL_CB_OK; /* read the rest of the dump; fail afterwards */
                }
                c->v = v;
                c->cap = cap;
        }
        c->v[c->n++] = f;
        return MNL_CB_OK;
}

static int dump_hook(struct nf_applier *a, int ifindex, uint32_t parent, struct hook_ctx *c) {
        char buf[256];
        *c = (struct hook_ctx){0};
        struct nlmsghdr *nlh = nf_enc_filter_dump(NF_MSGBUF(buf), ifindex, parent, 0);
        int r = nf_nl_request(&a->nl, nlh, filter_cb, c, NULL);
        if (r == 0 && c->err)
                r = c->err;
        if (r < 0) {
                free(c->v);
                c->v = NULL;
        }
        return r == -EINVAL || r == -ENOENT ? 0 : r;
}

/* Carries out the decision for one hook. */
static int sweep_hook(struct nf_applier *a, const struct link_info *li, int d, nf_sweep_log_fn log,
                      struct nf_sweep_report *rep) {
        uint32_t parent = nf_hook_parent(d);
        const char *hook = d == NF_DIR_INGRESS ? "ingress" : "egress";
        struct hook_ctx hc;
        char msg[320], buf[512];
        int first = 0;
        if (dump_hook(a, li->ifindex, parent, &hc) < 0 || hc.n == 0) {
                free(hc.v);
                return 0;
        }
        struct nf_sweep_op *ops = calloc(2 * hc.n, sizeof(*ops));
        if (!ops) {
                free(hc.v);
                rep->errors++;
                return -ENOMEM;
        }
        size_t n_ops = nf_sweep_decide(hc.v, hc.n, ops);
        free(hc.v);
        for (size_t k = 0; k < n_ops; k++) {
                const struct nf_sweep_op *o = &ops[k];
                int fam = o->protocol == ETH_P_IPV6 ? AF_INET6 : AF_INET;
                if (o->kind == NF_SWEEP_LEAVE) {
                        rep->foreign_prios++;
                        snprintf(msg, sizeof(msg),
                                 "left %zu %s filter(s) at priority %u (0x%x) on %s %s: inside netfaultd's priority range "
                                 "but without its marks%s",
                                 o->n_foreign, o->kind_name, o->prio, o->prio, li->name, hook,
                                 o->n_ours ? " (netfaultd's own filters there were removed one by one)" : "");
                        if (log)
                                log("sweep.foreign_filters_left", msg);
                        continue;
                }
                if (o->kind == NF_SWEEP_DEL_HANDLE) {
                        /* One transaction for the priority: its handles are the ops that follow. */
                        size_t end = k;
                        while (end < n_ops && ops[end].kind == NF_SWEEP_DEL_HANDLE && ops[end].prio == o->prio &&
                               ops[end].protocol == o->protocol)
                                end++;
                        nf_nl_begin(&a->nl);
                        for (size_t h = k; h < end; h++)
                                nf_nl_queue(&a->nl,
                                            nf_enc_filter_del_handle(nf_nl_room(&a->nl), li->ifindex, parent, o->prio, fam,
                                                                     ops[h].handle),
                                            ENOENT);
                        int r = nf_nl_end(&a->nl, NULL);
                        if (r < 0) {
                                rep->errors++;
                                first = first ? first : r;
                        } else {
                                rep->filter_prios++;
                                snprintf(msg, sizeof(msg),
                                         "removed %zu filter(s) of netfaultd at priority %u on %s %s, one by one",
                                         o->n_ours, o->prio, li->name, hook);
                                if (log)
                                        log("sweep.filters_removed", msg);
                        }
                        k = end - 1;
                        continue;
                }
                struct nlmsghdr *nlh = nf_enc_filter_del_prio(NF_MSGBUF(buf), li->ifindex, parent, o->prio, fam);
                struct tcmsg *t = mnl_nlmsg_get_payload(nlh);
                t->tcm_info = TC_H_MAKE((uint32_t)o->prio << 16, htons(o->protocol)); /* exactly what was found */
                int r = nf_nl_request(&a->nl, nlh, NULL, NULL, NULL);
                if (r < 0 && r != -ENOENT) {
                        rep->errors++;
                        first = first ? first : r;
                        continue;
                }
                rep->filter_prios++;
                snprintf(msg, sizeof(msg), "removed filters at priority %u on %s %s", o->prio, li->name, hook);
                if (log)
                        log("sweep.filters_removed", msg);
        }
        free(ops);
        return first;
}

int nf_sweep(struct nf_applier *a, const int *clsact_created, size_t n_clsact, nf_sweep_log_fn log,
             struct nf_sweep_report *rep) {
        struct links_ctx lc = {0};
        struct nl_cache *cache = NULL;
        char msg[256], buf[512];
        int first = 0;

        *rep = (struct nf_sweep_report){0};
        if (rtnl_link_alloc_cache(a->world.sk, AF_UNSPEC, &cache) < 0)
                return -EIO;
        nl_cache_foreach(cache, link_cb, &lc);
        nl_cache_free(cache);
        if (lc.no_memory) {
                free(lc.v);
                rep->errors++;
                return -ENOMEM;
        }
        struct link_info *links = lc.v;

        /* Filters first (they point at our links), then the links, then empty clsacts of ours. */
        for (size_t i = 0; i < lc.n; i++) {
                if (links[i].ours)
                        continue;
                for (int d = NF_DIR_EGRESS; d <= NF_DIR_INGRESS; d++) {
                        int r = sweep_hook(a, &links[i], d, log, rep);
                        first = first ? first : r;
                }
        }
        for (size_t i = 0; i < lc.n; i++) {
                if (!links[i].ours)
                        continue;
                int r = nf_nl_request(&a->nl, nf_enc_link_del(NF_MSGBUF(buf), links[i].ifindex), NULL, NULL, NULL);
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
                struct hook_ctx eg, in;
                if (nf_world_hook_qdisc(&a->world, clsact_created[i], &hook) < 0 || hook != NF_HOOK_CLSACT)
                        continue;
                int r1 = dump_hook(a, clsact_created[i], nf_hook_parent(NF_DIR_EGRESS), &eg);
                free(eg.v);
                int r2 = dump_hook(a, clsact_created[i], nf_hook_parent(NF_DIR_INGRESS), &in);
                free(in.v);
                if (r1 < 0 || r2 < 0 || eg.total || in.total)
                        continue; /* someone else uses it now: it stays */
                int r = nf_nl_request(&a->nl, nf_enc_clsact(NF_MSGBUF(buf), RTM_DELQDISC, clsact_created[i]), NULL,
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
        free(links);
        return first;
}
