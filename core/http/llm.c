/*
 * llm.c: token accounting of LLM workloads (see llm.h).
 */
#include "llm.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../hist.h"
#include "../rundoc.h"
#include "../util.h"
#include "plan.h"
#include "tokens.h"
#include "transport.h"

static void group_init(struct http_llm_group *g, bool sse)
{
	memset(g, 0, sizeof(*g));
	g->latency = hist_new(3);
	g->per_token = hist_new(3);
	if (sse) {
		g->ttft = hist_new(3);
		g->tpot = hist_new(3);
		g->itl = hist_new(3);
	}
}

static void group_release(struct http_llm_group *g)
{
	hist_free(g->latency);
	hist_free(g->per_token);
	hist_free(g->ttft);
	hist_free(g->tpot);
	hist_free(g->itl);
}

static void group_merge(struct http_llm_group *d, const struct http_llm_group *s)
{
	hist_merge(d->latency, s->latency, NULL);
	hist_merge(d->per_token, s->per_token, NULL);
	if (d->ttft) {
		hist_merge(d->ttft, s->ttft, NULL);
		hist_merge(d->tpot, s->tpot, NULL);
		hist_merge(d->itl, s->itl, NULL);
	}
	d->requests += s->requests;
	d->ok += s->ok;
	d->failed += s->failed;
	d->ok_in_window += s->ok_in_window;
	d->goodput_ok += s->goodput_ok;
	d->output_tokens += s->output_tokens;
	d->input_tokens += s->input_tokens;
	d->input_known += s->input_known;
	d->cached_tokens += s->cached_tokens;
	d->cached_known += s->cached_known;
	d->mismatch += s->mismatch;
}

struct http_llm_result *http_llm_result_new(const struct http_plan *p, bool sse)
{
	struct http_llm_result *r = xcalloc(1, sizeof(*r));

	r->per_token = hist_new(3);
	if (p->n_classes > 1 || (p->n_classes == 1 && p->class_names[0])) {
		r->n_classes = p->n_classes;
		r->classes = xcalloc(p->n_classes, sizeof(*r->classes));
		for (size_t i = 0; i < r->n_classes; i++)
			group_init(&r->classes[i], sse);
	}
	if (p->sessions) {
		r->n_turns = HTTP_LLM_MAX_TURNS;
		r->turns = xcalloc(r->n_turns, sizeof(*r->turns));
		for (size_t i = 0; i < r->n_turns; i++)
			group_init(&r->turns[i], sse);
	}
	return r;
}

void http_llm_result_free(struct http_llm_result *r)
{
	if (!r)
		return;
	hist_free(r->per_token);
	for (size_t i = 0; i < r->n_classes; i++)
		group_release(&r->classes[i]);
	for (size_t i = 0; i < r->n_turns; i++)
		group_release(&r->turns[i]);
	free(r->classes);
	free(r->turns);
	free(r);
}

void http_llm_merge(struct http_llm_result *d, const struct http_llm_result *s)
{
	if (!d || !s)
		return;
	d->ok += s->ok;
	d->output_tokens += s->output_tokens;
	d->input_tokens += s->input_tokens;
	d->input_known += s->input_known;
	d->cached_tokens += s->cached_tokens;
	d->cached_known += s->cached_known;
	d->reasoning_tokens += s->reasoning_tokens;
	d->reasoning_known += s->reasoning_known;
	d->reasoning_events += s->reasoning_events;
	d->in_requested += s->in_requested;
	d->in_requested_n += s->in_requested_n;
	d->out_requested += s->out_requested;
	d->out_requested_n += s->out_requested_n;
	d->input_checked += s->input_checked;
	d->input_mismatch += s->input_mismatch;
	d->output_checked += s->output_checked;
	d->output_mismatch += s->output_mismatch;
	d->mismatch += s->mismatch;
	hist_merge(d->per_token, s->per_token, NULL);
	for (size_t i = 0; i < d->n_classes && i < s->n_classes; i++)
		group_merge(&d->classes[i], &s->classes[i]);
	for (size_t i = 0; i < d->n_turns && i < s->n_turns; i++)
		group_merge(&d->turns[i], &s->turns[i]);
}

void http_llm_begin(struct http_slot *s)
{
	struct http_llm_req *q = &s->llm;
	const struct http_llm_job *j = s->plan->sessions ? s->job : NULL;

	http_openai_usage_reset(&q->usage);
	q->reasoning_events = 0;
	q->session = j ? j->session : -1;
	q->turn = j ? j->turn : -1;
	sb_reset(&q->reply);
	if (j)
		s->meta = &j->meta;
}

