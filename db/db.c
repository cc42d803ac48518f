/*
 * db.c: perfgate's store (DESIGN section 6): where the database is, the
 * connection, the one libpq choke point (db_query), migrations under an
 * advisory lock, storing and loading run documents, and the spool for runs
 * that could not be stored.  See db.h and db_internal.h.
 */
#include "db.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../core/baseline.h"
#include "../core/util.h"
#include "cluster.h"
#include "db_internal.h"
#include "migrations.h"

/* pg_advisory_lock key that serialises migrations ("perfgate" in ASCII). */
#define MIGRATE_LOCK_KEY "8098991490279875941"

/* Seconds a connection attempt may take unless PGCONNECT_TIMEOUT or the
 * URL says otherwise. */
#define CONNECT_TIMEOUT "10"

enum db_source { DB_SRC_OPTION, DB_SRC_ENV_URL, DB_SRC_PGENV, DB_SRC_EMBEDDED };

struct db {
	PGconn *conn;
	char *where;       /* for people; never holds a password */
	char **secrets;    /* passwords to scrub from every message, in every form */
	size_t n_secrets, alloc_secrets;
	bool embedded;
};

/* ---- passwords out of messages ---- */

void db_scrub(char *msg, size_t cap, const char *secret)
{
	struct sb out = SB_INIT;
	size_t sl;
	const char *p, *hit;

	if (!msg || !secret || !*secret || cap == 0)
		return;
	sl = strlen(secret);
	if (!strstr(msg, secret))
		return;
	for (p = msg; (hit = strstr(p, secret)); p = hit + sl) {
		sb_add(&out, p, (size_t)(hit - p));
		sb_puts(&out, "***");
	}
	sb_puts(&out, p);
	snprintf(msg, cap, "%s", sb_str(&out));
	sb_release(&out);
}

/* In a URI (scheme://user:password@host...), the span of the password:
 * from the first ':' after "://" to the last '@' before the query, within
 * one whitespace- or quote-delimited word.  Conservative: when in doubt
 * it covers more. */
static bool uri_password_span(const char *uri, const char **start, const char **end)
{
	const char *stop = uri, *at = NULL, *colon = NULL;

	while (*stop && !isspace((unsigned char)*stop) && *stop != '"' && *stop != '\'' && *stop != '?')
		stop++;
	for (const char *p = uri; p < stop; p++)
		if (*p == '@')
			at = p;
	if (!at)
		return false;
	for (const char *p = uri; p < at; p++)
		if (*p == ':') {
			colon = p;
			break;
		}
	if (!colon)
		return false;
	*start = colon + 1;
	*end = at;
	return true;
}

/* The value of hex digit c, or -1. */
static int hexval(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* s[0..n) with its %XX escapes decoded (a malformed one is kept as it is). */
static char *percent_decode(const char *s, size_t n)
{
	struct sb out = SB_INIT;

	for (size_t i = 0; i < n; i++) {
		if (s[i] == '%' && i + 2 < n && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
			sb_putc(&out, (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2])));
			i += 2;
			continue;
		}
		sb_putc(&out, s[i]);
	}
	return sb_detach(&out);
}

/* Does a key start at p that reads "password" once its %XX escapes are
 * decoded (libpq decodes URI query keys), in any case?  *key_end: after it. */
static bool password_key_at(const char *text, const char *p, const char **key_end)
{
	const char *q = p;
	char *key;
	bool yes;

	/* Only at the start of a word or of a query parameter. */
	if (p > text && !isspace((unsigned char)p[-1]) && p[-1] != '?' && p[-1] != '&' &&
	    p[-1] != '"' && p[-1] != '\'' && p[-1] != '(')
		return false;
	while (*q && *q != '=' && *q != '&' && *q != '?' && !isspace((unsigned char)*q) && q - p < 64)
		q++;
	if (q - p < 8)
		return false;
	key = percent_decode(p, (size_t)(q - p));
	yes = strcasecmp(key, "password") == 0;
	free(key);
	*key_end = q;
	return yes;
}

/* Where the value of a password=VALUE that starts at v ends: a quoted
 * keyword/value string ('...' with \ escapes), or a word that ends at a
 * blank, '&', '#' or a double quote. */
static const char *password_value_end(const char *v)
{
	if (*v == '\'') {
		for (v++; *v && *v != '\''; v++)
			if (*v == '\\' && v[1])
				v++;
		return *v ? v + 1 : v;
	}
	while (*v && !isspace((unsigned char)*v) && *v != '&' && *v != '"' && *v != '#')
		v++;
	return v;
}

/* The next password=VALUE in text at or after p: *val and *val_end span
 * its value (quotes included).  Returns where its key starts, or NULL. */
static const char *next_password_param(const char *text, const char *p, const char **val,
				       const char **val_end)
{
	for (; *p; p++) {
		const char *q;

		if (!password_key_at(text, p, &q))
			continue;
		while (*q == ' ' || *q == '\t')
			q++;
		if (*q != '=')
			continue;
		q++;
		while (*q == ' ' || *q == '\t')
			q++;
		*val = q;
		*val_end = password_value_end(q);
		return p;
	}
	return NULL;
}

/* Copy text, replacing the value of every password=VALUE (keyword/value
 * strings and URI query parameters, the key percent-encoded or not) by ***. */
static char *redact_password_params(const char *text)
{
	struct sb out = SB_INIT;
	const char *p = text, *val, *end;

	while (next_password_param(text, p, &val, &end)) {
		sb_add(&out, p, (size_t)(val - p));
		sb_puts(&out, "***");
		p = end;
	}
	sb_puts(&out, p);
	return sb_detach(&out);
}

char *db_url_redact(const char *url)
{
	struct sb out = SB_INIT;
	const char *p = url, *scheme;
	char *result;

	if (!url)
		return xstrdup("");
	while ((scheme = strstr(p, "://"))) {
		const char *s, *e;
		sb_add(&out, p, (size_t)(scheme + 3 - p));
		p = scheme + 3;
		if (uri_password_span(p, &s, &e)) {
			sb_add(&out, p, (size_t)(s - p));
			sb_puts(&out, "***");
			p = e;
		}
	}
	sb_puts(&out, p);
	result = redact_password_params(sb_str(&out));
	sb_release(&out);
	return result;
}

/* Remember one more secret to scrub (a copy of s[0..n); an empty one is none). */
static void add_secret(struct db *db, const char *s, size_t n)
{
	if (n == 0)
		return;
	XGROW(db->secrets, db->alloc_secrets, db->n_secrets + 1);
	db->secrets[db->n_secrets++] = xstrndup(s, n);
}

/* A password as written and as libpq reads it: its %XX escapes decoded,
 * a quoted keyword/value string unquoted. */
