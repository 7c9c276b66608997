/*
 * Unit tests of target parsing, host normalisation and matching
 * (src/allowlist.c), named after the /work/shared/cases ids.
 *
 * The list is the one the cases assume: portal.eu1.edge.siemens.cloud on
 * 443 only, *.svc.allowed.example on 443 and 8443; plus, for literals, a
 * rule naming 127.0.0.2 and 2001:db8::5, and a rule for user bob only.
 * test_cases_pipeline runs each B02-B17 request through http_parse_head,
 * allow_parse_target and allow_match and checks the reason and status
 * that these pure stages decide (status 0: passed on to auth/DNS).
 */
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <CUnit/CUnit.h>

#include "allowlist.h"
#include "http.h"
#include "unit.h"

#define TEST_PORTAL	"portal.eu1.edge.siemens.cloud:443"
#define TEST_AUTH	"Proxy-Authorization: Basic YWxpY2U6czNjcmV0\r\n"
#define TEST_LINE(t)	"CONNECT " t " HTTP/1.1\r\n"
#define TEST_HOST	"Host: " TEST_PORTAL "\r\n"
#define TEST_REQ(t)	TEST_LINE(t) "Host: " t "\r\n" TEST_AUTH "\r\n"
#define TEST_WITH(f)	TEST_LINE(TEST_PORTAL) TEST_HOST f TEST_AUTH "\r\n"

static char	 test_portal[] = "portal.eu1.edge.siemens.cloud";
static char	 test_svc[] = "*.svc.allowed.example";
static char	 test_ops[] = "ops.example";
static char	 test_bob[] = "bob";
static char	*test_hosts0[] = { test_portal };
static char	*test_hosts1[] = { test_svc };
static char	*test_hosts3[] = { test_ops };
static char	*test_users3[] = { test_bob };
static uint16_t	 test_ports0[] = { 443 };
static uint16_t	 test_ports1[] = { 443, 8443 };
static uint16_t	 test_ports3[] = { 22 };

static struct allow_rule test_rules[] = {
	{ .hosts = test_hosts0, .nhosts = 1, .ports = test_ports0,
	  .nports = 1, .line = 1 },
	{ .hosts = test_hosts1, .nhosts = 1, .ports = test_ports1,
	  .nports = 2, .line = 2 },
	{ .ports = test_ports0, .nports = 1, .line = 3 },
	{ .hosts = test_hosts3, .nhosts = 1, .ports = test_ports3,
	  .nports = 1, .users = test_users3, .nusers = 1, .line = 4 },
};
static const struct allowlist test_list = { test_rules, 4 };


static int
test_allow_init(void)
{
	if (netset_add(&test_rules[2].addrs, "127.0.0.2") != 0 ||
	    netset_add(&test_rules[2].addrs, "2001:db8::5") != 0)
		return -1;
	return 0;
}


static int
test_allow_cleanup(void)
{
	netset_free(&test_rules[2].addrs);
	return 0;
}


/* Parse a NUL-terminated target into t. */
static enum reason
test_allow_parse(const char *s, struct target *t)
{
	return allow_parse_target(s, strlen(s), t);
}


/*
 * Parse and match s for user; the parse reason when it fails, else the
 * match reason.  *line is the matching rule's line or 0.
 */
static enum reason
test_allow_verdict(const char *s, const char *user, int *line)
{
	const struct allow_rule	*rule;
	struct target		 t;
	enum reason		 r;

	*line = 0;
	if ((r = test_allow_parse(s, &t)) != REASON_NONE)
		return r;
	r = allow_match(&test_list, &t, user, &rule);
	if (rule != NULL)
		*line = rule->line;
	return r;
}


static enum reason
test_allow_v(const char *s)
{
	int	line;

	return test_allow_verdict(s, "alice", &line);
}


static void
test_b02_trailing_dot(void)
{
	struct target	t;
	int		line;

	CU_ASSERT_EQUAL(test_allow_parse(
	    "portal.eu1.edge.siemens.cloud.:443", &t), REASON_NONE);
	CU_ASSERT_EQUAL(t.kind, HOST_NAME);
	CU_ASSERT_STRING_EQUAL(t.host, "portal.eu1.edge.siemens.cloud");
	CU_ASSERT_EQUAL(t.port, 443);
	CU_ASSERT_EQUAL(test_allow_verdict(
	    "portal.eu1.edge.siemens.cloud.:443", "alice", &line),
	    REASON_NONE);
	CU_ASSERT_EQUAL(line, 1);
	CU_ASSERT_EQUAL(test_allow_v("portal.eu1.edge.siemens.cloud..:443"),
	    REASON_BAD_HOST);
	CU_ASSERT_EQUAL(test_allow_v("evil.example.:443"),
	    REASON_HOST_NOT_ALLOWED);
	CU_ASSERT_EQUAL(test_allow_v("localhost.:443"),
	    REASON_HOST_NOT_ALLOWED);
	CU_ASSERT_EQUAL(test_allow_v(".:443"), REASON_BAD_HOST);
	CU_ASSERT_EQUAL(test_allow_v(".example:443"), REASON_BAD_HOST);
}


