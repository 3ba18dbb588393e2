/* The journal: atomic records, loading, corrupt and truncated files, the lock. */
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include "daemon/journal.h"
#include "daemon/log.h"
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
        return access(path, F_OK) == 0;
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
