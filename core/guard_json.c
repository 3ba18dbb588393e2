/* A guard's settings in the fault's JSON, and what probes get back (HTTP heads, Prometheus
 * answers): pure functions, tested in tests/unit/test-guard.c. */
#include "core/guard.h"

#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "core/spec_fields.h"

#define FIELD_LEN 96

const char *nf_probe_kind_name(enum nf_probe_kind k) {
        static const char *const n[] = {"http", "tcp", "prometheus"};
        return (unsigned)k < NF_PROBE_KIND_COUNT ? n[k] : "?";
}

/* ---- URLs ---- */

static bool is_address(const char *s) {
        unsigned char buf[16];
        return inet_pton(AF_INET, s, buf) == 1 || inet_pton(AF_INET6, s, buf) == 1;
}

int nf_url_parse(const char *text, struct nf_url *out) {
        const char *p, *host, *host_end, *rest;
        *out = (struct nf_url){0};
        for (p = text; *p; p++)
                if ((unsigned char)*p <= ' ' || (unsigned char)*p >= 0x7f || *p == '#')
                        return -1; /* nothing that could end a request line or a header early */
        if (strncmp(text, "http://", 7) == 0) {
                host = text + 7;
                out->port = 80;
        } else if (strncmp(text, "https://", 8) == 0) {
                host = text + 8;
                out->tls = true;
                out->port = 443;
        } else {
                return -1;
        }
        rest = host + strcspn(host, "/?");
        if (memchr(host, '@', (size_t)(rest - host)))
                return -1; /* credentials in a URL would end up in logs and the journal */
        if (*host == '[') {
                host_end = memchr(host, ']', (size_t)(rest - host));
                if (!host_end)
                        return -1;
                host++;
                p = host_end + 1;
        } else {
                host_end = memchr(host, ':', (size_t)(rest - host));
                if (!host_end)
                        host_end = rest;
                p = host_end;
        }
        if (host_end == host || (size_t)(host_end - host) >= sizeof(out->host))
                return -1;
        memcpy(out->host, host, (size_t)(host_end - host));
        if (host[-1] == '[' && !strchr(out->host, ':'))
                return -1;
        if (p < rest) {
                char *end;
                long port;
                if (*p != ':' || !isdigit((unsigned char)p[1]))
                        return -1;
                port = strtol(p + 1, &end, 10);
                if (end != rest || port < 1 || port > 65535)
                        return -1;
                out->port = (uint16_t)port;
        }
        if (!is_address(out->host)) {
                for (p = out->host; *p; p++)
                        if (!isalnum((unsigned char)*p) && *p != '-' && *p != '.' && *p != '_')
                                return -1;
        }
        snprintf(out->path, sizeof(out->path), "%s%s", *rest == '?' ? "/" : "", *rest ? rest : "/");
        return 0;
}

/* ---- settings ---- */

static int probe_common(const cJSON *o, const char *parent, struct nf_probe_spec *p, uint32_t interval_ms,
                        struct nf_err *e) {
        static const char *const froms[] = {"daemon", "target"};
        char field[FIELD_LEN];
        uint64_t u = 0;
        bool has = false;
        int from = 0;
        if (nf_json_get_enum(o, parent, "from", froms, 2, &from, e) < 0)
                return -1;
        p->from_target = from == 1;
        if (nf_json_get_integer(o, parent, "timeout_ms", false, 1, interval_ms, &u, &has, e) < 0) {
                snprintf(field, sizeof(field), "%s.timeout_ms", parent);
                /* Say why the bound is the interval: rounds never overlap. */
                if (strcmp(e->code, "out_of_range") == 0)
                        nf_fail(e, NF_ERR_INVALID, "out_of_range", field, "%s: give 1..%u ms (at most the guard's interval_ms)", field,
                                interval_ms);
                return -1;
        }
        p->timeout_ms = has ? (uint32_t)u : (interval_ms < 1000 ? interval_ms : 1000);
        return 0;
}

