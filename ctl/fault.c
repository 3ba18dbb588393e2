/* Building a fault body from the command line (delay, loss, blackhole) or a file (apply). */
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl/ctl.h"

double nfc_parse_duration(const char *s, double unit_s)
{
        char *end = NULL;
        errno = 0;
        double v = strtod(s, &end);
        if (errno || end == s || !isfinite(v) || v < 0)
                return -1;
        if (!*end)
                return v * unit_s;
        static const struct {
                const char *suffix;
                double seconds;
        } units[] = {{"ms", 0.001}, {"s", 1}, {"m", 60}, {"min", 60}, {"h", 3600}, {"d", 86400}};
        for (size_t i = 0; i < sizeof(units) / sizeof(units[0]); i++)
                if (strcmp(end, units[i].suffix) == 0)
                        return v * units[i].seconds;
        return -1;
}

static int parse_percent(const char *s, double *out)
{
        char *end = NULL;
        errno = 0;
        double v = strtod(s, &end);
        if (errno || end == s || (*end && strcmp(end, "%") != 0) || !(v >= 0 && v <= 100))
                return -1;
        *out = v;
        return 0;
}

static int usage_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static int usage_error(const char *fmt, ...)
{
        va_list ap;
        va_start(ap, fmt);
        fputs("netfaultctl: ", stderr);
        vfprintf(stderr, fmt, ap);
        fputs(" (netfaultctl --help)\n", stderr);
        va_end(ap);
        return NFC_EXIT_USAGE;
}

static void set_array(cJSON *body, const char *key, cJSON *arr)
{
        if (arr && cJSON_GetArraySize(arr) > 0) {
                cJSON_DeleteItemFromObjectCaseSensitive(body, key);
                cJSON_AddItemToObject(body, key, cJSON_Duplicate(arr, 1));
        }
}

int nfc_guard_probe(struct nfc_opts *o, const char *kind, const char *arg, char *why, size_t why_len)
{
        cJSON *probe = cJSON_CreateObject(), *k = cJSON_AddObjectToObject(probe, kind);
        if (strcmp(kind, "http") == 0) {
                cJSON_AddStringToObject(k, "url", arg);
        } else if (strcmp(kind, "tcp") == 0) {
                /* HOST:PORT, [V6]:PORT */
                const char *colon = strrchr(arg, ':');
                char host[256];
                long port = colon ? strtol(colon + 1, NULL, 10) : 0;
                size_t n = colon ? (size_t)(colon - arg) : 0;
                if (n && arg[0] == '[' && arg[n - 1] == ']')
                        arg++, n -= 2;
                if (!colon || n == 0 || n >= sizeof(host) || port < 1 || port > 65535) {
                        cJSON_Delete(probe);
                        snprintf(why, why_len, "want HOST:PORT");
                        return -1;
                }
                memcpy(host, arg, n);
                host[n] = '\0';
                cJSON_AddStringToObject(k, "address", host);
                cJSON_AddNumberToObject(k, "port", (double)port);
        } else {
                /* QUERY<MAX or QUERY>MIN: the last comparison whose right side is a number. */
                const char *op = NULL;
                double bound = 0;
                for (const char *p = arg; *p; p++)
                        if (*p == '<' || *p == '>') {
                                char *end;
                                const char *num = p[1] == '=' ? p + 2 : p + 1;
                                double v = strtod(num, &end);
                                if (end != num && *end == '\0')
                                        op = p, bound = v;
                        }
                if (!op || op == arg) {
                        cJSON_Delete(probe);
                        snprintf(why, why_len, "want 'QUERY<MAX' or 'QUERY>MIN'");
                        return -1;
                }
                char *q = strndup(arg, (size_t)(op - arg));
                cJSON_AddStringToObject(k, "query", q ? q : "");
                free(q);
                cJSON_AddNumberToObject(k, *op == '<' ? "max" : "min", bound);
        }
        if (!o->guard_probes)
                o->guard_probes = cJSON_CreateArray();
        cJSON_AddItemToArray(o->guard_probes, probe);
        return 0;
}

