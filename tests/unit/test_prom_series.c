/* Unit tests for core/prom/series.c: series to window metrics.  Every
 * expected value is worked out by hand in the comment beside it. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../core/prom/prom.h"
#include "../../core/prom/series.h"
#include "../../core/util.h"

static void feed(struct prom_series_track *t, const char *text, double ts, bool first)
{
	struct prom_doc *d = NULL;
	struct err err = ERR_INIT;

	if (prom_parse(&d, text, strlen(text), NULL, &err) != 0)
		fail_msg("'%s': %s", text, err.msg);
	prom_series_track_scrape(t, d, ts, first);
	prom_doc_free(d);
}

/* The value called `name` among the track's values; NAN when absent. */
static double value_of(const struct prom_series_track *t, const char *name, const char **unit)
{
	struct prom_series_value v[32];
	size_t n = prom_series_track_values(t, v, 32);
	static char u[16];

	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i].name, name) == 0) {
			snprintf(u, sizeof(u), "%s", v[i].unit);
			if (unit)
				*unit = u;
			return v[i].value;
		}
	return NAN;
}

static void near_at(double got, double want, int line)
{
	if (!(fabs(got - want) < 1e-9 * fmax(1.0, fabs(want))))
		fail_msg("line %d: got %.17g, want %.17g", line, got, want);
}
#define assert_near(a, b) near_at((a), (b), __LINE__)

/* ---- histogram_quantile ---- */

static void test_histogram_quantile(void **state)
{
	const double le[] = { 0.1, 0.2, 0.5, INFINITY };
	const double cum[] = { 10, 20, 30, 40 };
	const double le0[] = { 0, 1, INFINITY };
	const double cum0[] = { 5, 10, 10 };
	const double dip[] = { 10, 8, 30, 40 };          /* a count read a moment apart */
	const double neg[] = { -1, 1, INFINITY };
	const double noinf[] = { 0.1, 0.2 };
	const double zero[] = { 0, 0, 0, 0 };

	(void)state;
	/* rank 10 = q 0.25 * 40: bucket 0 (0, 0.1], all of it: 0.1 */
	assert_near(prom_series_histogram_quantile(le, cum, 4, 0.25), 0.1);
	/* rank 20: bucket 1 (0.1, 0.2], 10 of its 10: 0.2 */
	assert_near(prom_series_histogram_quantile(le, cum, 4, 0.5), 0.2);
	/* rank 24: bucket 2 (0.2, 0.5], 4 of its 10: 0.2 + 0.3 * 0.4 = 0.32 */
	assert_near(prom_series_histogram_quantile(le, cum, 4, 0.6), 0.32);
	/* rank 2: bucket 0 from 0: 0.1 * 2 / 10 = 0.02 */
	assert_near(prom_series_histogram_quantile(le, cum, 4, 0.05), 0.02);
	/* rank 35 is in +Inf: the highest finite bound */
	assert_near(prom_series_histogram_quantile(le, cum, 4, 0.875), 0.5);
	/* q 0: rank 0 is reached by bucket 0 at once: its lower end, 0 */
	assert_near(prom_series_histogram_quantile(le, cum, 4, 0), 0);
	/* a lowest bound of 0 (SGLang's queue time): the bound itself */
	assert_near(prom_series_histogram_quantile(le0, cum0, 3, 0.2), 0);
	/* rank 7 of 10: bucket 1 (0, 1], 2 of its 5: 0.4 */
	assert_near(prom_series_histogram_quantile(le0, cum0, 3, 0.7), 0.4);
	/* a dip is flattened: cum 10, 10, 30, 40; rank 20 is in bucket 2:
	 * 0.2 + 0.3 * (20 - 10) / 20 = 0.35 */
	assert_near(prom_series_histogram_quantile(le, dip, 4, 0.5), 0.35);
	/* a negative lowest bound is its own answer */
	assert_near(prom_series_histogram_quantile(neg, cum0, 3, 0.1), -1);
	assert_true(isnan(prom_series_histogram_quantile(noinf, cum, 2, 0.5)));
	assert_true(isnan(prom_series_histogram_quantile(le, zero, 4, 0.5)));
	assert_true(isnan(prom_series_histogram_quantile(le, cum, 4, 1.5)));
	assert_true(isnan(prom_series_histogram_quantile(le, cum, 0, 0.5)));
}

