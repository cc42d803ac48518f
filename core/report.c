/*
 * report.c: renderers of a struct compare_result (text, Markdown, JSON,
 * JUnit XML) and the JSON form's parser for `perfgate report`.
 *
 * Marks: ▲ the value went up significantly, ▼ it went down, ~ no change the
 * gate acts on; the verdict word beside it says whether that is good or bad
 * for the metric.  Rows that fail the gate come first.
 */
#include "report.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "noise.h"
#include "report_group.h"
#include "report_html.h"

#define C_RED "\033[31m"
#define C_GREEN "\033[32m"
#define C_YELLOW "\033[33m"
#define C_BOLD "\033[1m"
#define C_RESET "\033[0m"

static void md_code(struct sb *out, const char *s);
static void md_cell(struct sb *out, const char *s);

int report_format_parse(const char *name, enum report_format *out, struct err *err)
{
	static const char *const names[] = { "text", "markdown", "json", "junit", "html" };
	const char *guess;

	if (strcmp(name, "text") == 0)
		*out = REPORT_TEXT;
	else if (strcmp(name, "markdown") == 0 || strcmp(name, "md") == 0)
		*out = REPORT_MARKDOWN;
	else if (strcmp(name, "json") == 0)
		*out = REPORT_JSON;
	else if (strcmp(name, "junit") == 0)
		*out = REPORT_JUNIT;
	else if (strcmp(name, "html") == 0)
		*out = REPORT_HTML;
	else {
		guess = closest_match(name, names, ARRAY_SIZE(names));
		if (guess)
			return err_set(err, ERR_INPUT, "unknown format '%s' (did you mean '%s'?)", name, guess);
		return err_set(err, ERR_INPUT, "unknown format '%s'; expected text, markdown, json, junit or html",
			       name);
	}
	return 0;
}

/* 3 significant digits without an exponent for the usual magnitudes. */
static void sig3(double v, char *buf, size_t len)
{
	char tmp[64];
	double a;

	/* Round first so that 0.999999 reads "1.00", not "1". */
	snprintf(tmp, sizeof(tmp), "%.3g", v);
	v = strtod(tmp, NULL);
	a = fabs(v);

	if (a >= 100 || a == 0)
		snprintf(buf, len, "%.0f", v);
	else if (a >= 10)
		snprintf(buf, len, "%.1f", v);
	else if (a >= 1)
		snprintf(buf, len, "%.2f", v);
	else
		snprintf(buf, len, "%#.3g", v);
}

void report_format_value(double v, const char *unit, char *buf, size_t len)
{
	static const struct { double scale; const char *name; } times[] = {
		{ 1, "s" }, { 1e-3, "ms" }, { 1e-6, "µs" }, { 1e-9, "ns" },
	};
	static const struct { double scale; const char *name; } sizes[] = {
		{ 1024.0 * 1024 * 1024, "GiB" }, { 1024.0 * 1024, "MiB" }, { 1024, "KiB" }, { 1, "B" },
	};
	static const struct { double scale; const char *name; } counts[] = {
		{ 1e12, "T" }, { 1e9, "G" }, { 1e6, "M" }, { 1e3, "k" },
	};
	char num[64];
	double a = fabs(v);

	if (!isfinite(v)) {
		snprintf(buf, len, "-");
		return;
	}
	if (!unit)
		unit = "1";
	if (strcmp(unit, "s") == 0) {
		for (size_t i = 0; i < ARRAY_SIZE(times); i++)
			if (a >= times[i].scale * 0.9995 || i + 1 == ARRAY_SIZE(times) || a == 0) {
				sig3(v / times[i].scale, num, sizeof(num));
				snprintf(buf, len, "%s %s", num, times[i].name);
				return;
			}
	}
	if (strcmp(unit, "B") == 0) {
		for (size_t i = 0; i < ARRAY_SIZE(sizes); i++)
			if (a >= sizes[i].scale || i + 1 == ARRAY_SIZE(sizes)) {
				sig3(v / sizes[i].scale, num, sizeof(num));
				snprintf(buf, len, "%s %s", num, sizes[i].name);
				return;
			}
	}
	if (strcmp(unit, "%") == 0) {
		sig3(v, num, sizeof(num));
		snprintf(buf, len, "%s%%", num);
		return;
	}
	for (size_t i = 0; i < ARRAY_SIZE(counts); i++)
		if (a >= counts[i].scale) {
			sig3(v / counts[i].scale, num, sizeof(num));
			snprintf(buf, len, "%s%s%s%s", num, counts[i].name,
				 strcmp(unit, "1") == 0 ? "" : " ", strcmp(unit, "1") == 0 ? "" : unit);
			return;
		}
	sig3(v, num, sizeof(num));
	if (strcmp(unit, "1/s") == 0)
		snprintf(buf, len, "%s/s", num);
	else if (strcmp(unit, "1") == 0)
		snprintf(buf, len, "%s", num);
	else
		snprintf(buf, len, "%s %s", num, unit);
}

/* "+14.6%" from a ratio. */
static void pct(double ratio, char *buf, size_t len)
{
	double p = (ratio - 1) * 100;

	if (!isfinite(ratio))
		snprintf(buf, len, "-");
	else if (fabs(p) >= 100)
		snprintf(buf, len, "%+.0f%%", p);
	else
		snprintf(buf, len, "%+.1f%%", p);
}

static void signed_value(double v, const char *unit, char *buf, size_t len)
{
	char tmp[40];

	report_format_value(fabs(v), unit, tmp, sizeof(tmp));
	snprintf(buf, len, "%s%s", v < 0 ? "-" : "+", tmp);
}

/* "+14.6% [+12.0%, +17.1%]" or, for a difference, "+1.20 ms [+0.80 ms, +1.60 ms]". */
static void change_text(const struct compare_row *row, char *buf, size_t len)
{
	char a[48], lo[48], hi[48];

	if (row->v.kind == VERDICT_NO_BASELINE || !isfinite(row->v.ratio)) {
		snprintf(buf, len, "-");
		return;
	}
	if (row->v.ratio_is_shift) {
		signed_value(row->v.ratio, row->unit, a, sizeof(a));
		signed_value(row->v.ratio_lo, row->unit, lo, sizeof(lo));
		signed_value(row->v.ratio_hi, row->unit, hi, sizeof(hi));
	} else {
		pct(row->v.ratio, a, sizeof(a));
		pct(row->v.ratio_lo, lo, sizeof(lo));
		pct(row->v.ratio_hi, hi, sizeof(hi));
	}
	if (isfinite(row->v.ratio_lo) && isfinite(row->v.ratio_hi))
		snprintf(buf, len, "%s [%s, %s]", a, lo, hi);
	else
		snprintf(buf, len, "%s", a);
}

/* The p-value of the direction the verdict is about (adjusted). */
static double row_p(const struct compare_row *row)
{
	if (row->v.kind == VERDICT_IMPROVEMENT)
		return row->v.p_better_adj;
	if (row->v.kind == VERDICT_BELOW_FLOOR && row->v.p_better_adj < row->v.p_adj)
		return row->v.p_better_adj;
	return row->v.p_adj;
}

static void p_text(const struct compare_row *row, char *buf, size_t len)
{
	double p = row_p(row);

	if (row->v.kind == VERDICT_NO_BASELINE || !isfinite(p))
		snprintf(buf, len, "-");
	else if (p < 0.0001)
		snprintf(buf, len, "<0.0001");
	else
		snprintf(buf, len, "%.2g", p);
}

static const char *mark(const struct compare_row *row)
{
	if (row->v.kind != VERDICT_REGRESSION && row->v.kind != VERDICT_IMPROVEMENT)
		return "~";
	if (row->v.ratio_is_shift)
		return row->v.ratio > 0 ? "▲" : "▼";
	return row->v.ratio > 1 ? "▲" : "▼";
}

static int rank(const struct compare_result *r, const struct compare_row *row)
{
	if (compare_row_fails(r, row))
		return 0;
	if (row->v.kind == VERDICT_INCONCLUSIVE || row->v.kind == VERDICT_INSUFFICIENT)
		return 1;
	return 2;
}

/* Indices of the rows to show (history or A/B), failing first, then loud, then run order. */
static size_t ordered(const struct compare_result *r, bool ab, size_t *idx)
{
	size_t n = 0;

	for (int k = 0; k <= 2; k++)
		for (size_t i = 0; i < r->n_rows; i++)
			if ((r->rows[i].against != NULL) == ab && rank(r, &r->rows[i]) == k)
				idx[n++] = i;
	return n;
}

static size_t width(const char *s)
{
	size_t w = 0;

	for (; *s; s++)
		if (((unsigned char)*s & 0xC0) != 0x80)
			w++;
	return w;
}

static void pad(struct sb *out, const char *s, size_t w)
{
	sb_puts(out, s);
	for (size_t i = width(s); i < w; i++)
		sb_putc(out, ' ');
}

static void short_id(const char *id, char *buf, size_t len)
{
	snprintf(buf, len, "%.*s", 8, id ? id : "-");
}

/* Gated history rows, whatever their verdict. */
static size_t gated_count(const struct compare_result *r)
{
	size_t n = 0;

	for (int k = 0; k <= VERDICT_NO_BASELINE; k++)
		n += r->counts[k];
	return n;
}

/* "run invalid: 2 benchmarks failed ('a', 'b')": the run cannot be trusted whatever the comparison says. */
static void run_invalid_text(const struct compare_result *r, struct sb *out)
{
	sb_printf(out, "run invalid: %zu benchmark%s failed (", r->n_failed_benches, r->n_failed_benches == 1 ? "" : "s");
	for (size_t i = 0; i < r->n_failed_benches && i < 3; i++)
		sb_printf(out, "%s'%s'", i ? ", " : "", r->failed_benches[i]);
	sb_puts(out, r->n_failed_benches > 3 ? ", ...)" : ")");
}

/* Every gated metric without a baseline: a first run (or one outside git). */
static void first_run_text(const struct compare_result *r, size_t gated, struct sb *out)
{
	sb_printf(out, "no baseline %sfor %zu metric%s (%s), nothing to compare", r->commit ? "yet " : "", gated,
		  gated == 1 ? "" : "s", r->commit ? "first run" : "the run has no git commit: see the baseline line");
}

void report_summary_line(const struct compare_result *r, struct sb *out)
{
	static const char *const words[] = {
		[VERDICT_REGRESSION] = "regression", [VERDICT_IMPROVEMENT] = "improvement",
		[VERDICT_UNCHANGED] = "unchanged", [VERDICT_BELOW_FLOOR] = "below the noise floor",
		[VERDICT_INCONCLUSIVE] = "inconclusive", [VERDICT_INSUFFICIENT] = "with insufficient data",
		[VERDICT_NO_BASELINE] = "without a baseline",
	};
	size_t gated = 0;
	bool any = false;

	gated = gated_count(r);
	sb_puts(out, r->passed ? "passed: " : "FAILED: ");
	if (r->n_failed_benches) {
		/* first: the run is invalid whatever the comparison says */
		run_invalid_text(r, out);
		sb_puts(out, "; ");
	}
	if (gated && r->counts[VERDICT_NO_BASELINE] == gated) {
		first_run_text(r, gated, out);
		any = true;
	} else {
		for (int k = 0; k <= VERDICT_NO_BASELINE; k++) {
			size_t c = r->counts[k];

			if (!c)
				continue;
			sb_printf(out, "%s%zu %s%s", any ? ", " : "", c, words[k],
				  c > 1 && (k == VERDICT_REGRESSION || k == VERDICT_IMPROVEMENT) ? "s" : "");
			any = true;
		}
	}
	if (!any)
		sb_puts(out, "no gated metrics");
	if (r->n_slos) {
		if (r->slo_failed)
			sb_printf(out, "; %zu of %zu SLO%s violated", r->slo_failed, r->n_slos,
				  r->n_slos == 1 ? "" : "s");
		else
			sb_printf(out, "; %zu SLO%s met", r->n_slos, r->n_slos == 1 ? "" : "s");
	}
	if (r->strict)
		sb_puts(out, " (strict)");
}

/* One sentence about where the baseline came from. */
static void baseline_text(const struct compare_result *r, bool markdown, struct sb *out)
{
	const char *tick = markdown ? "`" : "'";

	if (compare_ab_gated(r)) {
		/* `gate --base`: the baseline is the base commit, measured beside the head */
		sb_printf(out, "commit %.10s", r->against_base.commit ? r->against_base.commit : "?");
		if (r->against_base.merge_base)
			sb_printf(out, " (the merge-base of HEAD and %s%s%s)", tick, r->against_base.ref, tick);
		else
			sb_printf(out, " (%s%s%s)", tick, r->against_base.ref, tick);
		sb_puts(out, ", measured in this job beside the head, interleaved; paired tests, no history");
		return;
	}
	if (r->base_runs == 0) {
		if (r->base_why) {
			/* The selection's own sentence says what was looked for. */
			sb_printf(out, "none: %s", r->base_why);
			return;
		}
		sb_puts(out, "none");
		if (r->base_branch)
			sb_printf(out, " on %s%s%s", tick, r->base_branch, tick);
	} else {
		sb_printf(out, "%zu run%s", r->base_runs, r->base_runs == 1 ? "" : "s");
		if (r->base_branch)
			sb_printf(out, " on %s%s%s", tick, r->base_branch, tick);
		if (r->n_base_commits) {
			sb_printf(out, " at %zu commit%s (", r->n_base_commits, r->n_base_commits == 1 ? "" : "s");
			for (size_t i = 0; i < r->n_base_commits && i < 5; i++)
				sb_printf(out, "%s%.10s", i ? ", " : "", r->base_commits[i]);
			if (r->n_base_commits > 5)
				sb_puts(out, ", ...");
			sb_puts(out, ")");
		}
		sb_printf(out, ", up to %zu samples per metric", r->base_samples);
	}
	if (r->base_why)
		sb_printf(out, "; %s", r->base_why);
}

