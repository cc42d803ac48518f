/*
 * prom.c: the Prometheus text / OpenMetrics parser (prom.h says what it
 * accepts).
 *
 * One pass over the text, one line at a time.  A line is parsed into
 * locals first and committed to the document only when all of it was
 * read, so that lenient parsing can drop a bad line without undoing
 * anything.  Strings and label arrays live in an arena freed at once: a
 * large server's exposition (tens of thousands of samples) costs a few
 * allocations, not one per string.
 */
#include "prom.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util.h"

/* ---- arena ---- */

struct arena_chunk {
	struct arena_chunk *next;
	size_t used, size;       /* bytes */
	max_align_t data[];
};

struct prom_arena {
	struct arena_chunk *head;
};

enum { ARENA_CHUNK = 64 * 1024 };

static void *arena_alloc(struct prom_arena *a, size_t n)
{
	struct arena_chunk *c = a->head;
	size_t align = sizeof(max_align_t);

	n = (n + align - 1) / align * align;
	if (!c || c->size - c->used < n) {
		size_t size = n > ARENA_CHUNK ? n : ARENA_CHUNK;
		c = xmalloc(sizeof(*c) + size);
		c->size = size;
		c->used = 0;
		c->next = a->head;
		a->head = c;
	}
	c->used += n;
	return (char *)c->data + c->used - n;
}

static char *arena_strndup(struct prom_arena *a, const char *s, size_t n)
{
	char *d = arena_alloc(a, n + 1);

	memcpy(d, s, n);
	d[n] = '\0';
	return d;
}

static void arena_free(struct prom_arena *a)
{
	while (a && a->head) {
		struct arena_chunk *c = a->head;
		a->head = c->next;
		free(c);
	}
	free(a);
}

/* ---- the parser's state ---- */

/* What the parser knows of a family beyond what the document shows. */
struct fam_seen {
	bool type, help, unit, samples;
};

struct parser {
	struct prom_doc *doc;
	bool om;                 /* OpenMetrics rules */
	const char *line;        /* the current line, without its newline */
	size_t len;              /* its length */
	size_t pos;              /* the next byte to read */
	size_t line_no;          /* 1-based */
	bool eof_seen;           /* "# EOF" read (OpenMetrics) */
	bool has_nul;            /* the text holds a NUL byte somewhere */
	size_t current;          /* the family of the last TYPE/HELP/sample line, SIZE_MAX none */
	struct fam_seen *seen;   /* parallel to doc->families */
	size_t alloc_seen;
	struct prom_label *labels; /* the line's labels, before they are committed */
	size_t n_labels, alloc_labels;
	size_t prev;             /* the last sample committed (its strings are reused), SIZE_MAX none */
	char problem[200];       /* the line's problem */
	size_t problem_col;      /* 1-based */
};

static int fail(struct parser *p, size_t col, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

static int fail(struct parser *p, size_t col, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(p->problem, sizeof(p->problem), fmt, ap);
	va_end(ap);
	p->problem_col = col + 1;
	return -1;
}

static int peek(const struct parser *p)
{
	return p->pos < p->len ? (unsigned char)p->line[p->pos] : -1;
}

static bool is_blank(int c)
{
	return c == ' ' || c == '\t';
}

/* The text format allows runs of blanks between tokens; OpenMetrics one
 * space, which this also accepts. */
static size_t skip_blanks(struct parser *p)
{
	size_t start = p->pos;

	while (is_blank(peek(p)))
		p->pos++;
	return p->pos - start;
}

/* Bit 1: may be in a label name, bit 2: in a metric name (':' only
 * there); name_start() says what may come first. */
static const unsigned char name_chars[256] = {
	['0'] = 3, ['1'] = 3, ['2'] = 3, ['3'] = 3, ['4'] = 3, ['5'] = 3, ['6'] = 3, ['7'] = 3, ['8'] = 3,
	['9'] = 3, ['A'] = 3, ['B'] = 3, ['C'] = 3, ['D'] = 3, ['E'] = 3, ['F'] = 3, ['G'] = 3, ['H'] = 3,
	['I'] = 3, ['J'] = 3, ['K'] = 3, ['L'] = 3, ['M'] = 3, ['N'] = 3, ['O'] = 3, ['P'] = 3, ['Q'] = 3,
	['R'] = 3, ['S'] = 3, ['T'] = 3, ['U'] = 3, ['V'] = 3, ['W'] = 3, ['X'] = 3, ['Y'] = 3, ['Z'] = 3,
	['_'] = 3, ['a'] = 3, ['b'] = 3, ['c'] = 3, ['d'] = 3, ['e'] = 3, ['f'] = 3, ['g'] = 3, ['h'] = 3,
	['i'] = 3, ['j'] = 3, ['k'] = 3, ['l'] = 3, ['m'] = 3, ['n'] = 3, ['o'] = 3, ['p'] = 3, ['q'] = 3,
	['r'] = 3, ['s'] = 3, ['t'] = 3, ['u'] = 3, ['v'] = 3, ['w'] = 3, ['x'] = 3, ['y'] = 3, ['z'] = 3,
	[':'] = 2,
};

static bool name_start(int c, bool colon)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || c == '_' || (colon && c == ':');
}

