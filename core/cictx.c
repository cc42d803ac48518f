/*
 * cictx.c: the CI context from environment variables.  See cictx.h.
 */
#include "cictx.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "json.h"
#include "util.h"

static const char *env(const char *name)
{
	const char *v = getenv(name);

	return v && *v ? v : NULL;
}

static char *env_dup(const char *name)
{
	const char *v = env(name);

	return v ? xstrdup(v) : NULL;
}

/* A positive decimal number, or 0 when s is not one. */
static long parse_pr(const char *s)
{
	char *end;
	long v;

	if (!s || *s < '0' || *s > '9')
		return 0;
	errno = 0;
	v = strtol(s, &end, 10);
	if (errno || *end || v <= 0)
		return 0;
	return v;
}

void cictx_release(struct rd_ci *ci)
{
	free(ci->provider);
	free(ci->job_url);
	free(ci->event);
	free(ci->base_branch);
	memset(ci, 0, sizeof(*ci));
}

/* What the event JSON says about the pull request (absent for push events). */
static void github_event(struct rd_ci *ci)
{
	static const char base_ref[] = "$.pull_request.base.ref";
	static const char head_repo[] = "$.pull_request.head.repo.full_name";
	static const char base_repo[] = "$.pull_request.base.repo.full_name";
	const char *path = env("GITHUB_EVENT_PATH");
	const cJSON *pr, *num;
	cJSON *ev = NULL;
	char *text = NULL;

	if (!path || file_read(path, &text, NULL, NULL) != 0)
		goto done;
	ev = cJSON_Parse(text);
	pr = cJSON_GetObjectItemCaseSensitive(ev, "pull_request");
	if (!cJSON_IsObject(pr))
		goto done;
	num = cJSON_GetObjectItemCaseSensitive(pr, "number");
	if (cJSON_IsNumber(num) && num->valuedouble >= 1 && num->valuedouble < 1e15)
		ci->pr = (long)num->valuedouble;
	if (!ci->base_branch && json_str_at(ev, base_ref))
		ci->base_branch = xstrdup(json_str_at(ev, base_ref));
	{
		const char *h = json_str_at(ev, head_repo), *b = json_str_at(ev, base_repo);
		/* A deleted fork leaves head.repo null: still a fork, never trusted. */
		ci->fork = !h || !b || strcmp(h, b) != 0;
	}
done:
	cJSON_Delete(ev);
	free(text);
}

static void github(struct rd_ci *ci)
{
	const char *server = env("GITHUB_SERVER_URL"), *repo = env("GITHUB_REPOSITORY");
	const char *run = env("GITHUB_RUN_ID"), *attempt = env("GITHUB_RUN_ATTEMPT");
	const char *ref = env("GITHUB_REF");

	ci->provider = xstrdup("github");
	if (repo && run) {
		struct sb sb = SB_INIT;
		sb_printf(&sb, "%s/%s/actions/runs/%s", server ? server : "https://github.com", repo, run);
		if (parse_pr(attempt) > 1)
			sb_printf(&sb, "/attempts/%s", attempt);
		ci->job_url = sb_detach(&sb);
	}
	ci->event = env_dup("GITHUB_EVENT_NAME");
	ci->base_branch = env_dup("GITHUB_BASE_REF");
	github_event(ci);
	if (ci->pr == 0 && ref && strncmp(ref, "refs/pull/", 10) == 0) {
		const char *n = ref + 10;
		const char *slash = strchr(n, '/');
		if (slash) {
			char *num = xstrndup(n, (size_t)(slash - n));
			ci->pr = parse_pr(num);
			free(num);
		}
	}
}

static void gitlab(struct rd_ci *ci)
{
	const char *src = env("CI_MERGE_REQUEST_SOURCE_PROJECT_ID");
	const char *dst = env("CI_MERGE_REQUEST_PROJECT_ID");

	ci->provider = xstrdup("gitlab");
	ci->job_url = env_dup("CI_JOB_URL");
	ci->event = env_dup("CI_PIPELINE_SOURCE");
	ci->pr = parse_pr(env("CI_MERGE_REQUEST_IID"));
	ci->base_branch = env_dup("CI_MERGE_REQUEST_TARGET_BRANCH_NAME");
	ci->fork = src && dst && strcmp(src, dst) != 0;
}

bool cictx_may_be_baseline(const struct rd_ci *ci, const char **why)
{
	static const char *const github_branch[] = { "push", "schedule", "workflow_dispatch" };
	static const char *const gitlab_branch[] = {
		"push", "schedule", "web", "api", "trigger", "pipeline", "parent_pipeline",
	};
	const char *const *events = NULL;
	size_t n_events = 0;
	const char *dummy;

	if (!why)
		why = &dummy;
	*why = NULL;
	if (ci->pr > 0) {
		*why = "a pull or merge request run";
		return false;
	}
	if (ci->fork) {
		*why = "a run from a fork";
		return false;
	}
	if (!ci->provider || strcmp(ci->provider, "local") == 0)
		return true;
	if (strcmp(ci->provider, "github") == 0) {
		events = github_branch;
		n_events = ARRAY_SIZE(github_branch);
	} else if (strcmp(ci->provider, "gitlab") == 0) {
		events = gitlab_branch;
		n_events = ARRAY_SIZE(gitlab_branch);
	}
	if (!ci->event) {
		*why = "a CI run without a recorded event";
		return false;
	}
	if (str_index(ci->event, events, n_events) < 0) {
		*why = "not a branch build (its CI event is not a push, schedule or manual run)";
		return false;
	}
	return true;
}

void cictx_detect(struct rd_ci *out)
{
	const char *gh = env("GITHUB_ACTIONS"), *gl = env("GITLAB_CI");

	memset(out, 0, sizeof(*out));
	if (gh && strcmp(gh, "true") == 0)
		github(out);
	else if (gl && strcmp(gl, "true") == 0)
		gitlab(out);
	else
		out->provider = xstrdup("local");
}
