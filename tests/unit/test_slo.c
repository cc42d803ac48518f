/*
 * Unit tests for core/slo.c: parsing (good expressions and bad ones with
 * their exact messages), key resolution and evaluation on a benchmark.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../../core/slo.h"
#include "../../core/suite.h"
#include "../../core/util.h"

static void test_slo_parse_good(void **state)
{
	static const struct {
		const char *key, *expr;
		const char *metric, *stat; /* stat NULL: none */
		enum slo_op op;
		double value;              /* SI */
	} cases[] = {
		{ "latency.p95", "< 250ms", "latency", "p95", SLO_LT, 0.25 },
		{ "wall.median", "<200ms", "wall", "median", SLO_LT, 0.2 },
		{ "max_rss.max", "< 512MiB", "max_rss", "max", SLO_LT, 536870912.0 },
		{ "error_rate", "< 1%", "error_rate", NULL, SLO_LT, 0.01 },
		{ "throughput", ">= 45/s", "throughput", NULL, SLO_GE, 45 },
		{ "ttft.p99.9", "<= 1.5s", "ttft", "p99.9", SLO_LE, 1.5 },
		{ "tpot.p50", "< 40 ms", "tpot", "p50", SLO_LT, 0.04 },
		{ "goodput", " >= 2/s ", "goodput", NULL, SLO_GE, 2 },
		{ "wall.min", "> 100us", "wall", "min", SLO_GT, 100e-6 },
		{ "wall.mean", "< 500000ns", "wall", "mean", SLO_LT, 500e-6 },
		{ "wall.count", ">= 10", "wall", "count", SLO_GE, 10 },
		{ "exit_code.max", "== 0", "exit_code", "max", SLO_EQ, 0 },
		{ "net.bytes.max", "< 2KB", "net.bytes", "max", SLO_LT, 2000 },
		{ "requests.rate", "> 1e3/s", "requests", "rate", SLO_GT, 1000 },
		{ "score", "> -3", "score", NULL, SLO_GT, -3 },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct slo s;
		struct err err = ERR_INIT;

		print_message("# %s: %s\n", cases[i].key, cases[i].expr);
		assert_int_equal(slo_parse(cases[i].key, cases[i].expr, &s, &err), 0);
		assert_string_equal(s.metric, cases[i].metric);
		if (cases[i].stat)
			assert_string_equal(s.stat, cases[i].stat);
		else
			assert_null(s.stat);
		assert_int_equal(s.op, cases[i].op);
		assert_true(fabs(s.value - cases[i].value) <= 1e-12 * fabs(cases[i].value));
		assert_string_equal(s.key, cases[i].key);
		slo_release(&s);
	}
}

static void test_slo_parse_bad(void **state)
{
	static const struct {
		const char *key, *expr, *msg;
	} cases[] = {
		{ "", "< 1s", "slo '': empty metric name" },
		{ ".p95", "< 1s", "slo '.p95': empty metric name" },
		{ "latency.p95", "", "slo 'latency.p95': empty expression; expected OP VALUE[UNIT] such as '< 250ms'" },
		{ "latency.p95", "   ", "slo 'latency.p95': empty expression; expected OP VALUE[UNIT] such as '< 250ms'" },
		{ "latency.p95", "250ms", "slo 'latency.p95': '250ms' does not start with one of < <= > >= ==" },
		{ "latency.p95", "=< 250ms", "slo 'latency.p95': '=< 250ms' does not start with one of < <= > >= ==" },
		{ "latency.p95", "<< 250ms", "slo 'latency.p95': '<< 250ms' does not start with one of < <= > >= ==" },
		{ "latency.p95", "<", "slo 'latency.p95': '<' has no value after the comparison" },
		{ "latency.p95", "< ms", "slo 'latency.p95': '< ms' has no number after the comparison" },
		{ "latency.p95", "< 250 parsecs",
		  "slo 'latency.p95': unknown unit 'parsecs' in '< 250 parsecs' (known: ns us ms s % B KB MB GB KiB MiB GiB /s)" },
		{ "latency.p95", "< 250ms or so",
		  "slo 'latency.p95': unknown unit 'ms or so' in '< 250ms or so' (known: ns us ms s % B KB MB GB KiB MiB GiB /s)" },
		{ "latency.p95", "< -5ms", "slo 'latency.p95': '< -5ms': a value in ms cannot be negative" },
		{ "latency.p95", "< inf", "slo 'latency.p95': '< inf': the value is not a finite number" },
		{ "latency.p101", "< 1s", "slo 'latency.p101': percentile 'p101' is not in (0, 100]" },
		{ "latency.p0", "< 1s", "slo 'latency.p0': percentile 'p0' is not in (0, 100]" },
		{ "wall.count", "> 5ms", "slo 'wall.count': '> 5ms': a count takes no unit" },
		{ "requests.rate", "> 5ms", "slo 'requests.rate': '> 5ms': a rate is compared in /s, not ms" },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct slo s;
		struct err err = ERR_INIT;

		print_message("# '%s': '%s'\n", cases[i].key, cases[i].expr);
		assert_int_equal(slo_parse(cases[i].key, cases[i].expr, &s, &err), ERR_INPUT);
		assert_string_equal(err.msg, cases[i].msg);
		assert_null(s.key); /* nothing left to release */
	}
}

