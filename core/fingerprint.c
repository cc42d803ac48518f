/*
 * fingerprint.c: machine facts and the hardware-class hash.  See
 * fingerprint.h for the hashed fields and docs/fingerprint.md for why.
 */
#include "fingerprint.h"

#include <errno.h>
#include <math.h>
#include <sched.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

#include "json.h"
#include "proc.h"
#include "util.h"

#define GIB (1024.0 * 1024.0 * 1024.0)
#define MIB (1024.0 * 1024.0)

/* ---- small text helpers ---- */

static char *trim(char *s)
{
	char *end;

	while (*s == ' ' || *s == '\t' || *s == '\r' || *s == '\n')
		s++;
	end = s + strlen(s);
	while (end > s && (end[-1] == ' ' || end[-1] == '\t' || end[-1] == '\r' || end[-1] == '\n'))
		*--end = '\0';
	return s;
}

/* Whole file, or NULL (the file is optional). */
static char *read_optional(const char *path)
{
	char *text = NULL;

	if (!path || file_read(path, &text, NULL, NULL) != 0)
		return NULL;
	return text;
}

/* First line of a small sysfs-style file, trimmed, or NULL. */
static char *read_line(const char *path)
{
	char *text = read_optional(path), *line;

	if (!text)
		return NULL;
	line = trim(text);
	line[strcspn(line, "\n")] = '\0';
	line = xstrdup(line);
	free(text);
	return line;
}

/* ---- /proc/cpuinfo ---- */

/* Names for the ARM cores CI and inference machines actually have
 * (MIDR implementer, part); others are shown by number. */
static const struct {
	unsigned implementer, part;
	const char *name;
} arm_parts[] = {
	{ 0x41, 0xd03, "ARM Cortex-A53" },    { 0x41, 0xd07, "ARM Cortex-A57" },
	{ 0x41, 0xd08, "ARM Cortex-A72" },    { 0x41, 0xd0b, "ARM Cortex-A76" },
	{ 0x41, 0xd0c, "ARM Neoverse-N1" },   { 0x41, 0xd40, "ARM Neoverse-V1" },
	{ 0x41, 0xd49, "ARM Neoverse-N2" },   { 0x41, 0xd4f, "ARM Neoverse-V2" },
	{ 0x41, 0xd8e, "ARM Neoverse-N3" },   { 0x41, 0xd84, "ARM Neoverse-V3" },
	{ 0xc0, 0xac3, "Ampere-1" },          { 0xc0, 0xac4, "Ampere-1a" },
	{ 0x61, 0x022, "Apple M1 Icestorm" }, { 0x61, 0x023, "Apple M1 Firestorm" },
};

static const char *arm_vendor(unsigned implementer)
{
	switch (implementer) {
	case 0x41: return "ARM";
	case 0x42: return "Broadcom";
	case 0x43: return "Cavium";
	case 0x48: return "HiSilicon";
	case 0x4e: return "NVIDIA";
	case 0x51: return "Qualcomm";
	case 0x61: return "Apple";
	case 0xc0: return "Ampere";
	default: return NULL;
	}
}

static bool parse_hex(const char *s, unsigned *out)
{
	char *end;
	unsigned long v;

	errno = 0;
	v = strtoul(s, &end, 0);
	if (errno || end == s || *trim(end) || v > 0xffffu)
		return false;
	*out = (unsigned)v;
	return true;
}

static char *arm_model(const char *impl, const char *part)
{
	unsigned i, p;

	if (!impl || !part || !parse_hex(impl, &i) || !parse_hex(part, &p))
		return NULL;
	for (size_t k = 0; k < ARRAY_SIZE(arm_parts); k++)
		if (arm_parts[k].implementer == i && arm_parts[k].part == p)
			return xstrdup(arm_parts[k].name);
	return xasprintf("%s implementer 0x%02x part 0x%03x", arm_vendor(i) ? arm_vendor(i) : "ARM", i, p);
}

/* One "processor" block's interesting values (pointers into the parsed text). */
struct cpu_block {
	bool has_processor;
	const char *model_name, *legacy_processor, *power_cpu, *implementer, *part, *vendor;
	const char *physical_id, *core_id;
	bool hypervisor;
};

struct str_set {
	char **v;
	size_t n, alloc;
};

