#include "ctl/client.h"

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* A reply larger than this is cut off: a fault list of 128 faults with 10,000 targets each is
 * far below it, and the client never holds more. */
#define REPLY_MAX (64u * 1024 * 1024)

int nfc_client_init(void)
{
        return curl_global_init(CURL_GLOBAL_DEFAULT) == CURLE_OK ? 0 : -EIO;
}

void nfc_client_fini(void)
{
        curl_global_cleanup();
}

static char *slurp(const char *path, char *err, size_t errlen)
{
        FILE *f = fopen(path, "re");
        if (!f) {
                snprintf(err, errlen, "cannot read %s: %s", path, strerror(errno));
                return NULL;
        }
        size_t cap = 4096, len = 0;
        char *buf = malloc(cap);
        while (buf) {
                size_t got = fread(buf + len, 1, cap - len - 1, f);
                len += got;
                if (got == 0)
                        break;
                if (len + 1 == cap) {
                        char *nb = cap < (1u << 24) ? realloc(buf, cap * 2) : NULL;
                        if (!nb) {
                                free(buf);
                                buf = NULL;
                                break;
                        }
                        buf = nb;
                        cap *= 2;
                }
        }
        fclose(f);
        if (!buf) {
                snprintf(err, errlen, "%s: too large or out of memory", path);
                return NULL;
        }
        buf[len] = '\0';
        return buf;
}

int nfc_token_load(struct nfc_conn *c, const char *path, const char *name, char *err, size_t errlen)
{
        char *text = slurp(path, err, errlen);
        if (!text)
                return -EIO;
        char *save = NULL, *chosen = NULL;
        for (char *line = strtok_r(text, "\n", &save); line && !chosen; line = strtok_r(NULL, "\n", &save)) {
                char *fields[4] = {0}, *p = NULL;
                int nf = 0;
                for (char *tok = strtok_r(line, " \t\r", &p); tok && nf < 4; tok = strtok_r(NULL, " \t\r", &p))
                        fields[nf++] = tok;
                if (nf == 0 || fields[0][0] == '#')
                        continue;
                if (nf == 1 && !name)
                        chosen = fields[0]; /* a bare secret */
                else if (nf == 3 && (name ? strcmp(fields[0], name) == 0 : strcmp(fields[1], "write") == 0))
                        chosen = fields[2];
        }
        if (!chosen) {
                if (name)
                        snprintf(err, errlen, "%s: no token named '%s' (lines are NAME ROLE SECRET)", path, name);
                else
                        snprintf(err, errlen, "%s: no secret (a bare secret on a line, or NAME write SECRET)", path);
                free(text);
                return -ENOENT;
        }
        free(c->token);
        c->token = strdup(chosen);
        free(text);
        return c->token ? 0 : -ENOMEM;
}

int nfc_endpoints_load(struct nfc_conn *c, const char *path, char *err, size_t errlen)
{
        free(c->endpoints_buf);
        c->endpoints_buf = slurp(path, err, errlen);
        if (!c->endpoints_buf)
                return -EIO;
        char *save = NULL;
        for (char *line = strtok_r(c->endpoints_buf, "\n", &save); line; line = strtok_r(NULL, "\n", &save)) {
                line += strspn(line, " \t");
                line[strcspn(line, " \t\r#")] = '\0';
                if (!*line)
                        continue;
                if (c->n_endpoints == NFC_MAX_ENDPOINTS) {
                        snprintf(err, errlen, "%s: more than %d endpoints", path, NFC_MAX_ENDPOINTS);
                        return -E2BIG;
                }
                c->endpoints[c->n_endpoints++] = line;
        }
        return 0;
}

void nfc_conn_fini(struct nfc_conn *c)
{
        if (c->token)
                memset(c->token, 0, strlen(c->token));
        free(c->token);
        free(c->endpoints_buf);
        c->token = c->endpoints_buf = NULL;
}

static size_t on_body(char *data, size_t size, size_t nmemb, void *user)
{
        struct nfc_call *call = user;
        size_t n = size * nmemb;
        if (call->reply_len + n > REPLY_MAX)
                return 0;
        char *nb = realloc(call->reply, call->reply_len + n + 1);
        if (!nb)
                return 0;
        memcpy(nb + call->reply_len, data, n);
        call->reply = nb;
        call->reply_len += n;
        nb[call->reply_len] = '\0';
        return n;
}

