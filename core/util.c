#include "util.h"

#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

static util_oom_fn oom_handler;

void util_set_oom_handler(util_oom_fn fn)
{
	oom_handler = fn;
}

/* n == 0: the size is not known (a library's own allocation).  The
 * program's handler says so and ends the process (cmd/main.c); the library
 * never prints.  abort() only when there is none, or it returned: the x*
 * wrappers never return NULL. */
static void die_oom(size_t n)
{
	if (oom_handler)
		oom_handler(n);
	abort();
}

void argv_free(char **v)
{
	if (!v)
		return;
	for (char **p = v; *p; p++)
		free(*p);
	free(v);
}

void *xcheck(void *p)
{
	if (!p)
		die_oom(0);
	return p;
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);
	if (!p)
		die_oom(n);
	return p;
}

void *xcalloc(size_t count, size_t size)
{
	void *p = calloc(count ? count : 1, size ? size : 1);
	if (!p)
		die_oom(count * size);
	return p;
}

void *xrealloc(void *p, size_t n)
{
	void *q = realloc(p, n ? n : 1);
	if (!q)
		die_oom(n);
	return q;
}

char *xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n)
{
	char *p = xmalloc(n + 1);
	memcpy(p, s, n);
	p[n] = '\0';
	return p;
}

char *xasprintf(const char *fmt, ...)
{
	struct sb sb = SB_INIT;
	va_list ap;
	int rc;

	va_start(ap, fmt);
	rc = sb_vprintf(&sb, fmt, ap);
	va_end(ap);
	if (rc < 0)
		die_oom(0);
	return sb.buf;
}

void xgrow(void **p, size_t *alloc, size_t need, size_t size)
{
	size_t n;

	if (need <= *alloc)
		return;
	n = *alloc ? *alloc : 8;
	while (n < need)
		n = n / 2 * 3 + 8;
	*p = xrealloc(*p, n * size);
	*alloc = n;
}

void sb_add(struct sb *sb, const void *data, size_t len)
{
	XGROW(sb->buf, sb->alloc, sb->len + len + 1);
	memcpy(sb->buf + sb->len, data, len);
	sb->len += len;
	sb->buf[sb->len] = '\0';
}

void sb_puts(struct sb *sb, const char *s)
{
	sb_add(sb, s, strlen(s));
}

void sb_putc(struct sb *sb, char c)
{
	sb_add(sb, &c, 1);
}

int sb_vprintf(struct sb *sb, const char *fmt, va_list ap)
{
	va_list again;
	int need;

	va_copy(again, ap);
	need = vsnprintf(NULL, 0, fmt, ap);
	if (need >= 0) {
		XGROW(sb->buf, sb->alloc, sb->len + (size_t)need + 1);
		vsnprintf(sb->buf + sb->len, (size_t)need + 1, fmt, again);
		sb->len += (size_t)need;
	}
	va_end(again);
	return need < 0 ? -1 : 0;
}

void sb_printf(struct sb *sb, const char *fmt, ...)
{
	va_list ap;

	va_start(ap, fmt);
	sb_vprintf(sb, fmt, ap);
	va_end(ap);
}

void sb_reset(struct sb *sb)
{
	sb->len = 0;
	if (sb->buf)
		sb->buf[0] = '\0';
}

char *sb_detach(struct sb *sb)
{
	char *s = sb->buf ? sb->buf : xstrdup("");
	sb->buf = NULL;
	sb->len = sb->alloc = 0;
	return s;
}

void sb_release(struct sb *sb)
{
	free(sb->buf);
	sb->buf = NULL;
	sb->len = sb->alloc = 0;
}

const char *sb_str(const struct sb *sb)
{
	return sb->buf ? sb->buf : "";
}

/* "256 MiB" for a limit in a message. */
static void size_words(size_t n, char *buf, size_t len)
{
	if (n >= ((size_t)1 << 30) && n % ((size_t)1 << 30) == 0)
		snprintf(buf, len, "%zu GiB", n >> 30);
	else if (n >= ((size_t)1 << 20) && n % ((size_t)1 << 20) == 0)
		snprintf(buf, len, "%zu MiB", n >> 20);
	else if (n >= 1024 && n % 1024 == 0)
		snprintf(buf, len, "%zu KiB", n >> 10);
	else
		snprintf(buf, len, "%zu bytes", n);
}

