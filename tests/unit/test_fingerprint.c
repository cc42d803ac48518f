/*
 * Unit tests for core/fingerprint.c: parsing fixture copies of /proc/cpuinfo,
 * /proc/meminfo, os-release and nvidia-smi CSV (tests/fixtures/proc/,
 * tests/fixtures/nvidia-smi/), the machine-state files, and the hash: which
 * facts change it and which do not, checked against `sha256sum` of the
 * canonical text written out by hand here.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../core/fingerprint.h"
#include "../../core/util.h"

#define PROC "tests/fixtures/proc/"
#define NV "tests/fixtures/nvidia-smi/"

static char *slurp(const char *path)
{
	char *text = NULL;
	struct err err = ERR_INIT;

	if (file_read(path, &text, NULL, &err) != 0) {
		print_error("%s\n", err.msg);
		fail();
	}
	return text;
}

static void test_cpuinfo_fixtures(void **state)
{
	static const struct {
		const char *file;
		const char *model, *vendor;
		int logical, physical, sockets;
		bool topology, hypervisor;
	} cases[] = {
		{ PROC "x86-kvm-2cpu/cpuinfo", "Intel(R) Xeon(R) Processor", "GenuineIntel", 2, 2, 1, true, true },
		{ PROC "x86-xeon-2socket-ht/cpuinfo", "Intel(R) Xeon(R) Gold 6248 CPU @ 2.50GHz", "GenuineIntel",
		  8, 4, 2, true, false },
		{ PROC "arm64-neoverse-n1/cpuinfo", "ARM Neoverse-N1", "ARM", 4, 4, 1, false, false },
		{ PROC "armv7-legacy/cpuinfo", "ARMv7 Processor rev 2 (v7l)", "ARM", 2, 2, 1, false, false },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char *text = slurp(cases[i].file);
		struct fingerprint_cpu cpu;
		struct err err = ERR_INIT;

		assert_int_equal(fingerprint_parse_cpuinfo(text, &cpu, &err), 0);
		assert_string_equal(cpu.model, cases[i].model);
		assert_string_equal(cpu.vendor, cases[i].vendor);
		assert_int_equal(cpu.logical, cases[i].logical);
		assert_int_equal(cpu.physical, cases[i].physical);
		assert_int_equal(cpu.sockets, cases[i].sockets);
		assert_int_equal(cpu.topology_known, cases[i].topology);
		assert_int_equal(cpu.hypervisor_flag, cases[i].hypervisor);
		fingerprint_cpu_release(&cpu);
		free(text);
	}
}

static void test_cpuinfo_odd(void **state)
{
	static const struct {
		const char *text;
		const char *model; /* NULL: must fail */
		int logical;
		const char *error;
	} cases[] = {
		{ "", NULL, 0, "no 'processor' entries found" },
		{ "MemTotal: 5 kB\n", NULL, 0, "no 'processor' entries found" },
		/* No model anywhere: "unknown", not an error (arch and cores still count). */
		{ "processor\t: 0\nflags\t: fpu\n", "unknown", 1, NULL },
		/* RISC-V names the core in "uarch". */
		{ "processor\t: 0\nhart\t\t: 0\nisa\t\t: rv64imafdc\nmmu\t\t: sv39\nuarch\t\t: sifive,u74-mc\n",
		  "sifive,u74-mc", 1, NULL },
		/* POWER: the model is in "cpu". */
		{ "processor\t: 0\ncpu\t\t: POWER9 (raw), altivec supported\n\nprocessor\t: 1\n"
		  "cpu\t\t: POWER9 (raw), altivec supported\n\ntimebase\t: 512000000\n",
		  "POWER9 (raw), altivec supported", 2, NULL },
		/* big.LITTLE: both core types, in order. */
		{ "processor\t: 0\nCPU implementer\t: 0x41\nCPU part\t: 0xd03\n\n"
		  "processor\t: 1\nCPU implementer\t: 0x41\nCPU part\t: 0xd03\n\n"
		  "processor\t: 2\nCPU implementer\t: 0x41\nCPU part\t: 0xd08\n",
		  "ARM Cortex-A53 + ARM Cortex-A72", 3, NULL },
		/* An unknown part is named by number. */
		{ "processor\t: 0\nCPU implementer\t: 0x51\nCPU part\t: 0x001\n",
		  "Qualcomm implementer 0x51 part 0x001", 1, NULL },
		/* No blank lines between blocks, CRLF line ends. */
		{ "processor : 0\r\nmodel name : X\r\nprocessor : 1\r\nmodel name : X\r\n", "X", 2, NULL },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct fingerprint_cpu cpu;
		struct err err = ERR_INIT;
		int rc = fingerprint_parse_cpuinfo(cases[i].text, &cpu, &err);

		if (!cases[i].model) {
			assert_int_equal(rc, ERR_INPUT);
			assert_string_equal(err.msg, cases[i].error);
			continue;
		}
		assert_int_equal(rc, 0);
		assert_string_equal(cpu.model, cases[i].model);
		assert_int_equal(cpu.logical, cases[i].logical);
		fingerprint_cpu_release(&cpu);
	}
}

