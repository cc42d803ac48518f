/*
 * Unit tests for core/suite.c: a table of malformed suites, each with the
 * exact message it must produce, and the expansions (params matrices,
 * defaults, variants) and configuration hashes of good ones.
 *
 * Suites are written with single quotes for readability; write_suite()
 * turns them into double quotes.
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

#include "../../core/suite.h"
#include "../../core/util.h"

static char *write_suite(const char *text)
{
	char tmpl[] = "/tmp/perfgate-test-suite-XXXXXX";
	char *copy = xstrdup(text);
	struct err err = ERR_INIT;
	char *path;
	int fd = mkstemp(tmpl);

	assert_true(fd >= 0);
	close(fd);
	for (char *c = copy; *c; c++)
		if (*c == '\'')
			*c = '"';
	path = xstrdup(tmpl);
	assert_int_equal(file_write_atomic(path, copy, strlen(copy), &err), 0);
	free(copy);
	return path;
}

/* Load text; return the problems (caller releases) and the suite (or NULL). */
static struct suite *load(const char *text, struct errlist *problems)
{
	char *path = write_suite(text);
	struct suite *s = NULL;
	struct err err = ERR_INIT;
	int rc = suite_load(&s, path, problems, &err);

	if (rc == 0)
		assert_int_equal(problems->n, 0);
	else
		assert_int_equal(rc, ERR_INPUT);
	unlink(path);
	free(path);
	return s;
}

#define OK_BENCH "{'name': 'a', 'command': ['true']}"

