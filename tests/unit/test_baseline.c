/*
 * Unit tests for core/baseline.c: baseline selection on a real temporary
 * git repository (main with three commits, a feature branch from the second,
 * a shallow clone of it) over an in-memory store that applies the same
 * filters as db/baseline.c's query (the SQL itself is exercised by
 * tests/integration/test_compare.sh).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../core/baseline.h"
#include "../../core/util.h"

struct memrun {
	struct rundoc *doc;
	const char *branch;
	long pr;
	bool dirty, fork;
	double started;
};

struct memstore {
	struct memrun runs[16];
	size_t n;
	size_t loads;
};

static char tmp[64];
static char repo[128], shallow[128];
static char c1[41], c2[41], c3[41], f1[41], f2[41];

static void sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void sh(const char *fmt, ...)
{
	char cmd[2048];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(cmd, sizeof(cmd), fmt, ap);
	va_end(ap);
	if (system(cmd) != 0)
		fail_msg("command failed: %s", cmd);
}

static void rev(const char *dir, const char *name, char out[41])
{
	char cmd[512];
	FILE *p;

	snprintf(cmd, sizeof(cmd), "git -C %s rev-parse %s", dir, name);
	p = popen(cmd, "r");
	assert_non_null(p);
	assert_non_null(fgets(out, 41, p));
	pclose(p);
	assert_int_equal(strlen(out), 40);
}

/* main: c1 - c2 - c3;  feature (from c2): f1 - f2;  shallow: depth-1 clone of main. */
static int setup(void **state)
{
	(void)state;
	snprintf(tmp, sizeof(tmp), "/tmp/perfgate-baseline-XXXXXX");
	if (!mkdtemp(tmp))
		return -1;
	snprintf(repo, sizeof(repo), "%s/repo", tmp);
	snprintf(shallow, sizeof(shallow), "%s/shallow", tmp);
	sh("set -e; export GIT_CONFIG_NOSYSTEM=1 HOME=%s; git init -q -b main %s; cd %s;"
	   " git config user.email t@example.com; git config user.name t;"
	   " for i in 1 2; do echo $i > f; git add f; git commit -qm c$i; done;"
	   " git checkout -qb feature; for i in 1 2; do echo f$i > g; git add g; git commit -qm f$i; done;"
	   " git checkout -q main; echo 3 > f; git commit -qam c3;"
	   " git clone -q --depth 1 --branch main file://%s %s",
	   tmp, repo, repo, repo, shallow);
	rev(repo, "main~2", c1);
	rev(repo, "main~1", c2);
	rev(repo, "main", c3);
	rev(repo, "feature~1", f1);
	rev(repo, "feature", f2);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	sh("rm -rf %s", tmp);
	return 0;
}

static struct rundoc *mkdoc(const char *id, const char *commit, const char *branch, const char *hash)
{
	struct rundoc *rd = rundoc_new();
	struct rd_bench *b;

	rd->run_id = xstrdup(id);
	rd->project = xstrdup("p");
	rd->suite = xstrdup("s");
	rd->fingerprint = xstrdup("fp");
	rd->git.commit = commit ? xstrdup(commit) : NULL;
	rd->git.branch = branch ? xstrdup(branch) : NULL;
	rd->started_at = xstrdup("2026-11-28T12:00:00Z");
	b = rundoc_add_bench(rd, "loop", RUNDOC_KIND_COMMAND);
	b->config_hash = xstrdup(hash);
	b->status = RUNDOC_STATUS_OK;
	rundoc_metric_add_sample(rundoc_bench_add_metric(b, "wall", "s", RD_LOWER), 1.0);
	return rd;
}

static void add(struct memstore *s, const char *id, const char *commit, const char *branch, long pr,
		bool dirty, bool fork, double started)
{
	struct memrun *r = &s->runs[s->n++];

	r->doc = mkdoc(id, commit, branch, "h");
	r->branch = branch;
	r->pr = pr;
	r->dirty = dirty;
	r->fork = fork;
	r->started = started;
}

