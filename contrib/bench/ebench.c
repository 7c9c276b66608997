/*
 * ebench: the load generator and loopback target of contrib/bench.
 *
 *   ebench serve echo|sink ADDR         listen on ADDR:0, print the port,
 *                                       serve until stdin closes
 *   ebench rate   [-x PROXY] [-a B64] -c C -n N -s SECS TARGET
 *   ebench tput   [-x PROXY] [-a B64] -b BYTES -s SECS TARGET
 *   ebench idle   [-x PROXY] [-a B64] -n N -w WINDOW -s SECS TARGET
 *
 * PROXY and TARGET are "ip:port" (IPv4).  With -x every connection is
 * opened with "CONNECT TARGET" through PROXY (-a: Basic credentials,
 * already base64); without it the connection goes straight to TARGET.
 *
 * rate: C connections at a time, each one cycle = connect, CONNECT and
 * its 200, one byte echoed by the target, close; N cycles or SECS
 * seconds, whichever first.  Prints "cycles=.. fail=.. secs=.. rate=..
 * p50_ms=.. p99_ms=..".
 * tput: one tunnel, BYTES (or SECS) one way to a sink; the last byte
 * is an "E", the only one in the stream, and the sink answers "done" when
 * a read ends with it (or at EOF); prints "bytes=.. secs=.. mbps=.."
 * (MB = 10^6 bytes).
 * idle: N tunnels, WINDOW opening at a time, each checked with one
 * echoed byte, then held; prints "open=N fail=F" and holds them until
 * stdin closes or SECS pass.
 *
 * Linux only (epoll).  Every loop is bounded by a count or a deadline.
 */
#define _GNU_SOURCE
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/time.h>

#include <netinet/in.h>
#include <netinet/tcp.h>
#include <arpa/inet.h>

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define EB_MAXEV	512
#define EB_BUF		(256 * 1024)

enum eb_state { EB_CONNECTING, EB_HEAD, EB_ECHO, EB_HELD };

struct eb_conn {
	int		 fd;
	enum eb_state	 st;
	double		 t0;
	size_t		 got;
	char		 head[512];
};

static struct sockaddr_in	 eb_proxy, eb_target;
static int			 eb_via_proxy;
static int			 eb_noecho;	/* tput: the sink echoes not */
static char			 eb_req[1024];
static size_t			 eb_reqlen;
static char			 eb_buf[EB_BUF];


static double
eb_now(void)
{
	struct timespec	ts;

	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}


static void
eb_die(const char *what)
{
	perror(what);
	exit(2);
}


static void
eb_addr(const char *s, struct sockaddr_in *sin)
{
	char		 host[64];
	const char	*c = strrchr(s, ':');

	if (c == NULL || (size_t)(c - s) >= sizeof(host)) {
		fprintf(stderr, "bad address %s\n", s);
		exit(2);
	}
	memcpy(host, s, (size_t)(c - s));
	host[c - s] = '\0';
	memset(sin, 0, sizeof(*sin));
	sin->sin_family = AF_INET;
	sin->sin_port = htons((uint16_t)atoi(c + 1));
	if (inet_pton(AF_INET, host, &sin->sin_addr) != 1) {
		fprintf(stderr, "bad address %s\n", s);
		exit(2);
	}
}


static void
eb_nofile(void)
{
	struct rlimit	rl;

	if (getrlimit(RLIMIT_NOFILE, &rl) == 0) {
		rl.rlim_cur = rl.rlim_max;
		setrlimit(RLIMIT_NOFILE, &rl);
	}
}


/* A non-blocking connect to the proxy (or the target); -1 on error. */
static int
eb_dial(void)
{
	int	fd, one = 1;

	fd = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
	if (fd == -1)
		return -1;
	setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof(one));
	if (connect(fd, (struct sockaddr *)(eb_via_proxy ? &eb_proxy :
	    &eb_target), sizeof(struct sockaddr_in)) == -1 &&
	    errno != EINPROGRESS) {
		close(fd);
		return -1;
	}
	return fd;
}


static void
eb_make_req(const char *target, const char *b64)
{
	int	n;

	if (b64 != NULL)
		n = snprintf(eb_req, sizeof(eb_req), "CONNECT %s HTTP/1.1\r\n"
		    "Host: %s\r\nProxy-Authorization: Basic %s\r\n\r\n",
		    target, target, b64);
	else
		n = snprintf(eb_req, sizeof(eb_req), "CONNECT %s HTTP/1.1\r\n"
		    "Host: %s\r\n\r\n", target, target);
	eb_reqlen = (size_t)n;
}


