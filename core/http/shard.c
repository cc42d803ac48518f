/*
 * shard.c (http): an HTTP benchmark as one shard of a group, and the sums
 * of the shards' steps (see shard.h).
 */
#include "shard.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../hist.h"
#include "../json.h"
#include "../suite.h"
#include "../util.h"
#include "load.h"
#include "plan.h"
#include "runner.h"

/* The families of a result, in the record's order. */
static const char *const fam_names[] = { "latency", "service_time", "ttfb", "lateness", "ttft", "tpot", "itl" };
#define N_FAMS (sizeof(fam_names) / sizeof(fam_names[0]))

static struct hist **fam_slot(struct http_engine_result *r, size_t i)
{
	struct hist **slots[N_FAMS] = { &r->latency, &r->service_time, &r->ttfb, &r->lateness,
					&r->ttft, &r->tpot, &r->itl };

	return slots[i];
}

/* ---- the shard's side ---- */

void http_shard_check(const struct suite_bench *b, unsigned count, struct errlist *problems)
{
	struct http_load_spec spec;
	struct errlist ignored = ERRLIST_INIT; /* the suite's own validation reports these */

	if (cJSON_HasObjectItem(b->raw, "journey"))
		errlist_add(problems, "%s: a journey cannot be sharded yet (its users carry values from step to step)",
			    b->name);
	if (cJSON_HasObjectItem(b->raw, "faults"))
		errlist_add(problems, "%s: faults cannot be sharded (one fault schedule acts on every request)", b->name);
	if (cJSON_HasObjectItem(b->raw, "prompts") || cJSON_HasObjectItem(b->raw, "classes"))
		errlist_add(problems, "%s: an LLM workload (prompts, classes, sessions) cannot be sharded yet (its token "
			    "accounting per class and turn is not merged)", b->name);
	memset(&spec, 0, sizeof(spec));
	if (http_load_spec_parse(&spec, b->raw, b->name, &ignored) == 0) {
		if (spec.mode == LOAD_TRACE)
			errlist_add(problems, "%s.load: a trace replay cannot be sharded yet (its token accounting is not "
				    "merged)", b->name);
		if (spec.have_converge)
			errlist_add(problems, "%s.load.converge: cannot be sharded: each shard would end its window on its "
				    "own numbers", b->name);
		if (spec.mode == LOAD_CAPACITY)
			errlist_add(problems, "%s.load: a capacity search cannot be sharded: each step's verdict needs the "
				    "whole group's results", b->name);
		if (spec.mode == LOAD_CONCURRENCY && spec.concurrency < (long)count)
			errlist_add(problems, "%s.load.concurrency: %ld cannot be split over %u shards (at least one each)",
				    b->name, spec.concurrency, count);
		if (spec.requests && spec.requests < count)
			errlist_add(problems, "%s.load.requests: %llu cannot be split over %u shards (at least one each)",
				    b->name, (unsigned long long)spec.requests, count);
		if (spec.connections && spec.connections < (long)count)
			errlist_add(problems, "%s.load.connections: %ld cannot be split over %u shards (at least one each)",
				    b->name, spec.connections, count);
	}
	http_load_spec_release(&spec);
	errlist_release(&ignored);
}

int http_shard_plan_part(struct http_plan *p, unsigned index, unsigned count, struct err *err)
{
	size_t kept = 0, rows = p->n_reqs;

	if (count <= 1)
		return 0;
	if (rows < count)
		return err_set(err, ERR_INPUT, "the dataset has %zu rows, fewer than the %u shards (at least one each)",
			       rows, count);
	for (size_t j = 0; j < rows; j++) {
		if (j % count == index)
			p->reqs[kept++] = p->reqs[j];
		else
			free(p->reqs[j].data);
	}
	p->n_reqs = kept;
	return 0;
}

int http_shard_step_begin(struct shard *sh, struct http_engine_options *o, struct shard_start *st, struct err *err)
{
	unsigned i = sh->spec.index, n = sh->spec.count;
	int rc;

	if ((rc = sh->clock.step_start(sh->clock.arg, sh->steps, sh->last_span, sh->wait, st, err)) != 0)
		return rc;
	sh->steps++;
	o->part_index = i;
	o->part_count = n;
	if (o->requests)
		o->requests = o->requests / n + (i < o->requests % n);
	o->keep_ts_hist = true;
	o->start_at = shard_to_mono(st->planned, st);
	return 0;
}

