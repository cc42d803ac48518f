/*
 * Unit tests for core/http/workload.c: the "prompts" and "classes" keys
 * validated with their JSON paths; requests prepared from synthetic
 * lengths, datasets and traces; the class order drawn by weight
 * (chi-square); shared prefixes; and, against the example server's
 * tokenize endpoint (started here), prompts fitted to exact lengths.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <gsl/gsl_cdf.h>

#include "../../core/http/workload.h"
#include "../../core/proc.h"
#include "../../core/util.h"

static pid_t server;
static char origin[64], dir[64];

static int start_server(void **state)
{
	char portfile[128], *text = NULL;
	const char *argv[] = { "python3", "examples/servers/completions_server.py", "--port", "0", "--port-file",
			       portfile, "--token-ms", "0", "--prefill-ms-per-token", "0", "--lifetime", "300", NULL };
	struct proc_options o = PROC_OPTIONS_INIT;
	struct err err = ERR_INIT;

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/perfgate-workload.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(portfile, sizeof(portfile), "%s/port", dir);
	o.argv = argv;
	if (proc_spawn(&o, &server, &err) != 0)
		return -1;
	for (int i = 0; i < 500 && file_read(portfile, &text, NULL, &err) != 0; i++)
		usleep(20000);
	if (!text)
		return -1;
	snprintf(origin, sizeof(origin), "http://127.0.0.1:%ld", strtol(text, NULL, 10));
	free(text);
	return 0;
}

static int stop_server(void **state)
{
	char path[128];

	(void)state;
	proc_kill_group(server, SIGTERM, 2.0);
	waitpid(server, NULL, 0);
	snprintf(path, sizeof(path), "%s/port", dir);
	unlink(path);
	rmdir(dir);
	return 0;
}

static struct http_workload *parse_ok(const char *bench_json)
{
	cJSON *b = cJSON_Parse(bench_json);
	struct errlist problems = ERRLIST_INIT;
	struct http_workload *w = NULL;

	assert_non_null(b);
	if (http_workload_parse(&w, b, "benchmarks[0]", &problems) != 0)
		fail_msg("%s: %s", bench_json, problems.msgs[0]);
	cJSON_Delete(b);
	errlist_release(&problems);
	return w;
}

static void prepare_ok(struct http_workload *w, const struct http_trace *trace, long expected)
{
	struct http_workload_env env = { .dir = ".", .origin = origin, .trace = trace, .expected_requests = expected };
	struct err err = ERR_INIT;

	if (http_workload_prepare(w, &env, &err) != 0)
		fail_msg("prepare: %s", err.msg);
}

struct bad_case {
	const char *bench;
	const char *message;
};

#define URL "\"http\": {\"url\": \"http://h/v1/chat/completions\", \"body\": {\"model\": \"m\"}}"

static const struct bad_case bad_cases[] = {
	{ "{" URL ", \"prompts\": {\"output_tokens\": 10}}", "benchmarks[0].prompts: needs input_tokens (synthetic prompts) or dataset" },
	{ "{" URL ", \"prompts\": {\"input_tokens\": 0}}", "benchmarks[0].prompts.input_tokens: expected a number of tokens from 1 to 10000000" },
	{ "{" URL ", \"prompts\": {\"input_tokens\": 10, \"inputs_tokens\": 5}}", "benchmarks[0].prompts.inputs_tokens: unknown key; did you mean \"input_tokens\"?" },
	{ "{" URL ", \"prompts\": {\"input_tokens\": 10, \"api\": \"responses\"}}", "benchmarks[0].prompts.api: expected \"chat\" or \"completions\"" },
	{ "{" URL ", \"prompts\": {\"dataset\": {\"format\": \"sharegpt\"}}}", "benchmarks[0].prompts.dataset.path: required" },
	{ "{" URL ", \"prompts\": {\"dataset\": {\"path\": \"d\", \"format\": \"alpaca\"}}}", "benchmarks[0].prompts.dataset.format: expected \"sharegpt\", \"openai\" or \"prompts\"" },
	{ "{" URL ", \"prompts\": {\"dataset\": {\"path\": \"d\", \"order\": \"random\"}}}", "benchmarks[0].prompts.dataset.order: expected \"file\" or \"shuffle\"" },
	{ "{" URL ", \"prompts\": {\"input_tokens\": 10, \"dataset\": \"d\"}}", "benchmarks[0].prompts: input_tokens and dataset exclude each other" },
	{ "{" URL ", \"prompts\": {\"input_tokens\": 10, \"output_tokens\": \"dataset\"}}", "benchmarks[0].prompts.output_tokens: \"dataset\" needs a dataset" },
	{ "{" URL ", \"prompts\": {\"input_tokens\": 100, \"shared_prefix\": {\"prefixes\": 2}}}", "benchmarks[0].prompts.shared_prefix: needs prefixes (how many) and tokens (how long each)" },
	{ "{" URL ", \"prompts\": {\"input_tokens\": 100, \"shared_prefix\": {\"prefixes\": 2, \"tokens\": 100}}}", "benchmarks[0].prompts: input_tokens (the whole input, min 100) must be longer than shared_prefix.tokens (100)" },
	{ "{\"http\": {\"url\": \"http://h/v1/completions\"}, \"prompts\": {\"input_tokens\": 10, \"sessions\": {\"turns\": 3}}}", "benchmarks[0].prompts.sessions: multi-turn sessions need the chat API" },
	{ "{" URL ", \"prompts\": {\"input_tokens\": 10, \"sessions\": {\"think_time\": \"1s\"}}}", "benchmarks[0].prompts.sessions.turns: required for synthetic sessions" },
	{ "{" URL ", \"prompts\": {\"input_tokens\": 10, \"sessions\": {\"turns\": 2, \"think_time\": {\"dist\": \"gamma\"}}}}", "benchmarks[0].prompts.sessions.think_time.dist: expected \"fixed\", \"exponential\" or \"uniform\"" },
	{ "{" URL ", \"prompts\": {\"input_tokens\": 10, \"tokenize\": \"tokenize\"}}", "benchmarks[0].prompts.tokenize: expected \"auto\", false, a path such as \"/tokenize\"" },
	{ "{" URL ", \"prompts\": {\"input_tokens\": 10, \"min_tokens\": \"all\"}}", "benchmarks[0].prompts.min_tokens: expected a number of tokens >= 0, or \"output_tokens\"" },
	{ "{" URL ", \"prompts\": {\"input_tokens\": 10}, \"classes\": []}", "benchmarks[0].classes: expected a list of 1 to 64 classes" },
	{ "{" URL ", \"prompts\": {\"input_tokens\": 10}, \"classes\": [{\"name\": \"a b\"}]}", "benchmarks[0].classes[0].name: required, up to 40 letters" },
	{ "{" URL ", \"prompts\": {\"input_tokens\": 10}, \"classes\": [{\"name\": \"a\"}, {\"name\": \"a\"}]}", "benchmarks[0].classes[1].name: \"a\" names two classes" },
	{ "{" URL ", \"prompts\": {\"input_tokens\": 10}, \"classes\": [{\"name\": \"a\", \"weight\": 0}]}", "benchmarks[0].classes[0].weight: must be a number > 0" },
	{ "{" URL ", \"prompts\": {\"input_tokens\": 10}, \"classes\": [{\"name\": \"a\", \"url\": \"v1/x\"}]}", "benchmarks[0].classes[0].url: expected a path on the benchmark's server" },
	{ "{" URL ", \"classes\": [{\"name\": \"a\", \"prompts\": {\"tokenize\": false, \"input_tokens\": 5}}]}", "benchmarks[0].classes[0].prompts.tokenize: unknown key" },
	{ "{" URL ", \"classes\": [{\"name\": \"a\"}]}", "benchmarks[0].classes[0]: needs input_tokens (synthetic prompts) or dataset" },
	{ "{" URL ", \"load\": {\"mode\": \"trace\"}, \"prompts\": {\"input_tokens\": 10}}", "benchmarks[0].prompts: a trace gives the lengths: no input_tokens or dataset" },
	{ "{\"http\": {\"url\": \"http://h/v1/completions\", \"body\": \"text\"}, \"prompts\": {\"input_tokens\": 10}}", "benchmarks[0].http.body: an LLM benchmark's body must be a JSON object" },
};

static void test_bad(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(bad_cases); i++) {
		cJSON *b = cJSON_Parse(bad_cases[i].bench);
		struct errlist problems = ERRLIST_INIT;
		bool found = false;

		if (!b)
			fail_msg("case %zu: not JSON", i);
		assert_int_equal(http_workload_parse(NULL, b, "benchmarks[0]", &problems), ERR_INPUT);
		for (size_t k = 0; k < problems.n; k++)
			found = found || strncmp(problems.msgs[k], bad_cases[i].message, strlen(bad_cases[i].message)) == 0;
		if (!found)
			fail_msg("case %zu: expected \"%s...\", got \"%s\"", i, bad_cases[i].message,
				 problems.n ? problems.msgs[0] : "(nothing)");
		errlist_release(&problems);
		cJSON_Delete(b);
	}
}

static cJSON *item_json(const struct http_workload *w, size_t i)
{
	cJSON *j = cJSON_Parse(w->items[i].body);

	assert_non_null(j);
	return j;
}

/* Without a tokenizer: one word per token, lengths as drawn, the body's
 * own keys kept and perfgate's set. */
