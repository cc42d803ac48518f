/*
 * engine.c: the load engine's workers (see engine.h and transport.h).
 *
 * Each worker owns an epoll instance, its request slots, a schedule (open
 * loop) and its own histograms; nothing is shared while requests run but
 * an atomic counter (requests mode) and the start time.  The loop sleeps
 * in epoll_pwait2 with a nanosecond timeout (timer slack set to 1 ns) until
 * the next intended send, and sends every request whose time has come as
 * long as a slot is free; a request that finds none waits, keeping its
 * t_sched, and so counts as late: nothing is dropped.  How the bytes
 * travel is the transport's (h1.c, curl.c); what a response means and how
 * it is counted is request.c's.
 */
#include "engine.h"

#include <errno.h>
#include <math.h>
#include <netdb.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/prctl.h>
#include <time.h>
#include <unistd.h>

#include "../hist.h"
#include "converge.h"
#include "records.h"
#include "transport.h"

#define MAX_TS_POINTS 3600
#define SPIN_NS 10000          /* closer than this to a send: poll instead of sleeping */
#define SCAN_NS 1000000        /* timeouts are checked at least this often */
#define STAGE_NS 10000000      /* concurrency stages: the target is recomputed at least this often */
#define MAX_THREADS 256
#define MAX_EVENTS 256

/* Every transport, in the order "engine": "auto" prefers them. */
static const struct http_transport *const transports[] = {
	&http_h1_transport,
	&http_curl_transport,
};

static const char *const error_names[EE_N] = {
	"refused", "timeout", "reset", "4xx", "5xx", "unexpected_status", "bad_response",
	"failed_check", "incomplete_stream",
};

const char *http_engine_error_name(enum http_engine_error e)
{
	return (unsigned)e < EE_N ? error_names[e] : "?";
}

int http_engine_httpver_parse(const char *s, enum http_engine_httpver *out)
{
	if (strcmp(s, "1.1") == 0)
		*out = EHV_1_1;
	else if (strcmp(s, "2") == 0)
		*out = EHV_2;
	else
		return ERR_INPUT;
	return 0;
}

/* ---- the transport table ---- */

static const struct http_transport *transport_find(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(transports); i++)
		if (strcmp(transports[i]->name, name) == 0)
			return transports[i];
	return NULL;
}

int http_engine_transport_parse(const char *s, const char **out)
{
	const struct http_transport *t;

	if (strcmp(s, "auto") == 0) {
		*out = NULL;
		return 0;
	}
	if (!(t = transport_find(s)))
		return ERR_INPUT;
	*out = t->name;
	return 0;
}

/* Does t speak https (when tls) and HTTP/2 (when h2)? */
static bool transport_speaks(const struct http_transport *t, bool tls, bool h2)
{
	return (!tls || t->tls) && (!h2 || t->h2);
}

/* For messages: the quoted names of `first` (when not NULL) and of the
 * transports that speak tls and h2, joined by commas, the last by " or "
 * when last_or: "\"auto\", \"native\" or \"curl\"". */
static void names_of(const char *first, bool tls, bool h2, bool last_or, char *buf, size_t len)
{
	const char *names[ARRAY_SIZE(transports) + 1];
	size_t n = 0, used = 0;

	if (first)
		names[n++] = first;
	for (size_t i = 0; i < ARRAY_SIZE(transports); i++)
		if (transport_speaks(transports[i], tls, h2))
			names[n++] = transports[i]->name;
	buf[0] = '\0';
	for (size_t i = 0; i < n && used < len; i++)
		used += (size_t)snprintf(buf + used, len - used, "%s\"%s\"",
					 i == 0 ? "" : (i == n - 1 && last_or) ? " or " : ", ", names[i]);
}

void http_engine_transport_names(char *buf, size_t len)
{
	names_of("auto", false, false, true, buf, len);
}

/* What "auto" takes: the first transport that speaks the scheme and the
 * version. */
static const struct http_transport *transport_auto(bool tls, enum http_engine_httpver v)
{
	for (size_t i = 0; i < ARRAY_SIZE(transports); i++)
		if (transport_speaks(transports[i], tls, v == EHV_2))
			return transports[i];
	return NULL;
}

void http_engine_validate(const char *engine, bool tls, enum http_engine_httpver v, const char *path,
			  struct errlist *problems)
{
	const struct http_transport *t = engine ? transport_find(engine) : transport_auto(tls, v);
	char why[512];

	if (!t)
		return;
	if (v == EHV_2 && !t->h2) {
		names_of(NULL, false, true, false, why, sizeof(why));
		errlist_add(problems, "%s.http_version: \"2\" needs \"engine\": %s or \"auto\" (the %s engine speaks HTTP/1.1)",
			    path, why, t->name);
		return;
	}
	if (t->check && t->check(tls, v, why, sizeof(why)) != 0)
		errlist_add(problems, "%s.http_version: %s", path, why);
}

/* The transport for a step: the one named, when it can carry the step,
 * else the first that can. */
