/*
 * Unit tests for core/verdict.c: one table row per verdict, built from data
 * whose outcome follows from the definitions in docs/statistics.md, plus
 * the Benjamini-Hochberg interplay across metrics and compare settings,
 * counts without spread decided at once, the short-history floor, the
 * resolution floor, paired samples, the level of a later look and the
 * detectable effect, against the history and beside the base.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../core/suite.h"
#include "../../core/summary.h"
#include "../../core/util.h"
#include "../../core/verdict.h"

/* n samples around `center` spread +-width in a fixed pattern (no
 * randomness); the 1e-6 * i term keeps every value distinct (no ties). */
static void pattern(double *v, size_t n, double center, double width)
{
	for (size_t i = 0; i < n; i++)
		v[i] = center * (1 + width * ((double)((i * 7) % 11) - 5) / 5 + 1e-6 * (double)i);
}

static void run_medians(const double *v, size_t runs, size_t per, double *med)
{
	for (size_t r = 0; r < runs; r++) {
		double s[64];
		memcpy(s, v + r * per, per * sizeof(*s));
		qsort(s, per, sizeof(*s), summary_cmp_double);
		med[r] = summary_median_sorted(s, per);
	}
}

struct vcase {
	const char *name;
	double base_center, cur_center, width; /* pattern() parameters */
	size_t n_base, n_cur;
	enum rd_direction dir;
	enum verdict_kind want;
};

static void test_verdict_table(void **state)
{
	static const struct vcase cases[] = {
		/* all 10 new above all 50 old: p = 1/C(60,10) */
		{ "regression", 100, 130, 0.05, 50, 10, RD_LOWER, VERDICT_REGRESSION },
		{ "improvement", 100, 70, 0.05, 50, 10, RD_LOWER, VERDICT_IMPROVEMENT },
		{ "unchanged", 100, 100, 0.05, 50, 10, RD_LOWER, VERDICT_UNCHANGED },
		/* every new value above every old one, but only +2% (< 5% floor) */
		{ "below-floor", 100, 102, 0.005, 50, 10, RD_LOWER, VERDICT_BELOW_FLOOR },
		/* throughput: lower is worse */
		{ "higher-is-better regression", 1000, 700, 0.05, 50, 10, RD_HIGHER, VERDICT_REGRESSION },
		{ "higher-is-better improvement", 1000, 1300, 0.05, 50, 10, RD_HIGHER, VERDICT_IMPROVEMENT },
		/* 2 vs 2: the smallest p is 1/C(4,2) = 1/6 > 0.01 */
		{ "insufficient", 100, 200, 0.05, 2, 2, RD_LOWER, VERDICT_INSUFFICIENT },
		{ "no baseline", 100, 100, 0.05, 0, 10, RD_LOWER, VERDICT_NO_BASELINE },
	};
	double base[64], cur[64], med[8];
	struct verdict_settings cs = VERDICT_SETTINGS_INIT;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		const struct vcase *c = &cases[i];
		struct verdict_input in;
		struct verdict v;

		pattern(base, c->n_base, c->base_center, c->width);
		pattern(cur, c->n_cur, c->cur_center, c->width);
		/* every other field zero: unpaired, no batches, no prior */
		in = (struct verdict_input){ .base = base, .n_base = c->n_base,
					     .n_runs = c->n_base >= 10 ? c->n_base / 10 : 0,
					     .base_run_medians = med, .cur = cur, .n_cur = c->n_cur,
					     .direction = c->dir, .settings = cs };
		run_medians(base, in.n_runs, 10, med);
		verdict_measure(&in, &v);
		verdict_decide(&v, 1, &cs);
		print_message("# %s: %s (%s)\n", c->name, verdict_name(v.kind), v.why);
		assert_string_equal(verdict_name(v.kind), verdict_name(c->want));
		assert_true(v.why[0] != '\0');
	}
}

