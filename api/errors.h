/* How the HTTP surface shows a core error: one table from kinds to statuses, and the body
 * {"error": {"code","message","field"}}. A second surface maps kinds its own way. */
#pragma once
#include "api/layer.h"
#include "core/error.h"

int nf_http_status(enum nf_err_kind kind);
const char *nf_http_reason(int status);

struct cJSON;
struct cJSON *nf_err_to_json(const struct nf_err *e);
