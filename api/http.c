#include "api/http.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/event_struct.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <netinet/in.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/log.h"
#include "api/errors.h"
#include "api/request.h"

#define MAX_HEADERS_BYTES 8192
#define REQUEST_TIMEOUT_S 30

/* Connection bookkeeping (at the end of this file). */
static void conn_dispatched(struct nf_api *api, struct evhttp_request *req);
static void conns_start(struct nf_api *api);
static void conns_stop(struct nf_api *api);

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
        evhttp_send_reply(req, code, nf_http_reason(code), buf);
        if (buf)
                evbuffer_free(buf);
        free(s);
        cJSON_Delete(body);
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
                nf_fail(&e, NF_ERR_TOO_LARGE, "body_too_large", NULL, "the body is larger than the limit (--max-body) of %u bytes",
                        error_api ? error_api->cfg->max_body_bytes : 0u);
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
                        "or header, an unsupported HTTP version, headers over %d bytes, or a bad Content-Length",
                        MAX_HEADERS_BYTES);
                break;
        default: /* any other caller of evhttp_send_error */
                nf_fail(&e, code >= 500 ? NF_ERR_UNAVAILABLE : NF_ERR_INVALID, code >= 500 ? "unavailable" : "bad_request", NULL,
                        "%s", why ? why : nf_http_reason(code));
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
                nf_fail(&e, NF_ERR_NOT_IMPLEMENTED, "not_implemented", NULL, "the method is not implemented: netfaultd serves GET, POST and DELETE");
                nf_api_reply_error(req, &e);
                return false;
        }
        /* Two Content-Length headers, or one beside Transfer-Encoding, can be read two ways by a
         * proxy and by us (request smuggling): refuse, and close, since the body's end is unsure. */
        if (cl > 1 || te > 1 || (cl && te)) {
                evhttp_add_header(evhttp_request_get_output_headers(req), "Connection", "close");
                if (cl > 1)
                        nf_fail(&e, NF_ERR_INVALID, "bad_request", NULL, "the request has %zu Content-Length headers; send one", cl);
                else if (te > 1)
                        nf_fail(&e, NF_ERR_INVALID, "bad_request", NULL, "the request has %zu Transfer-Encoding headers; send one", te);
                else
                        nf_fail(&e, NF_ERR_INVALID, "bad_request", NULL,
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
        nf_fail(&e, NF_ERR_METHOD, "method_not_allowed", NULL, "%s allows %s",
                evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req)), allow);
        nf_api_reply_error(req, &e);
}

/* Token buckets for requests that change the kernel, refilled at R per second with bursts of
 * 2R: one per client (--rate-limit; TCP clients by address, Unix-socket clients by user id), in
 * a small table that forgets the least recent client, and one for all clients together
 * (--rate-limit-global), so that rotating source addresses cannot reset the limit. DELETEs only
 * revert: they are exempt from the global budget, so that nobody can spend it to keep an
 * operator from reverting. */
static void bucket_fill(struct nf_rate_bucket *b, double rate, double now) {
        b->tokens += (now - b->last) * rate;
        if (b->tokens > 2 * rate)
                b->tokens = 2 * rate;
        b->last = now;
}

