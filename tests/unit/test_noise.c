/*
 * Unit tests for core/noise.c: the noise floor (min_effect, the spread
 * between runs, the short-history prior and how runs tighten it, the
 * resolution floor of quantised metrics), the per-metric rules, zero-spread
 * samples; outliers by modified z-score, a slow first run, the coefficient
 * of variation.  Expected values are worked by hand from the definitions in
 * noise.h.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include "../../core/noise.h"
#include "../../core/util.h"

static const struct {
	const char *name;
	double v[12];
	size_t n;
	size_t outliers;
	bool slow_first;
	double cv; /* < 0: do not check */
} cases[] = {
	/* median 10, |dev| = 0,1,1,2,2 -> MAD 1; none beyond 3.5/0.6745 = 5.19 */
	{ "steady", { 10, 9, 11, 8, 12 }, 5, 0, false, -1 },
	/* median 10, MAD 1: 30 has M = 0.6745 * 20 = 13.5 */
	{ "one high outlier", { 10, 9, 11, 10, 30, 9, 11 }, 7, 1, false, -1 },
	/* the same outlier first */
	{ "slow first run", { 30, 10, 9, 11, 10, 9, 11 }, 7, 1, true, -1 },
	/* a low outlier is an outlier but not a slow first run */
	{ "fast first run", { 1, 10, 9, 11, 10, 9, 11 }, 7, 1, false, -1 },
	/* all equal: MAD 0, nothing flagged, cv 0 */
	{ "constant", { 5, 5, 5, 5 }, 4, 0, false, 0 },
	/* mean 2, sample sd 1 -> cv 0.5 */
	{ "cv", { 1, 2, 3 }, 3, 0, false, 0.5 },
	/* too few samples: nothing */
	{ "two samples", { 1, 100 }, 2, 0, false, 0 },
};

static void test_analyse(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct noise_report r;
		noise_analyse(cases[i].v, cases[i].n, &r);
		if (r.outliers != cases[i].outliers || r.slow_first != cases[i].slow_first)
			print_error("case %s: outliers %zu slow_first %d\n", cases[i].name, r.outliers,
				    r.slow_first);
		assert_int_equal(r.outliers, cases[i].outliers);
		assert_int_equal(r.slow_first, cases[i].slow_first);
		if (cases[i].cv >= 0)
			assert_true(fabs(r.cv - cases[i].cv) < 1e-12);
	}
}

static void test_warnings(void **state)
{
	static const double slow[] = { 30, 10, 9, 11, 10, 9, 11 };
	static const double noisy[] = { 1, 2, 3 };
	cJSON *w = cJSON_CreateArray();

	(void)state;
	noise_warn("wall", slow, ARRAY_SIZE(slow), false, w);
	assert_int_equal(cJSON_GetArraySize(w), 3);
	assert_string_equal(cJSON_GetArrayItem(w, 0)->valuestring,
			    "wall: 1 of 7 samples are outliers (modified z-score > 3.5)");
	/* 30 / median(10, 9, 11, 10, 9, 11) = 30 / 10 */
	assert_string_equal(cJSON_GetArrayItem(w, 1)->valuestring,
			    "wall: the first repetition took 3.0x the median of the others; add \"warmup\"");
	assert_non_null(strstr(cJSON_GetArrayItem(w, 2)->valuestring, "wall: coefficient of variation "));
	cJSON_Delete(w);

	/* With a warmup the advice is not repeated; the outlier still is. */
	w = cJSON_CreateArray();
	noise_warn("wall", slow, ARRAY_SIZE(slow), true, w);
	assert_int_equal(cJSON_GetArraySize(w), 2);
	cJSON_Delete(w);

	w = cJSON_CreateArray();
	noise_warn("instructions", noisy, ARRAY_SIZE(noisy), false, w);
	assert_int_equal(cJSON_GetArraySize(w), 1);
	assert_string_equal(cJSON_GetArrayItem(w, 0)->valuestring,
			    "instructions: coefficient of variation 50.0% is over 10%");
	cJSON_Delete(w);
}

#define CLOSE(a, b) assert_true(fabs((a) - (b)) < 1e-9)

