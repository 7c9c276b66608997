/*
 * session: the state machine of one client connection (see session.h).
 *
 * Invariants: a session is on server.sessions from accept until it is
 * freed; session_close runs once (phase CLOSING afterwards) and is the
 * only writer of the access record and of error answers; the bytes that
 * follow the request head stay in the client's input buffer and are
 * relayed first.  Callbacks that may arrive after close (DNS, auth)
 * are cancelled in session_close, so none touches a freed session.
 */
#include <sys/socket.h>

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>
#include <event2/bufferevent_ssl.h>
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>
#include <openssl/x509v3.h>

#include "accesslog.h"
#include "auth.h"
#include "geo.h"
#include "http.h"
#include "listener.h"
#include "resolver.h"
#include "server.h"
#include "session.h"

#define SESSION_LINGER_MS	2000
#define SESSION_HEAD_AUTH_MAX	2048
#define SESSION_TARGET_LOG_MAX	1040	/* 1 KiB of target, redaction mark */

static void	session_on_head(struct bufferevent *, void *);
static void	session_on_event(struct bufferevent *, short, void *);
static void	session_on_timer(evutil_socket_t, short, void *);
static void	session_policy(struct session *);
static void	session_head_cut(struct session *, enum reason);

/* Denials aggregated per source (see rl_agg in ratelimit.h). */
static struct rl_agg	 session_denials;
static struct event	*session_agg_ev;


static void
session_arm(struct session *s, double seconds)
{
	struct timeval	 tv;

	tv.tv_sec = (time_t)seconds;
	tv.tv_usec = (suseconds_t)((seconds - (double)tv.tv_sec) * 1e6);
	evtimer_add(s->timer, &tv);
}


static uint64_t
session_new_id(void)
{
	uint64_t	 z = server.id_key + ++server.next_id *
	    0x9e3779b97f4a7c15ULL;

	/* splitmix64: distinct ids that do not reveal the count */
	z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
	z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
	return z ^ (z >> 31);
}


static void
session_free(struct session *s)
{
	tunnel_release(s);
	if (s->timer != NULL)
		event_free(s->timer);
	if (s->upstream != NULL)
		bufferevent_free(s->upstream);
	if (s->client != NULL)
		bufferevent_free(s->client);
	TAILQ_REMOVE(&server.sessions, s, entry);
	server.nsessions--;
	config_unref(s->cfg);
	resolver_release(s->resolver);
	if (s->geo != NULL)
		geo_unref(s->geo);
	free(s->method);
	free(s->target_raw);
	free(s->sni);
	free(s);
}


/* Denials a flood repeats: aggregated in the access log. */
static bool
session_aggregated(enum reason r)
{
	switch (r) {
	case REASON_RATE_LIMITED:
	case REASON_CLIENT_CONN_LIMIT:
	case REASON_USER_CONN_LIMIT:
	case REASON_USER_RATE_LIMITED:
	case REASON_OVERLOADED:
	case REASON_CLIENT_DENIED:
	case REASON_CLIENT_GEO_DENIED:
	case REASON_AUTH_LOCKED:
		return true;
	default:
		return false;
	}
}


/*
 * Write every aggregated count whose interval has ended (all: every
 * count, at shutdown) as one record with event.count, and re-arm the
 * flush timer while the table holds keys.
 */
static void
session_agg_flush(bool all)
{
	struct access_record	 r;
	struct rl_agg_entry	*e;
	const struct listener	*l;
	char			 ip[46];
	uint64_t		 now = log_now_ms(), interval;
	struct timeval		 tv = { 1, 0 };

	interval = (uint64_t)(server.cfg->log_aggregate_s * 1000);
	while ((e = rl_agg_due(&session_denials, interval, now, all)) != NULL) {
		l = e->tag;
		netset_ntop(&e->addr, ip, sizeof(ip));
		memset(&r, 0, sizeof(r));
		r.session_id = session_new_id();
		r.start_unix_ms = e->first_unix_ms;
		r.reason = (enum reason)e->reason;
		r.status = e->status;
		r.source_ip = ip;
		r.source_port = e->port;
		r.listener = l->name;
		r.auth = "none";
		r.protocol_check = "none";
		r.repeat = e->count;
		accesslog_write(&r);
		rl_agg_written(e, now);
	}
	if (session_agg_ev != NULL && rl_agg_busy(&session_denials) && !all)
		evtimer_add(session_agg_ev, &tv);
}


static void
session_on_agg_timer(evutil_socket_t fd, short what, void *arg)
{
	(void)fd;
	(void)what;
	(void)arg;
	session_agg_flush(false);
}


/*
 * Note one denial.  Returns true when the caller writes its own record,
 * false when it was counted into a later aggregated record.
 */
static bool
session_agg_note(const struct in6_addr *addr, enum reason r, int status,
    uint16_t port, const struct listener *l)
{
	struct timeval	 tv = { 1, 0 };
	bool		 own;

	own = rl_agg_note(&session_denials, addr, (int)r, status, port, l,
	    server_unix_ms(), (uint64_t)(server.cfg->log_aggregate_s * 1000),
	    log_now_ms());
	if (session_agg_ev == NULL)
		session_agg_ev = evtimer_new(server.base, session_on_agg_timer,
		    NULL);
	if (session_agg_ev != NULL && !evtimer_pending(session_agg_ev, NULL))
		evtimer_add(session_agg_ev, &tv);
	return own;
}