static void test_verdict_numbers(void **state)
{
	double base[50], cur[10], med[5];
	struct verdict_settings cs = VERDICT_SETTINGS_INIT;
	struct verdict_input in;
	struct verdict v;

	(void)state;
	pattern(base, 50, 100, 0.05);
	pattern(cur, 10, 130, 0.05);
	run_medians(base, 5, 10, med);
	in = (struct verdict_input){ .base = base, .n_base = 50, .base_run_medians = med, .n_runs = 5, .cur = cur, .n_cur = 10, .direction = RD_LOWER, .settings = cs };
	verdict_measure(&in, &v);
	verdict_decide(&v, 1, &cs);
	/* no ties and C(60,10) < 2^53: exact, and the most extreme U */
	assert_true(v.exact);
	assert_true(fabs(v.p - 1 / 75394027566.0) < 1e-22);
	assert_true(fabs(v.p_adj - v.p) < 1e-22); /* one metric: BH changes nothing */
	assert_true(fabs(v.ratio - 1.3) < 0.02);
	assert_true(v.ratio_lo <= v.ratio && v.ratio <= v.ratio_hi);
	/* medians by numpy.median of the same pattern */
	assert_true(fabs(v.base_median - 100.00235) < 1e-9 && fabs(v.cur_median - 130.650715) < 1e-9);
	assert_true(v.floor == 0.05); /* the run medians differ by < 0.01%: spread ~0 */
	assert_int_equal(v.n_base, 50);
	assert_int_equal(v.n_runs, 5);
}

/* The noise floor: run medians 100 120 85 110 95 have log-MAD 0.0953
 * (ln 1.1), so the floor is 3 x 1.4826 x 0.0953 = 42.4% and a significant
 * +30% is below it. */
static void test_verdict_floor_from_spread(void **state)
{
	static const double centers[] = { 100, 120, 85, 110, 95 };
	double base[50], cur[10], med[5];
	struct verdict_settings cs = VERDICT_SETTINGS_INIT;
	struct verdict_input in;
	struct verdict v;

	(void)state;
	for (size_t r = 0; r < 5; r++)
		pattern(base + 10 * r, 10, centers[r], 0.01);
	pattern(cur, 10, 135, 0.01);
	run_medians(base, 5, 10, med);
	in = (struct verdict_input){ .base = base, .n_base = 50, .base_run_medians = med, .n_runs = 5, .cur = cur, .n_cur = 10, .direction = RD_LOWER, .settings = cs };
	verdict_measure(&in, &v);
	verdict_decide(&v, 1, &cs);
	assert_true(fabs(v.floor - 3 * 1.4826 * log(1.1)) < 1e-9);
	assert_string_equal(verdict_name(v.kind), "below-floor");
}

/* Not significant (ties: normal approximation; SciPy's asymptotic p with the
 * continuity correction is 0.09890828062687268) yet the HL ratio is
 * 1.106 > 1.05: the data cannot tell, so: inconclusive. */
static void test_verdict_inconclusive(void **state)
{
	const double base[] = { 90, 95, 100, 105, 110, 115 };
	const double cur[] = { 95, 110, 120, 125, 130, 100 };
	struct verdict_settings cs = VERDICT_SETTINGS_INIT;
	struct verdict_input in = { .base = base, .n_base = 6, .base_run_medians = NULL, .n_runs = 0, .cur = cur, .n_cur = 6, .direction = RD_LOWER, .settings = cs };
	struct verdict v;

	(void)state;
	verdict_measure(&in, &v);
	verdict_decide(&v, 1, &cs);
	assert_true(fabs(v.ratio - 1.1055415967851334) < 1e-9);
	assert_false(v.exact);
	assert_true(fabs(v.p - 0.09890828062687268) < 1e-9);
	assert_string_equal(verdict_name(v.kind), "inconclusive");
}

static void test_verdict_insufficient_message(void **state)
{
	const double base[] = { 1, 2 }, cur[] = { 3, 4 };
	struct verdict_settings cs = VERDICT_SETTINGS_INIT;
	struct verdict_input in = { .base = base, .n_base = 2, .base_run_medians = NULL, .n_runs = 0, .cur = cur, .n_cur = 2, .direction = RD_LOWER, .settings = cs };
	struct verdict v;

	(void)state;
	verdict_measure(&in, &v);
	verdict_decide(&v, 1, &cs);
	assert_string_equal(v.why,
			    "2 new vs 2 baseline samples cannot reach p <= 0.01 (smallest possible p 0.167): add repetitions");
}

/*
 * Benjamini-Hochberg across metrics: one metric +12% in +-15% noise (its own
 * exact p is 0.0017833361254285009 by SciPy) gates alone, but not among 19 unchanged metrics (BH
 * multiplies the smallest p by 20).  A metric with gate = false does not
 * count against the gated ones.
 */
