/*
 * db.c: `perfgate db start|stop|status|migrate`: manage the database.
 * start and stop act on the embedded cluster under $PERFGATE_HOME; status
 * and migrate act on whichever database is configured (--db URL,
 * PERFGATE_DATABASE_URL, PGHOST/PGSERVICE, else the embedded one).
 */
#include "cmd.h"

#include <stdio.h>
#include <stdlib.h>

#include "../core/util.h"
#include "../db/db.h"

static int db_start(int argc, char **argv)
{
	static const struct cmd_usage usage = {
		"db start", "[options]",
		"initialise (on first use) and start the embedded PostgreSQL cluster",
		"The cluster lives under $PERFGATE_HOME/pg (default ~/.local/share/perfgate),\n"
		"listens only on a Unix socket in that folder, and is also started on demand\n"
		"by every command that needs the database.  Migrations are applied."
	};
	struct db_options dbo = DB_OPTIONS_INIT;
	const char *url = NULL;
	const struct opt opts[] = {
		{ "db", 0, OPT_STRING, &url, "URL", "refuse when this names an external database" },
	};
	struct err err = ERR_INIT;
	struct db *db = NULL;
	char *where = NULL;
	bool started = false;
	int rc;

	OPT_PARSE_OR_RETURN(usage, opts, argc, argv, NULL);
	dbo.url = url;
	rc = db_embedded_start(&dbo, &started, &where, &err);
	if (rc == 0)
		rc = db_open(&db, &dbo, &err);
	if (rc) {
		free(where);
		return cmd_fail(rc, &err);
	}
	printf("%s: %s\n", where, started ? "started" : "already running");
	db_free(db);
	free(where);
	return EXIT_PASS;
}

static int db_stop(int argc, char **argv)
{
	static const struct cmd_usage usage = {
		"db stop", "[options]", "stop the embedded PostgreSQL cluster (fast shutdown)", NULL
	};
	struct db_options dbo = DB_OPTIONS_INIT;
	const char *url = NULL;
	const struct opt opts[] = {
		{ "db", 0, OPT_STRING, &url, "URL", "refuse when this names an external database" },
	};
	struct err err = ERR_INIT;
	char *where = NULL;
	bool was_running = false;
	int rc;

	OPT_PARSE_OR_RETURN(usage, opts, argc, argv, NULL);
	dbo.url = url;
	rc = db_embedded_stop(&dbo, &was_running, &where, &err);
	if (rc) {
		free(where);
		return cmd_fail(rc, &err);
	}
	printf("%s: %s\n", where, was_running ? "stopped" : "was not running");
	free(where);
	return EXIT_PASS;
}

/* Runs waiting in the spool are part of where the data is. */
static void print_spooled(void)
{
	struct err err = ERR_INIT;
	char **paths = NULL;
	size_t n = 0;

	if (db_spool_list(&paths, &n, &err) == 0 && n > 0) {
		char *dir = db_spool_dir();
		printf("spooled:  %zu run%s in %s (upload with 'perfgate push --spooled')\n", n,
		       n == 1 ? "" : "s", dir);
		free(dir);
	}
	db_spool_list_free(paths, n);
}

static int db_status(int argc, char **argv)
{
	static const struct cmd_usage usage = {
		"db status", "[options]",
		"say where the database is, its server and schema versions and how many runs it holds",
		"The embedded cluster is not started by 'db status': when it is not running,\n"
		"status says so and exits 0.  An external database that cannot be reached\n"
		"exits 4."
	};
	struct db_options dbo = DB_OPTIONS_INIT;
	const char *url = NULL;
	const struct opt opts[] = {
		{ "db", 0, OPT_STRING, &url, "URL", "database URL (default: PERFGATE_DATABASE_URL, "
						   "PG* variables, else the embedded cluster)" },
	};
	struct db_status st = DB_STATUS_INIT;
	struct err err = ERR_INIT;
	struct db *db = NULL;
	char *where = NULL;
	bool embedded = false, initialised = false;
	int rc;

	OPT_PARSE_OR_RETURN(usage, opts, argc, argv, NULL);
	dbo.url = url;
	dbo.no_start = true;
	if ((rc = db_describe(&dbo, &where, &embedded, &err)))
		return cmd_fail(rc, &err);
	if (embedded && !db_embedded_running(&initialised)) {
		printf("database: %s\n", where);
		printf("server:   %s\n", initialised ? "not running (started on demand, or with "
							   "'perfgate db start')"
							 : "not initialised yet (created on first use)");
		print_spooled();
		free(where);
		return EXIT_PASS;
	}
	free(where);
	if ((rc = db_open(&db, &dbo, &err)) || (rc = db_status_get(db, &st, &err))) {
		db_free(db);
		return cmd_fail(rc, &err);
	}
	printf("database: %s\n", st.where);
	printf("server:   PostgreSQL %s\n", st.server_version);
	printf("schema:   version %d (this perfgate: %d)\n", st.schema_version, st.schema_latest);
	printf("runs:     %lld\n", st.runs);
	print_spooled();
	db_status_release(&st);
	db_free(db);
	return EXIT_PASS;
}

static int db_migrate_cmd(int argc, char **argv)
{
	static const struct cmd_usage usage = {
		"db migrate", "[options]",
		"apply pending schema migrations (every command also does this on first use)",
		"Migrations run in order, each in its own transaction, under an advisory lock,\n"
		"so concurrent perfgate processes apply each one exactly once."
	};
	struct db_options dbo = DB_OPTIONS_INIT;
	const char *url = NULL;
	const struct opt opts[] = {
		{ "db", 0, OPT_STRING, &url, "URL", "database URL (default: PERFGATE_DATABASE_URL, "
						   "PG* variables, else the embedded cluster)" },
	};
	struct db_status st = DB_STATUS_INIT;
	struct err err = ERR_INIT;
	struct db *db = NULL;
	int rc, applied = 0;

	OPT_PARSE_OR_RETURN(usage, opts, argc, argv, NULL);
	dbo.url = url;
	dbo.no_migrate = true;
	if ((rc = db_open(&db, &dbo, &err)) || (rc = db_migrate(db, &applied, &err)) ||
	    (rc = db_status_get(db, &st, &err))) {
		db_free(db);
		return cmd_fail(rc, &err);
	}
	printf("%s: schema version %d (%d migration%s applied)\n", st.where, st.schema_version,
	       applied, applied == 1 ? "" : "s");
	db_status_release(&st);
	db_free(db);
	return EXIT_PASS;
}

int cmd_db(int argc, char **argv)
{
	static const struct subcmd table[] = {
		{ "start", db_start, "initialise and start the embedded cluster" },
		{ "stop", db_stop, "stop the embedded cluster" },
		{ "status", db_status, "where the database is, versions, number of runs" },
		{ "migrate", db_migrate_cmd, "apply pending schema migrations" },
	};

	return subcmd_dispatch("db", table, ARRAY_SIZE(table), argc, argv);
}
