#include "core/error.h"

#include <stdio.h>

int nf_fail(struct nf_err *e, enum nf_err_kind kind, const char *code, const char *field, const char *fmt, ...) {
        va_list ap;
        e->kind = kind;
        e->retry_after_s = 0;
        snprintf(e->code, sizeof(e->code), "%s", code);
        snprintf(e->field, sizeof(e->field), "%s", field ? field : "");
        va_start(ap, fmt);
        vsnprintf(e->message, sizeof(e->message), fmt, ap);
        va_end(ap);
        return -1;
}
