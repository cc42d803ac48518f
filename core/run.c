/*
 * run.c: running a suite into a run document (see run.h).
 *
 * Each benchmark runs into a scratch document and is moved into the run
 * only when it finished, so an interrupted run holds exactly the benchmarks
 * that completed, never a half-measured one.
 */
#include "run.h"

#include <fnmatch.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "context.h"
#include "http/runner.h"
#include "ingest/runner.h"
#include "proc.h"
#include "runner_cmd.h"
#include "shard.h"
#include "summary.h"
#include "util.h"

bool run_selected(const struct run_options *opts, const char *name)
{
	if (!opts)
		return true;
	if (opts->bench_glob || opts->n_bench_globs) {
		bool any = opts->bench_glob && fnmatch(opts->bench_glob, name, 0) == 0;
		for (size_t i = 0; i < opts->n_bench_globs && !any; i++)
			any = fnmatch(opts->bench_globs[i], name, 0) == 0;
		if (!any)
			return false;
	}
	if (opts->only) {
		for (size_t i = 0; i < opts->n_only; i++)
			if (strcmp(opts->only[i], name) == 0)
				return true;
		return false;
	}
	return true;
}

/* "project" when the suite does not name one: the repository's name from
 * its remote URL (".../acme/shop.git" -> "shop"), else the suite's name. */
struct tally {
	size_t done, failed;
	char *first_failure; /* "benchmark 'x' failed: why" */
	bool input;          /* a runner found the suite's input invalid (a file it names): exit 2 */
};

static void note_result(struct tally *t, const struct run_options *o, const struct rd_bench *b)
{
	t->done++;
	if (b->status != RUNDOC_STATUS_OK) {
		t->failed++;
		if (!t->first_failure)
			t->first_failure = xasprintf("benchmark '%s' failed: %s", b->name,
						     b->error ? b->error : rundoc_status_name(b->status));
	}
	if (o && o->on_bench)
		o->on_bench(o->progress_arg, RUN_BENCH_DONE, b->name, b);
}

/* The benchmark's declared "tags" travel with its result (member "tags"). */
static void keep_tags(const struct suite_bench *sb, struct rd_bench *b)
{
	const cJSON *tags = cJSON_GetObjectItemCaseSensitive(sb->raw, "tags");

	if (!tags)
		return;
	if (!b->extra)
		b->extra = cJSON_CreateObject();
	if (!cJSON_HasObjectItem(b->extra, "tags"))
		cJSON_AddItemToObject(b->extra, "tags", cJSON_Duplicate(tags, true));
}

/* A benchmark's result, run into the scratch document's first benchmark
 * (rc: its runner's, with why), into the run.  Could not run at all: the
 * run goes on with the others.  A file the benchmark names that is
 * malformed (a dataset, a trace) is found only now, but is bad input all
 * the same: the run then ends as invalid input, not as a failed run.
 * Interrupted in the middle: it did not finish, so it is not kept. */
static void keep_result(const struct suite_bench *sb, struct rundoc *scratch, int rc, const char *why,
			const struct run_options *o, struct rundoc *rd, struct tally *t)
{
	struct rd_bench *b = &scratch->benches[0];
	size_t first = rd->n_benches;

	if (rc != 0)
		rundoc_bench_fail(b, why[0] ? why : "could not run");
	if (rc == ERR_INPUT)
		t->input = true;
	if (!b->config_hash)
		b->config_hash = xstrdup(sb->config_hash);
	if (!b->params && sb->params)
		b->params = cJSON_Duplicate(sb->params, true);
	keep_tags(sb, b);
	if (proc_interrupted())
		return;
	rundoc_merge(rd, scratch, RUNDOC_MERGE_ACCUMULATE);
	for (size_t i = first; i < rd->n_benches; i++)
		note_result(t, o, &rd->benches[i]);
}

/* One benchmark of any kind, start to end. */
static void run_one(const struct suite_bench *sb, const struct run_ctx *ctx,
		    const struct run_options *o, struct rundoc *rd, struct tally *t)
{
	struct rundoc *scratch = rundoc_new();
	struct rd_bench *b = rundoc_add_bench(scratch, sb->name, sb->kind);
	struct err e = ERR_INIT;
	int rc;

	if (o && o->on_bench)
		o->on_bench(o->progress_arg, RUN_BENCH_START, sb->name, NULL);
	switch (sb->kind) {
	case RUNDOC_KIND_HTTP:
		rc = http_runner_run(sb, ctx, b, &e);
		break;
	case RUNDOC_KIND_INGEST:
		rc = ingest_runner_run(sb, ctx, b, scratch, &e);
		break;
	default:
		rc = runner_cmd_run(sb, ctx, b, &e);
		break;
	}
	keep_result(sb, scratch, rc, e.msg, o, rd, t);
	rundoc_free(scratch);
}

