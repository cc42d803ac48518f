/*
 * proc.h: the one place perfgate starts child processes (DESIGN section 2).
 *
 * A child runs in its own process group with stdin from /dev/null (unless
 * told otherwise), optional captured stdout/stderr, an optional environment
 * overlay and working folder, and an optional timeout after which the whole
 * group is killed (SIGTERM, then SIGKILL), so a command that forks a child
 * which sleeps forever cannot hang perfgate.  The wall clock is
 * CLOCK_MONOTONIC from just before fork to the reap; user/sys/max_rss come
 * from wait4()'s rusage.
 *
 * Secrets perfgate itself reads (the database URL and password, forge and
 * CI tokens: proc_secret_name) are removed from every child's environment
 * unless the caller names them in pass_env.  When proc_run's child ends,
 * whatever it left running is killed: its process group, and processes that
 * escaped the group with setsid (perfgate is a child subreaper, so they are
 * reparented to it); res->orphans counts them.
 */
#ifndef PERFGATE_PROC_H
#define PERFGATE_PROC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

#include "err.h"

enum proc_output {
	PROC_OUT_INHERIT = 0, /* the child writes to perfgate's own stream */
	PROC_OUT_NULL,        /* /dev/null */
	PROC_OUT_CAPTURE,     /* collected into proc_result (capped at max_capture bytes, tail kept) */
	PROC_OUT_FILE         /* appended to the file named in stdout_path/stderr_path */
};

struct proc_options {
	const char *const *argv;   /* argv[0] is looked up in PATH */
	const char *const *env;    /* "NAME=value" entries added to (or replacing in) the environment; NULL-terminated, may be NULL */
	const char *cwd;           /* NULL: perfgate's own */
	enum proc_output out;      /* stdout handling */
	enum proc_output errout;   /* stderr handling */
	const char *stdout_path;   /* for PROC_OUT_FILE */
	const char *stderr_path;
	const char *stdin_path;    /* NULL: /dev/null */
	const void *stdin_data;    /* when set: written to the child's stdin through a pipe */
	size_t stdin_len;
	double timeout;            /* seconds; <= 0: none */
	size_t max_capture;        /* bytes kept per captured stream; 0: 1 MiB */
	bool new_session;          /* setsid() instead of setpgid() */
	const char *const *pass_env; /* secret names (proc_secret_name) the child may still see, on purpose; NULL-terminated, may be NULL */
	bool keep_secrets;         /* perfgate's own tool that needs the caller's credentials: nothing is scrubbed */
	bool keep_descendants;     /* leave running what the child started in the background (pg_ctl's server, a setup hook's daemon) */
};
#define PROC_OPTIONS_INIT { .out = PROC_OUT_INHERIT, .errout = PROC_OUT_INHERIT }

struct proc_result {
	int exit_code;        /* when exited normally, else -1 */
	int signal;           /* terminating signal, 0 when exited */
	bool timed_out;       /* killed by the timeout */
	bool exec_failed;     /* the program could not be started (errno in exec_errno) */
	int exec_errno;
	uint64_t wall_ns;     /* CLOCK_MONOTONIC, fork to reap */
	double user;          /* seconds of user CPU, child and its reaped descendants */
	double sys;           /* seconds of system CPU */
	double max_rss;       /* bytes */
	char *out;            /* captured stdout (NUL-terminated) or NULL */
	size_t out_len;
	char *errout;         /* captured stderr or NULL */
	size_t errout_len;
	unsigned orphans;     /* processes the child left running (in its group, or escaped with setsid) that were killed when it ended */
};

/* Run to completion.  Returns 0 when the child was started and reaped (look
 * at *res for how it ended), or a negative code when it could not be run at
 * all (res->exec_failed then says why). */
int proc_run(const struct proc_options *opts, struct proc_result *res, struct err *err);
void proc_result_release(struct proc_result *res);

/* Start in the background; the caller reaps with proc_wait or kills with
 * proc_kill_group.  pid is also the process-group id. */
