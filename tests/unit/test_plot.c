/* Unit tests for core/plot.c: unit scaling, the generated gnuplot scripts
 * (expected series, marks, determinism, quoting), rendering PNG and SVG
 * through gnuplot, the latency spectrum from histograms and percentile
 * metrics, and the gate's plot folder. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../core/hist.h"
#include "../../core/plot.h"
#include "../../core/util.h"

static char tmpdir[64];

static int setup(void **state)
{
	(void)state;
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/perfgate-plot.XXXXXX");
	return mkdtemp(tmpdir) ? 0 : -1;
}

static int teardown(void **state)
{
	char *cmd = xasprintf("rm -rf '%s'", tmpdir);
	(void)state;
	if (getenv("PERFGATE_KEEP_PLOTS")) {
		fprintf(stderr, "plots kept in %s\n", tmpdir);
		free(cmd);
		return 0;
	}
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", tmpdir);
	free(cmd);
	return 0;
}

static void test_format_and_scale(void **state)
{
	static const struct { const char *unit; double max; double factor; const char *shown; } sc[] = {
		{ "s", 2.5, 1, "s" },        { "s", 0.25, 1e3, "ms" },   { "s", 250e-6, 1e6, "us" },
		{ "s", 250e-9, 1e9, "ns" },  { "B", 100, 1, "B" },       { "B", 4096, 1.0 / 1024, "KiB" },
		{ "B", 5e8, 1.0 / 1048576, "MiB" }, { "B", 3e9, 1.0 / 1073741824, "GiB" },
		{ "1/s", 5000, 1, "/s" },    { "%", 50, 1, "%" },
	};
	enum plot_format f;
	struct err err = ERR_INIT;

	(void)state;
	assert_int_equal(plot_format_from_path("a/b.png", &f, &err), 0);
	assert_int_equal(f, PLOT_PNG);
	assert_int_equal(plot_format_from_path("B.SVG", &f, &err), 0);
	assert_int_equal(f, PLOT_SVG);
	assert_int_equal(plot_format_from_path("b.pdf", &f, &err), ERR_INPUT);
	assert_string_equal(err.msg, "cannot tell the picture format of 'b.pdf': name it .png or .svg");
	for (size_t i = 0; i < ARRAY_SIZE(sc); i++) {
		double factor;
		const char *shown;
		plot_scale(sc[i].unit, sc[i].max, &factor, &shown);
		assert_true(fabs(factor - sc[i].factor) <= 1e-12 * sc[i].factor);
		assert_string_equal(shown, sc[i].shown);
	}
}

/* Five runs in seconds around 12 ms; a change point before run 3, a
 * regression at run 4 (the current one). */
static const struct plot_trend_point trend_pts[] = {
	{ "aaaaaaa", 0.0120, 0.0118, 0.0122, false, false, false, false },
	{ "bbbbbbb", 0.0121, 0.0119, 0.0123, false, false, false, false },
	{ "ccccccc", 0.0119, 0.0117, 0.0121, false, false, false, true }, /* a dirty tree's run */
	{ "ddddddd", 0.0150, 0.0148, 0.0152, false, true, false, false },
	{ "eeeeeee", 0.0152, 0.0150, 0.0154, true, false, true, false },
};

