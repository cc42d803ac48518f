/*
 * plan.c: the `http` object parsed into serialised requests (see plan.h).
 */
#include "plan.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include <gsl/gsl_rng.h>

#include "../slo.h"
#include "../json.h"
#include "../util.h"

#define MAX_BODY_KEPT (8u << 20) /* bytes of a response kept for checks */
#define MAX_DATASET_ROWS 1000000

void http_plan_free(struct http_plan *p)
{
	if (!p)
		return;
	free(p->url);
	free(p->host);
	free(p->port);
	free(p->authority);
	free(p->target);
	free(p->method);
	for (size_t i = 0; i < p->n_headers; i++)
		free(p->header_lines[i]);
	free(p->header_lines);
	for (size_t i = 0; i < p->n_reqs; i++)
		free(p->reqs[i].data);
	free(p->reqs);
	free(p->expect);
	for (size_t i = 0; i < p->n_checks; i++) {
		free(p->checks[i].contains);
		free(p->checks[i].json_path);
		cJSON_Delete(p->checks[i].equals);
	}
	free(p->checks);
	free(p->rslo);
	free(p->ca_file);
	for (size_t i = 0; i < p->n_classes; i++)
		free(p->class_names[i]);
	free(p->class_names);
	free(p->meta);
	free(p->order);
	free(p);
}

/* http://host[:port]/path?query, http://[::1]:8080/x */
static int parse_url(struct http_plan *p, const char *url, const char *path, struct errlist *problems)
{
	const char *rest, *end, *slash;

	if (strncmp(url, "http://", 7) == 0) {
		rest = url + 7;
	} else if (strncmp(url, "https://", 8) == 0) {
		rest = url + 8;
		p->tls = true;
	} else {
		errlist_add(problems, "%s.http.url: expected an http:// or https:// URL, got \"%s\"", path, url);
		return ERR_INPUT;
	}
	slash = rest + strcspn(rest, "/?#");
	if (slash == rest) {
		errlist_add(problems, "%s.http.url: no host in \"%s\"", path, url);
		return ERR_INPUT;
	}
	if (strchr(url, '@') && strchr(url, '@') < slash) {
		errlist_add(problems, "%s.http.url: credentials in the URL are not supported; use auth_env", path);
		return ERR_INPUT;
	}
	p->authority = xstrndup(rest, (size_t)(slash - rest));
	if (rest[0] == '[') {
		end = memchr(rest, ']', (size_t)(slash - rest));
		if (!end) {
			errlist_add(problems, "%s.http.url: unterminated IPv6 address in \"%s\"", path, url);
			return ERR_INPUT;
		}
		p->host = xstrndup(rest + 1, (size_t)(end - rest - 1));
		end++;
	} else {
		end = rest;
		while (end < slash && *end != ':')
			end++;
		p->host = xstrndup(rest, (size_t)(end - rest));
	}
	if (end < slash && *end == ':') {
		char *e;
		long port;

		errno = 0;
		port = strtol(end + 1, &e, 10);
		if (e != slash || e == end + 1 || port < 1 || port > 65535 || errno) {
			errlist_add(problems, "%s.http.url: bad port in \"%s\"", path, url);
			return ERR_INPUT;
		}
		p->port = xstrndup(end + 1, (size_t)(slash - end - 1));
	} else {
		p->port = xstrdup(p->tls ? "443" : "80");
	}
	if (*slash == '/')
		p->target = xstrndup(slash, strcspn(slash, "#"));
	else if (*slash == '?')
		p->target = xasprintf("/%.*s", (int)strcspn(slash, "#"), slash);
	else
		p->target = xstrdup("/");
	return 0;
}

