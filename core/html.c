/*
 * html.c: escaping, the page frame, sparklines and inline gnuplot pictures
 * for perfgate's HTML pages (see html.h).
 */
#include "html.h"

#include <math.h>
#include <stdio.h>
#include <string.h>

#ifndef PERFGATE_VERSION
#define PERFGATE_VERSION "dev"
#endif

/*
 * One style sheet for every page.  System fonts only (nothing to fetch);
 * tables scroll inside .scroll on narrow screens; pictures scale to the
 * column; print keeps the colours of verdicts and avoids splitting a table
 * or a picture across pages.
 */
static const char style[] =
	":root{--ok:#1a7f37;--bad:#cf222e;--warn:#9a6700;--mute:#57606a;--line:#d0d7de;--bg2:#f6f8fa}\n"
	"*{box-sizing:border-box}\n"
	"body{margin:0 auto;max-width:1180px;padding:12px 16px 40px;font:15px/1.45 system-ui,-apple-system,"
	"'Segoe UI',Roboto,'DejaVu Sans',sans-serif;color:#1f2328;background:#fff}\n"
	"h1{font-size:1.5em;margin:.2em 0}h2{font-size:1.2em;margin:1.6em 0 .5em;padding-bottom:.2em;"
	"border-bottom:1px solid var(--line)}h3{font-size:1.05em;margin:1.2em 0 .4em}\n"
	"a{color:#0969da}code,.mono{font-family:ui-monospace,'DejaVu Sans Mono',monospace;font-size:.92em}\n"
	".banner{border-radius:8px;padding:12px 16px;margin:8px 0 12px;border:2px solid}\n"
	".banner.pass{border-color:var(--ok);background:#dafbe1}.banner.fail{border-color:var(--bad);background:#ffebe9}\n"
	".banner h1{margin:0}.banner p{margin:.3em 0 0}\n"
	".meta{color:var(--mute);font-size:.92em}.meta span{white-space:nowrap}\n"
	".note{border-left:4px solid var(--warn);background:#fff8c5;padding:6px 10px;margin:6px 0}\n"
	".scroll{overflow-x:auto;-webkit-overflow-scrolling:touch;margin:6px 0 10px}\n"
	"table{border-collapse:collapse;font-size:.9em;min-width:100%}\n"
	"th,td{padding:4px 8px;border-bottom:1px solid var(--line);text-align:left;vertical-align:top;white-space:nowrap}\n"
	"th{background:var(--bg2);font-weight:600}td.num,th.num{text-align:right;font-variant-numeric:tabular-nums}\n"
	"td.why{white-space:normal;min-width:16em;color:var(--mute)}\n"
	"tr.fails td{background:#fff5f5}\n"
	".badge{display:inline-block;padding:0 6px;border-radius:10px;font-size:.85em;font-weight:600;"
	"border:1px solid var(--line);color:var(--mute);background:#fff}\n"
	".v-regression,.v-violated,.v-failed{color:#fff;background:var(--bad);border-color:var(--bad)}\n"
	".v-improvement,.v-met{color:#fff;background:var(--ok);border-color:var(--ok)}\n"
	".v-inconclusive,.v-insufficient-data{color:#fff;background:var(--warn);border-color:var(--warn)}\n"
	".nf.v-regression,.nf.v-violated,.nf.v-failed{color:var(--bad);background:#fff}"
	".nf.v-improvement,.nf.v-met{color:var(--ok);background:#fff}"
	".nf.v-inconclusive,.nf.v-insufficient-data{color:var(--warn);background:#fff}\n"
	".d{display:block;font-size:.82em;color:var(--mute)}.d.bad{color:var(--bad);font-weight:600}"
	".d.good{color:var(--ok);font-weight:600}.d.warn{color:var(--warn)}\n"
	".c.bad{color:var(--bad);font-weight:600}.c.good{color:var(--ok);font-weight:600}.c.warn{color:var(--warn)}\n"
	"svg.spark{vertical-align:middle}\n"
	"figure.plot{margin:10px 0;overflow-x:auto}figure.plot svg{width:100%;min-width:460px;max-width:820px;height:auto}\n"
	"figure.plot figcaption{font-size:.85em;color:var(--mute)}\n"
	"dl.kv{display:grid;grid-template-columns:max-content 1fr;gap:2px 14px;margin:6px 0}"
	"dl.kv dt{color:var(--mute)}dl.kv dd{margin:0;overflow-wrap:anywhere}\n"
	"details{margin:8px 0}summary{cursor:pointer;font-weight:600}\n"
	"footer{margin-top:30px;color:var(--mute);font-size:.85em}\n"
	"@media (max-width:600px){body{padding:8px 10px 30px;font-size:14px}th,td{padding:3px 6px}}\n"
	"@media print{body{max-width:none;padding:0}a{color:inherit}.scroll,figure.plot{overflow:visible}"
	"table,figure,.banner{break-inside:avoid}*{-webkit-print-color-adjust:exact;print-color-adjust:exact}}\n";

