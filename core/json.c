/*
 * json.c: reading and validating cJSON trees (see json.h).
 */
#include "json.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "util.h"

const char *json_type_name(const cJSON *j)
{
	if (!j)
		return "nothing";
	if (cJSON_IsString(j))
		return "a string";
	if (cJSON_IsNumber(j))
		return "a number";
	if (cJSON_IsBool(j))
		return "a boolean";
	if (cJSON_IsNull(j))
		return "null";
	if (cJSON_IsArray(j))
		return "an array";
	if (cJSON_IsObject(j))
		return "an object";
	return "something unknown";
}

void json_got(const cJSON *v, char *buf, size_t len)
{
	if (!v) {
		snprintf(buf, len, "nothing");
	} else if (cJSON_IsString(v)) {
		const char *s = v->valuestring;
		if (strlen(s) > 40)
			snprintf(buf, len, "\"%.37s...\"", s);
		else
			snprintf(buf, len, "\"%s\"", s);
	} else if (cJSON_IsNumber(v)) {
		char *t = cJSON_PrintUnformatted(v);
		snprintf(buf, len, "%s", t ? t : "a number");
		free(t);
	} else if (cJSON_IsBool(v)) {
		snprintf(buf, len, "%s", cJSON_IsTrue(v) ? "true" : "false");
	} else if (cJSON_IsNull(v)) {
		snprintf(buf, len, "null");
	} else if (cJSON_IsArray(v)) {
		snprintf(buf, len, "an array");
	} else {
		snprintf(buf, len, "an object");
	}
}

void json_problem(struct errlist *p, const char *fmt, ...)
{
	char buf[1024];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	errlist_add_unique(p, buf);
}

void json_expected(struct errlist *p, const char *path, const char *what, const cJSON *v)
{
	char got[64];

	json_got(v, got, sizeof(got));
	json_problem(p, "%s: expected %s, got %s", path, what, got);
}

void json_path_key(char *buf, size_t len, const char *path, const char *key)
{
	snprintf(buf, len, "%s%s%s", path, *path ? "." : "", key);
}

void json_check_keys(const cJSON *obj, const char *path, const char *const *known, size_t n_known,
		     struct errlist *problems)
{
	size_t n = 0, i = 0;
	const cJSON *it;
	const char **keys;
	bool *dup;
	char at[512];

	cJSON_ArrayForEach(it, obj)
		n++;
	keys = xmalloc((n ? n : 1) * sizeof(*keys));
	cJSON_ArrayForEach(it, obj)
		keys[i++] = it->string ? it->string : "";
	/* sorted, not pairwise: an object of 100,000 keys takes milliseconds */
	dup = str_repeats(keys, n);
	free(keys);
	i = 0;
	cJSON_ArrayForEach(it, obj) {
		const char *key = it->string ? it->string : "";

		json_path_key(at, sizeof(at), path, key);
		if (str_index(key, known, n_known) < 0) {
			const char *best = closest_match(key, known, n_known);
			if (best)
				json_problem(problems, "%s: unknown key; did you mean \"%s\"?", at, best);
			else
				json_problem(problems, "%s: unknown key", at);
		}
		if (dup[i++])
			json_problem(problems, "%s: duplicate key", at);
	}
	free(dup);
}

bool json_is_int(const cJSON *v)
{
	return cJSON_IsNumber(v) && isfinite(v->valuedouble) && v->valuedouble == floor(v->valuedouble) &&
	       fabs(v->valuedouble) < 9e15;
}

bool json_is_count(const cJSON *v, long min)
{
	return json_is_int(v) && v->valuedouble >= (double)min && v->valuedouble <= (double)JSON_COUNT_MAX;
}

/* Line and column (from 1) of offset `at` in text. */
static void text_pos(const char *text, size_t at, size_t *line, size_t *col)
{
	*line = 1;
	*col = 1;
	for (size_t i = 0; i < at; i++) {
		if (text[i] == '\n') {
			(*line)++;
			*col = 1;
		} else if (((unsigned char)text[i] & 0xc0) != 0x80) {
			(*col)++;
		}
	}
}

static int text_error(const char *text, size_t at, const char *what, struct err *err)
{
	size_t line, col;

	text_pos(text, at, &line, &col);
	return err_set(err, ERR_INPUT, "%s at line %zu, column %zu", what, line, col);
}