/* Columns beyond the first seven (kept in place for other renderers). */
enum { COL_MEDIAN = 7, COL_FLOOR = 8, COL_DETECT = 9, N_COLS = 10 };

/* "+2.1%" (or a difference) from the two medians: what the medians say,
 * beside the estimate, so that the two can never seem to contradict. */
static void median_text(const struct compare_row *row, char *buf, size_t len)
{
	if (row->v.kind == VERDICT_NO_BASELINE || !isfinite(row->v.median_change))
		snprintf(buf, len, "-");
	else if (row->v.ratio_is_shift)
		signed_value(row->v.median_change, row->unit, buf, len);
	else
		pct(row->v.median_change + 1, buf, len);
}

/* "6%" (the change caught 80% of the time), "96% !" over VERDICT_MDE_FLAG. */
/* "  bench metric: why" (Markdown: the benchmark as code), without the newline. */
static void why_line(const struct compare_row *row, bool markdown, const char *lead, struct sb *out)
{
	sb_puts(out, lead);
	if (markdown) {
		sb_putc(out, '`');
		md_code(out, row->bench);
		sb_puts(out, "` ");
		md_cell(out, row->metric);
		sb_puts(out, ": ");
		md_cell(out, row->v.why);
	} else {
		sb_printf(out, "%s %s: %s", row->bench, row->metric, row->v.why);
	}
}

/* The detectable effect as the reports write it: "6.0%", ">1000%". */
static void mde_text(double m, char *buf, size_t len)
{
	snprintf(buf, len, "%s%.*f%%", m >= 10 ? ">" : "", m < 0.1 ? 1 : 0, fmin(m, 10) * 100);
}

static void detect_text(const struct compare_row *row, char *buf, size_t len)
{
	double m = row->v.mde;
	char t[32];

	mde_text(m, t, sizeof(t));
	snprintf(buf, len, "%s%s", isfinite(m) ? t : "-", m > VERDICT_MDE_FLAG ? " !" : "");
}

static void cells(const struct compare_row *row, char c[N_COLS][160])
{
	median_text(row, c[COL_MEDIAN], 160);
	if (row->v.kind == VERDICT_NO_BASELINE || !isfinite(row->v.floor))
		snprintf(c[COL_FLOOR], 160, "-");
	else
		snprintf(c[COL_FLOOR], 160, "%.*f%%", row->v.floor < 0.1 ? 1 : 0, row->v.floor * 100);
	detect_text(row, c[COL_DETECT], 160);
	change_text(row, c[4], 160);
	p_text(row, c[5], 160);
	if (row->v.n_base)
		report_format_value(row->v.base_median, row->unit, c[2], 160);
	else
		snprintf(c[2], 160, "-");
	report_format_value(row->v.cur_median, row->unit, c[3], 160);
	snprintf(c[0], 160, "%s", row->bench);
	snprintf(c[1], 160, "%s", row->metric);
	snprintf(c[6], 160, "%s", verdict_name(row->v.kind));
}

static const char *verdict_color(const struct compare_result *r, const struct compare_row *row)
{
	if (compare_row_fails(r, row))
		return C_RED;
	switch (row->v.kind) {
	case VERDICT_REGRESSION:
		return C_RED;
	case VERDICT_IMPROVEMENT:
		return C_GREEN;
	case VERDICT_INCONCLUSIVE:
	case VERDICT_INSUFFICIENT:
		return C_YELLOW;
	default:
		return NULL;
	}
}

/* The columns of a table, in the order shown, with their headings. */
static const int col_order[N_COLS] = { 0, 1, 2, 3, COL_MEDIAN, 4, 5, COL_FLOOR, COL_DETECT, 6 };
static const char *const col_head[N_COLS] = {
	"benchmark", "metric", "baseline", "current", "estimate [CI]", "p", "verdict",
	"medians", "floor", "detects"
};

static void table_cells(const struct compare_row *row, bool ab, char c[N_COLS][160])
{
	cells(row, c);
	if (ab)
		snprintf(c[0], 160, "%s vs %s", row->bench, row->against);
}

/* The rows idx[0..n), a line each: every column (full), or without the
 * medians and the floor (the compact report's single metrics). */
static void text_table(const struct compare_result *r, const size_t *idx, size_t n, bool ab, bool full,
		       bool color, struct sb *out)
{
	size_t w[N_COLS];
	char c[N_COLS][160];
	int cols[N_COLS], nc = 0;

	for (int k = 0; k < N_COLS - 1; k++)
		if (full || (col_order[k] != COL_MEDIAN && col_order[k] != COL_FLOOR))
			cols[nc++] = col_order[k];
	for (int j = 0; j < N_COLS; j++)
		w[j] = width(j == 2 && ab ? "reference" : col_head[j]);
	for (size_t i = 0; i < n; i++) {
		table_cells(&r->rows[idx[i]], ab, c);
		for (int j = 0; j < N_COLS; j++)
			if (width(c[j]) > w[j])
				w[j] = width(c[j]);
	}
	sb_puts(out, "  ");
	for (int k = 0; k < nc; k++) {
		pad(out, cols[k] == 2 && ab ? "reference" : col_head[cols[k]], w[cols[k]]);
		sb_puts(out, "  ");
	}
	sb_puts(out, col_head[6]);
	sb_putc(out, '\n');
	for (size_t i = 0; i < n; i++) {
		const struct compare_row *row = &r->rows[idx[i]];
		const char *col = color ? verdict_color(r, row) : NULL;

		table_cells(row, ab, c);
		sb_puts(out, mark(row));
		sb_putc(out, ' ');
		for (int k = 0; k < nc; k++) {
			pad(out, c[cols[k]], w[cols[k]]);
			sb_puts(out, "  ");
		}
		if (col)
			sb_printf(out, "%s%s%s", col, c[6], C_RESET);
		else
			sb_puts(out, c[6]);
		if (!row->settings.gate && (!ab || compare_ab_gated(r)))
			sb_puts(out, " (not gated)");
		sb_putc(out, '\n');
	}
}

/* An SLO's value as the reports show it: the measured value, or why there
 * is none (a server, energy or cost metric not measured, or a latency
 * percentile with more failed requests than it leaves room for: slo.c). */
static void slo_value(const struct compare_slo *s, char *v, size_t len)
{
	const char *why = s->why ? strstr(s->why, ": ") : NULL;

	/* no value: the why after "KEY: " (not measured (...), too many
	 * failed requests (...), not evaluated (...), held at every step up
	 * to the capacity (...)) */
	if (!isfinite(s->actual) && why)
		snprintf(v, len, "%s", why + 2);
	else
		report_format_value(s->actual, s->unit, v, len);
}

/* "measured more: ..." when a sequential gate took more than one look. */
static void more_text(const struct compare_result *r, const char *lead, struct sb *out)
{
	if (!r->confirm_reps)
		return;
	sb_printf(out, "%s: %zu more repetition%s of each undecided benchmark over %zu look%s (%.1f s); "
		       "verdicts on all the samples, each look at its share of alpha (alpha spending)%s",
		  lead, r->confirm_reps, r->confirm_reps == 1 ? "" : "s", r->looks, r->looks == 1 ? "" : "s",
		  r->extra_seconds, r->budget_spent ? "; the budget is spent, still undecided" : "");
}


/* "parse/wall_rel 6%, parse/cpu_rel 5%": every gated, tested history row. */
static void detect_summary(const struct compare_result *r, bool markdown, struct sb *out)
{
	size_t k = 0;
	char m[32];

	for (size_t i = 0; i < r->n_rows; i++) {
		const struct compare_row *row = &r->rows[i];

		if (!compare_row_gates(r, row) || !isfinite(row->v.mde))
			continue;
		mde_text(row->v.mde, m, sizeof(m));
		sb_printf(out, "%s%s in ", k++ ? ", " : "", m);
		if (markdown)
			sb_putc(out, '`');
		sb_printf(out, "%s/%s", row->bench, row->metric);
		if (markdown)
			sb_putc(out, '`');
	}
	if (!k)
		sb_puts(out, "none (no gated metric had a baseline to compare with)");
}

/* ---- what text and Markdown share: groups, key metrics, causes, the headline ---- */

/*
 * The compact reports show each benchmark's metric families in one row
 * (core/report_group.c) and only its key metrics; these are the pieces.
 */

/* Metrics a reader looks at first, whatever changed (the stem before any
 * "@RATE" suffix and before a family's statistic). */
static const char *const key_names[] = {
	"wall", "cpu", "max_rss", "instructions", "wall_rel", "cpu_rel", "latency", "ttft", "tpot", "itl",
	"throughput", "goodput", "error_rate", "output_token_rate", "capacity", "recovery_time",
};

/* A benchmark with at most this many groups shows them all. */
#define KEY_SMALL_BENCH 6
/* Names listed in one sentence before "and N more". */
#define NAMES_MAX 8
/* Regressions and SLOs named in the headline. */
#define HEADLINE_NAMES 3

static bool stem_is(const char *name, const char *stem)
{
	size_t n = strlen(stem);

	return strncmp(name, stem, n) == 0 && (name[n] == '\0' || name[n] == '@');
}

static bool key_name(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(key_names); i++)
		if (stem_is(name, key_names[i]))
			return true;
	return false;
}

/* Zero in both runs and nothing to say (the error counters of a clean run,
 * tested or not). */
static bool quiet_zero(const struct compare_result *r, const struct compare_row *row)
{
	return row->v.cur_median == 0 && (row->v.n_base == 0 || row->v.base_median == 0) && rank(r, row) != 0 &&
	       row->v.kind != VERDICT_INCONCLUSIVE;
}

static bool row_changed(const struct compare_row *row)
{
	return row->v.kind == VERDICT_REGRESSION || row->v.kind == VERDICT_IMPROVEMENT;
}

/* Changed significantly, or inconclusive (maybe worse): what a reader must see. */
static bool group_changed(const struct compare_result *r, const struct report_group *g)
{
	size_t m[REPORT_GROUP_STATS], n = report_group_members(g, m);

	for (size_t i = 0; i < n; i++)
		if (row_changed(&r->rows[m[i]]) || r->rows[m[i]].v.kind == VERDICT_INCONCLUSIVE)
			return true;
	return false;
}

/* An SLO of the group's benchmark on the group's metric ("latency.p95" on
 * family "latency", "wall.median" on "wall"). */
static bool group_has_slo(const struct compare_result *r, const struct report_group *g)
{
	size_t n = strlen(g->name);

	for (size_t i = 0; i < r->n_slos; i++) {
		const struct compare_slo *s = &r->slos[i];

		if (strcmp(s->bench, g->bench) == 0 && strncmp(s->key, g->name, n) == 0 &&
		    (s->key[n] == '\0' || s->key[n] == '.'))
			return true;
	}
	return false;
}

static bool group_quiet(const struct compare_result *r, const struct report_group *g)
{
	return !g->family && quiet_zero(r, &r->rows[g->single]);
}

static int by_bench(const void *a, const void *b, void *arg)
{
	const struct report_group *g = arg, *x = &g[*(const size_t *)a], *y = &g[*(const size_t *)b];
	int c = strcmp(x->bench, y->bench);

	return c ? c : strcmp(x->against ? x->against : "", y->against ? y->against : "");
}

/* For each group, how many groups of its benchmark (and reference) are not
 * quiet zeros: sorted by benchmark, counted per run of equal ones, so that
 * a run of tens of thousands of benchmarks costs n log n, not n^2. */
static size_t *bench_group_counts(const struct compare_result *r, const struct report_groups *gs)
{
	size_t *idx = xcalloc(gs->n + 1, sizeof(*idx)), *count = xcalloc(gs->n + 1, sizeof(*count));

	for (size_t i = 0; i < gs->n; i++)
		idx[i] = i;
	qsort_r(idx, gs->n, sizeof(*idx), by_bench, gs->g);
	for (size_t i = 0, j; i < gs->n; i = j) {
		size_t n = 0;

		for (j = i; j < gs->n && by_bench(&idx[i], &idx[j], gs->g) == 0; j++)
			n += !group_quiet(r, &gs->g[idx[j]]);
		for (size_t k = i; k < j; k++)
			count[idx[k]] = n;
	}
	free(idx);
	return count;
}

/* A group the compact text report shows: what fails or needs attention,
 * what changed, what an SLO is on, the key metrics, every group of a small
 * benchmark; never a zero that stayed zero. */
static bool group_is_key(const struct compare_result *r, const struct report_group *g, size_t bench_groups)
{
	if (g->rank == 0 || group_changed(r, g) || group_has_slo(r, g) || key_name(g->name))
		return true;
	return !group_quiet(r, g) && bench_groups <= KEY_SMALL_BENCH;
}

/* "+15%", "-2.1%", "+1.20 ms", or "" without a baseline. */
static void change_short(const struct compare_row *row, char *buf, size_t len)
{
	double p;

	if (row->v.kind == VERDICT_NO_BASELINE || !isfinite(row->v.ratio)) {
		snprintf(buf, len, "%s", "");
		return;
	}
	if (row->v.ratio_is_shift) {
		signed_value(row->v.ratio, row->unit, buf, len);
		return;
	}
	p = (row->v.ratio - 1) * 100;
	snprintf(buf, len, fabs(p) >= 9.95 ? "%+.0f%%" : "%+.1f%%", p);
}

