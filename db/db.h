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
#define DB_OPTIONS_INIT { .url = NULL }

int db_open(struct db **out, const struct db_options *opts, struct err *err);
void db_free(struct db *db);

/* Store one run document in one transaction.  *already is set when a run
 * with the same run_id was stored before (then nothing is written). */
int db_run_insert(struct db *db, const struct rundoc *rd, bool *already, struct err *err);
/* Store several run documents in one transaction (a bulk import: one
 * results statement for all of them); already[i] is set for a run stored
 * before, which is left as it is.  Any failure stores none of them. */
int db_runs_insert(struct db *db, const struct rundoc *const *docs, size_t n, bool *already,
		   struct err *err);
/*
 * A run id as a person types it, git-style (rundoc_id_prefix): the whole
 * id, or a prefix that starts exactly one stored run's id, as `gate` prints it
 * ("run 11feadd8").  *full (caller frees) is the whole id.  ERR_NOTFOUND
 * when no run starts so; ERR_INPUT when several do (the message names
 * some) or when spec cannot be a run id at all.  A whole id in its usual
 * form (36 characters) is taken as it is, without asking the database.
 */
int db_run_resolve(struct db *db, const char *spec, char **full, struct err *err);
/* Load a stored run document by its id or a unique prefix of it
 * (db_run_resolve).  ERR_NOTFOUND when absent. */
int db_run_load(struct db *db, const char *run_id, struct rundoc **out, struct err *err);

/* $PERFGATE_HOME, default ~/.local/share/perfgate (caller frees). */
char *db_home(void);


/* ---- Additions for `perfgate db`, `push --spooled` and the tests. ---- */

/* Where the open database is, for people: a URL without its password, or
 * "embedded cluster in DIR". */
const char *db_where(const struct db *db);
/* True when db is the embedded cluster. */
bool db_is_embedded(const struct db *db);

/*
 * Where db_open() would connect with these options, without connecting:
 * *where as db_where() says it (caller frees); *embedded when it is the
 * embedded cluster.
 */
int db_describe(const struct db_options *opts, char **where, bool *embedded, struct err *err);
/* Check the database URL db_open would use (--db, else PERFGATE_DATABASE_URL)
 * without connecting: one libpq can parse, with a known sslmode and
 * gssencmode and ports from 1 to 65535.  ERR_INPUT naming the value (never a
 * password); 0 when there is no URL (PG* variables, the embedded cluster). */
int db_url_check(const struct db_options *opts, struct err *err);

struct db_status {
	char *where;           /* as db_where() */
	char *server_version;  /* "15.8 (Debian 15.8-0+deb12u1)" */
	int schema_version;    /* highest applied migration, 0 when none */
	int schema_latest;     /* highest migration compiled into this perfgate */
	long long runs;        /* rows in runs */
};
#define DB_STATUS_INIT { .where = NULL }
int db_status_get(struct db *db, struct db_status *st, struct err *err);
void db_status_release(struct db_status *st);

/* Apply pending migrations (db_open does this unless no_migrate); *applied
 * (may be NULL) counts the ones this call applied. */
int db_migrate(struct db *db, int *applied, struct err *err);

/*
 * The embedded cluster.  db_embedded_start() initialises and starts it
 * when needed (*started says whether this call did); db_embedded_stop()
 * stops it (*was_running).  *where (caller frees) names its folder.
 * Both fail with ERR_INPUT when an external database is configured in opts
 * or the environment.
 */
int db_embedded_start(const struct db_options *opts, bool *started, char **where, struct err *err);
int db_embedded_stop(const struct db_options *opts, bool *was_running, char **where,
		     struct err *err);
/* Whether the embedded cluster runs; *initialised says whether it exists. */
bool db_embedded_running(bool *initialised);

/*
 * The spool: run documents that could not be stored, one file each,
 * $PERFGATE_HOME/spool/<run_id>.json.  db_spool_write() writes one
 * atomically (*path, caller frees, may be NULL); db_spool_list() lists
 * them in name order (free with db_spool_list_free).
 *
 * The spool holds only what perfgate wrote itself (docs/security.md): each
 * file has a signature beside it, <run_id>.json.sig, an HMAC-SHA256 under
 * this home's key ($PERFGATE_HOME/spool.key, 0600, made on the first
 * spool) of the document and of whether its context was trusted
 * (rd->context_trusted).  db_spool_load() reads a spool file back with that
 * trust; a file that is unsigned, signed under another key or changed
 * since is loaded untrusted (never a baseline) and *untrusted (caller
 * frees) says why.  db_spool_remove() removes a spool file and its
 * signature (unlink's result and errno for the file).
 */
char *db_spool_dir(void);
int db_spool_write(const struct rundoc *rd, char **path, struct err *err);
int db_spool_load(const char *path, struct rundoc **out, char **untrusted, struct err *err);
int db_spool_remove(const char *path);
/* Where a run goes when the spool cannot take it (a full or read-only
 * home): $TMPDIR (else /tmp), else the current folder,
 * perfgate-run-<run_id>.json, written atomically; *where (caller frees). */
int db_spool_fallback(const struct rundoc *rd, char **where, struct err *err);
int db_spool_list(char ***paths, size_t *n, struct err *err);
void db_spool_list_free(char **paths, size_t n);
/*
 * A run the database will never take (invalid, or refused as input) is
 * kept apart in $PERFGATE_HOME/spool/quarantine/, where push --spooled does
 * not look: rd written there, or the spool file `from` moved there.  *path
 * (caller frees) is where it went.
 */
int db_quarantine(const struct rundoc *rd, const char *from, char **path, struct err *err);

/*
 * Messages never show a password.  db_url_redact() returns a copy of a
 * connection URL or key=value string with any password replaced by "***";
 * db_scrub() replaces every occurrence of secret (when not NULL or empty)
 * in msg by "***", in place.
 */
char *db_url_redact(const char *url);
void db_scrub(char *msg, size_t cap, const char *secret);

/*
 * A float8[] of exactly n finite numbers in PostgreSQL's text form
 * ("{0.01,2.5e-05}"), as a new array; NULL for anything else (too few or
 * too many, a NULL element, NaN or Infinity, text before or after).
 */
double *db_float8_array(const char *text, size_t n);

#endif
