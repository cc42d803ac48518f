/*
 * Unit tests for core/gitinfo.c on real temporary repositories built with the
 * `git` command: normal, detached with CI variables, dirty, shallow, worktree,
 * no repository; ancestors, merge-base, default branch; credential stripping.
 *
 * Expected values come from how the repositories are built (fixed commit
 * dates, subjects chosen here, ids read back with `git rev-parse`), never from
 * gitinfo itself.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#include "../../core/gitinfo.h"
#include "../../core/util.h"

static char tmp[256];

static const char *const ci_vars[] = {
	"GITHUB_HEAD_REF", "GITHUB_REF_NAME", "GITHUB_REF_TYPE", "GITHUB_ACTIONS",
	"CI_COMMIT_REF_NAME", "CI_COMMIT_TAG", "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME", "GITLAB_CI",
	"GIT_DIR", "GIT_WORK_TREE", "GIT_INDEX_FILE", "GIT_CEILING_DIRECTORIES",
};

/* Run a shell command in the test's temporary folder; fail the test if it fails. */
static void sh(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void sh(const char *fmt, ...)
{
	struct sb cmd = SB_INIT;
	char *body;
	va_list ap;
	int n;

	va_start(ap, fmt);
	n = vsnprintf(NULL, 0, fmt, ap);
	va_end(ap);
	body = xmalloc((size_t)n + 1);
	va_start(ap, fmt);
	vsnprintf(body, (size_t)n + 1, fmt, ap);
	va_end(ap);
	sb_printf(&cmd, "cd '%s' && { %s\n} >/dev/null 2>&1", tmp, body);
	if (system(cmd.buf) != 0) {
		fprintf(stderr, "command failed: %s\n", body);
		fail();
	}
	free(body);
	sb_release(&cmd);
}

/* Read the first line a shell command prints (run in the temporary folder). */
static char *sh_out(const char *cmd)
{
	char *full = xasprintf("cd '%s' && %s", tmp, cmd);
	FILE *f = popen(full, "r");
	char line[512] = "";

	assert_non_null(f);
	if (!fgets(line, sizeof(line), f))
		line[0] = '\0';
	pclose(f);
	free(full);
	line[strcspn(line, "\n")] = '\0';
	return xstrdup(line);
}

static char *path_in(const char *sub)
{
	return xasprintf("%s/%s", tmp, sub);
}

/*
 * repo/: main with three commits c1, c2 (dated 2024-01-02T03:04:05+02:00),
 * c3; branch "feature" off c2 with one commit f1; origin remote with
 * credentials in its URL.
 */
static int setup(void **state)
{
	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(ci_vars); i++)
		unsetenv(ci_vars[i]);
	setenv("GIT_AUTHOR_NAME", "Test", 1);
	setenv("GIT_AUTHOR_EMAIL", "test@example.com", 1);
	setenv("GIT_COMMITTER_NAME", "Test", 1);
	setenv("GIT_COMMITTER_EMAIL", "test@example.com", 1);
	setenv("GIT_CONFIG_NOSYSTEM", "1", 1);
	snprintf(tmp, sizeof(tmp), "/tmp/perfgate-gitinfo.XXXXXX");
	if (!mkdtemp(tmp))
		return -1;
	setenv("HOME", tmp, 1); /* no user gitconfig leaks in */
	sh("git init -q -b main repo && cd repo &&"
	   " echo a > a.txt && git add a.txt &&"
	   " GIT_COMMITTER_DATE='2024-01-01T00:00:00Z' GIT_AUTHOR_DATE='2024-01-01T00:00:00Z' git commit -q -m c1 &&"
	   " echo b >> a.txt &&"
	   " GIT_COMMITTER_DATE='2024-01-02T03:04:05+02:00' GIT_AUTHOR_DATE='2024-01-02T03:04:05+02:00'"
	   "   git commit -q -am 'c2: second commit' -m 'body line' &&"
	   " git branch feature &&"
	   " echo c >> a.txt &&"
	   " GIT_COMMITTER_DATE='2024-01-03T00:00:00Z' GIT_AUTHOR_DATE='2024-01-03T00:00:00Z' git commit -q -am c3 &&"
	   " git checkout -q feature && echo f > f.txt && git add f.txt &&"
	   " GIT_COMMITTER_DATE='2024-01-04T00:00:00Z' GIT_AUTHOR_DATE='2024-01-04T00:00:00Z' git commit -q -m f1 &&"
	   " git checkout -q main &&"
	   " git remote add origin 'https://ci-user:s3cret-token@git.example.com/team/app.git'");
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	sh("rm -rf repo clone wt norepo shallow");
	rmdir(tmp);
	return 0;
}