static void add_secret_forms(struct db *db, const char *s, size_t n)
{
	char *decoded = percent_decode(s, n);

	add_secret(db, s, n);
	add_secret(db, decoded, strlen(decoded));
	free(decoded);
	if (n >= 2 && s[0] == '\'') {
		struct sb un = SB_INIT;

		for (size_t i = 1; i + 1 < n; i++) {
			if (s[i] == '\\' && i + 2 < n)
				i++;
			sb_putc(&un, s[i]);
		}
		add_secret(db, sb_str(&un), un.len);
		sb_release(&un);
	}
}

/* Every password written in a database URL or keyword/value string, in
 * every form a message could quote it: the URI's userinfo password (and its
 * pieces between '@'s: libpq ends the userinfo at the first '@', the span
 * here at the last) and every password=VALUE, raw and decoded.  Collected
 * before libpq parses the URL, so that its complaints about a malformed one
 * ("invalid percent-encoded token: ...") are scrubbed too. */
static void collect_secrets(struct db *db, const char *url)
{
	const char *p = url, *scheme, *val, *end;

	while ((scheme = strstr(p, "://"))) {
		const char *s, *e;

		p = scheme + 3;
		if (!uri_password_span(p, &s, &e))
			continue;
		add_secret_forms(db, s, (size_t)(e - s));
		for (const char *piece = s; memchr(s, '@', (size_t)(e - s)) && piece < e;) {
			const char *at = memchr(piece, '@', (size_t)(e - piece));
			const char *stop = at ? at : e;

			add_secret_forms(db, piece, (size_t)(stop - piece));
			piece = stop + 1;
		}
	}
	for (p = url; next_password_param(url, p, &val, &end); p = end > val ? end : val + 1)
		add_secret_forms(db, val, (size_t)(end - val));
}

static void scrub_msg(const struct db *db, char *msg, size_t cap)
{
	char *redacted;

	/* Longest first, so that no piece of a password leaves the rest of it. */
	for (size_t len = ERR_MAX; len > 0; len--)
		for (size_t i = 0; i < db->n_secrets; i++)
			if (strlen(db->secrets[i]) == len)
				db_scrub(msg, cap, db->secrets[i]);
	redacted = db_url_redact(msg);
	snprintf(msg, cap, "%s", redacted);
	free(redacted);
}

/* libpq messages span lines ("...failed: X\n\tIs the server running...");
 * make one line of them. */
static void one_line(char *msg)
{
	char *w = msg;
	bool space = false;

	for (char *r = msg; *r; r++) {
		if (*r == '\n' || *r == '\r' || *r == '\t' || *r == ' ') {
			space = w != msg;
			continue;
		}
		if (space)
			*w++ = ' ';
		space = false;
		*w++ = *r;
	}
	*w = '\0';
}

/* ---- where the database is ---- */

char *db_home(void)
{
	const char *env = getenv("PERFGATE_HOME");
	const char *home = getenv("HOME");

	if (env && *env)
		return xstrdup(env);
	if (!home || !*home) {
		struct passwd *pw = getpwuid(getuid());
		home = pw && pw->pw_dir ? pw->pw_dir : "/tmp";
	}
	return xasprintf("%s/.local/share/perfgate", home);
}

static bool env_set(const char *name)
{
	const char *v = getenv(name);
	return v && *v;
}

static enum db_source resolve(const struct db_options *opts, const char **url)
{
	*url = NULL;
	if (opts && opts->url && *opts->url) {
		*url = opts->url;
		return DB_SRC_OPTION;
	}
	if (env_set("PERFGATE_DATABASE_URL")) {
		*url = getenv("PERFGATE_DATABASE_URL");
		return DB_SRC_ENV_URL;
	}
	if (env_set("PGHOST") || env_set("PGSERVICE"))
		return DB_SRC_PGENV;
	return DB_SRC_EMBEDDED;
}

static char *pgenv_where(void)
{
	if (env_set("PGSERVICE"))
		return xasprintf("libpq service '%s' (PGSERVICE)", getenv("PGSERVICE"));
	return xasprintf("libpq environment (PGHOST=%s)", getenv("PGHOST"));
}

static char *embedded_where(const struct cluster *c)
{
	return xasprintf("embedded cluster in %s", c->dir);
}

int db_describe(const struct db_options *opts, char **where, bool *embedded, struct err *err)
{
	const char *url;
	enum db_source src = resolve(opts, &url);
	struct cluster c = CLUSTER_INIT;
	int rc = 0;

	*where = NULL;
	*embedded = src == DB_SRC_EMBEDDED;
	switch (src) {
	case DB_SRC_OPTION:
	case DB_SRC_ENV_URL:
		*where = db_url_redact(url);
		break;
	case DB_SRC_PGENV:
		*where = pgenv_where();
		break;
	case DB_SRC_EMBEDDED:
		if ((rc = cluster_locate(&c, err)) == 0)
			*where = embedded_where(&c);
		cluster_release(&c);
		break;
	}
	return rc;
}

const char *db_where(const struct db *db)
{
	return db->where;
}

bool db_is_embedded(const struct db *db)
{
	return db->embedded;
}

/* ---- connecting ---- */

static void quiet_notices(void *arg, const char *message)
{
	/* db/ never prints: NOTICEs such as "relation already exists, skipping". */
	(void)arg;
	(void)message;
}

/* A value of a connection keyword that libpq would refuse only when
 * connecting (reported then as a connection failure, exit 4): the URL is
 * the user's input, exit 2, said before anything runs. */
static int check_conninfo(const PQconninfoOption *info, const char *where, struct err *err)
{
	static const char *const sslmodes[] = { "disable", "allow", "prefer", "require", "verify-ca",
						"verify-full" };
	static const char *const gssencmodes[] = { "disable", "prefer", "require" };

	for (const PQconninfoOption *o = info; o->keyword; o++) {
		const char *v = o->val;

		if (!v || !*v)
			continue;
		if (strcmp(o->keyword, "sslmode") == 0 && str_index(v, sslmodes, ARRAY_SIZE(sslmodes)) < 0)
			return err_set(err, ERR_INPUT,
				       "invalid database URL '%s': sslmode '%s' is not one of disable, allow, prefer, "
				       "require, verify-ca, verify-full", where, v);
		if (strcmp(o->keyword, "gssencmode") == 0 &&
		    str_index(v, gssencmodes, ARRAY_SIZE(gssencmodes)) < 0)
			return err_set(err, ERR_INPUT,
				       "invalid database URL '%s': gssencmode '%s' is not one of disable, prefer, require",
				       where, v);
		if (strcmp(o->keyword, "port") == 0) {
			/* one port, or one per host: "5432,5433" */
			for (const char *p = v; *p;) {
				size_t len = strcspn(p, ",");
				char *end;
				long port = strtol(p, &end, 10);

				if (len > 0 && (end != p + len || len > 5 || port < 1 || port > 65535))
					return err_set(err, ERR_INPUT,
						       "invalid database URL '%s': port '%.*s' is not a number from 1 to 65535",
						       where, (int)(len > 16 ? 16 : len), p);
				p += len + (p[len] == ',');
			}
		}
		if (strcmp(o->keyword, "connect_timeout") == 0 && strspn(v, "0123456789") != strlen(v))
			return err_set(err, ERR_INPUT,
				       "invalid database URL '%s': connect_timeout '%s' is not a whole number of seconds",
				       where, v);
	}
	return 0;
}

