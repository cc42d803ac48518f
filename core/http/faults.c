/*
 * faults.c: the `faults` object and the proxies of one step (see faults.h).
 */
#include "faults.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../hist.h"
#include "../json.h"
#include "../util.h"
#include "runner.h"

#define NS(s) ((uint64_t)llround((s) * 1e9))

/* json_expected at BASE.KEY. */
static void expected_at(struct errlist *p, const char *base, const char *key, const char *what, const cJSON *v)
{
	char *path = xasprintf("%s.%s", base, key);

	json_expected(p, path, what, v);
	free(path);
}

static void proxy_release(struct http_faults_proxy *p)
{
	free(p->name);
	free(p->listen_host);
	free(p->listen_port);
	free(p->upstream_host);
	free(p->upstream_port);
	free(p->faults);
	free(p->entry);
}

void http_faults_release(struct http_faults *f)
{
	for (size_t i = 0; i < f->n_proxies; i++)
		proxy_release(&f->proxies[i]);
	free(f->proxies);
	memset(f, 0, sizeof(*f));
}

/* "HOST:PORT", "[V6]:PORT", or (listen only) a port number alone, meaning
 * loopback. */
static bool split_address(const cJSON *v, bool port_only_ok, char **host, char **port)
{
	const char *s, *colon;
	char *end;
	long n;

	if (port_only_ok && json_is_int(v) && v->valuedouble >= 1 && v->valuedouble <= 65535) {
		*host = xstrdup("127.0.0.1");
		*port = xasprintf("%ld", (long)v->valuedouble);
		return true;
	}
	if (!cJSON_IsString(v))
		return false;
	s = v->valuestring;
	colon = strrchr(s, ':');
	if (!colon || colon == s)
		return false;
	errno = 0;
	n = strtol(colon + 1, &end, 10);
	if (*end || end == colon + 1 || n < 1 || n > 65535 || errno)
		return false;
	if (s[0] == '[') {
		if (colon[-1] != ']' || colon - s < 3)
			return false;
		*host = xstrndup(s + 1, (size_t)(colon - s - 2));
	} else {
		if (memchr(s, ':', (size_t)(colon - s)))
			return false; /* a bare IPv6 address needs brackets */
		*host = xstrndup(s, (size_t)(colon - s));
	}
	*port = xstrdup(colon + 1);
	return true;
}

static void parse_proxy(struct http_faults_proxy *p, const cJSON *o, const char *pp, bool named,
			struct errlist *problems)
{
	static const char *const keys[] = { "name", "listen", "upstream", "mode", "threads" };
	const cJSON *v;

	if (!cJSON_IsObject(o)) {
		json_expected(problems, pp, "an object such as {\"listen\": \"127.0.0.1:9102\", \"upstream\": \"127.0.0.1:8102\"}", o);
		return;
	}
	json_check_keys(o, pp, keys, ARRAY_SIZE(keys), problems);
	v = cJSON_GetObjectItemCaseSensitive(o, "name");
	if (named && (!cJSON_IsString(v) || !v->valuestring[0]))
		errlist_add(problems, "%s.name: required when there are several proxies, a short name such as \"search\"", pp);
	p->name = xstrdup(cJSON_IsString(v) && v->valuestring[0] ? v->valuestring : "proxy");
	v = cJSON_GetObjectItemCaseSensitive(o, "listen");
	if (!v)
		errlist_add(problems, "%s.listen: required, the address the proxy listens on, such as \"127.0.0.1:9102\" "
			    "(the system under test is pointed there)", pp);
	else if (!split_address(v, true, &p->listen_host, &p->listen_port))
		expected_at(problems, pp, "listen", "HOST:PORT such as \"127.0.0.1:9102\" or a port", v);
	v = cJSON_GetObjectItemCaseSensitive(o, "upstream");
	if (!v)
		errlist_add(problems, "%s.upstream: required, the address of what the proxy stands in front of, such as "
			    "\"127.0.0.1:8102\"", pp);
	else if (!split_address(v, false, &p->upstream_host, &p->upstream_port))
		expected_at(problems, pp, "upstream", "HOST:PORT such as \"127.0.0.1:8102\"", v);
	v = cJSON_GetObjectItemCaseSensitive(o, "mode");
	p->mode = HTTP_PROXY_HTTP;
	if (v && cJSON_IsString(v) && strcmp(v->valuestring, "tcp") == 0)
		p->mode = HTTP_PROXY_TCP;
	else if (v && !(cJSON_IsString(v) && strcmp(v->valuestring, "http") == 0))
		expected_at(problems, pp, "mode", "\"http\" or \"tcp\"", v);
	p->threads = 1;
	json_get_int(o, "threads", pp, 1, &p->threads, NULL, problems);
	if (p->threads > 64)
		errlist_add(problems, "%s.threads: at most 64", pp);
}

