/*
 * workload.c: the "prompts" and "classes" keys parsed into request
 * classes (see workload.h).  prepare.c builds their requests.
 */
#include "workload.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_randist.h>

#include "../json.h"
#include "../util.h"
#include "llm.h"
#include "plan.h"
#include "prompts.h"
#include "tokenize.h"

#define DEFAULT_OUTPUT_TOKENS 128 /* max_tokens when nothing says otherwise (vLLM's random dataset's) */
#define MAX_CLASSES 64

static const char *const prompts_keys[] = { "api", "input_tokens", "output_tokens", "ignore_eos", "min_tokens",
					    "count", "seed", "shared_prefix", "dataset", "sessions", "tokenize",
					    "block_tokens" };
static const char *const class_keys[] = { "name", "weight", "prompts", "body", "url" };

static void class_release(struct http_wl_class *c)
{
	free(c->name);
	free(c->target);
	cJSON_Delete(c->body);
	free(c->ds_path);
	for (int i = 0; i < 3; i++)
		free(c->ds_keys[i]);
	http_dataset_free(c->dataset);
	if (c->prefix)
		for (long i = 0; i < c->prefixes; i++)
			free(c->prefix[i]);
	free(c->prefix);
}

void http_workload_free(struct http_workload *w)
{
	if (!w)
		return;
	for (size_t i = 0; i < w->n_classes; i++)
		class_release(&w->classes[i]);
	free(w->classes);
	free(w->tokenize_url);
	cJSON_Delete(w->tokenize_body);
	free(w->tokenize_count);
	for (size_t i = 0; i < w->n_items; i++)
		free(w->items[i].body);
	free(w->items);
	free(w->order);
	free(w->tokenize_note);
	free(w);
}

bool http_workload_sessions(const struct http_workload *w)
{
	for (size_t i = 0; i < w->n_classes; i++)
		if (w->classes[i].sessions)
			return true;
	return false;
}

double http_workload_think(const struct http_wl_think *t, gsl_rng *r)
{
	switch (t->kind) {
	case HTTP_THINK_EXPONENTIAL:
		return gsl_ran_exponential(r, t->a);
	case HTTP_THINK_UNIFORM:
		return t->a + (t->b - t->a) * gsl_rng_uniform(r);
	case HTTP_THINK_FIXED:
		break;
	}
	return t->a;
}

/* ---- parsing ---- */

/* "a.b" for messages. */
static char *sub(const char *path, const char *key)
{
	return xasprintf("%s.%s", path, key);
}

static void parse_think(struct http_wl_think *t, const cJSON *v, const char *path, struct errlist *problems)
{
	static const char *const keys[] = { "dist", "mean", "min", "max" };
	static const char *const dists[] = { "fixed", "exponential", "uniform" };
	const cJSON *d;
	long k;

	if (json_duration_value(v, &t->a) == 0 && t->a >= 0) {
		t->kind = HTTP_THINK_FIXED;
		return;
	}
	if (!cJSON_IsObject(v)) {
		json_expected(problems, path, "a duration such as \"2s\", or {\"dist\": \"exponential\", \"mean\": \"2s\"}", v);
		return;
	}
	json_check_keys(v, path, keys, ARRAY_SIZE(keys), problems);
	d = cJSON_GetObjectItemCaseSensitive(v, "dist");
	if (!cJSON_IsString(d) || (k = str_index(d->valuestring, dists, ARRAY_SIZE(dists))) < 0) {
		char *p = sub(path, "dist");

		json_expected(problems, p, "\"fixed\", \"exponential\" or \"uniform\"", d);
		free(p);
		return;
	}
	t->kind = (enum http_wl_think_kind)k;
	if (t->kind == HTTP_THINK_UNIFORM) {
		bool lo = false, hi = false;

		json_get_duration(v, "min", path, &t->a, &lo, problems);
		json_get_duration(v, "max", path, &t->b, &hi, problems);
		if (!lo || !hi || t->b < t->a)
			errlist_add(problems, "%s: \"uniform\" needs min <= max (durations)", path);
	} else {
		bool set = false;

		json_get_duration(v, "mean", path, &t->a, &set, problems);
		if (!set)
			errlist_add(problems, "%s.mean: required, a duration such as \"2s\"", path);
	}
}

static void parse_sessions(struct http_wl_class *c, const cJSON *v, const char *path, struct errlist *problems)
{
	static const char *const keys[] = { "turns", "think_time", "max_turns" };
	const cJSON *turns = cJSON_GetObjectItemCaseSensitive(v, "turns");
	const cJSON *think = cJSON_GetObjectItemCaseSensitive(v, "think_time");
	char *p;

	if (!cJSON_IsObject(v)) {
		json_expected(problems, path, "an object such as {\"turns\": 4, \"think_time\": \"2s\"}", v);
		return;
	}
	json_check_keys(v, path, keys, ARRAY_SIZE(keys), problems);
	c->sessions = true;
	if (cJSON_IsString(turns) && strcmp(turns->valuestring, "dataset") == 0) {
		c->turns_from_data = true;
	} else if (turns) {
		p = sub(path, "turns");
		c->turns_from_data = false;
		http_lengths_parse(&c->turns, turns, p, problems);
		free(p);
	}
	if (think) {
		p = sub(path, "think_time");
		parse_think(&c->think, think, p, problems);
		free(p);
	}
	json_get_int(v, "max_turns", path, 1, &c->max_turns, NULL, problems);
}

static void parse_fields(struct http_wl_class *c, const cJSON *v, const char *path, struct errlist *problems)
{
	/* Each format's own key names are the names of the mapping. */
	static const char *const keys[] = { "conversations", "from", "value", "messages", "role", "content", "prompt" };
	const cJSON *it;

	if (!cJSON_IsObject(v)) {
		json_expected(problems, path, "an object such as {\"prompt\": \"question\"}", v);
		return;
	}
	json_check_keys(v, path, keys, ARRAY_SIZE(keys), problems);
	cJSON_ArrayForEach(it, v) {
		char **slot;

		if (!cJSON_IsString(it) || !it->valuestring[0]) {
			char *p = sub(path, it->string);

			json_expected(problems, p, "a key name", it);
			free(p);
			continue;
		}
		if (!strcmp(it->string, "conversations") || !strcmp(it->string, "messages"))
			slot = &c->ds_keys[0];
		else if (!strcmp(it->string, "from") || !strcmp(it->string, "role"))
			slot = &c->ds_keys[1];
		else if (str_index(it->string, keys, ARRAY_SIZE(keys)) >= 0)
			slot = &c->ds_keys[2];
		else
			continue;
		free(*slot);
		*slot = xstrdup(it->valuestring);
	}
}