static bool name_char(int c, bool colon)
{
	return name_chars[c] & (colon ? 2 : 1);
}

/* A metric name (colon true) or label name at p->pos; its length, 0 if none. */
static size_t read_name(struct parser *p, bool colon)
{
	const char *s = p->line + p->pos, *end = p->line + p->len, *at = s;

	if (s == end || !name_start((unsigned char)*s, colon))
		return 0;
	/* the hottest loop of a parse: on the bytes, not through peek() */
	for (s++; s < end && name_char((unsigned char)*s, colon); s++)
		;
	p->pos += (size_t)(s - at);
	return (size_t)(s - at);
}

/* A quoted string at p->pos (the opening quote), unescaped into the arena.
 * Escapes: \\ \" \n.  Returns NULL (with the problem set) when malformed. */
static const char *read_quoted(struct parser *p, const char *what)
{
	size_t start = p->pos + 1, n = 0;
	const char *q = memchr(p->line + start, '"', p->len - start);
	char *out;

	/* Most values have no escape: one memchr finds the end. */
	if (q && !memchr(p->line + start, '\\', (size_t)(q - p->line) - start)) {
		n = (size_t)(q - p->line) - start;
		p->pos = start + n + 1;
		return arena_strndup(p->doc->arena, p->line + start, n);
	}
	/* Find the end first: the unescaped string is never longer. */
	for (size_t i = start; i < p->len; i++) {
		if (p->line[i] == '\\') {
			i++;
			continue;
		}
		if (p->line[i] == '"') {
			n = i - start;
			goto found;
		}
	}
	fail(p, p->pos, "unterminated %s (no closing '\"')", what);
	return NULL;
found:
	out = arena_alloc(p->doc->arena, n + 1);
	{
		size_t o = 0;
		for (size_t i = start; i < start + n; i++) {
			char c = p->line[i];
			if (c == '\\') {
				char e = p->line[++i];
				if (e == '\\' || e == '"')
					c = e;
				else if (e == 'n')
					c = '\n';
				else {
					fail(p, i - 1, "unknown escape '\\%c' in %s (only \\\\, \\\" and \\n)",
					     isprint((unsigned char)e) ? e : '?', what);
					return NULL;
				}
			}
			out[o++] = c;
		}
		out[o] = '\0';
	}
	p->pos = start + n + 1;
	return out;
}

/* A token up to the next blank or the end of the line. */
static size_t read_token(struct parser *p)
{
	size_t start = p->pos;

	while (p->pos < p->len && !is_blank(peek(p)))
		p->pos++;
	return p->pos - start;
}

static bool ci_equal(const char *s, size_t n, const char *word)
{
	return strlen(word) == n && strncasecmp(s, word, n) == 0;
}

/*
 * The common case, a plain decimal ("12", "0.4275", "-3.5") of at most 15
 * significant digits: the digits as an integer divided by a power of ten.
 * Both are exact doubles, so the one division is correctly rounded: the
 * same double strtod gives, several times faster.
 */
static bool fast_decimal(const char *s, size_t n, double *out)
{
	static const double pow10[] = { 1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8,  1e9,  1e10, 1e11,
					1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18, 1e19, 1e20, 1e21, 1e22 };
	uint64_t m = 0;
	size_t i = 0, digits = 0, frac = 0;
	bool neg = false, dot = false, any = false;

	if (n && (s[0] == '-' || s[0] == '+'))
		neg = s[i++] == '-';
	for (; i < n; i++) {
		char c = s[i];
		if (c >= '0' && c <= '9') {
			any = true;
			frac += dot;
			if (m == 0 && c == '0')
				continue; /* a leading zero is not a significant digit */
			if (++digits > 15)
				return false;
			m = m * 10 + (uint64_t)(c - '0');
		} else if (c == '.' && !dot) {
			dot = true;
		} else {
			return false;
		}
	}
	if (!any || frac >= ARRAY_SIZE(pow10))
		return false;
	*out = frac ? (double)m / pow10[frac] : (double)m;
	if (neg)
		*out = -*out;
	return true;
}

