/*
 * tlshello: reading the server name from a TLS ClientHello (pure).
 *
 * The caller hands in every byte the client has sent so far; the reader
 * reassembles the handshake message across TLS records (RFC 8446
 * section 5.1 lets a ClientHello span several) and answers once it has
 * the whole message or knows it never will.
 */
#ifndef EGRESSD_TLSHELLO_H
#define EGRESSD_TLSHELLO_H

#include <stddef.h>
#include <stdint.h>

#define TLSHELLO_MAX	16384	/* largest ClientHello read */
/*
 * The records that carry the ClientHello (headers included) must end
 * within this many bytes, or the answer is MALFORMED: so MORE is never
 * answered for len >= TLSHELLO_MAX_INPUT and a caller may cap its
 * buffer here.  Twice TLSHELLO_MAX leaves room for any sane fragmentation.
 */
#define TLSHELLO_MAX_INPUT	(2 * TLSHELLO_MAX)

enum tlshello {
	TLSHELLO_MORE,		/* a valid prefix: send more bytes */
	TLSHELLO_OK,		/* sni holds the server name */
	TLSHELLO_NO_SNI,	/* a ClientHello without server_name */
	TLSHELLO_NOT_TLS,	/* first bytes are not a TLS handshake */
	TLSHELLO_MALFORMED,	/* broken lengths, bad SNI, too large */
};

/*
 * Read buf[0..len).  On TLSHELLO_OK the host_name from the server_name
 * extension is copied into sni (NUL-terminated, not normalised; a name
 * that does not fit sni_size, or holds a NUL, is MALFORMED).
 */
enum tlshello	 tlshello_parse(const uint8_t *buf, size_t len, char *sni,
		    size_t sni_size);

#endif