static int transport_pick(const struct http_engine_options *o, const struct http_transport **out, struct err *err)
{
	const struct http_plan *p = o->plan;
	const struct http_transport *t;
	char why[512];

	if (o->engine) {
		if (!(t = transport_find(o->engine)))
			return err_set(err, ERR_INPUT, "unknown engine '%s'", o->engine);
		if (p->tls && !t->tls) {
			names_of(NULL, true, false, false, why, sizeof(why));
			return err_set(err, ERR_INPUT, "the %s engine speaks plain http:// only; use \"engine\": %s or \"auto\" for %s",
				       t->name, why, p->url);
		}
		if (o->http_version == EHV_2 && !t->h2) {
			names_of(NULL, false, true, false, why, sizeof(why));
			return err_set(err, ERR_INPUT, "the %s engine speaks HTTP/1.1 only; use \"engine\": %s or \"auto\" for HTTP/2",
				       t->name, why);
		}
	} else if (!(t = transport_auto(p->tls, o->http_version))) {
		return err_set(err, ERR_INPUT, "no engine speaks what %s needs", p->url);
	}
	if (t->check && t->check(p->tls, o->http_version, why, sizeof(why)) != 0)
		return err_set(err, ERR_INPUT, "%s", why);
	*out = t;
	return 0;
}

/* ---- slots, for the transports ---- */

int http_engine_worker_fail(struct http_worker *w, int code, const char *fmt, ...)
{
	va_list ap;

	if (w->rc)
		return code;
	va_start(ap, fmt);
	vsnprintf(w->err.msg, sizeof(w->err.msg), fmt, ap);
	va_end(ap);
	w->rc = code;
	return code;
}

struct http_worker_ts *http_engine_ts_at(struct http_worker *w, uint64_t t)
{
	uint64_t interval, t0 = w->step->t0;
	size_t i;

	/* Every request asks twice (its send, its end), nearly always for the
	 * interval the previous one got: no division then. */
	if (t >= w->ts_from && t < w->ts_to)
		return &w->ts[w->ts_cur];
	interval = w->o->ts_interval ? w->o->ts_interval : 1000000000ULL;
	i = t > t0 ? (size_t)((t - t0) / interval) : 0;
	if (i >= MAX_TS_POINTS)
		i = MAX_TS_POINTS - 1;
	if (i >= w->n_ts) {
		XGROW(w->ts, w->ts_alloc, i + 1);
		memset(w->ts + w->n_ts, 0, (i + 1 - w->n_ts) * sizeof(*w->ts));
		w->n_ts = i + 1;
	}
	/* the interval's times: [t0 + i * interval, the next one's start); the
	 * first also holds what came before t0, the last what comes after */
	w->ts_cur = i;
	w->ts_from = i == 0 ? 0 : t0 + i * interval;
	w->ts_to = i == MAX_TS_POINTS - 1 ? UINT64_MAX : t0 + (i + 1) * interval;
	return &w->ts[i];
}

static void idle_push(struct http_worker *w, struct http_slot *s)
{
	s->idle_pos = (long)w->n_idle;
	w->idle[w->n_idle++] = s;
}

static void idle_remove(struct http_worker *w, struct http_slot *s)
{
	if (s->idle_pos < 0)
		return;
	w->idle[s->idle_pos] = w->idle[--w->n_idle];
	w->idle[s->idle_pos]->idle_pos = s->idle_pos;
	s->idle_pos = -1;
}

struct http_slot *http_engine_slot_new(struct http_worker *w)
{
	struct http_slot *s;

	for (size_t i = 0; i < w->n_slots; i++)
		if (!w->slots[i].open && !w->slots[i].has_req)
			return &w->slots[i];
	if (w->n_slots >= w->cap_slots)
		return NULL;
	s = &w->slots[w->n_slots++];
	s->w = w;
	s->idle_pos = -1;
	http_request_slot_init(s);
	return s;
}

void http_engine_slot_closed(struct http_worker *w, struct http_slot *s)
{
	idle_remove(w, s);
	s->open = false;
}

/* ---- issuing ---- */

/* Assign a request to s (idle, or without a connection: then the
 * transport connects first). */
static void start_request(struct http_worker *w, struct http_slot *s, uint64_t t_sched, bool measured)
{
	const struct http_plan *p = w->plan;
	uint64_t k = w->req_counter++ * (uint64_t)w->o->threads + w->idx;
	size_t i = p->order ? p->order[k % p->n_order] : k % p->n_reqs;

	s->wire = &p->reqs[i];
	s->meta = p->meta ? &p->meta[i] : NULL;
	s->plan = p;
	s->res = &w->r;
	s->addr = w->step->addr;
	s->addrlen = w->step->addrlen;
	s->job = NULL;
	http_llm_begin(s);
	s->has_req = true;
	s->measured = measured;
	s->sent_once = false;
	s->t_sched = t_sched;
	s->t_send = 0;
	/* closed loop: t_sched is now */
	s->deadline = (w->o->open_loop ? now_ns() : t_sched) + w->o->timeout;
	w->busy++;
	if (measured) {
		w->r.scheduled++;
		http_llm_record_issued(w->r.llm, s);
	}
	idle_remove(w, s);
	w->t->start(w, s);
}

/* An idle slot of pool `pool`, else a new one, else an idle one of
 * another pool with its connection closed; NULL when none. */
static struct http_slot *slot_for_pool(struct http_worker *w, size_t pool)
{
	struct http_slot *s;

