/*
 * site.c: the history site's pages and manifest (see site.h).  Numbers are
 * formatted by report_format_value(), as in every report.
 */
#include "site.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "html.h"
#include "json.h"
#include "plot.h"
#include "report.h"

#define SITE_VERSION 1
#define TREND_WIDTH 960
#define TREND_HEIGHT 420
#define SPARK_W 120
#define SPARK_H 24
#define BASE_RUNS 5        /* runs in the baseline band, as `plot trend` draws it */
#define RECENT_CP 10       /* a change point this many runs back or fewer is news */
#define SPARK_MIN_SPAN 0.1 /* an index sparkline's box spans at least 10% of its level */

static void esc(struct sb *out, const char *s)
{
	html_escape(out, s);
}

static void badge(struct sb *out, const char *word)
{
	html_badge(out, word);
}

void site_baseline_band(const struct site_point *p, size_t n, size_t base_runs, double *lo, double *hi)
{
	size_t last_cp = 0, from;

	*lo = *hi = NAN;
	if (n < 2 || base_runs == 0)
		return;
	for (size_t i = 0; i < n; i++)
		if (p[i].changepoint)
			last_cp = i;
	from = n - 1 > base_runs ? n - 1 - base_runs : 0;
	if (from < last_cp)
		from = last_cp;
	for (size_t i = from; i + 1 < n; i++) {
		if (!isfinite(p[i].median))
			continue;
		if (isnan(*lo) || p[i].median < *lo)
			*lo = p[i].median;
		if (isnan(*hi) || p[i].median > *hi)
			*hi = p[i].median;
	}
}

