/*
 * ingest_gbench.c: Google Benchmark --benchmark_format=json (or
 * --benchmark_out_format=json).
 *
 * {"context": {...}, "benchmarks": [{"name", "run_name", "run_type":
 * "iteration"|"aggregate", "repetitions", "repetition_index", "threads",
 * "iterations", "real_time", "cpu_time", "time_unit", "aggregate_name",
 * "aggregate_unit", "bytes_per_second", "items_per_second", "error_occurred",
 * "error_message", "label", <user counters>...}]}.
 *
 * Each run_name is one benchmark.  Iteration rows (one per repetition) are
 * the samples; aggregate rows (mean, median, stddev, cv, BigO, RMS) are
 * skipped when iteration rows exist, and otherwise (with
 * --benchmark_report_aggregates_only) the median (else the mean) becomes a
 * one-sample metric marked as an aggregate; the other aggregates are kept in
 * the benchmark's extra.aggregates.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ingest.h"
#include "../util.h"

/* Members that are not user counters. */
static const char *const known_keys[] = {
	"name", "family_index", "per_family_instance_index", "run_name", "run_type", "repetitions",
	"repetition_index", "threads", "iterations", "real_time", "cpu_time", "time_unit",
	"aggregate_name", "aggregate_unit", "error_occurred", "error_message", "label",
	"bytes_per_second", "items_per_second", "big_o", "rms", "cpu_coefficient",
	"real_coefficient", "complexity", NULL
};

static bool is_known(const char *key)
{
	for (const char *const *k = known_keys; *k; k++)
		if (strcmp(*k, key) == 0)
			return true;
	return false;
}

/* Counters carry no direction in the JSON; rates are the usual "higher". */
static enum rd_direction counter_direction(const char *name)
{
	static const char *const higher[] = { "per_second", "_per_sec", "/s", "rate", "throughput",
					      "ops", "speed", "bandwidth" };
	size_t n = strlen(name);

	for (size_t i = 0; i < ARRAY_SIZE(higher); i++) {
		size_t k = strlen(higher[i]);

		if (n >= k && strcmp(name + n - k, higher[i]) == 0)
			return RD_HIGHER;
	}
	return RD_LOWER;
}

struct group {
	const char *name;   /* points into the cJSON tree */
	bool has_iterations;
	bool has_median;
};

static const char *row_group(const cJSON *row)
{
	const cJSON *rn = cJSON_GetObjectItemCaseSensitive(row, "run_name");
	const cJSON *n = cJSON_GetObjectItemCaseSensitive(row, "name");

	if (cJSON_IsString(rn))
		return rn->valuestring;
	return cJSON_IsString(n) ? n->valuestring : NULL;
}

/* An aggregate row: run_type "aggregate", or (older versions without
 * run_type) an aggregate_name member. */
static bool row_is_aggregate(const cJSON *row, const char **aggname)
{
	const cJSON *rt = cJSON_GetObjectItemCaseSensitive(row, "run_type");
	const cJSON *an = cJSON_GetObjectItemCaseSensitive(row, "aggregate_name");

	*aggname = cJSON_IsString(an) ? an->valuestring : "";
	if (cJSON_IsString(rt))
		return strcmp(rt->valuestring, "aggregate") == 0;
	return cJSON_IsString(an);
}

static struct group *find_group(struct group *g, size_t n, const char *name)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(g[i].name, name) == 0)
			return &g[i];
	return NULL;
}

static int add_value(struct rd_bench *b, const char *metric, const char *unit, enum rd_direction dir,
		     double v, const char *aggregate)
{
	struct rd_metric *m = ingest_metric(b, metric, unit, dir);

	rundoc_metric_add_sample(m, v);
	if (aggregate)
		ingest_mark_aggregate(m, aggregate);
	return 0;
}

static int one_row(const cJSON *row, const char *path, const char *group, const char *aggregate,
		   struct rundoc *rd, struct err *err)
{
	const cJSON *tu, *eo, *msg, *it;
	struct rd_bench *b;
	double scale = 1e-9, v;
	bool have;
	int rc;

