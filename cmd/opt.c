/*
 * opt.c: the option parser and help generator every subcommand uses, and the
 * small shared helpers of cmd/ (messages, exit codes, nested verb tables).
 */
#include "cmd.h"

#include <limits.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../core/json.h"
#include "../core/rundoc.h"
#include "../core/suite.h"
#include "../core/util.h"

void strlist_push(struct strlist *l, const char *s)
{
	XGROW(l->items, l->alloc, l->n + 1);
	l->items[l->n++] = s;
}

void strlist_release(struct strlist *l)
{
	free(l->items);
	l->items = NULL;
	l->n = l->alloc = 0;
}

/* One line on stderr whatever the message quotes: a name, a file's text or
 * a library's message is written through sb_put_printable, so that nothing
 * in it starts a new line (a forged "::error" CI command) or moves the
 * cursor; trailing newlines (libpq's) are dropped. */
static void vmessage(const char *prefix, const char *fmt, va_list ap)
{
	struct sb raw = SB_INIT, out = SB_INIT;

	if (sb_vprintf(&raw, fmt, ap) != 0)
		sb_puts(&raw, fmt);
	while (raw.len && (raw.buf[raw.len - 1] == '\n' || raw.buf[raw.len - 1] == '\r'))
		raw.buf[--raw.len] = '\0';
	sb_puts(&out, prefix);
	sb_put_printable(&out, sb_str(&raw));
	sb_putc(&out, '\n');
	fputs(sb_str(&out), stderr);
	sb_release(&raw);
	sb_release(&out);
}

void cmd_error(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vmessage("perfgate: ", fmt, ap);
	va_end(ap);
}

void cmd_line(const char *fmt, ...)
{
	struct sb raw = SB_INIT, out = SB_INIT;
	va_list ap;

	va_start(ap, fmt);
	if (sb_vprintf(&raw, fmt, ap) != 0)
		sb_puts(&raw, fmt);
	va_end(ap);
	sb_puts(&out, "");
	sb_put_printable(&out, sb_str(&raw));
	puts(sb_str(&out));
	sb_release(&raw);
	sb_release(&out);
}

void cmd_note(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vmessage("perfgate: ", fmt, ap);
	va_end(ap);
}

void cmd_warn(const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vmessage("perfgate: warning: ", fmt, ap);
	va_end(ap);
}

int cmd_exit_code(int rc)
{
	switch (rc) {
	case 0:
		return EXIT_PASS;
	case ERR_INPUT:
	case ERR_NOTFOUND:
		return EXIT_USAGE;
	case ERR_RUN:
		return EXIT_INVALID;
	default:
		return EXIT_INFRA;
	}
}

int cmd_fail(int rc, const struct err *err)
{
	cmd_error("%s", err->msg[0] ? err->msg : "unknown error");
	return cmd_exit_code(rc);
}

static const struct opt *find_long(const struct opt *opts, size_t n, const char *name, size_t len)
{
	for (size_t i = 0; i < n; i++)
		if (strlen(opts[i].name) == len && strncmp(opts[i].name, name, len) == 0)
			return &opts[i];
	return NULL;
}

static const struct opt *find_short(const struct opt *opts, size_t n, char c)
{
	for (size_t i = 0; i < n; i++)
		if (opts[i].short_name && opts[i].short_name == c)
			return &opts[i];
	return NULL;
}

static void unknown_option(const struct cmd_usage *u, const struct opt *opts, size_t n,
			   const char *arg, size_t len)
{
	const char **names = xmalloc((n + 1) * sizeof(*names));
	char *word = xstrndup(arg, len);
	const char *best;

	for (size_t i = 0; i < n; i++)
		names[i] = opts[i].name;
	names[n] = "help";
	best = closest_match(word, names, n + 1);
	if (best)
		cmd_error("unknown option '--%s' for '%s'; did you mean '--%s'?", word, u->verb, best);
	else
		cmd_error("unknown option '--%s' for '%s'; see 'perfgate %s --help'", word, u->verb,
			  u->verb);
	free(word);
	free(names);
}

