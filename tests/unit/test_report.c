/*
 * Unit tests for core/report.c: golden files for every format, rendered
 * from one hand-built comparison whose every number is written below (so
 * the goldens were checked by eye against these inputs, not copied blindly),
 * the JSON round trip, value formatting, summary lines, XML escaping.
 *
 * The compact reports (issue 18) are checked on one HTTP benchmark as a new
 * user sees it (43 metrics: first gate, then too few samples), and the
 * Markdown comment on a suite of 500 such benchmarks against the limit.
 *
 * UPDATE_GOLDEN=1 rewrites tests/fixtures/reports/ (review the diff!).
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

#include "../../core/report.h"
#include "../../core/util.h"

#define GOLDEN "tests/fixtures/reports/"

static char **strv(const char *a, const char *b)
{
	char **v = xcalloc(2, sizeof(*v));

	v[0] = xstrdup(a);
	v[1] = b ? xstrdup(b) : NULL;
	return v;
}

struct rowdef {
	const char *bench, *metric, *unit, *against;
	enum verdict_kind kind;
	enum rd_direction dir;
	bool gate;
	double base, cur, ratio, lo, hi, p_adj, p_better_adj;
	size_t n_base, n_cur, n_runs;
	const char *why;
};

static const struct rowdef rows[] = {
	{ "loop", "wall", "s", NULL, VERDICT_REGRESSION, RD_LOWER, true, 0.0123, 0.0141, 1.146, 1.12, 1.171,
	  0.00003, 1, 50, 10, 5, "worse by 14.6% [12.0%, 17.1%], above the 5.0% floor, p 3e-05" },
	{ "loop", "max_rss", "B", NULL, VERDICT_UNCHANGED, RD_LOWER, true, 3355443.2, 3362150.4, 1.002, 0.99,
	  1.01, 0.41, 1, 50, 10, 5, "" },
	{ "loop", "instructions", "1", NULL, VERDICT_BELOW_FLOOR, RD_LOWER, false, 1.5e9, 1.506e9, 1.004,
	  1.003, 1.005, 0.0001, 1, 50, 10, 5, "" },
	{ "fetch<a&b>", "throughput", "1/s", NULL, VERDICT_IMPROVEMENT, RD_HIGHER, true, 120, 138, 1.15,
	  1.1, 1.2, 1, 0.0004, 25, 5, 5, "" },
	{ "fetch<a&b>", "latency.p95", "s", NULL, VERDICT_INCONCLUSIVE, RD_LOWER, true, 0.210, 0.228, 1.086,
	  0.98, 1.2, 0.03, 1, 25, 5, 5, "worse by 8.6% [-2.0%, 20.0%] but not significant (p 0.03 > 0.01)" },
	{ "new|bench", "wall", "s", NULL, VERDICT_NO_BASELINE, RD_LOWER, true, NAN, 0.0025, NAN, NAN, NAN, 1,
	  1, 0, 10, 0, "" },
	{ "echo@fast", "wall", "s", "echo@slow", VERDICT_IMPROVEMENT, RD_LOWER, false, 0.002, 0.001, 0.5,
	  0.45, 0.55, 1, 0.00001, 10, 10, 1, "" },
};

static struct compare_result *fixture(void)
{
	struct compare_result *r = xcalloc(1, sizeof(*r));

	r->run_id = xstrdup("6f1c2a9e-0000-4000-8000-000000000001");
	r->project = xstrdup("perfgate-demo");
	r->suite = xstrdup("demo");
	r->commit = xstrdup("a1b2c3d4e5f60718293a4b5c6d7e8f9012345678");
	r->branch = xstrdup("feature-x");
	r->base_mode = xstrdup("merge-base");
	r->base_branch = xstrdup("main");
	r->base_anchor = xstrdup("0123456789abcdef0123456789abcdef01234567");
	r->base_why = xstrdup("the nearest ancestors with results of 0123456789, the merge-base with 'main', the last 5 per benchmark");
	r->base_commits = strv("0123456789abcdef0123456789abcdef01234567", "fedcba9876543210fedcba9876543210fedcba98");
	r->n_base_commits = 2;
	r->base_runs = 5;
	r->base_samples = 50;
	r->notes = strv("benchmark 'broken' failed: exit status 1: not compared", NULL);
	r->n_notes = 1;
	r->n_rows = ARRAY_SIZE(rows);
	r->rows = xcalloc(r->n_rows, sizeof(*r->rows));
	for (size_t i = 0; i < r->n_rows; i++) {
		const struct rowdef *d = &rows[i];
		struct compare_row *row = &r->rows[i];

		row->bench = xstrdup(d->bench);
		row->metric = xstrdup(d->metric);
		row->unit = xstrdup(d->unit);
		row->against = d->against ? xstrdup(d->against) : NULL;
		row->settings = (struct verdict_settings)VERDICT_SETTINGS_INIT;
		row->settings.gate = d->gate;
		row->v.kind = d->kind;
		row->v.direction = d->dir;
		row->v.gate = d->gate;
		row->v.base_median = d->base;
		row->v.base_lo = row->v.base_hi = NAN;
		row->v.cur_median = d->cur;
		row->v.cur_lo = row->v.cur_hi = NAN;
		row->v.ratio = d->ratio;
		row->v.ratio_lo = d->lo;
		row->v.ratio_hi = d->hi;
		row->v.p = row->v.p_adj = d->p_adj;
		row->v.p_better = row->v.p_better_adj = d->p_better_adj;
		row->v.p_min = 1e-9;
		row->v.floor = 0.05;
		row->v.spread = 0.01;
		row->v.n_base = d->n_base;
		row->v.n_cur = d->n_cur;
		row->v.n_runs = d->n_runs;
		row->v.level = row->settings.alpha;
		/* what the medians say, beside the estimate */
		row->v.median_change = d->n_base ? d->cur / d->base - 1 : NAN;
		/* the detectable effect: 6% where there is a baseline; the
		 * inconclusive latency could not see less than 40% */
		row->v.mde = d->kind == VERDICT_NO_BASELINE ? NAN : d->kind == VERDICT_INCONCLUSIVE ? 0.4 : 0.06;
		if (d->kind == VERDICT_INCONCLUSIVE)
			row->hint = xstrdup("set \"repetitions\": 12 in benchmark 'fetch<a&b>' (now 5) to catch changes of 25%");
		snprintf(row->v.why, sizeof(row->v.why), "%s", d->why);
		if (d->n_runs) {
			row->n_base_runs = 1;
			row->base_runs = strv("11111111-2222-4333-8444-555555555555", NULL);
			row->base_commits = strv("0123456789abcdef0123456789abcdef01234567", NULL);
		}
	}
	r->n_slos = 2;
	r->slos = xcalloc(2, sizeof(*r->slos));
	r->slos[0] = (struct compare_slo){ xstrdup("fetch<a&b>"), xstrdup("latency.p95"), xstrdup("< 250ms"),
					   xstrdup("s"), true, 0.228, xstrdup("latency.p95 median 0.228 s < 0.25 s") };
	r->slos[1] = (struct compare_slo){ xstrdup("loop"), xstrdup("wall.median"), xstrdup("< 10ms"), xstrdup("s"),
					   false, 0.0141, xstrdup("wall median 0.0141 s is not < 0.01 s") };
	compare_finish(r);
	return r;
}

