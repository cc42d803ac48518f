/*
 * Unit tests for core/rundoc.c: every document in tests/fixtures/rundoc/valid
 * parses (and survives a JSON round trip); every one in .../invalid is
 * rejected with the exact message naming the JSON path of its one mistake
 * (tests/fixtures/rundoc/make.py says how each was made); the example in
 * docs/run-document.md parses.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <dirent.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../core/rundoc.h"
#include "../../core/util.h"

#define FIX "tests/fixtures/rundoc/"

static const struct {
	const char *file;
	const char *msg;
} invalid[] = {
	{ "missing-run-id", "run_id: required member is missing" },
	{ "bad-run-id", "run_id: expected a UUID, got \"not a uuid!\"" },
	{ "null-run-id", "run_id: required member is missing" },
	{ "missing-suite", "suite: required member is missing" },
	{ "suite-number", "suite: expected a string, got a number" },
	{ "missing-started-at", "started_at: required member is missing" },
	{ "bad-started-at", "started_at: expected an RFC 3339 date-time, got \"yesterday\"" },
	{ "bad-month", "started_at: expected an RFC 3339 date-time, got \"2026-13-01T00:00:00Z\"" },
	{ "bad-finished-at", "finished_at: expected an RFC 3339 date-time, got \"2026-11-27 16:06\"" },
	{ "no-benchmarks", "benchmarks: expected an array, got nothing" },
	{ "benchmarks-object", "benchmarks: expected an array, got an object" },
	{ "bench-missing-kind", "benchmarks[0].kind: required member is missing" },
	{ "bench-empty-name", "benchmarks[0].name: must not be empty" },
	{ "bench-empty-kind", "benchmarks[1].kind: must not be empty" },
	{ "bench-no-metrics", "benchmarks[1].metrics: expected an array, got nothing" },
	{ "bench-params-array", "benchmarks[0].params: expected an object, got an array" },
	{ "bad-status",
	  "benchmarks[0].status: expected \"ok\", \"failed\", \"partial\" or \"skipped\", got \"done\"" },
	{ "metric-missing-unit", "benchmarks[0].metrics[1].unit: required member is missing" },
	{ "metric-empty-name", "benchmarks[1].metrics[0].name: must not be empty" },
	{ "bad-direction", "benchmarks[0].metrics[1].direction: expected \"lower\" or \"higher\", got \"down\"" },
	{ "samples-missing", "benchmarks[1].metrics[1].samples: expected an array of numbers, got nothing" },
	{ "sample-string", "benchmarks[1].metrics[0].samples[3]: expected a finite number, got a string" },
	{ "sample-null", "benchmarks[0].metrics[0].samples[0]: expected a finite number, got null" },
	{ "summary-string",
	  "benchmarks[0].metrics[0].summary.median: expected a finite number or null, got a string" },
	{ "summary-n-fraction", "benchmarks[0].metrics[0].summary.n: expected a whole number >= 0, got 2.5" },
	{ "summary-array", "benchmarks[0].metrics[0].summary: expected an object, got an array" },
	{ "git-string", "git: expected an object, got a string" },
	{ "bad-commit", "git.commit: expected a hex commit id, got \"HEAD\"" },
	{ "upper-commit",
	  "git.commit: expected a hex commit id, got \"9F1C0E2B7D3A4C5E6F708192A3B4C5D6E7F80912\"" },
	{ "bad-parent", "git.parents[0]: expected a hex commit id, got \"main\"" },
	{ "bad-commit-time",
	  "git.commit_time: expected an RFC 3339 date-time, got \"Fri Nov 27 16:02:11 2026\"" },
	{ "dirty-string", "git.dirty: expected true or false, got a string" },
	{ "bad-pr", "ci.pr: expected a whole number >= 0, got -1" },
	{ "pr-string", "ci.pr: expected a whole number >= 0, got a string" },
	{ "fork-number", "ci.fork: expected true or false, got a number" },
	{ "fingerprint-number", "machine.fingerprint: expected a string, got a number" },
	{ "machine-array", "machine: expected an object, got an array" },
	{ "tags-number", "tags.owner: expected a string, got a number" },
	{ "partial-string", "partial: expected true or false, got a string" },
	{ "schema-version-2", "schema_version: this perfgate reads version 1, got 2 (written by a newer perfgate)" },
	{ "schema-version-0", "schema_version: expected a whole number >= 1, got 0" },
	{ "schema-version-string", "schema_version: expected a whole number >= 1, got a string" },
	{ "top-level-array", "(top level): expected an object, got an array" },
	{ "syntax-error", "invalid JSON at line 3, column 17" },
	{ "dup-benchmark", "benchmarks[1].name: benchmark \"gzip-6\" appears twice" },
	{ "dup-metric", "benchmarks[0].metrics[1].name: metric \"wall\" appears twice" },
};

/*
 * What the database would refuse is refused by the validator (issue 19
 * item 7), and what would be cut short or printed raw is too (item 6):
 * each document is the minimal one with one thing changed.
 */
