/*
 * compare.h: one comparison of a run against its baseline, the thing
 * `compare`, `gate` and `report` show (DESIGN section 5, docs/gate.md).
 *
 * compare_run() takes the current run document, the chosen baseline
 * (core/baseline.h) and the suite (for settings, SLOs and A/B variants; may
 * be NULL) and produces a struct compare_result: one row per benchmark and
 * metric against history, one row per A/B variant and metric against its
 * reference variant, one line per SLO, a geometric mean, and the pass/fail
 * decision.  Renderers and the JSON (stored) form live in core/report.h.
 * Nothing here touches the database.
 */
#ifndef PERFGATE_COMPARE_H
#define PERFGATE_COMPARE_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "baseline.h"
#include "err.h"
#include "rundoc.h"
#include "suite.h"
#include "verdict.h"

#define COMPARE_SCHEMA_VERSION 1

struct compare_row {
	char *bench;                  /* benchmark name in the current run */
	char *metric;
	char *unit;                   /* the metric's unit ("s", "B", "1/s", "1", ...) */
	char *against;                /* A/B row: the reference benchmark; NULL: history baseline */
	struct verdict_settings settings; /* as resolved (compare_settings_for) */
	struct verdict v;
	char **base_runs;             /* run ids the baseline samples came from, nearest first */
	size_t n_base_runs;
	char **base_commits;          /* their commits (NULL entries when unknown) */
	char *hint;                   /* what setting would help (the exact key and a number) when
					 the row cannot be tested or cannot see changes under
					 VERDICT_MDE_FLAG; NULL when nothing needs saying */
	bool hint_always;             /* the hint is about a setting that does not fit (a
					 calibration beside a waiting command): reports show it
					 whatever the row detects */
	bool unconfirmed;             /* inconclusive: a regression against the history that
					 the pairs beside the base commit did not show
					 (compare_require_base_confirmation) */
};

struct compare_slo {
	char *bench;
	char *key;                    /* "latency.p95" */
	char *expr;                   /* "< 250ms" */
	char *unit;                   /* the metric's unit, for formatting actual */
	bool ok;
	double actual;                /* SI units */
	char *why;
};

/* `gate --base REF`: the run measured the head's benchmarks ("NAME@head")
 * beside the base commit's ("NAME@base") in one job, and its A/B rows gate
 * like history rows (docs/gate.md, "Against a base commit"). */
struct compare_against_base {
	char *ref;                    /* as given ("origin/main"); NULL: not such a run */
	char *commit;                 /* full id of the commit measured as the base */
	bool merge_base;              /* commit is the merge-base of HEAD and ref, not ref's own */
	char **changed;               /* benchmarks the base commit's suite lacks or defines
					 otherwise: new or changed in this change (read by
					 compare_run; not kept in a compare_result) */
	size_t n_changed;
};

