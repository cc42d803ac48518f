/*
 * slo.c: parse and evaluate SLO expressions (slo.h says how a key resolves
 * to a metric and a statistic).
 */
#include "slo.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "monitor.h"
#include "suite.h"
#include "summary.h"
#include "util.h"

struct unit {
	const char *name;
	const char *kind;  /* "time", "size", "ratio", "rate" */
	double scale;      /* to SI */
};

static const struct unit units[] = {
	{ "ns", "time", 1e-9 }, { "us", "time", 1e-6 }, { "µs", "time", 1e-6 },
	{ "ms", "time", 1e-3 }, { "s", "time", 1 },
	{ "%", "ratio", 0.01 },
	{ "B", "size", 1 }, { "KB", "size", 1e3 }, { "MB", "size", 1e6 }, { "GB", "size", 1e9 },
	{ "KiB", "size", 1024.0 }, { "MiB", "size", 1048576.0 }, { "GiB", "size", 1073741824.0 },
	{ "/s", "rate", 1 },
};

#define KNOWN_UNITS "ns us ms s % B KB MB GB KiB MiB GiB /s"

/* "p95" / "p99.9" -> 95 / 99.9; returns 1 when s is pN with N in (0, 100],
 * -1 when it is pN with N out of range, 0 when it is not pN at all. */
static int parse_percentile(const char *s, double *q)
{
	char *end;

	if (s[0] != 'p' || !isdigit((unsigned char)s[1]))
		return 0;
	*q = strtod(s + 1, &end);
	if (*end != '\0')
		return 0;
	return *q > 0 && *q <= 100 ? 1 : -1;
}

static int is_stat(const char *s)
{
	static const char *const names[] = { "mean", "median", "min", "max", "rate", "count" };
	double q;

	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		if (strcmp(s, names[i]) == 0)
			return 1;
	return parse_percentile(s, &q) != 0;
}

/* Split "a.b.p95" at the first dot whose suffix is a statistic. */
static void split_key(const char *key, char **metric, char **stat)
{
	for (const char *dot = strchr(key, '.'); dot; dot = strchr(dot + 1, '.')) {
		if (is_stat(dot + 1)) {
			*metric = xstrndup(key, (size_t)(dot - key));
			*stat = xstrdup(dot + 1);
			return;
		}
	}
	*metric = xstrdup(key);
	*stat = NULL;
}

void slo_release(struct slo *s)
{
	if (!s)
		return;
	free(s->metric);
	free(s->stat);
	free(s->unit_kind);
	free(s->key);
	free(s->text);
	memset(s, 0, sizeof(*s));
}

/* The comparison at *p ("<", "<=", ">", ">=", "=="), advancing *p past it;
 * -1 when there is none (or it is followed by another comparison sign). */
static int parse_op(const char **p, enum slo_op *op)
{
	static const struct {
		const char *text;
		enum slo_op op;
	} ops[] = { { "<=", SLO_LE }, { ">=", SLO_GE }, { "==", SLO_EQ }, { "<", SLO_LT }, { ">", SLO_GT } };

	for (size_t i = 0; i < ARRAY_SIZE(ops); i++) {
		size_t n = strlen(ops[i].text);

		if (strncmp(*p, ops[i].text, n) == 0) {
			*p += n;
			*op = ops[i].op;
			return **p == '<' || **p == '>' || **p == '=' ? -1 : 0;
		}
	}
	return -1;
}

/* Scale *v by the unit written after it (unit_txt, "" for none), checking
 * that the unit fits the statistic; sets out->unit_kind. */
