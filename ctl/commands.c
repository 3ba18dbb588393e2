/* The commands that read or end faults: list, show, revert, renew, caps, health, pods, watch. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ctl/ctl.h"
#include "ctl/output.h"

int nfc_calls_exit(const struct nfc_call *calls, size_t n)
{
        int refused = 0, unreachable = 0;
        for (size_t i = 0; i < n; i++) {
                if (nfc_call_ok(&calls[i]))
                        continue;
                char why[1024];
                nfc_call_reason(&calls[i], why, sizeof(why));
                if (n > 1)
                        fprintf(stderr, "netfaultctl: %s: %s\n", calls[i].endpoint, why);
                else
                        fprintf(stderr, "netfaultctl: %s\n", why);
                unreachable |= calls[i].status == 0;
                refused |= calls[i].status != 0;
        }
        return refused ? NFC_EXIT_REFUSED : unreachable ? NFC_EXIT_UNREACHABLE : NFC_EXIT_OK;
}

void nfc_print_calls_json(const struct nfc_call *calls, size_t n)
{
        if (n == 1 && calls[0].reply && calls[0].status) {
                cJSON *v = cJSON_Parse(calls[0].reply);
                if (v)
                        nfc_print_json(v);
                else
                        fputs(calls[0].reply, stdout);
                cJSON_Delete(v);
                return;
        }
        cJSON *root = cJSON_CreateObject(), *arr = cJSON_AddArrayToObject(root, "results");
        for (size_t i = 0; i < n; i++) {
                cJSON *r = cJSON_CreateObject();
                cJSON_AddStringToObject(r, "endpoint", calls[i].endpoint);
                cJSON_AddNumberToObject(r, "status", (double)calls[i].status);
                cJSON *b = calls[i].reply ? cJSON_Parse(calls[i].reply) : NULL;
                if (b)
                        cJSON_AddItemToObject(r, "body", b);
                else if (calls[i].status == 0)
                        cJSON_AddStringToObject(r, "transport_error", calls[i].transport_error);
                cJSON_AddItemToArray(arr, r);
        }
        nfc_print_json(root);
        cJSON_Delete(root);
}

/* The same request to every endpoint; the finished calls in *out (caller frees). */
static struct nfc_call *fan_out(struct nfc_opts *o, const char *method, const char *path)
{
        size_t n = o->conn.n_endpoints;
        struct nfc_call *calls = calloc(n, sizeof(*calls));
        if (!calls)
                return NULL;
        for (size_t i = 0; i < n; i++) {
                calls[i].endpoint = o->conn.endpoints[i];
                calls[i].method = method;
                snprintf(calls[i].path, sizeof(calls[i].path), "%s", path);
        }
        nfc_run(&o->conn, calls, n);
        return calls;
}

static void free_calls(struct nfc_call *calls, size_t n)
{
        for (size_t i = 0; calls && i < n; i++)
                nfc_call_reset(&calls[i]);
        free(calls);
}

/* Prints the calls as JSON or with table(), then the exit code of them all. */
static int finish(struct nfc_opts *o, struct nfc_call *calls, void (*table)(struct nfc_opts *, struct nfc_call *))
{
        size_t n = o->conn.n_endpoints;
        if (!calls)
                return NFC_EXIT_REFUSED;
        int rc = nfc_calls_exit(calls, n);
        if (o->json)
                nfc_print_calls_json(calls, n);
        else if (table)
                table(o, calls);
        free_calls(calls, n);
        return rc;
}

static void fault_row(struct nfc_table *t, const char *endpoint, const cJSON *f)
{
        const cJSON *spec = cJSON_GetObjectItemCaseSensitive(f, "spec");
        char eff[256], tgt[256], exp[48], lease[48] = "-";
        nfc_fmt_effects(eff, sizeof(eff), spec);
        nfc_fmt_targets(tgt, sizeof(tgt), spec);
        nfc_fmt_until(exp, sizeof(exp), nfc_str(f, "expires_at"));
        if (nfc_str(f, "lease_expires_at"))
                nfc_fmt_until(lease, sizeof(lease), nfc_str(f, "lease_expires_at"));
        const char *dir = nfc_str(spec, "direction");
        const cJSON *ns = cJSON_GetObjectItemCaseSensitive(f, "netns");
        nfc_table_row(t, endpoint, nfc_str(f, "id"), nfc_str(f, "name"), nfc_str(f, "state"), eff, tgt,
                      dir ? dir : "egress", nfc_str(ns, "pod_uid"), exp, lease);
}

