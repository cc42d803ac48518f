/*
 * request.c: one request's response and its record, the same whichever
 * transport carried it (see transport.h).
 *
 * The transport hands over what it read (status, body bytes, the time of
 * each read); this file feeds the stream parser and the token counts,
 * judges the response (expected status, the stream's end mark, checks) and
 * records the outcome into the worker's share of the result: the send
 * (sent, lateness, late sends), a success (latency, service time, ttfb,
 * stream metrics, goodput) or a failure (its class and first message).
 * Those counts decide whether a run is valid, so they live here only.
 */
#include "transport.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../hist.h"
#include "plan.h"
#include "converge.h"
#include "openai.h"
#include "records.h"
#include "sse.h"
#include "tokens.h"

#define LATE_NS 1000000ULL /* a send later than this after its t_sched is late (DESIGN section 4) */

bool http_request_interim(int status)
{
	return status >= 100 && status < 200 && status != 101;
}

/* One event of a stream: a token event when it carries answer or
 * reasoning text (openai.h says which chunks do not: the role-only chunk,
 * tool calls, empty deltas, the usage chunk), the usage it says, the end
 * mark, an error. */
static void on_sse_event(void *arg, const char *type, const char *data, size_t len)
{
	struct http_slot *s = arg;
	struct http_openai_chunk ch;
	bool token;

	(void)type;
	http_openai_chunk_parse(data, len, &ch, s->plan->sessions ? &s->llm.reply : NULL);
	if (ch.kind == HTTP_OPENAI_DONE) {
		s->sse_done = true;
		return;
	}
	if (ch.kind == HTTP_OPENAI_ERROR) {
		s->sse_error = true;
		return;
	}
	/* a plain SSE stream: every event with data is content */
	token = ch.kind == HTTP_OPENAI_TEXT || (ch.kind == HTTP_OPENAI_NOT_JSON && len > 0);
	if (ch.usage.completion_tokens >= 0)
		http_tokens_usage(&s->tok, ch.usage.completion_tokens);
	http_llm_chunk(&s->llm, &ch);
	if (token) {
		if (s->tok.events > 0 && s->measured) {
			XGROW(s->gaps, s->alloc_gaps, s->n_gaps + 1);
			s->gaps[s->n_gaps++] = s->w->now - s->tok.t_last;
		}
		http_tokens_event(&s->tok, s->w->now, NULL);
	}
}

void http_request_slot_init(struct http_slot *s)
{
	if (s->w->plan->sse)
		s->sse = http_sse_new(on_sse_event, s);
}

/* A slot that carries requests of several plans (a driver's) makes its
 * stream parser when the first streaming one comes. */
static void stream_parser(struct http_slot *s)
{
	if (!s->sse)
		s->sse = http_sse_new(on_sse_event, s);
}

void http_request_slot_release(struct http_slot *s)
{
	http_sse_free(s->sse);
	s->sse = NULL;
	sb_release(&s->body);
	sb_release(&s->headers);
	http_llm_release(&s->llm);
	free(s->gaps);
	s->gaps = NULL;
	s->n_gaps = s->alloc_gaps = 0;
}

void http_request_begin(struct http_worker *w, struct http_slot *s)
{
	s->got_bytes = false;
	s->status = 0;
	s->interim = 0;
	s->resp_bytes = 0;
	sb_reset(&s->body);
	sb_reset(&s->headers);
	s->body_over = false;
	(void)w;
	http_llm_begin(s);
	if (s->plan->sse) {
		stream_parser(s);
		http_sse_reset(s->sse);
		http_tokens_reset(&s->tok);
		s->sse_done = s->sse_error = false;
		s->n_gaps = 0;
	}
}

void http_request_body(struct http_slot *s, const char *data, size_t len)
{
	const struct http_plan *p = s->plan;

	if (p->sse && s->status >= 200 && s->status < 300)
		http_sse_feed(s->sse, data, len);
	/* kept for checks and captures, and for the usage of an LLM response
	 * that is not a stream */
	if (p->n_checks || p->keep_body || (p->llm && !p->sse)) {
		if (s->body.len + len > p->max_body)
			s->body_over = true;
		else
			sb_add(&s->body, data, len);
	}
}

static bool in_window(const struct http_worker *w, uint64_t t)
{
	return (t >= w->step->window_start && t < w->step->window_end) || w->step->window_end == UINT64_MAX;
}

