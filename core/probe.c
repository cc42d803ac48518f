/*
 * probe.c: the fixed workload of "calibration": "auto" (see probe.h).
 */
#include "probe.h"

#include <time.h>

#define PROBE_TABLE 16384 /* 32-bit entries: 64 KiB */

uint64_t probe_run(uint64_t iterations)
{
	static uint32_t table[PROBE_TABLE];
	uint64_t x = 0x9e3779b97f4a7c15ULL, acc = 0;

	for (uint64_t i = 0; i < iterations; i++) {
		uint32_t *t;

		/* xorshift64: cheap, and its low bit is a coin the branch
		 * predictor cannot learn */
		x ^= x << 13;
		x ^= x >> 7;
		x ^= x << 17;
		t = &table[(x >> 20) % PROBE_TABLE];
		if (x & 1)
			*t += (uint32_t)x;
		else
			acc += *t ^ (uint32_t)(x >> 32);
		if ((*t & 6) == 2)
			acc = acc * 31 + i;
	}
	return acc;
}

static double secs(const struct timespec *t)
{
	return (double)t->tv_sec + (double)t->tv_nsec * 1e-9;
}

int probe_measure(uint64_t iterations, double *wall, double *cpu)
{
	struct timespec w0, w1, c0, c1;
	volatile uint64_t sink;

	if (clock_gettime(CLOCK_MONOTONIC, &w0) != 0 || clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c0) != 0)
		return -1;
	sink = probe_run(iterations);
	(void)sink;
	if (clock_gettime(CLOCK_MONOTONIC, &w1) != 0 || clock_gettime(CLOCK_PROCESS_CPUTIME_ID, &c1) != 0)
		return -1;
	*wall = secs(&w1) - secs(&w0);
	*cpu = secs(&c1) - secs(&c0);
	return 0;
}
