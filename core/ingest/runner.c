/*
 * ingest/runner.c: the "ingest" runner: a command benchmark whose program
 * is a harness (./bench --benchmark_format=json, go test -bench ., k6 run
 * ..., vllm bench serve ...).  The command runs, and its output is parsed
 * in the declared format instead of being timed.
 *
 *   "ingest": "FORMAT"
 *   "ingest": {"format": "FORMAT", "output": "FILE"}
 *
 * Without "output" the harness's standard output is parsed; with it, the
 * file the harness writes (relative to the benchmark's cwd; removed before
 * each run so a stale result is never read).
 *
 * How often it runs: formats whose output carries its own repetitions
 * (hyperfine, google-benchmark, pytest-benchmark, go, jmh) run once unless
 * "repetitions" (or --repetitions) asks for more; formats whose output is
 * one run (k6, vllm, locust, catch2) run "repetitions" times, default
 * INGEST_DEFAULT_RUNS, each run adding one sample per metric.  "warmup"
 * runs are made and thrown away.  setup/cleanup run once around all runs,
 * prepare/conclude around each, as for command benchmarks.
 *
 * Output with several harness benchmarks becomes several benchmarks named
 * "<benchmark>/<harness name>": the first fills `out`, the others are
 * appended to rd (run_suite's scratch document), each with the suite
 * benchmark's configuration hash and parameters, and extra.suite_benchmark
 * naming the suite benchmark that produces it (to run it again).  `out` must
 * be one of rd's benchmarks.  Single-test formats (k6,
 * vllm) fill `out` under the benchmark's own name.
 */
#include "runner.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ingest.h"
#include "../proc.h"
#include "../suite.h"
#include "../json.h"
#include "../util.h"

#define INGEST_DEFAULT_RUNS 5

/* ---- validation of the "ingest" member ---- */

void ingest_runner_validate(const cJSON *v, const char *path, struct errlist *problems)
{
	static const char *const keys[] = { "format", "output" };
	const char *want = "a format name or {\"format\": ..., \"output\": ...}";
	const cJSON *format = v, *output;
	enum ingest_format f;
	struct err err = ERR_INIT;
	char at[512];

	snprintf(at, sizeof(at), "%s", path);
	if (cJSON_IsObject(v)) {
		json_check_keys(v, path, keys, ARRAY_SIZE(keys), problems);
		output = json_peek(v, "output");
		if (output && (!cJSON_IsString(output) || !*output->valuestring)) {
			json_path_key(at, sizeof(at), path, "output");
			json_expected(problems, at, "a file name", output);
		}
		format = json_peek(v, "format");
		json_path_key(at, sizeof(at), path, "format");
		want = "a format name";
		if (!format) {
			json_problem(problems, "%s: required (one of %s)", at,
				     "hyperfine, google-benchmark, pytest-benchmark, go, k6, vllm, locust, jmh, catch2, auto");
			return;
		}
	}
	if (!cJSON_IsString(format))
		json_expected(problems, at, want, format);
	else if (ingest_format_parse(format->valuestring, &f, &err) < 0)
		json_problem(problems, "%s: %s", at, err.msg);
}

/* ---- running ---- */

struct plan {
	enum ingest_format fmt;
	const char *output;     /* as declared, may be NULL */
	char *output_path;      /* resolved against cwd */
	char **argv;
	char **env;
	char **pass_env;        /* secrets the suite lets the harness see ("pass_env"), or NULL */
	unsigned *orphans;      /* processes the harness or its hooks left running, killed (a counter of the caller's) */
	char *cwd;
	double timeout;         /* s per run; 0 none */
	long runs, warmup;
	bool runs_declared;     /* repetitions or --repetitions given */
	int *expect;
	size_t n_expect;
};

static void plan_release(struct plan *p)
{
	free(p->output_path);
	argv_free(p->argv);
	argv_free(p->env);
	argv_free(p->pass_env);
	free(p->cwd);
	free(p->expect);
}

