/* A NETLINK_ROUTE socket that sends batches of requests and collects one acknowledgement per
 * request, keeping the first failure with the kernel's extended-ack text. */
#pragma once
#include <libmnl/libmnl.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define NF_NL_EXTACK_LEN 256

struct nf_nl_error {
        int err;                          /* negative errno, 0 if none */
        char extack[NF_NL_EXTACK_LEN];    /* the kernel's own sentence, may be empty */
        size_t index;                     /* which request of the transaction failed */
        uint16_t msg_type;
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
        size_t n_req, cap_req;
        struct nf_nl_error first;
};

int nf_nl_open(struct nf_nl *nl);
void nf_nl_close(struct nf_nl *nl);

/* A transaction: begin, then for each request get room with nf_nl_room(), build it there and
 * queue it; end sends what is left and returns the first error not tolerated. */
void nf_nl_begin(struct nf_nl *nl);
void *nf_nl_room(struct nf_nl *nl, size_t *len);
/* tolerate: a positive errno that does not count as failure (e.g. ENOENT when deleting), or 0. */
int nf_nl_queue(struct nf_nl *nl, struct nlmsghdr *nlh, int tolerate);
int nf_nl_end(struct nf_nl *nl, struct nf_nl_error *err);

/* One request whose replies go to cb (dumps included). Returns 0 or negative errno. */
int nf_nl_request(struct nf_nl *nl, struct nlmsghdr *nlh, mnl_cb_t cb, void *data, struct nf_nl_error *err);
