/*
 * run.c: `perfgate run SUITE`: validate the suite, run its benchmarks,
 * store the run (unless --no-store), write it to --out, and print a summary
 * table per benchmark and metric with the noise warnings.
 *
 * Exit codes: 0 every benchmark passed; 2 usage or an invalid suite; 3 a
 * benchmark failed or the run was interrupted (Ctrl-C: the finished
 * benchmarks go to --out marked partial, nothing is stored); 4 the database
 * could not be reached (the run was spooled; `perfgate push` uploads it).
 * A failed benchmark wins over an unreachable database: 3.
 */
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../core/proc.h"
#include "../core/run.h"
#include "../core/suite.h"
#include "../core/util.h"
#include "../db/db.h"
#include "cmd.h"

struct progress {
	bool tty;          /* stderr is a terminal: animate with \r */
	bool quiet;
	bool drawn;        /* a \r line is on screen */
	uint64_t t_bench;  /* ns, start of the current benchmark */
};

static void on_progress(void *arg, const char *bench, size_t rep, size_t of, double elapsed_s)
{
	struct progress *p = arg;
	double eta;

	if (!p->tty || p->quiet)
		return;
	eta = rep > 0 && of > rep ? elapsed_s / (double)rep * (double)(of - rep) : 0;
	fprintf(stderr, "\r\033[K%s  repetition %zu/%zu  %.1fs elapsed", bench, rep, of, elapsed_s);
	if (of > rep)
		fprintf(stderr, "  ~%.1fs left", eta);
	fflush(stderr);
	p->drawn = true;
}

