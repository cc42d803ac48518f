/*
 * historyview.c: what `perfgate history` prints: the stored series
 * (--list) and one series' rows, as a table, CSV (RFC 4180) or JSON.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "../core/report.h"
#include "../core/util.h"
#include "../db/history.h"
#include "cmd.h"
#include "historyview.h"

/* "12.1 ms", "512 MiB", "48.2/s": the reports' own formatting. */
static char *human(double v, const char *unit)
{
	char buf[64];

	report_format_value(v, unit, buf, sizeof(buf));
	return xstrdup(buf);
}

/* RFC 4180: quote when needed, double the quotes. */
static void csv_field(const char *s)
{
	if (!s)
		return;
	if (!strpbrk(s, ",\"\r\n")) {
		fputs(s, stdout);
		return;
	}
	putchar('"');
	for (; *s; s++) {
		if (*s == '"')
			putchar('"');
		putchar(*s);
	}
	putchar('"');
}

static void csv_num(double v)
{
	if (isfinite(v))
		printf("%.9g", v);
}

static cJSON *json_num(double v)
{
	return isfinite(v) ? cJSON_CreateNumber(v) : cJSON_CreateNull();
}

static cJSON *json_str(const char *s)
{
	return s ? cJSON_CreateString(s) : cJSON_CreateNull();
}

static void print_json(cJSON *j)
{
	char *text = cJSON_Print(j);
	puts(text);
	free(text);
	cJSON_Delete(j);
}

int cmd_history_print_list(struct db *db, const char *project, const char *suite, enum cmd_history_format fmt)
{
	struct history_series *s = NULL;
	size_t n = 0;
	struct err err = ERR_INIT;
	int rc;

	if ((rc = history_list(db, project, suite, &s, &n, &err)) < 0)
		return cmd_fail(rc, &err);
	if (fmt == HISTORY_JSON) {
		cJSON *arr = cJSON_CreateArray();
		for (size_t i = 0; i < n; i++) {
			cJSON *o = cJSON_CreateObject();
			cJSON_AddItemToObject(o, "project", json_str(s[i].project));
			cJSON_AddItemToObject(o, "suite", json_str(s[i].suite));
			cJSON_AddItemToObject(o, "benchmark", json_str(s[i].benchmark));
			cJSON_AddItemToObject(o, "metric", json_str(s[i].metric));
			cJSON_AddItemToObject(o, "unit", json_str(s[i].unit));
			cJSON_AddNumberToObject(o, "runs", (double)s[i].runs);
			cJSON_AddItemToObject(o, "last_median", json_num(s[i].last_median));
			cJSON_AddItemToObject(o, "last_time", json_str(s[i].last_time));
			cJSON_AddItemToObject(o, "last_started_at", json_str(s[i].last_started_at));
			cJSON_AddItemToArray(arr, o);
		}
		print_json(arr);
	} else if (fmt == HISTORY_CSV) {
		puts("project,suite,benchmark,metric,unit,runs,last_median,last_time,last_started_at");
		for (size_t i = 0; i < n; i++) {
			csv_field(s[i].project);
			putchar(',');
			csv_field(s[i].suite);
			putchar(',');
			csv_field(s[i].benchmark);
			putchar(',');
			csv_field(s[i].metric);
			putchar(',');
			csv_field(s[i].unit);
			printf(",%lld,", s[i].runs);
			csv_num(s[i].last_median);
			putchar(',');
			csv_field(s[i].last_time);
			putchar(',');
			csv_field(s[i].last_started_at);
			putchar('\n');
		}
	} else if (n == 0) {
		puts("no runs stored yet");
	} else {
		int wp = 7, ws = 5, wm = 16;
		for (size_t i = 0; i < n; i++) {
			int l = (int)(strlen(s[i].benchmark) + 1 + strlen(s[i].metric));
			wp = (int)strlen(s[i].project) > wp ? (int)strlen(s[i].project) : wp;
			ws = (int)strlen(s[i].suite) > ws ? (int)strlen(s[i].suite) : ws;
			wm = l > wm ? l : wm;
		}
		/* The newest run is the newest in series order (commit time): its
		 * value, its commit's time, and when it ran, each labelled as what
		 * it is (a run of an old commit made today is not "last run" by
		 * its commit's date). */
		printf("%-*s  %-*s  %-*s  %6s  %-12s  %-20s  %s\n", wp, "project", ws, "suite", wm,
		       "benchmark/metric", "runs", "last", "last commit time", "last run at");
		for (size_t i = 0; i < n; i++) {
			char *name = xasprintf("%s/%s", s[i].benchmark, s[i].metric);
			char *last = human(s[i].last_median, s[i].unit);
			cmd_line("%-*s  %-*s  %-*s  %6lld  %-12s  %-20s  %s", wp, s[i].project, ws, s[i].suite,
				 wm, name, s[i].runs, last, s[i].last_in_git ? s[i].last_time : "- (no commit)",
				 s[i].last_started_at);
			free(name);
			free(last);
		}
	}
	history_series_free(s, n);
	return EXIT_PASS;
}

