/*
 * Unit tests of the CONNECT request head parser (src/http.c).
 *
 * Every request of /work/shared/cases rows B02-B17 is run through
 * http_parse_head; the tests are named after the case ids.  Each verdict
 * is also checked incrementally: every prefix of the request must give
 * MORE until the first other verdict, which must be the verdict of the
 * whole request (so chunking never changes the answer).
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "http.h"
#include "unit.h"

#define TEST_MORE	(-1)

#define TEST_PORTAL	"portal.eu1.edge.siemens.cloud:443"
#define TEST_AUTH	"Proxy-Authorization: Basic YWxpY2U6czNjcmV0\r\n"
#define TEST_LINE(t)	"CONNECT " t " HTTP/1.1\r\n"
#define TEST_HOST	"Host: " TEST_PORTAL "\r\n"
/* The usual shape of a case: target in the line and in Host. */
#define TEST_REQ(t)	TEST_LINE(t) "Host: " t "\r\n" TEST_AUTH "\r\n"
/* The portal request with extra field lines before the credentials. */
#define TEST_WITH(f)	TEST_LINE(TEST_PORTAL) TEST_HOST f TEST_AUTH "\r\n"

static const struct http_limits test_http_limits = { 16384, 100 };


/* The verdict as one number: REASON_NONE, TEST_MORE or the error. */
static int
test_http_verdict_n(const char *buf, size_t len,
    const struct http_limits *lim, struct http_request *req)
{
	switch (http_parse_head(buf, len, lim, req)) {
	case HTTP_PARSE_DONE:
		return REASON_NONE;
	case HTTP_PARSE_MORE:
		return TEST_MORE;
	default:
		return (int)req->error;
	}
}


/*
 * Verdict of buf[0..len), after checking that its prefixes agree with
 * it: MORE, then the final verdict (same head_len when DONE).
 */
static int
test_http_check_n(const char *buf, size_t len)
{
	struct http_request	req, part;
	size_t			n;
	int			full, v;

	full = test_http_verdict_n(buf, len, &test_http_limits, &req);
	for (n = 0; n < len; n++) {
		v = test_http_verdict_n(buf, n, &test_http_limits, &part);
		if (v == TEST_MORE)
			continue;
		CU_ASSERT_EQUAL(v, full);
		if (v == REASON_NONE && full == REASON_NONE)
			CU_ASSERT_EQUAL(part.head_len, req.head_len);
	}
	return full;
}


static int
test_http_check(const char *s)
{
	return test_http_check_n(s, strlen(s));
}


/* Parse s whole (no prefix checks), filling req. */
static int
test_http_parse(const char *s, struct http_request *req)
{
	return test_http_verdict_n(s, strlen(s), &test_http_limits, req);
}


static bool
test_http_span_is(const struct http_span *sp, const char *want)
{
	return sp->ptr != NULL && sp->len == strlen(want) &&
	    memcmp(sp->ptr, want, sp->len) == 0;
}


static void
test_b02_trailing_dot(void)
{
	/* The host itself is allow_parse_target's: framing only here. */
	CU_ASSERT_EQUAL(test_http_check(TEST_REQ(
	    "portal.eu1.edge.siemens.cloud.:443")), REASON_NONE);
	CU_ASSERT_EQUAL(test_http_check(TEST_REQ(
	    "portal.eu1.edge.siemens.cloud..:443")), REASON_NONE);
	CU_ASSERT_EQUAL(test_http_check(TEST_REQ("evil.example.:443")),
	    REASON_NONE);
	CU_ASSERT_EQUAL(test_http_check(TEST_REQ("localhost.:443")),
	    REASON_NONE);
}


static void
test_b03_upper_case_host(void)
{
	struct http_request	req;

	CU_ASSERT_EQUAL(test_http_check(TEST_REQ(
	    "PORTAL.EU1.Edge.Siemens.Cloud:443")), REASON_NONE);
	CU_ASSERT_EQUAL(test_http_parse(TEST_REQ("LocalHost:443"), &req),
	    REASON_NONE);
	CU_ASSERT(test_http_span_is(&req.target, "LocalHost:443"));
}


static void
test_b05_encoded_host(void)
{
	CU_ASSERT_EQUAL(test_http_check(TEST_REQ(
	    "evil.example%23.svc.allowed.example:443")), REASON_NONE);
	CU_ASSERT_EQUAL(test_http_check(TEST_REQ(
	    "portal%2eeu1.edge.siemens.cloud:443")), REASON_NONE);
	CU_ASSERT_EQUAL(test_http_check(TEST_REQ(
	    "evil.example%0d%0aX.svc.allowed.example:443")), REASON_NONE);
	CU_ASSERT_EQUAL(test_http_check(TEST_REQ(
	    "evil.example\\.svc.allowed.example:443")), REASON_NONE);
}


