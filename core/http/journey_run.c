/*
 * journey_run.c: journeys on the load engine (see journey_run.h).
 *
 * Each worker keeps its journeys in progress: those waiting for their next
 * step to be due sit in a heap by due time; the one whose request is in
 * flight is the request's job.  Everything a journey records goes into the
 * worker's own result (per step: the engine's result type, filled by
 * request.c as for any request), merged after the step.
 */
#include "journey_run.h"

#include <math.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../hist.h"
#include "../util.h"
#include "capture.h"
#include "runner.h"
#include "transport.h"

static const char *const class_names[HTTP_JOURNEY_N_CLASSES] = { "capture", "until" };

const char *http_journey_class_name(enum http_journey_class c)
{
	return (unsigned)c < HTTP_JOURNEY_N_CLASSES ? class_names[c] : "?";
}

/* One journey in progress. */
struct job {
	struct job *prev, *next;    /* the worker's journeys in progress */
	uint64_t id;                /* the journey's number ({journey}) */
	uint64_t t_sched;           /* ns, its intended start */
	bool measured;
	bool sent;                  /* its first request went out (lateness noted) */
	cJSON *vars;
	struct http_journey_pos pos;
	uint64_t due;               /* ns: the current step is due (its t_sched) */
	uint64_t think;             /* ns of think time so far */
	struct sb buf;              /* the current step's request, when templated */
	struct http_wire wire;
};

struct target {
	char *host, *port;
	struct addrinfo *ai;
};

struct jworker {
	struct http_journey_run *run;
	struct job **heap;          /* waiting for their step to be due, by due time */
	size_t n_heap, alloc_heap;
	struct job *live;           /* every journey in progress */
	size_t active;
	struct http_rng rng;
	uint64_t counter;
	uint64_t *skipped;          /* per step */
	size_t alloc_samples;
	size_t alloc_ts;
	struct http_journey_result res;
};

struct http_journey_run {
	const struct http_journey *j;
	struct target *targets;
	size_t n_targets;
	size_t *step_target;        /* per step: its target (= its connection pool) */
	struct jworker *ws;
	long n_ws;
	uint64_t seed;
	bool keep_samples;
};

static struct jworker *jw_of(const struct http_worker *w)
{
	return &((struct http_journey_run *)w->o->driver_arg)->ws[w->idx];
}

/* ---- the heap of waiting journeys ---- */

static void heap_push(struct jworker *jw, struct job *job)
{
	size_t i;

	XGROW(jw->heap, jw->alloc_heap, jw->n_heap + 1);
	i = jw->n_heap++;
	while (i > 0 && jw->heap[(i - 1) / 2]->due > job->due) {
		jw->heap[i] = jw->heap[(i - 1) / 2];
		i = (i - 1) / 2;
	}
	jw->heap[i] = job;
}

static void heap_pop(struct jworker *jw)
{
	struct job *last = jw->heap[--jw->n_heap];
	size_t i = 0;

	for (;;) {
		size_t l = 2 * i + 1, m = i;
		uint64_t best = last->due;

		if (l < jw->n_heap && jw->heap[l]->due < best)
			best = jw->heap[m = l]->due;
		if (l + 1 < jw->n_heap && jw->heap[l + 1]->due < best)
			m = l + 1;
		if (m == i)
			break;
		jw->heap[i] = jw->heap[m];
		i = m;
	}
	if (jw->n_heap)
		jw->heap[i] = last;
}

/* ---- a journey's life ---- */

static void job_free(struct jworker *jw, struct job *job)
{
	if (job->prev)
		job->prev->next = job->next;
	else
		jw->live = job->next;
	if (job->next)
		job->next->prev = job->prev;
	cJSON_Delete(job->vars);
	sb_release(&job->buf);
	free(job);
}

static void keep_sample(struct http_worker *w, struct jworker *jw, const struct job *job, uint64_t latency)
{
	struct http_journey_result *r = &jw->res;

	if (!jw->run->keep_samples)
		return;
	XGROW(r->samples, jw->alloc_samples, r->n_samples + 1);
	r->samples[r->n_samples].t = job->t_sched > w->step->window_start ? job->t_sched - w->step->window_start : 0;
	r->samples[r->n_samples++].latency = latency;
}

