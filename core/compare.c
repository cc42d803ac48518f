/*
 * compare.c: a run against its baseline, metric by metric (DESIGN 5).
 *
 * The steps: for every benchmark and metric of the current run, pool the
 * samples of the last K baseline runs that hold the same benchmark with the
 * same configuration hash (skipping runs older than the newest change
 * point), measure (verdict_measure); A/B variants against their reference
 * variant of the same run; then one Benjamini-Hochberg decision over all
 * history rows (verdict_decide adjusts gating and non-gating metrics as
 * separate families) and a separate one over the A/B rows; then the SLOs.
 */
#include "compare.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "batch.h"
#include "headbase.h"
#include "noise.h"
#include "slo.h"
#include "stats.h"
#include "summary.h"
#include "util.h"

/* waiting_is_not_computing: a benchmark is CPU-bound when its baseline's
 * cpu is at least WAIT_CPU_BOUND of its fastest wall time, and serial when
 * its cpu is at most WAIT_CPU_SERIAL times its baseline's wall time (a
 * command that kept more than one CPU busy can lose its parallelism, which
 * only wall shows); a wall regression is waiting when cpu rose less than
 * WAIT_CPU_SHARE as much. */
#define WAIT_CPU_BOUND 0.5
#define WAIT_CPU_SERIAL 1.2
#define WAIT_CPU_SHARE 0.5

static const struct suite_bench *suite_find(const struct suite *s, const char *name)
{
	if (!s)
		return NULL;
	for (size_t i = 0; i < s->n_benches; i++)
		if (strcmp(s->benches[i].name, name) == 0)
			return &s->benches[i];
	return NULL;
}

/* Parse a "compare" object minus its "metrics" member (per-metric settings). */
static void parse_level(const cJSON *obj, const char *path, struct verdict_settings *s,
			struct errlist *problems)
{
	cJSON *copy;

	if (!obj)
		return;
	if (!cJSON_IsObject(obj)) {
		errlist_add(problems, "%s: expected an object", path);
		return;
	}
	copy = cJSON_Duplicate(obj, 1);
	cJSON_DeleteItemFromObjectCaseSensitive(copy, "metrics");
	verdict_settings_parse(copy, path, s, problems);
	cJSON_Delete(copy);
}

int compare_settings_for(const struct suite *suite, const char *bench, const struct rd_metric *rm,
			 struct verdict_settings *out, struct err *err)
{
	struct verdict_settings s = VERDICT_SETTINGS_INIT;
	struct errlist problems = ERRLIST_INIT;
	const struct suite_bench *sb = suite_find(suite, bench);
	const char *metric = rm ? rm->name : "";
	int rc = 0;

	/* The metric's own defaults first (core/noise.c: counts that barely
	 * vary get a finer min_effect; error counts are tracked). */
	if (rm) {
		const struct noise_rule *rule = noise_rule_for(rm->name, rm->unit);

		s.min_effect = rule->min_effect;
		s.gate = rule->gate;
	}
	if (rm && rundoc_metric_tracked(rm))
		s.gate = false;

	if (suite) {
		const cJSON *m = cJSON_IsObject(suite->compare)
					 ? cJSON_GetObjectItemCaseSensitive(suite->compare, "metrics") : NULL;
		const cJSON *mm = cJSON_IsObject(m) ? cJSON_GetObjectItemCaseSensitive(m, metric) : NULL;

		parse_level(suite->compare, "compare", &s, &problems);
		if (mm) {
			char *path = xasprintf("compare.metrics.%s", metric);

			parse_level(mm, path, &s, &problems);
			free(path);
		}
	}
	if (sb && sb->raw) {
		const cJSON *c = cJSON_GetObjectItemCaseSensitive(sb->raw, "compare");
		char *path = xasprintf("benchmark '%s' compare", bench);

		parse_level(c, path, &s, &problems);
		free(path);
		if (cJSON_IsObject(c)) {
			const cJSON *m = cJSON_GetObjectItemCaseSensitive(c, "metrics");
			const cJSON *mm = cJSON_IsObject(m) ? cJSON_GetObjectItemCaseSensitive(m, metric) : NULL;

			if (mm) {
				path = xasprintf("benchmark '%s' compare.metrics.%s", bench, metric);
				parse_level(mm, path, &s, &problems);
				free(path);
			}
		}
	}
	if (problems.n)
		rc = errlist_to_err(&problems, err, ERR_INPUT);
	errlist_release(&problems);
	*out = s;
	return rc;
}

static char **strv_dup(char *const *v, size_t n)
{
	char **o;

	if (n == 0)
		return NULL;
	o = xcalloc(n, sizeof(*o));
	for (size_t i = 0; i < n; i++)
		o[i] = v[i] ? xstrdup(v[i]) : NULL;
	return o;
}

static void strv_free(char **v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

static bool strv_has(char *const *v, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] && s && strcmp(v[i], s) == 0)
			return true;
	return false;
}

static struct compare_row *add_row(struct compare_result *r, size_t *alloc)
{
	struct compare_row *row;

	XGROW(r->rows, *alloc, r->n_rows + 1);
	row = &r->rows[r->n_rows++];
	memset(row, 0, sizeof(*row));
	return row;
}

/* Pooled baseline samples of one benchmark and metric. */
struct pool {
	double *samples;
	size_t n, alloc;
	double *medians;
	size_t n_runs, alloc_runs;
	char **runs, **commits;
	size_t alloc_ids;
};

static void pool_release(struct pool *p)
{
	free(p->samples);
	free(p->medians);
	strv_free(p->runs, p->n_runs);
	strv_free(p->commits, p->n_runs);
	memset(p, 0, sizeof(*p));
}

/* One run's samples (values: m's own, or its batch means) into the pool;
 * the run's median always from m's own samples, the run-level value whose
 * spread between runs sets the noise floor. */
static void pool_add_values(struct pool *p, const struct rd_metric *m, const double *values, size_t n,
			    const char *run_id, const char *commit)
{
	XGROW(p->samples, p->alloc, p->n + n);
	memcpy(p->samples + p->n, values, n * sizeof(double));
	p->n += n;
	XGROW(p->medians, p->alloc_runs, p->n_runs + 1);
	p->medians[p->n_runs] = summary_median(m->samples, m->n_samples);
	if (p->alloc_ids < p->n_runs + 1) {
		size_t a = p->alloc_ids;
		XGROW(p->runs, a, p->n_runs + 1);
		XGROW(p->commits, p->alloc_ids, p->n_runs + 1);
	}
	p->runs[p->n_runs] = xstrdup(run_id ? run_id : "");
	p->commits[p->n_runs] = commit ? xstrdup(commit) : NULL;
	p->n_runs++;
}

static void pool_add(struct pool *p, const struct rd_metric *m, const char *run_id, const char *commit)
{
	pool_add_values(p, m, m->samples, m->n_samples, run_id, commit);
}

/* The metric of benchmark b in one baseline run, when that run counts for
 * it (not before the newest change point, the same configuration). */
static const struct rd_metric *history_metric(const struct baseline_run *run, const struct rd_bench *b,
					      const char *metric, double cutoff, const struct rd_bench **bench)
{
	const struct rd_bench *bb;
	const struct rd_metric *bm;

	if (cutoff > 0 && run->started > 0 && run->started < cutoff)
		return NULL;
	bb = baseline_match(run->doc, b);
	bm = bb ? rundoc_bench_find_metric(bb, metric) : NULL;
	if (!bm || bm->n_samples == 0)
		return NULL;
	*bench = bb;
	return bm;
}