/* A command benchmark (wall, max_rss) and a load-test one (latency.p95 per
 * repetition, throughput, error_rate), as the runners emit them. */
static struct rundoc *make_run(void)
{
	static const double wall[] = { 0.180, 0.150, 0.210, 0.160, 0.170 };
	static const double rss[] = { 100e6, 120e6, 110e6, 130e6, 90e6 };
	static const double p95[] = { 0.240, 0.260, 0.230 };
	static const double tput[] = { 48, 47, 46 };
	static const double err_rate[] = { 0.002, 0.0, 0.03 };
	struct rundoc *rd = rundoc_new();
	struct rd_bench *b = rundoc_add_bench(rd, "gzip", RUNDOC_KIND_COMMAND);
	struct rd_metric *m;

	m = rundoc_bench_add_metric(b, "wall", "s", RD_LOWER);
	for (size_t i = 0; i < ARRAY_SIZE(wall); i++)
		rundoc_metric_add_sample(m, wall[i]);
	m = rundoc_bench_add_metric(b, "max_rss", "B", RD_LOWER);
	for (size_t i = 0; i < ARRAY_SIZE(rss); i++)
		rundoc_metric_add_sample(m, rss[i]);
	b = rundoc_add_bench(rd, "classify", RUNDOC_KIND_HTTP);
	m = rundoc_bench_add_metric(b, "latency.p95", "s", RD_LOWER);
	for (size_t i = 0; i < ARRAY_SIZE(p95); i++)
		rundoc_metric_add_sample(m, p95[i]);
	m = rundoc_bench_add_metric(b, "throughput", "1/s", RD_HIGHER);
	for (size_t i = 0; i < ARRAY_SIZE(tput); i++)
		rundoc_metric_add_sample(m, tput[i]);
	m = rundoc_bench_add_metric(b, "error_rate", "1", RD_LOWER);
	for (size_t i = 0; i < ARRAY_SIZE(err_rate); i++)
		rundoc_metric_add_sample(m, err_rate[i]);
	/* the same rates in percent points */
	m = rundoc_bench_add_metric(b, "error_pct", "%", RD_LOWER);
	for (size_t i = 0; i < ARRAY_SIZE(err_rate); i++)
		rundoc_metric_add_sample(m, err_rate[i] * 100);
	return rd;
}

