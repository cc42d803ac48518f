/* Unit tests for shards (core/shard.c, core/http/shard.c,
 * core/shard_merge.c, the engine's split): which shard from the command
 * line and the environment, the group's id, the split of rates,
 * concurrency and requests, the dataset partition (every row exactly
 * once), the --start-at clock, histograms merged from their JSON equal to
 * the histogram of all samples (property-based), and whole shard
 * documents merged: sums, percentiles of the union, series aligned on the
 * common clock with offsets, health (a shard behind, a shard late), and
 * the refusals (another configuration, a repeated shard, missing shards). */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../core/efficiency.h"
#include "../../core/hist.h"
#include "../../core/http/dataset.h"
#include "../../core/http/engine.h"
#include "../../core/http/load.h"
#include "../../core/http/plan.h"
#include "../../core/http/runner.h"
#include "../../core/http/shard.h"
#include "../../core/json.h"
#include "../../core/shard.h"
#include "../../core/shard_merge.h"
#include "../../core/util.h"

/* xorshift64*: deterministic data without libc's rand(). */
static uint64_t rng_state = 88172645463325252ULL;
static uint64_t rng(void)
{
	rng_state ^= rng_state >> 12;
	rng_state ^= rng_state << 25;
	rng_state ^= rng_state >> 27;
	return rng_state * 2685821657736338717ULL;
}
static double unif(void) { return ((double)(rng() >> 11) + 0.5) / 9007199254740992.0; }

static void clear_env(void)
{
	static const char *const vars[] = { "PERFGATE_SHARD", "CI_NODE_INDEX", "CI_NODE_TOTAL", "JOB_COMPLETION_INDEX",
					    "PERFGATE_SHARDS", "PERFGATE_SHARD_GROUP", "GITHUB_RUN_ID",
					    "GITHUB_RUN_ATTEMPT", "CI_PIPELINE_ID" };

	for (size_t i = 0; i < ARRAY_SIZE(vars); i++)
		unsetenv(vars[i]);
}

/* ---- who: I/N, the environment, the group ---- */

static void test_spec_parse(void **state)
{
	static const struct { const char *text; int rc; unsigned index, count; } cases[] = {
		{ "1/1", 0, 0, 1 }, { "2/4", 0, 1, 4 }, { "4/4", 0, 3, 4 }, { "1024/1024", 0, 1023, 1024 },
		{ "0/4", ERR_INPUT, 0, 0 }, { "5/4", ERR_INPUT, 0, 0 }, { "1/0", ERR_INPUT, 0, 0 },
		{ "1/1025", ERR_INPUT, 0, 0 }, { "2", ERR_INPUT, 0, 0 }, { "a/4", ERR_INPUT, 0, 0 },
		{ "2/4x", ERR_INPUT, 0, 0 }, { "-1/4", ERR_INPUT, 0, 0 }, { "/4", ERR_INPUT, 0, 0 }, { "", ERR_INPUT, 0, 0 },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct shard_spec s = { 99, 99, NULL };
		struct err err = ERR_INIT;
		int rc = shard_spec_parse(cases[i].text, &s, &err);

		if (rc != cases[i].rc)
			fail_msg("'%s': rc %d, want %d (%s)", cases[i].text, rc, cases[i].rc, err.msg);
		if (rc == 0 && (s.index != cases[i].index || s.count != cases[i].count))
			fail_msg("'%s': %u/%u", cases[i].text, s.index, s.count);
		if (rc != 0)
			assert_non_null(strstr(err.msg, cases[i].text));
	}
}

static void test_spec_env(void **state)
{
	struct shard_spec s;
	struct err err = ERR_INIT;
	bool found;

	(void)state;
	clear_env();
	assert_int_equal(shard_spec_from_env(&s, &found, &err), 0);
	assert_false(found);
	/* GitLab parallel: 1-based */
	setenv("CI_NODE_INDEX", "3", 1);
	setenv("CI_NODE_TOTAL", "5", 1);
	assert_int_equal(shard_spec_from_env(&s, &found, &err), 0);
	assert_true(found);
	assert_int_equal(s.index, 2);
	assert_int_equal(s.count, 5);
	/* a job that is not parallel */
	setenv("CI_NODE_TOTAL", "1", 1);
	setenv("CI_NODE_INDEX", "1", 1);
	assert_int_equal(shard_spec_from_env(&s, &found, &err), 0);
	assert_false(found);
	setenv("CI_NODE_TOTAL", "4", 1);
	setenv("CI_NODE_INDEX", "0", 1);
	assert_int_equal(shard_spec_from_env(&s, &found, &err), ERR_INPUT);
	assert_non_null(strstr(err.msg, "CI_NODE_INDEX"));
	clear_env();
	/* Kubernetes: 0-based, with the count perfgate is told */
	setenv("JOB_COMPLETION_INDEX", "0", 1);
	assert_int_equal(shard_spec_from_env(&s, &found, &err), 0);
	assert_false(found); /* no PERFGATE_SHARDS: not a sharded run */
	setenv("PERFGATE_SHARDS", "8", 1);
	assert_int_equal(shard_spec_from_env(&s, &found, &err), 0);
	assert_true(found);
	assert_int_equal(s.index, 0);
	assert_int_equal(s.count, 8);
	setenv("JOB_COMPLETION_INDEX", "8", 1);
	assert_int_equal(shard_spec_from_env(&s, &found, &err), ERR_INPUT);
	/* PERFGATE_SHARD wins over everything */
	setenv("PERFGATE_SHARD", "2/3", 1);
	assert_int_equal(shard_spec_from_env(&s, &found, &err), 0);
	assert_int_equal(s.index, 1);
	assert_int_equal(s.count, 3);
	setenv("PERFGATE_SHARD", "4/3", 1);
	assert_int_equal(shard_spec_from_env(&s, &found, &err), ERR_INPUT);
	assert_non_null(strstr(err.msg, "PERFGATE_SHARD"));
	clear_env();
}

