/*
 * runner.c: HTTP benchmarks (issue 5): validation of the `http`,
 * `load`, `stream` and `request_slo` keys, and the runner that turns load
 * steps into run-document metrics (docs/metrics.md defines each exactly).
 *
 * Every repetition is one sample of every summary metric.  The
 * distributions of all repetitions, merged, go into the extra "histogram"
 * of each family's ".p50" metric, so that percentiles over merged runs are
 * exact; the per-interval time series into the benchmark's extra
 * "timeseries"; the generator's health into "generator".
 */
#include "../run.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../hist.h"
#include "engine.h"
#include "faults.h"
#include "journey.h"
#include "journey_run.h"
#include "llm.h"
#include "plan.h"
#include "records.h"
#include "runner.h"
#include "load.h"
#include "server.h"
#include "sessions.h"
#include "trace.h"
#include "validity.h"
#include "workload.h"
#include "../efficiency.h"
#include "shard.h"
#include "../json.h"
#include "../monitor.h"
#include "../slo.h"
#include "../suite.h"
#include "../util.h"

#define CPU_SATURATED 0.90      /* a worker busier than this: invalid (open loop) */

void http_runner_validate(const cJSON *bench, const char *path, struct errlist *problems)
{
	struct http_plan *p = NULL;
	struct http_journey *j = NULL;
	struct http_load_spec spec;
	bool load_ok;

	if (cJSON_HasObjectItem(bench, "journey"))
		http_journey_parse(&j, bench, path, NULL, problems);
	else
		http_plan_parse(&p, bench, path, NULL, problems);
	http_plan_free(p);
	memset(&spec, 0, sizeof(spec));
	load_ok = http_load_spec_parse(&spec, bench, path, problems) == 0;
	if (cJSON_HasObjectItem(bench, "faults"))
		http_faults_validate(bench, path, load_ok ? &spec : NULL, problems);
	http_load_spec_release(&spec);
	{
		const cJSON *rq = cJSON_GetObjectItemCaseSensitive(bench, "requests");

		if (rq && (!cJSON_IsString(rq) || !rq->valuestring[0]))
			errlist_add(problems, "%s.requests: expected a file name for the per-request records", path);
	}
	if (cJSON_HasObjectItem(bench, "server")) {
		char *sub = xasprintf("%s.server", path);

		http_server_validate(bench, sub, problems);
		free(sub);
	}
	if (cJSON_HasObjectItem(bench, "journey") && (cJSON_HasObjectItem(bench, "prompts") || cJSON_HasObjectItem(bench, "classes")))
		errlist_add(problems, "%s: prompts and classes describe one kind of request; a journey has steps of its own", path);
	else
		http_workload_parse(NULL, bench, path, problems);
}

static const char *const stat_names[] = { "p50", "p90", "p95", "p99", "p99.9", "max", "mean" };
static const double stat_pcts[] = { 50, 90, 95, 99, 99.9, 100, -1 };

static struct rd_metric *metric(struct rd_bench *b, const char *name, const char *unit, enum rd_direction dir)
{
	struct rd_metric *m = rundoc_bench_find_metric(b, name);

	return m ? m : rundoc_bench_add_metric(b, name, unit, dir);
}

static void add_sample(struct rd_bench *b, const char *prefix, const char *name, const char *unit,
		       enum rd_direction dir, double v)
{
	char full[256];

	snprintf(full, sizeof(full), "%s%s", name, prefix ? prefix : "");
	rundoc_metric_add_sample(metric(b, full, unit, dir), v);
}

static void add_family(struct rd_bench *b, const char *suffix, const char *fam, const struct hist *h)
{
	for (size_t i = 0; i < ARRAY_SIZE(stat_names); i++) {
		char name[128];
		double v = stat_pcts[i] < 0 ? hist_mean(h) : (double)hist_percentile(h, stat_pcts[i]);

		snprintf(name, sizeof(name), "%s.%s", fam, stat_names[i]);
		add_sample(b, suffix, name, "s", RD_LOWER, v / 1e9);
	}
}

/* The metrics of one step; suffix ("@100/s" for sweep steps) or NULL. */
static void add_step_metrics(struct rd_bench *b, const char *suffix, const struct http_engine_result *r,
			     bool open_loop, const struct http_plan *p, const char *itl_name)
{
	double done = (double)(r->ok + r->failed);
	double w = r->window > 0 ? r->window : NAN;

	if (r->ok > 0) {
		add_family(b, suffix, "latency", r->latency);
		add_family(b, suffix, "service_time", r->service_time);
		add_family(b, suffix, "ttfb", r->ttfb);
	}
	if (open_loop && hist_count(r->lateness) > 0)
		add_family(b, suffix, "lateness", r->lateness);
	add_sample(b, suffix, "throughput", "1/s", RD_HIGHER, (double)r->ok_in_window / w);
	add_sample(b, suffix, "offered_rate", "1/s", RD_HIGHER, (double)r->scheduled / w);
	add_sample(b, suffix, "achieved_rate", "1/s", RD_HIGHER, (double)r->sent_in_window / w);
	add_sample(b, suffix, "error_rate", "1", RD_LOWER, done > 0 ? (double)r->failed / done : 0);
	for (int e = 0; e < EE_N; e++) {
		char name[64];

		snprintf(name, sizeof(name), "errors.%s", http_engine_error_name((enum http_engine_error)e));
		add_sample(b, suffix, name, "1", RD_LOWER, (double)r->errors[e]);
	}
	add_sample(b, suffix, "bytes_in", "B", RD_LOWER, (double)r->bytes_in);
	add_sample(b, suffix, "bytes_out", "B", RD_LOWER, (double)r->bytes_out);
	if (p->sse && r->ok > 0) {
		if (hist_count(r->ttft))
			add_family(b, suffix, "ttft", r->ttft);
		if (hist_count(r->tpot))
			add_family(b, suffix, "tpot", r->tpot);
		if (hist_count(r->itl))
			add_family(b, suffix, itl_name, r->itl);
		add_sample(b, suffix, "output_tokens", "1", RD_HIGHER, (double)r->tokens / (double)r->ok);
		add_sample(b, suffix, "output_token_rate", "1/s", RD_HIGHER, (double)r->tokens / w);
	}
	if (p->sse || p->n_rslo)
		add_sample(b, suffix, "goodput", "1/s", RD_HIGHER, (double)r->goodput_ok / w);
	http_llm_add_metrics(b, suffix, r->llm, p, r->window, itl_name);
}

void http_runner_sample(struct rd_bench *b, const char *suffix, const char *name, const char *unit,
			enum rd_direction dir, double v)
{
	add_sample(b, suffix, name, unit, dir, v);
}

void http_runner_family(struct rd_bench *b, const char *suffix, const char *fam, const struct hist *h)
{
	add_family(b, suffix, fam, h);
}

void http_runner_metrics(struct rd_bench *b, const char *suffix, const struct http_engine_result *r, bool open_loop,
			 const struct http_plan *p, const char *itl_name)
{
	add_step_metrics(b, suffix, r, open_loop, p, itl_name);
}

static char *error_summary(const struct http_engine_result *r)
{
	struct sb sb = SB_INIT;
	int top = -1;

	for (int e = 0; e < EE_N; e++) {
		if (!r->errors[e])
			continue;
		sb_printf(&sb, "%s%s %llu", sb.len ? ", " : "", http_engine_error_name((enum http_engine_error)e),
			  (unsigned long long)r->errors[e]);
		if (top < 0 || r->errors[e] > r->errors[top])
			top = e;
	}
	if (top >= 0 && r->first_error[top][0])
		sb_printf(&sb, " (first %s: %s)", http_engine_error_name((enum http_engine_error)top), r->first_error[top]);
	return sb_detach(&sb);
}