/*
 * Pool the last K baseline runs of b's metric.  batches: pool their batch
 * means instead (core/batch.h); a run that has none (too few requests in
 * its window, an older document) contributes its repetitions' values, an
 * estimate of the same percentile.
 */
static void pool_history(struct pool *p, const struct baseline *base, const struct rd_bench *b,
			 const char *metric, bool batches)
{
	size_t k;
	double cutoff;

	if (!base)
		return;
	k = base->k ? base->k : BASELINE_DEFAULT_RUNS;
	cutoff = baseline_cutoff_for(base, b->name, metric);
	for (size_t i = 0; i < base->n_runs && p->n_runs < k; i++) {
		const struct baseline_run *run = &base->runs[i];
		const struct rd_bench *bb = NULL;
		const struct rd_metric *bm = history_metric(run, b, metric, cutoff, &bb);
		struct batch_info info;
		double *v = NULL;
		size_t n;

		if (!bm)
			continue;
		if (!batches) {
			pool_add(p, bm, run->doc->run_id, run->doc->git.commit);
			continue;
		}
		n = batch_samples(bb, metric, &v, &info);
		if (n == 0)
			pool_add(p, bm, run->doc->run_id, run->doc->git.commit);
		else
			pool_add_values(p, bm, v, n, run->doc->run_id, run->doc->git.commit);
		free(v);
	}
}

static bool bench_ok(const struct rd_bench *b)
{
	return b->status == RUNDOC_STATUS_OK;
}

/*
 * The reference benchmark `b` is compared with, or NULL when b is not a
 * non-reference A/B variant.  The suite says it best; without one, a name
 * "NAME@VARIANT" with extra.variant.reference marks, else the first variant.
 */
static const struct rd_bench *ab_reference(const struct rundoc *cur, const struct suite *suite,
					   const struct rd_bench *b)
{
	const struct suite_bench *sb = suite_find(suite, b->name);
	const char *at;
	size_t plen;
	const struct rd_bench *first = NULL, *marked = NULL;

	if (sb) {
		if (!sb->variant_of || sb->reference)
			return NULL;
		for (size_t i = 0; i < suite->n_benches; i++) {
			const struct suite_bench *o = &suite->benches[i];

			if (o->variant_of && o->reference && strcmp(o->variant_of, sb->variant_of) == 0)
				return rundoc_find_bench(cur, o->name);
		}
		return NULL;
	}
	at = strrchr(b->name, '@');
	if (!at)
		return NULL;
	plen = (size_t)(at - b->name) + 1;
	for (size_t i = 0; i < cur->n_benches; i++) {
		const struct rd_bench *o = &cur->benches[i];
		struct rundoc_variant v;

		if (strncmp(o->name, b->name, plen) != 0 || strchr(o->name + plen, '@'))
			continue;
		if (!first)
			first = o;
		if (rundoc_bench_variant(o, &v) && v.reference)
			marked = o;
	}
	if (marked)
		return marked == b ? NULL : marked;
	return first == b ? NULL : first;
}

void compare_add_note(struct compare_result *r, const char *fmt, ...)
{
	struct sb sb = SB_INIT;
	va_list ap;
	char buf[1024];

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	sb_puts(&sb, buf);
	r->notes = xrealloc(r->notes, (r->n_notes + 1) * sizeof(*r->notes));
	r->notes[r->n_notes++] = sb_detach(&sb);
}

/* The SLOs of a benchmark that failed: each listed, broken, not evaluated
 * (a failed run must not look as if it had none). */
static void unevaluated_slos(struct compare_result *r, const struct suite *suite, const struct rd_bench *b,
			     size_t *alloc)
{
	const struct suite_bench *sb = suite_find(suite, b->name);
	const cJSON *slos = sb && sb->raw ? cJSON_GetObjectItemCaseSensitive(sb->raw, "slo") : NULL;
	const cJSON *it;

	if (!cJSON_IsObject(slos))
		return;
	cJSON_ArrayForEach(it, slos) {
		struct compare_slo *o;

		if (!cJSON_IsString(it))
			continue;
		XGROW(r->slos, *alloc, r->n_slos + 1);
		o = &r->slos[r->n_slos++];
		memset(o, 0, sizeof(*o));
		o->bench = xstrdup(b->name);
		o->key = xstrdup(it->string);
		o->expr = xstrdup(it->valuestring);
		o->unit = xstrdup("1");
		o->ok = false;
		o->actual = NAN;
		o->why = xasprintf("%s: not evaluated (the benchmark %s)", it->string, rundoc_status_name(b->status));
	}
}

/* Add one SLO's result to r.  An SLO that cannot be judged because the
 * suite is wrong (a metric the benchmark does not have, a unit that does
 * not fit) goes to `bad` and the others are still judged, so that every
 * such mistake is listed at once; any other error is returned. */
static int eval_slo(struct compare_result *r, const struct rd_bench *b, const cJSON *it, size_t *alloc,
		    struct errlist *bad, struct err *err)
{
	struct slo s;
	struct slo_result res;
	struct compare_slo *o;
	const struct rd_metric *m;
	struct err e = ERR_INIT;
	int rc;

	if (!cJSON_IsString(it)) {
		errlist_add(bad, "benchmark '%s': slo '%s': expected a string such as \"< 250ms\"", b->name, it->string);
		return 0;
	}
	memset(&s, 0, sizeof(s));
	memset(&res, 0, sizeof(res));
	if ((rc = slo_parse(it->string, it->valuestring, &s, &e)) == 0)
		rc = slo_evaluate(&s, b, &res, &e);
	if (rc) {
		slo_release(&s);
		if (rc != ERR_INPUT) {
			*err = e;
			err_prefix(err, "benchmark '%s'", b->name);
			return rc;
		}
		errlist_add(bad, "benchmark '%s': %s", b->name, e.msg);
		return 0;
	}
	XGROW(r->slos, *alloc, r->n_slos + 1);
	o = &r->slos[r->n_slos++];
	memset(o, 0, sizeof(*o));
	o->bench = xstrdup(b->name);
	o->key = xstrdup(it->string);
	o->expr = xstrdup(it->valuestring);
	m = rundoc_bench_find_metric(b, it->string);
	if (!m)
		m = rundoc_bench_find_metric(b, s.metric);
	o->unit = xstrdup(m && m->unit ? m->unit : "1");
	if (s.stat && strcmp(s.stat, "count") == 0) {
		free(o->unit);
		o->unit = xstrdup("1");
	}
	o->ok = res.ok;
	o->actual = res.actual;
	o->why = xstrdup(res.why);
	slo_release(&s);
	return 0;
}

static int eval_slos(struct compare_result *r, const struct suite *suite, const struct rd_bench *b,
		     size_t *alloc, struct errlist *bad, struct err *err)
{
	const struct suite_bench *sb = suite_find(suite, b->name);
	const cJSON *slos = sb && sb->raw ? cJSON_GetObjectItemCaseSensitive(sb->raw, "slo") : NULL;
	const cJSON *it;
	int rc;

	if (!cJSON_IsObject(slos))
		return 0;
	cJSON_ArrayForEach(it, slos)
		if ((rc = eval_slo(r, b, it, alloc, bad, err)) != 0)
			return rc;
	return 0;
}

/* Every SLO mistake of the suite in one message, one per line. */
static int slo_mistakes(const struct errlist *bad, struct err *err)
{
	struct sb msg = SB_INIT;
	int rc;

	if (bad->n == 1)
		return err_set(err, ERR_INPUT, "%s", bad->msgs[0]);
	sb_printf(&msg, "%zu SLOs cannot be judged:", bad->n);
	for (size_t i = 0; i < bad->n; i++)
		sb_printf(&msg, "\n  %s", bad->msgs[i]);
	rc = err_set(err, ERR_INPUT, "%s", msg.buf);
	free(msg.buf);
	return rc;
}

