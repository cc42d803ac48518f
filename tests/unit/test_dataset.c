/* Unit tests for core/http/dataset.c: the three formats (ShareGPT, OpenAI
 * chat, plain prompts) as JSON arrays and JSON lines, field mapping,
 * escapes, skipped conversations, length filters, seeded samples and
 * shuffles, and malformed files answered with one line naming the file,
 * the line and the JSON path.  Every input is written here by hand. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../core/http/dataset.h"
#include "../../core/util.h"

static struct http_dataset *parse_ok(const char *text, const struct http_dataset_options *o)
{
	struct http_dataset *d = NULL;
	struct err err = ERR_INIT;

	if (http_dataset_parse(&d, o, text, strlen(text), &err) != 0)
		fail_msg("unexpected error: %s", err.msg);
	return d;
}

static void test_sharegpt_array(void **state)
{
	static const char text[] =
		"[\n"
		"  {\"id\": \"a\", \"conversations\": [\n"
		"    {\"from\": \"system\", \"value\": \"Be brief.\"},\n"
		"    {\"from\": \"human\", \"value\": \"Caf\\u00e9 \\\"au lait\\\"?\\nYes\"},\n"
		"    {\"from\": \"gpt\", \"value\": \"Of course \\ud83d\\ude00\", \"weight\": 1.5e0},\n"
		"    {\"from\": \"human\", \"value\": \"and \\ud800 alone\"}]},\n"
		"  {\"conversations\": [{\"value\": \"x\", \"from\": \"user\", \"extra\": [1, {\"k\": null}, true]}],\n"
		"   \"meta\": {\"lang\": \"en\", \"tags\": [\"a\", \"b\"], \"score\": -0.25}}\n"
		"]\n";
	struct http_dataset_options o = HTTP_DATASET_OPTIONS_INIT;
	struct http_dataset *d;
	const struct http_dataset_conv *c;

	(void)state;
	o.format = HTTP_DATASET_SHAREGPT;
	d = parse_ok(text, &o);
	assert_int_equal(http_dataset_count(d), 2);
	c = http_dataset_get(d, 0);
	assert_int_equal(c->n_turns, 4);
	assert_int_equal(c->turns[0].role, HTTP_ROLE_SYSTEM);
	assert_int_equal(c->turns[1].role, HTTP_ROLE_USER);
	assert_string_equal(c->turns[1].text, "Caf\xc3\xa9 \"au lait\"?\nYes");
	assert_int_equal(c->turns[1].len, strlen("Caf\xc3\xa9 \"au lait\"?\nYes"));
	assert_int_equal(c->turns[2].role, HTTP_ROLE_ASSISTANT);
	assert_string_equal(c->turns[2].text, "Of course \xf0\x9f\x98\x80");
	assert_string_equal(c->turns[3].text, "and \xef\xbf\xbd alone"); /* lone surrogate: U+FFFD */
	/* estimates: system (9 bytes) + first user turn (20), and the reply (14) */
	assert_int_equal(c->input_tokens, (9 + 20 + 3) / 4);
	assert_int_equal(c->output_tokens, (14 + 3) / 4);
	assert_null(c->row);
	c = http_dataset_get(d, 1);
	assert_int_equal(c->n_turns, 1);
	assert_string_equal(c->turns[0].text, "x");
	assert_int_equal(c->output_tokens, 0);
	assert_null(http_dataset_get(d, 2));
	assert_int_equal(http_dataset_stats(d)->read, 2);
	assert_int_equal(http_dataset_stats(d)->kept, 2);
	http_dataset_free(d);
}

/* The same format as JSON lines, with a byte-order mark, CR LF line ends
 * and blank lines; and every key renamed. */
static void test_sharegpt_lines_mapped(void **state)
{
	static const char text[] =
		"\xEF\xBB\xBF{\"dialog\": [{\"speaker\": \"human\", \"utterance\": \"hi\"}, {\"speaker\": \"gpt\", \"utterance\": \"hello there\"}]}\r\n"
		"\r\n"
		"{\"dialog\": [{\"speaker\": \"gpt\", \"utterance\": \"I start\"}, {\"speaker\": \"human\", \"utterance\": \"ok\"}]}\n";
	struct http_dataset_options o = HTTP_DATASET_OPTIONS_INIT;
	struct http_dataset *d;

	(void)state;
	o.format = HTTP_DATASET_SHAREGPT;
	o.turns_key = "dialog";
	o.role_key = "speaker";
	o.text_key = "utterance";
	d = parse_ok(text, &o);
	assert_int_equal(http_dataset_count(d), 2);
	assert_string_equal(http_dataset_get(d, 0)->turns[1].text, "hello there");
	assert_int_equal(http_dataset_get(d, 0)->output_tokens, 3);
	/* a conversation that opens with the assistant: its first user turn is
	 * the input, and nothing follows it */
	assert_int_equal(http_dataset_get(d, 1)->input_tokens, 1);
	assert_int_equal(http_dataset_get(d, 1)->output_tokens, 0);
	http_dataset_free(d);
}

