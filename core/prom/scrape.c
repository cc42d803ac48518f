/*
 * scrape.c: one thread per target, GETting /metrics on a fixed grid with
 * libcurl's easy interface (scrape.h says what is kept and why).
 *
 * The thread sleeps on a condition variable (CLOCK_MONOTONIC) so that the
 * window's close wakes it at once for the last scrape; a scrape that was
 * in flight when the window closed is the last one instead.  Either way
 * closing a window waits at most one timeout per target (the targets in
 * parallel), whatever the target does.
 */
#include "scrape.h"

#include <curl/curl.h>
#include <math.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../util.h"
#include "prom.h"
#include "series.h"

struct target_run {
	const struct prom_config_target *cfg;
	struct prom_scrape *s;
	pthread_t thread;
	bool started;
	CURL *curl;
	struct curl_slist *headers;
	char errbuf[CURL_ERROR_SIZE];
	struct sb body;
	bool too_big;
	struct prom_series_track **tracks; /* one per cfg->metrics */
	size_t ok, failed, bad_lines;
	char first_failure[256];
	char first_bad[300];
	double *times;           /* s since the window opened, one per successful scrape */
	size_t n_times, alloc_times;
	double longest;          /* s, the slowest successful scrape */
	double cpu;              /* s, the thread's CPU time (user + system) */
};

struct prom_scrape {
	const struct prom_config *cfg;
	struct target_run *t;
	size_t n;
	uint64_t t0;             /* ns, CLOCK_MONOTONIC: the window opened */
	pthread_mutex_t lock;
	pthread_cond_t cond;
	atomic_bool stop;
};

static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
	struct target_run *tr = arg;
	size_t len = size * n;

	if ((double)(tr->body.len + len) > tr->cfg->max_size) {
		tr->too_big = true;
		return 0; /* libcurl stops with CURLE_WRITE_ERROR */
	}
	sb_add(&tr->body, data, len);
	return len;
}

