/*
 * http: the CONNECT request head parser (pure).
 *
 * The parser owns no state between calls: it is run on the whole buffered
 * head each time more bytes arrive, scans it once from the start and
 * stops at the first verdict.  Invariants:
 *  - it reads at most min(len, max_head_bytes) bytes and never writes to
 *    the buffer; every span it reports points into it;
 *  - the verdict depends only on those bytes and on whether len exceeds
 *    max_head_bytes, so feeding the same bytes in any chunking gives
 *    MORE until the same final verdict;
 *  - errors are found in byte order, except that the request line is
 *    judged as a whole (syntax, then version, then target framing) once
 *    its CRLF has arrived, and a method other than CONNECT only once the
 *    whole head has parsed: framing and syntax (400, 431) come before
 *    the method (405), as the order of verdicts in the shared cases has
 *    it, so a GET with a broken field line is a 400.
 * RFC 9112 section 2.2: a bare CR or bare LF is never a line end here.
 */
#include <ctype.h>
#include <stdbool.h>
#include <stddef.h>
#include <string.h>

#include "http.h"

/* One header field line, as spans into the buffer. */
struct http_field {
	struct http_span	name;
	struct http_span	value;	/* OWS trimmed */
};

/* What the header section has seen so far. */
struct http_seen {
	size_t	hosts;
};


static enum http_parse
http_fail(struct http_request *req, enum reason why)
{
	req->error = why;
	return HTTP_PARSE_ERROR;
}


/* RFC 9110 section 5.6.2: tchar. */
static bool
http_is_tchar(unsigned char c)
{
	if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
	    (c >= '0' && c <= '9'))
		return true;
	return c != '\0' && strchr("!#$%&'*+-.^_`|~", c) != NULL;
}


static bool
http_is_vchar(unsigned char c)
{
	return c >= 0x21 && c <= 0x7e;
}


/* RFC 9110 section 5.5: field-vchar, SP and HTAB; obs-text allowed. */
static bool
http_is_value_char(unsigned char c)
{
	return c == ' ' || c == '\t' || http_is_vchar(c) || c >= 0x80;
}


/* Index of the first byte in buf[from..end) failing ok, or end. */
static size_t
http_run(const char *buf, size_t from, size_t end,
    bool (*ok)(unsigned char))
{
	while (from < end && ok((unsigned char)buf[from]))
		from++;
	return from;
}


/* Is the span equal to lower, ignoring ASCII case? */
static bool
http_span_is(const struct http_span *s, const char *lower)
{
	size_t		i;
	unsigned char	c;

	if (s->len != strlen(lower))
		return false;
	for (i = 0; i < s->len; i++) {
		c = (unsigned char)s->ptr[i];
		if (c >= 'A' && c <= 'Z')
			c += 'a' - 'A';
		if (c != (unsigned char)lower[i])
			return false;
	}
	return true;
}


/*
 * Judge a syntactically complete request line: RFC 9112 section 2.3
 * (HTTP-version, case-sensitive), then, for a CONNECT, the framing of an
 * authority-form target (RFC 9112 section 3.2.3).  Another method is
 * only noted: it is refused once the head is whole.  Minor versions
 * above 1 are read as 1.1 (RFC 9110 section 2.5).
 */
static enum http_parse
http_judge_line(const struct http_span *version, struct http_request *req)
{
	const struct http_span	*t = &req->target;
	unsigned char		 minor;

	if (version->len != 8 || memcmp(version->ptr, "HTTP/1.", 7) != 0)
		return http_fail(req, REASON_BAD_VERSION);
	minor = (unsigned char)version->ptr[7];
	if (minor < '0' || minor > '9')
		return http_fail(req, REASON_BAD_VERSION);
	req->version_minor = minor == '0' ? 0 : 1;

	if (req->method.len != 7 ||
	    memcmp(req->method.ptr, "CONNECT", 7) != 0) {
		req->error = REASON_BAD_METHOD;
		return HTTP_PARSE_DONE;
	}

	if (memchr(t->ptr, '/', t->len) != NULL ||
	    memchr(t->ptr, '?', t->len) != NULL ||
	    memchr(t->ptr, '#', t->len) != NULL)
		return http_fail(req, REASON_BAD_TARGET);
	return HTTP_PARSE_DONE;
}


