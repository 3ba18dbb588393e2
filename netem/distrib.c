#include "netem/distrib.h"

#include <limits.h>
#include <math.h>
#include <stdbool.h>

/* NETEM_DIST_SCALE from pkt_sched.h; the generators sample 16384 points and keep every 4th. */
#define SCALE 8192.0
#define SAMPLES 16384

static int16_t tables[NF_DIST_COUNT][NF_DIST_TABLE_LEN];
static bool built[NF_DIST_COUNT];

static double normal_cdf(double x) {
        return .5 + .5 * erf(x / sqrt(2.0));
}

static int clamp16(int v) {
        return v < SHRT_MIN ? SHRT_MIN : v > SHRT_MAX ? SHRT_MAX : v;
}

/* Inverse CDF sampled by a fine sweep of x, exactly as the iproute2 generator does. */
static void sweep_normal(double *inv) {
        for (double x = -10.0; x < 10.05; x += .00005) {
                int i = (int)rint(SAMPLES * normal_cdf(x));
                inv[i] = x;
        }
}

static int pareto_value(int i) {
        /* Pareto with shape a=3, shifted and scaled to mean 0, sigma 1 (iproute2 pareto.c). */
        double v = (double)i / 65536.0;
        v = 1.0 / pow(v, 1.0 / 3.0);
        v -= 1.5;
        v *= (4.0 / 3.0) * SCALE;
        if (v > 32767)
                v = 32767;
        return (int)rint(v);
}

static void build(enum nf_dist d) {
        static double inv[SAMPLES + 1];
        int16_t *t = tables[d];
        if (d == NF_DIST_NORMAL || d == NF_DIST_PARETONORMAL)
                sweep_normal(inv);
        for (int k = 0; k < NF_DIST_TABLE_LEN; k++) {
                int i = k * 4;
                int v = 0;
                switch (d) {
                case NF_DIST_NORMAL:
                        v = (int)rint(inv[i] * SCALE);
                        break;
                case NF_DIST_PARETO:
                        v = pareto_value(65536 - k * 16);
                        break;
                case NF_DIST_PARETONORMAL:
                        v = ((int)rint(inv[i] * SCALE) + 3 * pareto_value(65536 - 4 * i)) / 4;
                        break;
                default:
                        break;
                }
                t[k] = (int16_t)clamp16(v);
        }
        built[d] = true;
}

const int16_t *nf_dist_table(enum nf_dist d) {
        if (d <= NF_DIST_UNIFORM || d >= NF_DIST_COUNT)
                return NULL;
        if (!built[d])
                build(d);
        return tables[d];
}
