/* The journal: atomic records, loading, corrupt and truncated files, the lock. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "core/journal.h"
#include "core/log.h"
#include "tap.h"

static char dir[] = "/tmp/nf-journal-XXXXXX";

static void write_file(const char *name, const char *text) {
        char path[300];
        snprintf(path, sizeof(path), "%s/%s", dir, name);
        FILE *f = fopen(path, "w");
        fputs(text, f);
        fclose(f);
}

static bool exists(const char *name) {
        char path[300];
        snprintf(path, sizeof(path), "%s/%s", dir, name);
        struct stat st;
        return lstat(path, &st) == 0;
}

static void plant_link(const char *name, const char *target) {
        char path[300];
        snprintf(path, sizeof(path), "%s/%s", dir, name);
        unlink(path);
        if (symlink(target, path) < 0)
                perror("symlink");
}

static bool file_is(const char *path, const char *text) {
        char buf[256] = {0};
        FILE *f = fopen(path, "r");
        if (!f)
                return false;
        size_t n = fread(buf, 1, sizeof(buf) - 1, f);
        fclose(f);
        return n == strlen(text) && memcmp(buf, text, n) == 0;
}

/* Files planted in the state directory (by whoever could write there before it was ours) never
 * redirect a write, block start-up or get read through a link. */
static void planted_files(struct nf_journal *j) {
        char victim[300], elsewhere[300], d2[] = "/tmp/nf-journal2-XXXXXX", err[512];
        struct nf_journal_entry *v;
        size_t n, corrupt, nc;
        int cl[8];
        struct nf_journal j3;
        snprintf(victim, sizeof(victim), "%s.victim", dir);
        FILE *f = fopen(victim, "w");
        fputs("precious", f);
        fclose(f);

        plant_link(".clsact.json.tmp", victim);
        plant_link(".fault-f-00000000000v.json.tmp", victim);
        cJSON *spec = cJSON_Parse("{}");
        tap_ok(nf_journal_put_clsact(j, (int[]){4}, 1) == 0 && nf_journal_put(j, "f-00000000000v", "active", 1, 1, 2, spec, NULL) == 0,
               "records are written past planted temporary-file links");
        tap_ok(file_is(victim, "precious"), "the target of a planted .tmp link is untouched");
        nf_journal_drop(j, "f-00000000000v");
        cJSON_Delete(spec);

        /* A record that is a link to a file with a valid record: not read, moved aside. */
        char outside[320];
        snprintf(outside, sizeof(outside), "%s.record", dir);
        f = fopen(outside, "w");
        fputs("{\"version\":1,\"id\":\"f-00000000000g\",\"state\":\"active\",\"slot\":9,\"created_ms\":1,"
              "\"expires_ms\":2,\"spec\":{}}", f);
        fclose(f);
        plant_link("fault-f-00000000000g.json", outside);
        char fifo[320];
        snprintf(fifo, sizeof(fifo), "%s/fault-zz.json", dir);
        mkfifo(fifo, 0600);
        alarm(10); /* a reader blocked on the FIFO fails the test instead of hanging it */
        int r = nf_journal_load(j, &v, &n, &corrupt);
        alarm(0);
        bool read_link = false;
        for (size_t i = 0; i < n; i++)
                read_link |= strcmp(v[i].id, "f-00000000000g") == 0;
        tap_ok(r == 0 && !read_link && exists("fault-f-00000000000g.json.corrupt"),
               "a record that is a symbolic link is not followed, it is moved aside");
        tap_ok(exists("fault-zz.json.corrupt") && corrupt == 2, "a FIFO record does not block loading; moved aside (%zu corrupt)",
               corrupt);
        nf_journal_entries_free(v, n);
        plant_link("clsact.json", outside);
        tap_ok(nf_journal_load_clsact(j, cl, 8, &nc) < 0 && nc == 0 && file_is(victim, "precious"),
               "clsact.json as a symbolic link is not followed");

        /* A lock that is a link: nothing is created where it points, the directory is refused. */
        if (!mkdtemp(d2))
                return;
        snprintf(elsewhere, sizeof(elsewhere), "%s.elsewhere", d2);
        char lockpath[320];
        snprintf(lockpath, sizeof(lockpath), "%s/lock", d2);
        if (symlink(elsewhere, lockpath) < 0)
                perror("symlink");
        r = nf_journal_open(&j3, d2, 0, err, sizeof(err));
        tap_ok(r < 0 && access(elsewhere, F_OK) != 0 && strstr(err, "lock"), "a lock that is a symbolic link is refused: %s",
               err);
        unlink(lockpath);

        /* The directory must be ours and writable by nobody else. */
        chmod(d2, 0777);
        r = nf_journal_open(&j3, d2, 0, err, sizeof(err));
        tap_ok(r < 0 && r != -EBUSY && strstr(err, "writable by others"), "a world-writable state directory is refused: %s",
               err);
        chmod(d2, 0770);
        r = nf_journal_open(&j3, d2, 0, err, sizeof(err));
        tap_ok(r < 0 && strstr(err, "writable by its group"), "a group-writable state directory is refused: %s", err);
        chmod(d2, 0755);
        tap_ok(nf_journal_open(&j3, d2, 0, err, sizeof(err)) == 0 && !exists(".probe.tmp"),
               "a state directory of ours, mode 0755, is accepted and the write probe leaves nothing");
        nf_journal_close(&j3);
        if (geteuid() == 0) {
                if (chown(d2, 65534, 65534) < 0)
                        perror("chown");
                r = nf_journal_open(&j3, d2, 0, err, sizeof(err));
                tap_ok(r < 0 && strstr(err, "owned by uid 65534"), "a state directory owned by another user is refused: %s",
                       err);
        } else
                tap_ok(1, "a state directory owned by another user # SKIP needs root to chown");
        char linkdir[320];
        snprintf(linkdir, sizeof(linkdir), "%s.link", d2);
        if (symlink(d2, linkdir) < 0)
                perror("symlink");
        r = nf_journal_open(&j3, linkdir, 0, err, sizeof(err));
        tap_ok(r < 0 && strstr(err, "symbolic link"), "a state directory that is a symbolic link is refused: %s", err);
        unlink(linkdir);
        unlink(victim);
        unlink(outside);
}

