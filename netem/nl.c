#include "netem/nl.h"

#include <errno.h>
#include <linux/netlink.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

/* A batch is flushed at this size or this many requests, so that the acknowledgements of one
 * batch always fit in the receive buffer (each ack is a separate skb of ~1 KiB truesize). */
#define BATCH_BYTES (48 * 1024)
#define BATCH_MAX_REQ 256
#define BUF_BYTES (BATCH_BYTES + 32 * 1024) /* headroom for a netem request with a delay table */
#define RCVBUF_BYTES (4 * 1024 * 1024)

int nf_nl_open(struct nf_nl *nl) {
        int one = 1, rcv = RCVBUF_BYTES;
        *nl = (struct nf_nl){0};
        nl->sk = mnl_socket_open(NETLINK_ROUTE);
        if (!nl->sk)
                return -errno;
        if (mnl_socket_bind(nl->sk, 0, MNL_SOCKET_AUTOPID) < 0) {
                int r = -errno;
                mnl_socket_close(nl->sk);
                nl->sk = NULL;
                return r;
        }
        /* Ask for the kernel's error text, and not for copies of our requests in every ack. */
        mnl_socket_setsockopt(nl->sk, NETLINK_EXT_ACK, &one, sizeof(one));
        mnl_socket_setsockopt(nl->sk, NETLINK_CAP_ACK, &one, sizeof(one));
        if (setsockopt(mnl_socket_get_fd(nl->sk), SOL_SOCKET, SO_RCVBUFFORCE, &rcv, sizeof(rcv)) < 0)
                setsockopt(mnl_socket_get_fd(nl->sk), SOL_SOCKET, SO_RCVBUF, &rcv, sizeof(rcv));
        nl->portid = mnl_socket_get_portid(nl->sk);
        nl->seq = (uint32_t)time(NULL);
        nl->buflen = BUF_BYTES;
        nl->buf = malloc(nl->buflen);
        if (!nl->buf) {
                nf_nl_close(nl);
                return -ENOMEM;
        }
        return 0;
}

void nf_nl_close(struct nf_nl *nl) {
        if (nl->batch)
                mnl_nlmsg_batch_stop(nl->batch);
        if (nl->sk)
                mnl_socket_close(nl->sk);
        free(nl->buf);
        free(nl->tolerate);
        *nl = (struct nf_nl){0};
}

void nf_nl_begin(struct nf_nl *nl) {
        if (nl->batch)
                mnl_nlmsg_batch_stop(nl->batch);
        nl->batch = mnl_nlmsg_batch_start(nl->buf, BATCH_BYTES);
        nl->in_batch = 0;
        nl->n_req = 0;
        nl->first_seq = nl->seq + 1;
        nl->acked_to = nl->seq;
        nl->first = (struct nf_nl_error){0};
}

void *nf_nl_room(struct nf_nl *nl, size_t *len) {
        char *cur = mnl_nlmsg_batch_current(nl->batch);
        *len = nl->buflen - (size_t)(cur - nl->buf);
        return cur;
}

static void parse_extack(const struct nlmsghdr *nlh, char *out, size_t outlen) {
        const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
        size_t off;
        const struct nlattr *attr;

        out[0] = '\0';
        if (!(nlh->nlmsg_flags & NLM_F_ACK_TLVS))
                return;
        off = sizeof(*e);
        if (!(nlh->nlmsg_flags & NLM_F_CAPPED))
                off += e->msg.nlmsg_len - sizeof(e->msg);
        mnl_attr_for_each(attr, nlh, off) {
                if (mnl_attr_get_type(attr) == NLMSGERR_ATTR_MSG && mnl_attr_validate(attr, MNL_TYPE_NUL_STRING) == 0) {
                        strncpy(out, mnl_attr_get_str(attr), outlen - 1);
                        out[outlen - 1] = '\0';
                        return;
                }
        }
}

