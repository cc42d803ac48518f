/*
 * Unit tests for core/gate.c: gate_run() end to end without a database.
 * The suite runs real command benchmarks (sleep, true); the stored runs it
 * is compared with live in memory (baseline_memory_source), and so does
 * what it stores (gate_store_memory).  The baselines are made by hand, far
 * from what the commands take (10 s against `true`, 1 us against a 50 ms
 * sleep), so that every verdict here follows from the commands, not from
 * the machine's speed.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../core/gate.h"
#include "../../core/util.h"

static char dir[64];

static struct suite *load_suite(const char *json)
{
	char path[128];
	struct suite *s = NULL;
	struct errlist problems = ERRLIST_INIT;
	struct err err = ERR_INIT;
	FILE *f;

	snprintf(path, sizeof(path), "%s/suite.json", dir);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(json, f);
	fclose(f);
	if (suite_load(&s, path, &problems, &err) != 0)
		fail_msg("suite: %s", err.msg);
	errlist_release(&problems);
	return s;
}

/* A stored run on 'main' of the suite's first benchmark, `n` wall samples around `wall` s. */
static struct rundoc *stored_run(const struct suite *s, int k, double wall, size_t n)
{
	struct rundoc *rd = rundoc_new();
	struct rd_bench *b;
	struct rd_metric *m;
	char id[37];

	rundoc_uuid(id);
	rd->run_id = xstrdup(id);
	rd->project = xstrdup(s->project);
	rd->suite = xstrdup(s->name);
	rd->started_at = xasprintf("2020-01-0%dT00:00:00Z", k + 1);
	rd->git.branch = xstrdup("main");
	b = rundoc_add_bench(rd, s->benches[0].name, RUNDOC_KIND_COMMAND);
	b->config_hash = xstrdup(s->benches[0].config_hash);
	m = rundoc_bench_add_metric(b, "wall", "s", RD_LOWER);
	for (size_t i = 0; i < n; i++)
		rundoc_metric_add_sample(m, wall * (1 + 0.01 * (double)i));
	rundoc_metric_summarise(m);
	return rd;
}

struct heard {
	size_t confirming;
	size_t notes;
};

static void on_note(void *arg, const struct gate_note *n)
{
	struct heard *h = arg;

	h->notes++;
	if (n->kind == GATE_NOTE_CONFIRMING)
		h->confirming++;
}

static void options(struct gate_options *o, struct heard *h)
{
	*o = (struct gate_options)GATE_OPTIONS_INIT;
	o->run.no_context = true;
	o->repo_dir = dir; /* not a git checkout: the baseline is the latest runs on 'main' */
	o->on_note = on_note;
	o->note_arg = h;
}

static const struct compare_row *row(const struct compare_result *r, const char *metric)
{
	for (size_t i = 0; i < r->n_rows; i++)
		if (strcmp(r->rows[i].metric, metric) == 0 && !r->rows[i].against)
			return &r->rows[i];
	return NULL;
}

/* Faster than every stored run: an improvement, the gate passes, the run is stored. */
static void test_pass(void **state)
{
	struct suite *s = load_suite(
		"{\"suite\": \"g\", \"project\": \"p\", \"benchmarks\": [{\"name\": \"quick\","
		" \"command\": [\"true\"], \"repetitions\": 5}]}");
	struct baseline_memory mem = BASELINE_MEMORY_INIT;
	struct baseline_source src;
	struct gate_store store;
	struct gate_options o;
	struct gate_result *r = NULL;
	struct heard h = { 0, 0 };
	struct err err = ERR_INIT;

	(void)state;
	for (int k = 0; k < 3; k++)
		baseline_memory_add(&mem, stored_run(s, k, 10.0, 5));
	baseline_memory_source(&mem, &src);
	gate_store_memory(&mem, &store);
	options(&o, &h);
	assert_int_equal(gate_run(s, &o, &src, &store, &r, &err), 0);
	assert_non_null(r->comparison);
	assert_true(r->have_baseline);
	assert_int_equal(r->baseline.n_runs, 3);
	assert_int_equal(row(r->comparison, "wall")->v.kind, VERDICT_IMPROVEMENT);
	assert_int_equal(row(r->comparison, "wall")->n_base_runs, 3);
	assert_true(r->comparison->passed);
	assert_int_equal(gate_outcome(r), GATE_PASSED);
	assert_int_equal(h.confirming, 0);
	assert_true(r->stored);
	assert_int_equal(mem.n, 4);
	assert_string_equal(mem.runs[3]->run_id, r->run->run_id);
	gate_result_free(r);
	baseline_memory_release(&mem);
	suite_free(s);
}