void http_request_sent(struct http_worker *w, struct http_slot *s)
{
	if (s->sent_once)
		return;
	s->sent_once = true;
	if (s->measured) {
		uint64_t late = s->t_send > s->t_sched ? s->t_send - s->t_sched : 0;

		s->res->sent++;
		if (w->o->open_loop) {
			/* Closed loops send when a slot comes free: no lateness. */
			hist_record(s->res->lateness, late);
			if (late > LATE_NS)
				s->res->late_1ms++;
		}
		if (in_window(w, s->t_send))
			s->res->sent_in_window++;
		s->res->bytes_out += s->wire->len;
	}
	http_engine_ts_at(w, s->t_send)->sent++;
}

int http_request_verdict(const struct http_worker *w, const struct http_slot *s, char *why, size_t why_len)
{
	const struct http_plan *p = s->plan;

	(void)w;
	if (!http_plan_status_ok(p, s->status)) {
		snprintf(why, why_len, "status %d from %s", s->status, p->url);
		return s->status >= 500 ? EE_5XX : s->status >= 400 ? EE_4XX : EE_UNEXPECTED_STATUS;
	}
	if (p->sse && s->sse_error) {
		snprintf(why, why_len, "the stream carried an error event (%s)", p->url);
		return EE_BAD_RESPONSE;
	}
	if (p->sse && !s->sse_done) {
		snprintf(why, why_len, "the stream ended without its end mark [DONE] after %llu events",
			 (unsigned long long)s->tok.events);
		return EE_INCOMPLETE_STREAM;
	}
	if (p->n_checks && s->body_over) {
		snprintf(why, why_len, "response body over %zu bytes, too large to check", p->max_body);
		return EE_FAILED_CHECK;
	}
	if (p->n_checks) {
		char failed[300];

		if (!http_plan_checks_pass(p, sb_str(&s->body), s->body.len, failed, sizeof(failed))) {
			snprintf(why, why_len, "check failed: %s", failed);
			return EE_FAILED_CHECK;
		}
	}
	return -1;
}

/* Does the request's value v of metric m meet every per-request SLO on
 * m (have: the request has such a value)? */
static bool rslo_met(const struct http_plan *p, enum http_rslo_metric m, uint64_t v, bool have)
{
	for (size_t i = 0; i < p->n_rslo; i++) {
		if (p->rslo[i].metric != m)
			continue;
		if (!have)
			return false;
		if (p->rslo[i].inclusive ? v > p->rslo[i].limit : v >= p->rslo[i].limit)
			return false;
	}
	return true;
}

/* The stream metrics of a success; whether they meet the request SLOs. */
static bool record_stream(const struct http_slot *s)
{
	const struct http_plan *p = s->plan;
	struct http_tokens_result tr = { 0 };
	uint64_t maxgap = 0;

	http_tokens_result_of(&s->tok, s->t_sched, &tr);
	if (tr.has_first)
		hist_record(s->res->ttft, tr.ttft);
	if (tr.has_tpot)
		hist_record(s->res->tpot, tr.tpot);
	for (size_t i = 0; i < s->n_gaps; i++) {
		hist_record(s->res->itl, s->gaps[i]);
		if (s->gaps[i] > maxgap)
			maxgap = s->gaps[i];
	}
	s->res->tokens += tr.tokens;
	if (tr.from_usage) {
		s->res->tok_usage++;
		if (!tr.one_token_events)
			s->res->one_token_events = false;
	} else {
		s->res->tok_events++;
	}
	return rslo_met(p, RSLO_TTFT, tr.ttft, tr.has_first) && rslo_met(p, RSLO_TPOT, tr.tpot, tr.has_tpot) &&
	       rslo_met(p, RSLO_ITL_MAX, maxgap, true);
}

