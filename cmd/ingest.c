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

#include "../core/context.h"
#include "../core/ingest/ingest.h"
#include "../core/rundoc.h"
#include "../core/util.h"
#include "../db/store.h"
#include "cmd.h"

/* Without --project: the git remote's repository name, else the name of
 * the repository folder (the store needs a project for every run). */
static char *default_project(const struct rundoc *rd, const char *repo)
{
	const char *src = rd->git.remote, *base, *end;
	char *abs = NULL, *name;

	if (!src || !*src) {
		abs = realpath(repo, NULL);
		src = abs ? abs : repo;
	}
	end = src + strlen(src);
	while (end > src && end[-1] == '/')
		end--;
	if (end - src > 4 && strncmp(end - 4, ".git", 4) == 0)
		end -= 4;
	base = end;
	while (base > src && base[-1] != '/' && base[-1] != ':')
		base--;
	name = end > base ? xstrndup(base, (size_t)(end - base)) : xstrdup("default");
	free(abs);
	return name;
}

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

			printf("  %-28s median %-12g %-4s n=%zu (%s is better)\n", m->name,
			       m->summary.median, m->unit, m->summary.n, rundoc_direction_name(m->direction));
		}
	}
	if (n_files > 1)
		fprintf(stderr, "perfgate: ingested %zu benchmark%s from %zu files (%s)\n", rd->n_benches,
			rd->n_benches == 1 ? "" : "s", n_files, ingest_format_name(fmt));
	else
		fprintf(stderr, "perfgate: ingested %zu benchmark%s from '%s' (%s)\n", rd->n_benches,
			rd->n_benches == 1 ? "" : "s", path, ingest_format_name(fmt));
}

int cmd_ingest(int argc, char **argv)
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
	const char *format = "auto", *suite = NULL, *name = NULL, *out = NULL, *db_url = NULL;
	const char *repo = ".", *project = NULL;
	bool no_store = false, quiet = false;
	struct opt opts[] = {
		{ "format", 'f', OPT_STRING, &format, "FORMAT", "the harness that wrote FILE (default auto)" },
		{ "suite", 's', OPT_STRING, &suite, "NAME", "suite name to store the run under (default: the format name)" },
		{ "project", 'p', OPT_STRING, &project, "NAME", "project the run belongs to" },
		{ "name", 0, OPT_STRING, &name, "NAME", "benchmark name for single-test formats (k6, vllm)" },
		{ "out", 'o', OPT_STRING, &out, "FILE", "also write the run document to FILE ('-': stdout)" },
		{ "no-store", 0, OPT_FLAG, &no_store, NULL, "do not store the run in the database" },
		{ "db", 0, OPT_STRING, &db_url, "URL", "database URL (default: environment, then embedded)" },
		{ "repo", 0, OPT_STRING, &repo, "DIR", "git repository the results belong to (default .)" },
		{ "quiet", 'q', OPT_FLAG, &quiet, NULL, "do not print the summary" },
	};
	struct strlist pos = STRLIST_INIT;
	struct ingest_options iopts = INGEST_OPTIONS_INIT;
	enum ingest_format fmt, used = INGEST_AUTO;
	struct rundoc *rd = NULL;
	struct err err = ERR_INIT;
	int rc, ret = EXIT_PASS;

	OPT_PARSE_OR_RETURN(usage, opts, argc, argv, &pos);
	if (pos.n == 0) {
		cmd_error("ingest needs a FILE (try 'perfgate ingest --help')");
		ret = EXIT_USAGE;
		goto done;
	}
	rc = ingest_format_parse(format, &fmt, &err);
	if (rc < 0) {
		ret = cmd_fail(rc, &err);
		goto done;
	}
	iopts.bench_name = name;
	rd = rundoc_new();
	/* Several files are several runs of the same harness: each adds its
	 * samples (one per metric for k6, vllm, locust, catch2). */
	for (size_t i = 0; i < pos.n; i++) {
		struct rundoc *one = rundoc_new();
		enum ingest_format got = INGEST_AUTO;

		rc = ingest_file(pos.items[i], i > 0 && fmt == INGEST_AUTO ? used : fmt, &iopts, one,
				 &got, &err);
		if (rc == 0 && i == 0 && fmt == INGEST_AUTO)
			fprintf(stderr, "perfgate: '%s' looks like %s output (use --format to choose)\n",
				pos.items[0], ingest_format_name(got));
		if (rc == 0)
			rundoc_merge(rd, one, RUNDOC_MERGE_ACCUMULATE);
		rundoc_free(one);
		if (rc < 0) {
			ret = cmd_fail(rc, &err);
			goto done;
		}
		used = got;
	}
	for (size_t i = 0; i < rd->n_benches; i++)
		for (size_t j = 0; j < rd->benches[i].n_metrics; j++)
			rundoc_metric_summarise(&rd->benches[i].metrics[j]);

	rd->suite = xstrdup(suite ? suite : ingest_format_name(used));
	if (project)
		rd->project = xstrdup(project);
	{
		struct errlist notices = ERRLIST_INIT;

		rc = context_stamp(rd, repo, &notices, &err);
		for (size_t i = 0; i < notices.n; i++)
			cmd_warn("%s", notices.msgs[i]);
		errlist_release(&notices);
		if (rc < 0) {
			ret = cmd_fail(rc, &err);
			goto done;
		}
	}
	if (!rd->project)
		rd->project = default_project(rd, repo);
	if (!rd->finished_at) {
		char now[40];

		time_rfc3339(now, sizeof(now));
		rd->finished_at = xstrdup(now);
	}
	{
		cJSON *tags = rd->tags ? rd->tags : cJSON_CreateObject();

		if (!cJSON_HasObjectItem(tags, "ingested_from"))
			cJSON_AddStringToObject(tags, "ingested_from", ingest_format_name(used));
		rd->tags = tags;
	}

	if (out) {
		if (strcmp(out, "-") == 0) {
			char *text = rundoc_to_string(rd);

			printf("%s\n", text);
			free(text);
			quiet = true;
		} else if ((rc = rundoc_save(rd, out, &err)) < 0) {
			ret = cmd_fail(rc, &err);
			goto done;
		}
	}
	if (!no_store) {
		struct db_options dbo = DB_OPTIONS_INIT;
		bool already = false;

		dbo.url = db_url;
		rc = db_store_run(&dbo, rd, &already, &err);
		if (rc < 0) {
			ret = cmd_fail(rc, &err);
			goto done;
		}
		if (already)
			fprintf(stderr, "perfgate: run %s was stored before; nothing written\n", rd->run_id);
		else
			fprintf(stderr, "perfgate: stored run %s\n", rd->run_id);
	}
	if (!quiet)
		print_summary(rd, pos.items[0], pos.n, used);
done:
	rundoc_free(rd);
	strlist_release(&pos);
	return ret;
}
