/*
 * config.c: reading and checking `"monitor": {"prometheus": ...}` (see
 * config.h and docs/monitor.md).  Validation and parsing are one pass, so
 * that what the suite check accepts is exactly what a run reads.
 */
#include "config.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../json.h"
#include "../util.h"
#include "preset.h"

enum { MAX_TARGETS = 16, MAX_METRICS = 64, MAX_ALTERNATIVES = 8, MAX_LABELS = 16 };

static const char *const target_keys[] = { "url", "preset", "name", "metrics", "interval", "timeout", "token_env",
					   "max_size" };
static const char *const metric_keys[] = { "series", "type", "denominator", "labels", "aggregate", "quantiles",
					   "unit", "scale", "direction" };

/* json_expected at PATH.KEY. */
static void expected_at(struct errlist *p, const char *path, const char *key, const char *what, const cJSON *v)
{
	char *sub = xasprintf("%s.%s", path, key);

	json_expected(p, sub, what, v);
	free(sub);
}

/* Lower-case letters, digits and '_', not starting with a digit: a piece
 * of a metric name that SLO keys and SQL can use as it is. */
static bool plain_name(const char *s)
{
	if (!*s || isdigit((unsigned char)*s))
		return false;
	for (; *s; s++)
		if (!((*s >= 'a' && *s <= 'z') || isdigit((unsigned char)*s) || *s == '_'))
			return false;
	return true;
}

static bool env_name(const char *s)
{
	if (!*s || isdigit((unsigned char)*s))
		return false;
	for (; *s; s++)
		if (!(isalnum((unsigned char)*s) || *s == '_'))
			return false;
	return true;
}

/* Record an allocation of the target's, freed with it; returns p. */
static void *keep(struct prom_config_target *t, void *p)
{
	XGROW(t->kept, t->alloc_kept, t->n_kept + 1);
	t->kept[t->n_kept++] = p;
	return p;
}

static const char *keep_str(struct prom_config_target *t, const char *s)
{
	return s ? keep(t, xstrdup(s)) : NULL;
}

/* A string or an array of 1..MAX_ALTERNATIVES non-empty strings. */
static size_t names_of(const cJSON *v, const char *path, const char **out, struct errlist *p)
{
	size_t n = 0;
	const cJSON *it;

	if (cJSON_IsString(v) && *v->valuestring) {
		out[0] = v->valuestring;
		return 1;
	}
	if (cJSON_IsArray(v) && cJSON_GetArraySize(v) >= 1 && cJSON_GetArraySize(v) <= MAX_ALTERNATIVES) {
		cJSON_ArrayForEach(it, v) {
			if (!cJSON_IsString(it) || !*it->valuestring) {
				json_expected(p, path, "a series name or an array of up to 8 of them", v);
				return 0;
			}
			out[n++] = it->valuestring;
		}
		return n;
	}
	json_expected(p, path, "a series name or an array of up to 8 of them", v);
	return 0;
}

static const char *default_unit(const char *series)
{
	if (strstr(series, "_seconds"))
		return "s";
	if (strstr(series, "_bytes"))
		return "B";
	return "1";
}

/* "labels": {"name": "value", "name": {"not": "value"}} */
static size_t labels_of(const cJSON *v, const char *path, struct prom_series_matcher *out, struct errlist *p)
{
	const cJSON *it;
	size_t n = 0;

	if (!cJSON_IsObject(v)) {
		json_expected(p, path, "an object of label names to values", v);
		return 0;
	}
	cJSON_ArrayForEach(it, v) {
		const cJSON *neg = cJSON_IsObject(it) ? cJSON_GetObjectItemCaseSensitive(it, "not") : NULL;

		if (n == MAX_LABELS) {
			json_problem(p, "%s: at most %d labels", path, MAX_LABELS);
			break;
		}
		if (cJSON_IsString(it)) {
			out[n++] = (struct prom_series_matcher){ .name = it->string, .value = it->valuestring };
		} else if (neg && cJSON_IsString(neg) && cJSON_GetArraySize(it) == 1) {
			out[n++] = (struct prom_series_matcher){ .name = it->string, .value = neg->valuestring, .negate = true };
		} else {
			expected_at(p, path, it->string, "a label value, or {\"not\": VALUE}", it);
		}
	}
	return n;
}

static bool quantiles_of(const cJSON *v, struct prom_series_metric *m)
{
	const cJSON *it;

	if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) < 1 || cJSON_GetArraySize(v) > PROM_SERIES_MAX_QUANTILES)
		return false;
	cJSON_ArrayForEach(it, v) {
		if (!cJSON_IsNumber(it) || !(it->valuedouble > 0 && it->valuedouble < 1))
			return false;
		m->quantiles[m->n_quantiles++] = it->valuedouble;
	}
	return true;
}

