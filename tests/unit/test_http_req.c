/* Unit tests for core/http_req.c and core/loadmodel.c: URL forms, request
 * serialisation with templates and datasets, JSON paths, checks, and the
 * validators' messages (JSON path, suggestion). */
#include <setjmp.h>
#include <math.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../core/http/plan.h"
#include "../../core/http/load.h"
#include "../../core/http/runner.h"
#include "../../core/http/server.h"
#include "../../core/suite.h"
#include "../../core/util.h"

static struct http_plan *plan_of(const char *json, struct errlist *problems)
{
	cJSON *b = cJSON_Parse(json);
	struct http_plan *p = NULL;

	assert_non_null(b);
	http_plan_parse(&p, b, "benchmarks[0]", "/tmp", problems);
	cJSON_Delete(b);
	return p;
}

static void test_urls(void **state)
{
	static const struct { const char *url, *host, *port, *authority, *target; bool tls; } good[] = {
		{ "http://127.0.0.1:8000/predict", "127.0.0.1", "8000", "127.0.0.1:8000", "/predict", false },
		{ "http://example/", "example", "80", "example", "/", false },
		{ "http://h", "h", "80", "h", "/", false },
		{ "http://h?x=1", "h", "80", "h", "/?x=1", false },
		{ "https://[::1]:8443/v1/completions?a=b#frag", "::1", "8443", "[::1]:8443", "/v1/completions?a=b", true },
	};
	static const char *const bad[] = { "ftp://x/", "http://", "http://h:0/", "http://h:99999/", "http://u:p@h/", "http://[::1/" };

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(good); i++) {
		struct errlist pr = ERRLIST_INIT;
		char *j = xasprintf("{\"http\": {\"url\": \"%s\"}}", good[i].url);
		struct http_plan *p = plan_of(j, &pr);

		assert_int_equal(pr.n, 0);
		assert_string_equal(p->host, good[i].host);
		assert_string_equal(p->port, good[i].port);
		assert_string_equal(p->authority, good[i].authority);
		assert_string_equal(p->target, good[i].target);
		assert_int_equal(p->tls, good[i].tls);
		http_plan_free(p);
		free(j);
		errlist_release(&pr);
	}
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		struct errlist pr = ERRLIST_INIT;
		char *j = xasprintf("{\"http\": {\"url\": \"%s\"}}", bad[i]);
		struct http_plan *p = plan_of(j, &pr);

		assert_null(p);
		assert_true(pr.n >= 1);
		assert_non_null(strstr(pr.msgs[0], "benchmarks[0].http.url"));
		free(j);
		errlist_release(&pr);
	}
}

static void test_serialise_templates(void **state)
{
	struct errlist pr = ERRLIST_INIT;
	struct http_plan *p;
	const char *rows = "{\"q\": \"hi \\\"there\\\"\", \"n\": 3}\n\n{\"q\": \"x\", \"n\": 7}\n";
	char path[] = "/tmp/perfgate-rows-XXXXXX";
	int fd = mkstemp(path);
	char *json;

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, rows, strlen(rows)), (ssize_t)strlen(rows));
	close(fd);
	json = xasprintf("{\"http\": {\"url\": \"http://h:1/a\", \"headers\": {\"X-K\": \"v\"}, "
			 "\"body\": {\"prompt\": \"say {q}\", \"max_tokens\": \"{n}\", \"keep\": \"{absent}\"}, "
			 "\"dataset\": \"%s\"}}", path);
	p = plan_of(json, &pr);
	assert_int_equal(pr.n, 0);
	assert_int_equal(p->n_reqs, 2);
	/* JSON-escaped substitution; "{n}" alone takes the number's type; unknown fields stay */
	{
		const char *want_body = "{\"prompt\":\"say hi \\\"there\\\"\",\"max_tokens\":3,\"keep\":\"{absent}\"}";
		char *want = xasprintf("POST /a HTTP/1.1\r\nHost: h:1\r\nX-K: v\r\nUser-Agent: perfgate/" PERFGATE_VERSION
				       "\r\nContent-Type: application/json\r\nContent-Length: %zu\r\n\r\n%s",
				       strlen(want_body), want_body);

		assert_int_equal(p->reqs[0].len, strlen(want));
		assert_memory_equal(p->reqs[0].data, want, strlen(want));
		assert_string_equal(p->reqs[0].data + p->reqs[0].body_off, want_body);
		free(want);
	}
	assert_non_null(strstr(p->reqs[1].data, "\"max_tokens\":7"));
	http_plan_free(p);
	free(json);
	unlink(path);
	errlist_release(&pr);
}