static const struct bad_case {
	const char *suite;
	const char *message;
} bad[] = {
	{ "{'benchmarks': [" OK_BENCH "]}",
	  "suite: missing, expected a non-empty string naming the suite" },
	{ "{'suite': 3, 'benchmarks': [" OK_BENCH "]}",
	  "suite: expected a non-empty string, got 3" },
	{ "{'suite': 's'}",
	  "benchmarks: missing, expected a non-empty array of benchmarks" },
	{ "{'suite': 's', 'benchmarks': []}",
	  "benchmarks: expected a non-empty array of benchmarks, got an array" },
	{ "{'suite': 's', 'descripton': 'x', 'benchmarks': [" OK_BENCH "]}",
	  "descripton: unknown key; did you mean \"description\"?" },
	{ "{'suite': 's', 'benchmarks': [{'name': 'a', 'command': ['true'], 'repetitions': 'ten'}]}",
	  "benchmarks[0].repetitions: expected an integer >= 1, got \"ten\"" },
	{ "{'suite': 's', 'benchmarks': [" OK_BENCH ", {'name': 'b', 'command': ['true'], 'repetitions': 0}]}",
	  "benchmarks[1].repetitions: expected an integer >= 1, got 0" },
	{ "{'suite': 's', 'benchmarks': [{'name': 'a', 'command': ['true'], 'repetitions': 2.5}]}",
	  "benchmarks[0].repetitions: expected an integer >= 1, got 2.5" },
	{ "{'suite': 's', 'benchmarks': [{'name': 'a', 'command': ['true'], 'repetiton': 5}]}",
	  "benchmarks[0].repetiton: unknown key; did you mean \"repetitions\"?" },
	{ "{'suite': 's', 'benchmarks': [{'command': ['true']}]}",
	  "benchmarks[0].name: missing, expected a non-empty string" },
	{ "{'suite': 's', 'benchmarks': [{'name': 'a'}]}",
	  "benchmarks[0]: expected one of \"command\", \"shell\", \"http\" or \"journey\"" },
	{ "{'suite': 's', 'benchmarks': [{'name': 'a', 'command': ['true'], 'shell': 'true'}]}",
	  "benchmarks[0]: \"command\" and \"shell\" exclude each other" },
	{ "{'suite': 's', 'benchmarks': [{'name': 'a', 'command': 'ls -l'}]}",
	  "benchmarks[0].command: expected a non-empty array of strings (the program and its arguments), got \"ls -l\"" },
	{ "{'suite': 's', 'benchmarks': [{'name': 'a', 'command': ['ls', 3]}]}",
	  "benchmarks[0].command[1]: expected a string, got 3" },
	{ "{'suite': 's', 'benchmarks': [{'name': 'a', 'command': ['true'], 'warmup': -1}]}",
	  "benchmarks[0].warmup: expected an integer >= 0, got -1" },
	{ "{'suite': 's', 'benchmarks': [{'name': 'a', 'command': ['true'], 'timeout': 'soon'}]}",
	  "benchmarks[0].timeout: expected a duration > 0 (\"30s\", \"250ms\" or a number of seconds), got \"soon\"" },
	{ "{'suite': 's', 'benchmarks': [{'name': 'a', 'command': ['true'], 'env': {'A': 1}}]}",
	  "benchmarks[0].env.A: expected a string, got 1" },
	{ "{'suite': 's', 'benchmarks': [{'name': 'a', 'command': ['true'], 'expect_exit': [0, 300]}]}",
	  "benchmarks[0].expect_exit[1]: expected an exit code 0..255, got 300" },
	{ "{'suite': 's', 'benchmarks': [{'name': 'a', 'command': ['true'], 'measure': ['instructons']}]}",
	  "benchmarks[0].measure[0]: unknown measure \"instructons\"; did you mean \"instructions\"?" },
	{ "{'suite': 's', 'benchmarks': [{'name': 'a', 'command': ['true'], 'emits': 'xml'}]}",
	  "benchmarks[0].emits: expected \"json\", got \"xml\"" },
	{ "{'suite': 's', 'order': 'random', 'benchmarks': [" OK_BENCH "]}",
	  "order: expected \"sequential\" or \"interleaved\", got \"random\"" },
	{ "{'suite': 's', 'benchmarks': [{'name': 'a-{n}', 'params': {'n': []}, 'command': ['true']}]}",
	  "benchmarks[0].params.n: expected a non-empty list of strings, numbers or booleans, got an array" },
	{ "{'suite': 's', 'benchmarks': [{'name': 'a-{n}', 'params': {'n': [1, {'x': 2}]}, 'command': ['true']}]}",
	  "benchmarks[0].params.n[1]: expected a string, number or boolean, got an object" },
	{ "{'suite': 's', 'benchmarks': [{'name': 'a', 'params': {'n': [1, 2]}, 'command': ['echo', '{n}']}]}",
	  "benchmarks[0].name: \"a\" is the same for several parameter combinations; put a {parameter} in it" },
	{ "{'suite': 's', 'benchmarks': [" OK_BENCH ", " OK_BENCH "]}",
	  "benchmarks[1].name: \"a\" is not unique (also benchmarks[0])" },
	{ "{'suite': 's', 'benchmarks': [{'name': 'a-{n}', 'params': {'n': [1, 2]}, 'command': ['true']}, {'name': 'a-2', 'command': ['true']}]}",
	  "benchmarks[1].name: \"a-2\" is not unique (also benchmarks[0])" },
	{ "{'suite': 's', 'benchmarks': [{'name': 'a', 'command': ['true'], 'repetitions': 5, 'min_repetitions': 3}]}",
	  "benchmarks[0].min_repetitions: cannot be combined with \"repetitions\"" },
	{ "{'suite': 's', 'benchmarks': [{'name': 'a', 'command': ['true'], 'min_repetitions': 10, 'max_repetitions': 5}]}",
	  "benchmarks[0].max_repetitions: must be >= min_repetitions (10), got 5" },
	{ "{'suite': 's', 'benchmarks': [{'name': 'a', 'command': ['true'], 'target': '200%'}]}",
	  "benchmarks[0].target: expected a relative width like \"5%\" or 0.05 (between 0 and 1), got \"200%\"" },
	{ "{'suite': 's', 'benchmarks': [{'name': 'a', 'command': ['true'], 'min_time': '-1s'}]}",
	  "benchmarks[0].min_time: expected a duration >= 0 (\"30s\", \"250ms\" or a number of seconds), got \"-1s\"" },
	{ "{'suite': 's', 'defaults': {'repetitons': 3}, 'benchmarks': [" OK_BENCH "]}",
	  "defaults.repetitons: unknown key; did you mean \"repetitions\"?" },
	{ "{'suite': 's', 'defaults': {'warmup': 'two'}, 'benchmarks': [" OK_BENCH "]}",
	  "defaults.warmup: expected an integer >= 0, got \"two\"" },
	{ "{'suite': 's', 'baseline': {'branch': 'main', 'runs': 0}, 'benchmarks': [" OK_BENCH "]}",
	  "baseline.runs: expected an integer >= 1, got 0" },
	{ "{'suite': 's', 'baseline': {'brnach': 'main'}, 'benchmarks': [" OK_BENCH "]}",
	  "baseline.brnach: unknown key; did you mean \"branch\"?" },
	{ "{'suite': 's', 'benchmarks': [{'name': 'a', 'command': ['true'], 'load': {'rate': 5}}]}",
	  "benchmarks[0].load: only for \"http\" and \"journey\" benchmarks" },
	{ "{'suite': 's', 'benchmarks': [{'name': 'a', 'command': ['true'], 'variants': [{'name': 'fast'}, {'name': 'slow'}], 'reference': 'fats'}]}",
	  "benchmarks[0].reference: no variant named \"fats\"; did you mean \"fast\"?" },
	{ "{'suite': 's', 'benchmarks': [{'name': 'a', 'command': ['true'], 'variants': [{'name': 'x'}, {'name': 'x'}]}]}",
	  "benchmarks[0].variants[1].name: variant \"x\" is declared twice" },
	{ "{'suite': 's', 'benchmarks': [{'name': 'a', 'command': ['true'], 'variants': [{'name': 'x', 'params': {}}]}]}",
	  "benchmarks[0].variants[0].params: not allowed in a variant" },
	{ "{'suite': 's', 'benchmarks': [{'name': 'a', 'command': ['true'], 'variants': []}]}",
	  "benchmarks[0].variants: expected a non-empty list of objects, each with a \"name\", got an array" },
	{ "[1, 2]",
	  "the top level: expected an object, got an array" },
	{ "{'suite': 's', 'benchmarks': [{'name': 'a@b', 'command': ['true']}]}",
	  "benchmarks[0].name: \"a@b\": '@' is reserved for variants (NAME@VARIANT)" },
	{ "{'suite': 's', 'benchmarks': [{'name': 'a', 'command': ['true'], 'cwd': 5}]}",
	  "benchmarks[0].cwd: expected a non-empty string, got 5" },
	{ "{'suite': 's', 'benchmarks': [{'name': 'a', 'command': ['true'], 'setup': 5}]}",
	  "benchmarks[0].setup: expected a shell command or an array of strings, got 5" },
	{ "{'suite': 's', 'benchmarks': [{'name': 'a', 'name': 'b', 'command': ['true']}]}",
	  "benchmarks[0].name: duplicate key" },
	{ "{'suite': 's', 'changepoints': 3, 'benchmarks': [" OK_BENCH "]}",
	  "changepoints: expected an object, got 3" },
	{ "{'suite': 's', 'benchmarks': [7]}",
	  "benchmarks[0]: expected an object, got 7" },
	{ "{'suite': 's', 'benchmarks': [{'name': 'a', 'shell': ''}]}",
	  "benchmarks[0].shell: expected a non-empty string, got \"\"" },
	{ "{'suite': 's', 'benchmarks': [{'name': 'a-{r}', 'params': {'r': ['x']}, 'command': ['true'], 'repetitions': '{r}'}]}",
	  "benchmarks[0].repetitions: expected an integer >= 1, got \"x\"" },
	{ "{'suite': 's', 'benchmarks': [{'name': 'a', 'command': ['true'], 'tags': 5}]}",
	  "benchmarks[0].tags: expected a list of strings or an object of strings, got 5" },
	/* issue 19 items 6, 7, 9: names, counts and durations bounded */
	{ "{'suite': 's', 'benchmarks': [{'name': 'a\\n::error::x', 'command': ['true']}]}",
	  "benchmarks[0].name: contains a control character (U+000A)" },
	{ "{'suite': 's', 'benchmarks': [{'name': 'a-{r}', 'params': {'r': ['\\u001b[2J']}, 'command': ['true']}]}",
	  "benchmarks[0].name: contains a control character (U+001B)" },
	{ "{'suite': 's\\r', 'benchmarks': [" OK_BENCH "]}",
	  "suite: contains a control character (U+000D)" },
	{ "{'suite': 's', 'project': 'p\\u009b', 'benchmarks': [" OK_BENCH "]}",
	  "project: contains a control character (U+009B)" },
	{ "{'suite': 's', 'baseline': {'branch': 'm\\tx'}, 'benchmarks': [" OK_BENCH "]}",
	  "baseline.branch: contains a control character (U+0009)" },
	{ "{'suite': 's', 'benchmarks': [{'name': 'a', 'command': ['true'], 'timeout': '1e308h'}]}",
	  "benchmarks[0].timeout: expected a duration of at most 7 days (168h), got \"1e308h\"" },
	{ "{'suite': 's', 'benchmarks': [{'name': 'a', 'command': ['true'], 'timeout': 1e308}]}",
	  "benchmarks[0].timeout: expected a duration of at most 7 days (168h), got 1e+308" },
	{ "{'suite': 's', 'benchmarks': [{'name': 'a', 'command': ['true'], 'timeout': '0x10s'}]}",
	  "benchmarks[0].timeout: expected a duration > 0 (\"30s\", \"250ms\" or a number of seconds), got \"0x10s\"" },
	{ "{'suite': 's', 'benchmarks': [{'name': 'a', 'command': ['true'], 'min_time': 'inf'}]}",
	  "benchmarks[0].min_time: expected a duration >= 0 (\"30s\", \"250ms\" or a number of seconds), got \"inf\"" },
	{ "{'suite': 's', 'benchmarks': [{'name': 'a', 'command': ['true'], 'repetitions': 1e12}]}",
	  "benchmarks[0].repetitions: expected an integer from 1 to 2147483647, got 1000000000000" },
	{ "{'suite': 's', 'benchmarks': [{'name': 'a', 'command': ['true'], 'warmup': 3e9}]}",
	  "benchmarks[0].warmup: expected an integer from 0 to 2147483647, got 3000000000" },
	{ "{'suite': 's', 'baseline': {'runs': 1e15}, 'benchmarks': [" OK_BENCH "]}",
	  "baseline.runs: expected an integer from 1 to 2147483647, got 1e+15" },
};

