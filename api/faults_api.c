#include <cjson/cJSON.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/connections.h"
#include "api/fault_json.h"
#include "api/handlers.h"
#include "api/http.h"
#include "api/reply.h"
#include "api/request.h"
#include "core/clock.h"
#include "core/create.h"
#include "core/guard.h"
#include "core/spec_json.h"
#include "core/memory.h"

static bool is_json(struct evhttp_request *req) {
        const char *ct = evhttp_find_header(evhttp_request_get_input_headers(req), "Content-Type");
        if (!ct)
                return false;
        size_t n = strcspn(ct, ";");
        while (n > 0 && ct[n - 1] == ' ')
                n--;
        return n == strlen("application/json") && strncasecmp(ct, "application/json", n) == 0;
}

/* The router checked the query already (request_ok in routes.c); this reads dry_run from it. */
static bool dry_run_asked(struct evhttp_request *req) {
        struct nf_query q;
        struct nf_err e;
        return nf_query_parse(evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req)), NF_QUERY_DRY_RUN, &q, &e) == 0 &&
               q.dry_run;
}

/* A POST whose fault the core is creating (it may wait for DNS answers). */
struct pending {
        struct nf_api *api;
        struct evhttp_request *req;
        struct nf_create *create; /* while it waits */
        bool dry_run;
};

/* The client hung up (or the API is stopping): its request is freed with its connection. */
static void on_client_gone(void *arg) {
        struct pending *p = arg;
        nf_create_cancel(p->create);
        free(p);
}

/* The core's answer to a POST: the reply, and p freed. */
static void finish(void *arg, struct nf_fault *f, const struct nf_err *e) {
        struct pending *p = arg;
        nf_api_unwatch_client(p->api, p->req);
        if (e) {
                if (e->retry_after_s) {
                        char after[16];
                        snprintf(after, sizeof(after), "%u", e->retry_after_s);
                        evhttp_add_header(evhttp_request_get_output_headers(p->req), "Retry-After", after);
                }
                nf_api_reply_error(p->req, e);
        } else if (p->dry_run) {
                /* Validated, resolved and planned; nothing was changed. */
                cJSON *o = nf_fault_to_json(f, "planned", NULL);
                int missing = nf_caps_missing(nf_registry_caps(p->api->reg), &f->spec);
                cJSON_AddBoolToObject(o, "kernel_supports", missing < 0);
                if (missing >= 0)
                        cJSON_AddStringToObject(o, "kernel_lacks", nf_cap_module(missing));
                cJSON_AddItemToObject(o, "plan", nf_plan_to_json(&f->plan, true));
                nf_api_reply(p->req, 200, o);
        } else {
                char loc[64];
                snprintf(loc, sizeof(loc), "/v1/faults/%s", f->id);
                evhttp_add_header(evhttp_request_get_output_headers(p->req), "Location", loc);
                nf_api_reply(p->req, 201, nf_fault_to_json(f, "active", NULL));
        }
        free(p);
}

static void create_fault(struct nf_api *api, struct evhttp_request *req) {
        struct evbuffer *in = evhttp_request_get_input_buffer(req);
        size_t len = evbuffer_get_length(in);
        struct nf_validate_limits lim = {api->cfg->max_duration_s, api->cfg->default_duration_s};
        struct nf_spec spec;
        struct nf_err e;
        cJSON *root;

        /* A content type a browser form cannot send keeps web pages from driving the API. */
        if (!is_json(req)) {
                nf_fail(&e, NF_ERR_MEDIA_TYPE, "unsupported_media_type", NULL, "send the body as Content-Type: application/json");
                return nf_api_reply_error(req, &e);
        }
        if (len > api->cfg->max_body_bytes) {
                nf_fail(&e, NF_ERR_TOO_LARGE, "body_too_large", NULL, "the body has %zu bytes, the limit (--max-body) is %u", len,
                        api->cfg->max_body_bytes);
                return nf_api_reply_error(req, &e);
        }
        const char *body = (const char *)evbuffer_pullup(in, -1);
        root = nf_json_parse_strict(body ? body : "", body ? len : 0, &e);
        if (!root)
                return nf_api_reply_error(req, &e);
        int r = nf_validate_fault(root, &lim, &spec, &e);
        cJSON_Delete(root);
        if (r < 0)
                return nf_api_reply_error(req, &e);
        struct pending *p = calloc(1, sizeof(*p));
        if (!p) {
                nf_spec_free(&spec);
                nf_fail(&e, NF_ERR_INTERNAL, "internal", NULL, "out of memory");
                return nf_api_reply_error(req, &e);
        }
        *p = (struct pending){.api = api, .req = req, .dry_run = dry_run_asked(req)};
        struct nf_create *c = nf_create_start(api->reg, &spec, p->dry_run, finish, p);
        if (c) {
                /* The reply waits for DNS answers; if the client goes away meanwhile, we notice. */
                p->create = c;
                nf_api_watch_client(api, req, on_client_gone, p);
        }
}