static bool eq(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

/* The same filters as db/baseline.c's SQL. */
static int m_candidates(void *arg, const struct baseline_query *q, struct baseline_cand **out, size_t *n,
			struct err *err)
{
	struct memstore *s = arg;
	struct memrun *pick[16];
	size_t k = 0;

	(void)err;
	for (size_t i = 0; i < s->n; i++) {
		struct memrun *r = &s->runs[i];
		bool in = true;

		if (!eq(q->project, r->doc->project) || !eq(q->suite, r->doc->suite) ||
		    !eq(q->fingerprint, r->doc->fingerprint))
			continue;
		if (q->branch && !eq(q->branch, r->branch))
			continue;
		if (q->baseline_only && (r->pr || r->dirty || r->fork))
			continue;
		if (q->exclude_run && eq(q->exclude_run, r->doc->run_id))
			continue;
		if (q->commits) {
			in = false;
			for (size_t j = 0; j < q->n_commits; j++)
				in |= eq(q->commits[j], r->doc->git.commit);
		}
		if (q->commit_prefix && (!r->doc->git.commit ||
					 strncmp(r->doc->git.commit, q->commit_prefix, strlen(q->commit_prefix)) != 0))
			in = false;
		if (in)
			pick[k++] = r;
	}
	/* newest first */
	for (size_t i = 0; i < k; i++)
		for (size_t j = i + 1; j < k; j++)
			if (pick[j]->started > pick[i]->started) {
				struct memrun *t = pick[i];
				pick[i] = pick[j];
				pick[j] = t;
			}
	if (q->limit && k > q->limit)
		k = q->limit;
	*out = xcalloc(k + 1, sizeof(**out));
	for (size_t i = 0; i < k; i++) {
		(*out)[i].run_id = xstrdup(pick[i]->doc->run_id);
		(*out)[i].commit = pick[i]->doc->git.commit ? xstrdup(pick[i]->doc->git.commit) : NULL;
		(*out)[i].started = pick[i]->started;
	}
	*n = k;
	return 0;
}

/* A whole id or a unique prefix, as db_run_load resolves them. */
static int m_load(void *arg, const char *id, struct rundoc **out, struct err *err)
{
	struct memstore *s = arg;
	const struct rundoc *found = NULL;
	char hex[33];

	if (!rundoc_id_prefix(id, hex))
		return err_set(err, ERR_INPUT, "'%s' is not a run id", id);
	for (size_t i = 0; i < s->n; i++) {
		if (!rundoc_id_matches(s->runs[i].doc->run_id, hex))
			continue;
		if (found)
			return err_set(err, ERR_INPUT, "run id prefix '%s' is ambiguous", id);
		found = s->runs[i].doc;
	}
	if (found) {
		char *text = rundoc_to_string(found);
		int rc = rundoc_parse(out, text, err);

		free(text);
		s->loads++;
		return rc;
	}
	return err_set(err, ERR_NOTFOUND, "no run '%s'", id);
}

/*
 * The store: runs on main at c1 (t=1), c2 (t=2), c3 (t=3); a second run at
 * c1 (t=1.5); a PR run, a fork run and a dirty run at c3 / f1 (never
 * baselines); a run of another machine class; a run with another config.
 */
static void fill_store(struct memstore *s)
{
	memset(s, 0, sizeof(*s));
	add(s, "00000000-0000-4000-8000-000000000001", c1, "main", 0, false, false, 1);
	add(s, "00000000-0000-4000-8000-000000000002", c1, "main", 0, false, false, 1.5);
	add(s, "00000000-0000-4000-8000-000000000003", c2, "main", 0, false, false, 2);
	add(s, "00000000-0000-4000-8000-000000000004", c3, "main", 0, false, false, 3);
	add(s, "00000000-0000-4000-8000-000000000005", f1, "main", 7, false, false, 4);   /* PR */
	add(s, "00000000-0000-4000-8000-000000000006", c3, "main", 0, true, false, 5);    /* dirty */
	add(s, "00000000-0000-4000-8000-000000000007", c3, "main", 0, false, true, 6);    /* fork */
	add(s, "00000000-0000-4000-8000-000000000008", c3, "main", 0, false, false, 7);
	free(s->runs[7].doc->fingerprint);
	s->runs[7].doc->fingerprint = xstrdup("another-machine");
	add(s, "00000000-0000-4000-8000-000000000009", c3, "main", 0, false, false, 8);
	free(s->runs[8].doc->benches[0].config_hash);
	s->runs[8].doc->benches[0].config_hash = xstrdup("another-config");
}

static void free_store(struct memstore *s)
{
	for (size_t i = 0; i < s->n; i++)
		rundoc_free(s->runs[i].doc);
}

static void ids(const struct baseline *b, char *buf, size_t len)
{
	buf[0] = 0;
	for (size_t i = 0; i < b->n_runs; i++) {
		size_t l = strlen(buf);

		snprintf(buf + l, len - l, "%s%c", i ? "," : "", b->runs[i].doc->run_id[35]);
	}
}

/* Who may be a baseline (docs/security.md): each rule, and the clock skew allowed. */
static void test_eligible(void **state)
{
	struct rundoc *rd = mkdoc("00000000-0000-4000-8000-0000000000e1", c1, "main", "h");
	double t = baseline_parse_time("2026-11-28T12:00:00Z");
	const char *why = NULL;

	(void)state;
	assert_false(baseline_eligible(rd, t, &why));
	assert_string_equal(why, "a pushed run document (its git and CI context were not seen by perfgate)");
	rd->context_trusted = true;
	assert_true(baseline_eligible(rd, t, &why));
	assert_null(why);
	/* five minutes of skew between machines, not more */
	assert_true(baseline_eligible(rd, t - BASELINE_CLOCK_SKEW_S, NULL));
	assert_false(baseline_eligible(rd, t - BASELINE_CLOCK_SKEW_S - 1, &why));
	assert_string_equal(why, "a start time in the future");
	rd->git.dirty = true;
	assert_false(baseline_eligible(rd, t, &why));
	assert_string_equal(why, "a dirty tree (uncommitted changes)");
	rd->git.dirty = false;
	rd->ci.provider = xstrdup("github");
	rd->ci.event = xstrdup("pull_request"); /* without a number: not a branch build */
	assert_false(baseline_eligible(rd, t, &why));
	assert_non_null(strstr(why, "not a branch build"));
	free(rd->ci.event);
	rd->ci.event = xstrdup("push");
	assert_true(baseline_eligible(rd, t, NULL));
	rd->ci.pr = 3;
	assert_false(baseline_eligible(rd, t, &why));
	assert_string_equal(why, "a pull or merge request run");
	rd->ci.pr = 0;
	rd->partial = true;
	assert_false(baseline_eligible(rd, t, &why));
	assert_string_equal(why, "a partial run");
	rundoc_free(rd);
}

static void test_selection(void **state)
{
	static const struct {
		const char *name;
		int at; /* 0: f2 on feature (PR into main), 1: c3 on main, 2: c3 in the shallow clone, 3: c2 on main */
		size_t k;
		const char *spec;
		enum baseline_mode mode;
		const char *want; /* last digits of the chosen run ids, in order */
	} cases[] = {
		/* merge-base of f2 and main is c2: runs at c2 then c1 (newest first), never c3 */
		{ "pr merge-base", 0, 5, NULL, BASELINE_MERGE_BASE, "3,2,1" },
		{ "pr merge-base K=2", 0, 2, NULL, BASELINE_MERGE_BASE, "3,2" },
		/* on main at c3: c3's clean run, then c2, then c1; PR/dirty/fork/other machine/config never */
		{ "main ancestors", 1, 5, NULL, BASELINE_ANCESTORS, "4,3,2,1" },
		/* an older commit of main: only its ancestors, not the newer c3 */
		{ "main older commit", 3, 5, NULL, BASELINE_ANCESTORS, "3,2,1" },
		/* shallow clone: latest on main by time */
		{ "shallow", 2, 3, NULL, BASELINE_LATEST, "4,3,2" },
		{ "explicit run", 0, 5, "00000000-0000-4000-8000-000000000001", BASELINE_EXPLICIT, "1" },
		/* a unique prefix (here all 32 digits without dashes), git-style */
		{ "explicit run prefix", 0, 5, "00000000000040008000000000000003", BASELINE_EXPLICIT, "3" },
		/* explicit commit: any clean or not run at that commit on this machine class */
		{ "explicit commit", 0, 5, NULL, BASELINE_EXPLICIT, "7,6,4" },
		{ "branch:main", 0, 2, "branch:main", BASELINE_LATEST, "4,3" },
	};
	struct memstore store;
	struct baseline_source src = { .candidates = m_candidates, .load = m_load, .arg = &store };

	(void)state;
	fill_store(&store);
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		const char *commit = cases[i].at == 0 ? f2 : cases[i].at == 3 ? c2 : c3;
		struct rundoc *cur = mkdoc("99999999-0000-4000-8000-000000000000", commit,
					   cases[i].at == 0 ? "feature" : "main", "h");
		struct baseline_options bo = BASELINE_OPTIONS_INIT;
		struct baseline b;
		struct err err = ERR_INIT;
		char got[128], spec[64];

		if (cases[i].at == 0) {
			cur->ci.pr = 12;
			cur->ci.base_branch = xstrdup("main");
		}
		bo.repo_dir = cases[i].at == 2 ? shallow : repo;
		bo.runs = cases[i].k;
		bo.spec = cases[i].spec;
		if (strcmp(cases[i].name, "explicit commit") == 0) {
			snprintf(spec, sizeof(spec), "%.12s", c3);
			bo.spec = spec;
		}
		assert_int_equal(baseline_select(&src, cur, &bo, &b, &err), 0);
		ids(&b, got, sizeof(got));
		if (b.mode != cases[i].mode || strcmp(got, cases[i].want) != 0)
			fail_msg("%s: mode %s runs %s, want %s %s (%s)", cases[i].name, baseline_mode_name(b.mode), got,
				 baseline_mode_name(cases[i].mode), cases[i].want, b.why ? b.why : "");
		assert_non_null(b.why);
		if (cases[i].mode == BASELINE_MERGE_BASE)
			assert_string_equal(b.anchor, c2);
		if (cases[i].at == 2) {
			assert_int_equal(b.notes.n, 1);
			assert_non_null(strstr(b.notes.msgs[0], "fetch-depth: 0"));
		}
		baseline_release(&b);
		rundoc_free(cur);
	}
	free_store(&store);
}

