#include "core/probe.h"

#include <arpa/inet.h>
#include <errno.h>
#include <event2/buffer.h>
#include <event2/bufferevent.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <openssl/err.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "core/clock.h"
#include "core/resolver.h"
#include "netem/netns.h"

struct nf_probe_ctx {
        struct event_base *base;
        struct nf_resolver *resolver;
        SSL_CTX *tls[2]; /* [0] verifying, [1] tls_insecure; made on first use */
        unsigned in_flight;
        bool dying; /* freed by the last run: a run waiting for its lookup outlives the registry */
        uint64_t count[NF_PROBE_KIND_COUNT][2];
};

struct nf_probe_run {
        struct nf_probe_ctx *ctx;
        const struct nf_probe_spec *p;
        int netns_fd;
        nf_probe_done_fn done; /* NULL once finished or cancelled */
        void *arg;
        int64_t t0_us;
        struct event *timer;
        struct bufferevent *bev;
        bool lookup_pending;      /* the run is freed when its lookup completes, not before */
        bool in_start;            /* inside nf_probe_start: failures wait for the loop */
        bool judged;              /* res holds the verdict on a whole answer */
        struct sockaddr_storage sa;
        socklen_t sa_len;
        struct evbuffer *resp;
        struct nf_probe_result res;
};

struct nf_probe_ctx *nf_probe_ctx_new(struct event_base *base, struct nf_resolver *resolver) {
        struct nf_probe_ctx *ctx = calloc(1, sizeof(*ctx));
        if (ctx) {
                ctx->base = base;
                ctx->resolver = resolver;
        }
        return ctx;
}

static void ctx_destroy(struct nf_probe_ctx *ctx) {
        for (int i = 0; i < 2; i++)
                SSL_CTX_free(ctx->tls[i]);
        free(ctx);
}

uint64_t nf_probe_ctx_count(const struct nf_probe_ctx *ctx, enum nf_probe_kind kind, bool ok) {
        return ctx && (unsigned)kind < NF_PROBE_KIND_COUNT ? ctx->count[kind][ok] : 0;
}

void nf_probe_ctx_free(struct nf_probe_ctx *ctx) {
        if (!ctx)
                return;
        ctx->dying = true;
        if (ctx->in_flight == 0)
                ctx_destroy(ctx);
}

static void run_free(struct nf_probe_run *run) {
        if (run->timer)
                event_free(run->timer);
        if (run->bev)
                bufferevent_free(run->bev);
        if (run->resp)
                evbuffer_free(run->resp);
        if (--run->ctx->in_flight == 0 && run->ctx->dying)
                ctx_destroy(run->ctx);
        free(run);
}

/* Reports (once) and lets go of the connection; the run itself waits for its lookup, if one is
 * out, since a lookup cannot be called back. Inside nf_probe_start nothing is reported: the
 * reason stays in res and the timer reports it from the loop. */
static void finish(struct nf_probe_run *run) {
        nf_probe_done_fn done = run->done;
        if (run->in_start)
                return;
        run->done = NULL;
        if (done) {
                struct nf_probe_result r = run->res;
                if (!run->judged) {
                        int64_t took = nf_now_monotonic_us() - run->t0_us;
                        r.latency_ms = (uint32_t)((took + 999) / 1000);
                        if (!r.error[0])
                                nf_probe_judge(run->p, &r, NULL, 0);
                }
                r.at_ms = nf_now_realtime_ms();
                run->ctx->count[run->p->kind][r.ok]++;
                if (run->bev) {
                        bufferevent_free(run->bev);
                        run->bev = NULL;
                }
                evtimer_del(run->timer);
                done(run->arg, &r);
        }
        if (!run->lookup_pending)
                run_free(run);
}

__attribute__((format(printf, 2, 3))) static void fail(struct nf_probe_run *run, const char *fmt, ...) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(run->res.error, sizeof(run->res.error), fmt, ap);
        va_end(ap);
        run->res.ok = false;
        finish(run);
}

static void on_timeout(evutil_socket_t fd, short what, void *arg) {
        struct nf_probe_run *run = arg;
        (void)fd;
        (void)what;
        if (run->res.error[0]) { /* failed inside nf_probe_start */
                finish(run);
                return;
        }
        fail(run, "no answer within timeout_ms %u", run->p->timeout_ms);
}

