/*
 * cluster.c: the embedded PostgreSQL cluster: where it lives, initdb on
 * first use, pg_ctl start/stop under a lock file, and running the server as
 * the `postgres` user when perfgate runs as root.  See cluster.h.
 */
#include "cluster.h"

#include <errno.h>
#include <fcntl.h>
#include <glob.h>
#include <grp.h>
#include <libpq-fe.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <time.h>
#include <unistd.h>

#include "../core/proc.h"
#include "../core/util.h"
#include "db.h"

/* Where a root-run cluster goes when `postgres` cannot reach $PERFGATE_HOME. */
#define CLUSTER_FALLBACK_ROOT "/var/lib/perfgate/clusters"

/* Seconds allowed to initdb and to pg_ctl (-t is passed the same). */
#define INITDB_TIMEOUT 180.0
#define PG_CTL_WAIT "60"
#define PG_CTL_TIMEOUT 90.0
/* pg_ctl start tries, about 2 s apart. */
#define START_ATTEMPTS 4

static void set_dir(struct cluster *c, const char *dir)
{
	free(c->dir);
	free(c->data);
	free(c->log);
	c->dir = xstrdup(dir);
	c->data = xasprintf("%s/data", dir);
	c->log = xasprintf("%s/server.log", dir);
}

int cluster_locate(struct cluster *c, struct err *err)
{
	struct stat st;
	char target[4096];

	(void)err;
	c->home = db_home();
	c->link = xasprintf("%s/pg", c->home);
	c->lock = xasprintf("%s/pg.lock", c->home);
	c->as_postgres = geteuid() == 0;
	if (lstat(c->link, &st) == 0 && S_ISLNK(st.st_mode)) {
		ssize_t n = readlink(c->link, target, sizeof(target) - 1);
		if (n > 0) {
			target[n] = '\0';
			if (target[0] == '/') {
				set_dir(c, target);
			} else {
				char *abs = xasprintf("%s/%s", c->home, target);
				set_dir(c, abs);
				free(abs);
			}
			return 0;
		}
	}
	set_dir(c, c->link);
	return 0;
}

void cluster_release(struct cluster *c)
{
	free(c->home);
	free(c->link);
	free(c->dir);
	free(c->data);
	free(c->log);
	free(c->lock);
	*c = (struct cluster)CLUSTER_INIT;
}

static PGPing ping(const struct cluster *c)
{
	const char *const keys[] = { "host", "port", "user", "dbname", "connect_timeout",
				     "sslmode", "gssencmode", NULL };
	const char *const vals[] = { c->dir, CLUSTER_PORT, CLUSTER_USER, CLUSTER_DBNAME, "5",
				     "disable", "disable", NULL };

	return PQpingParams(keys, vals, 0);
}

bool cluster_running(const struct cluster *c)
{
	return ping(c) == PQPING_OK;
}

bool cluster_initialised(const struct cluster *c)
{
	char *p = xasprintf("%s/PG_VERSION", c->data);
	bool yes = access(p, F_OK) == 0;

	free(p);
	return yes;
}

static bool is_exec(const char *dir, const char *name)
{
	char *p = xasprintf("%s/%s", dir, name);
	bool yes = access(p, X_OK) == 0;

	free(p);
	return yes;
}

/* Numeric order of /usr/lib/postgresql/N/bin paths, newest last. */
static int major_of(const char *path)
{
	const char *p = strstr(path, "/postgresql/");
	return p ? (int)strtol(p + strlen("/postgresql/"), NULL, 10) : 0;
}

