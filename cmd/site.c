/*
 * site.c: `perfgate site DIR`: the static history site from the store (the
 * embedded database, a database URL, or the data branch after `store
 * import`): DIR/index.html lists every suite, benchmark and metric with its
 * status and a sparkline; DIR/m/ has a page per metric (trend, change
 * points, baseline band, runs); DIR/runs/ the HTML report of each run shown.
 * A later `site DIR` redraws only the pages of series that gained runs and
 * writes reports only for runs that have none (core/site.h's manifest).
 *
 * Exit codes: 0 written (reports or pictures that could not be made are
 * warnings), 2 usage, DIR unusable or a --suite/--project that matches no
 * run, 4 the database is unreachable.
 */
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../core/compare.h"
#include "../core/gitinfo.h"
#include "../core/plot.h"
#include "../core/report.h"
#include "../core/report_html.h"
#include "../core/site.h"
#include "../core/util.h"
#include "../db/baseline.h"
#include "../db/db.h"
#include "../db/history.h"
#include "cmd.h"

struct site_args {
	const char *dir, *db_url, *branch, *project, *suite, *title;
	bool all_branches, full, quiet, no_reports;
	long limit;
};

/* One series to redraw: its history and the points made from it. */
struct redraw {
	const struct history_series *ls;
	struct history *h;
	struct site_point *pts;
	double *medians;      /* the points' medians, for the reports' sparklines */
	char *key, *file, *sig;
	const char *branch;   /* the branch shown; NULL: all */
	char *svg;
};

struct counts {
	size_t pages, reports, report_failed;
};

/* Where a run appears: the runs of all redrawn series, sorted by run id. */
struct occurrence {
	const char *run_id;
	size_t series, at;
};

#define REPORT_SPARK 20 /* medians in a report's sparklines, the run's last */

/* Write a page: a temporary file beside it, then rename (a reader never sees
 * half a page; no fsync: the site can always be made again). */
static int write_file(const char *path, const struct sb *content, struct err *err)
{
	char *tmp = xasprintf("%s.tmpXXXXXX", path);
	const char *p = sb_str(content);
	size_t left = strlen(p);
	int fd = mkstemp(tmp), rc = 0;

	if (fd < 0) {
		rc = err_sys(err, ERR_INPUT, "cannot write '%s'", path);
		goto done;
	}
	if (fchmod(fd, 0644) != 0)
		rc = err_sys(err, ERR_INPUT, "cannot write '%s'", path);
	while (rc == 0 && left > 0) {
		ssize_t w = write(fd, p, left);

		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0) {
			rc = err_sys(err, ERR_INPUT, "cannot write '%s'", path);
			break;
		}
		p += w;
		left -= (size_t)w;
	}
	if (close(fd) != 0 && rc == 0)
		rc = err_sys(err, ERR_INPUT, "cannot write '%s'", path);
	if (rc == 0 && rename(tmp, path) != 0)
		rc = err_sys(err, ERR_INPUT, "cannot write '%s'", path);
	if (rc != 0)
		unlink(tmp);
done:
	free(tmp);
	return rc;
}

static bool exists(const char *path)
{
	struct stat st;

	return stat(path, &st) == 0;
}

/* DIR, DIR/m and DIR/runs, readable by a web server. */
static int make_dirs(const char *dir, struct err *err)
{
	static const char *const sub[] = { "", "/m", "/runs" };
	struct stat st;

	for (size_t i = 0; i < ARRAY_SIZE(sub); i++) {
		char *p = xasprintf("%s%s", dir, sub[i]);
		int rc = 0;

		if (stat(p, &st) == 0 && !S_ISDIR(st.st_mode))
			rc = err_set(err, ERR_INPUT, "'%s' is not a folder", p);
		else if (stat(p, &st) != 0 && (rc = mkdir_p(p, err)) == 0 && chmod(p, 0755) != 0)
			rc = err_sys(err, ERR_INPUT, "cannot make '%s' readable", p);
		free(p);
		if (rc)
			return rc;
	}
	return 0;
}