	for (size_t i = w->n_idle; i-- > 0;)
		if (w->idle[i]->pool == pool)
			return w->idle[i];
	if ((s = http_engine_slot_new(w)))
		return s;
	if (!w->n_idle)
		return NULL;
	s = w->idle[w->n_idle - 1];
	idle_remove(w, s);
	w->t->close(w, s);
	return s;
}

bool http_engine_send(struct http_worker *w, size_t pool, const struct sockaddr *addr, socklen_t addrlen,
		      const struct http_plan *plan, const struct http_wire *wire, struct http_engine_result *res,
		      void *job, uint64_t t_sched, bool measured)
{
	struct http_slot *s;

	if (w->busy >= w->max_inflight || !(s = slot_for_pool(w, pool))) {
		w->r.blocked++;
		return false;
	}
	s->pool = pool;
	s->addr = addr;
	s->addrlen = addrlen;
	s->plan = plan;
	s->res = res;
	s->job = job;
	s->wire = wire;
	s->meta = NULL;
	http_llm_begin(s);
	s->has_req = true;
	s->measured = measured;
	s->sent_once = false;
	s->t_sched = t_sched;
	s->t_send = 0;
	s->deadline = now_ns() + w->o->timeout;
	w->busy++;
	if (measured)
		res->scheduled++;
	idle_remove(w, s);
	w->t->start(w, s);
	return true;
}

bool http_engine_in_window(const struct http_worker *w, uint64_t t)
{
	return (t >= w->step->window_start && t < w->step->window_end) || w->step->window_end == UINT64_MAX;
}

/* Measured?  Decides also when issuing stops.  Returns -1 to stop. */
static int classify_send(struct http_worker *w, uint64_t t_sched)
{
	const struct http_engine_options *o = w->o;

	if (t_sched < w->step->window_start)
		return 0;
	if (o->requests) {
		if (atomic_fetch_add(&w->step->measured_issued, 1) >= o->requests)
			return -1;
		return 1;
	}
	return t_sched < w->step->window_end ? 1 : -1;
}

static void issue_open(struct http_worker *w, uint64_t now)
{
	while (!w->issuing_done && w->next_t <= now) {
		struct http_slot *s;
		int m;
		uint64_t next;

		if (w->busy >= w->max_inflight) {
			w->r.blocked++;
			return;
		}
		s = w->n_idle ? w->idle[w->n_idle - 1] : http_engine_slot_new(w);
		if (!s) {
			w->r.blocked++;
			return;
		}
		m = classify_send(w, w->next_t);
		if (m < 0) {
			w->issuing_done = true;
			return;
		}
		start_request(w, s, w->next_t, m == 1);
		next = http_schedule_next(w->sched);
		if (next == SCHED_END)
			w->issuing_done = true;
		else
			w->next_t = w->step->t0 + next;
	}
}

static long closed_target(const struct http_worker *w, uint64_t now);

/* Driver: start the units due by now (open loop: the schedule's arrivals;
 * closed loop: while fewer are active than the concurrency), then let it
 * send what is due.  Returns when it next wants to run (0: nothing). */
static uint64_t drive(struct http_worker *w, uint64_t now)
{
	const struct http_engine_driver *d = w->o->driver;

	if (w->o->open_loop) {
		while (!w->issuing_done && w->next_t <= now) {
			int m = classify_send(w, w->next_t);
			uint64_t next;

			if (m < 0) {
				w->issuing_done = true;
				break;
			}
			d->arrive(w, w->next_t, m == 1);
			next = http_schedule_next(w->sched);
			if (next == SCHED_END)
				w->issuing_done = true;
			else
				w->next_t = w->step->t0 + next;
		}
	} else {
		while (!w->issuing_done && (long)d->active(w) < closed_target(w, now)) {
			int m = classify_send(w, now);

			if (m < 0) {
				w->issuing_done = true;
				break;
			}
			d->arrive(w, now, m == 1);
		}
	}
	return d->issue(w, now);
}

static long closed_target(const struct http_worker *w, uint64_t now)
{
	const struct http_engine_options *o = w->o;
	double t = (double)(now - w->step->t0) / 1e9, total = 0;

	if (!o->n_cstages)
		return w->target;
	for (size_t i = 0; i < o->n_cstages; i++) {
		const struct http_engine_cstage *g = &o->cstages[i];

		if (t < total + g->duration) {
			double c = g->start + (g->end - g->start) * (t - total) / g->duration;
			/* this worker's share, rounded so that the shares add up */
			double k = (double)w->global, all = (double)w->all;
			double share = c * (k + 1) / all - c * k / all;
			return (long)(share + 0.5);
		}
		total += g->duration;
	}
	return 0;
}

/* Closed loop: give s (idle or free) a request if the loop wants one.
 * Returns whether it did. */
static bool issue_closed(struct http_worker *w, struct http_slot *s, uint64_t now)
{
	int m;

	if (w->issuing_done || w->busy >= closed_target(w, now))
		return false;
	m = classify_send(w, now);
	if (m < 0 || (w->o->n_cstages && closed_target(w, now) == 0 && now >= w->step->window_end)) {
		w->issuing_done = true;
		return false;
	}
	start_request(w, s, now, m == 1);
	return true;
}