/* How a row's samples are to be compared beyond the settings. */
struct row_how {
	const double *cur;            /* the current samples (m's, or its batch means) */
	size_t n_cur;
	bool paired;                  /* A/B variants measured interleaved, pair by pair */
	bool batches;
	double prior;                 /* history rows: a short history's prior spread */
	bool prior_machine;           /* ...the machine's recorded spread, not the default */
	double machine_jump;          /* history rows: the machine's recorded run-to-run change */
	double abs_floor;             /* the metric's resolution */
};

static void fill_row(struct compare_row *row, const struct rd_bench *b, const struct rd_metric *m,
		     const struct verdict_settings *cs, const struct pool *p, const struct row_how *how)
{
	struct verdict_input in = {
		.base = p->samples, .n_base = p->n, .base_run_medians = p->medians, .n_runs = p->n_runs,
		.cur = how->cur, .n_cur = how->n_cur, .direction = m->direction, .settings = *cs,
		.paired = how->paired, .prior = how->prior, .prior_machine = how->prior_machine,
		.machine_jump = how->machine_jump, .abs_floor = how->abs_floor,
		.batches = how->batches,
	};

	row->bench = xstrdup(b->name);
	row->metric = xstrdup(m->name);
	row->unit = xstrdup(m->unit ? m->unit : "1");
	row->settings = *cs;
	verdict_measure(&in, &row->v);
	row->base_runs = strv_dup(p->runs, p->n_runs);
	row->base_commits = strv_dup(p->commits, p->n_runs);
	row->n_base_runs = p->n_runs;
}

/* The smallest n with 1/C(n_base + n, n) <= alpha: repetitions a rank test
 * needs before it can reach alpha at all (0 when over 1000). */
static size_t reps_to_test(size_t n_base, double alpha)
{
	for (size_t n = 1; n <= 1000; n++)
		if (stats_mwu_p_min(n_base ? n_base : n, n) <= alpha)
			return n;
	return 0;
}

/* The detectable-effect formula's input for a history row as it stands. */
static struct stats_mde_input mde_input(const struct verdict *v, size_t family)
{
	return (struct stats_mde_input){
		.s_between = v->spread, .s_within = v->s_within, .k_runs = v->n_runs ? v->n_runs : 1,
		.n_cur = v->n_cur, .n_base = v->n_base, .alpha = v->level / (double)(family ? family : 1),
		.power = VERDICT_MDE_POWER, .floor = v->floor, .paired = v->test == VERDICT_TEST_SIGNED_RANK,
	};
}

/* Repetitions at which the detectable effect falls to VERDICT_MDE_FLAG
 * (0: none up to 1,000, the spread between runs rules): in this run alone,
 * else (*with_base set) in the baseline's runs as well, each of its k runs
 * measured as many times, as the next runs of the history will be. */
static size_t reps_for_mde(const struct verdict *v, size_t family, bool *with_base)
{
	struct stats_mde_input in = mde_input(v, family);

	*with_base = false;
	for (size_t n = v->n_cur + 1; n <= 1000; n += n / 4 + 1) {
		in.n_cur = n;
		if (stats_mde(&in) <= VERDICT_MDE_FLAG)
			return n;
	}
	for (size_t n = v->n_cur + 1; n <= 1000; n += n / 4 + 1) {
		in.n_cur = n;
		in.n_base = in.k_runs * n;
		if (stats_mde(&in) <= VERDICT_MDE_FLAG) {
			*with_base = true;
			return n;
		}
	}
	return 0;
}

/* Does the spread between runs (with the floor it sets) alone hold the
 * detectable effect over the flag, with no noise within a run left? */
static bool spread_binds(const struct verdict *v, size_t family)
{
	struct stats_mde_input in = mde_input(v, family);

	in.s_within = 0;
	in.n_cur = 1000;
	return stats_mde(&in) > VERDICT_MDE_FLAG;
}

/* The median of one metric of b in this run, or NAN when b lacks it. */
static double bench_median(const struct rd_bench *b, const char *metric)
{
	const struct rd_metric *m = rundoc_bench_find_metric(b, metric);

	return m ? summary_median(m->samples, m->n_samples) : NAN;
}

/*
 * A calibration that computes, beside a command that mostly waits (a sleep,
 * a server's answer, a disk): the calibration slows down with the machine
 * and the waiting does not, so dividing by it adds its noise to a time that
 * had none (docs/statistics.md, "Calibration "auto"").  Said on the
 * wall_rel row whatever the row detects: the calibration does not fit.
 * The calibration's CPU time is cpu / cpu_rel.
 */
static char *waiting_hint(const struct compare_row *row, const struct rd_bench *b)
{
	double wall, cpu, cal_wall, cal_cpu, share, cal_share;

	if (b->kind != RUNDOC_KIND_COMMAND || strcmp(row->metric, "wall_rel") != 0)
		return NULL;
	wall = bench_median(b, "wall");
	cpu = bench_median(b, "cpu");
	cal_wall = bench_median(b, "calibration_wall");
	cal_cpu = cpu / bench_median(b, "cpu_rel");
	if (!(wall > 0 && cal_wall > 0))
		return NULL;
	share = cpu / wall;
	cal_share = cal_cpu / cal_wall;
	if (!(share < WAIT_CPU_BOUND) || !(cal_share >= WAIT_CPU_BOUND))
		return NULL;
	return xasprintf("benchmark '%s' computed for only %.0f%% of its wall time, its calibration for %.0f%%: "
			 "the calibration slows down with the machine as waiting does not, and dividing by it adds "
			 "its noise; remove \"calibration\", or give one that waits as the benchmark does",
			 b->name, share * 100, fmin(cal_share, 1) * 100);
}

/* What measures in one job what a history measures across jobs: a command
 * beside its base commit (`gate --base`), else interleaved variants. */
static const char *same_job_fix(const struct rd_bench *b)
{
	return b->kind == RUNDOC_KIND_COMMAND ? "gate the change beside its base commit in one job (perfgate gate "
						"--base REF)"
					      : "gate interleaved A/B variants in one job";
}

/* Where a benchmark's repetitions are set: a load test's "load" object's
 * `repetitions` wins over the benchmark's own (docs/load.md), so a hint
 * names that one. */
static const char *reps_in(const struct rd_bench *b)
{
	return b->kind == RUNDOC_KIND_HTTP ? "in the \"load\" of benchmark" : "in benchmark";
}

/*
 * What would help a gated history row that cannot be tested, or cannot see
 * changes under VERDICT_MDE_FLAG, named as the exact setting and a number;
 * first, a calibration that does not fit the command (waiting_hint).
 * per_rep: samples one repetition gives (batch means: several).
 */
