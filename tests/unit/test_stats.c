/*
 * Unit tests for core/stats.c.  The "huge" cases (over 1e6 pairs) go through
 * the selection path of the Hodges-Lehmann code, the rest through the sort.
 * Reference values come from SciPy
 * (tests/fixtures/stats/make_reference.py wrote stats_reference.h) and from
 * hand-countable cases; the minimum detectable effect is checked against a
 * simulation of the decision it predicts.
 */
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

#include "../../core/stats.h"
#include "../../core/summary.h"
#include "../../core/util.h"
#include "../fixtures/stats/stats_reference.h"

#define CLOSE(a, b, rel) assert_true(fabs((a) - (b)) <= (rel) * fabs(b) + 1e-300)

/* Hand-countable: with 3 vs 3 and y entirely above x, only 1 of C(6,3) = 20
 * arrangements is as extreme. */
static void test_mwu_hand(void **state)
{
	const double x[] = { 1, 2, 3 }, y[] = { 4, 5, 6 };
	struct mwu r;

	(void)state;
	assert_int_equal(stats_mann_whitney(x, 3, y, 3, &r), 0);
	assert_true(r.exact);
	assert_true(r.u == 9);
	CLOSE(r.p, 1.0 / 20, 1e-12);
	CLOSE(r.p_min, 1.0 / 20, 1e-12);
	assert_int_equal(stats_mann_whitney(y, 3, x, 3, &r), 0);
	assert_true(r.u == 0);
	CLOSE(r.p, 1.0, 1e-12);
}

static void test_mwu_all_equal(void **state)
{
	const double x[] = { 5, 5, 5, 5 }, y[] = { 5, 5, 5 };
	struct mwu r;

	(void)state;
	assert_int_equal(stats_mann_whitney(x, 4, y, 3, &r), 0);
	assert_false(r.exact);
	CLOSE(r.p, 1.0, 1e-12);
}

static void test_bh_hand(void **state)
{
	/* M = 4: 0.01*4/1 = 0.04, 0.02*4/2 = 0.04, 0.03*4/3 = 0.04, 0.5*4/4 = 0.5 */
	const double p[] = { 0.5, 0.01, 0.03, 0.02 };
	double adj[4];

	(void)state;
	stats_bh_adjust(p, 4, false, adj);
	CLOSE(adj[0], 0.5, 1e-12);
	CLOSE(adj[1], 0.04, 1e-12);
	CLOSE(adj[2], 0.04, 1e-12);
	CLOSE(adj[3], 0.04, 1e-12);
}

/* The generator make_reference.py repeats bit for bit. */
static double *gen(unsigned long long seed, size_t n, int ties, double scale)
{
	double *v = malloc(n * sizeof(*v));
	uint64_t s = seed;

	for (size_t i = 0; i < n; i++) {
		double u, x;
		s = 6364136223846793005ULL * s + 1442695040888963407ULL;
		u = (double)(s >> 11) * 0x1p-53;
		x = 1.0 + u + u * u;
		if (ties)
			x = floor(x * 100.0 + 0.5) / 100.0;
		if (scale != 0) {
			x *= scale;
			if (ties)
				x = floor(x * 100.0 + 0.5) / 100.0;
		}
		v[i] = x;
	}
	return v;
}

static void test_mwu_scipy(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(mwu_refs); i++) {
		const struct mwu_ref *r = &mwu_refs[i];
		double *gx = NULL, *gy = NULL;
		const double *x = r->x, *y = r->y;
		struct mwu out;
		struct err err = ERR_INIT;
		double ratio, lo, hi;

		if (!x) {
			x = gx = gen(r->seed_x, r->m, r->ties, 0);
			y = gy = gen(r->seed_y, r->n, r->ties, r->scale);
		}
		print_message("# case %s\n", r->name);
		assert_int_equal(stats_mann_whitney(x, r->m, y, r->n, &out), 0);
		assert_true(out.u == r->u);
		assert_int_equal(out.exact, r->exact);
		CLOSE(out.p, r->p, 1e-9);
		assert_true(out.p_min <= out.p + 1e-15);
		assert_int_equal(stats_hodges_lehmann_ratio(x, r->m, y, r->n, r->alpha, &ratio, &lo, &hi, &err), 0);
		CLOSE(ratio, r->hl, 1e-12);
		CLOSE(lo, r->hl_lo, 1e-12);
		CLOSE(hi, r->hl_hi, 1e-12);
		assert_true(lo <= ratio && ratio <= hi);
		free(gx);
		free(gy);
	}
}

/* Exact p agrees with the normal approximation where both are good (large,
 * no ties), and p + P(other side) covers the whole distribution. */
static void test_mwu_consistency(void **state)
{
	double *x = gen(21, 24, 0, 0), *y = gen(22, 24, 0, 1.04);
	struct mwu a, b;

	(void)state;
	assert_int_equal(stats_mann_whitney(x, 24, y, 24, &a), 0);
	assert_int_equal(stats_mann_whitney(y, 24, x, 24, &b), 0);
	assert_true(a.exact && b.exact);
	assert_true(a.u + b.u == 24 * 24);
	/* P(U >= u) + P(U <= u) = 1 + P(U = u) > 1 */
	assert_true(a.p + b.p > 1 && a.p + b.p < 1.05);
	CLOSE(a.p_min, 1 / 32247603683100.0, 1e-12); /* C(48, 24) */
	free(x);
	free(y);
}