static void test_none_and_errors(void **state)
{
	static const struct { const char *spec; const char *msg; } bad[] = {
		{ "nonsense!", "--baseline 'nonsense!': expected a run id (or a unique prefix of one), a commit, branch:NAME or file:RUN.json" },
		{ "12345678-0000-4000-8000-000000000000", "--baseline '12345678-0000-4000-8000-000000000000': no stored run with that id" },
		{ "abcdef0", "--baseline 'abcdef0': no stored run with an id starting so, nor a run of suite 's' at such a commit on this machine class" },
		{ "branch:", "--baseline 'branch:': expected branch:NAME" },
		{ "00000000", "--baseline '00000000': run id prefix '00000000' is ambiguous" },
	};
	struct memstore store;
	struct baseline_source src = { .candidates = m_candidates, .load = m_load, .arg = &store };
	struct rundoc *cur = mkdoc("99999999-0000-4000-8000-000000000000", c3, "main", "h");
	struct baseline_options bo = BASELINE_OPTIONS_INIT;
	struct baseline b;
	struct err err = ERR_INIT;

	(void)state;
	/* Empty store: the first run passes, and says why. */
	memset(&store, 0, sizeof(store));
	bo.repo_dir = repo;
	assert_int_equal(baseline_select(&src, cur, &bo, &b, &err), 0);
	assert_int_equal(b.mode, BASELINE_NONE);
	assert_int_equal(b.n_runs, 0);
	assert_non_null(strstr(b.why, "nothing to compare, the run passes"));
	baseline_release(&b);

	fill_store(&store);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		bo.spec = bad[i].spec;
		assert_int_equal(baseline_select(&src, cur, &bo, &b, &err), ERR_INPUT);
		assert_string_equal(err.msg, bad[i].msg);
		baseline_release(&b);
	}

	/* Hex digits that start both a run's id and a stored commit: said, never guessed. */
	{
		char id[40], spec[16];

		snprintf(id, sizeof(id), "%.8s-0000-4000-8000-0000000000aa", c3);
		snprintf(spec, sizeof(spec), "%.8s", c3);
		add(&store, id, c1, "main", 0, false, false, 0.5);
		bo.spec = spec;
		assert_int_equal(baseline_select(&src, cur, &bo, &b, &err), ERR_INPUT);
		if (!strstr(err.msg, "names both run") || !strstr(err.msg, id) || !strstr(err.msg, c3))
			fail_msg("run and commit: %s", err.msg);
		baseline_release(&b);
		rundoc_free(store.runs[--store.n].doc);
	}

	/* No git commit: latest by time, said so. */
	bo.spec = NULL;
	free(cur->git.commit);
	cur->git.commit = NULL;
	bo.runs = 1;
	assert_int_equal(baseline_select(&src, cur, &bo, &b, &err), 0);
	assert_int_equal(b.mode, BASELINE_LATEST);
	assert_int_equal(b.n_runs, 1);
	assert_string_equal(b.runs[0].doc->run_id, "00000000-0000-4000-8000-000000000004");
	baseline_release(&b);

	/* The suite's baseline branch wins over the default. */
	bo.branch = "release";
	assert_int_equal(baseline_select(&src, cur, &bo, &b, &err), 0);
	assert_int_equal(b.mode, BASELINE_NONE);
	assert_string_equal(b.branch, "release");
	baseline_release(&b);
	rundoc_free(cur);
	free_store(&store);
}