static void test_group_id(void **state)
{
	struct err err = ERR_INIT;
	char *g = NULL;

	(void)state;
	clear_env();
	assert_int_equal(shard_group_id(NULL, "suite", &g, &err), ERR_INPUT);
	assert_non_null(strstr(err.msg, "--shard-group"));
	setenv("GITHUB_RUN_ID", "7100", 1);
	setenv("GITHUB_RUN_ATTEMPT", "2", 1);
	assert_int_equal(shard_group_id(NULL, "inference", &g, &err), 0);
	assert_string_equal(g, "github-7100-2/inference");
	free(g);
	clear_env();
	setenv("CI_PIPELINE_ID", "555", 1);
	assert_int_equal(shard_group_id(NULL, "inference", &g, &err), 0);
	assert_string_equal(g, "gitlab-555/inference");
	free(g);
	setenv("PERFGATE_SHARD_GROUP", "k8s-uid-1", 1);
	assert_int_equal(shard_group_id(NULL, "inference", &g, &err), 0);
	assert_string_equal(g, "k8s-uid-1");
	free(g);
	assert_int_equal(shard_group_id("mine", "inference", &g, &err), 0);
	assert_string_equal(g, "mine");
	free(g);
	assert_int_equal(shard_group_id("has space", "s", &g, &err), ERR_INPUT);
	assert_null(g);
	clear_env();
}

/* ---- the split ---- */

/* Every total split over parts x threads workers: the workers' shares add
 * up to the total, each part gets total / parts or one more, and one part
 * of one is the whole. */
static void test_share_split(void **state)
{
	(void)state;
	for (long total = 0; total <= 70; total++)
		for (unsigned parts = 1; parts <= 9; parts++)
			for (long threads = 1; threads <= 5; threads++) {
				long sum = 0;

				for (unsigned p = 0; p < parts; p++) {
					long part = 0;

					for (long i = 0; i < threads; i++) {
						long s = http_engine_share(total, threads, (size_t)i, p, parts);

						assert_true(s >= 0);
						part += s;
					}
					if (part != total / (long)parts + ((long)p < total % (long)parts))
						fail_msg("total %ld over %u parts x %ld threads: part %u got %ld", total, parts,
							 threads, p, part);
					sum += part;
				}
				assert_int_equal(sum, total);
			}
}

/* A clock for tests: every step starts at 1000 + 10 x step on a clock 0.5 s ahead. */
static int fake_step(void *arg, unsigned step, double span, double wait, struct shard_start *out, struct err *err)
{
	(void)arg;
	(void)span;
	(void)wait;
	(void)err;
	out->planned = shard_now() + 1000 + 10.0 * step;
	out->offset = 0.5;
	out->uncertainty = 0.001;
	out->source = "database";
	return 0;
}

/* `requests` divided between the shards; the options of a shard's step. */
static void test_requests_split(void **state)
{
	(void)state;
	for (uint64_t total = 1; total <= 40; total++)
		for (unsigned n = 1; n <= 7; n++) {
			uint64_t sum = 0;

			if (total < n)
				continue;
			for (unsigned i = 0; i < n; i++) {
				struct shard sh;
				struct shard_spec spec = { i, n, "--shard" };
				struct http_engine_options o;
				struct shard_start st;
				struct err err = ERR_INIT;
				uint64_t before = now_ns();

				memset(&o, 0, sizeof(o));
				o.requests = total;
				shard_init(&sh, &spec, "g", "h");
				sh.clock.step_start = fake_step;
				assert_int_equal(http_shard_step_begin(&sh, &o, &st, &err), 0);
				assert_int_equal(o.part_index, i);
				assert_int_equal(o.part_count, n);
				assert_true(o.keep_ts_hist);
				assert_int_equal(sh.steps, 1);
				assert_true(o.requests == total / n || o.requests == total / n + 1);
				/* 1000 s ahead on the common clock, whose zero is 0.5 s behind ours */
				assert_true(o.start_at > before + 1000400000000ULL && o.start_at < before + 1000600000000ULL);
				sum += o.requests;
				shard_release(&sh);
			}
			assert_int_equal(sum, total);
		}
}

/* --start-at: step 0 at the time given, each later one a second after the
 * previous step's span; a step of unknown length cannot be followed. */