static void
session_record(struct session *s)
{
	struct access_record	 r;

	memset(&r, 0, sizeof(r));
	r.session_id = s->id;
	r.start_unix_ms = s->start_unix_ms;
	r.duration_us = (log_now_ms() - s->start_ms) * 1000;
	r.reason = s->reason;
	r.status = s->status;
	/* a tunnel that failed its check or its delayed connect failed */
	r.tunnel = s->status == 200 && reason_status(s->reason) == 0 &&
	    s->check != NULL && strcmp(s->check, "fail") != 0;
	r.source_ip = s->peer_ip;
	r.source_port = s->peer_port;
	r.source_country = s->peer_cc[0] ? s->peer_cc : NULL;
	r.listener = s->listener->name;
	r.user = s->user[0] ? s->user : NULL;
	r.auth = s->auth_result ? s->auth_result : "none";
	r.method = s->method;
	r.method_len = s->method_len;
	r.target = s->target_raw;
	r.target_len = s->target_len;
	r.host = s->have_target ? s->target.host : NULL;
	r.port = s->have_target ? s->target.port : 0;
	r.dest_ip = s->dest_ip[0] ? s->dest_ip : NULL;
	r.dest_country = s->dest_cc[0] ? s->dest_cc : NULL;
	r.dns_answers = s->dns_answers;
	r.dns_error = s->dns_error;
	r.dns_discarded = s->dns_discarded;
	r.dns_discarded_why = s->discard_why[0] ? s->discard_why : NULL;
	r.dns_ms = s->dns_ms;
	r.connect_ms = s->connect_ms;
	r.sni = s->sni;
	r.protocol_check = s->check ? s->check : "none";
	r.bytes_out = s->bytes_out;
	r.bytes_in = s->bytes_in;
	if (session_aggregated(s->reason) && !session_agg_note(&s->peer_addr,
	    s->reason, s->status, s->peer_port, s->listener))
		return;
	accesslog_write(&r);
}


/* Copy the realm for a quoted-string, dropping what cannot go there. */
static void
session_realm(const char *realm, char *out, size_t size)
{
	size_t	 i, n = 0;

	for (i = 0; realm[i] != '\0' && n + 1 < size; i++) {
		unsigned char c = (unsigned char)realm[i];

		out[n++] = (c < 0x20 || c >= 0x7f || c == '"' || c == '\\') ?
		    '_' : (char)c;
	}
	out[n] = '\0';
}


/*
 * The error answer: fixed text, nothing from the request.  All 407s are
 * byte-identical whatever went wrong (RFC 7235 gives no more detail to
 * an unauthenticated client, and a difference would leak which users
 * exist); other answers name the reason in Proxy-Status (RFC 9209).
 */
static void
session_answer(struct session *s, enum reason r)
{
	char		 buf[768], realm[128];
	int		 status = reason_status(r), n;
	const char	*text = reason_status_text(status);
	const char	*ps = reason_proxy_status(r);
	char		 extra[256] = "";
	char		 body[64];
	const char	*rcode = NULL;

	/* RFC 9209 2.3.2: the DNS response code, where evdns told it */
	if (r == REASON_DNS_ERROR && s->dns_error != NULL)
		rcode = strcmp(s->dns_error, "NODATA") == 0 ? "NOERROR" :
		    strcmp(s->dns_error, "NXDOMAIN") == 0 ||
		    strcmp(s->dns_error, "SERVFAIL") == 0 ||
		    strcmp(s->dns_error, "REFUSED") == 0 ? s->dns_error : NULL;

	if (status == 405)
		snprintf(extra, sizeof(extra), "Allow: CONNECT\r\n");
	else if (status == 407) {
		session_realm(s->cfg->realm, realm, sizeof(realm));
		snprintf(extra, sizeof(extra), "Proxy-Authenticate: Basic "
		    "realm=\"%s\", charset=\"UTF-8\"\r\n", realm);
	} else if (status == 429 || status == 503)
		snprintf(extra, sizeof(extra), "Retry-After: %u\r\n",
		    s->retry_after_s ? s->retry_after_s : 1);
	snprintf(body, sizeof(body), "%d %s\n", status, text);
	if (status == 407)
		n = snprintf(buf, sizeof(buf), "HTTP/1.1 %d %s\r\n"
		    "Proxy-Status: egressd; error=%s\r\n", status, text, ps);
	else
		n = snprintf(buf, sizeof(buf), "HTTP/1.1 %d %s\r\n"
		    "Proxy-Status: egressd; error=%s%s%s%s; details=\"%s\"\r\n",
		    status, text, ps ? ps : "proxy_internal_error",
		    rcode ? "; rcode=\"" : "", rcode ? rcode : "",
		    rcode ? "\"" : "", reason_word(r));
	n += snprintf(buf + n, sizeof(buf) - (size_t)n, "%s"
	    "Content-Type: text/plain\r\nContent-Length: %zu\r\n"
	    "Connection: close\r\n\r\n%s", extra, strlen(body), body);
	bufferevent_write(s->client, buf, (size_t)n);
	s->answered = true;
	s->status = status;
}


static void
session_on_linger_read(struct bufferevent *bev, void *arg)
{
	(void)arg;
	evbuffer_drain(bufferevent_get_input(bev),
	    evbuffer_get_length(bufferevent_get_input(bev)));
}


/* The answer is out: stop sending, read until EOF so no RST eats it. */
static void
session_on_linger_write(struct bufferevent *bev, void *arg)
{
	struct session	*s = arg;

	/* TLS has no half-close; a client already at EOF has no more to
	 * read, so closing now sends FIN, not RST */
	if (s->client_tls || s->linger_eof) {
		session_free(s);
		return;
	}
	shutdown(bufferevent_getfd(bev), SHUT_WR);
	bufferevent_setcb(bev, session_on_linger_read, NULL,
	    session_on_event, s);
}


static void
session_release_limits(struct session *s)
{
	if (s->rl != NULL)
		rl_table_release(server.clients, s->rl, log_now_ms());
	s->rl = NULL;
	if (s->user_rl != NULL)
		rl_table_release(server.user_fails, s->user_rl, log_now_ms());
	s->user_rl = NULL;
}


