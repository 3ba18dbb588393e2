#include "api/validate.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Bounds, in API units. */
#define MAX_DELAY_MS 60000.0  /* a minute; longer is an outage, use blackhole */
#define MAX_JITTER_MS 2147.0  /* the kernel clamps jitter to INT_MAX ns */
#define MAX_RATE_KBIT 100000000ull /* 100 Gbit/s */
#define MAX_LIMIT 1000000
#define MAX_GAP 1000000

static const char *type_name(const cJSON *v) {
        if (cJSON_IsNumber(v))
                return "a number";
        if (cJSON_IsString(v))
                return "a string";
        if (cJSON_IsBool(v))
                return "a boolean";
        if (cJSON_IsArray(v))
                return "an array";
        if (cJSON_IsObject(v))
                return "an object";
        return "null";
}

/* A short rendering of a bad value for messages. */
static void show(const cJSON *v, char *buf, size_t len) {
        if (cJSON_IsString(v)) {
                snprintf(buf, len, "'%.60s%s'", v->valuestring, strlen(v->valuestring) > 60 ? "..." : "");
        } else if (cJSON_IsNumber(v)) {
                snprintf(buf, len, "%.10g", v->valuedouble);
        } else {
                snprintf(buf, len, "%s", type_name(v));
        }
}

static int check_keys(const cJSON *obj, const char *prefix, const char *const *allowed, struct nf_err *e) {
        const cJSON *it;
        cJSON_ArrayForEach(it, obj) {
                bool ok = false;
                for (const char *const *a = allowed; *a; a++)
                        if (strcmp(it->string, *a) == 0)
                                ok = true;
                if (!ok) {
                        char field[96];
                        snprintf(field, sizeof(field), "%s%s", prefix, it->string);
                        return nf_fail(e, 400, "unknown_field", field, "%s: unknown field", field);
                }
        }
        return 0;
}

static int get_number(const cJSON *obj, const char *prefix, const char *key, bool required, double lo, double hi,
                      double *out, bool *present, struct nf_err *e) {
        char field[96], shown[96];
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
        snprintf(field, sizeof(field), "%s%s", prefix, key);
        if (present)
                *present = v != NULL;
        if (!v) {
                if (required)
                        return nf_fail(e, 400, "missing_field", field, "%s is required", field);
                return 0;
        }
        if (!cJSON_IsNumber(v)) {
                show(v, shown, sizeof(shown));
                return nf_fail(e, 400, "invalid_type", field, "%s: expected a number, got %s", field, shown);
        }
        if (!isfinite(v->valuedouble) || v->valuedouble < lo || v->valuedouble > hi)
                return nf_fail(e, 400, "out_of_range", field, "%s: %.10g is out of range %g..%g", field, v->valuedouble, lo,
                               hi);
        /* -0 is 0: echoing "-0" back would only puzzle whoever reads the fault. */
        *out = v->valuedouble == 0 ? 0 : v->valuedouble;
        return 0;
}

static int get_integer(const cJSON *obj, const char *prefix, const char *key, bool required, double lo, double hi,
                       uint64_t *out, bool *present, struct nf_err *e) {
        double d = 0;
        bool p = false;
        if (get_number(obj, prefix, key, required, lo, hi, &d, &p, e) < 0)
                return -1;
        if (present)
                *present = p;
        if (!p)
                return 0;
        if (d != floor(d)) {
                char field[96];
                snprintf(field, sizeof(field), "%s%s", prefix, key);
                return nf_fail(e, 400, "invalid_type", field, "%s: expected a whole number, got %.10g", field, d);
        }
        *out = (uint64_t)d;
        return 0;
}

static const cJSON *get_object(const cJSON *root, const char *key, struct nf_err *e, int *bad) {
        char shown[96];
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, key);
        *bad = 0;
        if (v && !cJSON_IsObject(v)) {
                show(v, shown, sizeof(shown));
                *bad = nf_fail(e, 400, "invalid_type", key, "%s: expected an object, got %s", key, shown);
                return NULL;
        }
        return v;
}

