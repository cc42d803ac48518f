/*
 * report_html.c: a comparison as one self-contained HTML page (see
 * report_html.h).  Numbers come from report_row_cells() and
 * report_format_value(), the text and Markdown reports' own formatting.
 */
#include "report_html.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "html.h"
#include "plot.h"
#include "report.h"
#include "report_group.h"
#include "summary.h"

#define PLOT_WIDTH 720
#define PLOT_PANEL_HEIGHT 330
#define SPARK_W 96
#define SPARK_H 22

/* One picture of the page; all are drawn in one gnuplot run first. */
struct picture {
	const char *bench;       /* borrowed from the run document */
	char *title;
	char *svg;               /* NULL when not drawn */
};

struct page {
	const struct compare_result *r;
	const struct report_html_options *o;
	struct report_groups groups;
	struct picture *pics;
	size_t n_pics;
	char *plot_problem;      /* why pictures are missing; NULL when none are */
	size_t next_id;          /* numbers the pictures' id prefixes */
};

/* ---- small pieces ---- */

static void esc(struct sb *out, const char *s)
{
	html_escape(out, s);
}

static void badge(struct sb *out, const char *word)
{
	html_badge(out, word);
}

/* A row's verdict: filled when the row gates, outlined when it is only
 * reported, so that a red badge is always one the gate looked at. */
static void row_badge(struct sb *out, const struct compare_result *r, const struct compare_row *row,
		      const char *word)
{
	if (compare_row_gates(r, row))
		html_badge(out, word);
	else
		html_badge_not_gated(out, word);
}

/* The colour of a change: bad when the row fails, warn when it needs
 * attention or regressed without gating, good when it improved. */
static const char *change_class(const struct compare_result *r, const struct compare_row *row)
{
	int rk = report_row_rank(r, row);

	if (rk == 0)
		return "bad";
	if (rk == 1 || row->v.kind == VERDICT_REGRESSION)
		return "warn";
	if (row->v.kind == VERDICT_IMPROVEMENT)
		return "good";
	return "";
}

static const struct report_html_history *history_of(const struct report_html_options *o,
						    const char *bench, const char *metric)
{
	for (size_t i = 0; i < o->n_history; i++)
		if (strcmp(o->history[i].bench, bench) == 0 && strcmp(o->history[i].metric, metric) == 0)
			return &o->history[i];
	return NULL;
}

/* A <td> with the sparkline of one row's metric (empty without history). */
static void spark_cell(const struct page *pg, const struct compare_row *row, struct sb *out)
{
	const struct report_html_history *h = history_of(pg->o, row->bench, row->metric);

	sb_puts(out, "<td>");
	if (h && h->n) {
		char *label = xasprintf("%s: medians of the last %zu runs, this run last", row->metric, h->n);

		html_sparkline(out, h->median, h->n, SPARK_W, SPARK_H, report_row_rank(pg->r, row) == 0, label);
		free(label);
	}
	sb_puts(out, "</td>");
}

/* The change without its interval, for a compact cell: "+3.1%". */
static void short_change(const struct report_cells *c, char *buf, size_t len)
{
	const char *bracket = strstr(c->change, " [");

	snprintf(buf, len, "%.*s", bracket ? (int)(bracket - c->change) : (int)strlen(c->change), c->change);
}

/* data-* attributes that let a test (or a script) find a row's metric. */
static void data_attrs(struct sb *out, const struct compare_row *row)
{
	sb_puts(out, " data-bench=\"");
	esc(out, row->bench);
	sb_puts(out, "\" data-metric=\"");
	esc(out, row->metric);
	sb_puts(out, "\"");
}

/* ---- the top: verdict, notes, failures, attention, SLOs ---- */

static void page_header(const struct page *pg, struct sb *out)
{
	const struct compare_result *r = pg->r;
	const struct rundoc *run = pg->o->run;

	sb_printf(out, "<header class=\"banner %s\">\n<h1>%s perfgate: %s</h1>\n<p>", r->passed ? "pass" : "fail",
		  r->passed ? "&#x2714;" : "&#x2718;", r->passed ? "passed" : "FAILED");
	{
		struct sb line = SB_INIT;

		report_summary_line(r, &line);
		esc(out, sb_str(&line));
		sb_release(&line);
	}
	sb_puts(out, "</p>\n<p class=\"meta\"><span>suite <b>");
	esc(out, r->suite ? r->suite : "");
	sb_printf(out, "</b></span> &middot; <span>run <code>%.8s</code></span>", r->run_id ? r->run_id : "-");
	if (r->commit)
		sb_printf(out, " &middot; <span>commit <code>%.10s</code></span>", r->commit);
	if (run && run->git.subject) {
		sb_puts(out, " <span>&ldquo;");
		esc(out, run->git.subject);
		sb_puts(out, "&rdquo;</span>");
	}
	if (r->branch) {
		sb_puts(out, " &middot; <span>branch <code>");
		esc(out, r->branch);
		sb_puts(out, "</code></span>");
	}
	if (run && run->started_at) {
		sb_puts(out, " &middot; <span>");
		esc(out, run->started_at);
		sb_puts(out, "</span>");
	}
	sb_puts(out, "</p>\n");
	if (pg->o->site_url) {
		sb_puts(out, "<p class=\"meta\"><a href=\"");
		esc(out, pg->o->site_url);
		sb_puts(out, "\">history of every metric</a></p>\n");
	}
	sb_puts(out, "</header>\n");
	for (size_t i = 0; i < r->n_notes; i++) {
		sb_puts(out, "<p class=\"note\"><b>Warning:</b> ");
		esc(out, r->notes[i]);
		sb_puts(out, "</p>\n");
	}
	if (r->confirm_base.commit) {
		struct sb line = SB_INIT;

		report_confirm_outcome(r, true, &line);
		sb_puts(out, "<p>");
		esc(out, sb_str(&line));
		sb_puts(out, ".</p>\n");
		sb_release(&line);
	}
	if (pg->plot_problem) {
		sb_puts(out, "<p class=\"note\">Pictures are missing: ");
		esc(out, pg->plot_problem);
		sb_puts(out, "</p>\n");
	}
}

