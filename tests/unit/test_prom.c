/* Unit tests for core/prom/prom.c: the Prometheus text / OpenMetrics
 * parser, on every grammar case, on malformed input (strict and
 * lenient), and on hand-written expositions in the real servers' format
 * (tests/fixtures/prom/, see its README). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../core/prom/prom.h"
#include "../../core/util.h"

#ifndef FIXTURES
#define FIXTURES "tests/fixtures/prom"
#endif

static struct prom_doc *parse_as(const char *text, enum prom_format f, bool lenient, int *rc, struct err *err)
{
	struct prom_parse_options o = PROM_PARSE_OPTIONS_INIT;
	struct prom_doc *d = NULL;

	o.format = f;
	o.lenient = lenient;
	*rc = prom_parse(&d, text, strlen(text), &o, err);
	return d;
}

static struct prom_doc *parse_ok(const char *text, enum prom_format f)
{
	struct err err = ERR_INIT;
	int rc;
	struct prom_doc *d = parse_as(text, f, false, &rc, &err);

	if (rc != 0)
		fail_msg("'%s' did not parse: %s", text, err.msg);
	return d;
}

/* ---- grammar cases that must parse, with what they must give ---- */

struct good {
	const char *text;
	const char *name;     /* the first sample's name */
	double value;
	size_t n_labels;
	const char *label;    /* NAME=VALUE of the first label, or NULL */
	double timestamp;     /* NAN when none */
};

static const struct good goods[] = {
	{ "a 1\n", "a", 1, 0, NULL, NAN },
	{ "a{} 1\n", "a", 1, 0, NULL, NAN },
	{ "a{b=\"c\",} 2\n", "a", 2, 1, "b=c", NAN },                    /* trailing comma */
	{ "a{ b = \"c\" , d=\"e\" } 3\n", "a", 3, 2, "b=c", NAN },        /* blanks everywhere */
	{ "a {b=\"c\"} 3\n", "a", 3, 1, "b=c", NAN },                     /* blank before the brace */
	{ "a{b=\"c\"}4\n", "a", 4, 1, "b=c", NAN },                       /* no blank before the value */
	{ "a 1 1395066363000\n", "a", 1, 0, NULL, 1395066363.0 },        /* ms timestamp */
	{ "a 1 -1000\n", "a", 1, 0, NULL, -1.0 },
	{ "a -1.5e-3\n", "a", -1.5e-3, 0, NULL, NAN },
	{ "a +7\n", "a", 7, 0, NULL, NAN },
	{ "a .5\n", "a", 0.5, 0, NULL, NAN },
	{ "a 5.\n", "a", 5, 0, NULL, NAN },
	{ "a 1E3\n", "a", 1000, 0, NULL, NAN },
	{ "a Inf\n", "a", INFINITY, 0, NULL, NAN },
	{ "a +inf\n", "a", INFINITY, 0, NULL, NAN },
	{ "a -Inf\n", "a", -INFINITY, 0, NULL, NAN },
	{ "a +Infinity\n", "a", INFINITY, 0, NULL, NAN },
	{ "a 1e-320\n", "a", 1e-320, 0, NULL, NAN },                    /* a denormal is a value */
	{ "  a\t1  \n", "a", 1, 0, NULL, NAN },                          /* leading and trailing blanks */
	{ "a 1\r\n", "a", 1, 0, NULL, NAN },                             /* CR LF */
	{ "vllm:num_requests_waiting 3\n", "vllm:num_requests_waiting", 3, 0, NULL, NAN },
	{ "_a:b_c 1\n", "_a:b_c", 1, 0, NULL, NAN },
	{ "{\"a.b\"} 1\n", "a.b", 1, 0, NULL, NAN },                      /* UTF-8 name, quoted */
	{ "{\"a.b\", \"c.d\"=\"x\"} 1\n", "a.b", 1, 1, "c.d=x", NAN },
	{ "{\"a\\\"q\"} 1\n", "a\"q", 1, 0, NULL, NAN },
	{ "a{b=\"h\xc3\xa9llo \xe2\x9c\x93\"} 1\n", "a", 1, 1, "b=h\xc3\xa9llo \xe2\x9c\x93", NAN },
	{ "a{b=\"x\\\"y\\\\z\\nw\"} 1\n", "a", 1, 1, "b=x\"y\\z\nw", NAN }, /* every escape */
	{ "a{b=\"\"} 1\n", "a", 1, 1, "b=", NAN },
	{ "a{b=\"{},=\"} 1\n", "a", 1, 1, "b={},=", NAN },
	{ "# a comment\n#HELP not help\n#\na 1\n", "a", 1, 0, NULL, NAN },
	{ "\n\n   \na 1\n\n", "a", 1, 0, NULL, NAN },                    /* blank lines */
	{ "a 1\n  ", "a", 1, 0, NULL, NAN },                             /* trailing blanks without newline */
};

