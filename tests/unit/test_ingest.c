/*
 * Unit tests for core/ingest*.c: format names and detection, the values
 * each parser takes from fixtures captured from the real tools (or written
 * from the documented formats, see tests/fixtures/ingest/README.md), and
 * the exact one-line message for each kind of bad input.
 *
 * Expected values are read off the fixture files by eye and converted by
 * hand (45.01 ns/op -> 45.01e-9 s), not copied from perfgate's output.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../core/ingest/ingest.h"
#include "../../core/ingest/runner.h"
#include "../../core/suite.h"
#include "../../core/util.h"

#define FIX "tests/fixtures/ingest/"

static bool close_to(double a, double b)
{
	return fabs(a - b) <= 1e-9 * fabs(b) + 1e-300;
}

static void test_format_names(void **state)
{
	struct err err = ERR_INIT;
	enum ingest_format f;

	(void)state;
	for (int i = 0; i < INGEST_N_FORMATS; i++) {
		assert_int_equal(ingest_format_parse(ingest_format_name((enum ingest_format)i), &f, &err), 0);
		assert_int_equal(f, i);
	}
	assert_int_equal(ingest_format_parse("gbench", &f, &err), 0);
	assert_int_equal(f, INGEST_GBENCH);
	assert_int_equal(ingest_format_parse("pytest", &f, &err), 0);
	assert_int_equal(f, INGEST_PYTEST);
	assert_int_equal(ingest_format_parse("hyperfin", &f, &err), ERR_INPUT);
	assert_string_equal(err.msg, "unknown ingest format 'hyperfin'; did you mean 'hyperfine'?");
	assert_true(ingest_format_has_repetitions(INGEST_GO));
	assert_false(ingest_format_has_repetitions(INGEST_K6));
}

static void test_detect(void **state)
{
	static const struct {
		const char *file;
		enum ingest_format want;
	} cases[] = {
		{ FIX "hyperfine.json", INGEST_HYPERFINE },
		{ FIX "gbench_repetitions.json", INGEST_GBENCH },
		{ FIX "gbench_aggregates_only.json", INGEST_GBENCH },
		{ FIX "pytest_benchmark.json", INGEST_PYTEST },
		{ FIX "go_bench.txt", INGEST_GO },
		{ FIX "k6_summary_export.json", INGEST_K6 },
		{ FIX "k6_handle_summary.json", INGEST_K6 },
		{ FIX "vllm_serving.json", INGEST_VLLM },
		{ FIX "vllm_appended.json", INGEST_VLLM },
		{ FIX "locust_stats.csv", INGEST_LOCUST },
		{ FIX "jmh.json", INGEST_JMH },
		{ FIX "catch2.xml", INGEST_CATCH2 },
	};
	struct err err = ERR_INIT;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char *text;
		size_t len;

		assert_int_equal(file_read(cases[i].file, &text, &len, &err), 0);
		if (ingest_detect(text, len) != cases[i].want)
			fail_msg("%s detected as %s", cases[i].file,
				 ingest_format_name(ingest_detect(text, len)));
		free(text);
	}
	assert_int_equal(ingest_detect("hello\n", 6), INGEST_AUTO);
	assert_int_equal(ingest_detect("", 0), INGEST_AUTO);
	assert_int_equal(ingest_detect("{\"x\": 1}", 8), INGEST_AUTO);
	/* Found by fuzzing: a prefix check read past the end of a short
	 * input (caught under SANITIZE=1 with an exact-size buffer). */
	{
		char *p = xmalloc(10);

		memcpy(p, "Method,Nam", 10);
		assert_int_equal(ingest_detect(p, 10), INGEST_AUTO);
		memcpy(p, "Type,Name,", 10);
		assert_int_equal(ingest_detect(p, 10), INGEST_LOCUST);
		free(p);
	}
}