static int apply_unit(struct slo *out, const char *unit_txt, double *v, const char *expr, struct err *err)
{
	const struct unit *u = NULL;

	if (!*unit_txt)
		return 0;
	for (size_t i = 0; i < ARRAY_SIZE(units); i++)
		if (strcmp(unit_txt, units[i].name) == 0)
			u = &units[i];
	if (!u)
		return err_set(err, ERR_INPUT, "slo '%s': unknown unit '%s' in '%s' (known: %s)", out->key,
			       unit_txt, expr, KNOWN_UNITS);
	if (*v < 0)
		return err_set(err, ERR_INPUT, "slo '%s': '%s': a value in %s cannot be negative", out->key,
			       expr, u->name);
	if (out->stat && strcmp(out->stat, "count") == 0)
		return err_set(err, ERR_INPUT, "slo '%s': '%s': a count takes no unit", out->key, expr);
	if (out->stat && strcmp(out->stat, "rate") == 0 && strcmp(u->kind, "rate") != 0)
		return err_set(err, ERR_INPUT, "slo '%s': '%s': a rate is compared in /s, not %s", out->key,
			       expr, u->name);
	out->unit_kind = xstrdup(u->kind);
	*v *= u->scale;
	return 0;
}

/* "OP VALUE[UNIT]" into out->op and out->value (SI units). */
static int parse_expr(struct slo *out, const char *expr, struct err *err)
{
	const char *key = out->key, *p = expr, *num;
	char *end, *unit_txt;
	double v;
	int rc;

	while (isspace((unsigned char)*p))
		p++;
	if (!*p)
		return err_set(err, ERR_INPUT,
			       "slo '%s': empty expression; expected OP VALUE[UNIT] such as '< 250ms'", key);
	if (parse_op(&p, &out->op) < 0)
		return err_set(err, ERR_INPUT, "slo '%s': '%s' does not start with one of < <= > >= ==", key,
			       expr);
	while (isspace((unsigned char)*p))
		p++;
	num = p;
	if (!*num)
		return err_set(err, ERR_INPUT, "slo '%s': '%s' has no value after the comparison", key, expr);
	v = strtod(num, &end);
	if (end == num)
		return err_set(err, ERR_INPUT, "slo '%s': '%s' has no number after the comparison", key, expr);
	if (!isfinite(v) || isalpha((unsigned char)*num)) /* "inf", "nan" */
		return err_set(err, ERR_INPUT, "slo '%s': '%s': the value is not a finite number", key, expr);
	p = end;
	while (isspace((unsigned char)*p))
		p++;
	unit_txt = xstrdup(p);
	for (size_t n = strlen(unit_txt); n > 0 && isspace((unsigned char)unit_txt[n - 1]); n--)
		unit_txt[n - 1] = '\0';
	rc = apply_unit(out, unit_txt, &v, expr, err);
	free(unit_txt);
	out->value = v;
	return rc;
}

int slo_parse(const char *key, const char *expr, struct slo *out, struct err *err)
{
	const char *last;
	double q;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	if (!key || !*key)
		return err_set(err, ERR_INPUT, "slo '': empty metric name");
	if (!expr)
		expr = "";
	split_key(key, &out->metric, &out->stat);
	out->key = xstrdup(key);
	out->text = xasprintf("%s %s", key, expr);
	last = strrchr(key, '.');
	if (!*out->metric)
		rc = err_set(err, ERR_INPUT, "slo '%s': empty metric name", key);
	else if (last && parse_percentile(last + 1, &q) < 0)
		rc = err_set(err, ERR_INPUT, "slo '%s': percentile '%s' is not in (0, 100]", key, last + 1);
	else
		rc = parse_expr(out, expr, err);
	if (rc)
		slo_release(out);
	return rc;
}

void slo_validate(const cJSON *slo, const char *path, struct errlist *problems)
{
	const cJSON *it;

	if (!cJSON_IsObject(slo)) {
		errlist_add(problems, "%s: expected an object of \"METRIC[.STAT]\": \"OP VALUE[UNIT]\"", path);
		return;
	}
	cJSON_ArrayForEach(it, slo) {
		struct slo s;
		struct err err = ERR_INIT;

		if (!cJSON_IsString(it)) {
			errlist_add(problems, "%s.%s: expected a string such as \"< 250ms\"", path, it->string);
			continue;
		}
		if (slo_parse(it->string, it->valuestring, &s, &err) != 0)
			errlist_add(problems, "%s.%s: %s", path, it->string, err.msg);
		else
			slo_release(&s);
	}
}

