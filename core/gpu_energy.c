/*
 * gpu_energy.c: reading the GPUs' energy counters through nvidia-smi
 * (gpu_energy.h says which fields and why).
 */
#include "gpu_energy.h"

#include <ctype.h>
#include <math.h>
#include <poll.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "efficiency.h"
#include "proc.h"
#include "util.h"

static const char *const fields[] = { "total_energy_consumption", "energy.consumed" };

/* The field that answered in an earlier window (an index into fields), or
 * ARRAY_SIZE(fields) once none did: later windows start there instead of
 * asking nvidia-smi for fields its driver does not know, again. */
static atomic_size_t known_field;
static atomic_bool known_set;

enum { MAX_GPUS = 64 };

struct gpu_series {
	double *t, *e;           /* s (nvidia-smi's timestamps); J */
	size_t n, alloc_t, alloc_e;
	bool bad;                /* a reading that was not a number ("[N/A]") */
};

struct gpu_energy {
	char *exe;
	double interval;         /* s */
	size_t field;            /* the field being tried */
	pid_t pid;
	int fd;
	struct sb buf;           /* a partial line */
	bool header_seen;
	double factor;           /* to J */
	size_t lines;            /* data lines of this field */
	struct gpu_series gpu[MAX_GPUS];
	int n_gpus;
	bool failed;             /* no field left */
};

double gpu_energy_header_factor(const char *header)
{
	const char *u = strchr(header, '[');

	if (u && strncmp(u, "[J]", 3) == 0)
		return 1;
	if (u && strncmp(u, "[kJ]", 4) == 0)
		return 1e3;
	return 1e-3; /* "[mJ]", or no unit: NVML's millijoules */
}

/* The factor to joules of a unit written after a value ("mJ", "J", "kJ"),
 * or `dflt` when none is. */
static bool unit_factor(const char *u, double dflt, double *factor)
{
	while (*u == ' ')
		u++;
	if (!*u || *u == '\r')
		*factor = dflt;
	else if (strncmp(u, "mJ", 2) == 0)
		*factor = 1e-3, u += 2;
	else if (strncmp(u, "kJ", 2) == 0)
		*factor = 1e3, u += 2;
	else if (*u == 'J')
		*factor = 1, u++;
	else
		return false;
	while (*u == ' ' || *u == '\r')
		u++;
	return *u == '\0';
}

/* "2026/11/28 18:34:56.123" as seconds (UTC arithmetic: only differences
 * between readings are used). */
static bool parse_timestamp(const char *s, const char **end, double *out)
{
	int y, mo, d, h, mi, n = 0;
	double sec;
	struct tm tm = { 0 };

	if (sscanf(s, "%4d/%2d/%2d %2d:%2d:%lf%n", &y, &mo, &d, &h, &mi, &sec, &n) != 6 || n == 0)
		return false;
	tm.tm_year = y - 1900;
	tm.tm_mon = mo - 1;
	tm.tm_mday = d;
	tm.tm_hour = h;
	tm.tm_min = mi;
	*out = (double)timegm(&tm) + sec;
	*end = s + n;
	return isfinite(*out);
}

bool gpu_energy_parse_line(const char *line, double dflt, double *t, int *index, double *joules)
{
	char *end;
	const char *p;
	long i;
	double v, factor;

	if (!parse_timestamp(line, &p, t) || *p != ',')
		return false;
	i = strtol(p + 1, &end, 10);
	if (end == p + 1 || *end != ',' || i < 0 || i >= MAX_GPUS)
		return false;
	p = end + 1;
	while (*p == ' ')
		p++;
	v = strtod(p, &end);
	if (end == p || !isfinite(v) || v < 0 || !unit_factor(end, dflt, &factor))
		return false;
	*index = (int)i;
	*joules = v * factor;
	return true;
}

static void spawn(struct gpu_energy *g)
{
	char query[96], lms[32];
	/* with units: each value says whether it is mJ or J */
	const char *argv[] = { g->exe, query, "--format=csv", "-lms", lms, NULL };
	struct proc_options po = PROC_OPTIONS_INIT;
	struct err err = ERR_INIT;

	snprintf(query, sizeof(query), "--query-gpu=timestamp,index,%s", fields[g->field]);
	snprintf(lms, sizeof(lms), "%ld", (long)(g->interval * 1000));
	po.argv = argv;
	po.errout = PROC_OUT_NULL;
	g->header_seen = false;
	g->lines = 0;
	sb_reset(&g->buf);
	if (proc_spawn_reader(&po, &g->pid, &g->fd, &err) != 0) {
		g->pid = 0;
		g->fd = -1;
		g->failed = true;
	}
}

static void reap(struct gpu_energy *g)
{
	if (g->fd >= 0)
		close(g->fd);
	g->fd = -1;
	if (g->pid > 0) {
		proc_kill_group(g->pid, SIGTERM, 0.5);
		waitpid(g->pid, NULL, 0);
	}
	g->pid = 0;
}

