/*
 * Unit tests for core/report_html.c: a real comparison (compare_run over
 * hand-made run documents: an HTTP benchmark whose latency regressed by 30%
 * and a command benchmark that did not move) rendered as a page, and the
 * page checked against the comparison's JSON form (report_json), the same
 * model the other reports render: every row's current and baseline values,
 * formatted from the JSON numbers, sit in that row of the page.  Also: the
 * verdict and the failure come before the tables, families are one row,
 * nothing is loaded from anywhere, ids are unique, the pictures are inline
 * SVG when gnuplot is installed, and the page says so when it is not.
 * The HTML of the last case is written to build/tests/report-html.html for a
 * person (or tests/browser/check_pages.py) to open.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../core/compare.h"
#include "../../core/html.h"
#include "../../core/proc.h"
#include "../../core/report.h"
#include "../../core/report_group.h"
#include "../../core/report_html.h"
#include "../../core/util.h"

static const char *const stats[] = { "p50", "p90", "p99", "max", "mean" };

/* n samples around `center`, +-2%, deterministic, no two equal. */
static void fill(struct rd_metric *m, double center, size_t n, unsigned seed)
{
	for (size_t i = 0; i < n; i++) {
		double u = (double)((i * 7 + seed * 3) % 17) / 16.0;

		rundoc_metric_add_sample(m, center * (0.98 + 0.04 * u + 1e-6 * (double)i));
	}
	rundoc_metric_summarise(m);
}

/* A run: "api" (HTTP: latency family, throughput, error counters at 0, a
 * per-second series) and "parse" (command: wall). `slow` scales latency. */
static struct rundoc *mkrun(const char *id, double slow, unsigned seed)
{
	struct rundoc *rd = rundoc_new();
	struct rd_bench *b;
	char name[32];
	cJSON *ts, *one, *thr, *p99;

	rd->run_id = xstrdup(id);
	rd->suite = xstrdup("web");
	rd->project = xstrdup("p");
	rd->git.commit = xstrdup("0123456789abcdef0123456789abcdef01234567");
	rd->git.subject = xstrdup("Make <everything> faster & better");
	rd->git.branch = xstrdup("main");
	rd->started_at = xstrdup("2026-12-01T10:00:00Z");
	b = rundoc_add_bench(rd, "api", RUNDOC_KIND_HTTP);
	b->config_hash = xstrdup("aaaa");
	for (size_t k = 0; k < ARRAY_SIZE(stats); k++) {
		snprintf(name, sizeof(name), "latency.%s", stats[k]);
		fill(rundoc_bench_add_metric(b, name, "s", RD_LOWER), 0.010 * (1 + 0.5 * (double)k) * slow, 10,
		     seed + (unsigned)k);
	}
	fill(rundoc_bench_add_metric(b, "throughput", "1/s", RD_HIGHER), 100, 10, seed + 9);
	fill(rundoc_bench_add_metric(b, "errors.timeout", "1", RD_LOWER), 0, 10, seed);
	b->extra = cJSON_CreateObject();
	ts = cJSON_AddArrayToObject(b->extra, "timeseries");
	one = cJSON_CreateObject();
	cJSON_AddNumberToObject(one, "interval", 1);
	thr = cJSON_AddArrayToObject(one, "throughput");
	p99 = cJSON_AddArrayToObject(one, "p99");
	for (int i = 0; i < 20; i++) {
		cJSON_AddItemToArray(thr, cJSON_CreateNumber(95 + i % 7));
		cJSON_AddItemToArray(p99, cJSON_CreateNumber(0.03 * slow + 0.001 * (i % 5)));
	}
	cJSON_AddItemToArray(ts, one);
	b = rundoc_add_bench(rd, "parse", RUNDOC_KIND_COMMAND);
	b->config_hash = xstrdup("bbbb");
	fill(rundoc_bench_add_metric(b, "wall", "s", RD_LOWER), 0.5, 10, seed + 20);
	return rd;
}

struct fixture {
	struct rundoc *cur;
	struct baseline base;
	struct compare_result *r;
	double spark[3][8];
	struct report_html_history hist[3];
};