/* One statistic of a family: "9.23 ms -82%", the current value alone without a baseline. */
static void family_cell(const struct compare_row *row, char *buf, size_t len)
{
	char v[64], ch[64];

	report_format_value(row->v.cur_median, row->unit, v, sizeof(v));
	change_short(row, ch, sizeof(ch));
	snprintf(buf, len, "%s%s%s", v, ch[0] ? " " : "", ch);
}

/* A family's verdict: its members' verdicts, "improvement" when all agree,
 * else "improvement 5, below-floor 2" (worst first). */
static void family_verdict(const struct compare_result *r, const struct report_group *g, char *buf, size_t len)
{
	size_t m[REPORT_GROUP_STATS], n = report_group_members(g, m), count[VERDICT_NO_BASELINE + 1] = { 0 };
	static const enum verdict_kind order[] = { VERDICT_REGRESSION, VERDICT_INCONCLUSIVE, VERDICT_INSUFFICIENT,
						   VERDICT_IMPROVEMENT, VERDICT_BELOW_FLOOR, VERDICT_UNCHANGED,
						   VERDICT_NO_BASELINE };
	size_t kinds = 0, at = 0;

	for (size_t i = 0; i < n; i++)
		if (count[r->rows[m[i]].v.kind]++ == 0)
			kinds++;
	buf[0] = '\0';
	for (size_t i = 0; i < ARRAY_SIZE(order) && at < len; i++) {
		if (!count[order[i]])
			continue;
		if (kinds == 1)
			at += (size_t)snprintf(buf + at, len - at, "%s", verdict_name(order[i]));
		else
			at += (size_t)snprintf(buf + at, len - at, "%s%s %zu", at ? ", " : "", verdict_name(order[i]),
					       count[order[i]]);
	}
}

/* The statistics columns of a family table: compact, the usual percentiles
 * and max (mean for a family without percentiles); all, every statistic used. */
static void family_columns(const struct report_groups *gs, const bool *show, bool all,
			   bool used[REPORT_GROUP_STATS])
{
	bool pct = false;

	memset(used, 0, REPORT_GROUP_STATS * sizeof(bool));
	for (size_t i = 0; i < gs->n; i++) {
		if (!show[i] || !gs->g[i].family)
			continue;
		for (int k = 0; k < REPORT_GROUP_STATS; k++)
			if (gs->g[i].row[k] != REPORT_GROUP_NONE) {
				used[k] = true;
				pct |= report_group_stats[k][0] == 'p';
			}
	}
	if (all)
		return;
	for (int k = 0; k < REPORT_GROUP_STATS; k++) {
		const char *s = report_group_stats[k];

		if (strcmp(s, "p99.9") == 0 || strcmp(s, "min") == 0 || (pct && strcmp(s, "mean") == 0))
			used[k] = false;
	}
}

/* Does a family show any cell in the columns used?  (A family of mean and
 * min only, under compact columns, would be an empty row: shown as singles.) */
static bool family_fits(const struct report_group *g, const bool used[REPORT_GROUP_STATS])
{
	for (int k = 0; k < REPORT_GROUP_STATS; k++)
		if (used[k] && g->row[k] != REPORT_GROUP_NONE)
			return true;
	return false;
}

/* Rows named in one phrase, grouped by benchmark, a family named once
 * when all its members are in: "ping latency, ttfb, error_rate; loop wall".
 * in[] flags rows; NAMES_MAX names, then "and N more". */
static void names_list(const struct compare_result *r, const struct report_groups *gs, const bool *in,
		       bool markdown, struct sb *out)
{
	const char *bench = NULL;
	size_t shown = 0, more = 0;

	for (size_t i = 0; i < gs->n; i++) {
		const struct report_group *g = &gs->g[i];
		size_t m[REPORT_GROUP_STATS], n = report_group_members(g, m), k = 0;
		const char *names[REPORT_GROUP_STATS];
		size_t nn = 0;

		for (size_t j = 0; j < n; j++)
			k += in[m[j]];
		if (!k)
			continue;
		if (k == n)
			names[nn++] = g->name;
		else
			for (size_t j = 0; j < n; j++)
				if (in[m[j]])
					names[nn++] = r->rows[m[j]].metric;
		for (size_t j = 0; j < nn; j++) {
			if (shown >= NAMES_MAX) {
				more++;
				continue;
			}
			if (!bench || strcmp(bench, g->bench) != 0) {
				sb_puts(out, shown ? "; " : "");
				if (markdown) {
					sb_putc(out, '`');
					md_code(out, g->bench);
					sb_puts(out, "` ");
				} else {
					sb_printf(out, "%s ", g->bench);
				}
				bench = g->bench;
			} else {
				sb_puts(out, ", ");
			}
			if (markdown)
				md_cell(out, names[j]);
			else
				sb_puts(out, names[j]);
			shown++;
		}
	}
	if (more)
		sb_printf(out, " and %zu more", more);
}

/* A setting that does not fit a benchmark (a row's hint_always), a line
 * each whatever its rows detect, for the rows not done yet; marks them
 * done.  Returns the lines. */
static size_t unfit_setting_lines(const struct compare_result *r, bool *done, const char *lead, bool markdown,
				  struct sb *out)
{
	size_t lines = 0;

	for (size_t i = 0; i < r->n_rows; i++) {
		const struct compare_row *row = &r->rows[i];

		if (done[i] || !row->hint_always)
			continue;
		sb_puts(out, lead);
		if (markdown)
			md_cell(out, row->hint);
		else
			sb_puts(out, row->hint);
		sb_putc(out, '\n');
		done[i] = true;
		lines++;
	}
	return lines;
}

/*
 * What needs a reader's attention, one line per cause (not one per
 * metric): inconclusive and insufficient-data rows by cause, gated rows
 * that cannot see changes under VERDICT_MDE_FLAG by the setting that would
 * help, a setting that does not fit a benchmark (hint_always), and, when
 * only some metrics have one, the rows without a baseline.
 * Each line: lead, the count, the names, the advice.  Returns the lines.
 */
static size_t attention_lines(const struct compare_result *r, const struct report_groups *gs, bool markdown,
			      bool whys, struct sb *out)
{
	struct report_cause *causes = NULL;
	size_t n_causes = report_causes(r, &causes), lines = 0, gated = 0;
	bool *in = xcalloc(r->n_rows + 1, sizeof(*in)), *done = xcalloc(r->n_rows + 1, sizeof(*done));
	const char *lead = markdown ? "- " : "  ";

	gated = gated_count(r);
	for (size_t i = 0; i < n_causes; i++) {
		const struct report_cause *c = &causes[i];
		const char *hint = NULL;
		bool same_hint = true;	/* the rows with a hint all give the same */

		if (c->kind == VERDICT_NO_BASELINE && r->counts[VERDICT_NO_BASELINE] == gated)
			continue; /* the headline says it: a first run */
		memset(in, 0, (r->n_rows + 1) * sizeof(*in));
		for (size_t k = 0; k < c->n; k++) {
			const struct compare_row *row = &r->rows[c->rows[k]];

			in[c->rows[k]] = true;
			if (!row->hint)
				continue;
			if (!hint)
				hint = row->hint;
			else if (strcmp(hint, row->hint) != 0)
				same_hint = false;
		}
		sb_printf(out, "%s%zu metric%s %s (", lead, c->n, c->n == 1 ? "" : "s",
			  c->kind == VERDICT_INSUFFICIENT ? "with insufficient data"
			  : c->kind == VERDICT_INCONCLUSIVE ? "inconclusive" : "without a baseline");
		names_list(r, gs, in, markdown, out);
		sb_puts(out, "): ");
		report_cause_hint(c, out);
		if (hint && same_hint && c->kind == VERDICT_INSUFFICIENT) {
			sb_puts(out, "; ");
			sb_puts(out, hint);
			for (size_t k = 0; k < c->n; k++)
				done[c->rows[k]] = true;
		}
		sb_putc(out, '\n');
		lines++;
		/* A few inconclusive rows: the numbers behind each. */
		if (whys && c->kind != VERDICT_NO_BASELINE && c->n <= 3)
			for (size_t k = 0; k < c->n; k++) {
				const struct compare_row *row = &r->rows[c->rows[k]];

				if (!row->v.why[0] || rank(r, row) == 0)
					continue;
				why_line(row, markdown, markdown ? "  - " : "      ", out);
				sb_putc(out, '\n');
			}
	}
	lines += unfit_setting_lines(r, done, lead, markdown, out);
	/* Gated rows that cannot see what matters, by the advice given. */
	for (size_t i = 0; i < r->n_rows; i++) {
		const struct compare_row *row = &r->rows[i];
		double lo = INFINITY, hi = -INFINITY;
		size_t n = 0;
		char a[32], b[32];

		if (done[i] || !compare_row_gates(r, row) || !isfinite(row->v.mde) ||
		    !(row->v.mde > VERDICT_MDE_FLAG))
			continue;
		memset(in, 0, (r->n_rows + 1) * sizeof(*in));
		for (size_t j = i; j < r->n_rows; j++) {
			const struct compare_row *o = &r->rows[j];

			if (done[j] || !compare_row_gates(r, o) || !isfinite(o->v.mde) ||
			    !(o->v.mde > VERDICT_MDE_FLAG) || (row->hint == NULL) != (o->hint == NULL) ||
			    (row->hint && strcmp(row->hint, o->hint) != 0))
				continue;
			in[j] = done[j] = true;
			lo = fmin(lo, o->v.mde);
			hi = fmax(hi, o->v.mde);
			n++;
		}
		mde_text(lo, a, sizeof(a));
		mde_text(hi, b, sizeof(b));
		sb_printf(out, "%s%zu metric%s can catch changes of %s%s%s or more only, not worth gating as configured (",
			  lead, n, n == 1 ? "" : "s", a, strcmp(a, b) ? " to " : "", strcmp(a, b) ? b : "");
		names_list(r, gs, in, markdown, out);
		sb_puts(out, ")");
		if (row->hint) {
			sb_puts(out, ": ");
			if (markdown)
				md_cell(out, row->hint);
			else
				sb_puts(out, row->hint);
		}
		sb_putc(out, '\n');
		lines++;
	}
	free(in);
	free(done);
	report_causes_free(causes, n_causes);
	return lines;
}

/* Gated history rows with a detectable effect. */
static size_t detectable(const struct compare_result *r)
{
	size_t n = 0;

	for (size_t i = 0; i < r->n_rows; i++)
		n += compare_row_gates(r, &r->rows[i]) && isfinite(r->rows[i].v.mde);
	return n;
}

/*
 * The benchmarks the gate measures beside the base commit whenever their
 * history rows look worse or are blind (r->confirms_base,
 * compare_row_blind): what the `detects` figures, the history's, leave
 * out.
 */
static void confirming_text(const struct compare_result *r, bool markdown, struct sb *out)
{
	size_t shown = 0;

	sb_puts(out, markdown ? "**Beside the base:** " : "beside the base: ");
	for (size_t i = 0; i < r->n_confirms_base && shown < 5; i++)
		if (r->confirms_base[i]) {
			sb_puts(out, shown++ ? ", " : "");
			if (markdown) {
				sb_putc(out, '`');
				md_code(out, r->confirms_base[i]);
				sb_putc(out, '`');
			} else
				sb_puts(out, r->confirms_base[i]);
		}
	if (r->n_confirms_base > shown)
		sb_printf(out, " and %zu more", r->n_confirms_base - shown);
	sb_printf(out, " %s measured again beside the base commit in this job whenever the history sees %s worse, or "
		  "cannot see a change of %.0f%% and the repetitions give the pairs, so a change under a row's floor, or "
		  "one a faster job hides, is still caught when the pairs show it",
		  r->n_confirms_base == 1 ? "is" : "are", r->n_confirms_base == 1 ? "it" : "them",
		  VERDICT_MDE_FLAG * 100);
}

void report_confirm_outcome(const struct compare_result *r, bool capital, struct sb *out)
{
	const struct compare_base_confirmation *cb = &r->confirm_base;

	if (!cb->commit)
		return;
	sb_printf(out, "%ceasured again beside base commit %.10s in this job (%.1f s): %zu regression%s against the "
		  "history confirmed, %zu not; %zu more that the history passed shown by the pairs",
		  capital ? 'M' : 'm', cb->commit, cb->seconds, cb->confirmed, cb->confirmed == 1 ? "" : "s",
		  cb->unconfirmed, cb->revealed);
	if (cb->cleared)
		sb_printf(out, "; %zu row%s the history cannot judge (a detectable effect over %.0f%%) clear beside "
			  "the base", cb->cleared, cb->cleared == 1 ? "" : "s", VERDICT_MDE_FLAG * 100);
}

/* A few gated metrics each by name ("6.0% in loop/wall"), more as a range
 * ("6.0% to 40% over 12 gated metrics ..."), or why there is none. */
static void detect_range(const struct compare_result *r, bool markdown, struct sb *out)
{
	double lo = INFINITY, hi = -INFINITY;
	size_t n = 0;
	char a[32], b[32];

	for (size_t i = 0; i < r->n_rows; i++) {
		const struct compare_row *row = &r->rows[i];

		if (!compare_row_gates(r, row) || !isfinite(row->v.mde))
			continue;
		lo = fmin(lo, row->v.mde);
		hi = fmax(hi, row->v.mde);
		n++;
	}
	if (n <= 3) {
		detect_summary(r, markdown, out);
		return;
	}
	mde_text(lo, a, sizeof(a));
	mde_text(hi, b, sizeof(b));
	if (strcmp(a, b) == 0)
		sb_printf(out, "%s in %s gated metric%s", a, n == 1 ? "its" : "each of its", n == 1 ? "" : "s");
	else
		sb_printf(out, "%s to %s over %zu gated metrics (the detects column gives each)", a, b, n);
}

