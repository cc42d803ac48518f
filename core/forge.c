/*
 * forge.c: GitHub and GitLab REST over libcurl, for the one comment per
 * suite that perfgate keeps up to date on a pull or merge request.
 */
#include "forge.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include <cjson/cJSON.h>
#include <curl/curl.h>

#include "util.h"

static char *env_dup(const char *name)
{
	const char *v = getenv(name);
	return v && *v ? xstrdup(v) : NULL;
}

static char *trim_slash(char *s)
{
	size_t n = strlen(s);
	while (n > 0 && s[n - 1] == '/')
		s[--n] = '\0';
	return s;
}

void forge_target_release(struct forge_target *t)
{
	free(t->api_url);
	free(t->repo);
	if (t->token) {
		/* Leave no copy of the secret behind in freed memory. */
		volatile char *p = t->token;
		while (*p)
			*p++ = '\0';
		free(t->token);
	}
	memset(t, 0, sizeof(*t));
}

/* pull_request.number and whether head and base repositories differ. */
static void github_event(const char *path, long *number, bool *fork)
{
	struct err err = ERR_INIT;
	char *text = NULL;
	cJSON *ev, *pr, *num, *head, *base;

	if (!path || file_read(path, &text, NULL, &err) != 0)
		return;
	ev = cJSON_Parse(text);
	free(text);
	pr = cJSON_GetObjectItemCaseSensitive(ev, "pull_request");
	num = cJSON_GetObjectItemCaseSensitive(pr, "number");
	if (cJSON_IsNumber(num) && num->valuedouble > 0)
		*number = (long)num->valuedouble;
	head = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(pr, "head"), "repo");
	base = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(pr, "base"), "repo");
	head = cJSON_GetObjectItemCaseSensitive(head, "full_name");
	base = cJSON_GetObjectItemCaseSensitive(base, "full_name");
	if (cJSON_IsString(head) && cJSON_IsString(base))
		*fork = strcmp(head->valuestring, base->valuestring) != 0;
	cJSON_Delete(ev);
}

int forge_detect(struct forge_target *t, struct err *err)
{
	const char *v;

	memset(t, 0, sizeof(*t));
	v = getenv("GITHUB_ACTIONS");
	if (v && strcmp(v, "true") == 0) {
		const char *ref = getenv("GITHUB_REF");
		t->kind = FORGE_GITHUB;
		t->api_url = env_dup("GITHUB_API_URL");
		if (!t->api_url)
			t->api_url = xstrdup("https://api.github.com");
		trim_slash(t->api_url);
		t->repo = env_dup("GITHUB_REPOSITORY");
		github_event(getenv("GITHUB_EVENT_PATH"), &t->number, &t->fork);
		if (t->number <= 0 && ref && strncmp(ref, "refs/pull/", 10) == 0) {
			char *end;
			long n = strtol(ref + 10, &end, 10);
			if (end != ref + 10 && *end == '/')
				t->number = n;
		}
		t->token = env_dup("PERFGATE_GITHUB_TOKEN");
		if (!t->token)
			t->token = env_dup("GITHUB_TOKEN");
		if (!t->repo)
			return err_set(err, ERR_NOTFOUND, "GITHUB_REPOSITORY is not set; not commenting");
		if (t->number <= 0)
			return err_set(err, ERR_NOTFOUND,
				       "not a pull request (no pull_request in GITHUB_EVENT_PATH, GITHUB_REF '%s'); not commenting",
				       ref ? ref : "");
		if (!t->token)
			return err_set(err, ERR_INPUT,
				       "no token to comment with: set PERFGATE_GITHUB_TOKEN or GITHUB_TOKEN");
		return 0;
	}
	v = getenv("GITLAB_CI");
	if (v && strcmp(v, "true") == 0) {
		const char *iid = getenv("CI_MERGE_REQUEST_IID");
		const char *src = getenv("CI_MERGE_REQUEST_SOURCE_PROJECT_ID");
		const char *dst = getenv("CI_MERGE_REQUEST_PROJECT_ID");
		t->kind = FORGE_GITLAB;
		t->api_url = env_dup("CI_API_V4_URL");
		if (t->api_url)
			trim_slash(t->api_url);
		t->repo = env_dup("CI_PROJECT_ID");
		t->token = env_dup("PERFGATE_GITLAB_TOKEN");
		t->fork = src && dst && strcmp(src, dst) != 0;
		if (iid) {
			char *end;
			long n = strtol(iid, &end, 10);
			if (end != iid && *end == '\0')
				t->number = n;
		}
		if (!t->api_url || !t->repo)
			return err_set(err, ERR_NOTFOUND, "CI_API_V4_URL or CI_PROJECT_ID is not set; not commenting");
		if (t->number <= 0)
			return err_set(err, ERR_NOTFOUND, "not a merge request pipeline (no CI_MERGE_REQUEST_IID); not commenting");
		if (!t->token)
			return err_set(err, ERR_INPUT, "no token to comment with: set PERFGATE_GITLAB_TOKEN");
		return 0;
	}
	return err_set(err, ERR_NOTFOUND, "not running in GitHub Actions or GitLab CI; not commenting");
}