/* The time series: one more journey started (ok false) or succeeded (ok
 * true) at t, in the engine's interval that holds t. */
#define JOURNEY_TS_MAX 100000
static void ts_count(struct http_worker *w, struct jworker *jw, uint64_t t, bool ok)
{
	struct http_journey_result *r = &jw->res;
	uint64_t iv = w->o->ts_interval ? w->o->ts_interval : UINT64_C(1000000000), t0 = w->step->t0;
	size_t i = t > t0 ? (size_t)((t - t0) / iv) : 0;

	if (i >= JOURNEY_TS_MAX)
		i = JOURNEY_TS_MAX - 1;
	if (i >= r->n_ts) {
		size_t had = jw->alloc_ts;

		XGROW(r->ts_started, jw->alloc_ts, i + 1);
		r->ts_ok = xrealloc(r->ts_ok, jw->alloc_ts * sizeof(*r->ts_ok));
		memset(r->ts_ok + had, 0, (jw->alloc_ts - had) * sizeof(*r->ts_ok));
		memset(r->ts_started + r->n_ts, 0, (i + 1 - r->n_ts) * sizeof(*r->ts_started));
		memset(r->ts_ok + r->n_ts, 0, (i + 1 - r->n_ts) * sizeof(*r->ts_ok));
		r->n_ts = i + 1;
	}
	if (ok)
		r->ts_ok[i]++;
	else
		r->ts_started[i]++;
}

/* The journey ended: all its steps ran (ok), or it failed at `step`. */
static void finish(struct http_worker *w, struct job *job, bool ok, size_t step, uint64_t t_end)
{
	struct jworker *jw = jw_of(w);
	struct http_journey_result *r = &jw->res;

	if (ok)
		ts_count(w, jw, t_end, true);
	if (job->measured) {
		if (ok) {
			uint64_t span = t_end > job->t_sched ? t_end - job->t_sched : 0;
			uint64_t lat = span > job->think ? span - job->think : 0;

			r->ok++;
			hist_record(r->latency, lat);
			if (http_engine_in_window(w, t_end))
				r->ok_in_window++;
			keep_sample(w, jw, job, lat);
		} else {
			r->failed++;
			r->failed_at[step]++;
			keep_sample(w, jw, job, HTTP_RESILIENCE_FAILED);
		}
	}
	jw->active--;
	job_free(jw, job);
}

/* The journey fails at its current step for a reason of its own (the
 * step's request itself was answered). */
static void step_fail(struct http_worker *w, struct job *job, enum http_journey_class c, const char *why, uint64_t t_end)
{
	struct http_journey_step_result *sr = &jw_of(w)->res.steps[job->pos.step];

	if (job->measured) {
		sr->failed[c]++;
		if (http_engine_in_window(w, t_end))
			sr->failed_in_window++;
		if (!sr->first[c][0])
			snprintf(sr->first[c], sizeof(sr->first[c]), "%s", why);
	}
	finish(w, job, false, job->pos.step, t_end);
}

/* Make the current step's request and put the journey in the heap, due
 * `at` plus the step's think time. */
static void schedule(struct http_worker *w, struct job *job, uint64_t at)
{
	struct jworker *jw = jw_of(w);
	const struct http_journey_step *st = &jw->run->j->steps[job->pos.step];
	char why[300];

	job->think += job->pos.think;
	job->due = at + job->pos.think;
	if (st->templated) {
		cJSON *it = cJSON_CreateNumber((double)job->pos.iteration);

		if (cJSON_GetObjectItemCaseSensitive(job->vars, "iteration"))
			cJSON_ReplaceItemInObjectCaseSensitive(job->vars, "iteration", it);
		else
			cJSON_AddItemToObject(job->vars, "iteration", it);
		sb_reset(&job->buf);
		if (http_journey_render(st, job->vars, &job->buf, why, sizeof(why)) != 0) {
			step_fail(w, job, HTTP_JOURNEY_CAPTURE, why, at);
			return;
		}
		job->wire.data = job->buf.buf;
		job->wire.len = job->buf.len;
	}
	heap_push(jw, job);
}

