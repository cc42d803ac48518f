/*
 * fingerprint.h: the machine a run was measured on (DESIGN sections 1, 5, 6).
 *
 * Facts are read from /proc, /sys, /etc/os-release, uname() and nvidia-smi;
 * they go into the run document's "machine" member.  A SHA-256 over the
 * hardware-class facts (below) is the fingerprint: runs are only compared
 * with baselines of the same fingerprint.  Machine state that changes from
 * job to job on the same hardware (governor, turbo, SMT, load, virtualisation,
 * kernel, GPU driver) is recorded but not hashed.  docs/fingerprint.md
 * describes every field.
 *
 * The canonical text hashed (version 1), one "key=value\n" line each, in this
 * order, numbers in decimal, strings as read (trimmed):
 *   fingerprint=1
 *   arch=<uname machine>
 *   cpu.model=<model name>
 *   cpu.logical_cores=<N>
 *   cpu.physical_cores=<N>
 *   memory.gib=<MemTotal rounded to the nearest GiB>
 *   os.id=<ID from os-release>
 *   os.version_id=<VERSION_ID from os-release>
 *   gpu=<name>,<memory rounded to the nearest GiB>   (one line per GPU, sorted)
 */
#ifndef PERFGATE_FINGERPRINT_H
#define PERFGATE_FINGERPRINT_H

#include <stdbool.h>

#include <cjson/cJSON.h>

#include "err.h"

#define FINGERPRINT_VERSION 1

/*
 * Where facts come from; NULL fields take the real machine's defaults, so
 * tests point them at fixtures.
 */
struct fingerprint_sources {
	const char *cpuinfo;    /* default /proc/cpuinfo */
	const char *meminfo;    /* default /proc/meminfo */
	const char *os_release; /* default /etc/os-release, then /usr/lib/os-release */
	const char *loadavg;    /* default /proc/loadavg */
	const char *sys_cpu;    /* default /sys/devices/system/cpu (governor, boost, SMT) */
	const char *hypervisor; /* default /sys/hypervisor/type */
	/* The nvidia-smi command: default "nvidia-smi" when it is in PATH; ""
	 * means no GPU query.  Run with a timeout through core/proc.h. */
	const char *nvidia_smi;
	/* systemd-detect-virt: default from PATH; "" means do not run it. */
	const char *detect_virt;
	const char *arch;       /* default uname().machine */
	const char *kernel;     /* default uname().release */
	const char *hostname;   /* default uname().nodename */
	double timeout;         /* seconds per command; <= 0: 10 */
	const char *cgroup;     /* default /sys/fs/cgroup (cpu.max, or v1 cpu/cpu.cfs_quota_us) */
};
#define FINGERPRINT_SOURCES_INIT { .cpuinfo = NULL }

/*
 * Collect the facts into a new object *facts (caller frees with cJSON_Delete)
 * and the fingerprint into hash (64 hex chars).  The facts object carries
 * "fingerprint" too.  Fails (ERR_FAIL) only when /proc/cpuinfo or
 * /proc/meminfo cannot be read or parsed; a missing or failing nvidia-smi
 * means no GPUs (with "gpu_error" saying why when it exists but failed).
 */
int fingerprint_collect(const struct fingerprint_sources *src, cJSON **facts, char hash[65],
			struct err *err);

/*
 * The canonical text the hash is taken over, rebuilt from a facts object (so
 * `perfgate fingerprint --format text` can show it and stored machines can be
 * re-hashed).  New string, or NULL when the facts lack a hashed field.
 */
char *fingerprint_canonical(const cJSON *facts);

/* Parsers, exposed for the unit tests.  Each returns 0 or ERR_INPUT. */
struct fingerprint_cpu {
	char *model;           /* "Intel(R) Xeon(R) Gold 6248 CPU @ 2.50GHz" */
	char *vendor;          /* "GenuineIntel", "ARM (0x41)", may be NULL */
	int logical;           /* processors listed */
	int physical;          /* distinct (physical id, core id); = logical when unknown */
	int sockets;           /* distinct physical id; 1 when unknown */
	bool hypervisor_flag;  /* x86 "hypervisor" cpuid flag */
	bool topology_known;   /* physical/sockets came from cpuinfo, not assumed */
};
int fingerprint_parse_cpuinfo(const char *text, struct fingerprint_cpu *out, struct err *err);
void fingerprint_cpu_release(struct fingerprint_cpu *c);
/* MemTotal in bytes. */
int fingerprint_parse_meminfo(const char *text, double *total_bytes, struct err *err);
/* Lines of `nvidia-smi --query-gpu=name,memory.total,driver_version
 * --format=csv,noheader,nounits` into a new array of {name, memory_bytes, driver}. */
int fingerprint_parse_nvidia_csv(const char *text, cJSON **gpus, struct err *err);

#endif