#define DOC(run_id, started, suite, bench, metric, summary, ci)                                          \
	"{\"run_id\": \"" run_id "\", \"suite\": \"" suite "\", \"started_at\": \"" started "\", "           \
	"\"ci\": {" ci "}, \"benchmarks\": [{\"name\": \"" bench "\", \"kind\": \"command\", \"metrics\": "   \
	"[{\"name\": \"" metric "\", \"unit\": \"s\", \"direction\": \"lower\", \"samples\": []" summary "}]}]}"
#define ID "5d1c9a34-0b1e-4c8e-8a6f-2f4e6a8b0c1d"
#define T0 "2026-01-01T00:00:00Z"
static const struct {
	const char *doc;
	const char *msg;
} refused[] = {
	{ DOC(ID, T0, "s", "b", "m", "", ""), NULL },
	{ DOC(ID, "2024-02-29T00:00:00+15:59", "s", "b", "m", "", ""), NULL },
	{ DOC("5D1C9A34-0B1E-4C8E-8A6F-2F4E6A8B0C1D", T0, "s", "b", "m", "", ""), NULL },
	{ DOC("0f8e2c1a-5b3d", T0, "s", "b", "m", "", ""), "run_id: expected a UUID, got \"0f8e2c1a-5b3d\"" },
	{ DOC("5d1c9a34-0b1e-4c8e-8a6f-2f4e6a8b0c1d-0000", T0, "s", "b", "m", "", ""),
	  "run_id: expected a UUID, got \"5d1c9a34-0b1e-4c8e-8a6f-2f4e6a8b0c1d-0000\"" },
	{ DOC("5d1c9a340b1e4c8e8a6f2f4e6a8b0c1d----", T0, "s", "b", "m", "", ""),
	  "run_id: expected a UUID, got \"5d1c9a340b1e4c8e8a6f2f4e6a8b0c1d----\"" },
	{ DOC(ID, "2026-02-31T00:00:00Z", "s", "b", "m", "", ""),
	  "started_at: expected an RFC 3339 date-time, got \"2026-02-31T00:00:00Z\"" },
	{ DOC(ID, "2026-02-29T00:00:00Z", "s", "b", "m", "", ""),
	  "started_at: expected an RFC 3339 date-time, got \"2026-02-29T00:00:00Z\"" },
	{ DOC(ID, "0000-01-01T00:00:00Z", "s", "b", "m", "", ""),
	  "started_at: expected an RFC 3339 date-time, got \"0000-01-01T00:00:00Z\"" },
	{ DOC(ID, "2026-04-31T00:00:00Z", "s", "b", "m", "", ""),
	  "started_at: expected an RFC 3339 date-time, got \"2026-04-31T00:00:00Z\"" },
	{ DOC(ID, "2026-01-01T00:00:00+23:00", "s", "b", "m", "", ""),
	  "started_at: expected an RFC 3339 date-time, got \"2026-01-01T00:00:00+23:00\"" },
	{ DOC(ID, T0, "s", "b", "m", ", \"summary\": {\"n\": 3000000000, \"median\": 1}", ""),
	  "benchmarks[0].metrics[0].summary.n: expected at most 2147483647, got 3e+09" },
	{ DOC(ID, T0, "s", "b", "m", ", \"summary\": {\"n\": 1e300, \"median\": 1}", ""),
	  "benchmarks[0].metrics[0].summary.n: expected at most 2147483647, got 1e+300" },
	{ DOC(ID, T0, "s", "b", "m", "", "\"pr\": 99999999999"), "ci.pr: expected at most 2147483647, got 1e+11" },
	{ DOC(ID, T0, "s", "b\\n::error::x", "m", "", ""),
	  "benchmarks[0].name: contains a control character (U+000A)" },
	{ DOC(ID, T0, "s", "b", "m\\u001b[2J", "", ""),
	  "benchmarks[0].metrics[0].name: contains a control character (U+001B)" },
	{ DOC(ID, T0, "s\\u0085", "b", "m", "", ""), "suite: contains a control character (U+0085)" },
	{ DOC(ID, T0, "s", "a\\u0000b", "m", "", ""), "a NUL character (\\u0000) at line 1, column 140" },
	{ DOC(ID, T0, "s", "a\\\\u0000b", "m", "", ""), NULL }, /* an escaped backslash, then "u0000" */
	{ DOC(ID, T0, "s", "caf\xc3\xa9", "m", "", ""), NULL },
	{ DOC(ID, T0, "s", "caf\xe9", "m", "", ""), "invalid UTF-8 at line 1, column 142" },
	{ DOC(ID, T0, "s", "b", "m", "", "\"base_branch\": \"x\\ty\""), "ci.base_branch: contains a control character (U+0009)" },
	{ DOC(ID, T0, "s", "b", "m", "", "") " x", "text after the JSON document at line 1, column 242" },
	{ DOC(ID, T0, "s", "b", "m", "", "") " \n\t", NULL },
};

