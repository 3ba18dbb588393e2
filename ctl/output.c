#include "ctl/output.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static void table_reserve_row(struct nfc_table *t)
{
        if (t->nrows * t->ncols + t->ncols <= t->cap)
                return;
        size_t cap = t->cap ? t->cap * 2 : t->ncols * 16;
        char **nc = realloc(t->cells, cap * sizeof(*nc));
        if (!nc)
                abort();
        t->cells = nc;
        t->cap = cap;
}

static void table_add_row(struct nfc_table *t, va_list ap)
{
        table_reserve_row(t);
        for (size_t i = 0; i < t->ncols; i++) {
                const char *s = va_arg(ap, const char *);
                char *copy = strdup(s && *s ? s : "-");
                if (!copy)
                        abort();
                t->cells[t->nrows * t->ncols + i] = copy;
        }
        t->nrows++;
}

void nfc_table_init(struct nfc_table *t, size_t ncols, ...)
{
        memset(t, 0, sizeof(*t));
        t->ncols = ncols;
        va_list ap;
        va_start(ap, ncols);
        table_add_row(t, ap);
        va_end(ap);
}

void nfc_table_row(struct nfc_table *t, ...)
{
        va_list ap;
        va_start(ap, t);
        table_add_row(t, ap);
        va_end(ap);
}

/* Display width: UTF-8 continuation bytes take no column (the ± in a delay). */
static size_t width(const char *s)
{
        size_t w = 0;
        for (; *s; s++)
                w += ((unsigned char)*s & 0xc0) != 0x80;
        return w;
}

void nfc_table_print(const struct nfc_table *t)
{
        size_t w[NFC_TABLE_COLS] = {0};
        for (size_t r = 0; r < t->nrows; r++)
                for (size_t c = 0; c < t->ncols && c < NFC_TABLE_COLS; c++) {
                        size_t cw = width(t->cells[r * t->ncols + c]);
                        if (cw > w[c])
                                w[c] = cw;
                }
        for (size_t r = 0; r < t->nrows; r++) {
                for (size_t c = 0; c < t->ncols; c++) {
                        const char *s = t->cells[r * t->ncols + c];
                        int last = c + 1 == t->ncols;
                        fputs(s, stdout);
                        for (size_t k = width(s); !last && c < NFC_TABLE_COLS && k < w[c] + 2; k++)
                                putchar(' ');
                }
                putchar('\n');
        }
        for (size_t i = 0; i < t->nrows * t->ncols; i++)
                free(t->cells[i]);
        free(t->cells);
}

void nfc_fmt_duration(char *buf, size_t len, double seconds)
{
        if (seconds < 0)
                seconds = 0;
        if (seconds < 1 && seconds > 0) {
                snprintf(buf, len, "%.0fms", seconds * 1000);
                return;
        }
        long s = lround(seconds);
        long d = s / 86400, h = s % 86400 / 3600, m = s % 3600 / 60, sec = s % 60;
        if (d)
                snprintf(buf, len, "%ldd%ldh", d, h);
        else if (h)
                snprintf(buf, len, m ? "%ldh%ldm" : "%ldh", h, m);
        else if (m)
                snprintf(buf, len, sec ? "%ldm%lds" : "%ldm", m, sec);
        else
                snprintf(buf, len, "%lds", sec);
}

static void fmt_scaled(char *buf, size_t len, double n, double base, const char *const *units, size_t nunits)
{
        size_t u = 0;
        while (n >= base && u + 1 < nunits) {
                n /= base;
                u++;
        }
        if (u == 0)
                snprintf(buf, len, "%.0f%s", n, units[0]);
        else
                snprintf(buf, len, n < 10 ? "%.1f%s" : "%.0f%s", n, units[u]);
}

void nfc_fmt_count(char *buf, size_t len, double n)
{
        static const char *const u[] = {"", "k", "M", "G", "T"};
        fmt_scaled(buf, len, n, 1000, u, 5);
}

void nfc_fmt_bytes(char *buf, size_t len, double n)
{
        static const char *const u[] = {"B", "KiB", "MiB", "GiB", "TiB"};
        fmt_scaled(buf, len, n, 1024, u, 5);
}

void nfc_fmt_kbit(char *buf, size_t len, double kbit)
{
        static const char *const u[] = {"kbit/s", "Mbit/s", "Gbit/s"};
        fmt_scaled(buf, len, kbit, 1000, u, 3);
}