void
session_close(struct session *s, enum reason reason)
{
	bool	 answer, linger;

	if (s->phase == PHASE_CLOSING)
		return;
	/* ended for the daemon's sake before its 200: the client is told */
	if (!s->answered && reason == REASON_SHUTDOWN)
		reason = REASON_SHUTDOWN_EARLY;
	else if (!s->answered && reason == REASON_USER_REVOKED)
		reason = REASON_USER_REVOKED_EARLY;
	answer = !s->answered && reason_status(reason) != 0 &&
	    s->phase != PHASE_TLS;
	/* a 200 sent but nothing relayed (check failed, delayed dial
	 * failed): let the 200 out and end with FIN, not RST */
	linger = answer || (s->answered && (s->phase == PHASE_CHECK ||
	    s->phase == PHASE_CONNECT));
	s->reason = reason;
	/* how long a lookup or dial took that did not finish */
	if (s->phase == PHASE_DNS)
		s->dns_ms = log_now_ms() - s->phase_ms;
	else if (s->phase == PHASE_CONNECT)
		s->connect_ms = log_now_ms() - s->phase_ms;
	s->phase = PHASE_CLOSING;
	tunnel_release(s);
	resolver_cancel(s->dns);
	s->dns = NULL;
	auth_cancel(s->auth_job);
	s->auth_job = NULL;
	if (s->upstream != NULL) {
		bufferevent_free(s->upstream);
		s->upstream = NULL;
	}
	if (answer)
		session_answer(s, reason);
	session_record(s);
	session_release_limits(s);
	if (!linger) {
		session_free(s);
		return;
	}
	bufferevent_setwatermark(s->client, EV_READ, 0, 0);
	bufferevent_setwatermark(s->client, EV_WRITE, 0, 0);
	bufferevent_setcb(s->client, session_on_linger_read,
	    session_on_linger_write, session_on_event, s);
	bufferevent_enable(s->client, EV_READ | EV_WRITE);
	session_arm(s, SESSION_LINGER_MS / 1000.0);
	/* nothing left to write: no write callback will come */
	if (evbuffer_get_length(bufferevent_get_output(s->client)) == 0)
		session_on_linger_write(s->client, s);	/* may free s */
}


void
session_close_all(enum reason reason)
{
	struct session	*s, *next;

	for (s = TAILQ_FIRST(&server.sessions); s != NULL; s = next) {
		next = TAILQ_NEXT(s, entry);
		if (s->phase != PHASE_CLOSING)
			session_close(s, reason);
	}
	if (reason == REASON_SHUTDOWN)
		session_agg_flush(true);
}


void
session_revoke_users(void)
{
	struct session	*s, *next;

	for (s = TAILQ_FIRST(&server.sessions); s != NULL; s = next) {
		next = TAILQ_NEXT(s, entry);
		if (s->phase == PHASE_CLOSING || s->user[0] == '\0' ||
		    s->auth_result == NULL)
			continue;
		/* certificate users answer to the users file only if any */
		if (strcmp(s->auth_result, "ok") != 0 &&
		    (strcmp(s->auth_result, "certificate") != 0 ||
		    server.cfg->users_file == NULL))
			continue;
		if (server.users == NULL ||
		    users_find(server.users, s->user) == NULL)
			session_close(s, REASON_USER_REVOKED);
	}
}


static void
session_on_event(struct bufferevent *bev, short what, void *arg)
{
	struct session	*s = arg;

	if (s->phase == PHASE_CLOSING) {
		/* a client that half-closed still gets its answer: wait for
		 * the write to finish (session_on_linger_write frees) */
		if (what == (BEV_EVENT_EOF | BEV_EVENT_READING) &&
		    evbuffer_get_length(bufferevent_get_output(bev)) > 0) {
			s->linger_eof = true;
			bufferevent_disable(bev, EV_READ);
			return;
		}
		if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
			session_free(s);
		return;
	}
	if (what & BEV_EVENT_CONNECTED)
		return;
	if (s->phase == PHASE_TLS && (what & BEV_EVENT_ERROR)) {
		session_close(s, REASON_TLS_HANDSHAKE);
		return;
	}
	if ((what & (BEV_EVENT_EOF | BEV_EVENT_ERROR)) &&
	    s->phase == PHASE_HEAD)
		session_head_cut(s, REASON_CLIENT_EOF_IN_HEAD);
	else if (what & (BEV_EVENT_EOF | BEV_EVENT_ERROR))
		session_close(s, REASON_CLIENT_EOF_IN_HEAD);
}


static void
session_on_timer(evutil_socket_t fd, short what, void *arg)
{
	struct session	*s = arg;

	(void)fd;
	(void)what;
	switch (s->phase) {
	case PHASE_TLS:
		session_close(s, REASON_TLS_HANDSHAKE);
		break;
	case PHASE_HEAD:
		session_head_cut(s, REASON_HEADER_TIMEOUT);
		break;
	case PHASE_DNS:
		s->dns_error = "TIMEOUT";
		session_close(s, REASON_DNS_TIMEOUT);
		break;
	case PHASE_CONNECT:
		session_close(s, REASON_CONNECT_TIMEOUT);
		break;
	case PHASE_CHECK:
		s->check = "fail";
		session_close(s, REASON_PROTOCOL_TIMEOUT);
		break;
	case PHASE_TUNNEL:
		tunnel_on_event(NULL, 0, s);
		break;
	case PHASE_AUTH:
		break;
	case PHASE_CLOSING:
		session_free(s);
		break;
	}
}


/* Keep a copy of a span from the head (for the log). */
static char *
session_dup(const char *p, size_t len, size_t *outlen)
{
	char	*d;

	if (len > 1024)
		len = 1024;
	if ((d = malloc(len + 1)) == NULL)
		return NULL;
	memcpy(d, p, len);
	d[len] = '\0';
	*outlen = len;
	return d;
}


/* Lockouts: per source address, and per user name. */
static bool
session_locked(struct session *s, struct rl_entry *e, uint64_t now)
{
	if (e == NULL || e->locked_until_ms <= now)
		return false;
	s->retry_after_s = (unsigned)((e->locked_until_ms - now + 999) /
	    1000);
	return true;
}


static struct rl_entry *
session_user_entry(const char *user, double burst, uint64_t now)
{
	struct in6_addr	 key;
	unsigned char	 md[32];
	unsigned int	 mdlen = sizeof(md);

	EVP_Digest(user, strlen(user), md, &mdlen, EVP_sha256(), NULL);
	memcpy(&key, md, sizeof(key));
	return rl_table_get(server.user_fails, &key, burst, now);
}


