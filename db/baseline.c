/*
 * baseline.c (db): the queries behind baseline selection and the storage
 * of comparisons.  Every statement goes through db_query(), parameterised.
 */
#include "baseline.h"

#include <stdlib.h>
#include <string.h>

#include "../core/util.h"
#include "db_internal.h"

/* A PostgreSQL text[] literal of hex commit ids (no quoting needed: [0-9a-f]). */
static char *text_array(const char *const *v, size_t n)
{
	struct sb sb = SB_INIT;

	sb_putc(&sb, '{');
	for (size_t i = 0; i < n; i++) {
		const char *s = v[i];

		if (i)
			sb_putc(&sb, ',');
		sb_putc(&sb, '"');
		for (; *s; s++) {
			if (*s == '"' || *s == '\\')
				sb_putc(&sb, '\\');
			sb_putc(&sb, *s);
		}
		sb_putc(&sb, '"');
	}
	sb_putc(&sb, '}');
	return sb_detach(&sb);
}

static int q_candidates(void *arg, const struct baseline_query *q, struct baseline_cand **out,
			size_t *n, struct err *err)
{
	static const char sql[] =
		"SELECT run_id::text, commit_sha, extract(epoch FROM started_at)::float8 FROM runs"
		" WHERE project IS NOT DISTINCT FROM $1 AND suite = $2"
		" AND fingerprint IS NOT DISTINCT FROM $3"
		" AND ($4::text IS NULL OR branch = $4::text)"
		" AND (NOT $5::bool OR baseline_eligible)"
		" AND ($6::uuid IS NULL OR run_id <> $6::uuid)"
		" AND ($7::timestamptz IS NULL OR started_at < $7::timestamptz)"
		" AND ($8::text[] IS NULL OR commit_sha = ANY($8::text[]))"
		" AND ($9::text IS NULL OR commit_sha LIKE $9::text || '%')"
		" AND NOT partial"
		" ORDER BY started_at DESC LIMIT $10::int";
	char *commits = q->commits ? text_array(q->commits, q->n_commits) : NULL;
	char limit[32];
	const char *params[10];
	PGresult *res = NULL;
	int rc, rows;

	snprintf(limit, sizeof(limit), "%zu", q->limit ? q->limit : 100);
	params[0] = q->project;
	params[1] = q->suite ? q->suite : "";
	params[2] = q->fingerprint;
	params[3] = q->branch;
	params[4] = q->baseline_only ? "true" : "false";
	params[5] = q->exclude_run && *q->exclude_run ? q->exclude_run : NULL;
	params[6] = q->before;
	params[7] = commits;
	params[8] = q->commit_prefix;
	params[9] = limit;
	*out = NULL;
	*n = 0;
	rc = db_query(arg, sql, 10, params, &res, err);
	free(commits);
	if (rc)
		return rc;
	rows = PQntuples(res);
	if (rows > 0) {
		*out = xcalloc((size_t)rows, sizeof(**out));
		for (int i = 0; i < rows; i++) {
			struct baseline_cand *c = &(*out)[i];

			c->run_id = xstrdup(PQgetvalue(res, i, 0));
			c->commit = PQgetisnull(res, i, 1) ? NULL : xstrdup(PQgetvalue(res, i, 1));
			c->started = strtod(PQgetvalue(res, i, 2), NULL);
		}
		*n = (size_t)rows;
	}
	PQclear(res);
	return 0;
}

static int q_load(void *arg, const char *run_id, struct rundoc **out, struct err *err)
{
	return db_run_load(arg, run_id, out, err);
}