void http_llm_release(struct http_llm_req *q)
{
	sb_release(&q->reply);
}

void http_llm_chunk(struct http_llm_req *q, const struct http_openai_chunk *ch)
{
	if (ch->has_usage)
		http_openai_usage_merge(&q->usage, &ch->usage);
	if (ch->kind == HTTP_OPENAI_TEXT && ch->reasoning_len > 0 && ch->content_len == 0)
		q->reasoning_events++;
}

static struct http_llm_group *class_group(const struct http_llm_result *r, const struct http_slot *s)
{
	return r->n_classes && s->meta && s->meta->cls < r->n_classes ? &r->classes[s->meta->cls] : NULL;
}

static struct http_llm_group *turn_group(const struct http_llm_result *r, const struct http_slot *s)
{
	long t = s->llm.turn;

	if (!r->n_turns || t < 1)
		return NULL;
	return &r->turns[(size_t)t > r->n_turns ? r->n_turns - 1 : (size_t)t - 1];
}

void http_llm_count_issued(struct http_llm_result *r, uint32_t cls, long turn)
{
	if (!r)
		return;
	if (r->n_classes && cls < r->n_classes)
		r->classes[cls].requests++;
	if (r->n_turns && turn >= 1)
		r->turns[(size_t)turn > r->n_turns ? r->n_turns - 1 : (size_t)turn - 1].requests++;
}

void http_llm_record_issued(struct http_llm_result *r, const struct http_slot *s)
{
	struct http_llm_group *g;

	if (!r)
		return;
	if ((g = class_group(r, s)))
		g->requests++;
	if ((g = turn_group(r, s)))
		g->requests++;
}

void http_llm_record_fail(struct http_llm_result *r, const struct http_slot *s)
{
	struct http_llm_group *g;

	if (!r)
		return;
	if ((g = class_group(r, s)))
		g->failed++;
	if ((g = turn_group(r, s)))
		g->failed++;
}

static void group_ok(struct http_llm_group *g, const struct http_slot *s, const struct http_openai_usage *u,
		     const struct http_tokens_result *tr, uint64_t lat, bool in_window, bool good, bool mismatch)
{
	if (!g)
		return;
	g->ok++;
	g->mismatch += mismatch;
	hist_record(g->latency, lat);
	if (tr->tokens >= 1)
		hist_record(g->per_token, lat / tr->tokens);
	if (g->ttft && tr->has_first)
		hist_record(g->ttft, tr->ttft);
	if (g->tpot && tr->has_tpot)
		hist_record(g->tpot, tr->tpot);
	for (size_t i = 0; g->itl && i < s->n_gaps; i++)
		hist_record(g->itl, s->gaps[i]);
	if (in_window) {
		g->ok_in_window++;
		g->goodput_ok += good;
	}
	g->output_tokens += tr->tokens;
	if (u->prompt_tokens >= 0) {
		g->input_tokens += (uint64_t)u->prompt_tokens;
		g->input_known++;
	}
	if (u->cached_tokens >= 0 && u->prompt_tokens >= 0) {
		g->cached_tokens += (uint64_t)u->cached_tokens;
		g->cached_known += (uint64_t)u->prompt_tokens;
	}
}

/* Requested against delivered; true when either differs. */
static bool lengths(struct http_llm_result *r, const struct http_slot *s, const struct http_openai_usage *u,
		    uint64_t output)
{
	const struct http_plan_meta *m = s->meta;
	bool bad = false;

	if (!m)
		return false;
	if (m->input_tokens >= 0) {
		r->in_requested += (uint64_t)m->input_tokens;
		r->in_requested_n++;
	}
	if (m->output_tokens > 0) {
		r->out_requested += (uint64_t)m->output_tokens;
		r->out_requested_n++;
	}
	if (m->input_exact && u->prompt_tokens >= 0) {
		r->input_checked++;
		if (u->prompt_tokens != m->input_tokens) {
			r->input_mismatch++;
			bad = true;
		}
	}
	if (m->output_tokens > 0) {
		r->output_checked++;
		if ((long)output != m->output_tokens) {
			r->output_mismatch++;
			bad = true;
		}
	}
	r->mismatch += bad;
	return bad;
}

