/*
 * tokens.h: per-request streaming token metrics (DESIGN section 4).
 *
 * For one streamed response: t_first_token is the time of the first event
 * with non-empty text, t_last_token the time of the last one; ttft =
 * t_first_token - t_sched; N (output tokens) is usage.completion_tokens when
 * the server sent it, else the number of content events (and the request
 * records which); tpot = (t_last_token - t_first_token) / (N - 1) for N >= 2;
 * the gaps between consecutive content events are inter-token latencies
 * when each event carried exactly one token (N from usage equals the event
 * count), else inter-chunk latencies.
 */
#ifndef PERFGATE_TOKENS_H
#define PERFGATE_TOKENS_H

#include <stdbool.h>
#include <stdint.h>

struct hist;

struct http_tokens {
	uint64_t t_first;    /* ns, CLOCK_MONOTONIC; 0 before the first content event */
	uint64_t t_last;     /* ns */
	uint64_t events;     /* content events (non-empty text) */
	long usage_tokens;   /* usage.completion_tokens, -1 when not sent */
	bool done;           /* the end mark ([DONE]) arrived */
};

struct http_tokens_result {
	bool has_first;        /* at least one content event */
	uint64_t ttft;         /* ns, t_first - t_sched */
	bool has_tpot;         /* N >= 2 */
	uint64_t tpot;         /* ns per token after the first */
	uint64_t tokens;       /* N */
	bool from_usage;       /* N came from usage.completion_tokens */
	bool one_token_events; /* N from usage equals the event count */
};

void http_tokens_reset(struct http_tokens *r);
/* A content event at time t (ns); the gap from the previous one goes into
 * `gaps` (may be NULL). */
void http_tokens_event(struct http_tokens *r, uint64_t t, struct hist *gaps);
void http_tokens_usage(struct http_tokens *r, long completion_tokens);
void http_tokens_result_of(const struct http_tokens *r, uint64_t t_sched, struct http_tokens_result *out);

#endif
