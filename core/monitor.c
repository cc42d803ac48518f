/*
 * monitor.c: sampling a server process, the machine and its GPUs while a
 * benchmark's measured window is open.
 *
 * One background thread wakes every `interval`, reads /proc for the process
 * and the machine, and drains whatever lines the nvidia-smi child printed
 * since.  Readings are kept in memory (a few numbers per interval) and
 * summarised when the window closes.
 */
#include "monitor.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "json.h"
#include "efficiency.h"
#include "gpu_energy.h"
#include "proc.h"
#include "prom/config.h"
#include "prom/scrape.h"
#include "util.h"

/* The columns asked of nvidia-smi, in this order (the same query as the
 * captured real output in tests/fixtures/nvidia-smi/). */
#define GPU_QUERY "index,name,uuid,driver_version,memory.total,memory.used,utilization.gpu," \
		  "utilization.memory,power.draw,temperature.gpu,clocks.sm"
enum { GPU_COL_INDEX = 0, GPU_COL_MEM_USED = 5, GPU_COL_UTIL = 6, GPU_COL_POWER = 8, GPU_NCOLS = 11 };

static const char *const monitor_keys[] = { "pid", "pid_file", "process", "system", "gpu",
					    "interval", "nvidia_smi", "prometheus" };

void monitor_validate(const cJSON *m, const char *path, struct errlist *problems)
{
	static const char *const names[] = { "pid_file", "process", "nvidia_smi" };
	const cJSON *it;
	bool set[3];
	const char *str;
	bool flag;
	char at[512];

	if (!cJSON_IsObject(m)) {
		json_expected(problems, path, "an object", m);
		return;
	}
	json_check_keys(m, path, monitor_keys, ARRAY_SIZE(monitor_keys), problems);
	if ((it = json_peek(m, "pid")) && !(json_is_int(it) && it->valuedouble >= 1)) {
		json_path_key(at, sizeof(at), path, "pid");
		json_expected(problems, at, "a process id (an integer >= 1)", it);
	}
	for (size_t i = 0; i < ARRAY_SIZE(names); i++)
		json_get_string(m, names[i], path, &str, &set[i], problems);
	json_get_bool(m, "system", path, &flag, NULL, problems);
	json_get_bool(m, "gpu", path, &flag, NULL, problems);
	if ((it = json_peek(m, "interval"))) {
		struct err err = ERR_INIT;
		double s = -1;

		if (cJSON_IsNumber(it))
			s = it->valuedouble;
		else if (!cJSON_IsString(it) || parse_duration(it->valuestring, &s, &err) != 0)
			s = -1;
		json_path_key(at, sizeof(at), path, "interval");
		if (!(s >= 0.01 && s <= 60))
			json_expected(problems, at, "a duration from 10ms to 60s", it);
	}
	if ((it = json_peek(m, "prometheus"))) {
		json_path_key(at, sizeof(at), path, "prometheus");
		prom_config_validate(it, at, problems);
	}
	/* pid, pid_file and process each name the server (nvidia_smi does not). */
	if ((json_peek(m, "pid") != NULL) + set[0] + set[1] > 1)
		errlist_add(problems, "%s: name the server process once (pid, pid_file or process)", path);
}

int monitor_options_parse(const cJSON *m, const char *dir, struct monitor_options *o,
			  struct err *err)
{
	const cJSON *it;
	const char *s;

	memset(o, 0, sizeof(*o));
	o->system = true;
	o->gpu = true;
	o->interval = 0.2;
	if (!m)
		return 0;
	o->pid = (pid_t)json_peek_num(m, "pid", 0);
	if ((s = json_peek_str(m, "pid_file")))
		o->pid_file = s[0] == '/' || !dir ? xstrdup(s) : xasprintf("%s/%s", dir, s);
	if ((s = json_peek_str(m, "process")))
		o->process = xstrdup(s);
	if (cJSON_IsBool(json_peek(m, "system")))
		o->system = json_peek_true(m, "system");
	if (cJSON_IsBool(json_peek(m, "gpu")))
		o->gpu = json_peek_true(m, "gpu");
	if ((s = json_peek_str(m, "nvidia_smi")))
		o->nvidia_smi = xstrdup(s);
	if ((it = json_peek(m, "interval"))) {
		if (cJSON_IsNumber(it))
			o->interval = it->valuedouble;
		else if (cJSON_IsString(it) && parse_duration(it->valuestring, &o->interval, err) != 0)
			return ERR_INPUT;
	}
	if ((it = cJSON_GetObjectItemCaseSensitive(m, "prometheus")))
		return prom_config_parse(&o->prometheus, it, "monitor.prometheus", err);
	return 0;
}

