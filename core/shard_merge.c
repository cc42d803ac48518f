/*
 * shard_merge.c: the shards' run documents merged into one run (see
 * shard_merge.h).
 */
#include "shard_merge.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "baseline.h"
#include "efficiency.h"
#include "hist.h"
#include "http/plan.h"
#include "http/runner.h"
#include "http/shard.h"
#include "json.h"
#include "shard.h"
#include "util.h"

/* One shard's document. */
struct member {
	struct rundoc *rd;
	struct shard_ident id;
	const char *host;          /* machine.hostname, or "?" */
};

/* A benchmark's sharded steps, as the first shard's record describes them. */
struct http_header {
	const char *mode;
	bool sse, goodput, sweep;
	double warmup, duration;   /* s */
	double threads;            /* per shard */
	const cJSON *spike;        /* NULL unless mode spike */
};

/* The merge of one HTTP benchmark. */
struct bench_merge {
	const char *name;
	struct member *m;          /* the shards present, by index */
	struct rd_bench **b;       /* each one's benchmark (NULL: it has none) */
	size_t n;
	unsigned count;            /* shards in the group */
	struct http_header h;
	struct rd_bench *out;
	struct http_shard_sum *sums; /* per step */
	const cJSON **steps0;      /* the first shard's records, per step */
	size_t n_steps;
	char *invalid;             /* why the merged benchmark is invalid (the first reason) */
	char *failure;             /* why it failed */
};

unsigned shard_merge_missing(const unsigned *have, size_t n, unsigned count, char *buf, size_t len)
{
	size_t used = 0;
	unsigned missing = 0;

	if (len)
		buf[0] = '\0';
	for (unsigned i = 0; i < count; i++) {
		bool there = false;

		for (size_t k = 0; k < n && !there; k++)
			there = have[k] == i;
		if (there)
			continue;
		missing++;
		if (used < len)
			used += (size_t)snprintf(buf + used, len - used, "%s%u", missing > 1 ? ", " : "", i + 1);
	}
	return missing;
}

/* ---- the documents ---- */

static int by_index(const void *a, const void *b)
{
	const struct member *x = a, *y = b;

	return (x->id.index > y->id.index) - (x->id.index < y->id.index);
}

/* Each document's identity, checked against the group's; sorted by index. */
static int members(struct rundoc *const *docs, size_t n, const struct shard_merge_options *o, struct member *m,
		   struct err *err)
{
	for (size_t i = 0; i < n; i++) {
		const char *host = json_peek_str(docs[i]->machine, "hostname");

		m[i].rd = docs[i];
		m[i].host = host ? host : "?";
		if (!shard_ident_of(docs[i], &m[i].id))
			return err_set(err, ERR_INPUT, "run %s is not a shard's run document (no valid \"shard\" member)",
				       docs[i]->run_id);
	}
	for (size_t i = 0; i < n; i++) {
		const char *group = o->group ? o->group : m[0].id.group;
		const char *hash = o->config_hash ? o->config_hash : m[0].id.config_hash;
		unsigned count = o->count ? o->count : m[0].id.count;

		if (strcmp(m[i].id.group, group) != 0)
			return err_set(err, ERR_INPUT, "run %s is shard %u of group '%s', not of '%s'", m[i].rd->run_id,
				       m[i].id.index + 1, m[i].id.group, group);
		if (m[i].id.count != count)
			return err_set(err, ERR_INPUT, "run %s is shard %u of %u, not of %u", m[i].rd->run_id,
				       m[i].id.index + 1, m[i].id.count, count);
		if (strcmp(m[i].id.config_hash, hash) != 0)
			return err_set(err, ERR_INPUT, "shard %u of group '%s' (run %s on %s) ran a different suite configuration "
				       "(config hash %.12s, the group's %.12s): refused", m[i].id.index + 1, group,
				       m[i].rd->run_id, m[i].host, m[i].id.config_hash, hash);
	}
	qsort(m, n, sizeof(*m), by_index);
	for (size_t i = 1; i < n; i++)
		if (m[i].id.index == m[i - 1].id.index)
			return err_set(err, ERR_INPUT, "shard %u of group '%s' came twice (runs %s and %s)", m[i].id.index + 1,
				       m[i].id.group, m[i - 1].rd->run_id, m[i].rd->run_id);
	return 0;
}

static char **strs_dup(char *const *v, size_t n)
{
	char **c = n ? xcalloc(n, sizeof(*c)) : NULL;

	for (size_t i = 0; i < n; i++)
		c[i] = v[i] ? xstrdup(v[i]) : NULL;
	return c;
}

