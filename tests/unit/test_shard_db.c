/* Unit tests for db/shard.c against a real PostgreSQL: the embedded
 * cluster, started under a private $PERFGATE_HOME and stopped at the end
 * (skipped when the server binaries are missing).  Groups registered and
 * refused, the rendezvous (every shard gets the same start, also when one
 * is missing or comes after the deadline), the clock offset, and the
 * shards' run documents kept apart from the runs, the latest of each
 * shard loaded. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ftw.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../../core/shard.h"
#include "../../core/util.h"
#include "../../db/db.h"
#include "../../db/shard.h"
#include "../../db/store.h"

static char home[64];
static struct db *db;

static int rm_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	return remove(path);
}

static int setup(void **state)
{
	struct db_options o = DB_OPTIONS_INIT;
	struct err err = ERR_INIT;

	(void)state;
	snprintf(home, sizeof(home), "/tmp/perfgate-shard-db-XXXXXX");
	if (!mkdtemp(home))
		return -1;
	chmod(home, 0755); /* the server may run as the postgres user */
	setenv("PERFGATE_HOME", home, 1);
	unsetenv("PERFGATE_DATABASE_URL");
	unsetenv("PGHOST");
	unsetenv("PGSERVICE");
	if (db_open(&db, &o, &err) != 0) {
		fprintf(stderr, "# no database: %s\n", err.msg);
		db = NULL;
	}
	return 0;
}

