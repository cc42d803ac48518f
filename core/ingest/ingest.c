/*
 * ingest.c: the format table, detection, entry points and shared JSON
 * helpers of `perfgate ingest` (see ingest.h).
 */
#include "ingest.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <unistd.h>

#include "../json.h"
#include "../util.h"

typedef int (*ingest_parser)(const char *, size_t, const struct ingest_options *, struct rundoc *,
			     struct err *);

static const struct {
	const char *name;
	ingest_parser parse;
	bool has_repetitions; /* one output holds several repetitions */
} formats[INGEST_N_FORMATS] = {
	[INGEST_AUTO] = { "auto", NULL, false },
	[INGEST_HYPERFINE] = { "hyperfine", ingest_hyperfine_parse, true },
	[INGEST_GBENCH] = { "google-benchmark", ingest_gbench_parse, true },
	[INGEST_PYTEST] = { "pytest-benchmark", ingest_pytest_parse, true },
	[INGEST_GO] = { "go", ingest_go_parse, true },
	[INGEST_K6] = { "k6", ingest_k6_parse, false },
	[INGEST_VLLM] = { "vllm", ingest_vllm_parse, false },
	[INGEST_LOCUST] = { "locust", ingest_locust_parse, false },
	[INGEST_JMH] = { "jmh", ingest_jmh_parse, true },
	[INGEST_CATCH2] = { "catch2", ingest_catch2_parse, false },
};

static const struct {
	const char *alias;
	enum ingest_format f;
} aliases[] = {
	{ "gbench", INGEST_GBENCH }, { "googlebenchmark", INGEST_GBENCH },
	{ "google_benchmark", INGEST_GBENCH }, { "pytest", INGEST_PYTEST },
	{ "pytest_benchmark", INGEST_PYTEST }, { "go-bench", INGEST_GO }, { "gotest", INGEST_GO },
	{ "vllm-serving", INGEST_VLLM }, { "catch", INGEST_CATCH2 },
};

static const char *const format_names[] = {
	"auto", "hyperfine", "google-benchmark", "pytest-benchmark", "go", "k6", "vllm",
	"locust", "jmh", "catch2", NULL
};

const char *const *ingest_format_names(void)
{
	return format_names;
}

const char *ingest_format_name(enum ingest_format f)
{
	if ((int)f < 0 || f >= INGEST_N_FORMATS)
		return "unknown";
	return formats[f].name;
}

bool ingest_format_has_repetitions(enum ingest_format f)
{
	if ((int)f < 0 || f >= INGEST_N_FORMATS)
		return false;
	return formats[f].has_repetitions;
}

int ingest_format_parse(const char *name, enum ingest_format *out, struct err *err)
{
	const char *near;

	for (int i = 0; i < INGEST_N_FORMATS; i++) {
		if (strcmp(name, formats[i].name) == 0) {
			*out = (enum ingest_format)i;
			return 0;
		}
	}
	for (size_t i = 0; i < ARRAY_SIZE(aliases); i++) {
		if (strcmp(name, aliases[i].alias) == 0) {
			*out = aliases[i].f;
			return 0;
		}
	}
	near = closest_match(name, format_names, ARRAY_SIZE(format_names) - 1);
	if (near)
		return err_set(err, ERR_INPUT, "unknown ingest format '%s'; did you mean '%s'?", name,
			       near);
	return err_set(err, ERR_INPUT,
		       "unknown ingest format '%s' (known: auto, hyperfine, google-benchmark, "
		       "pytest-benchmark, go, k6, vllm, locust, jmh, catch2)",
		       name);
}

/* ---- detection ---- */

static const char *skip_space(const char *p, const char *end)
{
	if (end - p >= 3 && (unsigned char)p[0] == 0xEF && (unsigned char)p[1] == 0xBB &&
	    (unsigned char)p[2] == 0xBF)
		p += 3; /* UTF-8 byte order mark */
	while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	return p;
}

/* Does [p, end) start with s?  (The text is not NUL-terminated.) */
static bool starts_with(const char *p, const char *end, const char *s)
{
	size_t n = strlen(s);

	return (size_t)(end - p) >= n && memcmp(p, s, n) == 0;
}

static bool has_key(const cJSON *obj, const char *key)
{
	return cJSON_GetObjectItemCaseSensitive(obj, key) != NULL;
}

