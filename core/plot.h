/*
 * plot.h: perfgate's pictures, drawn by gnuplot run as a child process
 * (core/proc.h).
 *
 * Each kind of plot is two steps: *_script() turns plain data into one
 * self-contained gnuplot script (the data inline as datablocks, no
 * timestamps, so the same data always gives the same script and the same
 * picture), and plot_render() feeds a script to gnuplot.  Three kinds:
 *
 *  - trend: one metric over commits, the per-run median with its confidence
 *    band, the baseline band, regressions and change points marked;
 *  - latency: the percentile spectrum ("nines" on a log axis, as
 *    HdrHistogram's plots show), several runs overlaid;
 *  - load: throughput against latency percentiles (the knee of a sweep or
 *    capacity run) with an SLO line, and the per-second time series of a load
 *    test (throughput, p99, errors, GPU utilisation).
 *
 * Values come in SI base units (seconds, bytes, 1/s); the scripts scale them
 * for humans (ms, MiB, ...) and say the unit in the axis label.
 */
#ifndef PERFGATE_PLOT_H
#define PERFGATE_PLOT_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"
#include "rundoc.h"
#include "util.h"

enum plot_format { PLOT_PNG, PLOT_SVG };

struct plot_output {
	const char *path;        /* the picture to write */
	enum plot_format format; /* from the extension: plot_format_from_path() */
	int width, height;       /* pixels; 0: 1200 x 700 */
};

/* PLOT_PNG for ".png", PLOT_SVG for ".svg" (any case); ERR_INPUT otherwise. */
int plot_format_from_path(const char *path, enum plot_format *out, struct err *err);

/*
 * Scale for humans: for values in SI unit `unit` whose largest magnitude is
 * max_abs, the factor to multiply them by and the unit to show ("s" -> "ns",
 * "us", "ms" or "s"; "B" -> "B", "KiB", "MiB", "GiB"; "1/s" -> "/s";
 * anything else unchanged with factor 1).
 */
void plot_scale(const char *unit, double max_abs, double *factor, const char **shown);

struct plot_trend_point {
	const char *label;  /* x tick: short commit hash or date */
	double median;      /* SI units */
	double lo, hi;      /* confidence interval of the median; NAN when unknown */
	bool regression;    /* a regression verdict: marked with a red triangle */
	bool changepoint;   /* first run after a change point: a vertical line */
	bool current;       /* the run under test (gate plots): a larger point */
	bool dirty;         /* measured from a tree with uncommitted changes: an open square */
};

struct plot_trend {
	const char *title;  /* "suite: benchmark / metric" */
	const char *unit;   /* SI unit of the values */
	const struct plot_trend_point *points; /* in commit order */
	size_t n;
	double base_lo, base_hi; /* the baseline band; NAN when none */
};

/* Two benchmarks measured side by side (interleaved A/B variants, `gate
 * --base`): repetition i of each is pair i. */
struct plot_pairs {
	const char *title;
	const char *unit;          /* SI unit of the values */
	const char *ref_name;      /* legend of the reference ("parse@base") */
	const char *name;          /* legend of the other ("parse@head") */
	const double *ref, *cur;   /* n each, in the order measured */
	size_t n;
};

struct plot_latency_series {
	const char *name;     /* legend: run id, "baseline", "current" ... */
	const double *pct;    /* percentiles in [0, 100), ascending */
	const double *value;  /* SI units (seconds) */
	size_t n;
};

struct plot_latency {
	const char *title;
	const char *unit;     /* "s" usually */
	const struct plot_latency_series *series;
	size_t n;
	double slo;           /* horizontal SLO line in SI units; NAN for none */
};

struct plot_load_point {
	double throughput;    /* 1/s achieved */
	double p50, p90, p99; /* seconds; NAN when absent */
};

enum { PLOT_SERVER_SERIES = 6 };

struct plot_load {
	const char *title;
	const struct plot_load_point *points; /* sweep steps, any order */
	size_t n;
	double slo;           /* latency SLO in seconds; NAN for none */
	const char *slo_label;/* "p99 < 250ms" or NULL */
	/* Per-interval time series; NULL columns are left out. */
	const double *t;      /* seconds from the start */
	const double *ts_throughput, *ts_p99, *ts_errors; /* 1/s, s, errors/s */
	size_t n_ts;
	/* GPU utilisation on its own clock (the monitor samples apart). */
	const double *gpu_t;  /* seconds from the start */
	const double *ts_gpu; /* % */
	size_t n_gpu;
	/* The server's own metrics (monitor.prometheus), on the scrapes'
	 * clock: a panel of their own.  Series whose values stay within
	 * [0, 1] (fractions: KV-cache usage, hit rates) go on a right axis in
	 * %, the others (requests waiting and running) on the left. */
	const double *server_t; /* seconds from the start */
	size_t n_server;
	const double *server[PLOT_SERVER_SERIES];
	const char *server_names[PLOT_SERVER_SERIES];
	size_t n_server_series;
};