static void test_synthetic_estimate(void **state)
{
	struct http_workload *w = parse_ok(
		"{\"http\": {\"url\": \"http://h/v1/completions\", \"body\": {\"model\": \"m\", \"stream\": true, \"max_tokens\": 1}},"
		" \"prompts\": {\"input_tokens\": {\"dist\": \"uniform\", \"min\": 20, \"max\": 40}, \"output_tokens\": 7,"
		" \"ignore_eos\": true, \"min_tokens\": \"output_tokens\", \"count\": 50, \"tokenize\": false}}");

	(void)state;
	prepare_ok(w, NULL, 0);
	assert_string_equal(w->token_source, "estimate");
	assert_int_equal(w->n_items, 50);
	assert_int_equal(w->n_order, 50);
	for (size_t i = 0; i < w->n_items; i++) {
		cJSON *j = item_json(w, i);
		const char *prompt = cJSON_GetObjectItem(j, "prompt")->valuestring;
		long words = 1;

		for (const char *p = prompt; *p; p++)
			words += *p == ' ';
		assert_int_equal(words, w->items[i].input_tokens);
		assert_true(words >= 20 && words <= 40);
		assert_false(w->items[i].input_exact);
		assert_int_equal(cJSON_GetObjectItem(j, "max_tokens")->valuedouble, 7);
		assert_int_equal(cJSON_GetObjectItem(j, "min_tokens")->valuedouble, 7);
		assert_true(cJSON_IsTrue(cJSON_GetObjectItem(j, "ignore_eos")));
		assert_true(cJSON_IsTrue(cJSON_GetObjectItem(j, "stream")));
		assert_string_equal(cJSON_GetObjectItem(j, "model")->valuestring, "m");
		cJSON_Delete(j);
	}
	http_workload_free(w);
}

