/*
 * Unit tests for netset: strict CIDR parsing, set membership, sockaddr
 * conversion, text form, and the special-purpose table edge by edge
 * (first and last address of each range and the neighbours outside).
 */
#include <sys/types.h>
#include <sys/socket.h>
#include <sys/un.h>

#include <arpa/inet.h>
#include <netinet/in.h>

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "netset.h"
#include "unit.h"

struct tn_case {
	const char	*addr;
	const char	*word;		/* NULL: globally routable */
};


/* text (dotted quad or IPv6) as 16 bytes; IPv4 as ::ffff:a.b.c.d. */
static struct in6_addr
tn_addr(const char *text)
{
	struct in6_addr	a;
	struct in_addr	v4;

	memset(&a, 0, sizeof(a));
	if (inet_pton(AF_INET, text, &v4) == 1) {
		a.s6_addr[10] = a.s6_addr[11] = 0xff;
		memcpy(&a.s6_addr[12], &v4, 4);
	} else
		CU_ASSERT_FATAL(inet_pton(AF_INET6, text, &a) == 1);
	return a;
}


/* The text of c's address and its bits, as "addr/bits". */
static const char *
tn_cidr_text(const struct cidr *c)
{
	static char	buf[80];
	size_t		n;

	netset_ntop(&c->addr, buf, sizeof(buf));
	n = strlen(buf);
	snprintf(buf + n, sizeof(buf) - n, "/%u", c->bits);
	return buf;
}


static void
tn_parse_ok(const char *text, const char *want)
{
	struct cidr	c;

	CU_ASSERT_EQUAL_FATAL(netset_parse_cidr(text, &c), 0);
	CU_ASSERT_STRING_EQUAL(tn_cidr_text(&c), want);
}


static void
test_netset_parse_v4(void)
{
	tn_parse_ok("10.0.0.0/8", "10.0.0.0/104");
	tn_parse_ok("10.1.2.3/8", "10.0.0.0/104");	/* host bits masked */
	tn_parse_ok("1.2.3.4", "1.2.3.4/128");
	tn_parse_ok("0.0.0.0/0", "0.0.0.0/96");
	tn_parse_ok("255.255.255.255/32", "255.255.255.255/128");
	tn_parse_ok("172.31.255.255/12", "172.16.0.0/108");
	tn_parse_ok("100.127.1.1/10", "100.64.0.0/106");
	tn_parse_ok("0.0.0.0", "0.0.0.0/128");
}


static void
test_netset_parse_v6(void)
{
	struct cidr	a, b;

	tn_parse_ok("::1", "::1/128");
	tn_parse_ok("2001:db8::/32", "2001:db8::/32");
	tn_parse_ok("fe80::1/10", "fe80::/10");
	tn_parse_ok("::/0", "::/0");
	tn_parse_ok("2001:DB8:1:2:3:4:5:6/63", "2001:db8:1:2::/63");
	/* mapped text is the same range as the IPv4 spelling */
	CU_ASSERT_EQUAL(netset_parse_cidr("::ffff:10.9.9.9/104", &a), 0);
	CU_ASSERT_EQUAL(netset_parse_cidr("10.0.0.0/8", &b), 0);
	CU_ASSERT(memcmp(&a, &b, sizeof(a)) == 0);
}


