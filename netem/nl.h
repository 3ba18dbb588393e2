/* A NETLINK_ROUTE socket that sends batches of requests and collects one acknowledgement per
 * request, keeping the first failure with the kernel's extended-ack text. */
#pragma once
#include <libmnl/libmnl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NF_NL_EXTACK_LEN 256

/* Where one request is built: the free room of a transaction (nf_nl_room) or a plain buffer
 * (NF_MSGBUF(array)). Encoders write at most len bytes and return NULL when the request does
 * not fit. */
struct nf_msgbuf {
        void *buf;
        size_t len;
};
#define NF_MSGBUF(array) ((struct nf_msgbuf){(array), sizeof(array)})

struct nf_nl_error {
        int err;                          /* negative errno, 0 if none */
        char extack[NF_NL_EXTACK_LEN];    /* the kernel's own sentence, may be empty */
        size_t index;                     /* which request of the transaction failed */
        uint16_t msg_type;
        bool unsent;                      /* the transaction could not be built or sent whole */
};

struct nf_nl {
        struct mnl_socket *sk;
        uint32_t portid, seq;
        char *buf;          /* the batch being built */
        size_t buflen;
        char *rbuf;         /* replies */
        size_t rbuflen;
        struct mnl_nlmsg_batch *batch;
        size_t in_batch;  /* requests in the unsent batch */
        uint32_t first_seq; /* of the transaction */
        uint32_t acked_to;  /* highest sequence acknowledged */
        uint8_t *tolerate; /* per request of the transaction: errno to ignore (ENOENT...) */
        int queue_err;     /* the first failure to queue or send: later requests are dropped */
        size_t n_req, cap_req;
        struct nf_nl_error first;
};

int nf_nl_open(struct nf_nl *nl);
void nf_nl_close(struct nf_nl *nl);

/* A transaction: begin, then for each request build it in nf_nl_room() and queue it; end sends
 * what is left and returns the first error not tolerated. A request that did not fit (the
 * encoder's NULL) or could not be sent ends the transaction: the queue calls after it do
 * nothing, and nf_nl_end() reports it (err->unsent), so a caller queues a whole transaction
 * without checking each step. */
void nf_nl_begin(struct nf_nl *nl);
struct nf_msgbuf nf_nl_room(struct nf_nl *nl);
/* tolerate: a positive errno that does not count as failure (e.g. ENOENT when deleting), or 0.
 * Returns 0 or the transaction's first queueing failure. */
int nf_nl_queue(struct nf_nl *nl, struct nlmsghdr *nlh, int tolerate);
int nf_nl_end(struct nf_nl *nl, struct nf_nl_error *err);

/* One request whose replies go to cb (dumps included). Returns 0 or negative errno. */
int nf_nl_request(struct nf_nl *nl, struct nlmsghdr *nlh, mnl_cb_t cb, void *data, struct nf_nl_error *err);
