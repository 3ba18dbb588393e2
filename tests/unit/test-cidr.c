/* Prefix parsing, normalisation and the set operations behind exclude and conflict checks. */
#include <arpa/inet.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cidr-ref.h"
#include "netem/cidr.h"
#include "tap.h"

static const char *fmt(const struct nf_prefix *p) {
        static char buf[4][NF_PREFIX_STRLEN];
        static int i;
        i = (i + 1) % 4;
        return nf_prefix_format(p, buf[i], sizeof(buf[i]));
}

static struct nf_prefix P(const char *s) {
        struct nf_prefix p = {0};
        if (nf_prefix_parse(s, &p) < 0)
                printf("# cannot parse %s\n", s);
        return p;
}


/* A small deterministic generator (xorshift64*), so that a failure reproduces. */
static uint64_t rng = 0x9e3779b97f4a7c15ull;
static uint64_t rnd(void) {
        rng ^= rng >> 12;
        rng ^= rng << 25;
        rng ^= rng >> 27;
        return rng * 0x2545f4914f6cdd1dull;
}

/* A random prefix in one of three narrow windows (the bottom, the middle and the top of the
 * space, so that the all-zero and all-one edges are hit) of 2^window addresses, with mostly long
 * lengths, so that random sets nest, overlap and touch often. */
static unsigned window = 16;
static struct nf_prefix rnd_prefix(int family) {
        unsigned bits = nf_family_bits(family);
        nf_u128 top = family == AF_INET ? 0xffffffffu : ~(nf_u128)0, base;
        switch (rnd() % 3) {
        case 0:
                base = 0;
                break;
        case 1:
                base = (top >> 1) & ~(nf_u128)0xffff;
                break;
        default:
                base = top & ~(nf_u128)0xffff;
                break;
        }
        struct nf_prefix p = {.family = (uint8_t)family};
        unsigned len = rnd() % 5 == 0 ? (unsigned)(rnd() % (bits + 1)) : bits - (unsigned)(rnd() % (window + 1));
        unsigned host = bits - len;
        nf_u128 mask = host >= 128 ? ~(nf_u128)0 : (((nf_u128)1) << host) - 1;
        p.len = (uint8_t)len;
        p.addr = (base | (nf_u128)(rnd() & ((1u << window) - 1))) & ~mask;
        return p;
}

static size_t rnd_set(struct nf_prefix *v, size_t max) {
        size_t n = (size_t)(rnd() % (max + 1));
        int mixed = rnd() % 3 == 0, family = rnd() % 2 ? AF_INET : AF_INET6;
        for (size_t i = 0; i < n; i++)
                v[i] = rnd_prefix(mixed ? (rnd() % 2 ? AF_INET : AF_INET6) : family);
        nf_prefix_set_normalize(v, &n);
        return n;
}

static bool same_prefixes(const struct nf_prefix *a, const struct nf_prefix *b, size_t n) {
        for (size_t i = 0; i < n; i++)
                if (a[i].family != b[i].family || a[i].len != b[i].len || a[i].addr != b[i].addr)
                        return false;
        return true;
}

/* The protected-address check of core/scope.c's nf_scope_effective(), on the new functions. */
static size_t new_protected_hits(const struct nf_prefix *ex, size_t n_ex, const struct nf_prefix *user, size_t n_user,
                                 const struct nf_prefix *all, size_t n_all, struct nf_prefix *hit, size_t max) {
        size_t n = 0;
        for (size_t i = 0; i < n_ex; i++)
                if (!nf_prefix_set_covers(user, n_user, &ex[i]) && nf_prefix_set_overlaps(all, n_all, &ex[i]) && n < max)
                        hit[n++] = ex[i];
        return n;
}

/* Random /32s (distinct enough for a benchmark of 10,000). */
static size_t rnd_hosts(struct nf_prefix *v, size_t n) {
        for (size_t i = 0; i < n; i++)
                v[i] = (struct nf_prefix){.addr = (nf_u128)(rnd() & 0xffffffffu), .family = AF_INET, .len = 32};
        nf_prefix_set_normalize(v, &n);
        return n;
}

