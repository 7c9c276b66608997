/*
 * Tests for escape: JSON string escaping of untrusted bytes.
 */
#include <string.h>

#include <CUnit/CUnit.h>

#include "escape.h"
#include "unit.h"


/* Escape src[0..len) into a buffer of size bytes and compare. */
static void
check(const char *src, size_t len, size_t size, const char *want)
{
	char	 buf[512];
	size_t	 n;

	memset(buf, 'Z', sizeof(buf));
	n = escape_json(buf, size, src, len);
	CU_ASSERT_EQUAL(n, strlen(want));
	CU_ASSERT_STRING_EQUAL(buf, want);
	/* Nothing written past the buffer the caller named. */
	CU_ASSERT_EQUAL(buf[size], 'Z');
}


static void
test_escape_plain(void)
{
	check("alice", 5, 64, "alice");
	check("", 0, 64, "");
	check("a b~", 4, 64, "a b~");
}


static void
test_escape_quote_backslash(void)
{
	check("a\"b", 3, 64, "a\\\"b");
	check("a\\b", 3, 64, "a\\\\b");
	check("\"\\", 2, 64, "\\\"\\\\");
}


static void
test_escape_control(void)
{
	check("a\r\nb", 4, 64, "a\\u000d\\u000ab");
	check("\t", 1, 64, "\\u0009");
	check("\x1b[31m", 5, 64, "\\u001b[31m");
	check("\x1f", 1, 64, "\\u001f");
	check("\x7f", 1, 64, "\\u007f");
	/* An embedded NUL is data, not the end. */
	check("a\0b", 3, 64, "a\\u0000b");
}


static void
test_escape_high_bytes(void)
{
	check("p\xc3\xb6rtal", 7, 64, "p\\u00c3\\u00b6rtal");
	check("\x80\xff", 2, 64, "\\u0080\\u00ff");
}


static void
test_escape_output_is_ascii(void)
{
	char	 src[256], buf[256 * 6 + 1];
	size_t	 i, n;

	for (i = 0; i < sizeof(src); i++)
		src[i] = (char)i;
	n = escape_json(buf, sizeof(buf), src, sizeof(src));
	/* 93 printable, 2 two-byte escapes, 161 six-byte escapes */
	CU_ASSERT_EQUAL(n, 93 + 2 * 2 + 161 * 6);
	for (i = 0; i < n; i++) {
		CU_ASSERT(buf[i] >= 0x20 && buf[i] < 0x7f);
	}
	CU_ASSERT_EQUAL(buf[n], '\0');
}


static void
test_escape_exact_fit(void)
{
	/* Output of 5 bytes fits a buffer of 6: no ellipsis. */
	check("alice", 5, 6, "alice");
	check("a\n", 2, 8, "a\\u000a");
}


static void
test_escape_truncate(void)
{
	check("alice-and-bob", 13, 8, "alic...");
	check("alice", 5, 5, "a...");
	/* The cut never splits an escape. */
	check("ab\ncd", 5, 10, "ab...");
	check("ab\ncd", 5, 11, "ab\\u000acd");
	check("ab\ncdef", 7, 12, "ab\\u000a...");
	check("a\"bcdef", 7, 6, "a...");
	check("a\"bcdef", 7, 7, "a\\\"...");
	check("a\"bcdef", 7, 8, "a\\\"b...");
}


static void
test_escape_tiny_buffers(void)
{
	char	 buf[4] = "ZZZ";

	CU_ASSERT_EQUAL(escape_json(buf, 0, "abc", 3), 0);
	CU_ASSERT_EQUAL(buf[0], 'Z');
	check("abc", 3, 1, "");
	check("", 0, 1, "");
	check("abc", 3, 2, ".");
	check("abc", 3, 3, "..");
	check("abc", 3, 4, "abc");
	check("abcd", 4, 4, "...");
	check("\n", 1, 4, "...");
}


int
test_escape_add(void)
{
	CU_pSuite	 s;

	if ((s = CU_add_suite("escape", NULL, NULL)) == NULL)
		return -1;
	if (CU_add_test(s, "plain", test_escape_plain) == NULL ||
	    CU_add_test(s, "quote_backslash",
	    test_escape_quote_backslash) == NULL ||
	    CU_add_test(s, "control", test_escape_control) == NULL ||
	    CU_add_test(s, "high_bytes", test_escape_high_bytes) == NULL ||
	    CU_add_test(s, "output_is_ascii",
	    test_escape_output_is_ascii) == NULL ||
	    CU_add_test(s, "exact_fit", test_escape_exact_fit) == NULL ||
	    CU_add_test(s, "truncate", test_escape_truncate) == NULL ||
	    CU_add_test(s, "tiny_buffers", test_escape_tiny_buffers) == NULL)
		return -1;
	return 0;
}
