/*
 * Unit tests for core/context.c: a run document stamped inside a temporary
 * git repository under GitHub Actions variables, and outside any repository;
 * the stamped document survives a JSON round trip through core/rundoc.c.
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

#include "../../core/context.h"
#include "../../core/util.h"

static char tmp[] = "/tmp/perfgate-context.XXXXXX";

static int setup(void **state)
{
	char *cmd;
	int rc;

	(void)state;
	if (!mkdtemp(tmp))
		return -1;
	setenv("HOME", tmp, 1);
	setenv("GIT_CONFIG_NOSYSTEM", "1", 1);
	setenv("GIT_CEILING_DIRECTORIES", tmp, 1);
	setenv("PERFGATE_NVIDIA_SMI", "", 1);
	cmd = xasprintf("cd %s && mkdir norepo && git init -q -b main repo && cd repo && "
			"git -c user.name=T -c user.email=t@example.com commit -q --allow-empty -m first "
			">/dev/null 2>&1", tmp);
	rc = system(cmd);
	free(cmd);
	return rc == 0 ? 0 : -1;
}

static int teardown(void **state)
{
	char *cmd = xasprintf("rm -rf %s", tmp);

	(void)state;
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", tmp);
	free(cmd);
	return 0;
}

static void test_stamp_in_repo(void **state)
{
	struct rundoc *rd = rundoc_new(), *back = NULL;
	struct errlist notices = ERRLIST_INIT;
	struct err err = ERR_INIT;
	char *dir = xasprintf("%s/repo", tmp), *json;
	char *head_cmd = xasprintf("git -C %s rev-parse HEAD", dir);
	char head[64] = "";
	FILE *f = popen(head_cmd, "r");

	(void)state;
	assert_non_null(fgets(head, sizeof(head), f));
	pclose(f);
	head[strcspn(head, "\n")] = '\0';

	setenv("GITHUB_ACTIONS", "true", 1);
	setenv("GITHUB_EVENT_NAME", "push", 1);
	unsetenv("GITHUB_EVENT_PATH");
	rd->suite = xstrdup("s");
	assert_int_equal(context_stamp(rd, dir, &notices, &err), 0);
	assert_int_equal(notices.n, 0);
	assert_int_equal(strlen(rd->run_id), 36);
	assert_string_equal(rd->git.commit, head);
	assert_string_equal(rd->git.branch, "main");
	assert_string_equal(rd->git.subject, "first");
	assert_string_equal(rd->ci.provider, "github");
	assert_string_equal(rd->ci.event, "push");
	assert_int_equal(strlen(rd->fingerprint), 64);
	assert_string_equal(cJSON_GetObjectItem(rd->machine, "fingerprint")->valuestring, rd->fingerprint);
	assert_non_null(rd->started_at);

	/* Stamping again keeps the run id and start time, refreshes the rest. */
	{
		char *id = xstrdup(rd->run_id);
		unsetenv("GITHUB_ACTIONS");
		assert_int_equal(context_stamp(rd, dir, &notices, &err), 0);
		assert_string_equal(rd->run_id, id);
		assert_string_equal(rd->ci.provider, "local");
		free(id);
	}

	/* Round trip through the run document's JSON. */
	json = rundoc_to_string(rd);
	assert_int_equal(rundoc_parse(&back, json, &err), 0);
	assert_string_equal(back->git.commit, head);
	assert_string_equal(back->fingerprint, rd->fingerprint);
	assert_string_equal(back->ci.provider, "local");
	assert_non_null(cJSON_GetObjectItem(back->machine, "cpu"));
	rundoc_free(back);
	free(json);
	rundoc_free(rd);
	errlist_release(&notices);
	unsetenv("GITHUB_EVENT_NAME");
	free(dir);
	free(head_cmd);
}

static void test_stamp_outside_repo(void **state)
{
	struct rundoc *rd = rundoc_new();
	struct errlist notices = ERRLIST_INIT;
	struct err err = ERR_INIT;
	char *dir = xasprintf("%s/norepo", tmp);
	char *want = xasprintf("'%s' is not inside a git repository: the run has no commit, so no baseline "
			       "is chosen for it and it never becomes one (run inside the checkout, or --repo DIR)", dir);

	(void)state;
	unsetenv("GITHUB_ACTIONS");
	unsetenv("GITLAB_CI");
	assert_int_equal(context_stamp(rd, dir, &notices, &err), 0);
	assert_null(rd->git.commit);
	assert_int_equal(notices.n, 1);
	assert_string_equal(notices.msgs[0], want);
	assert_string_equal(rd->ci.provider, "local");
	assert_non_null(rd->fingerprint);
	rundoc_free(rd);
	errlist_release(&notices);
	free(dir);
	free(want);
}

static void test_gpu_notice(void **state)
{
	struct rundoc *rd = rundoc_new();
	struct errlist notices = ERRLIST_INIT;
	struct err err = ERR_INIT;
	char *dir = xasprintf("%s/repo", tmp);

	(void)state;
	setenv("PERFGATE_NVIDIA_SMI", "/nonexistent/nvidia-smi", 1);
	assert_int_equal(context_stamp(rd, dir, &notices, &err), 0);
	assert_int_equal(notices.n, 1);
	assert_true(strncmp(notices.msgs[0], "no GPU facts: ", 14) == 0);
	setenv("PERFGATE_NVIDIA_SMI", "", 1);
	rundoc_free(rd);
	errlist_release(&notices);
	free(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_stamp_in_repo),
		cmocka_unit_test(test_stamp_outside_repo),
		cmocka_unit_test(test_gpu_notice),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
