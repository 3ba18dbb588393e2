/* One fault on every endpoint at once: all or nothing, then optionally held under a lease. */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "ctl/ctl.h"
#include "ctl/output.h"

/* How long an interrupted create still waits for endpoints that have not answered, so that a
 * fault they apply meanwhile is reverted with the others. A second signal ends the wait. */
#define STOP_GRACE_S 5.0

static volatile sig_atomic_t stop_signal, stop_count;

static void on_stop(int sig)
{
        stop_signal = sig;
        stop_count = stop_count + 1;
}

static void catch_stop_signals(void)
{
        struct sigaction sa;
        memset(&sa, 0, sizeof(sa));
        sa.sa_handler = on_stop; /* no SA_RESTART: a signal ends the wait at once */
        sigemptyset(&sa.sa_mask);
        sigaction(SIGINT, &sa, NULL);
        sigaction(SIGTERM, &sa, NULL);
        sigaction(SIGHUP, &sa, NULL);
}

/* Sleeps up to seconds; returns early (non-zero) when a stop signal arrived. */
static int wait_or_stop(double seconds)
{
        struct timespec ts = {(time_t)seconds, (long)((seconds - (double)(time_t)seconds) * 1e9)};
        while (!stop_signal && nanosleep(&ts, &ts) < 0 && errno == EINTR)
                ;
        return stop_signal != 0;
}

static const char *fault_id(const struct nfc_call *call)
{
        return call->user;
}

/* Remembers the id each successful create returned (call->user, malloc'd). */
static void take_ids(struct nfc_call *calls, size_t n)
{
        for (size_t i = 0; i < n; i++) {
                free(calls[i].user);
                calls[i].user = NULL;
                if (!nfc_call_ok(&calls[i]))
                        continue;
                cJSON *root = cJSON_Parse(calls[i].reply);
                const char *id = nfc_str(root, "id");
                if (id)
                        calls[i].user = strdup(id);
                cJSON_Delete(root);
        }
}

/* DELETEs every fault in ids (NULL entries skipped); the reasons of those that fail on stderr.
 * Returns how many could not be reverted (a 404 counts as reverted: it is gone already). */
static size_t revert_everywhere(struct nfc_opts *o, struct nfc_call *created, size_t n)
{
        struct nfc_call *dels = calloc(n, sizeof(*dels));
        size_t failed = 0, k = 0;
        if (!dels)
                return n;
        for (size_t i = 0; i < n; i++) {
                if (!fault_id(&created[i]))
                        continue;
                dels[k].endpoint = created[i].endpoint;
                dels[k].method = "DELETE";
                snprintf(dels[k].path, sizeof(dels[k].path), "/v1/faults/%s", fault_id(&created[i]));
                k++;
        }
        nfc_run(&o->conn, dels, k);
        for (size_t i = 0; i < k; i++) {
                if (nfc_call_ok(&dels[i]) || dels[i].status == 404) {
                        fprintf(stderr, "netfaultctl: %s: reverted %s\n", dels[i].endpoint, dels[i].path + 11);
                } else {
                        char why[512];
                        nfc_call_reason(&dels[i], why, sizeof(why));
                        fprintf(stderr, "netfaultctl: %s: could NOT revert %s: %s (its duration or lease ends it)\n",
                                dels[i].endpoint, dels[i].path + 11, why);
                        failed++;
                }
                nfc_call_reset(&dels[i]);
        }
        free(dels);
        return failed;
}

