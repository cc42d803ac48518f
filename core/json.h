/*
 * json.h: the one kit for reading and validating cJSON trees.  Every
 * validator (suite sections, run documents, ingested harness output) uses
 * these so that all messages read alike and name the JSON path:
 *
 *   benchmarks[0].repetitons: unknown key; did you mean "repetitions"?
 *   benchmarks[2].repetitions: expected an integer >= 1, got "ten"
 *   benchmarks[1].load.rate: must be a number > 0
 *
 * Three families, by what is read:
 *
 *  - json_get_*, json_check_keys: validating what a person wrote (the suite
 *    file).  Every problem is collected into a struct errlist, so one run
 *    shows them all.  An absent key leaves *out untouched, sets *set (when
 *    given) to false and returns true; a present, valid value is stored,
 *    *set becomes true, and they return true; a present, invalid value adds
 *    one problem at PATH.KEY and returns false.
 *
 *  - json_read_*: reading a data document (a run document, a harness's
 *    output).  The first problem stops the reading: it returns ERR_INPUT
 *    with "PATH.KEY: expected a string, got a number" in err.  A member that
 *    is absent or JSON null is missing (such documents write null for "not
 *    known"): an error when required, else *out is NULL / untouched.
 *
 *  - json_peek_*, json_str_at: looking into a document perfgate wrote itself
 *    or only takes hints from (a stored comparison, a CI event file): the
 *    value when it is there with its type, else a default; never an error.
 *
 * A PATH of "" is the top level: the member is named "KEY", not ".KEY".
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

/* Every count perfgate reads (repetitions, summary.n, a PR number) is an
 * integer from min to JSON_COUNT_MAX (2^31 - 1, the database's integer):
 * never a double cast to an integer it does not fit. */
#define JSON_COUNT_MAX 2147483647L
bool json_is_count(const cJSON *v, long min);

/*
 * Parse a whole JSON document of len bytes (text[len] must be NUL).  Before
 * cJSON sees it the text is checked for what cJSON would take silently but
 * nothing after it can: a NUL (a raw byte, or \u0000 in a string, which
 * would cut the string short and which PostgreSQL refuses) and bytes that are
 * not UTF-8; after the document only blanks may follow.  NULL and ERR_INPUT
 * with "invalid JSON at line L, column C" (or "text after the JSON document
 * at ...", "a NUL character (\u0000) at ...", "invalid UTF-8 at ...",
 * "the text is empty") in err.
 */
cJSON *json_parse_text(const char *text, size_t len, struct err *err);

/*
 * Names (suites, benchmarks, metrics, projects, branches) are identifiers
 * printed in reports and logs and kept in database indexes: non-empty, at
 * most JSON_NAME_MAX bytes (PostgreSQL refuses an index row over about
 * 2.7 KB, and an index holds several names), no control characters (a
 * newline in a name could start a forged CI log command).  NULL when s is
 * such a name, else why not ("is longer than 256 bytes (3000)", "contains a
 * control character (U+000A)"), in buf.
 */
#define JSON_NAME_MAX 256
const char *json_name_problem(const char *s, char *buf, size_t len);

/* Readers (contract above). */
bool json_get_number(const cJSON *obj, const char *key, const char *path, double min_excl, double *out,
		     bool *set, struct errlist *problems);
bool json_get_int(const cJSON *obj, const char *key, const char *path, long min, long *out, bool *set,
		  struct errlist *problems);
/* A duration >= 0 in seconds: a number, or a string such as "250ms". */
bool json_get_duration(const cJSON *obj, const char *key, const char *path, double *out, bool *set,
		       struct errlist *problems);
/* true or false. */
bool json_get_bool(const cJSON *obj, const char *key, const char *path, bool *out, bool *set,
		   struct errlist *problems);
/* A non-empty string (borrowed from obj). */
bool json_get_string(const cJSON *obj, const char *key, const char *path, const char **out, bool *set,
		     struct errlist *problems);

/* "PATH.KEY", or "KEY" when path is "" (the top level), into buf. */
void json_path_key(char *buf, size_t len, const char *path, const char *key);

/* ---- reading data documents (first problem stops; see above) ---- */

/*
 * The member `key` of obj when its type is one of the cJSON type bits in
 * `type` (cJSON_String, cJSON_Number, cJSON_Object, cJSON_Array, or
 * cJSON_True | cJSON_False for a boolean).  Missing (absent or null): an
 * error when `required`, else *out = NULL and 0.
 */
int json_read(const cJSON *obj, const char *path, const char *key, int type, bool required,
	      const cJSON **out, struct err *err);
/* A string member, copied into *out (left untouched when missing). */
int json_read_string(const cJSON *obj, const char *path, const char *key, bool required, char **out,
		     struct err *err);
/* A boolean member (*out untouched when missing). */
int json_read_bool(const cJSON *obj, const char *path, const char *key, bool *out, struct err *err);
/* A number member that must be finite (and >= 0 when nonneg); *present
 * (may be NULL) tells whether it was there. */
int json_read_number(const cJSON *obj, const char *path, const char *key, bool required, bool nonneg,
		     double *out, bool *present, struct err *err);
/* A value (an array element, say) that must be a finite number (>= 0 when
 * nonneg); path names the value itself. */
int json_read_value(const cJSON *j, const char *path, bool nonneg, double *out, struct err *err);

/* ---- peeking (never an error) ---- */

/* obj's member `key`; NULL when obj is NULL or not an object, or the key is absent. */
const cJSON *json_peek(const cJSON *obj, const char *key);
/* The member when it is a string, else NULL (borrowed). */
const char *json_peek_str(const cJSON *obj, const char *key);
/* The member when it is a number, else dflt. */
double json_peek_num(const cJSON *obj, const char *key, double dflt);
/* Whether the member is JSON true. */
bool json_peek_true(const cJSON *obj, const char *key);
/* The member's strings (a list; other items skipped) as a new
 * NULL-terminated list that argv_free releases; NULL when it is not a list. */
char **json_peek_strings(const cJSON *obj, const char *key);
/* The string at a JSON path (json_at's form), else NULL (borrowed). */
const char *json_str_at(const cJSON *root, const char *path);

/* Values of the suite's own kinds: a duration (number of seconds or
 * "250ms") in seconds; a fraction ("5%" or 0.05, any finite value, the
 * caller checks the range); a target (a fraction in (0, 1)).
 * Return 0, or -1 when v is not one. */
int json_duration_value(const cJSON *v, double *seconds);
int json_fraction_value(const cJSON *v, double *fraction);
int json_target_value(const cJSON *v, double *fraction);

/* The member at a JSON path such as "$.choices[0].text" ("$" is the root);
 * NULL when the path is malformed or leads nowhere. */
const cJSON *json_at(const cJSON *root, const char *path);

/* ---- writing ---- */

/* Add obj.key: the number, or JSON null when v is not finite (NaN, inf);
 * the string, or JSON null when v is NULL. */
void json_add_num_or_null(cJSON *obj, const char *key, double v);
void json_add_str_or_null(cJSON *obj, const char *key, const char *v);

/* Canonical JSON text (object keys sorted, compact); caller frees. */
char *json_canonical(const cJSON *v);

#endif
