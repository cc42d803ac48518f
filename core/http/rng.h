/*
 * rng.h: a small seeded generator (splitmix64) for the parts of the HTTP
 * family that draw at random per request: fault choices and delays in the
 * proxy, think times in journeys.  Fast, no shared state: each thread owns
 * its own.
 */
#ifndef PERFGATE_HTTP_RNG_H
#define PERFGATE_HTTP_RNG_H

#include <stdint.h>

struct http_rng {
	uint64_t state;
};

uint64_t http_rng_next(struct http_rng *r);
/* Uniform in [0, 1). */
double http_rng_uniform(struct http_rng *r);
/* A standard normal draw. */
double http_rng_normal(struct http_rng *r);

#endif