static int too_large(const char *name, size_t max, struct err *err)
{
	char lim[32];

	size_words(max, lim, sizeof(lim));
	return err_set(err, ERR_INPUT, "cannot read '%s': it is larger than %s, perfgate's limit for such a file",
		       name, lim);
}

int fd_read_max(int fd, const char *name, size_t max, char **out, size_t *len, struct err *err)
{
	struct sb sb = SB_INIT;
	char chunk[65536];
	struct stat st;

	/* A regular file says its size: refuse a huge one without reading it. */
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode) && (uintmax_t)st.st_size > (uintmax_t)max)
		return too_large(name, max, err);
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));
		if (n < 0) {
			if (errno == EINTR)
				continue;
			err_sys(err, ERR_INPUT, "cannot read '%s'", name);
			sb_release(&sb);
			return ERR_INPUT;
		}
		if (n == 0)
			break;
		if ((size_t)n > max - sb.len) {
			/* /dev/zero, a pipe that never ends, a file still growing */
			sb_release(&sb);
			return too_large(name, max, err);
		}
		sb_add(&sb, chunk, (size_t)n);
	}
	if (len)
		*len = sb.len;
	*out = sb_detach(&sb);
	return 0;
}

int file_read_max(const char *path, size_t max, char **out, size_t *len, struct err *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC), rc;

	if (fd < 0)
		return err_sys(err, ERR_INPUT, "cannot open '%s'", path);
	rc = fd_read_max(fd, path, max, out, len, err);
	close(fd);
	return rc;
}

int file_read(const char *path, char **out, size_t *len, struct err *err)
{
	return file_read_max(path, FILE_READ_MAX, out, len, err);
}

int file_read_tail(const char *path, off_t from, size_t max, char **out, size_t *len, struct err *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	struct sb sb = SB_INIT;
	char chunk[65536];
	struct stat st;
	off_t start = from < 0 ? 0 : from;

	if (fd < 0)
		return err_sys(err, ERR_INPUT, "cannot open '%s'", path);
	if (fstat(fd, &st) == 0 && S_ISREG(st.st_mode)) {
		if (st.st_size > start && (uintmax_t)(st.st_size - start) > (uintmax_t)max)
			start = st.st_size - (off_t)max;
		if (lseek(fd, start, SEEK_SET) < 0) {
			close(fd);
			return err_sys(err, ERR_INPUT, "cannot read '%s'", path);
		}
	}
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n <= 0)
			break;
		sb_add(&sb, chunk, (size_t)n);
		/* Not a regular file (or one still growing): keep the newest max bytes. */
		if (sb.len > 2 * max) {
			memmove(sb.buf, sb.buf + sb.len - max, max);
			sb.len = max;
		}
	}
	close(fd);
	if (sb.len > max) {
		memmove(sb.buf, sb.buf + sb.len - max, max);
		sb.len = max;
	}
	if (sb.buf)
		sb.buf[sb.len] = '\0';
	if (len)
		*len = sb.len;
	*out = sb_detach(&sb);
	return 0;
}

/* The process's umask, read without changing it (umask(2) cannot only
 * read, and setting it back and forth races with other threads' files). */
static mode_t current_umask(void)
{
	FILE *f = fopen("/proc/self/status", "re");
	char line[128];
	mode_t mask = 022;

	if (!f)
		return mask;
	while (fgets(line, sizeof(line), f)) {
		char *end;
		unsigned long v;

		if (strncmp(line, "Umask:", 6) != 0)
			continue;
		v = strtoul(line + 6, &end, 8);
		if (end != line + 6 && v <= 0777)
			mask = (mode_t)v;
		break;
	}
	fclose(f);
	return mask;
}

