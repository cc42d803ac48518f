/*
 * run.c: `perfgate run SUITE`: validate the suite, run its benchmarks,
 * store the run (unless --no-store), write it to --out, and print a summary
 * table per benchmark and metric with the noise warnings.
 *
 * Exit codes: 0 every benchmark passed; 2 usage or an invalid suite; 3 a
 * benchmark failed or the run was interrupted (Ctrl-C: the finished
 * benchmarks go to --out marked partial, nothing is stored); 4 the database
 * could not be reached (the run was spooled; `perfgate push` uploads it).
 * A failed benchmark wins over an unreachable database: 3.  The pipeline is
 * core/gate.c's gate_run() without the comparison.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/gate.h"
#include "../core/proc.h"
#include "../core/util.h"
#include "../db/db.h"
#include "../db/store.h"
#include "cmd.h"
#include "output.h"
#include "shard_common.h"

/* The command line. */
struct run_args {
	const char *out_path, *db_url, *format, *requests, *html;
	long repetitions, warmup; /* LONG_MIN: not given */
	bool no_store, quiet, list, all;
	struct strlist tags, pos, benches;
	struct shardcmd_args shard;
};

/* Returns -1 to go on, else the exit code. */
static int parse_args(struct run_args *a, int argc, char **argv)
{
	static const struct cmd_usage usage = {
		"run", "[options] SUITE",
		"run a benchmark suite, store the run and print a summary",
		"A shard (--shard I/N, or PERFGATE_SHARD, GitLab's CI_NODE_INDEX/CI_NODE_TOTAL,\n"
		"a Kubernetes Indexed Job's JOB_COMPLETION_INDEX with PERFGATE_SHARDS) runs its\n"
		"share of every HTTP benchmark's load, started with the other shards through\n"
		"the database or at --start-at, and keeps its run for `perfgate merge` or\n"
		"`perfgate gate --shards N` (docs/shards.md).\n"
		"Exit codes: 0 all benchmarks passed, 2 invalid suite or usage, 3 a benchmark\n"
		"failed or the run was interrupted (finished benchmarks go to --out, marked\n"
		"partial), 4 the database was unreachable (the run was spooled).",
	};
	const struct opt opts[] = {
		{ "all", 0, OPT_FLAG, &a->all, NULL, "text summary: every metric in a row of its own (as --verbose)" },
		{ "bench", 'b', OPT_LIST, &a->benches, "GLOB", "run only benchmarks whose name matches GLOB (any of them)" },
		{ "db", 0, OPT_STRING, &a->db_url, "URL", "PostgreSQL URL (default: $PERFGATE_DATABASE_URL, then the embedded database)" },
		{ "format", 0, OPT_STRING, &a->format, "FMT", "summary on stdout: text (default) or json (the run document)" },
		{ "list", 'l', OPT_FLAG, &a->list, NULL, "validate the suite and list its expanded benchmarks (kind, config hash); run nothing" },
		{ "no-store", 0, OPT_FLAG, &a->no_store, NULL, "do not store the run in the database" },
		{ "html", 0, OPT_STRING, &a->html, "FILE", "write the HTML report of the run (one self-contained page) to FILE" },
		{ "out", 'o', OPT_STRING, &a->out_path, "FILE", "write the run document to FILE" },
		{ "quiet", 'q', OPT_FLAG, &a->quiet, NULL, "no progress on stderr" },
		{ "repetitions", 'n', OPT_INT, &a->repetitions, "N", "run every benchmark exactly N times" },
		{ "requests", 0, OPT_STRING, &a->requests, "FILE", "write one JSON line per HTTP request sent (times, tokens, status) to FILE" },
		{ "shard", 0, OPT_STRING, &a->shard.shard, "I/N", "run shard I of N of a distributed load test (\"off\": ignore the environment's)" },
		{ "shard-group", 0, OPT_STRING, &a->shard.group, "ID", "the shards' group (default: $PERFGATE_SHARD_GROUP, or the CI pipeline's)" },
		{ "shard-timeout", 0, OPT_STRING, &a->shard.timeout, "DURATION", "how long the shards wait for each other at each start (default 10m)" },
		{ "start-at", 0, OPT_STRING, &a->shard.start_at, "TIME", "shards start at TIME (RFC 3339 or epoch seconds) instead of meeting in the database" },
		{ "tag", 't', OPT_LIST, &a->tags, "KEY=VALUE", "store a tag with the run" },
		{ "warmup", 'w', OPT_INT, &a->warmup, "N", "warmup runs before every benchmark" },
		{ "verbose", 0, OPT_FLAG, &a->all, NULL, "text summary: every metric in a row of its own, with its interval" },
	};
	int rc = opt_parse(&usage, opts, ARRAY_SIZE(opts), argc, argv, &a->pos);

	if (rc != OPT_OK)
		return rc == OPT_HELP ? EXIT_PASS : EXIT_USAGE;
	if (a->pos.n != 1) {
		cmd_error(a->pos.n ? "'run' takes one suite file, got %zu arguments"
				   : "'run' needs a suite file (perfgate run SUITE)", a->pos.n);
		return EXIT_USAGE;
	}
	if (strcmp(a->format, "text") != 0 && strcmp(a->format, "json") != 0) {
		cmd_error("invalid --format '%s': expected text or json", a->format);
		return EXIT_USAGE;
	}
	if (a->repetitions != LONG_MIN && a->repetitions < 1) {
		cmd_error("invalid --repetitions %ld: expected an integer >= 1", a->repetitions);
		return EXIT_USAGE;
	}
	if (a->warmup != LONG_MIN && a->warmup < 0) {
		cmd_error("invalid --warmup %ld: expected an integer >= 0", a->warmup);
		return EXIT_USAGE;
	}
	/* Before the suite runs, not after it. */
	if (cmd_check_out_path("out", a->out_path) || cmd_check_out_path("requests", a->requests) ||
	    cmd_check_out_path("html", a->html))
		return EXIT_USAGE;
	return -1;
}

