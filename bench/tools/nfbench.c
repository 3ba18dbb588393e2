/*
 * nfbench: timing helper for netfaultd's benchmarks (bench/run.sh). Not part of netfaultd.
 *
 *   nfbench now                      CLOCK_MONOTONIC in microseconds
 *   nfbench time CMD [ARGS...]       run CMD (stdout to /dev/null), print its wall time in
 *                                    microseconds; exit status is CMD's
 *   nfbench startup HOST PORT CMD... start CMD in the background, poll "GET /healthz" on
 *                                    HOST:PORT every 0.5 ms until a 200 arrives; print
 *                                    "MICROSECONDS PID" (CMD keeps running). Gives up after 10 s.
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

int main(int argc, char **argv)
{
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
    fprintf(stderr, "usage: nfbench now | time CMD... | startup HOST PORT CMD...\n");
    return 2;
}