cJSON *http_runner_timeseries(const struct http_engine_result *r, long rep, double warmup)
{
	cJSON *o = cJSON_CreateObject();
	const char *names[] = { "sent", "throughput", "errors", "p50", "p99", "inflight", "p95" };
	cJSON *arr[7];
	double iv = (double)r->ts_interval / 1e9;

	cJSON_AddNumberToObject(o, "repetition", (double)rep);
	cJSON_AddNumberToObject(o, "interval", iv);
	/* Where the measured window lies in the series (s from its start), so
	 * that its whole intervals can serve as batches (core/batch.h). */
	cJSON_AddNumberToObject(o, "warmup", warmup);
	cJSON_AddNumberToObject(o, "window", r->window);
	for (size_t k = 0; k < ARRAY_SIZE(arr); k++)
		arr[k] = cJSON_AddArrayToObject(o, names[k]);
	for (size_t i = 0; i < r->n_ts; i++) {
		const struct http_engine_ts_point *t = &r->ts[i];

		cJSON_AddItemToArray(arr[0], cJSON_CreateNumber((double)t->sent));
		cJSON_AddItemToArray(arr[1], cJSON_CreateNumber((double)t->ok / iv));
		cJSON_AddItemToArray(arr[2], cJSON_CreateNumber((double)t->errors));
		cJSON_AddItemToArray(arr[3], cJSON_CreateNumber((double)t->p50 / 1e9));
		cJSON_AddItemToArray(arr[4], cJSON_CreateNumber((double)t->p99 / 1e9));
		cJSON_AddItemToArray(arr[5], cJSON_CreateNumber((double)t->inflight_max));
		cJSON_AddItemToArray(arr[6], cJSON_CreateNumber((double)t->p95 / 1e9));
	}
	return o;
}

static cJSON *extra_array(struct rd_bench *b, const char *key)
{
	cJSON *a;

	if (!b->extra)
		b->extra = cJSON_CreateObject();
	a = cJSON_GetObjectItemCaseSensitive(b->extra, key);
	if (!a)
		a = cJSON_AddArrayToObject(b->extra, key);
	return a;
}

/* Health of one step: NULL when healthy, else why it is invalid. */
/* What ended the step: its duration, its requests, or the converging
 * metric (with what it found, for load.converge). */
static void ended_by(const struct http_engine_result *r, const struct http_load_spec *s, cJSON *gen)
{
	cJSON *c;

	cJSON_AddStringToObject(gen, "ended_by", r->converge.converged ? "converged" : s->requests ? "requests" : "duration");
	if (!r->converge_asked)
		return;
	c = cJSON_AddObjectToObject(gen, "converge");
	cJSON_AddStringToObject(c, "metric", s->converge.metric);
	cJSON_AddNumberToObject(c, "batches", (double)r->converge.batches);
	if (isfinite(r->converge.center)) {
		cJSON_AddNumberToObject(c, "mean", r->converge.center);
		cJSON_AddNumberToObject(c, "half_width", r->converge.half_width);
	}
	if (r->converge.converged)
		cJSON_AddNumberToObject(c, "at", r->converge.at);
}

static char *health(const struct http_engine_result *r, bool open_loop, const struct http_load_spec *s, double rate,
		    const struct http_validity *v, cJSON *gen)
{
	double late = r->sent ? (double)r->late_1ms / (double)r->sent : 0;
	uint64_t n_late = 0, n_sent = 0;
	bool behind;

	cJSON_AddStringToObject(gen, "engine", r->engine ? r->engine : "?");
	cJSON_AddNumberToObject(gen, "threads", (double)s->threads);
	cJSON_AddNumberToObject(gen, "cpu_util_max", r->cpu_util_max);
	cJSON_AddNumberToObject(gen, "late_fraction", late);
	cJSON_AddNumberToObject(gen, "lateness_p99", (double)hist_percentile(r->lateness, 99) / 1e9);
	cJSON_AddNumberToObject(gen, "connections_opened", (double)r->connections_opened);
	cJSON_AddNumberToObject(gen, "warmup_requests", (double)r->warmup_requests);
	cJSON_AddNumberToObject(gen, "requests", (double)(r->ok + r->failed));
	ended_by(r, s, gen);
	cJSON_AddNumberToObject(gen, "interim_responses", (double)r->interim);
	{
		cJSON *pr = cJSON_AddObjectToObject(gen, "protocols");

		if (r->proto_h1)
			cJSON_AddNumberToObject(pr, "HTTP/1.x", (double)r->proto_h1);
		if (r->proto_h2)
			cJSON_AddNumberToObject(pr, "HTTP/2", (double)r->proto_h2);
	}
	cJSON_AddStringToObject(gen, "sched_policy", r->sched_policy ? r->sched_policy : "other");
	if (r->sched_refused[0])
		cJSON_AddStringToObject(gen, "sched_refused", r->sched_refused);
	if (!open_loop)
		return NULL;
	cJSON_AddNumberToObject(gen, "blocked", (double)r->blocked);
	behind = http_validity_behind(v, r, &n_late, &n_sent);
	cJSON_AddNumberToObject(gen, "late", (double)n_late);
	cJSON_AddNumberToObject(gen, "late_after", v->late_after);
	if (behind)
		return xasprintf("the load generator fell behind: %llu of %llu requests (%.1f%%) were sent over %g ms "
				 "late, more than %g%% and at least %llu (the suite's validity) (p99 lateness %.3f ms) at "
				 "%g req/s; %s",
				 (unsigned long long)n_late, (unsigned long long)n_sent,
				 n_sent ? 100.0 * (double)n_late / (double)n_sent : 0, v->late_after * 1e3,
				 v->late_share * 100, (unsigned long long)v->late_min,
				 (double)hist_percentile(r->lateness, 99) / 1e6, rate,
				 r->cpu_util_max > CPU_SATURATED ? "add load.threads or lower the rate"
				 : r->blocked ? "every connection was busy at times (the target is slower than the rate): "
						"raise load.connections/max_inflight or lower the rate"
				 : r->sched_refused[0]
				 ? "its threads were not scheduled on time although they had CPU to spare and free "
				   "connections, and the real-time policy that would let them preempt other work was "
				   "refused: run perfgate as root or with CAP_SYS_NICE (or an RLIMIT_RTPRIO), run on a "
				   "quieter machine, or lower the rate"
				 : strcmp(r->sched_policy ? r->sched_policy : "other", "fifo") != 0
				 ? "its threads were not scheduled on time although they had CPU to spare and free "
				   "connections: the machine is busy; set load.realtime to true, run on a quieter one or "
				   "lower the rate"
				 : "its threads were not scheduled on time although they had CPU to spare and free "
				   "connections: the machine is busy; run on a quieter one or lower the rate");
	if (r->cpu_util_max > CPU_SATURATED)
		return xasprintf("the load generator saturated its CPU (busiest thread %.0f%% busy) at %g req/s; "
				 "add load.threads or lower the rate", r->cpu_util_max * 100, rate);
	return NULL;
}

struct fams {
	struct hist *h[7]; /* latency service_time ttfb lateness ttft tpot itl */
};
static const char *const fam_names[7] = { "latency", "service_time", "ttfb", "lateness", "ttft", "tpot", "itl" };

static void fams_merge(struct fams *f, const struct http_engine_result *r)
{
	const struct hist *src[7] = { r->latency, r->service_time, r->ttfb, r->lateness, r->ttft, r->tpot, r->itl };

	for (int i = 0; i < 7; i++) {
		if (!src[i])
			continue;
		if (!f->h[i])
			f->h[i] = hist_new(3);
		hist_merge(f->h[i], src[i], NULL);
	}
}

