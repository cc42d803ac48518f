/*
 * ingest_k6.c: k6's end-of-test summary as JSON, in both forms k6 writes:
 *
 * - handleSummary's `data` (JSON.stringify(data)): metrics.NAME = {"type":
 *   "trend"|"counter"|"rate"|"gauge", "contains": "time"|"data"|"default",
 *   "values": {...}, "thresholds": {"p(95)<500": {"ok": true}}};
 * - --summary-export: metrics.NAME = the values themselves, with a rate's
 *   "rate" renamed "value" and thresholds as {"p(95)<500": <failed?>}.
 *
 * Values: trend {avg, min, med, max, p(90), p(95), ...}; counter {count,
 * rate}; rate {rate|value, passes, fails}; gauge {value, min, max}.  Time
 * values are milliseconds.  The export form has no "contains", so every
 * trend there is taken as time in ms (k6's built-in trends all are; use the
 * handleSummary form for a custom non-time Trend).
 *
 * One file is one run of one test: one benchmark, each statistic one metric
 * with one sample ("http_req_duration.p95", "http_reqs.rate", ...).
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ingest.h"
#include "../util.h"

enum k6_type { K6_TREND, K6_COUNTER, K6_RATE, K6_GAUGE };

/* "avg" -> "mean", "med" -> "median", "p(99.9)" -> "p99.9". */
static char *stat_name(const char *k)
{
	size_t n = strlen(k);

	if (strcmp(k, "avg") == 0)
		return xstrdup("mean");
	if (strcmp(k, "med") == 0)
		return xstrdup("median");
	if (n > 3 && k[0] == 'p' && k[1] == '(' && k[n - 1] == ')')
		return xasprintf("p%.*s", (int)(n - 3), k + 2);
	return xstrdup(k);
}

/* Failures and errors are better lower; everything else counted or rated
 * (requests, iterations, checks passed, bytes) is better higher. */
static bool is_bad_thing(const char *name)
{
	return strstr(name, "fail") || strstr(name, "error") || strstr(name, "dropped");
}

static int add(struct rd_bench *b, const char *metric, const char *stat, const char *unit,
	       enum rd_direction dir, double v)
{
	char *name = xasprintf("%s.%s", metric, stat);
	struct rd_metric *m = ingest_metric(b, name, unit, dir);

	free(name);
	rundoc_metric_add_sample(m, v);
	return 0;
}

/* How to read one metric: its k6 type, whether its values are times (ms)
 * or data (bytes), which form it comes in, and where its values are. */
struct k6_metric {
	const char *name;
	enum k6_type type;
	bool time, data;
	bool export_form;      /* --summary-export: values beside the metric, no "type" */
	const cJSON *values;
	char vpath[700];       /* the JSON path of `values` */
};

static int metric_type(struct k6_metric *km, const cJSON *jm, const char *path, struct err *err)
{
	const cJSON *jtype = cJSON_GetObjectItemCaseSensitive(jm, "type"), *contains;
	static const char *const types[] = { [K6_TREND] = "trend", [K6_COUNTER] = "counter",
					     [K6_RATE] = "rate", [K6_GAUGE] = "gauge" };
	long t;
	int rc;

	km->values = jm;
	km->time = true;
	km->export_form = !jtype;
	snprintf(km->vpath, sizeof(km->vpath), "%s", path);
	if (!km->export_form) {
		if ((rc = json_read(jm, path, "type", cJSON_String, true, &jtype, err)) < 0 ||
		    (rc = json_read(jm, path, "contains", cJSON_String, false, &contains, err)) < 0 ||
		    (rc = json_read(jm, path, "values", cJSON_Object, true, &km->values, err)) < 0)
			return rc;
		if ((t = str_index(jtype->valuestring, types, ARRAY_SIZE(types))) < 0)
			return err_set(err, ERR_INPUT, "%s.type: unknown metric type '%s'", path,
				       jtype->valuestring);
		km->type = (enum k6_type)t;
		km->time = contains && strcmp(contains->valuestring, "time") == 0;
		km->data = contains && strcmp(contains->valuestring, "data") == 0;
		snprintf(km->vpath, sizeof(km->vpath), "%s.values", path);
	} else if (cJSON_HasObjectItem(jm, "passes") || cJSON_HasObjectItem(jm, "fails")) {
		km->type = K6_RATE;
	} else if (cJSON_HasObjectItem(jm, "count")) {
		km->type = K6_COUNTER;
		km->data = strncmp(km->name, "data_", 5) == 0;
	} else if (cJSON_HasObjectItem(jm, "avg") || cJSON_HasObjectItem(jm, "med")) {
		km->type = K6_TREND;
	} else if (cJSON_HasObjectItem(jm, "value")) {
		km->type = K6_GAUGE;
	} else {
		return err_set(err, ERR_INPUT, "%s: cannot tell the metric's type from its members", path);
	}
	return 0;
}

