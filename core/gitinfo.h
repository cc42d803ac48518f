/*
 * gitinfo.h: what perfgate knows about the git checkout it runs in, read
 * through libgit2 (never by running `git`): the commit and branch a run is
 * tagged with (DESIGN section 1, the run document's "git" member), and the
 * history queries baseline selection needs (DESIGN section 5: ancestors of
 * the commit under test, the merge-base with a baseline branch, the remote's
 * default branch, whether the clone is shallow).
 *
 * `dir` is any folder inside a repository or worktree (NULL means "."); the
 * repository is found by walking up from it, as `git` does.  libgit2 is
 * initialised once per process on first use and kept.
 *
 * Return codes: 0; ERR_NOTFOUND when `dir` is not inside a repository or a
 * revision/ref does not exist (or has no merge-base); ERR_FAIL for anything
 * else (libgit2's message in err).  Nothing here prints or exits.
 */
#ifndef PERFGATE_GITINFO_H
#define PERFGATE_GITINFO_H

#include <stdbool.h>
#include <stddef.h>

#include "err.h"
#include "rundoc.h"

/*
 * Fill *out (which must be zeroed or released) with the checkout's commit
 * (full hex), branch, dirty flag, commit time (RFC 3339, UTC), subject
 * (first line of the message), parents, remote URL (origin, else the first
 * remote; credentials stripped) and shallow flag.
 *
 * Branch: the checked-out branch's short name; when HEAD is detached (CI
 * checkouts), the first non-empty of GITHUB_HEAD_REF, GITHUB_REF_NAME (unless
 * GITHUB_REF_TYPE is "tag"), CI_MERGE_REQUEST_SOURCE_BRANCH_NAME,
 * CI_COMMIT_REF_NAME (unless CI_COMMIT_TAG is set); else NULL.
 *
 * Dirty: a tracked file modified, added, deleted, renamed or type-changed in
 * the index or the working tree.  Untracked files (build outputs, logs) do not
 * make a tree dirty; submodules are not looked into.
 *
 * Outside a repository: *found = false, *out untouched, and 0 is returned
 * (the caller prints a notice).  A repository whose HEAD is unborn (no commit
 * yet) counts as found with commit NULL.
 */
int gitinfo_collect(const char *dir, struct rd_git *out, bool *found, struct err *err);

/* Free what gitinfo_collect (or the run-document parser) put in *g and zero it. */
void gitinfo_release(struct rd_git *g);

/*
 * Commits reachable from `commit` (inclusive), nearest first, at most
 * `limit` (0: no limit), in git's default order: newest commit time first
 * among the commits reached so far, so a commit comes before its parents
 * (unless committer clocks were skewed) and the cost grows with `limit`, not
 * with the length of the history.  `commit` may be any revision libgit2 parses ("HEAD",
 * a full or abbreviated id, "main", "origin/main").  *out is a new array of
 * *n new strings (full hex ids); free with gitinfo_strv_free(*out, *n).
 * In a shallow clone the walk ends at the shallow boundary.
 */
int gitinfo_ancestors(const char *dir, const char *commit, size_t limit, char ***out, size_t *n,
		      struct err *err);

/*
 * The merge-base of revision `a` and `b_ref` as a new full hex string in *out.
 * `b_ref` is a branch name ("main"), a remote-tracking name ("origin/main"),
 * or any revision; a bare name that is not a local branch is also tried as
 * "origin/NAME".  ERR_NOTFOUND when either side does not exist or they share
 * no history (which a shallow clone can cause).
 */
int gitinfo_merge_base(const char *dir, const char *a, const char *b_ref, char **out,
		       struct err *err);

/*
 * The remote's default branch, from refs/remotes/origin/HEAD (set by
 * `git clone`, or `git remote set-head origin --auto`), as the short branch
 * name without the remote ("main").  ERR_NOTFOUND when that ref is absent.
 */
int gitinfo_default_branch(const char *dir, char **out, struct err *err);

/* True when `dir` is inside a shallow clone; false otherwise (also outside a repository). */
bool gitinfo_is_shallow(const char *dir);

/* Resolve any revision to a new full hex id in *out (ERR_NOTFOUND when it does not exist). */
int gitinfo_resolve(const char *dir, const char *rev, char **out, struct err *err);

/* As gitinfo_resolve, but a bare name that is not a local branch is also
 * tried as "origin/NAME", as gitinfo_merge_base does. */
int gitinfo_resolve_branch(const char *dir, const char *ref, char **out, struct err *err);

/*
 * A copy of `url` with any credentials removed: the user-info part of a
 * "scheme://user:token@host/path" URL is dropped ("https://host/path");
 * scp-style "git@host:path" (which carries no secret) is kept as is.
 */
char *gitinfo_strip_credentials(const char *url);

/* The work tree of the repository `dir` is in, as a new string ending in
 * '/' (ERR_NOTFOUND outside a repository or in a bare one). */
int gitinfo_workdir(const char *dir, char **out, struct err *err);

/* The index of the repository `dir` is in, read once for many questions
 * (ERR_NOTFOUND outside a repository or in a bare one). */
struct gitinfo_index;
int gitinfo_index_open(const char *dir, struct gitinfo_index **out, struct err *err);
/* Its work tree, ending in '/'. */
const char *gitinfo_index_workdir(const struct gitinfo_index *ix);
/* Is `path` (relative to the work tree's top; a file, or a folder holding
 * one) in the index, as `git ls-files` would list it? */
bool gitinfo_index_has(const struct gitinfo_index *ix, const char *path);
void gitinfo_index_free(struct gitinfo_index *ix);

/*
 * Write the files of revision `commit` into the existing folder `dest`, as
 * a checkout of it would (filters and executable bits applied), without
 * touching the repository's index, HEAD or work tree.  Its submodules too,
 * each at the commit `commit` pins, from the submodule's checkout in the
 * work tree (its repository has that history), nested ones as well: a
 * submodule that is not checked out, or whose repository lacks the pinned
 * commit, is left empty with one line in *skipped.  A Git LFS pointer
 * (libgit2 runs no smudge filter) is replaced by its object from the
 * repository's lfs/objects when that has it, as git-lfs would; the
 * pointers it lacks are one line in *skipped.  ERR_NOTFOUND when the
 * revision does not exist.
 */
int gitinfo_export(const char *dir, const char *commit, const char *dest, struct errlist *skipped, struct err *err);

void gitinfo_strv_free(char **v, size_t n);

#endif