bool run_past_deadline(const struct run_ctx *ctx, size_t done, uint64_t step_ns)
{
	return ctx && ctx->deadline_ns && done > 0 && now_ns() + step_ns > ctx->deadline_ns;
}

/* One benchmark of an interleaved suite: a command's repetitions, or a
 * load test's (each into its own scratch document, moved into the run when
 * all are done, as run_one does). */
struct stepper {
	const struct suite_bench *sb;
	struct runner_cmd_bench *cmd;
	struct http_run *http;
	struct rundoc *scratch; /* HTTP: its result */
	int rc;                 /* HTTP: a repetition failed (err says why) */
	struct err err;
};

static bool stepper_done(const struct stepper *st)
{
	return st->cmd ? runner_cmd_done(st->cmd) : st->rc != 0 || http_runner_done(st->http);
}

/* Hard limits only: a variant that reached its precision may go on. */
static bool stepper_can_step(const struct stepper *st)
{
	return st->cmd ? runner_cmd_can_step(st->cmd) : st->rc == 0 && !http_runner_done(st->http);
}

static void stepper_step(struct stepper *st, const struct run_ctx *ctx, uint64_t t0)
{
	size_t taken, planned_n;

	if (st->cmd) {
		runner_cmd_step(st->cmd);
		taken = runner_cmd_reps(st->cmd);
		planned_n = runner_cmd_planned(st->cmd);
	} else {
		st->rc = http_runner_step(st->http, &st->err);
		taken = (size_t)http_runner_reps(st->http);
		planned_n = (size_t)http_runner_planned(st->http);
	}
	if (ctx->progress)
		ctx->progress(ctx->progress_arg, st->sb->name, taken, planned_n, (double)(now_ns() - t0) * 1e-9);
}

static int stepper_open(struct stepper *st, const struct run_ctx *ctx, struct err *err)
{
	if (st->sb->kind == RUNDOC_KIND_COMMAND) {
		int rc = runner_cmd_open(&st->cmd, st->sb, ctx, err);

		if (rc == 0)
			runner_cmd_warmup(st->cmd);
		return rc;
	}
	st->scratch = rundoc_new();
	st->rc = http_runner_open(&st->http, st->sb, ctx, rundoc_add_bench(st->scratch, st->sb->name, st->sb->kind),
				  &st->err);
	return 0;
}

/* The result into the run: a load test that could not run, or failed in a
 * repetition, is kept as failed, and the run goes on (as run_one does). */
static void stepper_finish(struct stepper *st, struct rundoc *rd, const struct run_options *o, struct tally *t)
{
	struct rd_bench *b;

	if (st->cmd) {
		b = rundoc_add_bench(rd, st->sb->name, RUNDOC_KIND_COMMAND);
		runner_cmd_finish(st->cmd, b);
		keep_tags(st->sb, b);
		note_result(t, o, &rd->benches[rd->n_benches - 1]);
		return;
	}
	if (st->rc == 0)
		http_runner_finish(st->http);
	keep_result(st->sb, st->scratch, st->rc, st->err.msg, o, rd, t);
}

static void stepper_free(struct stepper *st)
{
	runner_cmd_free(st->cmd);
	http_runner_free(st->http);
	rundoc_free(st->scratch);
}

static bool same_group(const struct suite_bench *a, const struct suite_bench *b)
{
	return a->variant_of && b->variant_of && strcmp(a->variant_of, b->variant_of) == 0;
}

/* Is each variant's difference from its reference precise, pair by pair?
 * The 95% interval of the median of the per-pair log-ratios within each
 * variant's `target` (as a log ratio), every variant of the group adaptive
 * and past its min_repetitions and min_time.  The machine's drift, which
 * widens each side's own interval on a noisy machine (up to
 * max_repetitions), hits both sides of a pair and cancels here, and the
 * pairs are what the comparison uses (docs/statistics.md, "Paired
 * samples"). */
static bool pairs_precise(const struct stepper *st, const struct suite_bench **sel, size_t n, size_t i)
{
	const double *ref = NULL, *v;
	size_t n_ref = 0, k;
	double target;

	for (size_t j = 0; j < n; j++)
		if (same_group(sel[j], sel[i]) && sel[j]->reference &&
		    !(st[j].cmd && runner_cmd_may_stop(st[j].cmd, &ref, &n_ref, &target)))
			return false;
	if (!ref)
		return false;
	for (size_t j = 0; j < n; j++) {
		double *d, lo, hi;
		bool precise;

		if (!same_group(sel[j], sel[i]) || sel[j]->reference)
			continue;
		if (!st[j].cmd || !runner_cmd_may_stop(st[j].cmd, &v, &k, &target) || k != n_ref)
			return false;
		d = xmalloc(k * sizeof(*d));
		precise = true;
		for (size_t r = 0; r < k && precise; r++) {
			precise = v[r] > 0 && ref[r] > 0;
			d[r] = precise ? log(v[r] / ref[r]) : 0;
		}
		qsort(d, k, sizeof(*d), summary_cmp_double);
		precise = precise && summary_median_ci(d, k, 0.95, &lo, &hi) == 0 && (hi - lo) / 2 <= log1p(target);
		free(d);
		if (!precise)
			return false;
	}
	return true;
}