/* A share: a number in (0, 1] or "N%" with N in (0, 100]. */
static bool share_value(const cJSON *v, double *out)
{
	double f;

	if (cJSON_IsNumber(v) && v->valuedouble > 0 && v->valuedouble <= 1) {
		*out = v->valuedouble;
		return true;
	}
	if (cJSON_IsString(v) && strcmp(v->valuestring, "100%") == 0) {
		*out = 1;
		return true;
	}
	if (json_target_value(v, &f) == 0) {
		*out = f;
		return true;
	}
	return false;
}

/* A tolerance: a number >= 0 or "N%" with N >= 0. */
static bool tolerance_value(const cJSON *v, double *out)
{
	if (cJSON_IsNumber(v) && v->valuedouble >= 0 && isfinite(v->valuedouble)) {
		*out = v->valuedouble;
		return true;
	}
	if (cJSON_IsString(v)) {
		size_t len = strlen(v->valuestring);
		struct err e = ERR_INIT;
		char *num;
		double d;
		int rc;

		if (len < 2 || v->valuestring[len - 1] != '%')
			return false;
		num = xstrndup(v->valuestring, len - 1);
		rc = parse_double(num, &d, &e);
		free(num);
		if (rc == 0 && d >= 0) {
			*out = d / 100;
			return true;
		}
	}
	return false;
}

/* Bytes per second: a number > 0 or a size such as "64KiB" (a trailing
 * "/s" is allowed). */
static bool rate_value(const cJSON *v, double *out)
{
	struct err e = ERR_INIT;
	size_t len;
	char *txt;
	int rc;

	if (cJSON_IsNumber(v) && v->valuedouble > 0 && isfinite(v->valuedouble)) {
		*out = v->valuedouble;
		return true;
	}
	if (!cJSON_IsString(v))
		return false;
	len = strlen(v->valuestring);
	txt = len > 2 && strcmp(v->valuestring + len - 2, "/s") == 0 ? xstrndup(v->valuestring, len - 2)
								      : xstrdup(v->valuestring);
	rc = parse_size(txt, out, &e);
	free(txt);
	return rc == 0 && *out > 0;
}

/* Which keys each kind takes besides kind, proxy, at, duration, share. */
static const char *const kind_keys[HTTP_PROXY_N_KINDS][7] = {
	[HTTP_PROXY_LATENCY] = { "latency", "jitter", "distribution", "sigma", "alpha", "direction", NULL },
	[HTTP_PROXY_BANDWIDTH] = { "bandwidth", "direction", NULL },
	[HTTP_PROXY_ERROR] = { "status", NULL },
	[HTTP_PROXY_RESET] = { NULL },
	[HTTP_PROXY_BLACKHOLE] = { "close_after", NULL },
	[HTTP_PROXY_SLOW_CLOSE] = { "delay", NULL },
};

static bool kind_takes(enum http_proxy_fault_kind k, const char *key)
{
	for (size_t i = 0; kind_keys[k][i]; i++)
		if (strcmp(kind_keys[k][i], key) == 0)
			return true;
	return false;
}

