/* Unit tests for core/prom/preset.c: each preset against the hand-written
 * exposition of its server (tests/fixtures/prom/), the candidate it finds
 * for each metric, and window values worked out by hand from two scrapes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../core/prom/preset.h"
#include "../../core/prom/prom.h"
#include "../../core/util.h"

static char *fixture(const char *name)
{
	char path[256], *text = NULL;
	struct err err = ERR_INIT;

	snprintf(path, sizeof(path), "tests/fixtures/prom/%s", name);
	if (file_read(path, &text, NULL, &err) != 0)
		fail_msg("%s", err.msg);
	return text;
}

/* text with every `from` replaced by `to` */
static char *replace(const char *text, const char *from, const char *to)
{
	struct sb out = SB_INIT;
	const char *p = text, *q;

	while ((q = strstr(p, from)) != NULL) {
		sb_add(&out, p, (size_t)(q - p));
		sb_puts(&out, to);
		p = q + strlen(from);
	}
	sb_puts(&out, p);
	return sb_detach(&out);
}

struct run {
	struct prom_series_track *t[16];
	size_t n;
	const struct prom_preset *p;
};

static void run_scrapes(struct run *r, const char *preset, const char *const *texts, size_t n)
{
	r->p = prom_preset_find(preset);
	assert_non_null(r->p);
	r->n = r->p->n_metrics;
	for (size_t i = 0; i < r->n; i++)
		r->t[i] = prom_series_track_new(&r->p->metrics[i]);
	for (size_t k = 0; k < n; k++) {
		struct prom_doc *d = NULL;
		struct err err = ERR_INIT;
		if (prom_parse(&d, texts[k], strlen(texts[k]), NULL, &err) != 0)
			fail_msg("%s", err.msg);
		for (size_t i = 0; i < r->n; i++)
			prom_series_track_scrape(r->t[i], d, (double)k * 10, k == 0);
		prom_doc_free(d);
	}
}

static void run_free(struct run *r)
{
	for (size_t i = 0; i < r->n; i++)
		prom_series_track_free(r->t[i]);
}

/* The candidate series found for metric `name` ("-" when none). */
static const char *found(const struct run *r, const char *name)
{
	for (size_t i = 0; i < r->n; i++)
		if (strcmp(r->p->metrics[i].name, name) == 0) {
			int c = prom_series_track_found(r->t[i]);
			return c < 0 ? "-" : r->p->metrics[i].candidates[c].series;
		}
	fail_msg("no metric %s in preset %s", name, r->p->name);
	return NULL;
}

static double value(const struct run *r, const char *name)
{
	struct prom_series_value v[16];

	for (size_t i = 0; i < r->n; i++) {
		size_t n = prom_series_track_values(r->t[i], v, 16);
		for (size_t k = 0; k < n; k++)
			if (strcmp(v[k].name, name) == 0)
				return v[k].value;
	}
	return NAN;
}

static void near(double got, double want)
{
	if (!(fabs(got - want) < 1e-9 * fmax(1.0, fabs(want))))
		fail_msg("got %.17g, want %.17g", got, want);
}

static void test_vllm_v1(void **state)
{
	char *a = fixture("vllm_v1.txt");
	/* ten seconds later: 300 more hit tokens of 400 queried, 2 preemptions,
	 * the KV cache fuller */
	char *b1 = replace(a, "} 91520.0", "} 91820.0");
	char *b2 = replace(b1, "} 183040.0", "} 183440.0");
	char *b3 = replace(b2, "} 7.0", "} 9.0");
	char *b = replace(b3, "} 0.4275", "} 0.8125");
	const char *texts[] = { a, b };
	struct run r;

	(void)state;
	run_scrapes(&r, "vllm", texts, 2);
	assert_string_equal(found(&r, "kv_cache_usage"), "vllm:kv_cache_usage_perc");
	assert_string_equal(found(&r, "prefix_cache_hit_rate"), "vllm:prefix_cache_hits");
	assert_string_equal(found(&r, "queue_time"), "vllm:request_queue_time_seconds");
	near(value(&r, "kv_cache_usage.max"), 0.8125);
	near(value(&r, "kv_cache_usage.mean"), (0.4275 + 0.8125) / 2);
	near(value(&r, "num_requests_waiting.max"), 3);
	near(value(&r, "preemptions.increase"), 2);
	near(value(&r, "preemptions.rate"), 0.2);
	near(value(&r, "prefix_cache_hit_rate"), 0.75);
	/* no request finished between the scrapes: no queue-time quantile */
	assert_true(isnan(value(&r, "queue_time.p99")));
	run_free(&r);
	free(a), free(b1), free(b2), free(b3), free(b);
}