/* A list of addresses and CIDRs; for targets, also hostnames and aws: selections (names). */
static int parse_prefix_list(const cJSON *root, const char *key, bool required, size_t max, struct nf_prefix **out,
                             size_t *n, char (**names)[NF_TARGET_NAME_LEN], size_t *n_names, struct nf_err *e) {
        const cJSON *arr = cJSON_GetObjectItemCaseSensitive(root, key), *it;
        char shown[96], field[96];
        size_t i = 0, count;

        *out = NULL;
        *n = 0;
        if (!arr) {
                if (required)
                        return nf_fail(e, 400, "missing_field", key,
                                       "%s is required: a list of IPv4/IPv6 addresses, CIDRs, hostnames or aws:SERVICE", key);
                return 0;
        }
        if (!cJSON_IsArray(arr)) {
                show(arr, shown, sizeof(shown));
                return nf_fail(e, 400, "invalid_type", key, "%s: expected an array, got %s", key, shown);
        }
        count = (size_t)cJSON_GetArraySize(arr);
        if (required && count == 0)
                return nf_fail(e, 400, "out_of_range", key, "%s: give at least one address or CIDR", key);
        if (count > max)
                return nf_fail(e, 400, "too_many", key, "%s: %zu entries, at most %zu", key, count, max);
        if (count == 0)
                return 0;
        *out = calloc(count, sizeof(**out));
        if (!*out)
                return nf_fail(e, 500, "internal", key, "out of memory");
        cJSON_ArrayForEach(it, arr) {
                snprintf(field, sizeof(field), "%s[%zu]", key, i);
                bool ok = cJSON_IsString(it) && nf_prefix_parse(it->valuestring, &(*out)[*n]) == 0;
                if (ok) {
                        (*n)++;
                } else if (names && cJSON_IsString(it) &&
                           ((strncmp(it->valuestring, "aws:", 4) == 0 && strlen(it->valuestring) > 4) ||
                            nf_is_hostname(it->valuestring))) {
                        if (*n_names >= NF_MAX_TARGET_NAMES) {
                                free(*out);
                                *out = NULL;
                                return nf_fail(e, 400, "too_many", field, "%s: at most %d hostnames and aws: selections",
                                               field, NF_MAX_TARGET_NAMES);
                        }
                        if (!*names && !(*names = calloc(NF_MAX_TARGET_NAMES, NF_TARGET_NAME_LEN))) {
                                free(*out);
                                *out = NULL;
                                return nf_fail(e, 500, "internal", key, "out of memory");
                        }
                        snprintf((*names)[(*n_names)++], NF_TARGET_NAME_LEN, "%s", it->valuestring);
                } else {
                        show(it, shown, sizeof(shown));
                        free(*out);
                        *out = NULL;
                        return nf_fail(e, 400, "invalid_address", field, "%s: %s is not an IPv4/IPv6 address or CIDR%s",
                                       field, shown, names ? ", a hostname or aws:SERVICE[:region]" : "");
                }
                i++;
        }
        nf_prefix_set_normalize(*out, n);
        return 0;
}

static int parse_port_string(const char *s, struct nf_port_range *r) {
        char *end;
        long lo, hi;
        if (!isdigit((unsigned char)s[0]))
                return -1;
        lo = strtol(s, &end, 10);
        if (*end == '\0') {
                hi = lo;
        } else if (*end == '-' && isdigit((unsigned char)end[1])) {
                hi = strtol(end + 1, &end, 10);
                if (*end)
                        return -1;
        } else {
                return -1;
        }
        if (lo < 1 || hi > 65535 || lo > hi)
                return -1;
        r->lo = (uint16_t)lo;
        r->hi = (uint16_t)hi;
        return 0;
}

