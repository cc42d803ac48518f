/*
 * suite.h: a declared benchmark suite (DESIGN section 3,
 * schemas/suite.schema.json), parsed, validated and expanded.
 *
 * suite_load() reads the file, validates every benchmark (listing every
 * problem found, each naming its JSON path), expands `params` matrices
 * into one struct suite_bench per combination with `{name}` substituted in
 * every string, and applies suite-level defaults.  Sections owned by other
 * modules (http/load/monitor, slo, compare, ingest, variants) are validated
 * by those modules' *_validate functions, called from here.
 */
#ifndef PERFGATE_SUITE_H
#define PERFGATE_SUITE_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "err.h"

enum suite_kind { SUITE_COMMAND, SUITE_HTTP, SUITE_INGEST };

struct suite_bench {
	char *name;          /* expanded, unique within the suite */
	enum suite_kind kind;
	cJSON *raw;          /* the expanded benchmark object, suite defaults applied */
	cJSON *params;       /* this combination's parameter values (object), or NULL */
	char config_hash[65];/* SHA-256 of the canonical configuration (raw minus
				non-configuration keys such as slo and compare) */
	char *variant_of;    /* A/B: the declared benchmark's name, NULL when not a variant */
	char *variant;       /* A/B: this variant's name ("NAME@VARIANT" is `name`) */
	bool reference;      /* A/B: the reference variant others are compared with */
};

struct suite {
	char *path;          /* the file it came from */
	char *dir;           /* its folder: relative paths in the suite resolve here */
	char *name;          /* "suite" */
	char *project;       /* "project", or NULL (then derived from the git remote) */
	cJSON *raw;          /* the whole document as parsed */
	cJSON *baseline;     /* "baseline" object or NULL */
	cJSON *compare;      /* suite-level "compare" object or NULL */
	struct suite_bench *benches;
	size_t n_benches;
	bool interleaved;    /* "order": "interleaved" */
	cJSON *changepoints; /* "changepoints" object or NULL (owned by history's settings) */
};

/* Load, validate and expand.  On invalid input returns ERR_INPUT and fills
 * problems with one line per problem ("benchmarks[2].repetitions: expected an
 * integer >= 1, got \"ten\""); err gets the first one. */
int suite_load(struct suite **out, const char *path, struct errlist *problems, struct err *err);
void suite_free(struct suite *s);

/* Look up an expanded benchmark by name (NULL when absent). */
const struct suite_bench *suite_find_bench(const struct suite *s, const char *name);

/*
 * Helpers for every validator, so that all messages read alike:
 *   "benchmarks[0].repetitons: unknown key; did you mean \"repetitions\"?"
 *   "benchmarks[2].repetitions: expected an integer >= 1, got \"ten\""
 * suite_got() describes a value for the "got ..." part: a string quoted
 * (shortened past 40 characters), a number as written, "an object", "an
 * array", true, false, null.  suite_check_keys() reports each member of obj
 * not in `known` (and duplicate keys), suggesting the closest known key.
 */
void suite_got(const cJSON *v, char *buf, size_t len);
void suite_check_keys(const cJSON *obj, const char *path, const char *const *known, size_t n_known,
		      struct errlist *problems);

/*
 * Configuration hash: SHA-256 of the canonical JSON (object keys sorted,
 * no whitespace) of the expanded benchmark without the keys that do not
 * change what is measured (name, description, tags, slo, compare, monitor,
 * repetition counts, warmup, timeout, variants, reference).  `extra` (may be
 * NULL) is merged in as member "runtime" before hashing: the runner adds
 * facts it learns only when running, such as where instruction counts came
 * from, so counts measured one way never compare with counts measured another.
 */
void suite_config_hash(const cJSON *bench, const cJSON *extra, char out[65]);
/* Values of the suite's own kinds, for runners: a duration (number of
 * seconds or "250ms") in seconds; a target ("5%" or 0.05) as a fraction.
 * Return 0, or -1 when v is not one. */
int suite_duration_value(const cJSON *v, double *seconds);
int suite_target_value(const cJSON *v, double *fraction);
/* Canonical JSON text (sorted keys, compact); caller frees. */
char *suite_canonical_json(const cJSON *v);

/*
 * Validators of the sections other modules own.  Each appends one line per
 * problem to `problems`, each starting with `path` (the JSON path of the
 * value, e.g. "benchmarks[1].load"), and never stops at the first.
 */
void http_validate(const cJSON *bench, const char *path, struct errlist *problems);   /* http, load, stream, request_slo */
void monitor_validate(const cJSON *monitor, const char *path, struct errlist *problems);
void slo_validate(const cJSON *slo, const char *path, struct errlist *problems);
void compare_settings_validate(const cJSON *compare, const char *path, struct errlist *problems);
void ingest_validate(const cJSON *format, const char *path, struct errlist *problems);

#endif