static void check_golden(const char *name, const char *got)
{
	char *path = xasprintf(GOLDEN "%s", name);
	char *want = NULL;
	size_t len = 0;
	struct err err = ERR_INIT;

	if (getenv("UPDATE_GOLDEN")) {
		assert_int_equal(file_write_atomic(path, got, strlen(got), &err), 0);
	} else {
		if (file_read(path, &want, &len, &err) != 0)
			fail_msg("%s", err.msg);
		if (strcmp(want, got) != 0) {
			fprintf(stderr, "# %s differs; got:\n%s\n", path, got);
			fail_msg("golden %s differs", path);
		}
	}
	free(want);
	free(path);
}

static void test_outcome(void **state)
{
	struct compare_result *r = fixture();
	struct sb sb = SB_INIT;
	/* By hand: ln 1.146 + ln 1.002 - ln 1.15 (higher is better) + ln 1.086 + ln 1.004 over 5. */
	double want = exp((log(1.146) + log(1.002) - log(1.15) + log(1.086) + log(1.004)) / 5);

	(void)state;
	assert_false(r->passed);
	assert_int_equal(r->counts[VERDICT_REGRESSION], 1);
	assert_int_equal(r->counts[VERDICT_IMPROVEMENT], 1); /* the A/B improvement is not counted */
	assert_int_equal(r->counts[VERDICT_BELOW_FLOOR], 0); /* instructions do not gate */
	assert_int_equal(r->counts[VERDICT_NO_BASELINE], 1);
	assert_int_equal(r->slo_failed, 1);
	assert_int_equal(r->geomean_n, 5);
	assert_true(fabs(r->geomean - want) < 1e-12);
	assert_true(fabs(r->geomean - 1.01715) < 1e-4);
	report_summary_line(r, &sb);
	assert_string_equal(sb_str(&sb), "FAILED: 1 regression, 1 improvement, 1 unchanged, 1 inconclusive, "
					 "1 without a baseline; 1 of 2 SLOs violated");
	/* The headline of text and Markdown: what fails first, by name. */
	sb_reset(&sb);
	report_headline(r, &sb);
	assert_string_equal(sb_str(&sb), "FAILED: 1 regression (loop wall); 1 of 2 SLOs violated (loop wall.median < 10ms); "
					 "not failing: 1 improvement, 1 unchanged, 1 inconclusive, 1 without a baseline");
	sb_release(&sb);

	/* Strict: the inconclusive row fails too; without the regression and
	 * the SLO the gate passes unless strict. */
	r->rows[0].v.kind = VERDICT_UNCHANGED;
	r->slos[1].ok = true;
	compare_finish(r);
	assert_true(r->passed);
	r->strict = true;
	compare_finish(r);
	assert_false(r->passed);
	compare_result_free(r);
}

