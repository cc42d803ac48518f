/*
 * history.c: `perfgate history BENCHMARK[/METRIC]`: a metric's history from
 * the database, one row per run in commit order (commit, date, median with
 * its confidence interval, repetitions, verdict, change point, subject), as
 * a table, CSV or JSON; `history --list` shows every stored series.  With
 * --changepoints the stored change points are marked (and --recompute
 * re-analyses the whole series first and stores what it finds).  What it
 * prints is historyview.c's.
 */
#include "cmd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/changepoint.h"
#include "../core/util.h"
#include "../db/db.h"
#include "../db/history.h"
#include "historyview.h"

/* The command line. */
struct history_args {
	const char *url, *format, *min_mag;
	struct history_query q;
	long limit, window, min_size;
	double p_max;
	bool list, marks, recompute, explain, analyze, plain;
	enum cmd_history_format fmt;
	struct strlist pos;
};

static int parse_format(struct history_args *a)
{
	static const char *const fmts[] = { "table", "csv", "json" };
	const char *near;

	for (size_t i = 0; i < ARRAY_SIZE(fmts); i++)
		if (strcmp(a->format, fmts[i]) == 0) {
			a->fmt = (enum cmd_history_format)i;
			return 0;
		}
	near = closest_match(a->format, fmts, ARRAY_SIZE(fmts));
	cmd_error("unknown format '%s'%s%s%s", a->format, near ? " (did you mean '" : "",
		  near ? near : "", near ? "'?)" : "; use table, csv or json");
	return EXIT_USAGE;
}

/* Returns -1 to go on, else the exit code. */
static int parse_args(struct history_args *a, int argc, char **argv)
{
	static const struct cmd_usage usage = {
		"history", "[options] BENCHMARK[/METRIC] | --list",
		"show a metric's history from the database, one row per run in commit order",
		"Rows are the runs of the metric in commit order (commit time, then start\n"
		"time), oldest first, the newest --limit of them.  Without /METRIC: 'wall',\n"
		"else the benchmark's only metric.  --format json prints an array of objects\n"
		"(run_id, commit, time, median, ci_low, ci_high, n, verdict, changepoint...).\n"
		"--changepoints marks the stored change points (E-divisive means, see\n"
		"docs/statistics.md); with --recompute the whole series is analysed again\n"
		"with --p-max, --min-magnitude and --window and the result stored."
	};
	const struct opt opts[] = {
		{ "branch", 'b', OPT_STRING, &a->q.branch, "NAME", "only runs on this branch" },
		{ "changepoints", 0, OPT_FLAG, &a->marks, NULL, "mark the stored change points" },
		{ "db", 0, OPT_STRING, &a->url, "URL", "database URL (default: PERFGATE_DATABASE_URL, "
						      "PG* variables, else the embedded cluster)" },
		{ "explain", 0, OPT_FLAG, &a->explain, NULL, "print the query plan instead of the rows" },
		{ "explain-analyze", 0, OPT_FLAG, &a->analyze, NULL, "run the query and print the plan with timings" },
		{ "format", 'f', OPT_STRING, &a->format, "FMT", "table (default), csv or json" },
		{ "limit", 'n', OPT_INT, &a->limit, "N", "the newest N runs (default 100; 0: all)" },
		{ "list", 'l', OPT_FLAG, &a->list, NULL, "list suites, benchmarks and metrics with run counts" },
		{ "machine", 'm', OPT_STRING, &a->q.fingerprint, "FINGERPRINT", "only runs on this machine (a prefix is enough)" },
		{ "min-magnitude", 0, OPT_STRING, &a->min_mag, "FRACTION", "with --recompute: smallest change, e.g. 5% (default: 5%)" },
		{ "min-size", 0, OPT_INT, &a->min_size, "N", "with --recompute: fewest runs either side of a change (default 3)" },
		{ "p-max", 0, OPT_DOUBLE, &a->p_max, "P", "with --recompute: significance (default 0.001)" },
		{ "plain", 0, OPT_FLAG, &a->plain, NULL, "with --recompute: Otava's plain t-test (no winsorising)" },
		{ "project", 0, OPT_STRING, &a->q.project, "NAME", "only this project" },
		{ "recompute", 0, OPT_FLAG, &a->recompute, NULL, "re-analyse the whole series' change points and store them" },
		{ "since", 0, OPT_STRING, &a->q.since, "DATE", "only runs from this date on (e.g. 2026-11-01)" },
		{ "suite", 's', OPT_STRING, &a->q.suite, "NAME", "only this suite" },
		{ "window", 0, OPT_INT, &a->window, "N", "with --recompute: E-divisive window (default 50)" },
	};
	int rc = opt_parse(&usage, opts, ARRAY_SIZE(opts), argc, argv, &a->pos);

	if (rc != OPT_OK)
		return rc == OPT_HELP ? EXIT_PASS : EXIT_USAGE;
	if (parse_format(a))
		return EXIT_USAGE;
	if (a->limit < 0) {
		cmd_error("--limit must be >= 0, got %ld", a->limit);
		return EXIT_USAGE;
	}
	a->q.limit = a->limit;
	if (a->list ? a->pos.n != 0 : a->pos.n != 1) {
		cmd_error(a->list ? "--list takes no benchmark" : "expected one BENCHMARK[/METRIC] (or --list); see 'perfgate history --help'");
		return EXIT_USAGE;
	}
	if (a->recompute && !a->marks) {
		cmd_error("--recompute goes with --changepoints");
		return EXIT_USAGE;
	}
	return -1;
}