static void test_verdict_bh_family(void **state)
{
	enum { M = 20 };
	static double base[M][50], cur[M][10], med[M][5];
	struct verdict v[M];
	struct verdict_settings cs[M];
	struct verdict_input in;
	double p_alone;

	(void)state;
	for (size_t i = 0; i < M; i++) {
		pattern(base[i], 50, 100, 0.15);
		pattern(cur[i], 10, i == 0 ? 112 : 100, 0.15);
		run_medians(base[i], 5, 10, med[i]);
		cs[i] = (struct verdict_settings)VERDICT_SETTINGS_INIT;
		/* no run medians: the floor is min_effect, so only BH differs */
		in = (struct verdict_input){ .base = base[i], .n_base = 50, .base_run_medians = med[i], .n_runs = 0, .cur = cur[i], .n_cur = 10, .direction = RD_LOWER, .settings = cs[i] };
		verdict_measure(&in, &v[i]);
	}
	verdict_decide(v, 1, cs);
	p_alone = v[0].p;
	print_message("# p alone %g: %s\n", p_alone, v[0].why);
	assert_true(fabs(p_alone - 0.0017833361254285009) < 1e-12);
	assert_string_equal(verdict_name(v[0].kind), "regression");

	in = (struct verdict_input){ .base = base[0], .n_base = 50, .base_run_medians = med[0], .n_runs = 0, .cur = cur[0], .n_cur = 10, .direction = RD_LOWER, .settings = cs[0] };
	verdict_measure(&in, &v[0]);
	verdict_decide(v, M, cs);
	/* the 19 others have p > 0.3, so BH's smallest adjusted p is 20 p / 1 */
	assert_true(fabs(v[0].p_adj - 20 * p_alone) < 1e-12);
	assert_string_equal(verdict_name(v[0].kind), "inconclusive");

	/* the 19 others only tracked: metric 0 is alone in the gating family */
	for (size_t i = 1; i < M; i++) {
		cs[i].gate = false;
		in = (struct verdict_input){ .base = base[i], .n_base = 50, .base_run_medians = med[i], .n_runs = 0, .cur = cur[i], .n_cur = 10, .direction = RD_LOWER, .settings = cs[i] };
		verdict_measure(&in, &v[i]);
	}
	in = (struct verdict_input){ .base = base[0], .n_base = 50, .base_run_medians = med[0], .n_runs = 0, .cur = cur[0], .n_cur = 10, .direction = RD_LOWER, .settings = cs[0] };
	verdict_measure(&in, &v[0]);
	verdict_decide(v, M, cs);
	assert_true(fabs(v[0].p_adj - p_alone) < 1e-15);
	assert_string_equal(verdict_name(v[0].kind), "regression");
}

static void test_settings_parse(void **state)
{
	static const struct {
		const char *json;
		const char *problem; /* NULL: valid */
	} cases[] = {
		{ "{\"alpha\": 0.05, \"min_effect\": \"10%\", \"direction\": \"higher\", \"gate\": false}", NULL },
		{ "{\"min_effect\": 0.01}", NULL },
		{ "{\"alpha\": 2}", "b.compare.alpha: expected a number in (0, 0.5], got 2" },
		{ "{\"alpha\": \"0.01\"}", "b.compare.alpha: expected a number in (0, 0.5], got \"0.01\"" },
		{ "{\"min_effect\": \"5 percent\"}",
		  "b.compare.min_effect: expected a percentage such as \"5%\" or a fraction such as 0.05, got \"5 percent\"" },
		{ "{\"direction\": \"up\"}", "b.compare.direction: expected \"lower\" or \"higher\", got \"up\"" },
		{ "{\"gate\": \"no\"}", "b.compare.gate: expected true or false, got \"no\"" },
		{ "{\"alhpa\": 0.01}", "b.compare.alhpa: unknown key; did you mean \"alpha\"?" },
		{ "[1]", "b.compare: expected an object, got an array" },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		cJSON *j = cJSON_Parse(cases[i].json);
		struct errlist problems = ERRLIST_INIT;
		struct verdict_settings s = VERDICT_SETTINGS_INIT;

		assert_non_null(j);
		verdict_settings_parse(j, "b.compare", &s, &problems);
		if (!cases[i].problem) {
			assert_int_equal(problems.n, 0);
		} else {
			assert_int_equal(problems.n, 1);
			assert_string_equal(problems.msgs[0], cases[i].problem);
		}
		errlist_release(&problems);
		cJSON_Delete(j);
	}
}

/* Suite, benchmark and metric levels applied in turn: the most specific wins. */
static void test_settings_layering(void **state)
{
	cJSON *suite = cJSON_Parse("{\"alpha\": 0.05, \"min_effect\": \"10%\"}");
	cJSON *metric = cJSON_Parse("{\"min_effect\": \"1%\", \"gate\": false}");
	struct errlist problems = ERRLIST_INIT;
	struct verdict_settings s = VERDICT_SETTINGS_INIT;

	(void)state;
	verdict_settings_parse(suite, "compare", &s, &problems);
	verdict_settings_parse(metric, "metrics.instructions.compare", &s, &problems);
	assert_int_equal(problems.n, 0);
	assert_true(s.alpha == 0.05);
	assert_true(fabs(s.min_effect - 0.01) < 1e-15);
	assert_false(s.gate);
	assert_int_equal(s.direction, -1);
	cJSON_Delete(suite);
	cJSON_Delete(metric);
}

