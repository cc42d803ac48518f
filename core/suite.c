/*
 * suite.c: loading a declared suite (DESIGN section 3, docs/suite.md).
 *
 * The order of work: parse the JSON; check the top level; for each declared
 * benchmark expand its `params` matrix (substituting `{name}` in every
 * string), validate each expansion (duplicate messages from several
 * expansions are reported once), expand A/B `variants`, apply the suite's
 * `defaults`, and finally check that expanded names are unique.  Every
 * problem found is listed; nothing runs unless the list is empty.
 */
#include "suite.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "changepoint.h"
#include "http/runner.h"
#include "http/validity.h"
#include "ingest/ingest.h"
#include "ingest/runner.h"
#include "runner_cmd.h"
#include "efficiency.h"
#include "monitor.h"
#include "slo.h"
#include "verdict.h"
#include "util.h"

/* More expansions than this is almost certainly a mistake in `params`. */
#define SUITE_MAX_BENCHES 10000

static const char *const top_keys[] = {
	"$schema", "suite", "project", "description", "baseline", "compare", "defaults", "order",
	"changepoints", "benchmarks", "price", "validity",
};

static const char *const baseline_keys[] = { "branch", "runs" };

/* Keys that fix how many repetitions run; a benchmark that sets any of them
 * takes none of these from `defaults`. */
static const char *const count_keys[] = {
	"repetitions", "min_repetitions", "max_repetitions", "min_time", "target",
};

static const char *const default_keys[] = {
	"warmup", "repetitions", "min_repetitions", "max_repetitions", "min_time", "target",
	"timeout", "env", "pass_env", "cwd", "expect_exit", "measure", "prepare", "conclude",
};

static const char *const bench_keys[] = {
	/* command benchmarks (this file) */
	"name", "description", "params", "command", "shell", "env", "pass_env", "cwd", "warmup",
	"repetitions", "min_repetitions", "max_repetitions", "min_time", "target", "timeout",
	"expect_exit", "setup", "cleanup", "prepare", "conclude", "measure", "emits", "tags",
	"variants", "reference", "calibration",
	/* sections other modules validate */
	"slo",                                     /* slo_validate */
	"compare",                                 /* verdict_settings_validate */
	"monitor",                                 /* monitor_validate */
	"http", "load", "stream", "request_slo",   /* http_runner_validate */
	"journey", "faults",                       /* http_runner_validate: journeys, fault injection */
	"server",                                  /* http_runner_validate: the target started for it */
	"prompts", "classes", "requests",          /* http_runner_validate (LLM workloads, records) */
	"ingest",                                  /* ingest_runner_validate */
};

/* Keys of "http" and "journey" benchmarks only (an error anywhere else). */
static const char *const http_only[] = {
	"load", "stream", "request_slo", "faults", "prompts", "classes", "requests", "server",
};

/* Not configuration: changing these does not change what is measured. */
/* Keys that do not change what a benchmark measures, left out of its
 * configuration hash (docs/suite.md "Configuration hash" lists them; a unit
 * test holds the two together).  How many times a thing is measured is not
 * what is measured: repetition counts never split a history. */
static const char *const non_config_keys[] = {
	"name", "description", "tags", "slo", "compare", "monitor", "repetitions",
	"min_repetitions", "max_repetitions", "min_time", "target", "warmup", "timeout",
	"variants", "reference", "pass_env",
};
/* The same inside the "load" object of HTTP and journey benchmarks, and
 * inside an HTTP benchmark's "server" (how perfgate learns that the server
 * is ready is not what the load measures). */
static const char *const non_config_load_keys[] = { "repetitions" };
static const char *const non_config_server_keys[] = { "ready", "ready_timeout", "stop_timeout" };

static const char *const measure_names[] = { "instructions", "cycles" };

/* errlist_add, but each distinct message once (expansions repeat them). */
/* ---- value checks; each reports at `path` ---- */

static void check_int_min(const cJSON *v, const char *path, long min, struct errlist *p)
{
	char what[64];
	if (json_is_count(v, min))
		return;
	if (cJSON_IsNumber(v) && v->valuedouble > (double)JSON_COUNT_MAX)
		snprintf(what, sizeof(what), "an integer from %ld to %ld", min, JSON_COUNT_MAX);
	else
		snprintf(what, sizeof(what), "an integer >= %ld", min);
	json_expected(p, path, what, v);
}

static void check_string(const cJSON *v, const char *path, struct errlist *p)
{
	if (!cJSON_IsString(v) || !v->valuestring[0])
		json_expected(p, path, "a non-empty string", v);
}

static void check_duration(const cJSON *v, const char *path, bool allow_zero, struct errlist *p)
{
	double d;
	if (json_duration_value(v, &d) == 0 && (d > 0 || (allow_zero && d == 0)))
		return;
	struct err e = ERR_INIT;
	if ((cJSON_IsNumber(v) && v->valuedouble > DURATION_MAX_S) ||
	    (cJSON_IsString(v) && parse_duration(v->valuestring, &d, &e) != 0 && strstr(e.msg, "at most"))) {
		json_expected(p, path, "a duration of at most " DURATION_MAX_TEXT, v);
		return;
	}
	json_expected(p, path,
		 allow_zero ? "a duration >= 0 (\"30s\", \"250ms\" or a number of seconds)"
			    : "a duration > 0 (\"30s\", \"250ms\" or a number of seconds)",
		 v);
}

/* A name (json_name_problem) at path, when v is a non-empty string. */
static void check_name(const cJSON *v, const char *path, struct errlist *p)
{
	char why[96];

	if (cJSON_IsString(v) && v->valuestring[0] && json_name_problem(v->valuestring, why, sizeof(why)))
		json_problem(p, "%s: %s", path, why);
}

static void check_env(const cJSON *v, const char *path, struct errlist *p)
{
	const cJSON *it;
	if (!cJSON_IsObject(v)) {
		json_expected(p, path, "an object of strings", v);
		return;
	}
	cJSON_ArrayForEach(it, v) {
		char *sub = xasprintf("%s.%s", path, it->string);
		if (!it->string[0] || strchr(it->string, '='))
			json_problem(p, "%s: invalid variable name \"%s\"", path, it->string);
		else if (!cJSON_IsString(it))
			json_expected(p, sub, "a string", it);
		free(sub);
	}
}

