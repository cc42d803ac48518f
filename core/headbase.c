/*
 * headbase.c: the head measured beside its base commit (headbase.h).
 */
#include <errno.h>
#include <ftw.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cictx.h"
#include "gitinfo.h"
#include "headbase.h"
#include "http/server.h"
#include "json.h"
#include "proc.h"
#include "runner_cmd.h"
#include "util.h"

/* Lines of a failed build's output kept for the error. */
#define BUILD_TAIL_LINES 20

static int make_tree(struct headbase *hb, struct err *err)
{
	const char *tmp = getenv("TMPDIR");
	char *tmpl = xasprintf("%s/perfgate-base-XXXXXX", tmp && *tmp ? tmp : "/tmp");

	if (!mkdtemp(tmpl)) {
		err_set(err, ERR_FAIL, "cannot make a folder for the base tree (%s): %s", tmpl, strerror(errno));
		free(tmpl);
		return ERR_FAIL;
	}
	hb->root = realpath(tmpl, NULL);
	if (!hb->root) {
		err_set(err, ERR_FAIL, "cannot resolve the base tree's folder %s: %s", tmpl, strerror(errno));
		rmdir(tmpl);
		free(tmpl);
		return ERR_FAIL;
	}
	free(tmpl);
	return 0;
}

int headbase_auto_ref(const char *repo_dir, const char *branch, char **out, struct err *err)
{
	struct rd_ci ci = { 0 };
	struct err e = ERR_INIT;
	char *name = NULL, *remote, *id = NULL;

	*out = NULL;
	cictx_detect(&ci);
	if (ci.base_branch && *ci.base_branch)
		name = xstrdup(ci.base_branch);
	else if (branch && *branch)
		name = xstrdup(branch);
	else
		gitinfo_default_branch(repo_dir, &name, &e);
	cictx_release(&ci);
	if (!name)
		return err_set(err, ERR_INPUT,
			       "--base auto: no pull/merge request target (GITHUB_BASE_REF, "
			       "CI_MERGE_REQUEST_TARGET_BRANCH_NAME), no baseline.branch in the suite and no remote default "
			       "branch (refs/remotes/origin/HEAD): name the base, as in --base origin/main");
	/* the remote's branch is what the change will merge into; a local one may be stale */
	remote = xasprintf("origin/%s", name);
	if (gitinfo_resolve(repo_dir, remote, &id, &e) == 0) {
		free(name);
		*out = remote;
	} else {
		free(remote);
		*out = name;
	}
	free(id);
	return 0;
}

int headbase_checkout(const char *repo_dir, const char *ref, struct headbase *hb, struct err *err)
{
	char *wd = NULL, *own = NULL, *head = NULL;
	int rc;

	*hb = (struct headbase)HEADBASE_INIT;
	if ((rc = gitinfo_workdir(repo_dir, &wd, err)) != 0)
		goto done;
	/* realpath drops the '/' libgit2 ends a work tree with */
	if (!(hb->head_root = realpath(wd, NULL))) {
		rc = err_set(err, ERR_FAIL, "cannot resolve the work tree %s: %s", wd, strerror(errno));
		goto done;
	}
	if ((rc = gitinfo_resolve_branch(repo_dir, ref, &own, err)) != 0 ||
	    (rc = gitinfo_resolve(repo_dir, "HEAD", &head, err)) != 0 ||
	    (rc = gitinfo_merge_base(repo_dir, head, ref, &hb->base.commit, err)) != 0)
		goto done;
	hb->base.ref = xstrdup(ref);
	hb->base.merge_base = strcmp(own, hb->base.commit) != 0;
	hb->same_commit = strcmp(head, hb->base.commit) == 0;
	if ((rc = make_tree(hb, err)) != 0)
		goto done;
	rc = gitinfo_export(repo_dir, hb->base.commit, hb->root, &hb->skipped, err);
done:
	if (rc == ERR_NOTFOUND || rc == ERR_FAIL) {
		/* a revision that is not there is the user's; a tree that could
		 * not be written is a run that could not be made */
		struct err why = *err;

		rc = err_set(err, rc == ERR_NOTFOUND ? ERR_INPUT : ERR_RUN, "--base %s: %s", ref, why.msg);
	}
	if (rc)
		headbase_release(hb);
	free(wd);
	free(own);
	free(head);
	return rc;
}

