/* Unit tests for core/http/proxy.c: the pure parts (schedule, latency
 * draws, share choices, token bucket), then the proxy itself on loopback
 * between a small upstream server thread and a blocking client, fault by
 * fault.  The schedule's clock is placed with http_proxy_begin so that
 * "now" is before, inside or after a fault without waiting; no assertion
 * here depends on how long anything took. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <math.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <unistd.h>

#include <http_parser.h>

#include "../../core/hist.h"
#include "../../core/http/proxy.h"
#include "../../core/util.h"

#define SEC UINT64_C(1000000000)
#define MS UINT64_C(1000000)

/* ---- pure parts ---- */

static void test_names(void **state)
{
	(void)state;
	for (int k = 0; k < HTTP_PROXY_N_KINDS; k++) {
		enum http_proxy_fault_kind back;

		assert_int_equal(http_proxy_fault_kind_parse(http_proxy_fault_kind_name((enum http_proxy_fault_kind)k), &back), 0);
		assert_int_equal((int)back, k);
	}
	{
		enum http_proxy_fault_kind k;
		enum http_proxy_dist d;

		assert_int_equal(http_proxy_fault_kind_parse("latency", &k), 0);
		assert_int_equal(k, HTTP_PROXY_LATENCY);
		assert_int_equal(http_proxy_fault_kind_parse("slow_close", &k), 0);
		assert_int_equal(k, HTTP_PROXY_SLOW_CLOSE);
		assert_int_equal(http_proxy_fault_kind_parse("lag", &k), ERR_INPUT);
		assert_int_equal(http_proxy_dist_parse("pareto", &d), 0);
		assert_int_equal(d, HTTP_PROXY_PARETO);
		assert_int_equal(http_proxy_dist_parse("gauss", &d), ERR_INPUT);
	}
	assert_string_equal(http_proxy_reason(503), "Service Unavailable");
	assert_string_equal(http_proxy_reason(429), "Too Many Requests");
	assert_string_equal(http_proxy_reason(599), "Error");
}

static void test_active(void **state)
{
	struct http_proxy_fault f = { .at = 10 * SEC, .duration = 5 * SEC };

	(void)state;
	assert_false(http_proxy_fault_active(&f, 0));
	assert_false(http_proxy_fault_active(&f, 10 * SEC - 1));
	assert_true(http_proxy_fault_active(&f, 10 * SEC));
	assert_true(http_proxy_fault_active(&f, 15 * SEC - 1));
	assert_false(http_proxy_fault_active(&f, 15 * SEC));
	f.duration = 0; /* to the end */
	assert_true(http_proxy_fault_active(&f, 1000 * SEC));
	assert_false(http_proxy_fault_active(&f, 9 * SEC));
}

/* Sample moments of n draws, in ms. */
static void draws(const struct http_proxy_fault *f, size_t n, double *mean, double *sd, double *min, double *max)
{
	struct http_rng r = { 42 };
	double *v = xmalloc(n * sizeof(*v)), s = 0, ss = 0;

	for (size_t i = 0; i < n; i++) {
		v[i] = (double)http_proxy_draw_latency(f, &r) / 1e6;
		s += v[i];
	}
	*mean = s / (double)n;
	*min = *max = v[0];
	for (size_t i = 0; i < n; i++) {
		ss += (v[i] - *mean) * (v[i] - *mean);
		*min = fmin(*min, v[i]);
		*max = fmax(*max, v[i]);
	}
	*sd = sqrt(ss / (double)(n - 1));
	free(v);
}

static int cmp_d(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;

	return (x > y) - (x < y);
}

static double median_of(const struct http_proxy_fault *f, size_t n)
{
	struct http_rng r = { 7 };
	double *v = xmalloc(n * sizeof(*v)), m;

	for (size_t i = 0; i < n; i++)
		v[i] = (double)http_proxy_draw_latency(f, &r) / 1e6;
	qsort(v, n, sizeof(*v), cmp_d);
	m = v[n / 2];
	free(v);
	return m;
}

