/*
 * db_internal.h: what db/ modules share behind the opaque struct db.
 * Only files in db/ include this.  db_query() is the one libpq choke point:
 * every statement goes through it, parameterised, with errors turned into
 * one-line messages (never containing a password).
 */
#ifndef PERFGATE_DB_INTERNAL_H
#define PERFGATE_DB_INTERNAL_H

#include <libpq-fe.h>

#include "db.h"

/*
 * Run one parameterised statement (text parameters, NULL for SQL NULL).
 * On success *res holds the result (PGRES_COMMAND_OK or PGRES_TUPLES_OK) and
 * the caller PQclear()s it; res may be NULL when the result is not needed.
 * A lost connection gives ERR_INFRA; a failed statement ERR_FAIL with the
 * server's message and the statement's first words.
 */
int db_query(struct db *db, const char *sql, int nparams, const char *const *params,
	     PGresult **res, struct err *err);

/* BEGIN / COMMIT / ROLLBACK (rollback never fails loudly). */
int db_begin(struct db *db, struct err *err);
int db_commit(struct db *db, struct err *err);
void db_rollback(struct db *db);

#endif