static uint64_t fnv1a(uint64_t h, const char *s)
{
	for (; s && *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	h ^= 0x1f; /* the separator: ("ab", "c") and ("a", "bc") differ */
	return h * 1099511628211ULL;
}

static void safe_name(struct sb *out, const char *s, size_t max)
{
	for (size_t i = 0; s && s[i] && i < max; i++) {
		char c = s[i];
		bool ok = (c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
			  c == '_' || c == '-';

		sb_putc(out, ok && !(i == 0 && c == '.') ? c : '_');
	}
}

char *site_series_file(const char *project, const char *suite, const char *bench, const char *metric)
{
	struct sb f = SB_INIT;
	uint64_t h = 14695981039346656037ULL;

	h = fnv1a(fnv1a(fnv1a(fnv1a(h, project), suite), bench), metric);
	sb_puts(&f, "m/");
	safe_name(&f, suite, 40);
	sb_puts(&f, "--");
	safe_name(&f, bench, 60);
	sb_puts(&f, "--");
	safe_name(&f, metric, 60);
	sb_printf(&f, "-%08llx.html", (unsigned long long)(h & 0xffffffffULL));
	return sb_detach(&f);
}

char *site_series_key(const char *project, const char *suite, const char *bench, const char *metric)
{
	return xasprintf("%s\x1f%s\x1f%s\x1f%s", project ? project : "", suite ? suite : "", bench, metric);
}

char *site_signature(long long runs, const char *last_time, const char *last_started_at)
{
	return xasprintf("%lld %s %s", runs, last_time ? last_time : "-", last_started_at ? last_started_at : "-");
}

/* ---- the metric page ---- */

static void value(struct sb *out, double v, const char *unit)
{
	char buf[64];

	if (!isfinite(v)) {
		sb_puts(out, "-");
		return;
	}
	report_format_value(v, unit, buf, sizeof(buf));
	esc(out, buf);
}

/* "+3.1%" of b against a, into buf ("-" when either is missing). */
static void pct_change(double a, double b, char *buf, size_t len)
{
	if (!isfinite(a) || !isfinite(b) || a == 0)
		snprintf(buf, len, "-");
	else
		snprintf(buf, len, "%+.1f%%", (b / a - 1) * 100);
}

static void run_link(struct sb *out, const struct site_point *p, const char *up)
{
	if (p->has_report) {
		sb_printf(out, "<a href=\"%sruns/", up);
		html_url_segment(out, p->run_id);
		sb_printf(out, ".html\"><code>%.8s</code></a>", p->run_id);
	} else {
		sb_printf(out, "<code>%.8s</code>", p->run_id);
	}
}

static void commit_cell(struct sb *out, const struct site_point *p)
{
	if (p->commit)
		sb_printf(out, "<code>%.10s</code>", p->commit);
	if (p->subject) {
		sb_puts(out, " ");
		esc(out, p->subject);
	}
	if (p->dirty)
		sb_puts(out, " <span class=\"meta\">(dirty tree)</span>");
}

static void page_summary(const struct site_series *s, struct sb *out)
{
	const struct site_point *last = s->n ? &s->points[s->n - 1] : NULL;
	double lo, hi;
	char ch[32];

	site_baseline_band(s->points, s->n, BASE_RUNS, &lo, &hi);
	sb_puts(out, "<dl class=\"kv\">");
	if (last) {
		sb_puts(out, "<dt>newest run</dt><dd><b>");
		value(out, last->median, s->unit);
		sb_puts(out, "</b>");
		if (last->verdict) {
			sb_putc(out, ' ');
			badge(out, last->verdict);
		}
		sb_puts(out, " &middot; ");
		run_link(out, last, "../");
		sb_puts(out, " &middot; ");
		esc(out, last->time);
		sb_puts(out, "</dd>");
	}
	if (isfinite(lo)) {
		pct_change(hi, last->median, ch, sizeof(ch));
		sb_puts(out, "<dt>baseline band</dt><dd>");
		value(out, lo, s->unit);
		sb_puts(out, " &ndash; ");
		value(out, hi, s->unit);
		sb_printf(out, " <span class=\"meta\">(medians of the %d runs before the newest, none before the newest "
			       "change point)</span></dd>",
			  BASE_RUNS);
	}
	if (s->n >= 2) {
		pct_change(s->points[s->n - 2].median, last->median, ch, sizeof(ch));
		sb_printf(out, "<dt>against the run before</dt><dd>%s</dd>", ch);
	}
	sb_printf(out, "<dt>runs</dt><dd>%zu shown of %lld stored (all branches)", s->n, s->total_runs);
	if (s->branch) {
		sb_puts(out, " (branch <code>");
		esc(out, s->branch);
		sb_puts(out, "</code>)");
	}
	sb_puts(out, "</dd><dt>unit</dt><dd>");
	esc(out, s->unit && *s->unit ? s->unit : "-");
	sb_printf(out, ", %s is better</dd></dl>\n",
		  s->direction && strcmp(s->direction, "higher") == 0 ? "higher" : "lower");
}

static void changepoint_table(const struct site_series *s, struct sb *out)
{
	size_t n = 0;

	for (size_t i = 0; i < s->n; i++)
		n += s->points[i].changepoint;
	sb_printf(out, "<section id=\"changepoints\">\n<h2>Change points (%zu)</h2>\n", n);
	if (n == 0) {
		sb_puts(out, "<p class=\"meta\">None among these runs: the series holds one level.</p>\n</section>\n");
		return;
	}
	sb_puts(out, "<div class=\"scroll\"><table>\n<tr><th>first run after</th><th>when</th><th>commit</th>"
		     "<th class=\"num\">change</th><th class=\"num\">p</th></tr>\n");
	for (size_t i = s->n; i-- > 0;) {
		const struct site_point *p = &s->points[i];

		if (!p->changepoint)
			continue;
		sb_puts(out, "<tr><td>");
		run_link(out, p, "../");
		sb_puts(out, "</td><td>");
		esc(out, p->time);
		sb_puts(out, "</td><td class=\"why\">");
		commit_cell(out, p);
		if (isfinite(p->cp_magnitude))
			sb_printf(out, "</td><td class=\"num\">%+.1f%%</td>", p->cp_magnitude * 100);
		else
			sb_puts(out, "</td><td class=\"num\">-</td>");
		if (isfinite(p->cp_p))
			sb_printf(out, "<td class=\"num\">%.2g</td></tr>\n", p->cp_p);
		else
			sb_puts(out, "<td class=\"num\">-</td></tr>\n");
	}
	sb_puts(out, "</table></div>\n</section>\n");
}

static void runs_table(const struct site_series *s, struct sb *out)
{
	sb_puts(out, "<section id=\"runs\">\n<h2>Runs, newest first</h2>\n<div class=\"scroll\"><table>\n"
		     "<tr><th>run</th><th class=\"num\">median</th><th>verdict</th><th>when</th>"
		     "<th class=\"num\">95% CI</th><th class=\"num\">n</th><th>commit</th></tr>\n");
	for (size_t i = s->n; i-- > 0;) {
		const struct site_point *p = &s->points[i];

		sb_printf(out, "<tr%s><td>", p->verdict && strcmp(p->verdict, "regression") == 0 ? " class=\"fails\"" : "");
		run_link(out, p, "../");
		if (p->changepoint)
			sb_puts(out, " <span class=\"badge\">change point</span>");
		sb_puts(out, "</td><td class=\"num\">");
		value(out, p->median, s->unit);
		sb_puts(out, "</td><td>");
		if (p->verdict)
			badge(out, p->verdict);
		sb_puts(out, "</td><td>");
		esc(out, p->time);
		sb_puts(out, "</td><td class=\"num\">");
		if (isfinite(p->ci_low) && isfinite(p->ci_high)) {
			value(out, p->ci_low, s->unit);
			sb_puts(out, " &ndash; ");
			value(out, p->ci_high, s->unit);
		} else {
			sb_puts(out, "-");
		}
		sb_printf(out, "</td><td class=\"num\">%ld</td><td class=\"why\">", p->n);
		commit_cell(out, p);
		sb_puts(out, "</td></tr>\n");
	}
	sb_puts(out, "</table></div>\n</section>\n");
}

void site_metric_page(const struct site_series *s, const char *svg, const char *svg_problem, struct sb *out)
{
	char *title = xasprintf("%s / %s: %s", s->bench, s->metric, s->suite ? s->suite : "");

	html_page_begin(out, title);
	sb_puts(out, "<p class=\"meta\"><a href=\"../index.html\">&larr; all metrics</a> &middot; ");
	if (s->project && *s->project) {
		esc(out, s->project);
		sb_puts(out, " &middot; ");
	}
	sb_puts(out, "suite <b>");
	esc(out, s->suite);
	sb_puts(out, "</b></p>\n<h1>");
	esc(out, s->bench);
	sb_puts(out, " <span class=\"meta\">/</span> ");
	esc(out, s->metric);
	sb_puts(out, "</h1>\n");
	page_summary(s, out);
	sb_puts(out, "<section id=\"trend\">\n<h2>Trend</h2>\n");
	if (svg) {
		char *alt = xasprintf("%s / %s: median per run with its 95%% confidence band, the baseline band and "
				      "change points, oldest to newest",
				      s->bench, s->metric);

		html_svg_inline(out, svg, "t", alt);
		free(alt);
	} else if (svg_problem) {
		sb_puts(out, "<p class=\"note\">The trend picture is missing: ");
		esc(out, svg_problem);
		sb_puts(out, "</p>\n");
	}
	sb_puts(out, "</section>\n");
	changepoint_table(s, out);
	runs_table(s, out);
	html_page_end(out);
	free(title);
}

int site_trend_script(const struct site_series *s, struct sb *script, struct err *err)
{
	struct plot_trend_point *pts = xcalloc(s->n + 1, sizeof(*pts));
	char (*lab)[16] = xcalloc(s->n + 1, sizeof(*lab));
	struct plot_output o = { .path = NULL, .format = PLOT_SVG, .width = TREND_WIDTH, .height = TREND_HEIGHT };
	struct plot_trend t = { NULL, s->unit, pts, s->n, NAN, NAN };
	char *title = xasprintf("%s / %s", s->bench, s->metric);
	int rc;

	for (size_t i = 0; i < s->n; i++) {
		const struct site_point *p = &s->points[i];

		if (p->commit)
			snprintf(lab[i], sizeof(lab[i]), "%.7s", p->commit);
		else
			snprintf(lab[i], sizeof(lab[i]), "%.10s", p->time ? p->time : "");
		pts[i] = (struct plot_trend_point){ lab[i], p->median, p->ci_low, p->ci_high,
						    p->verdict && strcmp(p->verdict, "regression") == 0,
						    p->changepoint, false, p->dirty };
	}
	site_baseline_band(s->points, s->n, BASE_RUNS, &t.base_lo, &t.base_hi);
	t.title = title;
	sb_puts(script, "reset\n");
	rc = plot_trend_script(&t, &o, script, err);
	free(title);
	free(pts);
	free(lab);
	return rc;
}

/* ---- the manifest ---- */

cJSON *site_manifest_new(const char *settings)
{
	cJSON *m = xcheck(cJSON_CreateObject());

	cJSON_AddNumberToObject(m, "perfgate_site", SITE_VERSION);
	cJSON_AddStringToObject(m, "settings", settings);
	cJSON_AddItemToObject(m, "series", xcheck(cJSON_CreateObject()));
	return m;
}

cJSON *site_manifest_load(const char *dir, const char *settings, bool *fresh)
{
	char *path = xasprintf("%s/%s", dir, SITE_MANIFEST), *text = NULL;
	struct err err = ERR_INIT;
	cJSON *m = NULL;
	const cJSON *v, *st;

	*fresh = true;
	if (file_read(path, &text, NULL, &err) == 0)
		m = cJSON_Parse(text);
	v = cJSON_GetObjectItemCaseSensitive(m, "perfgate_site");
	st = cJSON_GetObjectItemCaseSensitive(m, "settings");
	if (!cJSON_IsNumber(v) || v->valuedouble != SITE_VERSION || !cJSON_IsString(st) ||
	    strcmp(st->valuestring, settings) != 0 || !cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(m, "series"))) {
		cJSON_Delete(m);
		m = site_manifest_new(settings);
	} else {
		*fresh = false;
	}
	free(text);
	free(path);
	return m;
}

const cJSON *site_manifest_entry(const cJSON *manifest, const char *key)
{
	return cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(manifest, "series"), key);
}