static void fill_closed_at(struct http_worker *w, uint64_t now)
{
	while (!w->issuing_done && w->busy < closed_target(w, now)) {
		struct http_slot *s = w->n_idle ? w->idle[w->n_idle - 1] : http_engine_slot_new(w);

		if (!s || !issue_closed(w, s, now))
			return;
	}
}

void http_engine_refill(struct http_worker *w)
{
	if (!w->o->open_loop && !w->o->driver)
		fill_closed_at(w, now_ns());
}

void http_engine_slot_ready(struct http_worker *w, struct http_slot *s)
{
	if (w->o->open_loop || w->o->driver || !w->running || !issue_closed(w, s, now_ns()))
		idle_push(w, s);
}

/* The worker's sample of a measured request, for resilience. */
static void keep_sample(struct http_worker *w, const struct http_slot *s, bool ok, uint64_t t_end)
{
	struct http_worker_samples *v = &w->samples;

	if (!w->o->keep_samples || !s->measured || s->job)
		return;
	XGROW(v->v, v->alloc, v->n + 1);
	v->v[v->n].t = s->t_sched > w->step->window_start ? s->t_sched - w->step->window_start : 0;
	v->v[v->n++].latency = ok ? t_end - s->t_sched : HTTP_RESILIENCE_FAILED;
}

void http_engine_slot_done(struct http_worker *w, struct http_slot *s, bool ok, bool keep, int e, uint64_t t_end)
{
	s->has_req = false;
	w->busy--;
	keep_sample(w, s, ok, t_end);
	if (!keep && s->open)
		w->t->close(w, s);
	if (s->job) {
		void *job = s->job;

		s->job = NULL;
		if (s->open)
			idle_push(w, s);
		w->o->driver->done(w, s, job, ok ? -1 : e, t_end);
		return;
	}
	if (!w->o->open_loop && ok) {
		/* A success reuses its slot at once; after a failure the loop's
		 * fill_closed() sends the next request, so that a server
		 * refusing every connect cannot recurse through here. */
		if (!issue_closed(w, s, t_end) && s->open)
			idle_push(w, s);
	} else if (s->open) {
		idle_push(w, s);
	}
}

/* ---- the worker ---- */

static void scan_timeouts(struct http_worker *w, uint64_t now)
{
	if (!w->t->expire)
		return;
	for (size_t i = 0; i < w->n_slots; i++) {
		struct http_slot *s = &w->slots[i];

		if (s->has_req && now >= s->deadline)
			w->t->expire(w, s);
	}
}

static void sleep_until(uint64_t t)
{
	struct timespec at = { (time_t)(t / 1000000000ULL), (long)(t % 1000000000ULL) };

	while (clock_nanosleep(CLOCK_MONOTONIC, TIMER_ABSTIME, &at, NULL) == EINTR)
		;
}

/* Workers: arrive at the gate and wait for it to open; false when the
 * step was cancelled. */
static bool gate_pass(struct http_step *st)
{
	bool go;

	pthread_mutex_lock(&st->lock);
	st->arrived++;
	pthread_cond_broadcast(&st->cond);
	while (st->go == 0)
		pthread_cond_wait(&st->cond, &st->lock);
	go = st->go > 0;
	pthread_mutex_unlock(&st->lock);
	return go;
}

static void gate_wait_arrived(struct http_step *st, size_t n)
{
	pthread_mutex_lock(&st->lock);
	while (st->arrived < n)
		pthread_cond_wait(&st->cond, &st->lock);
	pthread_mutex_unlock(&st->lock);
}

static void gate_open(struct http_step *st, int go)
{
	pthread_mutex_lock(&st->lock);
	st->go = go;
	pthread_cond_broadcast(&st->cond);
	pthread_mutex_unlock(&st->lock);
}

/* Open loop: SCHED_FIFO when the options ask for it (engine.h says why). */
static void worker_realtime(struct http_worker *w)
{
	/* A runnable SCHED_OTHER thread may wait milliseconds for its CPU on
	 * a busy machine (docs/performance.md); a SCHED_FIFO one preempts
	 * every such thread at once.  The loop sleeps between sends (it polls
	 * only for the last SPIN_NS before one), so it takes no more CPU than
	 * before, and the kernel's RT throttling bounds it anyway.  Refused,
	 * it runs as it would have. */
	struct sched_param sp = { .sched_priority = 1 };

	w->sched_errno = pthread_setschedparam(pthread_self(), SCHED_FIFO, &sp);
	w->fifo = w->sched_errno == 0;
}

/* How many connections to open before the clock starts. */
static size_t initial_connections(const struct http_worker *w)
{
	const struct http_engine_options *o = w->o;
	double peak = 0;
	size_t n;

	if (!o->open_loop)
		return (size_t)w->target;
	if (o->connections)
		return w->cap_slots;
	/* Enough for 10 ms of the peak rate, so that connecting does not make
	 * the first seconds late; more are opened on demand. */
	for (size_t i = 0; i < o->n_segments; i++)
		peak = fmax(peak, fmax(o->segments[i].rate_start, o->segments[i].rate_end));
	n = (size_t)fmax(8, ceil(peak / (double)w->all * 0.01));
	return n > w->cap_slots ? w->cap_slots : n;
}

