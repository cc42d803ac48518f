/*
 * report_group.h: the rows of a comparison arranged the way people read
 * them: per benchmark, the statistics of one distribution in one row
 * ("latency: p50 p90 p99 max mean", not five rows), single metrics on their
 * own.  The text, Markdown and HTML reports all group with this, so that
 * they agree on what a row is.
 *
 * A family is the metrics of one benchmark named STEM.STAT[@SUFFIX] with
 * STAT one of report_group_stats and at least two of them present
 * ("latency.p50", "latency.p99" -> family "latency"; "latency.p99@200/s" ->
 * "latency@200/s"; "server.cpu.mean", "server.cpu.max" -> "server.cpu").
 */
#ifndef PERFGATE_REPORT_GROUP_H
#define PERFGATE_REPORT_GROUP_H

#include <stdbool.h>
#include <stddef.h>

#include "compare.h"
#include "util.h"

#define REPORT_GROUP_STATS 8
#define REPORT_GROUP_NONE ((size_t)-1)

/* "p50", "p90", "p95", "p99", "p99.9", "max", "mean", "min": the columns of a family row. */
extern const char *const report_group_stats[REPORT_GROUP_STATS];

struct report_group {
	const char *bench;       /* borrowed from the rows */
	const char *against;     /* A/B: the reference benchmark, else NULL */
	char *name;              /* the family ("latency@200/s") or the metric */
	bool family;
	size_t row[REPORT_GROUP_STATS]; /* family: the row of each statistic, REPORT_GROUP_NONE when absent */
	size_t single;           /* not a family: its row */
	size_t first;            /* smallest row index in the group (run order) */
	int rank;                /* lowest report_row_rank() of its rows: 0 fails, 1 loud, 2 rest */
};

struct report_groups {
	struct report_group *g;  /* in run order (by `first`) */
	size_t n;
};

/* Split "latency.p99@200/s" into *family "latency@200/s" (allocated) and
 * returns the index of "p99" in report_group_stats; a metric that is no
 * family's statistic gets -1 and *family a copy of its name. */
int report_group_split(const char *metric, char **family);

/* Group the history rows (ab false) or the A/B rows (ab true) of r. */
void report_group_rows(const struct compare_result *r, bool ab, struct report_groups *out);
void report_groups_release(struct report_groups *gs);

/* The rows of a group, in column order for a family; returns how many (at
 * most REPORT_GROUP_STATS) and fills rows[]. */
size_t report_group_members(const struct report_group *g, size_t rows[REPORT_GROUP_STATS]);

/* The member that speaks for a family in one cell (a sparkline, a short
 * table): its worst-ranked row, ties broken by p99, p95, p90, p50, mean, max. */
size_t report_group_lead(const struct compare_result *r, const struct report_group *g);

/*
 * Rows that need a reader's attention without failing (inconclusive,
 * insufficient data) and rows without a baseline, grouped by cause, so that
 * a report gives one hint per cause instead of one per metric.  Insufficient
 * data is one cause per pair of sample sizes (the same advice applies).
 */
struct report_cause {
	enum verdict_kind kind;  /* VERDICT_INSUFFICIENT, VERDICT_INCONCLUSIVE or VERDICT_NO_BASELINE */
	size_t n_cur, n_base;    /* insufficient data: the sample sizes its rows share */
	bool paired;             /* insufficient data: its rows are pairs (signed-rank) */
	bool unconfirmed;        /* inconclusive: regressions against the history that the
				    pairs beside the base did not show (gate --confirm-base) */
	double p_min;            /* insufficient data: the smallest p they can reach */
	double alpha;            /* of the first row */
	size_t *rows;            /* run order */
	size_t n;
};
size_t report_causes(const struct compare_result *r, struct report_cause **out);
void report_causes_free(struct report_cause *c, size_t n);
/* One sentence of advice, e.g. "3 new against 3 baseline samples cannot
 * reach p <= 0.01 (the smallest possible p is 0.05): add repetitions". */
void report_cause_hint(const struct report_cause *c, struct sb *out);

#endif
