/* Unit tests for core/prom/scrape.c against a real loopback exporter
 * (tests/servers/prom_exporter.py, started here and stopped by its pid):
 * the window's values follow the exporter's scrape count (which the
 * exporter itself reports), every misbehaviour becomes a warning and a
 * missing metric, and a bearer token reaches the server and nothing
 * else.  No timing is asserted: a scrape that hung would hang the test. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <curl/curl.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "../../core/proc.h"
#include "../../core/prom/config.h"
#include "../../core/prom/scrape.h"
#include "../../core/util.h"

static pid_t server;
static int port;
static char dir[64];

static int start_server(void **state)
{
	const char *argv[] = { "python3", "tests/servers/prom_exporter.py", NULL, NULL };
	struct proc_options o = PROC_OPTIONS_INIT;
	struct err err = ERR_INIT;
	char portfile[128];

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/perfgate-prom-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(portfile, sizeof(portfile), "%s/port", dir);
	argv[2] = portfile;
	o.argv = argv;
	if (proc_spawn(&o, &server, &err) != 0)
		return -1;
	for (int i = 0; i < 100; i++) {
		char *text = NULL;
		if (file_read(portfile, &text, NULL, &err) == 0) {
			port = (int)strtol(text, NULL, 10);
			free(text);
			return port > 0 ? 0 : -1;
		}
		usleep(50000);
	}
	return -1;
}

static int stop_server(void **state)
{
	char path[128];

	(void)state;
	if (server > 0) {
		kill(server, SIGTERM);
		waitpid(server, NULL, 0);
	}
	snprintf(path, sizeof(path), "%s/port", dir);
	unlink(path);
	rmdir(dir);
	return 0;
}

struct window {
	struct rundoc *rd;
	struct rd_bench *b;
	struct errlist notices;
	char *json;              /* the bench's extra, serialised */
};

/* One measured window of `seconds` scraping the target described by
 * `target` (JSON, "PORT" standing for the exporter's port). */
static void run_window(struct window *w, const char *target, double seconds)
{
	char *json = xstrdup(target), *at = strstr(json, "PORT");

	if (at) {
		char *s = xasprintf("%.*s%d%s", (int)(at - json), json, port, at + 4);
		free(json);
		json = s;
	}
	cJSON *j = cJSON_Parse(json);
	struct prom_config *cfg = NULL;
	struct prom_scrape *s = NULL;
	struct err err = ERR_INIT;
	struct timespec ts = { .tv_sec = (time_t)seconds, .tv_nsec = (long)((seconds - (double)(time_t)seconds) * 1e9) };

	if (!j)
		fail_msg("bad JSON %s", json);
	memset(w, 0, sizeof(*w));
	w->rd = rundoc_new();
	w->b = rundoc_add_bench(w->rd, "b", RUNDOC_KIND_HTTP);
	if (prom_config_parse(&cfg, j, "prometheus", &err) != 0 || prom_scrape_start(&s, cfg, &err) != 0)
		fail_msg("%s", err.msg);
	nanosleep(&ts, NULL);
	prom_scrape_stop(s, w->b, &w->notices);
	w->json = cJSON_PrintUnformatted(w->b->extra);
	prom_config_free(cfg);
	cJSON_Delete(j);
	free(json);
}

static void window_release(struct window *w)
{
	rundoc_free(w->rd);
	errlist_release(&w->notices);
	free(w->json);
}

static double metric(const struct window *w, const char *name)
{
	const struct rd_metric *m = rundoc_bench_find_metric(w->b, name);

	return m && m->n_samples == 1 ? m->samples[0] : NAN;
}

static double target_num(const struct window *w, const char *key)
{
	const cJSON *t = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(
						    cJSON_GetObjectItemCaseSensitive(w->b->extra, "prometheus"), "targets"), 0);

	return cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(t, key));
}

static bool noticed(const struct window *w, const char *piece)
{
	for (size_t i = 0; i < w->notices.n; i++)
		if (strstr(w->notices.msgs[i], piece))
			return true;
	return false;
}

static void near(double got, double want)
{
	if (!(fabs(got - want) < 1e-9 * fmax(1.0, fabs(want))))
		fail_msg("got %.17g, want %.17g", got, want);
}

