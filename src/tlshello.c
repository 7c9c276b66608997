/*
 * tlshello: the server name of a TLS ClientHello (see tlshello.h).
 *
 * Two steps.  The record layer (RFC 8446 section 5.1, RFC 5246 section
 * 6.2.1) is walked and the handshake fragments are copied into one
 * buffer until the first handshake message is whole; then that message is
 * read as a ClientHello (RFC 8446 section 4.1.2) and its server_name
 * extension (RFC 6066 section 3) is looked up.  Every length is checked
 * against what encloses it; nothing is read past len.
 *
 * Answers are given as early as the bytes allow: a first byte other than
 * 22 (handshake) or a record version whose major is not 3 is NOT_TLS at
 * once; a handshake type other than ClientHello, an empty or oversized
 * record, or a declared message size above TLSHELLO_MAX is MALFORMED as
 * soon as its header is in; MORE means only that the input stops early.
 * Records must all be handshake records until the message is complete;
 * whatever follows the message (a change_cipher_spec, early data) is
 * not looked at.
 */
#include <stdbool.h>
#include <stdint.h>
#include <string.h>

#include "tlshello.h"

#define TLSHELLO_RECORD	22	/* ContentType handshake */
#define TLSHELLO_CH	1	/* HandshakeType client_hello */
#define TLSHELLO_HDR	5	/* record header */
#define TLSHELLO_FRAG	16384	/* largest record fragment, 2^14 */
#define TLSHELLO_SNI	0	/* ExtensionType server_name */
#define TLSHELLO_HOST	0	/* NameType host_name */

/* A bounded reader over bytes. */
struct tlshello_cur {
	const uint8_t	*p;
	size_t		 left;
};


/* The next n-byte big-endian number (n <= 3) into *v.  0 or -1. */
static int
tlshello_num(struct tlshello_cur *c, size_t n, size_t *v)
{
	size_t	i;

	if (c->left < n)
		return -1;
	*v = 0;
	for (i = 0; i < n; i++)
		*v = *v << 8 | c->p[i];
	c->p += n;
	c->left -= n;
	return 0;
}


/* The next vector with an n-byte length prefix into sub.  0 or -1. */
static int
tlshello_vec(struct tlshello_cur *c, size_t n, struct tlshello_cur *sub)
{
	size_t	len;

	if (tlshello_num(c, n, &len) != 0 || len > c->left)
		return -1;
	sub->p = c->p;
	sub->left = len;
	c->p += len;
	c->left -= len;
	return 0;
}


/*
 * Check the record header at buf[off..len), as much of it as is there.
 * Returns MORE when it is incomplete, OK when whole (*frag_len set),
 * NOT_TLS or MALFORMED.
 */
static enum tlshello
tlshello_record(const uint8_t *buf, size_t len, size_t off, size_t *frag_len)
{
	enum tlshello	bad = off == 0 ? TLSHELLO_NOT_TLS : TLSHELLO_MALFORMED;
	size_t		n;

	/* even a 1-byte fragment here would pass TLSHELLO_MAX_INPUT */
	if (off + TLSHELLO_HDR + 1 > TLSHELLO_MAX_INPUT)
		return TLSHELLO_MALFORMED;
	if (len - off >= 1 && buf[off] != TLSHELLO_RECORD)
		return bad;
	if (len - off >= 2 && buf[off + 1] != 3)
		return bad;
	if (len - off < TLSHELLO_HDR)
		return TLSHELLO_MORE;
	n = (size_t)buf[off + 3] << 8 | buf[off + 4];
	if (n == 0 || n > TLSHELLO_FRAG ||
	    off + TLSHELLO_HDR + n > TLSHELLO_MAX_INPUT)
		return TLSHELLO_MALFORMED;
	*frag_len = n;
	return TLSHELLO_OK;
}


/*
 * Copy the handshake fragments of the records in buf[0..len) into hs
 * (TLSHELLO_MAX bytes) until the first handshake message is whole.
 * Returns OK with *msg_len the message size (header included), or MORE,
 * NOT_TLS, MALFORMED.
 */
static enum tlshello
tlshello_reassemble(const uint8_t *buf, size_t len, uint8_t *hs,
    size_t *msg_len)
{
	enum tlshello	r;
	size_t		off = 0, have = 0, need = 0, frag, avail, n;

	for (;;) {
		if ((r = tlshello_record(buf, len, off, &frag)) != TLSHELLO_OK)
			return r;
		off += TLSHELLO_HDR;
		avail = len - off < frag ? len - off : frag;
		n = avail < TLSHELLO_MAX - have ? avail : TLSHELLO_MAX - have;
		memcpy(hs + have, buf + off, n);
		have += n;

		if (have >= 1 && hs[0] != TLSHELLO_CH)
			return TLSHELLO_MALFORMED;
		if (have >= 4 && need == 0) {
			need = 4 + ((size_t)hs[1] << 16 |
			    (size_t)hs[2] << 8 | hs[3]);
			if (need > TLSHELLO_MAX)
				return TLSHELLO_MALFORMED;
		}
		if (need != 0 && have >= need) {
			*msg_len = need;
			return TLSHELLO_OK;
		}
		if (avail < frag)
			return TLSHELLO_MORE;
		off += frag;
	}
}