static void test_json_path_and_checks(void **state)
{
	cJSON *doc = cJSON_Parse("{\"a\": {\"b\": [10, {\"c\": \"cat\"}]}, \"label\": \"dog\"}");
	struct errlist pr = ERRLIST_INIT;
	struct http_plan *p;
	char why[300];
	const char *body = "{\"label\": \"cat\", \"score\": 1}";

	(void)state;
	assert_int_equal(json_at(doc, "$.a.b[0]")->valueint, 10);
	assert_string_equal(json_at(doc, "$.a.b[1].c")->valuestring, "cat");
	assert_null(json_at(doc, "$.a.b[2]"));
	assert_null(json_at(doc, "$.nope"));
	assert_null(json_at(doc, "a.b"));
	assert_true(json_at(doc, "$") == doc);
	cJSON_Delete(doc);

	p = plan_of("{\"http\": {\"url\": \"http://h/\", \"checks\": [{\"contains\": \"score\"}, "
		    "{\"json\": \"$.label\", \"equals\": \"cat\"}]}}", &pr);
	assert_int_equal(pr.n, 0);
	assert_true(http_plan_checks_pass(p, body, strlen(body), why, sizeof(why)));
	assert_false(http_plan_checks_pass(p, "{\"label\": \"dog\", \"score\": 1}", 29, why, sizeof(why)));
	assert_string_equal(why, "$.label is \"dog\", expected \"cat\"");
	assert_false(http_plan_checks_pass(p, "nothing", 7, why, sizeof(why)));
	assert_string_equal(why, "response does not contain \"score\"");
	assert_true(http_plan_status_ok(p, 204));
	assert_false(http_plan_status_ok(p, 302));
	http_plan_free(p);
	errlist_release(&pr);
}

