/*
 * suite.h: a declared benchmark suite (DESIGN section 3,
 * schemas/suite.schema.json), parsed, validated and expanded.
 *
 * suite_load() reads the file, validates every benchmark (listing every
 * problem found, each naming its JSON path), expands `params` matrices
 * into one struct suite_bench per combination with `{name}` substituted in
 * every string, and applies suite-level defaults.  Sections owned by other
 * modules are validated by those modules' own *_validate functions (each
 * declared in its module's header), called from here.
 */
#ifndef PERFGATE_SUITE_H
#define PERFGATE_SUITE_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "err.h"
#include "json.h"
#include "rundoc.h"

struct suite_bench {
	char *name;          /* expanded, unique within the suite */
	enum rundoc_kind kind; /* command, http or ingest (never RUNDOC_KIND_OTHER) */
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
	const char *baseline_branch; /* "baseline.branch" (in raw), NULL: automatic */
	size_t baseline_runs; /* "baseline.runs", 0: the default */
	cJSON *compare;      /* suite-level "compare" object or NULL */
	struct suite_bench *benches;
	size_t n_benches;
	bool interleaved;    /* "order": "interleaved" */
	bool order_given;    /* "order" was declared (either way): the suite chose itself */
	cJSON *changepoints; /* "changepoints" object or NULL (owned by history's settings) */
};

/* Load, validate and expand.  On invalid input returns ERR_INPUT and fills
 * problems with one line per problem ("benchmarks[2].repetitions: expected an
 * integer >= 1, got \"ten\""); err gets the first one. */
int suite_load(struct suite **out, const char *path, struct errlist *problems, struct err *err);
void suite_free(struct suite *s);

/* Free n benchmarks and the array that holds them (a suite's benches). */
void suite_benches_free(struct suite_bench *v, size_t n);

/* Keep the benchmarks named in names (any order; a name that is not in the
 * suite is ignored), in the suite's order; release the others. */
void suite_keep_only(struct suite *s, const char *const *names, size_t n);

/* Look up an expanded benchmark by name (NULL when absent). */
const struct suite_bench *suite_find_bench(const struct suite *s, const char *name);

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
#endif
