/*
 * baseline.c: choosing the stored runs a run is compared with (DESIGN 5,
 * docs/gate.md "The baseline").  Stored runs come through a struct
 * baseline_source, git history through core/gitinfo.h.
 */
#include "baseline.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cictx.h"
#include "gitinfo.h"
#include "summary.h"
#include "util.h"

#define DEFAULT_ANCESTORS 1000

const char *baseline_mode_name(enum baseline_mode m)
{
	switch (m) {
	case BASELINE_ANCESTORS:
		return "ancestors";
	case BASELINE_MERGE_BASE:
		return "merge-base";
	case BASELINE_LATEST:
		return "latest";
	case BASELINE_EXPLICIT:
		return "explicit";
	case BASELINE_NONE:
		break;
	}
	return "none";
}

char *baseline_branch(const struct rundoc *cur, const struct baseline_options *opts)
{
	char *def = NULL;
	struct err err = ERR_INIT;

	if (opts && opts->branch && *opts->branch)
		return xstrdup(opts->branch);
	if (cur->ci.base_branch && *cur->ci.base_branch)
		return xstrdup(cur->ci.base_branch);
	if (gitinfo_default_branch(opts ? opts->repo_dir : NULL, &def, &err) == 0 && def)
		return def;
	return xstrdup("main");
}

double baseline_parse_time(const char *s)
{
	struct tm tm;
	int y, mo, d, h, mi, n = 0;
	double sec;
	const char *p;
	time_t t;
	double off = 0;

	if (!s || sscanf(s, "%4d-%2d-%2dT%2d:%2d:%lf%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6)
		return NAN;
	p = s + n;
	if (*p == 'Z' || *p == 'z') {
		p++;
	} else if (*p == '+' || *p == '-') {
		int oh, om, m2 = 0;

		if (sscanf(p + 1, "%2d:%2d%n", &oh, &om, &m2) != 2)
			return NAN;
		off = (oh * 3600 + om * 60) * (*p == '+' ? 1 : -1);
		p += 1 + m2;
	} else {
		return NAN;
	}
	if (*p)
		return NAN;
	memset(&tm, 0, sizeof(tm));
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	tm.tm_sec = 0;
	t = timegm(&tm);
	return (double)t + sec - off;
}

void baseline_cands_free(struct baseline_cand *c, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(c[i].run_id);
		free(c[i].commit);
	}
	free(c);
}

void baseline_cutoffs_free(struct baseline_cutoff *c, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(c[i].bench);
		free(c[i].metric);
		free(c[i].commit);
	}
	free(c);
}

void baseline_spreads_free(struct baseline_spread *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		free(s[i].project);
		free(s[i].suite);
		free(s[i].bench);
		free(s[i].metric);
		free(s[i].changes);
	}
	free(s);
}

static void records_free(struct baseline_record *r, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(r[i].sorted);
	free(r);
}

void baseline_release(struct baseline *b)
{
	if (!b)
		return;
	for (size_t i = 0; i < b->n_runs; i++)
		rundoc_free(b->runs[i].doc);
	free(b->runs);
	baseline_cutoffs_free(b->cutoffs, b->n_cutoffs);
	baseline_spreads_free(b->spreads, b->n_spreads);
	records_free(b->records, b->n_records);
	free(b->branch);
	free(b->anchor);
	free(b->why);
	errlist_release(&b->notes);
	memset(b, 0, sizeof(*b));
}

static bool same_str(const char *a, const char *b)
{
	if (!a || !b)
		return a == b;
	return strcmp(a, b) == 0;
}

const struct rd_bench *baseline_match(const struct rundoc *run, const struct rd_bench *b)
{
	const struct rd_bench *o = rundoc_find_bench(run, b->name);

	if (!o || !same_str(o->config_hash, b->config_hash))
		return NULL;
	if (o->status != RUNDOC_STATUS_OK)
		return NULL;
	return o;
}

double baseline_cutoff_for(const struct baseline *b, const char *bench, const char *metric)
{
	for (size_t i = 0; b && i < b->n_cutoffs; i++)
		if (strcmp(b->cutoffs[i].bench, bench) == 0 && strcmp(b->cutoffs[i].metric, metric) == 0)
			return b->cutoffs[i].after;
	return 0;
}

