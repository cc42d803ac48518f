/*
 * push.c: `perfgate push FILE... | --spooled`: store run documents.
 *
 * Every file is validated first, as far as the database's schema goes
 * (names, ids, dates, counts, UTF-8: rundoc.c); one invalid document stops
 * the push with its JSON path and exit 2 before anything is written, so
 * that `push good1 bad good2` stores nothing.  Should the database still
 * refuse one, the others are stored and the last line says which were not.
 * A spool file that is invalid or refused is moved to the spool's
 * quarantine folder (db_quarantine) instead of failing every later push.  Each run is then
 * stored in its own transaction; a run stored before is reported as such
 * and left alone (exit 0).  When the database cannot be reached, the
 * documents are spooled to $PERFGATE_HOME/spool/ like a fresh run's, so
 * that `push --spooled` can upload everything later, and push exits 4.
 * `--spooled` uploads the spool and deletes each file only after its run
 * was committed (or was found already stored).
 *
 * Trust (docs/security.md): a pushed document is stored but never becomes a
 * baseline, unless the writer vouches for it with --baseline-eligible (and
 * its own fields agree: core/baseline.h baseline_eligible).  A spool file
 * keeps the trust perfgate signed it with (db_spool_load); an unsigned or
 * changed one is stored as a pushed document, with a warning.
 */
#include "cmd.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../core/baseline.h"
#include "../core/util.h"
#include "../db/db.h"
#include "../db/store.h"

struct item {
	const char *path;    /* where the document came from */
	struct rundoc *rd;
	bool spooled;        /* it is a spool file: delete it once stored */
};

/* Keep the worst exit code: infrastructure beats invalid input beats ok. */
static int worse(int a, int b)
{
	return a > b ? a : b;
}

/* The database is unreachable: spool what is not spooled already. */
static int spool_rest(struct item *items, size_t from, size_t n, const struct err *why)
{
	cmd_error("database unreachable (%s)", why->msg);
	for (size_t i = from; i < n; i++) {
		struct err err = ERR_INIT;
		char *path = NULL;

		if (items[i].spooled) {
			cmd_error("run %s stays spooled in %s", items[i].rd->run_id, items[i].path);
			continue;
		}
		if (db_spool_write(items[i].rd, &path, &err) != 0) {
			cmd_error("cannot spool run %s from %s: %s", items[i].rd->run_id,
				  items[i].path, err.msg);
			continue;
		}
		cmd_error("run %s spooled to %s; upload later with 'perfgate push --spooled'",
			  items[i].rd->run_id, path);
		free(path);
	}
	return EXIT_INFRA;
}

/* A spool file the database will never take: out of the spool (else every
 * push --spooled fails on it again), into its quarantine folder. */
static void quarantine(const char *path)
{
	struct err err = ERR_INIT;
	char *to = NULL;

	if (db_quarantine(NULL, path, &to, &err) != 0)
		cmd_error("%s stays in the spool: %s", path, err.msg);
	else
		cmd_error("moved '%s' to '%s': the database will never take it; fix it and push it by hand, "
			  "or delete it", path, to);
	free(to);
}

/* The documents to push, each validated: the named files (one invalid file
 * stops the push before anything is written), then the spool (a damaged
 * spool file is reported and kept).  Returns the exit code so far; *stop
 * when nothing may be pushed. */
struct items {
	struct item *v;
	size_t n, alloc;
	char **spool;
	size_t n_spool;
};

static int load_items(struct items *it, const struct strlist *files, bool spooled, bool vouch, bool *stop)
{
	struct err err = ERR_INIT;
	int rc, code = EXIT_PASS;

	for (size_t i = 0; i < files->n; i++) {
		XGROW(it->v, it->alloc, it->n + 1);
		it->v[it->n] = (struct item){ files->items[i], NULL, false };
		if ((rc = rundoc_load(&it->v[it->n].rd, files->items[i], &err))) {
			*stop = true;
			return cmd_fail(rc, &err);
		}
		it->v[it->n++].rd->context_trusted = vouch;
	}
	if (spooled && (rc = db_spool_list(&it->spool, &it->n_spool, &err))) {
		*stop = true;
		return cmd_fail(rc, &err);
	}
	for (size_t i = 0; i < it->n_spool; i++) {
		struct rundoc *rd = NULL;
		char *untrusted = NULL;

		if ((rc = db_spool_load(it->spool[i], &rd, &untrusted, &err))) {
			cmd_error("%s", err.msg);
			quarantine(it->spool[i]);
			code = worse(code, EXIT_USAGE);
			continue;
		}
		if (untrusted)
			cmd_warn("%s: %s; stored as a pushed document, never a baseline", it->spool[i], untrusted);
		free(untrusted);
		XGROW(it->v, it->alloc, it->n + 1);
		it->v[it->n++] = (struct item){ it->spool[i], rd, true };
	}
	return code;
}

/* Store each document in its own transaction; spool the rest when the
 * database goes away.  Returns the exit code. */
