#include "api/ecs_compat.h"

#include <cjson/cJSON.h>
#include <event2/buffer.h>
#include <event2/http.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/connections.h"
#include "api/ecs_json.h"
#include "api/http.h"
#include "api/rate_limit.h"
#include "api/reply.h"
#include "core/clock.h"
#include "core/create.h"
#include "core/registry.h"
#include "core/spec_json.h"

/* The agent's fault type names, which are also the middle of our fault names ("ecs:<type>"). */
static const char *const kind_name[] = {"network-latency", "network-packet-loss", "network-blackhole-port"};

/* The agent's own metadata endpoint, which it keeps reachable under an egress blackhole of its port. */
#define TMDS_IP "169.254.170.2"
#define TMDS_PORT 80

/* ---- replies: the agent's bodies, byte for byte as Go's json.Marshal writes them ---- */

/* s as a JSON string the way Go escapes it: <, > and & as \u003c..., U+2028/9, bad UTF-8 as
 * \ufffd (our decoder never hands such bytes on, but a message may carry them). */
static void go_json_string(struct evbuffer *b, const char *s) {
        static const char hex[] = "0123456789abcdef";
        evbuffer_add(b, "\"", 1);
        for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
                unsigned char c = *p;
                if (c == '"' || c == '\\')
                        evbuffer_add_printf(b, "\\%c", c);
                else if (c == '\n' || c == '\r' || c == '\t' || c == '\b' || c == '\f')
                        evbuffer_add_printf(b, "\\%c", c == '\n' ? 'n' : c == '\r' ? 'r' : c == '\t' ? 't' : c == '\b' ? 'b' : 'f');
                else if (c < 0x20 || c == '<' || c == '>' || c == '&')
                        evbuffer_add_printf(b, "\\u00%c%c", hex[c >> 4], hex[c & 15]);
                else if (c == 0xe2 && p[1] == 0x80 && (p[2] == 0xa8 || p[2] == 0xa9)) {
                        evbuffer_add_printf(b, "\\u202%c", p[2] == 0xa8 ? '8' : '9');
                        p += 2;
                } else
                        evbuffer_add(b, p, 1);
        }
        evbuffer_add(b, "\"", 1);
}

static void reply(struct evhttp_request *req, int code, const char *key, const char *text) {
        struct evbuffer *b = evbuffer_new();
        if (!b) {
                evhttp_send_reply(req, 500, "Internal Server Error", NULL);
                return;
        }
        evbuffer_add_printf(b, "{\"%s\":", key);
        go_json_string(b, text);
        evbuffer_add(b, "}", 1);
        nf_api_reply_text(req, code, "application/json", b);
        evbuffer_free(b);
}

static void reply_status(struct evhttp_request *req, const char *status) {
        reply(req, 200, "Status", status);
}

static void reply_error(struct evhttp_request *req, int code, const char *msg) {
        reply(req, code, "Error", msg);
}

void nf_ecs_method_not_allowed(struct evhttp_request *req) {
        nf_api_reply_text(req, 405, "text/plain; charset=utf-8", NULL);
}

/* ---- rate limit ---- */

#define ECS_RATE_BUCKETS 64

/* One per (client, path) seen lately; the least recent is forgotten first. */
static struct {
        char client[64];
        char path[160];
        int64_t last_ms;
} buckets[ECS_RATE_BUCKETS];