static bool set_add(struct str_set *s, const char *val)
{
	for (size_t i = 0; i < s->n; i++)
		if (strcmp(s->v[i], val) == 0)
			return false;
	XGROW(s->v, s->alloc, s->n + 1);
	s->v[s->n++] = xstrdup(val);
	return true;
}

static void set_release(struct str_set *s)
{
	for (size_t i = 0; i < s->n; i++)
		free(s->v[i]);
	free(s->v);
	memset(s, 0, sizeof(*s));
}

static bool has_word(const char *list, const char *word)
{
	size_t wl = strlen(word);

	for (const char *p = list; (p = strstr(p, word)); p += wl) {
		bool start = p == list || p[-1] == ' ' || p[-1] == '\t';
		bool end = p[wl] == '\0' || p[wl] == ' ' || p[wl] == '\t';
		if (start && end)
			return true;
	}
	return false;
}

void fingerprint_cpu_release(struct fingerprint_cpu *c)
{
	free(c->model);
	free(c->vendor);
	memset(c, 0, sizeof(*c));
}

struct cpu_acc {
	struct str_set models, cores, sockets;
	const char *vendor, *legacy_model;
	int logical;
	bool topology_known, hypervisor;
};

static void block_finish(struct cpu_acc *a, const struct cpu_block *b)
{
	char *model = NULL;

	if (!b->has_processor)
		return;
	a->logical++;
	if (b->model_name && *b->model_name)
		model = xstrdup(b->model_name);
	else if ((model = arm_model(b->implementer, b->part)))
		;
	else if (b->power_cpu && *b->power_cpu)
		model = xstrdup(b->power_cpu);
	else if (b->legacy_processor && *b->legacy_processor)
		model = xstrdup(b->legacy_processor);
	if (model)
		set_add(&a->models, model);
	free(model);
	if (!a->vendor && b->vendor)
		a->vendor = b->vendor;
	if (b->physical_id && b->core_id) {
		char *key = xasprintf("%s/%s", b->physical_id, b->core_id);
		set_add(&a->cores, key);
		set_add(&a->sockets, b->physical_id);
		free(key);
	} else {
		a->topology_known = false;
	}
	a->hypervisor = a->hypervisor || b->hypervisor;
}

/* One "key : value" line of a /proc/cpuinfo block into b (a "processor"
 * line that repeats within a block starts the next one). */
static void block_line(struct cpu_acc *a, struct cpu_block *b, const char *key, const char *val)
{
	if (strcmp(key, "processor") == 0) {
		/* A second "processor" in one block means the blank line was lost. */
		if (b->has_processor) {
			block_finish(a, b);
			memset(b, 0, sizeof(*b));
		}
		b->has_processor = true;
	} else if (strcmp(key, "model name") == 0) {
		b->model_name = val;
	} else if (strcmp(key, "Processor") == 0) {
		/* Old ARM kernels: "Processor : ARMv7 Processor rev 2 (v7l)" once,
		 * outside the per-CPU blocks. */
		b->legacy_processor = val;
		a->legacy_model = val;
	} else if (strcmp(key, "cpu") == 0 || strcmp(key, "uarch") == 0) {
		/* POWER: "cpu : POWER9 (raw)"; RISC-V: "uarch : sifive,u74-mc". */
		b->power_cpu = val;
	} else if (strcmp(key, "CPU implementer") == 0) {
		b->implementer = val;
	} else if (strcmp(key, "CPU part") == 0) {
		b->part = val;
	} else if (strcmp(key, "vendor_id") == 0) {
		b->vendor = val;
	} else if (strcmp(key, "physical id") == 0) {
		b->physical_id = val;
	} else if (strcmp(key, "core id") == 0) {
		b->core_id = val;
	} else if (strcmp(key, "flags") == 0) {
		b->hypervisor = has_word(val, "hypervisor");
	}
}

/* ARM has no vendor_id: the vendor of the first block's implementer. */
static char *arm_vendor_of(const char *text)
{
	const char *p = strstr(text, "CPU implementer");
	char *vendor = NULL;
	unsigned impl;

	if (p && (p = strchr(p, ':'))) {
		char *v = xstrndup(p + 1, strcspn(p + 1, "\n"));

		if (parse_hex(trim(v), &impl) && arm_vendor(impl))
			vendor = xstrdup(arm_vendor(impl));
		free(v);
	}
	return vendor;
}