static void test_refused_like_the_database(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(refused); i++) {
		struct rundoc *rd = NULL;
		struct err err = ERR_INIT;
		int rc = rundoc_parse(&rd, refused[i].doc, &err);

		if ((rc == 0) != (refused[i].msg == NULL) || (refused[i].msg && strcmp(err.msg, refused[i].msg) != 0))
			print_error("case %zu: rc %d, message '%s'\n", i, rc, err.msg);
		if (!refused[i].msg) {
			assert_int_equal(rc, 0);
		} else {
			assert_int_equal(rc, ERR_INPUT);
			assert_string_equal(err.msg, refused[i].msg);
		}
		rundoc_free(rd);
	}
}

/* Names up to 256 bytes; past that PostgreSQL's index rows (about 2.7 KB
 * for several names) would refuse the run after the run. */
static void test_name_lengths(void **state)
{
	char name[400];
	char *doc;
	struct rundoc *rd = NULL;
	struct err err = ERR_INIT;

	(void)state;
	memset(name, 'x', 256);
	name[256] = '\0';
	doc = xasprintf("{\"run_id\": \"" ID "\", \"suite\": \"s\", \"started_at\": \"" T0 "\", "
			"\"benchmarks\": [{\"name\": \"%s\", \"kind\": \"command\", \"metrics\": []}]}", name);
	assert_int_equal(rundoc_parse(&rd, doc, &err), 0);
	rundoc_free(rd);
	free(doc);
	name[256] = 'x';
	name[257] = '\0';
	doc = xasprintf("{\"run_id\": \"" ID "\", \"suite\": \"s\", \"started_at\": \"" T0 "\", "
			"\"git\": {\"branch\": \"%s\"}, \"benchmarks\": []}", name);
	assert_int_equal(rundoc_parse(&rd, doc, &err), ERR_INPUT);
	assert_string_equal(err.msg, "git.branch: is longer than 256 bytes (257)");
	free(doc);
}

/* A NUL byte in the text (not an escape) stops the parse, not the string. */
static void test_nul_byte(void **state)
{
	static const char doc[] = "{\"run_id\": \"" ID "\", \"suite\": \"s\0x\", \"started_at\": \"" T0
				  "\", \"benchmarks\": []}";
	struct rundoc *rd = NULL;
	struct err err = ERR_INIT;

	(void)state;
	assert_int_equal(rundoc_parse_text(&rd, doc, sizeof(doc) - 1, &err), ERR_INPUT);
	assert_string_equal(err.msg, "a NUL character at line 1, column 63");
}

/* rundoc_check: a run perfgate made itself, with a name from outside. */
static void test_check_own_run(void **state)
{
	struct rundoc *rd = rundoc_new();
	struct rd_bench *b;
	struct err err = ERR_INIT;

	(void)state;
	rd->run_id = xstrdup(ID);
	rd->suite = xstrdup("s");
	rd->started_at = xstrdup(T0);
	b = rundoc_add_bench(rd, "b", RUNDOC_KIND_COMMAND);
	rundoc_bench_add_metric(b, "ok", "1", RD_LOWER);
	assert_int_equal(rundoc_check(rd, &err), 0);
	rundoc_bench_add_metric(b, "bad\n::error::x", "1", RD_LOWER);
	assert_int_equal(rundoc_check(rd, &err), ERR_INPUT);
	assert_string_equal(err.msg, "benchmarks[0].metrics[1].name: contains a control character (U+000A)");
	/* A failure's text from a command's stderr is made UTF-8, not refused. */
	b->n_metrics = 1;
	rundoc_bench_fail(b, "bad byte \xff here");
	assert_string_equal(b->error, "bad byte ? here");
	b->n_metrics = 2;
	rundoc_free(rd);
}

static const char *const valid[] = { "full", "minimal", "no-git", "pull-request", "summary-only",
				     "extra-members" };

static char *slurp(const char *path)
{
	struct err err = ERR_INIT;
	char *text = NULL;

	if (file_read(path, &text, NULL, &err) != 0) {
		print_error("%s\n", err.msg);
		fail();
	}
	return text;
}

static void test_invalid_fixtures(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(invalid); i++) {
		char *path = xasprintf(FIX "invalid/%s.json", invalid[i].file);
		char *text = slurp(path);
		struct rundoc *rd = (struct rundoc *)1;
		struct err err = ERR_INIT;
		int rc = rundoc_parse(&rd, text, &err);

		if (rc != ERR_INPUT || strcmp(err.msg, invalid[i].msg) != 0)
			print_error("%s: rc %d, message '%s'\n", invalid[i].file, rc, err.msg);
		assert_int_equal(rc, ERR_INPUT);
		assert_null(rd);
		assert_string_equal(err.msg, invalid[i].msg);
		free(text);
		free(path);
	}
}