/* ---- run reports ---- */

/* The run's stored comparison, else the run's numbers alone. */
static int run_result(struct db *db, const struct rundoc *rd, struct compare_result **res, struct err *err)
{
	struct compare_options co = COMPARE_OPTIONS_INIT;
	cJSON *json = NULL;
	int rc = db_comparison_load(db, rd->run_id, &json, err);

	if (rc == 0) {
		rc = report_from_json(json, res, err);
		cJSON_Delete(json);
		return rc;
	}
	if (rc != ERR_NOTFOUND)
		return rc;
	err_clear(err);
	if ((rc = compare_run(rd, NULL, NULL, &co, res, err)) == 0)
		compare_add_note(*res, "no comparison was stored for this run (it was run or imported, not gated): "
				       "its numbers alone, without a baseline");
	return rc;
}

static bool has_http(const struct rundoc *rd)
{
	for (size_t i = 0; i < rd->n_benches; i++)
		if (rd->benches[i].kind == RUNDOC_KIND_HTTP)
			return true;
	return false;
}

/* The newest baseline run of a load test's comparison, for its latency
 * spectrum drawn under the run's: the run of the comparison's nearest
 * baseline commit among the series shown (NULL when none is). */
static const char *baseline_run(const struct compare_result *res, const struct redraw *r, size_t n,
				const struct report_html_history *hist, size_t n_hist)
{
	if (res->n_base_commits == 0 || !res->base_commits[0])
		return NULL;
	for (size_t i = 0; i < n_hist; i++)
		for (size_t s = 0; s < n; s++) {
			if (strcmp(r[s].ls->benchmark, hist[i].bench) != 0 || strcmp(r[s].ls->metric, hist[i].metric) != 0)
				continue;
			for (size_t k = r[s].h->n; k-- > 0;)
				if (r[s].pts[k].commit && strcmp(r[s].pts[k].commit, res->base_commits[0]) == 0)
					return r[s].pts[k].run_id;
		}
	return NULL;
}

static int write_report(struct db *db, const struct site_args *a, const char *run_id, const struct redraw *r,
			size_t n, const struct report_html_history *hist, size_t n_hist, struct errlist *warn,
			struct err *err)
{
	struct report_html_options o = REPORT_HTML_OPTIONS_INIT;
	struct rundoc *rd = NULL, *base = NULL;
	const char *base_id;
	struct compare_result *res = NULL;
	struct sb page = SB_INIT, path = SB_INIT;
	int rc;

	if ((rc = db_run_load(db, run_id, &rd, err)) < 0 || (rc = run_result(db, rd, &res, err)) < 0)
		goto done;
	base_id = has_http(rd) ? baseline_run(res, r, n, hist, n_hist) : NULL;
	if (base_id && strcmp(base_id, run_id) != 0) {
		struct err berr = ERR_INIT;

		if (db_run_load(db, base_id, &base, &berr) < 0)
			base = NULL; /* the spectrum is drawn without it */
	}
	o.run = rd;
	o.baseline = base;
	o.site_url = "../index.html";
	o.warnings = warn;
	o.history = hist;
	o.n_history = n_hist;
	report_html(res, &o, &page);
	sb_printf(&path, "%s/runs/", a->dir);
	sb_puts(&path, run_id); /* a run id is hex and dashes (checked by the caller) */
	sb_puts(&path, ".html");
	rc = write_file(sb_str(&path), &page, err);
done:
	sb_release(&page);
	sb_release(&path);
	compare_result_free(res);
	rundoc_free(rd);
	rundoc_free(base);
	return rc;
}

static bool plain_id(const char *id)
{
	return *id && strspn(id, "0123456789abcdefABCDEF-") == strlen(id);
}

static int cmp_occurrence(const void *a, const void *b)
{
	return strcmp(((const struct occurrence *)a)->run_id, ((const struct occurrence *)b)->run_id);
}

