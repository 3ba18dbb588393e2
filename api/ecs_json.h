/* The request bodies of the ECS agent's fault endpoints, read the way the agent reads them: Go's
 * encoding/json Decoder (one value, trailing bytes ignored, keys matched exactly or else without
 * case, unknown keys ignored, the last of repeated keys wins, its syntax and type error texts),
 * then the agent's ValidateRequest ladder with its messages. Facts from aws/amazon-ecs-agent
 * ecs-agent/tmds/handlers/fault/v1/{handlers/handlers.go,types/types.go}; no code of theirs. */
#pragma once
#include "api/layer.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum nf_ecs_kind { NF_ECS_LATENCY, NF_ECS_LOSS, NF_ECS_BLACKHOLE, NF_ECS_KIND_COUNT };

/* A string list as Go holds a []*string: absent or null is no list; an element may be null. */
struct nf_ecs_strs {
        char **v; /* NULL entries are JSON nulls */
        size_t n;
};

struct nf_ecs_req {
        bool has_delay, has_jitter, has_loss, has_port, has_flows;
        uint64_t delay_ms, jitter_ms, loss_pct;
        uint16_t port;
        int64_t flows_pct;
        char *protocol, *traffic; /* NULL: absent or null */
        struct nf_ecs_strs sources, filter;
};

/* Longest Error text we render (a long bad source is cut, as nothing else would read it). */
#define NF_ECS_MSG_MAX 512

/* The agent's decodeRequest: 0 with req filled (free with nf_ecs_req_free), or -1 with msg set to
 * the Error text of its 400. */
int nf_ecs_decode(enum nf_ecs_kind kind, const char *body, size_t len, struct nf_ecs_req *req, char msg[NF_ECS_MSG_MAX]);
/* The agent's ValidateRequest: 0, or -1 with msg set to the Error text of its 400. */
int nf_ecs_validate(enum nf_ecs_kind kind, const struct nf_ecs_req *req, char msg[NF_ECS_MSG_MAX]);
void nf_ecs_req_free(struct nf_ecs_req *req);
/* Go's net.ParseIP(s) != nil || net.ParseCIDR(s) succeeds. */
bool nf_ecs_is_ip_or_cidr(const char *s);
