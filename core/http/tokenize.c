/*
 * tokenize.c: token counts from the server's tokenize endpoint (see
 * tokenize.h).
 */
#include "tokenize.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <curl/curl.h>

#include "../json.h"
#include "../util.h"
#include "prompts.h"

#define MAX_ANSWER (64u << 20) /* bytes of a tokenize answer kept (8,192 ids is about 60 KiB) */

struct http_tokenize {
	CURL *curl;
	struct curl_slist *headers;
	char *url;
	bool chat;
	char *model;
	cJSON *body;            /* template, or NULL */
	char *count_path;
	struct sb answer;
	bool too_big;
	long calls;
};

void http_tokenize_free(struct http_tokenize *t)
{
	if (!t)
		return;
	if (t->curl)
		curl_easy_cleanup(t->curl);
	curl_slist_free_all(t->headers);
	free(t->url);
	free(t->model);
	cJSON_Delete(t->body);
	free(t->count_path);
	sb_release(&t->answer);
	free(t);
}

long http_tokenize_calls(const struct http_tokenize *t)
{
	return t->calls;
}

static size_t on_data(char *data, size_t size, size_t n, void *arg)
{
	struct http_tokenize *t = arg;

	if (t->answer.len + size * n > MAX_ANSWER)
		t->too_big = true;
	else
		sb_add(&t->answer, data, size * n);
	return size * n;
}

