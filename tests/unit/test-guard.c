/* Guards (core/guard_json.c, core/probe.c): the settings' validation ladder and rendering, URL
 * and answer parsing, and the probe engine against a real HTTP server (libevent's evhttp) on
 * loopback: passing, failing, slow and refused endpoints, a Prometheus-style answer. The guard's
 * revert of a real fault is the kernel lab's (tests/lab/scenarios/96-guard.sh). */
#include <arpa/inet.h>
#include <cjson/cJSON.h>
#include <dirent.h>
#include <event2/buffer.h>
#include <event2/bufferevent_ssl.h>
#include <event2/event.h>
#include <event2/http.h>
#include <fcntl.h>
#include <net/if.h>
#include <netinet/in.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <openssl/x509v3.h>
#include <stdbool.h>
#include <sched.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/guard.h"
#include "core/probe.h"
#include "tap.h"

static struct nf_guard_spec *parse(const char *json, struct nf_err *e) {
        cJSON *v = cJSON_Parse(json);
        struct nf_guard_spec *g = NULL;
        if (!v)
                printf("# bad JSON in the test: %s\n", json);
        int rc = nf_guard_parse(v, &g, e);
        cJSON_Delete(v);
        return rc == 0 ? g : NULL;
}

static void refused(const char *json, const char *field, const char *in_message) {
        struct nf_err e = {0};
        struct nf_guard_spec *g = parse(json, &e);
        if (!tap_ok(!g && strcmp(e.field, field) == 0 && strstr(e.message, in_message), "refused, naming %s: %s", field, json))
                printf("#   got field '%s' message '%s'\n", e.field, e.message);
        free(g);
}

static void urls(void) {
        struct nf_url u;
        tap_ok(nf_url_parse("http://10.0.0.1:8080/health?x=1", &u) == 0 && !u.tls && strcmp(u.host, "10.0.0.1") == 0 &&
                       u.port == 8080 && strcmp(u.path, "/health?x=1") == 0,
               "http URL with port, path and query");
        tap_ok(nf_url_parse("https://[fd00::1]/", &u) == 0 && u.tls && strcmp(u.host, "fd00::1") == 0 && u.port == 443,
               "https URL with an IPv6 literal");
        tap_ok(nf_url_parse("http://svc.example", &u) == 0 && strcmp(u.path, "/") == 0 && u.port == 80, "no path is /");
        tap_ok(nf_url_parse("http://h?q=1", &u) == 0 && strcmp(u.path, "/?q=1") == 0, "a query without a path");
        const char *bad[] = {"ftp://h/", "http://", "http://user:pw@h/", "http://h:0/", "http://h:65536/", "http://h/a b",
                             "http://h/#frag", "http://h/\r\nX: y", "http://[fd00::1/", "http://h:80x/", "http://[1.2.3.4]/", "h/"};
        for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
                tap_ok(nf_url_parse(bad[i], &u) < 0, "URL refused: %.*s", (int)strcspn(bad[i], "\r\n"), bad[i]);
}