/* 20,000 x 20,000 = 4e8 pairs (3.2 GB if stored): y is x scaled by 1.1, so
 * the log differences are ln 1.1 plus a set symmetric around 0, and HL is
 * ln 1.1; the interval must hold it and be narrow. */
static void test_hl_huge(void **state)
{
	size_t n = 20000;
	double *x = gen(31, n, 0, 0), *y = malloc(n * sizeof(*y));
	struct err err = ERR_INIT;
	double r, lo, hi;

	(void)state;
	for (size_t i = 0; i < n; i++)
		y[i] = x[i] * 1.1;
	assert_int_equal(stats_hodges_lehmann_ratio(x, n, y, n, 0.01, &r, &lo, &hi, &err), 0);
	CLOSE(r, 1.1, 1e-9);
	assert_true(lo < r && r < hi);
	assert_true(hi / lo < 1.05);
	free(x);
	free(y);
}

/* Lopsided: 2 vs 600,000, every y above both x.  Exact: 1/C(600002, 2). */
static void test_mwu_lopsided(void **state)
{
	size_t n = 600000;
	const double x[] = { 0.5, 0.75 };
	double *y = gen(41, n, 0, 0);
	struct mwu r;

	(void)state;
	assert_int_equal(stats_mann_whitney(x, 2, y, n, &r), 0);
	assert_true(r.exact);
	CLOSE(r.p, 2.0 / (600002.0 * 600001.0), 1e-9);
	free(y);
}

static void test_mwu_bad_input(void **state)
{
	const double x[] = { 1, NAN }, y[] = { 2 };
	struct mwu r;

	(void)state;
	assert_int_equal(stats_mann_whitney(x, 2, y, 1, &r), ERR_INPUT);
	assert_true(r.p == 1);
	assert_int_equal(stats_mann_whitney(x, 0, y, 1, &r), ERR_INPUT);
}

static void test_hl_nonpositive(void **state)
{
	const double x[] = { 1, 0, 2 }, y[] = { 2, 3 };
	struct err err = ERR_INIT;
	double r, lo, hi;

	(void)state;
	assert_int_equal(stats_hodges_lehmann_ratio(x, 3, y, 2, 0.05, &r, &lo, &hi, &err), ERR_INPUT);
	assert_string_equal(err.msg, "a ratio needs values > 0, got 0");
	assert_true(isnan(r));
	/* shift: differences y - x = {1,2,3,2,1,0} -> median 1.5 */
	assert_int_equal(stats_hodges_lehmann_shift(x, 3, y, 2, 0.05, &r, &lo, &hi, &err), 0);
	CLOSE(r, 1.5, 1e-12);
	assert_true(lo == 0 && hi == 3); /* too few samples for 95%: full range */
}

static void test_bh_scipy(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(bh_refs); i++) {
		double adj[32];
		stats_bh_adjust(bh_refs[i].p, bh_refs[i].n, false, adj);
		for (size_t j = 0; j < bh_refs[i].n; j++)
			CLOSE(adj[j], bh_refs[i].bh[j], 1e-12);
		stats_bh_adjust(bh_refs[i].p, bh_refs[i].n, true, adj);
		for (size_t j = 0; j < bh_refs[i].n; j++)
			CLOSE(adj[j], bh_refs[i].by[j], 1e-12);
	}
}

static void test_spread(void **state)
{
	const double bad[] = { 1, -1, 2 };

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(spread_refs); i++)
		CLOSE(stats_log_spread(spread_refs[i].v, spread_refs[i].n), spread_refs[i].spread, 1e-12);
	assert_true(stats_log_spread(bad, 1) == 0);
	assert_true(stats_log_spread(bad, 3) == 0);
}

/* Signed-rank p and the paired Hodges-Lehmann interval against SciPy and
 * the subset-sum recursion. */
static void test_wsr_scipy(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(wsr_refs); i++) {
		const struct wsr_ref *r = &wsr_refs[i];
		struct wsr out;
		struct err err = ERR_INIT;
		double est, lo, hi;

		print_message("# case %s\n", r->name);
		assert_int_equal(stats_wilcoxon_signed_rank(r->d, r->n, &out), 0);
		CLOSE(out.w, r->w, 1e-12);
		assert_int_equal(out.exact, r->exact);
		CLOSE(out.p, r->p, 1e-9);
		assert_true(out.p_min <= out.p + 1e-15);
		assert_int_equal(stats_hodges_lehmann_paired(r->d, r->n, r->alpha, &est, &lo, &hi, &err), 0);
		CLOSE(est, r->hl, 1e-12);
		CLOSE(lo, r->hl_lo, 1e-12);
		CLOSE(hi, r->hl_hi, 1e-12);
	}
}

/* Hand-countable: 4 positive differences, all 2^4 = 16 sign patterns equally
 * likely, only one with W+ = 10; the mirror image gives p = 1. */
