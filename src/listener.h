/*
 * listener: listening sockets, the TLS listener context, and accept.
 *
 * Accept failures for lack of descriptors (EMFILE, ENFILE) never spin:
 * a reserved descriptor is released to accept and close the waiting
 * connection, the listener pauses for a moment, and the condition is
 * logged at a bounded rate.
 */
#ifndef EGRESSD_LISTENER_H
#define EGRESSD_LISTENER_H

#include <stdbool.h>

#include <openssl/ssl.h>

#include "config.h"

struct listener {
	struct evconnlistener	*evl;
	struct event		*resume_ev;
	SSL_CTX			*ssl;		/* NULL: plain */
	bool			 client_certs;
	char			 name[64];	/* "addr:port" */
	struct sockaddr_storage	 ss;
};

/* Open every listener of c on server.base.  0 or -1 (logged). */
int	listener_open_all(const struct config *c);
/* Rebuild TLS contexts from c after a reload (keeps sockets). */
int	listener_reload_tls(const struct config *c);
/* Stop accepting and close the listening sockets (drain). */
void	listener_close_all(void);
/* Is addr:port one of ours (a tunnel to it would loop)? */
bool	listener_is_self(const struct in6_addr *a, uint16_t port);

#endif