int cluster_bindir(const char *version, char **out, struct err *err)
{
	const char *env = getenv("PERFGATE_PG_BINDIR");
	const char *const pg_config[] = { "pg_config", "--bindir", NULL };
	struct proc_options po = PROC_OPTIONS_INIT;
	struct proc_result pr = { 0 };
	struct err ignored = ERR_INIT;
	glob_t g;

	*out = NULL;
	if (env && *env) {
		if (is_exec(env, "initdb") && is_exec(env, "pg_ctl")) {
			*out = xstrdup(env);
			return 0;
		}
		return err_set(err, ERR_INFRA,
			       "no PostgreSQL server binaries (initdb, pg_ctl) in PERFGATE_PG_BINDIR '%s'; "
			       "install the Debian package 'postgresql'", env);
	}
	if (version && *version) {
		char *dir = xasprintf("/usr/lib/postgresql/%s/bin", version);
		if (is_exec(dir, "initdb") && is_exec(dir, "pg_ctl")) {
			*out = dir;
			return 0;
		}
		free(dir);
	}
	po.argv = pg_config;
	po.out = PROC_OUT_CAPTURE;
	po.errout = PROC_OUT_NULL;
	po.timeout = 10;
	if (proc_run(&po, &pr, &ignored) == 0 && pr.exit_code == 0 && pr.out) {
		pr.out[strcspn(pr.out, "\r\n")] = '\0';
		if (pr.out[0] && is_exec(pr.out, "initdb") && is_exec(pr.out, "pg_ctl"))
			*out = xstrdup(pr.out);
	}
	proc_result_release(&pr);
	if (*out)
		return 0;
	if (glob("/usr/lib/postgresql/*/bin", GLOB_ONLYDIR, NULL, &g) == 0) {
		const char *best = NULL;
		for (size_t i = 0; i < g.gl_pathc; i++)
			if (is_exec(g.gl_pathv[i], "initdb") && is_exec(g.gl_pathv[i], "pg_ctl") &&
			    (!best || major_of(g.gl_pathv[i]) > major_of(best)))
				best = g.gl_pathv[i];
		if (best)
			*out = xstrdup(best);
		globfree(&g);
	}
	if (*out)
		return 0;
	return err_set(err, ERR_INFRA,
		       "PostgreSQL server binaries not found (no initdb through 'pg_config --bindir' "
		       "or in /usr/lib/postgresql/*/bin); install the Debian package 'postgresql' "
		       "or configure an external database with --db or PERFGATE_DATABASE_URL");
}

/* The major version the data folder was made with ("15"), or NULL. */
static char *data_version(const struct cluster *c)
{
	char *p = xasprintf("%s/PG_VERSION", c->data);
	char *text = NULL;

	if (file_read(p, &text, NULL, NULL) == 0)
		text[strcspn(text, "\r\n")] = '\0';
	free(p);
	return text;
}

static int lock_cluster(const struct cluster *c, int *fd, struct err *err)
{
	int rc;

	if ((rc = mkdir_p(c->home, err)))
		return rc;
	*fd = open(c->lock, O_RDWR | O_CREAT | O_CLOEXEC, 0600);
	if (*fd < 0)
		return err_sys(err, ERR_INFRA, "cannot open lock file '%s'", c->lock);
	while (flock(*fd, LOCK_EX) != 0) {
		if (errno != EINTR) {
			rc = err_sys(err, ERR_INFRA, "cannot lock '%s'", c->lock);
			close(*fd);
			*fd = -1;
			return rc;
		}
	}
	return 0;
}

static void unlock_cluster(int fd)
{
	if (fd >= 0)
		close(fd); /* releases the flock */
}

/* Can user uid (groups gids) search every folder on the way to path? */
static bool traversable(const char *path, uid_t uid, const gid_t *gids, int ngids)
{
	char *copy = xstrdup(path);
	bool ok = true;

	for (char *p = copy + 1;; p++) {
		if (*p == '/' || *p == '\0') {
			char saved = *p;
			struct stat st;
			mode_t need = S_IXOTH;

			*p = '\0';
			if (stat(copy, &st) != 0) {
				ok = false;
				break;
			}
			if (st.st_uid == uid) {
				need = S_IXUSR;
			} else {
				for (int i = 0; i < ngids; i++)
					if (gids[i] == st.st_gid)
						need = S_IXGRP;
			}
			if (!(st.st_mode & need)) {
				ok = false;
				break;
			}
			*p = saved;
			if (saved == '\0')
				break;
		}
	}
	free(copy);
	return ok;
}