static double cpu_ms(clock_t since) {
        return (double)(clock() - since) * 1000.0 / CLOCKS_PER_SEC;
}

/* The sweep against the recursive split it replaced, the set look-ups against brute force, on
 * random sets; then the shapes of issue 11 row 3 at full size, against a CPU-time bound. */
static void set_arithmetic_matches_reference(void) {
        enum { ROUNDS = 3000, MAXN = 24 };
        static struct nf_prefix t[MAXN + 1], ex[MAXN + 1];
        size_t mismatched = 0, limited = 0, lookups_wrong = 0, hits_wrong = 0, pieces = 0;
        for (unsigned round = 0; round < ROUNDS; round++) {
                window = (unsigned[]){3, 6, 10, 16}[round % 4];
                size_t nt = rnd_set(t, MAXN), ne = rnd_set(ex, MAXN);
                /* now and then a limit that the result may exceed, so that -E2BIG agrees too */
                size_t max_out = rnd() % 4 == 0 ? (size_t)(rnd() % 40) : 1000000;
                struct nf_prefix *a = NULL, *b = NULL;
                size_t na = 0, nb = 0;
                int ra = nf_prefix_set_subtract(t, nt, ex, ne, max_out, &a, &na);
                int rb = ref_subtract(t, nt, ex, ne, max_out, &b, &nb);
                if (ra != rb || (ra == 0 && (na != nb || !same_prefixes(a, b, na)))) {
                        if (mismatched++ == 0)
                                printf("# round %u: new %d/%zu pieces, reference %d/%zu\n", round, ra, na, rb, nb);
                }
                limited += ra == -E2BIG;
                pieces += ra == 0 ? na : 0;
                if (ra == 0)
                        free(a);
                if (rb == 0)
                        free(b);
                for (size_t i = 0; i < ne; i++) {
                        bool cov = false, ovl = false;
                        for (size_t k = 0; k < nt; k++) {
                                cov |= nf_prefix_contains(&t[k], &ex[i]);
                                ovl |= nf_prefix_overlaps(&t[k], &ex[i]);
                        }
                        lookups_wrong += cov != nf_prefix_set_covers(t, nt, &ex[i]);
                        lookups_wrong += ovl != nf_prefix_set_overlaps(t, nt, &ex[i]);
                }
                /* the protected-address check: exclusions = this round's excludes plus t[0..2) */
                struct nf_prefix all_ex[MAXN + 3], h1[8], h2[8];
                size_t n_all_ex = ne;
                memcpy(all_ex, ex, ne * sizeof(*ex));
                for (size_t i = 0; i < 2 && i < nt; i++)
                        all_ex[n_all_ex++] = rnd_prefix(t[i].family);
                nf_prefix_set_normalize(all_ex, &n_all_ex);
                size_t m1 = new_protected_hits(all_ex, n_all_ex, ex, ne, t, nt, h1, 8);
                size_t m2 = ref_protected_hits(all_ex, n_all_ex, ex, ne, t, nt, h2, 8);
                hits_wrong += m1 != m2 || !same_prefixes(h1, h2, m1);
        }
        tap_ok(mismatched == 0, "subtract: the sweep gives the recursive split's pieces in %d random cases (%zu differ; %zu hit the limit, %zu pieces)",
               ROUNDS, mismatched, limited, pieces);
        tap_ok(limited > 0 && pieces > 10 * ROUNDS, "the random cases exercise the limit and real splits");
        tap_ok(lookups_wrong == 0, "set covers/overlaps agree with a scan of every pair (%zu wrong)", lookups_wrong);
        tap_ok(hits_wrong == 0, "protected addresses held by the targets: same as the scan of every pair (%zu differ)", hits_wrong);

        /* Full size, issue 11 row 3. The old code took seconds here (an O(excludes x targets)
         * scan); the bound is CPU time, not wall time, so a busy machine does not fail it, and it
         * is ~20x what the sweep needs under ASan: a quadratic algorithm cannot meet it, a
         * near-linear one cannot miss it. */
        enum { N = 10000 };
        static struct nf_prefix tt[N], ee[N + 3];
        size_t nt = rnd_hosts(tt, N), ne = rnd_hosts(ee, N);
        struct nf_prefix *out = NULL, *ref = NULL, hit[8];
        size_t nout = 0, nref = 0;
        clock_t c0 = clock();
        int r = nf_prefix_set_subtract(tt, nt, ee, ne, 40000, &out, &nout);
        size_t nh = new_protected_hits(ee, ne, ee, ne, tt, nt, hit, 8);
        double ms = cpu_ms(c0);
        tap_ok(r == 0 && nh == 0 && ms < 200, "10,000 targets minus 10,000 excludes: %zu pieces in %.1f ms CPU (bound 200)", nout, ms);
        tap_ok(ref_subtract(tt, nt, ee, ne, 40000, &ref, &nref) == 0 && nref == nout && same_prefixes(out, ref, nout),
               "... the same pieces as the reference");
        free(out);
        free(ref);
        struct nf_prefix all4 = {.family = AF_INET, .len = 0};
        c0 = clock();
        r = nf_prefix_set_subtract(&all4, 1, ee, ne, 40000, &out, &nout);
        ms = cpu_ms(c0);
        tap_ok(r == -E2BIG && ms < 200, "0.0.0.0/0 minus 10,000 random /32s is refused (too many pieces) in %.1f ms CPU", ms);
        for (size_t i = 0; i < N; i++) {
                tt[i] = (struct nf_prefix){.addr = 0x0a000000u + ((nf_u128)i << 8), .family = AF_INET, .len = 24};
                ee[i] = tt[i];
                ee[i].addr |= 7;
                ee[i].len = 32;
        }
        c0 = clock();
        r = nf_prefix_set_subtract(tt, N, ee, N, 1000000, &out, &nout);
        ms = cpu_ms(c0);
        tap_ok(r == 0 && nout == 8 * N && ms < 200, "10,000 /24s minus a /32 in each: %zu pieces in %.1f ms CPU", nout, ms);
        if (r == 0)
                free(out);
        struct nf_prefix all6 = {.family = AF_INET6, .len = 0};
        for (size_t i = 0; i < N; i++)
                ee[i] = (struct nf_prefix){.addr = ((nf_u128)rnd() << 64) | rnd(), .family = AF_INET6, .len = 128};
        size_t n6 = N;
        nf_prefix_set_normalize(ee, &n6);
        c0 = clock();
        r = nf_prefix_set_subtract(&all6, 1, ee, n6, 2000000, &out, &nout);
        ms = cpu_ms(c0);
        tap_ok(r == 0 && nout > 100 * n6 && ms < 1000, "::/0 minus 10,000 random /128s: %zu pieces in %.1f ms CPU", nout, ms);
        if (r == 0)
                free(out);
}