/* {field} substitution of one string with a dataset row. */
static void subst_text(struct sb *out, const char *s, const cJSON *row)
{
	while (*s) {
		const char *close;

		if (*s == '{' && row && (close = strchr(s + 1, '}')) && close > s + 1) {
			char *key = xstrndup(s + 1, (size_t)(close - s - 1));
			const cJSON *v = cJSON_GetObjectItemCaseSensitive(row, key);

			free(key);
			if (v) {
				if (cJSON_IsString(v)) {
					sb_puts(out, v->valuestring);
				} else {
					char *t = cJSON_PrintUnformatted(v);
					sb_puts(out, t);
					free(t);
				}
				s = close + 1;
				continue;
			}
		}
		sb_putc(out, *s++);
	}
}

/* Substitute into every string of a JSON tree; a string that is exactly
 * "{field}" takes the row value with its type. */
static cJSON *subst_json(const cJSON *node, const cJSON *row)
{
	cJSON *copy;

	if (cJSON_IsString(node)) {
		size_t len = strlen(node->valuestring);
		struct sb sb = SB_INIT;

		if (row && len > 2 && node->valuestring[0] == '{' && node->valuestring[len - 1] == '}' &&
		    !memchr(node->valuestring + 1, '}', len - 2)) {
			char *key = xstrndup(node->valuestring + 1, len - 2);
			const cJSON *v = cJSON_GetObjectItemCaseSensitive(row, key);

			free(key);
			if (v)
				return cJSON_Duplicate(v, 1);
		}
		subst_text(&sb, node->valuestring, row);
		copy = cJSON_CreateString(sb_str(&sb));
		sb_release(&sb);
		return copy;
	}
	if (cJSON_IsArray(node) || cJSON_IsObject(node)) {
		const cJSON *it;

		copy = cJSON_IsArray(node) ? cJSON_CreateArray() : cJSON_CreateObject();
		cJSON_ArrayForEach(it, node) {
			cJSON *c = subst_json(it, row);
			if (cJSON_IsArray(node))
				cJSON_AddItemToArray(copy, c);
			else
				cJSON_AddItemToObject(copy, it->string, c);
		}
		return copy;
	}
	return cJSON_Duplicate(node, 1);
}

/* Does the headers object (anything else: no) set this header? */
static bool header_set(const cJSON *headers, const char *name)
{
	const cJSON *it;

	if (!cJSON_IsObject(headers))
		return false;
	cJSON_ArrayForEach(it, headers)
		if (strcasecmp(it->string, name) == 0)
			return true;
	return false;
}

static bool token_ok(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && !strchr("!#$%&'*+-.^_`|~", *s))
			return false;
	return true;
}

static bool value_ok(const char *s)
{
	for (; *s; s++)
		if (*s == '\r' || *s == '\n')
			return false;
	return true;
}

static void add_header_line(struct http_plan *p, size_t *alloc, char *line)
{
	XGROW(p->header_lines, *alloc, p->n_headers + 1);
	p->header_lines[p->n_headers++] = line;
}

static int parse_checks(struct http_plan *p, const cJSON *checks, const char *path, struct errlist *problems)
{
	static const char *const keys[] = { "contains", "json", "equals" };
	const cJSON *c;
	size_t i = 0, before = problems->n;

	if (!cJSON_IsArray(checks)) {
		errlist_add(problems, "%s.http.checks: expected an array of checks", path);
		return ERR_INPUT;
	}
	p->checks = xcalloc((size_t)cJSON_GetArraySize(checks) + 1, sizeof(*p->checks));
	cJSON_ArrayForEach(c, checks) {
		char *cpath = xasprintf("%s.http.checks[%zu]", path, i);
		const cJSON *contains = cJSON_GetObjectItemCaseSensitive(c, "contains");
		const cJSON *json = cJSON_GetObjectItemCaseSensitive(c, "json");
		struct http_check *hc = &p->checks[p->n_checks];

		if (!cJSON_IsObject(c)) {
			errlist_add(problems, "%s: expected an object such as {\"contains\": \"ok\"}", cpath);
		} else {
			json_check_keys(c, cpath, keys, ARRAY_SIZE(keys), problems);
			if (cJSON_IsString(contains) && !json) {
				hc->kind = HTTP_CHECK_CONTAINS;
				hc->contains = xstrdup(contains->valuestring);
				p->n_checks++;
			} else if (cJSON_IsString(json) && json->valuestring[0] == '$' && !contains) {
				const cJSON *eq = cJSON_GetObjectItemCaseSensitive(c, "equals");
				hc->kind = HTTP_CHECK_JSON;
				hc->json_path = xstrdup(json->valuestring);
				hc->equals = eq ? cJSON_Duplicate(eq, 1) : NULL;
				p->n_checks++;
			} else {
				errlist_add(problems, "%s: expected {\"contains\": TEXT} or {\"json\": \"$.path\", \"equals\": VALUE}", cpath);
			}
		}
		free(cpath);
		i++;
	}
	return problems->n > before ? ERR_INPUT : 0;
}