static void test_names(void **state)
{
	char buf[32];

	(void)state;
	prom_series_quantile_name(0.5, buf, sizeof(buf));
	assert_string_equal(buf, "p50");
	prom_series_quantile_name(0.99, buf, sizeof(buf));
	assert_string_equal(buf, "p99");
	prom_series_quantile_name(0.999, buf, sizeof(buf));
	assert_string_equal(buf, "p99.9");
	prom_series_quantile_name(0.9999, buf, sizeof(buf));
	assert_string_equal(buf, "p99.99");
	prom_series_rate_unit("1", buf, sizeof(buf));
	assert_string_equal(buf, "1/s");
	prom_series_rate_unit("B", buf, sizeof(buf));
	assert_string_equal(buf, "B/s");
	prom_series_rate_unit("s", buf, sizeof(buf));
	assert_string_equal(buf, "1");
	{
		enum prom_series_kind k;
		enum prom_series_agg a;
		assert_int_equal(prom_series_kind_parse("histogram", &k), 0);
		assert_int_equal(k, PROM_KIND_HISTOGRAM);
		assert_int_equal(prom_series_kind_parse("histo", &k), -1);
		assert_int_equal(prom_series_agg_parse("max", &a), 0);
		assert_int_equal(a, PROM_AGG_MAX);
		assert_int_equal(prom_series_agg_parse("avg", &a), -1);
		assert_string_equal(prom_series_kind_name(PROM_KIND_RATIO), "ratio");
	}
}

/* ---- gauges ---- */

static void test_gauge_mean_max_and_agg(void **state)
{
	const struct prom_series_candidate c[] = { { .kind = PROM_KIND_GAUGE, .series = "q" } };
	struct prom_series_metric m = { .name = "queue", .unit = "1", .agg = PROM_AGG_SUM, .candidates = c,
					.n_candidates = 1 };
	struct prom_series_track *t = prom_series_track_new(&m);
	const double *ts, *vs;
	const char *unit;

	(void)state;
	/* per scrape: sum over engines 3, 7, (series gone) -, 8 */
	feed(t, "q{e=\"0\"} 1\nq{e=\"1\"} 2\n", 0, true);
	feed(t, "q{e=\"0\"} 4\nq{e=\"1\"} 3\n", 1, false);
	feed(t, "other 1\n", 2, false);
	feed(t, "q{e=\"0\"} 8\n", 3, false);
	/* mean of 3, 7, 8 = 6; max 8 */
	assert_near(value_of(t, "queue.mean", &unit), 6);
	assert_string_equal(unit, "1");
	assert_near(value_of(t, "queue.max", NULL), 8);
	assert_int_equal(prom_series_track_points(t, &ts, &vs), 4);
	assert_near(ts[3], 3);
	assert_near(vs[1], 7);
	assert_true(isnan(vs[2]));
	prom_series_track_free(t);

	/* max over series per scrape: 2, 4, 8 -> mean 14/3 */
	m.agg = PROM_AGG_MAX;
	t = prom_series_track_new(&m);
	feed(t, "q{e=\"0\"} 1\nq{e=\"1\"} 2\n", 0, true);
	feed(t, "q{e=\"0\"} 4\nq{e=\"1\"} 3\n", 1, false);
	feed(t, "q{e=\"0\"} 8\n", 3, false);
	assert_near(value_of(t, "queue.mean", NULL), 14.0 / 3);
	prom_series_track_free(t);

	/* mean over series: 1.5, 3.5 -> 2.5; min: 1, 3 -> 2 */
	m.agg = PROM_AGG_MEAN;
	t = prom_series_track_new(&m);
	feed(t, "q{e=\"0\"} 1\nq{e=\"1\"} 2\n", 0, true);
	feed(t, "q{e=\"0\"} 4\nq{e=\"1\"} 3\n", 1, false);
	assert_near(value_of(t, "queue.mean", NULL), 2.5);
	prom_series_track_free(t);
	m.agg = PROM_AGG_MIN;
	t = prom_series_track_new(&m);
	feed(t, "q{e=\"0\"} 1\nq{e=\"1\"} 2\n", 0, true);
	feed(t, "q{e=\"0\"} 4\nq{e=\"1\"} 3\n", 1, false);
	assert_near(value_of(t, "queue.mean", NULL), 2);
	prom_series_track_free(t);
}

