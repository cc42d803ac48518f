/*
 * lengths.h: token-length distributions for synthetic prompts and outputs
 * (the `input_tokens` and `output_tokens` of a suite's "prompts" object,
 * docs/load.md).
 *
 * A length is written as a number (every request the same) or an object:
 *
 *   {"dist": "fixed", "value": 512}
 *   {"dist": "uniform", "min": 128, "max": 1024}          integers, each equally likely
 *   {"dist": "normal", "mean": 512, "stddev": 64, "min": 16, "max": 2048}
 *   {"dist": "lognormal", "mean": 512, "stddev": 256, "min": 16, "max": 8192}
 *
 * For normal and lognormal, `mean` and `stddev` are those of the lengths
 * themselves (the lognormal's log-space parameters are derived:
 * sigma^2 = ln(1 + stddev^2 / mean^2), mu = ln(mean) - sigma^2 / 2).  A
 * drawn value x becomes the integer nearest to it, and the distribution is
 * restricted to [min, max] (default 1 and 10,000,000): integer k has
 * probability proportional to F(k + 0.5) - F(k - 0.5), F the continuous
 * distribution function.  Drawing is by inversion of F over that range, so
 * it never loops and is reproducible from the generator's seed.
 */
#ifndef PERFGATE_HTTP_LENGTHS_H
#define PERFGATE_HTTP_LENGTHS_H

#include <stdbool.h>

#include <cjson/cJSON.h>
#include <gsl/gsl_rng.h>

#include "../err.h"

#define HTTP_LENGTHS_MAX 10000000L

enum http_lengths_dist { HTTP_LENGTHS_FIXED, HTTP_LENGTHS_UNIFORM, HTTP_LENGTHS_NORMAL, HTTP_LENGTHS_LOGNORMAL };

struct http_lengths {
	enum http_lengths_dist dist;
	long min, max;         /* tokens, inclusive bounds (FIXED: both the value) */
	double mean, stddev;   /* tokens (NORMAL, LOGNORMAL) */
	double mu, sigma;      /* LOGNORMAL: parameters of ln(length) */
	double u_lo, u_hi;     /* F(min - 0.5) and F(max + 0.5): the inverted range */
};

/*
 * Parse a length at `path` (a number or an object as above).  Problems are
 * appended, each at its JSON path; returns 0 or ERR_INPUT.  `out` may be
 * NULL to validate only.
 */
int http_lengths_parse(struct http_lengths *out, const cJSON *v, const char *path, struct errlist *problems);

/* A fixed length (for code that builds one without JSON). */
void http_lengths_fixed(struct http_lengths *out, long value);

/* One length drawn with r. */
long http_lengths_sample(const struct http_lengths *l, gsl_rng *r);

/* "fixed", "uniform", "normal", "lognormal". */
const char *http_lengths_dist_name(enum http_lengths_dist d);

/* The distribution as JSON, for the run document: {"dist": ..., ...}. */
cJSON *http_lengths_to_json(const struct http_lengths *l);

#endif
