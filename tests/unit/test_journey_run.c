/* Unit tests for the metric attribution of core/http/journey_run.c: a
 * journey result whose counts are set by hand becomes metrics per step
 * ([name] after the metric) and per journey, with an answered request
 * that failed its journey (a capture) counted against its step, and the
 * failures summarised per step and class; and the journey's clock: a
 * journey driven by hand through the engine's driver interface (a
 * transport that sends nothing) whose first step goes out late counts its
 * latency from its intended start, lateness included, while each step's
 * request is due at its own intended time. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#include "../../core/hist.h"
#include "../../core/http/journey.h"
#include "../../core/http/journey_run.h"
#include "../../core/http/transport.h"
#include "../../core/rundoc.h"
#include "../../core/util.h"

#define MS UINT64_C(1000000)

static struct http_journey *two_steps(void)
{
	cJSON *b = cJSON_Parse("{\"journey\": {\"steps\": ["
			       "{\"name\": \"login\", \"http\": {\"url\": \"http://127.0.0.1:9/login\"}, \"capture\": {\"t\": {\"json\": \"$.t\"}}},"
			       "{\"name\": \"search\", \"http\": {\"url\": \"http://127.0.0.1:9/s?t={t}\"}}]}}");
	struct errlist p = ERRLIST_INIT;
	struct http_journey *j = NULL;

	assert_int_equal(http_journey_parse(&j, b, "benchmarks[0]", ".", &p), 0);
	cJSON_Delete(b);
	return j;
}

/* 20 journeys in a 10 s window: 15 succeeded; of the 5 that failed, 3 at
 * login (2 refused, 1 capture) and 2 at search (5xx). */
static void fill(struct http_journey_result *r)
{
	struct http_engine_result *login, *search;

	memset(r, 0, sizeof(*r));
	r->n_steps = 2;
	r->steps = xcalloc(2, sizeof(*r->steps));
	http_engine_result_init(&r->steps[0].r, false);
	http_engine_result_init(&r->steps[1].r, false);
	login = &r->steps[0].r;
	search = &r->steps[1].r;
	login->ok = 18;                  /* 17 went on, 1 had no value to capture */
	login->failed = 2;
	login->errors[EE_REFUSED] = 2;
	login->ok_in_window = 18;
	login->scheduled = login->sent = 20;
	login->window = 10;
	for (int i = 0; i < 18; i++)
		hist_record(login->latency, (uint64_t)(i + 1) * MS);
	r->steps[0].failed[HTTP_JOURNEY_CAPTURE] = 1;
	r->steps[0].failed_in_window = 1;
	search->ok = 15;
	search->failed = 2;
	search->errors[EE_5XX] = 2;
	search->ok_in_window = 15;
	search->window = 10;
	for (int i = 0; i < 15; i++)
		hist_record(search->latency, 10 * MS);
	r->latency = hist_new(3);
	r->lateness = hist_new(3);
	for (int i = 0; i < 15; i++)
		hist_record(r->latency, 100 * MS);
	hist_record(r->lateness, 2 * MS);
	r->failed_at = xcalloc(2, sizeof(*r->failed_at));
	r->failed_at[0] = 3;
	r->failed_at[1] = 2;
	r->scheduled = 20;
	r->ok = 15;
	r->failed = 5;
	r->ok_in_window = 14;
	r->requests = 20 + 17;
	r->window = 10;
}

static double value(const struct rd_bench *b, const char *name)
{
	const struct rd_metric *m = rundoc_bench_find_metric(b, name);

	if (!m)
		fail_msg("no metric %s", name);
	return m->samples[0];
}

