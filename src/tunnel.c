/*
 * tunnel: the relay between client and upstream, and the protocol
 * check on the client's first bytes.
 *
 * Back-pressure: when the output towards one side holds tunnel_buffer
 * bytes, the other side stops reading until that output drains to half
 * (so a tunnel holds at most about two tunnel_buffer's worth, plus the
 * socket buffers).  Half-close: EOF from one side is passed on as
 * shutdown(SHUT_WR) once everything before it was written; the session
 * ends when both directions are closed and flushed.  During the check
 * the client's bytes are held, not relayed, and upstream bytes flow.
 * With limits.delay_connect a checked rule answers 200 before any dial:
 * the check runs with no upstream, and session_connect_next dials once
 * it passed (so a refused tunnel never opens an upstream connection).
 *
 * Reads: libevent 2.1 reads at most 4 KiB per call into a bufferevent,
 * which caps one tunnel at a few hundred MB/s.  Once a tunnel between
 * two plain sockets is relaying, its reads are done here instead:
 * straight into the other side's output buffer, up to tunnel_buffer
 * bytes per call, by an event of our own on each socket (the "pull"
 * events); libevent still does the writes.  A TLS client stays on
 * bufferevent reads.
 */
#include <sys/socket.h>
#include <sys/uio.h>

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <event2/buffer.h>

#include "allowlist.h"
#include "log.h"
#include "server.h"
#include "session.h"
#include "tlshello.h"

#define TUNNEL_SSH_ID	"SSH-2.0-"
#define TUNNEL_OK	"HTTP/1.1 200 Connection established\r\n\r\n"

static void	tunnel_on_read(struct bufferevent *, void *);
static void	tunnel_on_write(struct bufferevent *, void *);
static void	tunnel_on_pull(evutil_socket_t, short, void *);
static void	tunnel_go_pull(struct session *);


static struct bufferevent *
tunnel_peer(struct session *s, struct bufferevent *bev)
{
	return bev == s->client ? s->upstream : s->client;
}


static void
tunnel_arm_idle(struct session *s)
{
	const struct config	*c = s->cfg;
	uint64_t		 now = log_now_ms();
	double			 wait;
	struct timeval		 tv;

	wait = c->idle_timeout_s - (double)(now - s->last_io_ms) / 1000;
	if (c->max_lifetime_s > 0 && c->max_lifetime_s -
	    (double)(now - s->start_ms) / 1000 < wait)
		wait = c->max_lifetime_s - (double)(now - s->start_ms) / 1000;
	if (wait < 0.001)
		wait = 0.001;
	tv.tv_sec = (time_t)wait;
	tv.tv_usec = (suseconds_t)((wait - (double)tv.tv_sec) * 1e6);
	evtimer_add(s->timer, &tv);
}


/* Both directions closed and flushed? */
static void
tunnel_maybe_done(struct session *s)
{
	if (s->client_eof && s->upstream_eof &&
	    evbuffer_get_length(bufferevent_get_output(s->client)) == 0 &&
	    evbuffer_get_length(bufferevent_get_output(s->upstream)) == 0)
		session_close(s, s->reason != REASON_NONE ? s->reason :
		    REASON_CLIENT_CLOSED);
}


/* Pass EOF on to dst once its output is empty. */
static void
tunnel_shutdown(struct session *s, struct bufferevent *dst)
{
	bool	*shut = dst == s->client ? &s->client_shut :
	    &s->upstream_shut;

	if (*shut || evbuffer_get_length(bufferevent_get_output(dst)) > 0)
		return;
	*shut = true;
	if (dst == s->client && s->client_tls) {
		/* TLS to the proxy has no half-close: end it here. */
		s->client_eof = true;
		return;
	}
	shutdown(bufferevent_getfd(dst), SHUT_WR);
}


static struct event *
tunnel_pull_ev(struct session *s, struct bufferevent *src)
{
	return src == s->client ? s->pull_client : s->pull_upstream;
}


/* Start or stop reading from src, by whichever reads it. */
static void
tunnel_reading(struct session *s, struct bufferevent *src, bool on)
{
	struct event	*ev = tunnel_pull_ev(s, src);

	if (ev != NULL) {
		if (on)
			event_add(ev, NULL);
		else
			event_del(ev);
	} else if (on)
		bufferevent_enable(src, EV_READ);
	else
		bufferevent_disable(src, EV_READ);
}


