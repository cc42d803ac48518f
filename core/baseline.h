/*
 * baseline.h: which stored runs a new run is compared against (DESIGN
 * section 5, docs/gate.md "The baseline").
 *
 * The rule: runs of the same project, suite and hardware fingerprint, made
 * ON the baseline branch and not from a pull request, a fork or a dirty
 * tree; at the nearest ancestors of the commit under test that have results
 * (for a pull request: of the merge-base with the baseline branch); the last
 * K per benchmark (default 5) whose configuration hash matches; none from
 * before the newest change point of that benchmark and metric.  A shallow
 * clone (or a checkout without the baseline branch) falls back to the latest
 * runs on the baseline branch by time, and says so.  `--baseline` overrides:
 * RUN_ID, COMMIT, branch:NAME (latest runs on NAME by time) or file:RUN.json.
 *
 * The logic here is pure: the stored runs come through a struct
 * baseline_source (db/baseline.h provides one over the database; tests give
 * an in-memory one), and git history through core/gitinfo.h.
 */
#ifndef PERFGATE_BASELINE_H
#define PERFGATE_BASELINE_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"
#include "rundoc.h"

#define BASELINE_DEFAULT_RUNS 5

/* What the source is asked for.  NULL members do not filter. */
struct baseline_query {
	const char *project;
	const char *suite;
	const char *fingerprint;
	const char *branch;            /* runs made on this branch */
	bool baseline_only;            /* pr IS NULL, not a fork, not dirty */
	const char *exclude_run;       /* the run under test */
	const char *before;            /* RFC 3339: only runs started before it */
	const char *const *commits;    /* only runs at one of these commits (full ids) */
	size_t n_commits;
	const char *commit_prefix;     /* only runs whose commit starts with this */
	size_t limit;                  /* at most this many, newest first */
};

/* One candidate run as the source lists it. */
struct baseline_cand {
	char *run_id;
	char *commit;                  /* NULL when the run had none */
	double started;                /* s since the epoch */
};

/* The newest change point of one benchmark and metric on the baseline branch. */
struct baseline_cutoff {
	char *bench;
	char *metric;
	double after;                  /* s since the epoch: runs started before it are not used */
	char *commit;                  /* the first commit after the change, for the explanation */
};

/*
 * The machine's record of how much one stored series moves between
 * consecutive runs: for one project, suite, benchmark and metric on the
 * fingerprint asked for, the sum of squared differences of consecutive log
 * run medians (each capped at BASELINE_SPREAD_CAP, so that a real change of
 * 2x or more in the history counts as no more than that) and how many.
 */
struct baseline_spread {
	char *project;
	char *suite;
	char *bench;
	char *metric;
	double sum_sq;
	size_t n;
	double *changes;               /* the n differences |d|, uncapped (NULL: not kept) */
};
#define BASELINE_SPREAD_CAP 0.6931471805599453 /* log(2) */

/* Differences the machine must have recorded before its spread replaces a
 * metric's default prior (20: the spread's estimate is then within about
 * +-30% of the truth, 90% of the time). */
#define BASELINE_SPREAD_MIN 20

/*
 * The record of one metric, indexed once (baseline_index_record) so that
 * each history row's lookups cost a search, not a pass over the whole
 * record: its series are spreads[first .. first + count) (sorted by
 * metric, project, suite, benchmark), sum_sq and n pool all of them, and
 * sorted holds every kept change |d| in ascending order.
 */
struct baseline_record {
	const char *metric;            /* borrowed from the spreads */
	size_t first;
	size_t count;
	double sum_sq;
	size_t n;
	double *sorted;
	size_t n_sorted;
};

struct baseline_source {
	/* Candidate runs matching q, newest first (by started_at). */
	int (*candidates)(void *arg, const struct baseline_query *q, struct baseline_cand **out,
			  size_t *n, struct err *err);
	/* Load one stored run document (ERR_NOTFOUND when absent). */
	int (*load)(void *arg, const char *run_id, struct rundoc **out, struct err *err);
	/* Newest change point per benchmark and metric for q's project, suite,
	 * fingerprint and branch (NULL: the store has none). */
	int (*cutoffs)(void *arg, const struct baseline_query *q, struct baseline_cutoff **out,
		       size_t *n, struct err *err);
	/* The machine's recorded spread, per stored series of q's fingerprint
	 * (any project and suite, baseline runs only); NULL: the store keeps
	 * none. */
	int (*spreads)(void *arg, const struct baseline_query *q, struct baseline_spread **out,
		       size_t *n, struct err *err);
	void *arg;
	/* Make the store reachable before the first query (a database connects
	 * here, once); NULL: always ready.  ERR_INFRA when it cannot be reached. */
	int (*open)(void *arg, struct err *err);
};

/*
 * Stored runs in memory, and a baseline source over them that applies the
 * same filters as the database's query: for unit tests, and for anything
 * that holds its runs itself.  The store owns the documents it is given.
 */
struct baseline_memory {
	struct rundoc **runs;
	bool *eligible;                /* baseline_eligible() of each, when it was added */
	size_t n;
	size_t alloc;
	size_t loads;                  /* documents handed out by the source's load() */
};
#define BASELINE_MEMORY_INIT { .runs = NULL }
/* Keep rd (the store owns it from now on), deciding now whether it may be a
 * baseline, as a database does when it stores a run. */
void baseline_memory_add(struct baseline_memory *m, struct rundoc *rd);
/* A source over m (borrowed: m must outlive the source's use). */
void baseline_memory_source(struct baseline_memory *m, struct baseline_source *out);
void baseline_memory_release(struct baseline_memory *m);