/* Every file in invalid/ has a row in the table above (no fixture goes untested). */
static void test_every_invalid_fixture_listed(void **state)
{
	DIR *d = opendir(FIX "invalid");
	struct dirent *e;
	size_t files = 0;

	(void)state;
	assert_non_null(d);
	while ((e = readdir(d))) {
		size_t len = strlen(e->d_name);
		bool listed = false;

		if (len < 6 || strcmp(e->d_name + len - 5, ".json") != 0)
			continue;
		files++;
		for (size_t i = 0; i < ARRAY_SIZE(invalid) && !listed; i++)
			listed = strncmp(e->d_name, invalid[i].file, len - 5) == 0 &&
				 strlen(invalid[i].file) == len - 5;
		if (!listed)
			print_error("fixture %s has no expected message\n", e->d_name);
		assert_true(listed);
	}
	closedir(d);
	assert_int_equal(files, ARRAY_SIZE(invalid));
}

static void test_load_names_the_file(void **state)
{
	struct rundoc *rd = NULL;
	struct err err = ERR_INIT;

	(void)state;
	assert_int_equal(rundoc_load(&rd, FIX "invalid/bad-direction.json", &err), ERR_INPUT);
	assert_string_equal(err.msg, FIX "invalid/bad-direction.json: benchmarks[0].metrics[1].direction: "
					 "expected \"lower\" or \"higher\", got \"down\"");
	assert_int_equal(rundoc_load(&rd, FIX "invalid/nope.json", &err), ERR_INPUT);
	assert_string_equal(err.msg, "cannot open '" FIX "invalid/nope.json': No such file or directory");
}

static void test_valid_fixtures_round_trip(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(valid); i++) {
		char *path = xasprintf(FIX "valid/%s.json", valid[i]);
		struct rundoc *rd = NULL, *back = NULL;
		struct err err = ERR_INIT;
		cJSON *a, *b;
		char *text;

		if (rundoc_load(&rd, path, &err) != 0)
			print_error("%s\n", err.msg);
		assert_non_null(rd);
		/* What perfgate writes, it reads back unchanged. */
		text = rundoc_to_string(rd);
		assert_int_equal(rundoc_parse(&back, text, &err), 0);
		a = rundoc_to_json(rd);
		b = rundoc_to_json(back);
		assert_true(cJSON_Compare(a, b, true));
		cJSON_Delete(a);
		cJSON_Delete(b);
		free(text);
		rundoc_free(back);
		rundoc_free(rd);
		free(path);
	}
}

static void test_full_fields(void **state)
{
	struct rundoc *rd = NULL;
	struct err err = ERR_INIT;
	const struct rd_metric *m;

	(void)state;
	assert_int_equal(rundoc_load(&rd, FIX "valid/full.json", &err), 0);
	assert_string_equal(rd->run_id, "0f8e2c1a-5b3d-4e6f-9a7b-1c2d3e4f5a6b");
	assert_string_equal(rd->project, "inference");
	assert_string_equal(rd->git.commit, "9f1c0e2b7d3a4c5e6f708192a3b4c5d6e7f80912");
	assert_int_equal(rd->git.n_parents, 1);
	assert_string_equal(rd->git.commit_time, "2026-11-27T16:02:11Z");
	assert_string_equal(rd->ci.provider, "github");
	assert_int_equal(rd->ci.pr, 0);
	assert_string_equal(rd->fingerprint,
			    "5b0e3f9d7f1f8a0c2e4d6b8a9c1e3f5a7b9d1c3e5f7a9b1d3c5e7f9a1b3d5c7e");
	assert_int_equal(rd->n_benches, 2);
	m = rundoc_bench_find_metric(&rd->benches[0], "wall");
	assert_non_null(m);
	assert_int_equal(m->n_samples, 5);
	/* Recomputed from the samples: the median of the five is 0.1812. */
	assert_int_equal(m->summary.n, 5);
	assert_true(m->summary.median == 0.1812);
	assert_true(m->summary.min == 0.1797 && m->summary.max == 0.1830);
	m = rundoc_bench_find_metric(&rd->benches[1], "throughput");
	assert_int_equal(m->direction, RD_HIGHER);
	assert_string_equal(m->unit, "1/s");
	/* The unknown "warnings" member is kept. */
	assert_non_null(cJSON_GetObjectItem(rd->benches[1].extra, "warnings"));
	rundoc_free(rd);

	assert_int_equal(rundoc_load(&rd, FIX "valid/minimal.json", &err), 0);
	assert_string_equal(rd->project, "default");
	assert_null(rd->git.commit);
	assert_int_equal(rd->n_benches, 0);
	rundoc_free(rd);

	assert_int_equal(rundoc_load(&rd, FIX "valid/pull-request.json", &err), 0);
	assert_int_equal(rd->ci.pr, 17);
	assert_true(rd->ci.fork);
	assert_string_equal(rd->ci.base_branch, "main");
	assert_string_equal(rd->started_at, "2026-11-27T17:05:00+01:00");
	assert_null(rd->finished_at);
	rundoc_free(rd);
}

