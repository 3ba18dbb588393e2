#include "netem/links.h"

#include <errno.h>
#include <linux/rtnetlink.h>
#include <netlink/netlink.h>
#include <netlink/route/link.h>
#include <netlink/route/qdisc.h>
#include <netlink/route/route.h>
#include <netlink/route/tc.h>
#include <string.h>

int nf_world_open(struct nf_world *w) {
        w->sk = nl_socket_alloc();
        if (!w->sk)
                return -ENOMEM;
        if (nl_connect(w->sk, NETLINK_ROUTE) < 0) {
                nl_socket_free(w->sk);
                w->sk = NULL;
                return -EIO;
        }
        return 0;
}

void nf_world_close(struct nf_world *w) {
        if (w->sk)
                nl_socket_free(w->sk);
        w->sk = NULL;
}

static int nl_to_errno(int r) {
        return r == -NLE_NODEV || r == -NLE_OBJ_NOTFOUND ? -ENODEV : -EIO;
}

int nf_world_iface_by_name(struct nf_world *w, const char *name, struct nf_iface *out) {
        struct rtnl_link *link = NULL;
        int r = rtnl_link_get_kernel(w->sk, 0, name, &link);
        if (r < 0)
                return nl_to_errno(r);
        out->ifindex = rtnl_link_get_ifindex(link);
        snprintf(out->name, sizeof(out->name), "%s", rtnl_link_get_name(link));
        rtnl_link_put(link);
        return 0;
}

struct default_ctx {
        struct nf_iface *out;
        size_t max, n;
        struct nl_cache *links; /* names, read through our socket */
};

static void add_iface(struct default_ctx *c, int ifindex) {
        char name[IF_NAMESIZE];
        for (size_t i = 0; i < c->n; i++)
                if (c->out[i].ifindex == ifindex)
                        return;
        /* The name comes from the link dump of our own socket, not if_indextoname(): that asks
         * the namespace of the calling thread, and the socket may belong to another one (a
         * pod's, opened from its namespace file). */
        if (c->n >= c->max || ifindex <= 0 || !rtnl_link_i2name(c->links, ifindex, name, sizeof(name)))
                return;
        if (strcmp(name, "lo") == 0)
                return;
        c->out[c->n].ifindex = ifindex;
        snprintf(c->out[c->n].name, sizeof(c->out[c->n].name), "%s", name);
        c->n++;
}

static void route_cb(struct nl_object *obj, void *arg) {
        struct rtnl_route *rt = (struct rtnl_route *)obj;
        struct default_ctx *c = arg;
        struct nl_addr *dst = rtnl_route_get_dst(rt);
        if (rtnl_route_get_table(rt) != RT_TABLE_MAIN || rtnl_route_get_type(rt) != RTN_UNICAST)
                return;
        if (dst && nl_addr_get_prefixlen(dst) != 0)
                return;
        for (int i = 0; i < rtnl_route_get_nnexthops(rt); i++)
                add_iface(c, rtnl_route_nh_get_ifindex(rtnl_route_nexthop_n(rt, i)));
}

int nf_world_default_ifaces(struct nf_world *w, struct nf_iface *out, size_t max, size_t *n) {
        struct nl_cache *cache = NULL;
        struct default_ctx c = {.out = out, .max = max};
        if (rtnl_link_alloc_cache(w->sk, AF_UNSPEC, &c.links) < 0)
                return -EIO;
        int r = rtnl_route_alloc_cache(w->sk, AF_UNSPEC, 0, &cache);
        if (r < 0) {
                nl_cache_free(c.links);
                return -EIO;
        }
        nl_cache_foreach(cache, route_cb, &c);
        nl_cache_free(cache);
        nl_cache_free(c.links);
        *n = c.n;
        return 0;
}

struct qdisc_ctx {
        int ifindex;
        uint32_t handle;
        enum nf_hook_qdisc hook;
        bool found;
        struct nf_qdisc_stats stats;
};

struct hooks_ctx {
        const int *ifindexes;
        size_t n;
        enum nf_hook_qdisc *out;
};