static void test_settings_validate_metrics(void **state)
{
	static const struct {
		const char *json;
		const char *problem; /* NULL: valid */
	} cases[] = {
		{ "{\"min_effect\": \"10%\", \"metrics\": {\"instructions\": {\"min_effect\": \"0.5%\"}}}", NULL },
		{ "{\"metrics\": {\"instructions\": {\"min_efect\": 0.01}}}",
		  "compare.metrics.instructions.min_efect: unknown key; did you mean \"min_effect\"?" },
		{ "{\"metrics\": [1]}", "compare.metrics: expected an object of metric name -> settings, got an array" },
		{ "{\"metrics\": {\"wall\": 5}}", "compare.metrics.wall: expected an object, got 5" },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		cJSON *j = cJSON_Parse(cases[i].json);
		struct errlist problems = ERRLIST_INIT;

		verdict_settings_validate(j, "compare", &problems);
		if (!cases[i].problem) {
			assert_int_equal(problems.n, 0);
		} else {
			assert_int_equal(problems.n, 1);
			assert_string_equal(problems.msgs[0], cases[i].problem);
		}
		errlist_release(&problems);
		cJSON_Delete(j);
	}
}

static void test_verdict_names(void **state)
{
	static const char *const want[] = { "regression", "improvement", "unchanged", "below-floor",
					    "inconclusive", "insufficient-data", "no-baseline" };

	(void)state;
	for (int k = VERDICT_REGRESSION; k <= VERDICT_NO_BASELINE; k++)
		assert_string_equal(verdict_name((enum verdict_kind)k), want[k]);
}

/*
 * An exact +1.0% instruction count (issue 15): 3 repetitions, every sample
 * identical, 5 baseline runs of identical values, in a suite whose 8 other
 * metrics are noisy and unchanged.  The rank test's smallest p (1/C(18, 3) =
 * 0.0012) times BH's 9 would be 0.011 > 0.01; a change measured without
 * doubt is decided on itself against its 0.5% floor, out of the family.
 */
static void test_verdict_exact_counts(void **state)
{
	enum { M = 9 };
	static double base[M][15], cur[M][3], med[M][5];
	struct verdict v[M];
	struct verdict_settings cs[M];
	struct verdict_input in;

	(void)state;
	for (size_t i = 0; i < M; i++) {
		cs[i] = (struct verdict_settings)VERDICT_SETTINGS_INIT;
		if (i == 0) {
			for (size_t j = 0; j < 15; j++)
				base[i][j] = 231928551;
			for (size_t j = 0; j < 3; j++)
				cur[i][j] = 234258391; /* +1.0045% */
			cs[i].min_effect = 0.005;
		} else {
			pattern(base[i], 15, 100, 0.1);
			pattern(cur[i], 3, 100, 0.1);
		}
		run_medians(base[i], 5, 3, med[i]);
		in = (struct verdict_input){ .base = base[i], .n_base = 15, .base_run_medians = med[i], .n_runs = 5,
					     .cur = cur[i], .n_cur = 3, .direction = RD_LOWER, .settings = cs[i] };
		verdict_measure(&in, &v[i]);
	}
	verdict_decide(v, M, cs);
	print_message("# %s\n", v[0].why);
	assert_int_equal(v[0].test, VERDICT_TEST_EXACT);
	assert_string_equal(verdict_name(v[0].kind), "regression");
	assert_non_null(strstr(v[0].why, "+1.0%, exact: no spread on either side"));
	assert_true(fabs(v[0].mde - 0.005) < 1e-12);
	for (size_t i = 1; i < M; i++)
		assert_int_equal(v[i].test, VERDICT_TEST_RANK_SUM);
	/* at the default 5% floor the same change passes, named for what it is */
	cs[0].min_effect = 0.05;
	in = (struct verdict_input){ .base = base[0], .n_base = 15, .base_run_medians = med[0], .n_runs = 5,
				     .cur = cur[0], .n_cur = 3, .direction = RD_LOWER, .settings = cs[0] };
	verdict_measure(&in, &v[0]);
	verdict_decide(v, M, cs);
	assert_string_equal(verdict_name(v[0].kind), "below-floor");
	/* and the same count again is no change at all */
	in.cur = base[0];
	verdict_measure(&in, &v[0]);
	verdict_decide(v, 1, cs);
	assert_string_equal(verdict_name(v[0].kind), "unchanged");
	assert_non_null(strstr(v[0].why, "no change at all"));
}

