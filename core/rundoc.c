#include "rundoc.h"

#include <ctype.h>
#include <fcntl.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "json.h"
#include "summary.h"
#include "util.h"

/* The benchmarks' positions sorted by name, as of `benches`/`n`. */
struct rd_name_index {
	size_t *order;
	size_t n;
	const struct rd_bench *benches;
};

struct rundoc *rundoc_new(void)
{
	struct rundoc *rd = xcalloc(1, sizeof(struct rundoc));

	rd->index = xcalloc(1, sizeof(*rd->index));
	return rd;
}

static void metric_release(struct rd_metric *m)
{
	free(m->name);
	free(m->unit);
	free(m->samples);
	cJSON_Delete(m->extra);
}

static void bench_release(struct rd_bench *b)
{
	free(b->name);
	free(b->kind_other);
	cJSON_Delete(b->params);
	free(b->config_hash);
	free(b->error);
	for (size_t i = 0; i < b->n_metrics; i++)
		metric_release(&b->metrics[i]);
	free(b->metrics);
	cJSON_Delete(b->extra);
}

void rundoc_free(struct rundoc *rd)
{
	if (!rd)
		return;
	if (rd->index)
		free(rd->index->order);
	free(rd->index);
	free(rd->run_id);
	free(rd->project);
	free(rd->suite);
	free(rd->git.commit);
	free(rd->git.branch);
	free(rd->git.commit_time);
	free(rd->git.subject);
	for (size_t i = 0; i < rd->git.n_parents; i++)
		free(rd->git.parents[i]);
	free(rd->git.parents);
	free(rd->git.remote);
	free(rd->ci.provider);
	free(rd->ci.job_url);
	free(rd->ci.event);
	free(rd->ci.base_branch);
	free(rd->fingerprint);
	cJSON_Delete(rd->machine);
	free(rd->started_at);
	free(rd->finished_at);
	cJSON_Delete(rd->tags);
	for (size_t i = 0; i < rd->n_benches; i++)
		bench_release(&rd->benches[i]);
	free(rd->benches);
	cJSON_Delete(rd->extra);
	free(rd);
}

struct rd_bench *rundoc_add_bench(struct rundoc *rd, const char *name, enum rundoc_kind kind)
{
	struct rd_bench *b;

	XGROW(rd->benches, rd->alloc_benches, rd->n_benches + 1);
	b = &rd->benches[rd->n_benches++];
	memset(b, 0, sizeof(*b));
	b->name = xstrdup(name);
	b->kind = kind;
	b->status = RUNDOC_STATUS_OK;
	return b;
}

struct rd_metric *rundoc_bench_add_metric(struct rd_bench *b, const char *name, const char *unit,
					  enum rd_direction dir)
{
	struct rd_metric *m;

	XGROW(b->metrics, b->alloc_metrics, b->n_metrics + 1);
	m = &b->metrics[b->n_metrics++];
	memset(m, 0, sizeof(*m));
	m->name = xstrdup(name);
	m->unit = xstrdup(unit);
	m->direction = dir;
	summary_compute(NULL, 0, &m->summary);
	return m;
}

struct rd_metric *rundoc_bench_find_metric(const struct rd_bench *b, const char *name)
{
	for (size_t i = 0; i < b->n_metrics; i++)
		if (strcmp(b->metrics[i].name, name) == 0)
			return &b->metrics[i];
	return NULL;
}

/* Below this many benchmarks a scan is as fast as the index. */
#define NAME_INDEX_MIN 32

static int by_name(const void *a, const void *b, void *arg)
{
	const struct rd_bench *benches = arg;

	return strcmp(benches[*(const size_t *)a].name, benches[*(const size_t *)b].name);
}

struct rd_bench *rundoc_find_bench(const struct rundoc *rd, const char *name)
{
	struct rd_name_index *ix = rd->index;

	if (ix && rd->n_benches >= NAME_INDEX_MIN) {
		size_t lo = 0, hi;

		if (ix->n != rd->n_benches || ix->benches != rd->benches) {
			ix->order = xrealloc(ix->order, rd->n_benches * sizeof(*ix->order));
			for (size_t i = 0; i < rd->n_benches; i++)
				ix->order[i] = i;
			qsort_r(ix->order, rd->n_benches, sizeof(*ix->order), by_name, rd->benches);
			ix->n = rd->n_benches;
			ix->benches = rd->benches;
		}
		for (hi = ix->n; lo < hi;) {
			size_t mid = lo + (hi - lo) / 2;
			int c = strcmp(rd->benches[ix->order[mid]].name, name);

			if (c == 0)
				return &rd->benches[ix->order[mid]];
			if (c < 0)
				lo = mid + 1;
			else
				hi = mid;
		}
	}
	/* Few benchmarks, or not in the index (absent, or renamed since). */
	for (size_t i = 0; i < rd->n_benches; i++)
		if (strcmp(rd->benches[i].name, name) == 0)
			return &rd->benches[i];
	return NULL;
}

void rundoc_metric_add_sample(struct rd_metric *m, double v)
{
	XGROW(m->samples, m->alloc_samples, m->n_samples + 1);
	m->samples[m->n_samples++] = v;
}

void rundoc_metric_summarise(struct rd_metric *m)
{
	summary_compute(m->samples, m->n_samples, &m->summary);
}

/* A copy of text from a program (a command's stderr, a server's answer),
 * which need not be UTF-8, that is: the stored document must be. */
static char *utf8_copy(const char *s)
{
	char *copy = xstrdup(s);
	size_t n = strlen(copy), bad;

	while (!utf8_valid(copy, n, &bad))
		copy[bad] = '?';
	return copy;
}

void rundoc_bench_fail(struct rd_bench *b, const char *why)
{
	char *copy = utf8_copy(why);

	/* why may be b->error itself: copy before freeing. */
	free(b->error);
	b->error = copy;
	b->status = RUNDOC_STATUS_FAILED;
}

