/*
 * cluster.h: the embedded PostgreSQL cluster (DESIGN section 6, issue 2).
 *
 * With no database configured, perfgate keeps a private cluster under
 * $PERFGATE_HOME/pg: the data folder in pg/data, the Unix socket in pg/ (no
 * TCP port), the server log in pg/server.log.  It is initialised (initdb) on
 * first use and started (pg_ctl) on demand, under an flock() on
 * $PERFGATE_HOME/pg.lock, so that twenty processes arriving at once start one
 * server.
 *
 * PostgreSQL refuses to run as root.  As root, initdb and the server run as
 * the `postgres` system user (through runuser) and pg/ belongs to that user.
 * When that user cannot reach $PERFGATE_HOME (the default under /root is not
 * traversable) or the socket path would be too long, the cluster lives in
 * /var/lib/perfgate/clusters/<hash of the home path> and $PERFGATE_HOME/pg is
 * a symbolic link to it.
 *
 * Only db/ uses this module.  Children are started through core/proc.h.
 */
#ifndef PERFGATE_CLUSTER_H
#define PERFGATE_CLUSTER_H

#include <stdbool.h>

#include "../core/err.h"

/* The superuser initdb creates, the database perfgate uses and the port
 * that names the socket file (.s.PGSQL.5432 inside the private folder). */
#define CLUSTER_USER "perfgate"
#define CLUSTER_DBNAME "postgres"
#define CLUSTER_PORT "5432"

struct cluster {
	char *home;      /* $PERFGATE_HOME */
	char *link;      /* $PERFGATE_HOME/pg (a folder, or a link to dir) */
	char *dir;       /* the cluster folder: socket folder, holds data/ and server.log */
	char *data;      /* dir/data */
	char *log;       /* dir/server.log */
	char *lock;      /* $PERFGATE_HOME/pg.lock */
	bool as_postgres; /* we are root: run initdb and the server as `postgres` */
};
#define CLUSTER_INIT { .home = NULL }

/* Work out where the cluster is (or will be) without creating anything. */
int cluster_locate(struct cluster *c, struct err *err);
void cluster_release(struct cluster *c);

/* True when the server answers on the private socket. */
bool cluster_running(const struct cluster *c);
/* True when the data folder has been initialised. */
bool cluster_initialised(const struct cluster *c);

/*
 * Make sure the server runs: initialise and start it when needed, under the
 * lock.  *started (may be NULL) says whether this call started it.  Returns
 * ERR_INFRA when the server binaries are missing or the server would not
 * start (the message ends with the server log's last line).
 */
int cluster_start(struct cluster *c, bool *started, struct err *err);

/* Stop the server (fast shutdown).  *was_running (may be NULL) says whether
 * it ran. */
int cluster_stop(struct cluster *c, bool *was_running, struct err *err);

/*
 * The folder holding initdb, pg_ctl and postgres: $PERFGATE_PG_BINDIR when
 * set (then only there), else `pg_config --bindir`, else the newest
 * /usr/lib/postgresql/N/bin.  `version` (may be NULL) prefers that major
 * version.  ERR_INFRA naming the Debian package `postgresql` when none.
 */
int cluster_bindir(const char *version, char **out, struct err *err);

#endif