/* Loading stops once every benchmark has K runs. */
static void test_loads_only_what_it_needs(void **state)
{
	struct memstore store;
	struct baseline_source src = { .candidates = m_candidates, .load = m_load, .arg = &store };
	struct rundoc *cur = mkdoc("99999999-0000-4000-8000-000000000000", c3, "main", "h");
	struct baseline_options bo = BASELINE_OPTIONS_INIT;
	struct baseline b;
	struct err err = ERR_INIT;

	(void)state;
	fill_store(&store);
	bo.repo_dir = repo;
	bo.runs = 1;
	assert_int_equal(baseline_select(&src, cur, &bo, &b, &err), 0);
	assert_int_equal(b.n_runs, 1);
	/* c3's runs newest first: 9 (another config: read, not used), then 4; nothing more */
	assert_string_equal(b.runs[0].doc->run_id, "00000000-0000-4000-8000-000000000004");
	assert_int_equal(store.loads, 2);
	baseline_release(&b);
	rundoc_free(cur);
	free_store(&store);
}

static void test_parse_time(void **state)
{
	(void)state;
	assert_true(baseline_parse_time("1970-01-01T00:00:00Z") == 0);
	assert_true(fabs(baseline_parse_time("2026-11-28T18:34:56.250Z") - 1795890896.25) < 1e-6);
	assert_true(baseline_parse_time("2026-11-28T19:34:56+01:00") == 1795890896);
	assert_true(isnan(baseline_parse_time("yesterday")));
	assert_true(isnan(baseline_parse_time("2026-11-28T18:34:56")));
}