/* Parse url (its passwords kept to scrub from messages) and check its values. */
static int parse_url(struct db *db, const char *url, struct err *err)
{
	char *errmsg = NULL;
	PQconninfoOption *info;
	int rc;

	collect_secrets(db, url);
	if (!(info = PQconninfoParse(url, &errmsg))) {
		char msg[ERR_MAX];
		snprintf(msg, sizeof(msg), "%s", errmsg ? errmsg : "cannot parse");
		PQfreemem(errmsg);
		one_line(msg);
		scrub_msg(db, msg, sizeof(msg));
		return err_set(err, ERR_INPUT, "invalid database URL '%s': %s", db->where, msg);
	}
	for (PQconninfoOption *o = info; o->keyword; o++)
		if (strcmp(o->keyword, "password") == 0 && o->val)
			add_secret(db, o->val, strlen(o->val));
	rc = check_conninfo(info, db->where, err);
	PQconninfoFree(info);
	return rc;
}

static int connect_external(struct db *db, const char *url, struct err *err)
{
	const char *keys[5], *vals[5];
	size_t n = 0;
	int rc;

	if (url && (rc = parse_url(db, url, err)) != 0)
		return rc;
	if (env_set("PGPASSWORD"))
		add_secret(db, getenv("PGPASSWORD"), strlen(getenv("PGPASSWORD")));
	/* Earlier keywords are overridden by what the URL itself says. */
	if (!env_set("PGCONNECT_TIMEOUT")) {
		keys[n] = "connect_timeout";
		vals[n++] = CONNECT_TIMEOUT;
	}
	keys[n] = "fallback_application_name";
	vals[n++] = "perfgate";
	if (url) {
		keys[n] = "dbname";
		vals[n++] = url;
	}
	keys[n] = NULL;
	vals[n] = NULL;
	db->conn = PQconnectdbParams(keys, vals, 1);
	return 0;
}

static int connect_embedded(struct db *db, const struct db_options *opts, struct err *err)
{
	struct cluster c = CLUSTER_INIT;
	int rc;

	if ((rc = cluster_locate(&c, err)))
		goto done;
	db->where = embedded_where(&c);
	if (opts && opts->no_start) {
		if (!cluster_running(&c)) {
			rc = err_set(err, ERR_INFRA,
				     "the embedded database in %s is not running; start it with "
				     "'perfgate db start'", c.dir);
			goto done;
		}
	} else if ((rc = cluster_start(&c, NULL, err))) {
		goto done;
	}
	{
		const char *const keys[] = { "host", "port", "user", "dbname", "connect_timeout",
					     "sslmode", "gssencmode", "fallback_application_name",
					     NULL };
		const char *const vals[] = { c.dir, CLUSTER_PORT, CLUSTER_USER, CLUSTER_DBNAME,
					     CONNECT_TIMEOUT, "disable", "disable", "perfgate", NULL };
		db->conn = PQconnectdbParams(keys, vals, 0);
	}
	/* db_open() built db->where before the folder may have moved (root). */
	free(db->where);
	db->where = embedded_where(&c);
done:
	cluster_release(&c);
	return rc;
}

int db_open(struct db **out, const struct db_options *opts, struct err *err)
{
	struct db *db = xcalloc(1, sizeof(*db));
	const char *url;
	enum db_source src = resolve(opts, &url);
	int rc = 0;

	*out = NULL;
	db->embedded = src == DB_SRC_EMBEDDED;
	if (src == DB_SRC_EMBEDDED) {
		rc = connect_embedded(db, opts, err);
	} else {
		db->where = src == DB_SRC_PGENV ? pgenv_where() : db_url_redact(url);
		rc = connect_external(db, url, err);
	}
	if (rc)
		goto done;
	xcheck(db->conn); /* libpq could not allocate: out of memory, as for xmalloc */
	if (PQstatus(db->conn) != CONNECTION_OK) {
		char msg[ERR_MAX];
		snprintf(msg, sizeof(msg), "%s", PQerrorMessage(db->conn));
		one_line(msg);
		scrub_msg(db, msg, sizeof(msg));
		rc = err_set(err, ERR_INFRA, "cannot connect to the database at %s: %s", db->where, msg);
		goto done;
	}
	PQsetNoticeProcessor(db->conn, quiet_notices, NULL);
	if (!(opts && opts->no_migrate))
		rc = db_migrate(db, NULL, err);
done:
	if (rc) {
		db_free(db);
		return rc;
	}
	*out = db;
	return 0;
}

int db_url_check(const struct db_options *opts, struct err *err)
{
	struct db *db = xcalloc(1, sizeof(*db));
	const char *url;
	enum db_source src = resolve(opts, &url);
	int rc = 0;

	if (src == DB_SRC_OPTION || src == DB_SRC_ENV_URL) {
		db->where = db_url_redact(url);
		rc = parse_url(db, url, err);
	}
	db_free(db);
	return rc;
}

void db_free(struct db *db)
{
	if (!db)
		return;
	if (db->conn)
		PQfinish(db->conn);
	free(db->where);
	for (size_t i = 0; i < db->n_secrets; i++)
		free(db->secrets[i]);
	free(db->secrets);
	free(db);
}

/* ---- the choke point ---- */

/* The statement's first words, for error messages. */
static void statement_head(const char *sql, char *buf, size_t len)
{
	size_t w = 0;
	bool space = false;

	for (const char *p = sql; *p && w + 4 < len && w < 48; p++) {
		if (isspace((unsigned char)*p)) {
			space = w > 0;
			continue;
		}
		if (space)
			buf[w++] = ' ';
		space = false;
		buf[w++] = *p;
	}
	buf[w] = '\0';
	if (strlen(sql) > w && w + 4 < len)
		memcpy(buf + w, "...", 4);
}