static int plan_build(struct plan *p, const struct suite_bench *b, const struct run_ctx *ctx,
		      struct err *err)
{
	const cJSON *raw = b->raw, *ing = json_peek(raw, "ingest");
	const cJSON *fmtj = ing, *cmd, *shell, *env, *cwd, *v, *it;
	const char *base = ctx && ctx->suite && ctx->suite->dir ? ctx->suite->dir : ".";
	size_t n = 0;
	int rc;

	if (cJSON_IsObject(ing)) {
		const cJSON *out = cJSON_GetObjectItemCaseSensitive(ing, "output");

		fmtj = cJSON_GetObjectItemCaseSensitive(ing, "format");
		p->output = cJSON_IsString(out) ? out->valuestring : NULL;
	}
	if (!cJSON_IsString(fmtj))
		return err_set(err, ERR_INPUT, "benchmark '%s': \"ingest\" names no format", b->name);
	if ((rc = ingest_format_parse(fmtj->valuestring, &p->fmt, err)) < 0)
		return rc;

	cmd = json_peek(raw, "command");
	shell = json_peek(raw, "shell");
	if (cJSON_IsString(shell)) {
		p->argv = xcalloc(4, sizeof(*p->argv));
		p->argv[0] = xstrdup("/bin/sh");
		p->argv[1] = xstrdup("-c");
		p->argv[2] = xstrdup(shell->valuestring);
	} else if (cJSON_IsArray(cmd) && cJSON_GetArraySize(cmd) > 0) {
		p->argv = xcalloc((size_t)cJSON_GetArraySize(cmd) + 1, sizeof(*p->argv));
		cJSON_ArrayForEach(it, cmd) {
			if (!cJSON_IsString(it))
				return err_set(err, ERR_INPUT, "benchmark '%s': command: expected strings", b->name);
			p->argv[n++] = xstrdup(it->valuestring);
		}
	} else {
		return err_set(err, ERR_INPUT, "benchmark '%s': needs \"command\" or \"shell\" to ingest from",
			       b->name);
	}

	env = json_peek(raw, "env");
	p->pass_env = json_peek_strings(raw, "pass_env");
	p->env = xcalloc((size_t)(cJSON_IsObject(env) ? cJSON_GetArraySize(env) : 0) + 1, sizeof(*p->env));
	n = 0;
	if (cJSON_IsObject(env))
		cJSON_ArrayForEach(it, env)
			if (cJSON_IsString(it))
				p->env[n++] = xasprintf("%s=%s", it->string, it->valuestring);

	cwd = json_peek(raw, "cwd");
	if (cJSON_IsString(cwd) && cwd->valuestring[0] == '/')
		p->cwd = xstrdup(cwd->valuestring);
	else if (cJSON_IsString(cwd))
		p->cwd = xasprintf("%s/%s", base, cwd->valuestring);
	else
		p->cwd = xstrdup(base);
	if (p->output)
		p->output_path = p->output[0] == '/' ? xstrdup(p->output)
						     : xasprintf("%s/%s", p->cwd, p->output);

	if ((v = json_peek(raw, "timeout")))
		json_duration_value(v, &p->timeout);
	p->warmup = ctx && ctx->warmup_set ? ctx->warmup : (long)json_peek_num(raw, "warmup", 0);
	p->runs_declared = (ctx && ctx->repetitions > 0) || cJSON_HasObjectItem(raw, "repetitions");
	if (ctx && ctx->repetitions > 0)
		p->runs = ctx->repetitions;
	else
		p->runs = (long)json_peek_num(raw, "repetitions",
				   ingest_format_has_repetitions(p->fmt) || p->fmt == INGEST_AUTO
					   ? 1
					   : INGEST_DEFAULT_RUNS);
	if (p->runs < 1)
		p->runs = 1;

	v = json_peek(raw, "expect_exit");
	if (cJSON_IsArray(v)) {
		p->expect = xcalloc((size_t)cJSON_GetArraySize(v) + 1, sizeof(*p->expect));
		cJSON_ArrayForEach(it, v)
			p->expect[p->n_expect++] = (int)it->valuedouble;
	} else {
		p->expect = xcalloc(1, sizeof(*p->expect));
		p->expect[p->n_expect++] = cJSON_IsNumber(v) ? (int)v->valuedouble : 0;
	}
	return 0;
}

