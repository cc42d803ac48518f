/*
 * hist.c: log-linear histogram (see hist.h).  The bucket arithmetic is
 * HdrHistogram's with a unit of 1 ns: bucket b holds sub-buckets of width
 * 2^b ns; the lower half of every bucket but the first overlaps the previous
 * bucket and is not stored.
 */
#include "hist.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

struct hist {
	int sigfigs;
	int sub_half_mag;        /* log2(sub_bucket_count / 2) */
	uint64_t sub_count;      /* sub-buckets per bucket, 2^(sub_half_mag+1) */
	uint64_t sub_half;
	uint64_t sub_mask;       /* sub_count - 1 */
	size_t n_buckets;
	size_t n_counts;
	uint64_t *counts;
	uint64_t total;
	uint64_t saturated;
	uint64_t min, max;       /* ns, exact */
	long double sum;         /* ns; long double keeps an hour of nanoseconds exact enough */
};

static int clz64(uint64_t v)
{
	return v ? __builtin_clzll(v) : 64;
}

static int bucket_index(const struct hist *h, uint64_t v)
{
	return 64 - clz64(v | h->sub_mask) - (h->sub_half_mag + 1);
}

static size_t counts_index_of(const struct hist *h, uint64_t v)
{
	int b = bucket_index(h, v);
	uint64_t sb = v >> b;

	return (size_t)(((uint64_t)(b + 1) << h->sub_half_mag) + (sb - h->sub_half));
}

/* The bucket and sub-bucket of a counts index. */
static void index_split(const struct hist *h, size_t idx, int *b, uint64_t *sb)
{
	long bb = (long)(idx >> h->sub_half_mag) - 1;
	uint64_t s = (idx & (h->sub_half - 1)) + h->sub_half;

	if (bb < 0) {
		s -= h->sub_half;
		bb = 0;
	}
	*b = (int)bb;
	*sb = s;
}

static uint64_t index_lowest(const struct hist *h, size_t idx)
{
	int b;
	uint64_t sb;

	index_split(h, idx, &b, &sb);
	return sb << b;
}

static uint64_t index_highest(const struct hist *h, size_t idx)
{
	int b;
	uint64_t sb;

	index_split(h, idx, &b, &sb);
	return (sb << b) + (UINT64_C(1) << b) - 1;
}

struct hist *hist_new(int sigfigs)
{
	struct hist *h = xcalloc(1, sizeof(*h));
	uint64_t largest = 2;
	int mag = 0;
	uint64_t smallest_untrackable;

	if (sigfigs < 1)
		sigfigs = 1;
	if (sigfigs > 5)
		sigfigs = 5;
	for (int i = 0; i < sigfigs; i++)
		largest *= 10;
	while ((UINT64_C(1) << mag) < largest)
		mag++;
	h->sigfigs = sigfigs;
	h->sub_half_mag = mag - 1;
	h->sub_count = UINT64_C(1) << mag;
	h->sub_half = h->sub_count / 2;
	h->sub_mask = h->sub_count - 1;
	smallest_untrackable = h->sub_count;
	h->n_buckets = 1;
	while (smallest_untrackable <= HIST_HIGHEST_NS) {
		smallest_untrackable <<= 1;
		h->n_buckets++;
	}
	h->n_counts = (h->n_buckets + 1) * (size_t)h->sub_half;
	h->counts = xcalloc(h->n_counts, sizeof(uint64_t));
	return h;
}

struct hist *hist_clone(const struct hist *h)
{
	struct hist *c = xmalloc(sizeof(*c));

	*c = *h;
	c->counts = xmalloc(h->n_counts * sizeof(uint64_t));
	memcpy(c->counts, h->counts, h->n_counts * sizeof(uint64_t));
	return c;
}

void hist_free(struct hist *h)
{
	if (!h)
		return;
	free(h->counts);
	free(h);
}

void hist_reset(struct hist *h)
{
	memset(h->counts, 0, h->n_counts * sizeof(uint64_t));
	h->total = h->saturated = h->min = h->max = 0;
	h->sum = 0;
}

