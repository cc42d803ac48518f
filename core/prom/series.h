/*
 * series.h: from scraped Prometheus series to perfgate metrics, over one
 * measured window (docs/monitor.md, "From series to metrics").
 *
 * A metric (struct prom_series_metric) names what to read: one or more
 * candidates, tried in order until one is present in a scrape (servers
 * rename their metrics between versions), each a series name, a kind and
 * label matchers.  A track (struct prom_series_track) follows one metric
 * through the scrapes of one window and turns them into values:
 *
 *   gauge      NAME.mean, NAME.max     over the scrapes (matching series
 *                                      combined per scrape by `agg`)
 *   counter    NAME.increase, NAME.rate   the increase over the window, per
 *                                      series, summed; a value lower than
 *                                      the last is a reset (the counter
 *                                      restarted from 0, so it adds its whole
 *                                      value); a series first seen after the
 *                                      window's first scrape started at 0
 *                                      within it; rate = increase / (last
 *                                      scrape - first scrape)
 *   histogram  NAME.pNN, NAME.mean, NAME.rate   from the increase of every
 *                                      bucket over the window (the window's
 *                                      own observations, not the server's
 *                                      lifetime), quantiles interpolated
 *                                      linearly inside the bucket as
 *                                      Prometheus' histogram_quantile() does;
 *                                      mean = increase of _sum / increase of
 *                                      _count; rate = observations per second
 *   summary    NAME.pNN (the server's own quantiles at the window's last
 *                                      scrape), NAME.mean, NAME.rate
 *   ratio      NAME                    increase of the numerator / increase
 *                                      of the denominator (two counters),
 *                                      e.g. prefix-cache hits / queries
 *
 * Every value is multiplied by the candidate's `scale` (1e-6 turns a
 * counter of microseconds into seconds).  Everything here is pure: no
 * clock, no I/O; the scraper (scrape.h) feeds it.
 */
#ifndef PERFGATE_PROM_SERIES_H
#define PERFGATE_PROM_SERIES_H

#include <stdbool.h>
#include <stddef.h>

#include "../rundoc.h"
#include "prom.h"

enum prom_series_kind {
	PROM_KIND_AUTO,          /* from the exposition's TYPE line */
	PROM_KIND_GAUGE,
	PROM_KIND_COUNTER,
	PROM_KIND_HISTOGRAM,
	PROM_KIND_SUMMARY,
	PROM_KIND_RATIO
};

/* How the series a selector matches become one value per scrape (gauges)
 * or per window (counters, histograms and ratios always sum). */
enum prom_series_agg { PROM_AGG_SUM, PROM_AGG_MAX, PROM_AGG_MIN, PROM_AGG_MEAN };

struct prom_series_matcher {
	const char *name;
	const char *value;       /* an absent label matches "" */
	bool negate;             /* name != value */
};

struct prom_series_candidate {
	enum prom_series_kind kind;
	const char *series;      /* family or sample name ("x" also finds "x_total") */
	const char *denominator; /* ratio: the second counter */
	const struct prom_series_matcher *labels;
	size_t n_labels;
	double scale;            /* values times this; 0 means 1 */
};

enum { PROM_SERIES_MAX_QUANTILES = 8 };

struct prom_series_metric {
	const char *name;        /* "kv_cache_usage": becomes PREFIX.kv_cache_usage.max */
	const char *unit;        /* of the values after scaling: "1", "s", "B"...; NULL: "1" */
	enum rd_direction direction;
	enum prom_series_agg agg;
	double quantiles[PROM_SERIES_MAX_QUANTILES]; /* histograms; none: 0.5, 0.9, 0.99 */
	size_t n_quantiles;
	/* One value per window under NAME itself (what a ratio gives): a
	 * gauge candidate of such a metric gives its mean. */
	bool plain;
	const struct prom_series_candidate *candidates;
	size_t n_candidates;
};

/* One value of a window. */
struct prom_series_value {
	char name[160];          /* "kv_cache_usage.max" (without the target's prefix) */
	char unit[16];
	enum rd_direction direction;
	double value;
};

struct prom_series_track;

/* A track borrows `m` (it must outlive the track). */
struct prom_series_track *prom_series_track_new(const struct prom_series_metric *m);
void prom_series_track_free(struct prom_series_track *t);

/*
 * Feed one successful scrape taken `t` seconds after the window opened;
 * `first` is true for the window's first successful scrape (its counters
 * are the baseline).  Until one candidate is present the track keeps
 * trying them, in order, at every scrape.
 */
void prom_series_track_scrape(struct prom_series_track *t, const struct prom_doc *d, double t_s, bool first);

/* The candidate in use, or -1 while none was found; and its kind (AUTO
 * while none was found). */
int prom_series_track_found(const struct prom_series_track *t);
enum prom_series_kind prom_series_track_kind(const struct prom_series_track *t);

/* The window's values into out[0..max); returns how many.  A statistic
 * without data (a histogram that saw no observation, a ratio whose
 * denominator did not move, a rate over fewer than two scrapes) is left
 * out rather than given as 0. */
size_t prom_series_track_values(const struct prom_series_track *t, struct prom_series_value *out, size_t max);

/* One point per scrape (NAN until a candidate is found) for the
 * per-second series: a gauge's value, a
 * counter's rate since the previous scrape, a histogram's or summary's
 * mean since the previous scrape, a ratio's since the previous scrape
 * (NAN where there is none).  *times in seconds since the window opened. */
size_t prom_series_track_points(const struct prom_series_track *t, const double **times, const double **values);

/* Pure pieces, exported for the tests. */

/* Prometheus' histogram_quantile() over cumulative buckets: `le` sorted
 * ascending, the last +Inf; `cum` the cumulative counts (made monotonic
 * here).  The quantile falls in the first bucket whose count reaches
 * q * total and is interpolated linearly between that bucket's bounds,
 * the lowest bucket starting at 0 (or being its own bound when that is
 * <= 0); in the +Inf bucket it is the highest finite bound.  NAN when the
 * total is 0, there is no +Inf bucket, or q is outside [0, 1]. */
double prom_series_histogram_quantile(const double *le, const double *cum, size_t n, double q);

/* "p50", "p99", "p99.9" for q = 0.5, 0.99, 0.999. */
void prom_series_quantile_name(double q, char *buf, size_t len);

/* The unit of a counter's rate: "1" -> "1/s", "B" -> "B/s", "s" -> "1". */
void prom_series_rate_unit(const char *unit, char *buf, size_t len);

/* Parse "gauge", "counter", "histogram", "summary", "ratio" (and "auto");
 * and "sum", "max", "min", "mean".  Return 0 or -1. */
int prom_series_kind_parse(const char *s, enum prom_series_kind *out);
int prom_series_agg_parse(const char *s, enum prom_series_agg *out);
const char *prom_series_kind_name(enum prom_series_kind k);

#endif