static int setup(void **state)
{
	struct fixture *f = xcalloc(1, sizeof(*f));
	struct compare_options co = COMPARE_OPTIONS_INIT;
	struct err err = ERR_INIT;

	f->base.mode = BASELINE_ANCESTORS;
	f->base.k = 5;
	f->base.branch = xstrdup("main");
	f->base.runs = xcalloc(4, sizeof(*f->base.runs));
	for (size_t i = 0; i < 4; i++) {
		char id[64];

		snprintf(id, sizeof(id), "00000000-0000-4000-8000-00000000000%zu", i);
		f->base.runs[i].doc = mkrun(id, 1.0, (unsigned)i);
		f->base.runs[i].started = 1000.0 - (double)i;
	}
	f->base.n_runs = 4;
	f->cur = mkrun("6f1c2a9e-0000-4000-8000-000000000099", 1.3, 7);
	assert_int_equal(compare_run(f->cur, &f->base, NULL, &co, &f->r, &err), 0);
	/* Sparklines: recent medians, this run last. */
	for (int k = 0; k < 8; k++) {
		f->spark[0][k] = k < 7 ? 0.010 : 0.013;
		f->spark[1][k] = 0.5 + 0.001 * k;
		f->spark[2][k] = 100 - k;
	}
	f->hist[0] = (struct report_html_history){ "api", "latency.p99", f->spark[0], 8 };
	f->hist[1] = (struct report_html_history){ "parse", "wall", f->spark[1], 8 };
	f->hist[2] = (struct report_html_history){ "api", "throughput", f->spark[2], 8 };
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	compare_result_free(f->r);
	rundoc_free(f->cur);
	baseline_release(&f->base);
	free(f);
	return 0;
}

static char *render(struct fixture *f, bool plots)
{
	struct report_html_options o = REPORT_HTML_OPTIONS_INIT;
	struct sb out = SB_INIT;

	o.run = f->cur;
	o.baseline = f->base.runs[0].doc;
	o.history = f->hist;
	o.n_history = ARRAY_SIZE(f->hist);
	o.site_url = "https://example.org/perf/";
	o.plots = plots;
	report_html(f->r, &o, &out);
	return sb_detach(&out);
}

/* The text of the element that starts at the first `attrs` after `from`, up to its row's end. */
static char *row_text(const char *page, const char *from, const char *attrs)
{
	const char *p = strstr(from ? from : page, attrs), *end;

	if (!p)
		return NULL;
	end = strstr(p, "</tr>");
	if (!end)
		end = p + strlen(p);
	return xstrndup(p, (size_t)(end - p));
}

static void test_numbers_are_the_reports(void **state)
{
	struct fixture *f = *state;
	char *page = render(f, false);
	struct sb json = SB_INIT;
	cJSON *doc, *row;
	const char *tables = strstr(page, "<section class=\"bench\"");
	size_t checked = 0;

	assert_non_null(tables);
	report_json(f->r, &json);
	doc = cJSON_Parse(sb_str(&json));
	assert_non_null(doc);
	cJSON_ArrayForEach(row, cJSON_GetObjectItem(doc, "rows")) {
		const char *bench = cJSON_GetObjectItem(row, "benchmark")->valuestring;
		const char *metric = cJSON_GetObjectItem(row, "metric")->valuestring;
		const char *unit = cJSON_GetObjectItem(row, "unit")->valuestring;
		double cur = cJSON_GetObjectItem(cJSON_GetObjectItem(row, "current"), "median")->valuedouble;
		double base = cJSON_GetObjectItem(cJSON_GetObjectItem(row, "baseline"), "median")->valuedouble;
		char want_cur[64], want_base[64], *attrs, *text, *section;

		report_format_value(cur, unit, want_cur, sizeof(want_cur));
		report_format_value(base, unit, want_base, sizeof(want_base));
		attrs = xasprintf("data-metric=\"%s\"", metric);
		section = xasprintf("id=\"b-%s\"", bench);
		/* The first element of this metric in the benchmark's section. */
		assert_non_null(strstr(tables, section));
		text = row_text(page, strstr(tables, section), attrs);
		free(section);
		assert_non_null(text);
		if (cur != 0) {
			/* A row or family cell shows the current value, its title both. */
			assert_non_null(strstr(text, want_cur));
			if (strncmp(metric, "latency.", 8) == 0)
				assert_non_null(strstr(text, want_base));
		}
		checked++;
		free(attrs);
		free(text);
	}
	assert_int_equal(checked, f->r->n_rows);
	cJSON_Delete(doc);
	sb_release(&json);
	free(page);
}