/* The whole answer is here (EOF, or Content-Length bytes after the head): judge it. */
static void judge_response(struct nf_probe_run *run) {
        size_t len = evbuffer_get_length(run->resp), body_len = 0;
        const char *resp = (const char *)evbuffer_pullup(run->resp, -1);
        const char *body = NULL;
        struct nf_probe_result *r = &run->res;
        int64_t took = nf_now_monotonic_us() - run->t0_us;

        run->judged = true;
        r->ok = false;
        r->latency_ms = (uint32_t)((took + 999) / 1000);
        r->status = resp ? nf_http_answer_status(resp, len) : -1;
        if (r->status < 0) {
                r->status = 0;
                snprintf(r->error, sizeof(r->error), "%s",
                         len ? "the answer is not an HTTP/1.x response" : "the connection closed without an answer");
        } else if (!(body = nf_http_answer_body(resp, len, &body_len)) && !run->p->head) {
                snprintf(r->error, sizeof(r->error), "the answer's head is incomplete");
        } else if (run->p->kind != NF_PROBE_PROMETHEUS) {
                nf_probe_judge(run->p, r, body, body_len);
        } else if (r->status != 200) {
                snprintf(r->error, sizeof(r->error), "the query answered status %d", r->status);
        } else if (len >= NF_PROBE_MAX_RESPONSE) {
                snprintf(r->error, sizeof(r->error), "the answer is longer than %d bytes", NF_PROBE_MAX_RESPONSE);
        } else if (nf_prometheus_value(body, body_len, &r->value, r->error, sizeof(r->error)) == 0) {
                r->has_value = true;
                nf_probe_judge(run->p, r, body, body_len);
        }
        finish(run);
}

static bool answer_complete(struct nf_probe_run *run) {
        size_t len = evbuffer_get_length(run->resp), body_len;
        const char *resp;
        long cl;
        if (len >= NF_PROBE_MAX_RESPONSE)
                return true;
        resp = (const char *)evbuffer_pullup(run->resp, -1);
        if (run->p->head)
                return nf_http_answer_body(resp, len, &body_len) != NULL;
        cl = nf_http_answer_length(resp, len);
        return cl >= 0 && nf_http_answer_body(resp, len, &body_len) && body_len >= (size_t)cl;
}

static void on_read(struct bufferevent *bev, void *arg) {
        struct nf_probe_run *run = arg;
        struct evbuffer *in = bufferevent_get_input(bev);
        size_t room = NF_PROBE_MAX_RESPONSE - evbuffer_get_length(run->resp);
        evbuffer_remove_buffer(in, run->resp, room);
        evbuffer_drain(in, evbuffer_get_length(in));
        if (answer_complete(run))
                judge_response(run);
}

static void send_request(struct nf_probe_run *run) {
        const struct nf_probe_spec *p = run->p;
        struct evbuffer *out = bufferevent_get_output(run->bev);
        bool v6 = strchr(p->url.host, ':') != NULL;
        bool default_port = p->url.port == (p->url.tls ? 443 : 80);
        char port[8] = "";
        if (!default_port)
                snprintf(port, sizeof(port), ":%u", p->url.port);
        evbuffer_add_printf(out, "%s ", p->head ? "HEAD" : "GET");
        if (p->kind == NF_PROBE_PROMETHEUS) {
                /* The base URL's path, then the instant-query API with the query percent-encoded. */
                size_t n = strlen(p->url.path);
                while (n > 0 && p->url.path[n - 1] == '/')
                        n--;
                evbuffer_add(out, p->url.path, n);
                evbuffer_add_printf(out, "/api/v1/query%squery=", strchr(p->url.path, '?') ? "&" : "?");
                for (const unsigned char *c = (const unsigned char *)p->query; *c; c++) {
                        if ((*c >= 'a' && *c <= 'z') || (*c >= 'A' && *c <= 'Z') || (*c >= '0' && *c <= '9') || strchr("-_.~", *c))
                                evbuffer_add(out, c, 1);
                        else
                                evbuffer_add_printf(out, "%%%02X", *c);
                }
        } else {
                evbuffer_add_printf(out, "%s", p->url.path);
        }
        evbuffer_add_printf(out,
                            " HTTP/1.0\r\nHost: %s%s%s%s\r\nUser-Agent: netfaultd-guard\r\nAccept: */*\r\n"
                            "Connection: close\r\n\r\n",
                            v6 ? "[" : "", p->url.host, v6 ? "]" : "", port);
}

static void on_event(struct bufferevent *bev, short what, void *arg);

