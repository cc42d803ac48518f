/*
 * Unit tests for core/runner_cmd.c and core/run.c with real child
 * processes: metrics, failures with stderr, timeouts that kill a forking
 * child, emitted metrics good and garbled, hooks, interleaved order,
 * selection, adaptive counts, instruction counts.
 *
 * Suites are written with single quotes; they become double quotes.  Each
 * test works in its own temporary folder, which is the suite's folder and
 * so the commands' working folder.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../../core/perfcount.h"
#include "../../core/proc.h"
#include "../../core/run.h"
#include "../../core/suite.h"
#include "../../core/util.h"

struct fixture {
	char dir[64];
	struct suite *suite;
	struct rundoc *rd;
};

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/perfgate-test-run-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	char *cmd = xasprintf("rm -rf '%s'", f->dir);
	suite_free(f->suite);
	rundoc_free(f->rd);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", f->dir);
	free(cmd);
	free(f);
	return 0;
}

static void load(struct fixture *f, const char *text)
{
	char *path = xasprintf("%s/suite.json", f->dir);
	char *copy = xstrdup(text);
	struct errlist problems = ERRLIST_INIT;
	struct err err = ERR_INIT;

	for (char *c = copy; *c; c++)
		if (*c == '\'')
			*c = '"';
	assert_int_equal(file_write_atomic(path, copy, strlen(copy), &err), 0);
	if (suite_load(&f->suite, path, &problems, &err) != 0)
		print_error("suite: %s\n", err.msg);
	assert_non_null(f->suite);
	errlist_release(&problems);
	free(copy);
	free(path);
}

/* run_suite with no git/machine context (fast, and no repository needed). */
static int run(struct fixture *f, struct run_options *o, struct err *err)
{
	struct run_options dflt = RUN_OPTIONS_INIT;
	if (!o)
		o = &dflt;
	o->no_context = true;
	return run_suite(f->suite, o, &f->rd, err);
}

static void write_in(struct fixture *f, const char *name, const char *text)
{
	char *path = xasprintf("%s/%s", f->dir, name);
	struct err err = ERR_INIT;
	assert_int_equal(file_write_atomic(path, text, strlen(text), &err), 0);
	free(path);
}

static char *read_in(struct fixture *f, const char *name)
{
	char *path = xasprintf("%s/%s", f->dir, name);
	char *text = NULL;
	struct err err = ERR_INIT;
	size_t len;
	if (file_read(path, &text, &len, &err) != 0)
		text = NULL;
	free(path);
	return text;
}

