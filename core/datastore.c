/*
 * datastore.c: run documents on a git data branch (see datastore.h).
 */
#include "datastore.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <git2.h>
#include <zlib.h>

#include "proc.h"
#include "util.h"

#define FETCHED_PREFIX "refs/perfgate/fetched/"
#define MAX_FILE ((size_t)256 << 20) /* uncompressed bytes of one run file at most */

struct staged {
	char *path;            /* the file to add, or to remove */
	char run_id[37];
	git_oid oid;           /* an addition's blob */
	bool remove;
	bool replace;          /* an addition that replaces a file of the same run (retention) */
	char *replaces;        /* ... that file's path, which must still be there */
	char *series;          /* a new run's project, suite, branch and machine, for retention */
	char *started;         /* ... and its start time */
	bool pruned;           /* a new run staged without its samples already */
};

struct datastore {
	git_repository *repo;
	char *git_dir;         /* for `git --git-dir` */
	char *remote;          /* NULL: the local branch only */
	char *branch;
	char *branch_ref;      /* refs/heads/<branch> */
	char *fetched_ref;     /* where the remote's branch is fetched to */
	int retries;
	char *auth_env;        /* GIT_CONFIG_VALUE_0=Authorization: Basic ...; NULL: none */
	char *token;           /* scrubbed from every message */
	bool have_tip;
	git_oid tip;
	char tip_hex[GIT_OID_HEXSZ + 1];
	struct staged *st;
	size_t n_st, alloc_st;
	unsigned seed;         /* for the backoff between pushes */
};

static const char *git_msg(void)
{
	const git_error *e = git_error_last();

	return e && e->message ? e->message : "unknown libgit2 error";
}

/* Replace every occurrence of secret in msg by "***". */
static void scrub(char *msg, const char *secret)
{
	size_t sl = secret ? strlen(secret) : 0;
	char *p;

	if (sl == 0)
		return;
	while ((p = strstr(msg, secret)) != NULL) {
		memcpy(p, "***", 3);
		memmove(p + 3, p + sl, strlen(p + sl) + 1);
	}
}

/* ---- compression ---- */

