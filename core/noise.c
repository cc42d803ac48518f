/*
 * noise.c: noise warnings for a metric's samples (see noise.h).
 */
#include "noise.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "summary.h"
#include "util.h"

static double median_of(const double *v, size_t n)
{
	double *s = xmalloc(n * sizeof(*s));
	double m;
	memcpy(s, v, n * sizeof(*s));
	qsort(s, n, sizeof(*s), summary_cmp_double);
	m = summary_median_sorted(s, n);
	free(s);
	return m;
}

void noise_analyse(const double *samples, size_t n, struct noise_report *r)
{
	double med, mad, mean = 0, var = 0;
	double *dev;

	memset(r, 0, sizeof(*r));
	if (n < NOISE_MIN_SAMPLES)
		return;
	med = median_of(samples, n);
	dev = xmalloc(n * sizeof(*dev));
	for (size_t i = 0; i < n; i++)
		dev[i] = fabs(samples[i] - med);
	mad = median_of(dev, n);
	free(dev);
	if (mad > 0) {
		for (size_t i = 0; i < n; i++)
			if (fabs(0.6745 * (samples[i] - med) / mad) > NOISE_Z_LIMIT)
				r->outliers++;
		r->slow_first = 0.6745 * (samples[0] - med) / mad > NOISE_Z_LIMIT;
	}
	{
		double rest = median_of(samples + 1, n - 1);
		r->first_ratio = rest > 0 ? samples[0] / rest : 0;
	}
	for (size_t i = 0; i < n; i++)
		mean += samples[i];
	mean /= (double)n;
	for (size_t i = 0; i < n; i++)
		var += (samples[i] - mean) * (samples[i] - mean);
	var /= (double)(n - 1);
	r->cv = mean != 0 ? sqrt(var) / fabs(mean) : 0;
}

void noise_warn(const char *metric, const double *samples, size_t n, bool had_warmup,
		cJSON *warnings)
{
	struct noise_report r;
	char buf[256];

	noise_analyse(samples, n, &r);
	if (r.outliers) {
		snprintf(buf, sizeof(buf), "%s: %zu of %zu samples are outliers (modified z-score > %.1f)",
			 metric, r.outliers, n, NOISE_Z_LIMIT);
		cJSON_AddItemToArray(warnings, cJSON_CreateString(buf));
	}
	if (r.slow_first && !had_warmup) {
		snprintf(buf, sizeof(buf),
			 "%s: the first repetition took %.1fx the median of the others; add \"warmup\"",
			 metric, r.first_ratio);
		cJSON_AddItemToArray(warnings, cJSON_CreateString(buf));
	}
	if (r.cv > NOISE_CV_LIMIT) {
		snprintf(buf, sizeof(buf), "%s: coefficient of variation %.1f%% is over %.0f%%", metric,
			 r.cv * 100, NOISE_CV_LIMIT * 100);
		cJSON_AddItemToArray(warnings, cJSON_CreateString(buf));
	}
}
