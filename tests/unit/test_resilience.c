/* Unit tests for core/http/resilience.c: phases, the pre-fault band,
 * recovery time and requests lost, on synthetic request streams whose
 * answers follow from their construction. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "../../core/http/resilience.h"
#include "../../core/util.h"

#define MS UINT64_C(1000000)
#define SEC UINT64_C(1000000000)
#define FAILED HTTP_RESILIENCE_FAILED

/* 100 requests/s for `secs` seconds; each latency from f(t). */
static struct http_resilience_sample *stream(size_t secs, uint64_t (*f)(uint64_t t), size_t *n)
{
	struct http_resilience_sample *s;

	*n = secs * 100;
	s = xcalloc(*n, sizeof(*s));
	for (size_t i = 0; i < *n; i++) {
		s[i].t = (uint64_t)i * 10 * MS;
		s[i].latency = f(s[i].t);
	}
	return s;
}

static struct http_resilience_options opts(uint64_t start, uint64_t end_fault, uint64_t end)
{
	struct http_resilience_options o = HTTP_RESILIENCE_OPTIONS_INIT;

	o.fault_start = start;
	o.fault_end = end_fault;
	o.end = end;
	return o;
}

static uint64_t square(uint64_t t)
{
	return t >= 10 * SEC && t < 15 * SEC ? 200 * MS : 10 * MS;
}

static void test_phases_and_instant_recovery(void **state)
{
	size_t n;
	struct http_resilience_sample *s = stream(30, square, &n);
	struct http_resilience_options o = opts(10 * SEC, 15 * SEC, 30 * SEC);
	struct http_resilience r;
	struct err err = ERR_INIT;

	(void)state;
	assert_int_equal(http_resilience_compute(s, n, &o, &r, &err), 0);
	assert_int_equal(r.before.ok, 1000);
	assert_int_equal(r.during.ok, 500);
	assert_int_equal(r.after.ok, 1500);
	assert_int_equal(r.before.p50, 10 * MS);
	assert_int_equal(r.during.p95, 200 * MS);
	assert_int_equal(r.after.p99, 10 * MS);
	assert_true(r.judged);
	assert_true(r.recovered);
	assert_int_equal(r.recovery_time, 0);
	assert_int_equal(r.requests_lost, 0);
	assert_int_equal(r.band_p95, 11 * MS); /* 10 ms + 10% */
	free(s);
}

/* Slow until 2 s after the fault, then fine. */
static uint64_t tail(uint64_t t)
{
	return t >= 10 * SEC && t < 17 * SEC ? 100 * MS : 10 * MS;
}

static void test_recovery_time(void **state)
{
	size_t n;
	struct http_resilience_sample *s = stream(30, tail, &n);
	struct http_resilience_options o = opts(10 * SEC, 15 * SEC, 30 * SEC);
	struct http_resilience r;
	struct err err = ERR_INIT;

	(void)state;
	assert_int_equal(http_resilience_compute(s, n, &o, &r, &err), 0);
	assert_true(r.recovered);
	/* the first 1 s window without a slow request starts at 17 s */
	assert_int_equal(r.recovery_time, 2 * SEC);
	/* a coarser step finds it at the first step at or past 17 s */
	o.step = 300 * MS;
	assert_int_equal(http_resilience_compute(s, n, &o, &r, &err), 0);
	assert_int_equal(r.recovery_time, 2100 * MS);
	/* the order of the samples does not matter */
	for (size_t i = 0; i + 1 < n; i += 2) {
		struct http_resilience_sample t = s[i];
		s[i] = s[n - 1 - i];
		s[n - 1 - i] = t;
	}
	o.step = 0;
	assert_int_equal(http_resilience_compute(s, n, &o, &r, &err), 0);
	assert_int_equal(r.recovery_time, 2 * SEC);
	free(s);
}

/* 3 in 10 fail during the fault and for 1 s after it. */
static uint64_t errors(uint64_t t)
{
	uint64_t i = t / (10 * MS);

	return t >= 10 * SEC && t < 16 * SEC && i % 10 < 3 ? FAILED : 10 * MS;
}

static void test_errors_and_lost(void **state)
{
	size_t n;
	struct http_resilience_sample *s = stream(30, errors, &n);
	struct http_resilience_options o = opts(10 * SEC, 15 * SEC, 30 * SEC);
	struct http_resilience r;
	struct err err = ERR_INIT;

	(void)state;
	assert_int_equal(http_resilience_compute(s, n, &o, &r, &err), 0);
	assert_int_equal(r.during.failed, 150);
	assert_int_equal(r.during.ok, 350);
	assert_true(r.during.error_rate > 0.2999 && r.during.error_rate < 0.3001);
	assert_int_equal(r.before.failed, 0);
	assert_true(r.recovered);
	assert_int_equal(r.recovery_time, 1 * SEC);
	assert_int_equal(r.requests_lost, 180);
	/* a band tolerant of 30% errors calls the end of the fault the recovery */
	o.error_tolerance = 0.3;
	assert_int_equal(http_resilience_compute(s, n, &o, &r, &err), 0);
	assert_int_equal(r.recovery_time, 0);
	assert_int_equal(r.requests_lost, 150);
	free(s);
}

