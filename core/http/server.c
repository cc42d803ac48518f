/*
 * server.c: the server a load benchmark starts for itself (see server.h).
 */
#include "server.h"

#include <errno.h>
#include <fcntl.h>
#include <netdb.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <netinet/in.h>

#include "../json.h"
#include "../proc.h"
#include "../runner_cmd.h"
#include "../util.h"

struct http_server {
	pid_t pid;        /* 0 once reaped */
	pid_t group;      /* its process group: its pid while it ran */
	char *marker;     /* "PERFGATE_SERVER=..." in its environment, inherited by what it starts */
	bool detached;    /* it ended with status 0 and left processes running: a daemon */
	bool ready;       /* it answered: what is adopted from now on is not its start's */
	struct proc_mark mark; /* taken as it started */
	pid_t *bg;        /* detached before it was ready: what it started that outlived it */
	unsigned long long *bg_start;
	size_t n_bg;
	double grace;     /* seconds from SIGTERM to SIGKILL */
	char *log;        /* its stdout and stderr */
	double ready_after;
	char *ended;      /* how it ended, once it has */
	char *key;        /* what it is: its definition, folder, host and port */
	unsigned refs;    /* the benchmarks that use it */
	struct http_server *next;
};

/* The servers running now.  Benchmarks that declare the same server (the
 * same definition, folder, host and port) share one: in an interleaved
 * suite every load test starts before the first step, and a second copy
 * would find the port taken. */
static struct http_server *running;

static const char *const server_keys[] = { "command", "shell", "env", "cwd", "ready", "ready_timeout",
					   "stop_timeout" };

void http_server_validate(const cJSON *bench, const char *path, struct errlist *problems)
{
	const cJSON *srv = cJSON_GetObjectItemCaseSensitive(bench, "server");
	const cJSON *cmd, *sh, *v, *it;
	const char *url = json_peek_str(json_peek(bench, "http"), "url");
	double d;

	if (!srv)
		return;
	if (!cJSON_IsObject(srv)) {
		json_expected(problems, path, "an object with \"command\" or \"shell\"", srv);
		return;
	}
	if (cJSON_HasObjectItem(bench, "journey"))
		json_problem(problems, "%s: only for \"http\" benchmarks (a journey's steps may go to several servers)",
			     path);
	cJSON_ArrayForEach(it, srv) {
		size_t i = 0;

		while (i < ARRAY_SIZE(server_keys) && strcmp(it->string, server_keys[i]) != 0)
			i++;
		if (i == ARRAY_SIZE(server_keys))
			json_problem(problems, "%s.%s: unknown key (a server has command or shell, env, cwd, ready, "
				     "ready_timeout, stop_timeout)", path, it->string);
	}
	cmd = cJSON_GetObjectItemCaseSensitive(srv, "command");
	sh = cJSON_GetObjectItemCaseSensitive(srv, "shell");
	if (!cmd == !sh)
		json_problem(problems, "%s: needs exactly one of \"command\" (an array of strings) and \"shell\" "
			     "(a string)", path);
	if (sh && (!cJSON_IsString(sh) || !sh->valuestring[0]))
		json_problem(problems, "%s.shell: expected a non-empty shell command", path);
	if (cmd) {
		bool good = cJSON_IsArray(cmd) && cJSON_GetArraySize(cmd) > 0;

		cJSON_ArrayForEach(it, cmd)
			good = good && cJSON_IsString(it) && it->valuestring[0];
		if (!good)
			json_problem(problems, "%s.command: expected a non-empty array of non-empty strings", path);
	}
	if ((v = cJSON_GetObjectItemCaseSensitive(srv, "env"))) {
		bool good = cJSON_IsObject(v);

		cJSON_ArrayForEach(it, v)
			good = good && cJSON_IsString(it);
		if (!good)
			json_problem(problems, "%s.env: expected an object of strings", path);
	}
	if ((v = cJSON_GetObjectItemCaseSensitive(srv, "cwd")) && (!cJSON_IsString(v) || !v->valuestring[0]))
		json_problem(problems, "%s.cwd: expected a folder, relative to the benchmark's", path);
	if ((v = cJSON_GetObjectItemCaseSensitive(srv, "ready"))) {
		if (!cJSON_IsString(v) || v->valuestring[0] != '/')
			json_problem(problems, "%s.ready: expected a path answered with 2xx when the server is ready "
				     "(\"/health\")", path);
		else if (url && strncmp(url, "http://", 7) != 0)
			json_problem(problems, "%s.ready: asked over plain http:// only; without it the server is "
				     "ready once its port accepts connections", path);
	}
	if ((v = cJSON_GetObjectItemCaseSensitive(srv, "ready_timeout")) && !(json_duration_value(v, &d) == 0 && d > 0))
		json_problem(problems, "%s.ready_timeout: expected a duration above 0 (\"120s\")", path);
	if ((v = cJSON_GetObjectItemCaseSensitive(srv, "stop_timeout")) && !(json_duration_value(v, &d) == 0 && d >= 0))
		json_problem(problems, "%s.stop_timeout: expected a duration, 0 or more (\"30s\")", path);
}

