/*
 * netset: sets of CIDR ranges and the table of special-purpose ranges
 * (pure).
 *
 * Every address is kept as 16 bytes; IPv4 as ::ffff:a.b.c.d so one
 * comparison serves both families.  The special-purpose table names each
 * range that a tunnel must never reach unless the config lists it:
 * loopback, RFC 1918, CGNAT, link-local, documentation, multicast,
 * reserved, ULA, and IPv6 forms that embed an IPv4 address (mapped,
 * compatible, NAT64 64:ff9b::/96, 6to4 2002::/16, Teredo 2001::/32),
 * which are judged by the IPv4 address they carry.
 */
#ifndef EGRESSD_NETSET_H
#define EGRESSD_NETSET_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <netinet/in.h>
#include <sys/socket.h>

struct cidr {
	struct in6_addr	addr;	/* masked to bits */
	unsigned	bits;	/* 0..128, IPv4 ranges count from 96 */
};

struct netset {
	struct cidr	*v;
	size_t		 n;
};

/* Parse "a.b.c.d[/n]" or "x::y[/n]" into c.  Returns 0 or -1. */
int		 netset_parse_cidr(const char *text, struct cidr *c);
/* Append text to set (parsed as above).  Returns 0 or -1. */
int		 netset_add(struct netset *set, const char *text);
bool		 netset_contains(const struct netset *set,
		    const struct in6_addr *a);
void		 netset_free(struct netset *set);

/* An address from a sockaddr (AF_INET or AF_INET6), as 16 bytes. */
int		 netset_from_sockaddr(const struct sockaddr *sa,
		    struct in6_addr *out);
/* Canonical text of a 16-byte address: dotted quad for mapped IPv4. */
void		 netset_ntop(const struct in6_addr *a, char *buf,
		    size_t size);

/*
 * The special-purpose class of a, as a short log word ("loopback",
 * "private", "cgnat", "link_local", "unspecified", "documentation",
 * "benchmarking", "multicast", "reserved", "ietf_protocol",
 * "unique_local", "nat64", "6to4", "teredo", ...), or NULL for a
 * globally routable address.  Embedded IPv4 addresses are classed by
 * the IPv4 address when that address is special.  An IPv4-mapped
 * address is its IPv4 address (NULL when that is public: the dial goes
 * to that IPv4 address); the other carriers are never NULL, falling back
 * to "ipv4_compatible", "nat64", "6to4" or "teredo".  IPv6 space outside
 * 2000::/3 that no registry row names is "reserved".
 */
const char	*netset_special(const struct in6_addr *a);

#endif
