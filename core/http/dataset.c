/*
 * dataset.c: conversation datasets in one streaming pass (see dataset.h).
 *
 * The reader is a small JSON pull parser of its own rather than cJSON:
 * cJSON builds a tree per row (a node and an allocation per value) and
 * reads a 500 MB ShareGPT dump about three times slower, while this reader
 * decodes the few strings it keeps straight into an arena and skips the
 * rest.  It accepts exactly JSON (RFC 8259) with one relaxation for JSON
 * lines: blank lines between rows.
 */
#include "dataset.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include <gsl/gsl_rng.h>

#include "../util.h"

#define ARENA_BLOCK (4u << 20)     /* bytes per arena block */
#define RELEASE_STEP (32u << 20)   /* release read pages of the mapping this often */
#define MAX_DEPTH 64               /* nesting the reader follows before giving up */
#define MAX_TEXT 0x7fffffffu       /* bytes of one text */

static const char *const format_names[] = { "prompts", "sharegpt", "openai" };
static const char *const role_names[] = { "system", "user", "assistant" };

const char *http_dataset_format_name(enum http_dataset_format f)
{
	return (size_t)f < ARRAY_SIZE(format_names) ? format_names[f] : "?";
}

const char *http_role_name(enum http_role r)
{
	return (size_t)r < ARRAY_SIZE(role_names) ? role_names[r] : "?";
}

int http_dataset_format_parse(const char *name, enum http_dataset_format *out)
{
	long i = str_index(name, format_names, ARRAY_SIZE(format_names));

	if (i < 0)
		return ERR_INPUT;
	*out = (enum http_dataset_format)i;
	return 0;
}

uint32_t http_dataset_estimate_tokens(size_t bytes)
{
	size_t t = (bytes + 3) / 4;

	return t > UINT32_MAX ? UINT32_MAX : (uint32_t)t;
}

/* ---- the arena: texts, kept until the dataset is freed ---- */

struct block {
	struct block *next;
	size_t used, size;
	char data[];
};

struct arena {
	struct block *head; /* the block being filled; older ones follow */
};

static char *arena_copy(struct arena *a, const char *s, size_t len)
{
	struct block *b = a->head;
	char *dst;

	if (!b || b->size - b->used < len + 1) {
		size_t size = len + 1 > ARENA_BLOCK ? len + 1 : ARENA_BLOCK;

		b = xmalloc(sizeof(*b) + size);
		b->size = size;
		b->used = 0;
		b->next = a->head;
		a->head = b;
	}
	dst = b->data + b->used;
	memcpy(dst, s, len);
	dst[len] = '\0';
	b->used += len + 1;
	return dst;
}

struct arena_mark {
	struct block *head;
	size_t used;
};

static struct arena_mark arena_mark(const struct arena *a)
{
	struct arena_mark m = { a->head, a->head ? a->head->used : 0 };

	return m;
}

/* Forget everything copied since the mark. */
static void arena_rollback(struct arena *a, struct arena_mark m)
{
	while (a->head != m.head) {
		struct block *b = a->head;

		a->head = b->next;
		free(b);
	}
	if (a->head)
		a->head->used = m.used;
}

static void arena_release(struct arena *a)
{
	while (a->head) {
		struct block *b = a->head;

		a->head = b->next;
		free(b);
	}
}

/* ---- the dataset ---- */

struct http_dataset {
	struct arena arena;
	struct http_dataset_turn *turns;
	size_t n_turns, alloc_turns;
	struct http_dataset_conv *convs;
	size_t n_convs, alloc_convs;
	size_t *first_turn;       /* while reading: each conversation's first turn index */
	size_t alloc_first;
	struct http_dataset_stats stats;
};

size_t http_dataset_count(const struct http_dataset *d)
{
	return d->n_convs;
}

const struct http_dataset_conv *http_dataset_get(const struct http_dataset *d, size_t i)
{
	return i < d->n_convs ? &d->convs[i] : NULL;
}

const struct http_dataset_stats *http_dataset_stats(const struct http_dataset *d)
{
	return &d->stats;
}

void http_dataset_free(struct http_dataset *d)
{
	if (!d)
		return;
	arena_release(&d->arena);
	free(d->turns);
	free(d->convs);
	free(d->first_turn);
	free(d);
}