static void parse_dataset(struct http_wl_class *c, const cJSON *v, const char *path, struct errlist *problems)
{
	static const char *const keys[] = { "path", "format", "fields", "min_input_tokens", "max_input_tokens",
					    "min_output_tokens", "max_output_tokens", "sample", "order", "seed",
					    "limit" };
	struct http_dataset_options *o = &c->ds;
	const cJSON *file = cJSON_IsString(v) ? v : cJSON_GetObjectItemCaseSensitive(v, "path");
	const cJSON *fmt = cJSON_GetObjectItemCaseSensitive(v, "format");
	const cJSON *order = cJSON_GetObjectItemCaseSensitive(v, "order");
	const cJSON *fields = cJSON_GetObjectItemCaseSensitive(v, "fields");
	long n = 0;
	bool set;

	c->source = HTTP_WL_DATASET;
	if (!cJSON_IsString(v) && !cJSON_IsObject(v)) {
		json_expected(problems, path, "a file name or {\"path\": FILE, \"format\": \"sharegpt\", ...}", v);
		return;
	}
	if (cJSON_IsObject(v))
		json_check_keys(v, path, keys, ARRAY_SIZE(keys), problems);
	if (!cJSON_IsString(file) || !file->valuestring[0]) {
		errlist_add(problems, "%s.path: required, the dataset's file (relative to the suite's folder)", path);
		return;
	}
	free(c->ds_path);
	c->ds_path = xstrdup(file->valuestring);
	o->format = (enum http_dataset_format)-1; /* found from the file */
	if (fmt && (!cJSON_IsString(fmt) || http_dataset_format_parse(fmt->valuestring, &o->format) != 0)) {
		char *p = sub(path, "format");

		json_expected(problems, p, "\"sharegpt\", \"openai\" or \"prompts\"", fmt);
		free(p);
	}
	if (order && (!cJSON_IsString(order) || (strcmp(order->valuestring, "file") && strcmp(order->valuestring, "shuffle")))) {
		char *p = sub(path, "order");

		json_expected(problems, p, "\"file\" or \"shuffle\"", order);
		free(p);
	}
	o->shuffle = cJSON_IsString(order) && strcmp(order->valuestring, "shuffle") == 0;
	if (fields) {
		char *p = sub(path, "fields");

		parse_fields(c, fields, p, problems);
		free(p);
	}
	json_get_int(v, "min_input_tokens", path, 0, &o->min_input_tokens, NULL, problems);
	json_get_int(v, "max_input_tokens", path, 1, &o->max_input_tokens, NULL, problems);
	json_get_int(v, "min_output_tokens", path, 0, &o->min_output_tokens, NULL, problems);
	json_get_int(v, "max_output_tokens", path, 1, &o->max_output_tokens, NULL, problems);
	if (json_get_int(v, "sample", path, 1, &n, &set, problems) && set)
		o->sample = (size_t)n;
	if (json_get_int(v, "seed", path, 0, &n, &set, problems) && set)
		o->seed = (uint64_t)n;
	if (json_get_int(v, "limit", path, 1, &n, &set, problems) && set)
		o->max_conversations = (size_t)n;
}

static void parse_prefix(struct http_wl_class *c, const cJSON *v, const char *path, struct errlist *problems)
{
	static const char *const keys[] = { "prefixes", "tokens" };
	bool a = false, b = false;

	if (!cJSON_IsObject(v)) {
		json_expected(problems, path, "an object such as {\"prefixes\": 4, \"tokens\": 1024}", v);
		return;
	}
	json_check_keys(v, path, keys, ARRAY_SIZE(keys), problems);
	json_get_int(v, "prefixes", path, 1, &c->prefixes, &a, problems);
	json_get_int(v, "tokens", path, 1, &c->prefix_tokens, &b, problems);
	if (!a || !b)
		errlist_add(problems, "%s: needs prefixes (how many) and tokens (how long each)", path);
}

static void parse_min_tokens(struct http_wl_class *c, const cJSON *v, const char *path, struct errlist *problems)
{
	if (cJSON_IsString(v) && strcmp(v->valuestring, "output_tokens") == 0)
		c->min_tokens = -2;
	else if (json_is_int(v) && v->valuedouble >= 0 && v->valuedouble <= 1e7)
		c->min_tokens = (long)v->valuedouble;
	else
		json_expected(problems, path, "a number of tokens >= 0, or \"output_tokens\"", v);
}

/* The keys of one "prompts" object that a class can set, over what it
 * inherited. */
static void parse_class_prompts(struct http_wl_class *c, const cJSON *v, const char *path, struct errlist *problems)
{
	const cJSON *it;

	cJSON_ArrayForEach(it, v) {
		char *p = sub(path, it->string);
		const char *k = it->string;

		if (!strcmp(k, "api")) {
			if (cJSON_IsString(it) && !strcmp(it->valuestring, "chat"))
				c->chat = true;
			else if (cJSON_IsString(it) && !strcmp(it->valuestring, "completions"))
				c->chat = false;
			else
				json_expected(problems, p, "\"chat\" or \"completions\"", it);
		} else if (!strcmp(k, "input_tokens")) {
			http_lengths_parse(&c->input, it, p, problems);
			if (c->source != HTTP_WL_DATASET)
				c->source = HTTP_WL_SYNTHETIC;
		} else if (!strcmp(k, "output_tokens")) {
			c->output_set = true;
			c->output_from_data = cJSON_IsString(it) && !strcmp(it->valuestring, "dataset");
			if (!c->output_from_data)
				http_lengths_parse(&c->output, it, p, problems);
		} else if (!strcmp(k, "ignore_eos")) {
			if (cJSON_IsBool(it))
				c->ignore_eos = cJSON_IsTrue(it);
			else
				json_expected(problems, p, "true or false", it);
		} else if (!strcmp(k, "min_tokens")) {
			parse_min_tokens(c, it, p, problems);
		} else if (!strcmp(k, "count")) {
			json_get_int(v, "count", path, 1, &c->count, NULL, problems);
		} else if (!strcmp(k, "seed")) {
			long s = 0;

			if (json_get_int(v, "seed", path, 0, &s, NULL, problems))
				c->seed = (uint64_t)s;
		} else if (!strcmp(k, "shared_prefix")) {
			parse_prefix(c, it, p, problems);
		} else if (!strcmp(k, "dataset")) {
			parse_dataset(c, it, p, problems);
		} else if (!strcmp(k, "sessions")) {
			parse_sessions(c, it, p, problems);
		}
		free(p);
	}
}