static bool rate_ok(struct nf_api *api, struct evhttp_request *req) {
        struct evhttp_connection *c = evhttp_request_get_connection(req);
        char addr[64] = "unix";
        ev_uint16_t port;
        double now = (double)nf_now_monotonic_ms() / 1000.0, rate = api->cfg->rate_limit, grate = api->cfg->rate_limit_global;
        bool global = grate > 0 && evhttp_request_get_command(req) != EVHTTP_REQ_DELETE, client_ok = true;
        struct nf_rate_bucket *b = NULL, *oldest = &api->buckets[0];
        struct nf_err e;

        if (rate <= 0 && !global)
                return true;
        if (c && api->unix_path[0]) {
                /* Every Unix-socket client has the same (empty) address: tell them apart by user. */
                struct ucred cred;
                socklen_t len = sizeof(cred);
                int fd = bufferevent_getfd(evhttp_connection_get_bufferevent(c));
                if (fd >= 0 && getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cred, &len) == 0)
                        snprintf(addr, sizeof(addr), "uid %u", (unsigned)cred.uid);
        } else if (c) {
                char *a = NULL;
                evhttp_connection_get_peer(c, &a, &port);
                if (a && *a)
                        snprintf(addr, sizeof(addr), "%s", a);
        }
        if (rate > 0) {
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
                        b->tokens = 2 * rate;
                        b->last = now;
                }
                bucket_fill(b, rate, now);
                client_ok = b->tokens >= 1;
        }
        if (global) {
                if (!api->global.client[0]) {
                        snprintf(api->global.client, sizeof(api->global.client), "all clients");
                        api->global.tokens = 2 * grate;
                        api->global.last = now;
                }
                bucket_fill(&api->global, grate, now);
        }
        if (client_ok && (!global || api->global.tokens >= 1)) {
                if (b)
                        b->tokens -= 1;
                if (global)
                        api->global.tokens -= 1;
                return true;
        }
        evhttp_add_header(evhttp_request_get_output_headers(req), "Retry-After", "1");
        if (!client_ok)
                nf_fail(&e, NF_ERR_LIMIT, "rate_limited", NULL, "more than %u changing requests per second from %s (--rate-limit)",
                        api->cfg->rate_limit, addr);
        else
                nf_fail(&e, NF_ERR_LIMIT, "rate_limited", NULL,
                        "more than %u changing requests per second from all clients together (--rate-limit-global)",
                        api->cfg->rate_limit_global);
        nf_api_reply_error(req, &e);
        return false;
}

static void route(struct evhttp_request *req, void *arg) {
        struct nf_api *api = arg;
        const char *path = evhttp_uri_get_path(evhttp_request_get_evhttp_uri(req));
        enum evhttp_cmd_type m = evhttp_request_get_command(req);
        struct nf_err e;

        conn_dispatched(api, req);
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
        nf_fail(&e, NF_ERR_NOT_FOUND, "not_found", NULL, "no such resource: %.200s", path);
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
        /* A socket that answers belongs to a running server (perhaps another netfaultd, in
         * another network namespace): refuse it. A stale socket from an earlier run refuses
         * connections and is replaced; any other file is left alone (bind fails). */
        if (lstat(path, &st) == 0 && S_ISSOCK(st.st_mode)) {
                int probe = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0), perr = 0;
                if (probe < 0 || connect(probe, (struct sockaddr *)&sa, sizeof(sa)) == 0)
                        perr = probe < 0 ? errno : EADDRINUSE;
                else if (errno != ECONNREFUSED && errno != ENOENT)
                        perr = errno == EAGAIN ? EADDRINUSE : errno; /* EAGAIN: its backlog is full */
                if (probe >= 0)
                        close(probe);
                if (perr) {
                        snprintf(err, errlen, "cannot listen on unix:%s: %s", path,
                                 perr == EADDRINUSE ? "a server is running on it (another netfaultd?)" : strerror(perr));
                        return -perr;
                }
                unlink(path);
        }
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
        if (stat(path, &st) == 0) { /* what we remove on exit, if it is still there */
                api->unix_dev = st.st_dev;
                api->unix_ino = st.st_ino;
        }
        api->listener = lev;
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
        api->listener = evhttp_bound_socket_get_listener(bs);
        /* The port actually bound (port 0 picks one): it is what gets logged and protected. */
        struct sockaddr_storage ss;
        socklen_t sl = sizeof(ss);
        api->port = (uint16_t)port;
        if (getsockname(evhttp_bound_socket_get_fd(bs), (struct sockaddr *)&ss, &sl) == 0)
                api->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                                           : ((struct sockaddr_in *)&ss)->sin_port);
        return 0;
}

int nf_api_start(struct nf_api *api, struct event_base *base, struct nf_registry *reg, const struct nf_api_options *cfg,
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
        int r = strncmp(cfg->listen, "unix:", 5) == 0 ? listen_unix(api, cfg->listen + 5, err, errlen)
                                                      : listen_tcp(api, cfg->listen, err, errlen);
        if (r == 0)
                conns_start(api);
        return r;
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
        api->listener = NULL; /* evhttp_free frees it; closing connections must not resume it */
        error_api = NULL;
        if (api->http)
                evhttp_free(api->http);
        conns_stop(api);
        /* Only the socket file we created: another server may have taken the path since. */
        struct stat st;
        if (api->unix_path[0] && lstat(api->unix_path, &st) == 0 && S_ISSOCK(st.st_mode) &&
            st.st_dev == api->unix_dev && st.st_ino == api->unix_ino)
                unlink(api->unix_path);
        api->unix_path[0] = '\0';
        api->http = NULL;
}