static char *dup_or_null(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

/* The merged run's id: a UUID made from the group and the shards' runs, so
 * that merging the same runs twice (`merge`, then `gate --shards`) stores
 * one run. */
static char *merged_id(const struct member *m, size_t n)
{
	struct sb sb = SB_INIT;
	char h[65];

	sb_printf(&sb, "perfgate merge\n%s\n", m[0].id.group);
	for (size_t i = 0; i < n; i++)
		sb_printf(&sb, "%u %s\n", m[i].id.index, m[i].rd->run_id);
	sha256_hex(sb.buf, sb.len, h);
	sb_release(&sb);
	/* version 5 and the RFC 4122 variant, as a name-based UUID has */
	return xasprintf("%.8s-%.4s-5%.3s-8%.3s-%.12s", h, h + 8, h + 12, h + 15, h + 18);
}

/* The run's context (git, CI, machine, tags) from the first shard. */
static void copy_context(struct rundoc *dst, const struct member *m, size_t n)
{
	const struct rundoc *src = m[0].rd;

	dst->run_id = merged_id(m, n);
	dst->project = dup_or_null(src->project);
	dst->suite = xstrdup(src->suite);
	dst->git.commit = dup_or_null(src->git.commit);
	dst->git.branch = dup_or_null(src->git.branch);
	dst->git.dirty = src->git.dirty;
	dst->git.shallow = src->git.shallow;
	dst->git.commit_time = dup_or_null(src->git.commit_time);
	dst->git.subject = dup_or_null(src->git.subject);
	dst->git.parents = strs_dup(src->git.parents, src->git.n_parents);
	dst->git.n_parents = src->git.n_parents;
	dst->git.remote = dup_or_null(src->git.remote);
	dst->ci.provider = dup_or_null(src->ci.provider);
	dst->ci.job_url = dup_or_null(src->ci.job_url);
	dst->ci.event = dup_or_null(src->ci.event);
	dst->ci.pr = src->ci.pr;
	dst->ci.base_branch = dup_or_null(src->ci.base_branch);
	dst->ci.fork = src->ci.fork;
	dst->machine = src->machine ? cJSON_Duplicate(src->machine, true) : NULL;
	dst->tags = src->tags ? cJSON_Duplicate(src->tags, true) : NULL;
	dst->extra = src->extra ? cJSON_Duplicate(src->extra, true) : cJSON_CreateObject();
	cJSON_DeleteItemFromObjectCaseSensitive(dst->extra, "shard");
}

/* The merged run's times and machine: the first start, the last end; the
 * shards' common fingerprint, or one of their sorted distinct ones. */
static void times_and_machine(struct rundoc *dst, const struct member *m, size_t n)
{
	double first = INFINITY, last = -INFINITY;
	struct sb sb = SB_INIT;
	bool same = true;
	char fp[65];

	for (size_t i = 0; i < n; i++) {
		double s = baseline_parse_time(m[i].rd->started_at);
		double f = m[i].rd->finished_at ? baseline_parse_time(m[i].rd->finished_at) : NAN;

		if (s < first) {
			first = s;
			free(dst->started_at);
			dst->started_at = xstrdup(m[i].rd->started_at);
		}
		if (f > last) {
			last = f;
			free(dst->finished_at);
			dst->finished_at = xstrdup(m[i].rd->finished_at);
		}
		same = same && m[i].rd->fingerprint && m[0].rd->fingerprint &&
		       strcmp(m[i].rd->fingerprint, m[0].rd->fingerprint) == 0;
	}
	if (!dst->started_at)
		dst->started_at = xstrdup(m[0].rd->started_at);
	if (same || !m[0].rd->fingerprint) {
		dst->fingerprint = dup_or_null(m[0].rd->fingerprint);
		return;
	}
	/* Shards on machines of different classes: a fingerprint of the mix
	 * (the indexes are in order, so the same mix hashes alike). */
	for (size_t i = 0; i < n; i++)
		sb_printf(&sb, "%s\n", m[i].rd->fingerprint ? m[i].rd->fingerprint : "-");
	sha256_hex(sb.buf, sb.len, fp);
	sb_release(&sb);
	dst->fingerprint = xstrdup(fp);
	if (cJSON_IsObject(dst->machine)) {
		cJSON_DeleteItemFromObjectCaseSensitive(dst->machine, "fingerprint");
		cJSON_AddStringToObject(dst->machine, "fingerprint", fp);
	}
}

/* The run's "shards" member: who took part. */
static void shards_member(struct rundoc *dst, const struct member *m, size_t n, unsigned count)
{
	cJSON *o = cJSON_AddObjectToObject(dst->extra, "shards"), *merged, *missing, *runs;

	cJSON_AddStringToObject(o, "group", m[0].id.group);
	cJSON_AddNumberToObject(o, "count", count);
	cJSON_AddStringToObject(o, "config_hash", m[0].id.config_hash);
	merged = cJSON_AddArrayToObject(o, "merged");
	missing = cJSON_AddArrayToObject(o, "missing");
	runs = cJSON_AddArrayToObject(o, "runs");
	for (unsigned i = 0, k = 0; i < count; i++) {
		if (k < n && m[k].id.index == i) {
			cJSON *r = cJSON_CreateObject();

			cJSON_AddItemToArray(merged, cJSON_CreateNumber(i + 1));
			cJSON_AddNumberToObject(r, "index", i + 1);
			cJSON_AddStringToObject(r, "run_id", m[k].rd->run_id);
			cJSON_AddStringToObject(r, "hostname", m[k].host);
			if (m[k].rd->fingerprint)
				cJSON_AddStringToObject(r, "fingerprint", m[k].rd->fingerprint);
			cJSON_AddItemToArray(runs, r);
			k++;
		} else {
			cJSON_AddItemToArray(missing, cJSON_CreateNumber(i + 1));
		}
	}
}

/* ---- one HTTP benchmark ---- */

static int read_header(struct bench_merge *bm, const cJSON *sh, struct err *err)
{
	struct http_header *h = &bm->h;
	char path[300];
	int rc;

	snprintf(path, sizeof(path), "benchmark '%s': shard", bm->name);
	h->mode = json_peek_str(sh, "mode");
	if (!h->mode)
		return err_set(err, ERR_INPUT, "%s.mode: expected a string", path);
	h->sse = json_peek_true(sh, "sse");
	h->goodput = json_peek_true(sh, "goodput");
	h->sweep = strcmp(h->mode, "sweep") == 0;
	h->spike = json_peek(sh, "spike");
	if ((rc = json_read_number(sh, path, "warmup", true, true, &h->warmup, NULL, err)) != 0 ||
	    (rc = json_read_number(sh, path, "duration", true, true, &h->duration, NULL, err)) != 0 ||
	    (rc = json_read_number(sh, path, "threads", true, true, &h->threads, NULL, err)) != 0)
		return rc;
	return 0;
}

/* Shard i's step records; NULL when it has none (it failed before them). */
static const cJSON *steps_of(const struct rd_bench *b)
{
	const cJSON *sh = b && b->extra ? cJSON_GetObjectItemCaseSensitive(b->extra, "shard") : NULL;
	const cJSON *st = json_peek(sh, "steps");

	return cJSON_IsArray(st) ? st : NULL;
}

static void set_reason(char **dst, char *why)
{
	if (*dst)
		free(why);
	else
		*dst = why;
}

/* A record's start: planned and actual (s), late (s). */
static int step_start(const cJSON *rec, const char *path, double *planned, double *actual, struct err *err)
{
	const cJSON *st;
	int rc;

	if ((rc = json_read(rec, path, "start", cJSON_Object, true, &st, err)) != 0 ||
	    (rc = json_read_number(st, path, "planned", true, false, planned, NULL, err)) != 0 ||
	    (rc = json_read_number(st, path, "actual", true, false, actual, NULL, err)) != 0)
		return rc;
	return 0;
}

/* What one shard saw in one step, for generator[].shards. */
static cJSON *shard_facts(const struct member *m, const cJSON *rec, double late)
{
	cJSON *o = cJSON_CreateObject();
	const cJSON *st = json_peek(rec, "start"), *r = json_peek(rec, "result");
	double sent = json_peek_num(r, "sent", 0), late1 = json_peek_num(r, "late_1ms", 0);

	cJSON_AddNumberToObject(o, "index", m->id.index + 1);
	cJSON_AddStringToObject(o, "run_id", m->rd->run_id);
	cJSON_AddStringToObject(o, "hostname", m->host);
	cJSON_AddNumberToObject(o, "start_late", late);
	cJSON_AddNumberToObject(o, "clock_offset", json_peek_num(st, "offset", 0));
	cJSON_AddItemToObject(o, "clock_uncertainty", cJSON_IsNumber(json_peek(st, "uncertainty"))
						      ? cJSON_CreateNumber(json_peek_num(st, "uncertainty", 0))
						      : cJSON_CreateNull());
	cJSON_AddStringToObject(o, "clock_source", json_peek_str(st, "source") ? json_peek_str(st, "source") : "?");
	cJSON_AddNumberToObject(o, "cpu_util_max", json_peek_num(r, "cpu_util_max", 0));
	cJSON_AddNumberToObject(o, "late_fraction", sent > 0 ? late1 / sent : 0);
	cJSON_AddNumberToObject(o, "requests", json_peek_num(r, "ok", 0) + json_peek_num(r, "failed", 0));
	return o;
}

/* Step k of every shard added up; the shards' facts into facts. */
static int sum_step(struct bench_merge *bm, size_t k, cJSON *facts, struct err *err)
{
	const cJSON *rec0 = bm->steps0[k];
	double planned, actual, iv;
	double late_limit = fmax(HTTP_SHARD_LATE_S, 0.01 * bm->h.duration);
	char path[300];
	int rc;

	snprintf(path, sizeof(path), "benchmark '%s': shard.steps[%zu]", bm->name, k);
	if ((rc = step_start(rec0, path, &planned, &actual, err)) != 0)
		return rc;
	iv = json_peek_num(json_peek(json_peek(rec0, "result"), "timeseries"), "interval", 1);
	http_shard_sum_init(&bm->sums[k], bm->h.sse);
	for (size_t i = 0; i < bm->n; i++) {
		const cJSON *rec = cJSON_GetArrayItem(steps_of(bm->b[i]), (int)k);
		double p, a, late;
		long shift;

		snprintf(path, sizeof(path), "shard %u: benchmark '%s': shard.steps[%zu]", bm->m[i].id.index + 1,
			 bm->name, k);
		if ((rc = step_start(rec, path, &p, &a, err)) != 0)
			return rc;
		/* On the common clock: when this shard's series began, after the first shard's planned start. */
		late = a - p;
		shift = iv > 0 ? lround((a - planned) / iv) : 0;
		if (fabs(late) > late_limit)
			set_reason(&bm->invalid, xasprintf("shard %u of %u (%s) began load step %zu %.3f s %s the agreed "
							   "start (more than %.3f s): the shards did not run together; %s",
							   bm->m[i].id.index + 1, bm->count, bm->m[i].host, k + 1, fabs(late),
							   late > 0 ? "after" : "before", late_limit,
							   late > 0 ? "give them a later --start-at or a longer --shard-timeout"
								    : "its clock is ahead: synchronise the clocks (NTP) or let the "
								      "shards meet through the database"));
		if ((rc = http_shard_sum_add(&bm->sums[k], json_peek(rec, "result"), shift, path, err)) != 0)
			return rc;
		cJSON_AddItemToArray(facts, shard_facts(&bm->m[i], rec, late));
	}
	http_shard_sum_finish(&bm->sums[k]);
	return 0;
}

/* The combined generator of one step (as the runner's health() writes it)
 * with each shard's own facts. */
static cJSON *generator_json(const struct bench_merge *bm, const struct http_engine_result *r, bool open_loop,
			     cJSON *facts)
{
	cJSON *g = cJSON_CreateObject(), *pr;

	cJSON_AddStringToObject(g, "engine", r->engine ? r->engine : "?");
	cJSON_AddNumberToObject(g, "threads", bm->h.threads * (double)bm->n);
	cJSON_AddNumberToObject(g, "cpu_util_max", r->cpu_util_max);
	cJSON_AddNumberToObject(g, "late_fraction", r->sent ? (double)r->late_1ms / (double)r->sent : 0);
	cJSON_AddNumberToObject(g, "lateness_p99", (double)hist_percentile(r->lateness, 99) / 1e9);
	cJSON_AddNumberToObject(g, "connections_opened", (double)r->connections_opened);
	cJSON_AddNumberToObject(g, "warmup_requests", (double)r->warmup_requests);
	cJSON_AddNumberToObject(g, "requests", (double)(r->ok + r->failed));
	cJSON_AddNumberToObject(g, "interim_responses", (double)r->interim);
	pr = cJSON_AddObjectToObject(g, "protocols");
	if (r->proto_h1)
		cJSON_AddNumberToObject(pr, "HTTP/1.x", (double)r->proto_h1);
	if (r->proto_h2)
		cJSON_AddNumberToObject(pr, "HTTP/2", (double)r->proto_h2);
	cJSON_AddStringToObject(g, "sched_policy", r->sched_policy ? r->sched_policy : "other");
	if (r->sched_refused[0])
		cJSON_AddStringToObject(g, "sched_refused", r->sched_refused);
	if (open_loop)
		cJSON_AddNumberToObject(g, "blocked", (double)r->blocked);
	cJSON_AddItemToObject(g, "shards", facts);
	return g;
}

static cJSON *extra_array(struct rd_bench *b, const char *key)
{
	cJSON *a = cJSON_GetObjectItemCaseSensitive(b->extra, key);

	return a ? a : cJSON_AddArrayToObject(b->extra, key);
}

/* The metrics and records of one step, from its sums. */
static void emit_step(struct bench_merge *bm, size_t k, const char *itl_name, cJSON *facts)
{
	const cJSON *rec0 = bm->steps0[k];
	const struct http_engine_result *r = &bm->sums[k].r;
	long rep = (long)json_peek_num(rec0, "repetition", 0);
	double rate = json_peek_num(rec0, "rate", 0);
	bool open_loop = json_peek_true(rec0, "open_loop");
	/* The runner's metrics read only whether the requests streamed and
	 * whether per-request SLOs were set: that is all this plan says. */
	struct http_plan plan;
	char suffix[64];

	memset(&plan, 0, sizeof(plan));
	plan.sse = bm->h.sse;
	plan.n_rslo = bm->h.goodput && !bm->h.sse;
	if (bm->h.sweep) {
		snprintf(suffix, sizeof(suffix), "@%g/s", rate);
		http_runner_metrics(bm->out, suffix, r, open_loop, &plan, itl_name);
		cJSON_AddItemToArray(extra_array(bm->out, "sweep"), http_runner_step_json(r, rep, rate, false, true, NULL));
		cJSON_Delete(facts);
		return;
	}
	http_runner_metrics(bm->out, NULL, r, open_loop, &plan, itl_name);
	if (bm->h.spike)
		http_runner_recovery(bm->out, r, bm->h.warmup, bm->h.duration, json_peek_num(bm->h.spike, "at", 0),
				     json_peek_num(bm->h.spike, "duration", 0),
				     json_peek_num(bm->h.spike, "slo_latency_p95", NAN));
	cJSON_AddItemToArray(extra_array(bm->out, "generator"), generator_json(bm, r, open_loop, facts));
	cJSON_AddItemToArray(extra_array(bm->out, "timeseries"), http_runner_timeseries(r, rep, bm->h.warmup));
	cJSON_AddItemToArray(extra_array(bm->out, "errors"), http_runner_first_errors(r));
	if (r->ok == 0)
		set_reason(&bm->failure, r->failed ? xasprintf("no request of repetition %ld succeeded on any shard (%llu failed)",
							      rep + 1, (unsigned long long)r->failed)
						   : xstrdup("no request completed in the measured window"));
}

/* The families over every step, on each F.p50 (as the runner attaches them). */
static void attach_histograms(struct bench_merge *bm, const char *itl_name)
{
	static const char *const fams[] = { "latency", "service_time", "ttfb", "lateness", "ttft", "tpot", "itl" };

	for (size_t f = 0; f < ARRAY_SIZE(fams); f++) {
		struct hist *all = hist_new(3);
		char name[64];
		struct rd_metric *m;

		for (size_t k = 0; k < bm->n_steps; k++) {
			const struct http_engine_result *r = &bm->sums[k].r;
			const struct hist *h[] = { r->latency, r->service_time, r->ttfb, r->lateness, r->ttft, r->tpot, r->itl };

			if (h[f])
				hist_merge(all, h[f], NULL);
		}
		snprintf(name, sizeof(name), "%s.p50", f == 6 ? itl_name : fams[f]);
		if (hist_count(all) && (m = rundoc_bench_find_metric(bm->out, name)))
			rundoc_metric_set_histogram(m, hist_to_json(all));
		hist_free(all);
	}
}

/* "tokens", and whether gaps are itl (every event one token) or inter_chunk. */
static const char *tokens(struct bench_merge *bm)
{
	uint64_t usage = 0, events = 0;
	bool one = true;
	const char *itl;
	cJSON *t;

	for (size_t k = 0; k < bm->n_steps; k++) {
		usage += bm->sums[k].r.tok_usage;
		events += bm->sums[k].r.tok_events;
		one = one && bm->sums[k].r.one_token_events;
	}
	itl = events == 0 && usage > 0 && one ? "itl" : "inter_chunk";
	if (!bm->h.sse)
		return itl;
	t = cJSON_AddObjectToObject(bm->out->extra, "tokens");
	cJSON_AddStringToObject(t, "source", usage && events ? "mixed" : usage ? "usage" : "events");
	cJSON_AddStringToObject(t, "gaps", itl);
	cJSON_AddNumberToObject(t, "from_usage", (double)usage);
	cJSON_AddNumberToObject(t, "from_events", (double)events);
	return itl;
}

/* Metrics the merge does not compute (a monitor's, a scrape's) come from
 * the first shard that has the benchmark, and say so. */
static void copy_other_metrics(struct bench_merge *bm, const struct rd_bench *src, unsigned index, struct errlist *notes)
{
	struct sb names = SB_INIT;

	for (size_t i = 0; i < src->n_metrics; i++) {
		const struct rd_metric *s = &src->metrics[i];
		struct rd_metric *d;

		if (rundoc_bench_find_metric(bm->out, s->name))
			continue;
		if (efficiency_derived(s->name))
			continue; /* derived again from the merged work: efficiency_rederive */
		d = rundoc_bench_add_metric(bm->out, s->name, s->unit, s->direction);
		for (size_t k = 0; k < s->n_samples; k++)
			rundoc_metric_add_sample(d, s->samples[k]);
		if (s->extra)
			d->extra = cJSON_Duplicate(s->extra, true);
		sb_printf(&names, "%s%s", names.len ? ", " : "", s->name);
	}
	if (names.len) {
		char *msg = xasprintf("%s: measured by shard %u alone (the merge adds up requests, not monitors)",
				      sb_str(&names), index + 1);

		rundoc_bench_warn(bm->out, msg);
		if (notes)
			errlist_add(notes, "benchmark '%s': %s", bm->name, msg);
		free(msg);
	}
	sb_release(&names);
}

/* The first shard's members that describe the benchmark rather than its
 * measurements, and every shard's warnings once. */
static void copy_extras(struct bench_merge *bm, const struct rd_bench *src)
{
	static const char *const keep[] = { "load", "tags", "resources", "variant", "config",
					    /* the server metrics' and efficiency figures' (docs/monitor.md) */
					    "prometheus", "server_metrics", "energy", "cost" };

	for (size_t i = 0; i < ARRAY_SIZE(keep); i++) {
		const cJSON *v = src->extra ? cJSON_GetObjectItemCaseSensitive(src->extra, keep[i]) : NULL;

		if (v)
			cJSON_AddItemToObject(bm->out->extra, keep[i], cJSON_Duplicate(v, true));
	}
	for (size_t i = 0; i < bm->n; i++) {
		const cJSON *w = bm->b[i] ? rundoc_bench_warnings(bm->b[i]) : NULL, *it;
		const cJSON *have = rundoc_bench_warnings(bm->out);

		cJSON_ArrayForEach(it, w) {
			bool dup = false;
			const cJSON *x;

			cJSON_ArrayForEach(x, have)
				dup = dup || (cJSON_IsString(x) && strcmp(x->valuestring, it->valuestring) == 0);
			if (cJSON_IsString(it) && !dup)
				rundoc_bench_warn(bm->out, it->valuestring);
		}
	}
}

/* Before adding up: every shard ran every step; a shard's own verdicts. */
static int check_shards(struct bench_merge *bm, struct err *err)
{
	int n0 = -1;

	for (size_t i = 0; i < bm->n; i++) {
		const struct rd_bench *b = bm->b[i];
		const cJSON *st = steps_of(b);
		unsigned idx = bm->m[i].id.index + 1;

		if (!b) {
			set_reason(&bm->failure, xasprintf("shard %u of %u did not run it", idx, bm->count));
			continue;
		}
		if (rundoc_bench_invalid(b)) {
			const char *why = b->error ? b->error : "invalid";

			if (strncmp(why, "run invalid: ", 13) == 0)
				why += 13;
			set_reason(&bm->invalid, xasprintf("shard %u of %u (%s): %s", idx, bm->count, bm->m[i].host, why));
		}
		if (!st) {
			set_reason(&bm->failure, xasprintf("shard %u of %u (%s): %s", idx, bm->count, bm->m[i].host,
							   b->error ? b->error : "no load step recorded"));
			continue;
		}
		if (n0 < 0)
			n0 = cJSON_GetArraySize(st);
		else if (cJSON_GetArraySize(st) != n0)
			return err_set(err, ERR_INPUT, "benchmark '%s': shard %u ran %d load steps, shard %u %d",
				       bm->name, idx, cJSON_GetArraySize(st), bm->m[0].id.index + 1, n0);
	}
	return 0;
}

/* The status, from what the shards and the sums said. */
static void finish(struct bench_merge *bm, size_t missing)
{
	struct rd_bench *out = bm->out;

	if (missing) {
		char *w = xasprintf("merged from %zu of %u shards: the load is that share of what the suite declares",
				    bm->n, bm->count);
		rundoc_bench_warn(out, w);
		free(w);
	}
	for (size_t i = 0; i < out->n_metrics; i++)
		rundoc_metric_summarise(&out->metrics[i]);
	free(out->error);
	out->error = NULL;
	out->status = RUNDOC_STATUS_OK;
	if (bm->failure) {
		out->status = RUNDOC_STATUS_FAILED;
		out->error = bm->failure;
		bm->failure = NULL;
	} else if (bm->invalid) {
		out->status = RUNDOC_STATUS_FAILED;
		out->error = xasprintf("run invalid: %s", bm->invalid);
		rundoc_bench_set_invalid(out);
	}
}

static int merge_http(struct bench_merge *bm, size_t missing, struct errlist *notes, struct err *err)
{
	const struct rd_bench *first = NULL;
	unsigned first_idx = 0;
	const char *itl;
	int rc;

	for (size_t i = 0; i < bm->n && !first; i++)
		if (steps_of(bm->b[i])) {
			first = bm->b[i];
			first_idx = bm->m[i].id.index;
		}
	if ((rc = check_shards(bm, err)) != 0)
		return rc;
	if (!first || bm->failure) {
		finish(bm, missing);
		return 0;
	}
	if ((rc = read_header(bm, cJSON_GetObjectItemCaseSensitive(first->extra, "shard"), err)) != 0)
		return rc;
	bm->n_steps = (size_t)cJSON_GetArraySize(steps_of(first));
	bm->sums = xcalloc(bm->n_steps ? bm->n_steps : 1, sizeof(*bm->sums));
	bm->steps0 = xcalloc(bm->n_steps ? bm->n_steps : 1, sizeof(*bm->steps0));
	{
		cJSON **facts = xcalloc(bm->n_steps ? bm->n_steps : 1, sizeof(*facts));
		size_t k = 0;
		const cJSON *it;

		cJSON_ArrayForEach(it, steps_of(first))
			bm->steps0[k++] = it;
		for (k = 0, rc = 0; k < bm->n_steps && rc == 0; k++) {
			facts[k] = cJSON_CreateArray();
			rc = sum_step(bm, k, facts[k], err);
		}
		itl = rc == 0 ? tokens(bm) : NULL;
		for (size_t j = 0; j < bm->n_steps; j++) {
			if (rc == 0)
				emit_step(bm, j, itl, facts[j]);
			else
				cJSON_Delete(facts[j]);
		}
		free(facts);
	}
	if (rc != 0)
		return rc;
	if (!bm->h.sweep)
		attach_histograms(bm, itl);
	copy_other_metrics(bm, first, first_idx, notes);
	copy_extras(bm, first);
	efficiency_rederive(bm->out);
	finish(bm, missing);
	return 0;
}

static void bench_merge_release(struct bench_merge *bm)
{
	for (size_t k = 0; bm->sums && k < bm->n_steps; k++)
		http_shard_sum_release(&bm->sums[k]);
	free(bm->sums);
	free(bm->steps0);
	free(bm->invalid);
	free(bm->failure);
}

/* ---- the run ---- */

/* Is the benchmark sharded load (some shard has step records or failed as one)? */
static bool sharded_bench(const struct member *m, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++) {
		const struct rd_bench *b = rundoc_find_bench(m[i].rd, name);

		if (b && (b->kind == RUNDOC_KIND_HTTP || steps_of(b)))
			return true;
	}
	return false;
}

