/*
 * noise.h: how much noise a comparison must see through.
 *
 * Part 1, the noise floor of a comparison (docs/statistics.md, "Noise
 * floor"): the smallest relative change a verdict may call a regression,
 * from the user's min_effect, the spread between baseline runs (or, for a
 * history too short to show it, a prior), and the metric's resolution (an
 * absolute minimum change for metrics that move in steps); the per-metric
 * rules behind the defaults; and the test for metrics without any spread.
 *
 * Part 2, warnings that a benchmark's samples are too noisy to trust
 * (shown in `run`'s report and kept in the run document's bench extra
 * "warnings"):
 *
 *  - outliers: samples whose modified z-score |0.6745 (x - median) / MAD|
 *    exceeds 3.5 (Iglewicz and Hoaglin), robust where the plain z-score is
 *    not, because the outliers themselves inflate the standard deviation;
 *  - a slow first run: the first repetition is an outlier above the median
 *    (caches, page faults, a cold disk) and no warmup was done;
 *  - a coefficient of variation (sample stddev / mean) over a threshold.
 */
#ifndef PERFGATE_NOISE_H
#define PERFGATE_NOISE_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

/* ---- Part 1: the noise floor ---- */

/* With fewer baseline runs than this, the spread between runs is unknown
 * and a prior stands in for it (docs/statistics.md, "Short histories"). */
#define NOISE_PRIOR_RUNS 3
/* ...counting as this many runs when pooled with a measured spread. */
#define NOISE_PRIOR_WEIGHT 2
/* The share of the machine's recorded run-to-run changes a history's floor
 * clears (docs/statistics.md, "The machine's record of run-to-run
 * changes"): under a bell curve the 95th percentile of the difference of
 * two runs is 2.8 spreads of one, inside the 3-spread floor, so it binds
 * only where a machine's runs move in jumps. */
#define NOISE_MACHINE_QUANTILE 0.95
/* Samples all within this relative range of each other have no spread. */
#define NOISE_ZERO_SPREAD 1e-4

/* The defaults one metric gets before a suite's settings (docs/gate.md,
 * "Metrics and their defaults"). */
struct noise_rule {
	const char *name;      /* the metric, or a family prefix ending in '.' */
	const char *unit;      /* NULL: any; else the unit a fallback rule needs */
	double min_effect;     /* default min_effect (relative) */
	double abs_floor;      /* smallest absolute change that counts, in the
				  metric's unit; 0: none */
	double prior;          /* between-run spread (log scale) assumed while the
				  history is shorter than NOISE_PRIOR_RUNS */
	bool gate;             /* gated by default */
	const char *why;       /* the rule in words */
};

/* The rule for a metric (its name up to any '@' of a sweep step); never NULL
 * (the last rule matches everything). */
const struct noise_rule *noise_rule_for(const char *metric, const char *unit);

/* Every rule, for the documentation's table and the tests. */
const struct noise_rule *noise_rules(size_t *n);

enum noise_floor_source {
	NOISE_FLOOR_MIN_EFFECT,  /* the user's (or the metric's default) min_effect */
	NOISE_FLOOR_SPREAD,      /* 3 x the measured spread between baseline runs */
	NOISE_FLOOR_PRIOR,       /* 3 x the prior spread of a short history */
	NOISE_FLOOR_RESOLUTION,  /* the metric's absolute minimum change */
	NOISE_FLOOR_MACHINE      /* the machine's recorded run-to-run change */
};

/* "min_effect", "spread", "short history", "resolution", "machine" */
const char *noise_floor_source_name(enum noise_floor_source s);

struct noise_floor_input {
	double min_effect;   /* relative, as resolved from the settings */
	double spread;       /* 1.4826 x MAD of the logs of the baseline's run medians */
	size_t n_runs;       /* baseline runs behind that spread */
	double prior;        /* spread to assume for a short history; NAN: none known */
	double abs_floor;    /* absolute minimum change in the metric's unit; 0: none */
	double base_median;  /* the baseline's median, to make abs_floor relative */
	double machine_jump; /* relative: the change the machine's recorded run-to-run
				changes stay under (baseline_machine_jump); NAN: none */
};

struct noise_floor {
	double floor;        /* relative: 0.05 = 5% */
	double spread;       /* the between-run spread used (measured, or pooled with the prior) */
	enum noise_floor_source source;
	bool short_history;  /* n_runs < NOISE_PRIOR_RUNS and a prior was used */
};

/*
 * The floor = max(min_effect, 3 x spread, machine_jump, abs_floor /
 * |base_median|).  With n_runs < NOISE_PRIOR_RUNS and a prior, spread is
 * the larger of the measured one and sqrt((W prior^2 + (K - 1) spread^2) /
 * (W + K - 1)), W = NOISE_PRIOR_WEIGHT: the prior alone for one run,
 * tightened by a second.
 */
void noise_floor_compute(const struct noise_floor_input *in, struct noise_floor *out);

/*
 * Have these samples no spread worth a test?  True when every value is
 * within NOISE_ZERO_SPREAD (relative) of the others, or within abs_res
 * (absolute, the metric's step; 0: none) for values near zero.  Such a
 * metric is decided on its effect against the floor directly (verdict.c).
 */
bool noise_zero_spread(const double *v, size_t n, double abs_res);

/* ---- Part 2: noise warnings ---- */

#define NOISE_Z_LIMIT 3.5
#define NOISE_CV_LIMIT 0.10 /* 10% */
#define NOISE_MIN_SAMPLES 3 /* fewer say nothing about noise */

struct noise_report {
	size_t outliers;      /* samples with |modified z| > NOISE_Z_LIMIT */
	bool slow_first;      /* the first sample is an outlier above the median */
	double first_ratio;   /* first sample / median of the others */
	double cv;            /* sample stddev / mean; 0 when n < 2 or mean == 0 */
};

/* Analyse n samples in repetition order. */
void noise_analyse(const double *samples, size_t n, struct noise_report *r);

/*
 * Append one human-readable line per problem to `warnings` (a cJSON array
 * of strings), each starting with the metric's name:
 *   "wall: 2 of 20 samples are outliers (modified z-score > 3.5)"
 *   "wall: the first repetition took 3.1x the median of the others; add \"warmup\""
 *   "wall: coefficient of variation 16.2% is over 10%"
 * had_warmup suppresses the first-run advice (the warning stays as an outlier).
 */
void noise_warn(const char *metric, const double *samples, size_t n, bool had_warmup,
		cJSON *warnings);

#endif