static void
test_b05_4_raw_hash(void)
{
	CU_ASSERT_EQUAL(test_http_check(TEST_REQ(
	    "evil.example#.svc.allowed.example:443")), REASON_BAD_TARGET);
}


static void
test_b05_5_raw_utf8(void)
{
	/* RFC 9112 section 3.2: a request-target is visible ASCII. */
	CU_ASSERT_EQUAL(test_http_check(TEST_REQ(
	    "p\xc3\xb6rtal.svc.allowed.example:443")),
	    REASON_BAD_REQUEST_LINE);
}


static void
test_b06_ipv6_frames(void)
{
	CU_ASSERT_EQUAL(test_http_check(TEST_REQ("[::1]:443")), REASON_NONE);
	CU_ASSERT_EQUAL(test_http_check(TEST_REQ("::1:443")), REASON_NONE);
	CU_ASSERT_EQUAL(test_http_check(TEST_REQ("[::1]443")), REASON_NONE);
	CU_ASSERT_EQUAL(test_http_check(TEST_REQ("[::1:443")), REASON_NONE);
	CU_ASSERT_EQUAL(test_http_check(TEST_REQ("[fe80::1%25eth0]:443")),
	    REASON_NONE);
	CU_ASSERT_EQUAL(test_http_check(TEST_REQ("[2001:db8::1]:443")),
	    REASON_NONE);
}


static void
test_b08_numeric_frames(void)
{
	CU_ASSERT_EQUAL(test_http_check(TEST_REQ("2130706433:443")),
	    REASON_NONE);
	CU_ASSERT_EQUAL(test_http_check(TEST_REQ("0x7f.1:443")), REASON_NONE);
	CU_ASSERT_EQUAL(test_http_check(TEST_REQ("0177.0.0.1:443")),
	    REASON_NONE);
	CU_ASSERT_EQUAL(test_http_check(TEST_REQ("127.1:443")), REASON_NONE);
	CU_ASSERT_EQUAL(test_http_check(TEST_REQ("0:443")), REASON_NONE);
	CU_ASSERT_EQUAL(test_http_check(TEST_REQ("0.0.0.0:443")), REASON_NONE);
	CU_ASSERT_EQUAL(test_http_check(TEST_REQ("100.64.0.1:443")),
	    REASON_NONE);
}


static void
test_b09_port_frames(void)
{
	struct http_request	req;

	CU_ASSERT_EQUAL(test_http_check(TEST_REQ(
	    "portal.eu1.edge.siemens.cloud")), REASON_NONE);
	CU_ASSERT_EQUAL(test_http_check(TEST_REQ(
	    "portal.eu1.edge.siemens.cloud:")), REASON_NONE);
	CU_ASSERT_EQUAL(test_http_check(TEST_REQ(
	    "portal.eu1.edge.siemens.cloud:443:443")), REASON_NONE);
	CU_ASSERT_EQUAL(test_http_parse(TEST_REQ(
	    "portal.eu1.edge.siemens.cloud:4294967739"), &req), REASON_NONE);
	CU_ASSERT(test_http_span_is(&req.target,
	    "portal.eu1.edge.siemens.cloud:4294967739"));
}


static void
test_b10_userinfo_frames(void)
{
	CU_ASSERT_EQUAL(test_http_check(TEST_LINE(
	    "evil.example@portal.eu1.edge.siemens.cloud:443") TEST_HOST
	    TEST_AUTH "\r\n"), REASON_NONE);
	CU_ASSERT_EQUAL(test_http_check(TEST_LINE(
	    "alice:s3cret@portal.eu1.edge.siemens.cloud:443") TEST_HOST
	    TEST_AUTH "\r\n"), REASON_NONE);
}


static void
test_b11_1_get_absolute_form(void)
{
	struct http_request	req;
	const char		*s = "GET http://evil.example/ HTTP/1.1\r\n"
	    "Host: evil.example\r\n" TEST_AUTH "\r\n";

	CU_ASSERT_EQUAL(test_http_check(s), REASON_BAD_METHOD);
	CU_ASSERT_EQUAL(test_http_parse(s, &req), REASON_BAD_METHOD);
	CU_ASSERT(test_http_span_is(&req.method, "GET"));
}


static void
test_b11_2_lower_case_connect(void)
{
	CU_ASSERT_EQUAL(test_http_check("connect " TEST_PORTAL " HTTP/1.1\r\n"
	    TEST_HOST TEST_AUTH "\r\n"), REASON_BAD_METHOD);
}


static void
test_b11_3_options_asterisk(void)
{
	CU_ASSERT_EQUAL(test_http_check("OPTIONS * HTTP/1.1\r\n" TEST_HOST
	    TEST_AUTH "\r\n"), REASON_BAD_METHOD);
}


static void
test_b11_4_absolute_form(void)
{
	CU_ASSERT_EQUAL(test_http_check(TEST_LINE(
	    "http://portal.eu1.edge.siemens.cloud:443/") TEST_HOST TEST_AUTH
	    "\r\n"), REASON_BAD_TARGET);
}