static void parse_latency(struct http_proxy_fault *f, const cJSON *e, const char *ep, struct errlist *problems)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(e, "distribution");
	double d = 0;
	bool set;

	if (!cJSON_GetObjectItemCaseSensitive(e, "latency"))
		errlist_add(problems, "%s.latency: required for a latency fault, such as \"200ms\"", ep);
	json_get_duration(e, "latency", ep, &d, NULL, problems);
	f->latency = NS(d);
	d = 0;
	json_get_duration(e, "jitter", ep, &d, NULL, problems);
	f->jitter = NS(d);
	if (v && (!cJSON_IsString(v) || http_proxy_dist_parse(v->valuestring, &f->dist) != 0))
		expected_at(problems, ep, "distribution", "\"fixed\", \"normal\", \"exponential\", \"lognormal\" or \"pareto\"", v);
	f->sigma = 0.5;
	f->alpha = 2;
	json_get_number(e, "alpha", ep, 0, &f->alpha, &set, problems);
	if (set && f->dist != HTTP_PROXY_PARETO)
		errlist_add(problems, "%s.alpha: only for \"distribution\": \"pareto\"", ep);
	if ((v = cJSON_GetObjectItemCaseSensitive(e, "sigma"))) {
		if (!cJSON_IsNumber(v) || !(v->valuedouble >= 0))
			expected_at(problems, ep, "sigma", "a number >= 0", v);
		else if (f->dist != HTTP_PROXY_LOGNORMAL)
			errlist_add(problems, "%s.sigma: only for \"distribution\": \"lognormal\"", ep);
		else
			f->sigma = v->valuedouble;
	}
	if (f->jitter && (f->dist == HTTP_PROXY_EXPONENTIAL || f->dist == HTTP_PROXY_LOGNORMAL || f->dist == HTTP_PROXY_PARETO))
		errlist_add(problems, "%s.jitter: only the fixed and normal distributions take a jitter, not %s", ep,
			    http_proxy_dist_name(f->dist));
}

static void parse_kind_keys(struct http_proxy_fault *f, const cJSON *e, const char *ep, struct errlist *problems)
{
	const cJSON *v;
	double d = 0;

	if ((v = cJSON_GetObjectItemCaseSensitive(e, "direction"))) {
		bool both = cJSON_IsString(v) && strcmp(v->valuestring, "both") == 0;

		if (cJSON_IsString(v) && strcmp(v->valuestring, "request") == 0)
			f->direction = HTTP_PROXY_DIR_REQUEST;
		else if (cJSON_IsString(v) && strcmp(v->valuestring, "response") == 0)
			f->direction = HTTP_PROXY_DIR_RESPONSE;
		else if (both)
			f->direction = HTTP_PROXY_DIR_BOTH;
		else
			expected_at(problems, ep, "direction", "\"request\", \"response\" or \"both\"", v);
	}
	switch (f->kind) {
	case HTTP_PROXY_LATENCY:
		parse_latency(f, e, ep, problems);
		break;
	case HTTP_PROXY_BANDWIDTH:
		v = cJSON_GetObjectItemCaseSensitive(e, "bandwidth");
		if (!v)
			errlist_add(problems, "%s.bandwidth: required for a bandwidth fault, bytes/s such as \"64KiB\"", ep);
		else if (!rate_value(v, &f->bandwidth))
			expected_at(problems, ep, "bandwidth", "bytes per second: a number > 0 or a size such as \"64KiB\"", v);
		break;
	case HTTP_PROXY_ERROR:
		v = cJSON_GetObjectItemCaseSensitive(e, "status");
		if (!json_is_int(v) || v->valuedouble < 100 || v->valuedouble > 599)
			expected_at(problems, ep, "status", "an HTTP status 100..599 such as 503", v);
		else
			f->status = (int)v->valuedouble;
		break;
	case HTTP_PROXY_BLACKHOLE:
		json_get_duration(e, "close_after", ep, &d, NULL, problems);
		f->delay = NS(d);
		break;
	case HTTP_PROXY_SLOW_CLOSE:
		if (!cJSON_GetObjectItemCaseSensitive(e, "delay"))
			errlist_add(problems, "%s.delay: required for a slow_close fault, such as \"2s\"", ep);
		json_get_duration(e, "delay", ep, &d, NULL, problems);
		f->delay = NS(d);
		break;
	default:
		break;
	}
}