static void
test_b03_case_folded(void)
{
	struct target	t;
	int		line;

	CU_ASSERT_EQUAL(test_allow_parse("PORTAL.EU1.Edge.Siemens.Cloud:443",
	    &t), REASON_NONE);
	CU_ASSERT_STRING_EQUAL(t.host, "portal.eu1.edge.siemens.cloud");
	CU_ASSERT_EQUAL(test_allow_verdict("API.SVC.ALLOWED.EXAMPLE:443",
	    "alice", &line), REASON_NONE);
	CU_ASSERT_EQUAL(line, 2);
	CU_ASSERT_EQUAL(test_allow_v("LocalHost:443"),
	    REASON_HOST_NOT_ALLOWED);
}


static void
test_b05_never_decoded(void)
{
	CU_ASSERT_EQUAL(test_allow_v(
	    "evil.example%23.svc.allowed.example:443"), REASON_BAD_HOST);
	CU_ASSERT_EQUAL(test_allow_v("portal%2eeu1.edge.siemens.cloud:443"),
	    REASON_BAD_HOST);
	CU_ASSERT_EQUAL(test_allow_v(
	    "evil.example%0d%0aX.svc.allowed.example:443"), REASON_BAD_HOST);
	CU_ASSERT_EQUAL(test_allow_v("evil.example#.svc.allowed.example:443"),
	    REASON_BAD_HOST);
	CU_ASSERT_EQUAL(test_allow_v("p\xc3\xb6rtal.svc.allowed.example:443"),
	    REASON_BAD_HOST);
	CU_ASSERT_EQUAL(test_allow_v("evil.example\\.svc.allowed.example:443"),
	    REASON_BAD_HOST);
	CU_ASSERT_EQUAL(test_allow_v("a_b.svc.allowed.example:443"),
	    REASON_BAD_HOST);
	CU_ASSERT_EQUAL(test_allow_v("a b.svc.allowed.example:443"),
	    REASON_BAD_HOST);
	CU_ASSERT_EQUAL(test_allow_v("xn--prtal-jua.svc.allowed.example:443"),
	    REASON_NONE);
}


static void
test_b06_ipv6_literals(void)
{
	struct target	t;
	int		line;

	CU_ASSERT_EQUAL(test_allow_parse("[::1]:443", &t), REASON_NONE);
	CU_ASSERT_EQUAL(t.kind, HOST_IPV6);
	CU_ASSERT_STRING_EQUAL(t.host, "::1");
	CU_ASSERT_EQUAL(t.addr.s6_addr[15], 1);
	CU_ASSERT_EQUAL(test_allow_v("[::1]:443"), REASON_IP_NOT_ALLOWED);
	CU_ASSERT_EQUAL(test_allow_v("::1:443"), REASON_BAD_TARGET);
	CU_ASSERT_EQUAL(test_allow_v("fe80::1:443"), REASON_BAD_TARGET);
	CU_ASSERT_EQUAL(test_allow_v("[::1]443"), REASON_BAD_TARGET);
	CU_ASSERT_EQUAL(test_allow_v("[::1:443"), REASON_BAD_TARGET);
	CU_ASSERT_EQUAL(test_allow_v("[fe80::1%25eth0]:443"), REASON_BAD_HOST);
	CU_ASSERT_EQUAL(test_allow_v("[fe80::1%eth0]:443"), REASON_BAD_HOST);
	CU_ASSERT_EQUAL(test_allow_v("[2001:db8::1]:443"),
	    REASON_IP_NOT_ALLOWED);
	CU_ASSERT_EQUAL(test_allow_v("[1.2.3.4]:443"), REASON_BAD_HOST);
	CU_ASSERT_EQUAL(test_allow_v("[]:443"), REASON_BAD_HOST);
	CU_ASSERT_EQUAL(test_allow_v("[::1]:"), REASON_BAD_PORT);
	CU_ASSERT_EQUAL(test_allow_v("[::1]:0"), REASON_BAD_PORT);

	/* A literal named by a rule matches, in canonical text. */
	CU_ASSERT_EQUAL(test_allow_parse("[2001:DB8:0:0::5]:443", &t),
	    REASON_NONE);
	CU_ASSERT_STRING_EQUAL(t.host, "2001:db8::5");
	CU_ASSERT_EQUAL(test_allow_verdict("[2001:DB8:0:0::5]:443", "alice",
	    &line), REASON_NONE);
	CU_ASSERT_EQUAL(line, 3);
	CU_ASSERT_EQUAL(test_allow_v("[2001:db8::5]:8443"),
	    REASON_PORT_NOT_ALLOWED);
}


