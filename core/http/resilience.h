/*
 * resilience.h: how a system behaved around a fault (issue 16,
 * docs/faults.md), computed from the requests (or journeys) of one
 * measured window.
 *
 * Each request is attributed by its intended start (t_sched) to a phase:
 * before the fault [0, fault_start), during it [fault_start, fault_end),
 * after it [fault_end, end).  Per phase: successes, failures, error rate
 * and latency percentiles (nearest rank over the exact values).
 *
 * The pre-fault band: the before phase is cut into windows of `window`
 * length (sliding by `step`); the band's top is the highest window p95
 * times (1 + latency_tolerance), and the highest window error rate plus
 * error_tolerance.  A before phase shorter than one window is one window.
 *
 * Recovery: windows of the same length start at fault_end, fault_end +
 * step, ...; the first whose p95 and error rate are both within the band
 * (and that holds at least one success) marks the recovery, and
 * recovery_time is its start minus fault_end.  When none does before the
 * window closes, recovered is false and recovery_time is the whole after
 * phase.  requests_lost counts the failures from fault_start until the
 * recovery (or the end).
 */
#ifndef PERFGATE_HTTP_RESILIENCE_H
#define PERFGATE_HTTP_RESILIENCE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../err.h"

#define HTTP_RESILIENCE_FAILED UINT64_MAX

struct http_resilience_sample {
	uint64_t t;       /* ns from the measured window's start to the intended start */
	uint64_t latency; /* ns of a success; HTTP_RESILIENCE_FAILED for a failure */
};

struct http_resilience_options {
	uint64_t fault_start, fault_end; /* ns from the window's start */
	uint64_t end;                    /* ns: the window's length */
	uint64_t window;                 /* ns: band and recovery windows (0: 1 s) */
	uint64_t step;                   /* ns: how far windows slide (0: window / 10) */
	double latency_tolerance;        /* fraction over the band's p95 still "within" */
	double error_tolerance;          /* absolute error rate over the band's */
};
#define HTTP_RESILIENCE_OPTIONS_INIT { .window = 1000000000ULL, .latency_tolerance = 0.1 }

struct http_resilience_phase {
	uint64_t ok, failed;
	double error_rate;          /* failed / (ok + failed); 0 when empty */
	uint64_t p50, p95, p99, max; /* ns over successes; 0 when none */
};

struct http_resilience {
	struct http_resilience_phase before, during, after;
	bool judged;                /* a band and an after phase existed to judge recovery */
	bool recovered;
	uint64_t recovery_time;     /* ns */
	uint64_t requests_lost;
	uint64_t band_p95;          /* ns, tolerance included */
	double band_error_rate;     /* tolerance included */
	char why[200];              /* when not judged: why not */
};

/* Compute from n samples (any order).  ERR_INPUT for options that make no
 * sense (fault_end <= fault_start, fault_start > end). */
int http_resilience_compute(const struct http_resilience_sample *s, size_t n, const struct http_resilience_options *o,
			    struct http_resilience *out, struct err *err);

#endif