static void test_meminfo(void **state)
{
	static const struct {
		const char *file;
		double kib;
	} files[] = {
		{ PROC "x86-kvm-2cpu/meminfo", 24684092 },
		{ PROC "x86-xeon-2socket-ht/meminfo", 395943636 },
		{ PROC "arm64-neoverse-n1/meminfo", 7918640 },
	};
	static const char *bad[] = { "", "MemFree: 100 kB\n", "MemTotal: lots\n", "MemTotal: 100 MB\n",
				     "MemTotal: -5 kB\n" };
	struct err err = ERR_INIT;
	double v;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(files); i++) {
		char *text = slurp(files[i].file);
		assert_int_equal(fingerprint_parse_meminfo(text, &v, &err), 0);
		assert_true(v == files[i].kib * 1024);
		free(text);
	}
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++) {
		assert_int_equal(fingerprint_parse_meminfo(bad[i], &v, &err), ERR_INPUT);
		assert_string_equal(err.msg, "no valid 'MemTotal' line");
	}
	/* MemTotal need not be the first line. */
	assert_int_equal(fingerprint_parse_meminfo("X: 1 kB\nMemTotal:   2 kB\n", &v, &err), 0);
	assert_true(v == 2048);
}

static void test_nvidia_csv(void **state)
{
	struct err err = ERR_INIT;
	cJSON *gpus = NULL, *g;
	char *text;

	(void)state;
	text = slurp(NV "query_fingerprint_h200.csv");
	assert_int_equal(fingerprint_parse_nvidia_csv(text, &gpus, &err), 0);
	assert_int_equal(cJSON_GetArraySize(gpus), 1);
	g = cJSON_GetArrayItem(gpus, 0);
	assert_string_equal(cJSON_GetObjectItem(g, "name")->valuestring, "NVIDIA H200");
	assert_true(cJSON_GetObjectItem(g, "memory_bytes")->valuedouble == 143771.0 * 1048576);
	assert_true(cJSON_GetObjectItem(g, "memory_gib")->valuedouble == 140); /* 140.4 GiB */
	assert_string_equal(cJSON_GetObjectItem(g, "driver")->valuestring, "580.159.04");
	cJSON_Delete(gpus);
	free(text);

	text = slurp(NV "query_fingerprint_mixed.csv");
	assert_int_equal(fingerprint_parse_nvidia_csv(text, &gpus, &err), 0);
	assert_int_equal(cJSON_GetArraySize(gpus), 2);
	assert_true(cJSON_GetObjectItem(cJSON_GetArrayItem(gpus, 0), "memory_gib")->valuedouble == 15);
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(cJSON_GetArrayItem(gpus, 1), "memory_bytes")));
	cJSON_Delete(gpus);
	free(text);

	assert_int_equal(fingerprint_parse_nvidia_csv("", &gpus, &err), 0);
	assert_int_equal(cJSON_GetArraySize(gpus), 0);
	cJSON_Delete(gpus);

	/* The query's with-header output, or the plain table, is not what we asked for. */
	text = slurp(NV "query_header.csv");
	assert_int_equal(fingerprint_parse_nvidia_csv(text, &gpus, &err), ERR_INPUT);
	assert_null(gpus);
	assert_non_null(strstr(err.msg, "nvidia-smi output line 1: expected 'name, memory, driver'"));
	free(text);
	assert_int_equal(fingerprint_parse_nvidia_csv("NVIDIA H200, 143771\n", &gpus, &err), ERR_INPUT);
	assert_int_equal(fingerprint_parse_nvidia_csv("a, 1, 2, 3\n", &gpus, &err), ERR_INPUT);
}

