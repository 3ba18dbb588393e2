#include "core/awsranges.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_FILE_BYTES (64 * 1024 * 1024)

static char *slurp(const char *path, size_t *len) {
        FILE *f = fopen(path, "r");
        char *buf = NULL;
        long l;
        if (!f)
                return NULL;
        if (fseek(f, 0, SEEK_END) == 0 && (l = ftell(f)) >= 0 && l <= MAX_FILE_BYTES && fseek(f, 0, SEEK_SET) == 0 &&
            (buf = malloc((size_t)l + 1)) && fread(buf, 1, (size_t)l, f) == (size_t)l) {
                buf[l] = '\0';
                *len = (size_t)l;
        } else {
                free(buf);
                buf = NULL;
        }
        fclose(f);
        return buf;
}

static int add_list(struct nf_aws_ranges *r, const cJSON *list, const char *key) {
        const cJSON *it;
        cJSON_ArrayForEach(it, list) {
                const cJSON *p = cJSON_GetObjectItem(it, key), *s = cJSON_GetObjectItem(it, "service"),
                            *g = cJSON_GetObjectItem(it, "region");
                struct nf_aws_range a = {0};
                if (!cJSON_IsString(p) || !cJSON_IsString(s) || !cJSON_IsString(g) || nf_prefix_parse(p->valuestring, &a.prefix) < 0)
                        continue;
                snprintf(a.service, sizeof(a.service), "%s", s->valuestring);
                snprintf(a.region, sizeof(a.region), "%s", g->valuestring);
                r->v[r->n++] = a;
        }
        return 0;
}

int nf_aws_ranges_load(struct nf_aws_ranges *r, const char *path, char *err, size_t errlen) {
        size_t len = 0;
        const char *region = getenv("AWS_REGION");
        *r = (struct nf_aws_ranges){0};
        if (region && *region) {
                snprintf(r->default_region, sizeof(r->default_region), "%s", region);
                snprintf(r->region_source, sizeof(r->region_source), "AWS_REGION");
        } else if ((region = getenv("AWS_DEFAULT_REGION")) && *region) {
                snprintf(r->default_region, sizeof(r->default_region), "%s", region);
                snprintf(r->region_source, sizeof(r->region_source), "AWS_DEFAULT_REGION");
        }
        if (!path || !*path)
                return 0;
        snprintf(r->path, sizeof(r->path), "%s", path);
        char *text = slurp(path, &len);
        if (!text) {
                snprintf(err, errlen, "cannot read --aws-ip-ranges %s: %s", path, strerror(errno ? errno : EIO));
                return -EIO;
        }
        cJSON *o = cJSON_ParseWithLength(text, len);
        free(text);
        const cJSON *v4 = o ? cJSON_GetObjectItem(o, "prefixes") : NULL, *v6 = o ? cJSON_GetObjectItem(o, "ipv6_prefixes") : NULL,
                    *tok = o ? cJSON_GetObjectItem(o, "syncToken") : NULL, *date = o ? cJSON_GetObjectItem(o, "createDate") : NULL;
        if (!cJSON_IsArray(v4)) {
                snprintf(err, errlen, "--aws-ip-ranges %s is not in ip-ranges.json format (no \"prefixes\" list)", path);
                cJSON_Delete(o);
                return -EINVAL;
        }
        size_t cap = (size_t)cJSON_GetArraySize(v4) + (cJSON_IsArray(v6) ? (size_t)cJSON_GetArraySize(v6) : 0);
        r->v = calloc(cap ? cap : 1, sizeof(*r->v));
        if (!r->v) {
                cJSON_Delete(o);
                return -ENOMEM;
        }
        add_list(r, v4, "ip_prefix");
        if (cJSON_IsArray(v6))
                add_list(r, v6, "ipv6_prefix");
        if (cJSON_IsString(tok))
                snprintf(r->sync_token, sizeof(r->sync_token), "%s", tok->valuestring);
        else if (cJSON_IsNumber(tok))
                snprintf(r->sync_token, sizeof(r->sync_token), "%.0f", tok->valuedouble);
        if (cJSON_IsString(date))
                snprintf(r->create_date, sizeof(r->create_date), "%s", date->valuestring);
        cJSON_Delete(o);
        return 0;
}

struct ecs_ctx {
        struct nf_aws_ranges *r;
        struct event_base *base;
};

static void on_ecs_task(struct evhttp_request *req, void *arg) {
        struct ecs_ctx *c = arg;
        if (req && evhttp_request_get_response_code(req) == 200) {
                struct evbuffer *b = evhttp_request_get_input_buffer(req);
                size_t len = evbuffer_get_length(b);
                const char *text = (const char *)evbuffer_pullup(b, -1);
                cJSON *o = text ? cJSON_ParseWithLength(text, len) : NULL;
                const cJSON *az = o ? cJSON_GetObjectItem(o, "AvailabilityZone") : NULL;
                const cJSON *arn = o ? cJSON_GetObjectItem(o, "TaskARN") : NULL;
                char region[32] = "";
                /* arn:aws:ecs:REGION:ACCOUNT:task/... is exact; an AZ is the region plus a letter. */
                if (cJSON_IsString(arn) && strncmp(arn->valuestring, "arn:", 4) == 0) {
                        const char *p = arn->valuestring;
                        for (int i = 0; i < 3 && p; i++)
                                p = strchr(p + 1, ':');
                        const char *q = p ? strchr(p + 1, ':') : NULL;
                        if (q && q - p - 1 > 0 && (size_t)(q - p - 1) < sizeof(region))
                                snprintf(region, sizeof(region), "%.*s", (int)(q - p - 1), p + 1);
                }
                if (!region[0] && cJSON_IsString(az)) {
                        size_t l = strlen(az->valuestring);
                        while (l > 0 && isalpha((unsigned char)az->valuestring[l - 1]))
                                l--;
                        if (l > 0 && l < sizeof(region))
                                snprintf(region, sizeof(region), "%.*s", (int)l, az->valuestring);
                }
                if (region[0]) {
                        snprintf(c->r->default_region, sizeof(c->r->default_region), "%s", region);
                        snprintf(c->r->region_source, sizeof(c->r->region_source), "ECS task metadata");
                }
                cJSON_Delete(o);
        }
        event_base_loopbreak(c->base);
}

