/*
 * udpecho: the kernel lab's UDP listener and UDP probe (busybox's nc has no UDP).
 *
 *   udpecho serve PORT
 *       echo every datagram back to its sender, on all IPv4 and IPv6 addresses.
 *   udpecho probe ADDRESS PORT COUNT INTERVAL_MS WAIT_MS
 *       send COUNT numbered datagrams on a fixed schedule, one every INTERVAL_MS
 *       (late sends catch up, unlike ping's interval under a slow guest clock),
 *       wait up to WAIT_MS after the last one (less once all came back), and print
 *       "sent N received M dups D median_ms X" (M counts distinct datagrams).
 *   udpecho flows ADDRESS PORT FLOWS COUNT INTERVAL_MS WAIT_MS SLOW_MS
 *       the same over FLOWS sockets at once (FLOWS source ports: FLOWS 5-tuples),
 *       COUNT datagrams each, sent round robin (datagram j of every flow before
 *       datagram j+1 of any) one every INTERVAL_MS, and print per flow kind
 *       "flows F full A none B partial C slow S fast Q mixed M sent N received R":
 *       full/none/partial by how many of its datagrams came back, slow/fast/mixed
 *       by whether all, none or some of its answers took SLOW_MS or more.
 *
 * Built statically by initramfs.sh for the guest only; not part of netfaultd.
 */
#define _GNU_SOURCE
#include <arpa/inet.h>
#include <errno.h>
#include <netinet/in.h>
#include <poll.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

static long long now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (long long)ts.tv_sec * 1000000 + ts.tv_nsec / 1000;
}

static long long now_ms(void)
{
    return now_us() / 1000;
}

static int cmp_ll(const void *a, const void *b)
{
    long long x = *(const long long *)a, y = *(const long long *)b;
    return (x > y) - (x < y);
}

/* Replies leave from the address the request was sent to (IPV6_PKTINFO;
 * for IPv4 the kernel reports and accepts v4-mapped addresses), or a
 * connected client on another of the peer's addresses would not see them. */
static int serve(int port)
{
    int fd = socket(AF_INET6, SOCK_DGRAM, 0);
    int off = 0, on = 1;
    struct sockaddr_in6 sa = { .sin6_family = AF_INET6, .sin6_port = htons(port) };
    static char buf[65536];

    if (fd < 0) {
        perror("socket");
        return 1;
    }
    setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &off, sizeof(off));
    setsockopt(fd, IPPROTO_IPV6, IPV6_RECVPKTINFO, &on, sizeof(on));
    sa.sin6_addr = in6addr_any;
    if (bind(fd, (struct sockaddr *)&sa, sizeof(sa)) < 0) {
        perror("bind");
        return 1;
    }
    for (;;) {
        struct sockaddr_in6 from;
        char cbuf[CMSG_SPACE(sizeof(struct in6_pktinfo))];
        struct iovec iov = { .iov_base = buf, .iov_len = sizeof(buf) };
        struct msghdr mh = {
            .msg_name = &from, .msg_namelen = sizeof(from),
            .msg_iov = &iov, .msg_iovlen = 1,
            .msg_control = cbuf, .msg_controllen = sizeof(cbuf),
        };
        struct in6_pktinfo info;
        int have_info = 0;
        struct cmsghdr *c;
        ssize_t n = recvmsg(fd, &mh, 0);

        if (n < 0) {
            if (errno == EINTR)
                continue;
            perror("recvmsg");
            return 1;
        }
        for (c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
            if (c->cmsg_level == IPPROTO_IPV6 && c->cmsg_type == IPV6_PKTINFO) {
                memcpy(&info, CMSG_DATA(c), sizeof(info));
                have_info = 1;
            }
        }
        iov.iov_len = n;
        mh.msg_flags = 0;
        if (have_info) {
            memset(cbuf, 0, sizeof(cbuf));
            mh.msg_control = cbuf;
            mh.msg_controllen = sizeof(cbuf);
            c = CMSG_FIRSTHDR(&mh);
            c->cmsg_level = IPPROTO_IPV6;
            c->cmsg_type = IPV6_PKTINFO;
            c->cmsg_len = CMSG_LEN(sizeof(info));
            info.ipi6_ifindex = 0;
            memcpy(CMSG_DATA(c), &info, sizeof(info));
        } else {
            mh.msg_control = NULL;
            mh.msg_controllen = 0;
        }
        sendmsg(fd, &mh, 0);
    }
}

