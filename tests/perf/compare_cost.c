/*
 * compare_cost: the cost of the gate's statistics grows linearly with the
 * number of metrics (issue 4: 1,000 metrics of 10 new against 50 baseline
 * samples take at most 110 times as long as 10 metrics, and under a second
 * of CPU on one core).
 *
 * Measures CPU time (CLOCK_PROCESS_CPUTIME_ID) of verdict_measure on every
 * metric plus one verdict_decide across all of them, for 10 and for 1,000
 * metrics, side by side in one process; each figure is the median of 7
 * rounds (the 10-metric case repeats 100 times per round so that the clock's
 * resolution does not matter).  Prints both and their ratio.
 *
 * usage: compare_cost [ROUNDS]
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

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
	double ts, tb;

	if (rounds == 0)
		rounds = 1;
	for (size_t i = 0; i < big; i++) {
		fill(&m[i], i % 50 == 0 ? 1.3 : 1.0); /* every 50th metric regressed 30% */
		cs[i] = (struct verdict_settings)VERDICT_SETTINGS_INIT;
	}
	for (size_t r = 0; r < rounds; r++) {
		double s = 0;
		for (int k = 0; k < 100; k++)
			s += compare_once(m, small, v, cs);
		t_small[r] = s / 100;
		t_big[r] = compare_once(m, big, v, cs);
	}
	for (size_t i = 0; i < big; i++)
		reg += v[i].kind == VERDICT_REGRESSION;
	ts = median(t_small, rounds);
	tb = median(t_big, rounds);
	printf("compare cost (CPU, median of %zu rounds): %zu metrics %.3f ms, %zu metrics %.1f ms, ratio %.1f "
	       "(target <= 110; 1000 metrics < 1000 ms); %zu of %zu regressions found (20 injected)\n",
	       rounds, small, ts * 1e3, big, tb * 1e3, tb / ts, reg, big);
	free(m);
	free(v);
	free(cs);
	free(t_small);
	free(t_big);
	return tb / ts <= 110 && tb < 1 ? 0 : 1;
}
