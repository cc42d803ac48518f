/*
 * preset.c: the preset tables.  Names were taken from each server's
 * documentation and source (docs/monitor.md cites the versions); where a
 * server renamed a metric, both names are candidates, newest first.  A
 * metric keeps one shape across its candidates (a ratio with a gauge
 * fallback is still one plain value) so that its history continues when
 * the server is upgraded.
 */
#include "preset.h"

#include <string.h>

#include "../util.h"

#define CANDS(a) .candidates = (a), .n_candidates = ARRAY_SIZE(a)
#define Q3 .quantiles = { 0.5, 0.9, 0.99 }, .n_quantiles = 3

/* ---- vLLM (V1 engine names first, then V0's) ---- */

static const struct prom_series_candidate vllm_kv[] = {
	{ .kind = PROM_KIND_GAUGE, .series = "vllm:kv_cache_usage_perc" },
	{ .kind = PROM_KIND_GAUGE, .series = "vllm:gpu_cache_usage_perc" },
};
static const struct prom_series_candidate vllm_waiting[] = { { .kind = PROM_KIND_GAUGE, .series = "vllm:num_requests_waiting" } };
static const struct prom_series_candidate vllm_running[] = { { .kind = PROM_KIND_GAUGE, .series = "vllm:num_requests_running" } };
static const struct prom_series_candidate vllm_preempt[] = { { .kind = PROM_KIND_COUNTER, .series = "vllm:num_preemptions" } };
static const struct prom_series_candidate vllm_prefix[] = {
	{ .kind = PROM_KIND_RATIO, .series = "vllm:prefix_cache_hits", .denominator = "vllm:prefix_cache_queries" },
	{ .kind = PROM_KIND_RATIO, .series = "vllm:gpu_prefix_cache_hits", .denominator = "vllm:gpu_prefix_cache_queries" },
	{ .kind = PROM_KIND_GAUGE, .series = "vllm:gpu_prefix_cache_hit_rate" },
};
static const struct prom_series_candidate vllm_queue[] = { { .kind = PROM_KIND_HISTOGRAM, .series = "vllm:request_queue_time_seconds" } };
static const struct prom_series_candidate vllm_ttft[] = { { .kind = PROM_KIND_HISTOGRAM, .series = "vllm:time_to_first_token_seconds" } };
static const struct prom_series_candidate vllm_gen[] = { { .kind = PROM_KIND_COUNTER, .series = "vllm:generation_tokens" } };
static const struct prom_series_candidate vllm_prompt[] = { { .kind = PROM_KIND_COUNTER, .series = "vllm:prompt_tokens" } };

static const struct prom_series_metric vllm[] = {
	{ .name = "kv_cache_usage", .unit = "1", .agg = PROM_AGG_MAX, CANDS(vllm_kv) },
	{ .name = "num_requests_waiting", .unit = "1", .agg = PROM_AGG_SUM, CANDS(vllm_waiting) },
	{ .name = "num_requests_running", .unit = "1", .agg = PROM_AGG_SUM, CANDS(vllm_running) },
	{ .name = "preemptions", .unit = "1", CANDS(vllm_preempt) },
	{ .name = "prefix_cache_hit_rate", .unit = "1", .direction = RD_HIGHER, .plain = true, CANDS(vllm_prefix) },
	{ .name = "queue_time", .unit = "s", Q3, CANDS(vllm_queue) },
	{ .name = "ttft", .unit = "s", Q3, CANDS(vllm_ttft) },
	{ .name = "generation_tokens", .unit = "1", .direction = RD_HIGHER, CANDS(vllm_gen) },
	{ .name = "prompt_tokens", .unit = "1", .direction = RD_HIGHER, CANDS(vllm_prompt) },
};

/* ---- SGLang ---- */

