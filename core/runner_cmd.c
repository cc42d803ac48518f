/*
 * runner_cmd.c: command benchmarks (see runner_cmd.h).
 *
 * The measured path is kept lean: argv, environment overlay and process
 * options are built once per benchmark, and a repetition without a timeout
 * takes proc_run's fast path (posix_spawn, then one wait4).
 */
#include "runner_cmd.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "json.h"
#include "noise.h"
#include "perfcount.h"
#include "probe.h"
#include "proc.h"
#include "slo.h"
#include "summary.h"
#include "util.h"

/* Adaptive repetition defaults (docs/suite.md). */
#define CMD_DEFAULT_REPETITIONS 10
#define CMD_ADAPTIVE_MIN 5
#define CMD_ADAPTIVE_MAX 100
#define CMD_ADAPTIVE_TARGET 0.05
#define CMD_STDERR_LINES 10
#define CMD_STDERR_TAIL_BYTES ((size_t)64 << 10) /* read of stderr for its last lines */

/* Fixed metric slots in res.metrics, in this order. */
enum { M_WALL, M_USER, M_SYS, M_RSS, M_CPU, M_FIXED };

static const char *const builtin_metrics[] = { "wall", "user", "sys", "max_rss", "cpu", "instructions", "cycles" };

struct runner_cmd_bench {
	const struct suite_bench *b;
	const struct run_ctx *ctx;
	struct rd_bench res;       /* the result being built; moved out by finish */
	char **argv;               /* the measured command, NULL-terminated */
	char **env;                /* "NAME=value" overlay, NULL-terminated */
	char **pass_env;           /* secrets the suite lets the commands see ("pass_env"), NULL-terminated or NULL */
	unsigned orphans;          /* processes the command or its hooks left running, killed */
	char *cwd;                 /* absolute or relative to perfgate's folder */
	char *tmpdir;              /* private: stderr file, metrics file, cachegrind output */
	char *stderr_path;
	int stderr_fd;             /* kept open to see cheaply whether the last run wrote to it */
	char *metrics_path;
	struct proc_options popts; /* for the measured command */
	double timeout;            /* s per repetition; 0: none */
	long warmup;
	size_t min_reps, max_reps; /* equal for a fixed count */
	double min_time;           /* s of measured wall time before adaptive may stop */
	double target;             /* adaptive: CI half-width / median */
	bool adaptive;
	int *expect;               /* accepted exit codes */
	size_t n_expect;
	const cJSON *setup, *cleanup, *prepare, *conclude;
	bool emits;
	struct perfcount *pc;      /* NULL when no counts were asked for */
	bool want_instr, want_cycles;
	size_t i_instr, i_cycles;  /* metric slots, when wanted */
	char **vg_argv;            /* valgrind-wrapped argv when counting that way */
	size_t n_emitted;          /* metrics from the metrics file (after the fixed ones) */
	char **cal_argv;           /* "calibration": run beside every repetition, NULL when none */
	bool cal_auto;             /* ...perfgate's own probe ("auto") */
	size_t i_wall_rel;         /* metric slots of wall_rel, cpu_rel, calibration_wall */
	size_t reps;               /* measured so far */
	double measured_s;         /* sum of measured wall times */
	bool failed, setup_ok, stopped;
	bool rss_own;              /* a max_rss sample was perfgate's own peak, not the command's */
	double rss_own_max;        /* B: perfgate's peak memory when that was seen */
};

static bool same_dir(const char *a, const char *b)
{
	struct stat sa, sb;
	return stat(a, &sa) == 0 && stat(b, &sb) == 0 && sa.st_dev == sb.st_dev && sa.st_ino == sb.st_ino;
}

char **runner_cmd_argv(const cJSON *cmd, const char *shell)
{
	char **v;
	size_t n = 0;
	const cJSON *it;

	if (shell) {
		v = xcalloc(4, sizeof(*v));
		v[0] = xstrdup("/bin/sh");
		v[1] = xstrdup("-c");
		v[2] = xstrdup(shell);
		return v;
	}
	v = xcalloc((size_t)cJSON_GetArraySize(cmd) + 1, sizeof(*v));
	cJSON_ArrayForEach(it, cmd)
		v[n++] = xstrdup(it->valuestring);
	return v;
}

