/*
 * authbasic: the Basic scheme of RFC 7617 on Proxy-Authorization (pure).
 *
 * Strict by design: one spelling of the credentials is accepted, so the
 * bytes that are checked are the bytes the client meant.  The scheme is
 * matched case-insensitively (RFC 9110 section 11.1), followed by 1*SP
 * and a token68 (RFC 9110 section 11.3) in the standard base64 alphabet
 * with padding (RFC 4648 section 4); nothing may follow it.  The decoded
 * bytes go into a fixed buffer whose length is always known, so nothing
 * scans it as a C string; they are split at the first colon (RFC 7617
 * section 2: the user-id cannot contain one, the password can).
 */
#include <stddef.h>
#include <string.h>

#include "authbasic.h"

#define AUTHBASIC_SCHEME	"basic"
#define AUTHBASIC_DECODED_MAX	(AUTH_USER_MAX + 1 + AUTH_PASS_MAX)


/* Value of the base64 digit c, or -1 (no URL-safe '-' or '_'). */
static int
authbasic_b64digit(unsigned char c)
{
	if (c >= 'A' && c <= 'Z')
		return c - 'A';
	if (c >= 'a' && c <= 'z')
		return c - 'a' + 26;
	if (c >= '0' && c <= '9')
		return c - '0' + 52;
	if (c == '+')
		return 62;
	if (c == '/')
		return 63;
	return -1;
}


/*
 * Decode the quantum in[0..4) into out (room for 3), the last quantum
 * of the input when is_last.  Returns the bytes produced, or -1.
 */
static int
authbasic_quantum(const unsigned char *in, int is_last, unsigned char *out)
{
	int		 d[4], i, npad;
	unsigned long	 v;

	npad = 0;
	if (is_last && in[3] == '=')
		npad = in[2] == '=' ? 2 : 1;
	for (i = 0; i < 4 - npad; i++) {
		if ((d[i] = authbasic_b64digit(in[i])) < 0)
			return -1;
	}
	for (; i < 4; i++)
		d[i] = 0;
	v = (unsigned long)d[0] << 18 | (unsigned long)d[1] << 12 |
	    (unsigned long)d[2] << 6 | (unsigned long)d[3];

	/* Canonical encoding only: the bits under the padding are zero. */
	if ((npad == 1 && (v & 0xff) != 0) ||
	    (npad == 2 && (v & 0xffff) != 0))
		return -1;
	out[0] = (unsigned char)(v >> 16);
	out[1] = (unsigned char)(v >> 8);
	out[2] = (unsigned char)v;
	return 3 - npad;
}


long
authbasic_b64decode(const char *in, size_t len, unsigned char *out,
    size_t size)
{
	const unsigned char	*s = (const unsigned char *)in;
	unsigned char		 q[3];
	size_t			 i, n, outlen;
	int			 r;

	if (len % 4 != 0)
		return -1;
	if (len == 0)
		return 0;

	/* Bound the output before decoding anything. */
	outlen = len / 4 * 3;
	if (s[len - 1] == '=')
		outlen -= s[len - 2] == '=' ? 2 : 1;
	if (outlen > size || outlen > (size_t)0x7fffffff)
		return -1;

	n = 0;
	for (i = 0; i < len; i += 4) {
		r = authbasic_quantum(s + i, i + 4 == len, q);
		if (r < 0) {
			memset(out, 0, n);
			return -1;
		}
		memcpy(out + n, q, (size_t)r);
		n += (size_t)r;
	}
	return (long)n;
}


/*
 * Skip the scheme and its 1*SP in value[0..len).  Returns the offset of
 * the token, or 0 when the value does not start that way.
 */
static size_t
authbasic_skip_scheme(const char *value, size_t len)
{
	size_t	 i, n;

	n = sizeof(AUTHBASIC_SCHEME) - 1;
	if (len <= n)
		return 0;
	for (i = 0; i < n; i++) {
		/* ASCII case folding only: no locale. */
		if ((value[i] | 0x20) != AUTHBASIC_SCHEME[i])
			return 0;
	}
	if (value[n] != ' ')
		return 0;
	while (n < len && value[n] == ' ')
		n++;
	return n;
}


/* Split dec[0..n) at the first colon into user and pass.  0 or -1. */
static int
authbasic_split(const unsigned char *dec, size_t n,
    char user[AUTH_USER_MAX + 1], char pass[AUTH_PASS_MAX + 1])
{
	const unsigned char	*colon;
	size_t			 ulen, plen;

	if ((colon = memchr(dec, ':', n)) == NULL)
		return -1;
	ulen = (size_t)(colon - dec);
	plen = n - ulen - 1;
	if (ulen == 0 || ulen > AUTH_USER_MAX || plen > AUTH_PASS_MAX)
		return -1;

	/* A NUL would cut the name or password short for later code. */
	if (memchr(dec, '\0', n) != NULL)
		return -1;
	memcpy(user, dec, ulen);
	user[ulen] = '\0';
	memcpy(pass, colon + 1, plen);
	pass[plen] = '\0';
	return 0;
}


int
authbasic_parse(const char *value, size_t len, char user[AUTH_USER_MAX + 1],
    char pass[AUTH_PASS_MAX + 1])
{
	unsigned char	 dec[AUTHBASIC_DECODED_MAX];
	size_t		 off;
	long		 n;
	int		 rc = -1;

	memset(user, 0, AUTH_USER_MAX + 1);
	memset(pass, 0, AUTH_PASS_MAX + 1);

	if (value == NULL || (off = authbasic_skip_scheme(value, len)) == 0)
		goto out;
	if (off == len)
		goto out;
	n = authbasic_b64decode(value + off, len - off, dec, sizeof(dec));
	if (n <= 0)
		goto out;
	rc = authbasic_split(dec, (size_t)n, user, pass);

out:
	if (rc != 0) {
		memset(user, 0, AUTH_USER_MAX + 1);
		memset(pass, 0, AUTH_PASS_MAX + 1);
	}
	explicit_bzero(dec, sizeof(dec));
	return rc;
}


int
authbasic_ct_equal(const void *a, const void *b, size_t n)
{
	const volatile unsigned char	*x = a;
	const volatile unsigned char	*y = b;
	volatile unsigned char		 acc = 0;
	size_t				 i;

	for (i = 0; i < n; i++)
		acc |= x[i] ^ y[i];
	return acc == 0;
}