static const struct prom_series_candidate sgl_kv[] = { { .kind = PROM_KIND_GAUGE, .series = "sglang:token_usage" } };
static const struct prom_series_candidate sgl_waiting[] = { { .kind = PROM_KIND_GAUGE, .series = "sglang:num_queue_reqs" } };
static const struct prom_series_candidate sgl_running[] = { { .kind = PROM_KIND_GAUGE, .series = "sglang:num_running_reqs" } };
static const struct prom_series_candidate sgl_preempt[] = {
	{ .kind = PROM_KIND_COUNTER, .series = "sglang:num_retracted_requests" },
};
static const struct prom_series_candidate sgl_prefix[] = {
	{ .kind = PROM_KIND_RATIO, .series = "sglang:cached_tokens", .denominator = "sglang:prompt_tokens" },
	{ .kind = PROM_KIND_GAUGE, .series = "sglang:cache_hit_rate" },
};
static const struct prom_series_candidate sgl_queue[] = { { .kind = PROM_KIND_HISTOGRAM, .series = "sglang:queue_time_seconds" } };
static const struct prom_series_candidate sgl_ttft[] = { { .kind = PROM_KIND_HISTOGRAM, .series = "sglang:time_to_first_token_seconds" } };
static const struct prom_series_candidate sgl_gen[] = { { .kind = PROM_KIND_COUNTER, .series = "sglang:generation_tokens" } };
static const struct prom_series_candidate sgl_prompt[] = { { .kind = PROM_KIND_COUNTER, .series = "sglang:prompt_tokens" } };

static const struct prom_series_metric sglang[] = {
	{ .name = "kv_cache_usage", .unit = "1", .agg = PROM_AGG_MAX, CANDS(sgl_kv) },
	{ .name = "num_requests_waiting", .unit = "1", .agg = PROM_AGG_SUM, CANDS(sgl_waiting) },
	{ .name = "num_requests_running", .unit = "1", .agg = PROM_AGG_SUM, CANDS(sgl_running) },
	{ .name = "preemptions", .unit = "1", CANDS(sgl_preempt) },
	{ .name = "prefix_cache_hit_rate", .unit = "1", .direction = RD_HIGHER, .plain = true, CANDS(sgl_prefix) },
	{ .name = "queue_time", .unit = "s", Q3, CANDS(sgl_queue) },
	{ .name = "ttft", .unit = "s", Q3, CANDS(sgl_ttft) },
	{ .name = "generation_tokens", .unit = "1", .direction = RD_HIGHER, CANDS(sgl_gen) },
	{ .name = "prompt_tokens", .unit = "1", .direction = RD_HIGHER, CANDS(sgl_prompt) },
};

/* ---- Hugging Face TGI (no KV-cache, preemption or prefix-cache metric) ---- */

static const struct prom_series_candidate tgi_waiting[] = { { .kind = PROM_KIND_GAUGE, .series = "tgi_queue_size" } };
static const struct prom_series_candidate tgi_running[] = { { .kind = PROM_KIND_GAUGE, .series = "tgi_batch_current_size" } };
static const struct prom_series_candidate tgi_batch_tokens[] = {
	{ .kind = PROM_KIND_GAUGE, .series = "tgi_batch_current_max_tokens" },
};
static const struct prom_series_candidate tgi_queue[] = { { .kind = PROM_KIND_HISTOGRAM, .series = "tgi_request_queue_duration" } };
/* the generated-tokens histogram's _sum is a counter of tokens */
static const struct prom_series_candidate tgi_gen[] = { { .kind = PROM_KIND_COUNTER, .series = "tgi_request_generated_tokens_sum" } };

static const struct prom_series_metric tgi[] = {
	{ .name = "num_requests_waiting", .unit = "1", .agg = PROM_AGG_SUM, CANDS(tgi_waiting) },
	{ .name = "num_requests_running", .unit = "1", .agg = PROM_AGG_SUM, CANDS(tgi_running) },
	{ .name = "batch_tokens", .unit = "1", .agg = PROM_AGG_SUM, CANDS(tgi_batch_tokens) },
	{ .name = "queue_time", .unit = "s", Q3, CANDS(tgi_queue) },
	{ .name = "generation_tokens", .unit = "1", .direction = RD_HIGHER, CANDS(tgi_gen) },
};