static int parse_rslo(struct http_plan *p, const cJSON *rs, const char *rpath, struct errlist *problems)
{
	static const char *const names[] = { "latency", "service_time", "ttfb", "ttft", "tpot", "itl.max" };
	const cJSON *it;
	size_t before = problems->n;

	if (!cJSON_IsObject(rs)) {
		errlist_add(problems, "%s: expected an object such as {\"ttft\": \"< 300ms\"}", rpath);
		return ERR_INPUT;
	}
	p->rslo = xcalloc((size_t)cJSON_GetArraySize(rs) + 1, sizeof(*p->rslo));
	cJSON_ArrayForEach(it, rs) {
		struct slo s = { 0 };
		struct err err = ERR_INIT;
		size_t k;

		for (k = 0; k < ARRAY_SIZE(names); k++)
			if (strcmp(it->string, names[k]) == 0)
				break;
		if (k == ARRAY_SIZE(names)) {
			const char *near = closest_match(it->string, names, ARRAY_SIZE(names));
			errlist_add(problems, "%s.%s: unknown per-request metric%s%s%s (known: latency, service_time, ttfb, ttft, tpot, itl.max)",
				    rpath, it->string, near ? " (did you mean '" : "", near ? near : "", near ? "'?)" : "");
			continue;
		}
		if (!cJSON_IsString(it)) {
			errlist_add(problems, "%s.%s: expected an expression such as \"< 300ms\"", rpath, it->string);
			continue;
		}
		if (slo_parse(it->string, it->valuestring, &s, &err) != 0) {
			errlist_add(problems, "%s.%s: %s", rpath, it->string, err.msg);
			continue;
		}
		if ((s.op != SLO_LT && s.op != SLO_LE) || !(s.value >= 0) ||
		    (s.unit_kind && strcmp(s.unit_kind, "time") != 0)) {
			errlist_add(problems, "%s.%s: expected a time limit such as \"< 300ms\", got \"%s\"", rpath,
				    it->string, it->valuestring);
		} else {
			struct http_rslo *r = &p->rslo[p->n_rslo++];
			r->metric = (enum http_rslo_metric)k;
			r->less = true;
			r->inclusive = s.op == SLO_LE;
			r->limit = (uint64_t)llround(s.value * 1e9);
		}
		slo_release(&s);
	}
	return problems->n > before ? ERR_INPUT : 0;
}

/* The dataset's options: a file name, or {"path", "order", "seed"}. */
static int dataset_options(const cJSON *ds, const char *path, const char **file, bool *shuffle, double *seed,
			   struct errlist *problems)
{
	static const char *const keys[] = { "path", "order", "seed" };