/* ---- the pull parser ---- */

struct cur {
	const char *p, *end;
	const char *base;       /* the buffer's start */
	const char *released;   /* mapped pages before this were given back */
	bool mapped;
	long line;              /* 1-based line of p */
	const char *label;
	struct sb path;         /* JSON path of the value being read: "[3].conversations[1].value" */
	struct sb str;          /* the last string read, decoded */
	struct err *err;
	bool failed;
};

static int fail_at(struct cur *c, const char *what)
{
	if (!c->failed) {
		/* Keys come from the file: keep the message on one line. */
		for (size_t i = 0; i < c->path.len; i++)
			if ((unsigned char)c->path.buf[i] < 0x20)
				c->path.buf[i] = '?';
		err_set(c->err, ERR_INPUT, "dataset '%s' line %ld: %s%s%s", c->label, c->line,
			c->path.len ? sb_str(&c->path) : "", c->path.len ? ": " : "", what);
	}
	c->failed = true;
	return ERR_INPUT;
}

static void ws(struct cur *c)
{
	while (c->p < c->end) {
		char ch = *c->p;

		if (ch == '\n')
			c->line++;
		else if (ch != ' ' && ch != '\t' && ch != '\r')
			return;
		c->p++;
	}
}

static int expect(struct cur *c, char ch, const char *what)
{
	ws(c);
	if (c->p >= c->end || *c->p != ch)
		return fail_at(c, what);
	c->p++;
	return 0;
}

static void put_utf8(struct sb *s, unsigned cp)
{
	char b[4];

	if (cp < 0x80) {
		sb_putc(s, (char)cp);
		return;
	}
	if (cp < 0x800) {
		b[0] = (char)(0xC0 | (cp >> 6));
		b[1] = (char)(0x80 | (cp & 0x3F));
		sb_add(s, b, 2);
	} else if (cp < 0x10000) {
		b[0] = (char)(0xE0 | (cp >> 12));
		b[1] = (char)(0x80 | ((cp >> 6) & 0x3F));
		b[2] = (char)(0x80 | (cp & 0x3F));
		sb_add(s, b, 3);
	} else {
		b[0] = (char)(0xF0 | (cp >> 18));
		b[1] = (char)(0x80 | ((cp >> 12) & 0x3F));
		b[2] = (char)(0x80 | ((cp >> 6) & 0x3F));
		b[3] = (char)(0x80 | (cp & 0x3F));
		sb_add(s, b, 4);
	}
}

static int hex4(struct cur *c, unsigned *out)
{
	unsigned v = 0;

	if (c->end - c->p < 4)
		return fail_at(c, "truncated \\u escape");
	for (int i = 0; i < 4; i++) {
		char h = c->p[i];

		v <<= 4;
		if (h >= '0' && h <= '9')
			v |= (unsigned)(h - '0');
		else if (h >= 'a' && h <= 'f')
			v |= (unsigned)(h - 'a' + 10);
		else if (h >= 'A' && h <= 'F')
			v |= (unsigned)(h - 'A' + 10);
		else
			return fail_at(c, "bad \\u escape");
	}
	c->p += 4;
	*out = v;
	return 0;
}

/* After the backslash. */
static int escape(struct cur *c, struct sb *s)
{
	static const char from[] = "\"\\/bfnrt", to[] = "\"\\/\b\f\n\r\t";
	const char *k;
	unsigned cp, lo;

	if (c->p >= c->end)
		return fail_at(c, "unterminated string");
	if (*c->p != 'u') {
		if (!(k = memchr(from, *c->p, sizeof(from) - 1)))
			return fail_at(c, "bad escape in a string");
		sb_putc(s, to[k - from]);
		c->p++;
		return 0;
	}
	c->p++;
	if (hex4(c, &cp))
		return ERR_INPUT;
	if (cp >= 0xD800 && cp <= 0xDBFF && c->end - c->p >= 6 && c->p[0] == '\\' && c->p[1] == 'u') {
		const char *save = c->p;

		c->p += 2;
		if (hex4(c, &lo))
			return ERR_INPUT;
		if (lo >= 0xDC00 && lo <= 0xDFFF)
			cp = 0x10000 + ((cp - 0xD800) << 10) + (lo - 0xDC00);
		else
			c->p = save; /* a lone high surrogate, then another escape */
	}
	if (cp >= 0xD800 && cp <= 0xDFFF)
		cp = 0xFFFD; /* a lone surrogate has no UTF-8 form */
	put_utf8(s, cp);
	return 0;
}

