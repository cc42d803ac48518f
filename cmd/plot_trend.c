/*
 * plot_trend.c: `perfgate plot trend BENCHMARK[/METRIC]`: a metric over commits from
 * the database: median with its confidence band, the baseline band,
 * regressions and change points marked.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/gitinfo.h"
#include "../db/history.h"
#include "plot.h"

#define LABEL_LEN 20 /* "2026-10-02 15:00:05" */

static int cmp_label(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* Do two runs of the series share the first len characters of their time
 * ("2026-10-02": a day; "2026-10-02T15:00": a minute)? */
static bool shares_prefix(const struct history *h, size_t len)
{
	char (*t)[LABEL_LEN] = xcalloc(h->n + 1, sizeof(*t));
	bool dup = false;

	for (size_t i = 0; i < h->n; i++)
		snprintf(t[i], sizeof(t[i]), "%.*s", (int)len, h->rows[i].time);
	qsort(t, h->n, sizeof(*t), cmp_label);
	for (size_t i = 1; i < h->n && !dup; i++)
		dup = strlen(t[i]) == len && strcmp(t[i], t[i - 1]) == 0;
	free(t);
	return dup;
}

/* The distinct branches of the series, at most 2 counted (NULL: no branch). */
static size_t branches_of(const struct history *h)
{
	for (size_t i = 1; i < h->n; i++)
		if (strcmp(h->rows[i].branch ? h->rows[i].branch : "", h->rows[0].branch ? h->rows[0].branch : ""))
			return 2;
	return h->n ? 1 : 0;
}

/*
 * Without --branch, a history of several branches was drawn as one
 * unlabelled line: draw the default branch's (the remote's default, else
 * main) when it has runs, saying so; else all of them, saying that.
 */
static int default_branch(struct cmd_plot *c, struct history_query *q, struct history **h, char **chosen,
			  struct err *err)
{
	struct history *one = NULL;
	struct err gerr = ERR_INIT;
	char *def = NULL;
	int rc;

	if (q->branch || branches_of(*h) < 2)
		return 0;
	if (gitinfo_default_branch(NULL, &def, &gerr) != 0 || !def)
		def = xstrdup("main");
	q->branch = def;
	if ((rc = history_load(c->db, q, &one, err)) < 0) {
		free(def);
		q->branch = NULL;
		return rc;
	}
	if (one->n == 0) {
		history_free(one);
		free(def);
		q->branch = NULL;
		fprintf(stderr, "perfgate: these runs mix several branches and none is on '%s': all are drawn as one "
				"line; --branch NAME draws one\n", def);
		return 0;
	}
	fprintf(stderr, "perfgate: these runs mix several branches: drawing '%s' (the default branch); --branch NAME "
			"draws another\n", def);
	history_free(*h);
	*h = one;
	*chosen = def;
	return 0;
}

/*
 * The trend's points from a series, labelled by short commit (or by date),
 * and its baseline band: the range of the medians of the newest base_runs
 * runs before the last, not reaching back past the newest change point.
 */
static void trend_points(const struct history *h, bool by_date, size_t base_runs,
			 struct plot_trend *t, struct plot_trend_point *pts, char (*lab)[LABEL_LEN])
{
	size_t last_cp = 0, from;
	/* Runs of one day would read alike by date: then the time too, to the
	 * minute, or the second when two share a minute. */
	size_t shown = !by_date ? 0 : !shares_prefix(h, 10) ? 10 : !shares_prefix(h, 16) ? 16 : 19;

	for (size_t i = 0; i < h->n; i++) {
		const struct history_row *r = &h->rows[i];

		if (shown > 10 && strlen(r->time) >= shown)
			snprintf(lab[i], LABEL_LEN, "%.10s %.*s", r->time, (int)shown - 11, r->time + 11);
		else if (by_date || !r->commit)
			snprintf(lab[i], LABEL_LEN, "%.10s", r->time);
		else
			snprintf(lab[i], LABEL_LEN, "%.7s", r->commit);
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
	char (*lab)[LABEL_LEN] = NULL;
	char *bench = NULL, *metric = NULL, *title = NULL, *chosen = NULL; /* chosen: the default branch drawn */
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
	if ((rc = default_branch(&c, &q, &h, &chosen, &err)) < 0) {
		ret = cmd_fail(rc, &err);
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
	free(chosen);
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