static const char *extra_str(const struct rd_bench *b, const char *key)
{
	const cJSON *v = b->extra ? cJSON_GetObjectItem(b->extra, key) : NULL;
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static void test_metrics(void **state)
{
	struct fixture *f = *state;
	struct err err = ERR_INIT;
	const struct rd_bench *b;
	static const char *const names[] = { "wall", "user", "sys", "max_rss", "cpu" };

	load(f, "{'suite': 's', 'benchmarks': [{'name': 'spin', 'shell': 'i=0; while [ $i -lt 2000 ]; do i=$((i+1)); done',"
		" 'repetitions': 4, 'warmup': 1, 'tags': ['cpu']}]}");
	assert_int_equal(run(f, NULL, &err), 0);
	assert_int_equal(f->rd->n_benches, 1);
	b = &f->rd->benches[0];
	assert_string_equal(b->name, "spin");
	assert_int_equal(b->kind, RUNDOC_KIND_COMMAND);
	assert_int_equal(b->status, RUNDOC_STATUS_OK);
	assert_string_equal(b->config_hash, f->suite->benches[0].config_hash);
	assert_int_equal(b->n_metrics, 5);
	for (size_t i = 0; i < 5; i++) {
		assert_string_equal(b->metrics[i].name, names[i]);
		assert_int_equal(b->metrics[i].n_samples, 4);
		assert_true(b->metrics[i].summary.n == 4);
	}
	assert_string_equal(b->metrics[0].unit, "s");
	assert_string_equal(b->metrics[3].unit, "B");
	for (size_t k = 0; k < 4; k++) {
		/* A shell counting to 2000 takes CPU time and memory. */
		assert_true(b->metrics[0].samples[k] > 0);
		assert_true(b->metrics[1].samples[k] + b->metrics[2].samples[k] > 0);
		assert_true(b->metrics[3].samples[k] > 100 * 1024);
		/* cpu is user + sys exactly */
		assert_true(fabs(b->metrics[4].samples[k] - (b->metrics[1].samples[k] + b->metrics[2].samples[k])) < 1e-9);
		/* Wall time covers at least the CPU time of a single-threaded shell
		 * (allow rusage's tick granularity). */
		assert_true(b->metrics[0].samples[k] + 0.005 >= b->metrics[1].samples[k]);
	}
	/* Declared tags travel with the result. */
	assert_string_equal(cJSON_GetArrayItem(cJSON_GetObjectItem(b->extra, "tags"), 0)->valuestring, "cpu");
	assert_string_equal(f->rd->suite, "s");
	assert_non_null(f->rd->run_id);
	assert_non_null(f->rd->started_at);
	assert_non_null(f->rd->finished_at);
	assert_false(f->rd->partial);
}

static void test_failure_among_passing(void **state)
{
	struct fixture *f = *state;
	struct err err = ERR_INIT;
	const struct rd_bench *b;

	load(f, "{'suite': 's', 'benchmarks': ["
		"{'name': 'ok1', 'command': ['true'], 'repetitions': 2},"
		"{'name': 'bad', 'shell': 'echo line one >&2; echo line two >&2; exit 7', 'repetitions': 3},"
		"{'name': 'ok2', 'command': ['true'], 'repetitions': 2},"
		"{'name': 'expected', 'shell': 'exit 3', 'expect_exit': [0, 3], 'repetitions': 2},"
		"{'name': 'missing', 'command': ['/nonexistent/program'], 'repetitions': 2}]}");
	assert_int_equal(run(f, NULL, &err), ERR_RUN);
	assert_string_equal(err.msg, "benchmark 'bad' failed: repetition 1: exited with status 7 (and 1 more failed)");
	assert_int_equal(f->rd->n_benches, 5);
	assert_int_equal(f->rd->benches[0].status, RUNDOC_STATUS_OK);
	b = &f->rd->benches[1];
	assert_int_equal(b->status, RUNDOC_STATUS_FAILED);
	assert_string_equal(b->error, "repetition 1: exited with status 7");
	assert_string_equal(extra_str(b, "stderr_tail"), "line one\nline two");
	assert_int_equal(b->metrics[0].n_samples, 0);
	assert_int_equal(f->rd->benches[2].status, RUNDOC_STATUS_OK);
	assert_int_equal(f->rd->benches[2].metrics[0].n_samples, 2);
	assert_int_equal(f->rd->benches[3].status, RUNDOC_STATUS_OK);
	b = &f->rd->benches[4];
	assert_int_equal(b->status, RUNDOC_STATUS_FAILED);
	assert_string_equal(b->error, "repetition 1: cannot run '/nonexistent/program': No such file or directory");
}

static void test_timeout_kills_forking_child(void **state)
{
	struct fixture *f = *state;
	struct err err = ERR_INIT;
	const struct rd_bench *b;
	char *pidtext;
	long pid;
	bool gone = false;

	/* The shell starts a grandchild that sleeps forever, records its pid,
	 * and waits: only killing the whole group ends it. */
	load(f, "{'suite': 's', 'benchmarks': [{'name': 'hang', 'shell': 'sleep 1000 & echo $! > child.pid; wait',"
		" 'timeout': '300ms', 'repetitions': 2}]}");
	assert_int_equal(run(f, NULL, &err), ERR_RUN);
	b = &f->rd->benches[0];
	assert_int_equal(b->status, RUNDOC_STATUS_FAILED);
	assert_string_equal(b->error, "repetition 1: timed out after 0.3s (the whole process group was killed)");
	pidtext = read_in(f, "child.pid");
	assert_non_null(pidtext);
	pid = strtol(pidtext, NULL, 10);
	assert_true(pid > 1);
	/* Reaping by init after SIGKILL is not instant: look for up to 5 s. */
	for (int i = 0; i < 500 && !gone; i++) {
		char *stat_path = xasprintf("/proc/%ld/stat", pid);
		char *st = NULL;
		size_t len;
		struct err e = ERR_INIT;
		if (file_read(stat_path, &st, &len, &e) != 0) {
			gone = true;
		} else {
			const char *close = strrchr(st, ')');
			gone = close && close[1] == ' ' && close[2] == 'Z'; /* a zombie is dead */
		}
		free(st);
		free(stat_path);
		if (!gone) {
			struct timespec ts = { 0, 10 * 1000 * 1000 };
			nanosleep(&ts, NULL);
		}
	}
	assert_true(gone);
	free(pidtext);
}

static void test_emitted_metrics(void **state)
{
	struct fixture *f = *state;
	struct err err = ERR_INIT;
	const struct rd_bench *b;
	const struct rd_metric *m;

	write_in(f, "emit.sh",
		 "n=$(cat n 2>/dev/null || echo 0); n=$((n+1)); echo $n > n\n"
		 "printf '{\"accuracy\": {\"value\": 0.9%s, \"unit\": \"1\", \"direction\": \"higher\"},"
		 " \"tokens_per_s\": %s}' $n $((n*100)) > \"$PERFGATE_METRICS_FILE\"\n");
	load(f, "{'suite': 's', 'benchmarks': [{'name': 'emit', 'emits': 'json', 'repetitions': 3, 'command': ['sh', 'emit.sh']}]}");
	assert_int_equal(run(f, NULL, &err), 0);
	b = &f->rd->benches[0];
	assert_int_equal(b->status, RUNDOC_STATUS_OK);
	m = rundoc_bench_find_metric(b, "accuracy");
	assert_non_null(m);
	assert_int_equal(m->direction, RD_HIGHER);
	assert_string_equal(m->unit, "1");
	assert_int_equal(m->n_samples, 3);
	assert_true(m->samples[0] == 0.91 && m->samples[1] == 0.92 && m->samples[2] == 0.93);
	m = rundoc_bench_find_metric(b, "tokens_per_s");
	assert_non_null(m);
	assert_int_equal(m->direction, RD_LOWER);
	assert_true(m->samples[0] == 100 && m->samples[2] == 300);
}

static void test_emitted_garbled(void **state)
{
	static const struct {
		const char *write;
		const char *error;
	} cases[] = {
		{ "echo not json > \"$PERFGATE_METRICS_FILE\"",
		  "repetition 1: the metrics file is not valid JSON" },
		{ "echo [1] > \"$PERFGATE_METRICS_FILE\"",
		  "repetition 1: the metrics file: expected a JSON object of metrics, got an array" },
		{ "echo '{\"x\": \"fast\"}' > \"$PERFGATE_METRICS_FILE\"",
		  "repetition 1: the metrics file: \"x\": expected a number or {\"value\": NUMBER}, got \"fast\"" },
		{ "echo '{\"x\": {\"value\": 1, \"direction\": \"up\"}}' > \"$PERFGATE_METRICS_FILE\"",
		  "repetition 1: the metrics file: \"x\".direction: expected \"lower\" or \"higher\", got \"up\"" },
		{ "echo '{\"wall\": 1}' > \"$PERFGATE_METRICS_FILE\"",
		  "repetition 1: the metrics file: \"wall\" is a built-in metric" },
		/* names the database would refuse fail the repetition, not the store */
		{ "printf '{\"a\\\\u001b[2J\": 1}' > \"$PERFGATE_METRICS_FILE\"",
		  "repetition 1: the metrics file: \"a\x1b[2J\": the name contains a control character (U+001B)" },
		{ "echo '{\"x\": {\"value\": 1, \"unit\": \"s\\\\n\"}}' > \"$PERFGATE_METRICS_FILE\"",
		  "repetition 1: the metrics file: \"x\": the unit contains a control character (U+000A)" },
		{ "true",
		  "repetition 1: the command did not write its metrics to $PERFGATE_METRICS_FILE" },
		{ "if [ -e once ]; then echo '{\"b\": 1}'; else touch once; echo '{\"a\": 1}'; fi > \"$PERFGATE_METRICS_FILE\"",
		  "repetition 2: the metrics file: \"b\" was not in the first repetition's" },
		{ "if [ -e once2 ]; then echo '{}'; else touch once2; echo '{\"a\": 1}'; fi > \"$PERFGATE_METRICS_FILE\"",
		  "repetition 2: the metrics file: \"a\" is missing (the first repetition had it)" },
	};
	struct fixture *f = *state;

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct err err = ERR_INIT;
		const char *text = "{'suite': 's', 'benchmarks': [{'name': 'e', 'emits': 'json', 'repetitions': 2,"
				   " 'command': ['sh', 'w.sh']}]}";
		write_in(f, "w.sh", cases[i].write);
		suite_free(f->suite);
		rundoc_free(f->rd);
		f->suite = NULL;
		f->rd = NULL;
		load(f, text);
		assert_int_equal(run(f, NULL, &err), ERR_RUN);
		if (strcmp(f->rd->benches[0].error, cases[i].error) != 0)
			print_error("case %zu: got %s\n", i, f->rd->benches[0].error);
		assert_int_equal(f->rd->benches[0].status, RUNDOC_STATUS_FAILED);
		assert_string_equal(f->rd->benches[0].error, cases[i].error);
	}
}

