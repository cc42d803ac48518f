/*
 * gitinfo.c: git facts for the run document and history queries for
 * baseline selection, through libgit2.  See gitinfo.h.
 */
#include "gitinfo.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include <git2.h>

#include "util.h"

static pthread_once_t git_once = PTHREAD_ONCE_INIT;

/* libgit2 keeps global state (TLS, caches); one init per process is enough and
 * is never undone, since other threads may still use it at exit. */
static void git_init_once(void)
{
	git_libgit2_init();
	/* perfgate only reads commit metadata and runs nothing from the
	 * repository's config, and CI jobs often run as root over a checkout
	 * owned by another user (containers): git's safe.directory ownership
	 * check would only turn those runs into runs without a commit. */
	git_libgit2_opts(GIT_OPT_SET_OWNER_VALIDATION, 0);
}

static void git_init(void)
{
	pthread_once(&git_once, git_init_once);
}

static const char *git_msg(void)
{
	const git_error *e = git_error_last();

	return e && e->message ? e->message : "unknown libgit2 error";
}

/* Map a libgit2 failure to our codes with a message naming what we tried. */
static int git_fail(struct err *err, int grc, const char *what, const char *subject)
{
	int code = (grc == GIT_ENOTFOUND || grc == GIT_EAMBIGUOUS || grc == GIT_EINVALIDSPEC)
			   ? ERR_NOTFOUND
			   : ERR_FAIL;

	if (subject)
		return err_set(err, code, "%s '%s': %s", what, subject, git_msg());
	return err_set(err, code, "%s: %s", what, git_msg());
}

static int repo_open(git_repository **repo, const char *dir, struct err *err)
{
	const char *d = dir ? dir : ".";
	int grc;

	git_init();
	/* FROM_ENV: honour GIT_DIR, GIT_WORK_TREE, GIT_CEILING_DIRECTORIES like git. */
	grc = git_repository_open_ext(repo, d, GIT_REPOSITORY_OPEN_FROM_ENV, NULL);
	if (grc == GIT_ENOTFOUND)
		return err_set(err, ERR_NOTFOUND, "'%s' is not inside a git repository", d);
	if (grc < 0)
		return git_fail(err, grc, "cannot open the git repository at", d);
	return 0;
}

static char *oid_str(const git_oid *oid)
{
	char buf[GIT_OID_HEXSZ + 1];

	git_oid_tostr(buf, sizeof(buf), oid);
	return xstrdup(buf);
}

void gitinfo_strv_free(char **v, size_t n)
{
	if (!v)
		return;
	for (size_t i = 0; i < n; i++)
		free(v[i]);
	free(v);
}

void gitinfo_release(struct rd_git *g)
{
	free(g->commit);
	free(g->branch);
	free(g->commit_time);
	free(g->subject);
	gitinfo_strv_free(g->parents, g->n_parents);
	free(g->remote);
	memset(g, 0, sizeof(*g));
}

char *gitinfo_strip_credentials(const char *url)
{
	const char *scheme_end, *auth, *host_end, *at;
	struct sb sb = SB_INIT;

	if (!url)
		return NULL;
	scheme_end = strstr(url, "://");
	if (!scheme_end)
		return xstrdup(url); /* scp-like "user@host:path" or a local path */
	auth = scheme_end + 3;
	host_end = auth + strcspn(auth, "/?#");
	/* The last '@' of the authority ends the user info (a token may contain none, a password may). */
	at = NULL;
	for (const char *p = auth; p < host_end; p++)
		if (*p == '@')
			at = p;
	if (!at)
		return xstrdup(url);
	sb_add(&sb, url, (size_t)(auth - url));
	sb_puts(&sb, at + 1);
	return sb_detach(&sb);
}

/* The branch name CI tells us about when the checkout is detached. */
static const char *ci_branch(void)
{
	const char *v, *t;

	if ((v = getenv("GITHUB_HEAD_REF")) && *v)
		return v;
	t = getenv("GITHUB_REF_TYPE");
	if ((v = getenv("GITHUB_REF_NAME")) && *v && !(t && strcmp(t, "tag") == 0))
		return v;
	if ((v = getenv("CI_MERGE_REQUEST_SOURCE_BRANCH_NAME")) && *v)
		return v;
	t = getenv("CI_COMMIT_TAG");
	if ((v = getenv("CI_COMMIT_REF_NAME")) && *v && !(t && *t))
		return v;
	return NULL;
}

static char *format_time(git_time_t t)
{
	char buf[32];
	time_t tt = (time_t)t;
	struct tm tm;

	if (!gmtime_r(&tt, &tm))
		return NULL;
	strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%SZ", &tm);
	return xstrdup(buf);
}

