/*
 * Unit tests for core/forge.c against tests/servers/forge_mock.py, a
 * loopback server that speaks the GitHub and GitLab REST endpoints perfgate
 * uses (authentication, Link and X-Next-Page paging, 401/403/429 with
 * Retry-After).  Environment detection is tested without a server.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "../../core/forge.h"
#include "../../core/proc.h"
#include "../../core/util.h"

#define TOKEN "ghp_SECRET_TOKEN_123"
#define RO_TOKEN "ghs_READONLY_456"

static pid_t server;
static int port;
static char dir[64];

static size_t collect(char *d, size_t s, size_t n, void *arg)
{
	sb_add(arg, d, s * n);
	return s * n;
}

/* A control request to the mock; returns the parsed answer (caller frees). */
static cJSON *ctl(const char *method, const char *path, const char *json)
{
	struct sb body = SB_INIT;
	char url[256];
	CURL *c = curl_easy_init();
	cJSON *res;

	snprintf(url, sizeof(url), "http://127.0.0.1:%d%s", port, path);
	curl_easy_setopt(c, CURLOPT_URL, url);
	curl_easy_setopt(c, CURLOPT_CUSTOMREQUEST, method);
	curl_easy_setopt(c, CURLOPT_WRITEFUNCTION, collect);
	curl_easy_setopt(c, CURLOPT_WRITEDATA, &body);
	if (json)
		curl_easy_setopt(c, CURLOPT_POSTFIELDS, json);
	assert_int_equal(curl_easy_perform(c), CURLE_OK);
	curl_easy_cleanup(c);
	res = cJSON_Parse(sb_str(&body));
	sb_release(&body);
	return res;
}

static int start_server(void **state)
{
	char portfile[128], *text = NULL;
	const char *argv[] = { "python3", "tests/servers/forge_mock.py", "--token", TOKEN,
			       "--readonly-token", RO_TOKEN, "--port-file", portfile,
			       "--lifetime", "120", NULL };
	struct proc_options o = PROC_OPTIONS_INIT;
	struct err err = ERR_INIT;

	(void)state;
	snprintf(dir, sizeof(dir), "/tmp/perfgate-forge.XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(portfile, sizeof(portfile), "%s/port", dir);
	o.argv = argv;
	if (proc_spawn(&o, &server, &err) != 0)
		return -1;
	for (int i = 0; i < 500 && file_read(portfile, &text, NULL, &err) != 0; i++)
		usleep(20000);
	if (!text)
		return -1;
	port = (int)strtol(text, NULL, 10);
	free(text);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	return port > 0 ? 0 : -1;
}

static int stop_server(void **state)
{
	char path[128];

	(void)state;
	proc_kill_group(server, SIGTERM, 2.0);
	waitpid(server, NULL, 0);
	snprintf(path, sizeof(path), "%s/port", dir);
	unlink(path);
	rmdir(dir);
	return 0;
}

static struct forge_target github_target(const char *repo, long pr, const char *token)
{
	struct forge_target t;

	memset(&t, 0, sizeof(t));
	t.kind = FORGE_GITHUB;
	t.api_url = xasprintf("http://127.0.0.1:%d", port);
	t.repo = xstrdup(repo);
	t.number = pr;
	t.token = xstrdup(token);
	return t;
}

static struct forge_target gitlab_target(const char *project, long iid, const char *token)
{
	struct forge_target t;

	memset(&t, 0, sizeof(t));
	t.kind = FORGE_GITLAB;
	t.api_url = xasprintf("http://127.0.0.1:%d/api/v4", port);
	t.repo = xstrdup(project);
	t.number = iid;
	t.token = xstrdup(token);
	return t;
}

static const struct forge_options fast = { 4, 5.0, 2.0, 0.05 };

/* Comments the mock holds for one pull request. */
static cJSON *comments(cJSON *state, const char *forge, const char *key)
{
	return cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(state, forge), key);
}

static int count_marked(cJSON *list, const char *marker)
{
	const cJSON *c;
	int n = 0;

	cJSON_ArrayForEach(c, list) {
		const cJSON *b = cJSON_GetObjectItemCaseSensitive(c, "body");
		if (cJSON_IsString(b) && strstr(b->valuestring, marker))
			n++;
	}
	return n;
}