static void test_summary_only_kept(void **state)
{
	struct rundoc *rd = NULL;
	struct err err = ERR_INIT;
	const struct rd_metric *m;

	(void)state;
	assert_int_equal(rundoc_load(&rd, FIX "valid/summary-only.json", &err), 0);
	m = rundoc_bench_find_metric(&rd->benches[0], "wall");
	assert_int_equal(m->n_samples, 0);
	assert_int_equal(m->summary.n, 20);
	assert_true(m->summary.median == 0.18 && m->summary.mean == 0.181);
	assert_true(m->summary.min == 0.17 && m->summary.max == 0.2);
	assert_true(isnan(m->summary.ci_low));
	rundoc_free(rd);
}

static void test_extra_members_kept(void **state)
{
	struct rundoc *rd = NULL;
	struct err err = ERR_INIT;
	cJSON *out;
	const cJSON *gen, *b0, *m0;

	(void)state;
	assert_int_equal(rundoc_load(&rd, FIX "valid/extra-members.json", &err), 0);
	out = rundoc_to_json(rd);
	gen = cJSON_GetObjectItem(out, "generator");
	assert_non_null(gen);
	assert_int_equal(cJSON_GetObjectItem(gen, "version")->valueint, 3);
	b0 = cJSON_GetArrayItem(cJSON_GetObjectItem(out, "benchmarks"), 0);
	assert_string_equal(cJSON_GetObjectItem(b0, "variant")->valuestring, "baseline");
	m0 = cJSON_GetArrayItem(cJSON_GetObjectItem(b0, "metrics"), 0);
	assert_non_null(cJSON_GetObjectItem(m0, "histogram"));
	cJSON_Delete(out);
	rundoc_free(rd);
}

static void test_time_forms(void **state)
{
	static const struct {
		const char *t;
		bool ok;
	} cases[] = {
		{ "2026-11-28T18:34:56Z", true },     { "2026-11-28T18:34:56.123Z", true },
		{ "2026-11-28t18:34:56z", true },     { "2026-11-28T18:34:56+05:30", true },
		{ "2026-11-28T18:34:56-08:00", true }, { "2016-12-31T23:59:60Z", true },
		{ "2026-11-28T18:34:56", false },     { "2026-11-28", false },
		{ "2026-11-28T24:00:00Z", false },    { "2026-00-28T18:34:56Z", false },
		{ "2026-11-28T18:34:56.Z", false },   { "2026-11-28T18:34:56+0530", false },
		{ "2026-11-28T18:34:56Zjunk", false }, { "", false },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char *doc = xasprintf("{\"run_id\":\"0f8e2c1a-5b3d-4e6f-9a7b-1c2d3e4f5a6b\",\"suite\":\"s\","
				      "\"started_at\":\"%s\",\"benchmarks\":[]}", cases[i].t);
		struct rundoc *rd = NULL;
		struct err err = ERR_INIT;
		int rc = rundoc_parse(&rd, doc, &err);

		if ((rc == 0) != cases[i].ok)
			print_error("'%s': rc %d %s\n", cases[i].t, rc, err.msg);
		assert_int_equal(rc == 0, cases[i].ok);
		rundoc_free(rd);
		free(doc);
	}
}

/* Status and kind: each name parses to its enum value and is written back as
 * it was; a kind perfgate does not know is kept verbatim. */
static void test_status_and_kind_names(void **state)
{
	static const struct {
		const char *status, *kind;
		enum rundoc_status st;
		enum rundoc_kind k;
	} cases[] = {
		{ "ok", "command", RUNDOC_STATUS_OK, RUNDOC_KIND_COMMAND },
		{ "failed", "http", RUNDOC_STATUS_FAILED, RUNDOC_KIND_HTTP },
		{ "partial", "ingest", RUNDOC_STATUS_PARTIAL, RUNDOC_KIND_INGEST },
		{ "skipped", "criterion", RUNDOC_STATUS_SKIPPED, RUNDOC_KIND_OTHER },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char *doc = xasprintf("{\"run_id\":\"0f8e2c1a-5b3d-4e6f-9a7b-1c2d3e4f5a6b\",\"suite\":\"s\","
				      "\"started_at\":\"2026-11-28T18:34:56Z\",\"benchmarks\":[{\"name\":\"b\","
				      "\"kind\":\"%s\",\"status\":\"%s\",\"metrics\":[]}]}",
				      cases[i].kind, cases[i].status);
		struct rundoc *rd = NULL;
		struct err err = ERR_INIT;
		cJSON *out;
		const cJSON *b0;

		if (rundoc_parse(&rd, doc, &err) != 0)
			print_error("%s\n", err.msg);
		assert_non_null(rd);
		assert_int_equal(rd->benches[0].status, cases[i].st);
		assert_int_equal(rd->benches[0].kind, cases[i].k);
		assert_string_equal(rundoc_status_name(cases[i].st), cases[i].status);
		out = rundoc_to_json(rd);
		b0 = cJSON_GetArrayItem(cJSON_GetObjectItem(out, "benchmarks"), 0);
		assert_string_equal(cJSON_GetObjectItem(b0, "kind")->valuestring, cases[i].kind);
		assert_string_equal(cJSON_GetObjectItem(b0, "status")->valuestring, cases[i].status);
		cJSON_Delete(out);
		rundoc_free(rd);
		free(doc);
	}
	/* Absent status means ok. */
	{
		struct rundoc *rd = NULL;
		struct err err = ERR_INIT;

		assert_int_equal(rundoc_parse(&rd, "{\"run_id\":\"0f8e2c1a-5b3d-4c1e-9a2b-3c4d5e6f7a8b\",\"suite\":\"s\","
						   "\"started_at\":\"2026-11-28T18:34:56Z\",\"benchmarks\":"
						   "[{\"name\":\"b\",\"kind\":\"http\",\"metrics\":[]}]}",
					     &err),
				 0);
		assert_int_equal(rd->benches[0].status, RUNDOC_STATUS_OK);
		rundoc_free(rd);
	}
}