	if ((rc = json_read(row, path, "time_unit", cJSON_String, false, &tu, err)) < 0 ||
	    (rc = json_read(row, path, "error_occurred", cJSON_True | cJSON_False, false, &eo,
			    err)) < 0 ||
	    (rc = json_read(row, path, "error_message", cJSON_String, false, &msg, err)) < 0)
		return rc;
	if (tu && !ingest_time_unit(tu->valuestring, &scale))
		return err_set(err, ERR_INPUT, "%s.time_unit: unknown time unit '%s' (expected ns, us, ms or s)",
			       path, tu->valuestring);
	b = ingest_bench(rd, group, INGEST_GBENCH);
	if (eo && cJSON_IsTrue(eo)) {
		rundoc_bench_fail(b, msg ? msg->valuestring : "the benchmark reported an error");
		return 0;
	}
	if ((rc = json_read_number(row, path, "real_time", true, true, &v, NULL, err)) < 0)
		return rc;
	add_value(b, "real_time", "s", RD_LOWER, v * scale, aggregate);
	if ((rc = json_read_number(row, path, "cpu_time", true, true, &v, NULL, err)) < 0)
		return rc;
	b = rundoc_find_bench(rd, group);
	add_value(b, "cpu_time", "s", RD_LOWER, v * scale, aggregate);
	if ((rc = json_read_number(row, path, "bytes_per_second", false, true, &v, &have, err)) < 0)
		return rc;
	if (have)
		add_value(b, "bytes_per_second", "B/s", RD_HIGHER, v, aggregate);
	if ((rc = json_read_number(row, path, "items_per_second", false, true, &v, &have, err)) < 0)
		return rc;
	if (have)
		add_value(b, "items_per_second", "1/s", RD_HIGHER, v, aggregate);
	cJSON_ArrayForEach(it, row) {
		char sub[512];

		if (is_known(it->string))
			continue;
		if (!cJSON_IsNumber(it))
			continue; /* labels and other strings are not counters */
		snprintf(sub, sizeof(sub), "%s.%s", path, it->string);
		if ((rc = json_read_value(it, sub, false, &v, err)) < 0)
			return rc;
		add_value(b, it->string, "1", counter_direction(it->string), v, aggregate);
	}
	return 0;
}

/* An aggregate row that is not used as a sample goes to extra.aggregates. */
static void keep_aggregate(struct rundoc *rd, const char *group, const char *aggname, const cJSON *row)
{
	struct rd_bench *b = ingest_bench(rd, group, INGEST_GBENCH);
	cJSON *aggs = cJSON_GetObjectItemCaseSensitive(b->extra, "aggregates");
	cJSON *copy = cJSON_CreateObject();
	const cJSON *it;

	if (!aggs)
		aggs = cJSON_AddObjectToObject(b->extra, "aggregates");
	cJSON_ArrayForEach(it, row) {
		if (cJSON_IsNumber(it) || cJSON_IsString(it))
			cJSON_AddItemToObject(copy, it->string, cJSON_Duplicate(it, 0));
	}
	cJSON_DeleteItemFromObjectCaseSensitive(aggs, aggname);
	cJSON_AddItemToObject(aggs, *aggname ? aggname : "unnamed", copy);
}

int ingest_gbench_parse(const char *text, size_t len, const struct ingest_options *opts,
			struct rundoc *rd, struct err *err)
{
	const cJSON *rows, *row;
	struct group *groups = NULL;
	size_t n_groups = 0, alloc_groups = 0, i;
	cJSON *root = NULL;
	char path[64];
	int rc;

	(void)opts;
	rc = ingest_json_root_array(text, len, "benchmarks", &root, &rows, err);
	if (rc < 0)
		goto done;

	/* First pass: which runs have iteration rows, which a median. */
	i = 0;
	cJSON_ArrayForEach(row, rows) {
		const char *g, *agg;
		const cJSON *name;
		struct group *gr;

		snprintf(path, sizeof(path), "benchmarks[%zu]", i++);
		if (!cJSON_IsObject(row)) {
			rc = err_set(err, ERR_INPUT, "%s: expected an object, got %s", path,
				     json_type_name(row));
			goto done;
		}
		if ((rc = json_read(row, path, "name", cJSON_String, true, &name, err)) < 0)
			goto done;
		if ((rc = json_read(row, path, "run_name", cJSON_String, false, &name, err)) < 0)
			goto done;
		g = row_group(row);
		gr = find_group(groups, n_groups, g);
		if (!gr) {
			XGROW(groups, alloc_groups, n_groups + 1);
			gr = &groups[n_groups++];
			gr->name = g;
			gr->has_iterations = gr->has_median = false;
		}
		if (!row_is_aggregate(row, &agg))
			gr->has_iterations = true;
		else if (strcmp(agg, "median") == 0)
			gr->has_median = true;
	}

	i = 0;
	cJSON_ArrayForEach(row, rows) {
		const char *g = row_group(row), *agg;
		struct group *gr = find_group(groups, n_groups, g);

		snprintf(path, sizeof(path), "benchmarks[%zu]", i++);
		if (row_is_aggregate(row, &agg)) {
			const char *use = gr->has_median ? "median" : "mean";

			if (gr->has_iterations)
				continue;
			if (strcmp(agg, use) != 0) {
				keep_aggregate(rd, g, agg, row);
				continue;
			}
			rc = one_row(row, path, g, use, rd, err);
		} else {
			rc = one_row(row, path, g, NULL, rd, err);
		}
		if (rc < 0)
			goto done;
	}
done:
	free(groups);
	cJSON_Delete(root);
	return rc;
}