static bool socket_path_fits(const char *dir)
{
	struct sockaddr_un sun;
	return strlen(dir) + strlen("/.s.PGSQL." CLUSTER_PORT) < sizeof(sun.sun_path);
}

static int chown_to(const char *path, const struct passwd *pw, struct err *err)
{
	if (chown(path, pw->pw_uid, pw->pw_gid) != 0)
		return err_sys(err, ERR_INFRA, "cannot give '%s' to the postgres user", path);
	return 0;
}

/* Create the cluster folder (under the lock), choosing its place as root. */
static int prepare_dir(struct cluster *c, struct err *err)
{
	struct passwd *pw;
	struct stat st;
	gid_t gids[64];
	int ngids = (int)ARRAY_SIZE(gids);
	char hash[65];
	char *base = NULL, *dir = NULL, *abs_home = NULL;
	int rc = 0;

	if ((rc = mkdir_p(c->home, err)))
		return rc;
	if (!c->as_postgres) {
		if (!socket_path_fits(c->dir))
			return err_set(err, ERR_INPUT,
				       "the socket path under '%s' is too long for a Unix socket; "
				       "set a shorter PERFGATE_HOME", c->dir);
		if (mkdir(c->dir, 0700) != 0 && errno != EEXIST)
			return err_sys(err, ERR_INFRA, "cannot create folder '%s'", c->dir);
		return 0;
	}
	pw = getpwnam("postgres");
	if (!pw)
		return err_set(err, ERR_INFRA,
			       "running as root, perfgate runs PostgreSQL as the 'postgres' user, "
			       "which does not exist; install the Debian package 'postgresql'");
	if (lstat(c->link, &st) == 0) {
		/* Already chosen earlier (possibly half-made): just complete it. */
		if (S_ISLNK(st.st_mode) && (rc = mkdir_p(c->dir, err)))
			return rc;
		return chown_to(c->dir, pw, err);
	}
	/* Our own home folder only needs to be searchable by postgres, not readable. */
	if (stat(c->home, &st) == 0 && st.st_uid == 0 && !(st.st_mode & S_IXOTH))
		chmod(c->home, (st.st_mode & 07777) | S_IXOTH);
	if (getgrouplist(pw->pw_name, pw->pw_gid, gids, &ngids) < 0)
		ngids = 0;
	if (traversable(c->home, pw->pw_uid, gids, ngids) && socket_path_fits(c->link)) {
		if (mkdir(c->link, 0700) != 0 && errno != EEXIST)
			return err_sys(err, ERR_INFRA, "cannot create folder '%s'", c->link);
		set_dir(c, c->link);
		return chown_to(c->dir, pw, err);
	}
	abs_home = realpath(c->home, NULL);
	sha256_hex(abs_home ? abs_home : c->home, strlen(abs_home ? abs_home : c->home), hash);
	hash[16] = '\0';
	base = xstrdup(CLUSTER_FALLBACK_ROOT);
	if ((rc = mkdir_p(base, err)))
		goto done;
	/* Both levels must be searchable by postgres; they hold nothing secret. */
	chmod("/var/lib/perfgate", 0755);
	chmod(base, 0755);
	dir = xasprintf("%s/%s", base, hash);
	if (mkdir(dir, 0700) != 0 && errno != EEXIST) {
		rc = err_sys(err, ERR_INFRA, "cannot create folder '%s'", dir);
		goto done;
	}
	if ((rc = chown_to(dir, pw, err)))
		goto done;
	if (symlink(dir, c->link) != 0) {
		rc = err_sys(err, ERR_INFRA, "cannot link '%s' to '%s'", c->link, dir);
		goto done;
	}
	set_dir(c, dir);
done:
	free(abs_home);
	free(base);
	free(dir);
	return rc;
}

