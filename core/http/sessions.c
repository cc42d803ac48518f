/*
 * sessions.c: multi-turn chat sessions as an engine driver (see
 * sessions.h).
 *
 * Each worker keeps its sessions: those waiting for their next turn in a
 * min-heap by due time, those with a turn in flight aside.  issue() sends
 * every due turn it can (a turn that finds no free slot stays due, and is
 * late when it goes); done() takes the reply into the history and sets the
 * next turn's due time to the reply's end plus a think time.
 */
#include "sessions.h"

#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_rng.h>

#include "../util.h"
#include "dataset.h"
#include "llm.h"
#include "openai.h"
#include "plan.h"
#include "prompts.h"
#include "transport.h"
#include "workload.h"

struct sess {
	struct http_llm_job job;  /* first: request.c and llm.c read it through slot->job */
	uint32_t cls;
	const struct http_dataset_conv *conv; /* a dataset's conversation, or NULL (synthetic) */
	uint32_t next;            /* dataset: the turn index to look for the next user turn from */
	uint32_t sent, n_turns;   /* turns sent; turns it has */
	cJSON *messages;          /* the history */
	cJSON *pending;           /* the user message of the turn in flight */
	uint64_t due;             /* ns: the next turn's intended send */
	bool measured;
	struct http_wire wire;    /* the turn in flight */
	size_t heap_pos;
};

struct sess_worker {
	struct sess **heap;       /* waiting for their next turn, by due */
	size_t n_heap, alloc_heap;
	size_t active;            /* started, not finished */
	uint64_t started;         /* sessions started by this worker */
	gsl_rng *rng;
	/* what happened, merged at the end */
	uint64_t completed, failed, cut, turns;
};

struct http_sessions {
	const struct http_workload *wl;
	const struct http_plan *plan;
	struct sess_worker *ws;
	size_t n_ws;
	double total_weight;
};

int http_sessions_open(struct http_sessions **out, const struct http_workload *wl, const struct http_plan *p,
		       long threads, uint64_t seed, struct err *err)
{
	struct http_sessions *s = xcalloc(1, sizeof(*s));

	(void)err;
	s->wl = wl;
	s->plan = p;
	s->n_ws = threads > 0 ? (size_t)threads : 1;
	s->ws = xcalloc(s->n_ws, sizeof(*s->ws));
	for (size_t i = 0; i < s->n_ws; i++) {
		s->ws[i].rng = gsl_rng_alloc(gsl_rng_mt19937);
		gsl_rng_set(s->ws[i].rng, (unsigned long)(seed * 7919 + i + 1));
	}
	for (size_t i = 0; i < wl->n_classes; i++)
		s->total_weight += wl->classes[i].weight;
	*out = s;
	return 0;
}

static void sess_free(struct sess *x)
{
	cJSON_Delete(x->messages);
	cJSON_Delete(x->pending);
	free(x->wire.data);
	free(x);
}

void http_sessions_free(struct http_sessions *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n_ws; i++) {
		for (size_t k = 0; k < s->ws[i].n_heap; k++)
			sess_free(s->ws[i].heap[k]);
		free(s->ws[i].heap);
		gsl_rng_free(s->ws[i].rng);
	}
	free(s->ws);
	free(s);
}

cJSON *http_sessions_describe(const struct http_sessions *s)
{
	cJSON *o = cJSON_CreateObject();
	uint64_t started = 0, completed = 0, failed = 0, cut = 0, turns = 0;

	for (size_t i = 0; i < s->n_ws; i++) {
		started += s->ws[i].started;
		completed += s->ws[i].completed;
		failed += s->ws[i].failed;
		cut += s->ws[i].cut;
		turns += s->ws[i].turns;
	}
	cJSON_AddNumberToObject(o, "started", (double)started);
	cJSON_AddNumberToObject(o, "completed", (double)completed);
	cJSON_AddNumberToObject(o, "ended_by_failure", (double)failed);
	cJSON_AddNumberToObject(o, "ended_by_window", (double)cut);
	cJSON_AddNumberToObject(o, "turns", (double)turns);
	return o;
}

/* ---- the heap of waiting sessions ---- */

static bool before(const struct sess *a, const struct sess *b)
{
	return a->due < b->due;
}

static void heap_swap(struct sess_worker *sw, size_t i, size_t j)
{
	struct sess *t = sw->heap[i];

	sw->heap[i] = sw->heap[j];
	sw->heap[j] = t;
	sw->heap[i]->heap_pos = i;
	sw->heap[j]->heap_pos = j;
}

