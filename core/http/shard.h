/*
 * shard.h (http): an HTTP benchmark run as one shard of a group
 * (core/shard.h, docs/shards.md), and the sums the merge makes of the
 * shards' steps.
 *
 * The shard's side: which benchmarks can be split (not a capacity search,
 * a journey or faults: their steps depend on results only the whole group
 * has); the plan's dataset rows partitioned (row j goes to shard j mod N,
 * after the seeded shuffle every shard does alike, so each row is sent by
 * exactly one shard); each load step's options split and its start agreed
 * before it runs; and afterwards its raw measurements (every counter, the
 * histograms, the per-interval series with their histograms, the start it
 * was given and when it really began) appended to the benchmark's member
 * "shard", from which the merge rebuilds the step exactly.
 *
 * The merge's side: struct http_shard_sum adds up the same step of every
 * shard: counters summed, histograms added bucket by bucket, the series
 * aligned on the common clock.
 */
#ifndef PERFGATE_HTTP_SHARD_H
#define PERFGATE_HTTP_SHARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "../err.h"
#include "../rundoc.h"
#include "../shard.h"
#include "engine.h"

struct http_load_spec;
struct http_plan;
struct suite_bench;

/* A step starting this much after the agreed time makes the merged run
 * invalid (or 1% of its window, when that is more). */
#define HTTP_SHARD_LATE_S 0.1

/* One problem per reason benchmark b (an HTTP one) cannot be split over
 * `count` shards, at its name. */
void http_shard_check(const struct suite_bench *b, unsigned count, struct errlist *problems);

/* Keep only the plan's requests (one per dataset row) of shard `index` of
 * `count`: rows j with j mod count == index.  ERR_INPUT when that leaves
 * none (fewer rows than shards). */
int http_shard_plan_part(struct http_plan *p, unsigned index, unsigned count, struct err *err);

/* Before a load step: the shard's part of the options (part_index and
 * part_count, its share of `requests`, the series' histograms kept), and
 * the step's start, agreed with the other shards (start_at; *st says how). */
int http_shard_step_begin(struct shard *sh, struct http_engine_options *o, struct shard_start *st, struct err *err);

/* After it: the step's record appended to b's member "shard" (which it
 * makes on the first step: the load's mode and numbers the merge needs).
 * rep: the repetition; rate: a sweep's rate (0 otherwise). */
void http_shard_step_note(struct shard *sh, struct rd_bench *b, const struct http_load_spec *spec,
			  const struct http_plan *plan, const cJSON *slo, const struct http_engine_options *o,
			  const struct http_engine_result *r, const struct shard_start *st, long rep, double rate);

/* A step's result in the record's JSON form, and back (the merge adds
 * them up instead: http_shard_sum). */
cJSON *http_shard_result_json(const struct http_engine_result *r);

/* The sum of the shards' results of one step. */
struct http_shard_sum {
	struct http_engine_result r;  /* counters, histograms and series (with ts_lat) summed; window the longest */
	unsigned n;                   /* results added */
	bool all_fifo;
};
void http_shard_sum_init(struct http_shard_sum *s, bool sse);
/* Add one shard's result (the record's "result").  shift: intervals its
 * series starts after the common one (negative: before).  ERR_INPUT with
 * the member's path (under `path`) when the record is malformed. */
int http_shard_sum_add(struct http_shard_sum *s, const cJSON *result, long shift, const char *path, struct err *err);
/* The series' points from the summed intervals (percentiles from the
 * merged histograms); after the last add. */
void http_shard_sum_finish(struct http_shard_sum *s);
void http_shard_sum_release(struct http_shard_sum *s);

#endif