/* dst's output holds a buffer's worth: stop reading src until it drains. */
static void
tunnel_backpressure(struct session *s, struct bufferevent *src,
    struct bufferevent *dst)
{
	if (evbuffer_get_length(bufferevent_get_output(dst)) >=
	    (size_t)s->cfg->tunnel_buffer) {
		tunnel_reading(s, src, false);
		bufferevent_setwatermark(dst, EV_WRITE,
		    (size_t)s->cfg->tunnel_buffer / 2, 0);
	}
}


static void
tunnel_relay(struct session *s, struct bufferevent *src)
{
	struct bufferevent	*dst = tunnel_peer(s, src);
	struct evbuffer		*in = bufferevent_get_input(src);
	struct evbuffer		*out = bufferevent_get_output(dst);
	size_t			 n = evbuffer_get_length(in);

	if (n == 0)
		return;
	if (src == s->client)
		s->bytes_out += n;
	else
		s->bytes_in += n;
	evbuffer_add_buffer(out, in);
	s->last_io_ms = log_now_ms();
	tunnel_backpressure(s, src, dst);
}


/* The first client bytes against the rule's protocol. */
static enum reason
tunnel_check(struct session *s)
{
	struct evbuffer	*in = bufferevent_get_input(s->client);
	size_t		 len = evbuffer_get_length(in);
	const uint8_t	*p;
	char		 sni[ALLOW_HOST_MAX + 2];
	size_t		 n;

	if (s->rule->proto == ALLOW_PROTO_SSH) {
		n = len < 8 ? len : 8;
		p = evbuffer_pullup(in, (ssize_t)n);
		if (memcmp(p, TUNNEL_SSH_ID, n) != 0)
			return REASON_NOT_SSH;
		return n == 8 ? REASON_NONE : REASON_PROTOCOL_TIMEOUT;
	}
	if (len > TLSHELLO_MAX_INPUT)
		len = TLSHELLO_MAX_INPUT;
	p = evbuffer_pullup(in, (ssize_t)len);
	switch (tlshello_parse(p, len, sni, sizeof(sni))) {
	case TLSHELLO_MORE:
		return REASON_PROTOCOL_TIMEOUT;	/* not yet */
	case TLSHELLO_NO_SNI:
		return s->target.kind == HOST_NAME ? REASON_SNI_MISSING :
		    REASON_NONE;
	case TLSHELLO_OK:
		break;
	default:
		return REASON_NOT_TLS;
	}
	free(s->sni);
	s->sni = strdup(sni);
	if (allow_normalise_name(sni) == -1 || s->target.kind != HOST_NAME ||
	    strcmp(sni, s->target.host) != 0)
		return REASON_SNI_MISMATCH;
	return REASON_NONE;
}


static void
tunnel_on_read(struct bufferevent *bev, void *arg)
{
	struct session	*s = arg;
	enum reason	 r;

	if (s->phase == PHASE_CHECK && bev == s->client) {
		r = tunnel_check(s);
		if (r == REASON_PROTOCOL_TIMEOUT)
			return;		/* wait for more */
		if (r != REASON_NONE) {
			s->check = "fail";
			session_close(s, r);
			return;
		}
		s->check = "pass";
		bufferevent_setwatermark(s->client, EV_READ, 0, 0);
		if (s->upstream == NULL) {
			/* delay_connect: dial now, relay once connected */
			bufferevent_disable(s->client, EV_READ);
			evtimer_del(s->timer);
			session_connect_next(s);
			return;
		}
		s->phase = PHASE_TUNNEL;
		tunnel_arm_idle(s);
	}
	tunnel_relay(s, bev);
	if (s->phase == PHASE_TUNNEL)
		tunnel_go_pull(s);
}


static void
tunnel_on_write(struct bufferevent *bev, void *arg)
{
	struct session		*s = arg;
	struct bufferevent	*src = tunnel_peer(s, bev);
	bool			 src_eof = src == s->client ? s->client_eof :
	    s->upstream_eof;

	if (src == NULL)	/* the 200 went out; upstream not dialled yet */
		return;
	if (evbuffer_get_length(bufferevent_get_output(bev)) <=
	    (size_t)s->cfg->tunnel_buffer / 2) {
		bufferevent_setwatermark(bev, EV_WRITE, 0, 0);
		if (!src_eof && !(s->phase == PHASE_CHECK &&
		    src == s->client))
			tunnel_reading(s, src, true);
	}
	if (src_eof)
		tunnel_shutdown(s, bev);
	tunnel_maybe_done(s);
}


