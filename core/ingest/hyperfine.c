/*
 * ingest_hyperfine.c: hyperfine --export-json.
 *
 * {"results": [{"command", "mean", "stddev", "median", "user", "system",
 * "min", "max", "times": [s...], "exit_codes": [...], "parameters": {...},
 * "memory_usage_byte": [...] (newer versions)}]}.  `times` are the
 * per-run wall times and become the samples of "wall"; user and system are
 * only written as means, so they become one-sample metrics marked as such.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ingest.h"
#include "../util.h"

static int add_array(struct rd_bench *b, const cJSON *arr, const char *path, const char *metric,
		     const char *unit, struct err *err)
{
	struct rd_metric *m = ingest_metric(b, metric, unit, RD_LOWER);
	const cJSON *it;
	size_t i = 0;
	char sub[512];
	double v;
	int rc;

	cJSON_ArrayForEach(it, arr) {
		snprintf(sub, sizeof(sub), "%s[%zu]", path, i++);
		rc = json_read_value(it, sub, true, &v, err);
		if (rc < 0)
			return rc;
		rundoc_metric_add_sample(m, v);
	}
	return 0;
}

static int one_result(const cJSON *r, const char *path, struct rundoc *rd, struct err *err)
{
	const cJSON *command, *times, *codes, *params, *mem;
	struct rd_bench *b;
	char *name = NULL;
	char sub[512];
	double v;
	bool have;
	int rc;

	if (!cJSON_IsObject(r))
		return err_set(err, ERR_INPUT, "%s: expected an object, got %s", path,
			       json_type_name(r));
	if ((rc = json_read(r, path, "command", cJSON_String, true, &command, err)) < 0 ||
	    (rc = json_read(r, path, "times", cJSON_Array, false, &times, err)) < 0 ||
	    (rc = json_read(r, path, "exit_codes", cJSON_Array, false, &codes, err)) < 0 ||
	    (rc = json_read(r, path, "parameters", cJSON_Object, false, &params, err)) < 0 ||
	    (rc = json_read(r, path, "memory_usage_byte", cJSON_Array, false, &mem, err)) < 0)
		return rc;
	/* Validate the summary members even when times are present: a file
	 * whose mean is a string is broken, whatever else it holds. */
	for (const char *const *k = (const char *const[]){ "mean", "stddev", "median", "min", "max",
							   "user", "system", NULL };
	     *k; k++) {
		if ((rc = json_read_number(r, path, *k, false, true, &v, NULL, err)) < 0)
			return rc;
	}
	name = ingest_unique_name(rd, command->valuestring);
	b = ingest_bench(rd, name, INGEST_HYPERFINE);
	free(name);
	if (params)
		b->params = cJSON_Duplicate(params, 1);

	if (times && cJSON_GetArraySize(times) > 0) {
		snprintf(sub, sizeof(sub), "%s.times", path);
		if ((rc = add_array(b, times, sub, "wall", "s", err)) < 0)
			return rc;
	} else {
		if ((rc = json_read_number(r, path, "mean", true, true, &v, NULL, err)) < 0)
			return rc;
		struct rd_metric *m = ingest_metric(b, "wall", "s", RD_LOWER);
		rundoc_metric_add_sample(m, v);
		ingest_mark_aggregate(m, "mean");
	}
	if ((rc = json_read_number(r, path, "user", false, true, &v, &have, err)) < 0)
		return rc;
	if (have) {
		struct rd_metric *m = ingest_metric(b, "user", "s", RD_LOWER);
		rundoc_metric_add_sample(m, v);
		ingest_mark_aggregate(m, "mean");
	}
	if ((rc = json_read_number(r, path, "system", false, true, &v, &have, err)) < 0)
		return rc;
	if (have) {
		struct rd_metric *m = ingest_metric(b, "sys", "s", RD_LOWER);
		rundoc_metric_add_sample(m, v);
		ingest_mark_aggregate(m, "mean");
	}
	if (mem && cJSON_GetArraySize(mem) > 0) {
		snprintf(sub, sizeof(sub), "%s.memory_usage_byte", path);
		if ((rc = add_array(b, mem, sub, "max_rss", "B", err)) < 0)
			return rc;
	}
	if (codes) {
		const cJSON *c;
		size_t i = 0, bad = 0;

		cJSON_ArrayForEach(c, codes) {
			if (!cJSON_IsNumber(c) && !cJSON_IsNull(c))
				return err_set(err, ERR_INPUT, "%s.exit_codes[%zu]: expected a number, got %s",
					       path, i, json_type_name(c));
			if (cJSON_IsNumber(c) && c->valuedouble != 0)
				bad++;
			i++;
		}
		if (bad)
			ingest_warn(b, "%zu of %zu runs exited with a nonzero status", bad, i);
	}
	return 0;
}

int ingest_hyperfine_parse(const char *text, size_t len, const struct ingest_options *opts,
			   struct rundoc *rd, struct err *err)
{
	const cJSON *results, *r;
	cJSON *root = NULL;
	char path[64];
	size_t i = 0;
	int rc;

	(void)opts;
	rc = ingest_json_root_array(text, len, "results", &root, &results, err);
	if (rc < 0)
		goto done;
	cJSON_ArrayForEach(r, results) {
		snprintf(path, sizeof(path), "results[%zu]", i++);
		rc = one_result(r, path, rd, err);
		if (rc < 0)
			goto done;
	}
done:
	cJSON_Delete(root);
	return rc;
}