static void test_malformed_table(void **state)
{
	(void)state;
	assert_true(ARRAY_SIZE(bad) >= 25);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct errlist problems = ERRLIST_INIT;
		struct suite *s = load(bad[i].suite, &problems);

		if (s || problems.n != 1 || strcmp(problems.msgs[0], bad[i].message) != 0) {
			print_error("case %zu: %s\n  want: %s\n", i, bad[i].suite, bad[i].message);
			for (size_t k = 0; k < problems.n; k++)
				print_error("  got:  %s\n", problems.msgs[k]);
		}
		assert_null(s);
		assert_int_equal(problems.n, 1);
		assert_string_equal(problems.msgs[0], bad[i].message);
		errlist_release(&problems);
	}
}

static void test_all_problems_listed(void **state)
{
	struct errlist problems = ERRLIST_INIT;
	struct suite *s;

	(void)state;
	s = load("{'suite': 's', 'benchmarks': ["
		 "{'name': 'a', 'command': ['true'], 'repetitions': 'ten'},"
		 "{'name': 'b', 'command': ['true'], 'warmpu': 1},"
		 "{'name': 'c', 'shell': 'true', 'timeout': 0}]}",
		 &problems);
	assert_null(s);
	assert_int_equal(problems.n, 3);
	assert_string_equal(problems.msgs[0], "benchmarks[0].repetitions: expected an integer >= 1, got \"ten\"");
	assert_string_equal(problems.msgs[1], "benchmarks[1].warmpu: unknown key; did you mean \"warmup\"?");
	assert_string_equal(problems.msgs[2],
			    "benchmarks[2].timeout: expected a duration > 0 (\"30s\", \"250ms\" or a number of seconds), got 0");
	errlist_release(&problems);
}