static void test_wsr_hand(void **state)
{
	const double d[] = { 0.4, 0.1, 0.3, 0.2 }, neg[] = { -0.4, -0.1, -0.3, -0.2 };
	const double zeros[] = { 0, 0, 0 };
	struct wsr r;

	(void)state;
	assert_int_equal(stats_wilcoxon_signed_rank(d, 4, &r), 0);
	assert_true(r.exact);
	assert_true(r.w == 10);
	CLOSE(r.p, 1.0 / 16, 1e-12);
	CLOSE(r.p_min, 1.0 / 16, 1e-12);
	assert_int_equal(stats_wilcoxon_signed_rank(neg, 4, &r), 0);
	CLOSE(r.p, 1.0, 1e-12);
	assert_int_equal(stats_wilcoxon_signed_rank(zeros, 3, &r), 0);
	assert_int_equal(r.n_used, 0);
	CLOSE(r.p, 1.0, 1e-12);
	assert_int_equal(stats_wilcoxon_signed_rank(d, 0, &r), ERR_INPUT);
}

static int cmp_dbl(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

/*
 * The Hodges-Lehmann shift against brute force: every pairwise difference
 * sorted.  The estimate is their median exactly; the interval's ends are
 * the differences of ranks k and mn - k + 1 for one k (with ties, some
 * rank within each end's run of equal values).  Random sizes 1 to 40 and
 * values on a coarse grid, so that ties are common, as in timings rounded
 * to a clock tick; one case in five with both samples sorted.
 */
static void test_hl_brute(void **state)
{
	gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
	double x[40], y[40], d[1600], est, lo, hi, med;
	struct err err = ERR_INIT;

	(void)state;
	gsl_rng_set(rng, 77);
	for (int t = 0; t < 2000; t++) {
		size_t m = 1 + gsl_rng_uniform_int(rng, 40), n = 1 + gsl_rng_uniform_int(rng, 40), mn = m * n;
		double grid = t % 2 ? 0.25 : 1e-6, alpha = t % 3 ? 0.01 : 0.2;
		size_t a = mn, b = 0, c = mn, e = 0;
		bool found = false;

		for (size_t i = 0; i < m; i++)
			x[i] = grid * round(gsl_ran_gaussian(rng, 1) / grid);
		for (size_t j = 0; j < n; j++)
			y[j] = grid * round((0.3 + gsl_ran_gaussian(rng, 1)) / grid);
		if (t % 5 == 0) { /* sorted samples: the differences come in ordered runs */
			qsort(x, m, sizeof(*x), cmp_dbl);
			qsort(y, n, sizeof(*y), cmp_dbl);
		}
		assert_int_equal(stats_hodges_lehmann_shift(x, m, y, n, alpha, &est, &lo, &hi, &err), 0);
		for (size_t i = 0; i < m; i++)
			for (size_t j = 0; j < n; j++)
				d[i * n + j] = y[j] - x[i];
		qsort(d, mn, sizeof(*d), cmp_dbl);
		med = mn % 2 ? d[mn / 2] : (d[mn / 2 - 1] + d[mn / 2]) / 2;
		if (est != med)
			fail_msg("m %zu n %zu: estimate %.17g, the sorted median %.17g", m, n, est, med);
		for (size_t i = 0; i < mn; i++) { /* the runs of ranks (0-based) holding lo and hi */
			if (d[i] == lo) {
				a = i < a ? i : a;
				b = i;
			}
			if (d[i] == hi) {
				c = i < c ? i : c;
				e = i;
			}
		}
		for (size_t k = a; k <= b && k < mn; k++) /* rank k + 1 and its mirror mn - k */
			found |= mn - 1 - k >= c && mn - 1 - k <= e;
		if (!found)
			fail_msg("m %zu n %zu: [%g, %g] are not the differences of mirrored ranks", m, n, lo, hi);
	}
	gsl_rng_free(rng);
}

/* summary_median: the middle value, or the mean of the middle two, of
 * values in any order, which it leaves as they were; NAN for none. */
static void test_summary_median(void **state)
{
	double odd[] = { 5, 1, 4, 2, 3 }, even[] = { 10, -2, 7, 1 };

	(void)state;
	assert_true(summary_median(odd, 5) == 3);
	assert_true(odd[0] == 5 && odd[4] == 3);
	assert_true(summary_median(even, 4) == 4);
	assert_true(summary_median(even, 1) == 10);
	assert_true(isnan(summary_median(even, 0)));
}

/* An input that hands the selection its worst pivot at every round: the
 * values 0 .. n-1 in order, but with the smallest moved to the middle,
 * where the selection takes its pivot (McIlroy's adversary, run against
 * Wirth's FIND, builds exactly this).  Each round then removes one value,
 * about n/2 rounds where 2 log2(n) + 8 are allowed: the sort fallback
 * decides, and must give what a sort gives.  With x = {0} the differences
 * are y itself, so the value at each rank is the rank. */
static void test_hl_adversary(void **state)
{
	static const size_t sizes[] = { 2001, 2000 };
	double x[1] = { 0 }, *y, est, lo, hi;
	struct err err = ERR_INIT;

	(void)state;
	for (size_t t = 0; t < 2; t++) {
		size_t n = sizes[t], k = (n - 1) / 2;

		y = malloc(n * sizeof(*y));
		assert_non_null(y);
		for (size_t i = 0; i < n; i++)
			y[i] = i < k ? (double)(i + 1) : i == k ? 0 : (double)i;
		assert_int_equal(stats_hodges_lehmann_shift(x, 1, y, n, 0.01, &est, &lo, &hi, &err), 0);
		/* the median of 0 .. n-1, and two mirrored ranks around it */
		assert_true(est == (double)(n - 1) / 2);
		assert_true(lo == floor(lo) && hi == floor(hi));
		assert_true(lo < est && est < hi);
		assert_true(lo + hi == (double)(n - 1));
		free(y);
	}
}

/* The selection path of the paired estimate (no Walsh averages stored)
 * against a brute-force sort on 300 differences (45,150 averages). */
static void test_hl_paired_brute(void **state)
{
	size_t n = 300, m = n * (n + 1) / 2, k = 0;
	double *d = gen(31, n, 0, 0), *w = malloc(m * sizeof(*w)), est, lo, hi;
	struct err err = ERR_INIT;

	(void)state;
	for (size_t i = 0; i < n; i++)
		d[i] = log(d[i]) - 0.3;
	for (size_t i = 0; i < n; i++)
		for (size_t j = i; j < n; j++)
			w[k++] = (d[i] + d[j]) / 2;
	qsort(w, m, sizeof(*w), cmp_dbl);
	assert_int_equal(stats_hodges_lehmann_paired(d, n, 0.05, &est, &lo, &hi, &err), 0);
	CLOSE(est, m % 2 ? w[m / 2] : (w[m / 2 - 1] + w[m / 2]) / 2, 1e-12);
	{
		/* k by the normal formula (n > 52) */
		double z = 1.959963984540054, nn = (double)n;
		size_t kk = (size_t)floor((double)m / 2 - z * sqrt(nn * (nn + 1) * (2 * nn + 1) / 24));
		CLOSE(lo, w[kk - 1], 1e-12);
		CLOSE(hi, w[m - kk], 1e-12);
	}
	free(d);
	free(w);
}

static void test_lag1(void **state)
{
	/* alternating: r1 = -(n-1)/n exactly for +-1 around mean 0 */
	const double alt[] = { 1, -1, 1, -1, 1, -1, 1, -1 };
	/* a trend is strongly positively autocorrelated */
	const double trend[] = { 1, 2, 3, 4, 5, 6, 7, 8, 9, 10 };
	const double flat[] = { 3, 3, 3, 3 };

	(void)state;
	CLOSE(stats_lag1_autocorrelation(alt, 8), -7.0 / 8, 1e-12);
	/* sum (i - 5.5)(i + 1 - 5.5) over i = 1..9 = 57.75; sum (i - 5.5)^2 = 82.5 */
	CLOSE(stats_lag1_autocorrelation(trend, 10), 57.75 / 82.5, 1e-12);
	assert_true(stats_lag1_autocorrelation(flat, 4) == 0);
}

static void test_batch_means(void **state)
{
	/* 15 sub-windows of 100 requests: a percentile needing 250 requests per
	 * batch groups them by 3 (weighted means 1, 3, 4, 5, 2: lag-1
	 * autocorrelation 0, so they stay 5 batches). */
	const double v[] = { 0, 1, 2, 2, 3, 4, 3, 4, 5, 4, 5, 6, 1, 2, 3 };
	const double w[] = { 100, 100, 100, 100, 100, 100, 100, 100, 100, 100, 100, 100, 100, 100, 100 };
	/* a slow drift: neighbours alike however they are merged */
	const double drift[] = { 1, 1.1, 1.2, 1.3, 1.4, 1.5, 1.6, 1.7, 1.8, 1.9, 2.0, 2.1, 2.2, 2.3, 2.4, 2.5 };
	/* alternating pairs: 2 5 2 5 ... strongly negative at 8 batches, merged
	 * pairwise to a constant 3.5 (r1 0) at 4 */
	const double alt[] = { 2, 5, 2, 5, 2, 5, 2, 5 };
	double out[16], r1;
	size_t b;

	(void)state;
	b = stats_batch_means(v, w, 15, 250, 0.2, 3, out, &r1);
	assert_int_equal(b, 5);
	CLOSE(out[0], 1.0, 1e-12);
	CLOSE(out[1], 3.0, 1e-12);
	CLOSE(out[2], 4.0, 1e-12);
	CLOSE(out[3], 5.0, 1e-12);
	CLOSE(out[4], 2.0, 1e-12);
	assert_true(fabs(r1) < 1e-12);
	b = stats_batch_means(alt, NULL, 8, 1, 0.2, 3, out, &r1);
	assert_int_equal(b, 4);
	CLOSE(out[0], 3.5, 1e-12);
	CLOSE(out[3], 3.5, 1e-12);
	/* a trend is autocorrelated (r1 0.81 at 16 values, beyond 2/sqrt(16));
	 * merged once it is 8 values whose r1 0.63 is within 2/sqrt(8) = 0.71 */
	b = stats_batch_means(drift, NULL, 16, 1, 0.2, 3, out, &r1);
	assert_int_equal(b, 8);
	CLOSE(out[0], 1.05, 1e-12);
	CLOSE(out[7], 2.45, 1e-12);
	/* ...and when 8 would be too few, there are no batches */
	b = stats_batch_means(drift, NULL, 16, 1, 0.2, 10, out, &r1);
	assert_int_equal(b, 0);
	assert_true(r1 >= 0.5);
	/* too few requests for min_batches groups: 600 per batch leaves 2 */
	b = stats_batch_means(v, w, 15, 600, 0.2, 3, out, &r1);
	assert_int_equal(b, 0);
	/* a short tail joins the group before it: 5 windows of 100, 200 needed */
	b = stats_batch_means(v, w, 5, 200, 1.1, 2, out, &r1);
	assert_int_equal(b, 2);
	CLOSE(out[0], 0.5, 1e-12);
	CLOSE(out[1], 7.0 / 3, 1e-12);
}

/*
 * The minimum detectable effect against a simulation of the decision it
 * predicts: a regression is a one-sided rank test at alpha AND a
 * Hodges-Lehmann estimate at or beyond the floor.  K baseline runs of n
 * log-normal samples, each run shifted by N(0, s_b) (a machine's speed
 * between runs), the current run likewise plus the effect.  At the MDE the
 * decision must catch about 80% (the formula is an approximation: 70% to
 * 90% passes), at half of it far fewer.
 */
static double detect_rate(gsl_rng *rng, double sb, double sw, size_t k, size_t n, double floor,
			  double alpha, double effect, size_t trials)
{
	double *x = malloc(k * n * sizeof(*x)), *y = malloc(n * sizeof(*y));
	size_t hits = 0;

	for (size_t t = 0; t < trials; t++) {
		struct mwu r;
		struct err err = ERR_INIT;
		double ratio, lo, hi, lvl;

		for (size_t i = 0; i < k; i++) {
			lvl = gsl_ran_gaussian(rng, sb);
			for (size_t j = 0; j < n; j++)
				x[i * n + j] = exp(lvl + gsl_ran_gaussian(rng, sw));
		}
		lvl = log1p(effect) + gsl_ran_gaussian(rng, sb);
		for (size_t j = 0; j < n; j++)
			y[j] = exp(lvl + gsl_ran_gaussian(rng, sw));
		stats_mann_whitney(x, k * n, y, n, &r);
		stats_hodges_lehmann_ratio(x, k * n, y, n, alpha, &ratio, &lo, &hi, &err);
		if (r.p <= alpha && ratio - 1 >= floor)
			hits++;
	}
	free(x);
	free(y);
	return (double)hits / (double)trials;
}

static void test_mde_simulation(void **state)
{
	static const struct {
		double sb, sw, floor, alpha;
		size_t k, n;
	} cases[] = {
		{ 0, 0.05, 0, 0.01, 5, 10 },       /* within-run noise only: the classic formula */
		{ 0, 0.10, 0.05, 0.005, 3, 20 },   /* the floor binds */
		{ 0.02, 0.03, 0.06, 0.01, 5, 10 }, /* between-run spread and its 3x floor */
		{ 0.05, 0.02, 0.15, 0.01, 2, 30 }, /* a short history's prior floor */
	};
	gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);

	(void)state;
	gsl_rng_set(rng, 15);
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct stats_mde_input in = {
			.s_between = cases[i].sb, .s_within = cases[i].sw, .k_runs = cases[i].k,
			.n_base = cases[i].k * cases[i].n, .n_cur = cases[i].n, .alpha = cases[i].alpha,
			.power = 0.8, .floor = cases[i].floor,
		};
		double mde = stats_mde(&in);
		double at = detect_rate(rng, cases[i].sb, cases[i].sw, cases[i].k, cases[i].n, cases[i].floor,
					cases[i].alpha, mde, 2000);
		double half = detect_rate(rng, cases[i].sb, cases[i].sw, cases[i].k, cases[i].n,
					  cases[i].floor, cases[i].alpha, mde / 2, 2000);

		print_message("# mde case %zu: %.2f%%, caught %.1f%% at it, %.1f%% at half\n", i, mde * 100,
			      at * 100, half * 100);
		assert_true(at >= 0.70 && at <= 0.90);
		assert_true(half < 0.45);
		assert_true(mde >= cases[i].floor);
	}
	gsl_rng_free(rng);
}

