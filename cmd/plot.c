/*
 * plot.c: `perfgate plot trend|latency|load`: pictures drawn by gnuplot
 * (core/plot.h) as PNG or SVG, chosen by the --out file's extension.
 *
 *   trend BENCHMARK[/METRIC]  a metric over commits from the database: median
 *                             with its confidence band, the baseline band,
 *                             regressions and change points marked
 *   latency RUN [RUN...]      latency percentile spectra, runs overlaid
 *   load RUN                  throughput against latency percentiles (sweep or
 *                             capacity steps) with the SLO line, and the time
 *                             series of a load test
 *
 * RUN is a run document file or a run id stored in the database.
 * --script FILE keeps the generated gnuplot script.  Without gnuplot: one
 * line saying which Debian package to install, exit 2.
 */
#include "cmd.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../core/plot.h"
#include "../core/util.h"
#include "../db/db.h"
#include "../db/history.h"

/* What every plot verb shares: the output, the kept script, the database. */
struct plot_common {
	const char *out;
	const char *script;
	const char *url;
	const char *title;
	long width, height;
	struct db *db;
};

/* Check the output name before doing any work. */
static int check_output(struct plot_common *c, struct plot_output *o)
{
	struct err err = ERR_INIT;

	if (!c->out) {
		cmd_error("--out FILE.png or FILE.svg is required");
		return EXIT_USAGE;
	}
	if (plot_format_from_path(c->out, &o->format, &err) < 0)
		return cmd_fail(ERR_INPUT, &err);
	if (c->width < 0 || c->width > 20000 || c->height < 0 || c->height > 20000) {
		cmd_error("--width and --height must be between 1 and 20000 pixels");
		return EXIT_USAGE;
	}
	o->path = c->out;
	o->width = (int)c->width;
	o->height = (int)c->height;
	return EXIT_PASS;
}

static int open_db(struct plot_common *c, struct err *err)
{
	struct db_options dbo = DB_OPTIONS_INIT;

	if (c->db)
		return 0;
	dbo.url = c->url;
	return db_open(&c->db, &dbo, err);
}

/* Keep the script when asked, then draw. */
static int finish(struct plot_common *c, const struct sb *script)
{
	struct err err = ERR_INIT;
	int rc;

	if (c->script && (rc = file_write_atomic(c->script, script->buf, script->len, &err)) < 0)
		return cmd_fail(rc, &err);
	if ((rc = plot_render(sb_str(script), &err)) < 0) {
		cmd_error("%s", err.msg);
		return rc == ERR_NOTFOUND ? EXIT_USAGE : EXIT_INFRA;
	}
	return EXIT_PASS;
}

/* A run document from a file, else from the database by run id. */
static int load_run(struct plot_common *c, const char *what, struct rundoc **out)
{
	struct err err = ERR_INIT;
	int rc;

	if (access(what, F_OK) == 0) {
		if ((rc = rundoc_load(out, what, &err)) < 0)
			return cmd_fail(rc, &err);
		return EXIT_PASS;
	}
	if ((rc = open_db(c, &err)) < 0)
		return cmd_fail(rc, &err);
	if ((rc = db_run_load(c->db, what, out, &err)) < 0) {
		if (rc == ERR_NOTFOUND)
			cmd_error("'%s' is neither a run document file nor a stored run id", what);
		else
			cmd_error("%s", err.msg);
		return cmd_exit_code(rc);
	}
	return EXIT_PASS;
}

/* Legend label: the short commit, else the file's name or the run id. */
static const char *run_label(const struct rundoc *rd, const char *what, char buf[16])
{
	const char *src = what;
	size_t max = 12, len;

	if (rd->git.commit) {
		src = rd->git.commit;
		max = 8;
	} else if (strrchr(what, '/')) {
		src = strrchr(what, '/') + 1;
	}
	len = strlen(src) < max ? strlen(src) : max;
	memcpy(buf, src, len);
	buf[len] = 0;
	return buf;
}

