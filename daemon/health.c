#include "daemon/health.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <netdb.h>
#include <poll.h>
#include <stdio.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#define HEALTH_TIMEOUT_MS 2000
#define HEALTH_REPLY_MAX 16384

/* --health: a container health check without a shell or curl in the image.
 * Connects to the daemon at --listen (NETFAULTD_LISTEN) with a plain socket, sends GET /healthz
 * and exits 0 when the reply is 200 with "status":"ok" within HEALTH_TIMEOUT_MS, 1 otherwise
 * (Docker's and ECS's meaning of a health command's status). One line on stdout says why. A
 * wildcard listen address (0.0.0.0, ::) is asked on the loopback address of its family. */

static long ms_left(const struct timespec *deadline) {
        struct timespec now;
        clock_gettime(CLOCK_MONOTONIC, &now);
        return (deadline->tv_sec - now.tv_sec) * 1000 + (deadline->tv_nsec - now.tv_nsec) / 1000000;
}

/* Waits for EVENTS on fd until the deadline: 0, or -ETIMEDOUT / -errno. */
static int wait_fd(int fd, short events, const struct timespec *deadline) {
        for (;;) {
                long left = ms_left(deadline);
                if (left <= 0)
                        return -ETIMEDOUT;
                struct pollfd p = {.fd = fd, .events = events};
                int n = poll(&p, 1, (int)left);
                if (n > 0)
                        return 0;
                if (n < 0 && errno != EINTR)
                        return -errno;
        }
}

static int connect_by(int family, const struct sockaddr *sa, socklen_t sl, const struct timespec *deadline) {
        int fd = socket(family, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0), err = 0;
        socklen_t el = sizeof(err);
        if (fd < 0)
                return -errno;
        if (connect(fd, sa, sl) < 0) {
                int r = errno != EINPROGRESS ? -errno : wait_fd(fd, POLLOUT, deadline);
                if (r == 0 && getsockopt(fd, SOL_SOCKET, SO_ERROR, &err, &el) == 0 && err)
                        r = -err;
                if (r < 0) {
                        close(fd);
                        return r;
                }
        }
        return fd;
}

static int health_connect(const struct nf_listen_addr *la, const char *listen, const struct timespec *deadline,
                          char *why, size_t wlen) {
        if (la->is_unix) {
                struct sockaddr_un sa = {.sun_family = AF_UNIX};
                if (strlen(la->host) >= sizeof(sa.sun_path)) {
                        snprintf(why, wlen, "unix socket path too long");
                        return -ENAMETOOLONG;
                }
                snprintf(sa.sun_path, sizeof(sa.sun_path), "%s", la->host);
                int fd = connect_by(AF_UNIX, (struct sockaddr *)&sa, sizeof(sa), deadline);
                if (fd < 0)
                        snprintf(why, wlen, "cannot connect to %s: %s", listen, strerror(-fd));
                return fd;
        }
        char host[256], port[8];
        if (la->port == 0) {
                snprintf(why, wlen, "--listen %s names no port to ask (port 0 is chosen at start-up)", listen);
                return -EINVAL;
        }
        snprintf(host, sizeof(host), "%s", la->host);
        snprintf(port, sizeof(port), "%u", la->port);
        if (strcmp(host, "0.0.0.0") == 0 || !host[0])
                snprintf(host, sizeof(host), "127.0.0.1");
        else if (strcmp(host, "::") == 0)
                snprintf(host, sizeof(host), "::1");
        struct addrinfo hints = {.ai_socktype = SOCK_STREAM, .ai_flags = AI_NUMERICSERV}, *res = NULL;
        int r = getaddrinfo(host, port, &hints, &res);
        if (r != 0) {
                snprintf(why, wlen, "cannot resolve %s: %s", host, gai_strerror(r));
                return -EINVAL;
        }
        int fd = -ENOENT;
        for (struct addrinfo *ai = res; ai && fd < 0; ai = ai->ai_next)
                fd = connect_by(ai->ai_family, ai->ai_addr, ai->ai_addrlen, deadline);
        freeaddrinfo(res);
        if (fd < 0)
                snprintf(why, wlen, "cannot connect to %s:%s: %s", host, port, strerror(-fd));
        return fd;
}