#define DEMO_METRICS                                                                                          \
	"\"metrics\": {\"g\": \"demo_gauge\", \"req\": \"demo_requests\", \"lat\": \"demo_latency_seconds\",   \
	 \"rpc\": \"demo_rpc_seconds\"}"

static void test_values_follow_the_scrapes(void **state)
{
	struct window w;
	double k;

	(void)state;
	run_window(&w,
		   "{\"url\": \"http://127.0.0.1:PORT/metrics?t=values\", \"name\": \"demo\", \"interval\": \"50ms\", "
		   DEMO_METRICS "}",
		   0.6);
	k = target_num(&w, "scrapes");
	if (w.notices.n)
		fail_msg("unexpected notice: %s", w.notices.msgs[0]);
	assert_true(k >= 2);
	near(target_num(&w, "failed"), 0);
	/* the exporter numbers its scrapes 1..k: the gauge's max is k, its mean (k + 1) / 2 */
	near(metric(&w, "server.demo.g.max"), k);
	near(metric(&w, "server.demo.g.mean"), (k + 1) / 2);
	/* +10 (resets every 4 scrapes included) and +1 per scrape after the first */
	near(metric(&w, "server.demo.req.increase"), 11 * (k - 1));
	/* every scrape adds 0.05, 0.3, 0.75 and 2.0 s: p50 reaches the 0.5 bound,
	 * p90 falls in +Inf (the highest finite bound, 1), the mean is 3.1 / 4 */
	near(metric(&w, "server.demo.lat.p50"), 0.5);
	near(metric(&w, "server.demo.lat.p90"), 1.0);
	near(metric(&w, "server.demo.lat.mean"), 0.775);
	/* the summary's own quantiles; 1.5 s over 3 calls */
	near(metric(&w, "server.demo.rpc.p50"), 0.2);
	near(metric(&w, "server.demo.rpc.p99"), 0.9);
	near(metric(&w, "server.demo.rpc.mean"), 0.5);
	/* the series: one point per scrape, the gauge's values 1..k */
	{
		const cJSON *o = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(w.b->extra, "server_metrics"),
								  "demo");
		const cJSON *g = cJSON_GetObjectItemCaseSensitive(o, "g");
		assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(o, "t")), (int)k);
		assert_int_equal(cJSON_GetArraySize(g), (int)k);
		near(cJSON_GetArrayItem(g, (int)k - 1)->valuedouble, k);
		assert_non_null(cJSON_GetObjectItemCaseSensitive(o, "req.rate"));
		assert_non_null(cJSON_GetObjectItemCaseSensitive(o, "lat.mean"));
	}
	assert_non_null(strstr(w.json, "\"found\":{\"g\":\"demo_gauge\""));
	window_release(&w);
}

static void test_openmetrics(void **state)
{
	struct window w;
	double k;

	(void)state;
	run_window(&w,
		   "{\"url\": \"http://127.0.0.1:PORT/metrics?mode=openmetrics\", \"name\": \"demo\", \"interval\": \"50ms\", "
		   DEMO_METRICS "}",
		   0.3);
	k = target_num(&w, "scrapes");
	near(target_num(&w, "bad_lines"), 0);
	near(metric(&w, "server.demo.g.max"), k);
	near(metric(&w, "server.demo.req.increase"), 11 * (k - 1));
	window_release(&w);
}

static void test_preset_missing_everything(void **state)
{
	struct window w;

	(void)state;
	/* a vLLM preset on a server that is not vLLM: every metric missing, said once each */
	run_window(&w, "{\"url\": \"http://127.0.0.1:PORT/metrics?t=preset\", \"preset\": \"vllm\", \"interval\": \"50ms\"}", 0.2);
	assert_true(noticed(&w, "prometheus target 'vllm' (http://127.0.0.1:"));
	assert_true(noticed(&w, "no series for kv_cache_usage (tried vllm:kv_cache_usage_perc, vllm:gpu_cache_usage_perc)"));
	assert_int_equal(w.b->n_metrics, 0);
	assert_non_null(strstr(w.json, "\"missing\":[\"kv_cache_usage\""));
	window_release(&w);
}

struct misbehaviour {
	const char *query;
	const char *extra;       /* more target keys */
	const char *notice;      /* a piece of the warning */
	bool values;             /* the gauge is still read */
};