static int result_error(struct db *db, PGresult *res, const char *sql, struct err *err)
{
	const char *state = res ? PQresultErrorField(res, PG_DIAG_SQLSTATE) : NULL;
	const char *primary = res ? PQresultErrorField(res, PG_DIAG_MESSAGE_PRIMARY) : NULL;
	char msg[ERR_MAX], head[64];
	int code = ERR_FAIL;

	snprintf(msg, sizeof(msg), "%s",
		 primary ? primary : res ? PQresultErrorMessage(res) : PQerrorMessage(db->conn));
	one_line(msg);
	scrub_msg(db, msg, sizeof(msg));
	statement_head(sql, head, sizeof(head));
	if (PQstatus(db->conn) == CONNECTION_BAD || (state && (strncmp(state, "08", 2) == 0 ||
							       strncmp(state, "57P", 3) == 0 ||
							       strncmp(state, "53", 2) == 0))) {
		return err_set(err, ERR_INFRA, "lost the database at %s: %s", db->where,
			       msg[0] ? msg : "connection closed");
	}
	/* A role that may not do this (docs/ci.md's read-only role storing a
	 * run): a setting to change, not an outage. */
	if (state && strcmp(state, "42501") == 0)
		return err_set(err, ERR_FAIL, "the database role may only read here (%s, SQLSTATE 42501, in '%s'): "
			       "store runs with a writer role (docs/ci.md), or pass --no-store where runs are only "
			       "compared", msg, head);
	if (state && (strncmp(state, "22", 2) == 0 || strncmp(state, "23", 2) == 0))
		code = ERR_INPUT;
	return err_set(err, code, "database error: %s (SQLSTATE %s, in '%s')", msg,
		       state ? state : "unknown", head);
}

int db_query(struct db *db, const char *sql, int nparams, const char *const *params,
	     PGresult **res, struct err *err)
{
	PGresult *r;
	ExecStatusType st;

	if (res)
		*res = NULL;
	r = PQexecParams(db->conn, sql, nparams, NULL, params, NULL, NULL, 0);
	st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK) {
		int rc = result_error(db, r, sql, err);
		PQclear(r);
		return rc;
	}
	if (res)
		*res = r;
	else
		PQclear(r);
	return 0;
}

/* A script of several statements (migrations): PQexec, no parameters. */
static int db_exec_script(struct db *db, const char *sql, struct err *err)
{
	PGresult *r = PQexec(db->conn, sql);
	ExecStatusType st = r ? PQresultStatus(r) : PGRES_FATAL_ERROR;
	int rc = 0;

	if (st != PGRES_COMMAND_OK && st != PGRES_TUPLES_OK)
		rc = result_error(db, r, sql, err);
	PQclear(r);
	return rc;
}

int db_begin(struct db *db, struct err *err)
{
	return db_query(db, "BEGIN", 0, NULL, NULL, err);
}

int db_commit(struct db *db, struct err *err)
{
	return db_query(db, "COMMIT", 0, NULL, NULL, err);
}

void db_rollback(struct db *db)
{
	PQclear(PQexec(db->conn, "ROLLBACK"));
}

/* ---- migrations ---- */

static int applied_versions(struct db *db, bool *have, int max, bool *table, struct err *err)
{
	PGresult *r = NULL;
	int rc;

	*table = false;
	if ((rc = db_query(db, "SELECT to_regclass('schema_migrations') IS NOT NULL", 0, NULL, &r,
			   err)))
		return rc;
	*table = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
	PQclear(r);
	if (!*table)
		return 0;
	if ((rc = db_query(db, "SELECT version FROM schema_migrations", 0, NULL, &r, err)))
		return rc;
	for (int i = 0; i < PQntuples(r); i++) {
		long v = strtol(PQgetvalue(r, i, 0), NULL, 10);
		if (v >= 0 && v <= max)
			have[v] = true;
	}
	PQclear(r);
	return 0;
}

static int migrations_max(void)
{
	int max = 0;
	for (unsigned i = 0; i < migrations_count; i++)
		if (migrations[i].version > max)
			max = migrations[i].version;
	return max;
}

static bool all_applied(const bool *have)
{
	for (unsigned i = 0; i < migrations_count; i++)
		if (!have[migrations[i].version])
			return false;
	return true;
}

int db_migrate(struct db *db, int *applied, struct err *err)
{
	int max = migrations_max();
	bool *have = xcalloc((size_t)max + 1, sizeof(*have));
	bool table = false, locked = false;
	int rc, count = 0;

	if (applied)
		*applied = 0;
	/* The common case, a migrated database, needs no lock. */
	if ((rc = applied_versions(db, have, max, &table, err)) || (table && all_applied(have)))
		goto done;
	if ((rc = db_query(db, "SELECT pg_advisory_lock(" MIGRATE_LOCK_KEY ")", 0, NULL, NULL, err)))
		goto done;
	locked = true;
	if ((rc = db_query(db,
			   "CREATE TABLE IF NOT EXISTS schema_migrations ("
			   " version integer PRIMARY KEY,"
			   " name text NOT NULL,"
			   " applied_at timestamptz NOT NULL DEFAULT now())",
			   0, NULL, NULL, err)))
		goto done;
	/* Another process may have migrated while we waited for the lock. */
	memset(have, 0, ((size_t)max + 1) * sizeof(*have));
	if ((rc = applied_versions(db, have, max, &table, err)))
		goto done;
	for (unsigned i = 0; i < migrations_count; i++) {
		const struct migration *m = &migrations[i];
		char version[16];
		const char *params[2] = { version, m->name };

		if (have[m->version])
			continue;
		snprintf(version, sizeof(version), "%d", m->version);
		if ((rc = db_begin(db, err)))
			goto done;
		if ((rc = db_exec_script(db, m->sql, err)) ||
		    (rc = db_query(db, "INSERT INTO schema_migrations (version, name) VALUES ($1, $2)",
				   2, params, NULL, err)) ||
		    (rc = db_commit(db, err))) {
			db_rollback(db);
			err_prefix(err, "migration %s", m->name);
			goto done;
		}
		count++;
	}
done:
	if (locked)
		PQclear(PQexec(db->conn, "SELECT pg_advisory_unlock(" MIGRATE_LOCK_KEY ")"));
	if (applied)
		*applied = count;
	free(have);
	return rc;
}

/* ---- status ---- */

