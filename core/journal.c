#include "core/journal.h"

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

#include "core/log.h"

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

/* The directory is opened once, without following a symbolic link, and every file in it is
 * reached relative to that descriptor (openat, renameat, unlinkat): a name in it cannot send a
 * write of ours elsewhere. It must be ours and writable by nobody else, so that nobody else can
 * plant a link, a FIFO or a record in it in the first place. */
int nf_journal_attach(struct nf_journal *j, const char *dir, char *err, size_t errlen) {
        struct stat st;
        int r;
        *j = (struct nf_journal){.lock_fd = -1, .dfd = -1};
        if (strlen(dir) >= sizeof(j->dir) - 32) {
                snprintf(err, errlen, "--state-dir is too long");
                return -ENAMETOOLONG;
        }
        snprintf(j->dir, sizeof(j->dir), "%s", dir);
        if ((r = mkdir_p(dir)) < 0) {
                snprintf(err, errlen, "cannot create --state-dir %s: %s", dir, strerror(-r));
                return r;
        }
        j->dfd = open(dir, O_RDONLY | O_DIRECTORY | O_NOFOLLOW | O_CLOEXEC);
        if (j->dfd < 0) {
                r = -errno;
                snprintf(err, errlen, "cannot open --state-dir %s: %s", dir,
                         errno == ELOOP || errno == ENOTDIR ? "not a directory (a symbolic link?)" : strerror(errno));
                return r;
        }
        if (fstat(j->dfd, &st) < 0) {
                r = -errno;
                snprintf(err, errlen, "cannot stat --state-dir %s: %s", dir, strerror(errno));
        } else if (st.st_uid != geteuid()) {
                r = -EPERM;
                snprintf(err, errlen,
                         "--state-dir %s is owned by uid %u, not by netfaultd's user (uid %u): refusing a directory "
                         "another user controls (chown it, or choose another)",
                         dir, (unsigned)st.st_uid, (unsigned)geteuid());
        } else if (st.st_mode & (S_IWGRP | S_IWOTH)) {
                r = -EPERM;
                snprintf(err, errlen,
                         "--state-dir %s is writable by %s (mode %04o): refusing a directory where others can plant "
                         "files (chmod go-w it)",
                         dir, st.st_mode & S_IWOTH ? "others" : "its group", (unsigned)(st.st_mode & 07777));
        } else
                return 0;
        close(j->dfd);
        j->dfd = -1;
        return r;
}

/* Start-up proof that records can be written: a probe file the size of a typical record is
 * written, synced and removed. A full or read-only state directory is refused now rather than
 * discovered when the first fault is created. */
