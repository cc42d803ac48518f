/*
 * monitor.h: resource sampling while a benchmark runs (the suite's
 * "monitor" object): CPU and RSS of the server process (by pid, pid_file or
 * process name) and of the whole machine from /proc, and GPU utilisation,
 * memory and power from an `nvidia-smi --query-gpu=... -lms N` child when
 * nvidia-smi is on PATH.
 *
 * A runner calls monitor_start() when a repetition's measured window opens
 * and monitor_stop() when it closes: each stop adds one sample (that
 * repetition's mean and max) to metrics such as `server.cpu.mean`,
 * `server.rss.max`, `system.cpu.mean`, `gpu.util.mean`, `gpu.mem.max`,
 * `gpu.power.mean`, and appends the per-interval readings to the
 * benchmark's extra "resources" time series.  With GPUs, each window also
 * gives `energy` (J: the GPUs' energy counters through gpu_energy.h, else
 * the integrated power; extra "energy" says which).  The "prometheus"
 * member scrapes the server's own metrics in the same window
 * (core/prom/scrape.h: metrics server.NAME.*).
 */
#ifndef PERFGATE_MONITOR_H
#define PERFGATE_MONITOR_H

#include <stdbool.h>
#include <sys/types.h>

#include <cjson/cJSON.h>

#include "err.h"
#include "rundoc.h"

struct prom_config;

struct monitor_options {
	pid_t pid;                /* 0: none */
	char *pid_file;           /* resolved path, or NULL */
	char *process;            /* process name (comm) to find, or NULL */
	bool system;              /* whole-machine CPU and memory (default true) */
	bool gpu;                 /* sample GPUs through nvidia-smi when present (default true) */
	double interval;          /* seconds between samples (default 0.2) */
	char *nvidia_smi;         /* the command (default "nvidia-smi", found on PATH) */
	struct prom_config *prometheus; /* targets to scrape (core/prom/config.h), or NULL */
};

/* Parse a validated "monitor" object; relative pid_file paths resolve
 * against `dir`.  Release with monitor_options_release(). */
int monitor_options_parse(const cJSON *monitor, const char *dir, struct monitor_options *out,
			  struct err *err);
void monitor_options_release(struct monitor_options *o);
/* Declared in suite.h too: append one line per problem. */
void monitor_validate(const cJSON *monitor, const char *path, struct errlist *problems);

struct monitor;

/* Start sampling (a background thread, and the nvidia-smi child when GPU
 * sampling is on and nvidia-smi exists). */
int monitor_start(struct monitor **out, const struct monitor_options *opts, struct err *err);
/* Stop, and add this window's samples to `bench` (metrics and the
 * "resources" series).  Frees the monitor.  `notices` gets lines such as
 * "nvidia-smi not found; GPU not sampled" (once). */
int monitor_stop(struct monitor *m, struct rd_bench *bench, struct errlist *notices,
		 struct err *err);

/*
 * Whether `name` is a metric that the monitor or the runner's efficiency
 * figures add (server.TARGET.* of a configured Prometheus target, energy,
 * energy_per_request, energy_per_output_token, output_tokens_per_joule,
 * cost_per_1k_requests, cost_per_1m_output_tokens, each also with a
 * statistic after it) and that benchmark `b` lacks: then `why` says why it
 * was not measured (the target never answered, the server exposes none of
 * its series, no GPU energy readings, no price), so that an SLO on it
 * fails the gate with that reason rather than reading as a misspelled
 * name.  False for any other name.
 */
bool monitor_unmeasured(const struct rd_bench *b, const char *name, char *why, size_t len);

/* Whether `name` (with or without a statistic) is one of those metrics:
 * they are per window, not per step of a capacity search. */
bool monitor_metric(const char *name);

#endif
