/*
 * allowlist: CONNECT target parsing, host normalisation and matching
 * (pure).
 *
 * Invariants:
 *  - a target is parsed exactly once, into struct target, and both the
 *    policy and the dialler use that result; nothing is percent-decoded
 *    and no resolver or inet_aton() ever sees a host that is not a plain
 *    LDH name or a strict dotted quad;
 *  - names are compared in canonical form: ASCII lower case, no trailing
 *    dot, LDH labels of 1-63 octets, at most 253 octets (RFC 1034
 *    section 3.5, RFC 1123 section 2.1);
 *  - a host whose last label is a number (decimal, or "0x" hex) is an
 *    IPv4 spelling (the WHATWG URL "ends in a number" rule); only the
 *    strict dotted quad is accepted as an IPv4 literal, every other such
 *    spelling is HOST_NUMERIC and is refused by allow_match;
 *  - IP literals are matched only against the address sets of the rules,
 *    never against the name patterns.
 * Character classes are ASCII only, never <ctype.h>, so no locale can
 * widen them.
 */
#include <sys/types.h>
#include <sys/socket.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <stdbool.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "allowlist.h"

#define ALLOW_LABEL_MAX	63
#define ALLOW_PORT_MAX	65535


static bool
allow_is_digit(unsigned char c)
{
	return c >= '0' && c <= '9';
}


static bool
allow_is_hex(unsigned char c)
{
	return allow_is_digit(c) || (c >= 'a' && c <= 'f') ||
	    (c >= 'A' && c <= 'F');
}


static bool
allow_is_ldh(unsigned char c)
{
	return allow_is_digit(c) || (c >= 'a' && c <= 'z') ||
	    (c >= 'A' && c <= 'Z') || c == '-';
}


static unsigned char
allow_lower(unsigned char c)
{
	return c >= 'A' && c <= 'Z' ? c + ('a' - 'A') : c;
}


/*
 * Check name[0..n) (trailing dot already dropped) as LDH labels: the
 * first fault in byte order decides.  Returns REASON_NONE, BAD_HOST or
 * HOST_TOO_LONG.
 */
static enum reason
allow_check_labels(const char *name, size_t n)
{
	size_t	i, start = 0;

	if (n == 0)
		return REASON_BAD_HOST;
	for (i = 0; i <= n; i++) {
		if (i < n && name[i] != '.') {
			if (!allow_is_ldh((unsigned char)name[i]))
				return REASON_BAD_HOST;
			continue;
		}
		if (i == start)
			return REASON_BAD_HOST;
		if (i - start > ALLOW_LABEL_MAX)
			return REASON_HOST_TOO_LONG;
		if (name[start] == '-' || name[i - 1] == '-')
			return REASON_BAD_HOST;
		start = i + 1;
	}
	if (n > ALLOW_HOST_MAX)
		return REASON_HOST_TOO_LONG;
	return REASON_NONE;
}


/* A decimal port 1-65535; leading zeros are decimal, never octal. */
static enum reason
allow_parse_port(const char *p, size_t n, uint16_t *port)
{
	unsigned long	v = 0;
	size_t		i;

	if (n == 0)
		return REASON_BAD_PORT;
	for (i = 0; i < n; i++) {
		if (!allow_is_digit((unsigned char)p[i]))
			return REASON_BAD_PORT;
		v = v * 10 + (unsigned long)(p[i] - '0');
		if (v > ALLOW_PORT_MAX)
			return REASON_BAD_PORT;
	}
	if (v == 0)
		return REASON_BAD_PORT;
	*port = (uint16_t)v;
	return REASON_NONE;
}


/* The inside of "[...]": an IPv6 address, no zone id (RFC 6874). */
static enum reason
allow_parse_ipv6(const char *h, size_t n, struct target *t)
{
	char	tmp[INET6_ADDRSTRLEN];

	if (n == 0 || n >= sizeof(tmp) || memchr(h, '%', n) != NULL)
		return REASON_BAD_HOST;
	memcpy(tmp, h, n);
	tmp[n] = '\0';
	if (inet_pton(AF_INET6, tmp, &t->addr) != 1)
		return REASON_BAD_HOST;
	if (inet_ntop(AF_INET6, &t->addr, t->host, sizeof(t->host)) == NULL)
		return REASON_BAD_HOST;
	t->kind = HOST_IPV6;
	return REASON_NONE;
}