/* One baseline run knows nothing of the spread between runs: a significant
 * +30% is inside the prior's 45% floor, and the sentence says why. */
static void test_verdict_short_history(void **state)
{
	double base[10], cur[10], med[1];
	struct verdict_settings cs = VERDICT_SETTINGS_INIT;
	struct verdict_input in;
	struct verdict v;

	(void)state;
	pattern(base, 10, 100, 0.02);
	pattern(cur, 10, 130, 0.02);
	run_medians(base, 1, 10, med);
	in = (struct verdict_input){ .base = base, .n_base = 10, .base_run_medians = med, .n_runs = 1,
				     .cur = cur, .n_cur = 10, .direction = RD_LOWER, .settings = cs,
				     .prior = 0.15 };
	verdict_measure(&in, &v);
	verdict_decide(&v, 1, &cs);
	print_message("# %s\n", v.why);
	assert_true(fabs(v.floor - 0.45) < 1e-12);
	assert_true(v.short_history);
	assert_string_equal(verdict_name(v.kind), "below-floor");
	assert_non_null(strstr(v.why, "history too short (1 run) to judge changes under 45%"));
	/* +60% is beyond even that */
	pattern(cur, 10, 160, 0.02);
	verdict_measure(&in, &v);
	verdict_decide(&v, 1, &cs);
	assert_string_equal(verdict_name(v.kind), "regression");
}

/* A quantised metric: peak memory 13.25 MB moving by less than its 1 MiB
 * resolution is not a regression however significant; by 2 MiB it is. */
static void test_verdict_resolution(void **state)
{
	double base[50], cur[10], med[5];
	struct verdict_settings cs = VERDICT_SETTINGS_INIT;
	struct verdict_input in;
	struct verdict v;

	(void)state;
	pattern(base, 50, 13.25e6, 0.001);
	pattern(cur, 10, 13.25e6 + 0.9e6, 0.001);
	run_medians(base, 5, 10, med);
	in = (struct verdict_input){ .base = base, .n_base = 50, .base_run_medians = med, .n_runs = 5,
				     .cur = cur, .n_cur = 10, .direction = RD_LOWER, .settings = cs,
				     .abs_floor = 1048576 };
	verdict_measure(&in, &v);
	verdict_decide(&v, 1, &cs);
	print_message("# %s\n", v.why);
	assert_true(fabs(v.floor - 1048576 / v.base_median) < 1e-12);
	assert_string_equal(verdict_name(v.kind), "below-floor");
	assert_non_null(strstr(v.why, "smallest change that counts"));
	pattern(cur, 10, 13.25e6 + 2.1e6, 0.001);
	verdict_measure(&in, &v);
	verdict_decide(&v, 1, &cs);
	assert_string_equal(verdict_name(v.kind), "regression");
}

/*
 * Interleaved pairs: the machine's speed drifts by up to +-30% from pair to
 * pair, and both sides of a pair see the same speed.  +10% per pair: the
 * signed-rank test on the log-ratios sees it at once; as two independent
 * samples the drift hides it.
 */
static void test_verdict_paired(void **state)
{
	double a[12], b[12];
	struct verdict_settings cs = VERDICT_SETTINGS_INIT;
	struct verdict_input in;
	struct verdict v;

	(void)state;
	for (size_t i = 0; i < 12; i++) {
		double speed = 1 + 0.3 * sin((double)i * 2.1), jitter = 1 + 0.01 * ((double)i - 5.5) / 5.5;
		a[i] = 100 * speed;
		b[i] = 110 * speed * jitter;
	}
	in = (struct verdict_input){ .base = a, .n_base = 12, .cur = b, .n_cur = 12, .direction = RD_LOWER,
				     .settings = cs, .paired = true };
	verdict_measure(&in, &v);
	verdict_decide(&v, 1, &cs);
	print_message("# paired: %s\n", v.why);
	assert_int_equal(v.test, VERDICT_TEST_SIGNED_RANK);
	assert_string_equal(verdict_name(v.kind), "regression");
	assert_true(fabs(v.ratio - 1.1) < 0.01);
	/* every ratio above 1: the exact signed-rank p of 12 positive pairs */
	assert_true(fabs(v.p - 1.0 / 4096) < 1e-15);
	assert_non_null(strstr(v.why, "signed-rank on 12 pairs"));
	/* the floor (5%) plus a little: the pairs hardly vary */
	assert_true(v.mde >= 0.05 && v.mde < 0.06);
	/* the same data unpaired */
	in.paired = false;
	verdict_measure(&in, &v);
	verdict_decide(&v, 1, &cs);
	print_message("# unpaired: %s\n", v.why);
	assert_int_equal(v.test, VERDICT_TEST_RANK_SUM);
	assert_string_not_equal(verdict_name(v.kind), "regression");
	/* pairs broken (unequal counts): the unpaired test */
	in.paired = true;
	in.n_cur = 11;
	verdict_measure(&in, &v);
	assert_int_equal(v.test, VERDICT_TEST_RANK_SUM);
}