static bool exit_expected(const struct plan *p, int code)
{
	for (size_t i = 0; i < p->n_expect; i++)
		if (p->expect[i] == code)
			return true;
	return false;
}

/*
 * One run of the harness: its output (stdout or the output file) into
 * *text.  Returns NULL, or why the run failed (caller frees).
 */
static char *run_once(const struct plan *p, char **text, size_t *len)
{
	struct proc_options o = PROC_OPTIONS_INIT;
	struct proc_result r;
	struct err e = ERR_INIT;
	char *why = NULL;
	int rc;

	*text = NULL;
	*len = 0;
	memset(&r, 0, sizeof(r));
	if (p->output_path && unlink(p->output_path) != 0 && errno != ENOENT)
		return xasprintf("cannot remove the old '%s': %s", p->output, strerror(errno));
	o.argv = (const char *const *)p->argv;
	o.env = (const char *const *)p->env;
	o.pass_env = (const char *const *)p->pass_env;
	o.cwd = p->cwd;
	o.out = p->output_path ? PROC_OUT_NULL : PROC_OUT_CAPTURE;
	o.errout = PROC_OUT_CAPTURE;
	o.timeout = p->timeout;
	o.max_capture = 64u << 20; /* whole result documents, not tails */
	rc = proc_run(&o, &r, &e);
	*p->orphans += r.orphans; /* proc_run zeroes r first */
	if (rc < 0) {
		why = xstrdup(e.msg);
		goto done;
	}
	if (r.timed_out) {
		why = xasprintf("timed out after %gs (the whole process group was killed)", p->timeout);
	} else if (r.signal) {
		why = xasprintf("killed by signal %d", r.signal);
	} else if (!exit_expected(p, r.exit_code)) {
		char *tail = r.errout ? proc_tail_lines(r.errout, r.errout_len, 5) : NULL;

		why = xasprintf("exited with status %d%s%s", r.exit_code, tail && *tail ? ": " : "",
				tail ? tail : "");
		free(tail);
	}
	if (why)
		goto done;
	if (p->output_path) {
		if (file_read_max(p->output_path, RUNDOC_READ_MAX, text, len, &e) < 0)
			why = xasprintf("the harness wrote no result file: %s", e.msg);
	} else {
		*text = r.out ? r.out : xstrdup("");
		*len = r.out ? r.out_len : 0;
		r.out = NULL;
	}
done:
	proc_result_release(&r);
	return why;
}

/* A hook (setup, cleanup, prepare, conclude): a shell string or an argv
 * array, run in the benchmark's cwd and env, not parsed.  NULL when it
 * succeeded (or is absent), else why it failed (caller frees). */
static char *run_hook(const struct plan *p, const cJSON *raw, const char *what)
{
	const cJSON *hook = json_peek(raw, what), *it;
	struct proc_options o = PROC_OPTIONS_INIT;
	struct proc_result r;
	struct err e = ERR_INIT;
	char **argv;
	char *why = NULL;
	size_t n = 0;
	int rc;

	if (!hook || cJSON_IsNull(hook))
		return NULL;
	memset(&r, 0, sizeof(r));
	if (cJSON_IsString(hook)) {
		argv = xcalloc(4, sizeof(*argv));
		argv[0] = xstrdup("/bin/sh");
		argv[1] = xstrdup("-c");
		argv[2] = xstrdup(hook->valuestring);
	} else if (cJSON_IsArray(hook) && cJSON_GetArraySize(hook) > 0) {
		argv = xcalloc((size_t)cJSON_GetArraySize(hook) + 1, sizeof(*argv));
		cJSON_ArrayForEach(it, hook)
			argv[n++] = xstrdup(cJSON_IsString(it) ? it->valuestring : "");
	} else {
		return xasprintf("%s: expected a shell string or an argv array", what);
	}
	o.argv = (const char *const *)argv;
	o.env = (const char *const *)p->env;
	o.pass_env = (const char *const *)p->pass_env;
	/* setup may start a server for the harness on purpose; it lives on */
	o.keep_descendants = strcmp(what, "setup") == 0;
	o.cwd = p->cwd;
	o.out = PROC_OUT_NULL;
	o.errout = PROC_OUT_CAPTURE;
	o.max_capture = 64 * 1024;
	o.timeout = p->timeout;
	rc = proc_run(&o, &r, &e);
	*p->orphans += r.orphans;
	if (rc != 0) {
		why = xasprintf("%s: %s", what, e.msg);
	} else if (r.timed_out || r.signal || r.exit_code != 0) {
		char *tail = r.errout ? proc_tail_lines(r.errout, r.errout_len, 5) : NULL;

		if (r.timed_out)
			why = xasprintf("%s timed out after %gs", what, p->timeout);
		else if (r.signal)
			why = xasprintf("%s killed by signal %d", what, r.signal);
		else
			why = xasprintf("%s exited with status %d%s%s", what, r.exit_code,
					tail && *tail ? ": " : "", tail ? tail : "");
		free(tail);
	}
	proc_result_release(&r);
	argv_free(argv);
	return why;
}