/* The guard from the --guard-* options, replacing the file's. */
static int add_guard(struct nfc_opts *o, cJSON *body)
{
        cJSON *p;
        const char *prom = o->prometheus_url ? o->prometheus_url : getenv("NETFAULTCTL_PROMETHEUS_URL");
        if (!o->guard_probes)
                return 0;
        cJSON_ArrayForEach(p, o->guard_probes) {
                cJSON *k = cJSON_GetObjectItemCaseSensitive(p, "prometheus");
                if (!k)
                        continue;
                if (!prom || !*prom)
                        return usage_error("%s", "--guard-prom needs the server: --prometheus URL or $NETFAULTCTL_PROMETHEUS_URL");
                cJSON_DeleteItemFromObjectCaseSensitive(k, "url");
                cJSON_AddStringToObject(k, "url", prom);
        }
        cJSON_DeleteItemFromObjectCaseSensitive(body, "guard");
        cJSON *g = cJSON_AddObjectToObject(body, "guard");
        cJSON_AddItemToObject(g, "probes", cJSON_Duplicate(o->guard_probes, 1));
        if (o->guard_interval_s > 0)
                cJSON_AddNumberToObject(g, "interval_ms", floor(o->guard_interval_s * 1000));
        if (o->guard_failures > 0)
                cJSON_AddNumberToObject(g, "failures_to_abort", (double)o->guard_failures);
        if (o->guard_scope_all)
                cJSON_AddStringToObject(g, "scope", "all");
        return 0;
}

/* Options that mean the same for every fault command, file or not; they override the file. */
static int add_common(struct nfc_opts *o, cJSON *body)
{
        set_array(body, "targets", o->targets);
        set_array(body, "exclude", o->exclude);
        set_array(body, "ports", o->ports);
        set_array(body, "local_ports", o->local_ports);
        set_array(body, "interfaces", o->interfaces);
        /* ports need a protocol; tcp is what people mean by "--port 443" */
        const char *proto = o->protocol;
        if (!proto && (o->ports || o->local_ports) && !cJSON_GetObjectItemCaseSensitive(body, "protocol"))
                proto = "tcp";
        if (proto) {
                cJSON_DeleteItemFromObjectCaseSensitive(body, "protocol");
                cJSON_AddStringToObject(body, "protocol", proto);
        }
        if (o->direction) {
                cJSON_DeleteItemFromObjectCaseSensitive(body, "direction");
                cJSON_AddStringToObject(body, "direction", o->direction);
        }
        if (o->name) {
                cJSON_DeleteItemFromObjectCaseSensitive(body, "name");
                cJSON_AddStringToObject(body, "name", o->name);
        }
        if (o->for_s > 0) {
                cJSON_DeleteItemFromObjectCaseSensitive(body, "duration_s");
                cJSON_AddNumberToObject(body, "duration_s", (double)o->for_s);
        }
        long lease = o->lease_s > 0 ? o->lease_s : (o->hold ? 15 : 0);
        if (lease > 0) {
                cJSON_DeleteItemFromObjectCaseSensitive(body, "lease_s");
                cJSON_AddNumberToObject(body, "lease_s", (double)lease);
        }
        if (o->hold && !cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(body, "lease_s")))
                return usage_error("%s", "--hold needs a lease");
        if (o->flows_pct > 0) {
                cJSON_DeleteItemFromObjectCaseSensitive(body, "flows_percent");
                cJSON_AddNumberToObject(body, "flows_percent", o->flows_pct);
        }
        if (o->allow_control_plane) {
                cJSON_DeleteItemFromObjectCaseSensitive(body, "allow_control_plane");
                cJSON_AddTrueToObject(body, "allow_control_plane");
        }
        if (o->pod) {
                cJSON_DeleteItemFromObjectCaseSensitive(body, "netns");
                cJSON *ns = cJSON_AddObjectToObject(body, "netns");
                cJSON_AddStringToObject(ns, "pod_uid", o->pod);
        }
        if (!cJSON_GetObjectItemCaseSensitive(body, "targets"))
                return usage_error("%s", "a fault needs at least one --to TARGET");
        return add_guard(o, body);
}

