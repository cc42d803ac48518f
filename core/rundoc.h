/*
 * rundoc.h: the run document, perfgate's one contract in the middle
 * (DESIGN section 1, schemas/run.schema.json).
 *
 * Every runner fills a struct rundoc; `run --out` writes it as JSON; `push`
 * parses and validates it and the store keeps it; `compare` reads it back.
 * Values are SI base units as doubles: seconds, bytes, requests per second.
 *
 * Ownership: a struct rundoc owns every string, array and cJSON tree it
 * points to; rundoc_free() releases all of it.
 */
#ifndef PERFGATE_RUNDOC_H
#define PERFGATE_RUNDOC_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "err.h"

#define RUNDOC_SCHEMA_VERSION 1

enum rd_direction { RD_LOWER = 0, RD_HIGHER = 1 };

/* A benchmark's "status"; absent or null in a document means ok. */
enum rundoc_status {
	RUNDOC_STATUS_OK = 0,
	RUNDOC_STATUS_FAILED,  /* could not run or did not pass; "error" says why */
	RUNDOC_STATUS_PARTIAL, /* stopped early (time budget); the samples so far are kept */
	RUNDOC_STATUS_SKIPPED,
};

/* A benchmark's "kind": the runner that runs it (a suite benchmark) or
 * produced it (a result).  Documents from other tools may name their own
 * kinds; those are RUNDOC_KIND_OTHER and keep their name (struct rd_bench's
 * kind_other). */
enum rundoc_kind {
	RUNDOC_KIND_COMMAND = 0,
	RUNDOC_KIND_HTTP,
	RUNDOC_KIND_INGEST,
	RUNDOC_KIND_OTHER,
};

struct rd_summary {
	size_t n;
	double min, median, mean, max;
	double stddev;    /* sample standard deviation; 0 when n < 2 */
	double ci_low;    /* 95% confidence interval of the median, or NAN */
	double ci_high;
};

struct rd_metric {
	char *name;        /* "wall", "latency.p95", "instructions", ... */
	char *unit;        /* "s", "B", "1/s", "1" (count), "%" ... */
	enum rd_direction direction;
	double *samples;   /* one value per repetition, SI units */
	size_t n_samples;
	size_t alloc_samples;
	struct rd_summary summary; /* computed by rundoc_metric_summarise() */
	cJSON *extra;      /* optional: "histogram", "percentiles", "source"... kept verbatim */
};

struct rd_bench {
	char *name;
	enum rundoc_kind kind;
	char *kind_other;  /* the document's own kind name when kind is RUNDOC_KIND_OTHER, else NULL */
	cJSON *params;     /* object of parameter values, may be NULL */
	char *config_hash; /* hex SHA-256 of the benchmark's canonical configuration */
	enum rundoc_status status;
	char *error;       /* why it failed, NULL when ok */
	struct rd_metric *metrics;
	size_t n_metrics;
	size_t alloc_metrics;
	cJSON *extra;      /* optional: "warnings", "timeseries", "config", "variant"... */
};

struct rd_git {
	char *commit;      /* full hex id, NULL outside a repository */
	char *branch;      /* NULL when unknown */
	bool dirty;
	bool shallow;
	char *commit_time; /* RFC 3339 */
	char *subject;
	char **parents;
	size_t n_parents;
	char *remote;      /* credentials stripped */
};

struct rd_ci {
	char *provider;    /* "github", "gitlab" or "local" */
	char *job_url;
	char *event;       /* "push", "pull_request", "merge_request_event", ... */
	long pr;           /* pull/merge request number, 0 when none */
	char *base_branch; /* the PR's target branch */
	bool fork;         /* the PR comes from a fork */
};

struct rundoc {
	char *run_id;      /* UUID, unique per run */
	char *project;
	char *suite;
	struct rd_git git;
	struct rd_ci ci;
	char *fingerprint; /* hardware class hash, also machine.fingerprint */
	cJSON *machine;    /* the fingerprint's facts and the unhashed state */
	char *started_at;  /* RFC 3339 */
	char *finished_at;
	bool partial;      /* interrupted: only finished benchmarks are present */
	cJSON *tags;       /* object of string values, may be NULL */
	struct rd_bench *benches;
	size_t n_benches;
	size_t alloc_benches;
	cJSON *extra;      /* any other top-level member, kept verbatim */
	/* Not part of the document (never written nor read): git and ci above
	 * are what this perfgate process detected itself (context_stamp, a run
	 * it measured), what a spool file signed by this home says, or what a
	 * writer vouched for (push --baseline-eligible).  A run whose context
	 * is not trusted never becomes a baseline (baseline_eligible). */
	bool context_trusted;
	/* rundoc_find_bench's index of the benchmarks by name (rundoc.c):
	 * built on a lookup, rebuilt when the benchmarks were added to or
	 * moved; a benchmark renamed in place only makes it miss, and a miss
	 * is checked by a scan.  Not thread-safe, like the rest of the run. */
	struct rd_name_index *index;
};