static struct occurrence *occurrences(const struct redraw *r, size_t n, size_t *n_occ)
{
	struct occurrence *o;
	size_t total = 0, k = 0;

	for (size_t i = 0; i < n; i++)
		total += r[i].h->n;
	o = xcalloc(total + 1, sizeof(*o));
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < r[i].h->n; j++)
			o[k++] = (struct occurrence){ r[i].pts[j].run_id, i, j };
	if (total > 1)
		qsort(o, total, sizeof(*o), cmp_occurrence);
	*n_occ = total;
	return o;
}

/* The sparklines of a run's report: in every redrawn series it belongs
 * to, the medians of up to REPORT_SPARK runs ending with it. */
static size_t report_history(const struct redraw *r, const struct occurrence *occ, size_t n_occ, const char *run_id,
			     struct report_html_history **out)
{
	struct occurrence key = { run_id, 0, 0 };
	const struct occurrence *hit = n_occ ? bsearch(&key, occ, n_occ, sizeof(*occ), cmp_occurrence) : NULL;
	size_t n = 0;

	*out = NULL;
	if (!hit)
		return 0;
	while (hit > occ && strcmp(hit[-1].run_id, run_id) == 0)
		hit--;
	for (const struct occurrence *o = hit; o < occ + n_occ && strcmp(o->run_id, run_id) == 0; o++) {
		const struct redraw *s = &r[o->series];
		size_t from = o->at + 1 > REPORT_SPARK ? o->at + 1 - REPORT_SPARK : 0;

		*out = xrealloc(*out, (n + 1) * sizeof(**out));
		(*out)[n++] = (struct report_html_history){ s->ls->benchmark, s->ls->metric, s->medians + from,
							    o->at + 1 - from };
	}
	return n;
}

/* Reports for the runs of the redrawn series that have none yet; each
 * point learns whether its report exists. */
static int write_reports(struct db *db, const struct site_args *a, struct redraw *r, size_t n, struct counts *c)
{
	struct errlist warn = ERRLIST_INIT;
	size_t n_occ = 0;
	struct occurrence *occ = occurrences(r, n, &n_occ);
	int rc = 0;

	for (size_t i = 0; i < n && rc != ERR_INFRA; i++)
		for (size_t k = 0; k < r[i].h->n && rc != ERR_INFRA; k++) {
			struct site_point *p = &r[i].pts[k];
			char *path = xasprintf("%s/runs/%s.html", a->dir, p->run_id);
			struct err err = ERR_INIT;

			if (!plain_id(p->run_id)) {
				p->has_report = false;
			} else if (exists(path) || a->no_reports) {
				p->has_report = exists(path);
			} else {
				struct report_html_history *hist = NULL;
				size_t n_hist = report_history(r, occ, n_occ, p->run_id, &hist);

				if ((rc = write_report(db, a, p->run_id, r, n, hist, n_hist, &warn, &err)) == 0) {
					p->has_report = true;
					c->reports++;
				} else {
					cmd_warn("run %.8s: no report: %s", p->run_id, err.msg);
					c->report_failed++;
				}
				free(hist);
			}
			free(path);
		}
	for (size_t i = 0; i < warn.n && i < 5; i++)
		cmd_warn("%s", warn.msgs[i]);
	errlist_release(&warn);
	free(occ);
	return rc == ERR_INFRA ? rc : 0;
}

/* ---- series ---- */

static void points_of(struct redraw *r)
{
	r->pts = xcalloc(r->h->n + 1, sizeof(*r->pts));
	r->medians = xcalloc(r->h->n + 1, sizeof(*r->medians));
	for (size_t i = 0; i < r->h->n; i++) {
		const struct history_row *h = &r->h->rows[i];

		r->medians[i] = h->median;
		r->pts[i] = (struct site_point){ .run_id = h->run_id, .commit = h->commit, .subject = h->subject,
						 .time = h->time, .median = h->median, .ci_low = h->ci_low,
						 .ci_high = h->ci_high, .n = h->n, .verdict = h->verdict,
						 .dirty = h->dirty, .changepoint = h->changepoint,
						 .cp_magnitude = h->cp_magnitude, .cp_p = h->cp_p };
	}
}

