/*
 * Unit tests for core/compare.c: the verdict table through compare_run()
 * on synthetic runs (clear regressions, improvements, no change, too few
 * samples, no baseline, higher-is-better metrics), baseline matching (config
 * hash, failed benchmarks, K nearest runs, change-point cutoffs), settings
 * at suite / benchmark / metric level, SLOs, A/B variants, strict mode,
 * confirmation pooling.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../core/compare.h"
#include "../../core/report.h"
#include "../../core/util.h"

/* n samples around `center`, spread +-2% deterministically (no two equal). */
static void fill(struct rd_metric *m, double center, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++) {
		double u = (double)((i * 7 + seed * 3) % 17) / 16.0; /* 0..1 */
		rundoc_metric_add_sample(m, center * (0.98 + 0.04 * u + 1e-6 * (double)i));
	}
	rundoc_metric_summarise(m);
}

/* A run of suite "s" of project "p" at commit (may be NULL) with one
 * benchmark, "loop", of configuration `hash` and no metrics yet. */
static struct rd_bench *loop_doc(struct rundoc **out, const char *id, const char *commit, const char *hash)
{
	struct rundoc *rd = rundoc_new();
	struct rd_bench *b;

	rd->run_id = xstrdup(id);
	rd->suite = xstrdup("s");
	rd->project = xstrdup("p");
	if (commit)
		rd->git.commit = xstrdup(commit);
	b = rundoc_add_bench(rd, "loop", RUNDOC_KIND_COMMAND);
	b->config_hash = xstrdup(hash);
	b->status = RUNDOC_STATUS_OK;
	*out = rd;
	return b;
}

static struct rundoc *mkrun(const char *id, const char *commit, const char *hash, double wall, size_t n,
			    unsigned seed)
{
	struct rundoc *rd;
	struct rd_bench *b = loop_doc(&rd, id, commit, hash);

	fill(rundoc_bench_add_metric(b, "wall", "s", RD_LOWER), wall, n, seed);
	fill(rundoc_bench_add_metric(b, "throughput", "1/s", RD_HIGHER), 1 / wall, n, seed + 1);
	return rd;
}

/* Run i of a baseline, made by a test with its own settings (arg). */
typedef struct rundoc *(*mk_base_run)(const char *id, const char *commit, size_t i, const void *arg);

/* A baseline of `runs` runs on main, nearest first, each made by mk. */
static void base_of(struct baseline *b, size_t runs, mk_base_run mk, const void *arg)
{
	memset(b, 0, sizeof(*b));
	b->mode = BASELINE_ANCESTORS;
	b->k = 5;
	b->branch = xstrdup("main");
	b->runs = xcalloc(runs + 1, sizeof(*b->runs));
	for (size_t i = 0; i < runs; i++) {
		char id[64], commit[64];

		snprintf(id, sizeof(id), "00000000-0000-4000-8000-00000000000%zu", i);
		snprintf(commit, sizeof(commit), "c%zu", i);
		b->runs[i].doc = mk(id, commit, i, arg);
		b->runs[i].started = 1000.0 - (double)i; /* nearest first = newest */
	}
	b->n_runs = runs;
}

static struct rundoc *loop_run(const char *id, const char *commit, size_t i, const void *hash)
{
	return mkrun(id, commit, hash, 1.0, 10, (unsigned)i);
}

/* A baseline of `runs` runs of the loop at 1.0 s, 10 samples each. */
static void mkbase(struct baseline *b, size_t runs, const char *hash)
{
	base_of(b, runs, loop_run, hash);
}

/* cur (freed) compared with a baseline of 5 runs made by mk. */
static struct compare_result *compare_with(struct rundoc *cur, mk_base_run mk, const void *arg)
{
	struct baseline base;
	struct compare_result *r = NULL;
	struct err err = ERR_INIT;

	base_of(&base, 5, mk, arg);
	assert_int_equal(compare_run(cur, &base, NULL, NULL, &r, &err), 0);
	rundoc_free(cur);
	baseline_release(&base);
	return r;
}

static const struct compare_row *row(const struct compare_result *r, const char *bench, const char *metric,
				     bool ab)
{
	for (size_t i = 0; i < r->n_rows; i++)
		if (strcmp(r->rows[i].bench, bench) == 0 && strcmp(r->rows[i].metric, metric) == 0 &&
		    (r->rows[i].against != NULL) == ab)
			return &r->rows[i];
	fail_msg("no row %s %s", bench, metric);
	return NULL;
}

/* The verdict table: current run level vs a 1.0 s baseline. */
static void test_verdicts(void **state)
{
	static const struct {
		double wall;
		size_t n;
		enum verdict_kind wall_kind, tput_kind;
		bool passed;
	} cases[] = {
		{ 1.30, 10, VERDICT_REGRESSION, VERDICT_REGRESSION, false },  /* 30% slower: both worse */
		{ 0.70, 10, VERDICT_IMPROVEMENT, VERDICT_IMPROVEMENT, true }, /* 30% faster */
		{ 1.00, 10, VERDICT_UNCHANGED, VERDICT_UNCHANGED, true },     /* same distribution */
		{ 1.30, 1, VERDICT_INSUFFICIENT, VERDICT_INSUFFICIENT, true },/* one sample cannot reach alpha after BH */
	};
	struct baseline base;

	(void)state;
	mkbase(&base, 5, "h1");
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct rundoc *cur = mkrun("11111111-0000-4000-8000-000000000000", "head", "h1", cases[i].wall,
					   cases[i].n, 99);
		struct compare_result *r = NULL;
		struct err err = ERR_INIT;

		assert_int_equal(compare_run(cur, &base, NULL, NULL, &r, &err), 0);
		if (row(r, "loop", "wall", false)->v.kind != cases[i].wall_kind ||
		    row(r, "loop", "throughput", false)->v.kind != cases[i].tput_kind)
			fail_msg("case %zu: wall %s (%s), throughput %s", i,
				 verdict_name(row(r, "loop", "wall", false)->v.kind), row(r, "loop", "wall", false)->v.why,
				 verdict_name(row(r, "loop", "throughput", false)->v.kind));
		assert_int_equal(r->passed, cases[i].passed);
		assert_int_equal(row(r, "loop", "wall", false)->n_base_runs, 5);
		assert_int_equal(row(r, "loop", "wall", false)->v.n_base, 50);
		assert_int_equal(r->base_runs, 5);
		assert_int_equal(r->n_base_commits, 5);
		if (cases[i].wall_kind == VERDICT_INSUFFICIENT) {
			r->strict = true;
			compare_finish(r);
			assert_false(r->passed);
		}
		compare_result_free(r);
		rundoc_free(cur);
	}
	baseline_release(&base);
}