/*
 * A float as the format writes it: [+-]digits[.digits][e[+-]digits] (or
 * .digits), NaN, +Inf, -Inf; the text format also takes Inf, inf, nan and
 * infinity in any case, as Go's ParseFloat does.  Hexadecimal floats,
 * which strtod would take, are refused.
 */
static bool parse_float(const char *s, size_t n, bool om, double *out)
{
	char buf[128];
	char *end;
	size_t i = 0, digits = 0;

	if (n == 0 || n >= sizeof(buf))
		return false;
	if (fast_decimal(s, n, out))
		return true;
	if (om) {
		if (n == 3 && memcmp(s, "NaN", 3) == 0)
			return *out = NAN, true;
		if (n == 4 && memcmp(s, "+Inf", 4) == 0)
			return *out = INFINITY, true;
		if (n == 4 && memcmp(s, "-Inf", 4) == 0)
			return *out = -INFINITY, true;
	} else {
		const char *t = s + (s[0] == '+' || s[0] == '-');
		size_t tn = n - (size_t)(t - s);
		if (t == s && ci_equal(t, tn, "nan"))
			return *out = NAN, true;
		if (ci_equal(t, tn, "inf") || ci_equal(t, tn, "infinity"))
			return *out = s[0] == '-' ? -INFINITY : INFINITY, true;
	}
	if (s[i] == '+' || s[i] == '-')
		i++;
	while (i < n && isdigit((unsigned char)s[i]))
		i++, digits++;
	if (i < n && s[i] == '.') {
		i++;
		while (i < n && isdigit((unsigned char)s[i]))
			i++, digits++;
	}
	if (digits == 0)
		return false;
	if (i < n && (s[i] == 'e' || s[i] == 'E')) {
		size_t exp_digits = 0;
		i++;
		if (i < n && (s[i] == '+' || s[i] == '-'))
			i++;
		while (i < n && isdigit((unsigned char)s[i]))
			i++, exp_digits++;
		if (exp_digits == 0)
			return false;
	}
	if (i != n)
		return false;
	memcpy(buf, s, n);
	buf[n] = '\0';
	errno = 0;
	*out = strtod(buf, &end);
	/* ERANGE on underflow gives a denormal or 0, which is the value; on
	 * overflow HUGE_VAL, which Go's parser would refuse: so do we. */
	return end == buf + n && !(errno == ERANGE && isinf(*out));
}

/* Text format: integer milliseconds; OpenMetrics: seconds, a float. */
static bool parse_timestamp(const char *s, size_t n, bool om, double *out)
{
	if (om)
		return parse_float(s, n, true, out) && isfinite(*out);
	{
		char buf[32];
		char *end;
		long long ms;

		if (n == 0 || n >= sizeof(buf))
			return false;
		for (size_t i = 0; i < n; i++)
			if (!isdigit((unsigned char)s[i]) && !(i == 0 && (s[i] == '-' || s[i] == '+')))
				return false;
		memcpy(buf, s, n);
		buf[n] = '\0';
		errno = 0;
		ms = strtoll(buf, &end, 10);
		if (errno != 0 || end != buf + n)
			return false;
		*out = (double)ms / 1000.0;
		return true;
	}
}

/* ---- families ---- */

static uint64_t hash_name(const char *s, size_t n)
{
	uint64_t h = 1469598103934665603ULL; /* FNV-1a */

	for (size_t i = 0; i < n; i++) {
		h ^= (unsigned char)s[i];
		h *= 1099511628211ULL;
	}
	return h;
}

/* The family named exactly s[0..n), or SIZE_MAX. */
static size_t family_find(const struct prom_doc *d, const char *s, size_t n)
{
	size_t mask, i;

	if (!d->index_size)
		return SIZE_MAX;
	mask = d->index_size - 1;
	for (i = (size_t)hash_name(s, n) & mask; d->index[i]; i = (i + 1) & mask) {
		const char *name = d->families[d->index[i] - 1].name;
		if (strncmp(name, s, n) == 0 && name[n] == '\0')
			return d->index[i] - 1;
	}
	return SIZE_MAX;
}

static void index_insert(struct prom_doc *d, size_t fam)
{
	const char *name = d->families[fam].name;
	size_t mask = d->index_size - 1, i;

	for (i = (size_t)hash_name(name, strlen(name)) & mask; d->index[i]; i = (i + 1) & mask)
		;
	d->index[i] = fam + 1;
}