static void test_attribution(void **state)
{
	struct http_journey *j = two_steps();
	struct http_journey_result r;
	struct rundoc *rd = rundoc_new();
	struct rd_bench *b = rundoc_add_bench(rd, "j", RUNDOC_KIND_HTTP);

	(void)state;
	fill(&r);
	http_journey_result_metrics(&r, j, b, NULL, true);
	/* per step, its own requests */
	assert_true(fabs(value(b, "latency.p50[login]") - 0.009) < 0.0001);
	assert_true(fabs(value(b, "latency.max[search]") - 0.010) < 0.0001);
	/* the answered login whose capture found nothing failed its step */
	assert_true(fabs(value(b, "error_rate[login]") - 3.0 / 20) < 1e-12);
	assert_true(fabs(value(b, "throughput[login]") - 17.0 / 10) < 1e-12);
	assert_true(value(b, "errors.capture[login]") == 1);
	assert_true(value(b, "errors.refused[login]") == 2);
	assert_true(value(b, "requests[login]") == 20);
	assert_true(fabs(value(b, "error_rate[search]") - 2.0 / 17) < 1e-12);
	assert_true(value(b, "errors.5xx[search]") == 2);
	assert_true(value(b, "errors.capture[search]") == 0);
	assert_true(value(b, "journey.failed[login]") == 3);
	assert_true(value(b, "journey.failed[search]") == 2);
	/* per journey */
	assert_true(fabs(value(b, "journey.error_rate") - 5.0 / 20) < 1e-12);
	assert_true(fabs(value(b, "journey.throughput") - 1.4) < 1e-12);
	assert_true(fabs(value(b, "journey.offered_rate") - 2.0) < 1e-12);
	assert_true(fabs(value(b, "journey.latency.p99") - 0.1) < 0.0001);
	assert_true(fabs(value(b, "journey.lateness.p50") - 0.002) < 0.00001);
	assert_true(fabs(value(b, "journey.requests") - 37.0 / 20) < 1e-12);
	/* no unsuffixed request metrics: they would mix the steps */
	assert_null(rundoc_bench_find_metric(b, "latency.p50"));
	assert_null(rundoc_bench_find_metric(b, "error_rate"));
	rundoc_free(rd);

	/* a sweep step's suffix follows the step's; closed loop: no lateness */
	rd = rundoc_new();
	b = rundoc_add_bench(rd, "j", RUNDOC_KIND_HTTP);
	http_journey_result_metrics(&r, j, b, "@20/s", false);
	assert_non_null(rundoc_bench_find_metric(b, "latency.p95[search]@20/s"));
	assert_non_null(rundoc_bench_find_metric(b, "journey.error_rate@20/s"));
	assert_null(rundoc_bench_find_metric(b, "journey.lateness.p99@20/s"));
	rundoc_free(rd);
	http_journey_result_release(&r);
	http_journey_free(j);
}

static void test_failures(void **state)
{
	struct http_journey *j = two_steps();
	struct http_journey_result r;
	char *why;

	(void)state;
	fill(&r);
	snprintf(r.steps[0].r.first_error[EE_REFUSED], 256, "cannot connect to http://127.0.0.1:9/login: refused");
	snprintf(r.steps[1].r.first_error[EE_5XX], 256, "status 503 from http://127.0.0.1:9/s");
	why = http_journey_result_failures(&r, j);
	assert_string_equal(why, "at login: refused 2 capture 1 (first refused: cannot connect to http://127.0.0.1:9/login: "
				 "refused); at search: 5xx 2 (first 5xx: status 503 from http://127.0.0.1:9/s)");
	free(why);
	http_journey_result_release(&r);
	http_journey_free(j);
	assert_string_equal(http_journey_class_name(HTTP_JOURNEY_CAPTURE), "capture");
	assert_string_equal(http_journey_class_name(HTTP_JOURNEY_UNTIL), "until");
}

/* ---- the journey's clock ---- */

/* A transport that sends nothing: it keeps the slot the engine started a
 * request on, and the test ends the request when it likes. */
static struct http_slot *started;

static void fake_start(struct http_worker *w, struct http_slot *s)
{
	(void)w;
	started = s;
}

static void fake_close(struct http_worker *w, struct http_slot *s)
{
	(void)w;
	s->open = false;
}

