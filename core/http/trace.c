/*
 * trace.c: request traces read line by line (see trace.h).
 */
#include "trace.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <cjson/cJSON.h>

#include "../util.h"

#define MAX_TOKENS 100000000.0 /* a length above this is not a real request */

struct http_trace {
	struct http_trace_entry *e;
	size_t n, alloc;
	uint64_t *hash;
	size_t n_hash, alloc_hash;
	int64_t *ts;              /* while reading: raw timestamps, ns */
	size_t alloc_ts;
	struct http_trace_stats stats;
};

void http_trace_free(struct http_trace *t)
{
	if (!t)
		return;
	free(t->e);
	free(t->hash);
	free(t->ts);
	free(t);
}

size_t http_trace_count(const struct http_trace *t)
{
	return t->n;
}

const struct http_trace_entry *http_trace_get(const struct http_trace *t, size_t i)
{
	return i < t->n ? &t->e[i] : NULL;
}

const uint64_t *http_trace_hash_ids(const struct http_trace *t)
{
	return t->hash;
}

const struct http_trace_stats *http_trace_stats(const struct http_trace *t)
{
	return &t->stats;
}

struct rd {
	struct http_trace *t;
	const struct http_trace_options *o;
	const char *label;
	long line;
	struct err *err;
	double unit;            /* s per numeric timestamp unit */
};

static int bad(struct rd *r, const char *field, const char *what)
{
	return err_set(r->err, ERR_INPUT, "trace '%s' line %ld: %s%s%s", r->label, r->line, field ? field : "",
		       field ? ": " : "", what);
}

static void add(struct rd *r, int64_t ts, double in, double out)
{
	struct http_trace *t = r->t;

	XGROW(t->e, t->alloc, t->n + 1);
	XGROW(t->ts, t->alloc_ts, t->n + 1);
	memset(&t->e[t->n], 0, sizeof(t->e[0]));
	t->ts[t->n] = ts;
	t->e[t->n].input_tokens = (uint32_t)in;
	t->e[t->n].output_tokens = (uint32_t)out;
	t->e[t->n].hash_off = (uint32_t)t->n_hash;
	t->n++;
}

static bool is_count(double v)
{
	return isfinite(v) && v >= 0 && v <= MAX_TOKENS && v == floor(v);
}

/* ---- JSON lines ---- */

static int json_line(struct rd *r, const char *line, size_t len)
{
	static const char *const names[] = { "timestamp", "input_length", "output_length" };
	cJSON *j = cJSON_ParseWithLength(line, len);
	const cJSON *v[3], *h;
	int rc = 0;

	if (!cJSON_IsObject(j)) {
		rc = bad(r, NULL, "expected a JSON object such as {\"timestamp\": 0, \"input_length\": 512, \"output_length\": 64}");
		goto done;
	}
	for (int k = 0; k < 3; k++) {
		v[k] = cJSON_GetObjectItemCaseSensitive(j, names[k]);
		if (!cJSON_IsNumber(v[k]) || !isfinite(v[k]->valuedouble) || v[k]->valuedouble < 0 ||
		    (k > 0 && !is_count(v[k]->valuedouble))) {
			rc = bad(r, names[k], k ? "expected a whole number of tokens >= 0" : "expected a number >= 0");
			goto done;
		}
	}
	if (v[0]->valuedouble * r->unit > 9e9) {
		rc = bad(r, names[0], "too large (over 280 years)");
		goto done;
	}
	add(r, (int64_t)llround(v[0]->valuedouble * r->unit * 1e9), v[1]->valuedouble, v[2]->valuedouble);
	h = cJSON_GetObjectItemCaseSensitive(j, "hash_ids");
	if (h && !cJSON_IsArray(h)) {
		rc = bad(r, "hash_ids", "expected an array of block ids");
		goto done;
	}
	cJSON_ArrayForEach(h, h) {
		if (!cJSON_IsNumber(h) || !(h->valuedouble >= 0) || h->valuedouble >= 9e15) {
			rc = bad(r, "hash_ids", "expected an array of block ids (whole numbers >= 0)");
			goto done;
		}
		XGROW(r->t->hash, r->t->alloc_hash, r->t->n_hash + 1);
		r->t->hash[r->t->n_hash++] = (uint64_t)h->valuedouble;
		r->t->e[r->t->n - 1].n_hash++;
	}
done:
	cJSON_Delete(j);
	return rc;
}

/* ---- CSV ---- */

struct csv_cols {
	int ts, in, out, n;        /* column indexes; n columns in the header */
	char name[3][32];          /* the header's names of ts, in, out (for messages) */
};

