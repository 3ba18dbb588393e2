#include "api/errors.h"

#include <cjson/cJSON.h>

static const int status_of[NF_ERR_KIND_COUNT] = {
        [NF_ERR_INTERNAL] = 500,
        [NF_ERR_INVALID] = 400,
        [NF_ERR_UNSATISFIABLE] = 422,
        [NF_ERR_NOT_FOUND] = 404,
        [NF_ERR_CONFLICT] = 409,
        [NF_ERR_LIMIT] = 429,
        [NF_ERR_UNSUPPORTED_KERNEL] = 503,
        [NF_ERR_KERNEL] = 500,
        [NF_ERR_DENIED] = 403,
        [NF_ERR_UNAVAILABLE] = 503,
        [NF_ERR_TOO_LARGE] = 413,
        [NF_ERR_MEDIA_TYPE] = 415,
        [NF_ERR_METHOD] = 405,
        [NF_ERR_NOT_IMPLEMENTED] = 501,
        [NF_ERR_EXPECTATION] = 417,
        [NF_ERR_UNAUTHENTICATED] = 401,
        [NF_ERR_FORBIDDEN] = 403,
        [NF_ERR_MISDIRECTED] = 421,
};

int nf_http_status(enum nf_err_kind kind) {
        return (unsigned)kind < NF_ERR_KIND_COUNT && status_of[kind] ? status_of[kind] : 500;
}

const char *nf_http_reason(int code) {
        switch (code) {
        case 200: return "OK";
        case 201: return "Created";
        case 400: return "Bad Request";
        case 401: return "Unauthorized";
        case 403: return "Forbidden";
        case 404: return "Not Found";
        case 405: return "Method Not Allowed";
        case 409: return "Conflict";
        case 413: return "Payload Too Large";
        case 415: return "Unsupported Media Type";
        case 417: return "Expectation Failed";
        case 421: return "Misdirected Request";
        case 422: return "Unprocessable Entity";
        case 429: return "Too Many Requests";
        case 501: return "Not Implemented";
        case 503: return "Service Unavailable";
        default: return code >= 500 ? "Internal Server Error" : "Error";
        }
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
