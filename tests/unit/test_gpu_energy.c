/*
 * Unit tests for core/gpu_energy.c and the monitor's `energy` metric: the
 * line and header readers on nvidia-smi's formats, the counter read
 * through the stand-in tests/bin/nvidia-smi (which counts the energy its
 * captured H200 power readings imply, FAKE_NVIDIA_SMI_ENERGY), a driver
 * without the field and a GPU that does not count (both fall back to the
 * integrated power), as the run document records.
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
#include <time.h>

#include "../../core/gpu_energy.h"
#include "../../core/monitor.h"
#include "../../core/util.h"

#define FAKE "tests/bin/nvidia-smi"

static void sleep_s(double s)
{
	struct timespec ts = { (time_t)s, (long)((s - (double)(time_t)s) * 1e9) };
	nanosleep(&ts, NULL);
}

static void test_parse(void **state)
{
	double t, t2, j;
	int i;

	(void)state;
	assert_true(gpu_energy_parse_line("2026/11/28 18:34:56.123, 0, 123456789 mJ", 1e-3, &t, &i, &j));
	assert_int_equal(i, 0);
	assert_true(fabs(j - 123456.789) < 1e-6);
	assert_true(gpu_energy_parse_line("2026/11/28 18:34:57.623, 3, 12.5 J", 1e-3, &t2, &i, &j));
	assert_int_equal(i, 3);
	assert_true(j == 12.5);
	assert_true(fabs(t2 - t - 1.5) < 1e-6);
	/* across midnight and a month's end */
	assert_true(gpu_energy_parse_line("2026/11/30 23:59:59.900, 0, 1 kJ", 1e-3, &t, &i, &j));
	assert_true(gpu_energy_parse_line("2026/12/01 00:00:00.100, 0, 1000", 1e-3, &t2, &i, &j));
	assert_true(fabs(t2 - t - 0.2) < 1e-6);
	assert_true(j == 1); /* no unit: the header's (mJ) */
	assert_false(gpu_energy_parse_line("2026/11/28 18:34:56.123, 0, [N/A]", 1e-3, &t, &i, &j));
	assert_false(gpu_energy_parse_line("2026/11/28 18:34:56.123, 0, [Not Supported]", 1e-3, &t, &i, &j));
	assert_false(gpu_energy_parse_line("2026/11/28 18:34:56.123, 0, 5 W", 1e-3, &t, &i, &j));
	assert_false(gpu_energy_parse_line("0, 5 mJ", 1e-3, &t, &i, &j));
	assert_false(gpu_energy_parse_line("2026/11/28 18:34:56.123, x, 5 mJ", 1e-3, &t, &i, &j));
	assert_true(gpu_energy_header_factor(" total_energy_consumption [mJ]") == 1e-3);
	assert_true(gpu_energy_header_factor(" energy.consumed [J]") == 1);
	assert_true(gpu_energy_header_factor(" total_energy_consumption") == 1e-3);
}

/* Power draws of the captured rows, read here independently. */
static void fixture_power(double *p, int n)
{
	FILE *f = fopen("tests/fixtures/nvidia-smi/query_sampling.csv", "r");
	char line[512];

	assert_non_null(f);
	for (int k = 0; k < n; k++) {
		char *c = line;
		assert_non_null(fgets(line, sizeof(line), f));
		for (int i = 0; i < 8; i++)
			c = strchr(c, ',') + 1;
		p[k] = strtod(c, NULL);
	}
	fclose(f);
}