/* ---- NVIDIA Triton (the TensorRT-LLM backend's metrics first) ---- */

static const struct prom_series_matcher trt_fraction[] = { { "kv_cache_block_type", "fraction", false } };
static const struct prom_series_matcher trt_waiting[] = { { "request_type", "waiting", false } };
static const struct prom_series_matcher trt_scheduled[] = { { "request_type", "scheduled", false } };
static const struct prom_series_matcher trt_active[] = { { "request_type", "active", false } };

static const struct prom_series_candidate triton_kv[] = {
	{ .kind = PROM_KIND_GAUGE, .series = "nv_trt_llm_kv_cache_block_metrics", .labels = trt_fraction, .n_labels = 1 },
};
static const struct prom_series_candidate triton_waiting[] = {
	{ .kind = PROM_KIND_GAUGE, .series = "nv_trt_llm_request_metrics", .labels = trt_waiting, .n_labels = 1 },
	{ .kind = PROM_KIND_GAUGE, .series = "nv_inference_pending_request_count" },
};
static const struct prom_series_candidate triton_running[] = {
	{ .kind = PROM_KIND_GAUGE, .series = "nv_trt_llm_request_metrics", .labels = trt_scheduled, .n_labels = 1 },
	{ .kind = PROM_KIND_GAUGE, .series = "nv_trt_llm_request_metrics", .labels = trt_active, .n_labels = 1 },
};
/* cumulative microseconds in queue over successful requests: the mean */
static const struct prom_series_candidate triton_queue[] = {
	{ .kind = PROM_KIND_RATIO, .series = "nv_inference_queue_duration_us", .denominator = "nv_inference_request_success",
	  .scale = 1e-6 },
};
static const struct prom_series_candidate triton_requests[] = { { .kind = PROM_KIND_COUNTER, .series = "nv_inference_request_success" } };
static const struct prom_series_candidate triton_failures[] = { { .kind = PROM_KIND_COUNTER, .series = "nv_inference_request_failure" } };

static const struct prom_series_metric triton[] = {
	{ .name = "kv_cache_usage", .unit = "1", .agg = PROM_AGG_MAX, CANDS(triton_kv) },
	{ .name = "num_requests_waiting", .unit = "1", .agg = PROM_AGG_SUM, CANDS(triton_waiting) },
	{ .name = "num_requests_running", .unit = "1", .agg = PROM_AGG_SUM, CANDS(triton_running) },
	{ .name = "queue_time.mean", .unit = "s", .plain = true, CANDS(triton_queue) },
	{ .name = "requests", .unit = "1", .direction = RD_HIGHER, CANDS(triton_requests) },
	{ .name = "failures", .unit = "1", CANDS(triton_failures) },
};

#define PRESET(n, s, t) { .name = (n), .server = (s), .metrics = (t), .n_metrics = ARRAY_SIZE(t) }

static const struct prom_preset presets[] = {
	PRESET("vllm", "vLLM", vllm),
	PRESET("sglang", "SGLang", sglang),
	PRESET("tgi", "TGI", tgi),
	PRESET("triton", "Triton", triton),
};

static const char *const preset_names[] = { "vllm", "sglang", "tgi", "triton" };

const struct prom_preset *prom_preset_find(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(presets); i++)
		if (strcmp(presets[i].name, name) == 0)
			return &presets[i];
	return NULL;
}

const struct prom_preset *prom_preset_all(size_t *n)
{
	*n = ARRAY_SIZE(presets);
	return presets;
}

const char *const *prom_preset_names(size_t *n)
{
	*n = ARRAY_SIZE(preset_names);
	return preset_names;
}