static int q_cutoffs(void *arg, const struct baseline_query *q, struct baseline_cutoff **out,
		     size_t *n, struct err *err)
{
	/* The newest change point per benchmark and metric (history engineer's
	 * change_points table); runs that started before it are not baselines. */
	static const char sql[] =
		"SELECT cp.benchmark, cp.metric, extract(epoch FROM max(r.started_at))::float8,"
		" (array_agg(cp.commit_sha ORDER BY r.started_at DESC))[1]"
		" FROM change_points cp JOIN runs r ON r.run_id = cp.run_id"
		" WHERE cp.project IS NOT DISTINCT FROM $1 AND cp.suite = $2"
		" AND cp.fingerprint IS NOT DISTINCT FROM $3 AND cp.branch = $4"
		" GROUP BY cp.benchmark, cp.metric";
	const char *params[4] = { q->project, q->suite ? q->suite : "", q->fingerprint,
				  q->branch ? q->branch : "" };
	PGresult *res = NULL;
	int rc, rows;

	*out = NULL;
	*n = 0;
	rc = db_query(arg, sql, 4, params, &res, err);
	if (rc)
		return rc;
	rows = PQntuples(res);
	if (rows > 0) {
		*out = xcalloc((size_t)rows, sizeof(**out));
		for (int i = 0; i < rows; i++) {
			struct baseline_cutoff *c = &(*out)[i];

			c->bench = xstrdup(PQgetvalue(res, i, 0));
			c->metric = xstrdup(PQgetvalue(res, i, 1));
			c->after = strtod(PQgetvalue(res, i, 2), NULL);
			c->commit = PQgetisnull(res, i, 3) ? NULL : xstrdup(PQgetvalue(res, i, 3));
		}
		*n = (size_t)rows;
	}
	PQclear(res);
	return 0;
}

static int q_spreads(void *arg, const struct baseline_query *q, struct baseline_spread **out, size_t *n,
		     struct err *err)
{
	/* Consecutive baseline runs of every series among the machine's newest
	 * 5,000 points of the last 180 days, in the series' order: the squared
	 * difference of their log medians, capped, and every difference
	 * (core/baseline.h).  Only consecutive runs of one branch under one
	 * configuration make a change (a branch's run of a change under test
	 * between main's runs, or a change of configuration, is not a change
	 * of the machine), and only the newest configuration counts (an older
	 * probe's changes are not what the benchmark shows now): one window,
	 * one sort.  The bound keeps the query at about 30 ms however large
	 * the history (800,000 points unbounded: 3.3 s; docs/database.md). */
	static const char sql[] =
		"SELECT project, suite, benchmark, metric, sum(least(d * d, $2::float8)), count(*),"
		" array_agg(abs(d))"
		" FROM (SELECT project, suite, benchmark, metric,"
		" CASE WHEN config_hash IS NOT DISTINCT FROM lag(config_hash) OVER w"
		" THEN ln(median) - lag(ln(median)) OVER w END AS d,"
		" config_hash IS NOT DISTINCT FROM last_value(config_hash)"
		" OVER (w ROWS BETWEEN UNBOUNDED PRECEDING AND UNBOUNDED FOLLOWING) AS current"
		" FROM (SELECT * FROM history_points WHERE fingerprint = $1 AND baseline AND median > 0"
		" AND started_at > now() - interval '180 days' ORDER BY started_at DESC LIMIT 5000) h"
		" WINDOW w AS (PARTITION BY project, suite, benchmark, metric, branch ORDER BY t, started_at, run_id)) s"
		" WHERE d IS NOT NULL AND current GROUP BY project, suite, benchmark, metric";
	char cap[32];
	const char *params[2] = { q->fingerprint, cap };
	PGresult *res = NULL;
	int rc, rows;

	snprintf(cap, sizeof(cap), "%.17g", BASELINE_SPREAD_CAP * BASELINE_SPREAD_CAP);
	*out = NULL;
	*n = 0;
	if (!q->fingerprint) /* no machine, no record of it */
		return 0;
	rc = db_query(arg, sql, 2, params, &res, err);
	if (rc)
		return rc;
	rows = PQntuples(res);
	if (rows > 0) {
		*out = xcalloc((size_t)rows, sizeof(**out));
		for (int i = 0; i < rows; i++) {
			struct baseline_spread *s = &(*out)[i];

			s->project = xstrdup(PQgetvalue(res, i, 0));
			s->suite = xstrdup(PQgetvalue(res, i, 1));
			s->bench = xstrdup(PQgetvalue(res, i, 2));
			s->metric = xstrdup(PQgetvalue(res, i, 3));
			s->sum_sq = strtod(PQgetvalue(res, i, 4), NULL);
			s->n = (size_t)strtoul(PQgetvalue(res, i, 5), NULL, 10);
			s->changes = db_float8_array(PQgetvalue(res, i, 6), s->n);
		}
		*n = (size_t)rows;
	}
	PQclear(res);
	return 0;
}

void db_baseline_source(struct db *db, struct baseline_source *out)
{
	memset(out, 0, sizeof(*out));
	out->candidates = q_candidates;
	out->load = q_load;
	out->cutoffs = q_cutoffs;
	out->spreads = q_spreads;
	out->arg = db;
}