static void test_counter(void **state)
{
	struct gpu_energy *g;
	struct gpu_energy_reading r[4];
	size_t nr;
	double p[8], joules, window = 10;
	char field[64];
	bool matched = false;

	(void)state;
	fixture_power(p, 8);
	gpu_energy_forget();
	setenv("FAKE_NVIDIA_SMI_ENERGY", "mJ", 1);
	setenv("FAKE_NVIDIA_SMI_LINES", "8", 1);
	g = gpu_energy_start(FAKE, 0.1);
	assert_non_null(g);
	for (int i = 0; i < 30; i++) {
		sleep_s(0.1);
		gpu_energy_poll(g);
	}
	joules = gpu_energy_stop(g, window, field, sizeof(field), r, 4, &nr);
	unsetenv("FAKE_NVIDIA_SMI_LINES");
	unsetenv("FAKE_NVIDIA_SMI_ENERGY");
	assert_string_equal(field, "total_energy_consumption");
	/* k readings, 100 ms apart by nvidia-smi's clock, the counter growing by
	 * each row's power for 100 ms: the mean power of the first k - 1 rows,
	 * over the 10 s window (k depends on how many lines came: any k counts;
	 * the timestamps, seconds since 1970 in a double, are good to 1e-7 s) */
	for (int k = 2; k <= 8; k++) {
		double sum = 0;
		for (int i = 0; i < k - 1; i++)
			sum += p[i];
		matched |= fabs(joules / (sum / (k - 1) * window) - 1) < 1e-6 &&
			   fabs(r[0].e1 - r[0].e0 - sum * 0.1) < 1e-6 && fabs(r[0].t1 - r[0].t0 - 0.1 * (k - 1)) < 1e-6;
	}
	/* the first and last readings: the fake's counter starts at 5,000,000 J */
	assert_int_equal(nr, 1);
	assert_int_equal(r[0].index, 0);
	assert_true(r[0].e0 == 5000000);
	if (!matched)
		fail_msg("energy %.9f J matches no mean of the captured power readings", joules);
}

static void test_no_field_then_remembered(void **state)
{
	struct gpu_energy *g;
	char field[64];
	double j;

	(void)state;
	gpu_energy_forget();
	g = gpu_energy_start(FAKE, 0.1); /* FAKE_NVIDIA_SMI_ENERGY unset: the field is unknown */
	for (int i = 0; i < 30 && g; i++) {
		sleep_s(0.05);
		gpu_energy_poll(g);
	}
	j = gpu_energy_stop(g, 1, field, sizeof(field), NULL, 0, NULL);
	assert_true(isnan(j));
	assert_string_equal(field, "");
	/* a GPU that does not count */
	gpu_energy_forget();
	setenv("FAKE_NVIDIA_SMI_ENERGY", "na", 1);
	setenv("FAKE_NVIDIA_SMI_LINES", "3", 1);
	g = gpu_energy_start(FAKE, 0.05);
	for (int i = 0; i < 30; i++) {
		sleep_s(0.05);
		gpu_energy_poll(g);
	}
	assert_true(isnan(gpu_energy_stop(g, 1, field, sizeof(field), NULL, 0, NULL)));
	unsetenv("FAKE_NVIDIA_SMI_LINES");
	unsetenv("FAKE_NVIDIA_SMI_ENERGY");
	assert_null(gpu_energy_start("perfgate-no-nvidia-smi-here", 0.1));
}

/* The monitor's `energy` and the method it records. */
static const char *window_energy(const char *unit, double *joules)
{
	struct monitor_options o = { 0 };
	struct errlist notices = ERRLIST_INIT;
	struct rundoc *rd = rundoc_new();
	struct rd_bench *b = rundoc_add_bench(rd, "b", RUNDOC_KIND_HTTP);
	struct monitor *m;
	struct err err = ERR_INIT;
	const struct rd_metric *e;
	static char method[32];

	gpu_energy_forget();
	if (unit)
		setenv("FAKE_NVIDIA_SMI_ENERGY", unit, 1);
	o.gpu = true;
	o.interval = 0.1;
	o.nvidia_smi = (char *)FAKE;
	assert_int_equal(monitor_start(&m, &o, &err), 0);
	sleep_s(2.0);
	assert_int_equal(monitor_stop(m, b, &notices, &err), 0);
	unsetenv("FAKE_NVIDIA_SMI_ENERGY");
	e = rundoc_bench_find_metric(b, "energy");
	assert_non_null(e);
	assert_string_equal(e->unit, "J");
	*joules = e->samples[0];
	snprintf(method, sizeof(method), "%s",
		 cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetObjectItem(b->extra, "energy"), "method")));
	errlist_release(&notices);
	rundoc_free(rd);
	return method;
}

static void test_monitor_energy_methods(void **state)
{
	double j;

	(void)state;
	/* the captured H200 drew 80-100 W: about 200 J in 2 s either way */
	assert_string_equal(window_energy("mJ", &j), "counter");
	assert_true(j > 0 && isfinite(j));
	assert_string_equal(window_energy(NULL, &j), "power");
	assert_true(j > 0 && isfinite(j));
	assert_string_equal(window_energy("na", &j), "power");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse),
		cmocka_unit_test(test_counter),
		cmocka_unit_test(test_no_field_then_remembered),
		cmocka_unit_test(test_monitor_energy_methods),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