/* One metric value read off a fixture. */
struct expect {
	const char *file;
	enum ingest_format fmt;
	const char *bench;
	const char *metric;
	const char *unit;
	enum rd_direction dir;
	size_t n;          /* number of samples */
	size_t index;      /* which sample is checked */
	double value;      /* SI */
};

static const struct expect expects[] = {
	/* hyperfine: times[] are seconds already; user/system are means. */
	{ FIX "hyperfine.json", INGEST_HYPERFINE, "sleep 0.01", "wall", "s", RD_LOWER, 5, 1, 0.011345667 },
	{ FIX "hyperfine.json", INGEST_HYPERFINE, "true", "wall", "s", RD_LOWER, 5, 4, 0.000606737 },
	{ FIX "hyperfine.json", INGEST_HYPERFINE, "sleep 0.01", "user", "s", RD_LOWER, 1, 0, 0.000923 },
	{ FIX "hyperfine.json", INGEST_HYPERFINE, "true", "sys", "s", RD_LOWER, 1, 0, 0.0 },
	/* Google Benchmark: ns -> s, three repetitions, aggregates skipped. */
	{ FIX "gbench_repetitions.json", INGEST_GBENCH, "BM_StringCopy/64", "real_time", "s", RD_LOWER, 3, 1,
	  2.0434530031911482e+01 * 1e-9 },
	{ FIX "gbench_repetitions.json", INGEST_GBENCH, "BM_StringCopy/64", "cpu_time", "s", RD_LOWER, 3, 0,
	  2.5203705636050078e+01 * 1e-9 },
	{ FIX "gbench_repetitions.json", INGEST_GBENCH, "BM_StringCopy/64", "bytes_per_second", "B/s", RD_HIGHER, 3, 0,
	  2.5393091366873336e+09 },
	{ FIX "gbench_repetitions.json", INGEST_GBENCH, "BM_StringCopy/64", "foo", "1", RD_LOWER, 3, 2, 3 },
	{ FIX "gbench_repetitions.json", INGEST_GBENCH, "BM_Empty", "items_per_second", "1/s", RD_HIGHER, 3, 0,
	  2.6630277076379781e+09 },
	/* aggregates only: the median row is the one sample. */
	{ FIX "gbench_aggregates_only.json", INGEST_GBENCH, "BM_StringCopy/64", "real_time", "s", RD_LOWER, 1, 0,
	  2.6801868263455617e+01 * 1e-9 },
	/* pytest-benchmark: data[] (seconds per round). */
	{ FIX "pytest_benchmark.json", INGEST_PYTEST, "test_sum[10]", "time", "s", RD_LOWER, 5, 0, 2.171500000258675e-07 },
	{ FIX "pytest_benchmark.json", INGEST_PYTEST, "test_sorted", "time", "s", RD_LOWER, 7, 0, 1.8756666501455281e-06 },
	{ FIX "pytest_benchmark_nodata.json", INGEST_PYTEST, "test_sum[10]", "time", "s", RD_LOWER, 1, 0, 1.8000000068241206e-07 },
	/* go test -bench: one sample per -count line. */
	{ FIX "go_bench.txt", INGEST_GO, "BenchmarkJoin", "time", "s", RD_LOWER, 3, 1, 42.85e-9 },
	{ FIX "go_bench.txt", INGEST_GO, "BenchmarkJoin", "alloc_bytes", "B", RD_LOWER, 3, 0, 5 },
	{ FIX "go_bench.txt", INGEST_GO, "BenchmarkJoin", "allocs", "1", RD_LOWER, 3, 2, 1 },
	{ FIX "go_bench.txt", INGEST_GO, "BenchmarkRepeat/xn=4#01", "throughput", "B/s", RD_HIGHER, 3, 2, 639.53e6 },
	{ FIX "go_bench.txt", INGEST_GO, "BenchmarkRepeat/xn=4#01", "time", "s", RD_LOWER, 3, 2, 100.1e-9 },
	{ FIX "go_bench.txt", INGEST_GO, "BenchmarkRepeat/xn=4", "chars_per_op", "1", RD_LOWER, 3, 0, 4 },
	/* k6 --summary-export: ms -> s; rates are fractions. */
	{ FIX "k6_summary_export.json", INGEST_K6, "k6", "http_req_duration.p95", "s", RD_LOWER, 1, 0, 0.21595 },
	{ FIX "k6_summary_export.json", INGEST_K6, "k6", "http_req_duration.median", "s", RD_LOWER, 1, 0, 0.11047 },
	{ FIX "k6_summary_export.json", INGEST_K6, "k6", "http_reqs.rate", "1/s", RD_HIGHER, 1, 0, 4.36938 },
	{ FIX "k6_summary_export.json", INGEST_K6, "k6", "http_req_failed.rate", "1", RD_LOWER, 1, 0, 0 },
	{ FIX "k6_summary_export.json", INGEST_K6, "k6", "data_received.rate", "B/s", RD_HIGHER, 1, 0, 31234.5 },
	/* k6 handleSummary data: typed; a non-time trend keeps its unit. */
	{ FIX "k6_handle_summary.json", INGEST_K6, "k6", "http_req_duration.p99", "s", RD_LOWER, 1, 0, 0.2455 },
	{ FIX "k6_handle_summary.json", INGEST_K6, "k6", "checks.rate", "1", RD_HIGHER, 1, 0, 0.97 },
	{ FIX "k6_handle_summary.json", INGEST_K6, "k6", "tokens.median", "1", RD_LOWER, 1, 0, 54 },
	{ FIX "k6_handle_summary.json", INGEST_K6, "k6", "data_sent.count", "B", RD_HIGHER, 1, 0, 18000 },
	/* vLLM: *_ms -> s; throughputs are per second; goodput's colon key. */
	{ FIX "vllm_serving.json", INGEST_VLLM, "vllm", "ttft.p99", "s", RD_LOWER, 1, 0, 0.08329 },
	{ FIX "vllm_serving.json", INGEST_VLLM, "vllm", "tpot.median", "s", RD_LOWER, 1, 0, 0.00601 },
	{ FIX "vllm_serving.json", INGEST_VLLM, "vllm", "output_throughput", "1/s", RD_HIGHER, 1, 0, 1158.9 },
	{ FIX "vllm_serving.json", INGEST_VLLM, "vllm", "goodput", "1/s", RD_HIGHER, 1, 0, 8.2 },
	{ FIX "vllm_serving.json", INGEST_VLLM, "vllm", "error_rate", "1", RD_LOWER, 1, 0, 2.0 / 200 },
	{ FIX "vllm_appended.json", INGEST_VLLM, "vllm", "ttft.p99.9", "s", RD_LOWER, 2, 1, 0.0442 },
	{ FIX "vllm_appended.json", INGEST_VLLM, "vllm", "request_throughput", "1/s", RD_HIGHER, 2, 0, 3.98 },
	/* Locust: ms -> s, quoted names with commas. */
	{ FIX "locust_stats.csv", INGEST_LOCUST, "GET /", "response_time.p95", "s", RD_LOWER, 1, 0, 0.031 },
	{ FIX "locust_stats.csv", INGEST_LOCUST, "POST /predict?model=a,b", "response_time.mean", "s", RD_LOWER, 1, 0, 0.0527 },
	{ FIX "locust_stats.csv", INGEST_LOCUST, "Aggregated", "throughput", "1/s", RD_HIGHER, 1, 0, 60.1 },
	{ FIX "locust_stats.csv", INGEST_LOCUST, "Aggregated", "failure_rate", "1", RD_LOWER, 1, 0, 3.0 / 1803 },
	{ FIX "locust_stats.csv", INGEST_LOCUST, "GET /", "response_time.p99.9", "s", RD_LOWER, 1, 0, 0.180 },
	/* JMH: ops/ms -> 1/s; ns/op -> s; rawData forks flattened. */
	{ FIX "jmh.json", INGEST_JMH, "org.sample.ListBench.arrayList[size=100]", "throughput", "1/s", RD_HIGHER, 6, 3, 3440.04e3 },
	{ FIX "jmh.json", INGEST_JMH, "org.sample.ListBench.arrayList[size=100]", "gc.alloc.rate.norm", "B", RD_LOWER, 6, 0, 456 },
	{ FIX "jmh.json", INGEST_JMH, "org.sample.ListBench.arrayList[size=100]", "gc.alloc.rate", "B/s", RD_LOWER, 6, 0, 810.0 * 1048576 },
	{ FIX "jmh.json", INGEST_JMH, "org.sample.ListBench.get[size=100]", "time", "s", RD_LOWER, 3, 2, 12.8e-9 },
	/* sample mode: iteration means of the histograms (1.5 us and 2 us). */
	{ FIX "jmh.json", INGEST_JMH, "org.sample.ListBench.sampled", "time", "s", RD_LOWER, 2, 1, 2.0e-6 },
	/* Catch2: ns -> s, entities decoded, sections in the name. */
	{ FIX "catch2.xml", INGEST_CATCH2, "Fibonacci/fib 20", "time", "s", RD_LOWER, 1, 0, 15423.5e-9 },
	{ FIX "catch2.xml", INGEST_CATCH2, "Fibonacci/small & \"quoted\"/fib 5", "time", "s", RD_LOWER, 1, 0, 280.25e-9 },
};

