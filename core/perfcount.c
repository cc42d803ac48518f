/*
 * perfcount.c: instruction and cycle counts (see perfcount.h for why).
 */
#include "perfcount.h"

#include <dirent.h>
#include <errno.h>
#include <linux/perf_event.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "proc.h"
#include "util.h"

struct perfcount {
	enum perfcount_source source;
	int fd_instr;   /* -1 when not open */
	int fd_cycles;  /* -1 when not open or not wanted */
};

static int open_counter(uint64_t config)
{
	struct perf_event_attr attr;

	memset(&attr, 0, sizeof(attr));
	attr.size = sizeof(attr);
	attr.type = PERF_TYPE_HARDWARE;
	attr.config = config;
	attr.disabled = 1;
	attr.inherit = 1;        /* count every child and grandchild */
	attr.exclude_kernel = 1; /* user space only: allowed at perf_event_paranoid 2, and steadier */
	attr.exclude_hv = 1;
	return (int)syscall(SYS_perf_event_open, &attr, 0, -1, -1, PERF_FLAG_FD_CLOEXEC);
}

bool perfcount_hardware_available(void)
{
	int fd = open_counter(PERF_COUNT_HW_INSTRUCTIONS);
	if (fd < 0)
		return false;
	close(fd);
	return true;
}

int perfcount_open(struct perfcount **out, bool want_cycles, struct err *err)
{
	struct perfcount *pc = xcalloc(1, sizeof(*pc));
	const char *force = getenv("PERFGATE_COUNTER");
	char *vg = NULL;
	int rc = 0;

	pc->fd_instr = pc->fd_cycles = -1;
	*out = NULL;
	if (!(force && strcmp(force, "valgrind") == 0)) {
		pc->fd_instr = open_counter(PERF_COUNT_HW_INSTRUCTIONS);
		if (pc->fd_instr >= 0 && want_cycles) {
			pc->fd_cycles = open_counter(PERF_COUNT_HW_CPU_CYCLES);
			if (pc->fd_cycles < 0) {
				rc = err_sys(err, ERR_RUN, "cannot count cycles with perf_event_open");
				goto done;
			}
		}
		if (pc->fd_instr >= 0) {
			pc->source = PERFCOUNT_PERF;
			goto done;
		}
	}
	if (want_cycles) {
		rc = err_set(err, ERR_RUN,
			     "\"cycles\" needs hardware counters, which this machine does not offer "
			     "(perf_event_open: %s; see /proc/sys/kernel/perf_event_paranoid)",
			     force ? "PERFGATE_COUNTER=valgrind" : strerror(errno));
		goto done;
	}
	vg = proc_which("valgrind");
	if (!vg) {
		rc = err_set(err, ERR_RUN,
			     "\"instructions\" needs hardware counters or valgrind; this machine has neither "
			     "(install the Debian package valgrind)");
		goto done;
	}
	pc->source = PERFCOUNT_VALGRIND;
done:
	free(vg);
	if (rc != 0) {
		perfcount_free(pc);
		return rc;
	}
	*out = pc;
	return 0;
}

void perfcount_free(struct perfcount *pc)
{
	if (!pc)
		return;
	if (pc->fd_instr >= 0)
		close(pc->fd_instr);
	if (pc->fd_cycles >= 0)
		close(pc->fd_cycles);
	free(pc);
}

enum perfcount_source perfcount_source(const struct perfcount *pc)
{
	return pc->source;
}

const char *perfcount_source_name(const struct perfcount *pc)
{
	return pc->source == PERFCOUNT_PERF ? "perf_event" : "valgrind-cachegrind";
}

int perfcount_start(struct perfcount *pc, struct err *err)
{
	int fds[2] = { pc->fd_instr, pc->fd_cycles };

	for (size_t i = 0; i < 2; i++) {
		if (fds[i] < 0)
			continue;
		if (ioctl(fds[i], PERF_EVENT_IOC_RESET, 0) != 0 ||
		    ioctl(fds[i], PERF_EVENT_IOC_ENABLE, 0) != 0)
			return err_sys(err, ERR_RUN, "cannot start the hardware counters");
	}
	return 0;
}

int perfcount_stop(struct perfcount *pc, uint64_t *instructions, uint64_t *cycles, struct err *err)
{
	int fds[2] = { pc->fd_instr, pc->fd_cycles };
	uint64_t *dst[2] = { instructions, cycles };

	for (size_t i = 0; i < 2; i++) {
		uint64_t v = 0;
		if (fds[i] < 0)
			continue;
		if (ioctl(fds[i], PERF_EVENT_IOC_DISABLE, 0) != 0)
			return err_sys(err, ERR_RUN, "cannot stop the hardware counters");
		if (read(fds[i], &v, sizeof(v)) != (ssize_t)sizeof(v))
			return err_sys(err, ERR_RUN, "cannot read the hardware counters");
		if (dst[i])
			*dst[i] = v;
	}
	return 0;
}

char **perfcount_valgrind_argv(const char *const *argv, const char *dir)
{
	static const char *const head[] = {
		"valgrind", "--tool=cachegrind", "--cache-sim=no", "--branch-sim=no",
		"--trace-children=yes", "--quiet",
	};
	size_t n = 0, k = 0;
	char **v;

	while (argv[n])
		n++;
	v = xcalloc(ARRAY_SIZE(head) + n + 3, sizeof(*v));
	for (size_t i = 0; i < ARRAY_SIZE(head); i++)
		v[k++] = xstrdup(head[i]);
	v[k++] = xasprintf("--cachegrind-out-file=%s/cachegrind.out.%%p", dir);
	v[k++] = xstrdup("--");
	for (size_t i = 0; i < n; i++)
		v[k++] = xstrdup(argv[i]);
	v[k] = NULL;
	return v;
}

/* The "summary: N" line of one cachegrind output file (Ir is the first event). */
static int summary_of(const char *path, uint64_t *ir, struct err *err)
{
	char *text = NULL;
	size_t len;
	const char *line;
	int rc = file_read(path, &text, &len, err);

	if (rc != 0)
		return rc;
	line = strstr(text, "\nsummary:");
	if (!line) {
		rc = err_set(err, ERR_RUN, "cachegrind wrote no summary to '%s'", path);
	} else {
		char *end;
		unsigned long long v;
		errno = 0;
		v = strtoull(line + strlen("\nsummary:"), &end, 10);
		if (errno || end == line + strlen("\nsummary:"))
			rc = err_set(err, ERR_RUN, "cannot read cachegrind's summary in '%s'", path);
		else
			*ir = v;
	}
	free(text);
	return rc;
}

int perfcount_valgrind_collect(const char *dir, uint64_t *instructions, struct err *err)
{
	DIR *d = opendir(dir);
	struct dirent *e;
	uint64_t total = 0;
	size_t files = 0;
	int rc = 0;

	if (!d)
		return err_sys(err, ERR_RUN, "cannot open '%s'", dir);
	while ((e = readdir(d))) {
		char *path;
		uint64_t ir = 0;
		if (strncmp(e->d_name, "cachegrind.out.", 15) != 0)
			continue;
		path = xasprintf("%s/%s", dir, e->d_name);
		if (rc == 0 && (rc = summary_of(path, &ir, err)) == 0) {
			total += ir;
			files++;
		}
		unlink(path);
		free(path);
	}
	closedir(d);
	if (rc == 0 && files == 0)
		rc = err_set(err, ERR_RUN, "valgrind wrote no cachegrind output (is the command a static or setuid program?)");
	if (rc == 0)
		*instructions = total;
	return rc;
}
