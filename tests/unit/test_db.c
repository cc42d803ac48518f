/* Unit tests for db/db.c without a server: password redaction, where the
 * database is (connection order), $PERFGATE_HOME, the spool, and the errors
 * of connections that cannot work. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include "../../core/util.h"
#include "../../db/db.h"
#include "../../db/store.h"

static void test_url_redact(void **state)
{
	static const struct { const char *in, *want; } cases[] = {
		{ "postgresql://bob:SECRET@127.0.0.1:5432/perf",
		  "postgresql://bob:***@127.0.0.1:5432/perf" },
		{ "postgres://bob:SECRET@db.example/perf?sslmode=require",
		  "postgres://bob:***@db.example/perf?sslmode=require" },
		{ "postgresql://bob@127.0.0.1/perf", "postgresql://bob@127.0.0.1/perf" },
		{ "postgresql://127.0.0.1:5432/perf", "postgresql://127.0.0.1:5432/perf" },
		{ "postgresql:///perf?host=/tmp&password=SECRET&user=bob",
		  "postgresql:///perf?host=/tmp&password=***&user=bob" },
		{ "host=db user=bob password=SECRET dbname=perf",
		  "host=db user=bob password=*** dbname=perf" },
		{ "host=db password = 'SE CRET' dbname=perf", "host=db password = *** dbname=perf" },
		{ "host=db PASSWORD='it\\'s' dbname=perf", "host=db PASSWORD=*** dbname=perf" },
		/* A password holding '@' or '/' unencoded still disappears entirely. */
		{ "postgresql://bob:SE@C/RET@host/perf", "postgresql://bob:***@host/perf" },
		{ "see 'postgresql://u:p@h/d' now", "see 'postgresql://u:***@h/d' now" },
		/* libpq decodes query keys: a percent-encoded "password" is one. */
		{ "postgresql://h/perf?pass%77ord=SECRET&user=bob", "postgresql://h/perf?pass%77ord=***&user=bob" },
		{ "postgresql://h/perf?%70%61ssword=SECRET", "postgresql://h/perf?%70%61ssword=***" },
		{ "postgresql://h/perf?password=50%off!", "postgresql://h/perf?password=***" },
		{ "postgresql://h/perf?password=50%25off#frag", "postgresql://h/perf?password=***#frag" },
		/* Not a password key: a longer word, or a key that only ends so. */
		{ "host=h passwords=3 mypassword=x", "host=h passwords=3 mypassword=x" },
		{ "", "" },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char *got = db_url_redact(cases[i].in);
		if (strcmp(got, cases[i].want) != 0)
			fail_msg("case %zu: '%s' gave '%s', want '%s'", i, cases[i].in, got,
				 cases[i].want);
		free(got);
	}
}

static void test_scrub(void **state)
{
	char msg[64];

	(void)state;
	snprintf(msg, sizeof(msg), "auth failed for hunter2 and hunter2");
	db_scrub(msg, sizeof(msg), "hunter2");
	assert_string_equal(msg, "auth failed for *** and ***");
	snprintf(msg, sizeof(msg), "nothing here");
	db_scrub(msg, sizeof(msg), "hunter2");
	assert_string_equal(msg, "nothing here");
	db_scrub(msg, sizeof(msg), NULL);
	db_scrub(msg, sizeof(msg), "");
	assert_string_equal(msg, "nothing here");
	/* Growing past the buffer truncates rather than overflowing. */
	snprintf(msg, 8, "a a a a");
	db_scrub(msg, 8, "a");
	assert_int_equal(strlen(msg), 7);
}

static void clear_env(void)
{
	unsetenv("PERFGATE_DATABASE_URL");
	unsetenv("PGHOST");
	unsetenv("PGSERVICE");
	unsetenv("PGPASSWORD");
}

static void test_connection_order(void **state)
{
	struct db_options opts = DB_OPTIONS_INIT;
	struct err err = ERR_INIT;
	char *where = NULL;
	bool embedded = true;

	(void)state;
	clear_env();
	setenv("PERFGATE_HOME", "/tmp/perfgate-unit-home", 1);
	/* Nothing configured: the embedded cluster under $PERFGATE_HOME. */
	assert_int_equal(db_describe(&opts, &where, &embedded, &err), 0);
	assert_true(embedded);
	assert_non_null(strstr(where, "/tmp/perfgate-unit-home/pg"));
	free(where);
	/* PGHOST alone selects libpq's environment. */
	setenv("PGHOST", "/run/elsewhere", 1);
	assert_int_equal(db_describe(&opts, &where, &embedded, &err), 0);
	assert_false(embedded);
	assert_non_null(strstr(where, "PGHOST=/run/elsewhere"));
	free(where);
	unsetenv("PGHOST");
	setenv("PGSERVICE", "perf", 1);
	assert_int_equal(db_describe(&opts, &where, &embedded, &err), 0);
	assert_false(embedded);
	assert_non_null(strstr(where, "'perf'"));
	free(where);
	/* PERFGATE_DATABASE_URL beats PG*. */
	setenv("PERFGATE_DATABASE_URL", "postgresql://env:SECRET@envhost/db", 1);
	assert_int_equal(db_describe(&opts, &where, &embedded, &err), 0);
	assert_false(embedded);
	assert_string_equal(where, "postgresql://env:***@envhost/db");
	free(where);
	/* --db beats everything. */
	opts.url = "postgresql://opt@opthost/db";
	assert_int_equal(db_describe(&opts, &where, &embedded, &err), 0);
	assert_string_equal(where, "postgresql://opt@opthost/db");
	free(where);
	clear_env();
}

