/*
 * verdict.h: the per-metric decision of `compare` and `gate` (DESIGN
 * section 5): test, effect, noise floor, false-discovery control across all
 * gated metrics of one invocation, and the verdict with the numbers behind
 * it.  docs/statistics.md defines every verdict and says why.
 *
 * Use: fill one struct verdict_input per gated metric, call verdict_measure
 * on each, then verdict_decide once over all of them.
 */
#ifndef PERFGATE_VERDICT_H
#define PERFGATE_VERDICT_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "err.h"
#include "rundoc.h"

enum verdict_kind {
	VERDICT_REGRESSION,   /* significant, worse by at least the floor: fails the gate */
	VERDICT_IMPROVEMENT,  /* significant, better by at least the floor */
	VERDICT_UNCHANGED,    /* not significant, and the estimate is inside the floor */
	VERDICT_BELOW_FLOOR,  /* significant, but smaller than the floor */
	VERDICT_INCONCLUSIVE, /* not significant, yet the estimate is worse by the floor or more */
	VERDICT_INSUFFICIENT, /* too few samples for the test ever to reach alpha */
	VERDICT_NO_BASELINE   /* nothing to compare against (first run) */
};

/* "regression", "improvement", "unchanged", "below-floor", "inconclusive",
 * "insufficient-data", "no-baseline". */
const char *verdict_name(enum verdict_kind k);

struct verdict_settings {
	double alpha;       /* false-discovery level across the invocation; default 0.01 */
	double min_effect;  /* smallest relative change that matters; 0.05 = 5% */
	int direction;      /* -1: take the metric's own, else RD_LOWER / RD_HIGHER */
	bool gate;          /* false: compare and report, never fail the gate */
};
#define VERDICT_SETTINGS_INIT { .alpha = 0.01, .min_effect = 0.05, .direction = -1, .gate = true }

/*
 * Parse a "compare" object ({"alpha": 0.01, "min_effect": "5%" or 0.05,
 * "direction": "lower"|"higher", "gate": false}) over *s, so that a more
 * specific object applied after a general one wins key by key.  Unknown keys
 * and bad values append one line each to problems, starting with path
 * ("benchmarks[1].compare.alpha: expected a number in (0, 0.5], got 2");
 * *s keeps its value for those keys.  A "metrics" member (per-metric
 * overrides, {"instructions": {"min_effect": "0.5%"}}) must be removed by
 * the caller, which applies it as a more specific level (compare.c);
 * verdict_settings_validate checks it.
 */
void verdict_settings_parse(const cJSON *obj, const char *path, struct verdict_settings *s,
			    struct errlist *problems);
/* Check a suite's "compare" object (with its "metrics" overrides). */
void verdict_settings_validate(const cJSON *compare, const char *path, struct errlist *problems);

struct verdict_input {
	const double *base;             /* baseline samples, pooled over runs */
	size_t n_base;
	const double *base_run_medians; /* one per baseline run, for the noise floor */
	size_t n_runs;
	const double *cur;              /* this run's samples */
	size_t n_cur;
	enum rd_direction direction;    /* used when settings.direction is -1 */
	struct verdict_settings settings;
};

struct verdict {
	enum verdict_kind kind;
	double p;          /* one-sided MWU p in the worse direction */
	double p_adj;      /* BH-adjusted across the invocation (set by verdict_decide) */
	double p_better;   /* one-sided p in the better direction */
	double p_better_adj;
	double p_min;      /* smallest p reachable with these sample sizes */
	bool exact;        /* p from the exact distribution */
	double ratio, ratio_lo, ratio_hi; /* HL ratio current/baseline, CI at 1 - alpha */
	bool ratio_is_shift; /* values <= 0 present: ratio* hold a difference cur - base */
	double floor;      /* relative: 0.05 = 5% */
	double spread;     /* 1.4826 * MAD of log run medians */
	double base_median, base_lo, base_hi; /* 95% CIs of the medians; NAN when n too small */
	double cur_median, cur_lo, cur_hi;
	size_t n_base, n_cur, n_runs;
	enum rd_direction direction; /* the one used */
	bool gate;         /* the metric gates (settings.gate) */
	char why[256];     /* one readable sentence with the numbers behind the verdict */
};

/* Step 1 per metric: test + effect + floor (kind provisional). */
void verdict_measure(const struct verdict_input *in, struct verdict *out);

/*
 * Step 2 across ALL metrics of one invocation: Benjamini-Hochberg over the
 * metrics that gate, then the final kinds and why-sentences.  per_metric has
 * n entries (the settings each metric was measured with).  Metrics with
 * gate = false are adjusted among themselves, so tracking a metric never
 * weakens the gate on the others.
 */
void verdict_decide(struct verdict *v, size_t n, const struct verdict_settings *per_metric);

#endif
