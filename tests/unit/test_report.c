/*
 * Unit tests for core/report.c: golden files for every format, rendered
 * from one hand-built comparison whose every number is written below (so
 * the goldens were checked by eye against these inputs, not copied blindly),
 * the JSON round trip, value formatting, summary lines, XML escaping.
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_outcome),
		cmocka_unit_test(test_golden),
		cmocka_unit_test(test_json_round_trip),
		cmocka_unit_test(test_format_value),
		cmocka_unit_test(test_format_parse),
		cmocka_unit_test(test_junit_parses),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