/* "pass_env": names of variables perfgate keeps from children as secrets
 * (proc_secret_name) that this benchmark's commands may see on purpose. */
static void check_pass_env(const cJSON *v, const char *path, struct errlist *p)
{
	const cJSON *it;
	size_t i = 0;

	if (!cJSON_IsArray(v)) {
		json_expected(p, path, "a list of variable names", v);
		return;
	}
	cJSON_ArrayForEach(it, v) {
		char *sub = xasprintf("%s[%zu]", path, i++);

		if (!cJSON_IsString(it))
			json_expected(p, sub, "a variable name", it);
		else if (!it->valuestring[0] || strchr(it->valuestring, '='))
			json_problem(p, "%s: invalid variable name \"%s\"", sub, it->valuestring);
		free(sub);
	}
}

static void check_argv(const cJSON *v, const char *path, struct errlist *p)
{
	const cJSON *it;
	size_t i = 0;
	if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) == 0) {
		json_expected(p, path, "a non-empty array of strings (the program and its arguments)", v);
		return;
	}
	cJSON_ArrayForEach(it, v) {
		if (!cJSON_IsString(it) || (i == 0 && !it->valuestring[0])) {
			char *sub = xasprintf("%s[%zu]", path, i);
			json_expected(p, sub, i == 0 ? "a non-empty string" : "a string", it);
			free(sub);
		}
		i++;
	}
}

/* Hooks: a shell string or an argv array. */
static void check_hook(const cJSON *v, const char *path, struct errlist *p)
{
	if (cJSON_IsString(v)) {
		if (!v->valuestring[0])
			json_expected(p, path, "a shell command or an array of strings", v);
		return;
	}
	if (cJSON_IsArray(v)) {
		check_argv(v, path, p);
		return;
	}
	json_expected(p, path, "a shell command or an array of strings", v);
}

static void check_expect_exit(const cJSON *v, const char *path, struct errlist *p)
{
	const cJSON *it;
	size_t i = 0;
	if (json_is_int(v) && v->valuedouble >= 0 && v->valuedouble <= 255)
		return;
	if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) == 0) {
		json_expected(p, path, "an exit code 0..255 or a non-empty list of them", v);
		return;
	}
	cJSON_ArrayForEach(it, v) {
		if (!(json_is_int(it) && it->valuedouble >= 0 && it->valuedouble <= 255)) {
			char *sub = xasprintf("%s[%zu]", path, i);
			json_expected(p, sub, "an exit code 0..255", it);
			free(sub);
		}
		i++;
	}
}

static void check_measure(const cJSON *v, const char *path, struct errlist *p)
{
	const cJSON *it;
	size_t i = 0;
	if (!cJSON_IsArray(v)) {
		json_expected(p, path, "a list of \"instructions\", \"cycles\"", v);
		return;
	}
	cJSON_ArrayForEach(it, v) {
		char *sub = xasprintf("%s[%zu]", path, i);
		if (!cJSON_IsString(it)) {
			json_expected(p, sub, "\"instructions\" or \"cycles\"", it);
		} else if (str_index(it->valuestring, measure_names, ARRAY_SIZE(measure_names)) < 0) {
			const char *best = closest_match(it->valuestring, measure_names,
							 ARRAY_SIZE(measure_names));
			if (best)
				json_problem(p, "%s: unknown measure \"%s\"; did you mean \"%s\"?", sub,
					it->valuestring, best);
			else
				json_problem(p, "%s: unknown measure \"%s\" (known: instructions, cycles)", sub,
					it->valuestring);
		}
		free(sub);
		i++;
	}
}

static void check_target(const cJSON *v, const char *path, struct errlist *p)
{
	double d;
	if (json_target_value(v, &d) != 0)
		json_expected(p, path, "a relative width like \"5%\" or 0.05 (between 0 and 1)", v);
}

static void check_tags(const cJSON *v, const char *path, struct errlist *p)
{
	const cJSON *it;
	if (cJSON_IsArray(v)) {
		size_t i = 0;
		cJSON_ArrayForEach(it, v) {
			if (!cJSON_IsString(it)) {
				char *sub = xasprintf("%s[%zu]", path, i);
				json_expected(p, sub, "a string", it);
				free(sub);
			}
			i++;
		}
		return;
	}
	if (cJSON_IsObject(v)) {
		check_env(v, path, p);
		return;
	}
	json_expected(p, path, "a list of strings or an object of strings", v);
}

