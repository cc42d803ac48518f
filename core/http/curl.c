/*
 * curl.c: the libcurl transport (load.engine "curl"; what "auto" takes for
 * https:// and HTTP/2): one easy handle per request slot, all in one multi
 * handle per worker, driven by the worker's loop through libcurl's socket
 * interface.  libcurl's sockets go into an epoll set of this transport's
 * own, which the worker's epoll set watches, so one wait serves both.
 *
 * libcurl keeps its own connection pool (at most as many connections as
 * the worker has slots; HTTP/2 streams multiplexed over as few as it can)
 * and enforces the request timeout itself (CURLOPT_TIMEOUT_MS).  The send
 * time is when libcurl began to send (its pretransfer time), so that
 * connecting, as on the native transport, counts in service time only for
 * a new connection.  Process-wide curl_global_init is the caller's
 * (engine.h).
 */
#include "transport.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <unistd.h>

#include <curl/curl.h>

#include "plan.h"
#include "sse.h"

#define CURL_EVENTS 64

/* A slot's transfer. */
struct curl_slot {
	CURL *easy;
	uint64_t t_add;              /* ns, when the transfer was handed to libcurl */
	char errbuf[CURL_ERROR_SIZE];
};

/* A worker's multi handle and the epoll set of libcurl's sockets. */
struct curl_worker {
	CURLM *multi;
	int ep;                      /* libcurl's sockets; itself in the worker's set */
	uint64_t timer;              /* ns when libcurl wants its timeout action; 0: none */
	struct curl_slist *hdrs;
};

static int curl_check(bool tls, enum http_engine_httpver v, char *why, size_t why_len)
{
	const curl_version_info_data *vi = curl_version_info(CURLVERSION_NOW);

	if (v != EHV_2)
		return 0;
	if (!(vi->features & CURL_VERSION_HTTP2)) {
		snprintf(why, why_len, "this libcurl (%s) was built without HTTP/2", vi->version);
		return ERR_INPUT;
	}
	/* libcurl 7.88 (Debian 12's) sets up HTTP/2 a second time on a reused
	 * prior-knowledge connection and fails every request after the first
	 * ("Error in the HTTP2 framing layer", curl issue 10634, fixed in
	 * 8.0.0); TLS-negotiated h2 is not affected. */
	if (!tls && vi->version_num < 0x080000) {
		snprintf(why, why_len, "HTTP/2 over http:// (h2c with prior knowledge) needs libcurl 8.0.0 or later "
			 "(libcurl %s fails every request on a reused h2c connection, curl issue 10634); use an "
			 "https:// URL, where TLS negotiates HTTP/2", vi->version);
		return ERR_INPUT;
	}
	return 0;
}

static size_t on_write(char *data, size_t size, size_t n, void *arg)
{
	struct http_slot *s = arg;
	const struct curl_slot *cs = s->tp;
	size_t len = size * n;

	s->w->now = now_ns();
	if (!s->got_bytes) {
		long status = 0;

		s->got_bytes = true;
		curl_easy_getinfo(cs->easy, CURLINFO_RESPONSE_CODE, &status);
		s->status = (int)status;
	}
	s->resp_bytes += len;
	http_request_body(s, data, len);
	return len;
}

/* Every header line of every response, interim 1xx ones included: the
 * first one dates ttfb (the first response byte, as on the native
 * transport), status lines count the interim responses. */
static size_t on_header(char *data, size_t size, size_t n, void *arg)
{
	struct http_slot *s = arg;
	size_t len = size * n;

	if (!s->t_first_byte)
		s->t_first_byte = now_ns();
	if (len > 9 && memcmp(data, "HTTP/", 5) == 0) {
		const char *sp = memchr(data, ' ', len);

		if (sp && (size_t)(sp - data) + 4 <= len && sp[1] == '1' && sp[2] >= '0' && sp[2] <= '9' &&
		    sp[3] >= '0' && sp[3] <= '9' && !(sp[2] == '0' && sp[3] == '1'))
			s->interim++;
	}
	return len;
}

