/*
 * scrape.h: scraping Prometheus targets during a measured window.
 *
 * Each target gets a thread of its own (never the load engine's), which
 * GETs its /metrics at once, then every `interval` on a fixed grid, and a
 * last time when the window closes, each GET bounded by the target's
 * `timeout` (libcurl easy, no signals).  A scrape that fails (refused,
 * timed out, a status other than 200, larger than max_size, cut short)
 * is counted and skipped; malformed lines are skipped and counted.  When
 * the window closes, the tracks (series.h) give the window's values,
 * which become metrics `server.NAME.METRIC[.STAT]` of the benchmark, one
 * sample per window; what failed becomes a warning, never an error: a
 * server's metrics explain a run, they do not make it invalid.
 *
 * A bearer token is read from the target's token_env when scraping
 * starts, sent in an Authorization header, and written nowhere.
 */
#ifndef PERFGATE_PROM_SCRAPE_H
#define PERFGATE_PROM_SCRAPE_H

#include "../err.h"
#include "../rundoc.h"
#include "config.h"

struct prom_scrape;

/* Start scraping every target of cfg (borrowed: it must outlive the
 * scrape).  Fails only when a thread cannot be started or a token
 * variable is unset. */
int prom_scrape_start(struct prom_scrape **out, const struct prom_config *cfg, struct err *err);

/*
 * Stop (after one last scrape of each target, which waits at most the
 * target's timeout; the targets are stopped together), add the window's values to `b` as one sample each,
 * append the per-scrape series to b's extra "server_metrics" and the
 * scrape counts, the series found and the metrics missing to its extra
 * "prometheus", and put one line per problem into `notices` (each line
 * once; NULL: none).  With b NULL nothing is added (a start that failed
 * half-way).  Frees s.
 */
void prom_scrape_stop(struct prom_scrape *s, struct rd_bench *b, struct errlist *notices);

#endif
