/*
 * schedule.h: arrival schedules for open-loop load (issue 5, "rate").
 *
 * A schedule is a rate profile (piecewise linear segments of requests per
 * second: a constant rate, a ramp, a spike) and an arrival process:
 *   constant  evenly spaced arrivals;
 *   poisson   exponential gaps (memoryless arrivals);
 *   gamma     gamma-distributed gaps with shape = burstiness (as vLLM's
 *             serving benchmark defines it): 1 is Poisson, below 1 burstier,
 *             above 1 more regular; the mean rate is unchanged.
 * Arrivals are drawn in "operational time" (the integral of the rate), so a
 * ramp changes the rate smoothly and every process keeps its mean rate at
 * every instant.  Seeded: the same options give the same times.
 *
 * Several workers share one load by each taking a schedule with share =
 * 1/T and index i: constant arrivals then interleave exactly with the
 * single-worker schedule; Poisson arrivals superpose to Poisson.
 *
 * A schedule may instead be a list of times (a trace replayed): then each
 * worker takes every T-th of them.
 */
#ifndef PERFGATE_SCHEDULE_H
#define PERFGATE_SCHEDULE_H

#include <stddef.h>
#include <stdint.h>

#include "../err.h"

#define SCHED_END UINT64_MAX

enum http_schedule_arrival { SCHED_CONSTANT, SCHED_POISSON, SCHED_GAMMA };

struct http_schedule_segment {
	double duration;   /* s; the last segment may be INFINITY (open-ended) */
	double rate_start; /* requests/s at the segment's start */
	double rate_end;   /* requests/s at its end (linear in between) */
};

struct http_schedule_options {
	enum http_schedule_arrival arrival;
	double burstiness;                 /* gamma shape, > 0 */
	uint64_t seed;
	const struct http_schedule_segment *segments;
	size_t n_segments;
	double share;                      /* this worker's fraction of the rate, (0, 1]; 0 means 1 */
	size_t index;                      /* this worker's index, for constant arrivals' phase */
	/* Explicit arrival times instead of a rate (a trace's, ns after the
	 * start, in order): worker `index` of `stride` takes times[index],
	 * times[index + stride], ...; the segments are then not used. */
	const uint64_t *times;
	size_t n_times;
	size_t stride;
};
#define HTTP_SCHEDULE_OPTIONS_INIT { .arrival = SCHED_CONSTANT, .burstiness = 1.0, .seed = 1, .share = 1.0 }

struct http_schedule;

int http_schedule_open(struct http_schedule **out, const struct http_schedule_options *opts, struct err *err);
void http_schedule_free(struct http_schedule *s);
/* The next arrival, ns after the schedule's start, or SCHED_END when the
 * profile has ended. */
uint64_t http_schedule_next(struct http_schedule *s);

const char *http_schedule_arrival_name(enum http_schedule_arrival a);
/* "constant" "poisson" "gamma" -> 0, else ERR_INPUT. */
int http_schedule_arrival_parse(const char *name, enum http_schedule_arrival *out);

#endif
