/* A fault's kernel counters (GET /v1/faults/{id}, /metrics): its filters' actions and its
 * netem qdiscs, read for one fault or, with one dump per kind, for many. Apart from apply.c,
 * which changes the kernel: this only reads it. */
#include "netem/apply.h"

#include <errno.h>
#include <linux/gen_stats.h>
#include <linux/pkt_cls.h>
#include <linux/pkt_sched.h>
#include <linux/rtnetlink.h>
#include <stdlib.h>
#include <string.h>

#include "netem/encode.h"

/* From this many links on, counters are read with one dump per action kind. */
#define NF_ACTION_DUMP_FROM 4

struct action_stats {
        uint64_t packets, bytes, drops;
        bool found;
};

static void parse_stats_nest(const struct nlattr *stats, struct action_stats *st) {
        const struct nlattr *attr;
        mnl_attr_for_each_nested(attr, stats) {
                uint16_t t = mnl_attr_get_type(attr);
                const char *v = mnl_attr_get_payload(attr);
                if (t == TCA_STATS_BASIC && mnl_attr_get_payload_len(attr) >= 12) {
                        uint64_t bytes;
                        uint32_t pkts;
                        memcpy(&bytes, v, 8);
                        memcpy(&pkts, v + 8, 4);
                        st->bytes += bytes;
                        st->packets += pkts;
                        st->found = true;
                } else if (t == TCA_STATS_QUEUE && mnl_attr_get_payload_len(attr) >= sizeof(struct gnet_stats_queue)) {
                        struct gnet_stats_queue q;
                        memcpy(&q, v, sizeof(q));
                        st->drops += q.drops;
                }
        }
}

static int action_cb(const struct nlmsghdr *nlh, void *data) {
        struct action_stats *st = data;
        const struct nlattr *tab, *act, *attr;
        /* The kernel answers a get with the request's own type (RTM_GETACTION). */
        if (nlh->nlmsg_type != RTM_NEWACTION && nlh->nlmsg_type != RTM_GETACTION)
                return MNL_CB_OK;
        mnl_attr_for_each(tab, nlh, sizeof(struct tcamsg)) {
                if (mnl_attr_get_type(tab) != TCA_ACT_TAB)
                        continue;
                mnl_attr_for_each_nested(act, tab) {
                        mnl_attr_for_each_nested(attr, act) {
                                if (mnl_attr_get_type(attr) == TCA_ACT_STATS)
                                        parse_stats_nest(attr, st);
                        }
                }
        }
        return MNL_CB_OK;
}

/* The action's counters of one link into out (the netem qdisc's are added by the callers). */
static void link_action_counters(struct nf_applier *a, const struct nf_plan_link *l, struct nf_counters *out) {
        const struct nf_action_info *act = nf_action_info(l->action);
        char buf[256];
        struct action_stats st = {0};
        struct nlmsghdr *nlh = nf_enc_action_get(NF_MSGBUF(buf), act->tc_kind, l->act_index);
        if (nlh && nf_nl_request(&a->nl, nlh, action_cb, &st, NULL) == 0) {
                out->packets += st.packets;
                out->bytes += st.bytes;
                if (act->drops)
                        out->drops += st.packets;
        }
}

/* Every action of one kind at once: the statistics of those whose index is in idx (sorted),
 * into st[i] for idx[i]. */
struct action_dump {
        const uint32_t *idx;
        size_t n;
        struct action_stats *st;
};

static int index_cmp(const void *a, const void *b) {
        uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
        return x < y ? -1 : x > y;
}

static int action_dump_cb(const struct nlmsghdr *nlh, void *data) {
        struct action_dump *d = data;
        const struct nlattr *tab, *act, *attr, *opt;
        if (nlh->nlmsg_type != RTM_NEWACTION && nlh->nlmsg_type != RTM_GETACTION)
                return MNL_CB_OK;
        mnl_attr_for_each(tab, nlh, sizeof(struct tcamsg)) {
                if (mnl_attr_get_type(tab) != TCA_ACT_TAB)
                        continue;
                mnl_attr_for_each_nested(act, tab) {
                        const struct nlattr *stats = NULL;
                        uint32_t index = 0;
                        bool has = false;
                        mnl_attr_for_each_nested(attr, act) {
                                uint16_t t = mnl_attr_get_type(attr);
                                if (t == TCA_ACT_INDEX && mnl_attr_get_payload_len(attr) >= 4) {
                                        index = mnl_attr_get_u32(attr);
                                        has = true;
                                } else if (t == TCA_ACT_STATS) {
                                        stats = attr;
                                } else if (t == TCA_ACT_OPTIONS && !has) {
                                        /* mirred's and gact's parameters (type 2) start with tc_gen's index */
                                        mnl_attr_for_each_nested(opt, attr) if (mnl_attr_get_type(opt) == 2 &&
                                                                               mnl_attr_get_payload_len(opt) >= 4) {
                                                memcpy(&index, mnl_attr_get_payload(opt), 4);
                                                has = true;
                                        }
                                }
                        }
                        const uint32_t *hit = has && stats ? bsearch(&index, d->idx, d->n, sizeof(*d->idx), index_cmp) : NULL;
                        if (hit)
                                parse_stats_nest(stats, &d->st[hit - d->idx]);
                }
        }
        return MNL_CB_OK;
}

