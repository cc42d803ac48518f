/*
 * Unit tests for core/site.c: the baseline band (table-driven, against
 * bands worked out by hand), page file names (safe characters, distinct
 * for names that read alike once made safe), the manifest (what the index
 * needs survives a round trip through the file; other settings or a
 * foreign file start afresh; series gone are pruned with their files), and
 * the pages (names escaped, links relative, change points listed newest
 * first, the index grouped by suite and benchmark with its alarms).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../core/html.h"
#include "../../core/site.h"
#include "../../core/util.h"

struct band_case {
	const char *name;
	double median[8];
	int cp_at;          /* index of the change point's first run; -1: none */
	size_t n, base_runs;
	double lo, hi;      /* NAN: no band */
};

static void test_baseline_band(void **state)
{
	static const struct band_case cases[] = {
		{ "the 5 runs before the newest", { 1, 9, 3, 4, 5, 6, 2, 100 }, -1, 8, 5, 2, 6 },
		{ "fewer runs than asked", { 4, 5, 100 }, -1, 3, 5, 4, 5 },
		{ "not before the newest change point", { 1, 1, 1, 7, 8, 9, 100 }, 3, 7, 5, 7, 9 },
		{ "a change point at the newest run: no band", { 1, 2, 3, 50 }, 3, 4, 5, NAN, NAN },
		{ "one run: no band", { 5 }, -1, 1, 5, NAN, NAN },
		{ "no baseline runs asked", { 1, 2, 3 }, -1, 3, 0, NAN, NAN },
		{ "a gap is skipped", { 3, NAN, 5, 100 }, -1, 4, 5, 3, 5 },
	};
	(void)state;
	for (size_t c = 0; c < ARRAY_SIZE(cases); c++) {
		struct site_point p[8];
		double lo, hi;

		memset(p, 0, sizeof(p));
		for (size_t i = 0; i < cases[c].n; i++) {
			p[i].median = cases[c].median[i];
			p[i].changepoint = (int)i == cases[c].cp_at;
		}
		site_baseline_band(p, cases[c].n, cases[c].base_runs, &lo, &hi);
		if (isnan(cases[c].lo)) {
			if (!isnan(lo) || !isnan(hi))
				fail_msg("%s: band %g..%g, expected none", cases[c].name, lo, hi);
		} else if (lo != cases[c].lo || hi != cases[c].hi) {
			fail_msg("%s: band %g..%g, expected %g..%g", cases[c].name, lo, hi, cases[c].lo, cases[c].hi);
		}
	}
}

static void test_file_names(void **state)
{
	char *a = site_series_file("p", "s", "GET /api?x=1", "latency.p99");
	char *b = site_series_file("p", "s", "GET /api?x=2", "latency.p99");
	char *c = site_series_file("p", "s", "GET /api_x=1", "latency.p99");
	char *d = site_series_file("p", "s", "GET /api?x=1", "latency.p99");
	char *dots = site_series_file("p", "..", "../../etc", "passwd");

	(void)state;
	assert_true(strncmp(a, "m/s--GET__api_x_1--latency.p99-", 31) == 0);
	assert_int_equal(strlen(a), strlen("m/s--GET__api_x_1--latency.p99-") + 8 + 5);
	assert_string_not_equal(a, b);
	assert_string_not_equal(a, c); /* same safe name, different benchmark */
	assert_string_equal(a, d);
	assert_null(strstr(dots + 2, "/"));
	assert_null(strstr(dots, "../"));
	free(a);
	free(b);
	free(c);
	free(d);
	free(dots);
}

/* A series of 40 runs: 10 ms, then 13 ms from run 30 on (a change point). */
struct fixture {
	struct site_point p[40];
	char ids[40][40];
	char commits[40][41];
	char times[40][24];
	struct site_series s;
};