/*
 * One failing metric, or one failing family in one row: the statistic
 * that speaks for it (report_group_lead) with its numbers and why, and the
 * family's other failing statistics with their changes after it.
 */
static void failure_row(const struct page *pg, const struct report_group *g, struct sb *out)
{
	const struct compare_result *r = pg->r;
	const struct compare_row *row = &r->rows[g->family ? report_group_lead(r, g) : g->single];
	size_t more = 0;
	struct report_cells c;

	report_row_cells(row, &c);
	sb_puts(out, "<tr class=\"fails\"");
	data_attrs(out, row);
	sb_puts(out, "><td>");
	esc(out, row->bench);
	if (row->against) {
		sb_puts(out, " vs ");
		esc(out, row->against);
	}
	sb_puts(out, "</td><td>");
	esc(out, row->metric);
	sb_printf(out, "</td><td class=\"num\">%s</td><td class=\"num\">%s</td><td class=\"num\">%s</td>"
		       "<td class=\"num\">%s</td><td class=\"num\">",
		  c.baseline, c.current, c.change, c.p);
	if (isfinite(row->v.floor))
		sb_printf(out, "%.1f%%", row->v.floor * 100);
	else
		sb_puts(out, "-");
	sb_puts(out, "</td><td>");
	badge(out, c.verdict);
	sb_puts(out, "</td><td class=\"why\">");
	esc(out, row->v.why);
	for (int k = 0; g->family && k < REPORT_GROUP_STATS; k++) {
		const struct compare_row *m = g->row[k] != REPORT_GROUP_NONE ? &r->rows[g->row[k]] : NULL;
		struct report_cells mc;
		char ch[64];

		if (!m || m == row || report_row_rank(r, m) != 0)
			continue;
		report_row_cells(m, &mc);
		short_change(&mc, ch, sizeof(ch));
		sb_puts(out, more++ ? ", " : "<br>also failing: ");
		sb_puts(out, "<span data-metric=\"");
		esc(out, m->metric);
		sb_puts(out, "\" title=\"");
		esc(out, m->v.why);
		sb_printf(out, "\">%s %s %s</span>", report_group_stats[k], mc.current, ch);
	}
	sb_puts(out, "</td></tr>\n");
}

static void failures(const struct page *pg, struct sb *out)
{
	const struct compare_result *r = pg->r;
	size_t n = 0;

	for (size_t i = 0; i < r->n_rows; i++)
		n += report_row_rank(r, &r->rows[i]) == 0;
	if (n == 0 && r->slo_failed == 0)
		return;
	sb_puts(out, "<section id=\"failed\">\n<h2>What failed</h2>\n");
	if (n) {
		sb_puts(out, "<div class=\"scroll\"><table>\n<tr><th>benchmark</th><th>metric</th><th class=\"num\">baseline</th>"
			     "<th class=\"num\">current</th><th class=\"num\">change [CI]</th><th class=\"num\">p</th>"
			     "<th class=\"num\">floor</th><th>verdict</th><th>why</th></tr>\n");
		for (size_t i = 0; i < pg->groups.n; i++)
			if (pg->groups.g[i].rank == 0)
				failure_row(pg, &pg->groups.g[i], out);
		sb_puts(out, "</table></div>\n");
	}
	for (size_t i = 0; i < r->n_slos; i++) {
		const struct compare_slo *s = &r->slos[i];
		char v[64];

		if (s->ok)
			continue;
		report_format_value(s->actual, s->unit, v, sizeof(v));
		sb_puts(out, "<p class=\"note\"><b>SLO violated</b>: ");
		esc(out, s->bench);
		sb_puts(out, " <code>");
		esc(out, s->key);
		sb_putc(out, ' ');
		esc(out, s->expr);
		sb_printf(out, "</code>, actual <b>%s</b>", v);
		if (s->why && *s->why) {
			sb_puts(out, ": ");
			esc(out, s->why);
		}
		sb_puts(out, "</p>\n");
	}
	sb_puts(out, "</section>\n");
}

