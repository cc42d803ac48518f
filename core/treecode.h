/*
 * treecode.h: does a benchmark run the repository's own files?
 *
 * `perfgate gate` confirms a history regression beside the base commit by
 * default (docs/gate.md, "Confirming against the base") only for the
 * benchmarks where that measures the base commit's code: a benchmark whose
 * program is installed, or named by an absolute path into the work tree,
 * would run the head's code on both sides, and the pairs would wave a real
 * regression through.  So the rule reads the command the way the shell
 * would, and says yes only when
 *
 *   - a simple command in it starts a program of the work tree by a
 *     relative path (`./build/bench`, `bin/run`), or a script of it through
 *     an interpreter (`sh bench.sh`, `python3 -m pkg.bench`, `bash -c
 *     './bench'`), after assignments, `cd DIR` and wrappers such as `exec`,
 *     `env`, `nice`, `taskset` or `timeout`;
 *   - that file is in the commit (the index), or a build command (`--build`)
 *     makes it in both trees;
 *   - no word of the command, of its environment or of its server's names
 *     a file of the work tree by its absolute path; and
 *   - the benchmark runs inside the work tree.
 *
 * A load test is judged by its own "server", the only part of it that runs
 * the repository's code; a load test without one is never confirmed.  The
 * rule errs towards "no": a benchmark it cannot read (a program found in
 * PATH such as `make bench`, a word built from variables) keeps its
 * history's verdicts, and `gate --confirm-base` confirms it anyway.
 */
#ifndef PERFGATE_TREECODE_H
#define PERFGATE_TREECODE_H

#include <stdbool.h>

#include "err.h"
#include "suite.h"

/* The work tree benchmarks are judged against: its top and its index, read
 * once for a whole suite. */
struct treecode;

/* The work tree of the repository `dir` is in; `built`: a build command
 * makes what the trees lack.  ERR_NOTFOUND outside a work tree. */
int treecode_open(const char *dir, bool built, struct treecode **out, struct err *err);
void treecode_free(struct treecode *t);

/*
 * Whether benchmark b of suite runs the files of t's work tree, as above.
 * *why (a new string) names the file that decided yes ("build/bench"), or
 * says why not ("its command starts no program or script of the
 * repository by a relative path").
 */
bool treecode_runs_tree(const struct treecode *t, const struct suite *suite, const struct suite_bench *b,
			char **why);
#endif
