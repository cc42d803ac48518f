/*
 * journey.c: journeys parsed, their requests rendered, and the order of
 * their steps (see journey.h).
 */
#include "journey.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../json.h"
#include "template.h"

#define NS(s) ((uint64_t)llround((s) * 1e9))

static const char *const builtins[] = { "journey", "iteration" };

static void cond_release(struct http_journey_cond *c)
{
	free(c->var);
	cJSON_Delete(c->value);
	memset(c, 0, sizeof(*c));
}

static void step_release(struct http_journey_step *s)
{
	free(s->name);
	http_plan_free(s->plan);
	cJSON_Delete(s->body_json);
	free(s->body_text);
	http_capture_release(&s->capture);
	cond_release(&s->when);
	cond_release(&s->until);
}

void http_journey_free(struct http_journey *j)
{
	if (!j)
		return;
	for (size_t i = 0; i < j->n_steps; i++)
		step_release(&j->steps[i]);
	free(j->steps);
	cJSON_Delete(j->rows);
	free(j);
}

long http_journey_step_index(const struct http_journey *j, const char *name)
{
	for (size_t i = 0; i < j->n_steps; i++)
		if (strcmp(j->steps[i].name, name) == 0)
			return (long)i;
	return -1;
}

static bool name_ok(const char *s)
{
	if (!*s || strlen(s) > 32)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-')
			return false;
	return true;
}

/* {"var": NAME, "exists": BOOL | "equals": V | "not_equals": V} */
static void parse_cond(struct http_journey_cond *c, const cJSON *o, const char *cp, struct errlist *problems)
{
	static const char *const keys[] = { "var", "exists", "equals", "not_equals" };
	const cJSON *var = cJSON_GetObjectItemCaseSensitive(o, "var");
	const cJSON *ex = cJSON_GetObjectItemCaseSensitive(o, "exists");
	const cJSON *eq = cJSON_GetObjectItemCaseSensitive(o, "equals");
	const cJSON *ne = cJSON_GetObjectItemCaseSensitive(o, "not_equals");

	if (!cJSON_IsObject(o)) {
		json_expected(problems, cp, "a condition such as {\"var\": \"doc\", \"exists\": true}", o);
		return;
	}
	json_check_keys(o, cp, keys, ARRAY_SIZE(keys), problems);
	if (!cJSON_IsString(var) || !var->valuestring[0])
		errlist_add(problems, "%s.var: required, the name of a variable", cp);
	else
		c->var = xstrdup(var->valuestring);
	if ((ex != NULL) + (eq != NULL) + (ne != NULL) != 1) {
		errlist_add(problems, "%s: expected exactly one of \"exists\", \"equals\" or \"not_equals\"", cp);
		return;
	}
	if (ex && !cJSON_IsBool(ex))
		errlist_add(problems, "%s.exists: expected true or false", cp);
	c->op = ex ? (cJSON_IsFalse(ex) ? HTTP_JOURNEY_MISSING : HTTP_JOURNEY_EXISTS)
		   : eq ? HTTP_JOURNEY_EQUALS : HTTP_JOURNEY_NOT_EQUALS;
	if (eq || ne)
		c->value = cJSON_Duplicate(eq ? eq : ne, true);
}

bool http_journey_cond_holds(const struct http_journey_cond *c, const cJSON *vars)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(vars, c->var);

	switch (c->op) {
	case HTTP_JOURNEY_EXISTS:
		return v != NULL;
	case HTTP_JOURNEY_MISSING:
		return v == NULL;
	case HTTP_JOURNEY_EQUALS:
		return v && cJSON_Compare(v, c->value, true);
	case HTTP_JOURNEY_NOT_EQUALS:
		return !v || !cJSON_Compare(v, c->value, true);
	}
	return false;
}