static enum ingest_format detect_json(const cJSON *root)
{
	const cJSON *first, *arr;

	if (cJSON_IsArray(root)) {
		first = cJSON_GetArrayItem(root, 0);
		if (cJSON_IsObject(first) && (has_key(first, "primaryMetric") || has_key(first, "jmhVersion")))
			return INGEST_JMH;
		return INGEST_AUTO;
	}
	if (!cJSON_IsObject(root))
		return INGEST_AUTO;
	arr = cJSON_GetObjectItemCaseSensitive(root, "results");
	if (cJSON_IsArray(arr)) {
		first = cJSON_GetArrayItem(arr, 0);
		if (!first || (cJSON_IsObject(first) && has_key(first, "command")))
			return INGEST_HYPERFINE;
	}
	arr = cJSON_GetObjectItemCaseSensitive(root, "benchmarks");
	if (cJSON_IsArray(arr)) {
		first = cJSON_GetArrayItem(arr, 0);
		if (has_key(root, "machine_info") || has_key(root, "commit_info") ||
		    (cJSON_IsObject(first) && has_key(first, "stats")))
			return INGEST_PYTEST;
		if (has_key(root, "context") ||
		    (cJSON_IsObject(first) && (has_key(first, "real_time") || has_key(first, "run_name"))))
			return INGEST_GBENCH;
	}
	if (cJSON_IsObject(cJSON_GetObjectItemCaseSensitive(root, "metrics")) &&
	    (has_key(root, "root_group") || has_key(root, "state") || has_key(root, "options")))
		return INGEST_K6;
	if (has_key(root, "mean_ttft_ms") || has_key(root, "request_throughput") ||
	    has_key(root, "output_throughput") || has_key(root, "median_ttft_ms"))
		return INGEST_VLLM;
	return INGEST_AUTO;
}

/* For JSON that does not parse (truncated, NaN...): guess from the member
 * names, so that the format's parser can say what is wrong with it. */
static enum ingest_format detect_json_text(const char *p, size_t len)
{
	static const struct {
		const char *a, *b;
		enum ingest_format f;
	} marks[] = {
		{ "\"primaryMetric\"", NULL, INGEST_JMH },
		{ "\"jmhVersion\"", NULL, INGEST_JMH },
		{ "\"results\"", "\"command\"", INGEST_HYPERFINE },
		{ "\"machine_info\"", NULL, INGEST_PYTEST },
		{ "\"benchmarks\"", "\"stats\"", INGEST_PYTEST },
		{ "\"benchmarks\"", "\"run_name\"", INGEST_GBENCH },
		{ "\"benchmarks\"", "\"real_time\"", INGEST_GBENCH },
		{ "\"metrics\"", "\"root_group\"", INGEST_K6 },
		{ "\"mean_ttft_ms\"", NULL, INGEST_VLLM },
		{ "\"request_throughput\"", NULL, INGEST_VLLM },
	};

	for (size_t i = 0; i < ARRAY_SIZE(marks); i++) {
		if (memmem(p, len, marks[i].a, strlen(marks[i].a)) &&
		    (!marks[i].b || memmem(p, len, marks[i].b, strlen(marks[i].b))))
			return marks[i].f;
	}
	return INGEST_AUTO;
}

static bool line_is_go_result(const char *p, const char *end)
{
	const char *q;

	if (end - p < 10 || strncmp(p, "Benchmark", 9) != 0)
		return false;
	q = p + 9;
	while (q < end && *q != ' ' && *q != '\t' && *q != '\n')
		q++;
	if (q >= end || *q == '\n')
		return false;
	while (q < end && (*q == ' ' || *q == '\t'))
		q++;
	return q < end && *q >= '0' && *q <= '9';
}

/* What JSON text opens with: an object or an array. */
static const char json_openers[] = "{[";

enum ingest_format ingest_detect(const char *text, size_t len)
{
	const char *end = text + len, *p = skip_space(text, end), *line;
	enum ingest_format f = INGEST_AUTO;

