/*
 * cmd.h: what every subcommand shares: its entry point, the option table
 * from which both parsing and `--help` are generated, and the mapping from
 * core/db return codes to perfgate's documented exit codes (DESIGN 7).
 */
#ifndef PERFGATE_CMD_H
#define PERFGATE_CMD_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "../core/err.h"

struct suite;
struct gate_note;

/* Exit codes (DESIGN section 7). */
enum {
	EXIT_PASS = 0,     /* passed */
	EXIT_GATE = 1,     /* gate failed: confirmed regression or SLO violated */
	EXIT_USAGE = 2,    /* usage or invalid input */
	EXIT_INVALID = 3,  /* run invalid: a benchmark failed, target unreachable, generator behind */
	EXIT_INFRA = 4     /* database or forge unreachable; results spooled */
};

/* Map a core/db return code (0 or ERR_*) to an exit code. */
int cmd_exit_code(int rc);

/* "perfgate: message" on stderr, one line. */
void cmd_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
void cmd_warn(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* "perfgate: MESSAGE": progress worth a line.  All three print one line
 * whatever they quote (control characters escaped, sb_put_printable). */
void cmd_note(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* One line on stdout (the newline added) with what it quotes made printable
 * the same way: tables of names that came from a suite, a harness or the
 * database. */
void cmd_line(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* Print err->msg as "perfgate: <msg>" and return cmd_exit_code(rc). */
int cmd_fail(int rc, const struct err *err);

enum opt_type {
	OPT_FLAG,   /* bool *dest set to true */
	OPT_STRING, /* const char **dest */
	OPT_INT,    /* long *dest, decimal, checked */
	OPT_DOUBLE, /* double *dest, checked */
	OPT_LIST    /* struct strlist *dest, repeatable */
};

struct strlist {
	const char **items;
	size_t n;
	size_t alloc;
};
#define STRLIST_INIT { .items = NULL }
void strlist_push(struct strlist *l, const char *s);
void strlist_release(struct strlist *l);

struct opt {
	const char *name;  /* long name, without "--" */
	char short_name;   /* 0 when none */
	enum opt_type type;
	void *dest;
	const char *arg;   /* placeholder shown in help, e.g. "FILE" */
	const char *help;
};

struct cmd_usage {
	const char *verb;     /* "run", "db migrate" */
	const char *synopsis; /* "[options] SUITE" */
	const char *summary;  /* one line: what the command does */
	const char *details;  /* optional paragraph after the options, may be NULL */
};

enum { OPT_OK = 0, OPT_HELP = 1, OPT_ERROR = 2 };

/*
 * Parse argv[1..] (argv[0] is the verb) against the table.  Accepts
 * "--name value", "--name=value", "-x value", "--" and `--help`/`-h`.
 * Arguments that are not options go to `positional` (which may be NULL when
 * the verb takes none).  Returns OPT_OK, OPT_HELP (help was printed to
 * stdout, or PERFGATE_PARSE_ONLY=1 asked only to check the command line), or
 * OPT_ERROR (a one-line error with a suggestion was printed).
 */
int opt_parse(const struct cmd_usage *usage, const struct opt *opts, size_t n_opts,
	      int argc, char **argv, struct strlist *positional);
void opt_print_help(const struct cmd_usage *usage, const struct opt *opts, size_t n_opts);

/* Return from a cmd_<verb> when parsing ended the command. */
#define OPT_PARSE_OR_RETURN(usage, opts, argc, argv, pos)                                   \
	do {                                                                                \
		int opt_rc_ = opt_parse(&(usage), (opts), sizeof(opts) / sizeof((opts)[0]), \
					(argc), (argv), (pos));                             \
		if (opt_rc_ == OPT_HELP)                                                    \
			return EXIT_PASS;                                                   \
		if (opt_rc_ != OPT_OK)                                                      \
			return EXIT_USAGE;                                                  \
	} while (0)

/* A count option (OPT_INT) whose variable starts as LONG_MIN ("not
 * given"): LONG_MIN becomes 0 (the default applies); a given value below 1
 * is an error (printed; false). */
bool cmd_opt_at_least_one(const char *name, long *v);

/* Before any work (a suite can run for an hour): the folder of a file
 * option (--out FILE) exists and can be written (NULL and "-" pass);
 * a --baseline SPEC has one of its forms and a file: baseline is a valid
 * run document.  Print the problem; 0 or EXIT_USAGE. */
int cmd_check_out_path(const char *option, const char *path);
int cmd_check_baseline_spec(const char *spec);

/* --tag KEY=VALUE options as an object (*out NULL when there are none).
 * Prints the error; returns 0 or EXIT_USAGE. */
int cmd_parse_tags(const struct strlist *tags, cJSON **out);

/* suite_load() with every problem printed, one per line, under a line
 * naming the file.  Returns 0 or the exit code. */
int cmd_load_suite(const char *path, struct suite **out);
/* A problem list under its heading, one indented line each: the first
 * CMD_PROBLEMS_SHOWN, then "... and N more problems". */
#define CMD_PROBLEMS_SHOWN 50
void cmd_print_problems(const struct errlist *problems);

/* runview.c: how a run looks on the terminal (`run`, `gate`). */
struct run_options;
struct rundoc;
struct cmd_progress {
	bool tty;          /* stderr is a terminal: animate with \r */
	bool quiet;
	bool drawn;        /* a \r line is on screen */
	uint64_t t_bench;  /* ns, start of the current benchmark */
};
/* Progress on stderr for the run ro describes (p must outlive the run). */
void cmd_progress_attach(struct cmd_progress *p, bool quiet, struct run_options *ro);
/* The gate pipeline's notes (core/gate.h) as they happen: errors and
 * warnings always, progress unless *(bool *)quiet. */
void cmd_print_note(void *quiet, const struct gate_note *note);
/* A run the store refused as input (r->store_rc ERR_INPUT: the database
 * would never take it, so it was not spooled): keep it in the spool's
 * quarantine folder and say where. */
struct gate_result;
void cmd_quarantine_run(const struct gate_result *r);
/* The summary table of a run on stdout (runtable.c): per benchmark the
 * single metrics' median with its confidence interval, min, max, n, with
 * failures, the tail of stderr and warnings under each benchmark; then each
 * distribution's statistics in one row, and the metrics that were 0 in every
 * repetition named on one line.  all: every metric in a row of the first
 * kind. */
void cmd_run_table(const struct rundoc *rd, bool all);
/* --requests FILE (run, gate): the per-request records writer for the
 * whole run (core/http/records.h).  open prints why it cannot and returns
 * the exit code (2), else 0; close returns code, or 3 when records were
 * lost (it says how many and why). */
struct http_records;
int cmd_records_open(const char *path, struct http_records **out);
int cmd_records_close(struct http_records *r, int code);

/* `gate --plots DIR`: trend and latency plots of the run against its baseline. */
struct gate_result;
void cmd_gate_plots(const char *dir, const struct gate_result *r);

/* Subcommands: one file each, cmd/<verb>.c. */
int cmd_run(int argc, char **argv);
int cmd_compare(int argc, char **argv);
int cmd_gate(int argc, char **argv);
int cmd_push(int argc, char **argv);
int cmd_history(int argc, char **argv);
int cmd_site(int argc, char **argv);
int cmd_plot(int argc, char **argv);
int cmd_report(int argc, char **argv);
int cmd_ingest(int argc, char **argv);
int cmd_fingerprint(int argc, char **argv);
int cmd_probe(int argc, char **argv);
int cmd_db(int argc, char **argv);
int cmd_store(int argc, char **argv);
int cmd_merge(int argc, char **argv);

/* Subcommand tables (used by `db` and `plot`): dispatch argv[1] or print a
 * one-line error with the closest name. */
struct subcmd {
	const char *name;
	int (*fn)(int argc, char **argv);
	const char *summary;
};
int subcmd_dispatch(const char *verb, const struct subcmd *table, size_t n, int argc, char **argv);

#endif
