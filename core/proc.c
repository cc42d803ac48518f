/*
 * proc.c: starting, timing, timing out and reaping child processes.
 *
 * Children start with posix_spawn (glibc implements it with a vfork-style
 * clone, so starting a child costs about what hyperfine's does) in their own
 * process group.  Waiting uses a pidfd in poll(), so captured output, stdin
 * data, the timeout and Ctrl-C are all handled in one loop without SIGCHLD.
 *
 * When a child ends, what it left running goes with it (reap_tree): the
 * rest of its process group, and whatever escaped the group with setsid.
 * perfgate makes itself a child subreaper (PR_SET_CHILD_SUBREAPER) before
 * its first such child, so an orphan of the child's tree is reparented to
 * perfgate rather than to init, where /proc shows it as perfgate's child
 * started after the child was; perfgate's own children are in a registry
 * and are never taken for orphans.
 */
#include "proc.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "util.h"

extern char **environ;

static volatile sig_atomic_t interrupted;

static void on_interrupt(int sig)
{
	(void)sig;
	interrupted = 1;
}

void proc_install_interrupt_handler(void)
{
	struct sigaction sa;

	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_interrupt;
	sigemptyset(&sa.sa_mask);
	/* No SA_RESTART: a blocking wait returns EINTR so the loop sees the flag. */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	/* A reader that goes away (`perfgate gate | head`) must not kill
	 * perfgate while its benchmarks and servers run: they would be left
	 * running, and the run lost.  Writes to the closed pipe fail instead;
	 * children get SIGPIPE's default back (proc_run). */
	signal(SIGPIPE, SIG_IGN);
}

bool proc_interrupted(void)
{
	return interrupted != 0;
}

char *proc_which(const char *name)
{
	const char *path = getenv("PATH");
	const char *p;

	if (strchr(name, '/'))
		return access(name, X_OK) == 0 ? xstrdup(name) : NULL;
	if (!path)
		path = "/usr/local/bin:/usr/bin:/bin";
	for (p = path;;) {
		const char *end = strchr(p, ':');
		size_t len = end ? (size_t)(end - p) : strlen(p);
		char *cand = xasprintf("%.*s/%s", (int)len, len ? p : ".", name);
		struct stat st;

		if (stat(cand, &st) == 0 && S_ISREG(st.st_mode) && access(cand, X_OK) == 0)
			return cand;
		free(cand);
		if (!end)
			return NULL;
		p = end + 1;
	}
}

char *proc_tail_lines(const char *text, size_t len, int lines)
{
	size_t start = len;
	int seen = 0;

	if (!text)
		return xstrdup("");
	/* Ignore trailing newlines, then walk back over `lines` line breaks. */
	while (start > 0 && text[start - 1] == '\n')
		start--;
	len = start;
	while (start > 0) {
		if (text[start - 1] == '\n' && ++seen == lines)
			break;
		start--;
	}
	return xstrndup(text + start, len - start);
}

static const char *const secret_names[] = {
	"PERFGATE_DATABASE_URL", "PGPASSWORD", "GITHUB_TOKEN", "GH_TOKEN", "GITLAB_TOKEN",
	"CI_JOB_TOKEN", "CI_REGISTRY_PASSWORD", "ACTIONS_RUNTIME_TOKEN", "ACTIONS_ID_TOKEN_REQUEST_TOKEN",
};

bool proc_secret_name(const char *name, size_t len)
{
	for (size_t i = 0; i < ARRAY_SIZE(secret_names); i++)
		if (strlen(secret_names[i]) == len && memcmp(secret_names[i], name, len) == 0)
			return true;
	if (len >= 10 && memcmp(name, "CI_JOB_JWT", 10) == 0)
		return true;
	return len > 9 && memcmp(name, "PERFGATE_", 9) == 0 &&
	       (memmem(name, len, "TOKEN", 5) || memmem(name, len, "PASSWORD", 8) ||
		memmem(name, len, "SECRET", 6));
}

/* Is NAME (nlen bytes) in list, whose entries are "NAME" or "NAME=value"? */
static bool env_listed(const char *const *list, const char *name, size_t nlen)
{
	for (const char *const *o = list; o && *o; o++)
		if (strncmp(*o, name, nlen) == 0 && ((*o)[nlen] == '=' || (*o)[nlen] == '\0'))
			return true;
	return false;
}

/* The environment for the child: environ without the secrets (unless kept or
 * passed on purpose) and with the overlay's names replaced; NULL when that
 * is environ itself. */
