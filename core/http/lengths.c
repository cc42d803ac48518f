/*
 * lengths.c: token-length distributions (see lengths.h).
 */
#include "lengths.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_cdf.h>

#include "../json.h"
#include "../util.h"

static const char *const dist_names[] = { "fixed", "uniform", "normal", "lognormal" };

const char *http_lengths_dist_name(enum http_lengths_dist d)
{
	return (size_t)d < ARRAY_SIZE(dist_names) ? dist_names[d] : "?";
}

void http_lengths_fixed(struct http_lengths *out, long value)
{
	memset(out, 0, sizeof(*out));
	out->dist = HTTP_LENGTHS_FIXED;
	out->min = out->max = value;
	out->mean = (double)value;
}

/* The continuous distribution function, and its inverse. */
static double cdf(const struct http_lengths *l, double x)
{
	if (l->dist == HTTP_LENGTHS_NORMAL)
		return gsl_cdf_gaussian_P(x - l->mean, l->stddev);
	return x <= 0 ? 0 : gsl_cdf_lognormal_P(x, l->mu, l->sigma);
}

static double cdf_inv(const struct http_lengths *l, double u)
{
	if (l->dist == HTTP_LENGTHS_NORMAL)
		return l->mean + gsl_cdf_gaussian_Pinv(u, l->stddev);
	return gsl_cdf_lognormal_Pinv(u, l->mu, l->sigma);
}

long http_lengths_sample(const struct http_lengths *l, gsl_rng *r)
{
	double u, x;
	long k;

	switch (l->dist) {
	case HTTP_LENGTHS_FIXED:
		return l->min;
	case HTTP_LENGTHS_UNIFORM:
		return l->min + (long)gsl_rng_uniform_int(r, (unsigned long)(l->max - l->min) + 1);
	case HTTP_LENGTHS_NORMAL:
	case HTTP_LENGTHS_LOGNORMAL:
		break;
	}
	/* gsl_rng_uniform_pos is in (0, 1): u never reaches the range's ends,
	 * where the inverse can be infinite. */
	u = l->u_lo + (l->u_hi - l->u_lo) * gsl_rng_uniform_pos(r);
	x = cdf_inv(l, u);
	if (!isfinite(x))
		x = u < 0.5 ? (double)l->min : (double)l->max;
	k = lround(fmin(fmax(x, (double)l->min), (double)l->max));
	return k;
}

static bool get_bound(const cJSON *o, const char *key, const char *path, long def, long *out,
		      struct errlist *problems)
{
	bool set = false;

	*out = def;
	if (!json_get_int(o, key, path, 1, out, &set, problems))
		return false;
	if (*out > HTTP_LENGTHS_MAX) {
		errlist_add(problems, "%s.%s: at most %ld tokens", path, key, HTTP_LENGTHS_MAX);
		return false;
	}
	return true;
}

static int parse_object(struct http_lengths *l, const cJSON *v, const char *path, struct errlist *problems)
{
	static const char *const keys[] = { "dist", "value", "min", "max", "mean", "stddev" };
	const cJSON *d = cJSON_GetObjectItemCaseSensitive(v, "dist");
	size_t before = problems->n;
	long idx;
	bool mean_set = false, sd_set = false;

	json_check_keys(v, path, keys, ARRAY_SIZE(keys), problems);
	if (!cJSON_IsString(d) || (idx = str_index(d->valuestring, dist_names, ARRAY_SIZE(dist_names))) < 0) {
		char *dpath = xasprintf("%s.dist", path);

		json_expected(problems, dpath, "\"fixed\", \"uniform\", \"normal\" or \"lognormal\"", d);
		free(dpath);
		return ERR_INPUT;
	}
	l->dist = (enum http_lengths_dist)idx;
	if (l->dist == HTTP_LENGTHS_FIXED) {
		long value = 0;
		const cJSON *val = cJSON_GetObjectItemCaseSensitive(v, "value");

		if (!val)
			errlist_add(problems, "%s.value: required for \"fixed\", a number of tokens >= 1", path);
		else if (get_bound(v, "value", path, 1, &value, problems))
			http_lengths_fixed(l, value);
		return problems->n > before ? ERR_INPUT : 0;
	}
	get_bound(v, "min", path, 1, &l->min, problems);
	get_bound(v, "max", path, HTTP_LENGTHS_MAX, &l->max, problems);
	if (problems->n == before && l->min > l->max)
		errlist_add(problems, "%s: min (%ld) is above max (%ld)", path, l->min, l->max);
	if (l->dist == HTTP_LENGTHS_UNIFORM) {
		if (!cJSON_GetObjectItemCaseSensitive(v, "min") || !cJSON_GetObjectItemCaseSensitive(v, "max"))
			errlist_add(problems, "%s: \"uniform\" needs min and max", path);
		return problems->n > before ? ERR_INPUT : 0;
	}
	json_get_number(v, "mean", path, 0, &l->mean, &mean_set, problems);
	json_get_number(v, "stddev", path, 0, &l->stddev, &sd_set, problems);
	if (problems->n > before)
		return ERR_INPUT;
	if (!mean_set || !sd_set) {
		errlist_add(problems, "%s: \"%s\" needs mean and stddev (tokens, > 0)", path, dist_names[l->dist]);
		return ERR_INPUT;
	}
	if (l->dist == HTTP_LENGTHS_LOGNORMAL) {
		double s2 = log1p(l->stddev * l->stddev / (l->mean * l->mean));

		l->sigma = sqrt(s2);
		l->mu = log(l->mean) - s2 / 2;
	}
	l->u_lo = cdf(l, (double)l->min - 0.5);
	l->u_hi = cdf(l, (double)l->max + 0.5);
	if (!(l->u_hi - l->u_lo > 1e-12)) {
		errlist_add(problems, "%s: no length between min %ld and max %ld is likely under mean %g and stddev %g",
			    path, l->min, l->max, l->mean, l->stddev);
		return ERR_INPUT;
	}
	return 0;
}

int http_lengths_parse(struct http_lengths *out, const cJSON *v, const char *path, struct errlist *problems)
{
	struct http_lengths l;
	int rc = 0;

	memset(&l, 0, sizeof(l));
	if (cJSON_IsNumber(v)) {
		if (!json_is_int(v) || v->valuedouble < 1 || v->valuedouble > (double)HTTP_LENGTHS_MAX) {
			json_expected(problems, path, "a number of tokens from 1 to 10000000, or {\"dist\": ...}", v);
			return ERR_INPUT;
		}
		http_lengths_fixed(&l, (long)v->valuedouble);
	} else if (cJSON_IsObject(v)) {
		rc = parse_object(&l, v, path, problems);
	} else {
		json_expected(problems, path, "a number of tokens or {\"dist\": \"uniform\", \"min\": N, \"max\": N}", v);
		return ERR_INPUT;
	}
	if (rc == 0 && out)
		*out = l;
	return rc;
}

cJSON *http_lengths_to_json(const struct http_lengths *l)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "dist", http_lengths_dist_name(l->dist));
	if (l->dist == HTTP_LENGTHS_FIXED) {
		cJSON_AddNumberToObject(o, "value", (double)l->min);
		return o;
	}
	if (l->dist != HTTP_LENGTHS_UNIFORM) {
		cJSON_AddNumberToObject(o, "mean", l->mean);
		cJSON_AddNumberToObject(o, "stddev", l->stddev);
	}
	cJSON_AddNumberToObject(o, "min", (double)l->min);
	cJSON_AddNumberToObject(o, "max", (double)l->max);
	return o;
}
