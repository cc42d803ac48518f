/*
 * runview.c: how a run looks on the terminal, for `run` and `gate`: the
 * progress on stderr while it runs (animated on a terminal), the notes of
 * the gate pipeline as they happen, and a gate's plots (the summary table
 * of a finished run is runtable.c).
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../core/gate.h"
#include "../core/http/records.h"
#include "../core/plot.h"
#include "../core/report.h"
#include "../core/util.h"
#include "../db/db.h"
#include "cmd.h"

static void on_progress(void *arg, const char *bench, size_t rep, size_t of, double elapsed_s)
{
	struct cmd_progress *p = arg;
	double eta;
	char *shown;

	if (!p->tty || p->quiet)
		return;
	eta = rep > 0 && of > rep ? elapsed_s / (double)rep * (double)(of - rep) : 0;
	shown = str_printable(bench);
	fprintf(stderr, "\r\033[K%s  repetition %zu/%zu  %.1fs elapsed", shown, rep, of, elapsed_s);
	free(shown);
	if (of > rep)
		fprintf(stderr, "  ~%.1fs left", eta);
	fflush(stderr);
	p->drawn = true;
}

static void on_bench(void *arg, enum run_event ev, const char *raw_name, const struct rd_bench *b)
{
	struct cmd_progress *p = arg;
	const struct rd_metric *wall;
	char *name;

	if (p->quiet)
		return;
	name = str_printable(raw_name);
	if (ev == RUN_BENCH_START) {
		p->t_bench = now_ns();
		if (p->tty) {
			fprintf(stderr, "\r\033[K%s  starting", name);
			fflush(stderr);
			p->drawn = true;
		}
		free(name);
		return;
	}
	if (p->drawn) {
		fputs("\r\033[K", stderr);
		p->drawn = false;
	}
	/* A command's repetitions are its wall samples; a load test gives one
	 * sample of every summary metric per repetition. */
	wall = b ? rundoc_bench_find_metric(b, "wall") : NULL;
	if (!wall && b && b->n_metrics)
		wall = &b->metrics[0];
	fprintf(stderr, "%s: %s (%zu repetitions, %.2fs)\n", name, b ? rundoc_status_name(b->status) : "?",
		wall ? wall->n_samples : (size_t)0, (double)(now_ns() - p->t_bench) * 1e-9);
	free(name);
}

void cmd_progress_attach(struct cmd_progress *p, bool quiet, struct run_options *ro)
{
	*p = (struct cmd_progress){ .tty = isatty(STDERR_FILENO), .quiet = quiet };
	ro->progress = on_progress;
	ro->on_bench = on_bench;
	ro->progress_arg = p;
}

void cmd_print_note(void *quiet, const struct gate_note *note)
{
	switch (gate_note_level(note->kind)) {
	case GATE_PROGRESS:
		if (!*(const bool *)quiet)
			cmd_note("%s", note->msg);
		break;
	case GATE_WARNING:
		cmd_warn("%s", note->msg);
		break;
	case GATE_ERROR:
		cmd_error("%s", note->msg);
		break;
	}
}

void cmd_gate_plots(const char *dir, const struct gate_result *r)
{
	const struct baseline *base = &r->baseline;
	struct rundoc **docs = NULL;
	char **files = NULL;
	size_t n_files = 0, n = r->have_baseline ? base->n_runs : 0;
	struct err err = ERR_INIT;

	/* plot_gate_dir wants the baseline oldest first; ours is nearest first. */
	if (n)
		docs = xcalloc(n, sizeof(*docs));
	for (size_t i = 0; i < n; i++)
		docs[i] = base->runs[n - 1 - i].doc;
	if (plot_gate_dir(dir, PLOT_PNG, r->run, docs, n, &files, &n_files, &err) != 0)
		cmd_warn("plots: %s", err.msg);
	else
		fprintf(stderr, "perfgate: %zu plot%s written to '%s'\n", n_files, n_files == 1 ? "" : "s", dir);
	for (size_t i = 0; i < n_files; i++)
		free(files[i]);
	free(files);
	free(docs);
}

int cmd_records_open(const char *path, struct http_records **out)
{
	struct http_records_options o = HTTP_RECORDS_OPTIONS_INIT;
	struct err err = ERR_INIT;

	*out = NULL;
	if (!path)
		return 0;
	o.path = path;
	o.workers = HTTP_RECORDS_MAX_WORKERS;
	if (http_records_open(out, &o, &err) != 0) {
		cmd_error("%s", err.msg);
		return EXIT_USAGE;
	}
	return 0;
}

int cmd_records_close(struct http_records *r, int code)
{
	struct err err = ERR_INIT;

	if (http_records_close(r, NULL, &err) == 0)
		return code;
	cmd_error("%s", err.msg);
	return code ? code : EXIT_INVALID;
}

void cmd_quarantine_run(const struct gate_result *r)
{
	struct err err = ERR_INIT;
	char *path = NULL;

	if (r->store_rc != ERR_INPUT || !r->run)
		return;
	if (db_quarantine(r->run, NULL, &path, &err) != 0)
		cmd_error("run %s not kept either: %s", r->run->run_id, err.msg);
	else
		cmd_error("run %s kept in %s (push cannot store it: fix the names or values above first)",
			  r->run->run_id, path);
	free(path);
}