/* rundoc_bench_fail, taking ownership of why. */
static void set_failed(struct rd_bench *b, char *why)
{
	rundoc_bench_fail(b, why);
	free(why);
}

/* Move the harness benchmarks of `parsed` into out / rd. */
static void place(const struct suite_bench *sb, struct rd_bench *out, struct rundoc *rd,
		  struct rundoc *parsed, enum ingest_format fmt)
{
	bool single = fmt == INGEST_K6 || fmt == INGEST_VLLM;
	size_t out_index = (size_t)(out - rd->benches);

	for (size_t i = 0; i < parsed->n_benches; i++) {
		struct rd_bench *src = &parsed->benches[i], *dst;
		char *name = single ? xstrdup(sb->name) : xasprintf("%s/%s", sb->name, src->name);

		if (i == 0) {
			dst = &rd->benches[out_index];
			free(dst->name);
			dst->name = name;
		} else {
			dst = rundoc_add_bench(rd, name, RUNDOC_KIND_INGEST);
			free(name);
			dst->config_hash = xstrdup(sb->config_hash);
			if (sb->params)
				dst->params = cJSON_Duplicate(sb->params, 1);
		}
		dst->kind = RUNDOC_KIND_INGEST;
		dst->status = src->status;
		free(dst->error);
		dst->error = src->error;
		src->error = NULL;
		cJSON_Delete(dst->extra);
		dst->extra = src->extra ? src->extra : cJSON_CreateObject();
		src->extra = NULL;
		/* Which suite benchmark to run again to re-measure this one (the
		 * gate's confirmation runs select suite benchmarks by name). */
		rundoc_bench_set_suite_benchmark(dst, sb->name);
		if (src->params && !dst->params) {
			dst->params = src->params;
			src->params = NULL;
		}
		free(dst->metrics);
		dst->metrics = src->metrics;
		dst->n_metrics = src->n_metrics;
		dst->alloc_metrics = src->alloc_metrics;
		src->metrics = NULL;
		src->n_metrics = src->alloc_metrics = 0;
	}
}

/* A measured run's output, parsed and added to `parsed` (the format is
 * detected from the first one when the suite says "auto").  NULL, or why
 * the benchmark failed (caller frees). */
static char *parse_run(struct plan *p, const char *text, size_t len, long run, enum ingest_format *fmt,
		       struct rundoc *parsed)
{
	struct ingest_options io = INGEST_OPTIONS_INIT;
	struct rundoc *run_doc;
	struct err e = ERR_INIT;
	char *why = NULL;

	if (*fmt == INGEST_AUTO) {
		*fmt = ingest_detect(text, len);
		if (*fmt == INGEST_AUTO)
			return xstrdup("cannot tell which harness wrote the output; name the format");
		/* Now that the format is known, so is the default count. */
		if (!p->runs_declared && !ingest_format_has_repetitions(*fmt))
			p->runs = INGEST_DEFAULT_RUNS;
	}
	run_doc = rundoc_new();
	if (ingest_parse(*fmt, text, len, &io, run_doc, &e) == 0)
		rundoc_merge(parsed, run_doc, RUNDOC_MERGE_ACCUMULATE);
	else
		why = xasprintf("run %ld: the %s output is not valid: %s", run, ingest_format_name(*fmt), e.msg);
	rundoc_free(run_doc);
	return why;
}