static void test_grammar_good(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(goods); i++) {
		const struct good *g = &goods[i];
		struct prom_doc *d = parse_ok(g->text, PROM_FORMAT_TEXT);
		const struct prom_sample *s;

		if (d->n_samples != 1)
			fail_msg("'%s': %zu samples, want 1", g->text, d->n_samples);
		s = &d->samples[0];
		assert_string_equal(s->name, g->name);
		if (isnan(g->value))
			assert_true(isnan(s->value));
		else if (s->value != g->value)
			fail_msg("'%s': value %.17g, want %.17g", g->text, s->value, g->value);
		assert_int_equal(s->n_labels, g->n_labels);
		if (g->label) {
			char buf[128];
			snprintf(buf, sizeof(buf), "%s=%s", s->labels[0].name, s->labels[0].value);
			assert_string_equal(buf, g->label);
		}
		assert_int_equal(s->has_timestamp, !isnan(g->timestamp));
		if (!isnan(g->timestamp))
			assert_true(fabs(s->timestamp - g->timestamp) < 1e-6);
		prom_doc_free(d);
	}
}

static void test_nan_values(void **state)
{
	const char *const texts[] = { "a NaN\n", "a nan\n", "a NAN\n" };

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(texts); i++) {
		struct prom_doc *d = parse_ok(texts[i], PROM_FORMAT_TEXT);
		assert_true(isnan(d->samples[0].value));
		prom_doc_free(d);
	}
}

/* ---- malformed input: strict parsing fails at the right place ---- */

struct bad {
	const char *text;
	enum prom_format format;
	const char *where;    /* "line N, column C" the message starts with */
	const char *what;     /* a piece of the message */
};