/* One hint per cause, with the metrics it concerns. */
static void attention(const struct page *pg, struct sb *out)
{
	struct report_cause *causes = NULL;
	size_t n = report_causes(pg->r, &causes);

	if (n == 0)
		return;
	sb_puts(out, "<section id=\"attention\">\n<h2>Needs attention</h2>\n");
	for (size_t i = 0; i < n; i++) {
		const struct report_cause *c = &causes[i];
		struct sb hint = SB_INIT;

		report_cause_hint(c, &hint);
		sb_puts(out, "<p>");
		badge(out, verdict_name(c->kind));
		sb_printf(out, " <b>%zu metric%s</b>: ", c->n, c->n == 1 ? "" : "s");
		esc(out, sb_str(&hint));
		sb_puts(out, ".</p>\n<details><summary>which</summary><p class=\"meta\">");
		for (size_t k = 0; k < c->n; k++) {
			const struct compare_row *row = &pg->r->rows[c->rows[k]];

			sb_puts(out, k ? ", " : "");
			esc(out, row->bench);
			sb_putc(out, ' ');
			esc(out, row->metric);
		}
		sb_puts(out, "</p></details>\n");
		sb_release(&hint);
	}
	sb_puts(out, "</section>\n");
	report_causes_free(causes, n);
}

static void slos(const struct page *pg, struct sb *out)
{
	const struct compare_result *r = pg->r;

	if (r->n_slos == 0)
		return;
	sb_printf(out, "<section id=\"slos\">\n<h2>SLOs: %zu of %zu met</h2>\n", r->n_slos - r->slo_failed, r->n_slos);
	sb_puts(out, "<div class=\"scroll\"><table>\n<tr><th></th><th>benchmark</th><th>SLO</th><th class=\"num\">actual</th></tr>\n");
	for (size_t i = 0; i < r->n_slos; i++) {
		const struct compare_slo *s = &r->slos[i];
		char v[64];

		report_format_value(s->actual, s->unit, v, sizeof(v));
		sb_printf(out, "<tr%s><td>", s->ok ? "" : " class=\"fails\"");
		badge(out, s->ok ? "met" : "violated");
		sb_puts(out, "</td><td>");
		esc(out, s->bench);
		sb_puts(out, "</td><td><code>");
		esc(out, s->key);
		sb_putc(out, ' ');
		esc(out, s->expr);
		sb_printf(out, "</code></td><td class=\"num\">%s</td></tr>\n", v);
	}
	sb_puts(out, "</table></div>\n</section>\n");
}

/* ---- one benchmark ---- */

/* The statistics columns some family of this benchmark uses. */
static bool has_percentiles(const struct report_group *g);
static bool in_table(const struct report_group *g, const char *bench, bool ab, bool pct);

static void family_columns(const struct page *pg, const char *bench, bool ab, bool pct,
			   bool used[REPORT_GROUP_STATS])
{
	memset(used, 0, REPORT_GROUP_STATS * sizeof(bool));
	for (size_t i = 0; i < pg->groups.n; i++) {
		const struct report_group *g = &pg->groups.g[i];

		if (!in_table(g, bench, ab, pct))
			continue;
		for (int k = 0; k < REPORT_GROUP_STATS; k++)
			used[k] |= g->row[k] != REPORT_GROUP_NONE;
	}
}

static void family_cell(const struct page *pg, size_t ri, struct sb *out)
{
	const struct compare_row *row;
	struct report_cells c;
	char ch[64];

	if (ri == REPORT_GROUP_NONE) {
		sb_puts(out, "<td></td>");
		return;
	}
	row = &pg->r->rows[ri];
	report_row_cells(row, &c);
	short_change(&c, ch, sizeof(ch));
	sb_puts(out, "<td class=\"num\"");
	sb_puts(out, " data-metric=\"");
	esc(out, row->metric);
	sb_printf(out, "\" title=\"baseline %s, current %s, change %s, p %s: %s\">%s", c.baseline, c.current,
		  c.change, c.p, c.verdict, c.current);
	if (strcmp(ch, "-") != 0)
		sb_printf(out, "<span class=\"d %s\">%s</span>", change_class(pg->r, row), ch);
	sb_puts(out, "</td>");
}

/* Does the family have percentiles (latency) or only mean, max, min (a
 * resource's samples)?  The two kinds get a table each, so that neither
 * has a row of empty columns. */
static bool has_percentiles(const struct report_group *g)
{
	for (int k = 0; k < REPORT_GROUP_STATS; k++)
		if (g->row[k] != REPORT_GROUP_NONE && report_group_stats[k][0] == 'p')
			return true;
	return false;
}

static bool in_table(const struct report_group *g, const char *bench, bool ab, bool pct)
{
	return g->family && strcmp(g->bench, bench) == 0 && (g->against != NULL) == ab && has_percentiles(g) == pct;
}