static void test_fixture_values(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(expects); i++) {
		const struct expect *e = &expects[i];
		struct rundoc *rd = rundoc_new();
		struct err err = ERR_INIT;
		enum ingest_format used;
		struct rd_bench *b;
		struct rd_metric *m;

		if (ingest_file(e->file, e->fmt, NULL, rd, &used, &err) != 0)
			fail_msg("%s: %s", e->file, err.msg);
		b = rundoc_find_bench(rd, e->bench);
		if (!b)
			fail_msg("%s: no benchmark '%s'", e->file, e->bench);
		assert_int_equal(b->kind, RUNDOC_KIND_INGEST);
		assert_string_equal(cJSON_GetObjectItem(b->extra, "source")->valuestring, ingest_format_name(e->fmt));
		m = rundoc_bench_find_metric(b, e->metric);
		if (!m)
			fail_msg("%s: %s: no metric '%s'", e->file, e->bench, e->metric);
		assert_string_equal(m->unit, e->unit);
		assert_int_equal(m->direction, e->dir);
		if (m->n_samples != e->n)
			fail_msg("%s: %s.%s: %zu samples, expected %zu", e->file, e->bench, e->metric,
				 m->n_samples, e->n);
		if (!close_to(m->samples[e->index], e->value))
			fail_msg("%s: %s.%s[%zu] = %.17g, expected %.17g", e->file, e->bench, e->metric,
				 e->index, m->samples[e->index], e->value);
		assert_int_equal(m->summary.n, e->n);
		rundoc_free(rd);
	}
}

