/*
 * config.h: the `"prometheus"` member of a benchmark's `"monitor"`
 * object (docs/monitor.md): one target or an array of them, each a
 * /metrics URL, a preset and/or the metrics to take, how often to scrape
 * and how long to wait.
 *
 *   "monitor": {"prometheus": {"url": "http://127.0.0.1:8000/metrics", "preset": "vllm",
 *                              "interval": "1s"}}
 *
 * One function reads and checks the member: prom_config_validate() (at
 * suite load) keeps only the problems, prom_config_parse() (when the
 * benchmark runs) keeps the configuration and also checks the
 * environment (a token variable that is not set).
 */
#ifndef PERFGATE_PROM_CONFIG_H
#define PERFGATE_PROM_CONFIG_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "../err.h"
#include "series.h"

struct prom_config_target {
	char *url;
	char *name;              /* the metrics' prefix: server.NAME.METRIC */
	const char *preset;      /* the preset's name, or NULL */
	double interval;         /* s between scrapes (default 1) */
	double timeout;          /* s a scrape may take (default 1) */
	double max_size;         /* bytes of exposition taken (default 16 MiB) */
	char *token_env;         /* environment variable with a bearer token, or NULL */
	struct prom_series_metric *metrics; /* the preset's, then the target's own */
	size_t n_metrics;
	void **kept;             /* what the target's own metrics point to, freed with it */
	size_t n_kept, alloc_kept;
};

struct prom_config {
	struct prom_config_target *targets;
	size_t n_targets;
};

/* One problem per mistake, each at its JSON path under `path` (which
 * names the "prometheus" member itself). */
void prom_config_validate(const cJSON *v, const char *path, struct errlist *problems);

/* Build the configuration of a validated member; ERR_INPUT (with the
 * first problem) when it is invalid or a token_env variable is unset. */
int prom_config_parse(struct prom_config **out, const cJSON *v, const char *path, struct err *err);
void prom_config_free(struct prom_config *c);

#endif