static char *row_hint(const struct compare_row *row, const struct rd_bench *b, size_t family,
		      bool calibrated, double per_rep, bool *always)
{
	const struct verdict *v = &row->v;
	double reps_now = v->n_cur / per_rep, between, within;
	bool with_base;
	char *hint;
	size_t n;

	if (!row->settings.gate || row->against || v->kind == VERDICT_NO_BASELINE || v->n_cur == 0)
		return NULL;
	if (calibrated && (hint = waiting_hint(row, b))) {
		*always = true;
		return hint;
	}
	if (v->kind == VERDICT_INSUFFICIENT) {
		n = reps_to_test(v->n_base, v->level);
		return n ? xasprintf("set \"repetitions\": %zu %s '%s' (now %.0f): with fewer the test "
				     "can never reach p <= %g", n, reps_in(b), b->name, reps_now, v->level)
			 : NULL;
	}
	if (!(v->mde > VERDICT_MDE_FLAG))
		return NULL;
	if (v->short_history && v->prior_machine)
		return xasprintf("the history is too short to know its own spread: the floor is 3 x %.0f%% (the spread "
				 "between runs this machine recorded for the metric, pooled with the history's) until "
				 "%d baseline runs are stored", v->spread * 100, NOISE_PRIOR_RUNS);
	if (v->short_history)
		return xasprintf("the history is too short to know its spread: the floor is a prior until %d baseline "
				 "runs are stored, then it comes from them", NOISE_PRIOR_RUNS);
	if (v->floor_source == NOISE_FLOOR_MACHINE) {
		if (b->kind == RUNDOC_KIND_COMMAND && !calibrated &&
		    (strcmp(row->metric, "wall") == 0 || strcmp(row->metric, "cpu") == 0))
			return xasprintf("set \"calibration\": \"auto\" in benchmark '%s': %.0f%% of this machine's "
					 "recorded changes from one run to the next are %.0f%% or more, with the machine's "
					 "speed, which a calibration divides out", b->name, (1 - NOISE_MACHINE_QUANTILE) * 100,
					 v->floor * 100);
		return xasprintf("%.0f%% of this machine's recorded changes from one run to the next are %.0f%% or "
				 "more: %s, or gate on a quieter machine", (1 - NOISE_MACHINE_QUANTILE) * 100,
				 v->floor * 100, same_job_fix(b));
	}
	between = v->spread * v->spread * (1 + 1.0 / (double)(v->n_runs ? v->n_runs : 1));
	within = isfinite(v->s_within) ? v->s_within * v->s_within / (double)v->n_cur : 0;
	/* Noise within this run dominates: more repetitions, when some number
	 * of them brings the row under the flag; otherwise, when the spread
	 * between runs holds it over the flag whatever the repetitions, what
	 * takes that spread away (below). */
	if (between < within) {
		if ((n = reps_for_mde(v, family, &with_base)) != 0)
			return xasprintf("set \"repetitions\": %.0f %s '%s' (now %.0f) to catch changes of %.0f%%%s",
					 ceil((double)n / per_rep), reps_in(b), b->name, reps_now,
					 VERDICT_MDE_FLAG * 100,
					 with_base ? " once the baseline's runs are measured as many times" : "");
		if (!spread_binds(v, family))
			return NULL;
	}
	if (b->kind == RUNDOC_KIND_COMMAND && !calibrated)
		return xasprintf("set \"calibration\": \"auto\" in benchmark '%s': its runs differ by %.0f%% "
				 "with the machine's speed, which a calibration divides out", b->name, v->spread * 100);
	return xasprintf("its runs differ by %.0f%% between themselves: %s instead, or set \"min_effect\" "
			 "above %.0f%%", v->spread * 100, same_job_fix(b), v->mde * 100);
}

/* verdict_decide_at over rows [from, to) of r. */
static void decide(struct compare_result *r, size_t from, size_t to, double share)
{
	size_t n = to - from;
	struct verdict *v;
	struct verdict_settings *cs;

	if (n == 0)
		return;
	v = xcalloc(n, sizeof(*v));
	cs = xcalloc(n, sizeof(*cs));
	for (size_t i = 0; i < n; i++) {
		v[i] = r->rows[from + i].v;
		cs[i] = r->rows[from + i].settings;
	}
	verdict_decide_at(v, n, cs, share);
	for (size_t i = 0; i < n; i++)
		r->rows[from + i].v = v[i];
	free(v);
	free(cs);
}

/* The row of `metric` beside `like` (same benchmark, same A/B reference or
 * the same history), in rows [from, to). */
static const struct compare_row *sibling(const struct compare_result *r, size_t from, size_t to,
					 const struct compare_row *like, const char *metric)
{
	for (size_t i = from; i < to; i++) {
		const struct compare_row *row = &r->rows[i];

		if (strcmp(row->bench, like->bench) == 0 && strcmp(row->metric, metric) == 0 &&
		    (row->against == NULL) == (like->against == NULL) &&
		    (!row->against || strcmp(row->against, like->against) == 0))
			return row;
	}
	return NULL;
}

/* The fastest repetition's wall time of `bench` in d, or m if faster. */
static double fastest_wall(const struct rundoc *d, const char *bench, double m)
{
	const struct rd_bench *b = d && bench ? rundoc_find_bench(d, bench) : NULL;
	const struct rd_metric *w = b ? rundoc_bench_find_metric(b, "wall") : NULL;

	for (size_t i = 0; w && i < w->n_samples; i++)
		if (w->samples[i] > 0)
			m = fmin(m, w->samples[i]);
	return m;
}

/*
 * A command that waited longer, without computing more, is not failed on
 * its wall time when it is CPU-bound (docs/statistics.md, "Waiting is not
 * computing"): a `wall` regression whose `cpu` (the kernel's exact CPU time
 * of the same repetitions) is not a regression and rose less than half as
 * much, in a benchmark whose CPU time is at least half of its fastest
 * repetition's wall time (the fastest: a loaded machine inflates every
 * other, the baseline's median included), becomes inconclusive.  On a
 * shared machine that is waiting for a CPU: end to end (docs/performance.md,
 * "Gate trust end to end"), 20 of 23 A/A gates that failed on a loaded
 * 2-core machine failed on wall alone, with cpu unchanged; a slower
 * CPU-bound command raises cpu too and still fails.  Rows [from, to) of
 * one family; the wall samples come from cur and the baseline's runs.
 */
static size_t waiting_is_not_computing(struct compare_result *r, size_t from, size_t to,
				       const struct rundoc *cur, const struct baseline *base)
{
	size_t changed = 0;

	for (size_t i = from; i < to; i++) {
		struct compare_row *row = &r->rows[i];
		const struct compare_row *cpu;
		enum verdict_kind k;
		double fast = INFINITY, w_eff, c_eff;

		if (strcmp(row->metric, "wall") != 0 || !row->settings.gate || row->against ||
		    row->v.kind != VERDICT_REGRESSION)
			continue;
		cpu = sibling(r, from, to, row, "cpu");
		if (!cpu || cpu->v.n_cur == 0 || cpu->v.n_base == 0 || cpu->v.ratio_is_shift || row->v.ratio_is_shift)
			continue;
		k = cpu->v.kind;
		if (k == VERDICT_REGRESSION || k == VERDICT_INSUFFICIENT || k == VERDICT_NO_BASELINE)
			continue;
		w_eff = verdict_worse_effect(&row->v);
		c_eff = verdict_worse_effect(&cpu->v);
		if (!(c_eff < WAIT_CPU_SHARE * w_eff))
			continue;
		fast = fastest_wall(cur, row->bench, fast);
		if (row->against)
			fast = fastest_wall(cur, row->against, fast);
		for (size_t j = 0; !row->against && base && j < base->n_runs; j++)
			if (base->runs[j].doc && base->runs[j].doc->run_id &&
			    strv_has(row->base_runs, row->n_base_runs, base->runs[j].doc->run_id))
				fast = fastest_wall(base->runs[j].doc, row->bench, fast);
		if (!isfinite(fast) || !(cpu->v.base_median >= WAIT_CPU_BOUND * fast) || !(row->v.base_median > 0) ||
		    cpu->v.base_median > WAIT_CPU_SERIAL * row->v.base_median)
			continue;
		row->v.kind = VERDICT_INCONCLUSIVE;
		snprintf(row->v.why, sizeof(row->v.why),
			 "%+.1f%% (adjusted p %.2g), but cpu %+.1f%% (%s): the command waited longer (for a CPU on a "
			 "loaded machine, or for I/O, a sleep, a lock) without computing more; cpu decides for a "
			 "CPU-bound command (cpu %.0f%% of its fastest wall time)",
			 (row->v.ratio - 1) * 100, row->v.p_adj, (cpu->v.ratio - 1) * 100, verdict_name(k),
			 cpu->v.base_median / fast * 100);
		changed++;
	}
	return changed;
}