static void fams_attach(struct fams *f, struct rd_bench *b, const char *itl_name)
{
	for (int i = 0; i < 7; i++) {
		char name[64];
		struct rd_metric *m;

		if (!f->h[i])
			continue;
		snprintf(name, sizeof(name), "%s.p50", i == 6 ? itl_name : fam_names[i]);
		m = rundoc_bench_find_metric(b, name);
		if (m && hist_count(f->h[i]))
			rundoc_metric_set_histogram(m, hist_to_json(f->h[i]));
		hist_free(f->h[i]);
		f->h[i] = NULL;
	}
}

/* Spike: seconds from the end of the spike until the first interval whose
 * latency p95 is back at or under the threshold; -1 when it never is. */
static double recovery_time(const struct http_engine_result *r, double warmup, double spike_at, double spike_duration,
			    double threshold_s)
{
	double iv = (double)r->ts_interval / 1e9;
	double spike_end = warmup + spike_at + spike_duration;

	for (size_t i = (size_t)floor(spike_end / iv); i < r->n_ts; i++) {
		if (r->ts[i].ok && (double)r->ts[i].p95 / 1e9 <= threshold_s) {
			double t = (double)i * iv - spike_end;
			return t > 0 ? t : 0;
		}
	}
	return -1;
}

double http_runner_slo_p95(const cJSON *slo)
{
	const cJSON *v = slo ? cJSON_GetObjectItemCaseSensitive(slo, "latency.p95") : NULL;
	struct slo so;
	struct err err = ERR_INIT;
	double lim;

	if (!cJSON_IsString(v) || slo_parse("latency.p95", v->valuestring, &so, &err) != 0)
		return NAN;
	lim = so.value;
	slo_release(&so);
	return lim;
}

/* Without an SLO: 1.5 x the median per-interval p95 before the spike. */
static double spike_threshold(const struct http_engine_result *r, double warmup, double spike_at, double slo_p95)
{
	double iv = (double)r->ts_interval / 1e9, vals[4096];
	size_t n = 0;

	if (isfinite(slo_p95))
		return slo_p95;
	for (size_t i = (size_t)ceil(warmup / iv); i < r->n_ts && n < 4096; i++) {
		if ((double)(i + 1) * iv > warmup + spike_at)
			break;
		if (r->ts[i].ok)
			vals[n++] = (double)r->ts[i].p95 / 1e9;
	}
	if (n == 0)
		return INFINITY;
	for (size_t i = 1; i < n; i++)
		for (size_t j = i; j > 0 && vals[j - 1] > vals[j]; j--) {
			double t = vals[j];
			vals[j] = vals[j - 1];
			vals[j - 1] = t;
		}
	return 1.5 * vals[n / 2];
}

void http_runner_recovery(struct rd_bench *b, const struct http_engine_result *r, double warmup, double duration,
			  double spike_at, double spike_duration, double slo_p95)
{
	double rt = recovery_time(r, warmup, spike_at, spike_duration, spike_threshold(r, warmup, spike_at, slo_p95));
	double rest = duration - spike_at - spike_duration;

	add_sample(b, NULL, "recovery_time", "s", RD_LOWER, rt < 0 ? rest : rt);
	if (rt < 0)
		rundoc_bench_warn(b, "latency p95 did not recover before the run ended");
}

/* One benchmark's run: what its repetitions add up to. */
struct http_run {
	const struct suite_bench *b;
	const struct run_ctx *ctx;
	struct rd_bench *out;
	struct http_plan *plan;
	struct http_load_spec spec;
	struct monitor_options mopts;
	bool have_mon;
	struct errlist notices;      /* the monitor's warnings */
	struct fams fams;            /* every repetition's distributions, merged */
	const char *itl_name;        /* "itl" or "inter_chunk" (tokens.h says which) */
	uint64_t tok_usage, tok_events, total_ok, total_failed;
	bool one_token;
	char *invalid;               /* why the run is invalid (the first repetition's reason) */
	char *failure;               /* why the benchmark failed (a repetition without a success) */
	struct http_journey *journey; /* a journey benchmark's steps (plan is then NULL) */
	struct http_journey_result jres; /* the last step's journeys */
	struct http_faults faults;   /* the proxies and the fault schedule */
	bool have_faults;
	cJSON *faults_report;        /* the last step's proxy counters */
	struct hist *overhead;       /* the last step's proxy overhead (ns per request) */
	struct http_workload *wl;    /* an LLM workload (prompts, classes), or NULL */
	struct http_llm_fams *llm_fams;
	struct http_records *records; /* where each request's record goes: the run's (--requests), this benchmark's own, or NULL */
	struct http_records *own_records; /* the benchmark's "requests" file, opened here */
	long steps;                  /* steps run, for the records */
	struct http_trace *trace;    /* load mode trace: the trace replayed */
	uint64_t *trace_times;       /* its arrival times, ns after the start */
	struct efficiency_price price; /* the machine's price (efficiency.h), when have_price */
	struct rundoc *sweep_mon;    /* a monitored sweep or capacity search: the bench its monitor writes to (monitored_step) */
	bool have_price;
	double held_rps, held_tps;   /* capacity: throughput and output token rate of the last step that held */
	cJSON *held_mon;             /* capacity: what the monitor measured in the last step that held (NAME: value) */
	long rep;                    /* the repetition running */
	long next_rep, reps;         /* repetitions taken, and planned */
	struct shard_start start;    /* a shard's: how the step's start was agreed */
	struct http_validity validity; /* when an open-loop step is invalid (the suite's "validity") */
	struct http_server *server;  /* the benchmark's own server ("server"), or NULL */
};

/* The resource monitor, started and stopped with the measured window. */
struct mon_window {
	const struct monitor_options *opts;
	struct monitor *mon;
	struct rd_bench *out;
	struct errlist *notices;
	int rc;
	struct err err;
};

static void on_window(void *arg, bool open)
{
	struct mon_window *mw = arg;

	if (open) {
		if (mw->rc == 0)
			mw->rc = monitor_start(&mw->mon, mw->opts, &mw->err);
	} else if (mw->mon) {
		int rc = monitor_stop(mw->mon, mw->out, mw->notices, &mw->err);

		mw->mon = NULL;
		if (mw->rc == 0)
			mw->rc = rc;
	}
}

/* What a step's window opening and closing start and stop: the fault
 * schedule, the resource monitor. */
struct step_window {
	struct mon_window *mw;
	struct http_faults_run *faults;
	uint64_t start;              /* ns, the window's start (the engine sets it) */
};

static void on_step_window(void *arg, bool open)
{
	struct step_window *sw = arg;

	if (open && sw->faults)
		http_faults_begin(sw->faults, sw->start); /* `at` counts from the window's exact start */
	if (sw->mw)
		on_window(sw->mw, open);
}

/* After a step of journeys: its journeys' result, and the steps' requests
 * merged into the step's result for the generator's health. */
static void journeys_done(struct http_run *hr, struct http_journey_run *jr, struct http_engine_result *res)
{
	http_journey_result_release(&hr->jres);
	http_journey_run_result(jr, res->window, &hr->jres);
	for (size_t i = 0; i < hr->jres.n_steps; i++)
		http_engine_result_merge(res, &hr->jres.steps[i].r);
}

static void faults_done(struct http_run *hr, struct http_faults_run *fr)
{
	cJSON_Delete(hr->faults_report);
	hist_free(hr->overhead);
	hr->overhead = hist_new(3);
	hr->faults_report = http_faults_stop(fr, hr->overhead);
	http_faults_run_free(fr);
}

