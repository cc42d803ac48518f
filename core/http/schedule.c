/*
 * schedule.c: arrival schedules (see schedule.h).
 *
 * With Lambda(t) the integral of the rate from the start, arrivals of a
 * unit-rate process s_1 < s_2 < ... (increments 1, Exp(1) or
 * Gamma(k, 1/k)) map to times t_i = Lambda^-1(s_i).  Within a segment the
 * rate is r0 + c x (x seconds into it, c = (r1 - r0) / duration), so
 * Lambda = L0 + r0 x + c x^2 / 2, inverted in the cancellation-free form
 * x = 2a / (r0 + sqrt(r0^2 + 2 c a)).
 */
#include "schedule.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_randist.h>
#include <gsl/gsl_rng.h>

#include "../util.h"

struct http_schedule {
	enum http_schedule_arrival arrival;
	double shape;                  /* gamma shape */
	gsl_rng *rng;
	struct http_schedule_segment *seg;     /* rates already multiplied by the share */
	size_t n_seg;
	size_t cur;                    /* current segment */
	double seg_t0;                 /* s, start time of the current segment */
	double seg_l0;                 /* Lambda at its start */
	double s;                      /* operational time of the next arrival */
	int started;
	const uint64_t *times;         /* explicit arrivals (a trace), or NULL */
	size_t n_times, next_time, stride;
};

static double seg_mass(const struct http_schedule_segment *g)
{
	if (isinf(g->duration))
		return (g->rate_start > 0 || g->rate_end > 0) ? INFINITY : 0;
	return (g->rate_start + g->rate_end) / 2.0 * g->duration;
}

static double draw(struct http_schedule *s)
{
	switch (s->arrival) {
	case SCHED_POISSON: return gsl_ran_exponential(s->rng, 1.0);
	case SCHED_GAMMA: return gsl_ran_gamma(s->rng, s->shape, 1.0 / s->shape);
	case SCHED_CONSTANT: break;
	}
	return 1.0;
}

int http_schedule_open(struct http_schedule **out, const struct http_schedule_options *o, struct err *err)
{
	struct http_schedule *s;
	double share = o->share > 0 ? o->share : 1.0;

	*out = NULL;
	if (o->times) {
		s = xcalloc(1, sizeof(*s));
		s->times = o->times;
		s->n_times = o->n_times;
		s->stride = o->stride ? o->stride : 1;
		s->next_time = o->index;
		*out = s;
		return 0;
	}
	if (o->n_segments == 0)
		return err_set(err, ERR_INPUT, "schedule: no rate given");
	if (share > 1)
		return err_set(err, ERR_INPUT, "schedule: share must be in (0, 1]");
	if (o->arrival == SCHED_GAMMA && !(o->burstiness > 0))
		return err_set(err, ERR_INPUT, "schedule: burstiness must be > 0");
	for (size_t i = 0; i < o->n_segments; i++) {
		const struct http_schedule_segment *g = &o->segments[i];

		if (!(g->duration > 0) || !(g->rate_start >= 0) || !(g->rate_end >= 0) ||
		    isinf(g->rate_start) || isinf(g->rate_end))
			return err_set(err, ERR_INPUT, "schedule: segment %zu needs a duration > 0 and finite rates >= 0", i);
		if (isinf(g->duration) && g->rate_start != g->rate_end)
			return err_set(err, ERR_INPUT, "schedule: an open-ended segment needs a constant rate");
	}
	s = xcalloc(1, sizeof(*s));
	s->arrival = o->arrival;
	s->shape = o->burstiness > 0 ? o->burstiness : 1.0;
	s->rng = gsl_rng_alloc(gsl_rng_mt19937);
	gsl_rng_set(s->rng, (unsigned long)(o->seed ^ (o->seed >> 32)) * 2654435761UL + o->index * 97 + 1);
	s->n_seg = o->n_segments;
	s->seg = xmalloc(o->n_segments * sizeof(*s->seg));
	for (size_t i = 0; i < o->n_segments; i++) {
		s->seg[i] = o->segments[i];
		s->seg[i].rate_start *= share;
		s->seg[i].rate_end *= share;
	}
	/* The first arrival: worker i of T starts i/T of a gap late so that
	 * constant arrivals interleave; random processes start with a draw. */
	if (o->arrival == SCHED_CONSTANT) {
		double frac = share < 1 ? (double)o->index * share : 0;

		s->s = frac - floor(frac);
	} else {
		s->s = draw(s);
	}
	*out = s;
	return 0;
}

void http_schedule_free(struct http_schedule *s)
{
	if (!s)
		return;
	gsl_rng_free(s->rng);
	free(s->seg);
	free(s);
}

uint64_t http_schedule_next(struct http_schedule *s)
{
	double t;

	if (s->times) {
		uint64_t at;

		if (s->next_time >= s->n_times)
			return SCHED_END;
		at = s->times[s->next_time];
		s->next_time += s->stride;
		return at;
	}
	if (s->started)
		s->s += draw(s);
	s->started = 1;
	for (;;) {
		struct http_schedule_segment *g;
		double mass, a, c, x;

		if (s->cur >= s->n_seg)
			return SCHED_END;
		g = &s->seg[s->cur];
		mass = seg_mass(g);
		a = s->s - s->seg_l0;
		if (a < mass || isinf(mass)) {
			if (a <= 0) {
				x = 0;
			} else if (isinf(g->duration)) {
				x = a / g->rate_start;
			} else {
				c = (g->rate_end - g->rate_start) / g->duration;
				x = 2 * a / (g->rate_start + sqrt(fmax(0, g->rate_start * g->rate_start + 2 * c * a)));
				if (x > g->duration)
					x = g->duration;
			}
			t = s->seg_t0 + x;
			break;
		}
		s->seg_l0 += mass;
		s->seg_t0 += g->duration;
		s->cur++;
	}
	if (!(t >= 0) || t * 1e9 >= 1.8e19)
		return SCHED_END;
	return (uint64_t)llround(t * 1e9);
}

const char *http_schedule_arrival_name(enum http_schedule_arrival a)
{
	switch (a) {
	case SCHED_CONSTANT: return "constant";
	case SCHED_POISSON: return "poisson";
	case SCHED_GAMMA: return "gamma";
	}
	return "?";
}

int http_schedule_arrival_parse(const char *name, enum http_schedule_arrival *out)
{
	static const char *const names[] = { "constant", "poisson", "gamma" };

	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		if (strcmp(name, names[i]) == 0) {
			*out = (enum http_schedule_arrival)i;
			return 0;
		}
	}
	return ERR_INPUT;
}