static void
session_count_failure(struct session *s, struct rl_entry *e,
    const char *what, const char *name)
{
	const struct config	*c = s->cfg;
	uint64_t		 now = log_now_ms();

	if (e == NULL)
		return;
	if (now - e->window_start_ms > (uint64_t)(c->lockout_window_s * 1000))
	{
		e->window_start_ms = now;
		e->failures = 0;
	}
	e->last_ms = now;
	if (++e->failures < (uint32_t)c->lockout_failures)
		return;
	e->failures = 0;
	e->locked_until_ms = now + (uint64_t)(c->lockout_duration_s * 1000);
	log_limited(&server.limit_lockout, "auth: %s %s locked out for %.0f s "
	    "after %d failures", what, name, c->lockout_duration_s,
	    c->lockout_failures);
}


static void
session_on_auth(void *arg, bool ok, const char *hash)
{
	struct session		*s = arg;
	const struct user	*u;

	s->auth_job = NULL;
	/*
	 * The check ran against the users file of its start.  If a reload
	 * removed the user or changed the password meanwhile, the answer
	 * is for credentials no longer in force: refuse them (the client's
	 * mistake it is not, so no failure is counted), and judge from=
	 * by the entry now in force.
	 */
	u = server.users != NULL ? users_find(server.users, s->user) : NULL;
	if (ok && (u == NULL || hash == NULL || strcmp(u->hash, hash) != 0)) {
		s->auth_result = "failed";
		session_close(s, REASON_AUTH_FAILED);
		return;
	}
	if (ok)
		s->auth_source_refused = u->from.n > 0 &&
		    !netset_contains(&u->from, &s->peer_addr);
	if (ok && s->auth_source_refused) {
		s->auth_result = "failed";
		session_count_failure(s, s->rl, "source", s->peer_ip);
		session_close(s, REASON_AUTH_SOURCE);
		return;
	}
	if (!ok) {
		s->auth_result = "failed";
		session_count_failure(s, s->rl, "source", s->peer_ip);
		session_count_failure(s, session_user_entry(s->user,
		    s->cfg->per_user_burst, log_now_ms()), "user",
		    "(name in access log)");
		session_close(s, REASON_AUTH_FAILED);
		return;
	}
	s->auth_result = "ok";
	session_policy(s);
}


static void
session_authenticate(struct session *s, const char *value, size_t len)
{
	char			 pass[AUTH_PASS_MAX + 1];
	const struct user	*u;
	uint64_t		 now = log_now_ms();
	bool			 parsed;

	if (!s->cfg->auth_required || s->auth_result != NULL) {
		if (s->auth_result == NULL)
			s->auth_result = "none";
		session_policy(s);
		return;
	}
	s->auth_result = "failed";
	/* parsed first (it costs nothing) so that a locked-out source's
	 * record still names the user it tried */
	parsed = value != NULL &&
	    authbasic_parse(value, len, s->user, pass) == 0;
	if (session_locked(s, s->rl, now)) {
		OPENSSL_cleanse(pass, sizeof(pass));
		s->auth_result = "locked";
		session_close(s, REASON_AUTH_LOCKED);
		return;
	}
	if (value == NULL) {
		s->auth_result = "none";
		session_close(s, REASON_AUTH_REQUIRED);
		return;
	}
	if (!parsed) {
		session_count_failure(s, s->rl, "source", s->peer_ip);
		session_close(s, REASON_AUTH_BAD_SYNTAX);
		return;
	}
	u = server.users ? users_find(server.users, s->user) : NULL;
	/* A source outside from= is refused only after the password check,
	 * so the answer's timing does not tell which users have a from=. */
	s->auth_source_refused = u != NULL && u->from.n > 0 &&
	    !netset_contains(&u->from, &s->peer_addr);
	if (session_locked(s, session_user_entry(s->user,
	    s->cfg->per_user_burst, now), now)) {
		OPENSSL_cleanse(pass, sizeof(pass));
		s->auth_result = "locked";
		session_close(s, REASON_AUTH_LOCKED);
		return;
	}
	s->phase = PHASE_AUTH;
	s->auth_job = auth_check(server.auth, server.users, s->user, pass,
	    s->cfg->auth_cache_ttl_s, session_on_auth, s);
	OPENSSL_cleanse(pass, sizeof(pass));
}


/* Keep the method and target for the record, once per session. */
static void
session_note_request(struct session *s, const struct http_request *req)
{
	if (s->method == NULL && req->method.ptr != NULL)
		s->method = session_dup(req->method.ptr, req->method.len,
		    &s->method_len);
	/* The target as sent, less any userinfo: it may hold a password. */
	if (s->target_raw == NULL && req->target.ptr != NULL &&
	    (s->target_raw = malloc(SESSION_TARGET_LOG_MAX)) != NULL)
		s->target_len = http_redact_target(s->target_raw,
		    SESSION_TARGET_LOG_MAX, req->target.ptr, req->target.len);
}


/*
 * The head never completed (deadline, EOF): what did arrive of the
 * request line still goes in the record.
 */
static void
session_head_cut(struct session *s, enum reason why)
{
	struct evbuffer		*in = bufferevent_get_input(s->client);
	struct http_request	 req;
	struct http_limits	 lim;
	size_t			 len = evbuffer_get_length(in);

	lim.max_head_bytes = (size_t)s->cfg->max_header_bytes;
	lim.max_headers = (size_t)s->cfg->max_headers;
	if (len > 0 && len <= lim.max_head_bytes) {
		(void)http_parse_head((const char *)evbuffer_pullup(in, -1),
		    len, &lim, &req);
		session_note_request(s, &req);
	}
	session_close(s, why);
}