/* The proxy a schedule entry acts on; -1 after a problem. */
static long entry_proxy(const struct http_faults *fs, const cJSON *e, const char *ep, struct errlist *problems)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(e, "proxy");
	const char **names;
	long i;

	if (!v) {
		if (fs->n_proxies > 1)
			errlist_add(problems, "%s.proxy: required with several proxies: the name of one of them", ep);
		return fs->n_proxies > 1 ? -1 : 0;
	}
	if (!cJSON_IsString(v)) {
		expected_at(problems, ep, "proxy", "the name of a proxy", v);
		return -1;
	}
	names = xcalloc(fs->n_proxies + 1, sizeof(*names));
	for (size_t k = 0; k < fs->n_proxies; k++)
		names[k] = fs->proxies[k].name;
	i = str_index(v->valuestring, names, fs->n_proxies);
	if (i < 0) {
		const char *near = closest_match(v->valuestring, names, fs->n_proxies);

		errlist_add(problems, "%s.proxy: no proxy named \"%s\"%s%s%s", ep, v->valuestring,
			    near ? "; did you mean \"" : "", near ? near : "", near ? "\"?" : "");
	}
	free(names);
	return i;
}

static void parse_entry(struct http_faults *fs, const cJSON *e, size_t idx, const char *sp, struct errlist *problems)
{
	static const char *const all_keys[] = { "kind", "proxy", "at", "duration", "share", "latency", "jitter",
						"distribution", "sigma", "alpha", "direction", "bandwidth", "status",
						"close_after", "delay" };
	struct http_proxy_fault f = { .share = 1 };
	char *ep = xasprintf("%s[%zu]", sp, idx);
	const cJSON *v, *it;
	double at = 0, dur = 0;
	bool dur_set;
	long pi;
	size_t before = problems->n;

	if (!cJSON_IsObject(e)) {
		json_expected(problems, ep, "an object such as {\"kind\": \"latency\", \"latency\": \"200ms\", \"at\": \"10s\"}", e);
		goto done;
	}
	json_check_keys(e, ep, all_keys, ARRAY_SIZE(all_keys), problems);
	v = cJSON_GetObjectItemCaseSensitive(e, "kind");
	if (!cJSON_IsString(v) || http_proxy_fault_kind_parse(v->valuestring, &f.kind) != 0) {
		expected_at(problems, ep, "kind", "one of \"latency\", \"bandwidth\", \"error\", \"reset\", \"blackhole\", \"slow_close\"", v);
		goto done;
	}
	cJSON_ArrayForEach(it, e) {
		bool common = str_index(it->string, all_keys, 5) >= 0;

		if (!common && str_index(it->string, all_keys, ARRAY_SIZE(all_keys)) >= 0 && !kind_takes(f.kind, it->string))
			errlist_add(problems, "%s.%s: not a key of a %s fault", ep, it->string, v->valuestring);
	}
	json_get_duration(e, "at", ep, &at, NULL, problems);
	json_get_duration(e, "duration", ep, &dur, &dur_set, problems);
	if (dur_set && !(dur > 0))
		errlist_add(problems, "%s.duration: must be > 0 (leave it out for a fault that lasts to the end)", ep);
	if ((v = cJSON_GetObjectItemCaseSensitive(e, "share")) && !share_value(v, &f.share))
		expected_at(problems, ep, "share", "a fraction in (0, 1] or a percentage such as \"10%\"", v);
	f.at = NS(at);
	f.duration = NS(dur);
	parse_kind_keys(&f, e, ep, problems);
	pi = entry_proxy(fs, e, ep, problems);
	if (problems->n > before || pi < 0)
		goto done;
	{
		struct http_faults_proxy *p = &fs->proxies[pi];

		if (f.kind == HTTP_PROXY_ERROR && p->mode == HTTP_PROXY_TCP)
			errlist_add(problems, "%s.kind: error responses need a proxy in \"http\" mode (%s is \"tcp\")", ep, p->name);
		p->faults = xrealloc(p->faults, (p->n_faults + 1) * sizeof(*p->faults));
		p->entry = xrealloc(p->entry, (p->n_faults + 1) * sizeof(*p->entry));
		p->faults[p->n_faults] = f;
		p->entry[p->n_faults++] = idx;
	}
	if (idx == 0 || f.at < fs->start)
		fs->start = f.at;
	if (f.duration == 0)
		fs->end = UINT64_MAX;
	else if (fs->end != UINT64_MAX && f.at + f.duration > fs->end)
		fs->end = f.at + f.duration;
done:
	free(ep);
}