void monitor_options_release(struct monitor_options *o)
{
	free(o->pid_file);
	free(o->process);
	free(o->nvidia_smi);
	prom_config_free(o->prometheus);
	memset(o, 0, sizeof(*o));
}

/* ---- readings ---- */

struct series {
	double *v;
	size_t n, alloc;
};

static void series_add(struct series *s, double v)
{
	XGROW(s->v, s->alloc, s->n + 1);
	s->v[s->n++] = v;
}

enum { S_T, S_CPU, S_RSS, S_SYS_CPU, S_SYS_MEM, S_GPU_T, S_GPU_UTIL, S_GPU_MEM, S_GPU_POWER, S_COUNT };
static const char *const series_names[S_COUNT] = {
	"t", "server.cpu", "server.rss", "system.cpu", "system.mem",
	"gpu.t", "gpu.util", "gpu.mem", "gpu.power"
};

struct monitor {
	struct monitor_options opts;
	pid_t pid;                 /* the server process, 0 when none */
	bool pid_gone;
	long ticks_per_s;
	uint64_t t0;               /* ns, CLOCK_MONOTONIC */
	uint64_t last_t;
	double last_proc_ticks;    /* utime + stime */
	double last_sys_total, last_sys_idle;
	pid_t smi;                 /* the nvidia-smi child, 0 when none */
	int smi_fd;
	struct sb smi_buf;         /* a partial line */
	bool smi_missing;
	bool smi_bad;              /* a line that did not parse was seen */
	/* GPU readings of one sampling instant, summed over GPUs until the index repeats */
	double gpu_util_sum, gpu_mem_sum, gpu_power_sum;
	int gpu_count;
	bool gpu_power_seen;
	struct series s[S_COUNT];
	struct gpu_energy *energy; /* the GPUs' energy counters, NULL when none */
	char *energy_exe;          /* nvidia-smi, until the energy reader is started */
	struct prom_scrape *scrape; /* the server's /metrics, NULL when none */
	pthread_t thread;
	pthread_mutex_t lock;
	bool stop;
	bool running;
};

static int read_small(const char *path, char *buf, size_t len)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	ssize_t n;

	if (fd < 0)
		return -1;
	n = read(fd, buf, len - 1);
	close(fd);
	if (n < 0)
		return -1;
	buf[n] = '\0';
	return 0;
}

/* utime + stime (clock ticks) and RSS (bytes) of a process. */
static int read_proc(pid_t pid, double *ticks, double *rss)
{
	char path[64], buf[4096], *p;
	unsigned long utime, stime;
	long pages;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	if (read_small(path, buf, sizeof(buf)) != 0)
		return -1;
	/* The command name may contain spaces and parentheses: fields restart after the last ')'. */
	p = strrchr(buf, ')');
	if (!p || sscanf(p + 2, "%*c %*d %*d %*d %*d %*d %*u %*u %*u %*u %*u %lu %lu", &utime, &stime) != 2)
		return -1;
	*ticks = (double)utime + (double)stime;
	snprintf(path, sizeof(path), "/proc/%ld/statm", (long)pid);
	if (read_small(path, buf, sizeof(buf)) != 0 || sscanf(buf, "%*s %ld", &pages) != 1)
		return -1;
	*rss = (double)pages * (double)sysconf(_SC_PAGESIZE);
	return 0;
}