void site_manifest_put(cJSON *manifest, const char *key, const struct site_series *s, const char *file)
{
	cJSON *series = cJSON_GetObjectItemCaseSensitive(manifest, "series");
	cJSON *e = xcheck(cJSON_CreateObject()), *spark;
	const struct site_point *last = s->n ? &s->points[s->n - 1] : NULL;
	double lo, hi;
	long cp_ago = -1;

	site_baseline_band(s->points, s->n, BASE_RUNS, &lo, &hi);
	for (size_t i = s->n; i-- > 0 && cp_ago < 0;)
		if (s->points[i].changepoint)
			cp_ago = (long)(s->n - 1 - i);
	json_add_str_or_null(e, "project", s->project);
	json_add_str_or_null(e, "suite", s->suite);
	json_add_str_or_null(e, "bench", s->bench);
	json_add_str_or_null(e, "metric", s->metric);
	json_add_str_or_null(e, "unit", s->unit);
	json_add_str_or_null(e, "direction", s->direction);
	json_add_str_or_null(e, "file", file);
	json_add_str_or_null(e, "signature", s->signature);
	cJSON_AddNumberToObject(e, "runs", (double)s->total_runs);
	json_add_num_or_null(e, "last", last ? last->median : NAN);
	json_add_num_or_null(e, "prev", s->n >= 2 ? s->points[s->n - 2].median : NAN);
	json_add_num_or_null(e, "band_lo", lo);
	json_add_num_or_null(e, "band_hi", hi);
	json_add_str_or_null(e, "verdict", last ? last->verdict : NULL);
	json_add_str_or_null(e, "last_run", last ? last->run_id : NULL);
	json_add_str_or_null(e, "last_time", last ? last->time : NULL);
	cJSON_AddBoolToObject(e, "has_report", last && last->has_report);
	cJSON_AddNumberToObject(e, "cp_ago", (double)cp_ago);
	json_add_num_or_null(e, "cp_magnitude", cp_ago >= 0 ? s->points[s->n - 1 - (size_t)cp_ago].cp_magnitude : NAN);
	spark = xcheck(cJSON_AddArrayToObject(e, "spark"));
	for (size_t i = s->n > SITE_SPARK_RUNS ? s->n - SITE_SPARK_RUNS : 0; i < s->n; i++)
		cJSON_AddItemToArray(spark, isfinite(s->points[i].median) ? xcheck(cJSON_CreateNumber(s->points[i].median))
									   : xcheck(cJSON_CreateNull()));
	if (cJSON_GetObjectItemCaseSensitive(series, key))
		cJSON_ReplaceItemInObjectCaseSensitive(series, key, e);
	else
		cJSON_AddItemToObject(series, key, e);
}