static void make_series(struct fixture *f, const char *bench, const char *verdict_last)
{
	memset(f, 0, sizeof(*f));
	for (size_t i = 0; i < 40; i++) {
		snprintf(f->ids[i], sizeof(f->ids[i]), "0000%04zx-0000-4000-8000-000000000000", i);
		snprintf(f->commits[i], sizeof(f->commits[i]), "%040zx", i + 0xabc000);
		snprintf(f->times[i], sizeof(f->times[i]), "2026-01-%02zuT00:00:00Z", 1 + i % 28);
		f->p[i] = (struct site_point){ .run_id = f->ids[i], .commit = f->commits[i], .subject = "a <b> & c",
					       .time = f->times[i], .median = i < 30 ? 0.010 : 0.013,
					       .ci_low = NAN, .ci_high = NAN, .n = 5, .verdict = NULL,
					       .changepoint = i == 30, .cp_magnitude = 0.3, .cp_p = 1e-6,
					       .has_report = i >= 20 };
	}
	f->p[39].verdict = verdict_last;
	f->s = (struct site_series){ .project = "proj", .suite = "suite<1>", .bench = bench, .metric = "wall",
				     .unit = "s", .direction = "lower", .branch = "main", .points = f->p, .n = 40,
				     .total_runs = 42, .signature = "42 x y" };
}

static void test_metric_page(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));
	struct sb page = SB_INIT;
	const char *s, *cp, *runs;

	(void)state;
	make_series(f, "GET <\"x\">", "regression");
	site_metric_page(&f->s, NULL, "gnuplot is not installed", &page);
	s = sb_str(&page);
	assert_non_null(strstr(s, "<h1>GET &lt;&quot;x&quot;&gt;"));
	assert_null(strstr(s, "<\"x\">"));
	assert_non_null(strstr(s, "a &lt;b&gt; &amp; c"));
	assert_non_null(strstr(s, "href=\"../index.html\""));
	assert_non_null(strstr(s, "The trend picture is missing: gnuplot is not installed"));
	/* The band: runs 34..38 (after the change point), all 13 ms. */
	assert_non_null(strstr(s, "<dt>baseline band</dt><dd>13.0 ms &ndash; 13.0 ms"));
	assert_non_null(strstr(s, "40 shown of 42 stored"));
	cp = strstr(s, "Change points (1)");
	runs = strstr(s, "Runs, newest first");
	assert_non_null(cp);
	assert_non_null(runs);
	/* The change point's first run (30) links to its report; run 10 has none. */
	assert_non_null(strstr(cp, "href=\"../runs/0000001e-0000-4000-8000-000000000000.html\""));
	assert_true(strstr(cp, "+30.0%") < runs);
	assert_null(strstr(s, "runs/0000000a-"));
	assert_non_null(strstr(runs, "<code>0000000a</code>"));
	/* Newest first. */
	assert_true(strstr(runs, "00000027") < strstr(runs, "00000026"));
	sb_release(&page);
	free(f);
}