static void hooks_cb(struct nl_object *obj, void *arg) {
        struct rtnl_tc *tc = (struct rtnl_tc *)obj;
        struct hooks_ctx *c = arg;
        const char *kind = rtnl_tc_get_kind(tc);
        if (!kind)
                return;
        for (size_t i = 0; i < c->n; i++) {
                if (rtnl_tc_get_ifindex(tc) != c->ifindexes[i])
                        continue;
                if (strcmp(kind, "clsact") == 0)
                        c->out[i] = NF_HOOK_CLSACT;
                else if (strcmp(kind, "ingress") == 0)
                        c->out[i] = NF_HOOK_INGRESS;
        }
}

int nf_world_hook_qdiscs(struct nf_world *w, const int *ifindexes, size_t n, enum nf_hook_qdisc *out) {
        struct nl_cache *cache = NULL;
        struct hooks_ctx c = {.ifindexes = ifindexes, .n = n, .out = out};
        for (size_t i = 0; i < n; i++)
                out[i] = NF_HOOK_NONE;
        if (rtnl_qdisc_alloc_cache(w->sk, &cache) < 0)
                return -EIO;
        nl_cache_foreach(cache, hooks_cb, &c);
        nl_cache_free(cache);
        return 0;
}

int nf_world_hook_qdisc(struct nf_world *w, int ifindex, enum nf_hook_qdisc *out) {
        return nf_world_hook_qdiscs(w, &ifindex, 1, out);
}

static void stats_cb(struct nl_object *obj, void *arg) {
        struct rtnl_tc *tc = (struct rtnl_tc *)obj;
        struct qdisc_ctx *c = arg;
        if (rtnl_tc_get_ifindex(tc) != c->ifindex || rtnl_tc_get_handle(tc) != c->handle)
                return;
        c->found = true;
        c->stats.packets = rtnl_tc_get_stat(tc, RTNL_TC_PACKETS);
        c->stats.bytes = rtnl_tc_get_stat(tc, RTNL_TC_BYTES);
        c->stats.drops = rtnl_tc_get_stat(tc, RTNL_TC_DROPS);
}

int nf_world_qdisc_stats(struct nf_world *w, int ifindex, uint32_t handle, struct nf_qdisc_stats *out) {
        struct nl_cache *cache = NULL;
        struct qdisc_ctx c = {.ifindex = ifindex, .handle = handle};
        if (rtnl_qdisc_alloc_cache(w->sk, &cache) < 0)
                return -EIO;
        nl_cache_foreach(cache, stats_cb, &c);
        nl_cache_free(cache);
        if (!c.found)
                return -ENOENT;
        *out = c.stats;
        return 0;
}

struct stats_many_ctx {
        const int *ifindexes;
        size_t n;
        uint32_t handle;
        struct nf_qdisc_stats *out;
        bool *found;
};

static void stats_many_cb(struct nl_object *obj, void *arg) {
        struct rtnl_tc *tc = (struct rtnl_tc *)obj;
        struct stats_many_ctx *c = arg;
        if (rtnl_tc_get_handle(tc) != c->handle)
                return;
        for (size_t i = 0; i < c->n; i++) {
                if (rtnl_tc_get_ifindex(tc) != c->ifindexes[i])
                        continue;
                c->found[i] = true;
                c->out[i].packets = rtnl_tc_get_stat(tc, RTNL_TC_PACKETS);
                c->out[i].bytes = rtnl_tc_get_stat(tc, RTNL_TC_BYTES);
                c->out[i].drops = rtnl_tc_get_stat(tc, RTNL_TC_DROPS);
        }
}

int nf_world_qdisc_stats_many(struct nf_world *w, const int *ifindexes, size_t n, uint32_t handle,
                              struct nf_qdisc_stats *out, bool *found) {
        struct nl_cache *cache = NULL;
        struct stats_many_ctx c = {.ifindexes = ifindexes, .n = n, .handle = handle, .out = out, .found = found};
        for (size_t i = 0; i < n; i++)
                found[i] = false;
        if (n == 0)
                return 0;
        if (rtnl_qdisc_alloc_cache(w->sk, &cache) < 0)
                return -EIO;
        nl_cache_foreach(cache, stats_many_cb, &c);
        nl_cache_free(cache);
        return 0;
}
