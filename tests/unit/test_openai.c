/* Unit tests for core/http/openai.c: which OpenAI-compatible chunks are
 * token events and which are not (role-only, tool calls, empty deltas,
 * usage chunks, keep-alive comments), reasoning counted apart, usage with
 * cached and reasoning tokens.  The chunks are written by hand in the
 * shapes vLLM, SGLang and OpenAI send. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <string.h>

#include "../../core/http/openai.h"
#include "../../core/http/sse.h"
#include "../../core/util.h"

struct chunk_case {
	const char *data;
	enum http_openai_kind kind;
	size_t content_len, reasoning_len;
	bool tool_call, finished;
	const char *content; /* what is appended to the answer text */
};

static const struct chunk_case chunk_cases[] = {
	/* completions */
	{ "{\"choices\":[{\"index\":0,\"text\":\" Hello\",\"finish_reason\":null}]}", HTTP_OPENAI_TEXT, 6, 0, false,
	  false, " Hello" },
	{ "{\"choices\":[{\"index\":0,\"text\":\"\",\"finish_reason\":\"length\"}]}", HTTP_OPENAI_EMPTY, 0, 0, false,
	  true, "" },
	/* chat: the role-only first chunk, with and without empty content */
	{ "{\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\"},\"finish_reason\":null}]}", HTTP_OPENAI_ROLE, 0,
	  0, false, false, "" },
	{ "{\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"},\"logprobs\":null}]}",
	  HTTP_OPENAI_ROLE, 0, 0, false, false, "" },
	/* a server that puts the first text in the role chunk: a token */
	{ "{\"choices\":[{\"delta\":{\"role\":\"assistant\",\"content\":\"Hi\"}}]}", HTTP_OPENAI_TEXT, 2, 0, false, false,
	  "Hi" },
	{ "{\"choices\":[{\"index\":0,\"delta\":{\"content\":\" world\"}}]}", HTTP_OPENAI_TEXT, 6, 0, false, false,
	  " world" },
	/* tool calls: arguments stream as deltas, not text */
	{ "{\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"id\":\"call_1\",\"type\":\"function\","
	  "\"function\":{\"name\":\"get_weather\",\"arguments\":\"\"}}]}}]}",
	  HTTP_OPENAI_TOOL_CALL, 0, 0, true, false, "" },
	{ "{\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"{\\\"city\\\"\"}}]}}]}",
	  HTTP_OPENAI_TOOL_CALL, 0, 0, true, false, "" },
	{ "{\"choices\":[{\"delta\":{\"content\":null,\"function_call\":{\"arguments\":\"{}\"}}}]}", HTTP_OPENAI_TOOL_CALL, 0,
	  0, true, false, "" },
	/* empty deltas, the finish chunk */
	{ "{\"choices\":[{\"index\":0,\"delta\":{}}]}", HTTP_OPENAI_EMPTY, 0, 0, false, false, "" },
	{ "{\"choices\":[{\"index\":0,\"delta\":{\"content\":\"\"}}]}", HTTP_OPENAI_EMPTY, 0, 0, false, false, "" },
	{ "{\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}", HTTP_OPENAI_EMPTY, 0, 0, false, true,
	  "" },
	{ "{\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\"},\"finish_reason\":\"stop\"}]}", HTTP_OPENAI_EMPTY,
	  0, 0, false, true, "" },
	/* reasoning models: thinking first (counted apart, not the answer) */
	{ "{\"choices\":[{\"index\":0,\"delta\":{\"reasoning_content\":\"Let me think\"}}]}", HTTP_OPENAI_TEXT, 0, 12, false,
	  false, "" },
	{ "{\"choices\":[{\"index\":0,\"delta\":{\"reasoning\":\"so\",\"content\":null}}]}", HTTP_OPENAI_TEXT, 0, 2, false,
	  false, "" },
	/* the usage chunk and the end mark */
	{ "{\"choices\":[],\"usage\":{\"prompt_tokens\":5,\"completion_tokens\":7,\"total_tokens\":12}}",
	  HTTP_OPENAI_NO_CHOICE, 0, 0, false, false, "" },
	{ "{\"id\":\"x\",\"object\":\"chat.completion.chunk\"}", HTTP_OPENAI_NO_CHOICE, 0, 0, false, false, "" },
	{ "[DONE]", HTTP_OPENAI_DONE, 0, 0, false, false, "" },
	{ " [DONE]", HTTP_OPENAI_DONE, 0, 0, false, false, "" },
	{ "{\"error\":{\"message\":\"overloaded\",\"code\":503}}", HTTP_OPENAI_ERROR, 0, 0, false, false, "" },
	{ "ping", HTTP_OPENAI_NOT_JSON, 0, 0, false, false, "" },
	{ "[1,2]", HTTP_OPENAI_NOT_JSON, 0, 0, false, false, "" },
	{ "", HTTP_OPENAI_NOT_JSON, 0, 0, false, false, "" },
	{ "{\"choices\":[7]}", HTTP_OPENAI_NO_CHOICE, 0, 0, false, false, "" },
};