static void parse_recovery(struct http_resilience_options *r, const cJSON *o, const char *rp, struct errlist *problems)
{
	static const char *const keys[] = { "window", "step", "latency_tolerance", "error_tolerance" };
	double w = 1, st = 0;
	const cJSON *v;

	if (!cJSON_IsObject(o)) {
		json_expected(problems, rp, "an object such as {\"window\": \"1s\", \"latency_tolerance\": \"10%\"}", o);
		return;
	}
	json_check_keys(o, rp, keys, ARRAY_SIZE(keys), problems);
	json_get_duration(o, "window", rp, &w, NULL, problems);
	json_get_duration(o, "step", rp, &st, NULL, problems);
	if (!(w > 0))
		errlist_add(problems, "%s.window: must be > 0", rp);
	if (st > w)
		errlist_add(problems, "%s.step: at most the window (%gs)", rp, w);
	r->window = NS(w);
	r->step = NS(st);
	if ((v = cJSON_GetObjectItemCaseSensitive(o, "latency_tolerance")) && !tolerance_value(v, &r->latency_tolerance))
		expected_at(problems, rp, "latency_tolerance", "a fraction >= 0 or a percentage such as \"10%\"", v);
	if ((v = cJSON_GetObjectItemCaseSensitive(o, "error_tolerance")) && !tolerance_value(v, &r->error_tolerance))
		expected_at(problems, rp, "error_tolerance", "a fraction >= 0 or a percentage such as \"1%\"", v);
}

static void parse_proxies(struct http_faults *fs, const cJSON *faults, const char *fp, struct errlist *problems)
{
	const cJSON *one = cJSON_GetObjectItemCaseSensitive(faults, "proxy");
	const cJSON *many = cJSON_GetObjectItemCaseSensitive(faults, "proxies"), *it;
	size_t i = 0;

	if (one && many) {
		errlist_add(problems, "%s: give either proxy or proxies, not both", fp);
		return;
	}
	if (!one && !many) {
		errlist_add(problems, "%s.proxy: required, such as {\"listen\": \"127.0.0.1:9102\", \"upstream\": \"127.0.0.1:8102\"}", fp);
		return;
	}
	if (one) {
		char *pp = xasprintf("%s.proxy", fp);

		fs->proxies = xcalloc(1, sizeof(*fs->proxies));
		fs->n_proxies = 1;
		parse_proxy(&fs->proxies[0], one, pp, false, problems);
		free(pp);
		return;
	}
	if (!cJSON_IsArray(many) || cJSON_GetArraySize(many) == 0) {
		expected_at(problems, fp, "proxies", "a non-empty array of proxies", many);
		return;
	}
	fs->proxies = xcalloc((size_t)cJSON_GetArraySize(many), sizeof(*fs->proxies));
	cJSON_ArrayForEach(it, many) {
		char *pp = xasprintf("%s.proxies[%zu]", fp, i);

		parse_proxy(&fs->proxies[i], it, pp, true, problems);
		for (size_t k = 0; k < i; k++)
			if (strcmp(fs->proxies[k].name, fs->proxies[i].name) == 0)
				errlist_add(problems, "%s.name: \"%s\" is taken by proxies[%zu]", pp, fs->proxies[i].name, k);
		free(pp);
		fs->n_proxies = ++i;
	}
}

