/*
 * ingest_jmh.c: JMH's JSON result file (-rf json).
 *
 * [{"jmhVersion", "benchmark": "org.x.Bench.method", "mode": "thrpt"|"avgt"|
 * "sample"|"ss", "threads", "forks", "params": {...}, "primaryMetric":
 * {"score", "scoreError", "scoreConfidence", "scorePercentiles",
 * "scoreUnit": "ops/s"|"ns/op"|..., "rawData": [[per iteration]...per fork],
 * "rawDataHistogram" (sample mode)}, "secondaryMetrics": {"·gc.alloc.rate":
 * {...same shape...}}}].
 *
 * Every measurement iteration of every fork (rawData) is a sample.  In
 * sample mode without rawData, each iteration's histogram gives one sample
 * (its mean).  Score units: "ops/TU" is throughput (1/s, higher), "TU/op" is
 * time (s, lower), TU one of ns us ms s min hr day; any other primary unit
 * is an error.  Secondary metrics with units perfgate knows (B/op, MB/sec,
 * TU/op, ops/TU, #, #/op, ms, ...) are kept; others are skipped with a
 * warning.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ingest.h"
#include "../util.h"

struct jmh_unit {
	const char *metric;  /* "throughput", "time", or NULL: keep the secondary's name */
	const char *si;
	double scale;
	enum rd_direction dir;
};

static bool parse_unit(const char *u, struct jmh_unit *out)
{
	size_t n = strlen(u);
	double s;

	if (n > 4 && strncmp(u, "ops/", 4) == 0 && ingest_time_unit(u + 4, &s)) {
		*out = (struct jmh_unit){ "throughput", "1/s", 1 / s, RD_HIGHER };
		return true;
	}
	if (n > 3 && strcmp(u + n - 3, "/op") == 0) {
		char tu[16];

		if (n - 3 < sizeof(tu)) {
			memcpy(tu, u, n - 3);
			tu[n - 3] = '\0';
			if (ingest_time_unit(tu, &s)) {
				*out = (struct jmh_unit){ "time", "s", s, RD_LOWER };
				return true;
			}
		}
	}
	if (strcmp(u, "B/op") == 0) {
		*out = (struct jmh_unit){ NULL, "B", 1, RD_LOWER };
		return true;
	}
	if (strcmp(u, "MB/sec") == 0) { /* the GC profiler's MB are MiB */
		*out = (struct jmh_unit){ NULL, "B/s", 1048576, RD_LOWER };
		return true;
	}
	if (strcmp(u, "#") == 0 || strcmp(u, "#/op") == 0 || strcmp(u, "counts") == 0) {
		*out = (struct jmh_unit){ NULL, "1", 1, RD_LOWER };
		return true;
	}
	if (ingest_time_unit(u, &s)) {
		*out = (struct jmh_unit){ NULL, "s", s, RD_LOWER };
		return true;
	}
	return false;
}

static int add_samples(struct rd_bench *b, const char *metric, const struct jmh_unit *u,
		       const cJSON *pm, const char *path, struct err *err)
{
	const cJSON *raw, *hist, *fork, *it;
	struct rd_metric *m = ingest_metric(b, metric, u->si, u->dir);
	char sub[700];
	size_t f = 0;
	double v;
	int rc;

	if ((rc = json_read(pm, path, "rawData", cJSON_Array, false, &raw, err)) < 0 ||
	    (rc = json_read(pm, path, "rawDataHistogram", cJSON_Array, false, &hist, err)) < 0)
		return rc;
	if (raw && cJSON_GetArraySize(raw) > 0) {
		cJSON_ArrayForEach(fork, raw) {
			size_t i = 0;

			if (!cJSON_IsArray(fork))
				return err_set(err, ERR_INPUT, "%s.rawData[%zu]: expected an array, got %s",
					       path, f, json_type_name(fork));
			cJSON_ArrayForEach(it, fork) {
				snprintf(sub, sizeof(sub), "%s.rawData[%zu][%zu]", path, f, i++);
				if ((rc = json_read_value(it, sub, true, &v, err)) < 0)
					return rc;
				rundoc_metric_add_sample(m, v * u->scale);
			}
			f++;
		}
		if (m->n_samples > 0)
			return 0;
	}
	if (hist && cJSON_GetArraySize(hist) > 0) {
		cJSON_ArrayForEach(fork, hist) {
			size_t i = 0;

			if (!cJSON_IsArray(fork))
				return err_set(err, ERR_INPUT, "%s.rawDataHistogram[%zu]: expected an array, got %s",
					       path, f, json_type_name(fork));
			cJSON_ArrayForEach(it, fork) { /* one iteration: [[value, count], ...] */
				const cJSON *pair;
				double sum = 0, count = 0;
				size_t k = 0;

				if (!cJSON_IsArray(it))
					return err_set(err, ERR_INPUT,
						       "%s.rawDataHistogram[%zu][%zu]: expected an array, got %s",
						       path, f, i, json_type_name(it));
				cJSON_ArrayForEach(pair, it) {
					double val, c;

					snprintf(sub, sizeof(sub), "%s.rawDataHistogram[%zu][%zu][%zu]", path, f, i, k++);
					if (!cJSON_IsArray(pair) || cJSON_GetArraySize(pair) != 2)
						return err_set(err, ERR_INPUT, "%s: expected [value, count], got %s",
							       sub, json_type_name(pair));
					if ((rc = json_read_value(cJSON_GetArrayItem(pair, 0), sub, true, &val, err)) < 0 ||
					    (rc = json_read_value(cJSON_GetArrayItem(pair, 1), sub, true, &c, err)) < 0)
						return rc;
					sum += val * c;
					count += c;
				}
				if (count > 0)
					rundoc_metric_add_sample(m, sum / count * u->scale);
				i++;
			}
			f++;
		}
		if (m->n_samples > 0) {
			ingest_mark_aggregate(m, "iteration mean");
			return 0;
		}
	}
	if ((rc = json_read_number(pm, path, "score", true, true, &v, NULL, err)) < 0)
		return rc;
	rundoc_metric_add_sample(m, v * u->scale);
	ingest_mark_aggregate(m, "score");
	return 0;
}