/* The load's numbers the merge needs, once per benchmark. */
static cJSON *bench_header(const struct http_load_spec *spec, const struct http_plan *plan, const cJSON *slo,
			   const struct http_engine_options *o)
{
	cJSON *h = cJSON_CreateObject();
	double p95 = http_runner_slo_p95(slo);

	cJSON_AddStringToObject(h, "mode", http_load_mode_name(spec->mode));
	cJSON_AddBoolToObject(h, "sse", plan->sse);
	cJSON_AddBoolToObject(h, "goodput", plan->sse || plan->n_rslo);
	cJSON_AddNumberToObject(h, "warmup", spec->warmup);
	cJSON_AddNumberToObject(h, "duration", spec->duration);
	cJSON_AddNumberToObject(h, "threads", (double)o->threads);
	if (spec->mode == LOAD_SPIKE) {
		cJSON *sp = cJSON_AddObjectToObject(h, "spike");

		cJSON_AddNumberToObject(sp, "at", spec->spike_at);
		cJSON_AddNumberToObject(sp, "duration", spec->spike_duration);
		cJSON_AddNumberToObject(sp, "rate", spec->rate);
		if (isfinite(p95))
			cJSON_AddNumberToObject(sp, "slo_latency_p95", p95);
	}
	cJSON_AddArrayToObject(h, "steps");
	return h;
}

static cJSON *start_json(const struct shard_start *st, uint64_t t0)
{
	cJSON *s = cJSON_CreateObject();
	double actual = shard_from_mono(t0, st);

	cJSON_AddNumberToObject(s, "planned", st->planned);
	cJSON_AddNumberToObject(s, "actual", actual);
	cJSON_AddNumberToObject(s, "late", actual - st->planned);
	cJSON_AddNumberToObject(s, "offset", st->offset);
	if (st->uncertainty >= 0)
		cJSON_AddNumberToObject(s, "uncertainty", st->uncertainty);
	else
		cJSON_AddNullToObject(s, "uncertainty");
	cJSON_AddStringToObject(s, "source", st->source);
	return s;
}

void http_shard_step_note(struct shard *sh, struct rd_bench *b, const struct http_load_spec *spec,
			  const struct http_plan *plan, const cJSON *slo, const struct http_engine_options *o,
			  const struct http_engine_result *r, const struct shard_start *st, long rep, double rate)
{
	cJSON *h, *step;

	if (!b->extra)
		b->extra = cJSON_CreateObject();
	if (!(h = cJSON_GetObjectItemCaseSensitive(b->extra, "shard")))
		cJSON_AddItemToObject(b->extra, "shard", h = bench_header(spec, plan, slo, o));
	step = cJSON_CreateObject();
	cJSON_AddNumberToObject(step, "repetition", (double)rep);
	cJSON_AddNumberToObject(step, "rate", rate);
	cJSON_AddBoolToObject(step, "open_loop", o->open_loop);
	cJSON_AddItemToObject(step, "start", start_json(st, r->t0));
	cJSON_AddItemToObject(step, "result", http_shard_result_json(r));
	cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(h, "steps"), step);
	/* The longest the next step may have to wait for this one to drain. */
	sh->last_span = o->requests ? -1 : (double)(o->warmup + o->duration + o->timeout) / 1e9;
}

/* ---- a result in JSON ---- */

static void add_u64(cJSON *o, const char *k, uint64_t v)
{
	cJSON_AddNumberToObject(o, k, (double)v);
}

/* A histogram in its text form (hist.h): a 10-minute step of a shard
 * holds hundreds of them, which the merge reads as strings. */
static cJSON *text_json(const struct hist *h)
{
	char *t = hist_to_text(h);
	cJSON *j = cJSON_CreateString(t);

	free(t);
	return j;
}

static cJSON *ts_json(const struct http_engine_result *r)
{
	cJSON *t = cJSON_CreateObject();
	cJSON *sent = cJSON_AddArrayToObject(t, "sent"), *ok = cJSON_AddArrayToObject(t, "ok");
	cJSON *errs = cJSON_AddArrayToObject(t, "errors"), *inf = cJSON_AddArrayToObject(t, "inflight");
	cJSON *lat = cJSON_AddArrayToObject(t, "latency");

	cJSON_AddNumberToObject(t, "interval", (double)r->ts_interval / 1e9);
	for (size_t i = 0; i < r->n_ts; i++) {
		cJSON_AddItemToArray(sent, cJSON_CreateNumber((double)r->ts[i].sent));
		cJSON_AddItemToArray(ok, cJSON_CreateNumber((double)r->ts[i].ok));
		cJSON_AddItemToArray(errs, cJSON_CreateNumber((double)r->ts[i].errors));
		cJSON_AddItemToArray(inf, cJSON_CreateNumber((double)r->ts[i].inflight_max));
		cJSON_AddItemToArray(lat, r->ts_lat && r->ts_lat[i] ? text_json(r->ts_lat[i]) : cJSON_CreateNull());
	}
	return t;
}