static int read_system(double *total, double *idle, double *mem_used)
{
	char buf[8192];
	unsigned long long v[10] = { 0 };
	double mem_total = -1, mem_avail = -1;
	char *line;

	if (read_small("/proc/stat", buf, sizeof(buf)) != 0 ||
	    sscanf(buf, "cpu %llu %llu %llu %llu %llu %llu %llu %llu", &v[0], &v[1], &v[2], &v[3],
		   &v[4], &v[5], &v[6], &v[7]) < 4)
		return -1;
	*total = 0;
	for (int i = 0; i < 8; i++)
		*total += (double)v[i];
	*idle = (double)v[3] + (double)v[4]; /* idle + iowait */
	if (read_small("/proc/meminfo", buf, sizeof(buf)) != 0)
		return -1;
	for (line = buf; line && *line; line = strchr(line, '\n') ? strchr(line, '\n') + 1 : NULL) {
		double kib;
		if (sscanf(line, "MemTotal: %lf", &kib) == 1)
			mem_total = kib * 1024;
		else if (sscanf(line, "MemAvailable: %lf", &kib) == 1)
			mem_avail = kib * 1024;
	}
	*mem_used = mem_total >= 0 && mem_avail >= 0 ? mem_total - mem_avail : NAN;
	return 0;
}

/* The lowest pid whose comm is `name`. */
static pid_t find_process(const char *name)
{
	DIR *d = opendir("/proc");
	struct dirent *e;
	pid_t best = 0;

	if (!d)
		return 0;
	while ((e = readdir(d)) != NULL) {
		char path[300], comm[256];
		char *end;
		long pid = strtol(e->d_name, &end, 10);
		if (*end || pid <= 0)
			continue;
		snprintf(path, sizeof(path), "/proc/%ld/comm", pid);
		if (read_small(path, comm, sizeof(comm)) != 0)
			continue;
		comm[strcspn(comm, "\n")] = '\0';
		if (strcmp(comm, name) == 0 && (best == 0 || pid < best))
			best = (pid_t)pid;
	}
	closedir(d);
	return best;
}

static double parse_gpu_number(const char *s, bool *ok)
{
	char *end;
	double v;

	while (*s == ' ')
		s++;
	v = strtod(s, &end);
	while (*end == ' ')
		end++;
	*ok = end != s && (*end == '\0' || *end == ',') && isfinite(v);
	return v;
}

/* Flush the readings of one sampling instant (all GPUs) into the series. */
static void gpu_flush(struct monitor *m)
{
	if (m->gpu_count == 0)
		return;
	series_add(&m->s[S_GPU_T], (double)(now_ns() - m->t0) * 1e-9);
	series_add(&m->s[S_GPU_UTIL], m->gpu_util_sum / m->gpu_count);
	series_add(&m->s[S_GPU_MEM], m->gpu_mem_sum);
	series_add(&m->s[S_GPU_POWER], m->gpu_power_seen ? m->gpu_power_sum : NAN);
	m->gpu_util_sum = m->gpu_mem_sum = m->gpu_power_sum = 0;
	m->gpu_count = 0;
	m->gpu_power_seen = false;
}

/* One CSV line of the query: utilisation averaged, memory and power summed over GPUs. */
static void gpu_line(struct monitor *m, const char *line)
{
	const char *cols[GPU_NCOLS];
	const char *p = line;
	double index, util, mem, power;
	bool ok_i, ok_u, ok_m, ok_p;
	int n = 0;

	while (n < GPU_NCOLS) {
		cols[n++] = p;
		p = strchr(p, ',');
		if (!p)
			break;
		p++;
	}
	if (n < GPU_NCOLS) {
		m->smi_bad = true;
		return;
	}
	index = parse_gpu_number(cols[GPU_COL_INDEX], &ok_i);
	util = parse_gpu_number(cols[GPU_COL_UTIL], &ok_u);
	mem = parse_gpu_number(cols[GPU_COL_MEM_USED], &ok_m);
	power = parse_gpu_number(cols[GPU_COL_POWER], &ok_p); /* "[N/A]" on some boards */
	if (!ok_i || !ok_u || !ok_m) {
		m->smi_bad = true;
		return;
	}
	/* GPU 0 again means a new sampling instant. */
	if (index == 0)
		gpu_flush(m);
	m->gpu_util_sum += util;
	m->gpu_mem_sum += mem * 1048576.0; /* MiB */
	if (ok_p) {
		m->gpu_power_sum += power;
		m->gpu_power_seen = true;
	}
	m->gpu_count++;
}