struct compare_result {
	char *run_id;
	char *project;
	char *suite;
	char *commit;                 /* NULL outside git */
	char *branch;
	bool strict;                  /* inconclusive / insufficient-data fail too */
	struct compare_against_base against_base; /* ref NULL: A/B rows are reported, not gated */
	struct compare_row *rows;     /* history rows then A/B rows, in run order */
	size_t n_rows;
	struct compare_slo *slos;
	size_t n_slos;
	/* The baseline, for the report's explanation. */
	char *base_mode;              /* baseline_mode_name() */
	char *base_branch;
	char *base_anchor;
	char *base_why;
	char **base_commits;          /* distinct commits of the runs used, nearest first */
	size_t n_base_commits;
	size_t base_runs;             /* distinct baseline runs used */
	size_t base_samples;          /* baseline samples of the metric with the most */
	char **notes;                 /* warnings shown loudly: shallow clone, failed benchmarks... */
	size_t n_notes;
	bool dirty;                   /* measured from a tree with uncommitted changes */
	char **failed_benches;        /* benchmarks of the run that failed (not compared): the run is invalid */
	size_t n_failed_benches;
	/* Geometric mean of current/baseline over history rows with a ratio,
	 * higher-is-better metrics inverted so that > 1 always reads "worse". */
	double geomean;               /* NAN when no row has one */
	size_t geomean_n;
	/* Outcome. */
	size_t counts[VERDICT_NO_BASELINE + 1]; /* gated history rows per verdict */
	size_t slo_failed;
	size_t confirm_reps;          /* repetitions added to each benchmark measured more, 0 when none ran */
	size_t looks;                 /* looks a sequential gate took (1: decided on the first) */
	double extra_seconds;         /* s spent measuring more */
	bool budget_spent;            /* measuring more stopped at its budget, undecided */
	/* Confirming against the base: the base commit the benchmarks were
	 * measured beside (NULL: none were), the history regressions the
	 * pairs confirmed and did not, the rows the history passed (under its
	 * floor, or blind: compare_row_blind) they showed to be regressions
	 * (revealed), the blind rows they showed no regression in (cleared),
	 * and the seconds they took. */
	struct compare_base_confirmation {
		char *commit;
		size_t confirmed, unconfirmed, revealed, cleared;
		double seconds;
	} confirm_base;
	/* The benchmarks whose history rows the gate measures again beside
	 * the base commit whenever they look worse (gate_run, docs/gate.md
	 * "Confirming against the base"): a change their floors hold under is
	 * still caught when the pairs show it, whatever `detects` says. */
	char **confirms_base;
	size_t n_confirms_base;
	/* What the gate stored (gate_run; compare stores nothing): stored_as
	 * 0 not stored by this comparison, 1 stored and may be a baseline, -1
	 * stored and never a baseline, not_baseline saying why. */
	int stored_as;
	char *not_baseline;
	bool passed;
};

struct compare_options {
	bool strict;
	bool variants_only;           /* `compare --variants`: A/B rows only, no history */
	double level_share;           /* a later look of a sequential gate: history and A/B rows
					 are tested at this share of their alpha (core/sequential.h);
					 1: alpha */
	const struct compare_against_base *against_base; /* `gate --base`: A/B rows gate (copied
					 into the result); NULL: they are reported only */
};
#define COMPARE_OPTIONS_INIT { .strict = false, .level_share = 1 }

/*
 * Compare `cur` against `base` (may be NULL: no baseline at all) and the
 * suite's settings and SLOs (suite may be NULL: defaults, no SLOs, A/B
 * variants recognised by "NAME@VARIANT" names with a reference marked in the
 * benchmark's extra "variant" member).  Returns 0, or ERR_INPUT when settings
 * are invalid or an SLO names a metric that does not exist (err says which).
 */
int compare_run(const struct rundoc *cur, const struct baseline *base, const struct suite *suite,
		const struct compare_options *opts, struct compare_result **out, struct err *err);

