/*
 * ingest_locust.c: Locust's request statistics, `locust --csv PREFIX` ->
 * PREFIX_stats.csv.
 *
 * Header (Locust 2.x): Type,Name,Request Count,Failure Count,Median
 * Response Time,Average Response Time,Min Response Time,Max Response Time,
 * Average Content Size,Requests/s,Failures/s,50%,66%,75%,80%,90%,95%,98%,
 * 99%,99.9%,99.99%,100%.  Locust 1.x spelt the counts "# requests" and
 * "# failures" and the times in lower case; 0.x had "Method" for "Type".
 * Columns are found by name, so either works.  Response times are in ms;
 * percentiles are "N/A" when a row had no requests.  The last row is
 * ",Aggregated,...".
 *
 * One file is one run: each row becomes a benchmark named "TYPE NAME"
 * ("Aggregated" for the total) with one sample per metric:
 * response_time.{median,mean,min,max,pNN} (s), throughput (requests/s),
 * failure_rate (failures / requests).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "ingest.h"
#include "../util.h"

#define MAX_FIELDS 64

struct csv {
	const char *p, *end;
	size_t line;          /* line the current record starts on */
	size_t next_line;
	char *field[MAX_FIELDS];
	size_t n;
};

static void csv_clear(struct csv *c)
{
	for (size_t i = 0; i < c->n; i++)
		free(c->field[i]);
	c->n = 0;
}

/* Read one record.  Returns 1 with c->field filled, 0 at the end, or
 * ERR_INPUT. */
static int csv_next(struct csv *c, struct err *err)
{
	struct sb f = SB_INIT;

	csv_clear(c);
	/* Skip blank lines. */
	while (c->p < c->end && (*c->p == '\n' || *c->p == '\r')) {
		if (*c->p == '\n')
			c->next_line++;
		c->p++;
	}
	if (c->p >= c->end)
		return 0;
	c->line = c->next_line;
	for (;;) {
		bool quoted = false;

		sb_reset(&f);
		if (c->p < c->end && *c->p == '"') {
			quoted = true;
			c->p++;
			for (;;) {
				if (c->p >= c->end) {
					sb_release(&f);
					return err_set(err, ERR_INPUT,
						       "line %zu: unterminated quoted field (truncated file?)",
						       c->line);
				}
				if (*c->p == '"') {
					if (c->p + 1 < c->end && c->p[1] == '"') {
						sb_putc(&f, '"');
						c->p += 2;
						continue;
					}
					c->p++;
					break;
				}
				if (*c->p == '\n')
					c->next_line++;
				sb_putc(&f, *c->p++);
			}
		}
		while (c->p < c->end && *c->p != ',' && *c->p != '\n' && *c->p != '\r') {
			if (quoted) {
				sb_release(&f);
				return err_set(err, ERR_INPUT, "line %zu: text after a closing quote",
					       c->next_line);
			}
			sb_putc(&f, *c->p++);
		}
		if (c->n == MAX_FIELDS) {
			sb_release(&f);
			return err_set(err, ERR_INPUT, "line %zu: more than %d fields", c->line, MAX_FIELDS);
		}
		c->field[c->n++] = f.buf ? sb_detach(&f) : xstrdup("");
		if (c->p < c->end && *c->p == ',') {
			c->p++;
			continue;
		}
		if (c->p < c->end && *c->p == '\r')
			c->p++;
		if (c->p < c->end && *c->p == '\n') {
			c->p++;
			c->next_line++;
		}
		break;
	}
	sb_release(&f);
	return 1;
}

enum col {
	COL_TYPE, COL_NAME, COL_REQUESTS, COL_FAILURES, COL_MEDIAN, COL_MEAN, COL_MIN, COL_MAX,
	COL_RPS, COL_N
};

