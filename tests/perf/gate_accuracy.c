/*
 * gate_accuracy: how often the gate fails on recorded real timing series
 * (issue 4, "Figures to reach"; docs/performance.md, "gate accuracy").
 *
 * The series (tests/fixtures/timing/) were recorded interleaved: line i of
 * every level's file was measured at about the same moment, so a trial can
 * take its baseline runs from the unchanged level and its new run from a
 * slower level at a later moment, as CI would see them.  A trial draws 6
 * distinct blocks of R consecutive repetitions at random positions over the
 * whole series, in time order: the first 5 from the base level are the
 * baseline runs, the last (from the level under test) is the new run.
 * Every trial is then decided by
 *   - perfgate: verdict_measure + verdict_decide (MWU, HL, noise floor),
 *     failing on `regression` only;
 *   - github-action-benchmark: new run's mean / last baseline run's mean
 *     >= 110% (a common setting) and >= 200% (its default alert threshold);
 *   - Conbench: z-score of the new run's best (smallest) repetition against
 *     the baseline runs' best repetitions, z > 5 and at least 5% slower;
 *   - Bencher: t-test boundary, new run's mean above mean + t(0.99, n-1) * sd
 *     of the baseline runs' means;
 *   - perfgate-ab: not a history gate but the A/B variant mode (issue 4,
 *     "A/B variants"): the new run against the base level's repetitions
 *     recorded interleaved with it (same block of lines), floor = min_effect.
 *
 * usage: gate_accuracy [-r REPS|-b SECONDS] [-t TRIALS] [-s SEED] [-e MIN_EFFECT]
 *                      [-c COLUMN] BASE.txt[.gz] [LEVEL.txt ...]
 *   -r  repetitions per run (default: as many as fit -b seconds of measuring)
 *   -b  measuring budget per run in seconds (default 60), at the base level's
 *       median wall time (column 1)
 *   -c  which value of a line: 1 wall, 2 user, 3 sys, 23 user+sys (default 1);
 *       two, comma-separated ("1,23"), are two metrics of one gate: decided
 *       jointly (Benjamini-Hochberg), the gate failing when either regresses
 *   -n  REFERENCE.txt: a calibration program recorded interleaved with the
 *       levels: every repetition is divided by the reference's on the same
 *       line (wall_rel, cpu_rel of a suite's "calibration"), and the
 *       reference's wall time counts in the measuring budget
 *   -e  min_effect (default 0.05)
 *   -k  baseline runs per trial (default 5, at most 16)
 * Input files: one repetition per line, whitespace-separated numbers.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_cdf.h>

#include "../../core/summary.h"
#include "../../core/util.h"
#include "../../core/verdict.h"

#define NB_MAX 16
static size_t NB = 5; /* baseline runs (-k) */

#define NCOL_MAX 2

struct series {
	const char *path;
	double *v[NCOL_MAX]; /* the chosen columns (-c), one metric each */
	double *wall;        /* column 1, for the time budget */
	size_t n;
};

static int cols[NCOL_MAX] = { 1 }, ncols = 1;

static double column(const double *c, int col)
{
	switch (col) {
	case 2: return c[1];
	case 3: return c[2];
	case 23: return c[1] + c[2];
	default: return c[0];
	}
}

static int load(const char *path, struct series *s)
{
	char cmd[4200], line[512];
	size_t alloc[NCOL_MAX] = { 0 }, alloc_w = 0;
	FILE *f;
	int gz = strlen(path) > 3 && strcmp(path + strlen(path) - 3, ".gz") == 0;

	memset(s, 0, sizeof(*s));
	s->path = path;
	if (gz) {
		snprintf(cmd, sizeof(cmd), "gzip -dc '%s'", path);
		f = popen(cmd, "r");
	} else {
		f = fopen(path, "r");
	}
	if (!f) {
		fprintf(stderr, "gate_accuracy: cannot open '%s'\n", path);
		return -1;
	}
	while (fgets(line, sizeof(line), f)) {
		double c[3] = { NAN, NAN, NAN };
		char *p = line, *end;
		for (int k = 0; k < 3; k++) {
			c[k] = strtod(p, &end);
			if (end == p) {
				c[k] = NAN;
				break;
			}
			p = end;
		}
		if (isnan(c[0]))
			continue;
		for (int k = 0; k < ncols; k++) {
			double v = column(c, cols[k]);
			if (!(v > 0))
				v = 1e-9; /* a zero CPU time reading: keep the position */
			XGROW(s->v[k], alloc[k], s->n + 1);
			s->v[k][s->n] = v;
		}
		XGROW(s->wall, alloc_w, s->n + 1);
		s->wall[s->n] = c[0];
		s->n++;
	}
	if (gz)
		pclose(f);
	else
		fclose(f);
	return s->n ? 0 : -1;
}

