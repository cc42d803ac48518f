#include "changepoint.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_cdf.h>

#include "json.h"
#include "stats.h"
#include "util.h"

/* Sums of |x[i] - x[j]| over the pairs of x[s..e) split at tau: both in
 * X = [s, tau), both in Y = [tau, e), and across. */
struct pair_sums {
	double xx, yy, xy;
};

static void pair_sums(const double *x, size_t s, size_t e, size_t tau, struct pair_sums *ps)
{
	ps->xx = ps->yy = ps->xy = 0;
	for (size_t i = s; i < e; i++)
		for (size_t j = i + 1; j < e; j++) {
			double d = fabs(x[i] - x[j]);
			if (j < tau)
				ps->xx += d;
			else if (i >= tau)
				ps->yy += d;
			else
				ps->xy += d;
		}
}

/* The E-divisive statistic Q of a split with nx and ny points a side. */
static double q_of(const struct pair_sums *ps, double nx, double ny)
{
	return nx * ny / (nx + ny) *
	       (2 * ps->xy / (nx * ny) - ps->xx / (nx * (nx - 1) / 2) - ps->yy / (ny * (ny - 1) / 2));
}

double changepoint_q(const double *x, size_t n, size_t tau)
{
	struct pair_sums ps;

	pair_sums(x, 0, n, tau, &ps);
	return q_of(&ps, (double)tau, (double)(n - tau));
}

/*
 * Best split of x[s..e) with at least m points a side: the tau maximising Q.
 * The pair sums move one point from Y to X per step, so the whole scan costs
 * O((e - s)^2) instead of O((e - s)^3).  Returns 0 when the segment is too
 * short to split.
 */
static size_t best_split(const double *x, size_t s, size_t e, size_t m, double *q_out)
{
	size_t tau = s + m, best = 0;
	double best_q = -INFINITY;
	struct pair_sums ps;

	if (e - s < 2 * m)
		return 0;
	pair_sums(x, s, e, tau, &ps);
	for (;;) {
		double q = q_of(&ps, (double)(tau - s), (double)(e - tau));
		double rx = 0, ry = 0;

		if (q > best_q) {
			best_q = q;
			best = tau;
		}
		if (tau + 1 > e - m)
			break;
		/* Move x[tau] from Y to X. */
		for (size_t i = s; i < tau; i++)
			rx += fabs(x[tau] - x[i]);
		for (size_t j = tau + 1; j < e; j++)
			ry += fabs(x[tau] - x[j]);
		ps.xx += rx;
		ps.yy -= ry;
		ps.xy += ry - rx;
		tau++;
	}
	*q_out = best_q;
	return best;
}

static void mean_var(const double *a, size_t n, double *mean, double *var)
{
	double sum = 0, ss = 0;

	for (size_t i = 0; i < n; i++)
		sum += a[i];
	*mean = sum / (double)n;
	for (size_t i = 0; i < n; i++)
		ss += (a[i] - *mean) * (a[i] - *mean);
	*var = n > 1 ? ss / (double)(n - 1) : 0;
}

double changepoint_welch_p(const double *a, size_t na, const double *b, size_t nb)
{
	double m1, v1, m2, v2, s1, s2, se2, t, df, p;

	if (na < 2 || nb < 2)
		return 1;
	mean_var(a, na, &m1, &v1);
	mean_var(b, nb, &m2, &v2);
	s1 = v1 / (double)na;
	s2 = v2 / (double)nb;
	se2 = s1 + s2;
	/* Two constant segments: identical means are no change, different ones
	 * are as certain as a change gets. */
	if (!(se2 > 0))
		return m1 == m2 ? 1 : 0;
	t = fabs(m2 - m1) / sqrt(se2);
	df = se2 * se2 / (s1 * s1 / (double)(na - 1) + s2 * s2 / (double)(nb - 1));
	p = 2 * gsl_cdf_tdist_Q(t, df);
	return p > 1 ? 1 : p;
}

/*
 * A copy of a[0..n) for the t-test.  Robust: values further than 4 robust
 * standard deviations (1.4826 x MAD) from the segment's median are pulled
 * in to that fence (winsorised), so that one outlying run cannot inflate a
 * segment's variance and hide a real step, nor fake a change of the mean.
 * A segment whose MAD is 0 is left as it is.
 */
static double *segment(const double *a, size_t n, bool robust)
{
	double *v = xmalloc((n ? n : 1) * sizeof(*v));
	double med, mad, lo, hi;

	memcpy(v, a, n * sizeof(*v));
	if (!robust || n < 3)
		return v;
	mad = stats_median_mad(a, n, &med);
	if (!(mad > 0))
		return v;
	lo = med - 4 * mad;
	hi = med + 4 * mad;
	for (size_t i = 0; i < n; i++)
		v[i] = v[i] < lo ? lo : v[i] > hi ? hi : v[i];
	return v;
}

