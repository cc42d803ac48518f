/*
 * sequential.h: looking more than once (docs/statistics.md, "Measuring
 * more when unsure").
 *
 * The gate decides on its first measurement; when a gated metric is
 * undecided (a regression to confirm, or inconclusive: worse by the floor
 * but not significant) it measures the affected benchmarks more and decides
 * again on all the samples, up to a budget.  Every look at which the gate
 * can fail is another chance of a false alarm, so the looks share alpha:
 * alpha spending (Lan and DeMets 1983) with the O'Brien-Fleming-type
 * function
 *
 *     alpha*(t) = 2 (1 - Phi(z_(1 - alpha/2) / sqrt(t))),   t = n / n_max,
 *
 * the share of the planned samples taken so far.  A look spends
 * alpha*(t_k) - alpha*(t_(k-1)) and tests at that level; the last look
 * spends whatever is left, so the levels of all looks sum to alpha and, by
 * Bonferroni's inequality, the gate's false-alarm probability stays within
 * alpha however the looks are correlated and however many are taken.
 *
 * A first look that only screens (confirmation on: nothing fails before it
 * is measured again) spends nothing: stopping early because everything
 * looks unchanged never adds a false alarm, and failing needs a later look.
 * tests/unit/test_sequential.c simulates 10,000 A/A gates with these looks.
 */
#ifndef PERFGATE_SEQUENTIAL_H
#define PERFGATE_SEQUENTIAL_H

#include <stdbool.h>
#include <stddef.h>

struct sequential {
	double alpha;        /* the gate's level over all looks */
	double n_max;        /* samples at the last possible look (first + budget) */
	double spent;        /* alpha spent by the looks so far */
	double t_last;       /* information fraction of the last look */
	size_t looks;        /* looks taken */
	bool first_screens;  /* the first look cannot fail the gate */
};

/* n_max: the samples the last look would have (the first look's plus the
 * whole budget); first_screens: see above. */
void sequential_init(struct sequential *s, double alpha, double n_max, bool first_screens);

/* O'Brien-Fleming-type spending function alpha*(t), t in [0, 1]. */
double sequential_spending(double alpha, double t);

/*
 * The level to test a look at, taken with n samples (n <= n_max); `last`:
 * no look will follow (the budget is spent, or nothing is undecided), so
 * it spends the rest.  A screening first look returns alpha and spends
 * nothing.  Never negative.
 */
double sequential_level(struct sequential *s, double n, bool last);

#endif
