/* Unit tests for core/http/faults.c: the `faults` object parsed into
 * proxies and their schedules, every problem at its JSON path, and the
 * schedule checked against the measured window. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "../../core/http/faults.h"
#include "../../core/util.h"

#define SEC UINT64_C(1000000000)
#define MS UINT64_C(1000000)

static int parse(const char *faults_json, struct http_faults *out, struct errlist *p)
{
	char *text = xasprintf("{\"name\": \"b\", \"faults\": %s}", faults_json);
	cJSON *bench = cJSON_Parse(text);
	int rc;

	free(text);
	assert_non_null(bench);
	rc = http_faults_parse(out, bench, "benchmarks[0]", p);
	cJSON_Delete(bench);
	return rc;
}

static void expect_problem(const char *faults_json, const char *problem)
{
	struct errlist p = ERRLIST_INIT;
	bool found = false;

	assert_int_equal(parse(faults_json, NULL, &p), ERR_INPUT);
	for (size_t i = 0; i < p.n; i++)
		found = found || strstr(p.msgs[i], problem) != NULL;
	if (!found)
		fail_msg("'%s' not among the %zu problems of %s (first: %s)", problem, p.n, faults_json,
			 p.n ? p.msgs[0] : "none");
	errlist_release(&p);
}

static void test_one_proxy(void **state)
{
	struct http_faults f;
	struct errlist p = ERRLIST_INIT;
	const struct http_proxy_fault *x;

	(void)state;
	assert_int_equal(parse("{\"proxy\": {\"listen\": \"127.0.0.1:9102\", \"upstream\": \"localhost:8102\"},"
			       " \"schedule\": ["
			       "  {\"kind\": \"latency\", \"latency\": \"200ms\", \"jitter\": \"20ms\", \"at\": \"10s\","
			       "   \"duration\": \"5s\", \"share\": \"50%\", \"distribution\": \"normal\", \"direction\": \"request\"},"
			       "  {\"kind\": \"error\", \"status\": 503, \"at\": 3, \"duration\": \"1s\", \"share\": 0.1},"
			       "  {\"kind\": \"bandwidth\", \"bandwidth\": \"64KiB/s\", \"at\": \"20s\", \"duration\": \"2s\"},"
			       "  {\"kind\": \"blackhole\", \"close_after\": \"1s\", \"at\": \"25s\", \"duration\": \"1s\"},"
			       "  {\"kind\": \"slow_close\", \"delay\": \"2s\", \"at\": \"27s\", \"duration\": \"1s\"},"
			       "  {\"kind\": \"reset\", \"at\": \"28s\", \"duration\": \"500ms\", \"share\": \"100%\"}],"
			       " \"recovery\": {\"window\": \"2s\", \"step\": \"250ms\", \"latency_tolerance\": \"20%\","
			       "  \"error_tolerance\": 0.01}}",
			       &f, &p),
			 0);
	assert_int_equal(p.n, 0);
	assert_int_equal(f.n_proxies, 1);
	assert_string_equal(f.proxies[0].name, "proxy");
	assert_string_equal(f.proxies[0].listen_host, "127.0.0.1");
	assert_string_equal(f.proxies[0].listen_port, "9102");
	assert_string_equal(f.proxies[0].upstream_host, "localhost");
	assert_string_equal(f.proxies[0].upstream_port, "8102");
	assert_int_equal(f.proxies[0].mode, HTTP_PROXY_HTTP);
	assert_int_equal(f.proxies[0].n_faults, 6);
	assert_int_equal(f.n_entries, 6);
	x = &f.proxies[0].faults[0];
	assert_int_equal(x->kind, HTTP_PROXY_LATENCY);
	assert_int_equal(x->latency, 200 * MS);
	assert_int_equal(x->jitter, 20 * MS);
	assert_int_equal(x->at, 10 * SEC);
	assert_int_equal(x->duration, 5 * SEC);
	assert_true(x->share == 0.5);
	assert_int_equal(x->dist, HTTP_PROXY_NORMAL);
	assert_int_equal(x->direction, HTTP_PROXY_DIR_REQUEST);
	x = &f.proxies[0].faults[1];
	assert_int_equal(x->status, 503);
	assert_int_equal(x->at, 3 * SEC);
	assert_true(x->share == 0.1);
	assert_true(f.proxies[0].faults[2].bandwidth == 65536);
	assert_int_equal(f.proxies[0].faults[3].delay, 1 * SEC);
	assert_int_equal(f.proxies[0].faults[4].delay, 2 * SEC);
	assert_true(f.proxies[0].faults[5].share == 1);
	/* the union of the schedule: from 3 s to 28.5 s */
	assert_int_equal(f.start, 3 * SEC);
	assert_int_equal(f.end, 28500 * MS);
	assert_int_equal(f.recovery.window, 2 * SEC);
	assert_int_equal(f.recovery.step, 250 * MS);
	assert_true(f.recovery.latency_tolerance > 0.1999 && f.recovery.latency_tolerance < 0.2001);
	assert_true(f.recovery.error_tolerance == 0.01);
	http_faults_release(&f);
}