static void test_latency_draws(void **state)
{
	struct http_proxy_fault f = { .kind = HTTP_PROXY_LATENCY, .latency = 50 * MS };
	double mean, sd, min, max;
	const size_t n = 100000;

	(void)state;
	/* fixed: exactly the latency */
	draws(&f, 1000, &mean, &sd, &min, &max);
	assert_true(min == 50 && max == 50);
	/* fixed with jitter: uniform in [40, 60]: mean 50, sd 20/sqrt(12) */
	f.jitter = 10 * MS;
	draws(&f, n, &mean, &sd, &min, &max);
	assert_true(min >= 40 && max <= 60);
	assert_true(fabs(mean - 50) < 0.1);
	assert_true(fabs(sd - 20 / sqrt(12)) < 0.05);
	/* normal: mean 50, sd 10 */
	f.dist = HTTP_PROXY_NORMAL;
	draws(&f, n, &mean, &sd, &min, &max);
	assert_true(fabs(mean - 50) < 0.15);
	assert_true(fabs(sd - 10) < 0.1);
	assert_true(min >= 0);
	/* a normal with a large sd is clamped at 0, never negative */
	f.jitter = 100 * MS;
	draws(&f, 1000, &mean, &sd, &min, &max);
	assert_true(min == 0);
	/* exponential: mean = sd = 50 */
	f.dist = HTTP_PROXY_EXPONENTIAL;
	f.jitter = 0;
	draws(&f, n, &mean, &sd, &min, &max);
	assert_true(fabs(mean - 50) < 0.6);
	assert_true(fabs(sd - 50) < 1.0);
	assert_true(fabs(median_of(&f, n) - 50 * log(2)) < 0.6);
	/* lognormal: median 50 */
	f.dist = HTTP_PROXY_LOGNORMAL;
	f.sigma = 0.5;
	assert_true(fabs(median_of(&f, n) - 50) < 0.5);
	draws(&f, n, &mean, &sd, &min, &max);
	assert_true(fabs(mean - 50 * exp(0.125)) < 0.5);
	/* pareto: never below the scale; median scale * 2^(1/alpha) */
	f.dist = HTTP_PROXY_PARETO;
	f.alpha = 2;
	draws(&f, n, &mean, &sd, &min, &max);
	assert_true(min >= 50);
	assert_true(fabs(median_of(&f, n) - 50 * sqrt(2)) < 0.5);
}

static void test_selects(void **state)
{
	size_t hit = 0, n = 100000;

	(void)state;
	for (uint64_t id = 0; id < 1000; id++)
		assert_true(http_proxy_selects(1, 0, id, 1.0));
	for (uint64_t id = 0; id < n; id++)
		hit += http_proxy_selects(1, 3, id, 0.3);
	/* binomial sd sqrt(n p q) ~ 145: 5 sd */
	assert_true(fabs((double)hit - 0.3 * (double)n) < 725);
	/* the same inputs choose the same way; another fault chooses apart */
	{
		size_t same = 0, other = 0;

		for (uint64_t id = 0; id < 1000; id++) {
			same += http_proxy_selects(9, 1, id, 0.5) == http_proxy_selects(9, 1, id, 0.5);
			other += http_proxy_selects(9, 1, id, 0.5) == http_proxy_selects(9, 2, id, 0.5);
		}
		assert_int_equal(same, 1000);
		assert_true(other > 400 && other < 600);
	}
}

static void test_bucket(void **state)
{
	struct http_proxy_bucket b = { 0 };
	uint64_t wait;

	(void)state;
	/* 1000 B/s, burst 100: a full bucket gives 100 at once */
	assert_int_equal(http_proxy_bucket_take(&b, 1000, 100, SEC, 500, &wait), 100);
	assert_int_equal(wait, 0);
	/* empty: 100 more bytes in 100 ms */
	assert_int_equal(http_proxy_bucket_take(&b, 1000, 100, SEC, 500, &wait), 0);
	assert_int_equal(wait, 100 * MS);
	/* 50 ms later: 50 bytes */
	assert_int_equal(http_proxy_bucket_take(&b, 1000, 100, SEC + 50 * MS, 500, &wait), 50);
	/* a long pause refills only up to the burst */
	assert_int_equal(http_proxy_bucket_take(&b, 1000, 100, 100 * SEC, 500, &wait), 100);
	/* a small want is served whole */
	assert_int_equal(http_proxy_bucket_take(&b, 1000, 100, 101 * SEC, 7, &wait), 7);
	/* waiting for fewer bytes than the burst waits less */
	b.tokens = 0;
	b.last = 200 * SEC;
	assert_int_equal(http_proxy_bucket_take(&b, 1000, 100, 200 * SEC, 10, &wait), 0);
	assert_int_equal(wait, 10 * MS);
}