static void
session_on_head(struct bufferevent *bev, void *arg)
{
	struct session		*s = arg;
	struct evbuffer		*in = bufferevent_get_input(bev);
	struct http_request	 req;
	struct http_limits	 lim;
	enum http_parse		 r;
	enum reason		 why;
	char			 auth[SESSION_HEAD_AUTH_MAX];
	size_t			 alen = 0, len = evbuffer_get_length(in);
	const char		*p;

	lim.max_head_bytes = (size_t)s->cfg->max_header_bytes;
	lim.max_headers = (size_t)s->cfg->max_headers;
	/*
	 * Parse again only when a line may have ended: a client sending a
	 * byte at a time must not cost a rescan per byte.  The first bytes
	 * are always parsed, so that what is no HTTP at all (a TLS
	 * ClientHello sent to the plain port) gets its 400 at once, not a
	 * 408 at the header deadline.
	 */
	if (len <= lim.max_head_bytes && s->head_scanned > 0 &&
	    s->head_scanned < len) {
		struct evbuffer_ptr pos;

		evbuffer_ptr_set(in, &pos, s->head_scanned, EVBUFFER_PTR_SET);
		if (evbuffer_search(in, "\n", 1, &pos).pos == -1) {
			s->head_scanned = len;
			return;
		}
	}
	s->head_scanned = len;
	p = (const char *)evbuffer_pullup(in, -1);
	r = http_parse_head(p, len, &lim, &req);
	if (r == HTTP_PARSE_MORE)
		return;
	session_note_request(s, &req);
	if (r == HTTP_PARSE_ERROR) {
		session_close(s, req.error);
		return;
	}
	why = allow_parse_target(req.target.ptr, req.target.len, &s->target);
	if (why != REASON_NONE) {
		session_close(s, why);
		return;
	}
	s->have_target = true;
	/* An oversized value stays empty: it cannot be valid Basic. */
	if (req.proxy_authorization.ptr != NULL &&
	    (alen = req.proxy_authorization.len) < sizeof(auth))
		memcpy(auth, req.proxy_authorization.ptr, alen);
	else
		alen = 0;
	evbuffer_drain(in, req.head_len);
	bufferevent_disable(bev, EV_READ);
	evtimer_del(s->timer);
	session_authenticate(s, req.proxy_authorization.ptr ? auth : NULL,
	    alen);
	OPENSSL_cleanse(auth, sizeof(auth));
}


static void
session_discard(struct session *s, const char *why)
{
	size_t	 n = strlen(s->discard_why);

	s->dns_discarded++;
	if (strstr(s->discard_why, why) != NULL)
		return;
	snprintf(s->discard_why + n, sizeof(s->discard_why) - n, "%s%s",
	    n ? "," : "", why);
}


/* Whether cc is one of the n codes in v. */
static bool
session_cc_in(char *const *v, size_t n, const char *cc)
{
	size_t	 i;

	for (i = 0; i < n; i++)
		if (v[i] != NULL && strcmp(v[i], cc) == 0)
			return true;
	return false;
}


/* Whether a known country cc passes gp: not denied, allowed if listed. */
static bool
session_geo_passes(const struct geo_policy *gp, const char *cc)
{
	if (session_cc_in(gp->deny, gp->ndeny, cc))
		return false;
	return gp->nallow == 0 || session_cc_in(gp->allow, gp->nallow, cc);
}


/*
 * The country check of a destination that passed the internal-range
 * check.  Every address is looked up.  A rule with countries needs one
 * of them.  An internal address the database has no entry for (one in
 * destinations.allow_internal) has no country and passes; any other
 * address without a country follows geo.destinations.unknown.
 */
static const char *
session_dest_geo(struct session *s, const struct in6_addr *a, bool special,
    char cc[3])
{
	const struct geo_policy	*gp = &s->cfg->geo_destinations;
	const struct allow_rule	*rule = s->rule;
	int			 r;

	r = geo_find(s->geo, a, cc);
	if (r != 1) {
		cc[0] = '\0';
		if (rule != NULL && rule->ncountries > 0)
			return "country_unknown";
		if (r == GEO_ABSENT && special)
			return NULL;
		return gp->unknown == GEO_UNKNOWN_DENY ? "country_unknown" :
		    NULL;
	}
	if (!session_geo_passes(gp, cc))
		return "country";
	if (rule != NULL && rule->ncountries > 0 &&
	    !session_cc_in(rule->countries, rule->ncountries, cc))
		return "country";
	return NULL;
}


/* May the tunnel go to a?  NULL if so, else the word for the log. */
static const char *
session_dest_refused(struct session *s, const struct in6_addr *a,
    char cc[3])
{
	const char		*special = netset_special(a);

	cc[0] = '\0';
	if (special != NULL && !netset_contains(&s->cfg->allow_internal, a))
		return special;
	if (listener_is_self(a, s->target.port))
		return "self";
	if (s->geo == NULL)
		return NULL;
	return session_dest_geo(s, a, special != NULL, cc);
}


static void
session_keep(struct session *s, const struct sockaddr *sa,
    const struct in6_addr *a, const char *cc)
{
	struct sockaddr_storage	*ss;

	if (s->naddrs >= SESSION_MAX_ADDRS)
		return;
	ss = &s->addrs[s->naddrs++];
	memset(ss, 0, sizeof(*ss));
	memcpy(ss, sa, sa->sa_family == AF_INET ?
	    sizeof(struct sockaddr_in) : sizeof(struct sockaddr_in6));
	if (sa->sa_family == AF_INET)
		((struct sockaddr_in *)ss)->sin_port = htons(s->target.port);
	else
		((struct sockaddr_in6 *)ss)->sin6_port = htons(s->target.port);
	if (s->naddrs == 1 && cc[0] != '\0')
		memcpy(s->dest_cc, cc, 3);
	(void)a;
}


/* Order the kept addresses IPv6, IPv4, IPv6, ... (RFC 8305 4). */
static void
session_interleave(struct session *s)
{
	struct sockaddr_storage	 v6[SESSION_MAX_ADDRS], v4[SESSION_MAX_ADDRS];
	unsigned		 n6 = 0, n4 = 0, i, k = 0;

	for (i = 0; i < s->naddrs; i++) {
		if (s->addrs[i].ss_family == AF_INET6)
			v6[n6++] = s->addrs[i];
		else
			v4[n4++] = s->addrs[i];
	}
	for (i = 0; i < n6 || i < n4; i++) {
		if (i < n6)
			s->addrs[k++] = v6[i];
		if (i < n4)
			s->addrs[k++] = v4[i];
	}
}