/* A connected socket to host:port, or -1 (refused, unreachable, nothing
 * within timeout_ms). */
static int connect_to(const char *host, const char *port, int timeout_ms)
{
	struct addrinfo hints, *res = NULL, *ai;
	int fd = -1;

	memset(&hints, 0, sizeof(hints));
	hints.ai_socktype = SOCK_STREAM;
	if (getaddrinfo(host, port, &hints, &res) != 0)
		return -1;
	for (ai = res; ai && fd < 0; ai = ai->ai_next) {
		struct pollfd pfd;
		int soerr = 0;
		socklen_t sl = sizeof(soerr);

		fd = socket(ai->ai_family, ai->ai_socktype | SOCK_NONBLOCK | SOCK_CLOEXEC, ai->ai_protocol);
		if (fd < 0)
			continue;
		if (connect(fd, ai->ai_addr, ai->ai_addrlen) != 0 && errno != EINPROGRESS) {
			close(fd);
			fd = -1;
			continue;
		}
		pfd.fd = fd;
		pfd.events = POLLOUT;
		if (poll(&pfd, 1, timeout_ms) != 1 || getsockopt(fd, SOL_SOCKET, SO_ERROR, &soerr, &sl) != 0 || soerr) {
			close(fd);
			fd = -1;
		}
	}
	freeaddrinfo(res);
	return fd;
}

/* Does GET path on the connected fd answer 2xx within timeout_ms? */
static bool answers_2xx(int fd, const char *host, const char *port, const char *path, int timeout_ms)
{
	char *req = xasprintf("GET %s HTTP/1.1\r\nHost: %s:%s\r\nConnection: close\r\n\r\n", path, host, port);
	char buf[64];
	size_t have = 0, len = strlen(req), sent = 0;
	uint64_t deadline = now_ns() + (uint64_t)timeout_ms * 1000000u;
	int status = 0;

	while (sent < len && now_ns() < deadline) {
		ssize_t k = send(fd, req + sent, len - sent, MSG_NOSIGNAL);

		if (k > 0)
			sent += (size_t)k;
		else if (k < 0 && errno != EAGAIN && errno != EINTR)
			break;
		else
			poll(&(struct pollfd){ .fd = fd, .events = POLLOUT }, 1, 10);
	}
	free(req);
	while (sent == len && have < sizeof(buf) - 1 && now_ns() < deadline) {
		struct pollfd pfd = { .fd = fd, .events = POLLIN };
		ssize_t k;

		if (poll(&pfd, 1, 10) != 1)
			continue;
		k = recv(fd, buf + have, sizeof(buf) - 1 - have, 0);
		if (k <= 0)
			break;
		have += (size_t)k;
		buf[have] = '\0';
		if (strchr(buf, '\n'))
			break;
	}
	buf[have] = '\0';
	return sscanf(buf, "HTTP/%*d.%*d %d", &status) == 1 && status >= 200 && status < 300;
}

