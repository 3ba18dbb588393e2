#include "api/ecs_scan.h"

#include <ctype.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- syntax: Go's scanner, state for state, so that its error texts come out the same ---- */

enum st {
        S_VALUE, S_VALUE_OR_EMPTY, S_KEY_OR_EMPTY, S_KEY, S_END, S_STR, S_ESC, S_U1, S_U2, S_U3, S_U4, S_NEG, S_ONE,
        S_ZERO, S_DOT, S_DOT0, S_E, S_ESIGN, S_E0, S_LIT /* inside true/false/null */
};

#define GO_MAX_DEPTH 10000 /* Go's maxNestingDepth */

struct scan {
        enum st st;
        char stack[GO_MAX_DEPTH]; /* 'k' object key, 'v' object value, 'a' array */
        size_t depth;
        const char *lit; /* the literal being read and the next byte it expects */
        size_t lit_at;
        bool done, end_excl; /* end_excl: the byte that ended the value is not part of it */
};

/* Go's quoteChar: the byte as strconv.Quote shows the rune of that value, in single quotes. */
static void quote_char(unsigned char c, char *buf, size_t len) {
        static const char esc[] = {['\a'] = 'a', ['\b'] = 'b', ['\f'] = 'f', ['\n'] = 'n', ['\r'] = 'r', ['\t'] = 't', ['\v'] = 'v'};
        if (c == '\'')
                snprintf(buf, len, "'\\''");
        else if (c == '\\')
                snprintf(buf, len, "'\\\\'");
        else if (c < sizeof(esc) && esc[c])
                snprintf(buf, len, "'\\%c'", esc[c]);
        else if (c < 0x20 || c == 0x7f)
                snprintf(buf, len, "'\\x%02x'", c);
        else if (c < 0x80)
                snprintf(buf, len, "'%c'", c);
        else if (c <= 0xa0 || c == 0xad) /* not printable in Go's tables */
                snprintf(buf, len, "'\\u%04x'", c);
        else
                snprintf(buf, len, "'%c%c'", 0xc0 | (c >> 6), 0x80 | (c & 0x3f));
}

static int syntax_error(unsigned char c, const char *context, char *msg) {
        char q[16];
        quote_char(c, q, sizeof(q));
        snprintf(msg, NF_ECS_MSG_MAX, "invalid character %s %s", q, context);
        return -1;
}

static int push(struct scan *s, char what, char *msg) {
        if (s->depth >= GO_MAX_DEPTH) {
                snprintf(msg, NF_ECS_MSG_MAX, "exceeded max depth");
                return -1;
        }
        s->stack[s->depth++] = what;
        return 0;
}

static bool is_space(unsigned char c) {
        return c == ' ' || c == '\t' || c == '\r' || c == '\n';
}

static int step(struct scan *s, unsigned char c, char *msg);

/* After a value: what its container (or the top level) allows next. */
static int end_value(struct scan *s, unsigned char c, char *msg) {
        if (s->depth == 0) {
                s->done = s->end_excl = true; /* the Decoder stops here; the rest is the next call's */
                return 0;
        }
        s->st = S_END;
        if (is_space(c))
                return 0;
        char *top = &s->stack[s->depth - 1];
        if (*top == 'k') {
                if (c != ':')
                        return syntax_error(c, "after object key", msg);
                *top = 'v';
                s->st = S_VALUE;
        } else if (*top == 'v') {
                if (c == ',') {
                        *top = 'k';
                        s->st = S_KEY;
                } else if (c == '}') {
                        s->depth--;
                        return s->depth == 0 ? (s->done = true, 0) : 0;
                } else
                        return syntax_error(c, "after object key:value pair", msg);
        } else {
                if (c == ',')
                        s->st = S_VALUE;
                else if (c == ']') {
                        s->depth--;
                        return s->depth == 0 ? (s->done = true, 0) : 0;
                } else
                        return syntax_error(c, "after array element", msg);
        }
        return 0;
}

static int begin_value(struct scan *s, unsigned char c, char *msg) {
        if (is_space(c))
                return 0;
        switch (c) {
        case '{': s->st = S_KEY_OR_EMPTY; return push(s, 'k', msg);
        case '[': s->st = S_VALUE_OR_EMPTY; return push(s, 'a', msg);
        case '"': s->st = S_STR; return 0;
        case '-': s->st = S_NEG; return 0;
        case '0': s->st = S_ZERO; return 0;
        case 't': s->lit = "true", s->lit_at = 1, s->st = S_LIT; return 0;
        case 'f': s->lit = "false", s->lit_at = 1, s->st = S_LIT; return 0;
        case 'n': s->lit = "null", s->lit_at = 1, s->st = S_LIT; return 0;
        }
        if (c >= '1' && c <= '9') {
                s->st = S_ONE;
                return 0;
        }
        return syntax_error(c, "looking for beginning of value", msg);
}

