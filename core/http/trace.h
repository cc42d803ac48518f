/*
 * trace.h: request traces for replay (the `trace` object of docs/load.md):
 * when each request arrived and how long its input and output were.
 *
 * Two shapes, told apart by the first byte ('{': JSON lines, else CSV):
 *
 *   JSON lines, as the Mooncake traces:
 *     {"timestamp": 27482, "input_length": 6955, "output_length": 52, "hash_ids": [46, 47]}
 *     timestamp in milliseconds (`time_unit` changes it); hash_ids, when
 *     present, name the prompt's blocks so that requests sharing a block
 *     share that part of their prompt (a prefix cache sees what it saw)
 *   CSV with a header, as the Azure LLM inference traces:
 *     TIMESTAMP,ContextTokens,GeneratedTokens
 *     2023-11-16 18:15:46.6805900,4808,10
 *     columns found by name (also timestamp,input_length,output_length);
 *     the timestamp a date and time (UTC, up to 9 decimals) or a number of
 *     `time_unit`s
 *
 * Times become nanoseconds after the first request, multiplied by
 * `time_scale` (0.5 replays twice as fast).  Entries out of order are
 * sorted (stably) and counted.  Read line by line: memory holds the entries
 * (and hash ids), not the file.
 */
#ifndef PERFGATE_HTTP_TRACE_H
#define PERFGATE_HTTP_TRACE_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#include "../err.h"

struct http_trace_entry {
	uint64_t t;             /* ns after the first entry, scaled */
	uint32_t input_tokens;
	uint32_t output_tokens;
	uint32_t hash_off;      /* first of its hash ids in http_trace_hash_ids() */
	uint32_t n_hash;
};

struct http_trace_options {
	const char *path;
	const char *label;      /* how messages name it (default: path) */
	double time_scale;      /* > 0; 0 means 1 */
	double time_unit;       /* seconds per numeric timestamp unit; 0: 0.001 (ms) */
	size_t limit;           /* read at most this many entries (0: all) */
};
#define HTTP_TRACE_OPTIONS_INIT { .time_scale = 1.0, .time_unit = 0.001 }

struct http_trace_stats {
	size_t entries;
	size_t reordered;       /* entries that came before an earlier timestamp */
	const char *shape;      /* "jsonl" or "csv" */
	double span;            /* s from the first to the last entry, scaled */
};

struct http_trace;

/* Read the trace.  Returns 0, ERR_INPUT (one line naming the file, the
 * line and the field) or ERR_FAIL (cannot read it). */
int http_trace_open(struct http_trace **out, const struct http_trace_options *o, struct err *err);
/* The same from an open stream (o->path only names it). */
int http_trace_read(struct http_trace **out, const struct http_trace_options *o, FILE *f, struct err *err);
void http_trace_free(struct http_trace *t);

size_t http_trace_count(const struct http_trace *t);
const struct http_trace_entry *http_trace_get(const struct http_trace *t, size_t i);
const uint64_t *http_trace_hash_ids(const struct http_trace *t);
const struct http_trace_stats *http_trace_stats(const struct http_trace *t);

#endif
