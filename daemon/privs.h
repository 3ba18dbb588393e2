/* Least privilege after start-up: of every capability, only CAP_NET_ADMIN (traffic control and
 * links) stays, in the effective and permitted sets and in the bounding set; with --netns-mode
 * also CAP_SYS_ADMIN (setns into a pod's network namespace) and CAP_SYS_PTRACE (opening another
 * user's /proc/PID/ns/net). The inheritable and ambient sets are emptied and no-new-privileges is
 * set, so that nothing this process or a child runs can gain any back. Without them to begin
 * with, nothing is gained either. Used by the daemon (once it listens and has reconciled) and by
 * the guardian. */
#pragma once
#include <stdbool.h>

/* Set once at start-up, before the guardian is forked (it inherits the choice). */
void nf_privs_netns_mode(bool on);
/* 0, or -errno of the step that failed (logged under event, e.g. "daemon.privileges"). */
int nf_keep_needed_caps(const char *event);