static void test_bad_options(void **state)
{
	struct http_proxy_options o = HTTP_PROXY_OPTIONS_INIT;
	struct http_proxy_fault f = { .kind = HTTP_PROXY_ERROR, .status = 503, .share = 1 };
	struct http_proxy *p = NULL;
	struct err err = ERR_INIT;

	(void)state;
	assert_int_equal(http_proxy_open(&p, &o, &err), ERR_INPUT);
	assert_non_null(strstr(err.msg, "upstream"));
	o.upstream_host = "127.0.0.1";
	o.upstream_port = "9";
	o.faults = &f;
	o.n_faults = 1;
	o.mode = HTTP_PROXY_TCP;
	assert_int_equal(http_proxy_open(&p, &o, &err), ERR_INPUT);
	assert_non_null(strstr(err.msg, "http mode"));
	o.mode = HTTP_PROXY_HTTP;
	f.share = 0;
	assert_int_equal(http_proxy_open(&p, &o, &err), ERR_INPUT);
	assert_non_null(strstr(err.msg, "share"));
	f.share = 1;
	f.status = 42;
	assert_int_equal(http_proxy_open(&p, &o, &err), ERR_INPUT);
	assert_non_null(strstr(err.msg, "status"));
	f.status = 503;
	o.listen_host = "no-such-host.invalid";
	assert_int_equal(http_proxy_open(&p, &o, &err), ERR_INPUT);
	assert_null(p);
}

/* ---- a small upstream: one connection at a time, requests in order ---- */

struct upstream {
	int lfd;
	char port[16];
	pthread_t th;
	atomic_bool stop;
	atomic_int requests;    /* requests it answered */
	atomic_int connections; /* connections it accepted */
};

static bool up_wait(struct upstream *u, int fd)
{
	struct pollfd pfd = { .fd = fd, .events = POLLIN };

	while (!atomic_load(&u->stop)) {
		int n = poll(&pfd, 1, 50);

		if (n > 0)
			return true;
	}
	return false;
}

static void up_send(int fd, const char *data, size_t len)
{
	while (len) {
		ssize_t n = send(fd, data, len, MSG_NOSIGNAL);

		if (n <= 0)
			return;
		data += n;
		len -= (size_t)n;
	}
}

/* Answer one parsed request; returns false when the connection must end. */
static bool up_answer(struct upstream *u, int fd, const char *method, const char *path, const char *body, size_t blen,
		      int on_conn)
{
	struct sb sb = SB_INIT;
	bool keep = true;

	atomic_fetch_add(&u->requests, 1);
	if (strcmp(path, "/echo") == 0) {
		sb_printf(&sb, "HTTP/1.1 200 OK\r\nContent-Length: %zu\r\n\r\n", blen);
		sb_add(&sb, body, blen);
	} else if (strcmp(path, "/big") == 0) {
		sb_puts(&sb, "HTTP/1.1 200 OK\r\nContent-Length: 10000\r\n\r\n");
		for (int i = 0; i < 10000; i++)
			sb_putc(&sb, (char)('a' + i % 26));
	} else if (strcmp(path, "/close") == 0) {
		sb_puts(&sb, "HTTP/1.1 200 OK\r\nConnection: close\r\n\r\nbye");
		keep = false;
	} else if (strcmp(path, "/interim") == 0) {
		sb_puts(&sb, "HTTP/1.1 100 Continue\r\n\r\nHTTP/1.1 200 OK\r\nContent-Length: 2\r\n\r\nok");
	} else if (strcmp(path, "/count") == 0) {
		char n[16];
		int len = snprintf(n, sizeof(n), "%d", on_conn);

		sb_printf(&sb, "HTTP/1.1 200 OK\r\nContent-Length: %d\r\n\r\n%s", len, n);
	} else {
		sb_printf(&sb, "HTTP/1.1 200 OK\r\nContent-Length: 3\r\n\r\n%s", strcmp(method, "HEAD") == 0 ? "" : "ok\n");
	}
	up_send(fd, sb.buf, sb.len);
	sb_release(&sb);
	return keep;
}