static void test_normal(void **state)
{
	struct rd_git g = { 0 };
	struct err err = ERR_INIT;
	char *dir = path_in("repo");
	char *head = sh_out("git -C repo rev-parse HEAD");
	char *parent = sh_out("git -C repo rev-parse HEAD~1");
	bool found = false;

	(void)state;
	assert_int_equal(gitinfo_collect(dir, &g, &found, &err), 0);
	assert_true(found);
	assert_string_equal(g.commit, head);
	assert_string_equal(g.branch, "main");
	assert_false(g.dirty);
	assert_false(g.shallow);
	assert_string_equal(g.subject, "c3");
	assert_string_equal(g.commit_time, "2024-01-03T00:00:00Z");
	assert_int_equal(g.n_parents, 1);
	assert_string_equal(g.parents[0], parent);
	assert_string_equal(g.remote, "https://git.example.com/team/app.git");
	gitinfo_release(&g);
	assert_null(g.commit);

	/* From a subfolder, the repository is found by walking up. */
	sh("mkdir -p repo/sub/deeper");
	free(dir);
	dir = path_in("repo/sub/deeper");
	assert_int_equal(gitinfo_collect(dir, &g, &found, &err), 0);
	assert_true(found);
	assert_string_equal(g.commit, head);
	gitinfo_release(&g);
	free(dir);
	free(head);
	free(parent);
}

static void test_commit_time_and_subject(void **state)
{
	struct rd_git g = { 0 };
	struct err err = ERR_INIT;
	char *dir = path_in("repo");
	bool found = false;

	(void)state;
	sh("cd repo && git checkout -q HEAD~1");
	assert_int_equal(gitinfo_collect(dir, &g, &found, &err), 0);
	/* 03:04:05 at +02:00 is 01:04:05 UTC; the subject is the first line only. */
	assert_string_equal(g.commit_time, "2024-01-02T01:04:05Z");
	assert_string_equal(g.subject, "c2: second commit");
	gitinfo_release(&g);
	sh("cd repo && git checkout -q main");
	free(dir);
}

static void test_detached_ci(void **state)
{
	static const struct {
		const char *vars;  /* "NAME=value NAME=value" */
		const char *want;  /* NULL: no branch */
	} cases[] = {
		{ "", NULL },
		{ "GITHUB_HEAD_REF=feature/pr GITHUB_REF_NAME=42/merge", "feature/pr" },
		{ "GITHUB_REF_NAME=release-1", "release-1" },
		{ "GITHUB_REF_NAME=v1.0 GITHUB_REF_TYPE=tag", NULL },
		{ "CI_MERGE_REQUEST_SOURCE_BRANCH_NAME=mr-branch CI_COMMIT_REF_NAME=mr-branch", "mr-branch" },
		{ "CI_COMMIT_REF_NAME=gl-main", "gl-main" },
		{ "CI_COMMIT_REF_NAME=v2.0 CI_COMMIT_TAG=v2.0", NULL },
	};
	char *dir = path_in("repo");
	char *head1 = sh_out("git -C repo rev-parse HEAD~1");

	(void)state;
	sh("cd repo && git checkout -q --detach HEAD~1");
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct rd_git g = { 0 };
		struct err err = ERR_INIT;
		bool found = false;
		char *vars = xstrdup(cases[i].vars), *save = NULL;

		for (char *kv = strtok_r(vars, " ", &save); kv; kv = strtok_r(NULL, " ", &save)) {
			char *eq = strchr(kv, '=');
			*eq = '\0';
			setenv(kv, eq + 1, 1);
		}
		assert_int_equal(gitinfo_collect(dir, &g, &found, &err), 0);
		assert_true(found);
		assert_string_equal(g.commit, head1);
		if (cases[i].want)
			assert_string_equal(g.branch, cases[i].want);
		else
			assert_null(g.branch);
		gitinfo_release(&g);
		for (size_t j = 0; j < ARRAY_SIZE(ci_vars); j++)
			unsetenv(ci_vars[j]);
		free(vars);
	}
	/* On a branch, CI variables do not override the checked-out branch. */
	sh("cd repo && git checkout -q main");
	setenv("GITHUB_REF_NAME", "other", 1);
	{
		struct rd_git g = { 0 };
		struct err err = ERR_INIT;
		bool found = false;
		assert_int_equal(gitinfo_collect(dir, &g, &found, &err), 0);
		assert_string_equal(g.branch, "main");
		gitinfo_release(&g);
	}
	unsetenv("GITHUB_REF_NAME");
	free(dir);
	free(head1);
}

static void test_dirty(void **state)
{
	static const struct {
		const char *change;  /* shell command run in repo/ */
		const char *undo;
		bool dirty;
	} cases[] = {
		{ "echo untracked > new.txt", "rm -f new.txt", false },
		{ "mkdir -p build && echo o > build/x.o", "rm -rf build", false },
		{ "echo more >> a.txt", "git checkout -q -- a.txt", true },
		{ "echo staged >> a.txt && git add a.txt", "git reset -q && git checkout -q -- a.txt", true },
		{ "rm a.txt", "git checkout -q -- a.txt", true },
		{ "echo n > n.txt && git add n.txt", "git rm -q --cached n.txt && rm n.txt", true },
		/* changes hidden from `git status` are still changes (issue 19) */
		{ "git update-index --assume-unchanged a.txt && echo hidden >> a.txt",
		  "git update-index --no-assume-unchanged a.txt && git checkout -q -- a.txt", true },
		{ "git update-index --skip-worktree a.txt && echo hidden >> a.txt",
		  "git update-index --no-skip-worktree a.txt && git checkout -q -- a.txt", true },
		{ "git update-index --assume-unchanged a.txt && rm a.txt",
		  "git update-index --no-assume-unchanged a.txt && git checkout -q -- a.txt", true },
		/* flagged but unchanged, and a sparse checkout's absent file: clean */
		{ "git update-index --assume-unchanged a.txt", "git update-index --no-assume-unchanged a.txt", false },
		{ "git update-index --skip-worktree a.txt && rm a.txt",
		  "git update-index --no-skip-worktree a.txt && git checkout -q -- a.txt", false },
	};
	char *dir = path_in("repo");

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct rd_git g = { 0 };
		struct err err = ERR_INIT;
		bool found = false;

		sh("cd repo && %s", cases[i].change);
		assert_int_equal(gitinfo_collect(dir, &g, &found, &err), 0);
		if (g.dirty != cases[i].dirty)
			fprintf(stderr, "case %zu (%s): dirty=%d\n", i, cases[i].change, g.dirty);
		assert_int_equal(g.dirty, cases[i].dirty);
		gitinfo_release(&g);
		sh("cd repo && %s", cases[i].undo);
		assert_int_equal(gitinfo_collect(dir, &g, &found, &err), 0);
		assert_false(g.dirty);
		gitinfo_release(&g);
	}
	free(dir);
}