static void test_trend_script(void **state)
{
	struct plot_trend t = { "demo: gzip's \"level-6\" / wall", "s", trend_pts, 5, 0.0119, 0.0121 };
	struct plot_output o = { "/tmp/x.svg", PLOT_SVG, 0, 0 };
	struct sb a = SB_INIT, b = SB_INIT;
	struct err err = ERR_INIT;

	(void)state;
	assert_int_equal(plot_trend_script(&t, &o, &a, &err), 0);
	/* Milliseconds: 0.0121 s is 12.1 ms; the data row carries median, CI,
	 * no regression, not current. */
	assert_non_null(strstr(sb_str(&a), "set ylabel 'median (ms)'"));
	assert_non_null(strstr(sb_str(&a), "1 \"bbbbbbb\" 12.1 11.9 12.3 NaN NaN NaN\n"));
	/* The regression and the current run repeat the median in their columns. */
	assert_non_null(strstr(sb_str(&a), "4 \"eeeeeee\" 15.2 15 15.4 15.2 15.2 NaN\n"));
	/* Change point: dashed line between runs 2 and 3. */
	assert_non_null(strstr(sb_str(&a), "from 2.5, graph 0 to 2.5, graph 1 nohead dt 2"));
	/* Baseline band from 11.9 to 12.1 ms. */
	assert_non_null(strstr(sb_str(&a), "rect from graph 0, first 11.9 to graph 1, first 12.1 behind"));
	assert_non_null(strstr(sb_str(&a), "title 'regression'"));
	assert_non_null(strstr(sb_str(&a), "title 'this run'"));
	/* A dirty tree's run (issue 19 item 22): its median in the last column, an open square. */
	assert_non_null(strstr(sb_str(&a), "2 \"ccccccc\" 11.9 11.7 12.1 NaN NaN 11.9\n"));
	assert_non_null(strstr(sb_str(&a), "using 1:8 with points pt 4"));
	assert_non_null(strstr(sb_str(&a), "title 'dirty tree (uncommitted changes)'"));
	assert_non_null(strstr(sb_str(&a), "set terminal svg size 1200,700"));
	/* The apostrophe in the title is doubled inside gnuplot's quotes. */
	assert_non_null(strstr(sb_str(&a), "set title 'demo: gzip''s \"level-6\" / wall' noenhanced"));
	/* Same data, same script. */
	assert_int_equal(plot_trend_script(&t, &o, &b, &err), 0);
	assert_string_equal(sb_str(&a), sb_str(&b));
	sb_release(&a);
	sb_release(&b);

	t.n = 0;
	assert_int_equal(plot_trend_script(&t, &o, &a, &err), ERR_INPUT);
	sb_release(&a);
}

static void test_latency_script(void **state)
{
	static const double pct[] = { 50, 90, 99, 99.9 };
	static const double v1[] = { 0.010, 0.020, 0.050, 0.120 };
	static const double v2[] = { 0.011, 0.025, 0.080, 0.200 };
	const struct plot_latency_series series[] = { { "baseline", pct, v1, 4 }, { "current", pct, v2, 4 } };
	struct plot_latency l = { "demo: classify latency", "s", series, 2, 0.150 };
	struct plot_output o = { "/tmp/x.png", PLOT_PNG, 0, 0 };
	struct sb s = SB_INIT;
	struct err err = ERR_INIT;

	(void)state;
	assert_int_equal(plot_latency_script(&l, &o, &s, &err), 0);
	/* x = 1/(1 - p/100): 99% sits at 100, 99.9% at 1000; values in ms. */
	assert_non_null(strstr(sb_str(&s), "$s0 << EOD\n# percentile x latency\n50 2 10\n90 10 20\n99 100 50\n99.9 1000 120\nEOD"));
	assert_non_null(strstr(sb_str(&s), "99.9 1000 200\n"));
	assert_non_null(strstr(sb_str(&s), "set logscale x"));
	assert_non_null(strstr(sb_str(&s), "'99.9%%' 1000"));
	assert_non_null(strstr(sb_str(&s), "set arrow 1 from graph 0, first 150 to graph 1, first 150"));
	assert_non_null(strstr(sb_str(&s), "title 'current'"));
	assert_non_null(strstr(sb_str(&s), "set terminal pngcairo"));
	sb_release(&s);
}

