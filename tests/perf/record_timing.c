/*
 * record_timing: record a long real timing series of a shell loop at several
 * work levels, interleaved round-robin (one repetition of each level in turn)
 * so that line i of every output file was measured at about the same time
 * and machine drift hits every level alike.  The series feed the replay in
 * gate_accuracy.c (tests/fixtures/timing/README.md says how they were made).
 *
 * usage: record_timing OUTDIR SECONDS N1 [N2 ...]
 * writes OUTDIR/loop-N.txt: one repetition per line, "wall user sys" in
 * microseconds (wall from CLOCK_MONOTONIC around spawn..reap, user and sys
 * from wait4's rusage).
 */
#include <errno.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <time.h>

extern char **environ;

static double now_s(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

int main(int argc, char **argv)
{
	FILE *out[16];
	char script[16][160];
	char path[4096];
	double end, t0, t1;
	int nlev, status;
	long rounds = 0;

	if (argc < 4 || argc - 3 > 16) {
		fprintf(stderr, "usage: record_timing OUTDIR SECONDS N1 [N2 ...]\n");
		return 2;
	}
	nlev = argc - 3;
	for (int l = 0; l < nlev; l++) {
		snprintf(script[l], sizeof(script[l]),
			 "i=0; while [ $i -lt %s ]; do i=$((i+1)); done", argv[3 + l]);
		snprintf(path, sizeof(path), "%s/loop-%s.txt", argv[1], argv[3 + l]);
		out[l] = fopen(path, "w");
		if (!out[l]) {
			fprintf(stderr, "record_timing: cannot open '%s': %s\n", path, strerror(errno));
			return 1;
		}
	}
	end = now_s() + strtod(argv[2], NULL);
	while (now_s() < end) {
		for (int l = 0; l < nlev; l++) {
			char *args[] = { (char *)"/bin/sh", (char *)"-c", script[l], NULL };
			pid_t pid;
			t0 = now_s();
			if (posix_spawn(&pid, "/bin/sh", NULL, NULL, args, environ) != 0)
				return 1;
			struct rusage ru;
			if (wait4(pid, &status, 0, &ru) < 0 || !WIFEXITED(status) || WEXITSTATUS(status))
				return 1;
			t1 = now_s();
			fprintf(out[l], "%.1f %ld %ld\n", (t1 - t0) * 1e6,
				(long)ru.ru_utime.tv_sec * 1000000L + (long)ru.ru_utime.tv_usec,
				(long)ru.ru_stime.tv_sec * 1000000L + (long)ru.ru_stime.tv_usec);
		}
		if (++rounds % 100 == 0)
			for (int l = 0; l < nlev; l++)
				fflush(out[l]);
	}
	for (int l = 0; l < nlev; l++)
		fclose(out[l]);
	return 0;
}
