/* Unit tests for core/schedule.c: counts, rates and gap distributions
 * (Kolmogorov-Smirnov against the exponential and gamma laws), ramps,
 * seeding, and interleaving of worker shares. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>

#include <gsl/gsl_cdf.h>

#include "../../core/http/schedule.h"
#include "../../core/util.h"

static struct http_schedule *open_sched(enum http_schedule_arrival a, double burst, uint64_t seed,
				   const struct http_schedule_segment *seg, size_t n, double share, size_t index)
{
	struct http_schedule_options o = HTTP_SCHEDULE_OPTIONS_INIT;
	struct http_schedule *s = NULL;
	struct err err = ERR_INIT;

	o.arrival = a;
	o.burstiness = burst;
	o.seed = seed;
	o.segments = seg;
	o.n_segments = n;
	o.share = share;
	o.index = index;
	assert_int_equal(http_schedule_open(&s, &o, &err), 0);
	return s;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/* KS statistic of samples against a CDF.  Times are whole nanoseconds, so a
 * gap is known to +-1 ns only: the empirical CDF after a run of ties is
 * compared with F(x + 1 ns), before it with F(x - 1 ns). */
static double ks(double *v, size_t n, double (*cdf)(double, const double *), const double *par)
{
	double d = 0;

	qsort(v, n, sizeof(*v), cmp_d);
	for (size_t i = 0; i < n;) {
		size_t j = i;

		while (j < n && v[j] == v[i])
			j++;
		d = fmax(d, cdf(v[i] - 1e-9, par) - (double)i / (double)n);
		d = fmax(d, (double)j / (double)n - cdf(v[i] + 1e-9, par));
		i = j;
	}
	return d;
}
static double cdf_exp(double x, const double *p) { return 1 - exp(-x * p[0]); }
static double cdf_gamma(double x, const double *p) { return gsl_cdf_gamma_P(x, p[0], p[1]); }

static void test_constant(void **state)
{
	struct http_schedule_segment seg = { 10, 1000, 1000 };
	struct http_schedule *s = open_sched(SCHED_CONSTANT, 1, 1, &seg, 1, 1, 0);
	uint64_t t, prev = 0, n = 0;

	(void)state;
	while ((t = http_schedule_next(s)) != SCHED_END) {
		if (n == 0)
			assert_int_equal(t, 0);
		else
			assert_true(t - prev >= 999999 && t - prev <= 1000001);
		prev = t;
		n++;
	}
	assert_true(n >= 9999 && n <= 10001);
	http_schedule_free(s);
}

static void test_poisson_gaps(void **state)
{
	static const uint64_t seeds[] = { 1, 42, 9001 };
	struct http_schedule_segment seg = { INFINITY, 10000, 10000 };
	size_t n = 100000;
	double *gaps = xmalloc(n * sizeof(*gaps));
	double par[1] = { 10000 };

	(void)state;
	for (size_t k = 0; k < ARRAY_SIZE(seeds); k++) {
		struct http_schedule *s = open_sched(SCHED_POISSON, 1, seeds[k], &seg, 1, 1, 0);
		uint64_t prev = http_schedule_next(s);
		double sum = 0;

		for (size_t i = 0; i < n; i++) {
			uint64_t t = http_schedule_next(s);
			gaps[i] = (double)(t - prev) / 1e9;
			sum += gaps[i];
			prev = t;
		}
		/* mean gap 100 us within 1% (sd of the mean is 0.32%) */
		assert_true(fabs(sum / (double)n - 1e-4) < 1e-6);
		/* KS at alpha = 0.1%: critical value 1.95 / sqrt(n) */
		assert_true(ks(gaps, n, cdf_exp, par) < 1.95 / sqrt((double)n));
		/* and the test can fail: the same gaps are not exponential at rate 12000 */
		par[0] = 12000;
		assert_true(ks(gaps, n, cdf_exp, par) > 1.95 / sqrt((double)n));
		par[0] = 10000;
		http_schedule_free(s);
	}
	free(gaps);
}

static void test_gamma_gaps(void **state)
{
	static const double shapes[] = { 0.25, 0.5, 4 };
	struct http_schedule_segment seg = { INFINITY, 500, 500 };
	size_t n = 50000;
	double *gaps = xmalloc(n * sizeof(*gaps));

	(void)state;
	for (size_t k = 0; k < ARRAY_SIZE(shapes); k++) {
		struct http_schedule *s = open_sched(SCHED_GAMMA, shapes[k], 7, &seg, 1, 1, 0);
		uint64_t prev = http_schedule_next(s);
		double sum = 0, sum2 = 0, mean, cv2;
		/* gamma with shape k and mean 1/rate: scale = 1 / (k rate) */
		double par[2] = { shapes[k], 1.0 / (shapes[k] * 500) };

		for (size_t i = 0; i < n; i++) {
			uint64_t t = http_schedule_next(s);
			gaps[i] = (double)(t - prev) / 1e9;
			sum += gaps[i];
			sum2 += gaps[i] * gaps[i];
			prev = t;
		}
		mean = sum / (double)n;
		cv2 = (sum2 / (double)n - mean * mean) / (mean * mean);
		assert_true(fabs(mean - 1.0 / 500) < 0.03 / 500);      /* rate kept */
		assert_true(fabs(cv2 - 1.0 / shapes[k]) < 0.1 / shapes[k]); /* CV^2 = 1/shape */
		assert_true(ks(gaps, n, cdf_gamma, par) < 1.95 / sqrt((double)n));
		http_schedule_free(s);
	}
	free(gaps);
}

