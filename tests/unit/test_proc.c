/* Unit tests for core/proc.c: exit codes, capture, timeouts that kill the
 * whole process group, environment overlay, working folder, stdin data. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <string.h>
#include <unistd.h>

#include "../../core/proc.h"
#include "../../core/util.h"

static int run_sh(const char *script, double timeout, struct proc_result *res)
{
	const char *argv[] = { "/bin/sh", "-c", script, NULL };
	struct proc_options o = PROC_OPTIONS_INIT;
	struct err err = ERR_INIT;

	o.argv = argv;
	o.out = PROC_OUT_CAPTURE;
	o.errout = PROC_OUT_CAPTURE;
	o.timeout = timeout;
	return proc_run(&o, res, &err);
}

static void test_exit_and_capture(void **state)
{
	struct proc_result r;

	(void)state;
	assert_int_equal(run_sh("echo out; echo err >&2; exit 7", 0, &r), 0);
	assert_int_equal(r.exit_code, 7);
	assert_int_equal(r.signal, 0);
	assert_false(r.timed_out);
	assert_string_equal(r.out, "out\n");
	assert_string_equal(r.errout, "err\n");
	assert_true(r.wall_ns > 0);
	proc_result_release(&r);
}

static void test_signal_death(void **state)
{
	struct proc_result r;

	(void)state;
	assert_int_equal(run_sh("kill -9 $$", 0, &r), 0);
	assert_int_equal(r.exit_code, -1);
	assert_int_equal(r.signal, SIGKILL);
	proc_result_release(&r);
}

/* A child that forks a grandchild which sleeps forever, holding the pipes
 * open: the timeout must kill the whole group and return promptly. */
static void test_timeout_kills_group(void **state)
{
	struct proc_result r;
	uint64_t t0 = now_ns();

	(void)state;
	assert_int_equal(run_sh("sleep 1000 & echo started; wait", 0.3, &r), 0);
	assert_true(r.timed_out);
	assert_string_equal(r.out, "started\n");
	/* Far below the 1000 s the grandchild would sleep: it was killed. */
	assert_true(now_ns() - t0 < 20ull * 1000000000ull);
	proc_result_release(&r);
}

/* A grandchild that outlives a successful parent must not block the reap. */
static void test_lingering_grandchild(void **state)
{
	struct proc_result r;

	(void)state;
	assert_int_equal(run_sh("(sleep 5 &) ; echo done", 30, &r), 0);
	assert_int_equal(r.exit_code, 0);
	assert_false(r.timed_out);
	assert_string_equal(r.out, "done\n");
	/* the sleep outlived the shell: killed with the tree, and counted */
	assert_int_equal(r.orphans, 1);
	proc_result_release(&r);
}

static void test_secret_names(void **state)
{
	static const struct { const char *name; bool secret; } cases[] = {
		{ "PERFGATE_DATABASE_URL", true }, { "PGPASSWORD", true }, { "GITHUB_TOKEN", true },
		{ "GH_TOKEN", true }, { "GITLAB_TOKEN", true }, { "CI_JOB_TOKEN", true },
		{ "CI_JOB_JWT_V2", true }, { "PERFGATE_GITHUB_TOKEN", true }, { "PERFGATE_GITLAB_TOKEN", true },
		{ "PERFGATE_DATA_TOKEN", true }, { "PERFGATE_X_PASSWORD", true }, { "PERFGATE_SECRET", true },
		{ "ACTIONS_RUNTIME_TOKEN", true },
		{ "PATH", false }, { "HOME", false }, { "PGHOST", false }, { "PERFGATE_HOME", false },
		{ "PERFGATE_DATA_USER", false }, { "MY_TOKEN", false }, { "GITHUB_TOKENS", false },
		{ "PGPASSWORDX", false }, { "PERFGATE_", false },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		if (proc_secret_name(cases[i].name, strlen(cases[i].name)) != cases[i].secret)
			fail_msg("%s: expected %s", cases[i].name, cases[i].secret ? "a secret" : "not a secret");
	}
}

