#include "summary.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_cdf.h>

#include "rundoc.h"
#include "util.h"

int summary_cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

double summary_median_sorted(const double *sorted, size_t n)
{
	if (n == 0)
		return NAN;
	if (n % 2)
		return sorted[n / 2];
	return (sorted[n / 2 - 1] + sorted[n / 2]) / 2;
}

double summary_median(const double *values, size_t n)
{
	double *s, m;

	if (n == 0)
		return NAN;
	s = xmalloc(n * sizeof(*s));
	memcpy(s, values, n * sizeof(*s));
	qsort(s, n, sizeof(*s), summary_cmp_double);
	m = summary_median_sorted(s, n);
	free(s);
	return m;
}

int summary_median_ci(const double *sorted, size_t n, double level, double *lo, double *hi)
{
	double tail = (1 - level) / 2;
	size_t best = 0;

	*lo = *hi = NAN;
	if (n == 0)
		return -1;
	/* k counts from 1; P(B <= k-1) grows with k, so stop at the first miss. */
	for (size_t k = 1; k <= (n + 1) / 2; k++) {
		if (gsl_cdf_binomial_P((unsigned)(k - 1), 0.5, (unsigned)n) <= tail)
			best = k;
		else
			break;
	}
	if (best == 0)
		return -1;
	*lo = sorted[best - 1];
	*hi = sorted[n - best];
	return 0;
}

void summary_compute(const double *values, size_t n, struct rd_summary *s)
{
	double *sorted;
	double sum = 0, ss = 0;

	memset(s, 0, sizeof(*s));
	s->n = n;
	s->ci_low = s->ci_high = NAN;
	if (n == 0) {
		s->min = s->median = s->mean = s->max = NAN;
		return;
	}
	sorted = xmalloc(n * sizeof(*sorted));
	memcpy(sorted, values, n * sizeof(*sorted));
	qsort(sorted, n, sizeof(*sorted), summary_cmp_double);
	for (size_t i = 0; i < n; i++)
		sum += sorted[i];
	s->mean = sum / (double)n;
	for (size_t i = 0; i < n; i++)
		ss += (sorted[i] - s->mean) * (sorted[i] - s->mean);
	s->stddev = n > 1 ? sqrt(ss / (double)(n - 1)) : 0;
	s->min = sorted[0];
	s->max = sorted[n - 1];
	s->median = summary_median_sorted(sorted, n);
	summary_median_ci(sorted, n, 0.95, &s->ci_low, &s->ci_high);
	free(sorted);
}
