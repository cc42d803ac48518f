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

static struct rd_metric *metric(struct rd_bench *b, const char *name, const char *unit, enum rd_direction dir)
{
	struct rd_metric *m = rundoc_bench_find_metric(b, name);

	return m ? m : rundoc_bench_add_metric(b, name, unit, dir);
}

/* What the monitor does when it read energy in a window (core/monitor.c). */
static void monitor_window(struct rd_bench *b, double window, double joules)
{
	cJSON *w = cJSON_CreateObject();

	if (!b->extra)
		b->extra = cJSON_CreateObject();
	if (!cJSON_GetObjectItemCaseSensitive(b->extra, "energy"))
		cJSON_AddArrayToObject(cJSON_AddObjectToObject(b->extra, "energy"), "windows");
	cJSON_AddNumberToObject(w, "window", window);
	cJSON_AddNumberToObject(w, "joules", joules);
	cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(b->extra, "energy"),
							      "windows"),
			     w);
	rundoc_metric_add_sample(metric(b, "energy", "J", RD_LOWER), joules);
}

/* What the runner adds after each window. */
static void repetition(struct rd_bench *b, double rps, double tps, const struct efficiency_price *price)
{
	rundoc_metric_add_sample(metric(b, "throughput", "1/s", RD_HIGHER), rps);
	rundoc_metric_add_sample(metric(b, "output_token_rate", "1/s", RD_HIGHER), tps);
	efficiency_add_metrics(b, price);
}

/* Repetition by repetition, each window's energy with its own work only:
 * a repetition without an energy reading gets no per-work figure rather
 * than the previous window's energy over its own throughput. */
static void test_add_metrics(void **state)
{
	struct rundoc *rd = rundoc_new();
	struct rd_bench *b = rundoc_add_bench(rd, "chat", RUNDOC_KIND_HTTP);
	struct efficiency_price price = { 7.2, "EUR", "suite" };
	const struct rd_metric *m;
	const cJSON *w;

	(void)state;
	monitor_window(b, 10, 500); /* 50 W */
	repetition(b, 10, 100, &price);
	monitor_window(b, 10, 500);
	repetition(b, 0, 0, &price);    /* no work: no per-work figure */
	repetition(b, 20, 200, &price); /* no energy read in this window */
	monitor_window(b, 5, 400);      /* 80 W */
	repetition(b, 40, 400, &price);
	m = rundoc_bench_find_metric(b, "energy_per_request");
	assert_int_equal(m->n_samples, 2);
	near(m->samples[0], 5);   /* 50 W / 10 per s */
	near(m->samples[1], 2);   /* 80 W / 40 per s */
	m = rundoc_bench_find_metric(b, "energy_per_output_token");
	near(m->samples[1], 0.2); /* 80 W / 400 per s */
	near(rundoc_bench_find_metric(b, "output_tokens_per_joule")->samples[0], 2);
	/* each window claimed by its repetition */
	w = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(b->extra, "energy"), "windows");
	near(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(w, 0), "repetition")->valuedouble, 0);
	near(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(w, 1), "repetition")->valuedouble, 1);
	near(cJSON_GetObjectItemCaseSensitive(cJSON_GetArrayItem(w, 2), "repetition")->valuedouble, 3);
	/* cost every repetition that did work: EUR 0.002 a second, 1,000
	 * requests at 10/s take 100 s */
	m = rundoc_bench_find_metric(b, "cost_per_1k_requests");
	assert_int_equal(m->n_samples, 3);
	assert_string_equal(m->unit, "EUR");
	near(m->samples[0], 0.2);
	near(m->samples[2], 0.05);
	near(rundoc_bench_find_metric(b, "cost_per_1m_output_tokens")->samples[1], 10); /* 1e6 / 200 s */
	assert_string_equal(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(
				    cJSON_GetObjectItemCaseSensitive(b->extra, "cost"), "source")),
			    "suite");
	rundoc_free(rd);
}

/* A merged run of shards: one shard's energy windows and price, the
 * merged (here four times the shard's) throughput and token rate. */