static void print_created_table(const struct nfc_call *calls, size_t n)
{
        struct nfc_table t;
        nfc_table_init(&t, 8, "ENDPOINT", "ID", "STATE", "EFFECT", "TARGETS", "INTERFACES", "EXPIRES", "LEASE");
        for (size_t i = 0; i < n; i++) {
                cJSON *f = cJSON_Parse(calls[i].reply);
                const cJSON *spec = cJSON_GetObjectItemCaseSensitive(f, "spec");
                char eff[256], tgt[256], ifs[128] = "", exp[48], lease[48] = "-";
                nfc_fmt_effects(eff, sizeof(eff), spec);
                nfc_fmt_targets(tgt, sizeof(tgt), spec);
                const cJSON *ifn;
                cJSON_ArrayForEach(ifn, cJSON_GetObjectItemCaseSensitive(f, "interfaces"))
                        if (cJSON_IsString(ifn) && strlen(ifs) + strlen(ifn->valuestring) + 2 < sizeof(ifs))
                                strcat(strcat(ifs, *ifs ? "," : ""), ifn->valuestring);
                nfc_fmt_until(exp, sizeof(exp), nfc_str(f, "expires_at"));
                if (nfc_str(f, "lease_expires_at"))
                        nfc_fmt_until(lease, sizeof(lease), nfc_str(f, "lease_expires_at"));
                char state[96];
                const char *lacks = nfc_str(f, "kernel_lacks");
                snprintf(state, sizeof(state), "%s%s%s", nfc_str(f, "state") ? nfc_str(f, "state") : "?",
                         lacks ? " (kernel lacks " : "", lacks ? lacks : "");
                if (lacks)
                        strcat(state, ")");
                nfc_table_row(&t, calls[i].endpoint, nfc_str(f, "id"), state, eff, tgt, ifs, exp, lease);
                cJSON_Delete(f);
        }
        nfc_table_print(&t);
}

/* Renews every held fault each lease/3 until a stop signal, the end of the faults' duration,
 * or a fault that is gone (then the others are reverted: the fleet is all or nothing). */
static int hold(struct nfc_opts *o, struct nfc_call *created, size_t n, long lease_s, double duration_s)
{
        double period = lease_s / 3.0 < 1 ? 1 : lease_s / 3.0;
        struct nfc_call *renews = calloc(n, sizeof(*renews));
        if (!renews)
                return NFC_EXIT_REFUSED;
        struct timespec start;
        clock_gettime(CLOCK_MONOTONIC, &start);
        fprintf(stderr, "netfaultctl: holding %zu fault%s under a %lds lease, renewing every %.0fs; "
                "Ctrl-C reverts %s\n", n, n == 1 ? "" : "s", lease_s, period, n == 1 ? "it" : "them all");
        int rc = NFC_EXIT_OK;
        for (;;) {
                if (wait_or_stop(period))
                        break;
                struct timespec now;
                clock_gettime(CLOCK_MONOTONIC, &now);
                double elapsed = (double)(now.tv_sec - start.tv_sec) + (double)(now.tv_nsec - start.tv_nsec) / 1e9;
                if (duration_s > 0 && elapsed + period >= duration_s) {
                        wait_or_stop(duration_s - elapsed > 0 ? duration_s - elapsed : 0);
                        break; /* the daemons revert them at their expiry; a signal reverts now */
                }
                for (size_t i = 0; i < n; i++) {
                        renews[i].endpoint = created[i].endpoint;
                        renews[i].method = "POST";
                        snprintf(renews[i].path, sizeof(renews[i].path), "/v1/faults/%s/renew", fault_id(&created[i]));
                }
                nfc_run(&o->conn, renews, n);
                int gone = 0;
                for (size_t i = 0; i < n; i++) {
                        char why[512];
                        if (nfc_call_ok(&renews[i]))
                                continue;
                        nfc_call_reason(&renews[i], why, sizeof(why));
                        /* unreachable: try again next period, the lease has two more */
                        fprintf(stderr, "netfaultctl: %s: renew of %s failed: %s\n", renews[i].endpoint,
                                fault_id(&created[i]), why);
                        if (renews[i].status != 0) {
                                gone = 1;
                                if (renews[i].status == 404) { /* nothing left there to revert */
                                        free(created[i].user);
                                        created[i].user = NULL;
                                }
                        }
                }
                if (gone) {
                        fprintf(stderr, "netfaultctl: a held fault is gone; reverting the others\n");
                        rc = NFC_EXIT_REFUSED;
                        break;
                }
        }
        for (size_t i = 0; i < n; i++)
                nfc_call_reset(&renews[i]);
        free(renews);
        if (stop_signal || rc != NFC_EXIT_OK) {
                if (stop_signal)
                        fprintf(stderr, "netfaultctl: %s: reverting everywhere\n", strsignal(stop_signal));
                if (revert_everywhere(o, created, n) > 0)
                        rc = NFC_EXIT_REFUSED;
        } else {
                fprintf(stderr, "netfaultctl: the faults' duration is over; the daemons revert them\n");
        }
        return rc;
}