static void list_table(struct nfc_opts *o, struct nfc_call *calls)
{
        struct nfc_table t;
        nfc_table_init(&t, 10, "ENDPOINT", "ID", "NAME", "STATE", "EFFECT", "TARGETS", "DIRECTION", "POD", "EXPIRES",
                       "LEASE");
        for (size_t i = 0; i < o->conn.n_endpoints; i++) {
                cJSON *root = cJSON_Parse(calls[i].reply), *f;
                cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(root, "faults"))
                        fault_row(&t, calls[i].endpoint, f);
                cJSON_Delete(root);
        }
        nfc_table_print(&t);
}

int nfc_cmd_list(struct nfc_opts *o)
{
        char path[160] = "/v1/faults";
        if (o->pod)
                snprintf(path, sizeof(path), "/v1/faults?pod_uid=%.64s", o->pod);
        return finish(o, fan_out(o, "GET", path), list_table);
}

static void show_table(struct nfc_opts *o, struct nfc_call *calls)
{
        for (size_t i = 0; i < o->conn.n_endpoints; i++) {
                cJSON *f = cJSON_Parse(calls[i].reply);
                if (!f || !nfc_call_ok(&calls[i])) {
                        cJSON_Delete(f);
                        continue;
                }
                const cJSON *spec = cJSON_GetObjectItemCaseSensitive(f, "spec");
                const cJSON *c = cJSON_GetObjectItemCaseSensitive(f, "counters");
                char eff[256], tgt[256], exp[48], lease[48] = "-", pk[32], by[32], dr[32], de[32];
                nfc_fmt_effects(eff, sizeof(eff), spec);
                nfc_fmt_targets(tgt, sizeof(tgt), spec);
                nfc_fmt_until(exp, sizeof(exp), nfc_str(f, "expires_at"));
                if (nfc_str(f, "lease_expires_at"))
                        nfc_fmt_until(lease, sizeof(lease), nfc_str(f, "lease_expires_at"));
                nfc_fmt_count(pk, sizeof(pk), nfc_num(c, "packets", 0));
                nfc_fmt_bytes(by, sizeof(by), nfc_num(c, "bytes", 0));
                nfc_fmt_count(dr, sizeof(dr), nfc_num(c, "drops", 0));
                nfc_fmt_count(de, sizeof(de), nfc_num(c, "delivered", 0));
                printf("endpoint:  %s\nid:        %s\nname:      %s\nstate:     %s\neffect:    %s\n"
                       "targets:   %s\nexpires:   %s (%s)\nlease:     %s\n",
                       calls[i].endpoint, nfc_str(f, "id"), nfc_str(f, "name") ? nfc_str(f, "name") : "-",
                       nfc_str(f, "state"), eff, tgt, exp, nfc_str(f, "expires_at") ? nfc_str(f, "expires_at") : "-",
                       lease);
                if (c)
                        printf("counters:  %s packets, %s, %s dropped, %s delivered\n", pk, by, dr, de);
                if (cJSON_IsString(cJSON_GetObjectItemCaseSensitive(f, "gone_reason")))
                        printf("gone:      %s\n", nfc_str(f, "gone_reason"));
                if (i + 1 < o->conn.n_endpoints)
                        putchar('\n');
                cJSON_Delete(f);
        }
}

static int valid_id(const char *id)
{
        if (!id || strlen(id) != 14 || strncmp(id, "f-", 2) != 0)
                return 0;
        return strspn(id + 2, "0123456789abcdef") == 12;
}