static void test_github_create_then_update(void **state)
{
	struct forge_target t = github_target("acme/infer", 7, TOKEN);
	char *marker = forge_marker("inference");
	char *body1 = xasprintf("%s\nfirst report", marker);
	char *body2 = xasprintf("%s\nsecond report", marker);
	enum forge_outcome out;
	struct err err = ERR_INIT;
	cJSON *st, *list;

	(void)state;
	assert_int_equal(forge_upsert_comment(&t, marker, body1, &fast, &out, &err), 0);
	assert_int_equal(out, FORGE_CREATED);
	assert_int_equal(forge_upsert_comment(&t, marker, body2, &fast, &out, &err), 0);
	assert_int_equal(out, FORGE_UPDATED);
	st = ctl("GET", "/_state", NULL);
	list = comments(st, "github", "acme/infer#7");
	assert_int_equal(cJSON_GetArraySize(list), 1);
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetArrayItem(list, 0), "body")->valuestring, body2);
	cJSON_Delete(st);
	free(marker);
	free(body1);
	free(body2);
	forge_target_release(&t);
}

/* 150 unrelated comments first: the marker is found on page 2 of 100. */
static void test_github_pages_through_150(void **state)
{
	struct forge_target t = github_target("acme/paged", 9, TOKEN);
	char *marker = forge_marker("big");
	char *body = xasprintf("%s\nreport", marker);
	enum forge_outcome out;
	struct err err = ERR_INIT;
	cJSON *st, *list, *log, *e;
	int list_gets = 0;

	(void)state;
	cJSON_Delete(ctl("POST", "/_seed", "{\"github\": {\"acme/paged#9\": 150}}"));
	assert_int_equal(forge_upsert_comment(&t, marker, body, &fast, &out, &err), 0);
	assert_int_equal(out, FORGE_CREATED);
	assert_int_equal(forge_upsert_comment(&t, marker, body, &fast, &out, &err), 0);
	assert_int_equal(out, FORGE_UPDATED);
	st = ctl("GET", "/_state", NULL);
	list = comments(st, "github", "acme/paged#9");
	assert_int_equal(cJSON_GetArraySize(list), 151);
	assert_int_equal(count_marked(list, marker), 1);
	log = cJSON_GetObjectItem(st, "log");
	cJSON_ArrayForEach(e, log) {
		const char *p = cJSON_GetObjectItem(e, "path")->valuestring;
		if (strstr(p, "/repos/acme/paged/issues/9/comments") &&
		    strcmp(cJSON_GetObjectItem(e, "method")->valuestring, "GET") == 0)
			list_gets++;
	}
	/* Two pages for the first search (no marker yet), two for the second. */
	assert_int_equal(list_gets, 4);
	cJSON_Delete(st);
	free(marker);
	free(body);
	forge_target_release(&t);
}

static void test_github_429_is_retried(void **state)
{
	struct forge_target t = github_target("acme/busy", 3, TOKEN);
	char *marker = forge_marker("s");
	enum forge_outcome out;
	struct err err = ERR_INIT;
	cJSON *st;

	(void)state;
	cJSON_Delete(ctl("POST", "/_faults",
			 "{\"queue\": [{\"status\": 429, \"retry_after\": 0}, {\"status\": 502}]}"));
	assert_int_equal(forge_upsert_comment(&t, marker, marker, &fast, &out, &err), 0);
	assert_int_equal(out, FORGE_CREATED);
	st = ctl("GET", "/_state", NULL);
	assert_int_equal(cJSON_GetArraySize(comments(st, "github", "acme/busy#3")), 1);
	cJSON_Delete(st);
	free(marker);
	forge_target_release(&t);
}

static void test_github_gives_up_after_retries(void **state)
{
	struct forge_target t = github_target("acme/down", 4, TOKEN);
	char *marker = forge_marker("s");
	enum forge_outcome out;
	struct err err = ERR_INIT;

	(void)state;
	cJSON_Delete(ctl("POST", "/_faults",
			 "{\"queue\": [{\"status\": 503}, {\"status\": 503}, {\"status\": 503}, {\"status\": 503}]}"));
	assert_int_equal(forge_upsert_comment(&t, marker, marker, &fast, &out, &err), ERR_INFRA);
	assert_string_equal(err.msg, "GET /repos/acme/down/issues/4/comments: HTTP 503");
	free(marker);
	forge_target_release(&t);
}