/* Which unit kind a metric's unit string is. */
static const char *metric_unit_kind(const char *unit)
{
	if (!unit)
		return "";
	if (strcmp(unit, "s") == 0 || strcmp(unit, "ns") == 0)
		return "time";
	if (strcmp(unit, "B") == 0)
		return "size";
	if (strcmp(unit, "1/s") == 0 || strcmp(unit, "/s") == 0)
		return "rate";
	if (strcmp(unit, "%") == 0 || strcmp(unit, "ratio") == 0 || strcmp(unit, "1") == 0 ||
	    strcmp(unit, "") == 0)
		return "ratio";
	return unit;
}

static int suggest(const struct slo *s, const struct rd_bench *b, struct err *err)
{
	const char **cands = xcalloc(2 * b->n_metrics + 1, sizeof(*cands));
	char **owned = xcalloc(b->n_metrics + 1, sizeof(*owned));
	const char *near;
	int rc;

	for (size_t i = 0; i < b->n_metrics; i++) {
		char *stat;
		split_key(b->metrics[i].name, &owned[i], &stat);
		free(stat);
		cands[2 * i] = owned[i];
		cands[2 * i + 1] = b->metrics[i].name;
	}
	near = closest_match(s->metric, cands, 2 * b->n_metrics);
	if (near)
		rc = err_set(err, ERR_INPUT, "slo '%s': no metric '%s' in benchmark '%s' (did you mean '%s'?)",
			     s->key, s->metric, b->name, near);
	else
		rc = err_set(err, ERR_INPUT, "slo '%s': no metric '%s' in benchmark '%s'", s->key, s->metric,
			     b->name);
	for (size_t i = 0; i < b->n_metrics; i++)
		free(owned[i]);
	free(owned);
	free(cands);
	return rc;
}

/*
 * Failed requests in latency SLOs (docs/statistics.md, "Failed requests in
 * SLOs").  A request that failed has no latency, and the percentiles of a
 * per-request time cover the successes only; judged on those alone, a p95
 * held while 94% of the requests failed.  So a failed request counts as
 * slower than any limit: a percentile pN (the max: p100) of a per-request
 * time holds in a repetition only when at most 100 - N percent of that
 * repetition's requests failed.
 */
static const char *const request_times[] = { "latency", "service_time", "ttfb", "ttft", "tpot", "itl", "inter_chunk" };

/* Is `name` a percentile or the max of a per-request time ("latency.p95",
 * "journey.latency.p99", "ttft.p90[chat]@100/s")?  Then *q is its
 * percentile and err_name the error rate of the same requests
 * ("journey.error_rate", "error_rate[chat]@100/s"). */
static bool request_percentile(const char *name, double *q, char *err_name, size_t len)
{
	for (size_t i = 0; i < ARRAY_SIZE(request_times); i++) {
		size_t n = strlen(request_times[i]);
		const char *at = name;
		char stat[16];
		size_t sl;

		/* the family at the start or after a dot ("journey.", "before.") */
		while (at && !(strncmp(at, request_times[i], n) == 0 && at[n] == '.' && (at == name || at[-1] == '.')))
			at = (at = strchr(at, '.')) ? at + 1 : NULL;
		if (!at)
			continue;
		sl = strcspn(at + n + 1, "[@{");
		if (sl == 0 || sl >= sizeof(stat))
			return false;
		memcpy(stat, at + n + 1, sl);
		stat[sl] = '\0';
		if (strcmp(stat, "max") == 0)
			*q = 100;
		else if (parse_percentile(stat, q) != 1)
			return false;
		snprintf(err_name, len, "%.*serror_rate%s", (int)(at - name), name, at + n + 1 + sl);
		return true;
	}
	return false;
}