static void test_fixture_details(void **state)
{
	struct rundoc *rd = rundoc_new();
	struct err err = ERR_INIT;
	struct rd_bench *b;

	(void)state;
	/* Google Benchmark with iteration rows: aggregates are not samples. */
	assert_int_equal(ingest_file(FIX "gbench_repetitions.json", INGEST_GBENCH, NULL, rd, NULL, &err), 0);
	assert_int_equal(rd->n_benches, 3);
	rundoc_free(rd);

	/* Aggregates only: marked, and the others kept in extra. */
	rd = rundoc_new();
	assert_int_equal(ingest_file(FIX "gbench_aggregates_only.json", INGEST_GBENCH, NULL, rd, NULL, &err), 0);
	b = rundoc_find_bench(rd, "BM_Empty");
	assert_non_null(b);
	assert_string_equal(cJSON_GetObjectItem(rundoc_bench_find_metric(b, "real_time")->extra, "aggregate")->valuestring,
			    "median");
	assert_non_null(cJSON_GetObjectItem(cJSON_GetObjectItem(b->extra, "aggregates"), "stddev"));
	rundoc_free(rd);

	/* Catch2 failures become failed benchmarks, not errors. */
	rd = rundoc_new();
	assert_int_equal(ingest_file(FIX "catch2.xml", INGEST_CATCH2, NULL, rd, NULL, &err), 0);
	b = rundoc_find_bench(rd, "Fibonacci/throws");
	assert_non_null(b);
	assert_int_equal(b->status, RUNDOC_STATUS_FAILED);
	assert_string_equal(b->error, "std::runtime_error: boom");
	rundoc_free(rd);

	/* JMH: a secondary metric with an unknown unit is skipped with a warning. */
	rd = rundoc_new();
	assert_int_equal(ingest_file(FIX "jmh.json", INGEST_JMH, NULL, rd, NULL, &err), 0);
	b = rundoc_find_bench(rd, "org.sample.ListBench.arrayList[size=100]");
	assert_null(rundoc_bench_find_metric(b, "weird"));
	assert_non_null(cJSON_GetObjectItem(b->extra, "warnings"));
	rundoc_free(rd);

	/* k6: a failed threshold is a warning on the benchmark. */
	rd = rundoc_new();
	assert_int_equal(ingest_file(FIX "k6_handle_summary.json", INGEST_K6, NULL, rd, NULL, &err), 0);
	assert_non_null(cJSON_GetObjectItem(rd->benches[0].extra, "warnings"));
	rundoc_free(rd);

	/* --name for single-test formats. */
	{
		struct ingest_options o = INGEST_OPTIONS_INIT;

		o.bench_name = "chat";
		rd = rundoc_new();
		assert_int_equal(ingest_file(FIX "vllm_serving.json", INGEST_VLLM, &o, rd, NULL, &err), 0);
		assert_string_equal(rd->benches[0].name, "chat");
		rundoc_free(rd);
	}
}