static void fill_baseline_info(struct compare_result *r, const struct baseline *base)
{
	size_t alloc_c = 0;
	char **runs = NULL;
	size_t n_runs = 0, alloc_r = 0;

	r->base_mode = xstrdup(baseline_mode_name(base ? base->mode : BASELINE_NONE));
	if (base) {
		r->base_branch = base->branch ? xstrdup(base->branch) : NULL;
		r->base_anchor = base->anchor ? xstrdup(base->anchor) : NULL;
		r->base_why = base->why ? xstrdup(base->why) : NULL;
		for (size_t i = 0; i < base->notes.n; i++)
			compare_add_note(r, "%s", base->notes.msgs[i]);
	}
	/* Distinct runs and commits actually used, in the baseline's order of preference. */
	for (size_t i = 0; base && i < base->n_runs; i++) {
		const struct rundoc *d = base->runs[i].doc;
		bool used = false;

		for (size_t j = 0; j < r->n_rows && !used; j++)
			if (!r->rows[j].against && strv_has(r->rows[j].base_runs, r->rows[j].n_base_runs, d->run_id))
				used = true;
		if (!used)
			continue;
		if (!strv_has(runs, n_runs, d->run_id)) {
			XGROW(runs, alloc_r, n_runs + 1);
			runs[n_runs++] = d->run_id;
		}
		if (d->git.commit && !strv_has(r->base_commits, r->n_base_commits, d->git.commit)) {
			XGROW(r->base_commits, alloc_c, r->n_base_commits + 1);
			r->base_commits[r->n_base_commits++] = xstrdup(d->git.commit);
		}
	}
	r->base_runs = n_runs;
	free(runs);
	for (size_t j = 0; j < r->n_rows; j++)
		if (!r->rows[j].against && r->rows[j].v.n_base > r->base_samples)
			r->base_samples = r->rows[j].v.n_base;
}

/* One history row: the metric against its baseline runs, as batch means
 * where a load benchmark has them on both sides. */
static void history_row(struct compare_result *r, size_t *alloc, const struct rd_bench *b,
			const struct rd_metric *m, const struct verdict_settings *cs, const struct baseline *base)
{
	const struct noise_rule *rule = noise_rule_for(m->name, m->unit);
	struct row_how how = { .cur = m->samples, .n_cur = m->n_samples, .prior = rule->prior,
			       .abs_floor = rule->abs_floor };
	struct batch_info info;
	struct pool p;
	double *bv = NULL, machine, jump;
	size_t nb = 0;

	/* A metric with a prior takes the machine's own recorded spread
	 * instead where the machine has one and it is wider: a machine that
	 * moves more than the default assumes widens a short history's floor;
	 * a quieter one does not narrow it (end to end, a 2.5% record gave a
	 * 7.5% floor that an unchanged commit's +8% p95 crossed at a one-run
	 * history; docs/statistics.md).  At every history length the floor
	 * also clears the machine's recorded changes from one run to the next
	 * (NOISE_MACHINE_QUANTILE of them): a few runs that agreed say nothing
	 * about a machine whose runs move in jumps. */
	machine = rule->prior > 0 ? baseline_machine_spread(base, r->project, r->suite, b->name, m->name, NULL) : NAN;
	if (isfinite(machine) && machine > rule->prior) {
		how.prior = machine;
		how.prior_machine = true;
	}
	jump = rule->prior > 0 ? baseline_machine_jump(base, m->name, NOISE_MACHINE_QUANTILE, NULL) : NAN;
	how.machine_jump = isfinite(jump) ? expm1(jump) : NAN;
	memset(&p, 0, sizeof(p));
	if (b->kind == RUNDOC_KIND_HTTP && batch_has(m->name))
		nb = batch_samples(b, m->name, &bv, &info);
	pool_history(&p, base, b, m->name, nb > 0);
	if (nb) {
		how.cur = bv;
		how.n_cur = nb;
		how.batches = true;
	}
	fill_row(add_row(r, alloc), b, m, cs, &p, &how);
	free(bv);
	pool_release(&p);
}

/* Rows that took part in their family's adjustment (verdict.c in_family). */
static size_t family_size(const struct compare_result *r, size_t from, size_t to, bool gating)
{
	size_t k = 0;

	for (size_t i = from; i < to; i++) {
		const struct compare_row *row = &r->rows[i];

		k += row->settings.gate == gating && row->v.kind != VERDICT_NO_BASELINE &&
		     row->v.kind != VERDICT_INSUFFICIENT && row->v.test != VERDICT_TEST_EXACT;
	}
	return k;
}

/* A hint on each history row that needs one (row_hint). */
static void add_hints(struct compare_result *r, const struct rundoc *cur, size_t n_hist)
{
	size_t fam = family_size(r, 0, n_hist, true);

	for (size_t i = 0; i < n_hist; i++) {
		struct compare_row *row = &r->rows[i];
		const struct rd_bench *b = rundoc_find_bench(cur, row->bench);
		const struct rd_metric *m = b ? rundoc_bench_find_metric(b, row->metric) : NULL;

		if (!m || !m->n_samples)
			continue;
		row->hint = row_hint(row, b, fam, rundoc_bench_find_metric(b, "wall_rel") != NULL,
				     (double)row->v.n_cur / (double)m->n_samples, &row->hint_always);
	}
}

/* `gate --base`: a pair too short for the paired test ever to reach its
 * level gets the key and the number that would make it testable (the
 * one-sided signed-rank p of n concordant pairs is 2^-n at best). */
static void pair_hints(struct compare_result *r, const struct rundoc *cur, size_t from)
{
	for (size_t i = from; i < r->n_rows && compare_ab_gated(r); i++) {
		struct compare_row *row = &r->rows[i];
		const struct rd_bench *b = rundoc_find_bench(cur, row->bench);
		struct rundoc_variant v;
		size_t need;

		if (!row->settings.gate || row->v.kind != VERDICT_INSUFFICIENT || row->hint || !b ||
		    !rundoc_bench_variant(b, &v) || !v.of || !(row->v.level > 0))
			continue;
		need = headbase_min_pairs(row->v.level);
		if (row->v.n_cur < need)
			row->hint = xasprintf("set \"repetitions\": %zu in benchmark '%s' (now %zu): with fewer pairs the "
					      "paired test can never reach p <= %g", need, v.of, row->v.n_cur, row->v.level);
		else /* enough pairs, but too many of them without a difference */
			row->hint = xasprintf("too many of its %zu pairs show no difference at all (a value "
					      "that does not move, as a time at 0), and those are left out: more "
					      "repetitions in benchmark '%s' give more pairs that differ, or track "
					      "it (\"gate\": false)", row->v.n_cur, v.of);
	}
}

/* Benchmarks that did not run to the end: said loudly, and a failed one
 * makes the run invalid, except a base side that failed where its head ran
 * when the benchmark is new or changed in the change (`gate --base`). */