void http_llm_response(struct http_slot *s)
{
	struct http_openai_chunk ch;

	http_openai_response_parse(s->body.buf ? s->body.buf : "", s->body.len, &ch,
				   s->plan->sessions ? &s->llm.reply : NULL);
	if (ch.has_usage)
		http_openai_usage_merge(&s->llm.usage, &ch.usage);
}

void http_llm_record_ok(struct http_llm_result *r, const struct http_plan *p, const struct http_slot *s,
			const struct http_tokens_result *tr, uint64_t lat, bool in_window, bool good)
{
	const struct http_openai_usage *u = &s->llm.usage;
	struct http_tokens_result whole = *tr;
	bool bad = false;

	if (!r)
		return;
	if (!p->sse)
		whole.tokens = u->completion_tokens >= 0 ? (uint64_t)u->completion_tokens : 0;
	r->ok++;
	r->output_tokens += whole.tokens;
	if (u->prompt_tokens >= 0) {
		r->input_tokens += (uint64_t)u->prompt_tokens;
		r->input_known++;
	}
	if (u->cached_tokens >= 0 && u->prompt_tokens >= 0) {
		r->cached_tokens += (uint64_t)u->cached_tokens;
		r->cached_known += (uint64_t)u->prompt_tokens;
	}
	if (u->reasoning_tokens >= 0) {
		r->reasoning_tokens += (uint64_t)u->reasoning_tokens;
		r->reasoning_known++;
	}
	r->reasoning_events += s->llm.reasoning_events;
	if (p->sse || u->completion_tokens >= 0)
		bad = lengths(r, s, u, whole.tokens);
	if (whole.tokens >= 1)
		hist_record(r->per_token, lat / whole.tokens);
	group_ok(class_group(r, s), s, u, &whole, lat, in_window, good, bad);
	group_ok(turn_group(r, s), s, u, &whole, lat, in_window, good, bad);
}

/* ---- metrics ---- */

static const char *const stat_names[] = { "p50", "p90", "p95", "p99", "p99.9", "max", "mean" };
static const double stat_pcts[] = { 50, 90, 95, 99, 99.9, 100, -1 };

static void sample(struct rd_bench *b, const char *name, const char *tag, const char *suffix, const char *unit,
		   enum rd_direction dir, double v)
{
	char full[256];
	struct rd_metric *m;

	snprintf(full, sizeof(full), "%s%s%s%s%s", name, tag ? "[" : "", tag ? tag : "", tag ? "]" : "",
		 suffix ? suffix : "");
	if (!(m = rundoc_bench_find_metric(b, full)))
		m = rundoc_bench_add_metric(b, full, unit, dir);
	rundoc_metric_add_sample(m, v);
}

static void family(struct rd_bench *b, const char *fam, const char *tag, const char *suffix, const struct hist *h)
{
	if (!h || !hist_count(h))
		return;
	for (size_t i = 0; i < ARRAY_SIZE(stat_names); i++) {
		char name[128];
		double v = stat_pcts[i] < 0 ? hist_mean(h) : (double)hist_percentile(h, stat_pcts[i]);

		snprintf(name, sizeof(name), "%s.%s", fam, stat_names[i]);
		sample(b, name, tag, suffix, "s", RD_LOWER, v / 1e9);
	}
}

/* A class's or a turn's metrics, tagged "[chat]" or "[turn2]". */
static void group_metrics(struct rd_bench *b, const char *tag, const char *suffix, const struct http_llm_group *g,
			  const struct http_plan *p, double w, const char *itl_name)
{
	uint64_t done = g->ok + g->failed;

	sample(b, "requests", tag, suffix, "1", RD_HIGHER, (double)g->requests);
	sample(b, "throughput", tag, suffix, "1/s", RD_HIGHER, (double)g->ok_in_window / w);
	sample(b, "error_rate", tag, suffix, "1", RD_LOWER, done ? (double)g->failed / (double)done : 0);
	if (!g->ok)
		return;
	family(b, "latency", tag, suffix, g->latency);
	family(b, "ttft", tag, suffix, g->ttft);
	family(b, "tpot", tag, suffix, g->tpot);
	family(b, itl_name, tag, suffix, g->itl);
	sample(b, "output_tokens", tag, suffix, "1", RD_HIGHER, (double)g->output_tokens / (double)g->ok);
	sample(b, "output_token_rate", tag, suffix, "1/s", RD_HIGHER, (double)g->output_tokens / w);
	if (g->input_known) {
		sample(b, "input_tokens", tag, suffix, "1", RD_HIGHER, (double)g->input_tokens / (double)g->input_known);
		sample(b, "input_token_rate", tag, suffix, "1/s", RD_HIGHER, (double)g->input_tokens / w);
	}
	sample(b, "total_token_rate", tag, suffix, "1/s", RD_HIGHER, (double)(g->input_tokens + g->output_tokens) / w);
	if (g->cached_known)
		sample(b, "cached_token_share", tag, suffix, "1", RD_HIGHER,
		       (double)g->cached_tokens / (double)g->cached_known);
	sample(b, "length_mismatches", tag, suffix, "1", RD_LOWER, (double)g->mismatch);
	family(b, "latency_per_output_token", tag, suffix, g->per_token);
	if (p->sse || p->n_rslo)
		sample(b, "goodput", tag, suffix, "1/s", RD_HIGHER, (double)g->goodput_ok / w);
}

