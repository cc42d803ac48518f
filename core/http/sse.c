/*
 * sse.c: server-sent events parser (see sse.h).
 */
#include "sse.h"

#include <stdlib.h>
#include <string.h>

#include "../util.h"

struct http_sse_parser {
	http_sse_event_fn fn;
	void *arg;
	struct sb line;   /* the current line, without its end */
	struct sb data;   /* the event's data lines, each followed by LF */
	struct sb type;   /* the event's "event" field */
	bool after_cr;    /* the last byte was CR: a following LF belongs to it */
	bool bom_checked; /* the stream's first bytes were checked for a BOM */
	size_t bom_seen;  /* BOM bytes matched so far */
	size_t events;
};

struct http_sse_parser *http_sse_new(http_sse_event_fn fn, void *arg)
{
	struct http_sse_parser *p = xcalloc(1, sizeof(*p));

	p->fn = fn;
	p->arg = arg;
	return p;
}

void http_sse_free(struct http_sse_parser *p)
{
	if (!p)
		return;
	sb_release(&p->line);
	sb_release(&p->data);
	sb_release(&p->type);
	free(p);
}

void http_sse_reset(struct http_sse_parser *p)
{
	sb_reset(&p->line);
	sb_reset(&p->data);
	sb_reset(&p->type);
	p->after_cr = false;
	p->bom_checked = false;
	p->bom_seen = 0;
	p->events = 0;
}

bool http_sse_pending(const struct http_sse_parser *p)
{
	return p->line.len > 0 || p->data.len > 0 || p->type.len > 0;
}

size_t http_sse_events(const struct http_sse_parser *p)
{
	return p->events;
}

static void dispatch(struct http_sse_parser *p)
{
	if (p->data.len > 0) {
		/* Drop the LF that follows the last data line. */
		p->data.len--;
		p->data.buf[p->data.len] = '\0';
		p->events++;
		p->fn(p->arg, p->type.len ? p->type.buf : "message", p->data.buf, p->data.len);
	}
	sb_reset(&p->data);
	sb_reset(&p->type);
}

static void process_line(struct http_sse_parser *p)
{
	const char *l = p->line.buf ? p->line.buf : "";
	size_t len = p->line.len, flen;
	const char *colon, *val;
	size_t vlen;

	if (len == 0) {
		dispatch(p);
		return;
	}
	if (l[0] == ':')
		goto done;
	colon = memchr(l, ':', len);
	flen = colon ? (size_t)(colon - l) : len;
	val = colon ? colon + 1 : l + len;
	vlen = colon ? len - flen - 1 : 0;
	if (vlen > 0 && val[0] == ' ') {
		val++;
		vlen--;
	}
	if (flen == 4 && memcmp(l, "data", 4) == 0) {
		sb_add(&p->data, val, vlen);
		sb_putc(&p->data, '\n');
	} else if (flen == 5 && memcmp(l, "event", 5) == 0) {
		sb_reset(&p->type);
		sb_add(&p->type, val, vlen);
	}
	/* id and retry do not matter to a load generator; others are ignored. */
done:
	sb_reset(&p->line);
}

void http_sse_feed(struct http_sse_parser *p, const char *buf, size_t len)
{
	static const char bom[] = "\xEF\xBB\xBF";
	size_t i = 0;

	while (!p->bom_checked && i < len) {
		if (buf[i] == bom[p->bom_seen]) {
			p->bom_seen++;
			i++;
			if (p->bom_seen == 3)
				p->bom_checked = true;
			continue;
		}
		/* Not a BOM after all: give back the bytes taken for one. */
		sb_add(&p->line, bom, p->bom_seen);
		p->bom_checked = true;
	}
	while (i < len) {
		/* Copy up to the next line end in one go. */
		const char *start = buf + i;
		size_t n = 0;

		while (i + n < len && start[n] != '\n' && start[n] != '\r')
			n++;
		if (n > 0) {
			p->after_cr = false;
			sb_add(&p->line, start, n);
			i += n;
			continue;
		}
		if (buf[i] == '\n' && p->after_cr) {
			p->after_cr = false; /* the LF of a CR LF whose CR ended the line */
			i++;
			continue;
		}
		p->after_cr = buf[i] == '\r';
		i++;
		process_line(p);
	}
}