static void test_validation_messages(void **state)
{
	static const struct { const char *bench, *want; } cases[] = {
		{ "{\"http\": {\"url\": \"http://h/\", \"metod\": \"GET\"}}", "benchmarks[0].http.metod: unknown key; did you mean \"method\"?" },
		{ "{\"http\": {\"url\": \"http://h/\", \"body\": 1, \"body_file\": \"x\"}}", "benchmarks[0].http: give either body or body_file, not both" },
		{ "{\"http\": {\"url\": \"http://h/\", \"headers\": {\"Host\": \"x\"}}}", "benchmarks[0].http.headers.Host: set by perfgate; remove it" },
		{ "{\"http\": {\"url\": \"http://h/\", \"headers\": [\"X-A: 1\"], \"auth_env\": \"T\"}}", "benchmarks[0].http.headers: expected an object of header names to values" },
		{ "{\"http\": {\"url\": \"http://h/\", \"request_slo\": {\"ttft\": \"< 1s\"}}}", "benchmarks[0].http.request_slo: ttft, tpot and itl.max need \"stream\": \"sse\"" },
		{ "{\"http\": {\"url\": \"http://h/\"}, \"load\": {\"mode\": \"rat\", \"rate\": 1}}", "benchmarks[0].load.mode: expected one of rate, concurrency, ramp, spike, sweep, capacity, trace (did you mean 'rate'?)" },
		{ "{\"http\": {\"url\": \"http://h/\"}, \"load\": {\"rate\": 5}}", "benchmarks[0].load: give duration (such as \"30s\") or requests" },
		{ "{\"http\": {\"url\": \"http://h/\"}, \"load\": {\"rate\": 5, \"duration\": \"forever\"}}", "benchmarks[0].load.duration: expected a duration such as \"30s\" or \"250ms\"" },
		{ "{\"http\": {\"url\": \"http://h/\"}, \"load\": {\"concurrency\": 0, \"requests\": 5}}", "benchmarks[0].load.concurrency: expected an integer >= 1" },
		{ "{\"http\": {\"url\": \"http://h/\"}, \"load\": {\"rate\": 5, \"duration\": 1, \"burstiness\": 2}}", "benchmarks[0].load.burstiness: only for \"arrival\": \"gamma\"" },
		{ "{\"http\": {\"url\": \"http://h/\"}, \"load\": {\"concurrency\": 4, \"connections\": 8, \"duration\": 1}}", "benchmarks[0].load: arrival, max_inflight and connections are for open-loop modes" },
		{ "{\"http\": {\"url\": \"http://h/\"}, \"load\": {\"stages\": [{\"duration\": \"1s\", \"rate\": 5}, {\"duration\": \"1s\", \"concurrency\": 2}]}}", "benchmarks[0].load.stages[1]: every stage must give the same kind of target" },
		{ "{\"http\": {\"url\": \"http://h/\"}, \"load\": {\"rate\": 5, \"duration\": \"10s\", \"spike\": {\"factor\": 2, \"at\": \"8s\", \"duration\": \"5s\"}}}", "benchmarks[0].load.spike: the spike must end before the run does (duration 10s)" },
		{ "{\"http\": {\"url\": \"http://h/\"}, \"load\": {\"rate\": 5, \"duration\": 1, \"threads\": 300}}", "benchmarks[0].load.threads: at most 256" },
		{ "{\"http\": {\"url\": \"http://h/\"}, \"load\": {\"rate\": 5, \"duration\": 1, \"timeout\": 0}}", "benchmarks[0].load.timeout: must be > 0" },
		{ "{\"http\": {\"url\": \"http://h/\"}, \"load\": {\"rate\": 5, \"duration\": 1, \"engine\": \"nativ\"}}", "benchmarks[0].load.engine: expected \"auto\", \"native\" or \"curl\"" },
		{ "{\"http\": {\"url\": \"http://h/\"}, \"load\": {\"rate\": 5, \"duration\": 1, \"engine\": \"native\", \"http_version\": \"2\"}}", "benchmarks[0].load.http_version: \"2\" needs \"engine\": \"curl\" or \"auto\" (the native engine speaks HTTP/1.1)" },
		{ "{\"http\": {\"url\": \"http://h/\"}, \"slo\": {\"latency.p99\": \"< 1s\"}, \"load\": {\"mode\": \"capacity\", \"precision\": \"150%\"}}", "benchmarks[0].load.precision: expected a fraction such as 0.05 or \"5%\"" },
		{ "{\"http\": {\"url\": \"http://h/\"}, \"load\": {\"concurrency\": 2, \"duration\": 1, \"realtime\": true}}", "benchmarks[0].load.realtime: only for open-loop modes" },
		{ "{\"http\": {\"url\": \"http://h/\"}, \"load\": {\"rate\": 5, \"duration\": 1, \"requests\": 5}}", "benchmarks[0].load: give either duration or requests, not both" },
		{ "{\"http\": {\"url\": \"http://h/\"}, \"load\": {\"rates\": [10, -1], \"duration\": 1}}", "benchmarks[0].load.rates[1]: expected a rate > 0" },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		cJSON *b = cJSON_Parse(cases[i].bench);
		struct errlist pr = ERRLIST_INIT;
		bool found = false;

		assert_non_null(b);
		http_runner_validate(b, "benchmarks[0]", &pr);
		for (size_t k = 0; k < pr.n; k++)
			if (strncmp(pr.msgs[k], cases[i].want, strlen(cases[i].want)) == 0)
				found = true;
		if (!found)
			print_error("case %zu: got %zu problems, first: %s\n", i, pr.n, pr.n ? pr.msgs[0] : "(none)");
		assert_true(found);
		errlist_release(&pr);
		cJSON_Delete(b);
	}
}

static void test_load_defaults(void **state)
{
	cJSON *b = cJSON_Parse("{\"http\": {\"url\": \"http://h/\"}, \"load\": {\"rate\": 50, \"arrival\": \"poisson\", \"duration\": \"30s\", \"warmup\": \"5s\"}}");
	struct errlist pr = ERRLIST_INIT;
	struct http_load_spec s;
	struct http_engine_options o;
	struct http_schedule_segment *segs;
	struct http_engine_cstage *cst;

	(void)state;
	assert_int_equal(http_load_spec_parse(&s, b, "b", &pr), 0);
	assert_int_equal(s.mode, LOAD_RATE);
	assert_int_equal(s.arrival, SCHED_POISSON);
	assert_true(s.duration == 30 && s.warmup == 5 && s.timeout == 30 && s.threads == 1);
	memset(&o, 0, sizeof(o));
	http_load_step_options(&s, 0, &o, &segs, &cst);
	assert_true(o.open_loop);
	assert_int_equal(o.n_segments, 1);
	assert_true(segs[0].duration == 35 && segs[0].rate_start == 50);
	assert_int_equal(o.duration, 30000000000ULL);
	assert_int_equal(o.warmup, 5000000000ULL);
	free(segs);
	free(cst);
	http_load_spec_release(&s);
	cJSON_Delete(b);
	errlist_release(&pr);
}

