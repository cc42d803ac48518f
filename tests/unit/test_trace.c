/* Unit tests for core/http/trace.c: Mooncake-style JSON lines and Azure
 * LLM inference trace CSV (dates to the nanosecond, across midnight and a
 * month's end), the time scale, out-of-order entries, the limit, and
 * malformed traces answered with one line naming file, line and field.
 * Every trace is written here by hand; expected times are worked out from
 * the timestamps in the comments. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "../../core/http/trace.h"
#include "../../core/util.h"

static struct http_trace *read_ok(const char *text, const struct http_trace_options *o)
{
	FILE *f = fmemopen((void *)(uintptr_t)text, strlen(text), "r");
	struct http_trace *t = NULL;
	struct err err = ERR_INIT;

	assert_non_null(f);
	if (http_trace_read(&t, o, f, &err) != 0)
		fail_msg("unexpected error: %s", err.msg);
	fclose(f);
	return t;
}

static int read_bad(const char *text, struct err *err)
{
	FILE *f = fmemopen((void *)(uintptr_t)text, strlen(text), "r");
	struct http_trace_options o = HTTP_TRACE_OPTIONS_INIT;
	struct http_trace *t = (struct http_trace *)&o;
	int rc;

	o.label = "t";
	rc = http_trace_read(&t, &o, f, err);
	fclose(f);
	assert_null(t);
	return rc;
}

static void test_mooncake_jsonl(void **state)
{
	static const char text[] =
		"{\"timestamp\": 0, \"input_length\": 6755, \"output_length\": 500, \"hash_ids\": [0, 1, 2]}\n"
		"{\"timestamp\": 0, \"input_length\": 7319, \"output_length\": 490, \"hash_ids\": [0, 3]}\n"
		"\n"
		"{\"timestamp\": 3052, \"input_length\": 7234, \"output_length\": 794}\n"
		"{\"timestamp\": 3052.5, \"input_length\": 2287, \"output_length\": 316, \"hash_ids\": []}\n";
	struct http_trace_options o = HTTP_TRACE_OPTIONS_INIT;
	struct http_trace *t;
	const struct http_trace_entry *e;
	const uint64_t *h;

	(void)state;
	t = read_ok(text, &o);
	assert_int_equal(http_trace_count(t), 4);
	assert_string_equal(http_trace_stats(t)->shape, "jsonl");
	e = http_trace_get(t, 0);
	assert_int_equal(e->t, 0);
	assert_int_equal(e->input_tokens, 6755);
	assert_int_equal(e->output_tokens, 500);
	h = http_trace_hash_ids(t);
	assert_int_equal(e->n_hash, 3);
	assert_int_equal(h[e->hash_off + 2], 2);
	e = http_trace_get(t, 1);
	assert_int_equal(e->n_hash, 2);
	assert_int_equal(h[e->hash_off], 0);
	assert_int_equal(h[e->hash_off + 1], 3);
	assert_int_equal(http_trace_get(t, 2)->t, 3052000000ULL); /* ms */
	assert_int_equal(http_trace_get(t, 2)->n_hash, 0);
	assert_int_equal(http_trace_get(t, 3)->t, 3052500000ULL);
	http_trace_free(t);

	/* twice as fast, timestamps in seconds */
	o.time_scale = 0.5;
	o.time_unit = 1;
	t = read_ok(text, &o);
	assert_int_equal(http_trace_get(t, 2)->t, 1526000000000ULL);
	assert_true(http_trace_stats(t)->span > 1526.24 && http_trace_stats(t)->span < 1526.26);
	http_trace_free(t);
}

static void test_azure_csv(void **state)
{
	/* 18:15:46.6805900 -> 18:15:50.9951690 is 4.314579 s; the third line
	 * is 2023-11-17 00:00:00.0000001, 20,653.3194101 s after the first. */
	static const char text[] =
		"TIMESTAMP,ContextTokens,GeneratedTokens\r\n"
		"2023-11-16 18:15:46.6805900,4808,10\r\n"
		"2023-11-16 18:15:50.9951690,3180,8\r\n"
		"2023-11-17 00:00:00.0000001,110,27\r\n";
	/* The last day of a month, ISO form with Z, reordered columns and
	 * surrounding spaces. */
	static const char month[] =
		"GeneratedTokens, TIMESTAMP ,ContextTokens\n"
		"5, 2024-02-29T23:59:59.75Z ,100\n"
		"6,2024-03-01T00:00:00.25+00:00,200\n";
	struct http_trace_options o = HTTP_TRACE_OPTIONS_INIT;
	struct http_trace *t;

	(void)state;
	t = read_ok(text, &o);
	assert_string_equal(http_trace_stats(t)->shape, "csv");
	assert_int_equal(http_trace_count(t), 3);
	assert_int_equal(http_trace_get(t, 1)->t, 4314579000ULL);
	assert_int_equal(http_trace_get(t, 1)->input_tokens, 3180);
	assert_int_equal(http_trace_get(t, 1)->output_tokens, 8);
	assert_int_equal(http_trace_get(t, 2)->t, 20653319410100ULL);
	http_trace_free(t);
	t = read_ok(month, &o);
	assert_int_equal(http_trace_get(t, 1)->t, 500000000ULL);
	assert_int_equal(http_trace_get(t, 1)->input_tokens, 200);
	assert_int_equal(http_trace_get(t, 1)->output_tokens, 6);
	http_trace_free(t);
}

