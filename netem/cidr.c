#include "netem/cidr.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

unsigned nf_family_bits(int family) {
        return family == AF_INET ? 32 : 128;
}

static nf_u128 host_mask(int family, unsigned len) {
        unsigned bits = nf_family_bits(family);
        unsigned host = bits - len;
        if (host == 0)
                return 0;
        if (host >= 128)
                return ~(nf_u128)0;
        return (((nf_u128)1) << host) - 1;
}

nf_u128 nf_prefix_first(const struct nf_prefix *p) {
        return p->addr;
}

nf_u128 nf_prefix_last(const struct nf_prefix *p) {
        return p->addr | host_mask(p->family, p->len);
}

/* The common case, a dotted quad, without inet_pton's copy and generic loop: 1 and the address
 * for exactly the strings inet_pton(AF_INET) takes (four decimal octets up to 255, no leading
 * zero, nothing else up to end), 0 for anything else (which then takes the general path). */
static int parse_quad(const char *s, const char *end, uint32_t *out) {
        uint32_t a = 0;
        unsigned octets = 0;
        while (s < end) {
                unsigned v = 0, digits = 0;
                while (s < end && *s >= '0' && *s <= '9' && digits < 4) {
                        v = v * 10 + (unsigned)(*s++ - '0');
                        digits++;
                }
                if (digits == 0 || digits > 3 || v > 255 || (digits > 1 && s[-(int)digits] == '0'))
                        return 0;
                a = a << 8 | v;
                if (++octets == 4)
                        break;
                if (s >= end || *s++ != '.')
                        return 0;
        }
        if (octets != 4 || s != end)
                return 0;
        *out = a;
        return 1;
}

int nf_prefix_parse(const char *s, struct nf_prefix *out) {
        char buf[NF_PREFIX_STRLEN + 8];
        const char *slash;
        size_t alen;
        unsigned char bytes[16];
        int family;
        unsigned len;

        if (!s || !*s)
                return -EINVAL;
        slash = strchr(s, '/');
        alen = slash ? (size_t)(slash - s) : strlen(s);
        if (alen == 0 || alen >= sizeof(buf))
                return -EINVAL;
        uint32_t quad;
        if (parse_quad(s, s + alen, &quad)) {
                family = AF_INET;
                for (int i = 0; i < 4; i++)
                        bytes[i] = (unsigned char)(quad >> (24 - 8 * i));
        } else {
                memcpy(buf, s, alen);
                buf[alen] = '\0';
                if (inet_pton(AF_INET, buf, bytes) == 1)
                        family = AF_INET;
                else if (inet_pton(AF_INET6, buf, bytes) == 1)
                        family = AF_INET6;
                else
                        return -EINVAL;
        }

        len = nf_family_bits(family);
        if (slash) {
                const char *d = slash + 1;
                unsigned v = 0;
                if (!*d || strlen(d) > 3)
                        return -EINVAL;
                for (; *d; d++) {
                        if (*d < '0' || *d > '9')
                                return -EINVAL;
                        v = v * 10 + (unsigned)(*d - '0');
                }
                if (v > len)
                        return -EINVAL;
                len = v;
        }

        nf_u128 a = 0;
        for (unsigned i = 0; i < nf_family_bits(family) / 8; i++)
                a = (a << 8) | bytes[i];
        out->family = (uint8_t)family;
        out->len = (uint8_t)len;
        out->addr = a & ~host_mask(family, len);
        return 0;
}

void nf_prefix_addr_bytes(const struct nf_prefix *p, uint8_t out[16]) {
        unsigned n = nf_family_bits(p->family) / 8;
        nf_u128 a = p->addr;
        memset(out, 0, 16);
        for (unsigned i = 0; i < n; i++) {
                out[n - 1 - i] = (uint8_t)(a & 0xff);
                a >>= 8;
        }
}

void nf_prefix_mask_bytes(const struct nf_prefix *p, uint8_t out[16]) {
        unsigned n = nf_family_bits(p->family) / 8;
        nf_u128 m = ~host_mask(p->family, p->len);
        memset(out, 0, 16);
        for (unsigned i = 0; i < n; i++) {
                out[n - 1 - i] = (uint8_t)(m & 0xff);
                m >>= 8;
        }
}

