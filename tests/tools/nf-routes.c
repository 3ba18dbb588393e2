/* Prints the route table (api/routes.c) for tests that hold it against api/openapi.yaml:
 *   nf-routes [SURFACE]          one "METHOD PATH" line per route and method
 *   nf-routes --query [SURFACE]  one "METHOD PATH PARAMETER" line per query parameter taken
 * With SURFACE ("v1"), only that surface's routes. */
#include <stdio.h>
#include <string.h>

#include "api/request.h"
#include "api/routes.h"

int main(int argc, char **argv) {
        const char *surface = NULL;
        int query = 0;
        size_t n;

        for (int i = 1; i < argc; i++) {
                if (strcmp(argv[i], "--query") == 0)
                        query = 1;
                else if (!surface && argv[i][0] != '-')
                        surface = argv[i];
                else {
                        fprintf(stderr, "usage: nf-routes [--query] [SURFACE]\n");
                        return 64;
                }
        }
        const struct nf_route *r = nf_routes(&n);
        for (size_t i = 0; i < n; i++) {
                if (surface && strcmp(r[i].surface, surface) != 0)
                        continue;
                for (size_t j = 0; j < NF_ROUTE_MAX_METHODS && r[i].methods[j].handler; j++) {
                        const struct nf_route_method *m = &r[i].methods[j];
                        if (!query) {
                                printf("%s %s\n", nf_method_name(m->method), r[i].pattern);
                                continue;
                        }
                        for (unsigned bit = 1; bit; bit <<= 1) {
                                if (!(m->query & bit))
                                        continue;
                                const char *name = nf_query_name(bit);
                                if (!name) {
                                        fprintf(stderr, "%s %s takes query bit %#x, which has no name\n",
                                                nf_method_name(m->method), r[i].pattern, bit);
                                        return 1;
                                }
                                printf("%s %s %s\n", nf_method_name(m->method), r[i].pattern, name);
                        }
                }
        }
        return 0;
}
