/* Unit tests for core/http/converge.c: a step's metric judged converged by
 * batch means over sub-windows, with values fed at chosen times (no
 * clock): steady values converge once enough sub-windows are in, noisy
 * ones do not, a percentile waits for enough requests per batch; and the
 * converge object's problems at their paths. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <string.h>

#include <gsl/gsl_rng.h>
#include <gsl/gsl_randist.h>

#include "../../core/http/converge.h"
#include "../../core/util.h"

#define S 1000000000ULL /* ns */
#define T0 (100 * S)    /* the window's start */

static struct http_converge_options opts(const char *json, bool sse)
{
	struct http_converge_options o;
	struct errlist problems = ERRLIST_INIT;
	cJSON *j = cJSON_Parse(json);

	assert_non_null(j);
	if (http_converge_parse(&o, j, "b.load", sse, &problems) != 0)
		fail_msg("%s: %s", json, problems.msgs[0]);
	cJSON_Delete(j);
	errlist_release(&problems);
	return o;
}

/* Feed `per_s` requests a second from t = 0 to `secs` (two workers), each
 * value drawn as latency = base x lognormal(0, sigma); check every 0.5 s.
 * Returns the time (s) it converged at, or -1. */
static double feed(struct http_converge *c, double per_s, double secs, double sigma, unsigned long seed)
{
	gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
	uint64_t step = (uint64_t)(S / per_s), next_check = T0 + S / 2;
	double at = -1;

	gsl_rng_set(r, seed);
	for (uint64_t t = T0; t < T0 + (uint64_t)(secs * S) && at < 0; t += step) {
		uint64_t v[CONV_N] = { 0 };
		bool have[CONV_N] = { true, true, true, false, false };

		v[CONV_LATENCY] = (uint64_t)(2e6 * gsl_ran_lognormal(r, 0, sigma));
		http_converge_record(c, (t / step) % 2, t, v, have);
		if (t >= next_check) {
			if (http_converge_check(c, t))
				at = (double)(t - T0) / S;
			next_check += S / 2;
		}
	}
	gsl_rng_free(r);
	return at;
}

static void test_steady_converges(void **state)
{
	struct http_converge_options o = opts("{\"metric\": \"latency.p95\", \"half_width\": \"5%\", \"interval\": \"1s\", \"min_duration\": \"5s\"}", false);
	struct http_converge *c = http_converge_new(&o, 2, T0);
	struct http_converge_outcome out;
	double at;

	(void)state;
	at = feed(c, 1000, 60, 0.3, 1);
	/* not before min_duration and 10 batches; well before 60 s */
	assert_true(at >= 10 && at < 20);
	http_converge_outcome(c, &out);
	assert_true(out.converged);
	assert_true(out.half_width <= 0.05);
	assert_true(out.batches >= 10);
	/* the p95 of 2 ms x lognormal(0, 0.3): 2 ms x exp(1.645 x 0.3) = 3.28 ms */
	assert_true(fabs(out.center - 0.00328) < 0.0002);
	http_converge_free(c);
}

static void test_noisy_does_not(void **state)
{
	struct http_converge_options o = opts("{\"metric\": \"latency.mean\", \"half_width\": 0.01, \"min_duration\": 2}", false);
	struct http_converge *c = http_converge_new(&o, 2, T0);
	struct http_converge_outcome out;

	(void)state;
	/* heavy tails: the mean of 100 requests a second moves a lot */
	assert_true(feed(c, 100, 30, 1.5, 2) < 0);
	http_converge_outcome(c, &out);
	assert_false(out.converged);
	assert_true(out.half_width > 0.01);
	http_converge_free(c);
}

/* p99 needs 1,000 requests a batch: at 50 a second, 30 s give too few
 * batches to judge. */
static void test_percentile_needs_requests(void **state)
{
	struct http_converge_options o = opts("{\"metric\": \"latency.p99\", \"half_width\": \"50%\", \"min_duration\": \"1s\"}", false);
	struct http_converge *c = http_converge_new(&o, 2, T0);
	struct http_converge_outcome out;

	(void)state;
	assert_true(feed(c, 50, 30, 0.1, 3) < 0);
	http_converge_outcome(c, &out);
	assert_int_equal(out.batches, 0);
	assert_true(isnan(out.half_width));
	http_converge_free(c);
}

static void test_bad(void **state)
{
	static const struct {
		const char *json;
		bool sse;
		const char *message;
	} cases[] = {
		{ "{\"metric\": \"ttft.p95\"}", false, "b.load.converge.metric: ttft needs \"stream\": \"sse\"" },
		{ "{\"metric\": \"goodput\"}", true, "b.load.converge.metric: expected a percentile or mean of latency" },
		{ "{\"metric\": \"latency.p100\"}", true, "b.load.converge.metric: expected a percentile or mean" },
		{ "{\"metric\": \"latency.p95\", \"half_width\": \"150%\"}", true, "b.load.converge.half_width: expected a fraction" },
		{ "{\"metric\": \"latency.p95\", \"interval\": \"1ms\"}", true, "b.load.converge.interval: at least 10ms" },
		{ "{\"metric\": \"latency.p95\", \"min_batches\": 2}", true, "b.load.converge.min_batches: expected an integer >= 3" },
		{ "{\"metric\": \"latency.p95\", \"halfwidth\": 0.1}", true, "b.load.converge.halfwidth: unknown key; did you mean \"half_width\"?" },
		{ "[]", true, "b.load.converge: expected an object" },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct errlist problems = ERRLIST_INIT;
		cJSON *j = cJSON_Parse(cases[i].json);

		assert_int_equal(http_converge_parse(NULL, j, "b.load", cases[i].sse, &problems), ERR_INPUT);
		if (strncmp(problems.msgs[0], cases[i].message, strlen(cases[i].message)) != 0)
			fail_msg("case %zu: got \"%s\"", i, problems.msgs[0]);
		errlist_release(&problems);
		cJSON_Delete(j);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_steady_converges),
		cmocka_unit_test(test_noisy_does_not),
		cmocka_unit_test(test_percentile_needs_requests),
		cmocka_unit_test(test_bad),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
