/*
 * converge.h: a load step that stops when it has measured enough (the
 * `converge` key of `load`, docs/load.md): when the 95% confidence interval
 * of a chosen metric, by batch means over time windows, is narrower than a
 * bound, or at the step's duration, whichever comes first.
 *
 * The measured window is cut into sub-windows of `interval` seconds.  Each
 * success is recorded, by the worker that saw it, into the sub-window its
 * response ended in; the engine's own thread looks at the finished
 * sub-windows as they come: each gives the metric's value over its
 * requests (a percentile of their latencies, say), neighbouring ones are
 * grouped until each group holds enough requests for the percentile and
 * while they are autocorrelated (stats_batch_means, STATISTICS.md "Batch
 * means"), and the interval is mean +- t(0.975, B - 1) s / sqrt(B) over the
 * B groups.  The step ends when that half-width is at most `half_width` of
 * the mean, after `min_duration` and with at least `min_batches` groups.
 */
#ifndef PERFGATE_HTTP_CONVERGE_H
#define PERFGATE_HTTP_CONVERGE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "../err.h"

/* The per-request values a metric can be taken over. */
enum http_converge_fam { CONV_LATENCY, CONV_SERVICE_TIME, CONV_TTFB, CONV_TTFT, CONV_TPOT, CONV_N };

struct http_converge_options {
	enum http_converge_fam fam;
	double q;               /* percentile (0, 100], or -1: the mean */
	char metric[32];        /* as written: "ttft.p95" */
	double half_width;      /* relative, (0, 1) */
	double interval;        /* s per sub-window */
	double min_duration;    /* s of the window before the first look */
	long min_batches;
};

/* Parse `converge` at path (problems at their JSON paths); 0 or ERR_INPUT.
 * sse: the benchmark streams (ttft and tpot need it). */
int http_converge_parse(struct http_converge_options *out, const cJSON *v, const char *path, bool sse,
			struct errlist *problems);

struct http_converge;

/* For one step of `workers` workers whose window starts at window_start (ns). */
struct http_converge *http_converge_new(const struct http_converge_options *o, size_t workers, uint64_t window_start);
void http_converge_free(struct http_converge *c);

/* A measured success that ended at t_end: its value of each family (have[f]
 * false when it has none, such as ttft of a response without tokens).
 * Called by worker `worker` only. */
void http_converge_record(struct http_converge *c, size_t worker, uint64_t t_end, const uint64_t v[CONV_N],
			  const bool have[CONV_N]);

/* The engine's thread, at `now`: has the metric converged? */
bool http_converge_check(struct http_converge *c, uint64_t now);

struct http_converge_outcome {
	bool converged;         /* the step ended because the interval was narrow enough */
	double at;              /* s into the window when it did */
	double center;          /* the batch mean (the metric's unit: s) at the last look */
	double half_width;      /* relative half-width at the last look (NAN: no look had enough) */
	size_t batches;
};
void http_converge_outcome(const struct http_converge *c, struct http_converge_outcome *out);

#endif