static void on_bench(void *arg, enum run_event ev, const char *name, const struct rd_bench *b)
{
	struct progress *p = arg;
	const struct rd_metric *wall;

	if (p->quiet)
		return;
	if (ev == RUN_BENCH_START) {
		p->t_bench = now_ns();
		if (p->tty) {
			fprintf(stderr, "\r\033[K%s  starting", name);
			fflush(stderr);
			p->drawn = true;
		}
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
}

/* A value in its unit, scaled for reading: 1.23 ms, 45.6 MiB, 1234567. */
static void fmt_value(char *buf, size_t len, double v, const char *unit)
{
	if (isnan(v)) {
		snprintf(buf, len, "-");
	} else if (strcmp(unit, "s") == 0) {
		double a = fabs(v);
		if (a >= 1 || a == 0)
			snprintf(buf, len, "%.3f s", v);
		else if (a >= 1e-3)
			snprintf(buf, len, "%.3f ms", v * 1e3);
		else if (a >= 1e-6)
			snprintf(buf, len, "%.3f us", v * 1e6);
		else
			snprintf(buf, len, "%.0f ns", v * 1e9);
	} else if (strcmp(unit, "B") == 0) {
		double a = fabs(v);
		if (a >= 1024.0 * 1024 * 1024)
			snprintf(buf, len, "%.2f GiB", v / (1024.0 * 1024 * 1024));
		else if (a >= 1024.0 * 1024)
			snprintf(buf, len, "%.2f MiB", v / (1024.0 * 1024));
		else if (a >= 1024.0)
			snprintf(buf, len, "%.2f KiB", v / 1024.0);
		else
			snprintf(buf, len, "%.0f B", v);
	} else if (strcmp(unit, "1/s") == 0) {
		double a = fabs(v);
		if (a >= 1e6)
			snprintf(buf, len, "%.3f M/s", v / 1e6);
		else if (a >= 1e3)
			snprintf(buf, len, "%.3f k/s", v / 1e3);
		else
			snprintf(buf, len, "%.3f /s", v);
	} else if (strcmp(unit, "1") == 0) {
		if (fabs(v) >= 1e4 && v == floor(v))
			snprintf(buf, len, "%.0f", v);
		else
			snprintf(buf, len, "%.4g", v);
	} else {
		snprintf(buf, len, "%.4g %s", v, unit);
	}
}

static void print_table(const struct rundoc *rd)
{
	/* Columns as wide as the longest name, so that load tests' metric
	 * names ("errors.unexpected_status") keep the table aligned. */
	int wb = (int)strlen("benchmark"), wm = (int)strlen("metric");

	for (size_t i = 0; i < rd->n_benches; i++) {
		if ((int)strlen(rd->benches[i].name) > wb)
			wb = (int)strlen(rd->benches[i].name);
		for (size_t k = 0; k < rd->benches[i].n_metrics; k++)
			if ((int)strlen(rd->benches[i].metrics[k].name) > wm)
				wm = (int)strlen(rd->benches[i].metrics[k].name);
	}
	printf("%-*s %-*s %14s  %-29s %12s %12s %5s\n", wb, "benchmark", wm, "metric", "median",
	       "95% CI", "min", "max", "n");
	for (size_t i = 0; i < rd->n_benches; i++) {
		const struct rd_bench *b = &rd->benches[i];
		const cJSON *warnings = rundoc_bench_warnings(b);
		const char *tail = rundoc_bench_stderr_tail(b);
		const cJSON *w;

		for (size_t k = 0; k < b->n_metrics; k++) {
			const struct rd_metric *m = &b->metrics[k];
			const struct rd_summary *s = &m->summary;
			char med[32], lo[32], hi[32], mn[32], mx[32], ci[72];
			if (m->n_samples == 0)
				continue;
			fmt_value(med, sizeof(med), s->median, m->unit);
			fmt_value(lo, sizeof(lo), s->ci_low, m->unit);
			fmt_value(hi, sizeof(hi), s->ci_high, m->unit);
			fmt_value(mn, sizeof(mn), s->min, m->unit);
			fmt_value(mx, sizeof(mx), s->max, m->unit);
			if (isnan(s->ci_low))
				snprintf(ci, sizeof(ci), "(n < 6: no interval)");
			else
				snprintf(ci, sizeof(ci), "[%s, %s]", lo, hi);
			printf("%-*s %-*s %14s  %-29s %12s %12s %5zu\n", wb, k == 0 ? b->name : "", wm,
			       m->name, med, ci, mn, mx, m->n_samples);
		}
		if (b->n_metrics == 0 || b->metrics[0].n_samples == 0)
			printf("%-*s (no samples)\n", wb, b->name);
		if (b->status != RUNDOC_STATUS_OK)
			printf("  %s: %s\n", b->status == RUNDOC_STATUS_FAILED ? "FAILED" : rundoc_status_name(b->status),
			       b->error ? b->error : "");
		if (tail) {
			char *copy = xstrdup(tail);
			char *save = NULL;
			printf("  last lines of stderr:\n");
			for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
				printf("  | %s\n", line);
			free(copy);
		}
		cJSON_ArrayForEach(w, warnings)
			if (cJSON_IsString(w))
				printf("  warning: %s\n", w->valuestring);
	}
}

static int parse_tags(const struct strlist *tags, cJSON **out)
{
	*out = NULL;
	if (tags->n == 0)
		return 0;
	*out = cJSON_CreateObject();
	for (size_t i = 0; i < tags->n; i++) {
		const char *eq = strchr(tags->items[i], '=');
		char *key;
		if (!eq || eq == tags->items[i]) {
			cmd_error("invalid --tag '%s': expected KEY=VALUE", tags->items[i]);
			cJSON_Delete(*out);
			*out = NULL;
			return -1;
		}
		key = xstrndup(tags->items[i], (size_t)(eq - tags->items[i]));
		cJSON_DeleteItemFromObjectCaseSensitive(*out, key);
		cJSON_AddStringToObject(*out, key, eq + 1);
		free(key);
	}
	return 0;
}

int cmd_run(int argc, char **argv)
{
	static const struct cmd_usage usage = {
		"run", "[options] SUITE",
		"run a benchmark suite, store the run and print a summary",
		"Exit codes: 0 all benchmarks passed, 2 invalid suite or usage, 3 a benchmark\n"
		"failed or the run was interrupted (finished benchmarks go to --out, marked\n"
		"partial), 4 the database was unreachable (the run was spooled).",
	};
	const char *out_path = NULL, *db_url = NULL, *format = "text";
	long repetitions = LONG_MIN, warmup = LONG_MIN; /* LONG_MIN: not given */
	bool no_store = false, quiet = false, list = false, stored = false, already = false;
	struct strlist tags = STRLIST_INIT, pos = STRLIST_INIT, benches = STRLIST_INIT;
	const struct opt opts[] = {
		{ "bench", 'b', OPT_LIST, &benches, "GLOB", "run only benchmarks whose name matches GLOB (repeatable: any of them)" },
		{ "db", 0, OPT_STRING, &db_url, "URL", "PostgreSQL URL (default: $PERFGATE_DATABASE_URL, then the embedded database)" },
		{ "format", 0, OPT_STRING, &format, "FMT", "summary on stdout: text (default) or json (the run document)" },
		{ "list", 'l', OPT_FLAG, &list, NULL, "validate the suite and list its expanded benchmarks (kind, config hash); run nothing" },
		{ "no-store", 0, OPT_FLAG, &no_store, NULL, "do not store the run in the database" },
		{ "out", 'o', OPT_STRING, &out_path, "FILE", "write the run document to FILE" },
		{ "quiet", 'q', OPT_FLAG, &quiet, NULL, "no progress on stderr" },
		{ "repetitions", 'n', OPT_INT, &repetitions, "N", "run every benchmark exactly N times" },
		{ "tag", 't', OPT_LIST, &tags, "KEY=VALUE", "store a tag with the run" },
		{ "warmup", 'w', OPT_INT, &warmup, "N", "warmup runs before every benchmark" },
	};
	struct run_options ro = RUN_OPTIONS_INIT;
	struct errlist problems = ERRLIST_INIT, notices = ERRLIST_INIT;
	struct err err = ERR_INIT;
	struct suite *suite = NULL;
	struct rundoc *rd = NULL;
	struct progress prog = { false, false, false, 0 };
	cJSON *tag_obj = NULL;
	int rc, code = EXIT_PASS;

	OPT_PARSE_OR_RETURN(usage, opts, argc, argv, &pos);
	if (pos.n != 1) {
		cmd_error(pos.n ? "'run' takes one suite file, got %zu arguments" : "'run' needs a suite file (perfgate run SUITE)",
			  pos.n);
		code = EXIT_USAGE;
		goto done;
	}
	if (strcmp(format, "text") != 0 && strcmp(format, "json") != 0) {
		cmd_error("invalid --format '%s': expected text or json", format);
		code = EXIT_USAGE;
		goto done;
	}
	if (repetitions != LONG_MIN && repetitions < 1) {
		cmd_error("invalid --repetitions %ld: expected an integer >= 1", repetitions);
		code = EXIT_USAGE;
		goto done;
	}
	if (warmup != LONG_MIN && warmup < 0) {
		cmd_error("invalid --warmup %ld: expected an integer >= 0", warmup);
		code = EXIT_USAGE;
		goto done;
	}
	if (parse_tags(&tags, &tag_obj) != 0) {
		code = EXIT_USAGE;
		goto done;
	}

	rc = suite_load(&suite, pos.items[0], &problems, &err);
	if (rc != 0) {
		if (problems.n == 0 || strncmp(err.msg, "cannot ", 7) == 0) {
			cmd_error("%s", err.msg);
		} else {
			cmd_error("invalid suite '%s' (%zu problem%s):", pos.items[0], problems.n,
				  problems.n == 1 ? "" : "s");
			for (size_t i = 0; i < problems.n; i++)
				fprintf(stderr, "  %s\n", problems.msgs[i]);
		}
		code = cmd_exit_code(rc);
		goto done;
	}

	if (list) {
		ro.bench_globs = benches.items;
		ro.n_bench_globs = benches.n;
		for (size_t i = 0; i < suite->n_benches; i++) {
			const struct suite_bench *b = &suite->benches[i];
			if (!run_selected(&ro, b->name))
				continue;
			printf("%s\t%s\t%s\n", b->name, rundoc_kind_name(b->kind), b->config_hash);
		}
		goto done;
	}

	proc_install_interrupt_handler();
	prog.tty = isatty(STDERR_FILENO);
	prog.quiet = quiet;
	ro.bench_globs = benches.items;
	ro.n_bench_globs = benches.n;
	ro.repetitions = repetitions == LONG_MIN ? 0 : repetitions;
	ro.warmup = warmup == LONG_MIN ? -1 : warmup;
	ro.tags = tag_obj;
	ro.progress = on_progress;
	ro.on_bench = on_bench;
	ro.progress_arg = &prog;
	ro.notices = &notices;
	rc = run_suite(suite, &ro, &rd, &err);
	for (size_t i = 0; i < notices.n; i++)
		cmd_warn("%s", notices.msgs[i]);
	if (!rd) {
		code = cmd_fail(rc, &err);
		goto done;
	}
	if (rc != 0) {
		cmd_error("%s", err.msg);
		code = EXIT_INVALID;
	}
	if (out_path) {
		struct err e = ERR_INIT;
		if (rundoc_save(rd, out_path, &e) != 0) {
			cmd_error("%s", e.msg);
			code = code ? code : EXIT_INFRA;
		} else if (rd->partial) {
			cmd_warn("partial run written to '%s'", out_path);
		}
	}
	if (!no_store && !rd->partial) {
		struct db_options dbo = DB_OPTIONS_INIT;
		struct err e = ERR_INIT;
		dbo.url = db_url;
		rc = db_store_run(&dbo, rd, &already, &e);
		stored = rc == 0;
		if (rc != 0) {
			cmd_error("%s", e.msg);
			if (!code)
				code = cmd_exit_code(rc) == EXIT_PASS ? EXIT_INFRA : cmd_exit_code(rc);
		}
	}
	if (strcmp(format, "json") == 0) {
		char *text = rundoc_to_string(rd);
		fputs(text, stdout);
		fputc('\n', stdout);
		free(text);
	} else {
		print_table(rd);
		if (stored)
			printf("run %s%s\n", rd->run_id, already ? " (stored before)" : "");
	}
done:
	rundoc_free(rd);
	suite_free(suite);
	errlist_release(&problems);
	errlist_release(&notices);
	cJSON_Delete(tag_obj);
	strlist_release(&tags);
	strlist_release(&benches);
	strlist_release(&pos);
	return code;
}
