#include "daemon/journal.h"

#include <cjson/cJSON.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <stddef.h>
#include <sys/file.h>
#include <sys/socket.h>
#include <sys/un.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "daemon/log.h"

#define JOURNAL_VERSION 1
#define MAX_RECORD_BYTES (16 * 1024 * 1024)

static int mkdir_p(const char *dir) {
        char tmp[256];
        snprintf(tmp, sizeof(tmp), "%s", dir);
        for (char *p = tmp + 1; *p; p++) {
                if (*p != '/')
                        continue;
                *p = '\0';
                if (mkdir(tmp, 0700) < 0 && errno != EEXIST)
                        return -errno;
                *p = '/';
        }
        if (mkdir(tmp, 0700) < 0 && errno != EEXIST)
                return -errno;
        return 0;
}

int nf_journal_open(struct nf_journal *j, const char *dir, int wait_ms, char *err, size_t errlen) {
        char path[300];
        int r;
        *j = (struct nf_journal){.lock_fd = -1};
        if (strlen(dir) >= sizeof(j->dir) - 32) {
                snprintf(err, errlen, "--state-dir is too long");
                return -ENAMETOOLONG;
        }
        snprintf(j->dir, sizeof(j->dir), "%s", dir);
        if ((r = mkdir_p(dir)) < 0) {
                snprintf(err, errlen, "cannot create --state-dir %s: %s", dir, strerror(-r));
                return r;
        }
        snprintf(path, sizeof(path), "%s/lock", dir);
        j->lock_fd = open(path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
        if (j->lock_fd < 0) {
                r = -errno;
                snprintf(err, errlen, "cannot open %s: %s", path, strerror(errno));
                return r;
        }
        /* A guardian that is still sweeping after its daemon died holds the lock for a moment. */
        for (int waited = 0;; waited += 50) {
                if (flock(j->lock_fd, LOCK_EX | LOCK_NB) == 0)
                        return 0;
                if (errno != EWOULDBLOCK || waited >= wait_ms)
                        break;
                nanosleep(&(struct timespec){.tv_nsec = 50 * 1000000}, NULL);
        }
        snprintf(err, errlen, "another netfaultd uses --state-dir %s (its lock is held)", dir);
        close(j->lock_fd);
        j->lock_fd = -1;
        return -EBUSY;
}

int nf_netns_lock(int wait_ms) {
        static const char name[] = "\0netfaultd";
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + sizeof(name) - 1);
        int fd = socket(AF_UNIX, SOCK_DGRAM | SOCK_CLOEXEC, 0);
        if (fd < 0)
                return -errno;
        memcpy(sa.sun_path, name, sizeof(name) - 1);
        for (int waited = 0;; waited += 50) {
                if (bind(fd, (struct sockaddr *)&sa, len) == 0)
                        return fd;
                if (errno != EADDRINUSE || waited >= wait_ms)
                        break;
                nanosleep(&(struct timespec){.tv_nsec = 50 * 1000000}, NULL);
        }
        int r = errno == EADDRINUSE ? -EBUSY : -errno;
        close(fd);
        return r;
}

void nf_journal_close(struct nf_journal *j) {
        if (j->lock_fd >= 0)
                close(j->lock_fd);
        j->lock_fd = -1;
}

