/*
 * proc.c: starting, timing, timing out and reaping child processes.
 *
 * Children start with posix_spawn (glibc implements it with a vfork-style
 * clone, so starting a child costs about what hyperfine's does) in their own
 * process group.  Waiting uses a pidfd in poll(), so captured output, stdin
 * data, the timeout and Ctrl-C are all handled in one loop without SIGCHLD.
 */
#include "proc.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdlib.h>
#include <string.h>
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

/* The environment for the child: environ with the overlay's names replaced. */
static char **build_env(const char *const *overlay)
{
	size_t n_env = 0, n_over = 0, k = 0;
	char **envp;

	for (char **e = environ; *e; e++)
		n_env++;
	for (const char *const *o = overlay; *o; o++)
		n_over++;
	envp = xmalloc((n_env + n_over + 1) * sizeof(*envp));
	for (char **e = environ; *e; e++) {
		const char *eq = strchr(*e, '=');
		size_t nlen = eq ? (size_t)(eq - *e) : strlen(*e);
		bool replaced = false;

		for (const char *const *o = overlay; *o; o++) {
			if (strncmp(*o, *e, nlen) == 0 && (*o)[nlen] == '=') {
				replaced = true;
				break;
			}
		}
		if (!replaced)
			envp[k++] = *e;
	}
	for (const char *const *o = overlay; *o; o++)
		envp[k++] = (char *)(uintptr_t)*o;
	envp[k] = NULL;
	return envp;
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
	if (o->env)
		envp = build_env(o->env);
	e = posix_spawnp(pid, o->argv[0], &fa, &attr, (char *const *)(uintptr_t)o->argv,
			 envp ? envp : environ);
	if (e != 0) {
		errno = e;
		if (o->cwd && (e == ENOENT || e == ENOTDIR) && access(o->cwd, X_OK) != 0)
			rc = err_sys(err, ERR_RUN, "cannot enter folder '%s'", o->cwd);
		else
			rc = err_sys(err, ERR_RUN, "cannot run '%s'", o->argv[0]);
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
	/* Give the leader `grace` seconds to exit (it stays a zombie for its
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
static int wait_simple(const struct proc_options *opts, pid_t pid, uint64_t t0, struct proc_result *res,
		       struct err *err)
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
	fill_usage(res, status, &ru);
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
	bool simple;
	int rc;

	memset(res, 0, sizeof(*res));
	res->exit_code = -1;
	simple = opts->out != PROC_OUT_CAPTURE && opts->errout != PROC_OUT_CAPTURE &&
		 !opts->stdin_data && opts->timeout <= 0;
	w.t0 = now_ns();
	rc = spawn(opts, &w.pid, &w.p, err);
	if (rc) {
		res->exec_failed = true;
		res->exec_errno = errno;
		return rc;
	}
	if (simple)
		return wait_simple(opts, w.pid, w.t0, res, err);

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
		if (res->timed_out || interrupted)
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
	return rc;
}

void proc_result_release(struct proc_result *res)
{
	free(res->out);
	free(res->errout);
	res->out = res->errout = NULL;
	res->out_len = res->errout_len = 0;
}