static const struct {
	enum col col;
	const char *names[3];
	bool required;
} columns[] = {
	{ COL_TYPE, { "Type", "Method", NULL }, false },
	{ COL_NAME, { "Name", NULL, NULL }, true },
	{ COL_REQUESTS, { "Request Count", "# requests", NULL }, true },
	{ COL_FAILURES, { "Failure Count", "# failures", NULL }, true },
	{ COL_MEDIAN, { "Median Response Time", NULL, NULL }, true },
	{ COL_MEAN, { "Average Response Time", NULL, NULL }, true },
	{ COL_MIN, { "Min Response Time", NULL, NULL }, true },
	{ COL_MAX, { "Max Response Time", NULL, NULL }, true },
	{ COL_RPS, { "Requests/s", NULL, NULL }, true },
};

/* A number cell; *present is false for "N/A" and empty cells. */
static int cell_number(const struct csv *c, size_t i, const char *colname, double *out,
		       bool *present, struct err *err)
{
	const char *s = c->field[i];
	char *end;

	*present = false;
	if (!*s || strcmp(s, "N/A") == 0)
		return 0;
	if (ingest_nonfinite_text(s))
		return err_set(err, ERR_INPUT, "line %zu, column '%s': '%s' is not a finite number",
			       c->line, colname, s);
	*out = strtod(s, &end);
	if (end == s || *end != '\0')
		return err_set(err, ERR_INPUT, "line %zu, column '%s': '%s' is not a number", c->line,
			       colname, s);
	if (*out < 0)
		return err_set(err, ERR_INPUT, "line %zu, column '%s': negative value %s", c->line,
			       colname, s);
	*present = true;
	return 0;
}

/* The header row: the column names, the percentile of each "NN%" column
 * (-1 for the others), and where each known column is (-1: absent). */
struct header {
	char **names;
	double *pct;
	size_t n;
	long col[COL_N];
};

static void header_release(struct header *h)
{
	for (size_t i = 0; h->names && i < h->n; i++)
		free(h->names[i]);
	free(h->names);
	free(h->pct);
}

static int read_header(struct csv *c, struct header *h, struct err *err)
{
	int rc = csv_next(c, err);

	if (rc < 0)
		return rc;
	if (rc == 0)
		return err_set(err, ERR_INPUT, "empty file: no CSV header");
	h->n = c->n;
	h->names = xcalloc(h->n, sizeof(*h->names));
	h->pct = xcalloc(h->n, sizeof(*h->pct));
	for (size_t i = 0; i < h->n; i++) {
		size_t l = strlen(c->field[i]);
		char *end;

		h->names[i] = xstrdup(c->field[i]);
		h->pct[i] = -1;
		if (l > 1 && h->names[i][l - 1] == '%') {
			double p = strtod(h->names[i], &end);

			if (end == h->names[i] + l - 1 && p > 0 && p < 100)
				h->pct[i] = p; /* 100% is the max, already a metric */
		}
	}
	for (size_t k = 0; k < ARRAY_SIZE(columns); k++) {
		long *col = &h->col[columns[k].col];

		*col = -1;
		for (size_t i = 0; i < h->n && *col < 0; i++)
			for (size_t a = 0; a < 3 && columns[k].names[a]; a++)
				if (strcasecmp(h->names[i], columns[k].names[a]) == 0)
					*col = (long)i;
		if (*col < 0 && columns[k].required)
			return err_set(err, ERR_INPUT,
				       "line 1: no '%s' column in the header (is this a Locust _stats.csv?)",
				       columns[k].names[0]);
	}
	return 0;
}

/* The cell of a known column as a number (absent column: *have false). */
static int cell(const struct csv *c, const struct header *h, enum col k, double *v, bool *have, struct err *err)
{
	return cell_number(c, (size_t)h->col[k], h->names[h->col[k]], v, have, err);
}

/* The response times of a row, in ms in the file: median, mean, min, max
 * and every percentile column. */