static void heap_push(struct sess_worker *sw, struct sess *x)
{
	size_t i = sw->n_heap;

	XGROW(sw->heap, sw->alloc_heap, sw->n_heap + 1);
	sw->heap[sw->n_heap++] = x;
	x->heap_pos = i;
	while (i > 0 && before(sw->heap[i], sw->heap[(i - 1) / 2])) {
		heap_swap(sw, i, (i - 1) / 2);
		i = (i - 1) / 2;
	}
}

static struct sess *heap_pop(struct sess_worker *sw)
{
	struct sess *top = sw->heap[0];
	size_t i = 0;

	sw->heap[0] = sw->heap[--sw->n_heap];
	sw->heap[0]->heap_pos = 0;
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;

		if (l < sw->n_heap && before(sw->heap[l], sw->heap[m]))
			m = l;
		if (r < sw->n_heap && before(sw->heap[r], sw->heap[m]))
			m = r;
		if (m == i)
			break;
		heap_swap(sw, i, m);
		i = m;
	}
	return top;
}

/* ---- one session ---- */

static uint32_t pick_class(const struct http_sessions *s, gsl_rng *r)
{
	double u = gsl_rng_uniform(r) * s->total_weight;
	uint32_t c = 0;

	while (c + 1 < s->wl->n_classes && u >= s->wl->classes[c].weight) {
		u -= s->wl->classes[c].weight;
		c++;
	}
	return c;
}

static void add_message(cJSON *messages, const char *role, const char *content)
{
	cJSON *m = cJSON_CreateObject();

	cJSON_AddStringToObject(m, "role", role);
	cJSON_AddStringToObject(m, "content", content);
	cJSON_AddItemToArray(messages, m);
}

/* The system message a session opens with: the shared prefix and the
 * conversation's own system turns, joined as a single-turn request's. */
static void opening(struct sess *x, const struct http_wl_class *c)
{
	const char *prefix = c->prefixes ? c->prefix[(uint64_t)x->job.session % (uint64_t)c->prefixes] : NULL;
	struct sb system = SB_INIT, both = SB_INIT;

	for (uint32_t t = 0; x->conv && t < x->conv->n_turns && x->conv->turns[t].role == HTTP_ROLE_SYSTEM; t++) {
		sb_puts(&system, system.len ? "\n" : "");
		sb_puts(&system, x->conv->turns[t].text);
		x->next = t + 1;
	}
	if (prefix && system.len)
		http_prompts_join(&both, prefix, sb_str(&system));
	else if (prefix || system.len)
		sb_puts(&both, prefix ? prefix : sb_str(&system));
	if (both.len)
		add_message(x->messages, "system", sb_str(&both));
	sb_release(&system);
	sb_release(&both);
}

static uint32_t user_turns(const struct http_dataset_conv *cv)
{
	uint32_t n = 0;

	for (uint32_t t = 0; t < cv->n_turns; t++)
		n += cv->turns[t].role == HTTP_ROLE_USER;
	return n;
}

static void arrive(struct http_worker *w, uint64_t t_sched, bool measured)
{
	struct http_sessions *s = w->o->driver_arg;
	struct sess_worker *sw = &s->ws[w->idx];
	struct sess *x = xcalloc(1, sizeof(*x));
	const struct http_wl_class *c;
	uint64_t n;

	x->job.session = (long)(sw->started++ * s->n_ws + w->idx);
	x->cls = pick_class(s, sw->rng);
	c = &s->wl->classes[x->cls];
	x->job.meta.cls = x->cls;
	x->job.meta.input_tokens = -1;
	x->measured = measured;
	x->due = t_sched;
	x->messages = cJSON_CreateArray();
	if (c->dataset) {
		x->conv = http_dataset_get(c->dataset, (size_t)x->job.session % http_dataset_count(c->dataset));
		n = user_turns(x->conv);
	} else {
		n = (uint64_t)http_lengths_sample(&c->turns, sw->rng);
	}
	if (c->max_turns && n > (uint64_t)c->max_turns)
		n = (uint64_t)c->max_turns;
	x->n_turns = (uint32_t)(n ? n : 1);
	opening(x, c);
	sw->active++;
	heap_push(sw, x);
}

