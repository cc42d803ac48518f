/*
 * shard_merge_cost.c: the cost of merging shards (docs/performance.md,
 * "Shards"; issue 17's goal: 64 shards of a 10-minute run merge in under
 * 1 s).  Writes SHARDS shard run documents of one SECONDS-long step at
 * RATE requests/s each into DIR, as `perfgate run --shard` writes them (the
 * engine's result through core/http/shard.c and the runner's metrics):
 * lognormal latencies (median 20 ms, sigma 0.5, a different scale per
 * shard), every interval's histogram; then, unless --write-only, times
 * reading them back and merging them in this process (best of 3).
 * tests/perf/shard_merge_cost.sh times `perfgate merge` over the files.
 *
 *   shard_merge_cost DIR [SHARDS [SECONDS [RATE]]] [--write-only]
 */
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../core/hist.h"
#include "../../core/http/engine.h"
#include "../../core/http/load.h"
#include "../../core/http/plan.h"
#include "../../core/http/runner.h"
#include "../../core/http/shard.h"
#include "../../core/shard.h"
#include "../../core/shard_merge.h"
#include "../../core/util.h"

static uint64_t rng_state = 88172645463325252ULL;
static double unif(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return ((double)((rng_state * 2685821657736338717ULL) >> 11) + 0.5) / 9007199254740992.0;
}

static uint64_t latency(double scale)
{
	double z = sqrt(-2 * log(unif())) * cos(6.283185307179586 * unif());

	return (uint64_t)(scale * 20e6 * exp(0.5 * z));
}

/* One shard's step result: `seconds` intervals of `rate` successes each. */
static void fill(struct http_engine_result *r, long seconds, long rate, double scale)
{
	http_engine_result_init(r, false);
	r->engine = "native";
	r->sched_policy = "fifo";
	r->window = (double)seconds;
	r->ts_interval = 1000000000ULL;
	r->n_ts = (size_t)seconds;
	r->ts = xcalloc((size_t)seconds, sizeof(*r->ts));
	r->ts_lat = xcalloc((size_t)seconds, sizeof(*r->ts_lat));
	for (long k = 0; k < seconds; k++) {
		r->ts_lat[k] = hist_new(2);
		for (long i = 0; i < rate; i++) {
			uint64_t v = latency(scale);

			hist_record(r->latency, v);
			hist_record(r->service_time, v - v / 10);
			hist_record(r->ttfb, v / 2);
			hist_record(r->lateness, (uint64_t)(unif() * 50000));
			hist_record(r->ts_lat[k], v);
		}
		r->ts[k].sent = r->ts[k].ok = (uint64_t)rate;
		r->ts[k].inflight_max = 5;
		r->ts[k].p50 = hist_percentile(r->ts_lat[k], 50);
		r->ts[k].p95 = hist_percentile(r->ts_lat[k], 95);
		r->ts[k].p99 = hist_percentile(r->ts_lat[k], 99);
	}
	r->ok = r->ok_in_window = r->scheduled = r->sent = r->sent_in_window = (uint64_t)(seconds * rate);
	r->bytes_in = 150 * r->ok;
	r->bytes_out = 90 * r->ok;
	r->connections_opened = 16;
}