static void test_hooks(void **state)
{
	struct fixture *f = *state;
	struct err err = ERR_INIT;
	char *log;

	load(f, "{'suite': 's', 'benchmarks': [{'name': 'h', 'repetitions': 2, 'warmup': 1,"
		" 'setup': 'echo setup >> log', 'prepare': ['sh', '-c', 'echo prepare >> log'],"
		" 'shell': 'echo run >> log', 'conclude': 'echo conclude >> log', 'cleanup': 'echo cleanup >> log'}]}");
	assert_int_equal(run(f, NULL, &err), 0);
	log = read_in(f, "log");
	assert_non_null(log);
	assert_string_equal(log, "setup\n"
				 "prepare\nrun\nconclude\n"   /* warmup */
				 "prepare\nrun\nconclude\n"
				 "prepare\nrun\nconclude\n"
				 "cleanup\n");
	free(log);

	/* A failing setup fails the benchmark without running it. */
	suite_free(f->suite);
	rundoc_free(f->rd);
	f->rd = NULL;
	f->suite = NULL;
	load(f, "{'suite': 's', 'benchmarks': [{'name': 'h', 'setup': 'echo no database >&2; exit 1', 'shell': 'echo ran >> ran'}]}");
	assert_int_equal(run(f, NULL, &err), ERR_RUN);
	assert_string_equal(f->rd->benches[0].error, "setup exited with status 1");
	assert_string_equal(extra_str(&f->rd->benches[0], "stderr_tail"), "no database");
	assert_null(read_in(f, "ran"));
}