static void test_github_401_not_retried_token_hidden(void **state)
{
	struct forge_target t = github_target("acme/infer", 7, "wrong-token-XYZ");
	char *marker = forge_marker("s");
	enum forge_outcome out;
	struct err err = ERR_INIT;
	cJSON *st, *e;
	int n401 = 0;

	(void)state;
	assert_int_equal(forge_upsert_comment(&t, marker, marker, &fast, &out, &err), ERR_INFRA);
	assert_non_null(strstr(err.msg, "HTTP 401 (the token was refused)"));
	assert_null(strstr(err.msg, "wrong-token-XYZ"));
	st = ctl("GET", "/_state", NULL);
	cJSON_ArrayForEach(e, cJSON_GetObjectItem(st, "log"))
		n401 += cJSON_GetObjectItem(e, "status")->valueint == 401;
	assert_int_equal(n401, 1);
	cJSON_Delete(st);
	free(marker);
	forge_target_release(&t);
}

static void test_github_readonly_fork(void **state)
{
	struct forge_target t = github_target("acme/fork", 11, RO_TOKEN);
	char *marker = forge_marker("s");
	enum forge_outcome out;
	struct err err = ERR_INIT;

	(void)state;
	t.fork = true;
	assert_int_equal(forge_upsert_comment(&t, marker, marker, &fast, &out, &err), 0);
	assert_int_equal(out, FORGE_READONLY);
	free(marker);
	forge_target_release(&t);
}

static void test_github_timeout_retried(void **state)
{
	struct forge_target t = github_target("acme/slow", 5, TOKEN);
	struct forge_options o = { 3, 0.5, 1.0, 0.05 };
	char *marker = forge_marker("s");
	enum forge_outcome out;
	struct err err = ERR_INIT;

	(void)state;
	cJSON_Delete(ctl("POST", "/_faults", "{\"queue\": [{\"delay\": 1.5}]}"));
	assert_int_equal(forge_upsert_comment(&t, marker, marker, &o, &out, &err), 0);
	assert_int_equal(out, FORGE_CREATED);
	free(marker);
	forge_target_release(&t);
}

static void test_gitlab_create_update_paging(void **state)
{
	struct forge_target t = gitlab_target("group/project", 42, TOKEN);
	char *marker = forge_marker("inference");
	char *body = xasprintf("%s\nnote", marker);
	enum forge_outcome out;
	struct err err = ERR_INIT;
	cJSON *st, *list;

	(void)state;
	cJSON_Delete(ctl("POST", "/_seed", "{\"gitlab\": {\"group/project!42\": 150}}"));
	assert_int_equal(forge_upsert_comment(&t, marker, body, &fast, &out, &err), 0);
	assert_int_equal(out, FORGE_CREATED);
	assert_int_equal(forge_upsert_comment(&t, marker, body, &fast, &out, &err), 0);
	assert_int_equal(out, FORGE_UPDATED);
	st = ctl("GET", "/_state", NULL);
	list = comments(st, "gitlab", "group/project!42");
	assert_int_equal(cJSON_GetArraySize(list), 151);
	assert_int_equal(count_marked(list, marker), 1);
	cJSON_Delete(st);
	free(marker);
	free(body);
	forge_target_release(&t);
}

static void test_gitlab_bad_token(void **state)
{
	struct forge_target t = gitlab_target("7", 1, "nope");
	char *marker = forge_marker("s");
	enum forge_outcome out;
	struct err err = ERR_INIT;

	(void)state;
	assert_int_equal(forge_upsert_comment(&t, marker, marker, &fast, &out, &err), ERR_INFRA);
	assert_string_equal(err.msg,
			    "GET /api/v4/projects/7/merge_requests/1/notes: HTTP 401 (the token was refused)");
	free(marker);
	forge_target_release(&t);
}

static void clear_ci_env(void)
{
	static const char *const vars[] = {
		"GITHUB_ACTIONS", "GITHUB_REPOSITORY", "GITHUB_API_URL", "GITHUB_EVENT_PATH",
		"GITHUB_REF", "PERFGATE_GITHUB_TOKEN", "GITHUB_TOKEN", "GITLAB_CI", "CI_API_V4_URL",
		"CI_PROJECT_ID", "CI_MERGE_REQUEST_IID", "PERFGATE_GITLAB_TOKEN",
		"CI_MERGE_REQUEST_SOURCE_PROJECT_ID", "CI_MERGE_REQUEST_PROJECT_ID",
	};
	for (size_t i = 0; i < ARRAY_SIZE(vars); i++)
		unsetenv(vars[i]);
}