static void
test_b11_5_path(void)
{
	CU_ASSERT_EQUAL(test_http_check(TEST_LINE(TEST_PORTAL "/") TEST_HOST
	    TEST_AUTH "\r\n"), REASON_BAD_TARGET);
	CU_ASSERT_EQUAL(test_http_check(TEST_LINE(TEST_PORTAL "?a") TEST_HOST
	    TEST_AUTH "\r\n"), REASON_BAD_TARGET);
}


static void
test_b11_6_leading_space(void)
{
	struct http_request	req;
	const char		*s = " http://evil.example/ HTTP/1.1\r\n"
	    "Host: evil.example\r\n" TEST_AUTH "\r\n";

	CU_ASSERT_EQUAL(test_http_check(s), REASON_BAD_REQUEST_LINE);
	/* Decided on the first byte: nothing more is read. */
	CU_ASSERT_EQUAL(test_http_verdict_n(s, 1, &test_http_limits, &req),
	    REASON_BAD_REQUEST_LINE);
}


static void
test_b11_7_double_spaces(void)
{
	CU_ASSERT_EQUAL(test_http_check("CONNECT  " TEST_PORTAL "  HTTP/1.1"
	    "\r\n" TEST_HOST TEST_AUTH "\r\n"), REASON_BAD_REQUEST_LINE);
	CU_ASSERT_EQUAL(test_http_check("CONNECT " TEST_PORTAL "  HTTP/1.1"
	    "\r\n" TEST_HOST TEST_AUTH "\r\n"), REASON_BAD_REQUEST_LINE);
	CU_ASSERT_EQUAL(test_http_check("CONNECT " TEST_PORTAL " HTTP/1.1 "
	    "\r\n" TEST_HOST TEST_AUTH "\r\n"), REASON_BAD_REQUEST_LINE);
	CU_ASSERT_EQUAL(test_http_check("CONNECT\t" TEST_PORTAL " HTTP/1.1"
	    "\r\n" TEST_HOST TEST_AUTH "\r\n"), REASON_BAD_REQUEST_LINE);
}


static void
test_b11_8_missing_version(void)
{
	CU_ASSERT_EQUAL(test_http_check("CONNECT " TEST_PORTAL "\r\n"
	    TEST_HOST TEST_AUTH "\r\n"), REASON_BAD_REQUEST_LINE);
	CU_ASSERT_EQUAL(test_http_check("CONNECT " TEST_PORTAL " \r\n"
	    TEST_HOST TEST_AUTH "\r\n"), REASON_BAD_REQUEST_LINE);
	/* A malformed line is 400 whatever its method. */
	CU_ASSERT_EQUAL(test_http_check("GET /\r\n\r\n"),
	    REASON_BAD_REQUEST_LINE);
}


static void
test_b11_9_http10(void)
{
	struct http_request	req;
	const char		*s = "CONNECT " TEST_PORTAL " HTTP/1.0\r\n"
	    TEST_HOST TEST_AUTH "\r\n";

	CU_ASSERT_EQUAL(test_http_check(s), REASON_NONE);
	CU_ASSERT_EQUAL(test_http_parse(s, &req), REASON_NONE);
	CU_ASSERT_EQUAL(req.version_minor, 0);
	CU_ASSERT_EQUAL(req.head_len, strlen(s));
	CU_ASSERT_EQUAL(req.header_count, 2);
	CU_ASSERT(test_http_span_is(&req.method, "CONNECT"));
	CU_ASSERT(test_http_span_is(&req.target, TEST_PORTAL));
}


static void
test_b12_1_duplicate_host(void)
{
	CU_ASSERT_EQUAL(test_http_check(TEST_WITH(
	    "Host: evil.example:443\r\n")), REASON_DUPLICATE_HOST);
	CU_ASSERT_EQUAL(test_http_check(TEST_WITH("hOST: " TEST_PORTAL "\r\n")),
	    REASON_DUPLICATE_HOST);
}


static void
test_b12_2_empty_header_name(void)
{
	CU_ASSERT_EQUAL(test_http_check(TEST_WITH(": x\r\n")),
	    REASON_BAD_HEADER);
}


static void
test_b12_3_host_mismatch_ignored(void)
{
	struct http_request	req;
	const char		*s = TEST_LINE(TEST_PORTAL)
	    "Host: evil.example:443\r\n" TEST_AUTH "\r\n";

	CU_ASSERT_EQUAL(test_http_check(s), REASON_NONE);
	CU_ASSERT_EQUAL(test_http_parse(s, &req), REASON_NONE);
	CU_ASSERT(test_http_span_is(&req.target, TEST_PORTAL));
}