static void test_start_at_clock(void **state)
{
	struct shard sh;
	struct shard_spec spec = { 0, 2, "--shard" };
	struct shard_start st;
	struct err err = ERR_INIT;

	(void)state;
	shard_init(&sh, &spec, "g", "h");
	shard_use_start_at(&sh, 1800000000.0);
	assert_int_equal(sh.clock.step_start(sh.clock.arg, 0, -1, 600, &st, &err), 0);
	assert_true(st.planned == 1800000000.0);
	assert_int_equal(sh.clock.step_start(sh.clock.arg, 1, 40, 600, &st, &err), 0);
	assert_true(st.planned == 1800000041.0);
	assert_int_equal(sh.clock.step_start(sh.clock.arg, 2, 12.5, 600, &st, &err), 0);
	assert_true(st.planned == 1800000054.5);
	assert_true(st.offset == 0);
	assert_int_equal(sh.clock.step_start(sh.clock.arg, 3, -1, 600, &st, &err), ERR_INPUT);
	assert_non_null(strstr(err.msg, "load.requests"));
	shard_release(&sh);
}

static void test_parse_time(void **state)
{
	double t;
	struct err err = ERR_INIT;

	(void)state;
	assert_int_equal(shard_parse_time("2026-11-28T18:00:00Z", &t, &err), 0);
	assert_true(t == 1795888800.0);
	assert_int_equal(shard_parse_time("2026-11-28T19:00:00.5+01:00", &t, &err), 0);
	assert_true(t == 1795888800.5);
	assert_int_equal(shard_parse_time("1795888800", &t, &err), 0);
	assert_true(t == 1795888800.0);
	assert_int_equal(shard_parse_time("tomorrow", &t, &err), ERR_INPUT);
	assert_int_equal(shard_parse_time("18:00", &t, &err), ERR_INPUT);
}

/* The common clock and this machine's, both ways. */
static void test_clock_conversion(void **state)
{
	struct shard_start st = { 0, 2.5, 0.001, "database" };
	uint64_t m = now_ns();
	double c = shard_from_mono(m, &st);

	(void)state;
	assert_true(fabs(c - (shard_now() - 2.5)) < 0.01);
	assert_true(llabs((long long)shard_to_mono(c, &st) - (long long)m) < 10000000LL);
}

/* ---- the dataset partition ---- */

static char *write_rows(size_t n)
{
	char *path = xstrdup("/tmp/perfgate-test-shard-XXXXXX");
	int fd = mkstemp(path);
	FILE *f = fdopen(fd, "w");

	assert_non_null(f);
	for (size_t i = 0; i < n; i++)
		fprintf(f, "{\"q\": \"row-%zu\"}\n", i);
	fclose(f);
	return path;
}

/* Every row exactly once over the shards, for plain and shuffled order. */
static void test_plan_partition(void **state)
{
	(void)state;
	for (size_t rows = 1; rows <= 23; rows += 2)
		for (int shuffle = 0; shuffle <= 1; shuffle++)
			for (unsigned n = 1; n <= 6; n++) {
				char *path = write_rows(rows), *text;
				unsigned *seen = xcalloc(rows, sizeof(*seen));
				struct errlist problems = ERRLIST_INIT;

				text = xasprintf("{\"name\": \"b\", \"http\": {\"url\": \"http://127.0.0.1:9/x\", \"body\": "
						 "{\"q\": \"{q}\"}, \"dataset\": {\"path\": \"%s\", \"order\": \"%s\", "
						 "\"seed\": 7}}}", path, shuffle ? "shuffle" : "sequential");
				for (unsigned i = 0; i < n; i++) {
					cJSON *b = cJSON_Parse(text);
					struct http_plan *p = NULL;
					struct err err = ERR_INIT;
					int rc;

					assert_int_equal(http_plan_parse(&p, b, "b", "/", &problems), 0);
					assert_int_equal(p->n_reqs, rows);
					rc = http_shard_plan_part(p, i, n, &err);
					if (rows < n) {
						assert_int_equal(rc, ERR_INPUT);
						assert_non_null(strstr(err.msg, "fewer than"));
					} else {
						assert_int_equal(rc, 0);
						for (size_t k = 0; k < p->n_reqs; k++) {
							const char *at = strstr(p->reqs[k].data, "row-");

							assert_non_null(at);
							seen[strtoul(at + 4, NULL, 10)]++;
						}
					}
					http_plan_free(p);
					cJSON_Delete(b);
				}
				for (size_t r = 0; rows >= n && r < rows; r++)
					if (seen[r] != 1)
						fail_msg("%zu rows over %u shards (shuffle %d): row %zu sent by %u shards",
							 rows, n, shuffle, r, seen[r]);
				errlist_release(&problems);
				unlink(path);
				free(path);
				free(text);
				free(seen);
			}
}

/* The conversation datasets (core/http/dataset.c) likewise, after the
 * sample and the shuffle every shard makes alike. */
static void test_dataset_partition(void **state)
{
	struct sb buf = SB_INIT;
	size_t rows = 37;

	(void)state;
	for (size_t i = 0; i < rows; i++)
		sb_printf(&buf, "{\"prompt\": \"p%zu\"}\n", i);
	for (unsigned n = 1; n <= 5; n++)
		for (int shuffle = 0; shuffle <= 1; shuffle++) {
			unsigned seen[37] = { 0 };
			size_t total = 0;

			for (unsigned i = 0; i < n; i++) {
				struct http_dataset_options o = HTTP_DATASET_OPTIONS_INIT;
				struct http_dataset *d = NULL;
				struct err err = ERR_INIT;

				o.shuffle = shuffle;
				o.sample = 30;
				o.seed = 3;
				o.part = i;
				o.parts = n;
				assert_int_equal(http_dataset_parse(&d, &o, buf.buf, buf.len, &err), 0);
				for (size_t k = 0; k < http_dataset_count(d); k++) {
					const struct http_dataset_conv *c = http_dataset_get(d, k);

					seen[strtoul(c->turns[0].text + 1, NULL, 10)]++;
				}
				total += http_dataset_count(d);
				http_dataset_free(d);
			}
			assert_int_equal(total, 30);
			for (size_t r = 0; r < rows; r++)
				assert_true(seen[r] <= 1);
		}
	sb_release(&buf);
}