static void gpu_drain(struct monitor *m)
{
	char buf[4096];

	for (;;) {
		struct pollfd pfd = { m->smi_fd, POLLIN, 0 };
		ssize_t n;
		char *nl;

		if (m->smi_fd < 0 || poll(&pfd, 1, 0) <= 0)
			return;
		n = read(m->smi_fd, buf, sizeof(buf));
		if (n <= 0) {
			close(m->smi_fd);
			m->smi_fd = -1;
			return;
		}
		sb_add(&m->smi_buf, buf, (size_t)n);
		while ((nl = memchr(m->smi_buf.buf, '\n', m->smi_buf.len)) != NULL) {
			size_t len = (size_t)(nl - m->smi_buf.buf);
			char *line = xstrndup(m->smi_buf.buf, len);
			line[strcspn(line, "\r")] = '\0';
			if (*line)
				gpu_line(m, line);
			free(line);
			memmove(m->smi_buf.buf, nl + 1, m->smi_buf.len - len - 1);
			m->smi_buf.len -= len + 1;
			m->smi_buf.buf[m->smi_buf.len] = '\0';
		}
	}
}

static void sample(struct monitor *m)
{
	uint64_t t = now_ns();
	double dt = (double)(t - m->last_t) * 1e-9;
	double cpu = NAN, rss = NAN, sys_cpu = NAN, sys_mem = NAN;

	if (m->pid && !m->pid_gone) {
		double ticks, r;
		if (read_proc(m->pid, &ticks, &r) == 0) {
			if (dt > 0)
				cpu = (ticks - m->last_proc_ticks) / (double)m->ticks_per_s / dt * 100.0;
			m->last_proc_ticks = ticks;
			rss = r;
		} else {
			m->pid_gone = true;
		}
	}
	if (m->opts.system) {
		double total, idle, mem;
		if (read_system(&total, &idle, &mem) == 0) {
			double dtot = total - m->last_sys_total;
			if (dtot > 0)
				sys_cpu = (1.0 - (idle - m->last_sys_idle) / dtot) * 100.0;
			m->last_sys_total = total;
			m->last_sys_idle = idle;
			sys_mem = mem;
		}
	}
	m->last_t = t;
	series_add(&m->s[S_T], (double)(t - m->t0) * 1e-9);
	series_add(&m->s[S_CPU], cpu);
	series_add(&m->s[S_RSS], rss);
	series_add(&m->s[S_SYS_CPU], sys_cpu);
	series_add(&m->s[S_SYS_MEM], sys_mem);
	if (m->smi)
		gpu_drain(m);
	/* The energy reader starts once the sampler's nvidia-smi has answered:
	 * two of them starting together slow each other on a busy machine,
	 * and the sampler's readings matter more. */
	if (m->energy_exe && m->s[S_GPU_T].n > 0) {
		m->energy = gpu_energy_start(m->energy_exe, m->opts.interval);
		free(m->energy_exe);
		m->energy_exe = NULL;
	}
	if (m->energy)
		gpu_energy_poll(m->energy);
}

static void *sampler(void *arg)
{
	struct monitor *m = arg;

	for (;;) {
		struct timespec ts;
		bool stop;

		ts.tv_sec = (time_t)m->opts.interval;
		ts.tv_nsec = (long)((m->opts.interval - (double)ts.tv_sec) * 1e9);
		nanosleep(&ts, NULL);
		pthread_mutex_lock(&m->lock);
		stop = m->stop;
		if (!stop)
			sample(m);
		pthread_mutex_unlock(&m->lock);
		if (stop)
			return NULL;
	}
}