/* "ports" (the peer's) and "local_ports" (ours) share one shape. */
static int parse_ports(const cJSON *root, const char *key, struct nf_port_range *out, size_t *n, struct nf_err *e) {
        const cJSON *arr = cJSON_GetObjectItemCaseSensitive(root, key), *it;
        char shown[96], field[48];
        size_t i = 0;
        if (!arr)
                return 0;
        if (!cJSON_IsArray(arr)) {
                show(arr, shown, sizeof(shown));
                return nf_fail(e, 400, "invalid_type", key, "%s: expected an array, got %s", key, shown);
        }
        if (cJSON_GetArraySize(arr) == 0 || cJSON_GetArraySize(arr) > NF_MAX_PORTS)
                return nf_fail(e, 400, "out_of_range", key, "%s: give 1 to %d ports or ranges", key, NF_MAX_PORTS);
        cJSON_ArrayForEach(it, arr) {
                struct nf_port_range r;
                snprintf(field, sizeof(field), "%s[%zu]", key, i);
                if (cJSON_IsNumber(it) && it->valuedouble == floor(it->valuedouble) && it->valuedouble >= 1 &&
                    it->valuedouble <= 65535) {
                        r.lo = r.hi = (uint16_t)it->valuedouble;
                } else if (!cJSON_IsString(it) || parse_port_string(it->valuestring, &r) < 0) {
                        show(it, shown, sizeof(shown));
                        return nf_fail(e, 400, "invalid_port", field,
                                       "%s: %s is not a port (1-65535) or a range \"lo-hi\" with lo <= hi", field, shown);
                }
                out[i++] = r;
        }
        *n = i;
        return 0;
}

static bool valid_ifname(const char *n) {
        size_t len = strlen(n);
        if (len == 0 || len >= IF_NAMESIZE || strcmp(n, ".") == 0 || strcmp(n, "..") == 0)
                return false;
        for (const char *c = n; *c; c++)
                if (*c == '/' || *c == ':' || isspace((unsigned char)*c) || !isprint((unsigned char)*c))
                        return false;
        return true;
}

static int parse_interfaces(const cJSON *root, struct nf_spec *s, struct nf_err *e) {
        const cJSON *arr = cJSON_GetObjectItemCaseSensitive(root, "interfaces"), *it;
        char shown[96], field[48];
        size_t i = 0;
        if (!arr)
                return 0;
        if (!cJSON_IsArray(arr)) {
                show(arr, shown, sizeof(shown));
                return nf_fail(e, 400, "invalid_type", "interfaces", "interfaces: expected an array, got %s", shown);
        }
        if (cJSON_GetArraySize(arr) == 0 || cJSON_GetArraySize(arr) > NF_MAX_IFACES)
                return nf_fail(e, 400, "out_of_range", "interfaces",
                               "interfaces: give 1 to %d names, or leave it out for every interface with a default route",
                               NF_MAX_IFACES);
        cJSON_ArrayForEach(it, arr) {
                snprintf(field, sizeof(field), "interfaces[%zu]", i);
                if (!cJSON_IsString(it) || !valid_ifname(it->valuestring)) {
                        show(it, shown, sizeof(shown));
                        return nf_fail(e, 400, "invalid_interface", field, "%s: %s is not an interface name", field, shown);
                }
                for (size_t j = 0; j < i; j++)
                        if (strcmp(s->ifnames[j], it->valuestring) == 0)
                                return nf_fail(e, 400, "duplicate", field, "%s: '%s' is listed twice", field,
                                               it->valuestring);
                snprintf(s->ifnames[i++], IF_NAMESIZE, "%s", it->valuestring);
        }
        s->n_ifnames = i;
        return 0;
}

static int parse_enum(const cJSON *root, const char *key, const char *const *names, int n, int *out, struct nf_err *e) {
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, key);
        char shown[96], list[128] = "";
        if (!v)
                return 0;
        for (int i = 0; i < n; i++) {
                /* An empty name holds a place in the enum (direction 0) and is never a choice. */
                if (!names[i][0])
                        continue;
                if (cJSON_IsString(v) && strcmp(v->valuestring, names[i]) == 0) {
                        *out = i;
                        return 0;
                }
                snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s%s", list[0] ? ", " : "", names[i]);
        }
        show(v, shown, sizeof(shown));
        return nf_fail(e, 400, "invalid_value", key, "%s: %s is not one of %s", key, shown, list);
}