/* "repeat": N | {"times": N, "interval": D} | {"until": COND, "max": N, "interval": D} */
static void parse_repeat(struct http_journey_step *s, const cJSON *r, const char *sp, struct errlist *problems)
{
	static const char *const keys[] = { "times", "until", "max", "interval" };
	char *rp = xasprintf("%s.repeat", sp);
	const cJSON *until;
	double iv = 0;
	long n = 1;
	bool times_set, max_set;

	s->repeat = 1;
	if (json_is_int(r)) {
		if (r->valuedouble < 1 || r->valuedouble > 1e6)
			errlist_add(problems, "%s: expected an integer 1..1000000", rp);
		else
			s->repeat = (long)r->valuedouble;
		goto done;
	}
	if (!cJSON_IsObject(r)) {
		json_expected(problems, rp, "a count, {\"times\": N} or {\"until\": CONDITION, \"max\": N}", r);
		goto done;
	}
	json_check_keys(r, rp, keys, ARRAY_SIZE(keys), problems);
	json_get_int(r, "times", rp, 1, &n, &times_set, problems);
	json_get_int(r, "max", rp, 1, &n, &max_set, problems);
	json_get_duration(r, "interval", rp, &iv, NULL, problems);
	s->interval = NS(iv);
	s->repeat = n;
	until = cJSON_GetObjectItemCaseSensitive(r, "until");
	if (until) {
		char *up = xasprintf("%s.until", rp);

		s->has_until = true;
		parse_cond(&s->until, until, up, problems);
		free(up);
		if (!max_set)
			errlist_add(problems, "%s.max: required with until: the most runs before the journey fails", rp);
		if (times_set)
			errlist_add(problems, "%s.times: not with until (use max)", rp);
	} else if (max_set) {
		errlist_add(problems, "%s.max: only with until (use times)", rp);
	} else if (!times_set) {
		errlist_add(problems, "%s: expected \"times\" or \"until\"", rp);
	}
done:
	free(rp);
}

/* "think": D | {"min": D, "max": D} */
static void parse_think(struct http_journey_step *s, const cJSON *step, const char *sp, struct errlist *problems)
{
	const cJSON *t = cJSON_GetObjectItemCaseSensitive(step, "think");
	double lo = 0, hi = 0;

	if (!t)
		return;
	if (cJSON_IsObject(t)) {
		static const char *const keys[] = { "min", "max" };
		char *tp = xasprintf("%s.think", sp);
		bool a, b;

		json_check_keys(t, tp, keys, ARRAY_SIZE(keys), problems);
		json_get_duration(t, "min", tp, &lo, &a, problems);
		json_get_duration(t, "max", tp, &hi, &b, problems);
		if (!a || !b)
			errlist_add(problems, "%s: expected both min and max", tp);
		else if (hi < lo)
			errlist_add(problems, "%s.max: less than min", tp);
		free(tp);
	} else if (json_get_duration(step, "think", sp, &lo, NULL, problems)) {
		hi = lo;
	}
	s->think_min = NS(lo);
	s->think_max = NS(hi);
}

/* Template names seen in a step, checked against what is known there. */
struct name_check {
	const struct http_journey *j;
	size_t step;                 /* captures of steps before it are known (and its own when it repeats) */
	const char *where;           /* JSON path of the text being checked */
	struct errlist *problems;
};

static bool captured_before(const struct name_check *nc, const char *name, size_t len)
{
	const struct http_journey_step *self = &nc->j->steps[nc->step];
	size_t last = self->repeat > 1 || self->has_until ? nc->step + 1 : nc->step;

	for (size_t i = 0; i < last; i++) {
		const struct http_capture_set *cs = &nc->j->steps[i].capture;

		for (size_t k = 0; k < cs->n; k++)
			if (strlen(cs->caps[k].name) == len && memcmp(cs->caps[k].name, name, len) == 0)
				return true;
	}
	return false;
}

static void check_name(const char *name, size_t len, void *arg)
{
	struct name_check *nc = arg;

	const cJSON *it, *row;

	for (size_t i = 0; i < ARRAY_SIZE(builtins); i++)
		if (strlen(builtins[i]) == len && memcmp(builtins[i], name, len) == 0)
			return;
	if (captured_before(nc, name, len))
		return;
	if (nc->j->dataset_unread)
		return; /* validating only: the dataset's fields are not known yet */
	row = nc->j->rows ? cJSON_GetArrayItem(nc->j->rows, 0) : NULL;
	cJSON_ArrayForEach(it, row)
		if (strlen(it->string) == len && memcmp(it->string, name, len) == 0)
			return;
	json_problem(nc->problems, "%s: {%.*s} is not a variable here: no earlier step captures it, it is not built in "
		     "(journey, iteration)%s", nc->where, (int)len, name,
		     nc->j->rows ? " and the dataset's first row has no such field" : "");
}

/* A condition's variable must be one the step can see. */
static void check_cond_var(struct http_journey *j, size_t idx, const struct http_journey_cond *c, bool has,
			   const char *sp, const char *key, struct errlist *problems)
{
	char *where;
	struct name_check nc = { .j = j, .step = idx, .problems = problems };

	if (!has || !c->var)
		return;
	where = xasprintf("%s.%s.var", sp, key);
	nc.where = where;
	check_name(c->var, strlen(c->var), &nc);
	free(where);
}