static int set_value(const struct cmd_usage *u, const struct opt *o, const char *val)
{
	struct err err = ERR_INIT;

	switch (o->type) {
	case OPT_FLAG:
		*(bool *)o->dest = true;
		return OPT_OK;
	case OPT_STRING:
		*(const char **)o->dest = val;
		return OPT_OK;
	case OPT_LIST:
		strlist_push(o->dest, val);
		return OPT_OK;
	case OPT_INT: {
		int64_t v;
		if (parse_int64(val, &v, &err) != 0) {
			cmd_error("%s --%s: %s", u->verb, o->name, err.msg);
			return OPT_ERROR;
		}
		/* Every count is bounded (docs/security.md): none fits past 2^31. */
		if (v > JSON_COUNT_MAX || v < -JSON_COUNT_MAX) {
			cmd_error("%s --%s: '%s' is out of range (at most %ld)", u->verb, o->name, val,
				  JSON_COUNT_MAX);
			return OPT_ERROR;
		}
		*(long *)o->dest = (long)v;
		return OPT_OK;
	}
	case OPT_DOUBLE:
		if (parse_double(val, o->dest, &err) != 0) {
			cmd_error("%s --%s: %s", u->verb, o->name, err.msg);
			return OPT_ERROR;
		}
		return OPT_OK;
	}
	return OPT_ERROR;
}

static int opt_scan(const struct cmd_usage *u, const struct opt *opts, size_t n,
		    int argc, char **argv, struct strlist *positional);

/* Does a database URL or conninfo string carry a password
 * ("postgresql://user:secret@host", "?password=...", "password=...")? */
static bool url_has_password(const char *url)
{
	const char *scheme = strstr(url, "://");

	if (strstr(url, "password="))
		return true;
	if (scheme) {
		const char *auth = scheme + 3, *at = strchr(auth, '@'), *colon = strchr(auth, ':');
		size_t host = strcspn(auth, "/?");

		return at && (size_t)(at - auth) < host && colon && colon < at;
	}
	return false;
}

#define DB_PASSWORD_NOTE \
	"a password in --db is visible to every user of this machine (ps, /proc): put the URL in " \
	"PERFGATE_DATABASE_URL, or the password in ~/.pgpass (or the file PGPASSFILE names) or PGPASSWORD"

/* When parsing ends the command (help, error, parse-only), the caller returns
 * at once: release what the lists gathered so far (strlist_release leaves an
 * empty list, so a caller that releases again is fine). */
static int end_parse(int rc, const struct opt *opts, size_t n, struct strlist *positional)
{
	for (size_t i = 0; i < n; i++)
		if (opts[i].type == OPT_LIST && opts[i].dest)
			strlist_release(opts[i].dest);
	if (positional)
		strlist_release(positional);
	return rc;
}

int opt_parse(const struct cmd_usage *u, const struct opt *opts, size_t n,
	      int argc, char **argv, struct strlist *positional)
{
	int rc = opt_scan(u, opts, n, argc, argv, positional);

	/* PERFGATE_PARSE_ONLY=1: check a command line (the CI templates' test
	 * does) without doing anything; the verb exits 0 as after --help. */
	if (rc == OPT_OK && getenv("PERFGATE_PARSE_ONLY") && strcmp(getenv("PERFGATE_PARSE_ONLY"), "1") == 0)
		rc = OPT_HELP;
	return rc == OPT_OK ? rc : end_parse(rc, opts, n, positional);
}

static int opt_scan(const struct cmd_usage *u, const struct opt *opts, size_t n,
		    int argc, char **argv, struct strlist *positional)
{
	bool only_positional = false;

	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		const struct opt *o = NULL;
		const char *val = NULL;

		if (only_positional || a[0] != '-' || a[1] == '\0') {
			if (!positional) {
				cmd_error("'%s' takes no arguments, got '%s'", u->verb, a);
				return OPT_ERROR;
			}
			strlist_push(positional, a);
			continue;
		}
		if (strcmp(a, "--") == 0) {
			only_positional = true;
			continue;
		}
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			opt_print_help(u, opts, n);
			return OPT_HELP;
		}
		if (a[1] == '-') {
			const char *name = a + 2, *eq = strchr(name, '=');
			size_t len = eq ? (size_t)(eq - name) : strlen(name);
			o = find_long(opts, n, name, len);
			if (!o) {
				unknown_option(u, opts, n, name, len);
				return OPT_ERROR;
			}
			if (eq) {
				if (o->type == OPT_FLAG) {
					cmd_error("option '--%s' takes no value", o->name);
					return OPT_ERROR;
				}
				val = eq + 1;
			}
		} else {
			o = find_short(opts, n, a[1]);
			if (!o || a[2] != '\0') {
				cmd_error("unknown option '%s' for '%s'; see 'perfgate %s --help'", a,
					  u->verb, u->verb);
				return OPT_ERROR;
			}
		}
		if (o->type != OPT_FLAG && !val) {
			if (i + 1 >= argc) {
				cmd_error("option '--%s' needs a value (%s)", o->name,
					  o->arg ? o->arg : "VALUE");
				return OPT_ERROR;
			}
			val = argv[++i];
			/* "--db --out x": a forgotten value, not a URL named "--out". */
			if (strncmp(val, "--", 2) == 0 && val[2] &&
			    (find_long(opts, n, val + 2, strcspn(val + 2, "=")) || strcmp(val, "--help") == 0)) {
				cmd_error("option '--%s' needs a value (%s), got the option '%s' (write --%s=VALUE "
					  "for a value that starts with '--')",
					  o->name, o->arg ? o->arg : "VALUE", val, o->name);
				return OPT_ERROR;
			}
		}
		if (set_value(u, o, val) != OPT_OK)
			return OPT_ERROR;
		if (strcmp(o->name, "db") == 0 && url_has_password(val))
			cmd_warn(DB_PASSWORD_NOTE);
	}
	return OPT_OK;
}

