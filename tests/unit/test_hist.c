/* Unit tests for core/hist.c: percentiles against exact sorted-array
 * nearest-rank percentiles, merging, JSON round trip, edges. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../../core/hist.h"
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

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

/* Nearest rank, computed independently from the sorted values. */
static uint64_t exact_percentile(const uint64_t *sorted, size_t n, double p)
{
	size_t rank;

	if (p <= 0)
		return sorted[0];
	rank = (size_t)ceil(p / 100.0 * (double)n - 1e-9);
	if (rank < 1)
		rank = 1;
	if (rank > n)
		rank = n;
	return sorted[rank - 1];
}

enum dist { UNIFORM_US, LOGNORMAL_MS, BIMODAL, TINY_NS, HUGE };

static uint64_t draw(enum dist d)
{
	switch (d) {
	case UNIFORM_US: return 1000 + rng() % 999000;                  /* 1 us .. 1 ms */
	case LOGNORMAL_MS: {
		double z = sqrt(-2 * log(unif())) * cos(2 * M_PI * unif());
		return (uint64_t)(2e6 * exp(0.8 * z));                    /* median 2 ms */
	}
	case BIMODAL: return (rng() % 100 < 95) ? 300000 + rng() % 50000 /* 0.3 ms */
						: 500000000 + rng() % 1000000; /* 500 ms stalls */
	case TINY_NS: return rng() % 3000;                              /* exact below 2048 ns */
	case HUGE: return 1000000000ULL * (1 + rng() % 3000);           /* 1 s .. 50 min */
	}
	return 0;
}

static void test_percentiles_vs_sorted(void **state)
{
	static const struct { enum dist d; size_t n; } cases[] = {
		{ UNIFORM_US, 1 }, { UNIFORM_US, 7 }, { UNIFORM_US, 10000 }, { LOGNORMAL_MS, 100000 },
		{ BIMODAL, 20000 }, { TINY_NS, 5000 }, { HUGE, 3000 },
	};
	static const double ps[] = { 0, 0.1, 1, 10, 25, 50, 75, 90, 95, 99, 99.9, 99.99, 100 };

	(void)state;
	for (size_t c = 0; c < ARRAY_SIZE(cases); c++) {
		size_t n = cases[c].n;
		uint64_t *v = xmalloc(n * sizeof(*v));
		struct hist *h = hist_new(3);
		long double sum = 0;

		for (size_t i = 0; i < n; i++) {
			v[i] = draw(cases[c].d);
			sum += v[i];
			hist_record(h, v[i]);
		}
		qsort(v, n, sizeof(*v), cmp_u64);
		assert_int_equal(hist_count(h), n);
		assert_int_equal(hist_min(h), v[0]);
		assert_int_equal(hist_max(h), v[n - 1]);
		assert_true(fabs(hist_mean(h) - (double)(sum / n)) <= 1e-9 * (double)(sum / n) + 1e-9);
		for (size_t k = 0; k < ARRAY_SIZE(ps); k++) {
			uint64_t want = exact_percentile(v, n, ps[k]);
			uint64_t got = hist_percentile(h, ps[k]);

			/* Same bucket as the exact value, hence within 1/1024 of it
			 * (exact below 2048 ns). */
			assert_true(got >= hist_lowest_equivalent(h, want));
			assert_true(got <= hist_highest_equivalent(h, want));
			if (want >= 1000)
				assert_true(fabs((double)got - (double)want) <= (double)want / 1000.0);
			if (want < 2048)
				assert_int_equal(got, want);
		}
		free(v);
		hist_free(h);
	}
}

static void test_bucket_precision(void **state)
{
	struct hist *h = hist_new(3);

	(void)state;
	/* Every value from 1 us to 1 h: its bucket is at most 0.1% of it wide. */
	for (uint64_t v = 1000; v <= HIST_HIGHEST_NS; v = v + v / 7 + 1) {
		uint64_t lo = hist_lowest_equivalent(h, v), hi = hist_highest_equivalent(h, v);

		assert_true(lo <= v && v <= hi);
		assert_true((double)(hi - lo + 1) <= (double)v / 1000.0);
	}
	hist_free(h);
}