/* The failing regressions, named by group ("api latency", not its seven
 * statistics), the first HEADLINE_NAMES of them. */
static void headline_regressions(const struct compare_result *r, struct sb *out)
{
	struct report_groups gs;
	size_t named = 0;

	report_group_rows(r, compare_ab_gated(r), &gs);
	for (size_t i = 0; i < gs.n; i++) {
		size_t m[REPORT_GROUP_STATS], n = report_group_members(&gs.g[i], m), k = 0;

		for (size_t j = 0; j < n; j++)
			k += r->rows[m[j]].v.kind == VERDICT_REGRESSION && compare_row_fails(r, &r->rows[m[j]]);
		if (!k)
			continue;
		if (named++ == HEADLINE_NAMES) {
			sb_puts(out, ", ...");
			break;
		}
		sb_printf(out, "%s%s %s", named > 1 ? ", " : "", gs.g[i].bench, gs.g[i].name);
	}
	report_groups_release(&gs);
}

/* The violated SLOs, the first HEADLINE_NAMES of them. */
static void headline_slos(const struct compare_result *r, struct sb *out)
{
	size_t named = 0;

	for (size_t i = 0; i < r->n_slos; i++) {
		const struct compare_slo *s = &r->slos[i];

		if (s->ok)
			continue;
		if (named++ == HEADLINE_NAMES) {
			sb_puts(out, ", ...");
			break;
		}
		sb_printf(out, "%s%s %s %s", named > 1 ? ", " : "", s->bench, s->key, s->expr);
	}
}

void report_headline(const struct compare_result *r, struct sb *out)
{
	static const enum verdict_kind rest[] = { VERDICT_IMPROVEMENT, VERDICT_UNCHANGED, VERDICT_BELOW_FLOOR,
						  VERDICT_INCONCLUSIVE, VERDICT_INSUFFICIENT, VERDICT_NO_BASELINE };
	size_t gated = 0, fails = 0;
	bool any = false;

	gated = gated_count(r);
	sb_puts(out, r->passed ? "passed: " : "FAILED: ");
	/* What fails, first. */
	if (r->n_failed_benches) {
		run_invalid_text(r, out);
		fails++;
	}
	if (r->counts[VERDICT_REGRESSION]) {
		sb_printf(out, "%s%zu regression%s (", fails ? "; " : "", r->counts[VERDICT_REGRESSION],
			  r->counts[VERDICT_REGRESSION] == 1 ? "" : "s");
		headline_regressions(r, out);
		sb_puts(out, ")");
		fails++;
	}
	if (r->strict)
		for (int k = VERDICT_INCONCLUSIVE; k <= VERDICT_INSUFFICIENT; k++)
			if (r->counts[k]) {
				sb_printf(out, "%s%zu %s (strict)", fails ? "; " : "", r->counts[k],
					  k == VERDICT_INCONCLUSIVE ? "inconclusive" : "with insufficient data");
				fails++;
			}
	if (r->slo_failed) {
		sb_printf(out, "%s%zu of %zu SLO%s violated (", fails ? "; " : "", r->slo_failed, r->n_slos,
			  r->n_slos == 1 ? "" : "s");
		headline_slos(r, out);
		sb_puts(out, ")");
		fails++;
	}
	/* Then the rest, said as not failing. */
	if (gated && r->counts[VERDICT_NO_BASELINE] == gated) {
		sb_puts(out, fails ? "; " : "");
		first_run_text(r, gated, out);
		any = true;
	} else {
		for (size_t i = 0; i < ARRAY_SIZE(rest); i++) {
			enum verdict_kind k = rest[i];
			size_t c = r->counts[k];

			if (!c || (r->strict && (k == VERDICT_INCONCLUSIVE || k == VERDICT_INSUFFICIENT)))
				continue;
			sb_puts(out, any ? ", " : fails ? "; not failing: " : "");
			switch (k) {
			case VERDICT_IMPROVEMENT:
				sb_printf(out, "%zu improvement%s", c, c == 1 ? "" : "s");
				break;
			case VERDICT_INSUFFICIENT:
				sb_printf(out, "%zu not testable (too few samples)", c);
				break;
			case VERDICT_BELOW_FLOOR:
				sb_printf(out, "%zu below the noise floor", c);
				break;
			case VERDICT_NO_BASELINE:
				sb_printf(out, "%zu without a baseline", c);
				break;
			default:
				sb_printf(out, "%zu %s", c, verdict_name(k));
			}
			any = true;
		}
	}
	if (!any && !fails && !(r->n_slos && !r->slo_failed))
		sb_puts(out, "no gated metrics");
	if (r->n_slos && !r->slo_failed)
		sb_printf(out, "%s%zu SLO%s met", any || fails ? "; " : "", r->n_slos, r->n_slos == 1 ? "" : "s");
	if (r->strict)
		sb_puts(out, " (strict)");
}

/* ---- text ---- */

static void text_slos(const struct compare_result *r, bool color, struct sb *out)
{
	if (!r->n_slos)
		return;
	sb_puts(out, "\nSLOs:\n");
	for (size_t i = 0; i < r->n_slos; i++) {
		const struct compare_slo *s = &r->slos[i];
		char v[256];

		slo_value(s, v, sizeof(v));
		sb_printf(out, "  %s%s%s %s %s %s: %s\n", color ? (s->ok ? C_GREEN : C_RED) : "",
			  s->ok ? "met     " : "VIOLATED", color ? C_RESET : "", s->bench, s->key, s->expr, v);
	}
}

/* "bench", or "bench vs reference" for A/B. */
static void group_label(const struct report_group *g, bool ab, char *buf, size_t len)
{
	if (ab)
		snprintf(buf, len, "%s vs %s", g->bench, g->against);
	else
		snprintf(buf, len, "%s", g->bench);
}

/* A text table of family rows: one line per family, a column per statistic; returns the rows. */
static size_t text_families(const struct compare_result *r, const struct report_groups *gs, const bool *show,
			  bool all, bool ab, bool color, struct sb *out)
{
	bool used[REPORT_GROUP_STATS];
	size_t wb = width("benchmark"), wn = width("metric"), wc[REPORT_GROUP_STATS], rows = 0;
	char cell[160], name[320];

	family_columns(gs, show, all, used);
	for (int k = 0; k < REPORT_GROUP_STATS; k++)
		wc[k] = width(report_group_stats[k]);
	for (size_t i = 0; i < gs->n; i++) {
		const struct report_group *g = &gs->g[i];

		if (!show[i] || !g->family || !family_fits(g, used))
			continue;
		group_label(g, ab, name, sizeof(name));
		wb = width(name) > wb ? width(name) : wb;
		wn = width(g->name) > wn ? width(g->name) : wn;
		for (int k = 0; k < REPORT_GROUP_STATS; k++)
			if (used[k] && g->row[k] != REPORT_GROUP_NONE) {
				family_cell(&r->rows[g->row[k]], cell, sizeof(cell));
				wc[k] = width(cell) > wc[k] ? width(cell) : wc[k];
			}
		rows++;
	}
	if (!rows)
		return 0;
	sb_puts(out, "  ");
	pad(out, "benchmark", wb + 2);
	pad(out, "metric", wn + 2);
	for (int k = 0; k < REPORT_GROUP_STATS; k++)
		if (used[k])
			pad(out, report_group_stats[k], wc[k] + 2);
	sb_puts(out, "verdict\n");
	for (size_t i = 0; i < gs->n; i++) {
		const struct report_group *g = &gs->g[i];
		const struct compare_row *lead;
		const char *col;

		if (!show[i] || !g->family || !family_fits(g, used))
			continue;
		lead = &r->rows[report_group_lead(r, g)];
		col = color ? verdict_color(r, lead) : NULL;
		group_label(g, ab, name, sizeof(name));
		sb_printf(out, "%s ", mark(lead));
		pad(out, name, wb + 2);
		pad(out, g->name, wn + 2);
		for (int k = 0; k < REPORT_GROUP_STATS; k++) {
			if (!used[k])
				continue;
			if (g->row[k] == REPORT_GROUP_NONE)
				cell[0] = '\0';
			else
				family_cell(&r->rows[g->row[k]], cell, sizeof(cell));
			pad(out, cell, wc[k] + 2);
		}
		family_verdict(r, g, cell, sizeof(cell));
		sb_printf(out, "%s%s%s\n", col ? col : "", cell, col ? C_RESET : "");
	}
	return rows;
}

/* Groups shown as single rows: singles, and families with no cell in the columns. */
static size_t single_rows(const struct compare_result *r, const struct report_groups *gs, const bool *show,
			  bool all, size_t *idx)
{
	bool used[REPORT_GROUP_STATS];
	size_t n = 0;

	family_columns(gs, show, all, used);
	for (int k = 0; k <= 2; k++)
		for (size_t i = 0; i < gs->n; i++) {
			const struct report_group *g = &gs->g[i];
			size_t m[REPORT_GROUP_STATS], nm;

			if (!show[i] || (g->family && family_fits(g, used)))
				continue;
			nm = report_group_members(g, m);
			for (size_t j = 0; j < nm; j++)
				if (rank(r, &r->rows[m[j]]) == k)
					idx[n++] = m[j];
		}
	return n;
}

/* The compact view of history (ab false) or A/B rows: key families in one
 * row each, then the key single metrics; returns the rows left out. */
static size_t text_key(const struct compare_result *r, bool ab, bool color, struct sb *out, size_t *shown_rows,
		       size_t *families)
{
	struct report_groups gs;
	bool *show;
	size_t *idx = xcalloc(r->n_rows + 1, sizeof(*idx)), *counts, n, total = 0, shown = 0;

	report_group_rows(r, ab, &gs);
	show = xcalloc(gs.n + 1, sizeof(*show));
	counts = bench_group_counts(r, &gs);
	for (size_t i = 0; i < gs.n; i++) {
		size_t m[REPORT_GROUP_STATS], nm = report_group_members(&gs.g[i], m);

		show[i] = group_is_key(r, &gs.g[i], counts[i]);
		total += nm;
		shown += show[i] ? nm : 0;
	}
	*families = text_families(r, &gs, show, false, ab, color, out);
	n = single_rows(r, &gs, show, false, idx);
	if (n) {
		if (*families)
			sb_putc(out, '\n');
		text_table(r, idx, n, ab, false, color, out);
	}
	*shown_rows = shown;
	free(counts);
	free(idx);
	free(show);
	report_groups_release(&gs);
	return total - shown;
}

/* The numbers behind each failing group: a single row's, a family's lead's
 * (with how many of its statistics fail). */
static void failing_whys(const struct compare_result *r, const struct report_groups *gs, const bool *show,
			 bool markdown, struct sb *out)
{
	for (size_t i = 0; i < gs->n; i++) {
		const struct report_group *g = &gs->g[i];
		size_t m[REPORT_GROUP_STATS], n = report_group_members(g, m), k = 0;
		const struct compare_row *row;

		if (!show[i])
			continue;
		row = &r->rows[report_group_lead(r, g)];
		for (size_t j = 0; j < n; j++)
			k += rank(r, &r->rows[m[j]]) == 0;
		if (!row->v.why[0])
			continue;
		why_line(row, markdown, markdown ? "- " : "  ", out);
		if (g->family)
			sb_printf(out, " (%zu of its %zu statistics fail)", k, n);
		sb_putc(out, '\n');
	}
}

/* Failing groups of the history rows; returns how many. */
static size_t failing_groups(const struct report_groups *gs, bool *show)
{
	size_t n = 0;

	for (size_t i = 0; i < gs->n; i++)
		n += show[i] = gs->g[i].rank == 0;
	return n;
}

/* What fails the gate: families in one row with every statistic, single
 * rows with every column, then the numbers behind each. */
static void text_failing(const struct compare_result *r, const struct report_groups *gs, bool color,
			 struct sb *out)
{
	size_t *idx = xcalloc(r->n_rows + 1, sizeof(*idx)), n;
	bool *show = xcalloc(gs->n + 1, sizeof(*show));

	if (failing_groups(gs, show)) {
		sb_puts(out, "\nFailing the gate:\n");
		size_t fam = text_families(r, gs, show, true, compare_ab_gated(r), color, out);

		if ((n = single_rows(r, gs, show, true, idx))) {
			if (fam)
				sb_putc(out, '\n');
			text_table(r, idx, n, compare_ab_gated(r), true, color, out);
		}
		failing_whys(r, gs, show, false, out);
	}
	free(show);
	free(idx);
}

static void text_head(const struct compare_result *r, bool color, struct sb *out)
{
	char id[16];

	short_id(r->run_id, id, sizeof(id));
	sb_printf(out, "perfgate: suite '%s', run %s", r->suite ? r->suite : "", id);
	if (r->commit)
		sb_printf(out, ", commit %.10s", r->commit);
	if (r->branch)
		sb_printf(out, " on '%s'", r->branch);
	/* not that commit's code: say so first thing */
	if (r->dirty)
		sb_puts(out, ", dirty tree (uncommitted changes: not the commit's code, never a baseline)");
	sb_puts(out, "\nbaseline: ");
	baseline_text(r, false, out);
	sb_putc(out, '\n');
	for (size_t i = 0; i < r->n_notes; i++)
		sb_printf(out, "%swarning:%s %s\n", color ? C_YELLOW : "", color ? C_RESET : "", r->notes[i]);
}

/* The title of the A/B rows: `gate --base` gates them. */
static const char *ab_title(const struct compare_result *r)
{
	return compare_ab_gated(r) ? "Head against base (same job, interleaved, gated)"
				   : "A/B variants (same run, reported, not gated)";
}

