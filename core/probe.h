/*
 * probe.h: perfgate's own fixed calibration workload (`"calibration":
 * "auto"`, docs/suite.md "Calibration").
 *
 * A fixed amount of CPU-bound work, the same in every perfgate of the same
 * PROBE_VERSION: a xorshift generator driving data-dependent branches
 * (half of them unpredictable, as in an interpreter) and reads and writes
 * of a 64 KiB table (beyond a typical 32 KiB L1 data cache, well inside
 * L2).  It tracks what changes the speed of CPU-bound code: the share of a
 * CPU the process gets, its clock, a neighbour on the same core or cache.
 * It does not track I/O, memory bandwidth or large working sets.
 * `perfgate probe` runs it in a child process beside each repetition, as
 * a user's calibration command runs.
 */
#ifndef PERFGATE_PROBE_H
#define PERFGATE_PROBE_H

#include <stdint.h>

/* Changing the workload changes every wall_rel measured with it: bump this
 * and say so in the release notes (the run document records it). */
#define PROBE_VERSION 1
/* About 20 ms on a 2020s server core. */
#define PROBE_ITERATIONS 3000000

/* Run the workload; the result only keeps the compiler from removing it. */
uint64_t probe_run(uint64_t iterations);

#endif