void nf_api_fault_create(struct nf_api *api, struct evhttp_request *req, const char *id) {
        (void)id;
        create_fault(api, req);
}

/* GET /v1/faults is streamed in chunks of at most 2 ms of rendering (one fault at least): the
 * next chunk is rendered when the previous one has been written, so the event loop serves other
 * clients and timers in between (100
 * faults of 100 targets rendered at once held it for 250 ms in the lab). The page is fixed
 * when the request arrives, as ids in id order; a fault deleted meanwhile is left out. */
#define NF_LIST_CHUNK_US 2000    /* the most one turn of the loop spends rendering the list */
#define NF_LIST_CHUNK_BYTES 65536
struct list_stream {
        struct nf_api *api;
        struct evhttp_request *req;
        char (*ids)[NF_ID_LEN];
        size_t n, at, sent;
        char next[NF_ID_LEN]; /* the cursor of the next page, "" on the last */
};

static void list_stream_free(struct list_stream *st) {
        free(st->ids);
        free(st);
}

static void list_stream_gone(void *arg) {
        list_stream_free(arg);
}

static int id_cmp(const void *a, const void *b) {
        return strcmp(a, b);
}

static void list_stream_step(struct evhttp_connection *evcon, void *arg) {
        struct list_stream *st = arg;
        struct evbuffer *b = evbuffer_new();
        (void)evcon;
        if (!b)
                goto end; /* the list ends early; the client sees a cut-off body */
        int64_t t0 = nf_now_monotonic_us();
        while (st->at < st->n) {
                const struct nf_fault *f = nf_registry_find(st->api->reg, st->ids[st->at]);
                st->at++;
                if (!f) /* deleted since the page was fixed */
                        continue;
                cJSON *o = nf_fault_to_json(f, "active", NULL);
                char *text = o ? cJSON_PrintUnformatted(o) : NULL;
                cJSON_Delete(o);
                if (!text)
                        continue;
                evbuffer_add_printf(b, "%s%s", st->sent++ ? "," : "", text);
                free(text);
                /* A chunk holds what was rendered within NF_LIST_CHUNK_US (at least one fault) or
                 * NF_LIST_CHUNK_BYTES; the next one when it is written. */
                if (st->at < st->n && nf_now_monotonic_us() - t0 < NF_LIST_CHUNK_US &&
                    evbuffer_get_length(b) < NF_LIST_CHUNK_BYTES)
                        continue;
                evhttp_send_reply_chunk_with_cb(st->req, b, list_stream_step, st);
                evbuffer_free(b);
                return;
        }
        evbuffer_add_printf(b, "]");
        if (st->next[0])
                evbuffer_add_printf(b, ",\"next\":\"%s\"", st->next);
        evbuffer_add(b, "}\n", 2);
        evhttp_send_reply_chunk(st->req, b);
        evbuffer_free(b);
end:
        nf_api_unwatch_client(st->api, st->req);
        evhttp_send_reply_end(st->req);
        list_stream_free(st);
}