static void rows_json(const struct history *h, const char *bench, const char *metric)
{
	/* One object per line, each printed and freed as it is made:
	 * 100,000 rows never sit in memory as one tree. */
	fputs("[", stdout);
	for (size_t i = 0; i < h->n; i++) {
		const struct history_row *r = &h->rows[i];
		cJSON *o = cJSON_CreateObject();
		cJSON_AddItemToObject(o, "run_id", json_str(r->run_id));
		cJSON_AddItemToObject(o, "commit", json_str(r->commit));
		cJSON_AddItemToObject(o, "time", json_str(r->time));
		cJSON_AddItemToObject(o, "subject", json_str(r->subject));
		cJSON_AddItemToObject(o, "branch", json_str(r->branch));
		cJSON_AddItemToObject(o, "fingerprint", json_str(r->fingerprint));
		cJSON_AddItemToObject(o, "benchmark", json_str(bench));
		cJSON_AddItemToObject(o, "metric", json_str(metric));
		cJSON_AddItemToObject(o, "unit", json_str(h->unit));
		cJSON_AddItemToObject(o, "median", json_num(r->median));
		cJSON_AddItemToObject(o, "ci_low", json_num(r->ci_low));
		cJSON_AddItemToObject(o, "ci_high", json_num(r->ci_high));
		cJSON_AddNumberToObject(o, "n", (double)r->n);
		cJSON_AddItemToObject(o, "verdict", json_str(r->verdict));
		cJSON_AddBoolToObject(o, "dirty", r->dirty);
		cJSON_AddItemToObject(o, "not_baseline", json_str(r->not_baseline));
		cJSON_AddBoolToObject(o, "changepoint", r->changepoint);
		if (r->changepoint) {
			cJSON *c = cJSON_AddObjectToObject(o, "change");
			cJSON_AddItemToObject(c, "magnitude", json_num(r->cp_magnitude));
			cJSON_AddItemToObject(c, "p", json_num(r->cp_p));
		}
		{
			char *text = cJSON_PrintUnformatted(o);
			printf("%s\n%s", i ? "," : "", text);
			free(text);
		}
		cJSON_Delete(o);
	}
	puts(h->n ? "\n]" : "]");
}

static void rows_csv(const struct history *h)
{
	puts("run_id,commit,time,branch,median,ci_low,ci_high,n,unit,verdict,changepoint,subject,dirty");
	for (size_t i = 0; i < h->n; i++) {
		const struct history_row *r = &h->rows[i];
		printf("%s,", r->run_id);
		csv_field(r->commit);
		printf(",%s,", r->time);
		csv_field(r->branch);
		putchar(',');
		csv_num(r->median);
		putchar(',');
		csv_num(r->ci_low);
		putchar(',');
		csv_num(r->ci_high);
		printf(",%ld,", r->n);
		csv_field(h->unit);
		putchar(',');
		csv_field(r->verdict);
		printf(",%s,", r->changepoint ? "true" : "false");
		csv_field(r->subject);
		printf(",%s\n", r->dirty ? "true" : "false");
	}
}