/* {percent, correlation} effects: loss, duplicate, corrupt, and reorder (+gap). */
static int parse_pct_effect(const cJSON *root, const char *key, bool *has, double *pct, double *corr, struct nf_err *e) {
        static const char *const keys[] = {"percent", "correlation", NULL};
        static const char *const keys_reorder[] = {"percent", "correlation", "gap", NULL};
        char prefix[32];
        int bad;
        const cJSON *o = get_object(root, key, e, &bad);
        if (bad)
                return -1;
        if (!o)
                return 0;
        snprintf(prefix, sizeof(prefix), "%s.", key);
        if (check_keys(o, prefix, strcmp(key, "reorder") == 0 ? keys_reorder : keys, e) < 0 ||
            get_number(o, prefix, "percent", true, 0, 100, pct, NULL, e) < 0 ||
            get_number(o, prefix, "correlation", false, 0, 100, corr, NULL, e) < 0)
                return -1;
        *has = true;
        return 0;
}

static int parse_effects(const cJSON *root, struct nf_effects *fx, struct nf_err *e) {
        static const char *const delay_keys[] = {"ms", "jitter_ms", "correlation", "distribution", NULL};
        static const char *const dist_names[] = {"uniform", "normal", "pareto", "paretonormal"};
        static const char *const rate_keys[] = {"kbit", NULL};
        const cJSON *o, *v;
        int bad;
        uint64_t u = 0;

        if ((o = get_object(root, "delay", e, &bad))) {
                if (check_keys(o, "delay.", delay_keys, e) < 0 ||
                    get_number(o, "delay.", "ms", true, 0, MAX_DELAY_MS, &fx->delay_ms, NULL, e) < 0 ||
                    get_number(o, "delay.", "jitter_ms", false, 0, MAX_JITTER_MS, &fx->jitter_ms, NULL, e) < 0 ||
                    get_number(o, "delay.", "correlation", false, 0, 100, &fx->delay_corr, NULL, e) < 0)
                        return -1;
                if (cJSON_GetObjectItemCaseSensitive(o, "distribution")) {
                        int d = 0;
                        struct nf_err sub;
                        if (parse_enum(o, "distribution", dist_names, NF_DIST_COUNT, &d, &sub) < 0) {
                                return nf_fail(e, 400, sub.code, "delay.distribution", "delay.%s", sub.message);
                        }
                        fx->dist = (enum nf_dist)d;
                        fx->has_dist = true;
                }
                fx->has_delay = true;
        } else if (bad) {
                return -1;
        }
        if (parse_pct_effect(root, "loss", &fx->has_loss, &fx->loss_pct, &fx->loss_corr, e) < 0 ||
            parse_pct_effect(root, "duplicate", &fx->has_duplicate, &fx->dup_pct, &fx->dup_corr, e) < 0 ||
            parse_pct_effect(root, "corrupt", &fx->has_corrupt, &fx->corrupt_pct, &fx->corrupt_corr, e) < 0 ||
            parse_pct_effect(root, "reorder", &fx->has_reorder, &fx->reorder_pct, &fx->reorder_corr, e) < 0)
                return -1;
        if (fx->has_reorder) {
                const cJSON *ro = cJSON_GetObjectItemCaseSensitive(root, "reorder");
                if (get_integer(ro, "reorder.", "gap", false, 0, MAX_GAP, &u, NULL, e) < 0)
                        return -1;
                fx->reorder_gap = (uint32_t)u;
        }
        if ((o = get_object(root, "rate", e, &bad))) {
                if (check_keys(o, "rate.", rate_keys, e) < 0 ||
                    get_integer(o, "rate.", "kbit", true, 1, (double)MAX_RATE_KBIT, &fx->rate_kbit, NULL, e) < 0)
                        return -1;
                fx->has_rate = true;
        } else if (bad) {
                return -1;
        }
        if (get_integer(root, "", "limit", false, 1, MAX_LIMIT, &u, &fx->has_limit, e) < 0)
                return -1;
        fx->limit = (uint32_t)u;
        if ((v = cJSON_GetObjectItemCaseSensitive(root, "blackhole"))) {
                char shown[96];
                if (!cJSON_IsBool(v)) {
                        show(v, shown, sizeof(shown));
                        return nf_fail(e, 400, "invalid_type", "blackhole", "blackhole: expected true or false, got %s",
                                       shown);
                }
                fx->blackhole = cJSON_IsTrue(v);
        }
        return 0;
}