static const struct misbehaviour misbehaviours[] = {
	{ "mode=slow&ms=3000", "\"timeout\": \"200ms\"", "no complete answer within 0.2s", false },
	{ "mode=status&code=500", "", "HTTP status 500", false },
	{ "mode=truncated", "", "the body was cut short", false },
	{ "mode=cut", "", "malformed lines were skipped (line", true },
	{ "mode=malformed", "", "malformed lines were skipped (line 3, column 12: unterminated label value", true },
	{ "mode=garbage", "", "no series for g", false },
	{ "mode=huge&mb=1", "\"max_size\": \"64KiB\"", "larger than max_size (65536 bytes)", false },
	{ "mode=empty", "", "no series for g", false },
	{ "mode=auth", "", "HTTP status 401", false },
};

static void test_misbehaving_targets(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(misbehaviours); i++) {
		const struct misbehaviour *m = &misbehaviours[i];
		char *target = xasprintf("{\"url\": \"http://127.0.0.1:PORT/metrics?%s\", \"name\": \"demo\", \"interval\": "
					 "\"100ms\", %s%s\"metrics\": {\"g\": \"demo_gauge\"}}",
					 m->query, m->extra, *m->extra ? ", " : "");
		struct window w;

		run_window(&w, target, 0.3);
		if (!noticed(&w, m->notice))
			fail_msg("%s: no notice with \"%s\" (%zu notices, first: %s)", m->query, m->notice, w.notices.n,
				 w.notices.n ? w.notices.msgs[0] : "-");
		if (m->values != !isnan(metric(&w, "server.demo.g.max")))
			fail_msg("%s: the gauge is %s", m->query, m->values ? "missing" : "present");
		window_release(&w);
		free(target);
	}
}

/* A loopback port nobody listens on: bound, read, closed. */
static int closed_port(void)
{
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&a, &len), 0);
	close(fd);
	return ntohs(a.sin_port);
}

static void test_refused(void **state)
{
	struct window w;
	char *target;

	(void)state;
	target = xasprintf("{\"url\": \"http://127.0.0.1:%d/metrics\", \"name\": \"demo\", \"interval\": \"100ms\", "
			   "\"metrics\": {\"g\": \"demo_gauge\"}}", closed_port());
	run_window(&w, target, 0.2);
	if (!noticed(&w, "no scrape succeeded in a measured window"))
		fail_msg("no notice: %s", w.notices.n ? w.notices.msgs[0] : "-");
	assert_true(isnan(metric(&w, "server.demo.g.max")));
	window_release(&w);
	free(target);
}

static void test_token(void **state)
{
	struct window w;

	(void)state;
	setenv("PERFGATE_TEST_PROM_TOKEN", "sekrit-prom", 1);
	run_window(&w,
		   "{\"url\": \"http://127.0.0.1:PORT/metrics?mode=auth\", \"name\": \"demo\", \"interval\": \"50ms\", "
		   "\"token_env\": \"PERFGATE_TEST_PROM_TOKEN\", \"metrics\": {\"g\": \"demo_gauge\"}}",
		   0.2);
	unsetenv("PERFGATE_TEST_PROM_TOKEN");
	if (w.notices.n)
		fail_msg("unexpected notice: %s", w.notices.msgs[0]);
	near(metric(&w, "server.demo.g.max"), target_num(&w, "scrapes"));
	/* the token is nowhere in what the window left behind */
	assert_null(strstr(w.json, "sekrit"));
	window_release(&w);
}

static void test_query_not_recorded(void **state)
{
	struct window w;

	(void)state;
	run_window(&w,
		   "{\"url\": \"http://127.0.0.1:PORT/metrics?key=hush\", \"name\": \"demo\", \"interval\": \"100ms\", "
		   "\"metrics\": {\"g\": \"demo_gauge\"}}",
		   0.15);
	assert_null(strstr(w.json, "hush"));
	assert_non_null(strstr(w.json, "/metrics\""));
	window_release(&w);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_values_follow_the_scrapes),
		cmocka_unit_test(test_openmetrics),
		cmocka_unit_test(test_preset_missing_everything),
		cmocka_unit_test(test_misbehaving_targets),
		cmocka_unit_test(test_refused),
		cmocka_unit_test(test_token),
		cmocka_unit_test(test_query_not_recorded),
	};

	curl_global_init(CURL_GLOBAL_DEFAULT);
	return cmocka_run_group_tests(tests, start_server, stop_server);
}
