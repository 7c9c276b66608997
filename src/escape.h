/*
 * escape: writing untrusted bytes into log records (pure).
 */
#ifndef EGRESSD_ESCAPE_H
#define EGRESSD_ESCAPE_H

#include <stddef.h>

/*
 * Write src[0..len) into dst as the inside of a JSON string: '"' and
 * '\\' escaped, every byte below 0x20, 0x7f and every byte of 0x80 or
 * above written as \u00XX, so the output is 7-bit ASCII with no control
 * characters.  Always NUL-terminates when size > 0.  Output that would
 * not fit is cut at a whole escape and "..." is appended.  Returns the
 * number of bytes written, without the NUL.
 */
size_t		 escape_json(char *dst, size_t size, const char *src,
		    size_t len);

#endif
