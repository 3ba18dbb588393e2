/*
 * exclbench: what the exclusion arithmetic of one fault costs, old vs new, side by side in one
 * run (issue 11, row 3). Not part of netfaultd; built by bench/run.sh from netem/cidr.c and the
 * old code kept as a test reference (tests/unit/cidr-ref.h).
 *
 *   exclbench [REPS]     (default 5)
 *
 * The workload is core/scope.c's nf_scope_effective() for 10,000 random /32 targets and 10,000
 * random /32 excludes (plus the 3 protected addresses): which protected addresses the targets
 * hold, then targets minus exclusions. Prints one raw sample per line for bench/report.py:
 *   {"b":"exclusions","impl":"old|new","stage":"protected|subtract|total","n":10000,"unit":"ms","v":...}
 * and checks that both give the same answer (exit 1 otherwise).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "netem/cidr.h"
#include "tests/unit/cidr-ref.h"

enum { N = 10000, MAX_OUT = 40000 };

static double now_ms(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec * 1e3 + (double)ts.tv_nsec / 1e6;
}

static uint64_t rng = 11;
static uint32_t rnd32(void) {
        rng = rng * 6364136223846793005ull + 1442695040888963407ull;
        return (uint32_t)(rng >> 32);
}

static size_t hosts(struct nf_prefix *v, size_t n) {
        for (size_t i = 0; i < n; i++)
                v[i] = (struct nf_prefix){.addr = rnd32(), .family = AF_INET, .len = 32};
        nf_prefix_set_normalize(v, &n);
        return n;
}

static size_t new_protected_hits(const struct nf_prefix *ex, size_t n_ex, const struct nf_prefix *user, size_t n_user,
                                 const struct nf_prefix *all, size_t n_all, struct nf_prefix *hit, size_t max) {
        size_t n = 0;
        for (size_t i = 0; i < n_ex; i++)
                if (!nf_prefix_set_covers(user, n_user, &ex[i]) && nf_prefix_set_overlaps(all, n_all, &ex[i]) && n < max)
                        hit[n++] = ex[i];
        return n;
}

static void sample(const char *impl, const char *stage, double ms) {
        printf("{\"b\":\"exclusions\",\"impl\":\"%s\",\"stage\":\"%s\",\"n\":%d,\"unit\":\"ms\",\"v\":%.3f}\n", impl, stage,
               N, ms);
}

int main(int argc, char **argv) {
        static const char *const protected[] = {"169.254.170.2/32", "169.254.169.254/32", "fd00:ec2::254/128"};
        static struct nf_prefix targets[N], user[N], ex[N + 3];
        int reps = argc > 1 ? atoi(argv[1]) : 5;
        size_t nt = hosts(targets, N), nu = hosts(user, N), ne = nu;
        memcpy(ex, user, nu * sizeof(*ex));
        for (size_t i = 0; i < 3; i++)
                nf_prefix_parse(protected[i], &ex[ne++]);
        nf_prefix_set_normalize(ex, &ne);

        for (int r = 0; r < reps; r++) {
                /* old and new alternate, so that a slower phase of the machine hits both */
                for (int impl = 0; impl < 2; impl++) {
                        struct nf_prefix hit[16], *out = NULL;
                        size_t nh, nout = 0;
                        double t0 = now_ms();
                        nh = impl ? new_protected_hits(ex, ne, user, nu, targets, nt, hit, 16)
                                  : ref_protected_hits(ex, ne, user, nu, targets, nt, hit, 16);
                        double t1 = now_ms();
                        int rc = impl ? nf_prefix_set_subtract(targets, nt, ex, ne, MAX_OUT, &out, &nout)
                                      : ref_subtract(targets, nt, ex, ne, MAX_OUT, &out, &nout);
                        double t2 = now_ms();
                        if (rc != 0 || nh != 0) {
                                fprintf(stderr, "exclbench: %s: rc %d, %zu protected hits\n", impl ? "new" : "old", rc, nh);
                                return 1;
                        }
                        static size_t first_n;
                        if (r == 0 && impl == 0)
                                first_n = nout;
                        else if (nout != first_n) {
                                fprintf(stderr, "exclbench: old and new disagree: %zu vs %zu pieces\n", first_n, nout);
                                return 1;
                        }
                        free(out);
                        const char *name = impl ? "new" : "old";
                        sample(name, "protected", t1 - t0);
                        sample(name, "subtract", t2 - t1);
                        sample(name, "total", t2 - t0);
                }
        }
        return 0;
}
