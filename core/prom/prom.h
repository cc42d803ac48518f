/*
 * prom.h: a parser of the Prometheus text exposition format (version
 * 0.0.4, what `/metrics` of vLLM, SGLang, TGI, Triton and most services
 * serve) and of OpenMetrics 1.0 text, written for perfgate's scraper
 * (core/prom/scrape.h) and tested on its own (tests/unit/test_prom.c,
 * tests/fuzz/fuzz_prom.c).
 *
 * What it reads, line by line:
 *   # HELP name docstring          (escapes \\ \n, and \" in OpenMetrics)
 *   # TYPE name counter|gauge|histogram|summary|untyped
 *          (OpenMetrics adds gaugehistogram, stateset, info, unknown)
 *   # UNIT name unit               (OpenMetrics)
 *   # anything else                a comment, ignored
 *   name{label="value",...} value [timestamp] [# {exemplar labels} value [timestamp]]
 * Names are [a-zA-Z_:][a-zA-Z0-9_:]*, label names [a-zA-Z_][a-zA-Z0-9_]*;
 * either may also be written as a quoted string inside the braces
 * (`{"my.metric", "a.b"="1"}`, Prometheus 3's UTF-8 names).  Label values
 * escape \\ \" \n.  Values are floats, NaN, +Inf, -Inf (Inf, inf and nan
 * in any case in the text format, as Go's ParseFloat reads them).
 * Timestamps are integer milliseconds in the text format and seconds
 * (a float) in OpenMetrics; both are kept as seconds.  OpenMetrics text
 * must end with `# EOF`, and nothing may follow it; the text format's
 * last line must end with a newline, so a body cut short is noticed.
 *
 * Samples are attached to their family: `x_bucket`, `x_sum`, `x_count`,
 * `x_created` to histogram `x`; `x_sum`, `x_count` and `x` (with a
 * `quantile` label) to summary `x`; `x_total` and `x_created` to counter
 * `x` (OpenMetrics); a sample with no TYPE line makes an untyped family
 * of its own.  A histogram bucket keeps its `le` and a summary line its
 * `quantile` as a number beside the labels.
 *
 * Strict parsing stops at the first problem with "line N, column C: ...";
 * lenient parsing (what a scraper wants: one bad line should not hide the
 * rest) skips each malformed line, counts it and keeps the first problem.
 */
#ifndef PERFGATE_PROM_H
#define PERFGATE_PROM_H

#include <stdbool.h>
#include <stddef.h>

#include "../err.h"

enum prom_format {
	PROM_FORMAT_AUTO,        /* OpenMetrics when the text ends with "# EOF", else text */
	PROM_FORMAT_TEXT,        /* text/plain; version=0.0.4 */
	PROM_FORMAT_OPENMETRICS  /* application/openmetrics-text; version=1.0.0 */
};

enum prom_type {
	PROM_UNTYPED,            /* "untyped" (text), "unknown" (OpenMetrics), or no TYPE line */
	PROM_COUNTER,
	PROM_GAUGE,
	PROM_HISTOGRAM,
	PROM_GAUGE_HISTOGRAM,
	PROM_SUMMARY,
	PROM_INFO,
	PROM_STATESET
};

/* What a sample is within its family. */
enum prom_role {
	PROM_ROLE_VALUE,         /* the plain value: a gauge, an untyped sample, a counter's _total */
	PROM_ROLE_BUCKET,        /* x_bucket{le=...}; and gaugehistogram buckets */
	PROM_ROLE_SUM,           /* x_sum (x_gsum) */
	PROM_ROLE_COUNT,         /* x_count (x_gcount) */
	PROM_ROLE_QUANTILE,      /* x{quantile=...} of a summary */
	PROM_ROLE_CREATED        /* x_created */
};

struct prom_label {
	const char *name;
	const char *value;       /* unescaped */
};

struct prom_sample {
	const char *name;        /* as written: "vllm:request_queue_time_seconds_bucket" */
	const struct prom_label *labels; /* in the order written */
	size_t n_labels;
	double value;
	double bound;            /* `le` of a bucket, `quantile` of a summary line; NAN otherwise */
	bool has_timestamp;
	double timestamp;        /* s since the epoch (the text format's ms / 1000) */
	size_t family;           /* index into prom_doc.families */
	size_t next;             /* the family's next sample, SIZE_MAX after its last */
	enum prom_role role;
};

struct prom_family {
	const char *name;        /* the family: "x" for x_bucket, x_sum, x_count */
	enum prom_type type;
	const char *help;        /* unescaped, NULL when none */
	const char *unit;        /* OpenMetrics UNIT, NULL when none */
	size_t first;            /* its first sample, SIZE_MAX when none (then ->next) */
	size_t last;             /* private: its last sample */
};

struct prom_doc {
	enum prom_format format; /* the format that was read (never AUTO) */
	struct prom_family *families;
	size_t n_families;
	struct prom_sample *samples; /* in the order written */
	size_t n_samples;
	size_t bad_lines;        /* lenient: lines skipped */
	char first_problem[256]; /* lenient: "line N, column C: ..." of the first, "" when none */
	struct prom_arena *arena; /* owns every string and label array */
	/* private: name -> family index */
	size_t *index;
	size_t index_size;
	size_t alloc_families, alloc_samples;
};

struct prom_parse_options {
	enum prom_format format;
	bool lenient;            /* skip malformed lines instead of failing */
};
#define PROM_PARSE_OPTIONS_INIT { .format = PROM_FORMAT_AUTO, .lenient = false }

/*
 * Parse `len` bytes of `text` (no NUL needed; NUL bytes are an error).
 * Returns 0 with *out set (free with prom_doc_free), or ERR_INPUT with one
 * line "line N, column C: what" in err.  Lenient parsing fails only when
 * the whole text is unusable (never, today: a text of nothing but bad
 * lines is an empty document with bad_lines set).
 */
int prom_parse(struct prom_doc **out, const char *text, size_t len, const struct prom_parse_options *opts,
	       struct err *err);
void prom_doc_free(struct prom_doc *d);

/* The format a Content-Type header names: OpenMetrics for
 * "application/openmetrics-text...", else text (NULL too). */
enum prom_format prom_format_of_content_type(const char *content_type);

/* A label's value, or NULL when the sample has no such label. */
const char *prom_sample_label(const struct prom_sample *s, const char *name);

/* The family called `name`, or NULL. */
const struct prom_family *prom_doc_family(const struct prom_doc *d, const char *name);
/* The same for name + suffix ("x" "_total"), without building the string. */
const struct prom_family *prom_doc_family2(const struct prom_doc *d, const char *name, const char *suffix);

/* "counter", "gauge", "histogram", "gaugehistogram", "summary", "info",
 * "stateset", "untyped". */
const char *prom_type_name(enum prom_type t);

#endif
