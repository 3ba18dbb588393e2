#include "api/request.h"

#include <cjson/cJSON.h>
#include <ctype.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* Whether every byte is in 0x20..0x7f. */
static bool printable_ascii(const char *p, size_t len) {
        const uint64_t ones = 0x0101010101010101ull, highs = 0x8080808080808080ull;
        size_t i = 0;
        for (; i + 8 <= len; i += 8) {
                uint64_t x;
                memcpy(&x, p + i, 8);
                /* (x - 0x20 per byte) & ~x has a byte's high bit set where that byte is below
                 * 0x20 (exact for the lowest such byte, which is all that matters); x has it
                 * where the byte is 0x80 or above. */
                if (((x - 0x20 * ones) & ~x & highs) | (x & highs))
                        return false;
        }
        for (; i < len; i++)
                if ((unsigned char)p[i] < 0x20 || (unsigned char)p[i] >= 0x80)
                        return false;
        return true;
}

static bool json_space(char c) {
        return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

cJSON *nf_json_parse_strict(const char *body, size_t len, struct nf_err *e) {
        const char *end = NULL;
        size_t at;
        cJSON *root;

        /* A raw NUL would end every C string early ("10.0.0.1\0zzz" read as 10.0.0.1); JSON
         * allows no raw control character at all, and cJSON would take them as whitespace.
         * A body of printable ASCII (the usual one) has neither a control byte nor UTF-8 to
         * check: one pass over it says so, eight bytes at a time. */
        bool plain = printable_ascii(body, len);
        for (at = 0; !plain && at < len; at++) {
                unsigned char c = (unsigned char)body[at];
                if (c < 0x20 && c != '\t' && c != '\n' && c != '\r') {
                        nf_fail(e, NF_ERR_INVALID, "invalid_json", NULL,
                                "the body has a raw control byte 0x%02x at byte %zu (JSON needs it escaped, and "
                                "no field takes it)", c, at);
                        return NULL;
                }
        }
        /* Whatever we echo back (a name) must be valid UTF-8, and JSON text is UTF-8. */
        if (!plain && (at = utf8_bad_at((const unsigned char *)body, len)) < len) {
                nf_fail(e, NF_ERR_INVALID, "invalid_json", NULL, "the body is not valid UTF-8 (byte %zu is 0x%02x)", at,
                        (unsigned char)body[at]);
                return NULL;
        }
        root = cJSON_ParseWithLengthOpts(len ? body : "", len, &end, false);
        if (!root) {
                const char *bad = cJSON_GetErrorPtr();
                at = bad && bad >= body && bad <= body + len ? (size_t)(bad - body) : 0;
                nf_fail(e, NF_ERR_INVALID, "invalid_json", NULL, "the body is not valid JSON (near byte %zu)", at);
                return NULL;
        }
        /* Exactly one value: trailing bytes (a second object, garbage) are refused, not ignored. */
        at = end && end >= body && end <= body + len ? (size_t)(end - body) : len;
        while (at < len && json_space(body[at]))
                at++;
        if (at < len) {
                cJSON_Delete(root);
                nf_fail(e, NF_ERR_INVALID, "invalid_json", NULL, "the body has data after the JSON value, at byte %zu", at);
                return NULL;
        }
        /* cJSON turns \u0000 into a NUL that ends the string early: refuse it like a raw NUL.
         * The body parsed, so strings and escapes are well formed here. */
        bool in_str = false;
        for (at = memchr(body, '\\', len) ? 0 : len; at < len; at++) {
                if (!in_str) {
                        in_str = body[at] == '"';
                } else if (body[at] == '"') {
                        in_str = false;
                } else if (body[at] == '\\') {
                        if (at + 5 < len && body[at + 1] == 'u' && memcmp(body + at + 2, "0000", 4) == 0) {
                                cJSON_Delete(root);
                                nf_fail(e, NF_ERR_INVALID, "invalid_json", NULL,
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

static const struct {
        const char *name;
        unsigned bit;
} known[] = {{"dry_run", NF_QUERY_DRY_RUN}, {"pod_uid", NF_QUERY_POD_UID}, {"limit", NF_QUERY_LIMIT}, {"after", NF_QUERY_AFTER}};

const char *nf_query_name(unsigned bit) {
        for (size_t i = 0; i < sizeof(known) / sizeof(*known); i++)
                if (known[i].bit == bit)
                        return known[i].name;
        return NULL;
}

int nf_query_parse(const char *query, unsigned allowed, struct nf_query *q, struct nf_err *e) {
        unsigned seen = 0;
        const char *p = query;

        *q = (struct nf_query){0};
        if (!query || !*query)
                return 0;
        for (;;) {
                size_t n = strcspn(p, "&"), kn = strcspn(p, "=");
                char key[64], val[72], shown[300];
                bool has_val = kn < n;
                int which = -1;
                if (!has_val)
                        kn = n;
                show_raw(p, n, shown, sizeof(shown));
                if (n == 0)
                        return nf_fail(e, NF_ERR_INVALID, "invalid_query", NULL, "the query string has an empty parameter (a stray '&')");
                if (query_decode(p, kn, key, sizeof(key)) < 0)
                        return nf_fail(e, NF_ERR_INVALID, "invalid_query", NULL, "query parameter '%s' is not a parameter name", shown);
                for (size_t i = 0; i < sizeof(known) / sizeof(*known); i++)
                        if (strcmp(key, known[i].name) == 0 && (allowed & known[i].bit))
                                which = (int)i;
                if (which < 0)
                        return nf_fail(e, NF_ERR_INVALID, "invalid_query", key[0] ? key : NULL,
                                       "query parameter '%s' is not known here%s", shown,
                                       allowed & NF_QUERY_DRY_RUN   ? " (this route takes dry_run=true|false)"
                                       : allowed & NF_QUERY_LIMIT   ? " (this route takes pod_uid=UID, limit=N and after=ID)"
                                       : allowed & NF_QUERY_POD_UID ? " (this route takes pod_uid=UID)"
                                                                    : " (this route takes no parameters)");
                if (seen & known[which].bit)
                        return nf_fail(e, NF_ERR_INVALID, "invalid_query", key,
                                       "query parameter %s is given more than once ('%s' again): say it once", key, shown);
                seen |= known[which].bit;
                if (known[which].bit == NF_QUERY_POD_UID) {
                        if (!has_val || query_decode(p + kn + 1, n - kn - 1, val, sizeof(val)) < 0 || strlen(val) < 8 ||
                            strlen(val) > 64 || strspn(val, "0123456789abcdef-") != strlen(val))
                                return nf_fail(e, NF_ERR_INVALID, "invalid_query", key,
                                               "query parameter '%s': pod_uid needs a pod uid (lowercase hex and dashes)", shown);
                        snprintf(q->pod_uid, sizeof(q->pod_uid), "%s", val);
                        if (!p[n])
                                return 0;
                        p += n + 1;
                        continue;
                }
                if (known[which].bit == NF_QUERY_LIMIT) {
                        char *end = NULL;
                        unsigned long v = 0;
                        if (has_val && query_decode(p + kn + 1, n - kn - 1, val, sizeof(val)) == 0 && val[0] >= '1' &&
                            val[0] <= '9' && strlen(val) <= 5)
                                v = strtoul(val, &end, 10);
                        if (!end || *end || v < 1 || v > NF_QUERY_LIMIT_MAX)
                                return nf_fail(e, NF_ERR_INVALID, "invalid_query", key,
                                               "query parameter '%s': limit needs a whole number of faults from 1 to %d", shown,
                                               NF_QUERY_LIMIT_MAX);
                        q->limit = (unsigned)v;
                        if (!p[n])
                                return 0;
                        p += n + 1;
                        continue;
                }
                if (known[which].bit == NF_QUERY_AFTER) {
                        if (!has_val || query_decode(p + kn + 1, n - kn - 1, val, sizeof(val)) < 0 || strlen(val) != 14 ||
                            strncmp(val, "f-", 2) != 0 || strspn(val + 2, "0123456789abcdef") != 12)
                                return nf_fail(e, NF_ERR_INVALID, "invalid_query", key,
                                               "query parameter '%s': after needs a fault id like f-3fa1c29be0d4 (the "
                                               "\"next\" of the page before)", shown);
                        snprintf(q->after, sizeof(q->after), "%s", val);
                        if (!p[n])
                                return 0;
                        p += n + 1;
                        continue;
                }
                /* Booleans are exactly true/false (or 1/0): anything else might be meant either
                 * way, and guessing "no" here would run a real apply. */
                if (!has_val || query_decode(p + kn + 1, n - kn - 1, val, sizeof(val)) < 0 ||
                    (strcmp(val, "true") != 0 && strcmp(val, "1") != 0 && strcmp(val, "false") != 0 &&
                     strcmp(val, "0") != 0))
                        return nf_fail(e, NF_ERR_INVALID, "invalid_query", key,
                                       "query parameter '%s': %s needs a value of true or false (or 1 or 0)", shown, key);
                if (known[which].bit == NF_QUERY_DRY_RUN)
                        q->dry_run = strcmp(val, "true") == 0 || strcmp(val, "1") == 0;
                if (!p[n])
                        return 0;
                p += n + 1;
        }
}