/* The series' newest runs on the branch shown; all branches when it has
 * none there. */
static int load_series(struct db *db, const struct site_args *a, const char *branch, struct redraw *r,
		       struct err *err)
{
	struct history_query q = HISTORY_QUERY_INIT;
	int rc;

	q.project = r->ls->project;
	q.suite = r->ls->suite;
	q.benchmark = r->ls->benchmark;
	q.metric = r->ls->metric;
	q.branch = branch;
	q.limit = a->limit;
	r->branch = branch;
	if ((rc = history_load(db, &q, &r->h, err)) < 0)
		return rc;
	if (r->h->n == 0 && branch) {
		history_free(r->h);
		r->h = NULL;
		q.branch = r->branch = NULL;
		if ((rc = history_load(db, &q, &r->h, err)) < 0)
			return rc;
	}
	points_of(r);
	return 0;
}

static struct site_series series_of(const struct redraw *r)
{
	return (struct site_series){ .project = r->ls->project, .suite = r->ls->suite, .bench = r->ls->benchmark,
				     .metric = r->ls->metric, .unit = r->h->unit ? r->h->unit : r->ls->unit,
				     .direction = r->h->direction, .branch = r->branch, .points = r->pts,
				     .n = r->h->n, .total_runs = r->ls->runs, .signature = r->sig };
}

/* Trends are drawn TREND_CHUNK to a gnuplot process (one process per page
 * of plots, not per plot; a chunk stays far from proc's 120 s limit however
 * large the store), by TREND_WORKERS processes at a time. */
#define TREND_CHUNK 25
#define TREND_WORKERS 2

struct chunk {
	struct sb script;
	size_t *which;        /* the redraws its pictures belong to, in order */
	size_t n;
	char **svgs;
	size_t n_svgs;
	char *problem;        /* NULL when drawn */
};

struct trend_work {
	struct chunk *c;
	size_t n, next;
	pthread_mutex_t lock;
};

static void *trend_worker(void *arg)
{
	struct trend_work *w = arg;

	for (;;) {
		struct err err = ERR_INIT;
		struct chunk *c;

		pthread_mutex_lock(&w->lock);
		c = w->next < w->n ? &w->c[w->next++] : NULL;
		pthread_mutex_unlock(&w->lock);
		if (!c)
			return NULL;
		if (plot_render_svgs(sb_str(&c->script), &c->svgs, &c->n_svgs, &err) != 0)
			c->problem = xstrdup(err.msg);
		else if (c->n_svgs != c->n)
			c->problem = xasprintf("gnuplot drew %zu of %zu pictures", c->n_svgs, c->n);
	}
}

/* The scripts in chunks: *out holds n / TREND_CHUNK + 2 chunks (the unused
 * ones zeroed); returns how many hold pictures. */
static size_t plan_chunks(struct redraw *r, size_t n, struct chunk **out)
{
	struct chunk *c = xcalloc(n / TREND_CHUNK + 2, sizeof(*c));
	size_t n_c = 0;

	for (size_t i = 0; i < n; i++) {
		struct site_series s = series_of(&r[i]);
		struct chunk *k = &c[n_c];
		struct err err = ERR_INIT;

		if (!k->which)
			k->which = xcalloc(TREND_CHUNK, sizeof(*k->which));
		if (site_trend_script(&s, &k->script, &err) != 0)
			continue;
		k->which[k->n++] = i;
		if (k->n == TREND_CHUNK)
			n_c++;
	}
	if (c[n_c].n)
		n_c++;
	*out = c;
	return n_c;
}

/* Every trend; a problem leaves the pictures out and is said on each page
 * (the first problem is returned, NULL when all were drawn). */
