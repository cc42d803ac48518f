/*
 * Unit tests for core/sequential.c: the spending function's values, the
 * levels of the looks, and the rule itself: 10,000 simulated A/A gates with
 * the gate's documented looks (a first look of 10 repetitions that screens,
 * then up to two extra rounds of 5: looks at 10, 15 and 20) keep their false
 * alarms within alpha, where testing every look at alpha does not.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#include "../../core/sequential.h"
#include "../../core/stats.h"
#include "../../core/util.h"

#define CLOSE(a, b, tol) assert_true(fabs((a) - (b)) <= (tol))

/* alpha*(t) = 2 (1 - Phi(z_(1 - alpha/2) / sqrt(t))): z_0.995 = 2.5758293;
 * at t = 0.75 the argument is 2.9743; 2 Q(2.9743) = 0.00293647 (SciPy:
 * 2 * norm.sf(norm.ppf(0.995) / sqrt(0.75))). */
static void test_spending(void **state)
{
	(void)state;
	CLOSE(sequential_spending(0.01, 1), 0.01, 1e-15);
	CLOSE(sequential_spending(0.01, 0), 0, 1e-15);
	CLOSE(sequential_spending(0.01, 0.75), 0.00293647, 1e-8);
	/* t = 0.5: 2 Q(3.6428) = 0.000269717 */
	CLOSE(sequential_spending(0.01, 0.5), 0.000269717, 1e-9);
	/* increasing in t */
	assert_true(sequential_spending(0.05, 0.3) < sequential_spending(0.05, 0.6));
}

static void test_levels(void **state)
{
	struct sequential s;
	double a, b, c;

	(void)state;
	/* first look screens, then 15 and 20 of n_max 20 */
	sequential_init(&s, 0.01, 20, true);
	a = sequential_level(&s, 10, false);
	b = sequential_level(&s, 15, false);
	c = sequential_level(&s, 20, true);
	CLOSE(a, 0.01, 1e-15);
	CLOSE(b, 0.00293647, 1e-8);
	CLOSE(b + c, 0.01, 1e-15);
	/* the budget runs out at the second look: it spends everything */
	sequential_init(&s, 0.01, 20, true);
	sequential_level(&s, 10, false);
	CLOSE(sequential_level(&s, 15, true), 0.01, 1e-15);
	/* nothing undecided at the first look: it is the last, at alpha */
	sequential_init(&s, 0.01, 20, true);
	CLOSE(sequential_level(&s, 10, true), 0.01, 1e-15);
	/* without screening the first look spends its share */
	sequential_init(&s, 0.01, 20, false);
	a = sequential_level(&s, 10, false);
	CLOSE(a, 0.000269717, 1e-9);
	b = sequential_level(&s, 15, false);
	c = sequential_level(&s, 20, true);
	CLOSE(a + b + c, 0.01, 1e-15);
}

enum outcome { UNCHANGED, INCONCLUSIVE, REGRESSION };

/* k-th smallest (0-based) of v[0..n), in place (Hoare's selection). */
static double select_kth(double *v, size_t n, size_t k)
{
	size_t lo = 0, hi = n - 1;

	while (lo < hi) {
		double pivot = v[lo + (hi - lo) / 2];
		size_t i = lo, j = hi;

		while (i <= j) {
			while (v[i] < pivot)
				i++;
			while (v[j] > pivot)
				j--;
			if (i <= j) {
				double t = v[i];
				v[i] = v[j];
				v[j] = t;
				i++;
				if (j == 0)
					break;
				j--;
			}
		}
		if (k <= j)
			hi = j;
		else if (k >= i)
			lo = i;
		else
			break;
	}
	return v[k];
}

/* The Hodges-Lehmann estimate of ln y - ln x: the median of the pairwise
 * differences (what stats_hodges_lehmann_ratio returns, without its
 * interval, which this simulation does not need). */
static double hl_log(const double *x, size_t m, const double *y, size_t n)
{
	double *d = xmalloc(m * n * sizeof(*d)), e;
	size_t mn = m * n;

	for (size_t i = 0; i < m; i++)
		for (size_t j = 0; j < n; j++)
			d[i * n + j] = log(y[j]) - log(x[i]);
	e = select_kth(d, mn, mn / 2);
	if (mn % 2 == 0) {
		double below = d[0];
		for (size_t i = 1; i < mn / 2; i++)
			below = fmax(below, d[i]);
		e = (e + below) / 2;
	}
	free(d);
	return e;
}