static void test_no_baseline(void **state)
{
	struct rundoc *cur = mkrun("11111111-0000-4000-8000-000000000000", "head", "h1", 1.3, 10, 1);
	struct compare_result *r = NULL;
	struct err err = ERR_INIT;
	struct baseline base;
	struct sb sb = SB_INIT;

	(void)state;
	assert_int_equal(compare_run(cur, NULL, NULL, NULL, &r, &err), 0);
	assert_true(r->passed);
	assert_int_equal(r->counts[VERDICT_NO_BASELINE], 2);
	report_summary_line(r, &sb);
	assert_string_equal(sb_str(&sb), "passed: no baseline yet for 2 metrics (first run), nothing to compare");
	sb_release(&sb);
	compare_result_free(r);

	/* A baseline whose configuration differs is no baseline. */
	mkbase(&base, 5, "other-config");
	assert_int_equal(compare_run(cur, &base, NULL, NULL, &r, &err), 0);
	assert_int_equal(row(r, "loop", "wall", false)->v.kind, VERDICT_NO_BASELINE);
	assert_int_equal(r->base_runs, 0);
	assert_true(r->passed);
	compare_result_free(r);
	baseline_release(&base);
	rundoc_free(cur);
}

/* Failed baseline benchmarks are skipped, K nearest runs only, cutoffs exclude older runs. */
static void test_baseline_matching(void **state)
{
	struct rundoc *cur = mkrun("11111111-0000-4000-8000-000000000000", "head", "h1", 1.0, 10, 1);
	struct compare_result *r = NULL;
	struct err err = ERR_INIT;
	struct baseline base;

	(void)state;
	mkbase(&base, 8, "h1");
	base.k = 3;
	base.runs[0].doc->benches[0].status = RUNDOC_STATUS_FAILED;
	assert_int_equal(compare_run(cur, &base, NULL, NULL, &r, &err), 0);
	{
		const struct compare_row *w = row(r, "loop", "wall", false);

		assert_int_equal(w->n_base_runs, 3);
		/* run 0 failed: runs 1, 2, 3 in order */
		assert_string_equal(w->base_runs[0], "00000000-0000-4000-8000-000000000001");
		assert_string_equal(w->base_runs[2], "00000000-0000-4000-8000-000000000003");
		assert_string_equal(w->base_commits[1], "c2");
	}
	compare_result_free(r);

	/* A change point at t=997.5 for wall only: runs started before it (4..7)
	 * are not used for wall; 1..3 remain (0 failed). */
	base.k = 5;
	base.n_cutoffs = 1;
	base.cutoffs = xcalloc(1, sizeof(*base.cutoffs));
	base.cutoffs[0].bench = xstrdup("loop");
	base.cutoffs[0].metric = xstrdup("wall");
	base.cutoffs[0].after = 997.5;
	assert_int_equal(compare_run(cur, &base, NULL, NULL, &r, &err), 0);
	assert_int_equal(row(r, "loop", "wall", false)->n_base_runs, 2);
	assert_int_equal(row(r, "loop", "throughput", false)->n_base_runs, 5);
	compare_result_free(r);

	/* A failed benchmark in the current run is not compared, and a note says so. */
	cur->benches[0].status = RUNDOC_STATUS_FAILED;
	cur->benches[0].error = xstrdup("exit status 1");
	assert_int_equal(compare_run(cur, &base, NULL, NULL, &r, &err), 0);
	assert_int_equal(r->n_rows, 0);
	assert_int_equal(r->n_notes, 1);
	assert_string_equal(r->notes[0], "benchmark 'loop' failed: exit status 1: not compared");
	compare_result_free(r);
	baseline_release(&base);
	rundoc_free(cur);
}

static struct suite *mksuite(const char *suite_compare, const char *bench_json)
{
	struct suite *s = xcalloc(1, sizeof(*s));

	s->name = xstrdup("s");
	s->compare = suite_compare ? cJSON_Parse(suite_compare) : NULL;
	s->n_benches = 1;
	s->benches = xcalloc(1, sizeof(*s->benches));
	s->benches[0].name = xstrdup("loop");
	s->benches[0].raw = cJSON_Parse(bench_json);
	return s;
}

static void free_suite(struct suite *s)
{
	cJSON_Delete(s->compare);
	cJSON_Delete(s->benches[0].raw);
	free(s->benches[0].name);
	free(s->benches);
	free(s->name);
	free(s);
}

/* The most specific setting wins: suite < benchmark < metric. */
static void test_settings(void **state)
{
	static const struct {
		const char *suite, *bench;
		enum verdict_kind wall;
		bool wall_gates, passed;
		bool wall_marked; /* the run document marks wall tracked, as a calibration does */
	} cases[] = {
		/* 30% slower against a 50% floor: significant but below the floor (both metrics) */
		{ "{\"min_effect\": \"50%\"}", "{}", VERDICT_BELOW_FLOOR, true, true, false },
		/* ...unless the benchmark lowers it again for wall */
		{ "{\"min_effect\": \"50%\"}", "{\"compare\": {\"metrics\": {\"wall\": {\"min_effect\": \"1%\"}}}}",
		  VERDICT_REGRESSION, true, false, false },
		/* gate: false at benchmark level: tracked, never failing */
		{ NULL, "{\"compare\": {\"gate\": false}}", VERDICT_REGRESSION, false, true, false },
		/* suite-level per-metric setting, overridden by the benchmark */
		{ "{\"metrics\": {\"wall\": {\"min_effect\": \"50%\"}}}", "{}", VERDICT_BELOW_FLOOR, true, false, false },
		{ "{\"metrics\": {\"wall\": {\"min_effect\": \"50%\"}}}", "{\"compare\": {\"min_effect\": \"2%\"}}",
		  VERDICT_REGRESSION, true, false, false },
		/* only wall untracked: throughput still fails */
		{ NULL, "{\"compare\": {\"metrics\": {\"wall\": {\"gate\": false}}}}", VERDICT_REGRESSION, false, false, false },
		/* the run document's mark: wall tracked, throughput still fails */
		{ NULL, "{}", VERDICT_REGRESSION, false, false, true },
		/* ...and the suite's own setting wins over the mark */
		{ "{\"metrics\": {\"wall\": {\"gate\": true}}}", "{}", VERDICT_REGRESSION, true, false, true },
		{ NULL, "{\"compare\": {\"gate\": true}}", VERDICT_REGRESSION, true, false, true },
	};
	struct baseline base;

	(void)state;
	mkbase(&base, 5, "h1");
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct rundoc *cur = mkrun("11111111-0000-4000-8000-000000000000", "head", "h1", 1.3, 10, 9);
		struct suite *s = mksuite(cases[i].suite, cases[i].bench);
		struct compare_result *r = NULL;
		struct err err = ERR_INIT;
		const struct compare_row *w;

		if (cases[i].wall_marked) {
			struct rd_metric *m = (struct rd_metric *)rundoc_bench_find_metric(&cur->benches[0], "wall");
			m->extra = cJSON_Parse("{\"gate\": false, \"why\": \"a calibration is set\"}");
		}
		assert_int_equal(compare_run(cur, &base, s, NULL, &r, &err), 0);
		w = row(r, "loop", "wall", false);
		if (w->v.kind != cases[i].wall || w->settings.gate != cases[i].wall_gates || r->passed != cases[i].passed)
			fail_msg("case %zu: wall %s gate %d passed %d", i, verdict_name(w->v.kind), w->settings.gate,
				 r->passed);
		compare_result_free(r);
		free_suite(s);
		rundoc_free(cur);
	}
	baseline_release(&base);
}

