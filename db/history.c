#include "history.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../core/baseline.h"
#include "../core/util.h"
#include "db_internal.h"

/* The series order everywhere: commit time, then start time (DESIGN 5). */
#define ORDER_NEWEST "COALESCE(u.commit_time, u.started_at) DESC, u.started_at DESC, u.run_id DESC"
#define UTC_TEXT(col) "to_char((" col ") AT TIME ZONE 'UTC', 'YYYY-MM-DD\"T\"HH24:MI:SS\"Z\"')"

static char *dup_or_null(const PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? NULL : xstrdup(PQgetvalue(res, row, col));
}

static double num_or_nan(const PGresult *res, int row, int col)
{
	return PQgetisnull(res, row, col) ? NAN : strtod(PQgetvalue(res, row, col), NULL);
}

static void row_release(struct history_row *r)
{
	free(r->run_id);
	free(r->commit);
	free(r->subject);
	free(r->time);
	free(r->branch);
	free(r->fingerprint);
	free(r->project);
	free(r->suite);
	free(r->verdict);
	free(r->not_baseline);
}

void history_free(struct history *h)
{
	if (!h)
		return;
	for (size_t i = 0; i < h->n; i++)
		row_release(&h->rows[i]);
	free(h->rows);
	free(h->unit);
	free(h->direction);
	free(h);
}

/* Newest first so that LIMIT keeps the newest runs (reversed below): one
 * backward scan of history_points_order_idx, no join, no sort. */
static const char load_sql[] =
	"SELECT h.run_id, h.commit_sha, h.subject, extract(epoch FROM h.t)::float8, h.branch,"
	" h.fingerprint, h.project, h.suite, h.median, h.ci_low, h.ci_high, h.n, h.unit,"
	" h.direction, h.verdict,"
	" coalesce((SELECT u.dirty FROM runs u WHERE u.run_id = h.run_id), false)," /* by primary key, per row kept */
	" (SELECT u.not_baseline FROM runs u WHERE u.run_id = h.run_id)"
	" FROM history_points h"
	" WHERE h.benchmark = $1 AND h.metric = $2"
	"   AND ($3::text IS NULL OR h.project = $3) AND ($4::text IS NULL OR h.suite = $4)"
	"   AND ($5::text IS NULL OR h.branch = $5)"
	"   AND ($6::text IS NULL OR starts_with(h.fingerprint, $6))"
	"   AND ($7::timestamptz IS NULL OR h.t >= $7::timestamptz)"
	" ORDER BY h.benchmark DESC, h.metric DESC, h.t DESC, h.started_at DESC, h.run_id DESC"
	" LIMIT $8::bigint";

/* The stored change points of the same rows (few), matched by run id. */
static const char cps_sql[] =
	"SELECT run_id::text, mean_before, mean_after, p_value FROM change_points"
	" WHERE benchmark = $1 AND metric = $2"
	"   AND ($3::text IS NULL OR project = $3) AND ($4::text IS NULL OR suite = $4)"
	"   AND ($5::text IS NULL OR branch = $5)"
	"   AND ($6::text IS NULL OR starts_with(fingerprint, $6))"
	" ORDER BY run_id::text";

struct cp_lookup {
	const PGresult *res;
	int row;
};

static void format_epoch(double epoch, char out[32])
{
	time_t t = (time_t)floor(epoch);
	struct tm tm;

	gmtime_r(&t, &tm);
	strftime(out, 32, "%Y-%m-%dT%H:%M:%SZ", &tm);
}

static int cmp_cp_row(const void *key, const void *elem)
{
	const PGresult *res = ((const struct cp_lookup *)elem)->res;
	return strcmp(key, PQgetvalue(res, ((const struct cp_lookup *)elem)->row, 0));
}

/* The parameters of load_sql for q (limit is the caller's buffer). */
static void load_params(const struct history_query *q, char limit[32], const char *params[8])
{
	params[0] = q->benchmark;
	params[1] = q->metric;
	params[2] = q->project;
	params[3] = q->suite;
	params[4] = q->branch;
	params[5] = q->fingerprint;
	params[6] = q->since;
	params[7] = NULL;
	if (q->limit > 0) {
		snprintf(limit, 32, "%ld", q->limit);
		params[7] = limit;
	}
}