/* A child sees "GITHUB_TOKEN PGPASSWORD" as `out` shows them ("-" unset). */
static void env_seen(const char *const *pass, bool keep, const char *const *overlay, const char *want)
{
	const char *argv[] = { "/bin/sh", "-c", "echo \"${GITHUB_TOKEN--} ${PGPASSWORD--} ${PG_PLAIN--}\"", NULL };
	struct proc_options o = PROC_OPTIONS_INIT;
	struct proc_result r;
	struct err err = ERR_INIT;

	o.argv = argv;
	o.out = PROC_OUT_CAPTURE;
	o.pass_env = pass;
	o.keep_secrets = keep;
	o.env = overlay;
	assert_int_equal(proc_run(&o, &r, &err), 0);
	assert_string_equal(r.out, want);
	proc_result_release(&r);
}

static void test_secrets_scrubbed(void **state)
{
	const char *const pass[] = { "PGPASSWORD", NULL };
	const char *const overlay[] = { "GITHUB_TOKEN=given", NULL };

	(void)state;
	setenv("GITHUB_TOKEN", "tok", 1);
	setenv("PGPASSWORD", "pw", 1);
	setenv("PG_PLAIN", "plain", 1);
	env_seen(NULL, false, NULL, "- - plain\n");
	env_seen(pass, false, NULL, "- pw plain\n");
	env_seen(NULL, true, NULL, "tok pw plain\n");
	/* what the caller sets on purpose (env) is the child's */
	env_seen(NULL, false, overlay, "given - plain\n");
	unsetenv("GITHUB_TOKEN");
	unsetenv("PGPASSWORD");
	unsetenv("PG_PLAIN");
}

static void test_orphans_killed(void **state)
{
	struct proc_result r;
	long esc, bg;

	(void)state;
	/* one escapes the group with setsid, one stays in it; both outlive the shell */
	assert_int_equal(run_sh("setsid sleep 31 & echo $!; sleep 32 & echo $!; sleep 0.05", 30, &r), 0);
	assert_int_equal(r.exit_code, 0);
	assert_int_equal(sscanf(r.out, "%ld %ld", &esc, &bg), 2);
	assert_int_equal(r.orphans, 2);
	assert_int_equal(kill((pid_t)esc, 0), -1);
	assert_int_equal(kill((pid_t)bg, 0), -1);
	proc_result_release(&r);

	/* a setsid child of a command that times out goes with it */
	assert_int_equal(run_sh("setsid sleep 33 & echo $!; sleep 30", 0.3, &r), 0);
	assert_true(r.timed_out);
	assert_int_equal(sscanf(r.out, "%ld", &esc), 1);
	assert_int_equal(r.orphans, 1);
	assert_int_equal(kill((pid_t)esc, 0), -1);
	proc_result_release(&r);
}

/* A `sleep` in a session of its own whose parent has exited (a daemon's
 * double fork), with exactly envp as its environment; its pid. */
static pid_t orphan_sleeper(char *const envp[])
{
	int fds[2];
	pid_t mid, g = -1;

	assert_int_equal(pipe(fds), 0);
	mid = fork();
	assert_true(mid >= 0);
	if (mid == 0) {
		pid_t child = fork();

		if (child == 0) {
			char *const argv[] = { "sleep", "30", NULL };

			setsid();
			execve("/bin/sleep", argv, envp);
			_exit(127);
		}
		_exit(write(fds[1], &child, sizeof(child)) == (ssize_t)sizeof(child) ? 0 : 1);
	}
	close(fds[1]);
	assert_int_equal(read(fds[0], &g, sizeof(g)), (ssize_t)sizeof(g));
	close(fds[0]);
	waitpid(mid, NULL, 0);
	return g;
}

