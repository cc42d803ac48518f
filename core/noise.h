/*
 * noise.h: warnings that a benchmark's samples are too noisy to trust
 * (shown in `run`'s report and kept in the run document's bench extra
 * "warnings").
 *
 *  - outliers: samples whose modified z-score |0.6745 (x - median) / MAD|
 *    exceeds 3.5 (Iglewicz and Hoaglin), robust where the plain z-score is
 *    not, because the outliers themselves inflate the standard deviation;
 *  - a slow first run: the first repetition is an outlier above the median
 *    (caches, page faults, a cold disk) and no warmup was done;
 *  - a coefficient of variation (sample stddev / mean) over a threshold.
 */
#ifndef PERFGATE_NOISE_H
#define PERFGATE_NOISE_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#define NOISE_Z_LIMIT 3.5
#define NOISE_CV_LIMIT 0.10 /* 10% */
#define NOISE_MIN_SAMPLES 3 /* fewer say nothing about noise */

struct noise_report {
	size_t outliers;      /* samples with |modified z| > NOISE_Z_LIMIT */
	bool slow_first;      /* the first sample is an outlier above the median */
	double first_ratio;   /* first sample / median of the others */
	double cv;            /* sample stddev / mean; 0 when n < 2 or mean == 0 */
};

/* Analyse n samples in repetition order. */
void noise_analyse(const double *samples, size_t n, struct noise_report *r);

/*
 * Append one human-readable line per problem to `warnings` (a cJSON array
 * of strings), each starting with the metric's name:
 *   "wall: 2 of 20 samples are outliers (modified z-score > 3.5)"
 *   "wall: the first repetition took 3.1x the median of the others; add \"warmup\""
 *   "wall: coefficient of variation 16.2% is over 10%"
 * had_warmup suppresses the first-run advice (the warning stays as an outlier).
 */
void noise_warn(const char *metric, const double *samples, size_t n, bool had_warmup,
		cJSON *warnings);

#endif
