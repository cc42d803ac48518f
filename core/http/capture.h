/*
 * capture.h: values taken from one journey step's response for the steps
 * after it (issue 16, docs/journeys.md).  A step's `capture` object names
 * each value and where it comes from:
 *
 *   "capture": {"doc":   {"json": "$.hits[0].id"},
 *               "trace": {"header": "X-Request-Id"},
 *               "token": {"regex": "token=([a-z0-9]+)", "group": 1},
 *               "hint":  {"json": "$.hint", "optional": true}}
 *
 *   json    the member at a JSON path of the body (core/json.h json_at), with
 *           its JSON type: an array captured stays an array when a later
 *           template is exactly "{name}"
 *   header  the first response header of that name (any case), trimmed
 *   regex   a POSIX extended regular expression over the body; the value is
 *           the group given (default 1 when the pattern has a group, else
 *           the whole match)
 *
 * A value that is not there is an error of its own class ("capture"): the
 * journey fails at that step, unless the capture is `optional` (then the
 * variable is left unset, for a later step's `when`).
 */
#ifndef PERFGATE_HTTP_CAPTURE_H
#define PERFGATE_HTTP_CAPTURE_H

#include <regex.h>
#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "../err.h"

enum http_capture_source { HTTP_CAPTURE_JSON, HTTP_CAPTURE_HEADER, HTTP_CAPTURE_REGEX };

struct http_capture {
	char *name;                      /* the variable it sets */
	enum http_capture_source source;
	char *expr;                      /* "$.hits[0].id", "X-Request-Id", or the pattern */
	size_t group;                    /* regex: the group whose text is taken (0: the whole match) */
	bool optional;                   /* missing: leave the variable unset instead of failing */
	regex_t re;                      /* regex, compiled */
};

struct http_capture_set {
	struct http_capture *caps;
	size_t n;
	bool needs_headers;              /* some capture reads a header: keep the header block */
	bool needs_body;                 /* some capture reads the body */
};

/* The response captures read: the header block as received (the lines
 * after the status line, each ending in CRLF or LF) and the body. */
struct http_capture_response {
	const char *headers;
	size_t headers_len;
	const char *body;
	size_t body_len;
};

/* Parse a step's `capture` object (path names it, e.g.
 * "benchmarks[0].journey.steps[1].capture").  Every problem goes to
 * `problems`; returns 0, or ERR_INPUT when any was found (then *out is
 * empty). */
int http_capture_parse(struct http_capture_set *out, const cJSON *obj, const char *path, struct errlist *problems);
void http_capture_release(struct http_capture_set *s);

/* Take every value of the set from r into `vars` (a JSON object: each
 * capture replaces its member).  Returns 0, or ERR_NOTFOUND naming the
 * first missing value in why ("capture doc: no $.hits[0].id in the
 * response"), the values before it set. */
int http_capture_apply(const struct http_capture_set *s, const struct http_capture_response *r, cJSON *vars,
		       char *why, size_t why_len);

/* One capture's value (caller deletes it), or NULL with why.  doc is the
 * body parsed as JSON (NULL when it is not JSON; only json captures read it). */
cJSON *http_capture_value(const struct http_capture *c, const struct http_capture_response *r, const cJSON *doc,
			  char *why, size_t why_len);

/* The first header `name` (case-insensitive) in a header block, trimmed;
 * NULL when absent. */
const char *http_capture_header(const char *headers, size_t len, const char *name, size_t *value_len);

#endif
