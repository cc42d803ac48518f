/*
 * gate.c: `perfgate gate SUITE`: the one step a CI job needs.  Run the
 * suite, compare against the stored baseline, confirm regressions by
 * re-measuring the regressed benchmarks in the same job, store the run and
 * its verdicts, write the reports, exit with the verdict (docs/gate.md).
 * The pipeline is core/gate.c's gate_run(); this file parses the command
 * line, prints, and maps the result to the exit code.
 *
 * Exit codes (DESIGN 7): 0 passed; 1 a confirmed regression or a violated
 * SLO; 2 usage or invalid input (suite, --baseline, an SLO naming a metric
 * that does not exist); 3 the run is invalid (a benchmark failed or the run
 * was interrupted; the report still shows what ran); 4 the database could not
 * be reached (the run was spooled; SLOs are still checked and reported).
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/gate.h"
#include "../core/headbase.h"
#include "../core/proc.h"
#include "../core/util.h"
#include "../db/db.h"
#include "../db/store.h"
#include "cmd.h"
#include "output.h"
#include "shard_common.h"

/* The command line. */
struct gate_args {
	const char *db_url, *spec, *plots, *run_out, *requests, *base, *build;
	struct output_opts o;
	long repetitions, confirm_reps, runs;
	bool strict, no_confirm, no_store, quiet, confirm_base, no_confirm_base;
	struct strlist tags, pos, benches;
	struct shardcmd_args shard;
};

/* --base, --confirm-base and --build: the options they take and refuse,
 * said on stderr.  Returns false on a mistake. */
static bool base_options_fit(const struct gate_args *a)
{
	if (a->confirm_base && a->no_confirm_base) {
		cmd_error("--confirm-base and --no-confirm-base contradict each other: give one");
		return false;
	}
	if (a->build && !a->base && (a->no_confirm_base || a->shard.shards)) {
		cmd_error("--build builds the base commit's tree (and the work tree) for --base or for confirming "
			  "against the base, which %s", a->shard.shards ? "a merged run of shards never does"
			  : "--no-confirm-base turns off");
		return false;
	}
	if (a->confirm_base && (a->base || a->shard.shards)) {
		cmd_error("--confirm-base confirms a gate against the history; %s",
			  a->base ? "--base measures the base commit in every gate already" : "a merged run of shards "
			  "cannot be measured again");
		return false;
	}
	if (a->base && (a->spec || a->shard.shards || a->runs != LONG_MIN)) {
		cmd_error("--base compares with the base commit measured in this job: it takes no %s",
			  a->spec ? "--baseline" : a->shard.shards ? "--shards" : "--baseline-runs");
		return false;
	}
	if (a->base && !*a->base) {
		cmd_error("--base needs a git revision (a branch such as origin/main, a tag or a commit)");
		return false;
	}
	return true;
}

