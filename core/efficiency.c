/*
 * efficiency.c: energy and cost per unit of work (see efficiency.h).
 */
#include "efficiency.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "json.h"
#include "util.h"

/* First and last finite readings; false with fewer than two. */
static bool span_of(const double *t, const double *v, size_t n, size_t *first, size_t *last)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		if (!isfinite(v[i]) || !isfinite(t[i]))
			continue;
		if (k++ == 0)
			*first = i;
		*last = i;
	}
	return k >= 2 && t[*last] > t[*first];
}

double efficiency_energy_counter(const double *t, const double *e, size_t n, double window)
{
	size_t first, last, prev;
	double sum = 0;

	if (!span_of(t, e, n, &first, &last) || !(window > 0))
		return NAN;
	prev = first;
	for (size_t i = first + 1; i <= last; i++) {
		if (!isfinite(e[i]) || !isfinite(t[i]))
			continue;
		sum += e[i] >= e[prev] ? e[i] - e[prev] : e[i];
		prev = i;
	}
	return sum * window / (t[last] - t[first]);
}

double efficiency_energy_power(const double *t, const double *p, size_t n, double window)
{
	size_t first, last, prev;
	double sum = 0;

	if (!(window > 0))
		return NAN;
	if (!span_of(t, p, n, &first, &last)) {
		/* one reading (or readings at one instant) stands for the window */
		for (size_t i = 0; i < n; i++)
			if (isfinite(p[i]))
				return p[i] * window;
		return NAN;
	}
	prev = first;
	for (size_t i = first + 1; i <= last; i++) {
		if (!isfinite(p[i]) || !isfinite(t[i]))
			continue;
		sum += (p[i] + p[prev]) / 2 * (t[i] - t[prev]);
		prev = i;
	}
	return sum * window / (t[last] - t[first]);
}

void efficiency_energy_per_work(double joules, double requests, double output_tokens, struct efficiency_energy *out)
{
	bool e = isfinite(joules) && joules >= 0;

	out->energy_per_request = e && requests > 0 ? joules / requests : NAN;
	out->energy_per_output_token = e && output_tokens > 0 ? joules / output_tokens : NAN;
	out->output_tokens_per_joule = e && joules > 0 && output_tokens > 0 ? output_tokens / joules : NAN;
}

static bool currency_ok(const char *s, size_t n)
{
	if (n < 3 || n > 7)
		return false;
	for (size_t i = 0; i < n; i++)
		if (!isalpha((unsigned char)s[i]))
			return false;
	return true;
}

int efficiency_price_parse(const char *text, struct efficiency_price *out, struct err *err)
{
	const char *p = text, *num, *cur = NULL;
	size_t cur_len = 0;
	char *end;
	double v;

	memset(out, 0, sizeof(*out));
	while (isspace((unsigned char)*p))
		p++;
	if (isalpha((unsigned char)*p)) {
		cur = p;
		while (isalpha((unsigned char)*p))
			p++;
		cur_len = (size_t)(p - cur);
		while (isspace((unsigned char)*p))
			p++;
	}
	num = p;
	v = strtod(num, &end);
	p = end;
	while (isspace((unsigned char)*p))
		p++;
	if (!cur && isalpha((unsigned char)*p)) {
		cur = p;
		while (isalpha((unsigned char)*p))
			p++;
		cur_len = (size_t)(p - cur);
		while (isspace((unsigned char)*p))
			p++;
	}
	if (end == num || *p || !isfinite(v) || !(v > 0) || (cur && !currency_ok(cur, cur_len)))
		return err_set(err, ERR_INPUT, "price '%s': expected a price per hour such as \"2.50 USD\"", text);
	out->per_hour = v;
	snprintf(out->currency, sizeof(out->currency), "%.*s", cur ? (int)cur_len : 3, cur ? cur : "USD");
	for (char *c = out->currency; *c; c++)
		*c = (char)toupper((unsigned char)*c);
	return 0;
}

static const char *const price_keys[] = { "per_hour", "currency" };

void efficiency_price_validate(const cJSON *v, const char *path, struct errlist *problems)
{
	const cJSON *c;
	double per_hour;
	bool set;

	if (!cJSON_IsObject(v)) {
		json_expected(problems, path, "an object such as {\"per_hour\": 2.5, \"currency\": \"USD\"}", v);
		return;
	}
	json_check_keys(v, path, price_keys, ARRAY_SIZE(price_keys), problems);
	if (json_get_number(v, "per_hour", path, 0, &per_hour, &set, problems) && !set)
		json_problem(problems, "%s.per_hour: required (the machine's price per hour)", path);
	if ((c = cJSON_GetObjectItemCaseSensitive(v, "currency")) &&
	    (!cJSON_IsString(c) || !currency_ok(c->valuestring, strlen(c->valuestring))))
		json_problem(problems, "%s.currency: expected a currency code such as \"USD\"", path);
}