/* The paired MDE: n differences with spread s_w, a signed-rank test. */
static void test_mde_paired_simulation(void **state)
{
	gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
	struct stats_mde_input in = { .s_within = 0.04, .n_cur = 12, .alpha = 0.01, .power = 0.8,
				      .floor = 0.01, .paired = true };
	double mde = stats_mde(&in), d[12];
	size_t hits = 0, trials = 4000;

	(void)state;
	gsl_rng_set(rng, 16);
	for (size_t t = 0; t < trials; t++) {
		struct wsr r;
		struct err err = ERR_INIT;
		double est, lo, hi;

		for (size_t i = 0; i < 12; i++)
			d[i] = log1p(mde) + gsl_ran_gaussian(rng, 0.04);
		stats_wilcoxon_signed_rank(d, 12, &r);
		stats_hodges_lehmann_paired(d, 12, 0.01, &est, &lo, &hi, &err);
		if (r.p <= 0.01 && expm1(est) >= 0.01)
			hits++;
	}
	print_message("# paired mde %.2f%%: caught %.1f%%\n", mde * 100, 100.0 * (double)hits / (double)trials);
	assert_true((double)hits / (double)trials >= 0.70 && (double)hits / (double)trials <= 0.90);
	gsl_rng_free(rng);
}

/*
 * Pairs as a shared machine gives them: most within 1.5% of the change,
 * 12% split by a burst of other work (one side slowed 10% to 40%, either
 * side).  The robust spread sees only the first kind; the signed-rank test
 * of every pair feels both.  The verdict sets the pairs far from the rest
 * aside where that decides (stats_far_pairs, stats_signed_rank_far) and
 * states the spread of the pairs left as the test feels it
 * (stats_paired_power_spread): a change of the stated size must be caught
 * about 80% of the time (65% to 95%).  Before the far pairs were set
 * aside, the robust spread's promise was caught 63% of the time, and the
 * spread felt across every pair was needed to keep it.
 */
