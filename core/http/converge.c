/*
 * converge.c: stop a load step when a metric's confidence interval is
 * narrow enough (see converge.h).
 */
#include "converge.h"

#include <math.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_cdf.h>

#include "../hist.h"
#include "../json.h"
#include "../stats.h"
#include "../util.h"

#define MAX_WINDOWS 100000 /* sub-windows a step may have (a day at 1 s) */

static const char *const fam_names[CONV_N] = { "latency", "service_time", "ttfb", "ttft", "tpot" };

/* Each worker's sub-windows.  The worker records under its own lock
 * (uncontended but for the engine's thread reading finished ones). */
struct cv_worker {
	pthread_mutex_t mu;
	struct hist **win;
	size_t n_win, alloc;
};

struct http_converge {
	struct http_converge_options o;
	struct cv_worker *w;
	size_t n_w;
	uint64_t window_start;  /* ns */
	uint64_t interval;      /* ns */
	/* finished sub-windows: the metric's value and request count each */
	double *v, *n;
	size_t done;
	struct http_converge_outcome out;
};

int http_converge_parse(struct http_converge_options *out, const cJSON *v, const char *path, bool sse,
			struct errlist *problems)
{
	static const char *const keys[] = { "metric", "half_width", "interval", "min_duration", "min_batches" };
	struct http_converge_options o = { .q = 95, .half_width = 0.05, .interval = 1, .min_duration = 10, .min_batches = 10 };
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(v, "metric");
	const cJSON *hw = cJSON_GetObjectItemCaseSensitive(v, "half_width");
	size_t before = problems->n;
	char *cp = xasprintf("%s.converge", path);
	long f = -1;

	if (!cJSON_IsObject(v)) {
		errlist_add(problems, "%s: expected an object such as {\"metric\": \"ttft.p95\", \"half_width\": \"5%%\"}", cp);
		goto done;
	}
	json_check_keys(v, cp, keys, ARRAY_SIZE(keys), problems);
	if (cJSON_IsString(m) && strlen(m->valuestring) < sizeof(o.metric)) {
		const char *dot = strrchr(m->valuestring, '.');
		char *fam = dot ? xstrndup(m->valuestring, (size_t)(dot - m->valuestring)) : NULL;
		char *end = NULL;

		f = fam ? str_index(fam, fam_names, CONV_N) : -1;
		if (f >= 0 && strcmp(dot + 1, "mean") == 0)
			o.q = -1;
		else if (f >= 0 && dot[1] == 'p')
			o.q = strtod(dot + 2, &end);
		if (f >= 0 && o.q != -1 && (!end || *end || !(o.q > 0 && o.q < 100)))
			f = -1;
		free(fam);
		snprintf(o.metric, sizeof(o.metric), "%s", m->valuestring);
	}
	if (f < 0)
		errlist_add(problems, "%s.metric: expected a percentile or mean of latency, service_time, ttfb, ttft or tpot, such as \"ttft.p95\"", cp);
	else if ((f == CONV_TTFT || f == CONV_TPOT) && !sse)
		errlist_add(problems, "%s.metric: %s needs \"stream\": \"sse\"", cp, fam_names[f]);
	o.fam = f < 0 ? CONV_LATENCY : (enum http_converge_fam)f;
	if (hw && json_target_value(hw, &o.half_width) != 0)
		errlist_add(problems, "%s.half_width: expected a fraction such as 0.05 or \"5%%\"", cp);
	json_get_duration(v, "interval", cp, &o.interval, NULL, problems);
	json_get_duration(v, "min_duration", cp, &o.min_duration, NULL, problems);
	json_get_int(v, "min_batches", cp, 3, &o.min_batches, NULL, problems);
	if (!(o.interval >= 0.01))
		errlist_add(problems, "%s.interval: at least 10ms", cp);
done:
	free(cp);
	if (problems->n > before)
		return ERR_INPUT;
	if (out)
		*out = o;
	return 0;
}

struct http_converge *http_converge_new(const struct http_converge_options *o, size_t workers, uint64_t window_start)
{
	struct http_converge *c = xcalloc(1, sizeof(*c));

