/*
 * Unit tests for core/stats.c.  The "huge" cases (over 1e6 pairs) go through
 * the selection path of the Hodges-Lehmann code, the rest through the sort.
 * Reference values come from SciPy
 * (tests/fixtures/stats/make_reference.py wrote stats_reference.h) and from
 * hand-countable cases.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../../core/stats.h"
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mwu_hand),
		cmocka_unit_test(test_mwu_all_equal),
		cmocka_unit_test(test_bh_hand),
		cmocka_unit_test(test_mwu_scipy),
		cmocka_unit_test(test_mwu_consistency),
		cmocka_unit_test(test_hl_huge),
		cmocka_unit_test(test_mwu_lopsided),
		cmocka_unit_test(test_mwu_bad_input),
		cmocka_unit_test(test_hl_nonpositive),
		cmocka_unit_test(test_bh_scipy),
		cmocka_unit_test(test_spread),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