static void test_unreadable(void **state)
{
	struct errlist problems = ERRLIST_INIT;
	struct suite *s = NULL;
	struct err err = ERR_INIT;
	char *path;

	(void)state;
	assert_int_equal(suite_load(&s, "/nonexistent/x.json", &problems, &err), ERR_INPUT);
	assert_string_equal(err.msg, "cannot open suite '/nonexistent/x.json': No such file or directory");
	errlist_release(&problems);

	path = write_suite("{'suite': 's',\n  'benchmarks': [,]}");
	assert_int_equal(suite_load(&s, path, &problems, &err), ERR_INPUT);
	{
		char *want = xasprintf("cannot parse suite '%s': invalid JSON at line 2, column 18", path);
		assert_string_equal(err.msg, want);
		free(want);
	}
	unlink(path);
	free(path);

	/* Text after the document, a NUL escape, bytes that are not UTF-8:
	 * refused with their place, not read past or cut short. */
	{
		static const struct { const char *text, *why; } cases[] = {
			{ "{'suite': 's', 'benchmarks': [" OK_BENCH "]}\n{'suite': 't'}",
			  "text after the JSON document at line 2, column 1" },
			{ "{'suite': 's', 'benchmarks': [{'name': 'a\\u0000b', 'command': ['true']}]}",
			  "a NUL character (\\u0000) at line 1, column 42" },
			{ "{'suite': 's\xff', 'benchmarks': [" OK_BENCH "]}", "invalid UTF-8 at line 1, column 13" },
		};
		for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
			char *want;
			path = write_suite(cases[i].text);
			assert_int_equal(suite_load(&s, path, &problems, &err), ERR_INPUT);
			want = xasprintf("cannot parse suite '%s': %s", path, cases[i].why);
			assert_string_equal(err.msg, want);
			free(want);
			unlink(path);
			free(path);
		}
	}
	errlist_release(&problems);
}

