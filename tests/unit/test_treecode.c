/*
 * Unit tests for core/treecode.c: which benchmarks run the repository's
 * own files, read off a real temporary repository (built with `git`) and
 * a suite file with one benchmark per case.  The expected answers follow
 * from how each case is written (a relative program of the commit, one
 * found in PATH, one named by its absolute path...), never from the code.
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

#include "../../core/treecode.h"
#include "../../core/util.h"

static char tmp[256];
static char *root; /* the repository's work tree, a real path */
static struct suite *suite;
static struct treecode *tree, *tree_built; /* without and with a build command */

static void sh(const char *cmd)
{
	char *full = xasprintf("cd '%s' && { %s\n} >/dev/null 2>&1", tmp, cmd);

	if (system(full) != 0) {
		fprintf(stderr, "command failed: %s\n", cmd);
		fail();
	}
	free(full);
}

/* The suite, with ' for JSON's double quote, % for a single quote and @
 * for the work tree's absolute path. */
static const char *const suite_text =
	"{'suite': 'tc', 'project': 'tc', 'benchmarks': ["
	"{'name': 'script', 'shell': 'sh bench.sh'},"
	"{'name': 'argv-script', 'command': ['sh', 'bench.sh', '--quick']},"
	"{'name': 'relative-program', 'command': ['./bin/run', 'x']},"
	"{'name': 'path-program', 'command': ['run']},"
	"{'name': 'make', 'shell': 'make bench'},"
	"{'name': 'installed', 'command': ['/bin/true']},"
	"{'name': 'untracked', 'shell': './build/bench'},"
	"{'name': 'absolute', 'shell': '@/bin/run'},"
	"{'name': 'absolute-argument', 'shell': 'sh bench.sh --lib=@/build/libx.so'},"
	"{'name': 'absolute-env', 'shell': 'sh bench.sh', 'env': {'PATH': '@/bin:/usr/bin'}},"
	"{'name': 'cd', 'shell': 'cd sub && ./x.sh'},"
	"{'name': 'cd-elsewhere', 'shell': 'cd bin && ./x.sh'},"
	"{'name': 'cd-absolute', 'shell': 'cd @/sub && ./x.sh'},"
	"{'name': 'wrappers', 'shell': 'FOO=1 exec nice -n 5 timeout 10 ./bin/run 2>&1 | tail -1'},"
	"{'name': 'python-module', 'command': ['python3', '-m', 'pkg.mod']},"
	"{'name': 'python-inline', 'command': ['python3', '-c', 'import pkg.mod']},"
	"{'name': 'python-package', 'command': ['python3', '-m', 'pkg']},"
	"{'name': 'shell-inline', 'command': ['bash', '-ec', 'echo go; ./bin/run --fast']},"
	"{'name': 'quoted', 'shell': '%./bin/run% \\\"a b\\\"'},"
	"{'name': 'comment', 'shell': '# ./bin/run\\n/bin/true'},"
	"{'name': 'redirect', 'shell': '/bin/cat < bench.sh > out.txt'},"
	"{'name': 'redirect-first', 'shell': '2>/dev/null >>out.txt ./bin/run'},"
	"{'name': 'outside', 'cwd': '../outside', 'shell': 'sh tool.sh'},"
	"{'name': 'in-cwd', 'cwd': 'sub', 'shell': 'sh x.sh'},"
	"{'name': 'load-no-server', 'http': {'url': 'http://127.0.0.1:9/x'}},"
	"{'name': 'load-server', 'http': {'url': 'http://127.0.0.1:9/x'},"
	" 'server': {'shell': 'exec python3 pkg/mod.py $PORT'}},"
	"{'name': 'load-server-installed', 'http': {'url': 'http://127.0.0.1:9/x'},"
	" 'server': {'command': ['nginx', '-g', 'daemon off;']}},"
	"{'name': 'load-server-absolute-cwd', 'http': {'url': 'http://127.0.0.1:9/x'},"
	" 'server': {'cwd': '@/pkg', 'command': ['python3', 'mod.py']}}"
	"]}";

static int setup(void **state)
{
	struct sb text = SB_INIT;
	struct errlist problems = ERRLIST_INIT;
	struct err err = ERR_INIT;
	char *path;
	FILE *f;

	(void)state;
	setenv("GIT_CONFIG_NOSYSTEM", "1", 1);
	snprintf(tmp, sizeof(tmp), "/tmp/perfgate-treecode.XXXXXX");
	if (!mkdtemp(tmp))
		return -1;
	setenv("HOME", tmp, 1);
	sh("git init -q -b main repo && cd repo && git config user.email t@e && git config user.name t &&"
	   " mkdir bin sub pkg build && echo 'echo hi' > bench.sh && printf '#!/bin/sh\\n' > bin/run &&"
	   " cp bin/run sub/x.sh && touch pkg/__init__.py pkg/mod.py && chmod +x bin/run sub/x.sh &&"
	   " echo build/ > .gitignore && cp bin/run build/bench && git add -A && git commit -qm c1 &&"
	   " mkdir ../outside && touch ../outside/tool.sh");
	path = xasprintf("%s/repo", tmp);
	root = realpath(path, NULL);
	free(path);
	for (const char *c = suite_text; *c; c++)
		if (*c == '@')
			sb_puts(&text, root);
		else
			sb_putc(&text, *c == '\'' ? '"' : *c == '%' ? '\'' : *c);
	path = xasprintf("%s/suite.json", root);
	f = fopen(path, "w");
	if (!f || fputs(text.buf, f) < 0 || fclose(f) != 0)
		return -1;
	sb_release(&text);
	if (suite_load(&suite, path, &problems, &err) != 0) {
		for (size_t i = 0; i < problems.n; i++)
			fprintf(stderr, "%s\n", problems.msgs[i]);
		return -1;
	}
	errlist_release(&problems);
	free(path);
	if (treecode_open(root, false, &tree, &err) != 0 || treecode_open(root, true, &tree_built, &err) != 0) {
		fprintf(stderr, "%s\n", err.msg);
		return -1;
	}
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	treecode_free(tree);
	treecode_free(tree_built);
	suite_free(suite);
	free(root);
	sh("rm -rf repo outside bare.git");
	rmdir(tmp);
	return 0;
}

