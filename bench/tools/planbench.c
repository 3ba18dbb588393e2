/*
 * planbench: what netfaultd's host side costs per CIDR before anything reaches the kernel
 * (issue 17: at most 1 µs per CIDR). Built by meson (bench/meson.build) against the daemon's own
 * libraries; run by bench/run.sh's host part, reported by bench/report.py.
 *
 *   planbench [REPS] [N...]      (default 7 repetitions of 1000 and 10000 /32 CIDRs)
 *
 * The targets come in address order (impl "netfaultd", the body of the dry-run benchmark) and
 * shuffled ("netfaultd-shuffled"). One repetition does, in-process and with no kernel, what POST /v1/faults does to a body of N
 * distinct /32 targets and a delay: the strict JSON parse (api/request.c), the validation ladder
 * (core/spec_json.c), the fault's effective set (core/scope.c: protected addresses, exclusions),
 * the plan (netem/plan.c) and the netlink encoding of every flower filter of one interface
 * (netem/encode.c, into one buffer as the applier's batches are). Each stage is timed with the
 * monotonic clock; prints one raw sample per line for bench/report.py:
 *   {"b":"plan_host","impl":"netfaultd|netfaultd-shuffled","stage":"parse|validate|scope|plan|encode|total","n":N,"unit":"us","v":...}
 *   {"b":"plan_host_per_cidr","n":N,"unit":"us","v":...}   (total / N)
   {"b":"list_render",...}: rendering one fault of 100 CIDRs (what GET /v1/faults does per chunk)
 * and all 100 of them (what it did at once before it was streamed).
 * It checks that the plan holds N keys and the encoder wrote N filters (exit 1 otherwise).
 * The first repetition of each size warms caches and the allocator and is not reported.
 */
#include <cjson/cJSON.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "api/fault_json.h"
#include "api/request.h"
#include "core/registry.h"
#include "core/scope.h"
#include "core/spec_json.h"
#include "netem/encode.h"
#include "netem/plan.h"

static double now_us(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec * 1e6 + (double)ts.tv_nsec / 1e3;
}

/* The body bench/run.sh's dry-run benchmark sends: N /32s in 100.64.0.0/10 and a 0 ms delay,
 * in address order or shuffled (then the validator's sort has work to do). */
static char *body_of(size_t n, bool shuffled, size_t *len) {
        size_t cap = 64 + n * 24, at = 0, *order = malloc(n * sizeof(*order));
        char *b = malloc(cap);
        uint64_t rng = 17;
        if (!b || !order) {
                free(b);
                free(order);
                return NULL;
        }
        for (size_t i = 0; i < n; i++)
                order[i] = i;
        for (size_t i = n; shuffled && i > 1; i--) {
                rng = rng * 6364136223846793005ull + 1442695040888963407ull;
                size_t j = (size_t)(rng >> 33) % i, t = order[i - 1];
                order[i - 1] = order[j];
                order[j] = t;
        }
        at += (size_t)snprintf(b + at, cap - at, "{\"targets\":[");
        for (size_t k = 0; k < n; k++) {
                size_t i = order[k];
                at += (size_t)snprintf(b + at, cap - at, "%s\"100.%zu.%zu.%zu/32\"", k ? "," : "", 64 + i / 65536,
                                       (i / 256) % 256, i % 256);
        }
        free(order);
        at += (size_t)snprintf(b + at, cap - at, "],\"delay\":{\"ms\":0}}");
        *len = at;
        return b;
}

static const char *impl = "netfaultd";

static void sample(const char *stage, size_t n, double us) {
        printf("{\"b\":\"plan_host\",\"impl\":\"%s\",\"stage\":\"%s\",\"n\":%zu,\"unit\":\"us\",\"v\":%.1f}\n", impl,
               stage, n, us);
}

/* Encodes the plan's filters on its first link as the applier queues them (netem/apply.c), into
 * one buffer of batch size; returns how many were written. */
static size_t encode_all(const struct nf_plan *p, char *buf, size_t buflen) {
        const struct nf_plan_link *l = &p->links[0];
        struct nf_action_ref act = {.kind = l->action, .index = l->act_index, .redirect_ifindex = l->ifb_ifindex};
        size_t at = 0, n = 0;
        for (size_t k = 0; k < p->n_keys; k++) {
                const struct nf_filter_key *key = &p->keys[k];
                uint16_t prio = key->remote.family == AF_INET6 ? l->prio_v6 : l->prio_v4;
                struct nlmsghdr *nlh;
                if (buflen - at < 512)
                        at = 0; /* the batch was sent: start the next one */
                nlh = nf_enc_flower((struct nf_msgbuf){buf + at, buflen - at}, l->iface.ifindex, nf_hook_parent(l->dir),
                                    prio, (uint32_t)k + 1, l->dir, key, &act);
                if (!nlh)
                        return n;
                at += NLMSG_ALIGN(nlh->nlmsg_len);
                n++;
        }
        return n;
}

