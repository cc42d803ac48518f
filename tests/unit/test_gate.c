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
#include "../../core/headbase.h"
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
	rd->context_trusted = true; /* as the gate that measured it stored it */
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

/* One gate over a suite and stored runs in memory. */
struct fixture {
	struct suite *s;
	struct baseline_memory mem;   /* the stored runs */
	struct baseline_source src;   /* over mem */
	struct gate_options o;
	struct heard h;
	struct gate_result *r;
};

/* The suite, and n_base stored runs of its first benchmark around base_wall s. */
static void fixture_open(struct fixture *f, const char *suite_json, int n_base, double base_wall)
{
	*f = (struct fixture){ .s = load_suite(suite_json), .mem = BASELINE_MEMORY_INIT,
			       .o = GATE_OPTIONS_INIT };
	for (int k = 0; k < n_base; k++)
		baseline_memory_add(&f->mem, stored_run(f->s, k, base_wall, 5));
	baseline_memory_source(&f->mem, &f->src);
	f->o.run.no_context = true;
	f->o.repo_dir = dir; /* not a git checkout: the baseline is the latest runs on 'main' */
	f->o.on_note = on_note;
	f->o.note_arg = &f->h;
}

/* Run the gate (a result from a previous run is freed first). */
static void fixture_gate(struct fixture *f, const struct gate_store *store)
{
	struct err err = ERR_INIT;

	gate_result_free(f->r);
	f->r = NULL;
	f->h = (struct heard){ 0, 0 };
	if (gate_run(f->s, &f->o, &f->src, store, &f->r, &err) != 0)
		fail_msg("gate_run: %s", err.msg);
}

static void fixture_close(struct fixture *f)
{
	gate_result_free(f->r);
	baseline_memory_release(&f->mem);
	suite_free(f->s);
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
	struct fixture f;
	struct gate_store store;

	(void)state;
	fixture_open(&f, "{\"suite\": \"g\", \"project\": \"p\", \"benchmarks\": [{\"name\": \"quick\","
			 " \"command\": [\"true\"], \"repetitions\": 5}]}", 3, 10.0);
	gate_store_memory(&f.mem, &store);
	fixture_gate(&f, &store);
	assert_non_null(f.r->comparison);
	assert_true(f.r->have_baseline);
	assert_int_equal(f.r->baseline.n_runs, 3);
	assert_int_equal(row(f.r->comparison, "wall")->v.kind, VERDICT_IMPROVEMENT);
	assert_int_equal(row(f.r->comparison, "wall")->n_base_runs, 3);
	assert_true(f.r->comparison->passed);
	assert_int_equal(gate_outcome(f.r), GATE_PASSED);
	assert_int_equal(f.h.confirming, 0);
	assert_true(f.r->stored);
	assert_int_equal(f.mem.n, 4);
	assert_string_equal(f.mem.runs[3]->run_id, f.r->run->run_id);
	fixture_close(&f);
}

/* Slower than every stored run: measured more (the sleep really runs again:
 * the first extra round is half the budget of 5, 3 repetitions), decided on
 * the pooled samples at the second look, and the gate fails. */
static void test_regression_confirmed(void **state)
{
	struct fixture f;
	const struct rd_metric *wall;

	(void)state;
	fixture_open(&f, "{\"suite\": \"g\", \"project\": \"p\", \"benchmarks\": [{\"name\": \"slow\","
			 " \"command\": [\"sleep\", \"0.05\"], \"repetitions\": 5}]}", 3, 1e-6);
	fixture_gate(&f, NULL);
	assert_int_equal(f.h.confirming, 1);
	assert_int_equal(f.r->comparison->confirm_reps, 3);
	assert_int_equal(f.r->comparison->looks, 2);
	wall = rundoc_bench_find_metric(rundoc_find_bench(f.r->run, "slow"), "wall");
	assert_int_equal(wall->n_samples, 8);
	/* Every pooled sample is a real sleep of 50 ms. */
	for (size_t i = 0; i < wall->n_samples; i++)
		assert_true(wall->samples[i] >= 0.05);
	assert_int_equal(row(f.r->comparison, "wall")->v.kind, VERDICT_REGRESSION);
	assert_false(f.r->comparison->passed);
	assert_int_equal(gate_outcome(f.r), GATE_FAILED);
	assert_false(f.r->stored); /* no store given */

	/* --no-confirm decides on the first run: 5 samples, nothing re-measured. */
	f.o.confirm = false;
	fixture_gate(&f, NULL);
	assert_int_equal(f.h.confirming, 0);
	assert_int_equal(f.r->comparison->confirm_reps, 0);
	assert_int_equal(rundoc_bench_find_metric(rundoc_find_bench(f.r->run, "slow"), "wall")->n_samples, 5);
	assert_int_equal(gate_outcome(f.r), GATE_FAILED);
	fixture_close(&f);
}

