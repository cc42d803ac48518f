/*
 * json.h: the one kit for reading and validating cJSON trees.  Every
 * validator (suite sections, run documents, ingested harness output) uses
 * these so that all messages read alike and name the JSON path:
 *
 *   benchmarks[0].repetitons: unknown key; did you mean "repetitions"?
 *   benchmarks[2].repetitions: expected an integer >= 1, got "ten"
 *   benchmarks[1].load.rate: must be a number > 0
 *
 * The json_get_* readers share one contract: an absent key leaves *out
 * untouched, sets *set (when given) to false and returns true; a present,
 * valid value is stored, *set becomes true, and they return true; a present,
 * invalid value adds one problem at PATH.KEY and returns false.
 */
#ifndef PERFGATE_JSON_H
#define PERFGATE_JSON_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "err.h"

/* "a string", "a number", "an object", ... for messages such as
 * "expected an array, got a string"; "nothing" for NULL. */
const char *json_type_name(const cJSON *j);

/* The value for the "got ..." part of a message: a string quoted (shortened
 * past 40 characters), a number as written, "an object", "an array", true,
 * false, null, "nothing". */
void json_got(const cJSON *v, char *buf, size_t len);

/* errlist_add, but each distinct message once (expansions of a parameter
 * matrix repeat them). */
void json_problem(struct errlist *p, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* "PATH: expected WHAT, got GOT". */
void json_expected(struct errlist *p, const char *path, const char *what, const cJSON *v);

/* One problem for each member of obj not in `known` (with the closest known
 * key suggested) and for each duplicate key. */
void json_check_keys(const cJSON *obj, const char *path, const char *const *known, size_t n_known,
		     struct errlist *problems);

/* An integral number that a double holds exactly (|v| < 9e15). */
bool json_is_int(const cJSON *v);

/* Readers (contract above). */
bool json_get_number(const cJSON *obj, const char *key, const char *path, double min_excl, double *out,
		     bool *set, struct errlist *problems);
bool json_get_int(const cJSON *obj, const char *key, const char *path, long min, long *out, bool *set,
		  struct errlist *problems);
/* A duration >= 0 in seconds: a number, or a string such as "250ms". */
bool json_get_duration(const cJSON *obj, const char *key, const char *path, double *out, bool *set,
		       struct errlist *problems);

/* Values of the suite's own kinds: a duration (number of seconds or
 * "250ms") in seconds; a target ("5%" or 0.05) as a fraction in (0, 1).
 * Return 0, or -1 when v is not one. */
int json_duration_value(const cJSON *v, double *seconds);
int json_target_value(const cJSON *v, double *fraction);

/* The member at a JSON path such as "$.choices[0].text" ("$" is the root);
 * NULL when the path is malformed or leads nowhere. */
const cJSON *json_at(const cJSON *root, const char *path);

/* Canonical JSON text (object keys sorted, compact); caller frees. */
char *json_canonical(const cJSON *v);

#endif