static void test_label_matchers(void **state)
{
	const struct prom_series_matcher waiting[] = { { "request_type", "waiting", false } };
	const struct prom_series_matcher not_ens[] = { { "model", "ensemble", true } };
	const struct prom_series_matcher absent[] = { { "gpu", "", false } };
	const struct prom_series_candidate c1[] = { { .kind = PROM_KIND_GAUGE, .series = "r", .labels = waiting, .n_labels = 1 } };
	const struct prom_series_candidate c2[] = { { .kind = PROM_KIND_GAUGE, .series = "r", .labels = not_ens, .n_labels = 1 } };
	const struct prom_series_candidate c3[] = { { .kind = PROM_KIND_GAUGE, .series = "r", .labels = absent, .n_labels = 1 } };
	const char *text = "r{model=\"ensemble\",request_type=\"waiting\"} 1\n"
			   "r{model=\"llm\",request_type=\"waiting\"} 2\n"
			   "r{model=\"llm\",request_type=\"scheduled\"} 4\n"
			   "r{gpu=\"0\",model=\"llm\"} 8\n";
	struct prom_series_metric m = { .name = "x", .agg = PROM_AGG_SUM, .n_candidates = 1 };
	struct prom_series_track *t;

	(void)state;
	m.candidates = c1;
	t = prom_series_track_new(&m);
	feed(t, text, 0, true);
	assert_near(value_of(t, "x.max", NULL), 3); /* 1 + 2 */
	prom_series_track_free(t);
	m.candidates = c2;
	t = prom_series_track_new(&m);
	feed(t, text, 0, true);
	assert_near(value_of(t, "x.max", NULL), 14); /* 2 + 4 + 8 */
	prom_series_track_free(t);
	m.candidates = c3; /* an absent label matches "" */
	t = prom_series_track_new(&m);
	feed(t, text, 0, true);
	assert_near(value_of(t, "x.max", NULL), 7); /* 1 + 2 + 4 */
	prom_series_track_free(t);
}

/* ---- counters ---- */

static void test_counter_reset(void **state)
{
	const struct prom_series_candidate c[] = { { .kind = PROM_KIND_COUNTER, .series = "c" } };
	struct prom_series_metric m = { .name = "preemptions", .unit = "1", .candidates = c, .n_candidates = 1 };
	struct prom_series_track *t = prom_series_track_new(&m);
	const double *ts, *vs;
	const char *unit;

	(void)state;
	feed(t, "# TYPE c_total counter\nc_total 100\n", 0, true);
	feed(t, "# TYPE c_total counter\nc_total 150\n", 1, false);  /* +50 */
	feed(t, "# TYPE c_total counter\nc_total 20\n", 2, false);   /* reset: +20 */
	feed(t, "# TYPE c_total counter\nc_total 50\n", 4, false);   /* +30 */
	assert_near(value_of(t, "preemptions.increase", &unit), 100);
	assert_string_equal(unit, "1");
	assert_near(value_of(t, "preemptions.rate", &unit), 25); /* 100 / 4 s */
	assert_string_equal(unit, "1/s");
	assert_int_equal(prom_series_track_points(t, &ts, &vs), 4);
	assert_true(isnan(vs[0]));
	assert_near(vs[1], 50);
	assert_near(vs[2], 20);
	assert_near(vs[3], 15); /* 30 over 2 s */
	prom_series_track_free(t);
}

