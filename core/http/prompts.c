/*
 * prompts.c: synthetic prompts fitted to a token count (see prompts.h).
 */
#include "prompts.h"

#include <limits.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Short, common words: one token each (with the space before them) in the
 * GPT-2, Llama 2/3 and Qwen tokenizers, so that a prompt's length in words
 * is a fair estimate of its length in tokens. */
static const char *const vocab[] = {
	"the", "of", "and", "to", "in", "is", "that", "for", "it", "as", "with", "was", "on", "be", "by",
	"this", "are", "or", "his", "from", "at", "which", "but", "have", "an", "they", "not", "one", "had",
	"all", "were", "we", "when", "your", "can", "said", "there", "use", "each", "she", "do", "how", "their",
	"if", "will", "up", "other", "about", "out", "many", "then", "them", "these", "so", "some", "her",
	"would", "make", "like", "him", "into", "time", "has", "look", "two", "more", "write", "go", "see",
	"number", "no", "way", "could", "people", "my", "than", "first", "water", "been", "call", "who", "its",
	"now", "find", "long", "down", "day", "did", "get", "come", "made", "may", "part", "over", "new",
	"sound", "take", "only", "little", "work", "know", "place", "year", "live", "me", "back", "give",
	"most", "very", "after", "thing", "our", "just", "name", "good", "man", "think", "say", "great",
	"where", "help", "through", "much", "before", "line", "right", "too", "mean", "old", "any", "same",
	"tell", "boy", "follow", "came", "want", "show", "also", "around", "form", "three", "small", "set",
	"put", "end", "does", "another", "well", "large", "must", "big", "even", "such", "because", "turn",
	"here", "why", "ask", "went", "men", "read", "need", "land", "home", "us", "move", "try", "kind",
	"hand", "picture", "again", "change", "off", "play", "spell", "air", "away", "animal", "house",
	"point", "page", "letter", "mother", "answer", "found", "study", "still", "learn", "should", "world",
	"high", "every", "near", "add", "food", "between", "own", "below", "country", "plant", "last",
	"school", "father", "keep", "tree", "never", "start", "city", "earth", "eye", "light", "thought",
	"head", "under", "story", "saw", "left", "few", "while", "along", "might", "close", "something",
	"seem", "next", "hard", "open", "example", "begin", "life", "always", "those", "both", "paper",
	"together", "got", "group", "often", "run", "important", "until", "children", "side", "feet", "car",
	"mile", "night", "walk", "white", "sea", "began", "grow", "took", "river", "four", "carry", "state",
	"once", "book", "hear", "stop", "without", "second", "later", "miss", "idea", "enough", "eat",
	"face", "watch", "far", "really", "almost", "let", "above", "girl", "sometimes", "mountain", "cut",
	"young", "talk", "soon", "list", "song", "being", "leave", "family",
};

void http_prompts_join(struct sb *out, const char *prefix, const char *text)
{
	if (prefix) {
		sb_puts(out, prefix);
		sb_puts(out, "\n\n");
	}
	sb_puts(out, text);
}

cJSON *http_prompts_messages(const char *prefix, const char *text)
{
	cJSON *a = cJSON_CreateArray(), *m;

	if (prefix) {
		m = cJSON_CreateObject();
		cJSON_AddStringToObject(m, "role", "system");
		cJSON_AddStringToObject(m, "content", prefix);
		cJSON_AddItemToArray(a, m);
	}
	m = cJSON_CreateObject();
	cJSON_AddStringToObject(m, "role", "user");
	cJSON_AddStringToObject(m, "content", text);
	cJSON_AddItemToArray(a, m);
	return a;
}

void http_prompts_words(struct sb *out, gsl_rng *r, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (out->len || i)
			sb_putc(out, ' ');
		sb_puts(out, vocab[gsl_rng_uniform_int(r, ARRAY_SIZE(vocab))]);
	}
}

struct words {
	size_t *w;   /* vocabulary indexes */
	size_t n, alloc;
};

static void ensure(struct words *ws, gsl_rng *r, size_t k)
{
	XGROW(ws->w, ws->alloc, k);
	while (ws->n < k)
		ws->w[ws->n++] = gsl_rng_uniform_int(r, ARRAY_SIZE(vocab));
}

static void join(struct sb *text, const char *lead, const struct words *ws, size_t k)
{
	sb_reset(text);
	sb_add(text, "", 0);
	if (lead)
		sb_puts(text, lead);
	for (size_t i = 0; i < k; i++) {
		if (i || (lead && *lead))
			sb_putc(text, ' ');
		sb_puts(text, vocab[ws->w[i]]);
	}
}

