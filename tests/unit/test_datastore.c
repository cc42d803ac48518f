/*
 * Unit tests for core/datastore.c on a repository of its own, with the
 * branch kept locally (no remote): gzip round trip and its fixed bytes;
 * runs staged, committed, listed and read back; a run already on the branch
 * is not added twice; a damaged file is refused with its path; retention
 * rewrites all but the newest K runs of a series without samples, and
 * counts runs staged in the same job.  Fetch and push through a remote are
 * exercised by tests/integration/test_store.sh.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <git2.h>

#include "../../core/datastore.h"
#include "../../core/util.h"

static char dir[] = "/tmp/perfgate-datastore.XXXXXX";

static int setup(void **state)
{
	git_repository *repo = NULL;

	(void)state;
	if (!mkdtemp(dir))
		return -1;
	git_libgit2_init();
	if (git_repository_init(&repo, dir, 1) < 0)
		return -1;
	git_repository_free(repo);
	return 0;
}

static int teardown(void **state)
{
	char *cmd = xasprintf("rm -rf '%s'", dir);
	int rc;

	(void)state;
	rc = system(cmd);
	free(cmd);
	git_libgit2_shutdown();
	return rc == 0 ? 0 : -1;
}

/* Run number i of one series: id, start time, a sample. */
static cJSON *run(int i, const char *branch)
{
	char *text = xasprintf("{\"schema_version\":1,\"run_id\":\"%08d-0000-4000-8000-00000000%04d\","
			       "\"project\":\"p\",\"suite\":\"s\",\"git\":{\"branch\":\"%s\"},\"fingerprint\":\"f\","
			       "\"started_at\":\"2026-01-01T00:%02d:00Z\",\"benchmarks\":[{\"name\":\"b\",\"kind\":\"command\","
			       "\"metrics\":[{\"name\":\"wall\",\"unit\":\"s\",\"direction\":\"lower\","
			       "\"samples\":[1,2,3],\"summary\":{\"n\":3,\"median\":2},\"histogram\":{\"n\":3}}],"
			       "\"timeseries\":[1]}]}",
			       i * 1111, i, branch, i);
	cJSON *j = cJSON_Parse(text);

	free(text);
	assert_non_null(j);
	return j;
}

static struct datastore *open_store(void)
{
	struct datastore_options o = DATASTORE_OPTIONS_INIT;
	struct datastore *ds = NULL;
	struct err err = ERR_INIT;

	o.repo = dir;
	o.remote = "";
	assert_int_equal(datastore_open(&ds, &o, &err), 0);
	assert_int_equal(datastore_fetch(ds, &err), 0);
	return ds;
}

static void test_gzip(void **state)
{
	const char text[] = "{\"a\": \"the same bytes for the same input\"}";
	unsigned char *a = NULL, *b = NULL;
	size_t la, lb, lt;
	char *back = NULL;
	struct err err = ERR_INIT;

	(void)state;
	assert_int_equal(datastore_gzip(text, strlen(text), &a, &la, &err), 0);
	assert_int_equal(datastore_gzip(text, strlen(text), &b, &lb, &err), 0);
	assert_true(la == lb && memcmp(a, b, la) == 0);
	assert_true(a[0] == 0x1f && a[1] == 0x8b);
	assert_int_equal(datastore_gunzip(a, la, 1 << 20, &back, &lt, &err), 0);
	assert_int_equal(lt, strlen(text));
	assert_memory_equal(back, text, lt);
	free(back);
	/* Truncated, not gzip, or bigger than allowed: refused. */
	assert_int_equal(datastore_gunzip(a, la / 2, 1 << 20, &back, &lt, &err), ERR_INPUT);
	assert_int_equal(datastore_gunzip("plain", 5, 1 << 20, &back, &lt, &err), ERR_INPUT);
	assert_int_equal(datastore_gunzip(a, la, 10, &back, &lt, &err), ERR_INPUT);
	free(a);
	free(b);
}

static void test_stage_push_read(void **state)
{
	struct datastore *ds = open_store();
	struct datastore_pushed pushed;
	struct datastore_entry *e = NULL;
	struct err err = ERR_INIT;
	size_t n = 0;
	cJSON *file = NULL;

	(void)state;
	assert_string_equal(datastore_tip(ds), "");
	for (int i = 1; i <= 3; i++) {
		cJSON *r = run(i, "main");

		assert_int_equal(datastore_stage_run(ds, r, NULL, &err), 0);
		cJSON_Delete(r);
	}
	assert_int_equal(datastore_push(ds, "three runs", &pushed, &err), 0);
	assert_int_equal(pushed.added, 3);
	assert_int_equal(pushed.attempts, 1);
	assert_int_equal(strlen(datastore_tip(ds)), 40);
	assert_int_equal(datastore_list(ds, &e, &n, NULL, NULL, &err), 0);
	assert_int_equal(n, 3);
	assert_string_equal(e[0].run_id, "00001111-0000-4000-8000-000000000001");
	assert_memory_equal(e[0].path, "runs/00/00001111-0000-4000-8000-000000000001.", 45);
	assert_int_equal(datastore_read(ds, &e[0], &file, &err), 0);
	assert_int_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(file, "run"), "benchmarks")->child != NULL, 1);
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(file, "comparison")));
	cJSON_Delete(file);
	datastore_entries_free(e, n);

	/* The same run again (even changed): the branch keeps the first. */
	{
		cJSON *r = run(2, "main");

		cJSON_ReplaceItemInObject(r, "suite", cJSON_CreateString("changed"));
		assert_int_equal(datastore_stage_run(ds, r, NULL, &err), 0);
		cJSON_Delete(r);
	}
	assert_int_equal(datastore_push(ds, "again", &pushed, &err), 0);
	assert_int_equal(pushed.added, 0);
	assert_int_equal(pushed.attempts, 0);
	datastore_free(ds);
}

