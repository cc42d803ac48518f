/*
 * capture.c: values captured from responses (see capture.h).
 */
#include "capture.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "../json.h"
#include "../util.h"

static void capture_release(struct http_capture *c)
{
	if (c->source == HTTP_CAPTURE_REGEX && c->expr)
		regfree(&c->re);
	free(c->name);
	free(c->expr);
}

void http_capture_release(struct http_capture_set *s)
{
	for (size_t i = 0; i < s->n; i++)
		capture_release(&s->caps[i]);
	free(s->caps);
	memset(s, 0, sizeof(*s));
}

static bool name_ok(const char *s)
{
	if (!*s || strlen(s) > 64)
		return false;
	for (; *s; s++)
		if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-' && *s != '.')
			return false;
	return true;
}

/* "$", then ".key" and "[N]" steps, as json_at reads them. */
static bool path_ok(const char *s)
{
	if (*s++ != '$')
		return false;
	while (*s) {
		if (*s == '.') {
			size_t n = strcspn(++s, ".[");

			if (n == 0)
				return false;
			s += n;
		} else if (*s == '[') {
			char *end;

			strtol(s + 1, &end, 10);
			if (end == s + 1 || *end != ']' || s[1] == '-')
				return false;
			s = end + 1;
		} else {
			return false;
		}
	}
	return true;
}

static int compile_regex(struct http_capture *c, const cJSON *spec, const char *cpath, struct errlist *problems)
{
	const cJSON *g = cJSON_GetObjectItemCaseSensitive(spec, "group");
	int rc = regcomp(&c->re, c->expr, REG_EXTENDED);

	if (rc != 0) {
		char msg[200];

		regerror(rc, &c->re, msg, sizeof(msg));
		errlist_add(problems, "%s.regex: not a POSIX extended regular expression: %s", cpath, msg);
		free(c->expr);
		c->expr = NULL; /* nothing to regfree */
		return ERR_INPUT;
	}
	c->group = c->re.re_nsub > 0 ? 1 : 0;
	if (g) {
		if (!json_is_int(g) || g->valuedouble < 0) {
			errlist_add(problems, "%s.group: expected an integer >= 0", cpath);
			return ERR_INPUT;
		}
		if ((size_t)g->valuedouble > c->re.re_nsub) {
			errlist_add(problems, "%s.group: the pattern has %zu group(s)", cpath, c->re.re_nsub);
			return ERR_INPUT;
		}
		c->group = (size_t)g->valuedouble;
	}
	return 0;
}

/* One entry: "name": {"json" | "header" | "regex": ..., "group", "optional"}. */
static int parse_one(struct http_capture *c, const cJSON *spec, const char *path, struct errlist *problems)
{
	static const char *const keys[] = { "json", "header", "regex", "group", "optional" };
	static const char *const sources[] = { "json", "header", "regex" };
	char *cpath = xasprintf("%s.%s", path, spec->string);
	const cJSON *opt, *src = NULL;
	size_t before = problems->n, found = 0;

	c->name = xstrdup(spec->string);
	if (!name_ok(spec->string))
		errlist_add(problems, "%s: a capture name is letters, digits, '_', '-' or '.' (at most 64)", cpath);
	if (!cJSON_IsObject(spec)) {
		json_expected(problems, cpath, "an object such as {\"json\": \"$.id\"}", spec);
		goto done;
	}
	json_check_keys(spec, cpath, keys, ARRAY_SIZE(keys), problems);
	for (size_t k = 0; k < ARRAY_SIZE(sources); k++) {
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(spec, sources[k]);

		if (!v)
			continue;
		found++;
		src = v;
		c->source = (enum http_capture_source)k;
	}
	if (found != 1) {
		errlist_add(problems, "%s: expected exactly one of \"json\", \"header\" or \"regex\"", cpath);
		goto done;
	}
	if (!cJSON_IsString(src) || !src->valuestring[0]) {
		errlist_add(problems, "%s.%s: expected a non-empty string", cpath, sources[c->source]);
		goto done;
	}
	if (c->source == HTTP_CAPTURE_JSON && !path_ok(src->valuestring))
		errlist_add(problems, "%s.json: expected a JSON path such as \"$.hits[0].id\"", cpath);
	c->expr = xstrdup(src->valuestring);
	if (c->source == HTTP_CAPTURE_REGEX)
		compile_regex(c, spec, cpath, problems);
	else if (cJSON_GetObjectItemCaseSensitive(spec, "group"))
		errlist_add(problems, "%s.group: only a regex capture has groups", cpath);
	opt = cJSON_GetObjectItemCaseSensitive(spec, "optional");
	if (opt && !cJSON_IsBool(opt))
		errlist_add(problems, "%s.optional: expected true or false", cpath);
	c->optional = cJSON_IsTrue(opt);
done:
	free(cpath);
	return problems->n > before ? ERR_INPUT : 0;
}

