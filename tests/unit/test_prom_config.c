/* Unit tests for core/prom/config.c: the "prometheus" member of a
 * benchmark's monitor, every mistake reported at its JSON path, and what a
 * valid member becomes. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../core/prom/config.h"
#include "../../core/util.h"

#define P "benchmarks[0].monitor.prometheus"

struct bad {
	const char *json;
	const char *want; /* one of the problems, exactly */
};

static const struct bad bads[] = {
	{ "42", P ": expected an object with \"url\", got 42" },
	{ "[]", P ": expected 1 to 16 targets" },
	{ "{\"preset\": \"vllm\"}", P ".url: required (the target's /metrics address)" },
	{ "{\"url\": \"ftp://x/metrics\", \"preset\": \"vllm\"}",
	  P ".url: expected an http:// or https:// address such as \"http://127.0.0.1:8000/metrics\"" },
	{ "{\"url\": \"http://u:pw@x/metrics\", \"preset\": \"vllm\"}",
	  P ".url: credentials do not belong in the address; use token_env" },
	{ "{\"url\": \"http://x/metrics\", \"preset\": \"vLLM\"}",
	  P ".preset: expected one of \"vllm\", \"sglang\", \"tgi\", \"triton\"" },
	{ "{\"url\": \"http://x/metrics\", \"presets\": \"vllm\"}", P ".presets: unknown key; did you mean \"preset\"?" },
	{ "{\"url\": \"http://x/metrics\"}", P ": name a \"preset\" or the \"metrics\" to take" },
	{ "{\"url\": \"http://x/metrics\", \"metrics\": {\"q\": \"app_queue\"}}",
	  P ".name: required when no preset is named (it names the metrics server.NAME.*)" },
	{ "{\"url\": \"http://x/metrics\", \"preset\": \"vllm\", \"name\": \"My-Server\"}",
	  P ".name: expected lower-case letters, digits and '_' (it names the metrics server.NAME.*)" },
	{ "{\"url\": \"http://x/metrics\", \"preset\": \"vllm\", \"interval\": \"5ms\"}",
	  P ".interval: expected a duration from 10ms to 60s" },
	{ "{\"url\": \"http://x/metrics\", \"preset\": \"vllm\", \"interval\": \"soon\"}", NULL },
	{ "{\"url\": \"http://x/metrics\", \"preset\": \"vllm\", \"timeout\": \"2m\"}",
	  P ".timeout: expected a duration from 1ms to 60s" },
	{ "{\"url\": \"http://x/metrics\", \"preset\": \"vllm\", \"max_size\": \"12\"}",
	  P ".max_size: expected a size from 1KiB to 1GiB such as \"16MiB\"" },
	{ "{\"url\": \"http://x/metrics\", \"preset\": \"vllm\", \"token_env\": \"MY TOKEN\"}",
	  P ".token_env: expected the name of an environment variable holding the token" },
	{ "{\"url\": \"http://x/metrics\", \"name\": \"a\", \"metrics\": []}",
	  P ".metrics: expected an object of metric names to series (at most 64), got an array" },
	{ "{\"url\": \"http://x/metrics\", \"name\": \"a\", \"metrics\": {\"Queue\": \"q\"}}",
	  P ".metrics.Queue: a metric name is lower-case letters, digits and '_'" },
	{ "{\"url\": \"http://x/metrics\", \"name\": \"a\", \"metrics\": {\"q\": 3}}",
	  P ".metrics.q: expected a series name or an object with \"series\", got 3" },
	{ "{\"url\": \"http://x/metrics\", \"name\": \"a\", \"metrics\": {\"q\": {}}}", P ".metrics.q.series: required" },
	{ "{\"url\": \"http://x/metrics\", \"name\": \"a\", \"metrics\": {\"q\": {\"series\": [\"a\", 1]}}}",
	  P ".metrics.q.series: expected a series name or an array of up to 8 of them, got an array" },
	{ "{\"url\": \"http://x/metrics\", \"name\": \"a\", \"metrics\": {\"q\": {\"series\": \"a\", \"type\": \"histo\"}}}",
	  P ".metrics.q.type: expected one of \"gauge\", \"counter\", \"histogram\", \"summary\", \"ratio\", got \"histo\"" },
	{ "{\"url\": \"http://x/metrics\", \"name\": \"a\", \"metrics\": {\"q\": {\"series\": \"a\", \"aggregate\": \"avg\"}}}",
	  P ".metrics.q.aggregate: expected one of \"sum\", \"max\", \"min\", \"mean\", got \"avg\"" },
	{ "{\"url\": \"http://x/metrics\", \"name\": \"a\", \"metrics\": {\"q\": {\"series\": \"a\", \"direction\": \"up\"}}}",
	  P ".metrics.q.direction: expected \"lower\" or \"higher\" (which is better), got \"up\"" },
	{ "{\"url\": \"http://x/metrics\", \"name\": \"a\", \"metrics\": {\"q\": {\"series\": \"a\", \"quantiles\": [0.5, 1]}}}",
	  P ".metrics.q.quantiles: expected an array of 1 to 8 quantiles in (0, 1), got an array" },
	{ "{\"url\": \"http://x/metrics\", \"name\": \"a\", \"metrics\": {\"q\": {\"series\": \"a\", \"scale\": 0}}}",
	  P ".metrics.q.scale: must be a number > 0" },
	{ "{\"url\": \"http://x/metrics\", \"name\": \"a\", \"metrics\": {\"q\": {\"series\": \"a\", \"labels\": {\"x\": 1}}}}",
	  P ".metrics.q.labels.x: expected a label value, or {\"not\": VALUE}, got 1" },
	{ "{\"url\": \"http://x/metrics\", \"name\": \"a\", \"metrics\": {\"q\": {\"series\": \"a\", \"type\": \"ratio\"}}}",
	  P ".metrics.q.denominator: required for a \"ratio\"" },
	{ "{\"url\": \"http://x/metrics\", \"name\": \"a\", \"metrics\": {\"q\": {\"series\": \"a\", \"denominator\": \"b\"}}}",
	  P ".metrics.q.denominator: only a \"ratio\" has a denominator" },
	{ "{\"url\": \"http://x/metrics\", \"name\": \"a\", \"metrics\": {\"q\": {\"series\": [\"a\", \"b\"], \"type\": \"ratio\", "
	  "\"denominator\": \"c\"}}}",
	  P ".metrics.q.denominator: give as many names as series (2), paired in order" },
	{ "{\"url\": \"http://x/metrics\", \"name\": \"a\", \"metrics\": {\"q\": {\"series\": \"a\", \"serie\": \"b\"}}}",
	  P ".metrics.q.serie: unknown key; did you mean \"series\"?" },
	{ "[{\"url\": \"http://x/metrics\", \"preset\": \"vllm\"}, {\"url\": \"http://y/metrics\", \"preset\": \"vllm\"}]",
	  P "[1].name: \"vllm\" is taken by target 0; give each target its own name" },
	{ "[{\"url\": \"http://x/metrics\", \"preset\": \"vllm\"}, 7]", P "[1]: expected an object with \"url\", got 7" },
};