void hist_record_n(struct hist *h, uint64_t ns, uint64_t count)
{
	if (count == 0)
		return;
	if (ns > HIST_HIGHEST_NS) {
		ns = HIST_HIGHEST_NS;
		h->saturated += count;
	}
	h->counts[counts_index_of(h, ns)] += count;
	if (h->total == 0 || ns < h->min)
		h->min = ns;
	if (ns > h->max)
		h->max = ns;
	h->total += count;
	h->sum += (long double)ns * (long double)count;
}

void hist_record(struct hist *h, uint64_t ns)
{
	hist_record_n(h, ns, 1);
}

int hist_merge(struct hist *dst, const struct hist *src, struct err *err)
{
	if (dst->sigfigs != src->sigfigs)
		return err_set(err, ERR_INPUT, "cannot merge histograms of %d and %d significant digits",
			       dst->sigfigs, src->sigfigs);
	if (src->total == 0)
		return 0;
	for (size_t i = 0; i < src->n_counts; i++)
		dst->counts[i] += src->counts[i];
	if (dst->total == 0 || src->min < dst->min)
		dst->min = src->min;
	if (src->max > dst->max)
		dst->max = src->max;
	dst->total += src->total;
	dst->saturated += src->saturated;
	dst->sum += src->sum;
	return 0;
}

uint64_t hist_count(const struct hist *h) { return h->total; }
uint64_t hist_saturated(const struct hist *h) { return h->saturated; }
uint64_t hist_min(const struct hist *h) { return h->min; }
uint64_t hist_max(const struct hist *h) { return h->max; }
int hist_sigfigs(const struct hist *h) { return h->sigfigs; }

double hist_mean(const struct hist *h)
{
	return h->total ? (double)(h->sum / (long double)h->total) : 0.0;
}

uint64_t hist_lowest_equivalent(const struct hist *h, uint64_t ns)
{
	if (ns > HIST_HIGHEST_NS)
		ns = HIST_HIGHEST_NS;
	return index_lowest(h, counts_index_of(h, ns));
}

uint64_t hist_highest_equivalent(const struct hist *h, uint64_t ns)
{
	if (ns > HIST_HIGHEST_NS)
		ns = HIST_HIGHEST_NS;
	return index_highest(h, counts_index_of(h, ns));
}

uint64_t hist_percentile(const struct hist *h, double p)
{
	uint64_t rank, seen = 0;

	if (h->total == 0)
		return 0;
	if (!(p > 0))
		return h->min;
	if (p >= 100)
		return h->max;
	rank = (uint64_t)ceil(p / 100.0 * (double)h->total - 1e-9);
	if (rank < 1)
		rank = 1;
	if (rank > h->total)
		rank = h->total;
	for (size_t i = 0; i < h->n_counts; i++) {
		seen += h->counts[i];
		if (seen >= rank) {
			uint64_t v = index_highest(h, i);

			if (v > h->max)
				v = h->max;
			if (v < h->min)
				v = h->min;
			return v;
		}
	}
	return h->max;
}

uint64_t hist_count_above(const struct hist *h, uint64_t ns)
{
	uint64_t n = 0;

	if (ns > HIST_HIGHEST_NS)
		return 0;
	for (size_t i = counts_index_of(h, ns) + 1; i < h->n_counts; i++)
		n += h->counts[i];
	return n;
}

cJSON *hist_to_json(const struct hist *h)
{
	cJSON *o = cJSON_CreateObject();
	cJSON *arr = cJSON_CreateArray();
	size_t prev = 0;
	bool first = true;

	cJSON_AddStringToObject(o, "unit", "ns");
	cJSON_AddNumberToObject(o, "sigfigs", h->sigfigs);
	cJSON_AddNumberToObject(o, "n", (double)h->total);
	cJSON_AddNumberToObject(o, "min", (double)h->min);
	cJSON_AddNumberToObject(o, "max", (double)h->max);
	cJSON_AddNumberToObject(o, "sum", (double)h->sum);
	cJSON_AddNumberToObject(o, "saturated", (double)h->saturated);
	for (size_t i = 0; i < h->n_counts; i++) {
		if (!h->counts[i])
			continue;
		cJSON_AddItemToArray(arr, cJSON_CreateNumber((double)(first ? i : i - prev)));
		cJSON_AddItemToArray(arr, cJSON_CreateNumber((double)h->counts[i]));
		prev = i;
		first = false;
	}
	cJSON_AddItemToObject(o, "counts", arr);
	return o;
}

