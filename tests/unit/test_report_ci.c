/* Unit tests for core/report_ci.c: the GitLab metrics report (OpenMetrics
 * text) and GitHub annotations, from a hand-built comparison. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../../core/report.h"
#include "../../core/report_ci.h"
#include "../../core/util.h"

static struct compare_result *sample_result(void)
{
	struct compare_result *r = xcalloc(1, sizeof(*r));
	struct verdict_settings s = VERDICT_SETTINGS_INIT;

	r->suite = xstrdup("infer \"v2\"");
	r->n_rows = 2;
	r->rows = xcalloc(2, sizeof(*r->rows));
	r->rows[0].bench = xstrdup("gzip-6");
	r->rows[0].metric = xstrdup("wall");
	r->rows[0].unit = xstrdup("s");
	r->rows[0].settings = s;
	r->rows[0].v.kind = VERDICT_REGRESSION;
	r->rows[0].v.cur_median = 0.25;
	r->rows[0].v.ratio = 1.25;
	snprintf(r->rows[0].v.why, sizeof(r->rows[0].v.why), "25%% slower, p = 0.001");
	r->rows[1].bench = xstrdup("gzip-6");
	r->rows[1].metric = xstrdup("max_rss");
	r->rows[1].unit = xstrdup("B");
	r->rows[1].settings = s;
	r->rows[1].v.kind = VERDICT_UNCHANGED;
	r->rows[1].v.cur_median = 1048576;
	r->rows[1].v.ratio = NAN;
	r->n_slos = 1;
	r->slos = xcalloc(1, sizeof(*r->slos));
	r->slos[0].bench = xstrdup("classify");
	r->slos[0].key = xstrdup("latency.p95");
	r->slos[0].expr = xstrdup("< 250ms");
	r->slos[0].unit = xstrdup("s");
	r->slos[0].ok = false;
	r->slos[0].actual = 0.31;
	return r;
}

static void test_openmetrics(void **state)
{
	struct compare_result *r = sample_result();
	struct sb sb = SB_INIT;

	(void)state;
	report_ci_openmetrics(r, &sb);
	/* Label values escape the quotes; the ratio line is absent where there is no ratio. */
	assert_non_null(strstr(sb_str(&sb),
		"perfgate_median{suite=\"infer \\\"v2\\\"\",benchmark=\"gzip-6\",metric=\"wall\",unit=\"s\"} 0.25\n"));
	assert_non_null(strstr(sb_str(&sb),
		"perfgate_change_ratio{suite=\"infer \\\"v2\\\"\",benchmark=\"gzip-6\",metric=\"wall\",unit=\"s\"} 1.25\n"));
	assert_null(strstr(sb_str(&sb), "perfgate_change_ratio{suite=\"infer \\\"v2\\\"\",benchmark=\"gzip-6\",metric=\"max_rss\""));
	assert_non_null(strstr(sb_str(&sb),
		"perfgate_slo_ok{suite=\"infer \\\"v2\\\"\",benchmark=\"classify\",slo=\"latency.p95 < 250ms\"} 0\n"));
	assert_int_equal(strcmp(sb_str(&sb) + sb.len - 6, "# EOF\n"), 0);
	sb_release(&sb);
	compare_result_free(r);
}

static void test_annotations(void **state)
{
	struct compare_result *r = sample_result();
	struct sb sb = SB_INIT;

	(void)state;
	report_ci_annotations(r, &sb);
	assert_string_equal(sb_str(&sb),
		"::error title=perfgate%3A gzip-6 wall regression::25%25 slower, p = 0.001\n"
		"::error title=perfgate%3A classify SLO broken::latency.p95 < 250ms, measured 310 ms\n");
	sb_release(&sb);

	/* A metric that does not gate is never an error. */
	r->rows[0].settings.gate = false;
	report_ci_annotations(r, &sb);
	assert_null(strstr(sb_str(&sb), "gzip-6 wall"));
	sb_release(&sb);
	compare_result_free(r);
}

/* A name with a newline cannot start a second workflow command, in the
 * annotations or in the text report printed to the CI log. */
static void test_names_escaped(void **state)
{
	struct compare_result *r = sample_result();
	struct sb sb = SB_INIT;

	(void)state;
	free(r->rows[0].bench);
	r->rows[0].bench = xstrdup("gzip\n::error::forged\x1b[2J");
	report_ci_annotations(r, &sb);
	assert_non_null(strstr(sb_str(&sb), "title=perfgate%3A gzip\\n%3A%3Aerror%3A%3Aforged\\x1b[2J wall regression::"));
	for (const char *l = sb_str(&sb); l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL)
		assert_true(*l == '\0' || strncmp(l, "::error title=perfgate", 22) == 0);
	sb_release(&sb);
	report_render(r, REPORT_TEXT, NULL, &sb);
	assert_null(strstr(sb_str(&sb), "\n::error"));
	assert_null(strchr(sb_str(&sb), '\x1b'));
	assert_non_null(strstr(sb_str(&sb), "gzip\\n::error::forged\\x1b[2J"));
	sb_release(&sb);
	report_render(r, REPORT_MARKDOWN, NULL, &sb);
	assert_null(strstr(sb_str(&sb), "\n::error"));
	sb_release(&sb);
	report_ci_openmetrics(r, &sb);
	assert_null(strchr(sb_str(&sb), '\x1b'));
	assert_non_null(strstr(sb_str(&sb), "benchmark=\"gzip\\\\n::error::forged\\\\x1b[2J\""));
	sb_release(&sb);
	/* The comparison itself keeps the name (it is stored as it is). */
	assert_string_equal(r->rows[0].bench, "gzip\n::error::forged\x1b[2J");
	compare_result_free(r);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_openmetrics),
		cmocka_unit_test(test_annotations),
		cmocka_unit_test(test_names_escaped),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
