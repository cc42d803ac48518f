/*
 * stats.c: Mann-Whitney U, Hodges-Lehmann, Benjamini-Hochberg and the
 * robust spread of run medians (STATISTICS.md).
 */
#include "stats.h"

#include <math.h>
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_cdf.h>

#include "summary.h"
#include "util.h"

/* Below this, C(N, m) and every coefficient of the q-binomial are exact
 * integers in a double, so the exact null distribution carries no rounding. */
#define EXACT_LIMIT 9007199254740992.0 /* 2^53 */
/* ...and the count array (mn + 1 doubles) stays under 80 MB.  Only lopsided
 * samples reach this (C(N, m) < 2^53 already means m <= 26 when balanced),
 * and those are where the normal tail is worst (2 vs 600,000, every new
 * value above: exact p 5.6e-12, normal 0.007), so the limit is generous. */
#define EXACT_MAX_PAIRS 10000000

static int exact_ok(size_t m, size_t n, double c)
{
	return c < EXACT_LIMIT && (double)m * (double)n <= EXACT_MAX_PAIRS;
}

/* C(N, m) as a double: exact while it stays below 2^53 (each partial product
 * C(N-m+i, i) is an integer, rounded back after the division), inf for huge N. */
static double binom(size_t big_n, size_t m)
{
	double c = 1;

	if (m > big_n - m)
		m = big_n - m;
	for (size_t i = 1; i <= m; i++) {
		c = c * (double)(big_n - m + i) / (double)i;
		if (c < EXACT_LIMIT)
			c = nearbyint(c);
	}
	return c;
}

double stats_mwu_p_min(size_t m, size_t n)
{
	if (m == 0 || n == 0)
		return 1;
	return 1 / binom(m + n, m);
}

/*
 * Counts of arrangements with U = u, u = 0..mn: the coefficients of the
 * Gaussian binomial [m+n choose m]_q, built as the product over i = 1..m of
 * (1 - q^(n+i)) / (1 - q^i).  After step i the array holds [n+i choose i]_q,
 * a polynomial with non-negative integer coefficients, so with C(N, m) < 2^53
 * every intermediate value is an exact integer.  Caller frees.
 */
static double *mwu_counts(size_t m, size_t n)
{
	size_t mn = m * n;
	double *c = xcalloc(mn + 1, sizeof(*c));

	c[0] = 1;
	for (size_t i = 1; i <= m; i++) {
		size_t step = n + i;
		/* deg of [n+i choose i]_q is i*n; multiply then divide stays within it */
		for (size_t u = i * n; u >= step; u--)
			c[u] -= c[u - step];
		for (size_t u = i; u <= i * n; u++)
			c[u] += c[u - i];
	}
	return c;
}

struct ranked {
	double v;
	int from_y;
};

static int cmp_ranked(const void *a, const void *b)
{
	double x = ((const struct ranked *)a)->v, y = ((const struct ranked *)b)->v;
	return (x > y) - (x < y);
}

/*
 * Rank the pooled sample (ties averaged).  Returns R_y (sum of y's ranks) and
 * T = sum over tie groups of t^3 - t.
 */
static void rank_pooled(const double *x, size_t m, const double *y, size_t n, double *r_y,
			double *ties)
{
	size_t big_n = m + n;
	struct ranked *all = xmalloc(big_n * sizeof(*all));
	double ry = 0, t = 0;

	for (size_t i = 0; i < m; i++)
		all[i] = (struct ranked){ x[i], 0 };
	for (size_t j = 0; j < n; j++)
		all[m + j] = (struct ranked){ y[j], 1 };
	qsort(all, big_n, sizeof(*all), cmp_ranked);
	for (size_t i = 0; i < big_n;) {
		size_t k = i;
		size_t from_y = 0;
		double avg;

		while (k < big_n && all[k].v == all[i].v)
			k++;
		/* ranks i+1 .. k share their average */
		avg = ((double)(i + 1) + (double)k) / 2;
		for (size_t j = i; j < k; j++)
			from_y += (size_t)all[j].from_y;
		ry += avg * (double)from_y;
		if (k - i > 1) {
			double g = (double)(k - i);
			t += g * g * g - g;
		}
		i = k;
	}
	free(all);
	*r_y = ry;
	*ties = t;
}

static int all_finite(const double *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!isfinite(v[i]))
			return 0;
	return 1;
}