static void test_counter_per_series(void **state)
{
	const struct prom_series_candidate c[] = { { .kind = PROM_KIND_COUNTER, .series = "req" } };
	struct prom_series_metric m = { .name = "requests", .candidates = c, .n_candidates = 1 };
	struct prom_series_track *t = prom_series_track_new(&m);

	(void)state;
	/* the sum stays 110 -> 111, yet series a reset (10 -> 1) and b grew by 100:
	 * a sum would say +1, per series it is 1 + 100 = 101 */
	feed(t, "req_total{a=\"1\"} 10\nreq_total{a=\"2\"} 100\n", 0, true);
	feed(t, "req_total{a=\"1\"} 1\nreq_total{a=\"2\"} 110\n", 1, false);
	/* series 3 appears: created inside the window, counts from 0 (+5);
	 * a grows by 2 */
	feed(t, "req_total{a=\"1\"} 3\nreq_total{a=\"2\"} 110\nreq_total{a=\"3\"} 5\n", 2, false);
	assert_near(value_of(t, "requests.increase", NULL), 1 + 10 + 2 + 5);
	assert_near(value_of(t, "requests.rate", NULL), 18.0 / 2);
	prom_series_track_free(t);
}

static void test_counter_first_scrape_late(void **state)
{
	const struct prom_series_candidate c[] = { { .kind = PROM_KIND_COUNTER, .series = "c" } };
	struct prom_series_metric m = { .name = "n", .candidates = c, .n_candidates = 1 };
	struct prom_series_track *t = prom_series_track_new(&m);

	(void)state;
	/* a counter absent from the window's first scrape and then present
	 * was created inside the window: all of it counts */
	feed(t, "other 1\n", 0, true);
	feed(t, "c_total 4\n", 1, false);
	feed(t, "c_total 6\n", 2, false);
	assert_near(value_of(t, "n.increase", NULL), 6);
	/* the rate runs over the scrapes that had it: 6 over 1 s */
	assert_near(value_of(t, "n.rate", NULL), 6);
	prom_series_track_free(t);
	/* one scrape only: an increase of 0 but no rate */
	t = prom_series_track_new(&m);
	feed(t, "c_total 4\n", 0, true);
	assert_near(value_of(t, "n.increase", NULL), 0);
	assert_true(isnan(value_of(t, "n.rate", NULL)));
	prom_series_track_free(t);
}

static void test_counter_scale_and_plain(void **state)
{
	/* Triton's queue time is a counter of microseconds: as seconds per
	 * second of wall time, plain */
	const struct prom_series_candidate c[] = { { .kind = PROM_KIND_COUNTER, .series = "nv_inference_queue_duration_us",
						     .scale = 1e-6 } };
	struct prom_series_metric m = { .name = "busy", .unit = "1", .plain = true, .candidates = c, .n_candidates = 1 };
	struct prom_series_track *t = prom_series_track_new(&m);

	(void)state;
	feed(t, "nv_inference_queue_duration_us{model=\"m\"} 1000000\n", 0, true);
	feed(t, "nv_inference_queue_duration_us{model=\"m\"} 3000000\n", 4, false);
	assert_near(value_of(t, "busy", NULL), 0.5); /* 2 s over 4 s */
	assert_true(isnan(value_of(t, "busy.increase", NULL)));
	prom_series_track_free(t);
}

/* ---- histograms ---- */

static const char hist0[] =
	"# TYPE lat_seconds histogram\n"
	"lat_seconds_bucket{le=\"0.1\"} 100\n"
	"lat_seconds_bucket{le=\"0.5\"} 150\n"
	"lat_seconds_bucket{le=\"+Inf\"} 160\n"
	"lat_seconds_sum 30\n"
	"lat_seconds_count 160\n";
static const char hist1[] =
	"# TYPE lat_seconds histogram\n"
	"lat_seconds_bucket{le=\"0.1\"} 110\n"
	"lat_seconds_bucket{le=\"0.5\"} 190\n"
	"lat_seconds_bucket{le=\"+Inf\"} 200\n"
	"lat_seconds_sum 42\n"
	"lat_seconds_count 200\n";