/*
 * Frame "method SP target SP version CRLF" in buf[0..end).  On DONE
 * *pos is the first byte after the CRLF.
 */
static enum http_parse
http_request_line(const char *buf, size_t end, struct http_request *req,
    size_t *pos)
{
	struct http_span	version;
	size_t			i, start;

	i = http_run(buf, 0, end, http_is_tchar);
	if (i == end)
		return HTTP_PARSE_MORE;
	if (i == 0 || buf[i] != ' ')
		return http_fail(req, REASON_BAD_REQUEST_LINE);
	req->method.ptr = buf;
	req->method.len = i;

	start = i + 1;
	i = http_run(buf, start, end, http_is_vchar);
	if (i == end)
		return HTTP_PARSE_MORE;
	if (i == start || buf[i] != ' ')
		return http_fail(req, REASON_BAD_REQUEST_LINE);
	req->target.ptr = buf + start;
	req->target.len = i - start;

	start = i + 1;
	i = http_run(buf, start, end, http_is_vchar);
	if (i == end || (buf[i] == '\r' && i + 1 == end))
		return HTTP_PARSE_MORE;
	if (i == start || buf[i] != '\r' || buf[i + 1] != '\n')
		return http_fail(req, REASON_BAD_REQUEST_LINE);
	version.ptr = buf + start;
	version.len = i - start;
	*pos = i + 2;
	return http_judge_line(&version, req);
}


/*
 * Frame one field line "name: OWS value OWS CRLF" at *pos (RFC 9112
 * section 5).  A line that starts with SP or HT (obs-fold), a name
 * with whitespace before the colon, a control byte in the value or a
 * bare CR or LF are all BAD_HEADER.
 */
static enum http_parse
http_field_line(const char *buf, size_t end, size_t *pos,
    struct http_field *f, struct http_request *req)
{
	size_t	i, v, e;

	i = http_run(buf, *pos, end, http_is_tchar);
	if (i == end)
		return HTTP_PARSE_MORE;
	if (i == *pos || buf[i] != ':')
		return http_fail(req, REASON_BAD_HEADER);
	f->name.ptr = buf + *pos;
	f->name.len = i - *pos;

	v = i + 1;
	e = http_run(buf, v, end, http_is_value_char);
	if (e == end || (buf[e] == '\r' && e + 1 == end))
		return HTTP_PARSE_MORE;
	if (buf[e] != '\r' || buf[e + 1] != '\n')
		return http_fail(req, REASON_BAD_HEADER);
	*pos = e + 2;

	while (v < e && (buf[v] == ' ' || buf[v] == '\t'))
		v++;
	while (e > v && (buf[e - 1] == ' ' || buf[e - 1] == '\t'))
		e--;
	f->value.ptr = buf + v;
	f->value.len = e - v;
	return HTTP_PARSE_DONE;
}


/*
 * The meaning of one field: a second Host is ambiguous (RFC 9112
 * section 3.2), and on a CONNECT any body framing is an attempt to
 * smuggle bytes that are tunnel data (RFC 9110 section 9.3.6: a CONNECT
 * has no content); another method is refused with 405 whatever its
 * framing.  Other fields, a mismatching Host included, are ignored.
 */
static enum http_parse
http_field_check(const struct http_field *f, struct http_seen *seen,
    struct http_request *req)
{
	if (http_span_is(&f->name, "host")) {
		if (++seen->hosts > 1)
			return http_fail(req, REASON_DUPLICATE_HOST);
	} else if (req->error == REASON_BAD_METHOD) {
		return HTTP_PARSE_DONE;
	} else if (http_span_is(&f->name, "transfer-encoding")) {
		return http_fail(req, REASON_BODY_FRAMING);
	} else if (http_span_is(&f->name, "content-length")) {
		if (f->value.len != 1 || f->value.ptr[0] != '0')
			return http_fail(req, REASON_BODY_FRAMING);
	} else if (http_span_is(&f->name, "proxy-authorization")) {
		if (req->proxy_authorization.ptr != NULL)
			return http_fail(req, REASON_BAD_HEADER);
		req->proxy_authorization = f->value;
	}
	return HTTP_PARSE_DONE;
}