/* Slower than every stored run: re-measured (the sleep really runs again),
 * decided on the pooled samples, and the gate fails. */
static void test_regression_confirmed(void **state)
{
	struct suite *s = load_suite(
		"{\"suite\": \"g\", \"project\": \"p\", \"benchmarks\": [{\"name\": \"slow\","
		" \"command\": [\"sleep\", \"0.05\"], \"repetitions\": 5}]}");
	struct baseline_memory mem = BASELINE_MEMORY_INIT;
	struct baseline_source src;
	struct gate_options o;
	struct gate_result *r = NULL;
	struct heard h = { 0, 0 };
	struct err err = ERR_INIT;
	const struct rd_metric *wall;

	(void)state;
	for (int k = 0; k < 3; k++)
		baseline_memory_add(&mem, stored_run(s, k, 1e-6, 5));
	baseline_memory_source(&mem, &src);
	options(&o, &h);
	assert_int_equal(gate_run(s, &o, &src, NULL, &r, &err), 0);
	assert_int_equal(h.confirming, 1);
	assert_int_equal(r->comparison->confirm_reps, 5);
	wall = rundoc_bench_find_metric(rundoc_find_bench(r->run, "slow"), "wall");
	assert_int_equal(wall->n_samples, 10);
	/* Every pooled sample is a real sleep of 50 ms. */
	for (size_t i = 0; i < wall->n_samples; i++)
		assert_true(wall->samples[i] >= 0.05);
	assert_int_equal(row(r->comparison, "wall")->v.kind, VERDICT_REGRESSION);
	assert_false(r->comparison->passed);
	assert_int_equal(gate_outcome(r), GATE_FAILED);
	assert_false(r->stored); /* no store given */
	gate_result_free(r);

	/* --no-confirm decides on the first run: 5 samples, nothing re-measured. */
	o.confirm = false;
	h.confirming = 0;
	assert_int_equal(gate_run(s, &o, &src, NULL, &r, &err), 0);
	assert_int_equal(h.confirming, 0);
	assert_int_equal(r->comparison->confirm_reps, 0);
	assert_int_equal(rundoc_bench_find_metric(rundoc_find_bench(r->run, "slow"), "wall")->n_samples, 5);
	assert_int_equal(gate_outcome(r), GATE_FAILED);
	gate_result_free(r);
	baseline_memory_release(&mem);
	suite_free(s);
}

/* A violated SLO fails the gate on its own: nothing stored to compare with. */
static void test_slo_failure(void **state)
{
	struct suite *s = load_suite(
		"{\"suite\": \"g\", \"project\": \"p\", \"benchmarks\": [{\"name\": \"quick\","
		" \"command\": [\"true\"], \"repetitions\": 3, \"slo\": {\"wall.max\": \"< 1ns\"}}]}");
	struct baseline_memory mem = BASELINE_MEMORY_INIT;
	struct baseline_source src;
	struct gate_options o;
	struct gate_result *r = NULL;
	struct heard h = { 0, 0 };
	struct err err = ERR_INIT;

	(void)state;
	baseline_memory_source(&mem, &src);
	options(&o, &h);
	assert_int_equal(gate_run(s, &o, &src, NULL, &r, &err), 0);
	assert_int_equal(r->baseline.mode, BASELINE_NONE);
	assert_int_equal(row(r->comparison, "wall")->v.kind, VERDICT_NO_BASELINE);
	assert_int_equal(r->comparison->n_slos, 1);
	assert_false(r->comparison->slos[0].ok);
	assert_int_equal(r->comparison->slo_failed, 1);
	assert_int_equal(gate_outcome(r), GATE_FAILED);
	assert_int_equal(h.confirming, 0);
	gate_result_free(r);
	baseline_memory_release(&mem);
	suite_free(s);
}

/* A store that cannot be reached: asked once, the run spooled, SLOs still checked. */
struct down {
	size_t opens, spools;
};

