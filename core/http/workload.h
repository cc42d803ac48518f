/*
 * workload.h: what an LLM benchmark sends (the "prompts" and "classes"
 * keys of a benchmark, docs/load.md "LLM workloads"): synthetic prompts of
 * chosen token lengths (exact when the server's tokenize endpoint counts
 * them), conversations from a dataset, lengths from a trace, shared
 * prefixes, multi-turn sessions, and weighted request classes.
 *
 * Everything is prepared before the first request of the run, never
 * during the measured window: datasets read, prompts built and counted.
 * What comes out is a list of request bodies (JSON text, with their
 * class and requested lengths) for the plan to serialise once, and an
 * order in which requests take them (classes drawn by weight, seeded);
 * sessions instead give each conversation's turns, built when sent
 * because each carries the replies before it (sessions.h).
 *
 * A body is the benchmark's http.body (or the class's body) with
 * "messages" (chat) or "prompt" (completions), "max_tokens", and when
 * asked "ignore_eos" and "min_tokens" set by perfgate.
 */
#ifndef PERFGATE_HTTP_WORKLOAD_H
#define PERFGATE_HTTP_WORKLOAD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>
#include <gsl/gsl_rng.h>

#include "../err.h"
#include "dataset.h"
#include "lengths.h"
#include "trace.h"

struct http_plan;

enum http_wl_source { HTTP_WL_SYNTHETIC, HTTP_WL_DATASET, HTTP_WL_TRACE };

/* Think time between a session's turns. */
enum http_wl_think_kind { HTTP_THINK_FIXED, HTTP_THINK_EXPONENTIAL, HTTP_THINK_UNIFORM };
struct http_wl_think {
	enum http_wl_think_kind kind;
	double a, b;             /* s: FIXED a; EXPONENTIAL mean a; UNIFORM a to b */
};

/* One request class (a benchmark without "classes" has one, unnamed). */
struct http_wl_class {
	char *name;              /* NULL: the benchmark has no classes */
	double weight;
	char *target;            /* request target (path and query) of this class; NULL: the benchmark's */
	cJSON *body;             /* body template, an object */
	bool chat;               /* "messages" (chat completions), else "prompt" */
	enum http_wl_source source;
	struct http_lengths input;      /* synthetic: input length (whole input, prefix included) */
	struct http_lengths output;     /* max_tokens (when !output_from_data) */
	bool output_from_data;          /* dataset reply lengths, trace lengths */
	bool output_set;                /* output_tokens was given */
	bool ignore_eos;
	long min_tokens;                /* -1: not sent; -2: equal to max_tokens */
	long count;                     /* distinct synthetic prompts (0: as many as requests expected) */
	uint64_t seed;
	long prefixes, prefix_tokens;   /* shared prefixes: how many, tokens each (0: none) */
	struct http_dataset_options ds; /* dataset source; its strings point at ds_path and ds_keys */
	char *ds_path;                  /* as written (relative to the suite's folder) */
	char *ds_keys[3];               /* fields: the turns array's, the role's, the text's key (NULL: default) */
	struct http_dataset *dataset;
	bool sessions;                  /* multi-turn */
	struct http_lengths turns;      /* turns per session (synthetic) */
	bool turns_from_data;           /* the conversation's user turns */
	long max_turns;                 /* 0: no limit */
	struct http_wl_think think;
	/* prepared */
	char **prefix;                  /* prefixes: their texts */
	size_t first_item, n_items;     /* its items in the workload's list */
};

/* One prepared request. */
struct http_wl_item {
	uint32_t cls;
	char *body;              /* JSON text */
	size_t len;
	long input_tokens;       /* requested: the fitted length (exact) or the estimate; -1: unknown */
	bool input_exact;        /* the server's tokenizer counted input_tokens */
	long output_tokens;      /* max_tokens sent */
};

struct http_workload {
	struct http_wl_class *classes;
	size_t n_classes;
	bool have_prompts;       /* the benchmark has "prompts" (or "classes") */
	/* tokenize: the endpoint, "auto" (try /tokenize at the URL's origin), or none */
	char *tokenize_url;
	bool tokenize_auto;
	cJSON *tokenize_body;
	char *tokenize_count;
	double block_tokens;     /* trace hash_ids: tokens per block */
	/* prepared */
	struct http_wl_item *items;
	size_t n_items;
	uint32_t *order;         /* request k takes items[order[k % n_order]] */
	size_t n_order;
	const char *token_source;/* "tokenizer" or "estimate" */
	long tokenize_calls;
	long fitted, inexact;    /* prompts fitted exactly, and not */
	char *tokenize_note;     /* why the tokenizer was not used ("auto" that found none), or NULL */
};

/* What preparing needs from the plan and the load. */
struct http_workload_env {
	const char *dir;                 /* the suite's folder (dataset paths) */
	const char *url;                 /* the benchmark's URL */
	const char *origin;              /* scheme://authority of the URL, for a tokenize path */
	const char *target;              /* the URL's path and query */
	char *const *headers;            /* header lines sent to the tokenize endpoint too */
	size_t n_headers;
	const char *ca_file;
	const struct http_trace *trace;  /* load mode trace: one request per entry */
	long expected_requests;          /* about how many requests a step sends (warmup too); 0: unknown */
};

/*
 * Parse the benchmark's "prompts" and "classes" (both absent: *out is a
 * workload with have_prompts false).  Every problem goes to `problems` at
 * its JSON path.  out may be NULL to validate only.
 */
int http_workload_parse(struct http_workload **out, const cJSON *bench, const char *path, struct errlist *problems);

/*
 * Read datasets, count and fit prompts, build every request body.  Returns
 * 0, ERR_INPUT (a dataset's problem), or ERR_RUN (a tokenize endpoint that
 * was named and does not answer).
 */
int http_workload_prepare(struct http_workload *w, const struct http_workload_env *env, struct err *err);

void http_workload_free(struct http_workload *w);

/*
 * All of it for the runner: parse (ERR_INPUT with the first problem),
 * prepare, and put the requests into the plan.  *out stays NULL when the
 * benchmark has no "prompts" or "classes".  expected: about how many
 * requests a step sends (0: unknown).
 */
int http_workload_open(struct http_workload **out, const cJSON *bench, const char *name, const char *dir,
		       struct http_plan *plan, const struct http_trace *trace, long expected, struct err *err);

/* The prepared requests into the plan: its requests (one per item, to
 * its class's target), what each asked for, the order, the class names;
 * the plan's own requests are replaced. */
void http_workload_plan(const struct http_workload *w, struct http_plan *p);

/* Does any class run multi-turn sessions? */
bool http_workload_sessions(const struct http_workload *w);

/* What the run document says about the workload (token_source, counts,
 * datasets read); caller owns it. */
cJSON *http_workload_describe(const struct http_workload *w);

/* A body for one input: the class's template with messages or prompt,
 * max_tokens and the length options set; caller frees.  For sessions
 * (messages given) and for tests. */
char *http_workload_body(const struct http_wl_class *c, const cJSON *messages, const char *prompt, long max_tokens);

/* A think time drawn with r, in s. */
double http_workload_think(const struct http_wl_think *t, gsl_rng *r);

#endif