/* The last line of the server's output, as a new string ("" when none). */
static char *last_line(const char *log)
{
	char buf[4096];
	int fd = open(log, O_RDONLY | O_CLOEXEC);
	off_t end;
	ssize_t k = 0;
	char *line;

	if (fd < 0)
		return xstrdup("");
	end = lseek(fd, 0, SEEK_END);
	if (end > (off_t)sizeof(buf) - 1)
		lseek(fd, end - (off_t)sizeof(buf) + 1, SEEK_SET);
	else
		lseek(fd, 0, SEEK_SET);
	k = read(fd, buf, sizeof(buf) - 1);
	close(fd);
	line = proc_tail_lines(buf, k > 0 ? (size_t)k : 0, 1);
	for (char *c = line; *c; c++)
		if ((unsigned char)*c < 0x20)
			*c = ' ';
	return line;
}

/* How the server ended (waitpid status). */
static char *how_it_ended(int status)
{
	/* Status 0 leaving nothing perfgate can follow: a command that hands
	 * the server to something else (`docker run -d`, a service manager). */
	if (WIFEXITED(status) && WEXITSTATUS(status) == 0)
		return xstrdup("exited with status 0, leaving nothing running that perfgate can follow (a server "
			       "command must run the server, in the foreground or as its own daemon: not `docker "
			       "run -d` or a service manager)");
	if (WIFEXITED(status))
		return xasprintf("exited with status %d", WEXITSTATUS(status));
	return xasprintf("was killed by signal %d", WIFSIGNALED(status) ? WTERMSIG(status) : 0);
}

char *http_server_why(const struct http_server *s, const char *when)
{
	char *line = last_line(s->log), *why;

	why = xasprintf("its server %s %s%s%s", s->ended ? s->ended : "ran", when, line[0] ? "; its last line: " : "",
			line);
	free(line);
	return why;
}

static struct proc_tree tree_of(const struct http_server *s)
{
	return (struct proc_tree){ .leader = s->pid, .group = s->group, .marker = s->marker, .also = s->bg,
				   .also_start = s->bg_start, .n_also = s->n_bg };
}

/* Until it is ready, what the server started that outlived its command:
 * processes adopted since it started (a daemon that rewrote or cleared
 * its environment carries no marker; nothing else starts meanwhile). */
static void find_background(struct http_server *s)
{
	if (s->ready)
		return;
	free(s->bg);
	free(s->bg_start);
	s->n_bg = proc_adopted_since(&s->mark, &s->bg, &s->bg_start);
}

char *http_server_ended(struct http_server *s)
{
	struct proc_tree t;
	int status;

	if (!s)
		return NULL;
	if (!s->ended && proc_try_wait(s->pid, &status)) {
		s->pid = 0;
		/* Status 0 with processes left running, which carry its marker
		 * or started while it did: it went to the background (a daemon
		 * that forks, or `serve &`). */
		if (WIFEXITED(status) && WEXITSTATUS(status) == 0) {
			find_background(s);
			t = tree_of(s);
			s->detached = proc_tree_running(&t) > 0;
		}
		if (!s->detached) {
			/* What it left running goes with it. */
			t = tree_of(s);
			proc_stop_tree(&t, SIGKILL, 0);
			s->ended = how_it_ended(status);
		}
	}
	if (s->detached && !s->ended) {
		/* A process group with no member left may take another's id
		 * later: forget it, so that stopping never signals a stranger's
		 * group. */
		if (s->group > 0 && kill(-s->group, 0) != 0)
			s->group = 0;
		find_background(s); /* a double fork's last process may come late */
		t = tree_of(s);
		if (proc_tree_running(&t) == 0) {
			proc_stop_tree(&t, SIGKILL, 0);
			s->ended = xstrdup("ended in the background");
		}
	}
	return s->ended ? xstrdup(s->ended) : NULL;
}

double http_server_ready_after(const struct http_server *s)
{
	return s ? s->ready_after : 0;
}

