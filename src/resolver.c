/*
 * resolver: evdns wrapper (see resolver.h).
 *
 * A query asks evdns for A and AAAA at once, as an absolute name (no
 * search list), and answers when both are in.  evdns's own getaddrinfo
 * would do the same but folds every failure but NXDOMAIN into one; the
 * lower-level calls used here give the response code, so the access log
 * can say NXDOMAIN, NODATA, SERVFAIL, REFUSED, TRUNCATED or TIMEOUT.
 * resolver.hosts_file is read here for the same reason (those calls do
 * not consult it): an entry answers at once and no query is sent.
 *
 * evdns may run a callback from inside the call that starts or cancels
 * a request; the heap query absorbs that: cancelling clears its caller's
 * callback, and the query is freed only when both of evdns's callbacks
 * have come.
 */
#include <sys/socket.h>

#include <netinet/in.h>
#include <arpa/inet.h>

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/dns.h>

#include "log.h"
#include "resolver.h"

/* A hosts-file name and one of its addresses; sorted by name. */
struct resolver_host {
	char			*name;
	struct sockaddr_storage	 addr;
};

/* Once one half has addresses, how long the other may still take. */
#define RESOLVER_GRACE_MS	500

struct resolver {
	struct event_base	*base;
	struct evdns_base	*dns;
	int			 refs;
	struct resolver_host	*hosts;
	size_t			 nhosts, hosts_size;
};

/* What one of the two lookups (A, AAAA) gave. */
struct resolver_half {
	struct evdns_request	*req;
	bool			 done;
	int			 result;	/* DNS_ERR_* */
};

struct resolver_query {
	struct resolver		*res;
	struct resolver_half	 half[2];	/* A, AAAA */
	resolver_cb		 cb;		/* NULL: answered, cancelled */
	void			*arg;
	int			 hold;		/* inside start or cancel */
	struct event		*grace;		/* the other half's time */
	struct sockaddr_storage	 addrs[RESOLVER_MAX_ADDRS];
	size_t			 naddrs;
};


static void
resolver_unref(struct resolver *r)
{
	if (--r->refs > 0)
		return;
	evdns_base_free(r->dns, 1);
	while (r->nhosts > 0)
		free(r->hosts[--r->nhosts].name);
	free(r->hosts);
	free(r);
}


/* Lower case, one trailing dot dropped: as the session's host. */
static void
resolver_canon(char *name)
{
	size_t	 n = strlen(name);

	for (; *name != '\0'; name++)
		*name = (char)tolower((unsigned char)*name);
	if (n > 0 && name[-1] == '.')
		name[-1] = '\0';
}


static int
resolver_parse_addr(const char *s, struct sockaddr_storage *ss)
{
	struct sockaddr_in	*sin = (struct sockaddr_in *)ss;
	struct sockaddr_in6	*sin6 = (struct sockaddr_in6 *)ss;

	memset(ss, 0, sizeof(*ss));
	if (inet_pton(AF_INET, s, &sin->sin_addr) == 1) {
		sin->sin_family = AF_INET;
		return 0;
	}
	if (inet_pton(AF_INET6, s, &sin6->sin6_addr) == 1) {
		sin6->sin6_family = AF_INET6;
		return 0;
	}
	return -1;
}


static int
resolver_host_cmp(const void *a, const void *b)
{
	const struct resolver_host *x = a, *y = b;

	return strcmp(x->name, y->name);
}


/* Add name -> ss to the (not yet sorted) table. */
static int
resolver_add_host(struct resolver *r, const char *name,
    const struct sockaddr_storage *ss)
{
	struct resolver_host	*h;
	size_t			 size;

	if (r->nhosts == r->hosts_size) {
		size = r->hosts_size ? 2 * r->hosts_size : 16;
		if ((h = reallocarray(r->hosts, size, sizeof(*h))) == NULL)
			return -1;
		r->hosts = h;
		r->hosts_size = size;
	}
	h = &r->hosts[r->nhosts];
	if ((h->name = strdup(name)) == NULL)
		return -1;
	resolver_canon(h->name);
	h->addr = *ss;
	r->nhosts++;
	return 0;
}