/* Every metric, a row each (--verbose, --all). */
static void text_all(const struct compare_result *r, size_t n_hist, size_t n_ab, bool color, struct sb *out)
{
	size_t *idx = xcalloc(r->n_rows + 1, sizeof(*idx)), n;

	if (n_hist) {
		n = ordered(r, false, idx);
		sb_putc(out, '\n');
		text_table(r, idx, n, false, true, color, out);
		/* The numbers behind every verdict that fails or is inconclusive
		 * (too few samples: one line per cause, below). */
		for (size_t i = 0; i < n; i++) {
			const struct compare_row *row = &r->rows[idx[i]];

			if ((rank(r, row) == 0 || row->v.kind == VERDICT_INCONCLUSIVE) && row->v.why[0])
				sb_printf(out, "  %s %s: %s\n", row->bench, row->metric, row->v.why);
		}
	}
	if (n_ab) {
		n = ordered(r, true, idx);
		sb_printf(out, "\n%s:\n", ab_title(r));
		text_table(r, idx, n, true, true, color, out);
	}
	free(idx);
}

static void text_tail(const struct compare_result *r, const struct report_groups *gs, size_t n_hist, bool all,
		      struct sb *out)
{
	struct sb att = SB_INIT;

	if (attention_lines(r, gs, false, !all, &att)) {
		sb_puts(out, "\nNeeds attention (one line per cause):\n");
		sb_puts(out, sb_str(&att));
	}
	sb_release(&att);
	if (r->geomean_n || r->confirm_reps || ((n_hist || compare_ab_gated(r)) && (all || detectable(r))) ||
	    (n_hist && r->n_confirms_base) || r->confirm_base.commit)
		sb_putc(out, '\n');
	if (r->geomean_n) {
		char g[32];

		pct(r->geomean, g, sizeof(g));
		sb_printf(out, "geomean: %s over %zu metric%s (current/baseline; higher-is-better metrics inverted, so + is worse)\n",
			  g, r->geomean_n, r->geomean_n == 1 ? "" : "s");
	}
	if (r->confirm_reps) {
		more_text(r, "measured more", out);
		sb_putc(out, '\n');
	}
	if ((n_hist || compare_ab_gated(r)) && (all || detectable(r))) {
		sb_puts(out, "detects: the smallest change each gated metric would catch 80% of the time at its alpha: ");
		if (all)
			detect_summary(r, false, out);
		else
			detect_range(r, false, out);
		sb_putc(out, '\n');
	}
	if (n_hist && r->n_confirms_base) {
		confirming_text(r, false, out);
		sb_putc(out, '\n');
	}
	if (r->confirm_base.commit) {
		report_confirm_outcome(r, false, out);
		sb_putc(out, '\n');
	}
}

/* ---- names printed as text: one escaping (sb_put_printable) ---- */

/* *s replaced by its printable copy (kept in the list to free). */
static void printable(char **s, char ***keep, size_t *n, size_t *alloc)
{
	if (!*s || (str_control_char(*s) < 0 && utf8_valid(*s, strlen(*s), NULL)))
		return;
	*s = str_printable(*s);
	XGROW(*keep, *alloc, *n + 1);
	(*keep)[(*n)++] = *s;
}

struct report_printable {
	struct compare_result r;
	char **keep;
	size_t n, alloc;
};

struct report_printable *report_printable_new(const struct compare_result *src)
{
	struct report_printable *p = xcalloc(1, sizeof(*p));
	struct compare_result *r = &p->r;

	*r = *src;
	r->rows = xcalloc(src->n_rows + 1, sizeof(*r->rows));
	if (src->n_rows)
		memcpy(r->rows, src->rows, src->n_rows * sizeof(*r->rows));
	r->slos = xcalloc(src->n_slos + 1, sizeof(*r->slos));
	if (src->n_slos)
		memcpy(r->slos, src->slos, src->n_slos * sizeof(*r->slos));
	r->notes = xcalloc(src->n_notes + 1, sizeof(*r->notes));
	if (src->n_notes)
		memcpy(r->notes, src->notes, src->n_notes * sizeof(*r->notes));
	r->failed_benches = xcalloc(src->n_failed_benches + 1, sizeof(*r->failed_benches));
	if (src->n_failed_benches)
		memcpy(r->failed_benches, src->failed_benches, src->n_failed_benches * sizeof(char *));
	r->confirms_base = xcalloc(src->n_confirms_base + 1, sizeof(*r->confirms_base));
	if (src->n_confirms_base)
		memcpy(r->confirms_base, src->confirms_base, src->n_confirms_base * sizeof(char *));
#define P(field) printable(&(field), &p->keep, &p->n, &p->alloc)
	P(r->suite);
	P(r->project);
	P(r->branch);
	P(r->base_branch);
	P(r->base_why);
	P(r->against_base.ref);
	for (size_t i = 0; i < r->n_rows; i++) {
		P(r->rows[i].bench);
		P(r->rows[i].metric);
		P(r->rows[i].unit);
		P(r->rows[i].against);
	}
	for (size_t i = 0; i < r->n_slos; i++) {
		P(r->slos[i].bench);
		P(r->slos[i].key);
		P(r->slos[i].expr);
		P(r->slos[i].why);
	}
	for (size_t i = 0; i < r->n_notes; i++)
		P(r->notes[i]);
	for (size_t i = 0; i < r->n_failed_benches; i++)
		P(r->failed_benches[i]);
	for (size_t i = 0; i < r->n_confirms_base; i++)
		P(r->confirms_base[i]);
#undef P
	return p;
}

const struct compare_result *report_printable_result(const struct report_printable *p)
{
	return &p->r;
}

void report_printable_free(struct report_printable *p)
{
	if (!p)
		return;
	for (size_t i = 0; i < p->n; i++)
		free(p->keep[i]);
	free(p->keep);
	free(p->r.rows);
	free(p->r.slos);
	free(p->r.notes);
	free(p->r.failed_benches);
	free(p->r.confirms_base);
	free(p);
}

static void report_text_printable(const struct compare_result *r, const struct report_options *o, struct sb *out);

void report_text(const struct compare_result *r, const struct report_options *o, struct sb *out)
{
	struct report_printable *p = report_printable_new(r);

	report_text_printable(report_printable_result(p), o, out);
	report_printable_free(p);
}

static void report_text_printable(const struct compare_result *r, const struct report_options *o, struct sb *out)
{
	static const struct report_options defaults = { 0 };
	struct report_groups gs;
	size_t n_hist = 0, n_ab = 0, hidden = 0, shown = 0, fam = 0;

	if (!o)
		o = &defaults;
	for (size_t i = 0; i < r->n_rows; i++) {
		if (r->rows[i].against)
			n_ab++;
		else
			n_hist++;
	}
	report_group_rows(r, compare_ab_gated(r), &gs);
	text_head(r, o->color, out);
	if (o->all) {
		text_all(r, n_hist, n_ab, o->color, out);
		text_slos(r, o->color, out);
	} else {
		text_failing(r, &gs, o->color, out);
		text_slos(r, o->color, out);
		if (n_hist) {
			struct sb key = SB_INIT;

			hidden = text_key(r, false, o->color, &key, &shown, &fam);
			sb_printf(out, "\nMetrics (%zu of %zu%s%s):\n", shown, n_hist,
				  hidden ? ", --verbose shows every one" : "",
				  fam ? "; each family's statistics in one row, with its change" : "");
			sb_puts(out, sb_str(&key));
			sb_release(&key);
		}
		if (n_ab) {
			sb_printf(out, "\n%s:\n", ab_title(r));
			hidden += text_key(r, true, o->color, out, &shown, &fam);
		}
	}
	text_tail(r, &gs, n_hist, o->all, out);
	report_groups_release(&gs);
	sb_putc(out, '\n');
	if (o->color)
		sb_puts(out, r->passed ? C_GREEN C_BOLD : C_RED C_BOLD);
	report_headline(r, out);
	if (o->color)
		sb_puts(out, C_RESET);
	sb_putc(out, '\n');
}

/* ---- Markdown ---- */

/* Markdown table cell text: pipes and newlines would break the table. */
static void md_cell(struct sb *out, const char *s)
{
	for (; *s; s++) {
		if (*s == '|')
			sb_puts(out, "\\|");
		else if (*s == '\n' || *s == '\r')
			sb_putc(out, ' ');
		else if (*s == '<')
			sb_puts(out, "&lt;");
		else
			sb_putc(out, *s);
	}
}

/* Inside a `code span` entities are not decoded: only pipes (tables) and backticks matter. */
static void md_code(struct sb *out, const char *s)
{
	for (; *s; s++) {
		if (*s == '|')
			sb_puts(out, "\\|");
		else if (*s == '`' || *s == '\n' || *s == '\r')
			sb_putc(out, '\'');
		else
			sb_putc(out, *s);
	}
}

/* A link target: what would end it or the line, percent-encoded. */
static void md_url(struct sb *out, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if (c <= ' ' || c == '(' || c == ')' || c == '<' || c == '>' || c == '"' || c == 0x7f)
			sb_printf(out, "%%%02X", c);
		else
			sb_putc(out, (char)c);
	}
}

/*
 * The comment is assembled under a size limit: rows are added while they
 * fit (keeping room for what must end the comment), and the ones left out
 * are counted so that the comment can say where the rest is.
 */
struct md_writer {
	struct sb *out;
	size_t limit;    /* bytes the body may take (characters <= bytes) */
	size_t reserve;  /* kept free for the closing parts */
	size_t dropped;  /* rows left out */
};

/* Append a row if it fits; returns whether it did. */
static bool md_row(struct md_writer *w, const struct sb *row)
{
	if (w->dropped || w->out->len + row->len + w->reserve > w->limit) {
		w->dropped++;
		return false;
	}
	sb_add(w->out, row->buf ? row->buf : "", row->len);
	return true;
}

/* Every column (full), or without the medians and the floor. */
static void md_table_head(bool ab, bool full, struct sb *out)
{
	if (full)
		sb_printf(out, "| | benchmark | metric | %s | current | medians | estimate [CI] | p | floor | detects | verdict |\n"
			       "|---|---|---|---:|---:|---:|---|---:|---:|---:|---|\n", ab ? "reference" : "baseline");
	else
		sb_printf(out, "| | benchmark | metric | %s | current | estimate [CI] | p | detects | verdict |\n"
			       "|---|---|---|---:|---:|---|---:|---:|---|\n", ab ? "reference" : "baseline");
}

static void md_table_row(const struct compare_result *r, const struct compare_row *row, bool full, struct sb *out)
{
	char c[N_COLS][160];

	cells(row, c);
	sb_printf(out, "| %s | ", mark(row));
	md_cell(out, c[0]);
	if (row->against) {
		sb_puts(out, " vs ");
		md_cell(out, row->against);
	}
	sb_puts(out, " | ");
	for (int k = 1; k < N_COLS - 1; k++) {
		if (!full && (col_order[k] == COL_MEDIAN || col_order[k] == COL_FLOOR))
			continue;
		md_cell(out, c[col_order[k]]);
		sb_puts(out, " | ");
	}
	if (compare_row_fails(r, row))
		sb_printf(out, "**%s**", c[6]);
	else
		md_cell(out, c[6]);
	if (!row->settings.gate && (!row->against || compare_ab_gated(r)))
		sb_puts(out, " (not gated)");
	sb_puts(out, " |\n");
}

/* A table of single rows (idx[0..n)), within the budget. */
static void md_table(struct md_writer *w, const struct compare_result *r, const size_t *idx, size_t n, bool full)
{
	struct sb row = SB_INIT;

	if (w->dropped)
		return;
	md_table_head(n && r->rows[idx[0]].against, full, w->out);
	for (size_t i = 0; i < n; i++) {
		sb_reset(&row);
		md_table_row(r, &r->rows[idx[i]], full, &row);
		md_row(w, &row);
	}
	sb_release(&row);
}

/* A table of families (show[] of gs), a column per statistic, within the budget. */
static void md_families(struct md_writer *w, const struct compare_result *r, const struct report_groups *gs,
			const bool *show, bool all, bool ab)
{
	bool used[REPORT_GROUP_STATS];
	struct sb row = SB_INIT;
	size_t rows = 0;
	char cell[160];

	if (w->dropped)
		return;
	family_columns(gs, show, all, used);
	for (size_t i = 0; i < gs->n; i++) {
		const struct report_group *g = &gs->g[i];
		const struct compare_row *lead;

		if (!show[i] || !g->family || !family_fits(g, used))
			continue;
		if (rows++ == 0) {
			sb_puts(w->out, "| | benchmark | metric |");
			for (int k = 0; k < REPORT_GROUP_STATS; k++)
				if (used[k])
					sb_printf(w->out, " %s |", report_group_stats[k]);
			sb_puts(w->out, " detects | verdict |\n|---|---|---|");
			for (int k = 0; k < REPORT_GROUP_STATS; k++)
				if (used[k])
					sb_puts(w->out, "---:|");
			sb_puts(w->out, "---:|---|\n");
		}
		lead = &r->rows[report_group_lead(r, g)];
		sb_reset(&row);
		sb_printf(&row, "| %s | ", mark(lead));
		md_cell(&row, g->bench);
		if (ab) {
			sb_puts(&row, " vs ");
			md_cell(&row, g->against);
		}
		sb_puts(&row, " | ");
		md_cell(&row, g->name);
		sb_puts(&row, " |");
		for (int k = 0; k < REPORT_GROUP_STATS; k++) {
			if (!used[k])
				continue;
			sb_putc(&row, ' ');
			if (g->row[k] != REPORT_GROUP_NONE) {
				family_cell(&r->rows[g->row[k]], cell, sizeof(cell));
				md_cell(&row, cell);
			}
			sb_puts(&row, " |");
		}
		detect_text(lead, cell, sizeof(cell));
		sb_putc(&row, ' ');
		md_cell(&row, cell);
		sb_puts(&row, " | ");
		family_verdict(r, g, cell, sizeof(cell));
		if (g->rank == 0)
			sb_printf(&row, "**%s**", cell);
		else
			md_cell(&row, cell);
		sb_puts(&row, " |\n");
		md_row(w, &row);
	}
	if (rows)
		sb_putc(w->out, '\n');
	sb_release(&row);
}