/* The keys shared by benchmarks and `defaults`: counts, timing, process setup. */
static void check_common(const cJSON *b, const char *path, struct errlist *p)
{
	const cJSON *v;
	char *sub;
	bool fixed = cJSON_HasObjectItem(b, "repetitions");

#define SUB(key) (free(sub), sub = xasprintf("%s.%s", path, key))
	sub = NULL;
	if ((v = cJSON_GetObjectItemCaseSensitive(b, "warmup")))
		check_int_min(v, SUB("warmup"), 0, p);
	if ((v = cJSON_GetObjectItemCaseSensitive(b, "repetitions")))
		check_int_min(v, SUB("repetitions"), 1, p);
	if ((v = cJSON_GetObjectItemCaseSensitive(b, "min_repetitions"))) {
		check_int_min(v, SUB("min_repetitions"), 1, p);
		if (fixed)
			json_problem(p, "%s: cannot be combined with \"repetitions\"", sub);
	}
	if ((v = cJSON_GetObjectItemCaseSensitive(b, "max_repetitions"))) {
		const cJSON *min = cJSON_GetObjectItemCaseSensitive(b, "min_repetitions");
		check_int_min(v, SUB("max_repetitions"), 1, p);
		if (fixed)
			json_problem(p, "%s: cannot be combined with \"repetitions\"", sub);
		if (json_is_int(v) && json_is_int(min) && min->valuedouble >= 1 &&
		    v->valuedouble < min->valuedouble)
			json_problem(p, "%s: must be >= min_repetitions (%.0f), got %.0f", sub,
				min->valuedouble, v->valuedouble);
	}
	if ((v = cJSON_GetObjectItemCaseSensitive(b, "min_time"))) {
		check_duration(v, SUB("min_time"), true, p);
		if (fixed)
			json_problem(p, "%s: cannot be combined with \"repetitions\"", sub);
	}
	if ((v = cJSON_GetObjectItemCaseSensitive(b, "target"))) {
		check_target(v, SUB("target"), p);
		if (fixed)
			json_problem(p, "%s: cannot be combined with \"repetitions\"", sub);
	}
	if ((v = cJSON_GetObjectItemCaseSensitive(b, "timeout")))
		check_duration(v, SUB("timeout"), false, p);
	if ((v = cJSON_GetObjectItemCaseSensitive(b, "env")))
		check_env(v, SUB("env"), p);
	if ((v = cJSON_GetObjectItemCaseSensitive(b, "pass_env")))
		check_pass_env(v, SUB("pass_env"), p);
	if ((v = cJSON_GetObjectItemCaseSensitive(b, "cwd")))
		check_string(v, SUB("cwd"), p);
	if ((v = cJSON_GetObjectItemCaseSensitive(b, "expect_exit")))
		check_expect_exit(v, SUB("expect_exit"), p);
	if ((v = cJSON_GetObjectItemCaseSensitive(b, "measure")))
		check_measure(v, SUB("measure"), p);
	if ((v = cJSON_GetObjectItemCaseSensitive(b, "prepare")))
		check_hook(v, SUB("prepare"), p);
	if ((v = cJSON_GetObjectItemCaseSensitive(b, "conclude")))
		check_hook(v, SUB("conclude"), p);
#undef SUB
	free(sub);
}

/* What the benchmark runs: one of a command, a shell line, an HTTP load or
 * a journey (a variant may take its benchmark's). */
static void check_kind(const cJSON *b, const char *path, bool variant, struct errlist *p)
{
	bool has_cmd = cJSON_HasObjectItem(b, "command");
	bool has_shell = cJSON_HasObjectItem(b, "shell");
	bool has_journey = cJSON_HasObjectItem(b, "journey");
	bool has_http = cJSON_HasObjectItem(b, "http") || has_journey;

	if (!variant && !has_cmd && !has_shell && !has_http)
		json_problem(p, "%s: expected one of \"command\", \"shell\", \"http\" or \"journey\"", path);
	if (has_cmd && has_shell)
		json_problem(p, "%s: \"command\" and \"shell\" exclude each other", path);
	if (has_journey && cJSON_HasObjectItem(b, "http"))
		json_problem(p, "%s: \"http\" and \"journey\" exclude each other (a journey's steps each have an \"http\")",
			     path);
	if (has_http && (has_cmd || has_shell))
		json_problem(p, "%s: \"%s\" cannot be combined with \"%s\"", path, has_journey ? "journey" : "http",
			     has_cmd ? "command" : "shell");
}

/*
 * One benchmark object (after params substitution).  `variant` is set for
 * the override objects in `variants`, which need not name a kind.
 */
static void check_bench(const cJSON *b, const char *path, bool variant, struct errlist *p)
{
	const cJSON *v;
	bool has_cmd = cJSON_HasObjectItem(b, "command");
	bool has_shell = cJSON_HasObjectItem(b, "shell");
	bool has_journey = cJSON_HasObjectItem(b, "journey");
	bool has_http = cJSON_HasObjectItem(b, "http") || has_journey; /* a journey is an HTTP benchmark */
	bool has_ingest = cJSON_HasObjectItem(b, "ingest");
	char *sub = NULL;

	if (!cJSON_IsObject(b)) {
		json_expected(p, path, "an object", b);
		return;
	}
	if (variant) {
		static const char *const not_in_variant[] = { "params", "variants", "reference" };
		const char *keys[ARRAY_SIZE(bench_keys)];
		size_t n = 0;
		for (size_t i = 0; i < ARRAY_SIZE(bench_keys); i++)
			keys[n++] = bench_keys[i];
		json_check_keys(b, path, keys, n, p);
		for (size_t i = 0; i < ARRAY_SIZE(not_in_variant); i++)
			if (cJSON_HasObjectItem(b, not_in_variant[i]))
				json_problem(p, "%s.%s: not allowed in a variant", path, not_in_variant[i]);
	} else {
		json_check_keys(b, path, bench_keys, ARRAY_SIZE(bench_keys), p);
	}

#define SUB(key) (free(sub), sub = xasprintf("%s.%s", path, key))
	v = cJSON_GetObjectItemCaseSensitive(b, "name");
	if (!v) {
		json_problem(p, "%s.name: missing, expected a non-empty string", path);
	} else {
		check_string(v, SUB("name"), p);
		if (cJSON_IsString(v) && !variant && strchr(v->valuestring, '@'))
			json_problem(p, "%s: \"%s\": '@' is reserved for variants (NAME@VARIANT)", sub,
				v->valuestring);
	}
	check_kind(b, path, variant, p);
	if ((v = cJSON_GetObjectItemCaseSensitive(b, "command")))
		check_argv(v, SUB("command"), p);
	if ((v = cJSON_GetObjectItemCaseSensitive(b, "shell")))
		check_string(v, SUB("shell"), p);
	if ((v = cJSON_GetObjectItemCaseSensitive(b, "description")) && !cJSON_IsString(v))
		json_expected(p, SUB("description"), "a string", v);
	check_common(b, path, p);
	if ((v = cJSON_GetObjectItemCaseSensitive(b, "setup")))
		check_hook(v, SUB("setup"), p);
	if ((v = cJSON_GetObjectItemCaseSensitive(b, "cleanup")))
		check_hook(v, SUB("cleanup"), p);
	if ((v = cJSON_GetObjectItemCaseSensitive(b, "calibration"))) {
		check_hook(v, SUB("calibration"), p);
		if (has_http || (!has_cmd && !has_shell && !variant))
			json_problem(p, "%s: only for command benchmarks (\"command\" or \"shell\")", sub);
	}
	if ((v = cJSON_GetObjectItemCaseSensitive(b, "emits"))) {
		if (!cJSON_IsString(v) || strcmp(v->valuestring, "json") != 0)
			json_expected(p, SUB("emits"), "\"json\"", v);
	}
	if ((v = cJSON_GetObjectItemCaseSensitive(b, "tags")))
		check_tags(v, SUB("tags"), p);
	if ((v = cJSON_GetObjectItemCaseSensitive(b, "slo")))
		slo_validate(v, SUB("slo"), p);
	if ((v = cJSON_GetObjectItemCaseSensitive(b, "compare")))
		verdict_settings_validate(v, SUB("compare"), p);
	if ((v = cJSON_GetObjectItemCaseSensitive(b, "monitor")))
		monitor_validate(v, SUB("monitor"), p);
	if (has_http) {
		/* Hooks run around command and ingest benchmarks only; ignored
		 * here they hid a target that never started (all requests refused). */
		static const char *const hooks[] = { "setup", "cleanup", "prepare", "conclude" };
		for (size_t i = 0; i < ARRAY_SIZE(hooks); i++)
			if (cJSON_HasObjectItem(b, hooks[i]))
				json_problem(p, "%s.%s: hooks run only around command and ingest benchmarks, never around "
					     "\"%s\" ones: declare the target as the benchmark's \"server\", which "
					     "perfgate starts and stops (docs/load.md), or start it before perfgate",
					     path, hooks[i], cJSON_HasObjectItem(b, "journey") ? "journey" : "http");
		http_runner_validate(b, path, p);
	} else {
		for (size_t i = 0; i < ARRAY_SIZE(http_only); i++)
			if (cJSON_HasObjectItem(b, http_only[i]))
				json_problem(p, "%s.%s: only for \"http\" and \"journey\" benchmarks", path, http_only[i]);
	}
	if (has_ingest) {
		v = cJSON_GetObjectItemCaseSensitive(b, "ingest");
		ingest_runner_validate(v, SUB("ingest"), p);
		if (!variant && !has_cmd && !has_shell)
			json_problem(p, "%s: needs \"command\" or \"shell\" (the program whose output is ingested)",
				sub);
	}
#undef SUB
	free(sub);
}