static void test_env_cwd(void **state)
{
	struct fixture *f = *state;
	struct err err = ERR_INIT;
	char *out;
	char *sub = xasprintf("%s/sub", f->dir);

	assert_int_equal(mkdir_p(sub, &err), 0);
	free(sub);
	write_in(f, "e.sh", "echo \"$A $B $(pwd)\" > out; cat > stdin.txt\n");
	load(f, "{'suite': 's', 'defaults': {'env': {'A': 'from-defaults'}}, 'benchmarks': [{'name': 'e',"
		" 'cwd': 'sub', 'env': {'B': 'mine'}, 'repetitions': 1, 'command': ['sh', '../e.sh']}]}");
	assert_int_equal(run(f, NULL, &err), 0);
	out = read_in(f, "sub/out");
	assert_non_null(out);
	{
		char *want = xasprintf("from-defaults mine %s/sub\n", f->dir);
		assert_string_equal(out, want);
		free(want);
	}
	free(out);
	out = read_in(f, "sub/stdin.txt");
	assert_string_equal(out, ""); /* stdin is /dev/null */
	free(out);
}

static void test_interleaved(void **state)
{
	struct fixture *f = *state;
	struct err err = ERR_INIT;
	char *log;

	load(f, "{'suite': 's', 'order': 'interleaved', 'benchmarks': ["
		"{'name': 'a', 'shell': 'echo a >> log', 'repetitions': 3},"
		"{'name': 'b', 'shell': 'echo b >> log', 'repetitions': 2, 'warmup': 1},"
		"{'name': 'c', 'shell': 'echo c >> log', 'repetitions': 3}]}");
	assert_int_equal(run(f, NULL, &err), 0);
	log = read_in(f, "log");
	/* Warmups first (b's one), then round-robin until each is done. */
	assert_string_equal(log, "b\na\nb\nc\na\nb\nc\na\nc\n");
	free(log);
	assert_int_equal(f->rd->n_benches, 3);
	assert_string_equal(f->rd->benches[0].name, "a");
	assert_int_equal(f->rd->benches[1].metrics[0].n_samples, 2);

	/* The same suite sequentially. */
	suite_free(f->suite);
	rundoc_free(f->rd);
	f->rd = NULL;
	f->suite = NULL;
	{
		char *p = xasprintf("%s/log", f->dir);
		assert_int_equal(unlink(p), 0);
		free(p);
	}
	load(f, "{'suite': 's', 'benchmarks': ["
		"{'name': 'a', 'shell': 'echo a >> log', 'repetitions': 3},"
		"{'name': 'b', 'shell': 'echo b >> log', 'repetitions': 2, 'warmup': 1},"
		"{'name': 'c', 'shell': 'echo c >> log', 'repetitions': 3}]}");
	assert_int_equal(run(f, NULL, &err), 0);
	log = read_in(f, "log");
	assert_string_equal(log, "a\na\na\nb\nb\nb\nc\nc\nc\n");
	free(log);
}