/* The "metrics" member of a compare object is validated with JSON paths. */
static void test_settings_validate(void **state)
{
	static const struct { const char *json; const char *want; } cases[] = {
		{ "{\"metrics\": {\"wall\": {\"min_efect\": 1}}}",
		  "benchmarks[0].compare.metrics.wall.min_efect: unknown key; did you mean \"min_effect\"?" },
		{ "{\"metrics\": 3}", "benchmarks[0].compare.metrics: expected an object of metric name -> settings, got 3" },
		{ "{\"alpha\": 2, \"metrics\": {}}", "benchmarks[0].compare.alpha: expected a number in (0, 0.5], got 2" },
		{ "{\"metrics\": {\"wall\": {\"gate\": false}, \"instructions\": {\"min_effect\": \"1%\"}}}", NULL },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct errlist p = ERRLIST_INIT;
		cJSON *j = cJSON_Parse(cases[i].json);

		verdict_settings_validate(j, "benchmarks[0].compare", &p);
		if (cases[i].want) {
			assert_int_equal(p.n, 1);
			assert_string_equal(p.msgs[0], cases[i].want);
		} else {
			assert_int_equal(p.n, 0);
		}
		errlist_release(&p);
		cJSON_Delete(j);
	}
}

static void test_slos(void **state)
{
	struct rundoc *cur = mkrun("11111111-0000-4000-8000-000000000000", "head", "h1", 1.0, 10, 1);
	struct compare_result *r = NULL;
	struct err err = ERR_INIT;
	struct suite *s;

	(void)state;
	s = mksuite(NULL, "{\"slo\": {\"wall.median\": \"< 2s\", \"throughput\": \">= 5/s\"}}");
	assert_int_equal(compare_run(cur, NULL, s, NULL, &r, &err), 0);
	assert_int_equal(r->n_slos, 2);
	assert_true(r->slos[0].ok);
	assert_false(r->slos[1].ok); /* about 1/s */
	assert_true(fabs(r->slos[1].actual - 1.0) < 0.05);
	assert_false(r->passed);
	assert_int_equal(r->slo_failed, 1);
	compare_result_free(r);
	free_suite(s);

	/* A misspelled metric is an input error, never a pass. */
	s = mksuite(NULL, "{\"slo\": {\"wal.median\": \"< 2s\"}}");
	assert_int_equal(compare_run(cur, NULL, s, NULL, &r, &err), ERR_INPUT);
	assert_null(r);
	assert_non_null(strstr(err.msg, "benchmark 'loop'"));
	assert_non_null(strstr(err.msg, "wal"));
	free_suite(s);
	rundoc_free(cur);
}

/* A/B: variants of one run against the reference; reported, not gated. */
static void test_variants(void **state)
{
	struct rundoc *cur = rundoc_new();
	struct compare_result *r = NULL;
	struct compare_options co = COMPARE_OPTIONS_INIT;
	struct err err = ERR_INIT;
	struct rd_bench *b;
	const struct compare_row *ab;

	(void)state;
	cur->run_id = xstrdup("11111111-0000-4000-8000-000000000000");
	cur->suite = xstrdup("s");
	b = rundoc_add_bench(cur, "echo@slow", RUNDOC_KIND_COMMAND);
	fill(rundoc_bench_add_metric(b, "wall", "s", RD_LOWER), 2e-3, 10, 1);
	b = rundoc_add_bench(cur, "echo@fast", RUNDOC_KIND_COMMAND);
	fill(rundoc_bench_add_metric(b, "wall", "s", RD_LOWER), 1e-3, 10, 2);
	co.variants_only = true;
	assert_int_equal(compare_run(cur, NULL, NULL, &co, &r, &err), 0);
	assert_int_equal(r->n_rows, 1);
	ab = row(r, "echo@fast", "wall", true);
	assert_string_equal(ab->against, "echo@slow");
	assert_int_equal(ab->v.kind, VERDICT_IMPROVEMENT);
	assert_true(fabs(ab->v.ratio - 0.5) < 0.02);
	assert_false(compare_row_fails(r, ab));
	assert_true(r->passed);
	compare_result_free(r);

	/* The other way round: a slower variant is a regression, yet the gate passes. */
	cur->benches[1].metrics[0].n_samples = 0;
	fill(&cur->benches[1].metrics[0], 4e-3, 10, 3);
	assert_int_equal(compare_run(cur, NULL, NULL, &co, &r, &err), 0);
	assert_int_equal(row(r, "echo@fast", "wall", true)->v.kind, VERDICT_REGRESSION);
	assert_true(r->passed);
	compare_result_free(r);
	rundoc_free(cur);
}

/* Pair i of variant b: a's value times exp(d[i]). */
static void fill_pairs(struct rd_bench *a, struct rd_bench *b, const char *metric, const double *d, size_t n,
		       double scale)
{
	struct rd_metric *ma = rundoc_bench_add_metric(a, metric, "s", RD_LOWER);
	struct rd_metric *mb = rundoc_bench_add_metric(b, metric, "s", RD_LOWER);

	for (size_t i = 0; i < n; i++) {
		double x = scale * (1 + 0.01 * (double)((i * 7) % 10));

		rundoc_metric_add_sample(ma, x);
		rundoc_metric_add_sample(mb, x * exp(d[i]));
	}
	rundoc_metric_summarise(ma);
	rundoc_metric_summarise(mb);
}

/*
 * Interleaved A/B rows are adjusted in the families history rows use: the
 * tracked user and sys do not raise the bar for wall.  Ten pairs, wall +10%
 * in eight and slightly faster in the two closest: the one-sided signed-rank
 * p is 5/1024 = 0.0049.  Alone among wall, user, sys and cpu it would need
 * 0.01/4 (inconclusive); among the gated wall and cpu it needs 0.01/2.
 */
