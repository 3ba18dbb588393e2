/* A minimal TAP producer for unit tests: meson reads the stream (protocol: 'tap'). */
#pragma once
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

static int tap_n, tap_failed;

static inline int tap_ok(int cond, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static inline int tap_ok(int cond, const char *fmt, ...) {
        va_list ap;
        printf("%sok %d - ", cond ? "" : "not ", ++tap_n);
        va_start(ap, fmt);
        vprintf(fmt, ap);
        va_end(ap);
        printf("\n");
        if (!cond)
                tap_failed++;
        fflush(stdout);
        return cond;
}

#define tap_is_int(got, want, ...)                                                                                     \
        do {                                                                                                           \
                long long g_ = (long long)(got), w_ = (long long)(want);                                               \
                if (!tap_ok(g_ == w_, __VA_ARGS__))                                                                    \
                        printf("#   got %lld, want %lld\n", g_, w_);                                                   \
        } while (0)

#define tap_is_str(got, want, ...)                                                                                     \
        do {                                                                                                           \
                const char *g_ = (got), *w_ = (want);                                                                  \
                if (!tap_ok(g_ && w_ && strcmp(g_, w_) == 0, __VA_ARGS__))                                             \
                        printf("#   got '%s', want '%s'\n", g_ ? g_ : "(null)", w_ ? w_ : "(null)");               \
        } while (0)

static inline int tap_done(void) {
        printf("1..%d\n", tap_n);
        return tap_failed ? 1 : 0;
}