static void heavy_pairs(gsl_rng *rng, double effect, double *d, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		d[i] = log1p(effect) + gsl_ran_gaussian(rng, 0.015);
		if (gsl_rng_uniform(rng) < 0.12)
			d[i] += (gsl_rng_uniform(rng) < 0.5 ? -1 : 1) * log1p(0.1 + 0.3 * gsl_rng_uniform(rng));
	}
}

/* The decision of core/verdict.c on pairs d: the signed-rank test with
 * the far pairs set aside where that decides, and the estimate of the
 * pairs that decided beyond the floor. */
static bool pairs_caught(const double *d, size_t n, double alpha, double floor)
{
	bool far[64];
	double rest[64], est, lo, hi;
	size_t k = 0;
	struct wsr_far r;
	struct err err = ERR_INIT;

	stats_far_pairs(d, n, far);
	stats_signed_rank_far(d, n, far, &r);
	for (size_t i = 0; i < n; i++)
		if (!far[i])
			rest[k++] = d[i];
	stats_hodges_lehmann_paired(r.by_rest ? rest : d, r.by_rest ? k : n, alpha, &est, &lo, &hi, &err);
	return r.p <= alpha && expm1(est) >= floor;
}

/* The spread core/verdict.c states for pairs d: of the pairs not far, the
 * larger of the robust one and the one the test feels, per pair of all n. */
