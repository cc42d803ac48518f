/*
 * preset.h: the metrics that matter for known inference servers, so that
 * `"prometheus": {"url": "...", "preset": "vllm"}` is all a user writes.
 *
 * Each preset metric lists the names it has had across the server's
 * versions, newest first; the scraper uses the first one the server
 * exposes and the run document says which (docs/monitor.md lists them).
 */
#ifndef PERFGATE_PROM_PRESET_H
#define PERFGATE_PROM_PRESET_H

#include <stddef.h>

#include "series.h"

struct prom_preset {
	const char *name;        /* "vllm": also the metric prefix, server.vllm.* */
	const char *server;      /* "vLLM", for messages and docs */
	const struct prom_series_metric *metrics;
	size_t n_metrics;
};

/* The preset called `name`, or NULL. */
const struct prom_preset *prom_preset_find(const char *name);

/* All presets, in a fixed order. */
const struct prom_preset *prom_preset_all(size_t *n);

/* Their names, for "did you mean" and messages ("vllm, sglang, tgi, triton"). */
const char *const *prom_preset_names(size_t *n);

#endif
