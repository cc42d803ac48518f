/*
 * sse.h: a server-sent events parser (the WHATWG "event stream" format) and
 * the OpenAI-compatible streaming interpretation of its events.
 *
 * The parser takes the body in whatever pieces the network delivers (an
 * event, a line, even a CR LF pair may be split anywhere) and calls back
 * once per complete event.  Lines end in LF, CR or CR LF; "data" lines are
 * joined with LF; comments (":...") and unknown fields are ignored; an event
 * is dispatched at a blank line and only when it has data; a partial event
 * at the end of the stream is discarded (http_sse_pending says one was there).
 * What an event's data means to an OpenAI-compatible client is openai.h's.
 */
#ifndef PERFGATE_SSE_H
#define PERFGATE_SSE_H

#include <stdbool.h>
#include <stddef.h>

struct http_sse_parser;

/* Called for each complete event; `type` is "message" unless an "event"
 * field said otherwise; data is NUL-terminated (len excludes the NUL). */
typedef void (*http_sse_event_fn)(void *arg, const char *type, const char *data, size_t len);

struct http_sse_parser *http_sse_new(http_sse_event_fn fn, void *arg);
void http_sse_free(struct http_sse_parser *p);
/* Forget any partial line or event (for the next response). */
void http_sse_reset(struct http_sse_parser *p);
void http_sse_feed(struct http_sse_parser *p, const char *buf, size_t len);
/* True when bytes of an event not yet dispatched are buffered (a stream cut
 * off mid-event). */
bool http_sse_pending(const struct http_sse_parser *p);
/* Number of events dispatched since the last reset. */
size_t http_sse_events(const struct http_sse_parser *p);

#endif
