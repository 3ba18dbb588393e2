/* Prefix parsing, normalisation and the set operations behind exclude and conflict checks. */
#include <errno.h>
#include <stdlib.h>

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

int main(void) {
        struct nf_prefix p;
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
        return tap_done();
}
