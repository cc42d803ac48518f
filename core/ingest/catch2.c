/*
 * ingest_catch2.c: Catch2's XML reporter (--reporter xml), v2 and v3.
 *
 *   <Catch2TestRun ...>            (v2: <Catch ...><Group ...>)
 *     <TestCase name="..." ...>
 *       <Section name="...">        (optional, nested)
 *         <BenchmarkResults name="..." samples="100" resamples="100000"
 *                           iterations="1" clockResolution="..." estimatedDuration="...">
 *           <!-- All values in nano seconds -->
 *           <mean value="..." lowerBound="..." upperBound="..." ci="0.95"/>
 *           <standardDeviation value="..." .../>
 *           <outliers variance="..." lowMild="..." .../>
 *           (or <failed message="..."/>)
 *         </BenchmarkResults>
 *
 * Catch2 writes only estimates, not its samples, so "time" (the mean, in s)
 * has one sample per run marked as an aggregate, with the bounds, standard
 * deviation and sample count in the metric's extra.  Benchmarks are named
 * "TestCase/Section/.../benchmark".
 *
 * The XML reader is minimal and strict: elements, attributes (quoted),
 * the five predefined entities and character references, comments,
 * processing instructions, CDATA and a DOCTYPE without an internal subset.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ingest.h"
#include "../util.h"

#define MAX_DEPTH 64
#define MAX_ATTRS 32

struct xattr {
	char *name;
	char *value;
};

struct xml {
	const char *p, *end, *start;
	char *stack[MAX_DEPTH];   /* open element names */
	char *label[MAX_DEPTH];   /* TestCase/Section names at that depth, or NULL */
	size_t depth;
	struct xattr attr[MAX_ATTRS];
	size_t n_attr;
	const char *counted;      /* lines are counted up to here ... */
	size_t counted_line;      /* ... which is on this line */
};

/* Line of `at`; counting resumes where the last call stopped, so a pass
 * over the document costs O(n), not O(n) per tag. */
static size_t xml_line(struct xml *x, const char *at)
{
	if (!x->counted || at < x->counted) {
		x->counted = x->start;
		x->counted_line = 1;
	}
	for (; x->counted < at && x->counted < x->end; x->counted++)
		if (*x->counted == '\n')
			x->counted_line++;
	return x->counted_line;
}

static void attrs_clear(struct xml *x)
{
	for (size_t i = 0; i < x->n_attr; i++) {
		free(x->attr[i].name);
		free(x->attr[i].value);
	}
	x->n_attr = 0;
}

static const char *attr(const struct xml *x, const char *name)
{
	for (size_t i = 0; i < x->n_attr; i++)
		if (strcmp(x->attr[i].name, name) == 0)
			return x->attr[i].value;
	return NULL;
}

static bool name_char(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '_' ||
	       c == '-' || c == '.' || c == ':' || (unsigned char)c >= 0x80;
}

static void put_utf8(struct sb *sb, unsigned long cp)
{
	if (cp < 0x80) {
		sb_putc(sb, (char)cp);
	} else if (cp < 0x800) {
		sb_putc(sb, (char)(0xC0 | (cp >> 6)));
		sb_putc(sb, (char)(0x80 | (cp & 0x3F)));
	} else if (cp < 0x10000) {
		sb_putc(sb, (char)(0xE0 | (cp >> 12)));
		sb_putc(sb, (char)(0x80 | ((cp >> 6) & 0x3F)));
		sb_putc(sb, (char)(0x80 | (cp & 0x3F)));
	} else {
		sb_putc(sb, (char)(0xF0 | (cp >> 18)));
		sb_putc(sb, (char)(0x80 | ((cp >> 12) & 0x3F)));
		sb_putc(sb, (char)(0x80 | ((cp >> 6) & 0x3F)));
		sb_putc(sb, (char)(0x80 | (cp & 0x3F)));
	}
}