static void test_rederive(void **state)
{
	struct rundoc *rd = rundoc_new();
	struct rd_bench *b = rundoc_add_bench(rd, "chat", RUNDOC_KIND_HTTP);
	const double thr[] = { 10, 20, 40 }, tok[] = { 100, 200, 400 };
	struct rd_metric *m;

	(void)state;
	for (int i = 0; i < 3; i++) {
		rundoc_metric_add_sample(metric(b, "throughput", "1/s", RD_HIGHER), thr[i]);
		rundoc_metric_add_sample(metric(b, "output_token_rate", "1/s", RD_HIGHER), tok[i]);
	}
	/* as the shard left them: windows of repetitions 0 and 2 */
	b->extra = cJSON_Parse("{\"energy\": {\"windows\": [{\"window\": 10, \"joules\": 500, \"repetition\": 0},"
			       " {\"window\": 5, \"joules\": 400, \"repetition\": 2}]},"
			       " \"cost\": {\"per_hour\": 3.6, \"currency\": \"EUR\"}}");
	efficiency_rederive(b);
	m = rundoc_bench_find_metric(b, "energy_per_request");
	assert_int_equal(m->n_samples, 2);
	near(m->samples[0], 5); /* 50 W over 10 req/s */
	near(m->samples[1], 2); /* 80 W over 40 req/s, not 20 */
	near(rundoc_bench_find_metric(b, "output_tokens_per_joule")->samples[0], 2);
	/* $0.001 a second: 1,000 requests at 10/s, 20/s and 40/s */
	m = rundoc_bench_find_metric(b, "cost_per_1k_requests");
	assert_string_equal(m->unit, "EUR");
	assert_int_equal(m->n_samples, 3);
	near(m->samples[0], 0.1);
	near(m->samples[1], 0.05);
	near(m->samples[2], 0.025);
	near(rundoc_bench_find_metric(b, "cost_per_1m_output_tokens")->samples[0], 10);
	assert_true(efficiency_derived("cost_per_1k_requests"));
	assert_false(efficiency_derived("energy"));
	/* a sweep step's: derived from that step's throughput in a shard */
	assert_true(efficiency_derived("energy_per_output_token@10/s"));
	assert_false(efficiency_derived("energy@10/s"));
	assert_false(efficiency_derived("cost_per_1k"));
	assert_false(efficiency_derived("cost_per_1k_requests_x"));
	rundoc_free(rd);

	/* windows no repetition claimed (an older shard's): by position only
	 * when there is one per repetition */
	rd = rundoc_new();
	b = rundoc_add_bench(rd, "chat", RUNDOC_KIND_HTTP);
	for (int i = 0; i < 2; i++)
		rundoc_metric_add_sample(metric(b, "throughput", "1/s", RD_HIGHER), thr[i]);
	b->extra = cJSON_Parse("{\"energy\": {\"windows\": [{\"window\": 10, \"joules\": 500},"
			       " {\"window\": 10, \"joules\": 800}]}}");
	efficiency_rederive(b);
	m = rundoc_bench_find_metric(b, "energy_per_request");
	assert_int_equal(m->n_samples, 2);
	near(m->samples[1], 4);
	assert_null(rundoc_bench_find_metric(b, "cost_per_1k_requests"));
	rundoc_free(rd);
	rd = rundoc_new();
	b = rundoc_add_bench(rd, "chat", RUNDOC_KIND_HTTP);
	for (int i = 0; i < 3; i++)
		rundoc_metric_add_sample(metric(b, "throughput", "1/s", RD_HIGHER), thr[i]);
	b->extra = cJSON_Parse("{\"energy\": {\"windows\": [{\"window\": 10, \"joules\": 500}]}}");
	efficiency_rederive(b);
	assert_null(rundoc_bench_find_metric(b, "energy_per_request"));
	rundoc_free(rd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_energy_counter),
		cmocka_unit_test(test_energy_power),
		cmocka_unit_test(test_per_work_and_cost),
		cmocka_unit_test(test_price_parse),
		cmocka_unit_test(test_price_find_and_validate),
		cmocka_unit_test(test_add_metrics),
		cmocka_unit_test(test_rederive),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
