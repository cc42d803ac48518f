/*
 * series.c: series to metrics over one window (series.h says what each
 * kind gives and why).
 *
 * Counters are followed series by series: a sum of counters can hide a
 * reset (one series restarts while another grows), so each series keeps
 * its own last value, keyed by its name and sorted labels, and only the
 * increases are summed.  Histogram buckets are counters keyed by series
 * and bound.
 */
#include "series.h"

#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../util.h"

/* ---- counters followed per series ---- */

struct ctr_entry {
	char *key;
	double last;
};

struct counter_set {
	struct ctr_entry *e;
	size_t n, alloc;
	size_t *index;           /* open addressing: entry + 1, 0 empty */
	size_t index_size;
	double inc;              /* the summed increase so far */
};

static uint64_t hash_str(const char *s)
{
	uint64_t h = 1469598103934665603ULL;

	for (; *s; s++) {
		h ^= (unsigned char)*s;
		h *= 1099511628211ULL;
	}
	return h;
}

static void cs_index(struct counter_set *cs, size_t i)
{
	size_t mask = cs->index_size - 1, j;

	for (j = (size_t)hash_str(cs->e[i].key) & mask; cs->index[j]; j = (j + 1) & mask)
		;
	cs->index[j] = i + 1;
}

static struct ctr_entry *cs_find(const struct counter_set *cs, const char *key)
{
	size_t mask, j;

	if (!cs->index_size)
		return NULL;
	mask = cs->index_size - 1;
	for (j = (size_t)hash_str(key) & mask; cs->index[j]; j = (j + 1) & mask)
		if (strcmp(cs->e[cs->index[j] - 1].key, key) == 0)
			return &cs->e[cs->index[j] - 1];
	return NULL;
}

/*
 * One reading of the series `key`.  Its first reading is the baseline at
 * the window's first scrape; a series first read later was created inside
 * the window and counts from 0.  Returns the increase it adds.
 */
static double cs_add(struct counter_set *cs, const char *key, double v, bool first)
{
	struct ctr_entry *e = cs_find(cs, key);
	double d;

	if (isnan(v))
		return 0;
	if (!e) {
		XGROW(cs->e, cs->alloc, cs->n + 1);
		cs->e[cs->n] = (struct ctr_entry){ .key = xstrdup(key), .last = v };
		cs->n++;
		if (cs->n * 2 > cs->index_size) {
			free(cs->index);
			cs->index_size = cs->index_size ? cs->index_size * 2 : 16;
			cs->index = xcalloc(cs->index_size, sizeof(*cs->index));
			for (size_t i = 0; i < cs->n; i++)
				cs_index(cs, i);
		} else {
			cs_index(cs, cs->n - 1);
		}
		d = first ? 0 : v;
	} else {
		d = v >= e->last ? v - e->last : v; /* lower: a reset, restarted from 0 */
		e->last = v;
	}
	if (isfinite(d))
		cs->inc += d;
	return d;
}

static void cs_release(struct counter_set *cs)
{
	for (size_t i = 0; i < cs->n; i++)
		free(cs->e[i].key);
	free(cs->e);
	free(cs->index);
	memset(cs, 0, sizeof(*cs));
}

/* ---- the track ---- */

struct bucket_inc {
	double le;
	double inc;              /* increase over the window, summed over series */
};

struct quantile_value {
	double q;
	double v;                /* at the last scrape, combined over series (max) */
};

struct prom_series_track {
	const struct prom_series_metric *m;
	int cand;                /* the candidate found, -1 none yet */
	enum prom_series_kind kind; /* the resolved kind */
	/* gauges: one value per scrape */
	double *t, *v;
	size_t n, alloc_t, alloc_v;
	double first_t, last_t;  /* s, the first and last scrapes that had the metric */
	size_t scrapes;          /* scrapes that had the metric */
	/* counters, histograms, summaries and ratios */
	struct counter_set main; /* counter / ratio numerator / _count */
	struct counter_set den;  /* ratio denominator / _sum */
	struct counter_set buckets;
	struct bucket_inc *b;
	size_t n_b, alloc_b;
	struct quantile_value *qv;
	size_t n_qv, alloc_qv;
};