static void test_manifest_and_index(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f)), *g = xcalloc(1, sizeof(*g));
	char dir[] = "/tmp/perfgate-site-test.XXXXXX", *path, *json, **gone = NULL, *keys[1];
	cJSON *m = site_manifest_new("settings A"), *back;
	const cJSON *e, *spark;
	struct sb index = SB_INIT;
	struct err err = ERR_INIT;
	bool fresh = false;
	const char *s;

	(void)state;
	assert_non_null(mkdtemp(dir));
	make_series(f, "b1", "regression");
	make_series(g, "b0", NULL);
	keys[0] = site_series_key("proj", "suite<1>", "b0", "wall");
	site_manifest_put(m, "k1", &f->s, "m/one.html");
	site_manifest_put(m, keys[0], &g->s, "m/zero.html");
	json = cJSON_Print(m);
	path = xasprintf("%s/%s", dir, SITE_MANIFEST);
	assert_int_equal(file_write_atomic(path, json, strlen(json), &err), 0);

	back = site_manifest_load(dir, "settings A", &fresh);
	assert_false(fresh);
	e = site_manifest_entry(back, "k1");
	assert_non_null(e);
	assert_string_equal(cJSON_GetObjectItem(e, "signature")->valuestring, "42 x y");
	assert_string_equal(cJSON_GetObjectItem(e, "verdict")->valuestring, "regression");
	assert_true(cJSON_GetObjectItem(e, "last")->valuedouble == 0.013);
	assert_int_equal(cJSON_GetObjectItem(e, "cp_ago")->valueint, 9);
	spark = cJSON_GetObjectItem(e, "spark");
	assert_int_equal(cJSON_GetArraySize(spark), SITE_SPARK_RUNS);

	site_index_page(back, "the <site>", "2026-12-05T00:00:00Z", "main", &index);
	s = sb_str(&index);
	assert_non_null(strstr(s, "<title>the &lt;site&gt;</title>"));
	assert_non_null(strstr(s, "Runs on branch <code>main</code>."));
	assert_non_null(strstr(s, "2 metrics; the newest run of <b>1</b> regressed; <b>2</b> changed level"));
	assert_non_null(strstr(s, "<h2>suite suite&lt;1&gt;"));
	assert_true(strstr(s, "<h3>b0</h3>") < strstr(s, "<h3>b1</h3>")); /* sorted, not in insertion order */
	assert_non_null(strstr(s, "<tr class=\"fails\"><td><a href=\"m/one.html\">wall</a>"));
	assert_non_null(strstr(s, "href=\"runs/00000027-0000-4000-8000-000000000000.html\""));
	assert_non_null(strstr(s, "changed +30.0%"));
	assert_non_null(strstr(s, ">not compared</span>")); /* b0's newest run has no verdict */

	/* b1 is gone from the store: its entry and its page go. */
	assert_int_equal(site_manifest_prune(back, keys, 1, &gone), 1);
	assert_string_equal(gone[0], "m/one.html");
	assert_null(site_manifest_entry(back, "k1"));
	assert_non_null(site_manifest_entry(back, keys[0]));
	cJSON_Delete(back);

	back = site_manifest_load(dir, "settings B", &fresh);
	assert_true(fresh);
	assert_null(site_manifest_entry(back, "k1"));
	cJSON_Delete(back);
	assert_int_equal(file_write_atomic(path, "[1]", 3, &err), 0);
	back = site_manifest_load(dir, "settings A", &fresh);
	assert_true(fresh);
	cJSON_Delete(back);

	unlink(path);
	rmdir(dir);
	free(gone[0]);
	free(gone);
	free(keys[0]);
	free(path);
	free(json);
	sb_release(&index);
	cJSON_Delete(m);
	free(f);
	free(g);
}

/* The index's sparklines: noise of 1% in a box of at least 10% of the
 * level stays in the middle fifth; without the floor it fills the box. */
static void test_sparkline_span(void **state)
{
	static const double v[] = { 100, 101, 100, 101 };
	struct sb a = SB_INIT, b = SB_INIT;

	(void)state;
	html_sparkline_span(&a, v, 4, 120, 24, 0.1, false, "x");
	/* box 95.5..105.5 over 20 px: 101 -> 2 + 20 * 4.5 / 10, 100 -> 2 + 20 * 5.5 / 10 */
	assert_non_null(strstr(sb_str(&a), "d=\"M2.0 13.0 L40.7 11.0 L79.3 13.0 L118.0 11.0\""));
	html_sparkline_span(&b, v, 4, 120, 24, 0, false, "x");
	assert_non_null(strstr(sb_str(&b), "d=\"M2.0 22.0 L40.7 2.0 L79.3 22.0 L118.0 2.0\""));
	sb_release(&a);
	sb_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_baseline_band),
		cmocka_unit_test(test_file_names),
		cmocka_unit_test(test_metric_page),
		cmocka_unit_test(test_manifest_and_index),
		cmocka_unit_test(test_sparkline_span),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
