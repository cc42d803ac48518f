/*
 * context.h: stamp a run document with where and on what it was measured:
 * run id, git facts (core/gitinfo.h), CI context (core/cictx.h), machine facts
 * and hardware fingerprint (core/fingerprint.h), and the start time.  `run`
 * and `gate` call this once before measuring.
 */
#ifndef PERFGATE_CONTEXT_H
#define PERFGATE_CONTEXT_H

#include "err.h"
#include "rundoc.h"

/*
 * Fill rd->run_id (a new UUID unless already set), rd->git (from repo_dir,
 * NULL meaning "."), rd->ci, rd->machine and rd->fingerprint, and
 * rd->started_at (now, unless already set).  git and ci are replaced.
 *
 * Things the user should hear about but that do not stop a run go to
 * `notices` (may be NULL), one line each, no "perfgate: " prefix: not inside
 * a git repository (the run is stored without a commit), a git repository
 * that cannot be read, a failing nvidia-smi.
 *
 * nvidia-smi is PERFGATE_NVIDIA_SMI when set ("" for none), else from PATH.
 * Returns 0, or the fingerprint's error when /proc cannot be read.
 */
int context_stamp(struct rundoc *rd, const char *repo_dir, struct errlist *notices, struct err *err);

/*
 * Does the git and CI context rd claims agree with what this process sees
 * itself (git in repo_dir, NULL meaning "."; CI from the environment): the
 * same commit and branch and a clean tree (or no repository on either
 * side), the same CI provider, event, pull request and fork?  A run assembled from documents (the merge of shards'
 * runs) is trusted to be a baseline only then (docs/security.md).
 */
bool context_agrees(const struct rundoc *rd, const char *repo_dir);

/*
 * The project a run belongs to when nobody named one: the repository's name
 * from its remote URL or path ("git@host:acme/infer.git" -> "infer",
 * "/src/infer/" -> "infer"), else `fallback` as it is (NULL: "default").
 * Caller frees.
 */
char *context_project_name(const char *remote, const char *fallback);

#endif