/* The sources for one fixture machine, with everything host-specific pinned. */
static struct fingerprint_sources machine(const char *dir_cpu, const char *dir_mem, const char *nv)
{
	struct fingerprint_sources s = FINGERPRINT_SOURCES_INIT;

	s.cpuinfo = dir_cpu;
	s.meminfo = dir_mem;
	s.os_release = PROC "x86-xeon-2socket-ht/os-release";
	s.loadavg = PROC "loadavg";
	s.sys_cpu = PROC "sys-intel";
	s.hypervisor = PROC "hypervisor-type";
	s.nvidia_smi = nv;
	s.detect_virt = "";
	s.arch = "x86_64";
	s.kernel = "6.1.0-18-amd64";
	s.hostname = "bench-01";
	s.timeout = 5;
	s.cgroup = PROC "cgroup-v2";
	return s;
}

/* Independent hash: sha256sum of the text. */
static void sha256sum(const char *text, char out[65])
{
	char path[] = "/tmp/perfgate-fp.XXXXXX";
	int fd = mkstemp(path);
	char *cmd;
	FILE *f;

	assert_true(fd >= 0);
	assert_int_equal(write(fd, text, strlen(text)), (ssize_t)strlen(text));
	close(fd);
	cmd = xasprintf("sha256sum %s", path);
	f = popen(cmd, "r");
	assert_non_null(f);
	assert_non_null(fgets(out, 65, f));
	pclose(f);
	unlink(path);
	free(cmd);
	out[64] = '\0';
}

static void test_collect_and_hash(void **state)
{
	static const char want_canon[] =
		"fingerprint=1\n"
		"arch=x86_64\n"
		"cpu.model=Intel(R) Xeon(R) Gold 6248 CPU @ 2.50GHz\n"
		"cpu.logical_cores=8\n"
		"cpu.physical_cores=4\n"
		"memory.gib=378\n" /* 395943636 kB = 377.6 GiB */
		"os.id=ubuntu\n"
		"os.version_id=22.04\n"
		"gpu=NVIDIA A100-SXM4-80GB,80\n"
		"gpu=NVIDIA A100-SXM4-80GB,80\n";
	struct fingerprint_sources s = machine(PROC "x86-xeon-2socket-ht/cpuinfo",
					       PROC "x86-xeon-2socket-ht/meminfo", NV "fake-nvidia-smi");
	struct err err = ERR_INIT;
	cJSON *f = NULL, *st;
	char hash[65], want[65], *canon;

	(void)state;
	setenv("FAKE_NVIDIA_SMI_OUT", NV "query_fingerprint_2gpu.csv", 1);
	unsetenv("FAKE_NVIDIA_SMI_RC");
	assert_int_equal(fingerprint_collect(&s, &f, hash, &err), 0);
	canon = fingerprint_canonical(f);
	assert_string_equal(canon, want_canon);
	sha256sum(want_canon, want);
	assert_string_equal(hash, want);
	assert_string_equal(cJSON_GetObjectItem(f, "fingerprint")->valuestring, want);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(f, "gpus")), 2);
	assert_null(cJSON_GetObjectItem(f, "gpu_error"));
	assert_string_equal(cJSON_GetObjectItem(cJSON_GetObjectItem(f, "os"), "pretty_name")->valuestring,
			    "Ubuntu 22.04.4 LTS");
	assert_string_equal(cJSON_GetObjectItem(f, "kernel")->valuestring, "6.1.0-18-amd64");

	/* Machine state from sys-intel/, loadavg, hypervisor-type. */
	st = cJSON_GetObjectItem(f, "state");
	assert_string_equal(cJSON_GetObjectItem(st, "governor")->valuestring, "performance");
	assert_true(cJSON_IsFalse(cJSON_GetObjectItem(st, "turbo"))); /* no_turbo = 1 */
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(st, "smt")));
	assert_true(cJSON_GetArrayItem(cJSON_GetObjectItem(st, "load_avg"), 2)->valuedouble == 2.5);
	assert_string_equal(cJSON_GetObjectItem(st, "virtualization")->valuestring, "kvm");
	assert_true(cJSON_GetObjectItem(st, "cpu_quota")->valuedouble == 2.5); /* 250000/100000 */
	free(canon);
	cJSON_Delete(f);

	/* AMD-style sysfs: boost file, SMT off. */
	s.sys_cpu = PROC "sys-amd";
	assert_int_equal(fingerprint_collect(&s, &f, want, &err), 0);
	st = cJSON_GetObjectItem(f, "state");
	assert_string_equal(cJSON_GetObjectItem(st, "governor")->valuestring, "schedutil");
	assert_true(cJSON_IsTrue(cJSON_GetObjectItem(st, "turbo")));
	assert_true(cJSON_IsFalse(cJSON_GetObjectItem(st, "smt")));
	/* ...and the state is not hashed. */
	assert_string_equal(want, hash);
	cJSON_Delete(f);

	/* cgroup v1 quota 150000/100000; v2 "max" is no quota. */
	s.cgroup = PROC "cgroup-v1";
	assert_int_equal(fingerprint_collect(&s, &f, want, &err), 0);
	assert_true(cJSON_GetObjectItem(cJSON_GetObjectItem(f, "state"), "cpu_quota")->valuedouble == 1.5);
	assert_string_equal(want, hash);
	cJSON_Delete(f);
	s.cgroup = PROC "cgroup-v2-max";
	assert_int_equal(fingerprint_collect(&s, &f, want, &err), 0);
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(cJSON_GetObjectItem(f, "state"), "cpu_quota")));
	cJSON_Delete(f);

	/* No such sysfs files: unknown, not an error. */
	s.sys_cpu = "/nonexistent";
	s.loadavg = "/nonexistent";
	s.hypervisor = "/nonexistent";
	assert_int_equal(fingerprint_collect(&s, &f, want, &err), 0);
	st = cJSON_GetObjectItem(f, "state");
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(st, "governor")));
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(st, "turbo")));
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(st, "load_avg")));
	/* The Xeon fixture has no hypervisor flag, and nothing else says so. */
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(st, "virtualization")));
	assert_string_equal(want, hash);
	cJSON_Delete(f);
}

