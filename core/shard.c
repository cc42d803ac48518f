/*
 * shard.c: a shard's identity, its group, the common clock and the run
 * document's "shard" member (see shard.h).
 */
#include "shard.h"

#include <ctype.h>
#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timex.h>
#include <time.h>

#include "baseline.h"
#include "run.h"
#include "rundoc.h"
#include "suite.h"
#include "util.h"

#define LEAD_S 1.0 /* --start-at: a later step starts this long after the previous one's span */

/* A whole number in [lo, hi] filling all of s. */
static bool parse_uint(const char *s, unsigned lo, unsigned hi, unsigned *out)
{
	char *end;
	unsigned long v;

	if (!s || !isdigit((unsigned char)*s))
		return false;
	errno = 0;
	v = strtoul(s, &end, 10);
	if (errno || *end || v < lo || v > hi)
		return false;
	*out = (unsigned)v;
	return true;
}

int shard_spec_parse(const char *text, struct shard_spec *out, struct err *err)
{
	const char *slash = text ? strchr(text, '/') : NULL;
	char idx[16];
	unsigned i, n;

	if (!slash || (size_t)(slash - text) >= sizeof(idx) ||
	    !parse_uint(slash + 1, 1, SHARD_MAX, &n))
		goto bad;
	memcpy(idx, text, (size_t)(slash - text));
	idx[slash - text] = '\0';
	if (!parse_uint(idx, 1, n, &i))
		goto bad;
	out->index = i - 1;
	out->count = n;
	out->from = "--shard";
	return 0;
bad:
	return err_set(err, ERR_INPUT, "invalid shard '%s': expected I/N with 1 <= I <= N <= %d (\"2/4\")",
		       text ? text : "", SHARD_MAX);
}

int shard_spec_from_env(struct shard_spec *out, bool *found, struct err *err)
{
	const char *v = getenv("PERFGATE_SHARD"), *i = getenv("CI_NODE_INDEX"), *n = getenv("CI_NODE_TOTAL");
	const char *k = getenv("JOB_COMPLETION_INDEX"), *kn = getenv("PERFGATE_SHARDS");
	unsigned total, at;
	int rc;

	*found = false;
	if (v && *v) {
		if ((rc = shard_spec_parse(v, out, err)) != 0) {
			err_prefix(err, "PERFGATE_SHARD");
			return rc;
		}
		out->from = "PERFGATE_SHARD";
	} else if (i && *i && n && *n && strcmp(n, "1") != 0) {
		/* GitLab's `parallel: N`: CI_NODE_INDEX is 1..N. */
		if (!parse_uint(n, 1, SHARD_MAX, &total) || !parse_uint(i, 1, total, &at))
			return err_set(err, ERR_INPUT, "CI_NODE_INDEX '%s' of CI_NODE_TOTAL '%s': expected 1 <= index <= total <= %d",
				       i, n, SHARD_MAX);
		*out = (struct shard_spec){ at - 1, total, "CI_NODE_INDEX/CI_NODE_TOTAL" };
	} else if (k && *k && kn && *kn) {
		/* A Kubernetes Indexed Job: JOB_COMPLETION_INDEX is 0..N-1. */
		if (!parse_uint(kn, 1, SHARD_MAX, &total) || !parse_uint(k, 0, total - 1, &at))
			return err_set(err, ERR_INPUT, "JOB_COMPLETION_INDEX '%s' of PERFGATE_SHARDS '%s': expected 0 <= index < shards <= %d",
				       k, kn, SHARD_MAX);
		*out = (struct shard_spec){ at, total, "JOB_COMPLETION_INDEX/PERFGATE_SHARDS" };
	} else {
		return 0;
	}
	*found = true;
	return 0;
}

static int group_check(const char *g, struct err *err)
{
	size_t len = strlen(g);

	if (len == 0 || len > SHARD_GROUP_MAX)
		return err_set(err, ERR_INPUT, "invalid shard group '%s': expected 1 to %d characters", g, SHARD_GROUP_MAX);
	for (const char *p = g; *p; p++)
		if (isspace((unsigned char)*p) || iscntrl((unsigned char)*p))
			return err_set(err, ERR_INPUT, "invalid shard group '%s': no spaces or control characters", g);
	return 0;
}

int shard_group_id(const char *given, const char *suite, char **out, struct err *err)
{
	const char *env = getenv("PERFGATE_SHARD_GROUP");
	const char *gh = getenv("GITHUB_RUN_ID"), *gl = getenv("CI_PIPELINE_ID");
	char *g = NULL;
	int rc;

	*out = NULL;
	if (given)
		g = xstrdup(given);
	else if (env && *env)
		g = xstrdup(env);
	else if (gh && *gh)
		g = xasprintf("github-%s-%s/%s", gh, getenv("GITHUB_RUN_ATTEMPT") ? getenv("GITHUB_RUN_ATTEMPT") : "1", suite);
	else if (gl && *gl)
		g = xasprintf("gitlab-%s/%s", gl, suite);
	else
		return err_set(err, ERR_INPUT, "a sharded run needs its group's id, the same for every shard and the merge: "
			       "--shard-group ID or PERFGATE_SHARD_GROUP (GitHub Actions and GitLab CI give one)");
	if ((rc = group_check(g, err)) != 0) {
		free(g);
		return rc;
	}
	*out = g;
	return 0;
}