static void up_conn(struct upstream *u, int fd)
{
	struct sb in = SB_INIT;
	int on_conn = 0;

	for (;;) {
		char *end = in.len ? strstr(in.buf, "\r\n\r\n") : NULL, method[16] = "", path[128] = "";
		size_t head, blen = 0;
		char *cl;

		if (!end) {
			char buf[4096];
			ssize_t n;

			if (!up_wait(u, fd) || (n = recv(fd, buf, sizeof(buf), 0)) <= 0)
				break;
			sb_add(&in, buf, (size_t)n);
			continue;
		}
		head = (size_t)(end - in.buf) + 4;
		sscanf(in.buf, "%15s %127s", method, path);
		cl = strcasestr(in.buf, "content-length:");
		if (cl && cl < end)
			blen = strtoul(cl + 15, NULL, 10);
		while (in.len < head + blen) {
			char buf[4096];
			ssize_t n;

			if (!up_wait(u, fd) || (n = recv(fd, buf, sizeof(buf), 0)) <= 0)
				goto done;
			sb_add(&in, buf, (size_t)n);
		}
		if (!up_answer(u, fd, method, path, in.buf + head, blen, ++on_conn))
			break;
		memmove(in.buf, in.buf + head + blen, in.len - head - blen);
		in.len -= head + blen;
		in.buf[in.len] = '\0';
	}
done:
	sb_release(&in);
	close(fd);
}

static void *up_main(void *arg)
{
	struct upstream *u = arg;

	while (up_wait(u, u->lfd)) {
		int fd = accept(u->lfd, NULL, NULL);

		if (fd < 0)
			continue;
		atomic_fetch_add(&u->connections, 1);
		up_conn(u, fd);
	}
	return NULL;
}

