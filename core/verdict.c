/*
 * verdict.c: from baseline and current samples to a verdict per metric
 * (DESIGN section 5; docs/statistics.md defines each verdict).
 */
#include "verdict.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "noise.h"
#include "stats.h"
#include "suite.h"
#include "summary.h"
#include "util.h"

const char *verdict_name(enum verdict_kind k)
{
	switch (k) {
	case VERDICT_REGRESSION: return "regression";
	case VERDICT_IMPROVEMENT: return "improvement";
	case VERDICT_UNCHANGED: return "unchanged";
	case VERDICT_BELOW_FLOOR: return "below-floor";
	case VERDICT_INCONCLUSIVE: return "inconclusive";
	case VERDICT_INSUFFICIENT: return "insufficient-data";
	case VERDICT_NO_BASELINE: return "no-baseline";
	}
	return "unknown";
}

const char *verdict_test_name(enum verdict_test t)
{
	switch (t) {
	case VERDICT_TEST_RANK_SUM: return "rank-sum";
	case VERDICT_TEST_SIGNED_RANK: return "signed-rank";
	case VERDICT_TEST_EXACT: return "exact";
	}
	return "unknown";
}

void verdict_settings_parse(const cJSON *obj, const char *path, struct verdict_settings *s,
			    struct errlist *problems)
{
	static const char *const keys[] = { "alpha", "min_effect", "direction", "gate",
					    "max_extra_repetitions", "max_extra_time" };
	const cJSON *v;
	char at[512];
	double d;

	if (!cJSON_IsObject(obj)) {
		json_expected(problems, path, "an object", obj);
		return;
	}
	json_check_keys(obj, path, keys, ARRAY_SIZE(keys), problems);
	if ((v = json_peek(obj, "alpha"))) {
		json_path_key(at, sizeof(at), path, "alpha");
		if (!cJSON_IsNumber(v) || !(v->valuedouble > 0 && v->valuedouble <= 0.5))
			json_expected(problems, at, "a number in (0, 0.5]", v);
		else
			s->alpha = v->valuedouble;
	}
	if ((v = json_peek(obj, "min_effect"))) {
		json_path_key(at, sizeof(at), path, "min_effect");
		if (json_fraction_value(v, &d) != 0 || !(d >= 0 && d < 10))
			json_expected(problems, at,
				      "a percentage such as \"5%\" or a fraction such as 0.05", v);
		else
			s->min_effect = d;
	}
	if ((v = json_peek(obj, "direction"))) {
		const char *dir = cJSON_IsString(v) ? v->valuestring : "";

		json_path_key(at, sizeof(at), path, "direction");
		if (strcmp(dir, "lower") == 0)
			s->direction = RD_LOWER;
		else if (strcmp(dir, "higher") == 0)
			s->direction = RD_HIGHER;
		else
			json_expected(problems, at, "\"lower\" or \"higher\"", v);
	}
	json_get_bool(obj, "gate", path, &s->gate, NULL, problems);
	json_get_int(obj, "max_extra_repetitions", path, 0, &s->max_extra_repetitions, NULL, problems);
	json_get_duration(obj, "max_extra_time", path, &s->max_extra_time, NULL, problems);
}

void verdict_settings_validate(const cJSON *compare, const char *path, struct errlist *problems)
{
	struct verdict_settings s = VERDICT_SETTINGS_INIT;
	const cJSON *metrics = cJSON_IsObject(compare) ? cJSON_GetObjectItemCaseSensitive(compare, "metrics") : NULL;
	const cJSON *it;
	char at[512];
	cJSON *copy;

	if (!metrics) {
		verdict_settings_parse(compare, path, &s, problems);
		return;
	}
	/* "metrics": {"<metric>": {settings}}: per-metric settings, resolved by
	 * core/compare.c (compare_settings_for; docs/gate.md "Settings"). */
	copy = cJSON_Duplicate(compare, 1);
	cJSON_DeleteItemFromObjectCaseSensitive(copy, "metrics");
	verdict_settings_parse(copy, path, &s, problems);
	cJSON_Delete(copy);
	if (!cJSON_IsObject(metrics)) {
		json_path_key(at, sizeof(at), path, "metrics");
		json_expected(problems, at, "an object of metric name -> settings", metrics);
		return;
	}
	cJSON_ArrayForEach(it, metrics) {
		struct verdict_settings m = s;
		char *sub = xasprintf("%s.metrics.%s", path, it->string);

		verdict_settings_parse(it, sub, &m, problems);
		free(sub);
	}
}