struct rundoc *rundoc_new(void);
void rundoc_free(struct rundoc *rd);

/* Append a benchmark (status ok) or metric; the returned pointer is valid
 * until the next append to the same array. Strings are copied. */
struct rd_bench *rundoc_add_bench(struct rundoc *rd, const char *name, enum rundoc_kind kind);
struct rd_metric *rundoc_bench_add_metric(struct rd_bench *b, const char *name, const char *unit,
					  enum rd_direction dir);
struct rd_metric *rundoc_bench_find_metric(const struct rd_bench *b, const char *name);
/* The benchmark named `name`, or NULL: by binary search over an index of
 * the names once the run has more than a few benchmarks (a comparison
 * looks every benchmark up in every baseline run). */
struct rd_bench *rundoc_find_bench(const struct rundoc *rd, const char *name);
void rundoc_metric_add_sample(struct rd_metric *m, double v);
/* Recompute m->summary from m->samples. */
void rundoc_metric_summarise(struct rd_metric *m);

/* Mark b failed because of `why` (copied; replaces any earlier error). */
void rundoc_bench_fail(struct rd_bench *b, const char *why);

/* "ok", "failed", "partial", "skipped". */
const char *rundoc_status_name(enum rundoc_status s);
/* "command", "http", "ingest" ("other" for RUNDOC_KIND_OTHER). */
const char *rundoc_kind_name(enum rundoc_kind k);
/* b's "kind" as the document writes it: rundoc_kind_name, or kind_other. */
const char *rundoc_bench_kind(const struct rd_bench *b);

/*
 * Members that runners add beside the schema's own, kept in `extra` (so the
 * document's JSON form is what it always was) and read by other modules.
 * Those modules go through these accessors, never through the key names.
 * The getters return NULL / false when the member is absent or not of its
 * type; returned pointers borrow from the document.
 */

/* Metric "gate": false with "why": tracked, not gated, unless the suite's
 * compare settings say otherwise (a calibrated command benchmark's raw
 * times; docs/run-document.md). */
void rundoc_metric_set_tracked(struct rd_metric *m, const char *why);
bool rundoc_metric_tracked(const struct rd_metric *m);

/* "source": where the values came from: on a metric, "emitted" by the
 * command or the counters' source ("perf_event", "valgrind"); on an ingested
 * benchmark, the harness format ("go", "k6", ...). */
void rundoc_metric_set_source(struct rd_metric *m, const char *source);
void rundoc_bench_set_source(struct rd_bench *b, const char *source);

/* Metric "histogram": the merged latency histogram in hist_to_json's form
 * (the getter returns it as the document has it: hist_from_json checks it);
 * set takes ownership of h. */
void rundoc_metric_set_histogram(struct rd_metric *m, cJSON *h);
const cJSON *rundoc_metric_histogram(const struct rd_metric *m);

/* Benchmark "warnings": notes for the reader (noise, discarded warm-up);
 * an array of strings. */
void rundoc_bench_warn(struct rd_bench *b, const char *msg);
const cJSON *rundoc_bench_warnings(const struct rd_bench *b);

/* Benchmark "stderr_tail": the last lines a failed command wrote. */
void rundoc_bench_set_stderr_tail(struct rd_bench *b, const char *tail);
const char *rundoc_bench_stderr_tail(const struct rd_bench *b);

/* Benchmark "invalid": true beside status "failed" when the run itself is
 * not trustworthy (the load generator fell behind); exit code 3. */
void rundoc_bench_set_invalid(struct rd_bench *b);
bool rundoc_bench_invalid(const struct rd_bench *b);

/* Benchmark "suite_benchmark": the suite benchmark that produced this one
 * (an ingested harness reports several, "micro/BM_X" from "micro"); the
 * name to run again.  NULL: the benchmark is a suite benchmark itself. */
