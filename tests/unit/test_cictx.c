/*
 * Unit tests for core/cictx.c: GitHub Actions and GitLab CI contexts from
 * their environment variables and event files (tests/fixtures/github/,
 * trimmed copies of real webhook payloads), and "local" otherwise.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdbool.h>
#include <stdlib.h>
#include <string.h>

#include "../../core/cictx.h"
#include "../../core/util.h"

#define FIX "tests/fixtures/github/"

static const char *const all_vars[] = {
	"GITHUB_ACTIONS", "GITHUB_SERVER_URL", "GITHUB_REPOSITORY", "GITHUB_RUN_ID",
	"GITHUB_RUN_ATTEMPT", "GITHUB_EVENT_NAME", "GITHUB_EVENT_PATH", "GITHUB_REF",
	"GITHUB_BASE_REF", "GITHUB_HEAD_REF", "GITLAB_CI", "CI_JOB_URL", "CI_PIPELINE_SOURCE",
	"CI_MERGE_REQUEST_IID", "CI_MERGE_REQUEST_TARGET_BRANCH_NAME",
	"CI_MERGE_REQUEST_SOURCE_PROJECT_ID", "CI_MERGE_REQUEST_PROJECT_ID", "CI",
};

struct ci_case {
	const char *name;
	const char *env[12];     /* "NAME=value", NULL-terminated */
	const char *provider;
	const char *job_url;     /* NULL: none expected */
	const char *event;
	long pr;
	const char *base_branch;
	bool fork;
};

static const struct ci_case cases[] = {
	{ "nothing set", { NULL }, "local", NULL, NULL, 0, NULL, false },
	{ "generic CI=true is local", { "CI=true", NULL }, "local", NULL, NULL, 0, NULL, false },
	{ "GITHUB_ACTIONS not true", { "GITHUB_ACTIONS=false", "GITHUB_RUN_ID=1", NULL },
	  "local", NULL, NULL, 0, NULL, false },
	{ "github push",
	  { "GITHUB_ACTIONS=true", "GITHUB_SERVER_URL=https://github.com",
	    "GITHUB_REPOSITORY=acme/inference", "GITHUB_RUN_ID=7100200300", "GITHUB_RUN_ATTEMPT=1",
	    "GITHUB_EVENT_NAME=push", "GITHUB_EVENT_PATH=" FIX "push.json", "GITHUB_REF=refs/heads/main",
	    "GITHUB_BASE_REF=", NULL },
	  "github", "https://github.com/acme/inference/actions/runs/7100200300", "push", 0, NULL, false },
	{ "github pull request, same repository",
	  { "GITHUB_ACTIONS=true", "GITHUB_SERVER_URL=https://github.com",
	    "GITHUB_REPOSITORY=acme/inference", "GITHUB_RUN_ID=42", "GITHUB_RUN_ATTEMPT=3",
	    "GITHUB_EVENT_NAME=pull_request", "GITHUB_EVENT_PATH=" FIX "pull_request.json",
	    "GITHUB_REF=refs/pull/57/merge", "GITHUB_BASE_REF=main", "GITHUB_HEAD_REF=faster-tokenizer", NULL },
	  "github", "https://github.com/acme/inference/actions/runs/42/attempts/3", "pull_request", 57,
	  "main", false },
	{ "github pull request from a fork",
	  { "GITHUB_ACTIONS=true", "GITHUB_SERVER_URL=https://ghe.example.com",
	    "GITHUB_REPOSITORY=acme/inference", "GITHUB_RUN_ID=43",
	    "GITHUB_EVENT_NAME=pull_request_target", "GITHUB_EVENT_PATH=" FIX "pull_request_fork.json",
	    NULL },
	  "github", "https://ghe.example.com/acme/inference/actions/runs/43", "pull_request_target", 58,
	  "release-2", true },
	{ "github pull request whose fork was deleted",
	  { "GITHUB_ACTIONS=true", "GITHUB_EVENT_NAME=pull_request",
	    "GITHUB_EVENT_PATH=" FIX "pull_request_deleted_fork.json", NULL },
	  "github", NULL, "pull_request", 59, "main", true },
	{ "github pull request number from GITHUB_REF only",
	  { "GITHUB_ACTIONS=true", "GITHUB_EVENT_NAME=pull_request", "GITHUB_REF=refs/pull/1234/merge",
	    "GITHUB_BASE_REF=develop", "GITHUB_EVENT_PATH=/nonexistent/event.json", NULL },
	  "github", NULL, "pull_request", 1234, "develop", false },
	{ "github malformed GITHUB_REF",
	  { "GITHUB_ACTIONS=true", "GITHUB_REF=refs/pull/abc/merge", NULL },
	  "github", NULL, NULL, 0, NULL, false },
	{ "gitlab branch pipeline",
	  { "GITLAB_CI=true", "CI_JOB_URL=https://gitlab.com/acme/inference/-/jobs/5512",
	    "CI_PIPELINE_SOURCE=push", NULL },
	  "gitlab", "https://gitlab.com/acme/inference/-/jobs/5512", "push", 0, NULL, false },
	{ "gitlab merge request, same project",
	  { "GITLAB_CI=true", "CI_JOB_URL=https://gitlab.com/acme/inference/-/jobs/5513",
	    "CI_PIPELINE_SOURCE=merge_request_event", "CI_MERGE_REQUEST_IID=17",
	    "CI_MERGE_REQUEST_TARGET_BRANCH_NAME=main", "CI_MERGE_REQUEST_SOURCE_PROJECT_ID=100",
	    "CI_MERGE_REQUEST_PROJECT_ID=100", NULL },
	  "gitlab", "https://gitlab.com/acme/inference/-/jobs/5513", "merge_request_event", 17, "main",
	  false },
	{ "gitlab merge request from a fork",
	  { "GITLAB_CI=true", "CI_PIPELINE_SOURCE=merge_request_event", "CI_MERGE_REQUEST_IID=18",
	    "CI_MERGE_REQUEST_TARGET_BRANCH_NAME=stable", "CI_MERGE_REQUEST_SOURCE_PROJECT_ID=205",
	    "CI_MERGE_REQUEST_PROJECT_ID=100", NULL },
	  "gitlab", NULL, "merge_request_event", 18, "stable", true },
	{ "gitlab bad IID",
	  { "GITLAB_CI=true", "CI_MERGE_REQUEST_IID=-3", NULL },
	  "gitlab", NULL, NULL, 0, NULL, false },
};