static char *draw_trends(struct redraw *r, size_t n)
{
	struct trend_work w = { .c = NULL, .n = 0, .next = 0 };
	pthread_t helper[TREND_WORKERS];
	size_t helpers = 0;
	char *problem = NULL;

	w.n = plan_chunks(r, n, &w.c);
	pthread_mutex_init(&w.lock, NULL);
	while (helpers + 1 < TREND_WORKERS && helpers + 1 < w.n &&
	       pthread_create(&helper[helpers], NULL, trend_worker, &w) == 0)
		helpers++;
	trend_worker(&w);
	for (size_t i = 0; i < helpers; i++)
		pthread_join(helper[i], NULL);
	pthread_mutex_destroy(&w.lock);
	for (size_t k = 0; k < n / TREND_CHUNK + 2; k++) {
		struct chunk *c = &w.c[k];

		for (size_t i = 0; i < c->n_svgs; i++) {
			if (!c->problem)
				r[c->which[i]].svg = c->svgs[i];
			else
				free(c->svgs[i]);
		}
		if (c->problem && !problem)
			problem = xstrdup(c->problem);
		free(c->problem);
		free(c->svgs);
		free(c->which);
		sb_release(&c->script);
	}
	free(w.c);
	return problem;
}

static int write_pages(const struct site_args *a, struct redraw *r, size_t n, const char *problem, cJSON *manifest,
		       struct counts *c, struct err *err)
{
	for (size_t i = 0; i < n; i++) {
		struct site_series s = series_of(&r[i]);
		struct sb page = SB_INIT;
		char *path = xasprintf("%s/%s", a->dir, r[i].file);
		int rc;

		site_metric_page(&s, r[i].svg, r[i].svg ? NULL : problem, &page);
		rc = write_file(path, &page, err);
		sb_release(&page);
		free(path);
		if (rc)
			return rc;
		site_manifest_put(manifest, r[i].key, &s, r[i].file);
		c->pages++;
	}
	return 0;
}

static void redraw_release(struct redraw *r, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		history_free(r[i].h);
		free(r[i].pts);
		free(r[i].medians);
		free(r[i].key);
		free(r[i].file);
		free(r[i].sig);
		free(r[i].svg);
	}
	free(r);
}

/* Is the report the index links for this series still there (a folder
 * restored without runs/ redraws, and so writes the reports again)? */
static bool report_kept(const struct site_args *a, const cJSON *e)
{
	const cJSON *run = cJSON_GetObjectItemCaseSensitive(e, "last_run");
	char *path;
	bool ok;

	if (a->no_reports || !cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(e, "has_report")) ||
	    !cJSON_IsString(run) || !plain_id(run->valuestring))
		return true;
	path = xasprintf("%s/runs/%s.html", a->dir, run->valuestring);
	ok = exists(path);
	free(path);
	return ok;
}

/* The series whose pages are stale or missing; *keys gets every series' key. */
static size_t plan(const struct site_args *a, const cJSON *manifest, const struct history_series *ls, size_t n_ls,
		   struct redraw **out, char **keys)
{
	struct redraw *r = xcalloc(n_ls + 1, sizeof(*r));
	size_t n = 0;

	for (size_t i = 0; i < n_ls; i++) {
		char *key = site_series_key(ls[i].project, ls[i].suite, ls[i].benchmark, ls[i].metric);
		char *sig = site_signature(ls[i].runs, ls[i].last_time, ls[i].last_started_at);
		char *file = site_series_file(ls[i].project, ls[i].suite, ls[i].benchmark, ls[i].metric);
		char *path = xasprintf("%s/%s", a->dir, file);
		const cJSON *e = site_manifest_entry(manifest, key);
		const cJSON *old = cJSON_GetObjectItemCaseSensitive(e, "signature");

		keys[i] = xstrdup(key);
		if (e && cJSON_IsString(old) && strcmp(old->valuestring, sig) == 0 && exists(path) &&
		    report_kept(a, e)) {
			free(key);
			free(sig);
			free(file);
		} else {
			r[n++] = (struct redraw){ .ls = &ls[i], .key = key, .file = file, .sig = sig };
		}
		free(path);
	}
	*out = r;
	return n;
}