/*
 * Files git was told not to look at (`update-index --assume-unchanged` or
 * `--skip-worktree`) are invisible to a status walk, so a change hidden that
 * way would be recorded as a clean tree.  Hash each such file as it is in
 * the working tree (with the repository's filters, as `git add` would) and
 * compare with the index.  A skip-worktree file that is absent is a sparse
 * checkout, not a change.
 */
static int hidden_changes(git_repository *repo, bool *dirty, struct err *err)
{
	git_index *index = NULL;
	const char *workdir = git_repository_workdir(repo);
	int grc;

	if ((grc = git_repository_index(&index, repo)) < 0)
		return git_fail(err, grc, "cannot read the index", NULL);
	for (size_t i = 0, n = git_index_entrycount(index); i < n && !*dirty; i++) {
		const git_index_entry *e = git_index_get_byindex(index, i);
		bool valid = e && (e->flags & GIT_INDEX_ENTRY_VALID);
		bool skip = e && (e->flags_extended & GIT_INDEX_ENTRY_SKIP_WORKTREE);
		git_oid now;
		char *path;

		if (!valid && !skip)
			continue;
		path = xasprintf("%s%s", workdir, e->path);
		if (access(path, F_OK) != 0)
			*dirty = !skip; /* assume-unchanged but deleted: a change */
		else if (git_repository_hashfile(&now, repo, path, GIT_OBJECT_BLOB, NULL) < 0 ||
			 !git_oid_equal(&now, &e->id))
			*dirty = true;
		free(path);
	}
	git_index_free(index);
	return 0;
}

/* A file "deleted" from the working tree that the index marks skip-worktree
 * is a sparse checkout's absent file (libgit2's status does not know the
 * flag; git's does). */
static bool sparse_absent(git_repository *repo, const git_status_entry *e)
{
	const char *path = e->index_to_workdir ? e->index_to_workdir->old_file.path : NULL;
	const git_index_entry *ie;
	git_index *index = NULL;
	bool skip = false;

	if (!path || git_repository_index(&index, repo) < 0)
		return false;
	ie = git_index_get_bypath(index, path, 0);
	skip = ie && (ie->flags_extended & GIT_INDEX_ENTRY_SKIP_WORKTREE);
	git_index_free(index);
	return skip;
}

static int repo_dirty(git_repository *repo, bool *dirty, struct err *err)
{
	git_status_options opts;
	git_status_list *list = NULL;
	size_t n;
	int grc;

	*dirty = false;
	if (git_repository_is_bare(repo))
		return 0;
	/* libgit2's GIT_STATUS_OPTIONS_INIT is positional; its init function is not. */
	grc = git_status_options_init(&opts, GIT_STATUS_OPTIONS_VERSION);
	if (grc < 0)
		return git_fail(err, grc, "cannot read the status of the working tree", NULL);
	opts.show = GIT_STATUS_SHOW_INDEX_AND_WORKDIR;
	opts.flags = GIT_STATUS_OPT_EXCLUDE_SUBMODULES;
	grc = git_status_list_new(&list, repo, &opts);
	if (grc < 0)
		return git_fail(err, grc, "cannot read the status of the working tree", NULL);
	n = git_status_list_entrycount(list);
	for (size_t i = 0; i < n; i++) {
		const git_status_entry *e = git_status_byindex(list, i);
		if (e && e->status == GIT_STATUS_WT_DELETED && sparse_absent(repo, e))
			continue;
		if (e && e->status != GIT_STATUS_CURRENT && !(e->status & GIT_STATUS_IGNORED) &&
		    e->status != GIT_STATUS_WT_NEW) {
			*dirty = true;
			break;
		}
	}
	git_status_list_free(list);
	return *dirty ? 0 : hidden_changes(repo, dirty, err);
}

/* First "remote.NAME.url" in config order, for repositories without "origin". */
static int first_remote_cb(const git_config_entry *e, void *payload)
{
	char **url = payload;
	size_t len = strlen(e->name);

	if (strncmp(e->name, "remote.", 7) == 0 && len > 11 && strcmp(e->name + len - 4, ".url") == 0 &&
	    e->value) {
		*url = xstrdup(e->value);
		return 1; /* stop */
	}
	return 0;
}

/*
 * The remote URL straight from the config: git_remote_lookup and
 * git_remote_list go through libgit2's regex config lookups, which leak with
 * PCRE2 in libgit2 1.5 (Debian 12), one allocation per call.
 */