static void test_load_script(void **state)
{
	static const struct plot_load_point pts[] = {
		{ 200, 0.020, 0.040, 0.300 }, { 50, 0.010, 0.015, 0.020 }, { 100, 0.012, 0.020, 0.045 },
	};
	static const double t[] = { 0, 1, 2 }, thr[] = { 48, 50, 51 }, p99[] = { 0.02, 0.021, 0.019 };
	static const double errs[] = { 0, 1, 0 };
	struct plot_load l = { .title = "demo: classify load", .points = pts, .n = 3, .slo = 0.25, .slo_label = "p99 < 250ms",
			       .t = t, .ts_throughput = thr, .ts_p99 = p99, .ts_errors = errs, .n_ts = 3 };
	struct plot_output o = { "/tmp/x.svg", PLOT_SVG, 0, 0 };
	struct sb s = SB_INIT;
	struct err err = ERR_INIT;

	(void)state;
	assert_int_equal(plot_load_script(&l, &o, &s, &err), 0);
	/* Sorted by throughput: the knee's rows in order; three panels. */
	assert_non_null(strstr(sb_str(&s), "# throughput p50 p90 p99\n 50 10 15 20\n 100 12 20 45\n 200 20 40 300\nEOD"));
	assert_non_null(strstr(sb_str(&s), "set multiplot layout 3,1"));
	assert_non_null(strstr(sb_str(&s), "size 1200,1350"));
	assert_non_null(strstr(sb_str(&s), "title 'p99 < 250ms'"));
	assert_non_null(strstr(sb_str(&s), " 1 50 21 1\n"));
	assert_non_null(strstr(sb_str(&s), "title 'p90'"));
	sb_release(&s);
	/* Capacity steps have no p90: no legend entry for it (issue 19 item 26). */
	{
		static const struct plot_load_point cap[] = { { 50, 0.010, NAN, 0.020 }, { 100, 0.012, NAN, 0.045 } };
		struct plot_load c = { .title = "capacity", .points = cap, .n = 2, .slo = NAN };

		assert_int_equal(plot_load_script(&c, &o, &s, &err), 0);
		assert_null(strstr(sb_str(&s), "title 'p90'"));
		assert_non_null(strstr(sb_str(&s), "title 'p50'"));
		assert_non_null(strstr(sb_str(&s), "title 'p99'"));
		sb_release(&s);
	}
	l.n = 0;
	l.n_ts = 0;
	assert_int_equal(plot_load_script(&l, &o, &s, &err), ERR_INPUT);
	sb_release(&s);
}

/* The server-metrics panel from a run document's extra "server_metrics":
 * gauges and ratios first, fractions on the right axis in %. */
static void test_load_server_panel(void **state)
{
	struct rundoc *rd = rundoc_new();
	struct rd_bench *b = rundoc_add_bench(rd, "chat", RUNDOC_KIND_HTTP);
	struct plot_load_data d;
	struct plot_output o = { "/tmp/x.svg", PLOT_SVG, 0, 0 };
	struct sb s = SB_INIT;
	struct err err = ERR_INIT;

	(void)state;
	b->extra = cJSON_Parse("{\"server_metrics\": {\"vllm\": {\"t\": [0, 1, 2],"
			       " \"preemptions.rate\": [null, 0, 2],"
			       " \"kv_cache_usage\": [0.25, 0.5, 0.75],"
			       " \"num_requests_waiting\": [0, 4, 8]}}}");
	assert_int_equal(plot_load_from_bench(b, &d, &err), 0);
	assert_int_equal(d.load.n_server, 3);
	assert_int_equal(d.load.n_server_series, 3);
	assert_string_equal(d.load.server_names[0], "vllm.kv_cache_usage");
	assert_string_equal(d.load.server_names[1], "vllm.num_requests_waiting");
	assert_string_equal(d.load.server_names[2], "vllm.preemptions.rate"); /* rates after gauges */
	d.load.title = "chat";
	assert_int_equal(plot_load_script(&d.load, &o, &s, &err), 0);
	/* the only panel: the fraction in %, the counts as they are, no value for null */
	assert_non_null(strstr(sb_str(&s), "# t vllm.kv_cache_usage vllm.num_requests_waiting vllm.preemptions.rate\n"
					    " 0 25 0 NaN\n 1 50 4 0\n 2 75 8 2\n"));
	assert_non_null(strstr(sb_str(&s), "using 1:2 axes x1y2"));
	assert_non_null(strstr(sb_str(&s), "using 1:3 axes x1y1"));
	assert_null(strstr(sb_str(&s), "multiplot"));
	sb_release(&s);
	plot_load_release(&d);
	rundoc_free(rd);
}

/* The per-second series ends with the test: the answers that came after it
 * (the drain) are no point of their own, and a last partial interval counts
 * over the part of it that was the test. */