/* -n REF: each repetition divided by the reference program's repetition
 * recorded next to it (same line), and the reference's wall time counted in
 * the measuring budget: the normalised ("relative to reference") metric. */
static struct series ref;

static void normalise(struct series *s, const struct series *r)
{
	if (s->n > r->n)
		s->n = r->n;
	for (size_t i = 0; i < s->n; i++) {
		for (int k = 0; k < ncols; k++)
			s->v[k][i] /= r->v[k][i];
		s->wall[i] += r->wall[i];
	}
}

static void series_free(struct series *s)
{
	for (int k = 0; k < NCOL_MAX; k++)
		free(s->v[k]);
	free(s->wall);
}

static uint64_t rng_state;

static uint64_t rng_next(void)
{
	/* splitmix64 */
	uint64_t z = (rng_state += 0x9e3779b97f4a7c15ULL);
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}

static int cmp_size(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	return (x > y) - (x < y);
}

static double mean(const double *v, size_t n)
{
	double s = 0;
	for (size_t i = 0; i < n; i++)
		s += v[i];
	return s / (double)n;
}

static double sdev(const double *v, size_t n)
{
	double m = mean(v, n), s = 0;
	for (size_t i = 0; i < n; i++)
		s += (v[i] - m) * (v[i] - m);
	return n > 1 ? sqrt(s / (double)(n - 1)) : 0;
}

static double vmin(const double *v, size_t n)
{
	double m = v[0];
	for (size_t i = 1; i < n; i++)
		m = v[i] < m ? v[i] : m;
	return m;
}

static double median_of(const double *v, size_t n)
{
	double *s = xmalloc(n * sizeof(*s)), r;
	memcpy(s, v, n * sizeof(*s));
	qsort(s, n, sizeof(*s), summary_cmp_double);
	r = summary_median_sorted(s, n);
	free(s);
	return r;
}

enum { M_PERFGATE, M_GAB110, M_GAB200, M_CONBENCH, M_BENCHER, M_AB, M_COUNT };

struct tally {
	int fails[M_COUNT];
	int kinds[VERDICT_NO_BASELINE + 1];
};

/* Every rule on one metric (column k) of one trial's draw; perfgate's
 * verdicts are left in v[0] (history) and v_ab (A/B) for a joint decision. */
static void rules(const struct series *base, const struct series *lev, int k, const size_t *pick,
		  size_t reps, const struct verdict_settings *cs, struct verdict *v, struct verdict *v_ab,
		  int *fail)
{
	double *pooled = xmalloc(NB * reps * sizeof(*pooled));
	double run_med[NB_MAX], run_mean[NB_MAX], run_best[NB_MAX];
	const double *cur = lev->v[k] + pick[NB] * reps;
	double cur_mean = mean(cur, reps), cur_best = vmin(cur, reps), bm, bs, tq;
	struct verdict_input in;

	for (size_t r = 0; r < NB; r++) {
		const double *b = base->v[k] + pick[r] * reps;
		memcpy(pooled + r * reps, b, reps * sizeof(*b));
		run_med[r] = median_of(b, reps);
		run_mean[r] = mean(b, reps);
		run_best[r] = vmin(b, reps);
	}
	in = (struct verdict_input){ .base = pooled, .n_base = NB * reps, .base_run_medians = run_med, .n_runs = NB,
				     .cur = cur, .n_cur = reps, .direction = RD_LOWER, .settings = *cs };
	verdict_measure(&in, v);

	fail[M_GAB110] |= cur_mean / run_mean[NB - 1] >= 1.10;
	fail[M_GAB200] |= cur_mean / run_mean[NB - 1] >= 2.00;
	bm = mean(run_best, NB);
	bs = sdev(run_best, NB);
	fail[M_CONBENCH] |= bs > 0 ? ((cur_best - bm) / bs > 5 && cur_best / bm >= 1.05) : cur_best / bm >= 1.05;
	bm = mean(run_mean, NB);
	bs = sdev(run_mean, NB);
	tq = gsl_cdf_tdist_Pinv(0.99, NB - 1);
	fail[M_BENCHER] |= cur_mean > bm + tq * bs;

	/* A/B: the base level's repetitions recorded interleaved with these,
	 * line by line: pairs, compared as the gate compares interleaved
	 * variants (signed-rank on the per-pair log-ratios). */
	in = (struct verdict_input){ .base = base->v[k] + pick[NB] * reps, .n_base = reps, .cur = cur, .n_cur = reps,
				     .direction = RD_LOWER, .settings = *cs, .paired = true };
	verdict_measure(&in, v_ab);
	free(pooled);
}

