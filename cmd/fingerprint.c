/*
 * fingerprint.c: `perfgate fingerprint`: print this machine's facts and the
 * hardware-class hash that runs are grouped by (core/fingerprint.h), as an
 * aligned text listing (with the exact text that is hashed) or as the JSON
 * object that goes into a run document's "machine" member.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "../core/fingerprint.h"
#include "../core/util.h"
#include "cmd.h"

static const char *str_of(const cJSON *o, const char *a, const char *b)
{
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, a);

	if (b)
		j = cJSON_GetObjectItemCaseSensitive(j, b);
	return cJSON_IsString(j) ? j->valuestring : NULL;
}

static double num_of(const cJSON *o, const char *a, const char *b)
{
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(o, a);

	if (b)
		j = cJSON_GetObjectItemCaseSensitive(j, b);
	return cJSON_IsNumber(j) ? j->valuedouble : -1;
}

static const char *bool_word(const cJSON *st, const char *key, const char *yes, const char *no)
{
	const cJSON *j = cJSON_GetObjectItemCaseSensitive(st, key);

	if (cJSON_IsTrue(j))
		return yes;
	if (cJSON_IsFalse(j))
		return no;
	return "unknown";
}

static void print_text(const cJSON *f, const char *hash)
{
	const cJSON *gpus = cJSON_GetObjectItemCaseSensitive(f, "gpus"), *g;
	const cJSON *st = cJSON_GetObjectItemCaseSensitive(f, "state");
	const cJSON *load = cJSON_GetObjectItemCaseSensitive(st, "load_avg");
	const char *gpu_error = str_of(f, "gpu_error", NULL);
	const char *os = str_of(f, "os", "pretty_name");
	char *canon = fingerprint_canonical(f);
	double sockets = num_of(f, "cpu", "sockets");
	int i = 0;

	printf("fingerprint     %s\n", hash);
	printf("cpu             %s\n", str_of(f, "cpu", "model"));
	printf("cores           %.0f logical, %.0f physical, %.0f socket%s%s\n",
	       num_of(f, "cpu", "logical_cores"), num_of(f, "cpu", "physical_cores"), sockets,
	       sockets == 1 ? "" : "s",
	       strcmp(str_of(f, "cpu", "topology") ? str_of(f, "cpu", "topology") : "", "assumed") == 0
		       ? " (topology not listed; physical assumed = logical)"
		       : "");
	printf("memory          %.0f GiB (%.0f bytes)\n", num_of(f, "memory", "gib"),
	       num_of(f, "memory", "total_bytes"));
	if (cJSON_GetArraySize(gpus) == 0)
		printf("gpus            none%s%s%s\n", gpu_error ? " (" : "", gpu_error ? gpu_error : "",
		       gpu_error ? ")" : "");
	cJSON_ArrayForEach(g, gpus) {
		double gib = num_of(g, "memory_gib", NULL);
		printf("%s%s, ", i++ ? "                " : "gpus            ", str_of(g, "name", NULL));
		if (gib >= 0)
			printf("%.0f GiB", gib);
		else
			printf("memory unknown");
		printf(", driver %s\n", str_of(g, "driver", NULL) ? str_of(g, "driver", NULL) : "unknown");
	}
	printf("arch            %s\n", str_of(f, "arch", NULL));
	printf("os              %s\n", os ? os : "unknown");
	printf("kernel          %s\n", str_of(f, "kernel", NULL));
	printf("hostname        %s\n", str_of(f, "hostname", NULL));
	printf("\nmachine state (recorded with each run, not hashed):\n");
	printf("governor        %s\n", str_of(st, "governor", NULL) ? str_of(st, "governor", NULL) : "unknown");
	printf("turbo           %s\n", bool_word(st, "turbo", "on", "off"));
	printf("smt             %s\n", bool_word(st, "smt", "on", "off"));
	if (cJSON_GetArraySize(load) == 3)
		printf("load average    %.2f %.2f %.2f\n", cJSON_GetArrayItem(load, 0)->valuedouble,
		       cJSON_GetArrayItem(load, 1)->valuedouble, cJSON_GetArrayItem(load, 2)->valuedouble);
	printf("virtualization  %s\n",
	       str_of(st, "virtualization", NULL) ? str_of(st, "virtualization", NULL) : "unknown");
	printf("container       %s\n", str_of(st, "container", NULL) ? str_of(st, "container", NULL) : "unknown");
	if (num_of(st, "cpus_allowed", NULL) >= 0)
		printf("cpus allowed    %.0f\n", num_of(st, "cpus_allowed", NULL));
	if (num_of(st, "cpu_quota", NULL) >= 0)
		printf("cpu quota       %g CPUs (cgroup)\n", num_of(st, "cpu_quota", NULL));
	else
		printf("cpu quota       none\n");
	if (canon) {
		printf("\nhashed (SHA-256 of these lines):\n");
		for (const char *p = canon; *p;) {
			size_t len = strcspn(p, "\n");
			printf("  %.*s\n", (int)len, p);
			p += len + (p[len] == '\n');
		}
	}
	free(canon);
}

int cmd_fingerprint(int argc, char **argv)
{
	static const struct cmd_usage usage = {
		"fingerprint", "[options]",
		"print this machine's hardware facts and fingerprint",
		"The fingerprint is a SHA-256 over the hardware class: architecture, CPU model,\n"
		"logical and physical cores, memory in GiB, OS id and version, and each GPU's\n"
		"model and memory.  Runs are compared only with baselines of the same\n"
		"fingerprint.  Kernel, GPU driver, governor, turbo, SMT, load and\n"
		"virtualisation are recorded but not hashed.  nvidia-smi is taken from\n"
		"--nvidia-smi, else PERFGATE_NVIDIA_SMI, else PATH.  See docs/fingerprint.md."
	};
	const char *format = "text", *cpuinfo = NULL, *meminfo = NULL, *os_release = NULL;
	const char *nvidia = NULL;
	const struct opt opts[] = {
		{ "format", 0, OPT_STRING, &format, "FORMAT", "text (default) or json" },
		{ "cpuinfo", 0, OPT_STRING, &cpuinfo, "FILE", "read this instead of /proc/cpuinfo" },
		{ "meminfo", 0, OPT_STRING, &meminfo, "FILE", "read this instead of /proc/meminfo" },
		{ "os-release", 0, OPT_STRING, &os_release, "FILE", "read this instead of /etc/os-release" },
		{ "nvidia-smi", 0, OPT_STRING, &nvidia, "CMD", "the nvidia-smi to run ('' for none)" },
	};
	struct fingerprint_sources src = FINGERPRINT_SOURCES_INIT;
	struct err err = ERR_INIT;
	cJSON *facts = NULL;
	char hash[65];
	int rc;

	OPT_PARSE_OR_RETURN(usage, opts, argc, argv, NULL);
	if (strcmp(format, "text") != 0 && strcmp(format, "json") != 0) {
		cmd_error("unknown format '%s' (expected text or json)", format);
		return EXIT_USAGE;
	}
	src.cpuinfo = cpuinfo;
	src.meminfo = meminfo;
	src.os_release = os_release;
	src.nvidia_smi = nvidia ? nvidia : getenv("PERFGATE_NVIDIA_SMI");
	rc = fingerprint_collect(&src, &facts, hash, &err);
	if (rc)
		return cmd_fail(rc, &err);
	if (strcmp(format, "json") == 0) {
		char *text = xcheck(cJSON_Print(facts));
		printf("%s\n", text);
		free(text);
	} else {
		print_text(facts, hash);
	}
	if (cJSON_IsString(cJSON_GetObjectItemCaseSensitive(facts, "gpu_error")) && strcmp(format, "json") == 0)
		cmd_warn("no GPU facts: %s",
			 cJSON_GetObjectItemCaseSensitive(facts, "gpu_error")->valuestring);
	cJSON_Delete(facts);
	return EXIT_PASS;
}