static void test_variants_families(void **state)
{
	static const double wall[10] = { 0.10, 0.11, -0.001, 0.12, 0.105, 0.115, -0.002, 0.095, 0.125, 0.108 };
	/* user and sys move in ticks of 4 ms: tens of ms, no change */
	static const double none[10] = { 0.1, -0.12, 0.03, -0.2, 0.15, -0.05, 0.07, -0.09, 0.11, -0.04 };
	struct rundoc *cur = rundoc_new();
	struct compare_result *r = NULL;
	struct compare_options co = COMPARE_OPTIONS_INIT;
	struct err err = ERR_INIT;
	struct rd_bench *a, *b;
	const struct compare_row *w;

	(void)state;
	cur->run_id = xstrdup("11111111-0000-4000-8000-000000000000");
	cur->suite = xstrdup("s");
	a = rundoc_add_bench(cur, "loop@a", RUNDOC_KIND_COMMAND);
	b = rundoc_add_bench(cur, "loop@b", RUNDOC_KIND_COMMAND);
	a->status = b->status = RUNDOC_STATUS_OK;
	rundoc_bench_set_interleaved(a);
	rundoc_bench_set_interleaved(b);
	fill_pairs(a, b, "wall", wall, 10, 0.3);
	fill_pairs(a, b, "user", none, 10, 0.2);
	fill_pairs(a, b, "sys", none, 10, 0.1);
	fill_pairs(a, b, "cpu", none, 10, 0.3);
	co.variants_only = true;
	assert_int_equal(compare_run(cur, NULL, NULL, &co, &r, &err), 0);
	assert_int_equal(r->n_rows, 4);
	w = row(r, "loop@b", "wall", true);
	assert_int_equal(w->v.test, VERDICT_TEST_SIGNED_RANK);
	assert_true(fabs(w->v.p - 5.0 / 1024) < 1e-9);
	if (w->v.kind != VERDICT_REGRESSION)
		fail_msg("wall: %s (%s)", verdict_name(w->v.kind), w->v.why);
	assert_int_equal(row(r, "loop@b", "cpu", true)->v.kind, VERDICT_UNCHANGED);
	assert_false(compare_row_fails(r, w));
	assert_true(r->passed);
	compare_result_free(r);
	rundoc_free(cur);
}

/* A run of the loop with wall and cpu (the kernel's CPU time) at given levels. */
static struct rundoc *mkrun_cpu(const char *id, const char *commit, double wall, double cpu, unsigned seed,
			       size_t fast)
{
	struct rundoc *rd;
	struct rd_bench *b = loop_doc(&rd, id, commit, "h1");

	fill(rundoc_bench_add_metric(b, "wall", "s", RD_LOWER), wall, 10, seed);
	/* the first `fast` repetitions ran while the machine was free: 0.3 x */
	for (size_t i = 0; i < fast; i++)
		b->metrics[0].samples[i] *= 0.3;
	rundoc_metric_summarise(&b->metrics[0]);
	fill(rundoc_bench_add_metric(b, "cpu", "s", RD_LOWER), cpu, 10, seed + 5);
	return rd;
}

/*
 * Waiting is not computing: a CPU-bound command whose wall time rose 40%
 * while its CPU time did not waited (for a CPU, on a loaded machine): its
 * wall row is inconclusive and the gate passes.  More CPU time fails as
 * before, and so does a command that mostly waits (a sleep) in its baseline.
 */
struct waiting_case {
	double base_cpu, cur_cpu;
	size_t fast; /* baseline repetitions that ran on a free machine (0.3 x the wall) */
	enum verdict_kind wall, cpu;
	bool passed;
};

static struct rundoc *cpu_run(const char *id, const char *commit, size_t i, const void *arg)
{
	const struct waiting_case *c = arg;

	return mkrun_cpu(id, commit, 1.0, c->base_cpu, (unsigned)i, c->fast);
}

static void test_waiting_is_not_computing(void **state)
{
	static const struct waiting_case cases[] = {
		{ 0.9, 0.9, 0, VERDICT_INCONCLUSIVE, VERDICT_UNCHANGED, true },  /* waited for a CPU */
		{ 0.9, 1.3, 0, VERDICT_REGRESSION, VERDICT_REGRESSION, false },  /* computed more */
		{ 0.05, 0.05, 0, VERDICT_REGRESSION, VERDICT_UNCHANGED, false }, /* not CPU-bound: wall decides */
		{ 2.0, 2.0, 0, VERDICT_REGRESSION, VERDICT_UNCHANGED, false },   /* parallel, lost it: wall decides */
		/* a baseline measured on a loaded machine too: its median wall is
		 * 3.5 x its cpu, its fastest repetitions show it CPU-bound */
		{ 0.28, 0.28, 3, VERDICT_INCONCLUSIVE, VERDICT_UNCHANGED, true },
		/* ... and a command that mostly waits even at its fastest */
		{ 0.1, 0.1, 3, VERDICT_REGRESSION, VERDICT_UNCHANGED, false },
	};

	(void)state;
	for (size_t c = 0; c < ARRAY_SIZE(cases); c++) {
		struct compare_result *r = compare_with(
			mkrun_cpu("11111111-0000-4000-8000-000000000000", "head", 1.4, cases[c].cur_cpu, 99, 0), cpu_run,
			&cases[c]);
		const struct compare_row *w = row(r, "loop", "wall", false);

		if (w->v.kind != cases[c].wall || row(r, "loop", "cpu", false)->v.kind != cases[c].cpu ||
		    r->passed != cases[c].passed)
			fail_msg("case %zu: wall %s (%s), cpu %s, passed %d", c, verdict_name(w->v.kind), w->v.why,
				 verdict_name(row(r, "loop", "cpu", false)->v.kind), r->passed);
		if (cases[c].wall == VERDICT_INCONCLUSIVE)
			assert_non_null(strstr(w->v.why, "waited longer"));
		compare_result_free(r);
	}
}

/* A run of the loop whose `wall` samples are `center` times
 * 1 - w ... 1 + w (the same 10 values in a shuffled order each seed). */
static struct rundoc *mkrun_wide(const char *id, const char *commit, double center, double w, unsigned seed)
{
	struct rundoc *rd;
	struct rd_metric *m = rundoc_bench_add_metric(loop_doc(&rd, id, commit, "h1"), "wall", "s", RD_LOWER);

	for (size_t i = 0; i < 10; i++)
		rundoc_metric_add_sample(m, center * (1 - w + 2 * w * (double)((i * 3 + seed) % 10) / 9.0));
	rundoc_metric_summarise(m);
	return rd;
}