/* The most requests outstanding in each time-series interval. */
static void note_inflight(struct http_worker *w, uint64_t now, uint64_t *interval_end, uint64_t *noted)
{
	if (now >= *interval_end) {
		uint64_t iv = w->o->ts_interval ? w->o->ts_interval : 1000000000ULL;

		*interval_end = w->step->t0 + ((now - w->step->t0) / iv + 1) * iv;
		*noted = 0;
	}
	if ((uint64_t)w->busy > *noted) {
		struct http_worker_ts *t = http_engine_ts_at(w, now);

		*noted = (uint64_t)w->busy;
		if (*noted > t->inflight_max)
			t->inflight_max = *noted;
	}
}

/* When the loop must next look up: the next timeout scan, the next send
 * (if a slot is free for it), the next stage change, the transport's
 * timer (tick_at, 0: none). */
static uint64_t loop_wake(const struct http_worker *w, uint64_t now, uint64_t next_scan, uint64_t tick_at)
{
	const struct http_engine_options *o = w->o;
	uint64_t wake = next_scan;

	if (o->open_loop && !w->issuing_done && w->next_t < wake &&
	    (o->driver || (w->busy < w->max_inflight && (w->n_idle || w->n_slots < w->cap_slots))))
		wake = w->next_t;
	if (!o->open_loop && o->n_cstages && now + STAGE_NS < wake)
		wake = now + STAGE_NS;
	if (tick_at && tick_at < wake)
		wake = tick_at > now ? tick_at : now;
	return wake;
}

/* Wait for events until `wake` (at once when it is near); <0 on error. */
static int loop_wait(struct http_worker *w, struct epoll_event *evs, uint64_t now, uint64_t wake)
{
	struct timespec tmo = { 0, 0 };

	if (wake > now + SPIN_NS) {
		tmo.tv_sec = (time_t)((wake - now) / 1000000000ULL);
		tmo.tv_nsec = (long)((wake - now) % 1000000000ULL);
	}
	return epoll_pwait2(w->ep, evs, MAX_EVENTS, &tmo, NULL);
}

/* Issue and complete requests until issuing is over and none is left. */
static void worker_loop(struct http_worker *w)
{
	const struct http_engine_options *o = w->o;
	struct epoll_event evs[MAX_EVENTS];
	uint64_t next_scan = now_ns() + SCAN_NS, interval_end = 0, inflight_noted = 0;

	w->running = true;
	if (o->open_loop) {
		uint64_t first = http_schedule_next(w->sched);

		w->issuing_done = first == SCHED_END;
		w->next_t = w->step->t0 + first;
	} else if (!o->driver && !o->n_cstages && w->target == 0) {
		/* More workers than the concurrency (threads, or shards): this
		 * one has no share, and would otherwise wait for the window's
		 * end, or forever in requests mode. */
		w->issuing_done = true;
	}
	/* A worker error (w->rc: a system call failed) ends the loop: the step
	 * returns it instead of a result. */
	while (!w->rc) {
		uint64_t now = now_ns(), tick_at = 0, drive_at = 0;
		int n;

		if (o->driver)
			drive_at = drive(w, now);
		else if (o->open_loop)
			issue_open(w, now);
		else
			fill_closed_at(w, now); /* read just above: one clock read per pass */
		if (!o->open_loop && !w->issuing_done && !o->requests && now >= w->step->window_end &&
		    (!o->n_cstages || closed_target(w, now) == 0))
			w->issuing_done = true;
		if (w->t->tick)
			tick_at = w->t->tick(w, now);
		if (drive_at && (!tick_at || drive_at < tick_at))
			tick_at = drive_at;
		if (now >= next_scan) {
			scan_timeouts(w, now);
			next_scan = now + SCAN_NS;
		}
		note_inflight(w, now, &interval_end, &inflight_noted);
		if ((w->issuing_done && w->busy == 0 && (!o->driver || o->driver->active(w) == 0)) || w->rc)
			break;
		n = loop_wait(w, evs, now, loop_wake(w, now, next_scan, tick_at));
		if (n < 0 && errno != EINTR)
			http_engine_worker_fail(w, ERR_FAIL, "epoll_pwait2: %s", strerror(errno));
		for (int i = 0; i < n; i++)
			w->t->event(w, evs[i].data.ptr, evs[i].events);
	}
}

static void *worker_main(void *arg)
{
	struct http_worker *w = arg;

	/* Best effort: without it a sleep may overshoot by the default 50 us
	 * of slack, which the lateness figures then show. */
	(void)prctl(PR_SET_TIMERSLACK, 1UL, 0, 0, 0);
	if (w->o->open_loop && w->o->realtime)
		worker_realtime(w);
	/* The first connections open before the clock starts. */
	if (w->t->preconnect)
		w->t->preconnect(w, initial_connections(w));
	if (gate_pass(w->step)) {
		struct timespec cpu0, cpu1;
		uint64_t wall0;
		double cpu, wall;

		sleep_until(w->step->t0); /* start together */
		clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu0);
		wall0 = now_ns();
		worker_loop(w);
		clock_gettime(CLOCK_THREAD_CPUTIME_ID, &cpu1);
		cpu = (double)(cpu1.tv_sec - cpu0.tv_sec) + (double)(cpu1.tv_nsec - cpu0.tv_nsec) / 1e9;
		wall = (double)(now_ns() - wall0) / 1e9;
		w->r.cpu_util_max = wall > 0 ? cpu / wall : 0;
	}
	if (w->rec)
		http_records_flush(w->rec);
	for (size_t i = 0; i < w->n_slots; i++)
		w->t->slot_release(w, &w->slots[i]);
	w->t->worker_close(w);
	return NULL;
}

