/*
 * plot_latency.c: `perfgate plot latency RUN [RUN...]`: latency percentile spectra of
 * runs, overlaid.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plot.h"

/* The latency spectra of runs: one series per run and benchmark. */
struct spectra {
	struct plot_latency_series *series;
	char **names;      /* the series' legend names */
	double **owned;    /* the series' percentiles and values, two per series */
	size_t n, alloc, alloc_names, alloc_owned;
};

/* Add a series for every benchmark of rd (only bench_name when given) that
 * has a spectrum of metric; name_bench: the legend names the benchmark too. */
static void spectra_add_run(struct spectra *sp, const struct rundoc *rd, const char *what,
			    const char *bench_name, const char *metric, bool name_bench)
{
	char label[16];
	struct err err = ERR_INIT;

	cmd_plot_run_label(rd, what, label);
	for (size_t b = 0; b < rd->n_benches; b++) {
		const struct rd_bench *bench = &rd->benches[b];
		double *pct, *val;
		size_t n;

		if (bench_name && strcmp(bench->name, bench_name) != 0)
			continue;
		if (plot_spectrum_from_bench(bench, metric, &pct, &val, &n, &err) < 0)
			continue;
		XGROW(sp->owned, sp->alloc_owned, 2 * sp->n + 2);
		XGROW(sp->names, sp->alloc_names, sp->n + 1);
		XGROW(sp->series, sp->alloc, sp->n + 1);
		sp->owned[2 * sp->n] = pct;
		sp->owned[2 * sp->n + 1] = val;
		sp->names[sp->n] = name_bench ? xasprintf("%s %s", label, bench->name) : xstrdup(label);
		sp->series[sp->n] = (struct plot_latency_series){ sp->names[sp->n], pct, val, n };
		sp->n++;
	}
}

static void spectra_release(struct spectra *sp)
{
	for (size_t i = 0; i < sp->n; i++) {
		free(sp->names[i]);
		free(sp->owned[2 * i]);
		free(sp->owned[2 * i + 1]);
	}
	free(sp->names);
	free(sp->owned);
	free(sp->series);
}

int cmd_plot_latency(int argc, char **argv)
{
	static const struct cmd_usage usage = {
		"plot latency", "[options] RUN [RUN...] --out FILE.png|FILE.svg",
		"draw latency percentile spectra of runs, overlaid",
		"RUN is a run document file or a stored run id (or a unique prefix of one);\nlist the baseline first.\n"
		"The x axis is in \"nines\" (50%, 90%, 99%, 99.9%...) on a log scale.  The\n"
		"spectrum comes from the metric's merged histogram when the run has one,\n"
		"else from its METRIC.pNN metrics."
	};
	struct cmd_plot c = { NULL, NULL, NULL, NULL, 0, 0, NULL };
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
	struct spectra sp = { .series = NULL };
	size_t n_benches = 0;
	struct plot_latency l = { NULL, "s", NULL, 0, NAN };
	char *title = NULL;
	struct sb script = SB_INIT;
	struct err err = ERR_INIT;
	int rc, ret;

	OPT_PARSE_OR_RETURN(usage, opts, argc, argv, &pos);
	if ((ret = cmd_plot_check_output(&c, &o)) != EXIT_PASS)
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
	for (size_t i = 0; i < pos.n; i++)
		if ((ret = cmd_plot_load_run(&c, pos.items[i], &runs[i])) != EXIT_PASS)
			goto done;
	/* Several benchmarks in play: name them in the legend. */
	for (size_t i = 0; i < pos.n; i++)
		for (size_t b = 0; b < runs[i]->n_benches; b++)
			if (!bench_name || strcmp(runs[i]->benches[b].name, bench_name) == 0)
				n_benches++;
	for (size_t i = 0; i < pos.n; i++)
		spectra_add_run(&sp, runs[i], pos.items[i], bench_name, metric, n_benches > pos.n);
	if (sp.n == 0) {
		if (bench_name)
			cmd_error("no run has a '%s' latency spectrum for benchmark '%s'", metric, bench_name);
		else
			cmd_error("no run has a '%s' latency spectrum (no histogram, no %s.pNN metrics)",
				  metric, metric);
		ret = EXIT_USAGE;
		goto done;
	}
	l.series = sp.series;
	l.n = sp.n;
	title = c.title ? xstrdup(c.title)
			: xasprintf("%s: %s%s%s spectrum", runs[0]->suite ? runs[0]->suite : "",
				    bench_name ? bench_name : "", bench_name ? " " : "", metric);
	l.title = title;
	if ((rc = plot_latency_script(&l, &o, &script, &err)) < 0) {
		ret = cmd_fail(rc, &err);
		goto done;
	}
	ret = cmd_plot_finish(&c, &script);
done:
	sb_release(&script);
	free(title);
	spectra_release(&sp);
	for (size_t i = 0; runs && i < pos.n; i++)
		rundoc_free(runs[i]);
	free(runs);
	db_free(c.db);
	strlist_release(&pos);
	return ret;
}
