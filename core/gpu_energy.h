/*
 * gpu_energy.h: the GPUs' own energy counters during a measured window,
 * read by an `nvidia-smi --query-gpu=timestamp,index,FIELD --format=csv -lms N`
 * child beside the monitor's sampler (core/monitor.c).
 *
 * NVIDIA GPUs from Volta on count the energy they used since the driver
 * loaded (NVML's nvmlDeviceGetTotalEnergyConsumption, millijoules), which
 * is exact where sampled power is not: power.draw is an average that the
 * board refreshes a few times a second and may sample only part of the
 * time.  nvidia-smi has named the field differently across drivers, so
 * the fields are tried in order (total_energy_consumption, then
 * energy.consumed); a field the driver does not know makes nvidia-smi
 * exit, and the next is tried; a GPU that does not count prints "[N/A]"
 * or "[Not Supported]".  Each value carries its unit ("123456 mJ"); the
 * header's unit stands for a value without one.  Each reading's time is
 * nvidia-smi's own timestamp: the lines are drained once an interval, so
 * the moment one is read says little about when it was taken.
 *
 * When no field works the window's energy is NAN and the monitor falls
 * back to integrating power (efficiency.h).
 */
#ifndef PERFGATE_GPU_ENERGY_H
#define PERFGATE_GPU_ENERGY_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct gpu_energy;

/* Start reading (nvidia_smi: the program, found on PATH).  NULL when it
 * cannot be started at all: the caller then has no counter. */
struct gpu_energy *gpu_energy_start(const char *nvidia_smi, double interval);

/* Take whatever lines the child printed (never blocks); the monitor's
 * sampler thread calls it every interval. */
void gpu_energy_poll(struct gpu_energy *g);

/* A GPU's first and last counter readings in a window, for the run
 * document (and for checking against nvidia-smi run on its own). */
struct gpu_energy_reading {
	int index;
	double t0, e0;           /* nvidia-smi's timestamp (s since 1970, UTC), J */
	double t1, e1;
};

/*
 * Stop and free: the energy (J) used by all GPUs over `window` seconds
 * (each GPU's counter increase, scaled from its readings' span to the
 * window, summed), or NAN when any GPU gave no usable counter.  `field`
 * gets the query field that answered ("" when none); reads[0..max) each
 * GPU's first and last readings, *n how many (may be NULL).
 */
double gpu_energy_stop(struct gpu_energy *g, double window, char *field, size_t len, struct gpu_energy_reading *reads,
		       size_t max, size_t *n);

/* Pure pieces, for the tests. */

/* The factor to joules of a header such as "index, total_energy_consumption [mJ]":
 * 1e-3 for mJ (also when the header names no unit: NVML counts mJ), 1 for J,
 * 1e3 for kJ. */
double gpu_energy_header_factor(const char *header);

/* "2026/11/28 18:34:56.123, 0, 123456789 mJ" -> *t (s, from the
 * timestamp), index 0, 123456.789 J ("J", "kJ" too; a value without a unit
 * is times `dflt`); false for "[N/A]", "[Not Supported]" or anything
 * else. */
bool gpu_energy_parse_line(const char *line, double dflt, double *t, int *index, double *joules);

/* Forget which field answered in earlier windows (it is remembered so that
 * later windows do not ask again for fields the driver does not know):
 * for tests that change the nvidia-smi they run. */
void gpu_energy_forget(void);

#endif