static int run_step(struct http_run *hr, double rate, long rep, struct mon_window *mw, struct http_engine_result *res,
		    bool *open_loop, struct err *err)
{
	struct http_engine_options o;
	struct http_schedule_segment *segs = NULL;
	struct http_engine_cstage *cst = NULL;
	struct http_journey_run *jr = NULL;
	struct http_sessions *ss = NULL;
	struct step_window sw = { mw, NULL, 0 };
	int rc;

	memset(&o, 0, sizeof(o));
	o.plan = hr->plan;
	http_load_step_options(&hr->spec, rate, &o, &segs, &cst);
	o.seed = hr->spec.seed + (uint64_t)rep * 1000003ULL;
	o.keep_samples = hr->have_faults;
	o.records = hr->records;
	if (hr->trace) {
		o.times = hr->trace_times;
		o.n_times = http_trace_count(hr->trace);
	}
	o.records_bench = hr->b->name;
	o.records_step = hr->steps++;
	*open_loop = o.open_loop;
	if (hr->ctx && hr->ctx->shard && (rc = http_shard_step_begin(hr->ctx->shard, &o, &hr->start, err)) != 0)
		goto done;
	if (hr->journey && (rc = http_journey_run_open(&jr, hr->journey, o.threads, o.seed, &o, err)) != 0)
		goto done;
	if (hr->plan && hr->plan->sessions) {
		if ((rc = http_sessions_open(&ss, hr->wl, hr->plan, o.threads, o.seed, err)) != 0)
			goto done;
		o.driver = &http_sessions_driver;
		o.driver_arg = ss;
	}
	if (hr->have_faults && (rc = http_faults_start(&sw.faults, &hr->faults, o.seed, err)) != 0)
		goto done;
	if (mw || sw.faults) {
		o.on_window = on_step_window;
		o.window_arg = &sw;
		o.window_start = &sw.start;
	}
	rc = http_engine_run(&o, res, err);
	if (rc == 0 && hr->ctx && hr->ctx->shard)
		http_shard_step_note(hr->ctx->shard, hr->out, &hr->spec, hr->plan,
				     cJSON_GetObjectItemCaseSensitive(hr->b->raw, "slo"), &o, res, &hr->start, hr->rep, rate);
	if (rc == 0 && jr)
		journeys_done(hr, jr, res);
	if (rc == 0 && ss)
		cJSON_AddItemToArray(extra_array(hr->out, "sessions"), http_sessions_describe(ss));
	if (sw.faults)
		faults_done(hr, sw.faults);
done:
	http_journey_run_free(jr);
	http_sessions_free(ss);
	free(segs);
	free(cst);
	return rc;
}

/* The metrics of a step: its requests', or its journeys'. */
static void emit_step(struct http_run *hr, struct rd_bench *b, const char *suffix, const struct http_engine_result *res,
		      bool open_loop)
{
	if (hr->journey)
		http_journey_result_metrics(&hr->jres, hr->journey, b, suffix, open_loop);
	else
		add_step_metrics(b, suffix, res, open_loop, hr->plan, hr->itl_name);
}

static void copy_text(char *dst, size_t len, const char *src)
{
	size_t n = strlen(src);

	if (n >= len)
		n = len - 1;
	memcpy(dst, src, n);
	dst[n] = '\0';
}

/* Does every SLO of the benchmark hold for this step's result? */
static bool step_meets_slos(struct http_run *hr, const struct http_engine_result *r, char *why, size_t why_len)
{
	const cJSON *slo = cJSON_GetObjectItemCaseSensitive(hr->b->raw, "slo"), *it;
	struct rundoc *tmp = rundoc_new();
	struct rd_bench *tb = rundoc_add_bench(tmp, "step", RUNDOC_KIND_HTTP);
	bool ok = true;

	emit_step(hr, tb, NULL, r, true);
	for (size_t i = 0; i < tb->n_metrics; i++)
		rundoc_metric_summarise(&tb->metrics[i]);
	cJSON_ArrayForEach(it, slo) {
		struct slo so;
		struct slo_result res;
		struct err err = ERR_INIT;

		if (!cJSON_IsString(it) || slo_parse(it->string, it->valuestring, &so, &err) != 0)
			continue;
		if (monitor_metric(so.key)) {
			slo_release(&so); /* server, energy and cost: checked at capacity, not per step */
			continue;
		}
		if (slo_evaluate(&so, tb, &res, &err) != 0) {
			/* A metric this step has none of (no successes): broken. */
			copy_text(why, why_len, err.msg);
			ok = false;
		} else if (!res.ok) {
			copy_text(why, why_len, res.why);
			ok = false;
		}
		slo_release(&so);
		if (!ok)
			break;
	}
	rundoc_free(tmp);
	return ok;
}

/* Capacity: were enough of the step's requests (or journeys) answered?
 * Failures and requests never answered count alike (the engine waits for
 * every request it sent, so the difference between scheduled and answered is
 * what the target or the generator could not take).  A target that cannot
 * keep up either fails requests or answers them later, which the latency
 * SLOs see.  A journey that failed at any step (an answered request whose
 * capture or `until` failed it too) or never ended counts as unanswered. */
static bool step_answered(const struct http_load_spec *s, uint64_t scheduled, uint64_t ok, uint64_t failed,
			  bool journeys, char *why, size_t why_len)
{
	double asked = (double)(scheduled > ok + failed ? scheduled : ok + failed);
	double unanswered = asked > 0 ? 1 - (double)ok / asked : 1;

	if (asked > 0 && unanswered <= s->max_failures)
		return true;
	if (asked == 0)
		snprintf(why, why_len, "no %s in the step", journeys ? "journey was started" : "request was sent");
	else
		snprintf(why, why_len, "%.3g%% of the step's %.0f %s (%llu failed), more than max_failures %.3g%%",
			 unanswered * 100, asked, journeys ? "journeys did not complete" : "requests went unanswered",
			 (unsigned long long)failed, s->max_failures * 100);
	return false;
}

/* A sweep or capacity step of journeys: its record's figures are the
 * journeys' (the rate is journeys per second), not the steps' requests
 * mixed together. */
static void journey_step_figures(cJSON *st, const struct http_journey_result *jr)
{
	uint64_t done = jr->ok + jr->failed;

	cJSON_ReplaceItemInObjectCaseSensitive(st, "throughput",
					       cJSON_CreateNumber(jr->window > 0 ? (double)jr->ok_in_window / jr->window : 0));
	cJSON_ReplaceItemInObjectCaseSensitive(st, "latency_p50",
					       cJSON_CreateNumber((double)hist_percentile(jr->latency, 50) / 1e9));
	cJSON_ReplaceItemInObjectCaseSensitive(st, "latency_p99",
					       cJSON_CreateNumber((double)hist_percentile(jr->latency, 99) / 1e9));
	cJSON_ReplaceItemInObjectCaseSensitive(st, "error_rate",
					       cJSON_CreateNumber(done ? (double)jr->failed / (double)done : 0));
	cJSON_AddNumberToObject(st, "requests", (double)jr->requests);
}

/* The measurements of one rate of a sweep or capacity search, for the
 * benchmark's "sweep" or "capacity_steps". */