struct prom_series_track *prom_series_track_new(const struct prom_series_metric *m)
{
	struct prom_series_track *t = xcalloc(1, sizeof(*t));

	t->m = m;
	t->cand = -1;
	return t;
}

void prom_series_track_free(struct prom_series_track *t)
{
	if (!t)
		return;
	free(t->t);
	free(t->v);
	cs_release(&t->main);
	cs_release(&t->den);
	cs_release(&t->buckets);
	free(t->b);
	free(t->qv);
	free(t);
}

int prom_series_track_found(const struct prom_series_track *t)
{
	return t->cand;
}

enum prom_series_kind prom_series_track_kind(const struct prom_series_track *t)
{
	return t->cand < 0 ? PROM_KIND_AUTO : t->kind;
}

static double scale_of(const struct prom_series_candidate *c)
{
	return c->scale != 0 ? c->scale : 1.0;
}

static bool labels_match(const struct prom_series_candidate *c, const struct prom_sample *s)
{
	for (size_t i = 0; i < c->n_labels; i++) {
		const char *v = prom_sample_label(s, c->labels[i].name);
		bool eq = strcmp(v ? v : "", c->labels[i].value) == 0;
		if (eq == c->labels[i].negate)
			return false;
	}
	return true;
}

static bool ends_with(const char *s, const char *suffix)
{
	size_t n = strlen(s), k = strlen(suffix);

	return n >= k && strcmp(s + n - k, suffix) == 0;
}

/* "x" + "_total" == name? */
static bool is_name_plus(const char *name, const char *base, const char *suffix)
{
	size_t k = strlen(base);

	return strncmp(name, base, k) == 0 && strcmp(name + k, suffix) == 0;
}

/*
 * The role sample `s` plays for series `name` of kind `kind`, or -1 when
 * it is not part of it.  Untyped families (an exposition without TYPE
 * lines) are matched by the sample's suffix.
 */
static int role_for(const struct prom_doc *d, const struct prom_sample *s, const char *name, enum prom_series_kind kind)
{
	const struct prom_family *f = &d->families[s->family];

	switch (kind) {
	case PROM_KIND_HISTOGRAM:
	case PROM_KIND_SUMMARY:
		if (strcmp(f->name, name) == 0 && s->role != PROM_ROLE_CREATED && s->role != PROM_ROLE_VALUE)
			return (int)s->role;
		if (f->type != PROM_UNTYPED)
			return -1;
		if (kind == PROM_KIND_HISTOGRAM && is_name_plus(s->name, name, "_bucket") && prom_sample_label(s, "le"))
			return PROM_ROLE_BUCKET;
		if (kind == PROM_KIND_SUMMARY && strcmp(s->name, name) == 0 && prom_sample_label(s, "quantile"))
			return PROM_ROLE_QUANTILE;
		if (is_name_plus(s->name, name, "_sum"))
			return PROM_ROLE_SUM;
		if (is_name_plus(s->name, name, "_count"))
			return PROM_ROLE_COUNT;
		return -1;
	default:
		/* named exactly, a histogram's x_sum or x_count is a counter too */
		if (strcmp(s->name, name) == 0 && (s->role == PROM_ROLE_VALUE || s->role == PROM_ROLE_SUM ||
						   s->role == PROM_ROLE_COUNT))
			return PROM_ROLE_VALUE;
		if (s->role != PROM_ROLE_VALUE)
			return -1;
		if (strcmp(f->name, name) == 0 || is_name_plus(s->name, name, "_total"))
			return PROM_ROLE_VALUE;
		return -1;
	}
}

/* The families whose samples can be part of series `name` of kind `k`
 * (a sample's own name may differ from its family's: "x_total" of
 * OpenMetrics counter "x", "x_sum" of histogram "x"). */
struct fams {
	const struct prom_family *f[8];
	size_t n;
};

static void fams_add(struct fams *fs, const struct prom_family *f)
{
	if (!f || fs->n == ARRAY_SIZE(fs->f))
		return;
	for (size_t i = 0; i < fs->n; i++)
		if (fs->f[i] == f)
			return;
	fs->f[fs->n++] = f;
}

