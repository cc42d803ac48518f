/* Unit tests for core/http/capture.c: parsing a step's `capture` object
 * (every problem at its JSON path), and taking values by JSON path, header
 * and regex, with a missing value an error of its own. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "../../core/http/capture.h"
#include "../../core/util.h"

#define PATH "benchmarks[0].journey.steps[1].capture"

static const char HEADERS[] = "Content-Type: application/json\r\nX-Request-Id:   req-42  \r\n"
			      "x-request-id: second\r\nX-Empty:\r\n";
static const char BODY[] = "{\"hits\": [{\"id\": \"d7\", \"score\": 0.9, \"vec\": [1, 2, 3]}], "
			   "\"next\": \"/page?token=ab12cd&x=1\", \"n\": 3}";

static const struct http_capture_response RESP = { HEADERS, sizeof(HEADERS) - 1, BODY, sizeof(BODY) - 1 };

static int parse(const char *json, struct http_capture_set *out, struct errlist *problems)
{
	cJSON *obj = cJSON_Parse(json);
	int rc;

	assert_non_null(obj);
	rc = http_capture_parse(out, obj, PATH, problems);
	cJSON_Delete(obj);
	return rc;
}

static bool has_problem(const struct errlist *p, const char *text)
{
	for (size_t i = 0; i < p->n; i++)
		if (strstr(p->msgs[i], text))
			return true;
	return false;
}

static void test_parse_ok(void **state)
{
	struct http_capture_set s;
	struct errlist p = ERRLIST_INIT;

	(void)state;
	assert_int_equal(parse("{\"doc\": {\"json\": \"$.hits[0].id\"}, \"rid\": {\"header\": \"X-Request-Id\"},"
			       " \"tok\": {\"regex\": \"token=([a-z0-9]+)&(x)\", \"group\": 2},"
			       " \"all\": {\"regex\": \"token=[a-z]+\"}, \"h\": {\"json\": \"$.hint\", \"optional\": true}}",
			       &s, &p),
			 0);
	assert_int_equal(p.n, 0);
	assert_int_equal(s.n, 5);
	assert_string_equal(s.caps[0].name, "doc");
	assert_int_equal(s.caps[0].source, HTTP_CAPTURE_JSON);
	assert_int_equal(s.caps[1].source, HTTP_CAPTURE_HEADER);
	assert_int_equal(s.caps[2].group, 2);
	assert_int_equal(s.caps[3].group, 0); /* no group in the pattern: the whole match */
	assert_true(s.caps[4].optional);
	assert_true(s.needs_headers);
	assert_true(s.needs_body);
	http_capture_release(&s);
	/* a header-only set does not need the body */
	assert_int_equal(parse("{\"rid\": {\"header\": \"X-Request-Id\"}}", &s, &p), 0);
	assert_true(s.needs_headers);
	assert_false(s.needs_body);
	http_capture_release(&s);
	errlist_release(&p);
}

static void test_parse_problems(void **state)
{
	struct http_capture_set s;
	struct errlist p = ERRLIST_INIT;

	(void)state;
	assert_int_equal(parse("{\"a\": {\"json\": \"hits.id\"}, \"b\": {\"header\": \"X\", \"regex\": \"y\"},"
			       " \"c\": {\"regex\": \"(unclosed\"}, \"d\": {\"regex\": \"(x)\", \"group\": 2},"
			       " \"e\": \"$.id\", \"f\": {\"jsn\": \"$.x\"}, \"g h\": {\"json\": \"$.x\"},"
			       " \"i\": {\"header\": \"X\", \"group\": 1}, \"j\": {\"json\": \"$.x\", \"optional\": 1},"
			       " \"k\": {\"json\": \"\"}, \"a\": {\"json\": \"$.y\"}}",
			       &s, &p),
			 ERR_INPUT);
	assert_int_equal(s.n, 0);
	assert_true(has_problem(&p, PATH ".a.json: expected a JSON path such as \"$.hits[0].id\""));
	assert_true(has_problem(&p, PATH ".b: expected exactly one of \"json\", \"header\" or \"regex\""));
	assert_true(has_problem(&p, PATH ".c.regex: not a POSIX extended regular expression"));
	assert_true(has_problem(&p, PATH ".d.group: the pattern has 1 group(s)"));
	assert_true(has_problem(&p, PATH ".e: expected an object such as {\"json\": \"$.id\"}, got \"$.id\""));
	assert_true(has_problem(&p, PATH ".f.jsn: unknown key; did you mean \"json\"?"));
	assert_true(has_problem(&p, PATH ".g h: a capture name is letters"));
	assert_true(has_problem(&p, PATH ".i.group: only a regex capture has groups"));
	assert_true(has_problem(&p, PATH ".j.optional: expected true or false"));
	assert_true(has_problem(&p, PATH ".k.json: expected a non-empty string"));
	assert_true(has_problem(&p, PATH ".a: duplicate key"));
	errlist_release(&p);
	/* not an object at all */
	assert_int_equal(parse("[1]", &s, &p), ERR_INPUT);
	assert_true(has_problem(&p, PATH ": expected an object of names to captures"));
	errlist_release(&p);
}