/* Bad input: the exact message for each. */
static const struct {
	enum ingest_format fmt;
	const char *text;
	const char *msg;
} bad[] = {
	{ INGEST_HYPERFINE, "{\"results\": [{\"command\": \"x\", \"times\": [0.1, NaN]}]}",
	  "line 1 column 46: 'NaN' is not a number JSON allows (non-finite values cannot be ingested)" },
	{ INGEST_HYPERFINE, "{\"results\": [{\"command\": \"x\",\n \"times\": [Infinity]}]}",
	  "line 2 column 12: 'Infinity' is not a number JSON allows (non-finite values cannot be ingested)" },
	{ INGEST_HYPERFINE, "{\"results\": [{\"command\": \"x\", \"times\": [0.1, 0.2",
	  "unexpected end of input: the JSON document is truncated" },
	{ INGEST_HYPERFINE, "{\"results\": [{\"command\": \"x\", \"times\": [0.1, -0.2]}]}",
	  "results[0].times[1]: expected a value >= 0, got -0.2" },
	{ INGEST_HYPERFINE, "{\"results\": [{\"command\": \"x\", \"mean\": \"fast\"}]}",
	  "results[0].mean: expected a number, got a string" },
	{ INGEST_HYPERFINE, "{\"results\": [{\"command\": \"x\", \"times\": [1e999]}]}",
	  "results[0].times[0]: expected a finite number, got a value out of range" },
	{ INGEST_HYPERFINE, "{\"results\": []}", "results: empty, no benchmark results" },
	{ INGEST_HYPERFINE, "{\"results\": [{\"times\": [1]}]}", "results[0].command: required member is missing" },
	{ INGEST_HYPERFINE, "[1]", "expected a JSON object with \"results\", got an array" },
	{ INGEST_HYPERFINE, "", "empty input: no JSON document" },
	{ INGEST_HYPERFINE, "{\"results\": [{\"command\": \"x\", \"times\": [1]}]} trailing",
	  "line 1 column 47: unexpected text after the JSON document" },
	{ INGEST_GBENCH,
	  "{\"benchmarks\": [{\"name\": \"a\", \"real_time\": 1, \"cpu_time\": 1, \"time_unit\": \"fortnights\"}]}",
	  "benchmarks[0].time_unit: unknown time unit 'fortnights' (expected ns, us, ms or s)" },
	{ INGEST_GBENCH, "{\"benchmarks\": [{\"name\": \"a\", \"real_time\": -5, \"cpu_time\": 1}]}",
	  "benchmarks[0].real_time: expected a value >= 0, got -5" },
	{ INGEST_GBENCH, "{\"benchmarks\": [{\"name\": \"a\", \"cpu_time\": 1}]}",
	  "benchmarks[0].real_time: required member is missing" },
	{ INGEST_GBENCH, "{\"benchmarks\": [{\"name\": 7}]}", "benchmarks[0].name: expected a string, got a number" },
	{ INGEST_PYTEST, "{\"benchmarks\": [{\"name\": \"t\", \"stats\": {\"data\": [1e-6, \"x\"]}}]}",
	  "benchmarks[0].stats.data[1]: expected a number, got a string" },
	{ INGEST_PYTEST, "{\"benchmarks\": [{\"name\": \"t\"}]}", "benchmarks[0].stats: required member is missing" },
	{ INGEST_GO, "goos: linux\nBenchmarkX-8 100 12 ns/op\nBenchmarkX-8 100 abc ns/op\n", "line 3: 'abc' is not a number" },
	{ INGEST_GO, "BenchmarkX-8 100 -12 ns/op\n", "line 1: negative measurement -12" },
	{ INGEST_GO, "BenchmarkX-8 100 NaN ns/op\n", "line 1: 'NaN' is not a finite number" },
	{ INGEST_GO, "BenchmarkX-8 100 12 ns/op 7\n", "line 1: value '7' has no unit" },
	{ INGEST_GO, "PASS\nok  \tx\t0.1s\n", "no benchmark result lines (Benchmark<Name> <N> <value> <unit>...) found" },
	{ INGEST_K6, "{\"metrics\": {}}", "metrics: empty, no results" },
	{ INGEST_K6, "{\"metrics\": {\"http_req_duration\": {\"avg\": -3, \"med\": 1}}}",
	  "metrics.http_req_duration.avg: expected a value >= 0, got -3" },
	{ INGEST_K6, "{\"metrics\": {\"x\": {\"type\": \"histogram\", \"values\": {}}}}",
	  "metrics.x.type: unknown metric type 'histogram'" },
	{ INGEST_K6, "{\"metrics\": {\"checks\": {\"passes\": 1, \"fails\": 0, \"value\": 3}}}",
	  "metrics.checks.value: a rate is a fraction from 0 to 1, got 3" },
	{ INGEST_VLLM, "{\"mean_ttft_ms\": \"12\"}", "mean_ttft_ms: expected a number, got a string" },
	{ INGEST_VLLM, "{\"backend\": \"vllm\"}", "no serving-benchmark results (request_throughput, mean_ttft_ms, ...)" },
	{ INGEST_VLLM, "{\"mean_ttft_ms\": 12}\n{\"mean_ttft_ms\": -1}\n",
	  "[run 2] mean_ttft_ms: expected a value >= 0, got -1" },
	{ INGEST_LOCUST, "Type,Name,Request Count\n", "line 1: no 'Failure Count' column in the header (is this a Locust _stats.csv?)" },
	{ INGEST_LOCUST,
	  "Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,Min Response Time,Max Response Time,Requests/s\n"
	  "GET,/,10,0,5,5,1,9,abc\n",
	  "line 2, column 'Requests/s': 'abc' is not a number" },
	{ INGEST_LOCUST,
	  "Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,Min Response Time,Max Response Time,Requests/s\n"
	  "GET,/,10,0,5\n",
	  "line 2: expected 9 fields like the header, got 5" },
	{ INGEST_LOCUST,
	  "Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,Min Response Time,Max Response Time,Requests/s\n"
	  "GET,\"/unterminated,10,0,5,5,1,9,1\n",
	  "line 2: unterminated quoted field (truncated file?)" },
	{ INGEST_LOCUST,
	  "Type,Name,Request Count,Failure Count,Median Response Time,Average Response Time,Min Response Time,Max Response Time,Requests/s\n",
	  "no rows after the header: no results" },
	{ INGEST_JMH, "[{\"benchmark\": \"a.b\", \"primaryMetric\": {\"score\": 1, \"scoreUnit\": \"furlongs\"}}]",
	  "[0].primaryMetric.scoreUnit: unknown unit 'furlongs' (expected ops/TU or TU/op, TU one of ns us ms s min hr)" },
	{ INGEST_JMH, "[{\"benchmark\": \"a.b\", \"primaryMetric\": {\"scoreUnit\": \"ns/op\", \"rawData\": [[1, -2]]}}]",
	  "[0].primaryMetric.rawData[0][1]: expected a value >= 0, got -2" },
	{ INGEST_JMH, "[]", "empty array: no benchmark results" },
	/* Found by fuzzing: a secondary-only unit on the primary metric. */
	{ INGEST_JMH, "[{\"benchmark\": \"a.b\", \"primaryMetric\": {\"score\": 1, \"scoreUnit\": \"B/op\"}}]",
	  "[0].primaryMetric.scoreUnit: unknown unit 'B/op' (expected ops/TU or TU/op, TU one of ns us ms s min hr)" },
	{ INGEST_CATCH2, "<?xml version=\"1.0\"?>\n<Catch2TestRun>\n<TestCase name=\"a\">\n<BenchmarkResults name=\"b\">\n<mean value=\"NaN\"/>",
	  "line 5: <mean value=\"NaN\">: not a finite number" },
	{ INGEST_CATCH2, "<Catch2TestRun>\n<TestCase name=\"a\">\n<BenchmarkResults name=\"b\">\n<mean value=\"-4\"/>",
	  "line 4: <mean value=\"-4\">: negative duration" },
	{ INGEST_CATCH2, "<Catch2TestRun>\n<TestCase name=\"a\">\n</Catch2TestRun>",
	  "line 3: </Catch2TestRun> does not close <TestCase>" },
	{ INGEST_CATCH2, "<Catch2TestRun>\n<TestCase name=\"a\"", "line 2: unterminated <TestCase> tag (truncated file?)" },
	{ INGEST_CATCH2, "<Catch2TestRun>\n<TestCase name=\"a\">", "unexpected end of input: <TestCase> is not closed (truncated file?)" },
	{ INGEST_CATCH2, "<testsuites/>", "line 1: root element <testsuites> is not Catch2's <Catch2TestRun> or <Catch>" },
	{ INGEST_CATCH2, "<Catch2TestRun><TestCase name=\"a &bogus; b\"/></Catch2TestRun>", "line 1: unknown entity '&bogus;'" },
	{ INGEST_CATCH2, "<Catch2TestRun></Catch2TestRun>", "no benchmark results found in the catch2 output" },
	/* Found by fuzzing: names from the input must not break the line. */
	{ INGEST_K6, "{\"metrics\": {\"a\\nb\": {\"avg\": -1}}}",
	  "metrics.a\\x0ab.avg: expected a value >= 0, got -1" },
	/* Names the database or a CI log would refuse (issue 19 items 6, 7). */
	{ INGEST_HYPERFINE, "{\"results\": [{\"command\": \"a\\u001b[2J\", \"times\": [0.1]}]}",
	  "benchmark 'a\\x1b[2J': the name contains a control character (U+001B)" },
};