char *nf_prefix_format(const struct nf_prefix *p, char *buf, size_t len) {
        uint8_t bytes[16];
        char a[INET6_ADDRSTRLEN];
        nf_prefix_addr_bytes(p, bytes);
        if (!inet_ntop(p->family, bytes, a, sizeof(a)))
                snprintf(a, sizeof(a), "?");
        snprintf(buf, len, "%s/%u", a, p->len);
        return buf;
}

bool nf_prefix_overlaps(const struct nf_prefix *a, const struct nf_prefix *b) {
        if (a->family != b->family)
                return false;
        return nf_prefix_first(a) <= nf_prefix_last(b) && nf_prefix_first(b) <= nf_prefix_last(a);
}

bool nf_prefix_contains(const struct nf_prefix *outer, const struct nf_prefix *inner) {
        return outer->family == inner->family && outer->len <= inner->len &&
               nf_prefix_first(outer) <= nf_prefix_first(inner) && nf_prefix_last(inner) <= nf_prefix_last(outer);
}

static int prefix_cmp(const void *x, const void *y) {
        const struct nf_prefix *a = x, *b = y;
        if (a->family != b->family)
                return a->family < b->family ? -1 : 1;
        if (a->addr != b->addr)
                return a->addr < b->addr ? -1 : 1;
        /* Shorter (wider) first, so that a containing prefix precedes what it contains. */
        if (a->len != b->len)
                return a->len < b->len ? -1 : 1;
        return 0;
}

void nf_prefix_set_normalize(struct nf_prefix *v, size_t *n) {
        size_t out = 0;
        if (*n == 0)
                return;
        /* Sets are often normalised already (a list given in order; targets normalised once
         * more with what their names resolved to): one pass says whether a sort is needed. */
        size_t sorted = 1;
        while (sorted < *n && prefix_cmp(&v[sorted - 1], &v[sorted]) <= 0)
                sorted++;
        if (sorted < *n)
                qsort(v, *n, sizeof(*v), prefix_cmp);
        for (size_t i = 0; i < *n; i++) {
                /* Prefixes either nest or are disjoint; after sorting, anything that overlaps the
                 * last kept one is contained in it. */
                if (out > 0 && nf_prefix_overlaps(&v[out - 1], &v[i]))
                        continue;
                v[out++] = v[i];
        }
        *n = out;
}

struct subtract_ctx {
        struct nf_prefix *out;
        size_t n, cap, max;
};