static void settings(void) {
        struct nf_err e;
        struct nf_guard_spec *g = parse("{\"probes\":[{\"http\":{\"url\":\"http://10.0.0.2/h\",\"expect_status\":[200,\"300-302\"],"
                                        "\"max_latency_ms\":200,\"body_contains\":\"ok\"}},{\"tcp\":{\"address\":\"db.local\",\"port\":5432,"
                                        "\"from\":\"target\"}},{\"prometheus\":{\"url\":\"http://[::1]:9090\",\"query\":\"rate(x[1m])\",\"max\":0.001}}],"
                                        "\"interval_ms\":250,\"failures_to_abort\":2,\"grace_ms\":1000,\"scope\":\"all\"}",
                                        &e);
        if (!tap_ok(g != NULL, "a guard with all three kinds is accepted"))
                printf("#   %s: %s\n", e.field, e.message);
        if (!g)
                return;
        tap_ok(g->n_probes == 3 && g->interval_ms == 250 && g->failures_to_abort == 2 && g->grace_ms == 1000 && g->scope_all,
               "its settings are read");
        tap_ok(g->probes[0].timeout_ms == 250 && g->probes[0].n_expect == 2 && g->probes[0].expect[1].lo == 300 &&
                       g->probes[0].expect[1].hi == 302,
               "timeout_ms defaults to the interval when below 1 s; status ranges read");
        tap_ok(g->probes[1].from_target && g->probes[1].port == 5432, "tcp from the target");
        tap_ok(g->probes[2].has_max && !g->probes[2].has_min && g->probes[2].max == 0.001, "prometheus bound");
        char names[4][NF_PROBE_HOST_LEN];
        size_t n = nf_guard_hostnames(g, names, 4);
        tap_ok(n == 1 && strcmp(names[0], "db.local") == 0, "only names need resolving (%zu)", n);
        /* Rendered and read again: the same settings (the journal keeps guards this way). */
        cJSON *j = nf_guard_spec_to_json(g);
        struct nf_guard_spec *g2 = NULL;
        int rc = nf_guard_parse(j, &g2, &e);
        cJSON *j2 = g2 ? nf_guard_spec_to_json(g2) : NULL;
        char *a = cJSON_PrintUnformatted(j), *b = j2 ? cJSON_PrintUnformatted(j2) : NULL;
        tap_ok(rc == 0 && b && strcmp(a, b) == 0, "render, parse, render: identical");
        free(a);
        free(b);
        cJSON_Delete(j);
        cJSON_Delete(j2);
        free(g2);
        free(g);

        g = parse("{\"probes\":[{\"tcp\":{\"address\":\"10.0.0.1\",\"port\":1}}]}", &e);
        tap_ok(g && g->interval_ms == 1000 && g->failures_to_abort == 3 && g->grace_ms == 0 && !g->scope_all &&
                       g->probes[0].timeout_ms == 1000,
               "defaults: 1000 ms, 3 failures, no grace, scope fault, timeout 1000 ms");
        free(g);

        refused("[]", "guard", "expected an object");
        refused("{\"probes\":[]}", "guard.probes", "1 to 4");
        refused("{\"interval_ms\":50,\"probes\":[{\"tcp\":{\"address\":\"1.2.3.4\",\"port\":1}}]}", "guard.interval_ms", "50");
        refused("{\"probes\":[{\"command\":{\"run\":\"curl\"}}]}", "guard.probes[0].command", "never runs programs");
        refused("{\"probes\":[{\"http\":{\"url\":\"http://h/\"},\"tcp\":{}}]}", "guard.probes[0]", "exactly one");
        refused("{\"probes\":[{\"http\":{\"url\":\"gopher://h/\"}}]}", "guard.probes[0].http.url", "gopher");
        refused("{\"probes\":[{\"http\":{\"url\":\"http://h/\",\"expect_status\":[\"299-200\"]}}]}",
                "guard.probes[0].http.expect_status[0]", "299-200");
        refused("{\"probes\":[{\"http\":{\"url\":\"http://h/\",\"method\":\"POST\"}}]}", "guard.probes[0].http.method", "POST");
        refused("{\"probes\":[{\"http\":{\"url\":\"http://h/\",\"method\":\"HEAD\",\"body_contains\":\"x\"}}]}",
                "guard.probes[0].http.body_contains", "HEAD");
        refused("{\"interval_ms\":200,\"probes\":[{\"tcp\":{\"address\":\"1.2.3.4\",\"port\":1,\"timeout_ms\":300}}]}",
                "guard.probes[0].tcp.timeout_ms", "interval_ms");
        refused("{\"probes\":[{\"tcp\":{\"address\":\"1.2.3.4\"}}]}", "guard.probes[0].tcp.port", "required");
        refused("{\"probes\":[{\"tcp\":{\"address\":\"bad host\",\"port\":1}}]}", "guard.probes[0].tcp.address", "bad host");
        refused("{\"probes\":[{\"prometheus\":{\"url\":\"http://p/\",\"query\":\"up\"}}]}", "guard.probes[0].prometheus.max", "min");
        refused("{\"probes\":[{\"prometheus\":{\"url\":\"http://p/\",\"query\":\"up\",\"min\":2,\"max\":1}}]}",
                "guard.probes[0].prometheus.max", "below min");
        refused("{\"probes\":[{\"tcp\":{\"address\":\"1.2.3.4\",\"port\":1,\"from\":\"node\"}}]}", "guard.probes[0].tcp.from", "node");
        refused("{\"scope\":\"everything\",\"probes\":[{\"tcp\":{\"address\":\"1.2.3.4\",\"port\":1}}]}", "guard.scope", "everything");
        refused("{\"probes\":[{\"tcp\":{\"address\":\"1.2.3.4\",\"port\":1}}],\"extra\":1}", "guard.extra", "unknown");
}