static char *remote_url(git_repository *repo)
{
	git_config *cfg = NULL;
	git_buf buf = GIT_BUF_INIT;
	char *raw = NULL, *url = NULL;

	if (git_repository_config_snapshot(&cfg, repo) < 0)
		goto done;
	if (git_config_get_string_buf(&buf, cfg, "remote.origin.url") == 0)
		raw = xstrdup(buf.ptr);
	else
		git_config_foreach(cfg, first_remote_cb, &raw);
	url = gitinfo_strip_credentials(raw);
done:
	free(raw);
	git_buf_dispose(&buf);
	git_config_free(cfg);
	git_error_clear();
	return url;
}

/*
 * The parents the commit object records, read from its raw header: a shallow
 * clone's boundary commit still names its real parents (which the clone does
 * not have), and libgit2 versions differ in whether they hide them.
 */
static void commit_parents(const git_commit *commit, char ***out, size_t *n)
{
	const char *h = git_commit_raw_header(commit);
	size_t alloc = 0;

	*out = NULL;
	*n = 0;
	while (h && *h) {
		size_t len = strcspn(h, "\n");
		if (len >= 7 + GIT_OID_HEXSZ && strncmp(h, "parent ", 7) == 0) {
			XGROW(*out, alloc, *n + 1);
			(*out)[(*n)++] = xstrndup(h + 7, GIT_OID_HEXSZ);
		}
		h += len;
		if (*h == '\n')
			h++;
	}
}

int gitinfo_collect(const char *dir, struct rd_git *out, bool *found, struct err *err)
{
	git_repository *repo = NULL;
	git_reference *head = NULL;
	git_commit *commit = NULL;
	struct rd_git g;
	int rc = 0, grc;

	memset(&g, 0, sizeof(g));
	*found = false;
	rc = repo_open(&repo, dir, err);
	if (rc == ERR_NOTFOUND) {
		err_clear(err);
		return 0;
	}
	if (rc)
		return rc;

	g.shallow = git_repository_is_shallow(repo) == 1;
	g.remote = remote_url(repo);

	grc = git_repository_head(&head, repo);
	if (grc == GIT_EUNBORNBRANCH || grc == GIT_ENOTFOUND) {
		/* A fresh repository with no commit: found, but nothing to tag with. */
		head = NULL;
	} else if (grc < 0) {
		rc = git_fail(err, grc, "cannot read HEAD", NULL);
		goto done;
	}

	if (head) {
		if (git_reference_is_branch(head)) {
			g.branch = xstrdup(git_reference_shorthand(head));
		} else {
			const char *b = ci_branch();
			if (b)
				g.branch = xstrdup(b);
		}
		grc = git_reference_peel((git_object **)&commit, head, GIT_OBJECT_COMMIT);
		if (grc < 0) {
			rc = git_fail(err, grc, "cannot read the commit HEAD points to", NULL);
			goto done;
		}
		g.commit = oid_str(git_commit_id(commit));
		g.commit_time = format_time(git_commit_time(commit));
		if (git_commit_summary(commit))
			g.subject = xstrdup(git_commit_summary(commit));
		commit_parents(commit, &g.parents, &g.n_parents);
	} else {
		const char *b = ci_branch();
		if (b)
			g.branch = xstrdup(b);
	}

	if ((rc = repo_dirty(repo, &g.dirty, err)))
		goto done;

	*out = g;
	memset(&g, 0, sizeof(g));
	*found = true;
done:
	gitinfo_release(&g);
	git_commit_free(commit);
	git_reference_free(head);
	git_repository_free(repo);
	return rc;
}

static int resolve_commit(git_repository *repo, const char *rev, git_oid *oid, struct err *err)
{
	git_object *obj = NULL;
	git_object *peeled = NULL;
	int grc;

	if (!rev || !*rev)
		return err_set(err, ERR_NOTFOUND, "no git revision given");
	grc = git_revparse_single(&obj, repo, rev);
	if (grc < 0)
		return err_set(err, ERR_NOTFOUND, "unknown git revision '%s'", rev);
	grc = git_object_peel(&peeled, obj, GIT_OBJECT_COMMIT);
	git_object_free(obj);
	if (grc < 0)
		return err_set(err, ERR_NOTFOUND, "git revision '%s' is not a commit", rev);
	git_oid_cpy(oid, git_object_id(peeled));
	git_object_free(peeled);
	return 0;
}

int gitinfo_resolve(const char *dir, const char *rev, char **out, struct err *err)
{
	git_repository *repo = NULL;
	git_oid oid;
	int rc;

	*out = NULL;
	if ((rc = repo_open(&repo, dir, err)))
		return rc;
	if ((rc = resolve_commit(repo, rev, &oid, err)) == 0)
		*out = oid_str(&oid);
	git_repository_free(repo);
	return rc;
}