static void test_load_series_ends_with_the_test(void **state)
{
	struct rundoc *rd = rundoc_new();
	struct rd_bench *b = rundoc_add_bench(rd, "api", RUNDOC_KIND_HTTP);
	struct plot_load_data d;
	struct err err = ERR_INIT;

	(void)state;
	b->extra = cJSON_Parse("{\"timeseries\": ["
			       "{\"interval\": 1, \"warmup\": 0, \"window\": 1, \"throughput\": [95, 3],"
			       " \"p99\": [0.02, 0.02], \"errors\": [0, 0]},"
			       "{\"interval\": 1, \"warmup\": 0, \"window\": 1.5, \"throughput\": [100, 40, 2],"
			       " \"p99\": [0.02, 0.02, 0.02], \"errors\": [0, 1, 0]}]}");
	assert_int_equal(plot_load_from_bench(b, &d, &err), 0);
	assert_int_equal(d.load.n_ts, 3);
	/* repetition 1: one second, the drain left out; repetition 2 from t = 1 */
	assert_true(d.load.t[0] == 1 && d.load.ts_throughput[0] == 95);
	assert_true(d.load.t[1] == 2 && d.load.ts_throughput[1] == 100);
	/* its last half second: 40 answers in 0.5 s, 1 error in 0.5 s */
	assert_true(d.load.t[2] == 2.5 && d.load.ts_throughput[2] == 80);
	assert_non_null(d.load.ts_errors);
	assert_true(d.load.ts_errors[2] == 2);
	plot_load_release(&d);
	rundoc_free(rd);
}

static bool file_starts(const char *path, const void *magic, size_t len, size_t *size)
{
	char *data = NULL;
	size_t n = 0;
	struct err err = ERR_INIT;
	bool ok;

	if (file_read(path, &data, &n, &err) < 0)
		return false;
	ok = n >= len && memcmp(data, magic, len) == 0;
	*size = n;
	free(data);
	return ok;
}

static void test_render(void **state)
{
	struct plot_trend t = { "demo: gzip / wall", "s", trend_pts, 5, 0.0119, 0.0121 };
	char *png = xasprintf("%s/trend.png", tmpdir), *svg = xasprintf("%s/trend.svg", tmpdir);
	char *png2 = xasprintf("%s/again.png", tmpdir);
	struct plot_output o = { png, PLOT_PNG, 800, 500 };
	struct sb s = SB_INIT;
	struct err err = ERR_INIT;
	char *a = NULL, *b = NULL;
	size_t size, na, nb;

	(void)state;
	assert_int_equal(plot_trend_script(&t, &o, &s, &err), 0);
	assert_int_equal(plot_render(sb_str(&s), &err), 0);
	assert_true(file_starts(png, "\x89PNG\r\n\x1a\n", 8, &size));
	assert_true(size > 5000);
	/* Same data, same picture, byte for byte. */
	sb_reset(&s);
	o.path = png2;
	assert_int_equal(plot_trend_script(&t, &o, &s, &err), 0);
	assert_int_equal(plot_render(sb_str(&s), &err), 0);
	assert_int_equal(file_read(png, &a, &na, &err), 0);
	assert_int_equal(file_read(png2, &b, &nb, &err), 0);
	assert_int_equal(na, nb);
	assert_memory_equal(a, b, na);
	free(a);
	free(b);

	sb_reset(&s);
	o.path = svg;
	o.format = PLOT_SVG;
	assert_int_equal(plot_trend_script(&t, &o, &s, &err), 0);
	assert_int_equal(plot_render(sb_str(&s), &err), 0);
	assert_true(file_starts(svg, "<?xml", 5, &size));
	assert_int_equal(file_read(svg, &a, &na, &err), 0);
	assert_non_null(strstr(a, "<svg"));
	assert_non_null(strstr(a, "demo: gzip / wall"));
	assert_non_null(strstr(a, "ccccccc"));
	free(a);

	/* gnuplot rejecting a script is an error with its message. */
	assert_int_equal(plot_render("set terminal nosuchterminal\n", &err), ERR_FAIL);
	assert_non_null(strstr(err.msg, "gnuplot failed"));
	/* No gnuplot: the one line that says what to install. */
	setenv("PERFGATE_GNUPLOT", "/nonexistent/gnuplot", 1);
	assert_int_equal(plot_render(sb_str(&s), &err), ERR_NOTFOUND);
	assert_string_equal(err.msg, "gnuplot is not installed; install the Debian package 'gnuplot-nox'");
	unsetenv("PERFGATE_GNUPLOT");
	sb_release(&s);
	free(png);
	free(png2);
	free(svg);
}