static int on_socket(CURL *e, curl_socket_t fd, int what, void *userp, void *socketp)
{
	struct http_worker *w = userp;
	struct curl_worker *cw = w->tp;
	struct epoll_event ev;

	(void)e;
	memset(&ev, 0, sizeof(ev));
	ev.data.fd = fd;
	if (what == CURL_POLL_REMOVE) {
		/* A socket libcurl has already closed left the set by itself. */
		if (epoll_ctl(cw->ep, EPOLL_CTL_DEL, fd, NULL) != 0 && errno != EBADF && errno != ENOENT)
			http_engine_worker_fail(w, ERR_FAIL, "epoll_ctl: %s", strerror(errno));
		curl_multi_assign(cw->multi, fd, NULL);
		return 0;
	}
	ev.events = ((what & CURL_POLL_IN) ? EPOLLIN : 0) | ((what & CURL_POLL_OUT) ? EPOLLOUT : 0);
	if (epoll_ctl(cw->ep, socketp ? EPOLL_CTL_MOD : EPOLL_CTL_ADD, fd, &ev) != 0) {
		http_engine_worker_fail(w, ERR_FAIL, "epoll_ctl: %s", strerror(errno));
		return -1;
	}
	if (!socketp)
		curl_multi_assign(cw->multi, fd, w);
	return 0;
}

static int on_timer(CURLM *m, long timeout_ms, void *userp)
{
	struct curl_worker *cw = userp;

	(void)m;
	cw->timer = timeout_ms < 0 ? 0 : now_ns() + (uint64_t)timeout_ms * 1000000ULL;
	return 0;
}

