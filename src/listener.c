/*
 * listener: sockets, TLS contexts and accept (see listener.h).
 */
#include <sys/socket.h>
#include <sys/types.h>

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <ifaddrs.h>
#include <netdb.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/event.h>
#include <event2/listener.h>
#include <openssl/err.h>
#include <openssl/ssl.h>

#include "listener.h"
#include "log.h"
#include "server.h"
#include "session.h"

#define LISTENER_BACKLOG	1024
#define LISTENER_PAUSE_MS	100

static int	listener_reserve_fd = -1;


static void
listener_ssl_errors(const char *what)
{
	unsigned long	 e;
	char		 buf[256];

	while ((e = ERR_get_error()) != 0) {
		ERR_error_string_n(e, buf, sizeof(buf));
		log_warnx("listener: %s: %s", what, buf);
	}
}


static SSL_CTX *
listener_ssl_ctx(const struct listen_cfg *lc)
{
	SSL_CTX	*ctx;

	if ((ctx = SSL_CTX_new(TLS_server_method())) == NULL)
		goto fail;
	SSL_CTX_set_min_proto_version(ctx, TLS1_2_VERSION);
	SSL_CTX_set_options(ctx, SSL_OP_NO_RENEGOTIATION |
	    SSL_OP_CIPHER_SERVER_PREFERENCE | SSL_OP_NO_COMPRESSION);
	if (SSL_CTX_set_cipher_list(ctx, "ECDHE+AESGCM:ECDHE+CHACHA20") != 1)
		goto fail;
	if (SSL_CTX_use_certificate_chain_file(ctx, lc->certificate) != 1) {
		log_warnx("listener: %s: cannot load certificate",
		    lc->certificate);
		goto fail;
	}
	if (SSL_CTX_use_PrivateKey_file(ctx, lc->key, SSL_FILETYPE_PEM) != 1 ||
	    SSL_CTX_check_private_key(ctx) != 1) {
		log_warnx("listener: %s: cannot load key or it does not match",
		    lc->key);
		goto fail;
	}
	if (lc->client_ca != NULL) {
		if (SSL_CTX_load_verify_locations(ctx, lc->client_ca, NULL)
		    != 1) {
			log_warnx("listener: %s: cannot load client CA",
			    lc->client_ca);
			goto fail;
		}
		/* Ask for a certificate; Basic stays possible without one. */
		SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
		SSL_CTX_set_client_CA_list(ctx,
		    SSL_load_client_CA_file(lc->client_ca));
	}
	return ctx;
 fail:
	listener_ssl_errors(lc->certificate ? lc->certificate : "tls");
	SSL_CTX_free(ctx);
	return NULL;
}


static void
listener_on_accept(struct evconnlistener *evl, evutil_socket_t fd,
    struct sockaddr *sa, int salen, void *arg)
{
	(void)evl;
	session_accept(arg, fd, sa, salen);
}


static void
listener_on_resume(evutil_socket_t fd, short what, void *arg)
{
	struct listener	*l = arg;

	(void)fd;
	(void)what;
	if (!server.draining && l->evl != NULL)
		evconnlistener_enable(l->evl);
}


/*
 * EMFILE/ENFILE: the waiting connection stays queued and the listener
 * would wake at once, forever.  Give back the reserved descriptor,
 * accept and close one connection, and pause the listener briefly.
 */
static void
listener_on_error(struct evconnlistener *evl, void *arg)
{
	struct listener	*l = arg;
	int		 err = EVUTIL_SOCKET_ERROR(), fd;
	struct timeval	 tv = { 0, LISTENER_PAUSE_MS * 1000 };

	if (err != EMFILE && err != ENFILE && err != ENOBUFS &&
	    err != ENOMEM) {
		log_limited(&server.limit_accept, "listener: %s: accept: %s",
		    l->name, strerror(err));
		return;
	}
	log_limited(&server.limit_accept, "listener: %s: descriptor limit "
	    "reached (%s): pausing accept", l->name, strerror(err));
	if (listener_reserve_fd != -1) {
		close(listener_reserve_fd);
		fd = accept(evconnlistener_get_fd(evl), NULL, NULL);
		if (fd != -1)
			close(fd);
		listener_reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	}
	evconnlistener_disable(evl);
	evtimer_add(l->resume_ev, &tv);
}


static int
listener_bind(const struct listen_cfg *lc, struct sockaddr_storage *ss,
    socklen_t *len)
{
	struct addrinfo	 hints, *ai;
	char		 port[8];
	int		 rc;

	memset(&hints, 0, sizeof(hints));
	hints.ai_flags = AI_NUMERICHOST | AI_NUMERICSERV | AI_PASSIVE;
	hints.ai_socktype = SOCK_STREAM;
	snprintf(port, sizeof(port), "%u", lc->port);
	if ((rc = getaddrinfo(lc->address, port, &hints, &ai)) != 0) {
		log_warnx("listener: %s: not a numeric address: %s",
		    lc->address, gai_strerror(rc));
		return -1;
	}
	memcpy(ss, ai->ai_addr, ai->ai_addrlen);
	*len = ai->ai_addrlen;
	freeaddrinfo(ai);
	return 0;
}