static void family_table(const struct page *pg, const char *bench, bool ab, bool pct, struct sb *out)
{
	bool used[REPORT_GROUP_STATS];
	size_t rows = 0;

	family_columns(pg, bench, ab, pct, used);
	for (size_t i = 0; i < pg->groups.n; i++) {
		const struct report_group *g = &pg->groups.g[i];

		if (!in_table(g, bench, ab, pct))
			continue;
		if (rows++ == 0) {
			sb_printf(out, "<div class=\"scroll\"><table class=\"families\">\n<tr><th>%s</th>",
				  pct ? "distribution" : "sampled");
			for (int k = 0; k < REPORT_GROUP_STATS; k++)
				if (used[k])
					sb_printf(out, "<th class=\"num\">%s</th>", report_group_stats[k]);
			sb_puts(out, "<th>verdict</th><th>trend</th></tr>\n");
		}
		{
			size_t lead = report_group_lead(pg->r, g);
			const struct compare_row *lr = &pg->r->rows[lead];

			sb_printf(out, "<tr%s data-bench=\"", g->rank == 0 ? " class=\"fails\"" : "");
			esc(out, bench);
			sb_puts(out, "\" data-family=\"");
			esc(out, g->name);
			sb_puts(out, "\"><td>");
			esc(out, g->name);
			sb_puts(out, "</td>");
			for (int k = 0; k < REPORT_GROUP_STATS; k++)
				if (used[k])
					family_cell(pg, g->row[k], out);
			sb_puts(out, "<td>");
			row_badge(out, pg->r, lr, verdict_name(lr->v.kind));
			sb_puts(out, "</td>");
			spark_cell(pg, lr, out);
			sb_puts(out, "</tr>\n");
		}
	}
	if (rows)
		sb_puts(out, "</table></div>\n");
}

static void scalar_row(const struct page *pg, const struct compare_row *row, struct sb *out)
{
	struct report_cells c;

	report_row_cells(row, &c);
	sb_printf(out, "<tr%s", report_row_rank(pg->r, row) == 0 ? " class=\"fails\"" : "");
	data_attrs(out, row);
	sb_puts(out, "><td>");
	esc(out, row->metric);
	if (!row->settings.gate && (!row->against || compare_ab_gated(pg->r)))
		sb_puts(out, " <span class=\"meta\">(not gated)</span>"); /* an experiment's rows say it once */
	sb_printf(out, "</td><td class=\"num\">%s</td><td class=\"num\">%s</td><td class=\"num\">", c.baseline,
		  c.current);
	if (*change_class(pg->r, row))
		sb_printf(out, "<span class=\"c %s\">%s</span>", change_class(pg->r, row), c.change);
	else
		sb_puts(out, c.change);
	sb_printf(out, "</td><td class=\"num\">%s</td><td>", c.p);
	row_badge(out, pg->r, row, c.verdict);
	sb_puts(out, "</td>");
	spark_cell(pg, row, out);
	sb_puts(out, "</tr>\n");
}

/* Zero in both runs and nothing to say (error counters of a clean run):
 * listed on one line instead of a row each. */
static bool quiet_zero(const struct page *pg, const struct compare_row *row)
{
	return row->v.cur_median == 0 && (row->v.n_base == 0 || row->v.base_median == 0) &&
	       report_row_rank(pg->r, row) == 2;
}

static void scalar_table(const struct page *pg, const char *bench, bool ab, struct sb *out)
{
	size_t rows = 0, zeros = 0;

	for (size_t i = 0; i < pg->groups.n; i++) {
		const struct report_group *g = &pg->groups.g[i];

		if (g->family || strcmp(g->bench, bench) != 0 || (g->against != NULL) != ab)
			continue;
		if (quiet_zero(pg, &pg->r->rows[g->single])) {
			zeros++;
			continue;
		}
		if (rows++ == 0)
			sb_printf(out, "<div class=\"scroll\"><table class=\"metrics\">\n<tr><th>metric</th>"
				       "<th class=\"num\">%s</th><th class=\"num\">current</th><th class=\"num\">change [CI]</th>"
				       "<th class=\"num\">p</th><th>verdict</th><th>trend</th></tr>\n",
				  ab ? "reference" : "baseline");
		scalar_row(pg, &pg->r->rows[g->single], out);
	}
	if (rows)
		sb_puts(out, "</table></div>\n");
	if (zeros == 0)
		return;
	sb_printf(out, "<p class=\"meta\">0 in both runs (%zu): ", zeros);
	zeros = 0;
	for (size_t i = 0; i < pg->groups.n; i++) {
		const struct report_group *g = &pg->groups.g[i];

		if (g->family || strcmp(g->bench, bench) != 0 || (g->against != NULL) != ab ||
		    !quiet_zero(pg, &pg->r->rows[g->single]))
			continue;
		sb_puts(out, zeros++ ? ", " : "");
		sb_puts(out, "<span");
		data_attrs(out, &pg->r->rows[g->single]);
		sb_puts(out, ">");
		esc(out, g->name);
		sb_puts(out, "</span>");
	}
	sb_puts(out, "</p>\n");
}