int history_explain(struct db *db, const struct history_query *q, bool analyze, char **plan,
		    struct err *err)
{
	char limit[32], *sql;
	const char *params[8];
	PGresult *res = NULL;
	struct sb out = SB_INIT;
	int rc;

	*plan = NULL;
	load_params(q, limit, params);
	sql = xasprintf("EXPLAIN %s%s", analyze ? "(ANALYZE, BUFFERS) " : "", load_sql);
	rc = db_query(db, sql, 8, params, &res, err);
	free(sql);
	if (rc < 0)
		return rc;
	for (int i = 0; i < PQntuples(res); i++)
		sb_printf(&out, "%s\n", PQgetvalue(res, i, 0));
	PQclear(res);
	*plan = sb_detach(&out);
	return 0;
}

int history_load(struct db *db, const struct history_query *q, struct history **out,
		 struct err *err)
{
	char limit[32];
	const char *params[8];
	PGresult *res = NULL, *cres = NULL;
	struct cp_lookup *cps = NULL;
	struct history *h;
	int rc, rows, ncp;

	*out = NULL;
	load_params(q, limit, params);
	if ((rc = db_query(db, load_sql, 8, params, &res, err)) < 0) {
		if (rc == ERR_INPUT && q->since)
			err_prefix(err, "--since '%s'", q->since);
		return rc;
	}
	if ((rc = db_query(db, cps_sql, 6, params, &cres, err)) < 0) {
		PQclear(res);
		return rc;
	}
	ncp = PQntuples(cres);
	if (ncp > 0) {
		cps = xcalloc((size_t)ncp, sizeof(*cps));
		for (int i = 0; i < ncp; i++)
			cps[i] = (struct cp_lookup){ cres, i };
	}
	rows = PQntuples(res);
	h = xcalloc(1, sizeof(*h));
	if (rows > 0) {
		h->rows = xcalloc((size_t)rows, sizeof(*h->rows));
		h->unit = xstrdup(PQgetvalue(res, 0, 12));
		h->direction = xstrdup(PQgetvalue(res, 0, 13));
	}
	for (int i = 0; i < rows; i++) {
		struct history_row *r = &h->rows[rows - 1 - i];
		char when[32];
		const struct cp_lookup *cp;

		r->run_id = xstrdup(PQgetvalue(res, i, 0));
		r->commit = dup_or_null(res, i, 1);
		r->subject = dup_or_null(res, i, 2);
		format_epoch(strtod(PQgetvalue(res, i, 3), NULL), when);
		r->time = xstrdup(when);
		r->branch = dup_or_null(res, i, 4);
		r->fingerprint = dup_or_null(res, i, 5);
		r->project = xstrdup(PQgetvalue(res, i, 6));
		r->suite = xstrdup(PQgetvalue(res, i, 7));
		r->median = num_or_nan(res, i, 8);
		r->ci_low = num_or_nan(res, i, 9);
		r->ci_high = num_or_nan(res, i, 10);
		r->n = strtol(PQgetvalue(res, i, 11), NULL, 10);
		r->verdict = dup_or_null(res, i, 14);
		r->dirty = PQgetvalue(res, i, 15)[0] == 't';
		r->not_baseline = dup_or_null(res, i, 16);
		r->cp_magnitude = r->cp_p = NAN;
		cp = ncp ? bsearch(r->run_id, cps, (size_t)ncp, sizeof(*cps), cmp_cp_row) : NULL;
		if (cp) {
			double before = num_or_nan(cres, cp->row, 1), after = num_or_nan(cres, cp->row, 2);
			r->changepoint = true;
			r->cp_magnitude = before != 0 ? after / before - 1 : NAN;
			r->cp_p = num_or_nan(cres, cp->row, 3);
		}
	}
	h->n = (size_t)rows;
	free(cps);
	PQclear(cres);
	PQclear(res);
	*out = h;
	return 0;
}

