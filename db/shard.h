/*
 * shard.h (db): shard groups in the store (core/shard.h, docs/shards.md,
 * db/migrations/0005_shards.sql).
 *
 * The shards of a group meet in the database: each registers the group
 * (the first one creates it with its configuration hash and count; a shard
 * of another configuration is refused), and before each load step each
 * arrives and waits until all have, or the group's wait has passed since
 * the first arrived (for step 0: since the group was made).  The start is
 * then a second after the last arrival (or the deadline), on the database
 * server's clock, which every shard reads: each measures its own clock's
 * offset from it by the round trip of a few reads.  Their run documents
 * are kept in shard_runs, apart from the runs; the merged run is stored as
 * a run like any other.
 */
#ifndef PERFGATE_DB_SHARD_H
#define PERFGATE_DB_SHARD_H

#include <stdbool.h>
#include <stddef.h>

#include "../core/shard.h"
#include "db.h"

#define DB_SHARD_LEAD_S 1.0   /* the start is this long after the rendezvous completes */

/* Register group (make it when new).  ERR_INPUT when it exists with another
 * configuration hash or count, naming both. */
int db_shard_join(struct db *db, const char *group, unsigned count, const char *config_hash, double wait,
		  struct err *err);

/* This machine's clock minus the database server's (s), and half the best
 * round trip of a few reads (s): how far the offset may be off. */
int db_shard_clock_offset(struct db *db, double *offset, double *uncertainty, struct err *err);

/* Arrive at `step` as shard index and wait for the others; *start: when the
 * step starts, s since the epoch on the server's clock. */
int db_shard_arrive(struct db *db, const char *group, unsigned step, unsigned index, unsigned count,
		    double *start, struct err *err);

/* The shard's clock through the database (sh->clock; db must outlive the
 * run).  Its first rendezvous registers the group. */
struct db_shard_clock {
	struct db *db;
	struct shard *sh;
	bool joined;
};
void db_shard_clock_use(struct db_shard_clock *c, struct db *db, struct shard *sh);

/* Keep a shard's run document (one with a "shard" member).  *already: it
 * was kept before. */
int db_shard_run_insert(struct db *db, const struct rundoc *rd, bool *already, struct err *err);

/* Which shards of the group have kept a document (0-based, ascending,
 * *have: caller frees). */
int db_shard_runs_present(struct db *db, const char *group, unsigned **have, size_t *n, struct err *err);
/* The group's shard documents, the latest of each shard (*docs: free each
 * with rundoc_free, then the array; may be empty). */
int db_shard_runs_load(struct db *db, const char *group, struct rundoc ***docs, size_t *n, struct err *err);

/* The group's count and configuration hash; ERR_NOTFOUND when no shard
 * registered it. */
int db_shard_group(struct db *db, const char *group, unsigned *count, char config_hash[65], struct err *err);

#endif