/* One more series of the record (changes: owned from now on, or NULL),
 * indexed again as a store's baseline is. */
static void series_add(struct baseline *b, const char *project, const char *bench, const char *metric,
		       double sum_sq, size_t n, double *changes)
{
	struct baseline_spread *s;

	b->spreads = xrealloc(b->spreads, (b->n_spreads + 1) * sizeof(*b->spreads));
	s = &b->spreads[b->n_spreads++];
	s->project = xstrdup(project);
	s->suite = xstrdup("s");
	s->bench = xstrdup(bench);
	s->metric = xstrdup(metric);
	s->sum_sq = sum_sq;
	s->n = n;
	s->changes = changes;
	baseline_index_record(b);
}

static void spread_add(struct baseline *b, const char *project, const char *bench, const char *metric,
		       double sum_sq, size_t n)
{
	series_add(b, project, bench, metric, sum_sq, n, NULL);
}

/*
 * The machine's recorded spread: sqrt(sum of squared differences / 2n) over
 * the other series of the metric (a benchmark's own series is left out, in
 * any project but its own), none below BASELINE_SPREAD_MIN differences.
 */
static void test_machine_spread(void **state)
{
	struct baseline b;
	size_t n = 0;
	double s;

	(void)state;
	memset(&b, 0, sizeof(b));
	assert_true(isnan(baseline_machine_spread(&b, "p", "s", "x", "wall", &n)));
	assert_int_equal(n, 0);
	/* 12 differences of 0.1 in another project's "y", 8 of 0.2 in "z" */
	spread_add(&b, "q", "y", "wall", 12 * 0.01, 12);
	assert_true(isnan(baseline_machine_spread(&b, "p", "s", "x", "wall", &n)));
	assert_int_equal(n, 12);
	spread_add(&b, "q", "z", "wall", 8 * 0.04, 8);
	s = baseline_machine_spread(&b, "p", "s", "x", "wall", &n);
	assert_int_equal(n, 20);
	assert_true(fabs(s - sqrt((0.12 + 0.32) / 40.0)) < 1e-12);
	/* other metrics, and x's own series in its project, do not count; the
	 * same benchmark name in another project does */
	spread_add(&b, "p", "x", "wall", 100, 50);
	spread_add(&b, "q", "y", "cpu", 100, 50);
	assert_true(fabs(baseline_machine_spread(&b, "p", "s", "x", "wall", &n) - s) < 1e-12);
	assert_int_equal(n, 20);
	s = baseline_machine_spread(&b, "q", "s", "x", "wall", &n);
	assert_int_equal(n, 70);
	assert_true(fabs(s - sqrt((0.12 + 0.32 + 100) / 140.0)) < 1e-12);
	baseline_release(&b);
}