static const struct bad bads[] = {
	{ "a\n", PROM_FORMAT_TEXT, "line 1, column 2", "expected a value" },
	{ "a 1 2 3\n", PROM_FORMAT_TEXT, "line 1, column 7", "unexpected text" },
	{ "a x\n", PROM_FORMAT_TEXT, "line 1, column 3", "is not a number" },
	{ "a 0x1p3\n", PROM_FORMAT_TEXT, "line 1, column 3", "is not a number" },
	{ "a 1e\n", PROM_FORMAT_TEXT, "line 1, column 3", "is not a number" },
	{ "a .\n", PROM_FORMAT_TEXT, "line 1, column 3", "is not a number" },
	{ "a 1..2\n", PROM_FORMAT_TEXT, "line 1, column 3", "is not a number" },
	{ "a 1e999\n", PROM_FORMAT_TEXT, "line 1, column 3", "is not a number" },
	{ "a nan(1)\n", PROM_FORMAT_TEXT, "line 1, column 3", "is not a number" },
	{ "a{b=c} 1\n", PROM_FORMAT_TEXT, "line 1, column 5", "expected '\"'" },
	{ "a{b=\"c} 1\n", PROM_FORMAT_TEXT, "line 1, column 5", "unterminated label value" },
	{ "a{b=\"c\" d=\"e\"} 1\n", PROM_FORMAT_TEXT, "line 1, column 9", "expected ',' or '}'" },
	{ "a{b=\"c\",b=\"d\"} 1\n", PROM_FORMAT_TEXT, "line 1, column 9", "label 'b' appears twice" },
	{ "a{b=\"\\t\"} 1\n", PROM_FORMAT_TEXT, "line 1, column 6", "unknown escape" },
	{ "a{1b=\"c\"} 1\n", PROM_FORMAT_TEXT, "line 1, column 3", "expected a label name" },
	{ "a{b:c=\"d\"} 1\n", PROM_FORMAT_TEXT, "line 1, column 4", "expected '='" },
	{ "a{b=\"c\"\n", PROM_FORMAT_TEXT, "line 1, column 8", "unterminated label set" },
	{ "a{b\n", PROM_FORMAT_TEXT, "line 1, column 4", "expected '='" },
	{ "1a 1\n", PROM_FORMAT_TEXT, "line 1, column 1", "expected a metric name" },
	{ "a-b 1\n", PROM_FORMAT_TEXT, "line 1, column 2", "invalid character in metric name" },
	{ "a 1 12.5\n", PROM_FORMAT_TEXT, "line 1, column 5", "integer of milliseconds" },
	{ "a 1 99999999999999999999\n", PROM_FORMAT_TEXT, "line 1, column 5", "integer of milliseconds" },
	{ "{} 1\n", PROM_FORMAT_TEXT, "line 1, column 1", "no metric name" },
	{ "{\"a\", \"b\"} 1\n", PROM_FORMAT_TEXT, "line 1, column 10", "expected '=' after label name 'b'" },
	{ "a{\"x\"} 1\n", PROM_FORMAT_TEXT, "line 1, column 3", "named twice" },
	{ "# TYPE a gauge\n# TYPE a counter\n", PROM_FORMAT_TEXT, "line 2, column 8", "second TYPE line for 'a'" },
	{ "a 1\n# TYPE a gauge\n", PROM_FORMAT_TEXT, "line 2, column 8", "TYPE line for 'a' after its samples" },
	{ "# TYPE a bogus\n", PROM_FORMAT_TEXT, "line 1, column 10", "unknown metric type 'bogus'" },
	{ "# TYPE a gaugehistogram\n", PROM_FORMAT_TEXT, "line 1, column 10", "unknown metric type" },
	{ "# TYPE a\n", PROM_FORMAT_TEXT, "line 1, column 9", "expected a metric type" },
	{ "# TYPE a gauge extra\n", PROM_FORMAT_TEXT, "line 1, column 16", "unexpected text after the metric type" },
	{ "# TYPE\n", PROM_FORMAT_TEXT, "line 1, column 7", "expected a metric name" },
	{ "# TYPE 9a gauge\n", PROM_FORMAT_TEXT, "line 1, column 8", "expected a metric name" },
	{ "# HELP a x\n# HELP a y\n", PROM_FORMAT_TEXT, "line 2, column 8", "second HELP line" },
	{ "# HELP a bad \\t escape\n", PROM_FORMAT_TEXT, "line 1, column 14", "unknown escape in HELP" },
	{ "# TYPE a histogram\na_bucket 1\n", PROM_FORMAT_TEXT, "line 2, column 1", "has no 'le' label" },
	{ "# TYPE a histogram\na_bucket{le=\"x\"} 1\n", PROM_FORMAT_TEXT, "line 2, column 1", "le=\"x\" is not a number" },
	{ "# TYPE a histogram\na 1\n", PROM_FORMAT_TEXT, "line 2, column 1", "needs a suffix" },
	{ "# TYPE a summary\na 1\n", PROM_FORMAT_TEXT, "line 2, column 1", "has no 'quantile' label" },
	{ "a 1", PROM_FORMAT_TEXT, "line 1, column 4", "no newline" },
	{ "a 1\nb 2", PROM_FORMAT_TEXT, "line 2, column 4", "cut short" },
	{ "a 1\nb\0 2\n", PROM_FORMAT_TEXT, "line 2, column 2", "NUL byte" },
	/* OpenMetrics */
	{ "a 1\n", PROM_FORMAT_OPENMETRICS, "line 2, column 1", "no '# EOF'" },
	{ "a 1\n# EOF\nb 2\n", PROM_FORMAT_OPENMETRICS, "line 3, column 1", "text after '# EOF'" },
	{ "a 1\n\n# EOF\n", PROM_FORMAT_OPENMETRICS, "line 2, column 1", "empty line" },
	{ "a Inf\n# EOF\n", PROM_FORMAT_OPENMETRICS, "line 1, column 3", "is not a number" },
	{ "a nan\n# EOF\n", PROM_FORMAT_OPENMETRICS, "line 1, column 3", "is not a number" },
	{ "a 1 12x\n# EOF\n", PROM_FORMAT_OPENMETRICS, "line 1, column 5", "a number of seconds" },
	{ "# TYPE a untyped\n# EOF\n", PROM_FORMAT_OPENMETRICS, "line 1, column 10", "unknown metric type" },
	{ "# EOF x\n", PROM_FORMAT_OPENMETRICS, "line 1, column 3", "takes nothing after it" },
	{ "a_total 1 # {x=\"y\"}\n# EOF\n", PROM_FORMAT_OPENMETRICS, "line 1, column 20", "exemplar's value" },
	{ "a_total 1 # x\n# EOF\n", PROM_FORMAT_OPENMETRICS, "line 1, column 13", "'{' to open an exemplar" },
	{ "a_total 1 # {x=\"y\"} z\n# EOF\n", PROM_FORMAT_OPENMETRICS, "line 1, column 21", "not a number" },
	{ "a_total 1 # {\"n\"} 1\n# EOF\n", PROM_FORMAT_OPENMETRICS, "line 1, column 18", "no metric name" },
	{ "# UNIT a seconds more\n# EOF\n", PROM_FORMAT_OPENMETRICS, "line 1, column 18", "after the unit" },
	{ "# UNIT a s\n# UNIT a s\n# EOF\n", PROM_FORMAT_OPENMETRICS, "line 2, column 8", "second UNIT line" },
};