/*
 * A load plot's data from one benchmark of a run document, as the load
 * engine writes it: sweep or capacity steps from extra "sweep" /
 * "capacity_steps" (throughput, latency_p50, latency_p99; p90 from the
 * metric "latency.p90@RATE/s" when present), the time series from extra
 * "timeseries" (one object per repetition, laid end to end), GPU
 * utilisation from extra "resources" ("gpu.t", "gpu.util") and the
 * server's metrics from extra "server_metrics" (the first target's time
 * axis; its gauges and ratios first, then rates, up to
 * PLOT_SERVER_SERIES).  Owns what it allocates: release with
 * plot_load_release().  ERR_NOTFOUND when the benchmark has none of these.
 */
struct plot_load_data {
	struct plot_load load;         /* ready for plot_load_script(); title unset */
	struct plot_load_point *points;
	double *t, *thr, *p99, *errs, *gpu_t, *gpu;
	double *server_t, *server[PLOT_SERVER_SERIES];
	char *server_names[PLOT_SERVER_SERIES];
};
int plot_load_from_bench(const struct rd_bench *b, struct plot_load_data *out, struct err *err);
void plot_load_release(struct plot_load_data *d);

/* Append the script for each kind to *script.  ERR_INPUT when there is
 * nothing to draw. */
int plot_trend_script(const struct plot_trend *t, const struct plot_output *o, struct sb *script,
		      struct err *err);
int plot_latency_script(const struct plot_latency *l, const struct plot_output *o,
			struct sb *script, struct err *err);
int plot_pairs_script(const struct plot_pairs *p, const struct plot_output *o, struct sb *script,
		      struct err *err);
int plot_load_script(const struct plot_load *l, const struct plot_output *o, struct sb *script,
		     struct err *err);

/*
 * Run gnuplot (PATH, or $PERFGATE_GNUPLOT when set) on a script.
 * ERR_NOTFOUND when gnuplot is not installed ("gnuplot is not installed;
 * install the Debian package 'gnuplot-nox'"), ERR_FAIL with gnuplot's last
 * error line when it rejects the script.
 */
int plot_render(const char *script, struct err *err);

/*
 * Run gnuplot once on a script of several SVG plots made with no output path
 * (struct plot_output's path NULL: gnuplot writes to its stdout), each after
 * a "reset", and return the pictures one by one: *svgs[i] (caller frees each
 * and the array) is the i-th plot's <svg> element, without the XML prologue.
 * One process for a page of plots instead of one per plot.  Errors as
 * plot_render().
 */
int plot_render_svgs(const char *script, char ***svgs, size_t *n, struct err *err);

/*
 * The latency spectrum of one metric of a benchmark: from the extra
 * "histogram" (core/hist.h) of METRIC or of METRIC.p50 (where the HTTP
 * runner keeps a family's merged histogram) when present, else from sibling
 * metrics named METRIC.pNN (the median of each over repetitions).  Fills pct/value
 * (caller frees both) with *n points; ERR_NOTFOUND when neither exists.
 */
int plot_spectrum_from_bench(const struct rd_bench *b, const char *metric, double **pct,
			     double **value, size_t *n, struct err *err);

/*
 * What `gate --plots DIR` draws: for every benchmark x metric of `cur`, a
 * trend over the baseline runs (in the order given, oldest first) and the
 * current run, with the baseline band; for every benchmark with a latency
 * spectrum, the spectrum of the current run against the newest baseline run.
 * A variant measured pair by pair with its reference (the same number of
 * repetitions, interleaved: A/B variants, `gate --base`) gets, per metric,
 * its pairs beside the reference's, DIR/<declared benchmark>--<metric>--
 * <variant>.<ext>; without baseline runs the variants get no trend (it
 * would be one point).
 * Files are DIR/<benchmark>--<metric>.<ext> and DIR/<benchmark>--latency.<ext>
 * (characters outside [A-Za-z0-9._-] become '_'); DIR is created.  The
 * written paths are returned in *files (caller frees each and the array).
 */
int plot_gate_dir(const char *dir, enum plot_format format, const struct rundoc *cur,
		  struct rundoc *const *base, size_t n_base, char ***files, size_t *n_files,
		  struct err *err);

#endif