static struct rd_metric *metric_with(struct rd_bench *b, const char *name, size_t n, double first)
{
	struct rd_metric *m = rundoc_bench_add_metric(b, name, "s", RD_LOWER);

	for (size_t i = 0; i < n; i++)
		rundoc_metric_add_sample(m, first + (double)i);
	rundoc_metric_summarise(m);
	return m;
}

/* Accumulating: new benchmarks and metrics move over whole, shared metrics
 * get the samples appended (and a new summary), a failure sticks. */
static void test_merge_accumulate(void **state)
{
	struct rundoc *dst = rundoc_new(), *src = rundoc_new();
	struct rd_bench *a = rundoc_add_bench(dst, "a", RUNDOC_KIND_INGEST), *b;
	const struct rd_metric *m;

	(void)state;
	metric_with(a, "time", 3, 1);                  /* 1 2 3 */
	b = rundoc_add_bench(src, "a", RUNDOC_KIND_INGEST);
	metric_with(b, "time", 2, 10);                 /* 10 11 */
	metric_with(b, "bytes", 1, 7);
	rundoc_bench_fail(b, "exited with status 1");
	b = rundoc_add_bench(src, "new", RUNDOC_KIND_INGEST);
	b->config_hash = xstrdup("c0ffee");
	b->extra = cJSON_Parse("{\"source\": \"go\"}");
	metric_with(b, "time", 4, 0);

	/* 2 samples into a's "time" (1 into "bytes"), and 4 with "new". */
	assert_int_equal(rundoc_merge(dst, src, RUNDOC_MERGE_ACCUMULATE), 6);
	assert_int_equal(dst->n_benches, 2);
	a = rundoc_find_bench(dst, "a");
	m = rundoc_bench_find_metric(a, "time");
	assert_int_equal(m->n_samples, 5);
	assert_true(m->samples[3] == 10 && m->samples[4] == 11);
	assert_int_equal(m->summary.n, 5);
	assert_true(m->summary.median == 3);
	assert_int_equal(rundoc_bench_find_metric(a, "bytes")->n_samples, 1);
	assert_int_equal(a->status, RUNDOC_STATUS_FAILED);
	assert_string_equal(a->error, "exited with status 1");
	b = rundoc_find_bench(dst, "new");
	assert_string_equal(b->config_hash, "c0ffee");
	assert_string_equal(cJSON_GetObjectItem(b->extra, "source")->valuestring, "go");
	assert_int_equal(b->metrics[0].n_samples, 4);
	/* Everything was taken: src holds nothing more. */
	assert_int_equal(src->n_benches, 0);

	/* A later ok run does not clear the failure. */
	b = rundoc_add_bench(src, "a", RUNDOC_KIND_INGEST);
	metric_with(b, "time", 1, 20);
	rundoc_merge(dst, src, RUNDOC_MERGE_ACCUMULATE);
	a = rundoc_find_bench(dst, "a");
	assert_int_equal(a->status, RUNDOC_STATUS_FAILED);
	assert_int_equal(rundoc_bench_find_metric(a, "time")->n_samples, 6);
	rundoc_free(src);
	rundoc_free(dst);
}

/* Pooling: only what dst has, only src's ok benchmarks; src is untouched. */
static void test_merge_pool(void **state)
{
	struct rundoc *dst = rundoc_new(), *src = rundoc_new();
	struct rd_bench *a = rundoc_add_bench(dst, "a", RUNDOC_KIND_COMMAND), *b;

	(void)state;
	metric_with(a, "wall", 10, 1);
	metric_with(rundoc_add_bench(dst, "f", RUNDOC_KIND_COMMAND), "wall", 10, 1);
	b = rundoc_add_bench(src, "a", RUNDOC_KIND_COMMAND);
	metric_with(b, "wall", 10, 100);
	metric_with(b, "user", 10, 100);               /* dst has no "user": ignored */
	b = rundoc_add_bench(src, "f", RUNDOC_KIND_COMMAND);
	metric_with(b, "wall", 10, 100);
	rundoc_bench_fail(b, "timed out");           /* failed: not pooled */
	metric_with(rundoc_add_bench(src, "other", RUNDOC_KIND_COMMAND), "wall", 3, 1);

	assert_int_equal(rundoc_merge(dst, src, RUNDOC_MERGE_POOL), 10);
	assert_int_equal(dst->n_benches, 2);
	a = rundoc_find_bench(dst, "a");
	assert_int_equal(a->n_metrics, 1);
	assert_int_equal(a->metrics[0].n_samples, 20);
	assert_int_equal(a->metrics[0].summary.n, 20);
	assert_int_equal(rundoc_find_bench(dst, "f")->metrics[0].n_samples, 10);
	assert_int_equal(rundoc_find_bench(dst, "f")->status, RUNDOC_STATUS_OK);
	assert_int_equal(src->n_benches, 3);
	assert_int_equal(src->benches[0].metrics[0].n_samples, 10);
	rundoc_free(src);
	rundoc_free(dst);
}