static int get_u64(const cJSON *json, const char *key, uint64_t *out, struct err *err)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(json, key);

	if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0) || v->valuedouble > 1.8e19 ||
	    v->valuedouble != floor(v->valuedouble))
		return err_set(err, ERR_INPUT, "histogram.%s: expected a non-negative integer", key);
	*out = (uint64_t)v->valuedouble;
	return 0;
}

/* The members of the JSON form but the counts, checked. */
struct hist_json_head {
	uint64_t sigfigs, n, min, max, sum, saturated;
	const cJSON *counts;
};

static int json_head(const cJSON *json, struct hist_json_head *hd, struct err *err)
{
	const cJSON *unit;
	int rc;

	if (!cJSON_IsObject(json))
		return err_set(err, ERR_INPUT, "histogram: expected an object");
	unit = cJSON_GetObjectItemCaseSensitive(json, "unit");
	if (!cJSON_IsString(unit) || strcmp(unit->valuestring, "ns") != 0)
		return err_set(err, ERR_INPUT, "histogram.unit: expected \"ns\"");
	if ((rc = get_u64(json, "sigfigs", &hd->sigfigs, err)) || (rc = get_u64(json, "n", &hd->n, err)) ||
	    (rc = get_u64(json, "min", &hd->min, err)) || (rc = get_u64(json, "max", &hd->max, err)) ||
	    (rc = get_u64(json, "sum", &hd->sum, err)) || (rc = get_u64(json, "saturated", &hd->saturated, err)))
		return rc;
	if (hd->sigfigs < 1 || hd->sigfigs > 5)
		return err_set(err, ERR_INPUT, "histogram.sigfigs: expected 1 to 5, got %llu",
			       (unsigned long long)hd->sigfigs);
	hd->counts = cJSON_GetObjectItemCaseSensitive(json, "counts");
	if (!cJSON_IsArray(hd->counts) || cJSON_GetArraySize(hd->counts) % 2 != 0)
		return err_set(err, ERR_INPUT, "histogram.counts: expected an array of index/count pairs");
	return 0;
}

/*
 * Walk the index/count pairs: check them (add == false), or add them to h
 * (add == true, after a check passed).  *total: the counts' sum.
 */
static int json_counts(struct hist *h, const cJSON *counts, bool add, uint64_t *total, struct err *err)
{
	size_t idx = 0, k = 0;

	*total = 0;
	for (const cJSON *it = counts->child; it; it = it->next, k++) {
		double d = cJSON_IsNumber(it) ? it->valuedouble : -1;

		if (!add && (!(d >= 0) || d != floor(d) || d > 1.8e19))
			return err_set(err, ERR_INPUT, "histogram.counts[%zu]: expected a non-negative integer", k);
		if (k % 2 == 0) {
			idx = (k == 0) ? (size_t)d : idx + (size_t)d;
			if (!add && (idx >= h->n_counts || (k > 0 && d == 0)))
				return err_set(err, ERR_INPUT, "histogram.counts[%zu]: bucket index out of range", k);
		} else {
			if (add)
				h->counts[idx] += (uint64_t)d;
			*total += (uint64_t)d;
		}
	}
	return 0;
}

int hist_merge_json(struct hist *dst, const cJSON *json, struct err *err)
{
	struct hist_json_head hd;
	uint64_t total;
	int rc;

	if ((rc = json_head(json, &hd, err)) != 0)
		return rc;
	if ((int)hd.sigfigs != dst->sigfigs)
		return err_set(err, ERR_INPUT, "cannot merge histograms of %d and %d significant digits",
			       dst->sigfigs, (int)hd.sigfigs);
	if ((rc = json_counts(dst, hd.counts, false, &total, err)) != 0)
		return rc;
	if (total != hd.n)
		return err_set(err, ERR_INPUT, "histogram.n: %llu does not match the counts' total %llu",
			       (unsigned long long)hd.n, (unsigned long long)total);
	if (hd.n == 0)
		return 0;
	json_counts(dst, hd.counts, true, &total, NULL);
	if (dst->total == 0 || hd.min < dst->min)
		dst->min = hd.min;
	if (hd.max > dst->max)
		dst->max = hd.max;
	dst->total += hd.n;
	dst->saturated += hd.saturated;
	dst->sum += (long double)hd.sum;
	return 0;
}

