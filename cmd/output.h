/*
 * output.h: what `compare`, `gate` and `report` share in cmd/:
 * writing the reports (stdout in --format, plus --junit/--markdown/--json
 * files, and the CI system's) and the loud warnings.
 */
#ifndef PERFGATE_CMD_OUTPUT_H
#define PERFGATE_CMD_OUTPUT_H

#include <stdbool.h>

#include "../core/compare.h"
#include "../core/report.h"
#include "../core/report_html.h"
#include "publish.h"

/* Report destinations given on the command line. */
struct output_opts {
	const char *format;    /* --format for stdout (or --out): text, markdown, json, junit, html */
	const char *out;       /* --out FILE instead of stdout, NULL: stdout */
	const char *junit;     /* --junit FILE */
	const char *markdown;  /* --markdown FILE */
	const char *json;      /* --json FILE */
	const char *html;      /* --html FILE: the self-contained HTML report */
	bool all;              /* --verbose, --all: every metric a row in the text report */
	const char *report_url; /* --report-url URL (default $PERFGATE_REPORT_URL): the Markdown links the HTML report */
	const char *site_url;  /* --site-url URL (default $PERFGATE_SITE_URL): the Markdown links the history site */
	struct publish_options pub; /* --comment, --metrics FILE, --strict-report */
	const struct rundoc *run;      /* the compared run, for the HTML report's pictures; may be NULL */
	const struct rundoc *baseline; /* its newest baseline run (the spectrum drawn under it); may be NULL */
	const struct baseline *base;   /* the baseline runs: the HTML report's sparklines; may be NULL */
	const struct report_html_history *history; /* set by output_write from base */
	size_t n_history;
};

/* Check the format name early (exit 2 before any work). Prints; returns 0 or EXIT_USAGE. */
int output_check_format(const struct output_opts *o);
/* Check early that every report file can be written where it is named
 * (cmd_check_out_path). Prints; returns 0 or EXIT_USAGE. */
int output_check_paths(const struct output_opts *o);

/* Render and write every requested report, then publish to the CI system
 * (publish.h); prints errors. Returns 0 or EXIT_INFRA. */
int output_write(const struct compare_result *r, const struct output_opts *o);

/* `run --html FILE`: the HTML report of a run without a comparison (its
 * numbers alone, the page says so). Prints errors; returns 0 or EXIT_INFRA. */
int output_write_run_html(const struct rundoc *run, const char *path);

/* The exit code of a finished comparison: 0 passed, 1 failed. */
int output_exit(const struct compare_result *r);

/* Warnings to stderr: inconclusive / insufficient-data loudly, notes. */
void output_warn_loud(const struct compare_result *r);

#endif