/* The members runners add beside the schema's: what a setter writes, the
 * getter reads back, under the key names docs/run-document.md gives. */
static void test_extra_accessors(void **state)
{
	struct rundoc *rd = rundoc_new();
	struct rd_bench *b = rundoc_add_bench(rd, "echo@fast", RUNDOC_KIND_COMMAND);
	struct rd_metric *m = rundoc_bench_add_metric(b, "wall", "s", RD_LOWER);
	struct rundoc_variant v = { .of = "echo", .name = "fast", .reference = true }, got;
	const cJSON *w, *mj;
	cJSON *json;

	(void)state;
	rd->run_id = xstrdup("0f8e2c1a-5b3d-4e6f-9a7b-1c2d3e4f5a6b");
	rd->suite = xstrdup("s");
	rd->started_at = xstrdup("2026-11-28T18:34:56Z");
	assert_false(rundoc_metric_tracked(m));
	assert_null(rundoc_metric_histogram(m));
	assert_null(rundoc_bench_warnings(b));
	assert_null(rundoc_bench_stderr_tail(b));
	assert_null(rundoc_bench_suite_benchmark(b));
	assert_false(rundoc_bench_invalid(b));
	assert_false(rundoc_bench_variant(b, &got));

	rundoc_metric_set_tracked(m, "a calibration is set");
	rundoc_metric_set_source(m, "emitted");
	rundoc_metric_set_histogram(m, cJSON_Parse("{\"sigfigs\": 3}"));
	rundoc_bench_warn(b, "first");
	rundoc_bench_warn(b, "second");
	rundoc_bench_set_stderr_tail(b, "old");
	rundoc_bench_set_stderr_tail(b, "boom");     /* replaces, never two members */
	rundoc_bench_set_invalid(b);
	rundoc_bench_set_suite_benchmark(b, "echo");
	rundoc_bench_set_variant(b, &v);

	assert_true(rundoc_metric_tracked(m));
	assert_int_equal(cJSON_GetObjectItem(rundoc_metric_histogram(m), "sigfigs")->valueint, 3);
	w = rundoc_bench_warnings(b);
	assert_int_equal(cJSON_GetArraySize(w), 2);
	assert_string_equal(cJSON_GetArrayItem(w, 1)->valuestring, "second");
	assert_string_equal(rundoc_bench_stderr_tail(b), "boom");
	assert_true(rundoc_bench_invalid(b));
	assert_string_equal(rundoc_bench_suite_benchmark(b), "echo");
	assert_true(rundoc_bench_variant(b, &got));
	assert_string_equal(got.of, "echo");
	assert_string_equal(got.name, "fast");
	assert_true(got.reference);

	/* The JSON form: plain members of the benchmark and the metric. */
	json = rundoc_to_json(rd);
	{
		const cJSON *bj = cJSON_GetArrayItem(cJSON_GetObjectItem(json, "benchmarks"), 0);

		assert_string_equal(cJSON_GetObjectItem(bj, "stderr_tail")->valuestring, "boom");
		assert_true(cJSON_IsTrue(cJSON_GetObjectItem(bj, "invalid")));
		assert_string_equal(cJSON_GetObjectItem(bj, "suite_benchmark")->valuestring, "echo");
		assert_true(cJSON_IsTrue(cJSON_GetObjectItem(cJSON_GetObjectItem(bj, "variant"), "reference")));
		mj = cJSON_GetArrayItem(cJSON_GetObjectItem(bj, "metrics"), 0);
		assert_true(cJSON_IsFalse(cJSON_GetObjectItem(mj, "gate")));
		assert_string_equal(cJSON_GetObjectItem(mj, "why")->valuestring, "a calibration is set");
		assert_string_equal(cJSON_GetObjectItem(mj, "source")->valuestring, "emitted");
	}
	cJSON_Delete(json);
	rundoc_free(rd);
}

/* The example in docs/run-document.md is a valid run document. */
static void test_docs_example(void **state)
{
	char *md = slurp("docs/run-document.md");
	const char *start = strstr(md, "```json\n"), *end;
	struct rundoc *rd = NULL;
	struct err err = ERR_INIT;
	char *json;

	(void)state;
	assert_non_null(start);
	start += 8;
	end = strstr(start, "```");
	assert_non_null(end);
	json = xstrndup(start, (size_t)(end - start));
	if (rundoc_parse(&rd, json, &err) != 0)
		print_error("docs example: %s\n", err.msg);
	assert_non_null(rd);
	assert_int_equal(rd->n_benches, 2);
	rundoc_free(rd);
	free(json);
	free(md);
}