/*
 * The history walk for a shallow clone, whose boundary commits name parents
 * the clone lacks (libgit2's revwalk fails on those): newest commit time
 * first among the commits reached so far, stopping at missing parents.  A
 * shallow history is short, so the quadratic bookkeeping does not matter.
 */
static int shallow_walk(git_repository *repo, const git_oid *start, size_t limit, char ***v,
			size_t *count, size_t *alloc, const char *what, struct err *err)
{
	git_commit **frontier = NULL;
	git_oid *seen = NULL;
	size_t n_front = 0, a_front = 0, n_seen = 0, a_seen = 0;
	git_commit *c = NULL;
	int rc = 0, grc;

	if ((grc = git_commit_lookup(&c, repo, start)) < 0) {
		rc = git_fail(err, grc, "cannot walk the history of", what);
		goto done;
	}
	XGROW(frontier, a_front, 1);
	frontier[n_front++] = c;
	XGROW(seen, a_seen, 1);
	git_oid_cpy(&seen[n_seen++], start);
	while (n_front > 0 && (limit == 0 || *count < limit)) {
		size_t best = 0;
		unsigned int np;

		for (size_t i = 1; i < n_front; i++)
			if (git_commit_time(frontier[i]) > git_commit_time(frontier[best]))
				best = i;
		c = frontier[best];
		frontier[best] = frontier[--n_front];
		XGROW(*v, *alloc, *count + 1);
		(*v)[(*count)++] = oid_str(git_commit_id(c));
		np = git_commit_parentcount(c);
		for (unsigned int i = 0; i < np; i++) {
			const git_oid *pid = git_commit_parent_id(c, i);
			git_commit *p = NULL;
			bool dup = false;

			for (size_t j = 0; j < n_seen && !dup; j++)
				dup = git_oid_equal(&seen[j], pid);
			if (dup)
				continue;
			XGROW(seen, a_seen, n_seen + 1);
			git_oid_cpy(&seen[n_seen++], pid);
			if (git_commit_lookup(&p, repo, pid) < 0)
				continue; /* beyond the shallow boundary */
			XGROW(frontier, a_front, n_front + 1);
			frontier[n_front++] = p;
		}
		git_commit_free(c);
	}
done:
	for (size_t i = 0; i < n_front; i++)
		git_commit_free(frontier[i]);
	free(frontier);
	free(seen);
	git_error_clear();
	return rc;
}

int gitinfo_ancestors(const char *dir, const char *commit, size_t limit, char ***out, size_t *n,
		      struct err *err)
{
	git_repository *repo = NULL;
	git_revwalk *walk = NULL;
	char **v = NULL;
	size_t count = 0, alloc = 0;
	git_oid oid;
	int rc, grc;

	*out = NULL;
	*n = 0;
	if ((rc = repo_open(&repo, dir, err)))
		return rc;
	if ((rc = resolve_commit(repo, commit, &oid, err)))
		goto done;
	if (git_repository_is_shallow(repo) == 1) {
		rc = shallow_walk(repo, &oid, limit, &v, &count, &alloc, commit, err);
		if (rc)
			goto done;
		goto out;
	}
	if ((grc = git_revwalk_new(&walk, repo)) < 0 ||
	    /* git's default order, newest commit time first, is produced as the
	     * walk goes; libgit2's TOPOLOGICAL and TIME sorts first read the whole
	     * history (1.6 s for 50,000 commits even for a limit of 50). */
	    (grc = git_revwalk_sorting(walk, GIT_SORT_NONE)) < 0 ||
	    (grc = git_revwalk_push(walk, &oid)) < 0) {
		rc = git_fail(err, grc, "cannot walk the history of", commit);
		goto done;
	}
	while (limit == 0 || count < limit) {
		grc = git_revwalk_next(&oid, walk);
		if (grc == GIT_ITEROVER)
			break;
		if (grc < 0) {
			rc = git_fail(err, grc, "cannot walk the history of", commit);
			goto done;
		}
		XGROW(v, alloc, count + 1);
		v[count++] = oid_str(&oid);
	}
out:
	*out = v;
	*n = count;
	v = NULL;
	count = 0;
done:
	gitinfo_strv_free(v, count);
	git_revwalk_free(walk);
	git_repository_free(repo);
	return rc;
}

/* "main" may exist only as origin/main in a CI checkout: a name that is not a
 * local branch but is a branch of origin means that one. */
static const char *pick_branch(git_repository *repo, const char *name, char *buf, size_t len)
{
	git_reference *ref = NULL;
	int n;

	if (git_branch_lookup(&ref, repo, name, GIT_BRANCH_LOCAL) == 0) {
		git_reference_free(ref);
		return name;
	}
	n = snprintf(buf, len, "refs/remotes/origin/%s", name);
	if (n > 0 && (size_t)n < len && git_reference_lookup(&ref, repo, buf) == 0) {
		git_reference_free(ref);
		return buf;
	}
	return name;
}