/* A NUL byte, \u0000 in a string, or bytes that are not UTF-8. */
static int text_check(const char *text, size_t len, struct err *err)
{
	const unsigned char *u = (const unsigned char *)text;
	bool in_string = false;

	for (size_t i = 0; i < len;) {
		size_t k;

		if (u[i] == 0)
			return text_error(text, i, "a NUL character", err);
		if (u[i] >= 0x80) {
			if ((k = utf8_seq_len(u + i, len - i)) == 0)
				return text_error(text, i, "invalid UTF-8", err);
			i += k;
			continue;
		}
		if (u[i] == '"') {
			in_string = !in_string;
		} else if (in_string && u[i] == '\\') {
			if (i + 5 < len && u[i + 1] == 'u' && strncmp(text + i + 2, "0000", 4) == 0)
				return text_error(text, i, "a NUL character (\\u0000)", err);
			i += 2;
			continue;
		}
		i++;
	}
	return 0;
}

cJSON *json_parse_text(const char *text, size_t len, struct err *err)
{
	const char *end = NULL;
	cJSON *j;

	if (text_check(text, len, err) != 0)
		return NULL;
	if (strspn(text, " \t\r\n") == len) {
		err_set(err, ERR_INPUT, "the text is empty");
		return NULL;
	}
	j = cJSON_ParseWithOpts(text, &end, false);
	if (!j) {
		const char *at = end ? end : cJSON_GetErrorPtr();
		text_error(text, at && at >= text && at <= text + len ? (size_t)(at - text) : 0, "invalid JSON",
			   err);
		return NULL;
	}
	if (end && strspn(end, " \t\r\n") != strlen(end)) {
		size_t at = (size_t)(end - text) + strspn(end, " \t\r\n");
		cJSON_Delete(j);
		text_error(text, at, "text after the JSON document", err);
		return NULL;
	}
	return j;
}

const char *json_name_problem(const char *s, char *buf, size_t len)
{
	size_t n = strlen(s);
	long c;

	if (n == 0) {
		snprintf(buf, len, "must not be empty");
		return buf;
	}
	if (n > JSON_NAME_MAX) {
		snprintf(buf, len, "is longer than %d bytes (%zu)", JSON_NAME_MAX, n);
		return buf;
	}
	if (!utf8_valid(s, n, NULL)) {
		snprintf(buf, len, "is not valid UTF-8");
		return buf;
	}
	if ((c = str_control_char(s)) >= 0) {
		snprintf(buf, len, "contains a control character (U+%04lX)", c);
		return buf;
	}
	return NULL;
}

/* obj's member `key`, and *set (when given) whether there is one. */
static const cJSON *member(const cJSON *obj, const char *key, bool *set)
{
	const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);

	if (set)
		*set = v != NULL;
	return v;
}

bool json_get_number(const cJSON *obj, const char *key, const char *path, double min_excl, double *out,
		     bool *set, struct errlist *problems)
{
	const cJSON *v = member(obj, key, set);
	char at[512];

	if (!v)
		return true;
	if (!cJSON_IsNumber(v) || !isfinite(v->valuedouble) || !(v->valuedouble > min_excl)) {
		json_path_key(at, sizeof(at), path, key);
		errlist_add(problems, "%s: must be a number > %g", at, min_excl);
		return false;
	}
	*out = v->valuedouble;
	return true;
}

bool json_get_int(const cJSON *obj, const char *key, const char *path, long min, long *out, bool *set,
		  struct errlist *problems)
{
	const cJSON *v = member(obj, key, set);
	char at[512];

	if (!v)
		return true;
	if (!cJSON_IsNumber(v) || v->valuedouble != floor(v->valuedouble) || v->valuedouble < (double)min ||
	    v->valuedouble > 1e9) {
		json_path_key(at, sizeof(at), path, key);
		errlist_add(problems, "%s: expected an integer >= %ld", at, min);
		return false;
	}
	*out = (long)v->valuedouble;
	return true;
}

bool json_get_duration(const cJSON *obj, const char *key, const char *path, double *out, bool *set,
		       struct errlist *problems)
{
	const cJSON *v = member(obj, key, set);
	struct err err = ERR_INIT;
	char at[512];

	if (!v)
		return true;
	if (cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble <= DURATION_MAX_S) {
		*out = v->valuedouble;
		return true;
	}
	if (cJSON_IsString(v) && parse_duration(v->valuestring, out, &err) == 0)
		return true;
	if (cJSON_IsNumber(v) && v->valuedouble > DURATION_MAX_S)
		err_set(&err, ERR_INPUT, "at most %s", DURATION_MAX_TEXT);
	json_path_key(at, sizeof(at), path, key);
	errlist_add(problems, "%s: expected a duration such as \"30s\" or \"250ms\"%s%s", at,
		    err.msg[0] ? ", " : "", err.msg);
	return false;
}