static void pictures_of(struct page *pg, const char *bench, struct sb *out)
{
	for (size_t i = 0; i < pg->n_pics; i++) {
		char prefix[32];

		if (strcmp(pg->pics[i].bench, bench) != 0 || !pg->pics[i].svg)
			continue;
		snprintf(prefix, sizeof(prefix), "p%zu", pg->next_id++);
		html_svg_inline(out, pg->pics[i].svg, prefix, pg->pics[i].title);
	}
}

/* Benchmark names in the order to show them: the run's, else the rows'. */
static size_t bench_order(const struct page *pg, const char ***out)
{
	const struct rundoc *run = pg->o->run;
	size_t n = 0, cap = (run ? run->n_benches : 0) + pg->r->n_rows + 1;
	const char **names = xcalloc(cap, sizeof(*names));

	for (size_t i = 0; run && i < run->n_benches; i++)
		names[n++] = run->benches[i].name;
	for (size_t i = 0; i < pg->r->n_rows; i++) {
		const char *b = pg->r->rows[i].bench;
		bool seen = false;

		if (pg->r->rows[i].against)
			continue;
		for (size_t k = n; k-- > 0 && !seen;)
			seen = strcmp(names[k], b) == 0;
		if (!seen)
			names[n++] = b;
	}
	*out = names;
	return n;
}

static void bench_section(struct page *pg, const char *bench, struct sb *out)
{
	const struct rd_bench *b = pg->o->run ? rundoc_find_bench(pg->o->run, bench) : NULL;

	/* `gate --base`: every row is in the head-against-base section; only
	 * a side that failed needs a section of its own */
	if (compare_ab_gated(pg->r) && b && b->status == RUNDOC_STATUS_OK)
		return;
	sb_puts(out, "<section class=\"bench\" id=\"b-");
	html_url_segment(out, bench);
	sb_puts(out, "\">\n<h2>");
	esc(out, bench);
	if (b) {
		sb_puts(out, " <span class=\"badge\">");
		esc(out, rundoc_bench_kind(b));
		sb_puts(out, "</span>");
	}
	if (b && b->status != RUNDOC_STATUS_OK) {
		sb_putc(out, ' ');
		badge(out, rundoc_status_name(b->status));
	}
	sb_puts(out, "</h2>\n");
	if (b && b->error) {
		sb_puts(out, "<p class=\"note\">");
		esc(out, b->error);
		sb_puts(out, "</p>\n");
	}
	family_table(pg, bench, false, true, out);
	scalar_table(pg, bench, false, out);
	family_table(pg, bench, false, false, out);
	pictures_of(pg, bench, out);
	sb_puts(out, "</section>\n");
}

static void ab_section(const struct page *pg, struct sb *out)
{
	const char *last = NULL;
	bool any = false;

	for (size_t i = 0; i < pg->groups.n; i++)
		any |= pg->groups.g[i].against != NULL;
	if (!any)
		return;
	if (compare_ab_gated(pg->r))
		sb_puts(out, "<section id=\"ab\">\n<h2>Head against base</h2>\n<p class=\"meta\">Same job, interleaved; "
			     "gated.</p>\n");
	else
		sb_puts(out, "<section id=\"ab\">\n<h2>A/B variants</h2>\n<p class=\"meta\">Same run, interleaved; "
			     "reported, not gated.</p>\n");
	for (size_t i = 0; i < pg->groups.n; i++) {
		const struct report_group *g = &pg->groups.g[i];

		if (!g->against || (last && strcmp(last, g->bench) == 0))
			continue;
		last = g->bench;
		sb_puts(out, "<h3>");
		esc(out, g->bench);
		sb_puts(out, " vs ");
		esc(out, g->against);
		sb_puts(out, "</h3>\n");
		family_table(pg, g->bench, true, true, out);
		scalar_table(pg, g->bench, true, out);
		family_table(pg, g->bench, true, false, out);
	}
	sb_puts(out, "</section>\n");
}

/* ---- the baseline and the run ---- */

static void baseline_section(const struct page *pg, struct sb *out)
{
	const struct compare_result *r = pg->r;
	struct sb text = SB_INIT;

	report_baseline_text(r, false, &text);
	sb_puts(out, "<section id=\"baseline\">\n<h2>Baseline</h2>\n<p>");
	esc(out, sb_str(&text));
	sb_puts(out, ".</p>\n");
	if (r->geomean_n) {
		char g[32];

		report_ratio_text(r->geomean, g, sizeof(g));
		sb_printf(out, "<p>Geometric mean of current/baseline over %zu metric%s: <b>%s</b> "
			       "(higher-is-better metrics inverted, so + is worse).</p>\n",
			  r->geomean_n, r->geomean_n == 1 ? "" : "s", g);
	}
	if (r->confirm_reps)
		sb_printf(out, "<p>Measured more: each undecided benchmark was re-measured with %zu more repetitions "
			       "in the same job over %zu look%s%s; the verdicts are on all the samples, each look at its "
			       "share of alpha.</p>\n",
			  r->confirm_reps, r->looks, r->looks == 1 ? "" : "s",
			  r->budget_spent ? " (the budget is spent, still undecided)" : "");
	sb_puts(out, "</section>\n");
	sb_release(&text);
}

