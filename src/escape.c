/*
 * escape: writing untrusted bytes into log records (pure).
 *
 * The output of escape_json is always 7-bit printable ASCII: a byte that
 * could end the JSON string, break the line or confuse a terminal is
 * written as an escape.  Every byte outside 0x20..0x7e becomes \u00XX,
 * so a high byte is logged as the Latin-1 code point of that byte and the
 * original bytes can be recovered exactly from the record.
 */
#include <stddef.h>
#include <string.h>

#include "escape.h"

#define ESCAPE_ELLIPSIS	"..."


/* Length of the escape for byte c. */
static size_t
escape_len(unsigned char c)
{
	if (c == '"' || c == '\\')
		return 2;
	if (c < 0x20 || c >= 0x7f)
		return 6;
	return 1;
}


/* Write the escape for c at dst, which has room for escape_len(c). */
static void
escape_put(char *dst, unsigned char c)
{
	static const char	 hex[] = "0123456789abcdef";

	switch (escape_len(c)) {
	case 1:
		dst[0] = (char)c;
		break;
	case 2:
		dst[0] = '\\';
		dst[1] = (char)c;
		break;
	default:
		memcpy(dst, "\\u00", 4);
		dst[4] = hex[c >> 4];
		dst[5] = hex[c & 0x0f];
		break;
	}
}


/*
 * Write src[0..len) escaped into dst, which has room for avail bytes (no
 * NUL counted).  Stops before the first escape that does not fit whole.
 * Returns the bytes written.
 */
static size_t
escape_copy(char *dst, size_t avail, const unsigned char *src, size_t len)
{
	size_t	 i, n, e;

	n = 0;
	for (i = 0; i < len; i++) {
		e = escape_len(src[i]);
		if (e > avail - n)
			break;
		escape_put(dst + n, src[i]);
		n += e;
	}
	return n;
}


size_t
escape_json(char *dst, size_t size, const char *src, size_t len)
{
	const unsigned char	*s = (const unsigned char *)src;
	size_t			 need, i, n, dots;

	if (size == 0)
		return 0;

	need = 0;
	for (i = 0; i < len && need < size; i++)
		need += escape_len(s[i]);

	/* Everything fits: no ellipsis. */
	if (need < size) {
		n = escape_copy(dst, size - 1, s, len);
		dst[n] = '\0';
		return n;
	}

	/* Cut at a whole escape, leaving room for the ellipsis. */
	dots = sizeof(ESCAPE_ELLIPSIS) - 1;
	if (size - 1 < dots)
		dots = size - 1;
	n = escape_copy(dst, size - 1 - dots, s, len);
	memcpy(dst + n, ESCAPE_ELLIPSIS, dots);
	n += dots;
	dst[n] = '\0';
	return n;
}