static void test_adopted_with_marker(void **state)
{
	/* PAD lengths that put the marker across the 8 KiB reads of
	 * /proc/PID/environ, right after one, and after a string longer
	 * than a whole read. */
	const size_t pads[] = { 8180, 8187, 20000 };

	(void)state;
	assert_int_equal(prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0), 0);
	for (size_t i = 0; i < sizeof(pads) / sizeof(pads[0]); i++) {
		char *pad = xmalloc(pads[i] + 5), marker[] = "PERFGATE_SERVER=u.7";
		char *const envp[] = { pad, marker, NULL };
		pid_t *pids = NULL, g;
		size_t n = 0;

		memcpy(pad, "PAD=", 4);
		memset(pad + 4, 'x', pads[i]);
		pad[pads[i] + 4] = '\0';
		g = orphan_sleeper(envp);
		/* until it has exec'd sleep with that environment */
		for (int tries = 0; tries < 300 && n == 0; tries++) {
			n = proc_adopted_with("PERFGATE_SERVER=u.7", &pids);
			if (n == 0) {
				free(pids);
				poll(NULL, 0, 10);
			}
		}
		assert_int_equal(n, 1);
		assert_int_equal(pids[0], g);
		free(pids);
		/* whole strings only */
		assert_int_equal(proc_adopted_with("PERFGATE_SERVER=u.", NULL), 0);
		assert_int_equal(proc_adopted_with("PERFGATE_SERVER=u.77", NULL), 0);
		assert_int_equal(proc_adopted_with("ERFGATE_SERVER=u.7", NULL), 0);
		proc_stop_tree(&(struct proc_tree){ .marker = "PERFGATE_SERVER=u.7" }, SIGTERM, 5.0);
		assert_int_equal(kill(g, 0), -1);
		assert_int_equal(proc_adopted_with("PERFGATE_SERVER=u.7", NULL), 0);
		free(pad);
	}
}

/* Orphans adopted since a mark, without any marker (a daemon that
 * rewrote its environment): found by their start, those adopted before
 * the mark left out, and a pid whose start does not match left alone. */
static void test_adopted_since_mark(void **state)
{
	char *const env[] = { "X=1", NULL };
	struct proc_mark m;
	unsigned long long *starts = NULL, wrong;
	pid_t *pids = NULL, old, g;
	struct proc_tree t;
	size_t n = 0;

	(void)state;
	assert_int_equal(prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0), 0);
	old = orphan_sleeper(env);
	poll(NULL, 0, 50);
	proc_mark_now(&m);
	g = orphan_sleeper(env);
	for (int tries = 0; tries < 300 && n == 0; tries++) {
		n = proc_adopted_since(&m, &pids, &starts);
		if (n == 0) {
			free(pids);
			free(starts);
			poll(NULL, 0, 10);
		}
	}
	assert_int_equal(n, 1);
	assert_int_equal(pids[0], g);
	assert_true(starts[0] > 0);
	/* another process's start: not this one, left alone */
	wrong = starts[0] + 1;
	t = (struct proc_tree){ .also = pids, .also_start = &wrong, .n_also = 1 };
	assert_int_equal(proc_tree_running(&t), 0);
	proc_stop_tree(&t, SIGTERM, 0.2);
	assert_int_equal(kill(g, 0), 0);
	/* its own: running, then stopped */
	t.also_start = starts;
	assert_int_equal(proc_tree_running(&t), 1);
	proc_stop_tree(&t, SIGTERM, 5.0);
	assert_int_equal(kill(g, 0), -1);
	assert_int_equal(kill(old, 0), 0); /* adopted before the mark: not the tree's */
	kill(old, SIGKILL);
	waitpid(old, NULL, 0);
	free(pids);
	free(starts);
	proc_mark_release(&m);
}

static void test_keep_descendants(void **state)
{
	const char *argv[] = { "/bin/sh", "-c", "sleep 34 & echo $!", NULL };
	struct proc_options o = PROC_OPTIONS_INIT;
	struct proc_result r;
	struct err err = ERR_INIT;
	long pid;

	(void)state;
	o.argv = argv;
	o.out = PROC_OUT_CAPTURE;
	o.keep_descendants = true;
	assert_int_equal(proc_run(&o, &r, &err), 0);
	assert_int_equal(sscanf(r.out, "%ld", &pid), 1);
	assert_int_equal(r.orphans, 0);
	assert_int_equal(kill((pid_t)pid, 0), 0);
	proc_result_release(&r);
	/* ...and the next child's end does not take it for its own orphan */
	assert_int_equal(run_sh("true", 30, &r), 0);
	assert_int_equal(r.orphans, 0);
	assert_int_equal(kill((pid_t)pid, 0), 0);
	proc_result_release(&r);
	kill((pid_t)pid, SIGKILL);
	waitpid((pid_t)pid, NULL, 0);
}