static void test_clock(void **state)
{
	const uint64_t t0 = 1000 * MS; /* the journey's intended start */
	cJSON *bj = cJSON_Parse("{\"journey\": {\"steps\": ["
				"{\"name\": \"embed\", \"http\": {\"url\": \"http://127.0.0.1:9/embed\"}},"
				"{\"name\": \"search\", \"http\": {\"url\": \"http://127.0.0.1:9/search\"}, \"think\": \"20ms\"}]}}");
	struct errlist p = ERRLIST_INIT;
	struct http_journey *j = NULL;
	struct http_journey_run *run = NULL;
	struct http_engine_options o;
	struct http_transport fake = { .name = "fake", .start = fake_start, .close = fake_close };
	struct http_step step;
	struct http_worker w;
	struct http_slot slots[2];
	struct http_slot *idle[2];
	struct http_journey_result r;
	struct err err = ERR_INIT;
	struct rundoc *rd = rundoc_new();
	struct rd_bench *b = rundoc_add_bench(rd, "j", RUNDOC_KIND_HTTP);
	void *job;

	(void)state;
	assert_int_equal(http_journey_parse(&j, bj, "benchmarks[0]", ".", &p), 0);
	cJSON_Delete(bj);
	memset(&o, 0, sizeof(o));
	o.open_loop = true;
	o.timeout = 1000 * MS;
	o.threads = 1;
	assert_int_equal(http_journey_run_open(&run, j, 1, 7, &o, &err), 0);
	memset(&step, 0, sizeof(step));
	step.window_start = 0;
	atomic_store(&step.window_end, UINT64_MAX);
	memset(&w, 0, sizeof(w));
	memset(slots, 0, sizeof(slots));
	w.o = &o;
	w.plan = o.plan;
	w.t = &fake;
	w.step = &step;
	w.slots = slots;
	w.cap_slots = 2;
	w.idle = idle;
	w.max_inflight = 2;
	assert_int_equal(http_journey_driver.worker_open(&w, &err), 0);

	/* The journey is due at t0; the worker gets to it 50 ms late. */
	http_journey_driver.arrive(&w, t0, true);
	assert_int_equal(http_journey_driver.active(&w), 1);
	assert_true(http_journey_driver.issue(&w, t0 - MS) == t0); /* not yet: due at t0 */
	assert_null(started);
	assert_true(http_journey_driver.issue(&w, t0 + 50 * MS) == 0);
	assert_non_null(started);
	/* the first step's request is due at the journey's start, not when
	 * it went out: its own latency (request.c: t_end - t_sched) holds the
	 * 50 ms too */
	assert_true(started->t_sched == t0);
	started->t_send = t0 + 50 * MS;
	job = started->job;
	assert_non_null(job);
	/* answered 10 ms after it went out */
	http_engine_slot_done(&w, started, true, true, -1, t0 + 60 * MS);
	started = NULL;

	/* The second step thinks 20 ms after the first ended: due at t0 +
	 * 80 ms, its own intended time, from which its latency counts. */
	assert_true(http_journey_driver.issue(&w, t0 + 79 * MS) == t0 + 80 * MS);
	assert_null(started);
	assert_true(http_journey_driver.issue(&w, t0 + 80 * MS) == 0);
	assert_non_null(started);
	assert_true(started->t_sched == t0 + 80 * MS);
	started->t_send = t0 + 80 * MS;
	http_engine_slot_done(&w, started, true, true, -1, t0 + 90 * MS);
	started = NULL;
	assert_int_equal(http_journey_driver.active(&w), 0);

	/* The journey: from its intended start to its last step's end, the
	 * think time taken out: 90 - 20 = 70 ms.  From its first send it
	 * would be 20 ms: the 50 ms the worker was late count. */
	http_journey_run_result(run, 10, &r);
	assert_true(r.ok == 1 && r.failed == 0 && r.scheduled == 1);
	assert_true(hist_count(r.latency) == 1);
	assert_true(llabs((long long)hist_max(r.latency) - (long long)(70 * MS)) <= (long long)(70 * MS / 1000));
	assert_true(hist_count(r.lateness) == 1);
	assert_true(llabs((long long)hist_max(r.lateness) - (long long)(50 * MS)) <= (long long)(50 * MS / 1000));
	assert_true(r.steps[0].r.scheduled == 1 && r.steps[1].r.scheduled == 1);
	/* the time series (1 s intervals from the step's start at 0): started
	 * and succeeded in the second */
	assert_true(r.n_ts == 2 && r.ts_started[0] == 0 && r.ts_started[1] == 1 && r.ts_ok[0] == 0 && r.ts_ok[1] == 1);
	http_journey_result_metrics(&r, j, b, NULL, true);
	assert_true(fabs(value(b, "journey.latency.p50") - 0.070) < 0.0001);
	assert_true(fabs(value(b, "journey.lateness.max") - 0.050) < 0.0001);
	rundoc_free(rd);
	http_journey_result_release(&r);
	for (size_t i = 0; i < w.n_slots; i++)
		http_request_slot_release(&slots[i]);
	http_journey_run_free(run);
	http_journey_free(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_attribution),
		cmocka_unit_test(test_failures),
		cmocka_unit_test(test_clock),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