int stats_mann_whitney(const double *x, size_t m, const double *y, size_t n, struct mwu *out)
{
	double r_y, ties, mn, big_n, mu, var, sigma;

	memset(out, 0, sizeof(*out));
	out->p = 1;
	out->p_min = 1;
	if (m == 0 || n == 0 || !all_finite(x, m) || !all_finite(y, n))
		return ERR_INPUT;
	rank_pooled(x, m, y, n, &r_y, &ties);
	mn = (double)m * (double)n;
	big_n = (double)(m + n);
	out->u = r_y - (double)n * ((double)n + 1) / 2;
	out->p_min = stats_mwu_p_min(m, n);

	if (ties == 0 && exact_ok(m, n, binom(m + n, m))) {
		/* U is an integer here; P(U >= u) from the exact counts.  The
		 * distribution is symmetric in m and n, so build it with the
		 * smaller one outermost (fewer passes). */
		size_t a = m < n ? m : n, b = m < n ? n : m;
		double *c = mwu_counts(a, b);
		size_t u = (size_t)out->u, top = a * b;
		double tail = 0, total = binom(m + n, m);

		for (size_t v = u; v <= top; v++)
			tail += c[v];
		free(c);
		out->p = tail / total;
		out->exact = true;
		return 0;
	}
	mu = mn / 2;
	var = mn / 12 * ((big_n + 1) - ties / (big_n * (big_n - 1)));
	if (var <= 0) {
		/* every value equal: no evidence either way (p_min stays what
		 * these sample sizes could reach had the values differed) */
		out->p = 1;
		return 0;
	}
	sigma = sqrt(var);
	out->p = gsl_cdf_ugaussian_Q((out->u - mu - 0.5) / sigma);
	/* No arrangement of the ranks is rarer than 1 in C(N, m), so neither is
	 * any p a permutation test can give; the normal tail can undershoot it
	 * when heavy ties shrink sigma (6 x 100 vs 6 x 101: 0.00063 < 1/924). */
	out->p = fmin(1, fmax(out->p, out->p_min));
	out->p_min = fmax(out->p_min, gsl_cdf_ugaussian_Q((mn - mu - 0.5) / sigma));
	return 0;
}

/*
 * k (1-based) for the two-sided 1 - alpha interval of the HL shift: the
 * largest k with P(U <= k - 1) <= alpha/2 (exact), or the normal formula.
 * Returns 0 when no k >= 1 qualifies (samples too small for the level).
 */
static size_t hl_k(size_t m, size_t n, double alpha)
{
	double mn = (double)m * (double)n;

	if (exact_ok(m, n, binom(m + n, m))) {
		size_t a = m < n ? m : n, b = m < n ? n : m;
		double *c = mwu_counts(a, b);
		double total = binom(m + n, m), cum = 0;
		size_t k = 0;

		for (size_t u = 0; u <= a * b; u++) {
			cum += c[u];
			if (cum / total <= alpha / 2)
				k = u + 1;
			else
				break;
		}
		free(c);
		return k;
	} else {
		double z = gsl_cdf_ugaussian_Pinv(1 - alpha / 2);
		double kk = floor(mn / 2 - z * sqrt(mn * ((double)(m + n) + 1) / 12));
		return kk < 1 ? 1 : (size_t)kk;
	}
}

/* Above this many pairs the differences are not materialised (memory
 * 8 mn bytes): order statistics come from selection instead (below). */
#define HL_SORT_LIMIT 1000000

/* Doubles mapped to unsigned integers in the same order, so a bisection
 * over the integers ends on adjacent doubles in at most 64 steps. */
static uint64_t dkey(double v)
{
	uint64_t b;
	memcpy(&b, &v, sizeof(b));
	return (b >> 63) ? ~b : b | (1ULL << 63);
}

static double dval(uint64_t k)
{
	uint64_t b = (k >> 63) ? k & ~(1ULL << 63) : ~k;
	double v;
	memcpy(&v, &b, sizeof(v));
	return v;
}

/* Number of pairs with ys[j] - xs[i] <= t (both sorted ascending), O(m + n):
 * the computed difference is monotone in i and j, so the boundary j moves
 * one way only. */
static size_t count_le(const double *xs, size_t m, const double *ys, size_t n, double t)
{
	size_t c = 0, j = 0;

	for (size_t i = 0; i < m; i++) {
		/* xs[i] ascending: ys[j] - xs[i] shrinks, so the boundary j only grows */
		while (j < n && ys[j] - xs[i] <= t)
			j++;
		c += j;
	}
	return c;
}

/* The k-th smallest (1-based) of the mn differences ys[j] - xs[i], exactly
 * the value a sort would give, without storing them. */
static double kth_diff(const double *xs, size_t m, const double *ys, size_t n, size_t k)
{
	uint64_t lo = dkey(ys[0] - xs[m - 1]) - 1, hi = dkey(ys[n - 1] - xs[0]);

	/* invariant: count(lo) < k <= count(hi) */
	while (hi - lo > 1) {
		uint64_t mid = lo + (hi - lo) / 2;
		if (count_le(xs, m, ys, n, dval(mid)) >= k)
			hi = mid;
		else
			lo = mid;
	}
	return dval(hi);
}

/* The k-th smallest (0-based) of a[0 .. n), n > 0, moved to a[k], with
 * nothing larger before it and nothing smaller after it (Hoare's FIND, as
 * Wirth writes it): on average O(n), where a sort is O(n log n).  An input
 * that keeps handing it bad pivots gets the sort for what is left after
 * 2 log2(n) + 8 rounds, so it is never worse than O(n log n). */
