/*
 * plot_trend.c: `perfgate plot trend BENCHMARK[/METRIC]`: a metric over commits from
 * the database: median with its confidence band, the baseline band,
 * regressions and change points marked.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../db/history.h"
#include "plot.h"

/*
 * The trend's points from a series, labelled by short commit (or by date),
 * and its baseline band: the range of the medians of the newest base_runs
 * runs before the last, not reaching back past the newest change point.
 */
static void trend_points(const struct history *h, bool by_date, size_t base_runs,
			 struct plot_trend *t, struct plot_trend_point *pts, char (*lab)[16])
{
	size_t last_cp = 0, from;

	for (size_t i = 0; i < h->n; i++) {
		const struct history_row *r = &h->rows[i];

		if (by_date || !r->commit)
			snprintf(lab[i], sizeof(lab[i]), "%.10s", r->time);
		else
			snprintf(lab[i], sizeof(lab[i]), "%.7s", r->commit);
		pts[i] = (struct plot_trend_point){ lab[i], r->median, r->ci_low, r->ci_high,
						    r->verdict && strcmp(r->verdict, "regression") == 0,
						    r->changepoint, false, r->dirty };
		if (r->changepoint)
			last_cp = i;
	}
	from = h->n - 1 > base_runs ? h->n - 1 - base_runs : 0;
	if (from < last_cp)
		from = last_cp;
	for (size_t i = from; base_runs > 0 && i + 1 < h->n; i++) {
		double m = h->rows[i].median;

		if (!isfinite(m))
			continue;
		if (isnan(t->base_lo) || m < t->base_lo)
			t->base_lo = m;
		if (isnan(t->base_hi) || m > t->base_hi)
			t->base_hi = m;
	}
}

int cmd_plot_trend(int argc, char **argv)
{
	static const struct cmd_usage usage = {
		"plot trend", "[options] BENCHMARK[/METRIC] --out FILE.png|FILE.svg",
		"draw a metric over commits from the database",
		"The per-run median with its 95% confidence band, oldest to newest; the\n"
		"baseline band (the range of the medians of the --baseline-runs newest runs\n"
		"before the last one, none from before the newest change point);\n"
		"regressions (red triangles) and stored change points (dashed lines)."
	};
	struct cmd_plot c = { NULL, NULL, NULL, NULL, 0, 0, NULL };
	struct history_query q = HISTORY_QUERY_INIT;
	const char *labels = "commit";
	long limit = 100, base_runs = 5;
	const struct opt opts[] = {
		{ "baseline-runs", 0, OPT_INT, &base_runs, "K", "runs in the baseline band (default 5; 0: none)" },
		{ "branch", 'b', OPT_STRING, &q.branch, "NAME", "only runs on this branch" },
		{ "labels", 0, OPT_STRING, &labels, "KIND", "x labels: commit (default) or date" },
		{ "limit", 'n', OPT_INT, &limit, "N", "the newest N runs (default 100; 0: all)" },
		{ "machine", 'm', OPT_STRING, &q.fingerprint, "FINGERPRINT", "only runs on this machine" },
		{ "project", 0, OPT_STRING, &q.project, "NAME", "only this project" },
		{ "since", 0, OPT_STRING, &q.since, "DATE", "only runs from this date on" },
		{ "suite", 's', OPT_STRING, &q.suite, "NAME", "only this suite" },
		COMMON_OPTS(c),
	};
	struct strlist pos = STRLIST_INIT;
	struct plot_output o = { NULL, PLOT_PNG, 0, 0 };
	struct history *h = NULL;
	struct plot_trend_point *pts = NULL;
	struct plot_trend t;
	char (*lab)[16] = NULL;
	char *bench = NULL, *metric = NULL, *title = NULL;
	struct sb script = SB_INIT;
	struct err err = ERR_INIT;
	int rc, ret;

	OPT_PARSE_OR_RETURN(usage, opts, argc, argv, &pos);
	if ((ret = cmd_plot_check_output(&c, &o)) != EXIT_PASS)
		goto done;
	if (pos.n != 1 || limit < 0 || base_runs < 0 ||
	    (strcmp(labels, "commit") != 0 && strcmp(labels, "date") != 0)) {
		cmd_error(pos.n != 1 ? "expected one BENCHMARK[/METRIC]"
				     : limit < 0 || base_runs < 0 ? "--limit and --baseline-runs must be >= 0"
								  : "--labels must be commit or date");
		ret = EXIT_USAGE;
		goto done;
	}
	q.limit = limit;
	if ((rc = cmd_plot_open_db(&c, &err)) < 0 ||
	    (rc = history_resolve(c.db, pos.items[0], &bench, &metric, &err)) < 0) {
		ret = cmd_fail(rc, &err);
		goto done;
	}
	q.benchmark = bench;
	q.metric = metric;
	if ((rc = history_load(c.db, &q, &h, &err)) < 0) {
		ret = cmd_fail(rc, &err);
		goto done;
	}
	if (h->n == 0) {
		cmd_error("no runs of %s/%s match", bench, metric);
		ret = EXIT_USAGE;
		goto done;
	}
	pts = xcalloc(h->n, sizeof(*pts));
	lab = xcalloc(h->n, sizeof(*lab));
	t = (struct plot_trend){ NULL, h->unit, pts, h->n, NAN, NAN };
	trend_points(h, strcmp(labels, "date") == 0, (size_t)base_runs, &t, pts, lab);
	title = c.title ? xstrdup(c.title)
			: xasprintf("%s: %s / %s%s%s", h->rows[0].suite, bench, metric,
				    q.branch ? " on " : "", q.branch ? q.branch : "");
	t.title = title;
	if ((rc = plot_trend_script(&t, &o, &script, &err)) < 0) {
		ret = cmd_fail(rc, &err);
		goto done;
	}
	ret = cmd_plot_finish(&c, &script);
done:
	sb_release(&script);
	free(title);
	free(pts);
	free(lab);
	free(bench);
	free(metric);
	history_free(h);
	db_free(c.db);
	strlist_release(&pos);
	return ret;
}