struct baseline_options {
	const char *repo_dir;          /* git checkout for ancestry; NULL: "." */
	const char *branch;            /* suite "baseline.branch"; NULL: PR base, remote default, "main" */
	size_t runs;                   /* K; 0: BASELINE_DEFAULT_RUNS */
	const char *spec;              /* --baseline, NULL: automatic */
	size_t max_ancestors;          /* commits walked; 0: 1000 */
	size_t max_load;               /* run documents loaded at most; 0: 20 * K */
};
#define BASELINE_OPTIONS_INIT { .repo_dir = NULL }

struct baseline_run {
	struct rundoc *doc;
	double started;                /* s since the epoch; 0 when unknown */
};

enum baseline_mode {
	BASELINE_NONE,       /* nothing stored yet: the first run passes */
	BASELINE_ANCESTORS,  /* nearest ancestors of the commit under test */
	BASELINE_MERGE_BASE, /* nearest ancestors of the merge-base (a PR or feature branch) */
	BASELINE_LATEST,     /* latest runs on the branch by time (shallow clone, no git, branch:NAME) */
	BASELINE_EXPLICIT    /* --baseline RUN_ID, COMMIT or file: */
};

struct baseline {
	enum baseline_mode mode;
	struct baseline_run *runs;     /* preferred first */
	size_t n_runs;
	size_t k;                      /* runs per benchmark and metric to use */
	struct baseline_cutoff *cutoffs;
	size_t n_cutoffs;
	struct baseline_spread *spreads; /* the machine's record (baseline_machine_spread) */
	size_t n_spreads;
	struct baseline_record *records; /* spreads by metric (baseline_index_record) */
	size_t n_records;
	char *branch;                  /* the baseline branch */
	char *anchor;                  /* the commit the ancestry walk started at, or NULL */
	char *why;                     /* how the runs were chosen, one or two sentences */
	struct errlist notes;          /* warnings to show loudly (shallow clone fallback...) */
};

/* "ancestors", "merge-base", "latest", "explicit", "none". */
const char *baseline_mode_name(enum baseline_mode m);

/* How far in the future a run may say it started (clock skew between
 * machines) and still be a baseline. */
#define BASELINE_CLOCK_SKEW_S 300

/*
 * May this run ever be a baseline (docs/security.md)?  Decided once, when
 * the run is stored, and kept with it; baseline selection reads only that.
 * Yes when its context is trusted (rd->context_trusted: measured by this
 * perfgate, signed in its spool, or vouched for by `push
 * --baseline-eligible`) and that context is a branch build
 * (cictx_may_be_baseline: no pull/merge request number, not a fork, a
 * push/schedule/manual CI event or a local run), from a clean tree, not a
 * partial run, and it started no later than now (s since the epoch) plus
 * BASELINE_CLOCK_SKEW_S.  On false, *why (when given) says why in a few
 * words ("a pushed run document", "a dirty tree").
 */
bool baseline_eligible(const struct rundoc *rd, double now, const char **why);

/*
 * The baseline branch for a run: opts->branch, else the pull request's base
 * branch (rd->ci.base_branch), else the remote's default branch, else "main".
 * Returns a new string.
 */
char *baseline_branch(const struct rundoc *cur, const struct baseline_options *opts);

/*
 * Choose the baseline runs for `cur`.  *out is filled (release with
 * baseline_release) even when nothing was found (mode BASELINE_NONE).
 * Errors: ERR_INPUT for a bad --baseline spec or an explicit baseline that
 * does not exist; the source's code when it fails.
 */
int baseline_select(const struct baseline_source *src, const struct rundoc *cur,
		    const struct baseline_options *opts, struct baseline *out, struct err *err);
void baseline_release(struct baseline *b);

/*
 * Does baseline run `run` hold a usable result for benchmark `b` (same name,
 * same configuration hash, status ok)?  Returns it or NULL.
 */
const struct rd_bench *baseline_match(const struct rundoc *run, const struct rd_bench *b);

/* The cutoff (s since the epoch) for one benchmark and metric, 0 when none. */
double baseline_cutoff_for(const struct baseline *b, const char *bench, const char *metric);

/*
 * Index b->spreads by metric (sorting them), for baseline_machine_spread
 * and baseline_machine_jump, which read only the index.  baseline_select
 * calls it; whoever fills spreads otherwise calls it again after each
 * change to them.
 */
void baseline_index_record(struct baseline *b);

/*
 * The machine's spread between runs of `metric` (log scale, as a standard
 * deviation: sqrt(sum of squared differences / 2n)), from every series of
 * the record but `bench` of `project` and `suite` itself (whose own runs
 * speak for themselves); NAN when the record has fewer than
 * BASELINE_SPREAD_MIN differences.  *n_out (when given): how many.
 */
double baseline_machine_spread(const struct baseline *b, const char *project, const char *suite,
			       const char *bench, const char *metric, size_t *n_out);

/*
 * The machine's recorded run-to-run change of `metric` (log scale): the
 * quantile q (nearest rank) of |d| over every series of the record, the
 * benchmark's own included (its older runs are the machine's record too);
 * NAN when fewer than BASELINE_SPREAD_MIN changes are kept.  *n_out (when
 * given): how many.
 */
double baseline_machine_jump(const struct baseline *b, const char *metric, double q, size_t *n_out);

void baseline_cands_free(struct baseline_cand *c, size_t n);
void baseline_cutoffs_free(struct baseline_cutoff *c, size_t n);
void baseline_spreads_free(struct baseline_spread *s, size_t n);

/* RFC 3339 ("2026-11-28T18:34:56.123Z", "...+01:00") to s since the epoch; NAN when malformed. */
double baseline_parse_time(const char *rfc3339);

#endif