/* A slot's easy handle, set up once for the plan. */
static CURL *easy_new(struct http_worker *w, struct http_slot *s, struct curl_slot *cs)
{
	const struct http_plan *p = w->plan;
	const struct curl_worker *cw = w->tp;
	CURL *e = curl_easy_init();

	if (!e)
		return NULL;
	curl_easy_setopt(e, CURLOPT_URL, p->url);
	curl_easy_setopt(e, CURLOPT_HTTPHEADER, cw->hdrs);
	curl_easy_setopt(e, CURLOPT_WRITEFUNCTION, on_write);
	curl_easy_setopt(e, CURLOPT_WRITEDATA, s);
	curl_easy_setopt(e, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(e, CURLOPT_HEADERDATA, s);
	curl_easy_setopt(e, CURLOPT_PRIVATE, s);
	curl_easy_setopt(e, CURLOPT_ERRORBUFFER, cs->errbuf);
	curl_easy_setopt(e, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(e, CURLOPT_TIMEOUT_MS, (long)(w->o->timeout / 1000000ULL));
	curl_easy_setopt(e, CURLOPT_PIPEWAIT, 1L);
	curl_easy_setopt(e, CURLOPT_HTTP_VERSION,
			 w->o->http_version == EHV_1_1 ? (long)CURL_HTTP_VERSION_1_1
			 : w->o->http_version == EHV_2 && !p->tls ? (long)CURL_HTTP_VERSION_2_PRIOR_KNOWLEDGE
			 : (long)CURL_HTTP_VERSION_2TLS);
	if (p->ca_file)
		curl_easy_setopt(e, CURLOPT_CAINFO, p->ca_file);
	if (p->head)
		curl_easy_setopt(e, CURLOPT_NOBODY, 1L);
	else if (strcmp(p->method, "GET") != 0)
		curl_easy_setopt(e, CURLOPT_CUSTOMREQUEST, p->method);
	return e;
}

static void curl_start(struct http_worker *w, struct http_slot *s)
{
	const struct http_plan *p = s->plan;
	struct curl_worker *cw = w->tp;
	struct curl_slot *cs = s->tp;
	size_t blen = s->wire->len - s->wire->body_off;
	CURLMcode mc;

	if (!cs) {
		cs = xcalloc(1, sizeof(*cs));
		s->tp = cs;
	}
	s->open = true; /* libcurl pools the connections: the slot stays usable */
	if (!cs->easy && !(cs->easy = easy_new(w, s, cs))) {
		http_request_fail(w, s, EE_REFUSED, "cannot start a transfer to %s: curl_easy_init failed", p->url);
		return;
	}
	if (blen || strcmp(p->method, "POST") == 0 || strcmp(p->method, "PUT") == 0 ||
	    strcmp(p->method, "PATCH") == 0) {
		curl_easy_setopt(cs->easy, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)blen);
		curl_easy_setopt(cs->easy, CURLOPT_POSTFIELDS, s->wire->data + s->wire->body_off);
	}
	http_request_begin(w, s);
	s->t_first_byte = 0;
	cs->errbuf[0] = '\0';
	cs->t_add = now_ns();
	if ((mc = curl_multi_add_handle(cw->multi, cs->easy)) != CURLM_OK)
		http_request_fail(w, s, EE_REFUSED, "cannot start a transfer to %s: %s", p->url, curl_multi_strerror(mc));
}

/* libcurl's phase times of a finished transfer into the slot: the send
 * time, the first byte, the protocol, the bytes and connections. */
static void transfer_times(struct http_worker *w, struct http_slot *s, const struct curl_slot *cs)
{
	curl_off_t pre = 0, start = 0;
	long hdr = 0, conns = 0, ver = 0;

	curl_easy_getinfo(cs->easy, CURLINFO_PRETRANSFER_TIME_T, &pre);
	curl_easy_getinfo(cs->easy, CURLINFO_STARTTRANSFER_TIME_T, &start);
	curl_easy_getinfo(cs->easy, CURLINFO_HEADER_SIZE, &hdr);
	curl_easy_getinfo(cs->easy, CURLINFO_NUM_CONNECTS, &conns);
	curl_easy_getinfo(cs->easy, CURLINFO_HTTP_VERSION, &ver);
	s->h2 = ver == CURL_HTTP_VERSION_2_0;
	w->r.connections_opened += conns;
	s->resp_bytes += (uint64_t)hdr;
	/* curl's phase times are microseconds since the transfer began */
	s->t_send = cs->t_add + (uint64_t)pre * 1000ULL;
	if (s->t_first_byte) {
		s->got_bytes = true;
	} else if (start > 0) {
		s->t_first_byte = cs->t_add + (uint64_t)start * 1000ULL;
		s->got_bytes = true;
	}
}

static void transfer_done(struct http_worker *w, struct http_slot *s, CURLcode res)
{
	const struct http_plan *p = s->plan;
	struct curl_worker *cw = w->tp;
	struct curl_slot *cs = s->tp;
	const char *msg = cs->errbuf[0] ? cs->errbuf : curl_easy_strerror(res);
	char why[512];
	long status = 0;
	int e;

	curl_multi_remove_handle(cw->multi, cs->easy);
	transfer_times(w, s, cs);
	http_request_sent(w, s);
	switch (res) {
	case CURLE_OK:
		curl_easy_getinfo(cs->easy, CURLINFO_RESPONSE_CODE, &status);
		s->status = (int)status;
		if ((e = http_request_verdict(w, s, why, sizeof(why))) >= 0)
			http_request_fail(w, s, (enum http_engine_error)e, "%s", why);
		else
			http_request_ok(w, s, true);
		return;
	case CURLE_COULDNT_CONNECT:
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_SSL_CONNECT_ERROR:
	case CURLE_PEER_FAILED_VERIFICATION:
		http_request_fail(w, s, EE_REFUSED, "cannot connect to %s: %s", p->url, msg);
		return;
	case CURLE_OPERATION_TIMEDOUT:
		http_request_fail(w, s, EE_TIMEOUT, "%s: %s", p->url, msg);
		return;
	case CURLE_GOT_NOTHING:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_PARTIAL_FILE:
		if (p->sse && (http_sse_events(s->sse) > 0 || http_sse_pending(s->sse)))
			http_request_fail(w, s, EE_INCOMPLETE_STREAM, "%s: stream cut off after %llu events: %s", p->url,
					  (unsigned long long)s->tok.events, msg);
		else
			http_request_fail(w, s, EE_RESET, "%s: %s", p->url, msg);
		return;
	default:
		http_request_fail(w, s, EE_BAD_RESPONSE, "bad response from %s: %s", p->url, msg);
		return;
	}
}

static void drain(struct http_worker *w)
{
	struct curl_worker *cw = w->tp;
	CURLMsg *m;
	int left;

	while ((m = curl_multi_info_read(cw->multi, &left))) {
		struct http_slot *s = NULL;

		if (m->msg != CURLMSG_DONE)
			continue;
		curl_easy_getinfo(m->easy_handle, CURLINFO_PRIVATE, (char **)&s);
		if (s)
			transfer_done(w, s, m->data.result);
	}
}

static void socket_action(struct http_worker *w, curl_socket_t fd, int flags)
{
	struct curl_worker *cw = w->tp;
	int running;
	CURLMcode mc = curl_multi_socket_action(cw->multi, fd, flags, &running);

	if (mc != CURLM_OK)
		http_engine_worker_fail(w, ERR_FAIL, "curl_multi_socket_action: %s", curl_multi_strerror(mc));
}

/* libcurl's sockets are ready (the only descriptor this transport adds to
 * the worker's set is its own epoll set). */
static void curl_event(struct http_worker *w, void *ptr, uint32_t events)
{
	struct curl_worker *cw = w->tp;
	struct epoll_event evs[CURL_EVENTS];
	int n = epoll_wait(cw->ep, evs, CURL_EVENTS, 0);

	(void)ptr;
	(void)events;
	if (n < 0 && errno != EINTR)
		http_engine_worker_fail(w, ERR_FAIL, "epoll_wait: %s", strerror(errno));
	for (int i = 0; i < n; i++) {
		int flags = ((evs[i].events & EPOLLIN) ? CURL_CSELECT_IN : 0) |
			    ((evs[i].events & EPOLLOUT) ? CURL_CSELECT_OUT : 0) |
			    ((evs[i].events & (EPOLLERR | EPOLLHUP)) ? CURL_CSELECT_ERR : 0);

		socket_action(w, evs[i].data.fd, flags);
	}
	drain(w);
}

static uint64_t curl_tick(struct http_worker *w, uint64_t now)
{
	struct curl_worker *cw = w->tp;

	if (cw->timer && now >= cw->timer) {
		cw->timer = 0;
		socket_action(w, CURL_SOCKET_TIMEOUT, 0);
		drain(w);
	}
	return cw->timer;
}

static void curl_worker_close(struct http_worker *w)
{
	struct curl_worker *cw = w->tp;

	if (!cw)
		return;
	if (cw->multi)
		curl_multi_cleanup(cw->multi);
	curl_slist_free_all(cw->hdrs);
	if (cw->ep >= 0)
		close(cw->ep);
	free(cw);
	w->tp = NULL;
}

static int curl_worker_open(struct http_worker *w, struct err *err)
{
	struct curl_worker *cw = xcalloc(1, sizeof(*cw));
	struct epoll_event ev;

	w->tp = cw;
	cw->ep = epoll_create1(EPOLL_CLOEXEC);
	if (cw->ep < 0)
		return err_sys(err, ERR_FAIL, "epoll_create1");
	if (!(cw->multi = curl_multi_init()))
		return err_set(err, ERR_FAIL, "cannot set up the curl engine: curl_multi_init failed");
	curl_multi_setopt(cw->multi, CURLMOPT_SOCKETFUNCTION, on_socket);
	curl_multi_setopt(cw->multi, CURLMOPT_SOCKETDATA, w);
	curl_multi_setopt(cw->multi, CURLMOPT_TIMERFUNCTION, on_timer);
	curl_multi_setopt(cw->multi, CURLMOPT_TIMERDATA, cw);
	curl_multi_setopt(cw->multi, CURLMOPT_MAX_HOST_CONNECTIONS, (long)w->cap_slots);
	curl_multi_setopt(cw->multi, CURLMOPT_MAXCONNECTS, (long)w->cap_slots);
	for (size_t i = 0; i < w->plan->n_headers; i++)
		cw->hdrs = curl_slist_append(cw->hdrs, w->plan->header_lines[i]);
	/* no 100-continue round trip before large bodies */
	cw->hdrs = curl_slist_append(cw->hdrs, "Expect:");
	memset(&ev, 0, sizeof(ev));
	ev.events = EPOLLIN;
	ev.data.ptr = cw;
	if (epoll_ctl(w->ep, EPOLL_CTL_ADD, cw->ep, &ev) != 0)
		return err_sys(err, ERR_FAIL, "epoll_ctl");
	return 0;
}

static void curl_close(struct http_worker *w, struct http_slot *s)
{
	/* libcurl decides which connections to keep. */
	(void)w;
	(void)s;
}

static void curl_slot_release(struct http_worker *w, struct http_slot *s)
{
	struct curl_worker *cw = w->tp;
	struct curl_slot *cs = s->tp;

	if (!cs)
		return;
	if (cs->easy) {
		if (cw && cw->multi)
			curl_multi_remove_handle(cw->multi, cs->easy);
		curl_easy_cleanup(cs->easy);
	}
	free(cs);
	s->tp = NULL;
}

const struct http_transport http_curl_transport = {
	.name = "curl",
	.tls = true,
	.h2 = true,
	.check = curl_check,
	.worker_open = curl_worker_open,
	.worker_close = curl_worker_close,
	.start = curl_start,
	.event = curl_event,
	.tick = curl_tick,
	.close = curl_close,
	.slot_release = curl_slot_release,
};