/* One tree's build: ERR_RUN with the tree named when it fails. */
static int build_in(const char *dir, const char *which, const char *build, char **log, struct err *err)
{
	const char *argv[] = { "sh", "-c", build, NULL };
	struct proc_options po = PROC_OPTIONS_INIT;
	struct proc_result res = { 0 };
	const char *text;
	size_t len;
	char *tail, *last;
	int rc;

	po.argv = argv;
	po.cwd = dir;
	po.out = PROC_OUT_CAPTURE;
	po.errout = PROC_OUT_CAPTURE;
	if ((rc = proc_run(&po, &res, err)) != 0) {
		struct err why = *err;

		proc_result_release(&res);
		return err_set(err, ERR_RUN, "the build could not start in %s: %s", which, why.msg);
	}
	if (proc_interrupted()) {
		proc_result_release(&res);
		return err_set(err, ERR_RUN, "the build in %s was interrupted", which);
	}
	if (res.exit_code == 0) {
		proc_result_release(&res);
		return 0;
	}
	/* what the build said last: its stderr, else its stdout */
	text = res.errout_len ? res.errout : res.out ? res.out : "";
	len = res.errout_len ? res.errout_len : res.out_len;
	tail = proc_tail_lines(text, len, BUILD_TAIL_LINES);
	last = proc_tail_lines(text, len, 1);
	last[strcspn(last, "\n")] = '\0';
	if (res.signal)
		err_set(err, ERR_RUN, "the build failed in %s: killed by signal %d%s%s", which, res.signal,
			*last ? ": " : "", last);
	else
		err_set(err, ERR_RUN, "the build failed in %s: exit status %d%s%s", which, res.exit_code,
			*last ? ": " : "", last);
	if (log)
		*log = tail;
	else
		free(tail);
	free(last);
	proc_result_release(&res);
	return ERR_RUN;
}

int headbase_build(const struct headbase *hb, const char *build, char **log, struct err *err)
{
	char which[128];
	int rc;

	if (log)
		*log = NULL;
	snprintf(which, sizeof(which), "the base tree (commit %.10s)", hb->base.commit);
	if ((rc = build_in(hb->root, which, build, log, err)) != 0)
		return rc;
	return build_in(hb->head_root, "the work tree (the head)", build, log, err);
}

/* Where benchmark b runs, mapped into both trees; ERR_INPUT outside the work tree. */
static int bench_dirs(const struct suite *suite, const struct suite_bench *b, const struct headbase *hb,
		      char **head_dir, char **base_dir, struct err *err)
{
	const char *cwd = json_peek_str(b->raw, "cwd");
	char *path = path_from(suite->dir, cwd);
	char *real = realpath(path, NULL);
	size_t n = strlen(hb->head_root);
	int rc = 0;

	*head_dir = *base_dir = NULL;
	if (!real)
		rc = err_set(err, ERR_INPUT, "benchmark '%s': its working folder %s: %s", b->name, path, strerror(errno));
	else if (strncmp(real, hb->head_root, n) != 0 || (real[n] != '\0' && real[n] != '/'))
		rc = err_set(err, ERR_INPUT,
			     "benchmark '%s' runs in %s, outside the repository's work tree %s: --base cannot run "
			     "it on the base commit's files", b->name, real, hb->head_root);
	if (rc == 0) {
		*head_dir = xstrdup(real);
		*base_dir = xasprintf("%s%s", hb->root, real + n);
	}
	free(real);
	free(path);
	return rc;
}