static const char *const status_names[] = {
	[RUNDOC_STATUS_OK] = "ok",
	[RUNDOC_STATUS_FAILED] = "failed",
	[RUNDOC_STATUS_PARTIAL] = "partial",
	[RUNDOC_STATUS_SKIPPED] = "skipped",
};

static const char *const kind_names[] = {
	[RUNDOC_KIND_COMMAND] = "command",
	[RUNDOC_KIND_HTTP] = "http",
	[RUNDOC_KIND_INGEST] = "ingest",
	[RUNDOC_KIND_OTHER] = "other",
};

const char *rundoc_status_name(enum rundoc_status s)
{
	return (size_t)s < ARRAY_SIZE(status_names) ? status_names[s] : "?";
}

static int status_from_name(const char *name, enum rundoc_status *out)
{
	for (size_t i = 0; i < ARRAY_SIZE(status_names); i++) {
		if (strcmp(status_names[i], name) == 0) {
			*out = (enum rundoc_status)i;
			return 0;
		}
	}
	return -1;
}

static enum rundoc_kind kind_from_name(const char *name)
{
	for (size_t i = 0; i < RUNDOC_KIND_OTHER; i++)
		if (strcmp(kind_names[i], name) == 0)
			return (enum rundoc_kind)i;
	return RUNDOC_KIND_OTHER;
}

const char *rundoc_kind_name(enum rundoc_kind k)
{
	return (size_t)k < ARRAY_SIZE(kind_names) ? kind_names[k] : "?";
}

const char *rundoc_bench_kind(const struct rd_bench *b)
{
	if (b->kind == RUNDOC_KIND_OTHER && b->kind_other)
		return b->kind_other;
	return rundoc_kind_name(b->kind);
}

/* ---- members kept in extra ---- */

/* *extra, created when absent, with any earlier `key` removed. */
static cJSON *extra_for(cJSON **extra, const char *key)
{
	if (!*extra)
		*extra = cJSON_CreateObject();
	cJSON_DeleteItemFromObjectCaseSensitive(*extra, key);
	return *extra;
}

static const cJSON *extra_get(const cJSON *extra, const char *key)
{
	return extra ? cJSON_GetObjectItemCaseSensitive(extra, key) : NULL;
}

static const char *extra_str(const cJSON *extra, const char *key)
{
	const cJSON *v = extra_get(extra, key);

	return cJSON_IsString(v) ? v->valuestring : NULL;
}

void rundoc_metric_set_tracked(struct rd_metric *m, const char *why)
{
	cJSON_AddFalseToObject(extra_for(&m->extra, "gate"), "gate");
	cJSON_AddStringToObject(extra_for(&m->extra, "why"), "why", why);
}

bool rundoc_metric_tracked(const struct rd_metric *m)
{
	return cJSON_IsFalse(extra_get(m->extra, "gate"));
}

void rundoc_metric_set_source(struct rd_metric *m, const char *source)
{
	cJSON_AddStringToObject(extra_for(&m->extra, "source"), "source", source);
}

void rundoc_bench_set_source(struct rd_bench *b, const char *source)
{
	cJSON_AddStringToObject(extra_for(&b->extra, "source"), "source", source);
}

void rundoc_metric_set_histogram(struct rd_metric *m, cJSON *h)
{
	cJSON_AddItemToObject(extra_for(&m->extra, "histogram"), "histogram", h);
}

const cJSON *rundoc_metric_histogram(const struct rd_metric *m)
{
	return extra_get(m->extra, "histogram");
}

void rundoc_bench_warn(struct rd_bench *b, const char *msg)
{
	cJSON *list = b->extra ? cJSON_GetObjectItemCaseSensitive(b->extra, "warnings") : NULL;

	if (!cJSON_IsArray(list))
		list = cJSON_AddArrayToObject(extra_for(&b->extra, "warnings"), "warnings");
	cJSON_AddItemToArray(list, cJSON_CreateString(msg));
}

const cJSON *rundoc_bench_warnings(const struct rd_bench *b)
{
	const cJSON *list = extra_get(b->extra, "warnings");

	return cJSON_IsArray(list) ? list : NULL;
}

void rundoc_bench_set_stderr_tail(struct rd_bench *b, const char *tail)
{
	char *copy = utf8_copy(tail);

	cJSON_AddStringToObject(extra_for(&b->extra, "stderr_tail"), "stderr_tail", copy);
	free(copy);
}

const char *rundoc_bench_stderr_tail(const struct rd_bench *b)
{
	return extra_str(b->extra, "stderr_tail");
}

void rundoc_bench_set_invalid(struct rd_bench *b)
{
	cJSON_AddTrueToObject(extra_for(&b->extra, "invalid"), "invalid");
}

bool rundoc_bench_invalid(const struct rd_bench *b)
{
	return cJSON_IsTrue(extra_get(b->extra, "invalid"));
}

void rundoc_bench_set_suite_benchmark(struct rd_bench *b, const char *name)
{
	cJSON_AddStringToObject(extra_for(&b->extra, "suite_benchmark"), "suite_benchmark", name);
}

const char *rundoc_bench_suite_benchmark(const struct rd_bench *b)
{
	return extra_str(b->extra, "suite_benchmark");
}

void rundoc_bench_set_variant(struct rd_bench *b, const struct rundoc_variant *v)
{
	cJSON *o = cJSON_AddObjectToObject(extra_for(&b->extra, "variant"), "variant");

	cJSON_AddStringToObject(o, "of", v->of);
	cJSON_AddStringToObject(o, "name", v->name);
	cJSON_AddBoolToObject(o, "reference", v->reference);
}

bool rundoc_bench_variant(const struct rd_bench *b, struct rundoc_variant *out)
{
	const cJSON *v = extra_get(b->extra, "variant");

	if (!cJSON_IsObject(v))
		return false;
	out->of = extra_str(v, "of");
	out->name = extra_str(v, "name");
	out->reference = cJSON_IsTrue(extra_get(v, "reference"));
	return true;
}

