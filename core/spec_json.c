#include "core/spec_json.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "core/effects_json.h"
#include "core/guard.h"
#include "core/spec_fields.h"
#include "netem/encode.h"

/* The list at key: 1 with *arr set, 0 when it is absent, -1 (e filled) when it is not a list. */
static int get_array(const cJSON *root, const char *key, const cJSON **arr, struct nf_err *e) {
        char shown[96];
        *arr = cJSON_GetObjectItemCaseSensitive(root, key);
        if (!*arr)
                return 0;
        if (!cJSON_IsArray(*arr)) {
                nf_json_show(*arr, shown, sizeof(shown));
                return nf_fail(e, NF_ERR_INVALID, "invalid_type", key, "%s: expected an array, got %s", key, shown);
        }
        return 1;
}

/* A list of addresses and CIDRs; for targets, also hostnames and aws: selections (names). */
static int parse_prefix_list(const cJSON *root, const char *key, bool required, size_t max, struct nf_prefix **out,
                             size_t *n, char (**names)[NF_TARGET_NAME_LEN], size_t *n_names, struct nf_err *e) {
        const cJSON *arr, *it;
        char shown[96], field[96];
        size_t i = 0, count;
        int has;

        *out = NULL;
        *n = 0;
        if ((has = get_array(root, key, &arr, e)) <= 0) {
                if (has == 0 && required)
                        return nf_fail(e, NF_ERR_INVALID, "missing_field", key,
                                       "%s is required: a list of IPv4/IPv6 addresses, CIDRs, hostnames or aws:SERVICE", key);
                return has;
        }
        count = (size_t)cJSON_GetArraySize(arr);
        if (required && count == 0)
                return nf_fail(e, NF_ERR_INVALID, "out_of_range", key, "%s: give at least one address or CIDR", key);
        if (count > max)
                return nf_fail(e, NF_ERR_INVALID, "too_many", key, "%s: %zu entries, at most %zu", key, count, max);
        if (count == 0)
                return 0;
        *out = calloc(count, sizeof(**out));
        if (!*out)
                return nf_fail(e, NF_ERR_INTERNAL, "internal", key, "out of memory");
        cJSON_ArrayForEach(it, arr) {
                bool ok = cJSON_IsString(it) && nf_prefix_parse(it->valuestring, &(*out)[*n]) == 0;
                if (ok) {
                        (*n)++;
                        i++;
                        continue;
                }
                /* The field is named only when it is refused or kept as a name: a printf per
                 * entry was a third of validating 10,000 targets. */
                snprintf(field, sizeof(field), "%s[%zu]", key, i);
                if (names && cJSON_IsString(it) &&
                    ((strncmp(it->valuestring, "aws:", 4) == 0 && strlen(it->valuestring) > 4) ||
                     nf_is_hostname(it->valuestring))) {
                        if (*n_names >= NF_MAX_TARGET_NAMES) {
                                free(*out);
                                *out = NULL;
                                return nf_fail(e, NF_ERR_INVALID, "too_many", field, "%s: at most %d hostnames and aws: selections",
                                               field, NF_MAX_TARGET_NAMES);
                        }
                        if (!*names && !(*names = calloc(NF_MAX_TARGET_NAMES, NF_TARGET_NAME_LEN))) {
                                free(*out);
                                *out = NULL;
                                return nf_fail(e, NF_ERR_INTERNAL, "internal", key, "out of memory");
                        }
                        snprintf((*names)[(*n_names)++], NF_TARGET_NAME_LEN, "%s", it->valuestring);
                } else {
                        nf_json_show(it, shown, sizeof(shown));
                        free(*out);
                        *out = NULL;
                        return nf_fail(e, NF_ERR_INVALID, "invalid_address", field, "%s: %s is not an IPv4/IPv6 address or CIDR%s",
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
        const cJSON *arr, *it;
        char shown[96], field[48];
        size_t i = 0;
        int has = get_array(root, key, &arr, e);
        if (has <= 0)
                return has;
        if (cJSON_GetArraySize(arr) == 0 || cJSON_GetArraySize(arr) > NF_MAX_PORTS)
                return nf_fail(e, NF_ERR_INVALID, "out_of_range", key, "%s: give 1 to %d ports or ranges", key, NF_MAX_PORTS);
        cJSON_ArrayForEach(it, arr) {
                struct nf_port_range r;
                snprintf(field, sizeof(field), "%s[%zu]", key, i);
                if (cJSON_IsNumber(it) && it->valuedouble == floor(it->valuedouble) && it->valuedouble >= 1 &&
                    it->valuedouble <= 65535) {
                        r.lo = r.hi = (uint16_t)it->valuedouble;
                } else if (!cJSON_IsString(it) || parse_port_string(it->valuestring, &r) < 0) {
                        nf_json_show(it, shown, sizeof(shown));
                        return nf_fail(e, NF_ERR_INVALID, "invalid_port", field,
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
        const cJSON *arr, *it;
        char shown[96], field[48];
        size_t i = 0;
        int has = get_array(root, "interfaces", &arr, e);
        if (has <= 0)
                return has;
        if (cJSON_GetArraySize(arr) == 0 || cJSON_GetArraySize(arr) > NF_MAX_IFACES)
                return nf_fail(e, NF_ERR_INVALID, "out_of_range", "interfaces",
                               "interfaces: give 1 to %d names, or leave it out for every interface with a default route",
                               NF_MAX_IFACES);
        cJSON_ArrayForEach(it, arr) {
                snprintf(field, sizeof(field), "interfaces[%zu]", i);
                if (!cJSON_IsString(it) || !valid_ifname(it->valuestring)) {
                        nf_json_show(it, shown, sizeof(shown));
                        return nf_fail(e, NF_ERR_INVALID, "invalid_interface", field, "%s: %s is not an interface name", field, shown);
                }
                for (size_t j = 0; j < i; j++)
                        if (strcmp(s->ifnames[j], it->valuestring) == 0)
                                return nf_fail(e, NF_ERR_INVALID, "duplicate", field, "%s: '%s' is listed twice", field,
                                               it->valuestring);
                snprintf(s->ifnames[i++], IF_NAMESIZE, "%s", it->valuestring);
        }
        s->n_ifnames = i;
        return 0;
}

/* "netns": exactly one of pod_uid, container_id (a unique prefix of at least 12 characters),
 * pid, path, or host (true: the daemon's own namespace, said explicitly). */
static const char *const netns_members[] = {"pod_uid", "container_id", "pid", "path", "host", NULL};

static int bad_netns(const cJSON *v, const char *field, const char *what, struct nf_err *e) {
        char shown[96];
        nf_json_show(v, shown, sizeof(shown));
        return nf_fail(e, NF_ERR_INVALID, "invalid_value", field, "%s: %s is not %s", field, shown, what);
}

static bool chars_in(const char *s, const char *set) {
        for (; *s; s++)
                if (!strchr(set, *s))
                        return false;
        return true;
}

static int parse_netns(const cJSON *root, struct nf_netns_sel *out, struct nf_err *e) {
        const cJSON *ns = cJSON_GetObjectItemCaseSensitive(root, "netns"), *v = NULL;
        const char *key = NULL;
        *out = (struct nf_netns_sel){.kind = NF_NETNS_SELF};
        if (!ns)
                return 0;
        if (!cJSON_IsObject(ns))
                return bad_netns(ns, "netns", "an object with one of pod_uid, container_id, pid, path or host", e);
        if (nf_json_check_keys(ns, "netns", netns_members, NULL, e) < 0)
                return -1;
        if (cJSON_GetArraySize(ns) != 1)
                return nf_fail(e, NF_ERR_INVALID, "invalid_value", "netns",
                               "netns: give exactly one of pod_uid, container_id, pid, path or host (%d given)",
                               cJSON_GetArraySize(ns));
        v = ns->child;
        key = v->string;
        char field[32];
        snprintf(field, sizeof(field), "netns.%s", key);
        if (strcmp(key, "host") == 0) {
                if (!cJSON_IsTrue(v))
                        return bad_netns(v, field, "true (leave netns out for the daemon's own namespace)", e);
                out->kind = NF_NETNS_HOST;
                return 0;
        }
        if (strcmp(key, "pid") == 0) {
                uint64_t pid;
                if (nf_json_integer(v, field, 1, 4194304, &pid, e) < 0)
                        return -1;
                out->kind = NF_NETNS_PID;
                out->pid = (int32_t)pid;
                return 0;
        }
        if (!cJSON_IsString(v))
                return bad_netns(v, field, "a string", e);
        const char *s = v->valuestring;
        size_t n = strlen(s);
        if (strcmp(key, "pod_uid") == 0) {
                if (n < 8 || n > 64 || !chars_in(s, "0123456789abcdef-"))
                        return bad_netns(v, field, "a pod uid (lowercase hex and dashes, as kubectl get pod -o "
                                                   "jsonpath='{.metadata.uid}' shows it)", e);
                out->kind = NF_NETNS_POD;
        } else if (strcmp(key, "container_id") == 0) {
                /* crictl and docker show ids with their runtime's scheme: containerd://3f9a… */
                const char *sep = strstr(s, "://");
                if (sep) {
                        s = sep + 3;
                        n = strlen(s);
                }
                if (n < 12 || n > 64 || !chars_in(s, "0123456789abcdef"))
                        return bad_netns(v, field, "a container id or a prefix of it of at least 12 lowercase hex characters", e);
                out->kind = NF_NETNS_CONTAINER;
        } else {
                bool ok = s[0] == '/' && n < NF_NETNS_NAME_LEN && !strstr(s, "/../") && strcmp(s + (n >= 3 ? n - 3 : 0), "/..");
                for (const char *c = s; *c && ok; c++)
                        ok = isprint((unsigned char)*c);
                if (!ok)
                        return bad_netns(v, field, "an absolute path (of at most 127 printable bytes) to a network namespace file", e);
                out->kind = NF_NETNS_PATH;
        }
        snprintf(out->name, sizeof(out->name), "%s", s);
        return 0;
}

/* Rules that span fields. */
static int cross_check(const struct nf_spec *s, struct nf_err *e) {
        if (nf_effects_check(&s->fx, e) < 0)
                return -1;
        if ((s->n_ports || s->n_local_ports) && s->proto != NF_PROTO_TCP && s->proto != NF_PROTO_UDP) {
                const char *f = s->n_ports ? "ports" : "local_ports";
                return nf_fail(e, NF_ERR_INVALID, "conflict", f, "%s: need \"protocol\": \"tcp\" or \"udp\" (protocol is '%s')", f,
                               nf_proto_name(s->proto));
        }
        /* A share of flows goes through per-bucket netems on the ifb (netem/plan.h): a blackhole
         * has no ifb, and a rate would shape each 1 % bucket apart rather than the share. */
        if (s->flows_percent && s->fx.blackhole)
                return nf_fail(e, NF_ERR_INVALID, "conflict", "flows_percent",
                               "flows_percent: %u needs a netem effect; a blackhole drops every matched flow "
                               "(for a share of flows use \"loss\": {\"percent\": 100})",
                               s->flows_percent);
        if (s->flows_percent && s->fx.has_rate)
                return nf_fail(e, NF_ERR_INVALID, "conflict", "flows_percent",
                               "flows_percent: %u cannot go with rate, which would limit each 1%% bucket of flows "
                               "apart rather than the share as a whole",
                               s->flows_percent);
        if (s->lease_s > s->duration_s)
                return nf_fail(e, NF_ERR_INVALID, "conflict", "lease_s", "lease_s: %u is longer than duration_s %u", s->lease_s,
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
                                return nf_fail(e, NF_ERR_INTERNAL, "internal", NULL, "out of memory");
                        cJSON_ArrayForEach(c, item) keys[i++] = c->string;
                        qsort(keys, n, sizeof(*keys), cmp_key);
                        for (i = 1; i < n && strcmp(keys[i - 1], keys[i]) != 0; i++)
                                ;
                        if (i < n) {
                                snprintf(field, sizeof(field), "%s%s%.60s", path, path[0] ? "." : "", keys[i]);
                                free(keys);
                                return nf_fail(e, NF_ERR_INVALID, "duplicate_field", field,
                                               "%s: given more than once (each key may appear once per object)", field);
                        }
                        free(keys);
                }
        }
        i = 0;
        cJSON_ArrayForEach(c, item) {
                /* Only containers can hold a duplicate: leaves (10,000 targets) need no path. */
                if (cJSON_IsObject(c) || cJSON_IsArray(c)) {
                        if (cJSON_IsObject(item))
                                snprintf(field, sizeof(field), "%s%s%.60s", path, path[0] ? "." : "", c->string);
                        else
                                snprintf(field, sizeof(field), "%s[%zu]", path, i);
                        if (check_duplicates(c, field, e) < 0)
                                return -1;
                }
                i++;
        }
        return 0;
}

const char *const nf_spec_members[] = {"targets",   "exclude", "protocol",   "ports",   "local_ports",         "interfaces",
                                       "direction", "name",    "duration_s", "lease_s", "allow_control_plane", "netns", "guard",
                                       "flows_percent", NULL};

int nf_validate_fault(const cJSON *root, const struct nf_validate_limits *lim, struct nf_spec *s, struct nf_err *e) {
        static const char *const proto_names[] = {"all", "tcp", "udp", "icmp"};
        static const char *const dir_names[] = {"", "egress", "ingress", "both"};
        const cJSON *v;
        uint64_t dur = 0;
        bool has_dur = false;
        int p = 0, d = 1;

        *s = (struct nf_spec){.direction = NF_DIR_EGRESS};
        if (!cJSON_IsObject(root))
                return nf_fail(e, NF_ERR_INVALID, "invalid_body", NULL, "the body must be a JSON object");
        if (nf_json_depth(root) > NF_MAX_JSON_DEPTH)
                return nf_fail(e, NF_ERR_INVALID, "invalid_body", NULL, "the body nests deeper than %d levels", NF_MAX_JSON_DEPTH);
        if (check_duplicates(root, "", e) < 0 || nf_json_check_keys(root, NULL, nf_spec_members, nf_effect_key, e) < 0)
                return -1;
        if (nf_json_get_enum(root, NULL, "protocol", proto_names, 4, &p, e) < 0)
                return -1;
        s->proto = (enum nf_proto)p;
        if (nf_json_get_enum(root, NULL, "direction", dir_names, 4, &d, e) < 0)
                return -1;
        s->direction = (enum nf_direction)d;
        if ((v = cJSON_GetObjectItemCaseSensitive(root, "name"))) {
                char shown[96];
                bool ok = cJSON_IsString(v) && strlen(v->valuestring) <= NF_MAX_NAME;
                for (const char *c = ok ? v->valuestring : ""; *c && ok; c++)
                        ok = isprint((unsigned char)*c) || (unsigned char)*c >= 0x80;
                if (!ok) {
                        nf_json_show(v, shown, sizeof(shown));
                        return nf_fail(e, NF_ERR_INVALID, "invalid_value", "name", "name: %s is not a printable string of at most %d bytes",
                                       shown, NF_MAX_NAME);
                }
                snprintf(s->name, sizeof(s->name), "%s", v->valuestring);
        }
        if (nf_json_get_integer(root, NULL, "duration_s", false, 1, lim->max_duration_s, &dur, &has_dur, e) < 0)
                return -1;
        s->duration_s = has_dur ? (uint32_t)dur : lim->default_duration_s;
        if (nf_json_get_integer(root, NULL, "lease_s", false, 1, lim->max_duration_s, &dur, &has_dur, e) < 0)
                return -1;
        s->lease_s = has_dur ? (uint32_t)dur : 0;
        if (nf_json_get_integer(root, NULL, "flows_percent", false, 1, 100, &dur, &has_dur, e) < 0)
                return -1;
        s->flows_percent = has_dur && dur < 100 ? (uint8_t)dur : 0;
        if ((v = cJSON_GetObjectItemCaseSensitive(root, "allow_control_plane")) &&
            nf_json_bool(v, "allow_control_plane", &s->allow_control_plane, e) < 0)
                return -1;
        if (parse_netns(root, &s->netns, e) < 0)
                return -1;
        if (nf_guard_parse(cJSON_GetObjectItemCaseSensitive(root, "guard"), &s->guard, e) < 0)
                return -1;
        if (parse_ports(root, "ports", s->ports, &s->n_ports, e) < 0 ||
            parse_ports(root, "local_ports", s->local_ports, &s->n_local_ports, e) < 0 || parse_interfaces(root, s, e) < 0 ||
            nf_effects_parse(root, &s->fx, e) < 0 || cross_check(s, e) < 0) {
                nf_spec_free(s);
                return -1;
        }
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

/* ---- rendering ---- */

cJSON *nf_prefixes_to_json(const struct nf_prefix *p, size_t n) {
        cJSON *a = cJSON_CreateArray();
        char buf[NF_PREFIX_STRLEN];
        for (size_t i = 0; i < n; i++)
                cJSON_AddItemToArray(a, cJSON_CreateString(nf_prefix_format(&p[i], buf, sizeof(buf))));
        return a;
}

static void port_list(cJSON *o, const char *key, const struct nf_port_range *v, size_t n, bool compact) {
        if (compact && n == 0)
                return;
        cJSON *ports = cJSON_AddArrayToObject(o, key);
        for (size_t i = 0; i < n; i++) {
                char buf[16];
                if (v[i].lo == v[i].hi) {
                        cJSON_AddItemToArray(ports, cJSON_CreateNumber(v[i].lo));
                } else {
                        snprintf(buf, sizeof(buf), "%u-%u", v[i].lo, v[i].hi);
                        cJSON_AddItemToArray(ports, cJSON_CreateString(buf));
                }
        }
}

cJSON *nf_spec_to_json(const struct nf_spec *s, bool compact) {
        static const char *const dirs[] = {"", "egress", "ingress", "both"};
        cJSON *o = cJSON_CreateObject();
        cJSON *t = nf_prefixes_to_json(s->targets, s->n_targets);
        for (size_t i = 0; i < s->n_target_names; i++)
                cJSON_AddItemToArray(t, cJSON_CreateString(s->target_names[i]));
        cJSON_AddItemToObject(o, "targets", t);
        if (!compact || s->n_exclude)
                cJSON_AddItemToObject(o, "exclude", nf_prefixes_to_json(s->exclude, s->n_exclude));
        cJSON_AddStringToObject(o, "protocol", nf_proto_name(s->proto));
        port_list(o, "ports", s->ports, s->n_ports, compact);
        port_list(o, "local_ports", s->local_ports, s->n_local_ports, compact);
        if (!compact || s->n_ifnames) {
                cJSON *ifs = cJSON_AddArrayToObject(o, "interfaces");
                for (size_t i = 0; i < s->n_ifnames; i++)
                        cJSON_AddItemToArray(ifs, cJSON_CreateString(s->ifnames[i]));
        }
        cJSON_AddStringToObject(o, "direction", dirs[s->direction & 3]);
        nf_effects_render(&s->fx, o);
        if (s->name[0])
                cJSON_AddStringToObject(o, "name", s->name);
        cJSON_AddNumberToObject(o, "duration_s", s->duration_s);
        if (s->lease_s)
                cJSON_AddNumberToObject(o, "lease_s", s->lease_s);
        cJSON_AddBoolToObject(o, "allow_control_plane", s->allow_control_plane);
        if (s->flows_percent)
                cJSON_AddNumberToObject(o, "flows_percent", s->flows_percent);
        if (s->guard)
                cJSON_AddItemToObject(o, "guard", nf_guard_spec_to_json(s->guard));
        if (s->netns.kind != NF_NETNS_SELF) {
                cJSON *ns = cJSON_AddObjectToObject(o, "netns");
                switch (s->netns.kind) {
                case NF_NETNS_HOST: cJSON_AddBoolToObject(ns, "host", true); break;
                case NF_NETNS_PID: cJSON_AddNumberToObject(ns, "pid", s->netns.pid); break;
                case NF_NETNS_POD: cJSON_AddStringToObject(ns, "pod_uid", s->netns.name); break;
                case NF_NETNS_CONTAINER: cJSON_AddStringToObject(ns, "container_id", s->netns.name); break;
                default: cJSON_AddStringToObject(ns, "path", s->netns.name); break;
                }
        }
        return o;
}

static cJSON *key_to_json(const struct nf_filter_key *k) {
        char buf[NF_PREFIX_STRLEN];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "remote", nf_prefix_format(&k->remote, buf, sizeof(buf)));
        if (k->ip_proto)
                cJSON_AddNumberToObject(o, "ip_proto", k->ip_proto);
        if (k->remote_port.lo) {
                snprintf(buf, sizeof(buf), "%u-%u", k->remote_port.lo, k->remote_port.hi);
                cJSON_AddStringToObject(o, "remote_port", buf);
        }
        if (k->local_port.lo) {
                snprintf(buf, sizeof(buf), "%u-%u", k->local_port.lo, k->local_port.hi);
                cJSON_AddStringToObject(o, "local_port", buf);
        }
        return o;
}

cJSON *nf_plan_to_json(const struct nf_plan *p, bool filters) {
        cJSON *o = cJSON_CreateObject(), *links = cJSON_AddArrayToObject(o, "links");
        char h[32];
        for (size_t i = 0; i < p->n_links; i++) {
                const struct nf_plan_link *l = &p->links[i];
                cJSON *lo = cJSON_CreateObject();
                cJSON_AddStringToObject(lo, "interface", l->iface.name);
                cJSON_AddNumberToObject(lo, "ifindex", l->iface.ifindex);
                cJSON_AddStringToObject(lo, "direction", l->dir == NF_DIR_INGRESS ? "ingress" : "egress");
                snprintf(h, sizeof(h), "ffff:%x", nf_hook_parent(l->dir) & 0xffff);
                cJSON_AddStringToObject(lo, "clsact_hook", h);
                cJSON_AddNumberToObject(lo, "priority_ipv4", l->prio_v4);
                cJSON_AddNumberToObject(lo, "priority_ipv6", l->prio_v6);
                cJSON_AddStringToObject(lo, "action", l->action == NF_ACTION_DROP ? "gact drop" : "mirred redirect");
                cJSON_AddNumberToObject(lo, "action_index", l->act_index);
                if (l->action == NF_ACTION_REDIRECT) {
                        cJSON *ifb = cJSON_AddObjectToObject(lo, "ifb");
                        cJSON_AddStringToObject(ifb, "name", l->ifb_name);
                        cJSON_AddNumberToObject(ifb, "ifindex", l->ifb_ifindex);
                        cJSON_AddStringToObject(ifb, "alias", l->ifb_alias);
                        snprintf(h, sizeof(h), "%x:", NF_QDISC_MAJOR);
                        cJSON_AddStringToObject(ifb, "qdisc", p->flows_percent ? "prio" : "netem");
                        cJSON_AddStringToObject(ifb, "qdisc_handle", h);
                        if (p->flows_percent) {
                                /* netem/plan.h: w bands of ten with a netem, r of ten in the next */
                                cJSON *fl = cJSON_AddObjectToObject(ifb, "flows");
                                cJSON_AddStringToObject(fl, "filter", "flow hash keys src,dst,proto,proto-src,proto-dst");
                                cJSON_AddNumberToObject(fl, "bands", NF_FLOW_BANDS);
                                cJSON_AddNumberToObject(fl, "bands_with_netem", p->flows_percent / NF_FLOW_BANDS);
                                cJSON_AddNumberToObject(fl, "sub_bands_with_netem", p->flows_percent % NF_FLOW_BANDS);
                        }
                }
                cJSON_AddItemToArray(links, lo);
        }
        if (p->n_links && p->links[0].action == NF_ACTION_REDIRECT) {
                const struct nf_netem_params *n = &p->netem;
                cJSON *ne = cJSON_AddObjectToObject(o, "netem");
                cJSON_AddNumberToObject(ne, "limit", n->limit);
                cJSON_AddNumberToObject(ne, "latency_ns", (double)n->latency_ns);
                cJSON_AddNumberToObject(ne, "jitter_ns", (double)n->jitter_ns);
                cJSON_AddNumberToObject(ne, "loss", n->loss);
                cJSON_AddNumberToObject(ne, "duplicate", n->duplicate);
                cJSON_AddNumberToObject(ne, "corrupt", n->corrupt_prob);
                cJSON_AddNumberToObject(ne, "reorder", n->reorder_prob);
                cJSON_AddNumberToObject(ne, "gap", n->gap);
                cJSON_AddNumberToObject(ne, "rate_bytes_per_s", (double)n->rate_bytes);
                cJSON_AddStringToObject(ne, "distribution", nf_dist_name(n->dist));
        }
        cJSON_AddNumberToObject(o, "filters_per_link", (double)p->n_keys);
        if (filters) {
                cJSON *fs = cJSON_AddArrayToObject(o, "filters");
                for (size_t k = 0; k < p->n_keys; k++) {
                        cJSON *fo = key_to_json(&p->keys[k]);
                        cJSON_AddNumberToObject(fo, "handle", (double)k + 1);
                        cJSON_AddStringToObject(fo, "protocol", p->keys[k].remote.family == AF_INET6 ? "ipv6" : "ip");
                        cJSON_AddItemToArray(fs, fo);
                }
        }
        return o;
}