static char **build_env(const struct proc_options *o)
{
	size_t n_env = 0, n_over = 0, k = 0;
	bool change = o->env != NULL;
	char **envp;

	for (char **e = environ; *e; e++) {
		const char *eq = strchr(*e, '=');

		n_env++;
		if (!change && !o->keep_secrets && proc_secret_name(*e, eq ? (size_t)(eq - *e) : strlen(*e)))
			change = true;
	}
	if (!change)
		return NULL;
	for (const char *const *ov = o->env; ov && *ov; ov++)
		n_over++;
	envp = xmalloc((n_env + n_over + 1) * sizeof(*envp));
	for (char **e = environ; *e; e++) {
		const char *eq = strchr(*e, '=');
		size_t nlen = eq ? (size_t)(eq - *e) : strlen(*e);

		if (env_listed(o->env, *e, nlen))
			continue; /* replaced by the overlay */
		if (!o->keep_secrets && proc_secret_name(*e, nlen) && !env_listed(o->pass_env, *e, nlen))
			continue;
		envp[k++] = *e;
	}
	for (const char *const *ov = o->env; ov && *ov; ov++)
		envp[k++] = (char *)(uintptr_t)*ov;
	envp[k] = NULL;
	return envp;
}

/*
 * perfgate's own children, started here and not yet reaped: whatever else
 * /proc shows as perfgate's child was adopted (an orphan of some child's tree).
 */
static pthread_mutex_t kids_lock = PTHREAD_MUTEX_INITIALIZER;
static pid_t *kids;
static size_t n_kids, alloc_kids;

static void kids_add(pid_t pid)
{
	pthread_mutex_lock(&kids_lock);
	XGROW(kids, alloc_kids, n_kids + 1);
	kids[n_kids++] = pid;
	pthread_mutex_unlock(&kids_lock);
}

static void kids_remove(pid_t pid)
{
	pthread_mutex_lock(&kids_lock);
	for (size_t i = 0; i < n_kids; i++)
		if (kids[i] == pid) {
			kids[i] = kids[--n_kids];
			break;
		}
	pthread_mutex_unlock(&kids_lock);
}

static bool kids_has(pid_t pid)
{
	bool found = false;

	pthread_mutex_lock(&kids_lock);
	for (size_t i = 0; i < n_kids && !found; i++)
		found = kids[i] == pid;
	pthread_mutex_unlock(&kids_lock);
	return found;
}

/* Become a child subreaper once (Linux >= 3.4; elsewhere only the group is reaped). */
static void become_subreaper(void)
{
	static bool done;

	if (!done) {
		done = true;
		prctl(PR_SET_CHILD_SUBREAPER, 1, 0, 0, 0);
	}
}

/* The clock of /proc/PID/stat's starttime: ticks since boot. */
static unsigned long long boot_ticks(void)
{
	struct timespec ts;
	long hz = sysconf(_SC_CLK_TCK);

	if (clock_gettime(CLOCK_BOOTTIME, &ts) != 0 || hz <= 0)
		return 0;
	return (unsigned long long)ts.tv_sec * (unsigned long long)hz +
	       (unsigned long long)ts.tv_nsec / (1000000000ull / (unsigned long long)hz);
}

struct pstat {
	char state;               /* 'Z': a zombie */
	pid_t ppid, pgrp;
	unsigned long long start; /* ticks since boot */
};

static bool read_pstat(pid_t pid, struct pstat *ps)
{
	char path[64], buf[1024];
	const char *p;
	char *end;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return false;
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return false;
	buf[n] = '\0';
	/* "pid (comm) state ppid pgrp session ... starttime(22nd)"; comm may hold ')' */
	if (!(p = strrchr(buf, ')')) || p[1] != ' ' || !p[2])
		return false;
	ps->state = p[2];
	p += 3;
	ps->ppid = (pid_t)strtol(p, &end, 10);
	ps->pgrp = (pid_t)strtol(end, &end, 10);
	for (int field = 6; field < 22; field++) {
		strtoll(end, &end, 10);
		if (!*end)
			return false;
	}
	ps->start = strtoull(end, &end, 10);
	return true;
}

/* Call fn for every child of thread tid as /proc lists it; false when the
 * list cannot be read (a kernel without it). */
static bool each_child_of(pid_t tid, void (*fn)(pid_t pid, void *arg), void *arg)
{
	char path[64], buf[4096];
	char *p, *end;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/self/task/%ld/children", (long)tid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return false;
	/* Only the first 4 KiB (some 500 children): enough for a benchmark's orphans. */
	n = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	if (n <= 0)
		return true;
	buf[n] = '\0';
	for (p = buf;; p = end) {
		long pid = strtol(p, &end, 10);
		if (end == p)
			break;
		fn((pid_t)pid, arg);
	}
	return true;
}

/*
 * Call fn for the children that matter here: the main thread's (orphans are
 * reparented to a subreaper's main thread while it lives, and perfgate's
 * main thread lives as long as perfgate) and the calling thread's (the child
 * it just started).  Two small reads, not a walk of /proc.
 */
static bool each_child(void (*fn)(pid_t pid, void *arg), void *arg)
{
	pid_t self = getpid(), tid = (pid_t)syscall(SYS_gettid);
	bool any = each_child_of(self, fn, arg);

	if (tid != self)
		any = each_child_of(tid, fn, arg) || any;
	return any;
}