static void test_spectrum(void **state)
{
	struct rundoc *rd = rundoc_new();
	struct rd_bench *b = rundoc_add_bench(rd, "classify", RUNDOC_KIND_HTTP);
	struct rd_metric *m;
	struct hist *h = hist_new(3);
	double *pct, *val;
	size_t n;
	struct err err = ERR_INIT;

	(void)state;
	/* Percentile metrics, added out of order: sorted by percentile, the
	 * value is the median over repetitions. */
	m = rundoc_bench_add_metric(b, "latency.p99", "s", RD_LOWER);
	rundoc_metric_add_sample(m, 0.09);
	rundoc_metric_add_sample(m, 0.10);
	rundoc_metric_add_sample(m, 0.20);
	rundoc_metric_summarise(m);
	m = rundoc_bench_add_metric(b, "latency.p50", "s", RD_LOWER);
	rundoc_metric_add_sample(m, 0.01);
	rundoc_metric_summarise(m);
	m = rundoc_bench_add_metric(b, "latency.p99.9", "s", RD_LOWER);
	rundoc_metric_add_sample(m, 0.3);
	rundoc_metric_summarise(m);
	m = rundoc_bench_add_metric(b, "latency.mean", "s", RD_LOWER); /* not a percentile */
	rundoc_metric_add_sample(m, 0.02);
	rundoc_metric_summarise(m);
	assert_int_equal(plot_spectrum_from_bench(b, "latency", &pct, &val, &n, &err), 0);
	assert_int_equal(n, 3);
	assert_true(pct[0] == 50 && pct[1] == 99 && pct[2] == 99.9);
	assert_true(val[0] == 0.01 && val[1] == 0.10 && val[2] == 0.3);
	free(pct);
	free(val);
	assert_int_equal(plot_spectrum_from_bench(b, "ttft", &pct, &val, &n, &err), ERR_NOTFOUND);

	/* A histogram of 1..10000 us: the p-th percentile is p% of 10 ms (to
	 * the bucket), and the curve stops at 1 - 1/n with the maximum. */
	m = rundoc_bench_add_metric(b, "ttft", "s", RD_LOWER);
	rundoc_metric_add_sample(m, 0.005);
	rundoc_metric_summarise(m);
	for (uint64_t us = 1; us <= 10000; us++)
		hist_record(h, us * 1000);
	m->extra = cJSON_CreateObject();
	cJSON_AddItemToObject(m->extra, "histogram", hist_to_json(h));
	assert_int_equal(plot_spectrum_from_bench(b, "ttft", &pct, &val, &n, &err), 0);
	for (size_t i = 0; i < n; i++) {
		double want = pct[i] == 0 ? 1e-6 : pct[i] / 100 * 0.010;
		assert_true(fabs(val[i] - want) <= want * 2e-3 + 1e-9);
	}
	assert_true(pct[n - 1] == 99.99);
	assert_true(fabs(val[n - 1] - 0.010) < 1e-5);
	assert_true(pct[n - 2] == 99.95); /* 99.995 would need 20,000 values */
	free(pct);
	free(val);

	/* As the HTTP runner stores it: the histogram on "itl.p50". */
	m = rundoc_bench_add_metric(b, "itl.p50", "s", RD_LOWER);
	rundoc_metric_add_sample(m, 0.005);
	rundoc_metric_summarise(m);
	m->extra = cJSON_CreateObject();
	cJSON_AddItemToObject(m->extra, "histogram", hist_to_json(h));
	m = rundoc_bench_add_metric(b, "itl.p99", "s", RD_LOWER);
	rundoc_metric_add_sample(m, 0.0099);
	rundoc_metric_summarise(m);
	assert_int_equal(plot_spectrum_from_bench(b, "itl", &pct, &val, &n, &err), 0);
	assert_true(n > 20); /* the histogram's levels, not the two pNN metrics */
	assert_true(pct[n - 1] == 99.99);
	free(pct);
	free(val);
	hist_free(h);
	rundoc_free(rd);
}

static struct rundoc *fake_run(const char *commit, double wall, bool latency)
{
	struct rundoc *rd = rundoc_new();
	struct rd_bench *b = rundoc_add_bench(rd, "gzip/6", RUNDOC_KIND_COMMAND);
	struct rd_metric *m = rundoc_bench_add_metric(b, "wall", "s", RD_LOWER);

