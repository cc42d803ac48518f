/*
 * history.c: `perfgate history BENCHMARK[/METRIC]`: a metric's history from
 * the database, one row per run in commit order (commit, date, median with
 * its confidence interval, repetitions, verdict, change point, subject), as
 * a table, CSV or JSON; `history --list` shows every stored series.  With
 * --changepoints the stored change points are marked (and --recompute
 * re-analyses the whole series first and stores what it finds).
 */
#include "cmd.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "../core/changepoint.h"
#include "../core/plot.h"
#include "../core/util.h"
#include "../db/db.h"
#include "../db/history.h"

enum fmt { FMT_TABLE, FMT_CSV, FMT_JSON };

/* "12.1 ms", "512 MiB", "48.2 /s": SI values scaled for people. */
static char *human(double v, const char *unit)
{
	double factor;
	const char *shown;

	if (!isfinite(v))
		return xstrdup("-");
	plot_scale(unit, fabs(v), &factor, &shown);
	if (strcmp(shown, "count") == 0 || !*shown)
		return xasprintf("%.4g", v * factor);
	return xasprintf("%.4g %s", v * factor, shown);
}

/* RFC 4180: quote when needed, double the quotes. */
static void csv_field(const char *s)
{
	if (!s)
		return;
	if (!strpbrk(s, ",\"\r\n")) {
		fputs(s, stdout);
		return;
	}
	putchar('"');
	for (; *s; s++) {
		if (*s == '"')
			putchar('"');
		putchar(*s);
	}
	putchar('"');
}

static void csv_num(double v)
{
	if (isfinite(v))
		printf("%.9g", v);
}

static cJSON *json_num(double v)
{
	return isfinite(v) ? cJSON_CreateNumber(v) : cJSON_CreateNull();
}

static cJSON *json_str(const char *s)
{
	return s ? cJSON_CreateString(s) : cJSON_CreateNull();
}

static void print_json(cJSON *j)
{
	char *text = cJSON_Print(j);
	puts(text);
	free(text);
	cJSON_Delete(j);
}

static int print_list(struct db *db, const char *project, const char *suite, enum fmt fmt)
{
	struct history_series *s = NULL;
	size_t n = 0;
	struct err err = ERR_INIT;
	int rc;

	if ((rc = history_list(db, project, suite, &s, &n, &err)) < 0)
		return cmd_fail(rc, &err);
	if (fmt == FMT_JSON) {
		cJSON *arr = cJSON_CreateArray();
		for (size_t i = 0; i < n; i++) {
			cJSON *o = cJSON_CreateObject();
			cJSON_AddItemToObject(o, "project", json_str(s[i].project));
			cJSON_AddItemToObject(o, "suite", json_str(s[i].suite));
			cJSON_AddItemToObject(o, "benchmark", json_str(s[i].benchmark));
			cJSON_AddItemToObject(o, "metric", json_str(s[i].metric));
			cJSON_AddItemToObject(o, "unit", json_str(s[i].unit));
			cJSON_AddNumberToObject(o, "runs", (double)s[i].runs);
			cJSON_AddItemToObject(o, "last_median", json_num(s[i].last_median));
			cJSON_AddItemToObject(o, "last_time", json_str(s[i].last_time));
			cJSON_AddItemToArray(arr, o);
		}
		print_json(arr);
	} else if (fmt == FMT_CSV) {
		puts("project,suite,benchmark,metric,unit,runs,last_median,last_time");
		for (size_t i = 0; i < n; i++) {
			csv_field(s[i].project);
			putchar(',');
			csv_field(s[i].suite);
			putchar(',');
			csv_field(s[i].benchmark);
			putchar(',');
			csv_field(s[i].metric);
			putchar(',');
			csv_field(s[i].unit);
			printf(",%lld,", s[i].runs);
			csv_num(s[i].last_median);
			putchar(',');
			csv_field(s[i].last_time);
			putchar('\n');
		}
	} else if (n == 0) {
		puts("no runs stored yet");
	} else {
		int wp = 7, ws = 5, wm = 16;
		for (size_t i = 0; i < n; i++) {
			int l = (int)(strlen(s[i].benchmark) + 1 + strlen(s[i].metric));
			wp = (int)strlen(s[i].project) > wp ? (int)strlen(s[i].project) : wp;
			ws = (int)strlen(s[i].suite) > ws ? (int)strlen(s[i].suite) : ws;
			wm = l > wm ? l : wm;
		}
		printf("%-*s  %-*s  %-*s  %6s  %-12s  %s\n", wp, "project", ws, "suite", wm,
		       "benchmark/metric", "runs", "last", "last run");
		for (size_t i = 0; i < n; i++) {
			char *name = xasprintf("%s/%s", s[i].benchmark, s[i].metric);
			char *last = human(s[i].last_median, s[i].unit);
			printf("%-*s  %-*s  %-*s  %6lld  %-12s  %s\n", wp, s[i].project, ws, s[i].suite,
			       wm, name, s[i].runs, last, s[i].last_time);
			free(name);
			free(last);
		}
	}
	history_series_free(s, n);
	return EXIT_PASS;
}