/*
 * One step of a connection's cycle after an event.  Returns 1 when the
 * tunnel is checked (echo seen), 0 to wait, -1 on failure.
 */
static int
eb_step(struct eb_conn *c)
{
	ssize_t	 n;
	int	 err = 0;
	socklen_t len = sizeof(err);
	char	*e;

	switch (c->st) {
	case EB_CONNECTING:
		if (getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len) ==
		    -1 || err != 0)
			return -1;
		if (eb_via_proxy) {
			if (write(c->fd, eb_req, eb_reqlen) !=
			    (ssize_t)eb_reqlen)
				return -1;
			c->st = EB_HEAD;
			c->got = 0;
			return 0;
		}
		if (eb_noecho)
			return 1;
		if (write(c->fd, "x", 1) != 1)
			return -1;
		c->st = EB_ECHO;
		return 0;
	case EB_HEAD:
		n = read(c->fd, c->head + c->got, sizeof(c->head) - 1 - c->got);
		if (n == -1 && errno == EAGAIN)
			return 0;
		if (n <= 0)
			return -1;
		c->got += (size_t)n;
		c->head[c->got] = '\0';
		if ((e = strstr(c->head, "\r\n\r\n")) == NULL)
			return c->got + 1 >= sizeof(c->head) ? -1 : 0;
		if (strncmp(c->head + 8, " 200", 4) != 0 ||
		    e + 4 != c->head + c->got)
			return -1;
		if (eb_noecho)
			return 1;
		if (write(c->fd, "x", 1) != 1)
			return -1;
		c->st = EB_ECHO;
		return 0;
	case EB_ECHO:
		n = read(c->fd, c->head, 1);
		if (n == -1 && errno == EAGAIN)
			return 0;
		return n == 1 && c->head[0] == 'x' ? 1 : -1;
	default:
		n = read(c->fd, c->head, sizeof(c->head));
		if (n == -1 && errno == EAGAIN)
			return 0;
		return -1;	/* a held tunnel must not speak or close */
	}
}


static int
eb_start(int ep, struct eb_conn *c)
{
	struct epoll_event	ev;

	if ((c->fd = eb_dial()) == -1)
		return -1;
	c->st = EB_CONNECTING;
	c->t0 = eb_now();
	ev.events = EPOLLIN | EPOLLOUT | EPOLLET;
	ev.data.ptr = c;
	if (epoll_ctl(ep, EPOLL_CTL_ADD, c->fd, &ev) == -1) {
		close(c->fd);
		return -1;
	}
	return 0;
}


static int
eb_cmp(const void *a, const void *b)
{
	double	x = *(const double *)a, y = *(const double *)b;

	return x < y ? -1 : x > y;
}


static int
eb_rate(int conc, long n, double secs)
{
	struct epoll_event	 evs[EB_MAXEV];
	struct eb_conn		*cs;
	double			*lat, t0, deadline;
	long			 started = 0, done = 0, fail = 0;
	int			 ep, i, k, live = 0, r;

	cs = calloc((size_t)conc, sizeof(*cs));
	lat = calloc((size_t)n, sizeof(*lat));
	if (cs == NULL || lat == NULL || (ep = epoll_create1(0)) == -1)
		eb_die("setup");
	t0 = eb_now();
	deadline = t0 + secs;
	for (i = 0; i < conc && started < n; i++, started++)
		if (eb_start(ep, &cs[i]) == 0)
			live++;
		else
			fail++;
	while (live > 0 && eb_now() < deadline + 5) {
		k = epoll_wait(ep, evs, EB_MAXEV, 1000);
		for (i = 0; i < k; i++) {
			struct eb_conn *c = evs[i].data.ptr;

			if ((r = eb_step(c)) == 0)
				continue;
			if (r == 1 && done < n)
				lat[done++] = eb_now() - c->t0;
			else if (r == -1)
				fail++;
			close(c->fd);
			live--;
			if (started < n && eb_now() < deadline && fail < 1000) {
				started++;
				if (eb_start(ep, c) == 0)
					live++;
				else
					fail++;
			}
		}
	}
	t0 = eb_now() - t0;
	qsort(lat, (size_t)done, sizeof(*lat), eb_cmp);
	printf("cycles=%ld fail=%ld secs=%.3f rate=%.1f p50_ms=%.3f "
	    "p99_ms=%.3f\n", done, fail + live, t0, done / t0,
	    done ? lat[done / 2] * 1e3 : 0, done ? lat[done * 99 / 100] *
	    1e3 : 0);
	return fail + live > 0 ? 1 : 0;
}


