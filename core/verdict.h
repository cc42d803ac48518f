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

/* How a verdict was tested (docs/statistics.md). */
enum verdict_test {
	VERDICT_TEST_RANK_SUM,    /* Mann-Whitney U on the two samples */
	VERDICT_TEST_SIGNED_RANK, /* Wilcoxon signed-rank on per-pair log-ratios (measured interleaved) */
	VERDICT_TEST_EXACT        /* no spread on either side: the change itself against the floor */
};

/* "rank-sum", "signed-rank", "exact" */
const char *verdict_test_name(enum verdict_test t);

/* A detectable effect over this is flagged: not worth gating as configured. */
#define VERDICT_MDE_FLAG 0.25
/* The power the detectable effect is stated at. */
#define VERDICT_MDE_POWER 0.8

struct verdict_settings {
	double alpha;       /* false-discovery level across the invocation; default 0.01 */
	double min_effect;  /* smallest relative change that matters; 0.05 = 5% */
	int direction;      /* -1: take the metric's own, else RD_LOWER / RD_HIGHER */
	bool gate;          /* false: compare and report, never fail the gate */
	long max_extra_repetitions; /* measuring more: extra repetitions of a benchmark at
				       most; -1: as many as its first measurement had */
	double max_extra_time;      /* s of measuring more per gate at most; -1: the default */
};
#define VERDICT_SETTINGS_INIT                                                           \
	{                                                                               \
		.alpha = 0.01, .min_effect = 0.05, .direction = -1, .gate = true,        \
		.max_extra_repetitions = -1, .max_extra_time = -1                        \
	}

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
	bool paired;                    /* base[i] and cur[i] were measured side by side
					   (interleaved); needs n_base == n_cur, else ignored */
	double prior;                   /* between-run spread to assume for a history shorter
					   than NOISE_PRIOR_RUNS (log scale); <= 0 or NAN: none */
	bool prior_machine;             /* the prior is the machine's recorded spread */
	double machine_jump;            /* relative: the machine's recorded run-to-run change
					   (noise.h); <= 0 or NAN: none */
	double abs_floor;               /* smallest absolute change that counts, in the
					   metric's unit (its resolution); 0: none */
	bool batches;                   /* the samples are batch means of a load benchmark */
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
	double spread;     /* between-run spread the floor used: 1.4826 * MAD of log run
			      medians, or pooled with the prior of a short history */
	enum verdict_test test;
	bool batches;      /* samples were batch means */
	int floor_source;  /* enum noise_floor_source: what set the floor */
	bool short_history;/* the floor is the prior's: too few baseline runs to know better */
	bool prior_machine;/* ...and that prior the machine's recorded spread, not the default */
	double abs_floor;  /* absolute minimum change in the metric's unit; 0: none */
	double s_within;   /* robust spread of the current samples (log scale), or of the pairs */
	size_t n_far;      /* paired: pairs far from the rest by size (core/stats.h, stats_far_pairs) */
	bool far_set_aside;/* ...set aside: the test of the pairs left decided, and its estimate shown */
	double mde;        /* minimum detectable effect (relative, at VERDICT_MDE_POWER); NAN: none */
	double mde_paired; /* the same for these samples measured as pairs beside the base commit in
			      one job: no spread between runs, the settings' floor (an unpaired row's;
			      NAN otherwise).  Over mde's flag where this is under it, the spread
			      between runs is what keeps the history from seeing a change */
	double level;      /* the level the verdict was decided at: alpha, or a look's share of it */
	double median_change; /* cur_median / base_median - 1, or their difference when
				 ratio_is_shift; NAN when there is none */
	double base_median, base_lo, base_hi; /* 95% CIs of the medians; NAN when n too small */
	double cur_median, cur_lo, cur_hi;
	size_t n_base, n_cur, n_runs;
	enum rd_direction direction; /* the one used */
	bool gate;         /* the metric gates (settings.gate) */
	char why[384];     /* one readable sentence with the numbers behind the verdict */
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

/* The verdict's effect in the worse direction as a log ratio (> 0: worse;
 * a difference is read against the baseline median). */
double verdict_worse_effect(const struct verdict *v);

/*
 * The same at a look of a sequential gate (core/sequential.h): every
 * metric is tested at share x its alpha (share in (0, 1], the look's level
 * over the gate's alpha).  Metrics without spread on either side are
 * decided on their change against the floor and kept out of the
 * Benjamini-Hochberg family: a change measured without any doubt is never
 * held back by a rank test's resolution or by the other metrics.  Also
 * fills each verdict's minimum detectable effect.
 */
void verdict_decide_at(struct verdict *v, size_t n, const struct verdict_settings *per_metric,
		       double share);

#endif