/* Raw line ends from c->p to `to` (lax strings), for messages. */
static void count_lines(struct cur *c, const char *to)
{
	for (const char *x = c->p; (x = memchr(x, '\n', (size_t)(to - x))) != NULL; x++)
		c->line++;
}

/* A string at c->p (after white space), decoded into c->str.  Raw control
 * characters inside are taken as they are (JSON forbids them, but dumps
 * written by hand or by lax tools carry tabs and newlines). */
static int string(struct cur *c, const char *what)
{
	ws(c);
	if (c->p >= c->end || *c->p != '"')
		return fail_at(c, what);
	c->p++;
	sb_reset(&c->str);
	sb_add(&c->str, "", 0);
	for (const char *q = NULL;;) {
		/* memchr is vectorised: find the closing quote, then any escape
		 * before it, instead of testing every byte. */
		const char *b;

		if (!q || q < c->p)
			q = memchr(c->p, '"', (size_t)(c->end - c->p));
		if (!q)
			return fail_at(c, "unterminated string");
		b = memchr(c->p, '\\', (size_t)(q - c->p));
		if (!b) {
			sb_add(&c->str, c->p, (size_t)(q - c->p));
			count_lines(c, q);
			c->p = q + 1;
			break;
		}
		sb_add(&c->str, c->p, (size_t)(b - c->p));
		count_lines(c, b);
		c->p = b + 1;
		if (escape(c, &c->str))
			return ERR_INPUT;
	}
	if (c->str.len > MAX_TEXT)
		return fail_at(c, "string over 2 GiB");
	return 0;
}

static int skip_value(struct cur *c, int depth);

static int skip_container(struct cur *c, int depth, char close)
{
	c->p++;
	ws(c);
	if (c->p < c->end && *c->p == close) {
		c->p++;
		return 0;
	}
	for (;;) {
		if (close == '}') {
			if (string(c, "expected a key (a string)") || expect(c, ':', "expected ':' after a key"))
				return ERR_INPUT;
		}
		if (skip_value(c, depth + 1))
			return ERR_INPUT;
		ws(c);
		if (c->p < c->end && *c->p == ',') {
			c->p++;
			continue;
		}
		if (c->p < c->end && *c->p == close) {
			c->p++;
			return 0;
		}
		return fail_at(c, close == '}' ? "expected ',' or '}'" : "expected ',' or ']'");
	}
}

static bool digit(const struct cur *c)
{
	return c->p < c->end && *c->p >= '0' && *c->p <= '9';
}

/* -?(0|[1-9][0-9]*)(\.[0-9]+)?([eE][+-]?[0-9]+)? */
static int skip_number(struct cur *c)
{
	if (c->p < c->end && *c->p == '-')
		c->p++;
	if (!digit(c))
		return fail_at(c, "expected a JSON value");
	if (*c->p++ != '0')
		while (digit(c))
			c->p++;
	if (c->p < c->end && *c->p == '.') {
		c->p++;
		if (!digit(c))
			return fail_at(c, "bad number");
		while (digit(c))
			c->p++;
	}
	if (c->p < c->end && (*c->p == 'e' || *c->p == 'E')) {
		c->p++;
		if (c->p < c->end && (*c->p == '+' || *c->p == '-'))
			c->p++;
		if (!digit(c))
			return fail_at(c, "bad number");
		while (digit(c))
			c->p++;
	}
	return 0;
}

static int skip_value(struct cur *c, int depth)
{
	static const char *const lits[] = { "true", "false", "null" };

	if (depth > MAX_DEPTH)
		return fail_at(c, "nested too deeply");
	ws(c);
	if (c->p >= c->end)
		return fail_at(c, "unexpected end of file");
	switch (*c->p) {
	case '"':
		return string(c, "expected a string");
	case '{':
		return skip_container(c, depth, '}');
	case '[':
		return skip_container(c, depth, ']');
	default:
		break;
	}
	for (size_t i = 0; i < ARRAY_SIZE(lits); i++) {
		size_t n = strlen(lits[i]);

		if ((size_t)(c->end - c->p) >= n && memcmp(c->p, lits[i], n) == 0) {
			c->p += n;
			return 0;
		}
	}
	return skip_number(c);
}

