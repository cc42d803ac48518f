/*
 * report_group.c: comparison rows grouped into metric families per
 * benchmark (see report_group.h).
 */
#include "report_group.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "report.h"
#include "util.h"

const char *const report_group_stats[REPORT_GROUP_STATS] = { "p50", "p90", "p95", "p99",
							     "p99.9", "max", "mean", "min" };

/* One row's place: its family key and statistic, or stat -1 for a metric
 * that cannot be part of a family. */
struct slot {
	size_t row;
	char *family;   /* STEM@SUFFIX, or the metric itself */
	int stat;
};

int report_group_split(const char *metric, char **family)
{
	const char *at = strchr(metric, '@');
	size_t stem_len = at ? (size_t)(at - metric) : strlen(metric);

	for (int k = 0; k < REPORT_GROUP_STATS; k++) {
		size_t sl = strlen(report_group_stats[k]);

		if (stem_len > sl + 1 && metric[stem_len - sl - 1] == '.' &&
		    strncmp(metric + stem_len - sl, report_group_stats[k], sl) == 0) {
			*family = xasprintf("%.*s%s", (int)(stem_len - sl - 1), metric, at ? at : "");
			return k;
		}
	}
	*family = xstrdup(metric);
	return -1;
}

static void classify(const char *metric, struct slot *s)
{
	s->stat = report_group_split(metric, &s->family);
}

static int cmp_str0(const char *a, const char *b)
{
	return strcmp(a ? a : "", b ? b : "");
}

/* By benchmark, reference, family, then row: members of a family end up adjacent. */
static int cmp_slot(const void *a, const void *b, void *arg)
{
	const struct compare_result *r = arg;
	const struct slot *x = a, *y = b;
	const struct compare_row *rx = &r->rows[x->row], *ry = &r->rows[y->row];
	int c;

	if ((c = strcmp(rx->bench, ry->bench)) != 0)
		return c;
	if ((c = cmp_str0(rx->against, ry->against)) != 0)
		return c;
	if ((c = strcmp(x->family, y->family)) != 0)
		return c;
	return (x->row > y->row) - (x->row < y->row);
}

static int cmp_group(const void *a, const void *b)
{
	const struct report_group *x = a, *y = b;

	return (x->first > y->first) - (x->first < y->first);
}

static struct report_group *new_group(struct report_groups *gs, size_t *alloc, const char *name)
{
	struct report_group *g;

	XGROW(gs->g, *alloc, gs->n + 1);
	g = &gs->g[gs->n++];
	memset(g, 0, sizeof(*g));
	g->name = xstrdup(name);
	g->single = REPORT_GROUP_NONE;
	for (int k = 0; k < REPORT_GROUP_STATS; k++)
		g->row[k] = REPORT_GROUP_NONE;
	return g;
}

/* The slots of one family key: two or more different statistics form a
 * family row; the rest (a lone "wall.max", a metric named as its stem) stay
 * single rows. */
static void add_groups(struct report_groups *gs, size_t *alloc, const struct compare_result *r,
		       const struct slot *s, size_t n)
{
	size_t member[REPORT_GROUP_STATS], distinct = 0;
	struct report_group *g;

	for (int k = 0; k < REPORT_GROUP_STATS; k++)
		member[k] = REPORT_GROUP_NONE;
	for (size_t i = 0; i < n; i++)
		if (s[i].stat >= 0 && member[s[i].stat] == REPORT_GROUP_NONE) {
			member[s[i].stat] = i;
			distinct++;
		}
	for (size_t i = 0; i < n; i++) {
		const struct compare_row *row = &r->rows[s[i].row];

		if (distinct >= 2 && s[i].stat >= 0 && member[s[i].stat] == i)
			continue;
		g = new_group(gs, alloc, row->metric);
		g->single = g->first = s[i].row;
		g->rank = report_row_rank(r, row);
		g->bench = row->bench;
		g->against = row->against;
	}
	if (distinct < 2)
		return;
	g = new_group(gs, alloc, s[0].family);
	g->family = true;
	g->first = REPORT_GROUP_NONE;
	g->rank = 2;
	for (int k = 0; k < REPORT_GROUP_STATS; k++) {
		size_t row;
		int rk;

		if (member[k] == REPORT_GROUP_NONE)
			continue;
		row = s[member[k]].row;
		rk = report_row_rank(r, &r->rows[row]);
		g->row[k] = row;
		if (row < g->first)
			g->first = row;
		if (rk < g->rank)
			g->rank = rk;
	}
	g->bench = r->rows[g->first].bench;
	g->against = r->rows[g->first].against;
}