bool headbase_runs(const struct suite_bench *b)
{
	return b->kind == RUNDOC_KIND_COMMAND || (b->kind == RUNDOC_KIND_HTTP && json_peek(b->raw, "server"));
}

/* The length of url's "scheme://authority" (0: not a URL). */
static size_t origin_len(const char *url)
{
	const char *sep = strstr(url, "://");

	return sep ? (size_t)(sep + 3 - url) + strcspn(sep + 3, "/?#") : 0;
}

/* Every URL string under v (the "monitor" object: a server's metrics
 * endpoint) on the same scheme, host and port as url, moved to port. */
static void move_urls(cJSON *v, const char *url, const char *port)
{
	size_t n = origin_len(url);
	cJSON *it;
	char *moved;

	cJSON_ArrayForEach(it, v) {
		if (!cJSON_IsString(it)) {
			move_urls(it, url, port);
			continue;
		}
		if (n && origin_len(it->valuestring) == n && strncmp(it->valuestring, url, n) == 0 &&
		    (moved = http_server_url_with_port(it->valuestring, port))) {
			cJSON_SetValuestring(it, moved);
			free(moved);
		}
	}
}

/* A load test's base side gets a port of its own, so that both servers
 * run side by side: its URL, and the URLs of its monitor that name the
 * same server, move there (the server finds it in $PORT). */
static void own_port(cJSON *raw, const char *port)
{
	cJSON *http = cJSON_GetObjectItemCaseSensitive(raw, "http");
	cJSON *url = cJSON_GetObjectItemCaseSensitive(http, "url");
	char *moved;

	if (!cJSON_IsString(url) || !(moved = http_server_url_with_port(url->valuestring, port)))
		return;
	move_urls(cJSON_GetObjectItemCaseSensitive(raw, "monitor"), url->valuestring, port);
	cJSON_SetValuestring(url, moved);
	free(moved);
}

/* The port of a load test's base side: the one an earlier benchmark of the
 * suite got for the same server (definition, folder, scheme, host and
 * port), which it shares, else a free one.  seen[] holds "KEY\nPORT". */
static int base_port(const struct suite_bench *b, const char *dir, char **seen, size_t *n_seen, char *port,
		     size_t len, struct err *err)
{
	const char *url = json_peek_str(json_peek(b->raw, "http"), "url");
	char *def = json_canonical(json_peek(b->raw, "server"));
	char *key = xasprintf("%s\n%s\n%.*s\n", def, dir, url ? (int)origin_len(url) : 0, url ? url : "");
	size_t k = strlen(key);
	int rc = 0;

	free(def);
	for (size_t i = 0; i < *n_seen; i++)
		if (strncmp(seen[i], key, k) == 0) {
			snprintf(port, len, "%s", seen[i] + k);
			free(key);
			return 0;
		}
	if ((rc = http_server_free_port(port, len, err)) == 0)
		seen[(*n_seen)++] = xasprintf("%s%s", key, port);
	free(key);
	return rc;
}

/* One side of the pair: b's configuration, run in dir (a load test's base
 * side: on port), named NAME@side. */
static void add_side(struct suite_bench *out, const struct suite_bench *b, const char *side, const char *dir,
		     const char *port, bool reference)
{
	char *name = xasprintf("%s@%s", b->name, side);

	memset(out, 0, sizeof(*out));
	out->raw = cJSON_Duplicate(b->raw, true);
	cJSON_DeleteItemFromObjectCaseSensitive(out->raw, "cwd");
	cJSON_AddStringToObject(out->raw, "cwd", dir);
	cJSON_DeleteItemFromObjectCaseSensitive(out->raw, "name");
	cJSON_AddStringToObject(out->raw, "name", name);
	if (reference) /* the SLOs check the head */
		cJSON_DeleteItemFromObjectCaseSensitive(out->raw, "slo");
	if (port)
		own_port(out->raw, port);
	out->params = b->params ? cJSON_Duplicate(b->params, true) : NULL;
	out->name = name;
	out->kind = b->kind;
	out->variant_of = xstrdup(b->name);
	out->variant = xstrdup(side);
	out->reference = reference;
	suite_config_hash(out->raw, NULL, out->config_hash);
}