cJSON *http_runner_step_json(const struct http_engine_result *res, long rep, double rate, bool capacity, bool held,
			     const char *why)
{
	cJSON *st = cJSON_CreateObject();
	uint64_t done = res->ok + res->failed;

	cJSON_AddNumberToObject(st, "repetition", (double)rep);
	cJSON_AddNumberToObject(st, "rate", rate);
	cJSON_AddNumberToObject(st, "throughput", res->window > 0 ? (double)res->ok_in_window / res->window : 0);
	cJSON_AddNumberToObject(st, "latency_p50", (double)hist_percentile(res->latency, 50) / 1e9);
	cJSON_AddNumberToObject(st, "latency_p99", (double)hist_percentile(res->latency, 99) / 1e9);
	cJSON_AddNumberToObject(st, "error_rate", done ? (double)res->failed / (double)done : 0);
	if (res->tokens > 0 && res->window > 0)
		cJSON_AddNumberToObject(st, "output_token_rate", (double)res->tokens / res->window);
	if (capacity) {
		cJSON_AddBoolToObject(st, "slos_held", held);
		if (!held)
			cJSON_AddStringToObject(st, "why", why);
	}
	return st;
}

/*
 * A sweep with a monitor monitors each step.  The monitor writes into a
 * bench of its own, where its records pile up over the steps as they do
 * over a single-step run's repetitions (the targets' counts, the
 * per-scrape series and resources laid end to end, the energy windows);
 * what it measured in a step becomes that step's metrics, NAME@RATE/s
 * beside latency.p99@RATE/s, and run_finish moves its records to the
 * benchmark (sweep_monitor_finish).
 */
static struct rd_bench *sweep_monitor_bench(struct http_run *hr)
{
	if (!hr->sweep_mon)
		rundoc_add_bench(hr->sweep_mon = rundoc_new(), hr->b->name, RUNDOC_KIND_HTTP);
	return &hr->sweep_mon->benches[0];
}

/* Each metric's sample count in the monitor's bench before a step
 * (xmalloc'd; *n: how many metrics it had). */
static size_t *sample_counts(const struct rd_bench *mb, size_t *n)
{
	size_t *had = xmalloc((mb->n_metrics + 1) * sizeof(*had));

	for (size_t i = 0; i < mb->n_metrics; i++)
		had[i] = mb->metrics[i].n_samples;
	*n = mb->n_metrics;
	return had;
}

/* After a monitored step: its energy and cost per unit of work, then every
 * metric that gained a sample in it: a sweep's step's as NAME@RATE/s in
 * the benchmark (obj NULL), a capacity step's as NAME: value in its record
 * (obj; NaN as null). */
static void monitored_step(struct http_run *hr, struct rd_bench *mb, const size_t *had, size_t n_had,
			   const char *suffix, cJSON *obj, const struct http_engine_result *res)
{
	/* efficiency_add_metrics divides by the step's own throughput and
	 * token rate, and claims its energy window with the step's index */
	add_sample(mb, NULL, "throughput", "1/s", RD_HIGHER, res->window > 0 ? (double)res->ok_in_window / res->window : 0);
	/* one sample per step, NaN without tokens, to stay paired with throughput */
	add_sample(mb, NULL, "output_token_rate", "1/s", RD_HIGHER,
		   res->tokens > 0 && res->window > 0 ? (double)res->tokens / res->window : NAN);
	efficiency_add_metrics(mb, hr->have_price ? &hr->price : NULL);
	for (size_t i = 0; i < mb->n_metrics; i++) {
		const struct rd_metric *m = &mb->metrics[i];
		double v;

		if (m->n_samples <= (i < n_had ? had[i] : 0) || strcmp(m->name, "throughput") == 0 ||
		    strcmp(m->name, "output_token_rate") == 0)
			continue;
		v = m->samples[m->n_samples - 1];
		if (!obj)
			add_sample(hr->out, suffix, m->name, m->unit, m->direction, v);
		else if (isfinite(v))
			cJSON_AddNumberToObject(obj, m->name, v);
		else
			cJSON_AddNullToObject(obj, m->name);
	}
}

/*
 * A capacity search's monitored figures at capacity: what the monitor
 * measured in the highest step that held, under the plain names
 * (server.vllm.kv_cache_usage.max, energy_per_request), one sample per
 * repetition.  The cost at capacity comes from efficiency_add_capacity_cost.
 */
static void capacity_monitor_metrics(struct http_run *hr)
{
	const struct rd_bench *mb = hr->sweep_mon ? &hr->sweep_mon->benches[0] : NULL;
	const cJSON *it;

	if (!mb || !hr->held_mon)
		return;
	cJSON_ArrayForEach(it, hr->held_mon) {
		const struct rd_metric *m = rundoc_bench_find_metric(mb, it->string);

		if (m && cJSON_IsNumber(it) && strncmp(it->string, "cost_per_", 9) != 0)
			add_sample(hr->out, NULL, m->name, m->unit, m->direction, it->valuedouble);
	}
}

/* The monitor's records of a sweep's steps, moved to the benchmark. */
static void sweep_monitor_finish(struct http_run *hr)
{
	struct rd_bench *mb;
	cJSON *it;

	if (!hr->sweep_mon)
		return;
	mb = &hr->sweep_mon->benches[0];
	while (mb->extra && (it = mb->extra->child)) {
		cJSON_DetachItemViaPointer(mb->extra, it);
		if (cJSON_GetObjectItemCaseSensitive(hr->out->extra, it->string))
			cJSON_Delete(it);
		else
			cJSON_AddItemToObject(hr->out->extra, it->string, it);
	}
}

/* One rate of a sweep or capacity search, `trials` times (capacity: until
 * a trial breaks an SLO).  *held: every SLO held in every trial. */
static int run_rate(struct http_run *hr, long rep, double rate, cJSON *steps, bool *held, struct err *err)
{
	bool capacity = hr->spec.mode == LOAD_CAPACITY;
	cJSON *gen = cJSON_CreateObject(); /* health is judged, not kept, for these steps */
	int rc = 0;

	*held = true;
	for (long t = 0; t < hr->spec.trials && *held; t++) {
		struct http_engine_result res;
		char why[512] = "", suffix[64], *bad;
		bool ol;
		/* every step is monitored: a sweep's figures are the step's
		 * NAME@RATE/s, a capacity step's go into its record */
		struct mon_window mw = { &hr->mopts, NULL, hr->have_mon ? sweep_monitor_bench(hr) : NULL,
					 &hr->notices, 0, ERR_INIT };
		cJSON *st, *mon = NULL;
		size_t n_had = 0, *had = mw.out ? sample_counts(mw.out, &n_had) : NULL;

		rc = run_step(hr, rate, rep * 1000 + t, mw.out ? &mw : NULL, &res, &ol, err);
		if (rc == 0 && mw.rc) {
			http_engine_result_release(&res); /* the step ran; the monitor failed */
			memcpy(err, &mw.err, sizeof(*err));
			rc = mw.rc;
		}
		if (rc != 0) {
			free(had);
			break;
		}
		hr->total_ok += res.ok;
		hr->total_failed += res.failed;
		bad = health(&res, true, &hr->spec, rate, &hr->validity, gen);
		if (!capacity) {
			snprintf(suffix, sizeof(suffix), "@%g/s", rate);
			emit_step(hr, hr->out, suffix, &res, true);
			if (mw.out)
				monitored_step(hr, mw.out, had, n_had, suffix, NULL, &res);
			if (bad && !hr->invalid)
				hr->invalid = xstrdup(bad);
		} else {
			/* Latency counts from the intended send time, so a late
			 * generator only makes SLOs harder to meet: a step that holds
			 * them holds; one that breaks them while the generator was
			 * behind is noted.  A step whose requests went unanswered
			 * broke whatever the few answers say. */
			*held = (hr->journey ? step_answered(&hr->spec, hr->jres.scheduled, hr->jres.ok, hr->jres.failed,
							     true, why, sizeof(why))
					     : step_answered(&hr->spec, res.scheduled, res.ok, res.failed, false, why,
							     sizeof(why))) &&
				step_meets_slos(hr, &res, why, sizeof(why));
			if (bad && !*held) {
				size_t l = strlen(why);
				snprintf(why + l, sizeof(why) - l, " (generator: %.200s)", bad);
			}
		}
		st = http_runner_step_json(&res, rep, rate, capacity, *held, why);
		if (hr->journey)
			journey_step_figures(st, &hr->jres);
		if (capacity && mw.out) {
			monitored_step(hr, mw.out, had, n_had, NULL, mon = cJSON_AddObjectToObject(st, "monitor"), &res);
			if (*held) {
				cJSON_Delete(hr->held_mon);
				hr->held_mon = cJSON_Duplicate(mon, true);
			}
		}
		cJSON_AddItemToArray(steps, st);
		if (capacity && *held && res.window > 0) {
			hr->held_rps = (double)res.ok_in_window / res.window;
			hr->held_tps = (double)res.tokens / res.window;
		}
		free(bad);
		free(had);
		http_engine_result_release(&res);
	}
	cJSON_Delete(gen);
	return rc;
}

