/* libFuzzer target: any bytes as a journal record (fault-<id>.json) and as clsact.json in a state
 * directory, read by the daemon's own loader (core/journal.c) the way start-up reconciliation
 * does: load, then validate each record's spec as resume does. The loader must never crash, leak
 * or read out of bounds, whatever a full disk, a crash mid-write or a hostile local user left
 * there; a record it cannot use is moved aside (*.corrupt), which this target undoes each run. */
#include <cjson/cJSON.h>
#include <fcntl.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "core/spec_json.h"
#include "core/journal.h"
#include "core/log.h"
#include "netem/spec.h"

static char dir[256];

static void write_file(const char *name, const uint8_t *data, size_t size) {
        char path[320];
        snprintf(path, sizeof(path), "%s/%s", dir, name);
        int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
        if (fd < 0)
                abort();
        if (size && write(fd, data, size) != (ssize_t)size)
                abort();
        close(fd);
}

static void remove_all(void) {
        static const char *const names[] = {"fault-fuzz.json", "fault-fuzz.json.corrupt", "clsact.json", "clsact.json.corrupt"};
        char path[320];
        for (size_t i = 0; i < sizeof(names) / sizeof(*names); i++) {
                snprintf(path, sizeof(path), "%s/%s", dir, names[i]);
                unlink(path);
        }
}

int LLVMFuzzerInitialize(int *argc, char ***argv) {
        (void)argc;
        (void)argv;
        const char *tmp = getenv("TMPDIR");
        snprintf(dir, sizeof(dir), "%s/nf-fuzz-journal.XXXXXX", tmp && *tmp ? tmp : "/tmp");
        if (!mkdtemp(dir))
                abort();
        /* quarantine() logs a warning per bad record: only errors, to keep the run readable */
        nf_log_setup(NF_LOG_JSON, NF_LOG_ERROR);
        return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size) {
        static const struct nf_validate_limits lim = {.max_duration_s = 3600, .default_duration_s = 1};
        /* The journal is used without nf_journal_open(): no lock file, just the directory. */
        struct nf_journal j = {.lock_fd = -1};
        struct nf_journal_entry *v = NULL;
        size_t n = 0, corrupt = 0, n_clsact = 0;
        int clsact[64];

        snprintf(j.dir, sizeof(j.dir), "%s", dir);
        write_file("fault-fuzz.json", data, size);
        write_file("clsact.json", data, size);
        if (nf_journal_load(&j, &v, &n, &corrupt) == 0) {
                if (n + corrupt != 1)
                        abort(); /* one record: either loaded or moved aside */
                for (size_t i = 0; i < n; i++) {
                        struct nf_spec s;
                        struct nf_err e;
                        if (v[i].spec && nf_validate_fault(v[i].spec, &lim, &s, &e) == 0)
                                nf_spec_free(&s);
                }
                nf_journal_entries_free(v, n);
        }
        nf_journal_load_clsact(&j, clsact, sizeof(clsact) / sizeof(*clsact), &n_clsact);
        if (n_clsact > sizeof(clsact) / sizeof(*clsact))
                abort();
        remove_all();
        return 0;
}