bool json_get_bool(const cJSON *obj, const char *key, const char *path, bool *out, bool *set,
		   struct errlist *problems)
{
	const cJSON *v = member(obj, key, set);
	char at[512];

	if (!v)
		return true;
	if (!cJSON_IsBool(v)) {
		json_path_key(at, sizeof(at), path, key);
		json_expected(problems, at, "true or false", v);
		return false;
	}
	*out = cJSON_IsTrue(v);
	return true;
}

bool json_get_string(const cJSON *obj, const char *key, const char *path, const char **out, bool *set,
		     struct errlist *problems)
{
	const cJSON *v = member(obj, key, set);
	char at[512];

	if (!v)
		return true;
	if (!cJSON_IsString(v) || !*v->valuestring) {
		json_path_key(at, sizeof(at), path, key);
		json_expected(problems, at, "a non-empty string", v);
		return false;
	}
	*out = v->valuestring;
	return true;
}

/* ---- reading data documents ---- */

/* What a cJSON type mask asks for, for "expected ..., got ...". */
static const char *type_want(int type)
{
	switch (type) {
	case cJSON_Number:
		return "a number";
	case cJSON_String:
		return "a string";
	case cJSON_Array:
		return "an array";
	case cJSON_Object:
		return "an object";
	case cJSON_True | cJSON_False:
		return "true or false";
	default:
		return "a value";
	}
}

int json_read(const cJSON *obj, const char *path, const char *key, int type, bool required,
	      const cJSON **out, struct err *err)
{
	const cJSON *j = cJSON_IsObject(obj) ? cJSON_GetObjectItemCaseSensitive(obj, key) : NULL;
	char at[512];

	*out = NULL;
	json_path_key(at, sizeof(at), path, key);
	if (!j || cJSON_IsNull(j)) {
		if (required)
			return err_set(err, ERR_INPUT, "%s: required member is missing", at);
		return 0;
	}
	if (!(j->type & type))
		return err_set(err, ERR_INPUT, "%s: expected %s, got %s", at, type_want(type),
			       json_type_name(j));
	*out = j;
	return 0;
}

int json_read_string(const cJSON *obj, const char *path, const char *key, bool required, char **out,
		     struct err *err)
{
	const cJSON *j;
	int rc = json_read(obj, path, key, cJSON_String, required, &j, err);

	if (rc == 0 && j)
		*out = xstrdup(j->valuestring);
	return rc;
}

int json_read_bool(const cJSON *obj, const char *path, const char *key, bool *out, struct err *err)
{
	const cJSON *j;
	int rc = json_read(obj, path, key, cJSON_True | cJSON_False, false, &j, err);

	if (rc == 0 && j)
		*out = cJSON_IsTrue(j);
	return rc;
}

int json_read_value(const cJSON *j, const char *path, bool nonneg, double *out, struct err *err)
{
	if (!cJSON_IsNumber(j))
		return err_set(err, ERR_INPUT, "%s: expected a number, got %s", path, json_type_name(j));
	if (!isfinite(j->valuedouble))
		return err_set(err, ERR_INPUT, "%s: expected a finite number, got a value out of range",
			       path);
	if (nonneg && j->valuedouble < 0)
		return err_set(err, ERR_INPUT, "%s: expected a value >= 0, got %g", path, j->valuedouble);
	*out = j->valuedouble;
	return 0;
}

int json_read_number(const cJSON *obj, const char *path, const char *key, bool required, bool nonneg,
		     double *out, bool *present, struct err *err)
{
	const cJSON *j;
	char at[512];
	int rc;

	if (present)
		*present = false;
	rc = json_read(obj, path, key, cJSON_Number, required, &j, err);
	if (rc < 0 || !j)
		return rc;
	json_path_key(at, sizeof(at), path, key);
	rc = json_read_value(j, at, nonneg, out, err);
	if (rc == 0 && present)
		*present = true;
	return rc;
}

/* ---- peeking ---- */

const cJSON *json_peek(const cJSON *obj, const char *key)
{
	return cJSON_IsObject(obj) ? cJSON_GetObjectItemCaseSensitive(obj, key) : NULL;
}

