/*
 * changepoint.h: change points in a metric's history (one value per run,
 * usually the run's median, in commit order), found the way Apache Otava
 * finds them (STATISTICS.md, "E-divisive means"):
 *
 *  1. split: E-divisive means over sliding windows (window 50, step 25); in
 *     each window the split maximising Q is kept while a Welch t-test between
 *     the segments either side gives p <= 10 x p_max (the weak first pass);
 *  2. merge: repeatedly drop the weakest point (largest p; once every p is
 *     below p_max, the smallest magnitude) and re-test its neighbours, until
 *     every point has p < p_max and |mean_after/mean_before - 1| >=
 *     min_magnitude.
 *
 * perfgate's one addition (robust, on by default): each segment is
 * winsorised at its median +- 4 robust standard deviations before the
 * t-test and the means, so that a single outlying run neither hides a step
 * nor makes one.
 *
 * Pure computation: no I/O, deterministic (same series, same points).
 */
#ifndef PERFGATE_CHANGEPOINT_H
#define PERFGATE_CHANGEPOINT_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "err.h"

struct changepoint_params {
	double p_max;         /* significance of the final pass (two-sided Welch p) */
	double min_magnitude; /* minimum |mean_after/mean_before - 1|, a fraction */
	size_t window;        /* points per E-divisive window (>= 2 * min_size) */
	size_t step;          /* window advance; 0: window / 2 */
	size_t min_size;      /* fewest points on either side of a split (>= 2) */
	bool robust;          /* winsorise each segment at median +- 4 MAD-sigmas before
				 the t-test (perfgate's addition to Otava; see docs) */
};
#define CHANGEPOINT_PARAMS_INIT { .p_max = 0.001, .min_magnitude = 0.05, .window = 50, .step = 25, .min_size = 3, .robust = true }

struct changepoint {
	size_t index;        /* first point after the change (0-based) */
	double mean_before;  /* mean of the segment before, series units */
	double mean_after;   /* mean of the segment after */
	double p;            /* two-sided Welch t-test p between the two segments */
	double magnitude;    /* mean_after / mean_before - 1 (signed fraction) */
	size_t n_before;     /* points in the segment before */
	size_t n_after;
};

/*
 * Find the change points of x[0..n).  *out (caller frees) holds *n_out points
 * in ascending index order; none is a valid answer.  ERR_INPUT when a value
 * is not finite or the parameters are out of range.
 */
int changepoint_detect(const double *x, size_t n, const struct changepoint_params *params,
		       struct changepoint **out, size_t *n_out, struct err *err);

/* Q of E-divisive means for splitting x[0..n) before index tau (exposed for
 * tests; 0 < tau < n, both sides at least 2 points). */
double changepoint_q(const double *x, size_t n, size_t tau);

/* Two-sided Welch t-test between a[0..na) and b[0..nb) (exposed for tests).
 * Both samples need 2 points; returns p in [0, 1]. */
double changepoint_welch_p(const double *a, size_t na, const double *b, size_t nb);

/*
 * Read a suite's "changepoints" object over *p: {"p_max": 0.001,
 * "min_magnitude": "5%" or 0.05, "window": 50, "step": 25, "min_size": 3,
 * "robust": true}.
 * Unknown keys and bad values are appended to problems as "PATH.key: ..."
 * lines.  NULL obj leaves *p alone.
 */
void changepoint_params_parse(const cJSON *obj, const char *path, struct changepoint_params *p,
			      struct errlist *problems);
/*
 * The parameters a suite declares: the defaults, then "compare"."min_effect"
 * as min_magnitude, then the "changepoints" object (either may be NULL).
 * Problems are appended as in changepoint_params_parse().
 */
void changepoint_params_from_suite(const cJSON *compare, const cJSON *changepoints,
				   struct changepoint_params *p, struct errlist *problems);
/* Check the parameters' ranges; ERR_INPUT with a message naming the first bad one. */
int changepoint_params_check(const struct changepoint_params *p, struct err *err);

#endif