static void test_ramp_and_spike(void **state)
{
	/* 0 -> 1000/s over 10 s: 5000 arrivals, a quarter of them in the first half. */
	struct http_schedule_segment ramp = { 10, 0, 1000 };
	/* spike: 100/s for 2 s, 500/s for 1 s, 100/s for 2 s = 900 arrivals */
	struct http_schedule_segment spike[] = { { 2, 100, 100 }, { 1, 500, 500 }, { 2, 100, 100 } };
	struct http_schedule *s = open_sched(SCHED_CONSTANT, 1, 1, &ramp, 1, 1, 0);
	uint64_t t, n = 0, first_half = 0, in_spike = 0;

	(void)state;
	while ((t = http_schedule_next(s)) != SCHED_END) {
		n++;
		first_half += t < 5000000000ULL;
	}
	assert_true(n >= 4999 && n <= 5001);
	assert_true(first_half >= 1249 && first_half <= 1251);
	http_schedule_free(s);

	s = open_sched(SCHED_CONSTANT, 1, 1, spike, 3, 1, 0);
	n = 0;
	while ((t = http_schedule_next(s)) != SCHED_END) {
		n++;
		in_spike += t >= 2000000000ULL && t < 3000000000ULL;
	}
	assert_true(n >= 899 && n <= 901);
	assert_true(in_spike >= 499 && in_spike <= 501);
	http_schedule_free(s);
}

static void test_seed_and_shares(void **state)
{
	struct http_schedule_segment seg = { 1, 3000, 3000 };
	struct http_schedule *a = open_sched(SCHED_POISSON, 1, 5, &seg, 1, 1, 0);
	struct http_schedule *b = open_sched(SCHED_POISSON, 1, 5, &seg, 1, 1, 0);
	struct http_schedule *c = open_sched(SCHED_POISSON, 1, 6, &seg, 1, 1, 0);
	struct http_schedule *w[3];
	uint64_t ta, tb, tc, next[3];
	int differ = 0;

	(void)state;
	while ((ta = http_schedule_next(a)) != SCHED_END) {
		tb = http_schedule_next(b);
		tc = http_schedule_next(c);
		assert_int_equal(ta, tb);
		differ += ta != tc;
	}
	assert_true(differ > 0);
	/* Three workers with a third each interleave into the one schedule. */
	http_schedule_free(a);
	a = open_sched(SCHED_CONSTANT, 1, 1, &seg, 1, 1, 0);
	for (size_t i = 0; i < 3; i++) {
		w[i] = open_sched(SCHED_CONSTANT, 1, 1, &seg, 1, 1.0 / 3, i);
		next[i] = http_schedule_next(w[i]);
	}
	while ((ta = http_schedule_next(a)) != SCHED_END) {
		size_t k = 0;
		for (size_t i = 1; i < 3; i++)
			if (next[i] < next[k])
				k = i;
		assert_true(next[k] + 2 >= ta && next[k] <= ta + 2);
		next[k] = http_schedule_next(w[k]);
	}
	for (size_t i = 0; i < 3; i++)
		http_schedule_free(w[i]);
	http_schedule_free(a);
	http_schedule_free(b);
	http_schedule_free(c);
}

static void test_bad_options(void **state)
{
	struct http_schedule_segment bad = { 0, 10, 10 }, open_ramp = { INFINITY, 1, 2 };
	struct http_schedule_options o = HTTP_SCHEDULE_OPTIONS_INIT;
	struct http_schedule *s;
	struct err err = ERR_INIT;

	(void)state;
	assert_int_equal(http_schedule_open(&s, &o, &err), ERR_INPUT);
	o.segments = &bad;
	o.n_segments = 1;
	assert_int_equal(http_schedule_open(&s, &o, &err), ERR_INPUT);
	o.segments = &open_ramp;
	assert_int_equal(http_schedule_open(&s, &o, &err), ERR_INPUT);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_constant),
		cmocka_unit_test(test_poisson_gaps),
		cmocka_unit_test(test_gamma_gaps),
		cmocka_unit_test(test_ramp_and_spike),
		cmocka_unit_test(test_seed_and_shares),
		cmocka_unit_test(test_bad_options),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