/* The repetitions b declares it runs at least (a load test: its "load"
 * object's `repetitions`, else its own, else 1), the key that sets them
 * and where it goes (*in: "", or " in its \"load\""). */
static size_t declared_pairs(const struct suite_bench *b, const char **key, const char **in)
{
	const cJSON *load = json_peek(b->raw, "load");

	*in = "";
	if (b->kind != RUNDOC_KIND_HTTP)
		return runner_cmd_declared_reps(b->raw, key);
	*key = "repetitions";
	*in = " in its \"load\"";
	return (size_t)json_peek_num(load, "repetitions", json_peek_num(b->raw, "repetitions", 1));
}

size_t headbase_min_pairs(double alpha)
{
	return alpha > 0 && alpha < 1 ? (size_t)ceil(-log2(alpha)) : 1;
}

/* Does any metric of b gate: b's own setting, or a compare.metrics entry
 * of the suite or of b that turns gating on? */
static bool any_metric_gates(const struct suite *suite, const struct suite_bench *b, const struct verdict_settings *cs)
{
	const cJSON *levels[] = { suite->compare, json_peek(b->raw, "compare") };

	if (cs->gate)
		return true;
	for (size_t i = 0; i < sizeof(levels) / sizeof(levels[0]); i++) {
		const cJSON *m = cJSON_IsObject(levels[i]) ? cJSON_GetObjectItemCaseSensitive(levels[i], "metrics") : NULL;
		const cJSON *it;

		cJSON_ArrayForEach(it, m)
			if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(it, "gate")))
				return true;
	}
	return false;
}

/* The pairs b needs so that the paired test can reach its alpha: 0 when
 * none of its metrics gate. */
static int pairs_needed(const struct suite *suite, const struct suite_bench *b, size_t *need, double *alpha,
			struct err *err)
{
	struct verdict_settings cs;
	int rc;

	*need = 0;
	if ((rc = compare_settings_for(suite, b->name, NULL, &cs, err)) != 0)
		return rc;
	*alpha = cs.alpha;
	if (any_metric_gates(suite, b, &cs))
		*need = headbase_min_pairs(cs.alpha) + (b->kind == RUNDOC_KIND_HTTP ? HEADBASE_LOAD_EXTRA_PAIRS : 0);
	return 0;
}

size_t headbase_pairs_lacking(const struct suite *suite, const struct suite_bench *b, long repetitions,
			      const char **key, const char **in)
{
	struct err e = ERR_INIT;
	size_t need, had = declared_pairs(b, key, in);
	double alpha;

	if (pairs_needed(suite, b, &need, &alpha, &e) != 0)
		return 0;
	if (repetitions > 0)
		had = (size_t)repetitions;
	return had < need ? need : 0;
}

/* Raise a side's declared count (fixed, or the adaptive minimum; a load
 * test's, in its "load" object, where it wins) to need. */
static void lift_pairs(cJSON *raw, enum rundoc_kind kind, size_t need)
{
	const char *key;
	cJSON *load;

	if (kind == RUNDOC_KIND_HTTP) {
		if (!cJSON_IsObject(load = cJSON_GetObjectItemCaseSensitive(raw, "load")))
			load = cJSON_AddObjectToObject(raw, "load");
		cJSON_DeleteItemFromObjectCaseSensitive(load, "repetitions");
		cJSON_AddNumberToObject(load, "repetitions", (double)need);
		return;
	}
	if (runner_cmd_declared_reps(raw, &key) >= need)
		return;
	cJSON_DeleteItemFromObjectCaseSensitive(raw, key);
	cJSON_AddNumberToObject(raw, key, (double)need);
	if (strcmp(key, "min_repetitions") == 0 && json_peek_num(raw, "max_repetitions", LONG_MAX) < (long)need) {
		cJSON_DeleteItemFromObjectCaseSensitive(raw, "max_repetitions");
		cJSON_AddNumberToObject(raw, "max_repetitions", (double)need);
	}
}