static void test_openai_messages(void **state)
{
	static const char text[] =
		"{\"messages\": [{\"role\": \"system\", \"content\": \"You help.\"}, {\"role\": \"user\", \"content\": [{\"type\": \"text\", \"text\": \"Part one, \"}, {\"type\": \"text\", \"text\": \"part two.\"}]}, {\"role\": \"assistant\", \"content\": \"Done.\"}]}\n"
		"{\"messages\": [{\"role\": \"user\", \"content\": \"weather?\"}, {\"role\": \"assistant\", \"content\": null, \"tool_calls\": [{\"id\": \"t1\"}]}]}\n"
		"{\"messages\": [{\"role\": \"user\", \"content\": [{\"type\": \"image_url\", \"image_url\": {\"url\": \"x\"}}]}]}\n"
		"{\"messages\": [{\"role\": \"tool\", \"content\": \"42\"}, {\"role\": \"user\", \"content\": \"and?\"}]}\n"
		"{\"messages\": [{\"role\": \"assistant\", \"content\": \"nobody asked\"}]}\n"
		"{\"messages\": [{\"role\": \"user\", \"content\": \"last\"}], \"model\": \"m\"}";
	struct http_dataset_options o = HTTP_DATASET_OPTIONS_INIT;
	struct http_dataset *d;
	const struct http_dataset_stats *s;

	(void)state;
	o.format = HTTP_DATASET_OPENAI;
	d = parse_ok(text, &o);
	s = http_dataset_stats(d);
	assert_int_equal(s->read, 6);
	assert_int_equal(s->unsupported, 3); /* tool-call reply, image part, tool role */
	assert_int_equal(s->no_user_turn, 1);
	assert_int_equal(http_dataset_count(d), 2);
	assert_string_equal(http_dataset_get(d, 0)->turns[1].text, "Part one, part two.");
	assert_string_equal(http_dataset_get(d, 0)->turns[2].text, "Done.");
	assert_string_equal(http_dataset_get(d, 1)->turns[0].text, "last");
	http_dataset_free(d);
}

static void test_prompts_rows(void **state)
{
	static const char text[] =
		"{\"question\": \"why is the sky blue\", \"max_tokens\": 32, \"tags\": [\"sci\"]}\n"
		"{\"question\": \"tl;dr\", \"max_tokens\": 8}\n";
	static const char no_field[] = "{\"a\": 1}\n{\"a\": 2}\n";
	struct http_dataset_options o = HTTP_DATASET_OPTIONS_INIT;
	struct http_dataset *d;

	(void)state;
	o.text_key = "question";
	d = parse_ok(text, &o);
	assert_int_equal(http_dataset_count(d), 2);
	assert_string_equal(http_dataset_get(d, 0)->row,
			    "{\"question\": \"why is the sky blue\", \"max_tokens\": 32, \"tags\": [\"sci\"]}");
	assert_string_equal(http_dataset_get(d, 0)->turns[0].text, "why is the sky blue");
	assert_int_equal(http_dataset_get(d, 1)->input_tokens, 2);
	http_dataset_free(d);
	/* Rows without the prompt field still serve templates... */
	d = parse_ok(no_field, &o);
	assert_int_equal(http_dataset_count(d), 2);
	assert_int_equal(http_dataset_get(d, 1)->n_turns, 0);
	assert_string_equal(http_dataset_get(d, 1)->row, "{\"a\": 2}");
	http_dataset_free(d);
	/* ...but a length filter cannot judge them. */
	{
		struct err err = ERR_INIT;

		o.min_input_tokens = 1;
		o.label = "p.jsonl";
		assert_int_equal(http_dataset_parse(&d, &o, no_field, strlen(no_field), &err), ERR_INPUT);
		assert_string_equal(err.msg, "dataset 'p.jsonl': none of its 2 rows is left (0 outside the length "
					     "filters, 2 without a user turn, 0 with roles or content perfgate cannot send)");
	}
}

