/*
 * rng.c: splitmix64 (see rng.h).
 */
#include "rng.h"

#include <math.h>

uint64_t http_rng_next(struct http_rng *r)
{
	uint64_t z = (r->state += UINT64_C(0x9E3779B97F4A7C15));

	z = (z ^ (z >> 30)) * UINT64_C(0xBF58476D1CE4E5B9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94D049BB133111EB);
	return z ^ (z >> 31);
}

double http_rng_uniform(struct http_rng *r)
{
	return (double)(http_rng_next(r) >> 11) * 0x1.0p-53;
}

/* Box-Muller; the second value of the pair is not kept. */
double http_rng_normal(struct http_rng *r)
{
	double u = 1.0 - http_rng_uniform(r), v = http_rng_uniform(r);

	return sqrt(-2.0 * log(u)) * cos(2.0 * M_PI * v);
}
