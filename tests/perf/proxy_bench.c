/*
 * proxy_bench.c: the fault proxy's figures (issue 16), measured side by
 * side in one run by perfgate's own load engine:
 *
 *   overhead  RATE requests/s (constant arrivals) to a fast loopback server,
 *             direct and through the proxy with no fault, the two alternated
 *             round by round; the added latency at p50 (goal < 100 us) and
 *             at p99 (goal < 1 ms) is the proxied value minus the direct one,
 *             the median over the rounds;
 *   accuracy  the same through a proxy adding a fixed 50 ms to every
 *             response, alternated with direct rounds: the p50 minus the
 *             direct p50, against 50 ms (goal within 2%).
 *
 * usage: proxy_bench UPSTREAM_PORT [SECONDS_PER_ROUND [ROUNDS [RATE]]]
 * (tests/perf/proxy_bench.sh starts nginx and runs it).  Exits 1 when a
 * goal is missed, 2 on bad usage, 3 when a step could not run.
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../core/hist.h"
#include "../../core/http/engine.h"
#include "../../core/http/plan.h"
#include "../../core/http/proxy.h"
#include "../../core/util.h"

#define MS 1000000ULL

struct step {
	double p50, p99; /* ns */
	double late;     /* fraction sent over 1 ms late */
};

static struct http_plan *plan_for(const char *port)
{
	char *text = xasprintf("{\"http\": {\"url\": \"http://127.0.0.1:%s/\"}}", port);
	cJSON *bench = cJSON_Parse(text);
	struct errlist problems = ERRLIST_INIT;
	struct http_plan *p = NULL;

	if (http_plan_parse(&p, bench, "bench", ".", &problems) != 0) {
		fprintf(stderr, "proxy_bench: %s\n", problems.n ? problems.msgs[0] : "bad plan");
		exit(3);
	}
	errlist_release(&problems);
	cJSON_Delete(bench);
	free(text);
	return p;
}

static struct step run(const struct http_plan *plan, double rate, double secs, uint64_t seed)
{
	struct http_schedule_segment seg = { .duration = INFINITY, .rate_start = rate, .rate_end = rate };
	struct http_engine_options o;
	struct http_engine_result r;
	struct err err = ERR_INIT;
	struct step s;

	memset(&o, 0, sizeof(o));
	o.plan = plan;
	o.open_loop = true;
	o.segments = &seg;
	o.n_segments = 1;
	o.arrival = SCHED_CONSTANT;
	o.burstiness = 1;
	o.seed = seed;
	o.warmup = 500 * MS;
	o.duration = (uint64_t)(secs * 1e9);
	o.threads = 1;
	o.timeout = 10000 * MS;
	o.engine = "native";
	o.realtime = true;
	if (http_engine_run(&o, &r, &err) != 0) {
		fprintf(stderr, "proxy_bench: %s\n", err.msg);
		exit(3);
	}
	if (r.failed) {
		fprintf(stderr, "proxy_bench: %llu requests failed\n", (unsigned long long)r.failed);
		exit(3);
	}
	s.p50 = (double)hist_percentile(r.latency, 50);
	s.p99 = (double)hist_percentile(r.latency, 99);
	s.late = r.sent ? (double)r.late_1ms / (double)r.sent : 0;
	http_engine_result_release(&r);
	return s;
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median(double *v, size_t n)
{
	qsort(v, n, sizeof(*v), cmp_d);
	return n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
}

static struct http_proxy *proxy(const char *up, uint64_t latency)
{
	struct http_proxy_fault f = { .kind = HTTP_PROXY_LATENCY, .share = 1, .latency = latency };
	struct http_proxy_options o = HTTP_PROXY_OPTIONS_INIT;
	struct http_proxy *p = NULL;
	struct err err = ERR_INIT;