void history_series_free(struct history_series *s, size_t n)
{
	for (size_t i = 0; s && i < n; i++) {
		free(s[i].project);
		free(s[i].suite);
		free(s[i].benchmark);
		free(s[i].metric);
		free(s[i].unit);
		free(s[i].last_time);
		free(s[i].last_started_at);
	}
	free(s);
}

int history_list(struct db *db, const char *project, const char *suite,
		 struct history_series **out, size_t *n, struct err *err)
{
	/* Counts by hashing every point once; the newest point of each series
	 * by one probe of history_points_order_idx. */
	static const char sql[] =
		"SELECT g.project, g.suite, g.benchmark, g.metric, l.unit, g.runs, l.median,"
		" extract(epoch FROM l.t)::float8, extract(epoch FROM l.started_at)::float8, l.commit_sha IS NOT NULL"
		" FROM (SELECT project, suite, benchmark, metric, count(*) AS runs FROM history_points"
		"       WHERE ($1::text IS NULL OR project = $1) AND ($2::text IS NULL OR suite = $2)"
		"       GROUP BY 1, 2, 3, 4) g"
		" CROSS JOIN LATERAL (SELECT h.unit, h.median, h.t, h.started_at, h.commit_sha FROM history_points h"
		"       WHERE h.benchmark = g.benchmark AND h.metric = g.metric"
		"         AND h.project = g.project AND h.suite = g.suite"
		"       ORDER BY h.benchmark DESC, h.metric DESC, h.t DESC, h.started_at DESC, h.run_id DESC"
		"       LIMIT 1) l"
		" ORDER BY 1, 2, 3, 4";
	const char *params[2] = { project, suite };
	PGresult *res = NULL;
	int rc, rows;

	*out = NULL;
	*n = 0;
	if ((rc = db_query(db, sql, 2, params, &res, err)) < 0)
		return rc;
	rows = PQntuples(res);
	if (rows > 0)
		*out = xcalloc((size_t)rows, sizeof(**out));
	for (int i = 0; i < rows; i++) {
		struct history_series *s = &(*out)[i];
		s->project = xstrdup(PQgetvalue(res, i, 0));
		s->suite = xstrdup(PQgetvalue(res, i, 1));
		s->benchmark = xstrdup(PQgetvalue(res, i, 2));
		s->metric = xstrdup(PQgetvalue(res, i, 3));
		s->unit = xstrdup(PQgetvalue(res, i, 4));
		s->runs = strtoll(PQgetvalue(res, i, 5), NULL, 10);
		s->last_median = num_or_nan(res, i, 6);
		{
			char when[32];
			format_epoch(strtod(PQgetvalue(res, i, 7), NULL), when);
			s->last_time = xstrdup(when);
			format_epoch(strtod(PQgetvalue(res, i, 8), NULL), when);
			s->last_started_at = xstrdup(when);
		}
		s->last_in_git = PQgetvalue(res, i, 9)[0] == 't';
	}
	*n = (size_t)rows;
	PQclear(res);
	return 0;
}

static int names(struct db *db, const char *sql, int nparams, const char *const *params,
		 char ***out, size_t *n, struct err *err)
{
	PGresult *res = NULL;
	int rc, rows;

	*out = NULL;
	*n = 0;
	if ((rc = db_query(db, sql, nparams, params, &res, err)) < 0)
		return rc;
	rows = PQntuples(res);
	if (rows > 0)
		*out = xcalloc((size_t)rows, sizeof(**out));
	for (int i = 0; i < rows; i++)
		(*out)[i] = xstrdup(PQgetvalue(res, i, 0));
	*n = (size_t)rows;
	PQclear(res);
	return 0;
}

/* Distinct values by skipping through history_points_order_idx (a loose
 * index scan): a few probes per name instead of reading every row. */
