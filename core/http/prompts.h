/*
 * prompts.h: synthetic prompts of a chosen length in tokens (the "prompts"
 * object of docs/load.md).
 *
 * A prompt is a run of common English words drawn at random (seeded) from
 * a fixed vocabulary of short words, each one token in the usual BPE
 * tokenizers (GPT-2's, Llama's, Qwen's) when preceded by a space, so that
 * k words are close to k tokens and two prompts share no prefix beyond a
 * few words (a prefix cache cannot serve one from another).
 *
 * Without the server's tokenizer the length is an estimate: one word per
 * token.  With it (a count function, such as http_tokenize_count against
 * the server's tokenize endpoint) http_prompts_fit() searches for the
 * number of words whose count is exactly the target, as the server counts
 * the whole input (chat template, special tokens and a shared prefix
 * included): a step of (target - count) / slope from the last count, then
 * regula falsi inside the bracket of counts below and above the target;
 * when one more word jumps over the target (a word the tokenizer splits in
 * two), that word is drawn again.  The slope (tokens per word) and offset
 * (tokens the server adds beyond the words) it measures are handed to the
 * next prompt of the same shape: with a tokenizer that counts one token per
 * vocabulary word a prompt needs one or two counts, with one whose tokens
 * per word vary (1 to 3) about three.
 */
#ifndef PERFGATE_HTTP_PROMPTS_H
#define PERFGATE_HTTP_PROMPTS_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>
#include <gsl/gsl_rng.h>

#include "../err.h"
#include "../util.h"

/*
 * Count the tokens of one input as the server would: `prefix` (a shared
 * system prompt, or NULL) and `text` (the user's message, or the prompt
 * after the prefix).  Returns 0, or a negative code with err set.
 */
typedef int (*http_prompts_count_fn)(void *arg, const char *prefix, const char *text, long *tokens,
				     struct err *err);

/*
 * How an input of a prefix (or NULL) and a text goes to the server, the
 * same for counting and for sending: a completions prompt is the prefix,
 * a blank line ("\n\n", so that the prefix's tokens never merge with the
 * text's and a prefix cache sees the same blocks every time) and the text;
 * chat messages are a system message with the prefix and a user message
 * with the text.
 */
void http_prompts_join(struct sb *out, const char *prefix, const char *text);
cJSON *http_prompts_messages(const char *prefix, const char *text);

/* Append n random words (space-separated, no leading space) to out. */
void http_prompts_words(struct sb *out, gsl_rng *r, size_t n);

struct http_prompts_fit {
	long target;       /* tokens wanted for the whole input */
	const char *lead;  /* fixed text the prompt starts with (words follow a space after it), or NULL */
	long offset;       /* in: the guess of tokens beyond the words (0 at first); out: as measured */
	double slope;      /* in: the guess of tokens per word (0: 1); out: as measured */
	long last_k, last_c; /* the last prompt's words and count (0: none yet), for the slope */
	long max_counts;   /* count calls allowed (0: 16) */
	/* results */
	long tokens;       /* the count of the text returned (== target when exact; -1: not counted) */
	long counts;       /* count calls made */
	bool exact;
};

/*
 * Build `text` (reset first) of random words drawn with r so that
 * count(prefix, text) == f->target.  Returns 0 when the search ran (then
 * f->exact says whether it hit; when it did not, text holds the closest
 * count at or below the target, or one word when even that is over it), or
 * the count function's error.
 */
int http_prompts_fit(struct sb *text, gsl_rng *r, const char *prefix, struct http_prompts_fit *f,
		     http_prompts_count_fn count, void *arg, struct err *err);

#endif