static void failure(struct target_run *tr, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void failure(struct target_run *tr, const char *fmt, ...)
{
	va_list ap;

	tr->failed++;
	if (tr->first_failure[0])
		return;
	va_start(ap, fmt);
	vsnprintf(tr->first_failure, sizeof(tr->first_failure), fmt, ap);
	va_end(ap);
}

static void scrape_once(struct target_run *tr)
{
	uint64_t start = now_ns();
	struct prom_parse_options po = PROM_PARSE_OPTIONS_INIT;
	struct prom_doc *doc = NULL;
	struct err err = ERR_INIT;
	long status = 0;
	char *ct = NULL;
	CURLcode rc;
	double t;

	sb_reset(&tr->body);
	tr->too_big = false;
	tr->errbuf[0] = '\0';
	rc = curl_easy_perform(tr->curl);
	if (rc != CURLE_OK) {
		if (rc == CURLE_OPERATION_TIMEDOUT)
			failure(tr, "no complete answer within %gs", tr->cfg->timeout);
		else if (rc == CURLE_WRITE_ERROR && tr->too_big)
			failure(tr, "the exposition is larger than max_size (%.0f bytes)", tr->cfg->max_size);
		else if (rc == CURLE_PARTIAL_FILE)
			failure(tr, "the body was cut short");
		else
			failure(tr, "%s", tr->errbuf[0] ? tr->errbuf : curl_easy_strerror(rc));
		return;
	}
	curl_easy_getinfo(tr->curl, CURLINFO_RESPONSE_CODE, &status);
	if (status != 200) {
		failure(tr, "HTTP status %ld", status);
		return;
	}
	curl_easy_getinfo(tr->curl, CURLINFO_CONTENT_TYPE, &ct);
	po.format = prom_format_of_content_type(ct);
	po.lenient = true;
	if (prom_parse(&doc, tr->body.buf ? tr->body.buf : "", tr->body.len, &po, &err) != 0) {
		failure(tr, "%s", err.msg);
		return;
	}
	if (doc->bad_lines && !tr->first_bad[0])
		snprintf(tr->first_bad, sizeof(tr->first_bad), "%s", doc->first_problem);
	tr->bad_lines += doc->bad_lines;
	t = (double)(now_ns() - tr->s->t0) / 1e9;
	for (size_t i = 0; i < tr->cfg->n_metrics; i++)
		prom_series_track_scrape(tr->tracks[i], doc, t, tr->ok == 0);
	prom_doc_free(doc);
	XGROW(tr->times, tr->alloc_times, tr->n_times + 1);
	tr->times[tr->n_times++] = t;
	tr->ok++;
	tr->longest = fmax(tr->longest, (double)(now_ns() - start) / 1e9);
}

static struct timespec ts_of(uint64_t ns)
{
	struct timespec ts = { .tv_sec = (time_t)(ns / 1000000000ULL), .tv_nsec = (long)(ns % 1000000000ULL) };
	return ts;
}

static void *target_main(void *arg)
{
	struct target_run *tr = arg;
	struct prom_scrape *s = tr->s;
	uint64_t iv = (uint64_t)(tr->cfg->interval * 1e9), next = s->t0;

	for (;;) {
		bool last;
		uint64_t now;

		pthread_mutex_lock(&s->lock);
		while (!atomic_load(&s->stop) && now_ns() < next) {
			struct timespec until = ts_of(next);
			pthread_cond_timedwait(&s->cond, &s->lock, &until);
		}
		last = atomic_load(&s->stop);
		pthread_mutex_unlock(&s->lock);
		scrape_once(tr);
		/* a scrape that was in flight when the window closed ended
		 * after it: it is the last one */
		if (last || atomic_load(&s->stop)) {
			struct timespec cpu;
			/* what scraping cost, for the run document (and the
			 * overhead figure in docs/performance.md) */
			if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu) == 0)
				tr->cpu = (double)cpu.tv_sec + (double)cpu.tv_nsec / 1e9;
			return NULL;
		}
		/* a grid, not a chain: a slow scrape skips ticks instead of
		 * shifting all the later ones */
		now = now_ns();
		do
			next += iv;
		while (next <= now);
	}
}

