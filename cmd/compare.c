/*
 * compare.c: `perfgate compare [RUN_ID | --run-file FILE]`: compare a stored
 * (or saved) run against its baseline and print the report.  With --suite
 * the suite's compare settings, SLOs and A/B variants apply.  A stored
 * run's first comparison against the automatic baseline is stored as its
 * verdict when it has none (store_verdict), for `perfgate report RUN_ID`.  The
 * baseline and the comparison are the gate's own (core/gate.h).
 *
 * Exit codes: 0 passed, 1 regression, SLO violated or a benchmark of the run
 * failed (the run is invalid: it never passes), 2 usage or invalid
 * input (unknown run, bad --baseline, an SLO naming a missing metric),
 * 4 the database unreachable or a statement of it failing.
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/gate.h"
#include "../core/util.h"
#include "../db/baseline.h"
#include "../db/store.h"
#include "cmd.h"
#include "output.h"

/* The command line. */
struct compare_args {
	const char *run_file, *suite_path, *spec, *db_url, *repo;
	struct output_opts o;
	bool strict, variants, no_store;
	long runs;
	struct strlist pos;
};

/* Returns -1 to go on, else the exit code. */
static int parse_args(struct compare_args *a, int argc, char **argv)
{
	static const struct cmd_usage usage = {
		"compare", "[options] [RUN_ID | --run-file FILE]",
		"compare a stored or saved run against its baseline",
		"The baseline: runs on the baseline branch (suite baseline.branch, else the PR's\n"
		"base branch, else the remote's default branch, else main) at the nearest\n"
		"ancestors of the run's commit, the last K per benchmark (docs/gate.md).\n"
		"--baseline RUN_ID | COMMIT | branch:NAME | file:RUN.json overrides it.\n"
		"A RUN_ID may be a unique prefix of one (at least 4 hex digits), as gate prints it.\n"
		"The run's verdict (report, history) is its gate's comparison, or the first against\n"
		"the automatic baseline of a run pushed without a gate: only that one is stored;\n"
		"one against --baseline, or after the verdict, is shown and not stored.\n"
		"Exit codes: 0 passed, 1 regression, SLO violated or a benchmark of the run failed,\n"
		"2 usage or invalid input, 4 database unreachable or failing.",
	};
	const struct opt opts[] = {
		{ "all", 0, OPT_FLAG, &a->o.all, NULL, "text report: every metric a row (as --verbose)" },
		{ "baseline", 0, OPT_STRING, &a->spec, "SPEC", "RUN_ID, COMMIT, branch:NAME or file:RUN.json instead of the automatic baseline" },
		{ "baseline-runs", 0, OPT_INT, &a->runs, "K", "baseline runs per benchmark (default: suite baseline.runs, else 5)" },
		{ "comment", 0, OPT_FLAG, &a->o.pub.comment, NULL, "post or update the one pull/merge-request comment (GitHub, GitLab)" },
		{ "db", 0, OPT_STRING, &a->db_url, "URL", "PostgreSQL URL (default: $PERFGATE_DATABASE_URL, then the embedded database)" },
		{ "format", 'f', OPT_STRING, &a->o.format, "FMT", "text (default), markdown, json, junit or html" },
		{ "html", 0, OPT_STRING, &a->o.html, "FILE", "also write the HTML report (one self-contained page) to FILE" },
		{ "json", 0, OPT_STRING, &a->o.json, "FILE", "also write the JSON report to FILE" },
		{ "junit", 0, OPT_STRING, &a->o.junit, "FILE", "also write a JUnit XML report to FILE" },
		{ "markdown", 0, OPT_STRING, &a->o.markdown, "FILE", "also write the Markdown report to FILE" },
		{ "metrics", 0, OPT_STRING, &a->o.pub.metrics, "FILE", "also write the OpenMetrics report GitLab's metrics widget reads" },
		{ "no-store", 0, OPT_FLAG, &a->no_store, NULL, "do not store the comparison" },
		{ "out", 'o', OPT_STRING, &a->o.out, "FILE", "write the report to FILE instead of stdout" },
		{ "report-url", 0, OPT_STRING, &a->o.report_url, "URL", "Markdown report: link to the HTML report (default: $PERFGATE_REPORT_URL)" },
		{ "repo", 0, OPT_STRING, &a->repo, "DIR", "git checkout for the commit history (default: .)" },
		{ "run-file", 0, OPT_STRING, &a->run_file, "FILE", "compare the run document in FILE (from run --out)" },
		{ "strict", 0, OPT_FLAG, &a->strict, NULL, "inconclusive and insufficient-data verdicts fail too" },
		{ "site-url", 0, OPT_STRING, &a->o.site_url, "URL", "Markdown report: link to the history site (default: $PERFGATE_SITE_URL)" },
		{ "strict-report", 0, OPT_FLAG, &a->o.pub.strict_report, NULL, "exit 4 when a report or comment could not be published" },
		{ "suite", 's', OPT_STRING, &a->suite_path, "FILE", "the suite: its compare settings, SLOs and A/B variants" },
		{ "variants", 0, OPT_FLAG, &a->variants, NULL, "compare A/B variants within the run only (no history; nothing stored)" },
		{ "verbose", 0, OPT_FLAG, &a->o.all, NULL, "text report: every metric a row, not only the key metrics" },
	};
	int rc = opt_parse(&usage, opts, ARRAY_SIZE(opts), argc, argv, &a->pos);

	if (rc != OPT_OK)
		return rc == OPT_HELP ? EXIT_PASS : EXIT_USAGE;
	if ((a->pos.n == 1) == (a->run_file != NULL) || a->pos.n > 1) {
		cmd_error("'compare' needs either a stored RUN_ID or --run-file FILE");
		return EXIT_USAGE;
	}
	if (!cmd_opt_at_least_one("baseline-runs", &a->runs))
		return EXIT_USAGE;
	return output_check_format(&a->o) ? EXIT_USAGE : -1;
}