static void test_selection_and_overrides(void **state)
{
	struct fixture *f = *state;
	struct err err = ERR_INIT;
	struct run_options o = RUN_OPTIONS_INIT;
	static const char *const only[] = { "gz-9" };

	load(f, "{'suite': 's', 'benchmarks': [{'name': 'gz-{l}', 'params': {'l': [1, 6, 9]}, 'command': ['true'],"
		" 'repetitions': 5}, {'name': 'other', 'command': ['true']}]}");
	o.bench_glob = "gz-*";
	o.repetitions = 2;
	assert_int_equal(run(f, &o, &err), 0);
	assert_int_equal(f->rd->n_benches, 3);
	assert_int_equal(f->rd->benches[2].metrics[0].n_samples, 2);
	assert_int_equal((int)cJSON_GetObjectItem(f->rd->benches[2].params, "l")->valuedouble, 9);
	rundoc_free(f->rd);
	f->rd = NULL;

	o = (struct run_options)RUN_OPTIONS_INIT;
	o.only = only;
	o.n_only = 1;
	o.repetitions = 3;
	assert_int_equal(run(f, &o, &err), 0);
	assert_int_equal(f->rd->n_benches, 1);
	assert_string_equal(f->rd->benches[0].name, "gz-9");
	assert_int_equal(f->rd->benches[0].metrics[0].n_samples, 3);
	rundoc_free(f->rd);
	f->rd = NULL;

	o = (struct run_options)RUN_OPTIONS_INIT;
	o.bench_glob = "nothing*";
	assert_int_equal(run(f, &o, &err), ERR_INPUT);
	assert_null(f->rd);
	assert_string_equal(err.msg, "no benchmark of suite 's' matches 'nothing*'");
}

static void test_adaptive(void **state)
{
	struct fixture *f = *state;
	struct err err = ERR_INIT;
	size_t n;

	/* A constant metric cannot meet a CI target before n = 6 (the smallest
	 * n with a 95% interval), and must stop by max_repetitions. */
	load(f, "{'suite': 's', 'benchmarks': [{'name': 'a', 'command': ['true'], 'min_repetitions': 2,"
		" 'max_repetitions': 9, 'target': '90%'}]}");
	assert_int_equal(run(f, NULL, &err), 0);
	n = f->rd->benches[0].metrics[0].n_samples;
	assert_true(n >= 6 && n <= 9);
	rundoc_free(f->rd);
	f->rd = NULL;
	suite_free(f->suite);
	f->suite = NULL;

	/* An unreachable target stops at max_repetitions. */
	load(f, "{'suite': 's', 'benchmarks': [{'name': 'a', 'command': ['true'], 'max_repetitions': 7,"
		" 'target': 0.0000001}]}");
	assert_int_equal(run(f, NULL, &err), 0);
	assert_int_equal(f->rd->benches[0].metrics[0].n_samples, 7);
}

