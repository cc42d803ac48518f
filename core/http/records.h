/*
 * records.h: per-request records (`perfgate run --requests FILE.jsonl`, the
 * suite's "requests" key; docs/metrics.md, "Per-request records"): one JSON
 * line per request sent, written while the load runs, never held in memory.
 *
 * Engine workers format their records into a buffer of their own (no lock,
 * no system call on the sending path); a full buffer goes to a writer
 * thread, which writes it with one write(2) and gives it back.  Memory is
 * bounded by a fixed pool of buffers; a worker that finds none free waits
 * for the writer (counted in `stalls`: the disk was slower than the load)
 * rather than dropping a record.  Lines from different workers interleave
 * in the file; each line is whole.
 *
 * A line (times in ns after the step's start; null when absent):
 *
 *   {"benchmark":"chat","step":0,"worker":0,"seq":17,"warmup":false,
 *    "t_sched":1000000000,"t_send":1000052113,"t_first_byte":1031020554,
 *    "t_first_token":1031020554,"t_end":1160443098,"status":200,"error":null,
 *    "class":"chat","session":3,"turn":1,"input_tokens_requested":512,
 *    "input_tokens":512,"cached_tokens":496,"output_tokens_requested":64,
 *    "output_tokens":64,"reasoning_tokens":null,"itl":[4012331,3998120,...]}
 */
#ifndef PERFGATE_HTTP_RECORDS_H
#define PERFGATE_HTTP_RECORDS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../err.h"

/* One request.  Times are CLOCK_MONOTONIC ns (0: did not happen);
 * counts are -1 when unknown. */
struct http_record {
	uint32_t worker;
	uint64_t seq;               /* the worker's request number in the step */
	bool warmup;
	uint64_t t_sched, t_send, t_first_byte, t_first_token, t_end;
	int status;                 /* final HTTP status, 0: none */
	const char *error;          /* error class name, NULL: succeeded */
	const char *class_name;     /* request class, NULL: none */
	long session, turn;         /* -1: not a session */
	long input_tokens_requested, input_tokens, cached_tokens;
	long output_tokens_requested, output_tokens, reasoning_tokens;
	const uint64_t *itl;        /* ns between consecutive tokens */
	size_t n_itl;
};

/* Engine workers a writer can serve at most (load.threads' bound). */
#define HTTP_RECORDS_MAX_WORKERS 256

struct http_records_options {
	const char *path;
	size_t buffer_bytes;        /* per buffer; 0: 256 KiB */
	size_t buffers;             /* in the pool (at least 2; 0: 64): memory is at most this many buffers */
	size_t workers;             /* engine workers that add records */
};
#define HTTP_RECORDS_OPTIONS_INIT { .workers = 1 }

struct http_records_stats {
	uint64_t records;           /* lines written */
	uint64_t bytes;
	uint64_t stalls;            /* times a worker waited for a free buffer */
	size_t buffers;             /* buffers allocated (never more than the pool) */
};

struct http_records;
struct http_records_local;

/* Create (truncate) the file and start the writer.  ERR_FAIL when the file
 * cannot be created. */
int http_records_open(struct http_records **out, const struct http_records_options *o, struct err *err);

/*
 * Before a step's workers start: its benchmark name, step number and
 * start time (ns, CLOCK_MONOTONIC), and how many workers it has (at most
 * o->workers).  Returns worker i's handle with http_records_local().
 */
void http_records_step(struct http_records *r, const char *benchmark, long step, uint64_t t0, size_t workers);
struct http_records_local *http_records_local(struct http_records *r, size_t worker);

/* Called by worker threads, each on its own handle. */
void http_records_add(struct http_records_local *l, const struct http_record *rec);
/* At the end of a worker's step: hand over what is buffered. */
void http_records_flush(struct http_records_local *l);

/* Write everything, stop the writer, close the file.  ERR_FAIL when a
 * write failed (the message says how many records were lost and why);
 * then stats (may be NULL) says what was written.  Frees r. */
int http_records_close(struct http_records *r, struct http_records_stats *stats, struct err *err);

#endif