	if (p >= end)
		return INGEST_AUTO;
	if (*p == '<') {
		/* Catch2 v3 writes <Catch2TestRun>, v2 <Catch>; both after an <?xml?> line. */
		for (const char *q = p; q + 6 <= end; q++)
			if (memcmp(q, "<Catch", 6) == 0)
				return INGEST_CATCH2;
		return INGEST_AUTO;
	}
	if (*p && strchr(json_openers, *p)) {
		cJSON *root = cJSON_ParseWithLengthOpts(p, (size_t)(end - p), NULL, 0);

		f = root ? detect_json(root) : detect_json_text(p, (size_t)(end - p));
		cJSON_Delete(root);
		return f;
	}
	if (starts_with(p, end, "Type,Name,") || starts_with(p, end, "Method,Name,"))
		return INGEST_LOCUST;
	for (line = text; line < end;) {
		const char *nl = memchr(line, '\n', (size_t)(end - line));

		if (line_is_go_result(line, nl ? nl : end))
			return INGEST_GO;
		line = nl ? nl + 1 : end;
	}
	return INGEST_AUTO;
}

/* ---- entry points ---- */

/* Messages quote names taken from the input (JSON keys, CSV cells); keep
 * them one line by spelling control characters out. */
static void one_line(struct err *err)
{
	char buf[ERR_MAX];
	size_t o = 0;

	if (!err)
		return;
	for (const char *p = err->msg; *p && o + 5 < sizeof(buf); p++) {
		unsigned char c = (unsigned char)*p;

		if (c >= 0x20 && c != 0x7f) {
			buf[o++] = (char)c;
		} else {
			snprintf(buf + o, sizeof(buf) - o, "\\x%02x", c);
			o += 4;
		}
	}
	buf[o] = '\0';
	memcpy(err->msg, buf, o + 1);
}

int ingest_parse(enum ingest_format fmt, const char *text, size_t len,
		 const struct ingest_options *opts, struct rundoc *rd, struct err *err)
{
	static const struct ingest_options defaults = INGEST_OPTIONS_INIT;
	size_t first = rd->n_benches;
	int rc;

	if ((int)fmt <= INGEST_AUTO || fmt >= INGEST_N_FORMATS)
		return err_set(err, ERR_INPUT, "no ingest format chosen");
	rc = formats[fmt].parse(text, len, opts ? opts : &defaults, rd, err);
	if (rc < 0)
		goto done;
	if (rd->n_benches == first) {
		rc = err_set(err, ERR_INPUT, "no benchmark results found in the %s output",
			     formats[fmt].name);
		goto done;
	}
	for (size_t i = first; i < rd->n_benches; i++) {
		struct rd_bench *b = &rd->benches[i];

		char why[96];

		if (b->n_metrics == 0 && b->status == RUNDOC_STATUS_OK) {
			rc = err_set(err, ERR_INPUT, "benchmark '%s': no measurements found", b->name);
			goto done;
		}
		/* Names the database (and a CI log) would refuse fail here, with the
		 * harness output named, not after the run (docs/run-document.md). */
		if (json_name_problem(b->name, why, sizeof(why))) {
			rc = err_set(err, ERR_INPUT, "benchmark '%s': the name %s", b->name, why);
			goto done;
		}
		for (size_t j = 0; j < b->n_metrics; j++) {
			const struct rd_metric *m = &b->metrics[j];

			if (json_name_problem(m->name, why, sizeof(why)) ||
			    (m->unit[0] && json_name_problem(m->unit, why, sizeof(why)))) {
				rc = err_set(err, ERR_INPUT, "benchmark '%s', metric '%s' (%s): %s", b->name, m->name,
					     m->unit, why);
				goto done;
			}
		}
		for (size_t j = 0; j < b->n_metrics; j++)
			rundoc_metric_summarise(&b->metrics[j]);
	}
done:
	if (rc < 0)
		one_line(err);
	return rc;
}

static int read_stdin(char **out, size_t *len, struct err *err)
{
	return fd_read_max(STDIN_FILENO, "standard input", RUNDOC_READ_MAX, out, len, err);
}

int ingest_files(const char *const *paths, size_t n, enum ingest_format fmt,
		 const struct ingest_options *opts, struct rundoc *rd, enum ingest_format *used,
		 struct err *err)
{
	*used = fmt;
	for (size_t i = 0; i < n; i++) {
		struct rundoc *one = rundoc_new();
		int rc = ingest_file(paths[i], *used, opts, one, used, err);

		if (rc == 0)
			rundoc_merge(rd, one, RUNDOC_MERGE_ACCUMULATE);
		rundoc_free(one);
		if (rc < 0)
			return rc;
	}
	for (size_t i = 0; i < rd->n_benches; i++)
		for (size_t j = 0; j < rd->benches[i].n_metrics; j++)
			rundoc_metric_summarise(&rd->benches[i].metrics[j]);
	return 0;
}