/* Blocking: open one checked tunnel, or exit. */
static int
eb_tunnel(void)
{
	struct eb_conn	c;
	struct pollfd	pfd;
	int		r, i;

	if ((c.fd = eb_dial()) == -1)
		eb_die("connect");
	c.st = EB_CONNECTING;
	for (i = 0; i < 1000; i++) {
		pfd.fd = c.fd;
		pfd.events = c.st == EB_CONNECTING ? POLLOUT : POLLIN;
		if (poll(&pfd, 1, 10000) != 1)
			eb_die("poll (timeout)");
		if ((r = eb_step(&c)) == 1)
			return c.fd;
		if (r == -1) {
			fprintf(stderr, "tunnel failed: %.200s\n", c.head);
			exit(2);
		}
	}
	exit(2);
}


static int
eb_tput(long long bytes, double secs)
{
	long long	sent = 0;
	double		t0, deadline;
	ssize_t		n;
	int		fd, fl;
	char		ans[16];

	eb_noecho = 1;
	fd = eb_tunnel();
	fl = fcntl(fd, F_GETFL);
	fcntl(fd, F_SETFL, fl & ~O_NONBLOCK);
	memset(eb_buf, 'b', sizeof(eb_buf));
	t0 = eb_now();
	deadline = t0 + secs;
	while (sent < bytes && eb_now() < deadline) {
		n = write(fd, eb_buf, sizeof(eb_buf));
		if (n <= 0)
			eb_die("write");
		sent += n;
	}
	/* the end marker: proxies that do not pass a half-close on */
	if (write(fd, "E", 1) != 1)
		eb_die("write");
	sent++;
	n = read(fd, ans, sizeof(ans));
	t0 = eb_now() - t0;
	if (n < 4 || memcmp(ans, "done", 4) != 0) {
		fprintf(stderr, "no answer from the sink\n");
		return 1;
	}
	printf("bytes=%lld secs=%.3f mbps=%.1f\n", sent, t0, sent / t0 / 1e6);
	return 0;
}


static int
eb_idle(long n, int window, double secs)
{
	struct epoll_event	 evs[EB_MAXEV], ev;
	struct eb_conn		*cs;
	long			 started = 0, open = 0, fail = 0, busy = 0;
	double			 deadline = eb_now() + secs;
	int			 ep, i, k, r;
	char			 b;

	cs = calloc((size_t)n, sizeof(*cs));
	if (cs == NULL || (ep = epoll_create1(0)) == -1)
		eb_die("setup");
	while (open + fail < n && eb_now() < deadline && fail < 100) {
		while (busy < window && started < n) {
			if (eb_start(ep, &cs[started++]) == 0)
				busy++;
			else
				fail++;
		}
		k = epoll_wait(ep, evs, EB_MAXEV, 1000);
		for (i = 0; i < k; i++) {
			struct eb_conn *c = evs[i].data.ptr;

			if ((r = eb_step(c)) == 0)
				continue;
			busy--;
			if (r == 1) {
				open++;
				c->st = EB_HELD;
				ev.events = EPOLLIN;	/* level: see a close */
				ev.data.ptr = c;
				epoll_ctl(ep, EPOLL_CTL_MOD, c->fd, &ev);
			} else {
				fail++;
				close(c->fd);
			}
		}
	}
	printf("open=%ld fail=%ld\n", open, fail + busy);
	fflush(stdout);
	/* hold until stdin closes or the deadline; count tunnels lost */
	while (eb_now() < deadline) {
		struct pollfd	p = { 0, POLLIN, 0 };

		if (poll(&p, 1, 200) == 1 && read(0, &b, 1) <= 0)
			break;
		k = epoll_wait(ep, evs, EB_MAXEV, 0);
		for (i = 0; i < k; i++) {
			struct eb_conn *c = evs[i].data.ptr;

			if (c->st == EB_HELD && eb_step(c) == -1) {
				epoll_ctl(ep, EPOLL_CTL_DEL, c->fd, NULL);
				c->st = EB_CONNECTING;
				fprintf(stderr, "a held tunnel closed\n");
			}
		}
	}
	return fail > 0;
}