/* b = a x (1 + change) x (1 + split[i]): pairs within a percent of the
 * change, some of them split by a burst of other work. */
static struct verdict split_verdict(const double *split, size_t n, double change)
{
	double a[12], b[12];
	struct verdict_settings cs = VERDICT_SETTINGS_INIT;
	struct verdict_input in;
	struct verdict v;

	for (size_t i = 0; i < n; i++) {
		a[i] = 100 * (1 + 0.2 * sin((double)i));
		b[i] = a[i] * (1 + change) * (1 + 0.01 * ((double)i - 4) / 4) * (1 + split[i]);
	}
	in = (struct verdict_input){ .base = a, .n_base = n, .cur = b, .n_cur = n, .direction = RD_LOWER,
				     .settings = cs, .paired = true };
	verdict_measure(&in, &v);
	verdict_decide(&v, 1, &cs);
	return v;
}

/*
 * Pairs that a burst of other work split: 9 of 12 pairs +10% within a
 * percent, 3 pushed 25% to 35% either way.  Tested with every pair, the
 * signed-rank test cannot call it (the split pairs take its highest ranks:
 * p 0.088); the 3 are far from the rest by their size alone and set aside,
 * and the 9 left decide (min-p over both tests), with their estimate and
 * their spread.
 */
static void test_verdict_split_pairs(void **state)
{
	static const double split[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, -0.25, -0.30, 0.35 };
	struct verdict v = split_verdict(split, 12, 0.10);

	(void)state;
	print_message("# split pairs: %s; detects %.1f%%\n", v.why, v.mde * 100);
	assert_string_equal(verdict_name(v.kind), "regression");
	assert_int_equal(v.n_far, 3);
	assert_true(v.far_set_aside);
	assert_non_null(strstr(v.why, "signed-rank on 9 of 12 pairs, 3 far from the rest set aside)"));
	assert_true(v.ratio > 1.09 && v.ratio < 1.11); /* the 9 left: +9% to +11% */
	assert_true(v.p > 0x1p-9 && v.p < 0.01);        /* 2^-9 for the 9 alone, a little more for both tests */
	assert_true(v.mde < 0.10);
}

/* Far pairs that agree with the rest are not set aside: every pair
 * decides, at the p of every pair (choosing the better of both tests
 * costs nothing there: 2^-12, not 2^-9). */
static void test_verdict_far_pairs_agree(void **state)
{
	static const double split[12] = { 0, 0, 0, 0, 0, 0, 0, 0, 0, 0.30, 0.35, 0.40 };
	struct verdict v = split_verdict(split, 12, 0.10);

	(void)state;
	print_message("# far pairs that agree: %s\n", v.why);
	assert_string_equal(verdict_name(v.kind), "regression");
	assert_int_equal(v.n_far, 3);
	assert_false(v.far_set_aside);
	assert_non_null(strstr(v.why, "(signed-rank on 12 pairs)"));
	assert_true(v.p == 0x1p-12);
}

/* Too few pairs left to reach alpha (2^-6 > 0.01) once 2 of 8 are set
 * aside: inconclusive, and the sentence says where to look. */
static void test_verdict_split_few_pairs(void **state)
{
	static const double split[8] = { 0, 0, 0, 0, 0, 0, -0.30, 0.35 };
	struct verdict v = split_verdict(split, 8, 0.10);

	(void)state;
	print_message("# split, 8 pairs: %s\n", v.why);
	assert_string_equal(verdict_name(v.kind), "inconclusive");
	assert_non_null(strstr(v.why, "signed-rank on 6 of 8 pairs, 2 far from the rest set aside: other work on "
				      "the machine between a pair's halves?"));
}

/* A later look of a sequential gate tests at its share of alpha: p 0.0018
 * passes alpha 0.01 but not a look at 0.29 of it (0.0029). */
