/*
 * validity.c: the open-loop validity rule and the suite's "validity"
 * object (see validity.h).
 */
#include "validity.h"

#include <math.h>
#include <stdio.h>

#include "../hist.h"
#include "../json.h"
#include "../util.h"
#include "engine.h"

void http_validity_validate(const cJSON *v, const char *path, struct errlist *problems)
{
	static const char *const keys[] = { "late_after", "late_share", "late_min" };
	const cJSON *share;
	double d;
	long n;
	char at[512];

	if (!cJSON_IsObject(v)) {
		json_expected(problems, path, "an object such as {\"late_share\": \"1%\", \"late_min\": 10}", v);
		return;
	}
	json_check_keys(v, path, keys, ARRAY_SIZE(keys), problems);
	json_get_duration(v, "late_after", path, &d, NULL, problems);
	json_get_int(v, "late_min", path, 1, &n, NULL, problems);
	share = cJSON_GetObjectItemCaseSensitive(v, "late_share");
	if (share && (json_fraction_value(share, &d) != 0 || !(d >= 0 && d < 1))) {
		json_path_key(at, sizeof(at), path, "late_share");
		json_expected(problems, at, "a fraction in [0, 1) or a percentage such as \"1%\"", share);
	}
}

void http_validity_parse(const cJSON *v, struct http_validity *out)
{
	struct errlist ignored = ERRLIST_INIT; /* validated at suite load */
	const cJSON *share = cJSON_GetObjectItemCaseSensitive(v, "late_share");
	long n = 0;
	bool set = false;

	*out = (struct http_validity)HTTP_VALIDITY_INIT;
	if (!cJSON_IsObject(v))
		return;
	json_get_duration(v, "late_after", "validity", &out->late_after, NULL, &ignored);
	if (json_get_int(v, "late_min", "validity", 1, &n, &set, &ignored) && set)
		out->late_min = (uint64_t)n;
	if (share)
		json_fraction_value(share, &out->late_share);
	errlist_release(&ignored);
}

bool http_validity_behind(const struct http_validity *v, const struct http_engine_result *r, uint64_t *late,
			  uint64_t *sent)
{
	uint64_t after_ns = (uint64_t)llround(v->late_after * 1e9);

	/* Every measured open-loop send is in the lateness histogram. */
	*sent = r->lateness ? hist_count(r->lateness) : 0;
	*late = r->lateness ? hist_count_above(r->lateness, after_ns) : 0;
	return *late >= v->late_min && (double)*late > v->late_share * (double)*sent;
}