int http_capture_parse(struct http_capture_set *out, const cJSON *obj, const char *path, struct errlist *problems)
{
	const cJSON *it;
	size_t before = problems->n;

	memset(out, 0, sizeof(*out));
	if (!cJSON_IsObject(obj)) {
		json_expected(problems, path, "an object of names to captures such as {\"id\": {\"json\": \"$.id\"}}",
			      obj);
		return ERR_INPUT;
	}
	out->caps = xcalloc((size_t)cJSON_GetArraySize(obj) + 1, sizeof(*out->caps));
	cJSON_ArrayForEach(it, obj) {
		struct http_capture *c = &out->caps[out->n++];

		parse_one(c, it, path, problems);
		out->needs_headers |= c->source == HTTP_CAPTURE_HEADER;
		out->needs_body |= c->source != HTTP_CAPTURE_HEADER;
	}
	for (size_t i = 0; i < out->n; i++)
		for (size_t k = 0; k < i; k++)
			if (strcmp(out->caps[i].name, out->caps[k].name) == 0)
				errlist_add(problems, "%s.%s: duplicate key", path, out->caps[i].name);
	if (problems->n > before) {
		http_capture_release(out);
		return ERR_INPUT;
	}
	return 0;
}

const char *http_capture_header(const char *h, size_t len, const char *name, size_t *value_len)
{
	size_t nlen = strlen(name);
	const char *end = h + len;

	while (h < end) {
		const char *eol = memchr(h, '\n', (size_t)(end - h)), *line_end = eol ? eol : end;
		const char *colon = memchr(h, ':', (size_t)(line_end - h));

		if (colon && (size_t)(colon - h) == nlen && strncasecmp(h, name, nlen) == 0) {
			const char *v = colon + 1, *ve = line_end;

			while (v < ve && (*v == ' ' || *v == '\t'))
				v++;
			while (ve > v && (ve[-1] == '\r' || ve[-1] == ' ' || ve[-1] == '\t'))
				ve--;
			*value_len = (size_t)(ve - v);
			return v;
		}
		h = eol ? eol + 1 : end;
	}
	return NULL;
}

static cJSON *regex_value(const struct http_capture *c, const struct http_capture_response *r, char *why,
			  size_t why_len)
{
	regmatch_t m[10];
	size_t ng = c->group + 1 < ARRAY_SIZE(m) ? c->group + 1 : ARRAY_SIZE(m);
	char *text;
	cJSON *v;

	if (c->group >= ARRAY_SIZE(m)) {
		snprintf(why, why_len, "capture %s: group %zu is past the 9 perfgate reads", c->name, c->group);
		return NULL;
	}
	/* REG_STARTEND: the body is not NUL-terminated and may hold NULs */
	m[0].rm_so = 0;
	m[0].rm_eo = (regoff_t)r->body_len;
	if (!r->body || regexec(&c->re, r->body, ng, m, REG_STARTEND) != 0) {
		snprintf(why, why_len, "capture %s: /%.80s/ does not match the response", c->name, c->expr);
		return NULL;
	}
	if (m[c->group].rm_so < 0) {
		snprintf(why, why_len, "capture %s: group %zu of /%.80s/ took no part in the match", c->name, c->group,
			 c->expr);
		return NULL;
	}
	text = xstrndup(r->body + m[c->group].rm_so, (size_t)(m[c->group].rm_eo - m[c->group].rm_so));
	v = cJSON_CreateString(text);
	free(text);
	return v;
}

cJSON *http_capture_value(const struct http_capture *c, const struct http_capture_response *r, const cJSON *doc,
			  char *why, size_t why_len)
{
	switch (c->source) {
	case HTTP_CAPTURE_JSON: {
		const cJSON *v;

		if (!doc) {
			snprintf(why, why_len, "capture %s: the response is not JSON (looking for %.80s)", c->name, c->expr);
			return NULL;
		}
		v = json_at(doc, c->expr);
		if (!v) {
			snprintf(why, why_len, "capture %s: no %.80s in the response", c->name, c->expr);
			return NULL;
		}
		return cJSON_Duplicate(v, true);
	}
	case HTTP_CAPTURE_HEADER: {
		size_t vlen;
		const char *v = http_capture_header(r->headers ? r->headers : "", r->headers_len, c->expr, &vlen);
		char *text;
		cJSON *s;

		if (!v) {
			snprintf(why, why_len, "capture %s: no %.80s header in the response", c->name, c->expr);
			return NULL;
		}
		text = xstrndup(v, vlen);
		s = cJSON_CreateString(text);
		free(text);
		return s;
	}
	case HTTP_CAPTURE_REGEX:
		return regex_value(c, r, why, why_len);
	}
	return NULL;
}

int http_capture_apply(const struct http_capture_set *s, const struct http_capture_response *r, cJSON *vars,
		       char *why, size_t why_len)
{
	cJSON *doc = NULL;
	bool parsed = false;
	int rc = 0;

	for (size_t i = 0; i < s->n; i++) {
		const struct http_capture *c = &s->caps[i];
		cJSON *v;

		if (c->source == HTTP_CAPTURE_JSON && !parsed) {
			doc = r->body ? cJSON_ParseWithLength(r->body, r->body_len) : NULL;
			parsed = true;
		}
		v = http_capture_value(c, r, doc, why, why_len);
		if (!v) {
			if (c->optional) {
				cJSON_DeleteItemFromObjectCaseSensitive(vars, c->name);
				continue;
			}
			rc = ERR_NOTFOUND;
			break;
		}
		if (cJSON_GetObjectItemCaseSensitive(vars, c->name))
			cJSON_ReplaceItemInObjectCaseSensitive(vars, c->name, v);
		else
			cJSON_AddItemToObject(vars, c->name, v);
	}
	cJSON_Delete(doc);
	return rc;
}
