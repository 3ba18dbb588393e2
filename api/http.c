#include "api/http.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/event.h>
#include <event2/http.h>
#include <event2/keyvalq_struct.h>
#include <event2/listener.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "daemon/clock.h"
#include "daemon/log.h"

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
        case 422: return "Unprocessable Entity";
        case 429: return "Too Many Requests";
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
        if (!evhttp_bind_socket_with_handle(api->http, host, (uint16_t)port)) {
                snprintf(err, errlen, "cannot listen on %s: %s", spec, strerror(errno));
                return -EADDRINUSE;
        }
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
        /* Let every method through to the router, which answers 405 in JSON with Allow. */
        evhttp_set_allowed_methods(api->http, EVHTTP_REQ_GET | EVHTTP_REQ_POST | EVHTTP_REQ_DELETE | EVHTTP_REQ_PUT |
                                                      EVHTTP_REQ_PATCH | EVHTTP_REQ_HEAD | EVHTTP_REQ_OPTIONS);
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
        if (api->http)
                evhttp_free(api->http);
        if (api->unix_path[0])
                unlink(api->unix_path);
        api->http = NULL;
}