/* Families and single rows of the groups in show[]; zeros that stayed zero on one line per benchmark. */
static void md_groups(struct md_writer *w, const struct compare_result *r, const struct report_groups *gs,
		      const bool *show, bool all, bool ab)
{
	size_t *idx = xcalloc(r->n_rows + 1, sizeof(*idx)), n;
	bool *loud = xcalloc(gs->n + 1, sizeof(*loud));
	struct sb row = SB_INIT;

	/* Quiet zeros are named, not tabled. */
	for (size_t i = 0; i < gs->n; i++)
		loud[i] = show[i] && !group_quiet(r, &gs->g[i]);
	md_families(w, r, gs, loud, all, ab);
	n = single_rows(r, gs, loud, all, idx);
	if (n) {
		md_table(w, r, idx, n, all);
		sb_putc(w->out, '\n');
	}
	for (size_t i = 0; i < gs->n;) {
		size_t j = i, k = 0;

		if (!show[i] || loud[i]) {
			i++;
			continue;
		}
		sb_reset(&row);
		sb_puts(&row, "0 in both runs, `");
		md_code(&row, gs->g[i].bench);
		sb_puts(&row, "`: ");
		for (; j < gs->n && strcmp(gs->g[j].bench, gs->g[i].bench) == 0; j++)
			if (show[j] && !loud[j]) {
				sb_puts(&row, k++ ? ", " : "");
				md_cell(&row, gs->g[j].name);
			}
		sb_puts(&row, "\n\n");
		md_row(w, &row);
		i = j;
	}
	sb_release(&row);
	free(loud);
	free(idx);
}

/* The heading: the verdict, the run, the links, the geometric mean. */
static void md_head(const struct compare_result *r, const struct report_options *o, struct sb *out)
{
	char id[16];

	short_id(r->run_id, id, sizeof(id));
	sb_printf(out, "### %s perfgate: ", r->passed ? "✅" : "❌");
	{
		struct sb h = SB_INIT;

		report_headline(r, &h);
		md_cell(out, sb_str(&h));
		sb_release(&h);
	}
	sb_puts(out, "\n\nSuite `");
	md_code(out, r->suite ? r->suite : "");
	sb_printf(out, "`, run `%s`", id);
	if (r->commit)
		sb_printf(out, ", commit `%.10s`", r->commit);
	if (r->dirty)
		sb_puts(out, ", **dirty tree** (uncommitted changes: not the commit's code, never a baseline)");
	sb_puts(out, ".");
	if (r->geomean_n) {
		char g[32];

		pct(r->geomean, g, sizeof(g));
		sb_printf(out, " Geometric mean of all %zu compared metrics: **%s** (+ is worse).", r->geomean_n, g);
	}
	if (o->report_url || o->site_url) {
		sb_putc(out, ' ');
		if (o->report_url) {
			sb_puts(out, "[Full report (HTML)](");
			md_url(out, o->report_url);
			sb_puts(out, ")");
		}
		if (o->site_url) {
			sb_puts(out, o->report_url ? " · [history](" : "[History](");
			md_url(out, o->site_url);
			sb_puts(out, ")");
		}
		sb_puts(out, ".");
	}
	sb_puts(out, "\n\n");
}

/* Where the rest is, when rows were left out. */
static void md_cut(const struct compare_result *r, const struct report_options *o, size_t limit, size_t dropped,
		   struct sb *out)
{
	char id[16];

	short_id(r->run_id, id, sizeof(id));
	sb_printf(out, "> **This comment is cut to fit the forge's limit of %zu characters: %zu row%s left out.** ",
		  limit, dropped, dropped == 1 ? " is" : "s are");
	sb_puts(out, "Everything is in ");
	if (o->report_url) {
		sb_puts(out, "the [full report](");
		md_url(out, o->report_url);
		sb_puts(out, ") and in ");
	}
	sb_printf(out, "`perfgate report %s` (the stored comparison, any format).\n\n", id);
}

/* SLO rows: every SLO with its outcome first (all), or only the violated ones without it. */
static void md_slos(struct md_writer *w, const struct compare_result *r, bool all)
{
	struct sb row = SB_INIT;

	for (size_t i = 0; i < r->n_slos; i++) {
		const struct compare_slo *s = &r->slos[i];
		char v[256];

		if (!all && s->ok)
			continue;
		slo_value(s, v, sizeof(v));
		sb_reset(&row);
		sb_puts(&row, "| ");
		if (all)
			sb_printf(&row, "%s | ", s->ok ? "met" : "**violated**");
		md_cell(&row, s->bench);
		sb_puts(&row, " | `");
		md_code(&row, s->key);
		sb_putc(&row, ' ');
		md_code(&row, s->expr);
		sb_puts(&row, "` | ");
		md_cell(&row, v);
		sb_puts(&row, " |\n");
		md_row(w, &row);
	}
	sb_release(&row);
}

/* The top: what fails, the violated SLOs, what needs attention, what changed, what the gate can catch. */
static void md_body(struct md_writer *w, const struct compare_result *r, const struct report_groups *gs)
{
	size_t *idx = xcalloc(r->n_rows + 1, sizeof(*idx)), n = 0, gated = 0;
	bool *show = xcalloc(gs->n + 1, sizeof(*show)), any = false;
	struct sb row = SB_INIT;

	for (size_t i = 0; i < r->n_notes; i++) {
		sb_reset(&row);
		sb_puts(&row, "> **Warning:** ");
		md_cell(&row, r->notes[i]);
		sb_puts(&row, "\n\n");
		md_row(w, &row);
	}
	if (failing_groups(gs, show)) {
		sb_puts(w->out, "**Failing the gate**\n\n");
		md_families(w, r, gs, show, true, compare_ab_gated(r));
		if ((n = single_rows(r, gs, show, true, idx))) {
			md_table(w, r, idx, n, true);
			sb_putc(w->out, '\n');
		}
		sb_reset(&row);
		failing_whys(r, gs, show, true, &row);
		/* a line each, within the budget */
		for (const char *p = sb_str(&row), *e; *p; p = e + 1) {
			struct sb line = SB_INIT;

			e = strchr(p, '\n');
			sb_add(&line, p, (size_t)(e - p + 1));
			md_row(w, &line);
			sb_release(&line);
		}
		sb_putc(w->out, '\n');
	}
	if (r->slo_failed && !w->dropped) {
		sb_puts(w->out, "**SLOs violated**\n\n| benchmark | SLO | actual |\n|---|---|---:|\n");
		md_slos(w, r, false);
		sb_putc(w->out, '\n');
	}
	sb_reset(&row);
	if (attention_lines(r, gs, true, true, &row) && !w->dropped) {
		sb_puts(w->out, "**Needs attention**\n\n");
		md_row(w, &row);
		sb_putc(w->out, '\n');
	}
	/* What changed and is not above: a failing group is shown there. */
	for (size_t i = 0; i < gs->n; i++)
		any |= show[i] = group_changed(r, &gs->g[i]) && gs->g[i].rank != 0;
	gated = gated_count(r);
	if (any && !w->dropped) {
		sb_puts(w->out, "**Changed** (a family's statistics in one row, each with its change against the baseline)\n\n");
		md_groups(w, r, gs, show, false, compare_ab_gated(r));
	} else if (gated && r->counts[VERDICT_NO_BASELINE] < gated) {
		sb_puts(w->out, "No metric changed significantly.\n\n");
	}
	if (detectable(r)) {
		sb_puts(w->out, "**What this gate can catch** (80% of the time, at its alpha): changes of ");
		detect_range(r, true, w->out);
		sb_puts(w->out, ".\n\n");
	}
	if (r->n_confirms_base) {
		confirming_text(r, true, w->out);
		sb_puts(w->out, ".\n\n");
	}
	if (r->confirm_base.commit) {
		report_confirm_outcome(r, true, w->out);
		sb_puts(w->out, ".\n\n");
	}
	sb_release(&row);
	free(show);
	free(idx);
}

/* Everything else, collapsed: every metric, the A/B variants, the SLOs, the baseline. */
static void md_details(struct md_writer *w, const struct compare_result *r, const struct report_groups *gs,
		       size_t n_hist)
{
	bool *show;
	struct report_groups ab;

	if (n_hist && !w->dropped) {
		show = xcalloc(gs->n + 1, sizeof(*show));
		for (size_t i = 0; i < gs->n; i++)
			show[i] = true;
		sb_printf(w->out, "<details><summary>All %zu metrics</summary>\n\n", n_hist);
		md_groups(w, r, gs, show, true, false);
		sb_puts(w->out, "</details>\n\n");
		free(show);
	}
	report_group_rows(r, true, &ab);
	if (ab.n && !w->dropped) {
		size_t rows = 0;

		show = xcalloc(ab.n + 1, sizeof(*show));
		for (size_t i = 0; i < ab.n; i++) {
			size_t m[REPORT_GROUP_STATS];

			show[i] = true;
			rows += report_group_members(&ab.g[i], m);
		}
		sb_printf(w->out, compare_ab_gated(r) ? "<details><summary>Head against base (%zu, same job, interleaved, "
							"gated)</summary>\n\n"
						      : "<details><summary>A/B variants (%zu, reported, not gated)</summary>\n\n",
			  rows);
		md_groups(w, r, &ab, show, true, true);
		sb_puts(w->out, "</details>\n\n");
		free(show);
	}
	report_groups_release(&ab);
	if (r->n_slos && !w->dropped) {
		sb_printf(w->out, "<details><summary>SLOs (%zu)</summary>\n\n| | benchmark | SLO | actual |\n|---|---|---|---:|\n",
			  r->n_slos);
		md_slos(w, r, true);
		sb_puts(w->out, "\n</details>\n\n");
	}
}

static void report_markdown_printable(const struct compare_result *r, const struct report_options *o,
				     struct sb *out);

void report_markdown(const struct compare_result *r, const struct report_options *o, struct sb *out)
{
	struct report_printable *p = report_printable_new(r);

	report_markdown_printable(report_printable_result(p), o, out);
	report_printable_free(p);
}

static void report_markdown_printable(const struct compare_result *r, const struct report_options *o,
				     struct sb *out)
{
	static const struct report_options defaults = { 0 };
	struct report_groups gs;
	struct sb head = SB_INIT, body = SB_INIT, tail = SB_INIT, cut = SB_INIT;
	struct md_writer w;
	size_t n_hist = 0, limit;

	if (!o)
		o = &defaults;
	/* By default the forge's limit, less room for the marker line the comment starts with. */
	limit = o->limit ? o->limit : REPORT_MARKDOWN_LIMIT - REPORT_MARKDOWN_MARGIN;
	for (size_t i = 0; i < r->n_rows; i++)
		n_hist += !r->rows[i].against;
	report_group_rows(r, compare_ab_gated(r), &gs);
	md_head(r, o, &head);
	sb_puts(&tail, "<details><summary>Baseline</summary>\n\n");
	baseline_text(r, true, &tail);
	sb_puts(&tail, ".\n");
	if (r->confirm_reps) {
		sb_putc(&tail, '\n');
		more_text(r, "Measured more", &tail);
		sb_puts(&tail, ".\n");
	}
	sb_puts(&tail, "\n</details>\n");
	/* Room for the head, the tail, the notice and the closing lines of open sections. */
	md_cut(r, o, o->limit ? o->limit : REPORT_MARKDOWN_LIMIT, 999999999, &cut);
	w = (struct md_writer){ .out = &body, .limit = limit, .reserve = head.len + tail.len + cut.len + 512 };
	md_body(&w, r, &gs);
	md_details(&w, r, &gs, n_hist);
	sb_puts(out, sb_str(&head));
	if (w.dropped) {
		sb_reset(&cut);
		md_cut(r, o, o->limit ? o->limit : REPORT_MARKDOWN_LIMIT, w.dropped, &cut);
		sb_puts(out, sb_str(&cut));
	}
	sb_puts(out, sb_str(&body));
	sb_puts(out, sb_str(&tail));
	report_groups_release(&gs);
	sb_release(&head);
	sb_release(&body);
	sb_release(&tail);
	sb_release(&cut);
}

/* ---- JSON ---- */

static void add_num(cJSON *o, const char *k, double v)
{
	if (isfinite(v))
		cJSON_AddNumberToObject(o, k, v);
	else
		cJSON_AddNullToObject(o, k);
}

static void add_str(cJSON *o, const char *k, const char *v)
{
	if (v)
		cJSON_AddStringToObject(o, k, v);
	else
		cJSON_AddNullToObject(o, k);
}

static cJSON *strv_json(char *const *v, size_t n)
{
	cJSON *a = cJSON_CreateArray();

	for (size_t i = 0; i < n; i++)
		cJSON_AddItemToArray(a, v[i] ? cJSON_CreateString(v[i]) : cJSON_CreateNull());
	return a;
}