void gpu_energy_forget(void)
{
	atomic_store(&known_set, false);
	atomic_store(&known_field, 0);
}

struct gpu_energy *gpu_energy_start(const char *nvidia_smi, double interval)
{
	char *exe = proc_which(nvidia_smi ? nvidia_smi : "nvidia-smi");
	struct gpu_energy *g;

	if (!exe)
		return NULL;
	g = xcalloc(1, sizeof(*g));
	g->exe = exe;
	g->interval = interval > 0 ? interval : 0.2;
	g->fd = -1;
	if (atomic_load(&known_set))
		g->field = atomic_load(&known_field);
	if (g->field >= ARRAY_SIZE(fields))
		g->failed = true;
	else
		spawn(g);
	return g;
}

/* One line: the header, then "TIMESTAMP, INDEX, VALUE UNIT" per GPU. */
static void line_of(struct gpu_energy *g, const char *line)
{
	const char *comma = strchr(line, ',');
	int i;
	double t, v;
	struct gpu_series *s;

	if (!g->header_seen) {
		g->header_seen = true;
		g->factor = gpu_energy_header_factor(strrchr(line, ',') ? strrchr(line, ',') : line);
		return;
	}
	if (!comma || !isdigit((unsigned char)comma[strspn(comma + 1, " ") + 1]))
		return;
	i = (int)strtol(comma + 1, NULL, 10);
	if (i < 0 || i >= MAX_GPUS)
		return;
	s = &g->gpu[i];
	if (i >= g->n_gpus)
		g->n_gpus = i + 1;
	g->lines++;
	if (!gpu_energy_parse_line(line, g->factor, &t, &i, &v)) {
		s->bad = true; /* "[N/A]": this GPU does not count */
		return;
	}
	/* nvidia-smi's own time of the reading: lines are drained once an
	 * interval, so the time they are read at is no measure of when */
	XGROW(s->t, s->alloc_t, s->n + 1);
	XGROW(s->e, s->alloc_e, s->n + 1);
	s->t[s->n] = t;
	s->e[s->n] = v;
	s->n++;
}

void gpu_energy_poll(struct gpu_energy *g)
{
	char chunk[4096];

	while (g && !g->failed && g->fd >= 0) {
		struct pollfd pfd = { g->fd, POLLIN, 0 };
		ssize_t n;
		char *nl;

		if (poll(&pfd, 1, 0) <= 0)
			return;
		n = read(g->fd, chunk, sizeof(chunk));
		if (n <= 0) {
			/* nvidia-smi exited: a field this driver does not know
			 * (no data line came), or it stopped on its own */
			bool unknown = g->lines == 0;
			reap(g);
			if (unknown && ++g->field < ARRAY_SIZE(fields)) {
				spawn(g);
			} else if (unknown) {
				g->failed = true;
				atomic_store(&known_field, g->field);
				atomic_store(&known_set, true);
			}
			return;
		}
		sb_add(&g->buf, chunk, (size_t)n);
		while ((nl = memchr(g->buf.buf, '\n', g->buf.len)) != NULL) {
			size_t len = (size_t)(nl - g->buf.buf);
			char *line = xstrndup(g->buf.buf, len);
			line[strcspn(line, "\r")] = '\0';
			if (*line)
				line_of(g, line);
			free(line);
			memmove(g->buf.buf, nl + 1, g->buf.len - len - 1);
			g->buf.len -= len + 1;
			g->buf.buf[g->buf.len] = '\0';
		}
	}
}

double gpu_energy_stop(struct gpu_energy *g, double window, char *field, size_t len, struct gpu_energy_reading *reads,
		       size_t max, size_t *n)
{
	double total = 0;

	if (len)
		field[0] = '\0';
	if (n)
		*n = 0;
	if (!g)
		return NAN;
	gpu_energy_poll(g);
	reap(g);
	if (g->failed || g->n_gpus == 0)
		total = NAN;
	for (int i = 0; i < g->n_gpus && isfinite(total); i++) {
		const struct gpu_series *s = &g->gpu[i];
		total = s->bad ? NAN : total + efficiency_energy_counter(s->t, s->e, s->n, window);
		if (n && *n < max && s->n > 0)
			reads[(*n)++] = (struct gpu_energy_reading){ .index = i, .t0 = s->t[0], .e0 = s->e[0],
								     .t1 = s->t[s->n - 1], .e1 = s->e[s->n - 1] };
	}
	if (isfinite(total) && len)
		snprintf(field, len, "%s", fields[g->field]);
	if (g->lines > 0) {
		atomic_store(&known_field, g->field);
		atomic_store(&known_set, true);
	}
	for (int i = 0; i < MAX_GPUS; i++) {
		free(g->gpu[i].t);
		free(g->gpu[i].e);
	}
	sb_release(&g->buf);
	free(g->exe);
	free(g);
	return total;
}
