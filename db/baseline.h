/*
 * baseline.h (db): the stored side of baseline selection.  Fills a struct
 * baseline_source (core/baseline.h) whose queries read the runs, results and
 * change_points tables through db_query().
 */
#ifndef PERFGATE_DB_BASELINE_H
#define PERFGATE_DB_BASELINE_H

#include "../core/baseline.h"
#include "db.h"

/* A source over `db` (borrowed: it must outlive the source's use). */
void db_baseline_source(struct db *db, struct baseline_source *out);

/*
 * Store a comparison of run `run_id`: one verdicts row per compared metric
 * (details: the row's JSON) and the whole comparison (the JSON of
 * schemas/compare.schema.json) in the comparisons table, replacing what a
 * previous comparison of the same run stored.  One transaction.
 */
int db_comparison_store(struct db *db, const char *run_id, const cJSON *comparison, struct err *err);

/* The newest stored comparison of run_id (caller cJSON_Deletes); ERR_NOTFOUND when none. */
int db_comparison_load(struct db *db, const char *run_id, cJSON **out, struct err *err);

#endif