static void test_chunk_kinds(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(chunk_cases); i++) {
		const struct chunk_case *c = &chunk_cases[i];
		struct http_openai_chunk ch;
		struct sb text = SB_INIT;

		http_openai_chunk_parse(c->data, strlen(c->data), &ch, &text);
		if (ch.kind != c->kind)
			fail_msg("case %zu (%s): kind %s, expected %s", i, c->data, http_openai_kind_name(ch.kind),
				 http_openai_kind_name(c->kind));
		assert_int_equal(ch.content_len, c->content_len);
		assert_int_equal(ch.reasoning_len, c->reasoning_len);
		assert_int_equal(ch.tool_call, c->tool_call);
		assert_int_equal(ch.finished, c->finished);
		assert_string_equal(sb_str(&text), c->content);
		sb_release(&text);
	}
}

static void test_usage(void **state)
{
	static const char full[] =
		"{\"choices\":[],\"usage\":{\"prompt_tokens\":1024,\"completion_tokens\":80,\"total_tokens\":1104,"
		"\"prompt_tokens_details\":{\"cached_tokens\":768},"
		"\"completion_tokens_details\":{\"reasoning_tokens\":48}}}";
	static const char odd[] =
		"{\"usage\":{\"prompt_tokens\":null,\"completion_tokens\":-3,\"prompt_tokens_details\":null,"
		"\"completion_tokens_details\":{\"reasoning_tokens\":1e20}}}";
	struct http_openai_chunk ch;
	struct http_openai_usage sum;

	(void)state;
	http_openai_chunk_parse(full, sizeof(full) - 1, &ch, NULL);
	assert_true(ch.has_usage);
	assert_int_equal(ch.usage.prompt_tokens, 1024);
	assert_int_equal(ch.usage.completion_tokens, 80);
	assert_int_equal(ch.usage.cached_tokens, 768);
	assert_int_equal(ch.usage.reasoning_tokens, 48);

	/* Absent, null, negative and absurd counts are "not said" (-1). */
	http_openai_chunk_parse(odd, sizeof(odd) - 1, &ch, NULL);
	assert_true(ch.has_usage);
	assert_int_equal(ch.usage.prompt_tokens, -1);
	assert_int_equal(ch.usage.completion_tokens, -1);
	assert_int_equal(ch.usage.cached_tokens, -1);
	assert_int_equal(ch.usage.reasoning_tokens, -1);

	/* Merging keeps what an earlier chunk said when a later one is silent. */
	http_openai_usage_reset(&sum);
	http_openai_chunk_parse(full, sizeof(full) - 1, &ch, NULL);
	http_openai_usage_merge(&sum, &ch.usage);
	http_openai_chunk_parse(odd, sizeof(odd) - 1, &ch, NULL);
	http_openai_usage_merge(&sum, &ch.usage);
	assert_int_equal(sum.prompt_tokens, 1024);
	assert_int_equal(sum.cached_tokens, 768);

	/* A text chunk that also carries usage (continuous usage stats). */
	{
		static const char both[] = "{\"choices\":[{\"text\":\"a\"}],\"usage\":{\"completion_tokens\":3}}";

		http_openai_chunk_parse(both, sizeof(both) - 1, &ch, NULL);
	}
	assert_int_equal(ch.kind, HTTP_OPENAI_TEXT);
	assert_int_equal(ch.usage.completion_tokens, 3);
}