bool nf_ecs_rate_ok(struct nf_api *api, struct evhttp_request *req, const char *path) {
        struct evkeyvalq *h = evhttp_request_get_output_headers(req);
        uint32_t every_s = api->cfg->ecs_rate_limit_s;
        int64_t now = nf_now_monotonic_ms();
        char client[64], limit[16];
        size_t i, oldest = 0;

        if (every_s == 0)
                return true;
        /* tollbooth names its rate on every reply of a limited route. */
        snprintf(limit, sizeof(limit), "%.2f", 1.0 / every_s);
        evhttp_add_header(h, "X-Rate-Limit-Limit", limit);
        evhttp_add_header(h, "X-Rate-Limit-Duration", "1");
        nf_rate_client(api, req, client, sizeof(client));
        for (i = 0; i < ECS_RATE_BUCKETS; i++) {
                if (strcmp(buckets[i].client, client) == 0 && strncmp(buckets[i].path, path, sizeof(buckets[i].path) - 1) == 0)
                        break;
                if (buckets[i].last_ms < buckets[oldest].last_ms)
                        oldest = i;
        }
        if (i < ECS_RATE_BUCKETS && now - buckets[i].last_ms < (int64_t)every_s * 1000) {
                struct evbuffer *b = evbuffer_new();
                if (b)
                        evbuffer_add_printf(b, "You have reached maximum request limit");
                nf_api_reply_text(req, 429, "text/plain; charset=utf-8", b);
                if (b)
                        evbuffer_free(b);
                return false;
        }
        if (i == ECS_RATE_BUCKETS) {
                i = oldest;
                snprintf(buckets[i].client, sizeof(buckets[i].client), "%s", client);
                snprintf(buckets[i].path, sizeof(buckets[i].path), "%s", path);
        }
        buckets[i].last_ms = now;
        return true;
}

/* ---- the faults ---- */

/* Our fault of that name in our own namespace (the agent's faults live in the task's), or NULL. */
static struct nf_fault *find(struct nf_api *api, const char *name) {
        for (struct nf_fault *f = api->reg->faults; f; f = f->next)
                if (f->spec.netns.kind == NF_NETNS_SELF && strcmp(f->spec.name, name) == 0)
                        return f;
        return NULL;
}

static void fault_name(enum nf_ecs_kind kind, const struct nf_ecs_req *q, char *buf, size_t len) {
        if (kind == NF_ECS_BLACKHOLE) /* the agent's chain name: <traffic>-<protocol>-<port> */
                snprintf(buf, len, "ecs:%s:%s-%s-%u", kind_name[kind], q->traffic, q->protocol, q->port);
        else
                snprintf(buf, len, "ecs:%s", kind_name[kind]);
}

/* A browser sends Origin with every cross-site POST; the agent's scripts and SDKs never do. The
 * agent takes any content type, so without this a web page could start faults on localhost. */
static bool from_web_page(struct evhttp_request *req) {
        if (!evhttp_find_header(evhttp_request_get_input_headers(req), "Origin"))
                return false;
        reply_error(req, 403, "netfaultd refuses requests that carry an Origin header (sent by web browsers)");
        return true;
}

/* The agent's decodeRequest then ValidateRequest; 0 with q filled, or -1 after the 400. */
static int read_request(struct evhttp_request *req, enum nf_ecs_kind kind, struct nf_ecs_req *q) {
        struct evbuffer *in = evhttp_request_get_input_buffer(req);
        size_t len = evbuffer_get_length(in);
        const char *body = len ? (const char *)evbuffer_pullup(in, -1) : "";
        char msg[NF_ECS_MSG_MAX];
        if (nf_ecs_decode(kind, body ? body : "", body ? len : 0, q, msg) < 0) {
                reply_error(req, 400, msg);
                return -1;
        }
        if (nf_ecs_validate(kind, q, msg) < 0) {
                nf_ecs_req_free(q);
                reply_error(req, 400, msg);
                return -1;
        }
        return 0;
}

static cJSON *string_list(const struct nf_ecs_strs *l) {
        cJSON *a = cJSON_CreateArray();
        for (size_t i = 0; a && i < l->n; i++)
                cJSON_AddItemToArray(a, cJSON_CreateString(l->v[i] ? l->v[i] : ""));
        return a;
}

/* The request as the body of POST /v1/faults, so that netfaultd's own validation ladder (and its
 * limits) apply to it unchanged. */