static void kv(struct sb *out, const char *key, const char *value)
{
	if (!value || !*value)
		return;
	sb_puts(out, "<dt>");
	esc(out, key);
	sb_puts(out, "</dt><dd>");
	esc(out, value);
	sb_puts(out, "</dd>");
}

static const char *jstr_at(const cJSON *o, const char *a, const char *b)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, a);

	if (b)
		v = cJSON_GetObjectItemCaseSensitive(v, b);
	return cJSON_IsString(v) ? v->valuestring : NULL;
}

static double jnum_at(const cJSON *o, const char *a, const char *b)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, a);

	if (b)
		v = cJSON_GetObjectItemCaseSensitive(v, b);
	return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

/* A JSON value on one line, for settings. */
static void kv_json(struct sb *out, const char *key, const cJSON *value)
{
	char *text;

	if (!value || (cJSON_IsObject(value) && !value->child))
		return;
	text = cJSON_PrintUnformatted(value);
	kv(out, key, text);
	free(text);
}

static void machine_facts(const cJSON *m, struct sb *out)
{
	char buf[160];
	const cJSON *gpus = cJSON_GetObjectItemCaseSensitive(m, "gpus"), *g;
	double cores = jnum_at(m, "cpu", "logical_cores"), gib = jnum_at(m, "memory", "gib");

	kv(out, "host", jstr_at(m, "hostname", NULL));
	if (jstr_at(m, "cpu", "model")) {
		if (isfinite(cores))
			snprintf(buf, sizeof(buf), "%s, %.0f logical cores", jstr_at(m, "cpu", "model"), cores);
		else
			snprintf(buf, sizeof(buf), "%s", jstr_at(m, "cpu", "model"));
		kv(out, "CPU", buf);
	}
	if (isfinite(gib)) {
		snprintf(buf, sizeof(buf), "%.0f GiB", gib);
		kv(out, "memory", buf);
	}
	cJSON_ArrayForEach(g, gpus)
		kv(out, "GPU", jstr_at(g, "name", NULL));
	kv(out, "OS", jstr_at(m, "os", "pretty_name"));
	kv(out, "kernel", jstr_at(m, "kernel", NULL));
	kv(out, "virtualisation", jstr_at(m, "state", "virtualization"));
	kv(out, "CPU governor", jstr_at(m, "state", "governor"));
}

/* Per benchmark: what was run and with which settings. */
static void settings_table(const struct page *pg, struct sb *out)
{
	const struct rundoc *run = pg->o->run;

	sb_puts(out, "<h3>Settings</h3>\n<div class=\"scroll\"><table>\n<tr><th>benchmark</th><th>kind</th>"
		     "<th class=\"num\">repetitions</th><th class=\"num\">alpha</th><th class=\"num\">min effect</th>"
		     "<th>parameters and load</th><th>configuration</th></tr>\n");
	for (size_t i = 0; i < run->n_benches; i++) {
		const struct rd_bench *b = &run->benches[i];
		const struct compare_row *row = NULL;
		const cJSON *load = cJSON_GetObjectItemCaseSensitive(b->extra, "load");
		size_t reps = 0;
		char *text;

		for (size_t k = 0; k < b->n_metrics; k++)
			if (b->metrics[k].n_samples > reps)
				reps = b->metrics[k].n_samples;
		for (size_t k = 0; k < pg->r->n_rows && !row; k++)
			if (!pg->r->rows[k].against && strcmp(pg->r->rows[k].bench, b->name) == 0)
				row = &pg->r->rows[k];
		sb_puts(out, "<tr><td>");
		esc(out, b->name);
		sb_puts(out, "</td><td>");
		esc(out, rundoc_bench_kind(b));
		sb_printf(out, "</td><td class=\"num\">%zu</td>", reps);
		if (row)
			sb_printf(out, "<td class=\"num\">%g</td><td class=\"num\">%g%%</td>", row->settings.alpha,
				  row->settings.min_effect * 100);
		else
			sb_puts(out, "<td class=\"num\">-</td><td class=\"num\">-</td>");
		sb_puts(out, "<td class=\"why\"><code>");
		if (b->params && b->params->child) {
			text = cJSON_PrintUnformatted(b->params);
			esc(out, text);
			free(text);
			sb_puts(out, " ");
		}
		if (load) {
			text = cJSON_PrintUnformatted(load);
			esc(out, text);
			free(text);
		}
		sb_printf(out, "</code></td><td><code>%.12s</code></td></tr>\n", b->config_hash ? b->config_hash : "-");
	}
	sb_puts(out, "</table></div>\n");
}

