/*
 * report_html.h: one comparison (core/compare.h) as a self-contained HTML
 * page, the report people open from a pull request or a CI job.
 *
 * It works from the same struct compare_result the JSON report serialises
 * and formats every number with the same functions as the text and Markdown
 * reports (core/report.h), so the page and `--format json` never disagree.
 * The run document, when given, adds what the comparison does not hold: the
 * load test's pictures (latency spectrum against the baseline's, the
 * throughput-latency knee, the per-second series with GPU utilisation),
 * the commit, the machine and the settings.  Pictures are gnuplot SVG drawn
 * by one gnuplot process for the whole page and put inline; sparklines of
 * recent history are drawn here.  No network, no external file.
 *
 * Order: the verdict; what failed, with baseline, current, change and its
 * confidence interval, p and the noise floor; what needs attention, one
 * hint per cause; SLOs; one section per benchmark with its metric families
 * in one row each (p50 ... max in columns) and its pictures; A/B variants;
 * the baseline; the run.
 */
#ifndef PERFGATE_REPORT_HTML_H
#define PERFGATE_REPORT_HTML_H

#include <stdbool.h>
#include <stddef.h>

#include "baseline.h"
#include "compare.h"
#include "err.h"
#include "rundoc.h"
#include "util.h"

/* Recent history of one metric, for its sparkline. */
struct report_html_history {
	const char *bench;
	const char *metric;
	const double *median;    /* per-run medians, oldest first, this run last; SI units */
	size_t n;
};

struct report_html_options {
	const struct rundoc *run;      /* the compared run: pictures, commit, machine, settings; may be NULL */
	const struct rundoc *baseline; /* the newest baseline run, drawn under the run's spectrum; may be NULL */
	const struct report_html_history *history; /* may be NULL */
	size_t n_history;
	const char *site_url;          /* link to the history site; NULL: none */
	const char *title;             /* NULL: "perfgate: SUITE" */
	bool plots;                    /* draw pictures with gnuplot */
	struct errlist *warnings;      /* pictures that could not be drawn (the page says so too); may be NULL */
};
#define REPORT_HTML_OPTIONS_INIT { .run = NULL, .plots = true }

/*
 * Sparkline history for a page from the runs at hand (a comparison's baseline runs):
 * for each metric of r's rows, the medians of the runs that have it, by
 * their start time, oldest first, then the compared run's (which must have
 * it too); a metric with fewer than two points has none.  One allocation
 * holds the values: release with report_html_histories_release().
 */
struct report_html_histories {
	struct report_html_history *h;
	size_t n;
	double *values;
};
void report_html_histories_from_baseline(const struct compare_result *r, const struct baseline *base,
					  const struct rundoc *run, struct report_html_histories *out);
void report_html_histories_release(struct report_html_histories *hs);

/* Append the page to *out.  Problems with gnuplot are not errors: the page
 * says the pictures are missing and why, and a line goes to o->warnings. */
void report_html(const struct compare_result *r, const struct report_html_options *o, struct sb *out);

#endif
