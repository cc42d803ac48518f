/*
 * forge.h: reporting to the code forge (DESIGN section 8): one pull-request
 * comment (GitHub) or merge-request note (GitLab) per suite, found by a
 * hidden marker and updated in place; the GitHub job summary and workflow
 * annotations.  Talks REST over libcurl.
 *
 * Failures of the forge never change the gate's verdict: callers turn them
 * into warnings.  Tokens live only in request headers; no message, URL or
 * file written here ever contains one.
 */
#ifndef PERFGATE_FORGE_H
#define PERFGATE_FORGE_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"
#include "util.h"

enum forge_kind { FORGE_NONE = 0, FORGE_GITHUB, FORGE_GITLAB };

/* Where the comment goes, read from the CI environment. */
struct forge_target {
	enum forge_kind kind;
	char *api_url;  /* https://api.github.com, $GITHUB_API_URL or $CI_API_V4_URL; no trailing slash */
	char *repo;     /* GitHub "owner/name"; GitLab the project id */
	long number;    /* pull request number or merge request iid */
	char *token;    /* secret: never printed, never in a URL */
	bool fork;      /* the pull request comes from a fork (its token is usually read-only) */
};

/*
 * Fill *t from the environment.  GitHub: GITHUB_ACTIONS, GITHUB_REPOSITORY,
 * GITHUB_API_URL (default https://api.github.com), the PR number from
 * GITHUB_EVENT_PATH (pull_request.number) or GITHUB_REF (refs/pull/N/merge),
 * token from PERFGATE_GITHUB_TOKEN or GITHUB_TOKEN.  GitLab: GITLAB_CI,
 * CI_API_V4_URL, CI_PROJECT_ID, CI_MERGE_REQUEST_IID, PERFGATE_GITLAB_TOKEN.
 * Returns 0, or ERR_NOTFOUND with a notice ("not in a pull request: ...")
 * when there is nothing to comment on, or ERR_INPUT when a token is missing.
 */
int forge_detect(struct forge_target *t, struct err *err);
void forge_target_release(struct forge_target *t);

struct forge_options {
	int max_attempts;     /* per request, including the first; default 4 */
	double timeout;       /* seconds per request; default 15 */
	double max_wait;      /* cap on one Retry-After or backoff wait, seconds; default 30 */
	double backoff;       /* first backoff wait, doubled each retry; default 1 */
};
#define FORGE_OPTIONS_INIT { .max_attempts = 4, .timeout = 15.0, .max_wait = 30.0, .backoff = 1.0 }

enum forge_outcome {
	FORGE_CREATED,        /* a new comment was posted */
	FORGE_UPDATED,        /* the suite's comment was edited in place */
	FORGE_READONLY        /* the token may not write (a fork's pull request): skipped */
};

/* "<!-- perfgate:comment suite=NAME -->": identifies the suite's comment. */
char *forge_marker(const char *suite);

/*
 * Find the comment (paging through all of them) whose body contains
 * `marker`, and update it with `body` (which should contain the marker), or
 * create it.  Timeouts, 5xx and 429 (honouring Retry-After) and rate-limit
 * 403s are retried with backoff; 401 is not.  Returns 0 with *outcome, or
 * ERR_INFRA with a message naming the request and the status.
 */
int forge_upsert_comment(const struct forge_target *t, const char *marker, const char *body,
			 const struct forge_options *opts, enum forge_outcome *outcome,
			 struct err *err);

/* Append markdown to the file named by GITHUB_STEP_SUMMARY (no-op when unset). */
int forge_step_summary(const char *markdown, struct err *err);

enum forge_level { FORGE_NOTICE, FORGE_WARNING, FORGE_ERROR };
/* One GitHub workflow command line ("::error title=...::message\n"), with
 * the escaping the runner expects, appended to out. */
void forge_annotation(struct sb *out, enum forge_level level, const char *title, const char *message);

#endif
