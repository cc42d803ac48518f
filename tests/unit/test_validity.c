/* Unit tests for core/http/validity.c: the open-loop validity rule (a share
 * and a count of late sends, issue 19 item 19), the suite's "validity"
 * object parsed, and every problem in it reported at its JSON path. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "../../core/hist.h"
#include "../../core/http/engine.h"
#include "../../core/http/validity.h"
#include "../../core/util.h"

#define MS UINT64_C(1000000)

/* A step of `sent` measured sends, `late` of them `late_ms` late, the rest
 * 100 us late; judged by v. */
static bool judge(const struct http_validity *v, uint64_t sent, uint64_t late, uint64_t late_ms, uint64_t *n_late)
{
	struct http_engine_result r;
	uint64_t n_sent = 0;
	bool behind;

	memset(&r, 0, sizeof(r));
	r.lateness = hist_new(3);
	assert_non_null(r.lateness);
	hist_record_n(r.lateness, 100000, sent - late);
	if (late)
		hist_record_n(r.lateness, late_ms * MS, late);
	behind = http_validity_behind(v, &r, n_late, &n_sent);
	assert_int_equal(n_sent, sent);
	hist_free(r.lateness);
	return behind;
}

static void test_defaults(void **state)
{
	struct http_validity v;
	uint64_t late = 0;

	(void)state;
	http_validity_parse(NULL, &v);
	assert_true(v.late_after == 0.001 && v.late_share == 0.01 && v.late_min == 10);
	/* One late send of twenty (10/s for 2 s): 5%, but one: valid. */
	assert_false(judge(&v, 20, 1, 50, &late));
	assert_int_equal(late, 1);
	/* Nine of twenty: valid; ten: invalid. */
	assert_false(judge(&v, 20, 9, 50, &late));
	assert_true(judge(&v, 20, 10, 50, &late));
	/* Ten of a million is under 1%: valid; 1% exactly is not "more than". */
	assert_false(judge(&v, 1000000, 10, 50, &late));
	assert_false(judge(&v, 10000, 100, 50, &late));
	assert_true(judge(&v, 10000, 101, 50, &late));
	/* Nothing sent: valid. */
	assert_false(judge(&v, 0, 0, 0, &late));
}

static void parse_text(const char *text, struct http_validity *v)
{
	cJSON *j = cJSON_Parse(text);
	struct errlist p = ERRLIST_INIT;

	assert_non_null(j);
	http_validity_validate(j, "validity", &p);
	assert_int_equal(p.n, 0);
	http_validity_parse(j, v);
	errlist_release(&p);
	cJSON_Delete(j);
}

static void test_configured(void **state)
{
	struct http_validity v;
	uint64_t late = 0;

	(void)state;
	parse_text("{\"late_after\": \"500ms\", \"late_share\": \"2%\", \"late_min\": 1}", &v);
	assert_true(v.late_after == 0.5 && v.late_share == 0.02 && v.late_min == 1);
	/* Sends 200 ms late are not late after 500 ms. */
	assert_false(judge(&v, 20, 5, 200, &late));
	assert_int_equal(late, 0);
	/* One send of twenty 600 ms late: 5% > 2% and >= 1. */
	assert_true(judge(&v, 20, 1, 600, &late));
	assert_int_equal(late, 1);
	/* Only some keys: the others keep their defaults. */
	parse_text("{\"late_share\": 0.5}", &v);
	assert_true(v.late_after == 0.001 && v.late_share == 0.5 && v.late_min == 10);
}

static void test_problems(void **state)
{
	static const char *const want[] = {
		"validity.late_min: expected an integer >= 1",
		"validity.late_share: expected a fraction in [0, 1)",
		"validity.late_after: expected a duration",
		"validity.late: unknown key",
	};
	cJSON *j = cJSON_Parse("{\"late_min\": 0, \"late_share\": 1, \"late_after\": \"soon\", \"late\": 1}");
	struct errlist p = ERRLIST_INIT;

	(void)state;
	assert_non_null(j);
	http_validity_validate(j, "validity", &p);
	assert_int_equal(p.n, ARRAY_SIZE(want));
	for (size_t w = 0; w < ARRAY_SIZE(want); w++) {
		bool found = false;

		for (size_t i = 0; i < p.n; i++)
			found = found || strstr(p.msgs[i], want[w]) != NULL;
		if (!found)
			fail_msg("missing problem: %s", want[w]);
	}
	errlist_release(&p);
	cJSON_Delete(j);

	j = cJSON_Parse("[1]");
	http_validity_validate(j, "validity", &p);
	assert_int_equal(p.n, 1);
	assert_non_null(strstr(p.msgs[0], "validity: expected an object"));
	errlist_release(&p);
	cJSON_Delete(j);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_defaults),
		cmocka_unit_test(test_configured),
		cmocka_unit_test(test_problems),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