static double select_kth(double *a, size_t n, size_t k)
{
	ptrdiff_t l = 0, r = (ptrdiff_t)n - 1, kk = (ptrdiff_t)k;
	size_t rounds = 8;

	for (size_t m = n; m > 1; m >>= 1)
		rounds += 2;
	while (l < r) {
		double pivot = a[kk], t;
		ptrdiff_t i = l, j = r;

		if (rounds-- == 0) {
			qsort(a + l, (size_t)(r - l + 1), sizeof(*a), summary_cmp_double);
			break;
		}

		do {
			while (a[i] < pivot)
				i++;
			while (pivot < a[j])
				j--;
			if (i <= j) {
				t = a[i];
				a[i] = a[j];
				a[j] = t;
				i++;
				j--;
			}
		} while (i <= j);
		if (j < kk)
			l = i;
		if (kk < i)
			r = j;
	}
	return a[kk];
}

/* The 0-based order statistics lo <= mid <= hi of d[0 .. n) and the
 * median, as a sort would give them, by selection: d[mid] first, which
 * leaves the mid smallest before it and the rest after, then lo among
 * those before and hi among those after. */
static void order_stats(double *d, size_t n, size_t lo, size_t hi, double *median, double *vlo, double *vhi)
{
	size_t mid = (n - 1) / 2;
	double m = select_kth(d, n, mid), next = m;

	if (n % 2 == 0) { /* the median is the mean of d[mid] and the smallest after it */
		next = d[mid + 1];
		for (size_t i = mid + 2; i < n; i++)
			if (d[i] < next)
				next = d[i];
	}
	*median = n % 2 ? m : (m + next) / 2;
	*vlo = lo < mid ? select_kth(d, mid, lo) : m;
	*vhi = hi > mid ? select_kth(d + mid + 1, n - mid - 1, hi - mid - 1) : m;
}

/* HL estimate (median of the pairwise differences y_j - x_i) and the CI. */
static int hl_core(const double *x, size_t m, const double *y, size_t n, double alpha, double *est,
		   double *lo, double *hi)
{
	size_t mn = m * n, k = hl_k(m, n, alpha);
	size_t klo, khi;

	if (k == 0 || k > (mn + 1) / 2) {
		klo = 1;
		khi = mn;
	} else {
		klo = k;
		khi = mn - k + 1;
	}
	if (mn <= HL_SORT_LIMIT) {
		double *d = xmalloc(mn * sizeof(*d));

		for (size_t i = 0; i < m; i++)
			for (size_t j = 0; j < n; j++)
				d[i * n + j] = y[j] - x[i];
		order_stats(d, mn, klo - 1, khi - 1, est, lo, hi);
		free(d);
	} else {
		double *xs = xmalloc(m * sizeof(*xs)), *ys = xmalloc(n * sizeof(*ys));

		memcpy(xs, x, m * sizeof(*xs));
		memcpy(ys, y, n * sizeof(*ys));
		qsort(xs, m, sizeof(*xs), summary_cmp_double);
		qsort(ys, n, sizeof(*ys), summary_cmp_double);
		if (mn % 2)
			*est = kth_diff(xs, m, ys, n, (mn + 1) / 2);
		else
			*est = (kth_diff(xs, m, ys, n, mn / 2) + kth_diff(xs, m, ys, n, mn / 2 + 1)) / 2;
		*lo = kth_diff(xs, m, ys, n, klo);
		*hi = kth_diff(xs, m, ys, n, khi);
		free(xs);
		free(ys);
	}
	return 0;
}

int stats_hodges_lehmann_shift(const double *x, size_t m, const double *y, size_t n, double alpha,
			       double *shift, double *lo, double *hi, struct err *err)
{
	*shift = *lo = *hi = NAN;
	if (m == 0 || n == 0)
		return err_set(err, ERR_INPUT, "Hodges-Lehmann needs at least one value on each side");
	if (!all_finite(x, m) || !all_finite(y, n))
		return err_set(err, ERR_INPUT, "Hodges-Lehmann needs finite values");
	if (!(alpha > 0 && alpha < 1))
		return err_set(err, ERR_INPUT, "confidence level alpha %g is not in (0, 1)", alpha);
	return hl_core(x, m, y, n, alpha, shift, lo, hi);
}

int stats_hodges_lehmann_ratio(const double *x, size_t m, const double *y, size_t n, double alpha,
			       double *ratio, double *lo, double *hi, struct err *err)
{
	double *lx = NULL, *ly = NULL, e, l, h;
	int rc = 0;

	*ratio = *lo = *hi = NAN;
	if (m == 0 || n == 0)
		return err_set(err, ERR_INPUT, "Hodges-Lehmann needs at least one value on each side");
	if (!(alpha > 0 && alpha < 1))
		return err_set(err, ERR_INPUT, "confidence level alpha %g is not in (0, 1)", alpha);
	lx = xmalloc(m * sizeof(*lx));
	ly = xmalloc(n * sizeof(*ly));
	for (size_t i = 0; i < m; i++) {
		if (!(x[i] > 0) || !isfinite(x[i])) {
			rc = err_set(err, ERR_INPUT, "a ratio needs values > 0, got %g", x[i]);
			goto done;
		}
		lx[i] = log(x[i]);
	}
	for (size_t j = 0; j < n; j++) {
		if (!(y[j] > 0) || !isfinite(y[j])) {
			rc = err_set(err, ERR_INPUT, "a ratio needs values > 0, got %g", y[j]);
			goto done;
		}
		ly[j] = log(y[j]);
	}
	hl_core(lx, m, ly, n, alpha, &e, &l, &h);
	*ratio = exp(e);
	*lo = exp(l);
	*hi = exp(h);
done:
	free(lx);
	free(ly);
	return rc;
}