static void arrive(struct http_worker *w, uint64_t t_sched, bool measured)
{
	struct jworker *jw = jw_of(w);
	const struct http_journey *j = jw->run->j;
	struct job *job = xcalloc(1, sizeof(*job));
	uint64_t n = jw->counter++ * (uint64_t)jw->run->n_ws + w->idx;

	job->id = n;
	job->t_sched = t_sched;
	job->measured = measured;
	job->vars = j->rows ? cJSON_Duplicate(cJSON_GetArrayItem(j->rows, (int)(n % (uint64_t)cJSON_GetArraySize(j->rows))), true)
			    : cJSON_CreateObject();
	cJSON_DeleteItemFromObjectCaseSensitive(job->vars, "journey");
	cJSON_AddNumberToObject(job->vars, "journey", (double)n);
	job->next = jw->live;
	if (jw->live)
		jw->live->prev = job;
	jw->live = job;
	jw->active++;
	ts_count(w, jw, t_sched, false);
	if (measured)
		jw->res.scheduled++;
	if (http_journey_start(j, job->vars, &jw->rng, &job->pos, measured ? jw->skipped : NULL) == HTTP_JOURNEY_DONE)
		finish(w, job, true, 0, t_sched); /* every step was skipped */
	else
		schedule(w, job, t_sched);
}

static uint64_t issue(struct http_worker *w, uint64_t now)
{
	struct jworker *jw = jw_of(w);
	const struct http_journey_run *run = jw->run;

	while (jw->n_heap && jw->heap[0]->due <= now) {
		struct job *job = jw->heap[0];
		size_t step = job->pos.step, t = run->step_target[step];
		const struct http_journey_step *st = &run->j->steps[step];

		if (!http_engine_send(w, t, run->targets[t].ai->ai_addr, run->targets[t].ai->ai_addrlen, st->plan,
				      st->templated ? &job->wire : &st->plan->reqs[0], &jw->res.steps[step].r, job,
				      job->due, job->measured))
			return 0; /* no slot free: a completion wakes the loop */
		heap_pop(jw);
	}
	return jw->n_heap ? jw->heap[0]->due : 0;
}

static void done(struct http_worker *w, struct http_slot *s, void *arg, int e, uint64_t t_end)
{
	struct job *job = arg;
	struct jworker *jw = jw_of(w);
	const struct http_journey *j = jw->run->j;
	const struct http_journey_step *st = &j->steps[job->pos.step];
	enum http_journey_move move;
	char why[300];

	if (!job->sent && job->measured && w->o->open_loop)
		hist_record(jw->res.lateness, s->t_send > job->t_sched ? s->t_send - job->t_sched : 0);
	job->sent = true;
	if (e >= 0) {
		finish(w, job, false, job->pos.step, t_end); /* the step's result has counted it */
		return;
	}
	if (st->capture.n) {
		struct http_capture_response r = { s->headers.buf, s->headers.len, s->body.buf, s->body.len };

		if (http_capture_apply(&st->capture, &r, job->vars, why, sizeof(why)) != 0) {
			char msg[400];

			snprintf(msg, sizeof(msg), "step %s: %s", st->name, why);
			step_fail(w, job, HTTP_JOURNEY_CAPTURE, msg, t_end);
			return;
		}
	}
	move = http_journey_next(j, job->vars, &jw->rng, &job->pos, job->measured ? jw->skipped : NULL);
	if (move == HTTP_JOURNEY_RUN) {
		schedule(w, job, t_end);
	} else if (move == HTTP_JOURNEY_DONE) {
		finish(w, job, true, 0, t_end);
	} else {
		snprintf(why, sizeof(why), "step %s: until {%s} did not hold after %ld runs", st->name, st->until.var,
			 st->repeat);
		step_fail(w, job, HTTP_JOURNEY_UNTIL, why, t_end);
	}
}