/* A violated SLO fails the gate on its own: nothing stored to compare with. */
static void test_slo_failure(void **state)
{
	struct fixture f;

	(void)state;
	fixture_open(&f, "{\"suite\": \"g\", \"project\": \"p\", \"benchmarks\": [{\"name\": \"quick\","
			 " \"command\": [\"true\"], \"repetitions\": 3, \"slo\": {\"wall.max\": \"< 1ns\"}}]}",
		     0, 0);
	fixture_gate(&f, NULL);
	assert_int_equal(f.r->baseline.mode, BASELINE_NONE);
	assert_int_equal(row(f.r->comparison, "wall")->v.kind, VERDICT_NO_BASELINE);
	assert_int_equal(f.r->comparison->n_slos, 1);
	assert_false(f.r->comparison->slos[0].ok);
	assert_int_equal(f.r->comparison->slo_failed, 1);
	assert_int_equal(gate_outcome(f.r), GATE_FAILED);
	assert_int_equal(f.h.confirming, 0);
	fixture_close(&f);
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
	struct fixture f;
	struct down d = { 0, 0 };
	struct gate_store store = { .open = down_open, .spool = down_spool, .arg = &d };
	bool noted = false;

	(void)state;
	fixture_open(&f, "{\"suite\": \"g\", \"project\": \"p\", \"benchmarks\": [{\"name\": \"quick\","
			 " \"command\": [\"true\"], \"repetitions\": 3, \"slo\": {\"wall.max\": \"< 100s\"}}]}",
		     0, 0);
	f.src.open = down_open;
	f.src.arg = &d;
	fixture_gate(&f, &store);
	/* The source's failed open and the store's: the gate asks each once. */
	assert_int_equal(d.opens, 2);
	assert_int_equal(d.spools, 1);
	assert_string_equal(f.r->spooled, "/spool/x.json");
	assert_false(f.r->have_baseline);
	assert_int_equal(f.r->store_rc, ERR_INFRA);
	assert_int_equal(gate_outcome(f.r), GATE_STORE_FAILED);
	assert_int_equal(f.r->comparison->n_slos, 1);
	assert_true(f.r->comparison->slos[0].ok);
	for (size_t i = 0; i < f.r->comparison->n_notes; i++)
		noted |= strstr(f.r->comparison->notes[i], "only SLOs were checked") != NULL;
	assert_true(noted);
	fixture_close(&f);
}

/* A store that fails while the baseline is read (a missing privilege): the
 * run is still measured, checked against its SLOs and stored, and the
 * failure is the store's (exit 4), not the user's. */
static int failing_candidates(void *arg, const struct baseline_query *q, struct baseline_cand **out,
			      size_t *n, struct err *err)
{
	(void)arg;
	(void)q;
	*out = NULL;
	*n = 0;
	return err_set(err, ERR_FAIL, "database error: permission denied for table runs");
}