static int teardown(void **state)
{
	struct db_options o = DB_OPTIONS_INIT;
	struct err err = ERR_INIT;
	char path[512], link[512], *where = NULL;
	ssize_t n;
	bool was;

	(void)state;
	db_free(db);
	db_embedded_stop(&o, &was, &where, &err);
	free(where);
	/* A cluster the postgres user could not keep under $PERFGATE_HOME
	 * lives in a folder of its own, linked from there. */
	snprintf(path, sizeof(path), "%s/pg", home);
	n = readlink(path, link, sizeof(link) - 1);
	if (n > 0) {
		link[n] = '\0';
		if (strncmp(link, "/var/lib/perfgate/clusters/", 27) == 0 && link[27])
			nftw(link, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	}
	nftw(home, rm_one, 16, FTW_DEPTH | FTW_PHYS);
	return 0;
}

#define NEED_DB()                                   \
	do {                                        \
		if (!db)                            \
			skip();                     \
	} while (0)

static void test_join(void **state)
{
	struct err err = ERR_INIT;
	unsigned count = 0;
	char hash[65];

	(void)state;
	NEED_DB();
	assert_int_equal(db_shard_join(db, "j1", 4, "aaaa", 60, &err), 0);
	assert_int_equal(db_shard_join(db, "j1", 4, "aaaa", 60, &err), 0);
	assert_int_equal(db_shard_join(db, "j1", 4, "bbbb", 60, &err), ERR_INPUT);
	assert_non_null(strstr(err.msg, "aaaa"));
	assert_non_null(strstr(err.msg, "bbbb"));
	assert_non_null(strstr(err.msg, "refused"));
	assert_int_equal(db_shard_join(db, "j1", 3, "aaaa", 60, &err), ERR_INPUT);
	assert_int_equal(db_shard_group(db, "j1", &count, hash, &err), 0);
	assert_int_equal(count, 4);
	assert_string_equal(hash, "aaaa");
	assert_int_equal(db_shard_group(db, "nobody", &count, hash, &err), ERR_NOTFOUND);
}

/* One shard meeting the others, on its own connection. */
struct arriver {
	const char *group;
	unsigned index, count;
	double start, offset, uncertainty;
	int rc;
	struct err err;
};

static void *arrive(void *arg)
{
	struct arriver *a = arg;
	struct db_options o = DB_OPTIONS_INIT;
	struct db *mine = NULL;

	if ((a->rc = db_open(&mine, &o, &a->err)) == 0)
		a->rc = db_shard_arrive(mine, a->group, 0, a->index, a->count, &a->start, &a->err);
	if (a->rc == 0)
		a->rc = db_shard_clock_offset(mine, &a->offset, &a->uncertainty, &a->err);
	db_free(mine);
	return NULL;
}

static void run_arrivers(struct arriver *a, size_t n)
{
	pthread_t t[8];

	for (size_t i = 0; i < n; i++)
		assert_int_equal(pthread_create(&t[i], NULL, arrive, &a[i]), 0);
	for (size_t i = 0; i < n; i++)
		pthread_join(t[i], NULL);
	for (size_t i = 0; i < n; i++)
		if (a[i].rc != 0)
			fail_msg("shard %u: %s", a[i].index, a[i].err.msg);
}

/* Four shards arriving together all get one start, after the last arrival. */
static void test_rendezvous(void **state)
{
	struct arriver a[4];
	struct err err = ERR_INIT;
	double before;

	(void)state;
	NEED_DB();
	assert_int_equal(db_shard_join(db, "r1", 4, "h", 600, &err), 0);
	before = shard_now();
	for (unsigned i = 0; i < 4; i++)
		a[i] = (struct arriver){ "r1", i, 4, 0, 0, 0, 0, ERR_INIT };
	run_arrivers(a, 4);
	for (unsigned i = 0; i < 4; i++) {
		assert_true(a[i].start == a[0].start);
		/* the same machine's clock: the offset is its reading error */
		assert_true(fabs(a[i].offset) < 1.0);
		assert_true(a[i].uncertainty >= 0 && a[i].uncertainty < 1.0);
	}
	assert_true(a[0].start >= before + DB_SHARD_LEAD_S - 1.0);
}

/* Two of three come; after the group's wait they start without the third,
 * at the deadline; the third, later, is given the same start. */
static void test_rendezvous_deadline(void **state)
{
	struct arriver a[3];
	struct err err = ERR_INIT;

	(void)state;
	NEED_DB();
	assert_int_equal(db_shard_join(db, "d1", 3, "h", 1, &err), 0);
	for (unsigned i = 0; i < 3; i++)
		a[i] = (struct arriver){ "d1", i, 3, 0, 0, 0, 0, ERR_INIT };
	run_arrivers(a, 2);
	assert_true(a[0].start == a[1].start);
	run_arrivers(a + 2, 1);
	assert_true(a[2].start == a[0].start);
}

static struct rundoc *shard_doc(const char *group, unsigned index, unsigned count, const char *marker)
{
	struct rundoc *rd = rundoc_new();
	struct shard_spec spec = { index, count, "--shard" };
	struct shard sh;
	char id[37];

	rundoc_uuid(id);
	rd->run_id = xstrdup(id);
	rd->suite = xstrdup("s");
	rd->started_at = xstrdup("2026-11-28T10:00:00Z");
	rd->tags = cJSON_CreateObject();
	cJSON_AddStringToObject(rd->tags, "marker", marker);
	shard_init(&sh, &spec, group, "hash-1");
	shard_stamp(rd, &sh);
	shard_release(&sh);
	return rd;
}

/* Shard documents go to their group (never to runs), the latest of each
 * shard is the one loaded; the same document twice is stored once. */
static void test_shard_runs(void **state)
{
	struct rundoc *d1 = shard_doc("k1", 0, 2, "first"), *d1b = shard_doc("k1", 0, 2, "second");
	struct rundoc *d2 = shard_doc("k1", 1, 2, "other"), **docs = NULL;
	struct db_status st = DB_STATUS_INIT;
	struct err err = ERR_INIT;
	unsigned *have = NULL;
	long long runs_before;
	bool already;
	size_t n;

	(void)state;
	NEED_DB();
	assert_int_equal(db_status_get(db, &st, &err), 0);
	runs_before = st.runs;
	db_status_release(&st);
	assert_int_equal(db_store_insert(db, d1, NULL, &already, NULL, &err), 0);
	assert_false(already);
	assert_int_equal(db_store_insert(db, d1, NULL, &already, NULL, &err), 0);
	assert_true(already);
	assert_int_equal(db_shard_runs_present(db, "k1", &have, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_int_equal(have[0], 0);
	free(have);
	usleep(2000); /* stored_at orders the documents of one shard */
	assert_int_equal(db_shard_run_insert(db, d1b, &already, &err), 0);
	assert_int_equal(db_shard_run_insert(db, d2, &already, &err), 0);
	assert_int_equal(db_shard_runs_present(db, "k1", &have, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_int_equal(have[1], 1);
	free(have);
	assert_int_equal(db_shard_runs_load(db, "k1", &docs, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_string_equal(docs[0]->run_id, d1b->run_id);
	assert_string_equal(docs[1]->run_id, d2->run_id);
	for (size_t i = 0; i < n; i++)
		rundoc_free(docs[i]);
	free(docs);
	/* none of them is a run (a baseline, a point of history) */
	assert_int_equal(db_status_get(db, &st, &err), 0);
	assert_int_equal(st.runs, runs_before);
	db_status_release(&st);
	/* a document of another configuration is refused by its group */
	free(d2->run_id);
	d2->run_id = xstrdup("0f8e2c1a-5b3d-4e6f-9a7b-1c2d3e4f5a6b");
	cJSON_ReplaceItemInObjectCaseSensitive(cJSON_GetObjectItemCaseSensitive(d2->extra, "shard"), "config_hash",
					       cJSON_CreateString("hash-2"));
	assert_int_equal(db_shard_run_insert(db, d2, &already, &err), ERR_INPUT);
	rundoc_free(d1);
	rundoc_free(d1b);
	rundoc_free(d2);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_join),
		cmocka_unit_test(test_rendezvous),
		cmocka_unit_test(test_rendezvous_deadline),
		cmocka_unit_test(test_shard_runs),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
