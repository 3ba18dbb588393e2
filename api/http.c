#include "api/http.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <unistd.h>

#include "daemon/clock.h"
#include "daemon/log.h"
#include "api/validate.h"

#define MAX_HEADERS_BYTES 8192
#define REQUEST_TIMEOUT_S 30

static const char *reason(int code) {
        switch (code) {
        case 200: return "OK";
        case 201: return "Created";
        case 400: return "Bad Request";
        case 403: return "Forbidden";
        case 404: return "Not Found";
        case 405: return "Method Not Allowed";
        case 409: return "Conflict";
        case 413: return "Payload Too Large";
        case 415: return "Unsupported Media Type";
        case 417: return "Expectation Failed";
        case 422: return "Unprocessable Entity";
        case 429: return "Too Many Requests";
        case 501: return "Not Implemented";
        case 503: return "Service Unavailable";
        default: return code >= 500 ? "Internal Server Error" : "Error";
        }
}

void nf_api_reply(struct evhttp_request *req, int code, cJSON *body) {
        struct evbuffer *buf = evbuffer_new();
        char *s = body ? cJSON_PrintUnformatted(body) : NULL;
        struct evkeyvalq *h = evhttp_request_get_output_headers(req);
        evhttp_add_header(h, "Content-Type", "application/json");
        evhttp_add_header(h, "Cache-Control", "no-store");
        if (buf && s) {
                evbuffer_add(buf, s, strlen(s));
                evbuffer_add(buf, "\n", 1);
        }
        evhttp_send_reply(req, code, reason(code), buf);
        if (buf)
                evbuffer_free(buf);
        free(s);
        cJSON_Delete(body);
}

void nf_api_reply_error(struct evhttp_request *req, const struct nf_err *e) {
        nf_api_reply(req, e->http, nf_err_to_json(e));
}

/* libevent answers what it cannot parse itself (a body over --max-body: 413; a request line,
 * version or header block it refuses: 400; a method it does not know, such as a lowercase one:
 * 501) through evhttp_send_error, with an HTML page. libevent 2.1 has no hook for those errors,
 * but calls evhttp_send_error through the PLT, so this definition takes its place and every
 * reply keeps the documented JSON error shape. (tests/api/test-api.sh checks each case, so a
 * build where the override stops applying fails there.) */
static const struct nf_api *error_api; /* for the --max-body value in a 413 */

