/*
 * report.h: a comparison (core/compare.h) rendered for people and tools:
 * an aligned text table for the terminal, Markdown for a pull-request
 * comment, JSON (schemas/compare.schema.json) and JUnit XML for CI test
 * views.  Each renderer appends to a caller's struct sb, so the CI/forge
 * code can post the Markdown without going through a file.
 */
#ifndef PERFGATE_REPORT_H
#define PERFGATE_REPORT_H

#include <stdbool.h>

#include "compare.h"
#include "err.h"
#include "rundoc.h"

struct report_html_history;
#include "util.h"

enum report_format { REPORT_TEXT, REPORT_MARKDOWN, REPORT_JSON, REPORT_JUNIT, REPORT_HTML };

/* "text", "markdown" (or "md"), "json", "junit", "html"; ERR_INPUT otherwise. */
int report_format_parse(const char *name, enum report_format *out, struct err *err);

/* GitHub's limit on a pull-request comment, in characters (GitLab's is larger),
 * and the room the default keeps for the comment's marker line (core/forge.h). */
#define REPORT_MARKDOWN_LIMIT 65536
#define REPORT_MARKDOWN_MARGIN 1024

/* How the text and Markdown reports are rendered; NULL or { 0 }: the defaults. */
struct report_options {
	bool color;              /* text: ANSI colours (the caller decides: a terminal and no NO_COLOR) */
	bool all;                /* text: every metric a row (--verbose, --all), not the key metrics */
	const char *report_url;  /* Markdown: link to the HTML report (an artifact), NULL: none */
	const char *site_url;    /* Markdown: link to the history site, NULL: none */
	size_t limit;            /* Markdown: at most this many bytes, 0: REPORT_MARKDOWN_LIMIT
				    minus REPORT_MARKDOWN_MARGIN */
	const struct rundoc *run;      /* HTML: the compared run (pictures, commit, machine), NULL: none */
	const struct rundoc *baseline; /* HTML: the newest baseline run, drawn under the run's spectrum */
	struct errlist *warnings;      /* HTML: pictures that could not be drawn; may be NULL */
	const struct report_html_history *history; /* HTML: sparklines of recent history; may be NULL */
	size_t n_history;
};

/*
 * Text for a terminal or a CI log: the run and its baseline, what fails
 * the gate (every column, with the numbers behind it), the SLOs, the key
 * metrics with each family's percentiles in one row, one line per cause of
 * what needs attention, and the headline last.  o->all: every metric a row.
 */
void report_text(const struct compare_result *r, const struct report_options *o, struct sb *out);
/*
 * Markdown for a PR/MR comment: the headline, the links, what fails, the
 * violated SLOs, one line per cause of what needs attention, one table of
 * what changed (families in one row), what the gate can catch; everything
 * else collapsed in <details>.  Never longer than o->limit: rows that do not
 * fit are left out and the comment says so and where the rest is.
 */
void report_markdown(const struct compare_result *r, const struct report_options *o, struct sb *out);

/*
 * A view of r whose names and texts (suite, benchmarks, metrics, units,
 * SLOs, notes) are printable: control characters and bytes that are not
 * UTF-8 escaped by sb_put_printable, the one escaping of text for terminals
 * and CI logs.  The text and Markdown reports and the CI annotations render
 * from it; it shares r's other memory (free it before r).
 */
struct report_printable;
struct report_printable *report_printable_new(const struct compare_result *r);
const struct compare_result *report_printable_result(const struct report_printable *p);
void report_printable_free(struct report_printable *p);
/* JSON per schemas/compare.schema.json, pretty-printed, newline-terminated. */
void report_json(const struct compare_result *r, struct sb *out);
/* JUnit XML: one test case per gated metric and per SLO. */
void report_junit(const struct compare_result *r, struct sb *out);

/* The JSON form as a tree (caller cJSON_Deletes), and back: `report RUN_ID`
 * re-renders a stored comparison from it. */
cJSON *report_to_json(const struct compare_result *r);
int report_from_json(const cJSON *json, struct compare_result **out, struct err *err);

void report_render(const struct compare_result *r, enum report_format f, const struct report_options *o,
		   struct sb *out);

/* A value with its unit for people: "12.3 ms", "512 MiB", "45.2/s", "1.23e+09". */
void report_format_value(double v, const char *unit, char *buf, size_t len);

/* What measuring beside the base found, when the gate did (r->confirm_base
 * has a commit; nothing written otherwise): "measured again beside base
 * commit 43aa5ecba4 in this job (0.2 s): 0 regressions against the history
 * confirmed, 1 not; 0 more that the history passed shown by the pairs",
 * with the blind rows the pairs cleared when there are any.  An outcome,
 * not a warning: reports give it a line of its own.  capital: a sentence
 * of its own ("Measured ..."). */
void report_confirm_outcome(const struct compare_result *r, bool capital, struct sb *out);

/* The one-line outcome of the JSON and JUnit reports: "passed: 12 unchanged" /
 * "FAILED: 1 regression, 1 unchanged; 1 of 2 SLOs violated". */
void report_summary_line(const struct compare_result *r, struct sb *out);
/* The headline of the text and Markdown reports: what fails first, with
 * names ("FAILED: 1 regression (loop wall); 1 of 2 SLOs violated (loop
 * wall.median < 10ms); not failing: 1 improvement, 3 unchanged"), a first
 * run said as such, never a count of metrics without data as the lead. */
void report_headline(const struct compare_result *r, struct sb *out);

/*
 * The pieces of a row as every report shows them, for renderers outside this
 * file (core/report_html.c): the same numbers in the same words.
 */
struct report_cells {
	char baseline[160]; /* "12.3 ms", "-" without a baseline */
	char current[160];
	char change[160];   /* the Hodges-Lehmann estimate: "+14.6% [+12.0%, +17.1%]" or "-" */
	char p[160];        /* "0.0031", "<0.0001" or "-" */
	char medians[160];  /* the change of the medians: "+14.2%" or "-" */
	char floor[160];    /* the floor the verdict used: "5.0%" or "-" */
	char detects[160];  /* the detectable effect: "6.0%", "40% !" (over 25%) or "-" */
	const char *verdict; /* verdict_name() */
};
void report_row_cells(const struct compare_row *row, struct report_cells *out);
/* "+14.6%" for a ratio, "-" when not finite. */
void report_ratio_text(double ratio, char *buf, size_t len);
/* 0: fails the gate, 1: needs attention (inconclusive, insufficient data), 2: the rest. */
int report_row_rank(const struct compare_result *r, const struct compare_row *row);
/* "▲" went up significantly, "▼" down, "~" no change the gate acts on. */
const char *report_row_mark(const struct compare_row *row);
/* Where the baseline came from, one sentence ("3 runs on 'main' at ..."). */
void report_baseline_text(const struct compare_result *r, bool markdown, struct sb *out);

#endif