void nf_api_faults_list(struct nf_api *api, struct evhttp_request *req, const char *id) {
        struct nf_query q;
        struct nf_err e;
        struct list_stream *st = calloc(1, sizeof(*st));
        size_t n = 0, from = 0;
        (void)id;
        /* The router checked the query; ?pod_uid= keeps the faults inside that pod's namespace,
         * ?limit= and ?after= make pages (in id order). */
        if (nf_query_parse(evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req)),
                           NF_QUERY_POD_UID | NF_QUERY_LIMIT | NF_QUERY_AFTER, &q, &e) < 0)
                q = (struct nf_query){0};
        if (st)
                st->ids = calloc(api->reg->n_faults + 1, sizeof(*st->ids));
        if (!st || !st->ids) {
                free(st);
                nf_fail(&e, NF_ERR_INTERNAL, "internal", NULL, "out of memory");
                return nf_api_reply_error(req, &e);
        }
        for (struct nf_fault *f = api->reg->faults; f && n < api->reg->n_faults; f = f->next)
                if (!q.pod_uid[0] || strcmp(f->ns->pod_uid, q.pod_uid) == 0)
                        snprintf(st->ids[n++], NF_ID_LEN, "%s", f->id);
        qsort(st->ids, n, sizeof(*st->ids), id_cmp);
        while (q.after[0] && from < n && strcmp(st->ids[from], q.after) <= 0)
                from++;
        if (from)
                memmove(st->ids, st->ids + from, (n - from) * sizeof(*st->ids));
        n -= from;
        if (q.limit && n > q.limit) {
                n = q.limit;
                snprintf(st->next, sizeof(st->next), "%s", st->ids[n - 1]);
        }
        st->api = api;
        st->req = req;
        st->n = n;
        nf_api_reply_stream_start(req, 200);
        /* A client that hangs up mid-list frees the stream with its connection. */
        nf_api_watch_client(api, req, list_stream_gone, st);
        struct evbuffer *b = evbuffer_new();
        if (!b) {
                nf_api_unwatch_client(api, req);
                evhttp_send_reply_end(req);
                list_stream_free(st);
                return;
        }
        evbuffer_add_printf(b, "{\"faults\":[");
        evhttp_send_reply_chunk_with_cb(req, b, list_stream_step, st);
        evbuffer_free(b);
}

/* DELETE /v1/faults reverts the faults there are when it arrives, in turns of the loop of at
 * most NF_DELETE_TURN_US of kernel work each (one fault at least), so that other clients and
 * timers are served meanwhile: reverted in one go, 1,000 faults held the loop for 40 s in the
 * lab and 100 for seconds (issue 17). The reply, with the count, comes after the last one. A
 * client that hangs up stops the reply, not the reverts: it asked for them, and reverting is the
 * safe direction. Faults created meanwhile are not in the request's list and stay. */
#define NF_DELETE_TURN_US 2000
struct delete_all {
        struct nf_api *api;
        struct evhttp_request *req; /* NULL once its client is gone */
        struct event *ev;
        char (*ids)[NF_ID_LEN];
        size_t n, at, reverted;
        struct delete_all *next; /* in api->deletes, freed at nf_api_stop() if still running */
};

static void delete_all_free(struct delete_all *d) {
        for (struct delete_all **p = &d->api->deletes; *p; p = &(*p)->next)
                if (*p == d) {
                        *p = d->next;
                        break;
                }
        if (d->req)
                nf_api_unwatch_client(d->api, d->req);
        if (d->ev)
                event_free(d->ev);
        free(d->ids);
        free(d);
}

void nf_api_deletes_stop(struct nf_api *api) {
        while (api->deletes)
                delete_all_free(api->deletes);
}

static void delete_all_gone(void *arg) {
        struct delete_all *d = arg;
        d->req = NULL;
}