static void not_compared(struct compare_result *r, const struct rundoc *cur, const struct compare_against_base *ab)
{
	for (size_t i = 0; i < cur->n_benches; i++) {
		const struct rd_bench *b = &cur->benches[i];
		struct rundoc_variant v;

		if (bench_ok(b))
			continue;
		if (compare_ab_gated(r) && headbase_changed_failed_on_base(ab, cur, b) &&
		    rundoc_bench_variant(b, &v)) {
			compare_add_note(r, "benchmark '%s' failed on the base commit (%s): not compared; the base "
					 "commit's suite %s", v.of, b->error ? b->error : "failed",
					 HEADBASE_CHANGED_WHY);
			continue;
		}
		if (compare_ab_gated(r) && headbase_failed_on_base(cur, b) && rundoc_bench_variant(b, &v))
			compare_add_note(r, "benchmark '%s' failed on the base commit (%s) while its head ran, and the "
					 "base commit's suite defines it the same way: not compared; %s", v.of,
					 b->error ? b->error : "failed", HEADBASE_BASE_LACKS);
		else
			compare_add_note(r, "benchmark '%s' %s%s%s: not compared", b->name,
					 rundoc_status_name(b->status), b->error ? ": " : "", b->error ? b->error : "");
		if (b->status == RUNDOC_STATUS_FAILED) {
			r->failed_benches = xrealloc(r->failed_benches,
						     (r->n_failed_benches + 1) * sizeof(*r->failed_benches));
			r->failed_benches[r->n_failed_benches++] = xstrdup(b->name);
		}
	}
}

/* One row per benchmark and metric against the baseline's history. */
static int history_rows(struct compare_result *r, size_t *alloc, const struct rundoc *cur,
			const struct baseline *base, const struct suite *suite, struct err *err)
{
	for (size_t i = 0; i < cur->n_benches; i++) {
		const struct rd_bench *b = &cur->benches[i];

		if (!bench_ok(b))
			continue; /* said by not_compared() */
		for (size_t j = 0; j < b->n_metrics; j++) {
			const struct rd_metric *m = &b->metrics[j];
			struct verdict_settings cs;
			int rc;

			if (m->n_samples == 0)
				continue;
			if ((rc = compare_settings_for(suite, b->name, m, &cs, err)) != 0)
				return rc;
			history_row(r, alloc, b, m, &cs, base);
		}
	}
	return 0;
}

/* A peak memory that is perfgate's own (core/runner_cmd.c) says nothing
 * about either variant. */
static bool own_values(const struct rd_metric *m)
{
	return strcmp(m->name, "max_rss") == 0 && rundoc_metric_tracked(m);
}

/* A/B rows: each non-reference variant against its reference, same run,
 * pair by pair when they ran interleaved. */
static int ab_rows(struct compare_result *r, size_t *alloc, const struct rundoc *cur,
		   const struct suite *suite, struct err *err)
{
	for (size_t i = 0; i < cur->n_benches; i++) {
		const struct rd_bench *b = &cur->benches[i];
		const struct rd_bench *ref;

		if (!bench_ok(b))
			continue;
		ref = ab_reference(cur, suite, b);
		if (!ref || !bench_ok(ref))
			continue;
		for (size_t j = 0; j < b->n_metrics; j++) {
			const struct rd_metric *m = &b->metrics[j];
			const struct rd_metric *rm = rundoc_bench_find_metric(ref, m->name);
			const struct noise_rule *rule = noise_rule_for(m->name, m->unit);
			struct row_how how = { .cur = m->samples, .n_cur = m->n_samples, .abs_floor = rule->abs_floor };
			struct verdict_settings cs;
			struct compare_row *row;
			struct pool p;
			int rc;

			if (!rm || m->n_samples == 0 || rm->n_samples == 0 || own_values(m) || own_values(rm))
				continue;
			if ((rc = compare_settings_for(suite, b->name, m, &cs, err)) != 0)
				return rc;
			/* An experiment is reported, never gated (compare_row_fails
			 * skips rows with `against`): see docs/gate.md "A/B
			 * variants".  The metric's own gate setting still picks its
			 * Benjamini-Hochberg family, as in history rows, so that the
			 * tracked metrics (user, sys) do not dilute wall and cpu. */
			/* Pairs when both ran interleaved and no repetition is missing. */
			how.paired = rundoc_bench_interleaved(b) && rundoc_bench_interleaved(ref) &&
				     m->n_samples == rm->n_samples;
			memset(&p, 0, sizeof(p));
			pool_add(&p, rm, cur->run_id, cur->git.commit);
			row = add_row(r, alloc);
			fill_row(row, b, m, &cs, &p, &how);
			row->against = xstrdup(ref->name);
			pool_release(&p);
		}
	}
	return 0;
}

int compare_run(const struct rundoc *cur, const struct baseline *base, const struct suite *suite,
		const struct compare_options *opts, struct compare_result **out, struct err *err)
{
	struct compare_options dflt = COMPARE_OPTIONS_INIT;
	struct compare_result *r = xcalloc(1, sizeof(*r));
	size_t alloc_rows = 0, alloc_slos = 0, n_hist;
	struct errlist bad = ERRLIST_INIT; /* SLOs the suite got wrong */
	int rc = 0;

	if (!opts)
		opts = &dflt;
	*out = NULL;
	r->run_id = xstrdup(cur->run_id ? cur->run_id : "");
	r->project = cur->project ? xstrdup(cur->project) : NULL;
	r->suite = xstrdup(cur->suite ? cur->suite : "");
	r->commit = cur->git.commit ? xstrdup(cur->git.commit) : NULL;
	r->dirty = cur->git.dirty;
	r->branch = cur->git.branch ? xstrdup(cur->git.branch) : NULL;
	r->strict = opts->strict;
	r->geomean = NAN;
	r->looks = 1;
	if (opts->against_base && opts->against_base->ref) {
		r->against_base.ref = xstrdup(opts->against_base->ref);
		r->against_base.commit = opts->against_base->commit ? xstrdup(opts->against_base->commit) : NULL;
		r->against_base.merge_base = opts->against_base->merge_base;
	}

	not_compared(r, cur, opts->against_base);
	/* History and A/B rows are two Benjamini-Hochberg families. */
	if (!opts->variants_only && (rc = history_rows(r, &alloc_rows, cur, base, suite, err)) != 0)
		goto done;
	n_hist = r->n_rows;
	decide(r, 0, n_hist, opts->level_share);
	waiting_is_not_computing(r, 0, n_hist, cur, base);
	add_hints(r, cur, n_hist);
	if ((rc = ab_rows(r, &alloc_rows, cur, suite, err)) != 0)
		goto done;
	decide(r, n_hist, r->n_rows, opts->level_share);
	waiting_is_not_computing(r, n_hist, r->n_rows, cur, base);
	pair_hints(r, cur, n_hist);

	/* SLOs: absolute checks of this run; every mistake listed at once. */
	for (size_t i = 0; i < cur->n_benches && suite; i++) {
		const struct rd_bench *b = &cur->benches[i];

		if (b->status == RUNDOC_STATUS_FAILED)
			unevaluated_slos(r, suite, b, &alloc_slos);
		else if (bench_ok(b) && (rc = eval_slos(r, suite, b, &alloc_slos, &bad, err)) != 0)
			goto done;
	}
	if (bad.n && (rc = slo_mistakes(&bad, err)) != 0)
		goto done;
	fill_baseline_info(r, base);
	compare_finish(r);
done:
	errlist_release(&bad);
	if (rc) {
		compare_result_free(r);
		return rc;
	}
	*out = r;
	return 0;
}

