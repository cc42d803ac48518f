/* Unit tests for core/util.c: parsers, string buffer, suggestions, SHA-256. */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <math.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../core/util.h"

static void test_parse_duration(void **state)
{
	static const struct { const char *in; double want; } good[] = {
		{ "250ms", 0.25 }, { "1.5s", 1.5 }, { "2m", 120 }, { "1h", 3600 },
		{ "500us", 500e-6 }, { "100ns", 100e-9 }, { "3", 3 }, { "0", 0 },
		{ "168h", 604800 }, { "1e2ms", 0.1 },
	};
	/* Not plain decimals (hexadecimal, infinity, leading blanks), or past
	 * the bound whose cast to integer nanoseconds was undefined (1e308h). */
	static const char *bad[] = { "", "ms", "5 parsecs", "-1s", "1e999s", "abc", "0x10s", "0x10",
				     "inf", "infs", "nan", " 5s", "1e308h", "1e308", "169h", "604801" };
	struct err err = ERR_INIT;
	double v;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(good); i++) {
		assert_int_equal(parse_duration(good[i].in, &v, &err), 0);
		assert_true(fabs(v - good[i].want) <= 1e-12 * (good[i].want + 1));
	}
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		assert_int_equal(parse_duration(bad[i], &v, &err), ERR_INPUT);
	parse_duration("5 parsecs", &v, &err);
	assert_string_equal(err.msg, "'5 parsecs': unknown duration unit 'parsecs'");
	parse_duration("1e308h", &v, &err);
	assert_string_equal(err.msg, "'1e308h': a duration must be at most 7 days (168h)");
	parse_duration("0x10s", &v, &err);
	assert_string_equal(err.msg, "'0x10s' is not a duration");
}

static void test_utf8_and_printable(void **state)
{
	static const struct { const char *in; bool valid; } u[] = {
		{ "plain", true }, { "caf\xc3\xa9", true }, { "\xe2\x82\xac", true }, { "\xf0\x9f\x98\x80", true },
		{ "\xff", false }, { "\xc3", false }, { "\xc0\xaf", false } /* overlong '/' */,
		{ "\xed\xa0\x80", false } /* a surrogate */, { "\xf4\x90\x80\x80", false } /* past U+10FFFF */,
		{ "ok\x80", false },
	};
	char *p;
	size_t bad = 0;

	(void)state;
	for (size_t i = 0; i < ARRAY_SIZE(u); i++)
		assert_int_equal(utf8_valid(u[i].in, strlen(u[i].in), NULL), u[i].valid);
	assert_false(utf8_valid("ab\xff", 3, &bad));
	assert_int_equal(bad, 2);
	assert_int_equal(str_control_char("name"), -1);
	assert_int_equal(str_control_char("caf\xc3\xa9"), -1);
	assert_int_equal(str_control_char("a\nb"), '\n');
	assert_int_equal(str_control_char("a\x1b[2J"), 0x1b);
	assert_int_equal(str_control_char("a\x7f"), 0x7f);
	assert_int_equal(str_control_char("a\xc2\x9b"), 0x9b); /* C1 CSI */
	/* The one escaping: nothing in the output starts a line or moves the cursor. */
	p = str_printable("a\n::error::x\r\t\x1b[2J\x7f\xc2\x9b\xff caf\xc3\xa9 \\");
	assert_string_equal(p, "a\\n::error::x\\r\\t\\x1b[2J\\x7f\\u009b\\xff caf\xc3\xa9 \\");
	free(p);
	p = str_printable(NULL);
	assert_string_equal(p, "");
	free(p);
}

static void test_parse_size(void **state)
{
	struct err err = ERR_INIT;
	double v;

	(void)state;
	assert_int_equal(parse_size("512MiB", &v, &err), 0);
	assert_true(v == 512.0 * 1024 * 1024);
	assert_int_equal(parse_size("2KB", &v, &err), 0);
	assert_true(v == 2000);
	assert_int_equal(parse_size("2 KiB", &v, &err), 0);
	assert_true(v == 2048);
	assert_int_equal(parse_size("2XB", &v, &err), ERR_INPUT);
}