struct idx_p {
	double p;
	size_t i;
};

static int cmp_idx_p(const void *a, const void *b)
{
	const struct idx_p *x = a, *y = b;
	if (x->p != y->p)
		return (x->p > y->p) - (x->p < y->p);
	return (x->i > y->i) - (x->i < y->i);
}

void stats_bh_adjust(const double *p, size_t n, bool by, double *adjusted)
{
	struct idx_p *s;
	double c = 1, run = 1;

	if (n == 0)
		return;
	s = xmalloc(n * sizeof(*s));
	for (size_t i = 0; i < n; i++)
		s[i] = (struct idx_p){ isnan(p[i]) ? 1 : p[i], i };
	qsort(s, n, sizeof(*s), cmp_idx_p);
	if (by)
		for (size_t i = 2; i <= n; i++)
			c += 1.0 / (double)i;
	/* adjusted p_(i) = min over j >= i of min(1, c M p_(j) / j) */
	for (size_t r = n; r-- > 0;) {
		double a = c * (double)n * s[r].p / (double)(r + 1);
		if (a < run)
			run = a;
		adjusted[s[r].i] = run;
	}
	free(s);
}

double stats_median_mad(const double *v, size_t n, double *median)
{
	double *s = xmalloc(n * sizeof(*s)), med, mad;

	memcpy(s, v, n * sizeof(*s));
	qsort(s, n, sizeof(*s), summary_cmp_double);
	med = summary_median_sorted(s, n);
	for (size_t i = 0; i < n; i++)
		s[i] = fabs(v[i] - med);
	qsort(s, n, sizeof(*s), summary_cmp_double);
	mad = 1.4826 * summary_median_sorted(s, n);
	free(s);
	*median = med;
	return mad;
}

double stats_robust_sd(const double *v, size_t n)
{
	double med;

	return n < 2 ? NAN : stats_median_mad(v, n, &med);
}

double stats_log_spread(const double *run_medians, size_t n)
{
	double *l, sd;

	if (n < 2)
		return 0;
	l = xmalloc(n * sizeof(*l));
	for (size_t i = 0; i < n; i++) {
		if (!(run_medians[i] > 0) || !isfinite(run_medians[i])) {
			free(l);
			return 0;
		}
		l[i] = log(run_medians[i]);
	}
	sd = stats_robust_sd(l, n);
	free(l);
	return sd;
}

/* ---- Wilcoxon signed-rank ---- */

/* Up to here 2^n < 2^53: every subset count is an exact integer. */
#define WSR_EXACT_MAX 52

/*
 * Counts of sign patterns with W+ = w, w = 0..n(n+1)/2: the coefficients of
 * prod_{k=1..n} (1 + q^k).  Caller frees.
 */
static double *wsr_counts(size_t n)
{
	size_t top = n * (n + 1) / 2;
	double *c = xcalloc(top + 1, sizeof(*c));

	c[0] = 1;
	for (size_t k = 1; k <= n; k++)
		for (size_t w = k * (k + 1) / 2; w >= k; w--)
			c[w] += c[w - k];
	return c;
}

struct absrank {
	double a;
	int pos;
};

static int cmp_absrank(const void *a, const void *b)
{
	double x = ((const struct absrank *)a)->a, y = ((const struct absrank *)b)->a;
	return (x > y) - (x < y);
}

