/*
 * Unit tests for core/http/tokenize.c against the example completions
 * server (examples/servers/completions_server.py, started here on a free
 * loopback port): counts in vLLM's and TGI's forms, the count read from
 * each answer shape, errors that name the endpoint, and the tokenize
 * adjustment of core/http/prompts.c through the server's own tokenizer
 * (whose long words split into several tokens), checked against the
 * prompt_tokens the server reports for the same input.
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

#include <curl/curl.h>

#include "../../core/http/prompts.h"
#include "../../core/http/tokenize.h"
#include "../../core/proc.h"
#include "../../core/util.h"

static pid_t server;
static int port;
static char dir[64];

static int start_server(void **state)
{
	char portfile[128], *text = NULL;
	const char *argv[] = { "python3", "examples/servers/completions_server.py", "--port", "0", "--port-file",
			       portfile, "--token-ms", "0", "--prefill-ms-per-token", "0", "--lifetime", "300", NULL };
	struct proc_options o = PROC_OPTIONS_INIT;
	struct err err = ERR_INIT;

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/perfgate-tokenize.XXXXXX");
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
	port = (int)strtol(text, NULL, 10);
	free(text);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	return port > 0 ? 0 : -1;
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

static struct http_tokenize *open_at(const char *path, bool chat, const char *body_template)
{
	struct http_tokenize_options o = HTTP_TOKENIZE_OPTIONS_INIT;
	struct http_tokenize *t = NULL;
	struct err err = ERR_INIT;
	char url[128];
	cJSON *body = body_template ? cJSON_Parse(body_template) : NULL;

	snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", port, path);
	o.url = url;
	o.chat = chat;
	o.model = "bigram-example";
	o.body = body;
	o.timeout = 10;
	assert_int_equal(http_tokenize_open(&t, &o, &err), 0);
	cJSON_Delete(body);
	return t;
}

static int count_in(const char *body, const char *path, long *n)
{
	return http_tokenize_read_count(body, strlen(body), path, n);
}

static void test_read_count(void **state)
{
	long n = -1;

	(void)state;
	assert_int_equal(count_in("{\"count\": 12, \"tokens\": [1]}", NULL, &n), 0);
	assert_int_equal(n, 12);
	assert_int_equal(count_in("{\"tokens\": [5, 6, 7]}", NULL, &n), 0);
	assert_int_equal(n, 3);
	assert_int_equal(count_in("[{\"id\": 1}, {\"id\": 2}]", NULL, &n), 0);
	assert_int_equal(n, 2);
	assert_int_equal(count_in("{\"tokenize_response\": [{}, {}, {}, {}], \"templated_text\": \"x\"}", NULL, &n), 0);
	assert_int_equal(n, 4);
	assert_int_equal(count_in("{\"result\": {\"n\": 9}}", "$.result.n", &n), 0);
	assert_int_equal(n, 9);
	assert_int_equal(count_in("{\"count\": \"12\"}", NULL, &n), -1);
	assert_int_equal(count_in("{\"count\": 1.5}", NULL, &n), -1);
	assert_int_equal(count_in("{\"n\": 1}", "$.m", &n), -1);
	assert_int_equal(count_in("not json", NULL, &n), -1);
}

static void test_counts(void **state)
{
	struct http_tokenize *t;
	struct err err = ERR_INIT;
	long n = -1;

	(void)state;
	/* completions: BOS + 3 words; "something" is two tokens of six letters */
	t = open_at("/tokenize", false, NULL);
	assert_int_equal(http_tokenize_count(t, NULL, "a b c", &n, &err), 0);
	assert_int_equal(n, 4);
	assert_int_equal(http_tokenize_count(t, NULL, "a something", &n, &err), 0);
	assert_int_equal(n, 4);
	/* a prefix is joined by a blank line: BOS + 2 + 3 */
	assert_int_equal(http_tokenize_count(t, "x y", "a b c", &n, &err), 0);
	assert_int_equal(n, 6);
	assert_int_equal(http_tokenize_calls(t), 3);
	http_tokenize_free(t);
	/* chat: BOS, 4 around each message, 3 before the reply */
	t = open_at("/tokenize", true, NULL);
	assert_int_equal(http_tokenize_count(t, NULL, "a b c", &n, &err), 0);
	assert_int_equal(n, 1 + 4 + 3 + 3);
	assert_int_equal(http_tokenize_count(t, "x y", "a b c", &n, &err), 0);
	assert_int_equal(n, 1 + 4 + 2 + 4 + 3 + 3);
	http_tokenize_free(t);
	/* TGI's form: a template, and a list of tokens back */
	t = open_at("/tokenize", false, "{\"inputs\": \"{prompt}\"}");
	assert_int_equal(http_tokenize_count(t, NULL, "a b c d", &n, &err), 0);
	assert_int_equal(n, 5);
	http_tokenize_free(t);
}