/* ---- histograms: the merge of the parts is the histogram of the whole ---- */

static uint64_t draw_latency(int kind)
{
	switch (kind) {
	case 0:
		return (uint64_t)(exp(log(2e6) + 0.8 * sqrt(-2 * log(unif())) * cos(6.283185307 * unif())));
	case 1:
		return (uint64_t)(unif() * 5e9);
	case 2:
		return unif() < 0.01 ? HIST_HIGHEST_NS + (uint64_t)(unif() * 1e12) : (uint64_t)(unif() * 2000);
	default:
		return rng() % 100000000000ULL;
	}
}

/* A histogram's JSON form as one string (the caller frees it). */
static char *print_hist(const struct hist *h)
{
	cJSON *j = xcheck(hist_to_json(h));
	char *s = xcheck(cJSON_PrintUnformatted(j));

	cJSON_Delete(j);
	return s;
}

static void test_merge_property(void **state)
{
	(void)state;
	for (int trial = 0; trial < 60; trial++) {
		size_t n = 1 + rng() % 20000, parts = 1 + rng() % 16;
		int kind = trial % 4, sig = trial % 7 == 0 ? 2 : 3;
		struct hist *whole = hist_new(sig), *merged = hist_new(sig), *by_text = hist_new(sig);
		struct hist **part = xcalloc(parts, sizeof(*part));
		char *a, *b;

		for (size_t k = 0; k < parts; k++)
			part[k] = hist_new(sig);
		for (size_t i = 0; i < n; i++) {
			uint64_t v = draw_latency(kind);

			hist_record(whole, v);
			hist_record(part[rng() % parts], v);
		}
		for (size_t k = 0; k < parts; k++) {
			cJSON *j = hist_to_json(part[k]);
			struct err err = ERR_INIT;

			char *t = hist_to_text(part[k]);

			assert_int_equal(hist_merge_json(merged, j, &err), 0);
			assert_int_equal(hist_merge_text(by_text, t, &err), 0);
			free(t);
			cJSON_Delete(j);
			hist_free(part[k]);
		}
		/* bucket by bucket, and every summary */
		a = print_hist(whole);
		b = print_hist(merged);
		if (strcmp(a, b) != 0)
			fail_msg("trial %d: %zu values in %zu parts: the merge differs from the whole", trial, n, parts);
		free(b);
		b = print_hist(by_text);
		if (strcmp(a, b) != 0)
			fail_msg("trial %d: %zu values in %zu parts: the merge of the text forms differs", trial, n, parts);
		for (double p = 0; p <= 100; p += 0.7)
			assert_int_equal(hist_percentile(whole, p), hist_percentile(merged, p));
		assert_int_equal(hist_percentile(whole, 99.9), hist_percentile(merged, 99.9));
		assert_int_equal(hist_saturated(whole), hist_saturated(merged));
		free(a);
		free(b);
		free(part);
		hist_free(whole);
		hist_free(merged);
		hist_free(by_text);
	}
}

static void test_merge_json_errors(void **state)
{
	struct hist *h = hist_new(3);
	struct err err = ERR_INIT;
	cJSON *j = cJSON_Parse("{\"unit\":\"ns\",\"sigfigs\":2,\"n\":1,\"min\":5,\"max\":5,\"sum\":5,\"saturated\":0,"
			       "\"counts\":[5,1]}");

	(void)state;
	assert_int_equal(hist_merge_json(h, j, &err), ERR_INPUT);
	assert_non_null(strstr(err.msg, "significant digits"));
	cJSON_Delete(j);
	j = cJSON_Parse("{\"unit\":\"ns\",\"sigfigs\":3,\"n\":2,\"min\":5,\"max\":5,\"sum\":5,\"saturated\":0,"
			"\"counts\":[5,1,999999999,1]}");
	assert_int_equal(hist_merge_json(h, j, &err), ERR_INPUT);
	assert_int_equal(hist_count(h), 0); /* untouched */
	cJSON_Delete(j);
	/* the text form: a bad pair after good ones leaves dst as it was */
	hist_record(h, 7000);
	{
		struct hist *before = hist_clone(h);
		static const char *const bad[] = {
			"3 2 5 9 14 0 5 1 1 1 4000000000 1", "3 2 5 9 14 0 5 1 1 x", "3 3 5 9 14 0 5 1 1 1",
			"2 1 5 5 5 0 5 1", "3 1 5 5", "3 2 5 9 14 0 5 1 0 1",
		};

		for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
			cJSON *x, *y;
			char *a, *b;

			assert_int_equal(hist_merge_text(h, bad[i], &err), ERR_INPUT);
			x = hist_to_json(h);
			y = hist_to_json(before);
			a = cJSON_PrintUnformatted(x);
			b = cJSON_PrintUnformatted(y);
			if (strcmp(a, b) != 0)
				fail_msg("'%s' changed the histogram", bad[i]);
			free(a);
			free(b);
			cJSON_Delete(x);
			cJSON_Delete(y);
		}
		assert_int_equal(hist_merge_text(h, "3 2 5 9 14 0 5 1 1 1", &err), 0);
		assert_int_equal(hist_count(h), 3);
		assert_int_equal(hist_min(h), 5);
		hist_free(before);
	}
	hist_free(h);
}

