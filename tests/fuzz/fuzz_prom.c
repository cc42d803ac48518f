/*
 * fuzz_prom.c: libFuzzer target for the Prometheus / OpenMetrics parser
 * (core/prom/prom.c) and what consumes its documents (core/prom/series.c).
 * Whatever the bytes: strict parsing returns 0 or ERR_INPUT with one line
 * "line N, column C: ..."; lenient parsing always returns a document; every
 * sample points at a family of the document; and feeding the document
 * through a track of each kind, twice, neither crashes nor leaks.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../core/prom/prom.h"
#include "../../core/prom/series.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static const struct prom_series_candidate cands[] = {
	{ .kind = PROM_KIND_AUTO, .series = "a" },
	{ .kind = PROM_KIND_GAUGE, .series = "a" },
	{ .kind = PROM_KIND_COUNTER, .series = "a" },
	{ .kind = PROM_KIND_HISTOGRAM, .series = "a" },
	{ .kind = PROM_KIND_SUMMARY, .series = "a" },
	{ .kind = PROM_KIND_RATIO, .series = "a", .denominator = "b" },
};

static void check_doc(const struct prom_doc *d)
{
	for (size_t i = 0; i < d->n_samples; i++) {
		const struct prom_sample *s = &d->samples[i];
		if (s->family >= d->n_families || !s->name)
			abort();
		for (size_t k = 0; k < s->n_labels; k++)
			if (!s->labels[k].name || !s->labels[k].value)
				abort();
		if ((s->role == PROM_ROLE_BUCKET || s->role == PROM_ROLE_QUANTILE) && isnan(s->bound))
			abort();
	}
}

static void feed(const struct prom_doc *d)
{
	for (size_t c = 0; c < sizeof(cands) / sizeof(cands[0]); c++) {
		struct prom_series_metric m = { .name = "a", .candidates = &cands[c], .n_candidates = 1 };
		struct prom_series_track *t = prom_series_track_new(&m);
		struct prom_series_value v[16];
		const double *ts, *vs;

		prom_series_track_scrape(t, d, 0, true);
		prom_series_track_scrape(t, d, 1, false);
		(void)prom_series_track_values(t, v, 16);
		(void)prom_series_track_points(t, &ts, &vs);
		prom_series_track_free(t);
	}
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static const enum prom_format formats[] = { PROM_FORMAT_AUTO, PROM_FORMAT_TEXT, PROM_FORMAT_OPENMETRICS };
	/* an exact-size copy, so that AddressSanitizer sees any overread */
	char *text = malloc(size ? size : 1);

	if (size)
		memcpy(text, data, size);
	for (size_t f = 0; f < 3; f++) {
		struct prom_parse_options o = PROM_PARSE_OPTIONS_INIT;
		struct prom_doc *d = NULL;
		struct err err = ERR_INIT;
		int rc;

		o.format = formats[f];
		rc = prom_parse(&d, text, size, &o, &err);
		if (rc == 0) {
			check_doc(d);
			if (f == 0)
				feed(d);
			prom_doc_free(d);
		} else if (rc != ERR_INPUT || d || strncmp(err.msg, "line ", 5) != 0 || strchr(err.msg, '\n')) {
			abort();
		}
		o.lenient = true;
		if (prom_parse(&d, text, size, &o, &err) != 0 || !d)
			abort();
		check_doc(d);
		if (rc == 0 && d->bad_lines)
			abort(); /* what strict parsing takes has no bad line */
		prom_doc_free(d);
	}
	free(text);
	return 0;
}
