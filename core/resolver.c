#include "core/resolver.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/dns.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/log.h"

struct nf_query {
        struct nf_lookup *l;
        size_t i;
        int family;
        bool answered;
};

/* Every query has answered (or the resolver is going away): the lookup leaves the list of
 * unfinished ones and its owner takes it. */
static void lookup_complete(struct nf_lookup *l) {
        if (l->prev)
                l->prev->next = l->next;
        else if (l->r->lookups == l)
                l->r->lookups = l->next;
        if (l->next)
                l->next->prev = l->prev;
        l->prev = l->next = NULL;
        for (size_t i = 0; i < l->n; i++)
                nf_prefix_set_normalize(l->res[i].addrs, &l->res[i].n_addrs);
        l->done(l, l->arg);
}

/* The nameserver lines of a resolv.conf file: as text, and as prefixes. -errno if unreadable. */
static int read_servers(const char *path, char *servers, size_t len, struct nf_prefix *prefixes, size_t *n) {
        FILE *f = fopen(path, "re");
        char line[256];
        if (!f)
                return -errno;
        *n = 0;
        servers[0] = '\0';
        while (fgets(line, sizeof(line), f)) {
                char addr[64];
                struct nf_prefix p;
                if (sscanf(line, " nameserver %63s", addr) == 1 && nf_prefix_parse(addr, &p) == 0 && *n < NF_MAX_NAMESERVERS) {
                        prefixes[(*n)++] = p;
                        snprintf(servers + strlen(servers), len - strlen(servers), "%s%s", servers[0] ? " " : "", addr);
                }
        }
        fclose(f);
        return 0;
}

int nf_resolver_init(struct nf_resolver *r, struct event_base *base, uint32_t min_ttl_s, uint32_t max_ttl_s) {
        *r = (struct nf_resolver){.min_ttl_s = min_ttl_s, .max_ttl_s = max_ttl_s};
        r->dns = evdns_base_new(base, 0);
        if (!r->dns)
                return -ENOMEM;
        int rc = evdns_base_resolv_conf_parse(r->dns, DNS_OPTIONS_ALL, "/etc/resolv.conf");
        if (rc != 0)
                nf_log(NF_LOG_WARN, "dns.config", "cannot use /etc/resolv.conf (evdns error %d): hostnames will not resolve", rc);
        evdns_base_set_option(r->dns, "timeout:", "2");
        evdns_base_set_option(r->dns, "attempts:", "2");
        /* Remember the nameservers: a fault that uses hostnames must not cut off their resolution. */
        int n = evdns_base_count_nameservers(r->dns);
        read_servers("/etc/resolv.conf", r->servers, sizeof(r->servers), r->server_prefixes, &r->n_server_prefixes);
        nf_log(NF_LOG_INFO, "dns.config", "%d nameserver(s): %s", n, r->servers[0] ? r->servers : "none");
        return 0;
}

int nf_resolver_reload(struct nf_resolver *r, const char *path, char *why, size_t why_len) {
        char servers[sizeof(r->servers)];
        struct nf_prefix prefixes[NF_MAX_NAMESERVERS];
        size_t n = 0;
        int rc;
        if (!r->dns) {
                snprintf(why, why_len, "no resolver");
                return -1;
        }
        /* Checked before the running resolver is touched: a file without a usable nameserver
         * would leave every hostname unresolvable. */
        if ((rc = read_servers(path, servers, sizeof(servers), prefixes, &n)) < 0) {
                snprintf(why, why_len, "cannot read %s: %s", path, strerror(-rc));
                return -1;
        }
        if (n == 0) {
                snprintf(why, why_len, "%s lists no nameserver address", path);
                return -1;
        }
        evdns_base_clear_nameservers_and_suspend(r->dns);
        rc = evdns_base_resolv_conf_parse(r->dns, DNS_OPTION_NAMESERVERS | DNS_OPTION_SEARCH | DNS_OPTION_MISC, path);
        if (rc != 0 || evdns_base_count_nameservers(r->dns) == 0) {
                /* Back to what we had. */
                for (size_t i = 0; i < r->n_server_prefixes; i++) {
                        char buf[NF_PREFIX_STRLEN];
                        char *slash = NULL;
                        nf_prefix_format(&r->server_prefixes[i], buf, sizeof(buf));
                        if ((slash = strchr(buf, '/')))
                                *slash = '\0';
                        evdns_base_nameserver_ip_add(r->dns, buf);
                }
                evdns_base_resume(r->dns);
                snprintf(why, why_len, "libevent cannot use %s (evdns error %d)", path, rc);
                return -1;
        }
        evdns_base_set_option(r->dns, "timeout:", "2");
        evdns_base_set_option(r->dns, "attempts:", "2");
        evdns_base_resume(r->dns);
        memcpy(r->servers, servers, sizeof(servers));
        memcpy(r->server_prefixes, prefixes, sizeof(prefixes));
        r->n_server_prefixes = n;
        return 0;
}

