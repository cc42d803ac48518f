/*
 * ingest.c: `perfgate ingest`: take the output of a benchmark harness teams
 * already use (hyperfine, Google Benchmark, pytest-benchmark, go test
 * -bench, k6, vLLM's serving benchmark, Locust, JMH, Catch2), turn it into
 * a run document and store it like any run.  Bad input is one line naming
 * the file and the JSON path or line, exit 2, and nothing is stored.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/gate.h"
#include "../core/ingest/ingest.h"
#include "../core/report.h"
#include "../core/rundoc.h"
#include "../core/util.h"
#include "../db/store.h"
#include "cmd.h"

static void print_summary(const struct rundoc *rd, const char *path, size_t n_files,
			  enum ingest_format fmt)
{
	for (size_t i = 0; i < rd->n_benches; i++) {
		const struct rd_bench *b = &rd->benches[i];

		printf("%s", b->name);
		if (b->status != RUNDOC_STATUS_OK)
			printf("  [%s: %s]", rundoc_status_name(b->status), b->error ? b->error : "");
		printf("\n");
		for (size_t j = 0; j < b->n_metrics; j++) {
			const struct rd_metric *m = &b->metrics[j];

			char med[64];

			report_format_value(m->summary.median, m->unit, med, sizeof(med));
			printf("  %-28s median %-16s n=%zu (%s is better)\n", m->name, med, m->summary.n,
			       rundoc_direction_name(m->direction));
		}
	}
	if (n_files > 1)
		fprintf(stderr, "perfgate: ingested %zu benchmark%s from %zu files (%s)\n", rd->n_benches,
			rd->n_benches == 1 ? "" : "s", n_files, ingest_format_name(fmt));
	else
		fprintf(stderr, "perfgate: ingested %zu benchmark%s from '%s' (%s)\n", rd->n_benches,
			rd->n_benches == 1 ? "" : "s", path, ingest_format_name(fmt));
}

/* The command line. */
struct ingest_args {
	const char *format, *suite, *name, *out, *db_url, *repo, *project;
	bool no_store, quiet;
	enum ingest_format fmt;
	struct strlist pos;
};

/* Returns -1 to go on, else the exit code. */
static int parse_args(struct ingest_args *a, int argc, char **argv)
{
	static const struct cmd_usage usage = {
		"ingest", "[options] FILE...",
		"turn a benchmark harness's output into a run and store it",
		"FORMAT is one of auto (the default: detect, and say which), hyperfine,\n"
		"google-benchmark, pytest-benchmark, go, k6, vllm, locust, jmh, catch2.\n"
		"FILE '-' reads standard input.  Several FILEs are several runs of the same\n"
		"harness (with auto, the first one's format is used for all): each adds its\n"
		"samples.  See docs/ingest.md for what each format becomes."
	};
	const struct opt opts[] = {
		{ "format", 'f', OPT_STRING, &a->format, "FORMAT", "the harness that wrote FILE (default auto)" },
		{ "suite", 's', OPT_STRING, &a->suite, "NAME", "suite name to store the run under (default: the format name)" },
		{ "project", 'p', OPT_STRING, &a->project, "NAME", "project the run belongs to" },
		{ "name", 0, OPT_STRING, &a->name, "NAME", "benchmark name for single-test formats (k6, vllm)" },
		{ "out", 'o', OPT_STRING, &a->out, "FILE", "also write the run document to FILE ('-': stdout)" },
		{ "no-store", 0, OPT_FLAG, &a->no_store, NULL, "do not store the run in the database" },
		{ "db", 0, OPT_STRING, &a->db_url, "URL", "database URL (default: environment, then embedded)" },
		{ "repo", 0, OPT_STRING, &a->repo, "DIR", "git repository the results belong to (default .)" },
		{ "quiet", 'q', OPT_FLAG, &a->quiet, NULL, "do not print the summary" },
	};
	struct err err = ERR_INIT;
	int rc = opt_parse(&usage, opts, ARRAY_SIZE(opts), argc, argv, &a->pos);

	if (rc != OPT_OK)
		return rc == OPT_HELP ? EXIT_PASS : EXIT_USAGE;
	if (a->pos.n == 0) {
		cmd_error("ingest needs a FILE (try 'perfgate ingest --help')");
		return EXIT_USAGE;
	}
	if ((rc = ingest_format_parse(a->format, &a->fmt, &err)) < 0)
		return cmd_fail(rc, &err);
	return -1;
}

/* Read the files into rd and give it its context. */
static int ingest(const struct ingest_args *a, struct rundoc *rd, enum ingest_format *used)
{
	struct ingest_options iopts = INGEST_OPTIONS_INIT;
	struct errlist notices = ERRLIST_INIT;
	struct err err = ERR_INIT;
	int rc;

	iopts.bench_name = a->name;
	rc = ingest_files((const char *const *)a->pos.items, a->pos.n, a->fmt, &iopts, rd, used, &err);
	if (rc == 0 && a->fmt == INGEST_AUTO)
		fprintf(stderr, "perfgate: '%s' looks like %s output (use --format to choose)\n",
			a->pos.items[0], ingest_format_name(*used));
	if (rc == 0)
		rc = ingest_stamp(rd, *used, a->suite, a->project, a->repo, &notices, &err);
	for (size_t i = 0; i < notices.n; i++)
		cmd_warn("%s", notices.msgs[i]);
	errlist_release(&notices);
	return rc < 0 ? cmd_fail(rc, &err) : EXIT_PASS;
}

/* Store the run like any run (spooled when the database cannot take it). */
static int store(const struct ingest_args *a, const struct rundoc *rd)
{
	struct db_options dbo = DB_OPTIONS_INIT;
	struct db_store *dbs = NULL;
	struct gate_store gs;
	struct err err = ERR_INIT, cp_err = ERR_INIT;
	char *spooled = NULL;
	bool already = false;
	int rc;

	dbo.url = a->db_url;
	db_store_open(&dbs, &dbo, &err);
	db_store_gate_store(dbs, &gs);
	rc = gate_store_run(&gs, rd, NULL, &already, &spooled, &cp_err, &err);
	db_store_free(dbs);
	free(spooled);
	if (rc < 0)
		return cmd_fail(rc, &err);
	if (already)
		fprintf(stderr, "perfgate: run %s was stored before; nothing written\n", rd->run_id);
	else
		fprintf(stderr, "perfgate: stored run %s\n", rd->run_id);
	return EXIT_PASS;
}

int cmd_ingest(int argc, char **argv)
{
	struct ingest_args a = { .format = "auto", .repo = ".", .pos = STRLIST_INIT };
	enum ingest_format used = INGEST_AUTO;
	struct rundoc *rd = rundoc_new();
	struct err err = ERR_INIT;
	int rc, ret;

	if ((ret = parse_args(&a, argc, argv)) >= 0 || (ret = ingest(&a, rd, &used)) != 0)
		goto done;
	if (a.out && strcmp(a.out, "-") == 0) {
		char *text = rundoc_to_string(rd);

		printf("%s\n", text);
		free(text);
		a.quiet = true;
	} else if (a.out && (rc = rundoc_save(rd, a.out, &err)) < 0) {
		ret = cmd_fail(rc, &err);
		goto done;
	}
	if (!a.no_store && (ret = store(&a, rd)) != 0)
		goto done;
	if (!a.quiet)
		print_summary(rd, a.pos.items[0], a.pos.n, used);
done:
	rundoc_free(rd);
	strlist_release(&a.pos);
	return ret;
}