/* ---- params: matrices ---- */

static bool check_params(const cJSON *params, const char *path, struct errlist *p)
{
	const cJSON *it;
	bool good = true;

	if (!cJSON_IsObject(params) || !params->child) {
		json_expected(p, path, "an object mapping names to lists of values", params);
		return false;
	}
	cJSON_ArrayForEach(it, params) {
		char *sub = xasprintf("%s.%s", path, it->string);
		const cJSON *val;
		size_t i = 0;
		if (!it->string[0] || strpbrk(it->string, "{}")) {
			json_problem(p, "%s: invalid parameter name \"%s\"", path, it->string);
			good = false;
		}
		if (!cJSON_IsArray(it) || cJSON_GetArraySize(it) == 0) {
			json_expected(p, sub, "a non-empty list of strings, numbers or booleans", it);
			good = false;
		} else {
			cJSON_ArrayForEach(val, it) {
				if (!cJSON_IsString(val) && !cJSON_IsNumber(val) && !cJSON_IsBool(val)) {
					char *el = xasprintf("%s[%zu]", sub, i);
					json_expected(p, el, "a string, number or boolean", val);
					free(el);
					good = false;
				}
				i++;
			}
		}
		free(sub);
	}
	return good;
}

/* The text a parameter value substitutes as. */
static char *param_text(const cJSON *v)
{
	if (cJSON_IsString(v))
		return xstrdup(v->valuestring);
	if (cJSON_IsBool(v))
		return xstrdup(cJSON_IsTrue(v) ? "true" : "false");
	if (json_is_int(v))
		return xasprintf("%.0f", v->valuedouble);
	{
		char *t = cJSON_PrintUnformatted(v);
		char *r = xstrdup(t ? t : "");
		free(t);
		return r;
	}
}

/* Replace `{name}` for each name in combo; unknown `{...}` stay as they are
 * (HTTP bodies use them for dataset fields). */
static char *subst(const char *s, const cJSON *combo)
{
	struct sb out = SB_INIT;
	const char *c = s;

	while (*c) {
		const char *close;
		const cJSON *val = NULL;
		if (*c == '{' && (close = strchr(c + 1, '}'))) {
			const cJSON *it;
			size_t len = (size_t)(close - c - 1);
			cJSON_ArrayForEach(it, combo)
				if (strlen(it->string) == len && strncmp(it->string, c + 1, len) == 0) {
					val = it;
					break;
				}
			if (val) {
				char *t = param_text(val);
				sb_puts(&out, t);
				free(t);
				c = close + 1;
				continue;
			}
		}
		sb_putc(&out, *c++);
	}
	if (!out.buf)
		return xstrdup("");
	return sb_detach(&out);
}

/* Members whose strings stay strings even when they are exactly "{name}"
 * of a number parameter (argv, environment values, names, paths). */
static const char *const string_keys[] = {
	"name", "command", "shell", "env", "cwd", "setup", "cleanup", "prepare", "conclude", "tags",
	"description",
};

/* Substitute in every string of the tree, in place.  Elsewhere, a string
 * that is exactly "{name}" of a number or boolean parameter becomes that
 * value, so that "repetitions": "{reps}" or an HTTP body's
 * "max_tokens": "{n}" get numbers. */
static void subst_tree(cJSON *node, const cJSON *combo, bool typed)
{
	cJSON *it = node->child;
	while (it) {
		cJSON *next = it->next;
		bool t = typed && !(it->string && str_index(it->string, string_keys, ARRAY_SIZE(string_keys)) >= 0);
		if (cJSON_IsString(it) && strchr(it->valuestring, '{')) {
			const cJSON *exact = NULL, *pv;
			size_t len = strlen(it->valuestring);
			if (t && len > 2 && it->valuestring[0] == '{' && it->valuestring[len - 1] == '}')
				cJSON_ArrayForEach(pv, combo)
					if (strlen(pv->string) == len - 2 &&
					    strncmp(pv->string, it->valuestring + 1, len - 2) == 0)
						exact = pv;
			if (exact && !cJSON_IsString(exact)) {
				cJSON *dup = cJSON_Duplicate(exact, false);
				if (cJSON_IsObject(node)) {
					cJSON_ReplaceItemInObjectCaseSensitive(node, it->string, dup);
				} else {
					/* The copy carries the parameter's name as its key. */
					cJSON_free(dup->string);
					dup->string = NULL;
					cJSON_ReplaceItemViaPointer(node, it, dup);
				}
			} else {
				char *text = subst(it->valuestring, combo);
				cJSON_SetValuestring(it, text);
				free(text);
			}
		} else if (cJSON_IsArray(it) || cJSON_IsObject(it)) {
			subst_tree(it, combo, t);
		}
		it = next;
	}
}