static void test_golden(void **state)
{
	static const struct { enum report_format f; const char *file; bool color, all; } cases[] = {
		{ REPORT_TEXT, "compare.txt", false, false },
		{ REPORT_TEXT, "compare-color.txt", true, false },
		{ REPORT_TEXT, "compare-all.txt", false, true },
		{ REPORT_MARKDOWN, "compare.md", false, false },
		{ REPORT_JSON, "compare.json", false, false },
		{ REPORT_JUNIT, "compare.xml", false, false },
	};
	struct compare_result *r = fixture();

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct sb sb = SB_INIT;
		struct report_options o = { .color = cases[i].color, .all = cases[i].all };

		report_render(r, cases[i].f, &o, &sb);
		check_golden(cases[i].file, sb_str(&sb));
		if (!cases[i].color)
			assert_null(strstr(sb_str(&sb), "\033["));
		sb_release(&sb);
	}
	compare_result_free(r);
}

/* JSON -> result -> every format renders the same as the original. */
static void test_json_round_trip(void **state)
{
	struct compare_result *r = fixture(), *back = NULL;
	struct err err = ERR_INIT;
	cJSON *j = report_to_json(r);

	(void)state;
	assert_int_equal(report_from_json(j, &back, &err), 0);
	for (int f = REPORT_TEXT; f <= REPORT_JUNIT; f++) {
		struct sb a = SB_INIT, b = SB_INIT;

		report_render(r, (enum report_format)f, NULL, &a);
		report_render(back, (enum report_format)f, NULL, &b);
		assert_string_equal(sb_str(&a), sb_str(&b));
		sb_release(&a);
		sb_release(&b);
	}
	assert_int_equal(back->passed, r->passed);
	assert_null(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "rows"), 0), "pairs_set_aside"));
	compare_result_free(back);
	cJSON_Delete(j);

	/* a paired row whose far pairs were set aside keeps saying so */
	r->rows[0].v.test = VERDICT_TEST_SIGNED_RANK;
	r->rows[0].v.n_far = 3;
	r->rows[0].v.far_set_aside = true;
	j = report_to_json(r);
	assert_int_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "rows"), 0),
					     "pairs_set_aside")->valueint, 3);
	assert_int_equal(report_from_json(j, &back, &err), 0);
	assert_true(back->rows[0].v.far_set_aside);
	assert_int_equal(back->rows[0].v.n_far, 3);
	compare_result_free(back);
	cJSON_Delete(j);

	j = cJSON_Parse("{\"schema_version\": 1, \"rows\": [{\"benchmark\": \"x\"}]}");
	assert_int_equal(report_from_json(j, &back, &err), ERR_INPUT);
	assert_string_equal(err.msg, "comparison rows[0]: missing benchmark, metric, unit or verdict");
	cJSON_Delete(j);
	j = cJSON_Parse("{\"schema_version\": 7, \"rows\": []}");
	assert_int_equal(report_from_json(j, &back, &err), ERR_INPUT);
	cJSON_Delete(j);
	compare_result_free(r);
}

