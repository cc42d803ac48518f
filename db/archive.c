/*
 * archive.c: queries for the data branch (see archive.h).
 */
#include "archive.h"

#include <stdlib.h>
#include <string.h>

#include "../core/util.h"
#include "baseline.h"
#include "db_internal.h"
#include "history.h"

/* A uuid[] literal; the ids are checked by PostgreSQL's cast. */
static char *uuid_array(const char *const *ids, size_t n)
{
	struct sb sb = SB_INIT;

	sb_putc(&sb, '{');
	for (size_t i = 0; i < n; i++) {
		if (i)
			sb_putc(&sb, ',');
		for (const char *p = ids[i]; *p; p++)
			if ((*p >= '0' && *p <= '9') || (*p >= 'a' && *p <= 'f') || (*p >= 'A' && *p <= 'F') || *p == '-')
				sb_putc(&sb, *p);
	}
	sb_putc(&sb, '}');
	return sb_detach(&sb);
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int archive_runs_present(struct db *db, const char *const *ids, size_t n, bool *present, struct err *err)
{
	char *arr = uuid_array(ids, n);
	const char *params[1] = { arr };
	PGresult *res = NULL;
	char **found = NULL;
	size_t n_found;
	int rc;

	memset(present, 0, n * sizeof(*present));
	rc = db_query(db, "SELECT run_id::text FROM runs WHERE run_id = ANY($1::uuid[])", 1, params, &res, err);
	free(arr);
	if (rc)
		return rc;
	n_found = (size_t)PQntuples(res);
	found = xcalloc(n_found + 1, sizeof(*found));
	for (size_t i = 0; i < n_found; i++)
		found[i] = PQgetvalue(res, (int)i, 0);
	qsort(found, n_found, sizeof(*found), cmp_str);
	for (size_t i = 0; i < n; i++)
		present[i] = bsearch(&ids[i], found, n_found, sizeof(*found), cmp_str) != NULL;
	free(found);
	PQclear(res);
	return 0;
}

int archive_runs_exportable(struct db *db, char ***ids, size_t *n, struct err *err)
{
	static const char sql[] =
		"SELECT run_id::text FROM runs"
		" WHERE baseline_eligible AND branch IS NOT NULL AND coalesce(pr, 0) = 0 AND NOT fork AND NOT dirty"
		" AND NOT partial"
		" ORDER BY started_at, run_id";
	PGresult *res = NULL;
	int rc;

	*ids = NULL;
	*n = 0;
	if ((rc = db_query(db, sql, 0, NULL, &res, err)) != 0)
		return rc;
	*n = (size_t)PQntuples(res);
	*ids = xcalloc(*n + 1, sizeof(**ids));
	for (size_t i = 0; i < *n; i++)
		(*ids)[i] = xstrdup(PQgetvalue(res, (int)i, 0));
	PQclear(res);
	return 0;
}

void archive_ids_free(char **ids, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(ids[i]);
	free(ids);
}

/* The newest imported run of each series group, for the change points. */
struct newest {
	char *key;             /* project, suite, branch, machine */
	struct rundoc *doc;
};

static void keep_newest(struct newest **v, size_t *n, struct rundoc *rd)
{
	char *key = xasprintf("%s\x1f%s\x1f%s\x1f%s", rd->project ? rd->project : "", rd->suite ? rd->suite : "",
			      rd->git.branch ? rd->git.branch : "", rd->fingerprint ? rd->fingerprint : "");

	for (size_t i = 0; i < *n; i++)
		if (strcmp((*v)[i].key, key) == 0) {
			free(key);
			if (strcmp(rd->started_at ? rd->started_at : "", (*v)[i].doc->started_at ? (*v)[i].doc->started_at : "") > 0) {
				rundoc_free((*v)[i].doc);
				(*v)[i].doc = rd;
			} else {
				rundoc_free(rd);
			}
			return;
		}
	*v = xrealloc(*v, (*n + 1) * sizeof(**v));
	(*v)[*n].key = key;
	(*v)[(*n)++].doc = rd;
}

#define IMPORT_BATCH 200 /* runs per transaction */

/* A batch of runs read from the branch, waiting to be stored together. */
struct batch {
	struct rundoc *docs[IMPORT_BATCH];
	cJSON *files[IMPORT_BATCH];      /* for the comparisons */
	size_t n;
};

/* Read one run file into the batch; a damaged one gets a warning instead. */
static bool read_one(struct datastore *ds, const struct datastore_entry *e, struct errlist *warnings,
		     struct batch *b)
{
	cJSON *file = NULL;
	struct rundoc *rd = NULL;
	struct err e2 = ERR_INIT;

	if (datastore_read(ds, e, &file, &e2) < 0 ||
	    rundoc_from_json(&rd, cJSON_GetObjectItemCaseSensitive(file, "run"), &e2) < 0) {
		errlist_add(warnings, "skipped %s: %s", e->path, e2.msg);
		cJSON_Delete(file);
		return false;
	}
	/* The branch holds only runs a database had decided were baselines
	 * (archive_runs_exportable), and only writers of the repository push
	 * to it: their context is trusted as it was there (docs/security.md). */
	rd->context_trusted = true;
	b->docs[b->n] = rd;
	b->files[b->n++] = file;
	return true;
}

/* Store the batch, the comparisons of the runs it stored, and keep each
 * group's newest run for the change points. */
static int flush(struct db *db, struct batch *b, struct newest **newest, size_t *n_newest, size_t *stored,
		 struct err *err)
{
	bool already[IMPORT_BATCH];
	int rc = b->n ? db_runs_insert(db, (const struct rundoc *const *)b->docs, b->n, already, err) : 0;

	for (size_t i = 0; i < b->n; i++) {
		const cJSON *cmp = cJSON_GetObjectItemCaseSensitive(b->files[i], "comparison");

		if (rc == 0 && !already[i] && cJSON_IsObject(cmp))
			rc = db_comparison_store(db, b->docs[i]->run_id, cmp, err);
		if (rc == 0 && !already[i]) {
			(*stored)++;
			keep_newest(newest, n_newest, b->docs[i]);
		} else {
			rundoc_free(b->docs[i]);
		}
		cJSON_Delete(b->files[i]);
	}
	b->n = 0;
	return rc;
}

int archive_import(struct db *db, struct datastore *ds, struct errlist *warnings,
		   struct archive_import_stats *st, struct err *err)
{
	struct datastore_entry *e = NULL, *odd = NULL;
	struct newest *newest = NULL;
	struct batch *b = xcalloc(1, sizeof(*b));
	const char **ids = NULL;
	bool *present = NULL;
	size_t n = 0, n_odd = 0, n_newest = 0;
	int rc;

	memset(st, 0, sizeof(*st));
	if ((rc = datastore_list(ds, &e, &n, &odd, &n_odd, err)) < 0)
		goto done;
	for (size_t i = 0; i < n_odd; i++)
		errlist_add(warnings, "skipped %s: not a run file of perfgate's", odd[i].path);
	st->on_branch = n;
	st->skipped = n_odd;
	ids = xcalloc(n + 1, sizeof(*ids));
	present = xcalloc(n + 1, sizeof(*present));
	for (size_t i = 0; i < n; i++)
		ids[i] = e[i].run_id;
	if (n && (rc = archive_runs_present(db, ids, n, present, err)) < 0)
		goto done;
	/* The branch keeps every run, so a crash during the import loses
	 * nothing that the next import would not store again: commits need not
	 * wait for the disk. */
	if (n && (rc = db_query(db, "SET synchronous_commit TO off", 0, NULL, NULL, err)) < 0)
		goto done;
	for (size_t i = 0; i < n && rc == 0; i++) {
		/* A run on the branch twice (retention replayed by two jobs): the first. */
		if (present[i] || (i > 0 && strcmp(e[i].run_id, e[i - 1].run_id) == 0)) {
			st->present += present[i];
			continue;
		}
		if (!read_one(ds, &e[i], warnings, b))
			st->skipped++;
		if (b->n == IMPORT_BATCH)
			rc = flush(db, b, &newest, &n_newest, &st->imported, err);
	}
	if (rc == 0)
		rc = flush(db, b, &newest, &n_newest, &st->imported, err);
	/* Change points once per series group, from its newest run: the
	 * analysis db_store_insert() runs after every single run, over the
	 * newest HISTORY_TAIL runs, done once for a batch of thousands (with the
	 * parameters each run document carries). */
	for (size_t i = 0; i < n_newest && rc == 0; i++) {
		struct err e2 = ERR_INIT;

		if (history_update_changepoints(db, newest[i].doc, NULL, &e2) < 0)
			errlist_add(warnings, "change points not updated: %s", e2.msg);
	}
done:
	for (size_t i = 0; i < b->n; i++) {
		rundoc_free(b->docs[i]);
		cJSON_Delete(b->files[i]);
	}
	free(b);
	for (size_t i = 0; i < n_newest; i++) {
		free(newest[i].key);
		rundoc_free(newest[i].doc);
	}
	free(newest);
	free(present);
	free(ids);
	datastore_entries_free(e, n);
	datastore_entries_free(odd, n_odd);
	return rc;
}

int archive_stage_export(struct db *db, struct datastore *ds, size_t keep_samples,
			 struct archive_export_stats *st, struct err *err)
{
	struct datastore_entry *e = NULL;
	char **ids = NULL;
	const char **on = NULL; /* run ids on the branch, sorted */
	size_t n = 0, n_ids = 0;
	int rc;

	memset(st, 0, sizeof(*st));
	if ((rc = datastore_list(ds, &e, &n, NULL, NULL, err)) < 0 ||
	    (rc = archive_runs_exportable(db, &ids, &n_ids, err)) < 0)
		goto done;
	on = xcalloc(n + 1, sizeof(*on));
	for (size_t k = 0; k < n; k++)
		on[k] = e[k].run_id;
	qsort(on, n, sizeof(*on), cmp_str);
	st->exportable = n_ids;
	for (size_t i = 0; i < n_ids && rc == 0; i++) {
		struct rundoc *rd = NULL;
		cJSON *run = NULL, *cmp = NULL;
		bool on_branch = false;

		on_branch = bsearch(&ids[i], on, n, sizeof(*on), cmp_str) != NULL;
		if (on_branch)
			continue;
		if ((rc = db_run_load(db, ids[i], &rd, err)) < 0)
			break;
		run = rundoc_to_json(rd);
		if (db_comparison_load(db, ids[i], &cmp, NULL) < 0)
			cmp = NULL;
		rc = datastore_stage_run(ds, run, cmp, err);
		st->staged += rc == 0;
		cJSON_Delete(run);
		cJSON_Delete(cmp);
		rundoc_free(rd);
	}
	if (rc == 0 && keep_samples > 0)
		rc = datastore_stage_prune(ds, keep_samples, &st->pruned, err);
done:
	free(on);
	archive_ids_free(ids, n_ids);
	datastore_entries_free(e, n);
	return rc;
}
