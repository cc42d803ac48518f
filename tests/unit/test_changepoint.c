/* Unit tests for core/changepoint.c: E-divisive Q, Welch t-test, detection on
 * synthetic series with known steps, noise and outliers, and the suite's
 * "changepoints" settings. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#include "../../core/changepoint.h"
#include "../../core/util.h"
#include "../fixtures/changepoint/welch_reference.h"

static void test_q_by_hand(void **state)
{
	/* X = {0, 0}, Y = {1, 1}: within-sums 0, cross-sum 4 -> E = 2*4/4 = 2,
	 * Q = 2*2/4 * 2 = 2. */
	static const double x[] = { 0, 0, 1, 1 };
	/* X = {0, 0, 1}, Y = {1}: not allowed (needs 2 a side); tau = 1 neither. */
	static const double y[] = { 1, 3, 2, 6, 8 };

	(void)state;
	assert_true(fabs(changepoint_q(x, 4, 2) - 2) < 1e-12);
	/* y split at 3: X = {1,3,2}, Y = {6,8}; cross |.| sum = 5+7+3+5+4+6 = 30,
	 * XX = 2+1+1 = 4, YY = 2; E = 2*30/6 - 4/3 - 2/1 = 10 - 4/3 - 2 = 20/3;
	 * Q = 6/5 * 20/3 = 8. */
	assert_true(fabs(changepoint_q(y, 5, 3) - 8) < 1e-12);
}

static void test_welch_reference(void **state)
{
	/* Reference p-values from scipy.stats.ttest_ind(a, b, equal_var=False),
	 * see tests/fixtures/changepoint/welch_reference.py. */
	static const double a1[] = { 1.0, 1.1, 0.9, 1.05, 0.95 }, b1[] = { 1.2, 1.25, 1.15, 1.3 };
	static const double a2[] = { 10, 12, 11, 13, 9, 10, 11 }, b2[] = { 10.5, 11.5, 12, 10, 11 };
	static const double a3[] = { 1, 2 }, b3[] = { 3, 5, 4, 6, 7, 8 };
	static const struct {
		const double *a, *b;
		size_t na, nb;
		double p;
	} cases[] = {
		{ a1, b1, 5, 4, WELCH_P1 },
		{ a2, b2, 7, 5, WELCH_P2 },
		{ a3, b3, 2, 6, WELCH_P3 },
	};
	static const double c1[] = { 2, 2, 2 }, c2[] = { 3, 3, 3 };

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		double p = changepoint_welch_p(cases[i].a, cases[i].na, cases[i].b, cases[i].nb);
		assert_true(fabs(p - cases[i].p) <= 1e-9 * cases[i].p + 1e-12);
	}
	/* Constant segments: equal means no change, different means certain. */
	assert_true(changepoint_welch_p(c1, 3, c1, 3) == 1);
	assert_true(changepoint_welch_p(c1, 3, c2, 3) == 0);
	/* Too few points to test. */
	assert_true(changepoint_welch_p(c1, 1, c2, 3) == 1);
}

/* Series with steps at known places: level 1.0, multiplied at each step. */
struct synth {
	size_t n;
	size_t steps[8];
	double factors[8]; /* level multiplier from the step on */
	size_t n_steps;
	double noise;      /* relative sd of Gaussian noise */
	double outliers;   /* fraction of points replaced by 1.5-3x spikes */
};

static double *synth_series(const struct synth *s, gsl_rng *rng)
{
	double *x = xmalloc(s->n * sizeof(*x));
	double level = 1.0;
	size_t k = 0;

	for (size_t i = 0; i < s->n; i++) {
		while (k < s->n_steps && s->steps[k] == i)
			level *= s->factors[k++];
		x[i] = level * (1 + gsl_ran_gaussian(rng, s->noise));
		if (s->outliers > 0 && gsl_rng_uniform(rng) < s->outliers)
			x[i] = level * (1.5 + 1.5 * gsl_rng_uniform(rng));
	}
	return x;
}

static void detect(const double *x, size_t n, const struct changepoint_params *p,
		   struct changepoint **cps, size_t *n_cps)
{
	struct err err = ERR_INIT;