/* The short-history floor: one run knows nothing of the spread between
 * runs, so the prior stands in (15% -> a 45% floor); a second run's spread
 * pools with it (prior weight 2); from the third run on the measured
 * spread alone decides. */
static void test_floor_short_history(void **state)
{
	struct noise_floor f;
	struct noise_floor_input in = { .min_effect = 0.05, .spread = 0, .n_runs = 1, .prior = 0.15 };

	(void)state;
	noise_floor_compute(&in, &f);
	CLOSE(f.spread, 0.15);
	CLOSE(f.floor, 0.45);
	assert_int_equal(f.source, NOISE_FLOOR_PRIOR);
	assert_true(f.short_history);
	/* two runs 3% apart: sqrt((2 * 0.15^2 + 1 * 0.03^2) / 3) = sqrt(0.0153) */
	in.n_runs = 2;
	in.spread = 0.03;
	noise_floor_compute(&in, &f);
	CLOSE(f.spread, sqrt(0.0153));
	CLOSE(f.floor, 3 * sqrt(0.0153));
	assert_true(f.short_history);
	/* two runs far apart: the measured spread is the larger, and decides */
	in.spread = 0.3;
	noise_floor_compute(&in, &f);
	CLOSE(f.spread, 0.3);
	CLOSE(f.floor, 0.9);
	assert_int_equal(f.source, NOISE_FLOOR_SPREAD);
	assert_false(f.short_history);
	/* three runs: the history speaks for itself */
	in.n_runs = 3;
	in.spread = 0.01;
	noise_floor_compute(&in, &f);
	CLOSE(f.spread, 0.01);
	CLOSE(f.floor, 0.05);
	assert_int_equal(f.source, NOISE_FLOOR_MIN_EFFECT);
	assert_false(f.short_history);
	in.spread = 0.04;
	noise_floor_compute(&in, &f);
	CLOSE(f.floor, 0.12);
	assert_int_equal(f.source, NOISE_FLOOR_SPREAD);
	/* no prior known: a short history falls back on what it has */
	in.n_runs = 1;
	in.spread = 0;
	in.prior = NAN;
	noise_floor_compute(&in, &f);
	CLOSE(f.floor, 0.05);
	assert_false(f.short_history);
}

/* The machine's recorded run-to-run change widens the floor at every
 * history length, never narrows it, and says so in the floor's source. */
static void test_floor_machine(void **state)
{
	struct noise_floor f;
	struct noise_floor_input in = { .min_effect = 0.05, .spread = 0.01, .n_runs = 5, .prior = 0.15,
					.machine_jump = 0.5 };

	(void)state;
	noise_floor_compute(&in, &f);
	CLOSE(f.floor, 0.5);
	assert_int_equal(f.source, NOISE_FLOOR_MACHINE);
	CLOSE(f.spread, 0.01);
	assert_false(f.short_history);
	/* a quiet machine leaves min_effect, and a wide history its spread */
	in.machine_jump = 0.02;
	noise_floor_compute(&in, &f);
	CLOSE(f.floor, 0.05);
	assert_int_equal(f.source, NOISE_FLOOR_MIN_EFFECT);
	in.spread = 0.2;
	in.machine_jump = 0.5;
	noise_floor_compute(&in, &f);
	CLOSE(f.floor, 0.6);
	assert_int_equal(f.source, NOISE_FLOOR_SPREAD);
	/* one run: the machine over the prior's 45%, or the prior over it */
	in.n_runs = 1;
	in.spread = 0;
	noise_floor_compute(&in, &f);
	CLOSE(f.floor, 0.5);
	assert_int_equal(f.source, NOISE_FLOOR_MACHINE);
	assert_false(f.short_history);
	in.machine_jump = 0.3;
	noise_floor_compute(&in, &f);
	CLOSE(f.floor, 0.45);
	assert_int_equal(f.source, NOISE_FLOOR_PRIOR);
	assert_true(f.short_history);
	/* a coarser resolution wins over it; none known changes nothing */
	in.n_runs = 5;
	in.abs_floor = 1;
	in.base_median = 1.6;
	noise_floor_compute(&in, &f);
	CLOSE(f.floor, 0.625);
	assert_int_equal(f.source, NOISE_FLOOR_RESOLUTION);
	in.abs_floor = 0;
	in.machine_jump = NAN;
	noise_floor_compute(&in, &f);
	CLOSE(f.floor, 0.05);
	assert_int_equal(f.source, NOISE_FLOOR_MIN_EFFECT);
	assert_string_equal(noise_floor_source_name(NOISE_FLOOR_MACHINE), "machine");
}

