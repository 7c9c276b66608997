/*
 * Tests for authbasic: RFC 7617 Basic credentials, strict base64 and the
 * constant-time compare.  The shared cases B19, B20 and B22 are pinned
 * here at the parser level, by case id.  Every value is handed over in a
 * heap buffer of exactly its length, without a NUL, so ASan reports any
 * read past value + len.
 */
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "authbasic.h"
#include "unit.h"

static char	 user[AUTH_USER_MAX + 1], pass[AUTH_PASS_MAX + 1];


/* Parse value[0..len) from an exact-size heap copy. */
static int
parse_n(const char *value, size_t len)
{
	char	*copy;
	int	 rc;

	memset(user, 'x', sizeof(user));
	memset(pass, 'x', sizeof(pass));
	copy = malloc(len == 0 ? 1 : len);
	CU_ASSERT_FATAL(copy != NULL);
	memcpy(copy, value, len);
	rc = authbasic_parse(copy, len, user, pass);
	free(copy);
	return rc;
}


static int
parse(const char *value)
{
	return parse_n(value, strlen(value));
}


/* Encode in[0..len) as NUL-terminated base64 in out.  0 or -1. */
static int
b64enc(const unsigned char *in, size_t len, char *out, size_t size)
{
	static const char	 a[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZ"
	    "abcdefghijklmnopqrstuvwxyz0123456789+/";
	unsigned long		 v;
	size_t			 i, n = 0;

	if ((len + 2) / 3 * 4 >= size)
		return -1;
	for (i = 0; i < len; i += 3) {
		v = (unsigned long)in[i] << 16;
		if (i + 1 < len)
			v |= (unsigned long)in[i + 1] << 8;
		if (i + 2 < len)
			v |= in[i + 2];
		out[n++] = a[v >> 18 & 63];
		out[n++] = a[v >> 12 & 63];
		out[n++] = i + 1 < len ? a[v >> 6 & 63] : '=';
		out[n++] = i + 2 < len ? a[v & 63] : '=';
	}
	out[n] = '\0';
	return 0;
}


/* Does value parse to exactly user u and password p (plen bytes)? */
static void
check_ok(const char *value, const char *u, const char *p, size_t plen)
{
	CU_ASSERT_EQUAL_FATAL(parse(value), 0);
	CU_ASSERT_STRING_EQUAL(user, u);
	CU_ASSERT_EQUAL(strlen(pass), plen);
	CU_ASSERT_EQUAL(memcmp(pass, p, plen + 1), 0);
}


/* Does value fail, leaving user and pass zeroed? */
static void
check_bad(const char *value)
{
	size_t	 i, nonzero = 0;

	CU_ASSERT_EQUAL(parse(value), -1);
	for (i = 0; i < sizeof(user); i++)
		nonzero += user[i] != '\0';
	for (i = 0; i < sizeof(pass); i++)
		nonzero += pass[i] != '\0';
	CU_ASSERT_EQUAL(nonzero, 0);
}


/* B19: scheme in any case, 1*SP, standard alphabet only. */
static void
test_authbasic_b19(void)
{
	check_ok("Basic YWxpY2U6czNjcmV0", "alice", "s3cret", 6);
	check_ok("basic YWxpY2U6czNjcmV0", "alice", "s3cret", 6); /* .1 */
	check_ok("BASIC YWxpY2U6czNjcmV0", "alice", "s3cret", 6); /* .2 */
	check_ok("BaSiC YWxpY2U6czNjcmV0", "alice", "s3cret", 6);
	check_ok("Basic  YWxpY2U6czNjcmV0", "alice", "s3cret", 6); /* .3 */
	check_ok("Basic Ym9iOj8/Pj4=", "bob", "?\?>>", 4);	/* .4 */
	check_bad("Basic Ym9iOj8_Pj4=");			/* .5 */
	check_bad("Basic Ym9iOj8-Pj4=");
	check_bad("Bearer xyz");				/* .6 */
	check_bad("Bearer YWxpY2U6czNjcmV0");
	check_bad("");						/* .7 */
}


/* Separators around the token: SP only, nothing else, nothing after. */
static void
test_authbasic_separators(void)
{
	check_bad("Basic\tYWxpY2U6czNjcmV0");
	check_bad("BasicYWxpY2U6czNjcmV0");
	check_bad("Basicx YWxpY2U6czNjcmV0");
	check_bad("Basi YWxpY2U6czNjcmV0");
	check_bad(" Basic YWxpY2U6czNjcmV0");
	check_bad("Basic YWxpY2U6czNjcmV0 ");
	check_bad("Basic YWxpY2U6 czNjcmV0");
	check_bad("Basic YWxpY2U6czNjcmV0\r\n");
	check_bad("Basic YWxpY2U6czNjcmV0 extra");		/* B20.10 */
	check_bad("Basic YWxpY2U6czNjcmV0,Basic YWxpY2U6czNjcmV0");
	check_bad("Basic");
	check_bad("Basic ");					/* B20.4 */
	check_bad("Basic    ");
	/* A NUL inside the field value is not a terminator. */
	CU_ASSERT_EQUAL(parse_n("Basic YWxpY2U6czNjcmV0\0AAAA", 26), -1);
	/* The length is len, not strlen: a cut token is bad base64. */
	CU_ASSERT_EQUAL(parse_n("Basic YWxpY2U6czNjcmV0", 20), -1);
	CU_ASSERT_EQUAL(parse_n("Basic YWxpY2U6czNjcmV0", 18), 0);
	CU_ASSERT_STRING_EQUAL(pass, "s3c");
}


/* B20: first colon, padding, garbage, non-UTF-8 bytes. */
static void
test_authbasic_b20(void)
{
	check_ok("Basic Y2Fyb2w6cGE6c3M=", "carol", "pa:ss", 5);	/* .1 */
	check_bad("Basic Y2Fyb2w6cGE6c3M");			/* .2 */
	check_bad("Basic !!!!");				/* .3 */
	check_bad("Basic Y2Fyb2w=");				/* .5 */
	check_bad("Basic OnBhOnNz");				/* .6 */
	check_ok("Basic ZGF2ZTpww6Rzcw==", "dave", "p\xc3\xa4ss", 5); /* .7 */
	check_ok("Basic ZGF2ZTpw5HNz", "dave", "p\xe4ss", 4);	/* .8 */
	/* .8: parses, but is not the UTF-8 password of .7. */
	CU_ASSERT_FALSE(strlen(pass) == 5 &&
	    authbasic_ct_equal(pass, "p\xc3\xa4ss", 5));
	/* Empty password is well-formed; policy is the caller's. */
	check_ok("Basic YWxpY2U6", "alice", "", 0);
	/* Only a colon. */
	check_bad("Basic Og==");
}


/* B20.9: 1024 'A' with no colon, and other oversized tokens. */
static void
test_authbasic_b20_9_overlong(void)
{
	char	*v;
	size_t	 i, len;

	/* "QUFB" encodes "AAA"; 341 of them and "QQ==" make 1024 'A'. */
	len = 6 + 341 * 4 + 4;
	CU_ASSERT_FATAL((v = malloc(len + 1)) != NULL);
	memcpy(v, "Basic ", 6);
	for (i = 0; i < 341; i++)
		memcpy(v + 6 + i * 4, "QUFB", 4);
	memcpy(v + 6 + 341 * 4, "QQ==", 5);
	CU_ASSERT_EQUAL(parse_n(v, len), -1);

	/* Same length with a colon in the middle: still too long. */
	v[6 + 170 * 4] = 'O';
	v[6 + 170 * 4 + 1] = 'j';
	v[6 + 170 * 4 + 2] = 'o';
	v[6 + 170 * 4 + 3] = '6';
	CU_ASSERT_EQUAL(parse_n(v, len), -1);
	free(v);
}


/* User and password bounds: 255 bytes each, and no NUL in either. */
static void
test_authbasic_bounds(void)
{
	unsigned char	 raw[AUTH_USER_MAX + AUTH_PASS_MAX + 3];
	char		 v[6 + sizeof(raw) * 2];
	size_t		 i;

	/* 255-byte user, ':' , 255-byte password: 511 bytes, encoded. */
	memset(raw, 'u', AUTH_USER_MAX);
	raw[AUTH_USER_MAX] = ':';
	memset(raw + AUTH_USER_MAX + 1, 'p', AUTH_PASS_MAX);
	memcpy(v, "Basic ", 6);
	CU_ASSERT_FATAL(b64enc(raw, 511, v + 6, sizeof(v) - 6) == 0);
	CU_ASSERT_EQUAL(parse(v), 0);
	CU_ASSERT_EQUAL(strlen(user), AUTH_USER_MAX);
	CU_ASSERT_EQUAL(strlen(pass), AUTH_PASS_MAX);

	/* 256-byte password. */
	raw[511] = 'p';
	CU_ASSERT_FATAL(b64enc(raw, 512, v + 6, sizeof(v) - 6) == 0);
	check_bad(v);

	/* 256-byte user. */
	memset(raw, 'u', AUTH_USER_MAX + 1);
	raw[AUTH_USER_MAX + 1] = ':';
	CU_ASSERT_FATAL(b64enc(raw, 260, v + 6, sizeof(v) - 6) == 0);
	check_bad(v);

	/* NUL in the user and in the password. */
	for (i = 0; i < 2; i++) {
		memcpy(raw, "alice:s3cret", 12);
		raw[i == 0 ? 2 : 8] = '\0';
		CU_ASSERT_FATAL(b64enc(raw, 12, v + 6, sizeof(v) - 6) == 0);
		check_bad(v);
	}
}


/* B22: parse succeeds for every probe; the compare is full-length. */
static void
test_authbasic_b22(void)
{
	check_ok("Basic YWxpY2U6czNjcmVY", "alice", "s3creX", 6);	/* .1 */
	check_ok("Basic YWxpY2U6WDNjcmV0", "alice", "X3cret", 6);	/* .2 */
	check_ok("Basic WGxpY2U6czNjcmV0", "Xlice", "s3cret", 6);	/* .3 */
	check_ok("Basic QUxJQ0U6czNjcmV0", "ALICE", "s3cret", 6);	/* .4 */
	CU_ASSERT_TRUE(authbasic_ct_equal("s3cret", "s3cret", 6));
	CU_ASSERT_FALSE(authbasic_ct_equal("s3creX", "s3cret", 6));
	CU_ASSERT_FALSE(authbasic_ct_equal("X3cret", "s3cret", 6));
	CU_ASSERT_FALSE(authbasic_ct_equal("a\0b", "a\0c", 3));
	CU_ASSERT_TRUE(authbasic_ct_equal("a\0b", "a\0b", 3));
	CU_ASSERT_TRUE(authbasic_ct_equal("x", "y", 0));
}


/* RFC 4648 section 10 vectors and the strictness rules. */
static void
test_authbasic_b64decode(void)
{
	static const char *const vec[][2] = {
		{ "", "" }, { "Zg==", "f" }, { "Zm8=", "fo" },
		{ "Zm9v", "foo" }, { "Zm9vYg==", "foob" },
		{ "Zm9vYmE=", "fooba" }, { "Zm9vYmFy", "foobar" },
	};
	unsigned char	 out[16];
	size_t		 i;

	for (i = 0; i < sizeof(vec) / sizeof(vec[0]); i++) {
		CU_ASSERT_EQUAL(authbasic_b64decode(vec[i][0],
		    strlen(vec[i][0]), out, sizeof(out)),
		    (long)strlen(vec[i][1]));
		CU_ASSERT_EQUAL(memcmp(out, vec[i][1], strlen(vec[i][1])), 0);
	}
	/* Output bound: exact fit works, one byte less fails. */
	CU_ASSERT_EQUAL(authbasic_b64decode("Zm9vYmFy", 8, out, 6), 6);
	CU_ASSERT_EQUAL(authbasic_b64decode("Zm9vYmFy", 8, out, 5), -1);
	CU_ASSERT_EQUAL(authbasic_b64decode("Zm9vYg==", 8, out, 4), 4);
	CU_ASSERT_EQUAL(authbasic_b64decode("Zm9vYg==", 8, out, 3), -1);
	/* Length, padding, alphabet, non-canonical bits. */
	CU_ASSERT_EQUAL(authbasic_b64decode("Zm9", 3, out, 16), -1);
	CU_ASSERT_EQUAL(authbasic_b64decode("Zg=", 3, out, 16), -1);
	CU_ASSERT_EQUAL(authbasic_b64decode("Zg==Zg==", 8, out, 16), -1);
	CU_ASSERT_EQUAL(authbasic_b64decode("Z===", 4, out, 16), -1);
	CU_ASSERT_EQUAL(authbasic_b64decode("====", 4, out, 16), -1);
	CU_ASSERT_EQUAL(authbasic_b64decode("Z=g=", 4, out, 16), -1);
	CU_ASSERT_EQUAL(authbasic_b64decode("Zm 9", 4, out, 16), -1);
	CU_ASSERT_EQUAL(authbasic_b64decode("Zm\n9", 4, out, 16), -1);
	CU_ASSERT_EQUAL(authbasic_b64decode("Zh==", 4, out, 16), -1);
	CU_ASSERT_EQUAL(authbasic_b64decode("Zm9=", 4, out, 16), -1);
	CU_ASSERT_EQUAL(authbasic_b64decode("Zm\0v", 4, out, 16), -1);
	CU_ASSERT_EQUAL(authbasic_b64decode("Pj4-", 4, out, 16), -1);
	CU_ASSERT_EQUAL(authbasic_b64decode("Pj4_", 4, out, 16), -1);
	CU_ASSERT_EQUAL(authbasic_b64decode("Pj4/", 4, out, 16), 3);
	CU_ASSERT_EQUAL(authbasic_b64decode("Pj4+", 4, out, 16), 3);
}


int
test_authbasic_add(void)
{
	CU_pSuite	 s;

	if ((s = CU_add_suite("authbasic", NULL, NULL)) == NULL)
		return -1;
	if (CU_add_test(s, "B19_scheme_alphabet",
	    test_authbasic_b19) == NULL ||
	    CU_add_test(s, "separators", test_authbasic_separators) == NULL ||
	    CU_add_test(s, "B20_colon_padding", test_authbasic_b20) == NULL ||
	    CU_add_test(s, "B20_9_overlong_no_overread",
	    test_authbasic_b20_9_overlong) == NULL ||
	    CU_add_test(s, "bounds", test_authbasic_bounds) == NULL ||
	    CU_add_test(s, "B22_full_compare", test_authbasic_b22) == NULL ||
	    CU_add_test(s, "b64decode", test_authbasic_b64decode) == NULL)
		return -1;
	return 0;
}