/*
 * Read a hosts file: "address name [name ...]" a line, '#' starts a
 * comment, lines whose first word is no numeric address are skipped
 * (as the C library does).  Lines are read whole, however long.
 */
static int
resolver_load_hosts(struct resolver *r, const char *path)
{
	FILE			*f;
	char			*line = NULL, *p, *word, *save;
	size_t			 cap = 0;
	struct sockaddr_storage	 ss;
	int			 rc = 0;

	if ((f = fopen(path, "re")) == NULL)
		return -1;
	while (rc == 0 && getline(&line, &cap, f) != -1) {
		if ((p = strchr(line, '#')) != NULL)
			*p = '\0';
		if ((word = strtok_r(line, " \t\r\n", &save)) == NULL ||
		    resolver_parse_addr(word, &ss) == -1)
			continue;
		while (rc == 0 &&
		    (word = strtok_r(NULL, " \t\r\n", &save)) != NULL)
			if (strlen(word) < 256)
				rc = resolver_add_host(r, word, &ss);
	}
	if (ferror(f))		/* a directory, an I/O error */
		rc = -1;
	free(line);
	fclose(f);
	if (r->nhosts > 1)
		qsort(r->hosts, r->nhosts, sizeof(*r->hosts),
		    resolver_host_cmp);
	return rc;
}


static int
resolver_setup(struct resolver *r, const struct config *c, char *err,
    size_t errsize)
{
	char	 buf[32];
	size_t	 i;

	for (i = 0; i < c->nnameservers; i++) {
		if (evdns_base_nameserver_ip_add(r->dns, c->nameservers[i])
		    != 0) {
			snprintf(err, errsize, "resolver: name server '%s' "
			    "is not ip[:port]", c->nameservers[i]);
			return -1;
		}
	}
	if (c->nnameservers == 0 && evdns_base_resolv_conf_parse(r->dns,
	    DNS_OPTION_NAMESERVERS | DNS_OPTION_MISC, "/etc/resolv.conf")
	    != 0)
		log_warnx("resolver: /etc/resolv.conf: unreadable, using "
		    "127.0.0.1");
	/* Absolute names only: a search list could turn an allowed name
	 * into an internal one (queries also say DNS_QUERY_NO_SEARCH). */
	evdns_base_search_clear(r->dns);
	evdns_base_set_option(r->dns, "ndots:", "0");
	/* 3 x timeout/2: the session's deadline comes first (see
	 * resolver_kind) */
	snprintf(buf, sizeof(buf), "%.3f", c->dns_timeout_s / 2);
	evdns_base_set_option(r->dns, "timeout:", buf);
	evdns_base_set_option(r->dns, "attempts:", "3");
	if (c->hosts_file != NULL &&
	    resolver_load_hosts(r, c->hosts_file) == -1) {
		snprintf(err, errsize, "resolver: %s: cannot read hosts file",
		    c->hosts_file);
		return -1;
	}
	return 0;
}


struct resolver *
resolver_new(struct event_base *base, const struct config *c, char *err,
    size_t errsize)
{
	struct resolver	*r;

	if ((r = calloc(1, sizeof(*r))) == NULL) {
		snprintf(err, errsize, "resolver: out of memory");
		return NULL;
	}
	r->refs = 1;
	r->base = base;
	if ((r->dns = evdns_base_new(base, 0)) == NULL) {
		snprintf(err, errsize, "resolver: evdns_base_new failed");
		free(r);
		return NULL;
	}
	if (resolver_setup(r, c, err, errsize) == -1) {
		resolver_unref(r);
		return NULL;
	}
	return r;
}


struct resolver *
resolver_ref(struct resolver *r)
{
	r->refs++;
	return r;
}


void
resolver_release(struct resolver *r)
{
	if (r != NULL)
		resolver_unref(r);
}


/*
 * Both halves in, nothing found: the failure as the log word.  evdns
 * takes a SERVFAIL as "let the request time out": after its retries it
 * reports DNS_ERR_TIMEOUT, quickly.  A server that does not answer at
 * all is caught by the session's own deadline (resolver.timeout), which
 * evdns's retries are set to outlast, so a timeout from evdns means the
 * server failed.  A name both halves call non-existent is NXDOMAIN; no
 * data (or no name) on both, NODATA.
 */