static void
test_b08_numeric_hosts(void)
{
	static const char	*numeric[] = { "2130706433:443", "0x7f.1:443",
	    "0177.0.0.1:443", "127.1:443", "0:443", "1.2.3.04:443",
	    "256.1.1.1:443", "1.2.3.4.5:443", "example.0x1F:443",
	    "example.123:443", "0x7F000001:443", "1.2.3.4.:443x" };
	struct target		 t;
	size_t			 i;

	/* The last one has a bad port: numeric hosts are valid syntax. */
	for (i = 0; i < sizeof(numeric) / sizeof(numeric[0]) - 1; i++) {
		CU_ASSERT_EQUAL(test_allow_parse(numeric[i], &t), REASON_NONE);
		CU_ASSERT_EQUAL(t.kind, HOST_NUMERIC);
		CU_ASSERT_EQUAL(test_allow_v(numeric[i]), REASON_NUMERIC_HOST);
	}
	CU_ASSERT_EQUAL(test_allow_parse(numeric[i], &t), REASON_BAD_PORT);
	CU_ASSERT_EQUAL(test_allow_parse("0x7f.1:443", &t), REASON_NONE);
	CU_ASSERT_STRING_EQUAL(t.host, "0x7f.1");

	CU_ASSERT_EQUAL(test_allow_parse("0.0.0.0:443", &t), REASON_NONE);
	CU_ASSERT_EQUAL(t.kind, HOST_IPV4);
	CU_ASSERT_EQUAL(test_allow_v("0.0.0.0:443"), REASON_IP_NOT_ALLOWED);
	CU_ASSERT_EQUAL(test_allow_parse("100.64.0.1.:443", &t), REASON_NONE);
	CU_ASSERT_EQUAL(t.kind, HOST_IPV4);
	CU_ASSERT_STRING_EQUAL(t.host, "100.64.0.1");
	CU_ASSERT_EQUAL(t.addr.s6_addr[10], 0xff);
	CU_ASSERT_EQUAL(t.addr.s6_addr[11], 0xff);
	CU_ASSERT_EQUAL(t.addr.s6_addr[12], 100);
	CU_ASSERT_EQUAL(t.addr.s6_addr[13], 64);
	CU_ASSERT_EQUAL(t.addr.s6_addr[15], 1);
	CU_ASSERT_EQUAL(test_allow_v("100.64.0.1:443"),
	    REASON_IP_NOT_ALLOWED);
	CU_ASSERT_EQUAL(test_allow_v("127.0.0.2:443"), REASON_NONE);
	CU_ASSERT_EQUAL(test_allow_v("255.255.255.255:443"),
	    REASON_IP_NOT_ALLOWED);
	/* B08.8: a name; its addresses are judged after resolution. */
	CU_ASSERT_EQUAL(test_allow_v("cgnat.svc.allowed.example:443"),
	    REASON_NONE);
	CU_ASSERT_EQUAL(test_allow_parse("1e100.example:443", &t),
	    REASON_NONE);
	CU_ASSERT_EQUAL(t.kind, HOST_NAME);
}


static void
test_b09_port_wraps(void)
{
	struct target	t;

	CU_ASSERT_EQUAL(test_allow_v("portal.eu1.edge.siemens.cloud"),
	    REASON_BAD_PORT);
	CU_ASSERT_EQUAL(test_allow_v("portal.eu1.edge.siemens.cloud:"),
	    REASON_BAD_PORT);
	CU_ASSERT_EQUAL(test_allow_v("portal.eu1.edge.siemens.cloud:0"),
	    REASON_BAD_PORT);
	CU_ASSERT_EQUAL(test_allow_v("portal.eu1.edge.siemens.cloud:65536"),
	    REASON_BAD_PORT);
	CU_ASSERT_EQUAL(test_allow_v(
	    "portal.eu1.edge.siemens.cloud:4294967739"), REASON_BAD_PORT);
	CU_ASSERT_EQUAL(test_allow_v(
	    "portal.eu1.edge.siemens.cloud:18446744073709552059"),
	    REASON_BAD_PORT);
	CU_ASSERT_EQUAL(test_allow_v("portal.eu1.edge.siemens.cloud:0x1bb"),
	    REASON_BAD_PORT);
	CU_ASSERT_EQUAL(test_allow_v("portal.eu1.edge.siemens.cloud:443:443"),
	    REASON_BAD_PORT);
	CU_ASSERT_EQUAL(test_allow_v("portal.eu1.edge.siemens.cloud:+443"),
	    REASON_BAD_PORT);
	CU_ASSERT_EQUAL(test_allow_v("portal.eu1.edge.siemens.cloud: 443"),
	    REASON_BAD_PORT);
	CU_ASSERT_EQUAL(test_allow_parse("portal.eu1.edge.siemens.cloud:0443",
	    &t), REASON_NONE);
	CU_ASSERT_EQUAL(t.port, 443);
	CU_ASSERT_EQUAL(test_allow_v("portal.eu1.edge.siemens.cloud:0443"),
	    REASON_NONE);
	CU_ASSERT_EQUAL(test_allow_parse("a.example:000000000000000000065535",
	    &t), REASON_NONE);
	CU_ASSERT_EQUAL(t.port, 65535);
	CU_ASSERT_EQUAL(test_allow_parse("a.example:1", &t), REASON_NONE);
	CU_ASSERT_EQUAL(t.port, 1);
	CU_ASSERT_EQUAL(test_allow_v("portal.eu1.edge.siemens.cloud:22"),
	    REASON_PORT_NOT_ALLOWED);
	CU_ASSERT_EQUAL(test_allow_v("api.svc.allowed.example:8443"),
	    REASON_NONE);
	CU_ASSERT_EQUAL(test_allow_v("api.svc.allowed.example:8080"),
	    REASON_PORT_NOT_ALLOWED);
}