/* Returns -1 to go on, else the exit code. */
static int parse_args(struct gate_args *a, int argc, char **argv)
{
	static const struct cmd_usage usage = {
		"gate", "[options] SUITE [SHARD.json...]",
		"run, store, compare against the baseline, report and exit nonzero on regression",
		"A regression found is confirmed, and an inconclusive verdict measured more, before\n"
		"the gate decides: the undecided benchmarks run again in the same job, in up to two\n"
		"rounds of half the budget (compare.max_extra_repetitions, default as many repetitions\n"
		"as the first run had; compare.max_extra_time, default the first run's time), and the\n"
		"verdicts are decided on all the samples, each look at its share of alpha\n"
		"(--no-confirm skips this and decides on the first run).\n"
		"With --shards N the suite is not run: the gate waits (up to --shard-timeout) for\n"
		"the N shards of a distributed load test to keep their runs (`perfgate run\n"
		"--shard I/N`), or takes them from the SHARD.json files given after the suite,\n"
		"merges them exactly and gates the merged run (docs/shards.md); a shard missing\n"
		"after the timeout is exit 4, unless --partial.\n"
		"With --base REF the command benchmarks, and the load tests that start their own\n"
		"\"server\", run twice in this job, interleaved: on the files of REF (its merge-base\n"
		"with HEAD when REF is not an ancestor) and on the work tree, and the gate compares\n"
		"the head with the base, pair by pair (at least 7 pairs at alpha 0.01, the fewest\n"
		"that can show a change; a load test 10), with no database and no history; nothing\n"
		"is stored (docs/gate.md, \"Against a base commit\").\n"
		"A gate against the history that sees the head worse (a regression, or a change\n"
		"under the noise floor), or that cannot see a change of 25% where pairs would (a\n"
		"short or noisy history), measures those benchmarks again, as --base does, beside\n"
		"the baseline's newest commit (its merge-base with HEAD), and the pairs decide: a\n"
		"regression they do not show is inconclusive (the machine's speed between jobs), a\n"
		"change they show is a regression (docs/gate.md, \"Confirming against the base\");\n"
		"the clone needs that commit.  By default it does so for the benchmarks that run\n"
		"the repository's own files (a program or script named by a relative path, in the\n"
		"commit or built by --build); --confirm-base does so for every one,\n"
		"--no-confirm-base for none.\n"
		"Exit codes: 0 passed, 1 regression or SLO violated, 2 usage or invalid input,\n"
		"3 a benchmark failed or the run was interrupted, 4 database unreachable (spooled).",
	};
	const struct opt opts[] = {
		{ "all", 0, OPT_FLAG, &a->o.all, NULL, "text report: every metric a row (as --verbose)" },
		{ "base", 0, OPT_STRING, &a->base, "REF", "compare with the base commit REF measured in this job, interleaved (no database); auto: the pull request's target branch" },
		{ "baseline", 0, OPT_STRING, &a->spec, "SPEC", "RUN_ID, COMMIT, branch:NAME or file:RUN.json instead of the automatic baseline" },
		{ "baseline-runs", 0, OPT_INT, &a->runs, "K", "baseline runs per benchmark (default: suite baseline.runs, else 5)" },
		{ "bench", 'b', OPT_LIST, &a->benches, "GLOB", "run only benchmarks whose name matches GLOB (any of them)" },
		{ "build", 0, OPT_STRING, &a->build, "CMD", "before measuring the base commit (--base, or confirming against it): run `sh -c CMD` at the top of the base tree and of the work tree" },
		{ "comment", 0, OPT_FLAG, &a->o.pub.comment, NULL, "post or update the one pull/merge-request comment (GitHub, GitLab)" },
		{ "confirm-base", 0, OPT_FLAG, &a->confirm_base, NULL, "when the history sees the head worse or cannot see a change of 25%, measure every such benchmark again beside the baseline's commit and let the pairs decide (default: only those that run the repository's files)" },
		{ "confirm-repetitions", 0, OPT_INT, &a->confirm_reps, "N", "extra repetitions per benchmark when measuring more (default: compare.max_extra_repetitions, else as many as the first run had)" },
		{ "db", 0, OPT_STRING, &a->db_url, "URL", "PostgreSQL URL (default: $PERFGATE_DATABASE_URL, then the embedded database)" },
		{ "format", 'f', OPT_STRING, &a->o.format, "FMT", "report on stdout: text (default), markdown, json, junit or html" },
		{ "html", 0, OPT_STRING, &a->o.html, "FILE", "also write the HTML report (one self-contained page) to FILE" },
		{ "json", 0, OPT_STRING, &a->o.json, "FILE", "also write the JSON report to FILE" },
		{ "junit", 0, OPT_STRING, &a->o.junit, "FILE", "also write a JUnit XML report to FILE" },
		{ "markdown", 0, OPT_STRING, &a->o.markdown, "FILE", "also write the Markdown report (for a PR comment) to FILE" },
		{ "metrics", 0, OPT_STRING, &a->o.pub.metrics, "FILE", "also write the OpenMetrics report GitLab's metrics widget reads" },
		{ "no-confirm", 0, OPT_FLAG, &a->no_confirm, NULL, "decide on the first run: never measure more" },
		{ "no-confirm-base", 0, OPT_FLAG, &a->no_confirm_base, NULL, "never measure the base commit: the history's verdicts stand" },
		{ "no-store", 0, OPT_FLAG, &a->no_store, NULL, "do not store the run or its verdicts (the baseline is still read)" },
		{ "out", 'o', OPT_STRING, &a->o.out, "FILE", "write the report to FILE instead of stdout" },
		{ "partial", 0, OPT_FLAG, &a->shard.partial, NULL, "with --shards: after the timeout, merge the shards that came (and say so)" },
		{ "plots", 0, OPT_STRING, &a->plots, "DIR", "draw trend, latency and (A/B, --base) pair plots (gnuplot) into DIR" },
		{ "quiet", 'q', OPT_FLAG, &a->quiet, NULL, "no progress on stderr" },
		{ "report-url", 0, OPT_STRING, &a->o.report_url, "URL", "Markdown report: link to the HTML report (default: $PERFGATE_REPORT_URL)" },
		{ "repetitions", 'n', OPT_INT, &a->repetitions, "N", "run every benchmark exactly N times" },
		{ "requests", 0, OPT_STRING, &a->requests, "FILE", "write one JSON line per HTTP request sent (times, tokens, status) to FILE" },
		{ "run-out", 0, OPT_STRING, &a->run_out, "FILE", "write the run document to FILE" },
		{ "shard-group", 0, OPT_STRING, &a->shard.group, "ID", "with --shards: the group (default: $PERFGATE_SHARD_GROUP, or the CI pipeline's)" },
		{ "shard-timeout", 0, OPT_STRING, &a->shard.timeout, "DURATION", "with --shards: how long to wait for the shards (default 10m)" },
		{ "shards", 0, OPT_INT, &a->shard.shards, "N", "gate the merged run of N shards instead of running the suite" },
		{ "strict", 0, OPT_FLAG, &a->strict, NULL, "inconclusive and insufficient-data verdicts fail too" },
		{ "site-url", 0, OPT_STRING, &a->o.site_url, "URL", "Markdown report: link to the history site (default: $PERFGATE_SITE_URL)" },
		{ "strict-report", 0, OPT_FLAG, &a->o.pub.strict_report, NULL, "exit 4 when a report or comment could not be published" },
		{ "tag", 't', OPT_LIST, &a->tags, "KEY=VALUE", "store a tag with the run" },
		{ "verbose", 0, OPT_FLAG, &a->o.all, NULL, "text report: every metric a row, not only the key metrics" },
	};
	int rc = opt_parse(&usage, opts, ARRAY_SIZE(opts), argc, argv, &a->pos);

	if (rc != OPT_OK)
		return rc == OPT_HELP ? EXIT_PASS : EXIT_USAGE;
	if (a->pos.n < 1 || (a->pos.n > 1 && a->shard.shards == 0)) {
		cmd_error(a->pos.n ? "'gate' takes shard files only with --shards N" : "'gate' needs one suite file (perfgate gate SUITE)");
		return EXIT_USAGE;
	}
	if (!base_options_fit(a))
		return EXIT_USAGE;
	if (a->shard.shards < 0 || a->shard.shards > SHARD_MAX) {
		cmd_error("invalid --shards %ld: expected 1 to %d", a->shard.shards, SHARD_MAX);
		return EXIT_USAGE;
	}
	/* LONG_MIN: not given (the suite's setting, else the default). */
	if (!cmd_opt_at_least_one("repetitions", &a->repetitions) ||
	    !cmd_opt_at_least_one("confirm-repetitions", &a->confirm_reps) ||
	    !cmd_opt_at_least_one("baseline-runs", &a->runs))
		return EXIT_USAGE;
	/* Before the suite runs, not after it: every place a result goes. */
	if (output_check_format(&a->o) || output_check_paths(&a->o) || cmd_check_out_path("run-out", a->run_out) ||
	    cmd_check_out_path("requests", a->requests) || cmd_check_baseline_spec(a->spec))
		return EXIT_USAGE;
	return -1;
}