static double stated_spread(const double *d, size_t n, double alpha)
{
	bool far[64];
	double rest[64];
	size_t k = 0;

	stats_far_pairs(d, n, far);
	for (size_t i = 0; i < n; i++)
		if (!far[i])
			rest[k++] = d[i];
	return fmax(stats_robust_sd(rest, k), stats_paired_power_spread(rest, k, alpha, 0.8)) *
	       sqrt((double)n / (double)k);
}

static double heavy_caught(gsl_rng *rng, double effect, size_t n, double alpha, double floor, size_t trials)
{
	double d[20];
	size_t hits = 0;

	for (size_t t = 0; t < trials; t++) {
		heavy_pairs(rng, effect, d, n);
		hits += pairs_caught(d, n, alpha, floor);
	}
	return (double)hits / (double)trials;
}

static void test_mde_paired_heavy_tails(void **state)
{
	const size_t n = 20, looks = 12;
	const double alpha = 0.005, floor = 0.02;
	gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
	double at_felt = 0, at_robust = 0, d[20];

	(void)state;
	gsl_rng_set(rng, 17);
	for (size_t k = 0; k < looks; k++) {
		struct stats_mde_input in = { .n_cur = n, .alpha = alpha, .power = 0.8, .floor = floor,
					      .paired = true };
		double robust, felt, mde_robust, mde_felt;

		heavy_pairs(rng, 0.10, d, n); /* what one gate measured */
		robust = stats_robust_sd(d, n);
		felt = stated_spread(d, n, alpha);
		assert_true(isfinite(felt));
		in.s_within = robust;
		mde_robust = stats_mde(&in);
		in.s_within = felt;
		mde_felt = stats_mde(&in);
		at_robust += heavy_caught(rng, mde_robust, n, alpha, floor, 400);
		at_felt += heavy_caught(rng, mde_felt, n, alpha, floor, 400);
	}
	at_robust /= (double)looks;
	at_felt /= (double)looks;
	print_message("# heavy-tailed pairs: caught %.1f%% at the stated effect (%.1f%% at the robust "
		      "spread's)\n", at_felt * 100, at_robust * 100);
	assert_true(at_felt >= 0.65 && at_felt <= 0.95);
	gsl_rng_free(rng);
}

/* On normal pairs the spread the test feels is about their standard
 * deviation; with no spread, 0; too few pairs to reach alpha, NAN. */