/* --- Connections ---------------------------------------------------------------------------
 * evhttp (libevent 2.1) has no connection limit and only an inactivity timeout, which a client
 * sending a byte every few seconds keeps extending; once the process runs out of descriptors,
 * accept() fails with EMFILE on every loop turn and libevent logs each failure. So we keep our
 * own record of every connection (evhttp_set_bevcb runs once per accepted connection), with
 *  - a cap below RLIMIT_NOFILE: at the cap, the connection that has waited longest for its
 *    client (idle keep-alive or a slow request) is dropped to make room for the new one;
 *  - an absolute deadline (--request-timeout) per phase: from accept (or the previous reply) to
 *    the whole request, and from the request to the whole reply; trickling does not extend it.
 *    Time spent waiting for DNS answers does not count (that is bounded on its own);
 *  - accept() errors paused for a moment instead of retried at once, and logged at most once
 *    every few seconds with a count.
 * A connection is dropped with shutdown(): libevent then sees end-of-file and frees it through
 * its own paths, which call our close callback. */

#define FD_RESERVE 64          /* descriptors kept for the daemon's own use (netlink, journal, DNS) */
#define DEFAULT_MAX_CONNS 1024
#define ACCEPT_PAUSE_MS 100
#define CONN_LOG_INTERVAL_MS 10000

struct nf_conn {
        struct nf_api *api;
        struct nf_conn *prev, *next;
        struct bufferevent *bev;
        struct evhttp_connection *evcon; /* once attached */
        int fd;
        int64_t since_ms; /* start of the current phase */
        struct event timer; /* attach, then the deadline */
        struct event watch; /* client hang-up while the request waits */
        bool attached, dropping, watching;
        nf_client_gone_fn gone;
        void *gone_arg;
};

static void conn_unlink(struct nf_api *api, struct nf_conn *c) {
        if (c->prev)
                c->prev->next = c->next;
        else
                api->conn_head = c->next;
        if (c->next)
                c->next->prev = c->prev;
        else
                api->conn_tail = c->prev;
        c->prev = c->next = NULL;
}

static void conn_append(struct nf_api *api, struct nf_conn *c) {
        c->prev = api->conn_tail;
        c->next = NULL;
        if (api->conn_tail)
                api->conn_tail->next = c;
        else
                api->conn_head = c;
        api->conn_tail = c;
}

/* The connection made progress (a new phase begins): its deadline starts again. */
static void conn_touch(struct nf_conn *c) {
        struct timeval tv = {.tv_sec = c->api->cfg->request_timeout_s};
        c->since_ms = nf_now_monotonic_ms();
        conn_unlink(c->api, c);
        conn_append(c->api, c);
        if (c->attached)
                evtimer_add(&c->timer, &tv);
}

/* One summary line at most every CONN_LOG_INTERVAL_MS, however hard the API is pressed. */
static void conn_log(struct nf_api *api, bool force) {
        int64_t now = nf_now_monotonic_ms();
        if (!api->dropped_cap && !api->dropped_deadline && !api->accept_errors)
                return;
        if (!force && api->conn_log_ms && now - api->conn_log_ms < CONN_LOG_INTERVAL_MS)
                return;
        nf_log(NF_LOG_WARN, "http.connections_dropped",
               "%lu at the connection cap (%zu, --max-connections), %lu past the request deadline (%us, "
               "--request-timeout), %lu accept() failures; %zu open",
               api->dropped_cap, api->max_conns, api->dropped_deadline, api->cfg->request_timeout_s,
               api->accept_errors, api->n_conns);
        api->dropped_cap = api->dropped_deadline = api->accept_errors = 0;
        api->conn_log_ms = now;
}

static void conn_drop(struct nf_conn *c) {
        if (c->dropping || c->fd < 0)
                return;
        c->dropping = true;
        c->api->n_dropping++;
        shutdown(c->fd, SHUT_RDWR);
}

/* The connection that has waited longest for its client, if any may be dropped. */
static struct nf_conn *conn_victim(struct nf_api *api) {
        for (struct nf_conn *c = api->conn_head; c; c = c->next)
                if (c->attached && !c->dropping && !c->watching)
                        return c;
        return NULL;
}