static int get_string(const cJSON *o, const char *parent, const char *key, bool required, char *out, size_t len,
                      struct nf_err *e) {
        char field[FIELD_LEN], shown[96];
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, key);
        snprintf(field, sizeof(field), "%s.%s", parent, key);
        if (!v) {
                if (required)
                        return nf_fail(e, NF_ERR_INVALID, "missing_field", field, "%s is required", field);
                return 0;
        }
        if (!cJSON_IsString(v) || !v->valuestring[0] || strlen(v->valuestring) >= len) {
                nf_json_show(v, shown, sizeof(shown));
                return nf_fail(e, NF_ERR_INVALID, "invalid_value", field, "%s: %s is not a string of 1 to %zu bytes", field, shown,
                               len - 1);
        }
        snprintf(out, len, "%s", v->valuestring);
        return 0;
}

static int get_url(const cJSON *o, const char *parent, struct nf_probe_spec *p, struct nf_err *e) {
        char field[FIELD_LEN];
        if (get_string(o, parent, "url", true, p->url_text, sizeof(p->url_text), e) < 0)
                return -1;
        if (nf_url_parse(p->url_text, &p->url) < 0) {
                snprintf(field, sizeof(field), "%s.url", parent);
                return nf_fail(e, NF_ERR_INVALID, "invalid_value", field,
                               "%s: '%.80s' is not an http:// or https:// URL (host, optional port and path; no credentials, "
                               "spaces or fragment)",
                               field, p->url_text);
        }
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "tls_insecure");
        if (v) {
                snprintf(field, sizeof(field), "%s.tls_insecure", parent);
                if (nf_json_bool(v, field, &p->tls_insecure, e) < 0)
                        return -1;
        }
        return 0;
}

static int parse_status_item(const cJSON *it, struct nf_status_range *r) {
        if (cJSON_IsNumber(it)) {
                if (it->valuedouble != floor(it->valuedouble) || it->valuedouble < 100 || it->valuedouble > 599)
                        return -1;
                r->lo = r->hi = (uint16_t)it->valuedouble;
                return 0;
        }
        if (cJSON_IsString(it)) {
                unsigned lo, hi;
                char tail;
                if (sscanf(it->valuestring, "%3u-%3u%c", &lo, &hi, &tail) != 2 || lo < 100 || hi > 599 || lo > hi)
                        return -1;
                r->lo = (uint16_t)lo;
                r->hi = (uint16_t)hi;
                return 0;
        }
        return -1;
}

static int parse_http(const cJSON *o, const char *parent, struct nf_probe_spec *p, uint32_t interval_ms,
                      struct nf_err *e) {
        static const char *const keys[] = {"url", "method", "expect_status", "timeout_ms", "max_latency_ms", "body_contains",
                                           "tls_insecure", "from", NULL};
        static const char *const methods[] = {"GET", "HEAD"};
        char field[FIELD_LEN], shown[96];
        const cJSON *v, *it;
        uint64_t u = 0;
        bool has = false;
        int m = 0;
        if (nf_json_check_keys(o, parent, keys, NULL, e) < 0 || probe_common(o, parent, p, interval_ms, e) < 0 ||
            get_url(o, parent, p, e) < 0 || nf_json_get_enum(o, parent, "method", methods, 2, &m, e) < 0)
                return -1;
        p->head = m == 1;
        if (nf_json_get_integer(o, parent, "max_latency_ms", false, 1, p->timeout_ms, &u, &has, e) < 0)
                return -1;
        p->max_latency_ms = has ? (uint32_t)u : 0;
        if (get_string(o, parent, "body_contains", false, p->body_contains, sizeof(p->body_contains), e) < 0)
                return -1;
        if (p->head && p->body_contains[0]) {
                snprintf(field, sizeof(field), "%s.body_contains", parent);
                return nf_fail(e, NF_ERR_INVALID, "invalid_value", field, "%s: a HEAD request gets no body to search", field);
        }
        if ((v = cJSON_GetObjectItemCaseSensitive(o, "expect_status"))) {
                size_t i = 0;
                snprintf(field, sizeof(field), "%s.expect_status", parent);
                if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) < 1 || cJSON_GetArraySize(v) > NF_PROBE_MAX_EXPECT)
                        return nf_fail(e, NF_ERR_INVALID, "invalid_value", field,
                                       "%s: give a list of 1 to %d statuses (200) or ranges ('200-299')", field, NF_PROBE_MAX_EXPECT);
                cJSON_ArrayForEach(it, v) {
                        if (parse_status_item(it, &p->expect[i]) < 0) {
                                nf_json_show(it, shown, sizeof(shown));
                                snprintf(field, sizeof(field), "%s.expect_status[%zu]", parent, i);
                                return nf_fail(e, NF_ERR_INVALID, "invalid_value", field,
                                               "%s: %s is not a status (100..599) or a range such as '200-299'", field, shown);
                        }
                        i++;
                }
                p->n_expect = i;
        }
        return 0;
}