/* The field lines from pos up to and including the empty line. */
static enum http_parse
http_headers(const char *buf, size_t end, size_t pos,
    const struct http_limits *limits, struct http_request *req)
{
	struct http_field	f;
	struct http_seen	seen;
	enum http_parse		r;

	memset(&seen, 0, sizeof(seen));
	for (;;) {
		if (pos == end || (buf[pos] == '\r' && pos + 1 == end))
			return HTTP_PARSE_MORE;
		if (buf[pos] == '\r') {
			if (buf[pos + 1] != '\n')
				return http_fail(req, REASON_BAD_HEADER);
			req->head_len = pos + 2;
			return HTTP_PARSE_DONE;
		}
		if ((r = http_field_line(buf, end, &pos, &f, req)) !=
		    HTTP_PARSE_DONE)
			return r;
		if (++req->header_count > limits->max_headers)
			return http_fail(req, REASON_TOO_MANY_HEADERS);
		if ((r = http_field_check(&f, &seen, req)) != HTTP_PARSE_DONE)
			return r;
	}
}


enum http_parse
http_parse_head(const char *buf, size_t len,
    const struct http_limits *limits, struct http_request *req)
{
	enum http_parse	r;
	size_t		end, pos = 0;

	memset(req, 0, sizeof(*req));
	req->error = REASON_NONE;
	end = len < limits->max_head_bytes ? len : limits->max_head_bytes;

	r = http_request_line(buf, end, req, &pos);
	if (r == HTTP_PARSE_DONE)
		r = http_headers(buf, end, pos, limits, req);
	if (r == HTTP_PARSE_DONE && req->error == REASON_BAD_METHOD)
		r = HTTP_PARSE_ERROR;

	/* Valid so far but the end is not within the limit: 431. */
	if (r == HTTP_PARSE_MORE && len > limits->max_head_bytes)
		r = http_fail(req, REASON_HEADER_TOO_LARGE);
	return r;
}


static size_t
http_put(char *dst, size_t size, size_t at, const char *src, size_t len)
{
	if (at + len >= size)
		len = at < size - 1 ? size - 1 - at : 0;
	memcpy(dst + at, src, len);
	return at + len;
}


size_t
http_redact_target(char *dst, size_t size, const char *src, size_t len)
{
	static const char	 mark[] = "[redacted]";
	size_t			 i, start = 0, at = (size_t)-1, n;

	if (size == 0)
		return 0;
	/*
	 * Everything before the last '@' goes, whatever it holds: a
	 * password may contain '/', '?', '#' or '@' itself, and a client
	 * may spell the target in any broken form ("//u:p@h", "https:/u:p@h",
	 * "u:p/@h"), so no attempt is made to find where a userinfo ends.
	 * Only a well-formed "scheme://" in front is kept (RFC 3986 3.1).
	 */
	for (i = 0; i < len; i++)
		if (src[i] == '@')
			at = i;
	if (at == (size_t)-1) {
		n = http_put(dst, size, 0, src, len);
		dst[n] = '\0';
		return n;
	}
	if (len > 0 && isalpha((unsigned char)src[0])) {
		for (i = 1; i < at && (isalnum((unsigned char)src[i]) ||
		    src[i] == '+' || src[i] == '-' || src[i] == '.'); i++)
			;
		if (i + 3 <= at && memcmp(src + i, "://", 3) == 0)
			start = i + 3;
	}
	n = http_put(dst, size, 0, src, start);
	n = http_put(dst, size, n, mark, sizeof(mark) - 1);
	n = http_put(dst, size, n, src + at, len - at);
	dst[n] = '\0';
	return n;
}