static void run_section(const struct page *pg, struct sb *out)
{
	const struct rundoc *run = pg->o->run;
	char buf[64];

	if (!run)
		return;
	sb_puts(out, "<section id=\"run\">\n<h2>The run</h2>\n<dl class=\"kv\">");
	kv(out, "run id", run->run_id);
	kv(out, "project", run->project);
	kv(out, "commit", run->git.commit);
	kv(out, "subject", run->git.subject);
	kv(out, "branch", run->git.branch);
	if (run->git.dirty)
		kv(out, "working tree", "dirty (modified tracked files): never a baseline");
	kv(out, "started", run->started_at);
	kv(out, "finished", run->finished_at);
	kv(out, "CI", run->ci.provider);
	kv(out, "CI event", run->ci.event);
	if (run->ci.pr > 0) {
		snprintf(buf, sizeof(buf), "%ld%s", run->ci.pr, run->ci.fork ? " (from a fork)" : "");
		kv(out, "pull request", buf);
	}
	if (run->ci.job_url) {
		sb_puts(out, "<dt>CI job</dt><dd><a href=\"");
		esc(out, run->ci.job_url);
		sb_puts(out, "\">");
		esc(out, run->ci.job_url);
		sb_puts(out, "</a></dd>");
	}
	kv_json(out, "tags", run->tags);
	kv(out, "machine", run->fingerprint);
	if (run->machine)
		machine_facts(run->machine, out);
	sb_puts(out, "</dl>\n");
	settings_table(pg, out);
	sb_puts(out, "</section>\n");
}

/* ---- pictures ---- */

/* The threshold of a latency SLO of this benchmark ("< 250ms" -> 0.25 s), NAN when none. */
static double latency_slo(const struct compare_result *r, const char *bench, const char *family)
{
	size_t fl = strlen(family);

	for (size_t i = 0; i < r->n_slos; i++) {
		const struct compare_slo *s = &r->slos[i];
		const char *e = s->expr;
		double v;

		if (strcmp(s->bench, bench) != 0 || strncmp(s->key, family, fl) != 0 || s->key[fl] != '.')
			continue;
		while (*e == '<' || *e == '>' || *e == '=' || *e == ' ')
			e++;
		if (parse_duration(e, &v, NULL) == 0)
			return v;
	}
	return NAN;
}

static void add_picture(struct page *pg, const char *bench, char *title)
{
	pg->pics = xrealloc(pg->pics, (pg->n_pics + 1) * sizeof(*pg->pics));
	pg->pics[pg->n_pics++] = (struct picture){ .bench = bench, .title = title, .svg = NULL };
}

/* The spectrum of `family` (latency, ttft) of this run over the baseline's. */
static void plan_spectrum(struct page *pg, const struct rd_bench *b, const char *family, struct sb *batch)
{
	const struct rd_bench *bb = pg->o->baseline ? rundoc_find_bench(pg->o->baseline, b->name) : NULL;
	double *pct = NULL, *val = NULL, *bpct = NULL, *bval = NULL;
	size_t n = 0, nb = 0;
	struct plot_latency_series series[2];
	struct plot_latency l = { .title = NULL, .unit = "s", .series = series, .n = 0 };
	struct plot_output o = { .path = NULL, .format = PLOT_SVG, .width = PLOT_WIDTH, .height = 400 };
	char *title;

	if (plot_spectrum_from_bench(b, family, &pct, &val, &n, NULL) != 0)
		return;
	if (bb && plot_spectrum_from_bench(bb, family, &bpct, &bval, &nb, NULL) == 0)
		series[l.n++] = (struct plot_latency_series){ "baseline (newest run)", bpct, bval, nb };
	series[l.n++] = (struct plot_latency_series){ "this run", pct, val, n };
	l.slo = latency_slo(pg->r, b->name, family);
	title = xasprintf("%s: %s spectrum%s", b->name, family, l.n > 1 ? ", baseline and this run" : "");
	l.title = title;
	sb_puts(batch, "reset\n");
	if (plot_latency_script(&l, &o, batch, NULL) == 0)
		add_picture(pg, b->name, title);
	else
		free(title);
	free(pct);
	free(val);
	free(bpct);
	free(bval);
}

/* Knee, per-second series and GPU utilisation of a load test. */
static void plan_load(struct page *pg, const struct rd_bench *b, struct sb *batch)
{
	struct plot_load_data d;
	struct plot_output o = { .path = NULL, .format = PLOT_SVG, .width = PLOT_WIDTH, .height = 0 };
	int panels;
	char *title;

	if (plot_load_from_bench(b, &d, NULL) != 0)
		return;
	panels = (d.load.n > 0) + (d.load.n_ts > 0) + (d.load.ts_errors != NULL || d.load.n_gpu > 0);
	o.height = PLOT_PANEL_HEIGHT * (panels > 0 ? panels : 1);
	d.load.slo = latency_slo(pg->r, b->name, "latency");
	title = xasprintf("%s: %s", b->name, d.load.n ? "throughput against latency, and per second" : "per second");
	d.load.title = title;
	sb_puts(batch, "reset\n");
	if (plot_load_script(&d.load, &o, batch, NULL) == 0)
		add_picture(pg, b->name, title);
	else
		free(title);
	plot_load_release(&d);
}