static void fams_of(const struct prom_doc *d, const char *name, enum prom_series_kind k, struct fams *fs)
{
	static const char *const dist[] = { "", "_bucket", "_sum", "_count" };
	static const char *const strip[] = { "_total", "_sum", "_count" };

	fs->n = 0;
	if (k == PROM_KIND_HISTOGRAM || k == PROM_KIND_SUMMARY) {
		for (size_t i = 0; i < ARRAY_SIZE(dist); i++)
			fams_add(fs, prom_doc_family2(d, name, dist[i]));
		return;
	}
	fams_add(fs, prom_doc_family(d, name));
	fams_add(fs, prom_doc_family2(d, name, "_total"));
	for (size_t i = 0; i < ARRAY_SIZE(strip); i++) {
		size_t n = strlen(name), k2 = strlen(strip[i]);
		if (n > k2 && strcmp(name + n - k2, strip[i]) == 0) {
			char base[512];
			if (n - k2 >= sizeof(base))
				continue;
			memcpy(base, name, n - k2);
			base[n - k2] = '\0';
			fams_add(fs, prom_doc_family(d, base));
		}
	}
}

typedef void each_fn(void *arg, const struct prom_sample *s, int role);

/* fn for every sample of series `name` (kind k) whose labels match c. */
static void each_sample(const struct prom_doc *d, const struct prom_series_candidate *c, const char *name,
			enum prom_series_kind k, each_fn *fn, void *arg)
{
	struct fams fs;

	fams_of(d, name, k, &fs);
	for (size_t f = 0; f < fs.n; f++)
		for (size_t i = fs.f[f]->first; i != SIZE_MAX; i = d->samples[i].next) {
			const struct prom_sample *s = &d->samples[i];
			int role = role_for(d, s, name, k);
			if (role >= 0 && labels_match(c, s))
				fn(arg, s, role);
		}
}

/* The kind of series `name` in this scrape (for PROM_KIND_AUTO), or AUTO
 * when it is absent. */
static enum prom_series_kind kind_in(const struct prom_doc *d, const char *name)
{
	const struct prom_family *f = prom_doc_family(d, name);

	if (f) {
		switch (f->type) {
		case PROM_COUNTER: return PROM_KIND_COUNTER;
		case PROM_HISTOGRAM:
		case PROM_GAUGE_HISTOGRAM: return PROM_KIND_HISTOGRAM;
		case PROM_SUMMARY: return PROM_KIND_SUMMARY;
		case PROM_GAUGE: return PROM_KIND_GAUGE;
		default: return ends_with(name, "_total") ? PROM_KIND_COUNTER : PROM_KIND_GAUGE;
		}
	}
	if (prom_doc_family2(d, name, "_total"))
		return PROM_KIND_COUNTER;
	if (prom_doc_family2(d, name, "_bucket"))
		return PROM_KIND_HISTOGRAM; /* an exposition without TYPE lines */
	{
		struct fams fs;
		fams_of(d, name, PROM_KIND_COUNTER, &fs);
		if (fs.n)
			return PROM_KIND_COUNTER; /* "x_sum" of histogram x */
	}
	return PROM_KIND_AUTO;
}

static void set_true(void *arg, const struct prom_sample *s, int role)
{
	(void)s, (void)role;
	*(bool *)arg = true;
}

/* Is series `name` (kind `kind`) in the scrape, with labels matching? */
static bool present(const struct prom_doc *d, const struct prom_series_candidate *c, const char *name,
		    enum prom_series_kind kind)
{
	bool found = false;

	each_sample(d, c, name, kind, set_true, &found);
	return found;
}