/*
 * What a row that cannot see 25% is told to do, when noise within the run
 * dominates.  Where the runs agree, more repetitions: in this run alone
 * (samples +-35%), or, where the baseline's 50 samples are too few for any
 * number of new ones (+-60%), in the baseline's runs too.  Where the runs
 * also differ between themselves (by up to 10%: a spread of 12%), the
 * floor that sets (3 x the spread) holds the row over 25% whatever the
 * repetitions, and the hint names the calibration.  (The last two named
 * nothing before.)
 */
struct hint_case {
	double centers[5], w;
	const char *hint, *not; /* a piece of the hint, and one it must not have */
};

static struct rundoc *wide_run(const char *id, const char *commit, size_t i, const void *arg)
{
	const struct hint_case *c = arg;

	return mkrun_wide(id, commit, c->centers[i], c->w, 0);
}

static void test_hint_spread_binds(void **state)
{
	static const struct hint_case cases[] = {
		{ { 1.0, 1.0, 1.0, 1.0, 1.0 }, 0.35, "\"repetitions\"", "once the baseline" },
		{ { 1.0, 1.0, 1.0, 1.0, 1.0 }, 0.6, "once the baseline's runs are measured as many times", "calibration" },
		{ { 1.0, 1.09, 0.92, 1.1, 0.94 }, 0.6, "\"calibration\": \"auto\"", "repetitions" },
	};

	(void)state;
	for (size_t c = 0; c < ARRAY_SIZE(cases); c++) {
		struct compare_result *r = compare_with(
			mkrun_wide("11111111-0000-4000-8000-000000000000", "head", 1.0, cases[c].w, 5), wide_run, &cases[c]);
		const struct compare_row *w = row(r, "loop", "wall", false);

		if (!(w->v.mde > VERDICT_MDE_FLAG) || !w->hint || !strstr(w->hint, cases[c].hint) ||
		    strstr(w->hint, cases[c].not))
			fail_msg("case %zu: detects %.3f, spread %.3f, within %.3f, floor %.3f: hint %s", c, w->v.mde,
				 w->v.spread, w->v.s_within, w->v.floor, w->hint ? w->hint : "(none)");
		compare_result_free(r);
	}
}

/* Confirmation: pooling adds samples; the regressed list names each benchmark once. */
static void test_confirmation_helpers(void **state)
{
	struct rundoc *cur = mkrun("11111111-0000-4000-8000-000000000000", "head", "h1", 1.3, 10, 1);
	struct rundoc *again = mkrun("22222222-0000-4000-8000-000000000000", "head", "h1", 1.3, 20, 2);
	struct compare_result *r = NULL;
	struct err err = ERR_INIT;
	struct baseline base;
	const char **names = NULL;

	(void)state;
	mkbase(&base, 5, "h1");
	assert_int_equal(compare_run(cur, &base, NULL, NULL, &r, &err), 0);
	assert_int_equal(compare_regressed_benches(r, &names), 1);
	assert_string_equal(names[0], "loop");
	free(names);
	compare_result_free(r);
	assert_int_equal(rundoc_merge(cur, again, RUNDOC_MERGE_POOL), 20);
	assert_int_equal(cur->benches[0].metrics[0].n_samples, 30);
	assert_int_equal(cur->benches[0].metrics[0].summary.n, 30);
	assert_int_equal(compare_run(cur, &base, NULL, NULL, &r, &err), 0);
	assert_int_equal(row(r, "loop", "wall", false)->v.n_cur, 30);
	assert_int_equal(row(r, "loop", "wall", false)->v.kind, VERDICT_REGRESSION);
	compare_result_free(r);
	baseline_release(&base);
	rundoc_free(again);
	rundoc_free(cur);
}

/* A comparison of `gate --base`: one A/B row and two history rows, of the
 * kinds given. */
static struct compare_result *looked(enum verdict_kind ab, enum verdict_kind wall, enum verdict_kind cpu, size_t n)
{
	struct compare_result *r = xcalloc(1, sizeof(*r));
	const enum verdict_kind kinds[3] = { ab, wall, cpu };
	const char *benches[3] = { "api@head", "api", "api" }, *metrics[3] = { "throughput", "wall", "cpu" };

	r->against_base.ref = xstrdup("main");
	r->rows = xcalloc(3, sizeof(*r->rows));
	r->n_rows = 3;
	for (size_t i = 0; i < 3; i++) {
		struct compare_row *row = &r->rows[i];

		row->bench = xstrdup(benches[i]);
		row->metric = xstrdup(metrics[i]);
		row->against = i == 0 ? xstrdup("api@base") : NULL;
		row->settings = (struct verdict_settings)VERDICT_SETTINGS_INIT;
		row->v.kind = kinds[i];
		row->v.n_cur = n;
	}
	compare_finish(r);
	return r;
}

/*
 * A later look decides again only what was undecided.  Seen in the full
 * suite under load: an A/B row flagged at the first look (p 0.00098 with
 * 10 pairs, adjusted 0.0038 <= 0.01) became `inconclusive` at the second,
 * whose share of alpha was 0.0029, though its benchmark was not measured
 * again; a gate of that row alone would have passed.
 */
static void test_keep_decided(void **state)
{
	struct compare_result *first = looked(VERDICT_REGRESSION, VERDICT_INCONCLUSIVE, VERDICT_UNCHANGED, 10);
	struct compare_result *second = looked(VERDICT_INCONCLUSIVE, VERDICT_REGRESSION, VERDICT_IMPROVEMENT, 20);

	(void)state;
	assert_false(first->passed);
	assert_int_equal(compare_keep_decided(second, first), 2);
	/* the A/B row flagged at once, and the unchanged cpu: as decided */
	assert_string_equal(verdict_name(second->rows[0].v.kind), "regression");
	assert_int_equal(second->rows[0].v.n_cur, 10);
	assert_string_equal(verdict_name(second->rows[2].v.kind), "unchanged");
	/* the inconclusive wall: decided again */
	assert_string_equal(verdict_name(second->rows[1].v.kind), "regression");
	assert_int_equal(second->rows[1].v.n_cur, 20);
	assert_false(second->passed);
	assert_int_equal(second->counts[VERDICT_REGRESSION], 2);
	compare_result_free(first);
	compare_result_free(second);
	/* too few samples at the first look: more samples may decide it */
	first = looked(VERDICT_INSUFFICIENT, VERDICT_NO_BASELINE, VERDICT_UNCHANGED, 3);
	second = looked(VERDICT_REGRESSION, VERDICT_NO_BASELINE, VERDICT_UNCHANGED, 6);
	assert_int_equal(compare_keep_decided(second, first), 0);
	assert_string_equal(verdict_name(second->rows[0].v.kind), "regression");
	assert_int_equal(second->rows[0].v.n_cur, 6);
	compare_result_free(first);
	compare_result_free(second);
}