/*
 * One trial: 6 distinct blocks in time order, every rule on every metric
 * (-c), and perfgate's verdicts decided jointly (Benjamini-Hochberg across
 * the metrics, as one gate invocation does); a gate fails when any metric
 * regresses.
 */
static void trial(const struct series *base, const struct series *lev, size_t reps, double min_effect,
		  struct tally *t)
{
	size_t nblocks = base->n / reps, pick[NB_MAX + 1];
	struct verdict_settings cs = VERDICT_SETTINGS_INIT, csa[NCOL_MAX];
	struct verdict v[NCOL_MAX], v_ab[NCOL_MAX];
	int fail[M_COUNT] = { 0 };

	for (size_t k = 0; k < NB + 1; k++) {
		int again;
		do {
			pick[k] = (size_t)(rng_next() % nblocks);
			again = 0;
			for (size_t j = 0; j < k; j++)
				again |= pick[j] == pick[k];
		} while (again);
	}
	qsort(pick, NB + 1, sizeof(*pick), cmp_size);
	cs.min_effect = min_effect;
	for (int k = 0; k < ncols; k++)
		rules(base, lev, k, pick, reps, &cs, &v[k], &v_ab[k], fail);
	for (int k = 0; k < ncols; k++)
		csa[k] = cs;
	verdict_decide(v, (size_t)ncols, csa);
	verdict_decide(v_ab, (size_t)ncols, csa);
	for (int k = 0; k < ncols; k++) {
		t->kinds[v[k].kind]++;
		fail[M_PERFGATE] |= v[k].kind == VERDICT_REGRESSION;
		fail[M_AB] |= v_ab[k].kind == VERDICT_REGRESSION;
	}
	for (int m = 0; m < M_COUNT; m++)
		t->fails[m] += fail[m];
}

