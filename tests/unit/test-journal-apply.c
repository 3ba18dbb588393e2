/* Journal before apply (issue 11 row 6): a fault whose record cannot be written is refused with
 * 503 naming the journal, and nothing reaches the kernel. Runs as root in network and mount
 * namespaces of its own (a 16 KiB tmpfs as the state directory, filled up); skipped otherwise.
 * The kernel's capabilities are declared present, so that without the check the apply would run
 * (and, on a kernel without flower, fail with a kernel error instead of the journal's 503). */
#include <cjson/cJSON.h>
#include <errno.h>
#include <event2/event.h>
#include <fcntl.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/mount.h>
#include <unistd.h>

#include "api/errors.h"
#include "core/spec_json.h"
#include "core/journal.h"
#include "core/log.h"
#include "core/registry.h"
#include "tap.h"

static char dir[] = "/tmp/nf-journal-apply-XXXXXX";

static bool lo_has_clsact(void) {
        /* A tool is fine in a test: what the kernel holds on lo, from outside our own code. */
        FILE *p = popen("tc qdisc show dev lo 2>/dev/null", "r");
        char line[256];
        bool found = false;
        while (p && fgets(line, sizeof(line), p))
                found |= strstr(line, "clsact") != NULL;
        if (p)
                pclose(p);
        return found;
}

static struct nf_fault *create(struct nf_registry *r, struct nf_err *e) {
        struct nf_validate_limits lim = {.max_duration_s = 600, .default_duration_s = 60};
        struct nf_spec spec;
        struct nf_fault_init init = {0};
        cJSON *root = cJSON_Parse("{\"targets\":[\"10.9.9.9\"],\"interfaces\":[\"lo\"],\"blackhole\":true}");
        int rc = nf_validate_fault(root, &lim, &spec, e);
        cJSON_Delete(root);
        if (rc < 0)
                return NULL;
        return nf_registry_create(r, &spec, &init, false, e);
}

static size_t records(void) {
        char cmd[128];
        snprintf(cmd, sizeof(cmd), "ls %s/fault-*.json 2>/dev/null | wc -l", dir);
        FILE *p = popen(cmd, "r");
        unsigned long n = 0;
        if (p && fscanf(p, "%lu", &n) != 1)
                n = 0;
        if (p)
                pclose(p);
        return n;
}

int main(void) {
        struct nf_journal j;
        struct nf_registry reg;
        struct nf_err e = {0};
        char err[512];

        nf_log_setup(NF_LOG_TEXT, NF_LOG_ERROR);
        if (geteuid() != 0 || unshare(CLONE_NEWNET | CLONE_NEWNS) < 0) {
                printf("1..0 # SKIP needs root (network and mount namespaces of its own)\n");
                return 0;
        }
        if (mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) < 0 || !mkdtemp(dir) ||
            mount("tmpfs", dir, "tmpfs", 0, "size=16k,mode=0700") < 0) {
                printf("1..0 # SKIP cannot mount a tmpfs: %s\n", strerror(errno));
                return 0;
        }
        if (system("ip link set lo up") != 0)
                printf("# cannot bring lo up\n");
        tap_ok(nf_journal_open(&j, dir, 0, err, sizeof(err)) == 0, "the journal opens on a 16 KiB tmpfs: %s", err);

        struct event_base *base = event_base_new();
        struct nf_registry_limits rl = {.max_faults = 8, .max_filters = 1000};
        if (nf_registry_init(&reg, base, &rl, &j, 9700) < 0) {
                printf("1..0 # SKIP no rtnetlink\n");
                return 0;
        }
        for (int i = 0; i < NF_CAP_COUNT; i++)
                nf_registry_own(&reg)->caps.state[i] = NF_CAP_YES;

        /* Fill the file system. */
        char filler[300];
        snprintf(filler, sizeof(filler), "%s/filler", dir);
        int fd = open(filler, O_WRONLY | O_CREAT | O_TRUNC, 0600);
        char block[1024] = {0};
        while (fd >= 0 && write(fd, block, sizeof(block)) > 0)
                ;
        if (fd >= 0)
                close(fd);

        struct nf_fault *f = create(&reg, &e);
        tap_ok(!f && nf_http_status(e.kind) == 503 && strcmp(e.code, "journal_unavailable") == 0 && strstr(e.message, "journal"),
               "with the state directory full, a fault is refused with 503 journal_unavailable (got %d %s: %s)", nf_http_status(e.kind),
               e.code, e.message);
        tap_ok(!lo_has_clsact(), "nothing reached the kernel (no clsact qdisc on lo)");
        tap_ok(records() == 0, "no record (and no temporary file) is left behind");

        /* With room again, the same fault gets past the journal (to the kernel, whatever it says). */
        unlink(filler);
        e = (struct nf_err){0};
        f = create(&reg, &e);
        tap_ok(f || strcmp(e.code, "journal_unavailable") != 0, "with room again the journal is no obstacle (%d %s)",
               f ? 201 : nf_http_status(e.kind), f ? "created" : e.code);
        nf_registry_delete_all(&reg, "test");
        nf_registry_fini(&reg);
        event_base_free(base);
        nf_journal_close(&j);
        umount(dir);
        rmdir(dir);
        return tap_done();
}