	assert_int_equal(changepoint_detect(x, n, p, cps, n_cps, &err), 0);
	for (size_t i = 1; i < *n_cps; i++)
		assert_true((*cps)[i - 1].index < (*cps)[i].index);
}

static void test_clean_step(void **state)
{
	struct changepoint_params p = CHANGEPOINT_PARAMS_INIT;
	struct changepoint *cps;
	size_t n_cps;
	double x[120];

	(void)state;
	/* Deterministic small wobble (+-0.5%), a 20% step at 70. */
	for (size_t i = 0; i < ARRAY_SIZE(x); i++)
		x[i] = (i < 70 ? 1.0 : 1.2) * (1 + 0.005 * ((double)(i % 5) - 2) / 2);
	detect(x, ARRAY_SIZE(x), &p, &cps, &n_cps);
	assert_int_equal(n_cps, 1);
	assert_int_equal(cps[0].index, 70);
	assert_int_equal(cps[0].n_before, 70);
	assert_int_equal(cps[0].n_after, 50);
	assert_true(fabs(cps[0].magnitude - 0.2) < 0.005);
	assert_true(cps[0].p < 1e-10);
	free(cps);
}

static void test_no_change(void **state)
{
	struct changepoint_params p = CHANGEPOINT_PARAMS_INIT;
	struct changepoint *cps;
	size_t n_cps;
	double flat[200];

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(flat); i++)
		flat[i] = 5;
	detect(flat, ARRAY_SIZE(flat), &p, &cps, &n_cps);
	assert_int_equal(n_cps, 0);
	assert_null(cps);
	detect(flat, 0, &p, &cps, &n_cps);
	assert_int_equal(n_cps, 0);
	detect(flat, 5, &p, &cps, &n_cps); /* shorter than two minimum segments */
	assert_int_equal(n_cps, 0);
}

static void test_min_magnitude(void **state)
{
	struct changepoint_params p = CHANGEPOINT_PARAMS_INIT;
	struct changepoint *cps;
	size_t n_cps;
	double x[100];

	(void)state;
	/* A very significant 2% step: below the default 5% minimum. */
	for (size_t i = 0; i < ARRAY_SIZE(x); i++)
		x[i] = (i < 50 ? 1.0 : 1.02) + 0.0005 * (double)(i % 3);
	detect(x, ARRAY_SIZE(x), &p, &cps, &n_cps);
	assert_int_equal(n_cps, 0);
	p.min_magnitude = 0.01;
	detect(x, ARRAY_SIZE(x), &p, &cps, &n_cps);
	assert_int_equal(n_cps, 1);
	assert_int_equal(cps[0].index, 50);
	free(cps);
}

static void test_two_constant_levels(void **state)
{
	struct changepoint_params p = CHANGEPOINT_PARAMS_INIT;
	struct changepoint *cps;
	size_t n_cps;
	double x[300];

	(void)state;
	/* Noise-free: down 30% at 100, back up at 220 (an improvement, then a
	 * regression); far apart so that each is alone in its windows. */
	for (size_t i = 0; i < ARRAY_SIZE(x); i++)
		x[i] = (i >= 100 && i < 220) ? 7.0 : 10.0;
	detect(x, ARRAY_SIZE(x), &p, &cps, &n_cps);
	assert_int_equal(n_cps, 2);
	assert_int_equal(cps[0].index, 100);
	assert_int_equal(cps[1].index, 220);
	assert_true(fabs(cps[0].magnitude + 0.3) < 1e-12);
	assert_true(fabs(cps[1].mean_after - 10) < 1e-12);
	assert_true(fabs(cps[1].mean_before - 7) < 1e-12);
	free(cps);
}

/*
 * Precision and recall over many random series.  A found point within +-tol
 * of a true step counts once as a true positive; anything else is a false
 * positive.  The thresholds are what a user needs (docs/statistics.md
 * reports the measured numbers from tests/perf/changepoint_bench).
 */