static void test_bad_input(void **state)
{
	size_t failures = 0;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct rundoc *rd = rundoc_new();
		struct err err = ERR_INIT;
		int rc = ingest_parse(bad[i].fmt, bad[i].text, strlen(bad[i].text), NULL, rd, &err);

		if (rc != ERR_INPUT || strcmp(err.msg, bad[i].msg) != 0) {
			print_error("case %zu (%s): rc %d, message \"%s\", expected \"%s\"\n", i,
				    ingest_format_name(bad[i].fmt), rc, err.msg, bad[i].msg);
			failures++;
		}
		rundoc_free(rd);
	}
	assert_int_equal(failures, 0);
}

static void test_file_errors(void **state)
{
	struct rundoc *rd = rundoc_new();
	struct err err = ERR_INIT;

	(void)state;
	assert_int_equal(ingest_file(FIX "no-such-file.json", INGEST_AUTO, NULL, rd, NULL, &err), ERR_INPUT);
	assert_non_null(strstr(err.msg, "no-such-file.json"));
	assert_int_equal(ingest_file(FIX "README.md", INGEST_AUTO, NULL, rd, NULL, &err), ERR_INPUT);
	assert_string_equal(err.msg, "cannot ingest '" FIX "README.md': cannot tell which harness wrote it; name it with --format");
	assert_int_equal(ingest_file(FIX "go_bench.txt", INGEST_HYPERFINE, NULL, rd, NULL, &err), ERR_INPUT);
	assert_string_equal(err.msg, "cannot ingest '" FIX "go_bench.txt': line 1 column 1: invalid JSON near 'goos: linux'");
	rundoc_free(rd);
}

