/*
 * probe.c: the fixed workload of "calibration": "auto" (see probe.h).
 */
#include "probe.h"

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