static void score(const struct synth *s, bool robust, size_t trials, size_t tol, size_t *tp_out,
		  size_t *fp_out, size_t *fn_out)
{
	struct changepoint_params p = CHANGEPOINT_PARAMS_INIT;
	gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
	size_t tp = 0, fp = 0, fn = 0;

	p.robust = robust;
	gsl_rng_set(rng, 42);
	for (size_t t = 0; t < trials; t++) {
		double *x = synth_series(s, rng);
		struct changepoint *cps;
		size_t n_cps;
		bool hit[8] = { false };

		detect(x, s->n, &p, &cps, &n_cps);
		for (size_t i = 0; i < n_cps; i++) {
			bool matched = false;
			for (size_t k = 0; k < s->n_steps; k++) {
				size_t d = cps[i].index > s->steps[k] ? cps[i].index - s->steps[k]
								      : s->steps[k] - cps[i].index;
				if (d <= tol && !hit[k]) {
					hit[k] = matched = true;
					break;
				}
			}
			if (matched)
				tp++;
			else
				fp++;
		}
		for (size_t k = 0; k < s->n_steps; k++)
			fn += !hit[k];
		free(cps);
		free(x);
	}
	gsl_rng_free(rng);
	*tp_out = tp;
	*fp_out = fp;
	*fn_out = fn;
}

static void test_synthetic_precision_recall(void **state)
{
	/* 10% and 20% steps under 2% noise, with and without 2% outliers. */
	static const struct synth clean = { 400, { 60, 150, 230, 330 }, { 1.2, 0.9, 1.1, 0.8 }, 4, 0.02, 0 };
	static const struct synth spiky = { 400, { 60, 150, 230, 330 }, { 1.2, 0.9, 1.1, 0.8 }, 4, 0.02, 0.02 };
	/* No step at all: every point found is false. */
	static const struct synth none = { 400, { 0 }, { 1 }, 0, 0.03, 0.02 };
	size_t tp, fp, fn;

	(void)state;
	/* Clean steps: precision and recall at least 95% (200 true steps). */
	score(&clean, true, 50, 2, &tp, &fp, &fn);
	assert_true(tp >= 190 && fp <= 10 && fn <= 10);
	score(&clean, false, 50, 2, &tp, &fp, &fn);
	assert_true(tp >= 190 && fp <= 10 && fn <= 10);
	/* Spikes: Otava's plain t-test loses steps in the inflated variance
	 * but must not turn spikes into change points; the winsorised test
	 * finds the steps again (at least 90%). */
	score(&spiky, false, 50, 2, &tp, &fp, &fn);
	assert_true((double)fp <= 0.15 * (double)(tp + fp));
	assert_true(tp < 150); /* the weakness the robust test exists for */
	score(&spiky, true, 50, 2, &tp, &fp, &fn);
	assert_true(tp >= 180 && fp <= 20);
	/* Flat noisy series with spikes: at most 2 false points in 20,000 runs. */
	score(&none, true, 50, 2, &tp, &fp, &fn);
	assert_int_equal(tp, 0);
	assert_true(fp <= 2);
	score(&none, false, 50, 2, &tp, &fp, &fn);
	assert_true(fp <= 2);
}

static void test_step_near_tail(void **state)
{
	struct changepoint_params p = CHANGEPOINT_PARAMS_INIT;
	struct changepoint *cps;
	size_t n_cps;
	double x[80];

	(void)state;
	/* A 25% regression in the last 6 runs is confirmed already. */
	for (size_t i = 0; i < ARRAY_SIZE(x); i++)
		x[i] = (i < 74 ? 1.0 : 1.25) * (1 + 0.01 * ((double)(i % 4) - 1.5));
	detect(x, ARRAY_SIZE(x), &p, &cps, &n_cps);
	assert_int_equal(n_cps, 1);
	assert_int_equal(cps[0].index, 74);
	free(cps);
}