/* Run a server tool (as postgres when we are root), output captured. */
static int run_tool(const struct cluster *c, const char *const *args, double timeout,
		    struct proc_result *pr, struct err *err)
{
	const char *argv[24];
	size_t n = 0;
	struct proc_options po = PROC_OPTIONS_INIT;
	char *runuser = NULL;
	int rc;

	if (c->as_postgres) {
		if (access("/usr/sbin/runuser", X_OK) == 0)
			runuser = xstrdup("/usr/sbin/runuser");
		else if (access("/sbin/runuser", X_OK) == 0)
			runuser = xstrdup("/sbin/runuser");
		else
			runuser = proc_which("runuser");
		if (!runuser)
			return err_set(err, ERR_INFRA,
				       "running as root, perfgate needs 'runuser' (Debian package "
				       "'util-linux') to start PostgreSQL as the postgres user");
		argv[n++] = runuser;
		argv[n++] = "-u";
		argv[n++] = "postgres";
		argv[n++] = "--";
	}
	for (size_t i = 0; args[i] && n + 1 < ARRAY_SIZE(argv); i++)
		argv[n++] = args[i];
	argv[n] = NULL;
	po.argv = argv;
	po.cwd = c->dir; /* postgres may not be able to enter perfgate's own cwd */
	po.out = PROC_OUT_CAPTURE;
	po.errout = PROC_OUT_CAPTURE;
	po.timeout = timeout;
	po.max_capture = 64 * 1024;
	/* pg_ctl start leaves the server running: that is its job */
	po.keep_descendants = true;
	rc = proc_run(&po, pr, err);
	if (rc == 0 && pr->exec_failed)
		rc = err_set(err, ERR_INFRA, "cannot run '%s': %s", argv[0], strerror(pr->exec_errno));
	free(runuser);
	return rc;
}

/*
 * The last non-empty line of a text that starts with one of `marks` (or,
 * with marks NULL, the last non-empty line), for error messages; "" when
 * there is none.
 */
static void marked_line(const char *text, const char *const *marks, char *buf, size_t len)
{
	const char *p = text;

	buf[0] = '\0';
	while (p && *p) {
		const char *end = strchr(p, '\n'), *s = p;
		size_t n = end ? (size_t)(end - p) : strlen(p);
		bool hit = marks == NULL;

		while (n > 0 && (p[n - 1] == '\r' || p[n - 1] == ' '))
			n--;
		/* a server log line: "2026-12-05 07:00:00.000 UTC [123] FATAL:  ..." */
		for (const char *const *m = marks; m && *m && !hit; m++) {
			const char *at = strstr(s, *m);
			hit = at && at < p + n;
		}
		if (hit && n > 0)
			snprintf(buf, len, "%.*s", (int)n, p);
		p = end ? end + 1 : NULL;
	}
}

static void tool_failure(const char *what, const struct proc_result *pr, struct err *err)
{
	char line[512];

	marked_line(pr->errout && pr->errout[0] ? pr->errout : pr->out, NULL, line, sizeof(line));
	if (pr->timed_out)
		err_set(err, ERR_INFRA, "%s timed out", what);
	else
		err_set(err, ERR_INFRA, "%s failed (exit %d)%s%s", what, pr->exit_code,
			line[0] ? ": " : "", line);
}