/* Is benchmark i done, with the variants of its A/B benchmark (done[] of
 * each)?  Variants stop together, so that an adaptive count keeps them in
 * pairs: one that reached its precision goes on while another has not,
 * unless their pairs are precise already (pairs_precise). */
static bool group_done(const struct stepper *st, const struct suite_bench **sel, size_t n, const bool *done,
		       size_t i)
{
	if (!sel[i]->variant_of)
		return done[i];
	for (size_t j = 0; j < n; j++)
		if (!done[j] && same_group(sel[j], sel[i]))
			return pairs_precise(st, sel, n, i);
	return true;
}

/* "order": "interleaved": the repetitions of command and load benchmarks
 * round-robin, one of each in turn, in the suite's order every round, so
 * that the two sides of an A/B pair alternate steadily (a b a b ...) and
 * no side ever runs twice in a row.  Alternating the order of the rounds
 * instead (a b, b a, ...) puts one side twice in a row at every other
 * round's end, and a burst of other work as long as two runs then slows
 * that side in two neighbouring pairs, where in a steady alternation it
 * slows b of one pair and a of the next, opposite ways: measured, it
 * made A/A pairs flag more often (docs/performance.md, "The order within
 * a pair"). */
static void run_interleaved(const struct suite_bench **sel, size_t n, const struct run_ctx *ctx,
			    const struct run_options *o, struct rundoc *rd, struct tally *t,
			    struct err *err, int *fatal)
{
	struct stepper *st = xcalloc(n ? n : 1, sizeof(*st));
	bool *done = xcalloc(n ? n : 1, sizeof(*done));
	uint64_t t0 = now_ns(), round_ns = 0;
	size_t opened = 0, rounds = 0;
	bool more = true;

	for (size_t i = 0; i < n; i++) {
		if (o && o->on_bench)
			o->on_bench(o->progress_arg, RUN_BENCH_START, sel[i]->name, NULL);
		st[i].sb = sel[i];
		st[i].err = (struct err)ERR_INIT;
		opened++;
		if ((*fatal = stepper_open(&st[i], ctx, err)) != 0 || proc_interrupted())
			goto done;
	}
	while (more && !proc_interrupted() && !run_past_deadline(ctx, rounds, round_ns)) {
		uint64_t r0 = now_ns();

		more = false;
		for (size_t i = 0; i < n; i++)
			done[i] = stepper_done(&st[i]);
		for (size_t i = 0; i < n && !proc_interrupted(); i++) {
			if (!stepper_can_step(&st[i]) || group_done(st, sel, n, done, i))
				continue;
			stepper_step(&st[i], ctx, t0);
			more = true;
		}
		rounds++;
		round_ns = now_ns() - r0;
	}
	if (proc_interrupted())
		goto done;
	for (size_t i = 0; i < n; i++)
		stepper_finish(&st[i], rd, o, t);
done:
	for (size_t i = 0; i < opened; i++)
		stepper_free(&st[i]);
	free(st);
	free(done);
}

/* Does the benchmark take its turn in an interleaved suite?  Commands and
 * load tests do; ingested results are read once, and a sharded load test
 * runs its share first, in step with the other shards. */
static bool interleaves(const struct suite_bench *sb, const struct run_options *o)
{
	return sb->kind == RUNDOC_KIND_COMMAND || (sb->kind == RUNDOC_KIND_HTTP && !o->shard);
}

/* How many of the selected benchmarks this process runs (a shard but
 * the first runs only the HTTP ones). */
static size_t planned(const struct suite_bench **sel, size_t n, const struct run_options *o)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++)
		k += !o->shard || o->shard->spec.index == 0 || sel[i]->kind == RUNDOC_KIND_HTTP;
	return k;
}