/* The accumulated blocks as the result. */
static void cpu_result(struct cpu_acc *a, const char *text, struct fingerprint_cpu *out)
{
	struct sb model = SB_INIT;

	if (a->models.n == 0 && a->legacy_model)
		set_add(&a->models, a->legacy_model);
	/* No model line at all (an unusual architecture or a trimmed /proc): the
	 * class is still told apart by arch and core counts; a run must not fail
	 * over it. */
	if (a->models.n == 0)
		set_add(&a->models, "unknown");
	/* big.LITTLE and other mixed systems: every distinct core type, in order. */
	for (size_t i = 0; i < a->models.n; i++) {
		if (i)
			sb_puts(&model, " + ");
		sb_puts(&model, a->models.v[i]);
	}
	out->model = sb_detach(&model);
	out->logical = a->logical;
	out->topology_known = a->topology_known && a->cores.n > 0;
	out->physical = out->topology_known ? (int)a->cores.n : a->logical;
	out->sockets = out->topology_known ? (int)a->sockets.n : 1;
	out->hypervisor_flag = a->hypervisor;
	out->vendor = a->vendor ? xstrdup(a->vendor) : arm_vendor_of(text);
}

int fingerprint_parse_cpuinfo(const char *text, struct fingerprint_cpu *out, struct err *err)
{
	char *copy = xstrdup(text), *line;
	struct cpu_acc a;
	struct cpu_block b;
	int rc = 0;

	memset(&a, 0, sizeof(a));
	memset(&b, 0, sizeof(b));
	memset(out, 0, sizeof(*out));
	a.topology_known = true;
	/* Blocks are separated by blank lines; strsep keeps the empty lines that
	 * a tokenizer would swallow. */
	for (char *rest = copy; (line = strsep(&rest, "\n"));) {
		char *colon;

		if (*trim(line) == '\0') {
			block_finish(&a, &b);
			memset(&b, 0, sizeof(b));
			continue;
		}
		colon = strchr(line, ':');
		if (!colon)
			continue;
		*colon = '\0';
		block_line(&a, &b, trim(line), trim(colon + 1));
	}
	block_finish(&a, &b);
	if (a.logical == 0)
		rc = err_set(err, ERR_INPUT, "no 'processor' entries found");
	else
		cpu_result(&a, text, out);
	set_release(&a.models);
	set_release(&a.cores);
	set_release(&a.sockets);
	free(copy);
	return rc;
}

/* ---- /proc/meminfo ---- */

int fingerprint_parse_meminfo(const char *text, double *total_bytes, struct err *err)
{
	const char *p = text;

	while (p && *p) {
		if (strncmp(p, "MemTotal:", 9) == 0) {
			char *end;
			double v;

			errno = 0;
			v = strtod(p + 9, &end);
			if (errno || end == p + 9 || v <= 0)
				break;
			while (*end == ' ' || *end == '\t')
				end++;
			if (strncmp(end, "kB", 2) == 0)
				v *= 1024.0;
			else if (*end != '\n' && *end != '\0')
				break;
			*total_bytes = v;
			return 0;
		}
		p = strchr(p, '\n');
		if (p)
			p++;
	}
	return err_set(err, ERR_INPUT, "no valid 'MemTotal' line");
}

/* ---- nvidia-smi ---- */

int fingerprint_parse_nvidia_csv(const char *text, cJSON **gpus, struct err *err)
{
	char *copy = xstrdup(text ? text : ""), *line;
	cJSON *arr = cJSON_CreateArray();
	size_t lineno = 0;
	int rc = 0;

	*gpus = NULL;
	for (char *rest = copy; (line = strsep(&rest, "\n"));) {
		char *fields[3], *f, *fr;
		size_t nf = 0;
		cJSON *g;

		lineno++;
		line = trim(line);
		if (!*line)
			continue;
		fr = line;
		while ((f = strsep(&fr, ","))) {
			if (nf == 3) {
				nf++;
				break;
			}
			fields[nf++] = trim(f);
		}
		if (nf != 3) {
			rc = err_set(err, ERR_INPUT, "nvidia-smi output line %zu: expected 'name, memory, driver', got '%s'",
				     lineno, line);
			goto done;
		}
		g = cJSON_CreateObject();
		cJSON_AddStringToObject(g, "name", fields[0]);
		{
			char *end;
			double mib;

			errno = 0;
			mib = strtod(fields[1], &end);
			if (errno || end == fields[1] || *end || !isfinite(mib) || mib < 0) {
				/* "[N/A]" and friends: memory unknown, still a GPU. */
				cJSON_AddNullToObject(g, "memory_bytes");
				cJSON_AddNullToObject(g, "memory_gib");
			} else {
				cJSON_AddNumberToObject(g, "memory_bytes", mib * MIB);
				cJSON_AddNumberToObject(g, "memory_gib", round(mib * MIB / GIB));
			}
		}
		cJSON_AddStringToObject(g, "driver", fields[2]);
		cJSON_AddItemToArray(arr, g);
	}
	*gpus = arr;
	arr = NULL;
done:
	cJSON_Delete(arr);
	free(copy);
	return rc;
}