int ingest_file(const char *path, enum ingest_format fmt, const struct ingest_options *opts,
		struct rundoc *rd, enum ingest_format *used, struct err *err)
{
	char *text = NULL;
	size_t len = 0;
	int rc;

	if (strcmp(path, "-") == 0)
		rc = read_stdin(&text, &len, err);
	else
		rc = file_read_max(path, RUNDOC_READ_MAX, &text, &len, err);
	if (rc < 0)
		goto done;
	if (fmt == INGEST_AUTO) {
		fmt = ingest_detect(text, len);
		if (fmt == INGEST_AUTO) {
			rc = err_set(err, ERR_INPUT,
				     "cannot ingest '%s': cannot tell which harness wrote it; name it with --format",
				     path);
			goto done;
		}
	}
	if (used)
		*used = fmt;
	rc = ingest_parse(fmt, text, len, opts, rd, err);
	if (rc < 0)
		err_prefix(err, "cannot ingest '%s'", path);
done:
	free(text);
	return rc;
}

/* ---- JSON helpers ---- */

static void line_col(const char *text, size_t pos, size_t *line, size_t *col)
{
	*line = 1;
	*col = 1;
	for (size_t i = 0; i < pos; i++) {
		if (text[i] == '\n') {
			(*line)++;
			*col = 1;
		} else {
			(*col)++;
		}
	}
}

/* Does a non-JSON number word (NaN, Infinity, -Infinity, inf) start at p? */
static const char *nonfinite_word(const char *p, const char *end)
{
	static const char *const words[] = { "-Infinity", "Infinity", "-NaN", "NaN", "-inf", "inf",
					     "-nan", "nan" };

	for (size_t i = 0; i < ARRAY_SIZE(words); i++) {
		size_t n = strlen(words[i]);

		if ((size_t)(end - p) >= n && strncasecmp(p, words[i], n) == 0)
			return words[i];
	}
	return NULL;
}

int ingest_json_parse(const char *text, size_t len, bool allow_trailing, cJSON **out,
		      size_t *end, struct err *err)
{
	const char *stop = NULL, *tend = text + len, *p;
	size_t pos, line, col;
	cJSON *root;

	*out = NULL;
	p = skip_space(text, tend);
	if (p >= tend)
		return err_set(err, ERR_INPUT, "empty input: no JSON document");
	root = cJSON_ParseWithLengthOpts(p, (size_t)(tend - p), &stop, 0);
	if (root) {
		const char *rest = skip_space(stop, tend);

		if (rest < tend && !allow_trailing) {
			cJSON_Delete(root);
			line_col(text, (size_t)(rest - text), &line, &col);
			return err_set(err, ERR_INPUT,
				       "line %zu column %zu: unexpected text after the JSON document",
				       line, col);
		}
		if (end)
			*end = (size_t)(stop - text);
		*out = root;
		return 0;
	}
	pos = stop ? (size_t)(stop - text) : len;
	if (pos > len)
		pos = len;
	/* cJSON reports the first byte it could not use, or the last byte
	 * when it ran out of input: either way at the end of the text (and not
	 * on a closing bracket it rejected) the document was cut short. */
	{
		size_t tlen = len;

		while (tlen > 0 && (text[tlen - 1] == ' ' || text[tlen - 1] == '\n' ||
				    text[tlen - 1] == '\r' || text[tlen - 1] == '\t'))
			tlen--;
		if (pos >= tlen || (pos + 1 == tlen && text[pos] != '}' && text[pos] != ']'))
			return err_set(err, ERR_INPUT,
				       "unexpected end of input: the JSON document is truncated");
	}
	/* A failed number parse can stop just before or on the offending word. */
	for (size_t back = 0; back <= 1 && back <= pos; back++) {
		const char *word = nonfinite_word(text + pos - back, tend);

		if (word) {
			line_col(text, pos - back, &line, &col);
			return err_set(err, ERR_INPUT,
				       "line %zu column %zu: '%s' is not a number JSON allows "
				       "(non-finite values cannot be ingested)",
				       line, col, word);
		}
	}
	line_col(text, pos, &line, &col);
	{
		size_t n = 0;

		while (pos + n < len && n < 16 && text[pos + n] != '\n')
			n++;
		return err_set(err, ERR_INPUT, "line %zu column %zu: invalid JSON near '%.*s'", line,
			       col, (int)n, text + pos);
	}
}

