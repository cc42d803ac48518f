/*
 * loadmodel.c: the `load` object (see loadmodel.h).
 */
#include "load.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "plan.h"
#include "../json.h"
#include "../util.h"

static const char *const mode_names[] = { "rate", "concurrency", "ramp", "spike", "sweep", "capacity" };

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

int http_load_spec_parse(struct http_load_spec *out, const cJSON *bench, const char *path, struct errlist *problems)
{
	static const char *const keys[] = {
		"mode", "rate", "arrival", "burstiness", "seed", "concurrency", "stages", "start", "spike",
		"rates", "start_rate", "max_rate", "precision", "trials", "step_duration", "duration",
		"requests", "warmup", "connections", "max_inflight", "threads", "timeout", "engine",
		"repetitions", "realtime", "http_version",
	};
	const cJSON *load = cJSON_GetObjectItemCaseSensitive(bench, "load"), *v;
	struct http_load_spec s;
	size_t before = problems->n;
	char lp[512];
	bool set;
	double d;
	long l;

	memset(&s, 0, sizeof(s));
	s.arrival = SCHED_CONSTANT;
	s.burstiness = 1;
	s.seed = 1;
	s.threads = 1;
	s.timeout = 30;
	s.warmup = 0;
	s.precision = 0.05;
	s.trials = 1;
	s.engine = NULL;
	s.realtime = true;
	snprintf(lp, sizeof(lp), "%s.load", path);
	if (!load) {
		/* No load object: one request at a time, 10 s. */
		s.mode = LOAD_CONCURRENCY;
		s.concurrency = 1;
		s.duration = 10;
		goto done;
	}
	if (!cJSON_IsObject(load)) {
		errlist_add(problems, "%s: expected an object such as {\"mode\": \"rate\", \"rate\": 50, \"duration\": \"30s\"}", lp);
		goto done;
	}
	json_check_keys(load, lp, keys, ARRAY_SIZE(keys), problems);

	v = cJSON_GetObjectItemCaseSensitive(load, "mode");
	if (v) {
		size_t i;

		for (i = 0; i < ARRAY_SIZE(mode_names); i++)
			if (cJSON_IsString(v) && strcmp(v->valuestring, mode_names[i]) == 0)
				break;
		if (i == ARRAY_SIZE(mode_names)) {
			const char *near = cJSON_IsString(v) ? closest_match(v->valuestring, mode_names, ARRAY_SIZE(mode_names)) : NULL;
			errlist_add(problems, "%s.mode: expected one of rate, concurrency, ramp, spike, sweep, capacity%s%s%s",
				    lp, near ? " (did you mean '" : "", near ? near : "", near ? "'?)" : "");
			goto done;
		}
		s.mode = (enum http_load_mode)i;
	} else if (has(load, "stages")) {
		s.mode = LOAD_RAMP;
	} else if (has(load, "rates")) {
		s.mode = LOAD_SWEEP;
	} else if (has(load, "spike")) {
		s.mode = LOAD_SPIKE;
	} else if (has(load, "rate")) {
		s.mode = LOAD_RATE;
	} else {
		s.mode = LOAD_CONCURRENCY;
	}

	json_get_number(load, "rate", lp, 0, &s.rate, NULL, problems);
	v = cJSON_GetObjectItemCaseSensitive(load, "arrival");
	if (v && (!cJSON_IsString(v) || http_schedule_arrival_parse(v->valuestring, &s.arrival) != 0))
		errlist_add(problems, "%s.arrival: expected \"constant\", \"poisson\" or \"gamma\"", lp);
	if (json_get_number(load, "burstiness", lp, 0, &s.burstiness, &set, problems) && set &&
	    s.arrival != SCHED_GAMMA)
		errlist_add(problems, "%s.burstiness: only for \"arrival\": \"gamma\"", lp);
	if (json_get_int(load, "seed", lp, 0, &l, &set, problems) && set)
		s.seed = (uint64_t)l;
	json_get_int(load, "concurrency", lp, 1, &s.concurrency, NULL, problems);
	json_get_int(load, "connections", lp, 1, &s.connections, NULL, problems);
	json_get_int(load, "max_inflight", lp, 1, &s.max_inflight, NULL, problems);
	json_get_int(load, "threads", lp, 1, &s.threads, NULL, problems);
	if (s.threads > 256)
		errlist_add(problems, "%s.threads: at most 256", lp);
	json_get_int(load, "repetitions", lp, 1, &s.repetitions, NULL, problems);
	json_get_int(load, "trials", lp, 1, &s.trials, NULL, problems);
	json_get_duration(load, "timeout", lp, &s.timeout, NULL, problems);
	if (!(s.timeout > 0))
		errlist_add(problems, "%s.timeout: must be > 0", lp);
	json_get_duration(load, "warmup", lp, &s.warmup, NULL, problems);
	json_get_duration(load, "duration", lp, &s.duration, NULL, problems);
	if (has(load, "step_duration"))
		json_get_duration(load, "step_duration", lp, &s.duration, NULL, problems);
	if (json_get_int(load, "requests", lp, 1, &l, &set, problems) && set)
		s.requests = (uint64_t)l;
	if (has(load, "duration") && has(load, "requests"))
		errlist_add(problems, "%s: give either duration or requests, not both", lp);
	v = cJSON_GetObjectItemCaseSensitive(load, "engine");
	if (v && (!cJSON_IsString(v) || http_engine_transport_parse(v->valuestring, &s.engine) != 0)) {
		char names[256];

		http_engine_transport_names(names, sizeof(names));
		errlist_add(problems, "%s.engine: expected %s", lp, names);
	}
	v = cJSON_GetObjectItemCaseSensitive(load, "http_version");
	if (v && (!cJSON_IsString(v) || http_engine_httpver_parse(v->valuestring, &s.http_version) != 0))
		errlist_add(problems, "%s.http_version: expected \"1.1\" or \"2\"", lp);
	else
		http_engine_validate(s.engine, !http_url_plain(bench), s.http_version, lp, problems);
	v = cJSON_GetObjectItemCaseSensitive(load, "realtime");
	if (v && !cJSON_IsBool(v))
		errlist_add(problems, "%s.realtime: expected true or false", lp);
	else if (v)
		s.realtime = cJSON_IsTrue(v);

	switch (s.mode) {
	case LOAD_RATE:
		if (!has(load, "rate"))
			errlist_add(problems, "%s.rate: required for mode \"rate\" (requests per second)", lp);
		break;
	case LOAD_CONCURRENCY:
		if (!has(load, "concurrency"))
			s.concurrency = 1;
		if (has(load, "rate"))
			errlist_add(problems, "%s.rate: not used by mode \"concurrency\"", lp);
		break;
	case LOAD_RAMP: {
		const cJSON *st = cJSON_GetObjectItemCaseSensitive(load, "stages"), *it;
		size_t i = 0;
		int kind = -1; /* 0 rate, 1 concurrency */

		if (!cJSON_IsArray(st) || cJSON_GetArraySize(st) == 0) {
			errlist_add(problems, "%s.stages: required for mode \"ramp\": [{\"duration\": \"10s\", \"rate\": 100}, ...]", lp);
			break;
		}
		s.stages = xcalloc((size_t)cJSON_GetArraySize(st), sizeof(*s.stages));
		cJSON_ArrayForEach(it, st) {
			static const char *const skeys[] = { "duration", "rate", "concurrency" };
			char sp[600];
			bool r, c;

			snprintf(sp, sizeof(sp), "%s.stages[%zu]", lp, i++);
			if (!cJSON_IsObject(it)) {
				errlist_add(problems, "%s: expected {\"duration\": \"10s\", \"rate\": 100}", sp);
				continue;
			}
			json_check_keys(it, sp, skeys, ARRAY_SIZE(skeys), problems);
			r = has(it, "rate");
			c = has(it, "concurrency");
			if (r == c) {
				errlist_add(problems, "%s: give exactly one of rate or concurrency", sp);
				continue;
			}
			if (kind >= 0 && kind != (c ? 1 : 0)) {
				errlist_add(problems, "%s: every stage must give the same kind of target", sp);
				continue;
			}
			kind = c ? 1 : 0;
			d = 0;
			if (!json_get_duration(it, "duration", sp, &d, &set, problems) || !set || !(d > 0)) {
				if (!set)
					errlist_add(problems, "%s.duration: required", sp);
				continue;
			}
			s.stages[s.n_stages].duration = d;
			v = cJSON_GetObjectItemCaseSensitive(it, c ? "concurrency" : "rate");
			if (!cJSON_IsNumber(v) || v->valuedouble < 0) {
				errlist_add(problems, "%s.%s: expected a number >= 0", sp, c ? "concurrency" : "rate");
				continue;
			}
			s.stages[s.n_stages++].target = v->valuedouble;
		}
		s.stages_concurrency = kind == 1;
		v = cJSON_GetObjectItemCaseSensitive(load, "start");
		if (v && (!cJSON_IsNumber(v) || v->valuedouble < 0))
			errlist_add(problems, "%s.start: expected a number >= 0", lp);
		else if (v)
			s.ramp_start = v->valuedouble;
		if (has(load, "duration") || has(load, "requests"))
			errlist_add(problems, "%s: mode \"ramp\" runs for its stages; remove duration/requests", lp);
		break;
	}
	case LOAD_SPIKE: {
		static const char *const spk[] = { "factor", "at", "duration" };
		const cJSON *sp = cJSON_GetObjectItemCaseSensitive(load, "spike");
		char spp[600];

		snprintf(spp, sizeof(spp), "%s.spike", lp);
		if (!has(load, "rate"))
			errlist_add(problems, "%s.rate: required for mode \"spike\" (the base rate)", lp);
		if (!cJSON_IsObject(sp)) {
			errlist_add(problems, "%s: required: {\"factor\": 4, \"at\": \"10s\", \"duration\": \"5s\"}", spp);
			break;
		}
		json_check_keys(sp, spp, spk, ARRAY_SIZE(spk), problems);
		s.spike_factor = 0;
		if (!json_get_number(sp, "factor", spp, 0, &s.spike_factor, &set, problems) || !set)
			errlist_add(problems, "%s.factor: required, > 0", spp);
		if (!json_get_duration(sp, "at", spp, &s.spike_at, &set, problems) || !set)
			errlist_add(problems, "%s.at: required", spp);
		if (!json_get_duration(sp, "duration", spp, &s.spike_duration, &set, problems) || !set ||
		    !(s.spike_duration > 0))
			errlist_add(problems, "%s.duration: required, > 0", spp);
		if (s.duration > 0 && s.spike_at + s.spike_duration >= s.duration)
			errlist_add(problems, "%s: the spike must end before the run does (duration %gs)", spp, s.duration);
		break;
	}
	case LOAD_SWEEP: {
		const cJSON *rs = cJSON_GetObjectItemCaseSensitive(load, "rates"), *it;
		size_t i = 0;

		if (!cJSON_IsArray(rs) || cJSON_GetArraySize(rs) == 0) {
			errlist_add(problems, "%s.rates: required for mode \"sweep\": a list of rates", lp);
			break;
		}
		s.rates = xcalloc((size_t)cJSON_GetArraySize(rs), sizeof(double));
		cJSON_ArrayForEach(it, rs) {
			if (!cJSON_IsNumber(it) || !(it->valuedouble > 0))
				errlist_add(problems, "%s.rates[%zu]: expected a rate > 0", lp, i);
			else
				s.rates[s.n_rates++] = it->valuedouble;
			i++;
		}
		break;
	}
	case LOAD_CAPACITY: {
		const cJSON *slo = cJSON_GetObjectItemCaseSensitive(bench, "slo");

		s.start_rate = 10;
		s.max_rate = 100000;
		json_get_number(load, "start_rate", lp, 0, &s.start_rate, NULL, problems);
		json_get_number(load, "max_rate", lp, 0, &s.max_rate, NULL, problems);
		v = cJSON_GetObjectItemCaseSensitive(load, "precision");
		if (v) {
			if (cJSON_IsNumber(v) && v->valuedouble > 0 && v->valuedouble < 1) {
				s.precision = v->valuedouble;
			} else if (cJSON_IsString(v)) {
				char *end;
				double p = strtod(v->valuestring, &end);
				if (end != v->valuestring && strcmp(end, "%") == 0 && p > 0 && p < 100)
					s.precision = p / 100;
				else
					errlist_add(problems, "%s.precision: expected a fraction such as 0.05 or \"5%%\"", lp);
			} else {
				errlist_add(problems, "%s.precision: expected a fraction such as 0.05 or \"5%%\"", lp);
			}
		}
		if (s.max_rate < s.start_rate)
			errlist_add(problems, "%s.max_rate: must be >= start_rate", lp);
		if (!cJSON_IsObject(slo) || cJSON_GetArraySize(slo) == 0)
			errlist_add(problems, "%s: mode \"capacity\" needs the benchmark's \"slo\" to say what holding means", lp);
		if (has(load, "requests"))
			errlist_add(problems, "%s.requests: mode \"capacity\" measures steps by time (step_duration)", lp);
		if (!has(load, "duration") && !has(load, "step_duration"))
			s.duration = 10;
		break;
	}
	}
	if (s.mode != LOAD_RAMP && s.duration <= 0 && s.requests == 0 && s.mode != LOAD_CAPACITY)
		errlist_add(problems, "%s: give duration (such as \"30s\") or requests", lp);
	if (s.mode == LOAD_SPIKE && s.requests)
		errlist_add(problems, "%s.requests: mode \"spike\" runs for a duration", lp);
	if ((s.mode == LOAD_CONCURRENCY || (s.mode == LOAD_RAMP && s.stages_concurrency)) &&
	    (has(load, "arrival") || has(load, "max_inflight") || has(load, "connections")))
		errlist_add(problems, "%s: arrival, max_inflight and connections are for open-loop modes (rate, ramp of rates, "
			    "spike, sweep, capacity); a closed loop keeps one connection per request in flight", lp);
	if ((s.mode == LOAD_CONCURRENCY || (s.mode == LOAD_RAMP && s.stages_concurrency)) && has(load, "realtime"))
		errlist_add(problems, "%s.realtime: only for open-loop modes (rate, ramp of rates, spike, sweep, capacity): "
			    "a closed loop has no send times to keep", lp);
done:
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