static cJSON *read_file_body(const char *path)
{
        FILE *f = strcmp(path, "-") == 0 ? stdin : fopen(path, "re");
        if (!f) {
                fprintf(stderr, "netfaultctl: cannot read %s: %s\n", path, strerror(errno));
                return NULL;
        }
        size_t cap = 65536, len = 0;
        char *buf = malloc(cap);
        for (size_t got; buf && (got = fread(buf + len, 1, cap - len - 1, f)) > 0;) {
                len += got;
                if (len + 1 == cap) {
                        char *nb = realloc(buf, cap *= 2);
                        if (!nb)
                                free(buf);
                        buf = nb;
                }
        }
        if (f != stdin)
                fclose(f);
        if (!buf)
                return NULL;
        buf[len] = '\0';
        cJSON *body = cJSON_Parse(buf);
        free(buf);
        if (!cJSON_IsObject(body)) {
                fprintf(stderr, "netfaultctl: %s is not a JSON object (a fault body, see api/openapi.yaml)\n", path);
                cJSON_Delete(body);
                return NULL;
        }
        return body;
}

static int build_effect(struct nfc_opts *o, const char *cmd, int argc, char **argv, cJSON *body)
{
        if (strcmp(cmd, "blackhole") == 0) {
                if (argc != 0)
                        return usage_error("blackhole takes no value, got '%s'", argv[0]);
                cJSON_AddTrueToObject(body, "blackhole");
                return 0;
        }
        if (argc != 1)
                return usage_error("%s takes one value (delay 300ms, loss 20%%)", cmd);
        if (strcmp(cmd, "delay") == 0) {
                double ms = nfc_parse_duration(argv[0], 0.001) * 1000;
                if (ms < 0)
                        return usage_error("'%s' is not a delay (300ms, 1.5s)", argv[0]);
                cJSON *d = cJSON_AddObjectToObject(body, "delay");
                cJSON_AddNumberToObject(d, "ms", round(ms * 1000) / 1000);
                if (o->has_jitter)
                        cJSON_AddNumberToObject(d, "jitter_ms", o->jitter_ms);
                if (o->has_correlation)
                        cJSON_AddNumberToObject(d, "correlation", o->correlation);
                if (o->distribution)
                        cJSON_AddStringToObject(d, "distribution", o->distribution);
                return 0;
        }
        /* loss, duplicate, corrupt: a percentage */
        double pct;
        if (parse_percent(argv[0], &pct) < 0)
                return usage_error("'%s' is not a percentage (20%%, 0.5)", argv[0]);
        cJSON *e = cJSON_AddObjectToObject(body, cmd);
        cJSON_AddNumberToObject(e, "percent", pct);
        if (o->has_correlation)
                cJSON_AddNumberToObject(e, "correlation", o->correlation);
        return 0;
}

int nfc_cmd_fault(struct nfc_opts *o, const char *cmd, int argc, char **argv)
{
        cJSON *body;
        int rc;
        if (strcmp(cmd, "apply") == 0) {
                if (!o->file)
                        return usage_error("%s needs -f FILE (a fault body; - for stdin)", cmd);
                if (argc)
                        return usage_error("unexpected argument '%s'", argv[0]);
                body = read_file_body(o->file);
                if (!body)
                        return NFC_EXIT_USAGE;
        } else {
                if ((o->has_jitter || o->distribution) && strcmp(cmd, "delay") != 0)
                        return usage_error("%s", "--jitter and --distribution go with delay");
                body = cJSON_CreateObject();
                if ((rc = build_effect(o, cmd, argc, argv, body)) != 0) {
                        cJSON_Delete(body);
                        return rc;
                }
        }
        if ((rc = add_common(o, body)) != 0) {
                cJSON_Delete(body);
                return rc;
        }
        rc = nfc_fleet_create(o, body);
        cJSON_Delete(body);
        return rc;
}
