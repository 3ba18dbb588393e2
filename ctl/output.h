#ifndef NFC_OUTPUT_H
#define NFC_OUTPUT_H
/* What netfaultctl prints: aligned tables and units people read, or JSON for scripts. */
#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdint.h>

#define NFC_TABLE_COLS 10

struct nfc_table {
        size_t ncols, nrows, cap;
        char **cells; /* nrows x ncols, row 0 the header */
};

void nfc_table_init(struct nfc_table *t, size_t ncols, ...);   /* the header names */
void nfc_table_row(struct nfc_table *t, ...);                 /* ncols strings (NULL prints "-") */
void nfc_table_print(const struct nfc_table *t);              /* columns padded, freed after */

/* Units: 90 -> "1m30s"; 1234567 -> "1.2M"; 3 MiB -> "3.0MiB"; 1000 kbit -> "1Mbit/s". */
void nfc_fmt_duration(char *buf, size_t len, double seconds);
void nfc_fmt_count(char *buf, size_t len, double n);
void nfc_fmt_bytes(char *buf, size_t len, double n);
void nfc_fmt_kbit(char *buf, size_t len, double kbit);
/* An RFC 3339 UTC time (seconds precision) as seconds since the epoch; -1 when unreadable. */
double nfc_parse_time(const char *rfc3339);
/* An RFC 3339 UTC time as "in 9m12s" (or "3s ago") from now. */
void nfc_fmt_until(char *buf, size_t len, const char *rfc3339);
/* A fault's effects in one phrase: "delay 300ms±30ms, loss 20%" or "blackhole tcp/443". */
void nfc_fmt_effects(char *buf, size_t len, const cJSON *spec);
/* The first targets and how many more: "10.0.1.10, aws:S3 +3". */
void nfc_fmt_targets(char *buf, size_t len, const cJSON *spec);

/* Prints a JSON value indented on stdout. */
void nfc_print_json(const cJSON *v);
double nfc_num(const cJSON *obj, const char *key, double dflt);
const char *nfc_str(const cJSON *obj, const char *key);

#endif