int history_metrics(struct db *db, const char *benchmark, char ***out, size_t *n, struct err *err)
{
	static const char sql[] =
		"WITH RECURSIVE m(metric) AS ("
		" (SELECT metric FROM history_points WHERE benchmark = $1 ORDER BY benchmark, metric LIMIT 1)"
		" UNION ALL"
		" SELECT (SELECT h.metric FROM history_points h WHERE h.benchmark = $1 AND h.metric > m.metric"
		"         ORDER BY h.benchmark, h.metric LIMIT 1) FROM m WHERE m.metric IS NOT NULL)"
		" SELECT metric FROM m WHERE metric IS NOT NULL";
	const char *params[1] = { benchmark };
	return names(db, sql, 1, params, out, n, err);
}

int history_benchmarks(struct db *db, char ***out, size_t *n, struct err *err)
{
	static const char sql[] =
		"WITH RECURSIVE b(benchmark) AS ("
		" (SELECT benchmark FROM history_points ORDER BY benchmark LIMIT 1)"
		" UNION ALL"
		" SELECT (SELECT h.benchmark FROM history_points h WHERE h.benchmark > b.benchmark"
		"         ORDER BY h.benchmark LIMIT 1) FROM b WHERE b.benchmark IS NOT NULL)"
		" SELECT benchmark FROM b WHERE benchmark IS NOT NULL";
	return names(db, sql, 0, NULL, out, n, err);
}

void history_names_free(char **v, size_t n)
{
	for (size_t i = 0; v && i < n; i++)
		free(v[i]);
	free(v);
}

static bool in_list(char **v, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(v[i], s) == 0)
			return true;
	return false;
}

int history_resolve(struct db *db, const char *spec, char **bench, char **metric, struct err *err)
{
	char **benches = NULL, **metrics = NULL;
	size_t nb = 0, nm = 0;
	char *b = NULL, *m = NULL;
	int rc;

	*bench = *metric = NULL;
	/* Fast path, one probe: "BENCHMARK/METRIC" exactly as stored. */
	if (strchr(spec, '/')) {
		const char *slash = strrchr(spec, '/');
		char *fb = xstrndup(spec, (size_t)(slash - spec));
		const char *params[2] = { fb, slash + 1 };
		PGresult *res = NULL;

		rc = db_query(db, "SELECT 1 FROM history_points WHERE benchmark = $1 AND metric = $2 LIMIT 1",
			      2, params, &res, err);
		if (rc == 0 && PQntuples(res) > 0) {
			*bench = fb;
			*metric = xstrdup(slash + 1);
			PQclear(res);
			return 0;
		}
		PQclear(res);
		free(fb);
		if (rc < 0)
			return rc;
	}
	if ((rc = history_benchmarks(db, &benches, &nb, err)) < 0)
		return rc;
	if (in_list(benches, nb, spec)) {
		b = xstrdup(spec);
	} else {
		const char *slash = strrchr(spec, '/');
		if (slash)
			b = xstrndup(spec, (size_t)(slash - spec));
		if (!b || !in_list(benches, nb, b)) {
			const char *near = closest_match(b ? b : spec, (const char *const *)benches, nb);
			if (nb == 0)
				rc = err_set(err, ERR_INPUT, "no benchmark '%s' in the database: it holds no runs yet",
					     b ? b : spec);
			else if (near)
				rc = err_set(err, ERR_INPUT, "no benchmark '%s' in the database (did you mean '%s'?)",
					     b ? b : spec, near);
			else
				rc = err_set(err, ERR_INPUT, "no benchmark '%s' in the database ('perfgate history --list' shows what there is)",
					     b ? b : spec);
			goto done;
		}
		m = xstrdup(slash + 1);
	}
	if ((rc = history_metrics(db, b, &metrics, &nm, err)) < 0)
		goto done;
	if (m && !in_list(metrics, nm, m)) {
		const char *near = closest_match(m, (const char *const *)metrics, nm);
		struct sb list = SB_INIT;

		for (size_t i = 0; i < nm; i++)
			sb_printf(&list, "%s%s", i ? ", " : "", metrics[i]);
		if (near)
			rc = err_set(err, ERR_INPUT, "benchmark '%s' has no metric '%s' (did you mean '%s'?)",
				     b, m, near);
		else
			rc = err_set(err, ERR_INPUT, "benchmark '%s' has no metric '%s' (it has %s)", b, m,
				     sb_str(&list));
		sb_release(&list);
		goto done;
	}
	if (!m) {
		if (in_list(metrics, nm, "wall")) {
			m = xstrdup("wall");
		} else if (nm == 1) {
			m = xstrdup(metrics[0]);
		} else {
			struct sb list = SB_INIT;
			for (size_t i = 0; i < nm; i++)
				sb_printf(&list, "%s%s", i ? ", " : "", metrics[i]);
			rc = err_set(err, ERR_INPUT, "benchmark '%s' has several metrics (%s): name one as '%s/METRIC'",
				     b, sb_str(&list), b);
			sb_release(&list);
			goto done;
		}
	}
	*bench = b;
	*metric = m;
	b = m = NULL;
done:
	free(b);
	free(m);
	history_names_free(benches, nb);
	history_names_free(metrics, nm);
	return rc;
}