void rundoc_bench_set_interleaved(struct rd_bench *b)
{
	cJSON_AddBoolToObject(extra_for(&b->extra, "interleaved"), "interleaved", true);
}

bool rundoc_bench_interleaved(const struct rd_bench *b)
{
	return cJSON_IsTrue(extra_get(b->extra, "interleaved"));
}

/* ---- merging ---- */

/* Move every member of *src into a new benchmark at the end of dst; *src is
 * left empty (its owner frees nothing twice). */
static struct rd_bench *move_bench(struct rundoc *dst, struct rd_bench *src)
{
	struct rd_bench *b;

	XGROW(dst->benches, dst->alloc_benches, dst->n_benches + 1);
	b = &dst->benches[dst->n_benches++];
	*b = *src;
	memset(src, 0, sizeof(*src));
	return b;
}

static struct rd_metric *move_metric(struct rd_bench *dst, struct rd_metric *src)
{
	struct rd_metric *m;

	XGROW(dst->metrics, dst->alloc_metrics, dst->n_metrics + 1);
	m = &dst->metrics[dst->n_metrics++];
	*m = *src;
	memset(src, 0, sizeof(*src));
	return m;
}

/* Append src's samples to dst and re-summarise it; returns how many. */
static size_t append_samples(struct rd_metric *dst, const struct rd_metric *src)
{
	for (size_t k = 0; k < src->n_samples; k++)
		rundoc_metric_add_sample(dst, src->samples[k]);
	if (src->n_samples)
		rundoc_metric_summarise(dst);
	return src->n_samples;
}

/* RUNDOC_MERGE_ACCUMULATE for one benchmark that dst already has. */
static size_t accumulate_bench(struct rd_bench *dst, struct rd_bench *src)
{
	size_t most = 0;

	if (src->status != RUNDOC_STATUS_OK && dst->status == RUNDOC_STATUS_OK) {
		dst->status = src->status;
		free(dst->error);
		dst->error = src->error ? xstrdup(src->error) : NULL;
	}
	for (size_t j = 0; j < src->n_metrics; j++) {
		struct rd_metric *sm = &src->metrics[j];
		struct rd_metric *dm = rundoc_bench_find_metric(dst, sm->name);
		size_t added = sm->n_samples;

		if (dm)
			added = append_samples(dm, sm);
		else
			move_metric(dst, sm);
		if (added > most)
			most = added;
	}
	return most;
}

/* RUNDOC_MERGE_POOL for one benchmark. */
static size_t pool_bench(struct rd_bench *dst, const struct rd_bench *src)
{
	size_t most = 0;

	for (size_t j = 0; j < src->n_metrics; j++) {
		const struct rd_metric *sm = &src->metrics[j];
		struct rd_metric *dm = rundoc_bench_find_metric(dst, sm->name);
		size_t added;

		if (!dm)
			continue;
		added = append_samples(dm, sm);
		if (added > most)
			most = added;
	}
	return most;
}

size_t rundoc_merge(struct rundoc *dst, struct rundoc *src, enum rundoc_merge_mode mode)
{
	size_t added = 0;

	for (size_t i = 0; i < src->n_benches; i++) {
		struct rd_bench *sb = &src->benches[i];
		struct rd_bench *db = rundoc_find_bench(dst, sb->name);

		if (mode == RUNDOC_MERGE_POOL) {
			if (db && sb->status == RUNDOC_STATUS_OK)
				added += pool_bench(db, sb);
		} else if (db) {
			added += accumulate_bench(db, sb);
		} else {
			size_t most = 0;

			for (size_t j = 0; j < sb->n_metrics; j++)
				if (sb->metrics[j].n_samples > most)
					most = sb->metrics[j].n_samples;
			move_bench(dst, sb);
			added += most;
		}
	}
	if (mode == RUNDOC_MERGE_ACCUMULATE) {
		/* Every benchmark moved out or merged: src keeps only empty shells. */
		for (size_t i = 0; i < src->n_benches; i++)
			bench_release(&src->benches[i]);
		src->n_benches = 0;
	}
	return added;
}

bool rundoc_id_prefix(const char *spec, char hex[33])
{
	bool dashes = strchr(spec, '-') != NULL;
	size_t n = 0, len = strlen(spec);

	if (len > 36 || (!dashes && len > 32))
		return false;
	for (size_t i = 0; i < len; i++) {
		if (dashes && (i == 8 || i == 13 || i == 18 || i == 23)) {
			if (spec[i] != '-')
				return false;
			continue;
		}
		if (!isxdigit((unsigned char)spec[i]))
			return false;
		hex[n++] = (char)tolower((unsigned char)spec[i]);
	}
	hex[n] = '\0';
	return n >= RUNDOC_ID_PREFIX_MIN;
}

bool rundoc_id_matches(const char *id, const char *hex)
{
	for (; *hex; id++) {
		if (!*id)
			return false;
		if (*id == '-')
			continue;
		if (tolower((unsigned char)*id) != *hex++)
			return false;
	}
	return true;
}

void rundoc_uuid(char out[37])
{
	unsigned char b[16];
	int fd = open("/dev/urandom", O_RDONLY | O_CLOEXEC);
	ssize_t got = fd >= 0 ? read(fd, b, sizeof(b)) : -1;

	if (fd >= 0)
		close(fd);
	if (got != (ssize_t)sizeof(b)) {
		/* No /dev/urandom: mix the clock and pid; still unique enough per host. */
		uint64_t t = now_ns() ^ ((uint64_t)getpid() << 32);
		for (size_t i = 0; i < sizeof(b); i++) {
			t = t * 6364136223846793005u + 1442695040888963407u;
			b[i] = (unsigned char)(t >> 56);
		}
	}
	b[6] = (unsigned char)((b[6] & 0x0f) | 0x40);
	b[8] = (unsigned char)((b[8] & 0x3f) | 0x80);
	snprintf(out, 37, "%02x%02x%02x%02x-%02x%02x-%02x%02x-%02x%02x-%02x%02x%02x%02x%02x%02x",
		 b[0], b[1], b[2], b[3], b[4], b[5], b[6], b[7], b[8], b[9], b[10], b[11], b[12],
		 b[13], b[14], b[15]);
}