/* ---- shard documents merged ---- */

#define PLANNED 1800000000.0
#define INTERVALS 10

/* One shard's document, as `perfgate run --shard` writes it: latencies
 * lat[0..n) (ns) of successes in ten 1 s intervals (value k in interval
 * k % 10), fails timeouts, begun `late` s after the agreed start. */
struct fake {
	unsigned index, count;
	const char *hash;
	const uint64_t *lat;
	size_t n;
	uint64_t fails;
	double late;
	bool invalid, monitor, command;
};

static struct rundoc *fake_doc(const struct fake *f)
{
	struct rundoc *rd = rundoc_new(), *back = NULL;
	struct shard_spec spec = { f->index, f->count, "--shard" };
	struct shard sh;
	struct http_engine_result r;
	struct http_engine_options o;
	struct http_load_spec ls;
	struct http_plan plan;
	struct shard_start st = { PLANNED, 0, 0.0005, "database" };
	struct rd_bench *b;
	struct err err = ERR_INIT;
	char id[37], *text;

	rundoc_uuid(id);
	rd->run_id = xstrdup(id);
	rd->suite = xstrdup("shards");
	rd->started_at = xstrdup(f->index == 1 ? "2026-11-28T10:00:00Z" : "2026-11-28T10:00:01Z");
	rd->finished_at = xstrdup(f->index == 0 ? "2026-11-28T10:00:30Z" : "2026-11-28T10:00:20Z");
	rd->fingerprint = xstrdup("fp");
	shard_init(&sh, &spec, "grp", f->hash ? f->hash : "hash-a");
	shard_stamp(rd, &sh);
	b = rundoc_add_bench(rd, "load", RUNDOC_KIND_HTTP);
	b->config_hash = xstrdup("bench-hash");
	http_engine_result_init(&r, false);
	r.engine = "native";
	r.sched_policy = "fifo";
	r.window = INTERVALS;
	r.ts_interval = 1000000000ULL;
	r.n_ts = INTERVALS;
	r.ts = xcalloc(INTERVALS, sizeof(*r.ts));
	r.ts_lat = xcalloc(INTERVALS, sizeof(*r.ts_lat));
	for (size_t i = 0; i < f->n; i++) {
		hist_record(r.latency, f->lat[i]);
		hist_record(r.service_time, f->lat[i] / 2);
		hist_record(r.ttfb, f->lat[i] / 3);
		hist_record(r.lateness, 1000);
		r.ts[i % INTERVALS].sent++;
		r.ts[i % INTERVALS].ok++;
		if (!r.ts_lat[i % INTERVALS])
			r.ts_lat[i % INTERVALS] = hist_new(2);
		hist_record(r.ts_lat[i % INTERVALS], f->lat[i]);
	}
	r.ok = r.ok_in_window = f->n;
	r.failed = r.errors[EE_TIMEOUT] = f->fails;
	r.scheduled = r.sent = r.sent_in_window = f->n + f->fails;
	r.bytes_in = 100 * f->n;
	r.bytes_out = 50 * (f->n + f->fails);
	r.cpu_util_max = 0.1 * (f->index + 1);
	if (f->fails)
		snprintf(r.first_error[EE_TIMEOUT], sizeof(r.first_error[EE_TIMEOUT]), "shard %u timed out", f->index + 1);
	r.t0 = shard_to_mono(PLANNED + f->late, &st);
	memset(&plan, 0, sizeof(plan));
	memset(&ls, 0, sizeof(ls));
	ls.mode = LOAD_RATE;
	ls.duration = INTERVALS;
	ls.rate = 100;
	memset(&o, 0, sizeof(o));
	o.open_loop = true;
	o.duration = INTERVALS * 1000000000ULL;
	o.timeout = 1000000000ULL;
	o.threads = 2;
	http_runner_metrics(b, NULL, &r, true, &plan, "inter_chunk");
	if (f->monitor) {
		/* the monitor: a server's CPU, the GPU at 100 W over the window;
		 * a price; the per-work figures from this shard's work alone */
		struct efficiency_price price = { 3.6, "USD", "suite" };

		rundoc_metric_add_sample(rundoc_bench_add_metric(b, "server.cpu.mean", "%", RD_LOWER), 42);
		rundoc_metric_add_sample(rundoc_bench_add_metric(b, "energy", "J", RD_LOWER), 100.0 * INTERVALS);
		if (!b->extra)
			b->extra = cJSON_CreateObject();
		cJSON_AddItemToObject(b->extra, "energy",
				      cJSON_Parse("{\"method\": \"counter\", \"windows\": [{\"window\": 10, \"joules\": 1000}]}"));
		efficiency_add_metrics(b, &price);
	}
	http_shard_step_note(&sh, b, &ls, &plan, NULL, &o, &r, &st, 0, 0);
	for (size_t i = 0; i < b->n_metrics; i++)
		rundoc_metric_summarise(&b->metrics[i]);
	if (f->invalid) {
		rundoc_bench_fail(b, "run invalid: the load generator fell behind: 5.0% of requests were sent over 1 ms late");
		rundoc_bench_set_invalid(b);
	}
	if (f->command) {
		struct rd_bench *c = rundoc_add_bench(rd, "gzip", RUNDOC_KIND_COMMAND);

		rundoc_metric_add_sample(rundoc_bench_add_metric(c, "wall", "s", RD_LOWER), 0.25);
		rundoc_metric_summarise(&c->metrics[0]);
	}
	http_engine_result_release(&r);
	shard_release(&sh);
	/* through JSON, as the merge reads documents */
	text = rundoc_to_string(rd);
	assert_int_equal(rundoc_parse(&back, text, &err), 0);
	free(text);
	rundoc_free(rd);
	return back;
}

