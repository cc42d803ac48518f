/*
 * treecode.c: does a benchmark run the repository's own files?  The rule
 * is in treecode.h.  The shell is read only as far as the rule needs:
 * quotes, backslashes, comments, the operators that end a simple command
 * and redirections; anything cleverer (expansions, functions) reads as a
 * word that names no file, so the answer leans to "no".
 */
#include "treecode.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>

#include "gitinfo.h"
#include "json.h"
#include "util.h"

/* `sh -c 'bash -c "..."'`: deeper than this is not read. */
#define MAX_DEPTH 4

struct treecode {
	char *root;        /* the work tree's top, a real path without a trailing '/' */
	bool built;        /* a build command makes what the trees lack */
	struct gitinfo_index *index;
};

struct scan {
	const char *root;  /* the work tree's top, a real path */
	size_t root_len;
	const struct gitinfo_index *index;
	char *dir;         /* where the next word runs (a `cd` moves it); NULL: unknown */
	bool built;        /* a build command makes what the trees lack */
	char *tree_file;   /* the first program or script of the work tree, below its top */
	char *untracked;   /* the first of them that is not in the commit */
	char *absolute;    /* the first word naming the work tree by its absolute path */
};

/* The part of `path` below the work tree's top ("" for the top itself),
 * or NULL when it is outside. */
static const char *below_root(const struct scan *s, const char *path)
{
	if (strncmp(path, s->root, s->root_len) != 0)
		return NULL;
	if (path[s->root_len] == '\0')
		return "";
	return path[s->root_len] == '/' ? path + s->root_len + 1 : NULL;
}

/* A word naming the work tree by its absolute path, whole or as a part
 * after '=' or between ':' (`--lib=/repo/build`, `PATH=/repo/bin:/usr/bin`). */
static void check_absolute(struct scan *s, const char *word)
{
	for (const char *p = word; *p && !s->absolute;) {
		size_t n = strcspn(p, ":=");

		if (p[0] == '/') {
			char *path = xstrndup(p, n), *real = realpath(path, NULL);

			if (below_root(s, real ? real : path))
				s->absolute = xstrdup(path);
			free(real);
			free(path);
		}
		p += n;
		if (*p)
			p++;
	}
}

/* A program or script named by a relative path: is it a file of the work
 * tree, and is that file in the commit? */
static void consider_file(struct scan *s, const char *file)
{
	char *path, *real;
	const char *in;

	if (!s->dir || file[0] == '/' || file[0] == '\0')
		return; /* an absolute path: check_absolute has seen it */
	path = path_from(s->dir, file);
	real = realpath(path, NULL);
	if (real && (in = below_root(s, real)) && *in) {
		if (!s->tree_file)
			s->tree_file = xstrdup(in);
		if (!s->built && !s->untracked && !gitinfo_index_has(s->index, in))
			s->untracked = xstrdup(in);
	}
	free(real);
	free(path);
}

/* `cd DIR`: where the words after it run. */
static void change_dir(struct scan *s, const char *to)
{
	char *path = s->dir && to && to[0] != '-' && to[0] != '~' && !strchr(to, '$') ? path_from(s->dir, to) : NULL;

	free(s->dir);
	s->dir = path ? realpath(path, NULL) : NULL;
	free(path);
}

static bool is_assignment(const char *w)
{
	size_t n = 0;

	if (!isalpha((unsigned char)w[0]) && w[0] != '_')
		return false;
	while (isalnum((unsigned char)w[n]) || w[n] == '_')
		n++;
	return w[n] == '=';
}

static bool in_list(const char *w, const char *const *list)
{
	for (; *list; list++)
		if (strcmp(w, *list) == 0)
			return true;
	return false;
}

enum interpreter { NOT_INTERPRETER, SHELL, PYTHON, OTHER_INTERPRETER };

static enum interpreter interpreter(const char *program)
{
	static const char *const shells[] = { "sh", "bash", "dash", "zsh", "ksh", "ash", "mksh", NULL };
	static const char *const others[] = { "node", "nodejs", "ruby", "perl", "php", "lua", "luajit",
					      "Rscript", "julia", "tclsh", NULL };
	const char *base = strrchr(program, '/') ? strrchr(program, '/') + 1 : program;

	if (in_list(base, shells))
		return SHELL;
	if (strncmp(base, "python", 6) == 0 || strncmp(base, "pypy", 4) == 0)
		return PYTHON;
	return in_list(base, others) ? OTHER_INTERPRETER : NOT_INTERPRETER;
}

static void shell_scan(struct scan *s, const char *text, int depth);

