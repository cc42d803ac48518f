/*
 * ingest_go.c: `go test -bench` text output (the Go benchmark format).
 *
 *   pkg: example.com/x
 *   BenchmarkJoin-8   	 2000	  45.01 ns/op	 5 B/op	 1 allocs/op
 *
 * A result line is a name starting with "Benchmark", an iteration count,
 * then value-unit pairs.  Every line (one per -count run) adds one sample
 * to each of its metrics.  The "-N" GOMAXPROCS suffix is taken off the name
 * (kept in extra.procs).  Units: ns/op (and sec/op) -> "time" in s;
 * B/op -> "alloc_bytes"; allocs/op -> "allocs"; MB/s -> "throughput" in
 * B/s; anything else (b.ReportMetric) -> the unit with "/" spelt "_per_",
 * direction higher when it ends in "/s", else lower.  Other lines (goos:,
 * PASS, ok, logs) are skipped; "--- FAIL: BenchmarkX" marks X failed.
 * When the output holds several packages, names get the package in front.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ingest.h"
#include "../util.h"

struct unit_map {
	const char *unit;
	const char *metric;
	const char *si;
	double scale;
	enum rd_direction dir;
};

static const struct unit_map known_units[] = {
	{ "ns/op", "time", "s", 1e-9, RD_LOWER },
	{ "sec/op", "time", "s", 1, RD_LOWER },
	{ "B/op", "alloc_bytes", "B", 1, RD_LOWER },
	{ "allocs/op", "allocs", "1", 1, RD_LOWER },
	{ "MB/s", "throughput", "B/s", 1e6, RD_HIGHER },
	{ "B/s", "throughput", "B/s", 1, RD_HIGHER },
};

/* A field of a line: [p, p+len). */
struct field {
	const char *p;
	size_t len;
};

static size_t split_fields(const char *line, size_t len, struct field *f, size_t max)
{
	size_t n = 0, i = 0;

	while (i < len && n < max) {
		while (i < len && (line[i] == ' ' || line[i] == '\t' || line[i] == '\r'))
			i++;
		if (i >= len)
			break;
		f[n].p = line + i;
		while (i < len && line[i] != ' ' && line[i] != '\t' && line[i] != '\r')
			i++;
		f[n].len = (size_t)(line + i - f[n].p);
		n++;
	}
	return n;
}

static bool field_is(const struct field *f, const char *s)
{
	return f->len == strlen(s) && memcmp(f->p, s, f->len) == 0;
}

static bool all_digits(const char *p, size_t len)
{
	if (len == 0)
		return false;
	for (size_t i = 0; i < len; i++)
		if (p[i] < '0' || p[i] > '9')
			return false;
	return true;
}

/* "BenchmarkX-8" -> name "BenchmarkX", procs 8. */
static char *strip_procs(const struct field *f, long *procs)
{
	size_t n = f->len, i = n;

	*procs = 0;
	while (i > 0 && f->p[i - 1] >= '0' && f->p[i - 1] <= '9')
		i--;
	if (i > 9 && i < n && f->p[i - 1] == '-' && n - i < 6) {
		char buf[8];

		memcpy(buf, f->p + i, n - i);
		buf[n - i] = '\0';
		*procs = strtol(buf, NULL, 10);
		return xstrndup(f->p, i - 1);
	}
	return xstrndup(f->p, n);
}

static char *custom_metric_name(const char *unit)
{
	struct sb sb = SB_INIT;

	for (const char *p = unit; *p; p++) {
		if (*p == '/')
			sb_puts(&sb, "_per_");
		else
			sb_putc(&sb, *p);
	}
	return sb_detach(&sb);
}

static int parse_value(const struct field *f, size_t line, double *out, struct err *err)
{
	char buf[64], *end;

	if (f->len >= sizeof(buf))
		return err_set(err, ERR_INPUT, "line %zu: '%.*s' is not a number", line, (int)f->len, f->p);
	memcpy(buf, f->p, f->len);
	buf[f->len] = '\0';
	if (ingest_nonfinite_text(buf))
		return err_set(err, ERR_INPUT, "line %zu: '%s' is not a finite number", line, buf);
	*out = strtod(buf, &end);
	if (end == buf || *end != '\0')
		return err_set(err, ERR_INPUT, "line %zu: '%s' is not a number", line, buf);
	if (*out < 0)
		return err_set(err, ERR_INPUT, "line %zu: negative measurement %s", line, buf);
	return 0;
}

static int result_line(struct field *f, size_t nf, size_t line, const char *pkg, bool prefix_pkg,
		       struct rundoc *rd, struct err *err)
{
	struct rd_bench *b;
	char *base, *name;
	long procs;
	int rc;