static size_t family_add(struct parser *p, const char *s, size_t n)
{
	struct prom_doc *d = p->doc;
	size_t fam = d->n_families;

	XGROW(d->families, d->alloc_families, fam + 1);
	XGROW(p->seen, p->alloc_seen, fam + 1);
	d->families[fam] = (struct prom_family){ .name = arena_strndup(d->arena, s, n), .type = PROM_UNTYPED,
						 .first = SIZE_MAX, .last = SIZE_MAX };
	p->seen[fam] = (struct fam_seen){ .type = false };
	d->n_families++;
	if (d->n_families * 2 > d->index_size) {
		free(d->index);
		d->index_size = d->index_size ? d->index_size * 2 : 64;
		d->index = xcalloc(d->index_size, sizeof(*d->index));
		for (size_t f = 0; f < d->n_families; f++)
			index_insert(d, f);
	} else {
		index_insert(d, fam);
	}
	return fam;
}

/* ---- comment lines ---- */

static const char *const type_names[] = {
	[PROM_UNTYPED] = "untyped",     [PROM_COUNTER] = "counter", [PROM_GAUGE] = "gauge",
	[PROM_HISTOGRAM] = "histogram", [PROM_GAUGE_HISTOGRAM] = "gaugehistogram",
	[PROM_SUMMARY] = "summary",     [PROM_INFO] = "info",        [PROM_STATESET] = "stateset",
};

const char *prom_type_name(enum prom_type t)
{
	return (size_t)t < ARRAY_SIZE(type_names) ? type_names[t] : "untyped";
}

static bool type_parse(const char *s, size_t n, bool om, enum prom_type *out)
{
	for (size_t t = 0; t < ARRAY_SIZE(type_names); t++) {
		if (strlen(type_names[t]) != n || memcmp(type_names[t], s, n) != 0)
			continue;
		if (t == PROM_UNTYPED && om)
			return false; /* OpenMetrics says "unknown" */
		if ((t == PROM_GAUGE_HISTOGRAM || t == PROM_INFO || t == PROM_STATESET) && !om)
			return false;
		*out = (enum prom_type)t;
		return true;
	}
	if (om && n == 7 && memcmp(s, "unknown", 7) == 0) {
		*out = PROM_UNTYPED;
		return true;
	}
	return false;
}

/* HELP's docstring: the rest of the line, escapes \\ and \n (and \" in
 * OpenMetrics, which the text format also tolerates). */
static const char *read_help(struct parser *p)
{
	size_t n = p->len - p->pos;
	char *out = arena_alloc(p->doc->arena, n + 1), *o = out;

	for (size_t i = p->pos; i < p->len; i++) {
		char c = p->line[i];
		if (c == '\\') {
			char e = i + 1 < p->len ? p->line[i + 1] : '\0';
			if (e == '\\' || e == '"')
				c = e;
			else if (e == 'n')
				c = '\n';
			else {
				fail(p, i, "unknown escape in HELP text (only \\\\, \\\" and \\n)");
				return NULL;
			}
			i++;
		}
		*o++ = c;
	}
	*o = '\0';
	p->pos = p->len;
	return out;
}

/* "# HELP", "# TYPE", "# UNIT", "# EOF" or a plain comment; p->pos is after '#'. */
static int comment_line(struct parser *p)
{
	size_t kw_at, kw_len, name_at, name_len, fam;
	const char *kw;
	const char *help = NULL;
	enum prom_type type = PROM_UNTYPED;
	size_t unit_at = 0, unit_len = 0;

	if (skip_blanks(p) == 0 && p->pos < p->len)
		return 0; /* "#HELP ...": a comment */
	kw_at = p->pos;
	kw_len = read_token(p);
	kw = p->line + kw_at;
	if (kw_len == 3 && memcmp(kw, "EOF", 3) == 0 && p->om) {
		if (skip_blanks(p) || p->pos < p->len)
			return fail(p, kw_at, "'# EOF' takes nothing after it");
		p->eof_seen = true;
		return 0;
	}
	if (!((kw_len == 4 && (memcmp(kw, "HELP", 4) == 0 || memcmp(kw, "TYPE", 4) == 0)) ||
	      (kw_len == 4 && p->om && memcmp(kw, "UNIT", 4) == 0)))
		return 0; /* a comment */
	if (skip_blanks(p) == 0)
		return fail(p, p->pos, "expected a metric name after '# %.4s'", kw);
	name_at = p->pos;
	name_len = read_name(p, true);
	if (name_len == 0)
		return fail(p, name_at, "expected a metric name after '# %.4s'", kw);
	if (p->pos < p->len && skip_blanks(p) == 0)
		return fail(p, p->pos, "invalid character in metric name");
	if (kw[0] == 'H') {
		if (!(help = read_help(p)))
			return -1;
	} else if (kw[0] == 'T') {
		size_t t_at = p->pos, t_len = read_token(p);
		if (t_len == 0)
			return fail(p, t_at, "expected a metric type after the name");
		if (!type_parse(p->line + t_at, t_len, p->om, &type))
			return fail(p, t_at, "unknown metric type '%.*s'", (int)(t_len < 40 ? t_len : 40),
				    p->line + t_at);
		skip_blanks(p);
		if (p->pos < p->len)
			return fail(p, p->pos, "unexpected text after the metric type");
	} else {
		unit_at = p->pos;
		unit_len = read_token(p);
		skip_blanks(p);
		if (p->pos < p->len)
			return fail(p, p->pos, "unexpected text after the unit");
	}

	/* The line is good: commit. */
	fam = family_find(p->doc, p->line + name_at, name_len);
	if (fam == SIZE_MAX)
		fam = family_add(p, p->line + name_at, name_len);
	if (kw[0] == 'H') {
		if (p->seen[fam].help)
			return fail(p, name_at, "second HELP line for '%s'", p->doc->families[fam].name);
		p->seen[fam].help = true;
		p->doc->families[fam].help = help;
	} else if (kw[0] == 'T') {
		if (p->seen[fam].type)
			return fail(p, name_at, "second TYPE line for '%s'", p->doc->families[fam].name);
		if (p->seen[fam].samples)
			return fail(p, name_at, "TYPE line for '%s' after its samples", p->doc->families[fam].name);
		p->seen[fam].type = true;
		p->doc->families[fam].type = type;
	} else {
		if (p->seen[fam].unit)
			return fail(p, name_at, "second UNIT line for '%s'", p->doc->families[fam].name);
		p->seen[fam].unit = true;
		p->doc->families[fam].unit = arena_strndup(p->doc->arena, p->line + unit_at, unit_len);
	}
	p->current = fam;
	return 0;
}

