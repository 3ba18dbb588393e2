/* AWS's published IP ranges (ip-ranges.json format), read from a file given by flag, so that a
 * fault can name "aws:DYNAMODB" or "aws:S3:eu-west-1". Fail closed: an unknown service or region,
 * or a selection with no prefix, is refused, never widened. */
#pragma once
#include "core/layer.h"

#include <stddef.h>

#include "core/error.h"

struct event_base;
#include "netem/cidr.h"

struct nf_aws_range {
        struct nf_prefix prefix;
        char service[32];
        char region[32];
};

struct nf_aws_ranges {
        char path[256];
        char sync_token[32];
        char create_date[32];
        char default_region[32];
        char region_source[48]; /* where default_region came from */
        struct nf_aws_range *v;
        size_t n;
};

/* 0, or -errno with err filled. An empty path loads nothing (aws: targets are then refused). */
int nf_aws_ranges_load(struct nf_aws_ranges *r, const char *path, char *err, size_t errlen);
void nf_aws_ranges_free(struct nf_aws_ranges *r);
/* When no region came from the environment, asks the ECS task metadata endpoint
 * (ECS_CONTAINER_METADATA_URI_V4/task) for the task's region (from TaskARN, else the
 * availability zone), waiting at most timeout_ms, on an event loop of its own. */
void nf_aws_region_from_ecs(struct nf_aws_ranges *r, int timeout_ms);
/* Appends the prefixes of "aws:SERVICE[:region]" (text after "aws:") to *out (realloc'd). */
int nf_aws_ranges_select(const struct nf_aws_ranges *r, const char *spec, const char *field, struct nf_prefix **out,
                         size_t *n, struct nf_err *e);