/* ---- the step ---- */

void http_engine_result_init(struct http_engine_result *r, bool sse)
{
	memset(r, 0, sizeof(*r));
	r->latency = hist_new(3);
	r->service_time = hist_new(3);
	r->lateness = hist_new(3);
	r->ttfb = hist_new(3);
	if (sse) {
		r->ttft = hist_new(3);
		r->tpot = hist_new(3);
		r->itl = hist_new(3);
	}
	r->one_token_events = true;
}

/* A step's result (or a worker's share) for the plan: an LLM workload's
 * accounting too. */
static void result_init(struct http_engine_result *r, const struct http_plan *p)
{
	http_engine_result_init(r, p->sse);
	if (p->llm)
		r->llm = http_llm_result_new(p, p->sse);
}

void http_engine_result_release(struct http_engine_result *r)
{
	hist_free(r->latency);
	hist_free(r->service_time);
	hist_free(r->lateness);
	hist_free(r->ttfb);
	hist_free(r->ttft);
	hist_free(r->tpot);
	hist_free(r->itl);
	http_llm_result_free(r->llm);
	for (size_t i = 0; r->ts_lat && i < r->n_ts; i++)
		hist_free(r->ts_lat[i]);
	free(r->ts_lat);
	free(r->ts);
	free(r->samples);
	memset(r, 0, sizeof(*r));
}

void http_engine_result_merge(struct http_engine_result *d, const struct http_engine_result *s)
{
	hist_merge(d->latency, s->latency, NULL);
	hist_merge(d->service_time, s->service_time, NULL);
	hist_merge(d->lateness, s->lateness, NULL);
	hist_merge(d->ttfb, s->ttfb, NULL);
	if (d->ttft && s->ttft) {
		hist_merge(d->ttft, s->ttft, NULL);
		hist_merge(d->tpot, s->tpot, NULL);
		hist_merge(d->itl, s->itl, NULL);
	}
	d->sent += s->sent;
	d->scheduled += s->scheduled;
	d->ok += s->ok;
	d->failed += s->failed;
	for (int e = 0; e < EE_N; e++) {
		d->errors[e] += s->errors[e];
		if (!d->first_error[e][0])
			memcpy(d->first_error[e], s->first_error[e], sizeof(d->first_error[e]));
	}
	d->ok_in_window += s->ok_in_window;
	d->sent_in_window += s->sent_in_window;
	d->goodput_ok += s->goodput_ok;
	d->late_1ms += s->late_1ms;
	d->blocked += s->blocked;
	d->interim += s->interim;
	d->proto_h1 += s->proto_h1;
	d->proto_h2 += s->proto_h2;
	d->warmup_requests += s->warmup_requests;
	d->bytes_in += s->bytes_in;
	d->bytes_out += s->bytes_out;
	d->tokens += s->tokens;
	d->tok_usage += s->tok_usage;
	d->tok_events += s->tok_events;
	d->one_token_events = d->one_token_events && s->one_token_events;
	http_llm_merge(d->llm, s->llm);
	if (s->cpu_util_max > d->cpu_util_max)
		d->cpu_util_max = s->cpu_util_max;
	d->connections_opened += s->connections_opened;
}

/* The workers' time series, interval by interval. */
static void merge_ts(struct http_engine_result *out, const struct http_worker *ws, long threads, bool keep_hist)
{
	size_t n_ts = 0;

	for (long i = 0; i < threads; i++)
		if (ws[i].n_ts > n_ts)
			n_ts = ws[i].n_ts;
	out->ts = xcalloc(n_ts ? n_ts : 1, sizeof(*out->ts));
	out->n_ts = n_ts;
	if (keep_hist)
		out->ts_lat = xcalloc(n_ts ? n_ts : 1, sizeof(*out->ts_lat));
	for (size_t k = 0; k < n_ts; k++) {
		struct hist *lat = hist_new(2);

		for (long i = 0; i < threads; i++) {
			if (k >= ws[i].n_ts)
				continue;
			out->ts[k].sent += ws[i].ts[k].sent;
			out->ts[k].ok += ws[i].ts[k].ok;
			out->ts[k].errors += ws[i].ts[k].errors;
			out->ts[k].inflight_max += ws[i].ts[k].inflight_max;
			if (ws[i].ts[k].lat)
				hist_merge(lat, ws[i].ts[k].lat, NULL);
		}
		out->ts[k].p50 = hist_percentile(lat, 50);
		out->ts[k].p95 = hist_percentile(lat, 95);
		out->ts[k].p99 = hist_percentile(lat, 99);
		if (out->ts_lat && hist_count(lat))
			out->ts_lat[k] = lat;
		else
			hist_free(lat);
	}
}

