/* watch: every fault on every endpoint with its kernel counters, refreshed in place on a
 * terminal; elsewhere one block (or, with -o json, one JSON line) per round. */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "ctl/ctl.h"
#include "ctl/output.h"

#define WATCH_MAX_FAULTS 4096

struct sample {
        char key[300]; /* endpoint + id */
        double packets, drops;
};

struct watch_state {
        struct sample prev[WATCH_MAX_FAULTS], cur[WATCH_MAX_FAULTS];
        size_t nprev, ncur;
};

static const struct sample *find_prev(const struct watch_state *w, const char *key)
{
        for (size_t i = 0; i < w->nprev; i++)
                if (strcmp(w->prev[i].key, key) == 0)
                        return &w->prev[i];
        return NULL;
}

/* One round: the fault lists, then every fault's own GET (the counters are only there). */
static int watch_round(struct nfc_opts *o, struct watch_state *w, double interval)
{
        size_t n = o->conn.n_endpoints, nf = 0;
        struct nfc_call *lists = calloc(n, sizeof(*lists));
        struct nfc_call *gets = calloc(WATCH_MAX_FAULTS, sizeof(*gets));
        int rc = NFC_EXIT_OK;
        if (!lists || !gets) {
                free(lists);
                free(gets);
                return NFC_EXIT_REFUSED;
        }
        for (size_t i = 0; i < n; i++) {
                lists[i].endpoint = o->conn.endpoints[i];
                lists[i].method = "GET";
                snprintf(lists[i].path, sizeof(lists[i].path), "/v1/faults");
        }
        nfc_run(&o->conn, lists, n);
        for (size_t i = 0; i < n; i++) {
                cJSON *root = cJSON_Parse(lists[i].reply), *f;
                cJSON_ArrayForEach(f, cJSON_GetObjectItemCaseSensitive(root, "faults")) {
                        const char *id = nfc_str(f, "id");
                        if (!id || nf == WATCH_MAX_FAULTS)
                                continue;
                        gets[nf].endpoint = lists[i].endpoint;
                        gets[nf].method = "GET";
                        snprintf(gets[nf].path, sizeof(gets[nf].path), "/v1/faults/%.32s", id);
                        nf++;
                }
                cJSON_Delete(root);
        }
        nfc_run(&o->conn, gets, nf);

        time_t now = time(NULL);
        char stamp[32];
        strftime(stamp, sizeof(stamp), "%Y-%m-%dT%H:%M:%SZ", gmtime(&now));
        if (o->json) {
                cJSON *line = cJSON_CreateObject(), *arr;
                cJSON_AddStringToObject(line, "time", stamp);
                arr = cJSON_AddArrayToObject(line, "faults");
                for (size_t i = 0; i < nf; i++) {
                        cJSON *e = cJSON_CreateObject(), *f = cJSON_Parse(gets[i].reply);
                        cJSON_AddStringToObject(e, "endpoint", gets[i].endpoint);
                        if (f)
                                cJSON_AddItemToObject(e, "fault", f);
                        cJSON_AddItemToArray(arr, e);
                }
                char *s = cJSON_PrintUnformatted(line);
                if (s)
                        puts(s);
                free(s);
                cJSON_Delete(line);
        } else {
                struct nfc_table t;
                nfc_table_init(&t, 10, "ENDPOINT", "ID", "NAME", "EFFECT", "PACKETS", "PKT/S", "BYTES", "DROPS",
                               "EXPIRES", "GUARD");
                w->ncur = 0;
                for (size_t i = 0; i < nf; i++) {
                        cJSON *f = cJSON_Parse(gets[i].reply);
                        const cJSON *c = cJSON_GetObjectItemCaseSensitive(f, "counters");
                        char eff[256], pk[32], rate[32] = "-", by[32], dr[32], exp[48], guard[48] = "-";
                        struct sample *s = &w->cur[w->ncur++];
                        snprintf(s->key, sizeof(s->key), "%s %s", gets[i].endpoint, gets[i].path);
                        s->packets = nfc_num(c, "packets", 0);
                        s->drops = nfc_num(c, "drops", 0);
                        const struct sample *p = find_prev(w, s->key);
                        if (p && interval > 0)
                                nfc_fmt_count(rate, sizeof(rate), fmax(0, s->packets - p->packets) / interval);
                        nfc_fmt_effects(eff, sizeof(eff), cJSON_GetObjectItemCaseSensitive(f, "spec"));
                        nfc_fmt_count(pk, sizeof(pk), s->packets);
                        nfc_fmt_bytes(by, sizeof(by), nfc_num(c, "bytes", 0));
                        nfc_fmt_count(dr, sizeof(dr), s->drops);
                        nfc_fmt_until(exp, sizeof(exp), nfc_str(f, "expires_at"));
                        /* The guard: its state and failed rounds in a row of those that abort ("watching 1/3"). */
                        const cJSON *g = cJSON_GetObjectItemCaseSensitive(f, "guard");
                        if (g)
                                snprintf(guard, sizeof(guard), "%s %g/%g", nfc_str(g, "state") ? nfc_str(g, "state") : "?",
                                         nfc_num(g, "consecutive_failures", 0), nfc_num(g, "failures_to_abort", 0));
                        nfc_table_row(&t, gets[i].endpoint, nfc_str(f, "id"), nfc_str(f, "name"), eff, pk, rate, by, dr,
                                      exp, guard);
                        cJSON_Delete(f);
                }
                memcpy(w->prev, w->cur, w->ncur * sizeof(w->cur[0]));
                w->nprev = w->ncur;
                if (isatty(STDOUT_FILENO))
                        fputs("\033[H\033[2J", stdout); /* home and clear: the table refreshes in place */
                printf("%s  %zu fault%s on %zu endpoint%s, every %gs\n", stamp, nf, nf == 1 ? "" : "s", n,
                       n == 1 ? "" : "s", interval);
                nfc_table_print(&t);
                putchar('\n');
        }
        fflush(stdout);
        rc = nfc_calls_exit(lists, n);
        for (size_t i = 0; i < n; i++)
                nfc_call_reset(&lists[i]);
        for (size_t i = 0; i < nf; i++)
                nfc_call_reset(&gets[i]);
        free(lists);
        free(gets);
        return rc;
}

int nfc_cmd_watch(struct nfc_opts *o)
{
        double interval = o->interval_s > 0 ? o->interval_s : 2;
        struct watch_state *w = calloc(1, sizeof(*w));
        int rc = NFC_EXIT_OK;
        if (!w)
                return NFC_EXIT_REFUSED;
        for (long round = 0; o->count == 0 || round < o->count; round++) {
                if (round > 0) {
                        struct timespec ts = {(time_t)interval, (long)((interval - floor(interval)) * 1e9)};
                        nanosleep(&ts, NULL);
                }
                rc = watch_round(o, w, interval);
        }
        free(w);
        return rc;
}