const char *rundoc_direction_name(enum rd_direction d)
{
	return d == RD_HIGHER ? "higher" : "lower";
}

/* ---- serialisation ---- */

static void add_str(cJSON *obj, const char *key, const char *val)
{
	if (val)
		cJSON_AddStringToObject(obj, key, val);
	else
		cJSON_AddNullToObject(obj, key);
}

static void add_num(cJSON *obj, const char *key, double v)
{
	if (isfinite(v))
		cJSON_AddNumberToObject(obj, key, v);
	else
		cJSON_AddNullToObject(obj, key);
}

static void merge_extra(cJSON *obj, const cJSON *extra)
{
	const cJSON *it;

	if (!extra)
		return;
	cJSON_ArrayForEach(it, extra) {
		if (!cJSON_HasObjectItem(obj, it->string))
			cJSON_AddItemToObject(obj, it->string, cJSON_Duplicate(it, 1));
	}
}

static cJSON *metric_to_json(const struct rd_metric *m)
{
	cJSON *o = cJSON_CreateObject();
	cJSON *samples = cJSON_AddArrayToObject(o, "samples");
	cJSON *s = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "name", m->name);
	cJSON_AddStringToObject(o, "unit", m->unit);
	cJSON_AddStringToObject(o, "direction", rundoc_direction_name(m->direction));
	for (size_t i = 0; i < m->n_samples; i++)
		cJSON_AddItemToArray(samples, cJSON_CreateNumber(m->samples[i]));
	cJSON_AddNumberToObject(s, "n", (double)m->summary.n);
	add_num(s, "min", m->summary.min);
	add_num(s, "median", m->summary.median);
	add_num(s, "mean", m->summary.mean);
	add_num(s, "max", m->summary.max);
	add_num(s, "stddev", m->summary.stddev);
	add_num(s, "ci_low", m->summary.ci_low);
	add_num(s, "ci_high", m->summary.ci_high);
	cJSON_AddItemToObject(o, "summary", s);
	merge_extra(o, m->extra);
	return o;
}

cJSON *rundoc_to_json(const struct rundoc *rd)
{
	cJSON *root = cJSON_CreateObject();
	cJSON *git = cJSON_CreateObject(), *ci = cJSON_CreateObject();
	cJSON *parents, *benches;

	cJSON_AddNumberToObject(root, "schema_version", RUNDOC_SCHEMA_VERSION);
	add_str(root, "run_id", rd->run_id);
	add_str(root, "project", rd->project);
	add_str(root, "suite", rd->suite);

	add_str(git, "commit", rd->git.commit);
	add_str(git, "branch", rd->git.branch);
	cJSON_AddBoolToObject(git, "dirty", rd->git.dirty);
	cJSON_AddBoolToObject(git, "shallow", rd->git.shallow);
	add_str(git, "commit_time", rd->git.commit_time);
	add_str(git, "subject", rd->git.subject);
	parents = cJSON_AddArrayToObject(git, "parents");
	for (size_t i = 0; i < rd->git.n_parents; i++)
		cJSON_AddItemToArray(parents, cJSON_CreateString(rd->git.parents[i]));
	add_str(git, "remote", rd->git.remote);
	cJSON_AddItemToObject(root, "git", git);

	add_str(ci, "provider", rd->ci.provider ? rd->ci.provider : "local");
	add_str(ci, "job_url", rd->ci.job_url);
	add_str(ci, "event", rd->ci.event);
	if (rd->ci.pr > 0)
		cJSON_AddNumberToObject(ci, "pr", (double)rd->ci.pr);
	else
		cJSON_AddNullToObject(ci, "pr");
	add_str(ci, "base_branch", rd->ci.base_branch);
	cJSON_AddBoolToObject(ci, "fork", rd->ci.fork);
	cJSON_AddItemToObject(root, "ci", ci);

	{
		cJSON *machine = rd->machine ? cJSON_Duplicate(rd->machine, 1) : cJSON_CreateObject();
		cJSON_DeleteItemFromObject(machine, "fingerprint");
		add_str(machine, "fingerprint", rd->fingerprint);
		cJSON_AddItemToObject(root, "machine", machine);
	}
	add_str(root, "started_at", rd->started_at);
	add_str(root, "finished_at", rd->finished_at);
	cJSON_AddBoolToObject(root, "partial", rd->partial);
	cJSON_AddItemToObject(root, "tags", rd->tags ? cJSON_Duplicate(rd->tags, 1) : cJSON_CreateObject());

	benches = cJSON_AddArrayToObject(root, "benchmarks");
	for (size_t i = 0; i < rd->n_benches; i++) {
		const struct rd_bench *b = &rd->benches[i];
		cJSON *bo = cJSON_CreateObject();
		cJSON *metrics;

		cJSON_AddStringToObject(bo, "name", b->name);
		cJSON_AddStringToObject(bo, "kind", rundoc_bench_kind(b));
		cJSON_AddItemToObject(bo, "params", b->params ? cJSON_Duplicate(b->params, 1) : cJSON_CreateObject());
		add_str(bo, "config_hash", b->config_hash);
		cJSON_AddStringToObject(bo, "status", rundoc_status_name(b->status));
		if (b->error)
			cJSON_AddStringToObject(bo, "error", b->error);
		metrics = cJSON_AddArrayToObject(bo, "metrics");
		for (size_t j = 0; j < b->n_metrics; j++)
			cJSON_AddItemToArray(metrics, metric_to_json(&b->metrics[j]));
		merge_extra(bo, b->extra);
		cJSON_AddItemToArray(benches, bo);
	}
	merge_extra(root, rd->extra);
	return root;
}

char *rundoc_to_string(const struct rundoc *rd)
{
	cJSON *json = rundoc_to_json(rd);
	char *text = xcheck(cJSON_Print(json));

	cJSON_Delete(json);
	return text;
}