/* Is the label s[0..n) a number: decimal digits, or "0x" and hex? */
static bool
allow_label_is_number(const char *s, size_t n)
{
	size_t	i = 0;
	bool	(*digit)(unsigned char) = allow_is_digit;

	if (n >= 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
		i = 2;
		digit = allow_is_hex;
	}
	for (; i < n; i++)
		if (!digit((unsigned char)s[i]))
			return false;
	return true;
}


/* Strict dotted quad: four decimal parts 0-255 without leading zeros. */
static bool
allow_parse_quad(const char *s, struct in6_addr *a)
{
	unsigned	part, v, digits;

	memset(a, 0, sizeof(*a));
	a->s6_addr[10] = 0xff;
	a->s6_addr[11] = 0xff;
	for (part = 0; part < 4; part++) {
		v = 0;
		for (digits = 0; digits < 4 &&
		    allow_is_digit((unsigned char)*s); digits++)
			v = v * 10 + (unsigned)(*s++ - '0');
		if (digits == 0 || digits > 3 || v > 255 ||
		    (digits > 1 && s[-(int)digits] == '0'))
			return false;
		a->s6_addr[12 + part] = (uint8_t)v;
		if (*s != (part == 3 ? '\0' : '.'))
			return false;
		s++;
	}
	return true;
}


/* Name or IPv4 spelling in t->host (canonical, n octets): its kind. */
static void
allow_classify(struct target *t, size_t n)
{
	const char	*last;

	last = strrchr(t->host, '.');
	last = last == NULL ? t->host : last + 1;
	if (!allow_label_is_number(last, n - (size_t)(last - t->host)))
		t->kind = HOST_NAME;
	else if (allow_parse_quad(t->host, &t->addr))
		t->kind = HOST_IPV4;
	else {
		t->kind = HOST_NUMERIC;
		memset(&t->addr, 0, sizeof(t->addr));
	}
}


/* An unbracketed host: a name, a dotted quad or another IPv4 spelling. */
static enum reason
allow_parse_name(const char *h, size_t n, struct target *t)
{
	enum reason	r;
	size_t		i;

	if (n > 0 && h[n - 1] == '.')
		n--;
	if ((r = allow_check_labels(h, n)) != REASON_NONE)
		return r;
	for (i = 0; i < n; i++)
		t->host[i] = (char)allow_lower((unsigned char)h[i]);
	t->host[n] = '\0';
	allow_classify(t, n);
	return REASON_NONE;
}


/*
 * A second colon without brackets: an unbracketed IPv6 address (BAD_TARGET)
 * when what precedes the first colon is empty or one hex group, else a
 * name with a doubled port (BAD_PORT).
 */
static enum reason
allow_extra_colon(const char *h, size_t n)
{
	size_t	i;

	if (n > 4)
		return REASON_BAD_PORT;
	for (i = 0; i < n; i++)
		if (!allow_is_hex((unsigned char)h[i]))
			return REASON_BAD_PORT;
	return REASON_BAD_TARGET;
}


enum reason
allow_parse_target(const char *raw, size_t len, struct target *t)
{
	const char	*close, *colon;
	enum reason	 r;
	size_t		 after, hn;

	memset(t, 0, sizeof(*t));
	if (raw == NULL || len == 0)
		return REASON_BAD_TARGET;
	if (memchr(raw, '@', len) != NULL)
		return REASON_USERINFO;

	if (raw[0] == '[') {
		if ((close = memchr(raw, ']', len)) == NULL)
			return REASON_BAD_TARGET;
		after = (size_t)(close - raw) + 1;
		if (after == len || raw[after] != ':')
			return REASON_BAD_TARGET;
		r = allow_parse_ipv6(raw + 1, after - 2, t);
		if (r != REASON_NONE)
			return r;
		return allow_parse_port(raw + after + 1, len - after - 1,
		    &t->port);
	}

	if ((colon = memchr(raw, ':', len)) == NULL)
		return REASON_BAD_PORT;	/* no port: never a default */
	hn = (size_t)(colon - raw);
	if (memchr(colon + 1, ':', len - hn - 1) != NULL)
		return allow_extra_colon(raw, hn);
	if ((r = allow_parse_name(raw, hn, t)) != REASON_NONE)
		return r;
	return allow_parse_port(colon + 1, len - hn - 1, &t->port);
}


int
allow_normalise_name(char *name)
{
	size_t	i, n;

	if (name == NULL)
		return -1;
	n = strlen(name);
	if (n > 0 && name[n - 1] == '.')
		n--;
	if (allow_check_labels(name, n) != REASON_NONE)
		return -1;
	for (i = 0; i < n; i++)
		name[i] = (char)allow_lower((unsigned char)name[i]);
	name[n] = '\0';
	return 0;
}