int file_write_atomic(const char *path, const void *data, size_t len, struct err *err)
{
	/* A fresh name in the destination folder, created exclusively (mkstemp:
	 * O_CREAT|O_EXCL, so never through a symlink or over a file someone
	 * else put there first), then renamed over PATH (rename replaces a
	 * symlink at PATH itself, it does not follow it). */
	char *tmp = xasprintf("%s.tmp.XXXXXX", path);
	const char *p = data;
	int fd = mkostemp(tmp, O_CLOEXEC);
	int rc = 0;

	if (fd < 0) {
		rc = err_sys(err, ERR_FAIL, "cannot create a temporary file beside '%s'", path);
		goto done;
	}
	/* mkstemp makes it 0600; an ordinary file of ours is 0666 less the umask. */
	if (fchmod(fd, 0666 & ~current_umask()) != 0)
		rc = err_sys(err, ERR_FAIL, "cannot set the mode of '%s'", tmp);
	while (rc == 0 && len > 0) {
		ssize_t n = write(fd, p, len);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			rc = err_sys(err, ERR_FAIL, "cannot write '%s'", tmp);
			break;
		}
		p += n;
		len -= (size_t)n;
	}
	if (rc == 0 && fsync(fd) != 0)
		rc = err_sys(err, ERR_FAIL, "cannot sync '%s'", tmp);
	if (close(fd) != 0 && rc == 0)
		rc = err_sys(err, ERR_FAIL, "cannot close '%s'", tmp);
	if (rc == 0 && rename(tmp, path) != 0)
		rc = err_sys(err, ERR_FAIL, "cannot rename '%s' to '%s'", tmp, path);
	if (rc != 0)
		unlink(tmp);
done:
	free(tmp);
	return rc;
}

char *path_from(const char *dir, const char *path)
{
	if (!path)
		return xstrdup(dir);
	return path[0] == '/' ? xstrdup(path) : xasprintf("%s/%s", dir, path);
}

int mkdir_p(const char *path, struct err *err)
{
	char *copy = xstrdup(path);
	int rc = 0;

	for (char *p = copy + 1; ; p++) {
		if (*p == '/' || *p == '\0') {
			char saved = *p;
			*p = '\0';
			if (mkdir(copy, 0700) != 0 && errno != EEXIST) {
				rc = err_sys(err, ERR_FAIL, "cannot create folder '%s'", copy);
				break;
			}
			*p = saved;
			if (saved == '\0')
				break;
		}
	}
	free(copy);
	return rc;
}

uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

void time_rfc3339(char *buf, size_t len)
{
	struct timespec ts;
	struct tm tm;
	char head[32];

	clock_gettime(CLOCK_REALTIME, &ts);
	gmtime_r(&ts.tv_sec, &tm);
	strftime(head, sizeof(head), "%Y-%m-%dT%H:%M:%S", &tm);
	snprintf(buf, len, "%s.%03ldZ", head, ts.tv_nsec / 1000000);
}

int parse_double(const char *s, double *out, struct err *err)
{
	char *end;
	double v;

	errno = 0;
	v = strtod(s, &end);
	if (end == s || *end != '\0' || errno == ERANGE || !isfinite(v))
		return err_set(err, ERR_INPUT, "'%s' is not a number", s);
	*out = v;
	return 0;
}

int parse_fraction(const char *s, double *out, struct err *err)
{
	size_t len = strlen(s);
	char *num;
	int rc;

	if (len < 2 || s[len - 1] != '%')
		return parse_double(s, out, err);
	num = xstrndup(s, len - 1);
	rc = parse_double(num, out, err);
	free(num);
	if (rc == 0)
		*out /= 100;
	else
		err_set(err, ERR_INPUT, "'%s' is not a fraction such as 5%% or 0.05", s);
	return rc;
}

int parse_int64(const char *s, int64_t *out, struct err *err)
{
	char *end;
	long long v;

	errno = 0;
	v = strtoll(s, &end, 10);
	if (end == s || *end != '\0' || errno == ERANGE)
		return err_set(err, ERR_INPUT, "'%s' is not an integer", s);
	*out = v;
	return 0;
}

struct unit {
	const char *name;
	double scale;
};

/* Whether s[0..n) is a plain decimal number: digits, a point, an exponent and
 * signs only.  strtod also takes hexadecimal ("0x10"), "inf", "nan" and
 * leading blanks, none of which a person means by a duration or a size. */
static bool plain_decimal(const char *s, size_t n)
{
	return strspn(s, "0123456789.eE+-") >= n;
}

static int parse_with_units(const char *s, const struct unit *units, size_t n,
			    const char *bare_unit, const char *what, double max, const char *max_text,
			    double *out, struct err *err)
{
	char *end;
	double v, scale = 1;
	bool found = false;

	errno = 0;
	v = strtod(s, &end);
	if (end == s || errno == ERANGE || !isfinite(v) || !plain_decimal(s, (size_t)(end - s)))
		return err_set(err, ERR_INPUT, "'%s' is not a %s", s, what);
	while (*end == ' ')
		end++;
	if (v < 0)
		return err_set(err, ERR_INPUT, "'%s': a %s cannot be negative", s, what);
	if (*end == '\0') {
		if (!bare_unit)
			return err_set(err, ERR_INPUT, "'%s': a %s needs a unit", s, what);
		found = true;
	}
	for (size_t i = 0; i < n && !found; i++) {
		if (strcmp(end, units[i].name) == 0) {
			scale = units[i].scale;
			found = true;
		}
	}
	if (!found)
		return err_set(err, ERR_INPUT, "'%s': unknown %s unit '%s'", s, what, end);
	v *= scale;
	if (!(v <= max))
		return err_set(err, ERR_INPUT, "'%s': a %s must be at most %s", s, what, max_text);
	*out = v;
	return 0;
}

