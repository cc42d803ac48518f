/*
 * shard_merge.h: the shards' run documents of one group merged into the
 * one run the gate compares, stores and plots like any other
 * (docs/shards.md "The merged run").
 *
 * Every HTTP benchmark is rebuilt from the shards' raw step records
 * (core/http/shard.h): per step, histograms added bucket by bucket,
 * counts and bytes summed (so rates are summed: the window is the same),
 * the per-second series aligned on the common clock, generator health
 * combined; then every metric is computed from the sums by the runner's
 * own code (core/http/runner.h), so a merged percentile is the exact
 * percentile of all the shards' requests to the histogram's bucket, never
 * an average of percentiles.  What each shard saw stays in the benchmark's
 * generator[].shards and the run's "shards" member.  Command benchmarks
 * come from shard 1, which alone runs them.
 *
 * The merged run is invalid (its benchmarks failed with "invalid": true)
 * when a shard's own generator fell behind, or a shard began a step later
 * than the agreed start allows (HTTP_SHARD_LATE_S, or 1% of the window);
 * the message names the shard.
 */
#ifndef PERFGATE_SHARD_MERGE_H
#define PERFGATE_SHARD_MERGE_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"
#include "rundoc.h"

struct shard_merge_options {
	unsigned count;            /* shards expected; 0: as many as the documents say */
	const char *group;         /* refuse documents of another group; NULL: the first document's */
	const char *config_hash;   /* refuse documents of another configuration; NULL: the first document's */
	bool partial;              /* shards are missing: merge those that came and say so, instead of failing */
};
#define SHARD_MERGE_OPTIONS_INIT { .count = 0 }

/*
 * Merge the shard documents docs[0..n) (any order).  What is moved into
 * the merged run (command benchmarks) is taken out of the documents, which
 * stay valid to free.  Returns 0 with *out (caller frees); ERR_INPUT when a
 * document is not a shard's, belongs to another group, ran another
 * configuration (its config hash), repeats a shard, or holds a malformed
 * record, naming it; ERR_INFRA naming the missing shards when some are
 * missing and opts->partial is not set.  Notes for the reader (what was
 * missing, where monitor metrics came from) go to notes (may be NULL).
 */
int shard_merge(struct rundoc *const *docs, size_t n, const struct shard_merge_options *opts, struct rundoc **out,
		struct errlist *notes, struct err *err);

/* "3, 4" for the shards (1-based) of `count` that are not among the
 * 0-based `have[0..n)`, into buf; returns how many are missing. */
unsigned shard_merge_missing(const unsigned *have, size_t n, unsigned count, char *buf, size_t len);

#endif
