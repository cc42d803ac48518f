/* Unit tests for core/http/journey.c: journeys parsed (every problem at its
 * JSON path), requests rendered from templates and captured values, and
 * the order in which steps run (conditions, repeats, think times). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "../../core/http/journey.h"
#include "../../core/util.h"

#define MS UINT64_C(1000000)

static const char RAG[] =
	"{\"name\": \"rag\", \"journey\": {\"steps\": ["
	" {\"name\": \"embed\", \"http\": {\"url\": \"http://127.0.0.1:8101/embed\", \"body\": {\"text\": \"why {journey}\"}},"
	"  \"capture\": {\"vec\": {\"json\": \"$.embedding\"}}},"
	" {\"name\": \"search\", \"http\": {\"url\": \"http://127.0.0.1:8102/search?user={journey}\","
	"   \"headers\": {\"X-Trace\": \"t-{journey}\"}, \"body\": {\"vector\": \"{vec}\", \"k\": 3}},"
	"  \"capture\": {\"doc\": {\"json\": \"$.hits[0].id\", \"optional\": true}, \"text\": {\"json\": \"$.hits[0].text\"}},"
	"  \"think\": {\"min\": \"10ms\", \"max\": \"20ms\"}},"
	" {\"name\": \"fetch\", \"when\": {\"var\": \"doc\", \"exists\": true},"
	"  \"http\": {\"url\": \"http://127.0.0.1:8102/docs/{doc}\"}, \"repeat\": 2},"
	" {\"name\": \"generate\", \"http\": {\"url\": \"http://127.0.0.1:8103/v1/completions\", \"stream\": \"sse\","
	"   \"body\": {\"prompt\": \"{text}\", \"max_tokens\": 8, \"stream\": true}}, \"think\": \"5ms\"},"
	" {\"name\": \"health\", \"http\": {\"url\": \"http://127.0.0.1:8103/health\"}}"
	"]}}";

static struct http_journey *parse_ok(const char *text)
{
	cJSON *b = cJSON_Parse(text);
	struct errlist p = ERRLIST_INIT;
	struct http_journey *j = NULL;

	assert_non_null(b);
	if (http_journey_parse(&j, b, "benchmarks[0]", ".", &p) != 0)
		fail_msg("parse: %s", p.n ? p.msgs[0] : "?");
	/* validation alone agrees */
	assert_int_equal(http_journey_parse(&(struct http_journey *){ NULL }, b, "benchmarks[0]", NULL, &p), 0);
	errlist_release(&p);
	cJSON_Delete(b);
	return j;
}

static void test_parse(void **state)
{
	struct http_journey *j = parse_ok(RAG);

	(void)state;
	assert_int_equal(j->n_steps, 5);
	assert_true(j->any_sse);
	assert_string_equal(j->steps[0].name, "embed");
	assert_int_equal(http_journey_step_index(j, "generate"), 3);
	assert_int_equal(http_journey_step_index(j, "nope"), -1);
	assert_true(j->steps[0].templated);
	assert_int_equal(j->steps[0].capture.n, 1);
	assert_true(j->steps[1].templated);
	assert_int_equal(j->steps[1].think_min, 10 * MS);
	assert_int_equal(j->steps[1].think_max, 20 * MS);
	assert_true(j->steps[2].has_when);
	assert_int_equal(j->steps[2].repeat, 2);
	assert_true(j->steps[3].plan->sse);
	assert_false(j->steps[4].templated);
	assert_int_equal(j->steps[4].think_min, 0);
	http_journey_free(j);
}

static void expect_problem(const char *journey_json, const char *problem)
{
	char *text = xasprintf("{\"name\": \"j\", \"journey\": %s}", journey_json);
	cJSON *b = cJSON_Parse(text);
	struct errlist p = ERRLIST_INIT;
	struct http_journey *j = NULL;
	bool found = false;

	assert_non_null(b);
	assert_int_equal(http_journey_parse(&j, b, "benchmarks[1]", NULL, &p), ERR_INPUT);
	assert_null(j);
	for (size_t i = 0; i < p.n; i++)
		found = found || strstr(p.msgs[i], problem) != NULL;
	if (!found)
		fail_msg("'%s' not among the %zu problems of %s (first: %s)", problem, p.n, journey_json, p.n ? p.msgs[0] : "none");
	errlist_release(&p);
	cJSON_Delete(b);
	free(text);
}

#define STEP(name, url) "{\"name\": \"" name "\", \"http\": {\"url\": \"" url "\"}}"