const char *json_peek_str(const cJSON *obj, const char *key)
{
	const cJSON *v = json_peek(obj, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

double json_peek_num(const cJSON *obj, const char *key, double dflt)
{
	const cJSON *v = json_peek(obj, key);

	return cJSON_IsNumber(v) ? v->valuedouble : dflt;
}

bool json_peek_true(const cJSON *obj, const char *key)
{
	return cJSON_IsTrue(json_peek(obj, key));
}

char **json_peek_strings(const cJSON *obj, const char *key)
{
	const cJSON *v = json_peek(obj, key), *it;
	char **list;
	size_t n = 0;

	if (!cJSON_IsArray(v))
		return NULL;
	list = xcalloc((size_t)cJSON_GetArraySize(v) + 1, sizeof(*list));
	cJSON_ArrayForEach(it, v)
		if (cJSON_IsString(it))
			list[n++] = xstrdup(it->valuestring);
	return list;
}

const char *json_str_at(const cJSON *root, const char *path)
{
	const cJSON *v = json_at(root, path);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

int json_duration_value(const cJSON *v, double *out)
{
	struct err e = ERR_INIT;

	if (cJSON_IsNumber(v) && fabs(v->valuedouble) <= DURATION_MAX_S) {
		*out = v->valuedouble;
		return 0;
	}
	if (cJSON_IsString(v) && parse_duration(v->valuestring, out, &e) == 0)
		return 0;
	return -1;
}

int json_fraction_value(const cJSON *v, double *out)
{
	if (cJSON_IsNumber(v) && isfinite(v->valuedouble)) {
		*out = v->valuedouble;
		return 0;
	}
	if (cJSON_IsString(v)) {
		size_t len = strlen(v->valuestring);
		struct err e = ERR_INIT;

		/* a string must carry its percent sign: "0.05" is a mistake */
		if (len >= 2 && v->valuestring[len - 1] == '%' && parse_fraction(v->valuestring, out, &e) == 0)
			return 0;
	}
	return -1;
}

int json_target_value(const cJSON *v, double *out)
{
	double f;

	if (json_fraction_value(v, &f) < 0 || !(f > 0 && f < 1))
		return -1;
	*out = f;
	return 0;
}

const cJSON *json_at(const cJSON *root, const char *path)
{
	const cJSON *cur = root;
	const char *s = path;

	if (*s != '$')
		return NULL;
	s++;
	while (*s && cur) {
		if (*s == '.') {
			size_t n;
			char *key;

			s++;
			n = strcspn(s, ".[");
			if (n == 0)
				return NULL;
			key = xstrndup(s, n);
			cur = cJSON_IsObject(cur) ? cJSON_GetObjectItemCaseSensitive(cur, key) : NULL;
			free(key);
			s += n;
		} else if (*s == '[') {
			char *end;
			long idx = strtol(s + 1, &end, 10);

			if (end == s + 1 || *end != ']' || idx < 0 || idx > INT32_MAX)
				return NULL;
			cur = cJSON_IsArray(cur) ? cJSON_GetArrayItem(cur, (int)idx) : NULL;
			s = end + 1;
		} else {
			return NULL;
		}
	}
	return cur;
}

static int cmp_key(const void *a, const void *b)
{
	const cJSON *x = *(const cJSON *const *)a, *y = *(const cJSON *const *)b;

	return strcmp(x->string, y->string);
}

static cJSON *canon(const cJSON *v)
{
	if (cJSON_IsObject(v)) {
		cJSON *o = cJSON_CreateObject();
		size_t n = (size_t)cJSON_GetArraySize(v), i = 0;
		const cJSON **items = xcalloc(n ? n : 1, sizeof(*items));
		const cJSON *it;

		cJSON_ArrayForEach(it, v)
			items[i++] = it;
		qsort(items, n, sizeof(*items), cmp_key);
		for (i = 0; i < n; i++)
			cJSON_AddItemToObject(o, items[i]->string, canon(items[i]));
		free(items);
		return o;
	}
	if (cJSON_IsArray(v)) {
		cJSON *a = cJSON_CreateArray();
		const cJSON *it;

		cJSON_ArrayForEach(it, v)
			cJSON_AddItemToArray(a, canon(it));
		return a;
	}
	return cJSON_Duplicate(v, true);
}

char *json_canonical(const cJSON *v)
{
	cJSON *c = canon(v);
	char *s = cJSON_PrintUnformatted(c);
	char *r = xstrdup(s ? s : "null");

	free(s);
	cJSON_Delete(c);
	return r;
}

void json_add_num_or_null(cJSON *obj, const char *key, double v)
{
	if (isfinite(v))
		xcheck(cJSON_AddNumberToObject(obj, key, v));
	else
		xcheck(cJSON_AddNullToObject(obj, key));
}

void json_add_str_or_null(cJSON *obj, const char *key, const char *v)
{
	if (v)
		xcheck(cJSON_AddStringToObject(obj, key, v));
	else
		xcheck(cJSON_AddNullToObject(obj, key));
}
