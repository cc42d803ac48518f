/*
 * ingest.h: results from the benchmark harnesses teams already use, turned
 * into run documents (issue 8, docs/ingest.md).
 *
 * One parser per format lives in core/ingest_<format>.c.  Each turns the
 * harness's output into rd_benches of kind "ingest" (extra.source = the
 * format name) with metrics in SI units and the right direction, keeping
 * the harness's per-repetition samples wherever it writes them.  Bad input
 * (truncated files, wrong types, NaN, Infinity, negative durations, unknown
 * units, no results) is ERR_INPUT with one line that names the JSON path or
 * the line number and what was wrong; nothing is half-accepted.
 *
 * This module holds the format table, detection (`auto`), the entry points
 * and the small JSON helpers the parsers share.
 */
#ifndef PERFGATE_INGEST_H
#define PERFGATE_INGEST_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "../json.h"

#include "../err.h"
#include "../rundoc.h"

enum ingest_format {
	INGEST_AUTO = 0,
	INGEST_HYPERFINE,
	INGEST_GBENCH,    /* Google Benchmark --benchmark_format=json */
	INGEST_PYTEST,    /* pytest-benchmark --benchmark-json */
	INGEST_GO,        /* go test -bench text */
	INGEST_K6,        /* k6 --summary-export, or handleSummary's data */
	INGEST_VLLM,      /* vLLM benchmark_serving.py --save-result */
	INGEST_LOCUST,    /* Locust --csv PREFIX -> PREFIX_stats.csv */
	INGEST_JMH,       /* JMH -rf json */
	INGEST_CATCH2,    /* Catch2 --reporter xml */
	INGEST_N_FORMATS
};

/* "hyperfine", "google-benchmark", ... ("auto" for INGEST_AUTO). */
const char *ingest_format_name(enum ingest_format f);
/* Parse a format name (a few aliases such as "gbench" and "pytest" are
 * accepted); ERR_INPUT with the closest name otherwise. */
int ingest_format_parse(const char *name, enum ingest_format *out, struct err *err);
/* True when one output of the format carries its own repetitions (so a
 * suite runs the harness once); false when one output is one repetition. */
bool ingest_format_has_repetitions(enum ingest_format f);
/* The known names, NULL-terminated (for messages and validation). */
const char *const *ingest_format_names(void);

/* Guess the format of a harness output; INGEST_AUTO when nothing fits. */
enum ingest_format ingest_detect(const char *text, size_t len);

struct ingest_options {
	/* Name of the one benchmark that formats describing a single test (k6,
	 * vllm) produce; NULL: the format's name. */
	const char *bench_name;
};
#define INGEST_OPTIONS_INIT { .bench_name = NULL }

/*
 * Parse `text` (len bytes; need not be NUL-terminated) in format `fmt`
 * (not INGEST_AUTO) and append its benchmarks to rd, with summaries
 * computed.  On ERR_INPUT, rd may hold part of the input: discard it.
 */
int ingest_parse(enum ingest_format fmt, const char *text, size_t len,
		 const struct ingest_options *opts, struct rundoc *rd, struct err *err);

/*
 * Read `path` ("-" is stdin), detect the format when fmt is INGEST_AUTO
 * (*used says which was parsed; may be NULL) and parse it into rd.  Errors
 * start with "cannot ingest 'path': ".
 */
int ingest_file(const char *path, enum ingest_format fmt, const struct ingest_options *opts,
		struct rundoc *rd, enum ingest_format *used, struct err *err);

/*
 * Several outputs of one harness are several runs of it: ingest each of
 * paths[0..n) in turn (fmt, or with INGEST_AUTO the format detected in the
 * first, *used), adding their samples to rd, then summarise.  On an error
 * rd holds what came before the failing file: discard it.
 */
int ingest_files(const char *const *paths, size_t n, enum ingest_format fmt,
		 const struct ingest_options *opts, struct rundoc *rd, enum ingest_format *used,
		 struct err *err);

/*
 * What an ingested run needs besides its results (stamp.c): suite (default
 * the format's name), project (default the repository's name from its
 * remote, else its folder's), git/CI/machine context of repo_dir, the
 * finish time, and the tag "ingested_from".  Notices as context_stamp's.
 */
int ingest_stamp(struct rundoc *rd, enum ingest_format used, const char *suite, const char *project,
		 const char *repo_dir, struct errlist *notices, struct err *err);

/* ---- for the format parsers (core/ingest/FORMAT.c) ---- */

int ingest_hyperfine_parse(const char *text, size_t len, const struct ingest_options *opts,
			   struct rundoc *rd, struct err *err);
int ingest_gbench_parse(const char *text, size_t len, const struct ingest_options *opts,
			struct rundoc *rd, struct err *err);
int ingest_pytest_parse(const char *text, size_t len, const struct ingest_options *opts,
			struct rundoc *rd, struct err *err);
int ingest_go_parse(const char *text, size_t len, const struct ingest_options *opts,
		    struct rundoc *rd, struct err *err);
int ingest_k6_parse(const char *text, size_t len, const struct ingest_options *opts,
		    struct rundoc *rd, struct err *err);
int ingest_vllm_parse(const char *text, size_t len, const struct ingest_options *opts,
		      struct rundoc *rd, struct err *err);
int ingest_locust_parse(const char *text, size_t len, const struct ingest_options *opts,
			struct rundoc *rd, struct err *err);
int ingest_jmh_parse(const char *text, size_t len, const struct ingest_options *opts,
		     struct rundoc *rd, struct err *err);
int ingest_catch2_parse(const char *text, size_t len, const struct ingest_options *opts,
			struct rundoc *rd, struct err *err);

/*
 * Parse one JSON document strictly: the whole text, no trailing garbage.
 * NaN and Infinity (which Python's json module writes) are named as such;
 * input that ends early is called truncated; other errors give line and
 * column.  *end (may be NULL) receives where parsing stopped; when
 * `allow_trailing` is set, text after the document is left for the caller.
 */
int ingest_json_parse(const char *text, size_t len, bool allow_trailing, cJSON **out,
		      size_t *end, struct err *err);

/*
 * The common top of a JSON harness file: parse it strictly, require an
 * object whose member `key` is a non-empty array.  *root is the parsed
 * document (the caller deletes it, also on error), *arr the array in it.
 */
int ingest_json_root_array(const char *text, size_t len, const char *key, cJSON **root,
			   const cJSON **arr, struct err *err);


/* True when s (after an optional sign) spells NaN or Infinity, which strtod
 * would accept but no measurement may be. */
bool ingest_nonfinite_text(const char *s);

/* Seconds per unit for "ns", "us", "µs", "ms", "s", "min", "hr"/"h", "day";
 * false when unknown. */
bool ingest_time_unit(const char *unit, double *seconds);

/* The benchmark named `name` in rd, added (kind "ingest", extra.source =
 * format name) when absent.  Valid until the next bench is added. */
struct rd_bench *ingest_bench(struct rundoc *rd, const char *name, enum ingest_format fmt);
/* A name not yet used by a benchmark of rd: `base`, else "base #2", ... */
char *ingest_unique_name(const struct rundoc *rd, const char *base);
/* The metric named `name` in b, added when absent. */
struct rd_metric *ingest_metric(struct rd_bench *b, const char *name, const char *unit,
				enum rd_direction dir);
/* Mark a metric whose one sample is the harness's aggregate (e.g. "mean")
 * rather than a repetition. */
void ingest_mark_aggregate(struct rd_metric *m, const char *which);
/* Add a string to b->extra's "warnings" array. */
void ingest_warn(struct rd_bench *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

#endif