static int down_open(void *arg, struct err *err)
{
	((struct down *)arg)->opens++;
	return err_set(err, ERR_INFRA, "cannot connect: test");
}

static int down_spool(void *arg, const struct rundoc *rd, char **where, struct err *err)
{
	(void)rd;
	(void)err;
	((struct down *)arg)->spools++;
	*where = xstrdup("/spool/x.json");
	return 0;
}

static void test_store_down(void **state)
{
	struct suite *s = load_suite(
		"{\"suite\": \"g\", \"project\": \"p\", \"benchmarks\": [{\"name\": \"quick\","
		" \"command\": [\"true\"], \"repetitions\": 3, \"slo\": {\"wall.max\": \"< 100s\"}}]}");
	struct down d = { 0, 0 };
	struct baseline_memory mem = BASELINE_MEMORY_INIT;
	struct baseline_source src;
	struct gate_store store = { .open = down_open, .spool = down_spool, .arg = &d };
	struct gate_options o;
	struct gate_result *r = NULL;
	struct heard h = { 0, 0 };
	struct err err = ERR_INIT;
	bool noted = false;

	(void)state;
	baseline_memory_source(&mem, &src);
	src.open = down_open;
	src.arg = &d;
	options(&o, &h);
	assert_int_equal(gate_run(s, &o, &src, &store, &r, &err), 0);
	/* The source's failed open and the store's: the gate asks each once. */
	assert_int_equal(d.opens, 2);
	assert_int_equal(d.spools, 1);
	assert_string_equal(r->spooled, "/spool/x.json");
	assert_false(r->have_baseline);
	assert_int_equal(r->store_rc, ERR_INFRA);
	assert_int_equal(gate_outcome(r), GATE_STORE_FAILED);
	assert_int_equal(r->comparison->n_slos, 1);
	assert_true(r->comparison->slos[0].ok);
	for (size_t i = 0; i < r->comparison->n_notes; i++)
		noted |= strstr(r->comparison->notes[i], "only SLOs were checked") != NULL;
	assert_true(noted);
	gate_result_free(r);
	suite_free(s);
}

/* The in-memory source applies the database query's filters. */
static void test_memory_source_filters(void **state)
{
	struct suite *s = load_suite(
		"{\"suite\": \"g\", \"project\": \"p\", \"benchmarks\": [{\"name\": \"quick\","
		" \"command\": [\"true\"]}]}");
	struct baseline_memory mem = BASELINE_MEMORY_INIT;
	struct baseline_source src;
	struct baseline_query q = { .project = "p", .suite = "g", .branch = "main", .baseline_only = true,
				    .before = "2020-01-03T00:00:00Z" };
	struct baseline_cand *c = NULL;
	size_t n = 0;
	struct err err = ERR_INIT;

	(void)state;
	for (int k = 0; k < 4; k++)
		baseline_memory_add(&mem, stored_run(s, k, 1.0, 3));
	mem.runs[0]->ci.pr = 7;                   /* a pull request: never a baseline */
	free(mem.runs[1]->git.branch);
	mem.runs[1]->git.branch = xstrdup("dev"); /* another branch */
	mem.runs[3]->partial = true;
	baseline_memory_source(&mem, &src);
	assert_int_equal(src.candidates(src.arg, &q, &c, &n, &err), 0);
	/* Run 2 started on the 3rd: not before it.  Nothing else is left. */
	assert_int_equal(n, 0);
	baseline_cands_free(c, n);
	q.before = NULL;
	assert_int_equal(src.candidates(src.arg, &q, &c, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_string_equal(c[0].run_id, mem.runs[2]->run_id);
	baseline_cands_free(c, n);
	baseline_memory_release(&mem);
	suite_free(s);
}

static int setup(void **state)
{
	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/perfgate-test-gate.XXXXXX");
	return mkdtemp(dir) ? 0 : -1;
}

static int teardown(void **state)
{
	char path[128];

	(void)state;
	snprintf(path, sizeof(path), "%s/suite.json", dir);
	unlink(path);
	return rmdir(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_pass),
		cmocka_unit_test(test_regression_confirmed),
		cmocka_unit_test(test_slo_failure),
		cmocka_unit_test(test_store_down),
		cmocka_unit_test(test_memory_source_filters),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