static void test_parse_numbers(void **state)
{
	struct err err = ERR_INIT;
	int64_t i;
	double d;

	(void)state;
	assert_int_equal(parse_int64("42", &i, &err), 0);
	assert_int_equal(i, 42);
	assert_int_equal(parse_int64("4x", &i, &err), ERR_INPUT);
	assert_int_equal(parse_int64("99999999999999999999", &i, &err), ERR_INPUT);
	assert_int_equal(parse_double("nan", &d, &err), ERR_INPUT);
	assert_int_equal(parse_double("inf", &d, &err), ERR_INPUT);
	assert_int_equal(parse_double("1e-3", &d, &err), 0);
	assert_true(d == 1e-3);
	assert_int_equal(parse_fraction("5%", &d, &err), 0);
	assert_true(fabs(d - 0.05) < 1e-15);
	assert_int_equal(parse_fraction("0.25", &d, &err), 0);
	assert_true(d == 0.25);
	assert_int_equal(parse_fraction("%", &d, &err), ERR_INPUT);
	assert_int_equal(parse_fraction("5%%", &d, &err), ERR_INPUT);
	assert_string_equal(err.msg, "'5%%' is not a fraction such as 5% or 0.05");
	assert_int_equal(parse_fraction("five%", &d, &err), ERR_INPUT);
}

static void test_sb(void **state)
{
	struct sb sb = SB_INIT;
	char *s;

	(void)state;
	assert_string_equal(sb_str(&sb), "");
	for (int i = 0; i < 1000; i++)
		sb_printf(&sb, "%d,", i % 10);
	assert_int_equal(sb.len, 2000);
	assert_int_equal(strncmp(sb.buf, "0,1,2,", 6), 0);
	sb_reset(&sb);
	sb_puts(&sb, "ab");
	sb_putc(&sb, 'c');
	s = sb_detach(&sb);
	assert_string_equal(s, "abc");
	assert_null(sb.buf);
	free(s);
}

static void test_closest_match(void **state)
{
	static const char *const verbs[] = { "run", "gate", "compare", "push", "history" };

	(void)state;
	assert_int_equal(edit_distance("kitten", "sitting"), 3);
	assert_int_equal(edit_distance("", "abc"), 3);
	assert_int_equal(edit_distance("hlep", "help"), 1);
	assert_string_equal(closest_match("comprae", verbs, 5), "compare");
	assert_string_equal(closest_match("gat", verbs, 5), "gate");
	assert_string_equal(closest_match("hist", verbs, 5), "history");
	assert_null(closest_match("zzzzzz", verbs, 5));
}

/* Issue 19 item 11: a huge word costs memory of the short one's length. */
static void test_closest_match_huge(void **state)
{
	static const char *const keys[] = { "name", "command", "repetitions" };
	size_t n = 10u << 20;
	char *word = xmalloc(n + 1);

	(void)state;
	memset(word, 'x', n);
	word[n] = '\0';
	assert_null(closest_match(word, keys, 3));
	assert_int_equal(edit_distance(word + n - 100000, "name"), 100000);
	free(word);
	assert_int_equal(edit_distance("repetitoins", "repetitions"), 1);
}

static void test_str_repeats(void **state)
{
	const char *v[] = { "b", "a", NULL, "b", "c", "a", NULL, "b" };
	bool want[] = { false, false, false, true, false, true, false, true };
	bool *got;

	(void)state;
	got = str_repeats(v, 8);
	for (size_t i = 0; i < 8; i++)
		assert_int_equal(got[i], want[i]);
	free(got);
}