void efficiency_price_env_validate(struct errlist *problems)
{
	const char *env = getenv("PERFGATE_PRICE_PER_HOUR");
	struct efficiency_price p;
	struct err err = ERR_INIT;

	if (env && *env && efficiency_price_parse(env, &p, &err) != 0)
		json_problem(problems, "PERFGATE_PRICE_PER_HOUR: %s", err.msg);
}

int efficiency_price_find(const cJSON *suite_price, struct efficiency_price *out, struct err *err)
{
	const char *env = getenv("PERFGATE_PRICE_PER_HOUR");
	const cJSON *c;

	memset(out, 0, sizeof(*out));
	if (env && *env) {
		if (efficiency_price_parse(env, out, err) != 0) {
			err_prefix(err, "PERFGATE_PRICE_PER_HOUR");
			return ERR_INPUT;
		}
		snprintf(out->source, sizeof(out->source), "PERFGATE_PRICE_PER_HOUR");
		return 1;
	}
	if (!suite_price || !cJSON_IsNumber(cJSON_GetObjectItemCaseSensitive(suite_price, "per_hour")))
		return 0;
	out->per_hour = cJSON_GetObjectItemCaseSensitive(suite_price, "per_hour")->valuedouble;
	c = cJSON_GetObjectItemCaseSensitive(suite_price, "currency");
	snprintf(out->currency, sizeof(out->currency), "%s", cJSON_IsString(c) ? c->valuestring : "USD");
	for (char *p = out->currency; *p; p++)
		*p = (char)toupper((unsigned char)*p);
	snprintf(out->source, sizeof(out->source), "suite");
	return 1;
}

double efficiency_cost_per_1k_requests(double per_hour, double requests_per_s)
{
	return requests_per_s > 0 && per_hour > 0 ? per_hour / 3600.0 / requests_per_s * 1000.0 : NAN;
}

double efficiency_cost_per_1m_output_tokens(double per_hour, double output_tokens_per_s)
{
	return output_tokens_per_s > 0 && per_hour > 0 ? per_hour / 3600.0 / output_tokens_per_s * 1e6 : NAN;
}

/* ---- the runner's window metrics ---- */

static double last_sample(const struct rd_bench *b, const char *name, size_t *n)
{
	const struct rd_metric *m = rundoc_bench_find_metric(b, name);

	if (n)
		*n = m ? m->n_samples : 0;
	return m && m->n_samples ? m->samples[m->n_samples - 1] : NAN;
}

static void add_sample(struct rd_bench *b, const char *name, const char *unit, enum rd_direction dir, double v)
{
	struct rd_metric *m;

	if (!isfinite(v))
		return;
	if (!(m = rundoc_bench_find_metric(b, name)))
		m = rundoc_bench_add_metric(b, name, unit, dir);
	rundoc_metric_add_sample(m, v);
	rundoc_metric_summarise(m);
}

/* extra.cost: the price used and how, once per benchmark. */
static void cost_record(struct rd_bench *b, const struct efficiency_price *p, bool capacity)
{
	cJSON *c;

	if (!b->extra)
		b->extra = cJSON_CreateObject();
	if (cJSON_GetObjectItemCaseSensitive(b->extra, "cost"))
		return;
	c = cJSON_AddObjectToObject(b->extra, "cost");
	cJSON_AddNumberToObject(c, "per_hour", p->per_hour);
	cJSON_AddStringToObject(c, "currency", p->currency);
	cJSON_AddStringToObject(c, "source", p->source);
	cJSON_AddStringToObject(c, "how", capacity ? "the price per second over the throughput (and output token rate) "
						     "measured at capacity, times 1,000 requests (1,000,000 tokens)"
						   : "the price per second over the window's throughput (output token "
						     "rate), times 1,000 requests (1,000,000 tokens)");
}

static void add_costs(struct rd_bench *b, const struct efficiency_price *p, double rps, double tps)
{
	if (!p || !(p->per_hour > 0))
		return;
	add_sample(b, "cost_per_1k_requests", p->currency, RD_LOWER, efficiency_cost_per_1k_requests(p->per_hour, rps));
	if (tps > 0)
		add_sample(b, "cost_per_1m_output_tokens", p->currency, RD_LOWER,
			   efficiency_cost_per_1m_output_tokens(p->per_hour, tps));
}