/* Split a line at commas (no quoting: these traces have none) into at
 * most `max` fields; returns the number found. */
static int split(char *line, char **f, int max)
{
	int n = 0;

	for (char *p = line;; p++) {
		char *c = strchr(p, ',');

		if (n < max)
			f[n] = p;
		n++;
		if (!c)
			break;
		*c = '\0';
		p = c;
	}
	for (int i = 0; i < n && i < max; i++) {
		char *s = f[i], *e;

		while (isspace((unsigned char)*s))
			s++;
		e = s + strlen(s);
		while (e > s && isspace((unsigned char)e[-1]))
			*--e = '\0';
		f[i] = s;
	}
	return n;
}

static int csv_header(struct rd *r, char *line, struct csv_cols *c)
{
	static const char *const ts[] = { "TIMESTAMP", "timestamp" };
	static const char *const in[] = { "ContextTokens", "input_length" };
	static const char *const out[] = { "GeneratedTokens", "output_length" };
	char *f[64];
	int n = split(line, f, 64);

	c->ts = c->in = c->out = -1;
	c->n = n;
	for (int i = 0; i < n && i < 64; i++) {
		for (int k = 0; k < 2; k++) {
			if (strcasecmp(f[i], ts[k]) == 0)
				c->ts = i;
			if (strcasecmp(f[i], in[k]) == 0)
				c->in = i;
			if (strcasecmp(f[i], out[k]) == 0)
				c->out = i;
		}
	}
	if (c->ts < 0 || c->in < 0 || c->out < 0)
		return bad(r, NULL, "expected a header naming the columns TIMESTAMP,ContextTokens,GeneratedTokens "
				    "(or timestamp,input_length,output_length)");
	snprintf(c->name[0], sizeof(c->name[0]), "%s", f[c->ts]);
	snprintf(c->name[1], sizeof(c->name[1]), "%s", f[c->in]);
	snprintf(c->name[2], sizeof(c->name[2]), "%s", f[c->out]);
	return 0;
}

static long days_from_civil(long y, long m, long d)
{
	long era, yoe, doy, doe;

	y -= m <= 2;
	era = (y >= 0 ? y : y - 399) / 400;
	yoe = y - era * 400;
	doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
	doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
	return era * 146097 + doe - 719468;
}

/* "2023-11-16 18:15:46.6805900" (or with 'T', a trailing 'Z' or "+00:00")
 * to nanoseconds since 1970 UTC, exactly (a double would keep only about
 * 0.4 us of a present-day time); a plain number via time_unit. */
static int timestamp(struct rd *r, const char *name, const char *s, int64_t *out)
{
	int y, mo, d, h, mi, sec, used = 0;
	char *end;
	double v;

	if (sscanf(s, "%4d-%2d-%2d%*1[ T]%2d:%2d:%2d%n", &y, &mo, &d, &h, &mi, &sec, &used) == 6 && used > 0) {
		const char *p = s + used;
		int64_t frac = 0, scale = 100000000;

		if (y < 1970 || y > 2200 || mo < 1 || mo > 12 || d < 1 || d > 31 || h < 0 || h > 23 || mi < 0 || mi > 59 ||
		    sec < 0 || sec > 60)
			return bad(r, name, "not a valid date and time");
		if (*p == '.') {
			for (p++; isdigit((unsigned char)*p); p++, scale /= 10)
				frac += (*p - '0') * scale; /* digits past the ninth add 0 */
		}
		if (*p == 'Z')
			p++;
		else if (strcmp(p, "+00:00") == 0)
			p += 6;
		if (*p)
			return bad(r, name, "expected a date and time such as 2023-11-16 18:15:46.68 (UTC)");
		*out = ((int64_t)days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec) * 1000000000 + frac;
		return 0;
	}
	errno = 0;
	v = strtod(s, &end);
	if (end == s || *end || errno || !isfinite(v) || v < 0 || v * r->unit > 9e9)
		return bad(r, name, "expected a date and time such as 2023-11-16 18:15:46.68, or a number >= 0");
	*out = (int64_t)llround(v * r->unit * 1e9);
	return 0;
}

static int csv_count(struct rd *r, const char *s, const char *name, double *out)
{
	char *end;

	errno = 0;
	*out = strtod(s, &end);
	if (end == s || *end || errno || !is_count(*out)) {
		char *what = xasprintf("expected a whole number of tokens >= 0, got \"%.40s\"", s);
		int rc = bad(r, name, what);

		free(what);
		return rc;
	}
	return 0;
}