/* Sends the request and reads the whole reply (the server closes: Connection: close). */
static int health_exchange(int fd, char *reply, size_t cap, const struct timespec *deadline, char *why, size_t wlen) {
        static const char req[] = "GET /healthz HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n";
        size_t off = 0, n = 0;
        int r;
        while (off < sizeof(req) - 1) {
                ssize_t w = send(fd, req + off, sizeof(req) - 1 - off, MSG_NOSIGNAL);
                if (w > 0)
                        off += (size_t)w;
                else if (w < 0 && errno != EAGAIN && errno != EINTR) {
                        snprintf(why, wlen, "cannot send the request: %s", strerror(errno));
                        return -1;
                } else if ((r = wait_fd(fd, POLLOUT, deadline)) < 0) {
                        snprintf(why, wlen, "cannot send the request: %s", strerror(-r));
                        return -1;
                }
        }
        for (;;) {
                if (n == cap - 1) {
                        snprintf(why, wlen, "the reply is longer than %zu bytes", cap - 1);
                        return -1;
                }
                ssize_t got = recv(fd, reply + n, cap - 1 - n, 0);
                if (got == 0)
                        break;
                if (got > 0) {
                        n += (size_t)got;
                        continue;
                }
                if (errno != EAGAIN && errno != EINTR) {
                        snprintf(why, wlen, "cannot read the reply: %s", strerror(errno));
                        return -1;
                }
                if ((r = wait_fd(fd, POLLIN, deadline)) < 0) {
                        snprintf(why, wlen, "no whole reply within %d ms: %s", HEALTH_TIMEOUT_MS, strerror(-r));
                        return -1;
                }
        }
        reply[n] = '\0';
        return 0;
}

int nf_health_check(const struct nf_listen_addr *la, const char *listen) {
        static char reply[HEALTH_REPLY_MAX];
        char why[512] = "";
        struct timespec deadline;
        int code = 0, ok = 0;
        clock_gettime(CLOCK_MONOTONIC, &deadline);
        deadline.tv_sec += HEALTH_TIMEOUT_MS / 1000;
        deadline.tv_nsec += (HEALTH_TIMEOUT_MS % 1000) * 1000000L;
        if (deadline.tv_nsec >= 1000000000L) {
                deadline.tv_sec++;
                deadline.tv_nsec -= 1000000000L;
        }
        int fd = health_connect(la, listen, &deadline, why, sizeof(why));
        if (fd >= 0) {
                if (health_exchange(fd, reply, sizeof(reply), &deadline, why, sizeof(why)) == 0) {
                        const char *body = strstr(reply, "\r\n\r\n");
                        cJSON *o = body ? cJSON_Parse(body + 4) : NULL;
                        const cJSON *st = cJSON_GetObjectItemCaseSensitive(o, "status");
                        const cJSON *reason = cJSON_GetObjectItemCaseSensitive(o, "reason");
                        if (sscanf(reply, "HTTP/1.%*d %d", &code) != 1)
                                snprintf(why, sizeof(why), "not an HTTP reply from %s", listen);
                        else if (code != 200 || !cJSON_IsString(st))
                                snprintf(why, sizeof(why), "GET /healthz at %s answered %d", listen, code);
                        else if (strcmp(st->valuestring, "ok") != 0)
                                snprintf(why, sizeof(why), "%s: %s", st->valuestring,
                                         cJSON_IsString(reason) ? reason->valuestring : "no reason given");
                        else {
                                ok = 1;
                                printf("healthy: netfaultd at %s: %.*s\n", listen, (int)strcspn(body + 4, "\r\n"),
                                       body + 4);
                        }
                        cJSON_Delete(o);
                }
                close(fd);
        }
        if (!ok)
                printf("unhealthy: %s\n", why);
        fflush(stdout);
        return ok ? 0 : 1;
}