	*file = NULL;
	if (cJSON_IsString(ds)) {
		*file = ds->valuestring;
	} else if (cJSON_IsObject(ds)) {
		const cJSON *f = cJSON_GetObjectItemCaseSensitive(ds, "path");
		const cJSON *o = cJSON_GetObjectItemCaseSensitive(ds, "order");
		const cJSON *s = cJSON_GetObjectItemCaseSensitive(ds, "seed");
		json_check_keys(ds, path, keys, ARRAY_SIZE(keys), problems);
		*file = cJSON_IsString(f) ? f->valuestring : NULL;
		if (o && (!cJSON_IsString(o) || (strcmp(o->valuestring, "sequential") && strcmp(o->valuestring, "shuffle")))) {
			errlist_add(problems, "%s.order: expected \"sequential\" or \"shuffle\"", path);
			return ERR_INPUT;
		}
		*shuffle = o && strcmp(o->valuestring, "shuffle") == 0;
		if (s && (!cJSON_IsNumber(s) || s->valuedouble < 0)) {
			errlist_add(problems, "%s.seed: expected an integer >= 0", path);
			return ERR_INPUT;
		}
		if (s)
			*seed = s->valuedouble;
	}
	if (!*file || !**file) {
		errlist_add(problems, "%s: expected a JSONL file name or {\"path\": FILE, \"order\": \"shuffle\", \"seed\": N}", path);
		return ERR_INPUT;
	}
	return 0;
}

/* The rows of a JSONL file (at most MAX_DATASET_ROWS), in order. */
static int read_rows(const char *full, const char *path, cJSON **rows_out, struct errlist *problems)
{
	struct err err = ERR_INIT;
	char *text = NULL, *line;
	size_t len;
	cJSON *rows = NULL;
	long lineno = 0;
	int rc = ERR_INPUT;

	if (file_read(full, &text, &len, &err) != 0) {
		errlist_add(problems, "%s: %s", path, err.msg);
		goto done;
	}
	rows = cJSON_CreateArray();
	for (line = text; line && *line;) {
		char *nl = strchr(line, '\n');
		cJSON *row;

		lineno++;
		if (nl)
			*nl = '\0';
		if (strspn(line, " \t\r") != strlen(line)) {
			row = cJSON_Parse(line);
			if (!cJSON_IsObject(row)) {
				errlist_add(problems, "%s: '%s' line %ld: expected a JSON object", path, full, lineno);
				cJSON_Delete(row);
				goto done;
			}
			if (cJSON_GetArraySize(rows) >= MAX_DATASET_ROWS) {
				cJSON_Delete(row);
				break;
			}
			cJSON_AddItemToArray(rows, row);
		}
		line = nl ? nl + 1 : NULL;
	}
	if (cJSON_GetArraySize(rows) == 0) {
		errlist_add(problems, "%s: '%s' has no rows", path, full);
		goto done;
	}
	*rows_out = rows;
	rows = NULL;
	rc = 0;
done:
	cJSON_Delete(rows);
	free(text);
	return rc;
}

/* Fisher-Yates over the detached rows, seeded. */
static void shuffle_rows(cJSON *rows, double seed)
{
	int n = cJSON_GetArraySize(rows);
	cJSON **items = xmalloc((size_t)n * sizeof(*items));
	gsl_rng *r = gsl_rng_alloc(gsl_rng_mt19937);

	gsl_rng_set(r, (unsigned long)seed);
	for (int i = n - 1; i >= 0; i--)
		items[i] = cJSON_DetachItemFromArray(rows, i);
	for (int i = n - 1; i > 0; i--) {
		int j = (int)gsl_rng_uniform_int(r, (unsigned long)i + 1);
		cJSON *t = items[i];
		items[i] = items[j];
		items[j] = t;
	}
	for (int i = 0; i < n; i++)
		cJSON_AddItemToArray(rows, items[i]);
	free(items);
	gsl_rng_free(r);
}

int http_plan_load_dataset(const cJSON *ds, const char *path, const char *dir, cJSON **rows_out,
			   struct errlist *problems)
{
	const char *file;
	bool shuffle = false;
	double seed = 1;
	char *full;
	int rc;