char *forge_marker(const char *suite)
{
	struct sb sb = SB_INIT;

	sb_puts(&sb, "<!-- perfgate:comment suite=");
	/* "--" and ">" would end the HTML comment early. */
	for (const char *p = suite; *p; p++)
		sb_putc(&sb, (*p == '-' && p[1] == '-') || *p == '>' ? '_' : *p);
	sb_puts(&sb, " -->");
	return sb_detach(&sb);
}

/* ---- one HTTP exchange, with retries ---- */

struct response {
	long status;
	struct sb body;
	char *next;           /* the next page's URL (Link rel="next"), or NULL */
	char *next_page;      /* GitLab's X-Next-Page, or NULL */
	double retry_after;   /* seconds, < 0 when absent */
	bool rate_limited;    /* x-ratelimit-remaining: 0 */
};

static void response_reset(struct response *r)
{
	sb_release(&r->body);
	free(r->next);
	free(r->next_page);
	memset(r, 0, sizeof(*r));
	r->retry_after = -1;
}

static size_t on_body(char *data, size_t size, size_t n, void *arg)
{
	struct response *r = arg;
	sb_add(&r->body, data, size * n);
	return size * n;
}

/* The value of a header line "Name: value" when the name matches, trimmed. */
static char *header_value(const char *line, size_t len, const char *name)
{
	size_t nlen = strlen(name);
	const char *v, *end = line + len;

	if (len <= nlen || strncasecmp(line, name, nlen) != 0 || line[nlen] != ':')
		return NULL;
	v = line + nlen + 1;
	while (v < end && (*v == ' ' || *v == '\t'))
		v++;
	while (end > v && (end[-1] == '\r' || end[-1] == '\n' || end[-1] == ' '))
		end--;
	return xstrndup(v, (size_t)(end - v));
}

/* From `<url1>; rel="next", <url2>; rel="last"`, the URL whose rel is next. */
static char *link_next(const char *link)
{
	const char *p = link;

	while ((p = strchr(p, '<')) != NULL) {
		const char *close = strchr(p, '>');
		const char *comma;
		if (!close)
			return NULL;
		comma = strchr(close, ',');
		if (!comma)
			comma = close + strlen(close);
		for (const char *q = close; q + 10 <= comma; q++)
			if (strncmp(q, "rel=\"next\"", 10) == 0)
				return xstrndup(p + 1, (size_t)(close - p - 1));
		p = comma;
	}
	return NULL;
}

static size_t on_header(char *data, size_t size, size_t n, void *arg)
{
	struct response *r = arg;
	size_t len = size * n;
	char *v;

	/* A new status line (after a redirect or 100 Continue) starts afresh. */
	if (len >= 5 && strncmp(data, "HTTP/", 5) == 0) {
		free(r->next);
		free(r->next_page);
		r->next = r->next_page = NULL;
		r->retry_after = -1;
		r->rate_limited = false;
	} else if ((v = header_value(data, len, "Link")) != NULL) {
		free(r->next);
		r->next = link_next(v);
		free(v);
	} else if ((v = header_value(data, len, "X-Next-Page")) != NULL) {
		free(r->next_page);
		r->next_page = *v ? v : NULL;
		if (!r->next_page)
			free(v);
	} else if ((v = header_value(data, len, "Retry-After")) != NULL) {
		char *end;
		double secs = strtod(v, &end);
		r->retry_after = end != v && isfinite(secs) && secs >= 0 ? secs : 1;
		free(v);
	} else if ((v = header_value(data, len, "X-RateLimit-Remaining")) != NULL) {
		r->rate_limited = strcmp(v, "0") == 0;
		free(v);
	}
	return len;
}

static void sleep_seconds(double s)
{
	struct timespec ts;

	if (s <= 0)
		return;
	ts.tv_sec = (time_t)s;
	ts.tv_nsec = (long)((s - (double)ts.tv_sec) * 1e9);
	while (nanosleep(&ts, &ts) != 0 && errno == EINTR)
		;
}

