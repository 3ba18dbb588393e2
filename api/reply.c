#include "api/reply.h"

#include <cjson/cJSON.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/http.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "api/errors.h"
#include "core/log.h"

static uint32_t max_body_bytes, max_headers_bytes; /* named in libevent's 413 and 400 */
static nf_reply_observer *observer;
static void *observer_arg;

void nf_reply_set_observer(nf_reply_observer *fn, void *arg) {
        observer = fn;
        observer_arg = arg;
}

void nf_reply_set_limits(uint32_t body_bytes, uint32_t headers_bytes) {
        max_body_bytes = body_bytes;
        max_headers_bytes = headers_bytes;
}

/* The text of a reply: the JSON and a newline (NULL text: an empty body). NULL without memory. */
static struct evbuffer *json_text(const char *s) {
        struct evbuffer *buf = evbuffer_new();
        if (buf && s) {
                evbuffer_add(buf, s, strlen(s));
                evbuffer_add(buf, "\n", 1);
        }
        return buf;
}

void nf_api_reply(struct evhttp_request *req, int code, cJSON *body) {
        char *s = body ? cJSON_PrintUnformatted(body) : NULL;
        struct evbuffer *buf = json_text(s);
        struct evkeyvalq *h = evhttp_request_get_output_headers(req);
        evhttp_add_header(h, "Content-Type", "application/json");
        evhttp_add_header(h, "Cache-Control", "no-store");
        if (observer)
                observer(observer_arg, req, code, body);
        evhttp_send_reply(req, code, nf_http_reason(code), buf);
        if (buf)
                evbuffer_free(buf);
        free(s);
        cJSON_Delete(body);
}

void nf_api_reply_text(struct evhttp_request *req, int code, const char *content_type, struct evbuffer *body) {
        struct evkeyvalq *h = evhttp_request_get_output_headers(req);
        evhttp_add_header(h, "Content-Type", content_type);
        evhttp_add_header(h, "Cache-Control", "no-store");
        if (observer)
                observer(observer_arg, req, code, NULL);
        evhttp_send_reply(req, code, nf_http_reason(code), body);
}

void nf_api_reply_stream_start(struct evhttp_request *req, int code) {
        struct evkeyvalq *h = evhttp_request_get_output_headers(req);
        evhttp_add_header(h, "Content-Type", "application/json");
        evhttp_add_header(h, "Cache-Control", "no-store");
        if (observer)
                observer(observer_arg, req, code, NULL);
        evhttp_send_reply_start(req, code, nf_http_reason(code));
}

void nf_api_reply_error(struct evhttp_request *req, const struct nf_err *e) {
        nf_api_reply(req, nf_http_status(e->kind), nf_err_to_json(e));
}

/* libevent answers what it cannot parse itself (a body over --max-body: 413; a request line,
 * version or header block it refuses: 400; a method it does not know, such as a lowercase one:
 * 501) through evhttp_send_error, with an HTML page. libevent 2.1 has no hook for those errors,
 * but calls evhttp_send_error through the PLT, so this definition takes its place and every
 * reply keeps the documented JSON error shape. (tests/api/test-api.sh checks each case, so a
 * build where the override stops applying fails there.) */
void evhttp_send_error(struct evhttp_request *req, int code, const char *why) {
        struct evhttp_connection *evcon = evhttp_request_get_connection(req);
        struct evkeyvalq *h = evhttp_request_get_output_headers(req);
        struct evbuffer *out = NULL;
        size_t at = 0;
        struct nf_err e;
        char len[24];

        switch (code) {
        case 413:
                nf_fail(&e, NF_ERR_TOO_LARGE, "body_too_large", NULL, "the body is larger than the limit (--max-body) of %u bytes",
                        max_body_bytes);
                break;
        case 501:
                nf_fail(&e, NF_ERR_NOT_IMPLEMENTED, "not_implemented", NULL,
                        "the method is not implemented: netfaultd serves GET, POST and DELETE (methods are "
                        "case-sensitive)");
                break;
        case 417:
                nf_fail(&e, NF_ERR_EXPECTATION, "expectation_failed", NULL, "the only Expect this server knows is 100-continue");
                break;
        case 400:
                /* libevent does not say which of these it met. */
                nf_fail(&e, NF_ERR_INVALID, "bad_request", NULL,
                        "the request is not HTTP/1.0 or HTTP/1.1 that this server can read: a malformed request line "
                        "or header, an unsupported HTTP version, headers over %u bytes, or a bad Content-Length",
                        max_headers_bytes);
                break;
        default: /* any other caller of evhttp_send_error */
                nf_fail(&e, code >= 500 ? NF_ERR_UNAVAILABLE : NF_ERR_INVALID, code >= 500 ? "unavailable" : "bad_request", NULL,
                        "%s", why ? why : nf_http_reason(code));
                break;
        }
        cJSON *body = nf_err_to_json(&e);
        char *s = cJSON_PrintUnformatted(body);
        if (observer)
                observer(observer_arg, req, code, body);
        cJSON_Delete(body);
        evhttp_clear_headers(h);
        evhttp_add_header(h, "Content-Type", "application/json");
        evhttp_add_header(h, "Cache-Control", "no-store");
        /* What went wrong may have left the framing in doubt: this connection ends here. */
        evhttp_add_header(h, "Connection", "close");
        snprintf(len, sizeof(len), "%zu", s ? strlen(s) + 1 : 0);
        evhttp_add_header(h, "Content-Length", len);
        struct evbuffer *buf = json_text(s);
        free(s);
        nf_log(NF_LOG_DEBUG, "http.refused", "%d %s", code, e.code);
        if (evcon && evhttp_connection_get_bufferevent(evcon)) {
                out = bufferevent_get_output(evhttp_connection_get_bufferevent(evcon));
                at = evbuffer_get_length(out);
        }
        evhttp_send_reply(req, code, nf_http_reason(code), buf);
        /* A request whose version was never read (HTTP/0.9, HTTP/2.0) has version 0.0 in
         * libevent, which it would print as the status line; its own error page says 1.1. The
         * reply is still in the output buffer (written once the socket is writable). */
        if (out && evbuffer_get_length(out) >= at + 9) {
                unsigned char *p = evbuffer_pullup(out, (ev_ssize_t)(at + 9));
                if (p && memcmp(p + at, "HTTP/0.0 ", 9) == 0)
                        memcpy(p + at, "HTTP/1.1 ", 9);
        }
        if (buf)
                evbuffer_free(buf);
}
