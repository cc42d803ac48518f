/*
 * compare_cost: the cost of the gate's statistics grows linearly with the
 * number of metrics (issue 4: 1,000 metrics of 10 new against 50 baseline
 * samples take at most 110 times as long as 10 metrics, and under a second
 * of CPU on one core).
 *
 * Measures CPU time (CLOCK_PROCESS_CPUTIME_ID) of verdict_measure on every
 * metric plus one verdict_decide across all of them, for 10 and for 1,000
 * metrics, side by side in one process; each figure is the median of 7
 * rounds (the 10-metric case runs 100 times per round, on 100 different
 * sets of 10 metrics, so that the clock's resolution does not matter and
 * the ratio compares work, not a cache that holds 10 metrics against one
 * that cannot hold 1,000).  Prints both and their ratio.
 *
 * Beside them, what the floor from the machine's record adds to a gate of
 * 1,000 history rows (200 benchmarks of 5 metrics): each row's lookups,
 * baseline_machine_spread and baseline_machine_jump, over a record as full
 * as the database ever hands one (5,000 changes: 5 per series), as a share
 * of the statistics of the same 1,000 metrics.
 *
 * usage: compare_cost [ROUNDS]
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../../core/baseline.h"
#include "../../core/noise.h"
#include "../../core/summary.h"
#include "../../core/util.h"
#include "../../core/verdict.h"

#define N_BASE 50
#define N_RUNS 5
#define N_CUR 10

struct metric {
	double base[N_BASE], med[N_RUNS], cur[N_CUR];
};

static uint64_t rng = 12345;

static double uniform(void)
{
	rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
	return (double)(rng >> 11) * 0x1p-53;
}

static void fill(struct metric *m, double shift)
{
	for (size_t r = 0; r < N_RUNS; r++) {
		double s[N_BASE / N_RUNS];
		for (size_t i = 0; i < N_BASE / N_RUNS; i++)
			s[i] = m->base[r * (N_BASE / N_RUNS) + i] = 1 + 0.2 * uniform();
		qsort(s, N_BASE / N_RUNS, sizeof(*s), summary_cmp_double);
		m->med[r] = summary_median_sorted(s, N_BASE / N_RUNS);
	}
	for (size_t i = 0; i < N_CUR; i++)
		m->cur[i] = shift * (1 + 0.2 * uniform());
}

static double cpu_now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* CPU seconds for one comparison of n metrics. */
static double compare_once(const struct metric *m, size_t n, struct verdict *v, struct verdict_settings *cs)
{
	double t0 = cpu_now();

	for (size_t i = 0; i < n; i++) {
		struct verdict_input in = { .base = m[i].base, .n_base = N_BASE, .base_run_medians = m[i].med,
					    .n_runs = N_RUNS, .cur = m[i].cur, .n_cur = N_CUR, .direction = RD_LOWER,
					    .settings = cs[i] };
		verdict_measure(&in, &v[i]);
	}
	verdict_decide(v, n, cs);
	return cpu_now() - t0;
}

#define REC_BENCHES 200
#define REC_CHANGES 5
static const char *const rec_metrics[] = { "wall", "cpu", "user", "sys", "max_rss" };
#define REC_METRICS (sizeof(rec_metrics) / sizeof(rec_metrics[0]))

/* A record of REC_BENCHES x REC_METRICS series, REC_CHANGES changes each. */
static void record_fill(struct baseline *b)
{
	b->n_spreads = REC_BENCHES * REC_METRICS;
	b->spreads = xcalloc(b->n_spreads, sizeof(*b->spreads));
	for (size_t i = 0; i < b->n_spreads; i++) {
		struct baseline_spread *s = &b->spreads[i];

		s->project = xstrdup("p");
		s->suite = xstrdup("s");
		s->bench = xasprintf("b%03zu", i / REC_METRICS);
		s->metric = xstrdup(rec_metrics[i % REC_METRICS]);
		s->n = REC_CHANGES;
		s->changes = xcalloc(REC_CHANGES, sizeof(*s->changes));
		for (size_t k = 0; k < REC_CHANGES; k++) {
			s->changes[k] = 0.1 * uniform();
			s->sum_sq += s->changes[k] * s->changes[k];
		}
	}
	baseline_index_record(b);
}

/* CPU seconds for the machine-record lookups of every row of the record. */
static double record_once(const struct baseline *b, double *sink)
{
	double t0 = cpu_now();

	for (size_t i = 0; i < b->n_spreads; i++) { /* one history row per series */
		const struct baseline_spread *s = &b->spreads[i];

		*sink += baseline_machine_spread(b, "p", "s", s->bench, s->metric, NULL);
		*sink += baseline_machine_jump(b, s->metric, NOISE_MACHINE_QUANTILE, NULL);
	}
	return cpu_now() - t0;
}

static double median(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), summary_cmp_double);
	return summary_median_sorted(v, n);
}

int main(int argc, char **argv)
{
	size_t rounds = argc > 1 ? (size_t)strtoul(argv[1], NULL, 10) : 7;
	size_t big = 1000, small = 10, reg = 0;
	struct metric *m = xcalloc(big, sizeof(*m));
	struct verdict *v = xcalloc(big, sizeof(*v));
	struct verdict_settings *cs = xcalloc(big, sizeof(*cs));
	double *t_small = xcalloc(rounds, sizeof(double)), *t_big = xcalloc(rounds, sizeof(double));
	double *t_rec = xcalloc(rounds, sizeof(double));
	struct baseline rec = { .mode = BASELINE_NONE };
	double ts, tb, tr, sink = 0;

	if (rounds == 0)
		rounds = 1;
	for (size_t i = 0; i < big; i++) {
		fill(&m[i], i % 50 == 0 ? 1.3 : 1.0); /* every 50th metric regressed 30% */
		cs[i] = (struct verdict_settings)VERDICT_SETTINGS_INIT;
	}
	record_fill(&rec);
	for (size_t r = 0; r < rounds; r++) {
		double s = 0;
		for (size_t k = 0; k < 100; k++) /* 100 different sets of 10, as 100 gates would see */
			s += compare_once(m + (k * small) % big, small, v, cs);
		t_small[r] = s / 100;
		t_big[r] = compare_once(m, big, v, cs);
		t_rec[r] = record_once(&rec, &sink);
	}
	for (size_t i = 0; i < big; i++)
		reg += v[i].kind == VERDICT_REGRESSION;
	ts = median(t_small, rounds);
	tb = median(t_big, rounds);
	tr = median(t_rec, rounds);
	printf("compare cost (CPU, median of %zu rounds): %zu metrics %.3f ms, %zu metrics %.1f ms, ratio %.1f "
	       "(target <= 110; 1000 metrics < 1000 ms); %zu of %zu regressions found (20 injected)\n",
	       rounds, small, ts * 1e3, big, tb * 1e3, tb / ts, reg, big);
	printf("machine record lookups (CPU, median of %zu rounds): %zu rows over %zu changes %.3f ms, %.2f%% of the "
	       "statistics of %zu metrics%s\n",
	       rounds, rec.n_spreads, rec.n_spreads * REC_CHANGES, tr * 1e3, 100 * tr / tb, big,
	       isfinite(sink) ? "" : " (a lookup gave no value)");
	baseline_release(&rec);
	free(t_rec);
	free(m);
	free(v);
	free(cs);
	free(t_small);
	free(t_big);
	return tb / ts <= 110 && tb < 1 ? 0 : 1;
}
