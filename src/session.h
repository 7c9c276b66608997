/*
 * session: one client connection from accept to its single access
 * record.
 *
 * Phases run in order: gate (address, limits, country), TLS handshake
 * on a TLS listener, request head, authentication, policy, resolution,
 * destination checks, connect, in-tunnel protocol check, relay.  Every
 * way out goes through session_close(s, reason), the only place that
 * answers an error, writes the access record and frees.
 */
#ifndef EGRESSD_SESSION_H
#define EGRESSD_SESSION_H

#include <sys/queue.h>
#include <sys/socket.h>

#include <stdbool.h>
#include <stdint.h>

#include <event2/bufferevent.h>
#include <event2/event.h>

#include "accesslog.h"
#include "allowlist.h"
#include "authbasic.h"
#include "reason.h"

struct listener;
struct rl_entry;

enum phase {
	PHASE_TLS,
	PHASE_HEAD,
	PHASE_AUTH,
	PHASE_DNS,
	PHASE_CONNECT,
	PHASE_CHECK,
	PHASE_TUNNEL,
	PHASE_CLOSING
};

#define SESSION_MAX_ADDRS	16

struct session {
	TAILQ_ENTRY(session)	 entry;
	uint64_t		 id;
	enum phase		 phase;
	struct config		*cfg;
	struct resolver		*resolver;
	struct geo_db		*geo;
	struct listener		*listener;
	struct bufferevent	*client;
	struct bufferevent	*upstream;
	struct event		*timer;		/* phase deadline, idle */
	/* plain sockets in a tunnel: reads done by tunnel.c, not libevent */
	struct event		*pull_client, *pull_upstream;
	struct resolver_query	*dns;
	struct auth_job		*auth_job;
	struct rl_entry		*rl;		/* holds one active count */
	struct rl_entry		*user_rl;	/* per user: one active count */
	bool			 client_tls;

	struct sockaddr_storage	 peer;
	struct in6_addr		 peer_addr;
	char			 peer_ip[46];
	uint16_t		 peer_port;
	char			 peer_cc[3];

	uint64_t		 start_ms;	/* monotonic */
	int64_t			 start_unix_ms;
	uint64_t		 phase_ms;	/* start of DNS, connect */
	uint64_t		 last_io_ms;

	size_t			 head_scanned;	/* bytes seen with no LF */
	char			*method;
	size_t			 method_len;
	char			*target_raw;
	size_t			 target_len;
	struct target		 target;
	bool			 have_target;
	const struct allow_rule	*rule;
	char			 user[AUTH_USER_MAX + 1];
	const char		*auth_result;
	bool			 auth_source_refused; /* from= */

	struct sockaddr_storage	 addrs[SESSION_MAX_ADDRS];
	unsigned		 naddrs, next_addr;
	bool			 any_refused;
	unsigned		 dns_answers, dns_discarded;
	char			 discard_why[64];
	char			 dest_ip[46];
	char			 dest_cc[3];
	uint64_t		 dns_ms, connect_ms;
	const char		*dns_error;	/* NXDOMAIN, TIMEOUT, ... */
	char			*sni;
	const char		*check;

	bool			 answered;	/* a status line was sent */
	bool			 linger_eof;	/* EOF as the answer drained */
	int			 status;
	bool			 client_eof, upstream_eof;
	bool			 client_shut, upstream_shut;
	uint64_t		 bytes_out, bytes_in;
	enum reason		 reason;
	unsigned		 retry_after_s;
};

/* A new session on an accepted socket (takes fd). */
void	session_accept(struct listener *l, evutil_socket_t fd,
	    const struct sockaddr *sa, int salen);
/*
 * End s for reason: answer the client if no status was sent and the
 * reason has one, write the access record, release everything.
 */
void	session_close(struct session *s, enum reason reason);
/* Close every session whose user is no longer valid in server.users. */
void	session_revoke_users(void);
/* Close every session (shutdown). */
void	session_close_all(enum reason reason);

/*
 * Dial the next kept address (the first, at the start); with
 * limits.delay_connect on a checked rule, the first call answers 200 and
 * runs the protocol check instead, and the check calls it again.
 */
void	session_connect_next(struct session *s);

/* tunnel.c: the relay and the in-tunnel protocol check. */
/* Upstream connected: answer 200 (unless sent already), start relaying. */
void	tunnel_start(struct session *s);
/* delay_connect: answer 200 and check before any upstream exists. */
void	tunnel_delay(struct session *s);
void	tunnel_on_event(struct bufferevent *bev, short what, void *arg);
/* Stop and free the tunnel's own read events (close path; idempotent). */
void	tunnel_release(struct session *s);

#endif
