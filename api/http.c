#include "api/http.h"

#include <errno.h>
#include <event2/http.h>
#include <event2/listener.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include "api/connections.h"
#include "api/observe.h"
#include "api/reply.h"
#include "api/routes.h"
#include "api/tls.h"
#include "core/log.h"

/* libevent's own limits on a request; the router and the connection manager add the rest. */
#define MAX_HEADERS_BYTES 8192
#define REQUEST_TIMEOUT_S 30

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

int nf_listen_parse(const char *s, struct nf_listen_addr *out, char *err, size_t errlen) {
        const char *colon = strrchr(s, ':');
        char *end;
        long port;
        size_t hl;

        *out = (struct nf_listen_addr){0};
        if (strncmp(s, "unix:", 5) == 0) {
                if (!s[5] || strlen(s + 5) >= sizeof(out->host)) {
                        snprintf(err, errlen, "--listen: '%s' names no usable socket path", s);
                        return -EINVAL;
                }
                out->is_unix = true;
                snprintf(out->host, sizeof(out->host), "%s", s + 5);
                return 0;
        }
        if (!colon || colon == s) {
                snprintf(err, errlen, "--listen: '%s' is not HOST:PORT or unix:/path", s);
                return -EINVAL;
        }
        port = strtol(colon + 1, &end, 10);
        if (*end || port < 0 || port > 65535 || colon[1] == '\0' || colon[1] == '-' || colon[1] == '+' ||
            colon[1] == ' ') {
                snprintf(err, errlen, "--listen: '%s' has no valid port", s);
                return -EINVAL;
        }
        hl = (size_t)(colon - s);
        if (s[0] == '[' && hl >= 2 && s[hl - 1] == ']') { /* [::1]:9700 */
                s++;
                hl -= 2;
        }
        if (hl >= sizeof(out->host)) {
                snprintf(err, errlen, "--listen: the host is too long");
                return -EINVAL;
        }
        snprintf(out->host, sizeof(out->host), "%.*s", (int)hl, s);
        out->port = (uint16_t)port;
        return 0;
}

const char *nf_listen_format(const struct nf_listen_addr *la, uint16_t port, char *buf, size_t len) {
        if (la->is_unix)
                snprintf(buf, len, "unix:%s", la->host);
        else
                snprintf(buf, len, strchr(la->host, ':') ? "[%s]:%u" : "%s:%u", la->host, port);
        return buf;
}

static int listen_tcp(struct nf_api *api, const struct nf_listen_addr *la, char *err, size_t errlen) {
        struct evhttp_bound_socket *bs = evhttp_bind_socket_with_handle(api->http, la->host, la->port);
        if (!bs) {
                char where[300];
                snprintf(err, errlen, "cannot listen on %s: %s", nf_listen_format(la, la->port, where, sizeof(where)),
                         strerror(errno));
                return -EADDRINUSE;
        }
        api->listener = evhttp_bound_socket_get_listener(bs);
        /* The port actually bound (port 0 picks one): it is what gets logged and protected. */
        struct sockaddr_storage ss;
        socklen_t sl = sizeof(ss);
        api->port = la->port;
        if (getsockname(evhttp_bound_socket_get_fd(bs), (struct sockaddr *)&ss, &sl) == 0)
                api->port = ntohs(ss.ss_family == AF_INET6 ? ((struct sockaddr_in6 *)&ss)->sin6_port
                                                           : ((struct sockaddr_in *)&ss)->sin_port);
        return 0;
}

int nf_api_start(struct nf_api *api, struct event_base *base, struct nf_registry *reg, const struct nf_api_options *cfg,
                 char *err, size_t errlen) {
        *api = (struct nf_api){.base = base, .reg = reg, .cfg = cfg};
        if (cfg->auth_token_file[0] && !(api->tokens = nf_tokens_load(cfg->auth_token_file, err, errlen)))
                return -EINVAL;
        if (nf_tls_start(api, err, errlen) < 0) {
                nf_tokens_free(api->tokens);
                api->tokens = NULL;
                return -EINVAL;
        }
        api->loopback = !cfg->listen.is_unix && nf_auth_host_is_loopback(cfg->listen.host);
        api->http = evhttp_new(base);
        if (!api->http) {
                snprintf(err, errlen, "cannot create the HTTP server");
                return -ENOMEM;
        }
        evhttp_set_max_headers_size(api->http, MAX_HEADERS_BYTES);
        evhttp_set_max_body_size(api->http, cfg->max_body_bytes);
        evhttp_set_timeout(api->http, REQUEST_TIMEOUT_S);
        /* Let every method libevent knows through to the router, which answers 405 (with Allow)
         * or 501 in JSON; methods it does not know meet evhttp_send_error (reply.c). */
        evhttp_set_allowed_methods(api->http, 0xffff);
        nf_reply_set_limits(cfg->max_body_bytes, MAX_HEADERS_BYTES);
        evhttp_set_gencb(api->http, nf_route_request, api);
        nf_reply_set_observer(nf_observe_reply, api);
        int r = cfg->listen.is_unix ? listen_unix(api, cfg->listen.host, err, errlen)
                                    : listen_tcp(api, &cfg->listen, err, errlen);
        if (r == 0)
                nf_conns_start(api);
        return r;
}

void nf_api_stop(struct nf_api *api) {
        api->listener = NULL; /* evhttp_free frees it; closing connections must not resume it */
        nf_reply_set_limits(0, MAX_HEADERS_BYTES);
        nf_reply_set_observer(NULL, NULL);
        /* Before evhttp_free, while their requests still exist; the registry's own end reverts
         * what they had not reached. */
        nf_api_deletes_stop(api);
        if (api->http)
                evhttp_free(api->http);
        nf_conns_stop(api);
        /* Only the socket file we created: another server may have taken the path since. */
        struct stat st;
        if (api->unix_path[0] && lstat(api->unix_path, &st) == 0 && S_ISSOCK(st.st_mode) &&
            st.st_dev == api->unix_dev && st.st_ino == api->unix_ino)
                unlink(api->unix_path);
        api->unix_path[0] = '\0';
        api->http = NULL;
        nf_tls_stop(api);
        nf_tokens_free(api->tokens);
        api->tokens = NULL;
}