static double sample(const struct rd_bench *b, const char *name)
{
	const struct rd_metric *m = rundoc_bench_find_metric(b, name);

	if (!m || m->n_samples != 1)
		fail_msg("no single sample of %s", name);
	return m->samples[0];
}

/* Does one of b's warnings hold text? */
static bool warned(const struct rd_bench *b, const char *text)
{
	const cJSON *it;

	cJSON_ArrayForEach(it, rundoc_bench_warnings(b))
		if (cJSON_IsString(it) && strstr(it->valuestring, text))
			return true;
	return false;
}

static uint64_t *latencies(size_t n, double scale)
{
	uint64_t *v = xcalloc(n, sizeof(*v));

	for (size_t i = 0; i < n; i++)
		v[i] = (uint64_t)(scale * exp(log(1e6) + 0.6 * sqrt(-2 * log(unif())) * cos(6.283185307 * unif())));
	return v;
}

static int do_merge(struct rundoc **docs, size_t n, const struct shard_merge_options *o, struct rundoc **out,
		    struct err *err)
{
	struct errlist notes = ERRLIST_INIT;
	int rc = shard_merge(docs, n, o, out, &notes, err);

	errlist_release(&notes);
	return rc;
}

/* Four shards of different latency: the merged percentiles are those of
 * all the requests together, counts and bytes summed, rates summed, the
 * series added interval by interval, each shard's facts kept. */
static void test_merge_docs(void **state)
{
	size_t n[4] = { 3000, 2500, 4000, 1000 };
	uint64_t *lat[4];
	struct rundoc *docs[4], *m = NULL;
	struct hist *all = hist_new(3);
	struct err err = ERR_INIT;
	const struct rd_bench *b;
	const cJSON *g, *ts;
	uint64_t total = 0;

	(void)state;
	for (int i = 0; i < 4; i++) {
		struct fake f = { (unsigned)i, 4, NULL, NULL, n[i], (uint64_t)i, 0.002 * i, false, i == 0, i == 0 };

		f.lat = lat[i] = latencies(n[i], 1.0 + i);
		for (size_t k = 0; k < n[i]; k++)
			hist_record(all, lat[i][k]);
		total += n[i];
		docs[3 - i] = fake_doc(&f); /* any order */
	}
	assert_int_equal(do_merge(docs, 4, NULL, &m, &err), 0);
	assert_null(cJSON_GetObjectItemCaseSensitive(m->extra, "shard"));
	b = rundoc_find_bench(m, "load");
	assert_non_null(b);
	assert_int_equal(b->status, RUNDOC_STATUS_OK);
	assert_string_equal(b->config_hash, "bench-hash");
	{
		static const double ps[] = { 50, 90, 95, 99, 99.9 };
		static const char *const names[] = { "latency.p50", "latency.p90", "latency.p95", "latency.p99",
						     "latency.p99.9" };

		for (size_t k = 0; k < ARRAY_SIZE(ps); k++)
			assert_true(sample(b, names[k]) == (double)hist_percentile(all, ps[k]) / 1e9);
	}
	assert_true(sample(b, "latency.max") == (double)hist_max(all) / 1e9);
	assert_int_equal((uint64_t)json_peek_num(rundoc_metric_histogram(rundoc_bench_find_metric(b, "latency.p50")),
						 "n", 0), total);
	assert_true(sample(b, "throughput") == (double)total / INTERVALS);
	assert_true(sample(b, "errors.timeout") == 0 + 1 + 2 + 3);
	assert_true(sample(b, "bytes_in") == 100.0 * (double)total);
	assert_true(fabs(sample(b, "error_rate") - 6.0 / (double)(total + 6)) < 1e-12);
	/* the series: interval k has every shard's interval k */
	ts = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(b->extra, "timeseries"), 0);
	for (int k = 0; k < INTERVALS; k++) {
		double want = 0;

		for (int i = 0; i < 4; i++)
			want += (double)(n[i] / INTERVALS + ((size_t)k < n[i] % INTERVALS));
		assert_true(cJSON_GetArrayItem(json_peek(ts, "sent"), k)->valuedouble == want);
	}
	/* generator health combined, each shard's facts kept */
	g = cJSON_GetArrayItem(cJSON_GetObjectItemCaseSensitive(b->extra, "generator"), 0);
	assert_true(json_peek_num(g, "threads", 0) == 8);
	assert_true(fabs(json_peek_num(g, "cpu_util_max", 0) - 0.4) < 1e-12);
	assert_int_equal(cJSON_GetArraySize(json_peek(g, "shards")), 4);
	assert_true(json_peek_num(cJSON_GetArrayItem(json_peek(g, "shards"), 2), "index", 0) == 3);
	/* the first error of each class: from the lowest shard that had one */
	assert_string_equal(json_peek_str(cJSON_GetArrayItem(json_peek(b->extra, "errors"), 0), "timeout"),
			    "shard 2 timed out");
	/* a monitor's metric comes from shard 1, and says so */
	assert_true(sample(b, "server.cpu.mean") == 42);
	assert_true(sample(b, "energy") == 100.0 * INTERVALS);
	assert_true(warned(b, "shard 1 alone"));
	/* per unit of work: shard 1's energy and price over all shards' work
	 * (100 W; $0.001 a second) */
	assert_true(fabs(sample(b, "energy_per_request") - 100.0 / ((double)total / INTERVALS)) < 1e-9);
	assert_true(fabs(sample(b, "cost_per_1k_requests") - 0.001 / ((double)total / INTERVALS) * 1000) < 1e-12);
	assert_string_equal(rundoc_bench_find_metric(b, "cost_per_1k_requests")->unit, "USD");
	/* the command benchmark shard 1 ran, as it was */
	assert_non_null(rundoc_find_bench(m, "gzip"));
	assert_true(sample(rundoc_find_bench(m, "gzip"), "wall") == 0.25);
	/* who took part, the run's times */
	assert_int_equal(cJSON_GetArraySize(json_peek(json_peek(m->extra, "shards"), "merged")), 4);
	assert_string_equal(m->started_at, "2026-11-28T10:00:00Z");
	assert_string_equal(m->finished_at, "2026-11-28T10:00:30Z");
	for (int i = 0; i < 4; i++) {
		rundoc_free(docs[i]);
		free(lat[i]);
	}
	rundoc_free(m);
	hist_free(all);
}