/* Is the next value null?  (Consumes it when it is.) */
static bool take_null(struct cur *c)
{
	ws(c);
	if (c->end - c->p >= 4 && memcmp(c->p, "null", 4) == 0) {
		c->p += 4;
		return true;
	}
	return false;
}

/* Iterate an object's keys: call first with *first = true.  Returns 1 with
 * the key in c->str, 0 at the closing brace, or ERR_INPUT. */
static int next_key(struct cur *c, bool *first)
{
	ws(c);
	if (*first) {
		*first = false;
		if (c->p < c->end && *c->p == '}') {
			c->p++;
			return 0;
		}
	} else {
		if (c->p < c->end && *c->p == '}') {
			c->p++;
			return 0;
		}
		if (c->p >= c->end || *c->p != ',')
			return fail_at(c, "expected ',' or '}'");
		c->p++;
	}
	if (string(c, "expected a key (a string)") || expect(c, ':', "expected ':' after a key"))
		return ERR_INPUT;
	return 1;
}

/* The same for arrays: 1 when an element follows, 0 at the end. */
static int next_elem(struct cur *c, bool *first)
{
	ws(c);
	if (c->p < c->end && *c->p == ']') {
		c->p++;
		return 0;
	}
	if (*first) {
		*first = false;
		return 1;
	}
	if (c->p >= c->end || *c->p != ',')
		return fail_at(c, "expected ',' or ']'");
	c->p++;
	return 1;
}

/* Extend the JSON path by a key or an index; returns the mark to pop to.
 * Called for every value read, so without printf. */
static size_t path_push(struct cur *c, const char *key, size_t index, bool is_index)
{
	size_t mark = c->path.len;

	if (is_index) {
		char digits[24];
		size_t n = 0;

		do
			digits[sizeof(digits) - ++n] = (char)('0' + index % 10);
		while ((index /= 10) && n < sizeof(digits) - 1);
		sb_putc(&c->path, '[');
		sb_add(&c->path, digits + sizeof(digits) - n, n);
		sb_putc(&c->path, ']');
	} else {
		if (c->path.len)
			sb_putc(&c->path, '.');
		sb_puts(&c->path, key);
	}
	return mark;
}

static void path_pop(struct cur *c, size_t mark)
{
	c->path.len = mark;
	if (c->path.buf)
		c->path.buf[mark] = '\0';
}

/* ---- conversations ---- */

struct reader {
	struct http_dataset *d;
	const struct http_dataset_options *o;
	const char *turns_key, *role_key, *text_key;
	bool unsupported;       /* the row being read has something perfgate cannot send */
	struct sb text;         /* a turn's text being assembled (content parts) */
};

static int role_of(const char *s, enum http_role *out)
{
	static const char *const users[] = { "human", "user" };
	static const char *const assistants[] = { "gpt", "assistant", "chatgpt", "bard", "bing", "model" };

	if (str_index(s, users, ARRAY_SIZE(users)) >= 0)
		*out = HTTP_ROLE_USER;
	else if (str_index(s, assistants, ARRAY_SIZE(assistants)) >= 0)
		*out = HTTP_ROLE_ASSISTANT;
	else if (strcmp(s, "system") == 0)
		*out = HTTP_ROLE_SYSTEM;
	else
		return -1;
	return 0;
}

/* openai content: a string, null, or a list of parts of which only text
 * parts can be sent. */
static int content_parts(struct reader *r, struct cur *c)
{
	bool first = true;
	size_t k = 0;
	int more;

	c->p++; /* '[' */
	while ((more = next_elem(c, &first)) == 1) {
		size_t mark = path_push(c, NULL, k++, true);
		bool kfirst = true, is_text = false, has_text = false;
		int key;

		if (expect(c, '{', "expected a content part such as {\"type\": \"text\", \"text\": \"...\"}"))
			return ERR_INPUT;
		while ((key = next_key(c, &kfirst)) == 1) {
			if (strcmp(c->str.buf, "type") == 0) {
				if (string(c, "expected a string"))
					return ERR_INPUT;
				is_text = strcmp(c->str.buf, "text") == 0;
			} else if (strcmp(c->str.buf, "text") == 0) {
				if (string(c, "expected a string"))
					return ERR_INPUT;
				sb_add(&r->text, c->str.buf, c->str.len);
				has_text = true;
			} else if (skip_value(c, 3)) {
				return ERR_INPUT;
			}
		}
		if (key < 0)
			return ERR_INPUT;
		if (!is_text || !has_text)
			r->unsupported = true;
		path_pop(c, mark);
	}
	return more < 0 ? ERR_INPUT : 0;
}