static void median_ci(const double *v, size_t n, double *med, double *lo, double *hi)
{
	double *s;

	*med = *lo = *hi = NAN;
	if (n == 0)
		return;
	s = xmalloc(n * sizeof(*s));
	memcpy(s, v, n * sizeof(*s));
	qsort(s, n, sizeof(*s), summary_cmp_double);
	*med = summary_median_sorted(s, n);
	summary_median_ci(s, n, 0.95, lo, hi);
	free(s);
}

static bool all_positive(const double *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!(v[i] > 0) || !isfinite(v[i]))
			return false;
	return true;
}

/* Two independent samples: Mann-Whitney U both ways, the Hodges-Lehmann
 * ratio (or shift, with values <= 0). */
static void measure_unpaired(const struct verdict_input *in, struct verdict *out)
{
	const struct verdict_settings *cs = &in->settings;
	struct mwu worse, better;
	struct err err = ERR_INIT;

	/* worse = the current run is larger (lower is better) or smaller */
	if (out->direction == RD_LOWER) {
		stats_mann_whitney(in->base, in->n_base, in->cur, in->n_cur, &worse);
		stats_mann_whitney(in->cur, in->n_cur, in->base, in->n_base, &better);
	} else {
		stats_mann_whitney(in->cur, in->n_cur, in->base, in->n_base, &worse);
		stats_mann_whitney(in->base, in->n_base, in->cur, in->n_cur, &better);
	}
	out->test = VERDICT_TEST_RANK_SUM;
	out->p = worse.p;
	out->p_better = better.p;
	out->p_min = worse.p_min;
	out->exact = worse.exact;
	if (stats_hodges_lehmann_ratio(in->base, in->n_base, in->cur, in->n_cur, cs->alpha, &out->ratio,
				       &out->ratio_lo, &out->ratio_hi, &err) != 0) {
		out->ratio_is_shift = true;
		stats_hodges_lehmann_shift(in->base, in->n_base, in->cur, in->n_cur, cs->alpha,
					   &out->ratio, &out->ratio_lo, &out->ratio_hi, &err);
	} else {
		out->s_within = stats_log_spread(in->cur, in->n_cur);
	}
}

/*
 * Pairs measured side by side (repetition i of both, interleaved): the
 * per-pair log-ratios d_i = ln cur_i - ln base_i (differences when a value
 * is <= 0), a Wilcoxon signed-rank test both ways and the Hodges-Lehmann
 * estimate of their centre (Walsh averages).  The machine's drift hits both
 * sides of a pair alike and cancels in d.  A burst of other work between a
 * pair's two halves does not: such pairs, far from the rest by their size
 * alone, are set aside in a second test, and the smaller p of the two
 * counts (core/stats.h, stats_signed_rank_far); when it is the second's,
 * the estimate and the spread come from the pairs left too.
 */
static void measure_paired(const struct verdict_input *in, struct verdict *out)
{
	const struct verdict_settings *cs = &in->settings;
	size_t n = in->n_cur, n_rest = 0;
	double *d = xmalloc(n * sizeof(*d)), *neg = xmalloc(n * sizeof(*neg)), *rest = neg, e, lo, hi;
	bool logs = all_positive(in->base, n) && all_positive(in->cur, n), *far = xmalloc(n * sizeof(*far));
	struct wsr_far up, down, *worse, *better;
	struct err err = ERR_INIT;

	for (size_t i = 0; i < n; i++) {
		d[i] = logs ? log(in->cur[i]) - log(in->base[i]) : in->cur[i] - in->base[i];
		neg[i] = -d[i];
	}
	out->n_far = stats_far_pairs(d, n, far);
	stats_signed_rank_far(d, n, far, &up);
	stats_signed_rank_far(neg, n, far, &down);
	worse = out->direction == RD_LOWER ? &up : &down;
	better = out->direction == RD_LOWER ? &down : &up;
	out->test = VERDICT_TEST_SIGNED_RANK;
	out->p = worse->p;
	out->p_better = better->p;
	out->p_min = worse->p_min;
	out->exact = worse->exact;
	/* the pairs that decide, in the direction they lean */
	out->far_set_aside = (worse->p <= better->p ? worse : better)->by_rest;
	for (size_t i = 0; i < n; i++) /* neg's room is free now: the pairs left */
		if (!far[i])
			rest[n_rest++] = d[i];
	if (out->far_set_aside)
		stats_hodges_lehmann_paired(rest, n_rest, cs->alpha, &e, &lo, &hi, &err);
	else
		stats_hodges_lehmann_paired(d, n, cs->alpha, &e, &lo, &hi, &err);
	out->ratio_is_shift = !logs;
	out->ratio = logs ? exp(e) : e;
	out->ratio_lo = logs ? exp(lo) : lo;
	out->ratio_hi = logs ? exp(hi) : hi;
	/* The spread: of the pairs left, whose test gives the power (the
	 * far ones are set aside whenever they would cost it). */
	out->s_within = stats_robust_sd(rest, n_rest);
	if (cs->gate && logs) {
		/* The spread the test feels: pairs that other work split but
		 * that are not far enough to be set aside (heavy tails) cost it
		 * power that a robust spread hides, and the detectable effect
		 * must not promise what the test cannot do. */
		double felt = stats_paired_power_spread(rest, n_rest, cs->alpha, VERDICT_MDE_POWER);

		if (felt > out->s_within)
			out->s_within = felt;
	}
	/* the detectable effect counts every pair: the n_rest of them as n */
	if (n_rest)
		out->s_within *= sqrt((double)n / (double)n_rest);
	free(far);
	free(d);
	free(neg);
}