static void test_instructions_valgrind(void **state)
{
	struct fixture *f = *state;
	struct err err = ERR_INIT;
	const struct rd_metric *m;
	setenv("PERFGATE_COUNTER", "valgrind", 1);
	load(f, "{'suite': 's', 'benchmarks': [{'name': 'count', 'shell': 'true', 'measure': ['instructions'],"
		" 'repetitions': 2}, {'name': 'cyc', 'command': ['true'], 'measure': ['cycles'], 'repetitions': 1}]}");
	assert_int_equal(run(f, NULL, &err), ERR_RUN);
	unsetenv("PERFGATE_COUNTER");
	assert_int_equal(f->rd->benches[0].status, RUNDOC_STATUS_OK);
	m = rundoc_bench_find_metric(&f->rd->benches[0], "instructions");
	assert_non_null(m);
	assert_int_equal(m->n_samples, 2);
	/* Starting a dynamically linked shell takes far more than 10^4 instructions. */
	assert_true(m->samples[0] > 1e4);
	assert_string_equal(cJSON_GetObjectItem(m->extra, "source")->valuestring, "valgrind-cachegrind");
	/* The counter's source is part of the configuration. */
	assert_string_not_equal(f->rd->benches[0].config_hash, f->suite->benches[0].config_hash);
	/* Cycles need hardware counters. */
	assert_int_equal(f->rd->benches[1].status, RUNDOC_STATUS_FAILED);
	assert_non_null(strstr(f->rd->benches[1].error, "\"cycles\" needs hardware counters"));
}

/* Hardware counters, where the kernel offers them (skipped elsewhere). */
static void test_instructions_hardware(void **state)
{
	struct fixture *f = *state;
	struct err err = ERR_INIT;
	const struct rd_metric *small, *big;

	unsetenv("PERFGATE_COUNTER");
	load(f, "{'suite': 's', 'benchmarks': ["
		"{'name': 'small', 'shell': 'i=0; while [ $i -lt 100 ]; do i=$((i+1)); done', 'measure': ['instructions', 'cycles'], 'repetitions': 3},"
		"{'name': 'big', 'shell': 'i=0; while [ $i -lt 100000 ]; do i=$((i+1)); done', 'measure': ['instructions'], 'repetitions': 3}]}");
	assert_int_equal(run(f, NULL, &err), 0);
	small = rundoc_bench_find_metric(&f->rd->benches[0], "instructions");
	big = rundoc_bench_find_metric(&f->rd->benches[1], "instructions");
	assert_non_null(small);
	assert_non_null(big);
	assert_string_equal(cJSON_GetObjectItem(small->extra, "source")->valuestring, "perf_event");
	assert_non_null(rundoc_bench_find_metric(&f->rd->benches[0], "cycles"));
	/* Children are counted (inherit): 1000 times the loop is far more work
	 * than the shell's start-up plus 100 iterations. */
	assert_true(big->summary.median > 30 * small->summary.median);
	assert_true(small->summary.median > 1e4);
}

/* Tests that need what this machine may lack are registered only when it
 * has it (cmocka's skip() reads as a failure in TAP). */
int main(void)
{
	const struct CMUnitTest always[] = {
		cmocka_unit_test_setup_teardown(test_metrics, setup, teardown),
		cmocka_unit_test_setup_teardown(test_failure_among_passing, setup, teardown),
		cmocka_unit_test_setup_teardown(test_timeout_kills_forking_child, setup, teardown),
		cmocka_unit_test_setup_teardown(test_emitted_metrics, setup, teardown),
		cmocka_unit_test_setup_teardown(test_emitted_garbled, setup, teardown),
		cmocka_unit_test_setup_teardown(test_hooks, setup, teardown),
		cmocka_unit_test_setup_teardown(test_env_cwd, setup, teardown),
		cmocka_unit_test_setup_teardown(test_interleaved, setup, teardown),
		cmocka_unit_test_setup_teardown(test_selection_and_overrides, setup, teardown),
		cmocka_unit_test_setup_teardown(test_adaptive, setup, teardown),
	};
	struct CMUnitTest tests[ARRAY_SIZE(always) + 2];
	size_t n = 0;
	char *vg = proc_which("valgrind");

	for (size_t i = 0; i < ARRAY_SIZE(always); i++)
		tests[n++] = always[i];
	if (vg)
		tests[n++] = (struct CMUnitTest)cmocka_unit_test_setup_teardown(test_instructions_valgrind, setup, teardown);
	else
		fprintf(stderr, "# valgrind is not installed: instruction counts through valgrind not tested\n");
	free(vg);
	if (perfcount_hardware_available())
		tests[n++] = (struct CMUnitTest)cmocka_unit_test_setup_teardown(test_instructions_hardware, setup, teardown);
	else
		fprintf(stderr, "# no hardware counters here: instruction counts through perf_event_open not tested\n");
	return _cmocka_run_group_tests("test_runner_cmd", tests, n, NULL, NULL);
}