void shard_config_hash(const struct suite *s, const struct run_options *o, unsigned count, char out[65])
{
	struct sb sb = SB_INIT;

	sb_printf(&sb, "perfgate shards\nsuite %s\nshards %u\n", s->name, count);
	for (size_t i = 0; i < s->n_benches; i++)
		if (run_selected(o, s->benches[i].name))
			sb_printf(&sb, "%s\t%s\n", s->benches[i].name, s->benches[i].config_hash);
	sha256_hex(sb.buf, sb.len, out);
	sb_release(&sb);
}

/* ---- the clock ---- */

double shard_now(void)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

uint64_t shard_to_mono(double common, const struct shard_start *st)
{
	double local = common + st->offset, now = shard_now();
	uint64_t mono = now_ns();
	double ahead = (local - now) * 1e9;

	if (ahead <= 0)
		return mono > (uint64_t)-ahead ? mono - (uint64_t)-ahead : 1;
	return mono + (uint64_t)ahead;
}

double shard_from_mono(uint64_t mono, const struct shard_start *st)
{
	double now = shard_now();
	uint64_t m = now_ns();
	double ago = m >= mono ? (double)(m - mono) / 1e9 : -(double)(mono - m) / 1e9;

	return now - ago - st->offset;
}

void shard_clock_kernel(struct shard_start *out)
{
	struct timex tx;
	int state;

	memset(&tx, 0, sizeof(tx));
	state = adjtimex(&tx);
	out->offset = 0;
	if (state == -1 || state == TIME_ERROR || (tx.status & STA_UNSYNC)) {
		out->uncertainty = -1;
		out->source = "unsynchronised";
	} else {
		out->uncertainty = (double)tx.esterror / 1e6;
		out->source = "ntp";
	}
}

/* --start-at's clock: deterministic starts from the first. */
static int start_at_step(void *arg, unsigned step, double span, double wait, struct shard_start *out,
			 struct err *err)
{
	struct shard *sh = arg;

	(void)wait;
	if (step > 0) {
		if (span < 0)
			return err_set(err, ERR_INPUT, "with --start-at every load step but the last needs a known length "
				       "(load.duration, not load.requests): the shards could not start the next one together; "
				       "let them meet through the database instead");
		sh->next_planned += span + LEAD_S;
	}
	shard_clock_kernel(out);
	out->planned = sh->next_planned;
	return 0;
}

void shard_init(struct shard *sh, const struct shard_spec *spec, const char *group, const char *config_hash)
{
	memset(sh, 0, sizeof(*sh));
	sh->spec = *spec;
	sh->group = xstrdup(group);
	snprintf(sh->config_hash, sizeof(sh->config_hash), "%s", config_hash);
	sh->start_at = NAN;
	sh->wait = 600;
}

void shard_use_start_at(struct shard *sh, double start_at)
{
	sh->start_at = start_at;
	sh->next_planned = start_at;
	sh->clock.step_start = start_at_step;
	sh->clock.arg = sh;
}

void shard_release(struct shard *sh)
{
	if (!sh)
		return;
	free(sh->group);
	sh->group = NULL;
}

int shard_parse_time(const char *text, double *out, struct err *err)
{
	char *end;
	double t;

	if (text && isdigit((unsigned char)*text) && !strchr(text, 'T')) {
		errno = 0;
		t = strtod(text, &end);
		if (!errno && !*end && isfinite(t) && t > 0) {
			*out = t;
			return 0;
		}
	} else if (text && isfinite(t = baseline_parse_time(text))) {
		*out = t;
		return 0;
	}
	return err_set(err, ERR_INPUT, "invalid start time '%s': expected RFC 3339 (\"2026-11-28T18:00:00Z\") "
		       "or seconds since the epoch", text ? text : "");
}

/* ---- the run document ---- */

void shard_stamp(struct rundoc *rd, const struct shard *sh)
{
	cJSON *o;

	if (!rd->extra)
		rd->extra = cJSON_CreateObject();
	cJSON_DeleteItemFromObjectCaseSensitive(rd->extra, "shard");
	o = cJSON_AddObjectToObject(rd->extra, "shard");
	cJSON_AddStringToObject(o, "group", sh->group);
	cJSON_AddNumberToObject(o, "index", sh->spec.index + 1);
	cJSON_AddNumberToObject(o, "count", sh->spec.count);
	cJSON_AddStringToObject(o, "config_hash", sh->config_hash);
	cJSON_AddStringToObject(o, "clock", isnan(sh->start_at) ? "database" : "start_at");
}

bool shard_ident_of(const struct rundoc *rd, struct shard_ident *out)
{
	const cJSON *o = rd->extra ? cJSON_GetObjectItemCaseSensitive(rd->extra, "shard") : NULL;
	const cJSON *g, *i, *n, *h;

	if (!cJSON_IsObject(o))
		return false;
	g = cJSON_GetObjectItemCaseSensitive(o, "group");
	i = cJSON_GetObjectItemCaseSensitive(o, "index");
	n = cJSON_GetObjectItemCaseSensitive(o, "count");
	h = cJSON_GetObjectItemCaseSensitive(o, "config_hash");
	if (!cJSON_IsString(g) || !cJSON_IsNumber(i) || !cJSON_IsNumber(n) || !cJSON_IsString(h) ||
	    !(n->valuedouble >= 1 && n->valuedouble <= SHARD_MAX) || !(i->valuedouble >= 1 && i->valuedouble <= n->valuedouble) ||
	    i->valuedouble != floor(i->valuedouble) || n->valuedouble != floor(n->valuedouble))
		return false;
	out->group = g->valuestring;
	out->index = (unsigned)i->valuedouble - 1;
	out->count = (unsigned)n->valuedouble;
	out->config_hash = h->valuestring;
	return true;
}
