#include "api/errors.h"

#include <cjson/cJSON.h>
#include <stdio.h>

int nf_fail(struct nf_err *e, int http, const char *code, const char *field, const char *fmt, ...) {
        va_list ap;
        e->http = http;
        snprintf(e->code, sizeof(e->code), "%s", code);
        snprintf(e->field, sizeof(e->field), "%s", field ? field : "");
        va_start(ap, fmt);
        vsnprintf(e->message, sizeof(e->message), fmt, ap);
        va_end(ap);
        return -1;
}

cJSON *nf_err_to_json(const struct nf_err *e) {
        cJSON *root = cJSON_CreateObject(), *err = cJSON_AddObjectToObject(root, "error");
        cJSON_AddStringToObject(err, "code", e->code);
        cJSON_AddStringToObject(err, "message", e->message);
        if (e->field[0])
                cJSON_AddStringToObject(err, "field", e->field);
        else
                cJSON_AddNullToObject(err, "field");
        return root;
}