static int append_config(const struct cluster *c, struct err *err)
{
	char *conf = xasprintf("%s/postgresql.conf", c->data);
	struct sb text = SB_INIT;
	int fd = -1, rc = 0;

	sb_puts(&text, "\n# perfgate's embedded cluster: Unix socket only, in its own folder\n"
		       "listen_addresses = ''\nport = " CLUSTER_PORT "\nunix_socket_directories = '");
	for (const char *p = c->dir; *p; p++) {
		if (*p == '\'')
			sb_putc(&text, '\'');
		sb_putc(&text, *p);
	}
	sb_puts(&text, "'\nunix_socket_permissions = 0700\n");
	fd = open(conf, O_WRONLY | O_APPEND | O_CLOEXEC);
	if (fd < 0 || write(fd, text.buf, text.len) != (ssize_t)text.len)
		rc = err_sys(err, ERR_INFRA, "cannot write '%s'", conf);
	if (fd >= 0)
		close(fd);
	sb_release(&text);
	free(conf);
	return rc;
}

static int initdb(const struct cluster *c, const char *bindir, struct err *err)
{
	char *prog = xasprintf("%s/initdb", bindir);
	const char *const args[] = { prog, "-D", c->data, "-U", CLUSTER_USER, "--auth-local=trust",
				     "--auth-host=reject", "-E", "UTF8", "--locale=C", NULL };
	struct proc_result pr = { 0 };
	int rc;

	rc = run_tool(c, args, INITDB_TIMEOUT, &pr, err);
	if (rc == 0 && pr.exit_code != 0) {
		tool_failure("initdb of the embedded cluster", &pr, err);
		rc = ERR_INFRA;
	}
	if (rc == 0)
		rc = append_config(c, err);
	proc_result_release(&pr);
	free(prog);
	return rc;
}

/*
 * Why `pg_ctl start` failed, from what this attempt left: a FATAL or PANIC
 * line the server wrote to its log after `log_from` (older lines, such as
 * "database system is ready to accept connections" from an earlier start,
 * say nothing about this one), else pg_ctl's own message; with its exit
 * status, a missing data folder and a lock file left in it.
 */
static void start_failure(const struct cluster *c, off_t log_from, const struct proc_result *pr,
			  struct err *err)
{
	static const char *const serious[] = { "FATAL:", "PANIC:", "ERROR:", NULL };
	static const char *const own[] = { "pg_ctl:", "runuser:", NULL };
	char why[768] = "", how[64], *log = NULL, *pidfile = xasprintf("%s/postmaster.pid", c->data);
	const char *tool = pr->errout && pr->errout[0] ? pr->errout : pr->out;
	struct stat st;

	if (pr->timed_out)
		snprintf(how, sizeof(how), "pg_ctl timed out after %gs", PG_CTL_TIMEOUT);
	else if (pr->signal)
		snprintf(how, sizeof(how), "pg_ctl killed by signal %d", pr->signal);
	else
		snprintf(how, sizeof(how), "pg_ctl exited with status %d", pr->exit_code);
	if (stat(c->data, &st) != 0 || !S_ISDIR(st.st_mode)) {
		snprintf(why, sizeof(why), "its data folder '%s' is missing", c->data);
	} else {
		if (file_read_tail(c->log, log_from, 64 * 1024, &log, NULL, NULL) == 0)
			marked_line(log, serious, why, sizeof(why));
		if (!why[0])
			marked_line(tool, own, why, sizeof(why));
		if (!why[0])
			marked_line(tool, NULL, why, sizeof(why));
		if (!why[0] && log)
			marked_line(log, NULL, why, sizeof(why));
		if (!why[0])
			snprintf(why, sizeof(why), "neither pg_ctl nor the server said why");
	}
	if (access(pidfile, F_OK) == 0) {
		char *note = xasprintf("; its lock file '%s' is there (another server on this folder, or one "
				       "that was killed)", pidfile);
		err_set(err, ERR_INFRA, "the embedded PostgreSQL server in '%s' did not start (%s): %s%s; see '%s'",
			c->dir, how, why, note, c->log);
		free(note);
	} else {
		err_set(err, ERR_INFRA, "the embedded PostgreSQL server in '%s' did not start (%s): %s; see '%s'",
			c->dir, how, why, c->log);
	}
	free(log);
	free(pidfile);
}