static void test_grammar_bad(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(bads); i++) {
		const struct bad *b = &bads[i];
		struct prom_parse_options o = PROM_PARSE_OPTIONS_INIT;
		struct err err = ERR_INIT;
		struct prom_doc *d = NULL;
		size_t len = strlen(b->text);
		int rc;

		if (strcmp(b->what, "NUL byte") == 0)
			len = 10; /* the NUL is inside the text */
		o.format = b->format;
		rc = prom_parse(&d, b->text, len, &o, &err);
		if (rc != ERR_INPUT)
			fail_msg("case %zu '%s' parsed (rc %d)", i, b->text, rc);
		assert_null(d);
		if (strncmp(err.msg, b->where, strlen(b->where)) != 0 || !strstr(err.msg, b->what))
			fail_msg("case %zu '%s': got \"%s\", want \"%s: ...%s...\"", i, b->text, err.msg, b->where, b->what);
		assert_null(strchr(err.msg, '\n'));
	}
}

/* ---- families, roles, metadata ---- */

static void test_families_text(void **state)
{
	const char *text =
		"# HELP http_requests_total The total number of HTTP requests.\n"
		"# TYPE http_requests_total counter\n"
		"http_requests_total{method=\"post\",code=\"200\"} 1027 1395066363000\n"
		"http_requests_total{method=\"post\",code=\"400\"}    3 1395066363000\n"
		"# HELP msdos_file_access_time_seconds Escaped \\\\ and \\n here.\n"
		"msdos_file_access_time_seconds{path=\"C:\\\\DIR\\\\FILE.TXT\",error=\"Cannot find file:\\n\\\"FILE.TXT\\\"\"} 1.458255915e9\n"
		"metric_without_timestamp_and_labels 12.47\n"
		"# TYPE rpc_duration_seconds summary\n"
		"rpc_duration_seconds{quantile=\"0.01\"} 3102\n"
		"rpc_duration_seconds{quantile=\"0.99\"} 76656\n"
		"rpc_duration_seconds_sum 1.7560473e+07\n"
		"rpc_duration_seconds_count 2693\n"
		"# TYPE http_request_duration_seconds histogram\n"
		"http_request_duration_seconds_bucket{le=\"0.05\"} 24054\n"
		"http_request_duration_seconds_bucket{le=\"+Inf\"} 144320\n"
		"http_request_duration_seconds_sum 53423\n"
		"http_request_duration_seconds_count 144320\n"
		"# TYPE py_counter counter\n"
		"py_counter_total 5\n";
	struct prom_doc *d = parse_ok(text, PROM_FORMAT_AUTO);
	const struct prom_family *f;

	(void)state;
	assert_int_equal(d->format, PROM_FORMAT_TEXT);
	assert_int_equal(d->n_samples, 13);
	f = prom_doc_family(d, "http_requests_total");
	assert_non_null(f);
	assert_int_equal(f->type, PROM_COUNTER);
	assert_string_equal(f->help, "The total number of HTTP requests.");
	assert_int_equal(d->samples[1].family, d->samples[0].family);
	assert_string_equal(prom_sample_label(&d->samples[1], "code"), "400");
	assert_null(prom_sample_label(&d->samples[1], "nope"));
	/* HELP before any TYPE: an untyped family, escapes undone */
	f = prom_doc_family(d, "msdos_file_access_time_seconds");
	assert_int_equal(f->type, PROM_UNTYPED);
	assert_string_equal(f->help, "Escaped \\ and \n here.");
	assert_string_equal(prom_sample_label(&d->samples[2], "path"), "C:\\DIR\\FILE.TXT");
	assert_string_equal(prom_sample_label(&d->samples[2], "error"), "Cannot find file:\n\"FILE.TXT\"");
	/* summary */
	assert_int_equal(d->samples[4].role, PROM_ROLE_QUANTILE);
	assert_true(d->samples[4].bound == 0.01);
	assert_int_equal(d->samples[6].role, PROM_ROLE_SUM);
	assert_int_equal(d->samples[7].role, PROM_ROLE_COUNT);
	assert_string_equal(d->families[d->samples[7].family].name, "rpc_duration_seconds");
	/* histogram */
	assert_int_equal(d->samples[8].role, PROM_ROLE_BUCKET);
	assert_true(d->samples[8].bound == 0.05);
	assert_true(isinf(d->samples[9].bound));
	assert_string_equal(d->families[d->samples[11].family].name, "http_request_duration_seconds");
	/* a text-format counter written with OpenMetrics naming */
	assert_string_equal(d->families[d->samples[12].family].name, "py_counter");
	assert_int_equal(d->samples[12].role, PROM_ROLE_VALUE);
	assert_true(isnan(d->samples[0].bound));
	assert_string_equal(prom_type_name(PROM_HISTOGRAM), "histogram");
	prom_doc_free(d);
}