static int parse_tcp(const cJSON *o, const char *parent, struct nf_probe_spec *p, uint32_t interval_ms,
                     struct nf_err *e) {
        static const char *const keys[] = {"address", "port", "timeout_ms", "from", NULL};
        char field[FIELD_LEN];
        uint64_t u = 0;
        if (nf_json_check_keys(o, parent, keys, NULL, e) < 0 || probe_common(o, parent, p, interval_ms, e) < 0 ||
            get_string(o, parent, "address", true, p->address, sizeof(p->address), e) < 0 ||
            nf_json_get_integer(o, parent, "port", true, 1, 65535, &u, NULL, e) < 0)
                return -1;
        p->port = (uint16_t)u;
        struct nf_url check;
        char url[NF_PROBE_HOST_LEN + 16];
        snprintf(url, sizeof(url), strchr(p->address, ':') ? "http://[%s]/" : "http://%s/", p->address);
        if (nf_url_parse(url, &check) < 0) {
                snprintf(field, sizeof(field), "%s.address", parent);
                return nf_fail(e, NF_ERR_INVALID, "invalid_value", field, "%s: '%.80s' is not an address or a hostname", field,
                               p->address);
        }
        return 0;
}

static int parse_prometheus(const cJSON *o, const char *parent, struct nf_probe_spec *p, uint32_t interval_ms,
                            struct nf_err *e) {
        static const char *const keys[] = {"url", "query", "max", "min", "timeout_ms", "tls_insecure", "from", NULL};
        char field[FIELD_LEN];
        if (nf_json_check_keys(o, parent, keys, NULL, e) < 0 || probe_common(o, parent, p, interval_ms, e) < 0 ||
            get_url(o, parent, p, e) < 0 || get_string(o, parent, "query", true, p->query, sizeof(p->query), e) < 0 ||
            nf_json_get_number(o, parent, "max", false, -1e300, 1e300, &p->max, &p->has_max, e) < 0 ||
            nf_json_get_number(o, parent, "min", false, -1e300, 1e300, &p->min, &p->has_min, e) < 0)
                return -1;
        snprintf(field, sizeof(field), "%s.max", parent);
        if (!p->has_max && !p->has_min)
                return nf_fail(e, NF_ERR_INVALID, "missing_field", field, "%s or %s.min is required: the bound the value must keep", field,
                               parent);
        if (p->has_max && p->has_min && p->min > p->max)
                return nf_fail(e, NF_ERR_INVALID, "out_of_range", field, "%s: %g is below min %g", field, p->max, p->min);
        return 0;
}

static int parse_probe(const cJSON *it, size_t i, struct nf_probe_spec *p, uint32_t interval_ms, struct nf_err *e) {
        static int (*const parse[])(const cJSON *, const char *, struct nf_probe_spec *, uint32_t, struct nf_err *) = {
                parse_http, parse_tcp, parse_prometheus};
        char field[48], parent[FIELD_LEN];
        snprintf(field, sizeof(field), "guard.probes[%zu]", i);
        if (!cJSON_IsObject(it) || cJSON_GetArraySize(it) != 1)
                return nf_fail(e, NF_ERR_INVALID, "invalid_value", field,
                               "%s: give an object with exactly one of http, tcp, prometheus (no command: netfaultd never "
                               "runs programs)",
                               field);
        for (int k = 0; k < NF_PROBE_KIND_COUNT; k++) {
                const cJSON *o = cJSON_GetObjectItemCaseSensitive(it, nf_probe_kind_name((enum nf_probe_kind)k));
                if (!o)
                        continue;
                snprintf(parent, sizeof(parent), "%s.%s", field, nf_probe_kind_name((enum nf_probe_kind)k));
                if (!cJSON_IsObject(o))
                        return nf_fail(e, NF_ERR_INVALID, "invalid_type", parent, "%s: expected an object", parent);
                p->kind = (enum nf_probe_kind)k;
                return parse[k](o, parent, p, interval_ms, e);
        }
        snprintf(parent, sizeof(parent), "%s.%.40s", field, it->child->string);
        return nf_fail(e, NF_ERR_INVALID, "unknown_field", parent, "%s: unknown probe kind (http, tcp or prometheus)%s", parent,
                       strcmp(it->child->string, "command") == 0 ? "; netfaultd never runs programs" : "");
}