/* Everything after the pipeline: the run document, plots, reports, exit code. */
static int finish(const struct gate_args *a, const struct gate_result *r)
{
	struct output_opts o = a->o;
	struct err err = ERR_INIT;
	int written;

	if (a->run_out && rundoc_save(r->run, a->run_out, &err) != 0)
		cmd_error("%s", err.msg);
	if (r->interrupted)
		return EXIT_INVALID;
	if (r->bad_input)
		return EXIT_USAGE;
	if (a->plots)
		cmd_gate_plots(a->plots, r);
	o.run = r->run;
	if (r->have_baseline && r->baseline.n_runs > 0) {
		o.baseline = r->baseline.runs[0].doc;
		o.base = &r->baseline;
	}
	written = output_write(r->comparison, &o);
	output_warn_loud(r->comparison);
	switch (gate_outcome(r)) {
	case GATE_INVALID:
		return EXIT_INVALID;
	case GATE_STORE_FAILED:
		cmd_quarantine_run(r);
		return r->store_rc == ERR_INPUT ? EXIT_USAGE : EXIT_INFRA;
	case GATE_FAILED:
		return written ? written : EXIT_GATE;
	case GATE_PASSED:
		break;
	}
	return written;
}

/* --base: the base tree, its build and the pairs (a->repetitions raised to what they need); returns -1 to go
 * on, else the exit code. */