bool compare_row_gates(const struct compare_result *r, const struct compare_row *row)
{
	return row->settings.gate && (!row->against || compare_ab_gated(r));
}

bool compare_ab_gated(const struct compare_result *r)
{
	return r->against_base.ref != NULL;
}

bool compare_row_fails(const struct compare_result *r, const struct compare_row *row)
{
	if ((row->against && !compare_ab_gated(r)) || !row->settings.gate)
		return false;
	if (row->v.kind == VERDICT_REGRESSION)
		return true;
	return r->strict && (row->v.kind == VERDICT_INCONCLUSIVE || row->v.kind == VERDICT_INSUFFICIENT);
}

void compare_finish(struct compare_result *r)
{
	double sum = 0;
	bool fail = false;

	memset(r->counts, 0, sizeof(r->counts));
	r->slo_failed = 0;
	r->geomean_n = 0;
	for (size_t i = 0; i < r->n_rows; i++) {
		const struct compare_row *row = &r->rows[i];
		double ratio = row->v.ratio;

		if (row->against && !compare_ab_gated(r))
			continue;
		if (row->settings.gate && row->v.kind <= VERDICT_NO_BASELINE)
			r->counts[row->v.kind]++;
		if (compare_row_fails(r, row))
			fail = true;
		if (row->v.kind != VERDICT_NO_BASELINE && !row->v.ratio_is_shift && isfinite(ratio) &&
		    ratio > 0) {
			sum += row->v.direction == RD_HIGHER ? -log(ratio) : log(ratio);
			r->geomean_n++;
		}
	}
	for (size_t i = 0; i < r->n_slos; i++)
		if (!r->slos[i].ok)
			r->slo_failed++;
	r->geomean = r->geomean_n ? exp(sum / (double)r->geomean_n) : NAN;
	/* a run with a failed benchmark never passes (the gate exits 3 on it) */
	r->passed = !fail && r->slo_failed == 0 && r->n_failed_benches == 0;
}

bool compare_row_under_floor(const struct compare_result *r, const struct compare_row *row)
{
	return compare_row_gates(r, row) && !row->against && row->v.kind == VERDICT_BELOW_FLOOR &&
	       row->v.p_adj <= row->v.level && verdict_worse_effect(&row->v) >= log1p(row->settings.min_effect);
}

bool compare_row_blind(const struct compare_result *r, const struct compare_row *row)
{
	return compare_row_gates(r, row) && !row->against && row->v.kind != VERDICT_REGRESSION &&
	       row->v.mde > VERDICT_MDE_FLAG && row->v.mde_paired <= VERDICT_MDE_FLAG;
}

bool compare_bench_blind_only(const struct compare_result *r, const char *bench)
{
	bool blind = false;

	for (size_t i = 0; i < r->n_rows; i++) {
		const struct compare_row *row = &r->rows[i];

		if (strcmp(row->bench, bench) != 0 || !compare_row_gates(r, row) || row->against)
			continue;
		if (row->v.kind == VERDICT_REGRESSION || compare_row_under_floor(r, row))
			return false;
		blind = blind || compare_row_blind(r, row);
	}
	return blind;
}

/* The benchmarks of the gated history rows that are regressions (and,
 * with to_confirm, worse under the floor or blind), each named once. */
static size_t benches_of(const struct compare_result *r, bool to_confirm, const char ***out)
{
	const char **v = NULL;
	size_t n = 0, alloc = 0;

	for (size_t i = 0; i < r->n_rows; i++) {
		const struct compare_row *row = &r->rows[i];
		bool seen = false;

		if (!compare_row_gates(r, row) ||
		    !(row->v.kind == VERDICT_REGRESSION ||
		      (to_confirm && (compare_row_under_floor(r, row) || compare_row_blind(r, row)))))
			continue;
		for (size_t j = 0; j < n && !seen; j++)
			seen = strcmp(v[j], row->bench) == 0;
		if (seen)
			continue;
		XGROW(v, alloc, n + 1);
		v[n++] = row->bench;
	}
	*out = v;
	return n;
}

size_t compare_regressed_benches(const struct compare_result *r, const char ***out)
{
	return benches_of(r, false, out);
}

size_t compare_base_confirm_benches(const struct compare_result *r, const char ***out)
{
	return benches_of(r, true, out);
}

static bool same_row(const struct compare_row *a, const struct compare_row *b)
{
	return strcmp(a->bench, b->bench) == 0 && strcmp(a->metric, b->metric) == 0 &&
	       (a->against ? b->against && strcmp(a->against, b->against) == 0 : !b->against);
}

static const struct compare_row *find_row(const struct compare_result *r, const struct compare_row *like)
{
	for (size_t i = 0; i < r->n_rows; i++)
		if (same_row(&r->rows[i], like))
			return &r->rows[i];
	return NULL;
}

size_t compare_require_replication(struct compare_result *pooled, const struct compare_result *again)
{
	size_t changed = 0;

	for (size_t i = 0; i < pooled->n_rows; i++) {
		struct compare_row *row = &pooled->rows[i];
		const struct compare_row *a;
		double w;

		if (row->against || !row->settings.gate || row->v.kind != VERDICT_REGRESSION)
			continue;
		a = find_row(again, row);
		if (!a || a->v.kind == VERDICT_NO_BASELINE || a->v.n_cur == 0)
			continue;
		w = verdict_worse_effect(&a->v);
		if (w >= log1p(row->v.floor))
			continue;
		row->v.kind = VERDICT_INCONCLUSIVE;
		snprintf(row->v.why, sizeof(row->v.why),
			 "%+.1f%% on all %zu samples (adjusted p %.2g), but the %zu measured again alone show %+.1f%%, "
			 "inside the %.1f%% floor: not replicated, a disturbance of the first measurement?",
			 (row->v.ratio_is_shift ? row->v.median_change : row->v.ratio - 1) * 100, row->v.n_cur,
			 row->v.p_adj, a->v.n_cur, (a->v.ratio_is_shift ? a->v.median_change : a->v.ratio - 1) * 100,
			 row->v.floor * 100);
		changed++;
	}
	if (changed)
		compare_finish(pooled);
	return changed;
}

/* "+12.0% [+8.1%, +16.2%]", or for a difference "+3 B [+1, +5]". */
static void change_with_ci(const struct compare_row *row, char *buf, size_t len)
{
	const struct verdict *v = &row->v;

	if (v->ratio_is_shift)
		snprintf(buf, len, "%+g %s [%+g, %+g]", v->ratio, row->unit, v->ratio_lo, v->ratio_hi);
	else
		snprintf(buf, len, "%+.1f%% [%+.1f%%, %+.1f%%]", (v->ratio - 1) * 100, (v->ratio_lo - 1) * 100,
			 (v->ratio_hi - 1) * 100);
}

/*
 * Can a pair row judge a history regression?  Not without pairs.  Pairs
 * too few for the test (insufficient-data) judge it only when they show
 * less than the floor: a load test's rates and percentiles move in steps,
 * so pairs of an unchanged server tie, and tied pairs, dropped from the
 * test, leave it too few: no difference is what they measured.  Pairs
 * that show the change but cannot test it judge nothing.
 */
static bool pairs_judge(const struct compare_row *p)
{
	if (p->v.n_cur == 0 || p->v.kind == VERDICT_NO_BASELINE)
		return false;
	if (p->v.kind != VERDICT_INSUFFICIENT)
		return true;
	return verdict_worse_effect(&p->v) < log1p(p->v.floor);
}

/* The pair row that judges a history row: the same metric of NAME@head
 * against NAME@base; NULL when there is none. */
