/*
 * nfbench: timing helper for netfaultd's benchmarks (bench/run.sh). Not part of netfaultd.
 *
 *   nfbench now                      CLOCK_MONOTONIC in microseconds
 *   nfbench time CMD [ARGS...]       run CMD (stdout to /dev/null), print its wall time in
 *                                    microseconds; exit status is CMD's
 *   nfbench startup HOST PORT CMD... start CMD in the background, poll "GET /healthz" on
 *                                    HOST:PORT every 0.5 ms until a 200 arrives; print
 *                                    "MICROSECONDS PID" (CMD keeps running). Gives up after 10 s.
 *   nfbench probe HOST PORT MS       event-loop lag probe: "GET /healthz" on one keep-alive
 *                                    connection, one after another (1 ms apart), for MS
 *                                    milliseconds; prints "MAX_US P99_US MEDIAN_US COUNT". A
 *                                    request that arrives while the daemon's loop is busy waits
 *                                    for it, so MAX_US bounds the longest stall from above.
 *
 * Built statically so the same file runs on the host and in the kernel lab guest.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

static long long now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static pid_t spawn(char **argv, int quiet)
{
    pid_t pid = fork();
    if (pid == 0) {
        if (quiet) {
            int fd = open("/dev/null", O_WRONLY);
            if (fd >= 0) {
                dup2(fd, 1);
                close(fd);
            }
        }
        execvp(argv[0], argv);
        perror(argv[0]);
        _exit(127);
    }
    return pid;
}

static int healthz(const char *host, int port)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
    if (inet_pton(AF_INET, host, &sa.sin_addr) != 1)
        return -1;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (fd < 0)
        return -1;
    int ok = 0;
    if (connect(fd, (struct sockaddr *)&sa, sizeof(sa)) == 0) {
        const char req[] = "GET /healthz HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n"; /* a loopback Host (DNS-rebinding check) */
        if (write(fd, req, sizeof(req) - 1) == (ssize_t)(sizeof(req) - 1)) {
            char buf[64] = {0};
            ssize_t n = read(fd, buf, sizeof(buf) - 1);
            ok = n > 12 && strncmp(buf + 9, "200", 3) == 0;
        }
    }
    close(fd);
    return ok;
}

static int cmp_ll(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;
    return x < y ? -1 : x > y;
}

/* One GET /healthz on fd (HTTP/1.1, kept alive); 0 when a whole 200 reply came back. */
static int healthz_keepalive(int fd)
{
    const char req[] = "GET /healthz HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n";
    char buf[4096];
    size_t got = 0;
    if (write(fd, req, sizeof(req) - 1) != (ssize_t)(sizeof(req) - 1))
        return -1;
    for (;;) {
        ssize_t n = read(fd, buf + got, sizeof(buf) - 1 - got);
        if (n <= 0)
            return -1;
        got += (size_t)n;
        buf[got] = '\0';
        char *end = strstr(buf, "\r\n\r\n"), *cl = strcasestr(buf, "Content-Length:");
        if (end && cl && got >= (size_t)(end + 4 - buf) + (size_t)atol(cl + 15))
            return strncmp(buf + 9, "200", 3) == 0 ? 0 : -1;
        if (got >= sizeof(buf) - 1)
            return -1;
    }
}

static int probe(const char *host, int port, long long ms)
{
    struct sockaddr_in sa = {.sin_family = AF_INET, .sin_port = htons((unsigned short)port)};
    size_t cap = 65536, n = 0;
    long long *lat = malloc(cap * sizeof(*lat)), t_end = now_us() + ms * 1000;
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    if (!lat || fd < 0 || inet_pton(AF_INET, host, &sa.sin_addr) != 1 ||
        connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        fprintf(stderr, "nfbench probe: cannot connect\n");
        return 1;
    }
    while (now_us() < t_end && n < cap) {
        long long t0 = now_us();
        if (healthz_keepalive(fd) < 0) { /* the server closed it (idle timeout): again */
            close(fd);
            fd = socket(AF_INET, SOCK_STREAM, 0);
            if (fd < 0 || connect(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0)
                return 1;
            continue;
        }
        lat[n++] = now_us() - t0;
        usleep(1000);
    }
    close(fd);
    if (n == 0)
        return 1;
    qsort(lat, n, sizeof(*lat), cmp_ll);
    size_t k99 = (n * 99 + 99) / 100;
    printf("%lld %lld %lld %zu\n", lat[n - 1], lat[(k99 ? k99 : 1) - 1], lat[n / 2], n);
    free(lat);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc >= 5 && strcmp(argv[1], "probe") == 0)
        return probe(argv[2], atoi(argv[3]), atoll(argv[4]));
    if (argc >= 2 && strcmp(argv[1], "now") == 0) {
        printf("%lld\n", now_us());
        return 0;
    }
    if (argc >= 3 && strcmp(argv[1], "time") == 0) {
        long long t0 = now_us();
        pid_t pid = spawn(argv + 2, 1);
        int st = 0;
        waitpid(pid, &st, 0);
        printf("%lld\n", now_us() - t0);
        return WIFEXITED(st) ? WEXITSTATUS(st) : 128;
    }
    if (argc >= 5 && strcmp(argv[1], "startup") == 0) {
        const char *host = argv[2];
        int port = atoi(argv[3]);
        long long t0 = now_us();
        pid_t pid = spawn(argv + 4, 1); /* stdout to /dev/null: a $(...) caller waits for its EOF */
        while (now_us() - t0 < 10000000) {
            if (healthz(host, port) == 1) {
                printf("%lld %d\n", now_us() - t0, (int)pid);
                return 0;
            }
            if (waitpid(pid, NULL, WNOHANG) == pid) {
                fprintf(stderr, "nfbench: %s exited before serving /healthz\n", argv[4]);
                return 1;
            }
            usleep(500);
        }
        kill(pid, SIGTERM);
        fprintf(stderr, "nfbench: no /healthz within 10 s\n");
        return 1;
    }
    fprintf(stderr, "usage: nfbench now | time CMD... | startup HOST PORT CMD... | probe HOST PORT MS\n");
    return 2;
}