static void test_order_and_grouping(void **state)
{
	struct fixture *f = *state;
	char *page = render(f, false);
	const char *banner = strstr(page, "<header class=\"banner fail\">");
	const char *failed = strstr(page, "<section id=\"failed\">");
	const char *first_bench = strstr(page, "<section class=\"bench\"");
	const char *fam = strstr(page, "data-family=\"latency\"");

	assert_false(f->r->passed);
	assert_non_null(banner);
	assert_non_null(failed);
	assert_true(banner < failed && failed < first_bench);
	/* The failure table names the regressed percentile with its numbers. */
	assert_non_null(strstr(failed, "data-metric=\"latency.p99\""));
	assert_true(strstr(failed, "data-metric=\"latency.p99\"") < first_bench);
	/* One row for the family, with a cell per statistic. */
	assert_non_null(fam);
	assert_null(strstr(fam + 1, "data-family=\"latency\""));
	for (size_t k = 0; k < ARRAY_SIZE(stats); k++) {
		char *cell = xasprintf("data-metric=\"latency.%s\"", stats[k]);
		const char *c = strstr(fam, cell);

		assert_non_null(c);
		assert_true(c < strstr(fam, "</tr>"));
		free(cell);
	}
	/* Counters at zero in both runs: one line, not a row each. */
	assert_non_null(strstr(page, "0 in both runs (1): <span data-bench=\"api\" data-metric=\"errors.timeout\">"));
	/* Sparklines where history was given, the failing one in red. */
	assert_non_null(strstr(page, "<svg class=\"spark\""));
	assert_non_null(strstr(page, "fill=\"#cf222e\""));
	/* Escaped, linked, self-contained. */
	assert_non_null(strstr(page, "Make &lt;everything&gt; faster &amp; better"));
	assert_non_null(strstr(page, "<a href=\"https://example.org/perf/\">"));
	assert_null(strstr(page, "<link"));
	assert_null(strstr(page, "src="));
	assert_null(strstr(page, "@import"));
	free(page);
}

/* Every id="..." once. */
static void assert_unique_ids(const char *page)
{
	size_t n = 0, alloc = 0;
	char **ids = NULL;

	for (const char *p = page; (p = strstr(p, " id=")) != NULL; p += 4) {
		char q = p[4];
		const char *end = strchr(p + 5, q);

		XGROW(ids, alloc, n + 1);
		ids[n] = xstrndup(p + 5, (size_t)(end - p - 5));
		for (size_t k = 0; k < n; k++)
			if (strcmp(ids[k], ids[n]) == 0)
				fail_msg("id '%s' twice", ids[n]);
		n++;
	}
	for (size_t k = 0; k < n; k++)
		free(ids[k]);
	free(ids);
}

static void test_pictures(void **state)
{
	struct fixture *f = *state;
	char *gnuplot = proc_which("gnuplot");
	char *page;
	struct err err = ERR_INIT;

	if (!gnuplot) {
		skip();
		return;
	}
	free(gnuplot);
	page = render(f, true);
	/* The spectrum (baseline and this run) and the per-second series. */
	assert_non_null(strstr(page, "<figure class=\"plot\"><svg"));
	assert_non_null(strstr(page, "api: latency spectrum, baseline and this run"));
	assert_non_null(strstr(page, "api: per second"));
	assert_null(strstr(page, "<?xml"));
	assert_null(strstr(page, "Pictures are missing"));
	assert_unique_ids(page);
	mkdir_p("build/tests", &err);
	file_write_atomic("build/tests/report-html.html", page, strlen(page), &err);
	free(page);
}

static void test_without_gnuplot(void **state)
{
	struct fixture *f = *state;
	const char *old = getenv("PERFGATE_GNUPLOT");
	char *keep = old ? xstrdup(old) : NULL, *page;
	struct report_html_options o = REPORT_HTML_OPTIONS_INIT;
	struct errlist warnings = ERRLIST_INIT;
	struct sb out = SB_INIT;

	setenv("PERFGATE_GNUPLOT", "/nonexistent/gnuplot", 1);
	o.run = f->cur;
	o.warnings = &warnings;
	report_html(f->r, &o, &out);
	page = sb_detach(&out);
	if (keep)
		setenv("PERFGATE_GNUPLOT", keep, 1);
	else
		unsetenv("PERFGATE_GNUPLOT");
	free(keep);
	assert_non_null(strstr(page, "Pictures are missing: gnuplot is not installed"));
	assert_int_equal(warnings.n, 1);
	/* The numbers are all there regardless. */
	assert_non_null(strstr(page, "data-family=\"latency\""));
	errlist_release(&warnings);
	free(page);
}

static void test_groups(void **state)
{
	struct fixture *f = *state;
	struct report_groups g;
	size_t families = 0, singles = 0;

	report_group_rows(f->r, false, &g);
	for (size_t i = 0; i < g.n; i++) {
		if (g.g[i].family) {
			families++;
			assert_string_equal(g.g[i].name, "latency");
			assert_int_equal(g.g[i].rank, 0);
			assert_string_equal(f->r->rows[report_group_lead(f->r, &g.g[i])].metric, "latency.p99");
		} else {
			singles++;
		}
	}
	assert_int_equal(families, 1);
	assert_int_equal(singles, 3); /* throughput, errors.timeout, wall */
	report_groups_release(&g);
}