static void parse_tokenize(struct http_workload *w, const cJSON *v, const char *path, struct errlist *problems)
{
	static const char *const keys[] = { "url", "body", "count" };
	const cJSON *url = cJSON_IsObject(v) ? cJSON_GetObjectItemCaseSensitive(v, "url") : v;

	w->tokenize_auto = false;
	if (cJSON_IsFalse(v))
		return;
	if (cJSON_IsString(v) && strcmp(v->valuestring, "auto") == 0) {
		w->tokenize_auto = true;
		return;
	}
	if (cJSON_IsObject(v)) {
		const cJSON *body = cJSON_GetObjectItemCaseSensitive(v, "body");
		const cJSON *count = cJSON_GetObjectItemCaseSensitive(v, "count");

		json_check_keys(v, path, keys, ARRAY_SIZE(keys), problems);
		if (body)
			w->tokenize_body = cJSON_Duplicate(body, 1);
		if (count && (!cJSON_IsString(count) || count->valuestring[0] != '$'))
			errlist_add(problems, "%s.count: expected a JSON path such as \"$.count\"", path);
		else if (count)
			w->tokenize_count = xstrdup(count->valuestring);
	}
	if (!cJSON_IsString(url) || (url->valuestring[0] != '/' && strncmp(url->valuestring, "http://", 7) &&
				     strncmp(url->valuestring, "https://", 8))) {
		json_expected(problems, path, "\"auto\", false, a path such as \"/tokenize\", a URL, or {\"url\": ...}", v);
		return;
	}
	w->tokenize_url = xstrdup(url->valuestring);
}

static bool chat_url(const char *url)
{
	size_t n = url ? strcspn(url, "?#") : 0;

	return n >= 17 && memcmp(url + n - 17, "/chat/completions", 17) == 0;
}

static const char *bench_url(const cJSON *bench)
{
	const cJSON *u = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(bench, "http"), "url");

	return cJSON_IsString(u) ? u->valuestring : NULL;
}

static bool trace_mode(const cJSON *bench)
{
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(bench, "load"), "mode");

	return cJSON_IsString(m) && strcmp(m->valuestring, "trace") == 0;
}

/* What a class must have, once its keys and the benchmark's are in. */
static void check_class(struct http_wl_class *c, bool trace, const char *path, struct errlist *problems)
{
	if (trace) {
		if (c->source == HTTP_WL_DATASET || c->input.dist != HTTP_LENGTHS_FIXED || c->input.min)
			errlist_add(problems, "%s: a trace gives the lengths: no input_tokens or dataset with \"mode\": \"trace\"", path);
		if (c->sessions || c->prefixes)
			errlist_add(problems, "%s: sessions and shared_prefix do not go with \"mode\": \"trace\"", path);
		c->source = HTTP_WL_TRACE;
		c->output_from_data = true;
		return;
	}
	if (c->source == HTTP_WL_DATASET && !c->output_set)
		c->output_from_data = true; /* the dataset's replies say how long */
	if (c->source == HTTP_WL_SYNTHETIC && c->input.min == 0)
		errlist_add(problems, "%s: needs input_tokens (synthetic prompts) or dataset", path);
	if (c->source == HTTP_WL_DATASET && c->input.min)
		errlist_add(problems, "%s: input_tokens and dataset exclude each other", path);
	if (c->output_from_data && c->source != HTTP_WL_DATASET)
		errlist_add(problems, "%s.output_tokens: \"dataset\" needs a dataset", path);
	if (c->sessions && c->source == HTTP_WL_DATASET && !c->turns_from_data && c->turns.min == 0)
		c->turns_from_data = true; /* a dataset's sessions are its conversations */
	if (c->sessions && !c->chat)
		errlist_add(problems, "%s.sessions: multi-turn sessions need the chat API (\"api\": \"chat\" or a /chat/completions URL)", path);
	if (c->sessions && c->turns_from_data && c->source != HTTP_WL_DATASET)
		errlist_add(problems, "%s.sessions.turns: \"dataset\" needs a dataset", path);
	if (c->sessions && !c->turns_from_data && c->turns.min == 0)
		errlist_add(problems, "%s.sessions.turns: required for synthetic sessions, a number of turns or {\"dist\": ...}", path);
	if (c->prefixes && !c->sessions && c->source == HTTP_WL_SYNTHETIC && c->input.min <= c->prefix_tokens && c->input.min)
		errlist_add(problems, "%s: input_tokens (the whole input, min %ld) must be longer than shared_prefix.tokens (%ld)",
			    path, c->input.min, c->prefix_tokens);
}

static void class_defaults(struct http_wl_class *c, const char *url)
{
	memset(c, 0, sizeof(*c));
	c->weight = 1;
	c->chat = chat_url(url);
	c->min_tokens = -1;
	c->seed = 1;
	c->think.kind = HTTP_THINK_FIXED;
	c->ds.seed = 1;
	c->ds.format = HTTP_DATASET_PROMPTS;
	http_lengths_fixed(&c->output, DEFAULT_OUTPUT_TOKENS);
	c->input.min = 0; /* none yet */
	c->input.max = 0;
}

