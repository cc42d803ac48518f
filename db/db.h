/*
 * db.h: perfgate's store, behind one opaque handle (DESIGN section 6).
 *
 * db_open() resolves where the database is (--db URL, PERFGATE_DATABASE_URL,
 * libpq's PG* variables when PGHOST or PGSERVICE is set, else the embedded
 * cluster under $PERFGATE_HOME, started on demand), connects, and applies
 * pending migrations under an advisory lock.  Errors never contain a
 * password.  Functions return 0 or a negative ERR_* code (ERR_INFRA when the
 * server cannot be reached) and fill *err.
 */
#ifndef PERFGATE_DB_H
#define PERFGATE_DB_H

#include <stdbool.h>
#include <stddef.h>

#include "../core/err.h"
#include "../core/rundoc.h"

struct db;

struct db_options {
	const char *url;      /* --db; NULL: environment, then embedded */
	bool no_migrate;      /* do not apply migrations on open */
	bool no_start;        /* do not start the embedded cluster */
};
#define DB_OPTIONS_INIT { NULL, false, false }

int db_open(struct db **out, const struct db_options *opts, struct err *err);
void db_free(struct db *db);

/* Store one run document in one transaction.  *already is set when a run
 * with the same run_id was stored before (then nothing is written). */
int db_run_insert(struct db *db, const struct rundoc *rd, bool *already, struct err *err);
/* Load a stored run document by run_id. ERR_NOTFOUND when absent. */
int db_run_load(struct db *db, const char *run_id, struct rundoc **out, struct err *err);

/*
 * Store a run the way `run` and `gate` need: open the database per opts,
 * insert, and when the database cannot be reached, write the document to
 * $PERFGATE_HOME/spool/<run_id>.json instead and return ERR_INFRA with a
 * message that says where it went (nothing measured is lost).
 */
int db_store_run(const struct db_options *opts, const struct rundoc *rd, bool *already,
		 struct err *err);

/* $PERFGATE_HOME, default ~/.local/share/perfgate (caller frees). */
char *db_home(void);

#endif