static void print_rows(const struct history *h, const char *bench, const char *metric,
		       enum fmt fmt, bool marks)
{
	if (fmt == FMT_JSON) {
		/* One object per line, each printed and freed as it is made:
		 * 100,000 rows never sit in memory as one tree. */
		fputs("[", stdout);
		for (size_t i = 0; i < h->n; i++) {
			const struct history_row *r = &h->rows[i];
			cJSON *o = cJSON_CreateObject();
			cJSON_AddItemToObject(o, "run_id", json_str(r->run_id));
			cJSON_AddItemToObject(o, "commit", json_str(r->commit));
			cJSON_AddItemToObject(o, "time", json_str(r->time));
			cJSON_AddItemToObject(o, "subject", json_str(r->subject));
			cJSON_AddItemToObject(o, "branch", json_str(r->branch));
			cJSON_AddItemToObject(o, "fingerprint", json_str(r->fingerprint));
			cJSON_AddItemToObject(o, "benchmark", json_str(bench));
			cJSON_AddItemToObject(o, "metric", json_str(metric));
			cJSON_AddItemToObject(o, "unit", json_str(h->unit));
			cJSON_AddItemToObject(o, "median", json_num(r->median));
			cJSON_AddItemToObject(o, "ci_low", json_num(r->ci_low));
			cJSON_AddItemToObject(o, "ci_high", json_num(r->ci_high));
			cJSON_AddNumberToObject(o, "n", (double)r->n);
			cJSON_AddItemToObject(o, "verdict", json_str(r->verdict));
			cJSON_AddBoolToObject(o, "changepoint", r->changepoint);
			if (r->changepoint) {
				cJSON *c = cJSON_AddObjectToObject(o, "change");
				cJSON_AddItemToObject(c, "magnitude", json_num(r->cp_magnitude));
				cJSON_AddItemToObject(c, "p", json_num(r->cp_p));
			}
			{
				char *text = cJSON_PrintUnformatted(o);
				printf("%s\n%s", i ? "," : "", text);
				free(text);
			}
			cJSON_Delete(o);
		}
		puts(h->n ? "\n]" : "]");
		return;
	}
	if (fmt == FMT_CSV) {
		puts("run_id,commit,time,branch,median,ci_low,ci_high,n,unit,verdict,changepoint,subject");
		for (size_t i = 0; i < h->n; i++) {
			const struct history_row *r = &h->rows[i];
			printf("%s,", r->run_id);
			csv_field(r->commit);
			printf(",%s,", r->time);
			csv_field(r->branch);
			putchar(',');
			csv_num(r->median);
			putchar(',');
			csv_num(r->ci_low);
			putchar(',');
			csv_num(r->ci_high);
			printf(",%ld,", r->n);
			csv_field(h->unit);
			putchar(',');
			csv_field(r->verdict);
			printf(",%s,", r->changepoint ? "true" : "false");
			csv_field(r->subject);
			putchar('\n');
		}
		return;
	}
	printf("%s/%s (%s is better)\n", bench, metric, h->direction && strcmp(h->direction, "higher") == 0
								 ? "higher" : "lower");
	/* Rows from several branches or machines are not one series: say so. */
	{
		size_t branches = 0, machines = 0;
		for (size_t i = 0; i < h->n; i++) {
			bool nb = true, nm = true;
			for (size_t j = 0; j < i; j++) {
				if (nb && !strcmp(h->rows[j].branch ? h->rows[j].branch : "",
						  h->rows[i].branch ? h->rows[i].branch : ""))
					nb = false;
				if (nm && !strcmp(h->rows[j].fingerprint ? h->rows[j].fingerprint : "",
						  h->rows[i].fingerprint ? h->rows[i].fingerprint : ""))
					nm = false;
			}
			branches += nb;
			machines += nm;
		}
		if (branches > 1 || machines > 1)
			fprintf(stderr, "perfgate: these rows mix %zu branch%s and %zu machine%s; --branch and --machine select one series\n",
				branches, branches == 1 ? "" : "es", machines, machines == 1 ? "" : "s");
	}
	printf("%-10s  %-20s  %10s  %-23s  %4s  %-12s  %s%s\n", "commit", "date", "median",
	       "95% CI", "n", "verdict", marks ? "change      " : "", "subject");
	for (size_t i = 0; i < h->n; i++) {
		const struct history_row *r = &h->rows[i];
		char *med = human(r->median, h->unit), *lo = human(r->ci_low, h->unit),
		     *hi = human(r->ci_high, h->unit);
		char *ci = isfinite(r->ci_low) ? xasprintf("[%s, %s]", lo, hi) : xstrdup("-");
		char commit[11];
		char change[32] = "";

		snprintf(commit, sizeof(commit), "%.10s", r->commit ? r->commit : r->run_id);
		if (marks) {
			char tmp[24] = "";
			if (r->changepoint && isfinite(r->cp_magnitude))
				snprintf(tmp, sizeof(tmp), "%s %+.1f%%", r->cp_magnitude >= 0 ? "^" : "v",
					 r->cp_magnitude * 100);
			else if (r->changepoint)
				snprintf(tmp, sizeof(tmp), "changed");
			snprintf(change, sizeof(change), "%-12s", tmp);
		}
		printf("%-10s  %-20s  %10s  %-23s  %4ld  %-12s  %s%s\n", commit, r->time, med, ci, r->n,
		       r->verdict ? r->verdict : "-", change, r->subject ? r->subject : "");
		free(med);
		free(lo);
		free(hi);
		free(ci);
	}
}