static void test_bad(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(bads); i++) {
		cJSON *j = cJSON_Parse(bads[i].json);
		struct errlist p = ERRLIST_INIT;
		bool seen = false;

		assert_non_null(j);
		prom_config_validate(j, P, &p);
		if (p.n == 0)
			fail_msg("case %zu accepted: %s", i, bads[i].json);
		for (size_t k = 0; k < p.n; k++)
			seen |= !bads[i].want || strcmp(p.msgs[k], bads[i].want) == 0;
		if (!seen)
			fail_msg("case %zu: got \"%s\"%s, want \"%s\"", i, p.msgs[0], p.n > 1 ? " (and more)" : "",
				 bads[i].want);
		errlist_release(&p);
		cJSON_Delete(j);
	}
}

static const struct prom_series_metric *metric(const struct prom_config_target *t, const char *name)
{
	for (size_t i = 0; i < t->n_metrics; i++)
		if (strcmp(t->metrics[i].name, name) == 0)
			return &t->metrics[i];
	return NULL;
}

static void test_preset_and_own_metrics(void **state)
{
	const char *json = "{\"url\": \"http://127.0.0.1:8000/metrics\", \"preset\": \"vllm\", \"interval\": \"100ms\","
			   " \"metrics\": {"
			   "   \"kv_cache_usage\": {\"series\": \"my_kv\", \"aggregate\": \"mean\"},"
			   "   \"lat\": {\"series\": [\"app_latency_seconds\", \"old_latency_seconds\"], \"type\": \"histogram\","
			   "             \"quantiles\": [0.5, 0.999], \"labels\": {\"code\": \"200\", \"path\": {\"not\": \"/health\"}}},"
			   "   \"busy\": {\"series\": \"busy_us_total\", \"type\": \"counter\", \"scale\": 1e-6, \"unit\": \"s\","
			   "              \"direction\": \"higher\"},"
			   "   \"hits\": {\"series\": \"h\", \"type\": \"ratio\", \"denominator\": \"q\"},"
			   "   \"bytes\": \"resp_bytes\""
			   " }}";
	cJSON *j = cJSON_Parse(json);
	struct prom_config *c = NULL;
	struct err err = ERR_INIT;
	const struct prom_config_target *t;
	const struct prom_series_metric *m;

	(void)state;
	if (prom_config_parse(&c, j, P, &err) != 0)
		fail_msg("%s", err.msg);
	cJSON_Delete(j); /* the configuration owns what it keeps */
	assert_int_equal(c->n_targets, 1);
	t = &c->targets[0];
	assert_string_equal(t->name, "vllm");
	assert_string_equal(t->preset, "vllm");
	assert_true(t->interval == 0.1);
	assert_true(t->timeout == 1);
	assert_true(t->max_size == 16.0 * 1048576);
	/* the preset's nine metrics, one replaced, four added */
	assert_int_equal(t->n_metrics, 13);
	m = metric(t, "kv_cache_usage");
	assert_int_equal(m->n_candidates, 1);
	assert_string_equal(m->candidates[0].series, "my_kv");
	assert_int_equal(m->agg, PROM_AGG_MEAN);
	assert_int_equal(m->candidates[0].kind, PROM_KIND_AUTO);
	m = metric(t, "lat");
	assert_int_equal(m->n_candidates, 2);
	assert_string_equal(m->candidates[1].series, "old_latency_seconds");
	assert_int_equal(m->candidates[1].kind, PROM_KIND_HISTOGRAM);
	assert_string_equal(m->unit, "s"); /* from the name */
	assert_int_equal(m->n_quantiles, 2);
	assert_true(m->quantiles[1] == 0.999);
	assert_int_equal(m->candidates[0].n_labels, 2);
	assert_string_equal(m->candidates[0].labels[1].name, "path");
	assert_string_equal(m->candidates[0].labels[1].value, "/health");
	assert_true(m->candidates[0].labels[1].negate);
	assert_false(m->candidates[0].labels[0].negate);
	m = metric(t, "busy");
	assert_true(m->candidates[0].scale == 1e-6);
	assert_string_equal(m->unit, "s");
	assert_int_equal(m->direction, RD_HIGHER);
	m = metric(t, "hits");
	assert_true(m->plain);
	assert_string_equal(m->candidates[0].denominator, "q");
	m = metric(t, "bytes");
	assert_string_equal(m->unit, "B");
	assert_int_equal(m->candidates[0].kind, PROM_KIND_AUTO);
	assert_non_null(metric(t, "queue_time"));
	prom_config_free(c);
}