static int pg_ctl(const struct cluster *c, const char *bindir, bool start, struct err *err)
{
	char *prog = xasprintf("%s/pg_ctl", bindir);
	const char *const start_args[] = { prog, "-D", c->data, "-l", c->log, "-w", "-t", PG_CTL_WAIT,
					   "-s", "start", NULL };
	const char *const stop_args[] = { prog, "-D", c->data, "-m", "fast", "-w", "-t", PG_CTL_WAIT,
					  "-s", "stop", NULL };
	struct proc_result pr = { 0 };
	struct stat st;
	/* What the log holds already is an earlier start's, not this one's. */
	off_t log_from = start && stat(c->log, &st) == 0 ? st.st_size : 0;
	int rc;

	rc = run_tool(c, start ? start_args : stop_args, PG_CTL_TIMEOUT, &pr, err);
	if (rc == 0 && (pr.exit_code != 0 || pr.timed_out)) {
		if (start)
			start_failure(c, log_from, &pr, err);
		else
			tool_failure("pg_ctl stop", &pr, err);
		rc = ERR_INFRA;
	}
	proc_result_release(&pr);
	free(prog);
	return rc;
}

int cluster_start(struct cluster *c, bool *started, struct err *err)
{
	char *bindir = NULL, *version = NULL;
	int fd = -1, rc;

	if (started)
		*started = false;
	if (cluster_running(c))
		return 0;
	if ((rc = lock_cluster(c, &fd, err)))
		return rc;
	/* Someone else may have started it while we waited for the lock. */
	if (cluster_running(c))
		goto done;
	if ((rc = prepare_dir(c, err)))
		goto done;
	version = data_version(c);
	if ((rc = cluster_bindir(version, &bindir, err)))
		goto done;
	if (!cluster_initialised(c)) {
		/* A data folder without PG_VERSION is an initdb that was killed:
		 * initdb refuses a non-empty folder, so put it aside (never delete). */
		if (access(c->data, F_OK) == 0) {
			char *aside = xasprintf("%s.incomplete.%ld", c->data, (long)time(NULL));
			if (rename(c->data, aside) != 0)
				rc = err_sys(err, ERR_INFRA, "cannot move the incomplete '%s' aside",
					     c->data);
			free(aside);
			if (rc)
				goto done;
		}
		if ((rc = initdb(c, bindir, err)))
			goto done;
	}
	/*
	 * A server that was still shutting down may come up anyway; after a crash
	 * (the postmaster killed) its orphaned children hold the data folder for
	 * a few seconds and the first start is refused.  So wait and try again.
	 */
	for (int attempt = 0; attempt < START_ATTEMPTS; attempt++) {
		if ((rc = pg_ctl(c, bindir, true, err)) == 0)
			break;
		for (int i = 0; i < 8 && rc; i++) {
			struct timespec ts = { 0, 250 * 1000 * 1000 };
			nanosleep(&ts, NULL);
			if (cluster_running(c))
				rc = 0;
		}
		if (rc == 0)
			break;
	}
	if (rc)
		goto done;
	if (started)
		*started = true;
done:
	unlock_cluster(fd);
	free(bindir);
	free(version);
	return rc;
}

int cluster_stop(struct cluster *c, bool *was_running, struct err *err)
{
	char *bindir = NULL, *version = NULL;
	int fd = -1, rc = 0;

	if (was_running)
		*was_running = false;
	if (!cluster_initialised(c))
		return 0;
	if ((rc = lock_cluster(c, &fd, err)))
		return rc;
	if (!cluster_running(c))
		goto done;
	version = data_version(c);
	if ((rc = cluster_bindir(version, &bindir, err)))
		goto done;
	if ((rc = pg_ctl(c, bindir, false, err)))
		goto done;
	if (was_running)
		*was_running = true;
done:
	unlock_cluster(fd);
	free(bindir);
	free(version);
	return rc;
}