void http_llm_add_metrics(struct rd_bench *b, const char *suffix, const struct http_llm_result *r,
			  const struct http_plan *p, double window, const char *itl_name)
{
	double w = window > 0 ? window : NAN;

	if (!r)
		return;
	if (!p->sse && r->ok) {
		/* a stream's output tokens are the runner's; here those of whole responses */
		sample(b, "output_tokens", NULL, suffix, "1", RD_HIGHER, (double)r->output_tokens / (double)r->ok);
		sample(b, "output_token_rate", NULL, suffix, "1/s", RD_HIGHER, (double)r->output_tokens / w);
	}
	if (r->input_known) {
		sample(b, "input_tokens", NULL, suffix, "1", RD_HIGHER, (double)r->input_tokens / (double)r->input_known);
		sample(b, "input_token_rate", NULL, suffix, "1/s", RD_HIGHER, (double)r->input_tokens / w);
	}
	if (r->ok)
		sample(b, "total_token_rate", NULL, suffix, "1/s", RD_HIGHER,
		       (double)(r->input_tokens + r->output_tokens) / w);
	if (r->cached_known)
		sample(b, "cached_token_share", NULL, suffix, "1", RD_HIGHER,
		       (double)r->cached_tokens / (double)r->cached_known);
	if (r->reasoning_known)
		sample(b, "reasoning_tokens", NULL, suffix, "1", RD_HIGHER,
		       (double)r->reasoning_tokens / (double)r->reasoning_known);
	if (r->in_requested_n)
		sample(b, "input_tokens_requested", NULL, suffix, "1", RD_HIGHER,
		       (double)r->in_requested / (double)r->in_requested_n);
	if (r->out_requested_n)
		sample(b, "output_tokens_requested", NULL, suffix, "1", RD_HIGHER,
		       (double)r->out_requested / (double)r->out_requested_n);
	sample(b, "length_mismatches", NULL, suffix, "1", RD_LOWER, (double)r->mismatch);
	sample(b, "input_length_mismatches", NULL, suffix, "1", RD_LOWER, (double)r->input_mismatch);
	sample(b, "output_length_mismatches", NULL, suffix, "1", RD_LOWER, (double)r->output_mismatch);
	family(b, "latency_per_output_token", NULL, suffix, r->per_token);
	for (size_t i = 0; i < r->n_classes; i++)
		group_metrics(b, p->class_names[i], suffix, &r->classes[i], p, w, itl_name);
	for (size_t i = 0; i < r->n_turns; i++) {
		char tag[32];

		if (!r->turns[i].requests)
			continue;
		snprintf(tag, sizeof(tag), "turn%zu%s", i + 1, i + 1 == r->n_turns ? "+" : "");
		group_metrics(b, tag, suffix, &r->turns[i], p, w, itl_name);
	}
}

/* ---- histograms over repetitions ---- */

struct fam {
	char *name;          /* "ttft[chat]": its metric is name.p50 with the tag moved after .p50 */
	char *family, *tag;
	struct hist *h;
};

struct http_llm_fams {
	struct fam *f;
	size_t n, alloc;
	struct http_llm_result total; /* the length counts of every step (no distributions) */
};

struct http_llm_fams *http_llm_fams_new(void)
{
	return xcalloc(1, sizeof(struct http_llm_fams));
}