int history_last_changepoint(struct db *db, const char *project, const char *suite,
			     const char *benchmark, const char *metric, const char *fingerprint,
			     const char *branch, char **run_id_out, char **started_at_out,
			     struct err *err)
{
	static const char sql[] =
		"SELECT cp.run_id, " UTC_TEXT("u.started_at")
		" FROM change_points cp JOIN runs u ON u.run_id = cp.run_id"
		" WHERE cp.project = $1 AND cp.suite = $2 AND cp.benchmark = $3 AND cp.metric = $4"
		"   AND cp.fingerprint IS NOT DISTINCT FROM $5 AND cp.branch = $6"
		" ORDER BY " ORDER_NEWEST " LIMIT 1";
	const char *params[6] = { project, suite, benchmark, metric, fingerprint, branch };
	PGresult *res = NULL;
	int rc;

	*run_id_out = NULL;
	if (started_at_out)
		*started_at_out = NULL;
	if ((rc = db_query(db, sql, 6, params, &res, err)) < 0)
		return rc;
	if (PQntuples(res) > 0) {
		*run_id_out = xstrdup(PQgetvalue(res, 0, 0));
		if (started_at_out)
			*started_at_out = xstrdup(PQgetvalue(res, 0, 1));
	}
	PQclear(res);
	return 0;
}

/* One series, as the change point analysis sees it. */
struct series_key {
	const char *project, *suite, *benchmark, *metric, *fingerprint, *branch;
};

/*
 * Where incremental analysis starts: the second newest stored change point.
 * The newest one is analysed again with every new run, so that a change
 * first seen with a handful of runs after it is confirmed, moved or dropped
 * as the evidence grows; the ones before it stay as they were stored.
 */
static int boundary_changepoint(struct db *db, const struct series_key *k, char **run_id,
				struct err *err)
{
	static const char sql[] =
		"SELECT cp.run_id FROM change_points cp JOIN runs u ON u.run_id = cp.run_id"
		" WHERE cp.project = $1 AND cp.suite = $2 AND cp.benchmark = $3 AND cp.metric = $4"
		"   AND cp.fingerprint IS NOT DISTINCT FROM $5 AND cp.branch = $6"
		" ORDER BY " ORDER_NEWEST " LIMIT 1 OFFSET 1";
	const char *params[6] = { k->project, k->suite, k->benchmark, k->metric, k->fingerprint,
				  k->branch };
	PGresult *res = NULL;
	int rc;

	*run_id = NULL;
	if ((rc = db_query(db, sql, 6, params, &res, err)) < 0)
		return rc;
	if (PQntuples(res) > 0)
		*run_id = xstrdup(PQgetvalue(res, 0, 0));
	PQclear(res);
	return 0;
}

