/*
 * gate.c: `perfgate gate SUITE`: the one step a CI job needs.  Run the
 * suite, compare against the stored baseline, confirm regressions by
 * re-measuring the regressed benchmarks in the same job, store the run and
 * its verdicts, write the reports, exit with the verdict (docs/gate.md).
 *
 * Exit codes (DESIGN 7): 0 passed; 1 a confirmed regression or a violated
 * SLO; 2 usage or invalid input (suite, --baseline, an SLO naming a metric
 * that does not exist); 3 the run is invalid (a benchmark failed or the run
 * was interrupted; the report still shows what ran); 4 the database could not
 * be reached (the run was spooled; SLOs are still checked and reported).
 */
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../core/baseline.h"
#include "../core/compare.h"
#include "../core/plot.h"
#include "../core/proc.h"
#include "../core/report.h"
#include "../core/run.h"
#include "../core/suite.h"
#include "../core/util.h"
#include "../db/baseline.h"
#include "../db/db.h"
#include "../db/history.h"
#include "cmd.h"
#include "compare_common.h"

struct gate_progress {
	bool tty;
	bool quiet;
};

static void on_bench(void *arg, enum run_event ev, const char *name, const struct rd_bench *b)
{
	struct gate_progress *p = arg;
	const struct rd_metric *m;

	if (p->quiet || ev != RUN_BENCH_DONE)
		return;
	m = b && b->n_metrics ? &b->metrics[0] : NULL;
	fprintf(stderr, "%s: %s (%zu repetitions)\n", name, b ? rundoc_status_name(b->status) : "?",
		m ? m->n_samples : (size_t)0);
}

/*
 * The suite benchmarks to run again for these run-document benchmarks, in
 * place and without repeats.  An ingested harness reports several benchmarks
 * ("micro/BM_X") for one suite benchmark ("micro"), named in their extra
 * "suite_benchmark"; others are suite benchmarks themselves.
 */
static size_t suite_bench_names(const struct rundoc *rd, const char **names, size_t n)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		const struct rd_bench *b = rundoc_find_bench(rd, names[i]);
		const char *sb = b ? rundoc_bench_suite_benchmark(b) : NULL;
		const char *name = sb ? sb : names[i];
		bool seen = false;

		for (size_t j = 0; j < k; j++)
			seen |= strcmp(names[j], name) == 0;
		if (!seen)
			names[k++] = name;
	}
	return k;
}

static int parse_tags(const struct strlist *tags, cJSON **out)
{
	*out = NULL;
	for (size_t i = 0; i < tags->n; i++) {
		const char *eq = strchr(tags->items[i], '=');
		char *key;

		if (!eq || eq == tags->items[i]) {
			cmd_error("invalid --tag '%s': expected KEY=VALUE", tags->items[i]);
			cJSON_Delete(*out);
			*out = NULL;
			return -1;
		}
		if (!*out)
			*out = cJSON_CreateObject();
		key = xstrndup(tags->items[i], (size_t)(eq - tags->items[i]));
		cJSON_DeleteItemFromObjectCaseSensitive(*out, key);
		cJSON_AddStringToObject(*out, key, eq + 1);
		free(key);
	}
	return 0;
}

/* Most repetitions any metric of the named benchmarks has: confirmation adds as many again. */
static long reps_of(const struct rundoc *rd, const char *const *names, size_t n)
{
	long most = 0;

	for (size_t i = 0; i < n; i++) {
		const struct rd_bench *b = rundoc_find_bench(rd, names[i]);

		for (size_t j = 0; b && j < b->n_metrics; j++)
			if ((long)b->metrics[j].n_samples > most)
				most = (long)b->metrics[j].n_samples;
	}
	return most;
}

