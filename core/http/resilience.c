/*
 * resilience.c: phases, band and recovery around a fault (see resilience.h).
 */
#include "resilience.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util.h"

static int cmp_t(const void *a, const void *b)
{
	const struct http_resilience_sample *x = a, *y = b;

	return (x->t > y->t) - (x->t < y->t);
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

/* The first sample at or after t (s sorted by t). */
static size_t lower_bound(const struct http_resilience_sample *s, size_t n, uint64_t t)
{
	size_t lo = 0, hi = n;

	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;

		if (s[mid].t < t)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

/* Nearest rank of sorted v[0..k): the value of rank ceil(q/100 k). */
static uint64_t rank(const uint64_t *v, size_t k, double q)
{
	size_t r = (size_t)ceil(q / 100.0 * (double)k);

	if (k == 0)
		return 0;
	return v[r > 0 ? r - 1 : 0];
}

/* Statistics of samples [i, j); scratch holds j - i values. */
static void stats(const struct http_resilience_sample *s, size_t i, size_t j, uint64_t *scratch,
		  struct http_resilience_phase *ph)
{
	size_t k = 0;

	memset(ph, 0, sizeof(*ph));
	for (size_t x = i; x < j; x++) {
		if (s[x].latency == HTTP_RESILIENCE_FAILED)
			ph->failed++;
		else
			scratch[k++] = s[x].latency;
	}
	ph->ok = k;
	ph->error_rate = ph->ok + ph->failed ? (double)ph->failed / (double)(ph->ok + ph->failed) : 0;
	qsort(scratch, k, sizeof(*scratch), cmp_u64);
	ph->p50 = rank(scratch, k, 50);
	ph->p95 = rank(scratch, k, 95);
	ph->p99 = rank(scratch, k, 99);
	ph->max = k ? scratch[k - 1] : 0;
}

static void window_stats(const struct http_resilience_sample *s, size_t n, uint64_t a, uint64_t b, uint64_t *scratch,
			 struct http_resilience_phase *ph)
{
	stats(s, lower_bound(s, n, a), lower_bound(s, n, b), scratch, ph);
}

/* The band from the windows before the fault; false when there is none. */
static bool band(const struct http_resilience_sample *s, size_t n, const struct http_resilience_options *o,
		 uint64_t win, uint64_t step, uint64_t *scratch, struct http_resilience *r)
{
	uint64_t top = 0;
	double err = 0;
	bool any = false;
	struct http_resilience_phase w;

	for (uint64_t a = 0; a + win <= o->fault_start; a += step) {
		window_stats(s, n, a, a + win, scratch, &w);
		if (!w.ok)
			continue;
		any = true;
		top = w.p95 > top ? w.p95 : top;
		err = fmax(err, w.error_rate);
	}
	if (!any && r->before.ok) {
		/* a before phase shorter than a window: one window */
		any = true;
		top = r->before.p95;
		err = r->before.error_rate;
	}
	if (!any)
		return false;
	r->band_p95 = (uint64_t)llround((double)top * (1.0 + o->latency_tolerance));
	r->band_error_rate = err + o->error_tolerance;
	return true;
}

static void recovery(const struct http_resilience_sample *s, size_t n, const struct http_resilience_options *o,
		     uint64_t win, uint64_t step, uint64_t *scratch, struct http_resilience *r)
{
	uint64_t a = o->fault_end, until = o->end;
	struct http_resilience_phase w;

	if (o->end - o->fault_end < win)
		win = o->end - o->fault_end; /* one short window */
	for (; a + win <= o->end; a += step) {
		window_stats(s, n, a, a + win, scratch, &w);
		if (w.ok && w.p95 <= r->band_p95 && w.error_rate <= r->band_error_rate + 1e-12) {
			r->recovered = true;
			r->recovery_time = a - o->fault_end;
			until = a;
			break;
		}
	}
	if (!r->recovered)
		r->recovery_time = o->end - o->fault_end;
	for (size_t i = lower_bound(s, n, o->fault_start); i < n && s[i].t < until; i++)
		r->requests_lost += s[i].latency == HTTP_RESILIENCE_FAILED;
}

int http_resilience_compute(const struct http_resilience_sample *in, size_t n, const struct http_resilience_options *o,
			    struct http_resilience *r, struct err *err)
{
	struct http_resilience_sample *s = NULL;
	uint64_t *scratch = NULL, win = o->window ? o->window : 1000000000ULL, step;
	size_t b, d, e;

	memset(r, 0, sizeof(*r));
	if (o->fault_end <= o->fault_start || o->fault_start > o->end)
		return err_set(err, ERR_INPUT, "resilience: the fault [%.3f s, %.3f s) does not lie in the window of %.3f s",
			       (double)o->fault_start / 1e9, (double)o->fault_end / 1e9, (double)o->end / 1e9);
	step = o->step ? o->step : (win / 10 ? win / 10 : 1);
	s = xmalloc((n ? n : 1) * sizeof(*s));
	scratch = xmalloc((n ? n : 1) * sizeof(*scratch));
	if (n)
		memcpy(s, in, n * sizeof(*s));
	qsort(s, n, sizeof(*s), cmp_t);
	b = lower_bound(s, n, o->fault_start);
	d = lower_bound(s, n, o->fault_end);
	e = lower_bound(s, n, o->end);
	stats(s, 0, b, scratch, &r->before);
	stats(s, b, d, scratch, &r->during);
	stats(s, d, e, scratch, &r->after);
	if (o->fault_end >= o->end) {
		snprintf(r->why, sizeof(r->why), "the fault lasts to the end of the measured window: no after phase");
		r->recovery_time = 0;
	} else if (!band(s, n, o, win, step, scratch, r)) {
		snprintf(r->why, sizeof(r->why), "no request succeeded before the fault: no band to recover to");
	} else {
		r->judged = true;
		recovery(s, e, o, win, step, scratch, r);
	}
	if (!r->judged) {
		/* every failure from the fault on counts as lost */
		for (size_t i = b; i < e; i++)
			r->requests_lost += s[i].latency == HTTP_RESILIENCE_FAILED;
	}
	free(scratch);
	free(s);
	return 0;
}