static int
listener_open(const struct listen_cfg *lc, struct listener *l)
{
	socklen_t	 len;
	int		 fd, on = 1;
	char		 host[NI_MAXHOST], serv[NI_MAXSERV];

	if (listener_bind(lc, &l->ss, &len) == -1)
		return -1;
	if (lc->tls && (l->ssl = listener_ssl_ctx(lc)) == NULL)
		return -1;
	l->client_certs = lc->client_ca != NULL;
	fd = socket(l->ss.ss_family, SOCK_STREAM | SOCK_NONBLOCK |
	    SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &on, sizeof(on));
	if (l->ss.ss_family == AF_INET6)
		setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &on, sizeof(on));
	if (bind(fd, (struct sockaddr *)&l->ss, len) == -1) {
		log_warn("listener: %s port %u: bind", lc->address, lc->port);
		close(fd);
		return -1;
	}
	len = sizeof(l->ss);
	getsockname(fd, (struct sockaddr *)&l->ss, &len);
	getnameinfo((struct sockaddr *)&l->ss, len, host, sizeof(host), serv,
	    sizeof(serv), NI_NUMERICHOST | NI_NUMERICSERV);
	snprintf(l->name, sizeof(l->name), l->ss.ss_family == AF_INET6 ?
	    "[%s]:%s" : "%s:%s", host, serv);
	l->evl = evconnlistener_new(server.base, listener_on_accept, l,
	    LEV_OPT_CLOSE_ON_FREE | LEV_OPT_CLOSE_ON_EXEC, LISTENER_BACKLOG,
	    fd);
	if (l->evl == NULL) {
		close(fd);
		return -1;
	}
	evconnlistener_set_error_cb(l->evl, listener_on_error);
	l->resume_ev = evtimer_new(server.base, listener_on_resume, l);
	log_info("listener: listening on %s%s", l->name,
	    l->ssl ? " (tls)" : "");
	return 0;
}


/* This host's addresses, for the loop check. */
static void
listener_local_addrs(void)
{
	struct ifaddrs	*ifa, *p;
	char		 buf[INET6_ADDRSTRLEN];
	struct in6_addr	 a;

	if (getifaddrs(&ifa) == -1)
		return;
	for (p = ifa; p != NULL; p = p->ifa_next) {
		if (p->ifa_addr == NULL || netset_from_sockaddr(p->ifa_addr,
		    &a) == -1)
			continue;
		netset_ntop(&a, buf, sizeof(buf));
		netset_add(&server.local_addrs, buf);
	}
	freeifaddrs(ifa);
}


int
listener_open_all(const struct config *c)
{
	size_t	 i;

	if ((server.listeners = calloc(c->nlisten, sizeof(void *))) == NULL)
		return -1;
	listener_local_addrs();
	listener_reserve_fd = open("/dev/null", O_RDONLY | O_CLOEXEC);
	for (i = 0; i < c->nlisten; i++) {
		struct listener *l = calloc(1, sizeof(*l));

		if (l == NULL)
			return -1;
		server.listeners[server.nlisteners++] = l;
		if (listener_open(&c->listen[i], l) == -1)
			return -1;
	}
	return 0;
}


int
listener_reload_tls(const struct config *c)
{
	size_t	 i;
	SSL_CTX	*ctx;

	for (i = 0; i < server.nlisteners && i < c->nlisten; i++) {
		if (!c->listen[i].tls || server.listeners[i]->ssl == NULL)
			continue;
		if ((ctx = listener_ssl_ctx(&c->listen[i])) == NULL)
			return -1;
		/* sessions hold their own SSL, which refs the old ctx */
		SSL_CTX_free(server.listeners[i]->ssl);
		server.listeners[i]->ssl = ctx;
		server.listeners[i]->client_certs =
		    c->listen[i].client_ca != NULL;
	}
	return 0;
}


void
listener_close_all(void)
{
	size_t	 i;

	/*
	 * Close the sockets, not only stop accepting: a client that comes
	 * during the drain is refused at once by the kernel instead of
	 * waiting in a backlog nobody reads, unanswered and unlogged.
	 */
	for (i = 0; i < server.nlisteners; i++) {
		struct listener *l = server.listeners[i];

		if (l->resume_ev != NULL)
			evtimer_del(l->resume_ev);
		if (l->evl != NULL)
			evconnlistener_free(l->evl);
		l->evl = NULL;
	}
}


bool
listener_is_self(const struct in6_addr *a, uint16_t port)
{
	struct in6_addr	 la;
	size_t		 i;
	bool		 wildcard;

	for (i = 0; i < server.nlisteners; i++) {
		struct listener *l = server.listeners[i];
		uint16_t lport = ntohs(l->ss.ss_family == AF_INET ?
		    ((struct sockaddr_in *)&l->ss)->sin_port :
		    ((struct sockaddr_in6 *)&l->ss)->sin6_port);

		if (lport != port || netset_from_sockaddr((struct sockaddr *)
		    &l->ss, &la) == -1)
			continue;
		wildcard = IN6_IS_ADDR_UNSPECIFIED(&la) ||
		    (IN6_IS_ADDR_V4MAPPED(&la) && la.s6_addr32[3] == 0);
		if (memcmp(&la, a, sizeof(la)) == 0)
			return true;
		if (wildcard && (netset_contains(&server.local_addrs, a) ||
		    netset_special(a) != NULL))
			return true;
	}
	return false;
}