	*rows_out = NULL;
	if (dataset_options(ds, path, &file, &shuffle, &seed, problems) != 0)
		return ERR_INPUT;
	if (!dir)
		return 0;
	full = file[0] == '/' ? xstrdup(file) : xasprintf("%s/%s", dir, file);
	rc = read_rows(full, path, rows_out, problems);
	free(full);
	if (rc == 0 && shuffle)
		shuffle_rows(*rows_out, seed);
	return rc;
}

static void load_rows(const cJSON *ds, const char *hpath, const char *dir, cJSON **rows, struct errlist *problems)
{
	char *dpath = xasprintf("%s.dataset", hpath);

	http_plan_load_dataset(ds, dpath, dir, rows, problems);
	free(dpath);
}

void http_plan_wire(const struct http_plan *p, const char *target, const char *body, size_t body_len,
		    struct http_wire *w)
{
	struct sb sb = SB_INIT;

	sb_printf(&sb, "%s %s HTTP/1.1\r\nHost: %s\r\n", p->method, target ? target : p->target, p->authority);
	for (size_t i = 0; i < p->n_headers; i++)
		sb_printf(&sb, "%s\r\n", p->header_lines[i]);
	if (body || strcmp(p->method, "POST") == 0 || strcmp(p->method, "PUT") == 0 ||
	    strcmp(p->method, "PATCH") == 0)
		sb_printf(&sb, "Content-Length: %zu\r\n", body_len);
	sb_puts(&sb, "\r\n");
	w->body_off = sb.len;
	if (body_len)
		sb_add(&sb, body, body_len);
	w->len = sb.len;
	w->data = sb_detach(&sb);
}

/* method, body, body_file: which request, and whether its body is JSON. */
static bool parse_method_body(struct http_plan *p, const cJSON *http, const char *hpath, struct errlist *problems)
{
	const cJSON *method = cJSON_GetObjectItemCaseSensitive(http, "method");
	const cJSON *body = cJSON_GetObjectItemCaseSensitive(http, "body");
	const cJSON *body_file = cJSON_GetObjectItemCaseSensitive(http, "body_file");

	if (method && (!cJSON_IsString(method) || !token_ok(method->valuestring)))
		errlist_add(problems, "%s.method: expected an HTTP method such as \"POST\"", hpath);
	p->method = xstrdup(cJSON_IsString(method) ? method->valuestring : (body || body_file) ? "POST" : "GET");
	p->head = strcmp(p->method, "HEAD") == 0;
	if (body && body_file)
		errlist_add(problems, "%s: give either body or body_file, not both", hpath);
	if (body_file && !cJSON_IsString(body_file))
		errlist_add(problems, "%s.body_file: expected a file name", hpath);
	if (body && !cJSON_IsString(body) && !cJSON_IsObject(body) && !cJSON_IsArray(body))
		errlist_add(problems, "%s.body: expected a JSON object or array, or a text", hpath);
	return body && (cJSON_IsObject(body) || cJSON_IsArray(body));
}

/* headers, and the ones perfgate adds (User-Agent, Content-Type for a
 * JSON body) unless given. */
static void parse_headers(struct http_plan *p, const cJSON *http, const char *hpath, bool json_body, size_t *halloc,
			  struct errlist *problems)
{
	const cJSON *headers = cJSON_GetObjectItemCaseSensitive(http, "headers"), *h;

	if (headers && !cJSON_IsObject(headers)) {
		errlist_add(problems, "%s.headers: expected an object of header names to values", hpath);
		headers = NULL; /* an array's members have no names */
	}
	cJSON_ArrayForEach(h, headers) {
		if (!token_ok(h->string) || !cJSON_IsString(h) || !value_ok(h->valuestring)) {
			errlist_add(problems, "%s.headers.%s: expected a header name and a one-line text value", hpath, h->string);
			continue;
		}
		if (strcasecmp(h->string, "host") == 0 || strcasecmp(h->string, "content-length") == 0 ||
		    strcasecmp(h->string, "transfer-encoding") == 0) {
			errlist_add(problems, "%s.headers.%s: set by perfgate; remove it", hpath, h->string);
			continue;
		}
		add_header_line(p, halloc, xasprintf("%s: %s", h->string, h->valuestring));
	}
	if (!header_set(headers, "user-agent"))
		add_header_line(p, halloc, xstrdup("User-Agent: perfgate/" PERFGATE_VERSION));
	if (json_body && !header_set(headers, "content-type"))
		add_header_line(p, halloc, xstrdup("Content-Type: application/json"));
}