/* The metric's kind, aggregate, direction and unit: members beside the
 * series, read into m. */
static void metric_options(const cJSON *spec, const char *path, struct prom_series_metric *m,
			   enum prom_series_kind *kind, double *scale, struct errlist *p)
{
	const cJSON *v;

	if ((v = cJSON_GetObjectItemCaseSensitive(spec, "type")) &&
	    (!cJSON_IsString(v) || prom_series_kind_parse(v->valuestring, kind) != 0 || *kind == PROM_KIND_AUTO))
		expected_at(p, path, "type", "one of \"gauge\", \"counter\", \"histogram\", \"summary\", \"ratio\"", v);
	if ((v = cJSON_GetObjectItemCaseSensitive(spec, "aggregate")) &&
	    (!cJSON_IsString(v) || prom_series_agg_parse(v->valuestring, &m->agg) != 0))
		expected_at(p, path, "aggregate", "one of \"sum\", \"max\", \"min\", \"mean\"", v);
	if ((v = cJSON_GetObjectItemCaseSensitive(spec, "direction"))) {
		if (cJSON_IsString(v) && strcmp(v->valuestring, "higher") == 0)
			m->direction = RD_HIGHER;
		else if (!cJSON_IsString(v) || strcmp(v->valuestring, "lower") != 0)
			expected_at(p, path, "direction", "\"lower\" or \"higher\" (which is better)", v);
	}
	if ((v = cJSON_GetObjectItemCaseSensitive(spec, "unit"))) {
		if (cJSON_IsString(v) && *v->valuestring && strlen(v->valuestring) < 12)
			m->unit = v->valuestring;
		else
			expected_at(p, path, "unit", "a unit such as \"s\", \"B\" or \"1\" (under 12 characters)", v);
	}
	if ((v = cJSON_GetObjectItemCaseSensitive(spec, "quantiles")) && !quantiles_of(v, m))
		expected_at(p, path, "quantiles", "an array of 1 to 8 quantiles in (0, 1)", v);
	json_get_number(spec, "scale", path, 0, scale, NULL, p);
}

/* One entry of "metrics": a series name, or an object.  Everything m
 * points to is the target's (kept). */
static void metric_of(const cJSON *spec, const char *path, struct prom_config_target *t, struct prom_series_metric *m,
		      struct errlist *p)
{
	const char *series[MAX_ALTERNATIVES], *den[MAX_ALTERNATIVES];
	struct prom_series_matcher labels[MAX_LABELS];
	size_t n_series, n_den = 0, n_labels = 0;
	enum prom_series_kind kind = PROM_KIND_AUTO;
	double scale = 1;
	const cJSON *v;
	char *sub = NULL;
	struct prom_series_candidate *c;

	m->unit = NULL;
	if (cJSON_IsString(spec)) {
		n_series = names_of(spec, path, series, p);
	} else if (cJSON_IsObject(spec)) {
		json_check_keys(spec, path, metric_keys, ARRAY_SIZE(metric_keys), p);
		if (!(v = cJSON_GetObjectItemCaseSensitive(spec, "series"))) {
			json_problem(p, "%s.series: required", path);
			return;
		}
		sub = xasprintf("%s.series", path);
		n_series = names_of(v, sub, series, p);
		metric_options(spec, path, m, &kind, &scale, p);
		if ((v = cJSON_GetObjectItemCaseSensitive(spec, "labels"))) {
			free(sub);
			sub = xasprintf("%s.labels", path);
			n_labels = labels_of(v, sub, labels, p);
		}
		free(sub);
		sub = xasprintf("%s.denominator", path);
		if ((v = cJSON_GetObjectItemCaseSensitive(spec, "denominator"))) {
			if (kind != PROM_KIND_RATIO)
				json_problem(p, "%s: only a \"ratio\" has a denominator", sub);
			else if ((n_den = names_of(v, sub, den, p)) && n_den != n_series)
				json_problem(p, "%s: give as many names as series (%zu), paired in order", sub, n_series);
		} else if (kind == PROM_KIND_RATIO) {
			json_problem(p, "%s: required for a \"ratio\"", sub);
		}
		free(sub);
	} else {
		json_expected(p, path, "a series name or an object with \"series\"", spec);
		return;
	}
	if (n_series == 0)
		return;
	m->unit = keep_str(t, m->unit ? m->unit : kind == PROM_KIND_RATIO ? "1" : default_unit(series[0]));
	m->plain = kind == PROM_KIND_RATIO;
	m->n_candidates = n_series;
	m->candidates = c = keep(t, xcalloc(n_series, sizeof(*c)));
	for (size_t i = 0; i < n_series; i++) {
		struct prom_series_matcher *l = n_labels ? keep(t, xcalloc(n_labels, sizeof(*l))) : NULL;
		for (size_t k = 0; k < n_labels; k++)
			l[k] = (struct prom_series_matcher){ .name = keep_str(t, labels[k].name),
							     .value = keep_str(t, labels[k].value),
							     .negate = labels[k].negate };
		c[i] = (struct prom_series_candidate){ .kind = kind, .series = keep_str(t, series[i]),
						       .denominator = i < n_den ? keep_str(t, den[i]) : NULL,
						       .labels = l, .n_labels = n_labels, .scale = scale };
	}
}