/* The easy handle of one target; the token goes into a header only. */
static int target_setup(struct target_run *tr, struct err *err)
{
	const struct prom_config_target *c = tr->cfg;
	char *auth;

	if (!(tr->curl = curl_easy_init()))
		return err_set(err, ERR_FAIL, "prometheus target '%s': cannot start libcurl", c->name);
	tr->headers = curl_slist_append(NULL, "Accept: text/plain;version=0.0.4;q=1,"
					      "application/openmetrics-text;version=1.0.0;q=0.5,*/*;q=0.1");
	if (c->token_env) {
		const char *tok = getenv(c->token_env);
		if (!tok || !*tok || strpbrk(tok, "\r\n"))
			return err_set(err, ERR_INPUT, "prometheus target '%s': token_env: the environment variable "
				       "'%s' is not set or holds a line break", c->name, c->token_env);
		auth = xasprintf("Authorization: Bearer %s", tok);
		tr->headers = curl_slist_append(tr->headers, auth);
		explicit_bzero(auth, strlen(auth));
		free(auth);
	}
	curl_easy_setopt(tr->curl, CURLOPT_URL, c->url);
	curl_easy_setopt(tr->curl, CURLOPT_HTTPHEADER, tr->headers);
	curl_easy_setopt(tr->curl, CURLOPT_USERAGENT, "perfgate/" PERFGATE_VERSION);
	curl_easy_setopt(tr->curl, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(tr->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(tr->curl, CURLOPT_TIMEOUT_MS, (long)ceil(c->timeout * 1000));
	curl_easy_setopt(tr->curl, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(tr->curl, CURLOPT_WRITEDATA, tr);
	curl_easy_setopt(tr->curl, CURLOPT_ERRORBUFFER, tr->errbuf);
	/* a proxy from the environment would see the token; /metrics is
	 * fetched directly */
	curl_easy_setopt(tr->curl, CURLOPT_PROXY, "");
	tr->tracks = xcalloc(c->n_metrics ? c->n_metrics : 1, sizeof(*tr->tracks));
	for (size_t i = 0; i < c->n_metrics; i++)
		tr->tracks[i] = prom_series_track_new(&c->metrics[i]);
	return 0;
}

static void target_release(struct target_run *tr)
{
	if (tr->curl)
		curl_easy_cleanup(tr->curl);
	for (struct curl_slist *h = tr->headers; h; h = h->next)
		explicit_bzero(h->data, strlen(h->data));
	curl_slist_free_all(tr->headers);
	for (size_t i = 0; tr->tracks && i < tr->cfg->n_metrics; i++)
		prom_series_track_free(tr->tracks[i]);
	free(tr->tracks);
	free(tr->times);
	sb_release(&tr->body);
}

static void scrape_free(struct prom_scrape *s)
{
	for (size_t i = 0; i < s->n; i++)
		target_release(&s->t[i]);
	pthread_cond_destroy(&s->cond);
	pthread_mutex_destroy(&s->lock);
	free(s->t);
	free(s);
}

static void stop_threads(struct prom_scrape *s)
{
	pthread_mutex_lock(&s->lock);
	atomic_store(&s->stop, true);
	pthread_cond_broadcast(&s->cond);
	pthread_mutex_unlock(&s->lock);
	for (size_t i = 0; i < s->n; i++)
		if (s->t[i].started)
			pthread_join(s->t[i].thread, NULL);
}

int prom_scrape_start(struct prom_scrape **out, const struct prom_config *cfg, struct err *err)
{
	struct prom_scrape *s = xcalloc(1, sizeof(*s));
	pthread_condattr_t ca;
	int rc = 0;

	*out = NULL;
	s->cfg = cfg;
	s->n = cfg->n_targets;
	s->t = xcalloc(s->n ? s->n : 1, sizeof(*s->t));
	atomic_init(&s->stop, false);
	pthread_mutex_init(&s->lock, NULL);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&s->cond, &ca);
	pthread_condattr_destroy(&ca);
	s->t0 = now_ns();
	for (size_t i = 0; i < s->n && rc == 0; i++) {
		s->t[i].cfg = &cfg->targets[i];
		s->t[i].s = s;
		rc = target_setup(&s->t[i], err);
	}
	for (size_t i = 0; i < s->n && rc == 0; i++) {
		if (pthread_create(&s->t[i].thread, NULL, target_main, &s->t[i]) != 0)
			rc = err_set(err, ERR_FAIL, "cannot start the scraping thread of '%s'", s->t[i].cfg->name);
		else
			s->t[i].started = true;
	}
	if (rc) {
		stop_threads(s);
		scrape_free(s);
		return rc;
	}
	*out = s;
	return 0;
}

/* ---- the window's results ---- */

static void add_sample(struct rd_bench *b, const char *name, const char *unit, enum rd_direction dir, double v)
{
	struct rd_metric *m = rundoc_bench_find_metric(b, name);

	if (!m)
		m = rundoc_bench_add_metric(b, name, unit, dir);
	rundoc_metric_add_sample(m, v);
	rundoc_metric_summarise(m);
}

static void notice_once(struct errlist *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void notice_once(struct errlist *l, const char *fmt, ...)
{
	char msg[700];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->msgs[i], msg) == 0)
			return;
	errlist_add(l, "%s", msg);
}

/* The address without its query (which could hold a key), for documents and messages. */
static char *shown_url(const char *url)
{
	return xstrndup(url, strcspn(url, "?#"));
}

static cJSON *extra_object(struct rd_bench *b, const char *key)
{
	cJSON *o;

	if (!b->extra)
		b->extra = cJSON_CreateObject();
	if (!(o = cJSON_GetObjectItemCaseSensitive(b->extra, key)))
		o = cJSON_AddObjectToObject(b->extra, key);
	return o;
}

static void pad(cJSON *arr, int n)
{
	while (cJSON_GetArraySize(arr) < n)
		cJSON_AddItemToArray(arr, cJSON_CreateNull());
}

/* The name a track's per-scrape points go by: what one point is. */
static void point_name(const struct prom_series_track *t, const struct prom_series_metric *m, char *buf, size_t len)
{
	enum prom_series_kind k = prom_series_track_kind(t);
	const char *suffix = "";

	if (!m->plain && k == PROM_KIND_COUNTER)
		suffix = ".rate";
	else if (!m->plain && (k == PROM_KIND_HISTOGRAM || k == PROM_KIND_SUMMARY))
		suffix = ".mean";
	snprintf(buf, len, "%s%s", m->name, suffix);
}

/* extra.server_metrics.NAME: {"t": [...], "METRIC[.rate|.mean]": [...]},
 * windows laid end to end as the resources series are. */
static void append_series(struct target_run *tr, struct rd_bench *b)
{
	cJSON *all = extra_object(b, "server_metrics");
	cJSON *o = cJSON_GetObjectItemCaseSensitive(all, tr->cfg->name), *t, *it;
	double offset = 0;
	int before;

	if (!o)
		o = cJSON_AddObjectToObject(all, tr->cfg->name);
	if (!(t = cJSON_GetObjectItemCaseSensitive(o, "t")))
		t = cJSON_AddArrayToObject(o, "t");
	before = cJSON_GetArraySize(t);
	if (before > 0)
		offset = cJSON_GetArrayItem(t, before - 1)->valuedouble;
	for (size_t i = 0; i < tr->n_times; i++)
		cJSON_AddItemToArray(t, cJSON_CreateNumber(tr->times[i] + offset));
	for (size_t m = 0; m < tr->cfg->n_metrics; m++) {
		const double *ts, *vs;
		size_t n = prom_series_track_points(tr->tracks[m], &ts, &vs);
		char name[200];
		cJSON *arr;

		if (prom_series_track_found(tr->tracks[m]) < 0)
			continue;
		point_name(tr->tracks[m], &tr->cfg->metrics[m], name, sizeof(name));
		if (!(arr = cJSON_GetObjectItemCaseSensitive(o, name)))
			arr = cJSON_AddArrayToObject(o, name);
		pad(arr, before);
		for (size_t i = 0; i < n; i++)
			cJSON_AddItemToArray(arr, isfinite(vs[i]) ? cJSON_CreateNumber(vs[i]) : cJSON_CreateNull());
	}
	cJSON_ArrayForEach(it, o)
		if (cJSON_IsArray(it))
			pad(it, cJSON_GetArraySize(t));
}

static cJSON *target_record(struct target_run *tr, struct rd_bench *b)
{
	cJSON *all = cJSON_GetObjectItemCaseSensitive(extra_object(b, "prometheus"), "targets"), *rec = NULL, *it;
	char *url = shown_url(tr->cfg->url);

	if (!all)
		all = cJSON_AddArrayToObject(cJSON_GetObjectItemCaseSensitive(b->extra, "prometheus"), "targets");
	cJSON_ArrayForEach(it, all)
		if (strcmp(cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(it, "name")), tr->cfg->name) == 0)
			rec = it;
	if (!rec) {
		rec = cJSON_CreateObject();
		cJSON_AddStringToObject(rec, "name", tr->cfg->name);
		cJSON_AddStringToObject(rec, "url", url);
		if (tr->cfg->preset)
			cJSON_AddStringToObject(rec, "preset", tr->cfg->preset);
		cJSON_AddNumberToObject(rec, "interval", tr->cfg->interval);
		cJSON_AddNumberToObject(rec, "scrapes", 0);
		cJSON_AddNumberToObject(rec, "failed", 0);
		cJSON_AddNumberToObject(rec, "bad_lines", 0);
		cJSON_AddNumberToObject(rec, "longest_scrape", 0);
		cJSON_AddNumberToObject(rec, "cpu_seconds", 0);
		cJSON_AddObjectToObject(rec, "found");
		cJSON_AddArrayToObject(rec, "missing");
		cJSON_AddItemToArray(all, rec);
	}
	free(url);
	return rec;
}