static void test_whole_responses(void **state)
{
	static const char chat[] =
		"{\"id\":\"c1\",\"object\":\"chat.completion\",\"choices\":[{\"index\":0,\"message\":{\"role\":\"assistant\","
		"\"content\":\"Four.\",\"reasoning_content\":\"2+2\"},\"finish_reason\":\"stop\"}],"
		"\"usage\":{\"prompt_tokens\":9,\"completion_tokens\":5,\"prompt_tokens_details\":{\"cached_tokens\":0}}}";
	static const char cmpl[] =
		"{\"object\":\"text_completion\",\"choices\":[{\"text\":\" one two\",\"finish_reason\":\"length\"}],"
		"\"usage\":{\"prompt_tokens\":3,\"completion_tokens\":2}}";
	static const char tool[] =
		"{\"choices\":[{\"message\":{\"role\":\"assistant\",\"content\":null,\"tool_calls\":[{\"id\":\"t\"}]},"
		"\"finish_reason\":\"tool_calls\"}]}";
	struct http_openai_chunk ch;
	struct sb text = SB_INIT;

	(void)state;
	http_openai_response_parse(chat, sizeof(chat) - 1, &ch, &text);
	assert_int_equal(ch.kind, HTTP_OPENAI_TEXT);
	assert_string_equal(sb_str(&text), "Four.");
	assert_int_equal(ch.reasoning_len, 3);
	assert_int_equal(ch.usage.prompt_tokens, 9);
	assert_int_equal(ch.usage.cached_tokens, 0);
	sb_reset(&text);
	http_openai_response_parse(cmpl, sizeof(cmpl) - 1, &ch, &text);
	assert_string_equal(sb_str(&text), " one two");
	assert_int_equal(ch.usage.completion_tokens, 2);
	sb_reset(&text);
	http_openai_response_parse(tool, sizeof(tool) - 1, &ch, &text);
	assert_int_equal(ch.kind, HTTP_OPENAI_TOOL_CALL);
	assert_string_equal(sb_str(&text), "");
	/* "[DONE]" is a stream's mark, not a body. */
	http_openai_response_parse("[DONE]", 6, &ch, &text);
	assert_int_equal(ch.kind, HTTP_OPENAI_NOT_JSON);
	sb_release(&text);
}

/* A whole chat stream through the SSE parser, as a reasoning model with a
 * tool call and keep-alive comments would send it: which events are
 * tokens, and the answer text that a next turn would carry. */
struct tally {
	size_t events, text, reasoning, answer, other;
	bool done;
	struct sb answer_text;
};

static void on_event(void *arg, const char *type, const char *data, size_t len)
{
	struct tally *t = arg;
	struct http_openai_chunk ch;

	(void)type;
	t->events++;
	http_openai_chunk_parse(data, len, &ch, &t->answer_text);
	if (ch.kind == HTTP_OPENAI_DONE) {
		t->done = true;
	} else if (ch.kind == HTTP_OPENAI_TEXT) {
		t->text++;
		t->reasoning += ch.reasoning_len > 0;
		t->answer += ch.content_len > 0;
	} else {
		t->other++;
	}
}

static void test_stream_with_keepalives(void **state)
{
	static const char stream[] =
		": keep-alive\n\n"
		"data: {\"choices\":[{\"index\":0,\"delta\":{\"role\":\"assistant\",\"content\":\"\"}}]}\n\n"
		":\n\n"
		"data: {\"choices\":[{\"index\":0,\"delta\":{\"reasoning_content\":\"The user\"}}]}\n\n"
		"data: {\"choices\":[{\"index\":0,\"delta\":{\"reasoning_content\":\" asks\"}}]}\n\n"
		": ping - 2026-11-28 10:00:00\n\n"
		"data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\"It is\"}}]}\n\n"
		"data: {\"choices\":[{\"index\":0,\"delta\":{}}]}\n\n"
		"data: {\"choices\":[{\"index\":0,\"delta\":{\"content\":\" sunny.\"}}]}\n\n"
		"data: {\"choices\":[{\"index\":0,\"delta\":{\"tool_calls\":[{\"index\":0,\"function\":{\"arguments\":\"{}\"}}]}}]}\n\n"
		"data: {\"choices\":[{\"index\":0,\"delta\":{},\"finish_reason\":\"stop\"}]}\n\n"
		"data: {\"choices\":[],\"usage\":{\"prompt_tokens\":20,\"completion_tokens\":6,"
		"\"completion_tokens_details\":{\"reasoning_tokens\":3}}}\n\n"
		"data: [DONE]\n\n";
	struct tally t = { .answer_text = SB_INIT };
	struct http_sse_parser *p = http_sse_new(on_event, &t);

	(void)state;
	/* One byte at a time: comments split anywhere are still comments. */
	for (size_t i = 0; i < sizeof(stream) - 1; i++)
		http_sse_feed(p, stream + i, 1);
	assert_int_equal(t.events, 10); /* the four comments are no events */
	assert_int_equal(t.text, 4);    /* two reasoning, two answer */
	assert_int_equal(t.reasoning, 2);
	assert_int_equal(t.answer, 2);
	assert_int_equal(t.other, 5);   /* role, empty, tool call, finish, usage */
	assert_true(t.done);
	assert_string_equal(sb_str(&t.answer_text), "It is sunny.");
	http_sse_free(p);
	sb_release(&t.answer_text);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_chunk_kinds),
		cmocka_unit_test(test_usage),
		cmocka_unit_test(test_whole_responses),
		cmocka_unit_test(test_stream_with_keepalives),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