	rd->suite = xstrdup("demo");
	rd->git.commit = xstrdup(commit);
	for (int i = 0; i < 7; i++)
		rundoc_metric_add_sample(m, wall * (1 + 0.01 * (i - 3)));
	rundoc_metric_summarise(m);
	m = rundoc_bench_add_metric(b, "max_rss", "B", RD_LOWER);
	rundoc_metric_add_sample(m, 5e6);
	rundoc_metric_summarise(m);
	if (latency) {
		m = rundoc_bench_add_metric(b, "latency.p50", "s", RD_LOWER);
		rundoc_metric_add_sample(m, wall);
		rundoc_metric_summarise(m);
		m = rundoc_bench_add_metric(b, "latency.p99", "s", RD_LOWER);
		rundoc_metric_add_sample(m, wall * 3);
		rundoc_metric_summarise(m);
	}
	return rd;
}

static void test_gate_dir(void **state)
{
	struct rundoc *base[3] = { fake_run("1111111aaaa", 0.010, true), fake_run("2222222bbbb", 0.011, true),
				   fake_run("3333333cccc", 0.010, true) };
	struct rundoc *cur = fake_run("4444444dddd", 0.013, true);
	char *dir = xasprintf("%s/plots", tmpdir);
	char **files;
	size_t n_files;
	struct err err = ERR_INIT;
	size_t size;

	(void)state;
	if (plot_gate_dir(dir, PLOT_SVG, cur, base, 3, &files, &n_files, &err) != 0)
		fail_msg("plot_gate_dir: %s", err.msg);
	/* wall, max_rss, latency.p50, latency.p99 trends and one spectrum. */
	assert_int_equal(n_files, 5);
	assert_string_equal(strrchr(files[0], '/') + 1, "gzip_6--wall.svg");
	assert_string_equal(strrchr(files[4], '/') + 1, "gzip_6--latency.svg");
	for (size_t i = 0; i < n_files; i++) {
		assert_true(file_starts(files[i], "<?xml", 5, &size));
		free(files[i]);
	}
	free(files);
	for (int i = 0; i < 3; i++)
		rundoc_free(base[i]);
	rundoc_free(cur);
	free(dir);
}

/* Pairs: the reference's and the other's repetition i side by side, one
 * data row per pair, scaled to the unit shown; then `gate --plots` with
 * interleaved variants and no history draws their pairs, not one-point
 * trends, and gnuplot accepts the script. */
static void test_pairs(void **state)
{
	static const double ref[] = { 0.0100, 0.0102, 0.0099 }, cur[] = { 0.0120, 0.0125, 0.0119 };
	struct plot_pairs p = { "demo: parse / wall, parse@head against parse@base, pair by pair", "s", "parse@base",
				"parse@head", ref, cur, 3 };
	struct plot_output o = { "/tmp/x.svg", PLOT_SVG, 0, 0 };
	struct rundoc *rd = rundoc_new();
	struct rundoc_variant vb = { "parse", "base", true }, vh = { "parse", "head", false };
	char *dir = xasprintf("%s/pairs", tmpdir);
	struct err err = ERR_INIT;
	struct sb s = SB_INIT;
	char **files;
	size_t n_files, size;

	(void)state;
	assert_int_equal(plot_pairs_script(&p, &o, &s, &err), 0);
	assert_non_null(strstr(sb_str(&s), "set ylabel 'value (ms)'"));
	assert_non_null(strstr(sb_str(&s), "$pairs << EOD\n# pair reference other\n1 10 12\n2 10.2 12.5\n3 9.9 11.9\nEOD\n"));
	assert_non_null(strstr(sb_str(&s), "title 'parse@base' noenhanced"));
	assert_non_null(strstr(sb_str(&s), "title 'parse@head' noenhanced"));
	assert_non_null(strstr(sb_str(&s), "set xrange [0.5:3.5]"));
	p.n = 0;
	sb_reset(&s);
	assert_int_equal(plot_pairs_script(&p, &o, &s, &err), ERR_INPUT);
	sb_release(&s);

	rd->suite = xstrdup("demo");
	rd->git.commit = xstrdup("5555555eeee");
	for (int side = 0; side < 2; side++) {
		struct rd_bench *b = rundoc_add_bench(rd, side ? "parse@head" : "parse@base", RUNDOC_KIND_COMMAND);
		struct rd_metric *m = rundoc_bench_add_metric(b, "wall", "s", RD_LOWER);

		for (size_t i = 0; i < 3; i++)
			rundoc_metric_add_sample(m, side ? cur[i] : ref[i]);
		rundoc_metric_summarise(m);
		rundoc_bench_set_variant(b, side ? &vh : &vb);
		rundoc_bench_set_interleaved(b);
	}
	if (plot_gate_dir(dir, PLOT_SVG, rd, NULL, 0, &files, &n_files, &err) != 0)
		fail_msg("plot_gate_dir: %s", err.msg);
	assert_int_equal(n_files, 1);
	assert_string_equal(strrchr(files[0], '/') + 1, "parse--wall--head.svg");
	assert_true(file_starts(files[0], "<?xml", 5, &size));
	free(files[0]);
	free(files);
	rundoc_free(rd);
	free(dir);
}

