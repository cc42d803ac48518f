/*
 * history.h: a metric's history from the store, and its change points.
 *
 * A series is the runs of one project, suite, benchmark and metric on one
 * branch and machine (fingerprint), in commit order: the commit time, then
 * the start time (runs outside git order by start time alone).  Its value
 * per run is the run's median.  Change points (core/changepoint.h) are
 * found on those medians and stored in the change_points table, each naming
 * the first run after the change; baseline selection never mixes runs from
 * both sides of the newest one.
 *
 * Functions return 0 or a negative ERR_* code with a message in *err.
 */
#ifndef PERFGATE_HISTORY_H
#define PERFGATE_HISTORY_H

#include <stdbool.h>
#include <stddef.h>

#include "../core/changepoint.h"
#include "../core/err.h"
#include "../core/rundoc.h"
#include "db.h"

struct history_query {
	const char *project;     /* NULL: any */
	const char *suite;       /* NULL: any */
	const char *benchmark;   /* required */
	const char *metric;      /* required */
	const char *branch;      /* NULL: any */
	const char *fingerprint; /* NULL: any; a prefix is enough */
	const char *since;       /* a date or timestamp PostgreSQL understands; NULL: all */
	long limit;              /* the newest N runs; <= 0: all */
};
#define HISTORY_QUERY_INIT { .limit = 100 }

struct history_row {
	char *run_id;
	char *commit;      /* full hex, NULL outside git */
	char *subject;     /* NULL when unknown */
	char *time;        /* RFC 3339 UTC: the commit time, else the start time */
	char *branch;
	char *fingerprint;
	char *project;
	char *suite;
	double median;     /* SI units */
	double ci_low;     /* NAN when unknown */
	double ci_high;
	long n;            /* repetitions */
	char *verdict;     /* newest verdict for this metric of this run, or NULL */
	bool dirty;        /* measured from a tree with uncommitted changes: not that commit's code */
	char *not_baseline; /* why the run may never be a baseline (runs.not_baseline), NULL when it may */
	bool changepoint;  /* a stored change point starts at this run */
	double cp_magnitude; /* mean_after / mean_before - 1, when changepoint */
	double cp_p;       /* its p-value, when changepoint */
};

struct history {
	struct history_row *rows; /* oldest first */
	size_t n;
	char *unit;        /* of the newest row; NULL when empty */
	char *direction;   /* "lower" or "higher" */
};

/* Load one series (oldest first).  No rows is not an error. */
int history_load(struct db *db, const struct history_query *q, struct history **out,
		 struct err *err);
void history_free(struct history *h);
/* The query plan of history_load() for q (EXPLAIN; with analyze, EXPLAIN
 * (ANALYZE, BUFFERS), which runs it), one line per plan line (caller frees). */
int history_explain(struct db *db, const struct history_query *q, bool analyze, char **plan,
		    struct err *err);

/* Every series the store knows, for `history --list`. */
struct history_series {
	char *project, *suite, *benchmark, *metric, *unit;
	long long runs;     /* runs with this metric */
	double last_median; /* the newest run's median, SI units */
	char *last_time;    /* RFC 3339 UTC: the newest run's place in the series (its commit time,
			       else its start time) */
	char *last_started_at; /* RFC 3339 UTC: when that run ran (its start time) */
	bool last_in_git;   /* that run has a commit (else last_time is its start time) */
};
int history_list(struct db *db, const char *project, const char *suite,
		 struct history_series **out, size_t *n, struct err *err);
void history_series_free(struct history_series *s, size_t n);

/* The metrics stored for a benchmark (for "BENCHMARK" without "/METRIC" and
 * for suggestions): names in *out (caller frees with history_names_free). */
int history_metrics(struct db *db, const char *benchmark, char ***out, size_t *n, struct err *err);
int history_benchmarks(struct db *db, char ***out, size_t *n, struct err *err);
void history_names_free(char **names, size_t n);

/*
 * Resolve "BENCHMARK[/METRIC]" against the store (benchmark names may hold
 * '/' themselves: the longest stored benchmark name wins).  Without a metric:
 * "wall" when the benchmark has it, else its only metric.  ERR_INPUT with a
 * message that names what exists ("did you mean ...", "name one of ...").
 * *bench and *metric are caller-freed.
 */
int history_resolve(struct db *db, const char *spec, char **bench, char **metric, struct err *err);

/*
 * After a run is stored: re-analyse the tail of every series the run belongs
 * to (at most the newest HISTORY_TAIL runs, starting no earlier than the
 * second newest stored change point, so that the newest is re-tested as
 * runs arrive) and replace the tail's stored change points with what is
 * found there.  Only runs that can be baselines count: a
 * branch, no pull/merge request, not from a fork, not dirty, not partial;
 * for any other run this does nothing and returns 0.
 *
 * Parameters: *params when given (the suite's, changepoint_params_from_suite);
 * NULL: CHANGEPOINT_PARAMS_INIT, then the run document's top-level
 * "changepoints" object and "compare"."min_effect" when present.  A stored
 * run reaches this through db_store_insert() (db/store.h), the one route;
 * a bulk import (db/archive.c) once per series, after its batch.
 */
#define HISTORY_TAIL 1000
int history_update_changepoints(struct db *db, const struct rundoc *rd,
				const struct changepoint_params *params, struct err *err);

/*
 * Re-analyse a whole series (all of its runs) and replace its stored change
 * points; *found (may be NULL) gets how many were stored.  For bulk imports
 * and `perfgate history --changepoints --recompute`.
 */
int history_recompute_changepoints(struct db *db, const struct history_query *q,
				   const struct changepoint_params *params, size_t *found,
				   struct err *err);

/*
 * The newest stored change point of a series (by the series' order): the
 * first run after it (*run_id_out) and that run's start time (RFC 3339 UTC,
 * *started_at_out); both caller-freed.  When the series has none, returns 0
 * with both set to NULL.  fingerprint may be NULL (runs without one).
 */
int history_last_changepoint(struct db *db, const char *project, const char *suite,
			     const char *benchmark, const char *metric, const char *fingerprint,
			     const char *branch, char **run_id_out, char **started_at_out,
			     struct err *err);

#endif