/* 40 conversations whose prompt has i + 1 words of 4 bytes ("abc ") and
 * whose reply has 40 - i. */
static char *numbered(void)
{
	struct sb sb = SB_INIT;

	sb_puts(&sb, "[");
	for (int i = 0; i < 40; i++) {
		sb_printf(&sb, "%s{\"conversations\": [{\"from\": \"human\", \"value\": \"", i ? "," : "");
		for (int k = 0; k <= i; k++)
			sb_puts(&sb, "abc ");
		sb_printf(&sb, "\"}, {\"from\": \"gpt\", \"value\": \"");
		for (int k = 0; k < 40 - i; k++)
			sb_puts(&sb, "xyz ");
		sb_printf(&sb, "\"}], \"n\": %d}\n", i);
	}
	sb_puts(&sb, "]");
	return sb_detach(&sb);
}

static void test_filters(void **state)
{
	char *text = numbered();
	struct http_dataset_options o = HTTP_DATASET_OPTIONS_INIT;
	struct http_dataset *d;

	(void)state;
	o.format = HTTP_DATASET_SHAREGPT;
	o.min_input_tokens = 5;   /* i >= 4 */
	o.max_input_tokens = 30;  /* i <= 29 */
	o.min_output_tokens = 15; /* 40 - i >= 15: i <= 25 */
	d = parse_ok(text, &o);
	assert_int_equal(http_dataset_count(d), 22); /* i = 4..25 */
	assert_int_equal(http_dataset_stats(d)->filtered, 18);
	for (size_t i = 0; i < 22; i++) {
		const struct http_dataset_conv *c = http_dataset_get(d, i);

		assert_int_equal(c->input_tokens, i + 5);
		assert_int_equal(c->output_tokens, 40 - (i + 4));
	}
	http_dataset_free(d);
	o.max_output_tokens = 10; /* with min 15: nothing */
	{
		struct err err = ERR_INIT;

		o.label = "n.json";
		assert_int_equal(http_dataset_parse(&d, &o, text, strlen(text), &err), ERR_INPUT);
		assert_non_null(strstr(err.msg, "none of its 40 rows is left (40 outside the length filters"));
	}
	free(text);
}

static void first_words(const struct http_dataset *d, size_t *out)
{
	for (size_t i = 0; i < http_dataset_count(d); i++)
		out[i] = http_dataset_get(d, i)->input_tokens - 1; /* the row's number */
}

static void test_sample_and_shuffle(void **state)
{
	char *text = numbered();
	struct http_dataset_options o = HTTP_DATASET_OPTIONS_INIT;
	struct http_dataset *d;
	size_t a[40], b[40], chosen[40] = { 0 };

	(void)state;
	o.format = HTTP_DATASET_SHAREGPT;
	/* a sample keeps the file's order and is the same for the same seed */
	o.sample = 10;
	o.seed = 5;
	d = parse_ok(text, &o);
	assert_int_equal(http_dataset_count(d), 10);
	first_words(d, a);
	for (size_t i = 1; i < 10; i++)
		assert_true(a[i - 1] < a[i]);
	http_dataset_free(d);
	d = parse_ok(text, &o);
	first_words(d, b);
	assert_memory_equal(a, b, 10 * sizeof(a[0]));
	http_dataset_free(d);
	/* over many seeds every row is chosen about equally often: 400
	 * samples of 10 from 40 choose each row 100 times on average */
	for (o.seed = 100; o.seed < 500; o.seed++) {
		d = parse_ok(text, &o);
		first_words(d, a);
		for (size_t i = 0; i < 10; i++)
			chosen[a[i]]++;
		http_dataset_free(d);
	}
	for (size_t i = 0; i < 40; i++)
		if (chosen[i] < 60 || chosen[i] > 140)
			fail_msg("row %zu chosen %zu times in 400 samples (expected about 100)", i, chosen[i]);
	/* a shuffle is a permutation, in a seeded order */
	o.sample = 0;
	o.shuffle = true;
	o.seed = 9;
	d = parse_ok(text, &o);
	assert_int_equal(http_dataset_count(d), 40);
	first_words(d, a);
	http_dataset_free(d);
	memset(chosen, 0, sizeof(chosen));
	for (size_t i = 0; i < 40; i++)
		chosen[a[i]]++;
	for (size_t i = 0; i < 40; i++)
		assert_int_equal(chosen[i], 1);
	{
		bool moved = false;

		for (size_t i = 0; i < 40; i++)
			moved = moved || a[i] != i;
		assert_true(moved);
	}
	o.seed = 10;
	d = parse_ok(text, &o);
	first_words(d, b);
	assert_memory_not_equal(a, b, sizeof(a));
	http_dataset_free(d);
	free(text);
}