int db_status_get(struct db *db, struct db_status *st, struct err *err)
{
	PGresult *r = NULL;
	const char *ver = PQparameterStatus(db->conn, "server_version");
	int rc;

	*st = (struct db_status)DB_STATUS_INIT;
	st->where = xstrdup(db->where);
	st->server_version = xstrdup(ver ? ver : "unknown");
	st->schema_latest = migrations_max();
	if ((rc = db_query(db,
			   "SELECT to_regclass('schema_migrations') IS NOT NULL,"
			   " to_regclass('runs') IS NOT NULL",
			   0, NULL, &r, err)))
		return rc;
	{
		bool have_migrations = strcmp(PQgetvalue(r, 0, 0), "t") == 0;
		bool have_runs = strcmp(PQgetvalue(r, 0, 1), "t") == 0;

		PQclear(r);
		r = NULL;
		if (have_migrations) {
			if ((rc = db_query(db, "SELECT coalesce(max(version), 0) FROM schema_migrations",
					   0, NULL, &r, err)))
				return rc;
			st->schema_version = (int)strtol(PQgetvalue(r, 0, 0), NULL, 10);
			PQclear(r);
			r = NULL;
		}
		if (have_runs) {
			if ((rc = db_query(db, "SELECT count(*) FROM runs", 0, NULL, &r, err)))
				return rc;
			st->runs = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
		}
	}
	PQclear(r);
	return 0;
}

void db_status_release(struct db_status *st)
{
	free(st->where);
	free(st->server_version);
	*st = (struct db_status)DB_STATUS_INIT;
}

/* ---- run documents ---- */

static char *json_text(const cJSON *j)
{
	char *s;

	if (!j)
		return NULL;
	s = xcheck(cJSON_PrintUnformatted(j));
	return s;
}

/* A PostgreSQL array literal of strings: {"a","b"}. */
static char *text_array(char *const *items, size_t n)
{
	struct sb sb = SB_INIT;

	sb_putc(&sb, '{');
	for (size_t i = 0; i < n; i++) {
		if (i)
			sb_putc(&sb, ',');
		sb_putc(&sb, '"');
		for (const char *p = items[i]; *p; p++) {
			if (*p == '"' || *p == '\\')
				sb_putc(&sb, '\\');
			sb_putc(&sb, *p);
		}
		sb_putc(&sb, '"');
	}
	sb_putc(&sb, '}');
	return sb_detach(&sb);
}

static int insert_machine(struct db *db, const struct rundoc *rd, struct err *err)
{
	char *facts = rd->machine ? json_text(rd->machine) : xstrdup("{}");
	const char *params[2] = { rd->fingerprint, facts };
	int rc;

	rc = db_query(db,
		      "INSERT INTO machines (fingerprint, facts) VALUES ($1, $2)"
		      " ON CONFLICT (fingerprint) DO NOTHING",
		      2, params, NULL, err);
	free(facts);
	return rc;
}

static int insert_run(struct db *db, const struct rundoc *rd, bool *inserted, struct err *err)
{
	char pr[32];
	char *parents = text_array(rd->git.parents, rd->git.n_parents);
	char *tags = rd->tags ? json_text(rd->tags) : xstrdup("{}");
	char *document = rundoc_to_string(rd);
	const char *why = NULL;
	bool eligible = baseline_eligible(rd, (double)time(NULL), &why);
	const char *params[25] = {
		rd->run_id,
		rd->project,
		rd->suite,
		rd->git.commit,
		rd->git.branch,
		rd->git.dirty ? "true" : "false",
		rd->git.shallow ? "true" : "false",
		rd->git.commit_time,
		rd->git.subject,
		parents,
		rd->git.remote,
		rd->ci.provider ? rd->ci.provider : "local",
		rd->ci.event,
		rd->ci.job_url,
		NULL,
		rd->ci.base_branch,
		rd->ci.fork ? "true" : "false",
		rd->fingerprint,
		rd->started_at,
		rd->finished_at,
		rd->partial ? "true" : "false",
		tags,
		document,
		eligible ? "true" : "false",
		why,
	};
	PGresult *r = NULL;
	int rc;

	if (rd->ci.pr > 0) {
		snprintf(pr, sizeof(pr), "%ld", rd->ci.pr);
		params[14] = pr;
	}
	rc = db_query(db,
		      "INSERT INTO runs (run_id, project, suite, commit_sha, branch, dirty, shallow,"
		      " commit_time, subject, parents, remote, ci_provider, ci_event, ci_job_url, pr,"
		      " base_branch, fork, fingerprint, started_at, finished_at, partial, tags,"
		      " document, baseline_eligible, not_baseline)"
		      " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15,"
		      " $16, $17, $18, $19, $20, $21, $22, $23, $24, $25)"
		      " ON CONFLICT (run_id) DO NOTHING RETURNING run_id",
		      25, params, &r, err);
	if (rc == 0)
		*inserted = PQntuples(r) == 1;
	PQclear(r);
	free(parents);
	free(tags);
	free(document);
	return rc;
}

static void add_num_or_null(cJSON *o, const char *key, double v, bool have)
{
	if (have && isfinite(v))
		cJSON_AddNumberToObject(o, key, v);
	else
		cJSON_AddNullToObject(o, key);
}

/*
 * All results rows of the given runs in one statement: one round trip and
 * one firing of the statement-level triggers on results, however many runs,
 * benchmarks and metrics there are.  The rows travel as one jsonb parameter.
 */