/*
 * The samples of m to judge, in *vals: each repetition whose failed share
 * exceeds what m's percentile leaves room for is +infinity.  Returns how
 * many were, with the largest such share in *worst.
 */
static size_t failure_adjusted(const struct rd_bench *b, const struct rd_metric *m, double *vals, double *q,
			       double *worst)
{
	const struct rd_metric *er;
	char err_name[300];
	size_t n_inf = 0;

	memcpy(vals, m->samples, m->n_samples * sizeof(*vals));
	*worst = 0;
	if (!request_percentile(m->name, q, err_name, sizeof(err_name)) ||
	    !(er = rundoc_bench_find_metric(b, err_name)) || er->n_samples == 0)
		return 0;
	for (size_t i = 0; i < m->n_samples; i++) {
		/* per repetition when the two line up, else the error rate's worst */
		double e = er->n_samples == m->n_samples ? er->samples[i] : er->samples[0];

		if (er->n_samples != m->n_samples)
			for (size_t k = 1; k < er->n_samples; k++)
				e = fmax(e, er->samples[k]);
		/* a hair of slack: 5 failures of 100 leave a p95 its room */
		if (e > (100 - *q) / 100 + 1e-9) {
			vals[i] = INFINITY;
			*worst = fmax(*worst, e);
			n_inf++;
		}
	}
	return n_inf;
}

static const char *op_text(enum slo_op op)
{
	switch (op) {
	case SLO_LT: return "<";
	case SLO_LE: return "<=";
	case SLO_GT: return ">";
	case SLO_GE: return ">=";
	case SLO_EQ: return "==";
	}
	return "?";
}

/*
 * A capacity search's SLOs on what each step measures (latency, errors,
 * throughput) are the search's criterion, judged step by step
 * (http/runner.c); the benchmark keeps only the capacity, the highest rate
 * at which every one of them held.  Server, energy and cost metrics are
 * the benchmark's own, at capacity, and judged as any metric.
 */
static bool capacity_criterion(const struct slo *s, const struct rd_bench *b, struct slo_result *out)
{
	const struct rd_metric *cap = rundoc_bench_find_metric(b, "capacity");
	double *v;

	if (!b->extra || !cJSON_GetObjectItemCaseSensitive(b->extra, "capacity_steps") || !cap ||
	    cap->n_samples == 0 || monitor_metric(s->key) || (s->stat && monitor_metric(s->metric)))
		return false;
	v = xmalloc(cap->n_samples * sizeof(*v));
	memcpy(v, cap->samples, cap->n_samples * sizeof(*v));
	qsort(v, cap->n_samples, sizeof(*v), summary_cmp_double);
	out->ok = true;
	snprintf(out->why, sizeof(out->why), "%s: held at every step up to the capacity (%g/s)", s->key,
		 summary_median_sorted(v, cap->n_samples));
	free(v);
	return true;
}

