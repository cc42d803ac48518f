/*
 * records.c: per-request JSON lines, formatted by the engine's workers and
 * written by a thread of their own (see records.h).
 */
#include "records.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../util.h"

#define DEFAULT_BUFFER (256u << 10)

struct buf {
	struct sb text;
	uint64_t records;     /* lines in text */
	struct buf *next;
};

struct http_records_local {
	struct http_records *r;
	uint32_t worker;
	struct buf *cur;
};

struct http_records {
	int fd;
	char *path;
	size_t buffer_bytes, pool;
	pthread_t thread;
	bool started;
	pthread_mutex_t mu;
	pthread_cond_t work, freed;
	struct buf *full, *full_tail;  /* waiting for the writer, oldest first */
	struct buf *free;
	size_t allocated;
	bool stop;
	int write_errno;
	uint64_t lost;
	struct http_records_stats stats;
	struct http_records_local *locals;
	size_t n_locals;
	/* the step, set before its workers start */
	struct sb bench;               /* the benchmark's name as a JSON string */
	long step;
	uint64_t t0;
};

/* ---- the writer ---- */

static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t w = write(fd, p, n);

		if (w < 0) {
			if (errno == EINTR)
				continue;
			return errno;
		}
		p += w;
		n -= (size_t)w;
	}
	return 0;
}

static void *writer(void *arg)
{
	struct http_records *r = arg;

	pthread_mutex_lock(&r->mu);
	for (;;) {
		struct buf *b;
		int e = 0;

		while (!r->full && !r->stop)
			pthread_cond_wait(&r->work, &r->mu);
		if (!r->full)
			break;
		b = r->full;
		r->full = b->next;
		if (!r->full)
			r->full_tail = NULL;
		pthread_mutex_unlock(&r->mu);
		if (!r->write_errno)
			e = write_all(r->fd, b->text.buf, b->text.len);
		pthread_mutex_lock(&r->mu);
		if (e)
			r->write_errno = e;
		if (r->write_errno) {
			r->lost += b->records;
		} else {
			r->stats.records += b->records;
			r->stats.bytes += b->text.len;
		}
		sb_reset(&b->text);
		b->records = 0;
		b->next = r->free;
		r->free = b;
		pthread_cond_broadcast(&r->freed);
	}
	pthread_mutex_unlock(&r->mu);
	return NULL;
}

static struct buf *take(struct http_records *r)
{
	struct buf *b;

	pthread_mutex_lock(&r->mu);
	while (!r->free && r->allocated >= r->pool) {
		r->stats.stalls++;
		pthread_cond_wait(&r->freed, &r->mu);
	}
	if (r->free) {
		b = r->free;
		r->free = b->next;
	} else {
		b = xcalloc(1, sizeof(*b));
		r->allocated++;
	}
	pthread_mutex_unlock(&r->mu);
	b->next = NULL;
	return b;
}

static void hand_over(struct http_records *r, struct buf *b)
{
	pthread_mutex_lock(&r->mu);
	if (r->full_tail)
		r->full_tail->next = b;
	else
		r->full = b;
	r->full_tail = b;
	pthread_cond_signal(&r->work);
	pthread_mutex_unlock(&r->mu);
}

/* ---- formatting by hand, digit by digit (it runs once per request) ---- */

static void put_u64(struct sb *s, uint64_t v)
{
	char d[24];
	size_t n = 0;

	do
		d[sizeof(d) - ++n] = (char)('0' + v % 10);
	while ((v /= 10) != 0);
	sb_add(s, d + sizeof(d) - n, n);
}

#define PUT(s, lit) sb_add((s), lit, sizeof(lit) - 1)

static void put_count(struct sb *s, long v)
{
	if (v < 0)
		PUT(s, "null");
	else
		put_u64(s, (uint64_t)v);
}

static void put_time(struct sb *s, uint64_t t, uint64_t t0)
{
	if (!t)
		PUT(s, "null");
	else
		put_u64(s, t > t0 ? t - t0 : 0);
}

static void put_string(struct sb *s, const char *v)
{
	static const char hex[] = "0123456789abcdef";

	if (!v) {
		PUT(s, "null");
		return;
	}
	sb_putc(s, '"');
	for (; *v; v++) {
		unsigned char c = (unsigned char)*v;

		if (c == '"' || c == '\\') {
			sb_putc(s, '\\');
			sb_putc(s, (char)c);
		} else if (c < 0x20) {
			char e[6] = { '\\', 'u', '0', '0', hex[c >> 4], hex[c & 15] };

			sb_add(s, e, sizeof(e));
		} else {
			sb_putc(s, (char)c);
		}
	}
	sb_putc(s, '"');
}