/* The floor from the settings, the history's spread (or a short history's
 * prior) and the metric's resolution (core/noise.h). */
static void measure_floor(const struct verdict_input *in, struct verdict *out)
{
	struct noise_floor_input fi = {
		.min_effect = in->settings.min_effect,
		.spread = stats_log_spread(in->base_run_medians, in->n_runs),
		.n_runs = in->n_runs,
		.prior = in->prior > 0 ? in->prior : NAN,
		.abs_floor = in->abs_floor > 0 ? in->abs_floor : 0,
		.base_median = out->base_median,
		.machine_jump = in->machine_jump > 0 ? in->machine_jump : NAN,
	};
	struct noise_floor f;

	noise_floor_compute(&fi, &f);
	out->floor = f.floor;
	out->spread = f.spread;
	out->floor_source = (int)f.source;
	out->short_history = f.short_history;
	out->prior_machine = f.short_history && in->prior_machine;
	out->abs_floor = fi.abs_floor;
}

void verdict_measure(const struct verdict_input *in, struct verdict *out)
{
	const struct verdict_settings *cs = &in->settings;

	memset(out, 0, sizeof(*out));
	out->p = out->p_adj = out->p_better = out->p_better_adj = 1;
	out->p_min = 1;
	out->ratio = out->ratio_lo = out->ratio_hi = NAN;
	out->s_within = out->mde = out->mde_paired = out->median_change = NAN;
	out->level = cs->alpha;
	out->direction = cs->direction == RD_LOWER || cs->direction == RD_HIGHER
				 ? (enum rd_direction)cs->direction : in->direction;
	out->gate = cs->gate;
	out->batches = in->batches;
	out->n_base = in->n_base;
	out->n_cur = in->n_cur;
	out->n_runs = in->n_runs;
	median_ci(in->base, in->n_base, &out->base_median, &out->base_lo, &out->base_hi);
	median_ci(in->cur, in->n_cur, &out->cur_median, &out->cur_lo, &out->cur_hi);
	measure_floor(in, out);

	if (in->n_base == 0) {
		out->kind = VERDICT_NO_BASELINE;
		return;
	}
	if (in->n_cur == 0) {
		out->kind = VERDICT_INSUFFICIENT;
		return;
	}
	if (in->paired && in->n_base == in->n_cur)
		measure_paired(in, out);
	else
		measure_unpaired(in, out);
	out->median_change = out->ratio_is_shift ? out->cur_median - out->base_median
			     : out->base_median > 0 ? out->cur_median / out->base_median - 1 : NAN;
	/* Counts that do not vary (instructions, token counts, bytes): the change
	 * is known without doubt, whatever a rank test's resolution. */
	if (noise_zero_spread(in->base, in->n_base, out->abs_floor) &&
	    noise_zero_spread(in->cur, in->n_cur, out->abs_floor)) {
		out->test = VERDICT_TEST_EXACT;
		out->kind = VERDICT_UNCHANGED;
		return;
	}
	out->kind = out->p_min > cs->alpha ? VERDICT_INSUFFICIENT : VERDICT_UNCHANGED;
}