/* ---- canonical JSON and the configuration hash ---- */

void suite_config_hash(const cJSON *bench, const cJSON *extra, char out[65])
{
	cJSON *c = cJSON_Duplicate(bench, true), *load;
	char *text;

	for (size_t i = 0; i < ARRAY_SIZE(non_config_keys); i++)
		cJSON_DeleteItemFromObjectCaseSensitive(c, non_config_keys[i]);
	if ((load = cJSON_GetObjectItemCaseSensitive(c, "load")) && cJSON_IsObject(load))
		for (size_t i = 0; i < ARRAY_SIZE(non_config_load_keys); i++)
			cJSON_DeleteItemFromObjectCaseSensitive(load, non_config_load_keys[i]);
	if ((load = cJSON_GetObjectItemCaseSensitive(c, "server")) && cJSON_IsObject(load))
		for (size_t i = 0; i < ARRAY_SIZE(non_config_server_keys); i++)
			cJSON_DeleteItemFromObjectCaseSensitive(load, non_config_server_keys[i]);
	if (extra)
		cJSON_AddItemToObject(c, "runtime", cJSON_Duplicate(extra, true));
	text = json_canonical(c);
	sha256_hex(text, strlen(text), out);
	free(text);
	cJSON_Delete(c);
}

/* ---- loading ---- */

static void bench_release(struct suite_bench *b)
{
	free(b->name);
	cJSON_Delete(b->raw);
	cJSON_Delete(b->params);
	free(b->variant_of);
	free(b->variant);
}

void suite_benches_free(struct suite_bench *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		bench_release(&v[i]);
	free(v);
}

void suite_keep_only(struct suite *s, const char *const *names, size_t n)
{
	size_t kept = 0;

	for (size_t i = 0; i < s->n_benches; i++) {
		bool keep = false;

		for (size_t j = 0; j < n && !keep; j++)
			keep = strcmp(s->benches[i].name, names[j]) == 0;
		if (!keep)
			bench_release(&s->benches[i]);
		else if (kept++ != i)
			s->benches[kept - 1] = s->benches[i];
	}
	s->n_benches = kept;
}

void suite_free(struct suite *s)
{
	if (!s)
		return;
	suite_benches_free(s->benches, s->n_benches);
	free(s->path);
	free(s->dir);
	free(s->name);
	free(s->project);
	cJSON_Delete(s->raw);
	free(s);
}

const struct suite_bench *suite_find_bench(const struct suite *s, const char *name)
{
	for (size_t i = 0; i < s->n_benches; i++)
		if (strcmp(s->benches[i].name, name) == 0)
			return &s->benches[i];
	return NULL;
}

/* Expanded benchmarks while loading, with the declared index for messages. */
struct pending {
	struct suite_bench *v;
	size_t *decl;   /* declared index of each */
	size_t n, alloc, alloc_decl;
};

static void pending_add(struct pending *pd, cJSON *raw, cJSON *params, size_t decl)
{
	struct suite_bench *b;
	XGROW(pd->v, pd->alloc, pd->n + 1);
	XGROW(pd->decl, pd->alloc_decl, pd->n + 1);
	b = &pd->v[pd->n];
	memset(b, 0, sizeof(*b));
	b->raw = raw;
	b->params = params;
	pd->decl[pd->n++] = decl;
}

static void apply_defaults(cJSON *b, const cJSON *defaults)
{
	const cJSON *it;
	bool has_count = false;

	if (!cJSON_IsObject(defaults))
		return;
	for (size_t i = 0; i < ARRAY_SIZE(count_keys); i++)
		has_count = has_count || cJSON_HasObjectItem(b, count_keys[i]);
	cJSON_ArrayForEach(it, defaults) {
		cJSON *mine = cJSON_GetObjectItemCaseSensitive(b, it->string);
		if (strcmp(it->string, "env") == 0 && cJSON_IsObject(mine) && cJSON_IsObject(it)) {
			const cJSON *e;
			cJSON_ArrayForEach(e, it)
				if (!cJSON_HasObjectItem(mine, e->string))
					cJSON_AddItemToObject(mine, e->string, cJSON_Duplicate(e, true));
			continue;
		}
		if (mine)
			continue;
		if (has_count && str_index(it->string, count_keys, ARRAY_SIZE(count_keys)) >= 0)
			continue;
		cJSON_AddItemToObject(b, it->string, cJSON_Duplicate(it, true));
	}
}

/* Merge a variant's overrides into a copy of the benchmark. */
static cJSON *merge_variant(const cJSON *bench, const cJSON *var)
{
	cJSON *m = cJSON_Duplicate(bench, true);
	const cJSON *it;

	cJSON_DeleteItemFromObjectCaseSensitive(m, "variants");
	cJSON_DeleteItemFromObjectCaseSensitive(m, "reference");
	/* A variant that names its own program replaces the benchmark's. */
	if (cJSON_HasObjectItem(var, "command") || cJSON_HasObjectItem(var, "shell")) {
		cJSON_DeleteItemFromObjectCaseSensitive(m, "command");
		cJSON_DeleteItemFromObjectCaseSensitive(m, "shell");
	}
	cJSON_ArrayForEach(it, var) {
		cJSON *mine;
		if (strcmp(it->string, "name") == 0)
			continue;
		mine = cJSON_GetObjectItemCaseSensitive(m, it->string);
		/* env and http merge key by key; everything else replaces. */
		if (mine && cJSON_IsObject(mine) && cJSON_IsObject(it) &&
		    (strcmp(it->string, "env") == 0 || strcmp(it->string, "http") == 0)) {
			const cJSON *e;
			cJSON_ArrayForEach(e, it) {
				cJSON_DeleteItemFromObjectCaseSensitive(mine, e->string);
				cJSON_AddItemToObject(mine, e->string, cJSON_Duplicate(e, true));
			}
			continue;
		}
		cJSON_DeleteItemFromObjectCaseSensitive(m, it->string);
		cJSON_AddItemToObject(m, it->string, cJSON_Duplicate(it, true));
	}
	return m;
}