/* ---- sample lines ---- */

static void label_push(struct parser *p, const char *name, const char *value)
{
	XGROW(p->labels, p->alloc_labels, p->n_labels + 1);
	p->labels[p->n_labels++] = (struct prom_label){ .name = name, .value = value };
}

/* '{' labels '}', p->pos at '{'.  A quoted string not followed by '=' is
 * the metric name (Prometheus 3's UTF-8 form); *name gets it. */
static int read_labels(struct parser *p, const char **name)
{
	p->pos++; /* '{' */
	for (bool first = true;; first = false) {
		size_t at;
		const char *lname, *value;

		skip_blanks(p);
		if (peek(p) == '}') {
			p->pos++;
			return 0;
		}
		at = p->pos;
		if (peek(p) == '"') {
			if (!(lname = read_quoted(p, "quoted name")))
				return -1;
			skip_blanks(p);
			if (first && (peek(p) == ',' || peek(p) == '}')) {
				if (*name)
					return fail(p, at, "the metric is named twice");
				*name = lname;
				if (peek(p) == ',')
					p->pos++;
				continue;
			}
		} else {
			size_t n = read_name(p, false);
			const struct prom_sample *prev = p->prev == SIZE_MAX ? NULL : &p->doc->samples[p->prev];
			if (n == 0)
				return fail(p, at, peek(p) < 0 ? "unterminated label set (no '}')"
								: "expected a label name or '}'");
			/* consecutive samples mostly share their label names */
			if (prev && p->n_labels < prev->n_labels &&
			    strncmp(prev->labels[p->n_labels].name, p->line + at, n) == 0 &&
			    prev->labels[p->n_labels].name[n] == '\0')
				lname = prev->labels[p->n_labels].name;
			else
				lname = arena_strndup(p->doc->arena, p->line + at, n);
			skip_blanks(p);
		}
		if (peek(p) != '=')
			return fail(p, p->pos, "expected '=' after label name '%.60s'", lname);
		p->pos++;
		skip_blanks(p);
		if (peek(p) != '"')
			return fail(p, p->pos, "expected '\"' to open the value of label '%.60s'", lname);
		if (!(value = read_quoted(p, "label value")))
			return -1;
		for (size_t i = 0; i < p->n_labels; i++)
			if (strcmp(p->labels[i].name, lname) == 0)
				return fail(p, at, "label '%.60s' appears twice", lname);
		label_push(p, lname, value);
		skip_blanks(p);
		if (peek(p) == ',') {
			p->pos++;
			continue;
		}
		if (peek(p) != '}')
			return fail(p, p->pos, peek(p) < 0 ? "unterminated label set (no '}')"
							   : "expected ',' or '}' after a label");
	}
}

/* A sample name's suffix: which family it belongs to and in what role. */
struct suffix {
	const char *text;
	enum prom_role role;
};