/* Decode an attribute value [p, e) with entities into a new string. */
static int decode(struct xml *x, const char *p, const char *e, char **out, struct err *err)
{
	static const struct {
		const char *name;
		char c;
	} ents[] = { { "lt", '<' }, { "gt", '>' }, { "amp", '&' }, { "quot", '"' }, { "apos", '\'' } };
	struct sb sb = SB_INIT;

	while (p < e) {
		const char *semi;
		size_t n;
		bool done = false;

		if (*p != '&') {
			sb_putc(&sb, *p++);
			continue;
		}
		semi = memchr(p, ';', (size_t)(e - p));
		if (!semi || semi - p > 10) {
			sb_release(&sb);
			return err_set(err, ERR_INPUT, "line %zu: '&' that does not start an entity",
				       xml_line(x, p));
		}
		n = (size_t)(semi - p - 1);
		for (size_t i = 0; i < ARRAY_SIZE(ents) && !done; i++) {
			if (strlen(ents[i].name) == n && strncmp(p + 1, ents[i].name, n) == 0) {
				sb_putc(&sb, ents[i].c);
				done = true;
			}
		}
		if (!done && n >= 2 && p[1] == '#') {
			char buf[12], *end;
			unsigned long cp;
			bool hex = p[2] == 'x' || p[2] == 'X';

			memcpy(buf, p + (hex ? 3 : 2), n - (hex ? 2 : 1));
			buf[n - (hex ? 2 : 1)] = '\0';
			cp = strtoul(buf, &end, hex ? 16 : 10);
			if (*buf && *end == '\0' && cp > 0 && cp <= 0x10FFFF) {
				put_utf8(&sb, cp);
				done = true;
			}
		}
		if (!done) {
			sb_release(&sb);
			return err_set(err, ERR_INPUT, "line %zu: unknown entity '%.*s'", xml_line(x, p),
				       (int)(n + 2), p);
		}
		p = semi + 1;
	}
	*out = sb.buf ? sb_detach(&sb) : xstrdup("");
	return 0;
}

/* Skip past `marker`, or fail as truncated. */
static int skip_past(struct xml *x, const char *marker, const char *what, struct err *err)
{
	size_t n = strlen(marker);
	const char *at = x->p;

	while (x->p + n <= x->end) {
		if (memcmp(x->p, marker, n) == 0) {
			x->p += n;
			return 0;
		}
		x->p++;
	}
	return err_set(err, ERR_INPUT, "line %zu: unterminated %s (truncated file?)", xml_line(x, at), what);
}

enum tok { TOK_END, TOK_OPEN, TOK_CLOSE, TOK_EMPTY };

static void skip_space(struct xml *x)
{
	while (x->p < x->end && (*x->p == ' ' || *x->p == '\t' || *x->p == '\n' || *x->p == '\r'))
		x->p++;
}

/* Move to the next '<' that starts an element, past comments, CDATA and
 * declarations: 1 there, 0 at the end of input, or a negative code. */
static int skip_to_tag(struct xml *x, struct err *err)
{
	static const struct {
		const char *open, *close, *what;
	} skips[] = {
		{ "<!--", "-->", "comment" },
		{ "<![CDATA[", "]]>", "CDATA section" },
		{ "<?", ">", "declaration" },
		{ "<!", ">", "declaration" },
	};
	int rc;

	for (;;) {
		const char *lt = memchr(x->p, '<', (size_t)(x->end - x->p));
		size_t i;

		if (!lt) {
			x->p = x->end;
			return 0;
		}
		x->p = lt;
		for (i = 0; i < ARRAY_SIZE(skips); i++) {
			size_t n = strlen(skips[i].open);

			if ((size_t)(x->end - x->p) >= n && memcmp(x->p, skips[i].open, n) == 0)
				break;
		}
		if (i == ARRAY_SIZE(skips))
			return 1;
		if ((rc = skip_past(x, skips[i].close, skips[i].what, err)) < 0)
			return rc;
	}
}

/* "</name>" with x->p past "</": TOK_CLOSE, *name set. */
static int end_tag(struct xml *x, char **name, struct err *err)
{
	const char *ns = x->p;

	while (x->p < x->end && name_char(*x->p))
		x->p++;
	if (x->p == ns)
		return err_set(err, ERR_INPUT, "line %zu: '</' without an element name", xml_line(x, ns));
	skip_space(x);
	if (x->p >= x->end || *x->p != '>')
		return err_set(err, ERR_INPUT, "line %zu: unterminated end tag (truncated file?)",
			       xml_line(x, ns));
	*name = xstrndup(ns, (size_t)(x->p - ns));
	x->p++;
	return TOK_CLOSE;
}

/* One attribute (NAME="value" or NAME='value') into x->attr, or the end of
 * the start tag: ATTR_MORE after an attribute, TOK_OPEN or TOK_EMPTY at the
 * end, ATTR_BAD (x->p at the fault), ATTR_TRUNCATED, or a negative code. */