/* nf_prefix_parse reads dotted quads itself (issue 17): it must take exactly the addresses
 * inet_pton takes, with the same value, for tricky and random strings alike. */
static void quads_match_inet_pton(void) {
        static const char *const cases[] = {"0.0.0.0", "255.255.255.255", "1.2.3.4", "01.2.3.4", "1.2.3.04", "1.2.3.0",
                                            "256.1.1.1", "1.2.3", "1.2.3.4.5", "1..2.3", ".1.2.3", "1.2.3.", "1.2.3.4a",
                                            "0001.2.3.4", "1.2.3.255", "1.2.3.256", "00.0.0.0", "+1.2.3.4", "1.2.3.-4",
                                            "9999.1.1.1", "1.2.3.4 ", "10.0.0.1/32", "1.2.3.4/08", "1.2.3.4/8"};
        char s[64];
        size_t mismatches = 0, n = 0;
        unsigned seed = 5;
        for (size_t i = 0; i < sizeof(cases) / sizeof(*cases) + 20000; i++) {
                const char *c = s;
                if (i < sizeof(cases) / sizeof(*cases)) {
                        c = cases[i];
                } else {
                        /* random short strings over digits, dots and a leading-zero bias */
                        static const char alphabet[] = "0123456789...0012";
                        size_t len = 1 + (seed = seed * 1103515245u + 12345u) % 16;
                        for (size_t k = 0; k < len; k++)
                                s[k] = alphabet[((seed = seed * 1103515245u + 12345u) >> 8) % (sizeof(alphabet) - 1)];
                        s[len] = '\0';
                }
                if (strchr(c, '/'))
                        continue;
                struct nf_prefix p;
                unsigned char bytes[4];
                int want = inet_pton(AF_INET, c, bytes) == 1;
                int got = nf_prefix_parse(c, &p) == 0 && p.family == AF_INET;
                uint32_t v = (uint32_t)bytes[0] << 24 | (uint32_t)bytes[1] << 16 | (uint32_t)bytes[2] << 8 | bytes[3];
                if (got != want || (want && (p.addr != v || p.len != 32))) {
                        if (mismatches++ < 5)
                                printf("#   '%s': inet_pton %s, nf_prefix_parse %s\n", c, want ? "takes it" : "refuses it",
                                       got ? "takes it" : "refuses it");
                }
                n++;
        }
        tap_ok(mismatches == 0, "dotted quads: nf_prefix_parse agrees with inet_pton on %zu strings (%zu differ)", n,
               mismatches);
        struct nf_prefix p;
        tap_ok(nf_prefix_parse("1.2.3.4/08", &p) == 0 && p.len == 8, "a quad with a prefix length still parses");
}

