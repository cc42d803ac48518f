/*
 * merge.c: `perfgate merge [SHARD.json...]`: merge the shards of a
 * distributed load test into one run (docs/shards.md): from the files
 * given, or from the database, waiting up to --shard-timeout for every
 * shard of the group.  The merged run is stored (unless --no-store) and
 * written to --out; `perfgate gate --shards N` does the same and gates it.
 *
 * Exit codes: 0 merged, every benchmark valid; 2 usage, or a document
 * refused (not a shard's, another group, another suite configuration);
 * 3 the merged run is invalid (a shard fell behind or started late: the
 * message names it); 4 shards missing after the timeout (named; --partial
 * merges those that came), or the database unreachable.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/gate.h"
#include "../core/util.h"
#include "../db/store.h"
#include "cmd.h"
#include "shard_common.h"

struct merge_args {
	const char *out_path, *db_url, *suite_path, *format;
	bool no_store, quiet, all;
	struct strlist pos, benches;
	struct shardcmd_args shard;
};

/* Returns -1 to go on, else the exit code. */
static int parse_args(struct merge_args *a, int argc, char **argv)
{
	static const struct cmd_usage usage = {
		"merge", "[options] [SHARD.json...]",
		"merge the shards of a distributed load test into one run",
		"Without files the shards' runs come from the database: the group's (--shard-group,\n"
		"$PERFGATE_SHARD_GROUP, or the CI pipeline's with --suite), waiting up to\n"
		"--shard-timeout for every shard.  Histograms are added bucket by bucket, counts\n"
		"and rates summed, the series aligned on the shards' common clock.\n"
		"Exit codes: 0 merged, 2 usage or a refused shard (another group or suite\n"
		"configuration), 3 the merged run is invalid (a shard fell behind or started\n"
		"late), 4 shards missing after the timeout (--partial merges those that came)\n"
		"or the database unreachable.",
	};
	const struct opt opts[] = {
		{ "all", 0, OPT_FLAG, &a->all, NULL, "text summary: every metric in a row of its own (as --verbose)" },
		{ "bench", 'b', OPT_LIST, &a->benches, "GLOB", "with --suite: the benchmarks the shards ran (as run --bench)" },
		{ "db", 0, OPT_STRING, &a->db_url, "URL", "PostgreSQL URL (default: $PERFGATE_DATABASE_URL, then the embedded database)" },
		{ "format", 0, OPT_STRING, &a->format, "FMT", "summary on stdout: text (default) or json (the merged run document)" },
		{ "no-store", 0, OPT_FLAG, &a->no_store, NULL, "do not store the merged run" },
		{ "out", 'o', OPT_STRING, &a->out_path, "FILE", "write the merged run document to FILE" },
		{ "partial", 0, OPT_FLAG, &a->shard.partial, NULL, "after the timeout, merge the shards that came (and say so)" },
		{ "quiet", 'q', OPT_FLAG, &a->quiet, NULL, "no progress on stderr" },
		{ "shard-group", 0, OPT_STRING, &a->shard.group, "ID", "the shards' group (default: $PERFGATE_SHARD_GROUP, or the CI pipeline's)" },
		{ "shard-timeout", 0, OPT_STRING, &a->shard.timeout, "DURATION", "how long to wait for missing shards (default 10m)" },
		{ "shards", 0, OPT_INT, &a->shard.shards, "N", "how many shards to expect (default: as many as they say)" },
		{ "suite", 's', OPT_STRING, &a->suite_path, "FILE", "the suite the shards ran: refuse runs of another configuration" },
		{ "verbose", 0, OPT_FLAG, &a->all, NULL, "text summary: every metric in a row of its own, with its interval" },
	};
	int rc = opt_parse(&usage, opts, ARRAY_SIZE(opts), argc, argv, &a->pos);

	if (rc != OPT_OK)
		return rc == OPT_HELP ? EXIT_PASS : EXIT_USAGE;
	if (strcmp(a->format, "text") != 0 && strcmp(a->format, "json") != 0) {
		cmd_error("invalid --format '%s': expected text or json", a->format);
		return EXIT_USAGE;
	}
	if (a->shard.shards < 0 || a->shard.shards > SHARD_MAX) {
		cmd_error("invalid --shards %ld: expected 1 to %d", a->shard.shards, SHARD_MAX);
		return EXIT_USAGE;
	}
	return -1;
}