int nf_guard_parse(const cJSON *v, struct nf_guard_spec **out, struct nf_err *e) {
        static const char *const keys[] = {"probes", "interval_ms", "failures_to_abort", "grace_ms", "scope", NULL};
        static const char *const scopes[] = {"fault", "all"};
        const cJSON *probes, *it;
        uint64_t u = 0;
        bool has = false;
        int scope = 0;
        size_t i = 0;
        struct nf_guard_spec *g;

        *out = NULL;
        if (!v)
                return 0;
        if (!cJSON_IsObject(v))
                return nf_fail(e, NF_ERR_INVALID, "invalid_type", "guard", "guard: expected an object");
        if (nf_json_check_keys(v, "guard", keys, NULL, e) < 0)
                return -1;
        if (!(g = calloc(1, sizeof(*g))))
                return nf_fail(e, NF_ERR_INTERNAL, "internal", "guard", "out of memory");
        if (nf_json_get_integer(v, "guard", "interval_ms", false, NF_GUARD_MIN_INTERVAL_MS, NF_GUARD_MAX_INTERVAL_MS, &u, &has,
                                e) < 0)
                goto fail;
        g->interval_ms = has ? (uint32_t)u : 1000;
        if (nf_json_get_integer(v, "guard", "failures_to_abort", false, 1, NF_GUARD_MAX_FAILURES, &u, &has, e) < 0)
                goto fail;
        g->failures_to_abort = has ? (uint32_t)u : 3;
        if (nf_json_get_integer(v, "guard", "grace_ms", false, 0, NF_GUARD_MAX_INTERVAL_MS, &u, &has, e) < 0)
                goto fail;
        g->grace_ms = has ? (uint32_t)u : 0;
        if (nf_json_get_enum(v, "guard", "scope", scopes, 2, &scope, e) < 0)
                goto fail;
        g->scope_all = scope == 1;
        probes = cJSON_GetObjectItemCaseSensitive(v, "probes");
        if (!cJSON_IsArray(probes) || cJSON_GetArraySize(probes) < 1 || cJSON_GetArraySize(probes) > NF_GUARD_MAX_PROBES) {
                nf_fail(e, NF_ERR_INVALID, probes ? "out_of_range" : "missing_field", "guard.probes",
                        "guard.probes: give 1 to %d probes", NF_GUARD_MAX_PROBES);
                goto fail;
        }
        cJSON_ArrayForEach(it, probes) {
                if (parse_probe(it, i, &g->probes[i], g->interval_ms, e) < 0)
                        goto fail;
                i++;
        }
        g->n_probes = i;
        *out = g;
        return 0;
fail:
        free(g);
        return -1;
}

