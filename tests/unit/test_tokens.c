/* Unit tests for core/tokens.c: ttft, tpot, inter-token gaps and the
 * source of the token count, with expected values worked out by hand. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include "../../core/hist.h"
#include "../../core/http/tokens.h"
#include "../../core/util.h"

#define MS 1000000ULL

static void test_token_metrics(void **state)
{
	static const struct {
		uint64_t sched;
		uint64_t events[6]; /* content event times, 0 ends the list */
		long usage;
		bool has_tpot;
		uint64_t ttft, tpot, tokens;
		bool from_usage, one_token;
	} cases[] = {
		/* 4 events, no usage: N = 4, tpot = (130-100)/3 = 10 ms */
		{ 0, { 100 * MS, 110 * MS, 120 * MS, 130 * MS }, -1, true, 100 * MS, 10 * MS, 4, false, false },
		/* usage says 7 tokens in 4 chunks: tpot = 30/6 = 5 ms, chunks not tokens */
		{ 50 * MS, { 100 * MS, 110 * MS, 120 * MS, 130 * MS }, 7, true, 50 * MS, 5 * MS, 7, true, false },
		/* usage agrees with the event count: one token per event */
		{ 0, { 20 * MS, 45 * MS, 70 * MS }, 3, true, 20 * MS, 25 * MS, 3, true, true },
		/* one token: ttft but no tpot */
		{ 10 * MS, { 30 * MS }, -1, false, 20 * MS, 0, 1, false, false },
		/* usage of 1 with several events (odd server): no tpot */
		{ 0, { 30 * MS, 40 * MS }, 1, false, 30 * MS, 0, 1, true, false },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct http_tokens r;
		struct http_tokens_result res;
		struct hist *gaps = hist_new(3);
		size_t n = 0;

		http_tokens_reset(&r);
		for (; n < 6 && cases[i].events[n]; n++)
			http_tokens_event(&r, cases[i].events[n], gaps);
		http_tokens_usage(&r, cases[i].usage);
		http_tokens_result_of(&r, cases[i].sched, &res);
		assert_true(res.has_first);
		assert_int_equal(res.ttft, cases[i].ttft);
		assert_int_equal(res.has_tpot, cases[i].has_tpot);
		if (cases[i].has_tpot)
			assert_int_equal(res.tpot, cases[i].tpot);
		assert_int_equal(res.tokens, cases[i].tokens);
		assert_int_equal(res.from_usage, cases[i].from_usage);
		assert_int_equal(res.one_token_events, cases[i].one_token);
		/* n events give n-1 gaps, each the difference of neighbours */
		assert_int_equal(hist_count(gaps), n - 1);
		if (n >= 2) {
			assert_int_equal(hist_min(gaps), cases[i].events[1] - cases[i].events[0]);
			assert_int_equal(hist_max(gaps), cases[i].events[n - 1] - cases[i].events[n - 2]);
		}
		hist_free(gaps);
	}
}

static void test_no_content(void **state)
{
	struct http_tokens r;
	struct http_tokens_result res;

	(void)state;
	http_tokens_reset(&r);
	http_tokens_usage(&r, 0);
	http_tokens_result_of(&r, 0, &res);
	assert_false(res.has_first);
	assert_false(res.has_tpot);
	assert_int_equal(res.tokens, 0);
	assert_true(res.from_usage);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_token_metrics),
		cmocka_unit_test(test_no_content),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