int hist_from_json(struct hist **out, const cJSON *json, struct err *err)
{
	struct hist_json_head hd;
	struct hist *h;
	int rc;

	*out = NULL;
	if ((rc = json_head(json, &hd, err)) != 0)
		return rc;
	h = hist_new((int)hd.sigfigs);
	if ((rc = hist_merge_json(h, json, err)) != 0) {
		hist_free(h);
		return rc;
	}
	*out = h;
	return 0;
}

char *hist_to_text(const struct hist *h)
{
	struct sb sb = SB_INIT;
	size_t prev = 0;
	bool first = true;

	sb_printf(&sb, "%d %llu %llu %llu %.0Lf %llu", h->sigfigs, (unsigned long long)h->total,
		  (unsigned long long)h->min, (unsigned long long)h->max, h->sum, (unsigned long long)h->saturated);
	for (size_t i = 0; i < h->n_counts; i++) {
		if (!h->counts[i])
			continue;
		sb_printf(&sb, " %zu %llu", first ? i : i - prev, (unsigned long long)h->counts[i]);
		prev = i;
		first = false;
	}
	return sb_detach(&sb);
}

/* The next integer of a text form: digits, then a space or the end. */
static bool text_u64(const char **p, uint64_t *out)
{
	const char *s = *p;
	uint64_t v = 0;

	if (*s < '0' || *s > '9')
		return false;
	for (; *s >= '0' && *s <= '9'; s++) {
		if (v > (UINT64_MAX - 9) / 10)
			return false;
		v = v * 10 + (uint64_t)(*s - '0');
	}
	if (*s == ' ')
		s++;
	else if (*s)
		return false;
	*p = s;
	*out = v;
	return true;
}

/*
 * Add the counts of a text form's pairs to h (sub: take them away), the
 * first `limit` pairs at most; *pairs: how many were well-formed and added.
 * Stops at the first malformed pair with ERR_INPUT.
 */
static int text_counts(struct hist *h, const char *p, bool sub, size_t limit, size_t *pairs, uint64_t *total,
		       struct err *err)
{
	size_t idx = 0, k = 0;
	bool bad = false;

	*total = 0;
	for (; *p && k < limit; k++) {
		uint64_t d, c;

		if (!text_u64(&p, &d) || !text_u64(&p, &c) || d >= h->n_counts || (k > 0 && d == 0) ||
		    (idx = k == 0 ? (size_t)d : idx + (size_t)d) >= h->n_counts) {
			bad = true;
			break;
		}
		h->counts[idx] = sub ? h->counts[idx] - c : h->counts[idx] + c;
		*total += c;
	}
	*pairs = k;
	if (bad)
		return err_set(err, ERR_INPUT, "histogram text: counts pair %zu: expected a bucket gap in range and a count", k);
	return 0;
}

int hist_merge_text(struct hist *dst, const char *text, struct err *err)
{
	uint64_t head[6], total;
	const char *p = text;
	size_t pairs;
	int rc;

	for (int i = 0; i < 6; i++)
		if (!text_u64(&p, &head[i]))
			return err_set(err, ERR_INPUT, "histogram text: expected SIGFIGS N MIN MAX SUM SATURATED, then counts");
	if ((int)head[0] != dst->sigfigs)
		return err_set(err, ERR_INPUT, "cannot merge histograms of %d and %llu significant digits", dst->sigfigs,
			       (unsigned long long)head[0]);
	/* One pass that adds as it checks (a shard merge reads millions of
	 * pairs); a bad pair takes back what was added before it. */
	rc = text_counts(dst, p, false, SIZE_MAX, &pairs, &total, err);
	if (rc == 0 && total != head[1])
		rc = err_set(err, ERR_INPUT, "histogram text: n %llu does not match the counts' total %llu",
			     (unsigned long long)head[1], (unsigned long long)total);
	if (rc != 0) {
		size_t undone;

		text_counts(dst, p, true, pairs, &undone, &total, NULL);
		return rc;
	}
	if (total == 0)
		return 0;
	if (dst->total == 0 || head[2] < dst->min)
		dst->min = head[2];
	if (head[3] > dst->max)
		dst->max = head[3];
	dst->total += head[1];
	dst->sum += (long double)head[4];
	dst->saturated += head[5];
	return 0;
}
