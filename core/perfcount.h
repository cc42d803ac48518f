/*
 * perfcount.h: instruction and cycle counts of a command and its children.
 *
 * Wall time on a shared CI machine varies by tens of percent; the number of
 * instructions a program executes barely does.  Counts come from hardware
 * counters through perf_event_open(2) where the kernel offers them
 * (user-space instructions, inherited by every child), else from valgrind's
 * cachegrind, which counts the same every time but runs the command about
 * 50 times slower (and cannot count cycles).  The source is reported so
 * that it can go into the benchmark's configuration hash: counts measured
 * one way are never compared with counts measured the other.
 */
#ifndef PERFGATE_PERFCOUNT_H
#define PERFGATE_PERFCOUNT_H

#include <stdbool.h>
#include <stdint.h>

#include "err.h"

enum perfcount_source {
	PERFCOUNT_PERF,      /* hardware counters, perf_event_open */
	PERFCOUNT_VALGRIND   /* valgrind --tool=cachegrind, instructions only */
};

struct perfcount;

/*
 * Open counters for perfgate itself, inherited by the children it starts.
 * want_cycles asks for cycles as well.  Falls back to valgrind when the
 * kernel has no counters (or PERFGATE_COUNTER=valgrind is set); fails with
 * ERR_RUN when neither is available (the message says what to install or
 * which sysctl to change), or when cycles are wanted without hardware
 * counters.
 */
int perfcount_open(struct perfcount **out, bool want_cycles, struct err *err);
void perfcount_free(struct perfcount *pc);

enum perfcount_source perfcount_source(const struct perfcount *pc);
/* "perf_event" or "valgrind-cachegrind": recorded in metric extra and the config hash. */
const char *perfcount_source_name(const struct perfcount *pc);

/* Hardware counters: zero and start, then stop and read.  Counts include a
 * few thousand instructions of perfgate's own process start and wait. */
int perfcount_start(struct perfcount *pc, struct err *err);
int perfcount_stop(struct perfcount *pc, uint64_t *instructions, uint64_t *cycles, struct err *err);

/*
 * valgrind: the argv that runs `argv` under cachegrind writing one file per
 * process into `dir` (NULL-terminated, caller frees the array and the
 * strings it allocated with argv_free from util.h), and the sum of the
 * instruction counts of those files afterwards (the files are removed).
 */
char **perfcount_valgrind_argv(const char *const *argv, const char *dir);
int perfcount_valgrind_collect(const char *dir, uint64_t *instructions, struct err *err);

/* Is a hardware instruction counter usable here?  (For tests and docs.) */
bool perfcount_hardware_available(void);

#endif