void nfc_call_reset(struct nfc_call *call)
{
        free(call->reply);
        call->reply = NULL;
        call->reply_len = 0;
        call->status = 0;
        call->transport_error[0] = '\0';
}

struct transfer {
        CURL *easy;
        struct curl_slist *headers;
        char url[2048];
        char errbuf[CURL_ERROR_SIZE];
};

static int transfer_setup(const struct nfc_conn *c, struct nfc_call *call, struct transfer *t)
{
        t->easy = curl_easy_init();
        if (!t->easy)
                return -ENOMEM;
        const char *ep = call->endpoint;
        if (strncmp(ep, "unix:", 5) == 0) {
                /* The daemon checks Host on local listeners; localhost is one it accepts. */
                curl_easy_setopt(t->easy, CURLOPT_UNIX_SOCKET_PATH, ep + 5);
                snprintf(t->url, sizeof(t->url), "http://localhost%s", call->path);
        } else {
                size_t len = strlen(ep);
                while (len && ep[len - 1] == '/')
                        len--;
                snprintf(t->url, sizeof(t->url), "%s%.*s%s", strstr(ep, "://") ? "" : "http://", (int)len, ep,
                         call->path);
        }
        curl_easy_setopt(t->easy, CURLOPT_URL, t->url);
        curl_easy_setopt(t->easy, CURLOPT_CUSTOMREQUEST, call->method);
        if (strcmp(call->method, "GET") != 0)
                curl_easy_setopt(t->easy, CURLOPT_POSTFIELDS, call->body ? call->body : "");
        curl_easy_setopt(t->easy, CURLOPT_WRITEFUNCTION, on_body);
        curl_easy_setopt(t->easy, CURLOPT_WRITEDATA, call);
        curl_easy_setopt(t->easy, CURLOPT_ERRORBUFFER, t->errbuf);
        curl_easy_setopt(t->easy, CURLOPT_TIMEOUT, c->timeout_s > 0 ? c->timeout_s : 30L);
        curl_easy_setopt(t->easy, CURLOPT_CONNECTTIMEOUT, 5L);
        curl_easy_setopt(t->easy, CURLOPT_NOSIGNAL, 1L);
        curl_easy_setopt(t->easy, CURLOPT_PROTOCOLS_STR, "http,https");
        curl_easy_setopt(t->easy, CURLOPT_USERAGENT, "netfaultctl/" NETFAULTD_VERSION);
        if (c->cacert)
                curl_easy_setopt(t->easy, CURLOPT_CAINFO, c->cacert);
        if (c->cert)
                curl_easy_setopt(t->easy, CURLOPT_SSLCERT, c->cert);
        if (c->key)
                curl_easy_setopt(t->easy, CURLOPT_SSLKEY, c->key);
        if (call->body)
                t->headers = curl_slist_append(t->headers, "Content-Type: application/json");
        if (c->token) {
                char auth[1100];
                snprintf(auth, sizeof(auth), "Authorization: Bearer %s", c->token);
                t->headers = curl_slist_append(t->headers, auth);
                memset(auth, 0, sizeof(auth));
        }
        curl_easy_setopt(t->easy, CURLOPT_HTTPHEADER, t->headers);
        curl_easy_setopt(t->easy, CURLOPT_PRIVATE, call);
        return 0;
}

static void report_progress(const struct nfc_call *call)
{
        char why[512];
        nfc_call_reason(call, why, sizeof(why));
        fprintf(stderr, "netfaultctl: %s %s %s: %s\n", call->endpoint, call->method, call->path,
                nfc_call_ok(call) ? "ok" : why);
}