static void draw_plots(const char *dir, const struct rundoc *rd, const struct baseline *base)
{
	struct rundoc **docs = NULL;
	char **files = NULL;
	size_t n_files = 0, n = base ? base->n_runs : 0;
	struct err err = ERR_INIT;

	/* plot_gate_dir wants the baseline oldest first; ours is nearest first. */
	if (n)
		docs = xcalloc(n, sizeof(*docs));
	for (size_t i = 0; i < n; i++)
		docs[i] = base->runs[n - 1 - i].doc;
	if (plot_gate_dir(dir, PLOT_PNG, rd, docs, n, &files, &n_files, &err) != 0)
		cmd_warn("plots: %s", err.msg);
	else
		fprintf(stderr, "perfgate: %zu plot%s written to '%s'\n", n_files, n_files == 1 ? "" : "s", dir);
	for (size_t i = 0; i < n_files; i++)
		free(files[i]);
	free(files);
	free(docs);
}

int cmd_gate(int argc, char **argv)
{
	static const struct cmd_usage usage = {
		"gate", "[options] SUITE",
		"run, store, compare against the baseline, report and exit nonzero on regression",
		"A regression found is confirmed before the gate fails: the regressed benchmarks\n"
		"run again in the same job with as many repetitions again (or --confirm-repetitions)\n"
		"and the verdict is decided on the pooled samples (--no-confirm skips this).\n"
		"Exit codes: 0 passed, 1 regression or SLO violated, 2 usage or invalid input,\n"
		"3 a benchmark failed or the run was interrupted, 4 database unreachable (spooled).",
	};
	const char *bench = NULL, *db_url = NULL, *spec = NULL, *plots = NULL, *run_out = NULL;
	struct cmpcmd_out o = { .format = "text" };
	long repetitions = LONG_MIN, confirm_reps = 0, runs = 0;
	bool strict = false, no_confirm = false, no_store = false, quiet = false;
	struct strlist tags = STRLIST_INIT, pos = STRLIST_INIT;
	const struct opt opts[] = {
		{ "baseline", 0, OPT_STRING, &spec, "SPEC", "RUN_ID, COMMIT, branch:NAME or file:RUN.json instead of the automatic baseline" },
		{ "baseline-runs", 0, OPT_INT, &runs, "K", "baseline runs per benchmark (default: suite baseline.runs, else 5)" },
		{ "bench", 'b', OPT_STRING, &bench, "GLOB", "run only benchmarks whose name matches GLOB" },
		{ "comment", 0, OPT_FLAG, &o.pub.comment, NULL, "post or update the one pull/merge-request comment (GitHub, GitLab)" },
		{ "confirm-repetitions", 0, OPT_INT, &confirm_reps, "N", "repetitions of a confirmation re-run (default: as many as the first run had)" },
		{ "db", 0, OPT_STRING, &db_url, "URL", "PostgreSQL URL (default: $PERFGATE_DATABASE_URL, then the embedded database)" },
		{ "format", 'f', OPT_STRING, &o.format, "FMT", "report on stdout: text (default), markdown, json or junit" },
		{ "json", 0, OPT_STRING, &o.json, "FILE", "also write the JSON report to FILE" },
		{ "junit", 0, OPT_STRING, &o.junit, "FILE", "also write a JUnit XML report to FILE" },
		{ "markdown", 0, OPT_STRING, &o.markdown, "FILE", "also write the Markdown report (for a PR comment) to FILE" },
		{ "metrics", 0, OPT_STRING, &o.pub.metrics, "FILE", "also write the OpenMetrics report GitLab's metrics widget reads" },
		{ "no-confirm", 0, OPT_FLAG, &no_confirm, NULL, "fail on a regression without re-measuring it first" },
		{ "no-store", 0, OPT_FLAG, &no_store, NULL, "do not store the run or its verdicts (the baseline is still read)" },
		{ "out", 'o', OPT_STRING, &o.out, "FILE", "write the report to FILE instead of stdout" },
		{ "plots", 0, OPT_STRING, &plots, "DIR", "draw trend and latency plots (gnuplot) into DIR" },
		{ "quiet", 'q', OPT_FLAG, &quiet, NULL, "no progress on stderr" },
		{ "repetitions", 'n', OPT_INT, &repetitions, "N", "run every benchmark exactly N times" },
		{ "run-out", 0, OPT_STRING, &run_out, "FILE", "write the run document to FILE" },
		{ "strict", 0, OPT_FLAG, &strict, NULL, "inconclusive and insufficient-data verdicts fail too" },
		{ "strict-report", 0, OPT_FLAG, &o.pub.strict_report, NULL, "exit 4 when a report or comment could not be published" },
		{ "tag", 't', OPT_LIST, &tags, "KEY=VALUE", "store a tag with the run" },
	};
	struct run_options ro = RUN_OPTIONS_INIT;
	struct compare_options co = COMPARE_OPTIONS_INIT;
	struct baseline_source src;
	struct baseline base;
	struct errlist problems = ERRLIST_INIT, notices = ERRLIST_INIT;
	struct err err = ERR_INIT, run_err = ERR_INIT;
	struct db_options dbo = DB_OPTIONS_INIT;
	struct gate_progress prog = { false, false };
	struct suite *suite = NULL;
	struct rundoc *rd = NULL;
	struct compare_result *res = NULL;
	struct db *db = NULL;
	cJSON *tag_obj = NULL;
	bool have_base = false, run_invalid = false, db_down = false;
	int rc, code = EXIT_PASS;

	memset(&base, 0, sizeof(base));
	memset(&src, 0, sizeof(src));
	/* Not OPT_PARSE_OR_RETURN: the positional list must be released on every path. */
	code = opt_parse(&usage, opts, ARRAY_SIZE(opts), argc, argv, &pos);
	if (code != OPT_OK) {
		code = code == OPT_HELP ? EXIT_PASS : EXIT_USAGE;
		goto done;
	}
	if (pos.n != 1) {
		cmd_error("'gate' needs one suite file (perfgate gate SUITE)");
		code = EXIT_USAGE;
		goto done;
	}
	if ((code = cmpcmd_check_format(&o)) != 0)
		goto done;
	if ((repetitions != LONG_MIN && repetitions < 1) || confirm_reps < 0 || runs < 0) {
		cmd_error("invalid --repetitions, --confirm-repetitions or --baseline-runs: expected an integer >= 1");
		code = EXIT_USAGE;
		goto done;
	}
	if (parse_tags(&tags, &tag_obj) != 0) {
		code = EXIT_USAGE;
		goto done;
	}
	rc = suite_load(&suite, pos.items[0], &problems, &err);
	if (rc) {
		if (problems.n == 0) {
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

	/* 1. Run.  A/B variants are an experiment within one job: interleave
	 * repetitions so that a drift of the machine hits every variant alike,
	 * unless the suite chose an "order" itself (docs/gate.md). */
	if (!cJSON_GetObjectItemCaseSensitive(suite->raw, "order"))
		for (size_t i = 0; i < suite->n_benches; i++)
			if (suite->benches[i].variant_of)
				suite->interleaved = true;
	proc_install_interrupt_handler();
	prog.tty = isatty(STDERR_FILENO);
	prog.quiet = quiet;
	ro.bench_glob = bench;
	ro.repetitions = repetitions == LONG_MIN ? 0 : repetitions;
	ro.tags = tag_obj;
	ro.on_bench = on_bench;
	ro.progress_arg = &prog;
	ro.notices = &notices;
	rc = run_suite(suite, &ro, &rd, &run_err);
	for (size_t i = 0; i < notices.n; i++)
		cmd_warn("%s", notices.msgs[i]);
	if (!rd) {
		code = cmd_fail(rc, &run_err);
		goto done;
	}
	if (rc) {
		cmd_error("%s", run_err.msg);
		run_invalid = true;
	}
	if (rd->partial) {
		cmd_error("interrupted: nothing stored, no verdict");
		if (run_out)
			rundoc_save(rd, run_out, &err);
		code = EXIT_INVALID;
		goto done;
	}

	/* 2. Baseline. */
	if (!(spec && strncmp(spec, "file:", 5) == 0) || !no_store) {
		dbo.url = db_url;
		rc = db_open(&db, &dbo, &err);
		if (rc) {
			cmd_error("%s", err.msg);
			db_down = true;
		} else {
			db_baseline_source(db, &src);
		}
	}
	if (!db_down) {
		rc = cmpcmd_select_baseline(&src, rd, suite, suite->dir, runs, spec, &base);
		if (rc) {
			code = rc;
			goto done;
		}
		have_base = true;
	}

	/* 3. Compare (SLOs are checked even without a database). */
	co.strict = strict;
	rc = compare_run(rd, have_base ? &base : NULL, suite, &co, &res, &err);
	if (rc) {
		code = cmd_fail(rc, &err);
		goto done;
	}

	/* 4. Confirmation: re-measure the regressed benchmarks, pool, decide again. */
	if (!no_confirm && !run_invalid && have_base) {
		const char **names = NULL;
		size_t n = compare_regressed_benches(res, &names);

		if (n) {
			struct run_options cro = ro;
			struct rundoc *again = NULL;
			struct err e = ERR_INIT;
			size_t added;

			cro.bench_glob = NULL;
			cro.repetitions = confirm_reps ? confirm_reps : reps_of(rd, names, n);
			n = suite_bench_names(rd, names, n);
			cro.only = names;
			cro.n_only = n;
			cro.no_context = true;
			if (!quiet)
				fprintf(stderr, "perfgate: %zu benchmark%s regressed; confirming with %ld more repetitions\n",
					n, n == 1 ? "" : "s", cro.repetitions);
			rc = run_suite(suite, &cro, &again, &e);
			if (again && !again->partial && rc == 0) {
				added = rundoc_merge(rd, again, RUNDOC_MERGE_POOL);
				compare_result_free(res);
				res = NULL;
				rc = compare_run(rd, &base, suite, &co, &res, &err);
				if (rc) {
					rundoc_free(again);
					free(names);
					code = cmd_fail(rc, &err);
					goto done;
				}
				res->confirm_reps = added;
			} else {
				cmd_error("confirmation run failed (%s); deciding on the first run", e.msg);
				if (again && again->partial)
					run_invalid = true;
			}
			rundoc_free(again);
		}
		free(names);
	}

	/* 5. Store the run (pooled) and its verdicts. */
	if (run_out && rundoc_save(rd, run_out, &err) != 0)
		cmd_error("%s", err.msg);
	if (!no_store) {
		bool already = false;

		if (db_down) {
			rc = db_store_run(&dbo, rd, &already, &err);
			if (rc)
				cmd_error("%s", err.msg);
		} else {
			cJSON *j = report_to_json(res);

			rc = db_run_insert(db, rd, &already, &err);
			if (!rc && !already) {
				/* The history's change points, which later baselines respect,
				 * with the suite's settings (validated by suite_load). */
				struct changepoint_params cpp;
				struct errlist cpp_problems = ERRLIST_INIT;
				struct err e = ERR_INIT;

				changepoint_params_from_suite(suite->compare, suite->changepoints, &cpp,
							      &cpp_problems);
				errlist_release(&cpp_problems);
				if (history_update_changepoints_with(db, rd, &cpp, &e) != 0)
					cmd_warn("change points not updated: %s", e.msg);
			}
			if (!rc)
				rc = db_comparison_store(db, rd->run_id, j, &err);
			cJSON_Delete(j);
			if (rc) {
				cmd_error("%s", err.msg);
				db_down = true;
			}
		}
	}
	if (db_down) {
		char *note = xasprintf("database unreachable: no baseline comparison, only SLOs were checked");

		res->notes = xrealloc(res->notes, (res->n_notes + 1) * sizeof(*res->notes));
		res->notes[res->n_notes++] = note;
	}

	if (plots)
		draw_plots(plots, rd, have_base ? &base : NULL);

	/* 6. Report and exit code. */
	code = cmpcmd_write(res, &o);
	cmpcmd_warn_loud(res);
	if (run_invalid)
		code = EXIT_INVALID;
	else if (db_down)
		code = EXIT_INFRA;
	else if (!code)
		code = cmpcmd_exit(res);
done:
	compare_result_free(res);
	baseline_release(&base); /* also what a failed baseline_select filled */
	rundoc_free(rd);
	db_free(db);
	suite_free(suite);
	errlist_release(&problems);
	errlist_release(&notices);
	cJSON_Delete(tag_obj);
	strlist_release(&tags);
	strlist_release(&pos);
	return code;
}
