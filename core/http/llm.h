/*
 * llm.h: token accounting of LLM workloads (docs/metrics.md, "LLM
 * workloads"): what each response's usage says (input, cached, reasoning
 * and output tokens), requested against delivered lengths, latency per
 * output token, and the same figures per request class and per turn of a
 * session.
 *
 * request.c calls in here for every response of a benchmark with a
 * "prompts" object (plan->llm); the engine merges the workers' shares; the
 * runner turns a step's share into metrics.  The counts follow the
 * engine's rules: distributions and sums hold measured successes, and
 * failures are counted per class.
 */
#ifndef PERFGATE_HTTP_LLM_H
#define PERFGATE_HTTP_LLM_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../util.h"
#include "openai.h"

struct hist;
struct rd_bench;
struct http_plan;
struct http_slot;
struct http_worker;
struct http_tokens_result;

#define HTTP_LLM_MAX_TURNS 16 /* sessions: turns with metrics of their own; later ones count in the last */

/* What was asked of one request (the plan's, per distinct request). */
struct http_plan_meta {
	uint32_t cls;             /* its class (index into plan->class_names) */
	long input_tokens;        /* requested input length (the fitted one, or an estimate); -1: unknown */
	bool input_exact;         /* the server's tokenizer counted input_tokens before the run */
	long output_tokens;       /* max_tokens asked */
};

/* One response's accounting (in each slot). */
struct http_llm_req {
	struct http_openai_usage usage; /* what the server's usage said (stream or body) */
	uint64_t reasoning_events;      /* token events that carried reasoning text */
	long session, turn;             /* sessions: which (turn 1-based); -1 otherwise */
	struct sb reply;                /* sessions: the answer text, sent back as the assistant's turn */
};

/* What a driver's request asked for: a session's turn.  The sessions
 * driver's job starts with one (slot->job points at it). */
struct http_llm_job {
	struct http_plan_meta meta;
	long session, turn;             /* turn 1-based */
};

/* One class's or one turn's figures. */
struct http_llm_group {
	struct hist *latency, *ttft, *tpot, *itl;
	uint64_t requests;        /* measured requests, sent or not */
	uint64_t ok, failed;      /* measured outcomes */
	uint64_t ok_in_window, goodput_ok;
	uint64_t output_tokens, input_tokens, input_known, cached_tokens, cached_known;
	uint64_t mismatch;        /* successes whose input or output length was not the one asked */
	struct hist *per_token;   /* latency / output tokens of each success (N >= 1) */
};

/* A step's share (per worker, then merged). */
struct http_llm_result {
	uint64_t ok;                               /* measured successes */
	uint64_t output_tokens;                    /* their output tokens (usage, else token events) */
	uint64_t input_tokens, input_known;        /* usage.prompt_tokens summed, over how many successes */
	uint64_t cached_tokens, cached_known;      /* prompt_tokens_details.cached_tokens */
	uint64_t reasoning_tokens, reasoning_known;/* completion_tokens_details.reasoning_tokens */
	uint64_t reasoning_events;                 /* token events that were reasoning, over successes */
	uint64_t in_requested, in_requested_n;     /* requested input lengths summed (where known), over how many successes */
	uint64_t out_requested, out_requested_n;   /* max_tokens asked, summed, over how many successes */
	uint64_t input_checked, input_mismatch;    /* successes with an exact requested input; how many differ */
	uint64_t output_checked, output_mismatch;  /* successes with a known output count; how many differ */
	uint64_t mismatch;                         /* successes with either mismatch */
	struct hist *per_token;                    /* latency / output tokens of each success (N >= 1) */
	struct http_llm_group *classes;            /* one per plan class (only when named) */
	size_t n_classes;
	struct http_llm_group *turns;              /* sessions: turn 1..HTTP_LLM_MAX_TURNS */
	size_t n_turns;
};

struct http_llm_result *http_llm_result_new(const struct http_plan *p, bool sse);
void http_llm_result_free(struct http_llm_result *r);
void http_llm_merge(struct http_llm_result *into, const struct http_llm_result *from);

/* A new request on a slot: its accounting reset; a session's turn (a
 * driver's job under a sessions plan) says what it asked for. */
void http_llm_begin(struct http_slot *s);
void http_llm_release(struct http_llm_req *q);
/* A measured request of class cls (and turn, 0: none) was issued. */
void http_llm_count_issued(struct http_llm_result *r, uint32_t cls, long turn);
/* A stream chunk's usage and reasoning (after request.c's token event). */
void http_llm_chunk(struct http_llm_req *q, const struct http_openai_chunk *ch);

/*
 * A measured success: its usage (http_llm_response read it first when the
 * response was not a stream), the requested lengths against the delivered,
 * latency per output token, and its class's and turn's figures.  lat is t_end -
 * t_sched; in_window and good as request.c decided them.
 */
void http_llm_record_ok(struct http_llm_result *r, const struct http_plan *p, const struct http_slot *s,
			const struct http_tokens_result *tr, uint64_t lat, bool in_window, bool good);
/* A whole (not streamed) response: its usage, and for a session its
 * answer, from the body kept. */
void http_llm_response(struct http_slot *s);
void http_llm_record_fail(struct http_llm_result *r, const struct http_slot *s);
/* Measured requests issued, per class. */
void http_llm_record_issued(struct http_llm_result *r, const struct http_slot *s);

/* The step's LLM metrics into b (suffix as the runner's). */
void http_llm_add_metrics(struct rd_bench *b, const char *suffix, const struct http_llm_result *r,
			  const struct http_plan *p, double window, const char *itl_name);

/* Every repetition's distributions merged, attached as "histogram" to
 * their ".p50" metrics at the end (as the runner does for its own), and
 * the steps' length counts added up. */
struct http_llm_fams;
struct http_llm_fams *http_llm_fams_new(void);
void http_llm_fams_merge(struct http_llm_fams *f, const struct http_llm_result *r, const struct http_plan *p);
void http_llm_fams_attach(struct http_llm_fams *f, struct rd_bench *b, const char *itl_name);
/* When some responses were not as long as asked (over every step): a
 * warning that puts requested beside delivered lengths, with the counts
 * and the likely cause; NULL when all were.  Caller frees. */
char *http_llm_fams_lengths_note(const struct http_llm_fams *f);
void http_llm_fams_free(struct http_llm_fams *f);

#endif