/* Run nvidia-smi; fills facts' "gpus" (always) and "gpu_error" (when it failed). */
static void collect_gpus(const struct fingerprint_sources *src, double timeout, cJSON *facts)
{
	char *found = NULL;
	const char *cmd = src->nvidia_smi;
	const char *argv[4];
	struct proc_options po = PROC_OPTIONS_INIT;
	struct proc_result res;
	struct err err = ERR_INIT;
	cJSON *gpus = NULL;
	char *why = NULL;

	memset(&res, 0, sizeof(res));
	if (!cmd) {
		found = proc_which("nvidia-smi");
		cmd = found;
	}
	if (!cmd || !*cmd)
		goto done;
	argv[0] = cmd;
	argv[1] = "--query-gpu=name,memory.total,driver_version";
	argv[2] = "--format=csv,noheader,nounits";
	argv[3] = NULL;
	po.argv = argv;
	po.out = PROC_OUT_CAPTURE;
	po.errout = PROC_OUT_CAPTURE;
	po.timeout = timeout;
	po.max_capture = 65536;
	if (proc_run(&po, &res, &err) != 0) {
		why = xasprintf("cannot run '%s': %s", cmd, err.msg);
	} else if (res.timed_out) {
		why = xasprintf("'%s' did not answer within %g s", cmd, timeout);
	} else if (res.exit_code != 0) {
		const char *o = res.out && *res.out ? res.out : (res.errout ? res.errout : "");
		char *first = xstrndup(o, strcspn(o, "\n"));
		if (res.signal)
			why = xasprintf("'%s' was killed by signal %d", cmd, res.signal);
		else
			why = xasprintf("'%s' exited with status %d%s%s", cmd, res.exit_code,
					*first ? ": " : "", trim(first));
		free(first);
	} else if (fingerprint_parse_nvidia_csv(res.out, &gpus, &err) != 0) {
		why = xstrdup(err.msg);
	}
done:
	if (!gpus)
		gpus = cJSON_CreateArray();
	cJSON_AddItemToObject(facts, "gpus", gpus);
	if (why)
		cJSON_AddStringToObject(facts, "gpu_error", why);
	free(why);
	free(found);
	proc_result_release(&res);
}

/* ---- os-release ---- */

/* The value of KEY in an os-release text, unquoted, or NULL. */
static char *os_release_get(const char *text, const char *key)
{
	size_t kl = strlen(key);

	for (const char *p = text; p && *p; p = strchr(p, '\n') ? strchr(p, '\n') + 1 : NULL) {
		const char *v, *end;
		struct sb sb = SB_INIT;

		if (strncmp(p, key, kl) != 0 || p[kl] != '=')
			continue;
		v = p + kl + 1;
		end = v + strcspn(v, "\n");
		if (v < end && (*v == '"' || *v == '\'')) {
			char q = *v++;
			for (; v < end && *v != q; v++) {
				if (q == '"' && *v == '\\' && v + 1 < end)
					v++;
				sb_putc(&sb, *v);
			}
		} else {
			sb_add(&sb, v, (size_t)(end - v));
		}
		if (sb.len == 0) {
			sb_release(&sb);
			return NULL;
		}
		return sb_detach(&sb);
	}
	return NULL;
}

static void add_str_or_null(cJSON *o, const char *key, const char *v)
{
	if (v)
		cJSON_AddStringToObject(o, key, v);
	else
		cJSON_AddNullToObject(o, key);
}

