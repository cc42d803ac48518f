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

/* The median of v (n >= 1) into *median, and 1.4826 x the median absolute
 * deviation from it: a robust standard deviation. */
double stats_median_mad(const double *v, size_t n, double *median);

/* 1.4826 x the median absolute deviation of v (on the scale it has: about
 * the standard deviation of normal data, unmoved by outliers); NAN when
 * n < 2. */
double stats_robust_sd(const double *v, size_t n);

/* Smallest one-sided p any rank test reaches with m and n samples: 1/C(m+n, m). */
double stats_mwu_p_min(size_t m, size_t n);

/* ---- Paired samples (interleaved A/B, or any pairs measured side by side) ---- */

struct wsr {
	double w;      /* W+: sum of the ranks of |d| over the positive differences */
	double p;      /* one-sided p-value of "the differences are centred above 0" */
	bool exact;    /* p from the exact null distribution (no ties, no zeros, n <= 52) */
	double p_min;  /* smallest p reachable: 2^-n', or under the normal approximation
			  the larger of that and its p at W+ = n'(n'+1)/2 */
	size_t n_used; /* nonzero differences (zeros are dropped: Wilcoxon's method) */
};

/*
 * Wilcoxon signed-rank test, one-sided, that the differences d (usually
 * per-pair log-ratios ln b_i - ln a_i) are centred above 0.  Zeros are
 * dropped; |d| ranked with ties averaged.  Exact when no ties, no zeros and
 * n <= 52 (every count of subsets with rank sum w is an exact integer in a
 * double: 2^52 < 2^53); else the normal approximation with the tie
 * correction sigma^2 = n(n+1)(2n+1)/24 - sum(t^3 - t)/48 and a continuity
 * correction, never below 2^-n (no sign pattern is rarer).  All d zero:
 * p = 1.  Returns 0, or ERR_INPUT when n is 0 or a value is not finite
 * (*out then holds p = 1).
 */
int stats_wilcoxon_signed_rank(const double *d, size_t n, struct wsr *out);

/* Pairs set aside by stats_far_pairs: none below this many nonzero pairs,
 * at most a quarter of them. */
#define STATS_FAR_MIN_PAIRS 8

/*
 * Pairs far from the rest by their size alone (a burst of other work
 * between a pair's two halves): |d_i| beyond M + 3 max(S, M/4), M the
 * median of the nonzero |d|, S 1.4826 x their median absolute deviation
 * from M; the largest first, at most a quarter of the pairs; none when
 * fewer than STATS_FAR_MIN_PAIRS are nonzero.  The rule reads no sign, so
 * a signed-rank test of the pairs left keeps its exact null distribution
 * (under "no change" the signs are fair coins whatever the sizes).  Marks
 * far[i] (n bools) and returns how many.
 */
size_t stats_far_pairs(const double *d, size_t n, bool *far);

struct wsr_far {
	struct wsr all;  /* the signed-rank test of every pair */
	struct wsr rest; /* ...and of the pairs not far (= all when none is) */
	size_t n_far;    /* pairs set aside for `rest` */
	double p;        /* one-sided p of min(all.p, rest.p) under the same sign flips */
	double p_min;    /* smallest p reachable */
	bool exact;      /* p from the exact joint distribution of both rank sums */
	bool by_rest;    /* rest.p < all.p: the pairs left decide */
};

/*
 * The signed-rank test twice, one-sided as stats_wilcoxon_signed_rank: on
 * every pair, and on the pairs left once those marked far are set aside;
 * the p of the smaller of the two p-values (min-p), so that taking the
 * better of the two costs no false alarms.  Exact from the joint
 * distribution of the two rank sums over the 2^n sign patterns when both
 * tests are exact and n <= 40; else 2 min(all.p, rest.p) (Bonferroni).  No
 * pair far (far NULL or none marked): exactly the test of every pair.
 * Returns 0, or ERR_INPUT as stats_wilcoxon_signed_rank.
 */
int stats_signed_rank_far(const double *d, size_t n, const bool *far, struct wsr_far *out);

/*
 * Hodges-Lehmann estimate of the centre of paired differences: the median
 * of the n(n+1)/2 Walsh averages (d_i + d_j)/2, i <= j, with its two-sided
 * 1 - alpha interval [w_(k), w_(M-k+1)], k the largest with P(W+ <= k - 1)
 * <= alpha/2 under the exact signed-rank distribution (n <= 52, ties
 * aside), else floor(M/2 - z sqrt(n(n+1)(2n+1)/24)), at least 1.  Samples
 * too small for the level (n = 5 at 95%) get the whole range.
 */