/* A different short word (three letters or fewer: one token in any BPE
 * vocabulary) at position i. */
static void redraw(struct words *ws, gsl_rng *r, size_t i)
{
	size_t old = ws->w[i], w;

	do
		w = gsl_rng_uniform_int(r, ARRAY_SIZE(vocab));
	while (w == old || strlen(vocab[w]) > 3);
	ws->w[i] = w;
}

#define MAX_REDRAWS 4 /* words tried at one position before giving up on it */

/* The next number of words: by regula falsi inside the bracket when both
 * ends are known, else a step of (target - c) / slope from k. */
static long next_k(long k, long c, long target, long lo, long c_lo, long hi, long c_hi, double slope)
{
	double step;

	if (lo > 0 && hi != LONG_MAX && c_hi > c_lo)
		k = lo + lround((double)(target - c_lo) * (double)(hi - lo) / (double)(c_hi - c_lo));
	else {
		step = (double)(target - c) / (slope > 0.1 ? slope : 1.0);
		k += lround(step) ? lround(step) : (target > c ? 1 : -1);
	}
	if (k <= lo)
		k = lo + 1;
	if (k >= hi)
		k = hi - 1;
	return k;
}

int http_prompts_fit(struct sb *text, gsl_rng *r, const char *prefix, struct http_prompts_fit *f,
		     http_prompts_count_fn count, void *arg, struct err *err)
{
	struct words ws = { NULL, 0, 0 };
	long max = f->max_counts > 0 ? f->max_counts : 16;
	long lo = 0, c_lo = 0, hi = LONG_MAX, c_hi = 0, best_k = 0, best_c = -1, first_c = -1, k;
	long prev_k = -1, prev_c = 0, redraws = 0, redraw_at = -1;
	double slope = f->slope > 0.1 ? f->slope : 1.0;
	int rc = 0;

	f->counts = 0;
	f->exact = false;
	k = lround((double)(f->target - f->offset) / slope);
	if (k < 1)
		k = 1;
	while (f->counts < max) {
		long c;

		ensure(&ws, r, (size_t)k);
		join(text, f->lead, &ws, (size_t)k);
		if ((rc = count(arg, prefix, sb_str(text), &c, err)) != 0)
			goto done;
		f->counts++;
		prev_k = k;
		prev_c = c;
		if (k == 1)
			first_c = c;
		if (c == f->target) {
			f->exact = true;
			f->tokens = c;
			break;
		}
		if (c < f->target) {
			lo = k;
			c_lo = c;
			if (c > best_c) {
				best_k = k;
				best_c = c;
			}
		} else {
			hi = k;
			c_hi = c;
		}
		if (hi == lo + 1) {
			/* Word number hi (at index lo) takes the count past the
			 * target: try another word there, unless even a word of
			 * one token would (the input's fixed part is too long). */
			if (lo == 0 && c - 1 >= f->target)
				break;
			if (redraw_at != lo) {
				redraw_at = lo;
				redraws = 0;
			}
			if (++redraws > MAX_REDRAWS)
				break;
			redraw(&ws, r, (size_t)lo);
			hi = LONG_MAX;
			k = lo + 1;
			continue;
		}
		k = next_k(k, c, f->target, lo, c_lo, hi, c_hi, slope);
	}
	/* What the next prompt starts from: tokens per word, measured
	 * between this prompt's last count and an earlier prompt's of another
	 * length (between counts of one prompt the words differ too little
	 * to say), and the tokens the server adds beyond them. */
	if (prev_k > 0) {
		if (f->last_k > 0 && labs(prev_k - f->last_k) >= 16) {
			double s = (double)(prev_c - f->last_c) / (double)(prev_k - f->last_k);

			if (s >= 0.2 && s <= 10)
				slope = s;
		}
		f->slope = slope;
		f->offset = lround((double)prev_c - slope * (double)prev_k);
		f->last_k = prev_k;
		f->last_c = prev_c;
	}
	if (f->exact)
		goto done;
	/* No exact fit: the longest text under the target, else one word. */
	if (best_k > 0) {
		join(text, f->lead, &ws, (size_t)best_k);
		f->tokens = best_c;
	} else {
		ensure(&ws, r, 1);
		join(text, f->lead, &ws, 1);
		f->tokens = first_c;
	}
done:
	free(ws.w);
	return rc;
}