int datastore_gzip(const void *data, size_t len, unsigned char **out, size_t *out_len, struct err *err)
{
	z_stream z;
	uLong bound;
	int zrc;

	memset(&z, 0, sizeof(z));
	/* windowBits 15 + 16: a gzip stream; zlib writes mtime 0, so the same
	 * input gives the same bytes. */
	if (deflateInit2(&z, 6, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK)
		return err_set(err, ERR_FAIL, "cannot start compression: %s", z.msg ? z.msg : "zlib");
	bound = deflateBound(&z, (uLong)len) + 32;
	*out = xmalloc(bound);
	z.next_in = (Bytef *)(uintptr_t)data;
	z.avail_in = (uInt)len;
	z.next_out = *out;
	z.avail_out = (uInt)bound;
	zrc = deflate(&z, Z_FINISH);
	*out_len = z.total_out;
	deflateEnd(&z);
	if (zrc != Z_STREAM_END) {
		free(*out);
		*out = NULL;
		return err_set(err, ERR_FAIL, "cannot compress a run file (zlib %d)", zrc);
	}
	return 0;
}

int datastore_gunzip(const void *data, size_t len, size_t max_out, char **out, size_t *out_len,
		     struct err *err)
{
	z_stream z;
	struct sb sb = SB_INIT;
	unsigned char buf[65536];
	int zrc = Z_OK, rc = 0;

	memset(&z, 0, sizeof(z));
	*out = NULL;
	*out_len = 0;
	if (inflateInit2(&z, 15 + 32) != Z_OK)
		return err_set(err, ERR_FAIL, "cannot start decompression");
	z.next_in = (Bytef *)(uintptr_t)data;
	z.avail_in = (uInt)len;
	while (zrc != Z_STREAM_END) {
		z.next_out = buf;
		z.avail_out = sizeof(buf);
		zrc = inflate(&z, Z_NO_FLUSH);
		if (zrc != Z_OK && zrc != Z_STREAM_END) {
			rc = err_set(err, ERR_INPUT, "not a gzip stream (%s)", z.msg ? z.msg : "truncated");
			break;
		}
		sb_add(&sb, buf, sizeof(buf) - z.avail_out);
		if (sb.len > max_out) {
			rc = err_set(err, ERR_INPUT, "decompresses to more than %zu bytes", max_out);
			break;
		}
		if (zrc == Z_OK && z.avail_in == 0 && z.avail_out != 0) {
			rc = err_set(err, ERR_INPUT, "not a gzip stream (truncated)");
			break;
		}
	}
	inflateEnd(&z);
	if (rc) {
		sb_release(&sb);
		return rc;
	}
	*out_len = sb.len;
	*out = sb.len ? sb_detach(&sb) : xstrdup("");
	return 0;
}

/* ---- opening ---- */

/* "Authorization: Basic base64(user:token)" for git's http.extraHeader. */
static char *basic_auth(const char *user, const char *token)
{
	static const char b64[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	char *plain = xasprintf("%s:%s", user, token);
	size_t n = strlen(plain);
	struct sb out = SB_INIT;

	sb_puts(&out, "GIT_CONFIG_VALUE_0=Authorization: Basic ");
	for (size_t i = 0; i < n; i += 3) {
		unsigned v = (unsigned char)plain[i] << 16;

		v |= i + 1 < n ? (unsigned char)plain[i + 1] << 8 : 0;
		v |= i + 2 < n ? (unsigned char)plain[i + 2] : 0;
		sb_putc(&out, b64[(v >> 18) & 63]);
		sb_putc(&out, b64[(v >> 12) & 63]);
		sb_putc(&out, i + 1 < n ? b64[(v >> 6) & 63] : '=');
		sb_putc(&out, i + 2 < n ? b64[v & 63] : '=');
	}
	memset(plain, 0, n);
	free(plain);
	return sb_detach(&out);
}

int datastore_open(struct datastore **out, const struct datastore_options *o, struct err *err)
{
	struct datastore *ds = xcalloc(1, sizeof(*ds));
	const char *remote = o->remote ? o->remote : "origin";
	int grc;

	*out = NULL;
	git_libgit2_init();
	/* CI jobs often run as root over a checkout owned by another user. */
	git_libgit2_opts(GIT_OPT_SET_OWNER_VALIDATION, 0);
	grc = git_repository_open_ext(&ds->repo, o->repo ? o->repo : ".", 0, NULL);
	if (grc < 0) {
		err_set(err, ERR_INPUT, "cannot open the git repository at '%s' for the data branch: %s",
			o->repo ? o->repo : ".", git_msg());
		datastore_free(ds);
		return ERR_INPUT;
	}
	ds->git_dir = xstrdup(git_repository_path(ds->repo));
	ds->remote = *remote ? xstrdup(remote) : NULL;
	ds->branch = xstrdup(o->branch && *o->branch ? o->branch : DATASTORE_BRANCH);
	ds->branch_ref = xasprintf("refs/heads/%s", ds->branch);
	if (git_reference_name_is_valid(&grc, ds->branch_ref) < 0 || !grc) {
		grc = err_set(err, ERR_INPUT, "invalid data branch name '%s'", ds->branch);
		datastore_free(ds);
		return grc;
	}
	ds->fetched_ref = ds->remote ? xasprintf(FETCHED_PREFIX "%s", ds->branch) : xstrdup(ds->branch_ref);
	ds->retries = o->retries > 0 ? o->retries : 8;
	ds->seed = (unsigned)getpid() ^ (unsigned)now_ns();
	if (o->token && *o->token) {
		ds->token = xstrdup(o->token);
		ds->auth_env = basic_auth(o->token_user && *o->token_user ? o->token_user : "x-access-token",
					  o->token);
	}
	*out = ds;
	return 0;
}

static void staged_release(struct datastore *ds)
{
	for (size_t i = 0; i < ds->n_st; i++) {
		free(ds->st[i].path);
		free(ds->st[i].replaces);
		free(ds->st[i].series);
		free(ds->st[i].started);
	}
	ds->n_st = 0;
}

void datastore_free(struct datastore *ds)
{
	if (!ds)
		return;
	staged_release(ds);
	free(ds->st);
	git_repository_free(ds->repo);
	free(ds->git_dir);
	free(ds->remote);
	free(ds->branch);
	free(ds->branch_ref);
	free(ds->fetched_ref);
	if (ds->auth_env)
		memset(ds->auth_env, 0, strlen(ds->auth_env));
	free(ds->auth_env);
	free(ds->token);
	free(ds);
	git_libgit2_shutdown();
}

const char *datastore_tip(const struct datastore *ds)
{
	return ds->have_tip ? ds->tip_hex : "";
}

/* ---- the git program ---- */

/*
 * Run `git --git-dir=G ARGS...`; *errout (caller frees) gets what git wrote
 * on stderr, on one line, with any token scrubbed.  Returns git's exit
 * status (>= 0), or a negative code when git could not be run.
 */
static int run_git(struct datastore *ds, const char *const *args, char **errout, struct err *err)
{
	const char *argv[20];
	const char *env[5] = { "GIT_TERMINAL_PROMPT=0", NULL };
	char *gd = xasprintf("--git-dir=%s", ds->git_dir);
	struct proc_options po = PROC_OPTIONS_INIT;
	struct proc_result res;
	size_t n = 0;
	int rc;

	argv[n++] = "git";
	argv[n++] = gd;
	/* Advice is for people at a terminal; the message we keep is git's error. */
	argv[n++] = "-c";
	argv[n++] = "advice.pushUpdateRejected=false";
	for (size_t i = 0; args[i] && n < ARRAY_SIZE(argv) - 1; i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	if (ds->auth_env) {
		/* The token goes to git through its environment (GIT_CONFIG_*,
		 * git >= 2.31), never on a command line that ps would show. */
		env[1] = "GIT_CONFIG_COUNT=1";
		env[2] = "GIT_CONFIG_KEY_0=http.extraHeader";
		env[3] = ds->auth_env;
	}
	po.argv = argv;
	po.env = env;
	po.out = PROC_OUT_NULL;
	po.errout = PROC_OUT_CAPTURE;
	po.timeout = 600;
	rc = proc_run(&po, &res, err);
	free(gd);
	if (rc < 0) {
		if (res.exec_failed)
			rc = err_set(err, ERR_INFRA, "cannot run git (the Debian package 'git') for the data branch");
		proc_result_release(&res);
		return rc;
	}
	*errout = xstrdup(res.errout ? res.errout : "");
	for (char *p = *errout; *p; p++)
		if (*p == '\n' || *p == '\r')
			*p = ' ';
	scrub(*errout, ds->token);
	rc = res.timed_out ? 124 : res.exit_code < 0 ? 128 : res.exit_code;
	proc_result_release(&res);
	return rc;
}

static int load_tip(struct datastore *ds, struct err *err)
{
	int grc = git_reference_name_to_id(&ds->tip, ds->repo, ds->fetched_ref);

	ds->have_tip = grc == 0;
	ds->tip_hex[0] = 0;
	if (grc == 0)
		git_oid_tostr(ds->tip_hex, sizeof(ds->tip_hex), &ds->tip);
	else if (grc != GIT_ENOTFOUND)
		return err_set(err, ERR_FAIL, "cannot read '%s': %s", ds->fetched_ref, git_msg());
	return 0;
}

int datastore_fetch(struct datastore *ds, struct err *err)
{
	char *spec = NULL, *tail = NULL;
	const char *args[8];
	int rc;

	if (!ds->remote)
		return load_tip(ds, err);
	spec = xasprintf("+%s:%s", ds->branch_ref, ds->fetched_ref);
	args[0] = "fetch";
	args[1] = "--quiet";
	args[2] = "--no-tags";
	args[3] = "--no-write-fetch-head";
	args[4] = ds->remote;
	args[5] = spec;
	args[6] = NULL;
	rc = run_git(ds, args, &tail, err);
	if (rc > 0 && strstr(tail, "couldn't find remote ref")) {
		/* No data branch yet: an empty store (and forget an old fetch). */
		git_reference *ref = NULL;

		if (git_reference_lookup(&ref, ds->repo, ds->fetched_ref) == 0) {
			git_reference_delete(ref);
			git_reference_free(ref);
		}
		rc = 0;
	} else if (rc > 0) {
		rc = err_set(err, ERR_INFRA, "cannot fetch the data branch '%s' from '%s': %s", ds->branch,
			     ds->remote, *tail ? tail : "git failed");
	}
	if (rc == 0)
		rc = load_tip(ds, err);
	free(tail);
	free(spec);
	return rc;
}

/* ---- reading ---- */

static bool is_hex(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (!((s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f')))
			return false;
	return true;
}

/* "<run_id>.<hash>.json.gz" in folder xx (the run id's first two digits). */
static bool parse_name(const char *dir, const char *name, struct datastore_entry *e)
{
	size_t n = strlen(name);

	if (n != 36 + 1 + 32 + strlen(".json.gz") || strcmp(name + 69, ".json.gz") != 0 || name[36] != '.')
		return false;
	for (size_t i = 0; i < 36; i++) {
		bool dash = i == 8 || i == 13 || i == 18 || i == 23;

		if (dash ? name[i] != '-' : !is_hex(name + i, 1))
			return false;
	}
	if (!is_hex(name + 37, 32) || strncmp(dir, name, 2) != 0)
		return false;
	memcpy(e->run_id, name, 36);
	e->run_id[36] = 0;
	memcpy(e->hash, name + 37, 32);
	e->hash[32] = 0;
	return true;
}

static void push_entry(struct datastore_entry **v, size_t *n, size_t *alloc, const char *dir, const char *name,
		       const git_oid *oid, const struct datastore_entry *parsed)
{
	struct datastore_entry *e;

	XGROW(*v, *alloc, *n + 1);
	e = &(*v)[(*n)++];
	memset(e, 0, sizeof(*e));
	if (parsed)
		*e = *parsed;
	e->path = xasprintf("runs/%s/%s", dir, name);
	memcpy(e->oid, oid->id, sizeof(e->oid));
}

static int list_dir(struct datastore *ds, const git_tree_entry *dir, struct datastore_entry **v, size_t *n,
		    size_t *alloc, struct datastore_entry **odd, size_t *n_odd, size_t *alloc_odd, struct err *err)
{
	git_tree *t = NULL;
	const char *dname = git_tree_entry_name(dir);

	if (git_tree_lookup(&t, ds->repo, git_tree_entry_id(dir)) < 0)
		return err_set(err, ERR_FAIL, "cannot read the folder runs/%s of the data branch: %s", dname, git_msg());
	for (size_t i = 0; i < git_tree_entrycount(t); i++) {
		const git_tree_entry *te = git_tree_entry_byindex(t, i);
		struct datastore_entry parsed;

		memset(&parsed, 0, sizeof(parsed));
		if (git_tree_entry_type(te) == GIT_OBJECT_BLOB &&
		    parse_name(dname, git_tree_entry_name(te), &parsed))
			push_entry(v, n, alloc, dname, git_tree_entry_name(te), git_tree_entry_id(te), &parsed);
		else if (odd)
			push_entry(odd, n_odd, alloc_odd, dname, git_tree_entry_name(te), git_tree_entry_id(te), NULL);
	}
	git_tree_free(t);
	return 0;
}

/* The tip's "runs" folder, NULL (and 0) when there is none. */
static int runs_tree(struct datastore *ds, git_tree **out, struct err *err)
{
	git_commit *c = NULL;
	git_tree *root = NULL;
	const git_tree_entry *te;
	int rc = 0;

	*out = NULL;
	if (!ds->have_tip)
		return 0;
	if (git_commit_lookup(&c, ds->repo, &ds->tip) < 0 || git_commit_tree(&root, c) < 0) {
		rc = err_set(err, ERR_FAIL, "cannot read the data branch's commit %s: %s", ds->tip_hex, git_msg());
		goto done;
	}
	te = git_tree_entry_byname(root, "runs");
	if (te && git_tree_entry_type(te) == GIT_OBJECT_TREE && git_tree_lookup(out, ds->repo, git_tree_entry_id(te)) < 0)
		rc = err_set(err, ERR_FAIL, "cannot read the runs folder of the data branch: %s", git_msg());
done:
	git_tree_free(root);
	git_commit_free(c);
	return rc;
}

int datastore_list(struct datastore *ds, struct datastore_entry **out, size_t *n, struct datastore_entry **odd,
		   size_t *n_odd, struct err *err)
{
	git_tree *runs = NULL;
	size_t alloc = 0, alloc_odd = 0, dummy = 0;
	int rc;

	*out = NULL;
	*n = 0;
	if (odd) {
		*odd = NULL;
		*n_odd = 0;
	}
	if ((rc = runs_tree(ds, &runs, err)) < 0 || !runs)
		return rc;
	for (size_t i = 0; i < git_tree_entrycount(runs) && rc == 0; i++) {
		const git_tree_entry *te = git_tree_entry_byindex(runs, i);

		if (git_tree_entry_type(te) == GIT_OBJECT_TREE)
			rc = list_dir(ds, te, out, n, &alloc, odd, odd ? n_odd : &dummy, &alloc_odd, err);
		else if (odd)
			push_entry(odd, n_odd, &alloc_odd, ".", git_tree_entry_name(te), git_tree_entry_id(te), NULL);
	}
	git_tree_free(runs);
	return rc;
}

void datastore_entries_free(struct datastore_entry *e, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(e[i].path);
	free(e);
}

int datastore_read(struct datastore *ds, const struct datastore_entry *e, cJSON **out, struct err *err)
{
	git_blob *blob = NULL;
	git_oid oid;
	char *text = NULL, hash[65];
	size_t len = 0;
	const cJSON *fmt, *ver, *run, *id;
	int rc = 0;

	*out = NULL;
	memcpy(oid.id, e->oid, sizeof(e->oid));
	if (git_blob_lookup(&blob, ds->repo, &oid) < 0)
		return err_set(err, ERR_INPUT, "%s: cannot read the file: %s", e->path, git_msg());
	rc = datastore_gunzip(git_blob_rawcontent(blob), (size_t)git_blob_rawsize(blob), MAX_FILE, &text, &len, err);
	git_blob_free(blob);
	if (rc) {
		err_prefix(err, "%s", e->path);
		return ERR_INPUT;
	}
	sha256_hex(text, len, hash);
	if (strncmp(hash, e->hash, 32) != 0) {
		rc = err_set(err, ERR_INPUT, "%s: damaged: its content does not match the hash in its name", e->path);
		goto done;
	}
	*out = cJSON_ParseWithLength(text, len);
	fmt = cJSON_GetObjectItemCaseSensitive(*out, "format");
	ver = cJSON_GetObjectItemCaseSensitive(*out, "version");
	run = cJSON_GetObjectItemCaseSensitive(*out, "run");
	id = cJSON_GetObjectItemCaseSensitive(run, "run_id");
	if (!cJSON_IsObject(*out) || !cJSON_IsString(fmt) || strcmp(fmt->valuestring, DATASTORE_FORMAT) != 0)
		rc = err_set(err, ERR_INPUT, "%s: not a perfgate run file", e->path);
	else if (!cJSON_IsNumber(ver) || ver->valuedouble != DATASTORE_VERSION)
		rc = err_set(err, ERR_INPUT, "%s: run file version %g is not %d (a newer perfgate wrote it?)", e->path,
			     cJSON_IsNumber(ver) ? ver->valuedouble : NAN, DATASTORE_VERSION);
	else if (!cJSON_IsString(id) || strcmp(id->valuestring, e->run_id) != 0)
		rc = err_set(err, ERR_INPUT, "%s: the run inside is not run %s", e->path, e->run_id);
done:
	if (rc) {
		cJSON_Delete(*out);
		*out = NULL;
	}
	free(text);
	return rc;
}

/* ---- staging ---- */

static const char *jstr(const cJSON *o, const char *k)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(o, k);

	return cJSON_IsString(v) ? v->valuestring : "";
}

/* Retention counts runs per series: project, suite, branch and machine. */
static char *series_key(const cJSON *run)
{
	return xasprintf("%s\x1f%s\x1f%s\x1f%s", jstr(run, "project"), jstr(run, "suite"),
			 jstr(cJSON_GetObjectItemCaseSensitive(run, "git"), "branch"), jstr(run, "fingerprint"));
}

static bool valid_run_id(const char *id)
{
	struct datastore_entry e;
	char name[128];

	if (!id || strlen(id) != 36)
		return false;
	snprintf(name, sizeof(name), "%s.%032d.json.gz", id, 0);
	return parse_name(id, name, &e);
}

/* Write one run file's blob; *path (caller frees) is where it goes. */
static int write_file(struct datastore *ds, cJSON *file, const char *run_id, git_oid *oid, char **path,
		      struct err *err)
{
	char *text = xcheck(cJSON_PrintUnformatted(file)), hash[65];
	unsigned char *gz = NULL;
	size_t gz_len = 0;
	int rc;

	sha256_hex(text, strlen(text), hash);
	rc = datastore_gzip(text, strlen(text), &gz, &gz_len, err);
	if (rc == 0 && git_blob_create_from_buffer(oid, ds->repo, gz, gz_len) < 0)
		rc = err_set(err, ERR_FAIL, "cannot write a run file into the repository: %s", git_msg());
	if (rc == 0)
		*path = xasprintf("runs/%.2s/%s.%.32s.json.gz", run_id, run_id, hash);
	free(gz);
	free(text);
	return rc;
}

static struct staged *stage(struct datastore *ds, const char *path, const char *run_id)
{
	struct staged *s;

	for (size_t i = 0; i < ds->n_st; i++)
		if (strcmp(ds->st[i].path, path) == 0 && !ds->st[i].remove)
			return NULL;
	XGROW(ds->st, ds->alloc_st, ds->n_st + 1);
	s = &ds->st[ds->n_st++];
	memset(s, 0, sizeof(*s));
	s->path = xstrdup(path);
	snprintf(s->run_id, sizeof(s->run_id), "%s", run_id);
	return s;
}

int datastore_stage_run(struct datastore *ds, const cJSON *run, const cJSON *comparison, struct err *err)
{
	const cJSON *id = cJSON_GetObjectItemCaseSensitive(run, "run_id");
	cJSON *file;
	struct staged *s;
	char *path = NULL;
	git_oid oid;
	int rc;

	if (!cJSON_IsString(id) || !valid_run_id(id->valuestring))
		return err_set(err, ERR_INPUT, "a run without a valid run_id cannot go on the data branch");
	file = cJSON_CreateObject();
	cJSON_AddStringToObject(file, "format", DATASTORE_FORMAT);
	cJSON_AddNumberToObject(file, "version", DATASTORE_VERSION);
	cJSON_AddItemToObject(file, "run", cJSON_Duplicate(run, 1));
	cJSON_AddItemToObject(file, "comparison", comparison ? cJSON_Duplicate(comparison, 1) : cJSON_CreateNull());
	rc = write_file(ds, file, id->valuestring, &oid, &path, err);
	if (rc == 0 && (s = stage(ds, path, id->valuestring)) != NULL) {
		s->oid = oid;
		s->series = series_key(run);
		s->started = xstrdup(jstr(run, "started_at"));
	}
	free(path);
	cJSON_Delete(file);
	return rc;
}

/* ---- committing and pushing ---- */

static int cmp_entry_id(const void *a, const void *b)
{
	return strcmp(((const struct datastore_entry *)a)->run_id, ((const struct datastore_entry *)b)->run_id);
}

static int cmp_entry_path(const void *a, const void *b)
{
	return strcmp(((const struct datastore_entry *)a)->path, ((const struct datastore_entry *)b)->path);
}

static int cmp_update(const void *a, const void *b)
{
	return strcmp(((const git_tree_update *)a)->path, ((const git_tree_update *)b)->path);
}

static bool has_id(struct datastore_entry *by_id, size_t n, const char *run_id)
{
	struct datastore_entry key;

	if (!n)
		return false;
	snprintf(key.run_id, sizeof(key.run_id), "%s", run_id);
	return bsearch(&key, by_id, n, sizeof(*by_id), cmp_entry_id) != NULL;
}

static bool has_path(struct datastore_entry *by_path, size_t n, const char *path)
{
	struct datastore_entry key;

	key.path = (char *)(uintptr_t)path;
	return bsearch(&key, by_path, n, sizeof(*by_path), cmp_entry_path) != NULL;
}

static const char readme[] =
	"# perfgate's data branch\n\n"
	"Results of `perfgate gate` runs on this repository's baseline branches, one\n"
	"gzip'ed JSON file per run under runs/, written by `perfgate store export`\n"
	"and read back into a database by `perfgate store import` (docs/ci.md).\n"
	"Files are only ever added (retention rewrites old runs without their raw\n"
	"samples); their names carry the SHA-256 of their content.\n";

/* The tree of the tip with the staged changes that still apply; counts them. */
static int build_tree(struct datastore *ds, git_tree *base, git_oid *tree_oid, size_t *added, size_t *removed,
		      struct err *err)
{
	struct datastore_entry *at = NULL, *by_path;
	git_tree_update *up = xcalloc(ds->n_st + 2, sizeof(*up));
	size_t n_at = 0, n = 0;
	int rc;

	*added = *removed = 0;
	if ((rc = datastore_list(ds, &at, &n_at, NULL, NULL, err)) < 0)
		goto done;
	by_path = xmalloc((n_at + 1) * sizeof(*by_path));
	if (n_at) { /* memcpy and qsort want real pointers even for no elements */
		memcpy(by_path, at, n_at * sizeof(*at));
		qsort(at, n_at, sizeof(*at), cmp_entry_id);
		qsort(by_path, n_at, sizeof(*by_path), cmp_entry_path);
	}
	for (size_t i = 0; i < ds->n_st; i++) {
		const struct staged *s = &ds->st[i];
		bool applies;

		if (s->remove)
			applies = has_path(by_path, n_at, s->path);
		else if (s->replace)
			applies = has_path(by_path, n_at, s->replaces) && !has_path(by_path, n_at, s->path);
		else
			applies = !has_id(at, n_at, s->run_id);
		for (size_t k = 0; k < n && applies; k++)
			applies = strcmp(up[k].path, s->path) != 0 && (s->remove || s->replace ||
								       strncmp(up[k].path + 8, s->run_id, 36) != 0);
		if (!applies)
			continue;
		up[n].action = s->remove ? GIT_TREE_UPDATE_REMOVE : GIT_TREE_UPDATE_UPSERT;
		up[n].filemode = GIT_FILEMODE_BLOB;
		up[n].id = s->oid;
		up[n].path = s->path;
		n++;
		if (s->remove)
			(*removed)++;
		else
			(*added)++;
	}
	if (n && (!base || !git_tree_entry_byname(base, "README.md"))) {
		up[n].action = GIT_TREE_UPDATE_UPSERT;
		up[n].filemode = GIT_FILEMODE_BLOB;
		up[n].path = "README.md";
		if (git_blob_create_from_buffer(&up[n].id, ds->repo, readme, strlen(readme)) == 0)
			n++;
	}
	qsort(up, n, sizeof(*up), cmp_update);
	if (n && git_tree_create_updated(tree_oid, ds->repo, base, n, up) < 0)
		rc = err_set(err, ERR_FAIL, "cannot build the data branch's new tree: %s", git_msg());
	free(by_path);
done:
	if (rc == 0 && n == 0)
		rc = 1; /* nothing to do */
	datastore_entries_free(at, n_at);
	free(up);
	return rc;
}

/* A commit of the staged changes on the tip; 1 when nothing applies. */
static int make_commit(struct datastore *ds, const char *message, git_oid *commit, size_t *added,
		       size_t *removed, struct err *err)
{
	git_commit *parent = NULL;
	const git_commit *parents[1];
	git_tree *base = NULL, *tree = NULL;
	git_signature *sig = NULL;
	git_oid tree_oid;
	int rc = 0;

	if (ds->have_tip && (git_commit_lookup(&parent, ds->repo, &ds->tip) < 0 || git_commit_tree(&base, parent) < 0)) {
		rc = err_set(err, ERR_FAIL, "cannot read the data branch's commit %s: %s", ds->tip_hex, git_msg());
		goto done;
	}
	if ((rc = build_tree(ds, base, &tree_oid, added, removed, err)) != 0)
		goto done;
	parents[0] = parent;
	if (git_tree_lookup(&tree, ds->repo, &tree_oid) < 0 ||
	    git_signature_now(&sig, "perfgate", "perfgate@localhost") < 0 ||
	    git_commit_create(commit, ds->repo, NULL, sig, sig, "UTF-8", message, tree, parent ? 1 : 0,
			      parents) < 0)
		rc = err_set(err, ERR_FAIL, "cannot commit to the data branch: %s", git_msg());
done:
	git_signature_free(sig);
	git_tree_free(tree);
	git_tree_free(base);
	git_commit_free(parent);
	return rc;
}

/* Move the branch to commit if it is still at the tip we built on; *lost
 * when another job moved it first. */
static int publish(struct datastore *ds, const git_oid *commit, bool *lost, struct err *err)
{
	char hex[GIT_OID_HEXSZ + 1], *spec, *tail = NULL;
	const char *args[6];
	git_reference *ref = NULL;
	int rc;

	*lost = false;
	git_oid_tostr(hex, sizeof(hex), commit);
	if (!ds->remote) {
		rc = git_reference_create_matching(&ref, ds->repo, ds->branch_ref, commit, ds->have_tip,
						   ds->have_tip ? &ds->tip : NULL, "perfgate store");
		git_reference_free(ref);
		if (rc == GIT_EMODIFIED || rc == GIT_EEXISTS || rc == GIT_ELOCKED) {
			*lost = true;
			return 0;
		}
		return rc < 0 ? err_set(err, ERR_FAIL, "cannot move '%s': %s", ds->branch_ref, git_msg()) : 0;
	}
	spec = xasprintf("%s:%s", hex, ds->branch_ref);
	args[0] = "push";
	args[1] = "--quiet";
	args[2] = ds->remote;
	args[3] = spec;
	args[4] = NULL;
	rc = run_git(ds, args, &tail, err);
	if (rc > 0 && (strstr(tail, "rejected") || strstr(tail, "fetch first") || strstr(tail, "non-fast-forward") ||
		       strstr(tail, "failed to update ref") || strstr(tail, "cannot lock ref") ||
		       strstr(tail, "stale info"))) {
		*lost = true;
		rc = 0;
	} else if (rc > 0) {
		rc = err_set(err, ERR_INFRA, "cannot push the data branch '%s' to '%s': %s", ds->branch, ds->remote,
			     *tail ? tail : "git failed");
	} else if (rc == 0) {
		/* Our copy of the remote branch is this commit now. */
		git_reference_create(&ref, ds->repo, ds->fetched_ref, commit, 1, "perfgate store");
		git_reference_free(ref);
	}
	free(tail);
	free(spec);
	return rc;
}

int datastore_push(struct datastore *ds, const char *message, struct datastore_pushed *out, struct err *err)
{
	git_oid commit;
	bool lost = true;
	int rc = 0;

	memset(out, 0, sizeof(*out));
	while (lost) {
		if (out->attempts > ds->retries)
			return err_set(err, ERR_INFRA, "gave up pushing the data branch '%s' after %d attempts: other "
						       "jobs kept moving it", ds->branch, out->attempts);
		if (out->attempts > 0) {
			/* Jobs that collided should not collide again in step. */
			int k = out->attempts < 6 ? out->attempts : 6;
			struct timespec ts = { 0, (long)(50 + rand_r(&ds->seed) % (100 * k)) * 1000000L };

			nanosleep(&ts, NULL);
		}
		if ((rc = datastore_fetch(ds, err)) < 0)
			return rc;
		rc = make_commit(ds, message, &commit, &out->added, &out->removed, err);
		if (rc < 0)
			return rc;
		if (rc == 1) {
			out->added = out->removed = 0;
			rc = 0;
			break;
		}
		out->attempts++;
		if ((rc = publish(ds, &commit, &lost, err)) < 0)
			return rc;
	}
	if (out->added + out->removed > 0) {
		ds->tip = commit;
		ds->have_tip = true;
		git_oid_tostr(ds->tip_hex, sizeof(ds->tip_hex), &commit);
	}
	staged_release(ds);
	return 0;
}

/* ---- retention ---- */

struct prune_item {
	size_t entry;          /* into the tip's entries, or ... */
	size_t staged;         /* ... into ds->st (SIZE_MAX when from the tip) */
	char *series;
	char *started;         /* RFC 3339, compared as text (perfgate writes UTC) */
	bool pruned;
};

static int cmp_prune(const void *a, const void *b)
{
	const struct prune_item *x = a, *y = b;
	int c = strcmp(x->series, y->series);

	return c ? c : strcmp(y->started, x->started); /* newest first */
}

/* The run without what retention drops: samples, histograms, time series. */
static void strip_run(cJSON *run)
{
	const cJSON *b, *m;

	cJSON_ArrayForEach(b, cJSON_GetObjectItemCaseSensitive(run, "benchmarks")) {
		cJSON_DeleteItemFromObjectCaseSensitive((cJSON *)(uintptr_t)b, "timeseries");
		cJSON_DeleteItemFromObjectCaseSensitive((cJSON *)(uintptr_t)b, "resources");
		cJSON_ArrayForEach(m, cJSON_GetObjectItemCaseSensitive(b, "metrics")) {
			cJSON_ReplaceItemInObjectCaseSensitive((cJSON *)(uintptr_t)m, "samples", cJSON_CreateArray());
			cJSON_DeleteItemFromObjectCaseSensitive((cJSON *)(uintptr_t)m, "histogram");
		}
	}
}

/* The entry of a staged addition, to read its blob back. */
static void staged_entry(const struct staged *s, struct datastore_entry *e)
{
	memset(e, 0, sizeof(*e));
	e->path = s->path;
	snprintf(e->run_id, sizeof(e->run_id), "%s", s->run_id);
	snprintf(e->hash, sizeof(e->hash), "%.32s", s->path + 8 + 36 + 1);
	memcpy(e->oid, s->oid.id, sizeof(e->oid));
}

/* Rewrite one run without samples: a file at the tip is replaced (removal
 * plus addition), a run staged in this job is staged pruned instead. */
static int stage_pruned(struct datastore *ds, const struct datastore_entry *e, size_t staged, struct err *err)
{
	cJSON *file = NULL;
	struct staged *s;
	char *path = NULL;
	git_oid oid;
	int rc;

	if ((rc = datastore_read(ds, e, &file, err)) < 0)
		return rc;
	strip_run(cJSON_GetObjectItemCaseSensitive(file, "run"));
	cJSON_AddTrueToObject(file, "pruned");
	rc = write_file(ds, file, e->run_id, &oid, &path, err);
	if (rc == 0 && staged != SIZE_MAX) {
		s = &ds->st[staged];
		free(s->path);
		s->path = path;
		path = NULL;
		s->oid = oid;
		s->pruned = true;
	} else if (rc == 0 && (s = stage(ds, path, e->run_id)) != NULL) {
		s->oid = oid;
		s->replace = true;
		s->replaces = xstrdup(e->path);
		s = stage(ds, e->path, e->run_id);
		if (s)
			s->remove = true;
	}
	free(path);
	cJSON_Delete(file);
	return rc;
}

/* The runs retention looks at: those at the tip and those staged now. */
static size_t prune_items(struct datastore *ds, const struct datastore_entry *e, size_t n, struct prune_item *items)
{
	size_t k = 0;

	for (size_t i = 0; i < n; i++) {
		cJSON *file = NULL;
		const cJSON *run;

		/* Damaged files are left alone: import skips them and says so. */
		if (datastore_read(ds, &e[i], &file, NULL) < 0)
			continue;
		run = cJSON_GetObjectItemCaseSensitive(file, "run");
		items[k] = (struct prune_item){ .entry = i, .staged = SIZE_MAX, .series = series_key(run),
						.started = xstrdup(jstr(run, "started_at")),
						.pruned = cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(file, "pruned")) };
		k++;
		cJSON_Delete(file);
	}
	for (size_t i = 0; i < ds->n_st; i++) {
		const struct staged *s = &ds->st[i];

		if (s->remove || s->replace || !s->series)
			continue;
		items[k++] = (struct prune_item){ .entry = SIZE_MAX, .staged = i, .series = xstrdup(s->series),
						  .started = xstrdup(s->started), .pruned = s->pruned };
	}
	return k;
}

int datastore_stage_prune(struct datastore *ds, size_t keep, size_t *pruned, struct err *err)
{
	struct datastore_entry *e = NULL, se;
	struct prune_item *items = NULL;
	size_t n = 0, n_items, in_series = 0, n_staged = ds->n_st;
	int rc;

	*pruned = 0;
	if ((rc = datastore_list(ds, &e, &n, NULL, NULL, err)) < 0)
		return rc;
	items = xcalloc(n + n_staged + 1, sizeof(*items));
	n_items = prune_items(ds, e, n, items);
	qsort(items, n_items, sizeof(*items), cmp_prune);
	for (size_t i = 0; i < n_items && rc == 0; i++) {
		in_series = i > 0 && strcmp(items[i].series, items[i - 1].series) == 0 ? in_series + 1 : 0;
		if (in_series < keep || items[i].pruned)
			continue;
		if (items[i].staged != SIZE_MAX) {
			staged_entry(&ds->st[items[i].staged], &se);
			rc = stage_pruned(ds, &se, items[i].staged, err);
		} else {
			rc = stage_pruned(ds, &e[items[i].entry], SIZE_MAX, err);
		}
		*pruned += rc == 0;
	}
	for (size_t i = 0; i < n_items; i++) {
		free(items[i].series);
		free(items[i].started);
	}
	free(items);
	datastore_entries_free(e, n);
	return rc;
}