static void test_shallow(void **state)
{
	struct rd_git g = { 0 };
	struct err err = ERR_INIT;
	char *dir, *head = sh_out("git -C repo rev-parse main");
	char *parent = sh_out("git -C repo rev-parse main~1");
	char *base = NULL, **anc = NULL;
	size_t n = 0;
	bool found = false;

	(void)state;
	sh("git clone -q --depth 1 --branch main \"file://$PWD/repo\" shallow");
	dir = path_in("shallow");
	assert_true(gitinfo_is_shallow(dir));
	assert_int_equal(gitinfo_collect(dir, &g, &found, &err), 0);
	assert_true(found);
	assert_true(g.shallow);
	assert_string_equal(g.commit, head);
	assert_string_equal(g.branch, "main");
	assert_string_equal(g.subject, "c3");
	/* The boundary commit still names its real parent (absent from the clone). */
	assert_int_equal(g.n_parents, 1);
	assert_string_equal(g.parents[0], parent);
	assert_non_null(strstr(g.remote, "/repo"));
	gitinfo_release(&g);

	/* The walk stops at the shallow boundary. */
	assert_int_equal(gitinfo_ancestors(dir, "HEAD", 10, &anc, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_string_equal(anc[0], head);
	gitinfo_strv_free(anc, n);

	/* A clone made by `git clone` knows its remote's default branch. */
	assert_int_equal(gitinfo_default_branch(dir, &base, &err), 0);
	assert_string_equal(base, "main");
	free(base);
	free(dir);
	free(head);
	free(parent);
}

/* libgit2's merge-base fails at a shallow clone's boundary even when the
 * answer is inside the clone (a pull request one commit on top of a base
 * fetched with depth 1): gitinfo_merge_base finds it by walking. */
static void test_shallow_merge_base(void **state)
{
	struct err err = ERR_INIT;
	char *dir = path_in("shallow3");
	char *c3 = sh_out("git -C repo rev-parse main");
	char *out = NULL;

	(void)state;
	sh("git clone -q --depth 1 --branch main \"file://$PWD/repo\" shallow3 && cd shallow3 &&"
	   " echo pr > pr.txt && git add pr.txt && git commit -q -m pr");
	assert_int_equal(gitinfo_merge_base(dir, "HEAD", "origin/main", &out, &err), 0);
	assert_string_equal(out, c3);
	free(out);
	out = NULL;
	sh("cd shallow3 && git checkout -q --orphan lonely && git rm -rq --cached . &&"
	   " echo z > z.txt && git add z.txt && git commit -q -m lonely");
	assert_int_equal(gitinfo_merge_base(dir, "HEAD", "origin/main", &out, &err), ERR_NOTFOUND);
	assert_null(out);
	assert_non_null(strstr(err.msg, "have no common ancestor in this shallow clone"));
	sh("rm -rf shallow3");
	free(c3);
	free(dir);
}

static void test_shallow_depth2(void **state)
{
	struct err err = ERR_INIT;
	char *dir, **anc = NULL;
	char *c3 = sh_out("git -C repo rev-parse main"), *c2 = sh_out("git -C repo rev-parse main~1");
	size_t n = 0;

	(void)state;
	sh("git clone -q --depth 2 --branch main \"file://$PWD/repo\" shallow2");
	dir = path_in("shallow2");
	assert_true(gitinfo_is_shallow(dir));
	assert_int_equal(gitinfo_ancestors(dir, "HEAD", 0, &anc, &n, &err), 0);
	assert_int_equal(n, 2); /* c3, c2; c1 is beyond the boundary */
	assert_string_equal(anc[0], c3);
	assert_string_equal(anc[1], c2);
	gitinfo_strv_free(anc, n);
	assert_int_equal(gitinfo_ancestors(dir, "HEAD", 1, &anc, &n, &err), 0);
	assert_int_equal(n, 1);
	gitinfo_strv_free(anc, n);
	sh("rm -rf shallow2");
	free(dir);
	free(c3);
	free(c2);
}

static void test_remote_without_origin(void **state)
{
	struct rd_git g = { 0 };
	struct err err = ERR_INIT;
	char *dir;
	bool found = false;

	(void)state;
	sh("git init -q -b main norepo/up && cd norepo/up &&"
	   " git -c user.name=T -c user.email=t@e commit -q --allow-empty -m x &&"
	   " git remote add upstream 'https://bot:glpat-secret@gitlab.example.com/g/p.git'");
	dir = path_in("norepo/up");
	assert_int_equal(gitinfo_collect(dir, &g, &found, &err), 0);
	assert_string_equal(g.remote, "https://gitlab.example.com/g/p.git");
	gitinfo_release(&g);
	sh("cd norepo/up && git remote remove upstream");
	assert_int_equal(gitinfo_collect(dir, &g, &found, &err), 0);
	assert_null(g.remote);
	gitinfo_release(&g);
	sh("rm -rf norepo/up");
	free(dir);
}

static void test_worktree(void **state)
{
	struct rd_git g = { 0 };
	struct err err = ERR_INIT;
	char *dir, *fhead = sh_out("git -C repo rev-parse feature");
	char *anc_c2 = sh_out("git -C repo rev-parse main~1");
	bool found = false;

	(void)state;
	sh("cd repo && git worktree add -q ../wt feature");
	dir = path_in("wt");
	assert_int_equal(gitinfo_collect(dir, &g, &found, &err), 0);
	assert_true(found);
	assert_string_equal(g.commit, fhead);
	assert_string_equal(g.branch, "feature");
	assert_string_equal(g.subject, "f1");
	assert_false(g.dirty);
	assert_string_equal(g.remote, "https://git.example.com/team/app.git");
	gitinfo_release(&g);
	/* History queries work from a worktree too. */
	{
		char **anc = NULL, *base = NULL;
		size_t n = 0;
		assert_int_equal(gitinfo_ancestors(dir, "HEAD", 0, &anc, &n, &err), 0);
		assert_int_equal(n, 3);
		assert_string_equal(anc[0], fhead);
		gitinfo_strv_free(anc, n);
		assert_int_equal(gitinfo_merge_base(dir, "HEAD", "main", &base, &err), 0);
		assert_string_equal(base, anc_c2);
		free(base);
	}
	sh("echo x >> wt/f.txt");
	assert_int_equal(gitinfo_collect(dir, &g, &found, &err), 0);
	assert_true(g.dirty);
	gitinfo_release(&g);
	sh("cd wt && git checkout -q -- f.txt");
	sh("cd repo && git worktree remove --force ../wt");
	free(dir);
	free(fhead);
	free(anc_c2);
}

static void test_no_repository(void **state)
{
	struct rd_git g = { 0 };
	struct err err = ERR_INIT;
	char *dir, **anc = NULL, *out = NULL;
	size_t n = 0;
	bool found = true;

	(void)state;
	sh("mkdir -p norepo");
	dir = path_in("norepo");
	/* Stop libgit2 from walking up past the temporary folder. */
	setenv("GIT_CEILING_DIRECTORIES", tmp, 1);
	assert_int_equal(gitinfo_collect(dir, &g, &found, &err), 0);
	assert_false(found);
	assert_null(g.commit);
	assert_false(gitinfo_is_shallow(dir));
	assert_int_equal(gitinfo_ancestors(dir, "HEAD", 5, &anc, &n, &err), ERR_NOTFOUND);
	assert_non_null(strstr(err.msg, "is not inside a git repository"));
	assert_int_equal(gitinfo_default_branch(dir, &out, &err), ERR_NOTFOUND);
	assert_int_equal(gitinfo_merge_base(dir, "HEAD", "main", &out, &err), ERR_NOTFOUND);
	unsetenv("GIT_CEILING_DIRECTORIES");
	free(dir);
}

static void test_unborn(void **state)
{
	struct rd_git g = { 0 };
	struct err err = ERR_INIT;
	char *dir;
	bool found = false;

	(void)state;
	sh("git init -q -b trunk norepo/fresh");
	dir = path_in("norepo/fresh");
	assert_int_equal(gitinfo_collect(dir, &g, &found, &err), 0);
	assert_true(found);
	assert_null(g.commit);
	assert_null(g.subject);
	assert_int_equal(g.n_parents, 0);
	gitinfo_release(&g);
	sh("rm -rf norepo/fresh");
	free(dir);
}

static void test_ancestors(void **state)
{
	struct err err = ERR_INIT;
	char *dir = path_in("repo");
	char *want[4];
	char **anc = NULL;
	size_t n = 0;

	(void)state;
	want[0] = sh_out("git -C repo rev-parse feature");
	want[1] = sh_out("git -C repo rev-parse feature~1");
	want[2] = sh_out("git -C repo rev-parse feature~2");
	assert_int_equal(gitinfo_ancestors(dir, "feature", 0, &anc, &n, &err), 0);
	assert_int_equal(n, 3); /* f1, c2, c1: c3 is on main only */
	for (size_t i = 0; i < 3; i++)
		assert_string_equal(anc[i], want[i]);
	gitinfo_strv_free(anc, n);

	/* A limit, and an abbreviated id as the start. */
	want[3] = sh_out("git -C repo rev-parse --short=8 feature~1");
	assert_int_equal(gitinfo_ancestors(dir, want[3], 1, &anc, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_string_equal(anc[0], want[1]);
	gitinfo_strv_free(anc, n);

	assert_int_equal(gitinfo_ancestors(dir, NULL, 5, &anc, &n, &err), ERR_NOTFOUND);
	assert_string_equal(err.msg, "no git revision given");
	assert_int_equal(gitinfo_ancestors(dir, "no-such-branch", 5, &anc, &n, &err), ERR_NOTFOUND);
	assert_string_equal(err.msg, "unknown git revision 'no-such-branch'");
	assert_null(anc);
	for (size_t i = 0; i < 4; i++)
		free(want[i]);
	free(dir);
}

static void test_ancestors_merge(void **state)
{
	struct err err = ERR_INIT;
	char *dir = path_in("clone");
	char **anc = NULL, *merge, *c3, *f1;
	size_t n = 0;

	(void)state;
	/* A merge commit: nearest first, and every parent before its own parents. */
	sh("git clone -q repo clone && cd clone && git checkout -q -b m origin/main &&"
	   " GIT_COMMITTER_DATE='2024-01-05T00:00:00Z' GIT_AUTHOR_DATE='2024-01-05T00:00:00Z'"
	   " git merge -q --no-ff -m merge origin/feature");
	merge = sh_out("git -C clone rev-parse HEAD");
	c3 = sh_out("git -C clone rev-parse HEAD^1");
	f1 = sh_out("git -C clone rev-parse HEAD^2");
	assert_int_equal(gitinfo_ancestors(dir, "HEAD", 0, &anc, &n, &err), 0);
	assert_int_equal(n, 5);
	assert_string_equal(anc[0], merge);
	/* Both merge parents come before c2 and c1 (the last two). */
	assert_true((strcmp(anc[1], c3) == 0 && strcmp(anc[2], f1) == 0) ||
		    (strcmp(anc[1], f1) == 0 && strcmp(anc[2], c3) == 0));
	gitinfo_strv_free(anc, n);
	free(merge);
	free(c3);
	free(f1);
	free(dir);
}

static void test_merge_base(void **state)
{
	struct err err = ERR_INIT;
	char *dir = path_in("repo"), *cdir = path_in("clone");
	char *c2 = sh_out("git -C repo rev-parse main~1");
	char *out = NULL;

	(void)state;
	assert_int_equal(gitinfo_merge_base(dir, "feature", "main", &out, &err), 0);
	assert_string_equal(out, c2);
	free(out);
	/* In the clone there is no local "feature" or... only origin/feature: a bare name finds it. */
	assert_int_equal(gitinfo_merge_base(cdir, "HEAD~1", "feature", &out, &err), 0);
	free(out);
	assert_int_equal(gitinfo_merge_base(cdir, "origin/feature", "origin/main", &out, &err), 0);
	assert_string_equal(out, c2);
	free(out);
	assert_int_equal(gitinfo_merge_base(cdir, "origin/feature", "main", &out, &err), 0);
	assert_string_equal(out, c2);
	free(out);
	assert_int_equal(gitinfo_merge_base(dir, "feature", NULL, &out, &err), ERR_NOTFOUND);
	assert_int_equal(gitinfo_merge_base(dir, NULL, "main", &out, &err), ERR_NOTFOUND);
	assert_int_equal(gitinfo_merge_base(dir, "feature", "nope", &out, &err), ERR_NOTFOUND);
	assert_null(out);
	assert_string_equal(err.msg, "unknown git revision 'nope'");

	/* Unrelated histories have no merge-base. */
	sh("cd repo && git checkout -q --orphan lonely && git rm -rq --cached . &&"
	   " echo z > z.txt && git add z.txt && git commit -q -m lonely && git checkout -q -f main");
	assert_int_equal(gitinfo_merge_base(dir, "lonely", "main", &out, &err), ERR_NOTFOUND);
	assert_non_null(strstr(err.msg, "have no common ancestor"));
	free(c2);
	free(dir);
	free(cdir);
}

static void test_default_branch(void **state)
{
	struct err err = ERR_INIT;
	char *dir = path_in("repo"), *cdir = path_in("clone");
	char *out = NULL;

	(void)state;
	/* repo/ was not cloned: its origin has no HEAD ref. */
	assert_int_equal(gitinfo_default_branch(dir, &out, &err), ERR_NOTFOUND);
	assert_null(out);
	assert_int_equal(gitinfo_default_branch(cdir, &out, &err), 0);
	assert_string_equal(out, "main");
	free(out);
	sh("cd clone && git symbolic-ref refs/remotes/origin/HEAD refs/remotes/origin/feature");
	assert_int_equal(gitinfo_default_branch(cdir, &out, &err), 0);
	assert_string_equal(out, "feature");
	free(out);
	assert_false(gitinfo_is_shallow(cdir));
	free(dir);
	free(cdir);
}

static void test_resolve(void **state)
{
	struct err err = ERR_INIT;
	char *dir = path_in("repo");
	char *want = sh_out("git -C repo rev-parse main~2");
	char *out = NULL;

	(void)state;
	assert_int_equal(gitinfo_resolve(dir, "main~2", &out, &err), 0);
	assert_string_equal(out, want);
	free(out);
	assert_int_equal(gitinfo_resolve(dir, "deadbeefdeadbeef", &out, &err), ERR_NOTFOUND);
	free(want);
	free(dir);
}

/* The base tree of `gate --base`: a branch known only as origin/NAME is
 * found, and a commit's files are written elsewhere without touching the
 * repository's index or work tree. */
static void test_export(void **state)
{
	struct err err = ERR_INIT;
	char *dir = path_in("repo"), *cdir = path_in("clone"), *dest = path_in("exported");
	char *want = sh_out("git -C clone rev-parse origin/feature");
	char *c1 = sh_out("git -C repo rev-parse main~2");
	char *out = NULL, *a1 = NULL;
	struct errlist skipped = ERRLIST_INIT;

	(void)state;
	/* the clone has no local "feature": plain resolve fails, the branch form finds origin's */
	assert_int_equal(gitinfo_resolve(cdir, "feature", &out, &err), ERR_NOTFOUND);
	assert_int_equal(gitinfo_resolve_branch(cdir, "feature", &out, &err), 0);
	assert_string_equal(out, want);
	free(out);
	assert_int_equal(gitinfo_resolve_branch(cdir, "nope", &out, &err), ERR_NOTFOUND);
	assert_null(out);

	assert_int_equal(gitinfo_workdir(dir, &out, &err), 0);
	assert_non_null(strstr(out, "/repo/"));
	free(out);

	sh("mkdir exported");
	assert_int_equal(gitinfo_export(dir, c1, dest, &skipped, &err), 0);
	a1 = sh_out("cat exported/a.txt");
	assert_string_equal(a1, "a"); /* c1's a.txt: one line */
	free(a1);
	/* the repository is as it was: HEAD, index and work tree */
	a1 = sh_out("git -C repo status --porcelain --untracked-files=no | wc -l");
	assert_string_equal(a1, "0");
	free(a1);
	a1 = sh_out("wc -l < repo/a.txt");
	assert_string_equal(a1, "3");
	free(a1);
	assert_int_equal(gitinfo_export(dir, "deadbeefdeadbeef", dest, &skipped, &err), ERR_NOTFOUND);
	assert_int_equal(skipped.n, 0);
	errlist_release(&skipped);
	sh("rm -rf exported");
	free(want);
	free(c1);
	free(dir);
	free(cdir);
	free(dest);
}

/* Submodules are written into the exported tree at the commits the
 * exported commit pins, from their checkouts in the work tree, nested ones
 * too; one that is not checked out is said, not fatal. */
static void test_export_submodules(void **state)
{
	struct errlist skipped = ERRLIST_INIT;
	struct err err = ERR_INIT;
	char *dir = path_in("super"), *dest = path_in("exported-sub"), *s1, *got;

	(void)state;
	sh("git init -q -b main inner && cd inner && git config user.email t@e && git config user.name t && "
	   "echo inner-1 > i.txt && git add i.txt && git commit -qm i1");
	sh("git init -q -b main lib && cd lib && git config user.email t@e && git config user.name t && "
	   "echo lib-1 > l.txt && git add l.txt && git commit -qm l1 && "
	   "git -c protocol.file.allow=always submodule add -q ../inner inner && git commit -qm inner");
	sh("git init -q -b main super && cd super && git config user.email t@e && git config user.name t && "
	   "echo s > s.txt && git add s.txt && "
	   "git -c protocol.file.allow=always submodule add -q ../lib lib && "
	   "git -c protocol.file.allow=always submodule update -q --init --recursive && git commit -qm s1");
	s1 = sh_out("git -C super rev-parse HEAD");
	/* the head moves lib on; the export of s1 must have lib's first commit */
	sh("cd super/lib && echo lib-2 > l.txt && git commit -qam l2 && cd .. && git commit -qam s2");
	sh("mkdir exported-sub");
	assert_int_equal(gitinfo_export(dir, s1, dest, &skipped, &err), 0);
	assert_int_equal(skipped.n, 0);
	got = sh_out("cat exported-sub/lib/l.txt");
	assert_string_equal(got, "lib-1");
	free(got);
	got = sh_out("cat exported-sub/lib/inner/i.txt");
	assert_string_equal(got, "inner-1");
	free(got);
	got = sh_out("cat super/lib/l.txt");
	assert_string_equal(got, "lib-2"); /* the work tree's submodule as it was */
	free(got);

	/* not checked out in the work tree: left empty, said */
	sh("rm -rf exported-sub && mkdir exported-sub && cd super && git submodule deinit -q -f lib");
	assert_int_equal(gitinfo_export(dir, s1, dest, &skipped, &err), 0);
	assert_int_equal(skipped.n, 1);
	assert_non_null(strstr(skipped.msgs[0], "submodule 'lib' is not checked out in the work tree"));
	got = sh_out("ls exported-sub/lib 2>/dev/null | wc -l");
	assert_string_equal(got, "0");
	free(got);
	errlist_release(&skipped);
	sh("rm -rf exported-sub super lib inner");
	free(s1);
	free(dir);
	free(dest);
}

/* A Git LFS file is written from this clone's LFS objects, as git-lfs's
 * smudge filter would (libgit2 runs no such filter: it writes the
 * pointer); one whose object the clone lacks keeps its pointer, said. */
static void test_export_lfs(void **state)
{
	struct errlist skipped = ERRLIST_INIT;
	struct err err = ERR_INIT;
	char *dir = path_in("lfsrepo"), *dest = path_in("exported-lfs"), *got;

	(void)state;
	/* the pointers as git-lfs writes them; the objects where it keeps them */
	sh("%s", "git init -q -b main lfsrepo && cd lfsrepo && git config user.email t@e && git config user.name t && "
	   "printf 'weights-0123456789\\n' > ../w.real && "
	   "oid=$(sha256sum ../w.real | cut -c1-64) && size=$(wc -c < ../w.real) && "
	   "mkdir -p models .git/lfs/objects/$(echo $oid | cut -c1-2)/$(echo $oid | cut -c3-4) && "
	   "cp ../w.real .git/lfs/objects/$(echo $oid | cut -c1-2)/$(echo $oid | cut -c3-4)/$oid && "
	   "printf 'version https://git-lfs.github.com/spec/v1\\noid sha256:%s\\nsize %s\\n' $oid $size > models/w.bin && "
	   "printf 'version https://git-lfs.github.com/spec/v1\\noid sha256:%s\\nsize 5\\n' "
	   "$(printf x | sha256sum | cut -c1-64) > models/gone.bin && "
	   "printf 'version https://git-lfs.github.com/spec/v1 is how a pointer starts\\n' > notes.txt && "
	   "printf '*.bin filter=lfs diff=lfs merge=lfs -text\\n' > .gitattributes && "
	   "git add -A && git commit -qm lfs");
	sh("mkdir exported-lfs");
	assert_int_equal(gitinfo_export(dir, "HEAD", dest, &skipped, &err), 0);
	got = sh_out("cat exported-lfs/models/w.bin");
	assert_string_equal(got, "weights-0123456789");
	free(got);
	got = sh_out("head -c 42 exported-lfs/models/gone.bin");
	assert_string_equal(got, "version https://git-lfs.github.com/spec/v1");
	free(got);
	got = sh_out("cat exported-lfs/notes.txt"); /* not a pointer: as committed */
	assert_string_equal(got, "version https://git-lfs.github.com/spec/v1 is how a pointer starts");
	free(got);
	assert_int_equal(skipped.n, 1);
	assert_string_equal(skipped.msgs[0], "1 Git LFS file (models/gone.bin) has no object in this clone (git lfs "
					     "fetch): its file holds the pointer");
	/* the object itself is untouched (copied, never linked) */
	got = sh_out("cat w.real");
	assert_string_equal(got, "weights-0123456789");
	free(got);
	errlist_release(&skipped);
	sh("rm -rf exported-lfs lfsrepo w.real");
	free(dir);
	free(dest);
}

/* Export dir's HEAD into dest with writes limited to limit bytes: a write
 * past it fails with EFBIG (SIGXFSZ ignored, so it does not kill us). */
static int export_fsize_limited(const char *dir, const char *dest, rlim_t limit, struct errlist *skipped,
				struct err *err)
{
	struct rlimit old, lim;
	void (*old_handler)(int);
	int rc;

	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim = old;
	lim.rlim_cur = limit;
	old_handler = signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	rc = gitinfo_export(dir, "HEAD", dest, skipped, err);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, old_handler);
	return rc;
}

/* An LFS object whose copy fails part way (here: the file size limit,
 * EFBIG) leaves its file holding the whole pointer, not part of the
 * object, and no temporary file beside it; the message says why.  One that
 * is copied keeps the pointer's mode (executable here). */
static void test_export_lfs_copy_fails(void **state)
{
	struct errlist skipped = ERRLIST_INIT;
	struct err err = ERR_INIT;
	char *dir = path_in("lfsfail"), *dest = path_in("exported-lfsfail"), *got;

	(void)state;
	/* big.bin: a 200 KiB object, past the 64 KiB limit; run.sh: 15 bytes, executable */
	sh("%s", "git init -q -b main lfsfail && cd lfsfail && git config user.email t@e && git config user.name t && "
	   "head -c 204800 /dev/zero > ../big.real && printf '#!/bin/sh\\ntrue\\n' > ../run.real && "
	   "mkdir models && for f in big run; do "
	   "  oid=$(sha256sum ../$f.real | cut -c1-64) && size=$(wc -c < ../$f.real) && "
	   "  o=.git/lfs/objects/$(echo $oid | cut -c1-2)/$(echo $oid | cut -c3-4) && "
	   "  mkdir -p $o && cp ../$f.real $o/$oid && "
	   "  printf 'version https://git-lfs.github.com/spec/v1\\noid sha256:%s\\nsize %s\\n' $oid $size "
	   "    > models/$f.lfs || exit 1; "
	   "done && mv models/big.lfs models/big.bin && mv models/run.lfs models/run.sh && chmod +x models/run.sh && "
	   "printf '*.bin filter=lfs diff=lfs merge=lfs -text\\n*.sh filter=lfs diff=lfs merge=lfs -text\\n' "
	   "  > .gitattributes && git add -A && git commit -qm lfs");
	sh("mkdir exported-lfsfail");
	assert_int_equal(export_fsize_limited(dir, dest, 64 * 1024, &skipped, &err), 0);
	/* exactly the pointer as committed */
	sh("cmp lfsfail/models/big.bin exported-lfsfail/models/big.bin");
	assert_int_equal(skipped.n, 1);
	assert_string_equal(skipped.msgs[0], "Git LFS file 'models/big.bin': its object could not be copied (File "
					     "too large): its file holds the pointer");
	got = sh_out("ls -A exported-lfsfail/models | tr '\\n' ' '");
	assert_string_equal(got, "big.bin run.sh ");
	free(got);
	sh("cmp run.real exported-lfsfail/models/run.sh && test -x exported-lfsfail/models/run.sh");
	errlist_release(&skipped);
	sh("rm -rf exported-lfsfail lfsfail big.real run.real");
	free(dir);
	free(dest);
}

/* Submodules nested more than 8 deep are not written, said once: a chain
 * top -> d1 -> ... -> d10, each pinning the next, is written down to d8. */
static void test_export_submodules_deep(void **state)
{
	struct errlist skipped = ERRLIST_INIT;
	struct err err = ERR_INIT;
	char *dir = path_in("deep/top"), *dest = path_in("exported-deep"), *got, *cmd;
	struct sb d8 = SB_INIT;

	(void)state;
	/* bottom up: each commit pins the already committed next level */
	sh("%s", "mkdir deep && cd deep && "
	   "for i in 10 9 8 7 6 5 4 3 2 1 0; do "
	   "  r=d$i; [ $i = 0 ] && r=top; "
	   "  git init -q -b main $r && cd $r && git config user.email t@e && git config user.name t && "
	   "  echo level-$i > l$i.txt && git add l$i.txt && "
	   "  { [ $i = 10 ] || git -c protocol.file.allow=always submodule add -q ../d$((i + 1)) d$((i + 1)); } && "
	   "  git commit -qm l$i && cd .. || exit 1; "
	   "done && cd top && git -c protocol.file.allow=always submodule update -q --init --recursive");
	sh("mkdir exported-deep");
	assert_int_equal(gitinfo_export(dir, "HEAD", dest, &skipped, &err), 0);
	assert_int_equal(skipped.n, 1);
	assert_string_equal(skipped.msgs[0], "submodule 'd1/d2/d3/d4/d5/d6/d7/d8/d9': nested more than 8 deep, "
					     "not written");
	sb_printf(&d8, "exported-deep");
	for (int i = 1; i <= 8; i++)
		sb_printf(&d8, "/d%d", i);
	cmd = xasprintf("cat %s/l8.txt", d8.buf);
	got = sh_out(cmd);
	assert_string_equal(got, "level-8");
	free(got);
	free(cmd);
	/* one file per written level, 0 to 8; d9 is left an empty folder */
	got = sh_out("find exported-deep -name 'l*.txt' | wc -l");
	assert_string_equal(got, "9");
	free(got);
	cmd = xasprintf("test -d %s/d9 && ls -A %s/d9 | wc -l", d8.buf, d8.buf);
	got = sh_out(cmd);
	assert_string_equal(got, "0");
	free(got);
	free(cmd);
	errlist_release(&skipped);
	sh("rm -rf exported-deep deep");
	sb_release(&d8);
	free(dir);
	free(dest);
}

static void test_strip_credentials(void **state)
{
	static const struct { const char *in, *want; } cases[] = {
		{ "https://user:tok@host/x", "https://host/x" },
		{ "https://x-access-token:ghs_abc@github.com/o/r.git", "https://github.com/o/r.git" },
		{ "https://gitlab-ci-token:glcbt-1@gitlab.com/g/p.git", "https://gitlab.com/g/p.git" },
		{ "https://ghp_tokenonly@github.com/o/r", "https://github.com/o/r" },
		{ "https://u:p%40ss@word@host:8443/r", "https://host:8443/r" },
		{ "ssh://git@github.com/o/r.git", "ssh://github.com/o/r.git" },
		{ "https://github.com/o/r.git", "https://github.com/o/r.git" },
		{ "https://host/path@with-at", "https://host/path@with-at" },
		{ "git@github.com:o/r.git", "git@github.com:o/r.git" },
		{ "/srv/git/repo.git", "/srv/git/repo.git" },
		{ "https://u:p@host", "https://host" },
	};

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char *got = gitinfo_strip_credentials(cases[i].in);
		assert_string_equal(got, cases[i].want);
		free(got);
	}
	assert_null(gitinfo_strip_credentials(NULL));
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_strip_credentials),
		cmocka_unit_test(test_normal),
		cmocka_unit_test(test_commit_time_and_subject),
		cmocka_unit_test(test_detached_ci),
		cmocka_unit_test(test_dirty),
		cmocka_unit_test(test_shallow),
		cmocka_unit_test(test_shallow_depth2),
		cmocka_unit_test(test_shallow_merge_base),
		cmocka_unit_test(test_remote_without_origin),
		cmocka_unit_test(test_worktree),
		cmocka_unit_test(test_no_repository),
		cmocka_unit_test(test_unborn),
		cmocka_unit_test(test_ancestors),
		cmocka_unit_test(test_ancestors_merge),
		cmocka_unit_test(test_merge_base),
		cmocka_unit_test(test_default_branch),
		cmocka_unit_test(test_resolve),
		cmocka_unit_test(test_export),
		cmocka_unit_test(test_export_submodules),
		cmocka_unit_test(test_export_lfs),
		cmocka_unit_test(test_export_lfs_copy_fails),
		cmocka_unit_test(test_export_submodules_deep),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
