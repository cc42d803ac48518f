/* Unit tests for core/http/lengths.c: each distribution passes a
 * Kolmogorov-Smirnov test against the distribution function that
 * docs/load.md defines (computed here from GSL, not from the module), the
 * test rejects a wrong distribution (so it can fail), draws are
 * reproducible from the seed, and bad specifications name their path. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_cdf.h>

#include "../../core/http/lengths.h"
#include "../../core/util.h"

#define N_DRAWS 20000

/* The documented law: integer k in [min, max] with probability
 * proportional to F(k + 0.5) - F(k - 0.5). */
struct law {
	const char *dist; /* "uniform", "normal", "lognormal" */
	double mean, sd;
	long min, max;
};

static double law_F(const struct law *w, double x)
{
	if (strcmp(w->dist, "normal") == 0)
		return gsl_cdf_ugaussian_P((x - w->mean) / w->sd);
	if (x <= 0)
		return 0;
	{
		double s2 = log(1 + w->sd * w->sd / (w->mean * w->mean));
		double mu = log(w->mean) - s2 / 2;

		return gsl_cdf_ugaussian_P((log(x) - mu) / sqrt(s2));
	}
}

/* P(K <= k). */
static double law_cdf(const struct law *w, long k)
{
	if (k < w->min)
		return 0;
	if (k >= w->max)
		return 1;
	if (strcmp(w->dist, "uniform") == 0)
		return (double)(k - w->min + 1) / (double)(w->max - w->min + 1);
	{
		double lo = law_F(w, (double)w->min - 0.5), hi = law_F(w, (double)w->max + 0.5);

		return (law_F(w, (double)k + 0.5) - lo) / (hi - lo);
	}
}

static int cmp_long(const void *a, const void *b)
{
	long x = *(const long *)a, y = *(const long *)b;

	return (x > y) - (x < y);
}

/* The KS distance between the sorted sample and the law.  Both are step
 * functions with jumps at integers only, so the supremum is reached at an
 * observed value or just below one. */
static double ks_distance(const long *v, size_t n, const struct law *w)
{
	double d = 0;

	for (size_t i = 0; i < n; i++) {
		size_t j = i;
		double below, at;

		while (j + 1 < n && v[j + 1] == v[i])
			j++;
		below = fabs((double)i / (double)n - law_cdf(w, v[i] - 1));
		at = fabs((double)(j + 1) / (double)n - law_cdf(w, v[i]));
		d = fmax(d, fmax(below, at));
		i = j;
	}
	return d;
}

static void draw(const char *spec, unsigned long seed, long *out, size_t n)
{
	struct http_lengths l;
	struct errlist problems = ERRLIST_INIT;
	cJSON *j = cJSON_Parse(spec);
	gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);

	assert_non_null(j);
	if (http_lengths_parse(&l, j, "prompts.input_tokens", &problems) != 0)
		fail_msg("%s: %s", spec, problems.msgs[0]);
	gsl_rng_set(r, seed);
	for (size_t i = 0; i < n; i++)
		out[i] = http_lengths_sample(&l, r);
	gsl_rng_free(r);
	cJSON_Delete(j);
	errlist_release(&problems);
}

/* Critical value of the KS distance at alpha = 0.001 (asymptotic; for a
 * discrete law the test is conservative). */
static double ks_critical(size_t n)
{
	return sqrt(-0.5 * log(0.001 / 2)) / sqrt((double)n);
}

struct ks_case {
	const char *spec;
	struct law law;
};