void opt_print_help(const struct cmd_usage *u, const struct opt *opts, size_t n)
{
	printf("usage: perfgate %s %s\n\n%s\n", u->verb, u->synopsis ? u->synopsis : "[options]",
	       u->summary);
	printf("\noptions:\n");
	for (size_t i = 0; i < n; i++) {
		char left[64];
		if (opts[i].short_name)
			snprintf(left, sizeof(left), "-%c, --%s%s%s", opts[i].short_name, opts[i].name,
				 opts[i].arg ? " " : "", opts[i].arg ? opts[i].arg : "");
		else
			snprintf(left, sizeof(left), "    --%s%s%s", opts[i].name, opts[i].arg ? " " : "",
				 opts[i].arg ? opts[i].arg : "");
		printf("  %-28s %s%s\n", left, opts[i].help,
		       opts[i].type == OPT_LIST ? " (repeatable)" : "");
	}
	printf("  %-28s %s\n", "-h, --help", "show this help");
	if (find_long(opts, n, "db", 2))
		printf("\nA password in --db is visible to every user of this machine (ps, /proc):\n"
		       "put the URL in PERFGATE_DATABASE_URL, or the password in ~/.pgpass (or\n"
		       "the file PGPASSFILE names) or PGPASSWORD.\n");
	if (u->details)
		printf("\n%s\n", u->details);
}

int subcmd_dispatch(const char *verb, const struct subcmd *table, size_t n, int argc, char **argv)
{
	const char **names;
	const char *best;

	if (argc < 2 || strcmp(argv[1], "--help") == 0 || strcmp(argv[1], "-h") == 0 ||
	    strcmp(argv[1], "help") == 0) {
		FILE *out = argc < 2 ? stderr : stdout;
		fprintf(out, "usage: perfgate %s <command> [options]\n\ncommands:\n", verb);
		for (size_t i = 0; i < n; i++)
			fprintf(out, "  %-10s %s\n", table[i].name, table[i].summary);
		return argc < 2 ? EXIT_USAGE : EXIT_PASS;
	}
	for (size_t i = 0; i < n; i++)
		if (strcmp(argv[1], table[i].name) == 0)
			return table[i].fn(argc - 1, argv + 1);
	names = xmalloc(n * sizeof(*names));
	for (size_t i = 0; i < n; i++)
		names[i] = table[i].name;
	best = closest_match(argv[1], names, n);
	if (best)
		cmd_error("unknown command '%s %s'; did you mean '%s %s'?", verb, argv[1], verb, best);
	else
		cmd_error("unknown command '%s %s'; see 'perfgate %s --help'", verb, argv[1], verb);
	free(names);
	return EXIT_USAGE;
}

bool cmd_opt_at_least_one(const char *name, long *v)
{
	if (*v == LONG_MIN) {
		*v = 0;
		return true;
	}
	if (*v >= 1)
		return true;
	cmd_error("invalid --%s %ld: expected an integer >= 1", name, *v);
	return false;
}