/* The resolution floor: an absolute minimum change, relative to the
 * baseline's median, wins when it is the larger. */
static void test_floor_resolution(void **state)
{
	struct noise_floor f;
	/* 1 MiB of a 13 MB peak: 1048576 / 13250560 = 7.91% */
	struct noise_floor_input in = { .min_effect = 0.05, .spread = 0.001, .n_runs = 5,
					.abs_floor = 1048576, .base_median = 13250560 };

	(void)state;
	noise_floor_compute(&in, &f);
	CLOSE(f.floor, 1048576.0 / 13250560.0);
	assert_int_equal(f.source, NOISE_FLOOR_RESOLUTION);
	/* 1 MiB of 200 MB is 0.5%: min_effect wins */
	in.base_median = 200e6;
	noise_floor_compute(&in, &f);
	CLOSE(f.floor, 0.05);
	assert_int_equal(f.source, NOISE_FLOOR_MIN_EFFECT);
	/* a zero baseline cannot make it relative: the absolute test is the
	 * verdict's (verdict.c), the relative floor stays min_effect */
	in.base_median = 0;
	noise_floor_compute(&in, &f);
	CLOSE(f.floor, 0.05);
	assert_string_equal(noise_floor_source_name(NOISE_FLOOR_RESOLUTION), "resolution");
	assert_string_equal(noise_floor_source_name(NOISE_FLOOR_PRIOR), "short history");
}

static void test_rules(void **state)
{
	const struct noise_rule *r;
	size_t n;

	(void)state;
	r = noise_rule_for("max_rss", "B");
	CLOSE(r->abs_floor, 1048576);
	assert_true(r->gate);
	r = noise_rule_for("instructions", "1");
	CLOSE(r->min_effect, 0.005);
	CLOSE(r->prior, 0);
	r = noise_rule_for("latency.p95", "s");
	CLOSE(r->prior, 0.15);
	assert_string_equal(r->unit, "s");
	/* a sweep step's metric takes its family's rule */
	assert_ptr_equal(noise_rule_for("latency.p95@100/s", "s"), r);
	r = noise_rule_for("errors.timeout", "1");
	assert_false(r->gate);
	/* a family prefix needs something after the dot */
	assert_true(noise_rule_for("errors", "1")->gate);
	r = noise_rule_for("throughput", "1/s");
	assert_string_equal(r->unit, "1/s");
	r = noise_rule_for("wall_rel", "1");
	CLOSE(r->prior, 0.05);
	r = noise_rule_for("score", "1");
	CLOSE(r->prior, 0.05);
	assert_null(r->unit);
	assert_ptr_equal(noise_rule_for(NULL, NULL), r);
	assert_ptr_equal(noise_rules(&n) + n - 1, r);
}

static void test_zero_spread(void **state)
{
	static const double counts[] = { 231928551, 231928551, 231928551 };
	static const double hw[] = { 231928551, 231931002, 231929870 }; /* 1e-5 apart */
	static const double wall[] = { 0.0301, 0.0305, 0.0299 };
	static const double rate[] = { 0, 0.0005, 0.001 };

	(void)state;
	assert_true(noise_zero_spread(counts, 3, 0));
	assert_true(noise_zero_spread(hw, 3, 0));
	assert_false(noise_zero_spread(wall, 3, 0));
	assert_false(noise_zero_spread(rate, 3, 0));
	/* within the metric's step (an error rate's 1 point) */
	assert_true(noise_zero_spread(rate, 3, 0.01));
	assert_false(noise_zero_spread(counts, 0, 0));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_floor_short_history),
		cmocka_unit_test(test_floor_machine),
		cmocka_unit_test(test_floor_resolution),
		cmocka_unit_test(test_rules),
		cmocka_unit_test(test_zero_spread),
		cmocka_unit_test(test_analyse),
		cmocka_unit_test(test_warnings),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