static void delete_all_step(evutil_socket_t fd, short what, void *arg) {
        struct delete_all *d = arg;
        int64_t t0 = nf_now_monotonic_us();
        (void)fd;
        (void)what;
        while (d->at < d->n) {
                struct nf_fault *f = nf_registry_find(d->api->reg, d->ids[d->at++]);
                if (!f) /* gone since the request came (expired, deleted) */
                        continue;
                nf_registry_delete(d->api->reg, f, "deleted by request");
                d->reverted++;
                if (d->at < d->n && nf_now_monotonic_us() - t0 >= NF_DELETE_TURN_US) {
                        /* A timeout of zero, not event_active(): libevent runs events made active
                         * during its callbacks before it polls again, which would starve every
                         * socket until the last revert; a timer fires after the poll. */
                        static const struct timeval now = {0, 0};
                        event_add(d->ev, &now);
                        return;
                }
        }
        if (d->req) {
                struct evhttp_request *req = d->req;
                cJSON *o = cJSON_CreateObject();
                cJSON_AddNumberToObject(o, "reverted", (double)d->reverted);
                nf_api_unwatch_client(d->api, req);
                d->req = NULL;
                nf_api_reply(req, 200, o);
        }
        delete_all_free(d);
}

void nf_api_faults_delete_all(struct nf_api *api, struct evhttp_request *req, const char *id) {
        struct delete_all *d = calloc(1, sizeof(*d));
        struct nf_err e;
        size_t n = 0;
        (void)id;
        if (d) {
                d->ids = calloc(api->reg->n_faults + 1, sizeof(*d->ids));
                d->ev = event_new(api->base, -1, 0, delete_all_step, d);
        }
        if (!d || !d->ids || !d->ev) {
                if (d && d->ev)
                        event_free(d->ev);
                free(d ? d->ids : NULL);
                free(d);
                nf_fail(&e, NF_ERR_INTERNAL, "internal", NULL, "out of memory");
                return nf_api_reply_error(req, &e);
        }
        /* Their guards stop first: probes of faults about to go are no use, and 64 faults' probes
         * saturated the lab's guest so that the reverts' turns came a second apart. */
        for (struct nf_fault *f = api->reg->faults; f && n < api->reg->n_faults; f = f->next) {
                snprintf(d->ids[n++], NF_ID_LEN, "%s", f->id);
                nf_guard_stop(f);
        }
        *d = (struct delete_all){.api = api, .req = req, .ev = d->ev, .ids = d->ids, .n = n, .next = api->deletes};
        api->deletes = d;
        nf_api_watch_client(api, req, delete_all_gone, d);
        /* The first turn runs now: with few faults the reply goes out at once, as before. */
        delete_all_step(-1, 0, d);
}

/* The fault named by id, or NULL after a 404 naming it. */
static struct nf_fault *find_fault(struct nf_api *api, struct evhttp_request *req, const char *id) {
        struct nf_fault *f = nf_registry_find(api->reg, id);
        struct nf_err e;
        if (!f) {
                nf_fail(&e, NF_ERR_NOT_FOUND, "not_found", "id", "no active fault '%.*s' (it may have expired or been deleted)",
                        NF_ROUTE_ID_MAX, id);
                nf_api_reply_error(req, &e);
        }
        return f;
}

void nf_api_fault_get(struct nf_api *api, struct evhttp_request *req, const char *id) {
        const struct nf_gone *g = nf_registry_find_gone(api->reg, id);
        if (g && !nf_registry_find(api->reg, id))
                return nf_api_reply(req, 200, nf_gone_to_json(g));
        struct nf_fault *f = find_fault(api, req, id);
        struct nf_counters c;
        if (!f)
                return;
        nf_registry_counters(api->reg, f, &c);
        nf_api_reply(req, 200, nf_fault_to_json(f, "active", &c));
}

void nf_api_fault_delete(struct nf_api *api, struct evhttp_request *req, const char *id) {
        struct nf_fault *f = find_fault(api, req, id);
        if (!f)
                return;
        cJSON *o = nf_fault_to_json(f, "reverted", NULL);
        if (nf_registry_delete(api->reg, f, "deleted by request") < 0)
                cJSON_ReplaceItemInObject(o, "state", cJSON_CreateString("revert_failed"));
        nf_api_reply(req, 200, o);
}

void nf_api_fault_renew(struct nf_api *api, struct evhttp_request *req, const char *id) {
        struct nf_fault *f = find_fault(api, req, id);
        struct nf_err e;
        if (!f)
                return;
        if (nf_registry_renew(api->reg, f, &e) < 0)
                return nf_api_reply_error(req, &e);
        nf_api_reply(req, 200, nf_fault_to_json(f, "active", NULL));
}

