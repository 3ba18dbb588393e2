/* One line per event on stderr, as text (key=value) or JSON. */
#pragma once
#include "core/layer.h"

enum nf_log_level { NF_LOG_DEBUG, NF_LOG_INFO, NF_LOG_WARN, NF_LOG_ERROR };
enum nf_log_format { NF_LOG_TEXT, NF_LOG_JSON };

void nf_log_setup(enum nf_log_format f, enum nf_log_level min);
/* event: a stable dotted name ("fault.created"); the rest is a human sentence. */
void nf_log(enum nf_log_level level, const char *event, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
