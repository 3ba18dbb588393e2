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
/* One recvmsg: the kernel sizes dump messages up to 32 KiB after seeing a large buffer. */
#define RBUF_BYTES (64 * 1024)

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
        nl->rbuflen = RBUF_BYTES;
        nl->rbuf = malloc(nl->rbuflen);
        if (!nl->buf || !nl->rbuf) {
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
        free(nl->rbuf);
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
        nl->queue_err = 0;
}

struct nf_msgbuf nf_nl_room(struct nf_nl *nl) {
        char *cur = mnl_nlmsg_batch_current(nl->batch);
        return (struct nf_msgbuf){cur, nl->buflen - (size_t)(cur - nl->buf)};
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

/* One conversation: the replies to requests [from, to], read until each has its final answer
 * (an acknowledgement, an error, or the end of a dump). Every receive loop of this file is this
 * one: mnl_cb_run2() drops nothing silently and checks the port id of every reply, and the
 * sequence range is checked here, so that a late reply to an earlier transaction (one that was
 * abandoned half-way) is ignored instead of being taken for an answer. */
struct conversation {
        struct nf_nl *nl;
        uint32_t from, to;
        uint32_t answered_to; /* highest sequence with its final answer */
        bool batch;           /* errors go to nl->first (per-request tolerance) */
        mnl_cb_t data_cb;     /* dump and get replies; NULL: ignored */
        void *data;
        bool data_stopped;    /* data_cb said stop: the rest of the dump is drained unseen */
        int status;           /* single request: its error, or the callback's */
        struct nf_nl_error *err;
};

static bool in_range(const struct conversation *c, uint32_t seq) {
        return (int32_t)(seq - c->from) >= 0 && (int32_t)(seq - c->to) <= 0;
}

static void answered(struct conversation *c, uint32_t seq) {
        if ((int32_t)(seq - c->answered_to) > 0)
                c->answered_to = seq;
}

static int on_data(const struct nlmsghdr *nlh, void *arg) {
        struct conversation *c = arg;
        if (!in_range(c, nlh->nlmsg_seq) || !c->data_cb || c->data_stopped)
                return MNL_CB_OK;
        int r = c->data_cb(nlh, c->data);
        if (r < MNL_CB_OK) {
                c->data_stopped = true;
                if (r == MNL_CB_ERROR && c->status == 0)
                        c->status = -EIO;
        }
        return MNL_CB_OK;
}

static int on_error(const struct nlmsghdr *nlh, void *arg) {
        struct conversation *c = arg;
        const struct nlmsgerr *e = mnl_nlmsg_get_payload(nlh);
        uint32_t seq = nlh->nlmsg_seq;

        if (mnl_nlmsg_get_payload_len(nlh) < sizeof(*e) || !in_range(c, seq))
                return MNL_CB_OK;
        if (e->error && c->batch) {
                struct nf_nl *nl = c->nl;
                size_t idx = seq - nl->first_seq;
                if (-e->error != nl->tolerate[idx] && nl->first.err == 0) {
                        nl->first.err = e->error;
                        nl->first.index = idx;
                        nl->first.msg_type = e->msg.nlmsg_type;
                        parse_extack(nlh, nl->first.extack, sizeof(nl->first.extack));
                }
        } else if (e->error) {
                c->status = e->error;
                if (c->err) {
                        c->err->err = e->error;
                        c->err->msg_type = e->msg.nlmsg_type;
                        parse_extack(nlh, c->err->extack, sizeof(c->err->extack));
                }
        }
        answered(c, seq);
        return MNL_CB_OK;
}

static int on_done(const struct nlmsghdr *nlh, void *arg) {
        struct conversation *c = arg;
        if (!in_range(c, nlh->nlmsg_seq))
                return MNL_CB_OK;
        /* NLMSG_DONE carries the dump's own error code. */
        if (mnl_nlmsg_get_payload_len(nlh) >= sizeof(int)) {
                int e;
                memcpy(&e, mnl_nlmsg_get_payload(nlh), sizeof(e));
                if (e < 0 && c->status == 0)
                        c->status = e;
        }
        answered(c, nlh->nlmsg_seq);
        return MNL_CB_OK;
}

static int converse(struct conversation *c) {
        static mnl_cb_t ctl[NLMSG_MIN_TYPE] = {[NLMSG_ERROR] = on_error, [NLMSG_DONE] = on_done};
        struct nf_nl *nl = c->nl;

        while ((int32_t)(c->to - c->answered_to) > 0) {
                ssize_t n = mnl_socket_recvfrom(nl->sk, nl->rbuf, nl->rbuflen);
                if (n < 0) {
                        if (errno == EINTR)
                                continue;
                        return -errno;
                }
                /* -1 with EINTR: the kernel says a dump was interrupted by a change (its parts
                 * are inconsistent); with ESRCH: a reply for another port id. */
                if (mnl_cb_run2(nl->rbuf, (size_t)n, 0, nl->portid, on_data, c, ctl, NLMSG_MIN_TYPE) < 0)
                        return errno == EINTR ? -EAGAIN : -errno;
        }
        return 0;
}

/* Reads acknowledgements until every request up to last_seq has one. */
static int collect_acks(struct nf_nl *nl, uint32_t last_seq) {
        struct conversation c = {.nl = nl, .from = nl->first_seq, .to = last_seq, .answered_to = nl->acked_to, .batch = true};
        int r = converse(&c);
        nl->acked_to = c.answered_to;
        return r;
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

static int queue(struct nf_nl *nl, struct nlmsghdr *nlh, int tolerate) {
        if (!nlh)
                return -EMSGSIZE;
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

int nf_nl_queue(struct nf_nl *nl, struct nlmsghdr *nlh, int tolerate) {
        if (nl->queue_err == 0)
                nl->queue_err = queue(nl, nlh, tolerate);
        return nl->queue_err;
}

int nf_nl_end(struct nf_nl *nl, struct nf_nl_error *err) {
        /* What was queued before a queueing failure still goes out and is acknowledged, so that
         * the caller's rollback sees the kernel as it is. */
        int r = flush(nl);
        mnl_nlmsg_batch_reset(nl->batch);
        if (nl->queue_err)
                r = nl->queue_err;
        else if (r == 0)
                r = nl->first.err;
        if (err) {
                *err = nl->first;
                err->unsent = nl->queue_err != 0;
                if (r && (!err->err || err->unsent))
                        err->err = r;
        }
        return r;
}

int nf_nl_request(struct nf_nl *nl, struct nlmsghdr *nlh, mnl_cb_t cb, void *data, struct nf_nl_error *err) {
        /* A dump interrupted by a concurrent change (NLM_F_DUMP_INTR) is asked again. */
        for (int attempt = 0;; attempt++) {
                uint32_t seq = ++nl->seq;
                struct conversation c = {.nl = nl, .from = seq, .to = seq, .answered_to = seq - 1,
                                         .data_cb = cb, .data = data, .err = err};
                nlh->nlmsg_seq = seq;
                nlh->nlmsg_pid = 0;
                nlh->nlmsg_flags |= NLM_F_ACK;
                if (err)
                        *err = (struct nf_nl_error){0};
                if (mnl_socket_sendto(nl->sk, nlh, nlh->nlmsg_len) < 0)
                        return -errno;
                int r = converse(&c);
                if (r == -EAGAIN && (nlh->nlmsg_flags & NLM_F_DUMP) == NLM_F_DUMP && attempt < 3)
                        continue;
                return r < 0 ? r : c.status;
        }
}
