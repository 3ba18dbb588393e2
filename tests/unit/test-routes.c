/* The route table (api/routes.c): its rows are well formed, paths match the routes (and the id
 * bounds) the strcmp router had, Allow lists what each path serves, and only the routes that
 * change the kernel are rate limited. What the daemon answers over HTTP: tests/api/test-api.sh. */
#include <stdio.h>
#include <string.h>

#include "api/request.h"
#include "api/routes.h"
#include "tap.h"

static void table_is_well_formed(void) {
        size_t n;
        const struct nf_route *r = nf_routes(&n);
        tap_ok(n > 0, "the table has routes (%zu)", n);
        for (size_t i = 0; i < n; i++) {
                const char *id = strstr(r[i].pattern, "{id}");
                size_t methods = 0;
                bool dup = false;
                for (size_t j = 0; j < NF_ROUTE_MAX_METHODS && r[i].methods[j].handler; j++, methods++)
                        for (size_t k = 0; k < j; k++)
                                dup |= r[i].methods[k].method == r[i].methods[j].method;
                bool same = false;
                for (size_t k = 0; k < i; k++)
                        same |= strcmp(r[k].pattern, r[i].pattern) == 0;
                tap_ok(r[i].surface && r[i].pattern[0] == '/' && methods > 0 && !dup && !same &&
                               (!id || !strstr(id + 1, "{id}")) && !(id && r[i].trailing_slash),
                       "%s: a surface, a path, at least one method and each once, at most one {id}, unique",
                       r[i].pattern);
        }
}

static void matches(const char *path, const char *pattern, const char *id) {
        char got[NF_ROUTE_ID_MAX + 1] = "unset";
        const struct nf_route *r = nf_route_match(path, got);
        if (!pattern) {
                if (!tap_ok(!r, "%.60s names no resource", path))
                        printf("#   matched %s\n", r->pattern);
                return;
        }
        if (!tap_ok(r && strcmp(r->pattern, pattern) == 0 && strcmp(got, id) == 0, "%.60s is %s with id '%s'", path,
                    pattern, id))
                printf("#   got %s with id '%s'\n", r ? r->pattern : "nothing", got);
}

static void paths_match(void) {
        char id39[40], id40[41], id60[61], path[128];
        memset(id39, 'a', 39), id39[39] = '\0';
        memset(id40, 'b', 40), id40[40] = '\0';
        memset(id60, 'c', 60), id60[60] = '\0';

        matches("/healthz", "/healthz", "");
        matches("/healthz/", NULL, NULL);
        matches("/v1/capabilities", "/v1/capabilities", "");
        matches("/v1/capabilities/", NULL, NULL);
        matches("/v1/faults", "/v1/faults", "");
        matches("/v1/faults/", "/v1/faults", ""); /* the collection, not an empty id */
        matches("/v1/faults//", NULL, NULL);
        matches("/v1/faultsX", NULL, NULL);
        matches("/v1/faults/f-3fa1c29be0d4", "/v1/faults/{id}", "f-3fa1c29be0d4");
        matches("/v1/faults/f-3fa1c29be0d4/", NULL, NULL);
        matches("/v1/faults/f-3fa1c29be0d4/renew", "/v1/faults/{id}/renew", "f-3fa1c29be0d4");
        matches("/v1/faults/f-3fa1c29be0d4/renew/", NULL, NULL);
        matches("/v1/faults/f-3fa1c29be0d4/other", NULL, NULL);
        matches("/v1/faults//renew", "/v1/faults/{id}/renew", ""); /* the handler's 404 names '' */
        matches("/", NULL, NULL);
        matches("", NULL, NULL);
        matches("/v2/nothing", NULL, NULL);
        /* An {id} followed by more path is shorter than NF_ROUTE_ID_MAX; a last one is cut there. */
        snprintf(path, sizeof(path), "/v1/faults/%s/renew", id39);
        matches(path, "/v1/faults/{id}/renew", id39);
        snprintf(path, sizeof(path), "/v1/faults/%s/renew", id40);
        matches(path, NULL, NULL);
        snprintf(path, sizeof(path), "/v1/faults/%s", id40);
        matches(path, "/v1/faults/{id}", id40);
        snprintf(path, sizeof(path), "/v1/faults/%s", id60);
        matches(path, "/v1/faults/{id}", id60 + 20);
}

static void allows(const char *path, const char *want) {
        char id[NF_ROUTE_ID_MAX + 1], allow[64] = "";
        const struct nf_route *r = nf_route_match(path, id);
        if (r)
                nf_route_allow(r, allow, sizeof(allow));
        tap_is_str(allow, want, "Allow for %s is '%s'", path, want);
}

static void takes(enum evhttp_cmd_type m, const char *path, unsigned limits, unsigned query) {
        char id[NF_ROUTE_ID_MAX + 1];
        const struct nf_route *r = nf_route_match(path, id);
        const struct nf_route_method *rm = r ? nf_route_method(r, m) : NULL;
        if (!tap_ok(rm && rm->limits == limits && rm->query == query, "%s %s: limits %#x, query %#x", nf_method_name(m),
                    path, limits, query) &&
            rm)
                printf("#   limits %#x, query %#x\n", rm->limits, rm->query);
}

int main(void) {
        table_is_well_formed();
        paths_match();
        allows("/healthz", "GET");
        allows("/v1/capabilities", "GET");
        allows("/v1/faults", "GET, POST, DELETE");
        allows("/v1/faults/f-3fa1c29be0d4", "GET, DELETE");
        allows("/v1/faults/f-3fa1c29be0d4/renew", "POST");
        allows("/v1/pods", "GET");
        takes(EVHTTP_REQ_GET, "/healthz", 0, 0);
        takes(EVHTTP_REQ_GET, "/v1/capabilities", 0, 0);
        takes(EVHTTP_REQ_GET, "/v1/faults", 0, NF_QUERY_POD_UID | NF_QUERY_LIMIT | NF_QUERY_AFTER);
        takes(EVHTTP_REQ_POST, "/v1/faults/", NF_ROUTE_RATE_LIMITED, NF_QUERY_DRY_RUN);
        takes(EVHTTP_REQ_DELETE, "/v1/faults", NF_ROUTE_RATE_LIMITED, 0);
        takes(EVHTTP_REQ_GET, "/v1/faults/f-3fa1c29be0d4", 0, 0);
        takes(EVHTTP_REQ_DELETE, "/v1/faults/f-3fa1c29be0d4", NF_ROUTE_RATE_LIMITED, 0);
        takes(EVHTTP_REQ_POST, "/v1/faults/f-3fa1c29be0d4/renew", NF_ROUTE_RATE_LIMITED, 0);
        takes(EVHTTP_REQ_GET, "/v1/pods", NF_ROUTE_RATE_LIMITED, 0);
        {
                char id[NF_ROUTE_ID_MAX + 1];
                const struct nf_route *r = nf_route_match("/v1/faults", id);
                tap_ok(r && !nf_route_method(r, EVHTTP_REQ_PUT) && !nf_route_method(r, EVHTTP_REQ_HEAD),
                       "PUT and HEAD /v1/faults are not served (a 405)");
        }
        tap_is_str(nf_query_name(NF_QUERY_DRY_RUN), "dry_run", "NF_QUERY_DRY_RUN is dry_run");
        tap_is_str(nf_query_name(NF_QUERY_POD_UID), "pod_uid", "NF_QUERY_POD_UID is pod_uid");
        return tap_done();
}
