/*
 * stats.h: the statistical tests behind `compare` and `gate`
 * (STATISTICS.md, DESIGN section 5): one-sided Mann-Whitney U, the
 * Hodges-Lehmann shift of log values as a ratio with its confidence
 * interval, Benjamini-Hochberg / Benjamini-Yekutieli adjustment, and the
 * robust spread of per-run medians that sets the noise floor.
 *
 * Pure functions of their inputs: nothing here prints, allocates beyond its
 * own scratch space, or keeps state.  docs/statistics.md explains the
 * choices; tests/unit/test_stats.c checks every routine against values
 * computed independently with SciPy (tests/fixtures/stats/).
 */
#ifndef PERFGATE_STATS_H
#define PERFGATE_STATS_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"

struct mwu {
	double u;      /* Mann-Whitney U of y: pairs with y > x, plus half the ties */
	double p;      /* one-sided p-value of "y is stochastically larger than x" */
	bool exact;    /* p from the exact null distribution (no ties, small samples) */
	double p_min;  /* smallest p reachable: 1/C(m+n, m), or under the normal
			  approximation the larger of that and its p at U = mn */
};

/*
 * One-sided test that y is stochastically LARGER than x (the caller swaps the
 * arguments for higher-is-better metrics).  Exact distribution (q-binomial
 * recurrence) when there are no ties, C(m+n, m) < 2^53 (every count is an
 * exact integer in a double) and mn <= 10^7 (the count array stays < 80 MB);
 * else the normal approximation with tie and
 * continuity corrections, never below 1/C(m+n, m) (no permutation p can be
 * smaller).  All values equal: p = 1.  Returns 0, or ERR_INPUT
 * when m or n is 0 or a value is not finite (*out then holds p = 1).
 */
int stats_mann_whitney(const double *x, size_t m, const double *y, size_t n, struct mwu *out);

/*
 * Hodges-Lehmann shift of the logs as a ratio exp(HL) (y relative to x) with
 * its confidence interval at level 1 - alpha (two-sided), k exact from the
 * U distribution under the same rule as the test (ties aside), else from the normal approximation.
 * All values must be > 0 (ERR_INPUT otherwise: the caller then falls back to
 * a difference).  When the sample sizes are too small for the level, the
 * interval is the full range of the pairwise ratios.
 */
int stats_hodges_lehmann_ratio(const double *x, size_t m, const double *y, size_t n, double alpha,
			       double *ratio, double *lo, double *hi, struct err *err);

/* The same on the raw values (shift y - x), for metrics that may be <= 0. */
int stats_hodges_lehmann_shift(const double *x, size_t m, const double *y, size_t n, double alpha,
			       double *shift, double *lo, double *hi, struct err *err);

/*
 * Benjamini-Hochberg adjusted p-values, order-preserving (adjusted[i]
 * belongs to p[i]); by = true for Benjamini-Yekutieli (any dependence).
 * Reject H_i at level q exactly when adjusted[i] <= q.  p and adjusted may be
 * the same array.
 */
void stats_bh_adjust(const double *p, size_t n, bool by, double *adjusted);

/* 1.4826 * MAD of the logs of per-run medians (0 when n < 2 or a value <= 0). */
double stats_log_spread(const double *run_medians, size_t n);

/* Smallest one-sided p any rank test reaches with m and n samples: 1/C(m+n, m). */
double stats_mwu_p_min(size_t m, size_t n);

#endif
