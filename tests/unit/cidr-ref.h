/* The exclusion arithmetic as it was before issue 11 (row 3), kept only as a reference for the
 * tests and the benchmark (bench/tools/exclbench.c): the recursive split of each target around
 * the excludes, and the scan of every (exclusion, exclude) and (exclusion, target) pair that
 * found the protected addresses a fault's targets held. The new code must give the same answers. */
#pragma once
#include <errno.h>
#include <stdlib.h>

#include "netem/cidr.h"

struct ref_ctx {
        struct nf_prefix *out;
        size_t n, cap, max;
};

static int ref_emit(struct ref_ctx *c, const struct nf_prefix *p) {
        if (c->n >= c->max)
                return -E2BIG;
        if (c->n == c->cap) {
                size_t cap = c->cap ? c->cap * 2 : 16;
                struct nf_prefix *o = realloc(c->out, cap * sizeof(*o));
                if (!o)
                        return -ENOMEM;
                c->out = o;
                c->cap = cap;
        }
        c->out[c->n++] = *p;
        return 0;
}

/* Emits p minus excl[lo..hi), where excl is sorted and disjoint. */
static int ref_subtract_one(struct ref_ctx *c, const struct nf_prefix *p, const struct nf_prefix *excl, size_t lo,
                        size_t hi) {
        /* Narrow to the excludes that overlap p. */
        while (lo < hi && !(excl[lo].family == p->family && nf_prefix_last(&excl[lo]) >= nf_prefix_first(p)))
                lo++;
        while (hi > lo && !(excl[hi - 1].family == p->family && nf_prefix_first(&excl[hi - 1]) <= nf_prefix_last(p)))
                hi--;
        if (lo >= hi)
                return ref_emit(c, p);
        for (size_t i = lo; i < hi; i++)
                if (nf_prefix_contains(&excl[i], p))
                        return 0;
        /* Some exclude lies strictly inside p: split p in two halves and recurse. */
        struct nf_prefix left = *p, right = *p;
        unsigned host = nf_family_bits(p->family) - p->len - 1;
        left.len = right.len = (uint8_t)(p->len + 1);
        right.addr = p->addr | (((nf_u128)1) << host);
        int r = ref_subtract_one(c, &left, excl, lo, hi);
        if (r < 0)
                return r;
        return ref_subtract_one(c, &right, excl, lo, hi);
}

static size_t ref_lower_bound(const struct nf_prefix *excl, size_t ne, const struct nf_prefix *p) {
        size_t lo = 0, hi = ne;
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                const struct nf_prefix *e = &excl[mid];
                bool before = e->family < p->family ||
                              (e->family == p->family && nf_prefix_last(e) < nf_prefix_first(p));
                if (before)
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return lo;
}

static int ref_subtract(const struct nf_prefix *targets, size_t nt, const struct nf_prefix *excl, size_t ne,
                        size_t max_out, struct nf_prefix **out, size_t *out_n) {
        struct ref_ctx c = {.max = max_out};
        int r = 0;
        for (size_t i = 0; i < nt; i++) {
                size_t lo = ref_lower_bound(excl, ne, &targets[i]);
                size_t hi = lo;
                while (hi < ne && excl[hi].family == targets[i].family &&
                       nf_prefix_first(&excl[hi]) <= nf_prefix_last(&targets[i]))
                        hi++;
                r = ref_subtract_one(&c, &targets[i], excl, lo, hi);
                if (r < 0)
                        goto fail;
        }
        *out = c.out;
        *out_n = c.n;
        return 0;
fail:
        free(c.out);
        return r;
}

/* Which exclusions ex[i] (user excludes plus protected addresses, normalised) are not inside a
 * user exclude and overlap a target: the loop of effective_set() (now core/scope.c), as it was. */
static inline size_t ref_protected_hits(const struct nf_prefix *ex, size_t n_ex, const struct nf_prefix *user,
                                        size_t n_user, const struct nf_prefix *all, size_t n_all, struct nf_prefix *hit,
                                        size_t max) {
        size_t n = 0;
        for (size_t i = 0; i < n_ex; i++) {
                bool u = false;
                for (size_t k = 0; k < n_user; k++)
                        u |= nf_prefix_contains(&user[k], &ex[i]);
                for (size_t t = 0; !u && t < n_all; t++)
                        if (nf_prefix_overlaps(&ex[i], &all[t]) && n < max) {
                                hit[n++] = ex[i];
                                break;
                        }
        }
        return n;
}