static void test_several_proxies(void **state)
{
	struct http_faults f;
	struct errlist p = ERRLIST_INIT;

	(void)state;
	assert_int_equal(parse("{\"proxies\": [{\"name\": \"search\", \"listen\": 9102, \"upstream\": \"[::1]:8102\"},"
			       "  {\"name\": \"embed\", \"listen\": \"[::1]:9101\", \"upstream\": \"127.0.0.1:8101\", \"mode\": \"tcp\","
			       "   \"threads\": 2}],"
			       " \"schedule\": [{\"proxy\": \"embed\", \"kind\": \"reset\", \"at\": \"5s\"},"
			       "  {\"proxy\": \"search\", \"kind\": \"latency\", \"latency\": \"1s\", \"distribution\": \"pareto\","
			       "   \"alpha\": 1.5, \"at\": \"2s\", \"duration\": \"1s\"}]}",
			       &f, &p),
			 0);
	assert_int_equal(f.n_proxies, 2);
	assert_string_equal(f.proxies[0].listen_host, "127.0.0.1"); /* a bare port listens on loopback */
	assert_string_equal(f.proxies[0].upstream_host, "::1");
	assert_string_equal(f.proxies[1].listen_host, "::1");
	assert_int_equal(f.proxies[1].mode, HTTP_PROXY_TCP);
	assert_int_equal(f.proxies[1].threads, 2);
	assert_int_equal(f.proxies[1].n_faults, 1);
	assert_int_equal(f.proxies[1].entry[0], 0);
	assert_int_equal(f.proxies[0].n_faults, 1);
	assert_int_equal(f.proxies[0].entry[0], 1);
	assert_true(f.proxies[0].faults[0].alpha == 1.5);
	assert_int_equal(f.start, 2 * SEC);
	assert_int_equal(f.end, 0); /* the reset lasts to the end */
	http_faults_release(&f);
}