/* Add a note (printf-style, one line) that the reports show loudly. */
void compare_add_note(struct compare_result *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* Recompute counts, passed and geomean from the rows and SLOs (after edits). */
void compare_finish(struct compare_result *r);

void compare_result_free(struct compare_result *r);

/* Do the A/B rows of r gate (`gate --base`)? */
bool compare_ab_gated(const struct compare_result *r);

/* Does this row fail the gate (given r->strict)? */
bool compare_row_fails(const struct compare_result *r, const struct compare_row *row);

/* Does this row gate: a gated metric, and not an A/B row of an experiment
 * (A/B rows gate only against the base commit, compare_ab_gated)? */
bool compare_row_gates(const struct compare_result *r, const struct compare_row *row);

/* Names of benchmarks with a gated history regression (confirmation
 * re-measures them).  *out is a new array of borrowed strings; free(*out). */
size_t compare_regressed_benches(const struct compare_result *r, const char ***out);

/* Is row a gated history row significantly worse, by the metric's
 * min_effect or more, that its floor (the spread between runs, the
 * machine's record) held under: below-floor in the worse direction? */
bool compare_row_under_floor(const struct compare_result *r, const struct compare_row *row);

/* Is row a gated history row that is no regression and cannot see a
 * change of VERDICT_MDE_FLAG (its detectable effect is over it), where
 * pairs beside the base commit in this job would (verdict.mde_paired is
 * under it)?  The spread between runs blinds it: the machine between
 * jobs, or a history too short to know its spread.  A change of any size
 * under that spread passes it, a job on a faster machine hiding it. */
bool compare_row_blind(const struct compare_result *r, const struct compare_row *row);

/* Does only blindness send bench beside the base: a blind row
 * (compare_row_blind), and no gated history row of it a regression or
 * under the floor? */
bool compare_bench_blind_only(const struct compare_result *r, const char *bench);

/* What confirming against the base measures beside the base: the
 * benchmarks of compare_regressed_benches and those with a row under the
 * floor (compare_row_under_floor) or blind (compare_row_blind); as
 * compare_regressed_benches. */
size_t compare_base_confirm_benches(const struct compare_result *r, const char ***out);

/*
 * A regression measured more must replicate: every gated history row of
 * `pooled` that is a regression stays one only when the same row of
 * `again` (the repetitions measured after the first look, compared on
 * their own with the same baseline) is worse by the row's floor too; else
 * it becomes inconclusive, and says why.  A disturbance that lasted the
 * first measurement rarely lasts the next; a slower program does.  Returns
 * the rows changed; compare_finish() is called when there are any.
 */
size_t compare_require_replication(struct compare_result *pooled, const struct compare_result *again);

/*
 * `gate --confirm-base` (docs/gate.md, "Confirming against the base"):
 * `pairs` compares the benchmarks of compare_base_confirm_benches(),
 * measured again in this job beside the base commit `commit` (NAME@head
 * against NAME@base, core/headbase.h).  Every gated history regression of
 * `hist` whose pair row (same metric) is a regression too stays one,
 * confirmed; one whose pair row shows anything else becomes inconclusive,
 * marked unconfirmed: the head is no slower than its base on this machine
 * now, so what the history saw came from the machine between jobs, not
 * from the change.  A row under the history's floor
 * (compare_row_under_floor) or blind (compare_row_blind) whose pair row
 * is a regression becomes one: the spread between runs hid it.  A blind
 * row whose pair row shows no regression keeps its verdict, says what the
 * pairs showed, and takes their detectable effect when it is smaller: the
 * gate saw the row through them (cleared).  A row whose pair row cannot
 * judge it keeps its verdict: no pairs (the benchmark did not run on both sides),
 * or too few for the test while they show the change (pairs that tie and
 * show less than the floor judge: they measured no difference).  Each row
 * changed says why, with both measurements.  hist->confirm_base gets the
 * commit and the counts; compare_finish() is called when a verdict
 * changed.
 */
void compare_require_base_confirmation(struct compare_result *hist, const struct compare_result *pairs,
				       const char *commit);

/*
 * A later look of a gate that measured more decides again only what was
 * not decided yet: every row of `now` that `before` had decided (final at
 * an earlier look: unchanged, below the floor, an improvement, or an A/B
 * row flagged at once) gets its verdict back, so that a look at a smaller
 * share of alpha, or a benchmark not measured again, never undoes a
 * decision.  Rows without a baseline or with too few samples, and history
 * regressions still to confirm, take the new look's verdict.  Returns how
 * many rows got back a kind other than the new look's; calls
 * compare_finish().
 */
size_t compare_keep_decided(struct compare_result *now, const struct compare_result *before);

/* Names of benchmarks with a gated history row that is undecided (a
 * regression not yet confirmed, or inconclusive), or an A/B row of a gated
 * metric that is inconclusive: what measuring more is for.  *out as above. */
size_t compare_undecided_benches(const struct compare_result *r, const char ***out);

/* The resolved settings for one benchmark and metric, each level overriding
 * the one before key by key: the defaults (with gate false when the run
 * document marks the metric tracked, "extra": {"gate": false}, as a command
 * benchmark with a calibration does for its raw times), the suite's
 * "compare", the suite's "compare.metrics.<metric>", the benchmark's
 * "compare", the benchmark's "compare.metrics.<metric>".  m may be NULL. */
int compare_settings_for(const struct suite *suite, const char *bench, const struct rd_metric *m,
			 struct verdict_settings *out, struct err *err);

/* The verdict kind from its name, -1 when unknown. */
int compare_verdict_from_name(const char *name);

#endif