/* The counters of the actions of n links (any kinds) into st[], with one dump per kind; -1 when
 * a dump failed (the caller asks each action then). */
static int actions_dumped(struct nf_applier *a, const struct nf_plan_link *const *links, size_t n, struct action_stats *st) {
        for (int kind = 0; kind < 2; kind++) {
                enum nf_action_kind k = kind ? NF_ACTION_DROP : NF_ACTION_REDIRECT;
                uint32_t *idx = calloc(n + 1, sizeof(*idx));
                struct action_stats *got = calloc(n + 1, sizeof(*got));
                size_t m = 0;
                int r = 0;
                if (!idx || !got) {
                        free(idx);
                        free(got);
                        return -1;
                }
                for (size_t i = 0; i < n; i++)
                        if (links[i]->action == k)
                                idx[m++] = links[i]->act_index;
                if (m > 0) {
                        char buf[256];
                        struct action_dump d = {.idx = idx, .n = m, .st = got};
                        qsort(idx, m, sizeof(*idx), index_cmp);
                        struct nlmsghdr *nlh = nf_enc_action_dump(NF_MSGBUF(buf), nf_action_info(k)->tc_kind);
                        r = nlh ? nf_nl_request(&a->nl, nlh, action_dump_cb, &d, NULL) : -ENOMEM;
                        for (size_t i = 0; r == 0 && i < n; i++) {
                                const uint32_t *hit;
                                if (links[i]->action == k &&
                                    (hit = bsearch(&links[i]->act_index, idx, m, sizeof(*idx), index_cmp)))
                                        st[i] = got[hit - idx];
                        }
                }
                free(idx);
                free(got);
                if (r < 0)
                        return -1;
        }
        return 0;
}

int nf_fault_counters(struct nf_applier *a, const struct nf_plan *p, struct nf_counters *out) {
        return nf_fault_counters_many(a, &p, 1, out);
}

int nf_fault_counters_many(struct nf_applier *a, const struct nf_plan *const *plans, size_t n, struct nf_counters *out) {
        size_t n_ifb = 0, k = 0;
        for (size_t f = 0; f < n; f++) {
                out[f] = (struct nf_counters){0};
                for (size_t i = 0; i < plans[f]->n_links; i++)
                        n_ifb += nf_action_info(plans[f]->links[i].action)->ifb;
        }
        int *ifbs = calloc(n_ifb + 1, sizeof(*ifbs));
        struct nf_qdisc_stats *qs = calloc(n_ifb + 1, sizeof(*qs));
        bool *found = calloc(n_ifb + 1, sizeof(*found));
        if (!ifbs || !qs || !found) {
                free(ifbs);
                free(qs);
                free(found);
                return -ENOMEM;
        }
        for (size_t f = 0; f < n; f++)
                for (size_t i = 0; i < plans[f]->n_links; i++)
                        if (nf_action_info(plans[f]->links[i].action)->ifb)
                                ifbs[k++] = plans[f]->links[i].ifb_ifindex;
        if (nf_world_qdisc_stats_many(&a->world, ifbs, n_ifb, TC_H_MAKE(NF_QDISC_MAJOR << 16, 0), qs, found) < 0)
                n_ifb = 0; /* the actions' counters still count */
        /* Many faults (a scrape): one dump of each action kind rather than a request per link. */
        size_t n_links = 0, j = 0;
        for (size_t f = 0; f < n; f++)
                n_links += plans[f]->n_links;
        const struct nf_plan_link **links = n_links > NF_ACTION_DUMP_FROM ? calloc(n_links, sizeof(*links)) : NULL;
        struct action_stats *st = links ? calloc(n_links, sizeof(*st)) : NULL;
        for (size_t f = 0; st && f < n; f++)
                for (size_t i = 0; i < plans[f]->n_links; i++)
                        links[j++] = &plans[f]->links[i];
        bool dumped = st && actions_dumped(a, links, n_links, st) == 0;
        k = 0;
        j = 0;
        for (size_t f = 0; f < n; f++) {
                for (size_t i = 0; i < plans[f]->n_links; i++, j++) {
                        const struct nf_plan_link *l = &plans[f]->links[i];
                        if (dumped) {
                                out[f].packets += st[j].packets;
                                out[f].bytes += st[j].bytes;
                                if (nf_action_info(l->action)->drops)
                                        out[f].drops += st[j].packets;
                        } else {
                                link_action_counters(a, l, &out[f]);
                        }
                        if (!nf_action_info(l->action)->ifb)
                                continue;
                        if (k < n_ifb && found[k]) {
                                out[f].drops += qs[k].drops;
                                out[f].delivered += qs[k].packets;
                        }
                        k++;
                }
        }
        free(links);
        free(st);
        free(ifbs);
        free(qs);
        free(found);
        return 0;
}