static void test_matrix(void **state)
{
	struct errlist problems = ERRLIST_INIT;
	struct suite *s;
	static const char *const names[] = { "t-1-x", "t-1-y", "t-2-x", "t-2-y" };

	(void)state;
	s = load("{'suite': 's', 'benchmarks': [{'name': 't-{a}-{b}', 'params': {'a': [1, 2], 'b': ['x', 'y']},"
		 " 'command': ['echo', '{a}', '--{b}={a}{b}', '{unknown}'], 'env': {'V': '{b}'},"
		 " 'repetitions': '{a}'}]}",
		 &problems);
	for (size_t k = 0; k < problems.n; k++)
		print_error("%s\n", problems.msgs[k]);
	assert_non_null(s);
	assert_int_equal(s->n_benches, 4);
	for (size_t i = 0; i < 4; i++) {
		const struct suite_bench *b = &s->benches[i];
		const cJSON *cmd = cJSON_GetObjectItem(b->raw, "command");
		char want[32];
		assert_string_equal(b->name, names[i]);
		assert_int_equal(b->kind, RUNDOC_KIND_COMMAND);
		assert_string_equal(cJSON_GetArrayItem(cmd, 1)->valuestring, i < 2 ? "1" : "2");
		snprintf(want, sizeof(want), "--%c=%c%c", names[i][4], names[i][2], names[i][4]);
		assert_string_equal(cJSON_GetArrayItem(cmd, 2)->valuestring, want);
		/* Placeholders that are not parameters stay (HTTP bodies use them). */
		assert_string_equal(cJSON_GetArrayItem(cmd, 3)->valuestring, "{unknown}");
		assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(b->raw, "env"), "V")->valuestring,
				    i % 2 ? "y" : "x");
		/* An exact "{a}" of a number parameter becomes the number. */
		assert_true(cJSON_IsNumber(cJSON_GetObjectItem(b->raw, "repetitions")));
		assert_int_equal((int)cJSON_GetObjectItem(b->raw, "repetitions")->valuedouble, i < 2 ? 1 : 2);
		assert_non_null(b->params);
		assert_int_equal((int)cJSON_GetObjectItem(b->params, "a")->valuedouble, i < 2 ? 1 : 2);
		assert_null(cJSON_GetObjectItem(b->raw, "params"));
	}
	assert_string_not_equal(s->benches[0].config_hash, s->benches[1].config_hash);
	suite_free(s);
	errlist_release(&problems);
}