static const struct ks_case ks_cases[] = {
	{ "{\"dist\": \"uniform\", \"min\": 100, \"max\": 1000}", { "uniform", 0, 0, 100, 1000 } },
	{ "{\"dist\": \"uniform\", \"min\": 16, \"max\": 20}", { "uniform", 0, 0, 16, 20 } },
	{ "{\"dist\": \"normal\", \"mean\": 512, \"stddev\": 64, \"min\": 16, \"max\": 2048}",
	  { "normal", 512, 64, 16, 2048 } },
	/* heavily truncated on both sides */
	{ "{\"dist\": \"normal\", \"mean\": 100, \"stddev\": 80, \"min\": 50, \"max\": 300}", { "normal", 100, 80, 50, 300 } },
	/* narrow: a handful of integers carry all the mass */
	{ "{\"dist\": \"normal\", \"mean\": 40, \"stddev\": 1.5}", { "normal", 40, 1.5, 1, HTTP_LENGTHS_MAX } },
	{ "{\"dist\": \"lognormal\", \"mean\": 512, \"stddev\": 256}", { "lognormal", 512, 256, 1, HTTP_LENGTHS_MAX } },
	{ "{\"dist\": \"lognormal\", \"mean\": 1000, \"stddev\": 2000, \"min\": 16, \"max\": 8192}",
	  { "lognormal", 1000, 2000, 16, 8192 } },
};

static void test_ks(void **state)
{
	long *v = malloc(N_DRAWS * sizeof(*v));

	(void)state;
	for (size_t c = 0; c < ARRAY_SIZE(ks_cases); c++) {
		const struct ks_case *k = &ks_cases[c];
		double d;

		draw(k->spec, 7 + c, v, N_DRAWS);
		for (size_t i = 0; i < N_DRAWS; i++)
			if (v[i] < k->law.min || v[i] > k->law.max)
				fail_msg("%s: drew %ld, outside [%ld, %ld]", k->spec, v[i], k->law.min, k->law.max);
		qsort(v, N_DRAWS, sizeof(*v), cmp_long);
		d = ks_distance(v, N_DRAWS, &k->law);
		if (d > ks_critical(N_DRAWS))
			fail_msg("%s: KS distance %.4f over the critical %.4f", k->spec, d, ks_critical(N_DRAWS));
	}
	free(v);
}

/* The same statistic rejects a law that is a little off: the KS test above
 * is able to fail. */
static void test_ks_has_power(void **state)
{
	long *v = malloc(N_DRAWS * sizeof(*v));
	struct law shifted = { "normal", 520, 64, 16, 2048 };   /* mean off by 1/8 sd */
	struct law wider = { "lognormal", 512, 300, 1, HTTP_LENGTHS_MAX };
	struct law uniform_off = { "uniform", 0, 0, 100, 1050 };

	(void)state;
	draw("{\"dist\": \"normal\", \"mean\": 512, \"stddev\": 64, \"min\": 16, \"max\": 2048}", 3, v, N_DRAWS);
	qsort(v, N_DRAWS, sizeof(*v), cmp_long);
	assert_true(ks_distance(v, N_DRAWS, &shifted) > ks_critical(N_DRAWS));
	draw("{\"dist\": \"lognormal\", \"mean\": 512, \"stddev\": 256}", 3, v, N_DRAWS);
	qsort(v, N_DRAWS, sizeof(*v), cmp_long);
	assert_true(ks_distance(v, N_DRAWS, &wider) > ks_critical(N_DRAWS));
	draw("{\"dist\": \"uniform\", \"min\": 100, \"max\": 1000}", 3, v, N_DRAWS);
	qsort(v, N_DRAWS, sizeof(*v), cmp_long);
	assert_true(ks_distance(v, N_DRAWS, &uniform_off) > ks_critical(N_DRAWS));
	free(v);
}

/* mean and stddev are those of the lengths, not of their logarithm: an
 * untruncated lognormal's sample mean and stddev come out as asked. */
static void test_lognormal_moments(void **state)
{
	size_t n = 200000;
	long *v = malloc(n * sizeof(*v));
	double sum = 0, sq = 0, mean, sd;

	(void)state;
	draw("{\"dist\": \"lognormal\", \"mean\": 300, \"stddev\": 90}", 11, v, n);
	for (size_t i = 0; i < n; i++)
		sum += (double)v[i];
	mean = sum / (double)n;
	for (size_t i = 0; i < n; i++)
		sq += ((double)v[i] - mean) * ((double)v[i] - mean);
	sd = sqrt(sq / (double)(n - 1));
	/* 5 standard errors of the mean (90 / sqrt(n) = 0.2); rounding adds
	 * nothing to the mean and 1/12 to the variance. */
	assert_true(fabs(mean - 300) < 1.0);
	assert_true(fabs(sd - 90) < 1.5);
	free(v);
}

