/*
 * ingest_vllm.c: the result file of vLLM's serving benchmark
 * (benchmarks/benchmark_serving.py --save-result, `vllm bench serve`).
 *
 * One JSON object per run: "date", "backend", "model_id", "tokenizer_id",
 * "num_prompts", "request_rate", "burstiness", "max_concurrency",
 * "duration" (s), "completed", "total_input_tokens", "total_output_tokens",
 * "request_throughput" (req/s), "request_goodput:" (older spelling, with the
 * colon) or "request_goodput" (req/s, null without --goodput),
 * "output_throughput" and "total_token_throughput" (tokens/s), and for X in
 * ttft, tpot, itl, e2el: "mean_X_ms", "median_X_ms", "std_X_ms" and
 * "pNN_X_ms" for each --metric-percentiles value.  With --save-detailed the
 * per-request arrays ("ttfts", "itls", ...) follow; requests inside a run
 * are not independent repetitions, so they are not taken as samples.
 *
 * --append-result writes one object per line: each object is one run and
 * adds one sample to every metric.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ingest.h"
#include "../util.h"

static const char *const latency_names[] = { "ttft", "tpot", "itl", "e2el" };

/* "mean_ttft_ms" -> metric "ttft.mean"; "p99.9_itl_ms" -> "itl.p99.9";
 * std is not a statistic to gate on and is kept in extra. */
static char *latency_metric(const char *key)
{
	size_t n = strlen(key);
	const char *us;

	if (n < 4 || strcmp(key + n - 3, "_ms") != 0)
		return NULL;
	us = strchr(key, '_');
	if (!us)
		return NULL;
	for (size_t i = 0; i < ARRAY_SIZE(latency_names); i++) {
		size_t ln = strlen(latency_names[i]);
		const char *stat = key;
		size_t sl = (size_t)(us - key);

		if ((size_t)(key + n - 3 - (us + 1)) != ln || strncmp(us + 1, latency_names[i], ln) != 0)
			continue;
		if (sl == 4 && strncmp(stat, "mean", 4) == 0)
			return xasprintf("%s.mean", latency_names[i]);
		if (sl == 6 && strncmp(stat, "median", 6) == 0)
			return xasprintf("%s.median", latency_names[i]);
		if (sl >= 2 && stat[0] == 'p' && stat[1] >= '0' && stat[1] <= '9')
			return xasprintf("%s.%.*s", latency_names[i], (int)sl, stat);
		return NULL;
	}
	return NULL;
}

static const struct {
	const char *key;
	const char *metric;
	const char *unit;
	enum rd_direction dir;
} rate_keys[] = {
	{ "request_throughput", "request_throughput", "1/s", RD_HIGHER },
	{ "request_goodput", "goodput", "1/s", RD_HIGHER },
	{ "request_goodput:", "goodput", "1/s", RD_HIGHER },
	{ "output_throughput", "output_throughput", "1/s", RD_HIGHER },
	{ "total_token_throughput", "total_token_throughput", "1/s", RD_HIGHER },
};

/* Run configuration: kept in extra.config, never metrics. */
static const char *const config_keys[] = {
	"date", "backend", "model_id", "tokenizer_id", "best_of", "num_prompts", "request_rate",
	"burstiness", "max_concurrency", "label", "endpoint_type", NULL
};