/* Effect in the worse direction as a log ratio (> 0: worse). */
static double worse_log_effect(const struct verdict *v)
{
	double l;

	if (v->test == VERDICT_TEST_EXACT && !v->ratio_is_shift && v->base_median > 0)
		l = log(v->cur_median / v->base_median);
	else if (v->ratio_is_shift) {
		double rel;
		if (!(fabs(v->base_median) > 0))
			return v->ratio == 0 ? 0 : (v->ratio > 0 ? INFINITY : -INFINITY) *
							    (v->direction == RD_LOWER ? 1 : -1);
		rel = v->ratio / fabs(v->base_median);
		l = rel > -1 ? log1p(rel) : -INFINITY;
	} else {
		l = log(v->ratio);
	}
	return v->direction == RD_LOWER ? l : -l;
}

double verdict_worse_effect(const struct verdict *v)
{
	return worse_log_effect(v);
}

/* Is the change at least the metric's absolute minimum (its resolution)? */
static bool beyond_resolution(const struct verdict *v)
{
	double change;

	if (!(v->abs_floor > 0))
		return true;
	if (v->ratio_is_shift)
		change = v->ratio;
	else if (v->test == VERDICT_TEST_EXACT)
		change = v->cur_median - v->base_median;
	else
		change = v->base_median * (v->ratio - 1);
	return fabs(change) >= v->abs_floor;
}

/* Rows that take part in a family's Benjamini-Hochberg adjustment. */
static bool in_family(const struct verdict *v, const struct verdict_settings *s, bool gating)
{
	/* hypotheses that can never reach their level are left out of the
	 * family (Tarone 1990): they only cost the others power; so are changes
	 * known without doubt (no spread), which need no test */
	return s->gate == gating && v->kind != VERDICT_NO_BASELINE && v->kind != VERDICT_INSUFFICIENT &&
	       v->test != VERDICT_TEST_EXACT;
}

static size_t adjust_family(struct verdict *v, size_t n, const struct verdict_settings *per, bool gating)
{
	size_t *idx = xmalloc((n ? n : 1) * sizeof(*idx));
	double *p = xmalloc((n ? n : 1) * sizeof(*p));
	double *adj = xmalloc((n ? n : 1) * sizeof(*adj));
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		if (in_family(&v[i], &per[i], gating))
			idx[k++] = i;
	for (size_t j = 0; j < k; j++)
		p[j] = v[idx[j]].p;
	stats_bh_adjust(p, k, false, adj);
	for (size_t j = 0; j < k; j++)
		v[idx[j]].p_adj = adj[j];
	for (size_t j = 0; j < k; j++)
		p[j] = v[idx[j]].p_better;
	stats_bh_adjust(p, k, false, adj);
	for (size_t j = 0; j < k; j++)
		v[idx[j]].p_better_adj = adj[j];
	free(idx);
	free(p);
	free(adj);
	return k;
}

/*
 * The minimum detectable effect of a decided row (core/stats.h,
 * stats_mde): at the per-metric level the family correction leaves a
 * single change (level / M, Benjamini-Hochberg's threshold for the
 * smallest p), with the between-run spread the floor used, the current
 * run's own spread and the sample sizes.  A change known without doubt
 * (no spread) is caught whenever it reaches the floor.
 *
 * For an unpaired row, also what pairs of as many repetitions beside the
 * base commit would detect (`gate --base`, core/headbase.h): no spread
 * between runs, the floor of min_effect and the metric's resolution (an
 * A/B row's), and a pair's difference carrying the noise of both its
 * halves (sqrt 2 x the run's own spread).
 */
static void fill_mde(struct verdict *v, double level, size_t family, double min_effect)
{
	struct stats_mde_input in = {
		.s_between = v->spread, .s_within = v->s_within, .k_runs = v->n_runs ? v->n_runs : 1,
		.n_base = v->n_base, .n_cur = v->n_cur, .alpha = level / (double)(family ? family : 1),
		.power = VERDICT_MDE_POWER, .floor = v->floor,
		.paired = v->test == VERDICT_TEST_SIGNED_RANK,
	};

	if (v->kind == VERDICT_NO_BASELINE || v->kind == VERDICT_INSUFFICIENT)
		return;
	if (v->test == VERDICT_TEST_EXACT) {
		v->mde = v->floor;
		return;
	}
	if (v->ratio_is_shift || !isfinite(v->s_within))
		return;
	v->mde = stats_mde(&in);
	if (in.paired)
		return;
	in.paired = true;
	in.s_between = 0;
	in.k_runs = 1;
	in.n_base = in.n_cur;
	in.s_within = v->s_within * sqrt(2.0);
	in.floor = fmax(0, min_effect);
	if (v->abs_floor > 0 && fabs(v->base_median) > 0 && isfinite(v->base_median))
		in.floor = fmax(in.floor, v->abs_floor / fabs(v->base_median));
	v->mde_paired = stats_mde(&in);
}