static void remove_gone(const struct site_args *a, cJSON *manifest, char **keys, size_t n)
{
	char **gone = NULL;
	size_t n_gone = site_manifest_prune(manifest, keys, n, &gone);

	for (size_t i = 0; i < n_gone; i++) {
		char *path = xasprintf("%s/%s", a->dir, gone[i]);

		if (strncmp(gone[i], "m/", 2) == 0 && !strstr(gone[i], ".."))
			unlink(path);
		free(path);
		free(gone[i]);
	}
	free(gone);
}

static int finish(const struct site_args *a, cJSON *manifest, const char *branch, struct err *err)
{
	struct sb page = SB_INIT, path = SB_INIT;
	char when[64], *json;
	int rc;

	time_rfc3339(when, sizeof(when));
	site_index_page(manifest, a->title, when, branch, &page);
	sb_printf(&path, "%s/index.html", a->dir);
	rc = write_file(sb_str(&path), &page, err);
	sb_reset(&page);
	sb_reset(&path);
	json = xcheck(cJSON_Print(manifest));
	sb_puts(&page, json);
	sb_putc(&page, '\n');
	free(json);
	sb_printf(&path, "%s/%s", a->dir, SITE_MANIFEST);
	if (rc == 0)
		rc = write_file(sb_str(&path), &page, err);
	sb_release(&page);
	sb_release(&path);
	return rc;
}

/* The branch to show: --branch, else the repository's default, else main. */
static char *shown_branch(const struct site_args *a)
{
	struct err err = ERR_INIT;
	char *def = NULL;

	if (a->all_branches)
		return NULL;
	if (a->branch)
		return xstrdup(a->branch);
	if (gitinfo_default_branch(NULL, &def, &err) != 0 || !def)
		def = xstrdup("main");
	return def;
}

static int build(struct db *db, const struct site_args *a, struct counts *c, size_t *n_series, struct err *err)
{
	struct history_series *ls = NULL;
	struct redraw *r = NULL;
	char **keys = NULL, *branch = shown_branch(a), *settings, *problem = NULL;
	size_t n_ls = 0, n = 0;
	cJSON *manifest;
	bool fresh;
	int rc;

	/* What the pages depend on besides the store: another value starts afresh
	 * (and a --suite site never prunes the pages of a whole-store one). */
	settings = xasprintf("perfgate %s; branch %s; limit %ld; reports %s; project %s; suite %s", PERFGATE_VERSION,
			     branch ? branch : "(all)", a->limit, a->no_reports ? "no" : "yes",
			     a->project ? a->project : "(all)", a->suite ? a->suite : "(all)");
	manifest = a->full ? site_manifest_new(settings) : site_manifest_load(a->dir, settings, &fresh);
	if ((rc = history_list(db, a->project, a->suite, &ls, &n_ls, err)) < 0)
		goto done;
	if (n_ls == 0 && (a->project || a->suite)) {
		rc = err_set(err, ERR_INPUT, "the store holds no runs of %s '%s'", a->suite ? "suite" : "project",
			     a->suite ? a->suite : a->project);
		goto done;
	}
	keys = xcalloc(n_ls + 1, sizeof(*keys));
	n = plan(a, manifest, ls, n_ls, &r, keys);
	for (size_t i = 0; i < n; i++)
		if ((rc = load_series(db, a, branch, &r[i], err)) < 0)
			goto done;
	if ((rc = write_reports(db, a, r, n, c)) < 0) {
		err_set(err, rc, "the database failed while writing run reports");
		goto done;
	}
	problem = draw_trends(r, n);
	if (problem && n)
		cmd_warn("trend pictures left out: %s", problem);
	if ((rc = write_pages(a, r, n, problem, manifest, c, err)) < 0)
		goto done;
	remove_gone(a, manifest, keys, n_ls);
	rc = finish(a, manifest, branch, err);
	*n_series = n_ls;
done:
	free(problem);
	redraw_release(r, n);
	for (size_t i = 0; keys && i < n_ls; i++)
		free(keys[i]);
	free(keys);
	history_series_free(ls, n_ls);
	cJSON_Delete(manifest);
	free(settings);
	free(branch);
	return rc;
}