void nf_api_healthz(struct nf_api *api, struct evhttp_request *req, const char *id) {
        cJSON *o = cJSON_CreateObject();
        (void)id;
        /* Still serving, but not as promised (e.g. no guardian): say so, and why. Liveness probes
         * come without credentials: where they are asked for, only a caller who may read learns
         * more than ok/degraded. */
        cJSON_AddStringToObject(o, "status", api->reg->degraded[0] ? "degraded" : "ok");
        if (api->caller.role == NF_ROLE_PUBLIC)
                return nf_api_reply(req, 200, o);
        if (api->reg->degraded[0])
                cJSON_AddStringToObject(o, "reason", api->reg->degraded);
        cJSON_AddNumberToObject(o, "faults", (double)api->reg->n_faults);
        cJSON_AddNumberToObject(o, "filters", (double)api->reg->n_filters);
        cJSON_AddNumberToObject(o, "heap_bytes", (double)nf_heap_bytes());
        cJSON_AddNumberToObject(o, "rss_kb", (double)nf_rss_kb());
        nf_api_reply(req, 200, o);
}

void nf_api_capabilities(struct nf_api *api, struct evhttp_request *req, const char *id) {
        cJSON *o = nf_caps_to_json(nf_registry_caps(api->reg));
        cJSON *l = cJSON_AddObjectToObject(o, "limits");
        cJSON *aws = cJSON_AddObjectToObject(o, "aws_ip_ranges");
        const struct nf_aws_ranges *ar = api->reg->aws;
        cJSON_AddBoolToObject(aws, "loaded", ar && ar->n > 0);
        if (ar && ar->n) {
                cJSON_AddStringToObject(aws, "path", ar->path);
                cJSON_AddStringToObject(aws, "syncToken", ar->sync_token);
                cJSON_AddStringToObject(aws, "createDate", ar->create_date);
                cJSON_AddNumberToObject(aws, "prefixes", (double)ar->n);
        }
        if (ar && ar->default_region[0]) {
                cJSON_AddStringToObject(aws, "default_region", ar->default_region);
                cJSON_AddStringToObject(aws, "region_from", ar->region_source);
        }
        cJSON *dns = cJSON_AddObjectToObject(o, "dns");
        (void)id;
        cJSON_AddBoolToObject(dns, "available", api->reg->resolver != NULL);
        if (api->reg->resolver) {
                cJSON_AddStringToObject(dns, "nameservers", api->reg->resolver->servers);
                cJSON_AddNumberToObject(dns, "min_ttl_s", api->reg->resolver->min_ttl_s);
                cJSON_AddNumberToObject(dns, "max_ttl_s", api->reg->resolver->max_ttl_s);
        }
        cJSON_AddStringToObject(o, "version", NETFAULTD_VERSION);
        cJSON_AddNumberToObject(l, "max_faults", api->reg->lim.max_faults);
        cJSON_AddNumberToObject(l, "max_filters", api->reg->lim.max_filters);
        cJSON_AddNumberToObject(l, "filters_in_use", (double)api->reg->n_filters);
        cJSON_AddNumberToObject(l, "rate_limit_per_s", api->cfg->rate_limit);
        cJSON_AddNumberToObject(l, "max_duration_s", api->cfg->max_duration_s);
        cJSON_AddNumberToObject(l, "default_duration_s", api->cfg->default_duration_s);
        cJSON_AddNumberToObject(l, "max_targets", NF_MAX_TARGETS);
        cJSON_AddNumberToObject(l, "max_exclude", NF_MAX_EXCLUDES);
        cJSON_AddNumberToObject(l, "max_ports", NF_MAX_PORTS);
        cJSON_AddNumberToObject(l, "max_interfaces", NF_MAX_IFACES);
        cJSON_AddNumberToObject(l, "max_filters_per_fault", NF_MAX_FILTERS_PER_FAULT);
        cJSON_AddNumberToObject(l, "max_body_bytes", api->cfg->max_body_bytes);
        nf_api_reply(req, 200, o);
}