static void test_slo_evaluate(void **state)
{
	static const struct {
		const char *bench, *key, *expr;
		bool ok;
		double actual; /* worked out by hand from make_run's samples */
	} cases[] = {
		/* wall sorted: .150 .160 .170 .180 .210 */
		{ "gzip", "wall.median", "< 200ms", true, 0.170 },
		{ "gzip", "wall.median", "< 170ms", false, 0.170 },
		{ "gzip", "wall.median", "<= 170ms", true, 0.170 },
		{ "gzip", "wall.max", "< 200ms", false, 0.210 },
		{ "gzip", "wall.min", ">= 150ms", true, 0.150 },
		{ "gzip", "wall.mean", "< 175ms", true, 0.174 },
		/* nearest rank: ceil(0.95 * 5) = 5th, ceil(0.5 * 5) = 3rd, ceil(0.2 * 5) = 1st */
		{ "gzip", "wall.p95", "< 200ms", false, 0.210 },
		{ "gzip", "wall.p50", "< 200ms", true, 0.170 },
		{ "gzip", "wall.p20", "< 200ms", true, 0.150 },
		{ "gzip", "wall.count", ">= 5", true, 5 },
		{ "gzip", "max_rss.max", "< 512MiB", true, 130e6 },
		{ "gzip", "max_rss.max", "< 100MB", false, 130e6 },
		/* rule 1: the runner's own latency.p95, median across repetitions */
		{ "classify", "latency.p95", "< 250ms", true, 0.240 },
		{ "classify", "latency.p95", "< 240ms", false, 0.240 },
		{ "classify", "throughput", ">= 45/s", true, 47 },
		{ "classify", "error_rate", "< 1%", true, 0.002 },
		{ "classify", "error_rate.max", "< 1%", false, 0.03 },
		{ "classify", "throughput.rate", "> 47/s", false, 47 },
		{ "classify", "error_pct", "< 1%", true, 0.2 },
		{ "classify", "error_pct.max", "< 1%", false, 3 },
		{ "classify", "error_pct.max", "< 5", true, 3 },
	};
	struct rundoc *rd = make_run();

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct slo s;
		struct slo_result r;
		struct err err = ERR_INIT;

		print_message("# %s %s %s\n", cases[i].bench, cases[i].key, cases[i].expr);
		assert_int_equal(slo_parse(cases[i].key, cases[i].expr, &s, &err), 0);
		assert_int_equal(slo_evaluate(&s, rundoc_find_bench(rd, cases[i].bench), &r, &err), 0);
		assert_int_equal(r.ok, cases[i].ok);
		assert_true(fabs(r.actual - cases[i].actual) <= 1e-9 * fabs(cases[i].actual));
		assert_true(r.why[0] != '\0');
		slo_release(&s);
	}
	rundoc_free(rd);
}

static void add_metric(struct rd_bench *b, const char *name, const char *unit, const double *v, size_t n)
{
	struct rd_metric *m = rundoc_bench_add_metric(b, name, unit, RD_LOWER);

	for (size_t i = 0; i < n; i++)
		rundoc_metric_add_sample(m, v[i]);
}

/* A failed request counts as slower than any limit: a percentile pN of a
 * per-request time holds in a repetition only when at most 100 - N percent
 * of its requests failed (issue 19 item 14: a p95 held while 94% failed). */