/* A command benchmark (run by shard 1 alone): moved over as it is. */
static void take_bench(struct rundoc *dst, struct rundoc *src, const char *name)
{
	struct rd_bench *b = rundoc_find_bench(src, name);

	XGROW(dst->benches, dst->alloc_benches, dst->n_benches + 1);
	dst->benches[dst->n_benches++] = *b;
	memset(b, 0, sizeof(*b));
	b->name = xstrdup(name); /* src stays a document (with an empty benchmark) */
}

static int merge_bench(struct rundoc *dst, struct member *m, size_t n, unsigned count, const char *name,
		       const char *partial_hash, struct errlist *notes, struct err *err)
{
	struct bench_merge bm;
	const struct rd_bench *model = NULL;
	int rc;

	if (!sharded_bench(m, n, name)) {
		for (size_t i = 0; i < n; i++)
			if (rundoc_find_bench(m[i].rd, name)) {
				take_bench(dst, m[i].rd, name);
				return 0;
			}
		return 0;
	}
	memset(&bm, 0, sizeof(bm));
	bm.name = name;
	bm.m = m;
	bm.n = n;
	bm.count = count;
	bm.b = xcalloc(n, sizeof(*bm.b));
	for (size_t i = 0; i < n; i++)
		if ((bm.b[i] = rundoc_find_bench(m[i].rd, name)) && !model)
			model = bm.b[i];
	bm.out = rundoc_add_bench(dst, name, RUNDOC_KIND_HTTP);
	bm.out->extra = cJSON_CreateObject();
	bm.out->params = model->params ? cJSON_Duplicate(model->params, true) : NULL;
	/* A merge of some shards only measured less load than the suite
	 * declares: a configuration of its own, never a baseline for the whole. */
	if (partial_hash && model->config_hash) {
		char *text = xasprintf("%s %s", model->config_hash, partial_hash), hash[65];

		sha256_hex(text, strlen(text), hash);
		bm.out->config_hash = xstrdup(hash);
		free(text);
	} else {
		bm.out->config_hash = dup_or_null(model->config_hash);
	}
	rc = merge_http(&bm, partial_hash ? 1 : 0, notes, err);
	bench_merge_release(&bm);
	free(bm.b);
	return rc;
}