int stats_hodges_lehmann_paired(const double *d, size_t n, double alpha, double *est, double *lo,
				double *hi, struct err *err);

/* ---- Batch means (a load run's many requests as samples) ---- */

/* Lag-1 autocorrelation of v[0..n) in time order; 0 when n < 3 or constant. */
double stats_lag1_autocorrelation(const double *v, size_t n);

/*
 * Batch values from sub-window statistics in time order (STATISTICS.md,
 * "Batch means"): v[i] is the statistic of sub-window i (a percentile, a
 * rate) and w[i] its request count (NULL: equal weights).  Neighbouring
 * sub-windows are grouped until each group holds at least `min_weight`
 * requests (a percentile q needs n (1 - q) >= 10 exceedances), then pairs of
 * neighbouring groups are merged while the lag-1 autocorrelation of the B
 * group values is beyond +-`r_limit` (0.2) and beyond 2/sqrt(B) (what
 * independent values show by chance), and more than `min_batches` groups
 * would remain.  A group's value is the weighted mean of its sub-windows'
 * values.  Writes the batch values to out (room for n) and returns their
 * number, or 0 when fewer than min_batches groups can be formed or the
 * autocorrelation stays beyond the limit (the caller then keeps one sample
 * per repetition).  *r1 gets the final autocorrelation (may be NULL).
 */
size_t stats_batch_means(const double *v, const double *w, size_t n, double min_weight,
			 double r_limit, size_t min_batches, double *out, double *r1);

/* ---- The smallest change a comparison can catch ---- */

struct stats_mde_input {
	double s_between;  /* spread of run medians between runs (log scale, robust sd) */
	double s_within;   /* spread of one run's samples (log scale, robust sd) */
	size_t k_runs;     /* baseline runs (>= 1) */
	size_t n_base;     /* baseline samples, pooled */
	size_t n_cur;      /* current samples */
	double alpha;      /* one-sided level of the test after the family correction */
	double power;      /* 0.8 */
	double floor;      /* relative noise floor (0.05 = 5%) */
	bool paired;       /* paired test on n_cur differences: s_within is their spread */
};

/*
 * Minimum detectable effect as a relative change (0.06 = 6%): the change
 * the decision catches with probability `power` (docs/statistics.md).  A
 * change is a regression when the test is significant AND the estimate
 * reaches the floor.  The estimate is about normal around the true log
 * change with se^2 = s_b^2 (1 + 1/K) + s_w^2 (1/n + 1/N_b); the rank test
 * reaches alpha once the estimate passes z_(1-alpha) sigma_t, sigma_t =
 * s_w sqrt(pi/3 (1/n + 1/N_b)) (the rank test's efficiency against the
 * t-test on normal data is 3/pi); so
 *   MDE = max(ln(1 + floor), z_(1-alpha) sigma_t) + z_power se
 * on the log scale, returned as exp(MDE) - 1.  Paired: sigma_t = s_w
 * sqrt(pi/3 / n), se = s_w / sqrt(n).
 */
double stats_mde(const struct stats_mde_input *in);

/* Resamples behind stats_paired_power_spread, and the most pairs it takes
 * (its memory is 4 x RESAMPLES bytes a pair, its time about 30 ms per
 * 1,000 pairs). */
#define STATS_POWER_RESAMPLES 200
#define STATS_POWER_MAX_PAIRS 5000

/*
 * The spread of paired differences d (log ratios) as the signed-rank test
 * feels it, for stats_mde: the s at which the paired formula's shift
 * without a floor, (t_(1-alpha) sqrt(pi/3) + t_power) s / sqrt(n), equals
 * the shift that the one-sided test at alpha detects with probability
 * `power` in pairs like these: d centred on its median, resampled with
 * replacement (STATS_POWER_RESAMPLES draws of n, a fixed seed, the same
 * draws for every shift), plus the shift, found by bisection.  On normal
 * differences it is about their standard deviation; a few pairs that a
 * burst of other work split (heavy tails, which a robust spread ignores
 * and the test does not) raise it.  0 when d has no spread; NAN when
 * n < 2, n > STATS_POWER_MAX_PAIRS or no shift reaches alpha.
 */
double stats_paired_power_spread(const double *d, size_t n, double alpha, double power);

#endif