static int resolve_pid(const struct monitor_options *o, pid_t *pid, struct err *err)
{
	*pid = o->pid;
	if (o->pid_file) {
		char *text = NULL;
		char *end;
		long v;
		if (file_read(o->pid_file, &text, NULL, err) != 0) {
			err_prefix(err, "monitor.pid_file");
			return ERR_RUN;
		}
		v = strtol(text, &end, 10);
		while (*end == '\n' || *end == ' ' || *end == '\r')
			end++;
		if (end == text || *end || v <= 0) {
			free(text);
			return err_set(err, ERR_RUN, "monitor.pid_file '%s' does not hold a process id",
				       o->pid_file);
		}
		free(text);
		*pid = (pid_t)v;
	}
	if (o->process) {
		*pid = find_process(o->process);
		if (!*pid)
			return err_set(err, ERR_RUN, "monitor.process: no running process named '%s'",
				       o->process);
	}
	if (*pid && kill(*pid, 0) != 0 && errno == ESRCH)
		return err_set(err, ERR_RUN, "monitor: process %ld is not running", (long)*pid);
	return 0;
}

static void start_gpu(struct monitor *m)
{
	char *exe = proc_which(m->opts.nvidia_smi ? m->opts.nvidia_smi : "nvidia-smi");
	char lms[32];
	const char *argv[] = { NULL, "--query-gpu=" GPU_QUERY, "--format=csv,noheader,nounits",
			       "-lms", lms, NULL };
	struct proc_options po = PROC_OPTIONS_INIT;
	struct err err = ERR_INIT;

	if (!exe) {
		m->smi_missing = true;
		return;
	}
	snprintf(lms, sizeof(lms), "%ld", (long)(m->opts.interval * 1000));
	argv[0] = exe;
	po.argv = argv;
	po.errout = PROC_OUT_NULL;
	if (proc_spawn_reader(&po, &m->smi, &m->smi_fd, &err) != 0) {
		m->smi = 0;
		m->smi_fd = -1;
		m->smi_missing = true;
	} else {
		m->energy_exe = xstrdup(exe);
	}
	free(exe);
}

int monitor_start(struct monitor **out, const struct monitor_options *opts, struct err *err)
{
	struct monitor *m = xcalloc(1, sizeof(*m));
	double r;
	int rc;

	*out = NULL;
	m->opts = *opts;
	m->opts.pid_file = opts->pid_file ? xstrdup(opts->pid_file) : NULL;
	m->opts.process = opts->process ? xstrdup(opts->process) : NULL;
	m->opts.nvidia_smi = opts->nvidia_smi ? xstrdup(opts->nvidia_smi) : NULL;
	m->opts.prometheus = NULL; /* the caller's: scraped, not owned */
	if (!(m->opts.interval > 0))
		m->opts.interval = 0.2;
	m->smi_fd = -1;
	m->ticks_per_s = sysconf(_SC_CLK_TCK);
	if ((rc = resolve_pid(&m->opts, &m->pid, err)) != 0) {
		monitor_options_release(&m->opts);
		free(m);
		return rc;
	}
	m->t0 = m->last_t = now_ns();
	if (m->pid && read_proc(m->pid, &m->last_proc_ticks, &r) != 0)
		m->pid_gone = true;
	if (m->opts.system) {
		double mem;
		read_system(&m->last_sys_total, &m->last_sys_idle, &mem);
	}
	if (m->opts.gpu)
		start_gpu(m);
	if (opts->prometheus && (rc = prom_scrape_start(&m->scrape, opts->prometheus, err)) != 0)
		goto fail;
	pthread_mutex_init(&m->lock, NULL);
	if (pthread_create(&m->thread, NULL, sampler, m) != 0) {
		pthread_mutex_destroy(&m->lock);
		rc = err_set(err, ERR_FAIL, "cannot start the resource monitor thread");
		goto fail;
	}
	m->running = true;
	*out = m;
	return 0;
fail:
	{
		char field[8];
		prom_scrape_stop(m->scrape, NULL, NULL);
		gpu_energy_stop(m->energy, 0, field, sizeof(field), NULL, 0, NULL);
		free(m->energy_exe);
		if (m->smi) {
			proc_kill_group(m->smi, SIGKILL, 0);
			waitpid(m->smi, NULL, 0);
		}
		if (m->smi_fd >= 0)
			close(m->smi_fd);
		monitor_options_release(&m->opts);
		free(m);
		return rc;
	}
}