/* Add metric m (the target's own, or a preset's) to t, replacing one of the same name. */
static void target_add_metric(struct prom_config_target *t, const struct prom_series_metric *m)
{
	size_t i;

	for (i = 0; i < t->n_metrics; i++)
		if (strcmp(t->metrics[i].name, m->name) == 0)
			break;
	if (i == t->n_metrics) {
		t->metrics = xrealloc(t->metrics, (i + 1) * sizeof(*t->metrics));
		t->n_metrics++;
	}
	t->metrics[i] = *m;
}

static void target_metrics(const cJSON *metrics, const char *path, struct prom_config_target *t, struct errlist *p)
{
	const cJSON *it;

	if (!cJSON_IsObject(metrics) || cJSON_GetArraySize(metrics) > MAX_METRICS) {
		json_expected(p, path, "an object of metric names to series (at most 64)", metrics);
		return;
	}
	cJSON_ArrayForEach(it, metrics) {
		struct prom_series_metric m = { .agg = PROM_AGG_SUM };
		char *sub = xasprintf("%s.%s", path, it->string);
		size_t before = p->n;

		if (!plain_name(it->string))
			json_problem(p, "%s: a metric name is lower-case letters, digits and '_'", sub);
		metric_of(it, sub, t, &m, p);
		free(sub);
		if (p->n > before || m.n_candidates == 0)
			continue;
		m.name = keep_str(t, it->string);
		target_add_metric(t, &m);
	}
}

static void target_preset(const cJSON *v, const char *path, struct prom_config_target *t, struct errlist *p)
{
	const struct prom_preset *pr = cJSON_IsString(v) ? prom_preset_find(v->valuestring) : NULL;
	size_t n;
	const char *const *names = prom_preset_names(&n);
	char list[128] = "";

	if (!pr) {
		for (size_t i = 0; i < n; i++)
			snprintf(list + strlen(list), sizeof(list) - strlen(list), "%s\"%s\"", i ? ", " : "", names[i]);
		json_problem(p, "%s.preset: expected one of %s", path, list);
		return;
	}
	t->preset = pr->name;
	for (size_t i = 0; i < pr->n_metrics; i++)
		target_add_metric(t, &pr->metrics[i]);
}

/* The scraping keys: url, interval, timeout, max_size, token_env. */
static void target_transport(const cJSON *o, const char *path, struct prom_config_target *t, struct errlist *p)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, "url");
	bool set;

	if (!v)
		json_problem(p, "%s.url: required (the target's /metrics address)", path);
	else if (!cJSON_IsString(v) || (strncmp(v->valuestring, "http://", 7) != 0 &&
					strncmp(v->valuestring, "https://", 8) != 0) ||
		 strlen(v->valuestring) <= 8)
		json_problem(p, "%s.url: expected an http:// or https:// address such as "
				"\"http://127.0.0.1:8000/metrics\"", path);
	else if (strchr(v->valuestring + 8, '@'))
		json_problem(p, "%s.url: credentials do not belong in the address; use token_env", path);
	else
		t->url = xstrdup(v->valuestring);
	t->interval = 1;
	t->timeout = 1;
	t->max_size = 16.0 * 1048576;
	if (json_get_duration(o, "interval", path, &t->interval, &set, p) && set &&
	    !(t->interval >= 0.01 && t->interval <= 60))
		json_problem(p, "%s.interval: expected a duration from 10ms to 60s", path);
	if (json_get_duration(o, "timeout", path, &t->timeout, &set, p) && set && !(t->timeout >= 0.001 && t->timeout <= 60))
		json_problem(p, "%s.timeout: expected a duration from 1ms to 60s", path);
	if ((v = cJSON_GetObjectItemCaseSensitive(o, "max_size"))) {
		struct err e = ERR_INIT;
		if (cJSON_IsNumber(v))
			t->max_size = v->valuedouble;
		else if (!cJSON_IsString(v) || parse_size(v->valuestring, &t->max_size, &e) != 0)
			t->max_size = -1;
		if (!(t->max_size >= 1024 && t->max_size <= 1024.0 * 1048576))
			json_problem(p, "%s.max_size: expected a size from 1KiB to 1GiB such as \"16MiB\"", path);
	}
	if ((v = cJSON_GetObjectItemCaseSensitive(o, "token_env"))) {
		if (cJSON_IsString(v) && env_name(v->valuestring))
			t->token_env = xstrdup(v->valuestring);
		else
			json_problem(p, "%s.token_env: expected the name of an environment variable holding the token",
				     path);
	}
}

