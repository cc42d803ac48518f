/*
 * plot.h: what the `perfgate plot` subcommands share (cmd/plot.c): the
 * output picture, the kept script, the database, and the run documents
 * they draw.  Each subcommand has its file: plot_trend.c, plot_latency.c,
 * plot_load.c.
 */
#ifndef PERFGATE_CMD_PLOT_H
#define PERFGATE_CMD_PLOT_H

#include "../core/plot.h"
#include "../core/rundoc.h"
#include "../core/util.h"
#include "../db/db.h"
#include "cmd.h"

/* What every plot verb shares: the output, the kept script, the database. */
struct cmd_plot {
	const char *out;
	const char *script;
	const char *url;
	const char *title;
	long width, height;
	struct db *db;
};

/* Check the output name and size before doing any work: 0 or the exit code. */
int cmd_plot_check_output(struct cmd_plot *c, struct plot_output *o);
/* The database, opened on first use. */
int cmd_plot_open_db(struct cmd_plot *c, struct err *err);
/* Keep the script when asked, then draw: the exit code. */
int cmd_plot_finish(struct cmd_plot *c, const struct sb *script);
/* A run document from a file, else from the database by run id: the exit code. */
int cmd_plot_load_run(struct cmd_plot *c, const char *what, struct rundoc **out);
/* Legend label: the short commit, else the file's name or the run id. */
const char *cmd_plot_run_label(const struct rundoc *rd, const char *what, char buf[16]);

/* The options every subcommand takes. */
#define COMMON_OPTS(c)                                                                              \
	{ "db", 0, OPT_STRING, &(c).url, "URL", "database URL (default: PERFGATE_DATABASE_URL, "    \
						"PG* variables, else the embedded cluster)" },      \
	{ "height", 0, OPT_INT, &(c).height, "PIXELS", "picture height (default 700)" },           \
	{ "out", 'o', OPT_STRING, &(c).out, "FILE", "the picture: FILE.png or FILE.svg (required)" }, \
	{ "script", 0, OPT_STRING, &(c).script, "FILE", "also keep the gnuplot script in FILE" },     \
	{ "title", 0, OPT_STRING, &(c).title, "TEXT", "the title (default: suite, benchmark, metric)" }, \
	{ "width", 0, OPT_INT, &(c).width, "PIXELS", "picture width (default 1200)" }

int cmd_plot_trend(int argc, char **argv);
int cmd_plot_latency(int argc, char **argv);
int cmd_plot_load(int argc, char **argv);

#endif