static void
test_b10_userinfo(void)
{
	CU_ASSERT_EQUAL(test_allow_v(
	    "evil.example@portal.eu1.edge.siemens.cloud:443"), REASON_USERINFO);
	CU_ASSERT_EQUAL(test_allow_v(
	    "alice:s3cret@portal.eu1.edge.siemens.cloud:443"), REASON_USERINFO);
	CU_ASSERT_EQUAL(test_allow_v(
	    "portal.eu1.edge.siemens.cloud:443@evil.example:443"),
	    REASON_USERINFO);
	CU_ASSERT_EQUAL(test_allow_v("[::1@x]:443"), REASON_USERINFO);
}


static void
test_b16_host_too_long(void)
{
	char		buf[600];
	struct target	t;

	/* B16.1: one 300-octet label. */
	memset(buf, 'a', 300);
	strcpy(buf + 300, ".svc.allowed.example:443");
	CU_ASSERT_EQUAL(test_allow_v(buf), REASON_HOST_TOO_LONG);

	/* A 63-octet label is fine, 64 is not. */
	memset(buf, 'a', 63);
	strcpy(buf + 63, ".svc.allowed.example:443");
	CU_ASSERT_EQUAL(test_allow_v(buf), REASON_NONE);
	memset(buf, 'a', 64);
	strcpy(buf + 64, ".svc.allowed.example:443");
	CU_ASSERT_EQUAL(test_allow_v(buf), REASON_HOST_TOO_LONG);

	/* B16.2: 3 x 63 + 60 + suffix = 269 octets. */
	memset(buf, 'a', 192);
	buf[63] = buf[127] = buf[191] = '.';
	memset(buf + 192, 'b', 60);
	strcpy(buf + 252, ".svc.allowed.example:443");
	CU_ASSERT_EQUAL(test_allow_v(buf), REASON_HOST_TOO_LONG);

	/* 253 octets exactly, with and without the trailing dot. */
	memset(buf, 'a', 253);
	buf[63] = buf[127] = buf[191] = '.';
	strcpy(buf + 253, ":443");
	CU_ASSERT_EQUAL(test_allow_parse(buf, &t), REASON_NONE);
	CU_ASSERT_EQUAL(strlen(t.host), 253);
	strcpy(buf + 253, ".:443");
	CU_ASSERT_EQUAL(test_allow_parse(buf, &t), REASON_NONE);
	CU_ASSERT_EQUAL(strlen(t.host), 253);
	buf[253] = 'a';
	strcpy(buf + 254, ":443");
	CU_ASSERT_EQUAL(test_allow_parse(buf, &t), REASON_HOST_TOO_LONG);
}


static void
test_allow_ldh(void)
{
	CU_ASSERT_EQUAL(test_allow_v("-a.svc.allowed.example:443"),
	    REASON_BAD_HOST);
	CU_ASSERT_EQUAL(test_allow_v("a-.svc.allowed.example:443"),
	    REASON_BAD_HOST);
	CU_ASSERT_EQUAL(test_allow_v("a-b.svc.allowed.example:443"),
	    REASON_NONE);
	CU_ASSERT_EQUAL(test_allow_v("a..svc.allowed.example:443"),
	    REASON_BAD_HOST);
	CU_ASSERT_EQUAL(test_allow_v(":443"), REASON_BAD_HOST);
	CU_ASSERT_EQUAL(test_allow_v("*.svc.allowed.example:443"),
	    REASON_BAD_HOST);
	CU_ASSERT_EQUAL(test_allow_v(""), REASON_BAD_TARGET);
	CU_ASSERT_EQUAL(allow_parse_target("a.example:443\0",
	    sizeof("a.example:443\0") - 1, &(struct target){ 0 }),
	    REASON_BAD_PORT);
	CU_ASSERT_EQUAL(allow_parse_target("a\0.example:443",
	    sizeof("a\0.example:443") - 1, &(struct target){ 0 }),
	    REASON_BAD_HOST);
}