static void test_defaults(void **state)
{
	struct errlist problems = ERRLIST_INIT;
	struct suite *s;
	const cJSON *env;

	(void)state;
	s = load("{'suite': 's', 'order': 'interleaved', 'defaults': {'warmup': 2, 'repetitions': 7, 'timeout': '5s',"
		 " 'env': {'A': '1', 'B': '2'}},"
		 " 'benchmarks': [{'name': 'a', 'command': ['true'], 'env': {'B': 'mine'}},"
		 " {'name': 'b', 'shell': 'true', 'min_repetitions': 3, 'warmup': 0}]}",
		 &problems);
	assert_non_null(s);
	assert_true(s->interleaved);
	assert_int_equal((int)cJSON_GetObjectItem(s->benches[0].raw, "warmup")->valuedouble, 2);
	assert_int_equal((int)cJSON_GetObjectItem(s->benches[0].raw, "repetitions")->valuedouble, 7);
	env = cJSON_GetObjectItem(s->benches[0].raw, "env");
	assert_string_equal(cJSON_GetObjectItem(env, "A")->valuestring, "1");
	assert_string_equal(cJSON_GetObjectItem(env, "B")->valuestring, "mine");
	/* A benchmark that chose its own count takes no count from defaults. */
	assert_null(cJSON_GetObjectItem(s->benches[1].raw, "repetitions"));
	assert_int_equal((int)cJSON_GetObjectItem(s->benches[1].raw, "warmup")->valuedouble, 0);
	assert_string_equal(cJSON_GetObjectItem(s->benches[1].raw, "timeout")->valuestring, "5s");
	suite_free(s);
	errlist_release(&problems);
}

/* suite_keep_only: the benchmarks named stay, in the suite's order; the
 * others are released (ASan sees a leak or a double free). */
static void test_keep_only(void **state)
{
	struct errlist problems = ERRLIST_INIT;
	const char *names[] = { "c", "nosuch", "a" };
	struct suite *s;

	(void)state;
	s = load("{'suite': 's', 'benchmarks': [{'name': 'a', 'command': ['true']}, {'name': 'b', 'shell': 'b'},"
		 " {'name': 'c', 'command': ['c'], 'env': {'X': '1'}}, {'name': 'd', 'command': ['d']}]}",
		 &problems);
	assert_non_null(s);
	suite_keep_only(s, names, 3);
	assert_int_equal(s->n_benches, 2);
	assert_string_equal(s->benches[0].name, "a");
	assert_string_equal(s->benches[1].name, "c");
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(s->benches[1].raw, "env"), "X")->valuestring, "1");
	assert_non_null(suite_find_bench(s, "c"));
	assert_null(suite_find_bench(s, "b"));
	suite_keep_only(s, names, 0);
	assert_int_equal(s->n_benches, 0);
	suite_free(s);
	errlist_release(&problems);
}