static void test_untyped_samples_get_own_families(void **state)
{
	struct prom_doc *d = parse_ok("a_bucket{le=\"1\"} 1\na_count 1\nb 2\nb{x=\"1\"} 3\n", PROM_FORMAT_TEXT);

	(void)state;
	assert_int_equal(d->n_families, 3);
	assert_int_equal(d->samples[0].role, PROM_ROLE_VALUE);
	assert_true(isnan(d->samples[0].bound));
	assert_int_equal(d->samples[2].family, d->samples[3].family);
	prom_doc_free(d);
}

static void test_openmetrics_fixture(void **state)
{
	char *text = NULL;
	size_t len;
	struct err err = ERR_INIT;
	struct prom_doc *d = NULL;
	const struct prom_family *f;
	size_t n_temp = 0;

	(void)state;
	assert_int_equal(file_read(FIXTURES "/openmetrics.txt", &text, &len, &err), 0);
	if (prom_parse(&d, text, len, NULL, &err) != 0)
		fail_msg("openmetrics.txt: %s", err.msg);
	assert_int_equal(d->format, PROM_FORMAT_OPENMETRICS);
	f = prom_doc_family(d, "acme_http_router_request_seconds");
	assert_int_equal(f->type, PROM_SUMMARY);
	assert_string_equal(f->unit, "seconds");
	assert_string_equal(f->help, "Latency though all of ACME's HTTP request router.");
	f = prom_doc_family(d, "process_cpu_seconds");
	assert_int_equal(f->type, PROM_COUNTER);
	assert_int_equal(prom_doc_family(d, "build")->type, PROM_INFO);
	assert_int_equal(prom_doc_family(d, "door_open")->type, PROM_STATESET);
	for (size_t i = 0; i < d->n_samples; i++) {
		const struct prom_sample *s = &d->samples[i];
		const char *fam = d->families[s->family].name;

		if (strcmp(s->name, "acme_http_router_request_seconds_created") == 0)
			assert_int_equal(s->role, PROM_ROLE_CREATED);
		if (strcmp(s->name, "process_cpu_seconds_total") == 0) {
			assert_string_equal(fam, "process_cpu_seconds");
			assert_true(s->value == 4.20072246e+06);
		}
		if (strcmp(s->name, "queue_wait_seconds_bucket") == 0)
			assert_int_equal(s->role, PROM_ROLE_BUCKET);
		if (strcmp(s->name, "build_info") == 0)
			assert_string_equal(prom_sample_label(s, "revision"), "abc\"def\\ghi\nline");
		if (strcmp(s->name, "temperature") == 0) {
			n_temp++;
			if (strcmp(prom_sample_label(s, "room"), "a") == 0) {
				assert_true(isnan(s->value));
				assert_true(s->has_timestamp);
				assert_true(s->timestamp == 1605281325.25);
			} else {
				assert_true(isinf(s->value));
				assert_true((s->value > 0) == (strcmp(prom_sample_label(s, "room"), "b") == 0));
			}
		}
	}
	assert_int_equal(n_temp, 3);
	assert_int_equal(d->n_samples, 20);
	prom_doc_free(d);
	/* The same text read as the text format is not the same language:
	 * "acme..._sum" lines are fine, but "# UNIT" is just a comment there
	 * and the exemplars are text after the value. */
	{
		struct prom_parse_options o = PROM_PARSE_OPTIONS_INIT;
		o.format = PROM_FORMAT_TEXT;
		assert_int_equal(prom_parse(&d, text, len, &o, &err), ERR_INPUT);
		assert_non_null(strstr(err.msg, "unexpected text after the value"));
	}
	free(text);
}