/* Run ids as people type them (git-style prefixes), and what they match. */
/* rundoc_find_bench past the index threshold: every name found, absent
 * names not; a benchmark renamed in place and one added are found too (the
 * index is rebuilt, or its miss checked by a scan). */
static void test_find_bench_index(void **state)
{
	struct rundoc *rd = rundoc_new();
	char name[32];

	(void)state;
	for (int i = 499; i >= 0; i--) {
		snprintf(name, sizeof(name), "bench-%03d", i * 7 % 500);
		rundoc_add_bench(rd, name, RUNDOC_KIND_COMMAND);
	}
	for (int i = 0; i < 500; i++) {
		struct rd_bench *b;

		snprintf(name, sizeof(name), "bench-%03d", i);
		b = rundoc_find_bench(rd, name);
		assert_non_null(b);
		assert_string_equal(b->name, name);
	}
	assert_null(rundoc_find_bench(rd, "bench-500"));
	assert_null(rundoc_find_bench(rd, ""));
	/* renamed in place, as the ingest runner does */
	free(rd->benches[10].name);
	rd->benches[10].name = xstrdup("aaa-renamed");
	assert_ptr_equal(rundoc_find_bench(rd, "aaa-renamed"), &rd->benches[10]);
	assert_ptr_equal(rundoc_find_bench(rd, rd->benches[11].name), &rd->benches[11]);
	/* added (the array may move) */
	rundoc_add_bench(rd, "zzz-added", RUNDOC_KIND_COMMAND);
	assert_ptr_equal(rundoc_find_bench(rd, "zzz-added"), &rd->benches[500]);
	assert_ptr_equal(rundoc_find_bench(rd, rd->benches[0].name), &rd->benches[0]);
	rundoc_free(rd);
}

static void test_id_prefix(void **state)
{
	static const struct {
		const char *spec;
		const char *hex; /* NULL: not a run id */
	} cases[] = {
		{ "11feadd8", "11feadd8" },
		{ "11FEADD8-0", "11feadd80" },
		{ "11feadd8-0000-4000-8000-000000000001", "11feadd8000040008000000000000001" },
		{ "11feadd8000040008000000000000001", "11feadd8000040008000000000000001" },
		{ "11fe", "11fe" },
		{ "11f", NULL },                                     /* too short to mean one run */
		{ "11feadd8-", "11feadd8" },
		{ "11feadd80-", NULL },                              /* a dash where the id has a digit */
		{ "11feadd8-0000-4000-8000-0000000000011", NULL },   /* longer than an id */
		{ "11feadd8000040008000000000000001a", NULL },       /* 33 digits */
		{ "nope", NULL },
		{ "", NULL },
		{ "4f837ca0ba0b8d2b53e1ef8b6e6c0e2e4d0c1f2a", NULL }, /* a commit: 40 digits */
	};
	char hex[33];

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		bool ok = rundoc_id_prefix(cases[i].spec, hex);

		if (ok != (cases[i].hex != NULL) || (ok && strcmp(hex, cases[i].hex) != 0))
			fail_msg("'%s': %s '%s', want %s", cases[i].spec, ok ? "accepted as" : "refused", ok ? hex : "",
				 cases[i].hex ? cases[i].hex : "refused");
	}
	assert_true(rundoc_id_matches("11feadd8-0000-4000-8000-000000000001", "11feadd80000"));
	assert_true(rundoc_id_matches("11FEADD8-0000-4000-8000-000000000001", "11feadd8"));
	assert_false(rundoc_id_matches("11feadd8-0000-4000-8000-000000000001", "11feadd81"));
	assert_false(rundoc_id_matches("11fe", "11feadd8"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_invalid_fixtures),
		cmocka_unit_test(test_every_invalid_fixture_listed),
		cmocka_unit_test(test_load_names_the_file),
		cmocka_unit_test(test_valid_fixtures_round_trip),
		cmocka_unit_test(test_full_fields),
		cmocka_unit_test(test_summary_only_kept),
		cmocka_unit_test(test_extra_members_kept),
		cmocka_unit_test(test_time_forms),
		cmocka_unit_test(test_docs_example),
		cmocka_unit_test(test_status_and_kind_names),
		cmocka_unit_test(test_merge_accumulate),
		cmocka_unit_test(test_merge_pool),
		cmocka_unit_test(test_find_bench_index),
		cmocka_unit_test(test_extra_accessors),
		cmocka_unit_test(test_id_prefix),
		cmocka_unit_test(test_refused_like_the_database),
		cmocka_unit_test(test_name_lengths),
		cmocka_unit_test(test_nul_byte),
		cmocka_unit_test(test_check_own_run),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