void evhttp_send_error(struct evhttp_request *req, int code, const char *why) {
        struct evhttp_connection *evcon = evhttp_request_get_connection(req);
        struct evkeyvalq *h = evhttp_request_get_output_headers(req);
        struct evbuffer *out = NULL;
        size_t at = 0;
        struct nf_err e;
        char len[24];

        switch (code) {
        case 413:
                nf_fail(&e, 413, "body_too_large", NULL, "the body is larger than the limit (--max-body) of %u bytes",
                        error_api ? error_api->cfg->max_body_bytes : 0u);
                break;
        case 501:
                nf_fail(&e, 501, "not_implemented", NULL,
                        "the method is not implemented: netfaultd serves GET, POST and DELETE (methods are "
                        "case-sensitive)");
                break;
        case 417:
                nf_fail(&e, 417, "expectation_failed", NULL, "the only Expect this server knows is 100-continue");
                break;
        case 400:
                /* libevent does not say which of these it met. */
                nf_fail(&e, 400, "bad_request", NULL,
                        "the request is not HTTP/1.0 or HTTP/1.1 that this server can read: a malformed request line "
                        "or header, an unsupported HTTP version, headers over %d bytes, or a bad Content-Length",
                        MAX_HEADERS_BYTES);
                break;
        default: /* any other caller of evhttp_send_error */
                nf_fail(&e, code, code >= 500 ? "unavailable" : "bad_request", NULL, "%s", why ? why : reason(code));
                break;
        }
        cJSON *body = nf_err_to_json(&e);
        char *s = cJSON_PrintUnformatted(body);
        cJSON_Delete(body);
        evhttp_clear_headers(h);
        evhttp_add_header(h, "Content-Type", "application/json");
        evhttp_add_header(h, "Cache-Control", "no-store");
        /* What went wrong may have left the framing in doubt: this connection ends here. */
        evhttp_add_header(h, "Connection", "close");
        snprintf(len, sizeof(len), "%zu", s ? strlen(s) + 1 : 0);
        evhttp_add_header(h, "Content-Length", len);
        struct evbuffer *buf = evbuffer_new();
        if (buf && s) {
                evbuffer_add(buf, s, strlen(s));
                evbuffer_add(buf, "\n", 1);
        }
        free(s);
        nf_log(NF_LOG_DEBUG, "http.refused", "%d %s", e.http, e.code);
        if (evcon && evhttp_connection_get_bufferevent(evcon)) {
                out = bufferevent_get_output(evhttp_connection_get_bufferevent(evcon));
                at = evbuffer_get_length(out);
        }
        evhttp_send_reply(req, code, reason(code), buf);
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

static size_t count_headers(struct evhttp_request *req, const char *name) {
        struct evkeyval *kv;
        size_t n = 0;
        for (kv = evhttp_request_get_input_headers(req)->tqh_first; kv; kv = kv->next.tqe_next)
                if (strcasecmp(kv->key, name) == 0)
                        n++;
        return n;
}

/* What every request must pass before routing: a method we know, framing nobody can read two
 * ways, and a query string the route takes. Replies and returns false otherwise. */
static bool request_ok(struct evhttp_request *req, const char *path, enum evhttp_cmd_type m) {
        struct nf_query q;
        struct nf_err e;
        size_t cl = count_headers(req, "Content-Length"), te = count_headers(req, "Transfer-Encoding");
        if (m != EVHTTP_REQ_GET && m != EVHTTP_REQ_POST && m != EVHTTP_REQ_DELETE && m != EVHTTP_REQ_PUT &&
            m != EVHTTP_REQ_PATCH && m != EVHTTP_REQ_HEAD && m != EVHTTP_REQ_OPTIONS) {
                /* CONNECT replies carry no framing for a body in libevent: end the connection. */
                evhttp_add_header(evhttp_request_get_output_headers(req), "Connection", "close");
                nf_fail(&e, 501, "not_implemented", NULL, "the method is not implemented: netfaultd serves GET, POST and DELETE");
                nf_api_reply_error(req, &e);
                return false;
        }
        /* Two Content-Length headers, or one beside Transfer-Encoding, can be read two ways by a
         * proxy and by us (request smuggling): refuse, and close, since the body's end is unsure. */
        if (cl > 1 || te > 1 || (cl && te)) {
                evhttp_add_header(evhttp_request_get_output_headers(req), "Connection", "close");
                if (cl > 1)
                        nf_fail(&e, 400, "bad_request", NULL, "the request has %zu Content-Length headers; send one", cl);
                else if (te > 1)
                        nf_fail(&e, 400, "bad_request", NULL, "the request has %zu Transfer-Encoding headers; send one", te);
                else
                        nf_fail(&e, 400, "bad_request", NULL,
                                "the request has both Content-Length and Transfer-Encoding; send only one of them");
                nf_api_reply_error(req, &e);
                return false;
        }
        unsigned allowed = m == EVHTTP_REQ_POST && (strcmp(path, "/v1/faults") == 0 || strcmp(path, "/v1/faults/") == 0)
                                   ? NF_QUERY_DRY_RUN
                                   : 0;
        if (nf_query_parse(evhttp_uri_get_query(evhttp_request_get_evhttp_uri(req)), allowed, &q, &e) < 0) {
                nf_api_reply_error(req, &e);
                return false;
        }
        return true;
}

static void method_not_allowed(struct evhttp_request *req, const char *allow) {
        struct nf_err e;
        evhttp_add_header(evhttp_request_get_output_headers(req), "Allow", allow);
        nf_fail(&e, 405, "method_not_allowed", NULL, "%s allows %s",
                evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req)), allow);
        nf_api_reply_error(req, &e);
}

/* A token bucket per client address for requests that change the kernel: --rate-limit per
 * second, bursts of twice that. The table is small and forgets the least recent client. */