static size_t active(const struct http_worker *w)
{
	return jw_of(w)->active;
}

static void result_init(struct http_journey_result *r, const struct http_journey *j)
{
	memset(r, 0, sizeof(*r));
	r->n_steps = j->n_steps;
	r->steps = xcalloc(j->n_steps, sizeof(*r->steps));
	for (size_t i = 0; i < j->n_steps; i++)
		http_engine_result_init(&r->steps[i].r, j->steps[i].plan->sse);
	r->latency = hist_new(3);
	r->lateness = hist_new(3);
	r->failed_at = xcalloc(j->n_steps, sizeof(*r->failed_at));
}

static int worker_open(struct http_worker *w, struct err *err)
{
	struct jworker *jw = jw_of(w);

	(void)err;
	jw->run = w->o->driver_arg;
	jw->rng.state = jw->run->seed * UINT64_C(0x9E3779B97F4A7C15) + w->idx + 1;
	jw->skipped = xcalloc(jw->run->j->n_steps, sizeof(*jw->skipped));
	result_init(&jw->res, jw->run->j);
	return 0;
}

const struct http_engine_driver http_journey_driver = {
	.worker_open = worker_open,
	.arrive = arrive,
	.issue = issue,
	.done = done,
	.active = active,
};

/* ---- before and after the step ---- */

static long target_of(struct http_journey_run *r, const struct http_plan *p, struct err *err)
{
	struct addrinfo hints = { .ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM };
	struct target *t;
	int gai;

	for (size_t i = 0; i < r->n_targets; i++)
		if (strcmp(r->targets[i].host, p->host) == 0 && strcmp(r->targets[i].port, p->port) == 0)
			return (long)i;
	r->targets = xrealloc(r->targets, (r->n_targets + 1) * sizeof(*r->targets));
	t = &r->targets[r->n_targets];
	memset(t, 0, sizeof(*t));
	gai = getaddrinfo(p->host, p->port, &hints, &t->ai);
	if (gai != 0)
		return err_set(err, ERR_RUN, "cannot resolve '%s': %s", p->host, gai_strerror(gai));
	t->host = xstrdup(p->host);
	t->port = xstrdup(p->port);
	return (long)r->n_targets++;
}

int http_journey_run_open(struct http_journey_run **out, const struct http_journey *j, long threads, uint64_t seed,
			  struct http_engine_options *o, struct err *err)
{
	struct http_journey_run *r = xcalloc(1, sizeof(*r));

	*out = NULL;
	r->j = j;
	r->seed = seed;
	r->keep_samples = o->keep_samples;
	r->n_ws = threads > 0 ? threads : 1;
	r->ws = xcalloc((size_t)r->n_ws, sizeof(*r->ws));
	r->step_target = xcalloc(j->n_steps, sizeof(*r->step_target));
	/* the first step's host is pool 0, the one the engine preconnects to */
	for (size_t i = 0; i < j->n_steps; i++) {
		long t = target_of(r, j->steps[i].plan, err);

		if (t < 0) {
			http_journey_run_free(r);
			return (int)t;
		}
		r->step_target[i] = (size_t)t;
	}
	o->plan = j->steps[0].plan;
	o->driver = &http_journey_driver;
	o->driver_arg = r;
	o->keep_samples = false; /* the engine's per-request samples: journeys keep their own */
	*out = r;
	return 0;
}

