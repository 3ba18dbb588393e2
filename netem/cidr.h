/* IPv4/IPv6 prefixes and the set operations the planner needs: normalise, subtract, intersect.
 * Addresses are kept as 128-bit integers in host order so that both families share one code path;
 * an IPv4 address occupies the low 32 bits. */
#pragma once
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

typedef unsigned __int128 nf_u128;

struct nf_prefix {
        nf_u128 addr;   /* network address, host bits cleared */
        uint8_t family; /* AF_INET or AF_INET6 */
        uint8_t len;    /* prefix length, 0..32 or 0..128 */
};

/* Longest text form: an IPv6 address plus "/128". */
#define NF_PREFIX_STRLEN 48

unsigned nf_family_bits(int family);
/* Parses "a.b.c.d", "a.b.c.d/n", "x::y", "x::y/n". Host bits are cleared. -EINVAL on bad input. */
int nf_prefix_parse(const char *s, struct nf_prefix *out);
/* Writes "addr/len". Returns buf. */
char *nf_prefix_format(const struct nf_prefix *p, char *buf, size_t len);
/* Network-order bytes of the address (4 or 16 bytes written). */
void nf_prefix_addr_bytes(const struct nf_prefix *p, uint8_t out[16]);
void nf_prefix_mask_bytes(const struct nf_prefix *p, uint8_t out[16]);
nf_u128 nf_prefix_first(const struct nf_prefix *p);
nf_u128 nf_prefix_last(const struct nf_prefix *p);
bool nf_prefix_overlaps(const struct nf_prefix *a, const struct nf_prefix *b);
bool nf_prefix_contains(const struct nf_prefix *outer, const struct nf_prefix *inner);

/* Sorts by (family, first address) and drops entries contained in another: the result is a
 * sorted set of disjoint prefixes. */
void nf_prefix_set_normalize(struct nf_prefix *v, size_t *n);
/* Targets minus excludes, both normalised; the result is normalised and newly allocated: per
 * target, the minimal prefixes covering what the excludes leave of it, in address order.
 * O(targets + excludes + pieces), a single sweep. Fails with -E2BIG when it would exceed max_out
 * prefixes, -ENOMEM on allocation failure. */
int nf_prefix_set_subtract(const struct nf_prefix *targets, size_t nt, const struct nf_prefix *excl,
                           size_t ne, size_t max_out, struct nf_prefix **out, size_t *out_n);
/* Whether two normalised sets share any address; if so ia and ib index a witness pair. O(n+m). */
bool nf_prefix_sets_intersect(const struct nf_prefix *a, size_t na, const struct nf_prefix *b, size_t nb,
                              size_t *ia, size_t *ib);
/* Whether one prefix of the normalised set v contains p / shares an address with p. O(log n):
 * what lets a request check thousands of prefixes against thousands without O(n x m) work. */
bool nf_prefix_set_covers(const struct nf_prefix *v, size_t n, const struct nf_prefix *p);
bool nf_prefix_set_overlaps(const struct nf_prefix *v, size_t n, const struct nf_prefix *p);