static int csv_line(struct rd *r, char *line, const struct csv_cols *c)
{
	char *f[64];
	int n = split(line, f, 64);
	int64_t ts = 0;
	double in = 0, out = 0;

	if (n != c->n) {
		char *what = xasprintf("expected %d columns as in the header, found %d", c->n, n);
		int rc = bad(r, NULL, what);

		free(what);
		return rc;
	}
	if (timestamp(r, c->name[0], f[c->ts], &ts) || csv_count(r, f[c->in], c->name[1], &in) ||
	    csv_count(r, f[c->out], c->name[2], &out))
		return ERR_INPUT;
	add(r, ts, in, out);
	return 0;
}

/* ---- the whole trace ---- */

struct stamp {
	int64_t ts;
	size_t i;
};

static int by_time(const void *a, const void *b)
{
	const struct stamp *x = a, *y = b;

	if (x->ts != y->ts)
		return x->ts < y->ts ? -1 : 1;
	return (x->i > y->i) - (x->i < y->i); /* stable */
}

static void finish(struct http_trace *t, const struct http_trace_options *o)
{
	double scale = o->time_scale > 0 ? o->time_scale : 1.0;
	int64_t t0;
	bool sorted = true;

	for (size_t i = 1; i < t->n; i++) {
		if (t->ts[i] < t->ts[i - 1]) {
			t->stats.reordered++;
			sorted = false;
		}
	}
	if (!sorted) {
		struct http_trace_entry *e = xmalloc(t->n * sizeof(*e));
		struct stamp *st = xmalloc(t->n * sizeof(*st));

		for (size_t i = 0; i < t->n; i++) {
			st[i].ts = t->ts[i];
			st[i].i = i;
		}
		qsort(st, t->n, sizeof(*st), by_time);
		for (size_t i = 0; i < t->n; i++) {
			e[i] = t->e[st[i].i];
			t->ts[i] = st[i].ts;
		}
		free(st);
		free(t->e);
		t->e = e;
		t->alloc = t->n;
	}
	t0 = t->ts[0];
	for (size_t i = 0; i < t->n; i++)
		t->e[i].t = (uint64_t)llround((double)(t->ts[i] - t0) * scale);
	t->stats.entries = t->n;
	t->stats.span = (double)t->e[t->n - 1].t / 1e9;
	free(t->ts);
	t->ts = NULL;
}

int http_trace_read(struct http_trace **out, const struct http_trace_options *o, FILE *f, struct err *err)
{
	struct http_trace *t = xcalloc(1, sizeof(*t));
	struct rd r = { t, o, o->label ? o->label : o->path ? o->path : "(stream)", 0, err,
			o->time_unit > 0 ? o->time_unit : 0.001 };
	struct csv_cols cols = { .ts = -1, .in = -1, .out = -1 };
	char *line = NULL;
	size_t cap = 0;
	ssize_t len;
	int rc = 0;
	bool csv = false, started = false;

	*out = NULL;
	while ((len = getline(&line, &cap, f)) >= 0 && (!o->limit || t->n < o->limit)) {
		char *s = line;

		r.line++;
		while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		if (r.line == 1 && len >= 3 && memcmp(s, "\xEF\xBB\xBF", 3) == 0)
			s += 3;
		if (strspn(s, " \t") == strlen(s))
			continue;
		if (memchr(s, '\0', (size_t)(line + len - s))) {
			rc = bad(&r, NULL, "a NUL byte: not a text file");
			break;
		}
		if (!started) {
			started = true;
			csv = s[strspn(s, " \t")] != '{';
			if (csv) {
				if ((rc = csv_header(&r, s, &cols)) != 0)
					break;
				continue;
			}
		}
		rc = csv ? csv_line(&r, s, &cols) : json_line(&r, s, strlen(s));
		if (rc)
			break;
	}
	free(line);
	if (rc == 0 && ferror(f))
		rc = err_sys(err, ERR_FAIL, "cannot read trace '%s'", r.label);
	if (rc == 0 && t->n == 0)
		rc = err_set(err, ERR_INPUT, "trace '%s': no requests in it", r.label);
	if (rc) {
		http_trace_free(t);
		return rc;
	}
	t->stats.shape = csv ? "csv" : "jsonl";
	finish(t, o);
	*out = t;
	return 0;
}

int http_trace_open(struct http_trace **out, const struct http_trace_options *o, struct err *err)
{
	FILE *f = fopen(o->path, "re");
	int rc;

	*out = NULL;
	if (!f)
		return err_sys(err, ERR_FAIL, "cannot open trace '%s'", o->path);
	rc = http_trace_read(out, o, f, err);
	fclose(f);
	return rc;
}