/* Expand variants of one (params-expanded) benchmark; returns false when it
 * has none (the caller keeps the benchmark itself). */
/* Each variant is a benchmark object with a unique name free of '@';
 * false when one is not. */
static bool check_variants(const cJSON *vars, const char *vpath, struct errlist *p)
{
	const cJSON *v;
	bool good = true;
	size_t i = 0;

	cJSON_ArrayForEach(v, vars) {
		char *sub = xasprintf("%s[%zu]", vpath, i++);
		const cJSON *vn = cJSON_GetObjectItemCaseSensitive(v, "name");

		check_bench(v, sub, true, p);
		if (!cJSON_IsObject(v) || !cJSON_IsString(vn) || !vn->valuestring[0]) {
			good = false;
			free(sub);
			continue;
		}
		for (const cJSON *w = vars->child; w != v; w = w->next) {
			const cJSON *wn = cJSON_GetObjectItemCaseSensitive(w, "name");

			if (cJSON_IsString(wn) && strcmp(wn->valuestring, vn->valuestring) == 0) {
				json_problem(p, "%s.name: variant \"%s\" is declared twice", sub, vn->valuestring);
				good = false;
			}
		}
		if (strchr(vn->valuestring, '@')) {
			json_problem(p, "%s.name: \"%s\": '@' is reserved", sub, vn->valuestring);
			good = false;
		}
		free(sub);
	}
	return good;
}

/* "reference" names one of the variants; false when it does not. */
static bool check_reference(const cJSON *ref, const cJSON *vars, const char *path, struct errlist *p)
{
	const char **names;
	const cJSON *v;
	size_t n = 0;
	bool found = false;

	if (!cJSON_IsString(ref)) {
		char *sub = xasprintf("%s.reference", path);

		json_expected(p, sub, "the name of one of the variants", ref);
		free(sub);
		return false;
	}
	names = xcalloc((size_t)cJSON_GetArraySize(vars), sizeof(*names));
	cJSON_ArrayForEach(v, vars) {
		const cJSON *vn = cJSON_GetObjectItemCaseSensitive(v, "name");

		if (cJSON_IsString(vn)) {
			names[n++] = vn->valuestring;
			found = found || strcmp(vn->valuestring, ref->valuestring) == 0;
		}
	}
	if (!found) {
		const char *best = closest_match(ref->valuestring, names, n);

		if (best)
			json_problem(p, "%s.reference: no variant named \"%s\"; did you mean \"%s\"?", path,
				     ref->valuestring, best);
		else
			json_problem(p, "%s.reference: no variant named \"%s\"", path, ref->valuestring);
	}
	free(names);
	return found;
}

/* One benchmark "NAME@VARIANT" per variant: the declared benchmark with the
 * variant's members over it. */
static void add_variants(struct pending *pd, const cJSON *b, const cJSON *vars, const cJSON *params,
			 size_t decl, const char *ref_name, const char *vpath, struct errlist *p)
{
	const char *name = cJSON_GetObjectItemCaseSensitive(b, "name")->valuestring;
	size_t first = pd->n;
	const cJSON *v;

	cJSON_ArrayForEach(v, vars) {
		const char *vn = cJSON_GetObjectItemCaseSensitive(v, "name")->valuestring;
		cJSON *m = merge_variant(b, v);
		struct suite_bench *sb;
		char *full = xasprintf("%s@%s", name, vn);

		cJSON_ReplaceItemInObjectCaseSensitive(m, "name", cJSON_CreateString(full));
		/* The merge can bring together keys that exclude each other. */
		if (cJSON_HasObjectItem(m, "http") && (cJSON_HasObjectItem(m, "command") || cJSON_HasObjectItem(m, "shell")))
			json_problem(p, "%s: variant \"%s\" combines \"http\" with a command", vpath, vn);
		if ((cJSON_HasObjectItem(v, "http") || cJSON_HasObjectItem(v, "load") ||
		     cJSON_HasObjectItem(v, "stream") || cJSON_HasObjectItem(v, "request_slo")) &&
		    cJSON_HasObjectItem(m, "http")) {
			char *sub = xasprintf("%s[%s]", vpath, vn);

			http_runner_validate(m, sub, p);
			free(sub);
		}
		pending_add(pd, m, params ? cJSON_Duplicate(params, true) : NULL, decl);
		sb = &pd->v[pd->n - 1];
		sb->variant_of = xstrdup(name);
		sb->variant = xstrdup(vn);
		sb->reference = ref_name ? strcmp(ref_name, vn) == 0 : pd->n - 1 == first;
		free(full);
	}
}

static bool expand_variants(struct pending *pd, const cJSON *b, const cJSON *params, size_t decl,
			    const char *path, struct errlist *p)
{
	const cJSON *vars = cJSON_GetObjectItemCaseSensitive(b, "variants");
	const cJSON *ref = cJSON_GetObjectItemCaseSensitive(b, "reference");
	bool good;
	char *vpath;

	if (!vars) {
		if (ref)
			json_problem(p, "%s.reference: only with \"variants\"", path);
		return false;
	}
	vpath = xasprintf("%s.variants", path);
	if (!cJSON_IsArray(vars) || cJSON_GetArraySize(vars) == 0) {
		json_expected(p, vpath, "a non-empty list of objects, each with a \"name\"", vars);
		free(vpath);
		return true;
	}
	good = check_variants(vars, vpath, p);
	if (ref && !check_reference(ref, vars, path, p))
		good = false;
	if (good && cJSON_IsString(cJSON_GetObjectItemCaseSensitive(b, "name")))
		add_variants(pd, b, vars, params, decl, cJSON_IsString(ref) ? ref->valuestring : NULL, vpath, p);
	free(vpath);
	return true;
}