static void pct(char *buf, size_t len, double ratio_minus_one)
{
	snprintf(buf, len, "%+.1f%%", ratio_minus_one * 100);
}

/* "the 5.0% noise floor", "the 45.0% floor: history too short (1 run) to
 * judge changes under 45%", "the 7.9% floor (the metric's smallest change
 * that counts)". */
static void floor_phrase(const struct verdict *v, char *buf, size_t len)
{
	if (v->short_history)
		snprintf(buf, len, "the %.1f%% floor: history too short (%zu run%s) to judge changes under %.0f%% "
			 "(%s)", v->floor * 100, v->n_runs, v->n_runs == 1 ? "" : "s", v->floor * 100,
			 v->prior_machine ? "the machine's recorded spread between runs" : "a default spread between runs");
	else if (v->floor_source == NOISE_FLOOR_RESOLUTION)
		snprintf(buf, len, "the %.1f%% floor (the metric's smallest change that counts)", v->floor * 100);
	else if (v->floor_source == NOISE_FLOOR_MACHINE)
		snprintf(buf, len, "the %.1f%% floor (%.0f%% of this machine's recorded changes from one run to the "
			 "next are smaller)", v->floor * 100, NOISE_MACHINE_QUANTILE * 100);
	else
		snprintf(buf, len, "the %.1f%% noise floor", v->floor * 100);
}

/* The sentence of a row decided without a test: no spread on either side. */
static void write_why_exact(struct verdict *v, const char *eff, const char *fl)
{
	const char *what = v->kind == VERDICT_REGRESSION ? "worse, beyond"
			   : v->kind == VERDICT_IMPROVEMENT ? "better, beyond"
			   : v->kind == VERDICT_UNCHANGED ? "no change at all, inside" : "inside";

	snprintf(v->why, sizeof(v->why), "%s, exact: no spread on either side (%zu and %zu samples), %s %s",
		 eff, v->n_base, v->n_cur, what, fl);
}

