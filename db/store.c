/*
 * store.c (db): the gate's store over the database (see store.h).
 */
#include "store.h"

#include <stdlib.h>
#include <string.h>

#include "../core/util.h"
#include "baseline.h"
#include "history.h"
#include "shard.h"

struct db_store {
	struct db_options opts;
	char *url;          /* opts.url's copy */
	struct db *db;      /* NULL until connected */
	bool tried;         /* connect was called: never try twice */
	int rc;             /* the first attempt's result */
	struct err why;     /* its message when it failed */
};

int db_store_open(struct db_store **out, const struct db_options *opts, struct err *err)
{
	struct db_store *s = xcalloc(1, sizeof(*s));

	(void)err;
	if (opts)
		s->opts = *opts;
	s->url = opts && opts->url ? xstrdup(opts->url) : NULL;
	s->opts.url = s->url;
	*out = s;
	return 0;
}

void db_store_free(struct db_store *s)
{
	if (!s)
		return;
	db_free(s->db);
	free(s->url);
	free(s);
}

int db_store_connect(struct db_store *s, struct db **db, struct err *err)
{
	if (!s->tried) {
		s->tried = true;
		s->rc = db_open(&s->db, &s->opts, &s->why);
	}
	if (db)
		*db = s->db;
	if (s->rc && err)
		*err = s->why;
	return s->rc;
}

/* ---- the baseline source: db/baseline.c's queries, after connecting ---- */

static int src_open(void *arg, struct err *err)
{
	return db_store_connect(arg, NULL, err);
}

/* db/baseline.c's source over the connection, connecting first when needed. */
static int db_source(struct db_store *s, struct baseline_source *src, struct err *err)
{
	struct db *db = NULL;
	int rc = db_store_connect(s, &db, err);

	if (rc == 0)
		db_baseline_source(db, src);
	return rc;
}

static int src_candidates(void *arg, const struct baseline_query *q, struct baseline_cand **out,
			  size_t *n, struct err *err)
{
	struct baseline_source src;
	int rc = db_source(arg, &src, err);

	return rc ? rc : src.candidates(src.arg, q, out, n, err);
}

static int src_load(void *arg, const char *run_id, struct rundoc **out, struct err *err)
{
	struct baseline_source src;
	int rc = db_source(arg, &src, err);

	return rc ? rc : src.load(src.arg, run_id, out, err);
}

static int src_cutoffs(void *arg, const struct baseline_query *q, struct baseline_cutoff **out,
		       size_t *n, struct err *err)
{
	struct baseline_source src;
	int rc = db_source(arg, &src, err);

	return rc ? rc : src.cutoffs(src.arg, q, out, n, err);
}

static int src_spreads(void *arg, const struct baseline_query *q, struct baseline_spread **out,
		       size_t *n, struct err *err)
{
	struct baseline_source src;
	int rc = db_source(arg, &src, err);

	return rc ? rc : src.spreads(src.arg, q, out, n, err);
}

void db_store_baseline_source(struct db_store *s, struct baseline_source *out)
{
	*out = (struct baseline_source){
		.candidates = src_candidates,
		.load = src_load,
		.cutoffs = src_cutoffs,
		.spreads = src_spreads,
		.arg = s,
		.open = src_open,
	};
}

/* ---- the gate store ---- */

int db_store_insert(struct db *db, const struct rundoc *rd, const struct changepoint_params *cp,
		    bool *already, struct err *cp_err, struct err *err)
{
	bool dup = false;
	struct err e = ERR_INIT;
	int rc;

	if (cp_err)
		err_clear(cp_err);
	/* A shard's share of a load test is kept apart from the runs (and
	 * never has change points): db/shard.h. */
	if (shard_ident_of(rd, &(struct shard_ident){ 0 })) {
		rc = db_shard_run_insert(db, rd, &dup, err);
		if (already)
			*already = dup;
		return rc;
	}
	rc = db_run_insert(db, rd, &dup, err);
	if (already)
		*already = dup;
	if (rc || dup)
		return rc;
	if (history_update_changepoints(db, rd, cp, &e) != 0 && cp_err)
		*cp_err = e;
	return 0;
}

static int put_run(void *arg, const struct rundoc *rd, const struct changepoint_params *cp,
		   bool *already, struct err *cp_err, struct err *err)
{
	struct db *db = NULL;
	int rc = db_store_connect(arg, &db, err);

	return rc ? rc : db_store_insert(db, rd, cp, already, cp_err, err);
}

static int put_comparison(void *arg, const char *run_id, const cJSON *comparison, struct err *err)
{
	struct db *db = NULL;
	int rc = db_store_connect(arg, &db, err);

	return rc ? rc : db_comparison_store(db, run_id, comparison, err);
}

static int spool(void *arg, const struct rundoc *rd, char **where, struct err *err)
{
	(void)arg;
	return db_spool_write(rd, where, err);
}

static int keep(void *arg, const struct rundoc *rd, char **where, struct err *err)
{
	(void)arg;
	return db_spool_fallback(rd, where, err);
}

void db_store_gate_store(struct db_store *s, struct gate_store *out)
{
	*out = (struct gate_store){
		.open = src_open,
		.put_run = put_run,
		.put_comparison = put_comparison,
		.spool = spool,
		.keep = keep,
		.arg = s,
	};
}