static void test_openmetrics_detect_and_types(void **state)
{
	struct prom_doc *d = parse_ok("# TYPE a unknown\na 1 1605281325.5\n# EOF", PROM_FORMAT_AUTO);

	(void)state;
	assert_int_equal(d->format, PROM_FORMAT_OPENMETRICS);
	assert_true(d->samples[0].timestamp == 1605281325.5);
	assert_int_equal(d->families[0].type, PROM_UNTYPED);
	prom_doc_free(d);
	/* "# EOF" anywhere but at the end: a comment of the text format */
	d = parse_ok("# EOF\na 1\n", PROM_FORMAT_AUTO);
	assert_int_equal(d->format, PROM_FORMAT_TEXT);
	assert_int_equal(d->n_samples, 1);
	prom_doc_free(d);
	d = parse_ok("# EOF\n", PROM_FORMAT_AUTO);
	assert_int_equal(d->format, PROM_FORMAT_OPENMETRICS);
	assert_int_equal(d->n_samples, 0);
	prom_doc_free(d);
	assert_int_equal(prom_format_of_content_type("application/openmetrics-text; version=1.0.0; charset=utf-8"),
			 PROM_FORMAT_OPENMETRICS);
	assert_int_equal(prom_format_of_content_type("text/plain; version=0.0.4; charset=utf-8"), PROM_FORMAT_TEXT);
	assert_int_equal(prom_format_of_content_type(NULL), PROM_FORMAT_TEXT);
}

static void test_empty(void **state)
{
	struct prom_doc *d = parse_ok("", PROM_FORMAT_AUTO);

	(void)state;
	assert_int_equal(d->n_samples, 0);
	assert_int_equal(d->n_families, 0);
	prom_doc_free(d);
}

/* ---- lenient parsing: bad lines are skipped and counted ---- */