static void result_merge(struct http_journey_result *d, const struct http_journey_result *s)
{
	for (size_t i = 0; i < d->n_steps; i++) {
		struct http_journey_step_result *ds = &d->steps[i];
		const struct http_journey_step_result *ss = &s->steps[i];

		http_engine_result_merge(&ds->r, &ss->r);
		for (int c = 0; c < HTTP_JOURNEY_N_CLASSES; c++) {
			ds->failed[c] += ss->failed[c];
			if (!ds->first[c][0])
				memcpy(ds->first[c], ss->first[c], sizeof(ds->first[c]));
		}
		ds->failed_in_window += ss->failed_in_window;
		ds->skipped += ss->skipped;
		d->failed_at[i] += s->failed_at[i];
	}
	hist_merge(d->latency, s->latency, NULL);
	hist_merge(d->lateness, s->lateness, NULL);
	d->scheduled += s->scheduled;
	d->ok += s->ok;
	d->failed += s->failed;
	d->ok_in_window += s->ok_in_window;
	if (s->n_ts > d->n_ts) {
		d->ts_started = xrealloc(d->ts_started, s->n_ts * sizeof(*d->ts_started));
		d->ts_ok = xrealloc(d->ts_ok, s->n_ts * sizeof(*d->ts_ok));
		memset(d->ts_started + d->n_ts, 0, (s->n_ts - d->n_ts) * sizeof(*d->ts_started));
		memset(d->ts_ok + d->n_ts, 0, (s->n_ts - d->n_ts) * sizeof(*d->ts_ok));
		d->n_ts = s->n_ts;
	}
	for (size_t i = 0; i < s->n_ts; i++) {
		d->ts_started[i] += s->ts_started[i];
		d->ts_ok[i] += s->ts_ok[i];
	}
	if (s->n_samples) {
		d->samples = xrealloc(d->samples, (d->n_samples + s->n_samples) * sizeof(*d->samples));
		memcpy(d->samples + d->n_samples, s->samples, s->n_samples * sizeof(*s->samples));
		d->n_samples += s->n_samples;
	}
}

void http_journey_run_result(struct http_journey_run *r, double window, struct http_journey_result *out)
{
	result_init(out, r->j);
	for (long i = 0; i < r->n_ws; i++) {
		struct jworker *jw = &r->ws[i];

		if (!jw->run)
			continue; /* never opened */
		for (size_t k = 0; k < r->j->n_steps; k++)
			jw->res.steps[k].skipped = jw->skipped[k];
		result_merge(out, &jw->res);
	}
	out->window = window;
	for (size_t k = 0; k < out->n_steps; k++) {
		out->steps[k].r.window = window;
		out->requests += out->steps[k].r.ok + out->steps[k].r.failed;
	}
}

void http_journey_result_release(struct http_journey_result *r)
{
	for (size_t i = 0; i < r->n_steps; i++)
		http_engine_result_release(&r->steps[i].r);
	free(r->steps);
	hist_free(r->latency);
	hist_free(r->lateness);
	free(r->failed_at);
	free(r->ts_started);
	free(r->ts_ok);
	free(r->samples);
	memset(r, 0, sizeof(*r));
}

void http_journey_run_free(struct http_journey_run *r)
{
	if (!r)
		return;
	for (long i = 0; i < r->n_ws; i++) {
		struct jworker *jw = &r->ws[i];

		while (jw->live) /* left over only when the step stopped on an error */
			job_free(jw, jw->live);
		free(jw->heap);
		free(jw->skipped);
		if (jw->run)
			http_journey_result_release(&jw->res);
	}
	free(r->ws);
	for (size_t i = 0; i < r->n_targets; i++) {
		freeaddrinfo(r->targets[i].ai);
		free(r->targets[i].host);
		free(r->targets[i].port);
	}
	free(r->targets);
	free(r->step_target);
	free(r);
}

/* ---- metrics ---- */

/* "[step]" then the caller's suffix. */
static void step_suffix(char *buf, size_t len, const char *step, const char *suffix)
{
	snprintf(buf, len, "[%s]%s", step, suffix ? suffix : "");
}

static void step_metrics(const struct http_journey_step_result *sr, const struct http_journey_step *st,
			 struct rd_bench *b, const char *sfx, bool open_loop)
{
	/* An answered request whose capture or `until` failed the journey is
	 * a failure of its step: the counts say so (its latency stays in the
	 * step's distribution: it was answered). */
	struct http_engine_result r = sr->r;
	uint64_t extra = 0;
	const char *itl = r.tok_events == 0 && r.tok_usage > 0 && r.one_token_events ? "itl" : "inter_chunk";