static int turn_text(struct reader *r, struct cur *c)
{
	ws(c);
	if (r->o->format == HTTP_DATASET_OPENAI) {
		if (take_null(c)) {
			r->unsupported = true; /* an assistant turn that only called tools */
			return 0;
		}
		if (c->p < c->end && *c->p == '[')
			return content_parts(r, c);
	}
	if (string(c, r->o->format == HTTP_DATASET_OPENAI ? "expected a string or a list of text parts"
							  : "expected a string"))
		return ERR_INPUT;
	sb_add(&r->text, c->str.buf, c->str.len);
	return 0;
}

static int one_turn(struct reader *r, struct cur *c)
{
	struct http_dataset *d = r->d;
	bool first = true, have_role = false, have_text = false;
	enum http_role role = HTTP_ROLE_USER;
	int key;

	if (expect(c, '{', "expected an object such as {\"role\": ..., \"content\": ...}"))
		return ERR_INPUT;
	sb_reset(&r->text);
	while ((key = next_key(c, &first)) == 1) {
		size_t mark;

		if (strcmp(c->str.buf, r->role_key) == 0) {
			mark = path_push(c, r->role_key, 0, false);
			if (string(c, "expected a string"))
				return ERR_INPUT;
			if (role_of(c->str.buf, &role) != 0)
				r->unsupported = true;
			have_role = true;
		} else if (strcmp(c->str.buf, r->text_key) == 0) {
			mark = path_push(c, r->text_key, 0, false);
			if (turn_text(r, c))
				return ERR_INPUT;
			have_text = true;
		} else {
			mark = path_push(c, c->str.buf, 0, false);
			if (skip_value(c, 3))
				return ERR_INPUT;
		}
		path_pop(c, mark);
	}
	if (key < 0)
		return ERR_INPUT;
	if (!have_role || !have_text) {
		char *what = xasprintf("expected an object with \"%s\" and \"%s\"", r->role_key, r->text_key);
		int rc = fail_at(c, what);

		free(what);
		return rc;
	}
	XGROW(d->turns, d->alloc_turns, d->n_turns + 1);
	d->turns[d->n_turns].text = arena_copy(&d->arena, sb_str(&r->text), r->text.len);
	d->turns[d->n_turns].len = (uint32_t)r->text.len;
	d->turns[d->n_turns].role = (uint8_t)role;
	d->n_turns++;
	return 0;
}

static int turns_array(struct reader *r, struct cur *c)
{
	bool first = true;
	size_t k = 0;
	int more;

	if (expect(c, '[', "expected an array of turns"))
		return ERR_INPUT;
	while ((more = next_elem(c, &first)) == 1) {
		size_t mark = path_push(c, NULL, k++, true);

		if (one_turn(r, c))
			return ERR_INPUT;
		path_pop(c, mark);
	}
	return more < 0 ? ERR_INPUT : 0;
}

/* A prompts row: the prompt field becomes the one user turn; the row's
 * text is kept whole for templates. */
static int prompts_row(struct reader *r, struct cur *c, const char *start)
{
	struct http_dataset *d = r->d;
	bool first = true;
	int key;

	if (c->p >= c->end || *c->p != '{')
		return fail_at(c, "expected a JSON object");
	c->p++;
	while ((key = next_key(c, &first)) == 1) {
		size_t mark = path_push(c, c->str.buf, 0, false);

		if (strcmp(c->str.buf, r->text_key) == 0) {
			if (string(c, "expected a string"))
				return ERR_INPUT;
			XGROW(d->turns, d->alloc_turns, d->n_turns + 1);
			d->turns[d->n_turns].text = arena_copy(&d->arena, c->str.buf, c->str.len);
			d->turns[d->n_turns].len = (uint32_t)c->str.len;
			d->turns[d->n_turns].role = HTTP_ROLE_USER;
			d->n_turns++;
		} else if (skip_value(c, 1)) {
			return ERR_INPUT;
		}
		path_pop(c, mark);
	}
	if (key < 0)
		return ERR_INPUT;
	XGROW(d->convs, d->alloc_convs, d->n_convs + 1);
	d->convs[d->n_convs].row = arena_copy(&d->arena, start, (size_t)(c->p - start));
	d->convs[d->n_convs].row_len = (uint32_t)(c->p - start);
	return 0;
}