static void test_variants(void **state)
{
	struct errlist problems = ERRLIST_INIT;
	struct suite *s;

	(void)state;
	s = load("{'suite': 's', 'benchmarks': [{'name': 'zip', 'command': ['gzip', '-c'], 'env': {'A': '1'},"
		 " 'variants': [{'name': 'old'}, {'name': 'new', 'shell': 'pigz -c', 'env': {'B': '2'}}],"
		 " 'reference': 'new'}]}",
		 &problems);
	assert_non_null(s);
	assert_int_equal(s->n_benches, 2);
	assert_string_equal(s->benches[0].name, "zip@old");
	assert_string_equal(s->benches[0].variant_of, "zip");
	assert_string_equal(s->benches[0].variant, "old");
	assert_false(s->benches[0].reference);
	assert_string_equal(s->benches[1].name, "zip@new");
	assert_true(s->benches[1].reference);
	assert_null(cJSON_GetObjectItem(s->benches[1].raw, "command"));
	assert_string_equal(cJSON_GetObjectItem(s->benches[1].raw, "shell")->valuestring, "pigz -c");
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(s->benches[1].raw, "env"), "A")->valuestring, "1");
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(s->benches[1].raw, "env"), "B")->valuestring, "2");
	assert_null(cJSON_GetObjectItem(s->benches[1].raw, "variants"));
	assert_string_not_equal(s->benches[0].config_hash, s->benches[1].config_hash);
	suite_free(s);
	errlist_release(&problems);

	/* Without "reference" the first variant is the reference. */
	s = load("{'suite': 's', 'benchmarks': [{'name': 'z', 'command': ['true'],"
		 " 'variants': [{'name': 'a'}, {'name': 'b', 'command': ['false']}]}]}",
		 &problems);
	assert_non_null(s);
	assert_true(s->benches[0].reference);
	assert_false(s->benches[1].reference);
	suite_free(s);
	errlist_release(&problems);
}

static void test_config_hash(void **state)
{
	cJSON *a = cJSON_Parse("{\"name\": \"x\", \"command\": [\"true\"], \"env\": {\"A\": \"1\", \"B\": \"2\"},"
			       " \"repetitions\": 5, \"tags\": [\"t\"]}");
	cJSON *b = cJSON_Parse("{\"env\": {\"B\": \"2\", \"A\": \"1\"}, \"command\": [\"true\"], \"name\": \"y\","
			       " \"repetitions\": 50, \"warmup\": 3}");
	cJSON *c = cJSON_Parse("{\"name\": \"x\", \"command\": [\"false\"], \"env\": {\"A\": \"1\", \"B\": \"2\"}}");
	cJSON *rt = cJSON_Parse("{\"counter\": \"perf_event\"}");
	char ha[65], hb[65], hc[65], hr[65], want[65];
	char *canon;
	const char *expect_text = "{\"command\":[\"true\"],\"env\":{\"A\":\"1\",\"B\":\"2\"}}";

	(void)state;
	suite_config_hash(a, NULL, ha);
	suite_config_hash(b, NULL, hb);
	suite_config_hash(c, NULL, hc);
	suite_config_hash(a, rt, hr);
	/* Key order, name, repetition counts, warmup and tags are not configuration. */
	assert_string_equal(ha, hb);
	assert_string_not_equal(ha, hc);
	assert_string_not_equal(ha, hr);
	/* The hash is SHA-256 of the documented canonical text. */
	sha256_hex(expect_text, strlen(expect_text), want);
	assert_string_equal(ha, want);
	canon = json_canonical(b);
	assert_string_equal(canon, "{\"command\":[\"true\"],\"env\":{\"A\":\"1\",\"B\":\"2\"},\"name\":\"y\",\"repetitions\":50,\"warmup\":3}");
	free(canon);
	cJSON_Delete(a);
	cJSON_Delete(b);
	cJSON_Delete(c);
	cJSON_Delete(rt);
}

/* The backticked names in doc between the first `from` and the next `to`. */
static size_t doc_keys(const char *doc, const char *from, const char *to, char keys[][64], size_t max)
{
	const char *p = strstr(doc, from), *end;
	size_t n = 0;

	if (!p)
		fail_msg("'%s' not found in the docs", from);
	end = strstr(p, to);
	if (!end)
		fail_msg("'%s' not found after '%s'", to, from);
	while ((p = strchr(p, '`')) && p < end && n < max) {
		const char *q = strchr(p + 1, '`');

		if (!q || q - p - 1 >= 64)
			break;
		memcpy(keys[n], p + 1, (size_t)(q - p - 1));
		keys[n++][q - p - 1] = '\0';
		p = q + 1;
	}
	return n;
}

/* Set "KEY", "load.KEY" or "server.KEY" of bench to another value than
 * base gives it. */
