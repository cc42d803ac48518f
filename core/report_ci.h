/*
 * report_ci.h: the machine-read reports CI systems show beside a job:
 * GitLab's metrics report (OpenMetrics text, compared by the merge request's
 * metrics widget with the target branch) and GitHub workflow annotations
 * for regressions and broken SLOs.
 */
#ifndef PERFGATE_REPORT_CI_H
#define PERFGATE_REPORT_CI_H

#include "compare.h"
#include "util.h"

/*
 * One sample per history row and SLO, in OpenMetrics text format:
 *   perfgate_median{suite="s",benchmark="b",metric="wall",unit="s"} 0.0123
 *   perfgate_change_ratio{...} 1.04
 *   perfgate_slo_ok{suite="s",benchmark="b",slo="latency.p95 < 250ms"} 1
 * then "# EOF".  Label values are escaped as the format requires.
 */
void report_ci_openmetrics(const struct compare_result *r, struct sb *out);

/* "::error title=...::..." lines for each row that fails the gate and each
 * broken SLO; "::warning" for inconclusive and insufficient-data rows. */
void report_ci_annotations(const struct compare_result *r, struct sb *out);

#endif
