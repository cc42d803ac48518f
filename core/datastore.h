/*
 * datastore.h: results kept on a git branch of the project's own repository
 * (default "perfgate-data"), so that CI without a database server still has
 * a history: each job fills the embedded database from the branch at its
 * start and appends its new runs at its end (docs/ci.md).  Nothing here
 * touches the database (cmd/store.c joins the two).
 *
 * Objects (blobs, trees, commits) are read and written in-process with
 * libgit2.  Fetch and push run the git program (core/proc.h): it honours
 * everything a CI checkout sets up for it (GitHub's http.extraheader token,
 * GitLab's token in the URL, SSH agents, credential helpers, proxies) and
 * its receive-pack updates the remote branch only if it still points where
 * the push started from, which libgit2 1.5's transport for local paths does
 * not promise.
 *
 * The branch holds one file per run, append-only and content-addressed:
 *
 *   runs/<xx>/<run_id>.<hash>.json.gz
 *
 * xx is the run id's first two hex digits (256 folders keep every tree git
 * rewrites on a push small); hash is the first 32 hex digits of the SHA-256
 * of the file's uncompressed bytes, checked on every read, so a damaged file
 * is found and skipped, never imported.  The file is gzip'ed JSON:
 *
 *   {"format": "perfgate-run", "version": 1, "run": {run document},
 *    "comparison": {the gate's comparison} or null}
 *
 * Two jobs pushing at once never touch the same path: a push that loses the
 * race is replayed on the new tip (fetch, the same additions and removals,
 * a new commit) and retried.  A job killed mid-push leaves the branch as it
 * was: the remote's ref moves only when the whole commit has arrived.
 *
 * Retention (datastore_stage_prune) rewrites old runs without their raw
 * samples (summaries stay: the history keeps its medians and confidence
 * intervals), so the branch grows by summaries, not samples.
 */
#ifndef PERFGATE_DATASTORE_H
#define PERFGATE_DATASTORE_H

#include <stdbool.h>
#include <stddef.h>

#include <cjson/cJSON.h>

#include "err.h"

#define DATASTORE_BRANCH "perfgate-data"
#define DATASTORE_FORMAT "perfgate-run"
#define DATASTORE_VERSION 1

struct datastore_options {
	const char *repo;     /* a git working tree or bare repository; NULL: "." */
	const char *remote;   /* a remote's name or a URL or path; NULL: "origin"; "" : none (local branch only) */
	const char *branch;   /* NULL: DATASTORE_BRANCH */
	int retries;          /* pushes after the first one that lost a race; <= 0: 8 */
	const char *token;    /* HTTP token for fetch and push (basic auth, user token_user),
				 passed to git through its environment; NULL: git's own credentials */
	const char *token_user; /* NULL: "x-access-token" */
};
#define DATASTORE_OPTIONS_INIT { .repo = NULL, .retries = 8 }

struct datastore;

/* Open the repository (libgit2 finds it from any folder inside it). */
int datastore_open(struct datastore **out, const struct datastore_options *opts, struct err *err);
void datastore_free(struct datastore *ds);

/*
 * Fetch the branch from the remote into a private ref of the repository
 * (refs/perfgate/fetched/<branch>, which no git command shows by default)
 * and make it the tip that list/read see.
 * A branch that does not exist yet is an empty store, not an error.  With
 * no remote, the tip is the local refs/heads/<branch>.
 */
int datastore_fetch(struct datastore *ds, struct err *err);

/* The tip's commit id (40 hex digits), "" when the branch is empty. */
const char *datastore_tip(const struct datastore *ds);

struct datastore_entry {
	char *path;           /* runs/xx/<run_id>.<hash>.json.gz */
	char run_id[37];
	char hash[33];
	unsigned char oid[20];/* the blob */
};

/*
 * The run files at the tip, sorted by path.  Files under runs/ whose names
 * do not have the form above are reported in *odd (caller frees with
 * datastore_entries_free; may be NULL) and otherwise ignored.
 */
int datastore_list(struct datastore *ds, struct datastore_entry **out, size_t *n,
		   struct datastore_entry **odd, size_t *n_odd, struct err *err);
void datastore_entries_free(struct datastore_entry *e, size_t n);

/*
 * Read one file: decompress, check its hash and form, parse.  *out is the
 * whole object (caller cJSON_Deletes); its "run" member is the run document.
 * ERR_INPUT with a message naming the path when the file is damaged.
 */
int datastore_read(struct datastore *ds, const struct datastore_entry *e, cJSON **out,
		   struct err *err);

/*
 * Stage a run for the next push: the run document's JSON and the comparison
 * (may be NULL); its file's blob is written to the repository now.  Staging
 * the same content twice is harmless; a run whose id is already on the
 * branch is not added again at push time.  ERR_INPUT without a run id.
 */
int datastore_stage_run(struct datastore *ds, const cJSON *run, const cJSON *comparison, struct err *err);

/*
 * Stage retention: per series of runs (project, suite, branch, machine),
 * every run after the newest `keep_samples` (by start time) is rewritten
 * without raw samples, histograms and time series: only its summaries stay.
 * *pruned counts the runs staged so.  Reads every run file at the tip.
 */
int datastore_stage_prune(struct datastore *ds, size_t keep_samples, size_t *pruned,
			  struct err *err);

/*
 * Commit what is staged on top of the branch tip and push it; when the push
 * loses a race with another job, fetch, replay and retry (with a random
 * backoff), up to opts.retries times.  Nothing staged, or nothing new,
 * pushes nothing.  ERR_INFRA when the remote cannot be reached or keeps
 * refusing.
 */
struct datastore_pushed {
	size_t added;          /* files the pushed commit added */
	size_t removed;        /* ... and removed (retention replaces files) */
	int attempts;          /* pushes tried; > 1 when another job pushed first */
};
int datastore_push(struct datastore *ds, const char *message, struct datastore_pushed *out,
		   struct err *err);

/* Gzip with fixed header fields (the same bytes for the same input) and back. */
int datastore_gzip(const void *data, size_t len, unsigned char **out, size_t *out_len,
		   struct err *err);
int datastore_gunzip(const void *data, size_t len, size_t max_out, char **out, size_t *out_len,
		     struct err *err);

#endif
