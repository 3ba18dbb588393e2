#include "api/connections.h"

#include <errno.h>
#include <event2/bufferevent.h>
#include <event2/event.h>
#include <event2/event_struct.h>
#include <event2/http.h>
#include <event2/listener.h>
#include <stdlib.h>
#include <sys/resource.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <sys/socket.h>

#include "api/http.h"
#include "api/tls.h"
#include "core/clock.h"
#include "core/log.h"

/* evhttp (libevent 2.1) has no connection limit and only an inactivity timeout, which a client
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
        struct nf_req_info req; /* the request being served */
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
                /* A reply over TLS leaves in more than one segment (records as OpenSSL writes
                 * them); with Nagle the last waits for the client's delayed ACK: 40 ms per
                 * request, measured as 347 req/s against 12,000 in plain HTTP. */
                if (c->fd >= 0 && !api->unix_path[0]) {
                        int one = 1;
                        setsockopt(c->fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
                }
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
        /* With TLS, the handshake runs inside the bufferevent: evhttp and everything below see
         * the same counted connection either way. */
        struct bufferevent *bev = !c                   ? NULL
                                  : nf_tls_enabled(api) ? nf_tls_bufferevent(api, base)
                                                        : bufferevent_socket_new(base, -1, BEV_OPT_CLOSE_ON_FREE);
        if (!bev) {
                free(c);
                /* evhttp makes its own; the connection goes uncounted. (On a TLS listener its plain
                 * one reads the client's hello as a bad request line: that connection fails.) */
                return NULL;
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

struct nf_req_info *nf_conns_req(struct nf_api *api, struct evhttp_request *req) {
        struct nf_conn *c = conn_of(api, req);
        return c ? &c->req : NULL;
}

static void conn_request_done(struct evhttp_request *req, void *arg) {
        struct nf_conn *c = arg;
        (void)req;
        conn_touch(c); /* waiting for the next request on this connection */
}

void nf_conns_dispatched(struct nf_api *api, struct evhttp_request *req) {
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

void nf_conns_start(struct nf_api *api) {
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

void nf_conns_stop(struct nf_api *api) {
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
