/*
 * ingest_pytest.c: pytest-benchmark --benchmark-json.
 *
 * {"machine_info", "commit_info", "benchmarks": [{"group", "name",
 * "fullname", "params", "param", "extra_info", "options", "stats": {"min",
 * "max", "mean", "stddev", "rounds", "median", "iqr", "q1", "q3", "ops",
 * "total", "iterations", "data": [s...] (with --benchmark-save-data)}}],
 * "datetime", "version"}.
 *
 * Each round's time (already divided by the iterations per round) is a
 * sample of "time"; without data the median becomes a one-sample metric
 * marked as an aggregate.  Benchmarks are named by "name" unless two share
 * one (the same test in two files), then by "fullname".
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ingest.h"
#include "../util.h"

static size_t count_name(const cJSON *list, const char *name)
{
	const cJSON *it, *n;
	size_t count = 0;

	cJSON_ArrayForEach(it, list) {
		n = cJSON_GetObjectItemCaseSensitive(it, "name");
		if (cJSON_IsString(n) && strcmp(n->valuestring, name) == 0)
			count++;
	}
	return count;
}

static int one_bench(const cJSON *list, const cJSON *jb, const char *path, struct rundoc *rd,
		     struct err *err)
{
	const cJSON *name, *fullname, *stats, *data, *params, *group, *extra_info;
	struct rd_bench *b;
	struct rd_metric *m;
	char sub[512], *bname;
	double v;
	int rc;

	if (!cJSON_IsObject(jb))
		return err_set(err, ERR_INPUT, "%s: expected an object, got %s", path,
			       json_type_name(jb));
	if ((rc = json_read(jb, path, "name", cJSON_String, true, &name, err)) < 0 ||
	    (rc = json_read(jb, path, "fullname", cJSON_String, false, &fullname, err)) < 0 ||
	    (rc = json_read(jb, path, "stats", cJSON_Object, true, &stats, err)) < 0 ||
	    (rc = json_read(jb, path, "params", cJSON_Object, false, &params, err)) < 0 ||
	    (rc = json_read(jb, path, "group", cJSON_String, false, &group, err)) < 0 ||
	    (rc = json_read(jb, path, "extra_info", cJSON_Object, false, &extra_info, err)) < 0)
		return rc;
	snprintf(sub, sizeof(sub), "%s.stats", path);
	if ((rc = json_read(stats, sub, "data", cJSON_Array, false, &data, err)) < 0)
		return rc;
	for (const char *const *k = (const char *const[]){ "min", "max", "mean", "stddev", "median",
							   "ops", "total", NULL };
	     *k; k++) {
		if ((rc = json_read_number(stats, sub, *k, false, true, &v, NULL, err)) < 0)
			return rc;
	}

	bname = ingest_unique_name(rd, count_name(list, name->valuestring) > 1 && fullname
					       ? fullname->valuestring
					       : name->valuestring);
	b = ingest_bench(rd, bname, INGEST_PYTEST);
	free(bname);
	if (params)
		b->params = cJSON_Duplicate(params, 1);
	if (group)
		cJSON_AddStringToObject(b->extra, "group", group->valuestring);
	if (extra_info && cJSON_GetArraySize(extra_info) > 0)
		cJSON_AddItemToObject(b->extra, "extra_info", cJSON_Duplicate(extra_info, 1));
	m = ingest_metric(b, "time", "s", RD_LOWER);
	if (data && cJSON_GetArraySize(data) > 0) {
		const cJSON *it;
		size_t i = 0;

		cJSON_ArrayForEach(it, data) {
			char ipath[600];

			snprintf(ipath, sizeof(ipath), "%s.data[%zu]", sub, i++);
			if ((rc = json_read_value(it, ipath, true, &v, err)) < 0)
				return rc;
			rundoc_metric_add_sample(m, v);
		}
	} else {
		if ((rc = json_read_number(stats, sub, "median", true, true, &v, NULL, err)) < 0)
			return rc;
		rundoc_metric_add_sample(m, v);
		ingest_mark_aggregate(m, "median");
	}
	return 0;
}

int ingest_pytest_parse(const char *text, size_t len, const struct ingest_options *opts,
			struct rundoc *rd, struct err *err)
{
	const cJSON *list, *jb;
	cJSON *root = NULL;
	char path[64];
	size_t i = 0;
	int rc;

	(void)opts;
	rc = ingest_json_root_array(text, len, "benchmarks", &root, &list, err);
	if (rc < 0)
		goto done;
	cJSON_ArrayForEach(jb, list) {
		snprintf(path, sizeof(path), "benchmarks[%zu]", i++);
		if ((rc = one_bench(list, jb, path, rd, err)) < 0)
			goto done;
	}
done:
	cJSON_Delete(root);
	return rc;
}