static void test_home(void **state)
{
	char *home;

	(void)state;
	setenv("PERFGATE_HOME", "/x/y", 1);
	home = db_home();
	assert_string_equal(home, "/x/y");
	free(home);
	unsetenv("PERFGATE_HOME");
	setenv("HOME", "/home/someone", 1);
	home = db_home();
	assert_string_equal(home, "/home/someone/.local/share/perfgate");
	free(home);
}

static void test_spool(void **state)
{
	char tmpl[] = "/tmp/perfgate-unit-spool.XXXXXX";
	char *dir = mkdtemp(tmpl), *path = NULL, *cmd;
	struct rundoc *a = rundoc_new(), *b = rundoc_new(), *back = NULL;
	struct err err = ERR_INIT;
	char **list = NULL;
	size_t n = 99;

	(void)state;
	assert_non_null(dir);
	setenv("PERFGATE_HOME", dir, 1);
	/* No spool folder yet: an empty list, not an error. */
	assert_int_equal(db_spool_list(&list, &n, &err), 0);
	assert_int_equal(n, 0);
	a->run_id = xstrdup("bbbbbbbb-0000-4000-8000-000000000002");
	b->run_id = xstrdup("aaaaaaaa-0000-4000-8000-000000000001");
	a->suite = xstrdup("s");
	b->suite = xstrdup("s");
	a->started_at = xstrdup("2026-01-01T00:00:00Z");
	b->started_at = xstrdup("2026-01-01T00:00:00Z");
	rundoc_metric_add_sample(rundoc_bench_add_metric(rundoc_add_bench(a, "x", RUNDOC_KIND_COMMAND), "wall", "s",
						 RD_LOWER), 1.5);
	assert_int_equal(db_spool_write(a, &path, &err), 0);
	cmd = xasprintf("%s/spool/%s.json", dir, a->run_id);
	assert_string_equal(path, cmd);
	free(cmd);
	free(path);
	assert_int_equal(db_spool_write(b, NULL, &err), 0);
	/* A temporary file of an interrupted write is not a spooled run. */
	cmd = xasprintf("%s/spool/cccccccc.json.tmp.123", dir);
	assert_int_equal(file_write_atomic(cmd, "{", 1, &err), 0);
	free(cmd);
	assert_int_equal(db_spool_list(&list, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_non_null(strstr(list[0], b->run_id)); /* name order */
	assert_non_null(strstr(list[1], a->run_id));
	/* What was spooled reads back as the same run. */
	assert_int_equal(rundoc_load(&back, list[1], &err), 0);
	assert_string_equal(back->run_id, a->run_id);
	assert_int_equal(back->n_benches, 1);
	assert_true(back->benches[0].metrics[0].samples[0] == 1.5);
	rundoc_free(back);
	db_spool_list_free(list, n);
	rundoc_free(a);
	rundoc_free(b);
	cmd = xasprintf("rm -rf '%s'", dir);
	assert_int_equal(system(cmd), 0);
	free(cmd);
	unsetenv("PERFGATE_HOME");
}

static void test_open_errors_hide_password(void **state)
{
	static const char *const urls[] = {
		/* Nothing listens on this socket folder: connection refused. */
		"postgresql://bob:Sup3rSecret@/perf?host=/nonexistent-perfgate-dir",
		/* Malformed: the parser's message must not carry the password. */
		"postgresql://bob:Sup3rSecret@/perf?host=/nonexistent&bogus_option=1",
		"postgresql://bob:Sup3rSecret@[::1/perf",
		"host=/nonexistent-perfgate-dir password=Sup3rSecret port=notaport",
	};
	struct db_options opts = DB_OPTIONS_INIT;

	(void)state;
	clear_env();
	for (size_t i = 0; i < ARRAY_SIZE(urls); i++) {
		struct err err = ERR_INIT;
		struct db *db = NULL;
		int rc;

		opts.url = urls[i];
		rc = db_open(&db, &opts, &err);
		assert_null(db);
		assert_true(rc == ERR_INFRA || rc == ERR_INPUT);
		assert_true(err.msg[0] != '\0');
		if (strstr(err.msg, "Sup3rSecret"))
			fail_msg("case %zu: password in '%s'", i, err.msg);
		assert_null(strchr(err.msg, '\n'));
	}
}

/* A loopback "server" that accepts and at once closes every connection,
 * counting them, until told to stop. */
struct refuser {
	int fd;
	int port;
	volatile int accepted;
	volatile int stop;
};

static void *refuse(void *arg)
{
	struct refuser *r = arg;

	while (!r->stop) {
		struct pollfd p = { .fd = r->fd, .events = POLLIN };
		int c;

		if (poll(&p, 1, 50) <= 0)
			continue;
		c = accept(r->fd, NULL, NULL);
		if (c >= 0) {
			r->accepted++;
			close(c);
		}
	}
	return NULL;
}

/* A database that is down costs one connection attempt, however many steps
 * of the gate (baseline, store, comparison) ask for it. */
static void test_store_connects_once(void **state)
{
	struct refuser r = { .fd = socket(AF_INET, SOCK_STREAM, 0) };
	struct sockaddr_in a = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t len = sizeof(a);
	struct db_options opts = DB_OPTIONS_INIT;
	struct db_store *s = NULL;
	struct baseline_source src;
	struct gate_store store;
	struct err e1 = ERR_INIT, e2 = ERR_INIT, e3 = ERR_INIT;
	struct db *db = NULL;
	pthread_t th;
	char *url;

	(void)state;
	assert_true(r.fd >= 0);
	assert_int_equal(bind(r.fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(r.fd, 8), 0);
	assert_int_equal(getsockname(r.fd, (struct sockaddr *)&a, &len), 0);
	r.port = ntohs(a.sin_port);
	assert_int_equal(pthread_create(&th, NULL, refuse, &r), 0);
	/* No SSL or GSS negotiation: one TCP connection per attempt. */
	url = xasprintf("postgresql://u@127.0.0.1:%d/d?sslmode=disable&gssencmode=disable", r.port);
	opts.url = url;
	assert_int_equal(db_store_open(&s, &opts, &e1), 0);
	db_store_baseline_source(s, &src);
	db_store_gate_store(s, &store);
	assert_int_equal(src.open(src.arg, &e1), ERR_INFRA);
	assert_int_equal(store.open(store.arg, &e2), ERR_INFRA);
	assert_int_equal(db_store_connect(s, &db, &e3), ERR_INFRA);
	assert_null(db);
	/* Every step hears the first attempt's reason. */
	assert_string_equal(e1.msg, e2.msg);
	assert_string_equal(e1.msg, e3.msg);
	assert_non_null(strstr(e1.msg, "127.0.0.1"));
	r.stop = 1;
	pthread_join(th, NULL);
	assert_int_equal(r.accepted, 1);
	db_store_free(s);
	free(url);
	close(r.fd);
}

/* The machine's record comes back from PostgreSQL as float8[] text: exactly
 * n finite numbers, or nothing kept. */
static void test_float8_array(void **state)
{
	static const struct { const char *text; size_t n; } bad[] = {
		{ "", 1 }, { "{", 1 }, { "0.5", 1 }, { "{}", 1 }, { "{0.5", 1 },
		{ "{0.5}", 2 }, { "{0.5,0.25,1}", 2 }, { "{0.5,}", 2 }, { "{0.5,x}", 2 },
		{ "{NULL}", 1 }, { "{NaN}", 1 }, { "{Infinity,1}", 2 }, { "{0.5;1}", 2 },
		{ "{0.5} ", 1 }, { "{0.5}{1}", 1 }, { "x{0.5}", 1 },
	};
	double *v;

	(void)state;
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		v = db_float8_array(bad[i].text, bad[i].n);
		if (v)
			fail_msg("'%s' (n %zu) parsed", bad[i].text, bad[i].n);
	}
	v = db_float8_array("{0.01,2.5e-05,1}", 3);
	assert_non_null(v);
	assert_true(v[0] == 0.01 && v[1] == 2.5e-05 && v[2] == 1);
	free(v);
	v = db_float8_array("{0.6931471805599453}", 1);
	assert_non_null(v);
	assert_true(v[0] == 0.6931471805599453);
	free(v);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_url_redact),
		cmocka_unit_test(test_float8_array),
		cmocka_unit_test(test_scrub),
		cmocka_unit_test(test_connection_order),
		cmocka_unit_test(test_home),
		cmocka_unit_test(test_spool),
		cmocka_unit_test(test_open_errors_hide_password),
		cmocka_unit_test(test_store_connects_once),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