static void test_format_value(void **state)
{
	static const struct { double v; const char *unit, *want; } cases[] = {
		{ 0.0141, "s", "14.1 ms" },   { 1.5, "s", "1.50 s" },      { 250e-6, "s", "250 µs" },
		{ 42e-9, "s", "42.0 ns" },    { 0.999999, "s", "1.00 s" }, { 3355443.2, "B", "3.20 MiB" },
		{ 512, "B", "512 B" },        { 2048, "B", "2.00 KiB" },  { 45.25, "1/s", "45.2/s" },
		{ 1.5e9, "1", "1.50G" },      { 7, "1", "7.00" },         { 0.5, "%", "0.500%" },
		{ NAN, "s", "-" },            { 12345, "tok", "12.3k tok" }, { 0, "s", "0 s" },
	};
	char buf[64];

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		report_format_value(cases[i].v, cases[i].unit, buf, sizeof(buf));
		if (strcmp(buf, cases[i].want) != 0)
			fail_msg("case %zu: %g %s: got '%s', want '%s'", i, cases[i].v, cases[i].unit, buf, cases[i].want);
	}
}

static void test_format_parse(void **state)
{
	enum report_format f;
	struct err err = ERR_INIT;

	(void)state;
	assert_int_equal(report_format_parse("md", &f, &err), 0);
	assert_int_equal(f, REPORT_MARKDOWN);
	assert_int_equal(report_format_parse("junit", &f, &err), 0);
	assert_int_equal(f, REPORT_JUNIT);
	assert_int_equal(report_format_parse("jsno", &f, &err), ERR_INPUT);
	assert_string_equal(err.msg, "unknown format 'jsno' (did you mean 'json'?)");
}

/* The JUnit output parses as XML (python3's minidom, an independent parser)
 * and names that need escaping come back intact. */
static void test_junit_parses(void **state)
{
	struct compare_result *r = fixture();
	struct sb sb = SB_INIT;
	struct err err = ERR_INIT;
	char path[] = "/tmp/perfgate-junit-XXXXXX";
	int fd, rc;
	char *cmd;

	(void)state;
	free(r->rows[0].bench);
	r->rows[0].bench = xstrdup("q\"uo'te<&>\x01");
	report_junit(r, &sb);
	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(file_write_atomic(path, sb.buf, sb.len, &err), 0);
	cmd = xasprintf("python3 -c 'import sys, xml.dom.minidom as m; d = m.parse(sys.argv[1]); "
			"c = d.getElementsByTagName(\"testcase\"); "
			"assert len(c) == 7, len(c); "
			"assert c[0].getAttribute(\"classname\") == \"demo.q\\\"uo\\x27te<&>\", c[0].getAttribute(\"classname\"); "
			"f = d.getElementsByTagName(\"failure\"); assert len(f) == 2, len(f); "
			"s = d.getElementsByTagName(\"testsuites\")[0]; "
			"assert s.getAttribute(\"failures\") == \"2\" and s.getAttribute(\"tests\") == \"7\"' %s",
			path);
	rc = system(cmd);
	unlink(path);
	free(cmd);
	close(fd);
	assert_int_equal(rc, 0);
	sb_release(&sb);
	compare_result_free(r);
}