/* One metric at one look, given whether its (adjusted) test was
 * significant: the estimate against the floor, 0 here, so that nothing but
 * the test guards against false alarms (the hardest case for the rule). */
static enum outcome decide(const double *x, size_t m, const double *y, size_t n, bool significant)
{
	double e = hl_log(x, m, y, n);

	if (significant && e >= 0)
		return REGRESSION;
	return e >= 0 ? INCONCLUSIVE : UNCHANGED;
}

/*
 * A/A gates of `metrics` independent metrics: 5 baseline runs of 10
 * samples, a first look of 10, extra rounds of 5 while any metric is
 * undecided, up to 10 extra.  spending: the documented rule (screen, then
 * spend); else every look tests at alpha and a regression fails at once.
 * Benjamini-Hochberg across the metrics at each look.  Returns the share of
 * gates that failed.
 */
static double aa_rate(gsl_rng *rng, size_t gates, size_t metrics, bool spending, double *looks_mean)
{
	const size_t k = 5, per = 10, n1 = 10, round = 5, budget = 10;
	double *x = xmalloc(metrics * k * per * sizeof(*x)), *y = xmalloc(metrics * (n1 + budget) * sizeof(*y));
	double *p = xmalloc(metrics * sizeof(*p)), *adj = xmalloc(metrics * sizeof(*adj));
	size_t fails = 0, looks_total = 0;

	for (size_t g = 0; g < gates; g++) {
		struct sequential s;
		size_t n = n1;
		bool failed = false;

		for (size_t i = 0; i < metrics * k * per; i++)
			x[i] = exp(0.05 * gsl_ran_gaussian(rng, 1));
		for (size_t i = 0; i < metrics * (n1 + budget); i++)
			y[i] = exp(0.05 * gsl_ran_gaussian(rng, 1));
		sequential_init(&s, 0.01, (double)(n1 + budget), spending);
		for (;;) {
			bool last = n + round > n1 + budget, undecided = false, screening;
			double level = spending ? sequential_level(&s, (double)n, last) : 0.01;

			screening = spending && s.looks == 1 && !last;
			looks_total++;
			for (size_t j = 0; j < metrics; j++) {
				struct mwu r;
				stats_mann_whitney(x + j * k * per, k * per, y + j * (n1 + budget), n, &r);
				p[j] = r.p;
			}
			stats_bh_adjust(p, metrics, false, adj);
			for (size_t j = 0; j < metrics; j++) {
				enum outcome o = decide(x + j * k * per, k * per, y + j * (n1 + budget), n,
							adj[j] <= level);
				if (o == REGRESSION && !screening)
					failed = true;
				if (o != UNCHANGED)
					undecided = true;
			}
			if (failed || !undecided || last)
				break;
			n += round;
		}
		fails += failed;
	}
	free(x);
	free(y);
	free(p);
	free(adj);
	if (looks_mean)
		*looks_mean = (double)looks_total / (double)gates;
	return (double)fails / (double)gates;
}

static void test_aa_simulation(void **state)
{
	gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
	double rule, rule3, naive, looks;

	(void)state;
	gsl_rng_set(rng, 20261204);
	rule = aa_rate(rng, 10000, 1, true, &looks);
	print_message("# A/A, 1 metric, alpha spending: %.2f%% of 10,000 gates failed (%.2f looks a gate)\n",
		      rule * 100, looks);
	rule3 = aa_rate(rng, 10000, 3, true, NULL);
	print_message("# A/A, 3 metrics, alpha spending, BH: %.2f%% failed\n", rule3 * 100);
	naive = aa_rate(rng, 10000, 1, false, NULL);
	print_message("# A/A, 1 metric, every look at alpha: %.2f%% failed\n", naive * 100);
	assert_true(rule <= 0.01);
	assert_true(rule3 <= 0.01);
	/* the simulation can tell: looking three times at alpha is too often */
	assert_true(naive > 0.012);
	/* the extra looks were taken (half the A/A estimates point worse) */
	assert_true(looks > 1.3);
	gsl_rng_free(rng);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spending),
		cmocka_unit_test(test_levels),
		cmocka_unit_test(test_aa_simulation),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