static bool transient_curl(CURLcode c)
{
	return c == CURLE_OPERATION_TIMEDOUT || c == CURLE_COULDNT_CONNECT ||
	       c == CURLE_RECV_ERROR || c == CURLE_SEND_ERROR || c == CURLE_GOT_NOTHING ||
	       c == CURLE_PARTIAL_FILE || c == CURLE_COULDNT_RESOLVE_HOST;
}

/* Everything the user may see about a request: method and path, no query, no token. */
static void describe(char *buf, size_t len, const char *method, const char *url)
{
	const char *path = strstr(url, "://");
	size_t n;

	path = path ? strchr(path + 3, '/') : url;
	if (!path)
		path = "/";
	n = strcspn(path, "?");
	snprintf(buf, len, "%s %.*s", method, (int)(n > 200 ? 200 : n), path);
}

static int request(const struct forge_target *t, const char *method, const char *url,
		   const char *json, const struct forge_options *o, struct response *r,
		   struct err *err)
{
	struct curl_slist *headers = NULL;
	char *auth = NULL, what[256];
	double wait = o->backoff;
	CURLcode cc = CURLE_OK;
	CURL *curl;
	int rc = 0;

	describe(what, sizeof(what), method, url);
	curl = curl_easy_init();
	if (!curl)
		return err_set(err, ERR_INFRA, "%s: cannot initialise libcurl", what);
	if (t->kind == FORGE_GITHUB) {
		auth = xasprintf("Authorization: Bearer %s", t->token);
		headers = curl_slist_append(headers, "Accept: application/vnd.github+json");
		headers = curl_slist_append(headers, "X-GitHub-Api-Version: 2022-11-28");
	} else {
		auth = xasprintf("PRIVATE-TOKEN: %s", t->token);
		headers = curl_slist_append(headers, "Accept: application/json");
	}
	headers = curl_slist_append(headers, auth);
	if (json)
		headers = curl_slist_append(headers, "Content-Type: application/json");

	for (int attempt = 1;; attempt++) {
		bool retry = false;
		double pause;

		response_reset(r);
		curl_easy_reset(curl);
		curl_easy_setopt(curl, CURLOPT_URL, url);
		curl_easy_setopt(curl, CURLOPT_CUSTOMREQUEST, method);
		curl_easy_setopt(curl, CURLOPT_HTTPHEADER, headers);
		curl_easy_setopt(curl, CURLOPT_USERAGENT, "perfgate/" PERFGATE_VERSION);
		curl_easy_setopt(curl, CURLOPT_TIMEOUT_MS, (long)(o->timeout * 1000));
		curl_easy_setopt(curl, CURLOPT_CONNECTTIMEOUT_MS, (long)(o->timeout * 1000));
		curl_easy_setopt(curl, CURLOPT_NOSIGNAL, 1L);
		curl_easy_setopt(curl, CURLOPT_WRITEFUNCTION, on_body);
		curl_easy_setopt(curl, CURLOPT_WRITEDATA, r);
		curl_easy_setopt(curl, CURLOPT_HEADERFUNCTION, on_header);
		curl_easy_setopt(curl, CURLOPT_HEADERDATA, r);
		curl_easy_setopt(curl, CURLOPT_PROTOCOLS_STR, "http,https");
		if (json) {
			curl_easy_setopt(curl, CURLOPT_POSTFIELDS, json);
			curl_easy_setopt(curl, CURLOPT_POSTFIELDSIZE, (long)strlen(json));
		}
		cc = curl_easy_perform(curl);
		if (cc == CURLE_OK)
			curl_easy_getinfo(curl, CURLINFO_RESPONSE_CODE, &r->status);

		if (cc != CURLE_OK)
			retry = transient_curl(cc);
		else if (r->status == 429 || r->status >= 500)
			retry = true;
		else if (r->status == 403 && (r->rate_limited || r->retry_after >= 0))
			retry = true; /* GitHub's primary and secondary rate limits */
		if (!retry || attempt >= o->max_attempts)
			break;
		pause = r->retry_after >= 0 ? r->retry_after : wait;
		sleep_seconds(pause > o->max_wait ? o->max_wait : pause);
		wait *= 2;
	}