/* Three classes drawn by weight 5:3:2: the order's class counts pass a
 * chi-square test, and each class's items are used in turn. */
static void test_classes_weighted(void **state)
{
	struct http_workload *w = parse_ok(
		"{" URL ", \"prompts\": {\"input_tokens\": 8, \"count\": 10, \"tokenize\": false},"
		" \"classes\": [{\"name\": \"chat\", \"weight\": 5}, {\"name\": \"code\", \"weight\": 3, \"prompts\": {\"output_tokens\": 300}},"
		"              {\"name\": \"sum\", \"weight\": 2, \"url\": \"/v1/completions\", \"body\": {\"model\": \"small\"}}]}");
	size_t seen[3] = { 0 };
	double chi = 0, want[3] = { 0.5, 0.3, 0.2 };

	(void)state;
	prepare_ok(w, NULL, 0);
	assert_int_equal(w->n_classes, 3);
	assert_int_equal(w->n_items, 30);
	assert_int_equal(w->n_order, 3000);
	for (size_t k = 0; k < w->n_order; k++)
		seen[w->items[w->order[k]].cls]++;
	for (int c = 0; c < 3; c++)
		chi += pow((double)seen[c] - want[c] * 3000, 2) / (want[c] * 3000);
	/* two degrees of freedom, alpha = 0.001 */
	if (chi > gsl_cdf_chisq_Qinv(0.001, 2))
		fail_msg("class counts %zu %zu %zu: chi-square %.2f", seen[0], seen[1], seen[2], chi);
	/* the class's own settings */
	{
		cJSON *j = item_json(w, w->classes[1].first_item);

		assert_int_equal(cJSON_GetObjectItem(j, "max_tokens")->valuedouble, 300);
		assert_non_null(cJSON_GetObjectItem(j, "messages"));
		cJSON_Delete(j);
		j = item_json(w, w->classes[2].first_item);
		assert_string_equal(cJSON_GetObjectItem(j, "model")->valuestring, "small");
		assert_non_null(cJSON_GetObjectItem(j, "prompt")); /* /v1/completions */
		assert_string_equal(w->classes[2].target, "/v1/completions");
		cJSON_Delete(j);
	}
	http_workload_free(w);
}