/* The Welch test between x[lo..idx) and x[idx..hi), with segment means. */
static double split_p(const double *x, size_t lo, size_t idx, size_t hi, bool robust,
		      double *mean_before, double *mean_after)
{
	double *a = segment(x + lo, idx - lo, robust), *b = segment(x + idx, hi - idx, robust);
	double v, p;

	mean_var(a, idx - lo, mean_before, &v);
	mean_var(b, hi - idx, mean_after, &v);
	p = changepoint_welch_p(a, idx - lo, b, hi - idx);
	free(a);
	free(b);
	return p;
}

/* Fill cp for the split at idx between the neighbouring boundaries lo and hi. */
static void test_point(const double *x, size_t lo, size_t idx, size_t hi, bool robust,
		       struct changepoint *cp)
{
	cp->index = idx;
	cp->n_before = idx - lo;
	cp->n_after = hi - idx;
	cp->p = split_p(x, lo, idx, hi, robust, &cp->mean_before, &cp->mean_after);
	if (cp->mean_before != 0)
		cp->magnitude = cp->mean_after / cp->mean_before - 1;
	else
		cp->magnitude = cp->mean_after == 0 ? 0 : INFINITY;
}

static int cmp_size(const void *a, const void *b)
{
	size_t x = *(const size_t *)a, y = *(const size_t *)b;
	return (x > y) - (x < y);
}

/* Insert v into the sorted array a[0..*n) unless present. */
static void sorted_insert(size_t **a, size_t *n, size_t *alloc, size_t v)
{
	size_t i = 0;

	while (i < *n && (*a)[i] < v)
		i++;
	if (i < *n && (*a)[i] == v)
		return;
	XGROW(*a, *alloc, *n + 1);
	memmove(*a + i + 1, *a + i, (*n - i) * sizeof(**a));
	(*a)[i] = v;
	(*n)++;
}

/*
 * E-divisive inside one window x[ws..we): keep adding the split with the
 * largest Q among the current segments while its t-test passes p_weak.
 * Found indexes (absolute) are added to the sorted set *found.
 */
static void split_window(const double *x, size_t ws, size_t we, size_t m, double p_weak,
			 bool robust, size_t **found, size_t *n_found, size_t *alloc_found, size_t *last_new)
{
	size_t *bounds = NULL, n_bounds = 0, alloc_bounds = 0;

	sorted_insert(&bounds, &n_bounds, &alloc_bounds, ws);
	sorted_insert(&bounds, &n_bounds, &alloc_bounds, we);
	for (;;) {
		size_t best_tau = 0, best_seg = 0;
		double best_q = -INFINITY;

		for (size_t k = 0; k + 1 < n_bounds; k++) {
			double q;
			size_t tau = best_split(x, bounds[k], bounds[k + 1], m, &q);
			if (tau && q > best_q) {
				best_q = q;
				best_tau = tau;
				best_seg = k;
			}
		}
		if (!best_tau)
			break;
		{
			double m1, m2;
			if (split_p(x, bounds[best_seg], best_tau, bounds[best_seg + 1], robust, &m1,
				    &m2) > p_weak)
				break;
		}
		sorted_insert(&bounds, &n_bounds, &alloc_bounds, best_tau);
		sorted_insert(found, n_found, alloc_found, best_tau);
		if (best_tau > *last_new)
			*last_new = best_tau;
	}
	free(bounds);
}

int changepoint_params_check(const struct changepoint_params *p, struct err *err)
{
	if (!(p->p_max > 0 && p->p_max < 1))
		return err_set(err, ERR_INPUT, "changepoints p_max must be in (0, 1), got %g", p->p_max);
	if (!(p->min_magnitude >= 0) || !isfinite(p->min_magnitude))
		return err_set(err, ERR_INPUT, "changepoints min_magnitude must be >= 0, got %g",
			       p->min_magnitude);
	if (p->min_size < 2)
		return err_set(err, ERR_INPUT, "changepoints min_size must be >= 2, got %zu", p->min_size);
	if (p->window < 2 * p->min_size)
		return err_set(err, ERR_INPUT, "changepoints window must be >= 2 x min_size (%zu), got %zu",
			       2 * p->min_size, p->window);
	if (p->step > p->window)
		return err_set(err, ERR_INPUT, "changepoints step must be <= window (%zu), got %zu",
			       p->window, p->step);
	return 0;
}

int changepoint_detect(const double *x, size_t n, const struct changepoint_params *params,
		       struct changepoint **out, size_t *n_out, struct err *err)
{
	size_t *found = NULL, n_found = 0, alloc_found = 0;
	struct changepoint *cps = NULL;
	size_t n_cps = 0;
	size_t step, start = 0;
	double p_weak;
	int rc;

	*out = NULL;
	*n_out = 0;
	if ((rc = changepoint_params_check(params, err)) < 0)
		return rc;
	for (size_t i = 0; i < n; i++)
		if (!isfinite(x[i]))
			return err_set(err, ERR_INPUT, "series value %zu is not a finite number", i);
	step = params->step ? params->step : params->window / 2;
	if (step == 0)
		step = 1;
	/* Otava's first pass is ten times more permissive (twice for p >= 0.05). */
	p_weak = params->p_max < 0.05 ? params->p_max * 10 : params->p_max < 0.5 ? params->p_max * 2
										 : params->p_max;