static cJSON *collect_os(const struct fingerprint_sources *src)
{
	cJSON *os = cJSON_CreateObject();
	char *text = src->os_release ? read_optional(src->os_release) : NULL;
	char *id, *ver, *pretty;

	if (!text && !src->os_release) {
		text = read_optional("/etc/os-release");
		if (!text)
			text = read_optional("/usr/lib/os-release");
	}
	id = text ? os_release_get(text, "ID") : NULL;
	ver = text ? os_release_get(text, "VERSION_ID") : NULL;
	pretty = text ? os_release_get(text, "PRETTY_NAME") : NULL;
	add_str_or_null(os, "id", id);
	add_str_or_null(os, "version_id", ver);
	add_str_or_null(os, "pretty_name", pretty);
	free(id);
	free(ver);
	free(pretty);
	free(text);
	return os;
}

/* ---- machine state (recorded, not hashed) ---- */

static char *sys_path(const struct fingerprint_sources *src, const char *rel)
{
	return xasprintf("%s/%s", src->sys_cpu ? src->sys_cpu : "/sys/devices/system/cpu", rel);
}

static void add_bool_file(cJSON *o, const char *key, const struct fingerprint_sources *src,
			  const char *rel, bool invert)
{
	char *path = sys_path(src, rel);
	char *v = read_line(path);

	if (v && (strcmp(v, "0") == 0 || strcmp(v, "1") == 0))
		cJSON_AddBoolToObject(o, key, (strcmp(v, "1") == 0) != invert);
	else
		cJSON_AddNullToObject(o, key);
	free(v);
	free(path);
}

/* systemd-detect-virt's answer ("kvm", "docker", "none"), or NULL when it cannot tell. */
static char *detect_virt(const char *cmd, const char *flag, double timeout)
{
	const char *argv[] = { cmd, flag, NULL };
	struct proc_options po = PROC_OPTIONS_INIT;
	struct proc_result res;
	char *out = NULL;

	memset(&res, 0, sizeof(res));
	po.argv = argv;
	po.out = PROC_OUT_CAPTURE;
	po.errout = PROC_OUT_NULL;
	po.timeout = timeout;
	/* It prints "none" and exits 1 when there is nothing: still an answer. */
	if (proc_run(&po, &res, NULL) == 0 && !res.timed_out && res.signal == 0 &&
	    (res.exit_code == 0 || res.exit_code == 1) && res.out) {
		char *t = trim(res.out);
		if (*t && !strchr(t, '\n'))
			out = xstrdup(t);
	}
	proc_result_release(&res);
	return out;
}

/*
 * The CPU quota of the cgroup perfgate runs in, in CPUs (2.5 = 250 ms of CPU
 * per 100 ms), or NAN when unlimited or unknown.  cgroup v2 "cpu.max" is
 * "MAX PERIOD" with MAX "max" when unlimited; v1 has cfs_quota_us (-1 when
 * unlimited) and cfs_period_us.  A container sees its own cgroup at the root.
 */
static double cgroup_cpu_quota(const char *root)
{
	char *path = xasprintf("%s/cpu.max", root);
	char *line = read_line(path);
	double quota = NAN, max, period;
	char *end;

	free(path);
	if (line) {
		if (strncmp(line, "max", 3) != 0) {
			errno = 0;
			max = strtod(line, &end);
			if (!errno && end != line) {
				period = strtod(end, &end);
				if (max > 0 && period > 0)
					quota = max / period;
			}
		}
		free(line);
		return quota;
	}
	path = xasprintf("%s/cpu/cpu.cfs_quota_us", root);
	line = read_line(path);
	free(path);
	if (line) {
		char *pline;
		errno = 0;
		max = strtod(line, &end);
		path = xasprintf("%s/cpu/cpu.cfs_period_us", root);
		pline = read_line(path);
		free(path);
		period = pline ? strtod(pline, NULL) : 0;
		if (!errno && end != line && max > 0 && period > 0)
			quota = max / period;
		free(pline);
		free(line);
	}
	return quota;
}