int stats_wilcoxon_signed_rank(const double *d, size_t n, struct wsr *out)
{
	struct absrank *r;
	size_t k = 0;
	double w = 0, ties = 0, nn, mu, var, sigma;

	memset(out, 0, sizeof(*out));
	out->p = out->p_min = 1;
	if (n == 0 || !all_finite(d, n))
		return ERR_INPUT;
	r = xmalloc(n * sizeof(*r));
	for (size_t i = 0; i < n; i++)
		if (d[i] != 0)
			r[k++] = (struct absrank){ fabs(d[i]), d[i] > 0 };
	out->n_used = k;
	if (k == 0) {
		free(r);
		return 0;
	}
	qsort(r, k, sizeof(*r), cmp_absrank);
	for (size_t i = 0; i < k;) {
		size_t j = i, pos = 0;

		while (j < k && r[j].a == r[i].a)
			j++;
		for (size_t t = i; t < j; t++)
			pos += (size_t)r[t].pos;
		/* ranks i+1 .. j share their average */
		w += ((double)(i + 1) + (double)j) / 2 * (double)pos;
		if (j - i > 1) {
			double g = (double)(j - i);
			ties += g * g * g - g;
		}
		i = j;
	}
	free(r);
	out->w = w;
	out->p_min = ldexp(1, -(int)(k < 1074 ? k : 1074));
	if (ties == 0 && k == n && k <= WSR_EXACT_MAX) {
		double *c = wsr_counts(k), tail = 0;
		size_t top = k * (k + 1) / 2;

		for (size_t v = (size_t)w; v <= top; v++)
			tail += c[v];
		free(c);
		out->p = ldexp(tail, -(int)k);
		out->exact = true;
		return 0;
	}
	nn = (double)k;
	mu = nn * (nn + 1) / 4;
	var = nn * (nn + 1) * (2 * nn + 1) / 24 - ties / 48;
	if (var <= 0) {
		out->p = 1;
		return 0;
	}
	sigma = sqrt(var);
	/* Never below the rarest sign pattern, as for the rank-sum test. */
	out->p = fmin(1, fmax(gsl_cdf_ugaussian_Q((w - mu - 0.5) / sigma), out->p_min));
	out->p_min = fmax(out->p_min, gsl_cdf_ugaussian_Q((nn * (nn + 1) / 2 - mu - 0.5) / sigma));
	return 0;
}

size_t stats_far_pairs(const double *d, size_t n, bool *far)
{
	double *m, med, mad, limit;
	size_t k = 0, n_far = 0, cap;

	memset(far, 0, n * sizeof(*far));
	m = xmalloc((n ? n : 1) * sizeof(*m));
	for (size_t i = 0; i < n; i++)
		if (d[i] != 0 && isfinite(d[i]))
			m[k++] = fabs(d[i]);
	if (k < STATS_FAR_MIN_PAIRS) {
		free(m);
		return 0;
	}
	mad = stats_median_mad(m, k, &med);
	free(m);
	limit = med + 3 * fmax(mad, med / 4);
	cap = k / 4;
	/* the largest first, up to the cap: n is small, so pick by rescanning */
	while (n_far < cap) {
		size_t top = n;

		for (size_t i = 0; i < n; i++)
			if (!far[i] && isfinite(d[i]) && fabs(d[i]) > limit && (top == n || fabs(d[i]) > fabs(d[top])))
				top = i;
		if (top == n)
			break;
		far[top] = true;
		n_far++;
	}
	return n_far;
}

/* Up to here the joint table of both rank sums stays under 6 MB. */
#define WSR_JOINT_MAX 40

/* Integer ranks 1..k of |d_i| over the pairs not skipped (no ties, no
 * zeros: the exact case); 0 for the skipped. */
static void abs_ranks(const double *d, size_t n, const bool *skip, unsigned *rank)
{
	struct absrank *r = xmalloc(n * sizeof(*r));
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		rank[i] = 0;
		if (!skip || !skip[i])
			r[k++] = (struct absrank){ fabs(d[i]), (int)i };
	}
	qsort(r, k, sizeof(*r), cmp_absrank);
	for (size_t j = 0; j < k; j++)
		rank[r[j].pos] = (unsigned)(j + 1);
	free(r);
}

/* The smallest rank sum whose upper tail (n pairs, exact) is <= p. */
static size_t tail_at_most(size_t n, double p)
{
	double *c = wsr_counts(n), tail = 0;
	size_t top = n * (n + 1) / 2, w = top + 1;

	while (w > 0 && ldexp(tail + c[w - 1], -(int)n) <= p) {
		tail += c[w - 1];
		w--;
	}
	free(c);
	return w;
}

/*
 * P(all.p <= pm or rest.p <= pm) under random signs: 1 - P(W_all < a,
 * W_rest < b), a and b the rank sums where each tail reaches pm.  A table
 * of the sign patterns' counts by (W_all, W_rest), both below their
 * thresholds (a pattern past either is extreme for good: sums only grow).
 */
static double joint_min_p(const double *d, size_t n, const bool *far, size_t n_rest, double pm)
{
	unsigned *r1 = xmalloc(n * sizeof(*r1)), *r2 = xmalloc(n * sizeof(*r2));
	size_t a = tail_at_most(n, pm), b = tail_at_most(n_rest, pm);
	double *t = xcalloc(a * b, sizeof(*t)), inside = 0;

	abs_ranks(d, n, NULL, r1);
	abs_ranks(d, n, far, r2);
	t[0] = 1;
	for (size_t i = 0; i < n; i++)
		for (size_t x = a; x-- > r1[i];)
			for (size_t y = b; y-- > r2[i];)
				t[x * b + y] += t[(x - r1[i]) * b + (y - r2[i])];
	for (size_t j = 0; j < a * b; j++)
		inside += t[j];
	free(t);
	free(r1);
	free(r2);
	/* both counts are exact integers below 2^53 */
	return ldexp(ldexp(1, (int)n) - inside, -(int)n);
}