static void answers(void) {
        const char ok[] = "HTTP/1.1 200 OK\r\nContent-Length: 5\r\nServer: x\r\n\r\nhello";
        size_t n;
        const char *b = nf_http_answer_body(ok, strlen(ok), &n);
        tap_ok(nf_http_answer_status(ok, strlen(ok)) == 200 && b && n == 5 && memcmp(b, "hello", 5) == 0 &&
                       nf_http_answer_length(ok, strlen(ok)) == 5,
               "status, body and Content-Length of an answer");
        tap_ok(nf_http_answer_status("HTTP/1.0 503\r\n\r\n", 16) == 503, "a status line without a reason");
        tap_ok(nf_http_answer_status("SSH-2.0-OpenSSH\r\n", 17) < 0, "not HTTP");
        tap_ok(nf_http_answer_body("HTTP/1.1 200 OK\r\nX: y\r\n", 23, &n) == NULL, "an incomplete head has no body yet");
        tap_ok(nf_http_answer_length("HTTP/1.1 200 OK\r\n\r\n", 19) == -1, "no Content-Length");

        double v = 0;
        char why[128];
        const char *vec = "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[{\"metric\":{},\"value\":[1.5,\"0.25\"]}]}}";
        tap_ok(nf_prometheus_value(vec, strlen(vec), &v, why, sizeof(why)) == 0 && v == 0.25, "a vector of one sample: 0.25");
        const char *sca = "{\"status\":\"success\",\"data\":{\"resultType\":\"scalar\",\"result\":[1.5,\"7\"]}}";
        tap_ok(nf_prometheus_value(sca, strlen(sca), &v, why, sizeof(why)) == 0 && v == 7, "a scalar: 7");
        const char *none = "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[]}}";
        tap_ok(nf_prometheus_value(none, strlen(none), &v, why, sizeof(why)) < 0 && strstr(why, "no series"),
               "no series fails (%s)", why);
        const char *two = "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[{\"value\":[1,\"1\"]},{\"value\":[1,\"2\"]}]}}";
        tap_ok(nf_prometheus_value(two, strlen(two), &v, why, sizeof(why)) < 0 && strstr(why, "2 series"), "two series fail (%s)",
               why);
        const char *nan = "{\"status\":\"success\",\"data\":{\"resultType\":\"scalar\",\"result\":[1,\"NaN\"]}}";
        tap_ok(nf_prometheus_value(nan, strlen(nan), &v, why, sizeof(why)) < 0, "NaN fails (%s)", why);
        const char *err = "{\"status\":\"error\",\"error\":\"parse error at char 3\"}";
        tap_ok(nf_prometheus_value(err, strlen(err), &v, why, sizeof(why)) < 0 && strstr(why, "parse error"),
               "the server's error is kept (%s)", why);
}

/* ---- the engine against a real server ---- */

static struct event_base *base;
static int outstanding;

static void reply(struct evhttp_request *req, int code, const char *body) {
        struct evbuffer *b = evbuffer_new();
        evbuffer_add_printf(b, "%s", body);
        evhttp_send_reply(req, code, code == 200 ? "OK" : "Error", b);
        evbuffer_free(b);
}

static void slow_reply(evutil_socket_t fd, short what, void *arg) {
        (void)fd;
        (void)what;
        reply(arg, 200, "late");
}

static void serve(struct evhttp_request *req, void *arg) {
        const char *uri = evhttp_request_get_uri(req);
        (void)arg;
        if (strncmp(uri, "/ok", 3) == 0) {
                reply(req, 200, "all healthy");
        } else if (strncmp(uri, "/fail", 5) == 0) {
                reply(req, 500, "broken");
        } else if (strncmp(uri, "/slow", 5) == 0) {
                struct timeval tv = {0, 300000};
                event_base_once(base, -1, EV_TIMEOUT, slow_reply, req, &tv);
        } else if (strncmp(uri, "/prom/api/v1/query?query=rate%28errors%5B1m%5D%29", 48) == 0) {
                reply(req, 200, "{\"status\":\"success\",\"data\":{\"resultType\":\"vector\",\"result\":[{\"metric\":{},\"value\":[1,\"0.5\"]}]}}");
        } else {
                reply(req, 404, uri);
        }
}