/* A datagram of 64 bytes: its number (network order), then at 8 the time it left (us). */
static void send_numbered(int fd, int n)
{
    uint32_t seq = htonl(n);
    long long ts = now_us();
    char pkt[64] = { 0 };
    memcpy(pkt, &seq, sizeof(seq));
    memcpy(pkt + 8, &ts, sizeof(ts));
    send(fd, pkt, sizeof(pkt), 0);
}

static int sockaddr_of(const char *addr, int port, struct sockaddr_storage *ss, socklen_t *sl)
{
    memset(ss, 0, sizeof(*ss));
    if (inet_pton(AF_INET, addr, &((struct sockaddr_in *)ss)->sin_addr) == 1) {
        ((struct sockaddr_in *)ss)->sin_family = AF_INET;
        ((struct sockaddr_in *)ss)->sin_port = htons(port);
        *sl = sizeof(struct sockaddr_in);
        return 0;
    }
    if (inet_pton(AF_INET6, addr, &((struct sockaddr_in6 *)ss)->sin6_addr) == 1) {
        ((struct sockaddr_in6 *)ss)->sin6_family = AF_INET6;
        ((struct sockaddr_in6 *)ss)->sin6_port = htons(port);
        *sl = sizeof(struct sockaddr_in6);
        return 0;
    }
    fprintf(stderr, "udpecho: bad address %s\n", addr);
    return -1;
}

static int probe(const char *addr, int port, int count, int interval_ms, int wait_ms)
{
    struct sockaddr_storage ss;
    socklen_t sl;
    int fd, sent = 0, received = 0, dups = 0;
    unsigned char *seen = calloc(count > 0 ? count : 1, 1);
    long long *rtt = calloc(count > 0 ? count : 1, sizeof(*rtt));
    double median = -1;
    long long next, deadline = 0;

    if (sockaddr_of(addr, port, &ss, &sl) < 0)
        return 2;
    fd = socket(ss.ss_family, SOCK_DGRAM, 0);
    if (fd < 0 || connect(fd, (struct sockaddr *)&ss, sl) < 0 || !seen || !rtt) {
        perror("udpecho: socket/connect");
        return 1;
    }
    next = now_ms();
    for (;;) {
        long long t = now_ms();
        int timeout;
        struct pollfd p = { .fd = fd, .events = POLLIN };

        if (sent < count && t >= next) {
            send_numbered(fd, sent); /* ECONNREFUSED etc.: counted as lost */
            sent++;
            next += interval_ms;
            if (sent == count)
                deadline = t + wait_ms;
            continue;
        }
        if (sent == count && (t >= deadline || received == count))
            break;
        timeout = (int)((sent < count ? next : deadline) - t);
        if (timeout < 0)
            timeout = 0;
        if (poll(&p, 1, timeout) > 0) {
            char buf[2048];
            ssize_t n = recv(fd, buf, sizeof(buf), 0);
            if (n >= 16) {
                uint32_t seq;
                long long ts;
                memcpy(&seq, buf, sizeof(seq));
                memcpy(&ts, buf + 8, sizeof(ts));
                seq = ntohl(seq);
                if (seq < (uint32_t)count && !seen[seq]) {
                    seen[seq] = 1;
                    rtt[received++] = now_us() - ts;
                } else if (seq < (uint32_t)count) {
                    dups++;
                }
            }
        }
    }
    if (received > 0) {
        qsort(rtt, received, sizeof(*rtt), cmp_ll);
        median = (received % 2) ? rtt[received / 2] / 1000.0
                                : (rtt[received / 2 - 1] + rtt[received / 2]) / 2000.0;
    }
    printf("sent %d received %d dups %d median_ms %.2f\n", sent, received, dups, median);
    return 0;
}