static void test_env_cwd_stdin(void **state)
{
	const char *argv[] = { "/bin/sh", "-c", "echo \"$PG_TEST_VAR\"; pwd; cat", NULL };
	const char *env[] = { "PG_TEST_VAR=hello world", NULL };
	struct proc_options o = PROC_OPTIONS_INIT;
	struct proc_result r;
	struct err err = ERR_INIT;

	(void)state;
	setenv("PG_TEST_VAR", "old", 1);
	o.argv = argv;
	o.env = env;
	o.cwd = "/tmp";
	o.out = PROC_OUT_CAPTURE;
	o.stdin_data = "from stdin";
	o.stdin_len = strlen("from stdin");
	assert_int_equal(proc_run(&o, &r, &err), 0);
	assert_string_equal(r.out, "hello world\n/tmp\nfrom stdin");
	proc_result_release(&r);
}

static void test_stdin_is_dev_null(void **state)
{
	const char *argv[] = { "/bin/sh", "-c", "cat; echo end", NULL };
	struct proc_options o = PROC_OPTIONS_INIT;
	struct proc_result r;
	struct err err = ERR_INIT;

	(void)state;
	o.argv = argv;
	o.out = PROC_OUT_CAPTURE;
	assert_int_equal(proc_run(&o, &r, &err), 0);
	assert_string_equal(r.out, "end\n");
	proc_result_release(&r);
}

static void test_missing_program(void **state)
{
	const char *argv[] = { "perfgate-no-such-program", NULL };
	struct proc_options o = PROC_OPTIONS_INIT;
	struct proc_result r;
	struct err err = ERR_INIT;

	(void)state;
	o.argv = argv;
	assert_int_equal(proc_run(&o, &r, &err), ERR_RUN);
	assert_true(r.exec_failed);
	assert_string_equal(err.msg, "cannot run 'perfgate-no-such-program': No such file or directory");
}

static void test_fast_path_rusage(void **state)
{
	/* The fast path (no capture, no timeout) still reports exit code and rusage. */
	const char *argv[] = { "/bin/sh", "-c", "exit 3", NULL };
	struct proc_options o = PROC_OPTIONS_INIT;
	struct proc_result r;
	struct err err = ERR_INIT;

	(void)state;
	o.argv = argv;
	assert_int_equal(proc_run(&o, &r, &err), 0);
	assert_int_equal(r.exit_code, 3);
	assert_true(r.max_rss > 0);
	assert_true(r.user >= 0 && r.sys >= 0);
}

static void test_capture_keeps_tail(void **state)
{
	const char *argv[] = { "/bin/sh", "-c", "i=0; while [ $i -lt 3000 ]; do echo line$i; i=$((i+1)); done", NULL };
	struct proc_options o = PROC_OPTIONS_INIT;
	struct proc_result r;
	struct err err = ERR_INIT;
	char *tail;

	(void)state;
	o.argv = argv;
	o.out = PROC_OUT_CAPTURE;
	o.max_capture = 1000;
	assert_int_equal(proc_run(&o, &r, &err), 0);
	assert_int_equal(r.out_len, 1000);
	tail = proc_tail_lines(r.out, r.out_len, 2);
	assert_string_equal(tail, "line2998\nline2999");
	free(tail);
	proc_result_release(&r);
}

static void test_tail_lines(void **state)
{
	char *t;

	(void)state;
	t = proc_tail_lines("a\nb\nc\n\n", 7, 2);
	assert_string_equal(t, "b\nc");
	free(t);
	t = proc_tail_lines("only", 4, 5);
	assert_string_equal(t, "only");
	free(t);
}

static void test_which(void **state)
{
	char *p;

	(void)state;
	p = proc_which("sh");
	assert_non_null(p);
	assert_true(strstr(p, "/sh") != NULL);
	free(p);
	assert_null(proc_which("perfgate-no-such-program"));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_exit_and_capture),
		cmocka_unit_test(test_signal_death),
		cmocka_unit_test(test_timeout_kills_group),
		cmocka_unit_test(test_lingering_grandchild),
		cmocka_unit_test(test_env_cwd_stdin),
		cmocka_unit_test(test_stdin_is_dev_null),
		cmocka_unit_test(test_missing_program),
		cmocka_unit_test(test_fast_path_rusage),
		cmocka_unit_test(test_capture_keeps_tail),
		cmocka_unit_test(test_tail_lines),
		cmocka_unit_test(test_which),
		cmocka_unit_test(test_secret_names),
		cmocka_unit_test(test_secrets_scrubbed),
		cmocka_unit_test(test_orphans_killed),
		cmocka_unit_test(test_keep_descendants),
		cmocka_unit_test(test_adopted_with_marker),
		cmocka_unit_test(test_adopted_since_mark),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