static void test_errors(void **state)
{
	struct http_tokenize *t;
	struct err err = ERR_INIT;
	long n;
	char want[160];

	(void)state;
	t = open_at("/no-such-endpoint", false, NULL);
	assert_int_equal(http_tokenize_count(t, NULL, "a", &n, &err), ERR_RUN);
	snprintf(want, sizeof(want), "tokenize endpoint http://127.0.0.1:%d/no-such-endpoint: status 404:", port);
	assert_memory_equal(err.msg, want, strlen(want));
	http_tokenize_free(t);
	/* an endpoint that answers, but not with a count */
	t = open_at("/v1/completions", false, NULL);
	assert_int_equal(http_tokenize_count(t, NULL, "a", &n, &err), ERR_RUN);
	assert_non_null(strstr(err.msg, "no token count in its answer"));
	http_tokenize_free(t);
	{
		struct http_tokenize_options o = HTTP_TOKENIZE_OPTIONS_INIT;

		o.url = "http://127.0.0.1:1/tokenize"; /* nothing listens on port 1 */
		assert_int_equal(http_tokenize_open(&t, &o, &err), 0);
		assert_int_equal(http_tokenize_count(t, NULL, "a", &n, &err), ERR_RUN);
		assert_string_equal(err.msg, "tokenize endpoint http://127.0.0.1:1/tokenize: Couldn't connect to server");
		http_tokenize_free(t);
	}
}

static size_t collect(char *d, size_t s, size_t n, void *arg)
{
	sb_add(arg, d, s * n);
	return s * n;
}

/* usage.prompt_tokens of one request to the server (max_tokens 1). */
static long prompt_tokens_of(bool chat, const char *prefix, const char *text)
{
	struct sb body = SB_INIT;
	cJSON *req = cJSON_CreateObject(), *res;
	CURL *c = curl_easy_init();
	struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
	char url[128], *json;
	long n;

	snprintf(url, sizeof(url), "http://127.0.0.1:%d/v1/%s", port, chat ? "chat/completions" : "completions");
	cJSON_AddNumberToObject(req, "max_tokens", 1);
	if (chat) {
		cJSON_AddItemToObject(req, "messages", http_prompts_messages(prefix, text));
	} else {
		struct sb p = SB_INIT;

		http_prompts_join(&p, prefix, text);
		cJSON_AddStringToObject(req, "prompt", sb_str(&p));
		sb_release(&p);
	}
	json = cJSON_PrintUnformatted(req);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_HTTPHEADER, h);
	curl_easy_setopt(c, CURLOPT_POSTFIELDS, json);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
	assert_int_equal(curl_easy_perform(c), CURLE_OK);
	res = cJSON_Parse(sb_str(&body));
	assert_non_null(res);
	n = (long)cJSON_GetObjectItem(cJSON_GetObjectItem(res, "usage"), "prompt_tokens")->valuedouble;
	cJSON_Delete(res);
	cJSON_Delete(req);
	free(json);
	curl_slist_free_all(h);
	curl_easy_cleanup(c);
	sb_release(&body);
	return n;
}

/* Prompts fitted through the server's tokenizer, completions and chat,
 * with and without a prefix, are exactly as long as asked by the server's
 * own usage count. */
static void test_fit_through_server(void **state)
{
	static const long targets[] = { 16, 17, 50, 333, 1000, 4096, 8192 };
	gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
	struct sb text = SB_INIT, prefix = SB_INIT;
	struct err err = ERR_INIT;

	(void)state;
	http_prompts_words(&prefix, r, 100);
	for (int chat = 0; chat < 2; chat++) {
		struct http_tokenize *t = open_at("/tokenize", chat, NULL);
		struct http_prompts_fit fits[2] = { { 0 }, { 0 } };

		for (size_t i = 0; i < ARRAY_SIZE(targets); i++) {
			for (int p = 0; p < 2; p++) {
				const char *pre = p ? sb_str(&prefix) : NULL;
				struct http_prompts_fit *f = &fits[p];

				f->target = targets[i] + (p ? 200 : 0);
				assert_int_equal(http_prompts_fit(&text, r, pre, f, http_tokenize_count, t, &err), 0);
				if (!f->exact)
					fail_msg("chat %d prefix %d: target %ld, got %ld", chat, p, f->target, f->tokens);
				assert_int_equal(prompt_tokens_of(chat, pre, sb_str(&text)), f->target);
			}
		}
		http_tokenize_free(t);
	}
	sb_release(&text);
	sb_release(&prefix);
	gsl_rng_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_read_count),
		cmocka_unit_test(test_counts),
		cmocka_unit_test(test_errors),
		cmocka_unit_test(test_fit_through_server),
	};

	return cmocka_run_group_tests(tests, start_server, stop_server);
}