static int step(struct scan *s, unsigned char c, char *msg) {
        char ctx[48];
        switch (s->st) {
        case S_VALUE_OR_EMPTY:
                if (is_space(c))
                        return 0;
                if (c == ']')
                        return end_value(s, c, msg);
                return begin_value(s, c, msg);
        case S_VALUE: return begin_value(s, c, msg);
        case S_KEY_OR_EMPTY:
                if (is_space(c))
                        return 0;
                if (c == '}') {
                        s->stack[s->depth - 1] = 'v';
                        return end_value(s, c, msg);
                }
                /* fall through */
        case S_KEY:
                if (is_space(c))
                        return 0;
                if (c != '"')
                        return syntax_error(c, "looking for beginning of object key string", msg);
                s->st = S_STR;
                return 0;
        case S_END: return end_value(s, c, msg);
        case S_STR:
                if (c == '"') {
                        s->st = S_END;
                        return 0;
                }
                if (c == '\\')
                        s->st = S_ESC;
                else if (c < 0x20)
                        return syntax_error(c, "in string literal", msg);
                return 0;
        case S_ESC:
                if (strchr("bfnrt\\/\"", c) && c) {
                        s->st = S_STR;
                        return 0;
                }
                if (c == 'u') {
                        s->st = S_U1;
                        return 0;
                }
                return syntax_error(c, "in string escape code", msg);
        case S_U1: case S_U2: case S_U3: case S_U4:
                if (!isxdigit(c))
                        return syntax_error(c, "in \\u hexadecimal character escape", msg);
                s->st = s->st == S_U4 ? S_STR : s->st + 1;
                return 0;
        case S_NEG:
                if (c == '0')
                        s->st = S_ZERO;
                else if (c >= '1' && c <= '9')
                        s->st = S_ONE;
                else
                        return syntax_error(c, "in numeric literal", msg);
                return 0;
        case S_ONE:
                if (c >= '0' && c <= '9')
                        return 0;
                /* fall through */
        case S_ZERO:
                if (c == '.')
                        s->st = S_DOT;
                else if (c == 'e' || c == 'E')
                        s->st = S_E;
                else
                        return end_value(s, c, msg);
                return 0;
        case S_DOT:
                if (c < '0' || c > '9')
                        return syntax_error(c, "after decimal point in numeric literal", msg);
                s->st = S_DOT0;
                return 0;
        case S_DOT0:
                if (c >= '0' && c <= '9')
                        return 0;
                if (c == 'e' || c == 'E') {
                        s->st = S_E;
                        return 0;
                }
                return end_value(s, c, msg);
        case S_E:
                if (c == '+' || c == '-') {
                        s->st = S_ESIGN;
                        return 0;
                }
                /* fall through */
        case S_ESIGN:
                if (c < '0' || c > '9')
                        return syntax_error(c, "in exponent of numeric literal", msg);
                s->st = S_E0;
                return 0;
        case S_E0:
                if (c >= '0' && c <= '9')
                        return 0;
                return end_value(s, c, msg);
        case S_LIT:
                if (c != (unsigned char)s->lit[s->lit_at]) {
                        snprintf(ctx, sizeof(ctx), "in literal %s (expecting '%c')", s->lit, s->lit[s->lit_at]);
                        return syntax_error(c, ctx, msg);
                }
                if (!s->lit[++s->lit_at])
                        s->st = S_END;
                return 0;
        }
        return 0;
}

long nf_ecs_scan_value(const char *body, size_t len, char msg[NF_ECS_MSG_MAX]) {
        struct scan *s = calloc(1, sizeof(*s));
        long r = -1;
        size_t i;
        bool nonspace = false;
        if (!s) {
                snprintf(msg, NF_ECS_MSG_MAX, "internal error");
                return -1;
        }
        s->st = S_VALUE;
        for (i = 0; i < len && !s->done; i++) {
                nonspace |= !is_space((unsigned char)body[i]);
                if (step(s, (unsigned char)body[i], msg) < 0)
                        goto out;
        }
        if (s->done) {
                /* A number, or a literal or string at the top level, ends at the byte after it. */
                r = (long)(s->end_excl ? i - 1 : i);
                goto out;
        }
        /* At the end of the body Go feeds one space: it ends a number or a top-level value. */
        if (step(s, ' ', msg) < 0)
                goto out;
        if (s->done)
                r = (long)len;
        else if (!nonspace)
                r = 0;
        else
                snprintf(msg, NF_ECS_MSG_MAX, "unexpected EOF");
out:
        free(s);
        return r;
}