static SSL *new_ssl(struct nf_probe_run *run) {
        struct nf_probe_ctx *ctx = run->ctx;
        const struct nf_probe_spec *p = run->p;
        int i = p->tls_insecure;
        SSL *ssl;
        if (!ctx->tls[i]) {
                if (!(ctx->tls[i] = SSL_CTX_new(TLS_client_method())))
                        return NULL;
                SSL_CTX_set_min_proto_version(ctx->tls[i], TLS1_2_VERSION);
                if (!i) {
                        /* The hashed directory (/etc/ssl/certs, or $SSL_CERT_DIR), whose issuers are
                         * read when a verification needs them: loading the whole bundle file
                         * instead held the loop for 32 ms (measured natively, more under load). */
                        SSL_CTX_set_default_verify_dir(ctx->tls[i]);
                        SSL_CTX_set_verify(ctx->tls[i], SSL_VERIFY_PEER, NULL);
                }
        }
        if (!(ssl = SSL_new(ctx->tls[i])))
                return NULL;
        unsigned char a[16];
        bool literal = inet_pton(AF_INET, p->url.host, a) == 1 || inet_pton(AF_INET6, p->url.host, a) == 1;
        if (!literal)
                SSL_set_tlsext_host_name(ssl, p->url.host);
        if (!i) {
                X509_VERIFY_PARAM *vp = SSL_get0_param(ssl);
                if ((literal ? X509_VERIFY_PARAM_set1_ip_asc(vp, p->url.host) : X509_VERIFY_PARAM_set1_host(vp, p->url.host, 0)) != 1) {
                        SSL_free(ssl);
                        return NULL;
                }
        }
        return ssl;
}

static void connected(struct nf_probe_run *run) {
        const struct nf_probe_spec *p = run->p;
        if (p->kind == NF_PROBE_TCP) {
                finish(run);
                return;
        }
        if (p->url.tls) {
                SSL *ssl = new_ssl(run);
                struct bufferevent *tls;
                if (!ssl) {
                        fail(run, "%s", "cannot set up TLS");
                        return;
                }
                tls = bufferevent_openssl_filter_new(run->ctx->base, run->bev, ssl, BUFFEREVENT_SSL_CONNECTING,
                                                     BEV_OPT_CLOSE_ON_FREE);
                if (!tls) {
                        SSL_free(ssl);
                        fail(run, "%s", "cannot set up TLS");
                        return;
                }
                run->bev = tls; /* frees the socket's bufferevent with it */
                bufferevent_setcb(tls, on_read, NULL, on_event, run);
        }
        send_request(run);
        bufferevent_enable(run->bev, EV_READ | EV_WRITE);
}

static void on_event(struct bufferevent *bev, short what, void *arg) {
        struct nf_probe_run *run = arg;
        char why[128];
        (void)bev;
        if (what & BEV_EVENT_CONNECTED) {
                /* The TLS filter reports its handshake too; only the socket's connect matters. */
                if (!(run->p->url.tls && bufferevent_get_underlying(run->bev)))
                        connected(run);
                return;
        }
        if (what & BEV_EVENT_EOF) {
                if (run->p->kind == NF_PROBE_TCP)
                        fail(run, "%s", "the connection closed");
                else
                        judge_response(run);
                return;
        }
        if (what & BEV_EVENT_ERROR) {
                unsigned long tls_err = run->p->url.tls ? bufferevent_get_openssl_error(run->bev) : 0;
                int err = EVUTIL_SOCKET_ERROR();
                if (tls_err) {
                        ERR_error_string_n(tls_err, why, sizeof(why));
                        fail(run, "TLS: %.110s", why);
                } else if (run->resp && evbuffer_get_length(run->resp) && run->p->kind != NF_PROBE_TCP) {
                        judge_response(run); /* a reset after the answer */
                } else {
                        fail(run, "%s", err ? strerror(err) : "connection failed");
                }
        }
}

struct sock_args {
        int family;
        int fd;
};

static int make_socket(void *arg) {
        struct sock_args *a = arg;
        a->fd = socket(a->family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, IPPROTO_TCP);
        return a->fd < 0 ? -errno : 0;
}