static int listen_any(char port[16])
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK) };
	socklen_t sl = sizeof(sa);
	int fd = socket(AF_INET, SOCK_STREAM, 0);

	assert_true(fd >= 0);
	assert_int_equal(bind(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	assert_int_equal(listen(fd, 64), 0);
	assert_int_equal(getsockname(fd, (struct sockaddr *)&sa, &sl), 0);
	snprintf(port, 16, "%d", ntohs(sa.sin_port));
	return fd;
}

static void up_start(struct upstream *u)
{
	memset(u, 0, sizeof(*u));
	u->lfd = listen_any(u->port);
	assert_int_equal(pthread_create(&u->th, NULL, up_main, u), 0);
}

static void up_stop(struct upstream *u)
{
	atomic_store(&u->stop, true);
	pthread_join(u->th, NULL);
	close(u->lfd);
}

/* ---- a blocking client ---- */

static int dial(const char *port)
{
	struct sockaddr_in sa = { .sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
				  .sin_port = htons((uint16_t)strtoul(port, NULL, 10)) };
	struct timeval tv = { 5, 0 }; /* no test can hang */
	int fd = socket(AF_INET, SOCK_STREAM, 0), one = 1;

	assert_true(fd >= 0);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	assert_int_equal(connect(fd, (struct sockaddr *)&sa, sizeof(sa)), 0);
	return fd;
}

static void say(int fd, const char *s)
{
	assert_int_equal(send(fd, s, strlen(s), MSG_NOSIGNAL), (ssize_t)strlen(s));
}

struct resp {
	int status;
	int interim;        /* 1xx responses before the final one */
	struct sb body;
	bool done;
	bool head;
};

static int r_headers(http_parser *hp)
{
	struct resp *r = hp->data;

	if (hp->status_code >= 100 && hp->status_code < 200) {
		r->interim++;
		return 0;
	}
	r->status = (int)hp->status_code;
	return r->head ? 1 : 0;
}

static int r_body(http_parser *hp, const char *at, size_t len)
{
	sb_add(&((struct resp *)hp->data)->body, at, len);
	return 0;
}

static int r_done(http_parser *hp)
{
	struct resp *r = hp->data;

	if (hp->status_code >= 100 && hp->status_code < 200)
		return 0;
	r->done = true;
	http_parser_pause(hp, 1);
	return 0;
}

static const http_parser_settings r_settings = {
	.on_headers_complete = r_headers, .on_body = r_body, .on_message_complete = r_done
};

/* Read responses from fd; `pending` keeps bytes read past one.  Returns the
 * final status, 0 when the connection closed first, -errno on an error
 * (-ECONNRESET for a reset, -EAGAIN when nothing came in time). */
static int read_resp(int fd, struct sb *pending, struct resp *r, bool head)
{
	http_parser hp;

	memset(r, 0, sizeof(*r));
	r->head = head;
	http_parser_init(&hp, HTTP_RESPONSE);
	hp.data = r;
	for (;;) {
		char buf[65536];
		ssize_t n;
		size_t used;

		if (pending->len) {
			used = http_parser_execute(&hp, &r_settings, pending->buf, pending->len);
			memmove(pending->buf, pending->buf + used, pending->len - used);
			pending->len -= used;
			if (r->done)
				return r->status;
			if (HTTP_PARSER_ERRNO(&hp) != HPE_OK)
				return -EPROTO;
			continue;
		}
		n = recv(fd, buf, sizeof(buf), 0);
		if (n < 0)
			return -errno;
		if (n == 0) {
			http_parser_execute(&hp, &r_settings, NULL, 0);
			return r->done ? r->status : 0;
		}
		sb_add(pending, buf, (size_t)n);
	}
}

/* One request on a fresh connection; the body goes to r.  Returns what read_resp did. */
static int one(const char *port, const char *req, struct resp *r)
{
	struct sb pending = SB_INIT;
	int fd = dial(port), rc;

	say(fd, req);
	rc = read_resp(fd, &pending, r, strncmp(req, "HEAD", 4) == 0);
	sb_release(&pending);
	close(fd);
	return rc;
}

struct fixture {
	struct upstream up;
	struct http_proxy *px;
};

static void px_open(struct fixture *fx, enum http_proxy_mode mode, const struct http_proxy_fault *f, size_t n)
{
	struct http_proxy_options o = HTTP_PROXY_OPTIONS_INIT;
	struct err err = ERR_INIT;

	up_start(&fx->up);
	o.upstream_host = "127.0.0.1";
	o.upstream_port = fx->up.port;
	o.mode = mode;
	o.faults = f;
	o.n_faults = n;
	if (http_proxy_open(&fx->px, &o, &err) != 0)
		fail_msg("http_proxy_open: %s", err.msg);
	assert_non_null(strstr(http_proxy_address(fx->px), "127.0.0.1:"));
}

static void px_close(struct fixture *fx, struct http_proxy_stats *st)
{
	http_proxy_stop(fx->px, st);
	http_proxy_free(fx->px);
	up_stop(&fx->up);
}

/* Place the schedule's clock so that it reads `since` now. */
static void px_at(struct fixture *fx, uint64_t since)
{
	http_proxy_begin(fx->px, now_ns() - since);
}

static void resp_release(struct resp *r)
{
	sb_release(&r->body);
}

/* ---- the proxy on loopback ---- */

static void test_forwarding(void **state)
{
	struct fixture fx;
	struct http_proxy_stats st;
	struct resp r;
	struct sb pending = SB_INIT;
	const char *port;
	int fd;

	(void)state;
	px_open(&fx, HTTP_PROXY_HTTP, NULL, 0);
	port = http_proxy_port(fx.px);
	assert_int_equal(one(port, "GET /ok HTTP/1.1\r\nHost: x\r\n\r\n", &r), 200);
	assert_string_equal(sb_str(&r.body), "ok\n");
	resp_release(&r);
	/* a body both ways, byte for byte */
	assert_int_equal(one(port, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 11\r\n\r\nhello proxy", &r), 200);
	assert_string_equal(sb_str(&r.body), "hello proxy");
	resp_release(&r);
	/* keep-alive: three requests, the third pipelined behind the second;
	 * all on one upstream connection, answered in order */
	fd = dial(port);
	say(fd, "GET /count HTTP/1.1\r\nHost: x\r\n\r\n");
	assert_int_equal(read_resp(fd, &pending, &r, false), 200);
	assert_string_equal(sb_str(&r.body), "1");
	resp_release(&r);
	say(fd, "GET /count HTTP/1.1\r\nHost: x\r\n\r\nPOST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 3\r\n\r\nabc");
	assert_int_equal(read_resp(fd, &pending, &r, false), 200);
	assert_string_equal(sb_str(&r.body), "2");
	resp_release(&r);
	assert_int_equal(read_resp(fd, &pending, &r, false), 200);
	assert_string_equal(sb_str(&r.body), "abc");
	resp_release(&r);
	/* HEAD: no body, and the connection goes on */
	say(fd, "HEAD /ok HTTP/1.1\r\nHost: x\r\n\r\n");
	assert_int_equal(read_resp(fd, &pending, &r, true), 200);
	assert_int_equal(r.body.len, 0);
	resp_release(&r);
	/* an interim 100 before the final response */
	say(fd, "GET /interim HTTP/1.1\r\nHost: x\r\n\r\n");
	assert_int_equal(read_resp(fd, &pending, &r, false), 200);
	assert_int_equal(r.interim, 1);
	assert_string_equal(sb_str(&r.body), "ok");
	resp_release(&r);
	say(fd, "GET /count HTTP/1.1\r\nHost: x\r\n\r\n");
	assert_int_equal(read_resp(fd, &pending, &r, false), 200);
	assert_string_equal(sb_str(&r.body), "6");
	resp_release(&r);
	/* a body delimited by the upstream's close reaches the client whole */
	say(fd, "GET /close HTTP/1.1\r\nHost: x\r\n\r\n");
	assert_int_equal(read_resp(fd, &pending, &r, false), 200);
	assert_string_equal(sb_str(&r.body), "bye");
	resp_release(&r);
	close(fd);
	sb_release(&pending);
	px_close(&fx, &st);
	assert_int_equal(st.requests, 9);
	assert_int_equal(st.forwarded, 9);
	assert_int_equal(st.responses, 9);
	assert_int_equal(st.upstream_failures, 0);
	assert_int_equal(atomic_load(&fx.up.requests), 9);
	assert_int_equal(hist_count(st.overhead), 9);
	http_proxy_stats_release(&st);
}

static void test_error_fault(void **state)
{
	struct http_proxy_fault f = { .kind = HTTP_PROXY_ERROR, .status = 503, .share = 1, .at = 10 * SEC,
				      .duration = 5 * SEC };
	struct fixture fx;
	struct http_proxy_stats st;
	struct resp r;
	const char *port;

	(void)state;
	px_open(&fx, HTTP_PROXY_HTTP, &f, 1);
	port = http_proxy_port(fx.px);
	/* not begun: no fault */
	assert_int_equal(one(port, "GET /ok HTTP/1.1\r\nHost: x\r\n\r\n", &r), 200);
	resp_release(&r);
	px_at(&fx, 9 * SEC); /* before */
	assert_int_equal(one(port, "GET /ok HTTP/1.1\r\nHost: x\r\n\r\n", &r), 200);
	resp_release(&r);
	px_at(&fx, 12 * SEC); /* during: answered by the proxy, the upstream never sees it */
	assert_int_equal(one(port, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 4\r\n\r\nabcd", &r), 503);
	assert_non_null(strstr(sb_str(&r.body), "perfgate_fault"));
	resp_release(&r);
	px_at(&fx, 16 * SEC); /* after */
	assert_int_equal(one(port, "GET /ok HTTP/1.1\r\nHost: x\r\n\r\n", &r), 200);
	resp_release(&r);
	px_close(&fx, &st);
	assert_int_equal(atomic_load(&fx.up.requests), 3);
	assert_int_equal(st.requests, 4);
	assert_int_equal(st.forwarded, 3);
	assert_int_equal(st.faults[0].requests, 1);
	http_proxy_stats_release(&st);
}

static void test_error_share(void **state)
{
	struct http_proxy_fault f = { .kind = HTTP_PROXY_ERROR, .status = 429, .share = 0.25 };
	struct fixture fx;
	struct http_proxy_stats st;
	struct sb pending = SB_INIT;
	int fd, errors = 0, n = 400;

	(void)state;
	px_open(&fx, HTTP_PROXY_HTTP, &f, 1);
	px_at(&fx, 0);
	fd = dial(http_proxy_port(fx.px));
	for (int i = 0; i < n; i++) {
		struct resp r;
		int s;

		say(fd, "GET /ok HTTP/1.1\r\nHost: x\r\n\r\n");
		s = read_resp(fd, &pending, &r, false);
		assert_true(s == 200 || s == 429);
		errors += s == 429;
		resp_release(&r);
	}
	close(fd);
	sb_release(&pending);
	px_close(&fx, &st);
	/* binomial(400, 0.25): sd 8.7; 5 sd either side */
	assert_true(errors > 100 - 44 && errors < 100 + 44);
	assert_int_equal(st.faults[0].requests, (uint64_t)errors);
	assert_int_equal(atomic_load(&fx.up.requests), n - errors);
	http_proxy_stats_release(&st);
}

static void test_reset_and_blackhole(void **state)
{
	struct http_proxy_fault f[2] = {
		{ .kind = HTTP_PROXY_RESET, .share = 1, .at = 0, .duration = 10 * SEC },
		{ .kind = HTTP_PROXY_BLACKHOLE, .share = 1, .at = 10 * SEC, .duration = 10 * SEC },
	};
	struct fixture fx;
	struct http_proxy_stats st;
	struct resp r;
	const char *port;
	struct timeval tv = { 0, 200000 };
	int fd;

	(void)state;
	px_open(&fx, HTTP_PROXY_HTTP, f, 2);
	port = http_proxy_port(fx.px);
	px_at(&fx, 1 * SEC);
	assert_int_equal(one(port, "GET /ok HTTP/1.1\r\nHost: x\r\n\r\n", &r), -ECONNRESET);
	resp_release(&r);
	/* blackhole: nothing comes back, the connection stays open */
	px_at(&fx, 11 * SEC);
	fd = dial(port);
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	say(fd, "GET /ok HTTP/1.1\r\nHost: x\r\n\r\n");
	{
		struct sb pending = SB_INIT;

		assert_int_equal(read_resp(fd, &pending, &r, false), -EAGAIN);
		resp_release(&r);
		/* the fault ends; this connection stays silent (its request is lost)... */
		px_at(&fx, 30 * SEC);
		say(fd, "GET /ok HTTP/1.1\r\nHost: x\r\n\r\n");
		assert_int_equal(read_resp(fd, &pending, &r, false), -EAGAIN);
		resp_release(&r);
		sb_release(&pending);
	}
	close(fd);
	/* ...but a new one is served */
	assert_int_equal(one(port, "GET /ok HTTP/1.1\r\nHost: x\r\n\r\n", &r), 200);
	resp_release(&r);
	px_close(&fx, &st);
	assert_int_equal(st.faults[0].requests, 1);
	assert_int_equal(st.faults[1].requests, 1);
	assert_int_equal(atomic_load(&fx.up.requests), 1);
	http_proxy_stats_release(&st);
}

static void test_blackhole_close_after(void **state)
{
	struct http_proxy_fault f = { .kind = HTTP_PROXY_BLACKHOLE, .share = 1, .delay = 50 * MS };
	struct fixture fx;
	struct http_proxy_stats st;
	struct resp r;

	(void)state;
	px_open(&fx, HTTP_PROXY_HTTP, &f, 1);
	px_at(&fx, 0);
	/* closed by the proxy, with no response */
	assert_int_equal(one(http_proxy_port(fx.px), "GET /ok HTTP/1.1\r\nHost: x\r\n\r\n", &r), 0);
	resp_release(&r);
	px_close(&fx, &st);
	assert_int_equal(atomic_load(&fx.up.requests), 0);
	http_proxy_stats_release(&st);
}

static void test_latency_and_bandwidth_accounting(void **state)
{
	struct http_proxy_fault f[2] = {
		{ .kind = HTTP_PROXY_LATENCY, .share = 1, .latency = 20 * MS },
		{ .kind = HTTP_PROXY_BANDWIDTH, .share = 1, .bandwidth = 200000 },
	};
	struct fixture fx;
	struct http_proxy_stats st;
	struct resp r;

	(void)state;
	px_open(&fx, HTTP_PROXY_HTTP, f, 2);
	px_at(&fx, 0);
	for (int i = 0; i < 3; i++) {
		assert_int_equal(one(http_proxy_port(fx.px), "GET /big HTTP/1.1\r\nHost: x\r\n\r\n", &r), 200);
		/* shaped, but whole and in order */
		assert_int_equal(r.body.len, 10000);
		for (size_t k = 0; k < r.body.len; k++)
			if (r.body.buf[k] != (char)('a' + k % 26))
				fail_msg("byte %zu differs", k);
		resp_release(&r);
	}
	px_close(&fx, &st);
	assert_int_equal(st.faults[0].requests, 3);
	assert_int_equal(st.faults[0].delay_total, 3 * 20 * MS);
	/* the burst is 1460 bytes (200000/100 = 2000 > 1460: 2000): the rest was held */
	assert_true(st.faults[1].bytes > 0);
	/* every forwarded request has its overhead measured */
	assert_int_equal(hist_count(st.overhead), 3);
	http_proxy_stats_release(&st);
}

static void test_slow_close(void **state)
{
	struct http_proxy_fault f = { .kind = HTTP_PROXY_SLOW_CLOSE, .share = 1, .delay = 30 * MS };
	struct fixture fx;
	struct http_proxy_stats st;
	struct resp r;

	(void)state;
	px_open(&fx, HTTP_PROXY_HTTP, &f, 1);
	px_at(&fx, 0);
	assert_int_equal(one(http_proxy_port(fx.px), "GET /close HTTP/1.1\r\nHost: x\r\n\r\n", &r), 200);
	assert_string_equal(sb_str(&r.body), "bye");
	resp_release(&r);
	px_close(&fx, &st);
	assert_true(st.faults[0].requests >= 1);
	http_proxy_stats_release(&st);
}

static void test_upstream_down(void **state)
{
	struct http_proxy_options o = HTTP_PROXY_OPTIONS_INIT;
	struct http_proxy *p = NULL;
	struct http_proxy_stats st;
	struct err err = ERR_INIT;
	struct resp r;
	char port[16];
	int lfd = listen_any(port), rc;

	(void)state;
	close(lfd); /* nothing listens there now */
	o.upstream_host = "127.0.0.1";
	o.upstream_port = port;
	assert_int_equal(http_proxy_open(&p, &o, &err), 0);
	rc = one(http_proxy_port(p), "GET /ok HTTP/1.1\r\nHost: x\r\n\r\n", &r);
	assert_true(rc == -ECONNRESET);
	resp_release(&r);
	http_proxy_stop(p, &st);
	assert_int_equal(st.upstream_failures, 1);
	http_proxy_stats_release(&st);
	http_proxy_free(p);
}

static void test_tcp_mode(void **state)
{
	struct http_proxy_fault f = { .kind = HTTP_PROXY_RESET, .share = 1, .at = 10 * SEC, .duration = SEC };
	struct fixture fx;
	struct http_proxy_stats st;
	struct resp r;
	const char *port;

	(void)state;
	px_open(&fx, HTTP_PROXY_TCP, &f, 1);
	port = http_proxy_port(fx.px);
	px_at(&fx, 0);
	assert_int_equal(one(port, "POST /echo HTTP/1.1\r\nHost: x\r\nContent-Length: 5\r\n\r\nbytes", &r), 200);
	assert_string_equal(sb_str(&r.body), "bytes");
	resp_release(&r);
	px_at(&fx, 10 * SEC);
	{
		/* reset at accept: the client sees it on its send or its read */
		int fd = dial(port);
		const char *req = "GET /ok HTTP/1.1\r\nHost: x\r\n\r\n";
		struct sb pending = SB_INIT;

		if (send(fd, req, strlen(req), MSG_NOSIGNAL) < 0) {
			assert_true(errno == ECONNRESET || errno == EPIPE);
		} else {
			assert_int_equal(read_resp(fd, &pending, &r, false), -ECONNRESET);
			resp_release(&r);
		}
		sb_release(&pending);
		close(fd);
	}
	px_close(&fx, &st);
	assert_int_equal(st.requests, 0); /* tcp mode does not parse */
	assert_int_equal(st.faults[0].requests, 1);
	http_proxy_stats_release(&st);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_names),
		cmocka_unit_test(test_active),
		cmocka_unit_test(test_latency_draws),
		cmocka_unit_test(test_selects),
		cmocka_unit_test(test_bucket),
		cmocka_unit_test(test_bad_options),
		cmocka_unit_test(test_forwarding),
		cmocka_unit_test(test_error_fault),
		cmocka_unit_test(test_error_share),
		cmocka_unit_test(test_reset_and_blackhole),
		cmocka_unit_test(test_blackhole_close_after),
		cmocka_unit_test(test_latency_and_bandwidth_accounting),
		cmocka_unit_test(test_slow_close),
		cmocka_unit_test(test_upstream_down),
		cmocka_unit_test(test_tcp_mode),
	};

	return cmocka_run_group_tests(tests, NULL, NULL);
}
