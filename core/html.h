/*
 * html.h: the pieces perfgate's pages share (core/report_html.c's report of
 * one run, core/site.c's history site): text escaping, the page frame with
 * its inline style sheet, sparklines drawn as inline SVG, and gnuplot's SVG
 * pictures made fit to sit inline in a page.
 *
 * Every page is one self-contained file: no network, no external style sheet,
 * font or script.  The style sheet reads on a phone (tables scroll sideways
 * inside their own box, pictures shrink to the screen) and prints (colours
 * kept, collapsed sections opened by a three-line script before printing).
 */
#ifndef PERFGATE_HTML_H
#define PERFGATE_HTML_H

#include <stdbool.h>
#include <stddef.h>

#include "util.h"

/* Text or attribute value: & < > " ' escaped; control characters other than
 * tab and newline dropped.  s may be NULL (nothing is written). */
void html_escape(struct sb *out, const char *s);

/* A path segment of a URL (percent-encoding everything outside
 * [A-Za-z0-9._~-]), for links to files named after benchmarks. */
void html_url_segment(struct sb *out, const char *s);

/* A verdict or status as a coloured badge: <span class="badge v-WORD">WORD</span>. */
void html_badge(struct sb *out, const char *word);

/* The same badge outlined, not filled (class "badge v-WORD nf", titled
 * "reported, not gated"): a verdict of a row that cannot fail the gate. */
void html_badge_not_gated(struct sb *out, const char *word);

/* The page up to and including <body>: doctype, charset, viewport, the
 * escaped title and the style sheet. */
void html_page_begin(struct sb *out, const char *title);
/* The footer line and </body></html>. */
void html_page_end(struct sb *out);

/*
 * A sparkline: values (oldest first, NAN for gaps) as a polyline in a
 * width x height box, the newest value marked with a dot (red when `alarm`).
 * `label` is the accessible name and tooltip ("latency.p99: last 20 runs").
 * Fewer than two finite values draw a single dot; none draw nothing.
 */
void html_sparkline(struct sb *out, const double *values, size_t n, int width, int height,
		    bool alarm, const char *label);
/* The same with the box at least min_span (a fraction: 0.1) of the values'
 * middle high, so that noise of a fraction of a percent is drawn as small
 * as it is instead of filling the box; 0: the values' own range. */
void html_sparkline_span(struct sb *out, const double *values, size_t n, int width, int height,
			 double min_span, bool alarm, const char *label);

/*
 * Append one gnuplot SVG picture inline: the XML prologue dropped, every id
 * and every reference to one prefixed with `prefix` (several pictures in a
 * page each define gnuplot's point shapes under the same names), gnuplot's
 * "<title>Gnuplot</title>" replaced by `title` (the accessible name; the
 * picture shows its own title), inside <figure class="plot">.
 */
void html_svg_inline(struct sb *out, const char *svg, const char *prefix, const char *title);

#endif