/* Series of the record with their changes kept: `n` changes k / 100, for
 * k = from, from + 1, ... */
static void changes_add(struct baseline *b, const char *project, const char *bench, const char *metric,
			size_t n, int from)
{
	double *changes = xmalloc(n * sizeof(*changes));

	for (size_t i = 0; i < n; i++)
		changes[i] = (from + (int)i) / 100.0;
	series_add(b, project, bench, metric, 0, n, changes);
}

/*
 * The machine's recorded run-to-run change: the nearest-rank quantile of
 * the changes of every series of the metric, the benchmark's own
 * included; none below BASELINE_SPREAD_MIN changes, and series without
 * their changes kept do not count.
 */
static void test_machine_jump(void **state)
{
	struct baseline b;
	size_t n = 0;

	(void)state;
	memset(&b, 0, sizeof(b));
	assert_true(isnan(baseline_machine_jump(&b, "wall", 0.95, &n)));
	assert_int_equal(n, 0);
	/* 0.01 .. 0.12 in one series, 0.13 .. 0.19 in another: 19 changes */
	changes_add(&b, "p", "x", "wall", 12, 1);
	changes_add(&b, "q", "y", "wall", 7, 13);
	spread_add(&b, "q", "z", "wall", 100, 50); /* no changes kept */
	changes_add(&b, "q", "y", "cpu", 40, 50);
	assert_true(isnan(baseline_machine_jump(&b, "wall", 0.95, &n)));
	assert_int_equal(n, 19);
	/* a 20th, in the series' own benchmark: ranks 19 of 20 at 95% */
	changes_add(&b, "p", "x", "wall", 1, 20);
	assert_true(fabs(baseline_machine_jump(&b, "wall", 0.95, &n) - 0.19) < 1e-12);
	assert_int_equal(n, 20);
	assert_true(fabs(baseline_machine_jump(&b, "wall", 0.5, NULL) - 0.10) < 1e-12);
	assert_true(fabs(baseline_machine_jump(&b, "wall", 1, NULL) - 0.20) < 1e-12);
	/* cpu: 0.50 .. 0.89, rank 38 of 40 */
	assert_true(fabs(baseline_machine_jump(&b, "cpu", 0.95, &n) - 0.87) < 1e-12);
	assert_int_equal(n, 40);
	/* the spread leaves out both of x's own series (12 and 1 changes),
	 * wherever the index sorted them: 7 of y and 50 of z remain */
	baseline_machine_spread(&b, "p", "s", "x", "wall", &n);
	assert_int_equal(n, 57);
	baseline_release(&b);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_eligible),
		cmocka_unit_test(test_selection),
		cmocka_unit_test(test_none_and_errors),
		cmocka_unit_test(test_loads_only_what_it_needs),
		cmocka_unit_test(test_parse_time),
		cmocka_unit_test(test_machine_spread),
		cmocka_unit_test(test_machine_jump),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