static const char *
resolver_kind(const struct resolver_query *q)
{
	int	 a = q->half[0].result, b = q->half[1].result;

	if (a == DNS_ERR_NOTEXIST && b == DNS_ERR_NOTEXIST)
		return "NXDOMAIN";
	if ((a == DNS_ERR_NODATA || a == DNS_ERR_NONE || a == DNS_ERR_NOTEXIST)
	    && (b == DNS_ERR_NODATA || b == DNS_ERR_NONE ||
	    b == DNS_ERR_NOTEXIST))
		return "NODATA";
	if (a == DNS_ERR_SERVERFAILED || b == DNS_ERR_SERVERFAILED ||
	    a == DNS_ERR_TIMEOUT || b == DNS_ERR_TIMEOUT)
		return "SERVFAIL";
	if (a == DNS_ERR_REFUSED || b == DNS_ERR_REFUSED)
		return "REFUSED";
	if (a == DNS_ERR_TRUNCATED || b == DNS_ERR_TRUNCATED)
		return "TRUNCATED";
	return "FAIL";
}


/* Hand the answer to the caller, once, with what is in. */
static void
resolver_deliver(struct resolver_query *q)
{
	enum reason	 why = REASON_NONE;
	const char	*kind = NULL;
	resolver_cb	 cb = q->cb;

	if (cb == NULL)
		return;
	q->cb = NULL;
	if (q->naddrs == 0) {
		why = REASON_DNS_ERROR;
		kind = resolver_kind(q);
	}
	cb(q->arg, why, kind, q->addrs, q->naddrs);
}


/* Both halves in (and no start or cancel under way): answer, free. */
static void
resolver_finish(struct resolver_query *q)
{
	if (q->hold > 0 || !q->half[0].done || !q->half[1].done)
		return;
	resolver_deliver(q);
	if (q->grace != NULL)
		event_free(q->grace);
	resolver_unref(q->res);
	free(q);
}


/* Stop the halves still asked; their callbacks finish the query. */
static void
resolver_stop(struct resolver_query *q)
{
	int	 i;

	q->hold++;
	if (q->grace != NULL)
		event_del(q->grace);
	for (i = 0; i < 2; i++)
		if (!q->half[i].done && q->half[i].req != NULL)
			evdns_cancel_request(q->res->dns, q->half[i].req);
	q->hold--;
	resolver_finish(q);	/* frees it if both halves are in */
}


/*
 * One half has addresses and the other is late (a server that drops
 * AAAA queries, say): answer with what is in, as evdns's getaddrinfo
 * and RFC 8305's resolution delay do, instead of failing at the
 * deadline.
 */
static void
resolver_on_grace(evutil_socket_t fd, short what, void *arg)
{
	struct resolver_query	*q = arg;

	(void)fd;
	(void)what;
	q->hold++;
	resolver_deliver(q);
	q->hold--;
	resolver_stop(q);
}


/* An address already in the answer (servers repeat records). */
static bool
resolver_seen(const struct resolver_query *q,
    const struct sockaddr_storage *ss)
{
	size_t	 i;

	for (i = 0; i < q->naddrs; i++)
		if (q->addrs[i].ss_family == ss->ss_family &&
		    memcmp(&q->addrs[i], ss, sizeof(*ss)) == 0)
			return true;
	return false;
}


