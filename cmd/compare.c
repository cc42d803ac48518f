/*
 * compare.c: `perfgate compare [RUN_ID | --run-file FILE]`: compare a stored
 * (or saved) run against its baseline and print the report.  With --suite
 * the suite's compare settings, SLOs and A/B variants apply.  A stored
 * run's comparison is stored too, for `perfgate report RUN_ID`.
 *
 * Exit codes: 0 passed, 1 regression or SLO violated, 2 usage or invalid
 * input (unknown run, bad --baseline, an SLO naming a missing metric),
 * 4 database unreachable.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/baseline.h"
#include "../core/compare.h"
#include "../core/report.h"
#include "../core/suite.h"
#include "../core/util.h"
#include "../db/baseline.h"
#include "../db/db.h"
#include "cmd.h"
#include "compare_common.h"

int cmd_compare(int argc, char **argv)
{
	static const struct cmd_usage usage = {
		"compare", "[options] [RUN_ID | --run-file FILE]",
		"compare a stored or saved run against its baseline",
		"The baseline: runs on the baseline branch (suite baseline.branch, else the PR's\n"
		"base branch, else the remote's default branch, else main) at the nearest\n"
		"ancestors of the run's commit, the last K per benchmark (docs/gate.md).\n"
		"--baseline RUN_ID | COMMIT | branch:NAME | file:RUN.json overrides it.\n"
		"Exit codes: 0 passed, 1 regression or SLO violated, 2 usage or invalid input,\n"
		"4 database unreachable.",
	};
	const char *run_file = NULL, *suite_path = NULL, *spec = NULL, *db_url = NULL, *repo = NULL;
	struct cmpcmd_out o = { .format = "text" };
	bool strict = false, variants = false, no_store = false;
	long runs = 0;
	struct strlist pos = STRLIST_INIT;
	const struct opt opts[] = {
		{ "baseline", 0, OPT_STRING, &spec, "SPEC", "RUN_ID, COMMIT, branch:NAME or file:RUN.json instead of the automatic baseline" },
		{ "baseline-runs", 0, OPT_INT, &runs, "K", "baseline runs per benchmark (default: suite baseline.runs, else 5)" },
		{ "comment", 0, OPT_FLAG, &o.pub.comment, NULL, "post or update the one pull/merge-request comment (GitHub, GitLab)" },
		{ "db", 0, OPT_STRING, &db_url, "URL", "PostgreSQL URL (default: $PERFGATE_DATABASE_URL, then the embedded database)" },
		{ "format", 'f', OPT_STRING, &o.format, "FMT", "text (default), markdown, json or junit" },
		{ "json", 0, OPT_STRING, &o.json, "FILE", "also write the JSON report to FILE" },
		{ "junit", 0, OPT_STRING, &o.junit, "FILE", "also write a JUnit XML report to FILE" },
		{ "markdown", 0, OPT_STRING, &o.markdown, "FILE", "also write the Markdown report to FILE" },
		{ "metrics", 0, OPT_STRING, &o.pub.metrics, "FILE", "also write the OpenMetrics report GitLab's metrics widget reads" },
		{ "no-store", 0, OPT_FLAG, &no_store, NULL, "do not store the comparison" },
		{ "out", 'o', OPT_STRING, &o.out, "FILE", "write the report to FILE instead of stdout" },
		{ "repo", 0, OPT_STRING, &repo, "DIR", "git checkout for the commit history (default: .)" },
		{ "run-file", 0, OPT_STRING, &run_file, "FILE", "compare the run document in FILE (from run --out)" },
		{ "strict", 0, OPT_FLAG, &strict, NULL, "inconclusive and insufficient-data verdicts fail too" },
		{ "strict-report", 0, OPT_FLAG, &o.pub.strict_report, NULL, "exit 4 when a report or comment could not be published" },
		{ "suite", 's', OPT_STRING, &suite_path, "FILE", "the suite: its compare settings, SLOs and A/B variants" },
		{ "variants", 0, OPT_FLAG, &variants, NULL, "compare A/B variants within the run only (no history; nothing stored)" },
	};
	struct compare_options co = COMPARE_OPTIONS_INIT;
	struct baseline_source src;
	struct baseline base;
	struct errlist problems = ERRLIST_INIT;
	struct err err = ERR_INIT;
	struct db_options dbo = DB_OPTIONS_INIT;
	struct suite *suite = NULL;
	struct rundoc *rd = NULL;
	struct compare_result *res = NULL;
	struct db *db = NULL;
	bool have_base = false, need_db;
	int rc, code = EXIT_PASS;

	memset(&base, 0, sizeof(base));
	memset(&src, 0, sizeof(src));
	/* Not OPT_PARSE_OR_RETURN: the positional list must be released on every path. */
	code = opt_parse(&usage, opts, ARRAY_SIZE(opts), argc, argv, &pos);
	if (code != OPT_OK) {
		code = code == OPT_HELP ? EXIT_PASS : EXIT_USAGE;
		goto done;
	}
	if ((pos.n == 1) == (run_file != NULL) || pos.n > 1) {
		cmd_error("'compare' needs either a stored RUN_ID or --run-file FILE");
		code = EXIT_USAGE;
		goto done;
	}
	if ((code = cmpcmd_check_format(&o)) != 0)
		goto done;
	if (runs < 0) {
		cmd_error("invalid --baseline-runs %ld: expected an integer >= 1", runs);
		code = EXIT_USAGE;
		goto done;
	}
	if (suite_path) {
		rc = suite_load(&suite, suite_path, &problems, &err);
		if (rc) {
			cmd_error("%s", err.msg);
			for (size_t i = 1; i < problems.n; i++)
				fprintf(stderr, "  %s\n", problems.msgs[i]);
			code = cmd_exit_code(rc);
			goto done;
		}
	}
	need_db = pos.n == 1 || (!variants && !(spec && strncmp(spec, "file:", 5) == 0));
	if (need_db) {
		dbo.url = db_url;
		rc = db_open(&db, &dbo, &err);
		if (rc) {
			code = cmd_fail(rc, &err);
			goto done;
		}
	}
	if (run_file)
		rc = rundoc_load(&rd, run_file, &err);
	else
		rc = db_run_load(db, pos.items[0], &rd, &err);
	if (rc) {
		if (rc == ERR_NOTFOUND || rc == ERR_FAIL)
			rc = ERR_INPUT;
		code = cmd_fail(rc, &err);
		goto done;
	}

	if (!variants) {
		if (db)
			db_baseline_source(db, &src);
		rc = cmpcmd_select_baseline(&src, rd, suite, repo, runs, spec, &base);
		if (rc) {
			code = rc;
			goto done;
		}
		have_base = true;
	}
	co.strict = strict;
	co.variants_only = variants;
	rc = compare_run(rd, have_base ? &base : NULL, suite, &co, &res, &err);
	if (rc) {
		code = cmd_fail(rc, &err);
		goto done;
	}
	/* An A/B-only look (--variants) never replaces the run's stored comparison. */
	if (db && !run_file && !no_store && !variants) {
		cJSON *j = report_to_json(res);

		rc = db_comparison_store(db, rd->run_id, j, &err);
		cJSON_Delete(j);
		if (rc) {
			code = cmd_fail(rc, &err);
			goto done;
		}
	}
	code = cmpcmd_write(res, &o);
	cmpcmd_warn_loud(res);
	if (!code)
		code = cmpcmd_exit(res);
done:
	compare_result_free(res);
	baseline_release(&base); /* also what a failed baseline_select filled */
	rundoc_free(rd);
	db_free(db);
	suite_free(suite);
	errlist_release(&problems);
	strlist_release(&pos);
	return code;
}