static void write_why(struct verdict *v, double alpha)
{
	char eff[32], lo[32], hi[32], fl[160], test[128] = "";
	const char *worse_word = v->direction == RD_LOWER ? "higher" : "lower";

	if (v->kind == VERDICT_NO_BASELINE) {
		snprintf(v->why, sizeof(v->why), "no baseline yet: %zu new samples stored for the next comparison",
			 v->n_cur);
		return;
	}
	if (v->kind == VERDICT_INSUFFICIENT) {
		if (v->n_cur == 0)
			snprintf(v->why, sizeof(v->why), "no samples in this run");
		else if (v->test == VERDICT_TEST_SIGNED_RANK)
			snprintf(v->why, sizeof(v->why),
				 "%zu pairs cannot reach p <= %g (smallest possible p %.3g, pairs without a "
				 "difference left out): add repetitions", v->n_cur, alpha, v->p_min);
		else
			snprintf(v->why, sizeof(v->why),
				 "%zu new vs %zu baseline samples cannot reach p <= %g (smallest possible p %.3g): add repetitions",
				 v->n_cur, v->n_base, alpha, v->p_min);
		return;
	}
	if (v->ratio_is_shift) {
		snprintf(eff, sizeof(eff), "%+.4g", v->ratio);
		snprintf(lo, sizeof(lo), "%+.4g", v->ratio_lo);
		snprintf(hi, sizeof(hi), "%+.4g", v->ratio_hi);
	} else {
		pct(eff, sizeof(eff), (v->test == VERDICT_TEST_EXACT ? v->median_change + 1 : v->ratio) - 1);
		pct(lo, sizeof(lo), v->ratio_lo - 1);
		pct(hi, sizeof(hi), v->ratio_hi - 1);
	}
	floor_phrase(v, fl, sizeof(fl));
	if (v->test == VERDICT_TEST_EXACT) {
		write_why_exact(v, eff, fl);
		return;
	}
	if (v->test == VERDICT_TEST_SIGNED_RANK && v->far_set_aside)
		snprintf(test, sizeof(test), " (signed-rank on %zu of %zu pairs, %zu far from the rest set aside%s)",
			 v->n_cur - v->n_far, v->n_cur, v->n_far,
			 v->kind == VERDICT_INCONCLUSIVE ? ": other work on the machine between a pair's halves?" : "");
	else if (v->test == VERDICT_TEST_SIGNED_RANK && v->kind == VERDICT_INCONCLUSIVE && v->n_far)
		snprintf(test, sizeof(test), " (signed-rank on %zu pairs, %zu far from the rest: other work on the "
			 "machine between a pair's halves?)", v->n_cur, v->n_far);
	else if (v->test == VERDICT_TEST_SIGNED_RANK)
		snprintf(test, sizeof(test), " (signed-rank on %zu pairs)", v->n_cur);
	switch (v->kind) {
	case VERDICT_REGRESSION:
		snprintf(v->why, sizeof(v->why), "%s [%s, %s] (%s is worse)%s, p %.2g (adjusted %.2g) <= %.2g, beyond %s",
			 eff, lo, hi, worse_word, test, v->p, v->p_adj, alpha, fl);
		break;
	case VERDICT_IMPROVEMENT:
		snprintf(v->why, sizeof(v->why), "%s [%s, %s] better%s, p %.2g (adjusted %.2g) <= %.2g, beyond %s",
			 eff, lo, hi, test, v->p_better, v->p_better_adj, alpha, fl);
		break;
	case VERDICT_BELOW_FLOOR:
		snprintf(v->why, sizeof(v->why), "%s [%s, %s] is significant%s (adjusted p %.2g) but inside %s",
			 eff, lo, hi, test, fmin(v->p_adj, v->p_better_adj), fl);
		break;
	case VERDICT_INCONCLUSIVE:
		snprintf(v->why, sizeof(v->why),
			 "%s [%s, %s] looks worse by the floor or more (%s) but is not significant%s (adjusted p %.2g > %.2g): measure more",
			 eff, lo, hi, fl, test, v->p_adj, alpha);
		break;
	default:
		snprintf(v->why, sizeof(v->why), "%s [%s, %s], not significant%s (adjusted p %.2g > %.2g), inside %s",
			 eff, lo, hi, test, v->p_adj, alpha, fl);
		break;
	}
}

/* The kind of a decided row: significance at `level` and the effect
 * against the floor and the metric's resolution. */
static enum verdict_kind decide_kind(const struct verdict *v, double level)
{
	double w = worse_log_effect(v), lf = log1p(v->floor);
	bool big = beyond_resolution(v);

	if (v->test == VERDICT_TEST_EXACT) {
		if (w >= lf && big)
			return VERDICT_REGRESSION;
		if (-w >= lf && big)
			return VERDICT_IMPROVEMENT;
		return w == 0 ? VERDICT_UNCHANGED : VERDICT_BELOW_FLOOR;
	}
	if (v->p_adj <= level)
		return w >= lf && big ? VERDICT_REGRESSION : VERDICT_BELOW_FLOOR;
	if (v->p_better_adj <= level)
		return -w >= lf && big ? VERDICT_IMPROVEMENT : VERDICT_BELOW_FLOOR;
	return w >= lf && big ? VERDICT_INCONCLUSIVE : VERDICT_UNCHANGED;
}

void verdict_decide_at(struct verdict *v, size_t n, const struct verdict_settings *per_metric,
		       double share)
{
	size_t fam_gate = adjust_family(v, n, per_metric, true);
	size_t fam_track = adjust_family(v, n, per_metric, false);

	if (!(share > 0 && share <= 1))
		share = 1;
	for (size_t i = 0; i < n; i++) {
		double level = per_metric[i].alpha * share;

		v[i].level = level;
		if (v[i].kind != VERDICT_NO_BASELINE && v[i].kind != VERDICT_INSUFFICIENT) {
			if (v[i].test == VERDICT_TEST_EXACT)
				v[i].p_adj = v[i].p;
			v[i].kind = decide_kind(&v[i], level);
		}
		fill_mde(&v[i], level, per_metric[i].gate ? fam_gate : fam_track, per_metric[i].min_effect);
		write_why(&v[i], level);
	}
}

void verdict_decide(struct verdict *v, size_t n, const struct verdict_settings *per_metric)
{
	verdict_decide_at(v, n, per_metric, 1);
}