static void test_dataset_requests(void **state)
{
	struct http_workload *w = parse_ok(
		"{" URL ", \"prompts\": {\"dataset\": \"examples/datasets/sharegpt-sample.json\", \"tokenize\": false}}");
	cJSON *j, *m;

	(void)state;
	prepare_ok(w, NULL, 0);
	assert_int_equal(w->n_items, 5);
	assert_int_equal(w->classes[0].ds.format, HTTP_DATASET_SHAREGPT); /* found from the file */
	/* sample-2 has a system turn: the request is that and the question */
	j = item_json(w, 1);
	m = cJSON_GetObjectItem(j, "messages");
	assert_int_equal(cJSON_GetArraySize(m), 2);
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(m, 0), "role")->valuestring, "system");
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(m, 1), "content")->valuestring,
			    "Why is the time to the first token longer for a long prompt?");
	/* max_tokens from the reply (137 bytes: 35 tokens estimated) */
	assert_int_equal(cJSON_GetObjectItem(j, "max_tokens")->valuedouble, 35);
	cJSON_Delete(j);
	http_workload_free(w);
}

/* Mooncake hash_ids: entries that share blocks share that text. */
static void test_trace_blocks(void **state)
{
	struct http_workload *w = parse_ok(
		"{\"http\": {\"url\": \"http://h/v1/completions\"}, \"load\": {\"mode\": \"trace\"},"
		" \"prompts\": {\"tokenize\": false, \"block_tokens\": 128}}");
	struct http_trace_options to = HTTP_TRACE_OPTIONS_INIT;
	struct http_trace *t = NULL;
	struct err err = ERR_INIT;
	char *p[8];

	(void)state;
	to.path = "examples/traces/mooncake-sample.jsonl";
	assert_int_equal(http_trace_open(&t, &to, &err), 0);
	prepare_ok(w, t, 0);
	assert_int_equal(w->n_items, 8);
	for (int i = 0; i < 8; i++) {
		cJSON *j = item_json(w, (size_t)i);

		p[i] = xstrdup(cJSON_GetObjectItem(j, "prompt")->valuestring);
		assert_int_equal(w->items[i].output_tokens, http_trace_get(t, (size_t)i)->output_tokens);
		cJSON_Delete(j);
	}
	/* entries 0 and 1 ([0,1,2] and [0,1,3]) share blocks 0 and 1: the
	 * first 256 words; entry 6 ([0,1,3]) shares entry 1's two leading
	 * blocks too, entry 2 ([4]) nothing */
	{
		size_t common = 0, words = 0;

		while (p[0][common] && p[0][common] == p[1][common])
			words += p[0][common++] == ' ';
		assert_true(words >= 255);
		assert_int_equal(strncmp(p[1], p[6], 200), 0);
		assert_true(strncmp(p[0], p[2], 30) != 0);
	}
	for (int i = 0; i < 8; i++)
		free(p[i]);
	http_workload_free(w);
	http_trace_free(t);
}