/*
 * The run to compare: from its file, else from the database.  A run that is
 * not there is the user's mistake (exit 2); a database that fails is not
 * (exit 4).
 */
static int load_run(const struct compare_args *a, struct db_store *dbs, struct rundoc **rd)
{
	struct db *db = NULL;
	struct err err = ERR_INIT;
	int rc;

	if (a->run_file)
		rc = rundoc_load(rd, a->run_file, &err);
	else if ((rc = db_store_connect(dbs, &db, &err)) == 0)
		rc = db_run_load(db, a->pos.items[0], rd, &err);
	if (rc == ERR_FAIL && a->run_file)
		rc = ERR_INPUT;
	return rc ? cmd_fail(rc, &err) : 0;
}

/*
 * The run's verdict (what report and history show) is its gate's
 * comparison, or for a run pushed without a gate its first comparison
 * against the automatic baseline.  A comparison against an explicit
 * --baseline, or one made after the verdict, is shown and not stored: a
 * one-off look used to overwrite the gate's verdict.
 */
static int store_verdict(const struct compare_args *a, struct db_store *dbs, struct gate_store *store,
			 const struct compare_result *res, struct err *err)
{
	struct db *db = NULL;
	cJSON *old = NULL;
	int rc;

	if (a->spec) {
		cmd_warn("comparison against --baseline %s not stored: the run's verdict (report, history) stays its "
			 "gate's", a->spec);
		return 0;
	}
	if ((rc = db_store_connect(dbs, &db, err)) != 0)
		return rc;
	rc = db_comparison_load(db, res->run_id, &old, err);
	cJSON_Delete(old);
	if (rc == 0) {
		cmd_warn("comparison not stored: run %.8s already has its verdict (perfgate report %.8s shows it)",
			 res->run_id, res->run_id);
		return 0;
	}
	if (rc != ERR_NOTFOUND)
		return rc;
	*err = (struct err)ERR_INIT;
	return gate_store_comparison(store, res, err);
}

int cmd_compare(int argc, char **argv)
{
	struct compare_args a = { .o = { .format = "text" }, .runs = LONG_MIN, .pos = STRLIST_INIT };
	struct gate_options go = GATE_OPTIONS_INIT;
	struct db_options dbo = DB_OPTIONS_INIT;
	struct baseline_source src;
	struct gate_store store;
	struct baseline base = { .mode = BASELINE_NONE };
	struct db_store *dbs = NULL;
	struct suite *suite = NULL;
	struct rundoc *rd = NULL;
	struct compare_result *res = NULL;
	struct err err = ERR_INIT;
	bool need_db;
	int rc, code;

	if ((code = parse_args(&a, argc, argv)) >= 0 ||
	    (a.suite_path && (code = cmd_load_suite(a.suite_path, &suite)) != 0))
		goto done;
	dbo.url = a.db_url;
	db_store_open(&dbs, &dbo, &err);
	db_store_baseline_source(dbs, &src);
	db_store_gate_store(dbs, &store);
	/* Only what needs the database connects to it; a failure is exit 4. */
	need_db = !a.run_file || (!a.variants && !(a.spec && strncmp(a.spec, "file:", 5) == 0));
	if (need_db && (rc = db_store_connect(dbs, NULL, &err)) != 0) {
		code = cmd_fail(rc, &err);
		goto done;
	}
	if ((code = load_run(&a, dbs, &rd)) != 0)
		goto done;
	go.baseline = a.spec;
	go.baseline_runs = (size_t)a.runs;
	go.repo_dir = a.repo;
	go.strict = a.strict;
	go.variants_only = a.variants;
	rc = gate_compare(rd, suite, &go, need_db ? &src : NULL, &base, &res, &err);
	/* An A/B-only look (--variants) never replaces the run's stored comparison. */
	if (rc == 0 && !a.run_file && !a.no_store && !a.variants)
		rc = store_verdict(&a, dbs, &store, res, &err);
	if (rc) {
		code = cmd_fail(rc, &err);
		goto done;
	}
	a.o.run = rd;
	a.o.baseline = base.n_runs > 0 ? base.runs[0].doc : NULL;
	a.o.base = &base;
	code = output_write(res, &a.o);
	output_warn_loud(res);
	if (!code)
		code = output_exit(res);
done:
	compare_result_free(res);
	baseline_release(&base); /* also what a failed baseline_select filled */
	rundoc_free(rd);
	db_store_free(dbs);
	suite_free(suite);
	strlist_release(&a.pos);
	return code;
}