static uint64_t never(uint64_t t)
{
	if (t >= 10 * SEC)
		return t % (50 * MS) == 0 ? FAILED : 80 * MS;
	return 10 * MS;
}

static void test_never_recovers(void **state)
{
	size_t n;
	struct http_resilience_sample *s = stream(20, never, &n);
	struct http_resilience_options o = opts(10 * SEC, 12 * SEC, 20 * SEC);
	struct http_resilience r;
	struct err err = ERR_INIT;

	(void)state;
	assert_int_equal(http_resilience_compute(s, n, &o, &r, &err), 0);
	assert_true(r.judged);
	assert_false(r.recovered);
	assert_int_equal(r.recovery_time, 8 * SEC);
	/* every fifth request from the fault's start on failed */
	assert_int_equal(r.requests_lost, 200);
	free(s);
}

/* Before: 10 ms, every 20th request 11 ms (past the p95 rank of every
 * window); during: 300 ms; after: 12 ms, 20% over the before p95. */
static uint64_t noisy(uint64_t t)
{
	uint64_t i = t / (10 * MS);

	if (t >= 10 * SEC && t < 12 * SEC)
		return 300 * MS;
	if (t >= 12 * SEC)
		return 12 * MS;
	return i % 20 == 0 ? 11 * MS : 10 * MS;
}

static void test_band_and_tolerance(void **state)
{
	size_t n;
	struct http_resilience_sample *s = stream(20, noisy, &n);
	struct http_resilience_options o = opts(10 * SEC, 12 * SEC, 20 * SEC);
	struct http_resilience r;
	struct err err = ERR_INIT;

	(void)state;
	/* 5 in 100 at 11 ms: each window's p95 (rank 95 of 100) is 10 ms, so
	 * the band is 11 ms and 12 ms is out of it */
	assert_int_equal(http_resilience_compute(s, n, &o, &r, &err), 0);
	assert_int_equal(r.band_p95, 11 * MS);
	assert_false(r.recovered);
	/* with 25% tolerance 12 ms is back in the band */
	o.latency_tolerance = 0.25;
	assert_int_equal(http_resilience_compute(s, n, &o, &r, &err), 0);
	assert_int_equal(r.band_p95, 12500 * 1000);
	assert_true(r.recovered);
	assert_int_equal(r.recovery_time, 0);
	free(s);
}

static void test_not_judged(void **state)
{
	size_t n;
	struct http_resilience_sample *s = stream(10, square, &n);
	struct http_resilience_options o = opts(0, 5 * SEC, 10 * SEC);
	struct http_resilience r;
	struct err err = ERR_INIT;

	(void)state;
	/* the fault from the first request: no band */
	assert_int_equal(http_resilience_compute(s, n, &o, &r, &err), 0);
	assert_false(r.judged);
	assert_non_null(strstr(r.why, "no band"));
	assert_int_equal(r.before.ok, 0);
	/* to the end: no after phase */
	o = opts(5 * SEC, 10 * SEC, 10 * SEC);
	assert_int_equal(http_resilience_compute(s, n, &o, &r, &err), 0);
	assert_false(r.judged);
	assert_non_null(strstr(r.why, "no after phase"));
	assert_int_equal(r.after.ok + r.after.failed, 0);
	/* a before phase shorter than a window is one window */
	o = opts(500 * MS, 1 * SEC, 10 * SEC);
	assert_int_equal(http_resilience_compute(s, n, &o, &r, &err), 0);
	assert_true(r.judged);
	assert_int_equal(r.before.ok, 50);
	assert_int_equal(r.band_p95, 11 * MS);
	/* nonsense */
	o = opts(5 * SEC, 5 * SEC, 10 * SEC);
	assert_int_equal(http_resilience_compute(s, n, &o, &r, &err), ERR_INPUT);
	o = opts(11 * SEC, 12 * SEC, 10 * SEC);
	assert_int_equal(http_resilience_compute(s, n, &o, &r, &err), ERR_INPUT);
	/* no samples at all */
	o = opts(1 * SEC, 2 * SEC, 10 * SEC);
	assert_int_equal(http_resilience_compute(NULL, 0, &o, &r, &err), 0);
	assert_false(r.judged);
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_phases_and_instant_recovery),
		cmocka_unit_test(test_recovery_time),
		cmocka_unit_test(test_errors_and_lost),
		cmocka_unit_test(test_never_recovers),
		cmocka_unit_test(test_band_and_tolerance),
		cmocka_unit_test(test_not_judged),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