/* A deep copy of a class's settings (the base for each entry of classes). */
static void class_copy(struct http_wl_class *dst, const struct http_wl_class *src)
{
	*dst = *src;
	dst->name = src->name ? xstrdup(src->name) : NULL;
	dst->target = src->target ? xstrdup(src->target) : NULL;
	dst->body = src->body ? cJSON_Duplicate(src->body, 1) : NULL;
	dst->ds_path = src->ds_path ? xstrdup(src->ds_path) : NULL;
	for (int i = 0; i < 3; i++)
		dst->ds_keys[i] = src->ds_keys[i] ? xstrdup(src->ds_keys[i]) : NULL;
	dst->dataset = NULL;
	dst->prefix = NULL;
}

/* Does the benchmark read its responses as streams ("stream": "sse")? */
static bool bench_streams(const cJSON *bench)
{
	const cJSON *st = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(bench, "http"), "stream");

	if (!st)
		st = cJSON_GetObjectItemCaseSensitive(bench, "stream");
	return cJSON_IsString(st) && strcmp(st->valuestring, "sse") == 0;
}

static bool name_ok(const char *s)
{
	if (!*s || strlen(s) > 40)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("_-.", *s))
			return false;
	return true;
}

static void parse_one_class(struct http_workload *w, const struct http_wl_class *base, const cJSON *e,
			    const char *path, bool trace, bool sse, struct errlist *problems)
{
	struct http_wl_class *c = &w->classes[w->n_classes++];
	const cJSON *name = cJSON_GetObjectItemCaseSensitive(e, "name");
	const cJSON *body = cJSON_GetObjectItemCaseSensitive(e, "body");
	const cJSON *url = cJSON_GetObjectItemCaseSensitive(e, "url");
	const cJSON *pr = cJSON_GetObjectItemCaseSensitive(e, "prompts");

	class_copy(c, base);
	json_check_keys(e, path, class_keys, ARRAY_SIZE(class_keys), problems);
	if (!cJSON_IsString(name) || !name_ok(name->valuestring))
		errlist_add(problems, "%s.name: required, up to 40 letters, digits, '_', '-' or '.' (it names metrics such as ttft.p95[chat])", path);
	else
		c->name = xstrdup(name->valuestring);
	for (size_t i = 0; c->name && i + 1 < w->n_classes; i++)
		if (w->classes[i].name && strcmp(w->classes[i].name, c->name) == 0)
			errlist_add(problems, "%s.name: \"%s\" names two classes", path, c->name);
	if (cJSON_GetObjectItemCaseSensitive(e, "weight"))
		json_get_number(e, "weight", path, 0, &c->weight, NULL, problems);
	if (body && !cJSON_IsObject(body))
		errlist_add(problems, "%s.body: expected an object (the request body template)", path);
	else if (body) {
		const cJSON *st = cJSON_GetObjectItemCaseSensitive(body, "stream");

		/* The benchmark reads every response one way. */
		if (cJSON_IsTrue(st) != sse)
			errlist_add(problems, "%s.body.stream: %s, but the benchmark's responses are %s (http.stream); "
				    "every class of a benchmark streams, or none", path, cJSON_IsTrue(st) ? "true" : "not true",
				    sse ? "streams" : "not streams");
		cJSON_Delete(c->body);
		c->body = cJSON_Duplicate(body, 1);
	}
	if (url && (!cJSON_IsString(url) || url->valuestring[0] != '/'))
		errlist_add(problems, "%s.url: expected a path on the benchmark's server, such as \"/v1/chat/completions\"", path);
	else if (url) {
		c->target = xstrdup(url->valuestring);
		c->chat = chat_url(url->valuestring);
	}
	if (pr && !cJSON_IsObject(pr)) {
		errlist_add(problems, "%s.prompts: expected an object", path);
	} else if (pr) {
		char *pp = sub(path, "prompts");

		json_check_keys(pr, pp, prompts_keys, ARRAY_SIZE(prompts_keys) - 2, problems); /* no tokenize, block_tokens */
		parse_class_prompts(c, pr, pp, problems);
		free(pp);
	}
	check_class(c, trace, path, problems);
}

static void parse_classes(struct http_workload *w, const struct http_wl_class *base, const cJSON *classes,
			  const char *path, bool trace, bool sse, struct errlist *problems)
{
	const cJSON *e;
	size_t i = 0, n = (size_t)cJSON_GetArraySize(classes);

	if (!cJSON_IsArray(classes) || n == 0 || n > MAX_CLASSES) {
		errlist_add(problems, "%s.classes: expected a list of 1 to %d classes such as {\"name\": \"chat\", \"weight\": 3}",
			    path, MAX_CLASSES);
		return;
	}
	if (trace)
		errlist_add(problems, "%s.classes: a trace replays one kind of request; no classes with \"mode\": \"trace\"", path);
	w->classes = xcalloc(n, sizeof(*w->classes));
	cJSON_ArrayForEach(e, classes) {
		char *cp = xasprintf("%s.classes[%zu]", path, i++);

		if (!cJSON_IsObject(e))
			errlist_add(problems, "%s: expected an object such as {\"name\": \"chat\", \"weight\": 3}", cp);
		else
			parse_one_class(w, base, e, cp, trace, sse, problems);
		free(cp);
	}
}