/* Every kind of script is one gnuplot accepts (PNG and SVG). */
static void test_render_all_kinds(void **state)
{
	static const double pct[] = { 0, 50, 90, 99, 99.9 };
	static const double v1[] = { 0.004, 0.010, 0.020, 0.050, 0.120 };
	static const double v2[] = { 0.005, 0.011, 0.025, 0.080, 0.200 };
	const struct plot_latency_series series[] = { { "baseline", pct, v1, 5 }, { "current", pct, v2, 5 } };
	struct plot_latency lat = { "demo: classify latency", "s", series, 2, 0.150 };
	static const struct plot_load_point pts[] = {
		{ 200, 0.020, 0.040, 0.300 }, { 50, 0.010, 0.015, 0.020 }, { 100, 0.012, 0.020, 0.045 },
	};
	static const double t[] = { 0, 1, 2, 3 }, thr[] = { 48, 50, 51, 49 };
	static const double p99[] = { 0.02, 0.021, 0.019, 0.05 }, errs[] = { 0, 1, 0, 0 };
	static const double gpu[] = { 40, 80, 85, 60 };
	struct plot_load load = { .title = "demo: classify load", .points = pts, .n = 3, .slo = 0.25,
				  .slo_label = "p99 < 250ms", .t = t, .ts_throughput = thr, .ts_p99 = p99,
				  .ts_errors = errs, .n_ts = 4, .gpu_t = t, .ts_gpu = gpu, .n_gpu = 4 };
	static const enum plot_format fmts[] = { PLOT_PNG, PLOT_SVG };
	struct err err = ERR_INIT;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(fmts); i++) {
		const char *ext = fmts[i] == PLOT_PNG ? "png" : "svg";
		char *lp = xasprintf("%s/latency.%s", tmpdir, ext), *dp = xasprintf("%s/load.%s", tmpdir, ext);
		struct plot_output o = { lp, fmts[i], 0, 0 };
		struct sb s = SB_INIT;
		size_t size;

		assert_int_equal(plot_latency_script(&lat, &o, &s, &err), 0);
		if (plot_render(sb_str(&s), &err) != 0)
			fail_msg("latency: %s", err.msg);
		assert_true(fmts[i] == PLOT_PNG ? file_starts(lp, "\x89PNG", 4, &size)
						: file_starts(lp, "<?xml", 5, &size));
		assert_true(size > 5000);
		sb_reset(&s);
		o.path = dp;
		assert_int_equal(plot_load_script(&load, &o, &s, &err), 0);
		if (plot_render(sb_str(&s), &err) != 0)
			fail_msg("load: %s", err.msg);
		assert_true(fmts[i] == PLOT_PNG ? file_starts(dp, "\x89PNG", 4, &size)
						: file_starts(dp, "<?xml", 5, &size));
		assert_true(size > 5000);
		sb_release(&s);
		free(lp);
		free(dp);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_format_and_scale),
		cmocka_unit_test(test_trend_script),
		cmocka_unit_test(test_pairs),
		cmocka_unit_test(test_latency_script),
		cmocka_unit_test(test_load_script),
		cmocka_unit_test(test_load_server_panel),
		cmocka_unit_test(test_load_series_ends_with_the_test),
		cmocka_unit_test(test_render),
		cmocka_unit_test(test_render_all_kinds),
		cmocka_unit_test(test_spectrum),
		cmocka_unit_test(test_gate_dir),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