/* Templates of a step's http object: the URL's path and query, header
 * values and the body; sets s->templated, keeps the body's template. */
static void step_templates(struct http_journey *j, size_t idx, const cJSON *http, const char *sp,
			   struct errlist *problems)
{
	struct http_journey_step *s = &j->steps[idx];
	struct name_check nc = { .j = j, .step = idx, .problems = problems };
	const cJSON *url = cJSON_GetObjectItemCaseSensitive(http, "url");
	const cJSON *headers = cJSON_GetObjectItemCaseSensitive(http, "headers"), *h;
	const cJSON *body = cJSON_GetObjectItemCaseSensitive(http, "body");
	char *where = NULL;

	if (cJSON_IsString(url)) {
		const char *rest = strstr(url->valuestring, "://");
		size_t auth = rest ? strcspn(rest + 3, "/?#") : 0;

		if (strncmp(url->valuestring, "https://", 8) == 0)
			errlist_add(problems, "%s.http.url: journey steps speak plain http:// (the native engine) for now", sp);
		if (rest && memchr(rest + 3, '{', auth))
			errlist_add(problems, "%s.http.url: only the path and query may hold {templates}; the host and port are fixed",
				    sp);
		where = xasprintf("%s.http.url", sp);
		nc.where = where;
		http_template_names(url->valuestring, check_name, &nc);
		s->templated |= http_template_has_names(url->valuestring);
		free(where);
	}
	if (!cJSON_IsObject(headers))
		headers = NULL;
	cJSON_ArrayForEach(h, headers) {
		if (!cJSON_IsString(h))
			continue;
		where = xasprintf("%s.http.headers.%s", sp, h->string);
		nc.where = where;
		http_template_names(h->valuestring, check_name, &nc);
		s->templated |= http_template_has_names(h->valuestring);
		free(where);
	}
	if (body) {
		where = xasprintf("%s.http.body", sp);
		nc.where = where;
		http_template_json_names(body, check_name, &nc);
		s->templated |= http_template_json_has_names(body);
		free(where);
		if (cJSON_IsString(body))
			s->body_text = xstrdup(body->valuestring);
		else if (cJSON_IsObject(body) || cJSON_IsArray(body))
			s->body_json = cJSON_Duplicate(body, true);
	}
}

static void parse_step(struct http_journey *j, size_t idx, const cJSON *st, const char *sp, const char *dir,
		       struct errlist *problems)
{
	static const char *const keys[] = { "name", "http", "capture", "when", "repeat", "think", "stream",
					    "request_slo" };
	struct http_journey_step *s = &j->steps[idx];
	const cJSON *name = cJSON_GetObjectItemCaseSensitive(st, "name"), *http, *v;
	const cJSON *method;

	s->repeat = 1;
	if (!cJSON_IsObject(st)) {
		json_expected(problems, sp, "a step such as {\"name\": \"search\", \"http\": {\"url\": \"...\"}}", st);
		s->name = xasprintf("%zu", idx);
		return;
	}
	json_check_keys(st, sp, keys, ARRAY_SIZE(keys), problems);
	if (!cJSON_IsString(name) || !name_ok(name->valuestring))
		errlist_add(problems, "%s.name: required, letters, digits, '_' or '-' (at most 32), such as \"search\"", sp);
	s->name = xstrdup(cJSON_IsString(name) ? name->valuestring : "");
	for (size_t k = 0; k < idx; k++)
		if (s->name[0] && strcmp(j->steps[k].name, s->name) == 0)
			errlist_add(problems, "%s.name: \"%s\" is the name of steps[%zu] too", sp, s->name, k);
	http = cJSON_GetObjectItemCaseSensitive(st, "http");
	if (cJSON_IsObject(http) && cJSON_GetObjectItemCaseSensitive(http, "dataset"))
		errlist_add(problems, "%s.http.dataset: a journey's steps share one dataset: journey.dataset", sp);
	http_plan_parse(&s->plan, st, sp, dir, problems);
	if ((v = cJSON_GetObjectItemCaseSensitive(st, "capture"))) {
		char *cp = xasprintf("%s.capture", sp);

		http_capture_parse(&s->capture, v, cp, problems);
		free(cp);
	}
	if (s->plan) {
		/* what the captures read must be kept */
		s->plan->keep_body = s->capture.needs_body;
		s->plan->keep_headers = s->capture.needs_headers;
	}
	if ((v = cJSON_GetObjectItemCaseSensitive(st, "when"))) {
		char *wp = xasprintf("%s.when", sp);

		s->has_when = true;
		parse_cond(&s->when, v, wp, problems);
		free(wp);
	}
	if ((v = cJSON_GetObjectItemCaseSensitive(st, "repeat")))
		parse_repeat(s, v, sp, problems);
	parse_think(s, st, sp, problems);
	check_cond_var(j, idx, &s->when, s->has_when, sp, "when", problems);
	check_cond_var(j, idx, &s->until, s->has_until, sp, "repeat.until", problems);
	if (cJSON_IsObject(http)) {
		step_templates(j, idx, http, sp, problems);
		method = cJSON_GetObjectItemCaseSensitive(http, "method");
		s->has_body = cJSON_GetObjectItemCaseSensitive(http, "body") ||
			      cJSON_GetObjectItemCaseSensitive(http, "body_file") ||
			      (cJSON_IsString(method) && (strcmp(method->valuestring, "POST") == 0 ||
							  strcmp(method->valuestring, "PUT") == 0 ||
							  strcmp(method->valuestring, "PATCH") == 0));
	}
}