int http_workload_parse(struct http_workload **out, const cJSON *bench, const char *path, struct errlist *problems)
{
	const cJSON *pr = cJSON_GetObjectItemCaseSensitive(bench, "prompts");
	const cJSON *classes = cJSON_GetObjectItemCaseSensitive(bench, "classes");
	const cJSON *body = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(bench, "http"), "body");
	struct http_workload *w = xcalloc(1, sizeof(*w));
	struct http_wl_class base;
	size_t before = problems->n;
	bool trace = trace_mode(bench);
	char *pp = sub(path, "prompts");

	if (out)
		*out = NULL;
	w->tokenize_auto = true;
	w->block_tokens = 512; /* the Mooncake traces' */
	class_defaults(&base, bench_url(bench));
	if (cJSON_IsObject(body))
		base.body = cJSON_Duplicate(body, 1);
	w->have_prompts = pr || classes || trace;
	if (pr && !cJSON_IsObject(pr)) {
		errlist_add(problems, "%s: expected an object such as {\"input_tokens\": 512, \"output_tokens\": 128}", pp);
	} else if (pr) {
		const cJSON *t = cJSON_GetObjectItemCaseSensitive(pr, "tokenize");
		char *tp = sub(pp, "tokenize");

		json_check_keys(pr, pp, prompts_keys, ARRAY_SIZE(prompts_keys), problems);
		if (t)
			parse_tokenize(w, t, tp, problems);
		free(tp);
		if (cJSON_GetObjectItemCaseSensitive(pr, "block_tokens"))
			json_get_number(pr, "block_tokens", pp, 0, &w->block_tokens, NULL, problems);
		parse_class_prompts(&base, pr, pp, problems);
	}
	if (w->have_prompts && body && !cJSON_IsObject(body))
		errlist_add(problems, "%s.http.body: an LLM benchmark's body must be a JSON object (perfgate sets its prompt or messages)", path);
	if (classes) {
		parse_classes(w, &base, classes, path, trace, bench_streams(bench), problems);
	} else if (w->have_prompts) {
		w->classes = xcalloc(1, sizeof(*w->classes));
		class_copy(&w->classes[0], &base);
		w->n_classes = 1;
		check_class(&w->classes[0], trace, pp, problems);
	}
	class_release(&base);
	free(pp);
	for (size_t i = 1; i < w->n_classes; i++)
		if (w->classes[i].sessions != w->classes[0].sessions) {
			errlist_add(problems, "%s.classes: every class runs sessions, or none does", path);
			break;
		}
	if (problems->n > before || !out) {
		http_workload_free(w);
		return problems->n > before ? ERR_INPUT : 0;
	}
	*out = w;
	return 0;
}

/* ---- bodies ---- */

char *http_workload_body(const struct http_wl_class *c, const cJSON *messages, const char *prompt, long max_tokens)
{
	static const char *const ours[] = { "messages", "prompt", "max_tokens", "ignore_eos", "min_tokens" };
	cJSON *b = c->body ? cJSON_Duplicate(c->body, 1) : cJSON_CreateObject();
	char *text;

	for (size_t i = 0; i < ARRAY_SIZE(ours); i++)
		cJSON_DeleteItemFromObjectCaseSensitive(b, ours[i]);
	if (messages)
		cJSON_AddItemToObject(b, "messages", cJSON_Duplicate(messages, 1));
	else
		cJSON_AddStringToObject(b, "prompt", prompt ? prompt : "");
	cJSON_AddNumberToObject(b, "max_tokens", (double)max_tokens);
	if (c->ignore_eos)
		cJSON_AddTrueToObject(b, "ignore_eos");
	if (c->min_tokens != -1)
		cJSON_AddNumberToObject(b, "min_tokens", (double)(c->min_tokens == -2 ? max_tokens : c->min_tokens));
	text = cJSON_PrintUnformatted(b);
	cJSON_Delete(b);
	return text;
}

/* ---- preparing the requests ---- */

#define AUTO_REQUESTS 1000   /* distinct prompts when the number of requests is unknown */
#define MAX_AUTO_PROMPTS 10000
#define ORDER_PER_CLASS 1000 /* positions of the class order per class */

static uint64_t mix(uint64_t x)
{
	/* splitmix64: distinct, well spread seeds for per-prompt generators */
	x += 0x9E3779B97F4A7C15ULL;
	x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9ULL;
	x = (x ^ (x >> 27)) * 0x94D049BB133111EBULL;
	return x ^ (x >> 31);
}

static void seed_rng(gsl_rng *r, uint64_t seed, uint64_t cls, uint64_t i)
{
	gsl_rng_set(r, (unsigned long)mix(mix(mix(seed) ^ cls) ^ i));
}

static void add_item(struct http_workload *w, uint32_t cls, char *body, long in, bool exact, long out)
{
	size_t alloc = w->n_items;
	struct http_wl_item *it;

	XGROW(w->items, alloc, w->n_items + 1);
	it = &w->items[w->n_items++];
	it->cls = cls;
	it->body = body;
	it->len = strlen(body);
	it->input_tokens = in;
	it->input_exact = exact;
	it->output_tokens = out < 1 ? 1 : out;
}

/* The body of one input (a prefix or NULL, and a text). */
static char *input_body(const struct http_wl_class *c, const char *prefix, const char *text, long out)
{
	char *body;

	if (c->chat) {
		cJSON *m = http_prompts_messages(prefix, text);

		body = http_workload_body(c, m, NULL, out);
		cJSON_Delete(m);
	} else {
		struct sb p = SB_INIT;

		http_prompts_join(&p, prefix, text);
		body = http_workload_body(c, NULL, sb_str(&p), out);
		sb_release(&p);
	}
	return body;
}

/* The tokenizer for one class (its model, its API), or none. */
struct counter {
	struct http_tokenize *tk;
	struct http_prompts_fit fit;   /* slope and offset carried from prompt to prompt */
	long empty;                    /* count of an empty input: what the server adds to any text */
};

static int counter_open(struct http_workload *w, const struct http_wl_class *c, const struct http_workload_env *env,
			struct counter *k, struct err *err)
{
	struct http_tokenize_options o = HTTP_TOKENIZE_OPTIONS_INIT;
	const cJSON *model = c->body ? cJSON_GetObjectItemCaseSensitive(c->body, "model") : NULL;
	char *url;
	int rc;

	memset(k, 0, sizeof(*k));
	if (!w->tokenize_url && !w->tokenize_auto)
		return 0;
	url = w->tokenize_url && w->tokenize_url[0] != '/' ? xstrdup(w->tokenize_url)
	      : xasprintf("%s%s", env->origin, w->tokenize_url ? w->tokenize_url : "/tokenize");
	o.url = url;
	o.chat = c->chat;
	o.model = cJSON_IsString(model) ? model->valuestring : NULL;
	o.body = w->tokenize_body;
	o.count_path = w->tokenize_count;
	o.headers = env->headers;
	o.n_headers = env->n_headers;
	o.ca_file = env->ca_file;
	rc = http_tokenize_open(&k->tk, &o, err);
	/* One count of an empty input tells whether it answers, and what the
	 * server adds to any text (BOS, the chat template). */
	if (rc == 0 && (rc = http_tokenize_count(k->tk, NULL, "", &k->empty, err)) != 0) {
		w->tokenize_calls++;
		http_tokenize_free(k->tk);
		k->tk = NULL;
		if (!w->tokenize_url) {
			/* "auto": no tokenizer there; lengths are estimates */
			if (!w->tokenize_note)
				w->tokenize_note = xasprintf("no tokenize endpoint answered (%s); input lengths are estimates", err->msg);
			rc = 0;
		}
	} else if (rc == 0) {
		w->tokenize_calls++;
	}
	free(url);
	return rc;
}