static void accept_resume(struct nf_api *api) {
        if (api->listener && (api->accept_paused || api->fd_paused) && !event_pending(api->resume_ev, EV_TIMEOUT, NULL) &&
            api->n_conns < api->pause_at) {
                api->accept_paused = api->fd_paused = false;
                evconnlistener_enable(api->listener);
        }
}

static void on_resume(evutil_socket_t fd, short what, void *arg) {
        (void)fd;
        (void)what;
        accept_resume(arg);
        conn_log(arg, false);
}

static void conn_closed(struct evhttp_connection *evcon, void *arg) {
        struct nf_conn *c = arg;
        struct nf_api *api = c->api;
        (void)evcon;
        if (c->gone) {
                nf_client_gone_fn gone = c->gone;
                c->gone = NULL;
                gone(c->gone_arg);
        }
        if (c->watching)
                event_del(&c->watch);
        evtimer_del(&c->timer);
        conn_unlink(api, c);
        api->n_conns--;
        if (c->dropping)
                api->n_dropping--;
        free(c);
        accept_resume(api);
}

static void conn_timer(evutil_socket_t fd, short what, void *arg) {
        struct nf_conn *c = arg;
        struct nf_api *api = c->api;
        (void)fd;
        (void)what;
        if (!c->attached) {
                /* evhttp has now made its connection around our bufferevent: find it (it is the
                 * bufferevent's callback argument) unless evhttp already gave up on it. */
                bufferevent_data_cb rd = NULL;
                void *evcon = NULL;
                bufferevent_getcb(c->bev, &rd, NULL, NULL, &evcon);
                if (!rd || !evcon) {
                        conn_unlink(api, c);
                        api->n_conns--;
                        bufferevent_decref(c->bev);
                        free(c);
                        return;
                }
                c->evcon = evcon;
                c->fd = bufferevent_getfd(c->bev);
                c->attached = true;
                evhttp_connection_set_closecb(c->evcon, conn_closed, c);
                bufferevent_decref(c->bev);
                struct timeval tv = {.tv_sec = api->cfg->request_timeout_s};
                evtimer_add(&c->timer, &tv);
                return;
        }
        if (c->watching) /* waiting for DNS, not for the client */
                return;
        api->dropped_deadline++;
        conn_drop(c);
        conn_log(api, false);
}

/* evhttp calls this for every accepted connection, before it reads anything. */
static struct bufferevent *conn_new(struct event_base *base, void *arg) {
        struct nf_api *api = arg;
        struct nf_conn *c = calloc(1, sizeof(*c));
        struct bufferevent *bev = c ? bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE) : NULL;
        if (!bev) {
                free(c);
                return NULL; /* evhttp makes its own; the connection goes uncounted */
        }
        /* Our reference keeps the bufferevent readable until we attach (a few microseconds). */
        bufferevent_incref(bev);
        *c = (struct nf_conn){.api = api, .bev = bev, .fd = -1, .since_ms = nf_now_monotonic_ms()};
        evtimer_assign(&c->timer, base, conn_timer, c);
        event_active(&c->timer, EV_TIMEOUT, 1);
        conn_append(api, c);
        api->n_conns++;
        if (api->n_conns - api->n_dropping > api->max_conns) {
                struct nf_conn *v = conn_victim(api);
                if (v) {
                        api->dropped_cap++;
                        conn_drop(v);
                }
                conn_log(api, false);
        }
        /* Dropped connections hold their descriptors until libevent reads their end: stop
         * accepting before the descriptors run out. */
        if (api->n_conns >= api->pause_at && api->listener && !api->fd_paused) {
                api->fd_paused = true;
                evconnlistener_disable(api->listener);
        }
        return bev;
}

static struct nf_conn *conn_of(struct nf_api *api, struct evhttp_request *req) {
        struct evhttp_connection *evcon = evhttp_request_get_connection(req);
        for (struct nf_conn *c = api->conn_tail; evcon && c; c = c->prev)
                if (c->evcon == evcon)
                        return c;
        return NULL;
}

static void conn_request_done(struct evhttp_request *req, void *arg) {
        struct nf_conn *c = arg;
        (void)req;
        conn_touch(c); /* waiting for the next request on this connection */
}

static void conn_dispatched(struct nf_api *api, struct evhttp_request *req) {
        struct nf_conn *c = conn_of(api, req);
        if (!c)
                return;
        conn_touch(c); /* the reply must now reach the client in time */
        evhttp_request_set_on_complete_cb(req, conn_request_done, c);
}

