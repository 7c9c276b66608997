/*
 * http: the CONNECT request head parser (pure: bytes in, verdict out).
 *
 * The parser sees the whole buffered head each time more bytes arrive and
 * answers done, need-more or a reason from the reason table.  It never
 * allocates; everything it reports points into the caller's buffer, so
 * the buffer must outlive the struct http_request.  It accepts only what
 * RFC 9112 section 3 allows for a CONNECT request line plus header fields
 * terminated by CRLF; a bare LF or bare CR is an error, never a line end.
 */
#ifndef EGRESSD_HTTP_H
#define EGRESSD_HTTP_H

#include <stddef.h>

#include "reason.h"

enum http_parse {
	HTTP_PARSE_DONE,	/* a complete, valid head: see request */
	HTTP_PARSE_MORE,	/* valid so far, the head is incomplete */
	HTTP_PARSE_ERROR	/* invalid: see request->error */
};

struct http_limits {
	size_t	max_head_bytes;		/* whole head incl. final CRLF */
	size_t	max_headers;		/* header field lines */
};

/* A span of the caller's buffer; ptr is NULL when absent. */
struct http_span {
	const char	*ptr;
	size_t		 len;
};

struct http_request {
	size_t		 head_len;	/* bytes of the head, final CRLF too */
	struct http_span method;	/* also set on BAD_METHOD, if parsed */
	struct http_span target;	/* raw request-target, as sent */
	int		 version_minor;	/* 0 or 1 (HTTP/1.x) */
	struct http_span proxy_authorization; /* field value, OWS trimmed */
	size_t		 header_count;
	enum reason	 error;		/* set when HTTP_PARSE_ERROR */
};

/*
 * Parse the head in buf[0..len).  Returns HTTP_PARSE_DONE with req
 * filled, HTTP_PARSE_MORE when the bytes so far are a valid prefix and
 * within the limits, or HTTP_PARSE_ERROR with req->error set to one of
 * BAD_REQUEST_LINE, BAD_VERSION, BAD_METHOD (a well-formed request line
 * whose method is not "CONNECT", case-sensitive), BAD_HEADER,
 * DUPLICATE_HOST, BODY_FRAMING (any Transfer-Encoding, a non-zero or
 * conflicting Content-Length), BAD_TARGET (a target that is not
 * authority-form: "/" "?" "#" or a scheme), HEADER_TOO_LARGE or
 * TOO_MANY_HEADERS.  The target itself is checked by allow_parse_target;
 * the parser only frames it.  The method is judged last, once the whole
 * head has parsed: a malformed line or field is 400 (an oversized head
 * 431) whatever the method.
 */
enum http_parse	 http_parse_head(const char *buf, size_t len,
		    const struct http_limits *limits,
		    struct http_request *req);

/*
 * Copy the request-target src[0..len) into dst[0..size) for the log,
 * with everything up to its last '@' (after a leading "scheme://", if
 * any) replaced by "[redacted]": a credential typed into the target must
 * never reach a log, however the target is spelt.  The rest is copied
 * byte for byte; the caller escapes it.  Output that would not fit is
 * cut.  Returns the
 * number of bytes written; dst is always NUL-terminated when size > 0.
 */
size_t		 http_redact_target(char *dst, size_t size, const char *src,
		    size_t len);

#endif