int stats_signed_rank_far(const double *d, size_t n, const bool *far, struct wsr_far *out)
{
	double *rest;
	size_t k = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	out->p = out->p_min = 1;
	rc = stats_wilcoxon_signed_rank(d, n, &out->all);
	out->rest = out->all;
	out->p = out->all.p;
	out->p_min = out->all.p_min;
	out->exact = out->all.exact;
	if (rc != 0 || !far)
		return rc;
	rest = xmalloc(n * sizeof(*rest));
	for (size_t i = 0; i < n; i++)
		if (!far[i])
			rest[k++] = d[i];
	out->n_far = n - k;
	if (out->n_far == 0 || k == 0) {
		out->n_far = 0;
		free(rest);
		return 0;
	}
	stats_wilcoxon_signed_rank(rest, k, &out->rest);
	free(rest);
	out->by_rest = out->rest.p < out->all.p;
	if (out->all.exact && out->rest.exact && n <= WSR_JOINT_MAX) {
		/* p_min stays every pair's 2^-n: all signs positive is the
		 * rarest pattern for both tests */
		out->p = joint_min_p(d, n, far, k, fmin(out->all.p, out->rest.p));
		out->exact = true;
	} else {
		out->p = fmin(1, 2 * fmin(out->all.p, out->rest.p));
		out->p_min = fmin(1, 2 * fmin(out->all.p_min, out->rest.p_min));
		out->exact = false;
	}
	return 0;
}

/* k (1-based) of the paired HL interval; 0 when no k >= 1 qualifies. */
static size_t wsr_k(size_t n, double alpha)
{
	if (n <= WSR_EXACT_MAX) {
		double *c = wsr_counts(n), cum = 0;
		size_t k = 0, top = n * (n + 1) / 2;

		for (size_t w = 0; w <= top; w++) {
			cum += c[w];
			if (ldexp(cum, -(int)n) <= alpha / 2)
				k = w + 1;
			else
				break;
		}
		free(c);
		return k;
	} else {
		double nn = (double)n, m = nn * (nn + 1) / 2;
		double z = gsl_cdf_ugaussian_Pinv(1 - alpha / 2);
		double kk = floor(m / 2 - z * sqrt(nn * (nn + 1) * (2 * nn + 1) / 24));
		return kk < 1 ? 1 : (size_t)kk;
	}
}

/* Walsh averages (s_i + s_j)/2 <= t, i <= j, of sorted s: O(n) two pointers. */
static size_t count_walsh_le(const double *s, size_t n, double t)
{
	size_t c = 0, j = n;

	for (size_t i = 0; i < n; i++) {
		/* largest j >= i with (s_i + s_j)/2 <= t; shrinks as i grows */
		while (j > i && (s[i] + s[j - 1]) / 2 > t)
			j--;
		if (j <= i)
			break;
		c += j - i;
	}
	return c;
}

/* k-th smallest (1-based) Walsh average of sorted s, by bisection over the doubles. */
static double kth_walsh(const double *s, size_t n, size_t k)
{
	uint64_t lo = dkey(s[0]) - 1, hi = dkey(s[n - 1]);

	while (hi - lo > 1) {
		uint64_t mid = lo + (hi - lo) / 2;
		if (count_walsh_le(s, n, dval(mid)) >= k)
			hi = mid;
		else
			lo = mid;
	}
	return dval(hi);
}

int stats_hodges_lehmann_paired(const double *d, size_t n, double alpha, double *est, double *lo,
				double *hi, struct err *err)
{
	double *s;
	size_t m, k, klo, khi;

	*est = *lo = *hi = NAN;
	if (n == 0)
		return err_set(err, ERR_INPUT, "Hodges-Lehmann needs at least one difference");
	if (!all_finite(d, n))
		return err_set(err, ERR_INPUT, "Hodges-Lehmann needs finite values");
	if (!(alpha > 0 && alpha < 1))
		return err_set(err, ERR_INPUT, "confidence level alpha %g is not in (0, 1)", alpha);
	s = xmalloc(n * sizeof(*s));
	memcpy(s, d, n * sizeof(*s));
	qsort(s, n, sizeof(*s), summary_cmp_double);
	m = n * (n + 1) / 2;
	k = wsr_k(n, alpha);
	if (k == 0 || k > (m + 1) / 2) {
		klo = 1;
		khi = m;
	} else {
		klo = k;
		khi = m - k + 1;
	}
	if (m % 2)
		*est = kth_walsh(s, n, (m + 1) / 2);
	else
		*est = (kth_walsh(s, n, m / 2) + kth_walsh(s, n, m / 2 + 1)) / 2;
	*lo = kth_walsh(s, n, klo);
	*hi = kth_walsh(s, n, khi);
	free(s);
	return 0;
}

/* ---- Batch means ---- */

double stats_lag1_autocorrelation(const double *v, size_t n)
{
	double mean = 0, num = 0, den = 0;

	if (n < 3)
		return 0;
	for (size_t i = 0; i < n; i++)
		mean += v[i];
	mean /= (double)n;
	for (size_t i = 0; i < n; i++)
		den += (v[i] - mean) * (v[i] - mean);
	for (size_t i = 0; i + 1 < n; i++)
		num += (v[i] - mean) * (v[i + 1] - mean);
	return den > 0 ? num / den : 0;
}