static void check_top(cJSON *root, struct suite *s, struct errlist *p)
{
	cJSON *v;

	json_check_keys(root, "(top level)", top_keys, ARRAY_SIZE(top_keys), p);
	/* json_check_keys names top-level keys "(top level).key"; say just "key". */
	for (size_t i = 0; i < p->n; i++) {
		const char *pre = "(top level).";
		if (strncmp(p->msgs[i], pre, strlen(pre)) == 0) {
			char *m = xstrdup(p->msgs[i] + strlen(pre));
			free(p->msgs[i]);
			p->msgs[i] = m;
		}
	}
	v = cJSON_GetObjectItemCaseSensitive(root, "suite");
	if (!v)
		json_problem(p, "suite: missing, expected a non-empty string naming the suite");
	else if (!cJSON_IsString(v) || !v->valuestring[0])
		json_expected(p, "suite", "a non-empty string", v);
	else
		s->name = xstrdup(v->valuestring);
	check_name(v, "suite", p);
	if ((v = cJSON_GetObjectItemCaseSensitive(root, "project"))) {
		if (!cJSON_IsString(v) || !v->valuestring[0])
			json_expected(p, "project", "a non-empty string", v);
		else
			s->project = xstrdup(v->valuestring);
		check_name(v, "project", p);
	}
	if ((v = cJSON_GetObjectItemCaseSensitive(root, "description")) && !cJSON_IsString(v))
		json_expected(p, "description", "a string", v);
	if ((v = cJSON_GetObjectItemCaseSensitive(root, "baseline"))) {
		if (!cJSON_IsObject(v)) {
			json_expected(p, "baseline", "an object", v);
		} else {
			const cJSON *w;
			json_check_keys(v, "baseline", baseline_keys, ARRAY_SIZE(baseline_keys), p);
			if ((w = cJSON_GetObjectItemCaseSensitive(v, "branch"))) {
				check_string(w, "baseline.branch", p);
				check_name(w, "baseline.branch", p);
				if (cJSON_IsString(w) && *w->valuestring)
					s->baseline_branch = w->valuestring;
			}
			if ((w = cJSON_GetObjectItemCaseSensitive(v, "runs"))) {
				check_int_min(w, "baseline.runs", 1, p);
				if (cJSON_IsNumber(w) && w->valuedouble >= 1)
					s->baseline_runs = (size_t)w->valuedouble;
			}
			s->baseline = v;
		}
	}
	if ((v = cJSON_GetObjectItemCaseSensitive(root, "compare"))) {
		verdict_settings_validate(v, "compare", p);
		s->compare = v;
	}
	if ((v = cJSON_GetObjectItemCaseSensitive(root, "changepoints"))) {
		if (!cJSON_IsObject(v)) {
			json_expected(p, "changepoints", "an object", v);
		} else {
			/* Validated here; db/history.c reads the values after a push. */
			struct changepoint_params cp;
			changepoint_params_from_suite(NULL, v, &cp, p);
			s->changepoints = v;
		}
	}
	if ((v = cJSON_GetObjectItemCaseSensitive(root, "price")))
		efficiency_price_validate(v, "price", p); /* the HTTP runner reads it (efficiency.h) */
	if ((v = cJSON_GetObjectItemCaseSensitive(root, "validity")))
		http_validity_validate(v, "validity", p); /* the HTTP runner reads it (http/validity.h) */
	efficiency_price_env_validate(p);
	if ((v = cJSON_GetObjectItemCaseSensitive(root, "order"))) {
		s->order_given = true;
		if (cJSON_IsString(v) && strcmp(v->valuestring, "interleaved") == 0)
			s->interleaved = true;
		else if (!cJSON_IsString(v) || strcmp(v->valuestring, "sequential") != 0)
			json_expected(p, "order", "\"sequential\" or \"interleaved\"", v);
	}
	if ((v = cJSON_GetObjectItemCaseSensitive(root, "defaults"))) {
		if (!cJSON_IsObject(v)) {
			json_expected(p, "defaults", "an object", v);
		} else {
			json_check_keys(v, "defaults", default_keys, ARRAY_SIZE(default_keys), p);
			check_common(v, "defaults", p);
		}
	}
}

/* Expand one declared benchmark's params; calls back for each combination. */
static void expand_params(struct pending *pd, const cJSON *decl_b, size_t idx, const char *path,
			  struct errlist *p)
{
	const cJSON *params = cJSON_GetObjectItemCaseSensitive(decl_b, "params");
	size_t n_params = 0, total = 1;
	const cJSON **lists = NULL;
	size_t *pos = NULL;
	char *ppath = xasprintf("%s.params", path);

	if (params) {
		const cJSON *it;
		if (!check_params(params, ppath, p))
			goto done;
		n_params = (size_t)cJSON_GetArraySize(params);
		lists = xcalloc(n_params, sizeof(*lists));
		pos = xcalloc(n_params, sizeof(*pos));
		n_params = 0;
		cJSON_ArrayForEach(it, params) {
			lists[n_params++] = it;
			total *= (size_t)cJSON_GetArraySize(it);
			if (total > SUITE_MAX_BENCHES) {
				json_problem(p, "%s: expands to more than %d benchmarks", ppath, SUITE_MAX_BENCHES);
				goto done;
			}
		}
	}
	for (size_t k = 0; k < total; k++) {
		cJSON *b = cJSON_Duplicate(decl_b, true);
		cJSON *combo = NULL;
		if (n_params) {
			combo = cJSON_CreateObject();
			for (size_t j = 0; j < n_params; j++)
				cJSON_AddItemToObject(combo, lists[j]->string,
						      cJSON_Duplicate(cJSON_GetArrayItem(lists[j], (int)pos[j]), true));
			cJSON_DeleteItemFromObjectCaseSensitive(b, "params");
			subst_tree(b, combo, true);
			/* Odometer: the last parameter varies fastest. */
			for (size_t j = n_params; j-- > 0;) {
				if (++pos[j] < (size_t)cJSON_GetArraySize(lists[j]))
					break;
				pos[j] = 0;
			}
		}
		check_bench(b, path, false, p);
		if (expand_variants(pd, b, combo, idx, path, p)) {
			cJSON_Delete(b);
			cJSON_Delete(combo);
		} else {
			pending_add(pd, b, combo, idx);
		}
	}
done:
	free(lists);
	free(pos);
	free(ppath);
}

