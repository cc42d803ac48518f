/*
 * err.h: the error buffer that core/ and db/ fill and cmd/ prints.
 *
 * core/ and db/ never print and never exit: a failing function returns a
 * negative code and writes one complete line (no "perfgate: " prefix, no
 * trailing newline) into a struct err that the caller owns.  Context is added
 * once, at the boundary, with err_prefix().
 */
#ifndef PERFGATE_ERR_H
#define PERFGATE_ERR_H

#include <stddef.h>

#define ERR_MAX 2048

/* Return codes shared by core/ and db/ (functions return 0 or one of these). */
enum {
	ERR_FAIL = -1,    /* generic failure; the message says what */
	ERR_INPUT = -2,   /* the user's input is invalid (exit 2) */
	ERR_RUN = -3,     /* a benchmark or target failed (exit 3) */
	ERR_INFRA = -4,   /* database or forge unreachable (exit 4) */
	ERR_NOTFOUND = -5 /* a looked-up thing does not exist */
};

struct err {
	char msg[ERR_MAX];
};

#define ERR_INIT { .msg = "" }

/* Set the message (printf-style) and return `code`, so that callers can write
 * `return err_set(err, ERR_INPUT, "...")`.  err may be NULL. */
int err_set(struct err *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Same, with ": strerror(errno)" appended. */
int err_sys(struct err *err, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));

/* Put "context: " in front of the existing message. */
void err_prefix(struct err *err, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));

void err_clear(struct err *err);

/*
 * A list of problems, for validators that report everything they find
 * (a suite with three mistakes gets three lines, not one).
 */
struct errlist {
	char **msgs;
	size_t n;
	size_t alloc;
	size_t *index;      /* errlist_add_unique's hash set: slot -> message number + 1 (0: empty) */
	size_t index_alloc; /* slots, a power of two */
	size_t indexed;     /* messages [0, indexed) are in the set (errlist_add does not index) */
};
#define ERRLIST_INIT { .msgs = NULL }
void errlist_add(struct errlist *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Add msg unless the list has it already (in constant time: 100,000
 * problems are checked in milliseconds, not minutes). */
void errlist_add_unique(struct errlist *l, const char *msg);
void errlist_release(struct errlist *l);
/* Copy the first message into err (with " (and N more problems)") and return code. */
int errlist_to_err(const struct errlist *l, struct err *err, int code);

#endif