size_t site_manifest_prune(cJSON *manifest, char *const *keys, size_t n, char ***gone)
{
	cJSON *series = cJSON_GetObjectItemCaseSensitive(manifest, "series"), *e = series ? series->child : NULL;
	size_t n_gone = 0, alloc = 0;

	*gone = NULL;
	while (e) {
		cJSON *next = e->next;
		bool keep = false;

		for (size_t i = 0; i < n && !keep; i++)
			keep = strcmp(keys[i], e->string) == 0;
		if (!keep) {
			const cJSON *f = cJSON_GetObjectItemCaseSensitive(e, "file");

			if (cJSON_IsString(f)) {
				XGROW(*gone, alloc, n_gone + 1);
				(*gone)[n_gone++] = xstrdup(f->valuestring);
			}
			cJSON_Delete(cJSON_DetachItemViaPointer(series, e));
		}
		e = next;
	}
	return n_gone;
}

/* ---- the index ---- */

static const char *jstr(const cJSON *o, const char *name)
{
	return json_peek_str(o, name);
}

static double jnum(const cJSON *o, const char *name)
{
	return json_peek_num(o, name, NAN);
}

static int cmp_str(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "");
}

static int cmp_entry(const void *a, const void *b)
{
	const cJSON *x = *(const cJSON *const *)a, *y = *(const cJSON *const *)b;
	static const char *const order[] = { "project", "suite", "bench", "metric" };
	int c = 0;

	for (size_t i = 0; i < ARRAY_SIZE(order) && c == 0; i++)
		c = cmp_str(jstr(x, order[i]), jstr(y, order[i]));
	return c;
}