static bool role_fits(enum prom_type t, const char *suffix, enum prom_role *role, bool om)
{
	static const struct suffix hist[] = { { "_bucket", PROM_ROLE_BUCKET }, { "_sum", PROM_ROLE_SUM },
					      { "_count", PROM_ROLE_COUNT }, { "_created", PROM_ROLE_CREATED } };
	static const struct suffix ghist[] = { { "_bucket", PROM_ROLE_BUCKET }, { "_gsum", PROM_ROLE_SUM },
					       { "_gcount", PROM_ROLE_COUNT } };
	static const struct suffix summ[] = { { "", PROM_ROLE_QUANTILE }, { "_sum", PROM_ROLE_SUM },
					      { "_count", PROM_ROLE_COUNT }, { "_created", PROM_ROLE_CREATED } };
	static const struct suffix counter[] = { { "", PROM_ROLE_VALUE }, { "_total", PROM_ROLE_VALUE },
						 { "_created", PROM_ROLE_CREATED } };
	static const struct suffix info[] = { { "_info", PROM_ROLE_VALUE } };
	static const struct suffix plain[] = { { "", PROM_ROLE_VALUE } };
	const struct suffix *list = plain;
	size_t n = 1;

	switch (t) {
	case PROM_HISTOGRAM: list = hist, n = ARRAY_SIZE(hist); break;
	case PROM_GAUGE_HISTOGRAM: list = ghist, n = ARRAY_SIZE(ghist); break;
	case PROM_SUMMARY: list = summ, n = ARRAY_SIZE(summ); break;
	case PROM_COUNTER: list = counter, n = om ? ARRAY_SIZE(counter) : 1; break;
	case PROM_INFO: list = info, n = 1; break;
	default: break;
	}
	/* A text-format counter's family is its sample's name ("x_total"),
	 * but counters from a client that writes the OpenMetrics naming
	 * into text (TYPE x counter, x_total) are common enough to take. */
	if (t == PROM_COUNTER && !om)
		n = 2;
	for (size_t i = 0; i < n; i++)
		if (strcmp(list[i].text, suffix) == 0) {
			*role = list[i].role;
			return true;
		}
	return false;
}

/* Which family a sample named `name` belongs to, and its role; a new
 * untyped family when none fits. */
static size_t sample_family(struct parser *p, const char *name, enum prom_role *role)
{
	static const char *const suffixes[] = { "_bucket", "_count", "_sum", "_total", "_created",
						"_gcount", "_gsum", "_info" };
	size_t n = strlen(name), fam;

	/* Most samples follow their family's TYPE line: try it first. */
	if (p->current != SIZE_MAX) {
		const char *fn = p->doc->families[p->current].name;
		size_t fl = strlen(fn);
		if (strncmp(name, fn, fl) == 0 && role_fits(p->doc->families[p->current].type, name + fl, role, p->om))
			return p->current;
	}
	fam = family_find(p->doc, name, n);
	if (fam != SIZE_MAX && role_fits(p->doc->families[fam].type, "", role, p->om))
		return fam;
	for (size_t i = 0; i < ARRAY_SIZE(suffixes); i++) {
		size_t sl = strlen(suffixes[i]), base;
		if (n <= sl || strcmp(name + n - sl, suffixes[i]) != 0)
			continue;
		base = family_find(p->doc, name, n - sl);
		if (base != SIZE_MAX && role_fits(p->doc->families[base].type, suffixes[i], role, p->om))
			return base;
	}
	if (fam != SIZE_MAX)
		return SIZE_MAX; /* the name is a family whose type wants a suffix */
	*role = PROM_ROLE_VALUE;
	return family_add(p, name, n);
}

/* OpenMetrics exemplar: " # {labels} value [timestamp]"; checked, not kept. */
static int read_exemplar(struct parser *p)
{
	size_t n_before = p->n_labels, at;
	const char *name = NULL;
	double v;

	p->pos++; /* '#' */
	if (skip_blanks(p) == 0 || peek(p) != '{')
		return fail(p, p->pos, "expected '{' to open an exemplar's labels");
	if (read_labels(p, &name) != 0)
		return -1;
	p->n_labels = n_before;
	if (name)
		return fail(p, p->pos, "an exemplar has no metric name");
	if (skip_blanks(p) == 0)
		return fail(p, p->pos, "expected the exemplar's value");
	at = p->pos;
	if (!parse_float(p->line + at, read_token(p), true, &v))
		return fail(p, at, "the exemplar's value is not a number");
	if (skip_blanks(p) && p->pos < p->len) {
		at = p->pos;
		if (!parse_timestamp(p->line + at, read_token(p), true, &v))
			return fail(p, at, "the exemplar's timestamp is not a number");
	}
	if (p->pos < p->len)
		return fail(p, p->pos, "unexpected text after the exemplar");
	return 0;
}