static const char *jstr(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static char *jnum(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsNumber(v) ? xasprintf("%.17g", v->valuedouble) : NULL;
}

/* One verdicts row from one row of the comparison's JSON. */
static int insert_verdict(struct db *db, const char *run_id, const cJSON *row, struct err *err)
{
	static const char sql[] =
		"INSERT INTO verdicts (run_id, benchmark, metric, verdict, baseline_runs, ratio, ratio_low,"
		" ratio_high, p_value, p_adjusted, details)"
		" VALUES ($1::uuid, $2, $3, $4, $5::uuid[], $6::float8, $7::float8, $8::float8, $9::float8,"
		" $10::float8, $11::jsonb)";
	static const char *const nums[] = { "ratio", "ratio_low", "ratio_high", "p", "p_adjusted" };
	const cJSON *base = cJSON_GetObjectItemCaseSensitive(row, "baseline");
	const cJSON *ids = cJSON_GetObjectItemCaseSensitive(base, "run_ids"), *id;
	const char **v = NULL;
	size_t nv = 0, alloc = 0;
	char *arr, *details, *num[5], *ab = NULL;
	const char *p[11];
	int rc;

	cJSON_ArrayForEach(id, ids) {
		if (!cJSON_IsString(id))
			continue;
		XGROW(v, alloc, nv + 1);
		v[nv++] = id->valuestring;
	}
	arr = text_array(v, nv);
	details = cJSON_PrintUnformatted(row);
	/* An A/B row is stored under "metric vs reference" so that history
	 * queries of one metric never mistake it for a history verdict. */
	if (jstr(row, "against"))
		ab = xasprintf("%s vs %s", jstr(row, "metric"), jstr(row, "against"));
	p[0] = run_id;
	p[1] = jstr(row, "benchmark");
	p[2] = ab ? ab : jstr(row, "metric");
	p[3] = jstr(row, "verdict");
	p[4] = arr;
	for (int i = 0; i < 5; i++)
		p[5 + i] = num[i] = jnum(row, nums[i]);
	p[10] = details;
	rc = db_query(db, sql, 11, p, NULL, err);
	for (int i = 0; i < 5; i++)
		free(num[i]);
	free(ab);
	free(details);
	free(arr);
	free(v);
	return rc;
}

int db_comparison_store(struct db *db, const char *run_id, const cJSON *comparison, struct err *err)
{
	static const char ins_c[] =
		"INSERT INTO comparisons (run_id, passed, result) VALUES ($1::uuid, $2::bool, $3::jsonb)";
	const cJSON *rows = cJSON_GetObjectItemCaseSensitive(comparison, "rows"), *row;
	char *text = cJSON_PrintUnformatted(comparison);
	const char *p3[3] = { run_id, cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(comparison, "passed")) ? "true" : "false",
			      text };
	int rc;

	rc = db_begin(db, err);
	if (rc)
		goto done;
	/* Append-only: comparing a run again adds a newer comparison, and
	 * readers take the newest (CI's writer role may not DELETE). */
	rc = db_query(db, ins_c, 3, p3, NULL, err);
	cJSON_ArrayForEach(row, rows) {
		if (rc)
			break;
		rc = insert_verdict(db, run_id, row, err);
	}
	if (!rc)
		rc = db_commit(db, err);
	else
		db_rollback(db);
done:
	free(text);
	return rc;
}

int db_comparison_load(struct db *db, const char *run_id, cJSON **out, struct err *err)
{
	static const char sql[] =
		"SELECT result::text FROM comparisons WHERE run_id = $1::uuid ORDER BY created_at DESC, id DESC LIMIT 1";
	const char *p[1] = { NULL };
	PGresult *res = NULL;
	char *full = NULL;
	int rc;

	*out = NULL;
	if ((rc = db_run_resolve(db, run_id, &full, err)) != 0)
		return rc;
	p[0] = full;
	if ((rc = db_query(db, sql, 1, p, &res, err)) != 0)
		goto done;
	if (PQntuples(res) == 0) {
		rc = err_set(err, ERR_NOTFOUND, "no stored comparison of run '%s' (run 'perfgate compare %s' first)",
			     full, full);
		goto done;
	}
	*out = cJSON_Parse(PQgetvalue(res, 0, 0));
	if (!*out)
		rc = err_set(err, ERR_FAIL, "stored comparison of run '%s' is not valid JSON", full);
done:
	PQclear(res);
	free(full);
	return rc;
}