static void
session_on_dns(void *arg, enum reason err, const char *kind,
    const struct sockaddr_storage *addrs, size_t n)
{
	struct session		*s = arg;
	const struct sockaddr	*sa;
	struct in6_addr		 a;
	size_t			 i;
	const char		*why;
	char			 cc[3], denied_cc[3] = "";
	bool			 geo_only = true;

	s->dns = NULL;
	s->dns_ms = log_now_ms() - s->phase_ms;
	s->dns_error = kind;
	if (err != REASON_NONE) {
		session_close(s, err);
		return;
	}
	for (i = 0; i < n; i++) {
		sa = (const struct sockaddr *)&addrs[i];
		if (netset_from_sockaddr(sa, &a) == -1)
			continue;
		s->dns_answers++;
		if ((why = session_dest_refused(s, &a, cc)) != NULL) {
			geo_only &= strncmp(why, "country", 7) == 0;
			if (denied_cc[0] == '\0' && cc[0] != '\0')
				memcpy(denied_cc, cc, 3);
			session_discard(s, why);
		} else
			session_keep(s, sa, &a, cc);
	}
	if (s->naddrs == 0 || (s->cfg->dest_strict && s->dns_discarded)) {
		if (s->dest_cc[0] == '\0')
			memcpy(s->dest_cc, denied_cc, 3);
		session_close(s, s->dns_discarded && geo_only ?
		    REASON_DEST_GEO_DENIED : s->dns_answers ?
		    REASON_DEST_PROHIBITED : REASON_DNS_ERROR);
		return;
	}
	session_interleave(s);
	session_connect_next(s);
}


static void
session_literal(struct session *s)
{
	struct sockaddr_in6	 sin6;
	struct sockaddr_in	 sin;
	char			 cc[3] = "";

	if (listener_is_self(&s->target.addr, s->target.port)) {
		session_close(s, REASON_DEST_PROHIBITED);
		return;
	}
	if (IN6_IS_ADDR_V4MAPPED(&s->target.addr)) {
		memset(&sin, 0, sizeof(sin));
		sin.sin_family = AF_INET;
		memcpy(&sin.sin_addr, &s->target.addr.s6_addr[12], 4);
		session_keep(s, (struct sockaddr *)&sin, &s->target.addr, cc);
	} else {
		memset(&sin6, 0, sizeof(sin6));
		sin6.sin6_family = AF_INET6;
		sin6.sin6_addr = s->target.addr;
		session_keep(s, (struct sockaddr *)&sin6, &s->target.addr,
		    cc);
	}
	session_connect_next(s);
}


/*
 * limits.per_user: take one of the user's slots and a token of the
 * user's new-tunnel bucket, or refuse (the slot is checked first, so a
 * refused tunnel costs no token).
 */
static enum reason
session_user_cap(struct session *s)
{
	const struct config	*c = s->cfg;
	struct rl_entry		*e;
	uint64_t		 now = log_now_ms(), retry = 0;

	if ((c->per_user_tunnels <= 0 && c->per_user_rate <= 0) ||
	    s->user[0] == '\0' || s->user_rl != NULL)
		return REASON_NONE;
	if ((e = session_user_entry(s->user, c->per_user_burst, now)) == NULL)
		return REASON_OVERLOADED;
	if (c->per_user_tunnels > 0 &&
	    e->active >= (uint32_t)c->per_user_tunnels)
		return REASON_USER_CONN_LIMIT;
	if (c->per_user_rate > 0 && !bucket_take(&e->conn_bucket,
	    c->per_user_rate, c->per_user_burst, now, &retry)) {
		s->retry_after_s = (unsigned)((retry + 999) / 1000);
		return REASON_USER_RATE_LIMITED;
	}
	e->active++;
	s->user_rl = e;
	return REASON_NONE;
}


static void
session_policy(struct session *s)
{
	const struct user	*u = NULL;
	enum reason		 why;

	if (s->user[0] != '\0' && server.users != NULL)
		u = users_find(server.users, s->user);
	why = allow_match_groups(&s->cfg->allow, &s->target,
	    s->user[0] ? s->user : NULL, u ? u->groups : NULL,
	    u ? u->ngroups : 0, &s->rule);
	if (why == REASON_NONE)
		why = session_user_cap(s);
	if (why != REASON_NONE) {
		session_close(s, why);
		return;
	}
	if (s->target.kind != HOST_NAME) {
		/* a rule names this address: the admin permitted it */
		session_literal(s);
		return;
	}
	s->phase = PHASE_DNS;
	s->phase_ms = log_now_ms();
	session_arm(s, s->cfg->dns_timeout_s);
	s->dns = resolver_query(s->resolver, s->target.host, session_on_dns,
	    s);
}


static void
session_on_connect(struct bufferevent *bev, short what, void *arg)
{
	struct session	*s = arg;
	int		 err = EVUTIL_SOCKET_ERROR();

	(void)bev;
	if (what & BEV_EVENT_CONNECTED) {
		s->connect_ms = log_now_ms() - s->phase_ms;
		evtimer_del(s->timer);
		tunnel_start(s);
		return;
	}
	if (err == ECONNREFUSED)
		s->any_refused = true;
	bufferevent_free(s->upstream);
	s->upstream = NULL;
	s->next_addr++;
	session_connect_next(s);
}