/* B08: alternate IPv4 spellings are never a range. */
static void
test_netset_parse_rejects(void)
{
	static const char	*bad[] = { "127.1", "0x7f.0.0.1", "0x7f000001",
	    "0177.0.0.1", "2130706433", "01.2.3.4", "1.2.3.04", "00.0.0.0",
	    "256.1.1.1", "1.2.3", "1.2.3.4.5", "1..2.3", "1.2.3.", ".1.2.3",
	    "", "/8", " 1.2.3.4", "1.2.3.4 ", "1.2.3.4/", "1.2.3.4/33",
	    "1.2.3.4/08", "1.2.3.4/-1", "1.2.3.4/+8", "1.2.3.4/8/8",
	    "1.2.3.4/1000", "1.2.3.4/ 8", "1.2.3.4/8 ", "1.2.3.-4",
	    "::1/129", "::/-0", "2001:db8::/032", "fe80::1%eth0", "[::1]",
	    "[::1]/128", ":::", "1:2:3:4:5:6:7:8:9", "2001:db8::g",
	    "2001:db8::/", "1.2.3.4/32x",
	    "1111:2222:3333:4444:5555:6666:7777:8888:9999:aaaa:bbbb:cccc" };
	struct cidr		c;
	size_t			i;

	memset(&c, 0x5a, sizeof(c));
	for (i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		if (netset_parse_cidr(bad[i], &c) == 0)
			CU_assertImplementation(CU_FALSE, __LINE__,
			    bad[i], __FILE__, "", CU_FALSE);
	}
	CU_ASSERT_EQUAL(netset_parse_cidr(NULL, &c), -1);
	CU_ASSERT_EQUAL(c.bits, 0x5a5a5a5aU);	/* untouched on failure */
}


static void
test_netset_contains(void)
{
	struct netset	set = { NULL, 0 };
	struct in6_addr	a;

	CU_ASSERT_EQUAL(netset_add(&set, "10.0.0.0/8"), 0);
	CU_ASSERT_EQUAL(netset_add(&set, "2001:db8::/32"), 0);
	CU_ASSERT_EQUAL(netset_add(&set, "127.0.0.2"), 0);
	CU_ASSERT_EQUAL(netset_add(&set, "127.1"), -1);
	CU_ASSERT_EQUAL(set.n, 3);
	a = tn_addr("10.255.0.1");
	CU_ASSERT(netset_contains(&set, &a));
	a = tn_addr("::ffff:10.1.1.1");
	CU_ASSERT(netset_contains(&set, &a));
	a = tn_addr("11.0.0.1");
	CU_ASSERT(!netset_contains(&set, &a));
	a = tn_addr("127.0.0.2");
	CU_ASSERT(netset_contains(&set, &a));
	a = tn_addr("127.0.0.1");
	CU_ASSERT(!netset_contains(&set, &a));
	a = tn_addr("2001:db8:ffff::5");
	CU_ASSERT(netset_contains(&set, &a));
	a = tn_addr("2001:db9::5");
	CU_ASSERT(!netset_contains(&set, &a));
	/* a v4 /0 is all of IPv4 and nothing of IPv6 */
	CU_ASSERT_EQUAL(netset_add(&set, "0.0.0.0/0"), 0);
	a = tn_addr("8.8.8.8");
	CU_ASSERT(netset_contains(&set, &a));
	a = tn_addr("::1");
	CU_ASSERT(!netset_contains(&set, &a));
	netset_free(&set);
	CU_ASSERT_EQUAL(set.n, 0);
	CU_ASSERT_PTR_NULL(set.v);
	CU_ASSERT(!netset_contains(&set, &a));
	netset_free(&set);
}


static void
test_netset_sockaddr_ntop(void)
{
	struct sockaddr_in	sin;
	struct sockaddr_in6	sin6;
	struct sockaddr_un	sun;
	struct in6_addr		a;
	char			buf[INET6_ADDRSTRLEN];

	memset(&sin, 0, sizeof(sin));
	sin.sin_family = AF_INET;
	inet_pton(AF_INET, "192.0.2.1", &sin.sin_addr);
	CU_ASSERT_EQUAL(netset_from_sockaddr((struct sockaddr *)&sin, &a), 0);
	netset_ntop(&a, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "192.0.2.1");
	CU_ASSERT_STRING_EQUAL(netset_special(&a), "documentation");

	memset(&sin6, 0, sizeof(sin6));
	sin6.sin6_family = AF_INET6;
	inet_pton(AF_INET6, "2001:DB8:0:0::1", &sin6.sin6_addr);
	CU_ASSERT_EQUAL(netset_from_sockaddr((struct sockaddr *)&sin6, &a),
	    0);
	netset_ntop(&a, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "2001:db8::1");
	inet_pton(AF_INET6, "::ffff:127.0.0.1", &sin6.sin6_addr);
	CU_ASSERT_EQUAL(netset_from_sockaddr((struct sockaddr *)&sin6, &a),
	    0);
	netset_ntop(&a, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "127.0.0.1");
	CU_ASSERT_STRING_EQUAL(netset_special(&a), "loopback");

	memset(&sun, 0, sizeof(sun));
	sun.sun_family = AF_UNIX;
	CU_ASSERT_EQUAL(netset_from_sockaddr((struct sockaddr *)&sun, &a),
	    -1);

	a = tn_addr("2001:db8::1");
	netset_ntop(&a, buf, 4);
	CU_ASSERT_STRING_EQUAL(buf, "");
	a = tn_addr("::1");
	netset_ntop(&a, buf, sizeof(buf));
	CU_ASSERT_STRING_EQUAL(buf, "::1");
}