/* One member of the metric's values ("avg", "p(95)", "count", "rate", ...). */
static int one_value(struct rd_bench *b, const struct k6_metric *km, const cJSON *it, struct err *err)
{
	const char *name = km->name, *key = it->string;
	enum rd_direction worse_is = is_bad_thing(name) ? RD_LOWER : RD_HIGHER;
	bool secs = km->time && !km->export_form;
	char ipath[800];
	double v;
	int rc;

	snprintf(ipath, sizeof(ipath), "%s.%s", km->vpath, key);
	switch (km->type) {
	case K6_TREND: {
		char *stat;

		if ((rc = json_read_value(it, ipath, km->time, &v, err)) < 0)
			return rc;
		stat = stat_name(key);
		if (km->time)
			add(b, name, stat, "s", RD_LOWER, v * 1e-3);
		else
			add(b, name, stat, km->data ? "B" : "1", RD_LOWER, v);
		free(stat);
		break;
	}
	case K6_COUNTER:
		if ((rc = json_read_value(it, ipath, true, &v, err)) < 0)
			return rc;
		if (strcmp(key, "count") == 0)
			add(b, name, "count", km->data ? "B" : "1", worse_is, v);
		else if (strcmp(key, "rate") == 0)
			add(b, name, "rate", km->data ? "B/s" : "1/s", worse_is, v);
		break;
	case K6_RATE:
		if ((rc = json_read_value(it, ipath, true, &v, err)) < 0)
			return rc;
		if (strcmp(key, "rate") != 0 && strcmp(key, "value") != 0)
			break;
		if (v > 1)
			return err_set(err, ERR_INPUT, "%s: a rate is a fraction from 0 to 1, got %g", ipath, v);
		add(b, name, "rate", "1", worse_is, v);
		break;
	case K6_GAUGE:
		if ((rc = json_read_value(it, ipath, false, &v, err)) < 0)
			return rc;
		if (strcmp(key, "value") == 0 || strcmp(key, "min") == 0 || strcmp(key, "max") == 0)
			add(b, name, key, secs ? "s" : "1", RD_LOWER, secs ? v * 1e-3 : v);
		break;
	}
	return 0;
}

/* Thresholds k6 evaluated: kept in extra "thresholds", and a failed one is
 * a warning. */
static int keep_thresholds(struct rd_bench *b, const char *name, const cJSON *jm, const char *path,
			   struct err *err)
{
	const cJSON *th = cJSON_GetObjectItemCaseSensitive(jm, "thresholds"), *it;
	cJSON *all;

	if (!cJSON_IsObject(th))
		return 0;
	all = cJSON_GetObjectItemCaseSensitive(b->extra, "thresholds");
	if (!all)
		all = cJSON_AddObjectToObject(b->extra, "thresholds");
	cJSON_ArrayForEach(it, th) {
		const cJSON *okj = json_peek(it, "ok");
		bool failed;
		char *key;

		if (cJSON_IsBool(okj))
			failed = !cJSON_IsTrue(okj);
		else if (cJSON_IsBool(it))
			failed = cJSON_IsTrue(it); /* export form: true = crossed */
		else
			return err_set(err, ERR_INPUT,
				       "%s.thresholds.%s: expected true, false or {\"ok\": ...}, got %s", path,
				       it->string, json_type_name(it));
		key = xasprintf("%s: %s", name, it->string);
		cJSON_DeleteItemFromObjectCaseSensitive(all, key);
		cJSON_AddBoolToObject(all, key, !failed);
		free(key);
		if (failed)
			ingest_warn(b, "k6 threshold '%s' on %s failed", it->string, name);
	}
	return 0;
}

static int one_metric(struct rd_bench *b, const char *name, const cJSON *jm, const char *path,
		      struct err *err)
{
	struct k6_metric km = { .name = name };
	const cJSON *it;
	int rc;

	if (!cJSON_IsObject(jm))
		return err_set(err, ERR_INPUT, "%s: expected an object, got %s", path, json_type_name(jm));
	if ((rc = metric_type(&km, jm, path, err)) < 0)
		return rc;
	cJSON_ArrayForEach(it, km.values) {
		if (strcmp(it->string, "thresholds") == 0)
			continue;
		if ((rc = one_value(b, &km, it, err)) < 0)
			return rc;
	}
	return keep_thresholds(b, name, jm, path, err);
}

int ingest_k6_parse(const char *text, size_t len, const struct ingest_options *opts,
		    struct rundoc *rd, struct err *err)
{
	const cJSON *metrics, *jm, *state;
	struct rd_bench *b;
	cJSON *root = NULL;
	char path[600];
	int rc;

	rc = ingest_json_parse(text, len, false, &root, NULL, err);
	if (rc < 0)
		goto done;
	if (!cJSON_IsObject(root)) {
		rc = err_set(err, ERR_INPUT, "expected a JSON object with \"metrics\", got %s",
			     json_type_name(root));
		goto done;
	}
	rc = json_read(root, "", "metrics", cJSON_Object, true, &metrics, err);
	if (rc < 0)
		goto done;
	if (cJSON_GetArraySize(metrics) == 0) {
		rc = err_set(err, ERR_INPUT, "metrics: empty, no results");
		goto done;
	}
	b = ingest_bench(rd, opts->bench_name ? opts->bench_name : "k6", INGEST_K6);
	cJSON_ArrayForEach(jm, metrics) {
		snprintf(path, sizeof(path), "metrics.%s", jm->string);
		if ((rc = one_metric(b, jm->string, jm, path, err)) < 0)
			goto done;
	}
	state = cJSON_GetObjectItemCaseSensitive(root, "state");
	if (cJSON_IsObject(state)) {
		const cJSON *d = cJSON_GetObjectItemCaseSensitive(state, "testRunDurationMs");

		if (cJSON_IsNumber(d))
			cJSON_AddNumberToObject(b->extra, "test_run_duration_s", d->valuedouble * 1e-3);
	}
done:
	cJSON_Delete(root);
	return rc;
}
