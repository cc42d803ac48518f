/*
 * publish.h: after a gate or compare has its result, hand it to the CI
 * system: the GitLab metrics report file, the GitHub job summary and
 * annotations, and the one pull/merge-request comment (docs/ci.md).
 */
#ifndef PERFGATE_PUBLISH_H
#define PERFGATE_PUBLISH_H

#include <stdbool.h>

#include "../core/compare.h"

struct publish_options {
	bool comment;            /* --comment: post or update the PR/MR comment */
	bool strict_report;      /* --strict-report: a failed report exits 4 */
	const char *metrics;     /* --metrics FILE: OpenMetrics text for GitLab */
	const char *report_url;  /* the comment's links (output.h fills them), NULL: none */
	const char *site_url;
};
#define PUBLISH_OPTIONS_INIT { .comment = false }

/*
 * Publish.  Problems with the forge are warnings and never change the gate's
 * verdict; returns EXIT_INFRA when strict_report is set and something could
 * not be published, else 0.
 */
int publish_reports(const struct compare_result *r, const struct publish_options *o);

#endif