static int cmp_id(const void *x, const void *y)
{
	return strcmp(*(char *const *)x, *(char *const *)y);
}

/*
 * The merge-base in a shallow clone, where libgit2's fails at the boundary
 * (a parent the clone lacks) even when the answer is inside the clone: the
 * newest of b's ancestors that a reaches too (a's ids sorted, each of b's
 * looked up: a deep "shallow" clone stays n log n).
 */
static int shallow_merge_base(git_repository *repo, const git_oid *a, const git_oid *b, const char *a_name,
			      const char *b_name, char **out, struct err *err)
{
	char **va = NULL, **vb = NULL;
	size_t na = 0, alloc_a = 0, nb = 0, alloc_b = 0;
	int rc;

	if ((rc = shallow_walk(repo, a, 0, &va, &na, &alloc_a, a_name, err)) == 0 &&
	    (rc = shallow_walk(repo, b, 0, &vb, &nb, &alloc_b, b_name, err)) == 0) {
		if (na > 1)
			qsort(va, na, sizeof(*va), cmp_id);
		for (size_t i = 0; i < nb && !*out; i++)
			if (na && bsearch(&vb[i], va, na, sizeof(*va), cmp_id))
				*out = xstrdup(vb[i]);
		if (!*out)
			rc = err_set(err, ERR_NOTFOUND, "'%s' and '%s' have no common ancestor in this shallow clone",
				     a_name, b_name);
	}
	gitinfo_strv_free(va, na);
	gitinfo_strv_free(vb, nb);
	return rc;
}

int gitinfo_resolve_branch(const char *dir, const char *ref, char **out, struct err *err)
{
	git_repository *repo = NULL;
	git_oid oid;
	char buf[512];
	int rc;

	*out = NULL;
	if ((rc = repo_open(&repo, dir, err)))
		return rc;
	if ((rc = resolve_commit(repo, ref && *ref ? pick_branch(repo, ref, buf, sizeof(buf)) : ref, &oid, err)) == 0)
		*out = oid_str(&oid);
	git_repository_free(repo);
	return rc;
}

int gitinfo_merge_base(const char *dir, const char *a, const char *b_ref, char **out,
		       struct err *err)
{
	git_repository *repo = NULL;
	git_oid oa, ob, base;
	char buf[512];
	int rc, grc;

	*out = NULL;
	if ((rc = repo_open(&repo, dir, err)))
		return rc;
	if ((rc = resolve_commit(repo, a, &oa, err)))
		goto done;
	if (!b_ref || !*b_ref) {
		rc = err_set(err, ERR_NOTFOUND, "no branch given for the merge-base");
		goto done;
	}
	if ((rc = resolve_commit(repo, pick_branch(repo, b_ref, buf, sizeof(buf)), &ob, err)))
		goto done;
	/* In a shallow clone libgit2's merge-base fails at the boundary even
	 * when the answer is inside the clone (and leaks on that path, 1.5):
	 * walk instead. */
	if (git_repository_is_shallow(repo) == 1) {
		rc = shallow_merge_base(repo, &oa, &ob, a, b_ref, out, err);
		goto done;
	}
	grc = git_merge_base(&base, repo, &oa, &ob);
	if (grc == GIT_ENOTFOUND) {
		rc = err_set(err, ERR_NOTFOUND, "'%s' and '%s' have no common ancestor%s", a, b_ref,
			     git_repository_is_shallow(repo) == 1 ? " in this shallow clone" : "");
		goto done;
	}
	if (grc < 0) {
		rc = git_fail(err, grc, "cannot find the merge-base with", b_ref);
		goto done;
	}
	*out = oid_str(&base);
done:
	git_repository_free(repo);
	return rc;
}

int gitinfo_default_branch(const char *dir, char **out, struct err *err)
{
	static const char prefix[] = "refs/remotes/origin/";
	git_repository *repo = NULL;
	git_reference *ref = NULL;
	const char *target;
	int rc, grc;

	*out = NULL;
	if ((rc = repo_open(&repo, dir, err)))
		return rc;
	grc = git_reference_lookup(&ref, repo, "refs/remotes/origin/HEAD");
	if (grc < 0 || git_reference_type(ref) != GIT_REFERENCE_SYMBOLIC) {
		rc = err_set(err, ERR_NOTFOUND,
			     "the remote's default branch is unknown (no refs/remotes/origin/HEAD; "
			     "'git remote set-head origin --auto' sets it)");
		goto done;
	}
	target = git_reference_symbolic_target(ref);
	if (strncmp(target, prefix, sizeof(prefix) - 1) == 0)
		*out = xstrdup(target + sizeof(prefix) - 1);
	else
		*out = xstrdup(target);
done:
	git_reference_free(ref);
	git_repository_free(repo);
	return rc;
}