/* Each variation of the facts either keeps or changes the hash, as documented. */
static void test_hash_fields(void **state)
{
	struct err err = ERR_INIT;
	char base[65], h[65];
	cJSON *f = NULL;
	struct fingerprint_sources s;

	(void)state;
	setenv("FAKE_NVIDIA_SMI_OUT", NV "query_fingerprint_h200.csv", 1);
	unsetenv("FAKE_NVIDIA_SMI_RC");
	s = machine(PROC "x86-kvm-2cpu/cpuinfo", PROC "x86-kvm-2cpu/meminfo", NV "fake-nvidia-smi");
	assert_int_equal(fingerprint_collect(&s, &f, base, &err), 0);
	cJSON_Delete(f);

	/* Not hashed: kernel, hostname, GPU driver, machine state. */
	s.kernel = "6.18.0-other";
	s.hostname = "elsewhere";
	s.sys_cpu = PROC "sys-amd";
	s.loadavg = "/nonexistent";
	assert_int_equal(fingerprint_collect(&s, &f, h, &err), 0);
	assert_string_equal(h, base);
	cJSON_Delete(f);
	{
		/* Same GPU, another driver version. */
		char path[] = "/tmp/perfgate-nv.XXXXXX";
		int fd = mkstemp(path);
		const char line[] = "NVIDIA H200, 143771, 999.1.2\n";
		assert_true(fd >= 0);
		assert_int_equal(write(fd, line, sizeof(line) - 1), (ssize_t)(sizeof(line) - 1));
		close(fd);
		setenv("FAKE_NVIDIA_SMI_OUT", path, 1);
		assert_int_equal(fingerprint_collect(&s, &f, h, &err), 0);
		assert_string_equal(h, base);
		cJSON_Delete(f);
		unlink(path);
		setenv("FAKE_NVIDIA_SMI_OUT", NV "query_fingerprint_h200.csv", 1);
	}

	/* Hashed: arch, OS release, CPU, memory, GPUs. */
	s.arch = "aarch64";
	assert_int_equal(fingerprint_collect(&s, &f, h, &err), 0);
	assert_string_not_equal(h, base);
	cJSON_Delete(f);
	s.arch = "x86_64";
	s.os_release = PROC "arm64-neoverse-n1/os-release"; /* debian 12 instead of ubuntu 22.04 */
	assert_int_equal(fingerprint_collect(&s, &f, h, &err), 0);
	assert_string_not_equal(h, base);
	cJSON_Delete(f);
	s.os_release = PROC "x86-xeon-2socket-ht/os-release";
	s.meminfo = PROC "arm64-neoverse-n1/meminfo";
	assert_int_equal(fingerprint_collect(&s, &f, h, &err), 0);
	assert_string_not_equal(h, base);
	cJSON_Delete(f);
	s.meminfo = PROC "x86-kvm-2cpu/meminfo";
	s.nvidia_smi = ""; /* no GPU */
	assert_int_equal(fingerprint_collect(&s, &f, h, &err), 0);
	assert_string_not_equal(h, base);
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(f, "gpus")), 0);
	cJSON_Delete(f);
	s.nvidia_smi = NV "fake-nvidia-smi";
	setenv("FAKE_NVIDIA_SMI_OUT", NV "query_fingerprint_2gpu.csv", 1);
	assert_int_equal(fingerprint_collect(&s, &f, h, &err), 0);
	assert_string_not_equal(h, base);
	cJSON_Delete(f);
	setenv("FAKE_NVIDIA_SMI_OUT", NV "query_fingerprint_h200.csv", 1);
	s.cpuinfo = PROC "x86-xeon-2socket-ht/cpuinfo";
	assert_int_equal(fingerprint_collect(&s, &f, h, &err), 0);
	assert_string_not_equal(h, base);
	cJSON_Delete(f);

	/* GPU order does not matter. */
	{
		char a[65], b[65];
		char pa[] = "/tmp/perfgate-nv.XXXXXX", pb[] = "/tmp/perfgate-nv.XXXXXX";
		const char la[] = "Tesla T4, 15360, 1\nNVIDIA H200, 143771, 1\n";
		const char lb[] = "NVIDIA H200, 143771, 1\nTesla T4, 15360, 1\n";
		int fa = mkstemp(pa), fb = mkstemp(pb);
		assert_true(fa >= 0 && fb >= 0);
		assert_int_equal(write(fa, la, sizeof(la) - 1), (ssize_t)(sizeof(la) - 1));
		assert_int_equal(write(fb, lb, sizeof(lb) - 1), (ssize_t)(sizeof(lb) - 1));
		close(fa);
		close(fb);
		setenv("FAKE_NVIDIA_SMI_OUT", pa, 1);
		assert_int_equal(fingerprint_collect(&s, &f, a, &err), 0);
		cJSON_Delete(f);
		setenv("FAKE_NVIDIA_SMI_OUT", pb, 1);
		assert_int_equal(fingerprint_collect(&s, &f, b, &err), 0);
		cJSON_Delete(f);
		assert_string_equal(a, b);
		unlink(pa);
		unlink(pb);
	}
}