static int conversation_object(struct reader *r, struct cur *c)
{
	bool first = true, found = false;
	int key;

	if (c->p >= c->end || *c->p != '{')
		return fail_at(c, "expected a JSON object");
	c->p++;
	while ((key = next_key(c, &first)) == 1) {
		size_t mark = path_push(c, c->str.buf, 0, false);

		if (strcmp(c->str.buf, r->turns_key) == 0) {
			if (turns_array(r, c))
				return ERR_INPUT;
			found = true;
		} else if (skip_value(c, 1)) {
			return ERR_INPUT;
		}
		path_pop(c, mark);
	}
	if (key < 0)
		return ERR_INPUT;
	if (!found) {
		char *what = xasprintf("expected an object with \"%s\" (a list of turns)", r->turns_key);
		int rc = fail_at(c, what);

		free(what);
		return rc;
	}
	XGROW(r->d->convs, r->d->alloc_convs, r->d->n_convs + 1);
	r->d->convs[r->d->n_convs].row = NULL;
	r->d->convs[r->d->n_convs].row_len = 0;
	return 0;
}

/* The estimates and the filters, for the conversation just read (its
 * turns from `first`).  Returns true to keep it. */
static bool judge(struct reader *r, size_t first)
{
	struct http_dataset *d = r->d;
	const struct http_dataset_options *o = r->o;
	struct http_dataset_conv *cv = &d->convs[d->n_convs];
	size_t n = d->n_turns - first, u, in_bytes = 0;

	for (u = 0; u < n && d->turns[first + u].role != HTTP_ROLE_USER; u++)
		if (d->turns[first + u].role == HTTP_ROLE_SYSTEM)
			in_bytes += d->turns[first + u].len;
	if (r->unsupported) {
		d->stats.unsupported++;
		return false;
	}
	if (u == n) {
		if (o->format == HTTP_DATASET_PROMPTS && !o->min_input_tokens && !o->min_output_tokens &&
		    !o->max_input_tokens && !o->max_output_tokens)
			goto keep; /* a row for templates only */
		d->stats.no_user_turn++;
		return false;
	}
	in_bytes += d->turns[first + u].len;
	cv->input_tokens = http_dataset_estimate_tokens(in_bytes);
	cv->output_tokens = u + 1 < n && d->turns[first + u + 1].role == HTTP_ROLE_ASSISTANT
				    ? http_dataset_estimate_tokens(d->turns[first + u + 1].len)
				    : 0;
	if ((o->min_input_tokens && cv->input_tokens < o->min_input_tokens) ||
	    (o->max_input_tokens && cv->input_tokens > o->max_input_tokens) ||
	    (o->min_output_tokens && cv->output_tokens < o->min_output_tokens) ||
	    (o->max_output_tokens && cv->output_tokens > o->max_output_tokens)) {
		d->stats.filtered++;
		return false;
	}
keep:
	cv->n_turns = (uint32_t)n;
	XGROW(d->first_turn, d->alloc_first, d->n_convs + 1);
	d->first_turn[d->n_convs] = first;
	d->n_convs++;
	return true;
}

static int one_row(struct reader *r, struct cur *c, size_t index, bool in_array)
{
	struct http_dataset *d = r->d;
	struct arena_mark am = arena_mark(&d->arena);
	size_t first = d->n_turns, mark = c->path.len;
	const char *start;
	int rc;

	ws(c);
	start = c->p;
	if (in_array)
		path_push(c, NULL, index, true);
	r->unsupported = false;
	XGROW(d->convs, d->alloc_convs, d->n_convs + 1);
	memset(&d->convs[d->n_convs], 0, sizeof(d->convs[0]));
	rc = r->o->format == HTTP_DATASET_PROMPTS ? prompts_row(r, c, start) : conversation_object(r, c);
	path_pop(c, mark);
	if (rc)
		return rc;
	d->stats.read++;
	if (!judge(r, first)) {
		d->n_turns = first;
		arena_rollback(&d->arena, am);
	}
	return 0;
}