static void record_ok(struct http_worker *w, const struct http_slot *s, uint64_t t_end)
{
	const struct http_plan *p = s->plan;
	uint64_t lat = t_end - s->t_sched, svc = t_end - s->t_send;
	uint64_t ttfb = s->t_first_byte - s->t_sched;
	struct http_worker_ts *ts;
	bool good;

	if (!s->measured) {
		s->res->warmup_requests++;
		return;
	}
	s->res->ok++;
	s->res->interim += s->interim;
	if (s->h2)
		s->res->proto_h2++;
	else
		s->res->proto_h1++;
	if (t_end > w->last_t_end)
		w->last_t_end = t_end;
	hist_record(s->res->latency, lat);
	hist_record(s->res->service_time, svc);
	hist_record(s->res->ttfb, ttfb);
	s->res->bytes_in += s->resp_bytes;
	ts = http_engine_ts_at(w, t_end);
	ts->ok++;
	if (!ts->lat)
		ts->lat = hist_new(2);
	hist_record(ts->lat, lat);
	good = rslo_met(p, RSLO_LATENCY, lat, true) && rslo_met(p, RSLO_SERVICE_TIME, svc, true) &&
	       rslo_met(p, RSLO_TTFB, ttfb, true);
	if (p->sse && !record_stream(s))
		good = false;
	if (in_window(w, t_end)) {
		s->res->ok_in_window++;
		if (good)
			s->res->goodput_ok++;
	}
	if (p->llm || w->step->conv) {
		struct http_tokens_result tr = { 0 };

		if (p->sse)
			http_tokens_result_of(&s->tok, s->t_sched, &tr);
		if (p->llm)
			http_llm_record_ok(s->res->llm, p, s, &tr, lat, in_window(w, t_end), good);
		if (w->step->conv) {
			const uint64_t v[CONV_N] = { lat, svc, ttfb, tr.ttft, tr.tpot };
			const bool have[CONV_N] = { true, true, true, tr.has_first, tr.has_tpot };

			http_converge_record(w->step->conv, w->idx, t_end, v, have);
		}
	}
}

static void record_fail(struct http_worker *w, const struct http_slot *s, enum http_engine_error e, uint64_t t_end)
{
	if (!s->measured) {
		s->res->warmup_requests++;
		return;
	}
	s->res->failed++;
	s->res->interim += s->interim;
	s->res->errors[e]++;
	http_llm_record_fail(s->res->llm, s);
	s->res->bytes_in += s->resp_bytes;
	http_engine_ts_at(w, t_end)->errors++;
	if (t_end > w->last_t_end)
		w->last_t_end = t_end;
}

/* The request's line of the per-request records (records.h). */
static void keep_record(struct http_worker *w, const struct http_slot *s, int e, uint64_t t_end)
{
	const struct http_plan *p = s->plan;
	const struct http_plan_meta *m = s->meta;
	struct http_record x = {
		.worker = (uint32_t)w->idx, .seq = w->records_seq++, .warmup = !s->measured,
		.t_sched = s->t_sched, .t_send = s->t_send, .t_first_byte = s->got_bytes ? s->t_first_byte : 0,
		.t_first_token = p->sse && s->tok.events ? s->tok.t_first : 0, .t_end = t_end,
		.status = s->status, .error = e >= 0 ? http_engine_error_name((enum http_engine_error)e) : NULL,
		.class_name = m && m->cls < p->n_classes ? p->class_names[m->cls] : NULL,
		.session = s->llm.session, .turn = s->llm.turn,
		.input_tokens_requested = m && m->input_exact ? m->input_tokens : -1,
		.input_tokens = s->llm.usage.prompt_tokens, .cached_tokens = s->llm.usage.cached_tokens,
		.output_tokens_requested = m ? m->output_tokens : -1, .output_tokens = -1,
		.reasoning_tokens = s->llm.usage.reasoning_tokens, .itl = s->gaps, .n_itl = s->n_gaps,
	};

	if (!s->t_send) {
		/* never sent (no connection): nothing of a response is its own */
		x.n_itl = 0;
	} else if (p->sse) {
		x.output_tokens = s->tok.usage_tokens >= 0 ? s->tok.usage_tokens : (long)s->tok.events;
	} else if (p->llm) {
		x.output_tokens = s->llm.usage.completion_tokens;
	}
	http_records_add(w->rec, &x);
}

void http_request_ok(struct http_worker *w, struct http_slot *s, bool keep)
{
	uint64_t t_end = now_ns();

	if (s->plan->llm && !s->plan->sse)
		http_llm_response(s);
	record_ok(w, s, t_end);
	if (w->rec)
		keep_record(w, s, -1, t_end);
	http_engine_slot_done(w, s, true, keep, -1, t_end);
}

void http_request_fail(struct http_worker *w, struct http_slot *s, enum http_engine_error e, const char *fmt, ...)
{
	uint64_t t_end = now_ns();

	/* The first message of each class, of measured requests. */
	if (s->measured && !s->res->first_error[e][0]) {
		va_list ap;

		va_start(ap, fmt);
		vsnprintf(s->res->first_error[e], sizeof(s->res->first_error[e]), fmt, ap);
		va_end(ap);
	}
	record_fail(w, s, e, t_end);
	if (w->rec)
		keep_record(w, s, (int)e, t_end);
	http_engine_slot_done(w, s, false, false, (int)e, t_end);
}
