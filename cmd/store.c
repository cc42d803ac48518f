/*
 * store.c: `perfgate store import|export`: keep the results on a git data
 * branch of the project's repository, for CI without a database server
 * (docs/ci.md, core/datastore.h).  `import` fills the database (the embedded
 * one, usually) with the runs on the branch it does not have yet; `export`
 * appends the database's baseline runs that the branch does not have yet,
 * commits and pushes, retrying when another job pushed first.
 *
 * Exit codes: 0 done (damaged files skipped with a warning each), 2 usage or
 * a repository that is not one, 4 the database or the remote failed.
 */
#include "cmd.h"

#include <stdio.h>
#include <stdlib.h>

#include "../core/datastore.h"
#include "../core/util.h"
#include "../db/archive.h"
#include "../db/db.h"

#define KEEP_SAMPLES_DEFAULT 200

/* Options both verbs take. */
struct store_args {
	const char *repo, *remote, *branch, *db_url;
	bool quiet;
};

#define STORE_OPTS(a)                                                                                           \
	{ "branch", 0, OPT_STRING, &(a).branch, "NAME", "the data branch (default: " DATASTORE_BRANCH ")" },     \
	{ "db", 0, OPT_STRING, &(a).db_url, "URL", "PostgreSQL URL (default: $PERFGATE_DATABASE_URL, then the embedded database)" }, \
	{ "quiet", 'q', OPT_FLAG, &(a).quiet, NULL, "print nothing but problems" },                             \
	{ "remote", 0, OPT_STRING, &(a).remote, "NAME|URL", "where the branch lives (default: origin; \"\": this repository only)" }, \
	{ "repo", 0, OPT_STRING, &(a).repo, "DIR", "the git repository (default: the one around the current folder)" }

static int open_both(const struct store_args *a, struct datastore **ds, struct db **db)
{
	struct datastore_options dso = DATASTORE_OPTIONS_INIT;
	struct db_options dbo = DB_OPTIONS_INIT;
	struct err err = ERR_INIT;
	int rc;

	dso.repo = a->repo;
	dso.remote = a->remote;
	dso.branch = a->branch;
	/* A token for HTTPS remotes whose checkout left none (docs/ci.md). */
	dso.token = getenv("PERFGATE_DATA_TOKEN");
	dso.token_user = getenv("PERFGATE_DATA_USER");
	if ((rc = datastore_open(ds, &dso, &err)) < 0)
		return cmd_fail(rc, &err);
	if ((rc = datastore_fetch(*ds, &err)) < 0)
		return cmd_fail(rc, &err);
	dbo.url = a->db_url;
	if ((rc = db_open(db, &dbo, &err)) < 0)
		return cmd_fail(rc, &err);
	return 0;
}

static int store_import(int argc, char **argv)
{
	static const struct cmd_usage usage = {
		"store import", "[options]",
		"fill the database with the runs on the data branch that it does not have yet",
		"Fetches the branch, stores every run not stored yet (with its comparison) and\n"
		"updates the change points of the series that got runs.  Damaged files are\n"
		"skipped, each with a warning that names it."
	};
	struct store_args a = { 0 };
	const struct opt opts[] = { STORE_OPTS(a) };
	struct archive_import_stats st;
	struct errlist warnings = ERRLIST_INIT;
	struct err err = ERR_INIT;
	struct datastore *ds = NULL;
	struct db *db = NULL;
	uint64_t t0 = now_ns();
	int code;

	OPT_PARSE_OR_RETURN(usage, opts, argc, argv, NULL);
	if ((code = open_both(&a, &ds, &db)) != 0)
		goto done;
	code = archive_import(db, ds, &warnings, &st, &err);
	for (size_t i = 0; i < warnings.n; i++)
		cmd_warn("%s", warnings.msgs[i]);
	if (code < 0) {
		code = cmd_fail(code, &err);
		goto done;
	}
	if (!a.quiet)
		printf("imported %zu run%s from '%s' in %.2f s (%zu already stored, %zu skipped)\n", st.imported,
		       st.imported == 1 ? "" : "s", a.branch ? a.branch : DATASTORE_BRANCH,
		       (double)(now_ns() - t0) / 1e9, st.present, st.skipped);
done:
	errlist_release(&warnings);
	db_free(db);
	datastore_free(ds);
	return code;
}

static int store_export(int argc, char **argv)
{
	static const struct cmd_usage usage = {
		"store export", "[options]",
		"append the database's baseline runs to the data branch, commit and push",
		"Only runs that may be baselines go on the branch: made on a branch, not for a\n"
		"pull or merge request, not from a fork or a dirty tree.  When another job\n"
		"pushed first, the commit is made again on the new tip and pushed again.\n"
		"Runs after the newest --keep-samples of their series lose their raw samples\n"
		"on the branch (their medians and confidence intervals stay)."
	};
	struct store_args a = { 0 };
	long keep = KEEP_SAMPLES_DEFAULT;
	const char *message = "perfgate: add runs";
	const struct opt opts[] = {
		STORE_OPTS(a),
		{ "keep-samples", 0, OPT_INT, &keep, "K", "raw samples for the newest K runs per series (default 200; 0: all)" },
		{ "message", 'm', OPT_STRING, &message, "TEXT", "the commit message" },
	};
	struct archive_export_stats st;
	struct datastore_pushed pushed = { 0 };
	struct err err = ERR_INIT;
	struct datastore *ds = NULL;
	struct db *db = NULL;
	int code;

	OPT_PARSE_OR_RETURN(usage, opts, argc, argv, NULL);
	if (keep < 0) {
		cmd_error("invalid --keep-samples %ld: expected 0 (keep all) or more", keep);
		return EXIT_USAGE;
	}
	if ((code = open_both(&a, &ds, &db)) != 0)
		goto done;
	code = archive_stage_export(db, ds, (size_t)keep, &st, &err);
	if (code == 0)
		code = datastore_push(ds, message, &pushed, &err);
	if (code < 0) {
		code = cmd_fail(code, &err);
		goto done;
	}
	if (!a.quiet) {
		size_t added = pushed.added - pushed.removed;

		printf("exported %zu run%s to '%s'", added, added == 1 ? "" : "s", a.branch ? a.branch : DATASTORE_BRANCH);
		if (st.pruned)
			printf(", %zu older run%s kept without raw samples", st.pruned, st.pruned == 1 ? "" : "s");
		if (pushed.attempts > 1)
			printf(" (pushed at attempt %d: other jobs pushed first)", pushed.attempts);
		printf("; %zu of %zu baseline runs were there already\n", st.exportable - st.staged, st.exportable);
	}
done:
	db_free(db);
	datastore_free(ds);
	return code;
}

int cmd_store(int argc, char **argv)
{
	static const struct subcmd table[] = {
		{ "export", store_export, "append the database's baseline runs to the data branch and push" },
		{ "import", store_import, "fill the database with the runs on the data branch" },
	};

	return subcmd_dispatch("store", table, ARRAY_SIZE(table), argc, argv);
}
