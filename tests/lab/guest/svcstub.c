/* svcstub: the guard scenario's "service" (tests/lab/scenarios/96-guard.sh), a small HTTP/1.0
 * server in one poll loop whose health the test steers through files in DIR:
 *   GET /health   answers DIR/status (default 200) after DIR/delay_ms (default 0)
 *   GET /slow     200 after DIR/slow_ms (default 80): slow but within a probe's timeout
 *   GET /hang     never answers (a slow dependency; the connection stays until the client goes)
 *   GET /metrics  Prometheus text: svc_errors_total DIR/errors (default 0)
 * Usage: svcstub PORT DIR  (listens on every IPv4 and IPv6 address). */
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#define MAX_CONNS 2000

struct conn {
        int fd;
        char req[2048];
        size_t n;
        long long reply_at; /* ms; -1 until the request is read; LLONG_MAX: never */
        char resp[512];
};

static struct conn conns[MAX_CONNS];
static size_t n_conns;
static const char *dir;

static long long now_ms(void) {
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return ts.tv_sec * 1000LL + ts.tv_nsec / 1000000;
}

static long read_num(const char *name, long dflt) {
        char path[512];
        long v = dflt;
        snprintf(path, sizeof(path), "%s/%s", dir, name);
        FILE *f = fopen(path, "r");
        if (f) {
                if (fscanf(f, "%ld", &v) != 1)
                        v = dflt;
                fclose(f);
        }
        return v;
}

static void prepare(struct conn *c) {
        char body[256];
        long status = 200, delay = 0;
        if (strncmp(c->req, "GET /health", 11) == 0 || strncmp(c->req, "HEAD /health", 12) == 0) {
                status = read_num("status", 200);
                delay = read_num("delay_ms", 0);
                snprintf(body, sizeof(body), "svc %s\n", status < 400 ? "healthy" : "failing");
        } else if (strncmp(c->req, "GET /slow", 9) == 0) {
                delay = read_num("slow_ms", 80);
                snprintf(body, sizeof(body), "svc slow\n");
        } else if (strncmp(c->req, "GET /hang", 9) == 0) {
                c->reply_at = (long long)1 << 62;
                return;
        } else if (strncmp(c->req, "GET /metrics", 12) == 0) {
                snprintf(body, sizeof(body), "# TYPE svc_errors_total counter\nsvc_errors_total %ld\n", read_num("errors", 0));
        } else {
                status = 404;
                snprintf(body, sizeof(body), "not found\n");
        }
        snprintf(c->resp, sizeof(c->resp), "HTTP/1.0 %ld X\r\nContent-Type: text/plain\r\nContent-Length: %zu\r\n\r\n%s", status,
                 strlen(body), body);
        c->reply_at = now_ms() + delay;
}

static void drop(size_t i) {
        close(conns[i].fd);
        conns[i] = conns[--n_conns];
}

int main(int argc, char **argv) {
        struct pollfd pfd[MAX_CONNS + 2];
        struct rlimit rl;
        int ls[2], one = 1;
        if (argc != 3) {
                fprintf(stderr, "usage: svcstub PORT DIR\n");
                return 2;
        }
        dir = argv[2];
        if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
                rl.rlim_cur = rl.rlim_max;
                setrlimit(RLIMIT_NOFILE, &rl);
        }
        struct sockaddr_in a4 = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(argv[1]))};
        struct sockaddr_in6 a6 = {.sin6_family = AF_INET6, .sin6_port = htons((uint16_t)atoi(argv[1]))};
        ls[0] = socket(AF_INET, SOCK_STREAM, 0);
        ls[1] = socket(AF_INET6, SOCK_STREAM, 0);
        setsockopt(ls[1], IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof(one));
        for (int i = 0; i < 2; i++)
                setsockopt(ls[i], SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
        if (bind(ls[0], (struct sockaddr *)&a4, sizeof(a4)) < 0 || bind(ls[1], (struct sockaddr *)&a6, sizeof(a6)) < 0 ||
            listen(ls[0], 1024) < 0 || listen(ls[1], 1024) < 0) {
                perror("svcstub: listen");
                return 1;
        }
        for (;;) {
                long long now = now_ms(), wait = -1;
                for (int i = 0; i < 2; i++)
                        pfd[i] = (struct pollfd){.fd = n_conns < MAX_CONNS ? ls[i] : -1, .events = POLLIN};
                for (size_t i = 0; i < n_conns; i++) {
                        pfd[i + 2] = (struct pollfd){.fd = conns[i].fd, .events = POLLIN};
                        if (conns[i].reply_at >= 0) {
                                long long w = conns[i].reply_at - now;
                                if (w < 0)
                                        w = 0;
                                if (wait < 0 || w < wait)
                                        wait = w;
                        }
                }
                if (poll(pfd, n_conns + 2, wait > 1000 ? 1000 : (int)wait) < 0 && errno != EINTR)
                        return 1;
                now = now_ms();
                /* Connections first (indexes shift as they go), from the end. */
                for (size_t i = n_conns; i-- > 0;) {
                        struct conn *c = &conns[i];
                        if (pfd[i + 2].revents) {
                                ssize_t r = read(c->fd, c->req + c->n, sizeof(c->req) - 1 - c->n);
                                if (r <= 0) {
                                        drop(i);
                                        continue;
                                }
                                c->n += (size_t)r;
                                c->req[c->n] = '\0';
                                if (c->reply_at < 0 && (strstr(c->req, "\r\n\r\n") || c->n >= sizeof(c->req) - 1))
                                        prepare(c);
                        }
                        if (c->reply_at >= 0 && c->reply_at <= now) {
                                ssize_t w = write(c->fd, c->resp, strlen(c->resp));
                                (void)w;
                                drop(i);
                        }
                }
                for (int i = 0; i < 2; i++)
                        if (pfd[i].revents & POLLIN) {
                                int fd = accept(ls[i], NULL, NULL);
                                if (fd >= 0 && n_conns < MAX_CONNS)
                                        conns[n_conns++] = (struct conn){.fd = fd, .reply_at = -1};
                                else if (fd >= 0)
                                        close(fd);
                        }
        }
}
