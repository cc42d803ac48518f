/*
 * main.c: perfgate's command table.  Each verb lives in cmd/<verb>.c and
 * exports cmd_<verb>(argc, argv) with argv[0] being the verb itself.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>
#include <git2.h>
#include <gsl/gsl_version.h>
#include <libpq-fe.h>

#include "../core/util.h"
#include "cmd.h"

#ifndef PERFGATE_VERSION
#define PERFGATE_VERSION "0.0.0-dev"
#endif

static int cmd_help(int argc, char **argv);

struct verb {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
};

static const struct verb verbs[] = {
	{ "run", cmd_run, "run a benchmark suite and store the run" },
	{ "gate", cmd_gate, "run, store, compare against the baseline, report and exit nonzero on regression" },
	{ "compare", cmd_compare, "compare a stored or saved run against its baseline" },
	{ "push", cmd_push, "store run documents (and uploads spooled ones)" },
	{ "report", cmd_report, "render a stored comparison as text, Markdown, JSON or JUnit" },
	{ "history", cmd_history, "show a metric's history from the database" },
	{ "plot", cmd_plot, "draw trend, latency and load plots with gnuplot" },
	{ "ingest", cmd_ingest, "turn another harness's output into a run document" },
	{ "merge", cmd_merge, "merge the shards of a distributed load test into one run" },
	{ "fingerprint", cmd_fingerprint, "print this machine's hardware fingerprint" },
	{ "probe", cmd_probe, "run the fixed workload of \"calibration\": \"auto\" once" },
	{ "db", cmd_db, "manage the database: start, stop, status, migrate" },
	{ "store", cmd_store, "keep results on a git data branch: import, export" },
	{ "site", cmd_site, "write a static history site of the store (GitHub/GitLab Pages)" },
	{ "help", cmd_help, "show help for perfgate or one command" },
};

static void print_usage(FILE *out)
{
	fprintf(out, "usage: perfgate <command> [options]\n"
		     "       perfgate <command> --help\n\n"
		     "perfgate runs declared benchmark suites, stores every run in PostgreSQL\n"
		     "tagged with its git commit and hardware, compares it against the stored\n"
		     "baseline and exits nonzero when performance regressed or an SLO broke.\n\n"
		     "commands:\n");
	for (size_t i = 0; i < ARRAY_SIZE(verbs); i++)
		fprintf(out, "  %-12s %s\n", verbs[i].name, verbs[i].summary);
	fprintf(out, "\nexit codes: 0 passed, 1 gate failed, 2 usage or invalid input,\n"
		     "            3 run invalid, 4 infrastructure (database or forge unreachable)\n"
		     "\nglobal options: --help, --version\n");
}

static void print_version(void)
{
	int pq = PQlibVersion();
	int git_major = 0, git_minor = 0, git_rev = 0;
	curl_version_info_data *curl = curl_version_info(CURLVERSION_NOW);

	git_libgit2_version(&git_major, &git_minor, &git_rev);
	printf("perfgate %s\n", PERFGATE_VERSION);
	printf("libpq %d.%d\n", pq / 10000, pq % 10000);
	printf("libcurl %s\n", curl->version);
	printf("libgit2 %d.%d.%d\n", git_major, git_minor, git_rev);
	printf("cJSON %s\n", cJSON_Version());
	printf("GSL %s\n", gsl_version);
}

static const struct verb *find_verb(const char *name)
{
	for (size_t i = 0; i < ARRAY_SIZE(verbs); i++)
		if (strcmp(verbs[i].name, name) == 0)
			return &verbs[i];
	return NULL;
}

static int unknown_verb(const char *name)
{
	const char *names[ARRAY_SIZE(verbs)];
	const char *best;

	for (size_t i = 0; i < ARRAY_SIZE(verbs); i++)
		names[i] = verbs[i].name;
	best = closest_match(name, names, ARRAY_SIZE(verbs));
	if (best)
		cmd_error("unknown command '%s'; did you mean '%s'?", name, best);
	else
		cmd_error("unknown command '%s'; see 'perfgate help'", name);
	return EXIT_USAGE;
}

static int cmd_help(int argc, char **argv)
{
	const struct verb *v;
	char *help_argv[3];

	if (argc < 2) {
		print_usage(stdout);
		return EXIT_PASS;
	}
	v = find_verb(argv[1]);
	if (!v)
		return unknown_verb(argv[1]);
	if (v->fn == cmd_help) {
		print_usage(stdout);
		return EXIT_PASS;
	}
	help_argv[0] = argv[1];
	help_argv[1] = (char *)"--help";
	help_argv[2] = NULL;
	return v->fn(2, help_argv);
}

/* Descriptors a load test may need: more connections than one client
 * address has ephemeral ports (28,232 by default) cannot be opened to one
 * target anyway.  Not more: child processes inherit the limit, and some
 * programs walk every possible descriptor (closing them, or sizing tables
 * by it), which a limit in the millions makes slow. */
#define NOFILE_WANTED 65536

/* Process-wide set-up, once, before any thread starts: libcurl's global
 * state (the load engine and the forge clients use libcurl from several
 * threads), and the soft descriptor limit (often 1024) raised towards the
 * hard one, since every connection of a load test is a descriptor. */
/* Out of memory anywhere below (core/util.h): say so and end the process
 * abnormally, never with an exit code a CI job could read as a verdict. */
static void out_of_memory(size_t n)
{
	if (n)
		fprintf(stderr, "perfgate: out of memory allocating %zu bytes\n", n);
	else
		fprintf(stderr, "perfgate: out of memory\n");
	abort();
}

static void process_init(void)
{
	struct rlimit rl;

	util_set_oom_handler(out_of_memory);
	curl_global_init(CURL_GLOBAL_DEFAULT);
	if (getrlimit(RLIMIT_NOFILE, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && rl.rlim_cur < NOFILE_WANTED) {
		rl.rlim_cur = rl.rlim_max != RLIM_INFINITY && rl.rlim_max < NOFILE_WANTED ? rl.rlim_max : NOFILE_WANTED;
		/* Refused, a load test's connections past the soft limit fail
		 * one by one, each saying so ("socket: Too many open files"). */
		(void)setrlimit(RLIMIT_NOFILE, &rl);
	}
}

int main(int argc, char **argv)
{
	const struct verb *v;
	const char *name;

	process_init();
	if (argc < 2) {
		print_usage(stderr);
		return EXIT_USAGE;
	}
	name = argv[1];
	if (strcmp(name, "--help") == 0 || strcmp(name, "-h") == 0) {
		print_usage(stdout);
		return EXIT_PASS;
	}
	if (strcmp(name, "--version") == 0 || strcmp(name, "version") == 0) {
		print_version();
		return EXIT_PASS;
	}
	if (name[0] == '-') {
		const char *globals[] = { "--help", "--version" };
		const char *best = closest_match(name, globals, ARRAY_SIZE(globals));
		if (best)
			cmd_error("unknown option '%s'; did you mean '%s'?", name, best);
		else
			cmd_error("unknown option '%s'; see 'perfgate help'", name);
		return EXIT_USAGE;
	}
	v = find_verb(name);
	if (!v)
		return unknown_verb(name);
	return v->fn(argc - 1, argv + 1);
}