	for (int c = 0; c < HTTP_JOURNEY_N_CLASSES; c++)
		extra += sr->failed[c];
	extra = extra > r.ok ? r.ok : extra;
	r.ok -= extra;
	r.failed += extra;
	r.ok_in_window -= sr->failed_in_window > r.ok_in_window ? r.ok_in_window : sr->failed_in_window;
	http_runner_metrics(b, sfx, &r, open_loop, st->plan, itl);
	for (int c = 0; c < HTTP_JOURNEY_N_CLASSES; c++) {
		char name[64];

		snprintf(name, sizeof(name), "errors.%s", class_names[c]);
		http_runner_sample(b, sfx, name, "1", RD_LOWER, (double)sr->failed[c]);
	}
	http_runner_sample(b, sfx, "requests", "1", RD_HIGHER, (double)(sr->r.ok + sr->r.failed));
	http_runner_sample(b, sfx, "skipped", "1", RD_LOWER, (double)sr->skipped);
}

void http_journey_result_metrics(const struct http_journey_result *jr, const struct http_journey *j,
				 struct rd_bench *b, const char *suffix, bool open_loop)
{
	double w = jr->window > 0 ? jr->window : NAN, n = (double)(jr->ok + jr->failed);
	char sfx[128];

	for (size_t i = 0; i < jr->n_steps; i++) {
		step_suffix(sfx, sizeof(sfx), j->steps[i].name, suffix);
		step_metrics(&jr->steps[i], &j->steps[i], b, sfx, open_loop);
		http_runner_sample(b, sfx, "journey.failed", "1", RD_LOWER, (double)jr->failed_at[i]);
	}
	if (jr->ok)
		http_runner_family(b, suffix, "journey.latency", jr->latency);
	if (open_loop && hist_count(jr->lateness))
		http_runner_family(b, suffix, "journey.lateness", jr->lateness);
	http_runner_sample(b, suffix, "journey.throughput", "1/s", RD_HIGHER, (double)jr->ok_in_window / w);
	http_runner_sample(b, suffix, "journey.offered_rate", "1/s", RD_HIGHER, (double)jr->scheduled / w);
	http_runner_sample(b, suffix, "journey.error_rate", "1", RD_LOWER, n > 0 ? (double)jr->failed / n : 0);
	http_runner_sample(b, suffix, "journey.requests", "1", RD_HIGHER, n > 0 ? (double)jr->requests / n : 0);
}

/* The first message of the commonest failure of one step. */
static void step_failures(struct sb *sb, const struct http_journey_step_result *sr, const char *name)
{
	const char *first = NULL, *cls = NULL;
	uint64_t top = 0;

	sb_printf(sb, "%sat %s:", sb->len ? "; " : "", name);
	for (int e = 0; e < EE_N; e++) {
		if (!sr->r.errors[e])
			continue;
		sb_printf(sb, " %s %llu", http_engine_error_name((enum http_engine_error)e), (unsigned long long)sr->r.errors[e]);
		if (sr->r.errors[e] > top) {
			top = sr->r.errors[e];
			first = sr->r.first_error[e];
			cls = http_engine_error_name((enum http_engine_error)e);
		}
	}
	for (int c = 0; c < HTTP_JOURNEY_N_CLASSES; c++) {
		if (!sr->failed[c])
			continue;
		sb_printf(sb, " %s %llu", class_names[c], (unsigned long long)sr->failed[c]);
		if (sr->failed[c] > top) {
			top = sr->failed[c];
			first = sr->first[c];
			cls = class_names[c];
		}
	}
	if (first && first[0])
		sb_printf(sb, " (first %s: %s)", cls, first);
}

char *http_journey_result_failures(const struct http_journey_result *jr, const struct http_journey *j)
{
	struct sb sb = SB_INIT;

	for (size_t i = 0; i < jr->n_steps; i++)
		if (jr->failed_at[i])
			step_failures(&sb, &jr->steps[i], j->steps[i].name);
	return sb_detach(&sb);
}