/* Judge benchmark `name`; its answer must be `yes`, and its reason must
 * contain `why`. */
static void judged(const char *name, bool built, bool yes, const char *why)
{
	const struct suite_bench *b = suite_find_bench(suite, name);
	char *got = NULL;
	bool runs;

	assert_non_null(b);
	runs = treecode_runs_tree(built ? tree_built : tree, suite, b, &got);
	if (runs != yes || !strstr(got, why))
		fprintf(stderr, "benchmark '%s': got %s (%s), wanted %s (%s)\n", name, runs ? "yes" : "no", got,
			yes ? "yes" : "no", why);
	assert_int_equal(runs, yes);
	assert_non_null(strstr(got, why));
	free(got);
}

static void test_programs_of_the_tree(void **state)
{
	(void)state;
	judged("script", false, true, "bench.sh");
	judged("argv-script", false, true, "bench.sh");
	judged("relative-program", false, true, "bin/run");
	judged("cd", false, true, "sub/x.sh");
	judged("in-cwd", false, true, "sub/x.sh");
	judged("wrappers", false, true, "bin/run");
	judged("python-module", false, true, "pkg/mod.py");
	judged("python-package", false, true, "pkg");
	judged("shell-inline", false, true, "bin/run");
	judged("quoted", false, true, "bin/run");
	judged("redirect-first", false, true, "bin/run");
}

static void test_programs_elsewhere(void **state)
{
	const char *none = "starts no program or script of the repository";

	(void)state;
	judged("path-program", false, false, none);
	judged("make", false, false, none);
	judged("installed", false, false, none);
	judged("cd-elsewhere", false, false, none);
	judged("python-inline", false, false, none);
	judged("comment", false, false, none);
	judged("redirect", false, false, none);
	judged("outside", false, false, "outside the repository's work tree");
}

/* A word naming the work tree by its absolute path runs the head's files
 * on both sides, whatever else the command does. */
static void test_absolute_paths(void **state)
{
	(void)state;
	judged("absolute", false, false, "by its absolute path");
	judged("absolute-argument", false, false, "/build/libx.so, in the work tree");
	judged("absolute-env", false, false, "/bin, in the work tree");
	judged("cd-absolute", false, false, "/sub, in the work tree");
	judged("load-server-absolute-cwd", false, false, "/pkg, in the work tree");
}

/* A build's output is in the base tree only when --build makes it. */
static void test_build_outputs(void **state)
{
	(void)state;
	judged("untracked", false, false, "build/bench is not in the commit");
	judged("untracked", true, true, "build/bench");
}

static void test_load_tests(void **state)
{
	(void)state;
	judged("load-no-server", false, false, "without a \"server\"");
	judged("load-server", false, true, "pkg/mod.py");
	judged("load-server-installed", false, false, "starts no program or script of the repository");
}

/* Outside a work tree there is nothing to judge against. */
static void test_outside_a_repository(void **state)
{
	char *dir = xasprintf("%s/outside", tmp);
	struct treecode *t = (struct treecode *)&t; /* not NULL: treecode_open must clear it */
	struct err err = ERR_INIT;

	(void)state;
	setenv("GIT_CEILING_DIRECTORIES", tmp, 1); /* no repository above tmp counts */
	assert_int_equal(treecode_open(dir, false, &t, &err), ERR_NOTFOUND);
	assert_null(t);
	assert_non_null(strstr(err.msg, "not inside a git repository"));
	unsetenv("GIT_CEILING_DIRECTORIES");
	free(dir);
	/* a bare repository has no work tree either */
	sh("git init -q --bare bare.git");
	dir = xasprintf("%s/bare.git", tmp);
	assert_int_equal(treecode_open(dir, false, &t, &err), ERR_NOTFOUND);
	assert_null(t);
	assert_non_null(strstr(err.msg, "is bare: it has no work tree"));
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_programs_of_the_tree),
		cmocka_unit_test(test_programs_elsewhere),
		cmocka_unit_test(test_absolute_paths),
		cmocka_unit_test(test_build_outputs),
		cmocka_unit_test(test_load_tests),
		cmocka_unit_test(test_outside_a_repository),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