static cJSON *collect_state(const struct fingerprint_sources *src, const struct fingerprint_cpu *cpu,
			    double timeout)
{
	cJSON *st = cJSON_CreateObject();
	char *path, *v, *found = NULL;
	const char *dv = src->detect_virt;
	char *vm = NULL, *container = NULL;

	path = sys_path(src, "cpu0/cpufreq/scaling_governor");
	v = read_line(path);
	add_str_or_null(st, "governor", v);
	free(v);
	free(path);

	/* intel_pstate says "no_turbo"; acpi-cpufreq and amd-pstate say "boost". */
	path = sys_path(src, "intel_pstate/no_turbo");
	v = read_line(path);
	free(path);
	if (v) {
		add_bool_file(st, "turbo", src, "intel_pstate/no_turbo", true);
		free(v);
	} else {
		add_bool_file(st, "turbo", src, "cpufreq/boost", false);
	}
	add_bool_file(st, "smt", src, "smt/active", false);

	{
		char *la = read_optional(src->loadavg ? src->loadavg : "/proc/loadavg");
		double l[3];
		char *p = la, *end;
		int i;

		for (i = 0; la && i < 3; i++) {
			errno = 0;
			l[i] = strtod(p, &end);
			if (errno || end == p)
				break;
			p = end;
		}
		if (i == 3) {
			cJSON *arr = cJSON_AddArrayToObject(st, "load_avg");
			for (i = 0; i < 3; i++)
				cJSON_AddItemToArray(arr, cJSON_CreateNumber(l[i]));
		} else {
			cJSON_AddNullToObject(st, "load_avg");
		}
		free(la);
	}
	{
		cpu_set_t set;
		if (sched_getaffinity(0, sizeof(set), &set) == 0)
			cJSON_AddNumberToObject(st, "cpus_allowed", CPU_COUNT(&set));
		else
			cJSON_AddNullToObject(st, "cpus_allowed");
	}

	{
		double q = cgroup_cpu_quota(src->cgroup ? src->cgroup : "/sys/fs/cgroup");
		if (isnan(q))
			cJSON_AddNullToObject(st, "cpu_quota");
		else
			cJSON_AddNumberToObject(st, "cpu_quota", q);
	}

	if (!dv)
		dv = found = proc_which("systemd-detect-virt");
	if (dv && *dv) {
		vm = detect_virt(dv, "--vm", timeout);
		container = detect_virt(dv, "--container", timeout);
	}
	if (!vm) {
		const char *hpath = src->hypervisor ? src->hypervisor : "/sys/hypervisor/type";
		char *h = read_line(hpath);
		if (h && *h)
			vm = h;
		else if (cpu->hypervisor_flag) {
			free(h);
			vm = xstrdup("unknown-hypervisor");
		} else {
			free(h);
		}
	}
	add_str_or_null(st, "virtualization", vm);
	add_str_or_null(st, "container", container);
	free(vm);
	free(container);
	free(found);
	return st;
}

/* ---- the hash ---- */