	if ((nf - 2) % 2 != 0)
		return err_set(err, ERR_INPUT, "line %zu: value '%.*s' has no unit", line,
			       (int)f[nf - 1].len, f[nf - 1].p);
	if (nf < 4)
		return err_set(err, ERR_INPUT, "line %zu: benchmark '%.*s' has no measurements", line,
			       (int)f[0].len, f[0].p);
	base = strip_procs(&f[0], &procs);
	name = prefix_pkg && pkg ? xasprintf("%s.%s", pkg, base) : xstrdup(base);
	free(base);
	b = ingest_bench(rd, name, INGEST_GO);
	free(name);
	if (procs > 0 && !cJSON_HasObjectItem(b->extra, "procs"))
		cJSON_AddNumberToObject(b->extra, "procs", (double)procs);
	if (pkg && !cJSON_HasObjectItem(b->extra, "pkg"))
		cJSON_AddStringToObject(b->extra, "pkg", pkg);
	for (size_t i = 2; i + 1 < nf; i += 2) {
		const struct unit_map *um = NULL;
		struct rd_metric *m;
		char unit[64];
		double v = 0;

		if ((rc = parse_value(&f[i], line, &v, err)) < 0)
			return rc;
		if (f[i + 1].len >= sizeof(unit))
			return err_set(err, ERR_INPUT, "line %zu: unit '%.*s' is too long", line,
				       (int)f[i + 1].len, f[i + 1].p);
		memcpy(unit, f[i + 1].p, f[i + 1].len);
		unit[f[i + 1].len] = '\0';
		for (size_t k = 0; k < ARRAY_SIZE(known_units); k++)
			if (strcmp(unit, known_units[k].unit) == 0)
				um = &known_units[k];
		if (um) {
			m = ingest_metric(b, um->metric, um->si, um->dir);
			rundoc_metric_add_sample(m, v * um->scale);
		} else {
			char *mname = custom_metric_name(unit);
			size_t ul = strlen(unit);
			bool rate = ul > 2 && strcmp(unit + ul - 2, "/s") == 0;

			m = ingest_metric(b, mname, "1", rate ? RD_HIGHER : RD_LOWER);
			free(mname);
			if (!m->extra) {
				m->extra = cJSON_CreateObject();
				cJSON_AddStringToObject(m->extra, "source_unit", unit);
			}
			rundoc_metric_add_sample(m, v);
		}
	}
	return 0;
}

static size_t count_packages(const char *text, size_t len)
{
	char *seen[64];
	size_t n = 0;

	for (const char *p = text, *end = text + len; p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t ll = (size_t)((nl ? nl : end) - p);

		if (ll > 5 && strncmp(p, "pkg: ", 5) == 0) {
			char *name = xstrndup(p + 5, ll - 5);
			bool dup = false;

			for (size_t i = 0; i < n; i++)
				dup = dup || strcmp(seen[i], name) == 0;
			if (!dup && n < ARRAY_SIZE(seen))
				seen[n++] = name;
			else
				free(name);
		}
		p = nl ? nl + 1 : end;
	}
	for (size_t i = 0; i < n; i++)
		free(seen[i]);
	return n;
}

int ingest_go_parse(const char *text, size_t len, const struct ingest_options *opts,
		    struct rundoc *rd, struct err *err)
{
	bool prefix_pkg = count_packages(text, len) > 1;
	char *pkg = NULL;
	size_t line = 0;
	int rc = 0;

	(void)opts;
	if (memchr(text, '\0', len))
		return err_set(err, ERR_INPUT, "binary data: not go test -bench output");
	for (const char *p = text, *end = text + len; p < end;) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		size_t ll = (size_t)((nl ? nl : end) - p);
		struct field f[64];
		size_t nf;

		line++;
		nf = split_fields(p, ll, f, ARRAY_SIZE(f));
		if (ll > 5 && strncmp(p, "pkg: ", 5) == 0) {
			free(pkg);
			pkg = xstrndup(p + 5, ll - 5);
			while (*pkg && pkg[strlen(pkg) - 1] == '\r')
				pkg[strlen(pkg) - 1] = '\0';
		} else if (nf >= 3 && field_is(&f[0], "---") && field_is(&f[1], "FAIL:") &&
			   f[2].len > 9 && strncmp(f[2].p, "Benchmark", 9) == 0) {
			char *base, *name;
			long procs;
			struct rd_bench *b;

			base = strip_procs(&f[2], &procs);
			name = prefix_pkg && pkg ? xasprintf("%s.%s", pkg, base) : xstrdup(base);
			b = ingest_bench(rd, name, INGEST_GO);
			free(name);
			free(base);
			b->status = RUNDOC_STATUS_FAILED;
			free(b->error);
			b->error = xasprintf("go test reported a failure (line %zu)", line);
		} else if (nf >= 2 && f[0].len > 9 && strncmp(f[0].p, "Benchmark", 9) == 0 &&
			   all_digits(f[1].p, f[1].len)) {
			if (nf == ARRAY_SIZE(f)) {
				rc = err_set(err, ERR_INPUT, "line %zu: too many fields", line);
				goto done;
			}
			rc = result_line(f, nf, line, pkg, prefix_pkg, rd, err);
			if (rc < 0)
				goto done;
		}
		p = nl ? nl + 1 : end;
	}
	if (rd->n_benches == 0)
		rc = err_set(err, ERR_INPUT, "no benchmark result lines (Benchmark<Name> <N> <value> <unit>...) found");
done:
	free(pkg);
	return rc;
}