static int insert_results(struct db *db, const struct rundoc *const *docs, size_t n_docs, struct err *err)
{
	cJSON *rows = cJSON_CreateArray();
	char *text = NULL;
	const char *params[1];
	size_t count = 0;
	int rc = 0;

	for (size_t d = 0; d < n_docs; d++) {
		const struct rundoc *rd = docs[d];

		for (size_t i = 0; i < rd->n_benches; i++) {
			const struct rd_bench *b = &rd->benches[i];
			for (size_t j = 0; j < b->n_metrics; j++) {
				const struct rd_metric *m = &b->metrics[j];
				const struct rd_summary *s = &m->summary;
				cJSON *o = cJSON_CreateObject();
				cJSON *samples = cJSON_CreateArray();

				cJSON_AddStringToObject(o, "run_id", rd->run_id);
				cJSON_AddStringToObject(o, "benchmark", b->name);
				cJSON_AddStringToObject(o, "kind", rundoc_bench_kind(b));
				if (b->config_hash)
					cJSON_AddStringToObject(o, "config_hash", b->config_hash);
				cJSON_AddItemToObject(o, "params", b->params ? cJSON_Duplicate(b->params, 1)
									  : cJSON_CreateObject());
				cJSON_AddStringToObject(o, "status", rundoc_status_name(b->status));
				cJSON_AddStringToObject(o, "metric", m->name);
				cJSON_AddStringToObject(o, "unit", m->unit);
				cJSON_AddStringToObject(o, "direction", rundoc_direction_name(m->direction));
				cJSON_AddNumberToObject(o, "n", (double)s->n);
				add_num_or_null(o, "min", s->min, s->n > 0);
				add_num_or_null(o, "median", s->median, s->n > 0);
				add_num_or_null(o, "mean", s->mean, s->n > 0);
				add_num_or_null(o, "max", s->max, s->n > 0);
				add_num_or_null(o, "stddev", s->stddev, s->n > 0);
				add_num_or_null(o, "ci_low", s->ci_low, s->n > 0);
				add_num_or_null(o, "ci_high", s->ci_high, s->n > 0);
				for (size_t k = 0; k < m->n_samples; k++)
					cJSON_AddItemToArray(samples, cJSON_CreateNumber(m->samples[k]));
				cJSON_AddItemToObject(o, "samples", samples);
				if (m->extra)
					cJSON_AddItemToObject(o, "extra", cJSON_Duplicate(m->extra, 1));
				cJSON_AddItemToArray(rows, o);
				count++;
			}
		}
	}
	if (count == 0)
		goto done;
	text = json_text(rows);
	params[0] = text;
	rc = db_query(db,
		      "INSERT INTO results (run_id, benchmark, kind, config_hash, params, status,"
		      " metric, unit, direction, n, min, median, mean, max, stddev, ci_low, ci_high,"
		      " samples, extra)"
		      " SELECT r.run_id, r.benchmark, r.kind, r.config_hash,"
		      " coalesce(r.params, '{}'), r.status, r.metric, r.unit, r.direction, r.n,"
		      " r.min, r.median, r.mean, r.max, r.stddev, r.ci_low, r.ci_high, r.samples,"
		      " r.extra"
		      " FROM jsonb_to_recordset($1::jsonb) AS r(run_id uuid, benchmark text, kind text,"
		      " config_hash text, params jsonb, status text, metric text, unit text,"
		      " direction text, n integer, min double precision, median double precision,"
		      " mean double precision, max double precision, stddev double precision,"
		      " ci_low double precision, ci_high double precision,"
		      " samples double precision[], extra jsonb)",
		      1, params, NULL, err);
done:
	free(text);
	cJSON_Delete(rows);
	return rc;
}

int db_run_insert(struct db *db, const struct rundoc *rd, bool *already, struct err *err)
{
	bool dup = false;
	int rc = db_runs_insert(db, &rd, 1, &dup, err);

	if (already)
		*already = dup;
	return rc;
}

/* Has an earlier document of this batch the same machine (inserted already)? */
static bool machine_seen(const struct rundoc *const *docs, size_t i)
{
	for (size_t k = 0; k < i; k++)
		if (docs[k]->fingerprint && strcmp(docs[k]->fingerprint, docs[i]->fingerprint) == 0)
			return true;
	return false;
}

int db_runs_insert(struct db *db, const struct rundoc *const *docs, size_t n, bool *already, struct err *err)
{
	const struct rundoc **fresh = xcalloc(n + 1, sizeof(*fresh));
	size_t n_fresh = 0, i = 0;
	int rc;

	if ((rc = db_begin(db, err)))
		goto done;
	for (i = 0; i < n; i++) {
		bool inserted = false;

		if (docs[i]->fingerprint && !machine_seen(docs, i) && (rc = insert_machine(db, docs[i], err)))
			goto fail;
		if ((rc = insert_run(db, docs[i], &inserted, err)))
			goto fail;
		/* Stored before: left as it is. */
		already[i] = !inserted;
		if (inserted)
			fresh[n_fresh++] = docs[i];
	}
	if ((rc = insert_results(db, fresh, n_fresh, err)) || (rc = db_commit(db, err)))
		goto fail;
	goto done;
fail:
	db_rollback(db);
	if (i < n || n == 1)
		err_prefix(err, "cannot store run %s", docs[i < n ? i : 0]->run_id);
	else
		err_prefix(err, "cannot store %zu runs", n);
done:
	free(fresh);
	return rc;
}

int db_run_resolve(struct db *db, const char *spec, char **full, struct err *err)
{
	/* The ids that start with the prefix are one range of the primary
	 * key: [prefix000..., prefixfff...], an index range scan. */
	static const char sql[] =
		"SELECT run_id::text FROM runs WHERE run_id BETWEEN $1::uuid AND $2::uuid ORDER BY run_id LIMIT 4";
	char hex[33], lo[33], hi[33];
	const char *params[2] = { lo, hi };
	PGresult *r = NULL;
	size_t n;
	int rc, rows;

	*full = NULL;
	if (!rundoc_id_prefix(spec, hex))
		return err_set(err, ERR_INPUT, "'%s' is not a run id: expected a run id or a unique prefix of one "
			       "(at least %d hex digits, such as the 8 that 'perfgate gate' prints)", spec,
			       RUNDOC_ID_PREFIX_MIN);
	n = strlen(hex);
	if (n == 32 && strlen(spec) == 36) {
		/* A whole id as stored ones read: no statement needed to know it
		 * (whoever loads it finds out whether it is there). */
		*full = xstrdup(spec);
		for (char *c = *full; *c; c++)
			*c = (char)tolower((unsigned char)*c);
		return 0;
	}
	memcpy(lo, hex, n);
	memcpy(hi, hex, n);
	memset(lo + n, '0', 32 - n);
	memset(hi + n, 'f', 32 - n);
	lo[32] = hi[32] = '\0';
	if ((rc = db_query(db, sql, 2, params, &r, err)) != 0)
		return rc;
	rows = PQntuples(r);
	if (rows == 1) {
		*full = xstrdup(PQgetvalue(r, 0, 0));
	} else if (rows == 0) {
		rc = err_set(err, ERR_NOTFOUND, "no run '%s' in the database at %s", spec, db->where);
	} else {
		struct sb some = SB_INIT;

		for (int i = 0; i < rows && i < 3; i++)
			sb_printf(&some, "%s%s", i ? ", " : "", PQgetvalue(r, i, 0));
		rc = err_set(err, ERR_INPUT, "run id prefix '%s' is ambiguous: %s%s start with it; give more digits",
			     spec, some.buf, rows > 3 ? " and more" : "");
		sb_release(&some);
	}
	PQclear(r);
	return rc;
}

int db_run_load(struct db *db, const char *run_id, struct rundoc **out, struct err *err)
{
	const char *params[1] = { NULL };
	PGresult *r = NULL;
	char *full = NULL;
	int rc;

	*out = NULL;
	if ((rc = db_run_resolve(db, run_id, &full, err)) != 0)
		return rc;
	params[0] = full;
	if ((rc = db_query(db, "SELECT document::text FROM runs WHERE run_id = $1::uuid", 1, params, &r, err)) != 0)
		goto done;
	if (PQntuples(r) == 0) {
		rc = err_set(err, ERR_NOTFOUND, "no run '%s' in the database at %s", full, db->where);
		goto done;
	}
	rc = rundoc_parse(out, PQgetvalue(r, 0, 0), err);
	if (rc)
		err_prefix(err, "stored run %s", full);
done:
	PQclear(r);
	free(full);
	return rc;
}