void html_escape(struct sb *out, const char *s)
{
	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;

		switch (c) {
		case '&':
			sb_puts(out, "&amp;");
			break;
		case '<':
			sb_puts(out, "&lt;");
			break;
		case '>':
			sb_puts(out, "&gt;");
			break;
		case '"':
			sb_puts(out, "&quot;");
			break;
		case '\'':
			sb_puts(out, "&#39;");
			break;
		default:
			if (c >= 0x20 || c == '\t' || c == '\n')
				sb_putc(out, (char)c);
		}
	}
}

void html_url_segment(struct sb *out, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; s && *s; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'A' && c <= 'Z') || (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9') || c == '.' ||
		    c == '_' || c == '~' || c == '-') {
			sb_putc(out, (char)c);
		} else {
			sb_putc(out, '%');
			sb_putc(out, hex[c >> 4]);
			sb_putc(out, hex[c & 15]);
		}
	}
}

static void badge_as(struct sb *out, const char *word, bool gated)
{
	sb_puts(out, "<span class=\"badge v-");
	html_escape(out, word);
	sb_puts(out, gated ? "\">" : " nf\" title=\"reported, not gated\">");
	html_escape(out, word);
	sb_puts(out, "</span>");
}

void html_badge(struct sb *out, const char *word)
{
	badge_as(out, word, true);
}

void html_badge_not_gated(struct sb *out, const char *word)
{
	badge_as(out, word, false);
}

void html_page_begin(struct sb *out, const char *title)
{
	sb_puts(out, "<!DOCTYPE html>\n<html lang=\"en\">\n<head>\n<meta charset=\"utf-8\">\n"
		     "<meta name=\"viewport\" content=\"width=device-width,initial-scale=1\">\n"
		     "<meta name=\"generator\" content=\"perfgate " PERFGATE_VERSION "\">\n<title>");
	html_escape(out, title);
	sb_puts(out, "</title>\n<style>\n");
	sb_puts(out, style);
	sb_puts(out, "</style>\n</head>\n<body>\n");
}

void html_page_end(struct sb *out)
{
	/* Collapsed sections would print as their summary line only. */
	sb_puts(out, "<footer>made by perfgate " PERFGATE_VERSION "</footer>\n"
		     "<script>addEventListener('beforeprint',function(){"
		     "document.querySelectorAll('details').forEach(function(d){d.open=true})})</script>\n"
		     "</body>\n</html>\n");
}

void html_sparkline(struct sb *out, const double *values, size_t n, int width, int height,
		    bool alarm, const char *label)
{
	html_sparkline_span(out, values, n, width, height, 0, alarm, label);
}

