/*
 * changepoint_bench: perfgate's change point figures (issue 6).
 *
 *  1. Time: change points over a 10,000-point series (target: < 1 s),
 *     median of 5 runs, beside a 1,000-point series for the ratio.
 *  2. Accuracy: precision and recall on synthetic series with known steps,
 *     Gaussian noise and outliers, 100 series per scenario, a found point
 *     within +-2 runs of a true step counting as a hit (docs/statistics.md).
 *
 * Build and run: make bench (tests/perf/run.sh), or make perf-bins and run
 * build/perf/changepoint_bench.  Exits 1 when the 10,000-point series takes
 * a second or more.
 */
#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#include "../../core/changepoint.h"
#include "../../core/util.h"

struct scenario {
	const char *name;
	double step;      /* relative size of every step */
	double noise;     /* relative sd of Gaussian noise */
	double outliers;  /* fraction of points replaced by 1.5-3x spikes */
	size_t gap;       /* runs between steps (steps alternate up and down) */
};

/* n points, a step every gap runs (none when gap == 0). */
static size_t make_series(const struct scenario *s, size_t n, gsl_rng *rng, double *x, size_t *steps)
{
	double level = 1;
	size_t n_steps = 0;

	for (size_t i = 0; i < n; i++) {
		if (s->gap && i > 0 && i % s->gap == 0 && i + 5 < n) {
			level *= (n_steps % 2) ? 1 / (1 + s->step) : 1 + s->step;
			steps[n_steps++] = i;
		}
		x[i] = level * (1 + gsl_ran_gaussian(rng, s->noise));
		if (s->outliers > 0 && gsl_rng_uniform(rng) < s->outliers)
			x[i] = level * (1.5 + 1.5 * gsl_rng_uniform(rng));
	}
	return n_steps;
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

static double time_detect(size_t n, size_t *found)
{
	static const struct scenario s = { "timing", 0.1, 0.03, 0.01, 200 };
	struct changepoint_params p = CHANGEPOINT_PARAMS_INIT;
	gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
	double *x = xmalloc(n * sizeof(*x));
	size_t *steps = xmalloc(n * sizeof(*steps));
	uint64_t t[5];
	struct err err = ERR_INIT;

	gsl_rng_set(rng, 7);
	make_series(&s, n, rng, x, steps);
	for (int r = 0; r < 5; r++) {
		struct changepoint *cps;
		uint64_t t0 = now_ns();
		if (changepoint_detect(x, n, &p, &cps, found, &err) < 0) {
			fprintf(stderr, "changepoint_bench: %s\n", err.msg);
			exit(1);
		}
		t[r] = now_ns() - t0;
		free(cps);
	}
	qsort(t, 5, sizeof(t[0]), cmp_u64);
	free(x);
	free(steps);
	gsl_rng_free(rng);
	return (double)t[2] / 1e9;
}

static void accuracy(const struct scenario *s, bool robust)
{
	struct changepoint_params p = CHANGEPOINT_PARAMS_INIT;
	gsl_rng *rng = gsl_rng_alloc(gsl_rng_mt19937);
	enum { N = 500, TRIALS = 100, TOL = 2 };
	double x[N];
	size_t steps[N];
	size_t tp = 0, fp = 0, fn = 0;
	struct err err = ERR_INIT;

	p.robust = robust;
	gsl_rng_set(rng, 42);
	for (int t = 0; t < TRIALS; t++) {
		size_t n_steps = make_series(s, N, rng, x, steps);
		bool hit[N] = { false };
		struct changepoint *cps;
		size_t n_cps;

		if (changepoint_detect(x, N, &p, &cps, &n_cps, &err) < 0) {
			fprintf(stderr, "changepoint_bench: %s\n", err.msg);
			exit(1);
		}
		for (size_t i = 0; i < n_cps; i++) {
			bool matched = false;
			for (size_t k = 0; k < n_steps && !matched; k++) {
				size_t d = cps[i].index > steps[k] ? cps[i].index - steps[k]
								   : steps[k] - cps[i].index;
				if (d <= TOL && !hit[k])
					hit[k] = matched = true;
			}
			tp += matched;
			fp += !matched;
		}
		for (size_t k = 0; k < n_steps; k++)
			fn += !hit[k];
		free(cps);
	}
	char prec[16] = "-", rec[16] = "-";

	if (tp + fp)
		snprintf(prec, sizeof(prec), "%.3f", (double)tp / (double)(tp + fp));
	if (tp + fn)
		snprintf(rec, sizeof(rec), "%.3f", (double)tp / (double)(tp + fn));
	printf("| %-34s | %-6s | %4zu | %4zu | %4zu | %9s | %6s |\n", s->name,
	       robust ? "yes" : "no", tp, fp, fn, prec, rec);
	gsl_rng_free(rng);
}

int main(void)
{
	static const struct scenario scenarios[] = {
		{ "20% steps, 2% noise", 0.20, 0.02, 0, 50 },
		{ "10% steps, 2% noise", 0.10, 0.02, 0, 50 },
		{ "10% steps, 5% noise", 0.10, 0.05, 0, 50 },
		{ "7% steps, 2% noise", 0.07, 0.02, 0, 50 },
		{ "5% steps (= min 5%), 2% noise", 0.05, 0.02, 0, 50 },
		{ "10% steps, 2% noise, 2% outliers", 0.10, 0.02, 0.02, 50 },
		{ "10% steps, 2% noise, 5% outliers", 0.10, 0.02, 0.05, 50 },
		{ "10% steps every 10 runs, 2% noise", 0.10, 0.02, 0, 10 },
		{ "no step, 5% noise", 0, 0.05, 0, 0 },
		{ "no step, 5% noise, 5% outliers", 0, 0.05, 0.05, 0 },
		{ "no step, 2% noise", 0, 0.02, 0, 0 },
		{ "3% steps (below min 5%), 1% noise", 0.03, 0.01, 0, 50 },
	};
	size_t found_small, found_big;
	double small = time_detect(1000, &found_small);
	double big = time_detect(10000, &found_big);

	printf("change points, 10,000-point series: %.4f s (median of 5; %zu points found)\n", big,
	       found_big);
	printf("change points, 1,000-point series:  %.4f s (%zu points found); ratio 10k/1k = %.1f\n",
	       small, found_small, big / small);
	printf("\nprecision and recall, 100 series of 500 runs each, hit = within +-2 runs, "
	       "defaults (p_max 0.001, min_magnitude 5%%, window 50, step 25, min_size 3), robust on and off; outliers are 1.5-3x spikes\n\n");
	printf("| %-34s | %-6s | %4s | %4s | %4s | %9s | %6s |\n", "scenario", "robust", "TP", "FP",
	       "FN", "precision", "recall");
	printf("| %.34s | %.6s | %.4s | %.4s | %.4s | %.9s | %.6s |\n",
	       "-----------------------------------", "------", "----", "----", "----", "---------",
	       "------");
	for (size_t i = 0; i < sizeof(scenarios) / sizeof(scenarios[0]); i++) {
		accuracy(&scenarios[i], true);
		accuracy(&scenarios[i], false);
	}
	return big < 1.0 ? 0 : 1;
}