cJSON *http_shard_result_json(const struct http_engine_result *r)
{
	cJSON *o = cJSON_CreateObject(), *e, *fe, *hs;

	add_u64(o, "scheduled", r->scheduled);
	add_u64(o, "sent", r->sent);
	add_u64(o, "ok", r->ok);
	add_u64(o, "failed", r->failed);
	e = cJSON_AddObjectToObject(o, "errors");
	fe = cJSON_AddObjectToObject(o, "first_errors");
	for (int k = 0; k < EE_N; k++) {
		add_u64(e, http_engine_error_name((enum http_engine_error)k), r->errors[k]);
		if (r->first_error[k][0])
			cJSON_AddStringToObject(fe, http_engine_error_name((enum http_engine_error)k), r->first_error[k]);
	}
	add_u64(o, "ok_in_window", r->ok_in_window);
	add_u64(o, "sent_in_window", r->sent_in_window);
	add_u64(o, "goodput_ok", r->goodput_ok);
	add_u64(o, "late_1ms", r->late_1ms);
	add_u64(o, "blocked", r->blocked);
	add_u64(o, "interim", r->interim);
	add_u64(o, "warmup_requests", r->warmup_requests);
	add_u64(o, "bytes_in", r->bytes_in);
	add_u64(o, "bytes_out", r->bytes_out);
	add_u64(o, "tokens", r->tokens);
	add_u64(o, "tok_usage", r->tok_usage);
	add_u64(o, "tok_events", r->tok_events);
	cJSON_AddBoolToObject(o, "one_token_events", r->one_token_events);
	cJSON_AddNumberToObject(o, "window", r->window);
	cJSON_AddNumberToObject(o, "cpu_util_max", r->cpu_util_max);
	cJSON_AddNumberToObject(o, "connections_opened", (double)r->connections_opened);
	cJSON_AddStringToObject(o, "engine", r->engine ? r->engine : "?");
	add_u64(o, "proto_h1", r->proto_h1);
	add_u64(o, "proto_h2", r->proto_h2);
	cJSON_AddStringToObject(o, "sched_policy", r->sched_policy ? r->sched_policy : "other");
	cJSON_AddStringToObject(o, "sched_refused", r->sched_refused);
	hs = cJSON_AddObjectToObject(o, "histograms");
	for (size_t i = 0; i < N_FAMS; i++) {
		const struct hist *fams[N_FAMS] = { r->latency, r->service_time, r->ttfb, r->lateness,
						    r->ttft, r->tpot, r->itl };
		const struct hist *h = fams[i];

		if (h && hist_count(h))
			cJSON_AddItemToObject(hs, fam_names[i], text_json(h));
	}
	cJSON_AddItemToObject(o, "timeseries", ts_json(r));
	return o;
}

/* ---- the merge's side ---- */

void http_shard_sum_init(struct http_shard_sum *s, bool sse)
{
	memset(s, 0, sizeof(*s));
	http_engine_result_init(&s->r, sse);
	s->r.sched_policy = "fifo";
	s->all_fifo = true;
}

void http_shard_sum_release(struct http_shard_sum *s)
{
	http_engine_result_release(&s->r);
	memset(s, 0, sizeof(*s));
}

/* A count member: a whole number >= 0. */
static int get_count(const cJSON *o, const char *path, const char *key, uint64_t *out, struct err *err)
{
	double v;
	int rc = json_read_number(o, path, key, true, true, &v, NULL, err);

	if (rc)
		return rc;
	if (v != floor(v) || v > 9007199254740992.0)
		return err_set(err, ERR_INPUT, "%s.%s: expected a whole number, got %g", path, key, v);
	*out += (uint64_t)v;
	return 0;
}