static void counter_close(struct http_workload *w, struct counter *k)
{
	if (k->tk)
		w->tokenize_calls += http_tokenize_calls(k->tk) - 1; /* the first call was counted */
	http_tokenize_free(k->tk);
	k->tk = NULL;
}

/* `text` becomes words that, after `prefix` and `lead`, make an input of
 * `target` tokens: fitted with the tokenizer, else one word per token.
 * Returns 0 or the tokenizer's error; *exact says whether it was fitted. */
static int make_text(struct http_workload *w, struct counter *k, gsl_rng *r, const char *prefix, const char *lead,
		     long target, long estimate_words, struct sb *text, bool *exact, struct err *err)
{
	int rc;

	*exact = false;
	if (!k->tk) {
		sb_reset(text);
		sb_add(text, "", 0);
		if (lead) {
			sb_puts(text, lead);
			if (estimate_words > 0)
				sb_putc(text, ' ');
		}
		http_prompts_words(text, r, estimate_words > 0 ? (size_t)estimate_words : 0);
		return 0;
	}
	k->fit.target = target;
	k->fit.lead = lead;
	rc = http_prompts_fit(text, r, prefix, &k->fit, http_tokenize_count, k->tk, err);
	if (rc == 0 && k->fit.exact) {
		w->fitted++;
		*exact = true;
	} else if (rc == 0) {
		w->inexact++;
	}
	return rc;
}

static int prepare_prefixes(struct http_workload *w, struct http_wl_class *c, uint32_t ci, struct counter *k,
			    struct err *err)
{
	gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
	struct sb text = SB_INIT;
	int rc = 0;

	c->prefix = xcalloc((size_t)c->prefixes, sizeof(*c->prefix));
	for (long i = 0; i < c->prefixes && rc == 0; i++) {
		bool exact;

		seed_rng(r, c->seed, ci, 0xFFFF0000ULL + (uint64_t)i);
		/* The prefix's own tokens: its count as an input, less the
		 * tokens the server adds to any input. */
		rc = make_text(w, k, r, NULL, NULL, c->prefix_tokens + k->empty, c->prefix_tokens, &text, &exact, err);
		c->prefix[i] = sb_detach(&text);
	}
	k->fit.slope = 0;
	k->fit.offset = 0;
	k->fit.last_k = 0;
	sb_release(&text);
	gsl_rng_free(r);
	return rc;
}

static long expected_count(const struct http_wl_class *c, const struct http_workload_env *env)
{
	long n = c->count;

	if (!n)
		n = env->expected_requests > 0 ? env->expected_requests : AUTO_REQUESTS;
	return n > MAX_AUTO_PROMPTS && !c->count ? MAX_AUTO_PROMPTS : n;
}

static int prepare_synthetic(struct http_workload *w, struct http_wl_class *c, uint32_t ci, struct counter *k,
			     const struct http_workload_env *env, struct err *err)
{
	gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
	struct sb text = SB_INIT;
	long n = expected_count(c, env);
	int rc = 0;

	for (long i = 0; i < n && rc == 0; i++) {
		const char *prefix = c->prefixes ? c->prefix[i % c->prefixes] : NULL;
		long in, out;
		bool exact;

		seed_rng(r, c->seed, ci, (uint64_t)i);
		in = http_lengths_sample(&c->input, r);
		out = http_lengths_sample(&c->output, r);
		rc = make_text(w, k, r, prefix, NULL, in, in - (prefix ? c->prefix_tokens : 0), &text, &exact, err);
		if (rc == 0)
			add_item(w, ci, input_body(c, prefix, sb_str(&text), out), k->tk ? k->fit.tokens : in, exact, out);
	}
	sb_release(&text);
	gsl_rng_free(r);
	return rc;
}

/* A trace entry's blocks (its hash_ids but the last, each block_tokens
 * words drawn from the id) as the fixed start of its prompt, so that
 * entries sharing blocks share that text. */
static void trace_lead(const struct http_workload *w, const struct http_wl_class *c, const struct http_trace *t,
		       const struct http_trace_entry *e, gsl_rng *r, struct sb *lead)
{
	const uint64_t *ids = http_trace_hash_ids(t);

	sb_reset(lead);
	sb_add(lead, "", 0);
	for (uint32_t i = 0; i + 1 < e->n_hash; i++) {
		seed_rng(r, c->seed, 0xB10C, ids[e->hash_off + i]);
		if (i)
			sb_putc(lead, ' ');
		http_prompts_words(lead, r, (size_t)w->block_tokens);
	}
}

static int prepare_trace(struct http_workload *w, struct http_wl_class *c, uint32_t ci, struct counter *k,
			 const struct http_trace *t, struct err *err)
{
	gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);
	struct sb text = SB_INIT, lead = SB_INIT;
	long base = 0; /* the offset the fit learns, less its lead's words */
	int rc = 0;

	for (size_t i = 0; i < http_trace_count(t) && rc == 0; i++) {
		const struct http_trace_entry *e = http_trace_get(t, i);
		long in = e->input_tokens > 0 ? (long)e->input_tokens : 1;
		long lead_words = e->n_hash > 1 ? (long)(e->n_hash - 1) * (long)w->block_tokens : 0;
		bool exact;

		trace_lead(w, c, t, e, r, &lead);
		seed_rng(r, c->seed, ci, (uint64_t)i);
		k->fit.offset = base + lround((k->fit.slope > 0 ? k->fit.slope : 1.0) * (double)lead_words);
		rc = make_text(w, k, r, NULL, lead_words ? sb_str(&lead) : NULL, in, in - lead_words, &text, &exact, err);
		base = k->fit.offset - lround((k->fit.slope > 0 ? k->fit.slope : 1.0) * (double)lead_words);
		if (rc == 0)
			add_item(w, ci, input_body(c, NULL, sb_str(&text), (long)e->output_tokens),
				 k->tk ? k->fit.tokens : in, exact, (long)e->output_tokens);
	}
	sb_release(&text);
	sb_release(&lead);
	gsl_rng_free(r);
	return rc;
}