int http_journey_parse(struct http_journey **out, const cJSON *bench, const char *path, const char *dir,
		       struct errlist *problems)
{
	static const char *const keys[] = { "steps", "dataset" };
	const cJSON *jv = cJSON_GetObjectItemCaseSensitive(bench, "journey"), *steps, *st, *v;
	struct http_journey *j = xcalloc(1, sizeof(*j));
	size_t before = problems->n, i = 0;
	char *jp = xasprintf("%s.journey", path);

	*out = NULL;
	if (!cJSON_IsObject(jv)) {
		json_expected(problems, jp, "an object with \"steps\"", jv);
		goto done;
	}
	json_check_keys(jv, jp, keys, ARRAY_SIZE(keys), problems);
	steps = cJSON_GetObjectItemCaseSensitive(jv, "steps");
	if (!cJSON_IsArray(steps) || cJSON_GetArraySize(steps) < 1 || cJSON_GetArraySize(steps) > HTTP_JOURNEY_MAX_STEPS) {
		char *sp = xasprintf("%s.steps", jp);
		char what[80];

		snprintf(what, sizeof(what), "an array of 1 to %d steps", HTTP_JOURNEY_MAX_STEPS);
		json_expected(problems, sp, what, steps);
		free(sp);
		goto done;
	}
	if ((v = cJSON_GetObjectItemCaseSensitive(jv, "dataset"))) {
		char *dp = xasprintf("%s.dataset", jp);

		if (http_plan_load_dataset(v, dp, dir, &j->rows, problems) != 0) {
			free(dp);
			goto done;
		}
		j->dataset_unread = !dir;
		free(dp);
	}
	j->steps = xcalloc((size_t)cJSON_GetArraySize(steps), sizeof(*j->steps));
	cJSON_ArrayForEach(st, steps) {
		char *sp = xasprintf("%s.steps[%zu]", jp, i);

		j->n_steps = i + 1;
		parse_step(j, i, st, sp, dir, problems);
		if (j->steps[i].plan && j->steps[i].plan->sse)
			j->any_sse = true;
		free(sp);
		i++;
	}
done:
	free(jp);
	if (problems->n > before || !dir) {
		http_journey_free(j);
		return problems->n > before ? ERR_INPUT : 0;
	}
	*out = j;
	return 0;
}

/* ---- rendering ---- */

struct missing {
	const cJSON *vars;
	const char *name;  /* the first {name} without a value */
	size_t len;
};

static void find_missing(const char *name, size_t len, void *arg)
{
	struct missing *m = arg;
	const cJSON *it;

	if (m->name)
		return;
	cJSON_ArrayForEach(it, m->vars)
		if (it->string && strlen(it->string) == len && memcmp(it->string, name, len) == 0)
			return;
	m->name = name;
	m->len = len;
}

/* Every {name} in the step's templates has a value?  (A capture that was
 * optional, or a step that did not run, leaves one unset.) */