void rundoc_bench_set_suite_benchmark(struct rd_bench *b, const char *name);
const char *rundoc_bench_suite_benchmark(const struct rd_bench *b);

/* Benchmark "variant": {"of": NAME, "name": VARIANT, "reference": bool}
 * for an A/B variant ("NAME@VARIANT"). */
struct rundoc_variant {
	const char *of;    /* the declared benchmark's name */
	const char *name;  /* this variant's name */
	bool reference;    /* the variant the others are compared with */
};
void rundoc_bench_set_variant(struct rd_bench *b, const struct rundoc_variant *v);
/* false when b is not marked a variant; else *out filled (strings may be NULL). */
bool rundoc_bench_variant(const struct rd_bench *b, struct rundoc_variant *out);

/* Benchmark "interleaved": true when its repetitions ran round-robin with
 * other benchmarks' (the suite's "order", or A/B variants in a gate), so
 * that repetition i of each saw nearly the same machine: pairs for a paired
 * comparison (core/verdict.h). */
void rundoc_bench_set_interleaved(struct rd_bench *b);
bool rundoc_bench_interleaved(const struct rd_bench *b);

/* How rundoc_merge treats what src has and dst lacks. */
enum rundoc_merge_mode {
	/*
	 * Accumulate runs into one document (a suite's benchmarks as they
	 * finish, one harness run after another): a benchmark or metric that
	 * dst lacks is moved from src whole; samples of a metric both have are
	 * appended; a failure sticks (an ok benchmark takes src's status and
	 * error when src's is not ok).
	 */
	RUNDOC_MERGE_ACCUMULATE,
	/*
	 * Pool re-measured samples into the run under test (a confirmation
	 * run): only src's ok benchmarks, only the benchmarks and metrics dst
	 * already has; src is left as it is.
	 */
	RUNDOC_MERGE_POOL,
};

/*
 * The one merge of run documents.  Metrics that receive samples are
 * re-summarised.  Returns the repetitions added: per benchmark that received
 * samples, its largest number of samples added to one metric, summed.
 */
size_t rundoc_merge(struct rundoc *dst, struct rundoc *src, enum rundoc_merge_mode mode);

/* A fresh random UUID (version 4) into out. */
void rundoc_uuid(char out[37]);

/*
 * A run id as a person types it, git-style: the whole id or a prefix of it
 * of at least RUNDOC_ID_PREFIX_MIN hex digits, with the whole id's dashes
 * where they fall or with none.  True with its hex digits, lower case, in
 * hex (up to 32 and a NUL); false when spec cannot start a run id.
 */
#define RUNDOC_ID_PREFIX_MIN 4
bool rundoc_id_prefix(const char *spec, char hex[33]);
/* True when id (a whole run id) starts with the digits of prefix (from
 * rundoc_id_prefix), ignoring case and dashes. */
bool rundoc_id_matches(const char *id, const char *hex);

/* Serialise. The caller owns the result (cJSON_Delete / free). */
cJSON *rundoc_to_json(const struct rundoc *rd);
char *rundoc_to_string(const struct rundoc *rd);

/*
 * Parse and validate a document.  On the first problem returns ERR_INPUT with
 * a message that names its JSON path ("benchmarks[1].metrics[0].samples[3]:
 * expected a finite number, got \"x\"").  Summaries are recomputed from the
 * samples when absent.
 */
int rundoc_from_json(struct rundoc **out, const cJSON *json, struct err *err);
int rundoc_parse(struct rundoc **out, const char *text, struct err *err);
/* rundoc_parse of len bytes (json_parse_text: a NUL, bytes that are not
 * UTF-8 or text after the document are errors too). */
int rundoc_parse_text(struct rundoc **out, const char *text, size_t len, struct err *err);
int rundoc_load(struct rundoc **out, const char *path, struct err *err);
int rundoc_save(const struct rundoc *rd, const char *path, struct err *err);
/*
 * Whether rd, written out, is a document the validator (and so the
 * database) takes: what `perfgate push` would say of it.  A run whose
 * names came from outside (a harness's metric names, an error text that is
 * not UTF-8) can fail; store and spool only what passes.
 */
int rundoc_check(const struct rundoc *rd, struct err *err);

const char *rundoc_direction_name(enum rd_direction d);

#endif