/* `python3 -m pkg.mod`: the module's file or package folder. */
static void consider_module(struct scan *s, const char *module)
{
	char *path = xstrdup(module), *py;

	for (char *p = path; *p; p++)
		if (*p == '.')
			*p = '/';
	py = xasprintf("%s.py", path);
	consider_file(s, py);
	consider_file(s, path);
	free(py);
	free(path);
}

/* The script an interpreter runs: its first word that is not an option;
 * a shell's `-c TEXT` is read as a command line of its own. */
static void consider_script(struct scan *s, enum interpreter kind, char **w, size_t n, int depth)
{
	size_t j = 0;

	for (; j < n && w[j][0] == '-' && w[j][1]; j++) {
		if (kind == SHELL && w[j][1] != '-' && strchr(w[j], 'c')) {
			if (j + 1 < n && depth < MAX_DEPTH)
				shell_scan(s, w[j + 1], depth + 1);
			return;
		}
		if (kind == PYTHON && strcmp(w[j], "-m") == 0) {
			if (j + 1 < n)
				consider_module(s, w[j + 1]);
			return;
		}
		if (strcmp(w[j], "-c") == 0 || strcmp(w[j], "-e") == 0 || strcmp(w[j], "-E") == 0 ||
		    strcmp(w[j], "--eval") == 0)
			return; /* code on the command line */
	}
	if (j < n)
		consider_file(s, w[j]);
}

/* One simple command, its words as the shell passes them. */
static void command_scan(struct scan *s, char **w, size_t n, int depth)
{
	static const char *const wrappers[] = { "exec", "command", "env", "nice", "nohup", "time", "stdbuf",
						"taskset", "numactl", "chrt", "ionice", "timeout", "setsid",
						"valgrind", "if", "then", "else", "elif", "do", "while", "until",
						"!", "{", NULL };
	size_t i = 0;
	enum interpreter kind;

	for (size_t k = 0; k < n; k++)
		check_absolute(s, w[k]);
	for (;;) {
		while (i < n && is_assignment(w[i]))
			i++;
		if (i >= n || !in_list(w[i], wrappers))
			break;
		for (i++; i < n && (w[i][0] == '-' || isdigit((unsigned char)w[i][0]) || is_assignment(w[i])); i++)
			;
	}
	if (i >= n)
		return;
	if (strcmp(w[i], "cd") == 0) {
		change_dir(s, i + 1 < n ? w[i + 1] : NULL);
		return;
	}
	kind = interpreter(w[i]);
	if (kind != NOT_INTERPRETER)
		consider_script(s, kind, w + i + 1, n - i - 1, depth);
	else if (strchr(w[i], '/'))
		consider_file(s, w[i]); /* without a '/', PATH finds it */
}

struct words {
	char **v;
	size_t n, alloc;
};

static void words_clear(struct words *ws)
{
	for (size_t i = 0; i < ws->n; i++)
		free(ws->v[i]);
	ws->n = 0;
}

/* A quoted or escaped part of a word, from p (at the quote or backslash);
 * returns where it ends. */
static const char *quoted(const char *p, struct sb *word)
{
	if (*p == '\\') {
		if (p[1] && p[1] != '\n')
			sb_putc(word, p[1]);
		return p[1] ? p + 1 : p;
	}
	if (*p == '\'') {
		const char *end = strchr(p + 1, '\'');
		size_t n = end ? (size_t)(end - p - 1) : strlen(p + 1);

		sb_add(word, p + 1, n);
		return p + n + (end ? 1 : 0);
	}
	for (p++; *p && *p != '"'; p++) {
		if (*p == '\\' && p[1] && strchr("\"\\$`", p[1]))
			p++;
		sb_putc(word, *p);
	}
	return *p ? p : p - 1;
}

static bool all_digits(const char *w)
{
	return w[strspn(w, "0123456789")] == '\0';
}