/* Sweep: each rate in turn.  Capacity: from start_rate, double while the
 * steps hold (up to max_rate), or halve while they break (down to
 * min_rate); once a rate held and one broke, bisect to `precision`.  The
 * highest rate that held is the "capacity" sample; when even min_rate
 * broke there is none: the benchmark fails with "capacity below MIN/s"
 * and extra capacity_below, never a capacity of 0. */
static int run_rates(struct http_run *hr, long rep, struct err *err)
{
	const struct http_load_spec *s = &hr->spec;
	cJSON *steps = extra_array(hr->out, s->mode == LOAD_SWEEP ? "sweep" : "capacity_steps");
	double lo = 0, hi = 0, r = s->start_rate;
	bool held;
	int rc;

	hr->held_rps = hr->held_tps = 0;
	cJSON_Delete(hr->held_mon);
	hr->held_mon = NULL;
	if (s->mode == LOAD_SWEEP) {
		for (size_t k = 0; k < s->n_rates; k++)
			if ((rc = run_rate(hr, rep, s->rates[k], steps, &held, err)) != 0)
				return rc;
		return 0;
	}
	for (;;) {
		if ((rc = run_rate(hr, rep, r, steps, &held, err)) != 0)
			return rc;
		if (held)
			lo = r;
		else
			hi = r;
		if (hi == 0) {
			if (r >= s->max_rate)
				break;
			r = fmin(r * 2, s->max_rate);
		} else if (lo == 0) {
			if (r <= s->min_rate)
				break;
			r = fmax(r / 2, s->min_rate);
		} else {
			if ((hi - lo) / lo <= s->precision)
				break;
			r = (lo + hi) / 2;
		}
	}
	if (lo == 0) {
		cJSON *last = cJSON_GetArrayItem(steps, cJSON_GetArraySize(steps) - 1);
		const char *why = json_peek_str(last, "why");

		cJSON_AddNumberToObject(hr->out->extra, "capacity_below", r);
		if (!hr->failure)
			hr->failure = xasprintf("capacity below %g/s: no rate from start_rate %g/s down to min_rate %g/s "
						"held (at %g/s: %s); lower load.min_rate to search further",
						r, s->start_rate, s->min_rate, r, why ? why : "broken");
		return 0;
	}
	add_sample(hr->out, NULL, "capacity", "1/s", RD_HIGHER, lo);
	capacity_monitor_metrics(hr);
	efficiency_add_capacity_cost(hr->out, hr->have_price ? &hr->price : NULL, hr->held_rps, hr->held_tps);
	return 0;
}

/* The first error message of each class, for the benchmark's "errors". */
cJSON *http_runner_first_errors(const struct http_engine_result *res)
{
	cJSON *e = cJSON_CreateObject();

	for (int k = 0; k < EE_N; k++)
		if (res->first_error[k][0])
			cJSON_AddStringToObject(e, http_engine_error_name((enum http_engine_error)k), res->first_error[k]);
	return e;
}

/* The phases around the faults, from the step's requests (or journeys),
 * the proxies' overhead and counters. */
static void note_faults(struct http_run *hr, long rep, const struct http_engine_result *res)
{
	const struct http_resilience_sample *smp = hr->journey ? hr->jres.samples : res->samples;
	size_t n = hr->journey ? hr->jres.n_samples : res->n_samples;
	cJSON *rec = cJSON_CreateObject();
	char note[300];

	http_faults_metrics(&hr->faults, smp, n, res->window, hr->overhead, hr->out, note, sizeof(note));
	if (note[0])
		rundoc_bench_warn(hr->out, note);
	cJSON_AddNumberToObject(rec, "repetition", (double)rep);
	cJSON_AddItemToObject(rec, "proxies", hr->faults_report ? hr->faults_report : cJSON_CreateArray());
	hr->faults_report = NULL;
	cJSON_AddItemToArray(extra_array(hr->out, "faults"), rec);
}

/* A journey step's time series: beside the requests' counts, the journeys
 * started (by intended start) and succeeded (per second) in each interval. */
static void journey_timeseries(cJSON *ts, const struct http_journey_result *jr, const struct http_engine_result *res)
{
	cJSON *started = cJSON_AddArrayToObject(ts, "journeys");
	cJSON *ok = cJSON_AddArrayToObject(ts, "journey_throughput");
	double iv = (double)res->ts_interval / 1e9;

	for (size_t i = 0; i < res->n_ts; i++) {
		cJSON_AddItemToArray(started, cJSON_CreateNumber(i < jr->n_ts ? (double)jr->ts_started[i] : 0));
		cJSON_AddItemToArray(ok, cJSON_CreateNumber(i < jr->n_ts && iv > 0 ? (double)jr->ts_ok[i] / iv : 0));
	}
}

/* A repetition's step into the run: token counts, metrics, the spike's
 * recovery, distributions, health, time series, errors. */
static void note_step(struct http_run *hr, long rep, const struct http_engine_result *res, bool open_loop)
{
	const struct http_load_spec *s = &hr->spec;
	cJSON *gen = cJSON_CreateObject(), *ts;
	char *bad;

	if (hr->plan && hr->plan->sse) {
		hr->tok_usage += res->tok_usage;
		hr->tok_events += res->tok_events;
		hr->one_token = hr->one_token && res->one_token_events;
		/* itl only when every event provably carried one token */
		hr->itl_name = (hr->tok_events == 0 && hr->tok_usage > 0 && hr->one_token) ? "itl" : "inter_chunk";
	}
	hr->total_ok += res->ok;
	hr->total_failed += res->failed;
	emit_step(hr, hr->out, NULL, res, open_loop);
	if (hr->have_faults)
		note_faults(hr, rep, res);
	if (s->mode == LOAD_SPIKE)
		http_runner_recovery(hr->out, res, s->warmup, s->duration, s->spike_at, s->spike_duration,
				     http_runner_slo_p95(cJSON_GetObjectItemCaseSensitive(hr->b->raw, "slo")));
	fams_merge(&hr->fams, res);
	if (res->llm)
		http_llm_fams_merge(hr->llm_fams, res->llm, hr->plan);
	bad = health(res, open_loop, s, s->rate, &hr->validity, gen);
	cJSON_AddItemToArray(extra_array(hr->out, "generator"), gen);
	ts = http_runner_timeseries(res, rep, s->warmup);
	if (hr->journey)
		journey_timeseries(ts, &hr->jres, res);
	cJSON_AddItemToArray(extra_array(hr->out, "timeseries"), ts);
	if (bad && !hr->invalid)
		hr->invalid = bad;
	else
		free(bad);
	if (hr->journey && hr->jres.ok == 0 && !hr->failure) {
		char *why = http_journey_result_failures(&hr->jres, hr->journey);

		hr->failure = hr->jres.failed ? xasprintf("all %llu journeys failed: %s", (unsigned long long)hr->jres.failed, why)
					      : xstrdup("no journey completed in the measured window");
		free(why);
	} else if (!hr->journey && res->ok == 0 && !hr->failure) {
		char *sum = error_summary(res);
		hr->failure = res->failed ? xasprintf("all %llu requests failed: %s", (unsigned long long)res->failed, sum)
					  : xstrdup("no request completed in the measured window");
		free(sum);
	}
	cJSON_AddItemToArray(extra_array(hr->out, "errors"), http_runner_first_errors(res));
}