/* Find the first candidate present in this scrape. */
static void resolve(struct prom_series_track *t, const struct prom_doc *d)
{
	for (size_t i = 0; i < t->m->n_candidates; i++) {
		const struct prom_series_candidate *c = &t->m->candidates[i];
		enum prom_series_kind k = c->kind;

		if (k == PROM_KIND_RATIO) {
			enum prom_series_kind kn = kind_in(d, c->series), kd = c->denominator ? kind_in(d, c->denominator)
											     : PROM_KIND_AUTO;
			if (kn == PROM_KIND_AUTO || kd == PROM_KIND_AUTO || !present(d, c, c->series, PROM_KIND_COUNTER) ||
			    !present(d, c, c->denominator, PROM_KIND_COUNTER))
				continue;
		} else {
			if (k == PROM_KIND_AUTO && (k = kind_in(d, c->series)) == PROM_KIND_AUTO)
				continue;
			if (!present(d, c, c->series, k))
				continue;
		}
		t->cand = (int)i;
		t->kind = k;
		return;
	}
}

static void key_label(struct sb *key, char sep, const struct prom_label *l)
{
	sb_putc(key, sep);
	sb_puts(key, l->name);
	sb_putc(key, '=');
	sb_puts(key, l->value);
}

/* Name and labels (sorted, `le` and `quantile` left out): one series.
 * Built with plain copies: a large server's histograms make this the
 * most frequent call of a scrape. */
static void series_key(const struct prom_sample *s, struct sb *key)
{
	const struct prom_label *l[32];
	size_t n = 0;

	sb_reset(key);
	sb_puts(key, s->name);
	for (size_t i = 0; i < s->n_labels; i++) {
		const char *ln = s->labels[i].name;
		if (strcmp(ln, "le") == 0 || strcmp(ln, "quantile") == 0)
			continue;
		if (n == ARRAY_SIZE(l)) {
			/* Beyond 32 labels order does not matter for a stable
			 * exposition: the rest go in as written. */
			key_label(key, '\x1f', &s->labels[i]);
			continue;
		}
		l[n++] = &s->labels[i];
		for (size_t j = n - 1; j > 0 && strcmp(l[j - 1]->name, l[j]->name) > 0; j--) {
			const struct prom_label *x = l[j];
			l[j] = l[j - 1];
			l[j - 1] = x;
		}
	}
	for (size_t i = 0; i < n; i++)
		key_label(key, '\x1e', l[i]);
}

static void push_point(struct prom_series_track *t, double ts, double v)
{
	XGROW(t->t, t->alloc_t, t->n + 1);
	XGROW(t->v, t->alloc_v, t->n + 1);
	t->t[t->n] = ts;
	t->v[t->n] = v;
	t->n++;
}

static void agg_add(enum prom_series_agg agg, double *acc, size_t *n, double v)
{
	if (isnan(v))
		return;
	if (*n == 0)
		*acc = v;
	else if (agg == PROM_AGG_MAX)
		*acc = fmax(*acc, v);
	else if (agg == PROM_AGG_MIN)
		*acc = fmin(*acc, v);
	else
		*acc += v;
	(*n)++;
}

struct agg_state {
	enum prom_series_agg agg;
	double acc;
	size_t n;
};

static void gauge_one(void *arg, const struct prom_sample *s, int role)
{
	struct agg_state *a = arg;

	(void)role;
	agg_add(a->agg, &a->acc, &a->n, s->value);
}

static void gauge_scrape(struct prom_series_track *t, const struct prom_doc *d, const struct prom_series_candidate *c,
			 double ts)
{
	struct agg_state a = { t->m->agg, NAN, 0 };

	each_sample(d, c, c->series, PROM_KIND_GAUGE, gauge_one, &a);
	if (a.n && t->m->agg == PROM_AGG_MEAN)
		a.acc /= (double)a.n;
	push_point(t, ts, a.n ? a.acc * scale_of(c) : NAN);
}

struct feed_state {
	struct prom_series_track *t;
	struct counter_set *cs;
	bool first;
	struct sb *key;
};

static void counter_one(void *arg, const struct prom_sample *s, int role)
{
	struct feed_state *f = arg;

	(void)role;
	series_key(s, f->key);
	cs_add(f->cs, sb_str(f->key), s->value, f->first);
}

/* Add the increase of every series of counter `name` into cs. */
static void counter_feed(struct counter_set *cs, const struct prom_doc *d, const struct prom_series_candidate *c,
			 const char *name, bool first, struct sb *key)
{
	struct feed_state f = { NULL, cs, first, key };

	each_sample(d, c, name, PROM_KIND_COUNTER, counter_one, &f);
}