static void test_histogram_window(void **state)
{
	const struct prom_series_candidate c[] = { { .kind = PROM_KIND_HISTOGRAM, .series = "lat_seconds" } };
	struct prom_series_metric m = { .name = "lat", .unit = "s", .quantiles = { 0.5, 0.9, 0.99 }, .n_quantiles = 3,
					.candidates = c, .n_candidates = 1 };
	struct prom_series_track *t = prom_series_track_new(&m);
	const double *ts, *vs;
	const char *unit;

	(void)state;
	feed(t, hist0, 0, true);
	feed(t, hist1, 2, false);
	/* the window's own observations: cumulative increases 10, 40, 40
	 * (le 0.1, 0.5, +Inf) */
	/* p50: rank 20, bucket (0.1, 0.5] holds 30 from 10: 0.1 + 0.4 * 10/30 */
	assert_near(value_of(t, "lat.p50", &unit), 0.1 + 0.4 * 10.0 / 30.0);
	assert_string_equal(unit, "s");
	/* p90: rank 36: 0.1 + 0.4 * 26/30 */
	assert_near(value_of(t, "lat.p90", NULL), 0.1 + 0.4 * 26.0 / 30.0);
	/* p99: rank 39.6: 0.1 + 0.4 * 29.6/30 */
	assert_near(value_of(t, "lat.p99", NULL), 0.1 + 0.4 * 29.6 / 30.0);
	/* mean: (42 - 30) / (200 - 160) = 0.3 s; rate 40 / 2 s */
	assert_near(value_of(t, "lat.mean", NULL), 0.3);
	assert_near(value_of(t, "lat.rate", &unit), 20);
	assert_string_equal(unit, "1/s");
	assert_int_equal(prom_series_track_points(t, &ts, &vs), 2);
	assert_true(isnan(vs[0]));
	assert_near(vs[1], 0.3);
	prom_series_track_free(t);
}

static void test_histogram_no_observations(void **state)
{
	const struct prom_series_candidate c[] = { { .kind = PROM_KIND_HISTOGRAM, .series = "lat_seconds" } };
	struct prom_series_metric m = { .name = "lat", .unit = "s", .candidates = c, .n_candidates = 1 };
	struct prom_series_track *t = prom_series_track_new(&m);

	(void)state;
	feed(t, hist0, 0, true);
	feed(t, hist0, 1, false);
	/* nothing observed in the window: no quantile and no mean, a rate of 0 */
	assert_true(isnan(value_of(t, "lat.p50", NULL)));
	assert_true(isnan(value_of(t, "lat.mean", NULL)));
	assert_near(value_of(t, "lat.rate", NULL), 0);
	prom_series_track_free(t);
}

static void test_histogram_series_summed_and_reset(void **state)
{
	const struct prom_series_candidate c[] = { { .kind = PROM_KIND_AUTO, .series = "h" } };
	struct prom_series_metric m = { .name = "h", .quantiles = { 0.5 }, .n_quantiles = 1, .candidates = c,
					.n_candidates = 1 };
	struct prom_series_track *t = prom_series_track_new(&m);

	(void)state;
	feed(t,
	     "# TYPE h histogram\n"
	     "h_bucket{a=\"x\",le=\"1\"} 5\nh_bucket{a=\"x\",le=\"2\"} 5\nh_bucket{a=\"x\",le=\"+Inf\"} 5\n"
	     "h_bucket{a=\"y\",le=\"1\"} 50\nh_bucket{a=\"y\",le=\"2\"} 60\nh_bucket{a=\"y\",le=\"+Inf\"} 60\n",
	     0, true);
	/* x: +2 in (0, 1]; y restarted: 0, 4, 4 counts whole: 0 in (0,1], 4 in (1,2] */
	feed(t,
	     "# TYPE h histogram\n"
	     "h_bucket{a=\"x\",le=\"1\"} 7\nh_bucket{a=\"x\",le=\"2\"} 7\nh_bucket{a=\"x\",le=\"+Inf\"} 7\n"
	     "h_bucket{a=\"y\",le=\"1\"} 0\nh_bucket{a=\"y\",le=\"2\"} 4\nh_bucket{a=\"y\",le=\"+Inf\"} 4\n",
	     1, false);
	/* summed: cum 2, 6, 6; p50 rank 3 in (1, 2]: 1 + 1 * (3 - 2) / 4 = 1.25 */
	assert_near(value_of(t, "h.p50", NULL), 1.25);
	prom_series_track_free(t);
}