/* Mean and max of the finite values. */
static bool stats_of(const struct series *s, double *mean, double *max)
{
	double sum = 0;
	size_t n = 0;

	*max = -INFINITY;
	for (size_t i = 0; i < s->n; i++) {
		if (!isfinite(s->v[i]))
			continue;
		sum += s->v[i];
		n++;
		if (s->v[i] > *max)
			*max = s->v[i];
	}
	if (n == 0)
		return false;
	*mean = sum / (double)n;
	return true;
}

static void add_sample(struct rd_bench *b, const char *name, const char *unit, double v)
{
	struct rd_metric *m = rundoc_bench_find_metric(b, name);

	if (!m)
		m = rundoc_bench_add_metric(b, name, unit, RD_LOWER);
	rundoc_metric_add_sample(m, v);
	rundoc_metric_summarise(m);
}

static void add_pair(struct rd_bench *b, const struct series *s, const char *name, const char *unit)
{
	double mean, max;
	char key[64];

	if (!stats_of(s, &mean, &max))
		return;
	snprintf(key, sizeof(key), "%s.mean", name);
	add_sample(b, key, unit, mean);
	snprintf(key, sizeof(key), "%s.max", name);
	add_sample(b, key, unit, max);
}

/* Append this window's readings to bench extra "resources" (one array per series;
 * times continue from the previous window's end so repetitions read as one line). */
static void append_series(struct monitor *m, struct rd_bench *b)
{
	cJSON *res;
	double offset = 0;

	if (!b->extra)
		b->extra = cJSON_CreateObject();
	res = cJSON_GetObjectItemCaseSensitive(b->extra, "resources");
	if (!res) {
		res = cJSON_AddObjectToObject(b->extra, "resources");
		cJSON_AddStringToObject(res, "units", "t, gpu.t: s; *.cpu, gpu.util: %; *.rss, *.mem, gpu.mem: B; gpu.power: W");
	} else {
		cJSON *t = cJSON_GetObjectItemCaseSensitive(res, "t");
		int n = cJSON_GetArraySize(t);
		if (n > 0)
			offset = cJSON_GetArrayItem(t, n - 1)->valuedouble;
	}
	for (int k = 0; k < S_COUNT; k++) {
		cJSON *arr = cJSON_GetObjectItemCaseSensitive(res, series_names[k]);
		bool any = false;

		for (size_t i = 0; i < m->s[k].n; i++)
			any |= isfinite(m->s[k].v[i]);
		if (!any)
			continue;
		/* The time axes go with their series: keep "t" when any /proc series is kept. */
		if (!arr)
			arr = cJSON_AddArrayToObject(res, series_names[k]);
		for (size_t i = 0; i < m->s[k].n; i++) {
			double v = m->s[k].v[i];
			if (k == S_T || k == S_GPU_T)
				v += offset;
			cJSON_AddItemToArray(arr, isfinite(v) ? cJSON_CreateNumber(v) : cJSON_CreateNull());
		}
	}
}

/* extra.energy: how the energy was read, once per benchmark ("mixed"
 * when windows differed), and per window its length, energy and, for the
 * counter, each GPU's first and last readings (nvidia-smi's timestamps). */
