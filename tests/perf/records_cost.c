/*
 * records_cost.c: the CPU a per-request record costs (core/http/records.c:
 * formatting in the adding thread, and the writer thread's write(2)s),
 * measured alone, where a whole load run's CPU is too noisy to see it
 * (tests/perf/llm_bench.sh, "records").
 *
 *   records_cost FILE [N]
 *
 * Adds N records (default 1,000,000) shaped like a plain HTTP request's,
 * closes the file, and prints the process's CPU time (both threads) per
 * record in microseconds.
 */
#include <stdio.h>
#include <stdlib.h>
#include <sys/resource.h>

#include "../../core/http/records.h"
#include "../../core/util.h"

static double cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 + (double)ru.ru_stime.tv_sec +
	       (double)ru.ru_stime.tv_usec / 1e6;
}

int main(int argc, char **argv)
{
	struct http_records_options o = HTTP_RECORDS_OPTIONS_INIT;
	struct http_records *r = NULL;
	struct http_records_stats st;
	struct http_record x = { 0 };
	struct err err = ERR_INIT;
	long n = argc > 2 ? strtol(argv[2], NULL, 10) : 1000000;
	double c0, c1;

	if (argc < 2) {
		fprintf(stderr, "usage: records_cost FILE [N]\n");
		return 2;
	}
	o.path = argv[1];
	if (http_records_open(&r, &o, &err) != 0) {
		fprintf(stderr, "records_cost: %s\n", err.msg);
		return 1;
	}
	http_records_step(r, "rec", 0, 1000000000ULL, 1);
	x.status = 200;
	x.session = x.turn = x.input_tokens_requested = x.input_tokens = x.cached_tokens = -1;
	x.output_tokens_requested = x.output_tokens = x.reasoning_tokens = -1;
	c0 = cpu_s();
	for (long i = 0; i < n; i++) {
		x.seq = (uint64_t)i;
		x.t_sched = 1000000000ULL + (uint64_t)i * 200000;
		x.t_send = x.t_sched + 31000;
		x.t_first_byte = x.t_send + 84000;
		x.t_end = x.t_first_byte + 2100;
		http_records_add(http_records_local(r, 0), &x);
	}
	if (http_records_close(r, &st, &err) != 0) {
		fprintf(stderr, "records_cost: %s\n", err.msg);
		return 1;
	}
	c1 = cpu_s();
	printf("records %llu bytes %llu cpu_us_per_record %.3f\n", (unsigned long long)st.records,
	       (unsigned long long)st.bytes, (c1 - c0) * 1e6 / (double)n);
	return 0;
}
