/*
 * load.c: the `load` object (see load.h).  Its keys are read from a table
 * (load_keys: the key, how it is read, its bounds, the field it fills,
 * the modes that read it); what the keys mean together is checked after
 * them (check_mode, check_combined).  A new key is a row of the table; a
 * new load model a mode name, its rows, its case in check_mode and in
 * http_load_step_options.
 */
#include "load.h"

#include <math.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include "plan.h"
#include "../json.h"
#include "../util.h"

static const char *const mode_names[] = { "rate", "concurrency", "ramp", "spike", "sweep", "capacity", "trace" };

const char *http_load_mode_name(enum http_load_mode m)
{
	return (unsigned)m < ARRAY_SIZE(mode_names) ? mode_names[m] : "?";
}

void http_load_spec_release(struct http_load_spec *s)
{
	if (!s)
		return;
	free(s->stages);
	free(s->rates);
	free(s->trace_path);
	memset(s, 0, sizeof(*s));
}

static bool has(const cJSON *o, const char *k)
{
	return cJSON_GetObjectItemCaseSensitive(o, k) != NULL;
}

/* The benchmark's http.url is plain http:// (the http object is
 * validated elsewhere; anything else answers false). */
static bool http_url_plain(const cJSON *bench)
{
	const cJSON *h = cJSON_GetObjectItemCaseSensitive(bench, "http");
	const cJSON *u = h ? cJSON_GetObjectItemCaseSensitive(h, "url") : NULL;

	return cJSON_IsString(u) && strncmp(u->valuestring, "http://", 7) == 0;
}

/* ---- the keys of the load object, as a table ---- */

/* A load object being read. */
struct load_reader {
	const cJSON *bench;
	const cJSON *load;
	const char *lp;            /* its JSON path: "benchmarks[2].load" */
	struct errlist *problems;
	uint64_t set;              /* bit i: load_keys[i] was given, and valid */
};

enum load_key_kind {
	KEY_INT,                   /* an integer >= min (at most max, when max > 0) into a long */
	KEY_COUNT,                 /* an integer >= min into a uint64_t */
	KEY_NUMBER,                /* a number > min into a double */
	KEY_DURATION,              /* a duration ("250ms", or seconds) into a double of seconds */
	KEY_POSITIVE_DURATION,     /* the same, > 0 */
	KEY_BOOL,
	KEY_CUSTOM,                /* its own reader, called whether the key is given or not */
};

struct load_key {
	const char *key;
	enum load_key_kind kind;
	double min, max;           /* see the kinds */
	size_t off;                /* offsetof(struct http_load_spec, the field it is read into) */
	unsigned modes;            /* the modes that read it (MODE bits; 0: all); the others ignore it */
	/* KEY_CUSTOM: v is NULL when the key is absent; returns false to stop
	 * reading the object (nothing after it would make sense). */
	bool (*read)(struct load_reader *r, const cJSON *v, struct http_load_spec *s);
};

#define MODE(m) (1u << (m))
#define FIELD(f) offsetof(struct http_load_spec, f)

static bool read_mode(struct load_reader *r, const cJSON *v, struct http_load_spec *s);
static bool read_arrival(struct load_reader *r, const cJSON *v, struct http_load_spec *s);
static bool read_engine(struct load_reader *r, const cJSON *v, struct http_load_spec *s);
static bool read_http_version(struct load_reader *r, const cJSON *v, struct http_load_spec *s);
static bool read_stages(struct load_reader *r, const cJSON *v, struct http_load_spec *s);
static bool read_ramp_start(struct load_reader *r, const cJSON *v, struct http_load_spec *s);
static bool read_spike(struct load_reader *r, const cJSON *v, struct http_load_spec *s);
static bool read_rates(struct load_reader *r, const cJSON *v, struct http_load_spec *s);
static bool read_precision(struct load_reader *r, const cJSON *v, struct http_load_spec *s);
static bool read_max_failures(struct load_reader *r, const cJSON *v, struct http_load_spec *s);
static bool read_trace(struct load_reader *r, const cJSON *v, struct http_load_spec *s);
static bool read_converge(struct load_reader *r, const cJSON *v, struct http_load_spec *s);

