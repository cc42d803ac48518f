/*
 * report.c: `perfgate report RUN_ID`: re-render the stored comparison of a
 * run (what `gate` or `compare` decided) as text, Markdown, JSON or JUnit,
 * e.g. to post the Markdown as a pull-request comment in a later CI step.
 * `--file FILE` renders a comparison saved with `--json FILE` instead.
 *
 * Exit codes: 0 rendered (whatever the verdict; --exit-code returns 1 when
 * the comparison failed), 2 no such run or comparison, 4 database unreachable.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/compare.h"
#include "../core/report.h"
#include "../core/util.h"
#include "../db/baseline.h"
#include "../db/db.h"
#include "cmd.h"
#include "output.h"

static bool wants_html(const struct output_opts *o)
{
	return o->html || (o->format && strcmp(o->format, "html") == 0);
}

/* The stored run of a comparison, for the HTML report's pictures, commit
 * and machine (a stored comparison names its baseline's commits, not its
 * runs, so the baseline's spectrum is not drawn under the run's); without
 * it the page has the numbers only, and a warning says why. */
static struct rundoc *html_run(struct db *db, const struct compare_result *res)
{
	struct rundoc *run = NULL;
	struct err err = ERR_INIT;

	if (db_run_load(db, res->run_id, &run, &err) != 0) {
		cmd_warn("HTML report: the run's pictures are left out: %s", err.msg);
		return NULL;
	}
	return run;
}

int cmd_report(int argc, char **argv)
{
	static const struct cmd_usage usage = {
		"report", "[options] RUN_ID | --file FILE",
		"render a stored comparison as text, Markdown, JSON, JUnit or HTML",
		"RUN_ID may be a unique prefix of a run id (at least 4 hex digits), as gate prints it.\n"
		"The HTML report of a stored run draws its pictures from the stored run document;\n"
		"with --file it has the comparison's numbers only.",
	};
	const char *db_url = NULL, *file = NULL;
	struct output_opts o = { .format = "text" };
	bool exit_code = false;
	struct strlist pos = STRLIST_INIT;
	const struct opt opts[] = {
		{ "all", 0, OPT_FLAG, &o.all, NULL, "text report: every metric a row (as --verbose)" },
		{ "comment", 0, OPT_FLAG, &o.pub.comment, NULL, "post or update the one pull/merge-request comment (GitHub, GitLab)" },
		{ "db", 0, OPT_STRING, &db_url, "URL", "PostgreSQL URL (default: $PERFGATE_DATABASE_URL, then the embedded database)" },
		{ "exit-code", 0, OPT_FLAG, &exit_code, NULL, "exit 1 when the comparison failed" },
		{ "file", 0, OPT_STRING, &file, "FILE", "render a comparison saved with --json FILE" },
		{ "format", 'f', OPT_STRING, &o.format, "FMT", "text (default), markdown, json, junit or html" },
		{ "html", 0, OPT_STRING, &o.html, "FILE", "also write the HTML report (one self-contained page) to FILE" },
		{ "json", 0, OPT_STRING, &o.json, "FILE", "also write the JSON report to FILE" },
		{ "junit", 0, OPT_STRING, &o.junit, "FILE", "also write a JUnit XML report to FILE" },
		{ "markdown", 0, OPT_STRING, &o.markdown, "FILE", "also write the Markdown report to FILE" },
		{ "metrics", 0, OPT_STRING, &o.pub.metrics, "FILE", "also write the OpenMetrics report GitLab's metrics widget reads" },
		{ "out", 'o', OPT_STRING, &o.out, "FILE", "write the report to FILE instead of stdout" },
		{ "report-url", 0, OPT_STRING, &o.report_url, "URL", "Markdown report: link to the HTML report (default: $PERFGATE_REPORT_URL)" },
		{ "site-url", 0, OPT_STRING, &o.site_url, "URL", "Markdown report: link to the history site (default: $PERFGATE_SITE_URL)" },
		{ "strict-report", 0, OPT_FLAG, &o.pub.strict_report, NULL, "exit 4 when a report or comment could not be published" },
		{ "verbose", 0, OPT_FLAG, &o.all, NULL, "text report: every metric a row, not only the key metrics" },
	};
	struct db_options dbo = DB_OPTIONS_INIT;
	struct err err = ERR_INIT;
	struct db *db = NULL;
	struct compare_result *res = NULL;
	struct rundoc *run = NULL;
	cJSON *json = NULL;
	char *text = NULL;
	int rc, code = EXIT_PASS;

	/* Not OPT_PARSE_OR_RETURN: the positional list must be released on every path. */
	code = opt_parse(&usage, opts, ARRAY_SIZE(opts), argc, argv, &pos);
	if (code != OPT_OK) {
		code = code == OPT_HELP ? EXIT_PASS : EXIT_USAGE;
		goto done;
	}
	if ((pos.n == 1) == (file != NULL) || pos.n > 1) {
		cmd_error("'report' needs either a RUN_ID or --file FILE");
		code = EXIT_USAGE;
		goto done;
	}
	if ((code = output_check_format(&o)) != 0)
		goto done;
	if (file) {
		rc = file_read_max(file, RUNDOC_READ_MAX, &text, NULL, &err);
		if (rc) {
			code = cmd_fail(ERR_INPUT, &err);
			goto done;
		}
		json = cJSON_Parse(text);
		if (!json) {
			cmd_error("'%s' is not valid JSON", file);
			code = EXIT_USAGE;
			goto done;
		}
	} else {
		dbo.url = db_url;
		rc = db_open(&db, &dbo, &err);
		if (!rc)
			rc = db_comparison_load(db, pos.items[0], &json, &err);
		if (rc) {
			code = cmd_fail(rc, &err);
			goto done;
		}
	}
	rc = report_from_json(json, &res, &err);
	if (rc) {
		code = cmd_fail(rc, &err);
		goto done;
	}
	if (db && res->run_id && wants_html(&o))
		o.run = run = html_run(db, res);
	code = output_write(res, &o);
	if (!code && exit_code)
		code = output_exit(res);
done:
	compare_result_free(res);
	rundoc_free(run);
	cJSON_Delete(json);
	free(text);
	db_free(db);
	strlist_release(&pos);
	return code;
}