void html_sparkline_span(struct sb *out, const double *values, size_t n, int width, int height,
			 double min_span, bool alarm, const char *label)
{
	double lo = INFINITY, hi = -INFINITY, pad = 2, x = 0, y = 0;
	size_t finite = 0, last = 0;
	bool pen_up = true;

	for (size_t i = 0; i < n; i++)
		if (isfinite(values[i])) {
			lo = fmin(lo, values[i]);
			hi = fmax(hi, values[i]);
			finite++;
			last = i;
		}
	if (finite == 0)
		return;
	if (min_span > 0 && hi - lo < min_span * fabs(lo + hi) / 2) {
		/* Widen the box around the values' middle: noise stays small. */
		double mid = (lo + hi) / 2, half = min_span * fabs(mid) / 2;

		lo = mid - half;
		hi = mid + half;
	}
	sb_printf(out, "<svg class=\"spark\" width=\"%d\" height=\"%d\" viewBox=\"0 0 %d %d\" role=\"img\" aria-label=\"",
		  width, height, width, height);
	html_escape(out, label);
	sb_puts(out, "\"><title>");
	html_escape(out, label);
	sb_puts(out, "</title>");
	if (finite >= 2) {
		sb_puts(out, "<path fill=\"none\" stroke=\"#0969da\" stroke-width=\"1.3\" d=\"");
		for (size_t i = 0; i < n; i++) {
			if (!isfinite(values[i])) {
				pen_up = true;
				continue;
			}
			x = pad + (width - 2 * pad) * (n > 1 ? (double)i / (double)(n - 1) : 0.5);
			y = hi > lo ? pad + (height - 2 * pad) * (hi - values[i]) / (hi - lo) : height / 2.0;
			sb_printf(out, "%s%.1f %.1f", pen_up ? (i ? " M" : "M") : " L", x, y);
			pen_up = false;
		}
		sb_puts(out, "\"/>");
	}
	x = pad + (width - 2 * pad) * (n > 1 ? (double)last / (double)(n - 1) : 0.5);
	y = hi > lo ? pad + (height - 2 * pad) * (hi - values[last]) / (hi - lo) : height / 2.0;
	sb_printf(out, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"2.4\" fill=\"%s\"/></svg>", x, y,
		  alarm ? "#cf222e" : "#0969da");
}

/* Does `s` start with `prefix`? */
static bool starts(const char *s, const char *prefix)
{
	return strncmp(s, prefix, strlen(prefix)) == 0;
}

/*
 * An id attribute's value, made unique in the page: prefix-NAME for its
 * first definition in this picture (what references point at), and
 * prefix-NAME-N for a repeat (a multiplot repeats gnuplot's panel ids).
 * Returns the number of characters of the name consumed.
 */
static size_t unique_id(struct sb *out, const char *name, char quote, const char *prefix, char ***seen,
			size_t *n_seen, size_t *alloc)
{
	const char *end = strchr(name, quote);
	size_t len = end ? (size_t)(end - name) : strlen(name), dup = 0;

	for (size_t i = 0; i < *n_seen; i++)
		if (strlen((*seen)[i]) == len && strncmp((*seen)[i], name, len) == 0)
			dup++;
	XGROW(*seen, *alloc, *n_seen + 1);
	(*seen)[(*n_seen)++] = xstrndup(name, len);
	sb_printf(out, "%s-%.*s", prefix, (int)len, name);
	if (dup)
		sb_printf(out, "-%zu", dup);
	return len;
}

void html_svg_inline(struct sb *out, const char *svg, const char *prefix, const char *title)
{
	static const char *const refs[] = { "href='#", "href=\"#", "url(#" };
	const char *p = strstr(svg, "<svg");
	char **seen = NULL;
	size_t n_seen = 0, alloc = 0;

	sb_puts(out, "<figure class=\"plot\">");
	for (p = p ? p : svg; *p;) {
		bool done = false;

		if (*p != '<' && *p != 'i' && *p != 'h' && *p != 'u') {
			sb_putc(out, *p++);
			continue;
		}
		if (starts(p, "<title>Gnuplot</title>")) {
			sb_puts(out, "<title>");
			html_escape(out, title);
			sb_puts(out, "</title>");
			p += strlen("<title>Gnuplot</title>");
			continue;
		}
		if (starts(p, "id='") || starts(p, "id=\"")) {
			sb_add(out, p, 4);
			p += 4;
			p += unique_id(out, p, p[-1], prefix, &seen, &n_seen, &alloc);
			continue;
		}
		for (size_t i = 0; i < ARRAY_SIZE(refs) && !done; i++)
			if (starts(p, refs[i])) {
				sb_puts(out, refs[i]);
				sb_puts(out, prefix);
				sb_putc(out, '-');
				p += strlen(refs[i]);
				done = true;
			}
		if (!done)
			sb_putc(out, *p++);
	}
	sb_puts(out, "</figure>\n");
	for (size_t i = 0; i < n_seen; i++)
		free(seen[i]);
	free(seen);
}