static void test_slo_failed_requests(void **state)
{
	static const double fast3[] = { 0.10, 0.11, 0.12 }, err3[] = { 0, 0.05, 0.90 };
	static const double half3[] = { 0.05, 0.05, 0.05 }, chat3[] = { 0.2, 0.2, 0.2 }, chat_err[] = { 0.02, 0.02, 0.02 };
	static const double one3[] = { 1, 1, 1 }, jerr[] = { 0, 0, 0.001 }, late3[] = { 0.001, 0.001, 0.001 };
	static const double fast1[] = { 0.01 }, err1[] = { 0.94 };
	static const struct {
		const char *bench, *key, *expr;
		bool ok;
		double actual; /* NaN: failures decided it */
	} cases[] = {
		/* the 90% repetition is +inf; the median of the three is 0.11 */
		{ "llm", "latency.p95", "< 250ms", true, 0.11 },
		{ "llm", "latency.p95.max", "< 250ms", false, NAN },
		/* 5% failed leaves a p95 its room exactly */
		{ "llm", "latency.p95.p50", "< 250ms", true, 0.11 },
		{ "llm", "latency.p50", "< 250ms", true, 0.05 },
		/* per class: the class's own error rate, 2% > the 1% of a p99 */
		{ "llm", "ttft.p99[chat]", "< 1s", false, NAN },
		/* the max leaves no room: one failure in a thousand */
		{ "llm", "journey.latency.max", "< 2s", true, 1 },
		{ "llm", "journey.latency.max.max", "< 2s", false, NAN },
		/* not a per-request time, or not a percentile: as measured */
		{ "llm", "lateness.p95", "< 2ms", true, 0.001 },
		{ "llm", "latency.mean", "< 250ms", true, 0.11 },
		{ "allfail", "latency.p95", "< 200ms", false, NAN },
		{ "allfail", "latency.p95", "> 1ms", false, NAN },
	};
	struct rundoc *rd = rundoc_new();
	struct rd_bench *b = rundoc_add_bench(rd, "llm", RUNDOC_KIND_HTTP);

	(void)state;
	add_metric(b, "latency.p95", "s", fast3, 3);
	add_metric(b, "latency.p50", "s", half3, 3);
	add_metric(b, "latency.mean", "s", fast3, 3);
	add_metric(b, "error_rate", "1", err3, 3);
	add_metric(b, "ttft.p99[chat]", "s", chat3, 3);
	add_metric(b, "error_rate[chat]", "1", chat_err, 3);
	add_metric(b, "journey.latency.max", "s", one3, 3);
	add_metric(b, "journey.error_rate", "1", jerr, 3);
	add_metric(b, "lateness.p95", "s", late3, 3);
	b = rundoc_add_bench(rd, "allfail", RUNDOC_KIND_HTTP);
	add_metric(b, "latency.p95", "s", fast1, 1);
	add_metric(b, "error_rate", "1", err1, 1);
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct slo s;
		struct slo_result r;
		struct err err = ERR_INIT;

		print_message("# %s %s %s\n", cases[i].bench, cases[i].key, cases[i].expr);
		assert_int_equal(slo_parse(cases[i].key, cases[i].expr, &s, &err), 0);
		assert_int_equal(slo_evaluate(&s, rundoc_find_bench(rd, cases[i].bench), &r, &err), 0);
		assert_int_equal(r.ok, cases[i].ok);
		if (isnan(cases[i].actual)) {
			assert_true(isnan(r.actual));
			assert_non_null(strstr(r.why, ": too many failed requests ("));
		} else {
			assert_true(fabs(r.actual - cases[i].actual) <= 1e-9 * fabs(cases[i].actual));
		}
		slo_release(&s);
	}
	/* the reason names the share, the repetitions and the room */
	{
		struct slo s;
		struct slo_result r;
		struct err err = ERR_INIT;

		assert_int_equal(slo_parse("latency.p95", "< 200ms", &s, &err), 0);
		assert_int_equal(slo_evaluate(&s, rundoc_find_bench(rd, "allfail"), &r, &err), 0);
		assert_string_equal(r.why, "latency.p95: too many failed requests (94% failed in 1 of 1 repetitions, more "
					   "than the 5% a p95 leaves room for; a failed request counts as slower than any limit)");
		slo_release(&s);
	}
	rundoc_free(rd);
}

static void test_slo_evaluate_errors(void **state)
{
	static const struct {
		const char *bench, *key, *expr, *msg;
	} cases[] = {
		{ "classify", "latncy.p95", "< 250ms",
		  "slo 'latncy.p95': no metric 'latncy' in benchmark 'classify' (did you mean 'latency'?)" },
		{ "classify", "eror_rate", "< 1%",
		  "slo 'eror_rate': no metric 'eror_rate' in benchmark 'classify' (did you mean 'error_rate'?)" },
		{ "gzip", "cycles.median", "< 1s", "slo 'cycles.median': no metric 'cycles' in benchmark 'gzip'" },
		{ "gzip", "max_rss.max", "< 512ms",
		  "slo 'max_rss.max': '< 512ms' is a time, but metric 'max_rss' is in 'B'" },
		{ "gzip", "wall.median", "< 1%", "slo 'wall.median': '< 1%' is a ratio, but metric 'wall' is in 's'" },
		{ "gzip", "wall.rate", "> 5/s", "slo 'wall.rate': '> 5/s' is a rate, but metric 'wall' is in 's'" },
		{ "classify", "throughput", "> 5MiB", "slo 'throughput': '> 5MiB' is a size, but metric 'throughput' is in '1/s'" },
	};
	struct rundoc *rd = make_run();

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct slo s;
		struct slo_result r;
		struct err err = ERR_INIT;

		assert_int_equal(slo_parse(cases[i].key, cases[i].expr, &s, &err), 0);
		assert_int_equal(slo_evaluate(&s, rundoc_find_bench(rd, cases[i].bench), &r, &err), ERR_INPUT);
		assert_string_equal(err.msg, cases[i].msg);
		slo_release(&s);
	}
	rundoc_free(rd);
}