void nf_resolver_fini(struct nf_resolver *r) {
        /* evdns would only schedule its failure callbacks for a loop that no longer runs (and
         * leak them): free its requests without callbacks and complete our lookups here. */
        if (r->dns)
                evdns_base_free(r->dns, 0);
        r->dns = NULL;
        while (r->lookups) {
                struct nf_lookup *l = r->lookups;
                for (size_t k = 0; k < 2 * l->n; k++)
                        if (!l->q[k].answered)
                                l->res[l->q[k].i].err = DNS_ERR_SHUTDOWN;
                l->pending = 0;
                lookup_complete(l);
        }
}

const char *nf_resolver_strerror(int err) {
        return evdns_err_to_string(err);
}

uint32_t nf_resolver_next_s(const struct nf_resolver *r, uint32_t ttl_s) {
        return ttl_s < r->min_ttl_s ? r->min_ttl_s : ttl_s > r->max_ttl_s ? r->max_ttl_s : ttl_s;
}

static void on_answer(int result, char type, int count, int ttl, void *addresses, void *arg) {
        struct nf_query *q = arg;
        struct nf_lookup *l = q->l;
        struct nf_name_result *res = &l->res[q->i];

        if (result == DNS_ERR_NONE && (type == DNS_IPv4_A || type == DNS_IPv6_AAAA)) {
                for (int k = 0; k < count && res->n_addrs < NF_MAX_NAME_ADDRS; k++) {
                        struct nf_prefix p = {.family = (uint8_t)q->family, .len = q->family == AF_INET ? 32 : 128};
                        const uint8_t *b = (const uint8_t *)addresses + k * (q->family == AF_INET ? 4 : 16);
                        for (int j = 0; j < (q->family == AF_INET ? 4 : 16); j++)
                                p.addr = (p.addr << 8) | b[j];
                        res->addrs[res->n_addrs++] = p;
                }
                if (ttl >= 0 && (uint32_t)ttl < res->ttl_s)
                        res->ttl_s = (uint32_t)ttl;
        } else if (result != DNS_ERR_NONE && result != DNS_ERR_NOTEXIST) {
                res->err = result;
        }
        q->answered = true;
        if (--l->pending == 0)
                lookup_complete(l);
}

struct nf_lookup *nf_lookup_start(struct nf_resolver *r, const char (*names)[NF_TARGET_NAME_LEN], size_t n,
                                  nf_lookup_done_fn done, void *arg) {
        struct nf_lookup *l = calloc(1, sizeof(*l));
        if (!l || !(l->res = calloc(n ? n : 1, sizeof(*l->res))) || !(l->q = calloc(2 * n + 1, sizeof(*l->q)))) {
                if (l)
                        free(l->res);
                free(l);
                return NULL;
        }
        l->n = n;
        l->done = done;
        l->arg = arg;
        l->r = r;
        l->next = r->lookups;
        if (r->lookups)
                r->lookups->prev = l;
        r->lookups = l;
        /* Count every query before starting any: an answer may arrive synchronously (a cache
         * hit or an immediate failure). One extra count is held until all are started. */
        l->pending = 2 * n + 1;
        for (size_t i = 0; i < n; i++) {
                snprintf(l->res[i].name, sizeof(l->res[i].name), "%s", names[i]);
                l->res[i].ttl_s = UINT32_MAX;
                for (int fam = 0; fam < 2; fam++) {
                        struct nf_query *q = &l->q[2 * i + fam];
                        *q = (struct nf_query){.l = l, .i = i, .family = fam ? AF_INET6 : AF_INET};
                        struct evdns_request *req = fam ? evdns_base_resolve_ipv6(r->dns, names[i], 0, on_answer, q)
                                                        : evdns_base_resolve_ipv4(r->dns, names[i], 0, on_answer, q);
                        if (!req) { /* not started (allocation failure): evdns will not call back */
                                l->res[i].err = DNS_ERR_UNKNOWN;
                                q->answered = true;
                                l->pending--;
                        }
                }
        }
        if (--l->pending == 0)
                lookup_complete(l);
        return l;
}

void nf_lookup_free(struct nf_lookup *l) {
        if (!l)
                return;
        free(l->q);
        free(l->res);
        free(l);
}