static void test_vllm_v0_names(void **state)
{
	char *a = fixture("vllm_v0.txt");
	char *b = replace(a, "hit_rate{model_name=\"mistralai/Mistral-7B-Instruct-v0.2\"} 0.25",
			  "hit_rate{model_name=\"mistralai/Mistral-7B-Instruct-v0.2\"} 0.75");
	const char *texts[] = { a, b };
	struct run r;

	(void)state;
	run_scrapes(&r, "vllm", texts, 2);
	assert_string_equal(found(&r, "kv_cache_usage"), "vllm:gpu_cache_usage_perc");
	assert_string_equal(found(&r, "prefix_cache_hit_rate"), "vllm:gpu_prefix_cache_hit_rate");
	near(value(&r, "prefix_cache_hit_rate"), 0.5); /* the gauge's mean: same name as the ratio */
	assert_string_equal(found(&r, "ttft"), "-");     /* not in this exposition */
	run_free(&r);
	free(a), free(b);
}

static void test_sglang(void **state)
{
	char *a = fixture("sglang.txt");
	char *b1 = replace(a, "} 100000.0", "} 101000.0"); /* prompt tokens +1000 */
	char *b = replace(b1, "} 40000.0", "} 40250.0");   /* cached +250 */
	const char *texts[] = { a, b };
	struct run r;

	(void)state;
	run_scrapes(&r, "sglang", texts, 2);
	assert_string_equal(found(&r, "kv_cache_usage"), "sglang:token_usage");
	assert_string_equal(found(&r, "prefix_cache_hit_rate"), "sglang:cached_tokens");
	near(value(&r, "prefix_cache_hit_rate"), 0.25);
	near(value(&r, "num_requests_waiting.mean"), 6);
	near(value(&r, "prompt_tokens.rate"), 100); /* 1000 over 10 s */
	run_free(&r);
	free(a), free(b1), free(b);
}

static void test_tgi(void **state)
{
	char *a = fixture("tgi.txt");
	/* 10 more requests, each queued 0.01..0.1 s, and 800 more tokens */
	char *b1 = replace(a, "{le=\"0.1\"} 240", "{le=\"0.1\"} 250");
	char *b2 = replace(b1, "{le=\"1\"} 250\ntgi_request_queue_duration_bucket{le=\"+Inf\"} 250",
			   "{le=\"1\"} 260\ntgi_request_queue_duration_bucket{le=\"+Inf\"} 260");
	char *b3 = replace(b2, "tgi_request_queue_duration_count 250", "tgi_request_queue_duration_count 260");
	char *b = replace(b3, "tgi_request_generated_tokens_sum 16000", "tgi_request_generated_tokens_sum 16800");
	const char *texts[] = { a, b };
	struct run r;

	(void)state;
	run_scrapes(&r, "tgi", texts, 2);
	assert_string_equal(found(&r, "num_requests_waiting"), "tgi_queue_size");
	near(value(&r, "num_requests_running.max"), 8);
	/* all 10 in (0.01, 0.1]: p50 at rank 5 of 10: 0.01 + 0.09 * 0.5 */
	near(value(&r, "queue_time.p50"), 0.055);
	near(value(&r, "generation_tokens.rate"), 80);
	run_free(&r);
	free(a), free(b1), free(b2), free(b3), free(b);
}

static void test_triton(void **state)
{
	char *a = fixture("triton.txt");
	/* 20 more successes of the LLM, 2 s more in its queue */
	char *b1 = replace(a, "{model=\"tensorrt_llm\",version=\"1\"} 120", "{model=\"tensorrt_llm\",version=\"1\"} 140");
	char *b = replace(b1, "} 1800000", "} 3800000");
	const char *texts[] = { a, b };
	struct run r;

	(void)state;
	run_scrapes(&r, "triton", texts, 2);
	assert_string_equal(found(&r, "kv_cache_usage"), "nv_trt_llm_kv_cache_block_metrics");
	near(value(&r, "kv_cache_usage.max"), 0.25);
	near(value(&r, "num_requests_waiting.max"), 2);  /* request_type="waiting" only */
	near(value(&r, "num_requests_running.max"), 9);  /* "scheduled" */
	near(value(&r, "queue_time.mean"), 0.1);         /* 2 s over 20 requests */
	near(value(&r, "requests.rate"), 2);
	run_free(&r);
	free(a), free(b1), free(b);
}

static void test_wrong_server_finds_nothing(void **state)
{
	char *a = fixture("tgi.txt");
	const char *texts[] = { a };
	struct run r;

	(void)state;
	run_scrapes(&r, "vllm", texts, 1);
	for (size_t i = 0; i < r.n; i++)
		assert_int_equal(prom_series_track_found(r.t[i]), -1);
	run_free(&r);
	free(a);
}

static void test_lookup(void **state)
{
	size_t n;
	const char *const *names = prom_preset_names(&n);
	const struct prom_preset *all = prom_preset_all(&n);

	(void)state;
	assert_int_equal(n, 4);
	for (size_t i = 0; i < n; i++) {
		assert_string_equal(names[i], all[i].name);
		assert_ptr_equal(prom_preset_find(names[i]), &all[i]);
	}
	assert_null(prom_preset_find("vLLM"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_vllm_v1),
		cmocka_unit_test(test_vllm_v0_names),
		cmocka_unit_test(test_sglang),
		cmocka_unit_test(test_tgi),
		cmocka_unit_test(test_triton),
		cmocka_unit_test(test_wrong_server_finds_nothing),
		cmocka_unit_test(test_lookup),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
