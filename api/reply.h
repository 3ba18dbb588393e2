/* Every reply of the HTTP surface leaves through here: a JSON body (Content-Type and Cache-Control
 * set), errors as {"error":{"code","message","field"}} with the status of their kind
 * (api/errors.c), and the errors libevent answers before a request reaches the router. */
#pragma once
#include "api/layer.h"

#include <stdint.h>

#include "core/error.h"

struct evhttp_request;
struct cJSON;

/* Both take ownership of body. */
void nf_api_reply(struct evhttp_request *req, int code, struct cJSON *body);
void nf_api_reply_error(struct evhttp_request *req, const struct nf_err *e);

/* A reply that is not JSON (/metrics): body copied, not taken. */
struct evbuffer;
void nf_api_reply_text(struct evhttp_request *req, int code, const char *content_type, struct evbuffer *body);

/* Called with every reply just before it is sent (the audit log and the metrics, observe.c):
 * its status and JSON body (NULL for none). */
typedef void nf_reply_observer(void *arg, struct evhttp_request *req, int code, const struct cJSON *body);
void nf_reply_set_observer(nf_reply_observer *fn, void *arg);

/* The start of a reply whose JSON body follows in parts (evhttp_send_reply_chunk*, then
 * evhttp_send_reply_end): its headers, the observer (with no body) and the status line. */
void nf_api_reply_stream_start(struct evhttp_request *req, int code);

/* The limits libevent enforces itself, which its error replies name (413, 400): the server sets
 * them when it starts (max_body_bytes 0 again when it stops). */
void nf_reply_set_limits(uint32_t max_body_bytes, uint32_t max_headers_bytes);