static int sample_line(struct parser *p)
{
	struct prom_sample s = { .bound = NAN };
	const char *name = NULL;
	size_t at = p->pos, n, fam, blanks;
	const char *bound_label = NULL;

	p->n_labels = 0;
	n = read_name(p, true);
	if (n && p->prev != SIZE_MAX && strncmp(p->doc->samples[p->prev].name, p->line + at, n) == 0 &&
	    p->doc->samples[p->prev].name[n] == '\0')
		name = p->doc->samples[p->prev].name;
	else if (n)
		name = arena_strndup(p->doc->arena, p->line + at, n);
	else if (peek(p) != '{')
		return fail(p, at, "expected a metric name");
	blanks = p->om ? 0 : skip_blanks(p);
	if (peek(p) == '{') {
		if (read_labels(p, &name) != 0)
			return -1;
		blanks = 0;
	}
	if (!name)
		return fail(p, at, "the sample has no metric name");
	blanks += skip_blanks(p);
	if (blanks == 0 && p->pos < p->len && p->line[p->pos - 1] != '}')
		return fail(p, p->pos, "invalid character in metric name");
	if (p->pos >= p->len)
		return fail(p, p->pos, "expected a value after the metric");
	at = p->pos;
	n = read_token(p);
	if (!parse_float(p->line + at, n, p->om, &s.value))
		return fail(p, at, "the value '%.*s' is not a number", (int)(n < 40 ? n : 40), p->line + at);
	if (skip_blanks(p) && p->pos < p->len && peek(p) != '#') {
		at = p->pos;
		n = read_token(p);
		if (!parse_timestamp(p->line + at, n, p->om, &s.timestamp))
			return fail(p, at, "the timestamp '%.*s' is not %s", (int)(n < 40 ? n : 40), p->line + at,
				    p->om ? "a number of seconds" : "an integer of milliseconds");
		s.has_timestamp = true;
		skip_blanks(p);
	}
	if (p->om && peek(p) == '#' && read_exemplar(p) != 0)
		return -1;
	if (p->pos < p->len)
		return fail(p, p->pos, "unexpected text after the value");

	fam = sample_family(p, name, &s.role);
	if (fam == SIZE_MAX)
		return fail(p, 0, "sample '%.80s' of %s '%.80s' needs a suffix such as _bucket, _sum or _count", name,
			    prom_type_name(p->doc->families[family_find(p->doc, name, strlen(name))].type), name);
	if (s.role == PROM_ROLE_BUCKET)
		bound_label = "le";
	else if (s.role == PROM_ROLE_QUANTILE)
		bound_label = "quantile";
	if (bound_label) {
		const char *b = NULL;
		for (size_t i = 0; i < p->n_labels; i++)
			if (strcmp(p->labels[i].name, bound_label) == 0)
				b = p->labels[i].value;
		if (!b)
			return fail(p, 0, "'%.80s' has no '%s' label", name, bound_label);
		if (!parse_float(b, strlen(b), false, &s.bound) || isnan(s.bound))
			return fail(p, 0, "'%.80s': %s=\"%.40s\" is not a number", name, bound_label, b);
	}
	s.name = name;
	s.family = fam;
	s.n_labels = p->n_labels;
	if (p->n_labels) {
		struct prom_label *l = arena_alloc(p->doc->arena, p->n_labels * sizeof(*l));
		memcpy(l, p->labels, p->n_labels * sizeof(*l));
		s.labels = l;
	}
	p->seen[fam].samples = true;
	p->current = fam;
	s.next = SIZE_MAX;
	XGROW(p->doc->samples, p->doc->alloc_samples, p->doc->n_samples + 1);
	p->doc->samples[p->doc->n_samples++] = s;
	p->prev = p->doc->n_samples - 1;
	{
		struct prom_family *f = &p->doc->families[fam];
		if (f->first == SIZE_MAX)
			f->first = p->prev;
		else
			p->doc->samples[f->last].next = p->prev;
		f->last = p->prev;
	}
	return 0;
}

static int parse_line(struct parser *p)
{
	p->pos = 0;
	if (p->eof_seen)
		return fail(p, 0, "text after '# EOF'");
	if (p->has_nul && memchr(p->line, '\0', p->len))
		return fail(p, (size_t)((const char *)memchr(p->line, '\0', p->len) - p->line), "NUL byte");
	if (!p->om)
		skip_blanks(p);
	if (p->pos == p->len)
		return p->om ? fail(p, 0, "empty line (OpenMetrics has none)") : 0;
	if (peek(p) == '#') {
		p->pos++;
		return comment_line(p);
	}
	return sample_line(p);
}

static bool blank_line(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!is_blank(s[i]))
			return false;
	return true;
}

