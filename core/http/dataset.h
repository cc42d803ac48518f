/*
 * dataset.h: conversation datasets read once, in one streaming pass, for
 * LLM benchmarks (the `dataset` object of docs/load.md).
 *
 * Formats (the container, a JSON array or JSON lines, is recognised from
 * the first byte, so each format may come either way):
 *
 *   sharegpt  {"conversations": [{"from": "human", "value": "..."},
 *                                {"from": "gpt", "value": "..."}, ...]}
 *             roles: human/user, gpt/assistant/chatgpt/bard/bing/model, system
 *   openai    {"messages": [{"role": "user", "content": "..."}, ...]}
 *             content a string or a list of {"type": "text", "text": "..."} parts
 *   prompts   {"prompt": "...", ...any other fields}: one request per row;
 *             the whole row is kept for {field} templates
 *
 * `fields` renames the keys (the conversations/messages array, role, text;
 * the prompt field).  A conversation whose roles or content parts perfgate
 * cannot send (tools, images) or that has no user turn is skipped and
 * counted, never an error; a file that is not valid JSON, or a key of the
 * wrong type, is an error naming the file, the line and the JSON path:
 *
 *   dataset 'sg.json' line 1822: [311].conversations[2].value: expected a string
 *
 * Length filters use an estimate, the UTF-8 bytes / 4 rounded up (the usual
 * rule of thumb for English and BPE tokenizers): the input is the first
 * user turn with the system turn before it, the output the assistant turn
 * after it.  `sample` keeps that many of the conversations that pass,
 * chosen uniformly with `seed`; `shuffle` puts them in a seeded random
 * order (else they keep the file's order).
 *
 * The file is mapped and read front to back once; pages already read are
 * released as the reader goes, so memory holds the decoded texts (at most
 * the file's size) and a small window.
 */
#ifndef PERFGATE_HTTP_DATASET_H
#define PERFGATE_HTTP_DATASET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "../err.h"

enum http_dataset_format { HTTP_DATASET_PROMPTS, HTTP_DATASET_SHAREGPT, HTTP_DATASET_OPENAI };
enum http_role { HTTP_ROLE_SYSTEM, HTTP_ROLE_USER, HTTP_ROLE_ASSISTANT };

struct http_dataset_turn {
	const char *text;  /* UTF-8, NUL-terminated, owned by the dataset */
	uint32_t len;      /* bytes */
	uint8_t role;      /* enum http_role */
};

struct http_dataset_conv {
	const struct http_dataset_turn *turns;
	uint32_t n_turns;
	uint32_t input_tokens;  /* estimate: first user turn (with a system turn before it) */
	uint32_t output_tokens; /* estimate: the assistant turn after it; 0 when none */
	const char *row;        /* prompts: the row as JSON text (NUL-terminated); NULL otherwise */
	uint32_t row_len;
};

struct http_dataset_options {
	const char *path;             /* the file */
	const char *label;            /* how messages name it (default: path) */
	enum http_dataset_format format;
	const char *turns_key;        /* sharegpt: "conversations", openai: "messages" (NULL: default) */
	const char *role_key;         /* "from" / "role" */
	const char *text_key;         /* "value" / "content"; prompts: the prompt field, "prompt" */
	long min_input_tokens, max_input_tokens;   /* estimated; 0: no bound */
	long min_output_tokens, max_output_tokens; /* estimated; 0: no bound */
	size_t sample;                /* keep this many (0: all that pass) */
	bool shuffle;
	uint64_t seed;
	size_t max_conversations;     /* stop reading after this many (0: no limit) */
	size_t part, parts;           /* a shard's part: keep conversation i (after sample and
					 shuffle) when i mod parts == part (parts 0 or 1: all) */
};
#define HTTP_DATASET_OPTIONS_INIT { .format = HTTP_DATASET_PROMPTS, .seed = 1 }

/* What reading found. */
struct http_dataset_stats {
	size_t read;            /* conversations (rows) in the file */
	size_t kept;            /* in the dataset */
	size_t filtered;        /* outside the length filters */
	size_t no_user_turn;    /* skipped: nothing to send */
	size_t unsupported;     /* skipped: a role or content part perfgate cannot send */
	size_t bytes;           /* file size */
};

struct http_dataset;

/*
 * Read the file.  Returns 0, ERR_INPUT (malformed file, nothing left after
 * filtering; one line naming file, line and JSON path) or ERR_FAIL (cannot
 * read the file).
 */
int http_dataset_open(struct http_dataset **out, const struct http_dataset_options *o, struct err *err);
void http_dataset_free(struct http_dataset *d);
/* The same over a buffer in memory (o->path only names it in messages). */
int http_dataset_parse(struct http_dataset **out, const struct http_dataset_options *o, const char *buf, size_t len,
		       struct err *err);

size_t http_dataset_count(const struct http_dataset *d);
const struct http_dataset_conv *http_dataset_get(const struct http_dataset *d, size_t i);
const struct http_dataset_stats *http_dataset_stats(const struct http_dataset *d);

/* The estimate the filters use: bytes / 4, rounded up. */
uint32_t http_dataset_estimate_tokens(size_t bytes);

/* "prompts" "sharegpt" "openai" -> 0, else ERR_INPUT. */
int http_dataset_format_parse(const char *name, enum http_dataset_format *out);
const char *http_dataset_format_name(enum http_dataset_format f);
const char *http_role_name(enum http_role r);

#endif
