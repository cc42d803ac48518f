/* Unit tests for core/http/sse.c: the event-stream parser, fed whole,
 * split at every byte boundary and one byte at a time.  What an event
 * means to an OpenAI client is tested in test_openai.c. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "../../core/http/sse.h"
#include "../../core/util.h"

struct seen {
	struct sb log; /* "type|data\n" per event */
};

static void on_event(void *arg, const char *type, const char *data, size_t len)
{
	struct seen *s = arg;

	assert_int_equal(strlen(data), len);
	sb_printf(&s->log, "%s|%s\n", type, data);
}

/* A stream exercising every rule, and the events it must give, written by hand. */
static const char stream[] =
	"\xEF\xBB\xBF"                       /* BOM */
	": a comment\n"
	"data: {\"choices\":[{\"text\":\"Hel\"}]}\n\n"
	"event: ping\r\ndata:no-space\r\n\r\n" /* CR LF endings, no space after colon */
	"data: line one\rdata: line two\r\r"    /* CR endings, two data lines */
	"id: 7\nretry: 100\nunknown: x\ndata\n\n" /* a field without colon: empty data line */
	"data: ok\n\n"
	"event: only-type\n\n"                  /* no data: not dispatched */
	"data: [DONE]\n\n";
/* Expected events.  "data\n\n" is a data line with an empty value: the
 * buffer holds "\n", the event is dispatched with "" as its data. */
static const char want_with_empty[] =
	"message|{\"choices\":[{\"text\":\"Hel\"}]}\n"
	"ping|no-space\n"
	"message|line one\nline two\n"
	"message|\n"
	"message|ok\n"
	"message|[DONE]\n";

static void feed_pieces(struct http_sse_parser *p, const char *s, size_t len, size_t cut1, size_t cut2)
{
	http_sse_feed(p, s, cut1);
	http_sse_feed(p, s + cut1, cut2 - cut1);
	http_sse_feed(p, s + cut2, len - cut2);
}

static void test_split_everywhere(void **state)
{
	size_t len = sizeof(stream) - 1;
	struct seen s = { SB_INIT };
	struct http_sse_parser *p = http_sse_new(on_event, &s);

	(void)state;
	/* Whole. */
	http_sse_feed(p, stream, len);
	assert_string_equal(sb_str(&s.log), want_with_empty);
	assert_false(http_sse_pending(p));
	assert_int_equal(http_sse_events(p), 6);
	/* Every pair of cut points (covers every single boundary too). */
	for (size_t a = 0; a <= len; a++) {
		for (size_t b = a; b <= len; b += 3) {
			http_sse_reset(p);
			sb_reset(&s.log);
			feed_pieces(p, stream, len, a, b);
			assert_string_equal(sb_str(&s.log), want_with_empty);
		}
	}
	/* One byte at a time. */
	http_sse_reset(p);
	sb_reset(&s.log);
	for (size_t i = 0; i < len; i++)
		http_sse_feed(p, stream + i, 1);
	assert_string_equal(sb_str(&s.log), want_with_empty);
	http_sse_free(p);
	sb_release(&s.log);
}

static void test_cut_mid_event(void **state)
{
	static const char cut[] = "data: {\"choices\":[{\"text\":\"a\"}]}\n\ndata: {\"choi";
	struct seen s = { SB_INIT };
	struct http_sse_parser *p = http_sse_new(on_event, &s);

	(void)state;
	http_sse_feed(p, cut, sizeof(cut) - 1);
	assert_int_equal(http_sse_events(p), 1);
	assert_true(http_sse_pending(p));
	/* A complete line but no blank line yet is still pending. */
	http_sse_reset(p);
	http_sse_feed(p, "data: x\n", 8);
	assert_int_equal(http_sse_events(p), 0);
	assert_true(http_sse_pending(p));
	http_sse_feed(p, "\n", 1);
	assert_int_equal(http_sse_events(p), 1);
	assert_false(http_sse_pending(p));
	/* A CR at the end of one read and LF at the start of the next is one line end. */
	http_sse_reset(p);
	sb_reset(&s.log);
	http_sse_feed(p, "data: y\r", 8);
	http_sse_feed(p, "\n", 1);
	assert_int_equal(http_sse_events(p), 0);
	http_sse_feed(p, "\r\n", 2);
	assert_string_equal(sb_str(&s.log), "message|y\n");
	/* Not a BOM: the bytes are kept. */
	http_sse_reset(p);
	sb_reset(&s.log);
	http_sse_feed(p, "\xEF", 1);
	http_sse_feed(p, "data: z\n\n", 9);
	assert_int_equal(http_sse_events(p), 0); /* field "\xEF" "data" is unknown */
	http_sse_free(p);
	sb_release(&s.log);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_split_everywhere),
		cmocka_unit_test(test_cut_mid_event),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
