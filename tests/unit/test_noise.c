/*
 * Unit tests for core/noise.c: outliers by modified z-score, a slow first
 * run, the coefficient of variation.  Expected values are worked by hand
 * from the definitions in noise.h.
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_analyse),
		cmocka_unit_test(test_warnings),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