static void test_problems(void **state)
{
	(void)state;
	expect_problem("[]", "benchmarks[1].journey: expected an object with \"steps\", got an array");
	expect_problem("{\"steps\": []}", "benchmarks[1].journey.steps: expected an array of 1 to 64 steps");
	expect_problem("{\"step\": []}", "benchmarks[1].journey.step: unknown key; did you mean \"steps\"?");
	expect_problem("{\"steps\": [1]}", "benchmarks[1].journey.steps[0]: expected a step such as");
	expect_problem("{\"steps\": [{\"http\": {\"url\": \"http://h/\"}}]}", "benchmarks[1].journey.steps[0].name: required");
	expect_problem("{\"steps\": [" STEP("a", "http://h/") ", " STEP("a", "http://h/x") "]}",
		       "benchmarks[1].journey.steps[1].name: \"a\" is the name of steps[0] too");
	expect_problem("{\"steps\": [{\"name\": \"a\"}]}", "benchmarks[1].journey.steps[0].http: expected an object");
	expect_problem("{\"steps\": [" STEP("a", "ftp://h/") "]}", "benchmarks[1].journey.steps[0].http.url: expected an http://");
	expect_problem("{\"steps\": [{\"name\": \"a\", \"htp\": {}}]}", "benchmarks[1].journey.steps[0].htp: unknown key; did you mean \"http\"?");
	expect_problem("{\"steps\": [" STEP("a", "http://{host}/x") "]}",
		       "benchmarks[1].journey.steps[0].http.url: only the path and query may hold {templates}");
	expect_problem("{\"steps\": [" STEP("a", "http://h/items/{id}") "]}",
		       "benchmarks[1].journey.steps[0].http.url: {id} is not a variable here");
	expect_problem("{\"steps\": [{\"name\": \"a\", \"http\": {\"url\": \"http://h/\", \"body\": {\"q\": \"{questoin}\"}}}]}",
		       "benchmarks[1].journey.steps[0].http.body: {questoin} is not a variable here");
	/* a capture is known after its step, not before */
	expect_problem("{\"steps\": [{\"name\": \"a\", \"http\": {\"url\": \"http://h/{v}\"}, \"capture\": {\"v\": {\"json\": \"$.v\"}}}]}",
		       "benchmarks[1].journey.steps[0].http.url: {v} is not a variable here");
	expect_problem("{\"steps\": [{\"name\": \"a\", \"http\": {\"url\": \"http://h/\", \"dataset\": \"q.jsonl\", \"body\": \"{x}\"}}]}",
		       "benchmarks[1].journey.steps[0].http.dataset: a journey's steps share one dataset");
	expect_problem("{\"steps\": [{\"name\": \"a\", \"http\": {\"url\": \"http://h/\"}, \"capture\": {\"v\": {\"json\": \"v\"}}}]}",
		       "benchmarks[1].journey.steps[0].capture.v.json: expected a JSON path");
	expect_problem("{\"steps\": [{\"name\": \"a\", \"http\": {\"url\": \"http://h/\"}, \"when\": {\"var\": \"v\"}}]}",
		       "benchmarks[1].journey.steps[0].when: expected exactly one of \"exists\", \"equals\" or \"not_equals\"");
	expect_problem("{\"steps\": [{\"name\": \"a\", \"http\": {\"url\": \"http://h/\"}, \"when\": {\"var\": \"v\", \"exists\": true}}]}",
		       "benchmarks[1].journey.steps[0].when.var: {v} is not a variable here");
	expect_problem("{\"steps\": [{\"name\": \"a\", \"http\": {\"url\": \"http://h/\"}, \"repeat\": 0}]}",
		       "benchmarks[1].journey.steps[0].repeat: expected an integer 1..1000000");
	expect_problem("{\"steps\": [{\"name\": \"a\", \"http\": {\"url\": \"http://h/\"}, \"repeat\": {\"max\": 3}}]}",
		       "benchmarks[1].journey.steps[0].repeat.max: only with until");
	expect_problem("{\"steps\": [{\"name\": \"a\", \"http\": {\"url\": \"http://h/\"}, \"capture\": {\"s\": {\"json\": \"$.s\"}},"
		       " \"repeat\": {\"until\": {\"var\": \"s\", \"equals\": \"done\"}}}]}",
		       "benchmarks[1].journey.steps[0].repeat.max: required with until");
	expect_problem("{\"steps\": [{\"name\": \"a\", \"http\": {\"url\": \"http://h/\"}, \"think\": {\"min\": \"2s\", \"max\": \"1s\"}}]}",
		       "benchmarks[1].journey.steps[0].think.max: less than min");
	expect_problem("{\"steps\": [{\"name\": \"a\", \"http\": {\"url\": \"http://h/\"}, \"think\": \"soon\"}]}",
		       "benchmarks[1].journey.steps[0].think: expected a duration");
}