/* Merge neighbouring groups pairwise, in place; an odd last group joins the
 * pair before it.  Returns the new number of groups. */
static size_t merge_pairs(double *val, double *wt, size_t g)
{
	size_t h = 0;

	for (size_t i = 0; i < g; i += 2) {
		size_t end = i + 2 <= g ? i + 2 : g; /* exclusive */
		double sw = 0, sv = 0;

		if (g - end == 1)
			end = g;
		for (size_t j = i; j < end; j++) {
			sw += wt[j];
			sv += wt[j] * val[j];
		}
		val[h] = sw > 0 ? sv / sw : val[i];
		wt[h] = sw;
		h++;
		if (end == g)
			break;
	}
	return h;
}

size_t stats_batch_means(const double *v, const double *w, size_t n, double min_weight,
			 double r_limit, size_t min_batches, double *out, double *r1)
{
	double *wt = xmalloc((n ? n : 1) * sizeof(*wt));
	size_t g = 0, res = 0;
	double r = 0;

	if (r1)
		*r1 = 0;
	/* 1. group sub-windows until each holds min_weight requests */
	for (size_t i = 0; i < n;) {
		double sw = 0, sv = 0;
		size_t j = i;

		while (j < n && (sw < min_weight || j == i)) {
			double wj = w ? w[j] : 1;
			sw += wj;
			sv += wj * v[j];
			j++;
		}
		if (sw < min_weight && g > 0) {
			/* a short tail joins the group before it */
			double tw = wt[g - 1] + sw;
			out[g - 1] = tw > 0 ? (wt[g - 1] * out[g - 1] + sv) / tw : out[g - 1];
			wt[g - 1] = tw;
		} else {
			out[g] = sw > 0 ? sv / sw : v[i];
			wt[g] = sw;
			g++;
		}
		i = j;
	}
	if (g < min_batches || (g == 1 && wt[0] < min_weight))
		goto done;
	/* 2. merge neighbours while the batch values are autocorrelated: |r1|
	 * beyond r_limit and beyond its own noise (independent batches give r1
	 * about N(-1/B, 1/B), so 2/sqrt(B) is what ten batches show by chance) */
	r = stats_lag1_autocorrelation(out, g);
	while (fabs(r) >= fmax(r_limit, 2 / sqrt((double)g))) {
		size_t h;

		if (g / 2 < min_batches)
			goto done;
		h = merge_pairs(out, wt, g);
		g = h;
		r = stats_lag1_autocorrelation(out, g);
	}
	res = g;
done:
	if (r1)
		*r1 = r;
	free(wt);
	return res;
}

/* ---- Minimum detectable effect ---- */

/* splitmix64: a fixed, portable sequence for the resamples. */
static uint64_t splitmix64(uint64_t *s)
{
	uint64_t z = (*s += 0x9e3779b97f4a7c15ull);

	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
	return z ^ (z >> 31);
}

/* The resampling behind stats_paired_power_spread: residuals e (n), the
 * draws (draws x n indices into e), and room for one shift's work. */
struct power_draws {
	const double *e;
	size_t n, draws;
	const uint32_t *idx;
	struct absrank *sorted; /* |e_j + delta| and its sign, for each j */
	size_t *of;             /* the j in order of |e_j + delta| */
	unsigned *count;        /* copies of e_j in the draw */
	double *x;
};

static int cmp_of(const void *a, const void *b, void *arg)
{
	const struct absrank *s = arg;
	double x = s[*(const size_t *)a].a, y = s[*(const size_t *)b].a;

	return (x > y) - (x < y);
}

/*
 * Share of the draws that the one-sided signed-rank test finds significant
 * at alpha once shifted by delta.  A draw repeats residuals, so its ranks
 * come from the copies of each: one sort per shift and O(n) per draw, the
 * normal approximation with its tie correction and the 2^-n bound, as
 * stats_wilcoxon_signed_rank has it (which decides a draw without ties,
 * where it would use the exact distribution).
 */