static int gpu_cmp(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

char *fingerprint_canonical(const cJSON *facts)
{
	const cJSON *arch = json_at(facts, "$.arch"), *model = json_at(facts, "$.cpu.model");
	const cJSON *logical = json_at(facts, "$.cpu.logical_cores");
	const cJSON *physical = json_at(facts, "$.cpu.physical_cores");
	const cJSON *gib = json_at(facts, "$.memory.gib");
	const cJSON *os_id = json_at(facts, "$.os.id"), *os_ver = json_at(facts, "$.os.version_id");
	const cJSON *gpus = json_at(facts, "$.gpus"), *g;
	struct sb sb = SB_INIT;
	char **lines = NULL;
	size_t n = 0, alloc = 0;

	if (!cJSON_IsString(arch) || !cJSON_IsString(model) || !cJSON_IsNumber(logical) ||
	    !cJSON_IsNumber(physical) || !cJSON_IsNumber(gib))
		return NULL;
	sb_printf(&sb, "fingerprint=%d\n", FINGERPRINT_VERSION);
	sb_printf(&sb, "arch=%s\n", arch->valuestring);
	sb_printf(&sb, "cpu.model=%s\n", model->valuestring);
	sb_printf(&sb, "cpu.logical_cores=%.0f\n", logical->valuedouble);
	sb_printf(&sb, "cpu.physical_cores=%.0f\n", physical->valuedouble);
	sb_printf(&sb, "memory.gib=%.0f\n", gib->valuedouble);
	sb_printf(&sb, "os.id=%s\n", cJSON_IsString(os_id) ? os_id->valuestring : "");
	sb_printf(&sb, "os.version_id=%s\n", cJSON_IsString(os_ver) ? os_ver->valuestring : "");
	cJSON_ArrayForEach(g, gpus) {
		const cJSON *name = cJSON_GetObjectItemCaseSensitive(g, "name");
		const cJSON *mem = cJSON_GetObjectItemCaseSensitive(g, "memory_gib");
		XGROW(lines, alloc, n + 1);
		if (cJSON_IsNumber(mem))
			lines[n++] = xasprintf("gpu=%s,%.0f\n", cJSON_IsString(name) ? name->valuestring : "",
					       mem->valuedouble);
		else
			lines[n++] = xasprintf("gpu=%s,\n", cJSON_IsString(name) ? name->valuestring : "");
	}
	if (n)
		qsort(lines, n, sizeof(*lines), gpu_cmp);
	for (size_t i = 0; i < n; i++) {
		sb_puts(&sb, lines[i]);
		free(lines[i]);
	}
	free(lines);
	return sb_detach(&sb);
}

/* ---- collect ---- */

int fingerprint_collect(const struct fingerprint_sources *src_in, cJSON **facts, char hash[65],
			struct err *err)
{
	static const struct fingerprint_sources defaults = FINGERPRINT_SOURCES_INIT;
	const struct fingerprint_sources *src = src_in ? src_in : &defaults;
	const char *cpuinfo = src->cpuinfo ? src->cpuinfo : "/proc/cpuinfo";
	const char *meminfo = src->meminfo ? src->meminfo : "/proc/meminfo";
	double timeout = src->timeout > 0 ? src->timeout : 10.0;
	char *cpu_text = NULL, *mem_text = NULL, *canon = NULL;
	struct fingerprint_cpu cpu;
	struct utsname un;
	double mem = 0;
	cJSON *f = NULL, *o;
	int rc;

	memset(&cpu, 0, sizeof(cpu));
	*facts = NULL;
	hash[0] = '\0';
	if ((rc = file_read(cpuinfo, &cpu_text, NULL, err)))
		goto fail;
	if ((rc = fingerprint_parse_cpuinfo(cpu_text, &cpu, err))) {
		err_prefix(err, "%s", cpuinfo);
		goto fail;
	}
	if ((rc = file_read(meminfo, &mem_text, NULL, err)))
		goto fail;
	if ((rc = fingerprint_parse_meminfo(mem_text, &mem, err))) {
		err_prefix(err, "%s", meminfo);
		goto fail;
	}
	if (uname(&un) != 0)
		memset(&un, 0, sizeof(un));

	f = cJSON_CreateObject();
	cJSON_AddNumberToObject(f, "fingerprint_version", FINGERPRINT_VERSION);
	cJSON_AddStringToObject(f, "hostname", src->hostname ? src->hostname : un.nodename);
	cJSON_AddStringToObject(f, "arch", src->arch ? src->arch : un.machine);
	cJSON_AddStringToObject(f, "kernel", src->kernel ? src->kernel : un.release);
	cJSON_AddItemToObject(f, "os", collect_os(src));

	o = cJSON_AddObjectToObject(f, "cpu");
	cJSON_AddStringToObject(o, "model", cpu.model);
	add_str_or_null(o, "vendor", cpu.vendor);
	cJSON_AddNumberToObject(o, "logical_cores", cpu.logical);
	cJSON_AddNumberToObject(o, "physical_cores", cpu.physical);
	cJSON_AddNumberToObject(o, "sockets", cpu.sockets);
	cJSON_AddStringToObject(o, "topology", cpu.topology_known ? "cpuinfo" : "assumed");

	o = cJSON_AddObjectToObject(f, "memory");
	cJSON_AddNumberToObject(o, "total_bytes", mem);
	cJSON_AddNumberToObject(o, "gib", round(mem / GIB));

	collect_gpus(src, timeout, f);
	cJSON_AddItemToObject(f, "state", collect_state(src, &cpu, timeout));

	canon = fingerprint_canonical(f);
	if (!canon) {
		rc = err_set(err, ERR_FAIL, "the machine facts lack a hashed field");
		goto fail;
	}
	sha256_hex(canon, strlen(canon), hash);
	cJSON_AddStringToObject(f, "fingerprint", hash);
	*facts = f;
	f = NULL;
	rc = 0;
fail:
	cJSON_Delete(f);
	free(canon);
	free(cpu_text);
	free(mem_text);
	fingerprint_cpu_release(&cpu);
	return rc;
}
