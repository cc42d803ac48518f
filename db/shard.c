/*
 * shard.c (db): shard groups in the store (see shard.h).
 */
#include "shard.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../core/util.h"
#include "db_internal.h"

#define POLL_NS 50000000L      /* a waiting shard looks again this often */
#define CLOCK_READS 5          /* reads of the server's clock per offset estimate */

int db_shard_join(struct db *db, const char *group, unsigned count, const char *config_hash, double wait,
		  struct err *err)
{
	char n[16], w[32];
	const char *params[4] = { group, n, config_hash, w };
	PGresult *res = NULL;
	int rc;

	snprintf(n, sizeof(n), "%u", count);
	snprintf(w, sizeof(w), "%.3f", wait);
	rc = db_query(db, "INSERT INTO shard_groups (group_id, shards, config_hash, wait) "
			  "VALUES ($1, $2::integer, $3, make_interval(secs => $4::double precision)) "
			  "ON CONFLICT (group_id) DO NOTHING", 4, params, NULL, err);
	if (rc == 0)
		rc = db_query(db, "SELECT shards, config_hash FROM shard_groups WHERE group_id = $1", 1, params, &res, err);
	if (rc != 0)
		goto done;
	if (PQntuples(res) != 1) {
		rc = err_set(err, ERR_FAIL, "shard group '%s' vanished as it was registered", group);
	} else if (strcmp(PQgetvalue(res, 0, 1), config_hash) != 0 || strcmp(PQgetvalue(res, 0, 0), n) != 0) {
		rc = err_set(err, ERR_INPUT, "shard group '%s' is a group of %s shards running suite configuration %.12s; "
			     "this shard is one of %u running %.12s (another suite, other benchmarks, or another "
			     "count): refused", group, PQgetvalue(res, 0, 0), PQgetvalue(res, 0, 1), count, config_hash);
	}
done:
	PQclear(res);
	return rc;
}

int db_shard_clock_offset(struct db *db, double *offset, double *uncertainty, struct err *err)
{
	double best = INFINITY;

	for (int i = 0; i < CLOCK_READS; i++) {
		PGresult *res = NULL;
		double t1 = shard_now(), t2, server;
		int rc = db_query(db, "SELECT extract(epoch FROM clock_timestamp())::text", 0, NULL, &res, err);

		t2 = shard_now();
		if (rc != 0)
			return rc;
		server = strtod(PQgetvalue(res, 0, 0), NULL);
		PQclear(res);
		/* The server read its clock somewhere in [t1, t2]: the middle is
		 * off by at most half the round trip; the fastest read is best. */
		if (t2 - t1 < best) {
			best = t2 - t1;
			*offset = (t1 + t2) / 2 - server;
		}
	}
	*uncertainty = best / 2;
	return 0;
}

/* The step's state: arrivals, the last one's time, the deadline, now
 * (server clock, s since the epoch). */
struct arrivals {
	unsigned n;
	double last, deadline, now;
};

static int arrivals_read(struct db *db, const char *group, const char *step, struct arrivals *a, struct err *err)
{
	const char *params[2] = { group, step };
	PGresult *res = NULL;
	int rc;

	/* Step 0 waits from when the group was made, later steps from their
	 * first arrival: every shard reads the same rows, so all agree. */
	rc = db_query(db, "SELECT count(*), extract(epoch FROM max(a.arrived_at))::text, "
			  "extract(epoch FROM (CASE WHEN $2::integer = 0 THEN g.created_at ELSE min(a.arrived_at) END) "
			  "+ g.wait)::text, extract(epoch FROM clock_timestamp())::text "
			  "FROM shard_arrivals a JOIN shard_groups g USING (group_id) "
			  "WHERE a.group_id = $1 AND a.step = $2::integer GROUP BY g.created_at, g.wait",
		      2, params, &res, err);
	if (rc != 0)
		return rc;
	if (PQntuples(res) != 1) {
		PQclear(res);
		return err_set(err, ERR_FAIL, "shard group '%s': no arrival recorded at step %s", group, step);
	}
	a->n = (unsigned)strtoul(PQgetvalue(res, 0, 0), NULL, 10);
	a->last = strtod(PQgetvalue(res, 0, 1), NULL);
	a->deadline = strtod(PQgetvalue(res, 0, 2), NULL);
	a->now = strtod(PQgetvalue(res, 0, 3), NULL);
	PQclear(res);
	return 0;
}

int db_shard_arrive(struct db *db, const char *group, unsigned step, unsigned index, unsigned count,
		    double *start, struct err *err)
{
	char s[16], i[16];
	const char *params[3] = { group, s, i };
	struct timespec poll = { 0, POLL_NS };
	struct arrivals a = { 0, 0, 0, 0 };
	int rc;

	snprintf(s, sizeof(s), "%u", step);
	snprintf(i, sizeof(i), "%u", index);
	/* A shard run again (a retried pod) keeps its first arrival: the
	 * others may have agreed on a start from it already. */
	if ((rc = db_query(db, "INSERT INTO shard_arrivals (group_id, step, shard) VALUES ($1, $2::integer, $3::integer) "
			       "ON CONFLICT DO NOTHING", 3, params, NULL, err)) != 0)
		return rc;
	for (;;) {
		if ((rc = arrivals_read(db, group, s, &a, err)) != 0)
			return rc;
		if (a.n >= count && a.last <= a.deadline) {
			*start = a.last + DB_SHARD_LEAD_S;
			return 0;
		}
		if (a.now >= a.deadline || a.n >= count) {
			/* Not all came in time: those that did start at the deadline
			 * (the merge names the missing and the late). */
			*start = a.deadline + DB_SHARD_LEAD_S;
			return 0;
		}
		nanosleep(&poll, NULL);
	}
}

