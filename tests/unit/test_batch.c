/*
 * Unit tests for core/batch.c: which sub-windows of a load benchmark's time
 * series are inside its measured window, how they become batch samples,
 * and when a metric keeps its one sample per repetition instead.  The
 * series are written by hand; expected batches are worked from batch.h.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../../core/batch.h"
#include "../../core/util.h"

#define CLOSE(a, b) assert_true(fabs((a) - (b)) < 1e-12)

static struct rd_bench *bench(const char *timeseries)
{
	struct rd_bench *b = xcalloc(1, sizeof(*b));
	char *json = xasprintf("{\"timeseries\": %s}", timeseries);

	b->name = xstrdup("api");
	b->extra = cJSON_Parse(json);
	assert_non_null(b->extra);
	free(json);
	return b;
}

static void bench_free(struct rd_bench *b)
{
	cJSON_Delete(b->extra);
	free(b->name);
	free(b);
}

/* 1 s of warmup, a 5 s window, one more partial interval: only intervals
 * 1..5 count.  400 successes a second: p95 batches need 200 requests, so
 * each second is one batch (values 2, 4, 3, 5, 1 ms: r1 -0.2, within
 * 2/sqrt(5)); p99 batches need 1,000, three seconds: one batch, too few. */
static const char one_rep[] =
	"[{\"repetition\": 0, \"interval\": 1, \"warmup\": 1, \"window\": 5,"
	" \"throughput\": [350, 400, 400, 400, 400, 400, 30],"
	" \"p50\": [0.009, 0.001, 0.001, 0.001, 0.001, 0.001, 0.001],"
	" \"p95\": [0.009, 0.002, 0.004, 0.003, 0.005, 0.001, 0.009],"
	" \"p99\": [0.009, 0.003, 0.005, 0.004, 0.006, 0.002, 0.009]}]";

static void test_window(void **state)
{
	struct rd_bench *b = bench(one_rep);
	struct batch_info info;
	double *v;
	size_t n;

	(void)state;
	n = batch_samples(b, "latency.p95", &v, &info);
	assert_int_equal(n, 5);
	CLOSE(v[0], 0.002);
	CLOSE(v[1], 0.004);
	CLOSE(v[4], 0.001);
	assert_int_equal(info.windows, 5);
	assert_int_equal(info.repetitions, 1);
	free(v);
	/* the rate: every whole interval of the window, 400 each */
	n = batch_samples(b, "throughput", &v, &info);
	assert_int_equal(n, 5);
	for (size_t i = 0; i < n; i++)
		CLOSE(v[i], 400);
	free(v);
	/* p99 needs 1,000 requests a batch: 5 s give one: none */
	n = batch_samples(b, "latency.p99", &v, &info);
	assert_int_equal(n, 0);
	assert_null(v);
	/* a percentile the series does not carry */
	assert_int_equal(batch_samples(b, "latency.p90", &v, &info), 0);
	assert_false(batch_has("latency.p90"));
	assert_true(batch_has("latency.p95"));
	bench_free(b);
}

/* Two repetitions of an older document (no warmup and window recorded):
 * every interval but the last; 100 successes a second, p50 needs 20, so
 * one batch a second; the repetitions' batches one after the other.  An
 * interval without successes has no latency and is skipped. */
static void test_repetitions(void **state)
{
	struct rd_bench *b = bench(
		"[{\"interval\": 1, \"throughput\": [100, 100, 0, 100, 100, 5],"
		"  \"p50\": [0.010, 0.012, 0, 0.011, 0.013, 0.5], \"p95\": [1, 1, 1, 1, 1, 1], \"p99\": [1, 1, 1, 1, 1, 1]},"
		" {\"interval\": 1, \"throughput\": [100, 100, 100, 100],"
		"  \"p50\": [0.020, 0.021, 0.019, 0.5], \"p95\": [1, 1, 1, 1], \"p99\": [1, 1, 1, 1]}]");
	struct batch_info info;
	double *v;
	size_t n;

	(void)state;
	n = batch_samples(b, "latency.p50", &v, &info);
	assert_int_equal(n, 7);
	CLOSE(v[0], 0.010);
	CLOSE(v[2], 0.011);
	CLOSE(v[3], 0.013);
	CLOSE(v[4], 0.020);
	CLOSE(v[6], 0.019);
	assert_int_equal(info.repetitions, 2);
	free(v);
	bench_free(b);
}

/* No time series: nothing to batch. */
static void test_none(void **state)
{
	struct rd_bench b;
	struct batch_info info;
	double *v = (double *)&b;

	(void)state;
	memset(&b, 0, sizeof(b));
	assert_int_equal(batch_samples(&b, "latency.p95", &v, &info), 0);
	assert_null(v);
	assert_int_equal(batch_samples(NULL, "throughput", &v, &info), 0);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_window),
		cmocka_unit_test(test_repetitions),
		cmocka_unit_test(test_none),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
