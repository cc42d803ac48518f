/*
 * tokens.c: per-request streaming token metrics (see tokens.h).
 */
#include "tokens.h"

#include <string.h>

#include "../hist.h"

void http_tokens_reset(struct http_tokens *r)
{
	memset(r, 0, sizeof(*r));
	r->usage_tokens = -1;
}

void http_tokens_event(struct http_tokens *r, uint64_t t, struct hist *gaps)
{
	if (r->events == 0)
		r->t_first = t;
	else if (gaps)
		hist_record(gaps, t >= r->t_last ? t - r->t_last : 0);
	r->t_last = t;
	r->events++;
}

void http_tokens_usage(struct http_tokens *r, long completion_tokens)
{
	if (completion_tokens >= 0)
		r->usage_tokens = completion_tokens;
}

void http_tokens_result_of(const struct http_tokens *r, uint64_t t_sched, struct http_tokens_result *out)
{
	memset(out, 0, sizeof(*out));
	out->from_usage = r->usage_tokens >= 0;
	out->tokens = out->from_usage ? (uint64_t)r->usage_tokens : r->events;
	out->one_token_events = out->from_usage && out->tokens == r->events;
	if (r->events == 0)
		return;
	out->has_first = true;
	out->ttft = r->t_first >= t_sched ? r->t_first - t_sched : 0;
	if (out->tokens >= 2) {
		out->has_tpot = true;
		out->tpot = (r->t_last - r->t_first) / (out->tokens - 1);
	}
}