struct orphan_scan {
	unsigned long long since; /* adopted children started at or after this tick are the tree's */
	const pid_t *before;      /* ...unless they were adopted before the child started */
	size_t n_before;
	pid_t *pids;              /* adopted, alive, of this tree */
	size_t n, alloc;
};

/* The adopted children there are now (a setup hook's daemon, a server
 * pg_ctl started): not the next child's orphans. */
static void note_adopted(pid_t pid, void *arg)
{
	struct orphan_scan *sc = arg;

	if (!kids_has(pid)) {
		XGROW(sc->pids, sc->alloc, sc->n + 1);
		sc->pids[sc->n++] = pid;
	}
}

/* Is pid, a child of perfgate's, an adopted orphan still running (its
 * stat in *ps)?  One that ended is reaped, whoever's it was. */
static bool adopted_alive(pid_t pid, struct pstat *ps)
{
	if (kids_has(pid) || !read_pstat(pid, ps))
		return false;
	if (ps->state == 'Z') {
		waitpid(pid, NULL, WNOHANG);
		return false;
	}
	return true;
}

static void note_child(pid_t pid, void *arg)
{
	struct orphan_scan *sc = arg;
	struct pstat ps;

	if (!adopted_alive(pid, &ps))
		return;
	for (size_t i = 0; i < sc->n_before; i++)
		if (sc->before[i] == pid)
			return;
	if (ps.start >= sc->since) {
		XGROW(sc->pids, sc->alloc, sc->n + 1);
		sc->pids[sc->n++] = pid;
	}
}

/* Has the group `pgrp` a living member (not a zombie)?  Counts them into *n. */
static void group_members(pid_t pgrp, pid_t **out, size_t *n, size_t *alloc)
{
	DIR *d = opendir("/proc");
	struct dirent *de;

	if (!d)
		return;
	while ((de = readdir(d))) {
		char *end;
		long pid = strtol(de->d_name, &end, 10);
		struct pstat ps;

		if (*end || pid <= 0 || !read_pstat((pid_t)pid, &ps) || ps.pgrp != pgrp || ps.state == 'Z')
			continue;
		XGROW(*out, *alloc, *n + 1);
		(*out)[(*n)++] = (pid_t)pid;
	}
	closedir(d);
}

/* The group perfgate has just killed (a timeout, Ctrl-C): give SIGKILL a
 * moment to land, so that reap_tree does not count a member still dying
 * as one the child left running (seen under load).  Up to a second. */
static void settle_group(pid_t pgrp)
{
	uint64_t deadline = now_ns() + 1000000000ull;

	while (now_ns() < deadline) {
		pid_t *members = NULL;
		size_t n = 0, alloc = 0;

		group_members(pgrp, &members, &n, &alloc);
		free(members);
		if (n == 0)
			return;
		nanosleep(&(struct timespec){ 0, 2 * 1000 * 1000 }, NULL);
	}
}

/*
 * Kill what the child `leader` (already reaped) left running: the rest of
 * its process group, and adopted orphans started since it was (with their
 * own groups, when they lead one).  Returns how many processes were alive
 * and killed.  Bounded: gives up after about two seconds.
 */
static unsigned reap_tree(pid_t leader, unsigned long long since, const pid_t *before, size_t n_before)
{
	struct orphan_scan sc = { .since = since, .before = before, .n_before = n_before };
	pid_t *seen = NULL, own = getpgrp();
	size_t n_seen = 0, alloc_seen = 0;
	uint64_t deadline = now_ns() + 2000000000ull;

	for (;;) {
		pid_t *victims = NULL;
		size_t n = 0, alloc = 0;
		bool group = kill(-leader, 0) == 0;

		sc.n = 0;
		each_child(note_child, &sc);
		if (!group && sc.n == 0)
			break;
		if (group)
			group_members(leader, &victims, &n, &alloc);
		for (size_t i = 0; i < sc.n; i++) {
			XGROW(victims, alloc, n + 1);
			victims[n++] = sc.pids[i];
		}
		for (size_t i = 0; i < n; i++) {
			struct pstat ps;
			bool known = false;

			for (size_t j = 0; j < n_seen && !known; j++)
				known = seen[j] == victims[i];
			if (!known) {
				XGROW(seen, alloc_seen, n_seen + 1);
				seen[n_seen++] = victims[i];
			}
			if (read_pstat(victims[i], &ps) && ps.pgrp == victims[i] && ps.pgrp != own)
				kill(-ps.pgrp, SIGKILL);
			kill(victims[i], SIGKILL);
		}
		if (group)
			kill(-leader, SIGKILL);
		free(victims);
		if (now_ns() >= deadline)
			break;
		{
			struct timespec ts = { 0, 1000 * 1000 };
			nanosleep(&ts, NULL);
		}
	}
	free(sc.pids);
	free(seen);
	return (unsigned)n_seen;
}