/* The same runs merged twice make the same run (one stored run). */
static void test_merge_id_stable(void **state)
{
	uint64_t *lat = latencies(100, 1);
	struct fake f0 = { 0, 2, NULL, NULL, 100, 0, 0, false, false, false };
	struct fake f1 = { 1, 2, NULL, NULL, 100, 0, 0, false, false, false };
	struct rundoc *docs[2], *a = NULL, *b = NULL;
	struct err err = ERR_INIT;

	(void)state;
	f0.lat = f1.lat = lat;
	docs[0] = fake_doc(&f0);
	docs[1] = fake_doc(&f1);
	assert_int_equal(do_merge(docs, 2, NULL, &a, &err), 0);
	assert_int_equal(do_merge(docs, 2, NULL, &b, &err), 0);
	assert_string_equal(a->run_id, b->run_id);
	rundoc_free(a);
	rundoc_free(b);
	rundoc_free(docs[0]);
	rundoc_free(docs[1]);
	free(lat);
}

/* A shard that began 2 s late: its series lands two intervals later on
 * the common clock, and the merged run is invalid, naming it; one that
 * began 1 s early lands one earlier (and is named too, after it). */
static void test_merge_alignment(void **state)
{
	uint64_t *lat = latencies(1000, 1);
	struct fake f0 = { 0, 3, NULL, NULL, 1000, 0, 0, false, false, false };
	struct fake f1 = { 1, 3, NULL, NULL, 1000, 0, 2.0, false, false, false };
	struct fake f2 = { 2, 3, NULL, NULL, 1000, 0, -1.0, false, false, false };
	struct rundoc *docs[3], *m = NULL;
	struct err err = ERR_INIT;
	const struct rd_bench *b;
	const cJSON *sent;

	(void)state;
	f0.lat = f1.lat = f2.lat = lat;
	docs[0] = fake_doc(&f0);
	docs[1] = fake_doc(&f1);
	docs[2] = fake_doc(&f2);
	assert_int_equal(do_merge(docs, 3, NULL, &m, &err), 0);
	b = rundoc_find_bench(m, "load");
	sent = json_peek(cJSON_GetArrayItem(json_peek(b->extra, "timeseries"), 0), "sent");
	/* each shard sent 100 a second for ten intervals */
	assert_int_equal(cJSON_GetArraySize(sent), INTERVALS + 2);
	assert_true(cJSON_GetArrayItem(sent, 0)->valuedouble == 100 + 200); /* shard 3's first two, folded into 0 */
	assert_true(cJSON_GetArrayItem(sent, 1)->valuedouble == 100 + 100);
	assert_true(cJSON_GetArrayItem(sent, 2)->valuedouble == 100 + 100 + 100);
	assert_true(cJSON_GetArrayItem(sent, 9)->valuedouble == 100 + 100);
	assert_true(cJSON_GetArrayItem(sent, 11)->valuedouble == 100);
	assert_int_equal(b->status, RUNDOC_STATUS_FAILED);
	assert_true(rundoc_bench_invalid(b));
	assert_non_null(strstr(b->error, "shard 2 of 3"));
	assert_non_null(strstr(b->error, "2.000 s after the agreed start"));
	rundoc_free(m);
	for (int i = 0; i < 3; i++)
		rundoc_free(docs[i]);
	free(lat);
}