/* Every key of the load table lands in its own field. */
static void test_load_fields(void **state)
{
	struct errlist pr = ERRLIST_INIT;
	struct http_load_spec s;
	cJSON *b;

	(void)state;
	b = cJSON_Parse("{\"http\": {\"url\": \"https://h/\"}, \"load\": {\"rate\": 50, \"arrival\": \"gamma\", "
			"\"burstiness\": 0.5, \"seed\": 7, \"connections\": 20, \"max_inflight\": 30, \"threads\": 2, "
			"\"repetitions\": 3, \"timeout\": \"2s\", \"warmup\": \"1500ms\", \"duration\": \"10s\", "
			"\"engine\": \"curl\", \"http_version\": \"1.1\", \"realtime\": false}}");
	assert_int_equal(http_load_spec_parse(&s, b, "b", &pr), 0);
	assert_int_equal(s.mode, LOAD_RATE);
	assert_true(s.rate == 50 && s.burstiness == 0.5 && s.timeout == 2 && s.warmup == 1.5 && s.duration == 10);
	assert_int_equal(s.arrival, SCHED_GAMMA);
	assert_int_equal(s.seed, 7);
	assert_int_equal(s.connections, 20);
	assert_int_equal(s.max_inflight, 30);
	assert_int_equal(s.threads, 2);
	assert_int_equal(s.repetitions, 3);
	assert_string_equal(s.engine, "curl");
	assert_int_equal(s.http_version, EHV_1_1);
	assert_false(s.realtime);
	http_load_spec_release(&s);
	cJSON_Delete(b);

	b = cJSON_Parse("{\"http\": {\"url\": \"http://h/\"}, \"slo\": {\"latency.p99\": \"< 1s\"}, \"load\": "
			"{\"mode\": \"capacity\", \"start_rate\": 5, \"max_rate\": 50, \"precision\": \"10%\", "
			"\"step_duration\": \"3s\", \"trials\": 2, \"engine\": \"auto\"}}");
	assert_int_equal(http_load_spec_parse(&s, b, "b", &pr), 0);
	assert_int_equal(s.mode, LOAD_CAPACITY);
	assert_true(s.start_rate == 5 && s.max_rate == 50 && fabs(s.precision - 0.1) < 1e-12 && s.duration == 3);
	assert_int_equal(s.trials, 2);
	assert_null(s.engine);
	http_load_spec_release(&s);
	cJSON_Delete(b);

	b = cJSON_Parse("{\"http\": {\"url\": \"http://h/\"}, \"load\": {\"stages\": [{\"duration\": \"2s\", "
			"\"concurrency\": 4}, {\"duration\": 1, \"concurrency\": 0}], \"start\": 1}}");
	assert_int_equal(http_load_spec_parse(&s, b, "b", &pr), 0);
	assert_int_equal(s.mode, LOAD_RAMP);
	assert_true(s.stages_concurrency && s.ramp_start == 1);
	assert_int_equal(s.n_stages, 2);
	assert_true(s.stages[0].duration == 2 && s.stages[0].target == 4 && s.stages[1].target == 0);
	http_load_spec_release(&s);
	cJSON_Delete(b);

	b = cJSON_Parse("{\"http\": {\"url\": \"http://h/\"}, \"load\": {\"rate\": 10, \"duration\": \"20s\", "
			"\"spike\": {\"factor\": 3, \"at\": \"5s\", \"duration\": \"2s\"}}}");
	assert_int_equal(http_load_spec_parse(&s, b, "b", &pr), 0);
	assert_int_equal(s.mode, LOAD_SPIKE);
	assert_true(s.spike_factor == 3 && s.spike_at == 5 && s.spike_duration == 2);
	http_load_spec_release(&s);
	cJSON_Delete(b);

	b = cJSON_Parse("{\"http\": {\"url\": \"http://h/\"}, \"load\": {\"rates\": [10, 20.5], \"requests\": 40}}");
	assert_int_equal(http_load_spec_parse(&s, b, "b", &pr), 0);
	assert_int_equal(s.mode, LOAD_SWEEP);
	assert_int_equal(s.n_rates, 2);
	assert_true(s.rates[0] == 10 && s.rates[1] == 20.5);
	assert_int_equal(s.requests, 40);
	http_load_spec_release(&s);
	cJSON_Delete(b);

	b = cJSON_Parse("{\"http\": {\"url\": \"http://h/\"}, \"load\": {\"requests\": 9}}");
	assert_int_equal(http_load_spec_parse(&s, b, "b", &pr), 0);
	assert_int_equal(s.mode, LOAD_CONCURRENCY);
	assert_int_equal(s.concurrency, 1);
	assert_true(s.realtime && s.timeout == 30 && s.threads == 1);
	http_load_spec_release(&s);
	cJSON_Delete(b);
	assert_int_equal(pr.n, 0);
	errlist_release(&pr);
}