static int run(size_t n, bool shuffled, int reps) {
        static char batch[256 * 1024];
        size_t len;
        char *body = body_of(n, shuffled, &len);
        struct nf_validate_limits lim = {3600, 600};
        struct nf_iface ifc = {.ifindex = 2, .name = "eth0"};
        int rc = 0;

        if (!body)
                return 1;
        for (int r = 0; r <= reps && rc == 0; r++) {
                struct nf_err e;
                struct nf_spec spec;
                struct nf_scope_set set;
                struct nf_plan plan;
                double t0 = now_us();
                cJSON *root = nf_json_parse_strict(body, len, &e);
                double t1 = now_us();
                if (!root || nf_validate_fault(root, &lim, &spec, &e) < 0) {
                        fprintf(stderr, "planbench: %zu targets refused: %s\n", n, e.message);
                        rc = 1;
                        cJSON_Delete(root);
                        break;
                }
                cJSON_Delete(root);
                double t2 = now_us();
                struct nf_scope_input in = {.spec = &spec};
                if (nf_scope_effective(&in, &set, &e) < 0) {
                        fprintf(stderr, "planbench: scope: %s\n", e.message);
                        nf_spec_free(&spec);
                        rc = 1;
                        break;
                }
                double t3 = now_us();
                int pr = nf_plan_build(&spec, "f-000000000000", set.eff, set.n_eff, 0, &ifc, 1, &plan);
                double t4 = now_us();
                size_t enc = pr == 0 ? encode_all(&plan, batch, sizeof(batch)) : 0;
                double t5 = now_us();
                if (pr < 0 || plan.n_keys != n || enc != n) {
                        fprintf(stderr, "planbench: %zu targets: plan %d with %zu keys, %zu filters encoded\n", n, pr,
                                pr == 0 ? plan.n_keys : 0, enc);
                        rc = 1;
                }
                if (r > 0 && rc == 0) {
                        sample("parse", n, t1 - t0);
                        sample("validate", n, t2 - t1);
                        sample("scope", n, t3 - t2);
                        sample("plan", n, t4 - t3);
                        sample("encode", n, t5 - t4);
                        sample("total", n, t5 - t0);
                        printf("{\"b\":\"plan_host_per_cidr\",\"impl\":\"%s\",\"n\":%zu,\"unit\":\"us\",\"v\":%.3f}\n",
                               impl, n, (t5 - t0) / (double)n);
                }
                if (pr == 0)
                        nf_plan_free(&plan);
                free(set.eff);
                nf_spec_free(&spec);
        }
        free(body);
        return rc;
}

/* The unit of work GET /v1/faults does between two turns of the event loop (one fault a
 * chunk) against what it did in one turn before (every fault): faults of `cidrs` targets,
 * rendered as the list renders them (nf_fault_to_json, printed). Prints
 *   {"b":"list_render","impl":"netfaultd","what":"one-fault|whole-list","faults":F,"cidrs":C,"unit":"us","v":...} */
static int list_render(size_t faults, size_t cidrs, int reps) {
        size_t len;
        char *body = body_of(cidrs, false, &len);
        struct nf_validate_limits lim = {3600, 600};
        struct nf_iface ifc = {.ifindex = 2, .name = "eth0"};
        struct nf_fault *f = calloc(1, sizeof(*f));
        struct nf_scope_set set;
        struct nf_err e;
        cJSON *root = body ? nf_json_parse_strict(body, len, &e) : NULL;
        int rc = 1;
        if (!f || !root || nf_validate_fault(root, &lim, &f->spec, &e) < 0)
                goto out;
        struct nf_scope_input in = {.spec = &f->spec};
        if (nf_scope_effective(&in, &set, &e) < 0)
                goto out;
        f->eff = set.eff;
        f->n_eff = set.n_eff;
        f->ifaces[0] = ifc;
        f->n_ifaces = 1;
        snprintf(f->id, sizeof(f->id), "f-000000000000");
        f->created_ms = 1764374400000;
        f->expires_ms = f->created_ms + 600000;
        if (nf_plan_build(&f->spec, f->id, f->eff, f->n_eff, 0, &ifc, 1, &f->plan) < 0)
                goto out;
        for (int r = 0; r <= reps; r++) {
                size_t bytes = 0;
                double one = 0, t0 = now_us();
                for (size_t k = 0; k < faults; k++) {
                        double c0 = now_us();
                        cJSON *o = nf_fault_to_json(f, "active", NULL);
                        char *text = cJSON_PrintUnformatted(o);
                        bytes += text ? strlen(text) : 0;
                        free(text);
                        cJSON_Delete(o);
                        double c1 = now_us() - c0;
                        one = c1 > one ? c1 : one;
                }
                double all = now_us() - t0;
                if (r == 0)
                        continue;
                printf("{\"b\":\"list_render\",\"impl\":\"netfaultd\",\"what\":\"one-fault\",\"faults\":%zu,\"cidrs\":%zu,"
                       "\"unit\":\"us\",\"v\":%.1f}\n", faults, cidrs, one);
                printf("{\"b\":\"list_render\",\"impl\":\"netfaultd\",\"what\":\"whole-list\",\"faults\":%zu,\"cidrs\":%zu,"
                       "\"bytes\":%zu,\"unit\":\"us\",\"v\":%.1f}\n", faults, cidrs, bytes, all);
        }
        rc = 0;
        nf_plan_free(&f->plan);
out:
        if (rc)
                fprintf(stderr, "planbench: cannot build a fault to render\n");
        cJSON_Delete(root);
        if (f) {
                free(f->eff);
                nf_spec_free(&f->spec);
        }
        free(f);
        free(body);
        return rc;
}

int main(int argc, char **argv) {
        int reps = argc > 1 ? atoi(argv[1]) : 7, rc = 0;
        if (reps < 1)
                reps = 1;
        for (int shuffled = 0; shuffled < 2; shuffled++) {
                impl = shuffled ? "netfaultd-shuffled" : "netfaultd";
                if (argc > 2) {
                        for (int i = 2; i < argc; i++)
                                rc |= run((size_t)strtoul(argv[i], NULL, 10), shuffled, reps);
                } else {
                        rc |= run(1000, shuffled, reps);
                        rc |= run(10000, shuffled, reps);
                }
        }
        rc |= list_render(100, 100, reps);
        return rc;
}