/* auth_env: the Authorization header from an environment variable (read
 * only when preparing a run: dir != NULL). */
static void parse_auth(struct http_plan *p, const cJSON *http, const char *hpath, const char *dir, size_t *halloc,
		       struct errlist *problems)
{
	const cJSON *auth = cJSON_GetObjectItemCaseSensitive(http, "auth_env");
	const char *tok;

	if (!auth)
		return;
	if (!cJSON_IsString(auth) || !auth->valuestring[0]) {
		errlist_add(problems, "%s.auth_env: expected the name of an environment variable", hpath);
	} else if (header_set(cJSON_GetObjectItemCaseSensitive(http, "headers"), "authorization")) {
		errlist_add(problems, "%s.auth_env: conflicts with headers.Authorization", hpath);
	} else if (dir) {
		tok = getenv(auth->valuestring);
		if (!tok || !*tok)
			errlist_add(problems, "%s.auth_env: environment variable %s is not set", hpath, auth->valuestring);
		else if (!value_ok(tok))
			errlist_add(problems, "%s.auth_env: environment variable %s holds a line break", hpath, auth->valuestring);
		else
			add_header_line(p, halloc, strchr(tok, ' ') ? xasprintf("Authorization: %s", tok)
								   : xasprintf("Authorization: Bearer %s", tok));
	}
}

static void parse_expect(struct http_plan *p, const cJSON *http, const char *hpath, struct errlist *problems)
{
	const cJSON *expect = cJSON_GetObjectItemCaseSensitive(http, "expect_status"), *e;
	size_t k = 0;

	if (!expect)
		return;
	if (cJSON_IsNumber(expect)) {
		p->expect = xmalloc(sizeof(int));
		p->expect[0] = (int)expect->valuedouble;
		p->n_expect = 1;
		if (expect->valuedouble < 100 || expect->valuedouble > 599)
			errlist_add(problems, "%s.expect_status: expected a status 100..599", hpath);
	} else if (cJSON_IsArray(expect) && cJSON_GetArraySize(expect) > 0) {
		p->expect = xmalloc((size_t)cJSON_GetArraySize(expect) * sizeof(int));
		cJSON_ArrayForEach(e, expect) {
			if (!cJSON_IsNumber(e) || e->valuedouble < 100 || e->valuedouble > 599)
				errlist_add(problems, "%s.expect_status[%zu]: expected a status 100..599", hpath, k);
			else
				p->expect[p->n_expect++] = (int)e->valuedouble;
			k++;
		}
	} else {
		errlist_add(problems, "%s.expect_status: expected a status or an array of statuses", hpath);
	}
}

