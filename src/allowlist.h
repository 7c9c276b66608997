/*
 * allowlist: CONNECT target parsing, host normalisation and matching
 * (pure).
 *
 * One parser reads the authority-form target for both the policy check
 * and the dialler, so they can never disagree about the host.  A host is
 * either a DNS name (ASCII lower case, one trailing dot dropped, LDH
 * labels of 1-63 octets, at most 253 octets) or an IP literal (dotted
 * quad in strict decimal, or a bracketed IPv6 address without zone).
 * Nothing is percent-decoded; other IPv4 spellings (2130706433,
 * 0x7f.1, 0177.0.0.1, 127.1) are classed NUMERIC and never resolved.
 */
#ifndef EGRESSD_ALLOWLIST_H
#define EGRESSD_ALLOWLIST_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <netinet/in.h>

#include "netset.h"
#include "reason.h"

#define ALLOW_HOST_MAX	253

enum host_kind {
	HOST_NAME,
	HOST_IPV4,
	HOST_IPV6,
	HOST_NUMERIC	/* looks like an IPv4 spelling: never resolved */
};

struct target {
	enum host_kind	 kind;
	char		 host[ALLOW_HOST_MAX + 1]; /* canonical text */
	struct in6_addr	 addr;	/* IP literals; IPv4 as ::ffff:a.b.c.d */
	uint16_t	 port;
};

enum allow_proto {
	ALLOW_PROTO_ANY,	/* no check inside the tunnel */
	ALLOW_PROTO_TLS,	/* ClientHello with SNI == host */
	ALLOW_PROTO_SSH		/* "SSH-2.0-" identification first */
};

struct allow_rule {
	char		**hosts;	/* "name" or "*.suffix", canonical */
	size_t		  nhosts;
	uint16_t	 *ports;
	size_t		  nports;
	struct netset	  addrs;	/* IP literals this rule permits */
	char		**users;	/* NULL: any user; "@g": group g */
	size_t		  nusers;
	enum allow_proto  proto;
	int		  line;		/* config line, for the log */
	char		**countries;	/* destination countries; NULL: any */
	size_t		  ncountries;
};

struct allowlist {
	struct allow_rule	*rules;
	size_t			 nrules;
};

/*
 * Parse an authority-form target "host:port" of len bytes (not NUL
 * terminated).  Returns REASON_NONE and fills t, or one of BAD_TARGET
 * (no colon, path, brackets unbalanced...), USERINFO ('@' present),
 * BAD_PORT (empty, non-decimal, 0, > 65535, extra colon), BAD_HOST
 * (illegal characters, empty label, zone id, two trailing dots) or
 * HOST_TOO_LONG (a label over 63 or a name over 253 octets).  A port
 * with leading zeros is read in decimal ("0443" is 443).
 */
enum reason	 allow_parse_target(const char *raw, size_t len,
		    struct target *t);

/*
 * Normalise a host name in place: ASCII lower case, one trailing dot
 * dropped, then checked as LDH labels.  Returns 0 or -1.  Used for
 * config patterns and for the SNI from a ClientHello.
 */
int		 allow_normalise_name(char *name);

/*
 * Normalise a config host pattern in place: "*.suffix" (the suffix
 * normalised as a name, the "*." kept) or a plain name.  Returns 0 or
 * -1.
 */
int		 allow_normalise_pattern(char *pattern);

/*
 * Match a parsed target and the authenticated user (NULL when
 * authentication is off) against the list.  Returns REASON_NONE and
 * sets *rule to the first rule that permits host, port and user;
 * otherwise PORT_NOT_ALLOWED when some rule names the host (for this
 * user) but not the port, NUMERIC_HOST for HOST_NUMERIC targets,
 * IP_NOT_ALLOWED for a literal no rule names, else HOST_NOT_ALLOWED.
 */
enum reason	 allow_match(const struct allowlist *list,
		    const struct target *t, const char *user,
		    const struct allow_rule **rule);

/*
 * allow_match for a user who belongs to groups[0..ngroups) (NULL, 0:
 * none): a rule whose users list holds "@g" applies to members of g.
 */
enum reason	 allow_match_groups(const struct allowlist *list,
		    const struct target *t, const char *user,
		    char *const *groups, size_t ngroups,
		    const struct allow_rule **rule);

/* Does name match pattern ("a.b" exactly, "*.b" any name below b)? */
bool		 allow_name_matches(const char *pattern, const char *name);

/* Free the rules' contents and the array; list is left empty. */
void		 allow_free(struct allowlist *list);

#endif