enum { ATTR_MORE = 10, ATTR_BAD, ATTR_TRUNCATED };
static int next_attr(struct xml *x, struct err *err)
{
	const char *an, *ae, *vs;
	char q;
	int rc;

	skip_space(x);
	if (x->p >= x->end)
		return ATTR_TRUNCATED;
	if (*x->p == '>') {
		x->p++;
		return TOK_OPEN;
	}
	if (*x->p == '/') {
		if (x->p + 1 >= x->end)
			return ATTR_TRUNCATED;
		if (x->p[1] != '>')
			return ATTR_BAD;
		x->p += 2;
		return TOK_EMPTY;
	}
	an = x->p;
	while (x->p < x->end && name_char(*x->p))
		x->p++;
	ae = x->p;
	if (an == ae)
		return ATTR_BAD;
	skip_space(x);
	if (x->p >= x->end)
		return ATTR_TRUNCATED;
	if (*x->p != '=')
		return ATTR_BAD;
	x->p++;
	skip_space(x);
	if (x->p >= x->end)
		return ATTR_TRUNCATED;
	if (*x->p != '"' && *x->p != '\'')
		return ATTR_BAD;
	q = *x->p++;
	vs = x->p;
	while (x->p < x->end && *x->p != q && *x->p != '<')
		x->p++;
	if (x->p >= x->end)
		return ATTR_TRUNCATED;
	if (*x->p == '<')
		return ATTR_BAD;
	if (x->n_attr == MAX_ATTRS)
		return err_set(err, ERR_INPUT, "line %zu: more than %d attributes", xml_line(x, an), MAX_ATTRS);
	x->attr[x->n_attr].name = xstrndup(an, (size_t)(ae - an));
	x->attr[x->n_attr].value = NULL;
	x->n_attr++;
	x->p++;
	if ((rc = decode(x, vs, x->p - 1, &x->attr[x->n_attr - 1].value, err)) < 0)
		return rc;
	return ATTR_MORE;
}

/* Next element event: TOK_OPEN / TOK_EMPTY (attributes in x->attr, name
 * in *name), TOK_CLOSE (*name), TOK_END at the end of input. */
static int next_tag(struct xml *x, char **name, struct err *err)
{
	const char *ns;
	int rc;

	*name = NULL;
	attrs_clear(x);
	if ((rc = skip_to_tag(x, err)) <= 0)
		return rc < 0 ? rc : TOK_END;
	x->p++;
	if (x->p < x->end && *x->p == '/') {
		x->p++;
		return end_tag(x, name, err);
	}
	ns = x->p;
	while (x->p < x->end && name_char(*x->p))
		x->p++;
	if (x->p == ns)
		return err_set(err, ERR_INPUT, "line %zu: '<' without an element name", xml_line(x, ns));
	*name = xstrndup(ns, (size_t)(x->p - ns));
	while ((rc = next_attr(x, err)) == ATTR_MORE)
		;
	if (rc == TOK_OPEN || rc == TOK_EMPTY)
		return rc;
	if (rc == ATTR_TRUNCATED)
		rc = err_set(err, ERR_INPUT, "line %zu: unterminated <%s> tag (truncated file?)", xml_line(x, ns),
			     *name);
	else if (rc == ATTR_BAD)
		rc = err_set(err, ERR_INPUT, "line %zu: malformed attribute in <%s>", xml_line(x, x->p), *name);
	free(*name);
	*name = NULL;
	return rc;
}

struct pending {
	char *name;        /* full benchmark name */
	double mean_ns;
	bool have_mean;
	cJSON *extra;      /* bounds, stddev, samples... */
	char *failed;      /* message of <failed> */
	size_t line;
};

static int number_attr(const struct xml *x, const char *elem, const char *name, bool required,
		       size_t line, double *out, bool *present, struct err *err)
{
	const char *s = attr(x, name);
	char *end;

	*present = false;
	if (!s) {
		if (required)
			return err_set(err, ERR_INPUT, "line %zu: <%s> has no %s attribute", line, elem, name);
		return 0;
	}
	if (ingest_nonfinite_text(s))
		return err_set(err, ERR_INPUT, "line %zu: <%s %s=\"%s\">: not a finite number", line, elem,
			       name, s);
	*out = strtod(s, &end);
	if (end == s || *end != '\0')
		return err_set(err, ERR_INPUT, "line %zu: <%s %s=\"%s\">: not a number", line, elem, name, s);
	*present = true;
	return 0;
}