void nf_aws_region_from_ecs(struct nf_aws_ranges *r, int timeout_ms) {
        const char *uri = getenv("ECS_CONTAINER_METADATA_URI_V4");
        char url[512], path[512];
        if (r->default_region[0] || !uri || !*uri)
                return;
        /* A loop of its own: nothing of this one-off request may linger in the daemon's loop. */
        struct event_base *base = event_base_new();
        if (!base)
                return;
        snprintf(url, sizeof(url), "%s/task", uri);
        struct evhttp_uri *u = evhttp_uri_parse(url);
        if (!u || !evhttp_uri_get_host(u)) {
                if (u)
                        evhttp_uri_free(u);
                event_base_free(base);
                return;
        }
        int port = evhttp_uri_get_port(u) > 0 ? evhttp_uri_get_port(u) : 80;
        snprintf(path, sizeof(path), "%s", evhttp_uri_get_path(u) ? evhttp_uri_get_path(u) : "/task");
        struct evhttp_connection *con = evhttp_connection_base_new(base, NULL, evhttp_uri_get_host(u), (ev_uint16_t)port);
        struct ecs_ctx c = {r, base};
        struct evhttp_request *req = con ? evhttp_request_new(on_ecs_task, &c) : NULL;
        if (req) {
                evhttp_add_header(evhttp_request_get_output_headers(req), "Host", evhttp_uri_get_host(u));
                evhttp_connection_set_timeout(con, (timeout_ms + 999) / 1000);
                if (evhttp_make_request(con, req, EVHTTP_REQ_GET, path) == 0) {
                        struct timeval tv = {.tv_sec = timeout_ms / 1000, .tv_usec = (timeout_ms % 1000) * 1000};
                        event_base_loopexit(base, &tv);
                        event_base_dispatch(base);
                }
        }
        if (con)
                evhttp_connection_free(con);
        evhttp_uri_free(u);
        event_base_free(base);
}

void nf_aws_ranges_free(struct nf_aws_ranges *r) {
        free(r->v);
        r->v = NULL;
        r->n = 0;
}

int nf_aws_ranges_select(const struct nf_aws_ranges *r, const char *spec, const char *field, struct nf_prefix **out,
                         size_t *n, struct nf_err *e) {
        char service[32] = "", region[32] = "";
        const char *colon = strchr(spec, ':');
        size_t sl = colon ? (size_t)(colon - spec) : strlen(spec), found = 0;
        bool service_known = false, region_known = false;

        if (sl == 0 || sl >= sizeof(service) || (colon && strlen(colon + 1) >= sizeof(region)))
                return nf_fail(e, NF_ERR_INVALID, "invalid_target", field, "%s: 'aws:%s' is not aws:SERVICE or aws:SERVICE:region", field,
                               spec);
        memcpy(service, spec, sl);
        snprintf(region, sizeof(region), "%s", colon ? colon + 1 : r->default_region);
        if (r->n == 0)
                return nf_fail(e, NF_ERR_UNSATISFIABLE, "no_aws_ranges", field,
                               "%s: 'aws:%s' needs AWS's ip-ranges.json: start netfaultd with --aws-ip-ranges FILE", field,
                               spec);
        if (!region[0])
                return nf_fail(e, NF_ERR_UNSATISFIABLE, "no_region", field,
                               "%s: 'aws:%s' names no region and none is known (AWS_REGION, AWS_DEFAULT_REGION or ECS "
                               "task metadata); write aws:%s:REGION",
                               field, spec, service);
        for (size_t i = 0; i < r->n; i++) {
                bool s = strcmp(r->v[i].service, service) == 0, g = strcmp(r->v[i].region, region) == 0;
                service_known |= s;
                region_known |= g;
                if (!s || !g)
                        continue;
                struct nf_prefix *v = realloc(*out, (*n + 1) * sizeof(*v));
                if (!v)
                        return nf_fail(e, NF_ERR_INTERNAL, "internal", NULL, "out of memory");
                *out = v;
                (*out)[(*n)++] = r->v[i].prefix;
                found++;
        }
        if (!service_known)
                return nf_fail(e, NF_ERR_UNSATISFIABLE, "unknown_aws_service", field, "%s: 'aws:%s': no service '%s' in %s (syncToken %s)",
                               field, spec, service, r->path, r->sync_token);
        if (!region_known)
                return nf_fail(e, NF_ERR_UNSATISFIABLE, "unknown_aws_region", field, "%s: 'aws:%s': no region '%s' in %s (syncToken %s)", field,
                               spec, region, r->path, r->sync_token);
        if (!found)
                return nf_fail(e, NF_ERR_UNSATISFIABLE, "empty_aws_range", field, "%s: 'aws:%s': %s publishes no %s range in %s", field, spec,
                               r->path, service, region);
        return 0;
}
