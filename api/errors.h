/* The result of a request that did not succeed: an HTTP status, a stable code, the field at
 * fault and a sentence naming the bad value. Rendered as {"error": {"code","message","field"}}. */
#pragma once
#include <stdarg.h>

struct nf_err {
        int http;
        char code[32];
        char field[96];
        char message[640];
};

/* Fills e and returns -1, so that validators can `return nf_fail(e, ...)`. */
int nf_fail(struct nf_err *e, int http, const char *code, const char *field, const char *fmt, ...)
        __attribute__((format(printf, 5, 6)));

struct cJSON;
struct cJSON *nf_err_to_json(const struct nf_err *e);