static int one_run(const cJSON *root, const char *path, struct rd_bench *b, struct err *err)
{
	const cJSON *it;
	size_t used = 0;
	double completed = -1, prompts = -1, v;
	int rc;

	if (!cJSON_IsObject(root))
		return err_set(err, ERR_INPUT, "%sexpected a JSON object, got %s", path,
			       json_type_name(root));
	cJSON_ArrayForEach(it, root) {
		char ipath[600], *lat;

		snprintf(ipath, sizeof(ipath), "%s%s", path, it->string);
		if (cJSON_IsNull(it))
			continue; /* e.g. goodput without --goodput, tpot of 1-token outputs */
		lat = latency_metric(it->string);
		if (lat) {
			struct rd_metric *m;

			rc = json_read_value(it, ipath, true, &v, err);
			if (rc < 0) {
				free(lat);
				return rc;
			}
			m = ingest_metric(b, lat, "s", RD_LOWER);
			free(lat);
			rundoc_metric_add_sample(m, v * 1e-3);
			used++;
			continue;
		}
		for (size_t i = 0; i < ARRAY_SIZE(rate_keys); i++) {
			if (strcmp(it->string, rate_keys[i].key) != 0)
				continue;
			if ((rc = json_read_value(it, ipath, true, &v, err)) < 0)
				return rc;
			rundoc_metric_add_sample(ingest_metric(b, rate_keys[i].metric, rate_keys[i].unit,
							       rate_keys[i].dir),
						 v);
			used++;
		}
		if (strcmp(it->string, "completed") == 0 &&
		    (rc = json_read_value(it, ipath, true, &completed, err)) < 0)
			return rc;
		if (strcmp(it->string, "num_prompts") == 0 && cJSON_IsNumber(it) &&
		    (rc = json_read_value(it, ipath, true, &prompts, err)) < 0)
			return rc;
		if (strcmp(it->string, "duration") == 0 &&
		    (rc = json_read_value(it, ipath, true, &v, err)) < 0)
			return rc;
		if (strncmp(it->string, "std_", 4) == 0) {
			if ((rc = json_read_value(it, ipath, true, &v, err)) < 0)
				return rc;
		}
	}
	if (used == 0)
		return err_set(err, ERR_INPUT,
			       "%sno serving-benchmark results (request_throughput, mean_ttft_ms, ...)",
			       *path ? path : "");
	if (completed >= 0 && prompts > 0) {
		if (completed > prompts)
			return err_set(err, ERR_INPUT, "%scompleted: %g requests completed of %g sent", path,
				       completed, prompts);
		rundoc_metric_add_sample(ingest_metric(b, "error_rate", "1", RD_LOWER),
					 (prompts - completed) / prompts);
	}
	/* The configuration of the (last) run, for the reader. */
	{
		cJSON *config = cJSON_CreateObject();

		for (const char *const *k = config_keys; *k; k++) {
			const cJSON *j = cJSON_GetObjectItemCaseSensitive(root, *k);

			if (j && (cJSON_IsString(j) || cJSON_IsNumber(j) || cJSON_IsNull(j)))
				cJSON_AddItemToObject(config, *k, cJSON_Duplicate(j, 0));
		}
		cJSON_DeleteItemFromObjectCaseSensitive(b->extra, "config");
		cJSON_AddItemToObject(b->extra, "config", config);
	}
	return 0;
}

int ingest_vllm_parse(const char *text, size_t len, const struct ingest_options *opts,
		      struct rundoc *rd, struct err *err)
{
	struct rd_bench *b = NULL;
	size_t pos = 0, run = 0;
	int rc = 0;

	while (pos < len) {
		cJSON *root = NULL;
		size_t end = 0, k = pos;
		char path[64];

		while (k < len && (text[k] == ' ' || text[k] == '\n' || text[k] == '\r' || text[k] == '\t'))
			k++;
		if (k >= len && run > 0)
			break;
		rc = ingest_json_parse(text + pos, len - pos, true, &root, &end, err);
		if (rc < 0) {
			if (run > 0)
				err_prefix(err, "run %zu (object %zu of the file)", run + 1, run + 1);
			return rc;
		}
		if (!b)
			b = ingest_bench(rd, opts->bench_name ? opts->bench_name : "vllm", INGEST_VLLM);
		k = pos + end;
		while (k < len && (text[k] == ' ' || text[k] == '\n' || text[k] == '\r' || text[k] == '\t'))
			k++;
		if (run > 0 || k < len)
			snprintf(path, sizeof(path), "[run %zu] ", run + 1);
		else
			path[0] = '\0';
		rc = one_run(root, path, b, err);
		cJSON_Delete(root);
		if (rc < 0)
			return rc;
		pos += end;
		run++;
	}
	if (b) {
		const cJSON *prev = cJSON_GetObjectItemCaseSensitive(b->extra, "runs");
		double total = (double)run + (cJSON_IsNumber(prev) ? prev->valuedouble : 0);

		cJSON_DeleteItemFromObjectCaseSensitive(b->extra, "runs");
		cJSON_AddNumberToObject(b->extra, "runs", total);
	}
	return 0;
}
