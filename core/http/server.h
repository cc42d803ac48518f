/*
 * server.h: the server a load benchmark starts for itself (its "server"
 * object, docs/load.md "A server of its own").
 *
 * perfgate starts the command in a process group of its own, in the
 * benchmark's folder, with PORT set to the port of the benchmark's URL;
 * waits until that port accepts connections (and, with "ready", until a
 * GET of that path answers 2xx); measures; and stops the whole group
 * (SIGTERM, then SIGKILL after HTTP_SERVER_GRACE seconds).  A server that
 * goes to the background (it exits with status 0 leaving a daemon, perhaps
 * in a session of its own) is followed there: what it started carries
 * PERFGATE_SERVER=<id> in its environment, and perfgate, a child
 * subreaper, finds those processes among its adopted children (and, until
 * the server is ready, any orphan adopted since it started: a daemon that
 * rewrote its environment with its process title), watches them as the
 * server and stops them with it.  A port that
 * something already listens on is refused before anything starts: the load
 * would measure that server, not the benchmark's.  The server's output goes
 * to a temporary file, whose last line names what went wrong when it ends
 * too early.  Benchmarks that declare the same server (definition, folder,
 * host and port) while it runs share it: it stops with the last of them.
 */
#ifndef PERFGATE_HTTP_SERVER_H
#define PERFGATE_HTTP_SERVER_H

#include <stdbool.h>

#include <cjson/cJSON.h>

#include "../err.h"

#define HTTP_SERVER_READY_TIMEOUT 60.0 /* seconds, unless "ready_timeout" says */
#define HTTP_SERVER_GRACE 10.0         /* seconds from SIGTERM to SIGKILL, unless "stop_timeout" says */

struct http_server;

/* The benchmark's "server" object (at `path`, the benchmark's JSON path),
 * one problem per mistake.  `bench` is the whole benchmark: a server needs
 * an "http" URL of plain http:// when it names a "ready" path. */
void http_server_validate(const cJSON *bench, const char *path, struct errlist *problems);

/* Start the server described by srv in dir (its "cwd" resolved against
 * dir), listening on host:port, and wait until it is ready.  ERR_RUN when
 * the port is taken, the server ends or is not ready in time (*out is then
 * NULL and nothing is left running); the message starts with what failed
 * ("its server ..."), for the caller to put after the benchmark's name. */
int http_server_start(struct http_server **out, const cJSON *srv, const char *dir, const char *host,
		      const char *port, struct err *err);
/* Seconds from the start to ready. */
double http_server_ready_after(const struct http_server *s);
/* NULL while the server runs; else a new string saying how it ended
 * ("exited with status 1"). */
char *http_server_ended(struct http_server *s);
/* "its server exited with status 1 <when>; its last line: <line>", a new
 * string (after http_server_ended() found it ended). */
char *http_server_why(const struct http_server *s, const char *when);
/* One benchmark is done with the server: the last stops its process group
 * and reaps it; NULL is a no-op. */
void http_server_stop(struct http_server *s);

/* url with its port replaced by port (a new string; NULL when url is not
 * an http:// or https:// URL). */
char *http_server_url_with_port(const char *url, const char *port);
/* A port free on 127.0.0.1 now, as text into out; ERR_RUN when none can
 * be had.  (Free now: a server started later finds out whether it still
 * is, and http_server_start refuses a port that has been taken.) */
int http_server_free_port(char *out, size_t len, struct err *err);

#endif