	/* Pass 1: windows; the next starts after the newest point found, at
	 * least one step on. */
	while (start < n) {
		size_t end = start + params->window < n ? start + params->window : n;
		size_t last_new = 0;

		if (end - start >= 2 * params->min_size)
			split_window(x, start, end, params->min_size, p_weak, params->robust, &found, &n_found,
				     &alloc_found, &last_new);
		if (end == n)
			break;
		start = last_new > start + step ? last_new : start + step;
	}
	if (n_found)
		qsort(found, n_found, sizeof(*found), cmp_size);

	/* Every weak point tested against its neighbours over the whole series. */
	if (n_found)
		cps = xcalloc(n_found, sizeof(*cps));
	for (size_t k = 0; k < n_found; k++)
		test_point(x, k ? found[k - 1] : 0, found[k], k + 1 < n_found ? found[k + 1] : n,
			   params->robust, &cps[k]);
	n_cps = n_found;

	/* Pass 2: drop the weakest until the rest pass both thresholds. */
	while (n_cps) {
		size_t w = 0;

		for (size_t k = 1; k < n_cps; k++)
			if (cps[k].p > cps[w].p)
				w = k;
		if (cps[w].p < params->p_max) {
			w = 0;
			for (size_t k = 1; k < n_cps; k++)
				if (fabs(cps[k].magnitude) < fabs(cps[w].magnitude))
					w = k;
			if (fabs(cps[w].magnitude) >= params->min_magnitude)
				break;
		}
		memmove(cps + w, cps + w + 1, (n_cps - w - 1) * sizeof(*cps));
		n_cps--;
		/* Removing a boundary changes the segments of both neighbours. */
		for (size_t k = w ? w - 1 : 0; k <= w && k < n_cps; k++)
			test_point(x, k ? cps[k - 1].index : 0, cps[k].index,
				   k + 1 < n_cps ? cps[k + 1].index : n, params->robust, &cps[k]);
	}
	free(found);
	if (n_cps == 0) {
		free(cps);
		cps = NULL;
	}
	*out = cps;
	*n_out = n_cps;
	return 0;
}

/* A whole number >= 0 (a count of points). */
static int parse_count(const cJSON *v, size_t *out)
{
	if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > 1e9 ||
	    v->valuedouble != floor(v->valuedouble))
		return -1;
	*out = (size_t)v->valuedouble;
	return 0;
}

void changepoint_params_parse(const cJSON *obj, const char *path, struct changepoint_params *p,
			      struct errlist *problems)
{
	static const char *const keys[] = { "p_max", "min_magnitude", "window", "step", "min_size",
					    "robust" };
	const struct {
		const char *key;
		size_t *out;
	} counts[] = { { "window", &p->window }, { "step", &p->step }, { "min_size", &p->min_size } };
	const cJSON *v;
	struct err err = ERR_INIT;
	char at[512];
	double d;

	if (!obj)
		return;
	if (!cJSON_IsObject(obj)) {
		json_expected(problems, path, "an object", obj);
		return;
	}
	json_check_keys(obj, path, keys, ARRAY_SIZE(keys), problems);
	if ((v = json_peek(obj, "p_max"))) {
		json_path_key(at, sizeof(at), path, "p_max");
		if (!cJSON_IsNumber(v) || !(v->valuedouble > 0 && v->valuedouble < 1))
			json_expected(problems, at, "a number in (0, 1)", v);
		else
			p->p_max = v->valuedouble;
	}
	if ((v = json_peek(obj, "min_magnitude"))) {
		json_path_key(at, sizeof(at), path, "min_magnitude");
		if (json_fraction_value(v, &d) < 0 || d < 0)
			json_expected(problems, at, "a fraction such as 0.05 or \"5%\"", v);
		else
			p->min_magnitude = d;
	}
	json_get_bool(obj, "robust", path, &p->robust, NULL, problems);
	for (size_t i = 0; i < ARRAY_SIZE(counts); i++) {
		if (!(v = json_peek(obj, counts[i].key)))
			continue;
		json_path_key(at, sizeof(at), path, counts[i].key);
		if (parse_count(v, counts[i].out) < 0)
			json_expected(problems, at, "a whole number >= 0", v);
	}
	if (changepoint_params_check(p, &err) < 0)
		errlist_add(problems, "%s: %s", path, err.msg);
}

void changepoint_params_from_suite(const cJSON *compare, const cJSON *changepoints,
				   struct changepoint_params *p, struct errlist *problems)
{
	const cJSON *eff = cJSON_IsObject(compare) ? cJSON_GetObjectItemCaseSensitive(compare, "min_effect")
						   : NULL;

	*p = (struct changepoint_params)CHANGEPOINT_PARAMS_INIT;
	if (eff) {
		cJSON *o = cJSON_CreateObject();
		cJSON_AddItemToObject(o, "min_magnitude", cJSON_Duplicate(eff, 1));
		changepoint_params_parse(o, "compare", p, problems);
		cJSON_Delete(o);
	}
	changepoint_params_parse(changepoints, "changepoints", p, problems);
}