	if (cc != CURLE_OK)
		rc = err_set(err, ERR_INFRA, "%s: %s", what, curl_easy_strerror(cc));
	else if (r->status < 200 || r->status >= 300)
		rc = err_set(err, ERR_INFRA, "%s: HTTP %ld%s", what, r->status,
			     r->status == 401 ? " (the token was refused)" :
			     r->status == 404 ? " (not found, or the token cannot see it)" :
			     r->status == 429 ? " (rate limited; gave up retrying)" : "");
	curl_slist_free_all(headers);
	if (auth) {
		memset(auth, 0, strlen(auth));
		free(auth);
	}
	curl_easy_cleanup(curl);
	return rc;
}

/* ---- the comment ---- */

static char *url_escape(const char *s)
{
	struct sb sb = SB_INIT;

	for (const unsigned char *p = (const unsigned char *)s; *p; p++) {
		if (isalnum(*p) || *p == '-' || *p == '_' || *p == '.' || *p == '~')
			sb_putc(&sb, (char)*p);
		else
			sb_printf(&sb, "%%%02X", *p);
	}
	return sb_detach(&sb);
}

static char *list_url(const struct forge_target *t)
{
	if (t->kind == FORGE_GITHUB)
		return xasprintf("%s/repos/%s/issues/%ld/comments?per_page=100", t->api_url, t->repo,
				 t->number);
	{
		char *id = url_escape(t->repo);
		char *u = xasprintf("%s/projects/%s/merge_requests/%ld/notes?per_page=100&sort=asc&order_by=created_at",
				    t->api_url, id, t->number);
		free(id);
		return u;
	}
}

static char *item_url(const struct forge_target *t, const char *id)
{
	if (t->kind == FORGE_GITHUB)
		return xasprintf("%s/repos/%s/issues/comments/%s", t->api_url, t->repo, id);
	{
		char *pid = url_escape(t->repo);
		char *u = xasprintf("%s/projects/%s/merge_requests/%ld/notes/%s", t->api_url, pid,
				    t->number, id);
		free(pid);
		return u;
	}
}

static char *create_url(const struct forge_target *t)
{
	char *u = list_url(t);
	u[strcspn(u, "?")] = '\0';
	return u;
}

/* One part of a URL (scheme, host, port with the scheme's default filled
 * in), lower-cased; NULL when the URL does not parse. */
static char *url_part(const char *url, CURLUPart what)
{
	CURLU *u = curl_url();
	char *part = NULL, *out = NULL;

	if (u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK &&
	    curl_url_get(u, what, &part, CURLU_DEFAULT_PORT) == CURLUE_OK && part) {
		out = xstrdup(part);
		for (char *p = out; *p; p++)
			*p = (char)tolower((unsigned char)*p);
	}
	curl_free(part);
	curl_url_cleanup(u);
	return out;
}

/* Same scheme, host and port: the only pages the token may be sent to. */
static bool same_origin(const char *a, const char *b)
{
	static const CURLUPart parts[] = { CURLUPART_SCHEME, CURLUPART_HOST, CURLUPART_PORT };
	bool same = true;

	for (size_t i = 0; i < ARRAY_SIZE(parts) && same; i++) {
		char *x = url_part(a, parts[i]), *y = url_part(b, parts[i]);

		same = x && y && strcmp(x, y) == 0;
		free(x);
		free(y);
	}
	return same;
}

/* The next page's URL: Link rel="next", else GitLab's X-Next-Page. */
static char *next_page_url(const char *current, const struct response *r)
{
	struct sb sb = SB_INIT;
	const char *page;

	if (r->next)
		return xstrdup(r->next);
	if (!r->next_page)
		return NULL;
	page = strstr(current, "&page=");
	if (!page)
		page = strstr(current, "?page=");
	if (page) {
		const char *rest = page + 6;
		rest += strspn(rest, "0123456789");
		sb_add(&sb, current, (size_t)(page - current) + 6);
		sb_puts(&sb, r->next_page);
		sb_puts(&sb, rest);
	} else {
		sb_printf(&sb, "%s%cpage=%s", current, strchr(current, '?') ? '&' : '?', r->next_page);
	}
	return sb_detach(&sb);
}