static void
tn_check(const struct tn_case *cases, size_t n)
{
	struct in6_addr	 a;
	const char	*w;
	size_t		 i;

	for (i = 0; i < n; i++) {
		a = tn_addr(cases[i].addr);
		w = netset_special(&a);
		if (cases[i].word == NULL ? w != NULL :
		    w == NULL || strcmp(w, cases[i].word) != 0)
			CU_assertImplementation(CU_FALSE, __LINE__,
			    cases[i].addr, __FILE__, "", CU_FALSE);
	}
}


/* B08 and B24: every IPv4 range, its edges and its neighbours. */
static void
test_netset_special_v4(void)
{
	static const struct tn_case	cases[] = {
		{ "0.0.0.0", "unspecified" }, { "0.0.0.1", "this_network" },
		{ "0.255.255.255", "this_network" }, { "1.0.0.0", NULL },
		{ "9.255.255.255", NULL }, { "10.0.0.0", "private" },
		{ "10.255.255.255", "private" }, { "11.0.0.0", NULL },
		{ "100.63.255.255", NULL }, { "100.64.0.0", "cgnat" },
		{ "100.64.0.1", "cgnat" }, { "100.127.255.255", "cgnat" },
		{ "100.128.0.0", NULL }, { "126.255.255.255", NULL },
		{ "127.0.0.1", "loopback" }, { "127.0.0.2", "loopback" },
		{ "127.255.255.255", "loopback" }, { "128.0.0.0", NULL },
		{ "169.253.255.255", NULL }, { "169.254.0.0", "link_local" },
		{ "169.254.169.254", "link_local" }, { "169.255.0.0", NULL },
		{ "172.15.255.255", NULL }, { "172.16.0.0", "private" },
		{ "172.31.255.255", "private" }, { "172.32.0.0", NULL },
		{ "192.0.0.0", "ietf_protocol" },
		{ "192.0.0.255", "ietf_protocol" }, { "192.0.1.0", NULL },
		{ "192.0.2.0", "documentation" },
		{ "192.0.2.255", "documentation" }, { "192.0.3.0", NULL },
		{ "192.88.98.255", NULL }, { "192.88.99.1", "6to4_relay" },
		{ "192.88.100.0", NULL }, { "192.167.255.255", NULL },
		{ "192.168.0.0", "private" }, { "192.168.255.255", "private" },
		{ "192.169.0.0", NULL }, { "198.17.255.255", NULL },
		{ "198.18.0.0", "benchmarking" },
		{ "198.19.255.255", "benchmarking" }, { "198.20.0.0", NULL },
		{ "198.51.99.255", NULL }, { "198.51.100.7", "documentation" },
		{ "198.51.101.0", NULL }, { "203.0.112.255", NULL },
		{ "203.0.113.10", "documentation" }, { "203.0.114.0", NULL },
		{ "223.255.255.255", NULL }, { "224.0.0.1", "multicast" },
		{ "239.255.255.255", "multicast" }, { "240.0.0.0", "reserved" },
		{ "255.255.255.255", "reserved" }, { "8.8.8.8", NULL },
		{ "1.1.1.1", NULL }, { "193.0.0.1", NULL },
	};

	tn_check(cases, sizeof(cases) / sizeof(cases[0]));
}