/* A history row (against NULL) or a pair row of `gate --base`. */
static void set_row(struct compare_row *row, const char *bench, const char *against, const char *metric,
		    enum verdict_kind kind, double ratio, bool gate)
{
	row->bench = xstrdup(bench);
	row->against = against ? xstrdup(against) : NULL;
	row->metric = xstrdup(metric);
	row->unit = xstrdup("s");
	row->settings = (struct verdict_settings)VERDICT_SETTINGS_INIT;
	row->settings.gate = gate;
	row->v.kind = kind;
	row->v.gate = gate;
	row->v.n_cur = 10;
	row->v.n_base = 10;
	row->v.p_adj = 0.001;
	row->v.ratio = ratio;
	row->v.ratio_lo = ratio - 0.02;
	row->v.ratio_hi = ratio + 0.02;
	row->v.floor = 0.05;
	row->v.level = 0.01;
}

static struct compare_result *rows_result(size_t n)
{
	struct compare_result *r = xcalloc(1, sizeof(*r));

	r->rows = xcalloc(n, sizeof(*r->rows));
	r->n_rows = n;
	return r;
}

/*
 * `gate --confirm-base`: a history regression stands only when the same
 * metric of NAME@head regressed against NAME@base too; one the pairs do not
 * show is inconclusive and unconfirmed; one whose pair row cannot judge it
 * stands; a row worse under the floor becomes a regression when the pairs
 * show one; other rows are left alone.
 */