bool gitinfo_is_shallow(const char *dir)
{
	git_repository *repo = NULL;
	bool shallow;

	if (repo_open(&repo, dir, NULL))
		return false;
	shallow = git_repository_is_shallow(repo) == 1;
	git_repository_free(repo);
	return shallow;
}

int gitinfo_workdir(const char *dir, char **out, struct err *err)
{
	git_repository *repo = NULL;
	const char *wd;
	int rc;

	*out = NULL;
	if ((rc = repo_open(&repo, dir, err)))
		return rc;
	wd = git_repository_workdir(repo);
	if (!wd)
		rc = err_set(err, ERR_NOTFOUND, "the git repository at '%s' is bare: it has no work tree",
			     dir ? dir : ".");
	else
		*out = xstrdup(wd);
	git_repository_free(repo);
	return rc;
}

struct gitinfo_index {
	git_repository *repo;
	git_index *index;
};

int gitinfo_index_open(const char *dir, struct gitinfo_index **out, struct err *err)
{
	struct gitinfo_index *ix = xcalloc(1, sizeof(*ix));
	int rc, grc;

	*out = NULL;
	if ((rc = repo_open(&ix->repo, dir, err)) == 0 && !git_repository_workdir(ix->repo))
		rc = err_set(err, ERR_NOTFOUND, "the git repository at '%s' is bare: it has no work tree",
			     dir ? dir : ".");
	else if (rc == 0 && (grc = git_repository_index(&ix->index, ix->repo)) < 0)
		rc = git_fail(err, grc, "cannot read the index of the repository at", dir ? dir : ".");
	if (rc) {
		gitinfo_index_free(ix);
		return rc;
	}
	*out = ix;
	return 0;
}

const char *gitinfo_index_workdir(const struct gitinfo_index *ix)
{
	return git_repository_workdir(ix->repo);
}

bool gitinfo_index_has(const struct gitinfo_index *ix, const char *path)
{
	char *folder = xasprintf("%s/", path);
	size_t at;
	bool has = git_index_get_bypath(ix->index, path, 0) || git_index_find_prefix(&at, ix->index, folder) == 0;

	free(folder);
	return has;
}

void gitinfo_index_free(struct gitinfo_index *ix)
{
	if (!ix)
		return;
	git_index_free(ix->index);
	git_repository_free(ix->repo);
	free(ix);
}

/* Submodules nested deeper than this are not written. */
#define EXPORT_DEPTH 8

/* A submodule's entry in a tree: its path and the commit it pins. */
struct gitlink {
	char *path;
	git_oid oid;
};

/* Walking an exported tree: its submodules, and its Git LFS pointers. */
struct export_walk {
	const char *dest;     /* where the tree was written */
	char *lfs_objects;    /* the repository's lfs/objects folder */
	struct gitlink *links;
	size_t n_links, alloc_links;
	size_t lfs_missing;   /* pointers whose object this clone lacks */
	char *lfs_first;      /* the first of them */
	size_t lfs_failed;    /* pointers whose object could not be copied */
	char *lfs_failed_first; /* the first of them */
	int lfs_failed_errno; /* and why */
};

/* The largest file taken for an LFS pointer (the spec's limit). */
#define LFS_POINTER_MAX 1024
#define LFS_VERSION "version https://git-lfs.github.com/spec/v1\n"

/* Copy the open file in to out; 0 or the errno of the read or write
 * that failed. */
static int copy_fd(int in, int out)
{
	char buf[1 << 16];
	ssize_t n;

	while ((n = read(in, buf, sizeof(buf))) != 0) {
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return errno;
		}
		for (ssize_t off = 0; off < n;) {
			ssize_t w = write(out, buf + off, (size_t)(n - off));

			if (w < 0 && errno == EINTR)
				continue;
			if (w < 0)
				return errno;
			off += w;
		}
	}
	return 0;
}

/*
 * Copy src over dst, giving it mode: 0 or an errno.  The copy goes into a
 * fresh file beside dst that is renamed over it only once it is whole, so a
 * copy that fails part way (disk full, EFBIG, EIO) leaves dst as it was:
 * the pointer, which is what the skipped message then says it holds.  No
 * fsync: the export is a scratch folder, a crash loses it all anyway.
 */
