/*
 * shard_common.c: shard groups on the command line (see shard_common.h).
 */
#include "shard_common.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../core/context.h"
#include "../core/http/shard.h"
#include "../core/shard_merge.h"
#include "../core/suite.h"
#include "../core/util.h"
#include "cmd.h"

#define POLL_S 1 /* the merge looks for missing shards this often */

int shardcmd_timeout(const struct shardcmd_args *a, double *out)
{
	struct err err = ERR_INIT;

	*out = SHARDCMD_TIMEOUT_S;
	if (a->timeout && (parse_duration(a->timeout, out, &err) != 0 || !(*out >= 0))) {
		cmd_error("invalid --shard-timeout '%s': expected a duration (\"10m\", \"90s\")", a->timeout);
		return EXIT_USAGE;
	}
	return 0;
}

/* Which shard: --shard, else the environment; *on false when none. */
static int which_shard(const struct shardcmd_args *a, struct shard_spec *spec, bool *on)
{
	struct err err = ERR_INIT;
	int rc;

	*on = false;
	if (a->shard && strcmp(a->shard, "off") == 0)
		return -1;
	if (a->shard)
		rc = shard_spec_parse(a->shard, spec, &err);
	else
		rc = shard_spec_from_env(spec, on, &err);
	if (rc != 0)
		return cmd_fail(rc, &err);
	if (a->shard)
		*on = true;
	return -1;
}

/* Every selected HTTP benchmark can be split; there is at least one. */
static int check_suite(const struct suite *suite, const struct run_options *ro, unsigned count)
{
	struct errlist problems = ERRLIST_INIT;
	size_t http = 0;
	int code = -1;

	for (size_t i = 0; i < suite->n_benches; i++) {
		const struct suite_bench *b = &suite->benches[i];

		if (b->kind != RUNDOC_KIND_HTTP || !run_selected(ro, b->name))
			continue;
		http++;
		http_shard_check(b, count, &problems);
	}
	if (http == 0)
		errlist_add(&problems, "suite '%s' has no HTTP benchmark to shard (shards split HTTP load)", suite->name);
	if (problems.n) {
		cmd_error("cannot split suite '%s' over %u shards:", suite->name, count);
		cmd_print_problems(&problems);
		code = EXIT_USAGE;
	}
	errlist_release(&problems);
	return code;
}

/* The clock: --start-at, else the database (connected now: a shard that
 * cannot meet the others has nothing to run).  A shard that will store its
 * run joins its group before running, so that one of another suite
 * configuration is refused before it spends its load (exit 2). */
static int choose_clock(const struct shardcmd_args *a, struct db_store *dbs, bool store, struct shardcmd_run *cs)
{
	struct err err = ERR_INIT;
	struct db *db = NULL;
	double t;
	int rc;

	if (a->start_at) {
		if ((rc = shard_parse_time(a->start_at, &t, &err)) != 0)
			return cmd_fail(rc, &err);
		shard_use_start_at(&cs->sh, t);
		/* Unreachable, the run is spooled as any other. */
		if (!store || db_store_connect(dbs, &db, &err) != 0)
			return -1;
	} else if ((rc = db_store_connect(dbs, &db, &err)) != 0) {
		cmd_error("the shards meet through the database, which is unreachable (%s); give --start-at TIME to "
			  "start them without one", err.msg);
		return cmd_exit_code(rc);
	} else {
		db_shard_clock_use(&cs->dc, db, &cs->sh);
	}
	if ((rc = db_shard_join(db, cs->sh.group, cs->sh.spec.count, cs->sh.config_hash, cs->sh.wait, &err)) != 0)
		return cmd_fail(rc, &err);
	cs->dc.joined = true;
	return -1;
}

int shardcmd_setup(const struct shardcmd_args *a, const struct suite *suite, struct run_options *ro,
		   struct db_store *dbs, bool store, struct shardcmd_run *cs, bool quiet)
{
	struct shard_spec spec;
	struct err err = ERR_INIT;
	char hash[65], *group = NULL;
	double wait;
	int code, rc;

	memset(cs, 0, sizeof(*cs));
	if ((code = which_shard(a, &spec, &cs->on)) >= 0 || !cs->on)
		return code;
	if ((code = shardcmd_timeout(a, &wait)) != 0)
		return code;
	if ((code = check_suite(suite, ro, spec.count)) >= 0)
		return code;
	if ((rc = shard_group_id(a->group, suite->name, &group, &err)) != 0)
		return cmd_fail(rc, &err);
	shard_config_hash(suite, ro, spec.count, hash);
	shard_init(&cs->sh, &spec, group, hash);
	cs->sh.wait = wait;
	free(group);
	if ((code = choose_clock(a, dbs, store, cs)) >= 0)
		return code;
	ro->shard = &cs->sh;
	if (!quiet)
		fprintf(stderr, "perfgate: shard %u of %u (%s) of group '%s', starting with the others %s\n",
			spec.index + 1, spec.count, spec.from, cs->sh.group,
			a->start_at ? "at --start-at" : "through the database");
	return -1;
}

void shardcmd_release(struct shardcmd_run *cs)
{
	if (cs->on)
		shard_release(&cs->sh);
}

/* ---- merging ---- */