static void test_fixed_and_seeds(void **state)
{
	long a[64], b[64], c[64];

	(void)state;
	draw("128", 1, a, 64);
	draw("{\"dist\": \"fixed\", \"value\": 128}", 2, b, 64);
	for (size_t i = 0; i < 64; i++)
		assert_true(a[i] == 128 && b[i] == 128);
	draw("{\"dist\": \"lognormal\", \"mean\": 512, \"stddev\": 256}", 42, a, 64);
	draw("{\"dist\": \"lognormal\", \"mean\": 512, \"stddev\": 256}", 42, b, 64);
	draw("{\"dist\": \"lognormal\", \"mean\": 512, \"stddev\": 256}", 43, c, 64);
	assert_memory_equal(a, b, sizeof(a));
	assert_memory_not_equal(a, c, sizeof(a));
}

struct bad_case {
	const char *spec;
	const char *message; /* the start of the one problem expected */
};

static const struct bad_case bad_cases[] = {
	{ "0", "p.input_tokens: expected a number of tokens from 1 to 10000000" },
	{ "12.5", "p.input_tokens: expected a number of tokens from 1 to 10000000" },
	{ "\"512\"", "p.input_tokens: expected a number of tokens or {" },
	{ "{\"dist\": \"gaussian\", \"mean\": 5}", "p.input_tokens.dist: expected \"fixed\", \"uniform\"" },
	{ "{\"dist\": \"uniform\", \"min\": 10}", "p.input_tokens: \"uniform\" needs min and max" },
	{ "{\"dist\": \"uniform\", \"min\": 10, \"max\": 5}", "p.input_tokens: min (10) is above max (5)" },
	{ "{\"dist\": \"normal\", \"mean\": 100}", "p.input_tokens: \"normal\" needs mean and stddev" },
	{ "{\"dist\": \"normal\", \"mean\": 100, \"stddev\": -1}", "p.input_tokens.stddev: must be a number > 0" },
	{ "{\"dist\": \"normal\", \"mean\": 10, \"stdev\": 1}", "p.input_tokens.stdev: unknown key; did you mean \"stddev\"?" },
	{ "{\"dist\": \"fixed\"}", "p.input_tokens.value: required for \"fixed\"" },
	{ "{\"dist\": \"lognormal\", \"mean\": 10, \"stddev\": 1, \"min\": 5000, \"max\": 6000}",
	  "p.input_tokens: no length between min 5000 and max 6000 is likely" },
	{ "{\"dist\": \"uniform\", \"min\": 1, \"max\": 20000000}", "p.input_tokens.max: at most 10000000 tokens" },
};

static void test_bad_specs(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(bad_cases); i++) {
		struct errlist problems = ERRLIST_INIT;
		cJSON *j = cJSON_Parse(bad_cases[i].spec);

		assert_non_null(j);
		assert_int_equal(http_lengths_parse(NULL, j, "p.input_tokens", &problems), ERR_INPUT);
		assert_true(problems.n >= 1);
		if (strncmp(problems.msgs[0], bad_cases[i].message, strlen(bad_cases[i].message)) != 0)
			fail_msg("%s: got \"%s\", expected \"%s...\"", bad_cases[i].spec, problems.msgs[0],
				 bad_cases[i].message);
		errlist_release(&problems);
		cJSON_Delete(j);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_ks),
		cmocka_unit_test(test_ks_has_power),
		cmocka_unit_test(test_lognormal_moments),
		cmocka_unit_test(test_fixed_and_seeds),
		cmocka_unit_test(test_bad_specs),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