/* ---- the compact reports on an HTTP benchmark (issue 18) ---- */

/* The 43 metrics of one HTTP benchmark in a rate test, as the runner names them. */
static const char *const http_families[] = { "latency", "service_time", "ttfb", "lateness" };
static const char *const http_stats[] = { "p50", "p90", "p95", "p99", "p99.9", "max", "mean" };
static const char *const http_singles[] = { "throughput", "offered_rate", "achieved_rate", "error_rate",
					    "errors.refused", "errors.timeout", "errors.reset", "errors.4xx",
					    "errors.5xx", "errors.unexpected_status", "errors.bad_response",
					    "errors.failed_check", "errors.incomplete_stream", "bytes_in", "bytes_out" };
#define HTTP_METRICS 43

/*
 * n_bench HTTP benchmarks "api-0" ... of one kind: VERDICT_NO_BASELINE (a
 * first gate), VERDICT_INSUFFICIENT (one baseline run: too few samples, the
 * same hint on every gated row), or VERDICT_UNCHANGED with, in every
 * benchmark, latency 20% worse at every percentile (regressions) and
 * throughput 10% better.  Two SLOs per benchmark: latency.p95 < 1ms
 * (violated) and error_rate < 1% (met).
 */
static struct compare_result *http_fixture(size_t n_bench, enum verdict_kind kind)
{
	struct compare_result *r = xcalloc(1, sizeof(*r));
	size_t k = 0;

	r->run_id = xstrdup("6f1c2a9e-0000-4000-8000-000000000002");
	r->suite = xstrdup("newuser");
	r->commit = xstrdup("fb4720ab89aabbccddeeff00112233445566778899");
	r->branch = xstrdup("main");
	r->base_runs = kind == VERDICT_NO_BASELINE ? 0 : 1;
	r->base_why = xstrdup(kind == VERDICT_NO_BASELINE ? "no run on 'main' on this machine class yet: nothing to compare, the run passes"
							   : "the nearest ancestors of fb4720ab89 on 'main' with results, the last 5 per benchmark");
	r->base_branch = xstrdup("main");
	r->base_samples = kind == VERDICT_NO_BASELINE ? 0 : 1;
	r->rows = xcalloc(n_bench * HTTP_METRICS, sizeof(*r->rows));
	r->slos = xcalloc(n_bench * 2, sizeof(*r->slos));
	for (size_t b = 0; b < n_bench; b++) {
		char bench[32];

		snprintf(bench, sizeof(bench), "api-%zu", b);
		for (size_t m = 0; m < HTTP_METRICS; m++) {
			struct compare_row *row = &r->rows[k++];
			bool fam = m < 28, err = !fam && strncmp(http_singles[m - 28], "errors.", 7) == 0;
			double cur = fam ? 0.001 * (1 + (double)(m % 7)) : err || m == 31 ? 0 : 100;

			row->bench = xstrdup(bench);
			row->metric = fam ? xasprintf("%s.%s", http_families[m / 7], http_stats[m % 7])
					  : xstrdup(http_singles[m - 28]);
			row->unit = xstrdup(fam ? "s" : m < 31 ? "1/s" : strncmp(row->metric, "bytes", 5) == 0 ? "B" : "1");
			row->settings = (struct verdict_settings)VERDICT_SETTINGS_INIT;
			row->settings.gate = !err;
			row->v.gate = !err;
			row->v.kind = kind;
			row->v.direction = fam || err || strcmp(row->metric, "error_rate") == 0 ? RD_LOWER : RD_HIGHER;
			row->v.cur_median = cur;
			row->v.n_cur = 1;
			row->v.base_lo = row->v.base_hi = row->v.cur_lo = row->v.cur_hi = NAN;
			row->v.ratio = row->v.ratio_lo = row->v.ratio_hi = row->v.mde = row->v.median_change = NAN;
			row->v.floor = row->v.p = row->v.p_adj = row->v.p_better = row->v.p_better_adj = NAN;
			row->v.p_min = 1;
			row->v.level = 0.01;
			if (kind == VERDICT_NO_BASELINE)
				continue;
			row->v.n_base = 1;
			row->v.n_runs = 1;
			row->v.base_median = cur;
			row->v.ratio = row->v.ratio_lo = row->v.ratio_hi = 1;
			row->v.median_change = 0;
			row->v.floor = 0.05;
			row->v.p = row->v.p_adj = row->v.p_better = row->v.p_better_adj = 1;
			if (kind == VERDICT_INSUFFICIENT) {
				snprintf(row->v.why, sizeof(row->v.why), "1 against 1 samples cannot reach p <= 0.01");
				if (row->settings.gate)
					row->hint = xasprintf("set \"repetitions\": 5 in benchmark '%s' (now 1): with fewer the "
							      "test can never reach p <= 0.01", bench);
				continue;
			}
			row->v.mde = 0.06;
			if (m < 7) {
				/* latency 20% worse at every statistic */
				row->v.kind = VERDICT_REGRESSION;
				row->v.base_median = cur / 1.2;
				row->v.ratio = 1.2;
				row->v.ratio_lo = 1.15;
				row->v.ratio_hi = 1.25;
				row->v.median_change = 0.2;
				row->v.p = row->v.p_adj = 0.0001;
				snprintf(row->v.why, sizeof(row->v.why), "worse by 20.0%% [15.0%%, 25.0%%], above the 5.0%% floor");
			} else if (strcmp(row->metric, "throughput") == 0) {
				row->v.kind = VERDICT_IMPROVEMENT;
				row->v.base_median = cur / 1.1;
				row->v.ratio = 1.1;
				row->v.ratio_lo = 1.05;
				row->v.ratio_hi = 1.15;
				row->v.p_better = row->v.p_better_adj = 0.0002;
			}
		}
		r->slos[r->n_slos++] = (struct compare_slo){ xstrdup(bench), xstrdup("latency.p95"), xstrdup("< 1ms"),
							     xstrdup("s"), false, 0.003,
							     xstrdup("latency.p95 median 0.003 s is not < 0.001 s") };
		r->slos[r->n_slos++] = (struct compare_slo){ xstrdup(bench), xstrdup("error_rate"), xstrdup("< 1%"),
							     xstrdup("1"), true, 0, xstrdup("error_rate median 0 < 0.01") };
	}
	r->n_rows = k;
	compare_finish(r);
	return r;
}