/* OpenMetrics is recognised by its last line. */
static enum prom_format detect(const char *text, size_t len)
{
	while (len > 0 && (text[len - 1] == '\n' || text[len - 1] == '\r' || is_blank(text[len - 1])))
		len--;
	if (len >= 5 && memcmp(text + len - 5, "# EOF", 5) == 0 && (len == 5 || text[len - 6] == '\n'))
		return PROM_FORMAT_OPENMETRICS;
	return PROM_FORMAT_TEXT;
}

static void problem_text(struct parser *p, char *buf, size_t len)
{
	snprintf(buf, len, "line %zu, column %zu: %s", p->line_no, p->problem_col, p->problem);
}

/* A bad line: fatal when strict, counted when lenient. */
static int bad_line(struct parser *p, bool lenient, struct err *err)
{
	if (!lenient) {
		char msg[300];
		problem_text(p, msg, sizeof(msg));
		return err_set(err, ERR_INPUT, "%s", msg);
	}
	if (p->doc->bad_lines++ == 0)
		problem_text(p, p->doc->first_problem, sizeof(p->doc->first_problem));
	return 0;
}

int prom_parse(struct prom_doc **out, const char *text, size_t len, const struct prom_parse_options *opts,
	       struct err *err)
{
	struct prom_parse_options o = opts ? *opts : (struct prom_parse_options)PROM_PARSE_OPTIONS_INIT;
	struct parser p = { .current = SIZE_MAX, .prev = SIZE_MAX };
	struct prom_doc *d = xcalloc(1, sizeof(*d));
	size_t at = 0;
	int rc = 0;

	*out = NULL;
	d->arena = xcalloc(1, sizeof(*d->arena));
	d->format = o.format == PROM_FORMAT_AUTO ? detect(text, len) : o.format;
	p.doc = d;
	p.om = d->format == PROM_FORMAT_OPENMETRICS;
	p.has_nul = memchr(text, '\0', len) != NULL;
	while (at < len) {
		const char *nl = memchr(text + at, '\n', len - at);
		size_t end = nl ? (size_t)(nl - text) : len;

		p.line = text + at;
		p.len = end - at;
		p.line_no++;
		if (p.len && p.line[p.len - 1] == '\r')
			p.len--; /* CR LF from a proxy or a hand-written file */
		if (!nl && !p.om && !blank_line(p.line, p.len)) {
			/* A text-format body ends with a newline: without it the last
			 * line may be cut short ("12" of "1234"), so it is not used. */
			fail(&p, p.len, "the last line has no newline (the body was cut short?)");
			if ((rc = bad_line(&p, o.lenient, err)) != 0)
				goto done;
		} else if (parse_line(&p) != 0) {
			if ((rc = bad_line(&p, o.lenient, err)) != 0)
				goto done;
		}
		at = nl ? end + 1 : len;
	}
	if (p.om && !p.eof_seen) {
		p.line_no++;
		fail(&p, 0, "no '# EOF' at the end (the body was cut short?)");
		if ((rc = bad_line(&p, o.lenient, err)) != 0)
			goto done;
	}
	*out = d;
	d = NULL;
done:
	free(p.seen);
	free(p.labels);
	prom_doc_free(d);
	return rc;
}

void prom_doc_free(struct prom_doc *d)
{
	if (!d)
		return;
	arena_free(d->arena);
	free(d->families);
	free(d->samples);
	free(d->index);
	free(d);
}

enum prom_format prom_format_of_content_type(const char *ct)
{
	if (ct) {
		while (*ct == ' ')
			ct++;
		if (strncasecmp(ct, "application/openmetrics-text", 28) == 0)
			return PROM_FORMAT_OPENMETRICS;
	}
	return PROM_FORMAT_TEXT;
}

const char *prom_sample_label(const struct prom_sample *s, const char *name)
{
	for (size_t i = 0; i < s->n_labels; i++)
		if (strcmp(s->labels[i].name, name) == 0)
			return s->labels[i].value;
	return NULL;
}

const struct prom_family *prom_doc_family(const struct prom_doc *d, const char *name)
{
	size_t f = family_find(d, name, strlen(name));

	return f == SIZE_MAX ? NULL : &d->families[f];
}

const struct prom_family *prom_doc_family2(const struct prom_doc *d, const char *name, const char *suffix)
{
	char buf[512];
	size_t n = strlen(name), k = strlen(suffix), f;

	if (n + k >= sizeof(buf))
		return NULL; /* no family name is that long in practice; none is found */
	memcpy(buf, name, n);
	memcpy(buf + n, suffix, k + 1);
	f = family_find(d, buf, n + k);
	return f == SIZE_MAX ? NULL : &d->families[f];
}