static cJSON *as_fault(enum nf_ecs_kind kind, const struct nf_ecs_req *q, const char *name) {
        cJSON *o = cJSON_CreateObject(), *fx;
        cJSON_AddStringToObject(o, "name", name);
        if (kind == NF_ECS_BLACKHOLE) {
                cJSON *t = cJSON_AddArrayToObject(o, "targets"), *ports = cJSON_CreateArray();
                cJSON_AddItemToArray(t, cJSON_CreateString("0.0.0.0/0"));
                cJSON_AddItemToArray(t, cJSON_CreateString("::/0"));
                cJSON_AddStringToObject(o, "protocol", q->protocol);
                cJSON_AddStringToObject(o, "direction", q->traffic);
                /* The agent's chains match --dport: the peer's port going out, ours coming in. */
                cJSON_AddItemToArray(ports, cJSON_CreateNumber(q->port));
                cJSON_AddItemToObject(o, strcmp(q->traffic, "egress") == 0 ? "ports" : "local_ports", ports);
                cJSON_AddBoolToObject(o, "blackhole", true);
        } else {
                cJSON_AddItemToObject(o, "targets", string_list(&q->sources));
                cJSON_AddStringToObject(o, "direction", "egress");
                if (kind == NF_ECS_LATENCY) {
                        fx = cJSON_AddObjectToObject(o, "delay");
                        cJSON_AddNumberToObject(fx, "ms", (double)q->delay_ms);
                        cJSON_AddNumberToObject(fx, "jitter_ms", (double)q->jitter_ms);
                } else {
                        fx = cJSON_AddObjectToObject(o, "loss");
                        cJSON_AddNumberToObject(fx, "percent", (double)q->loss_pct);
                }
                /* The agent's share of flows is ours: buckets of the 5-tuple's hash (netem/plan.h),
                 * 1..100 already checked in its words (ecs_json.c). */
                if (q->has_flows)
                        cJSON_AddNumberToObject(o, "flows_percent", (double)q->flows_pct);
        }
        if (q->filter.n)
                cJSON_AddItemToObject(o, "exclude", string_list(&q->filter));
        return o;
}

/* A start waiting for the core (only hostnames would make it wait; the agent's sources are
 * addresses, so in practice the answer comes at once). */
struct pending {
        struct nf_api *api;
        struct evhttp_request *req;
        struct nf_create *create;
};

static void on_client_gone(void *arg) {
        struct pending *p = arg;
        nf_create_cancel(p->create);
        free(p);
}

/* The core's refusal in the agent's terms: its 400 for what the request asks, 409 for a clash
 * with another fault, and its 500 for whatever kept the fault from being applied (a kernel
 * without sch_netem among them), with the reason after its "internal error". */
static void reply_core_error(struct evhttp_request *req, const struct nf_err *e) {
        /* netfaultd's own rules name its fields: say which of the agent's they came from. */
        static const char *const param[][2] = {{"delay.ms", "DelayMilliseconds"}, {"delay.jitter_ms", "JitterMilliseconds"},
                                               {"loss", "LossPercent"},          {"ports", "Port"},
                                               {"local_ports", "Port"},          {"targets", "Sources"},
                                               {"exclude", "SourcesToFilter"}};
        char msg[NF_ECS_MSG_MAX + 96];
        switch (e->kind) {
        case NF_ERR_INVALID:
        case NF_ERR_UNSATISFIABLE:
                for (size_t i = 0; i < sizeof(param) / sizeof(*param); i++)
                        if (strncmp(e->field, param[i][0], strlen(param[i][0])) == 0) {
                                snprintf(msg, sizeof(msg), "invalid value for parameter %s: netfaultd's %.*s", param[i][1],
                                         NF_ECS_MSG_MAX, e->message);
                                return reply_error(req, 400, msg);
                        }
                return reply_error(req, 400, e->message);
        case NF_ERR_CONFLICT: return reply_error(req, 409, e->message);
        default:
                snprintf(msg, sizeof(msg), "internal error: %.*s", NF_ECS_MSG_MAX, e->message);
                return reply_error(req, 500, msg);
        }
}

static void started(void *arg, struct nf_fault *f, const struct nf_err *e) {
        struct pending *p = arg;
        (void)f;
        nf_api_unwatch_client(p->api, p->req);
        if (e)
                reply_core_error(p->req, e);
        else
                reply_status(p->req, "running");
        free(p);
}

