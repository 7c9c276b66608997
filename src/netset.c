/*
 * netset: CIDR sets and the special-purpose address table (see netset.h).
 *
 * Every address is 16 bytes; an IPv4 address a.b.c.d is ::ffff:a.b.c.d and
 * an IPv4 prefix /n is stored as /(96 + n), so one masked comparison serves
 * both families.  Invariant: a struct cidr never has host bits set.
 *
 * IPv4 text is strict dotted decimal (four parts, 0-255, no leading
 * zeros): the forms inet_aton also takes (127.1, 0x7f.1, 0177.0.0.1,
 * 2130706433) are refused, so a config never means what it does not say.
 *
 * netset_special() follows the IANA IPv4 and IPv6 Special-Purpose Address
 * Registries (RFC 6890 and its updates).  Because IPv4 is kept as
 * ::ffff:0:0/96, an IPv4-mapped address is judged exactly as the IPv4
 * address it carries: a public one is NULL (routable), since the caller
 * dials that IPv4 address.  The other IPv6 forms that embed IPv4
 * (IPv4-compatible ::/96, NAT64 64:ff9b::/96, 6to4 2002::/16, Teredo
 * 2001::/32) are classed by the embedded IPv4 address when that is
 * special, and otherwise by their own name: they lead to a translator or
 * relay, never straight to the host, so they are always denied.  IPv6
 * space outside 2000::/3 that no row names is "reserved": IANA has
 * allocated nothing there for global unicast.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "netset.h"

#define NETSET_TEXT_MAX	64	/* longer address text is never valid */

struct netset_v4row {
	uint32_t	 net;
	unsigned	 bits;
	const char	*word;
};

struct netset_v6row {
	uint8_t		 net[16];
	unsigned	 bits;
	const char	*word;
};

/* More specific rows come before the rows that contain them. */
static const struct netset_v4row netset_v4rows[] = {
	{ 0x00000000, 32, "unspecified" },	/* RFC 1122 */
	{ 0x00000000, 8, "this_network" },	/* RFC 791 */
	{ 0x0a000000, 8, "private" },		/* RFC 1918 */
	{ 0x64400000, 10, "cgnat" },		/* RFC 6598 */
	{ 0x7f000000, 8, "loopback" },		/* RFC 1122 */
	{ 0xa9fe0000, 16, "link_local" },	/* RFC 3927 */
	{ 0xac100000, 12, "private" },		/* RFC 1918 */
	{ 0xc0000000, 24, "ietf_protocol" },	/* RFC 6890 */
	{ 0xc0000200, 24, "documentation" },	/* RFC 5737 */
	{ 0xc0586300, 24, "6to4_relay" },	/* RFC 7526 */
	{ 0xc0a80000, 16, "private" },		/* RFC 1918 */
	{ 0xc6120000, 15, "benchmarking" },	/* RFC 2544 */
	{ 0xc6336400, 24, "documentation" },	/* RFC 5737 */
	{ 0xcb007100, 24, "documentation" },	/* RFC 5737 */
	{ 0xe0000000, 4, "multicast" },		/* RFC 5771 */
	{ 0xf0000000, 4, "reserved" },		/* RFC 1112, 919 */
};

/*
 * The IPv6 rows not handled as IPv4 carriers.  ::/128, ::1/128 and the
 * embedding forms are decided in netset_special() before this table.
 */
static const struct netset_v6row netset_v6rows[] = {
	{ { 0x00, 0x64, 0xff, 0x9b, 0x00, 0x01 }, 48, "nat64_local" },
	{ { 0x01, 0x00 }, 64, "discard" },		/* RFC 6666 */
	{ { 0x20, 0x01, 0x00, 0x02 }, 48, "benchmarking" }, /* RFC 5180 */
	{ { 0x20, 0x01 }, 23, "ietf_protocol" },	/* RFC 2928 */
	{ { 0x20, 0x01, 0x0d, 0xb8 }, 32, "documentation" }, /* RFC 3849 */
	{ { 0x3f, 0xff }, 20, "documentation" },	/* RFC 9637 */
	{ { 0x5f, 0x00 }, 16, "srv6" },			/* RFC 9602 */
	{ { 0xfc }, 7, "unique_local" },		/* RFC 4193 */
	{ { 0xfe, 0x80 }, 10, "link_local" },		/* RFC 4291 */
	{ { 0xfe, 0xc0 }, 10, "site_local" },		/* RFC 3879 */
	{ { 0xff }, 8, "multicast" },			/* RFC 4291 */
};

static const uint8_t netset_mapped_prefix[12] = {
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff
};


/* Clear every bit of a after the first bits bits. */
static void
netset_mask(struct in6_addr *a, unsigned bits)
{
	unsigned	i;

	for (i = 0; i < 16; i++) {
		if (bits >= 8)
			bits -= 8;
		else {
			a->s6_addr[i] &= (uint8_t)(0xff00 >> bits);
			bits = 0;
		}
	}
}


