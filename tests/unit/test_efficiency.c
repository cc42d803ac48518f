/* Unit tests for core/efficiency.c: energy from a counter and from
 * power, per unit of work, and cost; every value worked out by hand. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../../core/efficiency.h"
#include "../../core/util.h"

static void near_at(double got, double want, int line)
{
	if (!(fabs(got - want) < 1e-9 * fmax(1.0, fabs(want))))
		fail_msg("line %d: got %.17g, want %.17g", line, got, want);
}
#define near(a, b) near_at((a), (b), __LINE__)

static void test_energy_counter(void **state)
{
	const double t[] = { 0.1, 1.1, 2.1, 3.1 };
	const double e[] = { 1000, 1250, 1500, 1750 };      /* 250 J per second */
	const double reset[] = { 1000, 1250, 100, 350 };    /* a driver reload after 1.1 s */
	const double gap[] = { 1000, NAN, 1500, 1750 };

	(void)state;
	/* 750 J over 3 s of readings, scaled to a 3.2 s window */
	near(efficiency_energy_counter(t, e, 4, 3.2), 750 * 3.2 / 3.0);
	/* 250 + 100 (the reset's value) + 250 */
	near(efficiency_energy_counter(t, reset, 4, 3.0), 600);
	near(efficiency_energy_counter(t, gap, 4, 3.0), 750);
	assert_true(isnan(efficiency_energy_counter(t, e, 1, 3.0)));
	assert_true(isnan(efficiency_energy_counter(t, e, 4, 0)));
}

static void test_energy_power(void **state)
{
	const double t[] = { 0, 1, 2, 4 };
	const double p[] = { 100, 200, 200, 100 };

	(void)state;
	/* trapezoids: 150 + 200 + 2 * 150 = 650 J over 4 s; the window is 4 s */
	near(efficiency_energy_power(t, p, 4, 4), 650);
	/* scaled to a 5 s window */
	near(efficiency_energy_power(t, p, 4, 5), 650 * 5 / 4.0);
	/* one reading stands for the window */
	near(efficiency_energy_power(t, p, 1, 2), 200);
	assert_true(isnan(efficiency_energy_power(t, (const double[]){ NAN, NAN }, 2, 2)));
}

static void test_per_work_and_cost(void **state)
{
	struct efficiency_energy e;

	(void)state;
	efficiency_energy_per_work(600, 120, 3000, &e);
	near(e.energy_per_request, 5);
	near(e.energy_per_output_token, 0.2);
	near(e.output_tokens_per_joule, 5);
	efficiency_energy_per_work(600, 0, 0, &e);
	assert_true(isnan(e.energy_per_request));
	assert_true(isnan(e.output_tokens_per_joule));
	efficiency_energy_per_work(NAN, 10, 10, &e);
	assert_true(isnan(e.energy_per_request));
	/* $3.60 an hour is $0.001 a second; at 10 requests/s, 1,000 requests
	 * take 100 s: $0.10; at 2,000 tokens/s a million take 500 s: $0.50 */
	near(efficiency_cost_per_1k_requests(3.6, 10), 0.1);
	near(efficiency_cost_per_1m_output_tokens(3.6, 2000), 0.5);
	assert_true(isnan(efficiency_cost_per_1k_requests(3.6, 0)));
}

static void test_price_parse(void **state)
{
	struct efficiency_price p;
	struct err err = ERR_INIT;

	(void)state;
	assert_int_equal(efficiency_price_parse("2.5", &p, &err), 0);
	near(p.per_hour, 2.5);
	assert_string_equal(p.currency, "USD");
	assert_int_equal(efficiency_price_parse(" 3.10 eur ", &p, &err), 0);
	near(p.per_hour, 3.1);
	assert_string_equal(p.currency, "EUR");
	assert_int_equal(efficiency_price_parse("GBP 1", &p, &err), 0);
	assert_string_equal(p.currency, "GBP");
	assert_int_equal(efficiency_price_parse("cheap", &p, &err), ERR_INPUT);
	assert_string_equal(err.msg, "price 'cheap': expected a price per hour such as \"2.50 USD\"");
	assert_int_equal(efficiency_price_parse("-2 USD", &p, &err), ERR_INPUT);
	assert_int_equal(efficiency_price_parse("2 U$", &p, &err), ERR_INPUT);
	assert_int_equal(efficiency_price_parse("2 USD USD", &p, &err), ERR_INPUT);
}

static void test_price_find_and_validate(void **state)
{
	cJSON *suite = cJSON_Parse("{\"per_hour\": 4.2, \"currency\": \"eur\"}");
	struct efficiency_price p;
	struct err err = ERR_INIT;
	struct errlist probs = ERRLIST_INIT;
	cJSON *bad = cJSON_Parse("{\"per_hour\": 0, \"currency\": \"$\", \"cost\": 1}");

	(void)state;
	unsetenv("PERFGATE_PRICE_PER_HOUR");
	assert_int_equal(efficiency_price_find(NULL, &p, &err), 0);
	assert_int_equal(efficiency_price_find(suite, &p, &err), 1);
	near(p.per_hour, 4.2);
	assert_string_equal(p.currency, "EUR");
	assert_string_equal(p.source, "suite");
	setenv("PERFGATE_PRICE_PER_HOUR", "1.5 CHF", 1);
	assert_int_equal(efficiency_price_find(suite, &p, &err), 1);
	near(p.per_hour, 1.5);
	assert_string_equal(p.currency, "CHF");
	assert_string_equal(p.source, "PERFGATE_PRICE_PER_HOUR");
	setenv("PERFGATE_PRICE_PER_HOUR", "lots", 1);
	assert_int_equal(efficiency_price_find(suite, &p, &err), ERR_INPUT);
	assert_string_equal(err.msg, "PERFGATE_PRICE_PER_HOUR: price 'lots': expected a price per hour such as \"2.50 USD\"");
	unsetenv("PERFGATE_PRICE_PER_HOUR");

	efficiency_price_validate(suite, "price", &probs);
	assert_int_equal(probs.n, 0);
	efficiency_price_validate(bad, "price", &probs);
	assert_int_equal(probs.n, 3);
	assert_string_equal(probs.msgs[0], "price.cost: unknown key");
	assert_string_equal(probs.msgs[1], "price.per_hour: must be a number > 0");
	assert_string_equal(probs.msgs[2], "price.currency: expected a currency code such as \"USD\"");
	errlist_release(&probs);
	efficiency_price_validate(cJSON_GetObjectItemCaseSensitive(suite, "currency"), "price", &probs);
	assert_string_equal(probs.msgs[0],
			    "price: expected an object such as {\"per_hour\": 2.5, \"currency\": \"USD\"}, got \"eur\"");
	errlist_release(&probs);
	cJSON_Delete(suite);
	cJSON_Delete(bad);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_energy_counter),
		cmocka_unit_test(test_energy_power),
		cmocka_unit_test(test_per_work_and_cost),
		cmocka_unit_test(test_price_parse),
		cmocka_unit_test(test_price_find_and_validate),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
