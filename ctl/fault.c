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
        return 0;
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