static void free_docs(struct rundoc **docs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		rundoc_free(docs[i]);
	free(docs);
}

static int merge_docs(const struct shardcmd_merge *m, struct rundoc **docs, size_t n, unsigned count,
		      const char *group, struct rundoc **out, struct errlist *notes, struct err *err)
{
	struct shard_merge_options mo = SHARD_MERGE_OPTIONS_INIT;
	char hash[65];

	struct shard_ident id;

	if (!count && n > 0 && shard_ident_of(docs[0], &id))
		count = id.count;
	mo.count = count;
	mo.group = group;
	mo.partial = m->a->partial;
	if (m->suite && count) {
		/* A run of another suite configuration is refused by its hash. */
		shard_config_hash(m->suite, m->ro, count, hash);
		mo.config_hash = hash;
	}
	return shard_merge(docs, n, &mo, out, notes, err);
}

static int merge_files(const struct shardcmd_merge *m, struct rundoc **out, struct errlist *notes, struct err *err)
{
	struct rundoc **docs = xcalloc(m->n_files, sizeof(*docs));
	size_t n = 0;
	int rc = 0;

	for (; n < m->n_files && rc == 0; n++)
		if ((rc = rundoc_load(&docs[n], m->files[n], err)) != 0) {
			if (rc == ERR_FAIL)
				rc = ERR_INPUT;
			break;
		}
	if (rc == 0)
		rc = merge_docs(m, docs, n, m->a->shards > 0 ? (unsigned)m->a->shards : 0, m->a->group, out, notes, err);
	free_docs(docs, n);
	return rc;
}

/* Wait until every shard of the group has kept its run, or the timeout;
 * *count: the group's. */
static int wait_for_shards(const struct shardcmd_merge *m, struct db *db, const char *group, double timeout,
			   unsigned *count, struct err *err)
{
	double until = shard_now() + timeout;
	bool told = false;
	char hash[65], list[512];

	for (;;) {
		unsigned *have = NULL, missing;
		size_t n = 0;
		int rc = db_shard_group(db, group, count, hash, err);

		if (rc == 0 && m->a->shards > 0 && *count != (unsigned)m->a->shards)
			return err_set(err, ERR_INPUT, "shard group '%s' has %u shards, not %ld", group, *count, m->a->shards);
		if (rc == 0)
			rc = db_shard_runs_present(db, group, &have, &n, err);
		if (rc != 0 && rc != ERR_NOTFOUND)
			return rc;
		missing = rc == 0 ? shard_merge_missing(have, n, *count, list, sizeof(list)) : 1;
		free(have);
		if (rc == 0 && missing == 0)
			return 0;
		if (shard_now() >= until) {
			if (rc == ERR_NOTFOUND)
				return err_set(err, ERR_INFRA, "no shard of group '%s' arrived within %gs", group, timeout);
			if (m->a->partial && n > 0)
				return 0;
			return err_set(err, ERR_INFRA, "shard%s %s of %u of group '%s' did not arrive within %gs",
				       missing > 1 ? "s" : "", list, *count, group, timeout);
		}
		if (!told && !m->quiet) {
			fprintf(stderr, "perfgate: waiting up to %gs for %s of group '%s'\n", timeout,
				rc == 0 ? list : "its shards", group);
			told = true;
		}
		sleep(POLL_S);
	}
}

static int merge_stored(const struct shardcmd_merge *m, struct rundoc **out, struct errlist *notes, struct err *err)
{
	struct rundoc **docs = NULL;
	struct db *db = NULL;
	char *group = NULL;
	unsigned count = 0;
	size_t n = 0;
	double timeout;
	int rc;

	if (shardcmd_timeout(m->a, &timeout) != 0)
		return err_set(err, ERR_INPUT, "invalid --shard-timeout '%s'", m->a->timeout);
	if (!m->suite && !m->a->group && !getenv("PERFGATE_SHARD_GROUP"))
		return err_set(err, ERR_INPUT, "which group? give --shard-group ID (or PERFGATE_SHARD_GROUP), or the "
			       "suite (--suite FILE) whose CI-made group id the shards used");
	if ((rc = shard_group_id(m->a->group, m->suite ? m->suite->name : "", &group, err)) != 0 ||
	    (rc = db_store_connect(m->dbs, &db, err)) != 0 ||
	    (rc = wait_for_shards(m, db, group, timeout, &count, err)) != 0 ||
	    (rc = db_shard_runs_load(db, group, &docs, &n, err)) != 0)
		goto done;
	rc = merge_docs(m, docs, n, count, group, out, notes, err);
done:
	free_docs(docs, n);
	free(group);
	return rc;
}

int shardcmd_merge(void *arg, struct rundoc **out, struct errlist *notes, struct err *err)
{
	const struct shardcmd_merge *m = arg;

	int rc;

	*out = NULL;
	rc = m->n_files ? merge_files(m, out, notes, err) : merge_stored(m, out, notes, err);
	/* Assembled from documents: a baseline only when the shards' context is
	 * this job's own (docs/security.md). */
	if (rc == 0 && *out)
		(*out)->context_trusted = context_agrees(*out, m->ro && m->ro->repo_dir ? m->ro->repo_dir
								 : m->suite ? m->suite->dir : NULL);
	return rc;
}