static void test_merge_equals_whole(void **state)
{
	struct hist *a = hist_new(3), *b = hist_new(3), *all = hist_new(3), *two = hist_new(2);
	struct err err = ERR_INIT;

	(void)state;
	for (int i = 0; i < 50000; i++) {
		uint64_t x = draw(i % 2 ? LOGNORMAL_MS : BIMODAL);

		hist_record(i % 3 ? a : b, x);
		hist_record(all, x);
	}
	assert_int_equal(hist_merge(a, b, &err), 0);
	assert_int_equal(hist_count(a), hist_count(all));
	assert_int_equal(hist_min(a), hist_min(all));
	assert_int_equal(hist_max(a), hist_max(all));
	for (double p = 0; p <= 100; p += 0.5)
		assert_int_equal(hist_percentile(a, p), hist_percentile(all, p));
	assert_int_equal(hist_merge(a, two, &err), ERR_INPUT);
	hist_free(a);
	hist_free(b);
	hist_free(all);
	hist_free(two);
}

static void test_json_round_trip(void **state)
{
	struct hist *h = hist_new(3), *back = NULL;
	struct err err = ERR_INIT;
	cJSON *j;
	char *text;

	(void)state;
	for (int i = 0; i < 20000; i++)
		hist_record(h, draw(LOGNORMAL_MS));
	hist_record(h, HIST_HIGHEST_NS * 2); /* saturates */
	j = hist_to_json(h);
	text = cJSON_PrintUnformatted(j);
	cJSON_Delete(j);
	j = cJSON_Parse(text);
	assert_int_equal(hist_from_json(&back, j, &err), 0);
	assert_int_equal(hist_count(back), hist_count(h));
	assert_int_equal(hist_saturated(back), 1);
	assert_int_equal(hist_max(back), HIST_HIGHEST_NS);
	for (double p = 0; p <= 100; p += 0.25)
		assert_int_equal(hist_percentile(back, p), hist_percentile(h, p));
	assert_true(fabs(hist_mean(back) - hist_mean(h)) <= 1e-6 * hist_mean(h));
	/* Compact: far smaller than one number per recorded value. */
	assert_true(strlen(text) < 20000 * 3);
	cJSON_Delete(j);
	free(text);
	hist_free(back);

	/* Inconsistent documents are rejected with the member named. */
	j = cJSON_Parse("{\"unit\":\"ns\",\"sigfigs\":3,\"n\":5,\"min\":1,\"max\":2,\"sum\":3,"
			"\"saturated\":0,\"counts\":[1,2,1,2]}");
	assert_int_equal(hist_from_json(&back, j, &err), ERR_INPUT);
	assert_non_null(strstr(err.msg, "histogram.n"));
	cJSON_Delete(j);
	j = cJSON_Parse("{\"unit\":\"ns\",\"sigfigs\":3,\"n\":1,\"min\":1,\"max\":2,\"sum\":3,"
			"\"saturated\":0,\"counts\":[99999999,1]}");
	assert_int_equal(hist_from_json(&back, j, &err), ERR_INPUT);
	cJSON_Delete(j);
	hist_free(h);
}

static void test_empty_and_reset(void **state)
{
	struct hist *h = hist_new(3);

	(void)state;
	assert_int_equal(hist_count(h), 0);
	assert_int_equal(hist_percentile(h, 50), 0);
	assert_true(hist_mean(h) == 0);
	hist_record_n(h, 5000000, 10);
	hist_record(h, 1000);
	assert_int_equal(hist_percentile(h, 50), 5000000); /* clamped to the exact max */
	assert_int_equal(hist_count_above(h, 2000), 10);
	assert_int_equal(hist_count_above(h, 5000000), 0);
	hist_reset(h);
	assert_int_equal(hist_count(h), 0);
	assert_int_equal(hist_max(h), 0);
	hist_free(h);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_percentiles_vs_sorted),
		cmocka_unit_test(test_bucket_precision),
		cmocka_unit_test(test_merge_equals_whole),
		cmocka_unit_test(test_json_round_trip),
		cmocka_unit_test(test_empty_and_reset),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