/* Read in this order: the mode first (the keys after it may depend on
 * it), the mode-specific objects last (they check against duration). */
static const struct load_key load_keys[] = {
	{ .key = "mode", .kind = KEY_CUSTOM, .read = read_mode },
	{ .key = "rate", .kind = KEY_NUMBER, .min = 0, .off = FIELD(rate) },
	{ .key = "arrival", .kind = KEY_CUSTOM, .read = read_arrival },
	{ .key = "burstiness", .kind = KEY_NUMBER, .min = 0, .off = FIELD(burstiness) },
	{ .key = "seed", .kind = KEY_COUNT, .min = 0, .off = FIELD(seed) },
	{ .key = "concurrency", .kind = KEY_INT, .min = 1, .off = FIELD(concurrency) },
	{ .key = "connections", .kind = KEY_INT, .min = 1, .off = FIELD(connections) },
	{ .key = "max_inflight", .kind = KEY_INT, .min = 1, .off = FIELD(max_inflight) },
	{ .key = "threads", .kind = KEY_INT, .min = 1, .max = 256, .off = FIELD(threads) },
	{ .key = "repetitions", .kind = KEY_INT, .min = 1, .off = FIELD(repetitions) },
	{ .key = "trials", .kind = KEY_INT, .min = 1, .off = FIELD(trials) },
	{ .key = "timeout", .kind = KEY_POSITIVE_DURATION, .off = FIELD(timeout) },
	{ .key = "warmup", .kind = KEY_DURATION, .off = FIELD(warmup) },
	{ .key = "duration", .kind = KEY_DURATION, .off = FIELD(duration) },
	/* capacity's name for the duration of each step */
	{ .key = "step_duration", .kind = KEY_DURATION, .off = FIELD(duration) },
	{ .key = "requests", .kind = KEY_COUNT, .min = 1, .off = FIELD(requests) },
	{ .key = "engine", .kind = KEY_CUSTOM, .read = read_engine },
	{ .key = "http_version", .kind = KEY_CUSTOM, .read = read_http_version },
	{ .key = "realtime", .kind = KEY_BOOL, .off = FIELD(realtime) },
	{ .key = "stages", .kind = KEY_CUSTOM, .modes = MODE(LOAD_RAMP), .read = read_stages },
	{ .key = "start", .kind = KEY_CUSTOM, .modes = MODE(LOAD_RAMP), .read = read_ramp_start },
	{ .key = "spike", .kind = KEY_CUSTOM, .modes = MODE(LOAD_SPIKE), .read = read_spike },
	{ .key = "rates", .kind = KEY_CUSTOM, .modes = MODE(LOAD_SWEEP), .read = read_rates },
	{ .key = "start_rate", .kind = KEY_NUMBER, .min = 0, .off = FIELD(start_rate), .modes = MODE(LOAD_CAPACITY) },
	{ .key = "max_rate", .kind = KEY_NUMBER, .min = 0, .off = FIELD(max_rate), .modes = MODE(LOAD_CAPACITY) },
	{ .key = "precision", .kind = KEY_CUSTOM, .modes = MODE(LOAD_CAPACITY), .read = read_precision },
	{ .key = "min_rate", .kind = KEY_NUMBER, .min = 0, .off = FIELD(min_rate), .modes = MODE(LOAD_CAPACITY) },
	{ .key = "max_failures", .kind = KEY_CUSTOM, .modes = MODE(LOAD_CAPACITY), .read = read_max_failures },
	{ .key = "trace", .kind = KEY_CUSTOM, .modes = MODE(LOAD_TRACE), .read = read_trace },
	{ .key = "converge", .kind = KEY_CUSTOM, .read = read_converge },
};

_Static_assert(ARRAY_SIZE(load_keys) <= 64, "struct load_reader's set has a bit per key");