/* Run i of the harness (the warm-up runs come first) between its prepare
 * and conclude hooks; a measured run's output goes into `parsed`.  NULL,
 * or why the benchmark failed (caller frees). */
static char *harness_run(struct plan *p, const cJSON *raw, long i, enum ingest_format *fmt,
			 struct rundoc *parsed)
{
	bool measured = i >= p->warmup;
	char *text = NULL, *why, *hook_why;
	size_t len;

	if ((hook_why = run_hook(p, raw, "prepare")))
		return hook_why;
	why = run_once(p, &text, &len);
	if (why) {
		hook_why = xasprintf("%s run %ld: %s", measured ? "measured" : "warmup",
				     measured ? i - p->warmup + 1 : i + 1, why);
		free(why);
		return hook_why;
	}
	if ((hook_why = run_hook(p, raw, "conclude"))) {
		free(text);
		return hook_why;
	}
	if (measured)
		why = parse_run(p, text, len, i - p->warmup + 1, fmt, parsed);
	free(text);
	return why;
}

int ingest_runner_run(const struct suite_bench *b, const struct run_ctx *ctx,
		      struct rd_bench *out, struct rundoc *rd, struct err *err)
{
	struct plan p;
	struct rundoc *parsed = rundoc_new();
	enum ingest_format fmt = INGEST_AUTO;
	uint64_t t0 = now_ns();
	bool setup_done = false;
	size_t out_index = 0; /* out moves when rd grows; its index does not */
	unsigned orphans = 0;
	char *why;
	int rc = 0;

	memset(&p, 0, sizeof(p));
	if (out < rd->benches || out >= rd->benches + rd->n_benches) {
		rc = err_set(err, ERR_FAIL, "ingest_runner_run: out must be a benchmark of rd");
		goto done;
	}
	out_index = (size_t)(out - rd->benches);
	if ((rc = plan_build(&p, b, ctx, err)) < 0)
		goto done;
	p.orphans = &orphans;
	fmt = p.fmt;
	if ((why = run_hook(&p, b->raw, "setup"))) {
		set_failed(out, why);
		goto done;
	}
	setup_done = true;
	for (long i = 0; i < p.warmup + p.runs; i++) {
		if (proc_interrupted()) {
			set_failed(out, xstrdup("interrupted"));
			goto done;
		}
		if ((why = harness_run(&p, b->raw, i, &fmt, parsed))) {
			set_failed(out, why);
			goto done;
		}
		if (ctx && ctx->progress && i >= p.warmup)
			ctx->progress(ctx->progress_arg, b->name, (size_t)(i - p.warmup + 1), (size_t)p.runs,
				      (double)(now_ns() - t0) * 1e-9);
	}
	/* Each run re-summarised the metrics it touched; do all once more. */
	for (size_t i = 0; i < parsed->n_benches; i++)
		for (size_t j = 0; j < parsed->benches[i].n_metrics; j++)
			rundoc_metric_summarise(&parsed->benches[i].metrics[j]);
	place(b, out, rd, parsed, fmt);
	out = NULL; /* rd->benches may have moved */
	if (!rd->benches[out_index].extra)
		rd->benches[out_index].extra = cJSON_CreateObject();
	cJSON_AddNumberToObject(rd->benches[out_index].extra, "harness_runs", (double)p.runs);
done:
	/* cleanup runs whenever setup did; its failure fails the benchmark. */
	if (setup_done && (why = run_hook(&p, b->raw, "cleanup"))) {
		struct rd_bench *first = &rd->benches[out_index];

		if (first->status == RUNDOC_STATUS_OK)
			set_failed(first, why);
		else
			free(why);
	}
	if (orphans) {
		char *msg = xasprintf("killed %u process%s that the harness or its hooks left running after "
				      "they ended (a background '&' or a setsid child); perfgate ends each run's "
				      "whole process tree", orphans, orphans == 1 ? "" : "es");
		rundoc_bench_warn(&rd->benches[out_index], msg);
		free(msg);
	}
	plan_release(&p);
	rundoc_free(parsed);
	return rc;
}