static void check_str(const char *what, const char *got, const char *want, const char *name)
{
	if (!want) {
		if (got)
			print_error("%s: %s: expected none, got '%s'\n", name, what, got);
		assert_null(got);
		return;
	}
	if (!got || strcmp(got, want) != 0)
		print_error("%s: %s: expected '%s', got '%s'\n", name, what, want, got ? got : "(null)");
	assert_non_null(got);
	assert_string_equal(got, want);
}

static void test_cases(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		const struct ci_case *c = &cases[i];
		struct rd_ci ci;

		for (size_t j = 0; j < ARRAY_SIZE(all_vars); j++)
			unsetenv(all_vars[j]);
		for (size_t j = 0; c->env[j]; j++) {
			const char *eq = strchr(c->env[j], '=');
			char *name = xstrndup(c->env[j], (size_t)(eq - c->env[j]));
			setenv(name, eq + 1, 1);
			free(name);
		}
		cictx_detect(&ci);
		check_str("provider", ci.provider, c->provider, c->name);
		check_str("job_url", ci.job_url, c->job_url, c->name);
		check_str("event", ci.event, c->event, c->name);
		check_str("base_branch", ci.base_branch, c->base_branch, c->name);
		if (ci.pr != c->pr || ci.fork != c->fork)
			print_error("%s: pr %ld fork %d\n", c->name, ci.pr, ci.fork);
		assert_int_equal(ci.pr, c->pr);
		assert_int_equal(ci.fork, c->fork);
		cictx_release(&ci);
		assert_null(ci.provider);
	}
}

/* Which recorded contexts may become baselines (issue 19: a pull-request
 * event without a number, GitLab's merge_request_event without an iid, an
 * unknown or missing event were treated as branch runs). */
static void test_may_be_baseline(void **state)
{
	static const struct {
		const char *provider, *event;
		long pr;
		bool fork, want;
	} rows[] = {
		{ "local", NULL, 0, false, true },
		{ NULL, NULL, 0, false, true },
		{ "local", NULL, 3, false, false },
		{ "github", "push", 0, false, true },
		{ "github", "schedule", 0, false, true },
		{ "github", "workflow_dispatch", 0, false, true },
		{ "github", "pull_request", 0, false, false },
		{ "github", "pull_request_target", 0, false, false },
		{ "github", "pull_request", 12, false, false },
		{ "github", "push", 12, false, false },
		{ "github", "push", 0, true, false },
		{ "github", "merge_group", 0, false, false },
		{ "github", NULL, 0, false, false },
		{ "gitlab", "push", 0, false, true },
		{ "gitlab", "schedule", 0, false, true },
		{ "gitlab", "web", 0, false, true },
		{ "gitlab", "merge_request_event", 0, false, false },
		{ "gitlab", "external_pull_request_event", 0, false, false },
		{ "gitlab", "push", 0, true, false },
		{ "gitlab", NULL, 0, false, false },
	};
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(rows); i++) {
		struct rd_ci ci = { .pr = rows[i].pr, .fork = rows[i].fork };
		const char *why = NULL;
		bool got;

		ci.provider = rows[i].provider ? xstrdup(rows[i].provider) : NULL;
		ci.event = rows[i].event ? xstrdup(rows[i].event) : NULL;
		got = cictx_may_be_baseline(&ci, &why);
		cictx_release(&ci);

		if (got != rows[i].want)
			print_error("case %zu (%s %s pr %ld fork %d): got %d\n", i, rows[i].provider ? rows[i].provider : "-",
				    rows[i].event ? rows[i].event : "-", rows[i].pr, rows[i].fork, got);
		assert_int_equal(got, rows[i].want);
		if (got)
			assert_null(why);
		else
			assert_non_null(why);
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cases),
		cmocka_unit_test(test_may_be_baseline),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