static void test_token_env(void **state)
{
	cJSON *j = cJSON_Parse("[{\"url\": \"http://x/metrics\", \"preset\": \"tgi\", \"token_env\": \"PERFGATE_TEST_PROM_TOKEN\"},"
			       " {\"url\": \"http://y/metrics\", \"preset\": \"triton\", \"name\": \"t2\"}]");
	struct prom_config *c = NULL;
	struct err err = ERR_INIT;

	(void)state;
	unsetenv("PERFGATE_TEST_PROM_TOKEN");
	assert_int_equal(prom_config_parse(&c, j, P, &err), ERR_INPUT);
	assert_null(c);
	assert_string_equal(err.msg, P "[0].token_env: the environment variable 'PERFGATE_TEST_PROM_TOKEN' is not set");
	setenv("PERFGATE_TEST_PROM_TOKEN", "sekrit", 1);
	assert_int_equal(prom_config_parse(&c, j, P, &err), 0);
	assert_int_equal(c->n_targets, 2);
	assert_string_equal(c->targets[0].token_env, "PERFGATE_TEST_PROM_TOKEN");
	assert_string_equal(c->targets[1].name, "t2");
	prom_config_free(c);
	unsetenv("PERFGATE_TEST_PROM_TOKEN");
	cJSON_Delete(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_bad),
		cmocka_unit_test(test_preset_and_own_metrics),
		cmocka_unit_test(test_token_env),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