static int row_times(const struct csv *c, const struct header *h, struct rd_bench *b, bool any, struct err *err)
{
	static const struct {
		enum col col;
		const char *stat;
	} times[] = { { COL_MEDIAN, "median" }, { COL_MEAN, "mean" }, { COL_MIN, "min" }, { COL_MAX, "max" } };
	char metric[64];
	double v;
	bool have;
	int rc;

	for (size_t k = 0; k < ARRAY_SIZE(times); k++) {
		if ((rc = cell(c, h, times[k].col, &v, &have, err)) < 0)
			return rc;
		if (!have || !any)
			continue;
		snprintf(metric, sizeof(metric), "response_time.%s", times[k].stat);
		rundoc_metric_add_sample(ingest_metric(b, metric, "s", RD_LOWER), v * 1e-3);
	}
	for (size_t i = 0; i < h->n; i++) {
		if (h->pct[i] < 0)
			continue;
		if ((rc = cell_number(c, i, h->names[i], &v, &have, err)) < 0)
			return rc;
		if (!have || !any)
			continue;
		snprintf(metric, sizeof(metric), "response_time.p%g", h->pct[i]);
		rundoc_metric_add_sample(ingest_metric(b, metric, "s", RD_LOWER), v * 1e-3);
	}
	return 0;
}

/* One row: one benchmark ("Type Name"), one sample per metric. */
static int one_row(struct csv *c, const struct header *h, struct rundoc *rd, struct err *err)
{
	const char *type = h->col[COL_TYPE] >= 0 ? c->field[h->col[COL_TYPE]] : "";
	struct rd_bench *b;
	char *name;
	double requests = 0, failures = 0, v;
	bool have;
	int rc;

	if (c->n != h->n)
		return err_set(err, ERR_INPUT, "line %zu: expected %zu fields like the header, got %zu", c->line,
			       h->n, c->n);
	if ((size_t)h->col[COL_TYPE] < c->n && h->col[COL_TYPE] >= 0 && *type)
		name = xasprintf("%s %s", type, c->field[h->col[COL_NAME]]);
	else
		name = xstrdup(c->field[h->col[COL_NAME]]);
	if (!*name) {
		free(name);
		return err_set(err, ERR_INPUT, "line %zu: empty Name", c->line);
	}
	b = ingest_bench(rd, name, INGEST_LOCUST);
	free(name);
	if ((rc = cell(c, h, COL_REQUESTS, &requests, &have, err)) < 0 ||
	    (rc = cell(c, h, COL_FAILURES, &failures, &have, err)) < 0)
		return rc;
	if (failures > requests)
		return err_set(err, ERR_INPUT, "line %zu: %g failures of %g requests", c->line, failures,
			       requests);
	if ((rc = row_times(c, h, b, requests > 0, err)) < 0 || (rc = cell(c, h, COL_RPS, &v, &have, err)) < 0)
		return rc;
	if (have)
		rundoc_metric_add_sample(ingest_metric(b, "throughput", "1/s", RD_HIGHER), v);
	if (requests > 0)
		rundoc_metric_add_sample(ingest_metric(b, "failure_rate", "1", RD_LOWER), failures / requests);
	else
		ingest_warn(b, "no requests were made");
	if (b->n_metrics == 0)
		rundoc_bench_fail(b, "Locust recorded no requests");
	return 0;
}

int ingest_locust_parse(const char *text, size_t len, const struct ingest_options *opts,
			struct rundoc *rd, struct err *err)
{
	struct csv c = { text, text + len, 1, 1, { NULL }, 0 };
	struct header h;
	size_t rows = 0;
	int rc;

	(void)opts;
	memset(&h, 0, sizeof(h));
	if (memchr(text, '\0', len))
		return err_set(err, ERR_INPUT, "binary data: not a Locust CSV file");
	if ((rc = read_header(&c, &h, err)) < 0)
		goto done;
	while ((rc = csv_next(&c, err)) > 0) {
		if ((rc = one_row(&c, &h, rd, err)) < 0)
			goto done;
		rows++;
	}
	if (rc == 0 && rows == 0)
		rc = err_set(err, ERR_INPUT, "no rows after the header: no results");
done:
	csv_clear(&c);
	header_release(&h);
	return rc;
}
