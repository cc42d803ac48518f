/*
 * summary.h: descriptive statistics of one sample set: n, min, median, mean,
 * max, standard deviation and the distribution-free confidence interval of
 * the median (STATISTICS.md, "Median confidence interval").
 */
#ifndef PERFGATE_SUMMARY_H
#define PERFGATE_SUMMARY_H

#include <stddef.h>

struct rd_summary;

/* Fill *s from n values (any order; the input is not modified). */
void summary_compute(const double *values, size_t n, struct rd_summary *s);

/* Median of sorted values (n >= 1). */
double summary_median_sorted(const double *sorted, size_t n);

/* Median of values in any order (not modified); NAN when n is 0. */
double summary_median(const double *values, size_t n);

/*
 * Confidence interval of the median at level `level` (e.g. 0.95) from sorted
 * values: the largest k with P(Binomial(n, 1/2) <= k - 1) <= (1 - level) / 2
 * gives [x_(k), x_(n-k+1)].  Returns 0, or -1 when n is too small for the
 * level (then *lo and *hi are NAN).
 */
int summary_median_ci(const double *sorted, size_t n, double level, double *lo, double *hi);

/* qsort comparator for doubles, ascending. */
int summary_cmp_double(const void *a, const void *b);

#endif
