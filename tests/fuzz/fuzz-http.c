/* libFuzzer target: the request path of POST /v1/faults as far as it runs without a live libevent
 * loop and kernel. The input is "REQUEST-TARGET\nBODY": the target goes through libevent's URI
 * and query-string parsers as the daemon's handlers use them (path, query, "dry_run" lookup),
 * and the path through the route table's matcher (an {id} it hands on holds no '/' and fits);
 * the body through the JSON parser, the nesting check, the validator and, for a valid spec, the
 * dry run's planning and its reply (nf_plan_to_json), or else the error reply (nf_err_to_json).
 * Every reply must be valid JSON text. Dispatch and the handlers themselves need an
 * evhttp_request from a live connection; the API tests cover them with curl. */
#include <cjson/cJSON.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "api/errors.h"
#include "api/fault_json.h"
#include "api/request.h"
#include "api/routes.h"
#include "core/spec_json.h"
#include "netem/plan.h"

static void check_reply(cJSON *reply) {
        char *text = cJSON_PrintUnformatted(reply);
        if (!text)
                abort();
        cJSON *again = cJSON_Parse(text);
        if (!again)
                abort(); /* what we send must parse */
        cJSON_Delete(again);
        free(text);
        cJSON_Delete(reply);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static const struct nf_validate_limits lim = {.max_duration_s = 3600, .default_duration_s = 300};
        const uint8_t *nl = memchr(data, '\n', size);
        size_t tlen = nl ? (size_t)(nl - data) : size;
        char *target = malloc(tlen + 1);
        if (!target)
                return 0;
        memcpy(target, data, tlen);
        target[tlen] = '\0';

        /* the request target, as libevent parses it for a request line */
        struct evhttp_uri *uri = evhttp_uri_parse_with_flags(target, EVHTTP_URI_NONCONFORMANT);
        if (uri) {
                const char *path = evhttp_uri_get_path(uri), *query = evhttp_uri_get_query(uri);
                struct evkeyvalq q;
                if (path) {
                        char id[NF_ROUTE_ID_MAX + 1], allow[64];
                        const struct nf_route *r = nf_route_match(path, id);
                        if (strlen(id) > NF_ROUTE_ID_MAX || strchr(id, '/') || (!r && id[0]))
                                abort();
                        if (r)
                                nf_route_allow(r, allow, sizeof(allow));
                }
                if (query && evhttp_parse_query_str(query, &q) == 0) {
                        const char *v = evhttp_find_header(&q, "dry_run");
                        if (v)
                                (void)strlen(v);
                        evhttp_clear_headers(&q);
                }
                evhttp_uri_free(uri);
        }
        free(target);

        /* the body */
        const char *body = nl ? (const char *)nl + 1 : "";
        size_t blen = nl ? size - tlen - 1 : 0;
        struct nf_err e;
        struct nf_spec s;
        cJSON *root = cJSON_ParseWithLength(body, blen);
        if (!root) {
                nf_fail(&e, 400, "invalid_json", NULL, "the body is not valid JSON");
                check_reply(nf_err_to_json(&e));
                return 0;
        }
        if (nf_json_depth(root) < 0)
                abort();
        if (nf_validate_fault(root, &lim, &s, &e) < 0) {
                if (nf_http_status(e.kind) < 400 || nf_http_status(e.kind) > 599)
                        abort(); /* every refusal is an HTTP error */
                check_reply(nf_err_to_json(&e));
        } else {
                struct nf_prefix *eff = NULL;
                size_t n = 0;
                struct nf_iface ifs[2] = {{2, "eth0"}, {3, "eth1"}};
                struct nf_plan p;
                if (nf_spec_effective(&s, NF_MAX_FILTERS_PER_FAULT, &eff, &n) == 0 && n > 0 &&
                    nf_plan_build(&s, "f-fuzz", eff, n, 5, ifs, 2, &p) == 0) {
                        check_reply(nf_plan_to_json(&p, true));
                        nf_plan_free(&p);
                }
                check_reply(nf_spec_to_json(&s, false));
                free(eff);
                nf_spec_free(&s);
        }
        cJSON_Delete(root);
        return 0;
}