static void
test_allow_wildcard_boundary(void)
{
	CU_ASSERT(allow_name_matches("*.svc.allowed.example",
	    "api.svc.allowed.example"));
	CU_ASSERT(allow_name_matches("*.svc.allowed.example",
	    "a.b.svc.allowed.example"));
	CU_ASSERT(!allow_name_matches("*.svc.allowed.example",
	    "svc.allowed.example"));
	CU_ASSERT(!allow_name_matches("*.svc.allowed.example",
	    "evilsvc.allowed.example"));
	CU_ASSERT(!allow_name_matches("*.svc.allowed.example",
	    "svc.allowed.example.evil"));
	CU_ASSERT(allow_name_matches("portal.eu1.edge.siemens.cloud",
	    "portal.eu1.edge.siemens.cloud"));
	CU_ASSERT(!allow_name_matches("portal.eu1.edge.siemens.cloud",
	    "xportal.eu1.edge.siemens.cloud"));
	CU_ASSERT(!allow_name_matches("portal.eu1.edge.siemens.cloud",
	    "eu1.edge.siemens.cloud"));
	CU_ASSERT(!allow_name_matches("*.svc.allowed.example",
	    ".svc.allowed.example"));
	CU_ASSERT(!allow_name_matches("*", "anything"));
	CU_ASSERT(!allow_name_matches("*.", "a"));
	CU_ASSERT(!allow_name_matches(NULL, "a"));
	CU_ASSERT_EQUAL(test_allow_v("svc.allowed.example:443"),
	    REASON_HOST_NOT_ALLOWED);
	CU_ASSERT_EQUAL(test_allow_v("evilsvc.allowed.example:443"),
	    REASON_HOST_NOT_ALLOWED);
}


static void
test_allow_users(void)
{
	int	line;

	CU_ASSERT_EQUAL(test_allow_verdict("ops.example:22", "bob", &line),
	    REASON_NONE);
	CU_ASSERT_EQUAL(line, 4);
	CU_ASSERT_EQUAL(test_allow_verdict("ops.example:22", "alice", &line),
	    REASON_HOST_NOT_ALLOWED);
	CU_ASSERT_EQUAL(line, 0);
	CU_ASSERT_EQUAL(test_allow_verdict("ops.example:22", NULL, &line),
	    REASON_HOST_NOT_ALLOWED);
	CU_ASSERT_EQUAL(test_allow_verdict("ops.example:443", "bob", &line),
	    REASON_PORT_NOT_ALLOWED);
	CU_ASSERT_EQUAL(test_allow_verdict("ops.example:22", "bo", &line),
	    REASON_HOST_NOT_ALLOWED);
	/* Rules without a user list apply with authentication off. */
	CU_ASSERT_EQUAL(test_allow_verdict(TEST_PORTAL, NULL, &line),
	    REASON_NONE);
	CU_ASSERT_EQUAL(line, 1);
}


/* "@g" in a rule's users names group g; never a user called "@g". */
static void
test_allow_groups(void)
{
	static char		 ops_group[] = "@ops", ops_user[] = "ops";
	static char		*users[] = { ops_group };
	struct allow_rule	 r = { .hosts = test_hosts3, .nhosts = 1,
				    .ports = test_ports3, .nports = 1,
				    .users = users, .nusers = 1, .line = 7 };
	struct allowlist	 list = { &r, 1 };
	char			*in_ops[] = { test_bob, ops_user };
	char			*in_none[] = { test_bob };
	const struct allow_rule	*rule = NULL;
	struct target		 t;

	CU_ASSERT_EQUAL(test_allow_parse("ops.example:22", &t), REASON_NONE);
	CU_ASSERT_EQUAL(allow_match_groups(&list, &t, "carol", in_ops, 2,
	    &rule), REASON_NONE);
	CU_ASSERT_PTR_EQUAL(rule, &r);
	CU_ASSERT_EQUAL(allow_match_groups(&list, &t, "carol", in_none, 1,
	    &rule), REASON_HOST_NOT_ALLOWED);
	CU_ASSERT_EQUAL(allow_match_groups(&list, &t, "@ops", NULL, 0,
	    &rule), REASON_HOST_NOT_ALLOWED);
	CU_ASSERT_EQUAL(allow_match(&list, &t, "ops", &rule),
	    REASON_HOST_NOT_ALLOWED);
	CU_ASSERT_EQUAL(allow_match_groups(&list, &t, NULL, in_ops, 2,
	    &rule), REASON_HOST_NOT_ALLOWED);
}


static void
test_allow_empty_list(void)
{
	struct allowlist	 empty = { NULL, 0 };
	struct target		 t;
	const struct allow_rule	*rule = test_rules;

	CU_ASSERT_EQUAL(test_allow_parse(TEST_PORTAL, &t), REASON_NONE);
	CU_ASSERT_EQUAL(allow_match(&empty, &t, "alice", &rule),
	    REASON_HOST_NOT_ALLOWED);
	CU_ASSERT_PTR_NULL(rule);
}