	o.upstream_host = "127.0.0.1";
	o.upstream_port = up;
	o.faults = latency ? &f : NULL;
	o.n_faults = latency ? 1 : 0;
	if (http_proxy_open(&p, &o, &err) != 0) {
		fprintf(stderr, "proxy_bench: %s\n", err.msg);
		exit(3);
	}
	http_proxy_begin(p, now_ns());
	return p;
}

int main(int argc, char **argv)
{
	double secs = argc > 2 ? strtod(argv[2], NULL) : 5, rate = argc > 4 ? strtod(argv[4], NULL) : 2000;
	long rounds = argc > 3 ? strtol(argv[3], NULL, 10) : 5;
	struct http_proxy *clean, *slow;
	struct http_plan *direct, *via, *via_slow;
	double *a50, *a99, *acc, late_max = 0, own50, own99;
	struct http_proxy_stats st;
	bool ok = true;

	if (argc < 2 || !(secs > 0) || rounds < 1 || !(rate > 0)) {
		fprintf(stderr, "usage: proxy_bench UPSTREAM_PORT [SECONDS_PER_ROUND [ROUNDS [RATE]]]\n");
		return 2;
	}
	clean = proxy(argv[1], 0);
	slow = proxy(argv[1], 50 * MS);
	direct = plan_for(argv[1]);
	via = plan_for(http_proxy_port(clean));
	via_slow = plan_for(http_proxy_port(slow));
	a50 = xcalloc((size_t)rounds, sizeof(*a50));
	a99 = xcalloc((size_t)rounds, sizeof(*a99));
	acc = xcalloc((size_t)rounds, sizeof(*acc));
	printf("== fault proxy: %g requests/s, %ld rounds of %g s, direct and proxied alternated\n", rate, rounds, secs);
	printf("round  direct p50  proxied p50   added p50  direct p99  proxied p99   added p99  +50ms p50 - direct p50\n");
	for (long i = 0; i < rounds; i++) {
		struct step d, p, s;

		/* alternate which goes first, so that drift favours neither */
		if (i % 2 == 0) {
			d = run(direct, rate, secs, (uint64_t)i + 1);
			p = run(via, rate, secs, (uint64_t)i + 1);
		} else {
			p = run(via, rate, secs, (uint64_t)i + 1);
			d = run(direct, rate, secs, (uint64_t)i + 1);
		}
		s = run(via_slow, rate, secs, (uint64_t)i + 1);
		a50[i] = p.p50 - d.p50;
		a99[i] = p.p99 - d.p99;
		acc[i] = s.p50 - d.p50;
		late_max = fmax(late_max, fmax(d.late, fmax(p.late, s.late)));
		printf("%5ld  %7.1f us  %8.1f us  %7.1f us  %7.1f us  %8.1f us  %7.1f us  %8.3f ms\n", i + 1, d.p50 / 1e3,
		       p.p50 / 1e3, a50[i] / 1e3, d.p99 / 1e3, p.p99 / 1e3, a99[i] / 1e3, acc[i] / 1e6);
	}
	http_proxy_stop(clean, &st);
	own50 = (double)hist_percentile(st.overhead, 50);
	own99 = (double)hist_percentile(st.overhead, 99);
	{
		double m50 = median(a50, (size_t)rounds), m99 = median(a99, (size_t)rounds);
		double macc = median(acc, (size_t)rounds), err = fabs(macc - 50e6) / 50e6;

		printf("added latency p50: %.1f us (goal < 100 us): %s\n", m50 / 1e3, m50 < 100e3 ? "met" : "MISSED");
		printf("added latency p99: %.1f us (goal < 1000 us): %s\n", m99 / 1e3, m99 < 1e6 ? "met" : "MISSED");
		printf("the proxy's own overhead histogram (%llu requests, %s): p50 %.1f us, p99 %.1f us\n",
		       (unsigned long long)hist_count(st.overhead), st.realtime ? "SCHED_FIFO" : "SCHED_OTHER",
		       own50 / 1e3, own99 / 1e3);
		printf("fixed 50 ms fault: p50 - direct p50 = %.3f ms, error %.2f%% (goal within 2%%): %s\n", macc / 1e6,
		       err * 100, err <= 0.02 ? "met" : "MISSED");
		if (late_max > 0.01)
			printf("note: the generator sent up to %.1f%% of a step's requests over 1 ms late\n", late_max * 100);
		ok = m50 < 100e3 && m99 < 1e6 && err <= 0.02;
	}
	http_proxy_stats_release(&st);
	http_proxy_free(clean);
	http_proxy_free(slow);
	http_plan_free(direct);
	http_plan_free(via);
	http_plan_free(via_slow);
	free(a50);
	free(a99);
	free(acc);
	return ok ? 0 : 1;
}
