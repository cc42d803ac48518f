/*
 * noise.c: the noise floor of a comparison, the per-metric rules behind its
 * defaults, and noise warnings for a metric's samples (see noise.h).
 */
#include "noise.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "summary.h"
#include "util.h"

/*
 * Per-metric defaults (docs/gate.md, "Metrics and their defaults").  The
 * priors: a time measured on a shared machine moves with the machine's
 * speed between runs (36% robust spread of 60-second run medians over a
 * quiet hour on the 2-core machine perfgate is developed on; docs/
 * performance.md), so a short history assumes 15% (a 45% floor) until it
 * has shown its own spread; a time relative to a calibration divided that
 * out (0.08% to 1% on a quiet machine, 2% to 10% beside a neighbour that
 * takes a CPU on and off), 5% assumed; counts that do not vary, none.
 * The first match wins: exact names, then family prefixes, then by unit.
 */
static const struct noise_rule rules[] = {
	{ "wall_rel", NULL, 0.05, 0, 0.05, true,
	  "a time relative to the calibration beside it: the machine's speed divides out" },
	{ "cpu_rel", NULL, 0.05, 0, 0.05, true,
	  "CPU time relative to the calibration beside it" },
	{ "instructions", NULL, 0.005, 0, 0, true,
	  "a count that barely varies: decided on the change itself, floor 0.5%" },
	{ "max_rss", NULL, 0.05, 1048576, 0.05, true,
	  "peak memory moves in allocator steps (glibc grows its heap by 128 KiB, arenas by more): changes under 1 MiB are not gated" },
	{ "cpu", NULL, 0.05, 0, 0.15, true,
	  "user + sys: the kernel's exact CPU time, which waiting for a CPU does not inflate as it does wall time" },
	{ "user", NULL, 0.05, 0.004, 0.15, false,
	  "tracked: the kernel splits CPU time into user and sys by sampling at each tick (4 ms at the usual 250 Hz), so each moves in steps; cpu, their exact sum, gates" },
	{ "sys", NULL, 0.05, 0.004, 0.15, false,
	  "tracked: split from user by tick sampling; cpu, their exact sum, gates" },
	{ "error_rate", NULL, 0.05, 0.01, 0, true,
	  "a fraction of requests: changes under 1 percentage point are not gated (an SLO states the limit)" },
	{ "errors.", NULL, 0.05, 0, 0, false,
	  "counts of failed requests, tracked: gate on error_rate or an SLO" },
	{ "bytes_in", NULL, 0.05, 0, 0, true, "response bytes" },
	{ "bytes_out", NULL, 0.05, 0, 0, true, "request bytes" },
	{ "output_tokens", NULL, 0.05, 0, 0, true, "tokens per response" },
	{ "calibration_wall", NULL, 0.05, 0, 0.15, false,
	  "the calibration's own time: how fast the machine was, tracked" },
	{ "", "s", 0.05, 0, 0.15, true, "a time: moves with the machine's speed between runs" },
	{ "", "1/s", 0.05, 0, 0.15, true, "a rate: moves with the machine's speed between runs" },
	{ "", NULL, 0.05, 0, 0.05, true, "any other metric" },
};

static bool rule_matches(const struct noise_rule *r, const char *metric, size_t len, const char *unit)
{
	size_t rl = strlen(r->name);

	if (r->unit && (!unit || strcmp(r->unit, unit) != 0))
		return false;
	if (rl == 0)
		return true;
	if (r->name[rl - 1] == '.')
		return len > rl && strncmp(metric, r->name, rl) == 0;
	return len == rl && strncmp(metric, r->name, rl) == 0;
}

const struct noise_rule *noise_rule_for(const char *metric, const char *unit)
{
	const char *at = metric ? strchr(metric, '@') : NULL;
	size_t len = metric ? (at ? (size_t)(at - metric) : strlen(metric)) : 0;

	for (size_t i = 0; i < ARRAY_SIZE(rules); i++)
		if (rule_matches(&rules[i], metric ? metric : "", len, unit))
			return &rules[i];
	return &rules[ARRAY_SIZE(rules) - 1];
}