static void change_key(cJSON *bench, const char *key)
{
	cJSON *o = bench;

	if (strncmp(key, "load.", 5) == 0 || strncmp(key, "server.", 7) == 0) {
		size_t n = strchr(key, '.') - key;
		char part[8];

		memcpy(part, key, n);
		part[n] = '\0';
		o = cJSON_GetObjectItemCaseSensitive(bench, part);
		key += n + 1;
	}
	cJSON_DeleteItemFromObjectCaseSensitive(o, key);
	cJSON_AddStringToObject(o, key, "something else");
}

/*
 * What the configuration hash leaves out is what the docs say (issue 19
 * item 24: gate.md said repetitions start a new history, suite.md that they
 * keep it, and load.repetitions split it): every key docs/suite.md lists,
 * and every one docs/gate.md says does not start a new history, changes
 * nothing; the things both say split a history (command, environment,
 * target, load) do.
 */
static void test_config_hash_docs(void **state)
{
	struct err err = ERR_INIT;
	char *suite_md = NULL, *gate_md = NULL, keys[48][64], base_hash[65], h[65];
	size_t n;
	cJSON *base = cJSON_Parse("{\"name\": \"b\", \"command\": [\"true\"], \"env\": {\"A\": \"1\"},"
				  " \"http\": {\"url\": \"http://127.0.0.1:9/\"},"
				  " \"load\": {\"rate\": 10, \"duration\": \"10s\", \"repetitions\": 3},"
				  " \"server\": {\"shell\": \"./serve\", \"ready\": \"/health\", \"ready_timeout\": \"60s\"},"
				  " \"repetitions\": 5, \"warmup\": 1, \"timeout\": \"30s\"}");
	static const char *const splitting[] = { "command", "env", "http", "load.rate", "load.duration", "server.shell" };

	(void)state;
	assert_int_equal(file_read("docs/suite.md", &suite_md, NULL, &err), 0);
	assert_int_equal(file_read("docs/gate.md", &gate_md, NULL, &err), 0);
	suite_config_hash(base, NULL, base_hash);
	n = doc_keys(suite_md, "after removing the keys that do not change what\nis measured:", "Canonical JSON",
		     keys, 48);
	n += doc_keys(gate_md, "changing its repetition counts", "does\nnot.", keys + n, 48 - n);
	assert_true(n >= 16);
	for (size_t i = 0; i < n; i++) {
		cJSON *c = cJSON_Duplicate(base, true);

		change_key(c, keys[i]);
		suite_config_hash(c, NULL, h);
		if (strcmp(h, base_hash) != 0)
			fail_msg("the docs say '%s' is not part of the configuration hash, but changing it changes it", keys[i]);
		cJSON_Delete(c);
	}
	for (size_t i = 0; i < ARRAY_SIZE(splitting); i++) {
		cJSON *c = cJSON_Duplicate(base, true);

		change_key(c, splitting[i]);
		suite_config_hash(c, NULL, h);
		if (strcmp(h, base_hash) == 0)
			fail_msg("changing '%s' should start a new history", splitting[i]);
		cJSON_Delete(c);
	}
	cJSON_Delete(base);
	free(suite_md);
	free(gate_md);
}

static void test_relative_dir(void **state)
{
	struct errlist problems = ERRLIST_INIT;
	struct suite *s = load("{'suite': 'named', 'project': 'p', 'benchmarks': [" OK_BENCH "]}", &problems);

	(void)state;
	assert_non_null(s);
	assert_string_equal(s->dir, "/tmp");
	assert_string_equal(s->name, "named");
	assert_string_equal(s->project, "p");
	assert_non_null(suite_find_bench(s, "a"));
	assert_null(suite_find_bench(s, "b"));
	suite_free(s);
	errlist_release(&problems);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_malformed_table),
		cmocka_unit_test(test_all_problems_listed),
		cmocka_unit_test(test_unreadable),
		cmocka_unit_test(test_matrix),
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_variants),
		cmocka_unit_test(test_config_hash),
		cmocka_unit_test(test_config_hash_docs),
		cmocka_unit_test(test_relative_dir),
		cmocka_unit_test(test_keep_only),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