static void
test_allow_normalise(void)
{
	char	name[300];

	strcpy(name, "Portal.EU1.example.");
	CU_ASSERT_EQUAL(allow_normalise_name(name), 0);
	CU_ASSERT_STRING_EQUAL(name, "portal.eu1.example");
	strcpy(name, "a..b");
	CU_ASSERT_EQUAL(allow_normalise_name(name), -1);
	strcpy(name, "a.b..");
	CU_ASSERT_EQUAL(allow_normalise_name(name), -1);
	strcpy(name, "");
	CU_ASSERT_EQUAL(allow_normalise_name(name), -1);
	strcpy(name, "bad_name.example");
	CU_ASSERT_EQUAL(allow_normalise_name(name), -1);
	strcpy(name, "*.example");
	CU_ASSERT_EQUAL(allow_normalise_name(name), -1);
	memset(name, 'a', 254);
	name[63] = name[127] = name[191] = '.';
	name[254] = '\0';
	CU_ASSERT_EQUAL(allow_normalise_name(name), -1);
	name[253] = '\0';
	CU_ASSERT_EQUAL(allow_normalise_name(name), 0);
	CU_ASSERT_EQUAL(allow_normalise_name(NULL), -1);

	strcpy(name, "*.SVC.Allowed.Example.");
	CU_ASSERT_EQUAL(allow_normalise_pattern(name), 0);
	CU_ASSERT_STRING_EQUAL(name, "*.svc.allowed.example");
	strcpy(name, "Portal.Example");
	CU_ASSERT_EQUAL(allow_normalise_pattern(name), 0);
	CU_ASSERT_STRING_EQUAL(name, "portal.example");
	strcpy(name, "*");
	CU_ASSERT_EQUAL(allow_normalise_pattern(name), -1);
	strcpy(name, "*.");
	CU_ASSERT_EQUAL(allow_normalise_pattern(name), -1);
	strcpy(name, "a.*.b");
	CU_ASSERT_EQUAL(allow_normalise_pattern(name), -1);
	strcpy(name, "**.b");
	CU_ASSERT_EQUAL(allow_normalise_pattern(name), -1);
}


static void
test_allow_free_all(void)
{
	struct allowlist	list;
	struct allow_rule	*r;

	memset(&list, 0, sizeof(list));
	CU_ASSERT_FATAL((list.rules = calloc(2, sizeof(*r))) != NULL);
	list.nrules = 2;
	r = &list.rules[0];
	CU_ASSERT_FATAL((r->hosts = calloc(2, sizeof(char *))) != NULL);
	r->nhosts = 2;
	r->hosts[0] = strdup("a.example");
	r->hosts[1] = strdup("*.b.example");
	CU_ASSERT_FATAL((r->ports = calloc(1, sizeof(uint16_t))) != NULL);
	r->nports = 1;
	CU_ASSERT_EQUAL(netset_add(&r->addrs, "10.0.0.0/8"), 0);
	CU_ASSERT_FATAL((r->users = calloc(1, sizeof(char *))) != NULL);
	r->nusers = 1;
	r->users[0] = strdup("bob");
	allow_free(&list);
	CU_ASSERT_PTR_NULL(list.rules);
	CU_ASSERT_EQUAL(list.nrules, 0);
	allow_free(&list);
	allow_free(NULL);
}


/* One row of cases.tsv and what the pure stages decide for it. */
struct test_case {
	const char	*id;
	const char	*req;
	enum reason	 want;
	int		 status;	/* 0: decided after these stages */
};