int http_faults_parse(struct http_faults *out, const cJSON *bench, const char *path, struct errlist *problems)
{
	static const char *const keys[] = { "proxy", "proxies", "schedule", "recovery" };
	const cJSON *faults = cJSON_GetObjectItemCaseSensitive(bench, "faults"), *sched, *it;
	struct http_faults fs;
	size_t before = problems->n, i = 0;
	char *fp = xasprintf("%s.faults", path), *sp = xasprintf("%s.faults.schedule", path);

	memset(&fs, 0, sizeof(fs));
	fs.recovery = (struct http_resilience_options)HTTP_RESILIENCE_OPTIONS_INIT;
	if (!cJSON_IsObject(faults)) {
		json_expected(problems, fp, "an object with \"proxy\" and \"schedule\"", faults);
		goto done;
	}
	json_check_keys(faults, fp, keys, ARRAY_SIZE(keys), problems);
	parse_proxies(&fs, faults, fp, problems);
	sched = cJSON_GetObjectItemCaseSensitive(faults, "schedule");
	if (!cJSON_IsArray(sched) || cJSON_GetArraySize(sched) == 0)
		expected_at(problems, fp, "schedule", "a non-empty array of faults", sched);
	else if (fs.n_proxies)
		cJSON_ArrayForEach(it, sched)
			parse_entry(&fs, it, i++, sp, problems);
	fs.n_entries = i;
	if ((it = cJSON_GetObjectItemCaseSensitive(faults, "recovery"))) {
		char *rp = xasprintf("%s.recovery", fp);

		parse_recovery(&fs.recovery, it, rp, problems);
		free(rp);
	}
	if (fs.end == UINT64_MAX)
		fs.end = 0;
done:
	free(fp);
	free(sp);
	if (problems->n > before || !out) {
		http_faults_release(&fs);
		return problems->n > before ? ERR_INPUT : 0;
	}
	*out = fs;
	return 0;
}

void http_faults_check_window(const cJSON *bench, double window, const char *path, struct errlist *problems)
{
	const cJSON *faults = cJSON_GetObjectItemCaseSensitive(bench, "faults");
	const cJSON *sched = cJSON_GetObjectItemCaseSensitive(faults, "schedule"), *e;
	size_t i = 0;

	if (!cJSON_IsArray(sched))
		return;
	if (window <= 0) {
		errlist_add(problems, "%s.faults: needs a measured window in time (load.duration), not load.requests", path);
		return;
	}
	cJSON_ArrayForEach(e, sched) {
		const cJSON *a = cJSON_GetObjectItemCaseSensitive(e, "at"), *d = cJSON_GetObjectItemCaseSensitive(e, "duration");
		double at = 0, dur = 0;

		if ((a && json_duration_value(a, &at) != 0) || (d && json_duration_value(d, &dur) != 0)) {
			i++;
			continue; /* reported by http_faults_parse */
		}
		if (at >= window)
			errlist_add(problems, "%s.faults.schedule[%zu].at: %gs is not inside the measured window (%gs)", path, i,
				    at, window);
		else if (at + dur > window + 1e-9)
			errlist_add(problems, "%s.faults.schedule[%zu].duration: the fault would end at %gs, after the measured "
				    "window (%gs)", path, i, at + dur, window);
		i++;
	}
}

/* ---- the proxies of one step ---- */

struct http_faults_run {
	const struct http_faults *f;
	struct http_proxy **px;
	size_t n;
};