/* Was the key given, and valid? */
static bool key_set(const struct load_reader *r, const char *key)
{
	for (size_t i = 0; i < ARRAY_SIZE(load_keys); i++)
		if (strcmp(load_keys[i].key, key) == 0)
			return (r->set >> i) & 1;
	return false;
}

/* One key of the table into its field; true when it was given and valid. */
static bool read_key(struct load_reader *r, const struct load_key *k, struct http_load_spec *s)
{
	char *field = (char *)s + k->off;
	bool set = false;
	long l = 0;
	double d = 0;

	switch (k->kind) {
	case KEY_INT:
		if (!json_get_int(r->load, k->key, r->lp, (long)k->min, (long *)(void *)field, &set, r->problems) || !set)
			return false;
		if (k->max > 0 && *(long *)(void *)field > (long)k->max) {
			errlist_add(r->problems, "%s.%s: at most %ld", r->lp, k->key, (long)k->max);
			return false;
		}
		return true;
	case KEY_COUNT:
		if (!json_get_int(r->load, k->key, r->lp, (long)k->min, &l, &set, r->problems) || !set)
			return false;
		*(uint64_t *)(void *)field = (uint64_t)l;
		return true;
	case KEY_NUMBER:
		return json_get_number(r->load, k->key, r->lp, k->min, (double *)(void *)field, &set, r->problems) && set;
	case KEY_DURATION:
		return json_get_duration(r->load, k->key, r->lp, (double *)(void *)field, &set, r->problems) && set;
	case KEY_POSITIVE_DURATION:
		if (!json_get_duration(r->load, k->key, r->lp, &d, &set, r->problems) || !set)
			return false;
		if (!(d > 0)) {
			errlist_add(r->problems, "%s.%s: must be > 0", r->lp, k->key);
			return false;
		}
		*(double *)(void *)field = d;
		return true;
	case KEY_BOOL: {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(r->load, k->key);

		if (v && !cJSON_IsBool(v))
			errlist_add(r->problems, "%s.%s: expected true or false", r->lp, k->key);
		else if (v)
			*(bool *)(void *)field = cJSON_IsTrue(v);
		return cJSON_IsBool(v);
	}
	case KEY_CUSTOM:
		break;
	}
	return false;
}

/* ---- the keys with readers of their own ---- */

static bool read_mode(struct load_reader *r, const cJSON *v, struct http_load_spec *s)
{
	long i;

	if (!v) {
		/* No mode: the keys given say which. */
		s->mode = has(r->load, "stages") ? LOAD_RAMP : has(r->load, "rates") ? LOAD_SWEEP
			  : has(r->load, "spike") ? LOAD_SPIKE : has(r->load, "rate") ? LOAD_RATE : LOAD_CONCURRENCY;
		return true;
	}
	i = cJSON_IsString(v) ? str_index(v->valuestring, mode_names, ARRAY_SIZE(mode_names)) : -1;
	if (i < 0) {
		const char *near = cJSON_IsString(v) ? closest_match(v->valuestring, mode_names, ARRAY_SIZE(mode_names)) : NULL;

		errlist_add(r->problems, "%s.mode: expected one of rate, concurrency, ramp, spike, sweep, capacity, trace%s%s%s",
			    r->lp, near ? " (did you mean '" : "", near ? near : "", near ? "'?)" : "");
		return false;
	}
	s->mode = (enum http_load_mode)i;
	return true;
}

static bool read_arrival(struct load_reader *r, const cJSON *v, struct http_load_spec *s)
{
	if (v && (!cJSON_IsString(v) || http_schedule_arrival_parse(v->valuestring, &s->arrival) != 0))
		errlist_add(r->problems, "%s.arrival: expected \"constant\", \"poisson\" or \"gamma\"", r->lp);
	return true;
}