static int add_counts(struct http_shard_sum *s, const cJSON *j, const char *path, struct err *err)
{
	static const char *const keys[] = {
		"scheduled", "sent", "ok", "failed", "ok_in_window", "sent_in_window", "goodput_ok", "late_1ms",
		"blocked", "interim", "warmup_requests", "bytes_in", "bytes_out", "tokens", "tok_usage",
		"tok_events", "proto_h1", "proto_h2",
	};
	struct http_engine_result *r = &s->r;
	uint64_t *dst[] = {
		&r->scheduled, &r->sent, &r->ok, &r->failed, &r->ok_in_window, &r->sent_in_window, &r->goodput_ok,
		&r->late_1ms, &r->blocked, &r->interim, &r->warmup_requests, &r->bytes_in, &r->bytes_out,
		&r->tokens, &r->tok_usage, &r->tok_events, &r->proto_h1, &r->proto_h2,
	};
	const cJSON *errs, *first;
	char sub[256];
	int rc;

	for (size_t i = 0; i < ARRAY_SIZE(keys); i++)
		if ((rc = get_count(j, path, keys[i], dst[i], err)) != 0)
			return rc;
	if ((rc = json_read(j, path, "errors", cJSON_Object, true, &errs, err)) != 0 ||
	    (rc = json_read(j, path, "first_errors", cJSON_Object, false, &first, err)) != 0)
		return rc;
	snprintf(sub, sizeof(sub), "%s.errors", path);
	for (int k = 0; k < EE_N; k++) {
		const char *name = http_engine_error_name((enum http_engine_error)k);
		const char *msg = json_peek_str(first, name);

		if ((rc = get_count(errs, sub, name, &r->errors[k], err)) != 0)
			return rc;
		if (msg && !r->first_error[k][0])
			snprintf(r->first_error[k], sizeof(r->first_error[k]), "%s", msg);
	}
	return 0;
}

static int add_facts(struct http_shard_sum *s, const cJSON *j, const char *path, struct err *err)
{
	struct http_engine_result *r = &s->r;
	double window, cpu, conns;
	const char *policy = json_peek_str(j, "sched_policy"), *refused = json_peek_str(j, "sched_refused");
	int rc;

	if ((rc = json_read_number(j, path, "window", true, true, &window, NULL, err)) != 0 ||
	    (rc = json_read_number(j, path, "cpu_util_max", true, true, &cpu, NULL, err)) != 0 ||
	    (rc = json_read_number(j, path, "connections_opened", true, true, &conns, NULL, err)) != 0)
		return rc;
	r->one_token_events = r->one_token_events && !cJSON_IsFalse(cJSON_GetObjectItemCaseSensitive(j, "one_token_events"));
	r->window = fmax(r->window, window);
	r->cpu_util_max = fmax(r->cpu_util_max, cpu);
	r->connections_opened += (long)conns;
	if (!r->engine && json_peek_str(j, "engine"))
		r->engine = strcmp(json_peek_str(j, "engine"), "curl") == 0 ? "curl" : "native";
	s->all_fifo = s->all_fifo && policy && strcmp(policy, "fifo") == 0;
	r->sched_policy = s->all_fifo ? "fifo" : "other";
	if (refused && *refused && !r->sched_refused[0])
		snprintf(r->sched_refused, sizeof(r->sched_refused), "%s", refused);
	return 0;
}

static int add_hists(struct http_shard_sum *s, const cJSON *j, const char *path, struct err *err)
{
	const cJSON *hs;
	int rc;

	if ((rc = json_read(j, path, "histograms", cJSON_Object, true, &hs, err)) != 0)
		return rc;
	for (size_t i = 0; i < N_FAMS; i++) {
		const cJSON *h = cJSON_GetObjectItemCaseSensitive(hs, fam_names[i]);
		struct hist **dst = fam_slot(&s->r, i);

		if (!h)
			continue;
		if (!*dst)
			*dst = hist_new(3);
		if (!cJSON_IsString(h))
			rc = err_set(err, ERR_INPUT, "expected a histogram's text form");
		else
			rc = hist_merge_text(*dst, h->valuestring, err);
		if (rc != 0) {
			err_prefix(err, "%s.histograms.%s", path, fam_names[i]);
			return rc;
		}
	}
	return 0;
}

/* Grow the common series to n intervals. */
static void ts_grow(struct http_engine_result *r, size_t n)
{
	size_t a = r->n_ts, b = r->n_ts;

	if (n <= r->n_ts)
		return;
	XGROW(r->ts, a, n);
	XGROW(r->ts_lat, b, n);
	memset(r->ts + r->n_ts, 0, (n - r->n_ts) * sizeof(*r->ts));
	memset(r->ts_lat + r->n_ts, 0, (n - r->n_ts) * sizeof(*r->ts_lat));
	r->n_ts = n;
}

/* A series element: a count. */
static int series_value(const cJSON *v, size_t i, const char *path, const char *key, uint64_t *out, struct err *err)
{
	if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0) || v->valuedouble != floor(v->valuedouble))
		return err_set(err, ERR_INPUT, "%s.timeseries.%s[%zu]: expected a whole number >= 0", path, key, i);
	*out = (uint64_t)v->valuedouble;
	return 0;
}