/* The base commit's version of the suite file, loaded; NULL when it has
 * none or it does not load (*outside: the suite is not in the work tree). */
static struct suite *base_suite(const struct suite *suite, const struct headbase *hb, bool *outside)
{
	char *real = realpath(suite->path, NULL), *path;
	size_t n = strlen(hb->head_root);
	struct errlist problems = ERRLIST_INIT;
	struct err e = ERR_INIT;
	struct suite *bs = NULL;

	*outside = !real || strncmp(real, hb->head_root, n) != 0 || real[n] != '/';
	if (*outside) {
		free(real);
		return NULL;
	}
	path = xasprintf("%s%s", hb->root, real + n);
	if (access(path, F_OK) != 0 || suite_load(&bs, path, &problems, &e) != 0)
		bs = NULL;
	errlist_release(&problems);
	free(path);
	free(real);
	return bs;
}

/* hb->base.changed: the command benchmarks the base commit's suite lacks
 * or defines with another configuration (headbase.h). */
static void find_changed(const struct suite *suite, struct headbase *hb)
{
	bool outside;
	struct suite *bs = base_suite(suite, hb, &outside);

	hb->base.changed = xcalloc(suite->n_benches + 1, sizeof(char *));
	for (size_t i = 0; i < suite->n_benches && !outside; i++) {
		const struct suite_bench *b = &suite->benches[i];
		const struct suite_bench *was = bs ? suite_find_bench(bs, b->name) : NULL;

		if (headbase_runs(b) && (!was || strcmp(was->config_hash, b->config_hash) != 0))
			hb->base.changed[hb->base.n_changed++] = xstrdup(b->name);
	}
	suite_free(bs);
}

int headbase_suite(struct suite *suite, struct headbase *hb, long *repetitions, struct errlist *notes,
		   struct err *err)
{
	struct suite_bench *pairs = xcalloc(2 * suite->n_benches + 1, sizeof(*pairs));
	char **ports = xcalloc(suite->n_benches + 1, sizeof(*ports));
	size_t n = 0, most = 0, n_ports = 0;
	double most_alpha = 0;
	int rc = 0;