void
session_connect_next(struct session *s)
{
	struct sockaddr_storage	*ss;
	struct in6_addr		 a;
	socklen_t		 len;

	if (s->next_addr >= s->naddrs) {
		session_close(s, s->any_refused ? REASON_CONNECT_REFUSED :
		    REASON_CONNECT_ERROR);
		return;
	}
	if (!s->answered && s->cfg->delay_connect &&
	    s->rule->proto != ALLOW_PROTO_ANY) {
		tunnel_delay(s);	/* calls back once the check passed */
		return;
	}
	if (s->phase != PHASE_CONNECT) {
		s->phase = PHASE_CONNECT;
		s->phase_ms = log_now_ms();
		session_arm(s, s->cfg->connect_timeout_s);
	}
	ss = &s->addrs[s->next_addr];
	netset_from_sockaddr((struct sockaddr *)ss, &a);
	netset_ntop(&a, s->dest_ip, sizeof(s->dest_ip));
	len = ss->ss_family == AF_INET ? sizeof(struct sockaddr_in) :
	    sizeof(struct sockaddr_in6);
	s->upstream = bufferevent_socket_new(server.base, -1,
	    BEV_OPT_CLOSE_ON_FREE);
	if (s->upstream == NULL) {
		session_close(s, REASON_INTERNAL_ERROR);
		return;
	}
	bufferevent_setcb(s->upstream, NULL, NULL, session_on_connect, s);
	if (bufferevent_socket_connect(s->upstream, (struct sockaddr *)ss,
	    (int)len) == -1)
		session_on_connect(s->upstream, BEV_EVENT_ERROR, s);
}


/*
 * The client's country (geo on).  Addresses in geo.private_clients pass
 * without a lookup; every other address is looked up.  A country is
 * judged by the lists.  A non-public address the database has no entry
 * for has no country and, not being in private_clients, is refused, so
 * no private client passes or fails by accident; any other address
 * without a country follows geo.clients.unknown.
 */
static enum reason
session_gate_geo(struct session *s)
{
	const struct config	*c = s->cfg;
	const struct geo_policy	*gp = &c->geo_clients;
	int			 r;

	if (s->geo == NULL || netset_contains(&c->geo_private_clients,
	    &s->peer_addr))
		return REASON_NONE;
	r = geo_find(s->geo, &s->peer_addr, s->peer_cc);
	if (r != 1) {
		s->peer_cc[0] = '\0';
		if (r == GEO_ABSENT && netset_special(&s->peer_addr) != NULL)
			return REASON_CLIENT_GEO_DENIED;
		return gp->unknown == GEO_UNKNOWN_DENY ?
		    REASON_CLIENT_GEO_DENIED : REASON_NONE;
	}
	return session_geo_passes(gp, s->peer_cc) ? REASON_NONE :
	    REASON_CLIENT_GEO_DENIED;
}


/* Admission at accept: address list, limits, country. */
static enum reason
session_gate(struct session *s)
{
	const struct config	*c = s->cfg;
	struct in6_addr		 key = s->peer_addr;
	uint64_t		 now = log_now_ms(), retry = 0;

	if (server.nsessions > (unsigned)c->max_tunnels)
		return REASON_OVERLOADED;
	if (!netset_contains(&c->clients_allow, &s->peer_addr))
		return REASON_CLIENT_DENIED;
	if (!IN6_IS_ADDR_V4MAPPED(&key))
		rl_mask(&key, (unsigned)c->ipv6_prefix);
	if ((s->rl = rl_table_get(server.clients, &key, c->per_ip_burst,
	    now)) == NULL)
		return REASON_OVERLOADED;
	s->rl->last_ms = now;
	if (s->rl->active >= (uint32_t)c->per_ip_tunnels) {
		s->rl->refused++;
		s->rl = NULL;
		return REASON_CLIENT_CONN_LIMIT;
	}
	s->rl->active++;
	if (!bucket_take(&s->rl->conn_bucket, c->per_ip_rate, c->per_ip_burst,
	    now, &retry)) {
		s->rl->refused++;
		s->retry_after_s = (unsigned)((retry + 999) / 1000);
		return REASON_RATE_LIMITED;
	}
	s->rl->refused = 0;
	return session_gate_geo(s);
}


/*
 * The user name in cert: the subject CN, or with field "san" the first
 * subjectAltName when it is a DNS name or an e-mail address.  Names that
 * do not fit, hold a NUL or are no valid user name are refused, never
 * cut short into another name.  0 and cn filled, or -1.
 */
static int
session_cert_name(X509 *cert, const char *field,
    char cn[AUTH_USER_MAX + 1])
{
	GENERAL_NAMES		*names = NULL;
	const GENERAL_NAME	*g;
	const ASN1_STRING	*str = NULL;
	X509_NAME_ENTRY		*ne;
	int			 t, i, len, rc = -1;

	if (strcmp(field, "san") == 0) {
		names = X509_get_ext_d2i(cert, NID_subject_alt_name, NULL,
		    NULL);
		if (names != NULL && sk_GENERAL_NAME_num(names) > 0) {
			g = sk_GENERAL_NAME_value(names, 0);
			str = GENERAL_NAME_get0_value(g, &t);
			if (t != GEN_DNS && t != GEN_EMAIL)
				str = NULL;
		}
	} else if ((i = X509_NAME_get_index_by_NID(
	    X509_get_subject_name(cert), NID_commonName, -1)) >= 0 &&
	    (ne = X509_NAME_get_entry(X509_get_subject_name(cert), i)) != NULL)
		str = X509_NAME_ENTRY_get_data(ne);
	if (str != NULL && (len = ASN1_STRING_length(str)) > 0 &&
	    len <= AUTH_USER_MAX &&
	    users_name_refused((const char *)ASN1_STRING_get0_data(str),
	    (size_t)len) == NULL) {
		memcpy(cn, ASN1_STRING_get0_data(str), (size_t)len);
		cn[len] = '\0';
		rc = 0;
	}
	GENERAL_NAMES_free(names);
	return rc;
}


/*
 * A verified client certificate names the user.  With a users file the
 * name must be listed there (and its from= must admit the source), so
 * deleting the line revokes the certificate at the next reload and
 * groups= apply; without one the client CA alone vouches for it.  A
 * certificate that names no such user leaves Basic to decide.
 */