/* Page through all comments; *id_out gets the first one whose body has the marker. */
static int find_comment(const struct forge_target *t, const char *marker,
			const struct forge_options *o, char **id_out, struct err *err)
{
	struct response r = { 0 };
	char *url = list_url(t);
	int rc = 0, pages = 0;

	*id_out = NULL;
	while (url && !*id_out) {
		cJSON *list, *it;

		if (++pages > 1000) {
			rc = err_set(err, ERR_INFRA, "more than 1000 pages of comments; giving up");
			break;
		}
		if ((rc = request(t, "GET", url, NULL, o, &r, err)))
			break;
		list = cJSON_Parse(sb_str(&r.body));
		if (!cJSON_IsArray(list)) {
			char what[256];
			describe(what, sizeof(what), "GET", url);
			rc = err_set(err, ERR_INFRA, "%s: the answer is not a JSON array of comments", what);
			cJSON_Delete(list);
			break;
		}
		cJSON_ArrayForEach(it, list) {
			const cJSON *body = cJSON_GetObjectItemCaseSensitive(it, "body");
			const cJSON *id = cJSON_GetObjectItemCaseSensitive(it, "id");
			if (cJSON_IsString(body) && cJSON_IsNumber(id) && strstr(body->valuestring, marker)) {
				*id_out = xasprintf("%.0f", id->valuedouble);
				break;
			}
		}
		cJSON_Delete(list);
		{
			char *next = next_page_url(url, &r);
			free(url);
			url = next;
		}
		/* The Authorization header goes only to the API's own origin: a
		 * next-page link elsewhere (a proxy's rewrite, a hostile answer)
		 * is not followed. */
		if (url && !same_origin(url, t->api_url)) {
			char *host = url_part(url, CURLUPART_HOST);
			rc = err_set(err, ERR_INFRA,
				     "the comments' next-page link points outside %s (to host '%s'); not followed, so that the token stays with the API",
				     t->api_url, host ? host : "?");
			free(host);
			break;
		}
	}
	free(url);
	response_reset(&r);
	return rc;
}

int forge_upsert_comment(const struct forge_target *t, const char *marker, const char *body,
			 const struct forge_options *opts, enum forge_outcome *outcome,
			 struct err *err)
{
	static const struct forge_options defaults = FORGE_OPTIONS_INIT;
	const struct forge_options *o = opts ? opts : &defaults;
	struct response r = { 0 };
	char *id = NULL, *url = NULL, *json = NULL;
	cJSON *payload;
	int rc;

	if ((rc = find_comment(t, marker, o, &id, err)))
		goto done;
	payload = cJSON_CreateObject();
	cJSON_AddStringToObject(payload, "body", body);
	json = cJSON_PrintUnformatted(payload);
	cJSON_Delete(payload);
	if (id) {
		url = item_url(t, id);
		rc = request(t, t->kind == FORGE_GITHUB ? "PATCH" : "PUT", url, json, o, &r, err);
		*outcome = FORGE_UPDATED;
	} else {
		url = create_url(t);
		rc = request(t, "POST", url, json, o, &r, err);
		*outcome = FORGE_CREATED;
	}
	if (rc && r.status == 403) {
		/* Not a rate limit (those were retried): the token may not write,
		 * as with a pull request from a fork. */
		*outcome = FORGE_READONLY;
		rc = 0;
	}
done:
	free(id);
	free(url);
	free(json);
	response_reset(&r);
	return rc;
}

int forge_step_summary(const char *markdown, struct err *err)
{
	const char *path = getenv("GITHUB_STEP_SUMMARY");
	FILE *f;
	size_t len = strlen(markdown);

	if (!path || !*path)
		return 0;
	f = fopen(path, "a");
	if (!f)
		return err_sys(err, ERR_FAIL, "cannot append the job summary to '%s'", path);
	if (fwrite(markdown, 1, len, f) != len || (len && markdown[len - 1] != '\n' && fputc('\n', f) == EOF)) {
		fclose(f);
		return err_sys(err, ERR_FAIL, "cannot write the job summary '%s'", path);
	}
	if (fclose(f) != 0)
		return err_sys(err, ERR_FAIL, "cannot write the job summary '%s'", path);
	return 0;
}

/* Workflow-command escaping: data escapes % CR LF; properties also : and ,. */
static void escape_cmd(struct sb *out, const char *s, bool property)
{
	for (; *s; s++) {
		switch (*s) {
		case '%': sb_puts(out, "%25"); break;
		case '\r': sb_puts(out, "%0D"); break;
		case '\n': sb_puts(out, "%0A"); break;
		case ':': sb_puts(out, property ? "%3A" : ":"); break;
		case ',': sb_puts(out, property ? "%2C" : ","); break;
		default: sb_putc(out, *s);
		}
	}
}

void forge_annotation(struct sb *out, enum forge_level level, const char *title, const char *message)
{
	static const char *const names[] = { "notice", "warning", "error" };

	sb_printf(out, "::%s", names[level]);
	if (title && *title) {
		sb_puts(out, " title=");
		escape_cmd(out, title, true);
	}
	sb_puts(out, "::");
	escape_cmd(out, message, false);
	sb_putc(out, '\n');
}