/* A shard whose generator fell behind makes the merged run invalid, named. */
static void test_merge_health(void **state)
{
	uint64_t *lat = latencies(500, 1);
	struct fake f0 = { 0, 2, NULL, NULL, 500, 0, 0, false, false, false };
	struct fake f1 = { 1, 2, NULL, NULL, 500, 0, 0, true, false, false };
	struct rundoc *docs[2], *m = NULL;
	struct err err = ERR_INIT;
	const struct rd_bench *b;

	(void)state;
	f0.lat = f1.lat = lat;
	docs[0] = fake_doc(&f0);
	docs[1] = fake_doc(&f1);
	assert_int_equal(do_merge(docs, 2, NULL, &m, &err), 0);
	b = rundoc_find_bench(m, "load");
	assert_true(rundoc_bench_invalid(b));
	assert_non_null(strstr(b->error, "run invalid: shard 2 of 2"));
	assert_non_null(strstr(b->error, "fell behind"));
	/* still the sums of both */
	assert_true(sample(b, "throughput") == 100);
	rundoc_free(m);
	rundoc_free(docs[0]);
	rundoc_free(docs[1]);
	free(lat);
}

/* Refused: another configuration, a shard twice, a document that is not
 * a shard's; missing shards fail (exit 4's code) unless partial, which
 * merges and says so under a configuration hash of its own. */
static void test_merge_refusals(void **state)
{
	uint64_t *lat = latencies(200, 1);
	struct fake f0 = { 0, 3, NULL, NULL, 200, 0, 0, false, false, false };
	struct fake f1 = { 1, 3, NULL, NULL, 200, 0, 0, false, false, false };
	struct fake fx = { 2, 3, "hash-b", NULL, 200, 0, 0, false, false, false };
	struct shard_merge_options po = SHARD_MERGE_OPTIONS_INIT;
	struct rundoc *docs[3], *m = NULL, *plain = rundoc_new();
	struct err err = ERR_INIT;
	const struct rd_bench *b;

	(void)state;
	f0.lat = f1.lat = fx.lat = lat;
	docs[0] = fake_doc(&f0);
	docs[1] = fake_doc(&f1);
	docs[2] = fake_doc(&fx);
	assert_int_equal(do_merge(docs, 3, NULL, &m, &err), ERR_INPUT);
	assert_non_null(strstr(err.msg, "shard 3 of group 'grp'"));
	assert_non_null(strstr(err.msg, "different suite configuration"));
	assert_null(m);
	rundoc_free(docs[2]);
	docs[2] = fake_doc(&f1);
	assert_int_equal(do_merge(docs, 3, NULL, &m, &err), ERR_INPUT);
	assert_non_null(strstr(err.msg, "shard 2 of group 'grp' came twice"));
	assert_int_equal(do_merge(docs, 2, NULL, &m, &err), ERR_INFRA);
	assert_non_null(strstr(err.msg, "shard 3 of 3 of group 'grp' missing"));
	po.partial = true;
	assert_int_equal(do_merge(docs, 2, &po, &m, &err), 0);
	b = rundoc_find_bench(m, "load");
	assert_int_equal(b->status, RUNDOC_STATUS_OK);
	assert_string_not_equal(b->config_hash, "bench-hash");
	assert_true(warned(b, "merged from 2 of 3 shards"));
	assert_int_equal(cJSON_GetArraySize(json_peek(json_peek(m->extra, "shards"), "missing")), 1);
	rundoc_free(m);
	plain->run_id = xstrdup("0f8e2c1a-5b3d-4e6f-9a7b-1c2d3e4f5a6b");
	plain->suite = xstrdup("s");
	plain->started_at = xstrdup("2026-11-28T10:00:00Z");
	assert_int_equal(do_merge(&plain, 1, NULL, &m, &err), ERR_INPUT);
	assert_non_null(strstr(err.msg, "not a shard's run document"));
	rundoc_free(plain);
	for (int i = 0; i < 3; i++)
		rundoc_free(docs[i]);
	free(lat);
}

static void test_missing_list(void **state)
{
	unsigned have[] = { 0, 2, 5 };
	char buf[64];

	(void)state;
	assert_int_equal(shard_merge_missing(have, 3, 6, buf, sizeof(buf)), 3);
	assert_string_equal(buf, "2, 4, 5"); /* 1-based: 1, 3 and 6 are there */
	assert_int_equal(shard_merge_missing(have, 3, 3, buf, sizeof(buf)), 1);
	assert_string_equal(buf, "2");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_spec_parse),
		cmocka_unit_test(test_spec_env),
		cmocka_unit_test(test_group_id),
		cmocka_unit_test(test_share_split),
		cmocka_unit_test(test_requests_split),
		cmocka_unit_test(test_start_at_clock),
		cmocka_unit_test(test_parse_time),
		cmocka_unit_test(test_clock_conversion),
		cmocka_unit_test(test_plan_partition),
		cmocka_unit_test(test_dataset_partition),
		cmocka_unit_test(test_merge_property),
		cmocka_unit_test(test_merge_json_errors),
		cmocka_unit_test(test_merge_docs),
		cmocka_unit_test(test_merge_id_stable),
		cmocka_unit_test(test_merge_alignment),
		cmocka_unit_test(test_merge_health),
		cmocka_unit_test(test_merge_refusals),
		cmocka_unit_test(test_missing_list),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