static int bad_id(const char *cmd, const char *id)
{
        fprintf(stderr, "netfaultctl: %s needs a fault id like f-3fa1c29be0d4%s%s%s (netfaultctl --help)\n", cmd,
                id ? ", not '" : "", id ? id : "", id ? "'" : "");
        return NFC_EXIT_USAGE;
}

int nfc_cmd_show(struct nfc_opts *o, const char *id)
{
        char path[64];
        if (!valid_id(id))
                return bad_id("show", id);
        snprintf(path, sizeof(path), "/v1/faults/%s", id);
        return finish(o, fan_out(o, "GET", path), show_table);
}

static void revert_table(struct nfc_opts *o, struct nfc_call *calls)
{
        for (size_t i = 0; i < o->conn.n_endpoints; i++) {
                if (!nfc_call_ok(&calls[i]))
                        continue;
                cJSON *r = cJSON_Parse(calls[i].reply);
                if (cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(r, "reverted")))
                        printf("%s: reverted %d fault%s\n", calls[i].endpoint,
                               (int)nfc_num(r, "reverted", 0), nfc_num(r, "reverted", 0) == 1 ? "" : "s");
                else
                        printf("%s: %s %s\n", calls[i].endpoint, nfc_str(r, "id"), nfc_str(r, "state"));
                cJSON_Delete(r);
        }
}

int nfc_cmd_revert(struct nfc_opts *o, const char *id)
{
        char path[64] = "/v1/faults";
        if (o->all == !!id) {
                fprintf(stderr, "netfaultctl: revert takes a fault id or --all (netfaultctl --help)\n");
                return NFC_EXIT_USAGE;
        }
        if (id && !valid_id(id))
                return bad_id("revert", id);
        if (id)
                snprintf(path, sizeof(path), "/v1/faults/%s", id);
        return finish(o, fan_out(o, "DELETE", path), revert_table);
}

static void renew_table(struct nfc_opts *o, struct nfc_call *calls)
{
        for (size_t i = 0; i < o->conn.n_endpoints; i++) {
                cJSON *r = cJSON_Parse(calls[i].reply);
                char lease[48];
                nfc_fmt_until(lease, sizeof(lease), nfc_str(r, "lease_expires_at"));
                if (nfc_call_ok(&calls[i]))
                        printf("%s: %s renewed, lease ends %s\n", calls[i].endpoint, nfc_str(r, "id"), lease);
                cJSON_Delete(r);
        }
}

int nfc_cmd_renew(struct nfc_opts *o, const char *id)
{
        char path[64];
        if (!valid_id(id))
                return bad_id("renew", id);
        snprintf(path, sizeof(path), "/v1/faults/%s/renew", id);
        return finish(o, fan_out(o, "POST", path), renew_table);
}

static void caps_section(struct nfc_table *t, const char *endpoint, const cJSON *caps, const char *kind)
{
        const cJSON *e;
        cJSON_ArrayForEach(e, cJSON_GetObjectItemCaseSensitive(caps, kind))
                nfc_table_row(t, endpoint, kind, e->string, nfc_str(e, "available"), nfc_str(e, "module"),
                              nfc_str(e, "detail"));
}

static void caps_table(struct nfc_opts *o, struct nfc_call *calls)
{
        struct nfc_table t;
        nfc_table_init(&t, 6, "ENDPOINT", "KIND", "NAME", "AVAILABLE", "MODULE", "DETAIL");
        for (size_t i = 0; i < o->conn.n_endpoints; i++) {
                cJSON *c = cJSON_Parse(calls[i].reply);
                static const char *const kinds[] = {"qdiscs", "classifiers", "actions", "links"};
                for (size_t k = 0; k < 4; k++)
                        caps_section(&t, calls[i].endpoint, c, kinds[k]);
                const cJSON *f = cJSON_GetObjectItemCaseSensitive(c, "faults");
                static const char *const what[] = {"shaping", "blackhole"};
                for (size_t k = 0; f && k < 2; k++)
                        nfc_table_row(&t, calls[i].endpoint, "faults", what[k],
                                      cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(f, what[k])) ? "yes" : "no", "", "");
                if (nfc_str(c, "kernel"))
                        nfc_table_row(&t, calls[i].endpoint, "kernel", nfc_str(c, "kernel"), "", "", nfc_str(c, "version"));
                cJSON_Delete(c);
        }
        nfc_table_print(&t);
}