/* The series' arrays, of equal length *n. */
static int series_arrays(const cJSON *t, const char *path, const char *const *keys, size_t n_keys,
			 const cJSON **a, int *n, struct err *err)
{
	for (size_t k = 0; k < n_keys; k++)
		if (!cJSON_IsArray(a[k] = cJSON_GetObjectItemCaseSensitive(t, keys[k])))
			return err_set(err, ERR_INPUT, "%s.timeseries.%s: expected an array", path, keys[k]);
	*n = cJSON_GetArraySize(a[0]);
	for (size_t k = 1; k < n_keys; k++)
		if (cJSON_GetArraySize(a[k]) != *n)
			return err_set(err, ERR_INPUT, "%s.timeseries.%s: %d points, sent has %d", path, keys[k],
				       cJSON_GetArraySize(a[k]), *n);
	return 0;
}

static int add_series(struct http_shard_sum *s, const cJSON *j, long shift, const char *path, struct err *err)
{
	static const char *const keys[] = { "sent", "ok", "errors", "inflight", "latency" };
	struct http_engine_result *r = &s->r;
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(j, "timeseries"), *a[ARRAY_SIZE(keys)], *it[ARRAY_SIZE(keys)];
	double iv;
	int rc, n = 0;

	if (!cJSON_IsObject(t))
		return err_set(err, ERR_INPUT, "%s.timeseries: expected an object", path);
	if ((rc = json_read_number(t, path, "interval", true, true, &iv, NULL, err)) != 0)
		return rc;
	if (r->ts_interval && llround(iv * 1e9) != (long long)r->ts_interval)
		return err_set(err, ERR_INPUT, "%s.timeseries.interval: %g s, the other shards' is %g s", path, iv,
			       (double)r->ts_interval / 1e9);
	r->ts_interval = (uint64_t)llround(iv * 1e9);
	if ((rc = series_arrays(t, path, keys, ARRAY_SIZE(keys), a, &n, err)) != 0)
		return rc;
	/* Intervals before the common start (a shard that began early) go to the first. */
	ts_grow(r, (size_t)((long)n + shift > 1 ? (long)n + shift : 1));
	for (size_t k = 0; k < ARRAY_SIZE(keys); k++)
		it[k] = a[k]->child;
	for (int i = 0; i < n; i++) {
		size_t c = (long)i + shift < 0 ? 0 : (size_t)((long)i + shift);
		struct http_engine_ts_point *p = &r->ts[c];
		uint64_t v[4];

		for (size_t k = 0; k < 4; k++)
			if ((rc = series_value(it[k], (size_t)i, path, keys[k], &v[k], err)) != 0)
				return rc;
		p->sent += v[0];
		p->ok += v[1];
		p->errors += v[2];
		p->inflight_max += v[3];
		if (!cJSON_IsNull(it[4])) {
			if (!r->ts_lat[c])
				r->ts_lat[c] = hist_new(2);
			if (!cJSON_IsString(it[4]))
				rc = err_set(err, ERR_INPUT, "expected a histogram's text form or null");
			else
				rc = hist_merge_text(r->ts_lat[c], it[4]->valuestring, err);
			if (rc != 0) {
				err_prefix(err, "%s.timeseries.latency[%d]", path, i);
				return rc;
			}
		}
		for (size_t k = 0; k < ARRAY_SIZE(keys); k++)
			it[k] = it[k]->next;
	}
	return 0;
}

int http_shard_sum_add(struct http_shard_sum *s, const cJSON *result, long shift, const char *path, struct err *err)
{
	int rc;

	if (!cJSON_IsObject(result))
		return err_set(err, ERR_INPUT, "%s: expected an object", path);
	if ((rc = add_counts(s, result, path, err)) != 0 || (rc = add_facts(s, result, path, err)) != 0 ||
	    (rc = add_hists(s, result, path, err)) != 0 || (rc = add_series(s, result, shift, path, err)) != 0)
		return rc;
	s->n++;
	return 0;
}

void http_shard_sum_finish(struct http_shard_sum *s)
{
	struct http_engine_result *r = &s->r;

	for (size_t i = 0; i < r->n_ts; i++) {
		const struct hist *h = r->ts_lat[i];

		r->ts[i].p50 = h ? hist_percentile(h, 50) : 0;
		r->ts[i].p95 = h ? hist_percentile(h, 95) : 0;
		r->ts[i].p99 = h ? hist_percentile(h, 99) : 0;
	}
}