static bool rate_ok(struct nf_api *api, struct evhttp_request *req) {
        struct evhttp_connection *c = evhttp_request_get_connection(req);
        const char *addr = "unix";
        ev_uint16_t port;
        double now = (double)nf_now_monotonic_ms() / 1000.0, rate = api->cfg->rate_limit, burst = 2 * rate;
        struct nf_rate_bucket *b = NULL, *oldest = &api->buckets[0];
        struct nf_err e;

        if (rate <= 0)
                return true;
        if (c) {
                char *a = NULL;
                evhttp_connection_get_peer(c, &a, &port);
                if (a && *a)
                        addr = a;
        }
        for (size_t i = 0; i < NF_RATE_BUCKETS; i++) {
                if (strcmp(api->buckets[i].client, addr) == 0) {
                        b = &api->buckets[i];
                        break;
                }
                if (api->buckets[i].last < oldest->last)
                        oldest = &api->buckets[i];
        }
        if (!b) {
                b = oldest;
                snprintf(b->client, sizeof(b->client), "%s", addr);
                b->tokens = burst;
                b->last = now;
        }
        b->tokens += (now - b->last) * rate;
        if (b->tokens > burst)
                b->tokens = burst;
        b->last = now;
        if (b->tokens >= 1) {
                b->tokens -= 1;
                return true;
        }
        evhttp_add_header(evhttp_request_get_output_headers(req), "Retry-After", "1");
        nf_fail(&e, 429, "rate_limited", NULL, "more than %u changing requests per second from %s (--rate-limit)",
                api->cfg->rate_limit, addr);
        nf_api_reply_error(req, &e);
        return false;
}

static void route(struct evhttp_request *req, void *arg) {
        struct nf_api *api = arg;
        const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
        enum evhttp_cmd_type m = evhttp_request_get_command(req);
        struct nf_err e;

        if (!path)
                path = "/";
        if (!request_ok(req, path, m))
                return;
        if (strcmp(path, "/healthz") == 0) {
                if (m != EVHTTP_REQ_GET)
                        return method_not_allowed(req, "GET");
                return nf_api_healthz(api, req);
        }
        if (strcmp(path, "/v1/capabilities") == 0) {
                if (m != EVHTTP_REQ_GET)
                        return method_not_allowed(req, "GET");
                return nf_api_capabilities(api, req);
        }
        if (strcmp(path, "/v1/faults") == 0 || strcmp(path, "/v1/faults/") == 0) {
                if (m != EVHTTP_REQ_GET && m != EVHTTP_REQ_POST && m != EVHTTP_REQ_DELETE)
                        return method_not_allowed(req, "GET, POST, DELETE");
                if (m != EVHTTP_REQ_GET && !rate_ok(api, req))
                        return;
                return nf_api_faults_collection(api, req);
        }
        const char *slash = strncmp(path, "/v1/faults/", 11) == 0 ? strchr(path + 11, '/') : NULL;
        if (slash && strcmp(slash, "/renew") == 0 && slash - (path + 11) < 40) {
                char id[40];
                snprintf(id, sizeof(id), "%.*s", (int)(slash - (path + 11)), path + 11);
                if (m != EVHTTP_REQ_POST)
                        return method_not_allowed(req, "POST");
                if (!rate_ok(api, req))
                        return;
                return nf_api_fault_renew(api, req, id);
        }
        if (strncmp(path, "/v1/faults/", 11) == 0 && !strchr(path + 11, '/')) {
                if (m != EVHTTP_REQ_GET && m != EVHTTP_REQ_DELETE)
                        return method_not_allowed(req, "GET, DELETE");
                if (m != EVHTTP_REQ_GET && !rate_ok(api, req))
                        return;
                return nf_api_fault_item(api, req, path + 11);
        }
        nf_fail(&e, 404, "not_found", NULL, "no such resource: %.200s", path);
        nf_api_reply_error(req, &e);
}