static int store_items(struct db *db, struct items *it, bool quiet, int code)
{
	struct sb failed = SB_INIT;
	size_t n_failed = 0;

	for (size_t i = 0; i < it->n; i++) {
		struct item *x = &it->v[i];
		struct err err = ERR_INIT, cp_err = ERR_INIT;
		bool already = false;
		const char *why = NULL;
		int rc = db_store_insert(db, x->rd, NULL, &already, &cp_err, &err);

		if (rc == ERR_INFRA) {
			sb_release(&failed);
			return spool_rest(it->v, i, it->n, &err);
		}
		if (rc) {
			cmd_error("%s: %s", x->path, err.msg);
			if (x->spooled && rc == ERR_INPUT)
				quarantine(x->path);
			code = worse(code, cmd_exit_code(rc));
			sb_printf(&failed, "%s%s", n_failed++ ? ", " : "", x->path);
			continue;
		}
		if (cp_err.msg[0])
			cmd_warn("stored run %s; change points not updated: %s", x->rd->run_id, cp_err.msg);
		/* ENOENT: a concurrent `push --spooled` uploaded and removed it first. */
		if (x->spooled && db_spool_remove(x->path) != 0 && errno != ENOENT)
			cmd_warn("stored run %s but cannot remove '%s' from the spool", x->rd->run_id, x->path);
		/* Vouched for (--baseline-eligible) but its own fields disagree. */
		if (!already && !baseline_eligible(x->rd, (double)time(NULL), &why) && x->rd->context_trusted &&
		    !x->spooled)
			cmd_warn("run %s (%s) is stored but can never be a baseline: %s", x->rd->run_id, x->path, why);
		if (quiet)
			continue;
		if (already)
			printf("run %s already stored (%s)\n", x->rd->run_id, x->path);
		else if (why)
			printf("stored run %s (%s), not a baseline: %s\n", x->rd->run_id, x->path, why);
		else
			printf("stored run %s (%s)\n", x->rd->run_id, x->path);
	}
	/* Say exactly what was stored when not everything was. */
	if (n_failed)
		cmd_error("%zu of %zu run%s stored; not stored: %s", it->n - n_failed, it->n, it->n == 1 ? "" : "s",
			  sb_str(&failed));
	sb_release(&failed);
	return code;
}

int cmd_push(int argc, char **argv)
{
	static const struct cmd_usage usage = {
		"push", "[options] FILE... | --spooled",
		"validate run documents and store them, one transaction each",
		"A run stored before (same run_id) is reported as already stored and left as\n"
		"it is.  An invalid document is rejected with the JSON path of its first\n"
		"problem (exit 2) before anything is written.  When the database cannot be\n"
		"reached, the documents are spooled to $PERFGATE_HOME/spool/ and push exits 4;\n"
		"'perfgate push --spooled' uploads the spool later and removes each file once\n"
		"its run is stored.\n\n"
		"A pushed document is stored but never becomes a baseline (anyone can write\n"
		"one): --baseline-eligible vouches for the documents named, which then become\n"
		"baselines when their own fields agree (a branch build: no pull request, not a\n"
		"fork, a push/schedule/manual CI event, a clean tree, not started in the\n"
		"future).  Spooled runs keep what perfgate decided when it spooled them\n"
		"(signed with $PERFGATE_HOME/spool.key); see docs/security.md."
	};
	struct db_options dbo = DB_OPTIONS_INIT;
	const char *url = NULL;
	bool spooled = false, quiet = false, stop = false, vouch = false;
	const struct opt opts[] = {
		{ "db", 0, OPT_STRING, &url, "URL", "database URL (default: PERFGATE_DATABASE_URL, "
						   "PG* variables, else the embedded cluster)" },
		{ "baseline-eligible", 0, OPT_FLAG, &vouch, NULL, "vouch for the documents named: they may become "
								   "baselines when their fields agree" },
		{ "quiet", 'q', OPT_FLAG, &quiet, NULL, "print only problems" },
		{ "spooled", 0, OPT_FLAG, &spooled, NULL, "upload the runs spooled in $PERFGATE_HOME/spool" },
	};
	struct strlist files = STRLIST_INIT;
	struct items it = { .v = NULL };
	struct db *db = NULL;
	struct err err = ERR_INIT;
	int rc, code = EXIT_PASS;

	OPT_PARSE_OR_RETURN(usage, opts, argc, argv, &files);
	dbo.url = url;
	if (files.n == 0 && !spooled) {
		cmd_error("push needs run documents to store (push FILE...) or --spooled");
		code = EXIT_USAGE;
		goto done;
	}
	code = load_items(&it, &files, spooled, vouch, &stop);
	if (stop)
		goto done;
	if (spooled && it.n_spool == 0 && files.n == 0) {
		if (!quiet)
			printf("nothing spooled\n");
		goto done;
	}
	if (it.n == 0)
		goto done;
	if ((rc = db_open(&db, &dbo, &err)))
		code = rc == ERR_INFRA ? spool_rest(it.v, 0, it.n, &err) : worse(code, cmd_fail(rc, &err));
	else
		code = store_items(db, &it, quiet, code);
done:
	db_free(db);
	for (size_t i = 0; i < it.n; i++)
		rundoc_free(it.v[i].rd);
	free(it.v);
	db_spool_list_free(it.spool, it.n_spool);
	strlist_release(&files);
	return code;
}