static void bucket_add(struct prom_series_track *t, double le, double inc)
{
	size_t i = 0;

	while (i < t->n_b && t->b[i].le < le)
		i++;
	if (i == t->n_b || t->b[i].le != le) {
		XGROW(t->b, t->alloc_b, t->n_b + 1);
		memmove(t->b + i + 1, t->b + i, (t->n_b - i) * sizeof(*t->b));
		t->b[i] = (struct bucket_inc){ .le = le, .inc = 0 };
		t->n_b++;
	}
	t->b[i].inc += inc;
}

static void quantile_set(struct prom_series_track *t, double q, double v)
{
	size_t i = 0;

	while (i < t->n_qv && t->qv[i].q < q)
		i++;
	if (i == t->n_qv || t->qv[i].q != q) {
		XGROW(t->qv, t->alloc_qv, t->n_qv + 1);
		memmove(t->qv + i + 1, t->qv + i, (t->n_qv - i) * sizeof(*t->qv));
		t->qv[i] = (struct quantile_value){ .q = q, .v = NAN };
		t->n_qv++;
	}
	/* the largest over series (a sum of quantiles means nothing) */
	if (isnan(t->qv[i].v) || v > t->qv[i].v)
		t->qv[i].v = v;
}

static void dist_one(void *arg, const struct prom_sample *s, int role)
{
	struct feed_state *f = arg;
	struct prom_series_track *t = f->t;
	double bound = s->bound;

	if (isnan(bound) && (role == PROM_ROLE_BUCKET || role == PROM_ROLE_QUANTILE)) {
		/* untyped exposition: the bound was not parsed as one */
		const char *b = prom_sample_label(s, role == PROM_ROLE_BUCKET ? "le" : "quantile");
		char *end;
		bound = strtod(b, &end);
		if (end == b || *end)
			return;
	}
	series_key(s, f->key);
	if (role == PROM_ROLE_BUCKET) {
		/* a series' bucket as its server writes the bound: the same
		 * text every scrape (bucket_add merges le="1" and le="1.0" of
		 * different series by value) */
		sb_putc(f->key, '\x1d');
		sb_puts(f->key, prom_sample_label(s, "le"));
		bucket_add(t, bound, cs_add(&t->buckets, sb_str(f->key), s->value, f->first));
	} else if (role == PROM_ROLE_COUNT) {
		cs_add(&t->main, sb_str(f->key), s->value, f->first);
	} else if (role == PROM_ROLE_SUM) {
		cs_add(&t->den, sb_str(f->key), s->value, f->first);
	} else if (role == PROM_ROLE_QUANTILE && !isnan(s->value)) {
		quantile_set(t, bound, s->value);
	}
}

/* Histograms and summaries: buckets (or quantiles), _sum and _count. */
static void dist_scrape(struct prom_series_track *t, const struct prom_doc *d, const struct prom_series_candidate *c,
			bool first, struct sb *key)
{
	struct feed_state f = { t, NULL, first, key };

	for (size_t i = 0; i < t->n_qv; i++)
		t->qv[i].v = NAN; /* the server's quantiles are read afresh every scrape */
	each_sample(d, c, c->series, t->kind, dist_one, &f);
}

void prom_series_track_scrape(struct prom_series_track *t, const struct prom_doc *d, double ts, bool first)
{
	const struct prom_series_candidate *c;
	struct sb key = SB_INIT;
	double main0, den0, prev_t;

	if (t->cand < 0)
		resolve(t, d);
	if (t->cand < 0) {
		/* a point all the same: every track of a target has one per scrape */
		push_point(t, ts, NAN);
		return;
	}
	c = &t->m->candidates[t->cand];
	main0 = t->main.inc;
	den0 = t->den.inc;
	prev_t = t->scrapes ? t->last_t : NAN;
	switch (t->kind) {
	case PROM_KIND_GAUGE:
		gauge_scrape(t, d, c, ts);
		break;
	case PROM_KIND_COUNTER:
		counter_feed(&t->main, d, c, c->series, first, &key);
		push_point(t, ts, t->scrapes ? (t->main.inc - main0) * scale_of(c) / (ts - prev_t) : NAN);
		break;
	case PROM_KIND_RATIO:
		counter_feed(&t->main, d, c, c->series, first, &key);
		counter_feed(&t->den, d, c, c->denominator, first, &key);
		push_point(t, ts, t->den.inc > den0 ? (t->main.inc - main0) / (t->den.inc - den0) * scale_of(c) : NAN);
		break;
	default:
		dist_scrape(t, d, c, first, &key);
		/* the mean of the observations since the previous scrape */
		push_point(t, ts, t->main.inc > main0 ? (t->den.inc - den0) / (t->main.inc - main0) * scale_of(c) : NAN);
		break;
	}
	if (!t->scrapes)
		t->first_t = ts;
	t->last_t = ts;
	t->scrapes++;
	sb_release(&key);
}