static void
test_b13_1_space_before_colon(void)
{
	CU_ASSERT_EQUAL(test_http_check(TEST_LINE(TEST_PORTAL) TEST_HOST
	    "Proxy-Authorization : Basic YWxpY2U6czNjcmV0\r\n\r\n"),
	    REASON_BAD_HEADER);
	CU_ASSERT_EQUAL(test_http_check(TEST_LINE(TEST_PORTAL) TEST_HOST
	    "Proxy-Authorization\t: Basic YWxpY2U6czNjcmV0\r\n\r\n"),
	    REASON_BAD_HEADER);
}


static void
test_b13_2_obs_fold(void)
{
	CU_ASSERT_EQUAL(test_http_check(TEST_LINE(TEST_PORTAL) TEST_HOST
	    "Proxy-Authorization: Basic\r\n YWxpY2U6czNjcmV0\r\n\r\n"),
	    REASON_BAD_HEADER);
	CU_ASSERT_EQUAL(test_http_check(TEST_LINE(TEST_PORTAL) TEST_HOST
	    "X-a: b\r\n\tc\r\n\r\n"), REASON_BAD_HEADER);
	/* Whitespace before the first field line (RFC 9112 section 2.2). */
	CU_ASSERT_EQUAL(test_http_check(TEST_LINE(TEST_PORTAL) " " TEST_HOST
	    "\r\n"), REASON_BAD_HEADER);
}


static void
test_b13_3_no_colon(void)
{
	CU_ASSERT_EQUAL(test_http_check(TEST_WITH("Garbage-without-colon\r\n")),
	    REASON_BAD_HEADER);
}


static void
test_b13_4_bare_cr(void)
{
	CU_ASSERT_EQUAL(test_http_check(TEST_WITH("X-Note: a\rb\r\n")),
	    REASON_BAD_HEADER);
	CU_ASSERT_EQUAL(test_http_check(TEST_WITH("X-Note: a\nb\r\n")),
	    REASON_BAD_HEADER);
	CU_ASSERT_EQUAL(test_http_check(TEST_WITH("X-Note: a\n")),
	    REASON_BAD_HEADER);
	CU_ASSERT_EQUAL(test_http_check(TEST_LINE(TEST_PORTAL) TEST_HOST
	    "\r\r\n"), REASON_BAD_HEADER);
	CU_ASSERT_EQUAL(test_http_check(TEST_LINE(TEST_PORTAL) TEST_HOST
	    "\n"), REASON_BAD_HEADER);
	CU_ASSERT_EQUAL(test_http_check("CONNECT " TEST_PORTAL " HTTP/1.1\n"
	    TEST_HOST "\r\n"), REASON_BAD_REQUEST_LINE);
	CU_ASSERT_EQUAL(test_http_check("CONNECT " TEST_PORTAL " HTTP/1.1\r"
	    "\r\n" TEST_HOST "\r\n"), REASON_BAD_REQUEST_LINE);
}


static void
test_b13_5_tab_ows(void)
{
	struct http_request	req;
	const char		*s = TEST_LINE(TEST_PORTAL) TEST_HOST
	    "Proxy-Authorization:\tBasic YWxpY2U6czNjcmV0\r\n\r\n";

	CU_ASSERT_EQUAL(test_http_check(s), REASON_NONE);
	CU_ASSERT_EQUAL(test_http_parse(s, &req), REASON_NONE);
	CU_ASSERT(test_http_span_is(&req.proxy_authorization,
	    "Basic YWxpY2U6czNjcmV0"));
}


static void
test_b14_1_transfer_encoding(void)
{
	CU_ASSERT_EQUAL(test_http_check(TEST_WITH(
	    "Transfer-Encoding: Chunked\r\n")), REASON_BODY_FRAMING);
	CU_ASSERT_EQUAL(test_http_check(TEST_WITH(
	    "transfer-encoding: identity\r\n")), REASON_BODY_FRAMING);
	CU_ASSERT_EQUAL(test_http_check(TEST_WITH("TRANSFER-ENCODING:\r\n")),
	    REASON_BODY_FRAMING);
}


static void
test_b14_2_conflicting_content_length(void)
{
	CU_ASSERT_EQUAL(test_http_check(TEST_WITH(
	    "Content-Length: 5\r\nContent-Length: 7\r\n")),
	    REASON_BODY_FRAMING);
	CU_ASSERT_EQUAL(test_http_check(TEST_WITH(
	    "Content-Length: 0\r\nContent-Length: 7\r\n")),
	    REASON_BODY_FRAMING);
	CU_ASSERT_EQUAL(test_http_check(TEST_WITH(
	    "Content-Length: 0, 0\r\n")), REASON_BODY_FRAMING);
}


static void
test_b14_3_content_length_with_body(void)
{
	struct http_request	req;
	const char		*s = TEST_WITH("Content-Length: 5\r\n") "hello";

	CU_ASSERT_EQUAL(test_http_check(s), REASON_BODY_FRAMING);
	CU_ASSERT_EQUAL(test_http_parse(s, &req), REASON_BODY_FRAMING);
	CU_ASSERT_EQUAL(req.head_len, 0);
}