int cmd_check_out_path(const char *option, const char *path)
{
	const char *slash;
	char *dir;
	struct stat st;
	int code = 0;

	if (!path || strcmp(path, "-") == 0)
		return 0;
	if (!*path) {
		cmd_error("invalid --%s '': expected a file name", option);
		return EXIT_USAGE;
	}
	slash = strrchr(path, '/');
	dir = slash ? xstrndup(path, slash == path ? 1 : (size_t)(slash - path)) : xstrdup(".");
	if (stat(dir, &st) != 0) {
		cmd_error("invalid --%s '%s': the folder '%s' does not exist", option, path, dir);
		code = EXIT_USAGE;
	} else if (!S_ISDIR(st.st_mode)) {
		cmd_error("invalid --%s '%s': '%s' is not a folder", option, path, dir);
		code = EXIT_USAGE;
	} else if (access(dir, W_OK | X_OK) != 0) {
		cmd_error("invalid --%s '%s': cannot write in the folder '%s'", option, path, dir);
		code = EXIT_USAGE;
	} else if (stat(path, &st) == 0 && S_ISDIR(st.st_mode)) {
		cmd_error("invalid --%s '%s': it is a folder, expected a file name", option, path);
		code = EXIT_USAGE;
	}
	free(dir);
	return code;
}

int cmd_check_baseline_spec(const char *spec)
{
	struct rundoc *rd = NULL;
	struct err err = ERR_INIT;
	char hex[33];
	size_t n;

	if (!spec)
		return 0;
	if (strncmp(spec, "file:", 5) == 0) {
		int rc = rundoc_load(&rd, spec + 5, &err);

		rundoc_free(rd);
		if (rc == 0)
			return 0;
		cmd_error("--baseline '%s': %s", spec, err.msg);
		return EXIT_USAGE;
	}
	if (strncmp(spec, "branch:", 7) == 0) {
		char why[96];

		if (json_name_problem(spec + 7, why, sizeof(why))) {
			cmd_error("--baseline '%s': the branch name %s", spec, why);
			return EXIT_USAGE;
		}
		return 0;
	}
	n = strlen(spec);
	if (rundoc_id_prefix(spec, hex) || (n >= 4 && n <= 64 && strspn(spec, "0123456789abcdefABCDEF") == n))
		return 0;
	cmd_error("--baseline '%s': expected a RUN_ID (or a prefix of at least %d hex digits), a COMMIT, "
		  "branch:NAME or file:RUN.json", spec, RUNDOC_ID_PREFIX_MIN);
	return EXIT_USAGE;
}

int cmd_parse_tags(const struct strlist *tags, cJSON **out)
{
	*out = NULL;
	for (size_t i = 0; i < tags->n; i++) {
		const char *eq = strchr(tags->items[i], '=');
		char *key;

		if (!eq || eq == tags->items[i]) {
			cmd_error("invalid --tag '%s': expected KEY=VALUE", tags->items[i]);
			cJSON_Delete(*out);
			*out = NULL;
			return EXIT_USAGE;
		}
		if (!*out)
			*out = cJSON_CreateObject();
		/* The last value given for a key wins. */
		key = xstrndup(tags->items[i], (size_t)(eq - tags->items[i]));
		cJSON_DeleteItemFromObjectCaseSensitive(*out, key);
		cJSON_AddStringToObject(*out, key, eq + 1);
		free(key);
	}
	return 0;
}

void cmd_print_problems(const struct errlist *problems)
{
	for (size_t i = 0; i < problems->n && i < CMD_PROBLEMS_SHOWN; i++) {
		char *line = str_printable(problems->msgs[i]);
		fprintf(stderr, "  %s\n", line);
		free(line);
	}
	if (problems->n > CMD_PROBLEMS_SHOWN)
		fprintf(stderr, "  ... and %zu more problems\n", problems->n - CMD_PROBLEMS_SHOWN);
}

int cmd_load_suite(const char *path, struct suite **out)
{
	struct errlist problems = ERRLIST_INIT;
	struct err err = ERR_INIT;
	int rc = suite_load(out, path, &problems, &err);

	if (rc == 0)
		goto done;
	/* A file that cannot be read has no problem list worth a heading. */
	if (problems.n == 0 || strncmp(err.msg, "cannot ", 7) == 0) {
		cmd_error("%s", err.msg);
	} else {
		cmd_error("invalid suite '%s' (%zu problem%s):", path, problems.n, problems.n == 1 ? "" : "s");
		cmd_print_problems(&problems);
	}
done:
	errlist_release(&problems);
	return cmd_exit_code(rc);
}