static bool all_set(const struct http_journey_step *s, const cJSON *vars, char *why, size_t why_len)
{
	struct missing m = { .vars = vars };

	http_template_names(s->plan->target, find_missing, &m);
	for (size_t i = 0; i < s->plan->n_headers && !m.name; i++)
		http_template_names(s->plan->header_lines[i], find_missing, &m);
	if (s->body_json)
		http_template_json_names(s->body_json, find_missing, &m);
	if (s->body_text)
		http_template_names(s->body_text, find_missing, &m);
	if (m.name)
		snprintf(why, why_len, "step %s: {%.*s} has no value (an optional capture that found nothing, or a "
			 "step that did not run)", s->name, (int)m.len, m.name);
	return !m.name;
}

int http_journey_render(const struct http_journey_step *s, const cJSON *vars, struct sb *out, char *why,
			size_t why_len)
{
	const struct http_plan *p = s->plan;
	struct sb body = SB_INIT;
	int rc = 0;

	if (!s->templated) {
		sb_add(out, p->reqs[0].data, p->reqs[0].len);
		return 0;
	}
	if (!all_set(s, vars, why, why_len))
		return ERR_NOTFOUND;
	sb_printf(out, "%s ", p->method);
	http_template_text(out, p->target, vars, HTTP_TEMPLATE_URL);
	sb_printf(out, " HTTP/1.1\r\nHost: %s\r\n", p->authority);
	for (size_t i = 0; i < p->n_headers; i++) {
		size_t start = out->len;

		http_template_text(out, p->header_lines[i], vars, HTTP_TEMPLATE_RAW);
		if (memchr(out->buf + start, '\r', out->len - start) || memchr(out->buf + start, '\n', out->len - start)) {
			snprintf(why, why_len, "step %s: a value holds a line break and cannot go into a header", s->name);
			rc = ERR_INPUT;
			goto done;
		}
		sb_puts(out, "\r\n");
	}
	if (s->body_json) {
		cJSON *b = http_template_json(s->body_json, vars);
		char *t = cJSON_PrintUnformatted(b);

		sb_puts(&body, t);
		free(t);
		cJSON_Delete(b);
	} else if (s->body_text) {
		http_template_text(&body, s->body_text, vars, HTTP_TEMPLATE_RAW);
	} else if (p->n_reqs && p->reqs[0].len > p->reqs[0].body_off) {
		sb_add(&body, p->reqs[0].data + p->reqs[0].body_off, p->reqs[0].len - p->reqs[0].body_off);
	}
	if (s->has_body)
		sb_printf(out, "Content-Length: %zu\r\n", body.len);
	sb_puts(out, "\r\n");
	if (body.len)
		sb_add(out, body.buf, body.len);
done:
	sb_release(&body);
	return rc;
}

/* ---- the order of the steps ---- */

static uint64_t draw_think(const struct http_journey_step *s, struct http_rng *rng)
{
	if (s->think_max <= s->think_min)
		return s->think_min;
	return s->think_min + (uint64_t)llround(http_rng_uniform(rng) * (double)(s->think_max - s->think_min));
}

/* The first step from `from` on whose `when` holds. */
static enum http_journey_move runnable_from(const struct http_journey *j, size_t from, const cJSON *vars,
					    struct http_rng *rng, struct http_journey_pos *pos, uint64_t *skipped)
{
	for (size_t i = from; i < j->n_steps; i++) {
		const struct http_journey_step *s = &j->steps[i];

		if (s->has_when && !http_journey_cond_holds(&s->when, vars)) {
			if (skipped)
				skipped[i]++;
			continue;
		}
		pos->step = i;
		pos->iteration = 0;
		pos->think = draw_think(s, rng);
		return HTTP_JOURNEY_RUN;
	}
	pos->step = j->n_steps;
	return HTTP_JOURNEY_DONE;
}

enum http_journey_move http_journey_start(const struct http_journey *j, const cJSON *vars, struct http_rng *rng,
					  struct http_journey_pos *pos, uint64_t *skipped)
{
	return runnable_from(j, 0, vars, rng, pos, skipped);
}

enum http_journey_move http_journey_next(const struct http_journey *j, const cJSON *vars, struct http_rng *rng,
					 struct http_journey_pos *pos, uint64_t *skipped)
{
	const struct http_journey_step *s = &j->steps[pos->step];

	if (s->has_until && http_journey_cond_holds(&s->until, vars))
		return runnable_from(j, pos->step + 1, vars, rng, pos, skipped);
	if (pos->iteration + 1 < s->repeat) {
		pos->iteration++;
		pos->think = s->interval;
		return HTTP_JOURNEY_RUN;
	}
	if (s->has_until)
		return HTTP_JOURNEY_EXHAUSTED;
	return runnable_from(j, pos->step + 1, vars, rng, pos, skipped);
}
