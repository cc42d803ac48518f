#include "report_ci.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "forge.h"
#include "report.h"

/* OpenMetrics label values: backslash, double quote and newline escaped. */
static void label(struct sb *out, const char *name, const char *value, bool first)
{
	sb_printf(out, "%s%s=\"", first ? "" : ",", name);
	for (const char *p = value ? value : ""; *p; p++) {
		if (*p == '\\')
			sb_puts(out, "\\\\");
		else if (*p == '"')
			sb_puts(out, "\\\"");
		else if (*p == '\n')
			sb_puts(out, "\\n");
		else
			sb_putc(out, *p);
	}
	sb_putc(out, '"');
}

static void number(struct sb *out, double v)
{
	if (isnan(v))
		sb_puts(out, "NaN");
	else if (isinf(v))
		sb_puts(out, v > 0 ? "+Inf" : "-Inf");
	else {
		/* The shortest form that reads back as the same double. */
		char buf[64];
		snprintf(buf, sizeof(buf), "%.15g", v);
		if (strtod(buf, NULL) != v)
			snprintf(buf, sizeof(buf), "%.17g", v);
		sb_puts(out, buf);
	}
}

static void row_sample(struct sb *out, const struct compare_result *r, const struct compare_row *row,
		       const char *name, double v)
{
	sb_printf(out, "%s{", name);
	label(out, "suite", r->suite, true);
	label(out, "benchmark", row->bench, false);
	label(out, "metric", row->metric, false);
	label(out, "unit", row->unit, false);
	if (row->against)
		label(out, "against", row->against, false);
	sb_puts(out, "} ");
	number(out, v);
	sb_putc(out, '\n');
}

static void openmetrics(const struct compare_result *r, struct sb *out);

/* Names made printable first (report_printable_new: a carriage return or an
 * escape sequence would break the exposition's lines for its parser), then
 * the label escaping (backslash, quote, newline). */
void report_ci_openmetrics(const struct compare_result *r, struct sb *out)
{
	struct report_printable *p = report_printable_new(r);

	openmetrics(report_printable_result(p), out);
	report_printable_free(p);
}

static void openmetrics(const struct compare_result *r, struct sb *out)
{
	sb_puts(out, "# TYPE perfgate_median gauge\n"
		     "# HELP perfgate_median Median of the metric over this run's repetitions, in the unit label's SI unit.\n");
	for (size_t i = 0; i < r->n_rows; i++)
		row_sample(out, r, &r->rows[i], "perfgate_median", r->rows[i].v.cur_median);
	sb_puts(out, "# TYPE perfgate_change_ratio gauge\n"
		     "# HELP perfgate_change_ratio Hodges-Lehmann ratio of this run to its baseline (1 = unchanged).\n");
	for (size_t i = 0; i < r->n_rows; i++)
		if (isfinite(r->rows[i].v.ratio))
			row_sample(out, r, &r->rows[i], "perfgate_change_ratio", r->rows[i].v.ratio);
	sb_puts(out, "# TYPE perfgate_slo_ok gauge\n"
		     "# HELP perfgate_slo_ok 1 when the SLO held in this run, 0 when it broke.\n");
	for (size_t i = 0; i < r->n_slos; i++) {
		const struct compare_slo *s = &r->slos[i];
		char text[512];
		snprintf(text, sizeof(text), "%s %s", s->key, s->expr);
		sb_puts(out, "perfgate_slo_ok{");
		label(out, "suite", r->suite, true);
		label(out, "benchmark", s->bench, false);
		label(out, "slo", text, false);
		sb_printf(out, "} %d\n", s->ok ? 1 : 0);
	}
	sb_puts(out, "# EOF\n");
}

static void annotations(const struct compare_result *r, struct sb *out);

/* Names escaped for a log line first (report_printable_new), then the
 * workflow-command escaping of forge_annotation (%, CR, LF as %25 %0D %0A). */
void report_ci_annotations(const struct compare_result *r, struct sb *out)
{
	struct report_printable *p = report_printable_new(r);

	annotations(report_printable_result(p), out);
	report_printable_free(p);
}

static void annotations(const struct compare_result *r, struct sb *out)
{
	char title[512], msg[1024];

	for (size_t i = 0; i < r->n_rows; i++) {
		const struct compare_row *row = &r->rows[i];
		bool fails = compare_row_fails(r, row);
		bool loud = row->v.kind == VERDICT_INCONCLUSIVE || row->v.kind == VERDICT_INSUFFICIENT;

		if (!fails && !loud)
			continue;
		snprintf(title, sizeof(title), "perfgate: %s %s %s", row->bench, row->metric,
			 verdict_name(row->v.kind));
		snprintf(msg, sizeof(msg), "%s", row->v.why[0] ? row->v.why : verdict_name(row->v.kind));
		forge_annotation(out, fails ? FORGE_ERROR : FORGE_WARNING, title, msg);
	}
	for (size_t i = 0; i < r->n_slos; i++) {
		const struct compare_slo *s = &r->slos[i];
		char actual[64];

		if (s->ok)
			continue;
		report_format_value(s->actual, s->unit, actual, sizeof(actual));
		snprintf(title, sizeof(title), "perfgate: %s SLO broken", s->bench);
		if (!isfinite(s->actual) && s->why && s->why[0])
			snprintf(msg, sizeof(msg), "%s %s: %s", s->key, s->expr, s->why); /* no value: say why */
		else
			snprintf(msg, sizeof(msg), "%s %s, measured %s", s->key, s->expr, actual);
		forge_annotation(out, FORGE_ERROR, title, msg);
	}
}