static bool read_engine(struct load_reader *r, const cJSON *v, struct http_load_spec *s)
{
	if (v && (!cJSON_IsString(v) || http_engine_transport_parse(v->valuestring, &s->engine) != 0)) {
		char names[256];

		http_engine_transport_names(names, sizeof(names));
		errlist_add(r->problems, "%s.engine: expected %s", r->lp, names);
	}
	return true;
}

static bool read_http_version(struct load_reader *r, const cJSON *v, struct http_load_spec *s)
{
	if (v && (!cJSON_IsString(v) || http_engine_httpver_parse(v->valuestring, &s->http_version) != 0))
		errlist_add(r->problems, "%s.http_version: expected \"1.1\" or \"2\"", r->lp);
	else
		http_engine_validate(s->engine, !http_url_plain(r->bench), s->http_version, r->lp, r->problems);
	return true;
}

/* One stage of a ramp; kind: 0 rate, 1 concurrency, -1 not known yet. */
static void read_stage(struct load_reader *r, const cJSON *it, const char *sp, int *kind, struct http_load_spec *s)
{
	static const char *const skeys[] = { "duration", "rate", "concurrency" };
	bool is_rate = has(it, "rate"), is_conc = has(it, "concurrency"), set = false;
	const cJSON *v;
	double d = 0;

	if (!cJSON_IsObject(it)) {
		errlist_add(r->problems, "%s: expected {\"duration\": \"10s\", \"rate\": 100}", sp);
		return;
	}
	json_check_keys(it, sp, skeys, ARRAY_SIZE(skeys), r->problems);
	if (is_rate == is_conc) {
		errlist_add(r->problems, "%s: give exactly one of rate or concurrency", sp);
		return;
	}
	if (*kind >= 0 && *kind != (is_conc ? 1 : 0)) {
		errlist_add(r->problems, "%s: every stage must give the same kind of target", sp);
		return;
	}
	*kind = is_conc ? 1 : 0;
	if (!json_get_duration(it, "duration", sp, &d, &set, r->problems) || !set || !(d > 0)) {
		if (!set)
			errlist_add(r->problems, "%s.duration: required", sp);
		return;
	}
	s->stages[s->n_stages].duration = d;
	v = cJSON_GetObjectItemCaseSensitive(it, is_conc ? "concurrency" : "rate");
	if (!cJSON_IsNumber(v) || v->valuedouble < 0) {
		errlist_add(r->problems, "%s.%s: expected a number >= 0", sp, is_conc ? "concurrency" : "rate");
		return;
	}
	s->stages[s->n_stages++].target = v->valuedouble;
}

static bool read_stages(struct load_reader *r, const cJSON *v, struct http_load_spec *s)
{
	const cJSON *it;
	size_t i = 0;
	int kind = -1;

	if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) == 0) {
		errlist_add(r->problems, "%s.stages: required for mode \"ramp\": [{\"duration\": \"10s\", \"rate\": 100}, ...]", r->lp);
		return true;
	}
	s->stages = xcalloc((size_t)cJSON_GetArraySize(v), sizeof(*s->stages));
	cJSON_ArrayForEach(it, v) {
		char sp[600];

		snprintf(sp, sizeof(sp), "%s.stages[%zu]", r->lp, i++);
		read_stage(r, it, sp, &kind, s);
	}
	s->stages_concurrency = kind == 1;
	return true;
}

static bool read_ramp_start(struct load_reader *r, const cJSON *v, struct http_load_spec *s)
{
	if (v && (!cJSON_IsNumber(v) || v->valuedouble < 0))
		errlist_add(r->problems, "%s.start: expected a number >= 0", r->lp);
	else if (v)
		s->ramp_start = v->valuedouble;
	return true;
}

