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

void verdict_settings_parse(const cJSON *obj, const char *path, struct verdict_settings *s,
			    struct errlist *problems)
{
	static const char *const keys[] = { "alpha", "min_effect", "direction", "gate" };
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

void verdict_measure(const struct verdict_input *in, struct verdict *out)
{
	const struct verdict_settings *cs = &in->settings;
	struct mwu worse, better;
	struct err err = ERR_INIT;

	memset(out, 0, sizeof(*out));
	out->p = out->p_adj = out->p_better = out->p_better_adj = 1;
	out->p_min = 1;
	out->ratio = out->ratio_lo = out->ratio_hi = NAN;
	out->direction = cs->direction == RD_LOWER || cs->direction == RD_HIGHER
				 ? (enum rd_direction)cs->direction : in->direction;
	out->gate = cs->gate;
	out->n_base = in->n_base;
	out->n_cur = in->n_cur;
	out->n_runs = in->n_runs;
	median_ci(in->base, in->n_base, &out->base_median, &out->base_lo, &out->base_hi);
	median_ci(in->cur, in->n_cur, &out->cur_median, &out->cur_lo, &out->cur_hi);
	out->spread = stats_log_spread(in->base_run_medians, in->n_runs);
	out->floor = fmax(cs->min_effect, 3 * out->spread);

	if (in->n_base == 0) {
		out->kind = VERDICT_NO_BASELINE;
		return;
	}
	if (in->n_cur == 0) {
		out->kind = VERDICT_INSUFFICIENT;
		return;
	}
	/* worse = the current run is larger (lower is better) or smaller */
	if (out->direction == RD_LOWER) {
		stats_mann_whitney(in->base, in->n_base, in->cur, in->n_cur, &worse);
		stats_mann_whitney(in->cur, in->n_cur, in->base, in->n_base, &better);
	} else {
		stats_mann_whitney(in->cur, in->n_cur, in->base, in->n_base, &worse);
		stats_mann_whitney(in->base, in->n_base, in->cur, in->n_cur, &better);
	}
	out->p = worse.p;
	out->p_better = better.p;
	out->p_min = worse.p_min;
	out->exact = worse.exact;
	if (stats_hodges_lehmann_ratio(in->base, in->n_base, in->cur, in->n_cur, cs->alpha, &out->ratio,
				       &out->ratio_lo, &out->ratio_hi, &err) != 0) {
		out->ratio_is_shift = true;
		stats_hodges_lehmann_shift(in->base, in->n_base, in->cur, in->n_cur, cs->alpha,
					   &out->ratio, &out->ratio_lo, &out->ratio_hi, &err);
	}
	out->kind = out->p_min > cs->alpha ? VERDICT_INSUFFICIENT : VERDICT_UNCHANGED;
}

/* Effect in the worse direction as a log ratio (> 0: worse). */
static double worse_log_effect(const struct verdict *v)
{
	double l;

	if (v->ratio_is_shift) {
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

static void adjust_family(struct verdict *v, size_t n, const struct verdict_settings *per, bool gating)
{
	size_t *idx = xmalloc((n ? n : 1) * sizeof(*idx));
	double *p = xmalloc((n ? n : 1) * sizeof(*p));
	double *adj = xmalloc((n ? n : 1) * sizeof(*adj));
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		/* hypotheses that can never reach their level are left out of the
		 * family (Tarone 1990): they only cost the others power */
		if (per[i].gate != gating || v[i].kind == VERDICT_NO_BASELINE ||
		    v[i].kind == VERDICT_INSUFFICIENT)
			continue;
		idx[k++] = i;
	}
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
}

static void pct(char *buf, size_t len, double ratio_minus_one)
{
	snprintf(buf, len, "%+.1f%%", ratio_minus_one * 100);
}

static void write_why(struct verdict *v, double alpha)
{
	char eff[32], lo[32], hi[32];
	const char *worse_word = v->direction == RD_LOWER ? "higher" : "lower";

	if (v->kind == VERDICT_NO_BASELINE) {
		snprintf(v->why, sizeof(v->why), "no baseline yet: %zu new samples stored for the next comparison",
			 v->n_cur);
		return;
	}
	if (v->kind == VERDICT_INSUFFICIENT) {
		if (v->n_cur == 0)
			snprintf(v->why, sizeof(v->why), "no samples in this run");
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
		pct(eff, sizeof(eff), v->ratio - 1);
		pct(lo, sizeof(lo), v->ratio_lo - 1);
		pct(hi, sizeof(hi), v->ratio_hi - 1);
	}
	switch (v->kind) {
	case VERDICT_REGRESSION:
		snprintf(v->why, sizeof(v->why),
			 "%s [%s, %s] (%s is worse), p %.2g (adjusted %.2g) <= %g, beyond the %.1f%% noise floor",
			 eff, lo, hi, worse_word, v->p, v->p_adj, alpha, v->floor * 100);
		break;
	case VERDICT_IMPROVEMENT:
		snprintf(v->why, sizeof(v->why),
			 "%s [%s, %s] better, p %.2g (adjusted %.2g) <= %g, beyond the %.1f%% noise floor",
			 eff, lo, hi, v->p_better, v->p_better_adj, alpha, v->floor * 100);
		break;
	case VERDICT_BELOW_FLOOR:
		snprintf(v->why, sizeof(v->why),
			 "%s [%s, %s] is significant (adjusted p %.2g) but inside the %.1f%% noise floor",
			 eff, lo, hi, fmin(v->p_adj, v->p_better_adj), v->floor * 100);
		break;
	case VERDICT_INCONCLUSIVE:
		snprintf(v->why, sizeof(v->why),
			 "%s [%s, %s] looks worse by more than the %.1f%% floor but is not significant (adjusted p %.2g > %g): measure more",
			 eff, lo, hi, v->floor * 100, v->p_adj, alpha);
		break;
	default:
		snprintf(v->why, sizeof(v->why),
			 "%s [%s, %s], not significant (adjusted p %.2g > %g), inside the %.1f%% noise floor",
			 eff, lo, hi, v->p_adj, alpha, v->floor * 100);
		break;
	}
}

void verdict_decide(struct verdict *v, size_t n, const struct verdict_settings *per_metric)
{
	adjust_family(v, n, per_metric, true);
	adjust_family(v, n, per_metric, false);
	for (size_t i = 0; i < n; i++) {
		double alpha = per_metric[i].alpha, w, lf;
		bool worse_sig, better_sig;

		if (v[i].kind == VERDICT_NO_BASELINE || v[i].kind == VERDICT_INSUFFICIENT) {
			write_why(&v[i], alpha);
			continue;
		}
		w = worse_log_effect(&v[i]);
		lf = log1p(v[i].floor);
		worse_sig = v[i].p_adj <= alpha;
		better_sig = v[i].p_better_adj <= alpha;
		if (worse_sig)
			v[i].kind = w >= lf ? VERDICT_REGRESSION : VERDICT_BELOW_FLOOR;
		else if (better_sig)
			v[i].kind = -w >= lf ? VERDICT_IMPROVEMENT : VERDICT_BELOW_FLOOR;
		else
			v[i].kind = w >= lf ? VERDICT_INCONCLUSIVE : VERDICT_UNCHANGED;
		write_why(&v[i], alpha);
	}
}
