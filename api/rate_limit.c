#include "api/rate_limit.h"

#include <event2/bufferevent.h>
#include <event2/http.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>

#include "api/http.h"
#include "api/reply.h"
#include "core/clock.h"

/* Token buckets for requests that change the kernel, refilled at R per second with bursts of
 * 2R: one per client (--rate-limit; TCP clients by address, Unix-socket clients by user id), in
 * a small table that forgets the least recent client, and one for all clients together
 * (--rate-limit-global), so that rotating source addresses cannot reset the limit. DELETEs only
 * revert: they are exempt from the global budget, so that nobody can spend it to keep an
 * operator from reverting. */
static void bucket_fill(struct nf_rate_bucket *b, double rate, double now) {
        b->tokens += (now - b->last) * rate;
        if (b->tokens > 2 * rate)
                b->tokens = 2 * rate;
        b->last = now;
}

void nf_rate_client(const struct nf_api *api, struct evhttp_request *req, char *addr, size_t len) {
        struct evhttp_connection *c = evhttp_request_get_connection(req);
        ev_uint16_t port;
        snprintf(addr, len, "unix");
        if (c && api->unix_path[0]) {
                /* Every Unix-socket client has the same (empty) address: tell them apart by user. */
                struct ucred cred;
                socklen_t clen = sizeof(cred);
                int fd = bufferevent_getfd(evhttp_connection_get_bufferevent(c));
                if (fd >= 0 && getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &clen) == 0)
                        snprintf(addr, len, "uid %u", (unsigned)cred.uid);
        } else if (c) {
                char *a = NULL;
                evhttp_connection_get_peer(c, &a, &port);
                if (a && *a)
                        snprintf(addr, len, "%s", a);
        }
}

bool nf_rate_ok(struct nf_api *api, struct evhttp_request *req) {
        char addr[64];
        double now = (double)nf_now_monotonic_ms() / 1000.0, rate = api->cfg->rate_limit, grate = api->cfg->rate_limit_global;
        bool global = grate > 0 && evhttp_request_get_command(req) != EVHTTP_REQ_DELETE, client_ok = true;
        struct nf_rate_bucket *b = NULL, *oldest = &api->buckets[0];
        struct nf_err e;

        if (rate <= 0 && !global)
                return true;
        nf_rate_client(api, req, addr, sizeof(addr));
        if (rate > 0) {
                for (size_t i = 0; i < NF_RATE_BUCKETS; i++) {
                        if (strcmp(api->buckets[i].client, addr) == 0) {
                                b = &api->buckets[i];
                                break;
                        }
                        if (api->buckets[i].last < oldest->last)
                                oldest = &api->buckets[i];
                }
                if (!b) {
                        b = oldest;
                        snprintf(b->client, sizeof(b->client), "%s", addr);
                        b->tokens = 2 * rate;
                        b->last = now;
                }
                bucket_fill(b, rate, now);
                client_ok = b->tokens >= 1;
        }
        if (global) {
                if (!api->global.client[0]) {
                        snprintf(api->global.client, sizeof(api->global.client), "all clients");
                        api->global.tokens = 2 * grate;
                        api->global.last = now;
                }
                bucket_fill(&api->global, grate, now);
        }
        if (client_ok && (!global || api->global.tokens >= 1)) {
                if (b)
                        b->tokens -= 1;
                if (global)
                        api->global.tokens -= 1;
                return true;
        }
        evhttp_add_header(evhttp_request_get_output_headers(req), "Retry-After", "1");
        if (!client_ok)
                nf_fail(&e, NF_ERR_LIMIT, "rate_limited", NULL, "more than %u changing requests per second from %s (--rate-limit)",
                        api->cfg->rate_limit, addr);
        else
                nf_fail(&e, NF_ERR_LIMIT, "rate_limited", NULL,
                        "more than %u changing requests per second from all clients together (--rate-limit-global)",
                        api->cfg->rate_limit_global);
        nf_api_reply_error(req, &e);
        return false;
}
