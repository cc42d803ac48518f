/*
 * Unit tests for core/perfcount.c without valgrind or counters: the
 * valgrind command line, and summing cachegrind's per-process output files
 * (format: "events: Ir" ... "summary: N", one file per traced process).
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

#include "../../core/perfcount.h"
#include "../../core/util.h"
#include "../../core/util.h"

static void put(const char *dir, const char *name, const char *text)
{
	char *path = xasprintf("%s/%s", dir, name);
	struct err err = ERR_INIT;
	assert_int_equal(file_write_atomic(path, text, strlen(text), &err), 0);
	free(path);
}

static void test_valgrind_argv(void **state)
{
	static const char *const argv[] = { "/bin/sh", "-c", "echo hi", NULL };
	char **v = perfcount_valgrind_argv(argv, "/tmp/d");
	size_t n = 0;

	(void)state;
	while (v[n])
		n++;
	assert_string_equal(v[0], "valgrind");
	assert_string_equal(v[1], "--tool=cachegrind");
	/* every child is followed, one output file per process in the folder */
	assert_int_equal(n, 11);
	assert_string_equal(v[4], "--trace-children=yes");
	assert_string_equal(v[6], "--cachegrind-out-file=/tmp/d/cachegrind.out.%p");
	assert_string_equal(v[7], "--");
	assert_string_equal(v[8], "/bin/sh");
	assert_string_equal(v[10], "echo hi");
	assert_null(v[11]);
	argv_free(v);
}

static void test_collect(void **state)
{
	char dir[] = "/tmp/perfgate-test-pc-XXXXXX";
	struct err err = ERR_INIT;
	uint64_t total = 0;

	(void)state;
	assert_non_null(mkdtemp(dir));
	put(dir, "cachegrind.out.100", "desc: --cache-sim=no\ncmd: sh -c true\nevents: Ir\nfl=x\n1 5\nsummary: 1000000\n");
	put(dir, "cachegrind.out.101", "events: Ir\nsummary: 234\n");
	put(dir, "unrelated.txt", "summary: 99\n");
	assert_int_equal(perfcount_valgrind_collect(dir, &total, &err), 0);
	assert_true(total == 1000234);
	/* The files are consumed: a second collection finds none. */
	assert_int_equal(perfcount_valgrind_collect(dir, &total, &err), ERR_RUN);
	assert_string_equal(err.msg, "valgrind wrote no cachegrind output (is the command a static or setuid program?)");

	put(dir, "cachegrind.out.7", "events: Ir\n");
	assert_int_equal(perfcount_valgrind_collect(dir, &total, &err), ERR_RUN);
	{
		char *want = xasprintf("cachegrind wrote no summary to '%s/cachegrind.out.7'", dir);
		assert_string_equal(err.msg, want);
		free(want);
	}
	put(dir, "cachegrind.out.8", "events: Ir\nsummary: lots\n");
	assert_int_equal(perfcount_valgrind_collect(dir, &total, &err), ERR_RUN);
	assert_non_null(strstr(err.msg, "cannot read cachegrind's summary"));
	{
		char *other = xasprintf("%s/unrelated.txt", dir);
		unlink(other);
		free(other);
	}
	assert_int_equal(rmdir(dir), 0);
}

static void test_forced_valgrind(void **state)
{
	struct perfcount *pc = NULL;
	struct err err = ERR_INIT;
	char *vg = NULL;

	(void)state;
	setenv("PERFGATE_COUNTER", "valgrind", 1);
	/* cycles cannot come from valgrind */
	assert_int_equal(perfcount_open(&pc, true, &err), ERR_RUN);
	assert_null(pc);
	assert_non_null(strstr(err.msg, "\"cycles\" needs hardware counters"));
	vg = getenv("PATH") ? xstrdup(getenv("PATH")) : NULL;
	/* no valgrind on PATH: says what to install */
	setenv("PATH", "/nonexistent", 1);
	assert_int_equal(perfcount_open(&pc, false, &err), ERR_RUN);
	assert_string_equal(err.msg, "\"instructions\" needs hardware counters or valgrind; this machine has neither "
				     "(install the Debian package valgrind)");
	if (vg)
		setenv("PATH", vg, 1);
	free(vg);
	unsetenv("PERFGATE_COUNTER");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_valgrind_argv),
		cmocka_unit_test(test_collect),
		cmocka_unit_test(test_forced_valgrind),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