static void test_histogram_untyped(void **state)
{
	/* an exporter that writes no TYPE lines */
	const struct prom_series_candidate c[] = { { .kind = PROM_KIND_HISTOGRAM, .series = "lat" } };
	struct prom_series_metric m = { .name = "lat", .quantiles = { 0.5 }, .n_quantiles = 1, .candidates = c,
					.n_candidates = 1 };
	struct prom_series_track *t = prom_series_track_new(&m);

	(void)state;
	feed(t, "lat_bucket{le=\"1\"} 0\nlat_bucket{le=\"+Inf\"} 0\nlat_sum 0\nlat_count 0\n", 0, true);
	feed(t, "lat_bucket{le=\"1\"} 4\nlat_bucket{le=\"+Inf\"} 4\nlat_sum 2\nlat_count 4\n", 1, false);
	/* rank 2 of 4 in (0, 1]: 0.5 */
	assert_near(value_of(t, "lat.p50", NULL), 0.5);
	assert_near(value_of(t, "lat.mean", NULL), 0.5);
	prom_series_track_free(t);
}

/* ---- summaries ---- */

static void test_summary(void **state)
{
	const struct prom_series_candidate c[] = { { .kind = PROM_KIND_AUTO, .series = "rpc_seconds" } };
	struct prom_series_metric m = { .name = "rpc", .unit = "s", .candidates = c, .n_candidates = 1 };
	struct prom_series_track *t = prom_series_track_new(&m);
	const char *unit;

	(void)state;
	feed(t,
	     "# TYPE rpc_seconds summary\n"
	     "rpc_seconds{quantile=\"0.5\"} 0.2\nrpc_seconds{quantile=\"0.99\"} 0.9\n"
	     "rpc_seconds_sum 10\nrpc_seconds_count 40\n",
	     0, true);
	feed(t,
	     "# TYPE rpc_seconds summary\n"
	     "rpc_seconds{a=\"1\",quantile=\"0.5\"} 0.25\nrpc_seconds{a=\"1\",quantile=\"0.99\"} 0.5\n"
	     "rpc_seconds{a=\"2\",quantile=\"0.5\"} 0.3\nrpc_seconds{a=\"2\",quantile=\"0.99\"} 0.4\n"
	     "rpc_seconds_sum{a=\"1\"} 10\nrpc_seconds_count{a=\"1\"} 40\n"
	     "rpc_seconds_sum{a=\"2\"} 4\nrpc_seconds_count{a=\"2\"} 10\n",
	     5, false);
	/* the server's quantiles at the last scrape, the larger over series */
	assert_near(value_of(t, "rpc.p50", &unit), 0.3);
	assert_string_equal(unit, "s");
	assert_near(value_of(t, "rpc.p99", NULL), 0.5);
	/* the unlabelled series vanished; a="1" and a="2" are new (from 0):
	 * sum +14, count +50 -> mean 0.28; rate 50 / 5 s */
	assert_near(value_of(t, "rpc.mean", NULL), 14.0 / 50.0);
	assert_near(value_of(t, "rpc.rate", NULL), 10);
	prom_series_track_free(t);
}

/* ---- ratios, candidates, kinds ---- */