/* B06 and the IPv6 forms that carry IPv4. */
static void
test_netset_special_v6(void)
{
	static const struct tn_case	cases[] = {
		{ "::", "unspecified" }, { "::1", "loopback" },
		{ "::2", "this_network" },
		{ "::ffff:127.0.0.1", "loopback" },
		{ "::ffff:169.254.169.254", "link_local" },
		{ "::ffff:8.8.8.8", NULL },
		{ "::8.8.8.8", "ipv4_compatible" },
		{ "::10.0.0.1", "private" },
		{ "::1:0:0:1", "reserved" },
		{ "64:ff9b::8.8.8.8", "nat64" },
		{ "64:ff9b::127.0.0.1", "loopback" },
		{ "64:ff9b::10.1.2.3", "private" },
		{ "64:ff9b:1::1", "nat64_local" },
		{ "64:ff9b:1:ffff::1", "nat64_local" },
		{ "100::1", "discard" },
		{ "100::ffff:ffff:ffff:ffff", "discard" },
		{ "100:0:0:1::", "reserved" },
		{ "2001:0:4136:e378:8000:63bf:f7f7:f7f7", "teredo" },
		{ "2001:0:4136:e378:8000:63bf:3fff:fdd2", "documentation" },
		{ "2001:0:a00:1:8000:63bf:f7f7:f7f7", "private" },
		{ "2001:1::1", "ietf_protocol" },
		{ "2001:2::1", "benchmarking" },
		{ "2001:2:0:1::1", "benchmarking" },
		{ "2001:2:1::1", "ietf_protocol" },
		{ "2001:10::1", "ietf_protocol" },
		{ "2001:1ff:ffff::1", "ietf_protocol" },
		{ "2001:200::1", NULL },
		{ "2001:db7:ffff::1", NULL },
		{ "2001:db8::1", "documentation" },
		{ "2001:db8:ffff::1", "documentation" },
		{ "2001:db9::1", NULL },
		{ "2002:808:808::1", "6to4" },
		{ "2002:a00:1::1", "private" },
		{ "2002:7f00:1::", "loopback" },
		{ "2003::1", NULL },
		{ "2606:4700::1111", NULL }, { "2a00:1450:4001::1", NULL },
		{ "3ffe::1", NULL },
		{ "3fff::1", "documentation" },
		{ "3fff:fff:ffff::1", "documentation" },
		{ "3fff:1000::1", NULL },
		{ "5f00::1", "srv6" }, { "5f01::1", "reserved" },
		{ "fc00::1", "unique_local" },
		{ "fd12:3456::1", "unique_local" },
		{ "fe80::1", "link_local" }, { "febf::1", "link_local" },
		{ "fec0::1", "site_local" }, { "feff::1", "site_local" },
		{ "ff02::1", "multicast" }, { "ff0e::1", "multicast" },
		{ "4000::1", "reserved" }, { "1::1", "reserved" },
		{ "e000::1", "reserved" }, { "1fff:ffff::1", "reserved" },
	};

	tn_check(cases, sizeof(cases) / sizeof(cases[0]));
}


int
test_netset_add(void)
{
	CU_pSuite	s;

	if ((s = CU_add_suite("netset", NULL, NULL)) == NULL)
		return -1;
	if (CU_add_test(s, "parse ipv4", test_netset_parse_v4) == NULL ||
	    CU_add_test(s, "parse ipv6", test_netset_parse_v6) == NULL ||
	    CU_add_test(s, "B08 alternate spellings and bad prefixes",
	    test_netset_parse_rejects) == NULL ||
	    CU_add_test(s, "add contains free", test_netset_contains) == NULL ||
	    CU_add_test(s, "sockaddr and ntop",
	    test_netset_sockaddr_ntop) == NULL ||
	    CU_add_test(s, "B08 B24 special ipv4",
	    test_netset_special_v4) == NULL ||
	    CU_add_test(s, "B06 special ipv6 and embedded ipv4",
	    test_netset_special_v6) == NULL)
		return -1;
	return 0;
}
