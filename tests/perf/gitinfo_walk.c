/*
 * gitinfo_walk REPO: the cost of gitinfo_ancestors on a long history grows
 * with the limit, not with the history (baseline selection asks for the
 * nearest few hundred commits of repositories with 10^5..10^6 commits).
 * Prints the median of 7 calls for limits 50, 500 and 0 (the whole history)
 * and fails when fetching 50 costs more than 20% of walking everything.
 * tests/perf/run.sh builds REPO with 50,000 linear commits via git fast-import.
 */
#include <stdio.h>
#include <stdlib.h>

#include "../../core/gitinfo.h"
#include "../../core/summary.h"
#include "../../core/util.h"

static double median_ms(const char *repo, size_t limit, size_t *got)
{
	double t[7];
	struct err err = ERR_INIT;

	for (int i = 0; i < 7; i++) {
		char **v = NULL;
		size_t n = 0;
		uint64_t t0 = now_ns();
		if (gitinfo_ancestors(repo, "HEAD", limit, &v, &n, &err) != 0) {
			fprintf(stderr, "gitinfo_walk: %s\n", err.msg);
			exit(1);
		}
		t[i] = (double)(now_ns() - t0) / 1e6;
		gitinfo_strv_free(v, n);
		*got = n;
	}
	qsort(t, 7, sizeof(t[0]), summary_cmp_double);
	return t[3];
}

int main(int argc, char **argv)
{
	size_t n50, n500, nall;
	double m50, m500, mall;

	if (argc != 2) {
		fprintf(stderr, "usage: gitinfo_walk REPO\n");
		return 2;
	}
	m50 = median_ms(argv[1], 50, &n50);
	m500 = median_ms(argv[1], 500, &n500);
	mall = median_ms(argv[1], 0, &nall);
	printf("gitinfo_ancestors on %zu commits: limit 50: %.1f ms, limit 500: %.1f ms, all: %.1f ms "
	       "(limit 50 / all = %.3f)\n", nall, m50, m500, mall, m50 / mall);
	if (m50 > 0.2 * mall) {
		printf("FAIL: the nearest 50 ancestors cost more than 20%% of the whole walk\n");
		return 1;
	}
	return 0;
}