/* A series' status for the index: the newest run's verdict, a recent
 * change point, or nothing to say. */
static bool entry_alarm(const cJSON *e)
{
	const char *v = jstr(e, "verdict");

	return v && strcmp(v, "regression") == 0;
}

static void status_cell(const cJSON *e, struct sb *out)
{
	const char *v = jstr(e, "verdict");
	double ago = jnum(e, "cp_ago"), mag = jnum(e, "cp_magnitude");

	sb_puts(out, "<td>");
	if (v)
		badge(out, v);
	else
		sb_puts(out, "<span class=\"meta\" title=\"the newest run was stored without a comparison (run, pushed "
			     "or imported, not gated)\">not compared</span>");
	if (isfinite(ago) && ago >= 0 && ago < RECENT_CP) {
		sb_puts(out, " <span class=\"badge\" title=\"a stored change point ");
		if (ago == 0)
			sb_puts(out, "starts at the newest run");
		else
			sb_printf(out, "starts %.0f run%s before the newest", ago, ago == 1 ? "" : "s");
		sb_puts(out, "\">changed");
		if (isfinite(mag))
			sb_printf(out, " %+.1f%%", mag * 100);
		sb_puts(out, "</span>");
	}
	sb_puts(out, "</td>");
}

static void spark_cell(const cJSON *e, struct sb *out)
{
	const cJSON *spark = cJSON_GetObjectItemCaseSensitive(e, "spark"), *v;
	double vals[SITE_SPARK_RUNS];
	size_t n = 0;
	char *label;

	cJSON_ArrayForEach(v, spark)
		if (n < SITE_SPARK_RUNS)
			vals[n++] = cJSON_IsNumber(v) ? v->valuedouble : NAN;
	label = xasprintf("%s: medians of the newest %zu runs", jstr(e, "metric"), n);
	sb_puts(out, "<td>");
	html_sparkline_span(out, vals, n, SPARK_W, SPARK_H, SPARK_MIN_SPAN, entry_alarm(e), label);
	sb_puts(out, "</td>");
	free(label);
}