static void test_detect(void **state)
{
	struct forge_target t;
	struct err err = ERR_INIT;
	char path[] = "/tmp/perfgate-event.XXXXXX";
	int fd;
	const char *event = "{\"pull_request\": {\"number\": 17, \"head\": {\"repo\": {\"full_name\": "
			    "\"someone/infer\"}}, \"base\": {\"repo\": {\"full_name\": \"acme/infer\"}}}}";

	(void)state;
	clear_ci_env();
	assert_int_equal(forge_detect(&t, &err), ERR_NOTFOUND);
	forge_target_release(&t);

	fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, event, strlen(event)), (ssize_t)strlen(event));
	close(fd);
	setenv("GITHUB_ACTIONS", "true", 1);
	setenv("GITHUB_REPOSITORY", "acme/infer", 1);
	setenv("GITHUB_EVENT_PATH", path, 1);
	setenv("GITHUB_TOKEN", "t1", 1);
	setenv("GITHUB_API_URL", "https://ghe.example/api/v3/", 1);
	assert_int_equal(forge_detect(&t, &err), 0);
	assert_int_equal(t.kind, FORGE_GITHUB);
	assert_int_equal(t.number, 17);
	assert_true(t.fork);
	assert_string_equal(t.api_url, "https://ghe.example/api/v3");
	assert_string_equal(t.token, "t1");
	forge_target_release(&t);
	unlink(path);

	/* The PR number from GITHUB_REF; PERFGATE_GITHUB_TOKEN wins. */
	setenv("GITHUB_EVENT_PATH", "/nonexistent", 1);
	setenv("GITHUB_REF", "refs/pull/23/merge", 1);
	setenv("PERFGATE_GITHUB_TOKEN", "t2", 1);
	assert_int_equal(forge_detect(&t, &err), 0);
	assert_int_equal(t.number, 23);
	assert_false(t.fork);
	assert_string_equal(t.token, "t2");
	forge_target_release(&t);

	/* A push, not a pull request. */
	setenv("GITHUB_REF", "refs/heads/main", 1);
	assert_int_equal(forge_detect(&t, &err), ERR_NOTFOUND);
	forge_target_release(&t);

	clear_ci_env();
	setenv("GITLAB_CI", "true", 1);
	setenv("CI_API_V4_URL", "https://gitlab.example/api/v4", 1);
	setenv("CI_PROJECT_ID", "99", 1);
	setenv("CI_MERGE_REQUEST_IID", "5", 1);
	assert_int_equal(forge_detect(&t, &err), ERR_INPUT);
	assert_string_equal(err.msg, "no token to comment with: set PERFGATE_GITLAB_TOKEN");
	forge_target_release(&t);
	setenv("PERFGATE_GITLAB_TOKEN", "glpat", 1);
	assert_int_equal(forge_detect(&t, &err), 0);
	assert_int_equal(t.kind, FORGE_GITLAB);
	assert_int_equal(t.number, 5);
	forge_target_release(&t);
	clear_ci_env();
}

static void test_marker_and_annotation(void **state)
{
	struct sb sb = SB_INIT;
	char *m;

	(void)state;
	m = forge_marker("a--b>c");
	assert_string_equal(m, "<!-- perfgate:comment suite=a_-b_c -->");
	free(m);
	forge_annotation(&sb, FORGE_ERROR, "wall: regression, 12%", "50% slower\nsee report");
	assert_string_equal(sb_str(&sb), "::error title=wall%3A regression%2C 12%25::50%25 slower%0Asee report\n");
	sb_release(&sb);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_github_create_then_update),
		cmocka_unit_test(test_github_pages_through_150),
		cmocka_unit_test(test_github_429_is_retried),
		cmocka_unit_test(test_github_gives_up_after_retries),
		cmocka_unit_test(test_github_401_not_retried_token_hidden),
		cmocka_unit_test(test_github_readonly_fork),
		cmocka_unit_test(test_github_timeout_retried),
		cmocka_unit_test(test_gitlab_create_update_paging),
		cmocka_unit_test(test_gitlab_bad_token),
		cmocka_unit_test(test_detect),
		cmocka_unit_test(test_marker_and_annotation),
	};
	return cmocka_run_group_tests(tests, start_server, stop_server);
}
