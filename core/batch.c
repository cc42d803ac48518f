/*
 * batch.c: batch samples of a load benchmark (see batch.h).
 */
#include "batch.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "stats.h"
#include "util.h"

static const struct {
	const char *metric;
	const char *series;  /* the time series' member */
	double q;            /* the percentile as a fraction; 0: a rate */
} batched[] = {
	{ "latency.p50", "p50", 0.50 },
	{ "latency.p95", "p95", 0.95 },
	{ "latency.p99", "p99", 0.99 },
	{ "throughput", "throughput", 0 },
};

static int find(const char *metric)
{
	for (size_t i = 0; metric && i < ARRAY_SIZE(batched); i++)
		if (strcmp(batched[i].metric, metric) == 0)
			return (int)i;
	return -1;
}

bool batch_has(const char *metric)
{
	return find(metric) >= 0;
}

static double num_at(const cJSON *arr, int i)
{
	const cJSON *v = cJSON_GetArrayItem(arr, i);
	return cJSON_IsNumber(v) ? v->valuedouble : NAN;
}

/*
 * The sub-windows of one repetition's series inside its measured window:
 * values and request counts into v, w (room for the series' length);
 * returns how many.  A series without "warmup" and "window" (documents from
 * before they were recorded) drops only its last interval, which may be
 * partial.
 */
static size_t windows_of(const cJSON *ts, const char *series, bool rate, double *v, double *w)
{
	const cJSON *vals = cJSON_GetObjectItemCaseSensitive(ts, series);
	const cJSON *tput = cJSON_GetObjectItemCaseSensitive(ts, "throughput");
	const cJSON *jiv = cJSON_GetObjectItemCaseSensitive(ts, "interval");
	const cJSON *jwu = cJSON_GetObjectItemCaseSensitive(ts, "warmup");
	const cJSON *jwin = cJSON_GetObjectItemCaseSensitive(ts, "window");
	int len = cJSON_GetArraySize(vals), from = 0, to = len - 1;
	double iv = cJSON_IsNumber(jiv) && jiv->valuedouble > 0 ? jiv->valuedouble : 1;
	size_t k = 0;

	if (!cJSON_IsArray(vals) || !cJSON_IsArray(tput) || cJSON_GetArraySize(tput) != len)
		return 0;
	if (cJSON_IsNumber(jwu) && cJSON_IsNumber(jwin)) {
		/* whole intervals only: [ceil(warmup/iv), floor((warmup+window)/iv)) */
		from = (int)ceil(jwu->valuedouble / iv - 1e-9);
		to = (int)floor((jwu->valuedouble + jwin->valuedouble) / iv + 1e-9);
		if (to > len)
			to = len;
	}
	for (int i = from; i < to; i++) {
		double ok = num_at(tput, i) * iv, x = num_at(vals, i);

		if (!isfinite(x) || !isfinite(ok))
			continue;
		if (!rate && !(ok > 0))
			continue; /* no success ended here: no latency */
		v[k] = x;
		w[k] = rate ? 1 : ok;
		k++;
	}
	return k;
}

size_t batch_samples(const struct rd_bench *b, const char *metric, double **out, struct batch_info *info)
{
	int which = find(metric);
	const cJSON *series = b && b->extra ? cJSON_GetObjectItemCaseSensitive(b->extra, "timeseries") : NULL;
	const cJSON *ts;
	double *res = NULL, *v = NULL, *w = NULL, *bv = NULL;
	size_t n = 0, alloc = 0;
	bool ok = true;

	*out = NULL;
	memset(info, 0, sizeof(*info));
	if (which < 0 || !cJSON_IsArray(series) || cJSON_GetArraySize(series) == 0)
		return 0;
	cJSON_ArrayForEach(ts, series) {
		int len = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(ts, batched[which].series));
		double q = batched[which].q, r1 = 0;
		size_t k, nb;

		if (len <= 0) {
			ok = false;
			break;
		}
		v = xrealloc(v, (size_t)len * sizeof(*v));
		w = xrealloc(w, (size_t)len * sizeof(*w));
		bv = xrealloc(bv, (size_t)len * sizeof(*bv));
		k = windows_of(ts, batched[which].series, q == 0, v, w);
		nb = k ? stats_batch_means(v, w, k, q > 0 ? BATCH_EXCEEDANCES / (1 - q) : 1, BATCH_R1_LIMIT,
					   BATCH_MIN, bv, &r1)
		       : 0;
		if (nb == 0) {
			ok = false;
			break;
		}
		XGROW(res, alloc, n + nb);
		memcpy(res + n, bv, nb * sizeof(*bv));
		n += nb;
		info->repetitions++;
		info->windows += k;
		info->r1 = fmax(info->r1, fabs(r1));
	}
	free(v);
	free(w);
	free(bv);
	if (!ok || n == 0) {
		free(res);
		memset(info, 0, sizeof(*info));
		return 0;
	}
	info->batches = n;
	*out = res;
	return n;
}
