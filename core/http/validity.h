/*
 * validity.h: when an open-loop load step is invalid because its generator
 * fell behind (docs/load.md "Validity").
 *
 * A send is late when it leaves more than `late_after` after its intended
 * time.  A step is invalid when its late sends are both more than
 * `late_share` of its measured sends and at least `late_min` in number: a
 * share alone made one late request of twenty (10 requests/s for 2 s) an
 * invalid run, and a count alone would never scale to a long one.  The
 * suite's "validity" object sets the three for all its benchmarks.
 */
#ifndef PERFGATE_HTTP_VALIDITY_H
#define PERFGATE_HTTP_VALIDITY_H

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "../err.h"

struct http_engine_result;

struct http_validity {
	double late_after;        /* s: a send later than this after its t_sched is late */
	double late_share;        /* fraction of the measured sends that may be late */
	uint64_t late_min;        /* late sends below this count never invalidate a step */
};
/*
 * The defaults: 1 ms (DESIGN section 4), 1%, and 10 sends, so that one
 * stall of the machine of up to 100 ms at 100 requests/s (or 1 s at 10/s)
 * does not invalidate a run, while 1% of any run of 1,000 requests or more
 * still does.
 */
#define HTTP_VALIDITY_INIT { .late_after = 0.001, .late_share = 0.01, .late_min = 10 }

/* One problem per mistake in the suite's "validity" object v, at path. */
void http_validity_validate(const cJSON *v, const char *path, struct errlist *problems);
/* Fill *out from a validated "validity" object (NULL: the defaults). */
void http_validity_parse(const cJSON *v, struct http_validity *out);

/*
 * Judge an open-loop step: *late gets its late sends (measured sends whose
 * lateness exceeds late_after, from its lateness histogram) and *sent its
 * measured sends; true when too many were late.
 */
bool http_validity_behind(const struct http_validity *v, const struct http_engine_result *r, uint64_t *late,
			  uint64_t *sent);

#endif