/* The energy windows the monitor recorded (extra "energy".windows), or NULL. */
static cJSON *energy_windows(const struct rd_bench *b)
{
	return b->extra ? cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(b->extra, "energy"),
							   "windows")
			: NULL;
}

static void add_energy_per_work(struct rd_bench *b, const cJSON *w, double rps, double tps)
{
	double joules = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(w, "joules"));
	double window = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(w, "window"));
	struct efficiency_energy e;

	if (!(window > 0) || !isfinite(joules))
		return;
	efficiency_energy_per_work(joules / window, rps, tps, &e);
	add_sample(b, "energy_per_request", "J", RD_LOWER, e.energy_per_request);
	add_sample(b, "energy_per_output_token", "J", RD_LOWER, e.energy_per_output_token);
	add_sample(b, "output_tokens_per_joule", "1/J", RD_HIGHER, e.output_tokens_per_joule);
}

void efficiency_add_metrics(struct rd_bench *b, const struct efficiency_price *price)
{
	size_t n_thr, n_tok;
	double rps = last_sample(b, "throughput", &n_thr);
	double tps = last_sample(b, "output_token_rate", &n_tok);
	cJSON *windows = energy_windows(b);
	cJSON *w = cJSON_GetArrayItem(windows, cJSON_GetArraySize(windows) - 1);

	if (n_tok != n_thr)
		tps = NAN; /* not this window's */
	/* The monitor adds a window only when it read energy in it: the last
	 * one is this repetition's when no repetition has claimed it yet.  The
	 * claim ("repetition", the index of this throughput sample) lets a
	 * merge of shards pair it with the merged throughput again. */
	if (w && n_thr > 0 && !cJSON_GetObjectItemCaseSensitive(w, "repetition")) {
		cJSON_AddNumberToObject(w, "repetition", (double)(n_thr - 1));
		add_energy_per_work(b, w, rps, tps);
	}
	if (price && price->per_hour > 0 && rps > 0) {
		add_costs(b, price, rps, tps);
		cost_record(b, price, false);
	}
}

void efficiency_add_capacity_cost(struct rd_bench *b, const struct efficiency_price *price, double throughput,
				  double output_tokens_per_s)
{
	if (!price || !(price->per_hour > 0) || !(throughput > 0))
		return;
	add_costs(b, price, throughput, output_tokens_per_s);
	cost_record(b, price, true);
}

static const char *const derived[] = { "energy_per_request", "energy_per_output_token", "output_tokens_per_joule",
				       "cost_per_1k_requests", "cost_per_1m_output_tokens" };

bool efficiency_derived(const char *name)
{
	size_t n = strcspn(name, "@"); /* a sweep step's too: energy_per_request@10/s */

	for (size_t i = 0; i < ARRAY_SIZE(derived); i++)
		if (strlen(derived[i]) == n && strncmp(name, derived[i], n) == 0)
			return true;
	return false;
}

void efficiency_rederive(struct rd_bench *b)
{
	const struct rd_metric *thr = rundoc_bench_find_metric(b, "throughput");
	const struct rd_metric *tok = rundoc_bench_find_metric(b, "output_token_rate");
	const cJSON *windows = energy_windows(b), *w;
	const cJSON *cost = b->extra ? cJSON_GetObjectItemCaseSensitive(b->extra, "cost") : NULL;
	struct efficiency_price price = { .per_hour = NAN };
	size_t k = 0;

	if (!thr)
		return;
	if (tok && tok->n_samples != thr->n_samples)
		tok = NULL; /* not the same windows' */
	cJSON_ArrayForEach(w, windows) {
		const cJSON *rep = cJSON_GetObjectItemCaseSensitive(w, "repetition");
		/* a window no repetition claimed: by position, when every
		 * repetition has one */
		double r = cJSON_IsNumber(rep) ? rep->valuedouble
			   : cJSON_GetArraySize(windows) == (int)thr->n_samples ? (double)k : -1;

		k++;
		if (r >= 0 && r < (double)thr->n_samples)
			add_energy_per_work(b, w, thr->samples[(size_t)r], tok ? tok->samples[(size_t)r] : NAN);
	}
	if (cost) {
		const char *cur = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(cost, "currency"));

		price.per_hour = cJSON_GetNumberValue(cJSON_GetObjectItemCaseSensitive(cost, "per_hour"));
		snprintf(price.currency, sizeof(price.currency), "%s", cur ? cur : "USD");
	}
	for (size_t i = 0; price.per_hour > 0 && i < thr->n_samples; i++)
		add_costs(b, &price, thr->samples[i], tok ? tok->samples[i] : NAN);
}