/* ca_file, stream (in http or beside it), request_slo (likewise). */
static void parse_tls_stream_slo(struct http_plan *p, const cJSON *bench, const cJSON *http, const char *path,
				 const char *hpath, const char *dir, struct errlist *problems)
{
	const cJSON *ca = cJSON_GetObjectItemCaseSensitive(http, "ca_file"), *stream, *rs;
	char *rp = NULL;

	if (ca && (!cJSON_IsString(ca) || !ca->valuestring[0]))
		errlist_add(problems, "%s.ca_file: expected a file name", hpath);
	else if (ca && dir)
		p->ca_file = ca->valuestring[0] == '/' ? xstrdup(ca->valuestring) : xasprintf("%s/%s", dir, ca->valuestring);
	stream = cJSON_GetObjectItemCaseSensitive(http, "stream");
	if (!stream)
		stream = cJSON_GetObjectItemCaseSensitive(bench, "stream");
	if (cJSON_IsString(stream) && strcmp(stream->valuestring, "sse") == 0)
		p->sse = true;
	else if (stream && !cJSON_IsFalse(stream) && !(cJSON_IsString(stream) && strcmp(stream->valuestring, "none") == 0))
		errlist_add(problems, "%s.stream: expected \"sse\" or \"none\"", hpath);
	if ((rs = cJSON_GetObjectItemCaseSensitive(http, "request_slo")))
		rp = xasprintf("%s.request_slo", hpath);
	else if ((rs = cJSON_GetObjectItemCaseSensitive(bench, "request_slo")))
		rp = xasprintf("%s.request_slo", path);
	if (rs)
		parse_rslo(p, rs, rp, problems);
	free(rp);
	for (size_t i = 0; i < p->n_rslo; i++)
		if (!p->sse && (p->rslo[i].metric == RSLO_TTFT || p->rslo[i].metric == RSLO_TPOT ||
				p->rslo[i].metric == RSLO_ITL_MAX))
			errlist_add(problems, "%s.request_slo: ttft, tpot and itl.max need \"stream\": \"sse\"", hpath);
}

/* Every distinct request serialised once: one per dataset row, or one. */
static int serialise_all(struct http_plan *p, const cJSON *http, const cJSON *rows, const char *dir,
			 const char *hpath, struct errlist *problems)
{
	const cJSON *body = cJSON_GetObjectItemCaseSensitive(http, "body");
	const cJSON *body_file = cJSON_GetObjectItemCaseSensitive(http, "body_file");
	char *file_body = NULL;
	size_t file_len = 0;

	if (cJSON_IsString(body_file)) {
		char *full = body_file->valuestring[0] == '/' ? xstrdup(body_file->valuestring)
							      : xasprintf("%s/%s", dir, body_file->valuestring);
		struct err err = ERR_INIT;
		int rc = file_read(full, &file_body, &file_len, &err);

		free(full);
		if (rc != 0) {
			errlist_add(problems, "%s.body_file: %s", hpath, err.msg);
			return ERR_INPUT;
		}
	}
	p->n_reqs = rows ? (size_t)cJSON_GetArraySize(rows) : 1;
	p->reqs = xcalloc(p->n_reqs, sizeof(*p->reqs));
	for (size_t i = 0; i < p->n_reqs; i++) {
		const cJSON *row = rows ? cJSON_GetArrayItem(rows, (int)i) : NULL;

		if (file_body) {
			http_plan_wire(p, NULL, file_body, file_len, &p->reqs[i]);
		} else if (cJSON_IsObject(body) || cJSON_IsArray(body)) {
			cJSON *b = subst_json(body, row);
			char *t = cJSON_PrintUnformatted(b);
			http_plan_wire(p, NULL, t, strlen(t), &p->reqs[i]);
			free(t);
			cJSON_Delete(b);
		} else if (cJSON_IsString(body)) {
			struct sb sb = SB_INIT;
			subst_text(&sb, body->valuestring, row);
			http_plan_wire(p, NULL, sb_str(&sb), sb.len, &p->reqs[i]);
			sb_release(&sb);
		} else {
			http_plan_wire(p, NULL, NULL, 0, &p->reqs[i]);
		}
	}
	free(file_body);
	return 0;
}

int http_plan_parse(struct http_plan **out, const cJSON *bench, const char *path, const char *dir,
		    struct errlist *problems)
{
	static const char *const keys[] = { "url", "method", "headers", "body", "body_file", "dataset",
					    "expect_status", "checks", "auth_env", "stream", "request_slo", "ca_file" };
	const cJSON *http = cJSON_GetObjectItemCaseSensitive(bench, "http"), *url, *checks, *dataset;
	struct http_plan *p = xcalloc(1, sizeof(*p));
	size_t before = problems->n, halloc = 0;
	cJSON *rows = NULL;
	bool json_body;
	char hpath[512];

