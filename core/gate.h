/*
 * gate.h: the gate pipeline (DESIGN sections 1 and 5, docs/gate.md).
 *
 * gate_run() takes a loaded suite and runs it into a run document, finds the
 * baseline, compares, re-measures the benchmarks that regressed and decides
 * again on the pooled samples, then stores the run and its comparison (or
 * spools the run when the store cannot be reached), and returns everything
 * in a struct gate_result.  `perfgate gate` is gate_run(); `perfgate run` is
 * gate_run() without the comparison; `perfgate compare` is gate_compare()
 * and gate_store_comparison() on a run measured earlier.
 *
 * Nothing here knows the database: stored runs come through a struct
 * baseline_source (core/baseline.h) and results go to a struct gate_store.
 * db/store.h provides both over PostgreSQL; baseline_memory_source() and
 * gate_store_memory() keep them in memory (unit tests).
 *
 * Like all of core/ this never prints: what a person should hear while the
 * gate works comes as notes, through opts->on_note as they happen and in
 * the result's list afterwards.
 */
#ifndef PERFGATE_GATE_H
#define PERFGATE_GATE_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "baseline.h"
#include "changepoint.h"
#include "compare.h"
#include "err.h"
#include "run.h"
#include "rundoc.h"
#include "suite.h"

/*
 * Where runs and comparisons are stored.  Every member but arg may be NULL
 * (then that step is skipped: an open that always succeeds, no spool).
 */
struct gate_store {
	/* Make the store reachable before the first write; called at most once
	 * per gate_run.  ERR_INFRA when it cannot be reached. */
	int (*open)(void *arg, struct err *err);
	/* Store a run, then update the change points of its series with cp
	 * (NULL: the run document's own settings).  *already: it was stored
	 * before, nothing was written.  A change point failure does not fail the
	 * store: its message goes to *cp_err (left empty when all went well). */
	int (*put_run)(void *arg, const struct rundoc *rd, const struct changepoint_params *cp,
		       bool *already, struct err *cp_err, struct err *err);
	/* Store a comparison (the JSON of schemas/compare.schema.json) of run_id. */
	int (*put_comparison)(void *arg, const char *run_id, const cJSON *comparison, struct err *err);
	/* Keep a run that could not be stored so that it can be stored later;
	 * *where (caller frees) says where it went. */
	int (*spool)(void *arg, const struct rundoc *rd, char **where, struct err *err);
	/* When even the spool fails (a full or read-only home): keep the run in
	 * a file of its own where a person finds it (`perfgate push FILE` stores
	 * it); *where (caller frees) says where. */
	int (*keep)(void *arg, const struct rundoc *rd, char **where, struct err *err);
	void *arg;
};

/* A store that keeps copies of the runs in m (so that a later gate_run over
 * baseline_memory_source(m) finds them) and ignores comparisons. */
void gate_store_memory(struct baseline_memory *m, struct gate_store *out);

/* What a person should hear, by kind; the message says the rest. */
enum gate_note_kind {
	GATE_NOTE_CONTEXT,        /* warning: the run's context (shallow clone, no git...) */
	GATE_NOTE_RUN_FAILED,     /* error: a benchmark failed; the run is invalid */
	GATE_NOTE_INTERRUPTED,    /* error: interrupted; nothing stored, no verdict */
	GATE_NOTE_CONFIRMING,     /* progress: regressed benchmarks are re-measured */
	GATE_NOTE_CONFIRM_FAILED, /* error: the confirmation run failed; the first verdict stands */
	GATE_NOTE_STORE_DOWN,     /* error: the store cannot be reached or refused the run */
	GATE_NOTE_SPOOLED,        /* error: where the run went instead */
	GATE_NOTE_CHANGEPOINTS    /* warning: stored, but change points not updated */
};

enum gate_note_level { GATE_PROGRESS, GATE_WARNING, GATE_ERROR };

struct gate_note {
	enum gate_note_kind kind;
	char *msg;                /* one line, no "perfgate: " prefix */
};

/* How loud a note of this kind is. */
enum gate_note_level gate_note_level(enum gate_note_kind kind);

/* When a gate confirms its history's verdicts against the base commit. */
enum gate_confirm_base { GATE_CONFIRM_BASE_OFF, GATE_CONFIRM_BASE_AUTO, GATE_CONFIRM_BASE_ALWAYS };