static bool read_spike(struct load_reader *r, const cJSON *v, struct http_load_spec *s)
{
	static const char *const spk[] = { "factor", "at", "duration" };
	char spp[600];
	bool set;

	snprintf(spp, sizeof(spp), "%s.spike", r->lp);
	if (!cJSON_IsObject(v)) {
		errlist_add(r->problems, "%s: required: {\"factor\": 4, \"at\": \"10s\", \"duration\": \"5s\"}", spp);
		return true;
	}
	json_check_keys(v, spp, spk, ARRAY_SIZE(spk), r->problems);
	if (!json_get_number(v, "factor", spp, 0, &s->spike_factor, &set, r->problems) || !set)
		errlist_add(r->problems, "%s.factor: required, > 0", spp);
	if (!json_get_duration(v, "at", spp, &s->spike_at, &set, r->problems) || !set)
		errlist_add(r->problems, "%s.at: required", spp);
	if (!json_get_duration(v, "duration", spp, &s->spike_duration, &set, r->problems) || !set ||
	    !(s->spike_duration > 0))
		errlist_add(r->problems, "%s.duration: required, > 0", spp);
	if (s->duration > 0 && s->spike_at + s->spike_duration >= s->duration)
		errlist_add(r->problems, "%s: the spike must end before the run does (duration %gs)", spp, s->duration);
	return true;
}

static bool read_rates(struct load_reader *r, const cJSON *v, struct http_load_spec *s)
{
	const cJSON *it;
	size_t i = 0;

	if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) == 0) {
		errlist_add(r->problems, "%s.rates: required for mode \"sweep\": a list of rates", r->lp);
		return true;
	}
	s->rates = xcalloc((size_t)cJSON_GetArraySize(v), sizeof(double));
	cJSON_ArrayForEach(it, v) {
		if (!cJSON_IsNumber(it) || !(it->valuedouble > 0))
			errlist_add(r->problems, "%s.rates[%zu]: expected a rate > 0", r->lp, i);
		else
			s->rates[s->n_rates++] = it->valuedouble;
		i++;
	}
	return true;
}

static bool read_precision(struct load_reader *r, const cJSON *v, struct http_load_spec *s)
{
	if (v && json_target_value(v, &s->precision) != 0)
		errlist_add(r->problems, "%s.precision: expected a fraction such as 0.05 or \"5%%\"", r->lp);
	return true;
}

/* capacity: the share of a step's requests that may go unanswered (failed,
 * or never answered) before the step counts as broken. */
static bool read_max_failures(struct load_reader *r, const cJSON *v, struct http_load_spec *s)
{
	if (v && (json_fraction_value(v, &s->max_failures) != 0 || !(s->max_failures >= 0 && s->max_failures < 1)))
		errlist_add(r->problems, "%s.max_failures: expected a fraction in [0, 1) such as 0.01 or \"1%%\"", r->lp);
	return true;
}

/* trace: a file name, or {"path", "time_scale", "time_unit", "limit"}. */
static bool read_trace(struct load_reader *r, const cJSON *v, struct http_load_spec *s)
{
	static const char *const keys[] = { "path", "time_scale", "time_unit", "limit" };
	static const char *const units[] = { "s", "ms", "us" };
	static const double unit_s[] = { 1, 1e-3, 1e-6 };
	const cJSON *path = cJSON_IsObject(v) ? cJSON_GetObjectItemCaseSensitive(v, "path") : v;
	const cJSON *unit = cJSON_IsObject(v) ? cJSON_GetObjectItemCaseSensitive(v, "time_unit") : NULL;
	char tp[600];
	long u;

	snprintf(tp, sizeof(tp), "%s.trace", r->lp);
	if (!cJSON_IsString(path) || !path->valuestring[0]) {
		errlist_add(r->problems, "%s: required for mode \"trace\": a file, or {\"path\": FILE, \"time_scale\": 1}", tp);
		return true;
	}
	s->trace_path = xstrdup(path->valuestring);
	if (!cJSON_IsObject(v))
		return true;
	json_check_keys(v, tp, keys, ARRAY_SIZE(keys), r->problems);
	json_get_number(v, "time_scale", tp, 0, &s->trace_scale, NULL, r->problems);
	json_get_int(v, "limit", tp, 1, &s->trace_limit, NULL, r->problems);
	if (unit && (!cJSON_IsString(unit) || (u = str_index(unit->valuestring, units, ARRAY_SIZE(units))) < 0))
		errlist_add(r->problems, "%s.time_unit: expected \"s\", \"ms\" or \"us\" (of a numeric timestamp)", tp);
	else if (unit)
		s->trace_unit = unit_s[u];
	return true;
}