size_t prom_series_track_points(const struct prom_series_track *t, const double **times, const double **values)
{
	*times = t->t;
	*values = t->v;
	return t->n;
}

/* ---- the window's values ---- */

struct out {
	struct prom_series_value *v;
	size_t n, max;
	const struct prom_series_metric *m;
};

static void emit(struct out *o, const char *stat, const char *unit, double value)
{
	struct prom_series_value *v;

	if (!isfinite(value) || o->n >= o->max)
		return;
	v = &o->v[o->n++];
	if (stat)
		snprintf(v->name, sizeof(v->name), "%s.%s", o->m->name, stat);
	else
		snprintf(v->name, sizeof(v->name), "%s", o->m->name);
	snprintf(v->unit, sizeof(v->unit), "%s", unit);
	v->direction = o->m->direction;
	v->value = value;
}

static void gauge_values(const struct prom_series_track *t, struct out *o, const char *unit)
{
	double sum = 0, max = -INFINITY;
	size_t n = 0;

	for (size_t i = 0; i < t->n; i++) {
		if (isnan(t->v[i]))
			continue;
		sum += t->v[i];
		max = fmax(max, t->v[i]);
		n++;
	}
	if (n == 0)
		return;
	if (t->m->plain) {
		emit(o, NULL, unit, sum / (double)n);
		return;
	}
	emit(o, "mean", unit, sum / (double)n);
	emit(o, "max", unit, max);
}

static void histogram_values(const struct prom_series_track *t, struct out *o, double scale, const char *unit)
{
	static const double dflt[] = { 0.5, 0.9, 0.99 };
	const double *qs = t->m->n_quantiles ? t->m->quantiles : dflt;
	size_t nq = t->m->n_quantiles ? t->m->n_quantiles : ARRAY_SIZE(dflt);
	double *le = xcalloc(t->n_b + 1, sizeof(*le)), *cum = xcalloc(t->n_b + 1, sizeof(*cum));
	char name[32];

	/* The buckets' increases are already cumulative: each bucket counts
	 * every observation up to its bound. */
	for (size_t i = 0; i < t->n_b; i++) {
		le[i] = t->b[i].le;
		cum[i] = t->b[i].inc;
	}
	for (size_t i = 0; i < nq; i++) {
		prom_series_quantile_name(qs[i], name, sizeof(name));
		emit(o, name, unit, prom_series_histogram_quantile(le, cum, t->n_b, qs[i]) * scale);
	}
	free(le);
	free(cum);
}