struct bad_case {
	enum http_dataset_format format;
	const char *text;
	const char *message;
};

static const struct bad_case bad_cases[] = {
	{ HTTP_DATASET_SHAREGPT, "", "dataset 'f' line 1: empty file" },
	{ HTTP_DATASET_SHAREGPT, "[]", "dataset 'f': no rows" },
	{ HTTP_DATASET_SHAREGPT, "[\n {\"conversations\": [{\"from\": \"human\", \"value\": 5}]}\n]",
	  "dataset 'f' line 2: [0].conversations[0].value: expected a string" },
	{ HTTP_DATASET_SHAREGPT,
	  "[{\"conversations\": []},\n {\"conversations\": [{\"from\": \"human\", \"value\": \"a\"},\n {\"from\": \"gpt\"}]}]",
	  "dataset 'f' line 3: [1].conversations[1]: expected an object with \"from\" and \"value\"" },
	{ HTTP_DATASET_SHAREGPT, "[{\"conversation\": []}]",
	  "dataset 'f' line 1: [0]: expected an object with \"conversations\" (a list of turns)" },
	{ HTTP_DATASET_SHAREGPT, "[{\"conversations\": {}}]", "dataset 'f' line 1: [0].conversations: expected an array of turns" },
	{ HTTP_DATASET_SHAREGPT, "[{\"conversations\": [{\"from\": 1, \"value\": \"a\"}]}]",
	  "dataset 'f' line 1: [0].conversations[0].from: expected a string" },
	{ HTTP_DATASET_SHAREGPT, "[{\"conversations\": [{\"from\": \"human\", \"value\": \"a\"}]}",
	  "dataset 'f' line 1: expected ',' or ']'" },
	{ HTTP_DATASET_SHAREGPT, "[{\"conversations\": [{\"from\": \"human\", \"value\": \"a}]}]",
	  "dataset 'f' line 1: [0].conversations[0].value: unterminated string" },
	{ HTTP_DATASET_SHAREGPT, "[{\"conversations\": [{\"from\": \"human\", \"value\": \"a\\q\"}]}]",
	  "dataset 'f' line 1: [0].conversations[0].value: bad escape in a string" },
	{ HTTP_DATASET_SHAREGPT, "[{\"conversations\": [{\"from\": \"human\", \"value\": \"\\u12G4\"}]}]",
	  "dataset 'f' line 1: [0].conversations[0].value: bad \\u escape" },
	{ HTTP_DATASET_SHAREGPT, "[{\"x\": 01, \"conversations\": []}]", "dataset 'f' line 1: [0]: expected ',' or '}'" },
	{ HTTP_DATASET_SHAREGPT, "[{\"x\": 1.e5}]", "dataset 'f' line 1: [0].x: bad number" },
	{ HTTP_DATASET_SHAREGPT, "[{\"x\": tru}]", "dataset 'f' line 1: [0].x: expected a JSON value" },
	{ HTTP_DATASET_SHAREGPT, "[{\"conversations\": [{\"from\": \"human\", \"value\": \"a\"}]},]",
	  "dataset 'f' line 1: [1]: expected a JSON object" },
	{ HTTP_DATASET_SHAREGPT, "[{\"conversations\": [{\"from\": \"human\", \"value\": \"a\"}]}] x",
	  "dataset 'f' line 1: unexpected text after the closing ']'" },
	{ HTTP_DATASET_SHAREGPT, "[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]",
	  "dataset 'f' line 1: [0]: expected a JSON object" },
	{ HTTP_DATASET_SHAREGPT, "[{\"a\": [[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[[]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]]}]",
	  "dataset 'f' line 1: [0].a: nested too deeply" },
	{ HTTP_DATASET_OPENAI, "{\"messages\": [{\"role\": \"user\", \"content\": \"a\"}]}\n{\"messages\": [{\"role\": \"user\", \"content\": 3}]}\n",
	  "dataset 'f' line 2: messages[0].content: expected a string or a list of text parts" },
	{ HTTP_DATASET_OPENAI, "{\"messages\": [{\"role\": \"user\", \"content\": [{\"type\": \"text\", \"text\": 1}]}]}",
	  "dataset 'f' line 1: messages[0].content[0]: expected a string" },
	{ HTTP_DATASET_OPENAI, "{\"messages\": [{\"role\": \"user\", \"content\": \"a\"}]} {\"messages\": []}",
	  "dataset 'f' line 1: expected one JSON object per line" },
	{ HTTP_DATASET_PROMPTS, "{\"prompt\": \"a\"}\n[1]\n", "dataset 'f' line 2: expected a JSON object" },
	{ HTTP_DATASET_PROMPTS, "{\"prompt\": \"a\"}\n{\"prompt\": [\"b\"]}\n", "dataset 'f' line 2: prompt: expected a string" },
	{ HTTP_DATASET_PROMPTS, "{\"prompt\": \"a\",\n \"n\": }\n", "dataset 'f' line 2: n: expected a JSON value" },
	{ HTTP_DATASET_PROMPTS, "{\"prompt\": \"a\" \"b\"}", "dataset 'f' line 1: expected ',' or '}'" },
	{ HTTP_DATASET_PROMPTS, "{\"prompt\": \"a\", 7: 1}", "dataset 'f' line 1: expected a key (a string)" },
};