/* Strings in order, NULL (no project, no suite) first. */
static int cmp_str(const char *a, const char *b)
{
	if (!a || !b)
		return (a != NULL) - (b != NULL);
	return strcmp(a, b);
}

/* A series' place in the record, metric first. */
static int cmp_series(const struct baseline_spread *a, const char *project, const char *suite,
		      const char *bench, const char *metric)
{
	int c = strcmp(a->metric, metric);

	if (!c)
		c = cmp_str(a->project, project);
	if (!c)
		c = cmp_str(a->suite, suite);
	if (!c)
		c = cmp_str(a->bench, bench);
	return c;
}

static int cmp_spread(const void *pa, const void *pb)
{
	const struct baseline_spread *b = pb;

	return cmp_series(pa, b->project, b->suite, b->bench, b->metric);
}

void baseline_index_record(struct baseline *b)
{
	size_t alloc = 0;

	records_free(b->records, b->n_records);
	b->records = NULL;
	b->n_records = 0;
	if (b->n_spreads > 1)
		qsort(b->spreads, b->n_spreads, sizeof(*b->spreads), cmp_spread);
	for (size_t i = 0; i < b->n_spreads;) {
		struct baseline_record *r;
		size_t end = i, at = 0;

		XGROW(b->records, alloc, b->n_records + 1);
		r = &b->records[b->n_records++];
		memset(r, 0, sizeof(*r));
		r->metric = b->spreads[i].metric;
		r->first = i;
		for (; end < b->n_spreads && strcmp(b->spreads[end].metric, r->metric) == 0; end++) {
			r->sum_sq += b->spreads[end].sum_sq;
			r->n += b->spreads[end].n;
			if (b->spreads[end].changes)
				r->n_sorted += b->spreads[end].n;
		}
		r->count = end - i;
		r->sorted = r->n_sorted ? xmalloc(r->n_sorted * sizeof(*r->sorted)) : NULL;
		for (size_t k = i; k < end; k++)
			if (b->spreads[k].changes) {
				memcpy(r->sorted + at, b->spreads[k].changes, b->spreads[k].n * sizeof(*r->sorted));
				at += b->spreads[k].n;
			}
		if (r->n_sorted > 1)
			qsort(r->sorted, r->n_sorted, sizeof(*r->sorted), summary_cmp_double);
		i = end;
	}
}

static int cmp_record(const void *key, const void *r)
{
	return strcmp(key, ((const struct baseline_record *)r)->metric);
}

/* The indexed record of `metric`, or NULL (the records are in metric order). */
static const struct baseline_record *record_for(const struct baseline *b, const char *metric)
{
	if (!b || b->n_records == 0)
		return NULL;
	return bsearch(metric, b->records, b->n_records, sizeof(*b->records), cmp_record);
}