static void test_verdict_look_share(void **state)
{
	double base[50], cur[10], med[5];
	struct verdict_settings cs = VERDICT_SETTINGS_INIT;
	struct verdict_input in;
	struct verdict v;

	(void)state;
	pattern(base, 50, 100, 0.15);
	pattern(cur, 10, 112, 0.15);
	run_medians(base, 5, 10, med);
	in = (struct verdict_input){ .base = base, .n_base = 50, .base_run_medians = med, .n_runs = 0,
				     .cur = cur, .n_cur = 10, .direction = RD_LOWER, .settings = cs };
	verdict_measure(&in, &v);
	verdict_decide_at(&v, 1, &cs, 1);
	assert_string_equal(verdict_name(v.kind), "regression");
	verdict_measure(&in, &v);
	verdict_decide_at(&v, 1, &cs, 0.1);
	assert_string_equal(verdict_name(v.kind), "inconclusive");
	assert_true(fabs(v.level - 0.001) < 1e-15);
	assert_non_null(strstr(v.why, "> 0.001"));
}

/* The detectable effect grows with the family (the level shrinks) and never
 * falls below the floor. */
static void test_verdict_mde(void **state)
{
	enum { M = 10 };
	static double base[M][50], cur[M][10], med[M][5];
	struct verdict v[M];
	struct verdict_settings cs[M];
	struct verdict_input in;
	double alone;

	(void)state;
	for (size_t i = 0; i < M; i++) {
		pattern(base[i], 50, 100, 0.05);
		pattern(cur[i], 10, 100, 0.05);
		run_medians(base[i], 5, 10, med[i]);
		cs[i] = (struct verdict_settings)VERDICT_SETTINGS_INIT;
		cs[i].min_effect = 0;
		in = (struct verdict_input){ .base = base[i], .n_base = 50, .base_run_medians = med[i], .n_runs = 5,
					     .cur = cur[i], .n_cur = 10, .direction = RD_LOWER, .settings = cs[i] };
		verdict_measure(&in, &v[i]);
	}
	verdict_decide(v, 1, cs);
	alone = v[0].mde;
	verdict_decide(v, M, cs);
	print_message("# mde alone %.2f%%, among %d %.2f%%\n", alone * 100, M, v[0].mde * 100);
	assert_true(isfinite(alone) && alone > 0);
	assert_true(v[0].mde > alone);
	cs[0].min_effect = 0.5;
	in = (struct verdict_input){ .base = base[0], .n_base = 50, .base_run_medians = med[0], .n_runs = 5,
				     .cur = cur[0], .n_cur = 10, .direction = RD_LOWER, .settings = cs[0] };
	verdict_measure(&in, &v[0]);
	verdict_decide(v, 1, cs);
	assert_true(v[0].mde > 0.5);
}

static void test_settings_extra_budget(void **state)
{
	struct verdict_settings s = VERDICT_SETTINGS_INIT;
	struct errlist problems = ERRLIST_INIT;
	cJSON *j = cJSON_Parse("{\"max_extra_repetitions\": 20, \"max_extra_time\": \"90s\"}");
	cJSON *bad = cJSON_Parse("{\"max_extra_repetitions\": -1, \"max_extra_time\": \"soon\"}");

	(void)state;
	assert_int_equal(s.max_extra_repetitions, -1);
	verdict_settings_parse(j, "compare", &s, &problems);
	assert_int_equal(problems.n, 0);
	assert_int_equal(s.max_extra_repetitions, 20);
	assert_true(s.max_extra_time == 90);
	verdict_settings_parse(bad, "compare", &s, &problems);
	assert_int_equal(problems.n, 2);
	assert_non_null(strstr(problems.msgs[0], "compare.max_extra_repetitions"));
	assert_non_null(strstr(problems.msgs[1], "compare.max_extra_time"));
	errlist_release(&problems);
	cJSON_Delete(j);
	cJSON_Delete(bad);
}

/* A verdict of cur (10 samples) against k runs of 10 samples each, the
 * i-th run's median at medians[i], every sample spread by s (log scale). */
static struct verdict history_verdict(gsl_rng *rng, const double *medians, size_t k, double s)
{
	double base[60], cur[10], run_medians[6];
	struct verdict_settings cs = VERDICT_SETTINGS_INIT;
	struct verdict_input in;
	struct verdict v;

	for (size_t r = 0; r < k; r++) {
		for (size_t i = 0; i < 10; i++)
			base[r * 10 + i] = medians[r] * exp(gsl_ran_gaussian(rng, s));
		run_medians[r] = summary_median(base + r * 10, 10);
	}
	for (size_t i = 0; i < 10; i++)
		cur[i] = 100 * exp(gsl_ran_gaussian(rng, s));
	in = (struct verdict_input){ .base = base, .n_base = k * 10, .base_run_medians = run_medians, .n_runs = k,
				     .cur = cur, .n_cur = 10, .direction = RD_LOWER, .settings = cs };
	verdict_measure(&in, &v);
	verdict_decide(&v, 1, &cs);
	return v;
}