/* A shell command line: its words, simple command by simple command. */
static void shell_scan(struct scan *s, const char *text, int depth)
{
	struct words ws = { NULL, 0, 0 };
	struct sb word = SB_INIT;
	bool in_word = false, redirect = false;

	for (const char *p = text;; p++) {
		char c = *p;

		if (c == '\0' || strchr(" \t\n;&|()<>", c)) {
			if (in_word && redirect)
				check_absolute(s, sb_str(&word)); /* a redirection's file is no argument */
			else if (in_word && (c == '<' || c == '>') && all_digits(sb_str(&word)))
				; /* the descriptor of `2>FILE` */
			else if (in_word) {
				XGROW(ws.v, ws.alloc, ws.n + 1);
				ws.v[ws.n++] = sb_detach(&word);
			}
			sb_reset(&word);
			if (in_word)
				redirect = false;
			in_word = false;
			if (c == '<' || c == '>') {
				redirect = true;
				if (p[1] == '&' || p[1] == c)
					p++;
			} else if (c != ' ' && c != '\t') {
				command_scan(s, ws.v, ws.n, depth);
				words_clear(&ws);
				redirect = false;
			}
			if (c == '\0')
				break;
		} else if (c == '#' && !in_word) {
			while (p[1] && p[1] != '\n')
				p++;
		} else {
			in_word = true;
			if (c == '\\' || c == '\'' || c == '"')
				p = quoted(p, &word);
			else
				sb_putc(&word, c);
		}
	}
	words_clear(&ws);
	free(ws.v);
	sb_release(&word);
}

/* A "command" (argv) or "shell" (sh -c) of a benchmark or server. */
static void scan_run(struct scan *s, const cJSON *o)
{
	const cJSON *argv = json_peek(o, "command"), *env = json_peek(o, "env"), *v;
	const char *shell = json_peek_str(o, "shell");

	cJSON_ArrayForEach(v, env)
		if (cJSON_IsString(v))
			check_absolute(s, v->valuestring);
	if (shell)
		shell_scan(s, shell, 0);
	else if (cJSON_IsArray(argv)) {
		size_t n = (size_t)cJSON_GetArraySize(argv), k = 0;
		char **w = xcalloc(n + 1, sizeof(*w));

		cJSON_ArrayForEach(v, argv)
			if (cJSON_IsString(v))
				w[k++] = v->valuestring;
		command_scan(s, w, k, 0);
		free(w);
	}
}

/* Start the scan in folder `dir` (NULL: the folder is unknown). */
static void scan_from(struct scan *s, const char *dir)
{
	free(s->dir);
	s->dir = dir ? realpath(dir, NULL) : NULL;
}

int treecode_open(const char *dir, bool built, struct treecode **out, struct err *err)
{
	struct treecode *t = xcalloc(1, sizeof(*t));
	const char *top;
	int rc;

	*out = NULL;
	t->built = built;
	if ((rc = gitinfo_index_open(dir, &t->index, err)) != 0)
		goto fail;
	top = gitinfo_index_workdir(t->index);
	if (!(t->root = realpath(top, NULL))) {
		rc = err_set(err, ERR_NOTFOUND, "the work tree %s: %s", top, strerror(errno));
		goto fail;
	}
	*out = t;
	return 0;
fail:
	treecode_free(t);
	return rc;
}

void treecode_free(struct treecode *t)
{
	if (!t)
		return;
	gitinfo_index_free(t->index);
	free(t->root);
	free(t);
}

bool treecode_runs_tree(const struct treecode *t, const struct suite *suite, const struct suite_bench *b,
			char **why)
{
	struct scan s = { t->root, strlen(t->root), t->index, NULL, t->built, NULL, NULL, NULL };
	const cJSON *server = json_peek(b->raw, "server");
	const char *server_cwd = json_peek_str(server, "cwd");
	char *dir = path_from(suite->dir, json_peek_str(b->raw, "cwd"));
	bool yes = false;

	scan_from(&s, dir);
	if (!s.dir || !below_root(&s, s.dir))
		*why = xasprintf("it runs in %s, outside the repository's work tree", dir);
	else if (b->kind == RUNDOC_KIND_HTTP && !server)
		*why = xstrdup("a load test without a \"server\" runs no code of the repository");
	else if (b->kind != RUNDOC_KIND_COMMAND && b->kind != RUNDOC_KIND_HTTP)
		*why = xstrdup("ingested results are not run");
	else {
		if (server) {
			char *folder = path_from(s.dir, server_cwd);

			if (server_cwd)
				check_absolute(&s, server_cwd);
			scan_from(&s, folder);
			free(folder);
			scan_run(&s, server);
		} else
			scan_run(&s, b->raw);
		if (s.absolute)
			*why = xasprintf("it names %s, in the work tree, by its absolute path: both sides would run "
					 "the head's files", s.absolute);
		else if (!s.tree_file)
			*why = xstrdup("its command starts no program or script of the repository by a relative path");
		else if (s.untracked)
			*why = xasprintf("%s is not in the commit (a build's output?): --build CMD builds both trees",
					 s.untracked);
		else {
			*why = xstrdup(s.tree_file);
			yes = true;
		}
	}
	free(dir);
	free(s.dir);
	free(s.tree_file);
	free(s.untracked);
	free(s.absolute);
	return yes;
}