static void test_damaged(void **state)
{
	struct datastore *ds = open_store();
	struct datastore_entry *e = NULL;
	struct err err = ERR_INIT;
	size_t n = 0;
	cJSON *file = NULL;
	git_repository *repo = NULL;
	git_oid oid;

	(void)state;
	assert_int_equal(datastore_list(ds, &e, &n, NULL, NULL, &err), 0);
	assert_true(n >= 1);
	/* The same name over other bytes (a valid gzip of other text). */
	{
		unsigned char *gz = NULL;
		size_t len = 0;

		assert_int_equal(git_repository_open(&repo, dir), 0);
		assert_int_equal(datastore_gzip("{}", 2, &gz, &len, &err), 0);
		assert_int_equal(git_blob_create_from_buffer(&oid, repo, gz, len), 0);
		memcpy(e[0].oid, oid.id, sizeof(e[0].oid));
		free(gz);
	}
	assert_int_equal(datastore_read(ds, &e[0], &file, &err), ERR_INPUT);
	assert_non_null(strstr(err.msg, e[0].path));
	assert_non_null(strstr(err.msg, "does not match the hash in its name"));
	assert_null(file);
	git_repository_free(repo);
	datastore_entries_free(e, n);
	datastore_free(ds);
}

static void test_prune(void **state)
{
	struct datastore *ds = open_store();
	struct datastore_pushed pushed;
	struct datastore_entry *e = NULL;
	struct err err = ERR_INIT;
	size_t n = 0, pruned = 0, with_samples = 0;

	(void)state;
	/* 3 runs on the branch already (test_stage_push_read); 3 more now,
	 * and one on another branch: keep samples for the newest 2 of main. */
	for (int i = 4; i <= 6; i++) {
		cJSON *r = run(i, "main");

		assert_int_equal(datastore_stage_run(ds, r, NULL, &err), 0);
		cJSON_Delete(r);
	}
	{
		cJSON *r = run(7, "other");

		assert_int_equal(datastore_stage_run(ds, r, NULL, &err), 0);
		cJSON_Delete(r);
	}
	assert_int_equal(datastore_stage_prune(ds, 2, &pruned, &err), 0);
	assert_int_equal(pruned, 4); /* runs 1-3 on the branch, run 4 staged */
	assert_int_equal(datastore_push(ds, "retention", &pushed, &err), 0);
	assert_int_equal(pushed.removed, 3);
	assert_int_equal(datastore_list(ds, &e, &n, NULL, NULL, &err), 0);
	assert_int_equal(n, 7);
	for (size_t i = 0; i < n; i++) {
		cJSON *file = NULL;
		const cJSON *b, *m;

		assert_int_equal(datastore_read(ds, &e[i], &file, &err), 0);
		b = cJSON_GetArrayItem(cJSON_GetObjectItem(cJSON_GetObjectItem(file, "run"), "benchmarks"), 0);
		m = cJSON_GetArrayItem(cJSON_GetObjectItem(b, "metrics"), 0);
		if (cJSON_GetArraySize(cJSON_GetObjectItem(m, "samples")) == 3) {
			with_samples++;
			assert_false(cJSON_IsTrue(cJSON_GetObjectItem(file, "pruned")));
		} else {
			/* Summary kept, samples, histogram and time series gone. */
			assert_true(cJSON_IsTrue(cJSON_GetObjectItem(file, "pruned")));
			assert_int_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(m, "summary"), "median")->valueint, 2);
			assert_null(cJSON_GetObjectItem(m, "histogram"));
			assert_null(cJSON_GetObjectItem(b, "timeseries"));
		}
		cJSON_Delete(file);
	}
	assert_int_equal(with_samples, 3); /* runs 5, 6 and the other branch's 7 */
	datastore_entries_free(e, n);
	/* Done once: nothing more to prune. */
	assert_int_equal(datastore_stage_prune(ds, 2, &pruned, &err), 0);
	assert_int_equal(pruned, 0);
	datastore_free(ds);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_gzip),
		cmocka_unit_test(test_stage_push_read),
		cmocka_unit_test(test_damaged),
		cmocka_unit_test(test_prune),
	};

	return cmocka_run_group_tests(tests, setup, teardown);
}