static int read_suite(const char *path, cJSON **out, struct err *err)
{
	char *text = NULL;
	size_t len = 0;
	struct err why = ERR_INIT;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int rc = 0;

	if (fd < 0)
		return err_sys(err, ERR_INPUT, "cannot open suite '%s'", path);
	close(fd);
	rc = file_read_max(path, SUITE_READ_MAX, &text, &len, err);
	if (rc != 0)
		return rc;
	*out = json_parse_text(text, len, &why);
	if (!*out) {
		if (strcmp(why.msg, "the text is empty") == 0)
			rc = err_set(err, ERR_INPUT, "cannot parse suite '%s': the file is empty", path);
		else
			rc = err_set(err, ERR_INPUT, "cannot parse suite '%s': %s", path, why.msg);
	}
	free(text);
	return rc;
}

/* Every declared benchmark, its parameter combinations expanded, into pd. */
static void expand_benches(struct pending *pd, const cJSON *benches, struct errlist *problems)
{
	const cJSON *b;
	size_t i = 0;

	cJSON_ArrayForEach(b, benches) {
		char *path_i = xasprintf("benchmarks[%zu]", i);

		if (!cJSON_IsObject(b))
			json_expected(problems, path_i, "an object", b);
		else if (pd->n > SUITE_MAX_BENCHES)
			json_problem(problems, "benchmarks: expands to more than %d benchmarks", SUITE_MAX_BENCHES);
		else
			expand_params(pd, b, i, path_i, problems);
		free(path_i);
		i++;
	}
}

/* Expanded benchmark i: its name (unique among those before it), the
 * suite's defaults, its kind and its configuration hash. */
static void settle_bench(struct pending *pd, size_t i, const cJSON *defaults, struct errlist *problems)
{
	struct suite_bench *b = &pd->v[i];
	const cJSON *name = cJSON_GetObjectItemCaseSensitive(b->raw, "name");
	char *at;

	if (!cJSON_IsString(name) || !name->valuestring[0])
		return;
	at = xasprintf("benchmarks[%zu].name", pd->decl[i]);
	check_name(name, at, problems);
	free(at);
	b->name = xstrdup(name->valuestring);
	for (size_t j = 0; j < i; j++)
		if (pd->v[j].name && strcmp(pd->v[j].name, b->name) == 0) {
			if (pd->decl[j] == pd->decl[i])
				json_problem(problems,
					     "benchmarks[%zu].name: \"%s\" is the same for several parameter combinations; put a {parameter} in it",
					     pd->decl[i], b->name);
			else
				json_problem(problems, "benchmarks[%zu].name: \"%s\" is not unique (also benchmarks[%zu])",
					     pd->decl[i], b->name, pd->decl[j]);
			break;
		}
	apply_defaults(b->raw, defaults);
	if (cJSON_HasObjectItem(b->raw, "http") || cJSON_HasObjectItem(b->raw, "journey"))
		b->kind = RUNDOC_KIND_HTTP;
	else if (cJSON_HasObjectItem(b->raw, "ingest"))
		b->kind = RUNDOC_KIND_INGEST;
	else
		b->kind = RUNDOC_KIND_COMMAND;
	if (b->kind == RUNDOC_KIND_COMMAND) {
		/* SLO names checked before anything runs, where the metrics are known */
		at = xasprintf("benchmarks[%zu]", pd->decl[i]);
		runner_cmd_slo_check(b->raw, at, problems);
		free(at);
	}
	suite_config_hash(b->raw, NULL, b->config_hash);
}

int suite_load(struct suite **out, const char *path, struct errlist *problems, struct err *err)
{
	struct suite *s = xcalloc(1, sizeof(*s));
	struct pending pd = { NULL, NULL, 0, 0, 0 };
	const cJSON *benches, *defaults;
	size_t first_problem = problems->n;
	int rc = 0;
	char *slash;

	*out = NULL;
	s->path = xstrdup(path);
	slash = strrchr(s->path, '/');
	s->dir = slash ? xstrndup(s->path, slash == s->path ? 1 : (size_t)(slash - s->path)) : xstrdup(".");
	rc = read_suite(path, &s->raw, err);
	if (rc != 0) {
		errlist_add(problems, "%s", err->msg);
		goto done;
	}
	if (!cJSON_IsObject(s->raw)) {
		json_expected(problems, "the top level", "an object", s->raw);
		goto check;
	}
	check_top(s->raw, s, problems);
	defaults = cJSON_GetObjectItemCaseSensitive(s->raw, "defaults");
	benches = cJSON_GetObjectItemCaseSensitive(s->raw, "benchmarks");
	if (!benches) {
		json_problem(problems, "benchmarks: missing, expected a non-empty array of benchmarks");
	} else if (!cJSON_IsArray(benches) || cJSON_GetArraySize(benches) == 0) {
		json_expected(problems, "benchmarks", "a non-empty array of benchmarks", benches);
	} else {
		expand_benches(&pd, benches, problems);
	}
	for (size_t i = 0; i < pd.n; i++)
		settle_bench(&pd, i, defaults, problems);
check:
	if (problems->n > first_problem) {
		rc = err_set(err, ERR_INPUT, "%s", problems->msgs[first_problem]);
		if (problems->n - first_problem > 1)
			err_set(err, ERR_INPUT, "%s (and %zu more problems)", problems->msgs[first_problem],
				problems->n - first_problem - 1);
		rc = ERR_INPUT;
		goto done;
	}
	s->benches = pd.v;
	s->n_benches = pd.n;
	pd.v = NULL;
	pd.n = 0;
	*out = s;
	s = NULL;
done:
	for (size_t i = 0; i < pd.n; i++)
		bench_release(&pd.v[i]);
	free(pd.v);
	free(pd.decl);
	suite_free(s);
	return rc;
}