double nfc_parse_time(const char *rfc3339)
{
        struct tm tm = {0};
        if (!rfc3339 || !strptime(rfc3339, "%Y-%m-%dT%H:%M:%S", &tm))
                return -1;
        return (double)timegm(&tm);
}

void nfc_fmt_until(char *buf, size_t len, const char *rfc3339)
{
        double t = nfc_parse_time(rfc3339);
        if (t < 0) {
                snprintf(buf, len, "-");
                return;
        }
        double left = difftime((time_t)t, time(NULL));
        char d[32];
        nfc_fmt_duration(d, sizeof(d), fabs(left));
        snprintf(buf, len, left >= 0 ? "in %s" : "%s ago", d);
}

double nfc_num(const cJSON *obj, const char *key, double dflt)
{
        const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
        return cJSON_IsNumber(v) ? v->valuedouble : dflt;
}

const char *nfc_str(const cJSON *obj, const char *key)
{
        return cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(obj, key));
}

static void append(char *buf, size_t len, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void append(char *buf, size_t len, const char *fmt, ...)
{
        size_t used = strlen(buf);
        if (used >= len)
                return;
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(buf + used, len - used, fmt, ap);
        va_end(ap);
}

static void append_percent(char *buf, size_t len, const cJSON *spec, const char *key)
{
        const cJSON *e = cJSON_GetObjectItemCaseSensitive(spec, key);
        if (!e)
                return;
        append(buf, len, "%s%s %g%%", *buf ? ", " : "", key, nfc_num(e, "percent", 0));
        if (nfc_num(e, "correlation", 0) > 0)
                append(buf, len, " (corr %g%%)", nfc_num(e, "correlation", 0));
}

void nfc_fmt_effects(char *buf, size_t len, const cJSON *spec)
{
        buf[0] = '\0';
        const cJSON *d = cJSON_GetObjectItemCaseSensitive(spec, "delay");
        if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(spec, "blackhole")))
                append(buf, len, "blackhole");
        if (d) {
                append(buf, len, "delay %gms", nfc_num(d, "ms", 0));
                if (nfc_num(d, "jitter_ms", 0) > 0)
                        append(buf, len, "±%gms", nfc_num(d, "jitter_ms", 0));
        }
        append_percent(buf, len, spec, "loss");
        append_percent(buf, len, spec, "duplicate");
        append_percent(buf, len, spec, "corrupt");
        append_percent(buf, len, spec, "reorder");
        const cJSON *r = cJSON_GetObjectItemCaseSensitive(spec, "rate");
        if (r) {
                char k[32];
                nfc_fmt_kbit(k, sizeof(k), nfc_num(r, "kbit", 0));
                append(buf, len, "%srate %s", *buf ? ", " : "", k);
        }
        if (nfc_num(spec, "flows_percent", 0) > 0)
                append(buf, len, " on %g%% of flows", nfc_num(spec, "flows_percent", 0));
        const char *proto = nfc_str(spec, "protocol");
        const cJSON *ports = cJSON_GetObjectItemCaseSensitive(spec, "ports");
        if (proto && strcmp(proto, "all") != 0)
                append(buf, len, " %s", proto);
        const cJSON *p;
        int first = 1;
        cJSON_ArrayForEach(p, ports) {
                if (cJSON_IsNumber(p))
                        append(buf, len, "%s%d", first ? "/" : ",", p->valueint);
                else if (cJSON_IsString(p))
                        append(buf, len, "%s%s", first ? "/" : ",", p->valuestring);
                first = 0;
        }
}

void nfc_fmt_targets(char *buf, size_t len, const cJSON *spec)
{
        const cJSON *targets = cJSON_GetObjectItemCaseSensitive(spec, "targets"), *t;
        int n = cJSON_GetArraySize(targets), shown = 0;
        buf[0] = '\0';
        cJSON_ArrayForEach(t, targets) {
                if (shown == 2 || !cJSON_IsString(t))
                        break;
                append(buf, len, "%s%s", shown ? ", " : "", t->valuestring);
                shown++;
        }
        if (n > shown)
                append(buf, len, " +%d", n - shown);
}

void nfc_print_json(const cJSON *v)
{
        char *s = cJSON_Print(v);
        if (s)
                puts(s);
        free(s);
}