int
allow_normalise_pattern(char *pattern)
{
	if (pattern == NULL)
		return -1;
	if (pattern[0] == '*' && pattern[1] == '.')
		return allow_normalise_name(pattern + 2);
	return allow_normalise_name(pattern);
}


/* ASCII case-insensitive equality of two strings. */
static bool
allow_equal(const char *a, const char *b)
{
	for (; *a != '\0' && *b != '\0'; a++, b++)
		if (allow_lower((unsigned char)*a) !=
		    allow_lower((unsigned char)*b))
			return false;
	return *a == *b;
}


bool
allow_name_matches(const char *pattern, const char *name)
{
	size_t	sn, nn;

	if (pattern == NULL || name == NULL)
		return false;
	if (pattern[0] == '*' && pattern[1] == '.') {
		/* The suffix keeps its dot: a match ends on a label. */
		sn = strlen(pattern + 1);
		nn = strlen(name);
		if (nn <= sn)
			return false;
		return allow_equal(name + nn - sn, pattern + 1);
	}
	return allow_equal(pattern, name);
}


/*
 * Does the rule apply to user (NULL: unauthenticated) in groups?  An
 * entry "@g" names group g, never a user, so a user called "@g" cannot
 * pass for the group.
 */
static bool
allow_rule_user(const struct allow_rule *r, const char *user,
    char *const *groups, size_t ngroups)
{
	size_t	i, j;

	if (r->users == NULL)
		return true;
	if (user == NULL)
		return false;
	for (i = 0; i < r->nusers; i++) {
		if (r->users[i] == NULL)
			continue;
		if (r->users[i][0] != '@') {
			if (strcmp(r->users[i], user) == 0)
				return true;
			continue;
		}
		for (j = 0; j < ngroups; j++)
			if (strcmp(r->users[i] + 1, groups[j]) == 0)
				return true;
	}
	return false;
}


/* Does the rule name the host (a pattern, or a literal in addrs)? */
static bool
allow_rule_host(const struct allow_rule *r, const struct target *t)
{
	size_t	i;

	if (t->kind == HOST_IPV4 || t->kind == HOST_IPV6)
		return netset_contains(&r->addrs, &t->addr);
	for (i = 0; i < r->nhosts; i++)
		if (allow_name_matches(r->hosts[i], t->host))
			return true;
	return false;
}


static bool
allow_rule_port(const struct allow_rule *r, uint16_t port)
{
	size_t	i;

	for (i = 0; i < r->nports; i++)
		if (r->ports[i] == port)
			return true;
	return false;
}


enum reason
allow_match(const struct allowlist *list, const struct target *t,
    const char *user, const struct allow_rule **rule)
{
	return allow_match_groups(list, t, user, NULL, 0, rule);
}


enum reason
allow_match_groups(const struct allowlist *list, const struct target *t,
    const char *user, char *const *groups, size_t ngroups,
    const struct allow_rule **rule)
{
	const struct allow_rule	*r;
	bool			 named = false;
	size_t			 i;

	if (rule != NULL)
		*rule = NULL;
	if (t->kind == HOST_NUMERIC)
		return REASON_NUMERIC_HOST;
	for (i = 0; list != NULL && i < list->nrules; i++) {
		r = &list->rules[i];
		if (!allow_rule_user(r, user, groups, ngroups) ||
		    !allow_rule_host(r, t))
			continue;
		if (allow_rule_port(r, t->port)) {
			if (rule != NULL)
				*rule = r;
			return REASON_NONE;
		}
		named = true;
	}
	if (named)
		return REASON_PORT_NOT_ALLOWED;
	if (t->kind == HOST_IPV4 || t->kind == HOST_IPV6)
		return REASON_IP_NOT_ALLOWED;
	return REASON_HOST_NOT_ALLOWED;
}


/* Free an array of n strings and the array itself. */
static void
allow_free_strings(char **v, size_t n)
{
	size_t	i;

	if (v == NULL)
		return;
	for (i = 0; i < n; i++)
		free(v[i]);
	free(v);
}


void
allow_free(struct allowlist *list)
{
	struct allow_rule	*r;
	size_t			 i;

	if (list == NULL)
		return;
	for (i = 0; i < list->nrules; i++) {
		r = &list->rules[i];
		allow_free_strings(r->hosts, r->nhosts);
		free(r->ports);
		netset_free(&r->addrs);
		allow_free_strings(r->users, r->nusers);
		allow_free_strings(r->countries, r->ncountries);
	}
	free(list->rules);
	list->rules = NULL;
	list->nrules = 0;
}