/*
 * The host_name of a server_name extension body ext into sni.  OK, NO_SNI
 * (no host_name in the list) or MALFORMED (bad lengths, empty list, two
 * host_names, an empty name, a NUL, or too long for sni_size).
 */
static enum tlshello
tlshello_server_name(struct tlshello_cur *ext, char *sni, size_t sni_size)
{
	struct tlshello_cur	list, name;
	size_t			type;
	bool			found = false;

	if (tlshello_vec(ext, 2, &list) != 0 || ext->left != 0 ||
	    list.left == 0)
		return TLSHELLO_MALFORMED;
	while (list.left > 0) {
		if (tlshello_num(&list, 1, &type) != 0 ||
		    tlshello_vec(&list, 2, &name) != 0)
			return TLSHELLO_MALFORMED;
		if (type != TLSHELLO_HOST)
			continue;
		/* RFC 6066 section 3: one name per name_type */
		if (found || name.left == 0 || name.left >= sni_size ||
		    memchr(name.p, '\0', name.left) != NULL)
			return TLSHELLO_MALFORMED;
		memcpy(sni, name.p, name.left);
		sni[name.left] = '\0';
		found = true;
	}
	return found ? TLSHELLO_OK : TLSHELLO_NO_SNI;
}


/*
 * Walk the extension list exts (each one's length checked), reading
 * server_name.  RFC 8446 section 4.2: a type appears at most once.
 */
static enum tlshello
tlshello_extensions(struct tlshello_cur *exts, char *sni, size_t sni_size)
{
	struct tlshello_cur	data;
	enum tlshello		r = TLSHELLO_NO_SNI;
	size_t			type;
	bool			seen = false;

	while (exts->left > 0) {
		if (tlshello_num(exts, 2, &type) != 0 ||
		    tlshello_vec(exts, 2, &data) != 0)
			return TLSHELLO_MALFORMED;
		if (type != TLSHELLO_SNI)
			continue;
		if (seen)
			return TLSHELLO_MALFORMED;
		seen = true;
		r = tlshello_server_name(&data, sni, sni_size);
		if (r == TLSHELLO_MALFORMED)
			return r;
	}
	return r;
}


/* The ClientHello body c (after the 4-byte handshake header). */
static enum tlshello
tlshello_client_hello(struct tlshello_cur *c, char *sni, size_t sni_size)
{
	struct tlshello_cur	v;
	size_t			version;

	if (tlshello_num(c, 2, &version) != 0 || version >> 8 != 3)
		return TLSHELLO_MALFORMED;
	if (c->left < 32)				/* random */
		return TLSHELLO_MALFORMED;
	c->p += 32;
	c->left -= 32;
	if (tlshello_vec(c, 1, &v) != 0 || v.left > 32)	/* session id */
		return TLSHELLO_MALFORMED;
	if (tlshello_vec(c, 2, &v) != 0 || v.left < 2 || v.left % 2 != 0)
		return TLSHELLO_MALFORMED;		/* cipher suites */
	if (tlshello_vec(c, 1, &v) != 0 || v.left < 1)	/* compression */
		return TLSHELLO_MALFORMED;
	if (c->left == 0)		/* no extensions (before TLS 1.2) */
		return TLSHELLO_NO_SNI;
	if (tlshello_vec(c, 2, &v) != 0 || c->left != 0)
		return TLSHELLO_MALFORMED;
	return tlshello_extensions(&v, sni, sni_size);
}


/*
 * Read the ClientHello at the start of buf[0..len), every byte the client
 * has sent so far.  On TLSHELLO_OK sni holds the host_name (NUL
 * terminated, as sent); on any other answer sni is unspecified.  MORE is
 * never answered once len reaches TLSHELLO_MAX_INPUT, so a caller may cap
 * its buffer there.
 */
enum tlshello
tlshello_parse(const uint8_t *buf, size_t len, char *sni, size_t sni_size)
{
	uint8_t			hs[TLSHELLO_MAX];
	struct tlshello_cur	c;
	enum tlshello		r;
	size_t			msg_len;

	if ((r = tlshello_reassemble(buf, len, hs, &msg_len)) != TLSHELLO_OK)
		return r;
	c.p = hs + 4;
	c.left = msg_len - 4;
	return tlshello_client_hello(&c, sni, sni_size);
}