/* Give back mapped pages already read, so that memory holds the decoded
 * texts and not the file as well. */
static void release_read(struct cur *c)
{
	long page = sysconf(_SC_PAGESIZE);
	uintptr_t from = (uintptr_t)c->released, to;

	if (!c->mapped || c->p - c->released < (long)RELEASE_STEP || page <= 0)
		return;
	to = (uintptr_t)c->p & ~((uintptr_t)page - 1);
	if (to > from) {
		madvise((void *)from, to - from, MADV_DONTNEED);
		c->released = (const char *)to;
	}
}

static int rows(struct reader *r, struct cur *c)
{
	size_t i = 0;
	bool in_array, first = true;
	int more = 0;

	ws(c);
	if (c->p >= c->end)
		return fail_at(c, "empty file");
	in_array = *c->p == '[';
	if (in_array)
		c->p++;
	for (;;) {
		if (r->o->max_conversations && i >= r->o->max_conversations)
			return 0;
		if (in_array) {
			if ((more = next_elem(c, &first)) <= 0)
				break;
		} else {
			ws(c);
			if (c->p >= c->end)
				return 0;
		}
		if (one_row(r, c, i++, in_array))
			return ERR_INPUT;
		release_read(c);
		if (!in_array) {
			while (c->p < c->end && (*c->p == ' ' || *c->p == '\t' || *c->p == '\r'))
				c->p++;
			if (c->p < c->end && *c->p != '\n')
				return fail_at(c, "expected one JSON object per line");
		}
	}
	if (more < 0)
		return ERR_INPUT;
	ws(c);
	if (c->p < c->end)
		return fail_at(c, "unexpected text after the closing ']'");
	return 0;
}

/* ---- after reading: sample, order, final pointers ---- */

static int cmp_size(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;

	return (x > y) - (x < y);
}

static void select_rows(struct http_dataset *d, const struct http_dataset_options *o)
{
	size_t n = d->n_convs, k = o->sample && o->sample < n ? o->sample : n;
	size_t *idx;
	struct http_dataset_conv *sel;
	gsl_rng *r;

	if (k == n && !o->shuffle)
		return;
	idx = xmalloc((n ? n : 1) * sizeof(*idx));
	for (size_t i = 0; i < n; i++)
		idx[i] = i;
	r = gsl_rng_alloc(gsl_rng_mt19937);
	gsl_rng_set(r, (unsigned long)o->seed);
	/* The first k steps of a Fisher-Yates shuffle: a uniform sample of k
	 * in a uniform order. */
	for (size_t i = 0; i < k && i + 1 < n; i++) {
		size_t j = i + (size_t)gsl_rng_uniform_int(r, (unsigned long)(n - i));
		size_t t = idx[i];

		idx[i] = idx[j];
		idx[j] = t;
	}
	gsl_rng_free(r);
	if (!o->shuffle)
		qsort(idx, k, sizeof(*idx), cmp_size); /* keep the file's order among the chosen */
	sel = xmalloc((k ? k : 1) * sizeof(*sel));
	for (size_t i = 0; i < k; i++) {
		sel[i] = d->convs[idx[i]];
		/* first_turn travels with its conversation */
		idx[i] = d->first_turn[idx[i]];
	}
	memcpy(d->first_turn, idx, k * sizeof(*idx));
	free(d->convs);
	d->convs = sel;
	d->alloc_convs = k;
	d->n_convs = k;
	free(idx);
}