static void test_paired_power_spread_normal(void **state)
{
	gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
	double d[20], mean = 0;
	const double flat[4] = { 0.1, 0.1, 0.1, 0.1 };

	(void)state;
	gsl_rng_set(rng, 18);
	for (int k = 0; k < 20; k++) {
		for (size_t i = 0; i < 20; i++)
			d[i] = 0.05 + gsl_ran_gaussian(rng, 0.03);
		mean += stats_paired_power_spread(d, 20, 0.01, 0.8) / 20;
	}
	print_message("# normal pairs, sd 3%%: the test feels %.2f%%\n", mean * 100);
	assert_true(mean > 0.03 * 0.7 && mean < 0.03 * 1.3);
	assert_true(stats_paired_power_spread(flat, 4, 0.01, 0.8) == 0);
	assert_true(isnan(stats_paired_power_spread(d, 5, 0.01, 0.8))); /* 2^-5 > 0.01 */
	assert_true(isnan(stats_paired_power_spread(d, 1, 0.01, 0.8)));
	gsl_rng_free(rng);
}

/* Which pairs are far from the rest, by size alone. */
static void test_far_pairs(void **state)
{
	const double split[12] = { 0.095, 0.1, 0.105, 0.09, 0.098, 0.102, 0.097, 0.103, 0.1, -0.18, -0.26, 0.40 };
	const double many[8] = { 0.1, 0.1, 0.1, 0.1, 0.1, 0.5, -0.6, 0.7 };
	const double steps[10] = { 0.01, 0.01, 0.01, 0.01, 0.01, 0.01, 0.01, 0.01, 0.01, 0.0125 };
	double even[20];
	bool far[20];

	(void)state;
	assert_int_equal(stats_far_pairs(split, 12, far), 3);
	for (size_t i = 0; i < 12; i++)
		assert_true(far[i] == (i >= 9));
	/* a quarter at most: the two largest of three */
	assert_int_equal(stats_far_pairs(many, 8, far), 2);
	assert_true(far[6] && far[7] && !far[5] && !far[4]);
	/* fewer than 8 nonzero pairs: none */
	assert_int_equal(stats_far_pairs(split + 5, 7, far), 0);
	assert_false(far[6]);
	/* no spread but one step: not far (M/4 is the least spread) */
	assert_int_equal(stats_far_pairs(steps, 10, far), 0);
	/* a value that is not a number: never far, and the test refuses it */
	{
		double bad[12];
		struct wsr_far r;

		memcpy(bad, split, sizeof(bad));
		bad[11] = NAN;
		assert_int_equal(stats_far_pairs(bad, 12, far), 2); /* 11 left: a quarter is 2 */
		assert_false(far[11]);
		assert_int_equal(stats_signed_rank_far(bad, 12, far, &r), ERR_INPUT);
		assert_true(r.p == 1 && r.n_far == 0);
	}
	/* evenly spread pairs, either sign: none */
	for (size_t i = 0; i < 20; i++)
		even[i] = (i % 2 ? 1 : -1) * 0.002 * (double)(i + 1);
	assert_int_equal(stats_far_pairs(even, 20, far), 0);
}

/* min(p of all pairs, p of the pairs left) of the sign pattern s of |d|. */
static double min_p_of(const double *d, size_t n, const bool *far, unsigned s)
{
	double x[16], rest[16];
	size_t k = 0;
	struct wsr a, b;

	for (size_t i = 0; i < n; i++) {
		x[i] = (s >> i & 1) ? fabs(d[i]) : -fabs(d[i]);
		if (!far[i])
			rest[k++] = x[i];
	}
	stats_wilcoxon_signed_rank(x, n, &a);
	stats_wilcoxon_signed_rank(rest, k, &b);
	return fmin(a.p, b.p);
}

/*
 * The min-p of both tests against every one of the 2^12 sign patterns of
 * the same sizes (what "no change" makes equally likely): p is the share
 * of patterns whose min-p is as small or smaller.
 */
static void test_signed_rank_far_brute(void **state)
{
	const double mag[12] = { 0.095, 0.1, 0.105, 0.09, 0.098, 0.102, 0.097, 0.103, 0.101, 0.18, 0.26, 0.40 };
	const unsigned observed[5] = { 0x9ff, 0xfff, 0x1ff, 0x5a5, 0x3f7 };
	double d[12];
	bool far[12];

	(void)state;
	assert_int_equal(stats_far_pairs(mag, 12, far), 3);
	for (size_t o = 0; o < 5; o++) {
		struct wsr_far r;
		double m;
		size_t extreme = 0;

		for (size_t i = 0; i < 12; i++)
			d[i] = (observed[o] >> i & 1) ? mag[i] : -mag[i];
		m = min_p_of(d, 12, far, observed[o]);
		for (unsigned s = 0; s < 1u << 12; s++)
			extreme += min_p_of(d, 12, far, s) <= m;
		assert_int_equal(stats_signed_rank_far(d, 12, far, &r), 0);
		print_message("# pattern %03x: all %.4g, rest %.4g, min-p %.4g (brute force %.4g)\n", observed[o],
			      r.all.p, r.rest.p, r.p, ldexp((double)extreme, -12));
		assert_true(r.exact);
		assert_int_equal(r.n_far, 3);
		assert_true(fabs(r.p - ldexp((double)extreme, -12)) < 1e-12);
		assert_true(r.p >= fmin(r.all.p, r.rest.p));
		assert_true(r.by_rest == (r.rest.p < r.all.p));
	}
	/* every sign positive: the rarest pattern for both, p 2^-12 */
	for (size_t i = 0; i < 12; i++)
		d[i] = mag[i];
	{
		struct wsr_far r;

		stats_signed_rank_far(d, 12, far, &r);
		assert_true(r.p == 0x1p-12);
		/* no far pair: exactly the test of every pair */
		stats_signed_rank_far(d, 12, NULL, &r);
		assert_int_equal(r.n_far, 0);
		assert_true(r.p == r.all.p);
	}
}

