/*
 * runtable.c: the summary table of a finished run, for `run` and `merge`.
 * By default the key view: single metrics a row each (median, interval,
 * range, samples), each distribution's statistics in one row of a second
 * table ("latency: p50 p90 p95 p99 ...", as the reports group them,
 * core/report_group.h), and the metrics that were 0 in every repetition
 * (a clean run's error counters) named on one line.  `--all` gives every
 * metric a row of the first kind.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../core/report.h"
#include "../core/report_group.h"
#include "../core/util.h"
#include "cmd.h"

/* One distribution of a benchmark: its statistics' metrics by column. */
struct fam {
	char *name;
	const struct rd_metric *m[REPORT_GROUP_STATS];
	size_t n;
};

struct bench_view {
	struct fam *fams;           /* families of two statistics or more */
	size_t n_fams;
	const struct rd_metric **single; /* the other metrics shown, in run order */
	size_t n_single;
	const struct rd_metric **zero;   /* 0 in every repetition, named only */
	size_t n_zero;
};

static bool all_zero(const struct rd_metric *m)
{
	for (size_t i = 0; i < m->n_samples; i++)
		if (m->samples[i] != 0)
			return false;
	return m->n_samples > 0;
}

static struct fam *fam_find(struct fam *f, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(f[i].name, name) == 0)
			return &f[i];
	return NULL;
}

/* Sort a benchmark's metrics into families, single rows and zeros; with
 * all, every metric is a single row. */
static void view_build(const struct rd_bench *b, bool all, struct bench_view *v)
{
	size_t alloc = 0;

	memset(v, 0, sizeof(*v));
	v->single = xcalloc(b->n_metrics + 1, sizeof(*v->single));
	v->zero = xcalloc(b->n_metrics + 1, sizeof(*v->zero));
	for (size_t k = 0; k < b->n_metrics && !all; k++) {
		const struct rd_metric *m = &b->metrics[k];
		char *family;
		int stat;
		struct fam *f;

		if (m->n_samples == 0)
			continue;
		if ((stat = report_group_split(m->name, &family)) < 0) {
			free(family);
			continue;
		}
		if (!(f = fam_find(v->fams, v->n_fams, family))) {
			XGROW(v->fams, alloc, v->n_fams + 1);
			f = &v->fams[v->n_fams++];
			memset(f, 0, sizeof(*f));
			f->name = family;
		} else {
			free(family);
		}
		if (!f->m[stat])
			f->n++;
		f->m[stat] = m;
	}
	for (size_t k = 0; k < b->n_metrics; k++) {
		const struct rd_metric *m = &b->metrics[k];
		char *family = NULL;
		struct fam *f = NULL;

		if (m->n_samples == 0)
			continue;
		if (!all && report_group_split(m->name, &family) >= 0)
			f = fam_find(v->fams, v->n_fams, family);
		free(family);
		if (f && f->n >= 2)
			continue;
		if (!all && all_zero(m))
			v->zero[v->n_zero++] = m;
		else
			v->single[v->n_single++] = m;
	}
}

static void view_release(struct bench_view *v)
{
	for (size_t i = 0; i < v->n_fams; i++)
		free(v->fams[i].name);
	free(v->fams);
	free(v->single);
	free(v->zero);
}

static int max_int(int a, int b)
{
	return a > b ? a : b;
}

/* The messages of a benchmark under its rows: status, stderr, warnings. */
static void bench_notes(const struct rd_bench *b)
{
	const cJSON *warnings = rundoc_bench_warnings(b);
	const char *tail = rundoc_bench_stderr_tail(b);
	const cJSON *w;

	if (b->status != RUNDOC_STATUS_OK)
		cmd_line("  %s: %s", b->status == RUNDOC_STATUS_FAILED ? "FAILED" : rundoc_status_name(b->status),
			 b->error ? b->error : "");
	if (tail) {
		char *copy = xstrdup(tail);
		char *save = NULL;

		printf("  last lines of stderr:\n");
		for (char *line = strtok_r(copy, "\n", &save); line; line = strtok_r(NULL, "\n", &save))
			cmd_line("  | %s", line);
		free(copy);
	}
	cJSON_ArrayForEach(w, warnings)
		if (cJSON_IsString(w))
			cmd_line("  warning: %s", w->valuestring);
}

static void single_row(const char *bench, int wb, int wm, const struct rd_metric *m)
{
	const struct rd_summary *s = &m->summary;
	char med[32], lo[32], hi[32], mn[32], mx[32], ci[72];

	report_format_value(s->median, m->unit, med, sizeof(med));
	report_format_value(s->ci_low, m->unit, lo, sizeof(lo));
	report_format_value(s->ci_high, m->unit, hi, sizeof(hi));
	report_format_value(s->min, m->unit, mn, sizeof(mn));
	report_format_value(s->max, m->unit, mx, sizeof(mx));
	if (isnan(s->ci_low))
		snprintf(ci, sizeof(ci), "(n < 6: no interval)");
	else
		snprintf(ci, sizeof(ci), "[%s, %s]", lo, hi);
	cmd_line("%-*s %-*s %14s  %-29s %12s %12s %5zu", wb, bench, wm, m->name, med, ci, mn, mx, m->n_samples);
}