struct outcome {
        const char *what;
        bool want_ok;
        const char *want_error; /* in the error, when it fails */
        bool called;
        bool in_start;
};

static bool starting;

static void done(void *arg, const struct nf_probe_result *r) {
        struct outcome *o = arg;
        o->called = true;
        o->in_start = starting;
        bool good = r->ok == o->want_ok && (!o->want_error || strstr(r->error, o->want_error));
        if (!tap_ok(good, "probe %s: %s", o->what, o->want_ok ? "passes" : "fails"))
                printf("#   ok=%d status=%d latency=%u error='%s'\n", r->ok, r->status, r->latency_ms, r->error);
        if (--outstanding == 0)
                event_base_loopexit(base, NULL);
}

static struct nf_guard_spec *kept[32];
static size_t n_kept;

static void run_probe(struct nf_probe_ctx *ctx, const char *json, struct outcome *o) {
        struct nf_err e;
        struct nf_guard_spec *g = parse(json, &e);
        if (!g) {
                tap_ok(0, "probe %s: settings refused: %s", o->what, e.message);
                return;
        }
        outstanding++;
        starting = true;
        /* The spec must outlive the run: kept until the end (a leak sanitizers would see otherwise). */
        struct nf_probe_run *run = nf_probe_start(ctx, &g->probes[0], -1, done, o);
        starting = false;
        if (!run) {
                outstanding--;
                tap_ok(0, "probe %s started", o->what);
        }
        kept[n_kept++] = g;
}

/* A CA and a certificate for IP 127.0.0.1 it signed, made here (no files, no openssl command). */
static X509 *make_cert(EVP_PKEY *key, const char *cn, X509 *issuer, EVP_PKEY *issuer_key, bool ca) {
        X509 *x = X509_new();
        X509V3_CTX v3;
        X509_NAME *name = X509_get_subject_name(x);
        ASN1_INTEGER_set(X509_get_serialNumber(x), ca ? 1 : 2);
        X509_gmtime_adj(X509_getm_notBefore(x), -60);
        X509_gmtime_adj(X509_getm_notAfter(x), 3600);
        X509_set_pubkey(x, key);
        X509_NAME_add_entry_by_txt(name, "CN", MBSTRING_ASC, (const unsigned char *)cn, -1, -1, 0);
        X509_set_issuer_name(x, issuer ? X509_get_subject_name(issuer) : name);
        X509V3_set_ctx(&v3, issuer ? issuer : x, x, NULL, NULL, 0);
        X509_EXTENSION *ext = X509V3_EXT_conf_nid(NULL, &v3, ca ? NID_basic_constraints : NID_subject_alt_name,
                                                  ca ? "critical,CA:TRUE" : "IP:127.0.0.1");
        X509_add_ext(x, ext, -1);
        X509_EXTENSION_free(ext);
        X509_sign(x, issuer_key ? issuer_key : key, EVP_sha256());
        return x;
}

static char ca_dir[] = "/tmp/nf-test-guard-ca.XXXXXX";

/* The server's TLS context; the CA goes to ca_dir under its hash name (what OpenSSL's
 * directory lookup reads), for the probe that verifies with SSL_CERT_DIR pointing there. */
static SSL_CTX *server_tls(void) {
        EVP_PKEY *ca_key = EVP_EC_gen("P-256"), *key = EVP_EC_gen("P-256");
        X509 *ca = make_cert(ca_key, "netfaultd test CA", NULL, NULL, true);
        X509 *x = make_cert(key, "127.0.0.1", ca, ca_key, false);
        SSL_CTX *ctx = SSL_CTX_new(TLS_server_method());
        char path[128];
        SSL_CTX_use_certificate(ctx, x);
        SSL_CTX_use_PrivateKey(ctx, key);
        if (mkdtemp(ca_dir)) {
                snprintf(path, sizeof(path), "%s/%08lx.0", ca_dir, X509_NAME_hash_ex(X509_get_subject_name(ca), NULL, NULL, NULL));
                FILE *f = fopen(path, "w");
                if (f) {
                        PEM_write_X509(f, ca);
                        fclose(f);
                }
        }
        X509_free(ca);
        X509_free(x);
        EVP_PKEY_free(ca_key);
        EVP_PKEY_free(key);
        return ctx;
}

