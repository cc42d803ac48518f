/*
 * openai.c: OpenAI-compatible chunks and responses classified for token
 * accounting (see openai.h).
 */
#include "openai.h"

#include <string.h>

#include <cjson/cJSON.h>

#include "../util.h"

static const char *const kind_names[] = { "text", "role", "tool_call", "empty", "no_choice", "done", "error",
					  "not_json" };

const char *http_openai_kind_name(enum http_openai_kind k)
{
	return (size_t)k < ARRAY_SIZE(kind_names) ? kind_names[k] : "?";
}

void http_openai_usage_reset(struct http_openai_usage *u)
{
	u->prompt_tokens = u->completion_tokens = u->cached_tokens = u->reasoning_tokens = -1;
}

void http_openai_usage_merge(struct http_openai_usage *into, const struct http_openai_usage *from)
{
	if (from->prompt_tokens >= 0)
		into->prompt_tokens = from->prompt_tokens;
	if (from->completion_tokens >= 0)
		into->completion_tokens = from->completion_tokens;
	if (from->cached_tokens >= 0)
		into->cached_tokens = from->cached_tokens;
	if (from->reasoning_tokens >= 0)
		into->reasoning_tokens = from->reasoning_tokens;
}

/* A count: a number in [0, 1e12), else -1 (absent, null, or nonsense). */
static long count_at(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_IsObject(obj) ? cJSON_GetObjectItemCaseSensitive(obj, key) : NULL;

	if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0) || v->valuedouble >= 1e12)
		return -1;
	return (long)v->valuedouble;
}

static void read_usage(const cJSON *root, struct http_openai_chunk *out)
{
	const cJSON *u = cJSON_GetObjectItemCaseSensitive(root, "usage");

	if (!cJSON_IsObject(u))
		return;
	out->has_usage = true;
	out->usage.prompt_tokens = count_at(u, "prompt_tokens");
	out->usage.completion_tokens = count_at(u, "completion_tokens");
	out->usage.cached_tokens = count_at(cJSON_GetObjectItemCaseSensitive(u, "prompt_tokens_details"), "cached_tokens");
	out->usage.reasoning_tokens =
		count_at(cJSON_GetObjectItemCaseSensitive(u, "completion_tokens_details"), "reasoning_tokens");
}

static size_t text_len(const cJSON *obj, const char *key)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	return cJSON_IsString(v) ? strlen(v->valuestring) : 0;
}

/* The text-bearing object of choices[0]: the delta (stream), the message
 * (whole chat response), or the choice itself (completions). */
static void read_choice(const cJSON *c0, struct http_openai_chunk *out, struct sb *content)
{
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(c0, "delta");
	const cJSON *fr = cJSON_GetObjectItemCaseSensitive(c0, "finish_reason");
	const cJSON *text;
	bool role = false;

	if (!cJSON_IsObject(m))
		m = cJSON_GetObjectItemCaseSensitive(c0, "message");
	out->finished = cJSON_IsString(fr) && fr->valuestring[0];
	if (cJSON_IsObject(m)) {
		const cJSON *tc = cJSON_GetObjectItemCaseSensitive(m, "tool_calls");
		const cJSON *fc = cJSON_GetObjectItemCaseSensitive(m, "function_call");

		text = cJSON_GetObjectItemCaseSensitive(m, "content");
		/* vLLM named the field reasoning_content, later reasoning. */
		out->reasoning_len = text_len(m, "reasoning_content");
		if (!out->reasoning_len)
			out->reasoning_len = text_len(m, "reasoning");
		out->tool_call = (cJSON_IsArray(tc) && cJSON_GetArraySize(tc) > 0) || cJSON_IsObject(fc);
		role = cJSON_IsString(cJSON_GetObjectItemCaseSensitive(m, "role"));
	} else {
		text = cJSON_GetObjectItemCaseSensitive(c0, "text");
	}
	if (cJSON_IsString(text)) {
		out->content_len = strlen(text->valuestring);
		if (content && out->content_len)
			sb_add(content, text->valuestring, out->content_len);
	}
	if (out->content_len || out->reasoning_len)
		out->kind = HTTP_OPENAI_TEXT;
	else if (out->tool_call)
		out->kind = HTTP_OPENAI_TOOL_CALL;
	else if (role && !out->finished)
		out->kind = HTTP_OPENAI_ROLE;
	else
		out->kind = HTTP_OPENAI_EMPTY;
}

static void parse(const char *data, size_t len, struct http_openai_chunk *out, struct sb *content, bool stream)
{
	cJSON *j;
	const cJSON *choices, *c0;

	memset(out, 0, sizeof(*out));
	http_openai_usage_reset(&out->usage);
	while (len > 0 && (data[0] == ' ' || data[0] == '\t' || data[0] == '\n' || data[0] == '\r')) {
		data++;
		len--;
	}
	if (stream && len >= 6 && memcmp(data, "[DONE]", 6) == 0) {
		out->kind = HTTP_OPENAI_DONE;
		return;
	}
	j = cJSON_ParseWithLength(data, len);
	if (!cJSON_IsObject(j)) {
		out->kind = HTTP_OPENAI_NOT_JSON;
		cJSON_Delete(j);
		return;
	}
	read_usage(j, out);
	if (cJSON_GetObjectItemCaseSensitive(j, "error")) {
		out->kind = HTTP_OPENAI_ERROR;
		cJSON_Delete(j);
		return;
	}
	choices = cJSON_GetObjectItemCaseSensitive(j, "choices");
	c0 = cJSON_IsArray(choices) ? cJSON_GetArrayItem(choices, 0) : NULL;
	if (cJSON_IsObject(c0))
		read_choice(c0, out, content);
	else
		out->kind = HTTP_OPENAI_NO_CHOICE;
	cJSON_Delete(j);
}

void http_openai_chunk_parse(const char *data, size_t len, struct http_openai_chunk *out, struct sb *content)
{
	parse(data, len, out, content, true);
}

void http_openai_response_parse(const char *body, size_t len, struct http_openai_chunk *out, struct sb *content)
{
	parse(body, len, out, content, false);
}