static void test_base_confirmation(void **state)
{
	struct compare_result *hist = rows_result(10), *pairs = rows_result(9), *back = NULL;
	struct report_options ro = { 0 };
	struct err err = ERR_INIT;
	struct sb sb = SB_INIT;
	cJSON *json;

	(void)state;
	set_row(&hist->rows[0], "loop", NULL, "wall", VERDICT_REGRESSION, 1.3, true);
	set_row(&hist->rows[1], "loop", NULL, "cpu", VERDICT_REGRESSION, 1.3, true);
	set_row(&hist->rows[2], "loop", NULL, "sys", VERDICT_REGRESSION, 1.3, true);
	set_row(&hist->rows[3], "loop", NULL, "max_rss", VERDICT_REGRESSION, 1.3, false); /* tracked */
	set_row(&hist->rows[4], "other", NULL, "wall", VERDICT_REGRESSION, 1.3, true);   /* no pair row */
	set_row(&hist->rows[5], "loop", NULL, "user", VERDICT_REGRESSION, 1.3, true);
	set_row(&hist->rows[6], "loop", NULL, "throughput", VERDICT_REGRESSION, 1.3, true);
	/* significant and worse by 12%, 6% and 3%, under a floor of 50% (the machine's record) */
	set_row(&hist->rows[7], "loop", NULL, "instructions", VERDICT_BELOW_FLOOR, 1.12, true);
	set_row(&hist->rows[8], "loop", NULL, "cycles", VERDICT_BELOW_FLOOR, 1.06, true);
	set_row(&hist->rows[9], "loop", NULL, "branches", VERDICT_BELOW_FLOOR, 1.03, true);
	for (size_t i = 7; i <= 9; i++)
		hist->rows[i].v.floor = 0.5;
	set_row(&pairs->rows[0], "loop@head", "loop@base", "wall", VERDICT_REGRESSION, 1.2, true);
	set_row(&pairs->rows[1], "loop@head", "loop@base", "cpu", VERDICT_UNCHANGED, 1.001, true);
	set_row(&pairs->rows[2], "loop@head", "loop@base", "sys", VERDICT_INCONCLUSIVE, 1.08, true);
	set_row(&pairs->rows[3], "loop@head", "loop@base", "max_rss", VERDICT_UNCHANGED, 1.0, true);
	/* too few pairs: showing the change (+30%), they cannot judge it; tied
	 * (no change, the pairs that tie dropped), they measured none */
	set_row(&pairs->rows[4], "loop@head", "loop@base", "user", VERDICT_INSUFFICIENT, 1.3, true);
	set_row(&pairs->rows[5], "loop@head", "loop@base", "throughput", VERDICT_INSUFFICIENT, 1.0, true);
	set_row(&pairs->rows[6], "loop@head", "loop@base", "instructions", VERDICT_REGRESSION, 1.11, true);
	set_row(&pairs->rows[7], "loop@head", "loop@base", "cycles", VERDICT_UNCHANGED, 1.01, true);
	set_row(&pairs->rows[8], "loop@head", "loop@base", "branches", VERDICT_REGRESSION, 1.03, true);
	compare_finish(hist);
	assert_false(hist->passed);
	assert_int_equal(hist->counts[VERDICT_REGRESSION], 6);
	assert_true(compare_row_under_floor(hist, &hist->rows[7]));
	assert_true(compare_row_under_floor(hist, &hist->rows[8]));
	assert_false(compare_row_under_floor(hist, &hist->rows[9])); /* under min_effect */
	assert_false(compare_row_under_floor(hist, &hist->rows[0]));

	compare_require_base_confirmation(hist, pairs, "0123456789abcdef");
	assert_string_equal(hist->confirm_base.commit, "0123456789abcdef");
	assert_int_equal(hist->confirm_base.confirmed, 1);
	assert_int_equal(hist->confirm_base.unconfirmed, 3);
	assert_int_equal(hist->confirm_base.revealed, 1);
	/* confirmed: both measurements on its line */
	assert_int_equal(hist->rows[0].v.kind, VERDICT_REGRESSION);
	assert_false(hist->rows[0].unconfirmed);
	assert_non_null(strstr(hist->rows[0].v.why, "+30.0% [+28.0%, +32.0%] against the history"));
	assert_non_null(strstr(hist->rows[0].v.why, "beside base commit 0123456789: +20.0% [+18.0%, +22.0%] "
							    "(regression), confirmed"));
	/* the pairs unchanged or inconclusive: not confirmed */
	for (size_t i = 1; i <= 2; i++) {
		assert_int_equal(hist->rows[i].v.kind, VERDICT_INCONCLUSIVE);
		assert_true(hist->rows[i].unconfirmed);
		assert_non_null(strstr(hist->rows[i].v.why, "not confirmed"));
	}
	assert_non_null(strstr(hist->rows[2].v.why, "+8.0% [+6.0%, +10.0%] (inconclusive)"));
	/* tracked, without a pair row, or a pair row that cannot decide: as they were */
	assert_int_equal(hist->rows[3].v.kind, VERDICT_REGRESSION);
	assert_false(hist->rows[3].unconfirmed);
	assert_int_equal(hist->rows[4].v.kind, VERDICT_REGRESSION);
	assert_int_equal(hist->rows[5].v.kind, VERDICT_REGRESSION);
	assert_null(strstr(hist->rows[5].v.why, "confirm"));
	assert_int_equal(hist->rows[6].v.kind, VERDICT_INCONCLUSIVE);
	assert_true(hist->rows[6].unconfirmed);
	assert_non_null(strstr(hist->rows[6].v.why, "+0.0% [-2.0%, +2.0%] (insufficient-data), not confirmed"));
	/* under the floor: a regression when the pairs show one; as it was when not, or under min_effect */
	assert_int_equal(hist->rows[7].v.kind, VERDICT_REGRESSION);
	assert_non_null(strstr(hist->rows[7].v.why, "+12.0% [+10.0%, +14.0%] against the history (adjusted p 0.001), "
						     "under its 50.0% floor; measured again in this job beside base "
						     "commit 0123456789: +11.0% [+9.0%, +13.0%] (regression), confirmed"));
	assert_int_equal(hist->rows[8].v.kind, VERDICT_BELOW_FLOOR);
	assert_int_equal(hist->rows[9].v.kind, VERDICT_BELOW_FLOOR);
	/* counted again */
	assert_int_equal(hist->counts[VERDICT_REGRESSION], 4);
	assert_int_equal(hist->counts[VERDICT_INCONCLUSIVE], 3);
	assert_false(hist->passed);

	/* the mark and the record survive the JSON report, and the text report gives the cause */
	hist->confirm_base.seconds = 1.5;
	hist->confirms_base = xcalloc(3, sizeof(char *));
	hist->confirms_base[hist->n_confirms_base++] = xstrdup("loop");
	hist->confirms_base[hist->n_confirms_base++] = xstrdup("other");
	report_json(hist, &sb);
	json = cJSON_Parse(sb_str(&sb));
	assert_non_null(json);
	assert_int_equal(report_from_json(json, &back, &err), 0);
	assert_true(back->rows[1].unconfirmed && back->rows[2].unconfirmed);
	assert_false(back->rows[0].unconfirmed);
	assert_string_equal(back->confirm_base.commit, "0123456789abcdef");
	assert_int_equal(back->confirm_base.confirmed, 1);
	assert_int_equal(back->confirm_base.unconfirmed, 3);
	assert_int_equal(back->confirm_base.revealed, 1);
	assert_true(back->confirm_base.seconds == 1.5);
	assert_int_equal(back->n_confirms_base, 2);
	assert_string_equal(back->confirms_base[0], "loop");
	assert_string_equal(back->confirms_base[1], "other");
	sb_release(&sb);
	report_text(back, &ro, &sb);
	assert_non_null(strstr(sb_str(&sb), "3 metrics inconclusive (loop cpu, sys, throughput): worse than the "
					    "history, but not beside the base commit measured in this job"));
	/* and what `detects` leaves out: these are measured beside the base when worse */
	assert_non_null(strstr(sb_str(&sb), "beside the base: loop, other are measured again beside the base commit "
					    "in this job whenever the history sees them worse"));
	/* what the pairs found: a line of its own, not a warning */
	assert_non_null(strstr(sb_str(&sb), "\nmeasured again beside base commit 0123456789 in this job (1.5 s): "
					    "1 regression against the history confirmed, 3 not; 1 more that the "
					    "history passed shown by the pairs\n"));
	assert_null(strstr(sb_str(&sb), "warning: measured again"));
	sb_release(&sb);
	report_markdown(back, &ro, &sb);
	assert_non_null(strstr(sb_str(&sb), "**Beside the base:** `loop`, `other` are measured again"));
	assert_non_null(strstr(sb_str(&sb), "Measured again beside base commit 0123456789 in this job (1.5 s): "
					    "1 regression against the history confirmed, 3 not"));
	sb_release(&sb);
	cJSON_Delete(json);
	compare_result_free(back);

	compare_result_free(pairs);
	compare_result_free(hist);

	/* every regression unconfirmed: the gate passes */
	hist = rows_result(2);
	pairs = rows_result(2);
	set_row(&hist->rows[0], "loop", NULL, "wall", VERDICT_REGRESSION, 1.3, true);
	set_row(&hist->rows[1], "other", NULL, "wall", VERDICT_REGRESSION, 1.3, true);
	set_row(&pairs->rows[0], "loop@head", "loop@base", "wall", VERDICT_BELOW_FLOOR, 1.03, true);
	set_row(&pairs->rows[1], "other@head", "other@base", "wall", VERDICT_IMPROVEMENT, 0.9, true);
	compare_finish(hist);
	assert_false(hist->passed);
	compare_require_base_confirmation(hist, pairs, "0123456789abcdef");
	assert_int_equal(hist->confirm_base.confirmed, 0);
	assert_int_equal(hist->confirm_base.unconfirmed, 2);
	assert_true(hist->passed);
	assert_int_equal(hist->counts[VERDICT_REGRESSION], 0);
	compare_result_free(pairs);
	compare_result_free(hist);

	/* only a row under the floor, shown by the pairs: the gate fails */
	hist = rows_result(1);
	pairs = rows_result(1);
	set_row(&hist->rows[0], "loop", NULL, "wall", VERDICT_BELOW_FLOOR, 1.12, true);
	hist->rows[0].v.floor = 0.5;
	set_row(&pairs->rows[0], "loop@head", "loop@base", "wall", VERDICT_REGRESSION, 1.12, true);
	compare_finish(hist);
	assert_true(hist->passed);
	compare_require_base_confirmation(hist, pairs, "0123456789abcdef");
	assert_int_equal(hist->confirm_base.revealed, 1);
	assert_false(hist->passed);
	assert_int_equal(hist->counts[VERDICT_REGRESSION], 1);
	compare_result_free(pairs);
	compare_result_free(hist);
}

/*
 * Rows the history cannot judge (compare_row_blind): a detectable effect
 * over 25% against the history where the pairs' would be under it.  They
 * are measured beside the base whatever their verdict; the pairs' regression
 * makes one (revealed), anything else leaves the verdict, says what the pairs
 * showed, and gives the row the pairs' detectable effect (cleared).
 */
