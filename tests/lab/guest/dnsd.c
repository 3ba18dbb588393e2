/* dnsd: the lab's DNS responder. Answers A and AAAA queries over UDP from a zone file that is
 * read again for every query, so that a scenario can change an answer while a fault lives.
 *   dnsd ADDRESS PORT ZONEFILE
 * Zone lines: "NAME A|AAAA ADDRESS TTL"; a name with no line gets NXDOMAIN, a name with lines of
 * the other type only gets an empty NOERROR answer. Only for tests inside the lab guest. */
#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <unistd.h>

static int qname(const unsigned char *p, int len, int off, char *out, int outlen) {
        int o = 0;
        while (off < len && p[off]) {
                int l = p[off++];
                if (l > 63 || off + l > len || o + l + 1 >= outlen)
                        return -1;
                if (o)
                        out[o++] = '.';
                memcpy(out + o, p + off, l);
                o += l;
                off += l;
        }
        out[o] = '\0';
        return off < len ? off + 1 : -1;
}

int main(int argc, char **argv) {
        if (argc != 4) {
                fprintf(stderr, "usage: dnsd ADDRESS PORT ZONEFILE\n");
                return 2;
        }
        int v6 = strchr(argv[1], ':') != NULL;
        int fd = socket(v6 ? AF_INET6 : AF_INET, SOCK_DGRAM, 0);
        struct sockaddr_storage ss = {0};
        if (v6) {
                struct sockaddr_in6 *a = (struct sockaddr_in6 *)&ss;
                a->sin6_family = AF_INET6;
                a->sin6_port = htons(atoi(argv[2]));
                inet_pton(AF_INET6, argv[1], &a->sin6_addr);
        } else {
                struct sockaddr_in *a = (struct sockaddr_in *)&ss;
                a->sin_family = AF_INET;
                a->sin_port = htons(atoi(argv[2]));
                inet_pton(AF_INET, argv[1], &a->sin_addr);
        }
        if (fd < 0 || bind(fd, (struct sockaddr *)&ss, v6 ? sizeof(struct sockaddr_in6) : sizeof(struct sockaddr_in)) < 0) {
                perror("dnsd: bind");
                return 1;
        }
        for (;;) {
                unsigned char q[512], r[1024];
                struct sockaddr_storage from;
                socklen_t fl = sizeof(from);
                int n = recvfrom(fd, q, sizeof(q), 0, (struct sockaddr *)&from, &fl);
                char name[256];
                if (n < 12)
                        continue;
                int end = qname(q, n, 12, name, sizeof(name));
                if (end < 0 || end + 4 > n)
                        continue;
                int qtype = (q[end] << 8) | q[end + 1];
                int qlen = end + 4;
                memcpy(r, q, qlen);
                r[2] = 0x84 | (q[2] & 0x01); /* QR, AA, RD copied */
                r[3] = 0x80;                 /* RA, NOERROR */
                r[6] = r[7] = r[8] = r[9] = r[10] = r[11] = 0;
                int pos = qlen, answers = 0, known = 0;
                FILE *z = fopen(argv[3], "r");
                char line[256];
                while (z && fgets(line, sizeof(line), z)) {
                        char zn[256], zt[8], za[64];
                        unsigned ttl = 1;
                        if (sscanf(line, "%255s %7s %63s %u", zn, zt, za, &ttl) < 3 || strcasecmp(zn, name) != 0)
                                continue;
                        known = 1;
                        int t = strcmp(zt, "AAAA") == 0 ? 28 : strcmp(zt, "A") == 0 ? 1 : 0;
                        if (t != qtype || pos + 16 + 16 > (int)sizeof(r))
                                continue;
                        unsigned char addr[16];
                        int alen = t == 1 ? 4 : 16;
                        if (inet_pton(t == 1 ? AF_INET : AF_INET6, za, addr) != 1)
                                continue;
                        unsigned char rr[12] = {0xc0, 0x0c, 0, (unsigned char)t, 0, 1, (unsigned char)(ttl >> 24),
                                                (unsigned char)(ttl >> 16), (unsigned char)(ttl >> 8), (unsigned char)ttl, 0,
                                                (unsigned char)alen};
                        memcpy(r + pos, rr, 12);
                        memcpy(r + pos + 12, addr, alen);
                        pos += 12 + alen;
                        answers++;
                }
                if (z)
                        fclose(z);
                if (!known)
                        r[3] |= 3; /* NXDOMAIN */
                r[7] = (unsigned char)answers;
                sendto(fd, r, pos, 0, (struct sockaddr *)&from, fl);
        }
}