/* Reads acknowledgements until every request up to last_seq has one. */
static int collect_acks(struct nf_nl *nl, uint32_t last_seq) {
        char rbuf[MNL_SOCKET_BUFFER_SIZE * 2];
        uint32_t acked_to = nl->acked_to;

        while ((int32_t)(last_seq - acked_to) > 0) {
                ssize_t n = mnl_socket_recvfrom(nl->sk, rbuf, sizeof(rbuf));
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                const struct nlmsghdr *nlh = (const struct nlmsghdr *)rbuf;
                int len = (int)n;
                for (; mnl_nlmsg_ok(nlh, len); nlh = mnl_nlmsg_next(nlh, &len)) {
                        if (nlh->nlmsg_pid != nl->portid || nlh->nlmsg_type != NLMSG_ERROR)
                                continue;
                        uint32_t s = nlh->nlmsg_seq;
                        if ((int32_t)(s - nl->first_seq) < 0 || (int32_t)(s - last_seq) > 0)
                                continue; /* a stale reply from an earlier transaction */
                        const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
                        size_t idx = s - nl->first_seq;
                        if (e->error && -e->error != nl->tolerate[idx] && nl->first.err == 0) {
                                nl->first.err = e->error;
                                nl->first.index = idx;
                                nl->first.msg_type = e->msg.nlmsg_type;
                                parse_extack(nlh, nl->first.extack, sizeof(nl->first.extack));
                        }
                        if ((int32_t)(s - acked_to) > 0)
                                acked_to = s;
                }
        }
        nl->acked_to = acked_to;
        return 0;
}

static int flush(struct nf_nl *nl) {
        if (nl->in_batch == 0)
                return 0;
        size_t size = mnl_nlmsg_batch_size(nl->batch);
        if (mnl_socket_sendto(nl->sk, mnl_nlmsg_batch_head(nl->batch), size) < 0)
                return -errno;
        int r = collect_acks(nl, nl->seq);
        nl->in_batch = 0;
        return r;
}

int nf_nl_queue(struct nf_nl *nl, struct nlmsghdr *nlh, int tolerate) {
        if (nl->n_req == nl->cap_req) {
                size_t cap = nl->cap_req ? nl->cap_req * 2 : 256;
                uint8_t *t = realloc(nl->tolerate, cap);
                if (!t)
                        return -ENOMEM;
                nl->tolerate = t;
                nl->cap_req = cap;
        }
        nlh->nlmsg_seq = ++nl->seq;
        nlh->nlmsg_pid = 0;
        nlh->nlmsg_flags |= NLM_F_ACK;
        nl->tolerate[nl->n_req++] = (uint8_t)tolerate;
        nl->in_batch++;
        /* batch_next is false when this message crossed the batch limit: send the ones before
         * it, then move it to the front. */
        if (!mnl_nlmsg_batch_next(nl->batch)) {
                size_t size = mnl_nlmsg_batch_size(nl->batch);
                if (mnl_socket_sendto(nl->sk, mnl_nlmsg_batch_head(nl->batch), size) < 0)
                        return -errno;
                nl->in_batch--;
                int r = collect_acks(nl, nl->seq - 1);
                if (r < 0)
                        return r;
                mnl_nlmsg_batch_reset(nl->batch);
                nl->in_batch = 1;
        } else if (nl->in_batch >= BATCH_MAX_REQ) {
                int r = flush(nl);
                mnl_nlmsg_batch_reset(nl->batch);
                return r;
        }
        return 0;
}

int nf_nl_end(struct nf_nl *nl, struct nf_nl_error *err) {
        int r = flush(nl);
        mnl_nlmsg_batch_reset(nl->batch);
        if (r == 0)
                r = nl->first.err;
        if (err) {
                *err = nl->first;
                if (r && !err->err)
                        err->err = r;
        }
        return r;
}

int nf_nl_request(struct nf_nl *nl, struct nlmsghdr *nlh, mnl_cb_t cb, void *data, struct nf_nl_error *err) {
        char rbuf[MNL_SOCKET_BUFFER_SIZE * 2];
        uint32_t seq = ++nl->seq;
        int r;

        nlh->nlmsg_seq = seq;
        nlh->nlmsg_flags |= NLM_F_ACK;
        if (err)
                *err = (struct nf_nl_error){0};
        if (mnl_socket_sendto(nl->sk, nlh, nlh->nlmsg_len) < 0)
                return -errno;
        for (;;) {
                ssize_t n = mnl_socket_recvfrom(nl->sk, rbuf, sizeof(rbuf));
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                const struct nlmsghdr *h = (const struct nlmsghdr *)rbuf;
                int len = (int)n;
                for (; mnl_nlmsg_ok(h, len); h = mnl_nlmsg_next(h, &len)) {
                        if (h->nlmsg_seq != seq)
                                continue;
                        if (h->nlmsg_type == NLMSG_DONE)
                                return 0;
                        if (h->nlmsg_type == NLMSG_ERROR) {
                                const struct nlmsgerr *e = mnl_nlmsg_get_payload(h);
                                if (e->error && err) {
                                        err->err = e->error;
                                        parse_extack(h, err->extack, sizeof(err->extack));
                                }
                                return e->error;
                        }
                        if (cb) {
                                r = cb(h, data);
                                if (r < MNL_CB_OK)
                                        return r == MNL_CB_ERROR ? -EIO : 0;
                        }
                }
        }
}