/* A server or cost metric missing for a reason: a failed SLO with the
 * reason, not an input error; a misspelled one stays an input error. */
static void test_slo_not_measured(void **state)
{
	struct rundoc *rd = rundoc_new();
	struct rd_bench *b = rundoc_add_bench(rd, "chat", RUNDOC_KIND_HTTP);
	struct slo so;
	struct slo_result res;
	struct err err = ERR_INIT;

	(void)state;
	b->extra = cJSON_Parse("{\"prometheus\": {\"targets\": [{\"name\": \"vllm\", \"scrapes\": 3, \"failed\": 3}]}}");
	assert_int_equal(slo_parse("server.vllm.num_requests_waiting.max", "< 32", &so, &err), 0);
	assert_int_equal(slo_evaluate(&so, b, &res, &err), 0);
	assert_false(res.ok);
	assert_string_equal(res.why, "server.vllm.num_requests_waiting.max: not measured (no scrape of target 'vllm' succeeded)");
	slo_release(&so);
	assert_int_equal(slo_parse("cost_per_1k_requests", "< 0.5", &so, &err), 0);
	assert_int_equal(slo_evaluate(&so, b, &res, &err), 0);
	assert_false(res.ok);
	assert_non_null(strstr(res.why, "not measured (no price"));
	slo_release(&so);
	assert_int_equal(slo_parse("server.vlm.num_requests_waiting.max", "< 32", &so, &err), 0);
	assert_int_equal(slo_evaluate(&so, b, &res, &err), ERR_INPUT); /* no target "vlm": a typo */
	slo_release(&so);
	rundoc_free(rd);
}

static void test_slo_validate(void **state)
{
	cJSON *j = cJSON_Parse("{\"wall.median\": \"< 200ms\", \"latency.p95\": \"< 250 parsecs\", "
			       "\"error_rate\": 0.01}");
	cJSON *good = cJSON_Parse("{\"wall.median\": \"< 200ms\", \"max_rss.max\": \"< 512MiB\"}");
	struct errlist problems = ERRLIST_INIT;

	(void)state;
	slo_validate(good, "benchmarks[0].slo", &problems);
	assert_int_equal(problems.n, 0);
	slo_validate(j, "benchmarks[1].slo", &problems);
	assert_int_equal(problems.n, 2);
	assert_string_equal(problems.msgs[0],
			    "benchmarks[1].slo.latency.p95: slo 'latency.p95': unknown unit 'parsecs' in '< 250 parsecs' "
			    "(known: ns us ms s % B KB MB GB KiB MiB GiB /s)");
	assert_string_equal(problems.msgs[1], "benchmarks[1].slo.error_rate: expected a string such as \"< 250ms\"");
	errlist_release(&problems);
	slo_validate(good->child, "benchmarks[2].slo", &problems);
	assert_int_equal(problems.n, 1);
	errlist_release(&problems);
	cJSON_Delete(j);
	cJSON_Delete(good);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_slo_parse_good),
		cmocka_unit_test(test_slo_parse_bad),
		cmocka_unit_test(test_slo_evaluate),
		cmocka_unit_test(test_slo_evaluate_errors),
		cmocka_unit_test(test_slo_failed_requests),
		cmocka_unit_test(test_slo_not_measured),
		cmocka_unit_test(test_slo_validate),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
