/* AWS ip-ranges.json: loading the recorded excerpt, selecting aws:SERVICE[:region], and the
 * fail-closed answers (never a wider set than asked). */
#include <stdlib.h>

#include "api/errors.h"
#include "core/awsranges.h"
#include "tests/unit/tap.h"

static const char *fixture;

static size_t select_n(const struct nf_aws_ranges *r, const char *spec, int *http, char *code, size_t code_len) {
        struct nf_prefix *v = NULL;
        size_t n = 0;
        struct nf_err e = {0};
        *http = nf_aws_ranges_select(r, spec, "targets[0]", &v, &n, &e) < 0 ? nf_http_status(e.kind) : 200;
        snprintf(code, code_len, "%s", e.code);
        free(v);
        return n;
}

int main(int argc, char **argv) {
        struct nf_aws_ranges r = {0};
        char err[256] = "", code[32], buf[NF_PREFIX_STRLEN];
        int http;

        fixture = argc > 1 ? argv[1] : "tests/fixtures/aws-ip-ranges.json";
        unsetenv("AWS_REGION");
        unsetenv("AWS_DEFAULT_REGION");
        tap_ok(nf_aws_ranges_load(&r, fixture, err, sizeof(err)) == 0, "the excerpt loads (%s)", err);
        tap_is_int(r.n, 11, "8 IPv4 and 3 IPv6 prefixes");
        tap_is_str(r.sync_token, "1764288000", "syncToken kept");
        tap_is_str(r.create_date, "2026-11-28-00-00-00", "createDate kept");
        tap_is_str(r.default_region, "", "no region without the environment");

        tap_is_int(select_n(&r, "DYNAMODB", &http, code, sizeof(code)), 0, "no region known: nothing selected");
        tap_ok(http == 422 && strcmp(code, "no_region") == 0, "... 422 no_region (%d %s)", http, code);

        tap_is_int(select_n(&r, "DYNAMODB:ap-northeast-1", &http, code, sizeof(code)), 3,
                   "aws:DYNAMODB:ap-northeast-1 = two IPv4 and one IPv6 prefix");
        tap_is_int(http, 200, "... accepted");
        snprintf(r.default_region, sizeof(r.default_region), "us-east-1");
        struct nf_prefix *v = NULL;
        size_t n = 0;
        struct nf_err e = {0};
        tap_ok(nf_aws_ranges_select(&r, "S3", "targets[0]", &v, &n, &e) == 0 && n == 1, "aws:S3 in the default region");
        tap_is_str(n ? nf_prefix_format(&v[0], buf, sizeof(buf)) : "", "52.216.0.0/15", "... is exactly us-east-1's S3 range");
        /* Appends: a second selection adds to the same list. */
        tap_ok(nf_aws_ranges_select(&r, "DYNAMODB", "targets[1]", &v, &n, &e) == 0 && n == 2, "selections append");
        free(v);

        select_n(&r, "NOSUCH:us-east-1", &http, code, sizeof(code));
        tap_ok(http == 422 && strcmp(code, "unknown_aws_service") == 0, "unknown service: 422 (%s)", code);
        select_n(&r, "S3:mars-north-1", &http, code, sizeof(code));
        tap_ok(http == 422 && strcmp(code, "unknown_aws_region") == 0, "unknown region: 422 (%s)", code);
        select_n(&r, "EC2:us-east-1", &http, code, sizeof(code));
        tap_ok(http == 422 && strcmp(code, "empty_aws_range") == 0, "a known service with no range in a known region: 422 (%s)",
               code);
        select_n(&r, ":us-east-1", &http, code, sizeof(code));
        tap_ok(http == 400 && strcmp(code, "invalid_target") == 0, "empty service: 400 (%s)", code);
        nf_aws_ranges_free(&r);

        struct nf_aws_ranges none = {0};
        tap_ok(nf_aws_ranges_load(&none, "", err, sizeof(err)) == 0 && none.n == 0, "an empty path loads nothing");
        select_n(&none, "S3:us-east-1", &http, code, sizeof(code));
        tap_ok(http == 422 && strcmp(code, "no_aws_ranges") == 0, "no file: aws: targets refused (%s)", code);
        tap_ok(nf_aws_ranges_load(&none, "/nonexistent/ip-ranges.json", err, sizeof(err)) < 0 && err[0],
               "a missing file is an error that says why (%s)", err);
        nf_aws_ranges_free(&none);
        return tap_done();
}
