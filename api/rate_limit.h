/* Token buckets for requests that change the kernel (--rate-limit, --rate-limit-global): the
 * routes marked NF_ROUTE_RATE_LIMITED in the route table pass through here first. */
#pragma once
#include "api/layer.h"

#include <stdbool.h>
#include <stddef.h>

#define NF_RATE_BUCKETS 64

struct nf_rate_bucket {
        char client[64];
        double tokens, last;
};

struct nf_api;
struct evhttp_request;

/* Takes a token for req's client (and from the global budget); without one, replies 429 with
 * Retry-After and returns false. */
bool nf_rate_ok(struct nf_api *api, struct evhttp_request *req);
/* Who a request's client is for the limits: its TCP address, or "uid N" on the Unix socket. */
void nf_rate_client(const struct nf_api *api, struct evhttp_request *req, char *addr, size_t len);