size_t prom_series_track_values(const struct prom_series_track *t, struct prom_series_value *out, size_t max)
{
	struct out o = { out, 0, max, t->m };
	const char *unit = t->m->unit ? t->m->unit : "1";
	double span = t->last_t - t->first_t, scale;
	char rate_unit[16], name[32];

	if (t->cand < 0)
		return 0;
	scale = scale_of(&t->m->candidates[t->cand]);
	switch (t->kind) {
	case PROM_KIND_GAUGE:
		gauge_values(t, &o, unit);
		break;
	case PROM_KIND_COUNTER:
		if (t->m->plain) {
			emit(&o, NULL, unit, span > 0 ? t->main.inc * scale / span : NAN);
			break;
		}
		prom_series_rate_unit(unit, rate_unit, sizeof(rate_unit));
		emit(&o, "increase", unit, t->main.inc * scale);
		emit(&o, "rate", rate_unit, span > 0 ? t->main.inc * scale / span : NAN);
		break;
	case PROM_KIND_RATIO:
		emit(&o, NULL, unit, t->den.inc > 0 ? t->main.inc / t->den.inc * scale : NAN);
		break;
	default:
		if (t->kind == PROM_KIND_HISTOGRAM) {
			histogram_values(t, &o, scale, unit);
		} else {
			for (size_t i = 0; i < t->n_qv; i++) {
				prom_series_quantile_name(t->qv[i].q, name, sizeof(name));
				emit(&o, name, unit, t->qv[i].v * scale);
			}
		}
		/* main: _count, den: _sum */
		emit(&o, "mean", unit, t->main.inc > 0 ? t->den.inc / t->main.inc * scale : NAN);
		emit(&o, "rate", "1/s", span > 0 ? t->main.inc / span : NAN);
		break;
	}
	return o.n;
}

/* ---- pure pieces ---- */

double prom_series_histogram_quantile(const double *le, const double *cum_in, size_t n, double q)
{
	double *cum, total, rank, lo, hi, below, in, r = NAN;
	size_t b;

	if (n == 0 || !(q >= 0 && q <= 1) || !isinf(le[n - 1]) || le[n - 1] < 0)
		return NAN;
	cum = xmalloc(n * sizeof(*cum));
	/* Counts read at slightly different moments can dip; Prometheus
	 * makes them monotonic the same way. */
	for (size_t i = 0; i < n; i++)
		cum[i] = i && cum_in[i] < cum[i - 1] ? cum[i - 1] : cum_in[i];
	total = cum[n - 1];
	if (!(total > 0))
		goto done;
	rank = q * total;
	for (b = 0; b < n - 1 && cum[b] < rank; b++)
		;
	if (b == n - 1) {
		/* in the +Inf bucket: the highest finite bound is all we know */
		r = n >= 2 ? le[n - 2] : NAN;
		goto done;
	}
	if (b == 0 && le[0] <= 0) {
		r = le[0];
		goto done;
	}
	lo = b == 0 ? 0 : le[b - 1];
	hi = le[b];
	below = b == 0 ? 0 : cum[b - 1];
	in = cum[b] - below;
	r = in > 0 ? lo + (hi - lo) * (rank - below) / in : hi;
done:
	free(cum);
	return r;
}

void prom_series_quantile_name(double q, char *buf, size_t len)
{
	snprintf(buf, len, "p%.10g", q * 100.0);
}

void prom_series_rate_unit(const char *unit, char *buf, size_t len)
{
	if (!unit || !*unit || strcmp(unit, "1") == 0)
		snprintf(buf, len, "1/s");
	else if (strcmp(unit, "s") == 0)
		snprintf(buf, len, "1"); /* seconds per second: a share of time */
	else
		snprintf(buf, len, "%s/s", unit);
}

static const char *const kind_names[] = {
	[PROM_KIND_AUTO] = "auto",           [PROM_KIND_GAUGE] = "gauge",     [PROM_KIND_COUNTER] = "counter",
	[PROM_KIND_HISTOGRAM] = "histogram", [PROM_KIND_SUMMARY] = "summary", [PROM_KIND_RATIO] = "ratio",
};

const char *prom_series_kind_name(enum prom_series_kind k)
{
	return (size_t)k < ARRAY_SIZE(kind_names) ? kind_names[k] : "auto";
}

int prom_series_kind_parse(const char *s, enum prom_series_kind *out)
{
	long i = str_index(s, kind_names, ARRAY_SIZE(kind_names));

	if (i < 0)
		return -1;
	*out = (enum prom_series_kind)i;
	return 0;
}

int prom_series_agg_parse(const char *s, enum prom_series_agg *out)
{
	static const char *const names[] = { [PROM_AGG_SUM] = "sum", [PROM_AGG_MAX] = "max", [PROM_AGG_MIN] = "min",
					     [PROM_AGG_MEAN] = "mean" };
	long i = str_index(s, names, ARRAY_SIZE(names));

	if (i < 0)
		return -1;
	*out = (enum prom_series_agg)i;
	return 0;
}