/* The families of every benchmark, the statistics as columns (the medians
 * over the repetitions; only the columns some family has).  Returns whether
 * there was any. */
static bool family_table(const struct rundoc *rd, const struct bench_view *v, int wb)
{
	bool used[REPORT_GROUP_STATS] = { false };
	int wm = (int)strlen("distribution"), wc[REPORT_GROUP_STATS];
	char cell[32];
	bool any = false;

	for (int k = 0; k < REPORT_GROUP_STATS; k++)
		wc[k] = (int)strlen(report_group_stats[k]);
	for (size_t i = 0; i < rd->n_benches; i++)
		for (size_t j = 0; j < v[i].n_fams; j++) {
			const struct fam *f = &v[i].fams[j];

			if (f->n < 2)
				continue;
			any = true;
			wm = max_int(wm, (int)strlen(f->name));
			for (int k = 0; k < REPORT_GROUP_STATS; k++)
				if (f->m[k]) {
					used[k] = true;
					report_format_value(f->m[k]->summary.median, f->m[k]->unit, cell, sizeof(cell));
					wc[k] = max_int(wc[k], (int)strlen(cell));
				}
		}
	if (!any)
		return false;
	printf("\n%-*s %-*s", wb, "benchmark", wm, "distribution");
	for (int k = 0; k < REPORT_GROUP_STATS; k++)
		if (used[k])
			printf("  %*s", wc[k], report_group_stats[k]);
	printf("\n");
	for (size_t i = 0; i < rd->n_benches; i++) {
		bool first = true;

		for (size_t j = 0; j < v[i].n_fams; j++) {
			const struct fam *f = &v[i].fams[j];
			struct sb line = SB_INIT;

			if (f->n < 2)
				continue;
			sb_printf(&line, "%-*s %-*s", wb, first ? rd->benches[i].name : "", wm, f->name);
			for (int k = 0; k < REPORT_GROUP_STATS; k++) {
				if (!used[k])
					continue;
				cell[0] = '\0';
				if (f->m[k])
					report_format_value(f->m[k]->summary.median, f->m[k]->unit, cell, sizeof(cell));
				sb_printf(&line, "  %*s", wc[k], cell);
			}
			cmd_line("%s", sb_str(&line));
			sb_release(&line);
			first = false;
		}
	}
	return true;
}

void cmd_run_table(const struct rundoc *rd, bool all)
{
	struct bench_view *v = xcalloc(rd->n_benches + 1, sizeof(*v));
	/* Columns as wide as the longest name, so that load tests' metric
	 * names ("errors.unexpected_status") keep the table aligned. */
	int wb = (int)strlen("benchmark"), wm = (int)strlen("metric");
	size_t zeros = 0;
	bool grouped;

	for (size_t i = 0; i < rd->n_benches; i++) {
		view_build(&rd->benches[i], all, &v[i]);
		wb = max_int(wb, (int)strlen(rd->benches[i].name));
		for (size_t k = 0; k < v[i].n_single; k++)
			wm = max_int(wm, (int)strlen(v[i].single[k]->name));
	}
	printf("%-*s %-*s %14s  %-29s %12s %12s %5s\n", wb, "benchmark", wm, "metric", "median", "95% CI", "min",
	       "max", "n");
	for (size_t i = 0; i < rd->n_benches; i++) {
		const struct rd_bench *b = &rd->benches[i];

		for (size_t k = 0; k < v[i].n_single; k++)
			single_row(k == 0 ? b->name : "", wb, wm, v[i].single[k]);
		if (b->n_metrics == 0 || b->metrics[0].n_samples == 0)
			cmd_line("%-*s (no samples)", wb, b->name);
		else if (v[i].n_single == 0)
			cmd_line("%-*s (distributions below)", wb, b->name);
		bench_notes(b);
		zeros += v[i].n_zero;
	}
	grouped = family_table(rd, v, wb);
	for (size_t i = 0; i < rd->n_benches; i++) {
		struct sb names = SB_INIT;

		if (!v[i].n_zero)
			continue;
		for (size_t k = 0; k < v[i].n_zero; k++)
			sb_printf(&names, "%s%s", k ? ", " : "", v[i].zero[k]->name);
		cmd_line("%s: 0 in every repetition: %s", rd->benches[i].name, sb_str(&names));
		sb_release(&names);
	}
	if (zeros || grouped)
		printf("(--all: every metric in a row of its own, with its interval)\n");
	for (size_t i = 0; i < rd->n_benches; i++)
		view_release(&v[i]);
	free(v);
}