/* Does /proc/PID/environ hold `entry` ("NAME=value") as one of its strings? */
static bool environ_has(pid_t pid, const char *entry)
{
	char path[64], buf[8192];
	size_t len = strlen(entry), have = 0;
	bool found = false, skip = false;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%ld/environ", (long)pid);
	if (len == 0 || len >= sizeof(buf) / 2 || (fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return false;
	/* A string split across reads is kept at the front for the next one;
	 * one too long to be `entry` is skipped to its end. */
	while (!found && (n = read(fd, buf + have, sizeof(buf) - have)) > 0) {
		size_t end = have + (size_t)n, start = 0;

		for (size_t i = 0; i < end && !found; i++)
			if (buf[i] == '\0') {
				found = !skip && i - start == len && memcmp(buf + start, entry, len) == 0;
				skip = false;
				start = i + 1;
			}
		have = end - start;
		if (have > len) {
			skip = true;
			have = 0;
		} else {
			memmove(buf, buf + start, have);
		}
	}
	close(fd);
	return found;
}

struct marked_scan {
	const char *entry;
	pid_t *pids;
	size_t n, alloc;
};

static void note_marked(pid_t pid, void *arg)
{
	struct marked_scan *sc = arg;
	struct pstat ps;

	if (adopted_alive(pid, &ps) && environ_has(pid, sc->entry)) {
		XGROW(sc->pids, sc->alloc, sc->n + 1);
		sc->pids[sc->n++] = pid;
	}
}

size_t proc_adopted_with(const char *entry, pid_t **out)
{
	struct marked_scan sc = { .entry = entry };

	each_child(note_marked, &sc);
	if (out)
		*out = sc.pids;
	else
		free(sc.pids);
	return sc.n;
}

/* sig to pid, and to its whole group when it leads one (not perfgate's). */
static void signal_tree(pid_t pid, int sig)
{
	struct pstat ps;

	if (read_pstat(pid, &ps) && ps.pgrp == pid && ps.pgrp != getpgrp())
		kill(-pid, sig);
	kill(pid, sig);
}

bool proc_try_wait(pid_t pid, int *status)
{
	int st;

	if (pid <= 0 || waitpid(pid, &st, WNOHANG) != pid)
		return false;
	kids_remove(pid);
	if (status)
		*status = st;
	return true;
}

void proc_mark_now(struct proc_mark *m)
{
	struct orphan_scan sc = { .since = 0 };

	/* the orphans of what starts next must come here to be found */
	become_subreaper();
	sc.since = boot_ticks();
	each_child(note_adopted, &sc);
	m->since = sc.since;
	m->before = sc.pids;
	m->n_before = sc.n;
}

void proc_mark_release(struct proc_mark *m)
{
	free(m->before);
	m->before = NULL;
	m->n_before = 0;
}

size_t proc_adopted_since(const struct proc_mark *m, pid_t **out, unsigned long long **starts)
{
	struct orphan_scan sc = { .since = m->since, .before = m->before, .n_before = m->n_before };
	unsigned long long *st;

	each_child(note_child, &sc);
	st = xcalloc(sc.n ? sc.n : 1, sizeof(*st));
	for (size_t i = 0; i < sc.n; i++) {
		struct pstat ps;

		st[i] = read_pstat(sc.pids[i], &ps) ? ps.start : 0;
	}
	*out = sc.pids;
	*starts = st;
	return sc.n;
}

/* Is pid the adopted orphan that started at `start`, still running? */
static bool alive_since(pid_t pid, unsigned long long start)
{
	struct pstat ps;

	return start && adopted_alive(pid, &ps) && ps.start == start;
}

size_t proc_tree_running(const struct proc_tree *t)
{
	size_t n = t->marker ? proc_adopted_with(t->marker, NULL) : 0;

	for (size_t i = 0; i < t->n_also; i++)
		n += alive_since(t->also[i], t->also_start[i]);
	return n;
}

/* sig to each of the tree's marked orphans not yet in told[] (adding
 * them) and, with first, to each of `also`; how many are alive. */
static size_t signal_rest(const struct proc_tree *t, int sig, bool first, pid_t **told, size_t *n_told,
			  size_t *alloc_told)
{
	pid_t *pids = NULL;
	size_t n = t->marker ? proc_adopted_with(t->marker, &pids) : 0, alive = n;

	/* Each process gets the signal once: a second SIGTERM means "now"
	 * to some servers. */
	for (size_t i = 0; i < n; i++) {
		bool known = false;

		for (size_t j = 0; j < *n_told && !known; j++)
			known = (*told)[j] == pids[i];
		if (!known) {
			XGROW(*told, *alloc_told, *n_told + 1);
			(*told)[(*n_told)++] = pids[i];
			signal_tree(pids[i], sig);
		}
	}
	free(pids);
	for (size_t i = 0; i < t->n_also; i++)
		if (alive_since(t->also[i], t->also_start[i])) {
			alive++;
			if (first)
				signal_tree(t->also[i], sig);
		}
	return alive;
}

void proc_stop_tree(const struct proc_tree *t, int sig, double grace)
{
	uint64_t deadline = now_ns() + (uint64_t)(grace > 0 ? grace * 1e9 : 0);
	pid_t *told = NULL;
	size_t n_told = 0, alloc_told = 0;

	if (t->group > 0)
		kill(-t->group, sig);
	for (bool first = true;; first = false) {
		size_t alive = signal_rest(t, sig, first, &told, &n_told, &alloc_told);
		bool leader_up = false;
		siginfo_t si;

		if (t->leader > 0) {
			memset(&si, 0, sizeof(si));
			leader_up = !(waitid(P_PID, (id_t)t->leader, &si, WEXITED | WNOHANG | WNOWAIT) == 0 &&
				      si.si_pid == t->leader);
		}
		if ((!leader_up && alive == 0) || now_ns() >= deadline)
			break;
		nanosleep(&(struct timespec){ 0, 5 * 1000 * 1000 }, NULL);
	}
	/* Whatever is left: the group's other members, and what ignored sig. */
	if (t->group > 0)
		kill(-t->group, SIGKILL);
	n_told = 0;
	signal_rest(t, SIGKILL, true, &told, &n_told, &alloc_told);
	if (t->leader > 0) {
		/* itself too, should it have left the group (not yet reaped, so
		 * its pid is still its own) */
		kill(t->leader, SIGKILL);
		while (waitpid(t->leader, NULL, 0) < 0 && errno == EINTR)
			;
		kids_remove(t->leader);
	}
	free(told);
}

struct spawn_pipes {
	int out[2];
	int err[2];
	int in[2];
};

static void close_fd(int *fd)
{
	if (*fd >= 0) {
		close(*fd);
		*fd = -1;
	}
}

static int add_output(posix_spawn_file_actions_t *fa, enum proc_output how, const char *path,
		      int pipefd[2], int target, struct err *err)
{
	switch (how) {
	case PROC_OUT_INHERIT:
		return 0;
	case PROC_OUT_NULL:
		posix_spawn_file_actions_addopen(fa, target, "/dev/null", O_WRONLY, 0);
		return 0;
	case PROC_OUT_FILE:
		if (!path)
			return err_set(err, ERR_FAIL, "no file named for the child's output");
		posix_spawn_file_actions_addopen(fa, target, path, O_WRONLY | O_CREAT | O_APPEND, 0644);
		return 0;
	case PROC_OUT_CAPTURE:
		if (pipe2(pipefd, O_CLOEXEC) != 0)
			return err_sys(err, ERR_FAIL, "cannot create a pipe");
		posix_spawn_file_actions_adddup2(fa, pipefd[1], target);
		return 0;
	}
	return 0;
}

static int spawn(const struct proc_options *o, pid_t *pid, struct spawn_pipes *p, struct err *err)
{
	posix_spawn_file_actions_t fa;
	posix_spawnattr_t attr;
	sigset_t none, dfl;
	char **envp = NULL;
	int rc = 0, e;

	p->out[0] = p->out[1] = p->err[0] = p->err[1] = p->in[0] = p->in[1] = -1;
	if (!o->argv || !o->argv[0])
		return err_set(err, ERR_INPUT, "no command to run");
	posix_spawn_file_actions_init(&fa);
	posix_spawnattr_init(&attr);

	if (o->stdin_data) {
		if (pipe2(p->in, O_CLOEXEC) != 0) {
			rc = err_sys(err, ERR_FAIL, "cannot create a pipe");
			goto done;
		}
		posix_spawn_file_actions_adddup2(&fa, p->in[0], 0);
	} else {
		posix_spawn_file_actions_addopen(&fa, 0, o->stdin_path ? o->stdin_path : "/dev/null",
						 O_RDONLY, 0);
	}
	if ((rc = add_output(&fa, o->out, o->stdout_path, p->out, 1, err)) ||
	    (rc = add_output(&fa, o->errout, o->stderr_path, p->err, 2, err)))
		goto done;
	if (o->cwd)
		posix_spawn_file_actions_addchdir_np(&fa, o->cwd);

	/* The child gets default signal handling and an empty mask, whatever perfgate uses. */
	sigemptyset(&none);
	sigemptyset(&dfl);
	sigaddset(&dfl, SIGINT);
	sigaddset(&dfl, SIGTERM);
	sigaddset(&dfl, SIGPIPE);
	sigaddset(&dfl, SIGCHLD);
	posix_spawnattr_setsigmask(&attr, &none);
	posix_spawnattr_setsigdefault(&attr, &dfl);
	if (o->new_session) {
		posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETSID | POSIX_SPAWN_SETSIGMASK |
						POSIX_SPAWN_SETSIGDEF);
	} else {
		posix_spawnattr_setpgroup(&attr, 0);
		posix_spawnattr_setflags(&attr, POSIX_SPAWN_SETPGROUP | POSIX_SPAWN_SETSIGMASK |
						POSIX_SPAWN_SETSIGDEF);
	}
	envp = build_env(o);
	if (!o->keep_descendants)
		become_subreaper();
	e = posix_spawnp(pid, o->argv[0], &fa, &attr, (char *const *)(uintptr_t)o->argv,
			 envp ? envp : environ);
	if (e != 0) {
		errno = e;
		if (o->cwd && (e == ENOENT || e == ENOTDIR) && access(o->cwd, X_OK) != 0)
			rc = err_sys(err, ERR_RUN, "cannot enter folder '%s'", o->cwd);
		else
			rc = err_sys(err, ERR_RUN, "cannot run '%s'", o->argv[0]);
	} else {
		kids_add(*pid);
	}
done:
	free(envp);
	posix_spawn_file_actions_destroy(&fa);
	posix_spawnattr_destroy(&attr);
	/* The parent keeps only its ends of the pipes. */
	close_fd(&p->out[1]);
	close_fd(&p->err[1]);
	close_fd(&p->in[0]);
	if (rc) {
		close_fd(&p->out[0]);
		close_fd(&p->err[0]);
		close_fd(&p->in[1]);
	}
	return rc;
}

int proc_spawn(const struct proc_options *opts, pid_t *pid, struct err *err)
{
	struct proc_options o = *opts;
	struct spawn_pipes p;

	/* A background child cannot have its output captured by us. */
	if (o.out == PROC_OUT_CAPTURE)
		o.out = PROC_OUT_NULL;
	if (o.errout == PROC_OUT_CAPTURE)
		o.errout = PROC_OUT_NULL;
	o.stdin_data = NULL;
	return spawn(&o, pid, &p, err);
}

int proc_spawn_reader(const struct proc_options *opts, pid_t *pid, int *out_fd, struct err *err)
{
	struct proc_options o = *opts;
	struct spawn_pipes p;
	int rc;

	o.out = PROC_OUT_CAPTURE;
	if (o.errout == PROC_OUT_CAPTURE)
		o.errout = PROC_OUT_NULL;
	o.stdin_data = NULL;
	rc = spawn(&o, pid, &p, err);
	if (rc == 0)
		*out_fd = p.out[0];
	return rc;
}

static void fill_usage(struct proc_result *res, int status, const struct rusage *ru)
{
	if (WIFEXITED(status)) {
		res->exit_code = WEXITSTATUS(status);
		res->signal = 0;
	} else {
		res->exit_code = -1;
		res->signal = WIFSIGNALED(status) ? WTERMSIG(status) : 0;
	}
	res->user = (double)ru->ru_utime.tv_sec + (double)ru->ru_utime.tv_usec * 1e-6;
	res->sys = (double)ru->ru_stime.tv_sec + (double)ru->ru_stime.tv_usec * 1e-6;
	res->max_rss = (double)ru->ru_maxrss * 1024.0; /* Linux reports KiB */
}

int proc_wait(pid_t pid, struct proc_result *res, struct err *err)
{
	struct rusage ru;
	int status;

	for (;;) {
		pid_t r = wait4(pid, &status, 0, &ru);
		if (r == pid)
			break;
		if (r < 0 && errno == EINTR)
			continue;
		return err_sys(err, ERR_FAIL, "cannot wait for process %ld", (long)pid);
	}
	kids_remove(pid);
	fill_usage(res, status, &ru);
	return 0;
}

void proc_kill_group(pid_t pid, int sig, double grace)
{
	uint64_t deadline;

	if (pid <= 0)
		return;
	if (kill(-pid, sig) != 0 && errno == ESRCH)
		return;
	if (sig == SIGKILL)
		return;
	/* Give the leader `grace` seconds to end (it stays a zombie for its
	 * parent to reap), then SIGKILL whatever is left of the group, such as
	 * a grandchild that ignored the signal or sleeps forever. */
	deadline = now_ns() + (uint64_t)(grace * 1e9);
	while (now_ns() < deadline) {
		struct timespec ts = { 0, 5 * 1000 * 1000 };
		siginfo_t si;

		memset(&si, 0, sizeof(si));
		if (waitid(P_PID, (id_t)pid, &si, WEXITED | WNOHANG | WNOWAIT) == 0) {
			if (si.si_pid == pid)
				break;
		} else if (errno == ECHILD) {
			/* Not our child: all we can see is whether the group exists. */
			if (kill(-pid, 0) != 0 && errno == ESRCH)
				return;
		}
		nanosleep(&ts, NULL);
	}
	kill(-pid, SIGKILL);
}

/* Append to a capture buffer, keeping at most `cap` bytes (the tail). */
static void capture_add(struct sb *sb, const char *data, size_t len, size_t cap)
{
	sb_add(sb, data, len);
	if (sb->len > 2 * cap) {
		memmove(sb->buf, sb->buf + sb->len - cap, cap);
		sb->len = cap;
		sb->buf[cap] = '\0';
	}
}

static void capture_finish(struct sb *sb, size_t cap, char **out, size_t *len)
{
	if (sb->len > cap) {
		memmove(sb->buf, sb->buf + sb->len - cap, cap);
		sb->len = cap;
		sb->buf[cap] = '\0';
	}
	*len = sb->len;
	*out = sb_detach(sb);
}

/* Read what is available on fd; close it at EOF. */
static void drain(int *fd, struct sb *sb, size_t cap)
{
	char buf[16384];

	for (;;) {
		ssize_t n = read(*fd, buf, sizeof(buf));
		if (n > 0) {
			capture_add(sb, buf, (size_t)n, cap);
			continue;
		}
		if (n < 0 && errno == EINTR)
			continue;
		if (n == 0)
			close_fd(fd);
		return; /* EAGAIN: nothing more for now */
	}
}

static int pidfd_open_(pid_t pid)
{
#ifdef SYS_pidfd_open
	return (int)syscall(SYS_pidfd_open, pid, 0);
#else
	(void)pid;
	errno = ENOSYS;
	return -1;
#endif
}

/* The measuring fast path: nothing to watch but the child itself. */
static int wait_simple(const struct proc_options *opts, pid_t pid, uint64_t t0, const struct orphan_scan *pre,
		       struct proc_result *res, struct err *err)
{
	struct rusage ru;
	int status = 0;

	for (;;) {
		pid_t r = wait4(pid, &status, 0, &ru);

		if (r == pid)
			break;
		if (r < 0 && errno == EINTR) {
			if (interrupted)
				proc_kill_group(pid, SIGTERM, 1.0);
			continue;
		}
		return err_sys(err, ERR_FAIL, "cannot wait for '%s'", opts->argv[0]);
	}
	res->wall_ns = now_ns() - t0;
	kids_remove(pid);
	fill_usage(res, status, &ru);
	if (!opts->keep_descendants)
		res->orphans = reap_tree(pid, pre->since, pre->pids, pre->n);
	return 0;
}

/* A child being watched: its pipes, what it wrote, and when to stop it. */
struct watch {
	pid_t pid;
	int pidfd;             /* -1: none (an old kernel), the exit is polled for */
	struct spawn_pipes p;
	struct sb out, errb;   /* what it wrote, the last `cap` bytes of each */
	size_t cap;
	const char *in_data;   /* stdin still to be written */
	size_t in_left;
	uint64_t t0, deadline; /* ns, CLOCK_MONOTONIC; deadline 0: no timeout */
	bool killed;           /* interrupted: the group was sent SIGTERM */
	bool reaped;
	int status;
	struct rusage ru;
};

enum { W_PID, W_OUT, W_ERR, W_IN, W_SLOTS };

/* The poll set (each slot's index in idx, -1 when it has none) and how
 * long to wait, in ms (-1: until something happens). */
static nfds_t watch_fds(const struct watch *w, struct pollfd *fds, int idx[W_SLOTS], int *timeout_ms)
{
	const struct pollfd want[W_SLOTS] = {
		[W_PID] = { w->pidfd, POLLIN, 0 },
		[W_OUT] = { w->p.out[0], POLLIN, 0 },
		[W_ERR] = { w->p.err[0], POLLIN, 0 },
		[W_IN] = { w->p.in[1], POLLOUT, 0 },
	};
	nfds_t n = 0;

	*timeout_ms = w->pidfd >= 0 ? -1 : 10;
	for (int i = 0; i < W_SLOTS; i++) {
		idx[i] = want[i].fd >= 0 ? (int)n : -1;
		if (want[i].fd >= 0)
			fds[n++] = want[i];
	}
	if (w->deadline) {
		uint64_t now = now_ns();
		int left = now >= w->deadline ? 0 : (int)((w->deadline - now) / 1000000 + 1);

		if (*timeout_ms < 0 || left < *timeout_ms)
			*timeout_ms = left;
	}
	return n;
}

/* Read what the child wrote and feed its stdin, where poll says so. */
static void watch_io(struct watch *w, const struct pollfd *fds, const int idx[W_SLOTS])
{
	if (idx[W_OUT] >= 0 && fds[idx[W_OUT]].revents)
		drain(&w->p.out[0], &w->out, w->cap);
	if (idx[W_ERR] >= 0 && fds[idx[W_ERR]].revents)
		drain(&w->p.err[0], &w->errb, w->cap);
	if (idx[W_IN] >= 0 && fds[idx[W_IN]].revents) {
		ssize_t n = fds[idx[W_IN]].revents & POLLOUT ? write(w->p.in[1], w->in_data, w->in_left) : -1;

		if (n > 0) {
			w->in_data += n;
			w->in_left -= (size_t)n;
		}
		if (w->in_left == 0 || (n < 0 && errno != EAGAIN && errno != EINTR))
			close_fd(&w->p.in[1]);
	}
}

/* Watch the child until it is reaped (w->reaped), feeding and draining its
 * pipes and stopping it at the deadline or on Ctrl-C; 0 or a negative code. */
static int watch_child(struct watch *w, const struct proc_options *opts, struct proc_result *res,
		       struct err *err)
{
	while (!w->reaped) {
		struct pollfd fds[W_SLOTS];
		int idx[W_SLOTS], timeout_ms, pr;
		nfds_t n = watch_fds(w, fds, idx, &timeout_ms);

		pr = poll(fds, n, timeout_ms);
		if (pr < 0 && errno != EINTR) {
			int rc = err_sys(err, ERR_FAIL, "cannot watch '%s'", opts->argv[0]);

			proc_kill_group(w->pid, SIGKILL, 0);
			return rc;
		}
		if (interrupted && !w->killed) {
			w->killed = true;
			proc_kill_group(w->pid, SIGTERM, 1.0);
		} else if (w->deadline && now_ns() >= w->deadline && !res->timed_out) {
			res->timed_out = true;
			proc_kill_group(w->pid, SIGTERM, 1.0);
		}
		if (pr > 0)
			watch_io(w, fds, idx);
		if (w->pidfd < 0 || (idx[W_PID] >= 0 && pr > 0 && fds[idx[W_PID]].revents)) {
			pid_t r = wait4(w->pid, &w->status, w->pidfd >= 0 ? 0 : WNOHANG, &w->ru);

			if (r == w->pid) {
				res->wall_ns = now_ns() - w->t0;
				w->reaped = true;
				kids_remove(w->pid);
			} else if (r < 0 && errno != EINTR) {
				return err_sys(err, ERR_FAIL, "cannot wait for '%s'", opts->argv[0]);
			}
		}
	}
	return 0;
}

int proc_run(const struct proc_options *opts, struct proc_result *res, struct err *err)
{
	struct watch w = { .pidfd = -1, .out = SB_INIT, .errb = SB_INIT };
	struct orphan_scan pre = { .since = 0 };
	bool simple;
	int rc;

	memset(res, 0, sizeof(*res));
	res->exit_code = -1;
	if (!opts->keep_descendants) {
		pre.since = boot_ticks();
		each_child(note_adopted, &pre);
	}
	simple = opts->out != PROC_OUT_CAPTURE && opts->errout != PROC_OUT_CAPTURE &&
		 !opts->stdin_data && opts->timeout <= 0;
	w.t0 = now_ns();
	rc = spawn(opts, &w.pid, &w.p, err);
	if (rc) {
		res->exec_failed = true;
		res->exec_errno = errno;
		free(pre.pids);
		return rc;
	}
	if (simple) {
		rc = wait_simple(opts, w.pid, w.t0, &pre, res, err);
		free(pre.pids);
		return rc;
	}

	w.cap = opts->max_capture ? opts->max_capture : 1u << 20;
	w.in_data = opts->stdin_data;
	w.in_left = opts->stdin_data ? opts->stdin_len : 0;
	if (opts->timeout > 0)
		w.deadline = w.t0 + (uint64_t)(opts->timeout * 1e9);
	w.pidfd = pidfd_open_(w.pid);
	if (w.p.out[0] >= 0)
		fcntl(w.p.out[0], F_SETFL, O_NONBLOCK);
	if (w.p.err[0] >= 0)
		fcntl(w.p.err[0], F_SETFL, O_NONBLOCK);
	if (w.p.in[1] >= 0) {
		fcntl(w.p.in[1], F_SETFL, O_NONBLOCK);
		signal(SIGPIPE, SIG_IGN);
	}
	rc = watch_child(&w, opts, res, err);
	if (w.reaped) {
		fill_usage(res, w.status, &w.ru);
		/* What the child wrote before exiting is still in the pipes; a
		 * grandchild holding them open must not keep us waiting. */
		if (w.p.out[0] >= 0)
			drain(&w.p.out[0], &w.out, w.cap);
		if (w.p.err[0] >= 0)
			drain(&w.p.err[0], &w.errb, w.cap);
		if (!opts->keep_descendants) {
			if (res->timed_out || w.killed)
				settle_group(w.pid);
			res->orphans = reap_tree(w.pid, pre.since, pre.pids, pre.n);
		} else if (res->timed_out || interrupted)
			kill(-w.pid, SIGKILL);
	}
	if (w.pidfd >= 0)
		close(w.pidfd);
	close_fd(&w.p.out[0]);
	close_fd(&w.p.err[0]);
	close_fd(&w.p.in[1]);
	if (opts->out == PROC_OUT_CAPTURE)
		capture_finish(&w.out, w.cap, &res->out, &res->out_len);
	if (opts->errout == PROC_OUT_CAPTURE)
		capture_finish(&w.errb, w.cap, &res->errout, &res->errout_len);
	sb_release(&w.out);
	sb_release(&w.errb);
	free(pre.pids);
	return rc;
}

void proc_result_release(struct proc_result *res)
{
	free(res->out);
	free(res->errout);
	res->out = res->errout = NULL;
	res->out_len = res->errout_len = 0;
}