static struct bufferevent *tls_bev(struct event_base *b, void *arg) {
        return bufferevent_openssl_socket_new(b, -1, SSL_new(arg), BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
}

/* A network namespace of its own with a listener on 127.0.0.1:port, held by a child process;
 * the parent gets a descriptor of it. -1 when namespaces cannot be made here (no privilege). */
static int netns_with_listener(unsigned port, pid_t *child) {
        int pipefd[2];
        char c = 0;
        if (pipe(pipefd) < 0)
                return -1;
        *child = fork();
        if (*child == 0) {
                struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((uint16_t)port),
                                         .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
                struct ifreq ifr = {0};
                int s = -1, ok = unshare(CLONE_NEWNET) == 0;
                if (ok) {
                        int u = socket(AF_INET, SOCK_DGRAM, 0);
                        snprintf(ifr.ifr_name, sizeof(ifr.ifr_name), "lo");
                        ok = ioctl(u, SIOCGIFFLAGS, &ifr) == 0;
                        ifr.ifr_flags |= IFF_UP;
                        ok = ok && ioctl(u, SIOCSIFFLAGS, &ifr) == 0;
                        s = socket(AF_INET, SOCK_STREAM, 0);
                        ok = ok && bind(s, (struct sockaddr *)&sa, sizeof(sa)) == 0 && listen(s, 16) == 0;
                }
                c = ok ? 'y' : 'n';
                if (write(pipefd[1], &c, 1) != 1)
                        _exit(1);
                pause();
                _exit(0);
        }
        if (*child < 0 || read(pipefd[0], &c, 1) != 1 || c != 'y') {
                if (*child > 0) {
                        kill(*child, SIGKILL);
                        waitpid(*child, NULL, 0);
                }
                close(pipefd[0]);
                close(pipefd[1]);
                return -1;
        }
        close(pipefd[0]);
        close(pipefd[1]);
        char path[64];
        snprintf(path, sizeof(path), "/proc/%d/ns/net", (int)*child);
        return open(path, O_RDONLY | O_CLOEXEC);
}

static void engine(void) {
        struct sockaddr_in sa = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        socklen_t len = sizeof(sa);
        base = event_base_new();
        struct evhttp *http = evhttp_new(base);
        struct evhttp_bound_socket *bound = evhttp_bind_socket_with_handle(http, "127.0.0.1", 0);
        getsockname(evhttp_bound_socket_get_fd(bound), (struct sockaddr *)&sa, &len);
        evhttp_set_gencb(http, serve, NULL);
        unsigned port = ntohs(sa.sin_port);
        /* A port nobody listens on: bound, then closed. */
        int s = socket(AF_INET, SOCK_STREAM, 0);
        struct sockaddr_in closed = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
        len = sizeof(closed);
        bind(s, (struct sockaddr *)&closed, sizeof(closed));
        getsockname(s, (struct sockaddr *)&closed, &len);
        close(s);
        unsigned dead = ntohs(closed.sin_port);

        /* The same server over TLS, on a port of its own. */
        SSL_CTX *sctx = server_tls();
        struct evhttp *https = evhttp_new(base);
        evhttp_set_bevcb(https, tls_bev, sctx);
        evhttp_set_gencb(https, serve, NULL);
        struct evhttp_bound_socket *tb = evhttp_bind_socket_with_handle(https, "127.0.0.1", 0);
        struct sockaddr_in ta;
        len = sizeof(ta);
        getsockname(evhttp_bound_socket_get_fd(tb), (struct sockaddr *)&ta, &len);
        unsigned tport = ntohs(ta.sin_port);
        /* A namespace where only 127.0.0.1:dead listens: from "target" connects, from "daemon"
         * (where dead is closed) is refused. */
        pid_t child = -1;
        int ns_fd = netns_with_listener(dead, &child);

        struct nf_probe_ctx *ctx = nf_probe_ctx_new(base, NULL);
        char j[512];
        static struct outcome o[] = {
                {"http 200 with body_contains", true, NULL, false, false},
                {"http 500", false, "status 500", false, false},
                {"http 500 expected by expect_status", true, NULL, false, false},
                {"http body_contains missing", false, "does not contain", false, false},
                {"http slow > timeout_ms", false, "timeout_ms 100", false, false},
                {"http slow > max_latency_ms", false, "max_latency_ms 100", false, false},
                {"tcp to the server", true, NULL, false, false},
                {"tcp to a closed port", false, "refused", false, false},
                {"prometheus 0.5 <= max 1", true, NULL, false, false},
                {"prometheus 0.5 > max 0.1", false, "value 0.5 > max 0.1", false, false},
                {"prometheus 0.5 < min 1", false, "< min 1", false, false},
                {"http to a hostname without a resolver", false, "no resolver", false, false},
                {"HEAD 200", true, NULL, false, false},
                {"https with tls_insecure (self-signed)", true, NULL, false, false},
                {"https verifying a certificate whose CA is not trusted", false, "TLS:", false, false},
                {"tcp from the target namespace (listening there only)", true, NULL, false, false},
        };
        snprintf(j, sizeof(j), "{\"probes\":[{\"http\":{\"url\":\"http://127.0.0.1:%u/ok\",\"body_contains\":\"healthy\"}}]}", port);
        run_probe(ctx, j, &o[0]);
        snprintf(j, sizeof(j), "{\"probes\":[{\"http\":{\"url\":\"http://127.0.0.1:%u/fail\"}}]}", port);
        run_probe(ctx, j, &o[1]);
        snprintf(j, sizeof(j), "{\"probes\":[{\"http\":{\"url\":\"http://127.0.0.1:%u/fail\",\"expect_status\":[\"500-599\"]}}]}", port);
        run_probe(ctx, j, &o[2]);
        snprintf(j, sizeof(j), "{\"probes\":[{\"http\":{\"url\":\"http://127.0.0.1:%u/ok\",\"body_contains\":\"sick\"}}]}", port);
        run_probe(ctx, j, &o[3]);
        snprintf(j, sizeof(j), "{\"interval_ms\":100,\"probes\":[{\"http\":{\"url\":\"http://127.0.0.1:%u/slow\"}}]}", port);
        run_probe(ctx, j, &o[4]);
        snprintf(j, sizeof(j), "{\"interval_ms\":4000,\"probes\":[{\"http\":{\"url\":\"http://127.0.0.1:%u/slow\",\"max_latency_ms\":100,\"timeout_ms\":4000}}]}", port);
        run_probe(ctx, j, &o[5]);
        snprintf(j, sizeof(j), "{\"probes\":[{\"tcp\":{\"address\":\"127.0.0.1\",\"port\":%u}}]}", port);
        run_probe(ctx, j, &o[6]);
        snprintf(j, sizeof(j), "{\"probes\":[{\"tcp\":{\"address\":\"127.0.0.1\",\"port\":%u}}]}", dead);
        run_probe(ctx, j, &o[7]);
        snprintf(j, sizeof(j), "{\"probes\":[{\"prometheus\":{\"url\":\"http://127.0.0.1:%u/prom/\",\"query\":\"rate(errors[1m])\",\"max\":1}}]}",
                 port);
        run_probe(ctx, j, &o[8]);
        snprintf(j, sizeof(j), "{\"probes\":[{\"prometheus\":{\"url\":\"http://127.0.0.1:%u/prom\",\"query\":\"rate(errors[1m])\",\"max\":0.1}}]}",
                 port);
        run_probe(ctx, j, &o[9]);
        snprintf(j, sizeof(j), "{\"probes\":[{\"prometheus\":{\"url\":\"http://127.0.0.1:%u/prom\",\"query\":\"rate(errors[1m])\",\"min\":1}}]}",
                 port);
        run_probe(ctx, j, &o[10]);
        run_probe(ctx, "{\"probes\":[{\"http\":{\"url\":\"http://localhost/ok\"}}]}", &o[11]);
        snprintf(j, sizeof(j), "{\"probes\":[{\"http\":{\"url\":\"http://127.0.0.1:%u/ok\",\"method\":\"HEAD\"}}]}", port);
        run_probe(ctx, j, &o[12]);
        snprintf(j, sizeof(j), "{\"probes\":[{\"http\":{\"url\":\"https://127.0.0.1:%u/ok\",\"tls_insecure\":true,\"body_contains\":\"healthy\"}}]}",
                 tport);
        run_probe(ctx, j, &o[13]);
        snprintf(j, sizeof(j), "{\"probes\":[{\"http\":{\"url\":\"https://127.0.0.1:%u/ok\"}}]}", tport);
        run_probe(ctx, j, &o[14]);
        size_t n_outcomes = sizeof(o) / sizeof(*o);
        if (ns_fd >= 0) {
                struct nf_err e;
                snprintf(j, sizeof(j), "{\"probes\":[{\"tcp\":{\"address\":\"127.0.0.1\",\"port\":%u,\"from\":\"target\"}}]}", dead);
                struct nf_guard_spec *g = parse(j, &e);
                outstanding++;
                if (!g || !nf_probe_start(ctx, &g->probes[0], ns_fd, done, &o[15]))
                        outstanding--;
                if (g)
                        kept[n_kept++] = g;
        } else {
                printf("ok %d - # SKIP no network namespace of our own here (needs CAP_SYS_ADMIN)\n", ++tap_n);
                n_outcomes--;
        }

        struct timeval limit = {5, 0};
        event_base_loopexit(base, &limit);
        event_base_dispatch(base);
        bool all = true, inside = false;
        for (size_t i = 0; i < n_outcomes; i++) {
                all = all && o[i].called;
                inside = inside || o[i].in_start;
                if (!o[i].called)
                        printf("#   no verdict for %s\n", o[i].what);
        }
        tap_ok(all, "every probe got exactly one verdict within 5 s");
        tap_ok(!inside, "no verdict was given inside nf_probe_start");
        tap_ok(nf_probe_ctx_count(ctx, NF_PROBE_HTTP, true) == 4 && nf_probe_ctx_count(ctx, NF_PROBE_HTTP, false) == 6,
               "probes are counted by kind and verdict");

        /* The same server verified against its CA (SSL_CERT_DIR: read when a context is made). */
        struct outcome v = {"https verified against the CA in SSL_CERT_DIR", true, NULL, false, false};
        setenv("SSL_CERT_DIR", ca_dir, 1);
        struct nf_probe_ctx *vctx = nf_probe_ctx_new(base, NULL);
        snprintf(j, sizeof(j), "{\"probes\":[{\"http\":{\"url\":\"https://127.0.0.1:%u/ok\",\"body_contains\":\"healthy\"}}]}", tport);
        run_probe(vctx, j, &v);
        struct timeval vt = {3, 0};
        event_base_loopexit(base, &vt);
        event_base_dispatch(base);
        tap_ok(v.called, "the verified probe got its verdict");
        nf_probe_ctx_free(vctx);

        /* Cancelled while in flight: no verdict, nothing leaks. */
        struct outcome c = {"cancelled", false, NULL, false, false};
        snprintf(j, sizeof(j), "{\"probes\":[{\"http\":{\"url\":\"http://127.0.0.1:%u/slow\"}}]}", port);
        struct nf_err e;
        struct nf_guard_spec *g = parse(j, &e);
        struct nf_probe_run *run = g ? nf_probe_start(ctx, &g->probes[0], -1, done, &c) : NULL;
        nf_probe_cancel(run);
        struct timeval t = {0, 500000};
        event_base_loopexit(base, &t);
        event_base_dispatch(base);
        tap_ok(!c.called, "a cancelled probe reports nothing");
        free(g);
        for (size_t i = 0; i < n_kept; i++)
                free(kept[i]);
        nf_probe_ctx_free(ctx);
        if (ns_fd >= 0)
                close(ns_fd);
        if (child > 0) {
                kill(child, SIGKILL);
                waitpid(child, NULL, 0);
        }
        evhttp_free(https);
        SSL_CTX_free(sctx);
        char ca_file[320];
        DIR *d = opendir(ca_dir);
        for (struct dirent *de; d && (de = readdir(d));)
                if (de->d_name[0] != '.') {
                        snprintf(ca_file, sizeof(ca_file), "%s/%s", ca_dir, de->d_name);
                        unlink(ca_file);
                }
        if (d)
                closedir(d);
        rmdir(ca_dir);
        evhttp_free(http);
        event_base_free(base);
}

int main(void) {
        urls();
        settings();
        answers();
        engine();
        return tap_done();
}