static void test_lenient(void **state)
{
	struct err err = ERR_INIT;
	int rc;
	struct prom_doc *d = parse_as("a 1\nb{x=\"1} 2\nc 3\nd four\ne 5\nf 6", PROM_FORMAT_AUTO, true, &rc, &err);

	(void)state;
	assert_int_equal(rc, 0);
	assert_int_equal(d->n_samples, 3); /* a, c, e; f was cut short */
	assert_string_equal(d->samples[2].name, "e");
	assert_int_equal(d->bad_lines, 3);
	if (strcmp(d->first_problem, "line 2, column 5: unterminated label value (no closing '\"')") != 0)
		fail_msg("first problem: %s", d->first_problem);
	prom_doc_free(d);
	/* a TYPE line that breaks a rule is skipped whole: the family keeps its first type */
	d = parse_as("# TYPE a gauge\n# TYPE a counter\na 1\n", PROM_FORMAT_TEXT, true, &rc, &err);
	assert_int_equal(rc, 0);
	assert_int_equal(d->families[d->samples[0].family].type, PROM_GAUGE);
	assert_int_equal(d->bad_lines, 1);
	prom_doc_free(d);
	/* OpenMetrics cut short: what came is kept, the missing EOF counted */
	d = parse_as("a 1\nb 2\n", PROM_FORMAT_OPENMETRICS, true, &rc, &err);
	assert_int_equal(rc, 0);
	assert_int_equal(d->n_samples, 2);
	assert_int_equal(d->bad_lines, 1);
	assert_non_null(strstr(d->first_problem, "no '# EOF'"));
	prom_doc_free(d);
}

/* ---- the hand-written expositions of real servers ---- */

/* Sample lines counted independently of the parser: neither empty nor comments. */
static size_t count_sample_lines(const char *text)
{
	size_t n = 0;

	for (const char *p = text; *p;) {
		const char *nl = strchr(p, '\n');
		size_t len = nl ? (size_t)(nl - p) : strlen(p);
		if (len && p[0] != '#')
			n++;
		p += len + (nl != NULL);
	}
	return n;
}

static void test_fixtures(void **state)
{
	static const char *const files[] = { "vllm_v1.txt", "vllm_v0.txt", "sglang.txt", "tgi.txt", "triton.txt" };

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		char path[256], *text = NULL;
		size_t len;
		struct err err = ERR_INIT;
		struct prom_doc *d = NULL;

		snprintf(path, sizeof(path), "%s/%s", FIXTURES, files[i]);
		assert_int_equal(file_read(path, &text, &len, &err), 0);
		if (prom_parse(&d, text, len, NULL, &err) != 0)
			fail_msg("%s: %s", files[i], err.msg);
		assert_int_equal(d->format, PROM_FORMAT_TEXT);
		assert_int_equal(d->n_samples, count_sample_lines(text));
		assert_int_equal(d->bad_lines, 0);
		prom_doc_free(d);
		free(text);
	}
}

static void test_vllm_fixture_values(void **state)
{
	char *text = NULL;
	size_t len, buckets = 0;
	struct err err = ERR_INIT;
	struct prom_doc *d = NULL;
	const struct prom_family *f;

	(void)state;
	assert_int_equal(file_read(FIXTURES "/vllm_v1.txt", &text, &len, &err), 0);
	assert_int_equal(prom_parse(&d, text, len, NULL, &err), 0);
	f = prom_doc_family(d, "vllm:request_queue_time_seconds");
	assert_int_equal(f->type, PROM_HISTOGRAM);
	for (size_t i = 0; i < d->n_samples; i++) {
		const struct prom_sample *s = &d->samples[i];
		if (strcmp(s->name, "vllm:kv_cache_usage_perc") == 0) {
			assert_true(s->value == 0.4275);
			assert_string_equal(prom_sample_label(s, "model_name"), "meta-llama/Llama-3.1-8B-Instruct");
		}
		if (&d->families[s->family] == f && s->role == PROM_ROLE_BUCKET)
			buckets++;
		/* prometheus_client writes x_created as a gauge family of its own */
		if (strcmp(s->name, "vllm:request_queue_time_seconds_created") == 0)
			assert_int_equal(d->families[s->family].type, PROM_GAUGE);
	}
	assert_int_equal(buckets, 7);
	prom_doc_free(d);
	free(text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_grammar_good),
		cmocka_unit_test(test_nan_values),
		cmocka_unit_test(test_grammar_bad),
		cmocka_unit_test(test_families_text),
		cmocka_unit_test(test_untyped_samples_get_own_families),
		cmocka_unit_test(test_openmetrics_fixture),
		cmocka_unit_test(test_openmetrics_detect_and_types),
		cmocka_unit_test(test_empty),
		cmocka_unit_test(test_lenient),
		cmocka_unit_test(test_fixtures),
		cmocka_unit_test(test_vllm_fixture_values),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