/* One row of the JSON form (schemas/compare.schema.json, $defs.row). */
static cJSON *row_json(const struct compare_result *r, const struct compare_row *row)
{
	const struct verdict *v = &row->v;
	cJSON *jr = cJSON_CreateObject(), *side;

	add_str(jr, "benchmark", row->bench);
	add_str(jr, "metric", row->metric);
	add_str(jr, "unit", row->unit);
	add_str(jr, "against", row->against);
	cJSON_AddStringToObject(jr, "verdict", verdict_name(v->kind));
	cJSON_AddBoolToObject(jr, "gate", compare_row_gates(r, row));
	cJSON_AddBoolToObject(jr, "fails", compare_row_fails(r, row));
	cJSON_AddStringToObject(jr, "direction", rundoc_direction_name(v->direction));
	add_num(jr, "alpha", row->settings.alpha);
	add_num(jr, "min_effect", row->settings.min_effect);
	add_num(jr, "p", v->p);
	add_num(jr, "p_adjusted", v->p_adj);
	add_num(jr, "p_better", v->p_better);
	add_num(jr, "p_better_adjusted", v->p_better_adj);
	add_num(jr, "p_min", v->p_min);
	cJSON_AddBoolToObject(jr, "exact", v->exact);
	add_num(jr, "ratio", v->ratio);
	add_num(jr, "ratio_low", v->ratio_lo);
	add_num(jr, "ratio_high", v->ratio_hi);
	cJSON_AddBoolToObject(jr, "ratio_is_difference", v->ratio_is_shift);
	add_num(jr, "floor", v->floor);
	add_num(jr, "spread", v->spread);
	cJSON_AddStringToObject(jr, "floor_source", noise_floor_source_name((enum noise_floor_source)v->floor_source));
	cJSON_AddBoolToObject(jr, "short_history", v->short_history);
	cJSON_AddBoolToObject(jr, "machine_prior", v->prior_machine);
	cJSON_AddStringToObject(jr, "test", verdict_test_name(v->test));
	if (v->test == VERDICT_TEST_SIGNED_RANK && v->far_set_aside)
		cJSON_AddNumberToObject(jr, "pairs_set_aside", (double)v->n_far);
	cJSON_AddBoolToObject(jr, "batches", v->batches);
	add_num(jr, "level", v->level);
	add_num(jr, "median_change", v->median_change);
	add_num(jr, "detectable_effect", v->mde);
	add_str(jr, "hint", row->hint);
	if (row->hint_always)
		cJSON_AddBoolToObject(jr, "hint_always", true);
	if (row->unconfirmed)
		cJSON_AddBoolToObject(jr, "unconfirmed", true);
	side = cJSON_AddObjectToObject(jr, "baseline");
	add_num(side, "median", v->base_median);
	add_num(side, "ci_low", v->base_lo);
	add_num(side, "ci_high", v->base_hi);
	cJSON_AddNumberToObject(side, "n", (double)v->n_base);
	cJSON_AddNumberToObject(side, "runs", (double)v->n_runs);
	cJSON_AddItemToObject(side, "run_ids", strv_json(row->base_runs, row->n_base_runs));
	cJSON_AddItemToObject(side, "commits", strv_json(row->base_commits, row->n_base_runs));
	side = cJSON_AddObjectToObject(jr, "current");
	add_num(side, "median", v->cur_median);
	add_num(side, "ci_low", v->cur_lo);
	add_num(side, "ci_high", v->cur_hi);
	cJSON_AddNumberToObject(side, "n", (double)v->n_cur);
	cJSON_AddStringToObject(jr, "why", v->why);
	return jr;
}

cJSON *report_to_json(const struct compare_result *r)
{
	cJSON *root = cJSON_CreateObject(), *o, *rows, *slos, *counts;
	struct sb line = SB_INIT;

	cJSON_AddNumberToObject(root, "schema_version", COMPARE_SCHEMA_VERSION);
	add_str(root, "run_id", r->run_id);
	add_str(root, "project", r->project);
	add_str(root, "suite", r->suite);
	add_str(root, "commit", r->commit);
	cJSON_AddBoolToObject(root, "dirty", r->dirty);
	add_str(root, "branch", r->branch);
	cJSON_AddBoolToObject(root, "passed", r->passed);
	cJSON_AddBoolToObject(root, "strict", r->strict);
	report_summary_line(r, &line);
	cJSON_AddStringToObject(root, "summary", sb_str(&line));
	sb_release(&line);
	counts = cJSON_AddObjectToObject(root, "counts");
	for (int k = 0; k <= VERDICT_NO_BASELINE; k++)
		cJSON_AddNumberToObject(counts, verdict_name((enum verdict_kind)k), (double)r->counts[k]);
	cJSON_AddNumberToObject(root, "slo_failed", (double)r->slo_failed);
	cJSON_AddNumberToObject(root, "confirm_repetitions", (double)r->confirm_reps);
	cJSON_AddNumberToObject(root, "looks", (double)(r->looks ? r->looks : 1));
	add_num(root, "extra_seconds", r->extra_seconds);
	cJSON_AddBoolToObject(root, "budget_spent", r->budget_spent);
	if (r->stored_as) {
		cJSON_AddStringToObject(root, "stored", r->stored_as > 0 ? "baseline-eligible" : "never-baseline");
		if (r->not_baseline)
			cJSON_AddStringToObject(root, "not_baseline", r->not_baseline);
	}
	o = cJSON_AddObjectToObject(root, "geomean");
	add_num(o, "ratio", r->geomean_n ? r->geomean : NAN);
	cJSON_AddNumberToObject(o, "metrics", (double)r->geomean_n);
	o = cJSON_AddObjectToObject(root, "baseline");
	add_str(o, "mode", r->base_mode);
	add_str(o, "branch", r->base_branch);
	add_str(o, "anchor", r->base_anchor);
	add_str(o, "why", r->base_why);
	cJSON_AddItemToObject(o, "commits", strv_json(r->base_commits, r->n_base_commits));
	cJSON_AddNumberToObject(o, "runs", (double)r->base_runs);
	cJSON_AddNumberToObject(o, "samples", (double)r->base_samples);
	if (compare_ab_gated(r)) {
		o = cJSON_AddObjectToObject(root, "against_base");
		add_str(o, "ref", r->against_base.ref);
		add_str(o, "commit", r->against_base.commit);
		cJSON_AddBoolToObject(o, "merge_base", r->against_base.merge_base);
	}
	if (r->confirm_base.commit) {
		o = cJSON_AddObjectToObject(root, "confirm_base");
		add_str(o, "commit", r->confirm_base.commit);
		cJSON_AddNumberToObject(o, "confirmed", (double)r->confirm_base.confirmed);
		cJSON_AddNumberToObject(o, "unconfirmed", (double)r->confirm_base.unconfirmed);
		cJSON_AddNumberToObject(o, "revealed", (double)r->confirm_base.revealed);
		cJSON_AddNumberToObject(o, "cleared", (double)r->confirm_base.cleared);
		add_num(o, "seconds", r->confirm_base.seconds);
	}
	cJSON_AddItemToObject(root, "notes", strv_json(r->notes, r->n_notes));
	cJSON_AddItemToObject(root, "failed_benchmarks", strv_json(r->failed_benches, r->n_failed_benches));
	if (r->n_confirms_base)
		cJSON_AddItemToObject(root, "confirms_base", strv_json(r->confirms_base, r->n_confirms_base));
	rows = cJSON_AddArrayToObject(root, "rows");
	for (size_t i = 0; i < r->n_rows; i++)
		cJSON_AddItemToArray(rows, row_json(r, &r->rows[i]));
	slos = cJSON_AddArrayToObject(root, "slos");
	for (size_t i = 0; i < r->n_slos; i++) {
		const struct compare_slo *s = &r->slos[i];
		cJSON *js = cJSON_CreateObject();

		add_str(js, "benchmark", s->bench);
		add_str(js, "key", s->key);
		add_str(js, "expr", s->expr);
		add_str(js, "unit", s->unit);
		cJSON_AddBoolToObject(js, "ok", s->ok);
		add_num(js, "actual", s->actual);
		add_str(js, "why", s->why);
		cJSON_AddItemToArray(slos, js);
	}
	return root;
}

void report_json(const struct compare_result *r, struct sb *out)
{
	cJSON *j = report_to_json(r);
	char *s = cJSON_Print(j);

	sb_puts(out, s);
	sb_putc(out, '\n');
	free(s);
	cJSON_Delete(j);
}

/* Readers for report_from_json, over json_peek: a missing or mistyped
 * member gives the default (a copy of a string, NAN, 0, false, none). */
static char *peek_dup(const cJSON *o, const char *k)
{
	const char *s = json_peek_str(o, k);

	return s ? xstrdup(s) : NULL;
}

static size_t peek_size(const cJSON *o, const char *k)
{
	double d = json_peek_num(o, k, NAN);

	return isfinite(d) && d >= 0 ? (size_t)d : 0;
}

static char **peek_strv(const cJSON *o, const char *k, size_t *n)
{
	const cJSON *a = json_peek(o, k), *it;
	char **v;
	size_t i = 0;

	*n = 0;
	if (!cJSON_IsArray(a) || cJSON_GetArraySize(a) == 0)
		return NULL;
	v = xcalloc((size_t)cJSON_GetArraySize(a), sizeof(*v));
	cJSON_ArrayForEach(it, a)
		v[i++] = cJSON_IsString(it) ? xstrdup(it->valuestring) : NULL;
	*n = i;
	return v;
}

/* One side ("baseline" or "current") of a row's verdict. */
static void side_from_json(const cJSON *side, double *median, double *lo, double *hi, size_t *n)
{
	*median = json_peek_num(side, "median", NAN);
	*lo = json_peek_num(side, "ci_low", NAN);
	*hi = json_peek_num(side, "ci_high", NAN);
	*n = peek_size(side, "n");
}

/* Names back to values; comparisons stored before they were recorded read
 * as the rank-sum test with the floor from min_effect or the spread. */
static enum verdict_test test_from_name(const char *name)
{
	for (int t = VERDICT_TEST_RANK_SUM; t <= VERDICT_TEST_EXACT; t++)
		if (name && strcmp(name, verdict_test_name((enum verdict_test)t)) == 0)
			return (enum verdict_test)t;
	return VERDICT_TEST_RANK_SUM;
}

static int floor_source_from_name(const char *name)
{
	for (int f = NOISE_FLOOR_MIN_EFFECT; f <= NOISE_FLOOR_MACHINE; f++)
		if (name && strcmp(name, noise_floor_source_name((enum noise_floor_source)f)) == 0)
			return f;
	return NOISE_FLOOR_MIN_EFFECT;
}

/* rows[i] into row; ERR_INPUT when it lacks what every row has. */
static int row_from_json(const cJSON *it, size_t i, struct compare_row *row, struct err *err)
{
	struct verdict *v = &row->v;
	const cJSON *side = json_peek(it, "baseline");
	const char *verdict = json_peek_str(it, "verdict");
	const char *dir = json_peek_str(it, "direction");
	const char *why = json_peek_str(it, "why");
	int k = verdict ? compare_verdict_from_name(verdict) : -1;
	size_t n_commits;

	row->bench = peek_dup(it, "benchmark");
	row->metric = peek_dup(it, "metric");
	row->unit = peek_dup(it, "unit");
	row->against = peek_dup(it, "against");
	if (k < 0 || !row->bench || !row->metric || !row->unit)
		return err_set(err, ERR_INPUT, "comparison rows[%zu]: missing benchmark, metric, unit or verdict", i);
	v->kind = (enum verdict_kind)k;
	row->settings.gate = json_peek_true(it, "gate");
	row->settings.alpha = json_peek_num(it, "alpha", NAN);
	row->settings.min_effect = json_peek_num(it, "min_effect", NAN);
	v->direction = dir && strcmp(dir, "higher") == 0 ? RD_HIGHER : RD_LOWER;
	row->settings.direction = (int)v->direction;
	v->gate = row->settings.gate;
	v->p = json_peek_num(it, "p", NAN);
	v->p_adj = json_peek_num(it, "p_adjusted", NAN);
	v->p_better = json_peek_num(it, "p_better", NAN);
	v->p_better_adj = json_peek_num(it, "p_better_adjusted", NAN);
	v->p_min = json_peek_num(it, "p_min", NAN);
	v->exact = json_peek_true(it, "exact");
	v->ratio = json_peek_num(it, "ratio", NAN);
	v->ratio_lo = json_peek_num(it, "ratio_low", NAN);
	v->ratio_hi = json_peek_num(it, "ratio_high", NAN);
	v->ratio_is_shift = json_peek_true(it, "ratio_is_difference");
	v->floor = json_peek_num(it, "floor", NAN);
	v->spread = json_peek_num(it, "spread", NAN);
	v->floor_source = floor_source_from_name(json_peek_str(it, "floor_source"));
	v->short_history = json_peek_true(it, "short_history");
	v->prior_machine = json_peek_true(it, "machine_prior");
	v->test = test_from_name(json_peek_str(it, "test"));
	v->n_far = peek_size(it, "pairs_set_aside");
	v->far_set_aside = v->n_far > 0;
	v->batches = json_peek_true(it, "batches");
	v->level = json_peek_num(it, "level", row->settings.alpha);
	v->median_change = json_peek_num(it, "median_change", NAN);
	v->mde = json_peek_num(it, "detectable_effect", NAN);
	row->hint = peek_dup(it, "hint");
	row->hint_always = row->hint && json_peek_true(it, "hint_always");
	row->unconfirmed = json_peek_true(it, "unconfirmed");
	side_from_json(side, &v->base_median, &v->base_lo, &v->base_hi, &v->n_base);
	v->n_runs = peek_size(side, "runs");
	row->base_runs = peek_strv(side, "run_ids", &row->n_base_runs);
	row->base_commits = peek_strv(side, "commits", &n_commits);
	if (n_commits != row->n_base_runs) {
		/* Keep the two arrays the same length; the free path relies on it. */
		for (size_t c = 0; c < n_commits; c++)
			free(row->base_commits[c]);
		free(row->base_commits);
		row->base_commits = row->n_base_runs ? xcalloc(row->n_base_runs, sizeof(char *)) : NULL;
	}
	side_from_json(json_peek(it, "current"), &v->cur_median, &v->cur_lo, &v->cur_hi, &v->n_cur);
	if (why)
		snprintf(v->why, sizeof(v->why), "%s", why);
	return 0;
}

