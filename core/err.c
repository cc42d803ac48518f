#include "err.h"

#include <errno.h>
#include <stdint.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

int err_set(struct err *err, int code, const char *fmt, ...)
{
	if (err) {
		va_list ap;
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
	}
	return code;
}

int err_sys(struct err *err, int code, const char *fmt, ...)
{
	int saved = errno;
	if (err) {
		va_list ap;
		size_t len;
		va_start(ap, fmt);
		vsnprintf(err->msg, sizeof(err->msg), fmt, ap);
		va_end(ap);
		const char *why = strerror(saved);
		len = strlen(err->msg);
		if (len + 2 + strlen(why) < sizeof(err->msg)) {
			memcpy(err->msg + len, ": ", 2);
			memcpy(err->msg + len + 2, why, strlen(why) + 1);
		}
	}
	errno = saved;
	return code;
}

void err_prefix(struct err *err, const char *fmt, ...)
{
	char head[ERR_MAX], old[ERR_MAX];
	va_list ap;

	if (!err)
		return;
	va_start(ap, fmt);
	vsnprintf(head, sizeof(head), fmt, ap);
	va_end(ap);
	memcpy(old, err->msg, sizeof(old));
	{
		size_t hl = strlen(head), ol = strlen(old);
		if (hl + 2 > sizeof(err->msg) - 1)
			hl = sizeof(err->msg) - 3;
		if (hl + 2 + ol > sizeof(err->msg) - 1)
			ol = sizeof(err->msg) - 1 - hl - 2;
		memcpy(err->msg, head, hl);
		memcpy(err->msg + hl, ": ", 2);
		memcpy(err->msg + hl + 2, old, ol);
		err->msg[hl + 2 + ol] = '\0';
	}
}

void err_clear(struct err *err)
{
	if (err)
		err->msg[0] = '\0';
}

void errlist_add(struct errlist *l, const char *fmt, ...)
{
	char buf[ERR_MAX];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	XGROW(l->msgs, l->alloc, l->n + 1);
	l->msgs[l->n++] = xstrdup(buf);
}

void errlist_release(struct errlist *l)
{
	for (size_t i = 0; i < l->n; i++)
		free(l->msgs[i]);
	free(l->msgs);
	free(l->index);
	l->msgs = NULL;
	l->index = NULL;
	l->n = l->alloc = l->index_alloc = l->indexed = 0;
}

static size_t msg_hash(const char *s)
{
	uint64_t h = 1469598103934665603ull; /* FNV-1a */

	for (; *s; s++)
		h = (h ^ (unsigned char)*s) * 1099511628211ull;
	return (size_t)h;
}

/* Put message number i into the hash set (which has room). */
static void index_put(struct errlist *l, size_t i)
{
	size_t mask = l->index_alloc - 1, slot = msg_hash(l->msgs[i]) & mask;

	while (l->index[slot])
		slot = (slot + 1) & mask;
	l->index[slot] = i + 1;
}

void errlist_add_unique(struct errlist *l, const char *msg)
{
	size_t mask, slot;

	/* Keep the set at most half full; index what errlist_add added since. */
	if (2 * (l->n + 1) > l->index_alloc) {
		size_t want = l->index_alloc ? l->index_alloc : 64;

		while (2 * (l->n + 1) > want)
			want *= 2;
		free(l->index);
		l->index = xcalloc(want, sizeof(*l->index));
		l->index_alloc = want;
		l->indexed = 0;
	}
	for (; l->indexed < l->n; l->indexed++)
		index_put(l, l->indexed);
	mask = l->index_alloc - 1;
	for (slot = msg_hash(msg) & mask; l->index[slot]; slot = (slot + 1) & mask)
		if (strcmp(l->msgs[l->index[slot] - 1], msg) == 0)
			return;
	errlist_add(l, "%s", msg);
	l->index[slot] = l->n;
	l->indexed = l->n;
}

int errlist_to_err(const struct errlist *l, struct err *err, int code)
{
	if (l->n == 0)
		return 0;
	if (l->n == 1)
		return err_set(err, code, "%s", l->msgs[0]);
	return err_set(err, code, "%s (and %zu more problems)", l->msgs[0], l->n - 1);
}
