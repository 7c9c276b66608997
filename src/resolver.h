/*
 * resolver: asynchronous A and AAAA lookups through libevent's evdns.
 *
 * Names are resolved as absolute names: no search list, no ndots games,
 * never a numeric parse (the caller hands in only names that
 * allow_parse_target classed HOST_NAME).  The hosts file is read only
 * when the config names one.  A resolver lives as long as a query or the
 * daemon holds it, so a reload that changes name servers never fails
 * lookups in flight.
 */
#ifndef EGRESSD_RESOLVER_H
#define EGRESSD_RESOLVER_H

#include <sys/socket.h>

#include <stddef.h>

#include <event2/event.h>
#include <event2/util.h>

#include "config.h"
#include "reason.h"

struct resolver;
struct resolver_query;

/* Addresses kept per query (A and AAAA together); more are ignored. */
#define RESOLVER_MAX_ADDRS	64

/*
 * Called once per query that was not cancelled: err is REASON_NONE with
 * n addresses (port 0) in addrs, valid during the call only; or
 * DNS_ERROR with n == 0, and then kind says what failed, for the log:
 * "NXDOMAIN" (no such name), "NODATA" (the name has no A or AAAA),
 * "SERVFAIL", "REFUSED", "TRUNCATED" (an answer too large for UDP;
 * evdns does not retry over TCP) or "FAIL" (anything else).  A server
 * that does not answer is the caller's deadline to catch.
 */
typedef void	(*resolver_cb)(void *arg, enum reason err, const char *kind,
		    const struct sockaddr_storage *addrs, size_t n);

/* A resolver for c; NULL with a message in err. */
struct resolver	*resolver_new(struct event_base *base,
		    const struct config *c, char *err, size_t errsize);
/* Take a reference (a session keeps the resolver it started with). */
struct resolver	*resolver_ref(struct resolver *);
/* Drop a reference; freed when no reference or query holds it. */
void		 resolver_release(struct resolver *);
/*
 * Start a lookup.  The callback may run before this returns (a hosts
 * file hit); then the return value is NULL.  Otherwise the query is
 * returned for resolver_cancel.
 */
struct resolver_query *resolver_query(struct resolver *, const char *name,
		    resolver_cb cb, void *arg);
/* Stop a query; its callback will not run. */
void		 resolver_cancel(struct resolver_query *);

#endif