/* One repetition of a single-step mode (rate, concurrency, ramp, spike),
 * with the resource monitor around its measured window. */
static int run_single(struct http_run *hr, long rep, struct err *err)
{
	struct mon_window mw = { &hr->mopts, NULL, hr->out, &hr->notices, 0, ERR_INIT };
	struct http_engine_result res;
	bool open_loop = false;
	int rc = run_step(hr, 0, rep, hr->have_mon ? &mw : NULL, &res, &open_loop, err);

	if (rc == 0 && mw.rc) {
		http_engine_result_release(&res); /* the step ran; the monitor failed */
		memcpy(err, &mw.err, sizeof(*err));
		return mw.rc;
	}
	if (rc != 0)
		return rc;
	note_step(hr, rep, &res, open_loop);
	efficiency_add_metrics(hr->out, hr->have_price ? &hr->price : NULL);
	http_engine_result_release(&res);
	return 0;
}

/* About how many requests a step sends, warmup included (0: unknown), so
 * that an LLM workload prepares as many distinct prompts. */
static long expected_requests(const struct http_load_spec *s)
{
	if (s->requests)
		return (long)s->requests + (s->mode == LOAD_RATE ? (long)ceil(s->rate * s->warmup) : 0);
	if (s->mode == LOAD_RATE || s->mode == LOAD_SPIKE)
		return (long)ceil(s->rate * (s->warmup + s->duration) * 1.1);
	return 0;
}

/* Load mode trace: the trace read (a file that is not there or not a
 * trace is bad input), its times, and the window it sets when no duration
 * or requests do (to just after its last entry). */
static int trace_open(struct http_run *hr, const char *dir, struct err *err)
{
	struct http_trace_options o = HTTP_TRACE_OPTIONS_INIT;
	struct http_load_spec *s = &hr->spec;
	char *full = path_from(dir, s->trace_path);
	int rc;

	o.path = full;
	o.label = s->trace_path;
	o.time_scale = s->trace_scale;
	o.time_unit = s->trace_unit;
	o.limit = (size_t)s->trace_limit;
	rc = http_trace_open(&hr->trace, &o, err);
	free(full);
	if (rc)
		return ERR_INPUT;
	hr->trace_times = xmalloc(http_trace_count(hr->trace) * sizeof(*hr->trace_times));
	for (size_t i = 0; i < http_trace_count(hr->trace); i++)
		hr->trace_times[i] = http_trace_get(hr->trace, i)->t;
	if (!s->duration && !s->requests)
		s->duration = fmax(http_trace_stats(hr->trace)->span - s->warmup, 0) + 0.001;
	return 0;
}

/* The benchmark's own server, started in its folder (its "cwd", under the
 * suite's) and ready on the URL's port; the run document says when it was
 * ready.  A shard cannot start one: every shard would. */
static int start_server(struct http_run *hr, const cJSON *srv, const char *dir, struct err *err)
{
	const char *cwd = json_peek_str(hr->b->raw, "cwd");
	char *folder;
	cJSON *o;
	int rc;

	if (hr->ctx && hr->ctx->shard)
		return err_set(err, ERR_INPUT, "a sharded load test cannot start its own \"server\" (every shard "
			       "would start one): start the target before the shards");
	folder = path_from(dir, cwd);
	rc = http_server_start(&hr->server, srv, folder, hr->plan->host, hr->plan->port, err);
	free(folder);
	if (rc != 0)
		return rc;
	if (!hr->out->extra)
		hr->out->extra = cJSON_CreateObject();
	o = cJSON_AddObjectToObject(hr->out->extra, "server");
	cJSON_AddStringToObject(o, "port", hr->plan->port);
	cJSON_AddNumberToObject(o, "ready_after", http_server_ready_after(hr->server));
	return 0;
}

/* The plan, the load model, the monitor, and the repetitions to run. */
static int run_open(struct http_run *hr, long *reps, struct err *err)
{
	struct errlist problems = ERRLIST_INIT;
	const char *dir = hr->ctx && hr->ctx->suite ? hr->ctx->suite->dir : ".";
	const cJSON *v;
	int rc = 0;

	if (cJSON_HasObjectItem(hr->b->raw, "journey"))
		http_journey_parse(&hr->journey, hr->b->raw, hr->b->name, dir, &problems);
	else
		http_plan_parse(&hr->plan, hr->b->raw, hr->b->name, dir, &problems);
	if (problems.n == 0)
		http_load_spec_parse(&hr->spec, hr->b->raw, hr->b->name, &problems);
	if (problems.n == 0 && cJSON_HasObjectItem(hr->b->raw, "faults")) {
		http_faults_validate(hr->b->raw, hr->b->name, &hr->spec, &problems);
		if (problems.n == 0)
			hr->have_faults = http_faults_parse(&hr->faults, hr->b->raw, hr->b->name, &problems) == 0;
	}
	if (problems.n) {
		rc = errlist_to_err(&problems, err, ERR_INPUT);
		goto done;
	}
	if (hr->ctx && hr->ctx->shard && hr->plan && json_peek(json_peek(hr->b->raw, "http"), "dataset") &&
	    (rc = http_shard_plan_part(hr->plan, hr->ctx->shard->spec.index, hr->ctx->shard->spec.count, err)) != 0)
		goto done;
	if (hr->spec.mode == LOAD_TRACE && (rc = trace_open(hr, dir, err)) != 0)
		goto done;
	if (hr->plan && (rc = http_workload_open(&hr->wl, hr->b->raw, hr->b->name, dir, hr->plan, hr->trace,
						 expected_requests(&hr->spec), err)) != 0)
		goto done;
	if ((v = cJSON_GetObjectItemCaseSensitive(hr->b->raw, "monitor"))) {
		if ((rc = monitor_options_parse(v, dir, &hr->mopts, err)) != 0)
			goto done;
		hr->have_mon = true;
	}
	hr->records = hr->ctx ? hr->ctx->records : NULL;
	if (!hr->records && (v = cJSON_GetObjectItemCaseSensitive(hr->b->raw, "requests")) && cJSON_IsString(v)) {
		struct http_records_options ro = HTTP_RECORDS_OPTIONS_INIT;

		ro.path = v->valuestring;
		ro.workers = HTTP_RECORDS_MAX_WORKERS;
		if ((rc = http_records_open(&hr->own_records, &ro, err)) != 0)
			goto done;
		hr->records = hr->own_records;
	}
	http_validity_parse(hr->ctx && hr->ctx->suite ? cJSON_GetObjectItemCaseSensitive(hr->ctx->suite->raw, "validity")
						      : NULL,
			    &hr->validity);
	rc = efficiency_price_find(hr->ctx && hr->ctx->suite ? cJSON_GetObjectItemCaseSensitive(hr->ctx->suite->raw, "price")
							     : NULL,
				   &hr->price, err);
	if (rc < 0)
		goto done;
	hr->have_price = rc == 1;
	rc = 0;
	if ((v = cJSON_GetObjectItemCaseSensitive(hr->b->raw, "server")) && hr->plan &&
	    (rc = start_server(hr, v, dir, err)) != 0)
		goto done;
	*reps = 1;
	if (hr->spec.repetitions)
		*reps = hr->spec.repetitions;
	else if ((v = cJSON_GetObjectItemCaseSensitive(hr->b->raw, "repetitions")) && cJSON_IsNumber(v) && v->valuedouble >= 1)
		*reps = (long)v->valuedouble;
	if (hr->ctx && hr->ctx->repetitions > 0)
		*reps = hr->ctx->repetitions;
done:
	errlist_release(&problems);
	return rc;
}

