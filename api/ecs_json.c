#include "api/ecs_json.h"

#include "api/ecs_scan.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <errno.h>
#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>


static bool is_space(unsigned char c) {
        return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

/* ---- decoding: Go's Unmarshal into the agent's request structs, on a value known to be valid ---- */

enum ftype { F_U64, F_U16, F_INT, F_STR, F_STRS };
static const char *const ftype_name[] = {"uint64", "uint16", "int", "string", "[]*string"};

struct field {
        const char *name;
        enum ftype t;
};

static const struct field fields_of[NF_ECS_KIND_COUNT][6] = {
        [NF_ECS_LATENCY] = {{"DelayMilliseconds", F_U64}, {"JitterMilliseconds", F_U64}, {"Sources", F_STRS},
                            {"SourcesToFilter", F_STRS}, {"FlowsPercent", F_INT}},
        [NF_ECS_LOSS] = {{"LossPercent", F_U64}, {"Sources", F_STRS}, {"SourcesToFilter", F_STRS}, {"FlowsPercent", F_INT}},
        [NF_ECS_BLACKHOLE] = {{"Port", F_U16}, {"Protocol", F_STR}, {"TrafficType", F_STR}, {"SourcesToFilter", F_STRS}},
};
static const char *const struct_name[] = {"NetworkLatencyRequest", "NetworkPacketLossRequest", "NetworkBlackholePortRequest"};

struct rd {
        const char *p, *end;
};

static void ws(struct rd *r) {
        while (r->p < r->end && is_space((unsigned char)*r->p))
                r->p++;
}

/* What Go calls the JSON value at r->p in its type errors. */
static const char *value_name(const struct rd *r) {
        switch (*r->p) {
        case '{': return "object";
        case '[': return "array";
        case '"': return "string";
        case 't': case 'f': return "bool";
        case 'n': return "null";
        }
        return "number";
}

static bool ends_scalar(char c) {
        return c == ',' || c == '}' || c == ']' || is_space((unsigned char)c);
}

static void skip_string(struct rd *r) {
        for (r->p++; r->p < r->end && *r->p != '"'; r->p++)
                if (*r->p == '\\')
                        r->p++;
        r->p++;
}

/* Past one value (valid JSON: the scanner has seen it). */
static void skip_value(struct rd *r) {
        int depth = 0;
        ws(r);
        if (*r->p == '"')
                return skip_string(r);
        if (*r->p != '{' && *r->p != '[') {
                while (r->p < r->end && !ends_scalar(*r->p))
                        r->p++;
                return;
        }
        while (r->p < r->end) {
                char c = *r->p;
                if (c == '"') {
                        skip_string(r);
                        continue;
                }
                r->p++;
                if (c == '{' || c == '[')
                        depth++;
                else if ((c == '}' || c == ']') && --depth == 0)
                        return;
        }
}

static void put_utf8(char **o, unsigned cp) {
        unsigned char *u = (unsigned char *)*o;
        if (cp < 0x80)
                *u++ = (unsigned char)cp;
        else if (cp < 0x800)
                *u++ = (unsigned char)(0xc0 | cp >> 6), *u++ = (unsigned char)(0x80 | (cp & 0x3f));
        else if (cp < 0x10000)
                *u++ = (unsigned char)(0xe0 | cp >> 12), *u++ = (unsigned char)(0x80 | ((cp >> 6) & 0x3f)),
                *u++ = (unsigned char)(0x80 | (cp & 0x3f));
        else
                *u++ = (unsigned char)(0xf0 | cp >> 18), *u++ = (unsigned char)(0x80 | ((cp >> 12) & 0x3f)),
                *u++ = (unsigned char)(0x80 | ((cp >> 6) & 0x3f)), *u++ = (unsigned char)(0x80 | (cp & 0x3f));
        *o = (char *)u;
}

static unsigned hex4(const char *p) {
        unsigned v = 0;
        for (int i = 0; i < 4; i++)
                v = v * 16 + (unsigned)(isdigit((unsigned char)p[i]) ? p[i] - '0' : (tolower((unsigned char)p[i]) - 'a' + 10));
        return v;
}

/* The length of a valid UTF-8 sequence at p (at most n bytes), 0 if it is not one. */
static size_t utf8_len(const unsigned char *p, size_t n) {
        size_t k = p[0] < 0x80 ? 1 : (p[0] & 0xe0) == 0xc0 ? 2 : (p[0] & 0xf0) == 0xe0 ? 3 : (p[0] & 0xf8) == 0xf0 ? 4 : 0;
        if (!k || k > n || (k == 2 && p[0] < 0xc2))
                return 0;
        for (size_t i = 1; i < k; i++)
                if ((p[i] & 0xc0) != 0x80)
                        return 0;
        if (k == 3 && ((p[0] == 0xe0 && p[1] < 0xa0) || (p[0] == 0xed && p[1] >= 0xa0)))
                return 0; /* overlong, or a surrogate */
        if (k == 4 && ((p[0] == 0xf0 && p[1] < 0x90) || p[0] > 0xf4 || (p[0] == 0xf4 && p[1] >= 0x90)))
                return 0;
        return k;
}

/* A string value, unquoted as Go does (bad UTF-8 and lone surrogates become U+FFFD); NULL
 * without memory. */
static char *read_string(struct rd *r) {
        const char *s = ++r->p;
        while (r->p < r->end && *r->p != '"')
                r->p += *r->p == '\\' ? 2 : 1;
        char *out = malloc((size_t)(r->p - s) * 3 + 1), *o = out;
        if (!out)
                return NULL;
        for (const char *q = s; q < r->p;) {
                if (*q != '\\') {
                        size_t k = utf8_len((const unsigned char *)q, (size_t)(r->p - q));
                        if (k) {
                                memcpy(o, q, k), o += k, q += k;
                        } else {
                                put_utf8(&o, 0xfffd);
                                q++;
                        }
                        continue;
                }
                char c = q[1];
                q += 2;
                if (c != 'u') {
                        *o++ = c == 'b' ? '\b' : c == 'f' ? '\f' : c == 'n' ? '\n' : c == 'r' ? '\r' : c == 't' ? '\t' : c;
                        continue;
                }
                unsigned cp = hex4(q);
                q += 4;
                if (cp >= 0xd800 && cp < 0xdc00 && q + 6 <= r->p && q[0] == '\\' && q[1] == 'u' && hex4(q + 2) >= 0xdc00 &&
                    hex4(q + 2) < 0xe000) {
                        cp = 0x10000 + ((cp - 0xd800) << 10) + (hex4(q + 2) - 0xdc00);
                        q += 6;
                } else if (cp >= 0xd800 && cp < 0xe000)
                        cp = 0xfffd;
                put_utf8(&o, cp);
        }
        *o = '\0';
        r->p++;
        return out;
}

/* Go's key match: the exact name, or else the same name after folding case (ASCII, and the two
 * non-ASCII runes whose fold set holds an ASCII letter: U+017F long s, U+212A Kelvin sign). */
static bool key_folds_to(const char *key, const char *name) {
        const unsigned char *k = (const unsigned char *)key;
        for (; *name; name++) {
                int c;
                if (k[0] < 0x80)
                        c = toupper(*k++);
                else if (k[0] == 0xc5 && k[1] == 0xbf)
                        c = 'S', k += 2;
                else if (k[0] == 0xe2 && k[1] == 0x84 && k[2] == 0xaa)
                        c = 'K', k += 3;
                else
                        return false;
                if (c != toupper((unsigned char)*name))
                        return false;
        }
        return *k == '\0';
}

static const struct field *find_field(enum nf_ecs_kind kind, const char *key) {
        const struct field *f = fields_of[kind];
        for (size_t i = 0; f[i].name; i++)
                if (strcmp(f[i].name, key) == 0)
                        return &f[i];
        for (size_t i = 0; f[i].name; i++)
                if (key_folds_to(key, f[i].name))
                        return &f[i];
        return NULL;
}

static int type_error(char *msg, const char *value, enum nf_ecs_kind kind, const struct field *f, const char *type) {
        snprintf(msg, NF_ECS_MSG_MAX, "json: cannot unmarshal %s into Go struct field %s.%s of type %s", value,
                 struct_name[kind], f->name, type);
        return -1;
}

static void strs_free(struct nf_ecs_strs *l) {
        for (size_t i = 0; i < l->n; i++)
                free(l->v[i]);
        free(l->v);
        *l = (struct nf_ecs_strs){0};
}

static int oom(char *msg) {
        snprintf(msg, NF_ECS_MSG_MAX, "internal error");
        return -1;
}

static int read_strs(struct rd *r, enum nf_ecs_kind kind, const struct field *f, struct nf_ecs_strs *l, char *msg) {
        strs_free(l);
        if (*r->p == 'n') {
                skip_value(r);
                return 0;
        }
        if (*r->p != '[')
                return type_error(msg, value_name(r), kind, f, ftype_name[F_STRS]);
        r->p++;
        for (;;) {
                ws(r);
                if (*r->p == ']') {
                        r->p++;
                        return 0;
                }
                if (*r->p == ',') {
                        r->p++;
                        ws(r);
                }
                char **v = realloc(l->v, (l->n + 1) * sizeof(*v));
                if (!v)
                        return oom(msg);
                l->v = v;
                if (*r->p == '"') {
                        if (!(l->v[l->n] = read_string(r)))
                                return oom(msg);
                } else if (*r->p == 'n') {
                        l->v[l->n] = NULL;
                        skip_value(r);
                } else
                        return type_error(msg, value_name(r), kind, f, "string");
                l->n++;
        }
}

/* A number literal into an unsigned or signed integer of Go's kind t. */
static int read_integer(struct rd *r, enum nf_ecs_kind kind, const struct field *f, uint64_t *u, int64_t *i, char *msg) {
        const char *s = r->p;
        skip_value(r);
        char lit[64], *end;
        size_t n = (size_t)(r->p - s);
        bool ok = n < sizeof(lit);
        snprintf(lit, sizeof(lit), "%.*s", (int)(n < sizeof(lit) ? n : sizeof(lit) - 1), s);
        ok = ok && strspn(lit + (lit[0] == '-'), "0123456789") == strlen(lit + (lit[0] == '-')) && lit[lit[0] == '-'];
        errno = 0;
        if (ok && f->t == F_INT)
                *i = strtoll(lit, &end, 10);
        else if (ok)
                ok = lit[0] != '-', *u = strtoull(lit, &end, 10);
        ok = ok && errno == 0 && (f->t != F_U16 || *u <= UINT16_MAX);
        if (!ok) {
                char v[400];
                snprintf(v, sizeof(v), "number %.*s", (int)(n > 380 ? 380 : n), s);
                return type_error(msg, v, kind, f, ftype_name[f->t]);
        }
        return 0;
}

static int read_field(struct rd *r, enum nf_ecs_kind kind, const struct field *f, struct nf_ecs_req *q, char *msg) {
        bool null = *r->p == 'n', *has = NULL;
        uint64_t u = 0;
        int64_t i = 0;
        if (f->t == F_STRS)
                return read_strs(r, kind, f, strcmp(f->name, "Sources") == 0 ? &q->sources : &q->filter, msg);
        if (f->t == F_STR) {
                char **dst = strcmp(f->name, "Protocol") == 0 ? &q->protocol : &q->traffic;
                free(*dst);
                *dst = NULL;
                if (null) {
                        skip_value(r);
                        return 0;
                }
                if (*r->p != '"')
                        return type_error(msg, value_name(r), kind, f, "string");
                return (*dst = read_string(r)) ? 0 : oom(msg);
        }
        if (strcmp(f->name, "DelayMilliseconds") == 0)
                has = &q->has_delay;
        else if (strcmp(f->name, "JitterMilliseconds") == 0)
                has = &q->has_jitter;
        else if (strcmp(f->name, "LossPercent") == 0)
                has = &q->has_loss;
        else if (strcmp(f->name, "Port") == 0)
                has = &q->has_port;
        else
                has = &q->has_flows;
        *has = false;
        if (null) {
                skip_value(r);
                return 0;
        }
        if (*r->p != '-' && !isdigit((unsigned char)*r->p))
                return type_error(msg, value_name(r), kind, f, ftype_name[f->t]);
        if (read_integer(r, kind, f, &u, &i, msg) < 0)
                return -1;
        *has = true;
        if (has == &q->has_delay)
                q->delay_ms = u;
        else if (has == &q->has_jitter)
                q->jitter_ms = u;
        else if (has == &q->has_loss)
                q->loss_pct = u;
        else if (has == &q->has_port)
                q->port = (uint16_t)u;
        else
                q->flows_pct = i;
        return 0;
}

void nf_ecs_req_free(struct nf_ecs_req *q) {
        strs_free(&q->sources);
        strs_free(&q->filter);
        free(q->protocol);
        free(q->traffic);
        *q = (struct nf_ecs_req){0};
}

int nf_ecs_decode(enum nf_ecs_kind kind, const char *body, size_t len, struct nf_ecs_req *q, char msg[NF_ECS_MSG_MAX]) {
        struct rd r = {body, body + len};
        *q = (struct nf_ecs_req){0};
        long n = nf_ecs_scan_value(body, len, msg);
        if (n < 0)
                return -1;
        if (n == 0) {
                snprintf(msg, NF_ECS_MSG_MAX, "required request body is missing");
                return -1;
        }
        r.end = body + n;
        ws(&r);
        if (*r.p == 'n')
                return 0;
        if (*r.p != '{') {
                snprintf(msg, NF_ECS_MSG_MAX, "json: cannot unmarshal %s into Go value of type types.%s", value_name(&r),
                         struct_name[kind]);
                return -1;
        }
        r.p++;
        for (;;) {
                ws(&r);
                if (*r.p == ',') {
                        r.p++;
                        ws(&r);
                }
                if (*r.p == '}')
                        return 0;
                char *key = read_string(&r);
                if (!key) {
                        nf_ecs_req_free(q);
                        return oom(msg);
                }
                ws(&r);
                r.p++; /* ':' */
                ws(&r);
                const struct field *f = find_field(kind, key);
                free(key);
                if (!f)
                        skip_value(&r);
                else if (read_field(&r, kind, f, q, msg) < 0) {
                        nf_ecs_req_free(q);
                        return -1;
                }
        }
}

/* ---- validation: the agent's ValidateRequest, in its order and with its messages ---- */

static bool go_parse_ip(const char *s, int *bits) {
        unsigned char a[16];
        if (inet_pton(AF_INET, s, a) == 1) {
                *bits = 32;
                return true;
        }
        *bits = 128;
        return strchr(s, ':') && inet_pton(AF_INET6, s, a) == 1;
}

bool nf_ecs_is_ip_or_cidr(const char *s) {
        char addr[64];
        int bits;
        const char *slash = strchr(s, '/');
        if (!slash)
                return go_parse_ip(s, &bits);
        if ((size_t)(slash - s) >= sizeof(addr))
                return false;
        snprintf(addr, sizeof(addr), "%.*s", (int)(slash - s), s);
        /* Go's dtoi: decimal digits only (leading zeros allowed), at least one, at most the bits. */
        const char *m = slash + 1;
        size_t nd = strspn(m, "0123456789");
        if (!go_parse_ip(addr, &bits) || nd == 0 || m[nd] || nd > 8)
                return false;
        return strtol(m, NULL, 10) <= bits;
}

static int missing(char *msg, const char *field) {
        snprintf(msg, NF_ECS_MSG_MAX, "required parameter %s is missing", field);
        return -1;
}

static int invalid(char *msg, const char *value, const char *field) {
        snprintf(msg, NF_ECS_MSG_MAX, "invalid value %.400s for parameter %s", value, field);
        return -1;
}

static int check_sources(const struct nf_ecs_strs *l, const char *field, char *msg) {
        for (size_t i = 0; i < l->n; i++)
                if (!nf_ecs_is_ip_or_cidr(l->v[i] ? l->v[i] : ""))
                        return invalid(msg, l->v[i] ? l->v[i] : "", field);
        return 0;
}

/* Latency and loss end alike: Sources, SourcesToFilter, then FlowsPercent (named "flowsPercent"
 * in the agent's message). */
static int check_tc_tail(const struct nf_ecs_req *q, char *msg) {
        char v[24];
        if (q->sources.n == 0)
                return missing(msg, "Sources");
        if (check_sources(&q->sources, "Sources", msg) < 0 || check_sources(&q->filter, "SourcesToFilter", msg) < 0)
                return -1;
        if (q->has_flows && (q->flows_pct <= 0 || q->flows_pct > 100)) {
                snprintf(v, sizeof(v), "%" PRId64, q->flows_pct);
                return invalid(msg, v, "flowsPercent");
        }
        return 0;
}

int nf_ecs_validate(enum nf_ecs_kind kind, const struct nf_ecs_req *q, char msg[NF_ECS_MSG_MAX]) {
        char v[24];
        switch (kind) {
        case NF_ECS_LATENCY:
                if (!q->has_delay)
                        return missing(msg, "DelayMilliseconds");
                if (!q->has_jitter)
                        return missing(msg, "JitterMilliseconds");
                if (q->delay_ms == 0 && q->jitter_ms == 0) {
                        snprintf(msg, NF_ECS_MSG_MAX, "required either DelayMilliseconds or JitterMilliseconds to be non-zero");
                        return -1;
                }
                return check_tc_tail(q, msg);
        case NF_ECS_LOSS:
                if (!q->has_loss)
                        return missing(msg, "LossPercent");
                if (q->loss_pct < 1 || q->loss_pct > 100) {
                        /* The agent prints int(*LossPercent): above INT64_MAX it wraps negative. */
                        snprintf(v, sizeof(v), "%" PRId64, (int64_t)q->loss_pct);
                        return invalid(msg, v, "LossPercent");
                }
                return check_tc_tail(q, msg);
        case NF_ECS_BLACKHOLE:
                if (!q->has_port)
                        return missing(msg, "Port");
                if (!q->protocol || !*q->protocol)
                        return missing(msg, "Protocol");
                if (!q->traffic || !*q->traffic)
                        return missing(msg, "TrafficType");
                if (strcmp(q->protocol, "tcp") != 0 && strcmp(q->protocol, "udp") != 0)
                        return invalid(msg, q->protocol, "Protocol");
                if (strcmp(q->traffic, "ingress") != 0 && strcmp(q->traffic, "egress") != 0)
                        return invalid(msg, q->traffic, "TrafficType");
                return check_sources(&q->filter, "SourcesToFilter", msg);
        case NF_ECS_KIND_COUNT: break;
        }
        return 0;
}