/* The benchmarks' names, in the order the shards ran them. */
static size_t bench_names(const struct member *m, size_t n, const char ***out)
{
	const char **names = NULL;
	size_t k = 0, alloc = 0;

	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < m[i].rd->n_benches; j++) {
			const char *name = m[i].rd->benches[j].name;
			bool seen = false;

			for (size_t x = 0; x < k && !seen; x++)
				seen = strcmp(names[x], name) == 0;
			if (!seen) {
				XGROW(names, alloc, k + 1);
				names[k++] = name;
			}
		}
	*out = names;
	return k;
}

int shard_merge(struct rundoc *const *docs, size_t n, const struct shard_merge_options *opts, struct rundoc **out,
		struct errlist *notes, struct err *err)
{
	struct shard_merge_options dflt = SHARD_MERGE_OPTIONS_INIT;
	const struct shard_merge_options *o = opts ? opts : &dflt;
	struct member *m = NULL;
	struct rundoc *rd = NULL;
	const char **names = NULL;
	unsigned *have = NULL, count, missing;
	char list[512], partial[600] = "";
	size_t n_names;
	int rc = 0;

	*out = NULL;
	if (n == 0)
		return err_set(err, ERR_INFRA, "no shard's run to merge");
	m = xcalloc(n, sizeof(*m));
	have = xcalloc(n, sizeof(*have));
	if ((rc = members(docs, n, o, m, err)) != 0)
		goto done;
	count = o->count ? o->count : m[0].id.count;
	for (size_t i = 0; i < n; i++)
		have[i] = m[i].id.index;
	if ((missing = shard_merge_missing(have, n, count, list, sizeof(list))) > 0) {
		if (!o->partial) {
			rc = err_set(err, ERR_INFRA, "shard%s %s of %u of group '%s' missing", missing > 1 ? "s" : "", list,
				     count, m[0].id.group);
			goto done;
		}
		snprintf(partial, sizeof(partial), "partial merge without shard%s %s of %u", missing > 1 ? "s" : "", list,
			 count);
		if (notes)
			errlist_add(notes, "merged %zu of %u shards of group '%s': shard%s %s missing", n, count,
				    m[0].id.group, missing > 1 ? "s" : "", list);
	}
	rd = rundoc_new();
	copy_context(rd, m, n);
	times_and_machine(rd, m, n);
	shards_member(rd, m, n, count);
	n_names = bench_names(m, n, &names);
	for (size_t i = 0; i < n_names && rc == 0; i++) {
		char *name = xstrdup(names[i]); /* take_bench may free the original */

		rc = merge_bench(rd, m, n, count, name, partial[0] ? partial : NULL, notes, err);
		free(name);
	}
	if (rc == 0) {
		*out = rd;
		rd = NULL;
	}
done:
	rundoc_free(rd);
	free(names);
	free(have);
	free(m);
	return rc;
}