static char *bench_path(const struct xml *x, const char *bench)
{
	struct sb sb = SB_INIT;

	for (size_t i = 0; i < x->depth; i++) {
		if (x->label[i]) {
			sb_puts(&sb, x->label[i]);
			sb_putc(&sb, '/');
		}
	}
	sb_puts(&sb, bench);
	return sb_detach(&sb);
}

static void emit(struct rundoc *rd, struct pending *pb)
{
	char *name = ingest_unique_name(rd, pb->name);
	struct rd_bench *b = ingest_bench(rd, name, INGEST_CATCH2);

	free(name);
	if (pb->failed || !pb->have_mean) {
		rundoc_bench_fail(b, pb->failed ? pb->failed : "Catch2 wrote no mean for this benchmark");
	} else {
		struct rd_metric *m = ingest_metric(b, "time", "s", RD_LOWER);

		rundoc_metric_add_sample(m, pb->mean_ns * 1e-9);
		m->extra = pb->extra;
		pb->extra = NULL;
		ingest_mark_aggregate(m, "mean");
	}
}

static void pending_release(struct pending *pb)
{
	free(pb->name);
	free(pb->failed);
	cJSON_Delete(pb->extra);
	memset(pb, 0, sizeof(*pb));
}

/* The parse: the XML reader, the benchmark being read, the document. */
struct c2 {
	struct xml x;
	struct pending pb;
	bool in_bench;
	bool seen_root;
	struct rundoc *rd;
};

static void finish_bench(struct c2 *c)
{
	emit(c->rd, &c->pb);
	pending_release(&c->pb);
	c->in_bench = false;
}

/* </name>: it must close the innermost open element. */
static int close_elem(struct c2 *c, const char *name, size_t line, struct err *err)
{
	struct xml *x = &c->x;

	if (x->depth == 0 || strcmp(x->stack[x->depth - 1], name) != 0)
		return err_set(err, ERR_INPUT, "line %zu: </%s> does not close %s%s%s", line, name,
			       x->depth ? "<" : "any open element", x->depth ? x->stack[x->depth - 1] : "",
			       x->depth ? ">" : "");
	x->depth--;
	free(x->stack[x->depth]);
	free(x->label[x->depth]);
	x->label[x->depth] = NULL;
	if (strcmp(name, "BenchmarkResults") == 0 && c->in_bench)
		finish_bench(c);
	return 0;
}

/* <BenchmarkResults name="..." samples=... iterations=... resamples=...>. */
static int open_bench(struct c2 *c, const char *elem, size_t line, struct err *err)
{
	static const char *const counts[] = { "samples", "iterations", "resamples" };
	const char *bn = attr(&c->x, "name");
	double v;
	bool have;
	int rc;

	if (c->in_bench)
		return err_set(err, ERR_INPUT, "line %zu: <BenchmarkResults> inside another", line);
	if (!bn)
		return err_set(err, ERR_INPUT, "line %zu: <BenchmarkResults> has no name attribute", line);
	c->pb.name = bench_path(&c->x, bn);
	c->pb.extra = cJSON_CreateObject();
	c->pb.line = line;
	for (size_t i = 0; i < ARRAY_SIZE(counts); i++) {
		if ((rc = number_attr(&c->x, elem, counts[i], false, line, &v, &have, err)) < 0)
			return rc;
		if (have && v < 0)
			return err_set(err, ERR_INPUT, "line %zu: <BenchmarkResults %s=\"%g\">: negative", line,
				       counts[i], v);
		if (have)
			cJSON_AddNumberToObject(c->pb.extra, counts[i], v);
	}
	c->in_bench = true;
	return 0;
}