static void test_every_problem(void **state)
{
	cJSON *b = cJSON_Parse("{\"journey\": {\"steps\": [{\"name\": \"a b\", \"http\": {\"url\": \"http://h/\"}},"
			       " {\"name\": \"c\", \"http\": {\"url\": \"http://h/{x}\"}, \"repeat\": -2}]}}");
	struct errlist p = ERRLIST_INIT;
	struct http_journey *j;

	(void)state;
	assert_int_equal(http_journey_parse(&j, b, "benchmarks[0]", NULL, &p), ERR_INPUT);
	assert_int_equal(p.n, 3);
	assert_non_null(strstr(p.msgs[0], "steps[0].name"));
	assert_non_null(strstr(p.msgs[1], "steps[1].repeat"));
	assert_non_null(strstr(p.msgs[2], "steps[1].http.url: {x}"));
	errlist_release(&p);
	cJSON_Delete(b);
}

static char *render(const struct http_journey_step *s, const char *vars_json, int *rc)
{
	cJSON *vars = cJSON_Parse(vars_json);
	struct sb out = SB_INIT;
	char why[256] = "";

	*rc = http_journey_render(s, vars, &out, why, sizeof(why));
	cJSON_Delete(vars);
	if (*rc) {
		sb_release(&out);
		return xstrdup(why);
	}
	return sb_detach(&out);
}

static void test_render(void **state)
{
	struct http_journey *j = parse_ok(RAG);
	char *r;
	int rc;

	(void)state;
	r = render(&j->steps[0], "{\"journey\": 7}", &rc);
	assert_int_equal(rc, 0);
	assert_non_null(strstr(r, "POST /embed HTTP/1.1\r\nHost: 127.0.0.1:8101\r\n"));
	assert_non_null(strstr(r, "Content-Type: application/json\r\n"));
	assert_non_null(strstr(r, "Content-Length: 16\r\n\r\n{\"text\":\"why 7\"}"));
	free(r);
	/* an array captured stays an array; a number in a URL and a header */
	r = render(&j->steps[1], "{\"journey\": 7, \"vec\": [0.5, -1]}", &rc);
	assert_int_equal(rc, 0);
	assert_non_null(strstr(r, "POST /search?user=7 HTTP/1.1\r\n"));
	assert_non_null(strstr(r, "X-Trace: t-7\r\n"));
	assert_non_null(strstr(r, "\r\n\r\n{\"vector\":[0.5,-1],\"k\":3}"));
	free(r);
	/* a value in a path is percent-encoded */
	r = render(&j->steps[2], "{\"doc\": \"a b/c\"}", &rc);
	assert_int_equal(rc, 0);
	assert_non_null(strstr(r, "GET /docs/a%20b%2Fc HTTP/1.1\r\n"));
	assert_null(strstr(r, "Content-Length"));
	free(r);
	/* a value that is not there */
	r = render(&j->steps[2], "{\"text\": \"x\"}", &rc);
	assert_int_equal(rc, ERR_NOTFOUND);
	assert_string_equal(r, "step fetch: {doc} has no value (an optional capture that found nothing, or a step that "
			       "did not run)");
	free(r);
	/* a line break cannot go into a header */
	r = render(&j->steps[1], "{\"journey\": \"1\\r\\nEvil: yes\", \"vec\": []}", &rc);
	assert_int_equal(rc, ERR_INPUT);
	assert_non_null(strstr(r, "line break"));
	free(r);
	/* nothing templated: the plan's bytes */
	r = render(&j->steps[4], "{}", &rc);
	assert_int_equal(rc, 0);
	assert_int_equal(strlen(r), j->steps[4].plan->reqs[0].len);
	assert_memory_equal(r, j->steps[4].plan->reqs[0].data, strlen(r));
	free(r);
	http_journey_free(j);
}