static int emit(struct subtract_ctx *c, const struct nf_prefix *p) {
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

/* Number of trailing zero bits of a 128-bit value (128 for 0). */
static unsigned ctz128(nf_u128 v) {
        uint64_t lo = (uint64_t)v, hi = (uint64_t)(v >> 64);
        if (lo)
                return (unsigned)__builtin_ctzll(lo);
        if (hi)
                return 64 + (unsigned)__builtin_ctzll(hi);
        return 128;
}

/* floor(log2(v)) for v > 0. */
static unsigned log2_128(nf_u128 v) {
        uint64_t hi = (uint64_t)(v >> 64);
        if (hi)
                return 127 - (unsigned)__builtin_clzll(hi);
        return 63 - (unsigned)__builtin_clzll((uint64_t)v);
}

/* Emits the minimal list of prefixes covering the address range [a, b] (a <= b) of one family,
 * in address order: from a, always the largest aligned block that still fits. */
static int emit_range(struct subtract_ctx *c, int family, nf_u128 a, nf_u128 b) {
        unsigned bits = nf_family_bits(family);
        for (;;) {
                unsigned k = ctz128(a);
                nf_u128 span = b - a; /* size - 1: never overflows, even for the whole space */
                if (k > bits)
                        k = bits;
                if (span != ~(nf_u128)0 && k > log2_128(span + 1))
                        k = log2_128(span + 1);
                struct nf_prefix p = {.addr = a, .family = (uint8_t)family, .len = (uint8_t)(bits - k)};
                int r = emit(c, &p);
                if (r < 0)
                        return r;
                nf_u128 last = a | host_mask(family, bits - k);
                if (last >= b)
                        return 0;
                a = last + 1;
        }
}

/* Whether exclude e lies wholly before target t in the (family, address) order. */
static bool before(const struct nf_prefix *e, const struct nf_prefix *t) {
        return e->family < t->family || (e->family == t->family && nf_prefix_last(e) < nf_prefix_first(t));
}

/* One sweep over both sorted, disjoint lists: for each target, the gaps between the excludes that
 * overlap it become prefixes. An exclude is passed over at most once per target it overlaps, and
 * it overlaps several targets only when it extends past their ends, at most one per target: the
 * work is O(targets + excludes + pieces x address bits), whatever the shapes (the recursive split
 * this replaced rescanned its excludes at every level). The pieces are exactly those of the
 * recursive split: the minimal prefixes of each gap, in address order. */
int nf_prefix_set_subtract(const struct nf_prefix *targets, size_t nt, const struct nf_prefix *excl, size_t ne,
                           size_t max_out, struct nf_prefix **out, size_t *out_n) {
        struct subtract_ctx c = {.max = max_out};
        size_t j = 0;
        int r = 0;
        for (size_t i = 0; i < nt; i++) {
                const struct nf_prefix *t = &targets[i];
                nf_u128 cur = nf_prefix_first(t), end = nf_prefix_last(t);
                bool covered = false;
                /* Targets ascend, so excludes before this one are before every later one too. */
                while (j < ne && before(&excl[j], t))
                        j++;
                for (size_t k = j; k < ne && excl[k].family == t->family && nf_prefix_first(&excl[k]) <= end; k++) {
                        nf_u128 ef = nf_prefix_first(&excl[k]), el = nf_prefix_last(&excl[k]);
                        if (ef > cur && (r = emit_range(&c, t->family, cur, ef - 1)) < 0)
                                goto fail;
                        if (el >= end) {
                                covered = true;
                                break;
                        }
                        if (el + 1 > cur)
                                cur = el + 1;
                }
                if (!covered && (r = emit_range(&c, t->family, cur, end)) < 0)
                        goto fail;
        }
        *out = c.out;
        *out_n = c.n;
        return 0;
fail:
        free(c.out);
        return r;
}

/* Index of the first entry of a sorted set that comes after p in the (family, address) order. */
static size_t upper_index(const struct nf_prefix *v, size_t n, const struct nf_prefix *p) {
        size_t lo = 0, hi = n;
        while (lo < hi) {
                size_t mid = lo + (hi - lo) / 2;
                if (v[mid].family < p->family || (v[mid].family == p->family && v[mid].addr <= p->addr))
                        lo = mid + 1;
                else
                        hi = mid;
        }
        return lo;
}

bool nf_prefix_set_covers(const struct nf_prefix *v, size_t n, const struct nf_prefix *p) {
        /* Disjoint and sorted: only the last entry starting at or before p can contain it. */
        size_t i = upper_index(v, n, p);
        return i > 0 && nf_prefix_contains(&v[i - 1], p);
}

bool nf_prefix_set_overlaps(const struct nf_prefix *v, size_t n, const struct nf_prefix *p) {
        /* Either the last entry starting at or before p reaches into it, or the first one
         * starting after p's first address starts inside it. */
        size_t i = upper_index(v, n, p);
        return (i > 0 && nf_prefix_overlaps(&v[i - 1], p)) || (i < n && nf_prefix_overlaps(&v[i], p));
}

bool nf_prefix_sets_intersect(const struct nf_prefix *a, size_t na, const struct nf_prefix *b, size_t nb, size_t *ia,
                              size_t *ib) {
        size_t i = 0, j = 0;
        while (i < na && j < nb) {
                if (nf_prefix_overlaps(&a[i], &b[j])) {
                        if (ia)
                                *ia = i;
                        if (ib)
                                *ib = j;
                        return true;
                }
                /* Advance whichever ends first. */
                if (a[i].family != b[j].family) {
                        if (a[i].family < b[j].family)
                                i++;
                        else
                                j++;
                } else if (nf_prefix_last(&a[i]) < nf_prefix_last(&b[j])) {
                        i++;
                } else {
                        j++;
                }
        }
        return false;
}