int main(void) {
        struct nf_prefix p;
        quads_match_inet_pton();
        static const char *const good[][2] = {
                {"10.0.1.10", "10.0.1.10/32"},   {"10.0.0.0/8", "10.0.0.0/8"},      {"10.1.2.3/8", "10.0.0.0/8"},
                {"0.0.0.0/0", "0.0.0.0/0"},      {"fd00:1::10", "fd00:1::10/128"},  {"fd00:1::10/64", "fd00:1::/64"},
                {"::/0", "::/0"},                {"::ffff:10.0.0.1", "::ffff:10.0.0.1/128"},
                {"2001:db8::1/128", "2001:db8::1/128"},
        };
        for (size_t i = 0; i < sizeof(good) / sizeof(*good); i++) {
                int r = nf_prefix_parse(good[i][0], &p);
                tap_ok(r == 0, "parse %s", good[i][0]);
                tap_is_str(fmt(&p), good[i][1], "normalise %s", good[i][0]);
        }
        static const char *const bad[] = {"",          "10.0.0.300", "10.0.0.1/33", "::1/129", "abc",        "10.0.0.1/",
                                          "10.0.0.1/-1", " 10.0.0.1", "10.0.0.1 ",  "10.0.0/8", "1.2.3.4/8/9", "10.0.0.1/0x8",
                                          "fd00::1::2", "10.0.0.1/1234"};
        for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
                tap_ok(nf_prefix_parse(bad[i], &p) < 0, "reject '%s'", bad[i]);

        /* normalise: duplicates and contained prefixes go, families sort apart */
        struct nf_prefix v[] = {P("10.0.1.10"), P("fd00::1"), P("10.0.0.0/16"), P("10.0.1.10/32"), P("192.0.2.0/24"),
                                P("fd00::/64")};
        size_t n = 6;
        nf_prefix_set_normalize(v, &n);
        tap_is_int(n, 3, "normalise keeps 3 of 6");
        tap_is_str(fmt(&v[0]), "10.0.0.0/16", "normalised[0]");
        tap_is_str(fmt(&v[1]), "192.0.2.0/24", "normalised[1]");
        tap_is_str(fmt(&v[2]), "fd00::/64", "normalised[2]");

        /* subtract */
        struct nf_prefix t[] = {P("10.0.0.0/8")}, ex[] = {P("10.1.0.0/16")}, *out = NULL;
        size_t nout = 0;
        tap_ok(nf_prefix_set_subtract(t, 1, ex, 1, 100, &out, &nout) == 0, "10/8 minus 10.1/16");
        tap_is_int(nout, 8, "10/8 minus 10.1/16 is 8 prefixes");
        if (nout == 8) {
                tap_is_str(fmt(&out[0]), "10.0.0.0/16", "first piece");
                tap_is_str(fmt(&out[1]), "10.2.0.0/15", "second piece");
                tap_is_str(fmt(&out[7]), "10.128.0.0/9", "last piece");
                bool any = false;
                for (size_t i = 0; i < nout; i++)
                        any |= nf_prefix_overlaps(&out[i], &ex[0]);
                tap_ok(!any, "no piece overlaps the exclude");
        }
        free(out);
        struct nf_prefix t2[] = {P("10.0.1.10"), P("fd00:1::/64")}, ex2[] = {P("10.0.0.0/8")};
        tap_ok(nf_prefix_set_subtract(t2, 2, ex2, 1, 100, &out, &nout) == 0 && nout == 1, "excluded target drops out");
        if (nout == 1)
                tap_is_str(fmt(&out[0]), "fd00:1::/64", "other family untouched");
        free(out);
        struct nf_prefix t3[] = {P("::/0")}, ex3[] = {P("fd00::1")};
        tap_ok(nf_prefix_set_subtract(t3, 1, ex3, 1, 1000, &out, &nout) == 0 && nout == 128, "::/0 minus one address is 128 prefixes (got %zu)", nout);
        free(out);
        tap_ok(nf_prefix_set_subtract(t3, 1, ex3, 1, 10, &out, &nout) == -E2BIG, "limit on pieces is enforced");

        /* intersect */
        struct nf_prefix a[] = {P("10.0.1.0/24"), P("10.0.3.0/24")}, b[] = {P("10.0.2.0/24"), P("10.0.3.7")},
                         c[] = {P("10.0.2.0/24"), P("fd00::/8")};
        size_t ia, ib;
        tap_ok(nf_prefix_sets_intersect(a, 2, b, 2, &ia, &ib) && ia == 1 && ib == 1, "intersecting sets found with witness");
        tap_ok(!nf_prefix_sets_intersect(a, 2, c, 2, NULL, NULL), "disjoint sets");
        struct nf_prefix d[] = {P("0.0.0.0/0")}, e6[] = {P("::/0")};
        tap_ok(!nf_prefix_sets_intersect(d, 1, e6, 1, NULL, NULL), "IPv4 and IPv6 never intersect");

        /* edges: the whole space minus its last address, a target at the top minus its top half */
        struct nf_prefix t4[] = {P("0.0.0.0/0")}, ex4[] = {P("255.255.255.255")};
        tap_ok(nf_prefix_set_subtract(t4, 1, ex4, 1, 100, &out, &nout) == 0 && nout == 32, "0/0 minus 255.255.255.255 is 32 prefixes");
        if (nout == 32)
                tap_is_str(fmt(&out[31]), "255.255.255.254/32", "... the last one just below it");
        free(out);
        struct nf_prefix t5[] = {P("ffff::/16")}, ex5[] = {P("ffff:8000::/17")};
        tap_ok(nf_prefix_set_subtract(t5, 1, ex5, 1, 100, &out, &nout) == 0 && nout == 1 && strcmp(fmt(&out[0]), "ffff::/17") == 0,
               "ffff::/16 minus its top half is ffff::/17");
        free(out);
        set_arithmetic_matches_reference();
        return tap_done();
}