int slo_evaluate(const struct slo *s, const struct rd_bench *b, struct slo_result *out, struct err *err)
{
	const struct rd_metric *m;
	const char *stat;
	double *sorted = NULL, a = NAN, limit, q_req = 0, worst = 0;
	size_t n_failed;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	out->actual = NAN;
	/* rule 1: the whole key is a metric ("latency.p95"), median across repetitions */
	m = rundoc_bench_find_metric(b, s->key);
	stat = "median";
	if (!m && s->stat) {
		/* rule 2: METRIC.STAT */
		m = rundoc_bench_find_metric(b, s->metric);
		stat = s->stat;
	}
	if (!m) {
		/* a server, energy or cost metric missing for a reason fails the
		 * SLO with that reason; anything else is a misspelled name */
		char why[200];
		if (monitor_unmeasured(b, s->key, why, sizeof(why)) ||
		    (s->stat && monitor_unmeasured(b, s->metric, why, sizeof(why)))) {
			snprintf(out->why, sizeof(out->why), "%s: not measured (%s)", s->key, why);
			return 0;
		}
		if (capacity_criterion(s, b, out))
			return 0;
		return suggest(s, b, err);
	}
	if (s->unit_kind && strcmp(stat, "count") != 0 &&
	    strcmp(s->unit_kind, metric_unit_kind(m->unit)) != 0)
		return err_set(err, ERR_INPUT, "slo '%s': '%s' is a %s, but metric '%s' is in '%s'", s->key,
			       s->text + strlen(s->key) + 1, s->unit_kind, m->name, m->unit ? m->unit : "");
	if (strcmp(stat, "rate") == 0 && strcmp(metric_unit_kind(m->unit), "rate") != 0)
		return err_set(err, ERR_INPUT, "slo '%s': metric '%s' is in '%s', not a rate (/s)", s->key,
			       m->name, m->unit ? m->unit : "");
	if (m->n_samples == 0)
		return err_set(err, ERR_RUN, "slo '%s': metric '%s' has no samples", s->key, m->name);

	sorted = xmalloc(m->n_samples * sizeof(*sorted));
	n_failed = failure_adjusted(b, m, sorted, &q_req, &worst);
	qsort(sorted, m->n_samples, sizeof(*sorted), summary_cmp_double);
	if (strcmp(stat, "median") == 0 || strcmp(stat, "rate") == 0) {
		a = summary_median_sorted(sorted, m->n_samples);
	} else if (strcmp(stat, "mean") == 0) {
		double sum = 0;
		for (size_t i = 0; i < m->n_samples; i++)
			sum += sorted[i];
		a = sum / (double)m->n_samples;
	} else if (strcmp(stat, "min") == 0) {
		a = sorted[0];
	} else if (strcmp(stat, "max") == 0) {
		a = sorted[m->n_samples - 1];
	} else if (strcmp(stat, "count") == 0) {
		a = (double)m->n_samples;
	} else {
		double q;
		size_t rank;
		parse_percentile(stat, &q);
		/* nearest rank: the smallest value with at least q% at or below it */
		rank = (size_t)ceil(q / 100 * (double)m->n_samples);
		if (rank < 1)
			rank = 1;
		a = sorted[rank - 1];
	}
	out->actual = a;
	/* the threshold in the metric's own unit: "1%" is 0.01 of a metric in
	 * "1" (a fraction) but 1 of a metric whose unit is "%" (percent points) */
	limit = s->value;
	if (s->unit_kind && strcmp(s->unit_kind, "ratio") == 0 && m->unit && strcmp(m->unit, "%") == 0)
		limit *= 100;
	switch (s->op) {
	case SLO_LT: out->ok = a < limit; break;
	case SLO_LE: out->ok = a <= limit; break;
	case SLO_GT: out->ok = a > limit; break;
	case SLO_GE: out->ok = a >= limit; break;
	case SLO_EQ: out->ok = a == limit; break;
	}
	if (isinf(a) && strcmp(stat, "count") != 0) {
		/* failures decided it: no value, the reason instead (the reports show it) */
		out->actual = NAN;
		out->ok = false;
		snprintf(out->why, sizeof(out->why),
			 "%s: too many failed requests (%.3g%% failed in %zu of %zu repetitions, more than the %.3g%% "
			 "a p%g leaves room for; a failed request counts as slower than any limit)",
			 s->key, worst * 100, n_failed, m->n_samples, 100 - q_req, q_req);
	} else {
		snprintf(out->why, sizeof(out->why), "%s %s of %zu repetitions is %.6g %s, %s %s %.6g %s",
			 m->name, stat, m->n_samples, a, m->unit ? m->unit : "", out->ok ? "meets" : "breaks",
			 op_text(s->op), limit, m->unit ? m->unit : "");
	}
	free(sorted);
	return rc;
}