cJSON *nf_guard_spec_to_json(const struct nf_guard_spec *g) {
        cJSON *o = cJSON_CreateObject(), *probes = cJSON_AddArrayToObject(o, "probes");
        for (size_t i = 0; i < g->n_probes; i++) {
                const struct nf_probe_spec *p = &g->probes[i];
                cJSON *w = cJSON_CreateObject(), *k = cJSON_AddObjectToObject(w, nf_probe_kind_name(p->kind));
                cJSON_AddItemToArray(probes, w);
                switch (p->kind) {
                case NF_PROBE_HTTP:
                        cJSON_AddStringToObject(k, "url", p->url_text);
                        cJSON_AddStringToObject(k, "method", p->head ? "HEAD" : "GET");
                        if (p->n_expect) {
                                cJSON *ex = cJSON_AddArrayToObject(k, "expect_status");
                                for (size_t j = 0; j < p->n_expect; j++) {
                                        char buf[16];
                                        if (p->expect[j].lo == p->expect[j].hi) {
                                                cJSON_AddItemToArray(ex, cJSON_CreateNumber(p->expect[j].lo));
                                        } else {
                                                snprintf(buf, sizeof(buf), "%u-%u", p->expect[j].lo, p->expect[j].hi);
                                                cJSON_AddItemToArray(ex, cJSON_CreateString(buf));
                                        }
                                }
                        }
                        if (p->max_latency_ms)
                                cJSON_AddNumberToObject(k, "max_latency_ms", p->max_latency_ms);
                        if (p->body_contains[0])
                                cJSON_AddStringToObject(k, "body_contains", p->body_contains);
                        break;
                case NF_PROBE_TCP:
                        cJSON_AddStringToObject(k, "address", p->address);
                        cJSON_AddNumberToObject(k, "port", p->port);
                        break;
                default:
                        cJSON_AddStringToObject(k, "url", p->url_text);
                        cJSON_AddStringToObject(k, "query", p->query);
                        if (p->has_max)
                                cJSON_AddNumberToObject(k, "max", p->max);
                        if (p->has_min)
                                cJSON_AddNumberToObject(k, "min", p->min);
                        break;
                }
                if (p->kind != NF_PROBE_TCP && p->tls_insecure)
                        cJSON_AddBoolToObject(k, "tls_insecure", true);
                cJSON_AddNumberToObject(k, "timeout_ms", p->timeout_ms);
                cJSON_AddStringToObject(k, "from", p->from_target ? "target" : "daemon");
        }
        cJSON_AddNumberToObject(o, "interval_ms", g->interval_ms);
        cJSON_AddNumberToObject(o, "failures_to_abort", g->failures_to_abort);
        cJSON_AddNumberToObject(o, "grace_ms", g->grace_ms);
        cJSON_AddStringToObject(o, "scope", g->scope_all ? "all" : "fault");
        return o;
}

size_t nf_guard_hostnames(const struct nf_guard_spec *g, char (*names)[NF_PROBE_HOST_LEN], size_t max) {
        size_t n = 0;
        for (size_t i = 0; i < g->n_probes && n < max; i++) {
                const char *h = g->probes[i].kind == NF_PROBE_TCP ? g->probes[i].address : g->probes[i].url.host;
                if (!is_address(h))
                        snprintf(names[n++], NF_PROBE_HOST_LEN, "%s", h);
        }
        return n;
}

/* ---- responses ---- */

int nf_http_answer_status(const char *resp, size_t len) {
        /* "HTTP/1.x NNN" */
        if (len < 12 || strncmp(resp, "HTTP/1.", 7) != 0 || resp[8] != ' ' || !isdigit((unsigned char)resp[9]) ||
            !isdigit((unsigned char)resp[10]) || !isdigit((unsigned char)resp[11]) || (len > 12 && resp[12] != ' ' && resp[12] != '\r'))
                return -1;
        return (resp[9] - '0') * 100 + (resp[10] - '0') * 10 + (resp[11] - '0');
}

static const char *head_end(const char *resp, size_t len) {
        for (size_t i = 0; i + 1 < len; i++) {
                if (resp[i] == '\n' && resp[i + 1] == '\n')
                        return resp + i + 2;
                if (i + 3 < len && memcmp(resp + i, "\r\n\r\n", 4) == 0)
                        return resp + i + 4;
        }
        return NULL;
}

const char *nf_http_answer_body(const char *resp, size_t len, size_t *body_len) {
        const char *b = head_end(resp, len);
        if (!b)
                return NULL;
        *body_len = len - (size_t)(b - resp);
        return b;
}

long nf_http_answer_length(const char *resp, size_t len) {
        const char *end = head_end(resp, len);
        if (!end)
                return -1;
        for (const char *l = memchr(resp, '\n', (size_t)(end - resp)); l && l + 1 < end;
             l = memchr(l + 1, '\n', (size_t)(end - l - 1))) {
                if ((size_t)(end - l) > 16 && strncasecmp(l + 1, "Content-Length:", 15) == 0) {
                        char *stop;
                        long v = strtol(l + 16, &stop, 10);
                        return v >= 0 && stop > l + 16 ? v : -1;
                }
        }
        return -1;
}

