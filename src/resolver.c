/*
 * resolver: evdns wrapper (see resolver.h).
 *
 * evdns may call a getaddrinfo callback synchronously, from inside
 * evdns_getaddrinfo or evdns_getaddrinfo_cancel; a heap "query" between
 * evdns and the caller absorbs that: cancelling clears its callback, and
 * only evdns's final callback frees it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <event2/dns.h>

#include "log.h"
#include "resolver.h"

struct resolver {
	struct evdns_base	*dns;
	int			 refs;
};

struct resolver_query {
	struct resolver			*res;
	struct evdns_getaddrinfo_request *req;
	resolver_cb			 cb;
	void				*arg;
	int				 done;
};


static void
resolver_unref(struct resolver *r)
{
	if (--r->refs > 0)
		return;
	evdns_base_free(r->dns, 1);
	free(r);
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
	 * into an internal one. */
	evdns_base_search_clear(r->dns);
	evdns_base_set_option(r->dns, "ndots:", "0");
	snprintf(buf, sizeof(buf), "%.3f", c->dns_timeout_s / 2);
	evdns_base_set_option(r->dns, "timeout:", buf);
	evdns_base_set_option(r->dns, "attempts:", "2");
	if (c->hosts_file != NULL &&
	    evdns_base_load_hosts(r->dns, c->hosts_file) != 0) {
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


static void
resolver_on_answer(int result, struct evutil_addrinfo *ai, void *arg)
{
	struct resolver_query	*q = arg;
	enum reason		 why = REASON_DNS_ERROR;
	const char		*kind = "FAIL";

	if (result == 0 && ai != NULL) {
		why = REASON_NONE;
		kind = NULL;
	} else if (result == 0)
		kind = "NODATA";
	else if (result == EVUTIL_EAI_NONAME)
		kind = "NXDOMAIN";
	else if (result == EVUTIL_EAI_AGAIN) {
		why = REASON_DNS_TIMEOUT;
		kind = "TIMEOUT";
	}
	q->done = 1;
	if (q->cb != NULL) {
		q->cb(q->arg, why, kind, why == REASON_NONE ? ai : NULL);
		if (why != REASON_NONE && ai != NULL)
			evutil_freeaddrinfo(ai);
	} else if (ai != NULL)
		evutil_freeaddrinfo(ai);
	resolver_unref(q->res);
	free(q);
}


struct resolver_query *
resolver_query(struct resolver *r, const char *name, resolver_cb cb,
    void *arg)
{
	struct resolver_query		*q;
	struct evutil_addrinfo		 hints;
	struct evdns_getaddrinfo_request *req;

	if ((q = calloc(1, sizeof(*q))) == NULL) {
		cb(arg, REASON_INTERNAL_ERROR, NULL, NULL);
		return NULL;
	}
	q->res = r;
	q->cb = cb;
	q->arg = arg;
	r->refs++;
	memset(&hints, 0, sizeof(hints));
	hints.ai_family = AF_UNSPEC;
	hints.ai_socktype = SOCK_STREAM;
	hints.ai_protocol = IPPROTO_TCP;
	hints.ai_flags = EVUTIL_AI_NUMERICSERV;
	req = evdns_getaddrinfo(r->dns, name, NULL, &hints,
	    resolver_on_answer, q);
	if (req == NULL)
		return NULL;	/* answered (and q freed) already */
	q->req = req;
	return q;
}


void
resolver_cancel(struct resolver_query *q)
{
	if (q == NULL)
		return;
	q->cb = NULL;
	evdns_getaddrinfo_cancel(q->req);
}