static void test_base_confirmation_blind(void **state)
{
	struct compare_result *hist = rows_result(8), *pairs = rows_result(5), *back = NULL;
	struct err err = ERR_INIT;
	struct sb sb = SB_INIT;
	const char **names = NULL;
	cJSON *json;
	size_t n;

	(void)state;
	set_row(&hist->rows[0], "loop", NULL, "wall", VERDICT_UNCHANGED, 0.95, true);
	set_row(&hist->rows[1], "loop", NULL, "cpu", VERDICT_IMPROVEMENT, 0.9, true);
	set_row(&hist->rows[2], "loop", NULL, "sys", VERDICT_UNCHANGED, 1.0, true);  /* pairs blind too */
	set_row(&hist->rows[3], "loop", NULL, "user", VERDICT_UNCHANGED, 1.0, true); /* sees 25% */
	set_row(&hist->rows[4], "loop", NULL, "max_rss", VERDICT_UNCHANGED, 1.0, false); /* tracked */
	set_row(&hist->rows[5], "loop", NULL, "throughput", VERDICT_REGRESSION, 1.3, true);
	set_row(&hist->rows[6], "other", NULL, "wall", VERDICT_UNCHANGED, 1.0, true); /* sees 25% */
	set_row(&hist->rows[7], "far", NULL, "wall", VERDICT_UNCHANGED, 1.0, true);   /* no pair row */
	for (size_t i = 0; i < hist->n_rows; i++) {
		hist->rows[i].v.floor = 0.5;
		hist->rows[i].v.mde = 0.6;
		hist->rows[i].v.mde_paired = 0.06;
	}
	hist->rows[2].v.mde_paired = 0.4;
	hist->rows[3].v.mde = hist->rows[6].v.mde = 0.1;
	set_row(&pairs->rows[0], "loop@head", "loop@base", "wall", VERDICT_REGRESSION, 1.15, true);
	set_row(&pairs->rows[1], "loop@head", "loop@base", "cpu", VERDICT_UNCHANGED, 1.01, true);
	set_row(&pairs->rows[2], "loop@head", "loop@base", "sys", VERDICT_REGRESSION, 1.15, true);
	set_row(&pairs->rows[3], "loop@head", "loop@base", "user", VERDICT_REGRESSION, 1.15, true);
	set_row(&pairs->rows[4], "loop@head", "loop@base", "throughput", VERDICT_REGRESSION, 1.2, true);
	for (size_t i = 0; i < pairs->n_rows; i++)
		pairs->rows[i].v.mde = 0.07;
	compare_finish(hist);
	assert_true(compare_row_blind(hist, &hist->rows[0]));
	assert_true(compare_row_blind(hist, &hist->rows[1]));
	assert_true(compare_row_blind(hist, &hist->rows[7]));
	for (size_t i = 2; i <= 6; i++)
		assert_false(compare_row_blind(hist, &hist->rows[i]));
	/* measured beside the base: the blind and the regressed, each benchmark once */
	n = compare_base_confirm_benches(hist, &names);
	assert_int_equal(n, 2);
	assert_string_equal(names[0], "loop");
	assert_string_equal(names[1], "far");
	free(names);
	/* sent by blindness alone: far; loop has a regression too, other sees 25% */
	assert_true(compare_bench_blind_only(hist, "far"));
	assert_false(compare_bench_blind_only(hist, "loop"));
	assert_false(compare_bench_blind_only(hist, "other"));

	compare_require_base_confirmation(hist, pairs, "0123456789abcdef");
	assert_int_equal(hist->confirm_base.revealed, 1);
	assert_int_equal(hist->confirm_base.cleared, 1);
	assert_int_equal(hist->confirm_base.confirmed, 1);
	assert_int_equal(hist->confirm_base.unconfirmed, 0);
	/* revealed: a regression, with both measurements */
	assert_int_equal(hist->rows[0].v.kind, VERDICT_REGRESSION);
	assert_non_null(strstr(hist->rows[0].v.why, "-5.0% [-7.0%, -3.0%] against the history, which cannot see a "
						     "change under 60% here (the spread between runs); measured again "
						     "in this job beside base commit 0123456789: +15.0% [+13.0%, +17.0%] "
						     "(regression), confirmed"));
	assert_true(hist->rows[0].v.mde == 0.07);
	/* cleared: its verdict, what the pairs showed, their detectable effect */
	assert_int_equal(hist->rows[1].v.kind, VERDICT_IMPROVEMENT);
	assert_non_null(strstr(hist->rows[1].v.why, "; the history cannot see a change under 60% here, so measured "
						     "again in this job beside base commit 0123456789: +1.0% [-1.0%, "
						     "+3.0%] (unchanged)"));
	assert_true(hist->rows[1].v.mde == 0.07);
	/* not blind: left alone, whatever the pairs say */
	for (size_t i = 2; i <= 4; i++) {
		assert_int_equal(hist->rows[i].v.kind, VERDICT_UNCHANGED);
		assert_null(strstr(hist->rows[i].v.why, "beside base"));
	}
	assert_true(hist->rows[2].v.mde == 0.6 && hist->rows[3].v.mde == 0.1);
	/* no pair row: as it was */
	assert_int_equal(hist->rows[7].v.kind, VERDICT_UNCHANGED);
	assert_true(hist->rows[7].v.mde == 0.6);
	assert_int_equal(hist->counts[VERDICT_REGRESSION], 2);
	assert_false(hist->passed);

	/* the counts survive the JSON report */
	report_json(hist, &sb);
	json = cJSON_Parse(sb_str(&sb));
	assert_non_null(json);
	assert_int_equal(report_from_json(json, &back, &err), 0);
	assert_int_equal(back->confirm_base.revealed, 1);
	assert_int_equal(back->confirm_base.cleared, 1);
	cJSON_Delete(json);
	sb_release(&sb);
	report_confirm_outcome(back, false, &sb);
	assert_non_null(strstr(sb_str(&sb), "1 more that the history passed shown by the pairs; 1 row the history "
					    "cannot judge (a detectable effect over 25%) clear beside the base"));
	sb_release(&sb);
	compare_result_free(back);
	compare_result_free(pairs);
	compare_result_free(hist);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_verdicts),
		cmocka_unit_test(test_no_baseline),
		cmocka_unit_test(test_baseline_matching),
		cmocka_unit_test(test_settings),
		cmocka_unit_test(test_settings_validate),
		cmocka_unit_test(test_slos),
		cmocka_unit_test(test_variants),
		cmocka_unit_test(test_variants_families),
		cmocka_unit_test(test_keep_decided),
		cmocka_unit_test(test_confirmation_helpers),
		cmocka_unit_test(test_waiting_is_not_computing),
		cmocka_unit_test(test_hint_spread_binds),
		cmocka_unit_test(test_base_confirmation),
		cmocka_unit_test(test_base_confirmation_blind),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