static void fmt_num(char buf[40], double v, const char **param)
{
	if (isfinite(v)) {
		snprintf(buf, 40, "%.17g", v);
		*param = buf;
	} else {
		*param = NULL;
	}
}

/*
 * Analyse the series' newest `tail` runs (0: all), starting no earlier than
 * its newest stored change point, and replace the stored change points
 * inside the analysed stretch.  Runs in one transaction under an advisory
 * lock on the series, so that concurrent pushes do not interleave.
 */
/*
 * Replace the change points stored for the analysed runs (rows start.. of
 * the series in res, which is newest first) by cps.  The first analysed
 * run is never a change point of this analysis (nothing before it), and
 * when it is the stored boundary it must stay.
 */
static int replace_changepoints(struct db *db, const struct series_key *k, PGresult *res, size_t start,
				const struct changepoint *cps, size_t n_cps, struct err *err)
{
	/* Through a SECURITY DEFINER function (migration 0004): CI's writer role
	 * has no DELETE privilege, yet a push must be able to redo this stretch. */
	static const char delete_sql[] =
		"SELECT perfgate_changepoints_clear($1, $2, $3, $4, $5, $6, $7::uuid[])";
	static const char insert_sql[] =
		"INSERT INTO change_points (project, suite, benchmark, metric, fingerprint, branch,"
		" run_id, commit_sha, mean_before, mean_after, p_value)"
		" VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11)"
		" ON CONFLICT DO NOTHING";
	size_t n = (size_t)PQntuples(res);
	const char *params[11];
	struct sb ids = SB_INIT;
	int rc;

	sb_putc(&ids, '{');
	for (size_t i = start + 1; i < n; i++)
		sb_printf(&ids, "%s%s", sb_str(&ids)[1] ? "," : "", PQgetvalue(res, (int)(n - 1 - i), 0));
	sb_putc(&ids, '}');
	params[0] = k->project;
	params[1] = k->suite;
	params[2] = k->benchmark;
	params[3] = k->metric;
	params[4] = k->fingerprint;
	params[5] = k->branch;
	params[6] = sb_str(&ids);
	rc = db_query(db, delete_sql, 7, params, NULL, err);
	for (size_t c = 0; c < n_cps && rc == 0; c++) {
		size_t idx = start + cps[c].index;
		int row = (int)(n - 1 - idx);
		char b1[40], b2[40], b3[40];

		params[6] = PQgetvalue(res, row, 0);
		params[7] = PQgetisnull(res, row, 2) ? NULL : PQgetvalue(res, row, 2);
		fmt_num(b1, cps[c].mean_before, &params[8]);
		fmt_num(b2, cps[c].mean_after, &params[9]);
		fmt_num(b3, cps[c].p, &params[10]);
		rc = db_query(db, insert_sql, 11, params, NULL, err);
	}
	sb_release(&ids);
	return rc;
}

