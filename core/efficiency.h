/*
 * efficiency.h: what a unit of work costs, in energy and in money
 * (docs/monitor.md, "Energy and cost").  Pure functions; the monitor
 * gathers the readings and the HTTP runner the work.
 *
 * Energy over a measured window comes from the GPUs' own cumulative
 * energy counters when nvidia-smi exposes them (total_energy_consumption),
 * else from integrating the sampled power draw.  Either way the readings
 * span a little less than the window (the first is taken just after it
 * opens, the last just before it closes), so the energy read over that
 * span is scaled to the window by window / span.
 *
 * Cost turns a machine price per hour into a price per unit of work at the
 * throughput measured: the machine is paid for by the hour whether it is
 * busy or not, so the cost of 1,000 requests is what 1,000 / throughput
 * seconds of it cost.
 */
#ifndef PERFGATE_EFFICIENCY_H
#define PERFGATE_EFFICIENCY_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "err.h"
#include "rundoc.h"

/*
 * Energy in J from a cumulative counter read at t[i] (s) with values e[i]
 * (J): the increase from the first reading to the last (a decrease is a
 * reset, such as a driver reload: the counter restarted from 0, so the
 * later reading is the increase since), times window / (t[n-1] - t[0]).
 * NAN readings are skipped; NAN with fewer than two readings.
 */
double efficiency_energy_counter(const double *t, const double *e, size_t n, double window);

/*
 * Energy in J from power readings p[i] (W) at t[i] (s): the trapezoid
 * integral from the first reading to the last, times window / span; one
 * reading alone stands for the whole window (p * window).  NAN readings
 * are skipped; NAN when none is left.
 */
double efficiency_energy_power(const double *t, const double *p, size_t n, double window);

/* Energy per unit of work; NAN where the work is 0 or the energy unknown. */
struct efficiency_energy {
	double energy_per_request;       /* J */
	double energy_per_output_token;  /* J */
	double output_tokens_per_joule;  /* 1/J */
};
void efficiency_energy_per_work(double joules, double requests, double output_tokens, struct efficiency_energy *out);

/* A machine's price. */
struct efficiency_price {
	double per_hour;         /* in `currency` */
	char currency[8];        /* "USD", "EUR", ... (3 to 7 letters) */
	char source[32];         /* "PERFGATE_PRICE_PER_HOUR" or "suite" */
};

/* Read "2.50", "2.50 USD" or "USD 2.50" (a bare number is in USD). */
int efficiency_price_parse(const char *text, struct efficiency_price *out, struct err *err);

/* The suite's "price": {"per_hour": 2.5, "currency": "USD"}; one problem
 * per mistake at PATH.KEY. */
void efficiency_price_validate(const cJSON *v, const char *path, struct errlist *problems);

/* PERFGATE_PRICE_PER_HOUR, when set, must parse: one problem when not (so
 * that a bad value stops a run before it starts, exit 2). */
void efficiency_price_env_validate(struct errlist *problems);

/*
 * The price in force: PERFGATE_PRICE_PER_HOUR when set (it describes the
 * machine the job runs on, which the suite cannot know), else the suite's
 * "price" member (may be NULL).  Returns 1 when a price was found, 0 when
 * none, ERR_INPUT when the variable does not parse.
 */
int efficiency_price_find(const cJSON *suite_price, struct efficiency_price *out, struct err *err);

/* Cost per 1,000 requests and per 1,000,000 output tokens at these rates
 * (per second); NAN when a rate is not positive. */
double efficiency_cost_per_1k_requests(double per_hour, double requests_per_s);
double efficiency_cost_per_1m_output_tokens(double per_hour, double output_tokens_per_s);

/*
 * After a repetition of an HTTP benchmark: the energy and cost metrics of
 * its measured window, from what the runner and the monitor added for it
 * (the last samples of "throughput" and "output_token_rate", and the
 * monitor's window in extra "energy".windows, which it claims with
 * "repetition": the index of the throughput sample it was paired with):
 *   energy_per_request       J    mean power / throughput
 *   energy_per_output_token  J    mean power / output_token_rate
 *   output_tokens_per_joule  1/J  output_token_rate / mean power
 *   cost_per_1k_requests     CUR  price per hour / 3600 / throughput x 1000
 *   cost_per_1m_output_tokens CUR price per hour / 3600 / output_token_rate x 1e6
 * (mean power = the window's joules / its length; CUR = the price's
 * currency).  price may be NULL; the price used goes into extra "cost".
 */
void efficiency_add_metrics(struct rd_bench *b, const struct efficiency_price *price);

/* A capacity search's cost at capacity: the cost metrics at the
 * throughput (and output token rate, when > 0) measured at the highest
 * rate that held its SLOs. */
void efficiency_add_capacity_cost(struct rd_bench *b, const struct efficiency_price *price, double throughput,
				  double output_tokens_per_s);

/* Whether `name` is one of the metrics efficiency_add_metrics() derives
 * (per unit of work: they depend on the whole run's throughput), or a
 * sweep step's (`NAME@RATE/s`). */
bool efficiency_derived(const char *name);

/*
 * A merged run of shards (core/shard_merge.c) carries one shard's energy
 * windows and price (extra "energy", "cost") beside the merged throughput
 * and output token rate: derive the per-work metrics again from those, each
 * energy window with the repetition that claimed it, since the shard's own
 * figures divide by its share of the requests only.  Adds to metrics the
 * caller has not copied (see efficiency_derived).
 */
void efficiency_rederive(struct rd_bench *b);

#endif
