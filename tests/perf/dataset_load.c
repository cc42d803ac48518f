/*
 * dataset_load.c: how long core/http/dataset.c takes to read a dataset
 * file, and the process's peak resident memory against the file's size
 * (tests/perf/llm_bench.sh, issue 13: a 100,000-conversation ShareGPT
 * file in under 2 s, peak RSS under twice the file).
 *
 *   dataset_load FILE [sharegpt|openai|prompts]
 *
 * Prints one line: conversations kept, seconds, file MiB, peak RSS MiB
 * and their ratio.  The process does nothing else, so its peak RSS is the
 * reader's (plus a few MiB of the program itself).
 */
#include <stdio.h>
#include <string.h>
#include <sys/resource.h>

#include "../../core/http/dataset.h"
#include "../../core/util.h"

int main(int argc, char **argv)
{
	struct http_dataset_options o = HTTP_DATASET_OPTIONS_INIT;
	struct http_dataset *d = NULL;
	struct err err = ERR_INIT;
	struct rusage ru;
	uint64_t t0;
	double secs, file_mib, rss_mib;

	if (argc < 2) {
		fprintf(stderr, "usage: dataset_load FILE [sharegpt|openai|prompts]\n");
		return 2;
	}
	o.path = argv[1];
	o.format = HTTP_DATASET_SHAREGPT;
	if (argc > 2 && http_dataset_format_parse(argv[2], &o.format) != 0) {
		fprintf(stderr, "dataset_load: unknown format '%s'\n", argv[2]);
		return 2;
	}
	t0 = now_ns();
	if (http_dataset_open(&d, &o, &err) != 0) {
		fprintf(stderr, "dataset_load: %s\n", err.msg);
		return 1;
	}
	secs = (double)(now_ns() - t0) / 1e9;
	getrusage(RUSAGE_SELF, &ru);
	file_mib = (double)http_dataset_stats(d)->bytes / 1048576.0;
	rss_mib = (double)ru.ru_maxrss / 1024.0;
	printf("conversations %zu seconds %.3f file_mib %.1f peak_rss_mib %.1f rss_over_file %.3f\n",
	       http_dataset_count(d), secs, file_mib, rss_mib, rss_mib / file_mib);
	http_dataset_free(d);
	return 0;
}