int main(int argc, char **argv)
{
	size_t reps = 0, trials = 200;
	double budget = 60, min_effect = 0.05;
	int argi = 1, budget_mode;
	char colnames[32] = "";
	uint64_t seed = 20261128;
	struct series base;
	const char *ref_path = NULL;

	for (; argi < argc && argv[argi][0] == '-' && argi + 1 < argc; argi += 2) {
		const char *o = argv[argi], *val = argv[argi + 1];
		if (strcmp(o, "-r") == 0)
			reps = (size_t)strtoul(val, NULL, 10);
		else if (strcmp(o, "-b") == 0)
			budget = strtod(val, NULL);
		else if (strcmp(o, "-t") == 0)
			trials = (size_t)strtoul(val, NULL, 10);
		else if (strcmp(o, "-s") == 0)
			seed = strtoull(val, NULL, 10);
		else if (strcmp(o, "-e") == 0)
			min_effect = strtod(val, NULL);
		else if (strcmp(o, "-k") == 0)
			NB = (size_t)strtoul(val, NULL, 10);
		else if (strcmp(o, "-c") == 0) {
			/* one column, or two decided jointly: "1,23" */
			char *end;
			ncols = 0;
			for (const char *p = val; *p && ncols < NCOL_MAX; p = *end ? end + 1 : end) {
				cols[ncols++] = (int)strtol(p, &end, 10);
				if (end == p)
					break;
			}
			if (ncols == 0)
				ncols = 1;
		}
		else if (strcmp(o, "-n") == 0)
			ref_path = val;
		else
			break;
	}
	if (NB < 1 || NB > NB_MAX)
		NB = 5;
	if (argi >= argc) {
		fprintf(stderr, "usage: gate_accuracy [-r REPS|-b SECONDS] [-t TRIALS] [-s SEED] [-e MIN_EFFECT] "
				"[-k RUNS] [-c COLUMN[,COLUMN]] [-n REFERENCE] BASE [LEVEL ...]\n");
		return 2;
	}
	for (int k = 0; k < ncols; k++)
		snprintf(colnames + strlen(colnames), sizeof(colnames) - strlen(colnames), "%s%d", k ? "+" : "",
			 cols[k]);
	if (ref_path && load(ref_path, &ref) != 0)
		return 1;
	if (load(argv[argi], &base) != 0)
		return 1;
	if (ref_path)
		normalise(&base, &ref);
	budget_mode = reps == 0;
	if (reps == 0) {
		/* as many repetitions as fit the budget at the base level's median wall time (us) */
		double w = median_of(base.wall, base.n) * 1e-6;
		reps = w > 0 ? (size_t)(budget / w) : 10;
		if (reps < 2)
			reps = 2;
	}
	if (budget_mode && base.n / reps < 2 * (NB + 1)) {
		/* the series is too short for runs that long: keep at least 12
		 * runs to draw 6 from, and say so */
		printf("# %zu repetitions per run do not fit %zu recorded: capped at %zu\n", reps, base.n,
		       base.n / (2 * (NB + 1)));
		reps = base.n / (2 * (NB + 1));
	}
	if (reps == 0 || base.n / reps < NB + 1) {
		fprintf(stderr, "gate_accuracy: %zu repetitions in '%s' make fewer than %zu runs of %zu\n", base.n,
			argv[argi], NB + 1, reps);
		return 1;
	}
	printf("# series %s%s%s: %zu repetitions, column %s, %zu baseline runs of %zu (%zu runs to draw from), "
	       "%zu trials, min_effect %.3g, seed %llu\n",
	       argv[argi], ref_path ? " over " : "", ref_path ? ref_path : "", base.n, colnames, NB, reps, base.n / reps, trials, min_effect, (unsigned long long)seed);
	printf("%-22s %7s %9s %9s %9s %12s %10s %12s   perfgate verdicts\n", "new run from", "ratio", "perfgate",
	       "gab-110%", "gab-200%", "conbench-z5", "bencher-t", "perfgate-ab");
	for (int li = argi; li < argc; li++) {
		struct series lev;
		struct tally t = { { 0 }, { 0 } };
		const char *name = strrchr(argv[li], '/') ? strrchr(argv[li], '/') + 1 : argv[li];
		size_t n;

		if (li == argi)
			lev = base;
		else if (load(argv[li], &lev) != 0)
			return 1;
		else if (ref_path)
			normalise(&lev, &ref);
		n = lev.n < base.n ? lev.n : base.n;
		{
			struct series b2 = base, l2 = lev;
			b2.n = l2.n = n;
			rng_state = seed;
			for (size_t i = 0; i < trials; i++)
				trial(&b2, &l2, reps, min_effect, &t);
		}
		printf("%-22s %7.4f", name, median_of(lev.v[0], n) / median_of(base.v[0], n));
		for (int m = 0; m < M_COUNT; m++)
			printf(" %*d/%zu", m == M_CONBENCH || m == M_AB ? 8 : m == M_BENCHER ? 6 : 5, t.fails[m],
			       trials);
		printf("  ");
		for (int k = 0; k <= VERDICT_NO_BASELINE; k++)
			if (t.kinds[k])
				printf(" %s %d", verdict_name((enum verdict_kind)k), t.kinds[k]);
		printf("\n");
		if (li != argi)
			series_free(&lev);
	}
	series_free(&base);
	if (ref_path)
		series_free(&ref);
	return 0;
}