static size_t count_lines(const char *s)
{
	size_t n = 0;

	for (; *s; s++)
		n += *s == '\n';
	return n;
}

static size_t count_str(const char *s, const char *what)
{
	size_t n = 0;

	for (const char *p = s; (p = strstr(p, what)) != NULL; p += strlen(what))
		n++;
	return n;
}

static void render(const struct compare_result *r, enum report_format f, const struct report_options *o,
		   struct sb *out)
{
	sb_reset(out);
	report_render(r, f, o, out);
}

/* A first gate of one HTTP benchmark: a short report whose headline is the
 * violated SLO and the first run, not a count of metrics without data. */
static void test_compact_first_gate(void **state)
{
	struct compare_result *r = http_fixture(1, VERDICT_NO_BASELINE);
	struct report_options all = { .all = true };
	struct sb sb = SB_INIT;

	(void)state;
	render(r, REPORT_TEXT, NULL, &sb);
	check_golden("first-gate.txt", sb_str(&sb));
	/* 55 lines before issue 18, 98 with one baseline run */
	assert_true(count_lines(sb_str(&sb)) <= 24);
	assert_non_null(strstr(sb_str(&sb), "\nFAILED: 1 of 2 SLOs violated (api-0 latency.p95 < 1ms); no baseline yet "
					    "for 34 metrics (first run), nothing to compare\n"));
	/* the latency family in one row: p50 ... max */
	assert_non_null(strstr(sb_str(&sb), "latency  1.00 ms  2.00 ms  3.00 ms  4.00 ms  6.00 ms  no-baseline\n"));
	assert_null(strstr(sb_str(&sb), "latency.p50"));
	assert_null(strstr(sb_str(&sb), "errors.refused"));
	/* --verbose: every metric a row */
	render(r, REPORT_TEXT, &all, &sb);
	assert_int_equal(count_str(sb_str(&sb), "no-baseline"), HTTP_METRICS);
	assert_non_null(strstr(sb_str(&sb), "latency.p99.9"));
	render(r, REPORT_MARKDOWN, NULL, &sb);
	check_golden("first-gate.md", sb_str(&sb));
	compare_result_free(r);
	sb_release(&sb);
}