	*out = NULL;
	snprintf(hpath, sizeof(hpath), "%s.http", path);
	if (!cJSON_IsObject(http)) {
		errlist_add(problems, "%s: expected an object with at least \"url\"", hpath);
		goto done;
	}
	json_check_keys(http, hpath, keys, ARRAY_SIZE(keys), problems);
	url = cJSON_GetObjectItemCaseSensitive(http, "url");
	if (!cJSON_IsString(url))
		errlist_add(problems, "%s.url: required, a string such as \"http://127.0.0.1:8000/predict\"", hpath);
	else if (parse_url(p, url->valuestring, path, problems) == 0)
		p->url = xstrdup(url->valuestring);
	json_body = parse_method_body(p, http, hpath, problems);
	parse_headers(p, http, hpath, json_body, &halloc, problems);
	parse_auth(p, http, hpath, dir, &halloc, problems);
	parse_expect(p, http, hpath, problems);
	if ((checks = cJSON_GetObjectItemCaseSensitive(http, "checks")))
		parse_checks(p, checks, path, problems);
	p->max_body = MAX_BODY_KEPT;
	parse_tls_stream_slo(p, bench, http, path, hpath, dir, problems);
	if ((dataset = cJSON_GetObjectItemCaseSensitive(http, "dataset"))) {
		if (cJSON_GetObjectItemCaseSensitive(http, "body_file"))
			errlist_add(problems, "%s.dataset: rows are substituted into body; it cannot go with body_file", hpath);
		else if (!cJSON_GetObjectItemCaseSensitive(http, "body"))
			errlist_add(problems, "%s.dataset: needs a body with {field} templates", hpath);
		else
			load_rows(dataset, hpath, dir, &rows, problems);
	}
	if (problems->n == before && dir)
		serialise_all(p, http, rows, dir, hpath, problems);
done:
	cJSON_Delete(rows);
	if (problems->n > before || !dir) {
		http_plan_free(p);
		return problems->n > before ? ERR_INPUT : 0;
	}
	*out = p;
	return 0;
}

bool http_plan_status_ok(const struct http_plan *p, int status)
{
	if (p->n_expect == 0)
		return status >= 200 && status <= 299;
	for (size_t i = 0; i < p->n_expect; i++)
		if (p->expect[i] == status)
			return true;
	return false;
}

bool http_plan_checks_pass(const struct http_plan *p, const char *body, size_t len, char *why, size_t why_len)
{
	cJSON *doc = NULL;
	bool parsed = false, ok = true;

	for (size_t i = 0; i < p->n_checks && ok; i++) {
		const struct http_check *c = &p->checks[i];

		if (c->kind == HTTP_CHECK_CONTAINS) {
			if (!memmem(body, len, c->contains, strlen(c->contains))) {
				snprintf(why, why_len, "response does not contain \"%s\"", c->contains);
				ok = false;
			}
			continue;
		}
		if (!parsed) {
			doc = cJSON_ParseWithLength(body, len);
			parsed = true;
		}
		if (!doc) {
			snprintf(why, why_len, "response is not JSON (check %s)", c->json_path);
			ok = false;
		} else {
			const cJSON *v = json_at(doc, c->json_path);

			if (!v) {
				snprintf(why, why_len, "response has no %s", c->json_path);
				ok = false;
			} else if (c->equals && !cJSON_Compare(v, c->equals, 1)) {
				char *got = cJSON_PrintUnformatted(v), *want = cJSON_PrintUnformatted(c->equals);
				snprintf(why, why_len, "%s is %.100s, expected %.100s", c->json_path, got, want);
				free(got);
				free(want);
				ok = false;
			}
		}
	}
	cJSON_Delete(doc);
	return ok;
}