static int against_base(struct gate_args *a, struct suite *suite, struct headbase *hb)
{
	struct errlist notes = ERRLIST_INIT;
	struct err err = ERR_INIT;
	char *log = NULL;
	int rc;

	char *ref = NULL;

	if (strcmp(a->base, "auto") == 0 && (rc = headbase_auto_ref(suite->dir, suite->baseline_branch, &ref, &err)) != 0)
		return cmd_fail(rc, &err);
	rc = headbase_checkout(suite->dir, ref ? ref : a->base, hb, &err);
	free(ref);
	if (rc != 0)
		return cmd_fail(rc, &err);
	if (!a->quiet)
		cmd_note("base: commit %.10s (%s%s)%s, in %s", hb->base.commit,
			 hb->base.merge_base ? "the merge-base of HEAD and " : "", hb->base.ref,
			 hb->same_commit ? ", the same commit as HEAD" : "", hb->root);
	for (size_t i = 0; i < hb->skipped.n; i++)
		cmd_warn("the base tree: %s; a benchmark that needs it fails on the base", hb->skipped.msgs[i]);
	if (a->build && *a->build) { /* "": nothing to build (a template's empty input) */
		if (!a->quiet)
			cmd_note("building the base tree and the work tree: %s", a->build);
		if ((rc = headbase_build(hb, a->build, &log, &err)) != 0) {
			if (log && *log)
				fprintf(stderr, "%s%s", log, log[strlen(log) - 1] == '\n' ? "" : "\n");
			free(log);
			return cmd_fail(rc, &err);
		}
	}
	rc = headbase_suite(suite, hb, &a->repetitions, &notes, &err);
	for (size_t i = 0; i < notes.n; i++)
		cmd_warn("%s", notes.msgs[i]);
	errlist_release(&notes);
	return rc ? cmd_fail(rc, &err) : -1;
}

/* The pipeline's options from the command line (tags parsed already). */
static void gate_options_from_args(struct gate_args *a, cJSON *tags, struct gate_options *go)
{
	go->run.bench_globs = a->benches.items;
	go->run.n_bench_globs = a->benches.n;
	go->run.repetitions = a->repetitions;
	go->run.tags = tags;
	go->baseline = a->spec;
	go->baseline_runs = (size_t)a->runs;
	go->strict = a->strict;
	go->confirm = !a->no_confirm;
	go->confirm_repetitions = a->confirm_reps;
	go->confirm_base = a->confirm_base		       ? GATE_CONFIRM_BASE_ALWAYS
			   : a->no_confirm_base || a->base || a->shard.shards ? GATE_CONFIRM_BASE_OFF
									       : GATE_CONFIRM_BASE_AUTO;
	go->confirm_base_build = a->base ? NULL : a->build;
	go->on_note = cmd_print_note;
	go->note_arg = &a->quiet;
}