/* True if the first bits bits of a and net are equal. */
static bool
netset_prefix_eq(const uint8_t *a, const uint8_t *net, unsigned bits)
{
	unsigned	full = bits / 8, rest = bits % 8;
	uint8_t		m;

	if (memcmp(a, net, full) != 0)
		return false;
	if (rest == 0)
		return true;
	m = (uint8_t)(0xff00 >> rest);
	return (a[full] & m) == (net[full] & m);
}


/*
 * Strict decimal number of at most maxdigits digits, no sign, no leading
 * zero (except "0" itself), over s[0..len).  Returns it or -1.
 */
static long
netset_decimal(const char *s, size_t len, size_t maxdigits)
{
	long	v = 0;
	size_t	i;

	if (len == 0 || len > maxdigits || (len > 1 && s[0] == '0'))
		return -1;
	for (i = 0; i < len; i++) {
		if (s[i] < '0' || s[i] > '9')
			return -1;
		v = v * 10 + (s[i] - '0');
	}
	return v;
}


/* Strict dotted quad s (NUL-terminated) into out.  Returns 0 or -1. */
static int
netset_parse_v4(const char *s, uint32_t *out)
{
	const char	*dot;
	uint32_t	 v = 0;
	long		 part;
	int		 i;

	for (i = 0; i < 4; i++) {
		dot = strchr(s, '.');
		if ((i < 3) != (dot != NULL))
			return -1;
		if (dot == NULL)
			dot = s + strlen(s);
		part = netset_decimal(s, (size_t)(dot - s), 3);
		if (part < 0 || part > 255)
			return -1;
		v = v << 8 | (uint32_t)part;
		s = dot + 1;
	}
	*out = v;
	return 0;
}


/* ::ffff:v into a. */
static void
netset_set_v4(struct in6_addr *a, uint32_t v)
{
	memcpy(a->s6_addr, netset_mapped_prefix, 12);
	a->s6_addr[12] = (uint8_t)(v >> 24);
	a->s6_addr[13] = (uint8_t)(v >> 16);
	a->s6_addr[14] = (uint8_t)(v >> 8);
	a->s6_addr[15] = (uint8_t)v;
}


/* The 32-bit big-endian value at p. */
static uint32_t
netset_get32(const uint8_t *p)
{
	return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 |
	    (uint32_t)p[2] << 8 | p[3];
}


/*
 * Parse text: an address (strict dotted quad, or IPv6 as inet_pton takes
 * it, without zone id), optionally followed by /n with n a decimal without
 * leading zeros, at most 32 for IPv4 and 128 for IPv6.  Host bits set
 * after the prefix are accepted and cleared.  A bare address is a /32 or
 * /128.  On success c is filled and 0 returned; otherwise -1, c untouched.
 */
int
netset_parse_cidr(const char *text, struct cidr *c)
{
	char		 buf[NETSET_TEXT_MAX];
	const char	*slash;
	struct cidr	 r;
	uint32_t	 v4;
	size_t		 alen;
	long		 bits = -1;
	bool		 is_v6;

	if (text == NULL)
		return -1;
	slash = strchr(text, '/');
	alen = slash != NULL ? (size_t)(slash - text) : strlen(text);
	if (alen == 0 || alen >= sizeof(buf))
		return -1;
	memcpy(buf, text, alen);
	buf[alen] = '\0';
	is_v6 = strchr(buf, ':') != NULL;

	if (slash != NULL) {
		bits = netset_decimal(slash + 1, strlen(slash + 1), 3);
		if (bits < 0 || bits > (is_v6 ? 128 : 32))
			return -1;
	}
	if (is_v6) {
		if (inet_pton(AF_INET6, buf, &r.addr) != 1)
			return -1;
		r.bits = bits < 0 ? 128 : (unsigned)bits;
	} else {
		if (netset_parse_v4(buf, &v4) != 0)
			return -1;
		netset_set_v4(&r.addr, v4);
		r.bits = 96 + (bits < 0 ? 32 : (unsigned)bits);
	}
	netset_mask(&r.addr, r.bits);
	*c = r;
	return 0;
}


/*
 * Parse text as netset_parse_cidr() does and append it to set, whose
 * array is reallocated.  Returns 0, or -1 (set unchanged) on a parse or
 * allocation failure.
 */
int
netset_add(struct netset *set, const char *text)
{
	struct cidr	 c, *v;

	if (netset_parse_cidr(text, &c) != 0)
		return -1;
	v = reallocarray(set->v, set->n + 1, sizeof(*v));
	if (v == NULL)
		return -1;
	v[set->n++] = c;
	set->v = v;
	return 0;
}


/* True if any range of set holds a.  Linear in the size of set. */
bool
netset_contains(const struct netset *set, const struct in6_addr *a)
{
	size_t	i;

	for (i = 0; i < set->n; i++) {
		if (netset_prefix_eq(a->s6_addr, set->v[i].addr.s6_addr,
		    set->v[i].bits))
			return true;
	}
	return false;
}