#define COMMON_OPTS(c)                                                                              \
	{ "db", 0, OPT_STRING, &(c).url, "URL", "database URL (default: PERFGATE_DATABASE_URL, "    \
						"PG* variables, else the embedded cluster)" },      \
	{ "height", 0, OPT_INT, &(c).height, "PIXELS", "picture height (default 700)" },           \
	{ "out", 'o', OPT_STRING, &(c).out, "FILE", "the picture: FILE.png or FILE.svg (required)" }, \
	{ "script", 0, OPT_STRING, &(c).script, "FILE", "also keep the gnuplot script in FILE" },     \
	{ "title", 0, OPT_STRING, &(c).title, "TEXT", "the title (default: suite, benchmark, metric)" }, \
	{ "width", 0, OPT_INT, &(c).width, "PIXELS", "picture width (default 1200)" }

static int plot_trend_cmd(int argc, char **argv)
{
	static const struct cmd_usage usage = {
		"plot trend", "[options] BENCHMARK[/METRIC] --out FILE.png|FILE.svg",
		"draw a metric over commits from the database",
		"The per-run median with its 95% confidence band, oldest to newest; the\n"
		"baseline band (the range of the medians of the --baseline-runs newest runs\n"
		"before the last one, none from before the newest change point);\n"
		"regressions (red triangles) and stored change points (dashed lines)."
	};
	struct plot_common c = { NULL, NULL, NULL, NULL, 0, 0, NULL };
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
	char (*lab)[16] = NULL;
	char *bench = NULL, *metric = NULL, *title = NULL;
	struct sb script = SB_INIT;
	struct err err = ERR_INIT;
	int rc, ret;

	OPT_PARSE_OR_RETURN(usage, opts, argc, argv, &pos);
	if ((ret = check_output(&c, &o)) != EXIT_PASS)
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
	if ((rc = open_db(&c, &err)) < 0 ||
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
	{
		struct plot_trend t = { NULL, h->unit, pts, h->n, NAN, NAN };
		size_t last_cp = 0, from;

		for (size_t i = 0; i < h->n; i++) {
			const struct history_row *r = &h->rows[i];
			if (strcmp(labels, "date") == 0 || !r->commit)
				snprintf(lab[i], sizeof(lab[i]), "%.10s", r->time);
			else
				snprintf(lab[i], sizeof(lab[i]), "%.7s", r->commit);
			pts[i] = (struct plot_trend_point){ lab[i], r->median, r->ci_low, r->ci_high,
							    r->verdict && strcmp(r->verdict, "regression") == 0,
							    r->changepoint, false };
			if (r->changepoint)
				last_cp = i;
		}
		/* Baseline band: the newest runs before the last, not reaching
		 * back past the newest change point. */
		from = h->n - 1 > (size_t)base_runs ? h->n - 1 - (size_t)base_runs : 0;
		if (from < last_cp)
			from = last_cp;
		for (size_t i = from; base_runs > 0 && i + 1 < h->n; i++) {
			double m = h->rows[i].median;
			if (!isfinite(m))
				continue;
			if (isnan(t.base_lo) || m < t.base_lo)
				t.base_lo = m;
			if (isnan(t.base_hi) || m > t.base_hi)
				t.base_hi = m;
		}
		title = c.title ? xstrdup(c.title)
				: xasprintf("%s: %s / %s%s%s", h->rows[0].suite, bench, metric,
					    q.branch ? " on " : "", q.branch ? q.branch : "");
		t.title = title;
		if ((rc = plot_trend_script(&t, &o, &script, &err)) < 0) {
			ret = cmd_fail(rc, &err);
			goto done;
		}
	}
	ret = finish(&c, &script);
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

static int plot_latency_cmd(int argc, char **argv)
{
	static const struct cmd_usage usage = {
		"plot latency", "[options] RUN [RUN...] --out FILE.png|FILE.svg",
		"draw latency percentile spectra of runs, overlaid",
		"RUN is a run document file or a stored run id; list the baseline first.\n"
		"The x axis is in \"nines\" (50%, 90%, 99%, 99.9%...) on a log scale.  The\n"
		"spectrum comes from the metric's merged histogram when the run has one,\n"
		"else from its METRIC.pNN metrics."
	};
	struct plot_common c = { NULL, NULL, NULL, NULL, 0, 0, NULL };
	const char *bench_name = NULL, *metric = "latency", *slo = NULL;
	const struct opt opts[] = {
		{ "benchmark", 'B', OPT_STRING, &bench_name, "NAME", "only this benchmark (default: every one with a spectrum)" },
		{ "metric", 'M', OPT_STRING, &metric, "NAME", "latency family: latency (default), ttft, tpot, service_time..." },
		{ "slo", 0, OPT_STRING, &slo, "DURATION", "draw an SLO line, e.g. 250ms" },
		COMMON_OPTS(c),
	};
	struct strlist pos = STRLIST_INIT;
	struct plot_output o = { NULL, PLOT_PNG, 0, 0 };
	struct rundoc **runs = NULL;
	struct plot_latency_series *series = NULL;
	size_t n_series = 0, alloc_series = 0, n_benches = 0;
	char **names = NULL;
	double **owned = NULL;
	size_t n_owned = 0, alloc_owned = 0;
	struct plot_latency l = { NULL, "s", NULL, 0, NAN };
	char *title = NULL;
	struct sb script = SB_INIT;
	struct err err = ERR_INIT;
	int rc, ret;

	OPT_PARSE_OR_RETURN(usage, opts, argc, argv, &pos);
	if ((ret = check_output(&c, &o)) != EXIT_PASS)
		goto done;
	if (pos.n == 0) {
		cmd_error("expected at least one RUN (a run document file or a stored run id)");
		ret = EXIT_USAGE;
		goto done;
	}
	if (slo && (rc = parse_duration(slo, &l.slo, &err)) < 0) {
		ret = cmd_fail(rc, &err);
		goto done;
	}
	runs = xcalloc(pos.n, sizeof(*runs));
	names = xcalloc(pos.n * 64 + 1, sizeof(*names));
	for (size_t i = 0; i < pos.n; i++)
		if ((ret = load_run(&c, pos.items[i], &runs[i])) != EXIT_PASS)
			goto done;
	/* Several benchmarks in play: name them in the legend. */
	for (size_t i = 0; i < pos.n; i++)
		for (size_t b = 0; b < runs[i]->n_benches; b++)
			if (!bench_name || strcmp(runs[i]->benches[b].name, bench_name) == 0)
				n_benches++;
	for (size_t i = 0; i < pos.n; i++) {
		char label[16];
		run_label(runs[i], pos.items[i], label);
		for (size_t b = 0; b < runs[i]->n_benches; b++) {
			const struct rd_bench *bench = &runs[i]->benches[b];
			double *pct, *val;
			size_t n;

			if (bench_name && strcmp(bench->name, bench_name) != 0)
				continue;
			if (plot_spectrum_from_bench(bench, metric, &pct, &val, &n, &err) < 0)
				continue;
			XGROW(owned, alloc_owned, n_owned + 2);
			owned[n_owned++] = pct;
			owned[n_owned++] = val;
			XGROW(series, alloc_series, n_series + 1);
			names[n_series] = n_benches > pos.n ? xasprintf("%s %s", label, bench->name)
							    : xstrdup(label);
			series[n_series] = (struct plot_latency_series){ names[n_series], pct, val, n };
			n_series++;
		}
	}
	if (n_series == 0) {
		if (bench_name)
			cmd_error("no run has a '%s' latency spectrum for benchmark '%s'", metric, bench_name);
		else
			cmd_error("no run has a '%s' latency spectrum (no histogram, no %s.pNN metrics)",
				  metric, metric);
		ret = EXIT_USAGE;
		goto done;
	}
	l.series = series;
	l.n = n_series;
	title = c.title ? xstrdup(c.title)
			: xasprintf("%s: %s%s%s spectrum", runs[0]->suite ? runs[0]->suite : "",
				    bench_name ? bench_name : "", bench_name ? " " : "", metric);
	l.title = title;
	if ((rc = plot_latency_script(&l, &o, &script, &err)) < 0) {
		ret = cmd_fail(rc, &err);
		goto done;
	}
	ret = finish(&c, &script);
done:
	sb_release(&script);
	free(title);
	for (size_t i = 0; i < n_owned; i++)
		free(owned[i]);
	free(owned);
	for (size_t i = 0; names && i < n_series; i++)
		free(names[i]);
	free(names);
	free(series);
	for (size_t i = 0; runs && i < pos.n; i++)
		rundoc_free(runs[i]);
	free(runs);
	db_free(c.db);
	strlist_release(&pos);
	return ret;
}

static int plot_load_cmd(int argc, char **argv)
{
	static const struct cmd_usage usage = {
		"plot load", "[options] RUN --out FILE.png|FILE.svg",
		"draw a load test: latency against throughput, and its time series",
		"RUN is a run document file or a stored run id.  From a sweep or capacity\n"
		"run: p50, p90 and p99 latency against achieved throughput (the knee), with\n"
		"the SLO line; from any load test: throughput and p99 per interval, errors\n"
		"per second and GPU utilisation when the run sampled it."
	};
	struct plot_common c = { NULL, NULL, NULL, NULL, 0, 0, NULL };
	const char *bench_name = NULL, *slo = NULL;
	const struct opt opts[] = {
		{ "benchmark", 'B', OPT_STRING, &bench_name, "NAME", "the benchmark (default: the first with load data)" },
		{ "slo", 0, OPT_STRING, &slo, "DURATION", "latency SLO line, e.g. 250ms" },
		COMMON_OPTS(c),
	};
	struct strlist pos = STRLIST_INIT;
	struct plot_output o = { NULL, PLOT_PNG, 0, 0 };
	struct rundoc *rd = NULL;
	struct plot_load_data d;
	const struct rd_bench *bench = NULL;
	char *title = NULL, *slo_label = NULL;
	double slo_s = NAN;
	struct sb script = SB_INIT;
	struct err err = ERR_INIT;
	int rc, ret;

	memset(&d, 0, sizeof(d));
	OPT_PARSE_OR_RETURN(usage, opts, argc, argv, &pos);
	if ((ret = check_output(&c, &o)) != EXIT_PASS)
		goto done;
	if (pos.n != 1) {
		cmd_error("expected one RUN (a run document file or a stored run id)");
		ret = EXIT_USAGE;
		goto done;
	}
	if (slo && (rc = parse_duration(slo, &slo_s, &err)) < 0) {
		ret = cmd_fail(rc, &err);
		goto done;
	}
	if ((ret = load_run(&c, pos.items[0], &rd)) != EXIT_PASS)
		goto done;
	for (size_t b = 0; b < rd->n_benches && !bench; b++) {
		if (bench_name && strcmp(rd->benches[b].name, bench_name) != 0)
			continue;
		if (plot_load_from_bench(&rd->benches[b], &d, &err) == 0)
			bench = &rd->benches[b];
		else if (bench_name)
			break;
	}
	if (!bench) {
		if (bench_name && !rundoc_find_bench(rd, bench_name))
			cmd_error("run has no benchmark '%s'", bench_name);
		else if (bench_name)
			cmd_error("%s", err.msg);
		else
			cmd_error("no benchmark of the run has load data (sweep or capacity steps, time series)");
		ret = EXIT_USAGE;
		goto done;
	}
	d.load.slo = slo_s;
	if (slo)
		d.load.slo_label = slo_label = xasprintf("SLO %s", slo);
	title = c.title ? xstrdup(c.title)
			: xasprintf("%s: %s load", rd->suite ? rd->suite : "", bench->name);
	d.load.title = title;
	if ((rc = plot_load_script(&d.load, &o, &script, &err)) < 0) {
		ret = cmd_fail(rc, &err);
		goto done;
	}
	ret = finish(&c, &script);
done:
	sb_release(&script);
	free(title);
	free(slo_label);
	plot_load_release(&d);
	rundoc_free(rd);
	db_free(c.db);
	strlist_release(&pos);
	return ret;
}

int cmd_plot(int argc, char **argv)
{
	static const struct subcmd table[] = {
		{ "trend", plot_trend_cmd, "a metric over commits from the database" },
		{ "latency", plot_latency_cmd, "latency percentile spectra of runs, overlaid" },
		{ "load", plot_load_cmd, "latency against throughput and the time series of a load test" },
	};
	return subcmd_dispatch("plot", table, ARRAY_SIZE(table), argc, argv);
}
