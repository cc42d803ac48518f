/*
 * site.h: the static history site (`perfgate site DIR`): an index of the
 * store's suites, benchmarks and metrics with their current status and a
 * sparkline each, one page per metric with its trend (inline gnuplot SVG),
 * change points, the baseline band and its runs, and each run's HTML report
 * (core/report_html.h).  Pages are self-contained (core/html.h) and
 * relative links only, so the folder can be published as it is (GitHub
 * Pages, GitLab Pages) or opened from the disk.
 *
 * This module draws pages and keeps the manifest; cmd/site.c reads the
 * store and writes the files.  The manifest (DIR/site.json) says, for each
 * series, what its page was made from (the series' run count and newest
 * run) and what the index shows for it, so that a later `site` redraws only
 * the pages of series that gained runs and the index from the manifest.
 *
 * Layout: DIR/index.html, DIR/m/<slug>.html per metric, DIR/runs/<run
 * id>.html per run, DIR/site.json.
 */
#ifndef PERFGATE_SITE_H
#define PERFGATE_SITE_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "err.h"
#include "util.h"

#define SITE_MANIFEST "site.json"
#define SITE_SPARK_RUNS 30   /* medians in an index sparkline */

/* One run of a series (borrowed strings). */
struct site_point {
	const char *run_id;
	const char *commit;      /* full hex, NULL outside git */
	const char *subject;     /* NULL when unknown */
	const char *time;        /* RFC 3339 UTC: commit time, else start time */
	double median;           /* SI units */
	double ci_low, ci_high;  /* NAN when unknown */
	long n;                  /* repetitions */
	const char *verdict;     /* the newest stored verdict of this metric in this run, or NULL */
	bool dirty;
	bool changepoint;        /* a stored change point starts at this run */
	double cp_magnitude;     /* mean after / mean before - 1, when changepoint */
	double cp_p;
	bool has_report;         /* runs/<run_id>.html exists (link to it) */
};

/* One metric's series as a page shows it (borrowed). */
struct site_series {
	const char *project, *suite, *bench, *metric;
	const char *unit, *direction;
	const char *branch;      /* the branch shown; NULL: all branches */
	const struct site_point *points; /* oldest first; the newest `limit` runs */
	size_t n;
	long long total_runs;    /* runs of the series in the store (all branches) */
	const char *signature;   /* what the page was made from (site_signature()) */
};

/* The baseline band of a series: the range of the medians of the newest
 * `base_runs` runs before the last, none from before the newest change
 * point (what `gate` compares against, as `plot trend` draws it).  NAN, NAN
 * when there are none. */
void site_baseline_band(const struct site_point *p, size_t n, size_t base_runs, double *lo, double *hi);

/* The page's file name under DIR: "m/" + the names made safe for a file
 * (outside [A-Za-z0-9._-] becomes '_') + a short hash of the exact names
 * (two series whose safe names collide still get two files) + ".html". */
char *site_series_file(const char *project, const char *suite, const char *bench, const char *metric);

/* The identity of a series in the manifest ("project\x1fsuite\x1fbench\x1fmetric"). */
char *site_series_key(const char *project, const char *suite, const char *bench, const char *metric);

/* What a series' page depends on in the store: its run count and its
 * newest run's place and start; the page is redrawn when this changes. */
char *site_signature(long long runs, const char *last_time, const char *last_started_at);

/*
 * The metric page.  `svg` is the trend picture from gnuplot (NULL: the page
 * says why in `svg_problem`, or nothing when NULL too).  Appends to *out.
 */
void site_metric_page(const struct site_series *s, const char *svg, const char *svg_problem, struct sb *out);

/* The trend picture's gnuplot script for a series (SVG to stdout, after a
 * "reset"), appended to *script; ERR_INPUT when there is nothing to draw. */
int site_trend_script(const struct site_series *s, struct sb *script, struct err *err);

/*
 * The manifest: a cJSON object {"perfgate_site": 1, "settings": "...",
 * "series": {KEY: entry}}.  An entry is what the index shows for a series
 * (site_entry_from_series()), plus its page's file and signature.
 */
cJSON *site_manifest_new(const char *settings);
/* Read DIR/site.json; a missing, unreadable or foreign manifest (another
 * settings string, another format) gives a fresh one and *fresh = true. */
cJSON *site_manifest_load(const char *dir, const char *settings, bool *fresh);
/* The entry of a series, or NULL. */
const cJSON *site_manifest_entry(const cJSON *manifest, const char *key);
/* Replace a series' entry with what `s` holds now (its page was drawn). */
void site_manifest_put(cJSON *manifest, const char *key, const struct site_series *s, const char *file);
/* Drop the entries whose keys are not in keys[0..n) (series gone from the
 * store); their page files are returned in *gone (caller frees each and the
 * array) for the caller to delete. */
size_t site_manifest_prune(cJSON *manifest, char *const *keys, size_t n, char ***gone);

/* The index page from the manifest's entries (grouped by project and suite,
 * then benchmark).  `title` names the site; `generated` says when; `branch`
 * is the branch shown (NULL: all branches). */
void site_index_page(const cJSON *manifest, const char *title, const char *generated, const char *branch,
		     struct sb *out);

#endif
