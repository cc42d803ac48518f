/*
 * template.h: `{name}` templates filled from a set of variables (a JSON
 * object: a dataset row, values captured from earlier responses, built-in
 * names), as journey steps render their requests at run time.
 *
 *   text  every `{name}` whose name is a variable becomes its value: a
 *         string as it is, any other JSON value as compact JSON; anything
 *         else in braces stays as written;
 *   JSON  every string of the tree is a text template, but a string that is
 *         exactly "{name}" takes the variable's value with its JSON type (an
 *         array stays an array).
 *
 * The same rules as a benchmark's http.body with a dataset (plan.c).
 */
#ifndef PERFGATE_HTTP_TEMPLATE_H
#define PERFGATE_HTTP_TEMPLATE_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "../util.h"

enum http_template_escape {
	HTTP_TEMPLATE_RAW,  /* values as they are */
	HTTP_TEMPLATE_URL   /* values percent-encoded (RFC 3986 unreserved characters kept), for a path or query */
};

/* Append s rendered with vars (NULL: none) to out. */
void http_template_text(struct sb *out, const char *s, const cJSON *vars, enum http_template_escape esc);
/* A rendered copy of a JSON tree (caller deletes it). */
cJSON *http_template_json(const cJSON *node, const cJSON *vars);

/* Does s hold a `{name}` that looks like a variable (letters, digits, _ - .)? */
bool http_template_has_names(const char *s);
bool http_template_json_has_names(const cJSON *node);
/* Call fn for each `{name}` that looks like a variable, in s or in every
 * string of a JSON tree; name is not NUL-terminated. */
void http_template_names(const char *s, void (*fn)(const char *name, size_t len, void *arg), void *arg);
void http_template_json_names(const cJSON *node, void (*fn)(const char *name, size_t len, void *arg), void *arg);

#endif