/* The "ingest" member of a suite benchmark (core/runner_ingest.c). */
static void test_validate(void **state)
{
	static const struct {
		const char *json;
		const char *want; /* NULL: valid */
	} cases[] = {
		{ "\"go\"", NULL },
		{ "\"auto\"", NULL },
		{ "{\"format\": \"k6\", \"output\": \"summary.json\"}", NULL },
		{ "\"hyperfin\"", "benchmarks[0].ingest: unknown ingest format 'hyperfin'; did you mean 'hyperfine'?" },
		{ "42", "benchmarks[0].ingest: expected a format name or {\"format\": ..., \"output\": ...}, got 42" },
		{ "{\"output\": \"x\"}",
		  "benchmarks[0].ingest.format: required (one of hyperfine, google-benchmark, pytest-benchmark, go, k6, vllm, locust, jmh, catch2, auto)" },
		{ "{\"format\": \"k6\", \"output\": 3}", "benchmarks[0].ingest.output: expected a file name, got 3" },
		{ "{\"format\": [\"k6\"]}", "benchmarks[0].ingest.format: expected a format name, got an array" },
		{ "{\"format\": \"k6\", \"outptu\": \"x\"}", "benchmarks[0].ingest.outptu: unknown key; did you mean \"output\"?" },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct errlist problems = ERRLIST_INIT;
		cJSON *v = cJSON_Parse(cases[i].json);

		assert_non_null(v);
		ingest_runner_validate(v, "benchmarks[0].ingest", &problems);
		if (!cases[i].want && problems.n != 0)
			fail_msg("%s: unexpected problem: %s", cases[i].json, problems.msgs[0]);
		if (cases[i].want && (problems.n != 1 || strcmp(problems.msgs[0], cases[i].want) != 0))
			fail_msg("%s: got %zu problems, first \"%s\", expected \"%s\"", cases[i].json, problems.n,
				 problems.n ? problems.msgs[0] : "", cases[i].want);
		errlist_release(&problems);
		cJSON_Delete(v);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format_names),
		cmocka_unit_test(test_detect),
		cmocka_unit_test(test_fixture_values),
		cmocka_unit_test(test_fixture_details),
		cmocka_unit_test(test_bad_input),
		cmocka_unit_test(test_file_errors),
		cmocka_unit_test(test_validate),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
