/*
 * authbasic: the Basic scheme of RFC 7617 on Proxy-Authorization (pure).
 */
#ifndef EGRESSD_AUTHBASIC_H
#define EGRESSD_AUTHBASIC_H

#include <stddef.h>

#define AUTH_USER_MAX	255
#define AUTH_PASS_MAX	255

/*
 * Parse a Proxy-Authorization field value (value[0..len), OWS already
 * trimmed): scheme "Basic" in any case, one or more SP, one token68 in
 * the standard base64 alphabet with correct padding, nothing after.  The
 * decoded bytes are split at the first colon; the user must not be
 * empty.  On success returns 0 and writes NUL-terminated user and
 * password (password bytes exactly as decoded).  Returns -1 on any
 * error, with user and pass zeroed.  Never reads past value + len.
 */
int		 authbasic_parse(const char *value, size_t len,
		    char user[AUTH_USER_MAX + 1],
		    char pass[AUTH_PASS_MAX + 1]);

/*
 * Strict base64 decoding (RFC 4648 section 4, padding required).
 * Returns the decoded length, or -1 when the input is not valid or the
 * output would exceed size.
 */
long		 authbasic_b64decode(const char *in, size_t len,
		    unsigned char *out, size_t size);

/* Compare a[0..n) with b[0..n) in time independent of the contents. */
int		 authbasic_ct_equal(const void *a, const void *b, size_t n);

#endif