/* converge: single-step modes that run for a duration (its maximum). */
static bool read_converge(struct load_reader *r, const cJSON *v, struct http_load_spec *s)
{
	const cJSON *h = cJSON_GetObjectItemCaseSensitive(r->bench, "http");
	const cJSON *st = h ? cJSON_GetObjectItemCaseSensitive(h, "stream") : NULL;
	bool sse;

	if (!v)
		return true;
	if (!st)
		st = cJSON_GetObjectItemCaseSensitive(r->bench, "stream");
	sse = cJSON_IsString(st) && strcmp(st->valuestring, "sse") == 0;
	if (http_converge_parse(&s->converge, v, r->lp, sse, r->problems) == 0)
		s->have_converge = true;
	if (s->mode == LOAD_RAMP || s->mode == LOAD_SPIKE || s->mode == LOAD_SWEEP || s->mode == LOAD_CAPACITY)
		errlist_add(r->problems, "%s.converge: only for the modes rate, concurrency and trace (a single step "
			    "whose load does not change)", r->lp);
	else if (!has(r->load, "duration") && s->mode != LOAD_TRACE)
		errlist_add(r->problems, "%s.converge: needs duration (the longest the step may run)", r->lp);
	return true;
}

/* ---- what the keys mean together ---- */

static bool closed_loop(const struct http_load_spec *s)
{
	return s->mode == LOAD_CONCURRENCY || (s->mode == LOAD_RAMP && s->stages_concurrency);
}

/* What each mode needs and refuses. */
static void check_mode(struct load_reader *r, struct http_load_spec *s)
{
	const cJSON *slo = cJSON_GetObjectItemCaseSensitive(r->bench, "slo");
	const char *lp = r->lp;

	switch (s->mode) {
	case LOAD_RATE:
		if (!has(r->load, "rate"))
			errlist_add(r->problems, "%s.rate: required for mode \"rate\" (requests per second)", lp);
		break;
	case LOAD_CONCURRENCY:
		if (!has(r->load, "concurrency"))
			s->concurrency = 1;
		if (has(r->load, "rate"))
			errlist_add(r->problems, "%s.rate: not used by mode \"concurrency\"", lp);
		break;
	case LOAD_RAMP:
		if (has(r->load, "duration") || has(r->load, "requests"))
			errlist_add(r->problems, "%s: mode \"ramp\" runs for its stages; remove duration/requests", lp);
		break;
	case LOAD_SPIKE:
		if (!has(r->load, "rate"))
			errlist_add(r->problems, "%s.rate: required for mode \"spike\" (the base rate)", lp);
		if (s->requests)
			errlist_add(r->problems, "%s.requests: mode \"spike\" runs for a duration", lp);
		break;
	case LOAD_SWEEP:
		break;
	case LOAD_TRACE:
		if (has(r->load, "rate") || has(r->load, "arrival"))
			errlist_add(r->problems, "%s: mode \"trace\" sends at the trace's times; remove rate and arrival", lp);
		break;
	case LOAD_CAPACITY:
		if (s->max_rate < s->start_rate)
			errlist_add(r->problems, "%s.max_rate: must be >= start_rate", lp);
		if (!has(r->load, "min_rate"))
			s->min_rate = s->start_rate / 64; /* six halvings */
		else if (s->min_rate > s->start_rate)
			errlist_add(r->problems, "%s.min_rate: must be <= start_rate", lp);
		if (!cJSON_IsObject(slo) || cJSON_GetArraySize(slo) == 0)
			errlist_add(r->problems, "%s: mode \"capacity\" needs the benchmark's \"slo\" to say what holding means", lp);
		if (has(r->load, "requests"))
			errlist_add(r->problems, "%s.requests: mode \"capacity\" measures steps by time (step_duration)", lp);
		if (!has(r->load, "duration") && !has(r->load, "step_duration"))
			s->duration = 10;
		break;
	}
}