static void
test_b14_4_content_length_zero(void)
{
	CU_ASSERT_EQUAL(test_http_check(TEST_WITH("Content-Length: 0\r\n")),
	    REASON_NONE);
	CU_ASSERT_EQUAL(test_http_check(TEST_WITH(
	    "Content-Length: 0\r\ncontent-length:0 \r\n")), REASON_NONE);
	CU_ASSERT_EQUAL(test_http_check(TEST_WITH("Content-Length: 00\r\n")),
	    REASON_BODY_FRAMING);
	CU_ASSERT_EQUAL(test_http_check(TEST_WITH("Content-Length: -0\r\n")),
	    REASON_BODY_FRAMING);
	CU_ASSERT_EQUAL(test_http_check(TEST_WITH("Content-Length:\r\n")),
	    REASON_BODY_FRAMING);
}


static void
test_b16_1_long_label_frames(void)
{
	char	buf[512];
	size_t	n;

	n = (size_t)snprintf(buf, sizeof(buf), "CONNECT %0300d.svc.allowed."
	    "example:443 HTTP/1.1\r\nHost: x\r\n%s\r\n", 0, TEST_AUTH);
	CU_ASSERT_FATAL(n < sizeof(buf));
	CU_ASSERT_EQUAL(test_http_check_n(buf, n), REASON_NONE);
}


/* A head of n bytes: the portal request with one X-Big field. */
static char *
test_http_big(size_t value_len, size_t *len)
{
	const char	*pre = TEST_LINE(TEST_PORTAL) TEST_HOST "X-Big: ";
	const char	*post = "\r\n" TEST_AUTH "\r\n";
	char		*buf;
	size_t		 a = strlen(pre), b = strlen(post);

	if ((buf = malloc(a + value_len + b)) == NULL)
		return NULL;
	memcpy(buf, pre, a);
	memset(buf + a, 'A', value_len);
	memcpy(buf + a + value_len, post, b);
	*len = a + value_len + b;
	return buf;
}


static void
test_b16_3_huge_header_value(void)
{
	struct http_request	 req;
	char			*buf;
	size_t			 len;

	buf = test_http_big(71680, &len);
	CU_ASSERT_FATAL(buf != NULL);
	CU_ASSERT_EQUAL(test_http_verdict_n(buf, len, &test_http_limits,
	    &req), REASON_HEADER_TOO_LARGE);
	/* Refused as soon as one byte past the limit arrived. */
	CU_ASSERT_EQUAL(test_http_verdict_n(buf, 16384, &test_http_limits,
	    &req), TEST_MORE);
	CU_ASSERT_EQUAL(test_http_verdict_n(buf, 16385, &test_http_limits,
	    &req), REASON_HEADER_TOO_LARGE);
	free(buf);
}


static void
test_b16_4_many_headers(void)
{
	const char	*pre = TEST_LINE(TEST_PORTAL) TEST_HOST;
	const char	*post = TEST_AUTH "\r\n";
	char		*buf, *p;
	size_t		 i, len;
	struct http_limits lim = { 1 << 20, 100 };

	len = strlen(pre) + 10000 * 8 + strlen(post);
	CU_ASSERT_FATAL((buf = malloc(len)) != NULL);
	p = buf;
	memcpy(p, pre, strlen(pre));
	p += strlen(pre);
	for (i = 0; i < 10000; i++, p += 8)
		memcpy(p, "X-h: 1\r\n", 8);
	memcpy(p, post, strlen(post));
	CU_ASSERT_EQUAL(test_http_verdict_n(buf, len, &test_http_limits,
	    &(struct http_request){ 0 }), REASON_TOO_MANY_HEADERS);
	/* With a large byte limit the count limit still holds. */
	CU_ASSERT_EQUAL(test_http_verdict_n(buf, len, &lim,
	    &(struct http_request){ 0 }), REASON_TOO_MANY_HEADERS);
	free(buf);
}


static void
test_b16_5_no_crlf(void)
{
	struct http_request	 req;
	char			*buf;
	size_t			 len = 8 + 1048576;

	CU_ASSERT_FATAL((buf = malloc(len)) != NULL);
	memcpy(buf, "CONNECT ", 8);
	memset(buf + 8, 'a', len - 8);
	CU_ASSERT_EQUAL(test_http_verdict_n(buf, len, &test_http_limits,
	    &req), REASON_HEADER_TOO_LARGE);
	CU_ASSERT_EQUAL(test_http_verdict_n(buf, 16384, &test_http_limits,
	    &req), TEST_MORE);
	CU_ASSERT_EQUAL(test_http_verdict_n(buf, 16385, &test_http_limits,
	    &req), REASON_HEADER_TOO_LARGE);
	free(buf);
}