static void test_ratio_and_candidates(void **state)
{
	const struct prom_series_candidate c[] = {
		{ .kind = PROM_KIND_RATIO, .series = "vllm:prefix_cache_hits", .denominator = "vllm:prefix_cache_queries" },
		{ .kind = PROM_KIND_RATIO, .series = "vllm:gpu_prefix_cache_hits", .denominator = "vllm:gpu_prefix_cache_queries" },
		{ .kind = PROM_KIND_GAUGE, .series = "vllm:gpu_prefix_cache_hit_rate" },
	};
	struct prom_series_metric m = { .name = "prefix_cache_hit_rate", .unit = "1", .direction = RD_HIGHER,
					.plain = true, .candidates = c, .n_candidates = 3 };
	struct prom_series_track *t = prom_series_track_new(&m);
	struct prom_series_value v[8];
	const double *ts, *vs;

	(void)state;
	feed(t, "vllm:gpu_prefix_cache_hits_total 100\nvllm:gpu_prefix_cache_queries_total 400\n", 0, true);
	feed(t, "vllm:gpu_prefix_cache_hits_total 160\nvllm:gpu_prefix_cache_queries_total 500\n", 1, false);
	feed(t, "vllm:gpu_prefix_cache_hits_total 160\nvllm:gpu_prefix_cache_queries_total 500\n", 2, false);
	assert_int_equal(prom_series_track_found(t), 1);
	/* (160 - 100) / (500 - 400) */
	assert_int_equal(prom_series_track_values(t, v, 8), 1);
	assert_string_equal(v[0].name, "prefix_cache_hit_rate");
	assert_near(v[0].value, 0.6);
	assert_int_equal(v[0].direction, RD_HIGHER);
	prom_series_track_points(t, &ts, &vs);
	assert_near(vs[1], 0.6);
	assert_true(isnan(vs[2])); /* no query in that interval */
	prom_series_track_free(t);

	/* the oldest server: a gauge, its mean as the plain value */
	t = prom_series_track_new(&m);
	feed(t, "vllm:gpu_prefix_cache_hit_rate 0.2\n", 0, true);
	feed(t, "vllm:gpu_prefix_cache_hit_rate 0.4\n", 1, false);
	assert_int_equal(prom_series_track_found(t), 2);
	assert_near(value_of(t, "prefix_cache_hit_rate", NULL), 0.3);
	prom_series_track_free(t);

	/* nothing found: no values */
	t = prom_series_track_new(&m);
	feed(t, "unrelated 1\n", 0, true);
	assert_int_equal(prom_series_track_found(t), -1);
	assert_int_equal(prom_series_track_values(t, v, 8), 0);
	prom_series_track_free(t);

	/* a ratio whose denominator never moved: left out */
	t = prom_series_track_new(&m);
	feed(t, "vllm:prefix_cache_hits_total 1\nvllm:prefix_cache_queries_total 2\n", 0, true);
	feed(t, "vllm:prefix_cache_hits_total 1\nvllm:prefix_cache_queries_total 2\n", 1, false);
	assert_int_equal(prom_series_track_found(t), 0);
	assert_int_equal(prom_series_track_values(t, v, 8), 0);
	prom_series_track_free(t);
}

static void test_auto_kind(void **state)
{
	const struct prom_series_candidate c[] = { { .kind = PROM_KIND_AUTO, .series = "x" } };
	struct prom_series_metric m = { .name = "x", .candidates = c, .n_candidates = 1 };
	struct prom_series_track *t = prom_series_track_new(&m);

	(void)state;
	/* TYPE counter: increase and rate */
	feed(t, "# TYPE x counter\nx 1\n", 0, true);
	feed(t, "# TYPE x counter\nx 3\n", 1, false);
	assert_near(value_of(t, "x.increase", NULL), 2);
	prom_series_track_free(t);
	/* untyped: a gauge */
	t = prom_series_track_new(&m);
	feed(t, "x 1\n", 0, true);
	feed(t, "x 3\n", 1, false);
	assert_near(value_of(t, "x.max", NULL), 3);
	prom_series_track_free(t);
	/* untyped x_total: a counter (found by its family's name "x") */
	t = prom_series_track_new(&m);
	feed(t, "x_total 1\n", 0, true);
	feed(t, "x_total 5\n", 1, false);
	assert_near(value_of(t, "x.increase", NULL), 4);
	prom_series_track_free(t);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_histogram_quantile),
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_gauge_mean_max_and_agg),
		cmocka_unit_test(test_label_matchers),
		cmocka_unit_test(test_counter_reset),
		cmocka_unit_test(test_counter_per_series),
		cmocka_unit_test(test_counter_first_scrape_late),
		cmocka_unit_test(test_counter_scale_and_plain),
		cmocka_unit_test(test_histogram_window),
		cmocka_unit_test(test_histogram_no_observations),
		cmocka_unit_test(test_histogram_series_summed_and_reset),
		cmocka_unit_test(test_histogram_untyped),
		cmocka_unit_test(test_summary),
		cmocka_unit_test(test_ratio_and_candidates),
		cmocka_unit_test(test_auto_kind),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
