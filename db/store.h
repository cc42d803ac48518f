/*
 * store.h (db): the database as the gate pipeline sees it (core/gate.h): a
 * baseline source and a result store over one connection that is made on
 * first use and tried only once, so that a database that is down costs one
 * connection timeout, not one per step.  A run that cannot be stored is
 * spooled to $PERFGATE_HOME/spool/ (db_spool_write), and `perfgate push
 * --spooled` stores it later: nothing measured is lost.
 */
#ifndef PERFGATE_DB_STORE_H
#define PERFGATE_DB_STORE_H

#include <stdbool.h>

#include "../core/baseline.h"
#include "../core/changepoint.h"
#include "../core/gate.h"
#include "db.h"

struct db_store;

/* A store that will connect per opts (copied) when first needed. */
int db_store_open(struct db_store **out, const struct db_options *opts, struct err *err);
void db_store_free(struct db_store *s);

/*
 * The connection: made on the first call; every later call returns the
 * same connection, or the first call's error without trying again.
 * *db stays owned by the store.
 */
int db_store_connect(struct db_store *s, struct db **db, struct err *err);

/* The baseline source and the gate store over s (borrowed: s must outlive them). */
void db_store_baseline_source(struct db_store *s, struct baseline_source *out);
void db_store_gate_store(struct db_store *s, struct gate_store *out);

/*
 * Store one run and, when it is new, update the change points of its series
 * (db/history.h) with cp (NULL: the run document's own settings): the one
 * route every stored run takes.  A shard's run document is kept with its
 * group instead (db/shard.h), and has no series.  Change points are derived data: their
 * failure does not fail the store, its message goes to *cp_err (may be
 * NULL; left empty when all went well).
 */
int db_store_insert(struct db *db, const struct rundoc *rd, const struct changepoint_params *cp,
		    bool *already, struct err *cp_err, struct err *err);

#endif