static int clock_step(void *arg, unsigned step, double span, double wait, struct shard_start *out, struct err *err)
{
	struct db_shard_clock *c = arg;
	struct shard *sh = c->sh;
	int rc;

	(void)span;
	if (!c->joined && (rc = db_shard_join(c->db, sh->group, sh->spec.count, sh->config_hash, wait, err)) != 0)
		return rc;
	c->joined = true;
	if ((rc = db_shard_arrive(c->db, sh->group, step, sh->spec.index, sh->spec.count, &out->planned, err)) != 0)
		return rc;
	out->source = "database";
	return db_shard_clock_offset(c->db, &out->offset, &out->uncertainty, err);
}

void db_shard_clock_use(struct db_shard_clock *c, struct db *db, struct shard *sh)
{
	c->db = db;
	c->sh = sh;
	c->joined = false;
	sh->clock.step_start = clock_step;
	sh->clock.arg = c;
}

int db_shard_run_insert(struct db *db, const struct rundoc *rd, bool *already, struct err *err)
{
	struct shard_ident id;
	char idx[16], *doc = NULL;
	const char *params[5];
	PGresult *res = NULL;
	int rc;

	*already = false;
	if (!shard_ident_of(rd, &id))
		return err_set(err, ERR_INPUT, "run %s is not a shard's run document", rd->run_id);
	/* A document pushed on its own (spooled, from a file) may be the
	 * first its group hears of: registered with the default wait. */
	if ((rc = db_shard_join(db, id.group, id.count, id.config_hash, 600, err)) != 0)
		return rc;
	doc = rundoc_to_string(rd);
	snprintf(idx, sizeof(idx), "%u", id.index);
	params[0] = rd->run_id;
	params[1] = id.group;
	params[2] = idx;
	params[3] = id.config_hash;
	params[4] = doc;
	rc = db_query(db, "INSERT INTO shard_runs (run_id, group_id, shard, config_hash, document) "
			  "VALUES ($1::uuid, $2, $3::integer, $4, $5::jsonb) ON CONFLICT (run_id) DO NOTHING RETURNING 1",
		      5, params, &res, err);
	if (rc == 0)
		*already = PQntuples(res) == 0;
	PQclear(res);
	free(doc);
	return rc;
}

int db_shard_runs_present(struct db *db, const char *group, unsigned **have, size_t *n, struct err *err)
{
	const char *params[1] = { group };
	PGresult *res = NULL;
	int rc;

	*have = NULL;
	*n = 0;
	if ((rc = db_query(db, "SELECT DISTINCT shard FROM shard_runs WHERE group_id = $1 ORDER BY shard", 1, params,
			   &res, err)) != 0)
		return rc;
	*n = (size_t)PQntuples(res);
	*have = xcalloc(*n ? *n : 1, sizeof(**have));
	for (size_t i = 0; i < *n; i++)
		(*have)[i] = (unsigned)strtoul(PQgetvalue(res, (int)i, 0), NULL, 10);
	PQclear(res);
	return 0;
}

int db_shard_runs_load(struct db *db, const char *group, struct rundoc ***docs, size_t *n, struct err *err)
{
	const char *params[1] = { group };
	PGresult *res = NULL;
	struct rundoc **v = NULL;
	size_t k = 0, rows;
	int rc;

	*docs = NULL;
	*n = 0;
	if ((rc = db_query(db, "SELECT DISTINCT ON (shard) document::text FROM shard_runs WHERE group_id = $1 "
			       "ORDER BY shard, stored_at DESC", 1, params, &res, err)) != 0)
		return rc;
	rows = (size_t)PQntuples(res);
	v = xcalloc(rows ? rows : 1, sizeof(*v));
	for (; k < rows; k++) {
		if ((rc = rundoc_parse(&v[k], PQgetvalue(res, (int)k, 0), err)) != 0) {
			err_prefix(err, "shard group '%s': a stored shard document", group);
			break;
		}
	}
	PQclear(res);
	if (rc != 0) {
		for (size_t i = 0; i < k; i++)
			rundoc_free(v[i]);
		free(v);
		return rc;
	}
	*docs = v;
	*n = rows;
	return 0;
}

int db_shard_group(struct db *db, const char *group, unsigned *count, char config_hash[65], struct err *err)
{
	const char *params[1] = { group };
	PGresult *res = NULL;
	int rc;

	if ((rc = db_query(db, "SELECT shards, config_hash FROM shard_groups WHERE group_id = $1", 1, params, &res,
			   err)) != 0)
		return rc;
	if (PQntuples(res) != 1) {
		PQclear(res);
		return err_set(err, ERR_NOTFOUND, "no shard of group '%s' has registered", group);
	}
	*count = (unsigned)strtoul(PQgetvalue(res, 0, 0), NULL, 10);
	snprintf(config_hash, 65, "%s", PQgetvalue(res, 0, 1));
	PQclear(res);
	return 0;
}