static int listen_unix(struct nf_api *api, const char *path, char *err, size_t errlen) {
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        struct stat st;
        struct evconnlistener *lev;
        int fd;

        if (strlen(path) >= sizeof(sa.sun_path)) {
                snprintf(err, errlen, "unix socket path too long: %s", path);
                return -ENAMETOOLONG;
        }
        snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", path);
        /* A stale socket from an earlier run is replaced; any other file is left alone. */
        if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode))
                unlink(path);
        fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        if (fd < 0 || bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0 || chmod(path, 0660) < 0 || listen(fd, 128) < 0) {
                int r = -errno;
                snprintf(err, errlen, "cannot listen on unix:%s: %s", path, strerror(errno));
                if (fd >= 0)
                        close(fd);
                return r;
        }
        lev = evconnlistener_new(api->base, NULL, NULL, LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, -1, fd);
        if (!lev || !evhttp_bind_listener(api->http, lev)) {
                snprintf(err, errlen, "cannot serve unix:%s", path);
                if (lev)
                        evconnlistener_free(lev);
                else
                        close(fd);
                return -EIO;
        }
        snprintf(api->unix_path, sizeof(api->unix_path), "%s", path);
        return 0;
}

static int listen_tcp(struct nf_api *api, const char *spec, char *err, size_t errlen) {
        char host[256];
        const char *colon = strrchr(spec, ':');
        char *end;
        long port;
        size_t hl;

        if (!colon || colon == spec) {
                snprintf(err, errlen, "--listen: '%s' is not HOST:PORT or unix:/path", spec);
                return -EINVAL;
        }
        port = strtol(colon + 1, &end, 10);
        if (*end || port < 0 || port > 65535 || colon[1] == '\0') {
                snprintf(err, errlen, "--listen: '%s' has no valid port", spec);
                return -EINVAL;
        }
        hl = (size_t)(colon - spec);
        if (spec[0] == '[' && hl >= 2 && spec[hl - 1] == ']') { /* [::1]:9700 */
                spec++;
                hl -= 2;
        }
        snprintf(host, sizeof(host), "%.*s", (int)hl, spec);
        struct evhttp_bound_socket *bs = evhttp_bind_socket_with_handle(api->http, host, (uint16_t)port);
        if (!bs) {
                snprintf(err, errlen, "cannot listen on %s: %s", spec, strerror(errno));
                return -EADDRINUSE;
        }
        /* The port actually bound (port 0 picks one): it is what gets logged and protected. */
        struct sockaddr_storage ss;
        socklen_t sl = sizeof(ss);
        api->port = (uint16_t)port;
        if (getsockname(evhttp_bound_socket_get_fd(bs), (struct sockaddr *)&ss, &sl) == 0)
                api->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                                           : ((struct sockaddr_in *)&ss)->sin_port);
        return 0;
}

int nf_api_start(struct nf_api *api, struct event_base *base, struct nf_registry *reg, const struct nf_config *cfg,
                 char *err, size_t errlen) {
        *api = (struct nf_api){.base = base, .reg = reg, .cfg = cfg};
        api->http = evhttp_new(base);
        if (!api->http) {
                snprintf(err, errlen, "cannot create the HTTP server");
                return -ENOMEM;
        }
        evhttp_set_max_headers_size(api->http, MAX_HEADERS_BYTES);
        evhttp_set_max_body_size(api->http, cfg->max_body_bytes);
        evhttp_set_timeout(api->http, REQUEST_TIMEOUT_S);
        /* Let every method libevent knows through to the router, which answers 405 (with Allow)
         * or 501 in JSON; methods it does not know meet evhttp_send_error above. */
        evhttp_set_allowed_methods(api->http, 0xffff);
        error_api = api;
        evhttp_set_gencb(api->http, route, api);
        if (strncmp(cfg->listen, "unix:", 5) == 0)
                return listen_unix(api, cfg->listen + 5, err, errlen);
        return listen_tcp(api, cfg->listen, err, errlen);
}

uint16_t nf_listen_port(const char *listen) {
        const char *colon = strrchr(listen, ':');
        char *end;
        if (strncmp(listen, "unix:", 5) == 0 || !colon)
                return 0;
        long p = strtol(colon + 1, &end, 10);
        return *end || p <= 0 || p > 65535 ? 0 : (uint16_t)p;
}

void nf_api_stop(struct nf_api *api) {
        error_api = NULL;
        if (api->http)
                evhttp_free(api->http);
        if (api->unix_path[0])
                unlink(api->unix_path);
        api->http = NULL;
}