/* Past 40 pairs, or with ties: 2 min(p, p) (Bonferroni). */
static void test_signed_rank_far_large(void **state)
{
	double d[45];
	bool far[45];
	struct wsr_far r;

	(void)state;
	for (size_t i = 0; i < 45; i++)
		d[i] = 0.1 + 0.001 * (double)i * (i % 3 ? 1 : -1);
	d[43] = -0.9;
	d[44] = -1.1;
	assert_int_equal(stats_far_pairs(d, 45, far), 2);
	stats_signed_rank_far(d, 45, far, &r);
	assert_false(r.exact);
	assert_true(r.by_rest);
	assert_true(r.p == fmin(1, 2 * fmin(r.all.p, r.rest.p)));
}

/*
 * Under "no change", on symmetric pairs with heavy tails (12% split 10% to
 * 40% either way), the min-p test keeps its level; against +10%, setting
 * the far pairs aside catches more than the test of every pair; on normal
 * pairs (no split) it loses about a point (a pair the rule sets aside by
 * chance, and the price of taking the better of two tests).
 */
static void test_signed_rank_far_level_power(void **state)
{
	const size_t gates = 4000;
	gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
	size_t aa = 0, far_hits = 0, all_hits = 0, far_normal = 0, all_normal = 0;
	double d[20];
	bool far[20];

	(void)state;
	gsl_rng_set(rng, 41);
	for (size_t g = 0; g < gates; g++) {
		struct wsr_far r;

		heavy_pairs(rng, 0, d, 20);
		stats_far_pairs(d, 20, far);
		stats_signed_rank_far(d, 20, far, &r);
		aa += r.p <= 0.01;
		heavy_pairs(rng, 0.06, d, 10);
		stats_far_pairs(d, 10, far);
		stats_signed_rank_far(d, 10, far, &r);
		far_hits += r.p <= 0.01;
		all_hits += r.all.p <= 0.01;
		for (size_t i = 0; i < 10; i++)
			d[i] = 0.012 + gsl_ran_gaussian(rng, 0.015);
		stats_far_pairs(d, 10, far);
		stats_signed_rank_far(d, 10, far, &r);
		far_normal += r.p <= 0.01;
		all_normal += r.all.p <= 0.01;
	}
	print_message("# A/A, 20 heavy-tailed pairs: %.2f%% at 0.01; +6%%, 10 pairs: %.1f%% (every pair: %.1f%%); "
		      "normal pairs: %.1f%% (%.1f%%)\n", 100.0 * (double)aa / (double)gates,
		      100.0 * (double)far_hits / (double)gates, 100.0 * (double)all_hits / (double)gates,
		      100.0 * (double)far_normal / (double)gates, 100.0 * (double)all_normal / (double)gates);
	/* the level: 1% plus three standard errors of 4000 gates */
	assert_true((double)aa / (double)gates <= 0.01 + 3 * sqrt(0.01 * 0.99 / (double)gates));
	assert_true(far_hits >= all_hits + gates / 20);
	assert_true(far_normal + gates / 50 >= all_normal);
	gsl_rng_free(rng);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mwu_hand),
		cmocka_unit_test(test_mwu_all_equal),
		cmocka_unit_test(test_bh_hand),
		cmocka_unit_test(test_mwu_scipy),
		cmocka_unit_test(test_mwu_consistency),
		cmocka_unit_test(test_hl_huge),
		cmocka_unit_test(test_hl_brute),
		cmocka_unit_test(test_hl_adversary),
		cmocka_unit_test(test_summary_median),
		cmocka_unit_test(test_mwu_lopsided),
		cmocka_unit_test(test_mwu_bad_input),
		cmocka_unit_test(test_hl_nonpositive),
		cmocka_unit_test(test_bh_scipy),
		cmocka_unit_test(test_spread),
		cmocka_unit_test(test_wsr_scipy),
		cmocka_unit_test(test_wsr_hand),
		cmocka_unit_test(test_hl_paired_brute),
		cmocka_unit_test(test_lag1),
		cmocka_unit_test(test_batch_means),
		cmocka_unit_test(test_mde_simulation),
		cmocka_unit_test(test_mde_paired_simulation),
		cmocka_unit_test(test_mde_paired_heavy_tails),
		cmocka_unit_test(test_paired_power_spread_normal),
		cmocka_unit_test(test_far_pairs),
		cmocka_unit_test(test_signed_rank_far_brute),
		cmocka_unit_test(test_signed_rank_far_large),
		cmocka_unit_test(test_signed_rank_far_level_power),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
