/* Asynchronous resolution of target hostnames (A and AAAA) with libevent's evdns, using the
 * resolver configuration of the namespace netfaultd runs in (/etc/resolv.conf; `ip netns exec`
 * binds /etc/netns/NAME/resolv.conf over it). A lookup covers a set of names and calls back once
 * every query has answered or timed out. */
#pragma once
#include "core/layer.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "netem/cidr.h"
#include "netem/spec.h"

struct event_base;
struct evdns_base;
struct evdns_request;

#define NF_MAX_NAME_ADDRS 64
#define NF_MAX_NAMESERVERS 8 /* read from resolv.conf (glibc itself uses the first 3) */

struct nf_lookup;

struct nf_resolver {
        struct evdns_base *dns;
        struct nf_lookup *lookups; /* unfinished; completed with DNS_ERR_SHUTDOWN by nf_resolver_fini */
        uint32_t min_ttl_s, max_ttl_s;
        char servers[256]; /* as read, for /v1/capabilities */
        struct nf_prefix server_prefixes[NF_MAX_NAMESERVERS]; /* protected when a fault uses names */
        size_t n_server_prefixes;
};

struct nf_name_result {
        char name[NF_TARGET_NAME_LEN];
        struct nf_prefix addrs[NF_MAX_NAME_ADDRS];
        size_t n_addrs;
        uint32_t ttl_s;  /* smallest TTL seen */
        int err;         /* evdns error of the last query that failed, 0 if none */
};

struct nf_query;
typedef void (*nf_lookup_done_fn)(struct nf_lookup *l, void *arg);

struct nf_lookup {
        struct nf_name_result *res;
        size_t n;
        size_t pending;
        nf_lookup_done_fn done;
        void *arg;
        struct nf_resolver *r;
        struct nf_lookup *prev, *next; /* in r->lookups while unfinished */
        struct nf_query *q;            /* A and AAAA per name */
};

int nf_resolver_init(struct nf_resolver *r, struct event_base *base, uint32_t min_ttl_s, uint32_t max_ttl_s);
/* Frees evdns; every unfinished lookup then completes at once (its done callback runs, with
 * DNS_ERR_SHUTDOWN for the names that had no answer), so that nothing waits or leaks. */
void nf_resolver_fini(struct nf_resolver *r);
/* Re-reads the nameservers from path (SIGHUP). A file that cannot be read or lists no nameserver
 * keeps the current ones: -1 with why filled. */
int nf_resolver_reload(struct nf_resolver *r, const char *path, char *why, size_t why_len);
/* Starts A and AAAA queries for every name; done(l, arg) runs once, after the last answer, and
 * then owns l (free it with nf_lookup_free). NULL on allocation failure. */
struct nf_lookup *nf_lookup_start(struct nf_resolver *r, const char (*names)[NF_TARGET_NAME_LEN], size_t n,
                                  nf_lookup_done_fn done, void *arg);
void nf_lookup_free(struct nf_lookup *l);
const char *nf_resolver_strerror(int err);
/* The TTL clamped to [min_ttl_s, max_ttl_s]. */
uint32_t nf_resolver_next_s(const struct nf_resolver *r, uint32_t ttl_s);