static void test_store_fails_reading(void **state)
{
	struct fixture f;
	struct gate_store store;
	bool noted = false;

	(void)state;
	fixture_open(&f, "{\"suite\": \"g\", \"project\": \"p\", \"benchmarks\": [{\"name\": \"quick\","
			 " \"command\": [\"true\"], \"repetitions\": 3, \"slo\": {\"wall.max\": \"< 1ns\"}}]}",
		     2, 1.0);
	f.src.candidates = failing_candidates;
	gate_store_memory(&f.mem, &store);
	fixture_gate(&f, &store);
	assert_false(f.r->have_baseline);
	assert_int_equal(f.r->store_rc, ERR_FAIL);
	assert_int_equal(gate_outcome(f.r), GATE_STORE_FAILED);
	assert_true(f.r->stored);
	assert_int_equal(f.mem.n, 3);
	assert_int_equal(f.r->comparison->slo_failed, 1);
	for (size_t i = 0; i < f.r->comparison->n_notes; i++)
		noted |= strcmp(f.r->comparison->notes[i],
				"database failed: no baseline comparison, only SLOs were checked") == 0;
	assert_true(noted);
	fixture_close(&f);
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

	struct rundoc *r[8];

	(void)state;
	for (int k = 0; k < 8; k++)
		r[k] = stored_run(s, k, 1.0, 3);
	r[0]->ci.pr = 7;                      /* a pull request: never a baseline */
	free(r[1]->git.branch);
	r[1]->git.branch = xstrdup("dev");    /* another branch */
	r[3]->partial = true;
	r[4]->context_trusted = false;        /* a pushed document */
	r[5]->ci.provider = xstrdup("github"); /* a pull_request event without a number */
	r[5]->ci.event = xstrdup("pull_request");
	free(r[6]->started_at);               /* from the future */
	r[6]->started_at = xstrdup("2999-01-01T00:00:00Z");
	r[7]->git.dirty = true;
	/* Decided when stored: changing a run afterwards changes nothing. */
	for (int k = 0; k < 8; k++)
		baseline_memory_add(&mem, r[k]);
	r[4]->context_trusted = true;
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

/*
 * What a benchmark that only blindness sends beside the base may cost
 * (core/gate.c, affordable_blind): the pairs the paired test needs at
 * alpha 0.01 are 7 (a load test 10); a benchmark that runs fewer would
 * take more than twice its own run, and the count names the setting.
 */
static void test_pairs_lacking(void **state)
{
	struct suite *s = load_suite("{\"suite\": \"p\", \"benchmarks\": ["
				     "{\"name\": \"six\", \"command\": [\"true\"], \"repetitions\": 6},"
				     "{\"name\": \"seven\", \"command\": [\"true\"], \"repetitions\": 7},"
				     "{\"name\": \"dflt\", \"command\": [\"true\"]},"
				     "{\"name\": \"one\", \"http\": {\"url\": \"http://127.0.0.1:1/\"}, "
				     "\"load\": {\"duration\": \"5s\"}},"
				     "{\"name\": \"ten\", \"http\": {\"url\": \"http://127.0.0.1:1/\"}, "
				     "\"load\": {\"duration\": \"1s\", \"repetitions\": 10}}]}");
	const char *key = NULL, *in = NULL;

	(void)state;
	assert_int_equal(headbase_pairs_lacking(s, &s->benches[0], 0, &key, &in), 7);
	assert_string_equal(key, "repetitions");
	assert_string_equal(in, "");
	assert_int_equal(headbase_pairs_lacking(s, &s->benches[1], 0, &key, &in), 0);
	assert_int_equal(headbase_pairs_lacking(s, &s->benches[2], 0, &key, &in), 0); /* 10 by default */
	assert_int_equal(headbase_pairs_lacking(s, &s->benches[3], 0, &key, &in), 10);
	assert_string_equal(in, " in its \"load\"");
	assert_int_equal(headbase_pairs_lacking(s, &s->benches[4], 0, &key, &in), 0);
	/* --repetitions N counts instead of the declared count */
	assert_int_equal(headbase_pairs_lacking(s, &s->benches[1], 6, &key, &in), 7);
	assert_int_equal(headbase_pairs_lacking(s, &s->benches[0], 12, &key, &in), 0);
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
		cmocka_unit_test(test_store_fails_reading),
		cmocka_unit_test(test_memory_source_filters),
		cmocka_unit_test(test_pairs_lacking),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
