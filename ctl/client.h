#ifndef NFC_CLIENT_H
#define NFC_CLIENT_H
/* The HTTP side of netfaultctl: endpoints, credentials and concurrent requests (libcurl multi). */
#include <signal.h>
#include <stddef.h>

#define NFC_MAX_ENDPOINTS 1024

struct nfc_conn {
        const char *endpoints[NFC_MAX_ENDPOINTS]; /* URLs or unix:/path; owned by argv or endpoints_buf */
        size_t n_endpoints;
        char *endpoints_buf;   /* the --endpoints-file contents, split in place */
        char *token;           /* the bearer secret, or NULL */
        const char *cacert, *cert, *key;
        long timeout_s;
        int progress;          /* one line per endpoint on stderr */
};

/* One request to one endpoint and what came back. */
struct nfc_call {
        const char *endpoint;
        const char *method;    /* GET, POST, DELETE */
        char path[256];
        const char *body;      /* JSON, or NULL */
        long status;           /* HTTP status; 0 when the endpoint could not be reached */
        char *reply;           /* NUL-terminated body (malloc'd) */
        size_t reply_len;
        char transport_error[320]; /* libcurl's words when status is 0 */
        void *user;            /* the caller's, e.g. the fault id created there */
};

int nfc_client_init(void);
void nfc_client_fini(void);
/* Loads --token-file: a bare secret on its first line, or the daemon's NAME ROLE SECRET lines,
 * taking the line called name (the first write token when name is NULL). 0 or -errno. */
int nfc_token_load(struct nfc_conn *c, const char *path, const char *name, char *err, size_t errlen);
/* Reads an --endpoints-file: one URL a line, '#' comments. 0 or -errno. */
int nfc_endpoints_load(struct nfc_conn *c, const char *path, char *err, size_t errlen);
/* Runs every call concurrently; returns when all have finished. 0 or -ENOMEM. */
int nfc_run(const struct nfc_conn *c, struct nfc_call *calls, size_t n);
/* The same, but once *signals is non-zero (a signal handler counts SIGINT/SIGTERM/SIGHUP there)
 * it waits at most grace_s more for the calls still running, and not at all after a second
 * signal: those are given up (status 0, "no answer before netfaultctl was interrupted") and it
 * returns -EINTR. signals may be NULL. */
int nfc_run_interruptible(const struct nfc_conn *c, struct nfc_call *calls, size_t n,
                          const volatile sig_atomic_t *signals, double grace_s);
/* The reason a call failed, for a person: transport error, or the server's field and message. */
void nfc_call_reason(const struct nfc_call *call, char *buf, size_t len);
void nfc_call_reset(struct nfc_call *call);
static inline int nfc_call_ok(const struct nfc_call *call) { return call->status >= 200 && call->status < 300; }
void nfc_conn_fini(struct nfc_conn *c);

#endif
