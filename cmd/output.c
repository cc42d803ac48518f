/*
 * output.c: report writing shared by `compare`, `gate` and `report`.
 */
#include "output.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../core/util.h"
#include "cmd.h"

int output_check_format(const struct output_opts *o)
{
	enum report_format f;
	struct err err = ERR_INIT;

	if (report_format_parse(o->format ? o->format : "text", &f, &err) != 0) {
		cmd_error("invalid --format: %s", err.msg);
		return EXIT_USAGE;
	}
	return 0;
}

int output_check_paths(const struct output_opts *o)
{
	if (cmd_check_out_path("out", o->out) || cmd_check_out_path("json", o->json) ||
	    cmd_check_out_path("junit", o->junit) || cmd_check_out_path("markdown", o->markdown) ||
	    cmd_check_out_path("html", o->html) ||
	    cmd_check_out_path("metrics", o->pub.metrics))
		return EXIT_USAGE;
	return 0;
}

/* The renderers' options from the command line (and the environment for the links). */
static void render_options(const struct output_opts *o, bool color, struct report_options *ro)
{
	*ro = (struct report_options){ .color = color, .all = o->all, .report_url = o->report_url,
				       .site_url = o->site_url, .run = o->run, .baseline = o->baseline,
				       .history = o->history, .n_history = o->n_history };
	if (!ro->report_url && getenv("PERFGATE_REPORT_URL") && *getenv("PERFGATE_REPORT_URL"))
		ro->report_url = getenv("PERFGATE_REPORT_URL");
	if (!ro->site_url && getenv("PERFGATE_SITE_URL") && *getenv("PERFGATE_SITE_URL"))
		ro->site_url = getenv("PERFGATE_SITE_URL");
}

/* Render r in format f; what the HTML report could not draw is a warning. */
static void render(const struct compare_result *r, enum report_format f, struct report_options *ro, struct sb *out)
{
	struct errlist warnings = ERRLIST_INIT;

	ro->warnings = &warnings;
	report_render(r, f, ro, out);
	for (size_t i = 0; i < warnings.n; i++)
		cmd_warn("HTML report: %s", warnings.msgs[i]);
	errlist_release(&warnings);
}

static int write_one(const struct compare_result *r, enum report_format f, const struct output_opts *o,
		     const char *path)
{
	struct sb sb = SB_INIT;
	struct err err = ERR_INIT;
	struct report_options ro;
	int code = 0;

	render_options(o, false, &ro);
	render(r, f, &ro, &sb);
	if (file_write_atomic(path, sb.buf ? sb.buf : "", sb.len, &err) != 0) {
		cmd_error("%s", err.msg);
		code = EXIT_INFRA;
	}
	sb_release(&sb);
	return code;
}

int output_write(const struct compare_result *r, const struct output_opts *opts)
{
	enum report_format f = REPORT_TEXT;
	struct output_opts oo = *opts;
	const struct output_opts *o = &oo;
	struct report_html_histories hs = { .n = 0 };
	struct err err = ERR_INIT;
	int code = 0;

	report_format_parse(o->format ? o->format : "text", &f, &err);
	if (o->html || f == REPORT_HTML) {
		/* the HTML report's sparklines: the baseline runs, then this run */
		report_html_histories_from_baseline(r, o->base, o->run, &hs);
		oo.history = hs.h;
		oo.n_history = hs.n;
	}
	if (o->out) {
		code = write_one(r, f, o, o->out);
	} else {
		struct sb sb = SB_INIT;
		/* Colour only for people: a terminal, and never with NO_COLOR. */
		bool color = f == REPORT_TEXT && isatty(STDOUT_FILENO) && !getenv("NO_COLOR");
		struct report_options ro;

		render_options(o, color, &ro);
		render(r, f, &ro, &sb);
		fwrite(sb_str(&sb), 1, sb.len, stdout);
		fflush(stdout);
		sb_release(&sb);
	}
	if (o->junit && write_one(r, REPORT_JUNIT, o, o->junit))
		code = EXIT_INFRA;
	if (o->markdown && write_one(r, REPORT_MARKDOWN, o, o->markdown))
		code = EXIT_INFRA;
	if (o->json && write_one(r, REPORT_JSON, o, o->json))
		code = EXIT_INFRA;
	if (o->html && write_one(r, REPORT_HTML, o, o->html))
		code = EXIT_INFRA;
	{
		struct publish_options pub = o->pub;
		struct report_options ro;

		render_options(o, false, &ro);
		pub.report_url = ro.report_url;
		pub.site_url = ro.site_url;
		if (publish_reports(r, &pub) != 0)
			code = EXIT_INFRA;
	}
	report_html_histories_release(&hs);
	return code;
}

int output_write_run_html(const struct rundoc *run, const char *path)
{
	struct compare_options co = COMPARE_OPTIONS_INIT;
	struct output_opts o = { .run = run };
	struct compare_result *res = NULL;
	struct err err = ERR_INIT;
	int rc;

	if ((rc = compare_run(run, NULL, NULL, &co, &res, &err)) != 0) {
		cmd_error("HTML report: %s", err.msg);
		return EXIT_INFRA;
	}
	compare_add_note(res, "a run, not a comparison: its numbers alone, without a baseline (perfgate gate "
			      "--html compares it)");
	rc = write_one(res, REPORT_HTML, &o, path);
	compare_result_free(res);
	return rc;
}

int output_exit(const struct compare_result *r)
{
	return r->passed ? EXIT_PASS : EXIT_GATE;
}

void output_warn_loud(const struct compare_result *r)
{
	size_t inc = r->counts[VERDICT_INCONCLUSIVE], ins = r->counts[VERDICT_INSUFFICIENT], unc = 0;

	for (size_t i = 0; i < r->n_rows; i++)
		unc += compare_row_gates(r, &r->rows[i]) && r->rows[i].unconfirmed;
	if (unc)
		cmd_warn("%zu metric%s worse than the history, but not beside the base commit measured in this job: "
			 "the machine changed between jobs, not the code%s",
			 unc, unc == 1 ? "" : "s", r->strict ? " (fails with --strict)" : " (fails only with --strict)");
	inc -= unc < inc ? unc : inc;
	if (inc)
		cmd_warn("%zu metric%s inconclusive: worse by the noise floor or more but not significant; "
			 "more repetitions would decide%s",
			 inc, inc == 1 ? "" : "s", r->strict ? " (fails with --strict)" : " (fails only with --strict)");
	if (ins)
		cmd_warn("%zu metric%s with insufficient data: too few samples for the test ever to reach alpha; "
			 "raise repetitions%s",
			 ins, ins == 1 ? "" : "s", r->strict ? " (fails with --strict)" : " (fails only with --strict)");
}
