/*
 * probe.c: `perfgate probe`: run perfgate's fixed calibration workload
 * once and exit 0 (core/probe.h).  A command benchmark with
 * "calibration": "auto" runs this beside every repetition.
 */
#include <stdio.h>

#include "../core/probe.h"
#include "../core/util.h"
#include "cmd.h"

int cmd_probe(int argc, char **argv)
{
	static const struct cmd_usage usage = {
		"probe", "[options]",
		"run perfgate's fixed calibration workload once (what \"calibration\": \"auto\" measures)",
		"A fixed amount of CPU-bound work (a small interpreter, a 64 KiB table), about\n"
		"20 ms on a current server core.  Prints nothing unless --verbose; exits 0.",
	};
	long iterations = PROBE_ITERATIONS;
	bool verbose = false;
	const struct opt opts[] = {
		{ "iterations", 0, OPT_INT, &iterations, "N", "work to do (default: the calibration's)" },
		{ "verbose", 'v', OPT_FLAG, &verbose, NULL, "print the probe version and a checksum" },
	};
	uint64_t r;
	int code = opt_parse(&usage, opts, ARRAY_SIZE(opts), argc, argv, NULL);

	if (code != OPT_OK)
		return code == OPT_HELP ? EXIT_PASS : EXIT_USAGE;
	if (iterations < 1) {
		cmd_error("invalid --iterations: expected an integer >= 1");
		return EXIT_USAGE;
	}
	r = probe_run((uint64_t)iterations);
	if (verbose)
		printf("probe version %d, %ld iterations, checksum %llu\n", PROBE_VERSION, iterations,
		       (unsigned long long)(r & 0xffff));
	return EXIT_PASS;
}