/* Many flows at once: what a share of flows (flows_percent) must impair whole or not at all. */
static int flows(const char *addr, int port, int nflows, int count, int interval_ms, int wait_ms, int slow_ms)
{
    struct sockaddr_storage ss;
    socklen_t sl;
    int total = nflows * count, sent = 0, received = 0;
    struct pollfd *p = calloc(nflows > 0 ? nflows : 1, sizeof(*p));
    int *got = calloc(nflows > 0 ? nflows : 1, sizeof(*got)), *slow = calloc(nflows > 0 ? nflows : 1, sizeof(*slow));
    unsigned char *seen = calloc(total > 0 ? total : 1, 1);
    long long next, deadline = 0;

    if (sockaddr_of(addr, port, &ss, &sl) < 0)
        return 2;
    if (!p || !got || !slow || !seen) {
        perror("udpecho: calloc");
        return 1;
    }
    for (int i = 0; i < nflows; i++) {
        p[i].fd = socket(ss.ss_family, SOCK_DGRAM, 0);
        p[i].events = POLLIN;
        if (p[i].fd < 0 || connect(p[i].fd, (struct sockaddr *)&ss, sl) < 0) {
            perror("udpecho: socket/connect");
            return 1;
        }
    }
    next = now_ms();
    for (;;) {
        long long t = now_ms();
        int timeout;

        if (sent < total && t >= next) {
            int flow = sent % nflows;
            send_numbered(p[flow].fd, sent);
            sent++;
            next += interval_ms;
            if (sent == total)
                deadline = t + wait_ms;
            continue;
        }
        if (sent == total && (t >= deadline || received == total))
            break;
        timeout = (int)((sent < total ? next : deadline) - t);
        if (poll(p, nflows, timeout < 0 ? 0 : timeout) <= 0)
            continue;
        for (int i = 0; i < nflows; i++) {
            char buf[2048];
            ssize_t n;
            if (!(p[i].revents & POLLIN))
                continue;
            while ((n = recv(p[i].fd, buf, sizeof(buf), MSG_DONTWAIT)) >= 16) {
                uint32_t seq;
                long long ts;
                memcpy(&seq, buf, sizeof(seq));
                memcpy(&ts, buf + 8, sizeof(ts));
                seq = ntohl(seq);
                if (seq >= (uint32_t)total || seen[seq] || (int)(seq % nflows) != i)
                    continue;
                seen[seq] = 1;
                received++;
                got[i]++;
                slow[i] += now_us() - ts >= slow_ms * 1000LL;
            }
        }
    }
    int full = 0, none = 0, partial = 0, nslow = 0, fast = 0, mixed = 0;
    for (int i = 0; i < nflows; i++) {
        full += got[i] == count;
        none += got[i] == 0;
        partial += got[i] > 0 && got[i] < count;
        nslow += got[i] > 0 && slow[i] == got[i];
        fast += got[i] > 0 && slow[i] == 0;
        mixed += slow[i] > 0 && slow[i] < got[i];
    }
    printf("flows %d full %d none %d partial %d slow %d fast %d mixed %d sent %d received %d\n", nflows, full, none,
           partial, nslow, fast, mixed, sent, received);
    return 0;
}

int main(int argc, char **argv)
{
    if (argc == 9 && strcmp(argv[1], "flows") == 0)
        return flows(argv[2], atoi(argv[3]), atoi(argv[4]), atoi(argv[5]), atoi(argv[6]), atoi(argv[7]), atoi(argv[8]));
    if (argc == 3 && strcmp(argv[1], "serve") == 0)
        return serve(atoi(argv[2]));
    if (argc == 7 && strcmp(argv[1], "probe") == 0)
        return probe(argv[2], atoi(argv[3]), atoi(argv[4]), atoi(argv[5]), atoi(argv[6]));
    fprintf(stderr, "usage: udpecho serve PORT | udpecho probe ADDRESS PORT COUNT INTERVAL_MS WAIT_MS\n");
    return 2;
}