/* slos[i] into s; ERR_INPUT when it lacks what every SLO has. */
static int slo_from_json(const cJSON *it, size_t i, struct compare_slo *s, struct err *err)
{
	s->bench = peek_dup(it, "benchmark");
	s->key = peek_dup(it, "key");
	s->expr = peek_dup(it, "expr");
	s->unit = peek_dup(it, "unit");
	s->ok = json_peek_true(it, "ok");
	s->actual = json_peek_num(it, "actual", NAN);
	s->why = peek_dup(it, "why");
	if (!s->bench || !s->key || !s->expr)
		return err_set(err, ERR_INPUT, "comparison slos[%zu]: missing benchmark, key or expr", i);
	return 0;
}

/* The run and baseline members of the top level. */
static void head_from_json(const cJSON *json, struct compare_result *r)
{
	const cJSON *o = json_peek(json, "baseline");

	r->run_id = peek_dup(json, "run_id");
	r->project = peek_dup(json, "project");
	r->suite = peek_dup(json, "suite");
	r->commit = peek_dup(json, "commit");
	r->dirty = json_peek_true(json, "dirty");
	r->branch = peek_dup(json, "branch");
	r->strict = json_peek_true(json, "strict");
	r->confirm_reps = peek_size(json, "confirm_repetitions");
	r->looks = peek_size(json, "looks");
	r->extra_seconds = json_peek_num(json, "extra_seconds", 0);
	r->budget_spent = json_peek_true(json, "budget_spent");
	if (json_peek_str(json, "stored"))
		r->stored_as = strcmp(json_peek_str(json, "stored"), "baseline-eligible") == 0 ? 1 : -1;
	r->not_baseline = peek_dup(json, "not_baseline");
	r->base_mode = peek_dup(o, "mode");
	r->base_branch = peek_dup(o, "branch");
	r->base_anchor = peek_dup(o, "anchor");
	r->base_why = peek_dup(o, "why");
	r->base_commits = peek_strv(o, "commits", &r->n_base_commits);
	r->base_runs = peek_size(o, "runs");
	r->base_samples = peek_size(o, "samples");
	o = json_peek(json, "against_base");
	r->against_base.ref = peek_dup(o, "ref");
	r->against_base.commit = peek_dup(o, "commit");
	r->against_base.merge_base = json_peek_true(o, "merge_base");
	o = json_peek(json, "confirm_base");
	r->confirm_base.commit = peek_dup(o, "commit");
	r->confirm_base.confirmed = peek_size(o, "confirmed");
	r->confirm_base.unconfirmed = peek_size(o, "unconfirmed");
	r->confirm_base.revealed = peek_size(o, "revealed");
	r->confirm_base.cleared = peek_size(o, "cleared");
	r->confirm_base.seconds = json_peek_num(o, "seconds", 0);
	r->notes = peek_strv(json, "notes", &r->n_notes);
	r->failed_benches = peek_strv(json, "failed_benchmarks", &r->n_failed_benches);
	r->confirms_base = peek_strv(json, "confirms_base", &r->n_confirms_base);
}

int report_from_json(const cJSON *json, struct compare_result **out, struct err *err)
{
	const cJSON *rows = json_peek(json, "rows"), *slos = json_peek(json, "slos"), *it;
	double version = json_peek_num(json, "schema_version", NAN);
	struct compare_result *r = NULL;
	int rc = 0;

	*out = NULL;
	if (!cJSON_IsArray(rows))
		return err_set(err, ERR_INPUT, "not a perfgate comparison (no \"rows\" array)");
	if (version != COMPARE_SCHEMA_VERSION)
		return err_set(err, ERR_INPUT, "comparison schema_version %g is not %d", version,
			       COMPARE_SCHEMA_VERSION);
	r = xcalloc(1, sizeof(*r));
	head_from_json(json, r);
	r->rows = xcalloc((size_t)cJSON_GetArraySize(rows) + 1, sizeof(*r->rows));
	cJSON_ArrayForEach(it, rows) {
		/* Counted before it is filled: the free path releases a half-read row. */
		struct compare_row *row = &r->rows[r->n_rows++];

		if ((rc = row_from_json(it, r->n_rows - 1, row, err)) < 0)
			goto done;
	}
	if (cJSON_IsArray(slos) && cJSON_GetArraySize(slos) > 0) {
		r->slos = xcalloc((size_t)cJSON_GetArraySize(slos), sizeof(*r->slos));
		cJSON_ArrayForEach(it, slos) {
			struct compare_slo *s = &r->slos[r->n_slos++];

			if ((rc = slo_from_json(it, r->n_slos - 1, s, err)) < 0)
				goto done;
		}
	}
	compare_finish(r);
	*out = r;
	r = NULL;
done:
	compare_result_free(r);
	return rc;
}

/* ---- JUnit XML ---- */

/* XML 1.0 text or attribute: escape markup, drop characters XML forbids. */
static void xml_text(struct sb *out, const char *s)
{
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;

		switch (c) {
		case '&':
			sb_puts(out, "&amp;");
			break;
		case '<':
			sb_puts(out, "&lt;");
			break;
		case '>':
			sb_puts(out, "&gt;");
			break;
		case '"':
			sb_puts(out, "&quot;");
			break;
		case '\'':
			sb_puts(out, "&apos;");
			break;
		case '\t':
		case '\n':
		case '\r':
			sb_putc(out, (char)c);
			break;
		default:
			if (c >= 0x20)
				sb_putc(out, (char)c);
		}
	}
}

/* The one-line message of a row: verdict and the numbers behind it. */
static void junit_row_message(const struct compare_row *row, struct sb *m)
{
	char c[N_COLS][160];

	cells(row, c);
	if (isfinite(row->v.mde) && row->v.mde > VERDICT_MDE_FLAG)
		snprintf(c[COL_DETECT], sizeof(c[COL_DETECT]), "%.0f%% or more (over %.0f%%: not worth gating as configured)",
			 fmin(row->v.mde, 10) * 100, VERDICT_MDE_FLAG * 100);
	sb_printf(m, "%s: baseline %s, current %s, medians %s, estimate %s, p %s, floor %s, detects changes of %s",
		  c[6], c[2], c[3], c[COL_MEDIAN], c[4], c[5], c[COL_FLOOR], c[COL_DETECT]);
	if (row->hint)
		sb_printf(m, "; %s", row->hint);
}

/* <testcase classname="perfgate-suite.bench" name="NAME"> */
static void junit_case_open(struct sb *out, const char *suite, const char *bench, const char *name_prefix,
			    const char *name, const char *name_suffix)
{
	sb_puts(out, "    <testcase classname=\"");
	xml_text(out, suite);
	sb_putc(out, '.');
	xml_text(out, bench);
	sb_puts(out, "\" name=\"");
	sb_puts(out, name_prefix);
	xml_text(out, name);
	if (name_suffix) {
		sb_putc(out, ' ');
		xml_text(out, name_suffix);
	}
	sb_puts(out, "\">\n");
}

/* One gated metric: a failure, a skip (no baseline yet) or a pass. */
static void junit_row(const struct compare_result *r, const struct compare_row *row, const char *suite,
		      struct sb *out)
{
	struct sb msg = SB_INIT;

	junit_row_message(row, &msg);
	if (row->against) { /* gate --base: "cpu vs x@base" */
		char *vs = xasprintf("vs %s", row->against);

		junit_case_open(out, suite, row->bench, "", row->metric, vs);
		free(vs);
	} else {
		junit_case_open(out, suite, row->bench, "", row->metric, NULL);
	}
	if (compare_row_fails(r, row)) {
		sb_puts(out, "      <failure type=\"");
		xml_text(out, verdict_name(row->v.kind));
		sb_puts(out, "\" message=\"");
		xml_text(out, sb_str(&msg));
		sb_puts(out, "\">");
		xml_text(out, row->v.why);
		sb_puts(out, "</failure>\n");
	} else if (row->v.kind == VERDICT_NO_BASELINE) {
		sb_puts(out, "      <skipped message=\"no baseline yet: first run of this benchmark and metric\"/>\n");
	} else {
		sb_puts(out, "      <system-out>");
		xml_text(out, sb_str(&msg));
		if (row->v.why[0]) {
			sb_puts(out, "\n");
			xml_text(out, row->v.why);
		}
		sb_puts(out, "</system-out>\n");
	}
	sb_puts(out, "    </testcase>\n");
	sb_release(&msg);
}

/* One SLO: a failure when violated, else its actual value. */
static void junit_slo(const struct compare_slo *s, const char *suite, struct sb *out)
{
	char v[64];

	report_format_value(s->actual, s->unit, v, sizeof(v));
	junit_case_open(out, suite, s->bench, "slo ", s->key, s->expr);
	if (!s->ok) {
		sb_puts(out, "      <failure type=\"slo\" message=\"SLO violated: ");
		xml_text(out, s->key);
		sb_putc(out, ' ');
		xml_text(out, s->expr);
		sb_puts(out, ", actual ");
		xml_text(out, v);
		sb_puts(out, "\">");
		xml_text(out, s->why);
		sb_puts(out, "</failure>\n");
	} else {
		sb_puts(out, "      <system-out>actual ");
		xml_text(out, v);
		sb_puts(out, "</system-out>\n");
	}
	sb_puts(out, "    </testcase>\n");
}

/* <property name="NAME" value="VALUE"/> */
static void junit_property(struct sb *out, const char *name, const char *value)
{
	sb_printf(out, "      <property name=\"%s\" value=\"", name);
	xml_text(out, value);
	sb_puts(out, "\"/>\n");
}

void report_junit(const struct compare_result *r, struct sb *out)
{
	size_t tests = 0, failures = 0, skipped = 0;
	const char *suite = r->suite ? r->suite : "";
	struct sb line = SB_INIT;

	for (size_t i = 0; i < r->n_rows; i++) {
		const struct compare_row *row = &r->rows[i];

		if (!compare_row_gates(r, row))
			continue;
		tests++;
		failures += compare_row_fails(r, row);
		skipped += row->v.kind == VERDICT_NO_BASELINE;
	}
	tests += r->n_slos;
	failures += r->slo_failed;
	sb_puts(out, "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n");
	sb_printf(out, "<testsuites name=\"perfgate\" tests=\"%zu\" failures=\"%zu\" errors=\"0\" skipped=\"%zu\">\n",
		  tests, failures, skipped);
	sb_puts(out, "  <testsuite name=\"perfgate.");
	xml_text(out, suite);
	sb_printf(out, "\" tests=\"%zu\" failures=\"%zu\" errors=\"0\" skipped=\"%zu\">\n", tests, failures, skipped);
	sb_puts(out, "    <properties>\n");
	junit_property(out, "run_id", r->run_id);
	if (r->commit)
		junit_property(out, "commit", r->commit);
	report_summary_line(r, &line);
	junit_property(out, "summary", sb_str(&line));
	sb_release(&line);
	sb_puts(out, "    </properties>\n");
	for (size_t i = 0; i < r->n_rows; i++)
		if (compare_row_gates(r, &r->rows[i]))
			junit_row(r, &r->rows[i], suite, out);
	for (size_t i = 0; i < r->n_slos; i++)
		junit_slo(&r->slos[i], suite, out);
	sb_puts(out, "  </testsuite>\n</testsuites>\n");
}

void report_render(const struct compare_result *r, enum report_format f, const struct report_options *o,
		   struct sb *out)
{
	switch (f) {
	case REPORT_TEXT:
		report_text(r, o, out);
		break;
	case REPORT_MARKDOWN:
		report_markdown(r, o, out);
		break;
	case REPORT_JSON:
		report_json(r, out);
		break;
	case REPORT_JUNIT:
		report_junit(r, out);
		break;
	case REPORT_HTML: {
		struct report_html_options ho = REPORT_HTML_OPTIONS_INIT;

		if (o) {
			ho.run = o->run;
			ho.baseline = o->baseline;
			ho.site_url = o->site_url;
			ho.warnings = o->warnings;
			ho.history = o->history;
			ho.n_history = o->n_history;
		}
		report_html(r, &ho, out);
		break;
	}
	}
}

void report_row_cells(const struct compare_row *row, struct report_cells *out)
{
	char c[N_COLS][160];

	cells(row, c);
	snprintf(out->baseline, sizeof(out->baseline), "%s", c[2]);
	snprintf(out->current, sizeof(out->current), "%s", c[3]);
	snprintf(out->change, sizeof(out->change), "%s", c[4]);
	snprintf(out->p, sizeof(out->p), "%s", c[5]);
	snprintf(out->medians, sizeof(out->medians), "%s", c[COL_MEDIAN]);
	snprintf(out->floor, sizeof(out->floor), "%s", c[COL_FLOOR]);
	snprintf(out->detects, sizeof(out->detects), "%s", c[COL_DETECT]);
	out->verdict = verdict_name(row->v.kind);
}

void report_ratio_text(double ratio, char *buf, size_t len)
{
	pct(ratio, buf, len);
}

int report_row_rank(const struct compare_result *r, const struct compare_row *row)
{
	return rank(r, row);
}

const char *report_row_mark(const struct compare_row *row)
{
	return mark(row);
}

void report_baseline_text(const struct compare_result *r, bool markdown, struct sb *out)
{
	baseline_text(r, markdown, out);
}