/* --recompute: analyse the whole series with the command line's parameters. */
static int recompute(struct db *db, const struct history_args *a)
{
	struct changepoint_params p = CHANGEPOINT_PARAMS_INIT;
	struct err err = ERR_INIT;
	size_t found = 0;
	int rc;

	if (a->p_max != 0)
		p.p_max = a->p_max;
	if (a->window != 0) {
		p.window = (size_t)(a->window > 0 ? a->window : 0);
		p.step = p.window / 2;
	}
	if (a->min_size > 0)
		p.min_size = (size_t)a->min_size;
	if (a->plain)
		p.robust = false;
	if (a->min_mag && (parse_fraction(a->min_mag, &p.min_magnitude, &err) < 0 || p.min_magnitude < 0)) {
		cmd_error("--min-magnitude expects a fraction such as 0.05 or 5%%, got '%s'", a->min_mag);
		return EXIT_USAGE;
	}
	if ((rc = changepoint_params_check(&p, &err)) < 0 ||
	    (rc = history_recompute_changepoints(db, &a->q, &p, &found, &err)) < 0)
		return cmd_fail(rc, &err);
	fprintf(stderr, "perfgate: %zu change point%s stored for %s/%s\n", found, found == 1 ? "" : "s",
		a->q.benchmark, a->q.metric);
	return EXIT_PASS;
}

/* The series' query plan, or its rows. */
static int show(struct db *db, const struct history_args *a)
{
	struct history *h = NULL;
	struct err err = ERR_INIT;
	char *plan = NULL;
	int rc;

	if (a->explain || a->analyze) {
		if ((rc = history_explain(db, &a->q, a->analyze, &plan, &err)) < 0)
			return cmd_fail(rc, &err);
		fputs(plan, stdout);
		free(plan);
		return EXIT_PASS;
	}
	if ((rc = history_load(db, &a->q, &h, &err)) < 0)
		return cmd_fail(rc, &err);
	if (h->n == 0 && a->fmt == HISTORY_TABLE)
		fprintf(stderr, "perfgate: no runs of %s/%s match\n", a->q.benchmark, a->q.metric);
	else
		cmd_history_print_rows(h, a->q.benchmark, a->q.metric, a->fmt, a->marks);
	history_free(h);
	return EXIT_PASS;
}

int cmd_history(int argc, char **argv)
{
	struct history_args a = { .format = "table", .q = HISTORY_QUERY_INIT, .limit = 100,
				  .pos = STRLIST_INIT };
	struct db_options dbo = DB_OPTIONS_INIT;
	struct db *db = NULL;
	char *bench = NULL, *metric = NULL;
	struct err err = ERR_INIT;
	int rc, ret;

	if ((ret = parse_args(&a, argc, argv)) >= 0)
		goto done;
	dbo.url = a.url;
	if ((rc = db_open(&db, &dbo, &err)) < 0) {
		ret = cmd_fail(rc, &err);
		goto done;
	}
	if (a.list) {
		ret = cmd_history_print_list(db, a.q.project, a.q.suite, a.fmt);
		goto done;
	}
	if ((rc = history_resolve(db, a.pos.items[0], &bench, &metric, &err)) < 0) {
		ret = cmd_fail(rc, &err);
		goto done;
	}
	a.q.benchmark = bench;
	a.q.metric = metric;
	if (!a.recompute || (ret = recompute(db, &a)) == EXIT_PASS)
		ret = show(db, &a);
done:
	free(bench);
	free(metric);
	db_free(db);
	strlist_release(&a.pos);
	return ret;
}