/* Which format a dataset file is in, from its first bytes: the key its
 * first row's turns are under. */
static enum http_dataset_format detect_format(const char *path, const struct http_wl_class *c)
{
	char buf[8192], *key;
	size_t n;
	FILE *f = fopen(path, "re");
	enum http_dataset_format fmt = HTTP_DATASET_PROMPTS;

	if (!f)
		return fmt; /* opening it says why */
	n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = '\0';
	key = xasprintf("\"%s\"", c->ds_keys[0] ? c->ds_keys[0] : "conversations");
	if (strstr(buf, key))
		fmt = HTTP_DATASET_SHAREGPT;
	free(key);
	key = xasprintf("\"%s\"", c->ds_keys[0] ? c->ds_keys[0] : "messages");
	if (fmt == HTTP_DATASET_PROMPTS && strstr(buf, key))
		fmt = HTTP_DATASET_OPENAI;
	free(key);
	return fmt;
}

static int open_dataset(struct http_wl_class *c, const char *dir, struct err *err)
{
	char *full = c->ds_path[0] == '/' ? xstrdup(c->ds_path) : xasprintf("%s/%s", dir ? dir : ".", c->ds_path);
	int rc;

	if ((int)c->ds.format < 0)
		c->ds.format = detect_format(full, c);
	c->ds.path = full;
	c->ds.label = c->ds_path;
	c->ds.turns_key = c->ds_keys[0];
	c->ds.role_key = c->ds_keys[1];
	c->ds.text_key = c->ds_keys[2];
	rc = http_dataset_open(&c->dataset, &c->ds, err);
	c->ds.path = NULL;
	c->ds.label = NULL;
	free(full);
	/* a dataset that cannot be read is bad input as much as a malformed one */
	return rc ? ERR_INPUT : 0;
}

/* One request per conversation: its first user turn (with the system
 * turns before it, and the shared prefix). */
static int prepare_dataset(struct http_workload *w, struct http_wl_class *c, uint32_t ci)
{
	gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);

	for (size_t i = 0; i < http_dataset_count(c->dataset); i++) {
		const struct http_dataset_conv *cv = http_dataset_get(c->dataset, i);
		const char *prefix = c->prefixes ? c->prefix[i % (size_t)c->prefixes] : NULL;
		struct sb system = SB_INIT;
		const char *user = NULL;
		long out;

		for (uint32_t t = 0; t < cv->n_turns && !user; t++) {
			if (cv->turns[t].role == HTTP_ROLE_SYSTEM) {
				sb_puts(&system, system.len ? "\n" : "");
				sb_puts(&system, cv->turns[t].text);
			} else if (cv->turns[t].role == HTTP_ROLE_USER) {
				user = cv->turns[t].text;
			}
		}
		if (prefix) {
			struct sb both = SB_INIT;

			http_prompts_join(&both, system.len ? prefix : NULL, system.len ? sb_str(&system) : prefix);
			sb_release(&system);
			system = both;
		}
		seed_rng(r, c->seed, ci, (uint64_t)i);
		out = c->output_from_data ? (cv->output_tokens ? (long)cv->output_tokens : DEFAULT_OUTPUT_TOKENS)
					  : http_lengths_sample(&c->output, r);
		add_item(w, ci, input_body(c, system.len ? sb_str(&system) : NULL, user ? user : "", out),
			 (long)cv->input_tokens + (prefix ? c->prefix_tokens : 0), false, out);
		sb_release(&system);
	}
	gsl_rng_free(r);
	return 0;
}

/* The order requests take the items in: one class, its items in turn;
 * several, a seeded draw of a class by weight for each position, and
 * that class's next item. */
static void build_order(struct http_workload *w)
{
	size_t *next = xcalloc(w->n_classes, sizeof(*next));
	double total = 0;
	gsl_rng *r;

	if (w->n_classes == 1) {
		w->n_order = w->n_items;
		w->order = xmalloc((w->n_order ? w->n_order : 1) * sizeof(*w->order));
		for (size_t i = 0; i < w->n_order; i++)
			w->order[i] = (uint32_t)i;
		free(next);
		return;
	}
	for (size_t i = 0; i < w->n_classes; i++)
		total += w->classes[i].weight;
	w->n_order = ORDER_PER_CLASS * w->n_classes;
	if (w->n_order < w->n_items)
		w->n_order = w->n_items;
	w->order = xmalloc(w->n_order * sizeof(*w->order));
	r = gsl_rng_alloc(gsl_rng_mt19937);
	seed_rng(r, w->classes[0].seed, 0xC1A55, 0);
	for (size_t k = 0; k < w->n_order; k++) {
		double u = gsl_rng_uniform(r) * total;
		size_t c = 0;

		while (c + 1 < w->n_classes && u >= w->classes[c].weight) {
			u -= w->classes[c].weight;
			c++;
		}
		w->order[k] = (uint32_t)(w->classes[c].first_item + next[c]++ % w->classes[c].n_items);
	}
	gsl_rng_free(r);
	free(next);
}

static int prepare_class(struct http_workload *w, struct http_wl_class *c, uint32_t ci,
			 const struct http_workload_env *env, struct err *err)
{
	struct counter k;
	int rc;

	if (c->source == HTTP_WL_DATASET && (rc = open_dataset(c, env->dir, err)) != 0)
		return rc;
	if ((rc = counter_open(w, c, env, &k, err)) != 0)
		return rc;
	c->first_item = w->n_items;
	if (c->prefixes)
		rc = prepare_prefixes(w, c, ci, &k, err);
	if (rc == 0 && !c->sessions) {
		if (c->source == HTTP_WL_TRACE)
			rc = prepare_trace(w, c, ci, &k, env->trace, err);
		else if (c->source == HTTP_WL_DATASET)
			rc = prepare_dataset(w, c, ci);
		else
			rc = prepare_synthetic(w, c, ci, &k, env, err);
	}
	c->n_items = w->n_items - c->first_item;
	if (k.tk)
		w->token_source = "tokenizer";
	counter_close(w, &k);
	return rc;
}