static void health_table(struct nfc_opts *o, struct nfc_call *calls)
{
        struct nfc_table t;
        nfc_table_init(&t, 6, "ENDPOINT", "STATUS", "FAULTS", "FILTERS", "RSS", "REASON");
        for (size_t i = 0; i < o->conn.n_endpoints; i++) {
                cJSON *h = cJSON_Parse(calls[i].reply);
                char faults[32] = "-", filters[32] = "-", rss[32] = "-";
                if (cJSON_GetObjectItemCaseSensitive(h, "faults"))
                        snprintf(faults, sizeof(faults), "%.0f", nfc_num(h, "faults", 0));
                if (cJSON_GetObjectItemCaseSensitive(h, "filters"))
                        nfc_fmt_count(filters, sizeof(filters), nfc_num(h, "filters", 0));
                if (cJSON_GetObjectItemCaseSensitive(h, "rss_kb"))
                        nfc_fmt_bytes(rss, sizeof(rss), nfc_num(h, "rss_kb", 0) * 1024);
                nfc_table_row(&t, calls[i].endpoint,
                              nfc_call_ok(&calls[i]) ? nfc_str(h, "status") : calls[i].status ? "refused" : "unreachable",
                              faults, filters, rss, nfc_str(h, "reason"));
                cJSON_Delete(h);
        }
        nfc_table_print(&t);
}

static void pods_table(struct nfc_opts *o, struct nfc_call *calls)
{
        struct nfc_table t;
        nfc_table_init(&t, 7, "ENDPOINT", "POD", "QOS", "CONTAINERS", "NETNS", "ADDRESSES", "FAULTS");
        for (size_t i = 0; i < o->conn.n_endpoints; i++) {
                cJSON *root = cJSON_Parse(calls[i].reply), *p;
                cJSON_ArrayForEach(p, cJSON_GetObjectItemCaseSensitive(root, "pods")) {
                        char nc[16], ns[32] = "-", addrs[256] = "", faults[256] = "";
                        snprintf(nc, sizeof(nc), "%d", cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(p, "containers")));
                        const cJSON *netns = cJSON_GetObjectItemCaseSensitive(p, "netns"), *x, *a;
                        if (cJSON_GetObjectItemCaseSensitive(netns, "inode"))
                                snprintf(ns, sizeof(ns), "%.0f", nfc_num(netns, "inode", 0));
                        cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(p, "interfaces"))
                                cJSON_ArrayForEach(a, cJSON_GetObjectItemCaseSensitive(x, "addresses"))
                                        if (cJSON_IsString(a) && strlen(addrs) + strlen(a->valuestring) + 2 < sizeof(addrs))
                                                strcat(strcat(addrs, *addrs ? "," : ""), a->valuestring);
                        cJSON_ArrayForEach(x, cJSON_GetObjectItemCaseSensitive(p, "faults"))
                                if (cJSON_IsString(x) && strlen(faults) + strlen(x->valuestring) + 2 < sizeof(faults))
                                        strcat(strcat(faults, *faults ? "," : ""), x->valuestring);
                        nfc_table_row(&t, calls[i].endpoint, nfc_str(p, "uid"), nfc_str(p, "qos"), nc, ns, addrs, faults);
                }
                cJSON_Delete(root);
        }
        nfc_table_print(&t);
}

int nfc_cmd_get(struct nfc_opts *o, const char *what)
{
        if (strcmp(what, "caps") == 0)
                return finish(o, fan_out(o, "GET", "/v1/capabilities"), caps_table);
        if (strcmp(what, "health") == 0)
                return finish(o, fan_out(o, "GET", "/healthz"), health_table);
        return finish(o, fan_out(o, "GET", "/v1/pods"), pods_table);
}