static void test_problems(void **state)
{
	(void)state;
	expect_problem("[]", "benchmarks[0].faults: expected an object with \"proxy\" and \"schedule\", got an array");
	expect_problem("{\"schedule\": [{\"kind\": \"reset\"}]}", "benchmarks[0].faults.proxy: required");
	expect_problem("{\"proxy\": {\"upstream\": \"h:1\"}, \"schedule\": [{\"kind\": \"reset\"}]}",
		       "benchmarks[0].faults.proxy.listen: required");
	expect_problem("{\"proxy\": {\"listen\": \"9102\", \"upstream\": \"h:1\"}, \"schedule\": [{\"kind\": \"reset\"}]}",
		       "benchmarks[0].faults.proxy.listen: expected HOST:PORT");
	expect_problem("{\"proxy\": {\"listen\": 1, \"upstream\": \"h:99999\"}, \"schedule\": [{\"kind\": \"reset\"}]}",
		       "benchmarks[0].faults.proxy.upstream: expected HOST:PORT such as \"127.0.0.1:8102\", got \"h:99999\"");
	expect_problem("{\"proxy\": {\"listen\": 1, \"upstream\": \"::1:80\"}, \"schedule\": [{\"kind\": \"reset\"}]}",
		       "benchmarks[0].faults.proxy.upstream: expected HOST:PORT");
	expect_problem("{\"proxy\": {\"listen\": 1, \"upstream\": \"h:1\", \"mode\": \"udp\"}, \"schedule\": [{\"kind\": \"reset\"}]}",
		       "benchmarks[0].faults.proxy.mode: expected \"http\" or \"tcp\"");
	expect_problem("{\"proxy\": {\"listen\": 1, \"upstream\": \"h:1\", \"lisen\": 2}, \"schedule\": [{\"kind\": \"reset\"}]}",
		       "benchmarks[0].faults.proxy.lisen: unknown key; did you mean \"listen\"?");
	expect_problem("{\"proxy\": {\"listen\": 1, \"upstream\": \"h:1\"}, \"schedule\": []}",
		       "benchmarks[0].faults.schedule: expected a non-empty array of faults");
	expect_problem("{\"proxy\": {\"listen\": 1, \"upstream\": \"h:1\"}, \"schedule\": [{\"kind\": \"lag\"}]}",
		       "benchmarks[0].faults.schedule[0].kind: expected one of \"latency\"");
	expect_problem("{\"proxy\": {\"listen\": 1, \"upstream\": \"h:1\"}, \"schedule\": [{\"kind\": \"reset\"}, {\"kind\": \"latency\"}]}",
		       "benchmarks[0].faults.schedule[1].latency: required for a latency fault");
	expect_problem("{\"proxy\": {\"listen\": 1, \"upstream\": \"h:1\"}, \"schedule\": [{\"kind\": \"reset\", \"status\": 503}]}",
		       "benchmarks[0].faults.schedule[0].status: not a key of a reset fault");
	expect_problem("{\"proxy\": {\"listen\": 1, \"upstream\": \"h:1\"}, \"schedule\": [{\"kind\": \"error\", \"status\": 42}]}",
		       "benchmarks[0].faults.schedule[0].status: expected an HTTP status 100..599 such as 503, got 42");
	expect_problem("{\"proxy\": {\"listen\": 1, \"upstream\": \"h:1\", \"mode\": \"tcp\"}, \"schedule\": [{\"kind\": \"error\", \"status\": 500}]}",
		       "benchmarks[0].faults.schedule[0].kind: error responses need a proxy in \"http\" mode");
	expect_problem("{\"proxy\": {\"listen\": 1, \"upstream\": \"h:1\"}, \"schedule\": [{\"kind\": \"reset\", \"share\": \"150%\"}]}",
		       "benchmarks[0].faults.schedule[0].share: expected a fraction in (0, 1] or a percentage");
	expect_problem("{\"proxy\": {\"listen\": 1, \"upstream\": \"h:1\"}, \"schedule\": [{\"kind\": \"reset\", \"at\": \"soon\"}]}",
		       "benchmarks[0].faults.schedule[0].at: expected a duration");
	expect_problem("{\"proxy\": {\"listen\": 1, \"upstream\": \"h:1\"}, \"schedule\": [{\"kind\": \"reset\", \"duration\": 0}]}",
		       "benchmarks[0].faults.schedule[0].duration: must be > 0");
	expect_problem("{\"proxy\": {\"listen\": 1, \"upstream\": \"h:1\"}, \"schedule\": [{\"kind\": \"bandwidth\", \"bandwidth\": \"fast\"}]}",
		       "benchmarks[0].faults.schedule[0].bandwidth: expected bytes per second");
	expect_problem("{\"proxy\": {\"listen\": 1, \"upstream\": \"h:1\"}, \"schedule\": [{\"kind\": \"latency\", \"latency\": \"1s\","
		       " \"distribution\": \"exponential\", \"jitter\": \"1ms\"}]}",
		       "benchmarks[0].faults.schedule[0].jitter: only the fixed and normal distributions take a jitter, not exponential");
	expect_problem("{\"proxy\": {\"listen\": 1, \"upstream\": \"h:1\"}, \"schedule\": [{\"kind\": \"latency\", \"latency\": \"1s\","
		       " \"sigma\": 1}]}",
		       "benchmarks[0].faults.schedule[0].sigma: only for \"distribution\": \"lognormal\"");
	expect_problem("{\"proxy\": {\"listen\": 1, \"upstream\": \"h:1\"}, \"schedule\": [{\"kind\": \"slow_close\"}]}",
		       "benchmarks[0].faults.schedule[0].delay: required for a slow_close fault");
	expect_problem("{\"proxy\": {\"listen\": 1, \"upstream\": \"h:1\"}, \"schedule\": [{\"kind\": \"reset\", \"proxy\": \"x\"}]}",
		       "benchmarks[0].faults.schedule[0].proxy: no proxy named \"x\"");
	expect_problem("{\"proxies\": [{\"name\": \"a\", \"listen\": 1, \"upstream\": \"h:1\"}, {\"name\": \"b\", \"listen\": 2,"
		       " \"upstream\": \"h:2\"}], \"schedule\": [{\"kind\": \"reset\"}, {\"kind\": \"reset\", \"proxy\": \"bb\"}]}",
		       "benchmarks[0].faults.schedule[0].proxy: required with several proxies");
	expect_problem("{\"proxies\": [{\"name\": \"a\", \"listen\": 1, \"upstream\": \"h:1\"}, {\"name\": \"b\", \"listen\": 2,"
		       " \"upstream\": \"h:2\"}], \"schedule\": [{\"kind\": \"reset\", \"proxy\": \"bb\"}]}",
		       "no proxy named \"bb\"; did you mean \"b\"?");
	expect_problem("{\"proxies\": [{\"listen\": 1, \"upstream\": \"h:1\"}], \"schedule\": [{\"kind\": \"reset\"}]}",
		       "benchmarks[0].faults.proxies[0].name: required when there are several proxies");
	expect_problem("{\"proxies\": [{\"name\": \"a\", \"listen\": 1, \"upstream\": \"h:1\"}, {\"name\": \"a\", \"listen\": 2,"
		       " \"upstream\": \"h:2\"}], \"schedule\": [{\"kind\": \"reset\", \"proxy\": \"a\"}]}",
		       "benchmarks[0].faults.proxies[1].name: \"a\" is taken by proxies[0]");
	expect_problem("{\"proxy\": {\"listen\": 1, \"upstream\": \"h:1\"}, \"schedule\": [{\"kind\": \"reset\"}],"
		       " \"recovery\": {\"window\": \"1s\", \"step\": \"2s\", \"latency_tolerance\": \"much\"}}",
		       "benchmarks[0].faults.recovery.step: at most the window (1s)");
	expect_problem("{\"proxy\": {\"listen\": 1, \"upstream\": \"h:1\"}, \"schedule\": [{\"kind\": \"reset\"}],"
		       " \"recovery\": {\"latency_tolerance\": \"much\"}}",
		       "benchmarks[0].faults.recovery.latency_tolerance: expected a fraction >= 0");
	expect_problem("{\"proxy\": {\"listen\": 1, \"upstream\": \"h:1\"}, \"schedule\": [{\"kind\": \"reset\"}],"
		       " \"recovery\": {\"window\": 0}}",
		       "benchmarks[0].faults.recovery.window: must be > 0");
}

