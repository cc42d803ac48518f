/*
 * util.h: small pieces every module uses: allocation that aborts on failure,
 * a growable string buffer, whole-file I/O, the monotonic clock, parsing of
 * durations, sizes and numbers with full error checking, and "did you mean"
 * suggestions.
 */
#ifndef PERFGATE_UTIL_H
#define PERFGATE_UTIL_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "err.h"

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Allocation: abort with a message on failure (STYLE rule 9). */
void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
char *xasprintf(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Free a NULL-terminated vector of strings (an argv, an environment); NULL is fine. */
void argv_free(char **v);
/* p, which a library allocated (cJSON_Print, libpq); out of memory, as in
 * the x* wrappers, when it is NULL, the library's way of saying so. */
void *xcheck(void *p);
/*
 * Out of memory: the x* wrappers and xcheck never return NULL; they call
 * the handler the program installed (cmd/main.c reports it and ends the
 * process), with the size asked for (0: not known).  core/ and db/ never
 * print or choose how the process ends.  A handler must not return (it may
 * longjmp); when there is none, or it returns, the process aborts.
 */
typedef void (*util_oom_fn)(size_t n);
void util_set_oom_handler(util_oom_fn fn);
/* Grow *p (holding *alloc elements of `size` bytes) so that `need` fit. */
void xgrow(void **p, size_t *alloc, size_t need, size_t size);
#define XGROW(p, alloc, need) xgrow((void **)&(p), &(alloc), (need), sizeof(*(p)))

/* A growable NUL-terminated string.  SB_INIT is a valid empty buffer. */
struct sb {
	char *buf;   /* always NUL-terminated once anything was added */
	size_t len;  /* bytes, excluding the NUL */
	size_t alloc;
};
#define SB_INIT { .buf = NULL }
void sb_add(struct sb *sb, const void *data, size_t len);
void sb_puts(struct sb *sb, const char *s);
void sb_putc(struct sb *sb, char c);
void sb_printf(struct sb *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* sb_printf with a va_list; -1 (and sb unchanged) when fmt cannot be formatted. */
int sb_vprintf(struct sb *sb, const char *fmt, va_list ap) __attribute__((format(printf, 2, 0)));
void sb_reset(struct sb *sb);           /* length 0, memory kept */
char *sb_detach(struct sb *sb);         /* caller owns the string; sb is emptied */
void sb_release(struct sb *sb);
const char *sb_str(const struct sb *sb); /* "" when empty */

/* Input size limits (docs/security.md): past them a read fails with a
 * message naming the file and the limit, before the memory runs out. */
#define FILE_READ_MAX ((size_t)1 << 30)    /* any file perfgate reads whole: 1 GiB */
#define RUNDOC_READ_MAX ((size_t)256 << 20) /* a run document, a harness's output: 256 MiB */
#define SUITE_READ_MAX ((size_t)16 << 20)   /* a suite, a metrics file: 16 MiB */

/* Read a whole file of at most FILE_READ_MAX bytes; *out is NUL-terminated
 * and owned by the caller. */
int file_read(const char *path, char **out, size_t *len, struct err *err);
/* The same with a limit of max bytes (ERR_INPUT past it). */
int file_read_max(const char *path, size_t max, char **out, size_t *len, struct err *err);
/* The same from an open descriptor (stdin: name "standard input"); fd stays open. */
int fd_read_max(int fd, const char *name, size_t max, char **out, size_t *len, struct err *err);
/* The last max bytes of a file at or after offset `from` (a log's newest
 * part), without reading what comes before them. */
int file_read_tail(const char *path, off_t from, size_t max, char **out, size_t *len, struct err *err);
/* Write a file atomically: a temporary file created exclusively in the same
 * folder (PATH.tmp.XXXXXX, never through a symlink), fsync, rename over PATH. */
int file_write_atomic(const char *path, const void *data, size_t len, struct err *err);
/* mkdir -p with mode 0700 for new folders. */
int mkdir_p(const char *path, struct err *err);
/* path when it is absolute, else dir/path; dir itself when path is NULL
 * (a benchmark's "cwd" under its suite's folder).  A new string. */
char *path_from(const char *dir, const char *path);

/* CLOCK_MONOTONIC in nanoseconds. */
uint64_t now_ns(void);
/* Wall-clock time as an RFC 3339 UTC string, e.g. 2026-11-28T18:34:56.123Z. */
void time_rfc3339(char *buf, size_t len);

/*
 * Parsers.  Each returns 0, or ERR_INPUT with a message that quotes the text.
 * Durations accept "250ms", "1.5s", "2m", "1h", "500us", "100ns"; a bare
 * number is seconds.  Results are in seconds.  Sizes accept B KB MB GB
 * (powers of 1000) and KiB MiB GiB (powers of 1024); results in bytes.
 * Numbers are plain decimals ("0x10s", "inf" are not durations); a duration
 * is at most DURATION_MAX_S (a week: every timeout and interval converts to
 * integer nanoseconds and milliseconds without overflow), a size at most 1 EB.
 */
#define DURATION_MAX_S (7 * 86400.0)
#define DURATION_MAX_TEXT "7 days (168h)"
#define SIZE_MAX_BYTES 1e18
int parse_duration(const char *s, double *seconds, struct err *err);
int parse_size(const char *s, double *bytes, struct err *err);
int parse_double(const char *s, double *out, struct err *err);
/* A fraction written "5%" or "0.05" (any finite value; callers bound it). */
int parse_fraction(const char *s, double *out, struct err *err);
int parse_int64(const char *s, int64_t *out, struct err *err);

/* Levenshtein distance, and the closest of `n` candidates to `word` when it
 * is close enough to be a plausible typo (NULL otherwise). */
size_t edit_distance(const char *a, const char *b);
const char *closest_match(const char *word, const char *const *candidates, size_t n);
/* Which of v[0..n) repeat an earlier entry (NULL entries never do): a new
 * array of n flags, found by sorting, not pairwise, so that 100,000 names
 * take milliseconds.  Caller frees. */
bool *str_repeats(const char *const *v, size_t n);
/* Index of `word` in `list`, or -1. */
long str_index(const char *word, const char *const *list, size_t n);

/* Hex SHA-256 of data (64 chars + NUL into out). */
void sha256_hex(const void *data, size_t len, char out[65]);
/* Hex HMAC-SHA256 (RFC 2104) of data under key (64 chars + NUL into out). */
void hmac_sha256_hex(const void *key, size_t key_len, const void *data, size_t len, char out[65]);

/* ---- text from outside: UTF-8 and control characters ---- */

/* The length (1 to 4) of the well-formed UTF-8 sequence at s (n bytes
 * left), or 0 when it is not one (overlong forms, surrogates and code points
 * past U+10FFFF are not). */
size_t utf8_seq_len(const unsigned char *s, size_t n);
/* Whether s[0..n) is well-formed UTF-8; *bad (may be NULL) is the offset of
 * the first bad byte. */
bool utf8_valid(const char *s, size_t n, size_t *bad);
/* The first control character of s (C0, DEL, or a C1 control written in
 * UTF-8) as a code point, or -1 when it has none. */
long str_control_char(const char *s);
/*
 * The one escaping of text for a terminal or a CI log (docs/security.md):
 * s appended to sb with every control character written as \n, \r, \t,
 * \xHH (other C0 controls, DEL) or \uHHHH (C1), and every byte that is not UTF-8
 * as \xHH, so that a name can neither start a new log line (a GitHub
 * "::error" command) nor move the cursor.  str_printable returns a copy.
 */
void sb_put_printable(struct sb *sb, const char *s);
char *str_printable(const char *s);

#endif