static int finish(struct http_dataset *d, const struct http_dataset_options *o, const char *label, struct err *err)
{
	d->stats.kept = d->n_convs;
	if (d->n_convs == 0) {
		const struct http_dataset_stats *s = &d->stats;

		if (s->read == 0)
			return err_set(err, ERR_INPUT, "dataset '%s': no rows", label);
		return err_set(err, ERR_INPUT,
			       "dataset '%s': none of its %zu rows is left (%zu outside the length filters, %zu without "
			       "a user turn, %zu with roles or content perfgate cannot send)",
			       label, s->read, s->filtered, s->no_user_turn, s->unsupported);
	}
	select_rows(d, o);
	for (size_t i = 0; i < d->n_convs; i++)
		d->convs[i].turns = d->turns ? d->turns + d->first_turn[i] : NULL;
	if (o->parts > 1) {
		/* A shard's part (core/http/shard.h): after the sample and the
		 * order, which every shard makes alike, so that the parts are
		 * disjoint and together the whole. */
		size_t k = 0;

		if (d->n_convs < o->parts)
			return err_set(err, ERR_INPUT, "dataset '%s': %zu conversations, fewer than the %zu shards", label,
				       d->n_convs, o->parts);
		for (size_t i = 0; i < d->n_convs; i++)
			if (i % o->parts == o->part)
				d->convs[k++] = d->convs[i];
		d->n_convs = k;
	}
	d->stats.kept = d->n_convs;
	free(d->first_turn);
	d->first_turn = NULL;
	return 0;
}

static void reader_init(struct reader *r, struct http_dataset *d, const struct http_dataset_options *o)
{
	memset(r, 0, sizeof(*r));
	r->d = d;
	r->o = o;
	r->turns_key = o->turns_key ? o->turns_key : o->format == HTTP_DATASET_OPENAI ? "messages" : "conversations";
	r->role_key = o->role_key ? o->role_key : o->format == HTTP_DATASET_OPENAI ? "role" : "from";
	r->text_key = o->text_key ? o->text_key
		      : o->format == HTTP_DATASET_OPENAI ? "content"
		      : o->format == HTTP_DATASET_SHAREGPT ? "value"
							  : "prompt";
}

static int parse_buffer(struct http_dataset **out, const struct http_dataset_options *o, const char *buf,
			size_t len, bool mapped, struct err *err)
{
	struct http_dataset *d = xcalloc(1, sizeof(*d));
	const char *label = o->label ? o->label : o->path ? o->path : "(buffer)";
	struct reader r;
	struct cur c = { .p = buf, .end = buf + len, .base = buf, .released = buf, .mapped = mapped, .line = 1,
			 .label = label, .err = err };
	int rc;

	*out = NULL;
	reader_init(&r, d, o);
	d->stats.bytes = len;
	if (len >= 3 && memcmp(buf, "\xEF\xBB\xBF", 3) == 0)
		c.p += 3; /* a byte-order mark */
	{
		const char *nul = memchr(buf, '\0', len);

		if (nul) {
			count_lines(&c, nul);
			rc = fail_at(&c, "a NUL byte: not a text file");
		} else {
			rc = rows(&r, &c);
		}
	}
	if (rc == 0)
		rc = finish(d, o, label, err);
	sb_release(&c.path);
	sb_release(&c.str);
	sb_release(&r.text);
	if (rc) {
		http_dataset_free(d);
		return rc;
	}
	*out = d;
	return 0;
}

int http_dataset_parse(struct http_dataset **out, const struct http_dataset_options *o, const char *buf, size_t len,
		       struct err *err)
{
	return parse_buffer(out, o, buf, len, false, err);
}

int http_dataset_open(struct http_dataset **out, const struct http_dataset_options *o, struct err *err)
{
	struct stat st;
	void *map = MAP_FAILED;
	char *text = NULL;
	size_t len = 0;
	int fd, rc;

	*out = NULL;
	fd = open(o->path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return err_sys(err, ERR_FAIL, "cannot open dataset '%s'", o->path);
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && st.st_size > 0) {
		len = (size_t)st.st_size;
		map = mmap(NULL, len, PROT_READ, MAP_PRIVATE, fd, 0);
		if (map != MAP_FAILED)
			madvise(map, len, MADV_SEQUENTIAL);
	}
	close(fd);
	if (map != MAP_FAILED) {
		rc = parse_buffer(out, o, map, len, true, err);
		munmap(map, len);
		return rc;
	}
	/* Not a regular file (a pipe, a device) or not mappable: read it. */
	if ((rc = file_read(o->path, &text, &len, err)) != 0)
		return rc;
	rc = parse_buffer(out, o, text, len, false, err);
	free(text);
	return rc;
}