/* ---- the spool ---- */

char *db_spool_dir(void)
{
	char *home = db_home();
	char *dir = xasprintf("%s/spool", home);

	free(home);
	return dir;
}

/* ---- the spool's signatures ---- */

#define SPOOL_SIG_TAG "perfgate-spool-v1"

static char *spool_key_path(void)
{
	char *home = db_home();
	char *path = xasprintf("%s/spool.key", home);

	free(home);
	return path;
}

/* Read the key at path: a plain file of ours that nobody else may read or
 * change, 64 hex digits.  Returns 0, ERR_NOTFOUND when there is none. */
static int spool_key_read(const char *path, char key[65], struct err *err)
{
	int fd = open(path, O_RDONLY | O_NOFOLLOW | O_CLOEXEC);
	struct stat st;
	ssize_t n;
	int rc = 0;

	if (fd < 0)
		return errno == ENOENT ? err_set(err, ERR_NOTFOUND, "no spool key '%s'", path)
				       : err_sys(err, ERR_FAIL, "cannot open the spool key '%s'", path);
	if (fstat(fd, &st) != 0)
		rc = err_sys(err, ERR_FAIL, "cannot read the spool key '%s'", path);
	else if (!S_ISREG(st.st_mode) || st.st_uid != geteuid() || (st.st_mode & 077))
		rc = err_set(err, ERR_FAIL, "the spool key '%s' is not a private file of this user (mode 0600)", path);
	else if ((n = read(fd, key, 64)) != 64)
		rc = err_set(err, ERR_FAIL, "the spool key '%s' is damaged", path);
	close(fd);
	if (rc)
		return rc;
	key[64] = '\0';
	for (int i = 0; i < 64; i++)
		if (hexval(key[i]) < 0)
			return err_set(err, ERR_FAIL, "the spool key '%s' is damaged", path);
	return 0;
}

/* The key, created (256 random bits, 0600) on first use.  Two processes
 * creating it at once agree: the key is written to a private temporary
 * file and linked into place, and the loser reads the winner's. */
static int spool_key(char key[65], bool create, struct err *err)
{
	char *path = spool_key_path(), *home = db_home(), *tmp = NULL;
	unsigned char raw[32];
	int rc = spool_key_read(path, key, err), fd = -1;

	if (rc != ERR_NOTFOUND || !create)
		goto done;
	if ((rc = mkdir_p(home, err)))
		goto done;
	if (getrandom(raw, sizeof(raw), 0) != (ssize_t)sizeof(raw)) {
		rc = err_sys(err, ERR_FAIL, "cannot make a spool key");
		goto done;
	}
	for (int i = 0; i < 32; i++)
		snprintf(key + 2 * i, 3, "%02x", raw[i]);
	tmp = xasprintf("%s.tmp.XXXXXX", path);
	if ((fd = mkostemp(tmp, O_CLOEXEC)) < 0) {
		rc = err_sys(err, ERR_FAIL, "cannot create the spool key beside '%s'", path);
		goto done;
	}
	if (write(fd, key, 64) != 64 || fsync(fd) != 0) {
		rc = err_sys(err, ERR_FAIL, "cannot write the spool key '%s'", tmp);
	} else if (link(tmp, path) != 0 && errno != EEXIST) {
		rc = err_sys(err, ERR_FAIL, "cannot create the spool key '%s'", path);
	} else {
		rc = spool_key_read(path, key, err);
	}
	close(fd);
	unlink(tmp);
done:
	free(tmp);
	free(home);
	free(path);
	return rc;
}

/* The signature line of a spool file's text: the tag, whether perfgate
 * trusted the run's context, and the HMAC of both and the text. */
static char *spool_sig(const char *key, bool trusted, const char *text, size_t len)
{
	const char *flag = trusted ? "trusted" : "document";
	struct sb msg = SB_INIT;
	char mac[65];

	sb_printf(&msg, SPOOL_SIG_TAG " %s\n", flag);
	sb_add(&msg, text, len);
	hmac_sha256_hex(key, 64, msg.buf, msg.len, mac);
	sb_release(&msg);
	return xasprintf(SPOOL_SIG_TAG " %s %s\n", flag, mac);
}

int db_spool_write(const struct rundoc *rd, char **path, struct err *err)
{
	char *dir = db_spool_dir();
	char *file = xasprintf("%s/%s.json", dir, rd->run_id);
	char *sigfile = xasprintf("%s.sig", file);
	char *text = NULL, *sig = NULL;
	char key[65];
	struct err kerr = ERR_INIT;
	int rc;

	if (path)
		*path = NULL;
	if ((rc = mkdir_p(dir, err)))
		goto done;
	text = rundoc_to_string(rd);
	/* The signature first: a spool file is never seen signed by an older
	 * signature.  Without a key the run is still kept, unsigned (push
	 * --spooled then stores it as a pushed document). */
	if (spool_key(key, true, &kerr) == 0) {
		sig = spool_sig(key, rd->context_trusted, text, strlen(text));
		if (file_write_atomic(sigfile, sig, strlen(sig), &kerr) != 0)
			unlink(sigfile);
	}
	if ((rc = file_write_atomic(file, text, strlen(text), err)))
		goto done;
	if (path) {
		*path = file;
		file = NULL;
	}
done:
	free(sig);
	free(text);
	free(sigfile);
	free(file);
	free(dir);
	return rc;
}

int db_spool_load(const char *path, struct rundoc **out, char **untrusted, struct err *err)
{
	char *text = NULL, *sigfile = xasprintf("%s.sig", path), *sig = NULL, *want = NULL;
	char key[65];
	size_t len = 0;
	struct err kerr = ERR_INIT;
	int rc;

	*out = NULL;
	*untrusted = NULL;
	if ((rc = file_read(path, &text, &len, err)))
		goto done;
	if ((rc = rundoc_parse_text(out, text, len, err))) {
		err_prefix(err, "%s", path);
		goto done;
	}
	if (file_read(sigfile, &sig, NULL, &kerr) != 0) {
		*untrusted = xasprintf("it is not signed (no '%s'): not written by perfgate with this home's "
				       "spool key", sigfile);
		goto done;
	}
	if (spool_key(key, false, &kerr) != 0) {
		*untrusted = xasprintf("its signature cannot be checked: %s", kerr.msg);
		goto done;
	}
	for (int t = 0; t < 2; t++) {
		free(want);
		want = spool_sig(key, t == 0, text, len);
		if (strcmp(sig, want) == 0) {
			(*out)->context_trusted = t == 0;
			goto done;
		}
	}
	*untrusted = xasprintf("its signature does not match (changed since perfgate spooled it, or "
			       "signed with another home's spool key)");
done:
	free(want);
	free(sig);
	free(sigfile);
	free(text);
	return rc;
}