/* The next user message and its max_tokens. */
static cJSON *next_turn(const struct http_sessions *s, struct sess *x, gsl_rng *r, long *max_tokens)
{
	const struct http_wl_class *c = &s->wl->classes[x->cls];
	cJSON *m = cJSON_CreateObject();
	long out = -1;

	cJSON_AddStringToObject(m, "role", "user");
	if (x->conv) {
		const struct http_dataset_conv *cv = x->conv;
		uint32_t t = x->next;

		while (t < cv->n_turns && cv->turns[t].role != HTTP_ROLE_USER)
			t++;
		cJSON_AddStringToObject(m, "content", t < cv->n_turns ? cv->turns[t].text : "");
		if (c->output_from_data)
			out = t + 1 < cv->n_turns && cv->turns[t + 1].role == HTTP_ROLE_ASSISTANT
				      ? (long)http_dataset_estimate_tokens(cv->turns[t + 1].len) : 128;
		x->next = t + 1;
	} else {
		struct sb words = SB_INIT;

		http_prompts_words(&words, r, (size_t)http_lengths_sample(&c->input, r));
		cJSON_AddStringToObject(m, "content", sb_str(&words));
		sb_release(&words);
	}
	if (out < 0)
		out = http_lengths_sample(&c->output, r);
	*max_tokens = out > 0 ? out : 1;
	return m;
}

/* The request of the session's next turn: its history, then the user. */
static void build_turn(const struct http_sessions *s, struct sess *x, gsl_rng *r)
{
	const struct http_wl_class *c = &s->wl->classes[x->cls];
	long max_tokens;
	char *body;

	x->pending = next_turn(s, x, r, &max_tokens);
	cJSON_AddItemToArray(x->messages, x->pending);
	body = http_workload_body(c, x->messages, NULL, max_tokens);
	/* The history keeps the user message only once its reply is in. */
	cJSON_DetachItemViaPointer(x->messages, x->pending);
	http_plan_wire(s->plan, c->target, body, strlen(body), &x->wire);
	free(body);
	x->job.turn = (long)x->sent + 1;
	x->job.meta.output_tokens = max_tokens;
}

static void end_session(struct sess_worker *sw, struct sess *x)
{
	sw->active--;
	sess_free(x);
}

/* ---- the driver ---- */

static int worker_open(struct http_worker *w, struct err *err)
{
	(void)w;
	(void)err;
	return 0;
}

static uint64_t issue(struct http_worker *w, uint64_t now)
{
	struct http_sessions *s = w->o->driver_arg;
	struct sess_worker *sw = &s->ws[w->idx];

	while (sw->n_heap && sw->heap[0]->due <= now) {
		struct sess *x = sw->heap[0];

		if (x->due >= w->step->window_end) {
			/* due after the measured window: the session ends here */
			heap_pop(sw);
			sw->cut++;
			end_session(sw, x);
			continue;
		}
		if (!x->wire.data)
			build_turn(s, x, sw->rng);
		if (!http_engine_send(w, 0, w->step->addr, w->step->addrlen, s->plan, &x->wire, &w->r, x, x->due,
				      x->measured))
			break; /* no free slot: it stays due, and will be late */
		heap_pop(sw);
		sw->turns++;
		x->sent++;
		if (x->measured)
			http_llm_count_issued(w->r.llm, x->cls, x->job.turn);
	}
	return sw->n_heap ? sw->heap[0]->due : 0;
}

static void done(struct http_worker *w, struct http_slot *sl, void *job, int e, uint64_t t_end)
{
	struct http_sessions *s = w->o->driver_arg;
	struct sess_worker *sw = &s->ws[w->idx];
	struct sess *x = job;

	free(x->wire.data);
	memset(&x->wire, 0, sizeof(x->wire));
	if (e >= 0) {
		/* a conversation cannot go on without the reply */
		sw->failed++;
		end_session(sw, x);
		return;
	}
	/* the answer as the server gave it (llm.c kept it: the stream's text,
	 * or a whole response's) */
	cJSON_AddItemToArray(x->messages, x->pending);
	x->pending = NULL;
	add_message(x->messages, "assistant", sb_str(&sl->llm.reply));
	if (x->sent >= x->n_turns) {
		sw->completed++;
		end_session(sw, x);
		return;
	}
	x->due = t_end + (uint64_t)(http_workload_think(&s->wl->classes[x->cls].think, sw->rng) * 1e9);
	heap_push(sw, x);
}

static size_t active(const struct http_worker *w)
{
	const struct http_sessions *s = w->o->driver_arg;

	return s->ws[w->idx].active;
}

const struct http_engine_driver http_sessions_driver = {
	.worker_open = worker_open,
	.arrive = arrive,
	.issue = issue,
	.done = done,
	.active = active,
};