void
tunnel_on_event(struct bufferevent *bev, short what, void *arg)
{
	struct session	*s = arg;
	uint64_t	 now = log_now_ms();

	if (bev == NULL) {	/* the idle / lifetime timer */
		if (s->cfg->max_lifetime_s > 0 && (double)(now - s->start_ms)
		    >= s->cfg->max_lifetime_s * 1000)
			session_close(s, REASON_MAX_LIFETIME);
		else if ((double)(now - s->last_io_ms) >=
		    s->cfg->idle_timeout_s * 1000)
			session_close(s, REASON_IDLE_TIMEOUT);
		else
			tunnel_arm_idle(s);
		return;
	}
	if (what & BEV_EVENT_ERROR) {
		session_close(s, bev == s->client ? REASON_CLIENT_ERROR :
		    REASON_UPSTREAM_ERROR);
		return;
	}
	if (!(what & BEV_EVENT_EOF))
		return;
	if (s->phase == PHASE_CHECK && bev == s->client) {
		s->check = "fail";
		session_close(s, REASON_CLIENT_CLOSED);
		return;
	}
	tunnel_relay(s, bev);
	if (s->reason == REASON_NONE)
		s->reason = bev == s->client ? REASON_CLIENT_CLOSED :
		    REASON_UPSTREAM_CLOSED;
	if (bev == s->client)
		s->client_eof = true;
	else
		s->upstream_eof = true;
	tunnel_shutdown(s, tunnel_peer(s, bev));
	tunnel_maybe_done(s);
}


/*
 * libevent reads and writes at most 16 KiB per call by default: a bulk
 * tunnel then pays a wake-up per 16 KiB each way.  Let one call move up
 * to the tunnel's buffer (the back-pressure bound stays the same, as the
 * reading side stops once the other's output holds tunnel_buffer).
 */
static void
tunnel_io_size(struct bufferevent *bev, const struct config *c)
{
	size_t	 n = (size_t)c->tunnel_buffer;

	if (bufferevent_set_max_single_read(bev, n) == -1 ||
	    bufferevent_set_max_single_write(bev, n) == -1)
		log_debug("tunnel: cannot raise the single read/write size");
}


/*
 * A pull event: read what src's socket has straight into the other
 * side's output.  EOF and errors take the bufferevent paths.
 */
static void
tunnel_pull(struct session *s, struct bufferevent *src)
{
	struct bufferevent	*dst = tunnel_peer(s, src);
	struct evbuffer		*out = bufferevent_get_output(dst);
	struct evbuffer_iovec	 v[2];
	ssize_t			 n;
	int			 nv;

	nv = evbuffer_reserve_space(out, s->cfg->tunnel_buffer, v, 2);
	if (nv <= 0) {
		session_close(s, REASON_INTERNAL_ERROR);
		return;
	}
	/* struct evbuffer_iovec is laid out as struct iovec on Unix */
	n = readv(bufferevent_getfd(src), (struct iovec *)v, nv);
	if (n == -1 && (errno == EAGAIN || errno == EWOULDBLOCK ||
	    errno == EINTR))
		return;
	if (n <= 0) {
		evbuffer_commit_space(out, v, 0);
		tunnel_reading(s, src, false);
		tunnel_on_event(src, BEV_EVENT_READING | (n == 0 ?
		    BEV_EVENT_EOF : BEV_EVENT_ERROR), s);
		return;
	}
	if ((size_t)n <= v[0].iov_len) {
		v[0].iov_len = (size_t)n;
		nv = 1;
	} else
		v[1].iov_len = (size_t)n - v[0].iov_len;
	evbuffer_commit_space(out, v, nv);
	if (src == s->client)
		s->bytes_out += (uint64_t)n;
	else
		s->bytes_in += (uint64_t)n;
	s->last_io_ms = log_now_ms();
	tunnel_backpressure(s, src, dst);
}