/* After the last repetition: token sources, warnings, the merged
 * distributions, summaries and the benchmark's status. */
static void run_finish(struct http_run *hr)
{
	struct rd_bench *out = hr->out;
	char *note;

	if (hr->plan && hr->plan->sse) {
		cJSON *t = cJSON_AddObjectToObject(out->extra, "tokens");
		cJSON_AddStringToObject(t, "source", hr->tok_usage && hr->tok_events ? "mixed" : hr->tok_usage ? "usage" : "events");
		cJSON_AddStringToObject(t, "gaps", hr->itl_name);
		cJSON_AddNumberToObject(t, "from_usage", (double)hr->tok_usage);
		cJSON_AddNumberToObject(t, "from_events", (double)hr->tok_events);
	}
	sweep_monitor_finish(hr);
	for (size_t i = 0; i < hr->notices.n; i++)
		rundoc_bench_warn(out, hr->notices.msgs[i]);
	if (hr->wl) {
		cJSON_AddItemToObject(out->extra, "prompts", http_workload_describe(hr->wl));
		if (hr->wl->tokenize_note)
			rundoc_bench_warn(out, hr->wl->tokenize_note);
	}
	/* A shard's distributions are in its step records, which the merge
	 * adds up (core/http/shard.h): not written twice. */
	if (!hr->ctx || !hr->ctx->shard)
		fams_attach(&hr->fams, out, hr->itl_name);
	http_llm_fams_attach(hr->llm_fams, out, hr->itl_name);
	if ((note = http_llm_fams_lengths_note(hr->llm_fams)))
		rundoc_bench_warn(out, note);
	free(note);
	for (size_t i = 0; i < out->n_metrics; i++)
		rundoc_metric_summarise(&out->metrics[i]);
	free(out->error);
	out->error = NULL;
	if (hr->failure) {
		out->status = RUNDOC_STATUS_FAILED;
		out->error = hr->failure;
		hr->failure = NULL;
	} else if (hr->invalid) {
		/* The run document knows ok/failed/partial/skipped; an invalid
		 * run is "failed" (exit 3) with "invalid": true beside it. */
		out->status = RUNDOC_STATUS_FAILED;
		out->error = xasprintf("run invalid: %s", hr->invalid);
		rundoc_bench_set_invalid(out);
	} else if (hr->total_ok == 0 && hr->total_failed > 0) {
		out->status = RUNDOC_STATUS_FAILED;
		out->error = xstrdup("every request failed");
	} else {
		out->status = RUNDOC_STATUS_OK;
	}
}

int http_runner_open(struct http_run **out, const struct suite_bench *b, const struct run_ctx *ctx,
		     struct rd_bench *res, struct err *err)
{
	struct http_run *hr = xcalloc(1, sizeof(*hr));
	cJSON *l;
	int rc;

	hr->b = b;
	hr->ctx = ctx;
	hr->out = res;
	hr->notices = (struct errlist)ERRLIST_INIT;
	hr->itl_name = "inter_chunk";
	hr->one_token = true;
	hr->llm_fams = http_llm_fams_new();
	hr->reps = 1;
	*out = hr;
	if ((rc = run_open(hr, &hr->reps, err)) != 0)
		return rc;
	res->kind = RUNDOC_KIND_HTTP;
	if (!res->extra)
		res->extra = cJSON_CreateObject();
	l = cJSON_AddObjectToObject(res->extra, "load");
	cJSON_AddStringToObject(l, "mode", http_load_mode_name(hr->spec.mode));
	cJSON_AddNumberToObject(l, "repetitions", (double)hr->reps);
	if (ctx && ctx->interleaved && !ctx->shard)
		rundoc_bench_set_interleaved(res);
	return 0;
}

bool http_runner_done(const struct http_run *hr)
{
	return hr->next_rep >= hr->reps;
}

long http_runner_reps(const struct http_run *hr)
{
	return hr->next_rep;
}

long http_runner_planned(const struct http_run *hr)
{
	return hr->reps;
}

int http_runner_step(struct http_run *hr, struct err *err)
{
	long rep = hr->next_rep++;
	char *ended;
	int rc;

	hr->rep = rep;
	if (hr->spec.mode == LOAD_SWEEP || hr->spec.mode == LOAD_CAPACITY)
		rc = run_rates(hr, rep, err);
	else
		rc = run_single(hr, rep, err);
	/* A server of its own that ended under the load: that is the failure,
	 * whatever the requests saw. */
	if ((ended = http_server_ended(hr->server))) {
		char *when = xasprintf("during repetition %ld", rep + 1);
		char *why = http_server_why(hr->server, when);

		rc = err_set(err, ERR_RUN, "%s", why);
		free(why);
		free(when);
		free(ended);
	}
	return rc;
}

/* The benchmark's own "requests" file, closed: a record that could not be
 * written fails the benchmark (when it had not failed already). */
static void close_own_records(struct http_run *hr, bool report)
{
	struct err rerr = ERR_INIT;

	if (!hr->own_records)
		return;
	if (http_records_close(hr->own_records, NULL, &rerr) != 0 && report)
		rundoc_bench_fail(hr->out, rerr.msg);
	hr->own_records = NULL;
}

void http_runner_finish(struct http_run *hr)
{
	run_finish(hr);
	close_own_records(hr, true);
}

void http_runner_free(struct http_run *hr)
{
	if (!hr)
		return;
	close_own_records(hr, false);
	http_server_stop(hr->server);
	for (int i = 0; i < 7; i++)
		hist_free(hr->fams.h[i]);
	free(hr->invalid);
	free(hr->failure);
	http_plan_free(hr->plan);
	http_journey_free(hr->journey);
	http_journey_result_release(&hr->jres);
	if (hr->have_faults)
		http_faults_release(&hr->faults);
	cJSON_Delete(hr->faults_report);
	hist_free(hr->overhead);
	http_workload_free(hr->wl);
	http_trace_free(hr->trace);
	free(hr->trace_times);
	http_llm_fams_free(hr->llm_fams);
	http_load_spec_release(&hr->spec);
	if (hr->have_mon)
		monitor_options_release(&hr->mopts);
	rundoc_free(hr->sweep_mon);
	cJSON_Delete(hr->held_mon);
	errlist_release(&hr->notices);
	free(hr);
}

int http_runner_run(const struct suite_bench *b, const struct run_ctx *ctx, struct rd_bench *out, struct err *err)
{
	struct http_run *hr;
	int rc = http_runner_open(&hr, b, ctx, out, err);

	while (rc == 0 && !http_runner_done(hr)) {
		uint64_t t_start = now_ns();

		if ((rc = http_runner_step(hr, err)) == 0 && ctx && ctx->progress)
			ctx->progress(ctx->progress_arg, b->name, (size_t)hr->next_rep, (size_t)hr->reps,
				      (double)(now_ns() - t_start) / 1e9);
	}
	if (rc == 0)
		http_runner_finish(hr);
	http_runner_free(hr);
	return rc;
}
