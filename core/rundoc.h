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
	struct rd_summary summary; /* computed by rd_metric_summarise() */
	cJSON *extra;      /* optional: "histogram", "percentiles", "source"... kept verbatim */
};

struct rd_bench {
	char *name;
	char *kind;        /* "command", "http", "ingest" */
	cJSON *params;     /* object of parameter values, may be NULL */
	char *config_hash; /* hex SHA-256 of the benchmark's canonical configuration */
	char *status;      /* "ok", "failed", "partial", "skipped" */
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
};

struct rundoc *rundoc_new(void);
void rundoc_free(struct rundoc *rd);

/* Append a benchmark or metric; the returned pointer is valid until the next
 * append to the same array. Strings are copied. */
struct rd_bench *rundoc_add_bench(struct rundoc *rd, const char *name, const char *kind);
struct rd_metric *rd_bench_add_metric(struct rd_bench *b, const char *name, const char *unit,
				      enum rd_direction dir);
struct rd_metric *rd_bench_find_metric(const struct rd_bench *b, const char *name);
struct rd_bench *rundoc_find_bench(const struct rundoc *rd, const char *name);
void rd_metric_add_sample(struct rd_metric *m, double v);
/* Recompute m->summary from m->samples. */
void rd_metric_summarise(struct rd_metric *m);

/* A fresh random UUID (version 4) into out. */
void rundoc_uuid(char out[37]);

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
int rundoc_load(struct rundoc **out, const char *path, struct err *err);
int rundoc_save(const struct rundoc *rd, const char *path, struct err *err);

const char *rd_direction_name(enum rd_direction d);

#endif