/* The target: echo (or discard, answering "done" at EOF) each stream. */
static int
eb_serve(int sink, const char *addr)
{
	struct epoll_event	evs[EB_MAXEV], ev;
	struct sockaddr_in	sin;
	socklen_t		len = sizeof(sin);
	ssize_t			n;
	int			ls, ep, fd, i, k, one = 1;

	eb_addr(addr, &sin);
	ls = socket(AF_INET, SOCK_STREAM | SOCK_NONBLOCK, 0);
	setsockopt(ls, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	if (ls == -1 || bind(ls, (struct sockaddr *)&sin, sizeof(sin)) == -1 ||
	    listen(ls, 4096) == -1 ||
	    getsockname(ls, (struct sockaddr *)&sin, &len) == -1)
		eb_die("listen");
	printf("%d\n", ntohs(sin.sin_port));
	fflush(stdout);
	if ((ep = epoll_create1(0)) == -1)
		eb_die("epoll");
	ev.events = EPOLLIN;
	ev.data.fd = ls;
	epoll_ctl(ep, EPOLL_CTL_ADD, ls, &ev);
	ev.data.fd = 0;
	epoll_ctl(ep, EPOLL_CTL_ADD, 0, &ev);
	for (;;) {
		k = epoll_wait(ep, evs, EB_MAXEV, -1);
		for (i = 0; i < k; i++) {
			fd = evs[i].data.fd;
			if (fd == 0) {
				if (read(0, eb_buf, 1) <= 0)
					return 0;
				continue;
			}
			if (fd == ls) {
				while ((fd = accept4(ls, NULL, NULL,
				    SOCK_NONBLOCK | SOCK_CLOEXEC)) != -1) {
					ev.events = EPOLLIN;
					ev.data.fd = fd;
					epoll_ctl(ep, EPOLL_CTL_ADD, fd, &ev);
				}
				continue;
			}
			n = read(fd, eb_buf, sizeof(eb_buf));
			if (n == -1 && errno == EAGAIN)
				continue;
			if (n > 0 && sink && eb_buf[n - 1] == 'E') {
				if (write(fd, "done", 4) != 4)
					perror("done");
				continue;	/* the client closes */
			}
			if (n > 0) {
				if (!sink && write(fd, eb_buf, (size_t)n) != n)
					close(fd);	/* a bench target */
				continue;
			}
			if (sink && n == 0 && write(fd, "done", 4) != 4)
				perror("done");
			close(fd);
		}
	}
}


static void
eb_usage(void)
{
	fprintf(stderr, "usage: ebench serve echo|sink ADDR\n"
	    "       ebench rate|tput|idle [-x PROXY] [-a B64] [-c C] [-n N]"
	    " [-w W] [-b BYTES] [-s SECS] TARGET\n");
	exit(2);
}


int
main(int argc, char *argv[])
{
	const char	*mode, *b64 = NULL;
	long		 n = 10000;
	long long	 bytes = 1LL << 30;
	double		 secs = 20;
	int		 conc = 50, window = 100, ch;

	signal(SIGPIPE, SIG_IGN);
	eb_nofile();
	if (argc < 2)
		eb_usage();
	mode = argv[1];
	if (strcmp(mode, "serve") == 0) {
		if (argc != 4)
			eb_usage();
		return eb_serve(strcmp(argv[2], "sink") == 0, argv[3]);
	}
	optind = 2;
	while ((ch = getopt(argc, argv, "x:a:c:n:w:b:s:")) != -1) {
		switch (ch) {
		case 'x': eb_addr(optarg, &eb_proxy); eb_via_proxy = 1; break;
		case 'a': b64 = optarg; break;
		case 'c': conc = atoi(optarg); break;
		case 'n': n = atol(optarg); break;
		case 'w': window = atoi(optarg); break;
		case 'b': bytes = atoll(optarg); break;
		case 's': secs = atof(optarg); break;
		default: eb_usage();
		}
	}
	if (optind != argc - 1 || conc < 1 || n < 1 || window < 1)
		eb_usage();
	eb_addr(argv[optind], &eb_target);
	eb_make_req(argv[optind], b64);
	if (strcmp(mode, "rate") == 0)
		return eb_rate(conc, n, secs);
	if (strcmp(mode, "tput") == 0)
		return eb_tput(bytes, secs);
	if (strcmp(mode, "idle") == 0)
		return eb_idle(n, window, secs);
	eb_usage();
	return 2;
}
