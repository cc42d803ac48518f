/*
 * tokenize.h: the server's own token count of an input, from its tokenize
 * endpoint (vLLM, SGLang and TGI have one), so that synthetic prompts can
 * be built to an exact length before the measured window (prompts.h).
 *
 * The request body is, unless a template says otherwise, vLLM's form:
 * {"model": M, "prompt": TEXT} for completions, {"model": M, "messages":
 * [...]} for chat (the server applies its chat template, so the count is
 * what usage.prompt_tokens will say).  A template is any JSON value whose
 * strings "{prompt}", "{messages}" and "{model}" are replaced (TGI:
 * {"inputs": "{prompt}"}).  The count is read from `count_path` when given,
 * else from the first of: a number "count", the length of an array
 * "tokens" or "tokenize_response" (TGI's chat form), or the length of a
 * top-level array (TGI).
 *
 * One keep-alive connection (libcurl easy) serves every call.
 */
#ifndef PERFGATE_HTTP_TOKENIZE_H
#define PERFGATE_HTTP_TOKENIZE_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "../err.h"

struct http_tokenize_options {
	const char *url;                /* the tokenize endpoint */
	bool chat;                      /* count chat messages, not a prompt */
	const char *model;              /* the body's "model", or NULL */
	const cJSON *body;              /* a body template, or NULL for vLLM's form */
	const char *count_path;         /* "$.count", or NULL: found automatically */
	char *const *headers;           /* "Name: value" lines sent with each call (authorization) */
	size_t n_headers;
	const char *ca_file;            /* https: CA bundle, or NULL */
	double timeout;                 /* s per call */
};
#define HTTP_TOKENIZE_OPTIONS_INIT { .timeout = 30.0 }

struct http_tokenize;

int http_tokenize_open(struct http_tokenize **out, const struct http_tokenize_options *o, struct err *err);
void http_tokenize_free(struct http_tokenize *t);

/*
 * Count the input of `prefix` (or NULL) and `text`, joined as
 * http_prompts_join / http_prompts_messages join them.  Fits
 * http_prompts_count_fn with t as arg.  Returns 0, or ERR_RUN with a
 * message naming the endpoint (unreachable, a status other than 200, no
 * count in the answer).
 */
int http_tokenize_count(void *t, const char *prefix, const char *text, long *tokens, struct err *err);

/* Calls made so far. */
long http_tokenize_calls(const struct http_tokenize *t);

/* Read a count from a tokenize response (exposed for tests): 0 or -1. */
int http_tokenize_read_count(const char *body, size_t len, const char *count_path, long *out);

#endif
