/*
 * libFuzzer harness for the request head parser and the target parser.
 *
 * Each input is parsed whole by http_parse_head; a complete head's target
 * goes to allow_parse_target and, when it is a name, to the matcher and
 * the normaliser.  Besides memory safety (run with ASan/UBSan) it checks
 * the parser's own promises and aborts when one is broken:
 *  - reported spans and head_len lie inside the input and the limit;
 *  - a prefix of the input never contradicts the whole: it is MORE, or
 *    the same verdict (same error, or DONE with the same head_len);
 *  - a parsed target's host is NUL-terminated canonical text that
 *    allow_normalise_name leaves unchanged.
 */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "allowlist.h"
#include "http.h"

int	LLVMFuzzerTestOneInput(const uint8_t *, size_t);

/* Small limits, so that the fuzzer reaches them. */
static const struct http_limits fuzz_limits = { 2048, 16 };


static void
fuzz_span_inside(const struct http_span *s, const char *buf, size_t len)
{
	if (s->ptr == NULL)
		return;
	if (s->ptr < buf || s->len > len || (size_t)(s->ptr - buf) >
	    len - s->len)
		abort();
}


/* A prefix of the input must agree with the whole. */
static void
fuzz_prefix(const char *buf, size_t len, enum http_parse whole,
    const struct http_request *req)
{
	struct http_request	part;
	enum http_parse		r;

	r = http_parse_head(buf, len / 2, &fuzz_limits, &part);
	if (r == HTTP_PARSE_MORE)
		return;
	if (r != whole)
		abort();
	if (r == HTTP_PARSE_ERROR && part.error != req->error)
		abort();
	if (r == HTTP_PARSE_DONE && part.head_len != req->head_len)
		abort();
}


static void
fuzz_target(const char *raw, size_t len)
{
	static const struct allowlist	 empty = { NULL, 0 };
	const struct allow_rule		*rule;
	struct target			 t;
	char				 copy[sizeof(t.host)];

	if (allow_parse_target(raw, len, &t) != REASON_NONE)
		return;
	if (memchr(t.host, '\0', sizeof(t.host)) == NULL || t.port == 0)
		abort();
	(void)allow_match(&empty, &t, "user", &rule);
	(void)allow_name_matches("*.svc.allowed.example", t.host);
	if (t.kind != HOST_NAME && t.kind != HOST_NUMERIC)
		return;
	memcpy(copy, t.host, sizeof(copy));
	if (allow_normalise_name(copy) != 0 || strcmp(copy, t.host) != 0)
		abort();
}


int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char		*buf = (const char *)data;
	struct http_request	 req;
	enum http_parse		 r;

	r = http_parse_head(buf, size, &fuzz_limits, &req);
	fuzz_span_inside(&req.method, buf, size);
	fuzz_span_inside(&req.target, buf, size);
	fuzz_span_inside(&req.proxy_authorization, buf, size);
	if (r == HTTP_PARSE_DONE && (req.head_len > size ||
	    req.head_len > fuzz_limits.max_head_bytes))
		abort();
	if (r == HTTP_PARSE_ERROR && req.error == REASON_NONE)
		abort();
	fuzz_prefix(buf, size, r, &req);

	if (r == HTTP_PARSE_DONE)
		fuzz_target(req.target.ptr, req.target.len);
	/* The target parser on raw bytes too, not only framed targets. */
	fuzz_target(buf, size);
	return 0;
}