struct gate_options {
	struct run_options run;   /* how to run the suite (core/run.h); its notices are ignored:
				     they come as GATE_NOTE_CONTEXT notes */
	bool compare;             /* false: run and store only (`perfgate run`) */
	bool ab_interleave;       /* A/B variants run interleaved unless the suite chose an "order" */
	/* Baseline. */
	const char *baseline;     /* --baseline RUN_ID|COMMIT|branch:NAME|file:RUN.json; NULL: automatic */
	size_t baseline_runs;     /* K; 0: the suite's baseline.runs, else BASELINE_DEFAULT_RUNS */
	const char *repo_dir;     /* git checkout for the ancestry; NULL: the suite's folder (gate_run) or "." */
	/* Comparison. */
	bool strict;              /* inconclusive and insufficient-data verdicts fail too */
	bool variants_only;       /* A/B rows only, no baseline (`compare --variants`) */
	/* `gate --base REF` (core/headbase.h): the suite holds NAME@base and
	 * NAME@head pairs; they run interleaved, are compared with each other
	 * only (no baseline, as variants_only) and their A/B rows gate.  NULL:
	 * a gate against history. */
	const struct compare_against_base *against_base;
	bool confirm;             /* re-measure regressed benchmarks before failing */
	/* Confirming against the base (docs/gate.md): a history regression
	 * left after measuring more, or a row worse under the history's floor,
	 * is measured again in this job, in pairs beside the baseline's newest
	 * commit (core/headbase.h), and the pairs decide it
	 * (compare_require_base_confirmation).  AUTO (`perfgate gate`'s
	 * default) does it for the benchmarks that run the repository's own
	 * files (core/treecode.h), ALWAYS (`--confirm-base`) for every one
	 * --base can run.  confirm_base_build, when not NULL or "", is
	 * `sh -c`'d at the top of both trees first. */
	enum gate_confirm_base confirm_base;
	const char *confirm_base_build;
	long confirm_repetitions; /* repetitions of the re-run; 0: as many as the first run had */
	/* Instead of running the suite, the run comes from here: the merged
	 * shards of a distributed load test (core/shard_merge.h).  Returns 0
	 * with *out, or an error code (then there is no result); its notes
	 * become the gate's.  Such a run is never re-measured (confirm is
	 * ignored): its load ran elsewhere. */
	int (*run_source)(void *arg, struct rundoc **out, struct errlist *notes, struct err *err);
	void *run_source_arg;
	/* Each note as it is made (NULL: only in the result). */
	void (*on_note)(void *arg, const struct gate_note *note);
	void *note_arg;
};
#define GATE_OPTIONS_INIT                                                                  \
	{                                                                                  \
		.run = RUN_OPTIONS_INIT, .compare = true, .ab_interleave = true, .confirm = true \
	}

struct gate_result {
	struct rundoc *run;       /* the run, with a confirmation's samples pooled in */
	struct compare_result *comparison; /* NULL without a comparison (opts, or interrupted) */
	struct baseline baseline; /* what it was compared with (mode BASELINE_NONE: nothing) */
	bool have_baseline;       /* a baseline was selected (false: store down or no comparison) */
	bool invalid;             /* a benchmark failed, or the confirmation was interrupted */
	bool bad_input;           /* a file a benchmark names (a dataset, a trace) is malformed: exit 2 */
	bool interrupted;         /* the run was interrupted: nothing stored, no verdict */
	bool stored;              /* the run is in the store (already: it was stored before) */
	bool already;
	int store_rc;             /* 0, or the ERR_* code of the store's failure (then spooled) */
	char *spooled;            /* where the run was spooled, NULL when it was not */
	struct gate_note *notes;  /* in the order they were made */
	size_t n_notes;
	size_t alloc_notes;
};

/*
 * Run the gate.  src may be NULL when no baseline is needed (no comparison,
 * or a file: baseline); store NULL stores nothing (--no-store).  The suite
 * may be edited (A/B interleaving).  Returns 0 with *out filled, whatever
 * the verdict, also when the store cannot be reached or fails (then
 * store_rc says how, the SLOs are still checked and the run is spooled); a
 * negative code when there is no result to report: the suite could not run
 * at all, or the user's mistake (ERR_INPUT: a bad --baseline, an SLO naming
 * a metric that does not exist).  *out is then NULL.
 */
int gate_run(struct suite *suite, const struct gate_options *opts, const struct baseline_source *src,
	     const struct gate_store *store, struct gate_result **out, struct err *err);
void gate_result_free(struct gate_result *r);

/* What the result means for the exit code: a failed or interrupted run first,
 * then a store that failed, then the verdict. */
enum gate_outcome { GATE_PASSED, GATE_FAILED, GATE_INVALID, GATE_STORE_FAILED };
enum gate_outcome gate_outcome(const struct gate_result *r);

/*
 * The baseline and the comparison of a run, as gate_run does them and
 * `compare` does for a stored run: the baseline per the suite's "baseline"
 * settings (suite may be NULL) overridden by opts (none with
 * opts->variants_only), then compare_run().  *base is filled (release with
 * baseline_release) even on failure.
 */
int gate_compare(const struct rundoc *rd, const struct suite *suite, const struct gate_options *opts,
		 const struct baseline_source *src, struct baseline *base,
		 struct compare_result **out, struct err *err);

/*
 * Store one run as gate_run() does: open the store, put the run (change
 * points with cp), and when that fails spool it.  Returns 0, or the store's
 * code with a message that says where the run went (*spooled, caller frees;
 * NULL when it could not be spooled).  *cp_err as in struct gate_store.
 */
int gate_store_run(const struct gate_store *store, const struct rundoc *rd,
		   const struct changepoint_params *cp, bool *already, char **spooled,
		   struct err *cp_err, struct err *err);

/* Store the comparison of rd in the store (its JSON form, core/report.h). */
int gate_store_comparison(const struct gate_store *store, const struct compare_result *res,
			  struct err *err);

#endif