/* --list: the expanded benchmarks that --bench selects, run nothing. */
static void list_benches(const struct suite *suite, const struct run_options *ro)
{
	for (size_t i = 0; i < suite->n_benches; i++) {
		const struct suite_bench *b = &suite->benches[i];

		if (run_selected(ro, b->name))
			printf("%s\t%s\t%s\n", b->name, rundoc_kind_name(b->kind), b->config_hash);
	}
}

/* The exit code, --out, and the summary on stdout. */
static int finish(const struct run_args *a, const struct gate_result *r)
{
	struct err err = ERR_INIT;
	int code = r->bad_input ? EXIT_USAGE : r->invalid || r->interrupted ? EXIT_INVALID : EXIT_PASS;

	if (a->out_path) {
		if (rundoc_save(r->run, a->out_path, &err) != 0) {
			cmd_error("%s", err.msg);
			code = code ? code : EXIT_INFRA;
		} else if (r->interrupted) {
			cmd_warn("partial run written to '%s'", a->out_path);
		}
	}
	if (a->html && !r->interrupted && output_write_run_html(r->run, a->html) != 0 && !code)
		code = EXIT_INFRA;
	cmd_quarantine_run(r);
	/* The store's own code (an unreachable database: 4), never a pass. */
	if (r->store_rc && !code)
		code = cmd_exit_code(r->store_rc) == EXIT_PASS ? EXIT_INFRA : cmd_exit_code(r->store_rc);
	if (strcmp(a->format, "json") == 0) {
		char *text = rundoc_to_string(r->run);

		fputs(text, stdout);
		fputc('\n', stdout);
		free(text);
	} else {
		cmd_run_table(r->run, a->all);
		if (r->stored)
			printf("run %s%s\n", r->run->run_id, r->already ? " (stored before)" : "");
	}
	return code;
}

int cmd_run(int argc, char **argv)
{
	struct run_args a = { .format = "text", .repetitions = LONG_MIN, .warmup = LONG_MIN,
			      .tags = STRLIST_INIT, .pos = STRLIST_INIT, .benches = STRLIST_INIT };
	struct gate_options go = GATE_OPTIONS_INIT;
	struct db_options dbo = DB_OPTIONS_INIT;
	struct cmd_progress prog;
	struct gate_store store;
	struct db_store *dbs = NULL;
	struct suite *suite = NULL;
	struct gate_result *r = NULL;
	struct shardcmd_run shard = { .on = false };
	cJSON *tags = NULL;
	struct err err = ERR_INIT;
	int rc, code;

	if ((code = parse_args(&a, argc, argv)) >= 0 || (code = cmd_parse_tags(&a.tags, &tags)) != 0 ||
	    (code = cmd_load_suite(a.pos.items[0], &suite)) != 0)
		goto done;
	go.compare = false;
	go.run.bench_globs = a.benches.items;
	go.run.n_bench_globs = a.benches.n;
	if (a.list) {
		list_benches(suite, &go.run);
		goto done;
	}
	cmd_progress_attach(&prog, a.quiet, &go.run);
	go.run.repetitions = a.repetitions == LONG_MIN ? 0 : a.repetitions;
	go.run.warmup = a.warmup == LONG_MIN ? -1 : a.warmup;
	go.run.tags = tags;
	go.on_note = cmd_print_note;
	go.note_arg = &a.quiet;
	dbo.url = a.db_url;
	if (!a.no_store && (rc = db_url_check(&dbo, &err)) != 0) {
		code = cmd_fail(rc, &err);
		goto done;
	}
	db_store_open(&dbs, &dbo, &err);
	db_store_gate_store(dbs, &store);
	if ((code = shardcmd_setup(&a.shard, suite, &go.run, dbs, !a.no_store, &shard, a.quiet)) >= 0)
		goto done;
	code = 0;
	proc_install_interrupt_handler();
	if ((code = cmd_records_open(a.requests, &go.run.records)) != 0)
		goto done;
	rc = gate_run(suite, &go, NULL, a.no_store ? NULL : &store, &r, &err);
	code = rc ? cmd_fail(rc, &err) : finish(&a, r);
	code = cmd_records_close(go.run.records, code);
done:
	gate_result_free(r);
	shardcmd_release(&shard);
	db_store_free(dbs);
	suite_free(suite);
	cJSON_Delete(tags);
	strlist_release(&a.tags);
	strlist_release(&a.benches);
	strlist_release(&a.pos);
	return code;
}