static void
test_b17_connection_names_itself(void)
{
	struct http_request	req;
	const char		*s = TEST_WITH("Connection: Connection\r\n"
	    "Proxy-Connection: Proxy-Connection, Connection, keep-alive\r\n");
	int			i;

	CU_ASSERT_EQUAL(test_http_check(s), REASON_NONE);
	for (i = 0; i < 10000; i++)
		if (test_http_parse(s, &req) != REASON_NONE)
			break;
	CU_ASSERT_EQUAL(i, 10000);
	CU_ASSERT_EQUAL(req.header_count, 4);
	CU_ASSERT(test_http_span_is(&req.proxy_authorization,
	    "Basic YWxpY2U6czNjcmV0"));
}


static void
test_http_tunnel_bytes_after_head(void)
{
	struct http_request	req;
	const char		*head = TEST_REQ(TEST_PORTAL);
	char			buf[512];
	size_t			n = strlen(head);

	memcpy(buf, head, n);
	memcpy(buf + n, "\x16\x03\x01\x02\x00\x01\r\n\r\n", 10);
	CU_ASSERT_EQUAL(test_http_verdict_n(buf, n + 10, &test_http_limits,
	    &req), REASON_NONE);
	CU_ASSERT_EQUAL(req.head_len, n);
}


static void
test_http_byte_by_byte(void)
{
	struct http_request	req;
	const char		*s = TEST_REQ(TEST_PORTAL);
	size_t			n, len = strlen(s);

	for (n = 0; n < len; n++)
		CU_ASSERT_EQUAL(test_http_verdict_n(s, n, &test_http_limits,
		    &req), TEST_MORE);
	CU_ASSERT_EQUAL(test_http_verdict_n(s, len, &test_http_limits, &req),
	    REASON_NONE);
	CU_ASSERT_EQUAL(req.head_len, len);
}


static void
test_http_head_limit_boundary(void)
{
	struct http_request	req;
	struct http_limits	lim = { 0, 100 };
	const char		*s = TEST_REQ(TEST_PORTAL);
	char			buf[512];
	size_t			len = strlen(s);

	/* Exactly max_head_bytes, final CRLF included: accepted. */
	lim.max_head_bytes = len;
	CU_ASSERT_EQUAL(test_http_verdict_n(s, len, &lim, &req), REASON_NONE);
	memcpy(buf, s, len);
	memset(buf + len, 'x', 100);
	CU_ASSERT_EQUAL(test_http_verdict_n(buf, len + 100, &lim, &req),
	    REASON_NONE);
	CU_ASSERT_EQUAL(req.head_len, len);

	/* One byte less: the final LF would be past the limit. */
	lim.max_head_bytes = len - 1;
	CU_ASSERT_EQUAL(test_http_verdict_n(s, len - 1, &lim, &req),
	    TEST_MORE);
	CU_ASSERT_EQUAL(test_http_verdict_n(s, len, &lim, &req),
	    REASON_HEADER_TOO_LARGE);
}


static void
test_http_header_count_boundary(void)
{
	struct http_request	req;
	struct http_limits	lim = { 16384, 2 };
	const char		*two = TEST_REQ(TEST_PORTAL);
	const char		*three = TEST_WITH("X-a: b\r\n");

	CU_ASSERT_EQUAL(test_http_verdict_n(two, strlen(two), &lim, &req),
	    REASON_NONE);
	CU_ASSERT_EQUAL(req.header_count, 2);
	CU_ASSERT_EQUAL(test_http_verdict_n(three, strlen(three), &lim, &req),
	    REASON_TOO_MANY_HEADERS);
}


static void
test_http_versions(void)
{
	struct http_request	req;

	CU_ASSERT_EQUAL(test_http_check(TEST_LINE(TEST_PORTAL) "\r\n"),
	    REASON_NONE);
	CU_ASSERT_EQUAL(test_http_check("CONNECT " TEST_PORTAL " HTTP/2.0\r\n"
	    "\r\n"), REASON_BAD_VERSION);
	CU_ASSERT_EQUAL(test_http_check("CONNECT " TEST_PORTAL " HTTP/0.9\r\n"
	    "\r\n"), REASON_BAD_VERSION);
	CU_ASSERT_EQUAL(test_http_check("CONNECT " TEST_PORTAL " http/1.1\r\n"
	    "\r\n"), REASON_BAD_VERSION);
	CU_ASSERT_EQUAL(test_http_check("CONNECT " TEST_PORTAL " HTTP/1.10\r\n"
	    "\r\n"), REASON_BAD_VERSION);
	CU_ASSERT_EQUAL(test_http_check("CONNECT " TEST_PORTAL " HTTP/1\r\n"
	    "\r\n"), REASON_BAD_VERSION);
	/* Version is syntax: checked before the method. */
	CU_ASSERT_EQUAL(test_http_check("GET / HTTP/2.0\r\n\r\n"),
	    REASON_BAD_VERSION);
	/* RFC 9110 section 2.5: a higher minor version is read as 1.1. */
	CU_ASSERT_EQUAL(test_http_parse("CONNECT " TEST_PORTAL " HTTP/1.7\r\n"
	    "\r\n", &req), REASON_NONE);
	CU_ASSERT_EQUAL(req.version_minor, 1);
}