static void connect_now(struct nf_probe_run *run) {
        struct sock_args a = {.family = run->sa.ss_family, .fd = -1};
        int rc = run->p->from_target && run->netns_fd >= 0 ? nf_netns_run(run->netns_fd, make_socket, &a) : make_socket(&a);
        if (rc < 0) {
                fail(run, "cannot open a socket: %s", strerror(-rc));
                return;
        }
        int one = 1;
        setsockopt(a.fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
        if (!(run->bev = bufferevent_socket_new(run->ctx->base, a.fd, BEV_OPT_CLOSE_ON_FREE))) {
                close(a.fd);
                fail(run, "%s", "out of memory");
                return;
        }
        bufferevent_setcb(run->bev, on_read, NULL, on_event, run);
        if (bufferevent_socket_connect(run->bev, (struct sockaddr *)&run->sa, (int)run->sa_len) < 0)
                fail(run, "cannot connect: %s", strerror(errno));
}

static int set_address(struct nf_probe_run *run, const char *host, uint16_t port) {
        struct sockaddr_in *s4 = (struct sockaddr_in *)&run->sa;
        struct sockaddr_in6 *s6 = (struct sockaddr_in6 *)&run->sa;
        memset(&run->sa, 0, sizeof(run->sa));
        if (inet_pton(AF_INET, host, &s4->sin_addr) == 1) {
                s4->sin_family = AF_INET;
                s4->sin_port = htons(port);
                run->sa_len = sizeof(*s4);
                return 0;
        }
        if (inet_pton(AF_INET6, host, &s6->sin6_addr) == 1) {
                s6->sin6_family = AF_INET6;
                s6->sin6_port = htons(port);
                run->sa_len = sizeof(*s6);
                return 0;
        }
        return -1;
}

static void on_lookup(struct nf_lookup *l, void *arg) {
        struct nf_probe_run *run = arg;
        const struct nf_name_result *res = &l->res[0];
        char addr[NF_PREFIX_STRLEN];
        bool found = res->n_addrs > 0;
        if (found) {
                /* The first answer; addresses of both families come back, IPv4 first. */
                const struct nf_prefix *pf = &res->addrs[0];
                inet_ntop(pf->family, &pf->addr, addr, sizeof(addr));
        }
        int err = res->err;
        run->lookup_pending = false;
        nf_lookup_free(l);
        if (!run->done) { /* timed out or cancelled meanwhile */
                run_free(run);
                return;
        }
        if (!found) {
                fail(run, "the host does not resolve: %s", err ? nf_resolver_strerror(err) : "no address");
                return;
        }
        set_address(run, addr, run->p->kind == NF_PROBE_TCP ? run->p->port : run->p->url.port);
        connect_now(run);
}

struct nf_probe_run *nf_probe_start(struct nf_probe_ctx *ctx, const struct nf_probe_spec *p, int netns_fd,
                                    nf_probe_done_fn done, void *arg) {
        const char *host = p->kind == NF_PROBE_TCP ? p->address : p->url.host;
        uint16_t port = p->kind == NF_PROBE_TCP ? p->port : p->url.port;
        struct nf_probe_run *run = calloc(1, sizeof(*run));
        struct timeval tv = {.tv_sec = p->timeout_ms / 1000, .tv_usec = (p->timeout_ms % 1000) * 1000}, now = {0, 0};

        if (!run)
                return NULL;
        *run = (struct nf_probe_run){.ctx = ctx, .p = p, .netns_fd = netns_fd, .done = done, .arg = arg,
                                     .t0_us = nf_now_monotonic_us()};
        ctx->in_flight++;
        if (!(run->timer = evtimer_new(ctx->base, on_timeout, run)) || (p->kind != NF_PROBE_TCP && !(run->resp = evbuffer_new()))) {
                run_free(run);
                return NULL;
        }
        evtimer_add(run->timer, &tv);
        /* Whatever fails from here is reported from the loop, never inside this call (finish()
         * keeps quiet while in_start): the timer then fires at once with the reason written. */
        run->in_start = true;
        if (ctx->in_flight > NF_PROBE_MAX_IN_FLIGHT) {
                snprintf(run->res.error, sizeof(run->res.error), "more than %d probes in flight in netfaultd",
                         NF_PROBE_MAX_IN_FLIGHT);
        } else if (set_address(run, host, port) == 0) {
                connect_now(run);
        } else if (!ctx->resolver) {
                snprintf(run->res.error, sizeof(run->res.error), "no resolver for '%.80s'", host);
        } else {
                char names[1][NF_TARGET_NAME_LEN];
                snprintf(names[0], sizeof(names[0]), "%s", host);
                run->lookup_pending = true;
                /* A lookup that cannot start completes inside this call (on_lookup). */
                if (!nf_lookup_start(ctx->resolver, (const char(*)[NF_TARGET_NAME_LEN])names, 1, on_lookup, run)) {
                        run->lookup_pending = false;
                        snprintf(run->res.error, sizeof(run->res.error), "cannot start resolving '%.80s'", host);
                }
        }
        run->in_start = false;
        if (run->res.error[0]) {
                evtimer_del(run->timer);
                evtimer_add(run->timer, &now);
        }
        return run;
}

void nf_probe_cancel(struct nf_probe_run *run) {
        if (!run)
                return;
        run->done = NULL;
        if (run->bev) {
                bufferevent_free(run->bev);
                run->bev = NULL;
        }
        if (run->timer)
                evtimer_del(run->timer);
        if (!run->lookup_pending)
                run_free(run);
}