static void index_row(const cJSON *e, struct sb *out)
{
	const char *unit = jstr(e, "unit"), *run = jstr(e, "last_run");
	char ch[32];

	sb_printf(out, "<tr%s><td><a href=\"", entry_alarm(e) ? " class=\"fails\"" : "");
	esc(out, jstr(e, "file"));
	sb_puts(out, "\">");
	esc(out, jstr(e, "metric"));
	sb_puts(out, "</a></td>");
	spark_cell(e, out);
	sb_puts(out, "<td class=\"num\">");
	value(out, jnum(e, "last"), unit);
	pct_change(jnum(e, "prev"), jnum(e, "last"), ch, sizeof(ch));
	sb_printf(out, "</td><td class=\"num\">%s</td>", ch);
	status_cell(e, out);
	sb_printf(out, "<td class=\"num\">%.0f</td><td>", jnum(e, "runs"));
	if (run && cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "has_report"))) {
		sb_puts(out, "<a href=\"runs/");
		html_url_segment(out, run);
		sb_printf(out, ".html\"><code>%.8s</code></a> ", run);
	} else if (run) {
		sb_printf(out, "<code>%.8s</code> ", run);
	}
	esc(out, jstr(e, "last_time"));
	sb_puts(out, "</td></tr>\n");
}

static void index_counts(const cJSON **v, size_t n, struct sb *out)
{
	size_t reg = 0, changed = 0;

	for (size_t i = 0; i < n; i++) {
		double ago = jnum(v[i], "cp_ago");

		reg += entry_alarm(v[i]);
		changed += isfinite(ago) && ago >= 0 && ago < RECENT_CP;
	}
	sb_printf(out, "<header class=\"banner %s\"><h1>Performance history</h1>\n<p>%zu metric%s",
		  reg ? "fail" : "pass", n, n == 1 ? "" : "s");
	sb_printf(out, "; the newest run of <b>%zu</b> regressed; <b>%zu</b> changed level within their last %d runs.</p>",
		  reg, changed, RECENT_CP);
}

void site_index_page(const cJSON *manifest, const char *title, const char *generated, const char *branch,
		     struct sb *out)
{
	const cJSON *all = cJSON_GetObjectItemCaseSensitive(manifest, "series"), *e;
	const cJSON **v;
	size_t n = 0, k = 0;

	cJSON_ArrayForEach(e, all)
		n++;
	v = xcalloc(n + 1, sizeof(*v));
	cJSON_ArrayForEach(e, all)
		v[k++] = e;
	if (n > 1)
		qsort(v, n, sizeof(*v), cmp_entry);
	html_page_begin(out, title);
	index_counts(v, n, out);
	sb_puts(out, "<p class=\"meta\">");
	if (branch) {
		sb_puts(out, "Runs on branch <code>");
		esc(out, branch);
		sb_puts(out, "</code>. ");
	} else {
		sb_puts(out, "Runs of every branch. ");
	}
	sb_puts(out, "Made ");
	esc(out, generated);
	sb_puts(out, ". Each metric's page has its trend, change points and runs; each run links to its report.</p>"
		     "</header>\n");
	if (n == 0)
		sb_puts(out, "<p class=\"note\">The store holds no runs yet.</p>\n");
	for (size_t i = 0; i < n; i++) {
		bool new_suite = i == 0 || cmp_str(jstr(v[i], "project"), jstr(v[i - 1], "project")) ||
				 cmp_str(jstr(v[i], "suite"), jstr(v[i - 1], "suite"));
		bool new_bench = new_suite || cmp_str(jstr(v[i], "bench"), jstr(v[i - 1], "bench"));

		if (new_bench && i > 0)
			sb_puts(out, "</table></div>\n");
		if (new_suite) {
			sb_puts(out, "<h2>suite ");
			esc(out, jstr(v[i], "suite"));
			if (jstr(v[i], "project") && *jstr(v[i], "project")) {
				sb_puts(out, " <span class=\"meta\">(");
				esc(out, jstr(v[i], "project"));
				sb_puts(out, ")</span>");
			}
			sb_puts(out, "</h2>\n");
		}
		if (new_bench) {
			sb_puts(out, "<h3>");
			esc(out, jstr(v[i], "bench"));
			sb_puts(out, "</h3>\n<div class=\"scroll\"><table>\n<tr><th>metric</th><th>trend</th>"
				     "<th class=\"num\">newest</th><th class=\"num\">vs run before</th><th>status</th>"
				     "<th class=\"num\">runs stored</th><th>newest run</th></tr>\n");
		}
		index_row(v[i], out);
	}
	if (n)
		sb_puts(out, "</table></div>\n");
	html_page_end(out);
	free(v);
}