static void test_bad_input(void **state)
{
	struct changepoint_params p = CHANGEPOINT_PARAMS_INIT;
	struct changepoint *cps;
	size_t n_cps;
	struct err err = ERR_INIT;
	double x[10] = { 1, 1, 1, 1, NAN, 1, 1, 1, 1, 1 };

	(void)state;
	assert_int_equal(changepoint_detect(x, 10, &p, &cps, &n_cps, &err), ERR_INPUT);
	assert_string_equal(err.msg, "series value 4 is not a finite number");
	x[4] = 1;
	p.window = 4;
	assert_int_equal(changepoint_detect(x, 10, &p, &cps, &n_cps, &err), ERR_INPUT);
	p = (struct changepoint_params)CHANGEPOINT_PARAMS_INIT;
	p.p_max = 0;
	assert_int_equal(changepoint_detect(x, 10, &p, &cps, &n_cps, &err), ERR_INPUT);
}

static void test_params_parse(void **state)
{
	struct changepoint_params p = CHANGEPOINT_PARAMS_INIT;
	struct errlist problems = ERRLIST_INIT;
	cJSON *good = cJSON_Parse("{\"p_max\": 0.01, \"min_magnitude\": \"2.5%\", \"window\": 30, \"step\": 10, \"robust\": false}");
	cJSON *bad = cJSON_Parse("{\"pmax\": 0.01, \"min_magnitude\": \"lots\", \"window\": -3, \"p_max\": 2}");

	(void)state;
	changepoint_params_parse(good, "changepoints", &p, &problems);
	assert_int_equal(problems.n, 0);
	assert_true(p.p_max == 0.01);
	assert_true(fabs(p.min_magnitude - 0.025) < 1e-15);
	assert_int_equal(p.window, 30);
	assert_int_equal(p.step, 10);
	assert_false(p.robust);
	changepoint_params_parse(bad, "changepoints", &p, &problems);
	assert_int_equal(problems.n, 4);
	assert_string_equal(problems.msgs[0], "changepoints.pmax: unknown key; did you mean \"p_max\"?");
	assert_string_equal(problems.msgs[1], "changepoints.p_max: expected a number in (0, 1), got 2");
	assert_string_equal(problems.msgs[2],
			    "changepoints.min_magnitude: expected a fraction such as 0.05 or \"5%\", got \"lots\"");
	assert_string_equal(problems.msgs[3], "changepoints.window: expected a whole number >= 0, got -3");
	errlist_release(&problems);
	cJSON_Delete(good);
	cJSON_Delete(bad);
}

static void test_params_from_suite(void **state)
{
	struct changepoint_params p;
	struct errlist problems = ERRLIST_INIT;
	cJSON *cmp = cJSON_Parse("{\"alpha\": 0.01, \"min_effect\": \"3%\"}");
	cJSON *cpo = cJSON_Parse("{\"p_max\": 0.0001}");
	cJSON *both = cJSON_Parse("{\"min_magnitude\": 0.2}");

	(void)state;
	/* min_magnitude follows compare.min_effect ... */
	changepoint_params_from_suite(cmp, cpo, &p, &problems);
	assert_int_equal(problems.n, 0);
	assert_true(fabs(p.min_magnitude - 0.03) < 1e-15);
	assert_true(p.p_max == 0.0001);
	assert_int_equal(p.window, 50);
	/* ... unless the changepoints object says otherwise. */
	changepoint_params_from_suite(cmp, both, &p, &problems);
	assert_true(p.min_magnitude == 0.2);
	/* Neither: the defaults. */
	changepoint_params_from_suite(NULL, NULL, &p, &problems);
	assert_true(p.p_max == 0.001 && p.min_magnitude == 0.05 && p.robust);
	assert_int_equal(problems.n, 0);
	cJSON_Delete(cmp);
	cJSON_Delete(cpo);
	cJSON_Delete(both);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_q_by_hand),
		cmocka_unit_test(test_welch_reference),
		cmocka_unit_test(test_clean_step),
		cmocka_unit_test(test_no_change),
		cmocka_unit_test(test_min_magnitude),
		cmocka_unit_test(test_two_constant_levels),
		cmocka_unit_test(test_step_near_tail),
		cmocka_unit_test(test_synthetic_precision_recall),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_params_parse),
		cmocka_unit_test(test_params_from_suite),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