int parse_duration(const char *s, double *seconds, struct err *err)
{
	static const struct unit units[] = {
		{ "ns", 1e-9 }, { "us", 1e-6 }, { "µs", 1e-6 }, { "ms", 1e-3 },
		{ "s", 1 }, { "m", 60 }, { "min", 60 }, { "h", 3600 },
	};
	return parse_with_units(s, units, ARRAY_SIZE(units), "s", "duration", DURATION_MAX_S,
				DURATION_MAX_TEXT, seconds, err);
}

int parse_size(const char *s, double *bytes, struct err *err)
{
	static const struct unit units[] = {
		{ "B", 1 }, { "KB", 1e3 }, { "kB", 1e3 }, { "MB", 1e6 }, { "GB", 1e9 }, { "TB", 1e12 },
		{ "KiB", 1024.0 }, { "MiB", 1048576.0 }, { "GiB", 1073741824.0 },
		{ "TiB", 1099511627776.0 },
	};
	return parse_with_units(s, units, ARRAY_SIZE(units), "B", "size", SIZE_MAX_BYTES, "1 EB", bytes,
				err);
}

/* Optimal string alignment distance: Levenshtein plus adjacent transpositions,
 * so "hlep" is one edit from "help". */
size_t edit_distance(const char *a, const char *b)
{
	size_t la = strlen(a), lb = strlen(b), w = lb + 1;
	/* Three rows of the table (i - 2, i - 1, i), not all of it: memory
	 * grows with one word's length, not with the product of both. */
	size_t *rows = xmalloc(3 * w * sizeof(*rows)), *pp = rows, *p = rows + w, *d = rows + 2 * w;
	size_t result;

	for (size_t j = 0; j <= lb; j++)
		p[j] = j;
	for (size_t i = 1; i <= la; i++) {
		d[0] = i;
		for (size_t j = 1; j <= lb; j++) {
			size_t cost = a[i - 1] == b[j - 1] ? 0 : 1;
			size_t best = p[j - 1] + cost;
			if (p[j] + 1 < best)
				best = p[j] + 1;
			if (d[j - 1] + 1 < best)
				best = d[j - 1] + 1;
			if (i > 1 && j > 1 && a[i - 1] == b[j - 2] && a[i - 2] == b[j - 1] && pp[j - 2] + 1 < best)
				best = pp[j - 2] + 1;
			d[j] = best;
		}
		{
			size_t *t = pp;
			pp = p;
			p = d;
			d = t;
		}
	}
	result = p[lb];
	free(rows);
	return result;
}

struct strref {
	const char *s;
	size_t i; /* position in the caller's array */
};

static int strref_cmp(const void *a, const void *b)
{
	const struct strref *x = a, *y = b;
	int c = strcmp(x->s, y->s);

	return c ? c : (x->i > y->i) - (x->i < y->i);
}

bool *str_repeats(const char *const *v, size_t n)
{
	struct strref *r = xmalloc((n ? n : 1) * sizeof(*r));
	bool *dup = xcalloc(n ? n : 1, sizeof(*dup));
	size_t m = 0;

	for (size_t i = 0; i < n; i++)
		if (v[i])
			r[m++] = (struct strref){ v[i], i };
	qsort(r, m, sizeof(*r), strref_cmp);
	for (size_t k = 1; k < m; k++)
		if (strcmp(r[k].s, r[k - 1].s) == 0)
			dup[r[k].i] = true;
	free(r);
	return dup;
}