/* Numeric timestamps in a CSV with the Mooncake names; out of order. */
static void test_order_and_limit(void **state)
{
	static const char text[] =
		"timestamp,input_length,output_length\n"
		"1000,10,1\n"
		"500,20,2\n"
		"1500,30,3\n"
		"500,40,4\n"
		"2000,50,5\n";
	struct http_trace_options o = HTTP_TRACE_OPTIONS_INIT;
	struct http_trace *t;
	static const unsigned want_in[] = { 20, 40, 10, 30, 50 }; /* stable among the two at 500 ms */
	static const uint64_t want_t[] = { 0, 0, 500000000, 1000000000, 1500000000 };

	(void)state;
	t = read_ok(text, &o);
	assert_int_equal(http_trace_stats(t)->reordered, 2);
	for (size_t i = 0; i < 5; i++) {
		assert_int_equal(http_trace_get(t, i)->input_tokens, want_in[i]);
		assert_int_equal(http_trace_get(t, i)->t, want_t[i]);
	}
	http_trace_free(t);
	o.limit = 2;
	t = read_ok(text, &o);
	assert_int_equal(http_trace_count(t), 2);
	assert_int_equal(http_trace_get(t, 0)->input_tokens, 20);
	assert_int_equal(http_trace_get(t, 1)->t, 500000000ULL);
	http_trace_free(t);
}

struct bad_case {
	const char *text;
	const char *message;
};

static const struct bad_case bad_cases[] = {
	{ "", "trace 't': no requests in it" },
	{ "TIMESTAMP,ContextTokens,GeneratedTokens\n", "trace 't': no requests in it" },
	{ "time,in,out\n1,2,3\n", "trace 't' line 1: expected a header naming the columns TIMESTAMP,ContextTokens,GeneratedTokens (or timestamp,input_length,output_length)" },
	{ "TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:46,12\n",
	  "trace 't' line 2: expected 3 columns as in the header, found 2" },
	{ "TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:46,12,x\n",
	  "trace 't' line 2: GeneratedTokens: expected a whole number of tokens >= 0, got \"x\"" },
	{ "TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:46,1.5,2\n",
	  "trace 't' line 2: ContextTokens: expected a whole number of tokens >= 0, got \"1.5\"" },
	{ "TIMESTAMP,ContextTokens,GeneratedTokens\n2023-13-16 18:15:46,1,2\n",
	  "trace 't' line 2: TIMESTAMP: not a valid date and time" },
	{ "TIMESTAMP,ContextTokens,GeneratedTokens\n2023-11-16 18:15:46 PST,1,2\n",
	  "trace 't' line 2: TIMESTAMP: expected a date and time such as 2023-11-16 18:15:46.68 (UTC)" },
	{ "timestamp,input_length,output_length\n-5,1,2\n",
	  "trace 't' line 2: timestamp: expected a date and time such as 2023-11-16 18:15:46.68, or a number >= 0" },
	{ "{\"timestamp\": 1, \"input_length\": 2, \"output_length\": 3}\n{\"timestamp\": 2, \"input_length\": 2}\n",
	  "trace 't' line 2: output_length: expected a whole number of tokens >= 0" },
	{ "{\"timestamp\": \"now\", \"input_length\": 2, \"output_length\": 3}\n",
	  "trace 't' line 1: timestamp: expected a number >= 0" },
	{ "{\"timestamp\": 1, \"input_length\": 2, \"output_length\": 3\n",
	  "trace 't' line 1: expected a JSON object such as {\"timestamp\": 0, \"input_length\": 512, \"output_length\": 64}" },
	{ "{\"timestamp\": 1, \"input_length\": 2, \"output_length\": 3, \"hash_ids\": 7}\n",
	  "trace 't' line 1: hash_ids: expected an array of block ids" },
	{ "{\"timestamp\": 1, \"input_length\": 2, \"output_length\": 3, \"hash_ids\": [1, -2]}\n",
	  "trace 't' line 1: hash_ids: expected an array of block ids (whole numbers >= 0)" },
	{ "{\"timestamp\": 1, \"input_length\": 2, \"output_length\": 3}\n[]\n",
	  "trace 't' line 2: expected a JSON object such as {\"timestamp\": 0, \"input_length\": 512, \"output_length\": 64}" },
	{ "{\"timestamp\": 1e300, \"input_length\": 2, \"output_length\": 3}\n", "trace 't' line 1: timestamp: too large (over 280 years)" },
	{ "{\"timestamp\": 1, \"input_length\": 1e12, \"output_length\": 3}\n",
	  "trace 't' line 1: input_length: expected a whole number of tokens >= 0" },
};

static void test_malformed(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(bad_cases); i++) {
		struct err err = ERR_INIT;

		assert_int_equal(read_bad(bad_cases[i].text, &err), ERR_INPUT);
		if (strcmp(err.msg, bad_cases[i].message) != 0)
			fail_msg("case %zu: got \"%s\", expected \"%s\"", i, err.msg, bad_cases[i].message);
	}
}

static void test_missing_file(void **state)
{
	struct http_trace_options o = HTTP_TRACE_OPTIONS_INIT;
	struct http_trace *t = NULL;
	struct err err = ERR_INIT;

	(void)state;
	o.path = "/nonexistent/trace.csv";
	assert_int_equal(http_trace_open(&t, &o, &err), ERR_FAIL);
	assert_null(t);
	assert_string_equal(err.msg, "cannot open trace '/nonexistent/trace.csv': No such file or directory");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_mooncake_jsonl),
		cmocka_unit_test(test_azure_csv),
		cmocka_unit_test(test_order_and_limit),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_missing_file),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