static void fail(struct runner_cmd_bench *cb, const char *tail, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
static void fail(struct runner_cmd_bench *cb, const char *tail, const char *fmt, ...)
{
	struct sb sb = SB_INIT;
	va_list ap;
	char buf[1024];

	if (cb->failed)
		return;
	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	sb_puts(&sb, buf);
	cb->failed = true;
	cb->res.status = RUNDOC_STATUS_FAILED;
	free(cb->res.error);
	cb->res.error = sb_detach(&sb);
	if (tail && *tail) {
		rundoc_bench_set_stderr_tail(&cb->res, tail);
	}
}

/* How a child ended, when it was not a success; NULL when it was. */
static char *describe_end(const struct runner_cmd_bench *cb, const struct proc_result *r, double timeout)
{
	if (r->timed_out)
		return xasprintf("timed out after %gs (the whole process group was killed)", timeout);
	if (r->signal)
		return xasprintf("killed by signal %d (%s)", r->signal, strsignal(r->signal));
	for (size_t i = 0; i < cb->n_expect; i++)
		if (r->exit_code == cb->expect[i])
			return NULL;
	return xasprintf("exited with status %d", r->exit_code);
}

static char *file_tail(const char *path)
{
	char *text = NULL, *tail;
	size_t len = 0;
	struct err e = ERR_INIT;

	/* Only the end: a command may write gigabytes to its stderr. */
	if (!path || file_read_tail(path, 0, CMD_STDERR_TAIL_BYTES, &text, &len, &e) != 0)
		return NULL;
	tail = proc_tail_lines(text, len, CMD_STDERR_LINES);
	free(text);
	return tail;
}

/* A hook: a shell string or an argv array; stderr captured; not timed. */
static bool run_hook(struct runner_cmd_bench *cb, const cJSON *hook, const char *what)
{
	struct proc_options o = PROC_OPTIONS_INIT;
	struct proc_result r;
	struct err e = ERR_INIT;
	char **argv = runner_cmd_argv(hook, cJSON_IsString(hook) ? hook->valuestring : NULL);
	char *why = NULL;
	bool good = true;
	int rc;

	o.argv = (const char *const *)argv;
	o.env = (const char *const *)cb->env;
	o.pass_env = (const char *const *)cb->pass_env;
	o.cwd = cb->cwd;
	o.out = PROC_OUT_NULL;
	o.errout = PROC_OUT_CAPTURE;
	o.max_capture = 64 * 1024;
	o.timeout = cb->timeout;
	/* setup may start a server for the benchmark on purpose; it lives on */
	o.keep_descendants = hook == cb->setup;
	rc = proc_run(&o, &r, &e);
	cb->orphans += r.orphans; /* proc_run zeroes r first */
	if (rc != 0) {
		fail(cb, NULL, "%s: %s", what, e.msg);
		good = false;
	} else if (proc_interrupted()) {
		cb->stopped = true;
		good = false;
	} else if (r.timed_out || r.signal || r.exit_code != 0) {
		char *tail = proc_tail_lines(r.errout, r.errout_len, CMD_STDERR_LINES);
		if (r.timed_out)
			why = xasprintf("timed out after %gs", cb->timeout);
		else if (r.signal)
			why = xasprintf("killed by signal %d (%s)", r.signal, strsignal(r.signal));
		else
			why = xasprintf("exited with status %d", r.exit_code);
		fail(cb, tail, "%s %s", what, why);
		free(tail);
		good = false;
	}
	free(why);
	proc_result_release(&r);
	argv_free(argv);
	return good;
}

/* A fixed count unless only the adaptive keys are set (docs/suite.md). */
static bool adaptive_count(const cJSON *raw)
{
	return !cJSON_HasObjectItem(raw, "repetitions") &&
	       (cJSON_HasObjectItem(raw, "min_repetitions") || cJSON_HasObjectItem(raw, "max_repetitions") ||
		cJSON_HasObjectItem(raw, "min_time") || cJSON_HasObjectItem(raw, "target"));
}

size_t runner_cmd_declared_reps(const cJSON *raw, const char **key)
{
	if (!adaptive_count(raw)) {
		*key = "repetitions";
		return (size_t)json_peek_num(raw, "repetitions", CMD_DEFAULT_REPETITIONS);
	}
	*key = "min_repetitions";
	return (size_t)json_peek_num(raw, "min_repetitions", CMD_ADAPTIVE_MIN);
}

static void plan_repetitions(struct runner_cmd_bench *cb, const cJSON *raw)
{
	const cJSON *v;
	const char *key;

	if (cb->ctx && cb->ctx->repetitions > 0) {
		cb->min_reps = cb->max_reps = (size_t)cb->ctx->repetitions;
		return;
	}
	if (!adaptive_count(raw)) {
		cb->min_reps = cb->max_reps = runner_cmd_declared_reps(raw, &key);
		return;
	}
	cb->adaptive = true;
	cb->min_reps = runner_cmd_declared_reps(raw, &key);
	cb->max_reps = (size_t)json_peek_num(raw, "max_repetitions",
					(long)(cb->min_reps > CMD_ADAPTIVE_MAX ? cb->min_reps : CMD_ADAPTIVE_MAX));
	cb->target = CMD_ADAPTIVE_TARGET;
	if ((v = json_peek(raw, "target")))
		json_target_value(v, &cb->target);
	if ((v = json_peek(raw, "min_time")))
		json_duration_value(v, &cb->min_time);
}

static void build_env(struct runner_cmd_bench *cb, const cJSON *raw)
{
	const cJSON *env = json_peek(raw, "env"), *it;
	size_t n = 0;

	cb->env = xcalloc((size_t)(env ? cJSON_GetArraySize(env) : 0) + 2, sizeof(*cb->env));
	cJSON_ArrayForEach(it, env)
		if (cJSON_IsString(it))
			cb->env[n++] = xasprintf("%s=%s", it->string, it->valuestring);
	if (cb->emits)
		cb->env[n++] = xasprintf("PERFGATE_METRICS_FILE=%s", cb->metrics_path);
}

/* Resolve argv[0] once, not by a PATH search inside every measured
 * repetition (unless the benchmark sets its own PATH). */
static void resolve_program(const struct runner_cmd_bench *cb, char **argv)
{
	char *full;

	for (char **e = cb->env; *e; e++)
		if (strncmp(*e, "PATH=", 5) == 0)
			return;
	if (strchr(argv[0], '/') || !(full = proc_which(argv[0])))
		return;
	/* Only an absolute result: a relative PATH entry would resolve
	 * against the benchmark's folder, not ours. */
	if (full[0] == '/') {
		free(argv[0]);
		argv[0] = full;
	} else {
		free(full);
	}
}

/*
 * "calibration": a fixed command run beside every measured repetition, so
 * that the machine's speed at that moment divides out.  wall_rel and cpu_rel
 * are the repetition's wall and CPU time over the calibration run's next to
 * it; they gate, and the raw times are tracked (a shared machine's speed
 * drifts between runs by more than the changes worth catching).  "auto" is
 * perfgate's own fixed workload, `perfgate probe` (core/probe.h), run as a
 * child process of this very binary so that it is measured exactly as a
 * user's calibration command is.
 */
static void open_calibration(struct runner_cmd_bench *cb, const cJSON *v)
{
	static const char why[] = "a calibration is set: wall_rel and cpu_rel gate instead";

	if (cJSON_IsString(v) && strcmp(v->valuestring, "auto") == 0) {
		/* /proc/self/exe, resolved by the child just before its exec, is
		 * this perfgate even when its file was replaced since it started. */
		cb->cal_argv = xcalloc(3, sizeof(*cb->cal_argv));
		cb->cal_argv[0] = xstrdup("/proc/self/exe");
		cb->cal_argv[1] = xstrdup("probe");
		cb->cal_auto = true;
	} else {
		cb->cal_argv = runner_cmd_argv(v, cJSON_IsString(v) ? v->valuestring : NULL);
		resolve_program(cb, cb->cal_argv);
	}
	for (size_t i = M_WALL; i <= M_SYS; i++)
		rundoc_metric_set_tracked(&cb->res.metrics[i], why);
	rundoc_metric_set_tracked(&cb->res.metrics[M_CPU], why);
	cb->i_wall_rel = cb->res.n_metrics;
	rundoc_bench_add_metric(&cb->res, "wall_rel", "1", RD_LOWER);
	rundoc_bench_add_metric(&cb->res, "cpu_rel", "1", RD_LOWER);
	rundoc_metric_set_tracked(rundoc_bench_add_metric(&cb->res, "calibration_wall", "s", RD_LOWER),
				  cb->cal_auto ? "perfgate's probe's own time: how fast the machine was"
					       : "the calibration command's own time: how fast the machine was");
}

/* The private folder: the command's stderr and its metrics file. */
static int open_tmpdir(struct runner_cmd_bench *cb, struct err *err)
{
	const char *tmp = getenv("TMPDIR");
	char tmpl[4096];

	if (!tmp || !*tmp)
		tmp = "/tmp";
	snprintf(tmpl, sizeof(tmpl), "%s/perfgate-run-XXXXXX", tmp);
	if (!mkdtemp(tmpl))
		return err_sys(err, ERR_FAIL, "cannot create a temporary folder in '%s'", tmp);
	cb->tmpdir = xstrdup(tmpl);
	cb->stderr_path = xasprintf("%s/stderr", cb->tmpdir);
	cb->metrics_path = xasprintf("%s/metrics.json", cb->tmpdir);
	cb->stderr_fd = open(cb->stderr_path, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (cb->stderr_fd < 0)
		return err_sys(err, ERR_FAIL, "cannot create '%s'", cb->stderr_path);
	return 0;
}

/* "expect_exit": one code or a list; 0 when absent. */
static void read_expect_exit(struct runner_cmd_bench *cb, const cJSON *v)
{
	const cJSON *it;

	if (cJSON_IsArray(v)) {
		cb->expect = xcalloc((size_t)cJSON_GetArraySize(v), sizeof(*cb->expect));
		cJSON_ArrayForEach(it, v)
			cb->expect[cb->n_expect++] = (int)it->valuedouble;
	} else {
		cb->expect = xcalloc(1, sizeof(*cb->expect));
		cb->expect[cb->n_expect++] = cJSON_IsNumber(v) ? (int)v->valuedouble : 0;
	}
}

/* "measure": ["instructions", "cycles"]: open the counters and add their
 * metrics. */
static void open_counters(struct runner_cmd_bench *cb, const cJSON *raw)
{
	const cJSON *v = json_peek(raw, "measure"), *it;
	struct err e = ERR_INIT;
	const char *src;

	if (cJSON_IsArray(v)) {
		cJSON_ArrayForEach(it, v) {
			cb->want_instr = cb->want_instr || strcmp(it->valuestring, "instructions") == 0;
			cb->want_cycles = cb->want_cycles || strcmp(it->valuestring, "cycles") == 0;
		}
	}
	if (!cb->want_instr && !cb->want_cycles)
		return;
	if (perfcount_open(&cb->pc, cb->want_cycles, &e) != 0) {
		fail(cb, NULL, "%s", e.msg);
		return;
	}
	src = perfcount_source_name(cb->pc);
	if (cb->want_instr) {
		cb->i_instr = cb->res.n_metrics;
		rundoc_metric_set_source(rundoc_bench_add_metric(&cb->res, "instructions", "1", RD_LOWER), src);
	}
	if (cb->want_cycles) {
		cb->i_cycles = cb->res.n_metrics;
		rundoc_metric_set_source(rundoc_bench_add_metric(&cb->res, "cycles", "1", RD_LOWER), src);
	}
	if (perfcount_source(cb->pc) == PERFCOUNT_VALGRIND)
		cb->vg_argv = perfcount_valgrind_argv((const char *const *)cb->argv, cb->tmpdir);
}

/*
 * What the suite does not say but the figures depend on goes into the
 * configuration hash, so that a change of it starts a new history rather
 * than a false verdict: which counter counts (counts from perf_event and
 * valgrind are not comparable) and which probe "auto" runs (a new
 * PROBE_VERSION's wall_rel is not the old one's).
 */
static void hash_runtime(struct runner_cmd_bench *cb, const cJSON *raw)
{
	cJSON *rt;
	char hash[65];

	if (!cb->pc && !cb->cal_auto)
		return;
	rt = cJSON_CreateObject();
	if (cb->pc)
		cJSON_AddStringToObject(rt, "counter", perfcount_source_name(cb->pc));
	if (cb->cal_auto)
		cJSON_AddNumberToObject(rt, "probe", PROBE_VERSION);
	suite_config_hash(raw, rt, hash);
	cJSON_Delete(rt);
	free(cb->res.config_hash);
	cb->res.config_hash = xstrdup(hash);
}

/* How every repetition is started. */
static void set_proc_options(struct runner_cmd_bench *cb)
{
	cb->popts = (struct proc_options)PROC_OPTIONS_INIT;
	cb->popts.argv = (const char *const *)cb->argv;
	cb->popts.env = cb->env[0] ? (const char *const *)cb->env : NULL;
	cb->popts.pass_env = (const char *const *)cb->pass_env;
	cb->popts.cwd = same_dir(cb->cwd, ".") ? NULL : cb->cwd;
	cb->popts.out = PROC_OUT_NULL;
	cb->popts.errout = PROC_OUT_FILE;
	cb->popts.stderr_path = cb->stderr_path;
	cb->popts.timeout = cb->timeout;
}

int runner_cmd_open(struct runner_cmd_bench **out, const struct suite_bench *b, const struct run_ctx *ctx,
		    struct err *err)
{
	struct runner_cmd_bench *cb = xcalloc(1, sizeof(*cb));
	const cJSON *raw = b->raw, *v;
	const char *base = ctx && ctx->suite ? ctx->suite->dir : ".";
	const char *cwd = json_peek_str(raw, "cwd");
	int rc;

	*out = NULL;
	cb->stderr_fd = -1;
	cb->b = b;
	cb->ctx = ctx;
	cb->res.status = RUNDOC_STATUS_OK;
	cb->res.config_hash = xstrdup(b->config_hash);
	if (b->params)
		cb->res.params = cJSON_Duplicate(b->params, true);
	if ((rc = open_tmpdir(cb, err)) < 0) {
		runner_cmd_free(cb);
		return rc;
	}
	cb->argv = runner_cmd_argv(json_peek(raw, "command"), json_peek_str(raw, "shell"));
	cb->emits = json_peek_str(raw, "emits") != NULL;
	build_env(cb, raw);
	cb->pass_env = json_peek_strings(raw, "pass_env");
	cb->cwd = path_from(base, cwd);
	resolve_program(cb, cb->argv);
	if ((v = json_peek(raw, "timeout")))
		json_duration_value(v, &cb->timeout);
	cb->warmup = ctx && ctx->warmup_set ? ctx->warmup : (long)json_peek_num(raw, "warmup", 0);
	plan_repetitions(cb, raw);
	read_expect_exit(cb, json_peek(raw, "expect_exit"));
	cb->setup = json_peek(raw, "setup");
	cb->cleanup = json_peek(raw, "cleanup");
	cb->prepare = json_peek(raw, "prepare");
	cb->conclude = json_peek(raw, "conclude");

	rundoc_bench_add_metric(&cb->res, "wall", "s", RD_LOWER);
	rundoc_bench_add_metric(&cb->res, "user", "s", RD_LOWER);
	rundoc_bench_add_metric(&cb->res, "sys", "s", RD_LOWER);
	rundoc_bench_add_metric(&cb->res, "max_rss", "B", RD_LOWER);
	/* user + sys: the kernel's exact CPU time (sum_exec_runtime), which it
	 * splits between user and sys only by sampling at each tick */
	rundoc_bench_add_metric(&cb->res, "cpu", "s", RD_LOWER);
	if ((v = json_peek(raw, "calibration")))
		open_calibration(cb, v);
	open_counters(cb, raw);
	hash_runtime(cb, raw);
	set_proc_options(cb);

	if (!cb->failed && cb->setup)
		cb->setup_ok = run_hook(cb, cb->setup, "setup");
	else
		cb->setup_ok = !cb->failed;
	*out = cb;
	return 0;
}

/*
 * One member of the metrics file: NAME: NUMBER or NAME: {"value": NUMBER,
 * "unit": "s", "direction": "lower"}.  Returns 0 with the value, unit (NULL:
 * none given) and direction, or -1 with why in err (a message that names
 * the member).
 */
static int emitted_entry(const cJSON *it, double *value, const char **unit, enum rd_direction *dir,
			 struct err *err)
{
	static const char *const keys[] = { "value", "unit", "direction" };
	const cJSON *val = it, *unit_j = NULL, *dir_j = NULL;
	const char *d;
	char got[64];

	if (str_index(it->string, builtin_metrics, ARRAY_SIZE(builtin_metrics)) >= 0)
		return err_set(err, ERR_INPUT, "\"%s\" is a built-in metric", it->string);
	if (cJSON_IsObject(it)) {
		struct errlist problems = ERRLIST_INIT;
		char *path = xasprintf("\"%s\"", it->string);
		int rc = 0;

		json_check_keys(it, path, keys, ARRAY_SIZE(keys), &problems);
		if (problems.n)
			rc = err_set(err, ERR_INPUT, "%s", problems.msgs[0]);
		errlist_release(&problems);
		free(path);
		if (rc)
			return rc;
		val = json_peek(it, "value");
		unit_j = json_peek(it, "unit");
		dir_j = json_peek(it, "direction");
	}
	if (!cJSON_IsNumber(val) || !isfinite(val->valuedouble)) {
		json_got(val, got, sizeof(got));
		return err_set(err, ERR_INPUT, "\"%s\": expected a number or {\"value\": NUMBER}, got %s",
			       it->string, got);
	}
	if (unit_j && !cJSON_IsString(unit_j)) {
		json_got(unit_j, got, sizeof(got));
		return err_set(err, ERR_INPUT, "\"%s\".unit: expected a string, got %s", it->string, got);
	}
	d = dir_j ? (cJSON_IsString(dir_j) ? dir_j->valuestring : "") : NULL;
	if (d && strcmp(d, "lower") != 0 && strcmp(d, "higher") != 0) {
		json_got(dir_j, got, sizeof(got));
		return err_set(err, ERR_INPUT, "\"%s\".direction: expected \"lower\" or \"higher\", got %s",
			       it->string, got);
	}
	*value = val->valuedouble;
	*unit = unit_j ? unit_j->valuestring : NULL;
	*dir = d && strcmp(d, "higher") == 0 ? RD_HIGHER : RD_LOWER;
	return 0;
}

/* The metrics file as a JSON object, or NULL after failing the benchmark. */
static cJSON *load_emitted(struct runner_cmd_bench *cb, const char *what)
{
	char *text = NULL;
	size_t len = 0;
	struct err e = ERR_INIT;
	cJSON *doc = NULL;
	char got[64];

	if (access(cb->metrics_path, F_OK) != 0) {
		fail(cb, NULL, "%s: the command did not write its metrics to $PERFGATE_METRICS_FILE", what);
		return NULL;
	}
	if (file_read_max(cb->metrics_path, SUITE_READ_MAX, &text, &len, &e) != 0) {
		fail(cb, NULL, "%s: %s", what, e.msg);
		return NULL;
	}
	doc = cJSON_ParseWithLength(text, len);
	free(text);
	if (!doc) {
		fail(cb, NULL, "%s: the metrics file is not valid JSON", what);
	} else if (!cJSON_IsObject(doc)) {
		json_got(doc, got, sizeof(got));
		fail(cb, NULL, "%s: the metrics file: expected a JSON object of metrics, got %s", what, got);
		cJSON_Delete(doc);
		doc = NULL;
	}
	return doc;
}

/* Read the metrics the command wrote; on any problem fail the benchmark and
 * return false.  Values go to vals (indexed like the emitted metrics). */
static bool read_emitted(struct runner_cmd_bench *cb, const char *what, double **vals)
{
	cJSON *doc = load_emitted(cb, what);
	struct err e = ERR_INIT;
	const cJSON *it;
	size_t n = 0;
	bool good = false;

	*vals = NULL;
	if (!doc)
		return false;
	*vals = xcalloc((size_t)cJSON_GetArraySize(doc) + 1, sizeof(**vals));
	cJSON_ArrayForEach(it, doc) {
		struct rd_metric *m;
		const char *unit = NULL, *bad;
		enum rd_direction dir = RD_LOWER;
		double v = 0;
		char why[96];

		if (emitted_entry(it, &v, &unit, &dir, &e) < 0) {
			fail(cb, NULL, "%s: the metrics file: %s", what, e.msg);
			goto done;
		}
		/* a name the database would refuse fails here, not after the run */
		bad = json_name_problem(it->string, why, sizeof(why))       ? "name"
		      : unit && json_name_problem(unit, why, sizeof(why)) ? "unit"
									    : NULL;
		if (bad) {
			fail(cb, NULL, "%s: the metrics file: \"%s\": the %s %s", what, it->string, bad, why);
			goto done;
		}
		m = rundoc_bench_find_metric(&cb->res, it->string);
		if (!m && cb->reps > 0) {
			fail(cb, NULL, "%s: the metrics file: \"%s\" was not in the first repetition's", what,
			     it->string);
			goto done;
		}
		if (!m) {
			m = rundoc_bench_add_metric(&cb->res, it->string, unit ? unit : "1", dir);
			rundoc_metric_set_source(m, "emitted");
			cb->n_emitted++;
		}
		(*vals)[(size_t)(m - cb->res.metrics) - (cb->res.n_metrics - cb->n_emitted)] = v;
		n++;
	}
	if (n != cb->n_emitted) {
		/* A metric of the first repetition is missing from this one. */
		for (size_t i = cb->res.n_metrics - cb->n_emitted; i < cb->res.n_metrics; i++)
			if (!cJSON_HasObjectItem(doc, cb->res.metrics[i].name)) {
				fail(cb, NULL, "%s: the metrics file: \"%s\" is missing (the first repetition had it)",
				     what, cb->res.metrics[i].name);
				goto done;
			}
	}
	good = true;
done:
	if (!good) {
		free(*vals);
		*vals = NULL;
	}
	cJSON_Delete(doc);
	return good;
}

/* Empty the stderr file if the last run wrote to it. */
static bool reset_stderr(struct runner_cmd_bench *cb)
{
	struct stat st;
	if (fstat(cb->stderr_fd, &st) == 0 && st.st_size == 0)
		return true;
	if (ftruncate(cb->stderr_fd, 0) == 0)
		return true;
	fail(cb, NULL, "cannot reset '%s': %s", cb->stderr_path, strerror(errno));
	return false;
}

/* One run of the calibration command beside repetition `what`; false (and
 * the benchmark failed or stopped) when it did not run cleanly. */
static bool run_calibration(struct runner_cmd_bench *cb, const char *what, struct proc_result *r)
{
	struct proc_options o = cb->popts;
	struct err e = ERR_INIT;
	char *why;
	int rc;

	o.argv = (const char *const *)cb->cal_argv;
	if (!reset_stderr(cb))
		return false;
	rc = proc_run(&o, r, &e);
	cb->orphans += r->orphans;
	if (rc != 0) {
		fail(cb, NULL, "calibration beside %s: %s", what, e.msg);
		return false;
	}
	if (proc_interrupted()) {
		cb->stopped = true;
		return false;
	}
	/* The calibration's own exit status must be 0, whatever expect_exit says. */
	if (r->timed_out || r->signal || r->exit_code != 0) {
		char *tail = file_tail(cb->stderr_path);
		why = r->timed_out ? xasprintf("timed out after %gs", cb->timeout)
		      : r->signal ? xasprintf("killed by signal %d (%s)", r->signal, strsignal(r->signal))
				  : xasprintf("exited with status %d", r->exit_code);
		fail(cb, tail, "calibration beside %s: %s", what, why);
		free(tail);
		free(why);
		return false;
	}
	return true;
}

/*
 * Linux records, at a child's exec, the peak memory of the address space it
 * leaves: for a child started by posix_spawn (vfork) or fork that is
 * perfgate's own.  A command whose own peak stays below perfgate's
 * therefore reports perfgate's (13 MB or so, and more once a gate has loaded
 * its baseline), which moves with what perfgate did before, not with the
 * command: such a max_rss is kept but not gated (runner_cmd_finish).
 */
static void note_own_rss(struct runner_cmd_bench *cb, double child_rss)
{
	struct rusage self;
	double own;

	if (getrusage(RUSAGE_SELF, &self) != 0)
		return;
	own = (double)self.ru_maxrss * 1024.0; /* Linux reports KiB */
	if (child_rss <= own) {
		cb->rss_own = true;
		cb->rss_own_max = fmax(cb->rss_own_max, own);
	}
}

/* One run of the command; record == false for warmup.  `what` names it in messages. */
/* Is the hardware counter (perf_event) counting this run? */
static bool counting_perf(const struct runner_cmd_bench *cb, bool record)
{
	return record && cb->pc && perfcount_source(cb->pc) == PERFCOUNT_PERF;
}

/* The timed run of the command itself, counted by perf_event when asked;
 * false (the benchmark failed or was stopped) when it did not succeed. */
static bool timed_run(struct runner_cmd_bench *cb, bool record, const char *what, struct proc_result *r,
		      uint64_t *instr, uint64_t *cycles)
{
	struct err e = ERR_INIT;
	char *why;
	int rc;

	if (counting_perf(cb, record) && perfcount_start(cb->pc, &e) != 0) {
		fail(cb, NULL, "%s", e.msg);
		return false;
	}
	rc = proc_run(&cb->popts, r, &e);
	cb->orphans += r->orphans;
	if (counting_perf(cb, record) && perfcount_stop(cb->pc, instr, cycles, &e) != 0 && rc == 0) {
		fail(cb, NULL, "%s", e.msg);
		return false;
	}
	if (proc_interrupted()) {
		cb->stopped = true;
		return false;
	}
	if (rc != 0) {
		fail(cb, NULL, "%s: %s", what, e.msg);
		return false;
	}
	if ((why = describe_end(cb, r, cb->timeout))) {
		char *tail = file_tail(cb->stderr_path);

		fail(cb, tail, "%s: %s", what, why);
		free(tail);
		free(why);
		return false;
	}
	if (counting_perf(cb, record) && cb->want_instr && *instr == 0) {
		/* Some virtual machines offer the counter but never count. */
		fail(cb, NULL, "%s: the hardware instruction counter read 0; this machine's counters do not work "
			       "(set PERFGATE_COUNTER=valgrind to count with valgrind)", what);
		return false;
	}
	return true;
}

/* Counting under valgrind: a second, untimed run of the same command.
 * false when it failed (the benchmark is failed) or was stopped. */
static bool valgrind_run(struct runner_cmd_bench *cb, const char *what, uint64_t *instr)
{
	struct proc_options vo = cb->popts;
	struct proc_result vr;
	struct err e = ERR_INIT;
	char *why;
	int rc;

	vo.argv = (const char *const *)cb->vg_argv;
	vo.timeout = cb->timeout > 0 ? cb->timeout * 100 : 0;
	if (!reset_stderr(cb))
		return false;
	rc = proc_run(&vo, &vr, &e);
	cb->orphans += vr.orphans;
	if (proc_interrupted()) {
		cb->stopped = true;
		return false;
	}
	if (rc != 0) {
		fail(cb, NULL, "%s under valgrind: %s", what, e.msg);
	} else if ((why = describe_end(cb, &vr, vo.timeout))) {
		char *tail = file_tail(cb->stderr_path);

		fail(cb, tail, "%s under valgrind: %s", what, why);
		free(tail);
		free(why);
	} else if (perfcount_valgrind_collect(cb->tmpdir, instr, &e) != 0) {
		fail(cb, NULL, "%s: %s", what, e.msg);
	}
	return !cb->failed;
}

/* One repetition's samples: the run r, its calibration cal, the counters and
 * the emitted metrics (indexed like the emitted metrics). */
static void record_sample(struct runner_cmd_bench *cb, const struct proc_result *r,
			  const struct proc_result *cal, uint64_t instr, uint64_t cycles, const double *emitted)
{
	size_t first_emitted = cb->res.n_metrics - cb->n_emitted;
	double wall = (double)r->wall_ns * 1e-9;

	rundoc_metric_add_sample(&cb->res.metrics[M_WALL], wall);
	rundoc_metric_add_sample(&cb->res.metrics[M_USER], r->user);
	rundoc_metric_add_sample(&cb->res.metrics[M_SYS], r->sys);
	rundoc_metric_add_sample(&cb->res.metrics[M_RSS], r->max_rss);
	rundoc_metric_add_sample(&cb->res.metrics[M_CPU], r->user + r->sys);
	note_own_rss(cb, r->max_rss);
	if (cb->cal_argv) {
		double cw = (double)cal->wall_ns * 1e-9, cc = cal->user + cal->sys;

		/* A calibration too short to take measurable CPU time gives no cpu_rel. */
		if (cw > 0)
			rundoc_metric_add_sample(&cb->res.metrics[cb->i_wall_rel], wall / cw);
		if (cc > 0)
			rundoc_metric_add_sample(&cb->res.metrics[cb->i_wall_rel + 1], (r->user + r->sys) / cc);
		rundoc_metric_add_sample(&cb->res.metrics[cb->i_wall_rel + 2], cw);
	}
	if (cb->pc && cb->want_instr)
		rundoc_metric_add_sample(&cb->res.metrics[cb->i_instr], (double)instr);
	if (cb->pc && cb->want_cycles)
		rundoc_metric_add_sample(&cb->res.metrics[cb->i_cycles], (double)cycles);
	for (size_t i = 0; i < cb->n_emitted; i++)
		rundoc_metric_add_sample(&cb->res.metrics[first_emitted + i], emitted[i]);
	cb->reps++;
	cb->measured_s += wall;
}

static void one_run(struct runner_cmd_bench *cb, bool record, const char *what)
{
	struct proc_result r;
	uint64_t instr = 0, cycles = 0;
	double *emitted = NULL;
	/* The calibration runs next to the repetition, before it every other
	 * time, so that neither order's effect (a warm cache, a slow first
	 * exec) lands on one side only. */
	struct proc_result cal = { 0 };
	bool cal_first = cb->cal_argv && cb->reps % 2 == 1;

	if (cb->prepare && !run_hook(cb, cb->prepare, "prepare"))
		return;
	if (cal_first && !run_calibration(cb, what, &cal))
		return;
	if (cb->emits)
		unlink(cb->metrics_path);
	if (!reset_stderr(cb) || !timed_run(cb, record, what, &r, &instr, &cycles))
		return;
	if (cb->emits && !read_emitted(cb, what, &emitted))
		return;
	if (record && cb->vg_argv && !valgrind_run(cb, what, &instr))
		goto done;
	if (cb->cal_argv && !cal_first && !run_calibration(cb, what, &cal))
		goto done;
	if (record)
		record_sample(cb, &r, &cal, instr, cycles, emitted);
	if (cb->conclude)
		run_hook(cb, cb->conclude, "conclude");
done:
	free(emitted);
}

void runner_cmd_warmup(struct runner_cmd_bench *cb)
{
	char what[64];

	for (long i = 0; i < cb->warmup && !cb->failed && !cb->stopped; i++) {
		snprintf(what, sizeof(what), "warmup run %ld", i + 1);
		one_run(cb, false, what);
	}
}

void runner_cmd_step(struct runner_cmd_bench *cb)
{
	char what[64];

	if (!runner_cmd_can_step(cb))
		return;
	snprintf(what, sizeof(what), "repetition %zu", cb->reps + 1);
	one_run(cb, true, what);
}

bool runner_cmd_can_step(const struct runner_cmd_bench *cb)
{
	return !cb->failed && !cb->stopped && cb->setup_ok && cb->reps < cb->max_reps;
}

bool runner_cmd_may_stop(const struct runner_cmd_bench *cb, const double **samples, size_t *n, double *target)
{
	/* With a calibration the gated time is wall_rel: stop on its precision. */
	const struct rd_metric *wall = &cb->res.metrics[cb->cal_argv ? cb->i_wall_rel : M_WALL];

	if (!cb->adaptive || cb->reps < cb->min_reps || cb->measured_s < cb->min_time)
		return false;
	*samples = wall->samples;
	*n = wall->n_samples;
	*target = cb->target;
	return true;
}

bool runner_cmd_done(const struct runner_cmd_bench *cb)
{
	const double *samples;
	double *sorted, lo, hi, med, target;
	size_t n;
	bool done;

	if (!runner_cmd_can_step(cb))
		return true;
	if (!runner_cmd_may_stop(cb, &samples, &n, &target))
		return false;
	sorted = xmalloc(n * sizeof(*sorted));
	memcpy(sorted, samples, n * sizeof(*sorted));
	qsort(sorted, n, sizeof(*sorted), summary_cmp_double);
	med = summary_median_sorted(sorted, n);
	done = summary_median_ci(sorted, n, 0.95, &lo, &hi) == 0 && med > 0 && (hi - lo) / 2 <= target * med;
	free(sorted);
	return done;
}

size_t runner_cmd_reps(const struct runner_cmd_bench *cb)
{
	return cb->reps;
}

size_t runner_cmd_planned(const struct runner_cmd_bench *cb)
{
	return cb->max_reps;
}

void runner_cmd_finish(struct runner_cmd_bench *cb, struct rd_bench *out)
{
	cJSON *warnings = cJSON_CreateArray();
	const cJSON *w;

	if (cb->setup_ok && cb->cleanup && !proc_interrupted())
		run_hook(cb, cb->cleanup, "cleanup");
	for (size_t i = 0; i < cb->res.n_metrics; i++) {
		struct rd_metric *m = &cb->res.metrics[i];
		rundoc_metric_summarise(m);
		/* user and sys are tick-granular and max_rss barely moves: warning
		 * about their noise would only bury the warnings that matter. */
		if (i != M_USER && i != M_SYS && i != M_RSS)
			noise_warn(m->name, m->samples, m->n_samples, cb->warmup > 0, warnings);
	}
	if (cb->rss_own) {
		char *why = xasprintf("at or below perfgate's own peak memory (%.1f MB), which a child "
				      "started by perfgate reports when its own is smaller: not the command's",
				      cb->rss_own_max / 1e6);
		rundoc_metric_set_tracked(&cb->res.metrics[M_RSS], why);
		free(why);
	}
	if (cb->orphans) {
		char *why = xasprintf("killed %u process%s that the command or its hooks left running after "
				      "they ended (a background '&' or a setsid child); perfgate ends each run's "
				      "whole process tree", cb->orphans, cb->orphans == 1 ? "" : "es");
		rundoc_bench_warn(&cb->res, why);
		free(why);
	}
	cJSON_ArrayForEach(w, warnings)
		rundoc_bench_warn(&cb->res, w->valuestring);
	cJSON_Delete(warnings);
	if (cb->adaptive) {
		if (!cb->res.extra)
			cb->res.extra = cJSON_CreateObject();
		cJSON_AddStringToObject(cb->res.extra, "repetitions", "adaptive");
	}
	if (cb->ctx && cb->ctx->interleaved)
		rundoc_bench_set_interleaved(&cb->res);
	if (cb->b->variant) {
		struct rundoc_variant v = { .of = cb->b->variant_of, .name = cb->b->variant,
					    .reference = cb->b->reference };
		rundoc_bench_set_variant(&cb->res, &v);
	}
	if (cb->stopped && !cb->failed)
		cb->res.status = RUNDOC_STATUS_PARTIAL;
	/* Move: out keeps its name and kind, takes everything else. */
	out->status = cb->res.status;
	out->error = cb->res.error;
	out->config_hash = cb->res.config_hash;
	out->params = cb->res.params;
	out->metrics = cb->res.metrics;
	out->n_metrics = cb->res.n_metrics;
	out->alloc_metrics = cb->res.alloc_metrics;
	out->extra = cb->res.extra;
	memset(&cb->res, 0, sizeof(cb->res));
}

void runner_cmd_free(struct runner_cmd_bench *cb)
{
	if (!cb)
		return;
	free(cb->res.error);
	free(cb->res.config_hash);
	cJSON_Delete(cb->res.params);
	for (size_t i = 0; i < cb->res.n_metrics; i++) {
		free(cb->res.metrics[i].name);
		free(cb->res.metrics[i].unit);
		free(cb->res.metrics[i].samples);
		cJSON_Delete(cb->res.metrics[i].extra);
	}
	free(cb->res.metrics);
	cJSON_Delete(cb->res.extra);
	argv_free(cb->argv);
	argv_free(cb->cal_argv);
	argv_free(cb->env);
	argv_free(cb->pass_env);
	argv_free(cb->vg_argv);
	perfcount_free(cb->pc);
	if (cb->stderr_fd >= 0)
		close(cb->stderr_fd);
	if (cb->tmpdir) {
		unlink(cb->stderr_path);
		unlink(cb->metrics_path);
		rmdir(cb->tmpdir);
	}
	free(cb->tmpdir);
	free(cb->stderr_path);
	free(cb->metrics_path);
	free(cb->cwd);
	free(cb->expect);
	free(cb);
}

int runner_cmd_run(const struct suite_bench *b, const struct run_ctx *ctx,
		       struct rd_bench *out, struct err *err)
{
	struct runner_cmd_bench *cb = NULL;
	uint64_t t0 = now_ns(), step_ns = 0;
	int rc = runner_cmd_open(&cb, b, ctx, err);

	if (rc != 0)
		return rc;
	runner_cmd_warmup(cb);
	while (!runner_cmd_done(cb) && !run_past_deadline(ctx, cb->reps, step_ns)) {
		uint64_t s0 = now_ns();

		runner_cmd_step(cb);
		step_ns = now_ns() - s0;
		if (ctx && ctx->progress)
			ctx->progress(ctx->progress_arg, b->name, cb->reps, cb->max_reps,
				      (double)(now_ns() - t0) * 1e-9);
	}
	runner_cmd_finish(cb, out);
	runner_cmd_free(cb);
	return 0;
}

void runner_cmd_slo_check(const cJSON *bench, const char *path, struct errlist *problems)
{
	static const struct { const char *name, *unit; } always[] = {
		{ "wall", "s" }, { "user", "s" }, { "sys", "s" }, { "max_rss", "B" },
	}, calibrated[] = {
		{ "wall_rel", "1" }, { "cpu_rel", "1" }, { "calibration_wall", "s" },
	};
	const cJSON *slos = cJSON_GetObjectItemCaseSensitive(bench, "slo"), *name, *it;
	struct rundoc *tmp;
	struct rd_bench *b;

	/* emitted and monitored metrics are known only once they are there */
	if (!cJSON_IsObject(slos) || cJSON_HasObjectItem(bench, "emits") || cJSON_HasObjectItem(bench, "monitor"))
		return;
	name = cJSON_GetObjectItemCaseSensitive(bench, "name");
	tmp = rundoc_new();
	b = rundoc_add_bench(tmp, cJSON_IsString(name) ? name->valuestring : "?", RUNDOC_KIND_COMMAND);
	for (size_t i = 0; i < ARRAY_SIZE(always); i++)
		rundoc_bench_add_metric(b, always[i].name, always[i].unit, RD_LOWER);
	if (cJSON_HasObjectItem(bench, "calibration"))
		for (size_t i = 0; i < ARRAY_SIZE(calibrated); i++)
			rundoc_bench_add_metric(b, calibrated[i].name, calibrated[i].unit, RD_LOWER);
	cJSON_ArrayForEach(it, cJSON_GetObjectItemCaseSensitive(bench, "measure"))
		if (cJSON_IsString(it))
			rundoc_bench_add_metric(b, it->valuestring, "1", RD_LOWER); /* instructions, cycles */
	cJSON_ArrayForEach(it, slos) {
		struct slo so;
		struct slo_result res;
		struct err e = ERR_INIT;

		/* syntax is slo_validate's; a metric with no samples yet is ERR_RUN */
		if (!cJSON_IsString(it) || slo_parse(it->string, it->valuestring, &so, &e) != 0)
			continue;
		if (slo_evaluate(&so, b, &res, &e) == ERR_INPUT)
			errlist_add(problems, "%s.slo.%s: %s", path, it->string, e.msg);
		slo_release(&so);
	}
	rundoc_free(tmp);
}
