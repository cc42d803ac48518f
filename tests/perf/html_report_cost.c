/*
 * html_report_cost: the HTML report of a gate of 200 metrics (issue 18:
 * under 1 s to render, gnuplot included, and under 1 MiB).
 *
 * The gate: 8 HTTP benchmarks of 25 metrics each (latency, ttft and itl
 * families, throughput, request and byte counts, five error counters at 0),
 * 10 samples per metric, a per-second series of 60 s, compared with 4
 * baseline runs; one latency family 30% slower.  Each benchmark gets two
 * pictures (its latency spectrum over the baseline's, its per-second
 * series), all 16 drawn by one gnuplot run, and each row a sparkline of 20
 * medians.  report_html() is timed end to end (wall clock, gnuplot's
 * process included) with pictures and without them, alternately, side by
 * side in one process: the median of ROUNDS rounds of each, and the page's
 * size.
 *
 * usage: html_report_cost [ROUNDS]   (default 7; needs gnuplot)
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../core/baseline.h"
#include "../../core/compare.h"
#include "../../core/report_html.h"
#include "../../core/summary.h"
#include "../../core/util.h"

#define BENCHES 8
#define SAMPLES 10
#define SECONDS 60
#define SPARK 20

static const char *const families[] = { "latency", "ttft", "itl" };
static const char *const fam_stats[] = { "p50", "p90", "p99", "max", "mean", "min", "p999" };
static const size_t fam_n[] = { 7, 5, 5 };
static const char *const errors[] = { "timeout", "connect", "reset", "status_4xx", "status_5xx" };

static void fill(struct rd_metric *m, double center, unsigned seed)
{
	for (size_t i = 0; i < SAMPLES; i++) {
		double u = (double)((i * 7 + seed * 3) % 17) / 16.0;

		rundoc_metric_add_sample(m, center * (0.98 + 0.04 * u + 1e-6 * (double)i));
	}
	rundoc_metric_summarise(m);
}

static void series(struct rd_bench *b, double slow)
{
	cJSON *ts, *one, *thr, *p99;

	b->extra = xcheck(cJSON_CreateObject());
	ts = cJSON_AddArrayToObject(b->extra, "timeseries");
	one = cJSON_CreateObject();
	cJSON_AddNumberToObject(one, "interval", 1);
	thr = cJSON_AddArrayToObject(one, "throughput");
	p99 = cJSON_AddArrayToObject(one, "p99");
	for (int i = 0; i < SECONDS; i++) {
		cJSON_AddItemToArray(thr, cJSON_CreateNumber(95 + i % 7));
		cJSON_AddItemToArray(p99, cJSON_CreateNumber(0.03 * slow + 0.001 * (i % 5)));
	}
	cJSON_AddItemToArray(ts, one);
}

static struct rundoc *mkrun(const char *id, double slow, unsigned seed, size_t *n_metrics)
{
	struct rundoc *rd = rundoc_new();
	char name[64];

	*n_metrics = 0;
	rd->run_id = xstrdup(id);
	rd->suite = xstrdup("api");
	rd->project = xstrdup("p");
	rd->git.commit = xstrdup("0123456789abcdef0123456789abcdef01234567");
	rd->git.branch = xstrdup("main");
	rd->started_at = xstrdup("2026-12-01T10:00:00Z");
	for (int k = 0; k < BENCHES; k++) {
		struct rd_bench *b;

		snprintf(name, sizeof(name), "endpoint-%d", k);
		b = rundoc_add_bench(rd, name, RUNDOC_KIND_HTTP);
		b->config_hash = xasprintf("cfg%d", k);
		for (size_t f = 0; f < ARRAY_SIZE(families); f++)
			for (size_t s = 0; s < fam_n[f]; s++) {
				snprintf(name, sizeof(name), "%s.%s", families[f], fam_stats[s]);
				fill(rundoc_bench_add_metric(b, name, "s", RD_LOWER),
				     0.010 * (1 + 0.4 * (double)s) * (f == 0 && k == 0 ? slow : 1), seed + (unsigned)s);
				++*n_metrics;
			}
		fill(rundoc_bench_add_metric(b, "throughput", "1/s", RD_HIGHER), 100, seed + 9);
		fill(rundoc_bench_add_metric(b, "requests", "1", RD_HIGHER), 6000, seed + 10);
		fill(rundoc_bench_add_metric(b, "bytes_received", "B", RD_HIGHER), 6e6, seed + 11);
		*n_metrics += 3;
		for (size_t e = 0; e < ARRAY_SIZE(errors); e++) {
			snprintf(name, sizeof(name), "errors.%s", errors[e]);
			fill(rundoc_bench_add_metric(b, name, "1", RD_LOWER), 0, seed);
			++*n_metrics;
		}
		series(b, k == 0 ? slow : 1);
	}
	return rd;
}

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

int main(int argc, char **argv)
{
	int rounds = argc > 1 ? (int)strtol(argv[1], NULL, 10) : 7;
	struct baseline base = { .mode = BASELINE_ANCESTORS, .k = 5 };
	struct compare_options co = COMPARE_OPTIONS_INIT;
	struct compare_result *r = NULL;
	struct report_html_history *hist;
	struct err err = ERR_INIT;
	double *with, *without, spark[SPARK];
	size_t n_metrics = 0, size = 0, n_hist;
	struct rundoc *cur;
	bool pictures = false;

	if (rounds < 1)
		rounds = 1;
	base.branch = xstrdup("main");
	base.runs = xcalloc(4, sizeof(*base.runs));
	for (size_t i = 0; i < 4; i++) {
		char *id = xasprintf("00000000-0000-4000-8000-00000000000%zu", i);

		base.runs[i].doc = mkrun(id, 1.0, (unsigned)i, &n_metrics);
		base.runs[i].started = 1000.0 - (double)i;
		free(id);
	}
	base.n_runs = 4;
	cur = mkrun("6f1c2a9e-0000-4000-8000-000000000099", 1.3, 7, &n_metrics);
	if (compare_run(cur, &base, NULL, &co, &r, &err) != 0) {
		fprintf(stderr, "html_report_cost: %s\n", err.msg);
		return 1;
	}
	for (int i = 0; i < SPARK; i++)
		spark[i] = 1 + 0.01 * (i % 3);
	n_hist = r->n_rows;
	hist = xcalloc(n_hist + 1, sizeof(*hist));
	for (size_t i = 0; i < n_hist; i++)
		hist[i] = (struct report_html_history){ r->rows[i].bench, r->rows[i].metric, spark, SPARK };
	with = xcalloc((size_t)rounds, sizeof(double));
	without = xcalloc((size_t)rounds, sizeof(double));
	for (int k = 0; k < rounds; k++)
		for (int p = 0; p < 2; p++) {
			struct report_html_options o = REPORT_HTML_OPTIONS_INIT;
			struct sb page = SB_INIT;
			uint64_t t0;

			o.run = cur;
			o.baseline = base.runs[0].doc;
			o.history = hist;
			o.n_history = n_hist;
			o.plots = p == 0;
			t0 = now_ns();
			report_html(r, &o, &page);
			(p == 0 ? with : without)[k] = (double)(now_ns() - t0) / 1e6;
			if (p == 0) {
				size = strlen(sb_str(&page));
				pictures = strstr(sb_str(&page), "<figure class=\"plot\">") != NULL;
			}
			sb_release(&page);
		}
	qsort(with, (size_t)rounds, sizeof(double), cmp_double);
	qsort(without, (size_t)rounds, sizeof(double), cmp_double);
	printf("HTML report of a gate of %zu metrics (%zu rows, %d benchmarks), median of %d rounds:\n", n_metrics,
	       r->n_rows, BENCHES, rounds);
	printf("  with gnuplot pictures%s: %.0f ms (goal < 1000), %zu bytes = %.2f MiB (goal < 1)\n",
	       pictures ? "" : " (NONE DRAWN: is gnuplot installed?)", with[rounds / 2], size,
	       (double)size / 1048576.0);
	printf("  without pictures:      %.0f ms; pictures' share %.0f ms\n", without[rounds / 2],
	       with[rounds / 2] - without[rounds / 2]);
	free(with);
	free(without);
	free(hist);
	compare_result_free(r);
	rundoc_free(cur);
	baseline_release(&base);
	return 0;
}