static void
resolver_on_answer(int result, char type, int count, int ttl,
    void *addresses, void *arg, int i)
{
	struct resolver_query	*q = arg;
	struct sockaddr_storage	*ss;
	int			 k;

	(void)ttl;
	q->half[i].done = true;
	q->half[i].req = NULL;
	q->half[i].result = result;
	for (k = 0; result == DNS_ERR_NONE && k < count &&
	    q->naddrs < RESOLVER_MAX_ADDRS; k++) {
		ss = &q->addrs[q->naddrs];
		memset(ss, 0, sizeof(*ss));
		if (type == DNS_IPv4_A) {
			ss->ss_family = AF_INET;
			memcpy(&((struct sockaddr_in *)ss)->sin_addr,
			    (char *)addresses + 4 * k, 4);
		} else if (type == DNS_IPv6_AAAA) {
			ss->ss_family = AF_INET6;
			memcpy(&((struct sockaddr_in6 *)ss)->sin6_addr,
			    (char *)addresses + 16 * k, 16);
		} else
			break;
		if (!resolver_seen(q, ss))
			q->naddrs++;
	}
	if (q->naddrs > 0 && !q->half[1 - i].done && q->cb != NULL &&
	    q->grace == NULL &&
	    (q->grace = evtimer_new(q->res->base, resolver_on_grace, q))
	    != NULL) {
		struct timeval	 tv = { 0, RESOLVER_GRACE_MS * 1000 };

		evtimer_add(q->grace, &tv);
	}
	resolver_finish(q);
}


static void
resolver_on_a(int result, char type, int count, int ttl, void *addresses,
    void *arg)
{
	resolver_on_answer(result, type, count, ttl, addresses, arg, 0);
}


static void
resolver_on_aaaa(int result, char type, int count, int ttl,
    void *addresses, void *arg)
{
	resolver_on_answer(result, type, count, ttl, addresses, arg, 1);
}


/* The hosts file's addresses for name; 0 when it has none. */
static size_t
resolver_from_hosts(struct resolver *r, const char *name,
    struct sockaddr_storage *out)
{
	struct resolver_host	 key, *h;
	char			 canon[256];
	size_t			 n = 0;

	if (r->nhosts == 0 || strlen(name) >= sizeof(canon))
		return 0;
	snprintf(canon, sizeof(canon), "%s", name);
	resolver_canon(canon);
	key.name = canon;
	if ((h = bsearch(&key, r->hosts, r->nhosts, sizeof(*h),
	    resolver_host_cmp)) == NULL)
		return 0;
	while (h > r->hosts && strcmp(h[-1].name, canon) == 0)
		h--;
	for (; h < r->hosts + r->nhosts && strcmp(h->name, canon) == 0 &&
	    n < RESOLVER_MAX_ADDRS; h++)
		out[n++] = h->addr;
	return n;
}


struct resolver_query *
resolver_query(struct resolver *r, const char *name, resolver_cb cb,
    void *arg)
{
	struct resolver_query	*q;
	struct evdns_request	*req;

	if ((q = calloc(1, sizeof(*q))) == NULL) {
		cb(arg, REASON_INTERNAL_ERROR, NULL, NULL, 0);
		return NULL;
	}
	if ((q->naddrs = resolver_from_hosts(r, name, q->addrs)) > 0) {
		cb(arg, REASON_NONE, NULL, q->addrs, q->naddrs);
		free(q);
		return NULL;
	}
	q->res = r;
	q->cb = cb;
	q->arg = arg;
	r->refs++;
	/* evdns may answer (or fail) from inside either start: hold */
	q->hold = 1;
	req = evdns_base_resolve_ipv4(r->dns, name, DNS_QUERY_NO_SEARCH,
	    resolver_on_a, q);
	if (!q->half[0].done)
		q->half[0].req = req;
	if (req == NULL && !q->half[0].done) {
		q->half[0].done = true;
		q->half[0].result = DNS_ERR_UNKNOWN;
	}
	req = evdns_base_resolve_ipv6(r->dns, name, DNS_QUERY_NO_SEARCH,
	    resolver_on_aaaa, q);
	if (!q->half[1].done)
		q->half[1].req = req;
	if (req == NULL && !q->half[1].done) {
		q->half[1].done = true;
		q->half[1].result = DNS_ERR_UNKNOWN;
	}
	q->hold = 0;
	if (q->half[0].done && q->half[1].done) {
		resolver_finish(q);	/* answers and frees */
		return NULL;
	}
	return q;
}


void
resolver_cancel(struct resolver_query *q)
{
	if (q == NULL)
		return;
	q->cb = NULL;
	resolver_stop(q);
}
