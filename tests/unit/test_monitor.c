/*
 * Unit tests for core/monitor.c: a real busy child sampled through /proc (by
 * pid, pid_file and process name), GPU readings through the stand-in
 * tests/bin/nvidia-smi that replays real H200 output, and validation.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../../core/monitor.h"
#include "../../core/proc.h"
#include "../../core/prom/config.h"
#include "../../core/util.h"

static pid_t spawn_busy(const char *exe_name)
{
	const char *argv[] = { exe_name, "-c", "while :; do :; done", NULL };
	struct proc_options o = PROC_OPTIONS_INIT;
	struct err err = ERR_INIT;
	pid_t pid;

	o.argv = argv;
	assert_int_equal(proc_spawn(&o, &pid, &err), 0);
	return pid;
}

static void stop_child(pid_t pid)
{
	proc_kill_group(pid, SIGKILL, 0);
	waitpid(pid, NULL, 0);
}

static void sleep_s(double s)
{
	struct timespec ts = { (time_t)s, (long)((s - (double)(time_t)s) * 1e9) };
	nanosleep(&ts, NULL);
}

static void window(const struct monitor_options *o, struct rd_bench *b, struct errlist *notices,
		   double seconds)
{
	struct monitor *m;
	struct err err = ERR_INIT;

	assert_int_equal(monitor_start(&m, o, &err), 0);
	sleep_s(seconds);
	assert_int_equal(monitor_stop(m, b, notices, &err), 0);
}

static struct rd_bench *new_bench(struct rundoc **rd)
{
	*rd = rundoc_new();
	return rundoc_add_bench(*rd, "b", RUNDOC_KIND_HTTP);
}

/* A spinning shell's CPU as the monitor saw it through /proc must agree with
 * the CPU time the kernel reports for it at the reap (wait4's rusage). */
static void test_busy_process_by_pid(void **state)
{
	struct monitor_options o = { 0 };
	struct errlist notices = ERRLIST_INIT;
	struct proc_result pr;
	struct err err = ERR_INIT;
	struct monitor *m;
	struct rundoc *rd;
	struct rd_bench *b = new_bench(&rd);
	struct rd_metric *cpu, *rss, *sys;
	uint64_t t0;
	double window_s, expected;
	pid_t pid;

	(void)state;
	o.interval = 0.05;
	o.system = true;
	pid = spawn_busy("/bin/sh");
	o.pid = pid;
	t0 = now_ns();
	assert_int_equal(monitor_start(&m, &o, &err), 0);
	sleep_s(0.8);
	assert_int_equal(monitor_stop(m, b, &notices, &err), 0);
	window_s = (double)(now_ns() - t0) * 1e-9;
	proc_kill_group(pid, SIGKILL, 0);
	assert_int_equal(proc_wait(pid, &pr, &err), 0);
	expected = (pr.user + pr.sys) / window_s * 100.0;

	cpu = rundoc_bench_find_metric(b, "server.cpu.mean");
	rss = rundoc_bench_find_metric(b, "server.rss.max");
	sys = rundoc_bench_find_metric(b, "system.cpu.mean");
	assert_non_null(cpu);
	assert_non_null(rss);
	assert_non_null(sys);
	assert_int_equal(cpu->n_samples, 1); /* one sample per window (repetition) */
	assert_true(cpu->samples[0] > 1.0);
	if (fabs(cpu->samples[0] - expected) > 0.35 * expected + 5.0)
		fail_msg("monitor saw %.1f%% CPU, the kernel's rusage says %.1f%%", cpu->samples[0], expected);
	assert_true(rss->samples[0] > 100e3); /* a shell is more than 100 kB */
	assert_string_equal(rss->unit, "B");
	assert_true(sys->samples[0] > 0 && sys->samples[0] <= 100.0);
	assert_non_null(cJSON_GetObjectItem(cJSON_GetObjectItem(b->extra, "resources"), "server.cpu"));

	/* A second window adds a second sample to the same metrics. */
	o.pid = getpid();
	window(&o, b, &notices, 0.1);
	assert_int_equal(rundoc_bench_find_metric(b, "server.cpu.mean")->n_samples, 2);
	errlist_release(&notices);
	rundoc_free(rd);
}

static void test_pid_file_and_process_name(void **state)
{
	char dir[] = "/tmp/perfgate-mon.XXXXXX", link[128], pidf[128], text[32];
	struct monitor_options o = { 0 };
	struct errlist notices = ERRLIST_INIT;
	struct err err = ERR_INIT;
	struct rundoc *rd;
	struct rd_bench *b = new_bench(&rd);
	struct monitor *m;
	pid_t pid;

	(void)state;
	assert_non_null(mkdtemp(dir));
	snprintf(link, sizeof(link), "%s/pgmontest", dir);
	assert_int_equal(symlink("/bin/sh", link), 0);
	pid = spawn_busy(link);
	snprintf(pidf, sizeof(pidf), "%s/server.pid", dir);
	snprintf(text, sizeof(text), "%ld\n", (long)pid);
	assert_int_equal(file_write_atomic(pidf, text, strlen(text), &err), 0);
	sleep_s(0.1); /* let the exec finish so comm is the link's name */

	o.pid_file = pidf;
	o.interval = 0.05;
	window(&o, b, &notices, 0.3);
	assert_true(rundoc_bench_find_metric(b, "server.cpu.mean")->samples[0] > 1.0);

	o.pid_file = NULL;
	o.process = (char *)"pgmontest";
	window(&o, b, &notices, 0.3);
	assert_int_equal(rundoc_bench_find_metric(b, "server.cpu.mean")->n_samples, 2);

	o.process = (char *)"no-such-process-name";
	assert_int_equal(monitor_start(&m, &o, &err), ERR_RUN);
	assert_string_equal(err.msg, "monitor.process: no running process named 'no-such-process-name'");

	stop_child(pid);
	unlink(pidf);
	unlink(link);
	rmdir(dir);
	errlist_release(&notices);
	rundoc_free(rd);
}