static void test_nul_byte(void **state)
{
	static const char text[] = "{\"prompt\": \"a\"}\n{\"prompt\": \"b\0c\"}\n";
	struct http_dataset_options o = HTTP_DATASET_OPTIONS_INIT;
	struct http_dataset *d = NULL;
	struct err err = ERR_INIT;

	(void)state;
	o.label = "bin";
	assert_int_equal(http_dataset_parse(&d, &o, text, sizeof(text) - 1, &err), ERR_INPUT);
	assert_string_equal(err.msg, "dataset 'bin' line 2: a NUL byte: not a text file");
}

static void test_malformed(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(bad_cases); i++) {
		const struct bad_case *b = &bad_cases[i];
		struct http_dataset_options o = HTTP_DATASET_OPTIONS_INIT;
		struct http_dataset *d = (struct http_dataset *)&o; /* must become NULL */
		struct err err = ERR_INIT;

		o.format = b->format;
		o.label = "f";
		assert_int_equal(http_dataset_parse(&d, &o, b->text, strlen(b->text), &err), ERR_INPUT);
		assert_null(d);
		if (strcmp(err.msg, b->message) != 0)
			fail_msg("case %zu: got \"%s\", expected \"%s\"", i, err.msg, b->message);
	}
}

/* Through a real file (mapped), and a file that is not there. */
static void test_files(void **state)
{
	char path[] = "/tmp/perfgate-test-dataset-XXXXXX";
	int fd = mkstemp(path);
	static const char text[] = "{\"prompt\": \"one\"}\n{\"prompt\": \"two\"}\n";
	struct http_dataset_options o = HTTP_DATASET_OPTIONS_INIT;
	struct http_dataset *d = NULL;
	struct err err = ERR_INIT;

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, sizeof(text) - 1), sizeof(text) - 1);
	close(fd);
	o.path = path;
	assert_int_equal(http_dataset_open(&d, &o, &err), 0);
	assert_int_equal(http_dataset_count(d), 2);
	assert_string_equal(http_dataset_get(d, 1)->turns[0].text, "two");
	assert_int_equal(http_dataset_stats(d)->bytes, sizeof(text) - 1);
	http_dataset_free(d);
	unlink(path);
	assert_int_equal(http_dataset_open(&d, &o, &err), ERR_FAIL);
	assert_null(d);
	assert_non_null(strstr(err.msg, "cannot open dataset '/tmp/perfgate-test-dataset-"));
	assert_non_null(strstr(err.msg, "No such file or directory"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_sharegpt_array),
		cmocka_unit_test(test_sharegpt_lines_mapped),
		cmocka_unit_test(test_openai_messages),
		cmocka_unit_test(test_prompts_rows),
		cmocka_unit_test(test_filters),
		cmocka_unit_test(test_sample_and_shuffle),
		cmocka_unit_test(test_malformed),
		cmocka_unit_test(test_nul_byte),
		cmocka_unit_test(test_files),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