static int copy_over(const char *src, const char *dst, mode_t mode)
{
	char *tmp = xasprintf("%s.tmp.XXXXXX", dst);
	int in = open(src, O_RDONLY | O_CLOEXEC), out = -1, rc = 0;

	if (in < 0 || (out = mkostemp(tmp, O_CLOEXEC)) < 0) {
		rc = errno;
		goto done;
	}
	/* mkstemp makes it 0600; keep the pointer's (0644, 0755 for an
	 * executable, as git wrote it) */
	if (fchmod(out, mode) != 0)
		rc = errno;
	if (rc == 0)
		rc = copy_fd(in, out);
	if (close(out) != 0 && rc == 0)
		rc = errno;
	if (rc == 0 && rename(tmp, dst) != 0)
		rc = errno;
	if (rc != 0)
		unlink(tmp);
done:
	if (in >= 0)
		close(in);
	free(tmp);
	return rc;
}

/*
 * A file git-lfs would have smudged: libgit2 writes the pointer
 * ("version https://git-lfs.github.com/spec/v1", "oid sha256:HEX",
 * "size N").  Its object, when this clone has it (lfs/objects/HE/X./HEX,
 * N bytes), is copied over it; else it is counted as missing, or as
 * failed when the copy did not succeed (the file then still holds the
 * pointer).
 */
static void smudge_lfs(struct export_walk *w, const char *path)
{
	char *full = xasprintf("%s/%s", w->dest, path), *obj = NULL;
	char text[LFS_POINTER_MAX + 1], hex[65];
	unsigned long long size;
	struct stat st;
	const char *p;
	mode_t mode;
	FILE *f;
	size_t n;
	int rc;

	if (lstat(full, &st) != 0 || !S_ISREG(st.st_mode) || st.st_size > LFS_POINTER_MAX || !(f = fopen(full, "rb"))) {
		free(full);
		return;
	}
	mode = st.st_mode & 07777;
	n = fread(text, 1, LFS_POINTER_MAX, f);
	fclose(f);
	text[n] = '\0';
	if (strncmp(text, LFS_VERSION, strlen(LFS_VERSION)) != 0 || !(p = strstr(text, "\noid sha256:")) ||
	    sscanf(p, "\noid sha256:%64[0-9a-f]", hex) != 1 || strlen(hex) != 64 || !(p = strstr(text, "\nsize ")) ||
	    sscanf(p, "\nsize %llu", &size) != 1) {
		free(full);
		return;
	}
	obj = xasprintf("%s/%.2s/%.2s/%s", w->lfs_objects, hex, hex + 2, hex);
	if (stat(obj, &st) != 0 || (unsigned long long)st.st_size != size) {
		if (!w->lfs_missing++)
			w->lfs_first = xstrdup(path);
	} else if ((rc = copy_over(obj, full, mode)) != 0) {
		if (!w->lfs_failed++) {
			w->lfs_failed_first = xstrdup(path);
			w->lfs_failed_errno = rc;
		}
	}
	free(obj);
	free(full);
}

static int walk_entry(const char *root, const git_tree_entry *e, void *payload)
{
	struct export_walk *w = payload;
	git_filemode_t mode = git_tree_entry_filemode(e);
	char *path = xasprintf("%s%s", root, git_tree_entry_name(e));

	if (mode == GIT_FILEMODE_COMMIT) {
		XGROW(w->links, w->alloc_links, w->n_links + 1);
		w->links[w->n_links].path = path;
		git_oid_cpy(&w->links[w->n_links].oid, git_tree_entry_id(e));
		w->n_links++;
		return 0;
	}
	if (mode == GIT_FILEMODE_BLOB || mode == GIT_FILEMODE_BLOB_EXECUTABLE)
		smudge_lfs(w, path);
	free(path);
	return 0;
}

static int export_tree(git_repository *repo, const git_oid *oid, const char *label, const char *prefix,
		       const char *dest, int depth, struct errlist *skipped, struct err *err);

/* The submodule gl of the repository super (whose files are at prefix in
 * the top tree) into dest: from its checkout in super's work tree, at the
 * commit super's tree pins.  What cannot be written is said in *skipped. */