static int probe_writable(struct nf_journal *j) {
        static const char name[] = ".probe.tmp";
        char block[4096];
        int r = 0;
        memset(block, 'x', sizeof(block));
        unlinkat(j->dfd, name, 0);
        int fd = openat(j->dfd, name, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
        if (fd < 0)
                return -errno;
        for (size_t off = 0; off < sizeof(block);) {
                ssize_t w = write(fd, block + off, sizeof(block) - off);
                if (w < 0 && errno == EINTR)
                        continue;
                if (w <= 0) {
                        r = w < 0 ? -errno : -ENOSPC;
                        break;
                }
                off += (size_t)w;
        }
        if (r == 0 && fsync(fd) < 0)
                r = -errno;
        close(fd);
        if (unlinkat(j->dfd, name, 0) < 0 && r == 0)
                r = -errno;
        return r;
}

int nf_journal_open(struct nf_journal *j, const char *dir, int wait_ms, char *err, size_t errlen) {
        struct stat st;
        int r;
        if ((r = nf_journal_attach(j, dir, err, errlen)) < 0)
                return r;
        j->lock_fd = openat(j->dfd, "lock", O_RDWR | O_CREAT | O_NOFOLLOW | O_NONBLOCK | O_CLOEXEC, 0600);
        if (j->lock_fd < 0) {
                r = -errno;
                snprintf(err, errlen, "cannot open %s/lock: %s", dir,
                         errno == ELOOP ? "it is a symbolic link" : strerror(errno));
                nf_journal_close(j);
                return r;
        }
        if (fstat(j->lock_fd, &st) < 0 || !S_ISREG(st.st_mode)) {
                snprintf(err, errlen, "%s/lock is not a regular file", dir);
                nf_journal_close(j);
                return -EINVAL;
        }
        /* A guardian that is still sweeping after its daemon died holds the lock for a moment. */
        for (int waited = 0;; waited += 50) {
                if (flock(j->lock_fd, LOCK_EX | LOCK_NB) == 0)
                        break;
                if (errno != EWOULDBLOCK || waited >= wait_ms) {
                        snprintf(err, errlen, "another netfaultd uses --state-dir %s (its lock is held)", dir);
                        nf_journal_close(j);
                        return -EBUSY;
                }
                nanosleep(&(struct timespec){.tv_nsec = 50 * 1000000}, NULL);
        }
        if ((r = probe_writable(j)) < 0) {
                snprintf(err, errlen, "cannot write the journal in --state-dir %s: %s (faults must be journaled before "
                         "the kernel changes)", dir, strerror(-r));
                nf_journal_close(j);
                return r;
        }
        return 0;
}

/* Who holds the name: a listening stream socket tells its owner's credentials to whoever
 * connects (SO_PEERCRED, the kernel's word, not the holder's). 1 and *cred when known, 0 when the
 * holder does not accept connections (bound without listen, or its backlog is full). */
static int netns_lock_holder(const struct sockaddr_un *sa, socklen_t len, struct ucred *cred) {
        socklen_t cl = sizeof(*cred);
        int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
        int known = fd >= 0 && connect(fd, (const struct sockaddr *)sa, len) == 0 &&
                    getsockopt(fd, SOL_SOCKET, SO_PEERCRED, cred, &cl) == 0 && cred->pid > 0;
        if (fd >= 0)
                close(fd);
        return known;
}

int nf_netns_lock(int wait_ms) {
        return nf_netns_lock_as(wait_ms, NULL);
}

int nf_netns_lock_as(int wait_ms, int *holder) {
        static const char name[] = "\0netfaultd";
        struct sockaddr_un sa = {.sun_family = AF_UNIX};
        socklen_t len = (socklen_t)(offsetof(struct sockaddr_un, sun_path) + sizeof(name) - 1);
        struct ucred cred = {0};
        bool ours = false; /* the holder is a netfaultd (root or our uid): wait for it, don't ask again */
        memcpy(sa.sun_path, name, sizeof(name) - 1);
        for (int waited = 0;; waited += 50) {
                int fd = socket(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC | SOCK_NONBLOCK, 0);
                if (fd < 0)
                        return -errno;
                if (bind(fd, (struct sockaddr *)&sa, len) == 0) {
                        if (listen(fd, 128) == 0)
                                return fd;
                        int r = -errno;
                        close(fd);
                        return r;
                }
                int r = -errno;
                close(fd);
                if (r != -EADDRINUSE)
                        return r;
                if (!ours && netns_lock_holder(&sa, len, &cred)) {
                        ours = cred.uid == 0 || cred.uid == geteuid();
                        if (holder)
                                *holder = (int)cred.pid;
                        if (!ours) {
                                /* Anyone may bind an abstract name: a holder of another, unprivileged user
                                 * cannot be a netfaultd that changes this namespace, and must not keep
                                 * ours from starting (and sweeping). */
                                nf_log(NF_LOG_WARN, "daemon.netns_lock_squatted",
                                       "the namespace lock @netfaultd is held by pid %d of uid %u, which is neither "
                                       "root nor netfaultd's user (uid %u): ignoring it and starting without the "
                                       "namespace lock (the --state-dir lock still holds)",
                                       (int)cred.pid, (unsigned)cred.uid, (unsigned)geteuid());
                                return -ENOLCK;
                        }
                }
                if (waited >= wait_ms) {
                        if (ours)
                                return -EBUSY;
                        nf_log(NF_LOG_WARN, "daemon.netns_lock_squatted",
                               "the namespace lock @netfaultd is held by a socket that does not answer as a netfaultd "
                               "would: ignoring it and starting without the namespace lock (the --state-dir lock "
                               "still holds)");
                        return -ENOLCK;
                }
                nanosleep(&(struct timespec){.tv_nsec = 50 * 1000000}, NULL);
        }
}

void nf_journal_close(struct nf_journal *j) {
        if (j->lock_fd >= 0)
                close(j->lock_fd);
        if (j->dfd >= 0)
                close(j->dfd);
        j->lock_fd = j->dfd = -1;
}

static int write_atomic_once(struct nf_journal *j, const char *name, const char *text);

/* Every failed write is counted (netfaultd_journal_write_errors_total). */
static int write_atomic(struct nf_journal *j, const char *name, const char *text) {
        int r = write_atomic_once(j, name, text);
        if (r < 0)
                j->write_errors++;
        return r;
}

static int write_atomic_once(struct nf_journal *j, const char *name, const char *text) {
        char tmp[320];
        int fd, r = 0;
        size_t len = strlen(text), off = 0;
        snprintf(tmp, sizeof(tmp), ".%s.tmp", name);
        /* A stale temporary file (or anything planted under its name) goes first; unlinkat
         * removes a link itself, and O_EXCL|O_NOFOLLOW creates a fresh file or fails. */
        unlinkat(j->dfd, tmp, 0);
        fd = openat(j->dfd, tmp, O_WRONLY | O_CREAT | O_EXCL | O_NOFOLLOW | O_CLOEXEC, 0600);
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
        if (r == 0 && renameat(j->dfd, tmp, j->dfd, name) < 0)
                r = -errno;
        if (r < 0) {
                unlinkat(j->dfd, tmp, 0);
                return r;
        }
        /* The rename is durable only once the directory is (EINVAL: a file system that cannot
         * sync a directory, nothing more to do there). */
        if (fsync(j->dfd) < 0 && errno != EINVAL)
                return -errno;
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
        char name[64];
        snprintf(name, sizeof(name), "fault-%s.json", id);
        return unlinkat(j->dfd, name, 0) < 0 && errno != ENOENT ? -errno : 0;
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

/* Reads a record: never through a symbolic link (O_NOFOLLOW), never blocking on a FIFO or a
 * device (O_NONBLOCK, then regular files only), never more than MAX_RECORD_BYTES. *missing is
 * set when there is no such file. */
static cJSON *read_json(struct nf_journal *j, const char *name, const char **why, bool *missing) {
        struct stat st;
        char *buf = NULL;
        cJSON *o = NULL;
        size_t off = 0;
        *why = "unreadable";
        *missing = false;
        int fd = openat(j->dfd, name, O_RDONLY | O_NOFOLLOW | O_NONBLOCK | O_NOCTTY | O_CLOEXEC);
        if (fd < 0) {
                *missing = errno == ENOENT;
                *why = errno == ELOOP ? "a symbolic link, not a record of ours" : "unreadable";
                return NULL;
        }
        if (fstat(fd, &st) < 0 || !S_ISREG(st.st_mode)) {
                *why = "not a regular file";
                close(fd);
                return NULL;
        }
        if (st.st_size > MAX_RECORD_BYTES) {
                *why = "larger than any record";
                close(fd);
                return NULL;
        }
        buf = malloc((size_t)st.st_size + 1);
        while (buf && off < (size_t)st.st_size) {
                ssize_t r = read(fd, buf + off, (size_t)st.st_size - off);
                if (r < 0 && errno == EINTR)
                        continue;
                if (r <= 0)
                        break;
                off += (size_t)r;
        }
        if (buf && off == (size_t)st.st_size) {
                o = cJSON_ParseWithLength(buf, off);
                *why = o ? NULL : "not valid JSON (truncated?)";
        }
        free(buf);
        close(fd);
        return o;
}

/* Whole numbers in [lo, hi] only (NaN fails every comparison). Times are milliseconds since 1970,
 * bounded well inside int64_t and within a double's exact integers (2^53). */
#define MAX_TIME_MS 9007199254740991.0
static bool whole_in_range(double v, double lo, double hi) {
        return v >= lo && v <= hi && v == (double)(int64_t)v;
}

static void quarantine(struct nf_journal *j, const char *name, const char *why) {
        char bad[320];
        snprintf(bad, sizeof(bad), "%s.corrupt", name);
        renameat(j->dfd, name, j->dfd, bad);
        nf_log(NF_LOG_WARN, "journal.corrupt", "%s/%s: %s; moved aside to %s, the kernel is cleaned by our marks", j->dir,
               name, why, bad);
}

/* A directory stream of our own over the state directory (fdopendir would take our fd). */
static DIR *open_dir(struct nf_journal *j) {
        int fd = openat(j->dfd, ".", O_RDONLY | O_DIRECTORY | O_CLOEXEC);
        DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
        if (!d && fd >= 0)
                close(fd);
        return d;
}

int nf_journal_load(struct nf_journal *j, struct nf_journal_entry **out, size_t *n, size_t *corrupt) {
        DIR *d = open_dir(j);
        struct dirent *de;
        size_t cap = 0;
        *out = NULL;
        *n = *corrupt = 0;
        if (!d) /* also without a directory (dfd -1): EBADF */
                return -errno;
        while ((de = readdir(d))) {
                const char *why, *path = de->d_name;
                bool missing;
                size_t l = strlen(de->d_name);
                if (strncmp(de->d_name, "fault-", 6) != 0 || l < 6 + 5 || strcmp(de->d_name + l - 5, ".json") != 0)
                        continue;
                cJSON *o = read_json(j, path, &why, &missing);
                if (missing)
                        continue; /* gone since readdir */
                const cJSON *id = o ? cJSON_GetObjectItem(o, "id") : NULL, *st = o ? cJSON_GetObjectItem(o, "state") : NULL,
                            *sl = o ? cJSON_GetObjectItem(o, "slot") : NULL, *c = o ? cJSON_GetObjectItem(o, "created_ms") : NULL,
                            *x = o ? cJSON_GetObjectItem(o, "expires_ms") : NULL, *sp = o ? cJSON_GetObjectItem(o, "spec") : NULL;
                if (!o || !cJSON_IsString(id) || !cJSON_IsString(st) || !cJSON_IsNumber(sl) || !cJSON_IsNumber(c) ||
                    !cJSON_IsNumber(x) || !cJSON_IsObject(sp)) {
                        quarantine(j, path, o ? "a required field is missing" : why);
                        cJSON_Delete(o);
                        (*corrupt)++;
                        continue;
                }
                /* Converting a double outside the target type's range is undefined behaviour: a
                 * record whose numbers are not what we write is corrupt, like a truncated one. */
                if (!whole_in_range(sl->valuedouble, 0, 65535) || !whole_in_range(c->valuedouble, 0, MAX_TIME_MS) ||
                    !whole_in_range(x->valuedouble, 0, MAX_TIME_MS)) {
                        quarantine(j, path, "slot, created_ms or expires_ms is out of range");
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
        const char *why;
        const cJSON *it;
        bool missing;
        *n = 0;
        if (j->dfd < 0)
                return -EBADF;
        cJSON *o = read_json(j, "clsact.json", &why, &missing);
        if (missing)
                return 0;
        const cJSON *a = o ? cJSON_GetObjectItem(o, "created_on_ifindex") : NULL;
        if (!cJSON_IsArray(a)) {
                quarantine(j, "clsact.json", o ? "created_on_ifindex is missing" : why);
                cJSON_Delete(o);
                return -EINVAL;
        }
        /* An ifindex is a positive int; anything else in the list is ignored, never converted. */
        cJSON_ArrayForEach(it, a) if (cJSON_IsNumber(it) && *n < max && whole_in_range(it->valuedouble, 1, 2147483647.0))
                out[(*n)++] = (int)it->valuedouble;
        cJSON_Delete(o);
        return 0;
}

static void netns_name(char *name, size_t len, uint64_t dev, uint64_t ino) {
        snprintf(name, len, "netns-%llu-%llu.json", (unsigned long long)dev, (unsigned long long)ino);
}

int nf_journal_put_netns(struct nf_journal *j, const struct nf_journal_netns *ns) {
        char name[80];
        cJSON *o = cJSON_CreateObject(), *a;
        cJSON_AddNumberToObject(o, "version", JOURNAL_VERSION);
        cJSON_AddNumberToObject(o, "dev", (double)ns->dev);
        cJSON_AddNumberToObject(o, "ino", (double)ns->ino);
        cJSON_AddStringToObject(o, "reopen", ns->reopen);
        cJSON_AddStringToObject(o, "pod_uid", ns->pod_uid);
        cJSON_AddStringToObject(o, "proc_root", ns->proc_root);
        a = cJSON_AddArrayToObject(o, "created_on_ifindex");
        for (size_t i = 0; i < ns->n_clsact; i++)
                cJSON_AddItemToArray(a, cJSON_CreateNumber(ns->clsact[i]));
        char *text = cJSON_PrintUnformatted(o);
        cJSON_Delete(o);
        if (!text)
                return -ENOMEM;
        netns_name(name, sizeof(name), ns->dev, ns->ino);
        int r = write_atomic(j, name, text);
        free(text);
        return r;
}

int nf_journal_drop_netns(struct nf_journal *j, uint64_t dev, uint64_t ino) {
        char name[80];
        netns_name(name, sizeof(name), dev, ino);
        return unlinkat(j->dfd, name, 0) < 0 && errno != ENOENT ? -errno : 0;
}

static bool copy_string(const cJSON *o, const char *key, char *out, size_t len) {
        const cJSON *v = cJSON_GetObjectItem(o, key);
        if (!cJSON_IsString(v) || strlen(v->valuestring) >= len)
                return false;
        snprintf(out, len, "%s", v->valuestring);
        return true;
}

int nf_journal_load_netns(struct nf_journal *j, struct nf_journal_netns **out, size_t *n, size_t *corrupt) {
        DIR *d = open_dir(j);
        struct dirent *de;
        size_t cap = 0;
        *out = NULL;
        *n = *corrupt = 0;
        if (!d)
                return -errno;
        while ((de = readdir(d))) {
                const char *why;
                bool missing;
                size_t l = strlen(de->d_name);
                if (strncmp(de->d_name, "netns-", 6) != 0 || l < 6 + 5 || strcmp(de->d_name + l - 5, ".json") != 0)
                        continue;
                cJSON *o = read_json(j, de->d_name, &why, &missing);
                if (missing)
                        continue;
                const cJSON *dev = o ? cJSON_GetObjectItem(o, "dev") : NULL, *ino = o ? cJSON_GetObjectItem(o, "ino") : NULL,
                            *a = o ? cJSON_GetObjectItem(o, "created_on_ifindex") : NULL, *it;
                struct nf_journal_netns rec = {0};
                if (!o || !cJSON_IsNumber(dev) || !cJSON_IsNumber(ino) || !whole_in_range(dev->valuedouble, 0, MAX_TIME_MS) ||
                    !whole_in_range(ino->valuedouble, 1, MAX_TIME_MS) || !copy_string(o, "reopen", rec.reopen, sizeof(rec.reopen)) ||
                    !copy_string(o, "pod_uid", rec.pod_uid, sizeof(rec.pod_uid)) ||
                    !copy_string(o, "proc_root", rec.proc_root, sizeof(rec.proc_root)) || !cJSON_IsArray(a)) {
                        quarantine(j, de->d_name, o ? "a required field is missing or out of range" : why);
                        cJSON_Delete(o);
                        (*corrupt)++;
                        continue;
                }
                rec.dev = (uint64_t)dev->valuedouble;
                rec.ino = (uint64_t)ino->valuedouble;
                cJSON_ArrayForEach(it, a) if (cJSON_IsNumber(it) && rec.n_clsact < NF_JOURNAL_MAX_CLSACT &&
                                              whole_in_range(it->valuedouble, 1, 2147483647.0))
                        rec.clsact[rec.n_clsact++] = (int)it->valuedouble;
                cJSON_Delete(o);
                if (*n == cap) {
                        cap = cap ? cap * 2 : 4;
                        struct nf_journal_netns *v = realloc(*out, cap * sizeof(*v));
                        if (!v)
                                break;
                        *out = v;
                }
                (*out)[(*n)++] = rec;
        }
        closedir(d);
        return 0;
}

void nf_journal_clear(struct nf_journal *j) {
        DIR *d = open_dir(j);
        struct dirent *de;
        if (!d)
                return;
        while ((de = readdir(d))) {
                size_t l = strlen(de->d_name);
                /* Records only: quarantined *.corrupt files stay for whoever investigates. */
                if ((strncmp(de->d_name, "fault-", 6) != 0 && strncmp(de->d_name, "netns-", 6) != 0) || l < 5 ||
                    strcmp(de->d_name + l - 5, ".json") != 0)
                        continue;
                unlinkat(j->dfd, de->d_name, 0);
        }
        closedir(d);
}
