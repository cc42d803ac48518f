/*
 * shard_common.h: what `run`, `gate` and `merge` share about shard groups
 * in cmd/ (docs/shards.md): the options, a shard's set-up before its run
 * (who it is, its group, how it meets the others), and the collection and
 * merge of a group's runs (from files, or from the database, waiting for
 * the missing).
 */
#ifndef PERFGATE_CMD_SHARD_COMMON_H
#define PERFGATE_CMD_SHARD_COMMON_H

#include <stdbool.h>
#include <stddef.h>

#include "../core/run.h"
#include "../core/shard.h"
#include "../db/shard.h"
#include "../db/store.h"

#define SHARDCMD_TIMEOUT_S 600.0 /* --shard-timeout's default */

/* The options. */
struct shardcmd_args {
	const char *shard;         /* run: --shard I/N, or "off" (NULL: from the environment) */
	const char *group;         /* --shard-group ID */
	const char *start_at;      /* run: --start-at TIME */
	const char *timeout;       /* --shard-timeout DURATION */
	long shards;               /* gate, merge: --shards N (0: not given) */
	bool partial;              /* gate, merge: --partial */
};

/* A shard's set-up for `run`. */
struct shardcmd_run {
	struct shard sh;
	struct db_shard_clock dc;
	bool on;                   /* this run is a shard */
};

/*
 * Before `run`: is this a shard (--shard, or the environment)?  If so:
 * every selected HTTP benchmark can be split, the group's id and
 * configuration hash, and its clock (--start-at, else the database, which
 * must be reachable: exit 4); a shard that meets the others or stores its
 * run joins its group first (another configuration is refused: exit 2).
 * Sets ro->shard.  Prints problems; returns -1 to go on, else the exit code.
 */
int shardcmd_setup(const struct shardcmd_args *a, const struct suite *suite, struct run_options *ro,
		   struct db_store *dbs, bool store, struct shardcmd_run *cs, bool quiet);
void shardcmd_release(struct shardcmd_run *cs);

/* What `merge` and `gate --shards` merge. */
struct shardcmd_merge {
	const struct shardcmd_args *a;
	const struct suite *suite;           /* gives the group's derived id and the configuration hash; may be NULL */
	const struct run_options *ro;        /* the benchmarks selected (with suite) */
	const char *const *files;            /* shard documents in files; none: the database's */
	size_t n_files;
	struct db_store *dbs;
	bool quiet;
};

/* The merged run (core/gate.h run_source's form; arg is a struct
 * shardcmd_merge): from the files, or from the database, waiting up to
 * --shard-timeout for every shard.  ERR_INFRA naming the missing shards
 * after it (unless --partial), ERR_INPUT for a refused document. */
int shardcmd_merge(void *arg, struct rundoc **out, struct errlist *notes, struct err *err);

/* --shard-timeout in seconds (SHARDCMD_TIMEOUT_S when not given); prints
 * the error and returns EXIT_USAGE when it is malformed, else 0. */
int shardcmd_timeout(const struct shardcmd_args *a, double *out);

#endif