int nfc_fleet_create(struct nfc_opts *o, cJSON *body)
{
        size_t n = o->conn.n_endpoints;
        struct nfc_call *calls = calloc(n, sizeof(*calls));
        char *text = cJSON_PrintUnformatted(body);
        int rc = NFC_EXIT_OK;
        if (!calls || !text) {
                free(calls);
                free(text);
                return NFC_EXIT_REFUSED;
        }
        for (size_t i = 0; i < n; i++) {
                calls[i].endpoint = o->conn.endpoints[i];
                calls[i].method = "POST";
                snprintf(calls[i].path, sizeof(calls[i].path), "/v1/faults%s", o->dry_run ? "?dry_run=true" : "");
                calls[i].body = text;
        }
        /* A signal before every endpoint has answered (or before success is reported) must not
         * leave part of the fleet faulted: what was applied is reverted, and the exit status is
         * 128 + the signal. A dry run changes nothing, so it keeps the default actions. */
        if (!o->dry_run)
                catch_stop_signals();
        nfc_run_interruptible(&o->conn, calls, n, o->dry_run ? NULL : &stop_count, STOP_GRACE_S);
        take_ids(calls, n);
        size_t failed = 0;
        for (size_t i = 0; i < n; i++)
                failed += !nfc_call_ok(&calls[i]);
        if (stop_signal) {
                rc = 128 + stop_signal;
                fprintf(stderr, "netfaultctl: %s before the fault was applied everywhere: reverting the %zu "
                        "endpoint%s that applied it\n", strsignal(stop_signal), n - failed, n - failed == 1 ? "" : "s");
                for (size_t i = 0; i < n; i++) {
                        char why[512];
                        if (nfc_call_ok(&calls[i]))
                                continue;
                        nfc_call_reason(&calls[i], why, sizeof(why));
                        fprintf(stderr, "netfaultctl: %s: %s%s\n", calls[i].endpoint, why,
                                calls[i].status == 0 ? "; if it still applies the fault, its duration ends it" : "");
                }
                revert_everywhere(o, calls, n);
        } else if (failed) {
                rc = nfc_calls_exit(calls, n);
                if (o->json)
                        nfc_print_calls_json(calls, n);
                if (!o->dry_run && failed < n) {
                        fprintf(stderr, "netfaultctl: %zu of %zu endpoints refused; reverting the %zu that applied it\n",
                                failed, n, n - failed);
                        revert_everywhere(o, calls, n);
                }
        } else {
                if (o->json)
                        nfc_print_calls_json(calls, n);
                else
                        print_created_table(calls, n);
                if (o->hold && !o->dry_run) {
                        fflush(stdout);
                        /* how long the faults live: the daemon's default when the body has none */
                        cJSON *first = cJSON_Parse(calls[0].reply);
                        double created = nfc_parse_time(nfc_str(first, "created_at"));
                        double expires = nfc_parse_time(nfc_str(first, "expires_at"));
                        cJSON_Delete(first);
                        rc = hold(o, calls, n, (long)nfc_num(body, "lease_s", 15),
                                  created >= 0 && expires > created ? expires - created : nfc_num(body, "duration_s", 0));
                }
        }
        for (size_t i = 0; i < n; i++) {
                free(calls[i].user);
                nfc_call_reset(&calls[i]);
        }
        free(calls);
        free(text);
        return rc;
}