static void test_every_problem_reported(void **state)
{
	struct errlist p = ERRLIST_INIT;

	(void)state;
	/* three mistakes in three entries: three lines */
	assert_int_equal(parse("{\"proxy\": {\"listen\": 1, \"upstream\": \"h:1\"}, \"schedule\": ["
			       "{\"kind\": \"error\"}, {\"kind\": \"latency\", \"latency\": \"x\"}, {\"kind\": \"reset\", \"at\": -1}]}",
			       NULL, &p),
			 ERR_INPUT);
	assert_int_equal(p.n, 3);
	assert_non_null(strstr(p.msgs[0], "schedule[0].status"));
	assert_non_null(strstr(p.msgs[1], "schedule[1].latency"));
	assert_non_null(strstr(p.msgs[2], "schedule[2].at"));
	errlist_release(&p);
}

static void test_window(void **state)
{
	cJSON *b = cJSON_Parse("{\"faults\": {\"schedule\": [{\"kind\": \"reset\", \"at\": \"10s\", \"duration\": \"5s\"},"
			       " {\"kind\": \"reset\", \"at\": \"30s\"}, {\"kind\": \"reset\", \"at\": \"20s\", \"duration\": \"20s\"}]}}");
	struct errlist p = ERRLIST_INIT;

	(void)state;
	http_faults_check_window(b, 30, "benchmarks[1]", &p);
	assert_int_equal(p.n, 2);
	assert_string_equal(p.msgs[0], "benchmarks[1].faults.schedule[1].at: 30s is not inside the measured window (30s)");
	assert_string_equal(p.msgs[1], "benchmarks[1].faults.schedule[2].duration: the fault would end at 40s, after the "
				       "measured window (30s)");
	errlist_release(&p);
	http_faults_check_window(b, 60, "benchmarks[1]", &p);
	assert_int_equal(p.n, 0);
	http_faults_check_window(b, 0, "benchmarks[1]", &p);
	assert_int_equal(p.n, 1);
	assert_non_null(strstr(p.msgs[0], "needs a measured window in time"));
	errlist_release(&p);
	cJSON_Delete(b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_one_proxy),
		cmocka_unit_test(test_several_proxies),
		cmocka_unit_test(test_problems),
		cmocka_unit_test(test_every_problem_reported),
		cmocka_unit_test(test_window),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