static int write_atomic(struct nf_journal *j, const char *name, const char *text) {
        char path[300], tmp[320];
        int fd, r = 0, dfd;
        size_t len = strlen(text), off = 0;
        snprintf(path, sizeof(path), "%s/%s", j->dir, name);
        snprintf(tmp, sizeof(tmp), "%s/.%s.tmp", j->dir, name);
        fd = open(tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0)
                return -errno;
        while (off < len) {
                ssize_t w = write(fd, text + off, len - off);
                if (w < 0) {
                        if (errno == EINTR)
                                continue;
                        r = -errno;
                        break;
                }
                off += (size_t)w;
        }
        if (r == 0 && fsync(fd) < 0)
                r = -errno;
        close(fd);
        if (r == 0 && rename(tmp, path) < 0)
                r = -errno;
        if (r < 0) {
                unlink(tmp);
                return r;
        }
        dfd = open(j->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        if (dfd >= 0) {
                fsync(dfd);
                close(dfd);
        }
        return 0;
}

int nf_journal_put(struct nf_journal *j, const char *id, const char *state, unsigned slot, int64_t created_ms,
                   int64_t expires_ms, const cJSON *spec, const cJSON *objects) {
        char name[64];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddNumberToObject(o, "version", JOURNAL_VERSION);
        cJSON_AddStringToObject(o, "id", id);
        cJSON_AddStringToObject(o, "state", state);
        cJSON_AddNumberToObject(o, "slot", slot);
        cJSON_AddNumberToObject(o, "created_ms", (double)created_ms);
        cJSON_AddNumberToObject(o, "expires_ms", (double)expires_ms);
        cJSON_AddItemToObject(o, "spec", cJSON_Duplicate(spec, 1));
        if (objects)
                cJSON_AddItemToObject(o, "objects", cJSON_Duplicate(objects, 1));
        char *text = cJSON_PrintUnformatted(o);
        cJSON_Delete(o);
        if (!text)
                return -ENOMEM;
        snprintf(name, sizeof(name), "fault-%s.json", id);
        int r = write_atomic(j, name, text);
        free(text);
        return r;
}

int nf_journal_drop(struct nf_journal *j, const char *id) {
        char path[320];
        snprintf(path, sizeof(path), "%s/fault-%s.json", j->dir, id);
        return unlink(path) < 0 && errno != ENOENT ? -errno : 0;
}

int nf_journal_put_clsact(struct nf_journal *j, const int *ifindexes, size_t n) {
        cJSON *o = cJSON_CreateObject(), *a = cJSON_AddArrayToObject(o, "created_on_ifindex");
        cJSON_AddNumberToObject(o, "version", JOURNAL_VERSION);
        for (size_t i = 0; i < n; i++)
                cJSON_AddItemToArray(a, cJSON_CreateNumber(ifindexes[i]));
        char *text = cJSON_PrintUnformatted(o);
        cJSON_Delete(o);
        if (!text)
                return -ENOMEM;
        int r = write_atomic(j, "clsact.json", text);
        free(text);
        return r;
}

static cJSON *read_json(const char *path, const char **why) {
        FILE *f = fopen(path, "r");
        char *buf = NULL;
        long len;
        cJSON *o = NULL;
        *why = "unreadable";
        if (!f)
                return NULL;
        if (fseek(f, 0, SEEK_END) == 0 && (len = ftell(f)) >= 0 && len <= MAX_RECORD_BYTES && fseek(f, 0, SEEK_SET) == 0 &&
            (buf = malloc((size_t)len + 1)) && fread(buf, 1, (size_t)len, f) == (size_t)len) {
                o = cJSON_ParseWithLength(buf, (size_t)len);
                *why = o ? NULL : "not valid JSON (truncated?)";
        }
        free(buf);
        fclose(f);
        return o;
}

/* Whole numbers in [lo, hi] only (NaN fails every comparison). Times are milliseconds since 1970,
 * bounded well inside int64_t and within a double's exact integers (2^53). */
#define MAX_TIME_MS 9007199254740991.0
static bool whole_in_range(double v, double lo, double hi) {
        return v >= lo && v <= hi && v == (double)(int64_t)v;
}

static void quarantine(const char *path, const char *why) {
        char bad[640];
        snprintf(bad, sizeof(bad), "%s.corrupt", path);
        rename(path, bad);
        nf_log(NF_LOG_WARN, "journal.corrupt", "%s: %s; moved aside to %s, the kernel is cleaned by our marks", path, why,
               bad);
}

int nf_journal_load(struct nf_journal *j, struct nf_journal_entry **out, size_t *n, size_t *corrupt) {
        DIR *d = opendir(j->dir);
        struct dirent *de;
        size_t cap = 0;
        *out = NULL;
        *n = *corrupt = 0;
        if (!d)
                return -errno;
        while ((de = readdir(d))) {
                char path[600];
                const char *why;
                size_t l = strlen(de->d_name);
                if (strncmp(de->d_name, "fault-", 6) != 0 || l < 6 + 5 || strcmp(de->d_name + l - 5, ".json") != 0)
                        continue;
                snprintf(path, sizeof(path), "%s/%s", j->dir, de->d_name);
                cJSON *o = read_json(path, &why);
                const cJSON *id = o ? cJSON_GetObjectItem(o, "id") : NULL, *st = o ? cJSON_GetObjectItem(o, "state") : NULL,
                            *sl = o ? cJSON_GetObjectItem(o, "slot") : NULL, *c = o ? cJSON_GetObjectItem(o, "created_ms") : NULL,
                            *x = o ? cJSON_GetObjectItem(o, "expires_ms") : NULL, *sp = o ? cJSON_GetObjectItem(o, "spec") : NULL;
                if (!o || !cJSON_IsString(id) || !cJSON_IsString(st) || !cJSON_IsNumber(sl) || !cJSON_IsNumber(c) ||
                    !cJSON_IsNumber(x) || !cJSON_IsObject(sp)) {
                        quarantine(path, o ? "a required field is missing" : why);
                        cJSON_Delete(o);
                        (*corrupt)++;
                        continue;
                }
                /* Converting a double outside the target type's range is undefined behaviour: a
                 * record whose numbers are not what we write is corrupt, like a truncated one. */
                if (!whole_in_range(sl->valuedouble, 0, 65535) || !whole_in_range(c->valuedouble, 0, MAX_TIME_MS) ||
                    !whole_in_range(x->valuedouble, 0, MAX_TIME_MS)) {
                        quarantine(path, "slot, created_ms or expires_ms is out of range");
                        cJSON_Delete(o);
                        (*corrupt)++;
                        continue;
                }
                if (*n == cap) {
                        cap = cap ? cap * 2 : 8;
                        struct nf_journal_entry *v = realloc(*out, cap * sizeof(*v));
                        if (!v) {
                                cJSON_Delete(o);
                                break;
                        }
                        *out = v;
                }
                struct nf_journal_entry *e = &(*out)[(*n)++];
                *e = (struct nf_journal_entry){.slot = (unsigned)sl->valuedouble,
                                               .created_ms = (int64_t)c->valuedouble,
                                               .expires_ms = (int64_t)x->valuedouble,
                                               .spec = cJSON_DetachItemFromObject(o, "spec"),
                                               .objects = cJSON_DetachItemFromObject(o, "objects")};
                snprintf(e->id, sizeof(e->id), "%s", id->valuestring);
                snprintf(e->state, sizeof(e->state), "%s", st->valuestring);
                cJSON_Delete(o);
        }
        closedir(d);
        return 0;
}

void nf_journal_entries_free(struct nf_journal_entry *v, size_t n) {
        for (size_t i = 0; i < n; i++) {
                cJSON_Delete(v[i].spec);
                cJSON_Delete(v[i].objects);
        }
        free(v);
}

int nf_journal_load_clsact(struct nf_journal *j, int *out, size_t max, size_t *n) {
        char path[320];
        const char *why;
        const cJSON *it;
        *n = 0;
        snprintf(path, sizeof(path), "%s/clsact.json", j->dir);
        if (access(path, F_OK) != 0)
                return 0;
        cJSON *o = read_json(path, &why);
        const cJSON *a = o ? cJSON_GetObjectItem(o, "created_on_ifindex") : NULL;
        if (!cJSON_IsArray(a)) {
                quarantine(path, o ? "created_on_ifindex is missing" : why);
                cJSON_Delete(o);
                return -EINVAL;
        }
        /* An ifindex is a positive int; anything else in the list is ignored, never converted. */
        cJSON_ArrayForEach(it, a) if (cJSON_IsNumber(it) && *n < max && whole_in_range(it->valuedouble, 1, 2147483647.0))
                out[(*n)++] = (int)it->valuedouble;
        cJSON_Delete(o);
        return 0;
}

void nf_journal_clear(struct nf_journal *j) {
        DIR *d = opendir(j->dir);
        struct dirent *de;
        if (!d)
                return;
        while ((de = readdir(d))) {
                char path[600];
                size_t l = strlen(de->d_name);
                /* Records only: quarantined *.corrupt files stay for whoever investigates. */
                if (strncmp(de->d_name, "fault-", 6) != 0 || l < 5 || strcmp(de->d_name + l - 5, ".json") != 0)
                        continue;
                snprintf(path, sizeof(path), "%s/%s", j->dir, de->d_name);
                unlink(path);
        }
        closedir(d);
}
