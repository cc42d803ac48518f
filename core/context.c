/*
 * context.c: the run document's git, CI and machine context.  See context.h.
 */
#include "context.h"

#include <stdlib.h>
#include <string.h>

#include "cictx.h"
#include "fingerprint.h"
#include "gitinfo.h"
#include "util.h"

static void notice(struct errlist *l, const char *msg)
{
	if (l)
		errlist_add(l, "%s", msg);
}

/* The last path component of s (trailing slashes and a ".git" dropped), or NULL. */
static char *repo_basename(const char *s)
{
	const char *end = s + strlen(s), *base;

	while (end > s && end[-1] == '/')
		end--;
	if (end - s > 4 && strncmp(end - 4, ".git", 4) == 0)
		end -= 4;
	base = end;
	while (base > s && base[-1] != '/' && base[-1] != ':')
		base--;
	return end > base ? xstrndup(base, (size_t)(end - base)) : NULL;
}

char *context_project_name(const char *remote, const char *fallback)
{
	char *name = remote && *remote ? repo_basename(remote) : NULL;

	return name ? name : xstrdup(fallback ? fallback : "default");
}

int context_stamp(struct rundoc *rd, const char *repo_dir, struct errlist *notices, struct err *err)
{
	struct fingerprint_sources src = FINGERPRINT_SOURCES_INIT;
	struct err gerr = ERR_INIT;
	char hash[65];
	cJSON *facts = NULL;
	const cJSON *gpu_error;
	bool found = false;
	int rc;

	if (!rd->run_id) {
		char id[37];
		rundoc_uuid(id);
		rd->run_id = xstrdup(id);
	}
	if (!rd->started_at) {
		char now[40];
		time_rfc3339(now, sizeof(now));
		rd->started_at = xstrdup(now);
	}

	gitinfo_release(&rd->git);
	rc = gitinfo_collect(repo_dir, &rd->git, &found, &gerr);
	if (rc) {
		/* A repository we cannot read must not cost the measurement. */
		char *m = xasprintf("cannot read git information: %s; the run has no commit", gerr.msg);
		notice(notices, m);
		free(m);
	} else if (!found) {
		/* true whether or not the run is stored (--no-store) */
		char *m = xasprintf("'%s' is not inside a git repository: the run has no commit, so no baseline "
				    "is chosen for it and it never becomes one (run inside the checkout, or --repo DIR)",
				    repo_dir ? repo_dir : ".");
		notice(notices, m);
		free(m);
	}

	cictx_release(&rd->ci);
	cictx_detect(&rd->ci);
	/* git and ci are now what this process saw itself. */
	rd->context_trusted = true;

	src.nvidia_smi = getenv("PERFGATE_NVIDIA_SMI");
	if ((rc = fingerprint_collect(&src, &facts, hash, err))) {
		err_prefix(err, "cannot read the machine's facts");
		return rc;
	}
	gpu_error = cJSON_GetObjectItemCaseSensitive(facts, "gpu_error");
	if (cJSON_IsString(gpu_error)) {
		char *m = xasprintf("no GPU facts: %s", gpu_error->valuestring);
		notice(notices, m);
		free(m);
	}
	cJSON_Delete(rd->machine);
	rd->machine = facts;
	free(rd->fingerprint);
	rd->fingerprint = xstrdup(hash);
	return 0;
}

static bool same(const char *a, const char *b)
{
	return (!a && !b) || (a && b && strcmp(a, b) == 0);
}

bool context_agrees(const struct rundoc *rd, const char *repo_dir)
{
	struct rd_git git = { 0 };
	struct rd_ci ci;
	struct err err = ERR_INIT;
	bool found = false, agree;

	cictx_detect(&ci);
	agree = gitinfo_collect(repo_dir, &git, &found, &err) == 0 &&
		/* the same clean commit, or no repository on either side */
		(found ? git.commit && same(git.commit, rd->git.commit) && same(git.branch, rd->git.branch) &&
			 !git.dirty && !rd->git.dirty
		       : !rd->git.commit) &&
		same(ci.provider, rd->ci.provider) && same(ci.event, rd->ci.event) && ci.pr == rd->ci.pr &&
		ci.fork == rd->ci.fork;
	gitinfo_release(&git);
	cictx_release(&ci);
	return agree;
}