static double monotonic_s(void)
{
        struct timespec ts;
        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* True when the caller's signal count says to stop waiting: at once on a second signal, else
 * grace_s after the first (noted in *stop_at); the first one is announced on stderr. */
static int interrupted(const volatile sig_atomic_t *signals, double grace_s, double *stop_at, int running)
{
        if (!signals || *signals == 0)
                return 0;
        if (*stop_at == 0) {
                *stop_at = monotonic_s() + grace_s;
                fprintf(stderr, "netfaultctl: interrupted: waiting up to %.0fs for the %d endpoint%s still answering, "
                        "so that what they apply is reverted too (interrupt again to stop waiting)\n",
                        grace_s, running, running == 1 ? "" : "s");
        }
        return *signals >= 2 || monotonic_s() >= *stop_at;
}

int nfc_run(const struct nfc_conn *c, struct nfc_call *calls, size_t n)
{
        return nfc_run_interruptible(c, calls, n, NULL, 0);
}

int nfc_run_interruptible(const struct nfc_conn *c, struct nfc_call *calls, size_t n,
                          const volatile sig_atomic_t *signals, double grace_s)
{
        struct transfer *ts = calloc(n ? n : 1, sizeof(*ts));
        CURLM *multi = curl_multi_init();
        double stop_at = 0;
        int rc = 0;
        if (!ts || !multi) {
                rc = -ENOMEM;
                goto out;
        }
        /* Each endpoint is its own host: no cap on connections per host is needed, and libcurl
         * keeps them concurrent within one thread. */
        for (size_t i = 0; i < n; i++) {
                nfc_call_reset(&calls[i]);
                if (transfer_setup(c, &calls[i], &ts[i]) < 0) {
                        rc = -ENOMEM;
                        goto out;
                }
                curl_multi_add_handle(multi, ts[i].easy);
        }
        int running = (int)n;
        while (running > 0) {
                if (curl_multi_perform(multi, &running) != CURLM_OK)
                        break;
                CURLMsg *msg;
                int left;
                while ((msg = curl_multi_info_read(multi, &left))) {
                        if (msg->msg != CURLMSG_DONE)
                                continue;
                        struct nfc_call *call = NULL;
                        curl_easy_getinfo(msg->easy_handle, CURLINFO_PRIVATE, (char **)&call);
                        size_t i = (size_t)(call - calls);
                        if (msg->data.result == CURLE_OK) {
                                curl_easy_getinfo(msg->easy_handle, CURLINFO_RESPONSE_CODE, &call->status);
                        } else {
                                call->status = 0;
                                snprintf(call->transport_error, sizeof(call->transport_error), "unreachable: %.280s",
                                         ts[i].errbuf[0] ? ts[i].errbuf : curl_easy_strerror(msg->data.result));
                        }
                        if (c->progress)
                                report_progress(call);
                }
                if (running > 0 && interrupted(signals, grace_s, &stop_at, running)) {
                        /* Given up on: libcurl closes their connections below. A daemon that reads
                         * the request later still applies it; its duration bounds that fault. */
                        for (size_t i = 0; i < n; i++)
                                if (calls[i].status == 0 && !calls[i].transport_error[0])
                                        snprintf(calls[i].transport_error, sizeof(calls[i].transport_error),
                                                 "no answer before netfaultctl was interrupted");
                        rc = -EINTR;
                        break;
                }
                if (running > 0)
                        curl_multi_poll(multi, NULL, 0, 200, NULL);
        }
out:
        for (size_t i = 0; ts && i < n; i++) {
                if (ts[i].easy) {
                        if (multi)
                                curl_multi_remove_handle(multi, ts[i].easy);
                        curl_easy_cleanup(ts[i].easy);
                }
                curl_slist_free_all(ts[i].headers);
        }
        if (multi)
                curl_multi_cleanup(multi);
        free(ts);
        return rc;
}

void nfc_call_reason(const struct nfc_call *call, char *buf, size_t len)
{
        if (call->status == 0) {
                snprintf(buf, len, "%s", call->transport_error[0] ? call->transport_error : "not sent");
                return;
        }
        cJSON *root = call->reply ? cJSON_Parse(call->reply) : NULL;
        cJSON *e = cJSON_GetObjectItemCaseSensitive(root, "error");
        const char *code = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "code"));
        const char *msg = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "message"));
        const char *field = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "field"));
        if (msg)
                snprintf(buf, len, "%ld %s%s%s%s: %s", call->status, code ? code : "error", field ? " (field " : "",
                         field ? field : "", field ? ")" : "", msg);
        else
                snprintf(buf, len, "HTTP %ld", call->status);
        cJSON_Delete(root);
}