static void export_submodule(git_repository *super, const struct gitlink *gl, const char *prefix, const char *dest,
			     int depth, struct errlist *skipped)
{
	const char *wd = git_repository_workdir(super);
	char *name = xasprintf("%s%s", prefix, gl->path);
	char *src = wd ? xasprintf("%s%s", wd, gl->path) : NULL;
	char *to = xasprintf("%s/%s", dest, gl->path);
	char *sub_prefix = xasprintf("%s/", name);
	char id[GIT_OID_HEXSZ + 1];
	git_repository *sub = NULL;
	struct err e = ERR_INIT;

	git_oid_tostr(id, sizeof(id), &gl->oid);
	/* NO_SEARCH: a submodule that is not checked out is an empty folder,
	 * and searching upwards from it would find the superproject */
	if (depth >= EXPORT_DEPTH)
		errlist_add(skipped, "submodule '%s': nested more than %d deep, not written", name, EXPORT_DEPTH);
	else if (!src || git_repository_open_ext(&sub, src, GIT_REPOSITORY_OPEN_NO_SEARCH, NULL) < 0)
		errlist_add(skipped, "submodule '%s' is not checked out in the work tree (git submodule update "
			    "--init): not written", name);
	else if (mkdir_p(to, &e) != 0 || export_tree(sub, &gl->oid, id, sub_prefix, to, depth + 1, skipped, &e) != 0)
		errlist_add(skipped, "submodule '%s' at commit %.10s: %s", name, id, e.msg);
	git_repository_free(sub);
	free(sub_prefix);
	free(to);
	free(src);
	free(name);
}

/* Commit oid of repo into dest, its Git LFS files from this clone's
 * objects, then its submodules into their folders. */
static int export_tree(git_repository *repo, const git_oid *oid, const char *label, const char *prefix,
		       const char *dest, int depth, struct errlist *skipped, struct err *err)
{
	git_checkout_options co;
	git_commit *c = NULL;
	git_tree *tree = NULL;
	struct export_walk w = { .dest = dest };
	int grc, rc = 0;

	git_checkout_options_init(&co, GIT_CHECKOUT_OPTIONS_VERSION);
	if ((grc = git_commit_lookup(&c, repo, oid)) < 0)
		return git_fail(err, grc, "cannot read commit", label);
	/* Into dest only: the repository's own index and work tree are left
	 * as they are. */
	co.checkout_strategy = GIT_CHECKOUT_FORCE | GIT_CHECKOUT_DONT_UPDATE_INDEX;
	co.target_directory = dest;
	if ((grc = git_checkout_tree(repo, (const git_object *)c, &co)) < 0)
		rc = git_fail(err, grc, "cannot check out the tree of", label);
	else if ((grc = git_commit_tree(&tree, c)) < 0)
		rc = git_fail(err, grc, "cannot read the tree of", label);
	if (rc == 0) {
		/* git-lfs keeps its objects beside the repository's, in the common
		 * folder of all its work trees (a submodule's: .git/modules/NAME) */
		w.lfs_objects = xasprintf("%slfs/objects", git_repository_commondir(repo));
		if ((grc = git_tree_walk(tree, GIT_TREEWALK_PRE, walk_entry, &w)) < 0)
			rc = git_fail(err, grc, "cannot read the tree of", label);
	}
	if (w.lfs_missing)
		errlist_add(skipped, "%zu Git LFS file%s (%s%s%s) %s no object in this clone (git lfs fetch): %s the "
			    "pointer", w.lfs_missing, w.lfs_missing == 1 ? "" : "s", prefix, w.lfs_first,
			    w.lfs_missing == 1 ? "" : ", ...", w.lfs_missing == 1 ? "has" : "have",
			    w.lfs_missing == 1 ? "its file holds" : "their files hold");
	if (w.lfs_failed == 1)
		errlist_add(skipped, "Git LFS file '%s%s': its object could not be copied (%s): its file holds the "
			    "pointer", prefix, w.lfs_failed_first, strerror(w.lfs_failed_errno));
	else if (w.lfs_failed)
		errlist_add(skipped, "%zu Git LFS files ('%s%s', ...): their objects could not be copied (the first: "
			    "%s): their files hold the pointers", w.lfs_failed, prefix, w.lfs_failed_first,
			    strerror(w.lfs_failed_errno));
	for (size_t i = 0; i < w.n_links; i++) {
		if (rc == 0)
			export_submodule(repo, &w.links[i], prefix, dest, depth, skipped);
		free(w.links[i].path);
	}
	free(w.links);
	free(w.lfs_first);
	free(w.lfs_failed_first);
	free(w.lfs_objects);
	git_tree_free(tree);
	git_commit_free(c);
	return rc;
}

int gitinfo_export(const char *dir, const char *commit, const char *dest, struct errlist *skipped, struct err *err)
{
	git_repository *repo = NULL;
	git_oid oid;
	int rc;

	if ((rc = repo_open(&repo, dir, err)))
		return rc;
	if ((rc = resolve_commit(repo, commit, &oid, err)) == 0)
		rc = export_tree(repo, &oid, commit, "", dest, 0, skipped, err);
	git_repository_free(repo);
	return rc;
}