static void add_to(cJSON *rec, const char *key, double v, bool max)
{
	cJSON *n = cJSON_GetObjectItemCaseSensitive(rec, key);

	cJSON_SetNumberValue(n, max ? fmax(n->valuedouble, v) : n->valuedouble + v);
}

static void target_results(struct target_run *tr, struct rd_bench *b, struct errlist *notices)
{
	const struct prom_config_target *c = tr->cfg;
	cJSON *rec = target_record(tr, b), *found = cJSON_GetObjectItemCaseSensitive(rec, "found");
	cJSON *missing = cJSON_GetObjectItemCaseSensitive(rec, "missing");
	char *url = shown_url(c->url);

	add_to(rec, "scrapes", (double)(tr->ok + tr->failed), false);
	add_to(rec, "failed", (double)tr->failed, false);
	add_to(rec, "bad_lines", (double)tr->bad_lines, false);
	add_to(rec, "longest_scrape", tr->longest, true);
	add_to(rec, "cpu_seconds", tr->cpu, false);
	if (tr->ok == 0)
		notice_once(notices, "prometheus target '%s' (%s): no scrape succeeded in a measured window (%s); "
			    "its metrics are missing", c->name, url, tr->first_failure);
	else if (tr->failed)
		notice_once(notices, "prometheus target '%s' (%s): some scrapes failed (%s)", c->name, url,
			    tr->first_failure);
	if (tr->bad_lines)
		notice_once(notices, "prometheus target '%s' (%s): malformed lines were skipped (%s)", c->name, url,
			    tr->first_bad);
	for (size_t m = 0; m < c->n_metrics; m++) {
		const struct prom_series_metric *sm = &c->metrics[m];
		struct prom_series_value v[16];
		int f = prom_series_track_found(tr->tracks[m]);
		size_t n = prom_series_track_values(tr->tracks[m], v, ARRAY_SIZE(v));

		for (size_t i = 0; i < n; i++) {
			char *name = xasprintf("server.%s.%s", c->name, v[i].name);
			add_sample(b, name, v[i].unit, v[i].direction, v[i].value);
			free(name);
		}
		if (f >= 0 && !cJSON_GetObjectItemCaseSensitive(found, sm->name))
			cJSON_AddStringToObject(found, sm->name, sm->candidates[f].series);
		if (f < 0 && tr->ok > 0) {
			struct sb tried = SB_INIT;
			for (size_t k = 0; k < sm->n_candidates; k++)
				sb_printf(&tried, "%s%s", k ? ", " : "", sm->candidates[k].series);
			notice_once(notices, "prometheus target '%s' (%s): no series for %s (tried %s)", c->name, url,
				    sm->name, sb_str(&tried));
			sb_release(&tried);
		}
	}
	/* "missing": the metrics no window found */
	cJSON_DeleteItemFromObjectCaseSensitive(rec, "missing");
	missing = cJSON_AddArrayToObject(rec, "missing");
	for (size_t m = 0; m < c->n_metrics; m++)
		if (!cJSON_GetObjectItemCaseSensitive(found, c->metrics[m].name))
			cJSON_AddItemToArray(missing, cJSON_CreateString(c->metrics[m].name));
	append_series(tr, b);
	free(url);
}

void prom_scrape_stop(struct prom_scrape *s, struct rd_bench *b, struct errlist *notices)
{
	struct errlist own = ERRLIST_INIT;

	if (!s)
		return;
	stop_threads(s);
	for (size_t i = 0; b && i < s->n; i++)
		target_results(&s->t[i], b, notices ? notices : &own);
	errlist_release(&own);
	scrape_free(s);
}