void report_group_rows(const struct compare_result *r, bool ab, struct report_groups *out)
{
	struct slot *slots = xcalloc(r->n_rows + 1, sizeof(*slots));
	size_t n = 0, alloc = 0;

	out->g = NULL;
	out->n = 0;
	for (size_t i = 0; i < r->n_rows; i++) {
		if ((r->rows[i].against != NULL) != ab)
			continue;
		slots[n].row = i;
		classify(r->rows[i].metric, &slots[n]);
		n++;
	}
	qsort_r(slots, n, sizeof(*slots), cmp_slot, (void *)(uintptr_t)r);
	for (size_t i = 0; i < n;) {
		size_t j = i + 1;
		const struct compare_row *ri = &r->rows[slots[i].row];

		while (j < n && strcmp(slots[j].family, slots[i].family) == 0 &&
		       strcmp(r->rows[slots[j].row].bench, ri->bench) == 0 &&
		       cmp_str0(r->rows[slots[j].row].against, ri->against) == 0)
			j++;
		add_groups(out, &alloc, r, slots + i, j - i);
		i = j;
	}
	if (out->n)
		qsort(out->g, out->n, sizeof(*out->g), cmp_group);
	for (size_t i = 0; i < n; i++)
		free(slots[i].family);
	free(slots);
}

void report_groups_release(struct report_groups *gs)
{
	for (size_t i = 0; i < gs->n; i++)
		free(gs->g[i].name);
	free(gs->g);
	gs->g = NULL;
	gs->n = 0;
}

size_t report_group_members(const struct report_group *g, size_t rows[REPORT_GROUP_STATS])
{
	size_t n = 0;

	if (!g->family) {
		rows[0] = g->single;
		return 1;
	}
	for (int k = 0; k < REPORT_GROUP_STATS; k++)
		if (g->row[k] != REPORT_GROUP_NONE)
			rows[n++] = g->row[k];
	return n;
}

size_t report_group_lead(const struct compare_result *r, const struct report_group *g)
{
	/* Indices into report_group_stats, in order of preference. */
	static const int prefer[] = { 3, 2, 1, 0, 6, 5, 4, 7 };
	size_t best = REPORT_GROUP_NONE;
	int best_rank = 3;

	if (!g->family)
		return g->single;
	for (size_t i = 0; i < ARRAY_SIZE(prefer); i++) {
		size_t row = g->row[prefer[i]];
		int rk;

		if (row == REPORT_GROUP_NONE)
			continue;
		rk = report_row_rank(r, &r->rows[row]);
		if (rk < best_rank) {
			best = row;
			best_rank = rk;
		}
	}
	return best;
}

static bool same_cause(const struct report_cause *c, const struct compare_row *row)
{
	if (c->kind != row->v.kind || c->unconfirmed != row->unconfirmed)
		return false;
	if (c->kind != VERDICT_INSUFFICIENT)
		return true;
	return c->n_cur == row->v.n_cur && c->n_base == row->v.n_base &&
	       c->paired == (row->v.test == VERDICT_TEST_SIGNED_RANK);
}

size_t report_causes(const struct compare_result *r, struct report_cause **out)
{
	size_t n = 0, alloc = 0;

	*out = NULL;
	for (size_t i = 0; i < r->n_rows; i++) {
		const struct compare_row *row = &r->rows[i];
		struct report_cause *c = NULL;

		/* what the gate cannot decide: a tracked metric's verdict is not the gate's */
		if (!compare_row_gates(r, row) ||
		    (row->v.kind != VERDICT_INSUFFICIENT && row->v.kind != VERDICT_INCONCLUSIVE &&
		     row->v.kind != VERDICT_NO_BASELINE))
			continue;
		for (size_t k = 0; k < n && !c; k++)
			if (same_cause(&(*out)[k], row))
				c = &(*out)[k];
		if (!c) {
			XGROW(*out, alloc, n + 1);
			c = &(*out)[n++];
			memset(c, 0, sizeof(*c));
			c->kind = row->v.kind;
			c->n_cur = row->v.n_cur;
			c->n_base = row->v.n_base;
			c->paired = row->v.test == VERDICT_TEST_SIGNED_RANK;
			c->unconfirmed = row->unconfirmed;
			c->p_min = row->v.p_min;
			c->alpha = row->settings.alpha;
			c->rows = xcalloc(r->n_rows, sizeof(*c->rows));
		}
		c->rows[c->n++] = i;
	}
	return n;
}

void report_causes_free(struct report_cause *c, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(c[i].rows);
	free(c);
}

void report_cause_hint(const struct report_cause *c, struct sb *out)
{
	switch (c->kind) {
	case VERDICT_INSUFFICIENT:
		if (c->n_cur == 0)
			sb_puts(out, "no samples in this run");
		else if (c->paired) /* pairs that tie (both zero) say nothing, and are dropped */
			sb_printf(out, "%zu pairs cannot reach p <= %g (the smallest possible p is %.2g, pairs "
				       "without a difference left out): add repetitions", c->n_cur, c->alpha, c->p_min);
		else
			sb_printf(out, "%zu new against %zu baseline samples cannot reach p <= %g (the smallest "
				       "possible p is %.2g): add repetitions (or baseline runs)",
				  c->n_cur, c->n_base, c->alpha, c->p_min);
		break;
	case VERDICT_INCONCLUSIVE:
		if (c->unconfirmed)
			sb_puts(out, "worse than the history, but not beside the base commit measured in this job: "
				     "the machine changed between jobs, not the code");
		else
			sb_puts(out, "the estimate is worse by the noise floor or more, but not significant: "
				     "measure more (repetitions) to decide");
		break;
	default:
		sb_puts(out, "no baseline yet: this run's samples are stored for the next comparison");
		break;
	}
}