/* The step's result from the workers' shares; the first worker error. */
static int merge_workers(struct http_engine_result *out, const struct http_worker *ws, long threads,
			 const struct http_step *st, const struct http_engine_options *o, struct err *err)
{
	uint64_t last = 0;
	bool all_fifo = true;
	int rc = 0;

	for (long i = 0; i < threads; i++) {
		all_fifo = all_fifo && ws[i].fifo;
		if (ws[i].sched_errno && !out->sched_refused[0])
			snprintf(out->sched_refused, sizeof(out->sched_refused), "%s", strerror(ws[i].sched_errno));
		http_engine_result_merge(out, &ws[i].r);
		if (ws[i].last_t_end > last)
			last = ws[i].last_t_end;
		if (ws[i].rc && !rc) {
			rc = ws[i].rc;
			memcpy(err, &ws[i].err, sizeof(*err));
		}
		if (ws[i].samples.n) {
			out->samples = xrealloc(out->samples, (out->n_samples + ws[i].samples.n) * sizeof(*out->samples));
			memcpy(out->samples + out->n_samples, ws[i].samples.v, ws[i].samples.n * sizeof(*out->samples));
			out->n_samples += ws[i].samples.n;
		}
	}
	out->sched_policy = all_fifo ? "fifo" : "other";
	out->t0 = st->t0;
	if (o->requests)
		out->window = last > st->window_start ? (double)(last - st->window_start) / 1e9 : 0;
	else
		out->window = (double)(st->window_end - st->window_start) / 1e9; /* the duration, or less when it converged */
	merge_ts(out, ws, threads, o->keep_ts_hist);
	return rc;
}

/* Worker idx of part `part` among all workers of every part: round robin
 * over the parts first, so that what does not divide evenly spreads over
 * the parts (each gets total / parts, or one more). */
static size_t global_index(size_t idx, unsigned part, unsigned parts)
{
	return parts > 1 ? idx * parts + part : idx;
}

long http_engine_share(long total, long threads, size_t idx, unsigned part, unsigned parts)
{
	long all = threads * (parts > 1 ? (long)parts : 1);
	long k = (long)global_index(idx, part, parts);

	return total / all + (k < total % all);
}

/* Worker i's share of the step, its schedule, slots and transport state. */
static int worker_init(struct http_worker *w, long i, long threads, const struct http_engine_options *o,
		       struct err *err)
{
	long max_total = o->max_inflight > 0 ? o->max_inflight : 1024;
	long all = threads * (o->part_count > 1 ? (long)o->part_count : 1);
	long g = (long)global_index((size_t)i, o->part_index, o->part_count);
	int rc;

	w->idx = (size_t)i;
	w->global = (size_t)g;
	w->all = (size_t)all;
	w->rec = o->records ? http_records_local(o->records, (size_t)i) : NULL;
	result_init(&w->r, o->plan);
	if (o->open_loop) {
		struct http_schedule_options so = HTTP_SCHEDULE_OPTIONS_INIT;
		long conns = o->connections > 0 ? o->connections : max_total;

		/* this worker's share of connections and of the in-flight bound */
		w->cap_slots = (size_t)http_engine_share(conns, threads, (size_t)i, o->part_index, o->part_count);
		w->max_inflight = http_engine_share(max_total, threads, (size_t)i, o->part_index, o->part_count);
		if (w->cap_slots < 1)
			w->cap_slots = 1;
		if (w->max_inflight < 1)
			w->max_inflight = 1;
		so.arrival = o->arrival;
		so.burstiness = o->burstiness;
		so.seed = o->seed;
		so.segments = o->segments;
		so.n_segments = o->n_segments;
		so.share = 1.0 / (double)all;
		so.index = (size_t)g;
		so.times = o->times;
		so.n_times = o->n_times;
		so.stride = (size_t)all;
		if ((rc = http_schedule_open(&w->sched, &so, err)) != 0)
			return rc;
	} else {
		long maxc = o->concurrency;

		for (size_t k = 0; k < o->n_cstages; k++)
			maxc = (long)fmax((double)maxc, fmax(o->cstages[k].start, o->cstages[k].end) + 0.999);
		w->cap_slots = (size_t)http_engine_share(maxc, threads, (size_t)i, o->part_index, o->part_count);
		w->target = http_engine_share(o->concurrency, threads, (size_t)i, o->part_index, o->part_count);
		w->max_inflight = (long)w->cap_slots;
	}
	w->slots = xcalloc(w->cap_slots ? w->cap_slots : 1, sizeof(*w->slots));
	w->idle = xcalloc(w->cap_slots ? w->cap_slots : 1, sizeof(*w->idle));
	if ((w->ep = epoll_create1(EPOLL_CLOEXEC)) < 0)
		return err_sys(err, ERR_FAIL, "epoll_create1");
	if (o->driver && (rc = o->driver->worker_open(w, err)) != 0)
		return rc;
	return w->t->worker_open(w, err);
}

static void worker_release(struct http_worker *w)
{
	w->t->worker_close(w);
	for (size_t k = 0; k < w->n_slots; k++)
		http_request_slot_release(&w->slots[k]);
	for (size_t k = 0; k < w->n_ts; k++)
		hist_free(w->ts[k].lat);
	free(w->ts);
	free(w->samples.v);
	free(w->slots);
	free(w->idle);
	http_schedule_free(w->sched);
	http_engine_result_release(&w->r);
	if (w->ep >= 0)
		close(w->ep);
}

/* Look at the converging metric every sub-window until it has converged
 * (then the window ends now: the workers stop issuing) or the window's
 * end. */