static void
test_http_method_decided_on_head(void)
{
	struct http_request	req;

	/*
	 * 405 once the whole head has parsed: syntax and size (400, 431)
	 * come first, as the shared cases order the verdicts.
	 */
	CU_ASSERT_EQUAL(test_http_parse("GET / HTTP/1.1\r\n", &req),
	    TEST_MORE);
	CU_ASSERT_EQUAL(test_http_check("GET / HTTP/1.1\r\nHost: x\r\n\r\n"),
	    REASON_BAD_METHOD);
	CU_ASSERT_EQUAL(test_http_parse("POST / HTTP/1.1\r\nBad\r\n\r\n",
	    &req), REASON_BAD_HEADER);
	CU_ASSERT_EQUAL(test_http_check("GET / HTTP/1.1\r\nBad Header\r\n"
	    "\r\n"), REASON_BAD_HEADER);
	CU_ASSERT_EQUAL(test_http_check("GET / HTTP/1.1\r\nHost: a\r\n"
	    "Host: b\r\n\r\n"), REASON_DUPLICATE_HOST);
	/* a body is no smuggling attempt on a method that is refused */
	CU_ASSERT_EQUAL(test_http_check("POST / HTTP/1.1\r\nHost: x\r\n"
	    "Content-Length: 5\r\n\r\n"), REASON_BAD_METHOD);
	CU_ASSERT_EQUAL(test_http_check("CONNECTX " TEST_PORTAL " HTTP/1.1\r\n"
	    "\r\n"), REASON_BAD_METHOD);
	CU_ASSERT_EQUAL(test_http_check("CONNEC " TEST_PORTAL " HTTP/1.1\r\n"
	    "\r\n"), REASON_BAD_METHOD);
	CU_ASSERT_EQUAL(test_http_check("CON\"NECT " TEST_PORTAL " HTTP/1.1\r\n"
	    "\r\n"), REASON_BAD_REQUEST_LINE);
	CU_ASSERT_EQUAL(test_http_check("\r\n" TEST_REQ(TEST_PORTAL)),
	    REASON_BAD_REQUEST_LINE);
}


static void
test_http_control_bytes(void)
{
	static const char	nul_value[] = TEST_WITH("X-a: a\0b\r\n");
	static const char	nul_target[] =
	    "CONNECT a\0:443 HTTP/1.1\r\n\r\n";
	static const char	high_value[] = TEST_WITH("X-a: \xff\xfe\r\n");

	CU_ASSERT_EQUAL(test_http_check_n(nul_value, sizeof(nul_value) - 1),
	    REASON_BAD_HEADER);
	CU_ASSERT_EQUAL(test_http_check_n(nul_target, sizeof(nul_target) - 1),
	    REASON_BAD_REQUEST_LINE);
	CU_ASSERT_EQUAL(test_http_check(TEST_WITH("X-a: a\x01\r\n")),
	    REASON_BAD_HEADER);
	CU_ASSERT_EQUAL(test_http_check(TEST_WITH("X-a: a\x7f\r\n")),
	    REASON_BAD_HEADER);
	CU_ASSERT_EQUAL(test_http_check(TEST_WITH("X-a: a\x1b[0m\r\n")),
	    REASON_BAD_HEADER);
	CU_ASSERT_EQUAL(test_http_check(TEST_WITH("X-\x80: a\r\n")),
	    REASON_BAD_HEADER);
	/* obs-text in a value is allowed (RFC 9110 section 5.5). */
	CU_ASSERT_EQUAL(test_http_check(TEST_WITH("X-a: a\tb \r\n")),
	    REASON_NONE);
	CU_ASSERT_EQUAL(test_http_check(high_value), REASON_NONE);
}


static void
test_http_proxy_authorization(void)
{
	struct http_request	req;

	CU_ASSERT_EQUAL(test_http_parse(TEST_LINE(TEST_PORTAL)
	    "Proxy-Authorization: \t Basic  abc= \t \r\n\r\n", &req),
	    REASON_NONE);
	CU_ASSERT(test_http_span_is(&req.proxy_authorization, "Basic  abc="));
	CU_ASSERT_EQUAL(test_http_parse(TEST_LINE(TEST_PORTAL)
	    "proxy-authorization:\r\n\r\n", &req), REASON_NONE);
	CU_ASSERT(req.proxy_authorization.ptr != NULL);
	CU_ASSERT_EQUAL(req.proxy_authorization.len, 0);
	CU_ASSERT_EQUAL(test_http_parse(TEST_LINE(TEST_PORTAL) "\r\n", &req),
	    REASON_NONE);
	CU_ASSERT_PTR_NULL(req.proxy_authorization.ptr);
	CU_ASSERT_EQUAL(test_http_check(TEST_WITH(TEST_AUTH)),
	    REASON_BAD_HEADER);
}