static void target_of(const cJSON *o, const char *path, struct prom_config_target *t, struct errlist *p)
{
	const cJSON *v;

	if (!cJSON_IsObject(o)) {
		json_expected(p, path, "an object with \"url\"", o);
		return;
	}
	json_check_keys(o, path, target_keys, ARRAY_SIZE(target_keys), p);
	target_transport(o, path, t, p);
	if ((v = cJSON_GetObjectItemCaseSensitive(o, "preset")))
		target_preset(v, path, t, p);
	if ((v = cJSON_GetObjectItemCaseSensitive(o, "metrics"))) {
		char *sub = xasprintf("%s.metrics", path);
		target_metrics(v, sub, t, p);
		free(sub);
	}
	if ((v = cJSON_GetObjectItemCaseSensitive(o, "name"))) {
		if (cJSON_IsString(v) && plain_name(v->valuestring))
			t->name = xstrdup(v->valuestring);
		else
			json_problem(p, "%s.name: expected lower-case letters, digits and '_' (it names the metrics "
					"server.NAME.*)", path);
	} else if (t->preset) {
		t->name = xstrdup(t->preset);
	} else if (!cJSON_GetObjectItemCaseSensitive(o, "preset")) { /* a bad preset is one problem, not two */
		json_problem(p, "%s.name: required when no preset is named (it names the metrics server.NAME.*)", path);
	}
	if (!cJSON_GetObjectItemCaseSensitive(o, "preset") && !cJSON_GetObjectItemCaseSensitive(o, "metrics"))
		json_problem(p, "%s: name a \"preset\" or the \"metrics\" to take", path);
}

/* Build from v; problems go to p.  Always returns a configuration (free it). */
static struct prom_config *build(const cJSON *v, const char *path, struct errlist *p)
{
	struct prom_config *c = xcalloc(1, sizeof(*c));
	const cJSON *it;
	size_t n = cJSON_IsArray(v) ? (size_t)cJSON_GetArraySize(v) : 1;
	size_t i = 0;

	if (cJSON_IsArray(v) && (n == 0 || n > MAX_TARGETS)) {
		json_problem(p, "%s: expected 1 to %d targets", path, MAX_TARGETS);
		return c;
	}
	c->targets = xcalloc(n, sizeof(*c->targets));
	c->n_targets = n;
	if (!cJSON_IsArray(v)) {
		target_of(v, path, &c->targets[0], p);
		return c;
	}
	cJSON_ArrayForEach(it, v) {
		char *sub = xasprintf("%s[%zu]", path, i);
		target_of(it, sub, &c->targets[i], p);
		for (size_t k = 0; k < i; k++)
			if (c->targets[i].name && c->targets[k].name && strcmp(c->targets[i].name, c->targets[k].name) == 0)
				json_problem(p, "%s.name: \"%s\" is taken by target %zu; give each target its own name",
					     sub, c->targets[i].name, k);
		free(sub);
		i++;
	}
	return c;
}

void prom_config_validate(const cJSON *v, const char *path, struct errlist *problems)
{
	prom_config_free(build(v, path, problems));
}

int prom_config_parse(struct prom_config **out, const cJSON *v, const char *path, struct err *err)
{
	struct errlist p = ERRLIST_INIT;
	struct prom_config *c = build(v, path, &p);
	int rc = 0;

	*out = NULL;
	for (size_t i = 0; i < c->n_targets && p.n == 0; i++) {
		const char *env = c->targets[i].token_env, *tok = env ? getenv(env) : NULL;
		const char *why = !tok || !*tok ? "is not set" : strpbrk(tok, "\r\n") ? "holds a line break" : NULL;
		if (!env || !why)
			continue;
		if (cJSON_IsArray(v))
			errlist_add(&p, "%s[%zu].token_env: the environment variable '%s' %s", path, i, env, why);
		else
			errlist_add(&p, "%s.token_env: the environment variable '%s' %s", path, env, why);
	}
	if (p.n) {
		rc = errlist_to_err(&p, err, ERR_INPUT);
		prom_config_free(c);
	} else {
		*out = c;
	}
	errlist_release(&p);
	return rc;
}

void prom_config_free(struct prom_config *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n_targets; i++) {
		struct prom_config_target *t = &c->targets[i];
		for (size_t k = 0; k < t->n_kept; k++)
			free(t->kept[k]);
		free(t->kept);
		free(t->metrics);
		free(t->url);
		free(t->name);
		free(t->token_env);
	}
	free(c->targets);
	free(c);
}