static int write_shard(const char *dir, unsigned index, unsigned count, long seconds, long rate)
{
	struct shard_spec spec = { index, count, "--shard" };
	struct shard_start st = { 1800000000.0, 0, 0.0002, "database" };
	struct rundoc *rd = rundoc_new();
	struct http_engine_result r;
	struct http_engine_options o;
	struct http_load_spec ls;
	struct http_plan plan;
	struct shard sh;
	struct rd_bench *b;
	struct err err = ERR_INIT;
	char id[37], *path;
	int rc;

	rundoc_uuid(id);
	rd->run_id = xstrdup(id);
	rd->suite = xstrdup("merge-cost");
	rd->started_at = xstrdup("2026-11-28T10:00:00Z");
	rd->finished_at = xstrdup("2026-11-28T10:10:01Z");
	shard_init(&sh, &spec, "merge-cost", "hash");
	shard_stamp(rd, &sh);
	b = rundoc_add_bench(rd, "load", RUNDOC_KIND_HTTP);
	b->extra = cJSON_CreateObject();
	fill(&r, seconds, rate, 1.0 + 0.01 * index);
	r.t0 = shard_to_mono(st.planned, &st);
	memset(&plan, 0, sizeof(plan));
	memset(&ls, 0, sizeof(ls));
	ls.mode = LOAD_RATE;
	ls.rate = (double)(rate * count);
	ls.duration = (double)seconds;
	memset(&o, 0, sizeof(o));
	o.open_loop = true;
	o.threads = 1;
	o.duration = (uint64_t)seconds * 1000000000ULL;
	o.timeout = 30000000000ULL;
	http_runner_metrics(b, NULL, &r, true, &plan, "inter_chunk");
	cJSON_AddItemToArray(cJSON_AddArrayToObject(b->extra, "timeseries"), http_runner_timeseries(&r, 0, 0));
	http_shard_step_note(&sh, b, &ls, &plan, NULL, &o, &r, &st, 0, 0);
	for (size_t i = 0; i < b->n_metrics; i++)
		rundoc_metric_summarise(&b->metrics[i]);
	path = xasprintf("%s/shard-%03u.json", dir, index + 1);
	if ((rc = rundoc_save(rd, path, &err)) != 0)
		fprintf(stderr, "shard_merge_cost: %s\n", err.msg);
	free(path);
	http_engine_result_release(&r);
	shard_release(&sh);
	rundoc_free(rd);
	return rc;
}

/* Read the files back and merge them: seconds. */
static double merge_once(const char *dir, unsigned count, size_t *bytes)
{
	struct rundoc **docs = xcalloc(count, sizeof(*docs)), *m = NULL;
	struct err err = ERR_INIT;
	uint64_t t0 = now_ns();
	char *text;

	for (unsigned i = 0; i < count; i++) {
		char *path = xasprintf("%s/shard-%03u.json", dir, i + 1);

		if (rundoc_load(&docs[i], path, &err) != 0) {
			fprintf(stderr, "shard_merge_cost: %s\n", err.msg);
			exit(1);
		}
		free(path);
	}
	if (shard_merge(docs, count, NULL, &m, NULL, &err) != 0) {
		fprintf(stderr, "shard_merge_cost: %s\n", err.msg);
		exit(1);
	}
	text = rundoc_to_string(m);
	*bytes = strlen(text);
	free(text);
	for (unsigned i = 0; i < count; i++)
		rundoc_free(docs[i]);
	free(docs);
	rundoc_free(m);
	return (double)(now_ns() - t0) / 1e9;
}

int main(int argc, char **argv)
{
	const char *dir = argc > 1 ? argv[1] : NULL;
	unsigned shards = argc > 2 && argv[2][0] != '-' ? (unsigned)strtoul(argv[2], NULL, 10) : 64;
	long seconds = argc > 3 && argv[3][0] != '-' ? strtol(argv[3], NULL, 10) : 600;
	long rate = argc > 4 && argv[4][0] != '-' ? strtol(argv[4], NULL, 10) : 200;
	bool write_only = argc > 1 && strcmp(argv[argc - 1], "--write-only") == 0;
	double best = INFINITY;
	size_t bytes = 0;

	if (!dir || shards < 1 || seconds < 1 || rate < 1) {
		fprintf(stderr, "usage: shard_merge_cost DIR [SHARDS [SECONDS [RATE]]] [--write-only]\n");
		return 2;
	}
	for (unsigned i = 0; i < shards; i++)
		if (write_shard(dir, i, shards, seconds, rate) != 0)
			return 1;
	if (write_only)
		return 0;
	for (int k = 0; k < 3; k++) {
		double t = merge_once(dir, shards, &bytes);

		if (t < best)
			best = t;
	}
	printf("%u shards x %ld s at %ld/s each: read and merged in %.3f s (best of 3), merged document %zu bytes\n",
	       shards, seconds, rate, best, bytes);
	return 0;
}