/* Power draws of the first n rows of the captured real output, parsed here
 * independently of the monitor's own parser. */
static double fixture_power_mean(int n)
{
	FILE *f = fopen("tests/fixtures/nvidia-smi/query_sampling.csv", "r");
	char line[512];
	double sum = 0;
	int k = 0;

	assert_non_null(f);
	while (k < n && fgets(line, sizeof(line), f)) {
		char *p = line;
		for (int c = 0; c < 8; c++)
			p = strchr(p, ',') + 1;
		sum += strtod(p, NULL);
		k++;
	}
	fclose(f);
	assert_int_equal(k, n);
	return sum / n;
}

static void test_gpu_through_nvidia_smi(void **state)
{
	struct monitor_options o = { 0 };
	struct errlist notices = ERRLIST_INIT;
	struct rundoc *rd;
	struct rd_bench *b = new_bench(&rd);
	struct rd_metric *power, *mem, *util;
	double want = fixture_power_mean(5);

	(void)state;
	setenv("FAKE_NVIDIA_SMI_LINES", "5", 1);
	o.gpu = true;
	o.interval = 0.02;
	o.nvidia_smi = (char *)"tests/bin/nvidia-smi";
	window(&o, b, &notices, 1.0);
	unsetenv("FAKE_NVIDIA_SMI_LINES");
	power = rundoc_bench_find_metric(b, "gpu.power.mean");
	mem = rundoc_bench_find_metric(b, "gpu.mem.max");
	util = rundoc_bench_find_metric(b, "gpu.util.max");
	assert_non_null(power);
	assert_non_null(mem);
	assert_non_null(util);
	assert_true(fabs(power->samples[0] - want) < 1e-9);
	assert_true(mem->samples[0] == 0);  /* the captured GPU had no memory in use */
	assert_int_equal(cJSON_GetArraySize(cJSON_GetObjectItem(cJSON_GetObjectItem(b->extra, "resources"),
								   "gpu.power")), 5);
	assert_int_equal(notices.n, 0);
	errlist_release(&notices);
	rundoc_free(rd);
}

static void test_gpu_missing_is_a_notice(void **state)
{
	struct monitor_options o = { 0 };
	struct errlist notices = ERRLIST_INIT;
	struct rundoc *rd;
	struct rd_bench *b = new_bench(&rd);

	(void)state;
	o.gpu = true;
	o.interval = 0.02;
	o.nvidia_smi = (char *)"perfgate-no-nvidia-smi-here";
	window(&o, b, &notices, 0.05);
	assert_null(rundoc_bench_find_metric(b, "gpu.util.mean"));
	assert_int_equal(notices.n, 1);
	assert_string_equal(notices.msgs[0], "nvidia-smi not found; GPUs not sampled");
	errlist_release(&notices);
	rundoc_free(rd);
}