int rundoc_save(const struct rundoc *rd, const char *path, struct err *err)
{
	char *text = rundoc_to_string(rd);
	size_t len = strlen(text);
	int rc;

	text = xrealloc(text, len + 2);
	text[len] = '\n';
	text[len + 1] = '\0';
	rc = file_write_atomic(path, text, len + 1, err);
	free(text);
	return rc;
}

/* ---- parsing and validation ---- */

static bool digits(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (s[i] < '0' || s[i] > '9')
			return false;
	return true;
}

static int num2(const char *s)
{
	return (s[0] - '0') * 10 + (s[1] - '0');
}

static bool leap_year(int y)
{
	return (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;
}

/* RFC 3339 date-time: 2026-11-28T18:34:56(.123)?(Z|+01:00), a real date
 * (no 2026-02-31, no year 0) with an offset PostgreSQL takes (up to 15:59). */
static bool is_rfc3339(const char *s)
{
	static const int mdays[] = { 31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31 };
	size_t i = 19;
	int year, month;

	if (strlen(s) < 20 || !digits(s, 4) || s[4] != '-' || !digits(s + 5, 2) || s[7] != '-' ||
	    !digits(s + 8, 2) || (s[10] != 'T' && s[10] != 't' && s[10] != ' ') || !digits(s + 11, 2) ||
	    s[13] != ':' || !digits(s + 14, 2) || s[16] != ':' || !digits(s + 17, 2))
		return false;
	year = num2(s) * 100 + num2(s + 2);
	month = num2(s + 5);
	if (year < 1 || month < 1 || month > 12 || num2(s + 8) < 1 ||
	    num2(s + 8) > mdays[month - 1] + (month == 2 && leap_year(year)) || num2(s + 11) > 23 ||
	    num2(s + 14) > 59 || num2(s + 17) > 60)
		return false;
	if (s[i] == '.') {
		size_t start = ++i;
		while (s[i] >= '0' && s[i] <= '9')
			i++;
		if (i == start || i - start > 9)
			return false;
	}
	if ((s[i] == 'Z' || s[i] == 'z') && s[i + 1] == '\0')
		return true;
	return (s[i] == '+' || s[i] == '-') && digits(s + i + 1, 2) && s[i + 3] == ':' &&
	       digits(s + i + 4, 2) && s[i + 6] == '\0' && num2(s + i + 1) <= 15 && num2(s + i + 4) <= 59;
}

/* A UUID as perfgate writes it and PostgreSQL's uuid type reads it:
 * 8-4-4-4-12 hex digits, either case. */
static bool is_uuid(const char *s)
{
	static const size_t group[] = { 8, 4, 4, 4, 12 };

	for (size_t g = 0; g < ARRAY_SIZE(group); g++) {
		if (strspn(s, "0123456789abcdefABCDEF") != group[g])
			return false;
		s += group[g];
		if (g + 1 < ARRAY_SIZE(group) && *s++ != '-')
			return false;
	}
	return *s == '\0';
}

/* A name (json_name_problem) at path; val may be NULL (absent) or empty
 * (the callers that need a name say so themselves). */
static int check_name(const char *val, const char *path, struct err *err)
{
	char why[96];

	if (val && *val && json_name_problem(val, why, sizeof(why)))
		return err_set(err, ERR_INPUT, "%s: %s", path, why);
	return 0;
}

/* check_name of PATH.KEY, which must not be empty when `required`. */
static int check_member_name(const char *val, const char *path, const char *key, bool required,
			     struct err *err)
{
	char at[300];

	if (required && !*val)
		return err_set(err, ERR_INPUT, "%s.%s: must not be empty", path, key);
	snprintf(at, sizeof(at), "%s.%s", path, key);
	return check_name(val, at, err);
}

static bool is_commit_id(const char *s)
{
	size_t len = strlen(s);

	return len >= 7 && len <= 64 && strspn(s, "0123456789abcdef") == len;
}

static int check_time(const char *val, const char *path, struct err *err)
{
	if (val && !is_rfc3339(val))
		return err_set(err, ERR_INPUT, "%s: expected an RFC 3339 date-time, got \"%s\"", path, val);
	return 0;
}

/* An optional object member, copied into *out (NULL when missing). */
static int read_object(const cJSON *obj, const char *path, const char *key, cJSON **out, struct err *err)
{
	const cJSON *j;
	int rc = json_read(obj, path, key, cJSON_Object, false, &j, err);

	*out = j ? cJSON_Duplicate(j, 1) : NULL;
	return rc;
}

/* Members not in `known` are kept in a new object (NULL when there are none). */
static cJSON *collect_extra(const cJSON *obj, const char *const *known, size_t n_known)
{
	cJSON *extra = NULL;
	const cJSON *it;

	cJSON_ArrayForEach(it, obj) {
		if (str_index(it->string, known, n_known) >= 0)
			continue;
		if (!extra)
			extra = cJSON_CreateObject();
		cJSON_AddItemToObject(extra, it->string, cJSON_Duplicate(it, 1));
	}
	return extra;
}

/*
 * "summary" is optional.  With samples it is recomputed from them (they are the
 * truth); without samples (a harness that reports only aggregates) the given
 * summary is kept.  Either way its members must be numbers (or null).
 */
static int parse_summary(struct rd_metric *m, const cJSON *jm, const char *path, struct err *err)
{
	static const char *const fields[] = { "n", "min", "median", "mean", "max", "stddev",
					      "ci_low", "ci_high" };
	const cJSON *js = cJSON_GetObjectItemCaseSensitive(jm, "summary");
	double v[8];

	rundoc_metric_summarise(m);
	if (!js || cJSON_IsNull(js))
		return 0;
	if (!cJSON_IsObject(js))
		return err_set(err, ERR_INPUT, "%s.summary: expected an object, got %s", path,
			       json_type_name(js));
	for (size_t i = 0; i < 8; i++) {
		const cJSON *j = cJSON_GetObjectItemCaseSensitive(js, fields[i]);
		v[i] = NAN;
		if (!j || cJSON_IsNull(j))
			continue;
		if (!cJSON_IsNumber(j) || !isfinite(j->valuedouble))
			return err_set(err, ERR_INPUT, "%s.summary.%s: expected a finite number or null, got %s",
				       path, fields[i], json_type_name(j));
		v[i] = j->valuedouble;
	}
	if (!isnan(v[0]) && (v[0] < 0 || v[0] != floor(v[0])))
		return err_set(err, ERR_INPUT, "%s.summary.n: expected a whole number >= 0, got %g", path, v[0]);
	if (!isnan(v[0]) && v[0] > (double)JSON_COUNT_MAX)
		return err_set(err, ERR_INPUT, "%s.summary.n: expected at most %ld, got %g", path, JSON_COUNT_MAX,
			       v[0]);
	if (m->n_samples == 0 && !isnan(v[0]) && v[0] > 0) {
		m->summary.n = (size_t)v[0];
		m->summary.min = v[1];
		m->summary.median = v[2];
		m->summary.mean = v[3];
		m->summary.max = v[4];
		m->summary.stddev = isnan(v[5]) ? 0 : v[5];
		m->summary.ci_low = v[6];
		m->summary.ci_high = v[7];
	}
	return 0;
}

static int parse_metric(struct rd_bench *b, const cJSON *jm, const char *path, struct err *err)
{
	static const char *const known[] = { "name", "unit", "direction", "samples", "summary" };
	const cJSON *j, *samples;
	char *name = NULL, *unit = NULL, *dir = NULL;
	struct rd_metric *m;
	size_t i = 0;
	int rc;

	if (!cJSON_IsObject(jm))
		return err_set(err, ERR_INPUT, "%s: expected an object, got %s", path, json_type_name(jm));
	if ((rc = json_read_string(jm, path, "name", true, &name, err)) ||
	    (rc = json_read_string(jm, path, "unit", true, &unit, err)) ||
	    (rc = json_read_string(jm, path, "direction", true, &dir, err)))
		goto done;
	if ((rc = check_member_name(name, path, "name", true, err)) ||
	    (rc = check_member_name(unit, path, "unit", false, err)))
		goto done;
	if (strcmp(dir, "lower") != 0 && strcmp(dir, "higher") != 0) {
		rc = err_set(err, ERR_INPUT, "%s.direction: expected \"lower\" or \"higher\", got \"%s\"",
			     path, dir);
		goto done;
	}
	if (rundoc_bench_find_metric(b, name)) {
		rc = err_set(err, ERR_INPUT, "%s.name: metric \"%s\" appears twice", path, name);
		goto done;
	}
	samples = cJSON_GetObjectItemCaseSensitive(jm, "samples");
	if (!cJSON_IsArray(samples)) {
		rc = err_set(err, ERR_INPUT, "%s.samples: expected an array of numbers, got %s", path,
			     json_type_name(samples));
		goto done;
	}
	m = rundoc_bench_add_metric(b, name, unit, strcmp(dir, "higher") == 0 ? RD_HIGHER : RD_LOWER);
	cJSON_ArrayForEach(j, samples) {
		if (!cJSON_IsNumber(j) || !isfinite(j->valuedouble)) {
			rc = err_set(err, ERR_INPUT, "%s.samples[%zu]: expected a finite number, got %s",
				     path, i, json_type_name(j));
			goto done;
		}
		rundoc_metric_add_sample(m, j->valuedouble);
		i++;
	}
	if ((rc = parse_summary(m, jm, path, err)))
		goto done;
	m->extra = collect_extra(jm, known, ARRAY_SIZE(known));
done:
	free(name);
	free(unit);
	free(dir);
	return rc;
}

/* repeated: the benchmark's name is an earlier one's (str_repeats) */
static int parse_bench(struct rundoc *rd, const cJSON *jb, const char *path, bool repeated, struct err *err)
{
	static const char *const known[] = { "name", "kind", "params", "config_hash", "status",
					     "error", "metrics" };
	char *name = NULL, *kind = NULL, *status = NULL;
	const cJSON *metrics, *jm;
	struct rd_bench *b;
	char sub[256];
	size_t i = 0;
	int rc = 0;

	if (!cJSON_IsObject(jb))
		return err_set(err, ERR_INPUT, "%s: expected an object, got %s", path, json_type_name(jb));
	if ((rc = json_read_string(jb, path, "name", true, &name, err)) ||
	    (rc = json_read_string(jb, path, "kind", true, &kind, err)))
		goto done;
	if ((rc = check_member_name(name, path, "name", true, err)) ||
	    (rc = check_member_name(kind, path, "kind", false, err)))
		goto done;
	if (!*kind) {
		rc = err_set(err, ERR_INPUT, "%s.kind: must not be empty", path);
		goto done;
	}
	if (repeated) {
		rc = err_set(err, ERR_INPUT, "%s.name: benchmark \"%s\" appears twice", path, name);
		goto done;
	}
	b = rundoc_add_bench(rd, name, kind_from_name(kind));
	if (b->kind == RUNDOC_KIND_OTHER) {
		b->kind_other = kind;
		kind = NULL;
	}
	if ((rc = read_object(jb, path, "params", &b->params, err)) ||
	    (rc = json_read_string(jb, path, "config_hash", false, &b->config_hash, err)) ||
	    (rc = json_read_string(jb, path, "status", false, &status, err)) ||
	    (rc = json_read_string(jb, path, "error", false, &b->error, err)))
		goto done;
	if (status && status_from_name(status, &b->status) < 0) {
		rc = err_set(err, ERR_INPUT,
			     "%s.status: expected \"ok\", \"failed\", \"partial\" or \"skipped\", got \"%s\"",
			     path, status);
		goto done;
	}
	metrics = cJSON_GetObjectItemCaseSensitive(jb, "metrics");
	if (!cJSON_IsArray(metrics)) {
		rc = err_set(err, ERR_INPUT, "%s.metrics: expected an array, got %s", path,
			     json_type_name(metrics));
		goto done;
	}
	cJSON_ArrayForEach(jm, metrics) {
		snprintf(sub, sizeof(sub), "%s.metrics[%zu]", path, i++);
		if ((rc = parse_metric(b, jm, sub, err)))
			goto done;
	}
	b->extra = collect_extra(jb, known, ARRAY_SIZE(known));
done:
	free(name);
	free(kind);
	free(status);
	return rc;
}

static int parse_git(struct rundoc *rd, const cJSON *root, struct err *err)
{
	const cJSON *g = cJSON_GetObjectItemCaseSensitive(root, "git"), *p;
	int rc;
	size_t i = 0;

	if (!g || cJSON_IsNull(g))
		return 0;
	if (!cJSON_IsObject(g))
		return err_set(err, ERR_INPUT, "git: expected an object, got %s", json_type_name(g));
	if ((rc = json_read_string(g, "git", "commit", false, &rd->git.commit, err)) ||
	    (rc = json_read_string(g, "git", "branch", false, &rd->git.branch, err)) ||
	    (rc = json_read_bool(g, "git", "dirty", &rd->git.dirty, err)) ||
	    (rc = json_read_bool(g, "git", "shallow", &rd->git.shallow, err)) ||
	    (rc = json_read_string(g, "git", "commit_time", false, &rd->git.commit_time, err)) ||
	    (rc = json_read_string(g, "git", "subject", false, &rd->git.subject, err)) ||
	    (rc = json_read_string(g, "git", "remote", false, &rd->git.remote, err)))
		return rc;
	if (rd->git.commit && !is_commit_id(rd->git.commit))
		return err_set(err, ERR_INPUT, "git.commit: expected a hex commit id, got \"%s\"",
			       rd->git.commit);
	if ((rc = check_time(rd->git.commit_time, "git.commit_time", err)) ||
	    (rc = check_name(rd->git.branch, "git.branch", err)))
		return rc;
	p = cJSON_GetObjectItemCaseSensitive(g, "parents");
	if (p && !cJSON_IsNull(p)) {
		const cJSON *it;
		if (!cJSON_IsArray(p))
			return err_set(err, ERR_INPUT, "git.parents: expected an array, got %s",
				       json_type_name(p));
		cJSON_ArrayForEach(it, p) {
			if (!cJSON_IsString(it))
				return err_set(err, ERR_INPUT, "git.parents[%zu]: expected a string, got %s",
					       i, json_type_name(it));
			if (!is_commit_id(it->valuestring))
				return err_set(err, ERR_INPUT,
					       "git.parents[%zu]: expected a hex commit id, got \"%s\"", i,
					       it->valuestring);
			rd->git.parents = xrealloc(rd->git.parents, (rd->git.n_parents + 1) * sizeof(char *));
			rd->git.parents[rd->git.n_parents++] = xstrdup(it->valuestring);
			i++;
		}
	}
	return 0;
}

static int parse_ci(struct rundoc *rd, const cJSON *root, struct err *err)
{
	const cJSON *c = cJSON_GetObjectItemCaseSensitive(root, "ci"), *pr;
	int rc;

	if (!c || cJSON_IsNull(c))
		return 0;
	if (!cJSON_IsObject(c))
		return err_set(err, ERR_INPUT, "ci: expected an object, got %s", json_type_name(c));
	if ((rc = json_read_string(c, "ci", "provider", false, &rd->ci.provider, err)) ||
	    (rc = json_read_string(c, "ci", "job_url", false, &rd->ci.job_url, err)) ||
	    (rc = json_read_string(c, "ci", "event", false, &rd->ci.event, err)) ||
	    (rc = json_read_string(c, "ci", "base_branch", false, &rd->ci.base_branch, err)) ||
	    (rc = json_read_bool(c, "ci", "fork", &rd->ci.fork, err)) ||
	    (rc = check_name(rd->ci.base_branch, "ci.base_branch", err)))
		return rc;
	pr = cJSON_GetObjectItemCaseSensitive(c, "pr");
	if (pr && !cJSON_IsNull(pr)) {
		if (!cJSON_IsNumber(pr))
			return err_set(err, ERR_INPUT, "ci.pr: expected a whole number >= 0, got %s",
				       json_type_name(pr));
		if (pr->valuedouble < 0 || pr->valuedouble != floor(pr->valuedouble))
			return err_set(err, ERR_INPUT, "ci.pr: expected a whole number >= 0, got %g",
				       pr->valuedouble);
		if (pr->valuedouble > (double)JSON_COUNT_MAX)
			return err_set(err, ERR_INPUT, "ci.pr: expected at most %ld, got %g", JSON_COUNT_MAX,
				       pr->valuedouble);
		rd->ci.pr = (long)pr->valuedouble;
	}
	return 0;
}

/* schema_version, when present: a whole number >= 1 this perfgate reads. */
static int check_schema_version(const cJSON *root, struct err *err)
{
	const cJSON *ver = cJSON_GetObjectItemCaseSensitive(root, "schema_version");

	if (ver && !cJSON_IsNumber(ver))
		return err_set(err, ERR_INPUT, "schema_version: expected a whole number >= 1, got %s",
			       json_type_name(ver));
	if (ver && (ver->valuedouble < 1 || ver->valuedouble != floor(ver->valuedouble)))
		return err_set(err, ERR_INPUT, "schema_version: expected a whole number >= 1, got %g",
			       ver->valuedouble);
	if (ver && ver->valuedouble > RUNDOC_SCHEMA_VERSION)
		return err_set(err, ERR_INPUT,
			       "schema_version: this perfgate reads version %d, got %g (written by a newer perfgate)",
			       RUNDOC_SCHEMA_VERSION, ver->valuedouble);
	return 0;
}

/* "machine" (an object, kept whole) and its fingerprint; "tags" (an object
 * of strings). */
static int parse_machine_tags(struct rundoc *rd, const cJSON *root, struct err *err)
{
	int rc;

	if ((rc = read_object(root, "", "machine", &rd->machine, err)))
		return rc;
	if (rd->machine) {
		const cJSON *fp = cJSON_GetObjectItemCaseSensitive(rd->machine, "fingerprint");

		if (fp && !cJSON_IsNull(fp) && !cJSON_IsString(fp))
			return err_set(err, ERR_INPUT, "machine.fingerprint: expected a string, got %s",
				       json_type_name(fp));
		if (cJSON_IsString(fp) && (rc = check_name(fp->valuestring, "machine.fingerprint", err)))
			return rc;
		if (cJSON_IsString(fp))
			rd->fingerprint = xstrdup(fp->valuestring);
	}
	if ((rc = read_object(root, "", "tags", &rd->tags, err)))
		return rc;
	if (rd->tags) {
		const cJSON *t;

		cJSON_ArrayForEach(t, rd->tags) {
			if (!cJSON_IsString(t))
				return err_set(err, ERR_INPUT, "tags.%s: expected a string, got %s", t->string,
					       json_type_name(t));
		}
	}
	return 0;
}

/* "benchmarks": an array of benchmark objects with names unique in it. */
static int parse_benches(struct rundoc *rd, const cJSON *root, struct err *err)
{
	const cJSON *benches = cJSON_GetObjectItemCaseSensitive(root, "benchmarks"), *jb;
	const char **names;
	bool *repeated;
	char path[64];
	size_t n, i = 0;
	int rc = 0;

	if (!cJSON_IsArray(benches))
		return err_set(err, ERR_INPUT, "benchmarks: expected an array, got %s", json_type_name(benches));
	/* Repeated names by sorting, not by a lookup per benchmark (100,000
	 * benchmarks: milliseconds, not a quadratic scan). */
	n = (size_t)cJSON_GetArraySize(benches);
	names = xcalloc(n ? n : 1, sizeof(*names));
	cJSON_ArrayForEach(jb, benches) {
		const cJSON *nm = cJSON_IsObject(jb) ? cJSON_GetObjectItemCaseSensitive(jb, "name") : NULL;

		names[i++] = cJSON_IsString(nm) ? nm->valuestring : NULL;
	}
	repeated = str_repeats(names, n);
	free(names);
	i = 0;
	cJSON_ArrayForEach(jb, benches) {
		snprintf(path, sizeof(path), "benchmarks[%zu]", i);
		if ((rc = parse_bench(rd, jb, path, repeated[i++], err)))
			break;
	}
	free(repeated);
	return rc;
}

int rundoc_from_json(struct rundoc **out, const cJSON *root, struct err *err)
{
	static const char *const known[] = { "schema_version", "run_id", "project", "suite", "git", "ci",
					     "machine", "started_at", "finished_at", "partial", "tags",
					     "benchmarks" };
	struct rundoc *rd = rundoc_new();
	int rc = 0;

	*out = NULL;
	if (!cJSON_IsObject(root)) {
		rc = err_set(err, ERR_INPUT, "(top level): expected an object, got %s", json_type_name(root));
		goto done;
	}
	if ((rc = check_schema_version(root, err)))
		goto done;
	if ((rc = json_read_string(root, "", "run_id", true, &rd->run_id, err)) ||
	    (rc = json_read_string(root, "", "project", false, &rd->project, err)) ||
	    (rc = json_read_string(root, "", "suite", true, &rd->suite, err)) ||
	    (rc = json_read_string(root, "", "started_at", true, &rd->started_at, err)) ||
	    (rc = json_read_string(root, "", "finished_at", false, &rd->finished_at, err)) ||
	    (rc = json_read_bool(root, "", "partial", &rd->partial, err)) ||
	    (rc = parse_git(rd, root, err)) || (rc = parse_ci(rd, root, err)))
		goto done;
	if ((rc = check_time(rd->started_at, "started_at", err)) ||
	    (rc = check_time(rd->finished_at, "finished_at", err)))
		goto done;
	if (!is_uuid(rd->run_id)) {
		char *shown = str_printable(rd->run_id);

		rc = err_set(err, ERR_INPUT, "run_id: expected a UUID, got \"%.64s\"", shown);
		free(shown);
		goto done;
	}
	if ((rc = check_name(rd->suite, "suite", err)) || (rc = check_name(rd->project, "project", err)))
		goto done;
	if (!rd->project)
		rd->project = xstrdup("default");
	if ((rc = parse_machine_tags(rd, root, err)) || (rc = parse_benches(rd, root, err)))
		goto done;
	rd->extra = collect_extra(root, known, ARRAY_SIZE(known));
done:
	if (rc) {
		rundoc_free(rd);
		return rc;
	}
	*out = rd;
	return 0;
}

int rundoc_parse_text(struct rundoc **out, const char *text, size_t len, struct err *err)
{
	cJSON *json = json_parse_text(text, len, err);
	int rc;

	*out = NULL;
	if (!json)
		return ERR_INPUT;
	rc = rundoc_from_json(out, json, err);
	cJSON_Delete(json);
	return rc;
}

int rundoc_parse(struct rundoc **out, const char *text, struct err *err)
{
	return rundoc_parse_text(out, text, strlen(text), err);
}

int rundoc_check(const struct rundoc *rd, struct err *err)
{
	char *text = rundoc_to_string(rd);
	struct rundoc *back = NULL;
	int rc = rundoc_parse(&back, text, err);

	rundoc_free(back);
	free(text);
	return rc;
}

int rundoc_load(struct rundoc **out, const char *path, struct err *err)
{
	char *text = NULL;
	size_t len = 0;
	int rc;

	*out = NULL;
	if ((rc = file_read_max(path, RUNDOC_READ_MAX, &text, &len, err)))
		return rc;
	rc = rundoc_parse_text(out, text, len, err);
	if (rc)
		err_prefix(err, "%s", path);
	free(text);
	return rc;
}