static void draw_pictures(struct page *pg)
{
	const struct rundoc *run = pg->o->run;
	struct sb batch = SB_INIT;
	struct err err = ERR_INIT;
	char **svgs = NULL;
	size_t n = 0;

	if (!run || !pg->o->plots)
		return;
	for (size_t i = 0; i < run->n_benches; i++) {
		plan_spectrum(pg, &run->benches[i], "latency", &batch);
		plan_spectrum(pg, &run->benches[i], "ttft", &batch);
		plan_load(pg, &run->benches[i], &batch);
	}
	if (pg->n_pics == 0)
		goto done;
	if (plot_render_svgs(sb_str(&batch), &svgs, &n, &err) != 0) {
		pg->plot_problem = xstrdup(err.msg);
	} else if (n != pg->n_pics) {
		pg->plot_problem = xasprintf("gnuplot drew %zu of %zu pictures", n, pg->n_pics);
	} else {
		for (size_t i = 0; i < n; i++) {
			pg->pics[i].svg = svgs[i];
			svgs[i] = NULL;
		}
	}
	if (pg->plot_problem && pg->o->warnings)
		errlist_add(pg->o->warnings, "HTML report: pictures left out: %s", pg->plot_problem);
	for (size_t i = 0; i < n; i++)
		free(svgs[i]);
	free(svgs);
done:
	sb_release(&batch);
}

void report_html(const struct compare_result *r, const struct report_html_options *o, struct sb *out)
{
	struct page pg = { .r = r, .o = o };
	const char **benches = NULL;
	size_t n_benches;
	char *title = o->title ? xstrdup(o->title) : xasprintf("perfgate: %s", r->suite ? r->suite : "");

	report_group_rows(r, false, &pg.groups);
	{
		/* The A/B groups join the history ones; the sections tell them apart. */
		struct report_groups ab;

		report_group_rows(r, true, &ab);
		pg.groups.g = xrealloc(pg.groups.g, (pg.groups.n + ab.n + 1) * sizeof(*pg.groups.g));
		if (ab.n)
			memcpy(pg.groups.g + pg.groups.n, ab.g, ab.n * sizeof(*ab.g));
		pg.groups.n += ab.n;
		free(ab.g);
	}
	draw_pictures(&pg);
	html_page_begin(out, title);
	page_header(&pg, out);
	failures(&pg, out);
	attention(&pg, out);
	slos(&pg, out);
	n_benches = bench_order(&pg, &benches);
	for (size_t i = 0; i < n_benches; i++)
		bench_section(&pg, benches[i], out);
	ab_section(&pg, out);
	baseline_section(&pg, out);
	run_section(&pg, out);
	html_page_end(out);

	free(benches);
	for (size_t i = 0; i < pg.n_pics; i++) {
		free(pg.pics[i].title);
		free(pg.pics[i].svg);
	}
	free(pg.pics);
	free(pg.plot_problem);
	report_groups_release(&pg.groups);
	free(title);
}

/* The median of one metric of one benchmark in a run, NAN when it has none. */
static double run_median(const struct rundoc *rd, const char *bench, const char *metric)
{
	const struct rd_metric *m = NULL;

	for (size_t i = 0; i < rd->n_benches && !m; i++)
		if (strcmp(rd->benches[i].name, bench) == 0)
			m = rundoc_bench_find_metric(&rd->benches[i], metric);
	return m ? summary_median(m->samples, m->n_samples) : NAN;
}

void report_html_histories_from_baseline(const struct compare_result *r, const struct baseline *base,
					  const struct rundoc *run, struct report_html_histories *out)
{
	size_t n_runs = base ? base->n_runs : 0;
	size_t *order = xmalloc((n_runs + 1) * sizeof(*order)), used = 0;

	memset(out, 0, sizeof(*out));
	if (!run || r->n_rows == 0) {
		free(order);
		return;
	}
	/* the runs oldest first (insertion sort: a baseline holds a few) */
	for (size_t i = 0; i < n_runs; i++) {
		size_t j = i;

		while (j > 0 && base->runs[order[j - 1]].started > base->runs[i].started) {
			order[j] = order[j - 1];
			j--;
		}
		order[j] = i;
	}
	out->h = xcalloc(r->n_rows, sizeof(*out->h));
	out->values = xmalloc(r->n_rows * (n_runs + 1) * sizeof(*out->values));
	for (size_t k = 0; k < r->n_rows; k++) {
		const struct compare_row *row = &r->rows[k];
		double *v = out->values + used, now = run_median(run, row->bench, row->metric);
		size_t n = 0;

		if (!isfinite(now) || history_of(&(struct report_html_options){ .history = out->h, .n_history = out->n },
						 row->bench, row->metric))
			continue;
		for (size_t i = 0; i < n_runs; i++) {
			double m = run_median(base->runs[order[i]].doc, row->bench, row->metric);

			if (isfinite(m))
				v[n++] = m;
		}
		if (n == 0)
			continue;
		v[n++] = now;
		out->h[out->n++] = (struct report_html_history){ row->bench, row->metric, v, n };
		used += n;
	}
	free(order);
}

void report_html_histories_release(struct report_html_histories *hs)
{
	free(hs->h);
	free(hs->values);
	memset(hs, 0, sizeof(*hs));
}
