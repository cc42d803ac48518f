/*
 * Unit tests for core/stats.c.  Reference values come from SciPy
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

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mwu_hand),
		cmocka_unit_test(test_mwu_all_equal),
		cmocka_unit_test(test_bh_hand),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