int http_tokenize_open(struct http_tokenize **out, const struct http_tokenize_options *o, struct err *err)
{
	struct http_tokenize *t = xcalloc(1, sizeof(*t));

	*out = NULL;
	t->curl = curl_easy_init();
	if (!t->curl) {
		http_tokenize_free(t);
		return err_set(err, ERR_FAIL, "tokenize: cannot start libcurl");
	}
	t->url = xstrdup(o->url);
	t->chat = o->chat;
	t->model = o->model ? xstrdup(o->model) : NULL;
	t->body = o->body ? cJSON_Duplicate(o->body, 1) : NULL;
	t->count_path = o->count_path ? xstrdup(o->count_path) : NULL;
	t->headers = curl_slist_append(NULL, "Content-Type: application/json");
	for (size_t i = 0; i < o->n_headers; i++)
		if (strncasecmp(o->headers[i], "content-type:", 13) != 0)
			t->headers = curl_slist_append(t->headers, o->headers[i]);
	curl_easy_setopt(t->curl, CURLOPT_URL, t->url);
	curl_easy_setopt(t->curl, CURLOPT_HTTPHEADER, t->headers);
	curl_easy_setopt(t->curl, CURLOPT_USERAGENT, "perfgate/" PERFGATE_VERSION);
	curl_easy_setopt(t->curl, CURLOPT_TIMEOUT_MS, (long)((o->timeout > 0 ? o->timeout : 30) * 1000));
	curl_easy_setopt(t->curl, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(t->curl, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(t->curl, CURLOPT_WRITEDATA, t);
	curl_easy_setopt(t->curl, CURLOPT_PROTOCOLS_STR, "http,https");
	if (o->ca_file)
		curl_easy_setopt(t->curl, CURLOPT_CAINFO, o->ca_file);
	*out = t;
	return 0;
}

/* A copy of the template with "{prompt}", "{messages}" and "{model}"
 * strings replaced. */
static cJSON *fill(const cJSON *node, const char *prompt, const cJSON *messages, const char *model)
{
	const cJSON *it;
	cJSON *copy;

	if (cJSON_IsString(node)) {
		if (strcmp(node->valuestring, "{prompt}") == 0)
			return cJSON_CreateString(prompt);
		if (strcmp(node->valuestring, "{messages}") == 0)
			return cJSON_Duplicate(messages, 1);
		if (strcmp(node->valuestring, "{model}") == 0)
			return model ? cJSON_CreateString(model) : cJSON_CreateNull();
		return cJSON_Duplicate(node, 1);
	}
	if (!cJSON_IsArray(node) && !cJSON_IsObject(node))
		return cJSON_Duplicate(node, 1);
	copy = cJSON_IsArray(node) ? cJSON_CreateArray() : cJSON_CreateObject();
	cJSON_ArrayForEach(it, node) {
		cJSON *c = fill(it, prompt, messages, model);

		if (cJSON_IsArray(node))
			cJSON_AddItemToArray(copy, c);
		else
			cJSON_AddItemToObject(copy, it->string, c);
	}
	return copy;
}

static char *request_body(const struct http_tokenize *t, const char *prefix, const char *text)
{
	struct sb prompt = SB_INIT;
	cJSON *messages = http_prompts_messages(prefix, text), *body;
	char *json;

	http_prompts_join(&prompt, prefix, text);
	if (t->body) {
		body = fill(t->body, sb_str(&prompt), messages, t->model);
	} else {
		body = cJSON_CreateObject();
		if (t->model)
			cJSON_AddStringToObject(body, "model", t->model);
		if (t->chat)
			cJSON_AddItemToObject(body, "messages", cJSON_Duplicate(messages, 1));
		else
			cJSON_AddStringToObject(body, "prompt", sb_str(&prompt));
	}
	json = cJSON_PrintUnformatted(body);
	cJSON_Delete(body);
	cJSON_Delete(messages);
	sb_release(&prompt);
	return json;
}

static bool count_of(const cJSON *v, long *out)
{
	if (cJSON_IsArray(v)) {
		*out = cJSON_GetArraySize(v);
		return true;
	}
	if (cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble < 1e12 && v->valuedouble == floor(v->valuedouble)) {
		*out = (long)v->valuedouble;
		return true;
	}
	return false;
}

int http_tokenize_read_count(const char *body, size_t len, const char *count_path, long *out)
{
	static const char *const keys[] = { "count", "tokens", "tokenize_response" };
	cJSON *j = cJSON_ParseWithLength(body, len);
	bool ok = false;

	if (!j)
		return -1;
	if (count_path) {
		ok = count_of(json_at(j, count_path), out);
	} else if (cJSON_IsArray(j)) {
		ok = count_of(j, out);
	} else if (cJSON_IsObject(j)) {
		for (size_t i = 0; i < ARRAY_SIZE(keys) && !ok; i++) {
			const cJSON *v = cJSON_GetObjectItemCaseSensitive(j, keys[i]);

			ok = v && (i == 0 ? cJSON_IsNumber(v) : cJSON_IsArray(v)) && count_of(v, out);
		}
	}
	cJSON_Delete(j);
	return ok ? 0 : -1;
}

int http_tokenize_count(void *arg, const char *prefix, const char *text, long *tokens, struct err *err)
{
	struct http_tokenize *t = arg;
	char *json = request_body(t, prefix, text);
	long status = 0;
	CURLcode cc;
	int rc = 0;

	sb_reset(&t->answer);
	t->too_big = false;
	curl_easy_setopt(t->curl, CURLOPT_POSTFIELDS, json);
	curl_easy_setopt(t->curl, CURLOPT_POSTFIELDSIZE, (long)strlen(json));
	cc = curl_easy_perform(t->curl);
	t->calls++;
	if (cc != CURLE_OK) {
		rc = err_set(err, ERR_RUN, "tokenize endpoint %s: %s", t->url, curl_easy_strerror(cc));
		goto done;
	}
	curl_easy_getinfo(t->curl, CURLINFO_RESPONSE_CODE, &status);
	if (status != 200) {
		rc = err_set(err, ERR_RUN, "tokenize endpoint %s: status %ld: %.200s", t->url, status, sb_str(&t->answer));
		goto done;
	}
	if (t->too_big || http_tokenize_read_count(t->answer.buf, t->answer.len, t->count_path, tokens) != 0) {
		rc = err_set(err, ERR_RUN,
			     "tokenize endpoint %s: no token count in its answer (expected %s): %.120s", t->url,
			     t->count_path ? t->count_path : "{\"count\": N}, {\"tokens\": [...]} or a list of tokens",
			     sb_str(&t->answer));
		goto done;
	}
done:
	free(json);
	return rc;
}