static void energy_record(struct rd_bench *b, const char *method, const char *field, double window, double j,
			  const struct gpu_energy_reading *r, size_t n)
{
	cJSON *e, *w, *gpus;

	if (!b->extra)
		b->extra = cJSON_CreateObject();
	if (!(e = cJSON_GetObjectItemCaseSensitive(b->extra, "energy"))) {
		e = cJSON_AddObjectToObject(b->extra, "energy");
		cJSON_AddStringToObject(e, "method", method);
		if (strcmp(method, "counter") == 0) {
			cJSON_AddStringToObject(e, "source", "nvidia-smi");
			cJSON_AddStringToObject(e, "field", field);
			cJSON_AddStringToObject(e, "how", "each GPU's energy counter: its increase from the first reading "
					       "in the window to the last, times window / span by nvidia-smi's "
					       "timestamps, summed over GPUs");
		} else {
			cJSON_AddStringToObject(e, "source", "gpu.power");
			cJSON_AddStringToObject(e, "how", "the trapezoid integral of power.draw summed over GPUs, from "
					       "the first reading in the window to the last, times window / span");
		}
		cJSON_AddArrayToObject(e, "windows");
	} else {
		const char *was = cJSON_GetStringValue(cJSON_GetObjectItemCaseSensitive(e, "method"));
		if (was && strcmp(was, method) != 0)
			cJSON_ReplaceItemInObjectCaseSensitive(e, "method", cJSON_CreateString("mixed"));
	}
	w = cJSON_CreateObject();
	cJSON_AddStringToObject(w, "method", method);
	cJSON_AddNumberToObject(w, "window", window);
	cJSON_AddNumberToObject(w, "joules", j);
	if (n) {
		gpus = cJSON_AddArrayToObject(w, "gpus");
		for (size_t i = 0; i < n; i++) {
			cJSON *g = cJSON_CreateObject();
			cJSON_AddNumberToObject(g, "index", r[i].index);
			cJSON_AddNumberToObject(g, "t0", r[i].t0);
			cJSON_AddNumberToObject(g, "e0", r[i].e0);
			cJSON_AddNumberToObject(g, "t1", r[i].t1);
			cJSON_AddNumberToObject(g, "e1", r[i].e1);
			cJSON_AddItemToArray(gpus, g);
		}
	}
	cJSON_AddItemToArray(cJSON_GetObjectItemCaseSensitive(e, "windows"), w);
}

/*
 * The GPUs' energy over the window (J): their own counters when nvidia-smi
 * gives them, else the integrated power readings.
 */
static void add_energy(struct monitor *m, struct rd_bench *b, double window)
{
	struct gpu_energy_reading reads[16];
	size_t n = 0;
	char field[64];
	double j = gpu_energy_stop(m->energy, window, field, sizeof(field), reads, ARRAY_SIZE(reads), &n);
	const char *method = "counter";

	m->energy = NULL;
	if (!isfinite(j)) {
		method = "power";
		n = 0;
		j = efficiency_energy_power(m->s[S_GPU_T].v, m->s[S_GPU_POWER].v, m->s[S_GPU_T].n, window);
	}
	if (!isfinite(j))
		return;
	add_sample(b, "energy", "J", j);
	energy_record(b, method, field, window, j, reads, n);
}

/* A notice once per list: the runner passes the same list for every repetition. */
static void notice_once(struct errlist *l, const char *msg)
{
	for (size_t i = 0; i < l->n; i++)
		if (strcmp(l->msgs[i], msg) == 0)
			return;
	errlist_add(l, "%s", msg);
}

int monitor_stop(struct monitor *m, struct rd_bench *b, struct errlist *notices, struct err *err)
{
	(void)err;
	if (!m)
		return 0;
	pthread_mutex_lock(&m->lock);
	m->stop = true;
	sample(m); /* the window's last reading */
	pthread_mutex_unlock(&m->lock);
	pthread_join(m->thread, NULL);
	if (m->smi) {
		gpu_drain(m);
		gpu_flush(m);
		proc_kill_group(m->smi, SIGTERM, 0.5);
		waitpid(m->smi, NULL, 0);
	}
	if (m->smi_fd >= 0)
		close(m->smi_fd);
	pthread_mutex_destroy(&m->lock);
	add_energy(m, b, (double)(now_ns() - m->t0) / 1e9);
	free(m->energy_exe);
	prom_scrape_stop(m->scrape, b, notices);

	add_pair(b, &m->s[S_CPU], "server.cpu", "%");
	add_pair(b, &m->s[S_RSS], "server.rss", "B");
	add_pair(b, &m->s[S_SYS_CPU], "system.cpu", "%");
	add_pair(b, &m->s[S_SYS_MEM], "system.mem", "B");
	add_pair(b, &m->s[S_GPU_UTIL], "gpu.util", "%");
	add_pair(b, &m->s[S_GPU_MEM], "gpu.mem", "B");
	add_pair(b, &m->s[S_GPU_POWER], "gpu.power", "W");
	append_series(m, b);
	if (notices) {
		char msg[128];
		if (m->opts.gpu && m->smi_missing)
			notice_once(notices, "nvidia-smi not found; GPUs not sampled");
		if (m->smi_bad)
			notice_once(notices, "nvidia-smi printed lines that did not parse; they were skipped");
		if (m->pid_gone) {
			snprintf(msg, sizeof(msg), "the monitored process %ld exited during the measurement",
				 (long)m->pid);
			notice_once(notices, msg);
		}
	}
	for (int k = 0; k < S_COUNT; k++)
		free(m->s[k].v);
	sb_release(&m->smi_buf);
	monitor_options_release(&m->opts);
	free(m);
	return 0;
}