static void test_nvidia_failures(void **state)
{
	static const struct {
		const char *out, *rc, *sleep;
		const char *error; /* expected start of gpu_error */
	} cases[] = {
		{ NV "driver_failure.txt", "9", NULL,
		  "'" NV "fake-nvidia-smi' exited with status 9: NVIDIA-SMI has failed because it couldn't "
		  "communicate with the NVIDIA driver" },
		{ NV "query_header.csv", "0", NULL, "nvidia-smi output line 1:" },
		{ NV "query_fingerprint_h200.csv", "0", "30", "'" NV "fake-nvidia-smi' did not answer within 0.5 s" },
	};
	struct fingerprint_sources s = machine(PROC "x86-kvm-2cpu/cpuinfo", PROC "x86-kvm-2cpu/meminfo",
					       NV "fake-nvidia-smi");
	struct err err = ERR_INIT;
	char hash[65], nogpu[65];
	cJSON *f = NULL;

	(void)state;
	s.nvidia_smi = "";
	assert_int_equal(fingerprint_collect(&s, &f, nogpu, &err), 0);
	assert_null(cJSON_GetObjectItem(f, "gpu_error"));
	cJSON_Delete(f);
	s.nvidia_smi = NV "fake-nvidia-smi";
	s.timeout = 0.5;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		const cJSON *e;

		setenv("FAKE_NVIDIA_SMI_OUT", cases[i].out, 1);
		setenv("FAKE_NVIDIA_SMI_RC", cases[i].rc, 1);
		if (cases[i].sleep)
			setenv("FAKE_NVIDIA_SMI_SLEEP", cases[i].sleep, 1);
		else
			unsetenv("FAKE_NVIDIA_SMI_SLEEP");
		assert_int_equal(fingerprint_collect(&s, &f, hash, &err), 0);
		e = cJSON_GetObjectItem(f, "gpu_error");
		assert_non_null(e);
		if (strncmp(e->valuestring, cases[i].error, strlen(cases[i].error)) != 0)
			print_error("gpu_error: %s\n", e->valuestring);
		assert_true(strncmp(e->valuestring, cases[i].error, strlen(cases[i].error)) == 0);
		/* A failing nvidia-smi is a machine without GPUs. */
		assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(f, "gpus")), 0);
		assert_string_equal(hash, nogpu);
		cJSON_Delete(f);
	}
	unsetenv("FAKE_NVIDIA_SMI_SLEEP");
	unsetenv("FAKE_NVIDIA_SMI_RC");

	/* A command that does not exist. */
	s.nvidia_smi = "/nonexistent/nvidia-smi";
	assert_int_equal(fingerprint_collect(&s, &f, hash, &err), 0);
	assert_non_null(cJSON_GetObjectItem(f, "gpu_error"));
	assert_string_equal(hash, nogpu);
	cJSON_Delete(f);
}