/* Through the example server's /tokenize: every prompt exact, with and
 * without shared prefixes; "auto" finds the endpoint, and finds none at
 * a server without one. */
static void test_exact_with_tokenizer(void **state)
{
	struct http_workload *w = parse_ok(
		"{" URL ", \"prompts\": {\"input_tokens\": {\"dist\": \"lognormal\", \"mean\": 600, \"stddev\": 400, \"min\": 300, \"max\": 3000},"
		" \"shared_prefix\": {\"prefixes\": 3, \"tokens\": 256}, \"count\": 40}}");

	(void)state;
	prepare_ok(w, NULL, 0);
	assert_string_equal(w->token_source, "tokenizer");
	assert_int_equal(w->n_items, 40);
	assert_int_equal(w->fitted, 40 + 3);
	for (size_t i = 0; i < w->n_items; i++)
		assert_true(w->items[i].input_exact);
	/* request i's system prompt is prefix i % 3 */
	{
		cJSON *a = item_json(w, 0), *b = item_json(w, 3), *c = item_json(w, 1);
		const char *sa = cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(a, "messages"), 0), "content")->valuestring;
		const char *sb = cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(b, "messages"), 0), "content")->valuestring;
		const char *sc = cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(c, "messages"), 0), "content")->valuestring;

		assert_string_equal(sa, sb);
		assert_string_not_equal(sa, sc);
		cJSON_Delete(a);
		cJSON_Delete(b);
		cJSON_Delete(c);
	}
	http_workload_free(w);
	/* "auto" at a port with nothing listening: estimates, with a note */
	{
		char saved[64];

		memcpy(saved, origin, sizeof(saved));
		snprintf(origin, sizeof(origin), "http://127.0.0.1:1");
		w = parse_ok("{" URL ", \"prompts\": {\"input_tokens\": 30, \"count\": 3}}");
		prepare_ok(w, NULL, 0);
		assert_string_equal(w->token_source, "estimate");
		assert_non_null(strstr(w->tokenize_note, "no tokenize endpoint answered"));
		http_workload_free(w);
		/* named, it must answer */
		w = parse_ok("{" URL ", \"prompts\": {\"input_tokens\": 30, \"count\": 3, \"tokenize\": \"/tokenize\"}}");
		{
			struct http_workload_env env = { .dir = ".", .origin = origin };
			struct err err = ERR_INIT;

			assert_int_equal(http_workload_prepare(w, &env, &err), ERR_RUN);
			assert_non_null(strstr(err.msg, "tokenize endpoint http://127.0.0.1:1/tokenize"));
		}
		http_workload_free(w);
		memcpy(origin, saved, sizeof(saved));
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_synthetic_estimate),
		cmocka_unit_test(test_classes_weighted),
		cmocka_unit_test(test_dataset_requests),
		cmocka_unit_test(test_trace_blocks),
		cmocka_unit_test(test_exact_with_tokenizer),
	};

	return cmocka_run_group_tests(tests, start_server, stop_server);
}