static void test_validate(void **state)
{
	static const struct { const char *json; const char *want; } cases[] = {
		{ "[1]", "m: expected an object, got an array" },
		{ "{\"pidfile\": \"x\"}", "m.pidfile: unknown key; did you mean \"pid_file\"?" },
		{ "{\"pid\": 0}", "m.pid: expected a process id (an integer >= 1), got 0" },
		{ "{\"pid\": 1.5}", "m.pid: expected a process id (an integer >= 1), got 1.5" },
		{ "{\"process\": \"\"}", "m.process: expected a non-empty string, got \"\"" },
		{ "{\"gpu\": \"yes\"}", "m.gpu: expected true or false, got \"yes\"" },
		{ "{\"interval\": \"1ms\"}", "m.interval: expected a duration from 10ms to 60s, got \"1ms\"" },
		{ "{\"interval\": \"soon\"}", "m.interval: expected a duration from 10ms to 60s, got \"soon\"" },
		{ "{\"pid\": 5, \"process\": \"x\"}", "m: name the server process once (pid, pid_file or process)" },
		{ "{\"prometheus\": {\"url\": \"http://127.0.0.1:8000/metrics\", \"preset\": \"vllmm\"}}",
		  "m.prometheus.preset: expected one of \"vllm\", \"sglang\", \"tgi\", \"triton\"" },
	};
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct errlist l = ERRLIST_INIT;
		cJSON *j = cJSON_Parse(cases[i].json);
		monitor_validate(j, "m", &l);
		assert_int_equal(l.n, 1);
		assert_string_equal(l.msgs[0], cases[i].want);
		errlist_release(&l);
		cJSON_Delete(j);
	}
	{
		struct errlist l = ERRLIST_INIT;
		cJSON *j = cJSON_Parse("{\"pid_file\": \"server.pid\", \"gpu\": true, \"interval\": \"250ms\"}");
		struct monitor_options o;
		struct err err = ERR_INIT;
		monitor_validate(j, "m", &l);
		assert_int_equal(l.n, 0);
		assert_int_equal(monitor_options_parse(j, "/srv/suite", &o, &err), 0);
		assert_string_equal(o.pid_file, "/srv/suite/server.pid");
		assert_true(fabs(o.interval - 0.25) < 1e-12);
		assert_true(o.system);
		assert_null(o.prometheus);
		monitor_options_release(&o);
		cJSON_Delete(j);
	}
	{
		cJSON *j = cJSON_Parse("{\"gpu\": false, \"prometheus\": {\"url\": \"http://127.0.0.1:8000/metrics\", "
				       "\"preset\": \"sglang\", \"interval\": \"100ms\"}}");
		struct monitor_options o;
		struct err err = ERR_INIT;
		assert_int_equal(monitor_options_parse(j, "/srv/suite", &o, &err), 0);
		assert_non_null(o.prometheus);
		assert_int_equal(o.prometheus->n_targets, 1);
		assert_string_equal(o.prometheus->targets[0].name, "sglang");
		monitor_options_release(&o);
		cJSON_Delete(j);
	}
}

/* Metrics missing for a reason: the reason, for the SLO's message. */
static void test_unmeasured(void **state)
{
	struct rundoc *rd;
	struct rd_bench *b = new_bench(&rd);
	char why[200];

	(void)state;
	b->extra = cJSON_Parse("{\"prometheus\": {\"targets\": ["
			       " {\"name\": \"down\", \"scrapes\": 5, \"failed\": 5, \"missing\": [\"q\"]},"
			       " {\"name\": \"vllm\", \"scrapes\": 5, \"failed\": 1, \"missing\": [\"ttft\"]}]}}");
	rundoc_metric_add_sample(rundoc_bench_add_metric(b, "server.vllm.kv_cache_usage.max", "1", RD_LOWER), 0.5);
	assert_true(monitor_unmeasured(b, "server.down.q.max", why, sizeof(why)));
	assert_string_equal(why, "no scrape of target 'down' succeeded");
	assert_true(monitor_unmeasured(b, "server.vllm.ttft.p99", why, sizeof(why)));
	assert_string_equal(why, "target 'vllm' exposes none of the series of ttft");
	assert_true(monitor_unmeasured(b, "server.vllm.queue_time.p99", why, sizeof(why)));
	assert_non_null(strstr(why, "gave it no value in any window"));
	assert_false(monitor_unmeasured(b, "server.vllm.kv_cache_usage.max", why, sizeof(why))); /* it is there */
	assert_false(monitor_unmeasured(b, "server.nope.x.max", why, sizeof(why)));  /* no such target: a typo */
	assert_false(monitor_unmeasured(b, "latency.p99", why, sizeof(why)));
	assert_true(monitor_unmeasured(b, "energy_per_output_token", why, sizeof(why)));
	assert_string_equal(why, "no GPU energy readings: no monitor with gpu on, no nvidia-smi, or no GPU");
	assert_true(monitor_unmeasured(b, "cost_per_1k_requests", why, sizeof(why)));
	assert_string_equal(why, "no price: set the suite's \"price\" or PERFGATE_PRICE_PER_HOUR");
	assert_false(monitor_unmeasured(b, "energy_per_tokens", why, sizeof(why)));
	/* a sweep step's, NAME@RATE/s */
	assert_true(monitor_unmeasured(b, "energy_per_output_token@100/s", why, sizeof(why)));
	assert_string_equal(why, "no GPU energy readings: no monitor with gpu on, no nvidia-smi, or no GPU");
	assert_true(monitor_unmeasured(b, "server.vllm.ttft@100/s", why, sizeof(why)));
	assert_string_equal(why, "target 'vllm' exposes none of the series of ttft");
	assert_false(monitor_unmeasured(b, "energy_per_tokens@100/s", why, sizeof(why)));
	assert_true(monitor_metric("cost_per_1k_requests@100/s"));
	assert_true(monitor_metric("server.x.y"));
	assert_true(monitor_metric("energy.max"));
	assert_true(monitor_metric("cost_per_1m_output_tokens"));
	assert_false(monitor_metric("energyx"));
	assert_false(monitor_metric("latency.p99"));
	rundoc_free(rd);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_busy_process_by_pid),
		cmocka_unit_test(test_pid_file_and_process_name),
		cmocka_unit_test(test_gpu_through_nvidia_smi),
		cmocka_unit_test(test_gpu_missing_is_a_notice),
		cmocka_unit_test(test_validate),
		cmocka_unit_test(test_unmeasured),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