static void conn_watch(evutil_socket_t fd, short what, void *arg) {
        struct nf_conn *c = arg;
        char b;
        (void)what;
        ssize_t n = recv(fd, &b, 1, MSG_PEEK | MSG_DONTWAIT);
        if (n < 0 && (errno == EAGAIN || errno == EINTR))
                return;
        if (n > 0) { /* a pipelined request: the hang-up shows when we write the reply */
                event_del(&c->watch);
                return;
        }
        /* End of file or a reset: nobody is waiting for the answer any more. */
        nf_client_gone_fn gone = c->gone;
        c->gone = NULL;
        event_del(&c->watch);
        c->watching = false;
        if (gone)
                gone(c->gone_arg);
        evhttp_connection_free(c->evcon); /* frees the request; conn_closed frees c */
}

void nf_api_watch_client(struct nf_api *api, struct evhttp_request *req, nf_client_gone_fn gone, void *arg) {
        struct nf_conn *c = conn_of(api, req);
        if (!c || c->fd < 0)
                return;
        c->gone = gone;
        c->gone_arg = arg;
        c->watching = true;
        evtimer_del(&c->timer);
        event_assign(&c->watch, api->base, c->fd, EV_READ | EV_PERSIST, conn_watch, c);
        event_add(&c->watch, NULL);
}

void nf_api_unwatch_client(struct nf_api *api, struct evhttp_request *req) {
        struct nf_conn *c = conn_of(api, req);
        if (!c || !c->watching)
                return;
        event_del(&c->watch);
        c->watching = false;
        c->gone = NULL;
        conn_touch(c);
}

static struct nf_api *accept_api; /* the listener's error callback gets evhttp's argument, not ours */

static void on_accept_error(struct evconnlistener *lev, void *arg) {
        struct nf_api *api = accept_api;
        struct timeval tv = {.tv_usec = ACCEPT_PAUSE_MS * 1000};
        int err = errno;
        (void)arg;
        if (!api)
                return;
        api->accept_errors++;
        /* Out of descriptors (or memory): retrying at once would spin. Pause, and free a
         * descriptor by dropping the connection that has waited longest for its client. */
        evconnlistener_disable(lev);
        api->accept_paused = true;
        evtimer_add(api->resume_ev, &tv);
        if (err == EMFILE || err == ENFILE) {
                struct nf_conn *v = conn_victim(api);
                if (v) {
                        api->dropped_cap++;
                        conn_drop(v);
                }
        }
        conn_log(api, false);
}

static void conns_start(struct nf_api *api) {
        struct rlimit rl = {.rlim_cur = 1024};
        size_t limit, cap;
        getrlimit(RLIMIT_NOFILE, &rl);
        limit = rl.rlim_cur == RLIM_INFINITY || rl.rlim_cur > 1 << 20 ? 1 << 20 : (size_t)rl.rlim_cur;
        /* Past pause_at we stop accepting; the cap leaves room below it for connections being
         * dropped (they close on the next loop turn). */
        api->pause_at = limit > 2 * FD_RESERVE ? limit - FD_RESERVE : limit / 2;
        cap = api->pause_at - api->pause_at / 8;
        api->max_conns = api->cfg->max_connections ? api->cfg->max_connections : DEFAULT_MAX_CONNS;
        if (api->max_conns > cap) {
                if (api->cfg->max_connections)
                        nf_log(NF_LOG_WARN, "http.max_connections",
                               "--max-connections %u lowered to %zu: the descriptor limit (ulimit -n) is %zu",
                               api->cfg->max_connections, cap, limit);
                api->max_conns = cap;
        }
        api->resume_ev = evtimer_new(api->base, on_resume, api);
        accept_api = api;
        if (api->listener)
                evconnlistener_set_error_cb(api->listener, on_accept_error);
        evhttp_set_bevcb(api->http, conn_new, api);
}

static void conns_stop(struct nf_api *api) {
        conn_log(api, true);
        /* evhttp_free closed every attached connection; what is left never got attached. */
        while (api->conn_head) {
                struct nf_conn *c = api->conn_head;
                conn_unlink(api, c);
                evtimer_del(&c->timer);
                if (!c->attached)
                        bufferevent_decref(c->bev);
                free(c);
        }
        if (api->resume_ev)
                event_free(api->resume_ev);
        api->resume_ev = NULL;
        api->listener = NULL;
        accept_api = NULL;
}
