#include <cjson/cJSON.h>
#include <event2/buffer.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "api/fault_json.h"
#include "api/http.h"
#include "api/validate.h"

static bool is_json(struct evhttp_request *req) {
        const char *ct = evhttp_find_header(evhttp_request_get_input_headers(req), "Content-Type");
        if (!ct)
                return false;
        size_t n = strcspn(ct, ";");
        while (n > 0 && ct[n - 1] == ' ')
                n--;
        return n == strlen("application/json") && strncasecmp(ct, "application/json", n) == 0;
}

static bool query_flag(struct evhttp_request *req, const char *name) {
        struct evkeyvalq q;
        const char *query = evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req)), *v;
        bool on = false;
        if (!query || evhttp_parse_query_str(query, &q) < 0)
                return false;
        v = evhttp_find_header(&q, name);
        on = v && (strcmp(v, "true") == 0 || strcmp(v, "1") == 0);
        evhttp_clear_headers(&q);
        return on;
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
                nf_fail(&e, 415, "unsupported_media_type", NULL, "send the body as Content-Type: application/json");
                return nf_api_reply_error(req, &e);
        }
        if (len > api->cfg->max_body_bytes) {
                nf_fail(&e, 413, "body_too_large", NULL, "the body has %zu bytes, the limit (--max-body) is %u", len,
                        api->cfg->max_body_bytes);
                return nf_api_reply_error(req, &e);
        }
        const char *body = (const char *)evbuffer_pullup(in, -1);
        root = cJSON_ParseWithLength(body ? body : "", len);
        if (!root) {
                const char *at = cJSON_GetErrorPtr();
                size_t off = at && body && at >= body && at <= body + len ? (size_t)(at - body) : 0;
                nf_fail(&e, 400, "invalid_json", NULL, "the body is not valid JSON (near byte %zu)", off);
                return nf_api_reply_error(req, &e);
        }
        int r = nf_validate_fault(root, &lim, &spec, &e);
        cJSON_Delete(root);
        if (r < 0)
                return nf_api_reply_error(req, &e);
        bool dry_run = query_flag(req, "dry_run");
        struct nf_fault *f = nf_registry_create(api->reg, &spec, dry_run, &e);
        if (!f)
                return nf_api_reply_error(req, &e);
        if (dry_run) {
                /* Validated, resolved and planned; nothing was changed. */
                cJSON *o = nf_fault_to_json(f, "planned", NULL);
                cJSON_AddItemToObject(o, "plan", nf_plan_to_json(&f->plan, true));
                nf_fault_free(f);
                return nf_api_reply(req, 200, o);
        }
        char loc[64];
        snprintf(loc, sizeof(loc), "/v1/faults/%s", f->id);
        evhttp_add_header(evhttp_request_get_output_headers(req), "Location", loc);
        nf_api_reply(req, 201, nf_fault_to_json(f, "active", NULL));
}

void nf_api_faults_collection(struct nf_api *api, struct evhttp_request *req) {
        switch (evhttp_request_get_command(req)) {
        case EVHTTP_REQ_POST:
                return create_fault(api, req);
        case EVHTTP_REQ_DELETE: {
                size_t n = nf_registry_delete_all(api->reg, "deleted by request");
                cJSON *o = cJSON_CreateObject();
                cJSON_AddNumberToObject(o, "reverted", (double)n);
                return nf_api_reply(req, 200, o);
        }
        default: {
                cJSON *o = cJSON_CreateObject(), *a = cJSON_AddArrayToObject(o, "faults");
                for (struct nf_fault *f = api->reg->faults; f; f = f->next)
                        cJSON_AddItemToArray(a, nf_fault_to_json(f, "active", NULL));
                return nf_api_reply(req, 200, o);
        }
        }
}

void nf_api_fault_item(struct nf_api *api, struct evhttp_request *req, const char *id) {
        struct nf_fault *f = nf_registry_find(api->reg, id);
        struct nf_err e;
        if (!f) {
                nf_fail(&e, 404, "not_found", "id", "no active fault '%.40s' (it may have expired or been deleted)", id);
                return nf_api_reply_error(req, &e);
        }
        if (evhttp_request_get_command(req) == EVHTTP_REQ_DELETE) {
                cJSON *o = nf_fault_to_json(f, "reverted", NULL);
                if (nf_registry_delete(api->reg, f, "deleted by request") < 0)
                        cJSON_ReplaceItemInObject(o, "state", cJSON_CreateString("revert_failed"));
                return nf_api_reply(req, 200, o);
        }
        struct nf_counters c;
        nf_fault_counters(&api->reg->applier, &f->plan, &c);
        nf_api_reply(req, 200, nf_fault_to_json(f, "active", &c));
}

void nf_api_fault_renew(struct nf_api *api, struct evhttp_request *req, const char *id) {
        struct nf_fault *f = nf_registry_find(api->reg, id);
        struct nf_err e;
        if (!f) {
                nf_fail(&e, 404, "not_found", "id", "no active fault '%.40s' (it may have expired or been deleted)", id);
                return nf_api_reply_error(req, &e);
        }
        if (nf_registry_renew(api->reg, f, &e) < 0)
                return nf_api_reply_error(req, &e);
        nf_api_reply(req, 200, nf_fault_to_json(f, "active", NULL));
}

void nf_api_healthz(struct nf_api *api, struct evhttp_request *req) {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "status", "ok");
        cJSON_AddNumberToObject(o, "faults", (double)api->reg->n_faults);
        nf_api_reply(req, 200, o);
}

void nf_api_capabilities(struct nf_api *api, struct evhttp_request *req) {
        cJSON *o = nf_caps_to_json(&api->reg->caps);
        cJSON *l = cJSON_AddObjectToObject(o, "limits");
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