/* Rules that span fields. */
static int cross_check(const struct nf_spec *s, struct nf_err *e) {
        const struct nf_effects *fx = &s->fx;
        bool shaped = fx->has_delay || fx->has_loss || fx->has_duplicate || fx->has_corrupt || fx->has_reorder ||
                      fx->has_rate || fx->has_limit;
        if (fx->blackhole && shaped)
                return nf_fail(e, 400, "conflict", "blackhole",
                               "blackhole: true drops everything matched and cannot be combined with delay, loss, "
                               "duplicate, corrupt, reorder, rate or limit");
        if (!fx->blackhole && !shaped)
                return nf_fail(e, 400, "missing_field", "delay",
                               "no effect given: add delay, loss, duplicate, corrupt, reorder, rate, limit or "
                               "\"blackhole\": true");
        if (fx->has_reorder && !(fx->has_delay && fx->delay_ms > 0))
                return nf_fail(e, 400, "conflict", "reorder",
                               "reorder needs a delay above 0 ms: reordered packets are the ones sent without it");
        if (fx->has_dist && fx->dist != NF_DIST_UNIFORM && fx->jitter_ms <= 0)
                return nf_fail(e, 400, "conflict", "delay.distribution",
                               "delay.distribution: '%s' shapes the jitter, so delay.jitter_ms must be above 0",
                               nf_dist_name(fx->dist));
        if ((s->n_ports || s->n_local_ports) && s->proto != NF_PROTO_TCP && s->proto != NF_PROTO_UDP) {
                const char *f = s->n_ports ? "ports" : "local_ports";
                return nf_fail(e, 400, "conflict", f, "%s: need \"protocol\": \"tcp\" or \"udp\" (protocol is '%s')", f,
                               nf_proto_name(s->proto));
        }
        if (s->lease_s > s->duration_s)
                return nf_fail(e, 400, "conflict", "lease_s", "lease_s: %u is longer than duration_s %u", s->lease_s,
                               s->duration_s);
        return 0;
}

static int depth_of(const cJSON *item, int d) {
        int max = d;
        const cJSON *c;
        cJSON_ArrayForEach(c, item) {
                int cd = depth_of(c, d + 1);
                if (cd > max)
                        max = cd;
                if (max > NF_MAX_JSON_DEPTH)
                        break;
        }
        return max;
}

int nf_json_depth(const cJSON *item) {
        return depth_of(item, 1);
}