	c->o = *o;
	c->n_w = workers ? workers : 1;
	c->w = xcalloc(c->n_w, sizeof(*c->w));
	for (size_t i = 0; i < c->n_w; i++)
		pthread_mutex_init(&c->w[i].mu, NULL);
	c->window_start = window_start;
	c->interval = (uint64_t)llround(o->interval * 1e9);
	c->out.half_width = NAN;
	c->out.center = NAN;
	return c;
}

void http_converge_free(struct http_converge *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n_w; i++) {
		for (size_t k = 0; k < c->w[i].n_win; k++)
			hist_free(c->w[i].win[k]);
		free(c->w[i].win);
		pthread_mutex_destroy(&c->w[i].mu);
	}
	free(c->w);
	free(c->v);
	free(c->n);
	free(c);
}

void http_converge_record(struct http_converge *c, size_t worker, uint64_t t_end, const uint64_t v[CONV_N],
			  const bool have[CONV_N])
{
	struct cv_worker *w = &c->w[worker];
	size_t i;

	if (!have[c->o.fam] || t_end < c->window_start)
		return;
	i = (size_t)((t_end - c->window_start) / c->interval);
	if (i >= MAX_WINDOWS)
		return;
	pthread_mutex_lock(&w->mu);
	if (i >= w->n_win) {
		size_t alloc = w->alloc;

		XGROW(w->win, alloc, i + 1);
		memset(w->win + w->n_win, 0, (alloc - w->n_win) * sizeof(*w->win));
		w->alloc = alloc;
		w->n_win = i + 1;
	}
	if (!w->win[i])
		w->win[i] = hist_new(3);
	hist_record(w->win[i], v[c->o.fam]);
	pthread_mutex_unlock(&w->mu);
}

/* Sub-window i over every worker: its value and count. */
static void finish_window(struct http_converge *c, size_t i)
{
	struct hist *h = hist_new(3);

	for (size_t k = 0; k < c->n_w; k++) {
		pthread_mutex_lock(&c->w[k].mu);
		if (i < c->w[k].n_win && c->w[k].win[i])
			hist_merge(h, c->w[k].win[i], NULL);
		pthread_mutex_unlock(&c->w[k].mu);
	}
	c->n[i] = (double)hist_count(h);
	c->v[i] = hist_count(h) == 0 ? 0
		  : c->o.q < 0 ? hist_mean(h) / 1e9 : (double)hist_percentile(h, c->o.q) / 1e9;
	hist_free(h);
}

bool http_converge_check(struct http_converge *c, uint64_t now)
{
	/* A sub-window is finished a little after its end: a response that
	 * ended inside it may still be being recorded. */
	uint64_t settled = now > c->window_start + 2000000 ? now - 2000000 - c->window_start : 0;
	size_t ready = (size_t)(settled / c->interval), nb;
	double need = c->o.q < 0 ? 10 : 10 / (1 - c->o.q / 100), *batches, mean = 0, var = 0, r1;

	if (ready > MAX_WINDOWS)
		ready = MAX_WINDOWS;
	if (ready > c->done) {
		c->v = xrealloc(c->v, ready * sizeof(*c->v));
		c->n = xrealloc(c->n, ready * sizeof(*c->n));
		for (size_t i = c->done; i < ready; i++)
			finish_window(c, i);
		c->done = ready;
	}
	if ((double)settled / 1e9 < c->o.min_duration || c->done < (size_t)c->o.min_batches)
		return false;
	batches = xmalloc(c->done * sizeof(*batches));
	nb = stats_batch_means(c->v, c->n, c->done, need, 0.2, (size_t)c->o.min_batches, batches, &r1);
	for (size_t i = 0; i < nb; i++)
		mean += batches[i] / (double)nb;
	for (size_t i = 0; i < nb; i++)
		var += (batches[i] - mean) * (batches[i] - mean) / (double)(nb - 1);
	free(batches);
	if (nb < (size_t)c->o.min_batches || !(mean > 0))
		return false;
	c->out.batches = nb;
	c->out.center = mean;
	c->out.half_width = gsl_cdf_tdist_Pinv(0.975, (double)(nb - 1)) * sqrt(var / (double)nb) / mean;
	if (c->out.half_width > c->o.half_width)
		return false;
	c->out.converged = true;
	c->out.at = (double)(now - c->window_start) / 1e9;
	return true;
}

void http_converge_outcome(const struct http_converge *c, struct http_converge_outcome *out)
{
	*out = c->out;
}
