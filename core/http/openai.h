/*
 * openai.h: what one OpenAI-compatible response chunk (or whole response)
 * says, for token accounting (docs/metrics.md, "Tokens").
 *
 * A streamed /v1/completions or /v1/chat/completions response is a series
 * of chunks.  Only a chunk that carries output text is a token event:
 * choices[0].text (completions), choices[0].delta.content (chat), or
 * choices[0].delta.reasoning_content / .reasoning (reasoning models, which
 * stream their thinking before the answer).  These are not tokens, and the
 * classification says which they are: the role-only first chat chunk
 * ({"role": "assistant"}, with or without "content": ""), tool-call deltas
 * (delta.tool_calls: the model is writing a function call's arguments), an
 * empty delta or a chunk with only a finish_reason, and the usage chunk
 * with no choices.  Keep-alive comments (": ping") never reach this level:
 * the SSE parser drops them.
 *
 * The usage object, when present, gives prompt_tokens, completion_tokens,
 * prompt_tokens_details.cached_tokens (the prefix cache's hits) and
 * completion_tokens_details.reasoning_tokens.
 *
 * Pure functions: no I/O, no global state.
 */
#ifndef PERFGATE_HTTP_OPENAI_H
#define PERFGATE_HTTP_OPENAI_H

#include <stdbool.h>
#include <stddef.h>

struct sb;

enum http_openai_kind {
	HTTP_OPENAI_TEXT,      /* output text: content and/or reasoning */
	HTTP_OPENAI_ROLE,      /* only a role (the first chat chunk) */
	HTTP_OPENAI_TOOL_CALL, /* only tool-call deltas */
	HTTP_OPENAI_EMPTY,     /* a choice without text: {} delta, "" content, finish_reason only */
	HTTP_OPENAI_NO_CHOICE, /* no choices at all (the usage chunk) */
	HTTP_OPENAI_DONE,      /* the "[DONE]" end mark */
	HTTP_OPENAI_ERROR,     /* an "error" object */
	HTTP_OPENAI_NOT_JSON   /* neither JSON nor [DONE] (a plain SSE stream) */
};

/* Counts from a usage object; -1 where the server did not say. */
struct http_openai_usage {
	long prompt_tokens;
	long completion_tokens;
	long cached_tokens;    /* prompt_tokens_details.cached_tokens */
	long reasoning_tokens; /* completion_tokens_details.reasoning_tokens */
};

struct http_openai_chunk {
	enum http_openai_kind kind;
	size_t content_len;   /* bytes of answer text in this chunk */
	size_t reasoning_len; /* bytes of reasoning text in this chunk */
	bool tool_call;       /* the delta carried tool_calls (or a legacy function_call) */
	bool finished;        /* choices[0].finish_reason was set */
	bool has_usage;       /* a usage object was present */
	struct http_openai_usage usage;
};

/* Which of the two a response's text is read from. */
enum http_openai_api { HTTP_OPENAI_COMPLETIONS, HTTP_OPENAI_CHAT };

/*
 * Classify one SSE event's data.  The answer text (not the reasoning) is
 * appended to `content` when it is not NULL: a multi-turn session sends it
 * back as the assistant's turn.
 */
void http_openai_chunk_parse(const char *data, size_t len, struct http_openai_chunk *out, struct sb *content);

/*
 * Read a whole (non-streamed) response body: choices[0].text or
 * choices[0].message.content (and reasoning_content), and usage.  The
 * kind is TEXT when there was output text.
 */
void http_openai_response_parse(const char *body, size_t len, struct http_openai_chunk *out, struct sb *content);

void http_openai_usage_reset(struct http_openai_usage *u);
/* Take the fields `from` has (>= 0) into `into`. */
void http_openai_usage_merge(struct http_openai_usage *into, const struct http_openai_usage *from);

const char *http_openai_kind_name(enum http_openai_kind k);

#endif
