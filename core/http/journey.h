/*
 * journey.h: the `journey` of a benchmark (issue 16, docs/journeys.md): an
 * ordered list of steps, each an HTTP request as a benchmark's `http`
 * object describes one, run one after the other for every journey that
 * the load model starts.
 *
 *   "journey": {
 *     "steps": [
 *       {"name": "embed", "http": {"url": "http://127.0.0.1:8101/embed", "body": {"text": "{question}"}},
 *        "capture": {"vec": {"json": "$.embedding"}}},
 *       {"name": "search", "http": {"url": "http://127.0.0.1:8102/search", "body": {"vector": "{vec}"}},
 *        "capture": {"context": {"json": "$.hits[0].text"}}, "think": "50ms"},
 *       {"name": "generate", "when": {"var": "context", "exists": true},
 *        "http": {"url": "http://127.0.0.1:8103/v1/completions", "stream": "sse",
 *                 "body": {"prompt": "{context} {question}", "max_tokens": 32, "stream": true}}}]}
 *
 * A step's URL path and query, header values and body may hold `{name}`
 * templates (template.h) of the journey's variables: built-in ones
 * (`journey`, the journey's number; `iteration`, the run of a repeated
 * step, from 0), fields of the journey's `dataset` row (a JSONL file as
 * http.dataset takes it; journey k takes row k, cycling), and values
 * captured from earlier steps' responses (capture.h).  The scheme, host and port
 * are fixed: each step's target is resolved once.
 *
 * `when` runs a step only if a variable exists / is missing / equals /
 * differs from a value; `repeat` runs it several times ("repeat": 3), or
 * until a condition holds ({"until": COND, "max": 10, "interval": "200ms"}:
 * a journey whose step never meets it fails at that step); `think` pauses
 * before the step (a duration, or {"min": .., "max": ..} drawn uniformly).
 */
#ifndef PERFGATE_HTTP_JOURNEY_H
#define PERFGATE_HTTP_JOURNEY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "../err.h"
#include "../util.h"
#include "capture.h"
#include "plan.h"
#include "rng.h"

#define HTTP_JOURNEY_MAX_STEPS 64

enum http_journey_op { HTTP_JOURNEY_EXISTS, HTTP_JOURNEY_MISSING, HTTP_JOURNEY_EQUALS, HTTP_JOURNEY_NOT_EQUALS };

struct http_journey_cond {
	char *var;
	enum http_journey_op op;
	cJSON *value;           /* EQUALS, NOT_EQUALS */
};

struct http_journey_step {
	char *name;
	struct http_plan *plan;      /* target, method, statuses, checks, stream, per-request SLOs;
					its reqs[0] is the request when nothing is templated */
	bool templated;              /* the target, a header or the body holds a {name} */
	cJSON *body_json;            /* a JSON body (a template), or NULL */
	char *body_text;             /* a text body (a template), or NULL */
	bool has_body;               /* POST/PUT/PATCH or a body: Content-Length is sent */
	struct http_capture_set capture;
	bool has_when;
	struct http_journey_cond when;
	long repeat;                 /* at most this many runs (1: once) */
	bool has_until;
	struct http_journey_cond until;
	uint64_t interval;           /* ns between runs of a repeated step */
	uint64_t think_min, think_max; /* ns: the pause before the step, drawn uniformly */
};

struct http_journey {
	struct http_journey_step *steps;
	size_t n_steps;
	bool any_sse;                /* some step streams */
	cJSON *rows;                 /* the dataset's rows (journey k takes row k mod n), or NULL */
	bool dataset_unread;         /* validating only: a dataset is named but not read */
};

/* Parse and check the benchmark's `journey` (path names the benchmark).
 * With dir == NULL only validates; otherwise also prepares the requests
 * (reading files relative to dir).  Every problem at its JSON path;
 * ERR_INPUT when any was found (then *out is NULL). */
int http_journey_parse(struct http_journey **out, const cJSON *bench, const char *path, const char *dir,
		       struct errlist *problems);
void http_journey_free(struct http_journey *j);
/* The index of the step named name, or -1. */
long http_journey_step_index(const struct http_journey *j, const char *name);

/* The request of step s for the variables vars, as HTTP/1.1 bytes into
 * out.  Returns 0, or ERR_INPUT with why when a value cannot go where its
 * template puts it (a line break into a header). */
int http_journey_render(const struct http_journey_step *s, const cJSON *vars, struct sb *out, char *why,
			size_t why_len);

bool http_journey_cond_holds(const struct http_journey_cond *c, const cJSON *vars);

/* Where a journey is: the step to run next, its run, the pause before it. */
struct http_journey_pos {
	size_t step;
	long iteration;
	uint64_t think;              /* ns */
};

enum http_journey_move {
	HTTP_JOURNEY_RUN,            /* run pos->step after pos->think */
	HTTP_JOURNEY_DONE,           /* every step that was to run ran */
	HTTP_JOURNEY_EXHAUSTED       /* pos->step repeated `repeat` times without meeting `until` */
};

/* The first step to run.  Steps whose `when` fails are skipped, each
 * counted in skipped[step] (skipped may be NULL). */
enum http_journey_move http_journey_start(const struct http_journey *j, const cJSON *vars, struct http_rng *rng,
					  struct http_journey_pos *pos, uint64_t *skipped);
/* pos->step just succeeded and its captures are in vars: what next. */
enum http_journey_move http_journey_next(const struct http_journey *j, const cJSON *vars, struct http_rng *rng,
					 struct http_journey_pos *pos, uint64_t *skipped);

#endif