static double resampled_power(struct power_draws *pd, double delta, double alpha)
{
	size_t n = pd->n, hits = 0;
	double zc = gsl_cdf_ugaussian_Pinv(1 - alpha);

	for (size_t j = 0; j < n; j++) {
		double v = pd->e[j] + delta;

		pd->sorted[j] = (struct absrank){ fabs(v), v > 0 };
		pd->of[j] = j;
	}
	qsort_r(pd->of, n, sizeof(*pd->of), cmp_of, pd->sorted);
	for (size_t b = 0; b < pd->draws; b++) {
		const uint32_t *ix = pd->idx + b * n;
		double w = 0, ties = 0, k = 0, mu, var;

		memset(pd->count, 0, n * sizeof(*pd->count));
		for (size_t i = 0; i < n; i++)
			pd->count[ix[i]]++;
		for (size_t g = 0; g < n;) {
			size_t h = g;
			double copies = 0, pos = 0;

			/* a group of equal |values|: their copies share a rank */
			while (h < n && pd->sorted[pd->of[h]].a == pd->sorted[pd->of[g]].a) {
				copies += pd->count[pd->of[h]];
				pos += pd->sorted[pd->of[h]].pos ? pd->count[pd->of[h]] : 0;
				h++;
			}
			if (pd->sorted[pd->of[g]].a > 0 && copies > 0) {
				w += (2 * k + copies + 1) / 2 * pos;
				ties += copies * copies * copies - copies;
				k += copies;
			}
			g = h;
		}
		if (ties == 0 && k == (double)n && n <= WSR_EXACT_MAX) {
			struct wsr r;

			for (size_t i = 0; i < n; i++)
				pd->x[i] = pd->e[ix[i]] + delta;
			hits += stats_wilcoxon_signed_rank(pd->x, n, &r) == 0 && r.p <= alpha;
			continue;
		}
		mu = k * (k + 1) / 4;
		var = k * (k + 1) * (2 * k + 1) / 24 - ties / 48;
		if (k > 0 && var > 0 && ldexp(1, -(int)fmin(k, 1074)) <= alpha && (w - mu - 0.5) / sqrt(var) >= zc)
			hits++;
	}
	return (double)hits / (double)pd->draws;
}

double stats_paired_power_spread(const double *d, size_t n, double alpha, double power)
{
	struct power_draws pd = { .n = n, .draws = STATS_POWER_RESAMPLES };
	double *e, med, top = 0, lo = 0, hi, z, res = NAN;
	uint32_t *idx;
	uint64_t seed = 0x5eed;

	if (n < 2 || n > STATS_POWER_MAX_PAIRS || !all_finite(d, n) || !(alpha > 0 && alpha < 1) ||
	    !(power > 0 && power < 1))
		return NAN;
	e = xmalloc(n * sizeof(*e));
	memcpy(e, d, n * sizeof(*e));
	qsort(e, n, sizeof(*e), summary_cmp_double);
	med = summary_median_sorted(e, n);
	for (size_t i = 0; i < n; i++) {
		e[i] = d[i] - med;
		top = fmax(top, fabs(e[i]));
	}
	if (top == 0) {
		free(e);
		return 0;
	}
	idx = xmalloc(pd.draws * n * sizeof(*idx));
	for (size_t i = 0; i < pd.draws * n; i++)
		idx[i] = (uint32_t)(splitmix64(&seed) % n);
	pd.e = e;
	pd.idx = idx;
	pd.sorted = xmalloc(n * sizeof(*pd.sorted));
	pd.of = xmalloc(n * sizeof(*pd.of));
	pd.count = xmalloc(n * sizeof(*pd.count));
	pd.x = xmalloc(n * sizeof(*pd.x));
	/* Past 2 x the largest residual every draw is all positive: the
	 * test's best, which either reaches alpha or never will. */
	hi = 2 * top;
	if (resampled_power(&pd, hi, alpha) >= power) {
		for (int step = 0; step < 14; step++) {
			double mid = (lo + hi) / 2;

			if (resampled_power(&pd, mid, alpha) >= power)
				hi = mid;
			else
				lo = mid;
		}
		z = gsl_cdf_tdist_Pinv(1 - alpha, (double)n - 1) * sqrt(M_PI / 3) +
		    gsl_cdf_tdist_Pinv(power, (double)n - 1);
		res = z > 0 ? hi * sqrt((double)n) / z : NAN;
	}
	free(pd.sorted);
	free(pd.of);
	free(pd.count);
	free(pd.x);
	free(idx);
	free(e);
	return res;
}

double stats_mde(const struct stats_mde_input *in)
{
	double a = in->alpha > 0 && in->alpha < 1 ? in->alpha : 0.01;
	double pw = in->power > 0 && in->power < 1 ? in->power : 0.8;
	double n = in->n_cur ? (double)in->n_cur : 1;
	double nb = in->n_base ? (double)in->n_base : n;
	double k = in->k_runs ? (double)in->k_runs : 1;
	double sb = fmax(0, in->s_between), sw = fmax(0, in->s_within);
	double var_t, se, lf = log1p(fmax(0, in->floor)), m, df, za, zb;

	if (in->paired) {
		var_t = sw * sw / n;
		se = sqrt(var_t);
	} else {
		var_t = sw * sw * (1 / n + 1 / nb);
		se = sqrt(sb * sb * (1 + 1 / k) + var_t);
	}
	/* Student's quantiles for the small samples a gate has (df: the
	 * samples the test sees, less what their means cost). */
	df = in->paired ? n - 1 : n + nb - 2;
	za = df >= 1 ? gsl_cdf_tdist_Pinv(1 - a, df) : gsl_cdf_ugaussian_Pinv(1 - a);
	zb = df >= 1 ? gsl_cdf_tdist_Pinv(pw, df) : gsl_cdf_ugaussian_Pinv(pw);
	m = fmax(lf, za * sqrt(M_PI / 3 * var_t)) + zb * se;
	return expm1(m);
}