static int one_metric(struct rd_bench *b, const char *name, const cJSON *pm, const char *path,
		      bool primary, struct err *err)
{
	const cJSON *unit;
	struct jmh_unit u;
	int rc;

	if (!cJSON_IsObject(pm))
		return err_set(err, ERR_INPUT, "%s: expected an object, got %s", path, json_type_name(pm));
	if ((rc = json_read(pm, path, "scoreUnit", cJSON_String, true, &unit, err)) < 0)
		return rc;
	/* A primary score is a throughput or a time per operation; the other
	 * units perfgate knows are for profilers' secondary metrics. */
	if (!parse_unit(unit->valuestring, &u) || (primary && !u.metric)) {
		if (primary)
			return err_set(err, ERR_INPUT, "%s.scoreUnit: unknown unit '%s' (expected ops/TU or TU/op, TU one of ns us ms s min hr)",
				       path, unit->valuestring);
		ingest_warn(b, "secondary metric '%s' skipped: unknown unit '%s'", name, unit->valuestring);
		return 0;
	}
	return add_samples(b, primary ? u.metric : name, &u, pm, path, err);
}

static int one_result(const cJSON *r, const char *path, struct rundoc *rd, struct err *err)
{
	const cJSON *bench, *mode, *params, *pm, *sec, *it;
	struct rd_bench *b;
	struct sb name = SB_INIT;
	char *unique, sub[600];
	int rc;

	if (!cJSON_IsObject(r))
		return err_set(err, ERR_INPUT, "%s: expected an object, got %s", path, json_type_name(r));
	if ((rc = json_read(r, path, "benchmark", cJSON_String, true, &bench, err)) < 0 ||
	    (rc = json_read(r, path, "mode", cJSON_String, false, &mode, err)) < 0 ||
	    (rc = json_read(r, path, "params", cJSON_Object, false, &params, err)) < 0 ||
	    (rc = json_read(r, path, "primaryMetric", cJSON_Object, true, &pm, err)) < 0 ||
	    (rc = json_read(r, path, "secondaryMetrics", cJSON_Object, false, &sec, err)) < 0)
		return rc;
	sb_puts(&name, bench->valuestring);
	if (params && cJSON_GetArraySize(params) > 0) {
		bool first = true;

		sb_putc(&name, '[');
		cJSON_ArrayForEach(it, params) {
			sb_printf(&name, "%s%s=%s", first ? "" : ",", it->string,
				  cJSON_IsString(it) ? it->valuestring : "?");
			first = false;
		}
		sb_putc(&name, ']');
	}
	unique = ingest_unique_name(rd, sb_str(&name));
	sb_release(&name);
	b = ingest_bench(rd, unique, INGEST_JMH);
	free(unique);
	if (params)
		b->params = cJSON_Duplicate(params, 1);
	if (mode)
		cJSON_AddStringToObject(b->extra, "mode", mode->valuestring);
	snprintf(sub, sizeof(sub), "%s.primaryMetric", path);
	if ((rc = one_metric(b, "primary", pm, sub, true, err)) < 0)
		return rc;
	if (sec) {
		cJSON_ArrayForEach(it, sec) {
			const char *n = it->string;

			/* JMH prefixes profiler metrics with U+00B7 MIDDLE DOT. */
			if ((unsigned char)n[0] == 0xC2 && (unsigned char)n[1] == 0xB7)
				n += 2;
			snprintf(sub, sizeof(sub), "%s.secondaryMetrics.%s", path, it->string);
			if (!*n)
				return err_set(err, ERR_INPUT, "%s: empty metric name", sub);
			if (strcmp(n, "time") == 0 || strcmp(n, "throughput") == 0)
				continue; /* would clash with the primary metric */
			if ((rc = one_metric(b, n, it, sub, false, err)) < 0)
				return rc;
		}
	}
	return 0;
}

int ingest_jmh_parse(const char *text, size_t len, const struct ingest_options *opts,
		     struct rundoc *rd, struct err *err)
{
	const cJSON *r;
	cJSON *root = NULL;
	char path[64];
	size_t i = 0;
	int rc;

	(void)opts;
	rc = ingest_json_parse(text, len, false, &root, NULL, err);
	if (rc < 0)
		goto done;
	if (!cJSON_IsArray(root)) {
		rc = err_set(err, ERR_INPUT, "expected a JSON array of JMH results, got %s",
			     json_type_name(root));
		goto done;
	}
	if (cJSON_GetArraySize(root) == 0) {
		rc = err_set(err, ERR_INPUT, "empty array: no benchmark results");
		goto done;
	}
	cJSON_ArrayForEach(r, root) {
		snprintf(path, sizeof(path), "[%zu]", i++);
		if ((rc = one_result(r, path, rd, err)) < 0)
			goto done;
	}
done:
	cJSON_Delete(root);
	return rc;
}