int http_workload_prepare(struct http_workload *w, const struct http_workload_env *env, struct err *err)
{
	int rc = 0;

	w->token_source = "estimate";
	for (size_t i = 0; i < w->n_classes && rc == 0; i++) {
		struct http_wl_class *c = &w->classes[i];

		if (c->source == HTTP_WL_TRACE && !env->trace)
			return err_set(err, ERR_INPUT, "a trace workload needs \"mode\": \"trace\"");
		rc = prepare_class(w, c, (uint32_t)i, env, err);
		if (rc && c->name)
			err_prefix(err, "class %s", c->name);
	}
	if (rc == 0 && !http_workload_sessions(w))
		build_order(w);
	return rc;
}

cJSON *http_workload_describe(const struct http_workload *w)
{
	cJSON *o = cJSON_CreateObject(), *cls = NULL;

	cJSON_AddStringToObject(o, "token_source", w->token_source ? w->token_source : "estimate");
	cJSON_AddNumberToObject(o, "tokenize_calls", (double)w->tokenize_calls);
	cJSON_AddNumberToObject(o, "fitted", (double)w->fitted);
	cJSON_AddNumberToObject(o, "not_fitted", (double)w->inexact);
	cJSON_AddNumberToObject(o, "distinct", (double)w->n_items);
	if (w->tokenize_note)
		cJSON_AddStringToObject(o, "tokenize_note", w->tokenize_note);
	for (size_t i = 0; i < w->n_classes; i++) {
		const struct http_wl_class *c = &w->classes[i];
		cJSON *e = cJSON_CreateObject();
		static const char *const sources[] = { "synthetic", "dataset", "trace" };

		if (c->name)
			cJSON_AddStringToObject(e, "name", c->name);
		cJSON_AddNumberToObject(e, "weight", c->weight);
		cJSON_AddStringToObject(e, "api", c->chat ? "chat" : "completions");
		cJSON_AddStringToObject(e, "source", sources[c->source]);
		cJSON_AddNumberToObject(e, "distinct", (double)c->n_items);
		if (c->source == HTTP_WL_SYNTHETIC)
			cJSON_AddItemToObject(e, "input_tokens", http_lengths_to_json(&c->input));
		if (!c->output_from_data)
			cJSON_AddItemToObject(e, "output_tokens", http_lengths_to_json(&c->output));
		if (c->dataset) {
			const struct http_dataset_stats *s = http_dataset_stats(c->dataset);
			cJSON *d = cJSON_AddObjectToObject(e, "dataset");

			cJSON_AddStringToObject(d, "path", c->ds_path);
			cJSON_AddStringToObject(d, "format", http_dataset_format_name(c->ds.format));
			cJSON_AddNumberToObject(d, "rows", (double)s->read);
			cJSON_AddNumberToObject(d, "kept", (double)s->kept);
			cJSON_AddNumberToObject(d, "filtered", (double)s->filtered);
			cJSON_AddNumberToObject(d, "skipped", (double)(s->no_user_turn + s->unsupported));
		}
		if (c->prefixes) {
			cJSON *p = cJSON_AddObjectToObject(e, "shared_prefix");

			cJSON_AddNumberToObject(p, "prefixes", (double)c->prefixes);
			cJSON_AddNumberToObject(p, "tokens", (double)c->prefix_tokens);
		}
		if (!cls)
			cls = cJSON_AddArrayToObject(o, "classes");
		cJSON_AddItemToArray(cls, e);
	}
	return o;
}

void http_workload_plan(const struct http_workload *w, struct http_plan *p)
{
	p->llm = true;
	p->sessions = http_workload_sessions(w);
	p->n_classes = w->n_classes;
	p->class_names = xcalloc(w->n_classes, sizeof(*p->class_names));
	for (size_t i = 0; i < w->n_classes; i++)
		p->class_names[i] = w->classes[i].name ? xstrdup(w->classes[i].name) : NULL;
	if (p->sessions) {
		/* sessions build their requests as they send them; a reply that
		 * is not a stream is read from the body kept */
		p->keep_body = !p->sse;
		return;
	}
	for (size_t i = 0; i < p->n_reqs; i++)
		free(p->reqs[i].data);
	free(p->reqs);
	p->n_reqs = w->n_items;
	p->reqs = xcalloc(w->n_items ? w->n_items : 1, sizeof(*p->reqs));
	p->meta = xcalloc(w->n_items ? w->n_items : 1, sizeof(*p->meta));
	for (size_t i = 0; i < w->n_items; i++) {
		const struct http_wl_item *it = &w->items[i];

		http_plan_wire(p, w->classes[it->cls].target, it->body, it->len, &p->reqs[i]);
		p->meta[i].cls = it->cls;
		p->meta[i].input_tokens = it->input_tokens;
		p->meta[i].input_exact = it->input_exact;
		p->meta[i].output_tokens = it->output_tokens;
	}
	p->n_order = w->n_order;
	p->order = xmalloc((w->n_order ? w->n_order : 1) * sizeof(*p->order));
	memcpy(p->order, w->order, w->n_order * sizeof(*p->order));
}

int http_workload_open(struct http_workload **out, const cJSON *bench, const char *name, const char *dir,
		       struct http_plan *plan, const struct http_trace *trace, long expected, struct err *err)
{
	struct errlist problems = ERRLIST_INIT;
	struct http_workload *w = NULL;
	char *origin = xasprintf("%s://%s", plan->tls ? "https" : "http", plan->authority);
	struct http_workload_env env = { .dir = dir, .url = plan->url, .origin = origin, .target = plan->target,
					 .headers = plan->header_lines, .n_headers = plan->n_headers,
					 .ca_file = plan->ca_file, .trace = trace, .expected_requests = expected };
	int rc;

	*out = NULL;
	if ((rc = http_workload_parse(&w, bench, name, &problems)) != 0) {
		rc = errlist_to_err(&problems, err, ERR_INPUT);
		goto done;
	}
	if (!w->have_prompts)
		goto done;
	if ((rc = http_workload_prepare(w, &env, err)) != 0)
		goto done;
	http_workload_plan(w, plan);
	*out = w;
	w = NULL;
done:
	http_workload_free(w);
	errlist_release(&problems);
	free(origin);
	return rc;
}
