/* Least privilege after start-up: of every capability, only CAP_NET_ADMIN (traffic control and
 * links) stays, in the effective and permitted sets and in the bounding set; the inheritable and
 * ambient sets are emptied and no-new-privileges is set, so that nothing this process or a child
 * runs can gain any back. Without CAP_NET_ADMIN to begin with, nothing is gained either. Used by
 * the daemon (once it listens and has reconciled) and by the guardian. */
#pragma once

/* 0, or -errno of the step that failed (logged under event, e.g. "daemon.privileges"). */
int nf_keep_only_net_admin(const char *event);
