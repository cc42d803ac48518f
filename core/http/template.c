/*
 * template.c: `{name}` templates (see template.h).
 */
#include "template.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

static bool name_char(char c)
{
	return isalnum((unsigned char)c) || c == '_' || c == '-' || c == '.';
}

/* The length of a `{name}` at s (0 when s does not start one). */
static size_t name_at(const char *s)
{
	size_t n = 1;

	if (*s != '{')
		return 0;
	while (name_char(s[n]))
		n++;
	return n > 1 && s[n] == '}' ? n + 1 : 0;
}

static void put_escaped(struct sb *out, const char *s, size_t len, enum http_template_escape esc)
{
	static const char hex[] = "0123456789ABCDEF";

	if (esc == HTTP_TEMPLATE_RAW) {
		sb_add(out, s, len);
		return;
	}
	for (size_t i = 0; i < len; i++) {
		unsigned char c = (unsigned char)s[i];

		if (isalnum(c) || c == '-' || c == '.' || c == '_' || c == '~') {
			sb_putc(out, (char)c);
		} else {
			sb_putc(out, '%');
			sb_putc(out, hex[c >> 4]);
			sb_putc(out, hex[c & 15]);
		}
	}
}

static const cJSON *lookup(const cJSON *vars, const char *name, size_t len)
{
	const cJSON *it;

	cJSON_ArrayForEach(it, vars)
		if (it->string && strlen(it->string) == len && memcmp(it->string, name, len) == 0)
			return it;
	return NULL;
}

void http_template_text(struct sb *out, const char *s, const cJSON *vars, enum http_template_escape esc)
{
	while (*s) {
		size_t n = name_at(s);
		const cJSON *v = n && vars ? lookup(vars, s + 1, n - 2) : NULL;

		if (!v) {
			sb_putc(out, *s++);
			continue;
		}
		if (cJSON_IsString(v)) {
			put_escaped(out, v->valuestring, strlen(v->valuestring), esc);
		} else {
			char *t = cJSON_PrintUnformatted(v);

			put_escaped(out, t, strlen(t), esc);
			free(t);
		}
		s += n;
	}
}

cJSON *http_template_json(const cJSON *node, const cJSON *vars)
{
	cJSON *copy;
	const cJSON *it;

	if (cJSON_IsString(node)) {
		size_t len = strlen(node->valuestring);
		struct sb sb = SB_INIT;

		if (len > 2 && name_at(node->valuestring) == len) {
			const cJSON *v = lookup(vars, node->valuestring + 1, len - 2);

			if (v)
				return cJSON_Duplicate(v, true);
		}
		http_template_text(&sb, node->valuestring, vars, HTTP_TEMPLATE_RAW);
		copy = cJSON_CreateString(sb_str(&sb));
		sb_release(&sb);
		return copy;
	}
	if (!cJSON_IsArray(node) && !cJSON_IsObject(node))
		return cJSON_Duplicate(node, true);
	copy = cJSON_IsArray(node) ? cJSON_CreateArray() : cJSON_CreateObject();
	cJSON_ArrayForEach(it, node) {
		cJSON *c = http_template_json(it, vars);

		if (cJSON_IsArray(node))
			cJSON_AddItemToArray(copy, c);
		else
			cJSON_AddItemToObject(copy, it->string, c);
	}
	return copy;
}

void http_template_names(const char *s, void (*fn)(const char *name, size_t len, void *arg), void *arg)
{
	while (*s) {
		size_t n = name_at(s);

		if (n) {
			fn(s + 1, n - 2, arg);
			s += n;
		} else {
			s++;
		}
	}
}

void http_template_json_names(const cJSON *node, void (*fn)(const char *name, size_t len, void *arg), void *arg)
{
	const cJSON *it;

	if (cJSON_IsString(node)) {
		http_template_names(node->valuestring, fn, arg);
		return;
	}
	cJSON_ArrayForEach(it, node)
		http_template_json_names(it, fn, arg);
}

static void note(const char *name, size_t len, void *arg)
{
	(void)name;
	(void)len;
	*(bool *)arg = true;
}

bool http_template_has_names(const char *s)
{
	bool any = false;

	http_template_names(s, note, &any);
	return any;
}

bool http_template_json_has_names(const cJSON *node)
{
	bool any = false;

	http_template_json_names(node, note, &any);
	return any;
}