/* The badge in the row of metric `metric` of benchmark `bench`. */
static char *row_badge_of(const char *page, const char *bench, const char *metric)
{
	char *attrs = xasprintf("data-bench=\"%s\" data-metric=\"%s\"", bench, metric);
	char *row = row_text(page, strstr(page, "<section id=\"b-"), attrs), *b, *end, *out = NULL;

	if (row && (b = strstr(row, "<span class=\"badge")) && (end = strstr(b, "</span>")))
		out = xstrndup(b, (size_t)(end - b));
	free(row);
	free(attrs);
	return out;
}

/* A regression the gate looked at has a filled badge; one of a metric that
 * is only tracked, an outlined one, so that red always means "gated". */
static void test_badges_say_what_gates(void **state)
{
	struct fixture *f = *state;
	struct rundoc *cur = mkrun("6f1c2a9e-0000-4000-8000-000000000098", 1.3, 7);
	struct rd_metric *wall = (struct rd_metric *)rundoc_bench_find_metric(rundoc_find_bench(cur, "parse"), "wall");
	struct report_html_options o = REPORT_HTML_OPTIONS_INIT;
	struct compare_options co = COMPARE_OPTIONS_INIT;
	struct compare_result *r = NULL;
	struct err err = ERR_INIT;
	struct sb out = SB_INIT;
	const struct compare_row *w = NULL;
	char *lat, *wb;

	for (size_t i = 0; i < wall->n_samples; i++)
		wall->samples[i] *= 1.3;
	rundoc_metric_summarise(wall);
	rundoc_metric_set_tracked(wall, "kept, not gated");
	assert_int_equal(compare_run(cur, &f->base, NULL, &co, &r, &err), 0);
	for (size_t i = 0; i < r->n_rows; i++)
		if (strcmp(r->rows[i].bench, "parse") == 0 && strcmp(r->rows[i].metric, "wall") == 0)
			w = &r->rows[i];
	assert_non_null(w);
	assert_int_equal(w->v.kind, VERDICT_REGRESSION);
	assert_false(w->settings.gate);
	o.run = cur;
	report_html(r, &o, &out);
	lat = row_badge_of(sb_str(&out), "api", "latency.p99");
	wb = row_badge_of(sb_str(&out), "parse", "wall");
	assert_non_null(lat);
	assert_non_null(wb);
	assert_string_equal(lat, "<span class=\"badge v-regression\">regression");
	assert_string_equal(wb, "<span class=\"badge v-regression nf\" title=\"reported, not gated\">regression");
	free(lat);
	free(wb);
	sb_release(&out);
	compare_result_free(r);
	rundoc_free(cur);
}

static void test_sparkline_and_escape(void **state)
{
	double v[] = { 1, 2, NAN, 3 };
	struct sb out = SB_INIT;

	(void)state;
	html_sparkline(&out, v, 4, 100, 20, false, "a<b");
	/* A gap lifts the pen: two segments. */
	assert_non_null(strstr(sb_str(&out), "M2.0 18.0 L34.0 10.0 M98.0 2.0"));
	assert_non_null(strstr(sb_str(&out), "aria-label=\"a&lt;b\""));
	sb_reset(&out);
	html_url_segment(&out, "a b/c@1");
	assert_string_equal(sb_str(&out), "a%20b%2Fc%401");
	sb_reset(&out);
	html_svg_inline(&out, "<?xml x?><svg><title>Gnuplot</title><g id='a'><use xlink:href='#a'/></g></svg>", "p1", "T");
	assert_string_equal(sb_str(&out), "<figure class=\"plot\"><svg><title>T</title><g id='p1-a'>"
					  "<use xlink:href='#p1-a'/></g></svg></figure>\n");
	sb_release(&out);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test_setup_teardown(test_numbers_are_the_reports, setup, teardown),
		cmocka_unit_test_setup_teardown(test_order_and_grouping, setup, teardown),
		cmocka_unit_test_setup_teardown(test_pictures, setup, teardown),
		cmocka_unit_test_setup_teardown(test_without_gnuplot, setup, teardown),
		cmocka_unit_test_setup_teardown(test_groups, setup, teardown),
		cmocka_unit_test_setup_teardown(test_badges_say_what_gates, setup, teardown),
		cmocka_unit_test(test_sparkline_and_escape),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