int proc_spawn(const struct proc_options *opts, pid_t *pid, struct err *err);
/* Start in the background with stdout going to a pipe whose read end is
 * returned in *out_fd (close-on-exec, blocking); for children such as
 * `nvidia-smi -lms` whose output is read while they run. */
int proc_spawn_reader(const struct proc_options *opts, pid_t *pid, int *out_fd, struct err *err);
/* Send sig to the whole group, wait up to grace seconds, then SIGKILL. */
void proc_kill_group(pid_t pid, int sig, double grace);
/* Reap a spawned child if it has ended (not blocking): true, with its wait
 * status in *status (when not NULL). */
bool proc_try_wait(pid_t pid, int *status);
/* The processes reparented to perfgate (orphans of a spawned child's tree:
 * a server's daemon that escaped its group with setsid, or its background
 * jobs once the child ended) whose environment holds `entry`
 * ("NAME=value", set for the child with proc_options.env); the count, and
 * their pids in *out to free (when out is not NULL).  Adopted zombies are
 * reaped on the way. */
size_t proc_adopted_with(const char *entry, pid_t **out);
/* A moment to tell a child's orphans from older ones by: the time, and
 * the adopted orphans there were then (proc_adopted_since). */
struct proc_mark {
	unsigned long long since; /* /proc/PID/stat start ticks */
	pid_t *before;
	size_t n_before;
};
void proc_mark_now(struct proc_mark *m);
void proc_mark_release(struct proc_mark *m);
/* The adopted orphans alive now that started since the mark and were not
 * adopted at it (what a child started since, that outlived its parent):
 * the count; pids and start ticks in *out and *starts, to free. */
size_t proc_adopted_since(const struct proc_mark *m, pid_t **out, unsigned long long **starts);

/* A spawned child and what it started, to watch and stop together. */
struct proc_tree {
	pid_t leader;          /* 0: reaped already */
	pid_t group;           /* its process group; 0: none (left alone) */
	const char *marker;    /* "NAME=value" in the environment of what it started; NULL: none */
	const pid_t *also;     /* more processes of it (proc_adopted_since)... */
	const unsigned long long *also_start; /* ...with their start ticks: a pid that another
						 process has taken since is left alone */
	size_t n_also;
};
/* How many of the tree's processes other than its leader and group are
 * alive: adopted orphans that carry the marker, and those of `also`. */
size_t proc_tree_running(const struct proc_tree *t);
/* Stop it: sig to the group, to each adopted orphan that carries the
 * marker and to each of `also` (each with the group it leads, each
 * once); up to grace seconds for the leader and those to end; then
 * SIGKILL to the group, the leader and what is left.  The leader is
 * reaped. */
void proc_stop_tree(const struct proc_tree *t, int sig, double grace);
/* Reap a spawned child (blocking); fills exit_code/signal/rusage fields. */
int proc_wait(pid_t pid, struct proc_result *res, struct err *err);

/* Last `lines` lines of text (for "the failing command's last lines of
 * stderr"), as a new string. */
char *proc_tail_lines(const char *text, size_t len, int lines);

/* Is the environment variable NAME (len bytes, no '=') one of the secrets
 * kept from children: PERFGATE_DATABASE_URL, PGPASSWORD, GITHUB_TOKEN,
 * GH_TOKEN, GITLAB_TOKEN, CI_JOB_TOKEN, CI_JOB_JWT*, CI_REGISTRY_PASSWORD,
 * ACTIONS_RUNTIME_TOKEN, ACTIONS_ID_TOKEN_REQUEST_TOKEN, and any PERFGATE_
 * name containing TOKEN, PASSWORD or SECRET. */
bool proc_secret_name(const char *name, size_t len);

/* Find an executable in PATH; returns a new string or NULL. */
char *proc_which(const char *name);

/* A set of interrupt flags for Ctrl-C: proc_run returns promptly (killing
 * the child's group) once proc_interrupted() is true.  SIGPIPE is ignored
 * from then on: a closed output pipe fails writes, it does not kill
 * perfgate with its children running. */
void proc_install_interrupt_handler(void);
bool proc_interrupted(void);

#endif
