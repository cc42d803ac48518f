/*
 * probe.h: perfgate's own fixed calibration workload (`"calibration":
 * "auto"`, docs/suite.md "Calibration").
 *
 * A fixed amount of CPU-bound work, the same in every perfgate of the same
 * PROBE_VERSION: a small stack machine interpreting a fixed program, one
 * indirect jump per operation, its stack in memory, and reads and writes
 * of a 64 KiB table (beyond a typical 32 KiB L1 data cache, well inside
 * L2).  It tracks what changes the speed of branchy CPU-bound code
 * (interpreters, parsers, compressors, sorts): the share of a CPU the
 * process gets, its clock, a neighbour on the same core sharing its
 * branch predictors and caches.  It does not track I/O, memory bandwidth
 * or large working sets, and it moves more than a loop of pure arithmetic
 * does.  `perfgate probe` runs it in a child process beside each
 * repetition, as a user's calibration command runs.
 */
#ifndef PERFGATE_PROBE_H
#define PERFGATE_PROBE_H

#include <stdint.h>

/* Changing the workload changes every wall_rel measured with it: bump this
 * and say so in the release notes.  It goes into the configuration hash of
 * every benchmark that uses the probe, so a new probe starts new histories
 * rather than comparing its times with the old one's.  Version 1 (perfgate
 * 0.1.0 until 2026-12) was a loop of unpredictable branches, which moved
 * half as much as a shell loop beside a neighbour on the same core. */
#define PROBE_VERSION 2
/* About 20 ms on a 2020s server core. */
#define PROBE_ITERATIONS 900000

/* Run the workload; the result only keeps the compiler from removing it. */
uint64_t probe_run(uint64_t iterations);

#endif