static void test_order(void **state)
{
	struct http_journey *j = parse_ok(RAG);
	struct http_journey_pos pos;
	struct http_rng rng = { 3 };
	cJSON *vars = cJSON_CreateObject();
	uint64_t skipped[5] = { 0 };

	(void)state;
	assert_int_equal(http_journey_start(j, vars, &rng, &pos, skipped), HTTP_JOURNEY_RUN);
	assert_int_equal(pos.step, 0);
	assert_int_equal(http_journey_next(j, vars, &rng, &pos, skipped), HTTP_JOURNEY_RUN);
	assert_int_equal(pos.step, 1);
	assert_true(pos.think >= 10 * MS && pos.think <= 20 * MS);
	/* no doc captured: fetch is skipped, generate is next */
	assert_int_equal(http_journey_next(j, vars, &rng, &pos, skipped), HTTP_JOURNEY_RUN);
	assert_int_equal(pos.step, 3);
	assert_int_equal(pos.think, 5 * MS);
	assert_int_equal(skipped[2], 1);
	assert_int_equal(http_journey_next(j, vars, &rng, &pos, skipped), HTTP_JOURNEY_RUN);
	assert_int_equal(pos.step, 4);
	assert_int_equal(http_journey_next(j, vars, &rng, &pos, skipped), HTTP_JOURNEY_DONE);
	/* with doc: fetch runs twice */
	cJSON_AddStringToObject(vars, "doc", "d1");
	pos.step = 1;
	assert_int_equal(http_journey_next(j, vars, &rng, &pos, skipped), HTTP_JOURNEY_RUN);
	assert_int_equal(pos.step, 2);
	assert_int_equal(pos.iteration, 0);
	assert_int_equal(http_journey_next(j, vars, &rng, &pos, skipped), HTTP_JOURNEY_RUN);
	assert_int_equal(pos.step, 2);
	assert_int_equal(pos.iteration, 1);
	assert_int_equal(http_journey_next(j, vars, &rng, &pos, skipped), HTTP_JOURNEY_RUN);
	assert_int_equal(pos.step, 3);
	assert_int_equal(skipped[2], 1);
	/* think times are drawn in [min, max] and spread over it */
	{
		uint64_t lo = UINT64_MAX, hi = 0;

		for (int i = 0; i < 1000; i++) {
			pos.step = 0;
			http_journey_next(j, vars, &rng, &pos, NULL);
			lo = pos.think < lo ? pos.think : lo;
			hi = pos.think > hi ? pos.think : hi;
		}
		assert_true(lo >= 10 * MS && lo < 11 * MS);
		assert_true(hi <= 20 * MS && hi > 19 * MS);
	}
	cJSON_Delete(vars);
	http_journey_free(j);
}

static void test_until(void **state)
{
	struct http_journey *j = parse_ok(
		"{\"journey\": {\"steps\": [{\"name\": \"submit\", \"http\": {\"url\": \"http://h/jobs\", \"method\": \"POST\"},"
		" \"capture\": {\"job\": {\"json\": \"$.id\"}}},"
		" {\"name\": \"poll\", \"http\": {\"url\": \"http://h/jobs/{job}\"}, \"capture\": {\"status\": {\"json\": \"$.status\"}},"
		"  \"repeat\": {\"until\": {\"var\": \"status\", \"equals\": \"done\"}, \"max\": 3, \"interval\": \"100ms\"}},"
		" {\"name\": \"fetch\", \"http\": {\"url\": \"http://h/jobs/{job}/result?n={iteration}\"},"
		"  \"when\": {\"var\": \"status\", \"not_equals\": \"failed\"}}]}}");
	struct http_journey_pos pos = { 0 };
	struct http_rng rng = { 1 };
	cJSON *vars = cJSON_Parse("{\"job\": \"j1\"}");

	(void)state;
	assert_true(j->steps[0].has_body); /* POST: a Content-Length even without a body */
	pos.step = 1;
	cJSON_AddStringToObject(vars, "status", "running");
	assert_int_equal(http_journey_next(j, vars, &rng, &pos, NULL), HTTP_JOURNEY_RUN);
	assert_int_equal(pos.step, 1);
	assert_int_equal(pos.iteration, 1);
	assert_int_equal(pos.think, 100 * MS);
	/* met on the second run */
	cJSON_ReplaceItemInObjectCaseSensitive(vars, "status", cJSON_CreateString("done"));
	assert_int_equal(http_journey_next(j, vars, &rng, &pos, NULL), HTTP_JOURNEY_RUN);
	assert_int_equal(pos.step, 2);
	/* never met: exhausted after max runs */
	cJSON_ReplaceItemInObjectCaseSensitive(vars, "status", cJSON_CreateString("running"));
	pos.step = 1;
	pos.iteration = 0;
	assert_int_equal(http_journey_next(j, vars, &rng, &pos, NULL), HTTP_JOURNEY_RUN);
	assert_int_equal(http_journey_next(j, vars, &rng, &pos, NULL), HTTP_JOURNEY_RUN);
	assert_int_equal(pos.iteration, 2);
	assert_int_equal(http_journey_next(j, vars, &rng, &pos, NULL), HTTP_JOURNEY_EXHAUSTED);
	/* not_equals holds for a missing variable, and for another value */
	cJSON_DeleteItemFromObjectCaseSensitive(vars, "status");
	assert_true(http_journey_cond_holds(&j->steps[2].when, vars));
	cJSON_AddStringToObject(vars, "status", "failed");
	assert_false(http_journey_cond_holds(&j->steps[2].when, vars));
	cJSON_Delete(vars);
	http_journey_free(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_problems),
		cmocka_unit_test(test_every_problem),
		cmocka_unit_test(test_render),
		cmocka_unit_test(test_order),
		cmocka_unit_test(test_until),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