static void
test_http_empty_input(void)
{
	struct http_request	req;

	CU_ASSERT_EQUAL(test_http_verdict_n("", 0, &test_http_limits, &req),
	    TEST_MORE);
	CU_ASSERT_EQUAL(test_http_check("CONNECT " TEST_PORTAL " HTTP/1.1\r\n"
	    "Host: a\r\n"), TEST_MORE);
}


static void
redact_is(const char *in, const char *want, size_t size)
{
	char	out[64];
	size_t	n;

	n = http_redact_target(out, size, in, strlen(in));
	CU_ASSERT_EQUAL(n, strlen(want));
	CU_ASSERT_STRING_EQUAL(out, want);
}


/* B10.2: a credential in the target never reaches the log. */
static void
test_http_redact_target(void)
{
	redact_is("portal.example:443", "portal.example:443", 64);
	redact_is("alice:s3cret@portal.example:443",
	    "[redacted]@portal.example:443", 64);
	redact_is("a@b@portal.example:443", "[redacted]@portal.example:443",
	    64);
	redact_is("http://u:p@h.example/x", "http://[redacted]@h.example/x",
	    64);
	/* a password holding the characters that end an authority */
	redact_is("bob:?\?>>@portal.example:443",
	    "[redacted]@portal.example:443", 64);
	redact_is("alice:s3cret/@h:443", "[redacted]@h:443", 64);
	redact_is("alice:a#b@h:443", "[redacted]@h:443", 64);
	redact_is("http://bob:?\?>>@evil.example/", "http://[redacted]@"
	    "evil.example/", 64);
	/* broken spellings of an absolute URI keep nothing before the '@' */
	redact_is("//alice:s3cret@evil.example/", "[redacted]@evil.example/",
	    64);
	redact_is("https:/alice:s3cret@h/", "[redacted]@h/", 64);
	redact_is("1http://u:p@h", "[redacted]@h", 64);
	redact_is("/path@x", "[redacted]@x", 64);
	redact_is("@h:1", "[redacted]@h:1", 64);
	redact_is("", "", 64);
	/* Cut, never overrun; the password is still not written. */
	redact_is("secretsecret@h:1", "[red", 5);
	redact_is("abcdef", "abc", 4);
}


int
test_http_add(void)
{
	CU_pSuite	s;

	if ((s = CU_add_suite("http", NULL, NULL)) == NULL)
		return -1;
#define ADD(f) if (CU_add_test(s, #f, f) == NULL) return -1
	ADD(test_b02_trailing_dot);
	ADD(test_b03_upper_case_host);
	ADD(test_b05_encoded_host);
	ADD(test_b05_4_raw_hash);
	ADD(test_b05_5_raw_utf8);
	ADD(test_b06_ipv6_frames);
	ADD(test_b08_numeric_frames);
	ADD(test_b09_port_frames);
	ADD(test_b10_userinfo_frames);
	ADD(test_b11_1_get_absolute_form);
	ADD(test_b11_2_lower_case_connect);
	ADD(test_b11_3_options_asterisk);
	ADD(test_b11_4_absolute_form);
	ADD(test_b11_5_path);
	ADD(test_b11_6_leading_space);
	ADD(test_b11_7_double_spaces);
	ADD(test_b11_8_missing_version);
	ADD(test_b11_9_http10);
	ADD(test_b12_1_duplicate_host);
	ADD(test_b12_2_empty_header_name);
	ADD(test_b12_3_host_mismatch_ignored);
	ADD(test_b13_1_space_before_colon);
	ADD(test_b13_2_obs_fold);
	ADD(test_b13_3_no_colon);
	ADD(test_b13_4_bare_cr);
	ADD(test_b13_5_tab_ows);
	ADD(test_b14_1_transfer_encoding);
	ADD(test_b14_2_conflicting_content_length);
	ADD(test_b14_3_content_length_with_body);
	ADD(test_b14_4_content_length_zero);
	ADD(test_b16_1_long_label_frames);
	ADD(test_b16_3_huge_header_value);
	ADD(test_b16_4_many_headers);
	ADD(test_b16_5_no_crlf);
	ADD(test_b17_connection_names_itself);
	ADD(test_http_tunnel_bytes_after_head);
	ADD(test_http_byte_by_byte);
	ADD(test_http_head_limit_boundary);
	ADD(test_http_header_count_boundary);
	ADD(test_http_versions);
	ADD(test_http_method_decided_on_head);
	ADD(test_http_control_bytes);
	ADD(test_http_proxy_authorization);
	ADD(test_http_empty_input);
	ADD(test_http_redact_target);
#undef ADD
	return 0;
}
