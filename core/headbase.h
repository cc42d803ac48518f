/*
 * headbase.h: `perfgate gate --base REF`, the head measured beside its base
 * commit in one job (docs/gate.md, "Against a base commit").
 *
 * On a shared CI runner the machine's speed changes between jobs by more
 * than the changes a team wants to catch, so a history of runs measured in
 * other jobs can only see large ones.  Measured in the same job, with their
 * repetitions interleaved, the base and the head see the same machine, and
 * the paired test on their per-pair ratios (docs/statistics.md, "Paired
 * samples") cancels its drift.
 *
 * headbase_checkout() writes the base commit's files, its submodules'
 * included, into a temporary folder (libgit2, core/gitinfo.h): REF's own commit when it is an
 * ancestor of HEAD, else the merge-base of the two, so that the changes on
 * REF's branch since the head branched off are not counted as the head's.
 * headbase_build() runs a build command in both trees, so that both are
 * built alike.  headbase_suite() turns each command benchmark NAME into the
 * pair NAME@base (reference, run in the base tree) and NAME@head (in the
 * work tree), and gate_run() with gate_options.against_base gates on their
 * A/B rows.  headbase_release() removes the temporary tree.
 *
 * Nothing here prints; the build's output is captured (its last lines come
 * back when it fails).
 */
#ifndef PERFGATE_HEADBASE_H
#define PERFGATE_HEADBASE_H

#include "compare.h"
#include "err.h"
#include "suite.h"

struct headbase {
	struct compare_against_base base; /* ref as given, the commit measured, merge_base */
	char *head_root;    /* the repository's work tree, a real path without a trailing '/' */
	char *root;         /* the base's temporary tree, a real path; NULL before it exists */
	bool same_commit;   /* the base is HEAD's own commit (uncommitted changes aside) */
	struct errlist skipped; /* submodules not written into the base tree, one line each */
};
#define HEADBASE_INIT { { NULL, NULL, false, NULL, 0 }, NULL, NULL, false, ERRLIST_INIT }

/* Why a benchmark that failed on the base is not compared: "the base
 * commit's suite " HEADBASE_CHANGED_WHY. */
#define HEADBASE_CHANGED_WHY "lacks it or defines it otherwise: it is new or changed in this change"
/* What the base tree lacks when a benchmark defined alike fails there. */
#define HEADBASE_BASE_LACKS                                                                          \
	"the base tree holds the commit's files and the submodules checked out in the work tree only " \
	"(no ignored or untracked file, nothing built unless --build builds it): build or fetch what "  \
	"the benchmark needs with "                                                                     \
	"--build, or name such a file by its absolute path; a benchmark that was broken before this " \
	"change cannot be compared with --base"

/*
 * `--base auto`: the branch a change is gated against, as a new string: the
 * pull/merge request's target branch (GITHUB_BASE_REF,
 * CI_MERGE_REQUEST_TARGET_BRANCH_NAME), else `branch` (the suite's
 * baseline.branch; may be NULL), else the remote's default branch; as
 * origin/NAME when the clone has it, else NAME.  ERR_INPUT when none is
 * known.
 */
int headbase_auto_ref(const char *repo_dir, const char *branch, char **out, struct err *err);

/*
 * Find the base commit of `ref` (any revision; a bare branch name missing
 * locally is tried as origin/NAME) against HEAD of the repository `repo_dir`
 * is in, and write its files into a new folder under $TMPDIR (else /tmp).
 * ERR_INPUT when repo_dir is not in a repository with a work tree or ref
 * does not exist or shares no history with HEAD (err says which and why);
 * ERR_RUN when the repository could not be read or the files could not be
 * written (nothing can be measured).  A submodule that could not be
 * written (not checked out in the work tree, or without the pinned commit)
 * is a line in hb->skipped.  On failure whatever was
 * made is released.
 */
int headbase_checkout(const char *repo_dir, const char *ref, struct headbase *hb, struct err *err);

/*
 * Run `sh -c build` at the top of the base tree, then of the work tree.
 * ERR_RUN when it fails in either (err names which tree, the exit status
 * and the build's last line of output; *log, when not NULL, gets its last
 * lines, caller frees), ERR_INTERRUPTED on Ctrl-C.
 */
int headbase_build(const struct headbase *hb, const char *build, char **log, struct err *err);

/* Does --base run b: a command, or a load test that starts its own server
 * (perfgate can start the base commit's server only when it knows how)? */
bool headbase_runs(const struct suite_bench *b);

/*
 * Replace the suite's benchmarks by the pairs NAME@base and NAME@head.
 * Each runs in its tree: the benchmark's working folder (the suite's
 * folder, or its "cwd") mapped from the work tree into the base tree, an
 * absolute path to it included.  The base's SLOs are dropped (an SLO is a
 * check of the head).  hb->base.changed gets the benchmarks that the base
 * commit's version of the suite file lacks or defines with another
 * configuration hash (all of them when the base commit has no such file or
 * one that does not load; none when the suite is outside the work tree,
 * where both sides read the same file).  A benchmark with a gated metric runs at least
 * headbase_min_pairs(its alpha) pairs: a smaller declared count (fixed, or
 * the adaptive minimum) is raised, and so is *repetitions (--repetitions
 * N; <= 0 when not given), each with a line in *notes; a load test
 * HEADBASE_LOAD_EXTRA_PAIRS more.  A load test that declares its "server"
 * runs too: its base side on a free port of its own (its URL and the
 * monitor's URLs of the same server moved there; load tests of one server
 * share it).  Other load tests and ingested results are left out, each
 * with a line in *notes.  ERR_INPUT when a benchmark declares its own
 * variants, runs outside the work tree, or when nothing is left to run.
 */
int headbase_suite(struct suite *suite, struct headbase *hb, long *repetitions, struct errlist *notes,
		   struct err *err);

/* The fewest pairs with which the paired test can reach p <= alpha: with
 * every pair worse its p is 2^-n (docs/statistics.md, "Paired samples"). */
size_t headbase_min_pairs(double alpha);
/* The pairs b needs beside the base (headbase_suite) when its own
 * repetitions (the declared count, or repetitions when > 0, as
 * --repetitions N) are fewer, else 0: measuring it beside the base then
 * takes more than twice its own measuring.  *key and *in name the setting
 * that gives it enough ("repetitions", "" or " in its \"load\""). */
size_t headbase_pairs_lacking(const struct suite *suite, const struct suite_bench *b, long repetitions,
			      const char **key, const char **in);

/* A load test runs this many more: its percentiles (histogram buckets) and
 * rates (request counts) move in steps, so pairs tie, and a tie costs the
 * exact test its smallest p (7 pairs with one tie cannot reach 0.01). */
#define HEADBASE_LOAD_EXTRA_PAIRS 3

/* Did b, a base side, fail while its head side ran? */
bool headbase_failed_on_base(const struct rundoc *rd, const struct rd_bench *b);

/*
 * Did b, a base side, fail while its head ran, of a benchmark in
 * ab->changed (new or changed in this change, headbase_suite)?  Then it is
 * not compared, and the run is not invalid for it.  Any other base side
 * that fails makes the run invalid (exit 3): the base commit's suite
 * defines it the same way, so the base tree lacks what it needs.
 */
bool headbase_changed_failed_on_base(const struct compare_against_base *ab, const struct rundoc *rd,
				     const struct rd_bench *b);

/* Remove the temporary tree (never following a link out of it) and free. */
void headbase_release(struct headbase *hb);

#endif