static void
tunnel_on_pull(evutil_socket_t fd, short what, void *arg)
{
	struct session	*s = arg;

	(void)what;
	tunnel_pull(s, fd == bufferevent_getfd(s->client) ? s->client :
	    s->upstream);
}


/*
 * Relaying between two plain sockets: take the reads over from the
 * bufferevents (whatever they had read is relayed first).  On failure
 * the bufferevents simply keep reading.
 */
static void
tunnel_go_pull(struct session *s)
{
	struct bufferevent	*side[2] = { s->client, s->upstream };
	struct event		*ev[2];
	int			 i;

	if (s->client_tls || s->upstream == NULL || s->pull_client != NULL)
		return;
	for (i = 0; i < 2; i++)
		ev[i] = event_new(server.base, bufferevent_getfd(side[i]),
		    EV_READ | EV_PERSIST, tunnel_on_pull, s);
	if (ev[0] == NULL || ev[1] == NULL) {
		for (i = 0; i < 2; i++)
			if (ev[i] != NULL)
				event_free(ev[i]);
		return;
	}
	s->pull_client = ev[0];
	s->pull_upstream = ev[1];
	for (i = 0; i < 2; i++) {
		bool	 reading = bufferevent_get_enabled(side[i]) & EV_READ;

		bufferevent_disable(side[i], EV_READ);
		tunnel_relay(s, side[i]);
		if (reading && !(i == 0 ? s->client_eof : s->upstream_eof) &&
		    evbuffer_get_length(bufferevent_get_output(side[1 - i])) <
		    (size_t)s->cfg->tunnel_buffer)
			event_add(ev[i], NULL);
	}
}


void
tunnel_release(struct session *s)
{
	if (s->pull_client != NULL)
		event_free(s->pull_client);
	if (s->pull_upstream != NULL)
		event_free(s->pull_upstream);
	s->pull_client = s->pull_upstream = NULL;
}


/* Answer 200 and wait for the client's first bytes if the rule checks. */
static void
tunnel_answer(struct session *s)
{
	bool		 check = s->rule->proto != ALLOW_PROTO_ANY;
	double		 t = s->cfg->protocol_timeout_s;
	struct timeval	 tv;

	s->phase = check ? PHASE_CHECK : PHASE_TUNNEL;
	s->check = check ? NULL : "none";
	bufferevent_write(s->client, TUNNEL_OK, sizeof(TUNNEL_OK) - 1);
	s->answered = true;
	s->status = 200;
	s->last_io_ms = log_now_ms();
	bufferevent_setcb(s->client, tunnel_on_read, tunnel_on_write,
	    tunnel_on_event, s);
	bufferevent_setwatermark(s->client, EV_READ, 0,
	    check ? TLSHELLO_MAX_INPUT : 0);
	bufferevent_enable(s->client, EV_READ | EV_WRITE);
	if (check) {
		tv.tv_sec = (time_t)t;
		tv.tv_usec = (suseconds_t)((t - (double)tv.tv_sec) * 1e6);
		evtimer_add(s->timer, &tv);
	} else
		tunnel_arm_idle(s);
}


void
tunnel_start(struct session *s)
{
	if (!s->answered)
		tunnel_answer(s);
	else {
		/* delay_connect: the check passed before the dial */
		s->phase = PHASE_TUNNEL;
		s->last_io_ms = log_now_ms();
		bufferevent_enable(s->client, EV_READ);
		tunnel_arm_idle(s);
	}
	bufferevent_setcb(s->upstream, tunnel_on_read, tunnel_on_write,
	    tunnel_on_event, s);
	tunnel_io_size(s->client, s->cfg);
	tunnel_io_size(s->upstream, s->cfg);
	bufferevent_enable(s->upstream, EV_READ | EV_WRITE);
	if (s->phase == PHASE_TUNNEL)
		tunnel_go_pull(s);
	/* bytes that came with the request head (or the check) go first */
	if (evbuffer_get_length(bufferevent_get_input(s->client)) > 0)
		tunnel_on_read(s->client, s);
}


void
tunnel_delay(struct session *s)
{
	tunnel_answer(s);
	if (evbuffer_get_length(bufferevent_get_input(s->client)) > 0)
		tunnel_on_read(s->client, s);
}