static int cmp_key(const void *a, const void *b) {
        return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/* cJSON keeps every member of an object and lookups return the first, so {"ms":1,"ms":500}
 * would silently mean 1. A key given twice is refused, in every object of the body. Sorting
 * the keys keeps a body with thousands of members linear-logarithmic. */
static int check_duplicates(const cJSON *item, const char *path, struct nf_err *e) {
        const cJSON *c;
        size_t n = 0, i = 0;
        char field[96];
        if (cJSON_IsObject(item)) {
                cJSON_ArrayForEach(c, item) n++;
                if (n > 1) {
                        const char **keys = malloc(n * sizeof(*keys));
                        if (!keys)
                                return nf_fail(e, 500, "internal", NULL, "out of memory");
                        cJSON_ArrayForEach(c, item) keys[i++] = c->string;
                        qsort(keys, n, sizeof(*keys), cmp_key);
                        for (i = 1; i < n && strcmp(keys[i - 1], keys[i]) != 0; i++)
                                ;
                        if (i < n) {
                                snprintf(field, sizeof(field), "%s%s%.60s", path, path[0] ? "." : "", keys[i]);
                                free(keys);
                                return nf_fail(e, 400, "duplicate_field", field,
                                               "%s: given more than once (each key may appear once per object)", field);
                        }
                        free(keys);
                }
        }
        i = 0;
        cJSON_ArrayForEach(c, item) {
                if (cJSON_IsObject(item))
                        snprintf(field, sizeof(field), "%s%s%.60s", path, path[0] ? "." : "", c->string);
                else
                        snprintf(field, sizeof(field), "%s[%zu]", path, i);
                if ((cJSON_IsObject(c) || cJSON_IsArray(c)) && check_duplicates(c, field, e) < 0)
                        return -1;
                i++;
        }
        return 0;
}

int nf_validate_fault(const cJSON *root, const struct nf_validate_limits *lim, struct nf_spec *s, struct nf_err *e) {
        static const char *const keys[] = {"targets", "exclude", "protocol", "ports",   "interfaces", "direction",
                                           "delay",   "loss",    "duplicate", "corrupt", "reorder",   "rate",
                                           "limit",   "blackhole", "name",    "duration_s", "local_ports", "lease_s",
                                           "allow_control_plane", NULL};
        static const char *const proto_names[] = {"all", "tcp", "udp", "icmp"};
        static const char *const dir_names[] = {"", "egress", "ingress", "both"};
        const cJSON *v;
        uint64_t dur = 0;
        bool has_dur = false;
        int p = 0, d = 1;

        *s = (struct nf_spec){.direction = NF_DIR_EGRESS};
        if (!cJSON_IsObject(root))
                return nf_fail(e, 400, "invalid_body", NULL, "the body must be a JSON object");
        if (nf_json_depth(root) > NF_MAX_JSON_DEPTH)
                return nf_fail(e, 400, "invalid_body", NULL, "the body nests deeper than %d levels", NF_MAX_JSON_DEPTH);
        if (check_duplicates(root, "", e) < 0 || check_keys(root, "", keys, e) < 0)
                return -1;
        if (parse_enum(root, "protocol", proto_names, 4, &p, e) < 0)
                return -1;
        s->proto = (enum nf_proto)p;
        if (parse_enum(root, "direction", dir_names, 4, &d, e) < 0)
                return -1;
        s->direction = (enum nf_direction)d;
        if ((v = cJSON_GetObjectItemCaseSensitive(root, "name"))) {
                char shown[96];
                bool ok = cJSON_IsString(v) && strlen(v->valuestring) <= NF_MAX_NAME;
                for (const char *c = ok ? v->valuestring : ""; *c && ok; c++)
                        ok = isprint((unsigned char)*c) || (unsigned char)*c >= 0x80;
                if (!ok) {
                        show(v, shown, sizeof(shown));
                        return nf_fail(e, 400, "invalid_value", "name", "name: %s is not a printable string of at most %d bytes",
                                       shown, NF_MAX_NAME);
                }
                snprintf(s->name, sizeof(s->name), "%s", v->valuestring);
        }
        if (get_integer(root, "", "duration_s", false, 1, lim->max_duration_s, &dur, &has_dur, e) < 0)
                return -1;
        s->duration_s = has_dur ? (uint32_t)dur : lim->default_duration_s;
        if (get_integer(root, "", "lease_s", false, 1, lim->max_duration_s, &dur, &has_dur, e) < 0)
                return -1;
        s->lease_s = has_dur ? (uint32_t)dur : 0;
        if ((v = cJSON_GetObjectItemCaseSensitive(root, "allow_control_plane"))) {
                char shown[96];
                if (!cJSON_IsBool(v)) {
                        show(v, shown, sizeof(shown));
                        return nf_fail(e, 400, "invalid_type", "allow_control_plane",
                                       "allow_control_plane: expected true or false, got %s", shown);
                }
                s->allow_control_plane = cJSON_IsTrue(v);
        }
        if (parse_ports(root, "ports", s->ports, &s->n_ports, e) < 0 ||
            parse_ports(root, "local_ports", s->local_ports, &s->n_local_ports, e) < 0 || parse_interfaces(root, s, e) < 0 || parse_effects(root, &s->fx, e) < 0 ||
            cross_check(s, e) < 0)
                return -1;
        /* Addresses last: they allocate. */
        if (parse_prefix_list(root, "targets", true, NF_MAX_TARGETS, &s->targets, &s->n_targets, &s->target_names,
                              &s->n_target_names, e) < 0) {
                nf_spec_free(s);
                return -1;
        }
        if (parse_prefix_list(root, "exclude", false, NF_MAX_EXCLUDES, &s->exclude, &s->n_exclude, NULL, NULL, e) < 0) {
                nf_spec_free(s);
                return -1;
        }
        return 0;
}

/* RFC 8259 UTF-8: no overlong forms, no surrogates, nothing above U+10FFFF. Returns the offset
 * of the first bad byte, or len. */
static size_t utf8_bad_at(const unsigned char *p, size_t len) {
        size_t i = 0;
        while (i < len) {
                unsigned char c = p[i];
                size_t n;
                unsigned char lo = 0x80, hi = 0xbf;
                if (c < 0x80) {
                        i++;
                        continue;
                } else if (c >= 0xc2 && c <= 0xdf) {
                        n = 1;
                } else if (c >= 0xe0 && c <= 0xef) {
                        n = 2;
                        if (c == 0xe0)
                                lo = 0xa0;
                        else if (c == 0xed)
                                hi = 0x9f;
                } else if (c >= 0xf0 && c <= 0xf4) {
                        n = 3;
                        if (c == 0xf0)
                                lo = 0x90;
                        else if (c == 0xf4)
                                hi = 0x8f;
                } else {
                        return i;
                }
                if (i + n >= len) /* cut short by the end of the body */
                        return i;
                if (p[i + 1] < lo || p[i + 1] > hi)
                        return i;
                for (size_t k = 2; k <= n; k++)
                        if (p[i + k] < 0x80 || p[i + k] > 0xbf)
                                return i;
                i += n + 1;
        }
        return len;
}

static bool json_space(char c) {
        return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

cJSON *nf_json_parse_strict(const char *body, size_t len, struct nf_err *e) {
        const char *end = NULL;
        size_t at;
        cJSON *root;

        /* A raw NUL would end every C string early ("10.0.0.1\0zzz" read as 10.0.0.1); JSON
         * allows no raw control character at all, and cJSON would take them as whitespace. */
        for (at = 0; at < len; at++) {
                unsigned char c = (unsigned char)body[at];
                if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') {
                        nf_fail(e, 400, "invalid_json", NULL,
                                "the body has a raw control byte 0x%02x at byte %zu (JSON needs it escaped, and "
                                "no field takes it)", c, at);
                        return NULL;
                }
        }
        /* Whatever we echo back (a name) must be valid UTF-8, and JSON text is UTF-8. */
        if ((at = utf8_bad_at((const unsigned char *)body, len)) < len) {
                nf_fail(e, 400, "invalid_json", NULL, "the body is not valid UTF-8 (byte %zu is 0x%02x)", at,
                        (unsigned char)body[at]);
                return NULL;
        }
        root = cJSON_ParseWithLengthOpts(len ? body : "", len, &end, false);
        if (!root) {
                const char *bad = cJSON_GetErrorPtr();
                at = bad && bad >= body && bad <= body + len ? (size_t)(bad - body) : 0;
                nf_fail(e, 400, "invalid_json", NULL, "the body is not valid JSON (near byte %zu)", at);
                return NULL;
        }
        /* Exactly one value: trailing bytes (a second object, garbage) are refused, not ignored. */
        at = end && end >= body && end <= body + len ? (size_t)(end - body) : len;
        while (at < len && json_space(body[at]))
                at++;
        if (at < len) {
                cJSON_Delete(root);
                nf_fail(e, 400, "invalid_json", NULL, "the body has data after the JSON value, at byte %zu", at);
                return NULL;
        }
        /* cJSON turns \u0000 into a NUL that ends the string early: refuse it like a raw NUL.
         * The body parsed, so strings and escapes are well formed here. */
        bool in_str = false;
        for (at = 0; at < len; at++) {
                if (!in_str) {
                        in_str = body[at] == '"';
                } else if (body[at] == '"') {
                        in_str = false;
                } else if (body[at] == '\\') {
                        if (at + 5 < len && body[at + 1] == 'u' && memcmp(body + at + 2, "0000", 4) == 0) {
                                cJSON_Delete(root);
                                nf_fail(e, 400, "invalid_json", NULL,
                                        "the body has \\u0000 at byte %zu: no field takes a NUL character", at);
                                return NULL;
                        }
                        at++; /* the escaped character, whatever it is */
                }
        }
        return root;
}

/* One query parameter, percent-decoded into out (NUL-terminated); -1 if an escape is broken or
 * decodes to anything but printable ASCII. */
static int query_decode(const char *s, size_t n, char *out, size_t outlen) {
        size_t o = 0;
        for (size_t i = 0; i < n; i++) {
                unsigned c = (unsigned char)s[i];
                if (c == '%') {
                        unsigned v;
                        if (i + 2 >= n)
                                return -1;
                        if (!isxdigit((unsigned char)s[i + 1]) || !isxdigit((unsigned char)s[i + 2]) ||
                            sscanf(s + i + 1, "%2x", &v) != 1)
                                return -1;
                        c = v;
                        i += 2;
                } else if (c == '+') {
                        c = ' ';
                }
                if (c < 0x20 || c >= 0x7f) /* names and values we take are ASCII words */
                        return -1;
                if (o + 1 >= outlen)
                        return -1;
                out[o++] = (char)c;
        }
        out[o] = '\0';
        return 0;
}

/* A query value for a message: printable ASCII as is, anything else as \xNN, so that the reply
 * stays valid UTF-8 whatever was sent. */
static void show_raw(const char *s, size_t n, char *buf, size_t len) {
        size_t o = 0;
        for (size_t i = 0; i < n && o + 5 < len; i++) {
                unsigned char c = (unsigned char)s[i];
                if (i == 60) {
                        o += (size_t)snprintf(buf + o, len - o, "...");
                        break;
                }
                if (c >= 0x20 && c < 0x7f && c != '\'')
                        buf[o++] = (char)c;
                else
                        o += (size_t)snprintf(buf + o, len - o, "\\x%02x", c);
        }
        buf[o < len ? o : len - 1] = '\0';
}

int nf_query_parse(const char *query, unsigned allowed, struct nf_query *q, struct nf_err *e) {
        static const struct {
                const char *name;
                unsigned bit;
        } known[] = {{"dry_run", NF_QUERY_DRY_RUN}};
        unsigned seen = 0;
        const char *p = query;

        *q = (struct nf_query){0};
        if (!query || !*query)
                return 0;
        for (;;) {
                size_t n = strcspn(p, "&"), kn = strcspn(p, "=");
                char key[64], val[64], shown[300];
                bool has_val = kn < n;
                int which = -1;
                if (!has_val)
                        kn = n;
                show_raw(p, n, shown, sizeof(shown));
                if (n == 0)
                        return nf_fail(e, 400, "invalid_query", NULL, "the query string has an empty parameter (a stray '&')");
                if (query_decode(p, kn, key, sizeof(key)) < 0)
                        return nf_fail(e, 400, "invalid_query", NULL, "query parameter '%s' is not a parameter name", shown);
                for (size_t i = 0; i < sizeof(known) / sizeof(*known); i++)
                        if (strcmp(key, known[i].name) == 0 && (allowed & known[i].bit))
                                which = (int)i;
                if (which < 0)
                        return nf_fail(e, 400, "invalid_query", key[0] ? key : NULL,
                                       "query parameter '%s' is not known here%s", shown,
                                       allowed & NF_QUERY_DRY_RUN ? " (this route takes dry_run=true|false)"
                                                                  : " (this route takes no parameters)");
                if (seen & known[which].bit)
                        return nf_fail(e, 400, "invalid_query", key,
                                       "query parameter %s is given more than once ('%s' again): say it once", key, shown);
                seen |= known[which].bit;
                /* Booleans are exactly true/false (or 1/0): anything else might be meant either
                 * way, and guessing "no" here would run a real apply. */
                if (!has_val || query_decode(p + kn + 1, n - kn - 1, val, sizeof(val)) < 0 ||
                    (strcmp(val, "true") != 0 && strcmp(val, "1") != 0 && strcmp(val, "false") != 0 &&
                     strcmp(val, "0") != 0))
                        return nf_fail(e, 400, "invalid_query", key,
                                       "query parameter '%s': %s needs a value of true or false (or 1 or 0)", shown, key);
                if (known[which].bit == NF_QUERY_DRY_RUN)
                        q->dry_run = strcmp(val, "true") == 0 || strcmp(val, "1") == 0;
                if (!p[n])
                        return 0;
                p += n + 1;
        }
}