static void converge_wait(struct http_step *st, const struct http_engine_options *o)
{
	uint64_t step = (uint64_t)llround(o->converge->interval * 1e9);

	for (;;) {
		uint64_t now = now_ns(), next = now + step;

		if (next > st->window_end)
			next = st->window_end;
		sleep_until(next);
		now = now_ns();
		if (now >= st->window_end)
			return;
		if (http_converge_check(st->conv, now)) {
			st->window_end = now;
			return;
		}
	}
}

/* Start the workers, open the gate at t0 together, tell the caller when
 * the measured window opens and closes, and wait for them. */
static int workers_run(struct http_worker *ws, long threads, struct http_step *st, const struct http_engine_options *o,
		       struct err *err)
{
	long started = 0;
	int rc = 0;

	for (; started < threads; started++) {
		int e = pthread_create(&ws[started].thread, NULL, worker_main, &ws[started]);

		if (e != 0) {
			rc = err_set(err, ERR_FAIL, "cannot start worker thread %ld: %s", started, strerror(e));
			break;
		}
	}
	if (rc == 0) {
		gate_wait_arrived(st, (size_t)threads);
		st->t0 = now_ns() + 1000000ULL; /* a millisecond after the gate */
		if (o->start_at > st->t0)
			st->t0 = o->start_at;
		st->window_start = st->t0 + o->warmup;
		st->window_end = o->requests ? UINT64_MAX : st->window_start + o->duration;
		if (o->window_start)
			*o->window_start = st->window_start;
		if (o->records)
			http_records_step(o->records, o->records_bench, o->records_step, st->t0, (size_t)threads);
		if (o->converge)
			st->conv = http_converge_new(o->converge, (size_t)threads, st->window_start);
	}
	/* The started workers stop at once when the step is cancelled. */
	gate_open(st, rc == 0 ? 1 : -1);
	if (rc == 0 && o->on_window) {
		sleep_until(st->window_start);
		o->on_window(o->window_arg, true);
	}
	if (rc == 0 && st->conv)
		converge_wait(st, o);
	else if (rc == 0 && o->on_window && !o->requests)
		sleep_until(st->window_end);
	for (long i = 0; i < started; i++)
		pthread_join(ws[i].thread, NULL);
	if (rc == 0 && o->on_window)
		o->on_window(o->window_arg, false);
	return rc;
}

/* Resolve the target once for every worker. */
static int step_resolve(struct http_step *st, const struct http_plan *p, struct addrinfo **ai, struct err *err)
{
	struct addrinfo hints;
	int gai;

	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	gai = getaddrinfo(p->host, p->port, &hints, ai);
	if (gai != 0)
		return err_set(err, ERR_RUN, "cannot resolve '%s': %s", p->host, gai_strerror(gai));
	st->addr = (*ai)->ai_addr;
	st->addrlen = (*ai)->ai_addrlen;
	return 0;
}

int http_engine_run(const struct http_engine_options *o, struct http_engine_result *out, struct err *err)
{
	struct addrinfo *ai = NULL;
	struct http_step st;
	struct http_worker *ws = NULL;
	const struct http_transport *t = NULL;
	long threads = o->threads > 0 ? o->threads : 1, n_init = 0;
	int rc;

	memset(out, 0, sizeof(*out));
	memset(&st, 0, sizeof(st));
	atomic_init(&st.measured_issued, 0);
	/* static initialisers: nothing to fail */
	st.lock = (pthread_mutex_t)PTHREAD_MUTEX_INITIALIZER;
	st.cond = (pthread_cond_t)PTHREAD_COND_INITIALIZER;
	if ((rc = transport_pick(o, &t, err)) != 0)
		return rc;
	if (threads > MAX_THREADS)
		return err_set(err, ERR_INPUT, "threads: at most %d", MAX_THREADS);
	if (!o->open_loop && o->concurrency < 1 && !o->n_cstages)
		return err_set(err, ERR_INPUT, "concurrency must be >= 1");
	if ((rc = step_resolve(&st, o->plan, &ai, err)) != 0)
		goto done;
	result_init(out, o->plan);
	out->engine = t->name;
	out->sched_policy = "other";
	out->ts_interval = o->ts_interval ? o->ts_interval : 1000000000ULL;
	ws = xcalloc((size_t)threads, sizeof(*ws));
	for (; n_init < threads; n_init++) {
		struct http_worker *w = &ws[n_init];

		w->o = o;
		w->plan = o->plan;
		w->t = t;
		w->step = &st;
		w->ep = -1;
		if ((rc = worker_init(w, n_init, threads, o, err)) != 0) {
			n_init++; /* released below with the others */
			goto done;
		}
	}
	if ((rc = workers_run(ws, threads, &st, o, err)) == 0)
		rc = merge_workers(out, ws, threads, &st, o, err);
	if (rc == 0 && st.conv) {
		out->converge_asked = true;
		http_converge_outcome(st.conv, &out->converge);
	}
done:
	http_converge_free(st.conv);
	for (long i = 0; i < n_init; i++)
		worker_release(&ws[i]);
	free(ws);
	pthread_cond_destroy(&st.cond);
	pthread_mutex_destroy(&st.lock);
	if (ai)
		freeaddrinfo(ai);
	if (rc)
		http_engine_result_release(out);
	return rc;
}
