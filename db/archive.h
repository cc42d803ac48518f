/*
 * archive.h: the database side of the git data branch (core/datastore.h):
 * which runs the database already holds, and which of its runs may go on
 * the branch.  cmd/store.c moves runs between the two.
 */
#ifndef PERFGATE_DB_ARCHIVE_H
#define PERFGATE_DB_ARCHIVE_H

#include <stdbool.h>
#include <stddef.h>

#include "../core/datastore.h"
#include "db.h"

/* present[i] = whether run ids[i] is stored.  One query for any n. */
int archive_runs_present(struct db *db, const char *const *ids, size_t n, bool *present,
			 struct err *err);

/*
 * The runs that may be baselines (runs.baseline_eligible, decided when they
 * were stored: docs/security.md), and so may go on the data branch: made on
 * a branch, not for a pull/merge request, not from a fork, not from a dirty
 * tree, not interrupted (docs/gate.md, "The baseline").  Oldest first;
 * *ids (caller frees with archive_ids_free).
 */
int archive_runs_exportable(struct db *db, char ***ids, size_t *n, struct err *err);
void archive_ids_free(char **ids, size_t n);

/*
 * Fill the database from the data branch's tip (fetch first: datastore_fetch):
 * every run file whose run is not stored yet is read, checked and stored with
 * its comparison; then the change points of the series that got runs are
 * brought up to date.  Damaged files and files that are not run files are
 * skipped, each with a line in *warnings naming it; they never stop the
 * import.  ERR_INFRA when the database fails.
 */
struct archive_import_stats {
	size_t on_branch;      /* run files at the tip */
	size_t present;        /* ... whose run the database had */
	size_t imported;
	size_t skipped;        /* damaged or not run files */
};
int archive_import(struct db *db, struct datastore *ds, struct errlist *warnings,
		   struct archive_import_stats *st, struct err *err);

/*
 * Stage every exportable run (archive_runs_exportable) that is not on the
 * branch's tip yet, with its newest comparison, and, when keep_samples > 0,
 * retention (datastore_stage_prune); the caller pushes.
 */
struct archive_export_stats {
	size_t exportable;     /* runs the database may export */
	size_t staged;         /* ... not on the branch yet */
	size_t pruned;         /* runs staged without their samples */
};
int archive_stage_export(struct db *db, struct datastore *ds, size_t keep_samples,
			 struct archive_export_stats *st, struct err *err);

#endif