/* <mean>, <standardDeviation> and <failed> inside a benchmark (times in ns). */
static int bench_child(struct c2 *c, const char *elem, size_t line, struct err *err)
{
	struct pending *pb = &c->pb;
	double v, lo, hi;
	bool have, hlo, hhi;
	int rc;

	if (strcmp(elem, "mean") == 0) {
		if ((rc = number_attr(&c->x, elem, "value", true, line, &v, &have, err)) < 0 ||
		    (rc = number_attr(&c->x, elem, "lowerBound", false, line, &lo, &hlo, err)) < 0 ||
		    (rc = number_attr(&c->x, elem, "upperBound", false, line, &hi, &hhi, err)) < 0)
			return rc;
		if (v < 0)
			return err_set(err, ERR_INPUT, "line %zu: <mean value=\"%g\">: negative duration", line, v);
		pb->mean_ns = v;
		pb->have_mean = true;
		if (hlo)
			cJSON_AddNumberToObject(pb->extra, "mean_lower_bound", lo * 1e-9);
		if (hhi)
			cJSON_AddNumberToObject(pb->extra, "mean_upper_bound", hi * 1e-9);
	} else if (strcmp(elem, "standardDeviation") == 0) {
		if ((rc = number_attr(&c->x, elem, "value", true, line, &v, &have, err)) < 0)
			return rc;
		if (v < 0)
			return err_set(err, ERR_INPUT, "line %zu: <standardDeviation value=\"%g\">: negative", line,
				       v);
		cJSON_AddNumberToObject(pb->extra, "stddev", v * 1e-9);
	} else if (strcmp(elem, "failed") == 0) {
		const char *msg = attr(&c->x, "message");

		free(pb->failed);
		pb->failed = xstrdup(msg ? msg : "benchmark failed");
	}
	return 0;
}

/* An opened element goes on the stack (TestCase and Section names label
 * the benchmarks inside them); takes ownership of name. */
static int push_elem(struct c2 *c, char *name, size_t line, struct err *err)
{
	struct xml *x = &c->x;

	if (x->depth == MAX_DEPTH) {
		free(name);
		return err_set(err, ERR_INPUT, "line %zu: elements nested deeper than %d", line, MAX_DEPTH);
	}
	x->stack[x->depth] = name;
	if (strcmp(name, "TestCase") == 0 || strcmp(name, "Section") == 0) {
		const char *ln = attr(x, "name");

		x->label[x->depth] = ln ? xstrdup(ln) : NULL;
	}
	x->depth++;
	return 0;
}

/* A start tag (or an empty element): the root check, then what it means. */
static int start_elem(struct c2 *c, int tok, char **name, size_t line, struct err *err)
{
	int rc = 0;

	if (!c->seen_root) {
		if (strcmp(*name, "Catch2TestRun") != 0 && strcmp(*name, "Catch") != 0)
			return err_set(err, ERR_INPUT,
				       "line %zu: root element <%s> is not Catch2's <Catch2TestRun> or <Catch>", line,
				       *name);
		c->seen_root = true;
	}
	if (strcmp(*name, "BenchmarkResults") == 0) {
		if ((rc = open_bench(c, *name, line, err)) < 0)
			return rc;
		if (tok == TOK_EMPTY)
			finish_bench(c);
	} else if (c->in_bench && (rc = bench_child(c, *name, line, err)) < 0) {
		return rc;
	}
	if (tok == TOK_OPEN) {
		rc = push_elem(c, *name, line, err);
		*name = NULL;
	}
	return rc;
}

int ingest_catch2_parse(const char *text, size_t len, const struct ingest_options *opts,
			struct rundoc *rd, struct err *err)
{
	struct c2 c;
	char *name = NULL;
	int rc = 0, tok;

	(void)opts;
	memset(&c, 0, sizeof(c));
	c.rd = rd;
	c.x.p = c.x.start = text;
	c.x.end = text + len;
	if (memchr(text, '\0', len))
		return err_set(err, ERR_INPUT, "binary data: not Catch2 XML");
	while (rc == 0 && (tok = next_tag(&c.x, &name, err)) != TOK_END) {
		size_t line = xml_line(&c.x, c.x.p);

		if (tok < 0)
			rc = tok;
		else if (tok == TOK_CLOSE)
			rc = close_elem(&c, name, line, err);
		else
			rc = start_elem(&c, tok, &name, line, err);
		free(name);
		name = NULL;
	}
	if (rc == 0 && !c.seen_root)
		rc = err_set(err, ERR_INPUT, "no XML elements: not Catch2 XML output");
	else if (rc == 0 && c.x.depth > 0)
		rc = err_set(err, ERR_INPUT, "unexpected end of input: <%s> is not closed (truncated file?)",
			     c.x.stack[c.x.depth - 1]);
	attrs_clear(&c.x);
	for (size_t i = 0; i < c.x.depth; i++) {
		free(c.x.stack[i]);
		free(c.x.label[i]);
	}
	pending_release(&c.pb);
	return rc;
}
