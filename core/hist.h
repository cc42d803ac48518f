/*
 * hist.h: mergeable log-linear histograms of durations (DESIGN section 4),
 * in the manner of HdrHistogram.
 *
 * Values are nanoseconds from 1 ns to 1 h (HIST_HIGHEST_NS); larger values
 * are clamped to 1 h and counted as saturated.  With `sigfigs` = 3 every
 * recorded value >= 1 us is kept to at least 3 significant decimal digits
 * (the bucket holding it is at most 1/1024 of its value wide), smaller ones
 * to the nanosecond.  Percentiles are nearest-rank: the value of rank
 * ceil(p/100 * n), reported as the highest value equivalent to that bucket,
 * clamped to the exact minimum and maximum.  Two histograms with the same
 * `sigfigs` merge exactly, so percentiles of merged runs are exact to the
 * bucket; never average percentiles.
 *
 * JSON form (compact, for the run document):
 *   {"unit": "ns", "sigfigs": 3, "n": N, "min": ns, "max": ns, "sum": ns,
 *    "saturated": k, "counts": [i0, c0, d1, c1, d2, c2, ...]}
 * where the pairs list the non-empty buckets: i0 is the first bucket index,
 * each later d is the gap from the previous listed index, c the count.
 */
#ifndef PERFGATE_HIST_H
#define PERFGATE_HIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "err.h"

#define HIST_HIGHEST_NS UINT64_C(3600000000000) /* 1 h */

struct hist;

/* A new empty histogram with 1..5 significant digits (anything else is
 * clamped into that range).  Never NULL (allocation aborts). */
struct hist *hist_new(int sigfigs);
struct hist *hist_clone(const struct hist *h);
void hist_free(struct hist *h);
void hist_reset(struct hist *h);

void hist_record(struct hist *h, uint64_t ns);
void hist_record_n(struct hist *h, uint64_t ns, uint64_t count);

/* Add src's counts to dst.  Returns ERR_INPUT when their sigfigs differ. */
int hist_merge(struct hist *dst, const struct hist *src, struct err *err);

uint64_t hist_count(const struct hist *h);
uint64_t hist_saturated(const struct hist *h); /* values clamped to 1 h */
uint64_t hist_min(const struct hist *h);       /* ns; 0 when empty */
uint64_t hist_max(const struct hist *h);       /* ns; 0 when empty */
double hist_mean(const struct hist *h);        /* ns, exact (from the sum); 0 when empty */
int hist_sigfigs(const struct hist *h);
/* Nearest-rank percentile, p in [0, 100] (0 gives the minimum); ns; 0 when empty. */
uint64_t hist_percentile(const struct hist *h, double p);
/* Number of recorded values strictly greater than ns (to bucket precision:
 * values in the bucket holding ns count as not greater). */
uint64_t hist_count_above(const struct hist *h, uint64_t ns);

/* Bucket arithmetic, exposed for tests: the lowest and highest values that
 * share ns's bucket. */
uint64_t hist_lowest_equivalent(const struct hist *h, uint64_t ns);
uint64_t hist_highest_equivalent(const struct hist *h, uint64_t ns);

cJSON *hist_to_json(const struct hist *h);
/* Parse the JSON form; ERR_INPUT with a message naming the member on bad input. */
int hist_from_json(struct hist **out, const cJSON *json, struct err *err);
/* Add a histogram in JSON form to dst without making one (merging many
 * shards' histograms costs one pass over their non-empty buckets).
 * ERR_INPUT, dst untouched, when the JSON is bad or its sigfigs differ. */
int hist_merge_json(struct hist *dst, const cJSON *json, struct err *err);

/*
 * The same content as one string of decimal integers separated by single
 * spaces, for documents that hold thousands of histograms (a shard's
 * per-second series: core/http/shard.h), which a JSON parser then reads as
 * one string instead of thousands of numbers:
 *   "SIGFIGS N MIN MAX SUM SATURATED I0 C0 D1 C1 ..."
 * (the JSON form's members in that order, then its counts).  The caller
 * frees the string; hist_merge_text adds one to dst as hist_merge_json
 * does (ERR_INPUT, dst untouched, when it is malformed or of other sigfigs).
 */
char *hist_to_text(const struct hist *h);
int hist_merge_text(struct hist *dst, const char *text, struct err *err);

#endif