int http_faults_start(struct http_faults_run **out, const struct http_faults *f, uint64_t seed, struct err *err)
{
	struct http_faults_run *r = xcalloc(1, sizeof(*r));
	int rc = 0;

	r->f = f;
	r->px = xcalloc(f->n_proxies + 1, sizeof(*r->px));
	for (size_t i = 0; i < f->n_proxies; i++) {
		const struct http_faults_proxy *p = &f->proxies[i];
		struct http_proxy_options o = HTTP_PROXY_OPTIONS_INIT;

		o.listen_host = p->listen_host;
		o.listen_port = p->listen_port;
		o.upstream_host = p->upstream_host;
		o.upstream_port = p->upstream_port;
		o.mode = p->mode;
		o.faults = p->faults;
		o.n_faults = p->n_faults;
		o.seed = seed + i * 7919;
		o.threads = p->threads;
		if ((rc = http_proxy_open(&r->px[i], &o, err)) != 0) {
			err_prefix(err, "faults: proxy %s", p->name);
			break;
		}
		r->n = i + 1;
	}
	if (rc) {
		http_faults_run_free(r);
		return rc;
	}
	*out = r;
	return 0;
}

void http_faults_begin(struct http_faults_run *r, uint64_t t0)
{
	for (size_t i = 0; i < r->n; i++)
		http_proxy_begin(r->px[i], t0);
}

static cJSON *proxy_json(const struct http_faults_proxy *p, const struct http_proxy *px,
			 const struct http_proxy_stats *st)
{
	cJSON *o = cJSON_CreateObject(), *fa;

	cJSON_AddStringToObject(o, "name", p->name);
	cJSON_AddStringToObject(o, "listen", http_proxy_address(px));
	{
		char *up = strchr(p->upstream_host, ':') ? xasprintf("[%s]:%s", p->upstream_host, p->upstream_port)
							 : xasprintf("%s:%s", p->upstream_host, p->upstream_port);

		cJSON_AddStringToObject(o, "upstream", up);
		free(up);
	}
	cJSON_AddStringToObject(o, "mode", p->mode == HTTP_PROXY_TCP ? "tcp" : "http");
	cJSON_AddNumberToObject(o, "connections", (double)st->connections);
	cJSON_AddNumberToObject(o, "requests", (double)st->requests);
	cJSON_AddNumberToObject(o, "forwarded", (double)st->forwarded);
	cJSON_AddNumberToObject(o, "responses", (double)st->responses);
	cJSON_AddNumberToObject(o, "bytes_up", (double)st->bytes_up);
	cJSON_AddNumberToObject(o, "bytes_down", (double)st->bytes_down);
	cJSON_AddNumberToObject(o, "upstream_failures", (double)st->upstream_failures);
	cJSON_AddNumberToObject(o, "resent", (double)st->resent);
	cJSON_AddNumberToObject(o, "tunnelled", (double)st->tunnelled);
	cJSON_AddStringToObject(o, "sched_policy", st->realtime ? "fifo" : "other");
	fa = cJSON_AddArrayToObject(o, "faults");
	for (size_t k = 0; k < p->n_faults && k < st->n_faults; k++) {
		cJSON *f = cJSON_CreateObject();

		cJSON_AddNumberToObject(f, "schedule", (double)p->entry[k]);
		cJSON_AddStringToObject(f, "kind", http_proxy_fault_kind_name(p->faults[k].kind));
		cJSON_AddNumberToObject(f, "acted_on", (double)st->faults[k].requests);
		if (p->faults[k].kind == HTTP_PROXY_LATENCY)
			cJSON_AddNumberToObject(f, "delay_total", (double)st->faults[k].delay_total / 1e9);
		if (p->faults[k].kind == HTTP_PROXY_BANDWIDTH)
			cJSON_AddNumberToObject(f, "bytes_held", (double)st->faults[k].bytes);
		cJSON_AddItemToArray(fa, f);
	}
	return o;
}

cJSON *http_faults_stop(struct http_faults_run *r, struct hist *overhead)
{
	cJSON *arr = cJSON_CreateArray();

	for (size_t i = 0; i < r->n; i++) {
		struct http_proxy_stats st;

		http_proxy_stop(r->px[i], &st);
		cJSON_AddItemToArray(arr, proxy_json(&r->f->proxies[i], r->px[i], &st));
		if (overhead && st.overhead)
			hist_merge(overhead, st.overhead, NULL);
		http_proxy_stats_release(&st);
	}
	return arr;
}

