/*
 * shard.h: one load test spread over several processes or machines, the
 * "shards" of a group, started together and merged exactly into one run
 * (docs/shards.md).
 *
 * `perfgate run --shard I/N` runs shard I (1..N) of a group: every HTTP
 * benchmark's load is split between the shards (rates, concurrency,
 * requests, connections; dataset rows partitioned; each worker of each
 * shard its own arrival seed) and command benchmarks run on shard 1 only,
 * after the load.  The shards agree on when each load step starts, through
 * the database (db/shard.h) or a time given to all (--start-at), and each
 * records the start it was given, when it really started and how far its
 * clock may be off.  Their run documents carry the raw measurements (every
 * step's histograms and counts) under "shard"; shard_merge.h adds them up
 * into the run that the gate compares.
 *
 * This file: the shard's identity (I/N from the command line or from the
 * variables CI systems and Kubernetes set), the group's id and
 * configuration hash, the clock the shards agree on, and the shard member
 * of the run document.  The HTTP part is core/http/shard.h.
 */
#ifndef PERFGATE_SHARD_H
#define PERFGATE_SHARD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "err.h"

struct suite;
struct run_options;
struct rundoc;

#define SHARD_MAX 1024        /* shards in one group at most */
#define SHARD_GROUP_MAX 200   /* bytes of a group id at most */

/* Which shard this process is. */
struct shard_spec {
	unsigned index;            /* 0-based (shown 1-based: "--shard 2/4" is index 1) */
	unsigned count;            /* shards in the group, >= 1 */
	const char *from;          /* where it came from: "--shard", "PERFGATE_SHARD", ... (static) */
};

/* "I/N" with 1 <= I <= N <= SHARD_MAX; ERR_INPUT otherwise (naming the text). */
int shard_spec_parse(const char *text, struct shard_spec *out, struct err *err);

/*
 * From the environment, first found: PERFGATE_SHARD ("I/N"); GitLab's
 * parallel jobs (CI_NODE_INDEX, 1-based, of CI_NODE_TOTAL > 1); a Kubernetes
 * Indexed Job (JOB_COMPLETION_INDEX, 0-based, with PERFGATE_SHARDS, the
 * number of completions, which Kubernetes does not pass on).  *found false
 * when none is set; ERR_INPUT when one is set but malformed.
 */
int shard_spec_from_env(struct shard_spec *out, bool *found, struct err *err);

/*
 * The group's id: `given` (--shard-group), else PERFGATE_SHARD_GROUP, else
 * one the CI system makes the same for every job of one pipeline run:
 * "github-RUN_ID-ATTEMPT/SUITE" (GitHub Actions), "gitlab-PIPELINE_ID/SUITE"
 * (GitLab).  ERR_INPUT when there is none, or it is empty, too long or
 * holds a space or control character.  *out: caller frees.
 */
int shard_group_id(const char *given, const char *suite, char **out, struct err *err);

/*
 * The group's configuration hash: SHA-256 over the suite's name, N, and the
 * name and config_hash of every benchmark that `o` selects, in order.
 * Shards that differ in it ran different suites (or selected different
 * benchmarks) and are never merged.
 */
void shard_config_hash(const struct suite *s, const struct run_options *o, unsigned count, char out[65]);

/* ---- the common clock ---- */

/* When a step starts, as the shards agreed it. */
struct shard_start {
	double planned;            /* s since the epoch, common clock: when the step was to start */
	double offset;             /* s: this machine's clock minus the common clock (estimated) */
	double uncertainty;        /* s: how far that estimate may be off; < 0: unknown */
	const char *source;        /* "database": measured against the database server's clock;
				      "ntp": the kernel's clock is synchronised (offset taken as 0);
				      "unsynchronised": no estimate (static strings) */
};

/*
 * How the shards agree on the start of each step (step 0 is the first load
 * step of the run, then one per repetition and sweep rate, in the same
 * order on every shard).  step_start blocks until the start is agreed.
 * span: the previous step's longest length (s: warmup + window + request
 * timeout, the most its in-flight requests may take to drain), or < 0
 * when it is not known in advance (a `requests` step).  wait: how long to
 * wait for the other shards at most (s).
 */
struct shard_clock {
	int (*step_start)(void *arg, unsigned step, double span, double wait, struct shard_start *out,
			  struct err *err);
	void *arg;
};

/* What a sharded run knows while it runs (core/run.h carries a pointer). */
struct shard {
	struct shard_spec spec;
	char *group;               /* the group's id (owned) */
	char config_hash[65];
	struct shard_clock clock;
	double wait;               /* s: how long a rendezvous waits for the others (--shard-timeout) */
	unsigned steps;            /* load steps begun so far */
	double last_span;          /* s: the last step's longest length (< 0: not known in advance) */
	double start_at;           /* --start-at: s since the epoch (NAN: the clock is a database's) */
	double next_planned;       /* --start-at: the next step's planned start */
};

/*
 * A shard with the clock of --start-at: step 0 starts at start_at (s since
 * the epoch, this machine's clock); each later step one second after the
 * previous step's span has passed (docs/shards.md), which needs every
 * step's span known in advance.  The offset is 0, its uncertainty the
 * kernel's estimated error when NTP keeps the clock synchronised.
 */
void shard_init(struct shard *sh, const struct shard_spec *spec, const char *group, const char *config_hash);
void shard_use_start_at(struct shard *sh, double start_at);
void shard_release(struct shard *sh);

/* --start-at TIME: RFC 3339 ("2026-11-28T18:00:00Z") or seconds since the
 * epoch ("1764352800"); ERR_INPUT otherwise. */
int shard_parse_time(const char *text, double *out, struct err *err);

/* The kernel's view of this machine's clock: synchronised by NTP (or PTP)
 * and its estimated error (s), via adjtimex(2). */
void shard_clock_kernel(struct shard_start *out);

/* Wall-clock time now, s since the epoch (CLOCK_REALTIME). */
double shard_now(void);

/* A time on the common clock as CLOCK_MONOTONIC ns on this machine. */
uint64_t shard_to_mono(double common, const struct shard_start *st);
/* CLOCK_MONOTONIC ns on this machine as a time on the common clock. */
double shard_from_mono(uint64_t mono, const struct shard_start *st);

/* ---- the run document's "shard" member ---- */

/* The top-level "shard" object of a shard's run document: group, index
 * (1-based), count, config_hash. */
void shard_stamp(struct rundoc *rd, const struct shard *sh);

/* A run document's shard identity; false when it is no shard's run. */
struct shard_ident {
	const char *group;         /* borrowed from the document */
	unsigned index;            /* 0-based */
	unsigned count;
	const char *config_hash;
};
bool shard_ident_of(const struct rundoc *rd, struct shard_ident *out);

#endif
