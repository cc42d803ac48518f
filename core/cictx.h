/*
 * cictx.h: which CI system a run happens in, read from the environment, for
 * the run document's "ci" member (provider, job URL, event, pull/merge request
 * number, its base branch, whether it comes from a fork).  Baseline selection
 * uses it to keep pull-request and fork runs out of baselines and to pick the
 * pull request's base branch; reports use the job URL.
 *
 * GitHub Actions: GITHUB_ACTIONS=true.  GitLab CI: GITLAB_CI=true.  Anything
 * else is "local".  Nothing here fails: a variable that is missing or
 * malformed leaves its field empty.
 */
#ifndef PERFGATE_CICTX_H
#define PERFGATE_CICTX_H

#include <stdbool.h>

#include "rundoc.h"

/*
 * Fill *out (zeroed or released first) from the environment:
 *
 * GitHub: job_url = $GITHUB_SERVER_URL/$GITHUB_REPOSITORY/actions/runs/$GITHUB_RUN_ID
 * (with /attempts/N when GITHUB_RUN_ATTEMPT > 1); event = GITHUB_EVENT_NAME;
 * pr = pull_request.number of the event JSON at GITHUB_EVENT_PATH, else N from
 * GITHUB_REF=refs/pull/N/merge; base_branch = GITHUB_BASE_REF, else the
 * event's pull_request.base.ref; fork = the event's pull_request.head.repo
 * differs from pull_request.base.repo (or is gone).
 *
 * GitLab: job_url = CI_JOB_URL; event = CI_PIPELINE_SOURCE; pr =
 * CI_MERGE_REQUEST_IID; base_branch = CI_MERGE_REQUEST_TARGET_BRANCH_NAME;
 * fork = CI_MERGE_REQUEST_SOURCE_PROJECT_ID != CI_MERGE_REQUEST_PROJECT_ID.
 */
void cictx_detect(struct rd_ci *out);

/*
 * May a run measured in this CI context become a baseline?  Only a run of a
 * branch itself: no pull/merge request number, not from a fork, and an event
 * that is a branch build (GitHub: push, schedule, workflow_dispatch;
 * GitLab: push, schedule, web, api, trigger, pipeline, parent_pipeline;
 * local runs always).  A pull-request event without a number
 * (GITHUB_EVENT_NAME=pull_request, GitLab merge_request_event) and an
 * unknown or missing event are not.  On false, *why (when given) says why
 * in a few words ("a pull_request event").
 */
bool cictx_may_be_baseline(const struct rd_ci *ci, const char **why);

/* Free the strings in *ci and zero it. */
void cictx_release(struct rd_ci *ci);

#endif