int db_spool_remove(const char *path)
{
	char *sigfile = xasprintf("%s.sig", path);
	int rc = unlink(path), saved = errno;

	unlink(sigfile);
	free(sigfile);
	errno = saved;
	return rc;
}

int db_spool_fallback(const struct rundoc *rd, char **where, struct err *err)
{
	const char *tmpdir = getenv("TMPDIR");
	const char *dirs[] = { tmpdir && *tmpdir ? tmpdir : "/tmp", "." };
	char *text = rundoc_to_string(rd);
	struct err e = ERR_INIT;
	struct sb why = SB_INIT;
	int rc = ERR_FAIL;

	*where = NULL;
	for (size_t i = 0; i < ARRAY_SIZE(dirs) && rc; i++) {
		char *file = xasprintf("%s/perfgate-run-%s.json", dirs[i], rd->run_id);

		/* file_write_atomic never follows a symlink planted in a shared /tmp. */
		if ((rc = file_write_atomic(file, text, strlen(text), &e)) == 0) {
			*where = file;
			break;
		}
		sb_printf(&why, "%s%s", why.len ? "; " : "", e.msg);
		free(file);
	}
	if (rc)
		err_set(err, ERR_FAIL, "%s", sb_str(&why));
	sb_release(&why);
	free(text);
	return rc;
}

int db_quarantine(const struct rundoc *rd, const char *from, char **path, struct err *err)
{
	char *spool = db_spool_dir();
	char *dir = xasprintf("%s/quarantine", spool);
	char *file = NULL, *text = NULL;
	int rc;

	*path = NULL;
	if ((rc = mkdir_p(dir, err)))
		goto done;
	if (from) {
		const char *base = strrchr(from, '/');
		file = xasprintf("%s/%s", dir, base ? base + 1 : from);
		if (rename(from, file) != 0) {
			rc = err_sys(err, ERR_FAIL, "cannot move '%s' to '%s'", from, file);
			goto done;
		}
		{
			/* its signature (db_spool_load) goes with it, or nowhere */
			char *sig = xasprintf("%s.sig", from), *to = xasprintf("%s.sig", file);
			if (rename(sig, to) != 0)
				unlink(sig);
			free(sig);
			free(to);
		}
	} else {
		size_t n = strlen(rd->run_id);
		/* The run id names the file only when it is one (no "../"). */
		if (n >= 8 && n <= 64 && strspn(rd->run_id, "0123456789abcdefABCDEF-") == n)
			file = xasprintf("%s/%s.json", dir, rd->run_id);
		else
			file = xasprintf("%s/run-%ld-%ld.json", dir, (long)time(NULL), (long)getpid());
		text = rundoc_to_string(rd);
		if ((rc = file_write_atomic(file, text, strlen(text), err)))
			goto done;
	}
	*path = file;
	file = NULL;
done:
	free(text);
	free(file);
	free(dir);
	free(spool);
	return rc;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

int db_spool_list(char ***paths, size_t *n, struct err *err)
{
	char *dir = db_spool_dir();
	DIR *d = opendir(dir);
	struct dirent *e;
	char **list = NULL;
	size_t count = 0, alloc = 0;
	int rc = 0;

	*paths = NULL;
	*n = 0;
	if (!d) {
		if (errno != ENOENT)
			rc = err_sys(err, ERR_FAIL, "cannot read the spool folder '%s'", dir);
		free(dir);
		return rc;
	}
	while ((e = readdir(d))) {
		size_t len = strlen(e->d_name);
		/* Skip file_write_atomic's temporary files (NAME.json.tmp.XXXXXX). */
		if (len <= 5 || strcmp(e->d_name + len - 5, ".json") != 0 || e->d_name[0] == '.')
			continue;
		XGROW(list, alloc, count + 1);
		list[count++] = xasprintf("%s/%s", dir, e->d_name);
	}
	closedir(d);
	if (count)
		qsort(list, count, sizeof(*list), cmp_str);
	*paths = list;
	*n = count;
	free(dir);
	return 0;
}

void db_spool_list_free(char **paths, size_t n)
{
	for (size_t i = 0; i < n; i++)
		free(paths[i]);
	free(paths);
}

/* ---- the embedded cluster, for `perfgate db` ---- */

static int embedded_only(const struct db_options *opts, const char *verb, struct err *err)
{
	const char *url;
	char *where = NULL;
	bool embedded = false;
	int rc;

	if (resolve(opts, &url) == DB_SRC_EMBEDDED)
		return 0;
	if ((rc = db_describe(opts, &where, &embedded, err)))
		return rc;
	rc = err_set(err, ERR_INPUT,
		     "'db %s' manages the embedded cluster, but the configured database is %s",
		     verb, where);
	free(where);
	return rc;
}

int db_embedded_start(const struct db_options *opts, bool *started, char **where, struct err *err)
{
	struct cluster c = CLUSTER_INIT;
	int rc;

	*where = NULL;
	if ((rc = embedded_only(opts, "start", err)) || (rc = cluster_locate(&c, err)))
		goto done;
	rc = cluster_start(&c, started, err);
	*where = embedded_where(&c);
done:
	cluster_release(&c);
	return rc;
}

int db_embedded_stop(const struct db_options *opts, bool *was_running, char **where,
		     struct err *err)
{
	struct cluster c = CLUSTER_INIT;
	int rc;

	*where = NULL;
	if ((rc = embedded_only(opts, "stop", err)) || (rc = cluster_locate(&c, err)))
		goto done;
	rc = cluster_stop(&c, was_running, err);
	*where = embedded_where(&c);
done:
	cluster_release(&c);
	return rc;
}

bool db_embedded_running(bool *initialised)
{
	struct cluster c = CLUSTER_INIT;
	bool running = false;

	if (cluster_locate(&c, NULL) == 0) {
		if (initialised)
			*initialised = cluster_initialised(&c);
		running = cluster_running(&c);
	}
	cluster_release(&c);
	return running;
}

double *db_float8_array(const char *text, size_t n)
{
	double *v = xmalloc((n ? n : 1) * sizeof(*v));
	const char *p = text;
	size_t k = 0;

	if (*p++ != '{')
		goto bad;
	while (k < n) {
		char *end;

		v[k] = strtod(p, &end);
		if (end == p || !isfinite(v[k]) || (*end != ',' && *end != '}'))
			goto bad;
		k++;
		p = end + 1;
		if (*end == '}')
			break;
	}
	if (k == n && p[-1] == '}' && *p == '\0')
		return v;
bad:
	free(v);
	return NULL;
}