void http_server_stop(struct http_server *s)
{
	struct http_server **p;

	if (!s || --s->refs > 0)
		return;
	for (p = &running; *p; p = &(*p)->next)
		if (*p == s) {
			*p = s->next;
			break;
		}
	if (s->group > 0 || s->detached) {
		/* one that ended since was stopped then; a detached one's
		 * group may be gone */
		free(http_server_ended(s));
		if (!s->ended) {
			struct proc_tree t = tree_of(s);

			/* stop_timeout 0s: SIGKILL at once, no SIGTERM
			 * first (docs/load.md) */
			proc_stop_tree(&t, s->grace > 0 ? SIGTERM : SIGKILL, s->grace);
		}
	}
	if (s->log)
		unlink(s->log);
	proc_mark_release(&s->mark);
	free(s->bg);
	free(s->bg_start);
	free(s->marker);
	free(s->log);
	free(s->ended);
	free(s->key);
	free(s);
}

static char **server_env(const cJSON *srv, const char *port, const char *marker)
{
	const cJSON *env = cJSON_GetObjectItemCaseSensitive(srv, "env"), *it;
	char **e = xcalloc((size_t)(env ? cJSON_GetArraySize(env) : 0) + 3, sizeof(*e));
	size_t n = 0;

	e[n++] = xasprintf("PORT=%s", port);
	e[n++] = xstrdup(marker);
	cJSON_ArrayForEach(it, env)
		if (cJSON_IsString(it))
			e[n++] = xasprintf("%s=%s", it->string, it->valuestring);
	return e;
}

/* Wait until the server accepts connections on host:port (and answers the
 * ready path), it ends, the time is up, or perfgate is interrupted. */
static int wait_ready(struct http_server *s, const cJSON *srv, const char *host, const char *port, uint64_t t0,
		      struct err *err)
{
	const char *ready = json_peek_str(srv, "ready");
	double limit = HTTP_SERVER_READY_TIMEOUT;
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(srv, "ready_timeout");
	uint64_t deadline;
	char *ended;

	if (v)
		json_duration_value(v, &limit);
	deadline = t0 + (uint64_t)(limit * 1e9);
	for (;;) {
		int fd;
		bool up;

		if ((ended = http_server_ended(s))) {
			char *when = xasprintf("before it was ready on %s:%s", host, port);
			char *why = http_server_why(s, when);
			int rc = err_set(err, ERR_RUN, "%s", why);

			free(why);
			free(when);
			free(ended);
			return rc;
		}
		if (proc_interrupted())
			return err_set(err, ERR_RUN, "interrupted while its server started");
		fd = connect_to(host, port, 200);
		up = fd >= 0 && (!ready || answers_2xx(fd, host, port, ready, 1000));
		if (fd >= 0)
			close(fd);
		if (up) {
			s->ready_after = (double)(now_ns() - t0) / 1e9;
			if (s->detached)
				find_background(s);
			s->ready = true;
			return 0;
		}
		if (now_ns() >= deadline) {
			char *line = last_line(s->log);
			int rc = err_set(err, ERR_RUN,
					 "its server was not ready on %s:%s%s%s within %gs (\"ready_timeout\" in its "
					 "\"server\"; does it listen on $PORT?)%s%s", host, port,
					 ready ? " at " : "", ready ? ready : "", limit, line[0] ? "; its last line: " : "",
					 line);

			free(line);
			return rc;
		}
		nanosleep(&(struct timespec){ 0, 50 * 1000 * 1000 }, NULL);
	}
}