	for (size_t i = 0; i < suite->n_benches && rc == 0; i++) {
		const struct suite_bench *b = &suite->benches[i];
		char *head_dir, *base_dir, port[8] = "";
		const char *key, *in;
		size_t need, had;
		double alpha;

		if (b->variant_of) {
			rc = err_set(err, ERR_INPUT,
				     "benchmark '%s' declares variants: --base compares each benchmark with itself on "
				     "the base commit, and cannot compare variants as well", b->variant_of);
			break;
		}
		if (!headbase_runs(b)) {
			if (b->kind == RUNDOC_KIND_HTTP)
				errlist_add(notes, "benchmark '%s' is not run: --base starts a load test's target on each "
					    "side only when the benchmark declares it as its \"server\" (docs/load.md); "
					    "without one it is compared with its history by a gate without --base", b->name);
			else
				errlist_add(notes, "benchmark '%s' is not run: --base does not compare ingested results "
					    "(a gate without --base compares them with their history)", b->name);
			continue;
		}
		if ((rc = bench_dirs(suite, b, hb, &head_dir, &base_dir, err)) != 0 ||
		    (rc = pairs_needed(suite, b, &need, &alpha, err)) != 0 ||
		    (b->kind == RUNDOC_KIND_HTTP &&
		     (rc = base_port(b, base_dir, ports, &n_ports, port, sizeof(port), err)) != 0)) {
			free(head_dir);
			free(base_dir);
			break;
		}
		add_side(&pairs[n++], b, "base", base_dir, port[0] ? port : NULL, true);
		add_side(&pairs[n++], b, "head", head_dir, NULL, false);
		free(head_dir);
		free(base_dir);
		if (need > most) {
			most = need;
			most_alpha = alpha;
		}
		if (*repetitions > 0) /* --repetitions N: said once, below */
			continue;
		if ((had = declared_pairs(b, &key, &in)) < need && had < headbase_min_pairs(alpha)) {
			errlist_add(notes, "benchmark '%s': %zu pairs can never show a change at alpha %g (with every "
				    "pair worse, p = 2^-%zu); --base runs %zu (set \"%s\": %zu or more%s)",
				    b->name, had, alpha, had, need, key, need, in);
		} else if (had < need) {
			errlist_add(notes, "benchmark '%s': %zu pairs leave a load test's paired test no room at alpha "
				    "%g (its percentiles and rates move in steps, and pairs that tie count less); "
				    "--base runs %zu (set \"%s\": %zu or more%s)", b->name, had, alpha, need, key, need,
				    in);
		}
		if (had < need) {
			lift_pairs(pairs[n - 2].raw, b->kind, need);
			lift_pairs(pairs[n - 1].raw, b->kind, need);
		}
	}
	if (rc == 0 && *repetitions > 0 && (size_t)*repetitions < most) {
		errlist_add(notes, "--repetitions %ld: too few pairs for the paired test at alpha %g; --base runs %zu",
			    *repetitions, most_alpha, most);
		*repetitions = (long)most;
	}
	if (rc == 0 && n == 0)
		rc = err_set(err, ERR_INPUT, "suite '%s' has no command benchmark, and no load benchmark with a "
			     "\"server\", to compare with the base commit", suite->path);
	argv_free(ports);
	if (rc) {
		suite_benches_free(pairs, n);
		return rc;
	}
	find_changed(suite, hb);
	suite_benches_free(suite->benches, suite->n_benches);
	suite->benches = pairs;
	suite->n_benches = n;
	return 0;
}

bool headbase_failed_on_base(const struct rundoc *rd, const struct rd_bench *b)
{
	struct rundoc_variant v;
	const struct rd_bench *head;
	char *name;

	if (b->status != RUNDOC_STATUS_FAILED || !rundoc_bench_variant(b, &v) || !v.reference || !v.of ||
	    !v.name || strcmp(v.name, "base") != 0)
		return false;
	name = xasprintf("%s@head", v.of);
	head = rundoc_find_bench(rd, name);
	free(name);
	return head && head->status == RUNDOC_STATUS_OK;
}

bool headbase_changed_failed_on_base(const struct compare_against_base *ab, const struct rundoc *rd,
				     const struct rd_bench *b)
{
	struct rundoc_variant v;

	if (!ab || !headbase_failed_on_base(rd, b) || !rundoc_bench_variant(b, &v))
		return false;
	for (size_t i = 0; i < ab->n_changed; i++)
		if (strcmp(ab->changed[i], v.of) == 0)
			return true;
	return false;
}

static int remove_one(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	(void)st;
	(void)flag;
	(void)ftw;
	/* a failure is left behind: the tree is under $TMPDIR */
	remove(path);
	return 0;
}

void headbase_release(struct headbase *hb)
{
	/* FTW_PHYS: a link in the tree is removed, never followed */
	if (hb->root)
		nftw(hb->root, remove_one, 16, FTW_DEPTH | FTW_PHYS);
	free(hb->root);
	free(hb->head_root);
	free(hb->base.ref);
	free(hb->base.commit);
	for (size_t i = 0; i < hb->base.n_changed; i++)
		free(hb->base.changed[i]);
	free(hb->base.changed);
	errlist_release(&hb->skipped);
	*hb = (struct headbase)HEADBASE_INIT;
}