static const struct test_case test_cases[] = {
	{ "B02.1", TEST_REQ("portal.eu1.edge.siemens.cloud.:443"),
	  REASON_NONE, 0 },
	{ "B02.2", TEST_REQ("portal.eu1.edge.siemens.cloud..:443"),
	  REASON_BAD_HOST, 400 },
	{ "B02.3", TEST_REQ("evil.example.:443"), REASON_HOST_NOT_ALLOWED,
	  403 },
	{ "B02.4", TEST_REQ("localhost.:443"), REASON_HOST_NOT_ALLOWED, 403 },
	{ "B03.1", TEST_REQ("PORTAL.EU1.Edge.Siemens.Cloud:443"),
	  REASON_NONE, 0 },
	{ "B03.2", TEST_REQ("API.SVC.ALLOWED.EXAMPLE:443"), REASON_NONE, 0 },
	{ "B03.3", TEST_REQ("LocalHost:443"), REASON_HOST_NOT_ALLOWED, 403 },
	{ "B05.1", TEST_REQ("evil.example%23.svc.allowed.example:443"),
	  REASON_BAD_HOST, 400 },
	{ "B05.2", TEST_REQ("portal%2eeu1.edge.siemens.cloud:443"),
	  REASON_BAD_HOST, 400 },
	{ "B05.3", TEST_REQ("evil.example%0d%0aX.svc.allowed.example:443"),
	  REASON_BAD_HOST, 400 },
	{ "B05.4", TEST_REQ("evil.example#.svc.allowed.example:443"),
	  REASON_BAD_TARGET, 400 },
	{ "B05.5", TEST_REQ("p\xc3\xb6rtal.svc.allowed.example:443"),
	  REASON_BAD_REQUEST_LINE, 400 },
	{ "B05.6", TEST_REQ("evil.example\\.svc.allowed.example:443"),
	  REASON_BAD_HOST, 400 },
	{ "B06.1", TEST_REQ("[::1]:443"), REASON_IP_NOT_ALLOWED, 403 },
	{ "B06.2", TEST_REQ("::1:443"), REASON_BAD_TARGET, 400 },
	{ "B06.3", TEST_REQ("[::1]443"), REASON_BAD_TARGET, 400 },
	{ "B06.4", TEST_REQ("[::1:443"), REASON_BAD_TARGET, 400 },
	{ "B06.5", TEST_REQ("[fe80::1%25eth0]:443"), REASON_BAD_HOST, 400 },
	{ "B06.6", TEST_REQ("[2001:db8::1]:443"), REASON_IP_NOT_ALLOWED,
	  403 },
	{ "B08.1", TEST_REQ("2130706433:443"), REASON_NUMERIC_HOST, 403 },
	{ "B08.2", TEST_REQ("0x7f.1:443"), REASON_NUMERIC_HOST, 403 },
	{ "B08.3", TEST_REQ("0177.0.0.1:443"), REASON_NUMERIC_HOST, 403 },
	{ "B08.4", TEST_REQ("127.1:443"), REASON_NUMERIC_HOST, 403 },
	{ "B08.5", TEST_REQ("0:443"), REASON_NUMERIC_HOST, 403 },
	{ "B08.6", TEST_REQ("0.0.0.0:443"), REASON_IP_NOT_ALLOWED, 403 },
	{ "B08.7", TEST_REQ("100.64.0.1:443"), REASON_IP_NOT_ALLOWED, 403 },
	{ "B08.8", TEST_REQ("cgnat.svc.allowed.example:443"), REASON_NONE,
	  0 },
	{ "B09.1", TEST_REQ("portal.eu1.edge.siemens.cloud"),
	  REASON_BAD_PORT, 400 },
	{ "B09.2", TEST_REQ("portal.eu1.edge.siemens.cloud:"),
	  REASON_BAD_PORT, 400 },
	{ "B09.3", TEST_REQ("portal.eu1.edge.siemens.cloud:0"),
	  REASON_BAD_PORT, 400 },
	{ "B09.4", TEST_REQ("portal.eu1.edge.siemens.cloud:65536"),
	  REASON_BAD_PORT, 400 },
	{ "B09.5", TEST_REQ("portal.eu1.edge.siemens.cloud:4294967739"),
	  REASON_BAD_PORT, 400 },
	{ "B09.6", TEST_REQ("portal.eu1.edge.siemens.cloud:0x1bb"),
	  REASON_BAD_PORT, 400 },
	{ "B09.7", TEST_REQ("portal.eu1.edge.siemens.cloud:443:443"),
	  REASON_BAD_PORT, 400 },
	{ "B09.8", TEST_REQ("portal.eu1.edge.siemens.cloud:0443"),
	  REASON_NONE, 0 },
	{ "B09.9", TEST_REQ("portal.eu1.edge.siemens.cloud:22"),
	  REASON_PORT_NOT_ALLOWED, 403 },
	{ "B10.1", TEST_LINE("evil.example@portal.eu1.edge.siemens.cloud:443")
	  TEST_HOST TEST_AUTH "\r\n", REASON_USERINFO, 400 },
	{ "B10.2", TEST_LINE("alice:s3cret@portal.eu1.edge.siemens.cloud:443")
	  TEST_HOST TEST_AUTH "\r\n", REASON_USERINFO, 400 },
	{ "B10.3", TEST_LINE(TEST_PORTAL "@evil.example:443") TEST_HOST
	  TEST_AUTH "\r\n", REASON_USERINFO, 400 },
	{ "B11.1", "GET http://evil.example/ HTTP/1.1\r\nHost: evil.example"
	  "\r\n" TEST_AUTH "\r\n", REASON_BAD_METHOD, 405 },
	{ "B11.2", "connect " TEST_PORTAL " HTTP/1.1\r\n" TEST_HOST TEST_AUTH
	  "\r\n", REASON_BAD_METHOD, 405 },
	{ "B11.3", "OPTIONS * HTTP/1.1\r\n" TEST_HOST TEST_AUTH "\r\n",
	  REASON_BAD_METHOD, 405 },
	{ "B11.4", TEST_LINE("http://" TEST_PORTAL "/") TEST_HOST TEST_AUTH
	  "\r\n", REASON_BAD_TARGET, 400 },
	{ "B11.5", TEST_LINE(TEST_PORTAL "/") TEST_HOST TEST_AUTH "\r\n",
	  REASON_BAD_TARGET, 400 },
	{ "B11.6", " http://evil.example/ HTTP/1.1\r\nHost: evil.example\r\n"
	  TEST_AUTH "\r\n", REASON_BAD_REQUEST_LINE, 400 },
	{ "B11.7", "CONNECT  " TEST_PORTAL "  HTTP/1.1\r\n" TEST_HOST
	  TEST_AUTH "\r\n", REASON_BAD_REQUEST_LINE, 400 },
	{ "B11.8", "CONNECT " TEST_PORTAL "\r\n" TEST_HOST TEST_AUTH "\r\n",
	  REASON_BAD_REQUEST_LINE, 400 },
	{ "B11.9", "CONNECT " TEST_PORTAL " HTTP/1.0\r\n" TEST_HOST TEST_AUTH
	  "\r\n", REASON_NONE, 0 },
	{ "B12.1", TEST_WITH("Host: evil.example:443\r\n"),
	  REASON_DUPLICATE_HOST, 400 },
	{ "B12.2", TEST_WITH(": x\r\n"), REASON_BAD_HEADER, 400 },
	{ "B12.3", TEST_LINE(TEST_PORTAL) "Host: evil.example:443\r\n"
	  TEST_AUTH "\r\n", REASON_NONE, 0 },
	{ "B13.1", TEST_LINE(TEST_PORTAL) TEST_HOST "Proxy-Authorization : "
	  "Basic YWxpY2U6czNjcmV0\r\n\r\n", REASON_BAD_HEADER, 400 },
	{ "B13.2", TEST_LINE(TEST_PORTAL) TEST_HOST "Proxy-Authorization: "
	  "Basic\r\n YWxpY2U6czNjcmV0\r\n\r\n", REASON_BAD_HEADER, 400 },
	{ "B13.3", TEST_WITH("Garbage-without-colon\r\n"), REASON_BAD_HEADER,
	  400 },
	{ "B13.4", TEST_WITH("X-Note: a\rb\r\n"), REASON_BAD_HEADER, 400 },
	{ "B13.5", TEST_LINE(TEST_PORTAL) TEST_HOST "Proxy-Authorization:\t"
	  "Basic YWxpY2U6czNjcmV0\r\n\r\n", REASON_NONE, 0 },
	{ "B14.1", TEST_WITH("Transfer-Encoding: Chunked\r\n"),
	  REASON_BODY_FRAMING, 400 },
	{ "B14.2", TEST_WITH("Content-Length: 5\r\nContent-Length: 7\r\n"),
	  REASON_BODY_FRAMING, 400 },
	{ "B14.3", TEST_WITH("Content-Length: 5\r\n") "hello",
	  REASON_BODY_FRAMING, 400 },
	{ "B14.4", TEST_WITH("Content-Length: 0\r\n"), REASON_NONE, 0 },
	{ "B17.1", TEST_WITH("Connection: Connection\r\nProxy-Connection: "
	  "Proxy-Connection, Connection, keep-alive\r\n"), REASON_NONE, 0 },
};