/* `gate --base` moves a load test's base side to a port of its own: the
 * port changes and nothing else, whatever the URL's form. */
static void test_url_with_port(void **state)
{
	static const struct { const char *url, *want; } cases[] = {
		{ "http://127.0.0.1:8000/predict", "http://127.0.0.1:4242/predict" },
		{ "http://h", "http://h:4242" },
		{ "http://h?x=1:2", "http://h:4242?x=1:2" },
		{ "http://h/a:b", "http://h:4242/a:b" },
		{ "https://[::1]:8443/v1/completions?a=b#frag", "https://[::1]:4242/v1/completions?a=b#frag" },
		{ "http://[::1]/x", "http://[::1]:4242/x" },
		{ "http://user:pw@host:80/p", "http://user:pw@host:4242/p" },
	};
	char *got;

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		got = http_server_url_with_port(cases[i].url, "4242");
		assert_non_null(got);
		assert_string_equal(got, cases[i].want);
		free(got);
	}
	assert_null(http_server_url_with_port("ftp://h/x", "4242"));
	assert_null(http_server_url_with_port("http://[::1/x", "4242"));
}

/* Each mistake in a "server" object is one problem at its path. */
static void test_server_validation(void **state)
{
	static const struct { const char *bench, *want; } cases[] = {
		{ "{\"server\": \"python3 app.py\"}", "benchmarks[0].server: expected an object" },
		{ "{\"server\": {}}", "needs exactly one of \"command\"" },
		{ "{\"server\": {\"shell\": \"a\", \"command\": [\"b\"]}}", "needs exactly one of \"command\"" },
		{ "{\"server\": {\"command\": []}}", "benchmarks[0].server.command: expected a non-empty array" },
		{ "{\"server\": {\"shell\": \"\"}}", "benchmarks[0].server.shell: expected a non-empty shell command" },
		{ "{\"server\": {\"shell\": \"a\", \"port\": 80}}", "benchmarks[0].server.port: unknown key" },
		{ "{\"server\": {\"shell\": \"a\", \"env\": {\"A\": 1}}}", "benchmarks[0].server.env: expected an object of strings" },
		{ "{\"server\": {\"shell\": \"a\", \"ready\": \"health\"}}", "benchmarks[0].server.ready: expected a path" },
		{ "{\"http\": {\"url\": \"https://h/x\"}, \"server\": {\"shell\": \"a\", \"ready\": \"/h\"}}",
		  "benchmarks[0].server.ready: asked over plain http:// only" },
		{ "{\"server\": {\"shell\": \"a\", \"ready_timeout\": \"0s\"}}", "benchmarks[0].server.ready_timeout: expected a duration" },
		{ "{\"journey\": [], \"server\": {\"shell\": \"a\"}}", "benchmarks[0].server: only for \"http\" benchmarks" },
	};

	(void)state;
	for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
		struct errlist p = ERRLIST_INIT;
		cJSON *b = cJSON_Parse(cases[i].bench);
		bool found = false;

		assert_non_null(b);
		http_server_validate(b, "benchmarks[0].server", &p);
		for (size_t k = 0; k < p.n; k++)
			found = found || strstr(p.msgs[k], cases[i].want) != NULL;
		if (!found)
			fail_msg("case %zu: no problem containing '%s' (%zu problems%s%s)", i, cases[i].want, p.n,
				 p.n ? ": " : "", p.n ? p.msgs[0] : "");
		errlist_release(&p);
		cJSON_Delete(b);
	}
	{
		struct errlist p = ERRLIST_INIT;
		cJSON *b = cJSON_Parse("{\"http\": {\"url\": \"http://h/x\"}, \"server\": {\"command\": [\"./app\", \"--port\"], "
				       "\"env\": {\"A\": \"1\"}, \"cwd\": \"srv\", \"ready\": \"/health\", \"ready_timeout\": \"2m\"}}");

		http_server_validate(b, "benchmarks[0].server", &p);
		assert_int_equal(p.n, 0);
		errlist_release(&p);
		cJSON_Delete(b);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_urls),
		cmocka_unit_test(test_serialise_templates),
		cmocka_unit_test(test_json_path_and_checks),
		cmocka_unit_test(test_validation_messages),
		cmocka_unit_test(test_load_defaults),
		cmocka_unit_test(test_load_fields),
		cmocka_unit_test(test_url_with_port),
		cmocka_unit_test(test_server_validation),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