static int parse_fraction_arg(const char *s, double *out)
{
	struct err err = ERR_INIT;
	size_t len = strlen(s);
	int rc;

	if (len > 1 && s[len - 1] == '%') {
		char *num = xstrndup(s, len - 1);
		rc = parse_double(num, out, &err);
		free(num);
		*out /= 100;
	} else {
		rc = parse_double(s, out, &err);
	}
	return rc < 0 || *out < 0 ? -1 : 0;
}

int cmd_history(int argc, char **argv)
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
	struct db_options dbo = DB_OPTIONS_INIT;
	const char *url = NULL, *format = "table", *min_mag = NULL;
	struct history_query q = HISTORY_QUERY_INIT;
	long limit = 100, window = 0, min_size = 0;
	double p_max = 0;
	bool list = false, marks = false, recompute = false, explain = false, analyze = false;
	bool plain = false;
	const struct opt opts[] = {
		{ "branch", 'b', OPT_STRING, &q.branch, "NAME", "only runs on this branch" },
		{ "changepoints", 0, OPT_FLAG, &marks, NULL, "mark the stored change points" },
		{ "db", 0, OPT_STRING, &url, "URL", "database URL (default: PERFGATE_DATABASE_URL, "
						   "PG* variables, else the embedded cluster)" },
		{ "explain", 0, OPT_FLAG, &explain, NULL, "print the query plan instead of the rows" },
		{ "explain-analyze", 0, OPT_FLAG, &analyze, NULL, "run the query and print the plan with timings" },
		{ "format", 'f', OPT_STRING, &format, "FMT", "table (default), csv or json" },
		{ "limit", 'n', OPT_INT, &limit, "N", "the newest N runs (default 100; 0: all)" },
		{ "list", 'l', OPT_FLAG, &list, NULL, "list suites, benchmarks and metrics with run counts" },
		{ "machine", 'm', OPT_STRING, &q.fingerprint, "FINGERPRINT", "only runs on this machine (a prefix is enough)" },
		{ "min-magnitude", 0, OPT_STRING, &min_mag, "FRACTION", "with --recompute: smallest change, e.g. 5% (default: 5%)" },
		{ "min-size", 0, OPT_INT, &min_size, "N", "with --recompute: fewest runs either side of a change (default 3)" },
		{ "p-max", 0, OPT_DOUBLE, &p_max, "P", "with --recompute: significance (default 0.001)" },
		{ "plain", 0, OPT_FLAG, &plain, NULL, "with --recompute: Otava's plain t-test (no winsorising)" },
		{ "project", 0, OPT_STRING, &q.project, "NAME", "only this project" },
		{ "recompute", 0, OPT_FLAG, &recompute, NULL, "re-analyse the whole series' change points and store them" },
		{ "since", 0, OPT_STRING, &q.since, "DATE", "only runs from this date on (e.g. 2026-11-01)" },
		{ "suite", 's', OPT_STRING, &q.suite, "NAME", "only this suite" },
		{ "window", 0, OPT_INT, &window, "N", "with --recompute: E-divisive window (default 50)" },
	};
	struct strlist pos = STRLIST_INIT;
	struct db *db = NULL;
	struct history *h = NULL;
	char *bench = NULL, *metric = NULL;
	struct err err = ERR_INIT;
	enum fmt fmt;
	int rc, ret = EXIT_PASS;

	OPT_PARSE_OR_RETURN(usage, opts, argc, argv, &pos);
	if (strcmp(format, "table") == 0) {
		fmt = FMT_TABLE;
	} else if (strcmp(format, "csv") == 0) {
		fmt = FMT_CSV;
	} else if (strcmp(format, "json") == 0) {
		fmt = FMT_JSON;
	} else {
		static const char *const fmts[] = { "table", "csv", "json" };
		const char *near = closest_match(format, fmts, ARRAY_SIZE(fmts));
		cmd_error("unknown format '%s'%s%s%s", format, near ? " (did you mean '" : "",
			  near ? near : "", near ? "'?)" : "; use table, csv or json");
		ret = EXIT_USAGE;
		goto done;
	}
	if (limit < 0) {
		cmd_error("--limit must be >= 0, got %ld", limit);
		ret = EXIT_USAGE;
		goto done;
	}
	q.limit = limit;
	if (list ? pos.n != 0 : pos.n != 1) {
		cmd_error(list ? "--list takes no benchmark" : "expected one BENCHMARK[/METRIC] (or --list); see 'perfgate history --help'");
		ret = EXIT_USAGE;
		goto done;
	}
	if (recompute && !marks) {
		cmd_error("--recompute goes with --changepoints");
		ret = EXIT_USAGE;
		goto done;
	}
	dbo.url = url;
	if ((rc = db_open(&db, &dbo, &err)) < 0) {
		ret = cmd_fail(rc, &err);
		goto done;
	}
	if (list) {
		ret = print_list(db, q.project, q.suite, fmt);
		goto done;
	}
	if ((rc = history_resolve(db, pos.items[0], &bench, &metric, &err)) < 0) {
		ret = cmd_fail(rc, &err);
		goto done;
	}
	q.benchmark = bench;
	q.metric = metric;
	if (recompute) {
		struct changepoint_params p = CHANGEPOINT_PARAMS_INIT;
		size_t found = 0;

		if (p_max != 0)
			p.p_max = p_max;
		if (window != 0) {
			p.window = (size_t)(window > 0 ? window : 0);
			p.step = p.window / 2;
		}
		if (min_size > 0)
			p.min_size = (size_t)min_size;
		if (plain)
			p.robust = false;
		if (min_mag && parse_fraction_arg(min_mag, &p.min_magnitude) < 0) {
			cmd_error("--min-magnitude expects a fraction such as 0.05 or 5%%, got '%s'", min_mag);
			ret = EXIT_USAGE;
			goto done;
		}
		if ((rc = changepoint_params_check(&p, &err)) < 0 ||
		    (rc = history_recompute_changepoints(db, &q, &p, &found, &err)) < 0) {
			ret = cmd_fail(rc, &err);
			goto done;
		}
		fprintf(stderr, "perfgate: %zu change point%s stored for %s/%s\n", found,
			found == 1 ? "" : "s", bench, metric);
	}
	if (explain || analyze) {
		char *plan = NULL;
		if ((rc = history_explain(db, &q, analyze, &plan, &err)) < 0) {
			ret = cmd_fail(rc, &err);
			goto done;
		}
		fputs(plan, stdout);
		free(plan);
		goto done;
	}
	if ((rc = history_load(db, &q, &h, &err)) < 0) {
		ret = cmd_fail(rc, &err);
		goto done;
	}
	if (h->n == 0 && fmt == FMT_TABLE)
		fprintf(stderr, "perfgate: no runs of %s/%s match\n", bench, metric);
	else
		print_rows(h, bench, metric, fmt, marks);
done:
	history_free(h);
	free(bench);
	free(metric);
	db_free(db);
	strlist_release(&pos);
	return ret;
}