static const struct compare_row *pair_row_of(const struct compare_result *pairs, const struct compare_row *row)
{
	struct compare_row like = { 0 };
	const struct compare_row *p;

	like.bench = xasprintf("%s@head", row->bench);
	like.against = xasprintf("%s@base", row->bench);
	like.metric = row->metric;
	p = find_row(pairs, &like);
	free(like.bench);
	free(like.against);
	return p;
}

/* A blind row (compare_row_blind) judged by its pair row p, which is a
 * regression (revealed) or not (cleared: the row keeps its verdict and
 * takes the pairs' detectable effect when smaller); was and now are the
 * two changes with their intervals. */
static void blind_judged(struct compare_row *row, const struct compare_row *p, const char *commit,
			 const char *was, const char *now, struct compare_base_confirmation *cb)
{
	struct verdict *v = &row->v;

	if (p->v.kind == VERDICT_REGRESSION) {
		snprintf(v->why, sizeof(v->why),
			 "%s against the history, which cannot see a change under %.0f%% here (the spread between "
			 "runs); measured again in this job beside base commit %.10s: %s (regression), confirmed",
			 was, fmin(v->mde, 10) * 100, commit, now);
		v->kind = VERDICT_REGRESSION;
		cb->revealed++;
	} else {
		char before[sizeof(v->why)];

		memcpy(before, v->why, sizeof(before));
		snprintf(v->why, sizeof(v->why), "%s; the history cannot see a change under %.0f%% here, so measured "
			 "again in this job beside base commit %.10s: %s (%s)",
			 before, fmin(v->mde, 10) * 100, commit, now, verdict_name(p->v.kind));
		cb->cleared++;
	}
	if (isfinite(p->v.mde) && !(p->v.mde >= v->mde))
		v->mde = p->v.mde;
}

void compare_require_base_confirmation(struct compare_result *hist, const struct compare_result *pairs,
				       const char *commit)
{
	struct compare_base_confirmation *cb = &hist->confirm_base;

	free(cb->commit);
	*cb = (struct compare_base_confirmation){ .commit = xstrdup(commit) };
	for (size_t i = 0; i < hist->n_rows; i++) {
		struct compare_row *row = &hist->rows[i];
		bool regressed = compare_row_gates(hist, row) && row->v.kind == VERDICT_REGRESSION;
		bool under = !regressed && compare_row_under_floor(hist, row);
		bool blind = !regressed && !under && compare_row_blind(hist, row);
		const struct compare_row *p;
		char was[64], now[64];
		bool yes;

		if ((!regressed && !under && !blind) || !(p = pair_row_of(pairs, row)) || !pairs_judge(p))
			continue;
		yes = p->v.kind == VERDICT_REGRESSION;
		if (under && !yes)
			continue; /* under the floor, and no regression beside the base either */
		change_with_ci(row, was, sizeof(was));
		change_with_ci(p, now, sizeof(now));
		if (blind) {
			blind_judged(row, p, commit, was, now, cb);
			continue;
		}
		if (under) {
			snprintf(row->v.why, sizeof(row->v.why),
				 "%s against the history (adjusted p %.2g), under its %.1f%% floor; measured again in this "
				 "job beside base commit %.10s: %s (regression), confirmed: the spread between runs hid it",
				 was, row->v.p_adj, row->v.floor * 100, commit, now);
			row->v.kind = VERDICT_REGRESSION;
			cb->revealed++;
			continue;
		}
		snprintf(row->v.why, sizeof(row->v.why),
			 "%s against the history (adjusted p %.2g); measured again in this job beside base commit "
			 "%.10s: %s (%s)%s",
			 was, row->v.p_adj, commit, now, verdict_name(p->v.kind),
			 yes ? ", confirmed"
			     : ", not confirmed: no regression beside its base now, so the history likely saw the "
			       "machine change between jobs, not the code");
		if (yes) {
			cb->confirmed++;
		} else {
			row->v.kind = VERDICT_INCONCLUSIVE;
			row->unconfirmed = true;
			cb->unconfirmed++;
		}
	}
	if (cb->unconfirmed || cb->revealed)
		compare_finish(hist);
}

/* What measuring more is for: history rows that are unconfirmed
 * regressions or inconclusive; A/B rows (flagged at once, never
 * confirmed) that are inconclusive.  Gated rows only. */
static bool row_undecided(const struct compare_row *row)
{
	if (!row->settings.gate)
		return false;
	if (row->against)
		return row->v.kind == VERDICT_INCONCLUSIVE;
	return row->v.kind == VERDICT_REGRESSION || row->v.kind == VERDICT_INCONCLUSIVE;
}

/* Decided for good at its look: a verdict on the change itself (not "no
 * baseline" or "too few samples", which more samples may turn into one),
 * and for a history row not a regression still to confirm. */
static bool row_decided(const struct compare_row *row)
{
	switch (row->v.kind) {
	case VERDICT_UNCHANGED:
	case VERDICT_BELOW_FLOOR:
	case VERDICT_IMPROVEMENT:
		return true;
	case VERDICT_REGRESSION:
		return row->against != NULL; /* an A/B row is flagged at once */
	default:
		return false;
	}
}

size_t compare_keep_decided(struct compare_result *now, const struct compare_result *before)
{
	size_t kept = 0;

	for (size_t i = 0; i < now->n_rows; i++) {
		struct compare_row *row = &now->rows[i];
		const struct compare_row *was = find_row(before, row);

		if (was && row_decided(was)) {
			kept += row->v.kind != was->v.kind;
			row->v = was->v;
		}
	}
	compare_finish(now);
	return kept;
}

size_t compare_undecided_benches(const struct compare_result *r, const char ***out)
{
	const char **v = NULL;
	size_t n = 0, alloc = 0;

	for (size_t i = 0; i < r->n_rows; i++) {
		const struct compare_row *row = &r->rows[i];
		bool seen = false;

		if (!row_undecided(row))
			continue;
		for (size_t j = 0; j < n && !seen; j++)
			seen = strcmp(v[j], row->bench) == 0;
		if (seen)
			continue;
		XGROW(v, alloc, n + 1);
		v[n++] = row->bench;
	}
	*out = v;
	return n;
}

void compare_result_free(struct compare_result *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n_rows; i++) {
		struct compare_row *row = &r->rows[i];

		free(row->bench);
		free(row->metric);
		free(row->unit);
		free(row->against);
		free(row->hint);
		strv_free(row->base_runs, row->n_base_runs);
		strv_free(row->base_commits, row->n_base_runs);
	}
	free(r->rows);
	free(r->not_baseline);
	for (size_t i = 0; i < r->n_slos; i++) {
		free(r->slos[i].bench);
		free(r->slos[i].key);
		free(r->slos[i].expr);
		free(r->slos[i].unit);
		free(r->slos[i].why);
	}
	free(r->slos);
	free(r->run_id);
	free(r->project);
	free(r->suite);
	free(r->commit);
	free(r->branch);
	free(r->base_mode);
	free(r->base_branch);
	free(r->base_anchor);
	free(r->base_why);
	free(r->against_base.ref);
	free(r->against_base.commit);
	free(r->confirm_base.commit);
	strv_free(r->base_commits, r->n_base_commits);
	strv_free(r->notes, r->n_notes);
	strv_free(r->failed_benches, r->n_failed_benches);
	strv_free(r->confirms_base, r->n_confirms_base);
	free(r);
}

int compare_verdict_from_name(const char *name)
{
	for (int k = VERDICT_REGRESSION; k <= VERDICT_NO_BASELINE; k++)
		if (name && strcmp(verdict_name((enum verdict_kind)k), name) == 0)
			return k;
	return -1;
}