/*
 * The detectable effect beside the base (mde_paired): what 10 pairs of the
 * run's own spread would catch, whatever the history's runs do.  A history
 * whose runs differ by tens of percent cannot see 25%, where the pairs can:
 * then the gate measures them (compare_row_blind).  The figure is checked
 * against pairs simulated at it, each side spread as the run measured
 * (caught about 80% of the time, at half of it seldom), decided by the
 * verdict itself.
 */
static void test_verdict_mde_paired(void **state)
{
	static const double wide[4] = { 100, 150, 70, 120 }, tight[4] = { 100, 101, 99, 100.5 };
	gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
	struct verdict_settings cs = VERDICT_SETTINGS_INIT;
	struct verdict w, t;
	size_t trials = 1000, at_mde = 0, at_half = 0;

	(void)state;
	gsl_rng_set(rng, 23);
	w = history_verdict(rng, wide, 4, 0.02);
	gsl_rng_set(rng, 23);
	t = history_verdict(rng, tight, 4, 0.02);
	print_message("# within %.4f; wide history: detects %.1f%%, beside the base %.1f%%; tight: %.1f%%, %.1f%%\n", w.s_within, w.mde * 100,
		      w.mde_paired * 100, t.mde * 100, t.mde_paired * 100);
	assert_true(w.mde > VERDICT_MDE_FLAG);
	assert_true(w.mde_paired < VERDICT_MDE_FLAG && w.mde_paired >= cs.min_effect);
	assert_true(t.mde < VERDICT_MDE_FLAG);
	/* the same run's samples: the pairs' figure does not see the history */
	assert_true(fabs(w.mde_paired - t.mde_paired) < 1e-12);
	for (size_t k = 0; k < trials; k++) {
		double a[10], b[10], c[10];
		struct verdict_input in;
		struct verdict v;

		for (size_t i = 0; i < 10; i++) {
			a[i] = 100 * exp(gsl_ran_gaussian(rng, w.s_within));
			b[i] = 100 * (1 + w.mde_paired) * exp(gsl_ran_gaussian(rng, w.s_within));
			c[i] = 100 * (1 + w.mde_paired / 2) * exp(gsl_ran_gaussian(rng, w.s_within));
		}
		in = (struct verdict_input){ .base = a, .n_base = 10, .cur = b, .n_cur = 10, .direction = RD_LOWER,
					     .settings = cs, .paired = true };
		verdict_measure(&in, &v);
		verdict_decide(&v, 1, &cs);
		at_mde += v.kind == VERDICT_REGRESSION;
		in.cur = c;
		verdict_measure(&in, &v);
		verdict_decide(&v, 1, &cs);
		at_half += v.kind == VERDICT_REGRESSION;
		/* a paired row has no figure of its own beside the base */
		assert_true(isnan(v.mde_paired));
	}
	print_message("# pairs at it: caught %.1f%%, at half of it %.1f%%\n", 100.0 * (double)at_mde / (double)trials,
		      100.0 * (double)at_half / (double)trials);
	assert_true((double)at_mde / (double)trials >= 0.70 && (double)at_mde / (double)trials <= 0.92);
	assert_true((double)at_half / (double)trials <= 0.20);
	gsl_rng_free(rng);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_verdict_table),
		cmocka_unit_test(test_verdict_numbers),
		cmocka_unit_test(test_verdict_floor_from_spread),
		cmocka_unit_test(test_verdict_inconclusive),
		cmocka_unit_test(test_verdict_insufficient_message),
		cmocka_unit_test(test_verdict_bh_family),
		cmocka_unit_test(test_settings_parse),
		cmocka_unit_test(test_settings_layering),
		cmocka_unit_test(test_settings_validate_metrics),
		cmocka_unit_test(test_verdict_names),
		cmocka_unit_test(test_verdict_exact_counts),
		cmocka_unit_test(test_verdict_short_history),
		cmocka_unit_test(test_verdict_resolution),
		cmocka_unit_test(test_verdict_paired),
		cmocka_unit_test(test_verdict_split_pairs),
		cmocka_unit_test(test_verdict_far_pairs_agree),
		cmocka_unit_test(test_verdict_split_few_pairs),
		cmocka_unit_test(test_verdict_look_share),
		cmocka_unit_test(test_verdict_mde),
		cmocka_unit_test(test_verdict_mde_paired),
		cmocka_unit_test(test_settings_extra_budget),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