static int analyse(struct db *db, const struct series_key *k, const struct changepoint_params *p,
		   long tail, size_t *found, struct err *err)
{
	static const char series_sql[] =
		"SELECT h.run_id, h.median, h.commit_sha FROM history_points h"
		" WHERE h.benchmark = $1 AND h.metric = $2 AND h.project = $3 AND h.suite = $4"
		"   AND h.branch = $5 AND h.fingerprint IS NOT DISTINCT FROM $6"
		"   AND h.baseline AND h.median IS NOT NULL"
		" ORDER BY h.benchmark DESC, h.metric DESC, h.t DESC, h.started_at DESC, h.run_id DESC"
		" LIMIT $7::bigint";
	char limit[32], *lock_key = NULL, *last_cp = NULL;
	const char *params[11];
	PGresult *res = NULL;
	struct changepoint *cps = NULL;
	size_t n_cps = 0, start = 0, n = 0;
	double *x = NULL;
	int rc, rows;

	if (found)
		*found = 0;
	if ((rc = db_begin(db, err)) < 0)
		return rc;
	lock_key = xasprintf("perfgate changepoints %s\x1f%s\x1f%s\x1f%s\x1f%s\x1f%s", k->project,
			     k->suite, k->benchmark, k->metric, k->fingerprint ? k->fingerprint : "",
			     k->branch);
	params[0] = lock_key;
	if ((rc = db_query(db, "SELECT pg_advisory_xact_lock(hashtext($1))", 1, params, NULL, err)) < 0)
		goto done;
	if (tail > 0 && (rc = boundary_changepoint(db, k, &last_cp, err)) < 0)
		goto done;

	params[0] = k->benchmark;
	params[1] = k->metric;
	params[2] = k->project;
	params[3] = k->suite;
	params[4] = k->branch;
	params[5] = k->fingerprint;
	params[6] = NULL;
	if (tail > 0) {
		snprintf(limit, sizeof(limit), "%ld", tail);
		params[6] = limit;
	}
	if ((rc = db_query(db, series_sql, 7, params, &res, err)) < 0)
		goto done;
	rows = PQntuples(res);
	n = (size_t)rows;
	x = xmalloc((n ? n : 1) * sizeof(*x));
	/* Oldest first; row i of the result is point n-1-i. */
	for (int i = 0; i < rows; i++) {
		x[n - 1 - (size_t)i] = strtod(PQgetvalue(res, i, 1), NULL);
		/* Incremental: the second newest stored change point is a fixed
		 * boundary; the analysis starts there (tail mode only). */
		if (tail > 0 && last_cp && start == 0 && strcmp(PQgetvalue(res, i, 0), last_cp) == 0)
			start = n - 1 - (size_t)i;
	}
	if ((rc = changepoint_detect(x + start, n - start, p, &cps, &n_cps, err)) < 0)
		goto done;

	if ((rc = replace_changepoints(db, k, res, start, cps, n_cps, err)) < 0)
		goto done;
	rc = db_commit(db, err);
	if (rc == 0 && found)
		*found = n_cps;
done:
	if (rc < 0)
		db_rollback(db);
	PQclear(res);
	free(cps);
	free(x);
	free(last_cp);
	free(lock_key);
	return rc;
}

/* The suite's settings as the run document carries them (top-level
 * "compare" and "changepoints" members), over the defaults. */
static int params_from_rundoc(const struct rundoc *rd, struct changepoint_params *p,
			      struct err *err)
{
	const cJSON *cmp = rd->extra ? cJSON_GetObjectItemCaseSensitive(rd->extra, "compare") : NULL;
	const cJSON *cpo = rd->extra ? cJSON_GetObjectItemCaseSensitive(rd->extra, "changepoints") : NULL;
	struct errlist problems = ERRLIST_INIT;
	int rc = 0;

	changepoint_params_from_suite(cmp, cpo, p, &problems);
	if (problems.n)
		rc = errlist_to_err(&problems, err, ERR_INPUT);
	errlist_release(&problems);
	return rc;
}