/* One baseline run: 34 gated metrics cannot be tested, one cause, one line. */
static void test_compact_one_hint_per_cause(void **state)
{
	struct compare_result *r = http_fixture(1, VERDICT_INSUFFICIENT);
	struct report_options all = { .all = true };
	struct sb sb = SB_INIT, head = SB_INIT;

	(void)state;
	render(r, REPORT_TEXT, NULL, &sb);
	check_golden("insufficient.txt", sb_str(&sb));
	assert_true(count_lines(sb_str(&sb)) <= 24);
	assert_int_equal(count_str(sb_str(&sb), "cannot reach p"), 1);
	assert_int_equal(count_str(sb_str(&sb), "set \"repetitions\""), 1);
	report_headline(r, &head);
	assert_string_equal(sb_str(&head), "FAILED: 1 of 2 SLOs violated (api-0 latency.p95 < 1ms); "
					   "not failing: 34 not testable (too few samples)");
	{
		/* "Needs attention" counts what the gate cannot decide: the
		 * gated metrics only, not the tracked ones */
		size_t gated = 0, any = 0;
		char *line;

		for (size_t i = 0; i < r->n_rows; i++) {
			any += r->rows[i].v.kind == VERDICT_INSUFFICIENT;
			gated += r->rows[i].v.kind == VERDICT_INSUFFICIENT && r->rows[i].settings.gate;
		}
		assert_true(gated < any);
		line = xasprintf("  %zu metrics with insufficient data (", gated);
		assert_non_null(strstr(sb_str(&sb), line));
		free(line);
	}
	/* every metric with --verbose, still one hint */
	render(r, REPORT_TEXT, &all, &sb);
	assert_int_equal(count_str(sb_str(&sb), "insufficient"), HTTP_METRICS + 1);
	assert_int_equal(count_str(sb_str(&sb), "set \"repetitions\""), 1);
	assert_int_equal(count_str(sb_str(&sb), "cannot reach p"), 1);
	render(r, REPORT_MARKDOWN, NULL, &sb);
	check_golden("insufficient.md", sb_str(&sb));
	assert_int_equal(count_str(sb_str(&sb), "set \"repetitions\""), 1);
	/* the stored form, for the command-line test (test_compare: report --file) */
	render(r, REPORT_JSON, NULL, &sb);
	check_golden("insufficient.json", sb_str(&sb));
	compare_result_free(r);
	sb_release(&sb);
	sb_release(&head);
}

/* A regression with links: the headline names it, the table of changes
 * groups the latency family, the links lead, the rest is collapsed. */