int nf_prometheus_value(const char *body, size_t len, double *out, char *why, size_t why_len) {
        cJSON *root = cJSON_ParseWithLength(body, len), *data, *res, *type, *sample = NULL, *val;
        int rc = -1;
        if (!root) {
                snprintf(why, why_len, "the answer is not JSON");
                return -1;
        }
        const cJSON *status = cJSON_GetObjectItemCaseSensitive(root, "status");
        if (!cJSON_IsString(status) || strcmp(status->valuestring, "success") != 0) {
                const cJSON *err = cJSON_GetObjectItemCaseSensitive(root, "error");
                snprintf(why, why_len, "query failed: %.100s", cJSON_IsString(err) ? err->valuestring : "no status 'success'");
                goto out;
        }
        data = cJSON_GetObjectItemCaseSensitive(root, "data");
        type = cJSON_GetObjectItemCaseSensitive(data, "resultType");
        res = cJSON_GetObjectItemCaseSensitive(data, "result");
        if (!cJSON_IsString(type) || !res) {
                snprintf(why, why_len, "the answer has no data.result");
                goto out;
        }
        if (strcmp(type->valuestring, "scalar") == 0) {
                val = res;
        } else if (strcmp(type->valuestring, "vector") == 0 && cJSON_IsArray(res)) {
                int n = cJSON_GetArraySize(res);
                if (n != 1) {
                        /* No series is no evidence that the hypothesis holds: it fails, as a stop
                         * condition should when its metric disappears. */
                        snprintf(why, why_len, n ? "the query returned %d series, not one" : "the query returned no series", n);
                        goto out;
                }
                sample = cJSON_GetArrayItem(res, 0);
                val = cJSON_GetObjectItemCaseSensitive(sample, "value");
        } else {
                snprintf(why, why_len, "result type '%.20s' is not a vector or a scalar", type->valuestring);
                goto out;
        }
        const cJSON *v = cJSON_GetArrayItem(val, 1);
        if (!cJSON_IsArray(val) || !cJSON_IsString(v)) {
                snprintf(why, why_len, "the sample has no value");
                goto out;
        }
        char *end;
        *out = strtod(v->valuestring, &end);
        if (*end || end == v->valuestring || isnan(*out)) {
                snprintf(why, why_len, "the value '%.20s' is not a number", v->valuestring);
                goto out;
        }
        rc = 0;
out:
        cJSON_Delete(root);
        return rc;
}

static bool status_expected(const struct nf_probe_spec *p, int status) {
        if (p->n_expect == 0)
                return status >= 200 && status <= 399;
        for (size_t i = 0; i < p->n_expect; i++)
                if (status >= p->expect[i].lo && status <= p->expect[i].hi)
                        return true;
        return false;
}

static bool contains(const char *hay, size_t n, const char *needle) {
        size_t m = strlen(needle);
        for (size_t i = 0; hay && m <= n && i <= n - m; i++)
                if (memcmp(hay + i, needle, m) == 0)
                        return true;
        return false;
}

void nf_probe_judge(const struct nf_probe_spec *p, struct nf_probe_result *r, const char *body, size_t body_len) {
        r->ok = false;
        if (p->kind == NF_PROBE_HTTP) {
                if (!status_expected(p, r->status)) {
                        snprintf(r->error, sizeof(r->error), "status %d is not expected", r->status);
                        return;
                }
                if (p->max_latency_ms && r->latency_ms > p->max_latency_ms) {
                        snprintf(r->error, sizeof(r->error), "latency %u ms > max_latency_ms %u", r->latency_ms, p->max_latency_ms);
                        return;
                }
                if (p->body_contains[0] && !contains(body, body_len, p->body_contains)) {
                        snprintf(r->error, sizeof(r->error), "the body does not contain '%.60s'", p->body_contains);
                        return;
                }
        } else if (p->kind == NF_PROBE_PROMETHEUS) {
                if (!r->has_value)
                        return; /* error already says why */
                if (p->has_max && r->value > p->max) {
                        snprintf(r->error, sizeof(r->error), "value %g > max %g", r->value, p->max);
                        return;
                }
                if (p->has_min && r->value < p->min) {
                        snprintf(r->error, sizeof(r->error), "value %g < min %g", r->value, p->min);
                        return;
                }
        }
        r->error[0] = '\0';
        r->ok = true;
}