static void
session_cert_user(struct session *s)
{
	SSL			*ssl;
	X509			*cert;
	const struct user	*u;
	char			 cn[AUTH_USER_MAX + 1] = "";
	int			 rc;

	ssl = bufferevent_openssl_get_ssl(s->client);
	if (ssl == NULL || SSL_get_verify_result(ssl) != X509_V_OK ||
	    (cert = SSL_get1_peer_certificate(ssl)) == NULL)
		return;
	rc = session_cert_name(cert, s->cfg->cert_user_field, cn);
	X509_free(cert);
	if (rc == -1)
		return;
	if (s->cfg->users_file != NULL) {
		u = server.users ? users_find(server.users, cn) : NULL;
		if (u == NULL || (u->from.n > 0 &&
		    !netset_contains(&u->from, &s->peer_addr)))
			return;
	}
	memcpy(s->user, cn, sizeof(cn));
	s->auth_result = "certificate";
}


static void
session_on_tls(struct bufferevent *bev, short what, void *arg)
{
	struct session	*s = arg;

	if (!(what & BEV_EVENT_CONNECTED)) {
		session_on_event(bev, what, s);
		return;
	}
	s->phase = PHASE_HEAD;
	if (s->listener->client_certs)
		session_cert_user(s);
	bufferevent_setcb(bev, session_on_head, NULL, session_on_event, s);
}


static int
session_setup_client(struct session *s, evutil_socket_t fd)
{
	struct listener	*l = s->listener;
	SSL		*ssl;

	if (l->ssl != NULL) {
		if ((ssl = SSL_new(l->ssl)) == NULL)
			return -1;
		s->client = bufferevent_openssl_socket_new(server.base, fd, ssl,
		    BUFFEREVENT_SSL_ACCEPTING, BEV_OPT_CLOSE_ON_FREE);
		if (s->client == NULL) {
			SSL_free(ssl);
			return -1;
		}
		s->client_tls = true;
		s->phase = PHASE_TLS;
		bufferevent_setcb(s->client, session_on_head, NULL,
		    session_on_tls, s);
	} else {
		s->client = bufferevent_socket_new(server.base, fd,
		    BEV_OPT_CLOSE_ON_FREE);
		if (s->client == NULL)
			return -1;
		s->phase = PHASE_HEAD;
		bufferevent_setcb(s->client, session_on_head, NULL,
		    session_on_event, s);
	}
	bufferevent_setwatermark(s->client, EV_READ, 0,
	    (size_t)s->cfg->max_header_bytes + 1);
	return 0;
}


/*
 * The hard threshold: a source that was refused at least burst times in
 * a row and is still over its limit (or a proxy at twice its global
 * cap) is closed at once, with no answer, no session and no parse; the
 * denial is only counted, and the aggregated record covers it.
 * Returns true if fd was closed.
 */
static bool
session_shed(struct listener *l, evutil_socket_t fd,
    const struct sockaddr *sa)
{
	const struct config	*c = server.cfg;
	struct access_record	 r;
	struct rl_entry		*e;
	struct in6_addr		 addr, key;
	enum reason		 why;
	char			 ip[46];
	uint64_t		 now = log_now_ms();

	if (netset_from_sockaddr(sa, &addr) == -1)
		return false;
	key = addr;
	if (!IN6_IS_ADDR_V4MAPPED(&key))
		rl_mask(&key, (unsigned)c->ipv6_prefix);
	if (server.nsessions >= 2 * (unsigned)c->max_tunnels)
		why = REASON_OVERLOADED;
	else if ((e = rl_table_find(server.clients, &key)) == NULL ||
	    e->refused < (uint32_t)c->per_ip_burst)
		return false;
	else if (e->active >= (uint32_t)c->per_ip_tunnels)
		why = REASON_CLIENT_CONN_LIMIT;
	else if (!bucket_ready(&e->conn_bucket, c->per_ip_rate,
	    c->per_ip_burst, now))
		why = REASON_RATE_LIMITED;
	else
		return false;
	evutil_closesocket(fd);
	if (!session_agg_note(&addr, why, 0, 0, l))
		return true;
	memset(&r, 0, sizeof(r));
	netset_ntop(&addr, ip, sizeof(ip));
	r.session_id = session_new_id();
	r.start_unix_ms = server_unix_ms();
	r.reason = why;
	r.source_ip = ip;
	r.listener = l->name;
	r.auth = "none";
	r.protocol_check = "none";
	accesslog_write(&r);
	return true;
}


void
session_accept(struct listener *l, evutil_socket_t fd,
    const struct sockaddr *sa, int salen)
{
	struct session	*s;
	enum reason	 why;

	if (session_shed(l, fd, sa))
		return;
	if ((s = calloc(1, sizeof(*s))) == NULL) {
		evutil_closesocket(fd);
		return;
	}
	TAILQ_INSERT_TAIL(&server.sessions, s, entry);
	server.nsessions++;
	s->id = session_new_id();
	s->listener = l;
	s->cfg = config_ref(server.cfg);
	s->resolver = resolver_ref(server.resolver);
	s->geo = server.geo ? geo_ref(server.geo) : NULL;
	s->start_ms = s->last_io_ms = log_now_ms();
	s->start_unix_ms = server_unix_ms();
	memcpy(&s->peer, sa, (size_t)salen < sizeof(s->peer) ?
	    (size_t)salen : sizeof(s->peer));
	netset_from_sockaddr(sa, &s->peer_addr);
	netset_ntop(&s->peer_addr, s->peer_ip, sizeof(s->peer_ip));
	s->peer_port = ntohs(sa->sa_family == AF_INET ?
	    ((const struct sockaddr_in *)sa)->sin_port :
	    ((const struct sockaddr_in6 *)sa)->sin6_port);
	if ((s->timer = evtimer_new(server.base, session_on_timer, s))
	    == NULL || session_setup_client(s, fd) == -1) {
		if (s->client == NULL)
			evutil_closesocket(fd);
		s->phase = PHASE_TLS;	/* nothing can be answered */
		session_close(s, REASON_INTERNAL_ERROR);
		return;
	}
	if ((why = session_gate(s)) != REASON_NONE) {
		session_close(s, why);
		return;
	}
	session_arm(s, s->cfg->header_timeout_s);
	bufferevent_enable(s->client, EV_READ | EV_WRITE);
}
