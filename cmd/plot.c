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
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "plot.h"

/* Check the output name before doing any work. */
int cmd_plot_check_output(struct cmd_plot *c, struct plot_output *o)
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

int cmd_plot_open_db(struct cmd_plot *c, struct err *err)
{
	struct db_options dbo = DB_OPTIONS_INIT;

	if (c->db)
		return 0;
	dbo.url = c->url;
	return db_open(&c->db, &dbo, err);
}

/* Keep the script when asked, then draw. */
int cmd_plot_finish(struct cmd_plot *c, const struct sb *script)
{
	struct err err = ERR_INIT;
	int rc;

	if (c->script && (rc = file_write_atomic(c->script, script->buf, script->len, &err)) < 0)
		return cmd_fail(rc, &err);
	if ((rc = plot_render(sb_str(script), &err)) < 0) {
		cmd_error("%s", err.msg);
		return rc == ERR_NOTFOUND ? EXIT_USAGE : EXIT_INFRA;
	}
	/* say what was written: a silent success looked like nothing happened */
	printf("wrote %s\n", c->out);
	if (c->script)
		printf("wrote %s (the gnuplot script)\n", c->script);
	return EXIT_PASS;
}

/* A run document from a file, else from the database by run id. */
int cmd_plot_load_run(struct cmd_plot *c, const char *what, struct rundoc **out)
{
	struct err err = ERR_INIT;
	char hex[33];
	int rc;

	if (access(what, F_OK) == 0) {
		if ((rc = rundoc_load(out, what, &err)) < 0)
			return cmd_fail(rc, &err);
		return EXIT_PASS;
	}
	if (!rundoc_id_prefix(what, hex)) {
		cmd_error("'%s' is neither a run document file nor a stored run id (or a unique prefix of one)", what);
		return EXIT_USAGE;
	}
	if ((rc = cmd_plot_open_db(c, &err)) < 0)
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
const char *cmd_plot_run_label(const struct rundoc *rd, const char *what, char buf[16])
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

int cmd_plot(int argc, char **argv)
{
	static const struct subcmd table[] = {
		{ "trend", cmd_plot_trend, "a metric over commits from the database" },
		{ "latency", cmd_plot_latency, "latency percentile spectra of runs, overlaid" },
		{ "load", cmd_plot_load, "latency against throughput and the time series of a load test" },
	};
	return subcmd_dispatch("plot", table, ARRAY_SIZE(table), argc, argv);
}