int main(void) {
        struct nf_journal j, j2;
        char err[256];
        struct nf_journal_entry *v;
        size_t n, corrupt, nc;
        int cl[8];

        nf_log_setup(NF_LOG_TEXT, NF_LOG_ERROR);
        if (!mkdtemp(dir))
                return 1;
        tap_ok(nf_journal_open(&j, dir, 0, err, sizeof(err)) == 0, "opens and locks the state directory");
        tap_ok(nf_journal_open(&j2, dir, 100, err, sizeof(err)) == -EBUSY && strstr(err, "another netfaultd"),
               "a second daemon on the same directory is refused: %s", err);

        cJSON *spec = cJSON_Parse("{\"targets\":[\"10.0.0.1/32\"],\"delay\":{\"ms\":5}}");
        tap_ok(nf_journal_put(&j, "f-000000000001", "applying", 3, 1000, 61000, spec, NULL) == 0, "writes a record");
        tap_ok(nf_journal_put(&j, "f-000000000001", "active", 3, 1000, 61000, spec, NULL) == 0, "replaces it atomically");
        tap_ok(!exists(".fault-f-000000000001.json.tmp"), "no temporary file is left");
        tap_ok(nf_journal_put(&j, "f-000000000002", "active", 4, 2000, 62000, spec, NULL) == 0, "writes a second record");
        write_file("fault-f-00000000000t.json", "{\"version\":1,\"id\":\"f-00000000000t\",\"sta");
        write_file("fault-f-00000000000m.json", "{\"version\":1,\"id\":\"f-00000000000m\"}");
        tap_ok(nf_journal_load(&j, &v, &n, &corrupt) == 0, "loads");
        tap_is_int(n, 2, "two good records");
        tap_is_int(corrupt, 2, "a truncated and an incomplete record are reported");
        tap_ok(exists("fault-f-00000000000t.json.corrupt") && !exists("fault-f-00000000000t.json"),
               "a corrupt record is moved aside");
        bool found = false;
        for (size_t i = 0; i < n; i++)
                found |= strcmp(v[i].id, "f-000000000001") == 0 && strcmp(v[i].state, "active") == 0 && v[i].slot == 3 &&
                         v[i].expires_ms == 61000 && cJSON_IsObject(v[i].spec);
        tap_ok(found, "a record keeps id, state, slot, expiry and spec");
        nf_journal_entries_free(v, n);

        /* Numbers no writer of ours produces: converting them would be undefined behaviour
         * (UBSan's float-cast-overflow); the record is quarantined like a corrupt one. */
        write_file("fault-f-00000000000h.json", "{\"version\":1,\"id\":\"f-00000000000h\",\"state\":\"active\","
                                                "\"slot\":1e30,\"created_ms\":1e300,\"expires_ms\":-1e300,\"spec\":{}}");
        write_file("fault-f-00000000000i.json", "{\"version\":1,\"id\":\"f-00000000000i\",\"state\":\"active\","
                                                "\"slot\":1,\"created_ms\":1e19,\"expires_ms\":2,\"spec\":{}}");
        tap_ok(nf_journal_load(&j, &v, &n, &corrupt) == 0 && corrupt == 2 && exists("fault-f-00000000000h.json.corrupt") &&
                       exists("fault-f-00000000000i.json.corrupt"),
               "a record with slot or times out of range is quarantined (%zu corrupt)", corrupt);
        nf_journal_entries_free(v, n);
        write_file("clsact.json", "{\"version\":1,\"created_on_ifindex\":[3,1e30,-5,2.5]}");
        tap_ok(nf_journal_load_clsact(&j, cl, 8, &nc) == 0 && nc == 1 && cl[0] == 3,
               "an ifindex out of range is ignored, not converted");

        tap_ok(nf_journal_put_clsact(&j, (int[]){2, 7}, 2) == 0, "records where we created clsact");
        tap_ok(nf_journal_load_clsact(&j, cl, 8, &nc) == 0 && nc == 2 && cl[0] == 2 && cl[1] == 7, "reads them back");
        write_file("clsact.json", "[1,2");
        tap_ok(nf_journal_load_clsact(&j, cl, 8, &nc) < 0 && nc == 0 && exists("clsact.json.corrupt"),
               "a corrupt clsact record is moved aside");

        planted_files(&j);

        tap_ok(nf_journal_drop(&j, "f-000000000002") == 0 && !exists("fault-f-000000000002.json"), "drops a record");
        nf_journal_clear(&j);
        tap_ok(!exists("fault-f-000000000001.json") && exists("fault-f-00000000000t.json.corrupt"),
               "clear removes records and keeps quarantined files");
        nf_journal_close(&j);
        tap_ok(nf_journal_open(&j2, dir, 0, err, sizeof(err)) == 0, "the lock is free again after close");
        nf_journal_close(&j2);
        cJSON_Delete(spec);
        return tap_done();
}