static void fams_add(struct http_llm_fams *f, const char *family, const char *tag, const struct hist *h)
{
	struct fam *x = NULL;

	if (!h || !hist_count(h))
		return;
	for (size_t i = 0; i < f->n && !x; i++)
		if (!strcmp(f->f[i].family, family) && !strcmp(f->f[i].tag, tag ? tag : ""))
			x = &f->f[i];
	if (!x) {
		XGROW(f->f, f->alloc, f->n + 1);
		x = &f->f[f->n++];
		x->family = xstrdup(family);
		x->tag = xstrdup(tag ? tag : "");
		x->name = NULL;
		x->h = hist_new(3);
	}
	hist_merge(x->h, h, NULL);
}

static void fams_group(struct http_llm_fams *f, const char *tag, const struct http_llm_group *g)
{
	fams_add(f, "latency", tag, g->latency);
	fams_add(f, "latency_per_output_token", tag, g->per_token);
	fams_add(f, "ttft", tag, g->ttft);
	fams_add(f, "tpot", tag, g->tpot);
	fams_add(f, "itl", tag, g->itl); /* named itl or inter_chunk when attached */
}

void http_llm_fams_merge(struct http_llm_fams *f, const struct http_llm_result *r, const struct http_plan *p)
{
	struct http_llm_result *t = &f->total;

	if (!r)
		return;
	t->ok += r->ok;
	t->input_tokens += r->input_tokens;
	t->input_known += r->input_known;
	t->output_tokens += r->output_tokens;
	t->in_requested += r->in_requested;
	t->in_requested_n += r->in_requested_n;
	t->out_requested += r->out_requested;
	t->out_requested_n += r->out_requested_n;
	t->input_checked += r->input_checked;
	t->input_mismatch += r->input_mismatch;
	t->output_checked += r->output_checked;
	t->output_mismatch += r->output_mismatch;
	t->mismatch += r->mismatch;
	fams_add(f, "latency_per_output_token", NULL, r->per_token);
	for (size_t i = 0; i < r->n_classes; i++)
		fams_group(f, p->class_names[i], &r->classes[i]);
	for (size_t i = 0; i < r->n_turns; i++) {
		char tag[32];

		snprintf(tag, sizeof(tag), "turn%zu%s", i + 1, i + 1 == r->n_turns ? "+" : "");
		fams_group(f, tag, &r->turns[i]);
	}
}

void http_llm_fams_attach(struct http_llm_fams *f, struct rd_bench *b, const char *itl_name)
{
	for (size_t i = 0; i < f->n; i++) {
		const struct fam *x = &f->f[i];
		char name[256];
		struct rd_metric *m;

		snprintf(name, sizeof(name), "%s.p50%s%s%s", strcmp(x->family, "itl") ? x->family : itl_name,
			 x->tag[0] ? "[" : "", x->tag, x->tag[0] ? "]" : "");
		m = rundoc_bench_find_metric(b, name);
		if (m && !rundoc_metric_histogram(m))
			rundoc_metric_set_histogram(m, hist_to_json(x->h));
	}
}

static double mean_of(uint64_t sum, uint64_t n)
{
	return n ? (double)sum / (double)n : NAN;
}

char *http_llm_fams_lengths_note(const struct http_llm_fams *f)
{
	const struct http_llm_result *t = &f->total;
	double in_asked = mean_of(t->in_requested, t->in_requested_n), in_got = mean_of(t->input_tokens, t->input_known);
	double out_asked = mean_of(t->out_requested, t->out_requested_n), out_got = mean_of(t->output_tokens, t->ok);

	if (!t->mismatch)
		return NULL;
	return xasprintf("lengths: %llu of %llu responses not as long as asked (input: %llu of %llu checked differ, "
			 "%.1f tokens delivered on average against %.1f asked; output: %llu of %llu differ, %.1f against %.1f)%s",
			 (unsigned long long)t->mismatch, (unsigned long long)t->ok, (unsigned long long)t->input_mismatch,
			 (unsigned long long)t->input_checked, in_got, in_asked, (unsigned long long)t->output_mismatch,
			 (unsigned long long)t->output_checked, out_got, out_asked,
			 t->output_mismatch && out_got < out_asked
				 ? ": outputs stopped early at the end-of-sequence token (\"ignore_eos\": true in prompts asks vLLM and SGLang not to)"
				 : t->input_mismatch ? ": the server counted inputs differently from its tokenize endpoint" : "");
}

void http_llm_fams_free(struct http_llm_fams *f)
{
	if (!f)
		return;
	for (size_t i = 0; i < f->n; i++) {
		free(f->f[i].name);
		free(f->f[i].family);
		free(f->f[i].tag);
		hist_free(f->f[i].h);
	}
	free(f->f);
	free(f);
}