/* ---- metrics that may be missing for a reason ---- */

static const char *const energy_names[] = { "energy", "energy_per_request", "energy_per_output_token",
					    "output_tokens_per_joule" };
static const char *const cost_names[] = { "cost_per_1k_requests", "cost_per_1m_output_tokens" };

/* `name` is `base`, `base.STAT`, or either with a sweep step's `@RATE/s`. */
static bool named(const char *name, const char *base)
{
	size_t n = strlen(base);

	return strncmp(name, base, n) == 0 && (name[n] == '\0' || name[n] == '.' || name[n] == '@');
}

static bool one_of(const char *name, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (named(name, list[i]))
			return true;
	return false;
}

bool monitor_metric(const char *name)
{
	return strncmp(name, "server.", 7) == 0 || one_of(name, energy_names, ARRAY_SIZE(energy_names)) ||
	       one_of(name, cost_names, ARRAY_SIZE(cost_names));
}

/* Why server.TARGET.METRIC... is missing, from the target's record. */
static bool server_unmeasured(const struct rd_bench *b, const char *name, char *why, size_t len)
{
	const cJSON *targets = json_peek(json_peek(b->extra, "prometheus"), "targets"), *t;
	const char *rest = name + 7, *dot = strchr(rest, '.');

	if (!dot)
		return false;
	cJSON_ArrayForEach(t, targets) {
		const char *tn = cJSON_GetStringValue(json_peek(t, "name"));
		const cJSON *missing = json_peek(t, "missing"), *mi;
		double scrapes = json_peek_num(t, "scrapes", 0), failed = json_peek_num(t, "failed", 0);

		if (!tn || strlen(tn) != (size_t)(dot - rest) || strncmp(tn, rest, (size_t)(dot - rest)) != 0)
			continue;
		if (scrapes == failed) {
			snprintf(why, len, "no scrape of target '%s' succeeded", tn);
			return true;
		}
		cJSON_ArrayForEach(mi, missing)
			if (cJSON_IsString(mi) && named(dot + 1, mi->valuestring)) {
				snprintf(why, len, "target '%s' exposes none of the series of %s", tn, mi->valuestring);
				return true;
			}
		snprintf(why, len, "target '%s' gave it no value in any window (a histogram without observations, "
			 "a ratio whose denominator did not move, a counter read once)", tn);
		return true;
	}
	return false;
}

bool monitor_unmeasured(const struct rd_bench *b, const char *name, char *why, size_t len)
{
	if (rundoc_bench_find_metric(b, name))
		return false;
	if (strncmp(name, "server.", 7) == 0)
		return server_unmeasured(b, name, why, len);
	if (one_of(name, energy_names, ARRAY_SIZE(energy_names))) {
		snprintf(why, len, "%s", json_peek(b->extra, "energy")
					   ? "the GPU energy readings gave no value for it (no requests or no output tokens)"
					   : "no GPU energy readings: no monitor with gpu on, no nvidia-smi, or no GPU");
		return true;
	}
	if (one_of(name, cost_names, ARRAY_SIZE(cost_names))) {
		snprintf(why, len, "%s", json_peek(b->extra, "cost")
					   ? "no throughput (or output tokens) to divide the price by"
					   : "no price: set the suite's \"price\" or PERFGATE_PRICE_PER_HOUR");
		return true;
	}
	return false;
}