void http_faults_run_free(struct http_faults_run *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->n; i++)
		http_proxy_free(r->px[i]);
	free(r->px);
	free(r);
}

/* ---- at suite load, and the metrics ---- */

void http_faults_validate(const cJSON *bench, const char *path, const struct http_load_spec *spec,
			  struct errlist *problems)
{
	double window = 0;

	if (http_faults_parse(NULL, bench, path, problems) != 0 || !spec)
		return;
	switch (spec->mode) {
	case LOAD_RATE:
	case LOAD_CONCURRENCY:
		window = spec->requests ? 0 : spec->duration;
		break;
	case LOAD_RAMP:
		for (size_t i = 0; i < spec->n_stages; i++)
			window += spec->stages[i].duration;
		window -= spec->warmup;
		break;
	default:
		errlist_add(problems, "%s.faults: needs one measured step: load mode rate, concurrency or ramp, not %s",
			    path, http_load_mode_name(spec->mode));
		return;
	}
	http_faults_check_window(bench, window, path, problems);
}

static void phase_metrics(struct rd_bench *b, const char *phase, const struct http_resilience_phase *ph)
{
	static const char *const stats[] = { "p50", "p95", "p99", "max" };
	const uint64_t vals[] = { ph->p50, ph->p95, ph->p99, ph->max };
	char name[64];

	for (size_t i = 0; i < ARRAY_SIZE(stats) && ph->ok; i++) {
		snprintf(name, sizeof(name), "%s.latency.%s", phase, stats[i]);
		http_runner_sample(b, NULL, name, "s", RD_LOWER, (double)vals[i] / 1e9);
	}
	snprintf(name, sizeof(name), "%s.error_rate", phase);
	http_runner_sample(b, NULL, name, "1", RD_LOWER, ph->error_rate);
	snprintf(name, sizeof(name), "%s.requests", phase);
	http_runner_sample(b, NULL, name, "1", RD_HIGHER, (double)(ph->ok + ph->failed));
}

void http_faults_metrics(const struct http_faults *f, const struct http_resilience_sample *s, size_t n, double window,
			 const struct hist *overhead, struct rd_bench *b, char *note, size_t note_len)
{
	struct http_resilience_options o = f->recovery;
	struct http_resilience r;
	struct err err = ERR_INIT;

	note[0] = '\0';
	o.end = NS(window);
	o.fault_start = f->start;
	o.fault_end = f->end ? f->end : o.end;
	if (o.fault_end > o.end)
		o.fault_end = o.end;
	if (http_resilience_compute(s, n, &o, &r, &err) != 0) {
		snprintf(note, note_len, "%s", err.msg);
		return;
	}
	phase_metrics(b, "before", &r.before);
	phase_metrics(b, "during", &r.during);
	phase_metrics(b, "after", &r.after);
	if (r.judged)
		http_runner_sample(b, NULL, "recovery_time", "s", RD_LOWER, (double)r.recovery_time / 1e9);
	http_runner_sample(b, NULL, "requests_lost", "1", RD_LOWER, (double)r.requests_lost);
	if (!r.judged)
		snprintf(note, note_len, "no recovery_time: %s", r.why);
	else if (!r.recovered)
		snprintf(note, note_len, "not recovered when the measured window closed: recovery_time is the rest of the "
			 "window (%.3f s)", (double)r.recovery_time / 1e9);
	if (overhead && hist_count(overhead)) {
		static const char *const why = "the fault proxy's own cost, not the system's";

		http_runner_sample(b, NULL, "proxy.overhead.p50", "s", RD_LOWER, (double)hist_percentile(overhead, 50) / 1e9);
		http_runner_sample(b, NULL, "proxy.overhead.p99", "s", RD_LOWER, (double)hist_percentile(overhead, 99) / 1e9);
		rundoc_metric_set_tracked(rundoc_bench_find_metric(b, "proxy.overhead.p50"), why);
		rundoc_metric_set_tracked(rundoc_bench_find_metric(b, "proxy.overhead.p99"), why);
	}
}