int http_server_start(struct http_server **out, const cJSON *srv, const char *dir,
		      const char *host, const char *port, struct err *err)
{
	struct proc_options po = PROC_OPTIONS_INIT;
	static unsigned started;
	struct http_server *s;
	const cJSON *v;
	const char *cwd = json_peek_str(srv, "cwd");
	const char *tmp = getenv("TMPDIR");
	char **argv, **env, *folder, *def = json_canonical(srv), *key;
	uint64_t t0;
	int fd, rc;

	*out = NULL;
	folder = path_from(dir, cwd);
	key = xasprintf("%s\n%s\n%s\n%s", def, folder, host, port);
	free(def);
	for (s = running; s; s = s->next)
		if (strcmp(s->key, key) == 0 && !s->ended) {
			s->refs++;
			*out = s;
			free(key);
			free(folder);
			return 0;
		}
	if ((fd = connect_to(host, port, 500)) >= 0) {
		free(key);
		free(folder);
		close(fd);
		return err_set(err, ERR_RUN,
			       "something already listens on %s:%s, where the benchmark starts its own server: the "
			       "load would measure that one; stop it, or give the benchmark another port", host, port);
	}
	s = xcalloc(1, sizeof(*s));
	s->key = key;
	s->refs = 1;
	s->marker = xasprintf("PERFGATE_SERVER=%ld.%u", (long)getpid(), ++started);
	s->grace = HTTP_SERVER_GRACE;
	if ((v = cJSON_GetObjectItemCaseSensitive(srv, "stop_timeout")))
		json_duration_value(v, &s->grace);
	s->log = xasprintf("%s/perfgate-server.XXXXXX", tmp && tmp[0] ? tmp : "/tmp");
	if ((fd = mkstemp(s->log)) < 0) {
		rc = err_set(err, ERR_RUN, "cannot create a file for its server's output in %s: %s",
			     tmp && tmp[0] ? tmp : "/tmp", strerror(errno));
		free(s->log);
		s->log = NULL;
		free(folder);
		http_server_stop(s);
		return rc;
	}
	close(fd);
	argv = runner_cmd_argv(cJSON_GetObjectItemCaseSensitive(srv, "command"), json_peek_str(srv, "shell"));
	env = server_env(srv, port, s->marker);
	po.argv = (const char *const *)argv;
	po.env = (const char *const *)env;
	po.cwd = folder;
	po.out = PROC_OUT_FILE;
	po.errout = PROC_OUT_FILE;
	po.stdout_path = s->log;
	po.stderr_path = s->log;
	t0 = now_ns();
	proc_mark_now(&s->mark);
	rc = proc_spawn(&po, &s->pid, err);
	s->group = rc == 0 ? s->pid : 0;
	argv_free(argv);
	argv_free(env);
	free(folder);
	if (rc != 0) {
		err_prefix(err, "its server: ");
		s->pid = 0;
		http_server_stop(s);
		return ERR_RUN;
	}
	if ((rc = wait_ready(s, srv, host, port, t0, err)) != 0) {
		http_server_stop(s);
		return rc;
	}
	s->next = running;
	running = s;
	*out = s;
	return 0;
}

char *http_server_url_with_port(const char *url, const char *port)
{
	const char *auth, *end, *at, *host_end, *p;

	if (strncmp(url, "http://", 7) == 0)
		auth = url + 7;
	else if (strncmp(url, "https://", 8) == 0)
		auth = url + 8;
	else
		return NULL;
	end = auth + strcspn(auth, "/?#");
	/* userinfo@ (the last '@' before the path) */
	for (at = auth, p = auth; p < end; p++)
		if (*p == '@')
			at = p + 1;
	if (*at == '[') {
		host_end = memchr(at, ']', (size_t)(end - at));
		if (!host_end)
			return NULL;
		host_end++;
	} else {
		host_end = memchr(at, ':', (size_t)(end - at));
		if (!host_end)
			host_end = end;
	}
	return xasprintf("%.*s:%s%s", (int)(host_end - url), url, port, end);
}

int http_server_free_port(char *out, size_t len, struct err *err)
{
	struct sockaddr_in a;
	socklen_t al = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) != 0 ||
	    getsockname(fd, (struct sockaddr *)&a, &al) != 0) {
		int rc = err_set(err, ERR_RUN, "cannot find a free port on 127.0.0.1: %s", strerror(errno));

		if (fd >= 0)
			close(fd);
		return rc;
	}
	close(fd);
	snprintf(out, len, "%u", (unsigned)ntohs(a.sin_port));
	return 0;
}
