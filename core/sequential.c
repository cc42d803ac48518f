/*
 * sequential.c: alpha spending over the gate's looks (see sequential.h).
 */
#include "sequential.h"

#include <math.h>

#include <gsl/gsl_cdf.h>

void sequential_init(struct sequential *s, double alpha, double n_max, bool first_screens)
{
	s->alpha = alpha;
	s->n_max = n_max > 0 ? n_max : 1;
	s->spent = 0;
	s->t_last = 0;
	s->looks = 0;
	s->first_screens = first_screens;
}

double sequential_spending(double alpha, double t)
{
	if (!(t > 0))
		return 0;
	if (t >= 1)
		return alpha;
	return 2 * gsl_cdf_ugaussian_Q(gsl_cdf_ugaussian_Pinv(1 - alpha / 2) / sqrt(t));
}

double sequential_level(struct sequential *s, double n, bool last)
{
	double t = fmin(1, n / s->n_max), level;

	s->looks++;
	if (s->looks == 1 && s->first_screens && !last) {
		/* Screening: a regression found here is measured again before
		 * anything fails, so this look spends nothing. */
		s->t_last = t;
		return s->alpha;
	}
	if (last)
		level = s->alpha - s->spent;
	else
		level = sequential_spending(s->alpha, t) - s->spent;
	level = fmax(0, level);
	s->spent += level;
	s->t_last = t;
	return level;
}