/* What the keys mean together, whatever the mode. */
static void check_combined(struct load_reader *r, const struct http_load_spec *s)
{
	const char *lp = r->lp;

	if (key_set(r, "burstiness") && s->arrival != SCHED_GAMMA)
		errlist_add(r->problems, "%s.burstiness: only for \"arrival\": \"gamma\"", lp);
	if (has(r->load, "duration") && has(r->load, "requests"))
		errlist_add(r->problems, "%s: give either duration or requests, not both", lp);
	if (s->mode != LOAD_RAMP && s->mode != LOAD_CAPACITY && s->mode != LOAD_TRACE && s->duration <= 0 &&
	    s->requests == 0)
		errlist_add(r->problems, "%s: give duration (such as \"30s\") or requests", lp);
	if (closed_loop(s) && (has(r->load, "arrival") || has(r->load, "max_inflight") || has(r->load, "connections")))
		errlist_add(r->problems, "%s: arrival, max_inflight and connections are for open-loop modes (rate, ramp of rates, "
			    "spike, sweep, capacity); a closed loop keeps one connection per request in flight", lp);
	if (closed_loop(s) && has(r->load, "realtime"))
		errlist_add(r->problems, "%s.realtime: only for open-loop modes (rate, ramp of rates, spike, sweep, capacity): "
			    "a closed loop has no send times to keep", lp);
}

static void load_defaults(struct http_load_spec *s)
{
	memset(s, 0, sizeof(*s));
	s->arrival = SCHED_CONSTANT;
	s->burstiness = 1;
	s->seed = 1;
	s->threads = 1;
	s->timeout = 30;
	s->precision = 0.05;
	s->trials = 1;
	s->engine = NULL; /* auto */
	s->realtime = true;
	s->start_rate = 10;
	s->max_rate = 100000;
	s->max_failures = 0.01;
	s->trace_scale = 1;
	s->trace_unit = 1e-3;
}

/* Every key of the table, in order; then what they mean together. */
static void read_load(struct load_reader *r, struct http_load_spec *s)
{
	const char *names[ARRAY_SIZE(load_keys)];

	for (size_t i = 0; i < ARRAY_SIZE(load_keys); i++)
		names[i] = load_keys[i].key;
	json_check_keys(r->load, r->lp, names, ARRAY_SIZE(names), r->problems);
	for (size_t i = 0; i < ARRAY_SIZE(load_keys); i++) {
		const struct load_key *k = &load_keys[i];

		if (k->modes && !(k->modes & MODE(s->mode)))
			continue;
		if (k->kind == KEY_CUSTOM) {
			const cJSON *v = cJSON_GetObjectItemCaseSensitive(r->load, k->key);
			size_t before = r->problems->n;

			if (!k->read(r, v, s))
				return;
			if (v && r->problems->n == before)
				r->set |= 1ULL << i;
		} else if (read_key(r, k, s)) {
			r->set |= 1ULL << i;
		}
	}
	check_mode(r, s);
	check_combined(r, s);
}

int http_load_spec_parse(struct http_load_spec *out, const cJSON *bench, const char *path, struct errlist *problems)
{
	struct load_reader r = { .bench = bench, .problems = problems };
	struct http_load_spec s;
	size_t before = problems->n;
	char lp[512];

	load_defaults(&s);
	snprintf(lp, sizeof(lp), "%s.load", path);
	r.lp = lp;
	r.load = cJSON_GetObjectItemCaseSensitive(bench, "load");
	if (!r.load) {
		/* No load object: one request at a time, 10 s. */
		s.mode = LOAD_CONCURRENCY;
		s.concurrency = 1;
		s.duration = 10;
	} else if (!cJSON_IsObject(r.load)) {
		errlist_add(problems, "%s: expected an object such as {\"mode\": \"rate\", \"rate\": 50, \"duration\": \"30s\"}", lp);
	} else {
		read_load(&r, &s);
	}
	if (problems->n > before) {
		http_load_spec_release(&s);
		return ERR_INPUT;
	}
	if (out)
		*out = s;
	else
		http_load_spec_release(&s);
	return 0;
}