static void start(struct nf_api *api, struct evhttp_request *req, enum nf_ecs_kind kind) {
        struct nf_validate_limits lim = {api->cfg->max_duration_s, api->cfg->default_duration_s};
        struct nf_ecs_req q;
        struct nf_spec spec;
        struct nf_err e;
        char name[NF_MAX_NAME + 1];

        if (from_web_page(req) || read_request(req, kind, &q) < 0)
                return;
        fault_name(kind, &q, name, sizeof(name));
        if (kind == NF_ECS_BLACKHOLE && find(api, name)) {
                nf_ecs_req_free(&q); /* the agent's start of a running chain changes nothing */
                return reply_status(req, "running");
        }
        if (kind != NF_ECS_BLACKHOLE) {
                /* One latency-or-loss fault at a time, as the agent allows; latency is asked first. */
                if (find(api, "ecs:network-latency") || find(api, "ecs:network-packet-loss")) {
                        bool latency = find(api, "ecs:network-latency") != NULL;
                        nf_ecs_req_free(&q);
                        return reply_error(req, 409, latency ? "There is already one network latency fault running"
                                                             : "There is already one network packet loss fault running");
                }
        }
        if (kind == NF_ECS_BLACKHOLE && strcmp(q.traffic, "egress") == 0 && q.port == TMDS_PORT) {
                bool have = false;
                for (size_t i = 0; i < q.filter.n; i++)
                        have |= q.filter.v[i] && strcmp(q.filter.v[i], TMDS_IP) == 0;
                char **v = have ? q.filter.v : realloc(q.filter.v, (q.filter.n + 1) * sizeof(*v));
                if (v && !have && (v[q.filter.n] = strdup(TMDS_IP)))
                        q.filter.n++;
                q.filter.v = v ? v : q.filter.v;
        }
        cJSON *body = as_fault(kind, &q, name);
        nf_ecs_req_free(&q);
        int r = body ? nf_validate_fault(body, &lim, &spec, &e) : nf_fail(&e, NF_ERR_INTERNAL, "internal", NULL, "out of memory");
        cJSON_Delete(body);
        if (r < 0)
                return reply_core_error(req, &e);
        struct pending *p = calloc(1, sizeof(*p));
        if (!p) {
                nf_spec_free(&spec);
                return reply_error(req, 500, "internal error");
        }
        *p = (struct pending){.api = api, .req = req};
        struct nf_create *c = nf_create_start(api->reg, &spec, false, started, p);
        if (c) {
                p->create = c;
                nf_api_watch_client(api, req, on_client_gone, p);
        }
}

/* Stop: latency and loss read no body (the agent does not), blackhole reads and validates one. */
static void stop(struct nf_api *api, struct evhttp_request *req, enum nf_ecs_kind kind) {
        struct nf_ecs_req q = {0};
        char name[NF_MAX_NAME + 1];
        if (from_web_page(req) || (kind == NF_ECS_BLACKHOLE && read_request(req, kind, &q) < 0))
                return;
        fault_name(kind, &q, name, sizeof(name));
        nf_ecs_req_free(&q);
        struct nf_fault *f = find(api, name);
        if (f && nf_registry_delete(api->reg, f, "stopped through the ECS fault endpoint") < 0)
                return reply_error(req, 500, "internal error");
        reply_status(req, "stopped");
}

static void status(struct nf_api *api, struct evhttp_request *req, enum nf_ecs_kind kind) {
        struct nf_ecs_req q = {0};
        char name[NF_MAX_NAME + 1];
        if (kind == NF_ECS_BLACKHOLE && read_request(req, kind, &q) < 0)
                return;
        fault_name(kind, &q, name, sizeof(name));
        nf_ecs_req_free(&q);
        reply_status(req, find(api, name) ? "running" : "not-running");
}

#define ROUTE_HANDLERS(prefix, kind)                                                                                   \
        void nf_ecs_##prefix##_start(struct nf_api *api, struct evhttp_request *req, const char *id) {                 \
                (void)id;                                                                                              \
                start(api, req, kind);                                                                                 \
        }                                                                                                              \
        void nf_ecs_##prefix##_stop(struct nf_api *api, struct evhttp_request *req, const char *id) {                  \
                (void)id;                                                                                              \
                stop(api, req, kind);                                                                                  \
        }                                                                                                              \
        void nf_ecs_##prefix##_status(struct nf_api *api, struct evhttp_request *req, const char *id) {                \
                (void)id;                                                                                              \
                status(api, req, kind);                                                                                \
        }

ROUTE_HANDLERS(latency, NF_ECS_LATENCY)
ROUTE_HANDLERS(loss, NF_ECS_LOSS)
ROUTE_HANDLERS(blackhole, NF_ECS_BLACKHOLE)