bool ingest_nonfinite_text(const char *s)
{
	while (*s == ' ' || *s == '\t')
		s++;
	if (*s == '+' || *s == '-')
		s++;
	return strncasecmp(s, "nan", 3) == 0 || strncasecmp(s, "inf", 3) == 0;
}

bool ingest_time_unit(const char *unit, double *seconds)
{
	static const struct {
		const char *name;
		double s;
	} units[] = {
		{ "ns", 1e-9 }, { "us", 1e-6 }, { "\xc2\xb5s", 1e-6 }, { "\xce\xbcs", 1e-6 },
		{ "ms", 1e-3 }, { "s", 1 }, { "sec", 1 }, { "min", 60 }, { "hr", 3600 }, { "h", 3600 },
		{ "day", 86400 },
	};

	for (size_t i = 0; i < ARRAY_SIZE(units); i++) {
		if (strcmp(unit, units[i].name) == 0) {
			*seconds = units[i].s;
			return true;
		}
	}
	return false;
}

/* ---- building the document ---- */

struct rd_bench *ingest_bench(struct rundoc *rd, const char *name, enum ingest_format fmt)
{
	struct rd_bench *b = rundoc_find_bench(rd, name);

	if (b)
		return b;
	b = rundoc_add_bench(rd, name, RUNDOC_KIND_INGEST);
	b->extra = cJSON_CreateObject();
	rundoc_bench_set_source(b, ingest_format_name(fmt));
	return b;
}

char *ingest_unique_name(const struct rundoc *rd, const char *base)
{
	size_t blen = strlen(base), taken = 0;
	char *name;
	unsigned i;

	if (!rundoc_find_bench(rd, base))
		return xstrdup(base);
	/* Start after the copies already made, so that many duplicates cost
	 * O(n) each rather than a search from "#2" every time. */
	for (size_t k = 0; k < rd->n_benches; k++)
		if (strncmp(rd->benches[k].name, base, blen) == 0 &&
		    (rd->benches[k].name[blen] == '\0' || strncmp(rd->benches[k].name + blen, " #", 2) == 0))
			taken++;
	i = (unsigned)taken + 1;
	name = xasprintf("%s #%u", base, i);
	while (rundoc_find_bench(rd, name)) {
		free(name);
		name = xasprintf("%s #%u", base, ++i);
	}
	return name;
}

struct rd_metric *ingest_metric(struct rd_bench *b, const char *name, const char *unit,
				enum rd_direction dir)
{
	struct rd_metric *m = rundoc_bench_find_metric(b, name);

	return m ? m : rundoc_bench_add_metric(b, name, unit, dir);
}

void ingest_mark_aggregate(struct rd_metric *m, const char *which)
{
	if (!m->extra)
		m->extra = cJSON_CreateObject();
	if (!cJSON_HasObjectItem(m->extra, "aggregate"))
		cJSON_AddStringToObject(m->extra, "aggregate", which);
}

void ingest_warn(struct rd_bench *b, const char *fmt, ...)
{
	va_list ap;
	char buf[512];

	va_start(ap, fmt);
	vsnprintf(buf, sizeof(buf), fmt, ap);
	va_end(ap);
	rundoc_bench_warn(b, buf);
}

int ingest_json_root_array(const char *text, size_t len, const char *key, cJSON **root,
			   const cJSON **arr, struct err *err)
{
	int rc = ingest_json_parse(text, len, false, root, NULL, err);

	if (rc < 0)
		return rc;
	if (!cJSON_IsObject(*root))
		return err_set(err, ERR_INPUT, "expected a JSON object with \"%s\", got %s", key,
			       json_type_name(*root));
	rc = json_read(*root, "", key, cJSON_Array, true, arr, err);
	if (rc < 0)
		return rc;
	if (cJSON_GetArraySize(*arr) == 0)
		return err_set(err, ERR_INPUT, "%s: empty, no benchmark results", key);
	return 0;
}