void http_load_step_options(const struct http_load_spec *s, double rate, struct http_engine_options *o,
		       struct http_schedule_segment **segs, struct http_engine_cstage **cst)
{
	double r = rate > 0 ? rate : s->rate;
	double total;

	*segs = NULL;
	*cst = NULL;
	o->arrival = s->arrival;
	o->burstiness = s->burstiness;
	o->seed = s->seed;
	o->warmup = (uint64_t)llround(s->warmup * 1e9);
	o->duration = s->requests ? 0 : (uint64_t)llround(s->duration * 1e9);
	o->requests = s->requests;
	o->connections = s->connections;
	o->max_inflight = s->max_inflight;
	o->threads = s->threads;
	o->timeout = (uint64_t)llround(s->timeout * 1e9);
	o->engine = s->engine;
	o->realtime = s->realtime;
	o->http_version = s->http_version;
	o->converge = s->have_converge ? &s->converge : NULL;
	total = s->warmup + s->duration;
	switch (s->mode) {
	case LOAD_CONCURRENCY:
		o->open_loop = false;
		o->concurrency = s->concurrency;
		break;
	case LOAD_RAMP:
		total = 0;
		for (size_t i = 0; i < s->n_stages; i++)
			total += s->stages[i].duration;
		o->duration = (uint64_t)llround(total * 1e9) - (o->warmup < (uint64_t)llround(total * 1e9) ? o->warmup : 0);
		o->requests = 0;
		if (s->stages_concurrency) {
			double prev = s->ramp_start;

			o->open_loop = false;
			*cst = xcalloc(s->n_stages, sizeof(**cst));
			o->concurrency = 0;
			for (size_t i = 0; i < s->n_stages; i++) {
				(*cst)[i].duration = s->stages[i].duration;
				(*cst)[i].start = prev;
				(*cst)[i].end = s->stages[i].target;
				prev = s->stages[i].target;
			}
			o->cstages = *cst;
			o->n_cstages = s->n_stages;
		} else {
			double prev = s->ramp_start;

			o->open_loop = true;
			*segs = xcalloc(s->n_stages, sizeof(**segs));
			for (size_t i = 0; i < s->n_stages; i++) {
				(*segs)[i].duration = s->stages[i].duration;
				(*segs)[i].rate_start = prev;
				(*segs)[i].rate_end = s->stages[i].target;
				prev = s->stages[i].target;
			}
			o->segments = *segs;
			o->n_segments = s->n_stages;
		}
		break;
	case LOAD_SPIKE: {
		double at = s->warmup + s->spike_at, d = s->spike_duration;

		o->open_loop = true;
		*segs = xcalloc(3, sizeof(**segs));
		(*segs)[0] = (struct http_schedule_segment){ at, r, r };
		(*segs)[1] = (struct http_schedule_segment){ d, r * s->spike_factor, r * s->spike_factor };
		(*segs)[2] = (struct http_schedule_segment){ total - at - d, r, r };
		o->segments = *segs;
		o->n_segments = 3;
		break;
	}
	case LOAD_TRACE:
		o->open_loop = true; /* the runner gives the times (o->times) */
		break;
	case LOAD_RATE:
	case LOAD_SWEEP:
	case LOAD_CAPACITY:
		o->open_loop = true;
		*segs = xcalloc(1, sizeof(**segs));
		/* requests mode: open-ended; else the schedule ends with the window */
		(*segs)[0] = (struct http_schedule_segment){ s->requests ? INFINITY : total, r, r };
		o->segments = *segs;
		o->n_segments = 1;
		break;
	}
}