/* http_parse_head, then allow_parse_target, then allow_match. */
static enum reason
test_pipeline(const char *buf, size_t len)
{
	static const struct http_limits	 lim = { 16384, 100 };
	const struct allow_rule		*rule;
	struct http_request		 req;
	struct target			 t;
	enum reason			 r;

	switch (http_parse_head(buf, len, &lim, &req)) {
	case HTTP_PARSE_ERROR:
		return req.error;
	case HTTP_PARSE_MORE:
		return REASON_COUNT;
	default:
		break;
	}
	r = allow_parse_target(req.target.ptr, req.target.len, &t);
	if (r != REASON_NONE)
		return r;
	return allow_match(&test_list, &t, "alice", &rule);
}


/* B16.1 and B16.2: the long names, whole requests. */
static enum reason
test_pipeline_long_host(size_t labels, size_t label_len)
{
	char	buf[1024];
	size_t	i, n;

	n = (size_t)snprintf(buf, sizeof(buf), "CONNECT ");
	for (i = 0; i < labels; i++) {
		memset(buf + n, 'a', label_len);
		n += label_len;
		buf[n++] = '.';
	}
	n += (size_t)snprintf(buf + n, sizeof(buf) - n, "svc.allowed.example"
	    ":443 HTTP/1.1\r\nHost: x\r\n%s\r\n", TEST_AUTH);
	return test_pipeline(buf, n);
}


static void
test_cases_pipeline(void)
{
	const struct test_case	*c;
	enum reason		 got;
	size_t			 i;

	for (i = 0; i < sizeof(test_cases) / sizeof(test_cases[0]); i++) {
		c = &test_cases[i];
		got = test_pipeline(c->req, strlen(c->req));
		if (got != c->want)
			fprintf(stderr, "\n%s: got %s, want %s\n", c->id,
			    reason_word(got), reason_word(c->want));
		CU_ASSERT_EQUAL(got, c->want);
		CU_ASSERT_EQUAL(reason_status(got), c->status);
	}
	CU_ASSERT_EQUAL(test_pipeline_long_host(1, 300), REASON_HOST_TOO_LONG);
	CU_ASSERT_EQUAL(test_pipeline_long_host(4, 63), REASON_HOST_TOO_LONG);
	CU_ASSERT_EQUAL(reason_status(REASON_HOST_TOO_LONG), 400);
}


int
test_allowlist_add(void)
{
	CU_pSuite	s;

	s = CU_add_suite("allowlist", test_allow_init, test_allow_cleanup);
	if (s == NULL)
		return -1;
#define ADD(f) if (CU_add_test(s, #f, f) == NULL) return -1
	ADD(test_b02_trailing_dot);
	ADD(test_b03_case_folded);
	ADD(test_b05_never_decoded);
	ADD(test_b06_ipv6_literals);
	ADD(test_b08_numeric_hosts);
	ADD(test_b09_port_wraps);
	ADD(test_b10_userinfo);
	ADD(test_b16_host_too_long);
	ADD(test_allow_ldh);
	ADD(test_allow_wildcard_boundary);
	ADD(test_allow_users);
	ADD(test_allow_groups);
	ADD(test_allow_empty_list);
	ADD(test_allow_normalise);
	ADD(test_allow_free_all);
	ADD(test_cases_pipeline);
#undef ADD
	return 0;
}