/* Store, write and show the merged run; the exit code. */
static int finish(const struct merge_args *a, const struct gate_store *store, const struct rundoc *rd,
		  const struct errlist *notes)
{
	struct err err = ERR_INIT;
	bool invalid = false, already = false;
	char *spooled = NULL;
	int code = EXIT_PASS, rc;

	for (size_t i = 0; i < notes->n; i++)
		cmd_warn("%s", notes->msgs[i]);
	for (size_t i = 0; i < rd->n_benches; i++)
		if (rd->benches[i].status != RUNDOC_STATUS_OK) {
			cmd_error("benchmark '%s' failed: %s", rd->benches[i].name,
				  rd->benches[i].error ? rd->benches[i].error : rundoc_status_name(rd->benches[i].status));
			invalid = true;
		}
	if (a->out_path && rundoc_save(rd, a->out_path, &err) != 0) {
		cmd_error("%s", err.msg);
		code = EXIT_INFRA;
	}
	if (!a->no_store && (rc = gate_store_run(store, rd, NULL, &already, &spooled, NULL, &err)) != 0) {
		cmd_error("%s", err.msg);
		/* a merged run the database would refuse is input (2), not an outage */
		code = rc == ERR_INPUT ? EXIT_USAGE : EXIT_INFRA;
	}
	free(spooled);
	if (strcmp(a->format, "json") == 0) {
		char *text = rundoc_to_string(rd);

		puts(text);
		free(text);
	} else {
		cmd_run_table(rd, a->all);
		if (!a->no_store && code == EXIT_PASS)
			printf("run %s%s\n", rd->run_id, already ? " (stored before)" : "");
	}
	return invalid ? EXIT_INVALID : code;
}

int cmd_merge(int argc, char **argv)
{
	struct merge_args a = { .format = "text", .pos = STRLIST_INIT, .benches = STRLIST_INIT };
	struct run_options ro = RUN_OPTIONS_INIT;
	struct db_options dbo = DB_OPTIONS_INIT;
	struct shardcmd_merge sm;
	struct gate_store store;
	struct db_store *dbs = NULL;
	struct suite *suite = NULL;
	struct rundoc *rd = NULL;
	struct errlist notes = ERRLIST_INIT;
	struct err err = ERR_INIT;
	double t;
	int rc, code;

	if ((code = parse_args(&a, argc, argv)) >= 0 || (code = shardcmd_timeout(&a.shard, &t)) != 0 ||
	    (a.suite_path && (code = cmd_load_suite(a.suite_path, &suite)) != 0))
		goto done;
	ro.bench_globs = a.benches.items;
	ro.n_bench_globs = a.benches.n;
	dbo.url = a.db_url;
	db_store_open(&dbs, &dbo, &err);
	db_store_gate_store(dbs, &store);
	sm = (struct shardcmd_merge){ .a = &a.shard, .suite = suite, .ro = &ro, .files = a.pos.items,
				      .n_files = a.pos.n, .dbs = dbs, .quiet = a.quiet };
	if ((rc = shardcmd_merge(&sm, &rd, &notes, &err)) != 0) {
		code = cmd_fail(rc, &err);
		goto done;
	}
	code = finish(&a, &store, rd, &notes);
done:
	rundoc_free(rd);
	errlist_release(&notes);
	db_store_free(dbs);
	suite_free(suite);
	strlist_release(&a.pos);
	strlist_release(&a.benches);
	return code;
}