int cmd_gate(int argc, char **argv)
{
	struct gate_args a = { .o = { .format = "text" }, .repetitions = LONG_MIN, .confirm_reps = LONG_MIN,
			       .runs = LONG_MIN, .tags = STRLIST_INIT, .pos = STRLIST_INIT, .benches = STRLIST_INIT };
	struct gate_options go = GATE_OPTIONS_INIT;
	struct db_options dbo = DB_OPTIONS_INIT;
	struct cmd_progress prog;
	struct baseline_source src;
	struct gate_store store;
	struct db_store *dbs = NULL;
	struct suite *suite = NULL;
	struct gate_result *r = NULL;
	struct shardcmd_merge sm;
	struct headbase hb = HEADBASE_INIT;
	char **both_sides = NULL;
	cJSON *tags = NULL;
	struct err err = ERR_INIT;
	int rc, code;

	if ((code = parse_args(&a, argc, argv)) >= 0 || (code = cmd_parse_tags(&a.tags, &tags)) != 0 ||
	    (code = cmd_load_suite(a.pos.items[0], &suite)) != 0)
		goto done;
	gate_options_from_args(&a, tags, &go);
	cmd_progress_attach(&prog, a.quiet, &go.run);
	if (a.base) {
		/* everything is measured here: no database, nothing stored */
		proc_install_interrupt_handler();
		if ((code = against_base(&a, suite, &hb)) >= 0)
			goto done;
		go.against_base = &hb.base;
		go.run.repetitions = a.repetitions; /* raised to what the paired test needs */
		a.no_store = true;
		/* --bench NAME selects both sides, NAME@base and NAME@head */
		both_sides = xcalloc(a.benches.n + 1, sizeof(*both_sides));
		for (size_t i = 0; i < a.benches.n; i++)
			both_sides[i] = strchr(a.benches.items[i], '@') ? xstrdup(a.benches.items[i])
									: xasprintf("%s@*", a.benches.items[i]);
		go.run.bench_globs = (const char *const *)both_sides;
	}
	dbo.url = a.db_url;
	/* the database is needed unless nothing is stored and the baseline is a file (or the base commit) */
	if (!(a.no_store && ((a.spec && strncmp(a.spec, "file:", 5) == 0) || a.base)) &&
	    (rc = db_url_check(&dbo, &err)) != 0) {
		code = cmd_fail(rc, &err);
		goto done;
	}
	db_store_open(&dbs, &dbo, &err);
	db_store_baseline_source(dbs, &src);
	db_store_gate_store(dbs, &store);
	if (a.shard.shards) {
		double t;

		if ((code = shardcmd_timeout(&a.shard, &t)) != 0)
			goto done;
		sm = (struct shardcmd_merge){ .a = &a.shard, .suite = suite, .ro = &go.run, .files = a.pos.items + 1,
					      .n_files = a.pos.n - 1, .dbs = dbs, .quiet = a.quiet };
		go.run_source = shardcmd_merge;
		go.run_source_arg = &sm;
	}
	proc_install_interrupt_handler();
	if ((code = cmd_records_open(a.requests, &go.run.records)) != 0)
		goto done;
	rc = gate_run(suite, &go, &src, a.no_store ? NULL : &store, &r, &err);
	code = rc ? cmd_fail(rc, &err) : finish(&a, r);
	code = cmd_records_close(go.run.records, code);
done:
	gate_result_free(r);
	db_store_free(dbs);
	headbase_release(&hb);
	for (size_t i = 0; both_sides && both_sides[i]; i++)
		free(both_sides[i]);
	free(both_sides);
	suite_free(suite);
	cJSON_Delete(tags);
	strlist_release(&a.tags);
	strlist_release(&a.pos);
	strlist_release(&a.benches);
	return code;
}