const char *closest_match(const char *word, const char *const *candidates, size_t n)
{
	const char *best = NULL;
	size_t best_d = (size_t)-1;
	size_t len = strlen(word);
	/* A third of the word's length, at least 1 and at most 3 edits. */
	size_t limit = len / 3 < 1 ? 1 : (len / 3 > 3 ? 3 : len / 3);

	for (size_t i = 0; i < n; i++) {
		size_t lc = strlen(candidates[i]), d;

		/* The lengths' difference is a lower bound of the distance: a
		 * candidate it already rules out costs nothing (a 10 MB word is
		 * not compared letter by letter with "repetitions"). */
		if ((len > lc ? len - lc : lc - len) > limit)
			continue;
		d = edit_distance(word, candidates[i]);
		if (d < best_d) {
			best_d = d;
			best = candidates[i];
		}
	}
	if (best && best_d <= limit)
		return best;
	/* A prefix of a longer name ("comp" for "compare") is also a good hint. */
	for (size_t i = 0; i < n && len >= 3; i++)
		if (strncmp(word, candidates[i], len) == 0)
			return candidates[i];
	return NULL;
}

/* SHA-256 (FIPS 180-4), small and portable; used for configuration hashes. */
static const uint32_t sha_k[64] = {
	0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
	0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
	0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
	0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
	0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
	0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
	0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
	0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

#define ROR(x, n) (((x) >> (n)) | ((x) << (32 - (n))))

static void sha_block(uint32_t h[8], const unsigned char *p)
{
	uint32_t w[64], a, b, c, d, e, f, g, hh;

	for (int i = 0; i < 16; i++)
		w[i] = (uint32_t)p[4 * i] << 24 | (uint32_t)p[4 * i + 1] << 16 |
		       (uint32_t)p[4 * i + 2] << 8 | (uint32_t)p[4 * i + 3];
	for (int i = 16; i < 64; i++) {
		uint32_t s0 = ROR(w[i - 15], 7) ^ ROR(w[i - 15], 18) ^ (w[i - 15] >> 3);
		uint32_t s1 = ROR(w[i - 2], 17) ^ ROR(w[i - 2], 19) ^ (w[i - 2] >> 10);
		w[i] = w[i - 16] + s0 + w[i - 7] + s1;
	}
	a = h[0]; b = h[1]; c = h[2]; d = h[3]; e = h[4]; f = h[5]; g = h[6]; hh = h[7];
	for (int i = 0; i < 64; i++) {
		uint32_t t1 = hh + (ROR(e, 6) ^ ROR(e, 11) ^ ROR(e, 25)) + ((e & f) ^ (~e & g)) + sha_k[i] + w[i];
		uint32_t t2 = (ROR(a, 2) ^ ROR(a, 13) ^ ROR(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
		hh = g; g = f; f = e; e = d + t1; d = c; c = b; b = a; a = t1 + t2;
	}
	h[0] += a; h[1] += b; h[2] += c; h[3] += d; h[4] += e; h[5] += f; h[6] += g; h[7] += hh;
}

/* SHA-256 over data given in pieces. */
struct sha256 {
	uint32_t h[8];
	unsigned char buf[64];
	size_t fill;
	uint64_t len;
};

static void sha256_init(struct sha256 *c)
{
	static const uint32_t iv[8] = { 0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
					0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19 };

	memcpy(c->h, iv, sizeof(iv));
	c->fill = 0;
	c->len = 0;
}

static void sha256_update(struct sha256 *c, const void *data, size_t n)
{
	const unsigned char *p = data;

	c->len += n;
	if (c->fill) {
		size_t take = 64 - c->fill < n ? 64 - c->fill : n;

		memcpy(c->buf + c->fill, p, take);
		c->fill += take;
		p += take;
		n -= take;
		if (c->fill < 64)
			return;
		sha_block(c->h, c->buf);
		c->fill = 0;
	}
	for (; n >= 64; p += 64, n -= 64)
		sha_block(c->h, p);
	if (n)
		memcpy(c->buf, p, n);
	c->fill = n;
}

static void sha256_final(struct sha256 *c, unsigned char out[32])
{
	unsigned char tail[128];
	uint64_t bits = c->len * 8;
	size_t tlen = c->fill + 1 + 8 <= 64 ? 64 : 128;

	memset(tail, 0, sizeof(tail));
	memcpy(tail, c->buf, c->fill);
	tail[c->fill] = 0x80;
	for (int i = 0; i < 8; i++)
		tail[tlen - 1 - (size_t)i] = (unsigned char)(bits >> (8 * i));
	for (size_t i = 0; i < tlen; i += 64)
		sha_block(c->h, tail + i);
	for (int i = 0; i < 8; i++) {
		out[4 * i] = (unsigned char)(c->h[i] >> 24);
		out[4 * i + 1] = (unsigned char)(c->h[i] >> 16);
		out[4 * i + 2] = (unsigned char)(c->h[i] >> 8);
		out[4 * i + 3] = (unsigned char)c->h[i];
	}
}

/* SHA-256 of two buffers one after the other. */
static void sha256_two(const void *d1, size_t l1, const void *d2, size_t l2, unsigned char out[32])
{
	struct sha256 c;

	sha256_init(&c);
	sha256_update(&c, d1, l1);
	if (l2)
		sha256_update(&c, d2, l2);
	sha256_final(&c, out);
}

static void hex32(const unsigned char d[32], char out[65])
{
	for (int i = 0; i < 32; i++)
		snprintf(out + 2 * i, 3, "%02x", d[i]);
}

void sha256_hex(const void *data, size_t len, char out[65])
{
	unsigned char d[32];

	sha256_two(data, len, NULL, 0, d);
	hex32(d, out);
}

void hmac_sha256_hex(const void *key, size_t key_len, const void *data, size_t len, char out[65])
{
	unsigned char k[64], pad[64], inner[32], d[32];

	memset(k, 0, sizeof(k));
	if (key_len > 64)
		sha256_two(key, key_len, NULL, 0, k);
	else if (key_len)
		memcpy(k, key, key_len);
	for (int i = 0; i < 64; i++)
		pad[i] = k[i] ^ 0x36;
	sha256_two(pad, 64, data, len, inner);
	for (int i = 0; i < 64; i++)
		pad[i] = k[i] ^ 0x5c;
	sha256_two(pad, 64, inner, 32, d);
	hex32(d, out);
}

long str_index(const char *word, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(word, list[i]) == 0)
			return (long)i;
	return -1;
}

/* ---- text from outside ---- */

size_t utf8_seq_len(const unsigned char *s, size_t n)
{
	unsigned c = s[0];
	size_t len;
	unsigned long cp;

	if (c < 0x80)
		return 1;
	if (c >= 0xc2 && c <= 0xdf)
		len = 2, cp = c & 0x1f;
	else if (c >= 0xe0 && c <= 0xef)
		len = 3, cp = c & 0x0f;
	else if (c >= 0xf0 && c <= 0xf4)
		len = 4, cp = c & 0x07;
	else
		return 0;
	if (n < len)
		return 0;
	for (size_t i = 1; i < len; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
		cp = cp << 6 | (s[i] & 0x3f);
	}
	if ((len == 3 && cp < 0x800) || (len == 4 && (cp < 0x10000 || cp > 0x10ffff)) ||
	    (cp >= 0xd800 && cp <= 0xdfff))
		return 0;
	return len;
}

bool utf8_valid(const char *s, size_t n, size_t *bad)
{
	const unsigned char *u = (const unsigned char *)s;

	for (size_t i = 0; i < n;) {
		size_t k = utf8_seq_len(u + i, n - i);
		if (k == 0) {
			if (bad)
				*bad = i;
			return false;
		}
		i += k;
	}
	return true;
}

long str_control_char(const char *s)
{
	const unsigned char *u = (const unsigned char *)s;

	for (; *u; u++) {
		if (*u < 0x20 || *u == 0x7f)
			return *u;
		if (*u == 0xc2 && u[1] >= 0x80 && u[1] <= 0x9f)
			return u[1];
	}
	return -1;
}

void sb_put_printable(struct sb *sb, const char *s)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t n = strlen(s);

	for (size_t i = 0; i < n;) {
		unsigned c = u[i];
		size_t k = utf8_seq_len(u + i, n - i);

		if (c == '\n') {
			sb_puts(sb, "\\n");
		} else if (c == '\r') {
			sb_puts(sb, "\\r");
		} else if (c == '\t') {
			sb_puts(sb, "\\t");
		} else if (c < 0x20 || c == 0x7f || k == 0) {
			sb_printf(sb, "\\x%02x", c);
		} else if (c == 0xc2 && u[i + 1] >= 0x80 && u[i + 1] <= 0x9f) {
			sb_printf(sb, "\\u%04x", u[i + 1]);
			i += 2;
			continue;
		} else {
			sb_add(sb, u + i, k);
			i += k;
			continue;
		}
		i++;
	}
}

char *str_printable(const char *s)
{
	struct sb sb = SB_INIT;

	sb_puts(&sb, "");
	sb_put_printable(&sb, s ? s : "");
	return sb_detach(&sb);
}