static void test_collect_errors(void **state)
{
	struct fingerprint_sources s = machine("/nonexistent/cpuinfo", PROC "x86-kvm-2cpu/meminfo", "");
	struct err err = ERR_INIT;
	cJSON *f = (cJSON *)1;
	char hash[65];

	(void)state;
	assert_int_equal(fingerprint_collect(&s, &f, hash, &err), ERR_INPUT);
	assert_null(f);
	assert_string_equal(err.msg, "cannot open '/nonexistent/cpuinfo': No such file or directory");
	s.cpuinfo = PROC "x86-kvm-2cpu/meminfo"; /* not a cpuinfo */
	assert_int_equal(fingerprint_collect(&s, &f, hash, &err), ERR_INPUT);
	assert_string_equal(err.msg, PROC "x86-kvm-2cpu/meminfo: no 'processor' entries found");
	s.cpuinfo = PROC "x86-kvm-2cpu/cpuinfo";
	s.meminfo = PROC "x86-kvm-2cpu/cpuinfo";
	assert_int_equal(fingerprint_collect(&s, &f, hash, &err), ERR_INPUT);
	assert_string_equal(err.msg, PROC "x86-kvm-2cpu/cpuinfo: no valid 'MemTotal' line");
	/* A missing os-release is not an error: the OS fields are empty. */
	s.meminfo = PROC "x86-kvm-2cpu/meminfo";
	s.os_release = "/nonexistent/os-release";
	assert_int_equal(fingerprint_collect(&s, &f, hash, &err), 0);
	assert_true(cJSON_IsNull(cJSON_GetObjectItem(cJSON_GetObjectItem(f, "os"), "id")));
	cJSON_Delete(f);
}

static void test_real_machine(void **state)
{
	struct err err = ERR_INIT;
	cJSON *f = NULL;
	char hash[65], again[65];
	struct fingerprint_sources s = FINGERPRINT_SOURCES_INIT;

	(void)state;
	/* This machine's own facts: whatever they are, they parse, and twice gives the same hash. */
	assert_int_equal(fingerprint_collect(NULL, &f, hash, &err), 0);
	assert_int_equal(strlen(hash), 64);
	assert_true(cJSON_GetObjectItem(cJSON_GetObjectItem(f, "cpu"), "logical_cores")->valuedouble >= 1);
	assert_true(cJSON_GetObjectItem(cJSON_GetObjectItem(f, "memory"), "total_bytes")->valuedouble > 0);
	cJSON_Delete(f);
	assert_int_equal(fingerprint_collect(&s, &f, again, &err), 0);
	assert_string_equal(hash, again);
	cJSON_Delete(f);
}

static void test_canonical_needs_fields(void **state)
{
	cJSON *f = cJSON_Parse("{\"arch\":\"x86_64\",\"cpu\":{\"model\":\"m\",\"logical_cores\":1}}");

	(void)state;
	assert_null(fingerprint_canonical(f));
	cJSON_Delete(f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_cpuinfo_fixtures),
		cmocka_unit_test(test_cpuinfo_odd),
		cmocka_unit_test(test_meminfo),
		cmocka_unit_test(test_nvidia_csv),
		cmocka_unit_test(test_collect_and_hash),
		cmocka_unit_test(test_hash_fields),
		cmocka_unit_test(test_nvidia_failures),
		cmocka_unit_test(test_collect_errors),
		cmocka_unit_test(test_real_machine),
		cmocka_unit_test(test_canonical_needs_fields),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