/* Free the ranges of set and leave it empty and reusable. */
void
netset_free(struct netset *set)
{
	free(set->v);
	set->v = NULL;
	set->n = 0;
}


/*
 * The address of sa (AF_INET as ::ffff:a.b.c.d, AF_INET6 as is, scope id
 * dropped) into out.  Returns 0, or -1 for any other family.
 */
int
netset_from_sockaddr(const struct sockaddr *sa, struct in6_addr *out)
{
	struct sockaddr_in	sin;
	struct sockaddr_in6	sin6;

	switch (sa->sa_family) {
	case AF_INET:
		memcpy(&sin, sa, sizeof(sin));
		netset_set_v4(out, ntohl(sin.sin_addr.s_addr));
		return 0;
	case AF_INET6:
		memcpy(&sin6, sa, sizeof(sin6));
		*out = sin6.sin6_addr;
		return 0;
	default:
		return -1;
	}
}


/*
 * The text of a into buf: a dotted quad for ::ffff:0:0/96, RFC 5952
 * compressed form otherwise (INET6_ADDRSTRLEN bytes always fit).  If
 * size is too small buf becomes the empty string.
 */
void
netset_ntop(const struct in6_addr *a, char *buf, size_t size)
{
	const char	*r;

	if (size == 0)
		return;
	if (size > (size_t)(socklen_t)-1)
		size = (socklen_t)-1;
	if (memcmp(a->s6_addr, netset_mapped_prefix, 12) == 0)
		r = inet_ntop(AF_INET, &a->s6_addr[12], buf, (socklen_t)size);
	else
		r = inet_ntop(AF_INET6, a, buf, (socklen_t)size);
	if (r == NULL)
		buf[0] = '\0';
}


/* The special-purpose class of IPv4 address v, or NULL. */
static const char *
netset_special_v4(uint32_t v)
{
	size_t		i;
	uint32_t	m;

	for (i = 0; i < sizeof(netset_v4rows) / sizeof(netset_v4rows[0]);
	    i++) {
		m = (uint32_t)(0xffffffffULL << (32 - netset_v4rows[i].bits));
		if ((v & m) == netset_v4rows[i].net)
			return netset_v4rows[i].word;
	}
	return NULL;
}


/* The class of a form that carries v4: v4's class if special, else word. */
static const char *
netset_special_carrier(uint32_t v4, const char *word)
{
	const char	*w;

	w = netset_special_v4(v4);
	return w != NULL ? w : word;
}


/*
 * The class of an IPv6 address embedding IPv4 (see the file comment), or
 * NULL if a is no such form.  ::/128 and ::1 are not IPv4-compatible.
 */
static const char *
netset_special_embedded(const uint8_t *b)
{
	static const uint8_t	zero[12], nat64[12] = { 0, 0x64, 0xff, 0x9b };
	const char		*w;

	if (memcmp(b, zero, 12) == 0) {
		if (netset_get32(b + 12) == 0)
			return "unspecified";
		if (netset_get32(b + 12) == 1)
			return "loopback";
		return netset_special_carrier(netset_get32(b + 12),
		    "ipv4_compatible");
	}
	if (memcmp(b, nat64, 12) == 0)			/* RFC 6052 */
		return netset_special_carrier(netset_get32(b + 12), "nat64");
	if (b[0] == 0x20 && b[1] == 0x02)		/* RFC 3056 */
		return netset_special_carrier(netset_get32(b + 2), "6to4");
	if (netset_get32(b) == 0x20010000) {		/* RFC 4380 */
		/* server at bits 32-63, client inverted at bits 96-127 */
		w = netset_special_v4(netset_get32(b + 4));
		if (w == NULL)
			w = netset_special_v4(~netset_get32(b + 12));
		return w != NULL ? w : "teredo";
	}
	return NULL;
}


/*
 * The special-purpose class of a as a short, stable log word, or NULL for
 * a globally routable address (see the file comment for the rules).  The
 * caller consults its allow_internal set before denying on this answer.
 */
const char *
netset_special(const struct in6_addr *a)
{
	const uint8_t	*b = a->s6_addr;
	const char	*w;
	size_t		 i;

	if (memcmp(b, netset_mapped_prefix, 12) == 0)
		return netset_special_v4(netset_get32(b + 12));
	if ((w = netset_special_embedded(b)) != NULL)
		return w;
	for (i = 0; i < sizeof(netset_v6rows) / sizeof(netset_v6rows[0]);
	    i++) {
		if (netset_prefix_eq(b, netset_v6rows[i].net,
		    netset_v6rows[i].bits))
			return netset_v6rows[i].word;
	}
	if ((b[0] & 0xe0) != 0x20)
		return "reserved";
	return NULL;
}