static void test_values(void **state)
{
	struct http_capture_set s;
	struct errlist p = ERRLIST_INIT;
	cJSON *vars = cJSON_CreateObject();
	char why[256] = "", *text;

	(void)state;
	assert_int_equal(parse("{\"doc\": {\"json\": \"$.hits[0].id\"}, \"vec\": {\"json\": \"$.hits[0].vec\"},"
			       " \"n\": {\"json\": \"$.n\"}, \"rid\": {\"header\": \"x-request-id\"},"
			       " \"empty\": {\"header\": \"X-Empty\"}, \"tok\": {\"regex\": \"token=([a-z0-9]+)\"},"
			       " \"m\": {\"regex\": \"x=[0-9]\"}}",
			       &s, &p),
			 0);
	/* an earlier value of the same name is replaced */
	cJSON_AddStringToObject(vars, "doc", "old");
	assert_int_equal(http_capture_apply(&s, &RESP, vars, why, sizeof(why)), 0);
	text = cJSON_PrintUnformatted(vars);
	/* values keep their JSON type; headers and regex groups are text */
	assert_string_equal(text, "{\"doc\":\"d7\",\"vec\":[1,2,3],\"n\":3,\"rid\":\"req-42\",\"empty\":\"\","
				  "\"tok\":\"ab12cd\",\"m\":\"x=1\"}");
	free(text);
	cJSON_Delete(vars);
	http_capture_release(&s);
	errlist_release(&p);
}

static void test_missing(void **state)
{
	static const struct {
		const char *capture, *why;
	} cases[] = {
		{ "{\"v\": {\"json\": \"$.hits[1].id\"}}", "capture v: no $.hits[1].id in the response" },
		{ "{\"v\": {\"json\": \"$.hits[0].id.x\"}}", "capture v: no $.hits[0].id.x in the response" },
		{ "{\"v\": {\"header\": \"X-Trace\"}}", "capture v: no X-Trace header in the response" },
		{ "{\"v\": {\"regex\": \"cursor=([0-9]+)\"}}", "capture v: /cursor=([0-9]+)/ does not match the response" },
		{ "{\"v\": {\"regex\": \"(zzz)|(token)\", \"group\": 1}}", "capture v: group 1 of /(zzz)|(token)/ took no part" },
	};
	char why[256];

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct http_capture_set s;
		struct errlist p = ERRLIST_INIT;
		cJSON *vars = cJSON_CreateObject();

		assert_int_equal(parse(cases[i].capture, &s, &p), 0);
		why[0] = '\0';
		assert_int_equal(http_capture_apply(&s, &RESP, vars, why, sizeof(why)), ERR_NOTFOUND);
		if (!strstr(why, cases[i].why))
			fail_msg("case %zu: '%s' lacks '%s'", i, why, cases[i].why);
		assert_null(cJSON_GetObjectItemCaseSensitive(vars, "v"));
		cJSON_Delete(vars);
		http_capture_release(&s);
	}
	/* a body that is not JSON */
	{
		struct http_capture_set s;
		struct errlist p = ERRLIST_INIT;
		struct http_capture_response r = { "", 0, "<html>", 6 };
		cJSON *vars = cJSON_CreateObject();

		assert_int_equal(parse("{\"v\": {\"json\": \"$.id\"}}", &s, &p), 0);
		assert_int_equal(http_capture_apply(&s, &r, vars, why, sizeof(why)), ERR_NOTFOUND);
		assert_non_null(strstr(why, "the response is not JSON"));
		cJSON_Delete(vars);
		http_capture_release(&s);
	}
}

static void test_optional_and_order(void **state)
{
	struct http_capture_set s;
	struct errlist p = ERRLIST_INIT;
	cJSON *vars = cJSON_CreateObject();
	char why[256];

	(void)state;
	/* an optional value that is missing unsets the variable and goes on */
	cJSON_AddStringToObject(vars, "hint", "stale");
	assert_int_equal(parse("{\"hint\": {\"json\": \"$.hint\", \"optional\": true}, \"doc\": {\"json\": \"$.hits[0].id\"},"
			       " \"gone\": {\"header\": \"X-Gone\"}, \"later\": {\"json\": \"$.n\"}}",
			       &s, &p),
			 0);
	assert_int_equal(http_capture_apply(&s, &RESP, vars, why, sizeof(why)), ERR_NOTFOUND);
	assert_null(cJSON_GetObjectItemCaseSensitive(vars, "hint"));
	/* the values before the missing one are set, those after are not */
	assert_string_equal(cJSON_GetObjectItemCaseSensitive(vars, "doc")->valuestring, "d7");
	assert_null(cJSON_GetObjectItemCaseSensitive(vars, "later"));
	assert_non_null(strstr(why, "capture gone"));
	cJSON_Delete(vars);
	http_capture_release(&s);
}

static void test_header_lookup(void **state)
{
	size_t len;
	const char *v;
	static const char lf[] = "A: 1\nContent-Length: 12\nB:two words \n";

	(void)state;
	v = http_capture_header(lf, sizeof(lf) - 1, "content-length", &len);
	assert_non_null(v);
	assert_int_equal(len, 2);
	assert_memory_equal(v, "12", 2);
	v = http_capture_header(lf, sizeof(lf) - 1, "b", &len);
	assert_int_equal(len, 9);
	assert_memory_equal(v, "two words", 9);
	/* a name is matched whole, not as a prefix */
	assert_null(http_capture_header(lf, sizeof(lf) - 1, "Content", &len));
	assert_null(http_capture_header("", 0, "A", &len));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_ok),
		cmocka_unit_test(test_parse_problems),
		cmocka_unit_test(test_values),
		cmocka_unit_test(test_missing),
		cmocka_unit_test(test_optional_and_order),
		cmocka_unit_test(test_header_lookup),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