int run_suite(const struct suite *s, const struct run_options *opts, struct rundoc **out,
	      struct err *err)
{
	struct run_options dflt = RUN_OPTIONS_INIT;
	const struct run_options *o = opts ? opts : &dflt;
	struct run_ctx ctx;
	const struct suite_bench **sel = xcalloc(s->n_benches ? s->n_benches : 1, sizeof(*sel));
	const struct suite_bench **cmds = xcalloc(s->n_benches ? s->n_benches : 1, sizeof(*cmds));
	size_t n_sel = 0, n_cmds = 0;
	struct tally t = { 0, 0, NULL, false };
	struct rundoc *rd = NULL;
	char id[37], now[40];
	int rc = 0, fatal = 0;

	*out = NULL;
	for (size_t i = 0; i < s->n_benches; i++)
		if (run_selected(o, s->benches[i].name))
			sel[n_sel++] = &s->benches[i];
	if (n_sel == 0) {
		const char *one = o->bench_glob && !o->n_bench_globs ? o->bench_glob
				  : !o->bench_glob && o->n_bench_globs == 1 ? o->bench_globs[0] : NULL;
		if (one)
			rc = err_set(err, ERR_INPUT, "no benchmark of suite '%s' matches '%s'", s->name, one);
		else if (o->bench_glob || o->n_bench_globs)
			rc = err_set(err, ERR_INPUT, "no benchmark of suite '%s' matches the --bench patterns",
				     s->name);
		else
			rc = err_set(err, ERR_INPUT, "no benchmark of suite '%s' was selected", s->name);
		goto done;
	}

	memset(&ctx, 0, sizeof(ctx));
	ctx.suite = s;
	ctx.repetitions = o->repetitions;
	ctx.interleaved = s->interleaved;
	ctx.progress = o->progress;
	ctx.progress_arg = o->progress_arg;
	ctx.warmup_set = o->warmup >= 0;
	ctx.warmup = o->warmup;
	ctx.records = o->records;
	ctx.shard = o->shard;
	ctx.deadline_ns = o->deadline_ns;

	rd = rundoc_new();
	/* Measured here: its context is this process's own (or none, no_context). */
	rd->context_trusted = true;
	rundoc_uuid(id);
	rd->run_id = xstrdup(id);
	rd->suite = xstrdup(s->name);
	if (s->project)
		rd->project = xstrdup(s->project);
	time_rfc3339(now, sizeof(now));
	rd->started_at = xstrdup(now);
	if (o->tags)
		rd->tags = cJSON_Duplicate(o->tags, true);
	if (o->shard)
		shard_stamp(rd, o->shard);
	if (!o->no_context) {
		rc = context_stamp(rd, o->repo_dir ? o->repo_dir : s->dir, o->notices, err);
		if (rc != 0)
			goto done;
	}
	if (!rd->project)
		rd->project = context_project_name(rd->git.remote, s->name);

	/* A shard runs its share of every HTTP benchmark first, so that the
	 * shards' load steps line up; the other benchmarks run once, on
	 * shard 1, after them. */
	for (size_t i = 0; o->shard && i < n_sel && !proc_interrupted(); i++)
		if (sel[i]->kind == RUNDOC_KIND_HTTP)
			run_one(sel[i], &ctx, o, rd, &t);
	if (s->interleaved && (!o->shard || o->shard->spec.index == 0)) {
		for (size_t i = 0; i < n_sel; i++)
			if (interleaves(sel[i], o))
				cmds[n_cmds++] = sel[i];
		run_interleaved(cmds, n_cmds, &ctx, o, rd, &t, err, &fatal);
		if (fatal) {
			rc = fatal;
			goto done;
		}
	}
	for (size_t i = 0; (!o->shard || o->shard->spec.index == 0) && i < n_sel && !proc_interrupted(); i++) {
		if ((s->interleaved && interleaves(sel[i], o)) || (o->shard && sel[i]->kind == RUNDOC_KIND_HTTP))
			continue;
		run_one(sel[i], &ctx, o, rd, &t);
	}
	time_rfc3339(now, sizeof(now));
	rd->finished_at = xstrdup(now);

	if (proc_interrupted()) {
		rd->partial = true;
		rc = err_set(err, ERR_RUN, "interrupted: %zu of %zu benchmarks finished", t.done, planned(sel, n_sel, o));
	} else if (t.failed) {
		if (t.input && t.failed == 1)
			rc = err_set(err, ERR_INPUT, "%s", t.first_failure);
		else if (t.input)
			rc = err_set(err, ERR_INPUT, "%s (and %zu more failed)", t.first_failure, t.failed - 1);
		else if (t.failed > 1)
			rc = err_set(err, ERR_RUN, "%s (and %zu more failed)", t.first_failure, t.failed - 1);
		else
			rc = err_set(err, ERR_RUN, "%s", t.first_failure);
	}
	*out = rd;
	rd = NULL;
done:
	rundoc_free(rd);
	free(t.first_failure);
	free(sel);
	free(cmds);
	return rc;
}
