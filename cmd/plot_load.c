/*
 * plot_load.c: `perfgate plot load RUN`: throughput against latency percentiles
 * (sweep or capacity steps) with the SLO line, and the time series of a
 * load test.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "plot.h"

int cmd_plot_load(int argc, char **argv)
{
	static const struct cmd_usage usage = {
		"plot load", "[options] RUN --out FILE.png|FILE.svg",
		"draw a load test: latency against throughput, and its time series",
		"RUN is a run document file or a stored run id (or a unique prefix of one).\n"
		"From a sweep or capacity run: p50, p90 and p99 latency against achieved\n"
		"throughput (the knee), with the SLO line; from any load test: throughput\n"
		"and p99 per interval, errors per second and GPU utilisation when the run\n"
		"sampled it."
	};
	struct cmd_plot c = { NULL, NULL, NULL, NULL, 0, 0, NULL };
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
	if ((ret = cmd_plot_check_output(&c, &o)) != EXIT_PASS)
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
	if ((ret = cmd_plot_load_run(&c, pos.items[0], &rd)) != EXIT_PASS)
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
	ret = cmd_plot_finish(&c, &script);
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