static void format(struct http_records *r, struct sb *s, const struct http_record *x)
{
	PUT(s, "{\"benchmark\":");
	sb_add(s, r->bench.buf, r->bench.len);
	PUT(s, ",\"step\":");
	put_count(s, r->step);
	PUT(s, ",\"worker\":");
	put_u64(s, x->worker);
	PUT(s, ",\"seq\":");
	put_u64(s, x->seq);
	if (x->warmup)
		PUT(s, ",\"warmup\":true,\"t_sched\":");
	else
		PUT(s, ",\"warmup\":false,\"t_sched\":");
	put_time(s, x->t_sched, r->t0);
	PUT(s, ",\"t_send\":");
	put_time(s, x->t_send, r->t0);
	PUT(s, ",\"t_first_byte\":");
	put_time(s, x->t_first_byte, r->t0);
	PUT(s, ",\"t_first_token\":");
	put_time(s, x->t_first_token, r->t0);
	PUT(s, ",\"t_end\":");
	put_time(s, x->t_end, r->t0);
	PUT(s, ",\"status\":");
	put_count(s, x->status > 0 ? x->status : -1);
	PUT(s, ",\"error\":");
	put_string(s, x->error);
	PUT(s, ",\"class\":");
	put_string(s, x->class_name);
	PUT(s, ",\"session\":");
	put_count(s, x->session);
	PUT(s, ",\"turn\":");
	put_count(s, x->turn);
	PUT(s, ",\"input_tokens_requested\":");
	put_count(s, x->input_tokens_requested);
	PUT(s, ",\"input_tokens\":");
	put_count(s, x->input_tokens);
	PUT(s, ",\"cached_tokens\":");
	put_count(s, x->cached_tokens);
	PUT(s, ",\"output_tokens_requested\":");
	put_count(s, x->output_tokens_requested);
	PUT(s, ",\"output_tokens\":");
	put_count(s, x->output_tokens);
	PUT(s, ",\"reasoning_tokens\":");
	put_count(s, x->reasoning_tokens);
	PUT(s, ",\"itl\":[");
	for (size_t i = 0; i < x->n_itl; i++) {
		if (i)
			sb_putc(s, ',');
		put_u64(s, x->itl[i]);
	}
	PUT(s, "]}\n");
}

/* ---- the public side ---- */

void http_records_add(struct http_records_local *l, const struct http_record *rec)
{
	struct http_records *r = l->r;

	if (!l->cur)
		l->cur = take(r);
	format(r, &l->cur->text, rec);
	l->cur->records++;
	if (l->cur->text.len >= r->buffer_bytes) {
		hand_over(r, l->cur);
		l->cur = NULL;
	}
}

void http_records_flush(struct http_records_local *l)
{
	if (l->cur && l->cur->records) {
		hand_over(l->r, l->cur);
		l->cur = NULL;
	}
}

void http_records_step(struct http_records *r, const char *benchmark, long step, uint64_t t0, size_t workers)
{
	sb_reset(&r->bench);
	put_string(&r->bench, benchmark);
	r->step = step;
	r->t0 = t0;
	for (size_t i = 0; i < workers && i < r->n_locals; i++)
		r->locals[i].worker = (uint32_t)i;
}

struct http_records_local *http_records_local(struct http_records *r, size_t worker)
{
	return worker < r->n_locals ? &r->locals[worker] : NULL;
}

int http_records_open(struct http_records **out, const struct http_records_options *o, struct err *err)
{
	struct http_records *r = xcalloc(1, sizeof(*r));
	size_t workers = o->workers ? o->workers : 1;

	struct stat link;

	*out = NULL;
	/* Streamed, so not written beside and renamed (file_write_atomic): a
	 * symlink is followed only when this user or root made it (another
	 * user's link planted in /tmp must not aim our write at a file of
	 * theirs' choosing; /dev/stdout is root's). */
	if (lstat(o->path, &link) == 0 && S_ISLNK(link.st_mode) && link.st_uid != geteuid() && link.st_uid != 0) {
		free(r);
		return err_set(err, ERR_INPUT, "the request records '%s' is a symlink of another user: not followed "
			       "(remove it, or name another file)", o->path);
	}
	r->fd = open(o->path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (r->fd < 0) {
		int rc = err_sys(err, ERR_FAIL, "cannot create the request records '%s'", o->path);

		free(r);
		return rc;
	}
	r->path = xstrdup(o->path);
	r->buffer_bytes = o->buffer_bytes ? o->buffer_bytes : DEFAULT_BUFFER;
	/* Workers keep filling the buffers they hold and hand them over, so a
	 * pool smaller than the workers only makes some wait. */
	r->pool = o->buffers >= 2 ? o->buffers : 64;
	r->n_locals = workers;
	r->locals = xcalloc(workers, sizeof(*r->locals));
	for (size_t i = 0; i < workers; i++) {
		r->locals[i].r = r;
		r->locals[i].worker = (uint32_t)i;
	}
	put_string(&r->bench, "");
	pthread_mutex_init(&r->mu, NULL);
	pthread_cond_init(&r->work, NULL);
	pthread_cond_init(&r->freed, NULL);
	if (pthread_create(&r->thread, NULL, writer, r) != 0) {
		struct http_records_stats st;

		http_records_close(r, &st, err);
		return err_set(err, ERR_FAIL, "cannot start the request records writer");
	}
	r->started = true;
	*out = r;
	return 0;
}

int http_records_close(struct http_records *r, struct http_records_stats *stats, struct err *err)
{
	int rc = 0;

	if (!r)
		return 0;
	for (size_t i = 0; i < r->n_locals; i++)
		http_records_flush(&r->locals[i]);
	pthread_mutex_lock(&r->mu);
	r->stop = true;
	pthread_cond_signal(&r->work);
	pthread_mutex_unlock(&r->mu);
	if (r->started)
		pthread_join(r->thread, NULL);
	if (close(r->fd) != 0 && !r->write_errno)
		r->write_errno = errno;
	r->stats.buffers = r->allocated;
	if (stats)
		*stats = r->stats;
	if (r->write_errno)
		rc = err_set(err, ERR_FAIL, "request records '%s': %llu records lost: %s", r->path,
			     (unsigned long long)r->lost, strerror(r->write_errno));
	while (r->free) {
		struct buf *b = r->free;

		r->free = b->next;
		sb_release(&b->text);
		free(b);
	}
	for (size_t i = 0; i < r->n_locals; i++)
		if (r->locals[i].cur) {
			sb_release(&r->locals[i].cur->text);
			free(r->locals[i].cur);
		}
	pthread_mutex_destroy(&r->mu);
	pthread_cond_destroy(&r->work);
	pthread_cond_destroy(&r->freed);
	sb_release(&r->bench);
	free(r->locals);
	free(r->path);
	free(r);
	return rc;
}