static void test_read_limits(void **state)
{
	char path[] = "/tmp/perfgate-test-util-XXXXXX";
	int fd = mkstemp(path);
	char *text = NULL;
	size_t len = 0;
	struct err err = ERR_INIT;

	(void)state;
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "line 1\nline 2\nline 3\n", 21), 21);
	close(fd);
	assert_int_equal(file_read_max(path, 21, &text, &len, &err), 0);
	assert_int_equal(len, 21);
	free(text);
	assert_int_equal(file_read_max(path, 20, &text, &len, &err), ERR_INPUT);
	assert_non_null(strstr(err.msg, "larger than 20 bytes"));
	/* /dev/zero has no size: refused once the limit is read, not at memory's end */
	assert_int_equal(file_read_max("/dev/zero", 1u << 20, &text, &len, &err), ERR_INPUT);
	assert_non_null(strstr(err.msg, "larger than 1 MiB"));
	assert_int_equal(file_read_tail(path, 0, 7, &text, &len, &err), 0);
	assert_string_equal(text, "line 3\n");
	free(text);
	/* from an offset: only what came after it */
	assert_int_equal(file_read_tail(path, 14, 1000, &text, &len, &err), 0);
	assert_string_equal(text, "line 3\n");
	free(text);
	assert_int_equal(file_read_tail(path, 21, 1000, &text, &len, &err), 0);
	assert_string_equal(text, "");
	free(text);
	unlink(path);
}

static void test_errlist_unique(void **state)
{
	struct errlist l = ERRLIST_INIT;
	char buf[32];

	(void)state;
	errlist_add(&l, "plain");
	errlist_add_unique(&l, "plain");
	assert_int_equal(l.n, 1);
	for (int round = 0; round < 2; round++)
		for (int i = 0; i < 1000; i++) {
			snprintf(buf, sizeof(buf), "problem %d", i);
			errlist_add_unique(&l, buf);
		}
	assert_int_equal(l.n, 1001);
	errlist_add(&l, "added plainly");
	errlist_add_unique(&l, "added plainly");
	assert_int_equal(l.n, 1002);
	assert_string_equal(l.msgs[1000], "problem 999");
	errlist_release(&l);
}

static void test_sha256(void **state)
{
	char hex[65];

	(void)state;
	/* FIPS 180-2 test vectors. */
	sha256_hex("abc", 3, hex);
	assert_string_equal(hex, "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	sha256_hex("", 0, hex);
	assert_string_equal(hex, "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	sha256_hex("abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq", 56, hex);
	assert_string_equal(hex, "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1");
}

/* RFC 4231 test cases 1, 2 and 6 (a key longer than the block). */
static void test_hmac_sha256(void **state)
{
	char hex[65], key[131];

	(void)state;
	memset(key, 0x0b, 20);
	hmac_sha256_hex(key, 20, "Hi There", 8, hex);
	assert_string_equal(hex, "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7");
	hmac_sha256_hex("Jefe", 4, "what do ya want for nothing?", 28, hex);
	assert_string_equal(hex, "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843");
	memset(key, 0xaa, sizeof(key));
	hmac_sha256_hex(key, sizeof(key), "Test Using Larger Than Block-Size Key - Hash Key First", 54, hex);
	assert_string_equal(hex, "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54");
}

static jmp_buf oom_jump;
static size_t oom_size = 1;

static void oom_record(size_t n)
{
	oom_size = n;
	longjmp(oom_jump, 1);
}

/* Out of memory reaches the program's handler, not stderr (core/ never
 * prints or ends the process itself); the handler does not return. */
static void test_oom_handler(void **state)
{
	volatile int reached = 0;

	(void)state;
	util_set_oom_handler(oom_record);
	if (setjmp(oom_jump) == 0) {
		(void)xcheck(NULL); /* a library's NULL: out of memory, size unknown */
		reached = 1;
	}
	util_set_oom_handler(NULL);
	assert_int_equal(reached, 0);
	assert_int_equal(oom_size, 0);
	/* an allocation that succeeds never calls it */
	oom_size = 7;
	util_set_oom_handler(oom_record);
	free(xmalloc(16));
	util_set_oom_handler(NULL);
	assert_int_equal(oom_size, 7);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
		cmocka_unit_test(test_parse_duration),
		cmocka_unit_test(test_parse_size),
		cmocka_unit_test(test_parse_numbers),
		cmocka_unit_test(test_sb),
		cmocka_unit_test(test_utf8_and_printable),
		cmocka_unit_test(test_closest_match),
		cmocka_unit_test(test_closest_match_huge),
		cmocka_unit_test(test_str_repeats),
		cmocka_unit_test(test_read_limits),
		cmocka_unit_test(test_errlist_unique),
		cmocka_unit_test(test_sha256),
		cmocka_unit_test(test_hmac_sha256),
		cmocka_unit_test(test_oom_handler),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