/* Rows from several branches or machines are not one series: say so. */
/* Warn when the rows mix branches or machines; the number of branches. */
static size_t warn_mixed(const struct history *h)
{
	size_t branches = 0, machines = 0;
	for (size_t i = 0; i < h->n; i++) {
		bool nb = true, nm = true;
		for (size_t j = 0; j < i; j++) {
			if (nb && !strcmp(h->rows[j].branch ? h->rows[j].branch : "",
					  h->rows[i].branch ? h->rows[i].branch : ""))
				nb = false;
			if (nm && !strcmp(h->rows[j].fingerprint ? h->rows[j].fingerprint : "",
					  h->rows[i].fingerprint ? h->rows[i].fingerprint : ""))
				nm = false;
		}
		branches += nb;
		machines += nm;
	}
	if (branches > 1 || machines > 1)
		fprintf(stderr, "perfgate: these rows mix %zu branch%s and %zu machine%s; --branch and --machine select one series\n",
			branches, branches == 1 ? "" : "es", machines, machines == 1 ? "" : "s");
	return branches;
}

static void rows_table(const struct history *h, const char *bench, const char *metric, bool marks)
{
	bool label_branch;

	cmd_line("%s/%s (%s is better)", bench, metric, h->direction && strcmp(h->direction, "higher") == 0
								? "higher" : "lower");
	/* several branches in one table: each row says its own */
	label_branch = warn_mixed(h) > 1;

	printf("%-10s  %-20s  %10s  %-23s  %4s  %-12s  %s%s\n", "commit", "date", "median",
	       "95% CI", "n", "verdict", marks ? "change      " : "", "subject");
	for (size_t i = 0; i < h->n; i++) {
		const struct history_row *r = &h->rows[i];
		char *med = human(r->median, h->unit), *lo = human(r->ci_low, h->unit),
		     *hi = human(r->ci_high, h->unit);
		char *ci = isfinite(r->ci_low) ? xasprintf("[%s, %s]", lo, hi) : xstrdup("-");
		char commit[11], why[160];
		char change[32] = "";

		snprintf(commit, sizeof(commit), "%.10s", r->commit ? r->commit : r->run_id);
		if (marks) {
			char tmp[24] = "";
			if (r->changepoint && isfinite(r->cp_magnitude))
				snprintf(tmp, sizeof(tmp), "%s %+.1f%%", r->cp_magnitude >= 0 ? "^" : "v",
					 r->cp_magnitude * 100);
			else if (r->changepoint)
				snprintf(tmp, sizeof(tmp), "changed");
			snprintf(change, sizeof(change), "%-12s", tmp);
		}
		/* a dirty tree's run is not that commit's code, and a run that is
		 * never a baseline says why (docs/security.md): on its row */
		if (r->dirty)
			snprintf(why, sizeof(why), "(dirty tree) ");
		else if (r->not_baseline)
			snprintf(why, sizeof(why), "(not a baseline: %.*s) ", (int)strcspn(r->not_baseline, "("),
				 r->not_baseline);
		else
			why[0] = '\0';
		for (char *w = strstr(why, " )"); w; w = strstr(w, " )"))
			memmove(w, w + 1, strlen(w));
		cmd_line("%-10s  %-20s  %10s  %-23s  %4ld  %-12s  %s%s%s%s%s%s", commit, r->time, med, ci, r->n,
			 r->verdict ? r->verdict : "-", change, label_branch ? "[" : "",
			 label_branch ? (r->branch ? r->branch : "no branch") : "", label_branch ? "] " : "",
			 why, r->subject ? r->subject : "");
		free(med);
		free(lo);
		free(hi);
		free(ci);
	}
}

void cmd_history_print_rows(const struct history *h, const char *bench, const char *metric,
			    enum cmd_history_format fmt, bool marks)
{
	switch (fmt) {
	case HISTORY_JSON:
		rows_json(h, bench, metric);
		break;
	case HISTORY_CSV:
		rows_csv(h);
		break;
	case HISTORY_TABLE:
		rows_table(h, bench, metric, marks);
		break;
	}
}
