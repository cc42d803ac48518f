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

/* Next element event: TOK_OPEN / TOK_EMPTY (attributes in x->attr, name
 * in *name), TOK_CLOSE (*name), TOK_END at the end of input. */
static int next_tag(struct xml *x, char **name, struct err *err)
{
	const char *lt, *ns;
	int rc;

	*name = NULL;
	attrs_clear(x);
	for (;;) {
		lt = memchr(x->p, '<', (size_t)(x->end - x->p));
		if (!lt) {
			x->p = x->end;
			return TOK_END;
		}
		x->p = lt;
		if (x->end - x->p >= 4 && memcmp(x->p, "<!--", 4) == 0) {
			if ((rc = skip_past(x, "-->", "comment", err)) < 0)
				return rc;
			continue;
		}
		if (x->end - x->p >= 9 && memcmp(x->p, "<![CDATA[", 9) == 0) {
			if ((rc = skip_past(x, "]]>", "CDATA section", err)) < 0)
				return rc;
			continue;
		}
		if (x->end - x->p >= 2 && (x->p[1] == '?' || x->p[1] == '!')) {
			if ((rc = skip_past(x, ">", "declaration", err)) < 0)
				return rc;
			continue;
		}
		break;
	}
	x->p++;
	if (x->p < x->end && *x->p == '/') {
		x->p++;
		ns = x->p;
		while (x->p < x->end && name_char(*x->p))
			x->p++;
		if (x->p == ns)
			return err_set(err, ERR_INPUT, "line %zu: '</' without an element name", xml_line(x, ns));
		*name = xstrndup(ns, (size_t)(x->p - ns));
		while (x->p < x->end && (*x->p == ' ' || *x->p == '\t' || *x->p == '\n' || *x->p == '\r'))
			x->p++;
		if (x->p >= x->end || *x->p != '>') {
			free(*name);
			*name = NULL;
			return err_set(err, ERR_INPUT, "line %zu: unterminated end tag (truncated file?)",
				       xml_line(x, ns));
		}
		x->p++;
		return TOK_CLOSE;
	}
	ns = x->p;
	while (x->p < x->end && name_char(*x->p))
		x->p++;
	if (x->p == ns)
		return err_set(err, ERR_INPUT, "line %zu: '<' without an element name", xml_line(x, ns));
	*name = xstrndup(ns, (size_t)(x->p - ns));
	for (;;) {
		const char *an, *ae, *vs;
		char q;

		while (x->p < x->end && (*x->p == ' ' || *x->p == '\t' || *x->p == '\n' || *x->p == '\r'))
			x->p++;
		if (x->p >= x->end)
			goto truncated;
		if (*x->p == '>') {
			x->p++;
			return TOK_OPEN;
		}
		if (*x->p == '/') {
			if (x->p + 1 >= x->end)
				goto truncated;
			if (x->p[1] != '>')
				goto bad;
			x->p += 2;
			return TOK_EMPTY;
		}
		an = x->p;
		while (x->p < x->end && name_char(*x->p))
			x->p++;
		ae = x->p;
		if (an == ae)
			goto bad;
		while (x->p < x->end && (*x->p == ' ' || *x->p == '\t' || *x->p == '\n' || *x->p == '\r'))
			x->p++;
		if (x->p >= x->end)
			goto truncated;
		if (*x->p != '=')
			goto bad;
		x->p++;
		while (x->p < x->end && (*x->p == ' ' || *x->p == '\t' || *x->p == '\n' || *x->p == '\r'))
			x->p++;
		if (x->p >= x->end)
			goto truncated;
		if (*x->p != '"' && *x->p != '\'')
			goto bad;
		q = *x->p++;
		vs = x->p;
		while (x->p < x->end && *x->p != q && *x->p != '<')
			x->p++;
		if (x->p >= x->end)
			goto truncated;
		if (*x->p == '<')
			goto bad;
		if (x->n_attr == MAX_ATTRS) {
			rc = err_set(err, ERR_INPUT, "line %zu: more than %d attributes", xml_line(x, an), MAX_ATTRS);
			goto fail;
		}
		x->attr[x->n_attr].name = xstrndup(an, (size_t)(ae - an));
		x->attr[x->n_attr].value = NULL;
		x->n_attr++;
		if ((rc = decode(x, vs, x->p, &x->attr[x->n_attr - 1].value, err)) < 0)
			goto fail;
		x->p++;
	}
truncated:
	rc = err_set(err, ERR_INPUT, "line %zu: unterminated <%s> tag (truncated file?)", xml_line(x, ns), *name);
	goto fail;
bad:
	rc = err_set(err, ERR_INPUT, "line %zu: malformed attribute in <%s>", xml_line(x, x->p), *name);
fail:
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

int ingest_catch2_parse(const char *text, size_t len, const struct ingest_options *opts,
			struct rundoc *rd, struct err *err)
{
	struct xml x;
	struct pending pb;
	bool in_bench = false, seen_root = false;
	char *name = NULL;
	int rc, tok;

	(void)opts;
	memset(&x, 0, sizeof(x));
	memset(&pb, 0, sizeof(pb));
	x.p = x.start = text;
	x.end = text + len;
	if (memchr(text, '\0', len))
		return err_set(err, ERR_INPUT, "binary data: not Catch2 XML");
	while ((tok = next_tag(&x, &name, err)) != TOK_END) {
		size_t line = xml_line(&x, x.p);

		if (tok < 0) {
			rc = tok;
			goto done;
		}
		if (tok == TOK_CLOSE) {
			if (x.depth == 0 || strcmp(x.stack[x.depth - 1], name) != 0) {
				rc = err_set(err, ERR_INPUT, "line %zu: </%s> does not close %s%s%s", line, name,
					     x.depth ? "<" : "any open element", x.depth ? x.stack[x.depth - 1] : "",
					     x.depth ? ">" : "");
				goto done;
			}
			x.depth--;
			free(x.stack[x.depth]);
			free(x.label[x.depth]);
			x.label[x.depth] = NULL;
			if (strcmp(name, "BenchmarkResults") == 0 && in_bench) {
				emit(rd, &pb);
				pending_release(&pb);
				in_bench = false;
			}
			free(name);
			name = NULL;
			continue;
		}
		if (!seen_root) {
			if (strcmp(name, "Catch2TestRun") != 0 && strcmp(name, "Catch") != 0) {
				rc = err_set(err, ERR_INPUT, "line %zu: root element <%s> is not Catch2's <Catch2TestRun> or <Catch>",
					     line, name);
				goto done;
			}
			seen_root = true;
		}
		if (strcmp(name, "BenchmarkResults") == 0) {
			const char *bn = attr(&x, "name");
			double v;
			bool have;

			if (in_bench) {
				rc = err_set(err, ERR_INPUT, "line %zu: <BenchmarkResults> inside another", line);
				goto done;
			}
			if (!bn) {
				rc = err_set(err, ERR_INPUT, "line %zu: <BenchmarkResults> has no name attribute", line);
				goto done;
			}
			pb.name = bench_path(&x, bn);
			pb.extra = cJSON_CreateObject();
			pb.line = line;
			for (const char *const *k = (const char *const[]){ "samples", "iterations", "resamples", NULL };
			     *k; k++) {
				if ((rc = number_attr(&x, name, *k, false, line, &v, &have, err)) < 0)
					goto done;
				if (have && v < 0) {
					rc = err_set(err, ERR_INPUT, "line %zu: <BenchmarkResults %s=\"%g\">: negative", line, *k, v);
					goto done;
				}
				if (have)
					cJSON_AddNumberToObject(pb.extra, *k, v);
			}
			in_bench = true;
			if (tok == TOK_EMPTY) {
				emit(rd, &pb);
				pending_release(&pb);
				in_bench = false;
			}
		} else if (in_bench && strcmp(name, "mean") == 0) {
			double v, lo, hi;
			bool have, hlo, hhi;

			if ((rc = number_attr(&x, name, "value", true, line, &v, &have, err)) < 0 ||
			    (rc = number_attr(&x, name, "lowerBound", false, line, &lo, &hlo, err)) < 0 ||
			    (rc = number_attr(&x, name, "upperBound", false, line, &hi, &hhi, err)) < 0)
				goto done;
			if (v < 0) {
				rc = err_set(err, ERR_INPUT, "line %zu: <mean value=\"%g\">: negative duration", line, v);
				goto done;
			}
			pb.mean_ns = v;
			pb.have_mean = true;
			if (hlo)
				cJSON_AddNumberToObject(pb.extra, "mean_lower_bound", lo * 1e-9);
			if (hhi)
				cJSON_AddNumberToObject(pb.extra, "mean_upper_bound", hi * 1e-9);
		} else if (in_bench && strcmp(name, "standardDeviation") == 0) {
			double v;
			bool have;

			if ((rc = number_attr(&x, name, "value", true, line, &v, &have, err)) < 0)
				goto done;
			if (v < 0) {
				rc = err_set(err, ERR_INPUT, "line %zu: <standardDeviation value=\"%g\">: negative", line, v);
				goto done;
			}
			cJSON_AddNumberToObject(pb.extra, "stddev", v * 1e-9);
		} else if (in_bench && strcmp(name, "failed") == 0) {
			const char *msg = attr(&x, "message");

			free(pb.failed);
			pb.failed = xstrdup(msg ? msg : "benchmark failed");
		}
		if (tok == TOK_OPEN) {
			if (x.depth == MAX_DEPTH) {
				rc = err_set(err, ERR_INPUT, "line %zu: elements nested deeper than %d", line, MAX_DEPTH);
				goto done;
			}
			x.stack[x.depth] = name;
			name = NULL;
			if (strcmp(x.stack[x.depth], "TestCase") == 0 || strcmp(x.stack[x.depth], "Section") == 0) {
				const char *ln = attr(&x, "name");

				x.label[x.depth] = ln ? xstrdup(ln) : NULL;
			}
			x.depth++;
		}
		free(name);
		name = NULL;
	}
	if (!seen_root) {
		rc = err_set(err, ERR_INPUT, "no XML elements: not Catch2 XML output");
		goto done;
	}
	if (x.depth > 0) {
		rc = err_set(err, ERR_INPUT, "unexpected end of input: <%s> is not closed (truncated file?)",
			     x.stack[x.depth - 1]);
		goto done;
	}
	rc = 0;
done:
	free(name);
	attrs_clear(&x);
	for (size_t i = 0; i < x.depth; i++) {
		free(x.stack[i]);
		free(x.label[i]);
	}
	pending_release(&pb);
	return rc;
}