const struct noise_rule *noise_rules(size_t *n)
{
	*n = ARRAY_SIZE(rules);
	return rules;
}

const char *noise_floor_source_name(enum noise_floor_source s)
{
	switch (s) {
	case NOISE_FLOOR_MIN_EFFECT: return "min_effect";
	case NOISE_FLOOR_SPREAD: return "spread";
	case NOISE_FLOOR_PRIOR: return "short history";
	case NOISE_FLOOR_RESOLUTION: return "resolution";
	case NOISE_FLOOR_MACHINE: return "machine";
	}
	return "?";
}

void noise_floor_compute(const struct noise_floor_input *in, struct noise_floor *out)
{
	double spread = in->spread > 0 && isfinite(in->spread) ? in->spread : 0;
	double used = spread, res = 0;
	bool prior = false;

	memset(out, 0, sizeof(*out));
	if (in->n_runs < NOISE_PRIOR_RUNS && in->prior > 0 && isfinite(in->prior)) {
		double k = in->n_runs ? (double)in->n_runs : 1, w = NOISE_PRIOR_WEIGHT;
		double pooled = sqrt((w * in->prior * in->prior + (k - 1) * spread * spread) / (w + k - 1));

		if (pooled > spread) {
			used = pooled;
			prior = true;
		}
	}
	out->spread = used;
	out->floor = fmax(0, in->min_effect);
	out->source = NOISE_FLOOR_MIN_EFFECT;
	if (3 * used > out->floor) {
		out->floor = 3 * used;
		out->source = prior ? NOISE_FLOOR_PRIOR : NOISE_FLOOR_SPREAD;
	}
	if (in->machine_jump > out->floor && isfinite(in->machine_jump)) {
		out->floor = in->machine_jump;
		out->source = NOISE_FLOOR_MACHINE;
	}
	if (in->abs_floor > 0 && fabs(in->base_median) > 0 && isfinite(in->base_median))
		res = in->abs_floor / fabs(in->base_median);
	if (res > out->floor) {
		out->floor = res;
		out->source = NOISE_FLOOR_RESOLUTION;
	}
	out->short_history = prior && out->source == NOISE_FLOOR_PRIOR;
}

bool noise_zero_spread(const double *v, size_t n, double abs_res)
{
	double lo, hi;

	if (n == 0)
		return false;
	lo = hi = v[0];
	for (size_t i = 1; i < n; i++) {
		lo = fmin(lo, v[i]);
		hi = fmax(hi, v[i]);
	}
	if (!isfinite(lo) || !isfinite(hi))
		return false;
	if (hi - lo <= NOISE_ZERO_SPREAD * fmax(fabs(lo), fabs(hi)))
		return true;
	return abs_res > 0 && hi - lo < abs_res;
}

void noise_analyse(const double *samples, size_t n, struct noise_report *r)
{
	double med, mad, mean = 0, var = 0;
	double *dev;

	memset(r, 0, sizeof(*r));
	if (n < NOISE_MIN_SAMPLES)
		return;
	med = summary_median(samples, n);
	dev = xmalloc(n * sizeof(*dev));
	for (size_t i = 0; i < n; i++)
		dev[i] = fabs(samples[i] - med);
	mad = summary_median(dev, n);
	free(dev);
	if (mad > 0) {
		for (size_t i = 0; i < n; i++)
			if (fabs(0.6745 * (samples[i] - med) / mad) > NOISE_Z_LIMIT)
				r->outliers++;
		r->slow_first = 0.6745 * (samples[0] - med) / mad > NOISE_Z_LIMIT;
	}
	{
		double rest = summary_median(samples + 1, n - 1);
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