double baseline_machine_spread(const struct baseline *b, const char *project, const char *suite,
			       const char *bench, const char *metric, size_t *n_out)
{
	const struct baseline_record *r = record_for(b, metric);
	double sum = 0;
	size_t n = 0, lo, hi;

	if (r) {
		/* all of the metric's series, less the benchmark's own (the
		 * first at or after its place, and any equal to it) */
		sum = r->sum_sq;
		n = r->n;
		lo = r->first;
		hi = r->first + r->count;
		while (lo < hi) {
			size_t mid = lo + (hi - lo) / 2;

			if (cmp_series(&b->spreads[mid], project, suite, bench, metric) < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
		for (; lo < r->first + r->count && !cmp_series(&b->spreads[lo], project, suite, bench, metric); lo++) {
			sum -= b->spreads[lo].sum_sq;
			n -= b->spreads[lo].n;
		}
	}
	if (n_out)
		*n_out = n;
	return n >= BASELINE_SPREAD_MIN ? sqrt(fmax(sum, 0) / (2.0 * (double)n)) : NAN;
}

double baseline_machine_jump(const struct baseline *b, const char *metric, double q, size_t *n_out)
{
	const struct baseline_record *r = record_for(b, metric);
	size_t n = r ? r->n_sorted : 0, rank;

	if (n_out)
		*n_out = n;
	if (n < BASELINE_SPREAD_MIN)
		return NAN;
	rank = (size_t)ceil(q * (double)n - 1e-9); /* nearest rank, 1-based */
	return r->sorted[rank < 1 ? 0 : rank > n ? n - 1 : rank - 1];
}

static void add_run(struct baseline *b, struct rundoc *doc, double started, size_t *alloc)
{
	XGROW(b->runs, *alloc, b->n_runs + 1);
	b->runs[b->n_runs].doc = doc;
	b->runs[b->n_runs].started = started;
	b->n_runs++;
}

/*
 * Benchmark b of the current run, held by a stored run under another
 * configuration (its command, environment, calibration probe or counter
 * changed): the note that says why it has no baseline, rather than letting
 * the report call it a first run; NULL when doc holds b as it is, or not at
 * all.
 */
static char *changed_config_note(const struct rundoc *doc, const struct rd_bench *b, const char *run_id)
{
	const struct rd_bench *o = rundoc_find_bench(doc, b->name);

	if (!o || o->status != RUNDOC_STATUS_OK || !o->config_hash || !b->config_hash ||
	    strcmp(o->config_hash, b->config_hash) == 0)
		return NULL;
	return xasprintf("benchmark '%s': its configuration differs from its newest stored run's (run %.8s, "
			 "configuration %.12s there, %.12s now: a changed command, environment, calibration probe or "
			 "counter), so it has no baseline and its history starts again with this run",
			 b->name, run_id, o->config_hash, b->config_hash);
}

/*
 * Load candidates in order, keeping each run that adds a result some
 * benchmark of `cur` still needs, until every benchmark has k runs or
 * max_load documents were read.  A benchmark left without a baseline whose
 * newest stored run has another configuration gets a note
 * (changed_config_note).
 */
static int load_runs(const struct baseline_source *src, const struct rundoc *cur,
		     const struct baseline_cand *c, size_t n, size_t k, size_t max_load,
		     struct baseline *out, struct err *err)
{
	size_t *have = xcalloc(cur->n_benches + 1, sizeof(*have));
	char **changed = xcalloc(cur->n_benches + 1, sizeof(*changed));
	size_t alloc = 0, loaded = 0;
	int rc = 0;

	for (size_t i = 0; i < n && loaded < max_load; i++) {
		struct rundoc *doc = NULL;
		bool useful = false, done = true;

		rc = src->load(src->arg, c[i].run_id, &doc, err);
		if (rc == ERR_NOTFOUND) {
			rc = 0;
			continue;
		}
		if (rc)
			break;
		loaded++;
		for (size_t j = 0; j < cur->n_benches; j++) {
			if (have[j] == 0 && !changed[j])
				changed[j] = changed_config_note(doc, &cur->benches[j], c[i].run_id);
			if (have[j] >= k || !baseline_match(doc, &cur->benches[j]))
				continue;
			have[j]++;
			useful = true;
		}
		if (useful)
			add_run(out, doc, c[i].started, &alloc);
		else
			rundoc_free(doc);
		for (size_t j = 0; j < cur->n_benches; j++)
			if (have[j] < k)
				done = false;
		if (done)
			break;
	}
	for (size_t j = 0; j < cur->n_benches; j++) {
		if (changed[j] && have[j] == 0)
			errlist_add(&out->notes, "%s", changed[j]);
		free(changed[j]);
	}
	free(have);
	free(changed);
	return rc;
}

static bool is_hex(const char *s, size_t min, size_t max)
{
	size_t n = strlen(s);

	if (n < min || n > max)
		return false;
	for (; *s; s++)
		if (!isxdigit((unsigned char)*s))
			return false;
	return true;
}

static int explicit_baseline(const struct baseline_source *src, const struct rundoc *cur,
			     const struct baseline_options *opts, struct baseline_query *q, size_t max_load,
			     struct baseline *out, struct err *err)
{
	const char *spec = opts->spec;
	struct baseline_cand *c = NULL;
	size_t n = 0, alloc = 0;
	struct rundoc *doc = NULL;
	char hex[33];
	int rc = 0;

	if (strncmp(spec, "file:", 5) == 0) {
		rc = rundoc_load(&doc, spec + 5, err);
		if (rc) {
			err_prefix(err, "--baseline '%s'", spec);
			return rc == ERR_FAIL ? ERR_INPUT : rc;
		}
		out->mode = BASELINE_EXPLICIT;
		out->why = xasprintf("explicit baseline file '%s' (--baseline)", spec + 5);
		add_run(out, doc, baseline_parse_time(doc->started_at), &alloc);
		if (!isfinite(out->runs[0].started))
			out->runs[0].started = 0;
		return 0;
	}
	if (strncmp(spec, "branch:", 7) == 0) {
		if (!spec[7])
			return err_set(err, ERR_INPUT, "--baseline '%s': expected branch:NAME", spec);
		free(out->branch);
		out->branch = xstrdup(spec + 7);
		q->branch = out->branch;
		rc = src->candidates(src->arg, q, &c, &n, err);
		if (rc)
			return rc;
		out->mode = n ? BASELINE_LATEST : BASELINE_NONE;
		out->why = xasprintf("the latest runs on '%s' by time (--baseline %s)", out->branch, spec);
		rc = load_runs(src, cur, c, n, out->k, max_load, out, err);
		baseline_cands_free(c, n);
		return rc;
	}
	/* A run id or a prefix of one, git-style; hex digits alone may also
	 * be a commit: the one that matches wins, and both is said. */
	if (rundoc_id_prefix(spec, hex)) {
		rc = src->load(src->arg, spec, &doc, err);
		if (rc != 0 && rc != ERR_NOTFOUND) {
			err_prefix(err, "--baseline '%s'", spec);
			return rc;
		}
	}
	if (is_hex(spec, 4, 64)) {
		q->branch = NULL;
		q->baseline_only = false;
		q->before = NULL;
		q->commit_prefix = spec;
		if ((rc = src->candidates(src->arg, q, &c, &n, err)) != 0)
			goto done;
	}
	if (doc && n) {
		rc = err_set(err, ERR_INPUT, "--baseline '%s' names both run %s and commit %s: give more digits",
			     spec, doc->run_id, c[0].commit ? c[0].commit : "?");
		goto done;
	}
	if (doc) {
		out->mode = BASELINE_EXPLICIT;
		out->why = xasprintf("explicit baseline run %s (--baseline)", doc->run_id);
		free(out->branch);
		out->branch = doc->git.branch ? xstrdup(doc->git.branch) : NULL;
		add_run(out, doc, 0, &alloc);
		doc = NULL;
		out->runs[0].started = isfinite(baseline_parse_time(out->runs[0].doc->started_at))
					       ? baseline_parse_time(out->runs[0].doc->started_at) : 0;
		goto done;
	}
	if (n) {
		out->mode = BASELINE_EXPLICIT;
		out->why = xasprintf("runs at commit %s (--baseline)", spec);
		free(out->branch);
		out->branch = NULL;
		rc = load_runs(src, cur, c, n, out->k, max_load, out, err);
		goto done;
	}
	if (is_hex(spec, 4, 64))
		rc = err_set(err, ERR_INPUT,
			     "--baseline '%s': no stored run with an id starting so, nor a run of suite '%s' at such a "
			     "commit on this machine class", spec, cur->suite ? cur->suite : "");
	else if (rundoc_id_prefix(spec, hex))
		rc = err_set(err, ERR_INPUT, "--baseline '%s': no stored run with that id", spec);
	else
		rc = err_set(err, ERR_INPUT,
			     "--baseline '%s': expected a run id (or a unique prefix of one), a commit, branch:NAME or "
			     "file:RUN.json", spec);
done:
	rundoc_free(doc);
	baseline_cands_free(c, n);
	return rc;
}

/* Order candidates by their commit's position among the ancestors (stable: newest first within). */
struct ranked {
	size_t pos;
	size_t idx;
};

static int cmp_ranked(const void *a, const void *b)
{
	const struct ranked *x = a, *y = b;

	if (x->pos != y->pos)
		return x->pos < y->pos ? -1 : 1;
	return x->idx < y->idx ? -1 : x->idx > y->idx;
}

static void order_by_ancestry(struct baseline_cand *c, size_t n, char *const *anc, size_t n_anc)
{
	struct ranked *r;
	struct baseline_cand *tmp;

	if (n == 0)
		return;
	r = xcalloc(n, sizeof(*r));
	tmp = xcalloc(n, sizeof(*tmp));

	for (size_t i = 0; i < n; i++) {
		r[i].idx = i;
		r[i].pos = n_anc;
		for (size_t j = 0; j < n_anc && c[i].commit; j++)
			if (strcmp(anc[j], c[i].commit) == 0) {
				r[i].pos = j;
				break;
			}
	}
	qsort(r, n, sizeof(*r), cmp_ranked);
	for (size_t i = 0; i < n; i++)
		tmp[i] = c[r[i].idx];
	memcpy(c, tmp, n * sizeof(*c));
	free(tmp);
	free(r);
}

/*
 * Where the ancestry walk starts and the commits it finds (*anc, nearest
 * first), or why there is none: then the baseline is the latest runs by
 * time and the reason is returned (a note says so loudly where it matters).
 */
static const char NO_COMMIT[] = "the run has no git commit";

static const char *walk_ancestry(const struct rundoc *cur, const char *repo, size_t limit,
				 struct baseline *out, char ***anc, size_t *n_anc)
{
	struct err gerr = ERR_INIT;
	bool on_branch;

	if (!cur->git.commit)
		return NO_COMMIT;
	if (gitinfo_is_shallow(repo)) {
		errlist_add(&out->notes,
			    "shallow clone: the commit history is cut off, so the baseline is the latest runs on '%s' by time, "
			    "not the nearest ancestors; fetch the full history for a precise baseline "
			    "(GitHub: actions/checkout with fetch-depth: 0; GitLab: GIT_DEPTH: 0)",
			    out->branch);
		return "shallow clone";
	}
	on_branch = cur->git.branch && strcmp(cur->git.branch, out->branch) == 0 && cur->ci.pr == 0;
	if (on_branch) {
		out->mode = BASELINE_ANCESTORS;
		out->anchor = xstrdup(cur->git.commit);
	} else if (gitinfo_merge_base(repo, cur->git.commit, out->branch, &out->anchor, &gerr) == 0) {
		out->mode = BASELINE_MERGE_BASE;
	} else {
		errlist_add(&out->notes,
			    "no merge-base of %.10s and '%s' in this checkout (%s): the baseline is the latest runs on '%s' by time",
			    cur->git.commit, out->branch, gerr.msg, out->branch);
		return "no merge-base";
	}
	if (gitinfo_ancestors(repo, out->anchor, limit, anc, n_anc, &gerr) != 0) {
		errlist_add(&out->notes,
			    "cannot walk the history of %.10s in this checkout (%s): the baseline is the latest runs on '%s' by time",
			    out->anchor, gerr.msg, out->branch);
		free(out->anchor);
		out->anchor = NULL;
		return "no history";
	}
	return NULL;
}

/* The explanation every report shows, once the runs are loaded. */
static char *explain(const struct baseline *out, const char *latest_reason, bool walked, size_t n_anc)
{
	char *why, *t;

	if (out->n_runs == 0 && latest_reason == NO_COMMIT)
		/* outside git every gate said "no baseline yet (first run)", forever */
		return xasprintf("the run has no git commit (perfgate ran outside a git checkout), and only runs "
				 "of a branch's commits become baselines: run it inside the project's checkout (or "
				 "--repo DIR), or compare with --baseline RUN_ID or file:RUN.json; nothing to compare, "
				 "the run passes");
	if (out->n_runs == 0 && walked)
		return xasprintf("no run on '%s' on this machine class at the %zu nearest ancestors of %.10s: "
				 "nothing to compare, the run passes", out->branch, n_anc, out->anchor);
	if (out->n_runs == 0)
		return xasprintf("no run on '%s' on this machine class yet: nothing to compare, the run passes",
				 out->branch);
	if (latest_reason)
		why = xasprintf("the latest runs on '%s' by time, the last %zu per benchmark (%s)",
				out->branch, out->k, latest_reason);
	else if (out->mode == BASELINE_ANCESTORS)
		why = xasprintf("the nearest ancestors of %.10s on '%s' with results, the last %zu per benchmark",
				out->anchor, out->branch, out->k);
	else
		why = xasprintf("the nearest ancestors with results of %.10s, the merge-base with '%s', the last %zu per benchmark",
				out->anchor, out->branch, out->k);
	if (!out->n_cutoffs)
		return why;
	t = xasprintf("%s; runs from before the newest change point of a metric are not used", why);
	free(why);
	return t;
}

int baseline_select(const struct baseline_source *src, const struct rundoc *cur,
		    const struct baseline_options *opts, struct baseline *out, struct err *err)
{
	struct baseline_options dflt = BASELINE_OPTIONS_INIT;
	struct baseline_query q;
	struct baseline_cand *c = NULL;
	size_t n = 0, max_load;
	char **anc = NULL;
	size_t n_anc = 0;
	const char *latest_reason;
	int rc = 0;

	if (!opts)
		opts = &dflt;
	memset(out, 0, sizeof(*out));
	out->k = opts->runs ? opts->runs : BASELINE_DEFAULT_RUNS;
	max_load = opts->max_load ? opts->max_load : 20 * out->k;
	out->branch = baseline_branch(cur, opts);

	memset(&q, 0, sizeof(q));
	q.project = cur->project;
	q.suite = cur->suite;
	q.fingerprint = cur->fingerprint;
	q.branch = out->branch;
	q.baseline_only = true;
	q.exclude_run = cur->run_id;
	q.limit = opts->max_ancestors ? opts->max_ancestors : DEFAULT_ANCESTORS;

	if (src->spreads && (rc = src->spreads(src->arg, &q, &out->spreads, &out->n_spreads, err)) != 0)
		return rc;
	baseline_index_record(out);
	if (opts->spec) {
		q.before = cur->started_at;
		return explicit_baseline(src, cur, opts, &q, max_load, out, err);
	}
	if (src->cutoffs && (rc = src->cutoffs(src->arg, &q, &out->cutoffs, &out->n_cutoffs, err)) != 0)
		return rc;
	latest_reason = walk_ancestry(cur, opts->repo_dir ? opts->repo_dir : ".", q.limit, out, &anc, &n_anc);
	if (latest_reason) {
		out->mode = BASELINE_LATEST;
		q.before = cur->started_at;
		q.limit = max_load;
	} else {
		q.commits = (const char *const *)anc;
		q.n_commits = n_anc;
		q.limit = max_load * 4;
	}
	if ((rc = src->candidates(src->arg, &q, &c, &n, err)) != 0)
		goto done;
	if (!latest_reason)
		order_by_ancestry(c, n, anc, n_anc);
	if ((rc = load_runs(src, cur, c, n, out->k, max_load, out, err)) != 0)
		goto done;
	if (out->n_runs == 0)
		out->mode = BASELINE_NONE;
	out->why = explain(out, latest_reason, anc != NULL, n_anc);
done:
	baseline_cands_free(c, n);
	gitinfo_strv_free(anc, n_anc);
	return rc;
}

/* ---- stored runs in memory ---- */

bool baseline_eligible(const struct rundoc *rd, double now, const char **why)
{
	const char *dummy;
	double started = baseline_parse_time(rd->started_at);

	if (!why)
		why = &dummy;
	*why = NULL;
	if (!rd->context_trusted)
		*why = "a pushed run document (its git and CI context were not seen by perfgate)";
	else if (rd->partial)
		*why = "a partial run";
	else if (rd->git.dirty)
		*why = "a dirty tree (uncommitted changes)";
	else if (!cictx_may_be_baseline(&rd->ci, why))
		; /* *why says which */
	else if (!isfinite(started) || started > now + BASELINE_CLOCK_SKEW_S)
		*why = "a start time in the future";
	return *why == NULL;
}

void baseline_memory_add(struct baseline_memory *m, struct rundoc *rd)
{
	size_t had = m->alloc;

	XGROW(m->runs, m->alloc, m->n + 1);
	if (m->alloc != had)
		m->eligible = xrealloc(m->eligible, m->alloc * sizeof(*m->eligible));
	m->eligible[m->n] = baseline_eligible(rd, (double)time(NULL), NULL);
	m->runs[m->n++] = rd;
}

void baseline_memory_release(struct baseline_memory *m)
{
	for (size_t i = 0; i < m->n; i++)
		rundoc_free(m->runs[i]);
	free(m->runs);
	free(m->eligible);
	memset(m, 0, sizeof(*m));
}

static double started_of(const struct rundoc *rd)
{
	double t = baseline_parse_time(rd->started_at);

	return isfinite(t) ? t : 0;
}

/* The filters of db/baseline.c's query, one run at a time. */
static bool memory_matches(const struct baseline_query *q, const struct rundoc *rd, bool eligible)
{
	bool in = !q->commits;

	if (!same_str(q->project, rd->project) || !same_str(q->suite ? q->suite : "", rd->suite ? rd->suite : "") ||
	    !same_str(q->fingerprint, rd->fingerprint) || rd->partial)
		return false;
	if (q->branch && !same_str(q->branch, rd->git.branch))
		return false;
	if (q->baseline_only && !eligible)
		return false;
	if (q->exclude_run && *q->exclude_run && same_str(q->exclude_run, rd->run_id))
		return false;
	if (q->before && isfinite(baseline_parse_time(q->before)) &&
	    !(started_of(rd) < baseline_parse_time(q->before)))
		return false;
	for (size_t j = 0; q->commits && j < q->n_commits; j++)
		in |= same_str(q->commits[j], rd->git.commit);
	if (q->commit_prefix && (!rd->git.commit ||
				 strncmp(rd->git.commit, q->commit_prefix, strlen(q->commit_prefix)) != 0))
		return false;
	return in;
}

static int cmp_cand_newest(const void *a, const void *b)
{
	const struct baseline_cand *x = a, *y = b;

	return x->started < y->started ? 1 : x->started > y->started ? -1 : 0;
}

static int memory_candidates(void *arg, const struct baseline_query *q, struct baseline_cand **out,
			     size_t *n, struct err *err)
{
	struct baseline_memory *m = arg;
	size_t k = 0, limit = q->limit ? q->limit : 100;

	(void)err;
	*out = xcalloc(m->n + 1, sizeof(**out));
	for (size_t i = 0; i < m->n; i++) {
		const struct rundoc *rd = m->runs[i];

		if (!memory_matches(q, rd, m->eligible[i]))
			continue;
		(*out)[k].run_id = xstrdup(rd->run_id);
		(*out)[k].commit = rd->git.commit ? xstrdup(rd->git.commit) : NULL;
		(*out)[k].started = started_of(rd);
		k++;
	}
	qsort(*out, k, sizeof(**out), cmp_cand_newest);
	while (k > limit) {
		k--;
		free((*out)[k].run_id);
		free((*out)[k].commit);
	}
	*n = k;
	return 0;
}

static int memory_load(void *arg, const char *run_id, struct rundoc **out, struct err *err)
{
	struct baseline_memory *m = arg;

	const struct rundoc *found = NULL;
	char hex[33], *text;
	int rc;

	*out = NULL;
	/* Prefixes as a database resolves them (db_run_resolve). */
	if (!rundoc_id_prefix(run_id, hex))
		return err_set(err, ERR_INPUT, "'%s' is not a run id", run_id);
	for (size_t i = 0; i < m->n; i++) {
		if (!rundoc_id_matches(m->runs[i]->run_id, hex))
			continue;
		if (found)
			return err_set(err, ERR_INPUT, "run id prefix '%s' is ambiguous: %s, %s start with it; give "
				       "more digits", run_id, found->run_id, m->runs[i]->run_id);
		found = m->runs[i];
	}
	if (!found)
		return err_set(err, ERR_NOTFOUND, "no run '%s' in memory", run_id);
	/* A copy, as a database hands out: the caller frees what it loads. */
	text = rundoc_to_string(found);
	rc = rundoc_parse(out, text, err);
	free(text);
	m->loads++;
	return rc;
}

void baseline_memory_source(struct baseline_memory *m, struct baseline_source *out)
{
	*out = (struct baseline_source){
		.candidates = memory_candidates,
		.load = memory_load,
		.arg = m,
	};
}