int cmd_site(int argc, char **argv)
{
	static const struct cmd_usage usage = {
		"site", "[options] DIR",
		"write a static history site of the store into DIR",
		"DIR/index.html lists every suite, benchmark and metric with its newest\n"
		"verdict, change and a sparkline; DIR/m/ has a page per metric (the trend with\n"
		"its baseline band and change points, the runs); DIR/runs/ the HTML report of\n"
		"each run shown.  Pages are self-contained: publish DIR as it is (GitHub or\n"
		"GitLab Pages).  Run again to update: only the pages of metrics that got runs\n"
		"are drawn again, and only runs without a report get one (DIR/site.json\n"
		"remembers what each page was made from)."
	};
	struct site_args a = { .limit = 200, .title = "perfgate: performance history" };
	const struct opt opts[] = {
		{ "all-branches", 0, OPT_FLAG, &a.all_branches, NULL, "show the runs of every branch as one series" },
		{ "branch", 'b', OPT_STRING, &a.branch, "NAME", "the branch to show (default: the repository's default branch, else main)" },
		{ "db", 0, OPT_STRING, &a.db_url, "URL", "PostgreSQL URL (default: $PERFGATE_DATABASE_URL, then the embedded database)" },
		{ "full", 0, OPT_FLAG, &a.full, NULL, "draw every page again" },
		{ "limit", 'n', OPT_INT, &a.limit, "N", "the newest N runs per metric (default 200; 0: all)" },
		{ "no-reports", 0, OPT_FLAG, &a.no_reports, NULL, "no HTML report per run" },
		{ "project", 0, OPT_STRING, &a.project, "NAME", "only this project" },
		{ "quiet", 'q', OPT_FLAG, &a.quiet, NULL, "print nothing but problems" },
		{ "suite", 's', OPT_STRING, &a.suite, "NAME", "only this suite" },
		{ "title", 0, OPT_STRING, &a.title, "TEXT", "the index page's title" },
	};
	struct strlist pos = STRLIST_INIT;
	struct db_options dbo = DB_OPTIONS_INIT;
	struct err err = ERR_INIT;
	struct db *db = NULL;
	struct counts c = { 0 };
	uint64_t t0 = now_ns();
	size_t n_series = 0;
	int rc, code = EXIT_PASS;

	OPT_PARSE_OR_RETURN(usage, opts, argc, argv, &pos);
	if (pos.n != 1 || a.limit < 0) {
		cmd_error(pos.n != 1 ? "'site' needs one DIR" : "--limit must be >= 0");
		code = EXIT_USAGE;
		goto done;
	}
	a.dir = pos.items[0];
	if ((rc = make_dirs(a.dir, &err)) < 0) {
		code = cmd_fail(rc, &err);
		goto done;
	}
	dbo.url = a.db_url;
	if ((rc = db_open(&db, &dbo, &err)) < 0 || (rc = build(db, &a, &c, &n_series, &err)) < 0) {
		code = cmd_fail(rc, &err);
		goto done;
	}
	if (!a.quiet)
		printf("site '%s': %zu metric%s, %zu page%s drawn, %zu run report%s written%s in %.2f s\n", a.dir,
		       n_series, n_series == 1 ? "" : "s", c.pages, c.pages == 1 ? "" : "s", c.reports,
		       c.reports == 1 ? "" : "s", c.report_failed ? " (some failed: see above)" : "",
		       (double)(now_ns() - t0) / 1e9);
done:
	db_free(db);
	strlist_release(&pos);
	return code;
}