static int key_cmp(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

/*
 * The series of the run's (project, suite, branch, machine) that can have
 * change points: with enough baseline points to split (2 * min_size), or
 * with change points stored already (to be cleared or moved).  Any other
 * series would be analysed to find nothing, in six round trips: a run of
 * 100,000 benchmarks took minutes so.  *keys: "benchmark\x1fmetric", sorted.
 */
static int series_worth_analysing(struct db *db, const struct rundoc *rd, const struct changepoint_params *p,
				  char ***keys, size_t *n, struct err *err)
{
	static const char sql[] =
		"SELECT benchmark || chr(31) || metric FROM history_points"
		" WHERE project = $1 AND suite = $2 AND branch = $3 AND fingerprint IS NOT DISTINCT FROM $4"
		"   AND baseline AND median IS NOT NULL"
		" GROUP BY benchmark, metric HAVING count(*) >= $5::bigint"
		" UNION SELECT benchmark || chr(31) || metric FROM change_points"
		" WHERE project = $1 AND suite = $2 AND branch = $3 AND fingerprint IS NOT DISTINCT FROM $4";
	char min_points[32];
	const char *params[5] = { rd->project, rd->suite, rd->git.branch, rd->fingerprint, min_points };
	PGresult *res = NULL;
	int rc, rows;

	*keys = NULL;
	*n = 0;
	snprintf(min_points, sizeof(min_points), "%zu", 2 * p->min_size);
	if ((rc = db_query(db, sql, 5, params, &res, err)) < 0)
		return rc;
	rows = PQntuples(res);
	*keys = xcalloc((size_t)rows + 1, sizeof(**keys));
	for (int i = 0; i < rows; i++)
		(*keys)[(*n)++] = xstrdup(PQgetvalue(res, i, 0));
	PQclear(res);
	qsort(*keys, *n, sizeof(**keys), key_cmp);
	return 0;
}

int history_update_changepoints(struct db *db, const struct rundoc *rd,
				     const struct changepoint_params *params, struct err *err)
{
	struct changepoint_params p = CHANGEPOINT_PARAMS_INIT;
	char **worth = NULL;
	size_t n_worth = 0;
	int rc;

	/* Only runs that can be baselines make history (DESIGN 8): as decided
	 * when the run was stored (db_run_insert, core/baseline.h). */
	if (!rd->git.branch || !baseline_eligible(rd, (double)time(NULL), NULL) || !rd->project || !rd->suite)
		return 0;
	if (params)
		p = *params;
	else if ((rc = params_from_rundoc(rd, &p, err)) < 0)
		return rc;
	if ((rc = changepoint_params_check(&p, err)) < 0 ||
	    (rc = series_worth_analysing(db, rd, &p, &worth, &n_worth, err)) < 0)
		goto done;
	for (size_t b = 0; b < rd->n_benches && rc == 0; b++) {
		const struct rd_bench *bench = &rd->benches[b];

		if (bench->status != RUNDOC_STATUS_OK)
			continue;
		for (size_t m = 0; m < bench->n_metrics && rc == 0; m++) {
			struct series_key k = { rd->project, rd->suite, bench->name, bench->metrics[m].name,
						rd->fingerprint, rd->git.branch };
			char *key = xasprintf("%s\x1f%s", bench->name, bench->metrics[m].name);
			bool worth_it = bsearch(&key, worth, n_worth, sizeof(*worth), key_cmp) != NULL;

			free(key);
			if (worth_it && (rc = analyse(db, &k, &p, HISTORY_TAIL, NULL, err)) < 0)
				err_prefix(err, "change points of %s/%s", bench->name, bench->metrics[m].name);
		}
	}
done:
	argv_free(worth);
	return rc;
}

int history_recompute_changepoints(struct db *db, const struct history_query *q,
				   const struct changepoint_params *params, size_t *found,
				   struct err *err)
{
	/* Every (project, suite, branch, machine) the query covers is its own
	 * series. */
	static const char sql[] =
		"SELECT DISTINCT project, suite, branch, fingerprint FROM history_points"
		" WHERE benchmark = $1 AND metric = $2 AND baseline"
		"   AND ($3::text IS NULL OR project = $3) AND ($4::text IS NULL OR suite = $4)"
		"   AND ($5::text IS NULL OR branch = $5)"
		"   AND ($6::text IS NULL OR starts_with(fingerprint, $6))";
	const char *p[6] = { q->benchmark, q->metric, q->project, q->suite, q->branch, q->fingerprint };
	PGresult *res = NULL;
	int rc, rows;

	if (found)
		*found = 0;
	if ((rc = db_query(db, sql, 6, p, &res, err)) < 0)
		return rc;
	rows = PQntuples(res);
	for (int i = 0; i < rows && rc == 0; i++) {
		struct series_key k = { PQgetvalue(res, i, 0), PQgetvalue(res, i, 1), q->benchmark,
					q->metric, PQgetisnull(res, i, 3) ? NULL : PQgetvalue(res, i, 3),
					PQgetvalue(res, i, 2) };
		size_t f = 0;
		rc = analyse(db, &k, params, 0, &f, err);
		if (found)
			*found += f;
	}
	PQclear(res);
	return rc;
}