static void test_markdown_changed_links(void **state)
{
	struct compare_result *r = http_fixture(1, VERDICT_UNCHANGED);
	struct report_options o = { .report_url = "https://ci.example/run/7/artifacts (report)",
				    .site_url = "https://team.example/perf/" };
	struct sb sb = SB_INIT;
	const char *md, *changed, *details;

	(void)state;
	render(r, REPORT_MARKDOWN, &o, &sb);
	check_golden("changed-links.md", sb_str(&sb));
	md = sb_str(&sb);
	assert_true(strncmp(md, "### ❌ perfgate: FAILED: 7 regressions (api-0 latency); 1 of 2 SLOs violated",
			    strlen("### ❌ perfgate: FAILED: 7 regressions (api-0 latency); 1 of 2 SLOs violated")) == 0);
	assert_non_null(strstr(md, "[Full report (HTML)](https://ci.example/run/7/artifacts%20%28report%29) · "
				   "[history](https://team.example/perf/)"));
	changed = strstr(md, "**Changed**");
	details = strstr(md, "<details>");
	assert_non_null(changed);
	assert_true(changed < details);
	/* the failing latency family in one row with every statistic, its
	 * numbers once; throughput, which changed, in the table of changes */
	assert_non_null(strstr(md, "**Failing the gate**\n\n| | benchmark | metric | p50 | p90 | p95 | p99 | p99.9 | max | mean |"));
	assert_non_null(strstr(md, "| ▲ | api-0 | latency | 1.00 ms +20% |"));
	assert_true(strstr(md, "| ▲ | api-0 | latency | 1.00 ms +20% |") < changed);
	assert_int_equal(count_str(md, "worse by 20.0%"), 1);
	assert_non_null(strstr(md, "(7 of its 7 statistics fail)"));
	assert_true(strstr(changed, "| ▲ | api-0 | throughput |") < details);
	assert_true(strstr(changed, "latency") > details);
	assert_true(strstr(changed, "service_time") > details);
	assert_int_equal(count_str(md, "<details>"), count_str(md, "</details>"));
	assert_null(strstr(md, "cut to fit"));
	compare_result_free(r);
	sb_release(&sb);
}

/* 500 HTTP benchmarks: the comment stays under GitHub's limit, whole rows,
 * and says where the rest is; a small limit degrades the same way. */
static void test_markdown_limit(void **state)
{
	struct compare_result *r = http_fixture(500, VERDICT_UNCHANGED);
	struct report_options o = { .report_url = "https://ci.example/run/7" }, small = { .limit = 6000 };
	struct sb sb = SB_INIT, full = SB_INIT;
	const char *md;

	(void)state;
	/* uncut, it would be far over */
	o.limit = SIZE_MAX / 2;
	render(r, REPORT_MARKDOWN, &o, &full);
	assert_true(full.len > 10 * REPORT_MARKDOWN_LIMIT);
	assert_null(strstr(sb_str(&full), "cut to fit"));
	o.limit = 0;
	render(r, REPORT_MARKDOWN, &o, &sb);
	md = sb_str(&sb);
	/* room for the marker line the comment starts with */
	assert_true(sb.len <= REPORT_MARKDOWN_LIMIT - REPORT_MARKDOWN_MARGIN);
	assert_true(sb.len > REPORT_MARKDOWN_LIMIT / 2);
	assert_true(strncmp(md, "### ❌ perfgate: FAILED: 3500 regressions", 40) == 0);
	assert_non_null(strstr(md, "> **This comment is cut to fit the forge's limit of 65536 characters: "));
	assert_non_null(strstr(md, "the [full report](https://ci.example/run/7)"));
	assert_non_null(strstr(md, "`perfgate report 6f1c2a9e`"));
	assert_int_equal(count_str(md, "<details>"), count_str(md, "</details>"));
	/* whole rows only: every table line ends its row */
	for (const char *p = md; (p = strstr(p, "\n|")) != NULL; p++) {
		const char *e = strchr(p + 1, '\n');

		assert_non_null(e);
		assert_true(e[-1] == '|');
	}
	/* the baseline closes the comment */
	assert_non_null(strstr(md, "<details><summary>Baseline</summary>"));
	assert_true(md[sb.len - 1] == '\n' && strstr(md, "</details>\n") + strlen("</details>\n") == md + sb.len);
	render(r, REPORT_MARKDOWN, &small, &sb);
	assert_true(sb.len <= 6000);
	assert_non_null(strstr(sb_str(&sb), "cut to fit the forge's limit of 6000 characters"));
	compare_result_free(r);
	sb_release(&sb);
	sb_release(&full);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_outcome),
		cmocka_unit_test(test_golden),
		cmocka_unit_test(test_json_round_trip),
		cmocka_unit_test(test_format_value),
		cmocka_unit_test(test_format_parse),
		cmocka_unit_test(test_junit_parses),
		cmocka_unit_test(test_compact_first_gate),
		cmocka_unit_test(test_compact_one_hint_per_cause),
		cmocka_unit_test(test_markdown_changed_links),
		cmocka_unit_test(test_markdown_limit),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
